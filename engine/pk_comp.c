/*
** pk_comp.c — the compiler: data to a lexically addressed tree of
** pke_nodes, with special forms checked and syntax-rules macros expanded,
** so that malformed forms are reported before anything runs.
**
** Every variable is resolved to (depth, slot) or a global symbol.
** syntax-rules is non-hygienic with renaming (docs/DESIGN.md,
** "Evaluation").
*/
#include "pk_comp.h"
#include "pk_map.h"
#include "pk_eval.h"
#include "pk_print.h"
#include "pk_read.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Special-form codes, kept in the symbol header's aux field. */
enum {
  PKC_SF_NONE,
  PKC_SF_QUOTE,
  PKC_SF_QUASIQUOTE,
  PKC_SF_UNQUOTE,
  PKC_SF_UNQUOTE_SPLICING,
  PKC_SF_LAMBDA,
  PKC_SF_DEFINE,
  PKC_SF_SET,
  PKC_SF_IF,
  PKC_SF_COND,
  PKC_SF_CASE,
  PKC_SF_WHEN,
  PKC_SF_UNLESS,
  PKC_SF_AND,
  PKC_SF_OR,
  PKC_SF_BEGIN,
  PKC_SF_LET,
  PKC_SF_LETSTAR,
  PKC_SF_LETREC,
  PKC_SF_LETRECSTAR,
  PKC_SF_DEFSYNTAX,
  PKC_SF_FRESH,
  PKC_SF_CONDE,
  PKC_SF_CONDA,
  PKC_SF_CONDU,
  PKC_SF_PROJECT,
  PKC_SF_RUN,
  PKC_SF_RUNSTAR,
  PKC_SF_DEFREL,
  PKC_SF_TEST,
  PKC_SF_LOAD,
  PKC_SF_DO,
  PKC_SF_DELAY,
  PKC_SF_LALL,
  PKC_SF_LANY,
  PKC_SF_LCONDE,
  /* auxiliary keywords: never renamed by macro expansion */
  PKC_SF_ELSE,
  PKC_SF_ARROW,
  PKC_SF_ELLIPSIS,
  PKC_SF_UNDERSCORE,
  PKC_SF_SYNTAX_RULES
};

static pk_val pkc_sym_quote, pkc_sym_quasiquote, pkc_sym_unquote, pkc_sym_unquote_splicing, pkc_sym_ellipsis,
    pkc_sym_underscore, pkc_sym_define, pkc_sym_begin, pkc_sym_lambda;

void (*pkc_note_global)(pk_val sym, const pk_srcpos *pos);

/* ---- helpers ------------------------------------------------------------ */

/* A static error at the position of form x (or at pos when x has none). */
static _Noreturn void pkc_err(pk_val x, const pk_srcpos *pos, const char *fmt, const char *a)
{
  pk_srcpos p;
  if (pko_pairp(x) && pkr_pos(x, &p)) pos = &p;
  char msg[512];
  snprintf(msg, sizeof msg, fmt, a);
  pko_throw_at(PK_STATUS_STATIC, pos, "%s", msg);
}

/* A static error that quotes the offending form. */
static _Noreturn void pkc_bad(pk_val x, const pk_srcpos *pos, const char *what)
{
  char *s = pkp_tostring(x, PKP_WRITE);
  if (strlen(s) > 120) strcpy(s + 117, "...");
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, s);
  free(s);
  pkc_err(x, pos, "%s", msg);
}

static pke_node *pkc_node(int op, const pk_srcpos *pos)
{
  pke_node *n = pko_alloc(sizeof *n);
  n->op = (uint8_t)op;
  if (pos) n->pos = *pos;
  return n;
}

static pke_node *pkc_const(pk_val v, const pk_srcpos *pos)
{
  pke_node *n = pkc_node(PKE_CONST, pos);
  n->v = v;
  return n;
}

/* List element i (0-based) of a list known to be long enough. */
static pk_val pkc_nth(pk_val l, int i)
{
  while (i-- > 0) l = pko_cdr(l);
  return pko_car(l);
}

/* ---- compile-time scopes ------------------------------------------------- */

typedef struct pkc_scope {
  struct pkc_scope *up;
  pk_val *names;
  uint32_t n, cap;
  pkm_map bound; /* every name bound here or further up (keys: symbol address) */
} pkc_scope;

/* A new empty scope inside up. */
static pkc_scope pkc_scope_in(pkc_scope *up) { return (pkc_scope){ up, NULL, 0, 0, up ? up->bound : NULL }; }

static void pkc_scope_add(pkc_scope *s, pk_val name)
{
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 8;
    pk_val *nn = pko_alloc(s->cap * sizeof *nn);
    if (s->n) memcpy(nn, s->names, s->n * sizeof *nn);
    s->names = nn;
  }
  s->names[s->n++] = name;
  s->bound = pkm_set(s->bound, (uint64_t)name >> 4, PK_TRUE);
}

/* Resolve name to (depth, slot); false if global. Later bindings shadow
   earlier ones in the same frame (let* reuses names).  A name bound
   nowhere (a special form's, a global's) costs one map probe, not a walk
   over every enclosing scope: that walk made compiling n nested lets
   quadratic in n. */
static bool pkc_lookup(const pkc_scope *s, pk_val name, uint32_t *depth, uint32_t *slot)
{
  if (!s || pkm_get(s->bound, (uint64_t)name >> 4) == PK_UNBOUND) return false;
  for (uint32_t d = 0; s; s = s->up, d++)
    for (uint32_t i = s->n; i-- > 0;)
      if (s->names[i] == name) {
        *depth = d;
        *slot = i;
        return true;
      }
  return false;
}

/* ---- renamed identifiers -------------------------------------------------
** A macro expansion renames every identifier its template introduces to a
** fresh uninterned symbol that remembers the original.  Bound by a binding
** form of the expansion, the renamed symbol is a new variable (so it cannot
** capture the user's); free, it means what the original means globally
** (so a user's local binding cannot capture it either). */

static struct {
  pthread_mutex_t lock;
  pk_val *keys, *vals;
  size_t cap, n;
} pkc_aliases = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0 };

static size_t pkc_alias_slot(pk_val k, size_t cap) { return (size_t)((k >> 4) * 0x9e3779b97f4a7c15ull) & (cap - 1); }

/* Record that renamed stands for orig (tables are uncollectable, as symbols are). */
static void pkc_alias_put(pk_val renamed, pk_val orig)
{
  pko_oom_fatal++; /* the collector's out-of-memory hook must not throw past the unlock */
  pthread_mutex_lock(&pkc_aliases.lock);
  if (2 * (pkc_aliases.n + 1) > pkc_aliases.cap) {
    size_t ncap = pkc_aliases.cap ? 2 * pkc_aliases.cap : 256;
    pk_val *nk = GC_MALLOC_UNCOLLECTABLE(ncap * sizeof *nk), *nv = GC_MALLOC_UNCOLLECTABLE(ncap * sizeof *nv);
    for (size_t i = 0; i < pkc_aliases.cap; i++) {
      if (!pkc_aliases.keys[i]) continue;
      size_t j = pkc_alias_slot(pkc_aliases.keys[i], ncap);
      while (nk[j]) j = (j + 1) & (ncap - 1);
      nk[j] = pkc_aliases.keys[i];
      nv[j] = pkc_aliases.vals[i];
    }
    if (pkc_aliases.keys) {
      GC_FREE(pkc_aliases.keys);
      GC_FREE(pkc_aliases.vals);
    }
    pkc_aliases.keys = nk;
    pkc_aliases.vals = nv;
    pkc_aliases.cap = ncap;
  }
  size_t j = pkc_alias_slot(renamed, pkc_aliases.cap);
  while (pkc_aliases.keys[j]) j = (j + 1) & (pkc_aliases.cap - 1);
  pkc_aliases.keys[j] = renamed;
  pkc_aliases.vals[j] = orig;
  pkc_aliases.n++;
  pthread_mutex_unlock(&pkc_aliases.lock);
  pko_oom_fatal--;
}

/* The symbol renamed stands for, or 0 for an ordinary symbol. */
static pk_val pkc_alias_get(pk_val sym)
{
  if (!(pko_as_sym(sym)->flags & PKO_SYM_GENSYM)) return 0;
  pk_val r = 0;
  pthread_mutex_lock(&pkc_aliases.lock);
  if (pkc_aliases.cap)
    for (size_t j = pkc_alias_slot(sym, pkc_aliases.cap); pkc_aliases.keys[j]; j = (j + 1) & (pkc_aliases.cap - 1))
      if (pkc_aliases.keys[j] == sym) {
        r = pkc_aliases.vals[j];
        break;
      }
  pthread_mutex_unlock(&pkc_aliases.lock);
  return r;
}

/* The global identifier sym means when it is not locally bound: the
   original of a renamed symbol (through any number of renamings). */
static pk_val pkc_base(pk_val sym)
{
  pk_val o;
  while (pko_symbolp(sym) && (o = pkc_alias_get(sym))) sym = o;
  return sym;
}

/* The special-form code of x in scope: 0 when x is locally bound, a macro,
   or not special. */
static int pkc_special(const pkc_scope *s, pk_val x)
{
  uint32_t d, i;
  if (!pko_symbolp(x) || pkc_lookup(s, x, &d, &i)) return PKC_SF_NONE;
  x = pkc_base(x);
  if (pko_as_sym(x)->macro) return PKC_SF_NONE;
  return (int)pko_as_sym(x)->h.aux;
}

static pke_node *pkc_comp(pk_val x, pkc_scope *sc, const pk_srcpos *pos);
static pke_node *pkc_body(pk_val body, pkc_scope *sc, const pk_srcpos *pos);
static pk_val pkc_expand(pk_val mac, pk_val form, const pk_srcpos *pos);

/* Position of x if it has one, else the enclosing position. */
static const pk_srcpos *pkc_pos(pk_val x, const pk_srcpos *pos, pk_srcpos *buf)
{
  return (pko_pairp(x) && pkr_pos(x, buf)) ? buf : pos;
}

/* Require x to be a proper list of at least min elements. */
static long pkc_list(pk_val x, long min, const pk_srcpos *pos, const char *what)
{
  long n = pko_length(x);
  if (n < min) pkc_bad(x, pos, what);
  return n;
}

/* ---- variables ------------------------------------------------------------ */

static pke_node *pkc_ref(pk_val sym, pkc_scope *sc, const pk_srcpos *pos)
{
  uint32_t d, i;
  if (pkc_lookup(sc, sym, &d, &i)) {
    pke_node *n = pkc_node(d == 0 ? PKE_LREF0 : d == 1 ? PKE_LREF1 : PKE_LREF, pos);
    n->a = d;
    n->b = i;
    n->v = sym;
    return n;
  }
  sym = pkc_base(sym);
  if (pko_as_sym(sym)->h.aux && !pko_as_sym(sym)->macro && pko_as_sym(sym)->h.aux < PKC_SF_ELSE)
    pkc_err(sym, pos, "invalid syntax: %s used as a variable", pko_symname(sym));
  pke_node *n = pkc_node(PKE_GREF, pos);
  n->v = sym;
  if (pkc_note_global) pkc_note_global(sym, pos);
  return n;
}

/* ---- lambda, let and bodies ---------------------------------------------- */

/* Name defined by a body form (define x ...), (define (f ...) ...),
   (defrel (f ...) ...), or 0. */
static pk_val pkc_defname(pk_val f, pkc_scope *sc)
{
  if (!pko_pairp(f)) return 0;
  int sf = pkc_special(sc, pko_car(f));
  if ((sf != PKC_SF_DEFINE && sf != PKC_SF_DEFREL) || !pko_pairp(pko_cdr(f))) return 0;
  pk_val t = pko_car(pko_cdr(f));
  while (pko_pairp(t)) t = pko_car(t); /* curried define */
  return pko_symbolp(t) ? t : 0;
}

/* Add internal definitions of body (also inside begin) to scope sc. */
static void pkc_scan_defs(pk_val body, pkc_scope *sc)
{
  for (; pko_pairp(body); body = pko_cdr(body)) {
    pk_val f = pko_car(body), name = pkc_defname(f, sc);
    if (name)
      pkc_scope_add(sc, name);
    else if (pko_pairp(f) && pkc_special(sc, pko_car(f)) == PKC_SF_BEGIN)
      pkc_scan_defs(pko_cdr(f), sc);
  }
}

/* Sequence of body forms; internal defines were already added to sc. */
static pke_node *pkc_body(pk_val body, pkc_scope *sc, const pk_srcpos *pos)
{
  long n = pkc_list(body, 1, pos, "empty or improper body");
  if (n == 1) return pkc_comp(pko_car(body), sc, pos);
  pke_node *s = pkc_node(PKE_SEQ, pos);
  s->n = (uint16_t)n;
  s->kids = pko_alloc((size_t)n * sizeof *s->kids);
  for (long i = 0; i < n; i++, body = pko_cdr(body)) s->kids[i] = pkc_comp(pko_car(body), sc, pos);
  return s;
}

/* (lambda formals body ...) with formals a list, improper list or symbol. */
static pke_node *pkc_lambda(pk_val formals, pk_val body, pkc_scope *sc, const pk_srcpos *pos, pk_val name)
{
  pkc_scope in = pkc_scope_in(sc);
  pke_node *n = pkc_node(PKE_LAMBDA, pos);
  pk_val f = formals;
  for (; pko_pairp(f); f = pko_cdr(f)) {
    if (!pko_symbolp(pko_car(f))) pkc_bad(formals, pos, "invalid parameter list");
    pkc_scope_add(&in, pko_car(f));
    n->a++;
  }
  if (f != PK_NIL) {
    if (!pko_symbolp(f)) pkc_bad(formals, pos, "invalid parameter list");
    pkc_scope_add(&in, f);
    n->flags |= 1;
  }
  pkc_scan_defs(body, &in);
  n->x = pkc_body(body, &in, pos);
  n->b = in.n;
  n->v = name;
  return n;
}

/* Bindings ((x e) ...) of let/letrec: names into names[], inits in inits. */
static long pkc_bindings(pk_val b, const pk_srcpos *pos, pk_val **names, pk_val **inits)
{
  long n = pkc_list(b, 0, pos, "invalid bindings");
  *names = pko_alloc((size_t)(n + 1) * sizeof **names);
  *inits = pko_alloc((size_t)(n + 1) * sizeof **inits);
  for (long i = 0; i < n; i++, b = pko_cdr(b)) {
    pk_val e = pko_car(b);
    if (pko_length(e) != 2 || !pko_symbolp(pko_car(e))) pkc_bad(e, pos, "invalid binding");
    (*names)[i] = pko_car(e);
    (*inits)[i] = pkc_nth(e, 1);
  }
  return n;
}

/* (let ((x e) ...) body): one new frame, inits evaluated outside it. */
static pke_node *pkc_let(pk_val x, pkc_scope *sc, const pk_srcpos *pos, bool rec)
{
  pkc_list(x, 3, pos, "invalid let");
  pk_val *names, *inits;
  long n = pkc_bindings(pkc_nth(x, 1), pos, &names, &inits);
  pkc_scope in = pkc_scope_in(sc);
  for (long i = 0; i < n; i++) pkc_scope_add(&in, names[i]);
  pke_node *l = pkc_node(rec ? PKE_LETREC : PKE_LET, pos);
  l->n = (uint16_t)n;
  l->kids = pko_alloc((size_t)(n + 1) * sizeof *l->kids);
  for (long i = 0; i < n; i++) l->kids[i] = pkc_comp(inits[i], rec ? &in : sc, pos);
  pkc_scan_defs(pko_cdr(pko_cdr(x)), &in);
  l->x = pkc_body(pko_cdr(pko_cdr(x)), &in, pos);
  l->b = in.n;
  return l;
}

/* (let name ((x e) ...) body) = ((letrec ((name (lambda (x ...) body))) name) e ...) */
static pke_node *pkc_named_let(pk_val x, pkc_scope *sc, const pk_srcpos *pos)
{
  pkc_list(x, 4, pos, "invalid named let");
  pk_val name = pkc_nth(x, 1), *names, *inits;
  long n = pkc_bindings(pkc_nth(x, 2), pos, &names, &inits);
  pk_val formals = PK_NIL;
  for (long i = n; i-- > 0;) formals = pko_cons(names[i], formals);
  pkc_scope loop = pkc_scope_in(sc);
  pkc_scope_add(&loop, name);
  pke_node *l = pkc_node(PKE_LETREC, pos);
  l->n = 1;
  l->b = 1;
  l->kids = pko_alloc(sizeof *l->kids);
  l->kids[0] = pkc_lambda(formals, pko_cdr(pko_cdr(pko_cdr(x))), &loop, pos, name);
  pke_node *call = pkc_node(PKE_CALL, pos);
  call->x = pkc_ref(name, &loop, pos);
  call->n = (uint16_t)n;
  call->kids = pko_alloc((size_t)(n + 1) * sizeof *call->kids);
  /* Initial values are evaluated outside the loop's scope: one level up. */
  pkc_scope outer = pkc_scope_in(sc);
  pkc_scope_add(&outer, pko_gensym(name));
  for (long i = 0; i < n; i++) call->kids[i] = pkc_comp(inits[i], &outer, pos);
  l->x = call;
  return l;
}

/* (let* ((x e) ...) body): nested lets. */
static pk_val pkc_letstar(pk_val x, const pk_srcpos *pos)
{
  pkc_list(x, 3, pos, "invalid let*");
  pk_val b = pkc_nth(x, 1), body = pko_cdr(pko_cdr(x));
  pkc_list(b, 0, pos, "invalid let* bindings");
  if (b == PK_NIL || pko_cdr(b) == PK_NIL) return pko_cons(pko_sym("let"), pko_cons(b, body));
  pk_val inner = pko_cons(pko_sym("let*"), pko_cons(pko_cdr(b), body));
  return pko_list(3, pko_sym("let"), pko_list(1, pko_car(b)), inner);
}

/* ---- definitions and assignment ------------------------------------------- */

/* (define x e), (define (f . formals) body ...), curried (define ((f a) b) ...). */
static pke_node *pkc_define(pk_val x, pkc_scope *sc, const pk_srcpos *pos)
{
  pkc_list(x, 2, pos, "invalid define");
  pk_val target = pkc_nth(x, 1), value;
  pke_node *vn;
  while (pko_pairp(target) && pko_pairp(pko_car(target))) { /* curried */
    pk_val body = pko_cdr(pko_cdr(x));
    x = pko_list(3, pkc_sym_define, pko_car(target), pko_cons(pkc_sym_lambda, pko_cons(pko_cdr(target), body)));
    target = pko_car(target);
  }
  if (pko_pairp(target)) {
    if (!pko_symbolp(pko_car(target))) pkc_bad(target, pos, "invalid define");
    pkc_list(x, 3, pos, "define: empty body");
    vn = pkc_lambda(pko_cdr(target), pko_cdr(pko_cdr(x)), sc, pos, pko_car(target));
    target = pko_car(target);
  } else {
    if (!pko_symbolp(target)) pkc_bad(x, pos, "invalid define");
    long n = pkc_list(x, 2, pos, "invalid define");
    if (n > 3) pkc_bad(x, pos, "invalid define");
    value = n == 3 ? pkc_nth(x, 2) : PK_VOID;
    vn = n == 3 ? pkc_comp(value, sc, pos) : pkc_const(PK_VOID, pos);
    if (vn->op == PKE_LAMBDA && !vn->v) vn->v = target;
  }
  uint32_t d, i;
  if (sc && pkc_lookup(sc, target, &d, &i)) {
    pke_node *n = pkc_node(PKE_LSET, pos);
    n->a = d;
    n->b = i;
    n->x = vn;
    n->flags = 1; /* a definition: value is void, not checked */
    return n;
  }
  target = pkc_base(target);
  pke_node *n = pkc_node(PKE_GDEF, pos);
  n->v = target;
  n->x = vn;
  pko_as_sym(target)->flags |= PKO_SYM_DEFINED;
  return n;
}

/* (defrel (name arg ...) g ...): one goal defines a plain procedure; more
   goals are wrapped in (fresh () g ...), which suspends. */
static pke_node *pkc_defrel(pk_val x, pkc_scope *sc, const pk_srcpos *pos)
{
  pkc_list(x, 3, pos, "invalid defrel");
  pk_val head = pkc_nth(x, 1), goals = pko_cdr(pko_cdr(x));
  if (!pko_pairp(head) || !pko_symbolp(pko_car(head))) pkc_bad(x, pos, "invalid defrel");
  pk_val body = pko_cdr(goals) == PK_NIL ? goals : pko_list(1, pko_cons(pko_sym("fresh"), pko_cons(PK_NIL, goals)));
  pk_val def = pko_cons(pkc_sym_define, pko_cons(head, body));
  pkr_setpos(def, pos);
  return pkc_define(def, sc, pos);
}

/* (set! x e) */
static pke_node *pkc_set(pk_val x, pkc_scope *sc, const pk_srcpos *pos)
{
  if (pko_length(x) != 3 || !pko_symbolp(pkc_nth(x, 1))) pkc_bad(x, pos, "invalid set!");
  pk_val name = pkc_nth(x, 1);
  uint32_t d, i;
  pke_node *n;
  if (pkc_lookup(sc, name, &d, &i)) {
    n = pkc_node(PKE_LSET, pos);
    n->a = d;
    n->b = i;
  } else {
    name = pkc_base(name);
    n = pkc_node(PKE_GSET, pos);
    n->v = name;
    if (pkc_note_global) pkc_note_global(name, pos);
  }
  n->x = pkc_comp(pkc_nth(x, 2), sc, pos);
  return n;
}

/* ---- conditionals ---------------------------------------------------------- */

static pke_node *pkc_if(pke_node *c, pke_node *t, pke_node *e, const pk_srcpos *pos)
{
  pke_node *n = pkc_node(PKE_IF, pos);
  n->x = c;
  n->y = t;
  n->z = e;
  return n;
}

/* A node evaluating the forms in order (or void for none). */
static pke_node *pkc_seq(pk_val forms, pkc_scope *sc, const pk_srcpos *pos)
{
  if (forms == PK_NIL) return pkc_const(PK_VOID, pos);
  return pkc_body(forms, sc, pos);
}

/* (cond clause ...), including (test => f) and (test). */
static pke_node *pkc_cond(pk_val clauses, pkc_scope *sc, const pk_srcpos *pos)
{
  if (clauses == PK_NIL) return pkc_const(PK_VOID, pos);
  if (!pko_pairp(clauses)) pkc_bad(clauses, pos, "invalid cond");
  pk_val c = pko_car(clauses), rest = pko_cdr(clauses);
  if (pkc_list(c, 1, pos, "invalid cond clause") && pkc_special(sc, pko_car(c)) == PKC_SF_ELSE) {
    if (rest != PK_NIL) pkc_bad(c, pos, "cond: else clause must be last");
    return pkc_seq(pko_cdr(c), sc, pos);
  }
  if (pko_cdr(c) == PK_NIL) { /* (test): value of test if true */
    pk_val t = pko_gensym(pko_sym("t"));
    pk_val form = pko_list(3, pko_sym("let"), pko_list(1, pko_list(2, t, pko_car(c))),
                           pko_list(4, pko_sym("if"), t, t, pko_cons(pko_sym("cond"), rest)));
    return pkc_comp(form, sc, pos);
  }
  if (pkc_special(sc, pkc_nth(c, 1)) == PKC_SF_ARROW) {
    if (pko_length(c) != 3) pkc_bad(c, pos, "invalid cond => clause");
    pk_val t = pko_gensym(pko_sym("t"));
    pk_val form =
        pko_list(3, pko_sym("let"), pko_list(1, pko_list(2, t, pko_car(c))),
                 pko_list(4, pko_sym("if"), t, pko_list(2, pkc_nth(c, 2), t), pko_cons(pko_sym("cond"), rest)));
    return pkc_comp(form, sc, pos);
  }
  return pkc_if(pkc_comp(pko_car(c), sc, pos), pkc_seq(pko_cdr(c), sc, pos), pkc_cond(rest, sc, pos), pos);
}

/* (case key ((d ...) e ...) ... (else e ...)) via memv on a temporary. */
static pke_node *pkc_case(pk_val x, pkc_scope *sc, const pk_srcpos *pos)
{
  pkc_list(x, 2, pos, "invalid case");
  pk_val t = pko_gensym(pko_sym("key")), clauses = PK_NIL;
  for (pk_val c = pko_cdr(pko_cdr(x)); pko_pairp(c); c = pko_cdr(c)) {
    pk_val cl = pko_car(c);
    pkc_list(cl, 1, pos, "invalid case clause");
    pk_val test = pkc_special(sc, pko_car(cl)) == PKC_SF_ELSE
                      ? pko_car(cl)
                      : pko_list(3, pko_sym("memv"), t, pko_list(2, pkc_sym_quote, pko_car(cl)));
    clauses = pko_cons(pko_cons(test, pko_cdr(cl)), clauses);
  }
  pk_val form = pko_list(3, pko_sym("let"), pko_list(1, pko_list(2, t, pkc_nth(x, 1))),
                         pko_cons(pko_sym("cond"), pko_reverse(clauses)));
  return pkc_comp(form, sc, pos);
}

/* (and e ...) / (or e ...) */
static pke_node *pkc_andor(pk_val x, pkc_scope *sc, const pk_srcpos *pos, bool isand)
{
  long n = pkc_list(x, 1, pos, "invalid and/or") - 1;
  if (n == 0) return pkc_const(pko_mkbool(isand), pos);
  if (n == 1) return pkc_comp(pkc_nth(x, 1), sc, pos);
  pke_node *r = pkc_node(isand ? PKE_AND : PKE_OR, pos);
  r->n = (uint16_t)n;
  r->kids = pko_alloc((size_t)n * sizeof *r->kids);
  x = pko_cdr(x);
  for (long i = 0; i < n; i++, x = pko_cdr(x)) r->kids[i] = pkc_comp(pko_car(x), sc, pos);
  return r;
}

/* (do ((var init step) ...) (test res ...) body ...) as a named let. */
static pk_val pkc_do(pk_val x, const pk_srcpos *pos)
{
  pkc_list(x, 3, pos, "invalid do");
  pk_val loop = pko_gensym(pko_sym("do-loop")), binds = PK_NIL, steps = PK_NIL;
  for (pk_val s = pkc_nth(x, 1); pko_pairp(s); s = pko_cdr(s)) {
    pk_val v = pko_car(s);
    long n = pkc_list(v, 2, pos, "invalid do binding");
    binds = pko_cons(pko_list(2, pko_car(v), pkc_nth(v, 1)), binds);
    steps = pko_cons(n == 3 ? pkc_nth(v, 2) : pko_car(v), steps);
  }
  pk_val test = pkc_nth(x, 2);
  pkc_list(test, 1, pos, "invalid do test");
  pk_val res = pko_cdr(test) == PK_NIL ? pko_list(1, PK_VOID) : pko_cdr(test);
  pk_val again = pko_cons(loop, pko_reverse(steps));
  pk_val body = pko_cons(pkc_sym_begin, pko_cdr(pko_cdr(pko_cdr(x))));
  pk_val iff = pko_list(4, pko_sym("if"), pko_car(test), pko_cons(pkc_sym_begin, res),
                        pko_cdr(pko_cdr(pko_cdr(x))) == PK_NIL ? again : pko_list(3, pkc_sym_begin, body, again));
  return pko_list(4, pko_sym("let"), loop, pko_reverse(binds), iff);
}

/* ---- quasiquote ----------------------------------------------------------- */

static pke_node *pkc_pair2(int op, pke_node *a, pke_node *d, const pk_srcpos *pos)
{
  pke_node *n = pkc_node(op, pos);
  n->x = a;
  n->y = d;
  return n;
}

/* Is n the template part t itself?  An unquoted expression may compile to
   a constant too, but never to the (unquote e) around it. */
static bool pkc_qq_lit(const pke_node *n, pk_val t) { return n->op == PKE_CONST && n->v == t; }

/* (op head rest) for template x, or x itself as a constant when both parts
   are: constness is decided bottom-up as the code is built, so each
   subterm is visited once (a test of the whole subterm at every level was
   quadratic in nesting depth). */
static pke_node *pkc_qq_join(int op, pke_node *a, pke_node *d, pk_val x, const pk_srcpos *pos)
{
  if (pkc_qq_lit(a, pko_car(x)) && pkc_qq_lit(d, pko_cdr(x))) return pkc_const(x, pos);
  return pkc_pair2(op, a, d, pos);
}

/* Code that builds the quasiquoted template x at nesting depth. */
static pke_node *pkc_qq(pk_val x, int depth, pkc_scope *sc, const pk_srcpos *pos)
{
  pke_check_stack();
  if (pko_isa(x, PK_T_VECTOR)) {
    pk_val l = PK_NIL;
    for (uint32_t i = pko_as_vec(x)->len; i-- > 0;) l = pko_cons(pko_as_vec(x)->items[i], l);
    pke_node *n = pkc_qq(l, depth, sc, pos);
    if (pkc_qq_lit(n, l)) return pkc_const(x, pos);
    pke_node *v = pkc_node(PKE_LIST2VEC, pos);
    v->x = n;
    return v;
  }
  if (!pko_pairp(x)) return pkc_const(x, pos);
  pk_val h = pko_car(x);
  if (h == pkc_sym_unquote && pko_length(x) == 2) {
    if (depth == 1) return pkc_comp(pkc_nth(x, 1), sc, pos);
    return pkc_qq_join(PKE_CONS, pkc_const(h, pos), pkc_qq(pko_cdr(x), depth - 1, sc, pos), x, pos);
  }
  if (h == pkc_sym_quasiquote && pko_length(x) == 2)
    return pkc_qq_join(PKE_CONS, pkc_const(h, pos), pkc_qq(pko_cdr(x), depth + 1, sc, pos), x, pos);
  if (pko_pairp(h) && pko_car(h) == pkc_sym_unquote_splicing && depth == 1) {
    if (pko_length(h) != 2) pkc_bad(h, pos, "invalid unquote-splicing");
    return pkc_pair2(PKE_APPEND, pkc_comp(pkc_nth(h, 1), sc, pos), pkc_qq(pko_cdr(x), depth, sc, pos), pos);
  }
  return pkc_qq_join(PKE_CONS, pkc_qq(h, depth, sc, pos), pkc_qq(pko_cdr(x), depth, sc, pos), x, pos);
}

/* ---- miniKanren forms ------------------------------------------------------- */

/* Goal expressions gs compiled in scope sc into n->kids. */
static void pkc_goals(pke_node *n, pk_val gs, pkc_scope *sc, const pk_srcpos *pos)
{
  long k = pkc_list(gs, 0, pos, "invalid goal list");
  n->n = (uint16_t)k;
  n->kids = pko_alloc((size_t)(k + 1) * sizeof *n->kids);
  for (long i = 0; i < k; i++, gs = pko_cdr(gs)) {
    pk_srcpos b; /* the reader records each list cell at its element */
    n->kids[i] = pkc_comp(pko_car(gs), sc, pkc_pos(gs, pos, &b));
  }
}

/* (fresh (x ...) g ...): a frame of fresh variables around the goals. */
static pke_node *pkc_fresh(pk_val vars, pk_val goals, int op, pkc_scope *sc, const pk_srcpos *pos)
{
  pkc_scope in = pkc_scope_in(sc);
  pke_node *n = pkc_node(op, pos);
  if (vars == PK_NIL && op != PKE_PROJECT) { /* (fresh () ...) and clauses: no frame */
    n->flags |= 2;
    pkc_goals(n, goals, sc, pos);
    return n;
  }
  for (pk_val v = vars; v != PK_NIL; v = pko_cdr(v)) {
    if (!pko_pairp(v) || !pko_symbolp(pko_car(v))) pkc_bad(vars, pos, "invalid variable list");
    pkc_scope_add(&in, pko_car(v));
    n->a++;
  }
  pkc_goals(n, goals, &in, pos);
  n->b = in.n;
  return n;
}

/* (conde (g ...) ...), conda, condu: one FRESH-shaped node per clause. */
static pke_node *pkc_conde(pk_val x, int op, pkc_scope *sc, const pk_srcpos *pos)
{
  long k = pkc_list(x, 2, pos, "conde needs at least one clause") - 1;
  pke_node *n = pkc_node(op, pos);
  n->n = (uint16_t)k;
  n->kids = pko_alloc((size_t)k * sizeof *n->kids);
  x = pko_cdr(x);
  for (long i = 0; i < k; i++, x = pko_cdr(x)) {
    pk_val cl = pko_car(x);
    pk_srcpos b;
    const pk_srcpos *cp = pkc_pos(cl, pos, &b);
    if (pkc_list(cl, 1, cp, "invalid clause: needs at least one goal") < 1) pkc_bad(cl, cp, "empty clause");
    n->kids[i] = pkc_fresh(PK_NIL, cl, PKE_FRESH, sc, cp);
  }
  return n;
}

/* (lall g ...), (lany g ...) and (lconde (g ...) ...): kanren's lall,
   lany and conde, goals with kanren's answer order (pk_search.c).  lconde
   is an LANY node of one LALL node per clause. */
static pke_node *pkc_kanren(pk_val x, int sf, pkc_scope *sc, const pk_srcpos *pos)
{
  if (sf == PKC_SF_LALL) return pkc_fresh(PK_NIL, pko_cdr(x), PKE_LALL, sc, pos);
  if (sf == PKC_SF_LANY) return pkc_fresh(PK_NIL, pko_cdr(x), PKE_LANY, sc, pos);
  long k = pkc_list(x, 1, pos, "invalid lconde") - 1;
  pke_node *n = pkc_node(PKE_LANY, pos);
  n->flags |= 2;
  n->n = (uint16_t)k;
  n->kids = pko_alloc((size_t)(k + 1) * sizeof *n->kids);
  x = pko_cdr(x);
  for (long i = 0; i < k; i++, x = pko_cdr(x)) {
    pk_val cl = pko_car(x);
    pk_srcpos b;
    const pk_srcpos *cp = pkc_pos(cl, pos, &b);
    pkc_list(cl, 0, cp, "invalid lconde clause");
    n->kids[i] = pkc_fresh(PK_NIL, cl, PKE_LALL, sc, cp);
  }
  return n;
}

/* (project (x ...) g ...): y holds the references; goals see a new frame
   binding the same names to the walked values. */
static pke_node *pkc_project(pk_val x, pkc_scope *sc, const pk_srcpos *pos)
{
  pkc_list(x, 3, pos, "invalid project");
  pk_val vars = pkc_nth(x, 1);
  long k = pkc_list(vars, 0, pos, "invalid project variables");
  pke_node *refs = pkc_node(PKE_SEQ, pos);
  refs->n = (uint16_t)k;
  refs->kids = pko_alloc((size_t)(k + 1) * sizeof *refs->kids);
  for (long i = 0; i < k; i++) {
    pk_val v = pkc_nth(vars, (int)i);
    if (!pko_symbolp(v)) pkc_bad(vars, pos, "invalid project variables");
    refs->kids[i] = pkc_ref(v, sc, pos);
  }
  pke_node *n = pkc_fresh(vars, pko_cdr(pko_cdr(x)), PKE_PROJECT, sc, pos);
  n->y = refs;
  return n;
}

/* (run n (q ...) g ...) and (run* (q ...) g ...). */
static pke_node *pkc_run(pk_val x, bool star, pkc_scope *sc, const pk_srcpos *pos)
{
  pkc_list(x, star ? 3 : 4, pos, star ? "invalid run*" : "invalid run");
  pke_node *count = star ? NULL : pkc_comp(pkc_nth(x, 1), sc, pos);
  pk_val rest = star ? pko_cdr(x) : pko_cdr(pko_cdr(x));
  pk_val qs = pko_car(rest);
  if (pko_symbolp(qs)) qs = pko_list(1, qs); /* (run* q ...) as in TRS1 */
  if (pkc_list(qs, 1, pos, "run: invalid query variables") < 1) pkc_bad(x, pos, "run: no query variable");
  pke_node *n = pkc_fresh(qs, pko_cdr(rest), PKE_RUN, sc, pos);
  n->x = count;
  return n;
}

/* (test title expr expected), as test-check.scm. */
static pke_node *pkc_test(pk_val x, pkc_scope *sc, const pk_srcpos *pos)
{
  if (pko_length(x) != 4) pkc_bad(x, pos, "invalid test: expected (test title expr expected)");
  pke_node *n = pkc_node(PKE_TEST, pos);
  n->x = pkc_comp(pkc_nth(x, 1), sc, pos);
  n->y = pkc_comp(pkc_nth(x, 2), sc, pos);
  n->z = pkc_comp(pkc_nth(x, 3), sc, pos);
  n->v = pkc_nth(x, 2);
  return n;
}

/* ---- syntax-rules ----------------------------------------------------------- */

typedef struct pkc_macro {
  pko_hdr h;
  pk_val literals, rules, ellipsis;
} pkc_macro;

/* (syntax-rules (lit ...) (pattern template) ...) into a transformer. */
static pk_val pkc_syntax_rules(pk_val spec, const pk_srcpos *pos)
{
  if (!pko_pairp(spec) || pkc_special(NULL, pko_car(spec)) != PKC_SF_SYNTAX_RULES)
    pkc_bad(spec, pos, "define-syntax: only syntax-rules transformers are supported");
  long n = pkc_list(spec, 2, pos, "invalid syntax-rules");
  pkc_macro *m = (pkc_macro *)pko_obj(PK_T_MACRO, sizeof *m);
  m->ellipsis = pkc_sym_ellipsis;
  pk_val rest = pko_cdr(spec);
  if (pko_symbolp(pko_car(rest))) { /* (syntax-rules ellipsis (lit ...) ...) */
    m->ellipsis = pko_car(rest);
    rest = pko_cdr(rest);
    n--;
  }
  m->literals = pko_car(rest);
  pkc_list(m->literals, 0, pos, "invalid syntax-rules literals");
  for (pk_val r = pko_cdr(rest); r != PK_NIL; r = pko_cdr(r))
    if (pko_length(pko_car(r)) != 2 || !pko_pairp(pko_car(pko_car(r)))) pkc_bad(pko_car(r), pos, "invalid syntax rule");
  m->rules = pko_cdr(rest);
  return (pk_val)m;
}

typedef struct pkc_match {
  pk_val binds;
} pkc_match; /* alist var -> (depth . value) */

static bool pkc_memq(pk_val x, pk_val l)
{
  for (; pko_pairp(l); l = pko_cdr(l))
    if (pko_car(l) == x) return true;
  return false;
}

static bool pkc_ellipsisp(const pkc_macro *m, pk_val p)
{
  return pko_pairp(p) && pko_pairp(pko_cdr(p)) && pko_car(pko_cdr(p)) == m->ellipsis;
}

static void pkc_bind(pkc_match *mt, pk_val var, int depth, pk_val val)
{
  mt->binds = pko_cons(pko_cons(var, pko_cons(pko_mkfix(depth), val)), mt->binds);
}

/* Pattern variables of p (excluding literals, _ and the ellipsis). */
static pk_val pkc_patvars(const pkc_macro *m, pk_val p, pk_val acc)
{
  if (pko_symbolp(p)) {
    if (p != m->ellipsis && p != pkc_sym_underscore && !pkc_memq(p, m->literals)) acc = pko_cons(p, acc);
    return acc;
  }
  if (pko_pairp(p)) return pkc_patvars(m, pko_cdr(p), pkc_patvars(m, pko_car(p), acc));
  if (pko_isa(p, PK_T_VECTOR))
    for (uint32_t i = 0; i < pko_as_vec(p)->len; i++) acc = pkc_patvars(m, pko_as_vec(p)->items[i], acc);
  return acc;
}

static pk_val pkc_vec2list(pk_val v)
{
  pk_val l = PK_NIL;
  for (uint32_t i = pko_as_vec(v)->len; i-- > 0;) l = pko_cons(pko_as_vec(v)->items[i], l);
  return l;
}

static bool pkc_pmatch(const pkc_macro *m, pk_val p, pk_val f, pkc_match *mt, int depth);

/* Number of ellipses var is under inside pattern p (-1: absent). */
static int pkc_vardepth(const pkc_macro *m, pk_val p, pk_val var)
{
  if (p == var) return 0;
  if (pkc_ellipsisp(m, p)) {
    int d = pkc_vardepth(m, pko_car(p), var);
    if (d >= 0) return d + 1;
    return pkc_vardepth(m, pko_cdr(pko_cdr(p)), var);
  }
  if (pko_pairp(p)) {
    int d = pkc_vardepth(m, pko_car(p), var);
    return d >= 0 ? d : pkc_vardepth(m, pko_cdr(p), var);
  }
  if (pko_isa(p, PK_T_VECTOR))
    for (uint32_t i = 0; i < pko_as_vec(p)->len; i++) {
      int d = pkc_vardepth(m, pko_as_vec(p)->items[i], var);
      if (d >= 0) return d;
    }
  return -1;
}

/* Match (p0 ellipsis . rest) against f. */
static bool pkc_pmatch_ellipsis(const pkc_macro *m, pk_val p, pk_val f, pkc_match *mt, int depth)
{
  pk_val p0 = pko_car(p), rest = pko_cdr(pko_cdr(p));
  long rest_len = 0, flen = 0;
  for (pk_val r = rest; pko_pairp(r); r = pko_cdr(r)) rest_len++;
  for (pk_val r = f; pko_pairp(r); r = pko_cdr(r)) flen++;
  long k = flen - rest_len;
  if (k < 0) return false;
  pk_val vars = pkc_patvars(m, p0, PK_NIL), seqs[64];
  long nv = pko_length(vars);
  if (nv > 64) return false;
  for (long i = 0; i < nv; i++) seqs[i] = PK_NIL;
  for (long i = 0; i < k; i++, f = pko_cdr(f)) {
    pkc_match sub = { PK_NIL };
    if (!pkc_pmatch(m, p0, pko_car(f), &sub, depth + 1)) return false;
    long j = 0;
    for (pk_val v = vars; pko_pairp(v); v = pko_cdr(v), j++)
      for (pk_val b = sub.binds; pko_pairp(b); b = pko_cdr(b))
        if (pko_car(pko_car(b)) == pko_car(v)) {
          seqs[j] = pko_cons(pko_cdr(pko_cdr(pko_car(b))), seqs[j]);
          break;
        }
  }
  long j = 0;
  for (pk_val v = vars; pko_pairp(v); v = pko_cdr(v), j++)
    pkc_bind(mt, pko_car(v), depth + 1 + pkc_vardepth(m, p0, pko_car(v)), pko_reverse(seqs[j]));
  return pkc_pmatch(m, rest, f, mt, depth);
}

/* Match pattern p against form f, adding bindings to mt. */
static bool pkc_pmatch(const pkc_macro *m, pk_val p, pk_val f, pkc_match *mt, int depth)
{
  if (pko_symbolp(p)) {
    if (p == pkc_sym_underscore) return true;
    if (pkc_memq(p, m->literals)) return pko_symbolp(f) && pkc_base(f) == p;
    pkc_bind(mt, p, depth, f);
    return true;
  }
  if (pkc_ellipsisp(m, p)) return pkc_pmatch_ellipsis(m, p, f, mt, depth);
  if (pko_pairp(p))
    return pko_pairp(f) && pkc_pmatch(m, pko_car(p), pko_car(f), mt, depth) &&
           pkc_pmatch(m, pko_cdr(p), pko_cdr(f), mt, depth);
  if (pko_isa(p, PK_T_VECTOR))
    return pko_isa(f, PK_T_VECTOR) && pkc_pmatch(m, pkc_vec2list(p), pkc_vec2list(f), mt, depth);
  return pko_equal(p, f);
}

/* Binding (depth . value) of var in the match, or 0. */
static pk_val pkc_lookup_bind(pk_val binds, pk_val var)
{
  for (; pko_pairp(binds); binds = pko_cdr(binds))
    if (pko_car(pko_car(binds)) == var) return pko_cdr(pko_car(binds));
  return 0;
}

typedef struct pkc_tmpl {
  const pkc_macro *m;
  pk_val binds;
  pk_val renames;
} pkc_tmpl;

/* A template symbol that is not a pattern variable: renamed, consistently
   within one expansion (see "renamed identifiers" above). */
static pk_val pkc_rename(pkc_tmpl *t, pk_val s)
{
  for (pk_val r = t->renames; pko_pairp(r); r = pko_cdr(r))
    if (pko_car(pko_car(r)) == s) return pko_cdr(pko_car(r));
  pk_val g = pko_gensym(s);
  pkc_alias_put(g, s);
  t->renames = pko_cons(pko_cons(s, g), t->renames);
  return g;
}

static pk_val pkc_texpand(pkc_tmpl *t, pk_val x, int quoted);

/* Expand (sub ellipsis . rest) in a template: one copy of sub per element
   of the sequences bound to its ellipsis variables. */
static pk_val pkc_texpand_ellipsis(pkc_tmpl *t, pk_val x, int quoted)
{
  pk_val sub = pko_car(x), rest = pko_cdr(pko_cdr(x));
  pk_val vars[64], seqs[64];
  int64_t depth[64];
  int nv = 0;
  for (pk_val v = pkc_patvars(t->m, sub, PK_NIL); pko_pairp(v) && nv < 64; v = pko_cdr(v)) {
    pk_val b = pkc_lookup_bind(t->binds, pko_car(v));
    if (!b || pko_fixval(pko_car(b)) == 0) continue;
    vars[nv] = pko_car(v);
    depth[nv] = pko_fixval(pko_car(b));
    seqs[nv++] = pko_cdr(b);
  }
  if (nv == 0)
    pko_throw_at(PK_STATUS_STATIC, pko_where, "syntax-rules: ellipsis follows a template without pattern variables");
  pk_val out = PK_NIL, saved = t->binds;
  for (;;) {
    pk_val nb = saved;
    for (int i = 0; i < nv; i++) {
      if (!pko_pairp(seqs[i])) goto done;
      nb = pko_cons(pko_cons(vars[i], pko_cons(pko_mkfix(depth[i] - 1), pko_car(seqs[i]))), nb);
      seqs[i] = pko_cdr(seqs[i]);
    }
    t->binds = nb;
    out = pko_cons(pkc_texpand(t, sub, quoted), out);
  }
done:
  t->binds = saved;
  pk_val tail = pkc_texpand(t, rest, quoted);
  for (pk_val r = out; pko_pairp(r); r = pko_cdr(r)) tail = pko_cons(pko_car(r), tail);
  return tail;
}

/* Instantiate template x.  quoted: 0 code, 1 inside quote (no renaming),
   2 inside quasiquote (renaming only within unquote). */
static pk_val pkc_texpand(pkc_tmpl *t, pk_val x, int quoted)
{
  if (pko_symbolp(x)) {
    pk_val b = pkc_lookup_bind(t->binds, x);
    if (b) {
      if (pko_fixval(pko_car(b)) != 0)
        pko_throw_at(PK_STATUS_STATIC, pko_where, "syntax-rules: pattern variable %s used without ellipsis",
                     pko_symname(x));
      return pko_cdr(b);
    }
    return quoted ? x : pkc_rename(t, x);
  }
  if (pko_pairp(x)) {
    if (pko_car(x) == t->m->ellipsis && pko_pairp(pko_cdr(x)))
      return pkc_texpand(t, pko_car(pko_cdr(x)), quoted); /* (... ...) */
    if (pkc_ellipsisp(t->m, x)) return pkc_texpand_ellipsis(t, x, quoted);
    int q = quoted;
    pk_val h = pko_car(x);
    if (quoted == 0 && h == pkc_sym_quote)
      q = 1;
    else if (quoted == 0 && h == pkc_sym_quasiquote)
      q = 2;
    else if (quoted == 2 && (h == pkc_sym_unquote || h == pkc_sym_unquote_splicing))
      q = 0;
    pk_val a = pkc_texpand(t, h, quoted == 2 && q == 0 ? 2 : q);
    return pko_cons(a, pkc_texpand(t, pko_cdr(x), q));
  }
  if (pko_isa(x, PK_T_VECTOR)) {
    pk_val l = pkc_texpand(t, pkc_vec2list(x), quoted);
    long n = pko_length(l);
    pk_val v = pko_mkvec((uint32_t)n, PK_NIL);
    for (long i = 0; i < n; i++, l = pko_cdr(l)) pko_as_vec(v)->items[i] = pko_car(l);
    return v;
  }
  return x;
}

/* Expand a macro use; the result carries the use's position. */
static pk_val pkc_expand(pk_val mac, pk_val form, const pk_srcpos *pos)
{
  const pkc_macro *m = (const pkc_macro *)mac;
  const pk_srcpos *saved = pko_where;
  pko_where = pos;
  for (pk_val r = m->rules; pko_pairp(r); r = pko_cdr(r)) {
    pk_val rule = pko_car(r);
    pkc_match mt = { PK_NIL };
    if (!pkc_pmatch(m, pko_cdr(pko_car(rule)), pko_cdr(form), &mt, 0)) continue;
    pkc_tmpl t = { m, mt.binds, PK_NIL };
    pk_val out = pkc_texpand(&t, pkc_nth(rule, 1), 0);
    if (pko_pairp(out) && pos) pkr_setpos(out, pos);
    pko_where = saved;
    return out;
  }
  pkc_bad(form, pos, "invalid syntax (no syntax-rules pattern matches)");
}

/* ---- the compiler's dispatch ---------------------------------------------------- */

/* A call (f arg ...). */
static pke_node *pkc_call(pk_val x, pkc_scope *sc, const pk_srcpos *pos)
{
  long n = pko_length(x);
  if (n < 0) pkc_bad(x, pos, "invalid syntax (improper list in call)");
  pke_node *c = pkc_node(PKE_CALL, pos);
  c->x = pkc_comp(pko_car(x), sc, pos);
  c->n = (uint16_t)(n - 1);
  c->kids = pko_alloc((size_t)n * sizeof *c->kids);
  x = pko_cdr(x);
  for (long i = 0; i < n - 1; i++, x = pko_cdr(x)) {
    pk_srcpos b;
    c->kids[i] = pkc_comp(pko_car(x), sc, pkc_pos(x, pos, &b));
  }
  return c;
}

/* Special forms of the language (by code). */
static pke_node *pkc_special_form(int sf, pk_val x, pkc_scope *sc, const pk_srcpos *pos)
{
  switch (sf) {
  case PKC_SF_QUOTE:
    if (pko_length(x) != 2) pkc_bad(x, pos, "invalid quote");
    return pkc_const(pkc_nth(x, 1), pos);
  case PKC_SF_QUASIQUOTE:
    if (pko_length(x) != 2) pkc_bad(x, pos, "invalid quasiquote");
    return pkc_qq(pkc_nth(x, 1), 1, sc, pos);
  case PKC_SF_UNQUOTE:
  case PKC_SF_UNQUOTE_SPLICING: pkc_bad(x, pos, "invalid syntax: unquote outside quasiquote");
  case PKC_SF_LAMBDA:
    pkc_list(x, 3, pos, "invalid lambda");
    return pkc_lambda(pkc_nth(x, 1), pko_cdr(pko_cdr(x)), sc, pos, 0);
  case PKC_SF_DEFINE: return pkc_define(x, sc, pos);
  case PKC_SF_DEFREL: return pkc_defrel(x, sc, pos);
  case PKC_SF_SET: return pkc_set(x, sc, pos);
  case PKC_SF_IF: {
    long n = pko_length(x);
    if (n != 3 && n != 4) pkc_bad(x, pos, "invalid if");
    return pkc_if(pkc_comp(pkc_nth(x, 1), sc, pos), pkc_comp(pkc_nth(x, 2), sc, pos),
                  n == 4 ? pkc_comp(pkc_nth(x, 3), sc, pos) : pkc_const(PK_VOID, pos), pos);
  }
  case PKC_SF_COND: pkc_list(x, 1, pos, "invalid cond"); return pkc_cond(pko_cdr(x), sc, pos);
  case PKC_SF_CASE: return pkc_case(x, sc, pos);
  case PKC_SF_WHEN:
  case PKC_SF_UNLESS: {
    pkc_list(x, 3, pos, "invalid when/unless");
    pke_node *c = pkc_comp(pkc_nth(x, 1), sc, pos), *b = pkc_seq(pko_cdr(pko_cdr(x)), sc, pos);
    pke_node *v = pkc_const(PK_VOID, pos);
    return sf == PKC_SF_WHEN ? pkc_if(c, b, v, pos) : pkc_if(c, v, b, pos);
  }
  case PKC_SF_AND: return pkc_andor(x, sc, pos, true);
  case PKC_SF_OR: return pkc_andor(x, sc, pos, false);
  case PKC_SF_BEGIN: pkc_list(x, 1, pos, "invalid begin"); return pkc_seq(pko_cdr(x), sc, pos);
  case PKC_SF_LET:
    if (pko_pairp(pko_cdr(x)) && pko_symbolp(pkc_nth(x, 1))) return pkc_named_let(x, sc, pos);
    return pkc_let(x, sc, pos, false);
  case PKC_SF_LETSTAR: return pkc_comp(pkc_letstar(x, pos), sc, pos);
  case PKC_SF_LETREC:
  case PKC_SF_LETRECSTAR: return pkc_let(x, sc, pos, true);
  case PKC_SF_DO: return pkc_comp(pkc_do(x, pos), sc, pos);
  case PKC_SF_DEFSYNTAX: {
    if (pko_length(x) != 3 || !pko_symbolp(pkc_nth(x, 1))) pkc_bad(x, pos, "invalid define-syntax");
    pko_as_sym(pkc_nth(x, 1))->macro = pkc_syntax_rules(pkc_nth(x, 2), pos);
    return pkc_const(PK_VOID, pos);
  }
  case PKC_SF_FRESH:
    pkc_list(x, 3, pos, "invalid fresh: expected (fresh (x ...) goal ...)");
    return pkc_fresh(pkc_nth(x, 1), pko_cdr(pko_cdr(x)), PKE_FRESH, sc, pos);
  case PKC_SF_CONDE: return pkc_conde(x, PKE_CONDE, sc, pos);
  case PKC_SF_CONDA: return pkc_conde(x, PKE_CONDA, sc, pos);
  case PKC_SF_CONDU: return pkc_conde(x, PKE_CONDU, sc, pos);
  case PKC_SF_PROJECT: return pkc_project(x, sc, pos);
  case PKC_SF_LALL:
  case PKC_SF_LANY:
  case PKC_SF_LCONDE: return pkc_kanren(x, sf, sc, pos);
  case PKC_SF_RUN: return pkc_run(x, false, sc, pos);
  case PKC_SF_RUNSTAR: return pkc_run(x, true, sc, pos);
  case PKC_SF_TEST: return pkc_test(x, sc, pos);
  case PKC_SF_LOAD: {
    if (pko_length(x) != 2) pkc_bad(x, pos, "invalid load");
    pke_node *n = pkc_node(PKE_LOAD, pos);
    n->x = pkc_comp(pkc_nth(x, 1), sc, pos);
    return n;
  }
  case PKC_SF_DELAY: pkc_bad(x, pos, "delay is not supported");
  default: pkc_bad(x, pos, "invalid syntax");
  }
}

/* Compile expression x in scope sc. */
static pke_node *pkc_comp(pk_val x, pkc_scope *sc, const pk_srcpos *pos)
{
  pk_srcpos buf;
  pke_check_stack();
  if (pko_symbolp(x)) return pkc_ref(x, sc, pos);
  if (!pko_pairp(x)) {
    if (x == PK_NIL) pkc_err(x, pos, "%s", "invalid syntax: () is not an expression (quote it)");
    return pkc_const(x, pos);
  }
  pos = pkc_pos(x, pos, &buf);
  pk_srcpos *here = pko_alloc(sizeof *here); /* nodes copy it; buf is local */
  *here = pos ? *pos : (pk_srcpos){ 0 };
  pos = here;
  pk_val h = pko_car(x);
  uint32_t d, i;
  if (pko_symbolp(h) && !pkc_lookup(sc, h, &d, &i)) {
    h = pkc_base(h);
    if (pko_as_sym(h)->macro) return pkc_comp(pkc_expand(pko_as_sym(h)->macro, x, pos), sc, pos);
    int sf = (int)pko_as_sym(h)->h.aux;
    if (sf && sf < PKC_SF_ELSE) return pkc_special_form(sf, x, sc, pos);
  }
  return pkc_call(x, sc, pos);
}

/* Compile a top-level form (public to pk_prog.c). */
pke_node *pkc_compile(pk_val x, const pk_srcpos *pos) { return pkc_comp(x, NULL, pos); }

/* True if x is a top-level (run ...) or (run* ...) form. */
bool pkc_is_run_form(pk_val x)
{
  if (!pko_pairp(x) || !pko_symbolp(pko_car(x))) return false;
  int sf = pkc_special(NULL, pko_car(x));
  return sf == PKC_SF_RUN || sf == PKC_SF_RUNSTAR;
}

/* If x is (load "literal") at top level, the file name; else 0. */
pk_val pkc_static_load(pk_val x)
{
  if (!pko_pairp(x) || pkc_special(NULL, pko_car(x)) != PKC_SF_LOAD || pko_length(x) != 2) return 0;
  pk_val f = pkc_nth(x, 1);
  return pko_stringp(f) ? f : 0;
}

/* Mark the names that top-level form x defines, so forward references and
   macro templates see them as global before compilation reaches them. */
void pkc_predeclare(pk_val x)
{
  pk_val name = pkc_defname(x, NULL);
  if (name)
    pko_as_sym(name)->flags |= PKO_SYM_DEFINED;
  else if (pko_pairp(x) && pkc_special(NULL, pko_car(x)) == PKC_SF_BEGIN)
    for (pk_val b = pko_cdr(x); pko_pairp(b); b = pko_cdr(b)) pkc_predeclare(pko_car(b));
}

/* ---- init ------------------------------------------------------------------- */

static void pkc_defspecial(const char *name, int code) { pko_as_sym(pko_sym(name))->h.aux = (uint32_t)code; }

/* Register the special forms and the compiler's symbols. */
void pkc_init(void)
{
  static const struct {
    const char *name;
    int code;
  } forms[] = {
    { "quote", PKC_SF_QUOTE },
    { "quasiquote", PKC_SF_QUASIQUOTE },
    { "unquote", PKC_SF_UNQUOTE },
    { "unquote-splicing", PKC_SF_UNQUOTE_SPLICING },
    { "lambda", PKC_SF_LAMBDA },
    { "define", PKC_SF_DEFINE },
    { "set!", PKC_SF_SET },
    { "if", PKC_SF_IF },
    { "cond", PKC_SF_COND },
    { "case", PKC_SF_CASE },
    { "when", PKC_SF_WHEN },
    { "unless", PKC_SF_UNLESS },
    { "and", PKC_SF_AND },
    { "or", PKC_SF_OR },
    { "begin", PKC_SF_BEGIN },
    { "let", PKC_SF_LET },
    { "let*", PKC_SF_LETSTAR },
    { "letrec", PKC_SF_LETREC },
    { "letrec*", PKC_SF_LETRECSTAR },
    { "define-syntax", PKC_SF_DEFSYNTAX },
    { "fresh", PKC_SF_FRESH },
    { "conde", PKC_SF_CONDE },
    { "conda", PKC_SF_CONDA },
    { "condu", PKC_SF_CONDU },
    { "project", PKC_SF_PROJECT },
    { "run", PKC_SF_RUN },
    { "run*", PKC_SF_RUNSTAR },
    { "defrel", PKC_SF_DEFREL },
    { "test", PKC_SF_TEST },
    { "load", PKC_SF_LOAD },
    { "do", PKC_SF_DO },
    { "delay", PKC_SF_DELAY },
    { "lall", PKC_SF_LALL },
    { "lany", PKC_SF_LANY },
    { "lconde", PKC_SF_LCONDE },
    { "else", PKC_SF_ELSE },
    { "=>", PKC_SF_ARROW },
    { "...", PKC_SF_ELLIPSIS },
    { "_", PKC_SF_UNDERSCORE },
    { "syntax-rules", PKC_SF_SYNTAX_RULES },
  };
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) pkc_defspecial(forms[i].name, forms[i].code);
  pkc_sym_quote = pko_sym("quote");
  pkc_sym_quasiquote = pko_sym("quasiquote");
  pkc_sym_unquote = pko_sym("unquote");
  pkc_sym_unquote_splicing = pko_sym("unquote-splicing");
  pkc_sym_ellipsis = pko_sym("...");
  pkc_sym_underscore = pko_sym("_");
  pkc_sym_define = pko_sym("define");
  pkc_sym_begin = pko_sym("begin");
  pkc_sym_lambda = pko_sym("lambda");
}
