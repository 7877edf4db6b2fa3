/*
** pk_eval.c — the Scheme core: compiler (data -> lexically addressed tree),
** syntax-rules, and the evaluator.
**
** Compilation resolves every variable to (depth, slot) or a global symbol,
** checks special forms, and expands macros, so that malformed forms are
** reported before anything runs.  The evaluator is one loop with proper tail
** calls: a call in tail position replaces the current node and frame instead
** of recursing, so loops written as tail recursion run in constant C stack.
** Non-tail recursion uses the C stack, checked against a budget.
*/
#include "pk_eval.h"
#include "pk_builtin.h"
#include "pk_search.h"
#include "pk_node.h"
#include "pk_print.h"
#include "pk_read.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Special-form codes, kept in the symbol header's aux field. */
enum {
  SF_NONE, SF_QUOTE, SF_QUASIQUOTE, SF_UNQUOTE, SF_UNQUOTE_SPLICING, SF_LAMBDA,
  SF_DEFINE, SF_SET, SF_IF, SF_COND, SF_CASE, SF_WHEN, SF_UNLESS, SF_AND, SF_OR,
  SF_BEGIN, SF_LET, SF_LETSTAR, SF_LETREC, SF_LETRECSTAR, SF_DEFSYNTAX,
  SF_FRESH, SF_CONDE, SF_CONDA, SF_CONDU, SF_PROJECT, SF_RUN, SF_RUNSTAR,
  SF_DEFREL, SF_TEST, SF_LOAD, SF_DO, SF_DELAY,
  /* auxiliary keywords: never renamed by macro expansion */
  SF_ELSE, SF_ARROW, SF_ELLIPSIS, SF_UNDERSCORE, SF_SYNTAX_RULES
};

static pk_val S_quote, S_quasiquote, S_unquote, S_unquote_splicing,
  S_ellipsis, S_underscore, S_define, S_begin, S_lambda, S_test_failed;

/* Runtime stack floor of this thread: below it, recursion is over budget. */
static _Thread_local uintptr_t pke_floor;
/* Budget for threads that run programs (bytes of C stack). */
void (*pke_note_global)(pk_val sym, const pk_srcpos *pos);
void (*pke_load)(pk_val fname, const pk_srcpos *pos);
size_t pke_stack_budget = (size_t)1 << 30;

static inline void pke_check_stack(void);

/* ---- helpers ------------------------------------------------------------ */

/* A static error at the position of form x (or at pos when x has none). */
static _Noreturn void pkx_err(pk_val x, const pk_srcpos *pos, const char *fmt, const char *a)
{
  pk_srcpos p;
  if (pko_pairp(x) && pkr_pos(x, &p)) pos = &p;
  char msg[512];
  snprintf(msg, sizeof msg, fmt, a);
  pko_throw_at(PK_STATUS_STATIC, pos, "%s", msg);
}

/* A static error that quotes the offending form. */
static _Noreturn void pkx_bad(pk_val x, const pk_srcpos *pos, const char *what)
{
  char *s = pkp_tostring(x, PKP_WRITE);
  if (strlen(s) > 120) strcpy(s + 117, "...");
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, s);
  free(s);
  pkx_err(x, pos, "%s", msg);
}

static pke_node *pkx_node(int op, const pk_srcpos *pos)
{
  pke_node *n = pko_alloc(sizeof *n);
  n->op = (uint8_t)op;
  if (pos) n->pos = *pos;
  return n;
}

static pke_node *pkx_const(pk_val v, const pk_srcpos *pos)
{
  pke_node *n = pkx_node(PKE_CONST, pos);
  n->v = v;
  return n;
}

/* List element i (0-based) of a list known to be long enough. */
static pk_val pkx_nth(pk_val l, int i)
{
  while (i-- > 0) l = pko_cdr(l);
  return pko_car(l);
}

/* ---- compile-time scopes ------------------------------------------------- */

typedef struct pkx_scope {
  struct pkx_scope *up;
  pk_val *names;
  uint32_t n, cap;
} pkx_scope;

static void pkx_scope_add(pkx_scope *s, pk_val name)
{
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 8;
    pk_val *nn = pko_alloc(s->cap * sizeof *nn);
    if (s->n) memcpy(nn, s->names, s->n * sizeof *nn);
    s->names = nn;
  }
  s->names[s->n++] = name;
}

/* Resolve name to (depth, slot); false if global. Later bindings shadow
   earlier ones in the same frame (let* reuses names). */
static bool pkx_lookup(const pkx_scope *s, pk_val name, uint32_t *depth, uint32_t *slot)
{
  for (uint32_t d = 0; s; s = s->up, d++)
    for (uint32_t i = s->n; i-- > 0;)
      if (s->names[i] == name) { *depth = d; *slot = i; return true; }
  return false;
}

/* ---- renamed identifiers -------------------------------------------------
** A macro expansion renames every identifier its template introduces to a
** fresh uninterned symbol that remembers the original.  Bound by a binding
** form of the expansion, the renamed symbol is a new variable (so it cannot
** capture the user's); free, it means what the original means globally
** (so a user's local binding cannot capture it either). */

static struct { pthread_mutex_t lock; pk_val *keys, *vals; size_t cap, n; } pkx_aliases = {
  PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0 };

static size_t pkx_alias_slot(pk_val k, size_t cap) { return (size_t)((k >> 4) * 0x9e3779b97f4a7c15ull) & (cap - 1); }

/* Record that renamed stands for orig (tables are uncollectable, as symbols are). */
static void pkx_alias_put(pk_val renamed, pk_val orig)
{
  pko_oom_fatal++; /* the collector's out-of-memory hook must not throw past the unlock */
  pthread_mutex_lock(&pkx_aliases.lock);
  if (2 * (pkx_aliases.n + 1) > pkx_aliases.cap) {
    size_t ncap = pkx_aliases.cap ? 2 * pkx_aliases.cap : 256;
    pk_val *nk = GC_MALLOC_UNCOLLECTABLE(ncap * sizeof *nk), *nv = GC_MALLOC_UNCOLLECTABLE(ncap * sizeof *nv);
    for (size_t i = 0; i < pkx_aliases.cap; i++) {
      if (!pkx_aliases.keys[i]) continue;
      size_t j = pkx_alias_slot(pkx_aliases.keys[i], ncap);
      while (nk[j]) j = (j + 1) & (ncap - 1);
      nk[j] = pkx_aliases.keys[i];
      nv[j] = pkx_aliases.vals[i];
    }
    if (pkx_aliases.keys) { GC_FREE(pkx_aliases.keys); GC_FREE(pkx_aliases.vals); }
    pkx_aliases.keys = nk;
    pkx_aliases.vals = nv;
    pkx_aliases.cap = ncap;
  }
  size_t j = pkx_alias_slot(renamed, pkx_aliases.cap);
  while (pkx_aliases.keys[j]) j = (j + 1) & (pkx_aliases.cap - 1);
  pkx_aliases.keys[j] = renamed;
  pkx_aliases.vals[j] = orig;
  pkx_aliases.n++;
  pthread_mutex_unlock(&pkx_aliases.lock);
  pko_oom_fatal--;
}

/* The symbol renamed stands for, or 0 for an ordinary symbol. */
static pk_val pkx_alias_get(pk_val sym)
{
  if (!(pko_as_sym(sym)->flags & PKO_SYM_GENSYM)) return 0;
  pk_val r = 0;
  pthread_mutex_lock(&pkx_aliases.lock);
  if (pkx_aliases.cap)
    for (size_t j = pkx_alias_slot(sym, pkx_aliases.cap); pkx_aliases.keys[j]; j = (j + 1) & (pkx_aliases.cap - 1))
      if (pkx_aliases.keys[j] == sym) { r = pkx_aliases.vals[j]; break; }
  pthread_mutex_unlock(&pkx_aliases.lock);
  return r;
}

/* The global identifier sym means when it is not locally bound: the
   original of a renamed symbol (through any number of renamings). */
static pk_val pkx_base(pk_val sym)
{
  pk_val o;
  while (pko_symbolp(sym) && (o = pkx_alias_get(sym))) sym = o;
  return sym;
}

/* The special-form code of x in scope: 0 when x is locally bound, a macro,
   or not special. */
static int pkx_special(const pkx_scope *s, pk_val x)
{
  uint32_t d, i;
  if (!pko_symbolp(x) || pkx_lookup(s, x, &d, &i)) return SF_NONE;
  x = pkx_base(x);
  if (pko_as_sym(x)->macro) return SF_NONE;
  return (int)pko_as_sym(x)->h.aux;
}

static pke_node *pkx_comp(pk_val x, pkx_scope *sc, const pk_srcpos *pos);
static pke_node *pkx_body(pk_val body, pkx_scope *sc, const pk_srcpos *pos);
static pk_val pkx_expand(pk_val mac, pk_val form, const pk_srcpos *pos);

/* Position of x if it has one, else the enclosing position. */
static const pk_srcpos *pkx_pos(pk_val x, const pk_srcpos *pos, pk_srcpos *buf)
{
  return (pko_pairp(x) && pkr_pos(x, buf)) ? buf : pos;
}

/* Require x to be a proper list of at least min elements. */
static long pkx_list(pk_val x, long min, const pk_srcpos *pos, const char *what)
{
  long n = pko_length(x);
  if (n < min) pkx_bad(x, pos, what);
  return n;
}

/* ---- variables ------------------------------------------------------------ */

static pke_node *pkx_ref(pk_val sym, pkx_scope *sc, const pk_srcpos *pos)
{
  uint32_t d, i;
  if (pkx_lookup(sc, sym, &d, &i)) {
    pke_node *n = pkx_node(d == 0 ? PKE_LREF0 : d == 1 ? PKE_LREF1 : PKE_LREF, pos);
    n->a = d;
    n->b = i;
    n->v = sym;
    return n;
  }
  sym = pkx_base(sym);
  if (pko_as_sym(sym)->h.aux && !pko_as_sym(sym)->macro && pko_as_sym(sym)->h.aux < SF_ELSE)
    pkx_err(sym, pos, "invalid syntax: %s used as a variable", pko_symname(sym));
  pke_node *n = pkx_node(PKE_GREF, pos);
  n->v = sym;
  if (pke_note_global) pke_note_global(sym, pos);
  return n;
}

/* ---- lambda, let and bodies ---------------------------------------------- */

/* Name defined by a body form (define x ...), (define (f ...) ...),
   (defrel (f ...) ...), or 0. */
static pk_val pkx_defname(pk_val f, pkx_scope *sc)
{
  if (!pko_pairp(f)) return 0;
  int sf = pkx_special(sc, pko_car(f));
  if ((sf != SF_DEFINE && sf != SF_DEFREL) || !pko_pairp(pko_cdr(f))) return 0;
  pk_val t = pko_car(pko_cdr(f));
  while (pko_pairp(t)) t = pko_car(t); /* curried define */
  return pko_symbolp(t) ? t : 0;
}

/* Add internal definitions of body (also inside begin) to scope sc. */
static void pkx_scan_defs(pk_val body, pkx_scope *sc)
{
  for (; pko_pairp(body); body = pko_cdr(body)) {
    pk_val f = pko_car(body), name = pkx_defname(f, sc);
    if (name) pkx_scope_add(sc, name);
    else if (pko_pairp(f) && pkx_special(sc, pko_car(f)) == SF_BEGIN) pkx_scan_defs(pko_cdr(f), sc);
  }
}

/* Sequence of body forms; internal defines were already added to sc. */
static pke_node *pkx_body(pk_val body, pkx_scope *sc, const pk_srcpos *pos)
{
  long n = pkx_list(body, 1, pos, "empty or improper body");
  if (n == 1) return pkx_comp(pko_car(body), sc, pos);
  pke_node *s = pkx_node(PKE_SEQ, pos);
  s->n = (uint16_t)n;
  s->kids = pko_alloc((size_t)n * sizeof *s->kids);
  for (long i = 0; i < n; i++, body = pko_cdr(body)) s->kids[i] = pkx_comp(pko_car(body), sc, pos);
  return s;
}

/* (lambda formals body ...) with formals a list, improper list or symbol. */
static pke_node *pkx_lambda(pk_val formals, pk_val body, pkx_scope *sc, const pk_srcpos *pos, pk_val name)
{
  pkx_scope in = { sc, NULL, 0, 0 };
  pke_node *n = pkx_node(PKE_LAMBDA, pos);
  pk_val f = formals;
  for (; pko_pairp(f); f = pko_cdr(f)) {
    if (!pko_symbolp(pko_car(f))) pkx_bad(formals, pos, "invalid parameter list");
    pkx_scope_add(&in, pko_car(f));
    n->a++;
  }
  if (f != PK_NIL) {
    if (!pko_symbolp(f)) pkx_bad(formals, pos, "invalid parameter list");
    pkx_scope_add(&in, f);
    n->flags |= 1;
  }
  pkx_scan_defs(body, &in);
  n->x = pkx_body(body, &in, pos);
  n->b = in.n;
  n->v = name;
  return n;
}

/* Bindings ((x e) ...) of let/letrec: names into names[], inits in inits. */
static long pkx_bindings(pk_val b, const pk_srcpos *pos, pk_val **names, pk_val **inits)
{
  long n = pkx_list(b, 0, pos, "invalid bindings");
  *names = pko_alloc((size_t)(n + 1) * sizeof **names);
  *inits = pko_alloc((size_t)(n + 1) * sizeof **inits);
  for (long i = 0; i < n; i++, b = pko_cdr(b)) {
    pk_val e = pko_car(b);
    if (pko_length(e) != 2 || !pko_symbolp(pko_car(e))) pkx_bad(e, pos, "invalid binding");
    (*names)[i] = pko_car(e);
    (*inits)[i] = pkx_nth(e, 1);
  }
  return n;
}

/* (let ((x e) ...) body): one new frame, inits evaluated outside it. */
static pke_node *pkx_let(pk_val x, pkx_scope *sc, const pk_srcpos *pos, bool rec)
{
  pkx_list(x, 3, pos, "invalid let");
  pk_val *names, *inits;
  long n = pkx_bindings(pkx_nth(x, 1), pos, &names, &inits);
  pkx_scope in = { sc, NULL, 0, 0 };
  for (long i = 0; i < n; i++) pkx_scope_add(&in, names[i]);
  pke_node *l = pkx_node(rec ? PKE_LETREC : PKE_LET, pos);
  l->n = (uint16_t)n;
  l->kids = pko_alloc((size_t)(n + 1) * sizeof *l->kids);
  for (long i = 0; i < n; i++) l->kids[i] = pkx_comp(inits[i], rec ? &in : sc, pos);
  pkx_scan_defs(pko_cdr(pko_cdr(x)), &in);
  l->x = pkx_body(pko_cdr(pko_cdr(x)), &in, pos);
  l->b = in.n;
  return l;
}

/* (let name ((x e) ...) body) = ((letrec ((name (lambda (x ...) body))) name) e ...) */
static pke_node *pkx_named_let(pk_val x, pkx_scope *sc, const pk_srcpos *pos)
{
  pkx_list(x, 4, pos, "invalid named let");
  pk_val name = pkx_nth(x, 1), *names, *inits;
  long n = pkx_bindings(pkx_nth(x, 2), pos, &names, &inits);
  pk_val formals = PK_NIL;
  for (long i = n; i-- > 0;) formals = pko_cons(names[i], formals);
  pkx_scope loop = { sc, NULL, 0, 0 };
  pkx_scope_add(&loop, name);
  pke_node *l = pkx_node(PKE_LETREC, pos);
  l->n = 1;
  l->b = 1;
  l->kids = pko_alloc(sizeof *l->kids);
  l->kids[0] = pkx_lambda(formals, pko_cdr(pko_cdr(pko_cdr(x))), &loop, pos, name);
  pke_node *call = pkx_node(PKE_CALL, pos);
  call->x = pkx_ref(name, &loop, pos);
  call->n = (uint16_t)n;
  call->kids = pko_alloc((size_t)(n + 1) * sizeof *call->kids);
  /* Initial values are evaluated outside the loop's scope: one level up. */
  pkx_scope outer = { sc, NULL, 0, 0 };
  pkx_scope_add(&outer, pko_gensym(name));
  for (long i = 0; i < n; i++) call->kids[i] = pkx_comp(inits[i], &outer, pos);
  l->x = call;
  return l;
}

/* (let* ((x e) ...) body): nested lets. */
static pk_val pkx_letstar(pk_val x, const pk_srcpos *pos)
{
  pkx_list(x, 3, pos, "invalid let*");
  pk_val b = pkx_nth(x, 1), body = pko_cdr(pko_cdr(x));
  pkx_list(b, 0, pos, "invalid let* bindings");
  if (b == PK_NIL || pko_cdr(b) == PK_NIL) return pko_cons(pko_sym("let"), pko_cons(b, body));
  pk_val inner = pko_cons(pko_sym("let*"), pko_cons(pko_cdr(b), body));
  return pko_list(3, pko_sym("let"), pko_list(1, pko_car(b)), inner);
}

/* ---- definitions and assignment ------------------------------------------- */

/* (define x e), (define (f . formals) body ...), curried (define ((f a) b) ...). */
static pke_node *pkx_define(pk_val x, pkx_scope *sc, const pk_srcpos *pos)
{
  pkx_list(x, 2, pos, "invalid define");
  pk_val target = pkx_nth(x, 1), value;
  pke_node *vn;
  while (pko_pairp(target) && pko_pairp(pko_car(target))) { /* curried */
    pk_val body = pko_cdr(pko_cdr(x));
    x = pko_list(3, S_define, pko_car(target), pko_cons(S_lambda, pko_cons(pko_cdr(target), body)));
    target = pko_car(target);
  }
  if (pko_pairp(target)) {
    if (!pko_symbolp(pko_car(target))) pkx_bad(target, pos, "invalid define");
    pkx_list(x, 3, pos, "define: empty body");
    vn = pkx_lambda(pko_cdr(target), pko_cdr(pko_cdr(x)), sc, pos, pko_car(target));
    target = pko_car(target);
  } else {
    if (!pko_symbolp(target)) pkx_bad(x, pos, "invalid define");
    long n = pkx_list(x, 2, pos, "invalid define");
    if (n > 3) pkx_bad(x, pos, "invalid define");
    value = n == 3 ? pkx_nth(x, 2) : PK_VOID;
    vn = n == 3 ? pkx_comp(value, sc, pos) : pkx_const(PK_VOID, pos);
    if (vn->op == PKE_LAMBDA && !vn->v) vn->v = target;
  }
  uint32_t d, i;
  if (sc && pkx_lookup(sc, target, &d, &i)) {
    pke_node *n = pkx_node(PKE_LSET, pos);
    n->a = d;
    n->b = i;
    n->x = vn;
    n->flags = 1; /* a definition: value is void, not checked */
    return n;
  }
  target = pkx_base(target);
  pke_node *n = pkx_node(PKE_GDEF, pos);
  n->v = target;
  n->x = vn;
  pko_as_sym(target)->flags |= PKO_SYM_DEFINED;
  return n;
}

/* (defrel (name arg ...) g ...): one goal defines a plain procedure; more
   goals are wrapped in (fresh () g ...), which suspends. */
static pke_node *pkx_defrel(pk_val x, pkx_scope *sc, const pk_srcpos *pos)
{
  pkx_list(x, 3, pos, "invalid defrel");
  pk_val head = pkx_nth(x, 1), goals = pko_cdr(pko_cdr(x));
  if (!pko_pairp(head) || !pko_symbolp(pko_car(head))) pkx_bad(x, pos, "invalid defrel");
  pk_val body = pko_cdr(goals) == PK_NIL ? goals
    : pko_list(1, pko_cons(pko_sym("fresh"), pko_cons(PK_NIL, goals)));
  pk_val def = pko_cons(S_define, pko_cons(head, body));
  pkr_setpos(def, pos);
  return pkx_define(def, sc, pos);
}

/* (set! x e) */
static pke_node *pkx_set(pk_val x, pkx_scope *sc, const pk_srcpos *pos)
{
  if (pko_length(x) != 3 || !pko_symbolp(pkx_nth(x, 1))) pkx_bad(x, pos, "invalid set!");
  pk_val name = pkx_nth(x, 1);
  uint32_t d, i;
  pke_node *n;
  if (pkx_lookup(sc, name, &d, &i)) {
    n = pkx_node(PKE_LSET, pos);
    n->a = d;
    n->b = i;
  } else {
    name = pkx_base(name);
    n = pkx_node(PKE_GSET, pos);
    n->v = name;
    if (pke_note_global) pke_note_global(name, pos);
  }
  n->x = pkx_comp(pkx_nth(x, 2), sc, pos);
  return n;
}

/* ---- conditionals ---------------------------------------------------------- */

static pke_node *pkx_if(pke_node *c, pke_node *t, pke_node *e, const pk_srcpos *pos)
{
  pke_node *n = pkx_node(PKE_IF, pos);
  n->x = c;
  n->y = t;
  n->z = e;
  return n;
}

/* A node evaluating the forms in order (or void for none). */
static pke_node *pkx_seq(pk_val forms, pkx_scope *sc, const pk_srcpos *pos)
{
  if (forms == PK_NIL) return pkx_const(PK_VOID, pos);
  return pkx_body(forms, sc, pos);
}

/* (cond clause ...), including (test => f) and (test). */
static pke_node *pkx_cond(pk_val clauses, pkx_scope *sc, const pk_srcpos *pos)
{
  if (clauses == PK_NIL) return pkx_const(PK_VOID, pos);
  if (!pko_pairp(clauses)) pkx_bad(clauses, pos, "invalid cond");
  pk_val c = pko_car(clauses), rest = pko_cdr(clauses);
  if (pkx_list(c, 1, pos, "invalid cond clause") && pkx_special(sc, pko_car(c)) == SF_ELSE) {
    if (rest != PK_NIL) pkx_bad(c, pos, "cond: else clause must be last");
    return pkx_seq(pko_cdr(c), sc, pos);
  }
  if (pko_cdr(c) == PK_NIL) { /* (test): value of test if true */
    pk_val t = pko_gensym(pko_sym("t"));
    pk_val form = pko_list(3, pko_sym("let"), pko_list(1, pko_list(2, t, pko_car(c))),
                           pko_list(4, pko_sym("if"), t, t, pko_cons(pko_sym("cond"), rest)));
    return pkx_comp(form, sc, pos);
  }
  if (pkx_special(sc, pkx_nth(c, 1)) == SF_ARROW) {
    if (pko_length(c) != 3) pkx_bad(c, pos, "invalid cond => clause");
    pk_val t = pko_gensym(pko_sym("t"));
    pk_val form = pko_list(3, pko_sym("let"), pko_list(1, pko_list(2, t, pko_car(c))),
                           pko_list(4, pko_sym("if"), t, pko_list(2, pkx_nth(c, 2), t),
                                    pko_cons(pko_sym("cond"), rest)));
    return pkx_comp(form, sc, pos);
  }
  return pkx_if(pkx_comp(pko_car(c), sc, pos), pkx_seq(pko_cdr(c), sc, pos),
                pkx_cond(rest, sc, pos), pos);
}

/* (case key ((d ...) e ...) ... (else e ...)) via memv on a temporary. */
static pke_node *pkx_case(pk_val x, pkx_scope *sc, const pk_srcpos *pos)
{
  pkx_list(x, 2, pos, "invalid case");
  pk_val t = pko_gensym(pko_sym("key")), clauses = PK_NIL;
  for (pk_val c = pko_cdr(pko_cdr(x)); pko_pairp(c); c = pko_cdr(c)) {
    pk_val cl = pko_car(c);
    pkx_list(cl, 1, pos, "invalid case clause");
    pk_val test = pkx_special(sc, pko_car(cl)) == SF_ELSE ? pko_car(cl)
      : pko_list(3, pko_sym("memv"), t, pko_list(2, S_quote, pko_car(cl)));
    clauses = pko_cons(pko_cons(test, pko_cdr(cl)), clauses);
  }
  pk_val form = pko_list(3, pko_sym("let"), pko_list(1, pko_list(2, t, pkx_nth(x, 1))),
                         pko_cons(pko_sym("cond"), pko_reverse(clauses)));
  return pkx_comp(form, sc, pos);
}

/* (and e ...) / (or e ...) */
static pke_node *pkx_andor(pk_val x, pkx_scope *sc, const pk_srcpos *pos, bool isand)
{
  long n = pkx_list(x, 1, pos, "invalid and/or") - 1;
  if (n == 0) return pkx_const(pko_mkbool(isand), pos);
  if (n == 1) return pkx_comp(pkx_nth(x, 1), sc, pos);
  pke_node *r = pkx_node(isand ? PKE_AND : PKE_OR, pos);
  r->n = (uint16_t)n;
  r->kids = pko_alloc((size_t)n * sizeof *r->kids);
  x = pko_cdr(x);
  for (long i = 0; i < n; i++, x = pko_cdr(x)) r->kids[i] = pkx_comp(pko_car(x), sc, pos);
  return r;
}

/* (do ((var init step) ...) (test res ...) body ...) as a named let. */
static pk_val pkx_do(pk_val x, const pk_srcpos *pos)
{
  pkx_list(x, 3, pos, "invalid do");
  pk_val loop = pko_gensym(pko_sym("do-loop")), binds = PK_NIL, steps = PK_NIL;
  for (pk_val s = pkx_nth(x, 1); pko_pairp(s); s = pko_cdr(s)) {
    pk_val v = pko_car(s);
    long n = pkx_list(v, 2, pos, "invalid do binding");
    binds = pko_cons(pko_list(2, pko_car(v), pkx_nth(v, 1)), binds);
    steps = pko_cons(n == 3 ? pkx_nth(v, 2) : pko_car(v), steps);
  }
  pk_val test = pkx_nth(x, 2);
  pkx_list(test, 1, pos, "invalid do test");
  pk_val res = pko_cdr(test) == PK_NIL ? pko_list(1, PK_VOID) : pko_cdr(test);
  pk_val again = pko_cons(loop, pko_reverse(steps));
  pk_val body = pko_cons(S_begin, pko_cdr(pko_cdr(pko_cdr(x))));
  pk_val iff = pko_list(4, pko_sym("if"), pko_car(test), pko_cons(S_begin, res),
                        pko_cdr(pko_cdr(pko_cdr(x))) == PK_NIL ? again : pko_list(3, S_begin, body, again));
  return pko_list(4, pko_sym("let"), loop, pko_reverse(binds), iff);
}

/* ---- quasiquote ----------------------------------------------------------- */

static bool pkx_qq_const(pk_val x, int depth);

/* True if x under quasiquote at depth has no unquote to evaluate. */
static bool pkx_qq_const(pk_val x, int depth)
{
  pke_check_stack();
  while (pko_pairp(x)) {
    pk_val h = pko_car(x);
    if (h == S_unquote || h == S_unquote_splicing) {
      if (depth == 1) return false;
      return pkx_qq_const(pko_cdr(x), depth - 1);
    }
    if (h == S_quasiquote) return pkx_qq_const(pko_cdr(x), depth + 1);
    if (!pkx_qq_const(h, depth)) return false;
    x = pko_cdr(x);
  }
  if (pko_isa(x, PK_T_VECTOR)) {
    for (uint32_t i = 0; i < pko_as_vec(x)->len; i++)
      if (!pkx_qq_const(pko_as_vec(x)->items[i], depth)) return false;
  }
  return true;
}

static pke_node *pkx_pair2(int op, pke_node *a, pke_node *d, const pk_srcpos *pos)
{
  pke_node *n = pkx_node(op, pos);
  n->x = a;
  n->y = d;
  return n;
}

/* Code that builds the quasiquoted template x at nesting depth. */
static pke_node *pkx_qq(pk_val x, int depth, pkx_scope *sc, const pk_srcpos *pos)
{
  if (pkx_qq_const(x, depth)) return pkx_const(x, pos);
  if (pko_isa(x, PK_T_VECTOR)) {
    pk_val l = PK_NIL;
    for (uint32_t i = pko_as_vec(x)->len; i-- > 0;) l = pko_cons(pko_as_vec(x)->items[i], l);
    pke_node *n = pkx_node(PKE_LIST2VEC, pos);
    n->x = pkx_qq(l, depth, sc, pos);
    return n;
  }
  pk_val h = pko_car(x);
  if (h == S_unquote && pko_length(x) == 2) {
    if (depth == 1) return pkx_comp(pkx_nth(x, 1), sc, pos);
    return pkx_pair2(PKE_CONS, pkx_const(h, pos), pkx_qq(pko_cdr(x), depth - 1, sc, pos), pos);
  }
  if (h == S_quasiquote && pko_length(x) == 2)
    return pkx_pair2(PKE_CONS, pkx_const(h, pos), pkx_qq(pko_cdr(x), depth + 1, sc, pos), pos);
  if (pko_pairp(h) && pko_car(h) == S_unquote_splicing && depth == 1) {
    if (pko_length(h) != 2) pkx_bad(h, pos, "invalid unquote-splicing");
    return pkx_pair2(PKE_APPEND, pkx_comp(pkx_nth(h, 1), sc, pos), pkx_qq(pko_cdr(x), depth, sc, pos), pos);
  }
  return pkx_pair2(PKE_CONS, pkx_qq(h, depth, sc, pos), pkx_qq(pko_cdr(x), depth, sc, pos), pos);
}

/* ---- miniKanren forms ------------------------------------------------------- */

/* Goal expressions gs compiled in scope sc into n->kids. */
static void pkx_goals(pke_node *n, pk_val gs, pkx_scope *sc, const pk_srcpos *pos)
{
  long k = pkx_list(gs, 0, pos, "invalid goal list");
  n->n = (uint16_t)k;
  n->kids = pko_alloc((size_t)(k + 1) * sizeof *n->kids);
  for (long i = 0; i < k; i++, gs = pko_cdr(gs)) {
    pk_srcpos b; /* the reader records each list cell at its element */
    n->kids[i] = pkx_comp(pko_car(gs), sc, pkx_pos(gs, pos, &b));
  }
}

/* (fresh (x ...) g ...): a frame of fresh variables around the goals. */
static pke_node *pkx_fresh(pk_val vars, pk_val goals, int op, pkx_scope *sc, const pk_srcpos *pos)
{
  pkx_scope in = { sc, NULL, 0, 0 };
  pke_node *n = pkx_node(op, pos);
  if (vars == PK_NIL && op != PKE_PROJECT) { /* (fresh () ...) and clauses: no frame */
    n->flags |= 2;
    pkx_goals(n, goals, sc, pos);
    return n;
  }
  for (pk_val v = vars; v != PK_NIL; v = pko_cdr(v)) {
    if (!pko_pairp(v) || !pko_symbolp(pko_car(v))) pkx_bad(vars, pos, "invalid variable list");
    pkx_scope_add(&in, pko_car(v));
    n->a++;
  }
  pkx_goals(n, goals, &in, pos);
  n->b = in.n;
  return n;
}

/* (conde (g ...) ...), conda, condu: one FRESH-shaped node per clause. */
static pke_node *pkx_conde(pk_val x, int op, pkx_scope *sc, const pk_srcpos *pos)
{
  long k = pkx_list(x, 2, pos, "conde needs at least one clause") - 1;
  pke_node *n = pkx_node(op, pos);
  n->n = (uint16_t)k;
  n->kids = pko_alloc((size_t)k * sizeof *n->kids);
  x = pko_cdr(x);
  for (long i = 0; i < k; i++, x = pko_cdr(x)) {
    pk_val cl = pko_car(x);
    pk_srcpos b;
    const pk_srcpos *cp = pkx_pos(cl, pos, &b);
    if (pkx_list(cl, 1, cp, "invalid clause: needs at least one goal") < 1) pkx_bad(cl, cp, "empty clause");
    n->kids[i] = pkx_fresh(PK_NIL, cl, PKE_FRESH, sc, cp);
  }
  return n;
}

/* (project (x ...) g ...): y holds the references; goals see a new frame
   binding the same names to the walked values. */
static pke_node *pkx_project(pk_val x, pkx_scope *sc, const pk_srcpos *pos)
{
  pkx_list(x, 3, pos, "invalid project");
  pk_val vars = pkx_nth(x, 1);
  long k = pkx_list(vars, 0, pos, "invalid project variables");
  pke_node *refs = pkx_node(PKE_SEQ, pos);
  refs->n = (uint16_t)k;
  refs->kids = pko_alloc((size_t)(k + 1) * sizeof *refs->kids);
  for (long i = 0; i < k; i++) {
    pk_val v = pkx_nth(vars, (int)i);
    if (!pko_symbolp(v)) pkx_bad(vars, pos, "invalid project variables");
    refs->kids[i] = pkx_ref(v, sc, pos);
  }
  pke_node *n = pkx_fresh(vars, pko_cdr(pko_cdr(x)), PKE_PROJECT, sc, pos);
  n->y = refs;
  return n;
}

/* (run n (q ...) g ...) and (run* (q ...) g ...). */
static pke_node *pkx_run(pk_val x, bool star, pkx_scope *sc, const pk_srcpos *pos)
{
  pkx_list(x, star ? 3 : 4, pos, star ? "invalid run*" : "invalid run");
  pke_node *count = star ? NULL : pkx_comp(pkx_nth(x, 1), sc, pos);
  pk_val rest = star ? pko_cdr(x) : pko_cdr(pko_cdr(x));
  pk_val qs = pko_car(rest);
  if (pko_symbolp(qs)) qs = pko_list(1, qs); /* (run* q ...) as in TRS1 */
  if (pkx_list(qs, 1, pos, "run: invalid query variables") < 1) pkx_bad(x, pos, "run: no query variable");
  pke_node *n = pkx_fresh(qs, pko_cdr(rest), PKE_RUN, sc, pos);
  n->x = count;
  return n;
}

/* (test title expr expected), as test-check.scm. */
static pke_node *pkx_test(pk_val x, pkx_scope *sc, const pk_srcpos *pos)
{
  if (pko_length(x) != 4) pkx_bad(x, pos, "invalid test: expected (test title expr expected)");
  pke_node *n = pkx_node(PKE_TEST, pos);
  n->x = pkx_comp(pkx_nth(x, 1), sc, pos);
  n->y = pkx_comp(pkx_nth(x, 2), sc, pos);
  n->z = pkx_comp(pkx_nth(x, 3), sc, pos);
  n->v = pkx_nth(x, 2);
  return n;
}

/* ---- syntax-rules ----------------------------------------------------------- */

typedef struct pkx_macro {
  pko_hdr h;
  pk_val literals, rules, ellipsis;
} pkx_macro;

/* (syntax-rules (lit ...) (pattern template) ...) into a transformer. */
static pk_val pkx_syntax_rules(pk_val spec, const pk_srcpos *pos)
{
  if (!pko_pairp(spec) || pkx_special(NULL, pko_car(spec)) != SF_SYNTAX_RULES)
    pkx_bad(spec, pos, "define-syntax: only syntax-rules transformers are supported");
  long n = pkx_list(spec, 2, pos, "invalid syntax-rules");
  pkx_macro *m = (pkx_macro *)pko_obj(PK_T_MACRO, sizeof *m);
  m->ellipsis = S_ellipsis;
  pk_val rest = pko_cdr(spec);
  if (pko_symbolp(pko_car(rest))) { /* (syntax-rules ellipsis (lit ...) ...) */
    m->ellipsis = pko_car(rest);
    rest = pko_cdr(rest);
    n--;
  }
  m->literals = pko_car(rest);
  pkx_list(m->literals, 0, pos, "invalid syntax-rules literals");
  for (pk_val r = pko_cdr(rest); r != PK_NIL; r = pko_cdr(r))
    if (pko_length(pko_car(r)) != 2 || !pko_pairp(pko_car(pko_car(r)))) pkx_bad(pko_car(r), pos, "invalid syntax rule");
  m->rules = pko_cdr(rest);
  return (pk_val)m;
}

typedef struct pkx_match { pk_val binds; } pkx_match; /* alist var -> (depth . value) */

static bool pkx_memq(pk_val x, pk_val l)
{
  for (; pko_pairp(l); l = pko_cdr(l)) if (pko_car(l) == x) return true;
  return false;
}

static bool pkx_ellipsisp(const pkx_macro *m, pk_val p)
{
  return pko_pairp(p) && pko_pairp(pko_cdr(p)) && pko_car(pko_cdr(p)) == m->ellipsis;
}

static void pkx_bind(pkx_match *mt, pk_val var, int depth, pk_val val)
{
  mt->binds = pko_cons(pko_cons(var, pko_cons(pko_mkfix(depth), val)), mt->binds);
}

/* Pattern variables of p (excluding literals, _ and the ellipsis). */
static pk_val pkx_patvars(const pkx_macro *m, pk_val p, pk_val acc)
{
  if (pko_symbolp(p)) {
    if (p != m->ellipsis && p != S_underscore && !pkx_memq(p, m->literals)) acc = pko_cons(p, acc);
    return acc;
  }
  if (pko_pairp(p)) return pkx_patvars(m, pko_cdr(p), pkx_patvars(m, pko_car(p), acc));
  if (pko_isa(p, PK_T_VECTOR))
    for (uint32_t i = 0; i < pko_as_vec(p)->len; i++) acc = pkx_patvars(m, pko_as_vec(p)->items[i], acc);
  return acc;
}

static pk_val pkx_vec2list(pk_val v)
{
  pk_val l = PK_NIL;
  for (uint32_t i = pko_as_vec(v)->len; i-- > 0;) l = pko_cons(pko_as_vec(v)->items[i], l);
  return l;
}

static bool pkx_pmatch(const pkx_macro *m, pk_val p, pk_val f, pkx_match *mt, int depth);

/* Number of ellipses var is under inside pattern p (-1: absent). */
static int pkx_vardepth(const pkx_macro *m, pk_val p, pk_val var)
{
  if (p == var) return 0;
  if (pkx_ellipsisp(m, p)) {
    int d = pkx_vardepth(m, pko_car(p), var);
    if (d >= 0) return d + 1;
    return pkx_vardepth(m, pko_cdr(pko_cdr(p)), var);
  }
  if (pko_pairp(p)) {
    int d = pkx_vardepth(m, pko_car(p), var);
    return d >= 0 ? d : pkx_vardepth(m, pko_cdr(p), var);
  }
  if (pko_isa(p, PK_T_VECTOR))
    for (uint32_t i = 0; i < pko_as_vec(p)->len; i++) {
      int d = pkx_vardepth(m, pko_as_vec(p)->items[i], var);
      if (d >= 0) return d;
    }
  return -1;
}

/* Match (p0 ellipsis . rest) against f. */
static bool pkx_pmatch_ellipsis(const pkx_macro *m, pk_val p, pk_val f, pkx_match *mt, int depth)
{
  pk_val p0 = pko_car(p), rest = pko_cdr(pko_cdr(p));
  long rest_len = 0, flen = 0;
  for (pk_val r = rest; pko_pairp(r); r = pko_cdr(r)) rest_len++;
  for (pk_val r = f; pko_pairp(r); r = pko_cdr(r)) flen++;
  long k = flen - rest_len;
  if (k < 0) return false;
  pk_val vars = pkx_patvars(m, p0, PK_NIL), seqs[64];
  long nv = pko_length(vars);
  if (nv > 64) return false;
  for (long i = 0; i < nv; i++) seqs[i] = PK_NIL;
  for (long i = 0; i < k; i++, f = pko_cdr(f)) {
    pkx_match sub = { PK_NIL };
    if (!pkx_pmatch(m, p0, pko_car(f), &sub, depth + 1)) return false;
    long j = 0;
    for (pk_val v = vars; pko_pairp(v); v = pko_cdr(v), j++)
      for (pk_val b = sub.binds; pko_pairp(b); b = pko_cdr(b))
        if (pko_car(pko_car(b)) == pko_car(v)) { seqs[j] = pko_cons(pko_cdr(pko_cdr(pko_car(b))), seqs[j]); break; }
  }
  long j = 0;
  for (pk_val v = vars; pko_pairp(v); v = pko_cdr(v), j++)
    pkx_bind(mt, pko_car(v), depth + 1 + pkx_vardepth(m, p0, pko_car(v)), pko_reverse(seqs[j]));
  return pkx_pmatch(m, rest, f, mt, depth);
}

/* Match pattern p against form f, adding bindings to mt. */
static bool pkx_pmatch(const pkx_macro *m, pk_val p, pk_val f, pkx_match *mt, int depth)
{
  if (pko_symbolp(p)) {
    if (p == S_underscore) return true;
    if (pkx_memq(p, m->literals)) return pko_symbolp(f) && pkx_base(f) == p;
    pkx_bind(mt, p, depth, f);
    return true;
  }
  if (pkx_ellipsisp(m, p)) return pkx_pmatch_ellipsis(m, p, f, mt, depth);
  if (pko_pairp(p))
    return pko_pairp(f) && pkx_pmatch(m, pko_car(p), pko_car(f), mt, depth) && pkx_pmatch(m, pko_cdr(p), pko_cdr(f), mt, depth);
  if (pko_isa(p, PK_T_VECTOR))
    return pko_isa(f, PK_T_VECTOR) && pkx_pmatch(m, pkx_vec2list(p), pkx_vec2list(f), mt, depth);
  return pko_equal(p, f);
}

/* Binding (depth . value) of var in the match, or 0. */
static pk_val pkx_lookup_bind(pk_val binds, pk_val var)
{
  for (; pko_pairp(binds); binds = pko_cdr(binds))
    if (pko_car(pko_car(binds)) == var) return pko_cdr(pko_car(binds));
  return 0;
}

typedef struct pkx_tmpl { const pkx_macro *m; pk_val binds; pk_val renames; } pkx_tmpl;

/* A template symbol that is not a pattern variable: renamed, consistently
   within one expansion (see "renamed identifiers" above). */
static pk_val pkx_rename(pkx_tmpl *t, pk_val s)
{
  for (pk_val r = t->renames; pko_pairp(r); r = pko_cdr(r))
    if (pko_car(pko_car(r)) == s) return pko_cdr(pko_car(r));
  pk_val g = pko_gensym(s);
  pkx_alias_put(g, s);
  t->renames = pko_cons(pko_cons(s, g), t->renames);
  return g;
}

static pk_val pkx_texpand(pkx_tmpl *t, pk_val x, int quoted);

/* Expand (sub ellipsis . rest) in a template: one copy of sub per element
   of the sequences bound to its ellipsis variables. */
static pk_val pkx_texpand_ellipsis(pkx_tmpl *t, pk_val x, int quoted)
{
  pk_val sub = pko_car(x), rest = pko_cdr(pko_cdr(x));
  pk_val vars[64], seqs[64];
  int64_t depth[64];
  int nv = 0;
  for (pk_val v = pkx_patvars(t->m, sub, PK_NIL); pko_pairp(v) && nv < 64; v = pko_cdr(v)) {
    pk_val b = pkx_lookup_bind(t->binds, pko_car(v));
    if (!b || pko_fixval(pko_car(b)) == 0) continue;
    vars[nv] = pko_car(v);
    depth[nv] = pko_fixval(pko_car(b));
    seqs[nv++] = pko_cdr(b);
  }
  if (nv == 0) pko_throw_at(PK_STATUS_STATIC, pko_where, "syntax-rules: ellipsis follows a template without pattern variables");
  pk_val out = PK_NIL, saved = t->binds;
  for (;;) {
    pk_val nb = saved;
    for (int i = 0; i < nv; i++) {
      if (!pko_pairp(seqs[i])) goto done;
      nb = pko_cons(pko_cons(vars[i], pko_cons(pko_mkfix(depth[i] - 1), pko_car(seqs[i]))), nb);
      seqs[i] = pko_cdr(seqs[i]);
    }
    t->binds = nb;
    out = pko_cons(pkx_texpand(t, sub, quoted), out);
  }
done:
  t->binds = saved;
  pk_val tail = pkx_texpand(t, rest, quoted);
  for (pk_val r = out; pko_pairp(r); r = pko_cdr(r)) tail = pko_cons(pko_car(r), tail);
  return tail;
}

/* Instantiate template x.  quoted: 0 code, 1 inside quote (no renaming),
   2 inside quasiquote (renaming only within unquote). */
static pk_val pkx_texpand(pkx_tmpl *t, pk_val x, int quoted)
{
  if (pko_symbolp(x)) {
    pk_val b = pkx_lookup_bind(t->binds, x);
    if (b) {
      if (pko_fixval(pko_car(b)) != 0) pko_throw_at(PK_STATUS_STATIC, pko_where, "syntax-rules: pattern variable %s used without ellipsis", pko_symname(x));
      return pko_cdr(b);
    }
    return quoted ? x : pkx_rename(t, x);
  }
  if (pko_pairp(x)) {
    if (pko_car(x) == t->m->ellipsis && pko_pairp(pko_cdr(x))) return pkx_texpand(t, pko_car(pko_cdr(x)), quoted); /* (... ...) */
    if (pkx_ellipsisp(t->m, x)) return pkx_texpand_ellipsis(t, x, quoted);
    int q = quoted;
    pk_val h = pko_car(x);
    if (quoted == 0 && h == S_quote) q = 1;
    else if (quoted == 0 && h == S_quasiquote) q = 2;
    else if (quoted == 2 && (h == S_unquote || h == S_unquote_splicing)) q = 0;
    pk_val a = pkx_texpand(t, h, quoted == 2 && q == 0 ? 2 : q);
    return pko_cons(a, pkx_texpand(t, pko_cdr(x), q));
  }
  if (pko_isa(x, PK_T_VECTOR)) {
    pk_val l = pkx_texpand(t, pkx_vec2list(x), quoted);
    long n = pko_length(l);
    pk_val v = pko_mkvec((uint32_t)n, PK_NIL);
    for (long i = 0; i < n; i++, l = pko_cdr(l)) pko_as_vec(v)->items[i] = pko_car(l);
    return v;
  }
  return x;
}

/* Expand a macro use; the result carries the use's position. */
static pk_val pkx_expand(pk_val mac, pk_val form, const pk_srcpos *pos)
{
  const pkx_macro *m = (const pkx_macro *)mac;
  const pk_srcpos *saved = pko_where;
  pko_where = pos;
  for (pk_val r = m->rules; pko_pairp(r); r = pko_cdr(r)) {
    pk_val rule = pko_car(r);
    pkx_match mt = { PK_NIL };
    if (!pkx_pmatch(m, pko_cdr(pko_car(rule)), pko_cdr(form), &mt, 0)) continue;
    pkx_tmpl t = { m, mt.binds, PK_NIL };
    pk_val out = pkx_texpand(&t, pkx_nth(rule, 1), 0);
    if (pko_pairp(out) && pos) pkr_setpos(out, pos);
    pko_where = saved;
    return out;
  }
  pkx_bad(form, pos, "invalid syntax (no syntax-rules pattern matches)");
}

/* ---- the compiler's dispatch ---------------------------------------------------- */

/* A call (f arg ...). */
static pke_node *pkx_call(pk_val x, pkx_scope *sc, const pk_srcpos *pos)
{
  long n = pko_length(x);
  if (n < 0) pkx_bad(x, pos, "invalid syntax (improper list in call)");
  pke_node *c = pkx_node(PKE_CALL, pos);
  c->x = pkx_comp(pko_car(x), sc, pos);
  c->n = (uint16_t)(n - 1);
  c->kids = pko_alloc((size_t)n * sizeof *c->kids);
  x = pko_cdr(x);
  for (long i = 0; i < n - 1; i++, x = pko_cdr(x)) {
    pk_srcpos b;
    c->kids[i] = pkx_comp(pko_car(x), sc, pkx_pos(x, pos, &b));
  }
  return c;
}

/* Special forms of the language (by code). */
static pke_node *pkx_special_form(int sf, pk_val x, pkx_scope *sc, const pk_srcpos *pos)
{
  switch (sf) {
  case SF_QUOTE:
    if (pko_length(x) != 2) pkx_bad(x, pos, "invalid quote");
    return pkx_const(pkx_nth(x, 1), pos);
  case SF_QUASIQUOTE:
    if (pko_length(x) != 2) pkx_bad(x, pos, "invalid quasiquote");
    return pkx_qq(pkx_nth(x, 1), 1, sc, pos);
  case SF_UNQUOTE: case SF_UNQUOTE_SPLICING:
    pkx_bad(x, pos, "invalid syntax: unquote outside quasiquote");
  case SF_LAMBDA:
    pkx_list(x, 3, pos, "invalid lambda");
    return pkx_lambda(pkx_nth(x, 1), pko_cdr(pko_cdr(x)), sc, pos, 0);
  case SF_DEFINE: return pkx_define(x, sc, pos);
  case SF_DEFREL: return pkx_defrel(x, sc, pos);
  case SF_SET: return pkx_set(x, sc, pos);
  case SF_IF: {
    long n = pko_length(x);
    if (n != 3 && n != 4) pkx_bad(x, pos, "invalid if");
    return pkx_if(pkx_comp(pkx_nth(x, 1), sc, pos), pkx_comp(pkx_nth(x, 2), sc, pos),
                  n == 4 ? pkx_comp(pkx_nth(x, 3), sc, pos) : pkx_const(PK_VOID, pos), pos);
  }
  case SF_COND: pkx_list(x, 1, pos, "invalid cond"); return pkx_cond(pko_cdr(x), sc, pos);
  case SF_CASE: return pkx_case(x, sc, pos);
  case SF_WHEN: case SF_UNLESS: {
    pkx_list(x, 3, pos, "invalid when/unless");
    pke_node *c = pkx_comp(pkx_nth(x, 1), sc, pos), *b = pkx_seq(pko_cdr(pko_cdr(x)), sc, pos);
    pke_node *v = pkx_const(PK_VOID, pos);
    return sf == SF_WHEN ? pkx_if(c, b, v, pos) : pkx_if(c, v, b, pos);
  }
  case SF_AND: return pkx_andor(x, sc, pos, true);
  case SF_OR: return pkx_andor(x, sc, pos, false);
  case SF_BEGIN: pkx_list(x, 1, pos, "invalid begin"); return pkx_seq(pko_cdr(x), sc, pos);
  case SF_LET:
    if (pko_pairp(pko_cdr(x)) && pko_symbolp(pkx_nth(x, 1))) return pkx_named_let(x, sc, pos);
    return pkx_let(x, sc, pos, false);
  case SF_LETSTAR: return pkx_comp(pkx_letstar(x, pos), sc, pos);
  case SF_LETREC: case SF_LETRECSTAR: return pkx_let(x, sc, pos, true);
  case SF_DO: return pkx_comp(pkx_do(x, pos), sc, pos);
  case SF_DEFSYNTAX: {
    if (pko_length(x) != 3 || !pko_symbolp(pkx_nth(x, 1))) pkx_bad(x, pos, "invalid define-syntax");
    pko_as_sym(pkx_nth(x, 1))->macro = pkx_syntax_rules(pkx_nth(x, 2), pos);
    return pkx_const(PK_VOID, pos);
  }
  case SF_FRESH:
    pkx_list(x, 3, pos, "invalid fresh: expected (fresh (x ...) goal ...)");
    return pkx_fresh(pkx_nth(x, 1), pko_cdr(pko_cdr(x)), PKE_FRESH, sc, pos);
  case SF_CONDE: return pkx_conde(x, PKE_CONDE, sc, pos);
  case SF_CONDA: return pkx_conde(x, PKE_CONDA, sc, pos);
  case SF_CONDU: return pkx_conde(x, PKE_CONDU, sc, pos);
  case SF_PROJECT: return pkx_project(x, sc, pos);
  case SF_RUN: return pkx_run(x, false, sc, pos);
  case SF_RUNSTAR: return pkx_run(x, true, sc, pos);
  case SF_TEST: return pkx_test(x, sc, pos);
  case SF_LOAD: {
    if (pko_length(x) != 2) pkx_bad(x, pos, "invalid load");
    pke_node *n = pkx_node(PKE_LOAD, pos);
    n->x = pkx_comp(pkx_nth(x, 1), sc, pos);
    return n;
  }
  case SF_DELAY: pkx_bad(x, pos, "delay is not supported");
  default:
    pkx_bad(x, pos, "invalid syntax");
  }
}

/* Compile expression x in scope sc. */
static pke_node *pkx_comp(pk_val x, pkx_scope *sc, const pk_srcpos *pos)
{
  pk_srcpos buf;
  pke_check_stack();
  if (pko_symbolp(x)) return pkx_ref(x, sc, pos);
  if (!pko_pairp(x)) {
    if (x == PK_NIL) pkx_err(x, pos, "%s", "invalid syntax: () is not an expression (quote it)");
    return pkx_const(x, pos);
  }
  pos = pkx_pos(x, pos, &buf);
  pk_srcpos *here = pko_alloc(sizeof *here); /* nodes copy it; buf is local */
  *here = pos ? *pos : (pk_srcpos){ 0 };
  pos = here;
  pk_val h = pko_car(x);
  uint32_t d, i;
  if (pko_symbolp(h) && !pkx_lookup(sc, h, &d, &i)) {
    h = pkx_base(h);
    if (pko_as_sym(h)->macro) return pkx_comp(pkx_expand(pko_as_sym(h)->macro, x, pos), sc, pos);
    int sf = (int)pko_as_sym(h)->h.aux;
    if (sf && sf < SF_ELSE) return pkx_special_form(sf, x, sc, pos);
  }
  return pkx_call(x, sc, pos);
}

/* Compile a top-level form (public to pk_prog.c). */
pke_node *pke_compile(pk_val x, const pk_srcpos *pos)
{
  return pkx_comp(x, NULL, pos);
}

/* True if x is a top-level (run ...) or (run* ...) form. */
bool pke_is_run_form(pk_val x)
{
  if (!pko_pairp(x) || !pko_symbolp(pko_car(x))) return false;
  int sf = pkx_special(NULL, pko_car(x));
  return sf == SF_RUN || sf == SF_RUNSTAR;
}

/* If x is (load "literal") at top level, the file name; else 0. */
pk_val pke_static_load(pk_val x)
{
  if (!pko_pairp(x) || pkx_special(NULL, pko_car(x)) != SF_LOAD || pko_length(x) != 2) return 0;
  pk_val f = pkx_nth(x, 1);
  return pko_stringp(f) ? f : 0;
}

/* Mark the names that top-level form x defines, so forward references and
   macro templates see them as global before compilation reaches them. */
void pke_predeclare(pk_val x)
{
  pk_val name = pkx_defname(x, NULL);
  if (name) pko_as_sym(name)->flags |= PKO_SYM_DEFINED;
  else if (pko_pairp(x) && pkx_special(NULL, pko_car(x)) == SF_BEGIN)
    for (pk_val b = pko_cdr(x); pko_pairp(b); b = pko_cdr(b)) pke_predeclare(pko_car(b));
}

/* ---- runtime -------------------------------------------------------------- */

/* A new frame of n slots, all unbound (letrec checks). */
pke_env *pke_frame(pke_env *up, uint32_t n)
{
  pke_env *e = pko_alloc(sizeof *e + n * sizeof(pk_val));
  e->h.type = PK_T_ENV;
  e->h.aux = n;
  e->up = up;
  for (uint32_t i = 0; i < n; i++) e->v[i] = PK_UNBOUND;
  return e;
}

/* Stack budget exhausted: a runtime error, not a crash. */
static _Noreturn void pke_stack_overflow(void)
{
  pko_error("stack budget exhausted (deep recursion); raise it with --stack BYTES");
}

/* This thread's recursion floor: its stack's low end plus a safety margin,
   or start minus the budget when the budget is smaller. */
static uintptr_t pke_compute_floor(void)
{
  pthread_attr_t a;
  void *addr;
  size_t size;
  char here;
  uintptr_t lo = (uintptr_t)&here - ((size_t)8 << 20);
  if (pthread_getattr_np(pthread_self(), &a) == 0) {
    if (pthread_attr_getstack(&a, &addr, &size) == 0) lo = (uintptr_t)addr + ((size_t)256 << 10);
    pthread_attr_destroy(&a);
  }
  uintptr_t cap = (uintptr_t)&here - pke_stack_budget;
  return (pke_stack_budget < (uintptr_t)&here && cap > lo) ? cap : lo;
}

/* Check the stack budget; one compare on the fast path. */
static inline void pke_check_stack(void)
{
  char probe;
  if (__builtin_expect((uintptr_t)&probe < pke_floor, 0)) {
    if (!pke_floor) { pke_floor = pke_compute_floor(); return; }
    pke_stack_overflow();
  }
}

/* Reset this thread's floor (called when a thread starts running code). */
void pke_thread_start(void) { pke_floor = pke_compute_floor(); }

bool pke_procedurep(pk_val v)
{
  pko_type t = pko_typeof(v);
  return t == PK_T_CLOSURE || t == PK_T_PRIM;
}

const char *pke_procname(pk_val f)
{
  if (pko_isa(f, PK_T_PRIM)) return ((pko_prim *)f)->name;
  if (pko_isa(f, PK_T_CLOSURE)) {
    pk_val n = ((pke_closure *)f)->lam->v;
    return n ? pko_symname(n) : NULL;
  }
  return NULL;
}

static _Noreturn void pke_arity(pk_val f, int argc)
{
  const char *name = pke_procname(f);
  pko_error("incorrect number of arguments (%d) to #<procedure%s%s>", argc, name ? " " : "", name ? name : "");
}

/* The frame for calling closure c with args: checks arity, builds rest. */
static pke_env *pke_bind(const pke_closure *c, int argc, const pk_val *argv)
{
  const pke_node *lam = c->lam;
  uint32_t req = lam->a;
  if ((uint32_t)argc < req || (!(lam->flags & 1) && (uint32_t)argc != req)) pke_arity((pk_val)c, argc);
  pke_env *e = pke_frame(c->env, lam->b);
  memcpy(e->v, argv, req * sizeof *argv);
  if (lam->flags & 1) {
    pk_val rest = PK_NIL;
    for (int i = argc; i-- > (int)req;) rest = pko_cons(argv[i], rest);
    e->v[req] = rest;
  }
  return e;
}

/* Call a primitive after checking its arity. */
static pk_val pke_callprim(pk_val f, int argc, pk_val *argv)
{
  const pko_prim *p = (const pko_prim *)f;
  if (argc < p->min || (p->max >= 0 && argc > p->max)) pke_arity(f, argc);
  return p->fn(argc, argv);
}

pk_val pke_apply(pk_val f, int argc, pk_val *argv)
{
  if (pko_isa(f, PK_T_PRIM)) return pke_callprim(f, argc, argv);
  if (!pko_isa(f, PK_T_CLOSURE)) pko_error_val("attempt to apply non-procedure", f);
  const pke_closure *c = (const pke_closure *)f;
  pke_env *e = pke_bind(c, argc, argv);
  return pke_eval(c->lam->x, e);
}

/* The frame depth levels up. */
static inline pke_env *pke_up(pke_env *e, uint32_t depth)
{
  while (depth--) e = e->up;
  return e;
}

static _Noreturn void pke_unbound_local(const pke_node *n)
{
  pko_where = &n->pos;
  pko_error("variable %s used before its definition", pko_symname(n->v));
}

/* Append a proper list a to b (for unquote-splicing). */
static pk_val pke_append2(pk_val a, pk_val b)
{
  if (pko_length(a) < 0) pko_error_val("unquote-splicing: not a proper list", a);
  pk_val r = pko_reverse(a);
  for (; pko_pairp(r); r = pko_cdr(r)) b = pko_cons(pko_car(r), b);
  return b;
}

static pk_val pke_list2vec(pk_val l)
{
  long n = pko_length(l);
  pk_val v = pko_mkvec((uint32_t)n, PK_NIL);
  for (long i = 0; i < n; i++, l = pko_cdr(l)) pko_as_vec(v)->items[i] = pko_car(l);
  return v;
}

/* (test ...) at run time: as test-check.scm. */
static pk_val pke_test(const pke_node *n, pke_env *e)
{
  pk_val title = pke_eval(n->x, e);
  pkp_buf b;
  pkp_init(&b);
  pkp_puts(&b, "Testing ", 8);
  pkp_print(&b, title, PKP_WRITE);
  pkp_putc(&b, '\n');
  fwrite(b.s, 1, b.len, pkb_output());
  b.len = 0;
  pk_val expected = pke_eval(n->z, e);
  pk_val produced = pke_eval(n->y, e);
  if (!pko_equal(expected, produced)) {
    pko_as_sym(S_test_failed)->value = PK_TRUE;
    pkp_puts(&b, "Failed: ", 8);
    pkp_print(&b, n->v, PKP_WRITE);
    pkp_puts(&b, "\nExpected: ", 11);
    pkp_print(&b, expected, PKP_WRITE);
    pkp_puts(&b, "\nComputed: ", 11);
    pkp_print(&b, produced, PKP_WRITE);
    pkp_putc(&b, '\n');
    fwrite(b.s, 1, b.len, pkb_output());
  }
  pkp_free(&b);
  return PK_VOID;
}

/* The answer count of a (run n ...) node: n evaluated in e; -1 for run*
   and for #f (faster-miniKanren's run* is (run #f ...)). */
int64_t pke_run_count(const pke_node *n, pke_env *e)
{
  if (!n->x) return -1;
  pk_val c = pke_eval(n->x, e);
  if (c == PK_FALSE) return -1;
  if (!pko_intp(c) || pko_intval(c) < 0) {
    pko_where = &n->pos;
    pko_error_val("run: count must be a non-negative integer", c);
  }
  return pko_intval(c);
}

/* Evaluate a (run ...) node to the list of its answers. */
static pk_val pke_run(const pke_node *n, pke_env *e)
{
  pks_query *q = pks_query_new(n, e, pke_run_count(n, e));
  pk_val out = PK_NIL, a;
  while (pks_query_next(q, &a)) out = pko_cons(a, out);
  return pko_reverse(out);
}

/* Leaves (constants, variables) without the evaluator's call: most
   operands are leaves, and a call of pke_eval costs a large frame.  A few
   instructions; anything else, or an unbound variable, takes the full path
   (which reports the error). */
static inline pk_val pke_leaf(const pke_node *k, pke_env *e)
{
  pk_val v;
  switch ((pke_op)k->op) {
  case PKE_CONST: return k->v;
  case PKE_LREF0: v = e->v[k->b]; break;
  case PKE_LREF1: v = e->up->v[k->b]; break;
  case PKE_GREF: v = pko_as_sym(k->v)->value; break;
  default: return pke_eval(k, e);
  }
  return v != PK_UNBOUND ? v : pke_eval(k, e);
}

/* The evaluator.  Tail positions continue the loop; the rest recurse. */
pk_val pke_eval(const pke_node *n, pke_env *e)
{
  pke_check_stack();
  for (;;) {
    switch ((pke_op)n->op) {
    case PKE_CONST: return n->v;
    case PKE_LREF0: { pk_val v = e->v[n->b]; if (v == PK_UNBOUND) pke_unbound_local(n); return v; }
    case PKE_LREF1: { pk_val v = e->up->v[n->b]; if (v == PK_UNBOUND) pke_unbound_local(n); return v; }
    case PKE_LREF: { pk_val v = pke_up(e, n->a)->v[n->b]; if (v == PK_UNBOUND) pke_unbound_local(n); return v; }
    case PKE_GREF: {
      pk_val v = pko_as_sym(n->v)->value;
      if (v == PK_UNBOUND) { pko_where = &n->pos; pko_error("variable %s is not bound", pko_symname(n->v)); }
      return v;
    }
    case PKE_LSET: pke_up(e, n->a)->v[n->b] = pke_eval(n->x, e); return PK_VOID;
    case PKE_GSET:
      if (pko_as_sym(n->v)->value == PK_UNBOUND) { pko_where = &n->pos; pko_error("set!: variable %s is not bound", pko_symname(n->v)); }
      pko_as_sym(n->v)->value = pke_eval(n->x, e);
      return PK_VOID;
    case PKE_GDEF: pko_as_sym(n->v)->value = pke_eval(n->x, e); return PK_VOID;
    case PKE_IF: n = pko_truthy(pke_leaf(n->x, e)) ? n->y : n->z; continue;
    case PKE_SEQ:
      for (int i = 0; i < n->n - 1; i++) pke_eval(n->kids[i], e);
      n = n->kids[n->n - 1];
      continue;
    case PKE_AND: case PKE_OR: {
      bool isand = n->op == PKE_AND;
      int i = 0;
      for (; i < n->n - 1; i++) {
        pk_val v = pke_eval(n->kids[i], e);
        if (pko_truthy(v) != isand) return v;
      }
      n = n->kids[i];
      continue;
    }
    case PKE_LAMBDA: {
      pke_closure *c = (pke_closure *)pko_obj(PK_T_CLOSURE, sizeof *c);
      c->lam = n;
      c->env = e;
      return (pk_val)c;
    }
    case PKE_LET: case PKE_LETREC: {
      pke_env *f = pke_frame(e, n->b);
      pke_env *ie = n->op == PKE_LET ? e : f;
      for (int i = 0; i < n->n; i++) f->v[i] = pke_eval(n->kids[i], ie);
      e = f;
      n = n->x;
      continue;
    }
    case PKE_CALL: {
      pk_val f = pke_leaf(n->x, e);
      int argc = n->n;
      pk_val argv[argc > 0 ? argc : 1];
      for (int i = 0; i < argc; i++) argv[i] = pke_leaf(n->kids[i], e);
      pko_where = &n->pos;
      if (pko_isa(f, PK_T_CLOSURE)) {
        const pke_closure *c = (const pke_closure *)f;
        e = pke_bind(c, argc, argv);
        n = c->lam->x;
        pko_poll();
        continue;
      }
      if (pko_isa(f, PK_T_PRIM)) return pke_callprim(f, argc, argv);
      pko_error_val("attempt to apply non-procedure", f);
    }
    case PKE_CONS: {
      pk_val a = pke_leaf(n->x, e);
      return pko_cons(a, pke_leaf(n->y, e));
    }
    case PKE_APPEND: {
      pk_val a = pke_eval(n->x, e);
      pko_where = &n->pos;
      return pke_append2(a, pke_eval(n->y, e));
    }
    case PKE_LIST2VEC: return pke_list2vec(pke_eval(n->x, e));
    case PKE_FRESH: case PKE_CONDE: case PKE_CONDA: case PKE_CONDU: case PKE_PROJECT:
      return pks_node_goal(n, e);
    case PKE_RUN: return pke_run(n, e);
    case PKE_TEST: return pke_test(n, e);
    case PKE_LOAD: {
      pk_val f = pke_eval(n->x, e);
      pko_where = &n->pos;
      if (!pko_stringp(f)) pko_error_val("load: not a string", f);
      if (!pke_load) pko_error("load: no loader");
      pke_load(f, &n->pos);
      return PK_VOID;
    }
    }
    pko_error("internal error: bad node");
  }
}

/* ---- init ------------------------------------------------------------------- */

static void pke_special(const char *name, int code)
{
  pko_as_sym(pko_sym(name))->h.aux = (uint32_t)code;
}

/* Register the special forms and the evaluator's globals. */
void pke_init(void)
{
  pkp_procname = pke_procname;
  static const struct { const char *name; int code; } forms[] = {
    { "quote", SF_QUOTE }, { "quasiquote", SF_QUASIQUOTE }, { "unquote", SF_UNQUOTE },
    { "unquote-splicing", SF_UNQUOTE_SPLICING }, { "lambda", SF_LAMBDA }, { "define", SF_DEFINE },
    { "set!", SF_SET }, { "if", SF_IF }, { "cond", SF_COND }, { "case", SF_CASE },
    { "when", SF_WHEN }, { "unless", SF_UNLESS }, { "and", SF_AND }, { "or", SF_OR },
    { "begin", SF_BEGIN }, { "let", SF_LET }, { "let*", SF_LETSTAR }, { "letrec", SF_LETREC },
    { "letrec*", SF_LETRECSTAR }, { "define-syntax", SF_DEFSYNTAX }, { "fresh", SF_FRESH },
    { "conde", SF_CONDE }, { "conda", SF_CONDA }, { "condu", SF_CONDU }, { "project", SF_PROJECT },
    { "run", SF_RUN }, { "run*", SF_RUNSTAR }, { "defrel", SF_DEFREL }, { "test", SF_TEST },
    { "load", SF_LOAD }, { "do", SF_DO }, { "delay", SF_DELAY }, { "else", SF_ELSE }, { "=>", SF_ARROW },
    { "...", SF_ELLIPSIS }, { "_", SF_UNDERSCORE }, { "syntax-rules", SF_SYNTAX_RULES },
  };
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) pke_special(forms[i].name, forms[i].code);
  S_quote = pko_sym("quote");
  S_quasiquote = pko_sym("quasiquote");
  S_unquote = pko_sym("unquote");
  S_unquote_splicing = pko_sym("unquote-splicing");
  S_ellipsis = pko_sym("...");
  S_underscore = pko_sym("_");
  S_define = pko_sym("define");
  S_begin = pko_sym("begin");
  S_lambda = pko_sym("lambda");
  S_test_failed = pko_sym("test-failed");
  pko_as_sym(S_test_failed)->value = PK_FALSE;
  pko_as_sym(S_test_failed)->flags |= PKO_SYM_DEFINED;
}
