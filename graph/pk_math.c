/*
** pk_math.c — a model in mathematical notation (see pk_math.h).
**
** One iterative depth-first walk over the outputs counts the uses of every
** compound node and tensor and records the order in which they finish;
** names follow from the model's defines, the random variables' NAME
** strings and the use counts; then each line's expression is written by a
** small stack machine whose tasks are either a node or a piece of
** literal text, so deep terms need no recursion.
*/
#include "pk_math.h"
#include "pk_graph.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- symbols -------------------------------------------------------------------- */

enum {
  PKMATH_S_INPUT,
  PKMATH_S_DEFINE,
  PKMATH_S_OBSERVED,
  PKMATH_S_TENSOR,
  PKMATH_S_I64,
  PKMATH_S_BOOL,
  PKMATH_S_ADD,
  PKMATH_S_SUB,
  PKMATH_S_MUL,
  PKMATH_S_DOT,
  PKMATH_S_DIV,
  PKMATH_S_POW,
  PKMATH_S_NEG,
  PKMATH_S_TRANSPOSE,
  PKMATH_S_INDEX,
  PKMATH_S_INV,
  PKMATH_S_SQR,
  PKMATH_S_SQRT,
  PKMATH_S_EXP,
  PKMATH_S_LOG,
  PKMATH_NSYMS
};
static pk_val pkmath_syms[PKMATH_NSYMS];

/* The random variables' print names (text, LaTeX) and the set their
   values lie in ('R', 'Z' or 'B' for {0,1}; lower case: multivariate). */
static const struct {
  const char *op, *text, *latex;
  char set;
} pkmath_rvs[] = {
  { "NormalRV", "N", "\\operatorname{N}", 'R' },
  { "HalfNormalRV", "N**+", "\\operatorname{N^{+}}", 'R' },
  { "MvNormalRV", "N", "\\operatorname{N}", 'r' },
  { "CauchyRV", "C", "\\operatorname{C}", 'R' },
  { "HalfCauchyRV", "C**+", "\\operatorname{C^{+}}", 'R' },
  { "StudentTRV", "StudentT", "\\operatorname{StudentT}", 'R' },
  { "LaplaceRV", "Laplace", "\\operatorname{Laplace}", 'R' },
  { "LogisticRV", "Logistic", "\\operatorname{Logistic}", 'R' },
  { "GammaRV", "Gamma", "\\operatorname{Gamma}", 'R' },
  { "InvGammaRV", "InvGamma", "\\operatorname{Gamma^{-1}}", 'R' },
  { "ExponentialRV", "Exp", "\\operatorname{Exp}", 'R' },
  { "BetaRV", "Beta", "\\operatorname{Beta}", 'R' },
  { "BinomialRV", "Binom", "\\operatorname{Binom}", 'Z' },
  { "NegBinomialRV", "NB", "\\operatorname{NB}", 'Z' },
  { "PoissonRV", "Pois", "\\operatorname{Pois}", 'Z' },
  { "BernoulliRV", "Bern", "\\operatorname{Bern}", 'B' },
  { "UniformRV", "U", "\\operatorname{U}", 'R' },
  { "DirichletRV", "Dir", "\\operatorname{Dir}", 'r' },
  { "CategoricalRV", "Cat", "\\operatorname{Cat}", 'Z' },
  { "MultinomialRV", "MN", "\\operatorname{MN}", 'z' },
};
#define PKMATH_NRVS (sizeof pkmath_rvs / sizeof pkmath_rvs[0])
static pk_val pkmath_rvsyms[PKMATH_NRVS];

static void pkmath_syms_once(void)
{
  static const char *names[PKMATH_NSYMS] = { "input",          "define", "observed", "tensor",    "int64",
                                             "bool",           "add",    "sub",      "mul",       "dot",
                                             "true_div",       "pow",    "neg",      "transpose", "index",
                                             "matrix_inverse", "sqr",    "sqrt",     "exp",       "log" };
  for (int k = 0; k < PKMATH_NSYMS; k++) pkmath_syms[k] = pko_sym(names[k]);
  for (size_t k = 0; k < PKMATH_NRVS; k++) pkmath_rvsyms[k] = pko_sym(pkmath_rvs[k].op);
}

/* Index of a random variable's operator in pkmath_rvs, or -1. */
static int pkmath_rv(pk_val op)
{
  if (pkg_rv_params(op) < 0) return -1;
  for (size_t k = 0; k < PKMATH_NRVS; k++)
    if (pkmath_rvsyms[k] == op) return (int)k;
  return -1;
}

/* A random variable term?  Its index, else -1. */
static int pkmath_rvterm(pk_val t) { return pko_pairp(t) ? pkmath_rv(pko_car(t)) : -1; }

/* ---- a map from values (by identity) to records --------------------------------- */

enum { PKMATH_LINE = 1, PKMATH_MERGED = 2 }; /* flags of a node */

typedef struct pkmath_ent {
  int32_t uses, flags;
  int32_t name, nlen; /* the name's text in the names arena; nlen 0: none */
  pk_val obs;         /* an RV: the observed node printed on its line */
} pkmath_ent;

typedef struct pkmath_map {
  pk_val *keys;
  pkmath_ent *ents;
  size_t cap, n;
} pkmath_map;

static void *pkmath_calloc(size_t n, size_t size)
{
  void *p = calloc(n, size);
  if (!p) pko_oom();
  return p;
}

static void pkmath_map_init(pkmath_map *m, size_t cap)
{
  m->keys = pkmath_calloc(cap, sizeof *m->keys);
  m->ents = pkmath_calloc(cap, sizeof *m->ents);
  m->cap = cap;
  m->n = 0;
}

static void pkmath_map_free(pkmath_map *m)
{
  free(m->keys);
  free(m->ents);
}

static size_t pkmath_slot(pk_val k, size_t cap)
{
  return (size_t)(((uint64_t)k >> 3) * 0x9E3779B97F4A7C15ull >> 17) & (cap - 1);
}

/* The record of k, or NULL. */
static pkmath_ent *pkmath_get(const pkmath_map *m, pk_val k)
{
  for (size_t i = pkmath_slot(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == k) return &m->ents[i];
    if (!m->keys[i]) return NULL;
  }
}

/* The record of k, added zeroed when absent (*fresh says which); doubles
   at half load. */
static pkmath_ent *pkmath_put(pkmath_map *m, pk_val k, bool *fresh)
{
  if (2 * (m->n + 1) > m->cap) {
    pkmath_map old = *m;
    pkmath_map_init(m, old.cap * 2);
    for (size_t j = 0; j < old.cap; j++) {
      if (!old.keys[j]) continue;
      size_t i = pkmath_slot(old.keys[j], m->cap);
      while (m->keys[i]) i = (i + 1) & (m->cap - 1);
      m->keys[i] = old.keys[j];
      m->ents[i] = old.ents[j];
    }
    m->n = old.n;
    pkmath_map_free(&old);
  }
  size_t i = pkmath_slot(k, m->cap);
  while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
  *fresh = !m->keys[i];
  if (*fresh) {
    m->keys[i] = k;
    m->n++;
  }
  return &m->ents[i];
}

/* ---- state ------------------------------------------------------------------------ */

typedef struct pkmath_vec {
  pk_val *v;
  size_t n, cap;
} pkmath_vec;

static void pkmath_push(pkmath_vec *a, pk_val x)
{
  if (a->n == a->cap) {
    a->cap = a->cap ? a->cap * 2 : 64;
    a->v = realloc(a->v, a->cap * sizeof *a->v);
    if (!a->v) pko_oom();
  }
  a->v[a->n++] = x;
}

typedef struct pkmath {
  pkp_buf *b;
  bool latex, first; /* first: no line written yet (LaTeX separators) */
  pkmath_map nodes;  /* compound nodes and tensors of the outputs */
  pkmath_map taken;  /* symbols that name something in the model */
  pkmath_vec order;  /* nodes as the walk finishes them */
  pkp_buf names;     /* the names' text, as the mode writes them */
  unsigned fresh;    /* the next fresh name to try */
} pkmath;

/* Nodes: what the walk records and a name may stand for. */
static bool pkmath_nodep(pk_val v) { return pko_pairp(v) || pko_isa(v, PK_T_TENSOR); }

/* Take the name s[0..n) as used. */
static void pkmath_take(pkmath *st, const char *s, size_t n)
{
  bool fresh;
  pkmath_put(&st->taken, pko_intern(s, n), &fresh);
}

/* ---- LaTeX names ------------------------------------------------------------------- */

static const char *const pkmath_greek[] = { "alpha", "beta",  "gamma",   "delta",  "epsilon", "zeta",   "eta",
                                            "theta", "iota",  "kappa",   "lambda", "mu",      "nu",     "xi",
                                            "pi",    "rho",   "sigma",   "tau",    "upsilon", "phi",    "chi",
                                            "psi",   "omega", "Gamma",   "Delta",  "Theta",   "Lambda", "Xi",
                                            "Pi",    "Sigma", "Upsilon", "Phi",    "Psi",     "Omega" };

/* s[0..n) is a Greek letter's name? */
static bool pkmath_greekp(const char *s, size_t n)
{
  for (size_t k = 0; k < sizeof pkmath_greek / sizeof pkmath_greek[0]; k++)
    if (strlen(pkmath_greek[k]) == n && !memcmp(pkmath_greek[k], s, n)) return true;
  return false;
}

/* s[0..n) with LaTeX's special characters escaped (math mode). */
static void pkmath_escape(pkp_buf *b, const char *s, size_t n)
{
  for (size_t k = 0; k < n; k++) {
    char c = s[k];
    if (strchr("_#$%&{}", c) && c) {
      pkp_putc(b, '\\');
      pkp_putc(b, c);
    } else if (c == '~')
      pkp_printf(b, "\\sim{}");
    else if (c == '^')
      pkp_printf(b, "\\wedge{}");
    else if (c == '\\')
      pkp_printf(b, "\\backslash{}");
    else
      pkp_putc(b, c);
  }
}

static bool pkmath_letter(char c) { return ((unsigned)c | 0x20) - 'a' < 26u; }

/* A base of a subscripted name: one letter or a Greek letter's name. */
static void pkmath_base(pkp_buf *b, const char *s, size_t n)
{
  if (n > 1) pkp_putc(b, '\\');
  pkp_puts(b, s, n);
}

/* s[0..n) as a LaTeX name: digits as they are, Greek letters as their
   macros, a one-letter or Greek base followed by _REST or digits as a
   subscript, the rest in \mathit{} escaped. */
static void pkmath_latex_name(pkp_buf *b, const char *s, size_t n)
{
  size_t base = 0;
  while (base < n && pkmath_letter(s[base])) base++;
  bool based = base > 0 && (base == 1 || pkmath_greekp(s, base));
  if (based && base == n) {
    pkmath_base(b, s, n);
    return;
  }
  size_t digits = base;
  while (digits < n && (unsigned)s[digits] - '0' < 10u) digits++;
  if (base == 0 && digits == n) {
    pkp_puts(b, s, n);
    return;
  }
  if (based && digits == n) {
    pkmath_base(b, s, base);
    pkp_printf(b, "_{%.*s}", (int)(n - base), s + base);
    return;
  }
  if (based && s[base] == '_' && base + 1 < n) {
    pkmath_base(b, s, base);
    pkp_puts(b, "_{", 2);
    pkmath_latex_name(b, s + base + 1, n - base - 1);
    pkp_putc(b, '}');
    return;
  }
  pkp_puts(b, "\\mathit{", 8);
  pkmath_escape(b, s, n);
  pkp_putc(b, '}');
}

/* A name (symbol or string) as the mode writes it. */
static void pkmath_name_out(pkmath *st, pkp_buf *b, const char *s)
{
  if (st->latex)
    pkmath_latex_name(b, s, strlen(s));
  else
    pkp_puts(b, s, strlen(s));
}

/* Element i of list t (0 the head), or PK_NIL past its end. */
static pk_val pkmath_nth(pk_val t, long i)
{
  for (; i > 0 && pko_pairp(t); i--) t = pko_cdr(t);
  return pko_pairp(t) ? pko_car(t) : PK_NIL;
}

/* A random variable's SIZE (the element after its parameters). */
static pk_val pkmath_rvsize(pk_val t) { return pkmath_nth(t, pkg_rv_params(pko_car(t)) + 1); }

/* A random variable's NAME when it is a non-empty string, else NULL. */
static const char *pkmath_rvname(pk_val t)
{
  if (pkmath_rvterm(t) < 0) return NULL;
  pk_val s = pkmath_nth(t, pkg_rv_params(pko_car(t)) + 3);
  return pko_stringp(s) && pko_as_str(s)->len ? pko_as_str(s)->s : NULL;
}

/* ---- the walk ---------------------------------------------------------------------- */

/* The children of node t as [*from, *to) element indices of its list:
   a random variable's parameters, observed's two arguments, else every
   element (a compound head too).  An improper tail is not walked. */
static void pkmath_span(pk_val t, long *from, long *to)
{
  int k = pkmath_rvterm(t);
  *from = 0;
  *to = -1;
  if (k >= 0) {
    *from = 1;
    *to = 1 + pkg_rv_params(pko_car(t));
  } else if (pko_car(t) == pkmath_syms[PKMATH_S_OBSERVED])
    *from = 1;
}

/* One use of element e: its symbols taken; true when e is a compound node
   seen for the first time (to descend). */
static bool pkmath_visit(pkmath *st, pk_val e)
{
  bool fresh;
  if (pko_symbolp(e)) {
    pkmath_put(&st->taken, e, &fresh);
    return false;
  }
  if (!pkmath_nodep(e)) return false;
  pkmath_ent *n = pkmath_put(&st->nodes, e, &fresh);
  n->uses++;
  if (!fresh) return false;
  if (pko_pairp(e)) return true;
  pkmath_push(&st->order, e);
  return false;
}

/* Depth-first, left to right over the outputs: uses and finishing order of
   every node, the symbols and NAME strings used.  Frames: (node, rest of
   its list, index of the next element, the span of its children). */
static void pkmath_walk(pkmath *st, pk_val outs)
{
  typedef struct {
    pk_val node, rest;
    long idx, from, to;
  } fr;
  size_t n = 0, cap = 64;
  fr *stk = malloc(cap * sizeof *stk);
  if (!stk) pko_oom();
  for (; pko_pairp(outs); outs = pko_cdr(outs)) {
    pk_val e = pko_car(outs);
    for (bool go = pkmath_visit(st, e); go; go = false) {
      stk[n] = (fr){ e, e, 0, 0, 0 };
      pkmath_span(e, &stk[n].from, &stk[n].to);
      n++;
      while (n) {
        fr *f = &stk[n - 1];
        if (!pko_pairp(f->rest) || (f->to >= 0 && f->idx >= f->to)) {
          const char *name = pkmath_rvname(f->node);
          if (name) pkmath_take(st, name, strlen(name));
          pkmath_push(&st->order, f->node);
          n--;
          continue;
        }
        pk_val c = pko_car(f->rest);
        long idx = f->idx++;
        f->rest = pko_cdr(f->rest);
        if (idx < f->from || !pkmath_visit(st, c)) continue;
        if (n == cap) {
          cap *= 2;
          stk = realloc(stk, cap * sizeof *stk);
          if (!stk) pko_oom();
        }
        stk[n] = (fr){ c, c, 0, 0, 0 };
        pkmath_span(c, &stk[n].from, &stk[n].to);
        n++;
      }
    }
  }
  free(stk);
}

/* ---- names ------------------------------------------------------------------------- */

/* Give node e the name s (written as the mode writes names). */
static void pkmath_name(pkmath *st, pkmath_ent *e, const char *s)
{
  e->name = (int32_t)st->names.len;
  pkmath_name_out(st, &st->names, s);
  e->nlen = (int32_t)st->names.len - e->name;
}

/* Name e with the first name not taken: a..z, A..Z, then _1, _2, ... */
static void pkmath_fresh(pkmath *st, pkmath_ent *e)
{
  for (;;) {
    char buf[24];
    unsigned k = st->fresh++;
    if (k < 52)
      snprintf(buf, sizeof buf, "%c", k < 26 ? 'a' + k : 'A' + k - 26);
    else
      snprintf(buf, sizeof buf, "_%u", k - 51);
    if (pkmath_get(&st->taken, pko_intern(buf, strlen(buf)))) continue;
    pkmath_take(st, buf, strlen(buf));
    pkmath_name(st, e, buf);
    return;
  }
}

/* The names given by the model: inputs and defines are taken, a define
   names its node (a random variable by its NAME string when it has one). */
static void pkmath_given(pkmath *st, pk_val m)
{
  for (pk_val r = pko_cdr(pko_cdr(m)); pko_pairp(r); r = pko_cdr(r)) {
    pk_val d = pko_car(r), h = pko_car(d);
    bool fresh;
    if (h == pkmath_syms[PKMATH_S_INPUT]) pkmath_put(&st->taken, pkmath_nth(d, 1), &fresh);
    if (h != pkmath_syms[PKMATH_S_DEFINE]) continue;
    pk_val node = pkmath_nth(d, 2);
    const char *name = pko_symname(pkmath_nth(d, 1));
    pkmath_put(&st->taken, pkmath_nth(d, 1), &fresh);
    pkmath_ent *e = pkmath_nodep(node) ? pkmath_get(&st->nodes, node) : NULL;
    if (!e || e->nlen) continue;
    const char *rv = pkmath_rvname(node);
    pkmath_name(st, e, rv ? rv : name);
    e->flags |= PKMATH_LINE;
  }
}

/* The lines: every random variable (named by NAME or afresh), every
   compound node used twice (named afresh), every observed node but one
   whose value is a leaf, which joins its random variable's line. */
static void pkmath_lines(pkmath *st)
{
  for (size_t k = 0; k < st->order.n; k++) {
    pk_val t = st->order.v[k];
    pkmath_ent *e = pkmath_get(&st->nodes, t);
    if (pkmath_rvterm(t) >= 0) {
      e->flags |= PKMATH_LINE;
      const char *rv = pkmath_rvname(t);
      if (e->nlen) continue;
      if (rv)
        pkmath_name(st, e, rv);
      else
        pkmath_fresh(st, e);
    } else if (pko_pairp(t) && pko_car(t) == pkmath_syms[PKMATH_S_OBSERVED]) {
      pk_val v = pkmath_nth(t, 1), x = pkmath_nth(t, 2);
      pkmath_ent *xe = pkmath_rvterm(x) >= 0 ? pkmath_get(&st->nodes, x) : NULL;
      if (xe && !xe->obs && !pko_pairp(v)) {
        xe->obs = t;
        e->flags |= PKMATH_MERGED;
      } else
        e->flags |= PKMATH_LINE;
    } else if (pko_pairp(t) && e->uses > 1 && !e->nlen) {
      pkmath_fresh(st, e);
      e->flags |= PKMATH_LINE;
    }
  }
}

/* ---- expressions ------------------------------------------------------------------- */

/* An operator's notation: pre ARG0 first ARG1 sep ARG2 ... post, for
   min..max arguments (max -1: any). */
typedef struct pkmath_op {
  int sym, min, max;
  const char *pre, *first, *sep, *post;
} pkmath_op;

static const pkmath_op pkmath_text_ops[] = {
  { PKMATH_S_ADD, 2, -1, "(", " + ", " + ", ")" }, { PKMATH_S_MUL, 2, -1, "(", " * ", " * ", ")" },
  { PKMATH_S_SUB, 2, 2, "(", " - ", "", ")" },     { PKMATH_S_DOT, 2, 2, "(", " * ", "", ")" },
  { PKMATH_S_DIV, 2, 2, "(", " / ", "", ")" },     { PKMATH_S_POW, 2, 2, "(", " ** ", "", ")" },
  { PKMATH_S_NEG, 1, 1, "(-", "", "", ")" },       { PKMATH_S_TRANSPOSE, 1, 1, "", "", "", ".T" },
  { PKMATH_S_INDEX, 2, -1, "", "[", ", ", "]" },
};
static const pkmath_op pkmath_latex_ops[] = {
  { PKMATH_S_ADD, 2, -1, "(", " + ", " + ", ")" },  { PKMATH_S_MUL, 2, -1, "(", " \\odot ", " \\odot ", ")" },
  { PKMATH_S_SUB, 2, 2, "(", " - ", "", ")" },      { PKMATH_S_DOT, 2, 2, "(", " \\; ", "", ")" },
  { PKMATH_S_DIV, 2, 2, "\\frac{", "}{", "", "}" }, { PKMATH_S_POW, 2, 2, "{", "}^{", "", "}" },
  { PKMATH_S_NEG, 1, 1, "(-", "", "", ")" },        { PKMATH_S_TRANSPOSE, 1, 1, "{", "", "", "}^{\\top}" },
  { PKMATH_S_INDEX, 2, -1, "", "[", ", ", "]" },    { PKMATH_S_INV, 1, 1, "{", "", "", "}^{-1}" },
  { PKMATH_S_SQR, 1, 1, "{", "", "", "}^{2}" },     { PKMATH_S_SQRT, 1, 1, "\\sqrt{", "", "", "}" },
  { PKMATH_S_EXP, 1, 1, "\\exp(", "", "", ")" },    { PKMATH_S_LOG, 1, 1, "\\log(", "", "", ")" },
};

/* The notation of head h applied to n arguments, or NULL (a call). */
static const pkmath_op *pkmath_op_of(const pkmath *st, pk_val h, long n)
{
  const pkmath_op *ops = st->latex ? pkmath_latex_ops : pkmath_text_ops;
  size_t count = st->latex ? sizeof pkmath_latex_ops / sizeof *ops : sizeof pkmath_text_ops / sizeof *ops;
  for (size_t k = 0; k < count; k++)
    if (pkmath_syms[ops[k].sym] == h && n >= ops[k].min && (ops[k].max < 0 || n <= ops[k].max)) return &ops[k];
  return NULL;
}

/* The expression machine's work: a node to write (by its name if it has
   one, unless expand), or literal text. */
typedef struct pkmath_task {
  pk_val v;
  const char *lit;
  bool expand;
} pkmath_task;

typedef struct pkmath_tasks {
  pkmath_task *t;
  size_t n, cap;
} pkmath_tasks;

static void pkmath_task_push(pkmath_tasks *q, pk_val v, const char *lit, bool expand)
{
  if (lit && !*lit) return;
  if (q->n == q->cap) {
    q->cap = q->cap ? q->cap * 2 : 64;
    q->t = realloc(q->t, q->cap * sizeof *q->t);
    if (!q->t) pko_oom();
  }
  q->t[q->n++] = (pkmath_task){ v, lit, expand };
}

/* A number, string or other atom: numbers as write prints them, the rest
   written (in \mathtt{} escaped for LaTeX). */
static void pkmath_atom(pkmath *st, pk_val v)
{
  if (v == PK_NIL) {
    pkp_puts(st->b, "()", 2);
  } else if (pko_numberp(v) || !st->latex) {
    pkp_print(st->b, v, PKP_WRITE);
  } else {
    char *s = pkp_tostring(v, PKP_WRITE);
    pkp_puts(st->b, "\\mathtt{", 8);
    pkmath_escape(st->b, s, strlen(s));
    pkp_putc(st->b, '}');
    free(s);
  }
}

/* Element k of tensor t as write prints a number. */
static void pkmath_elem(pkp_buf *b, const pko_tensor *t, uint64_t k)
{
  char buf[40];
  if (t->h.aux == PKO_TENSOR_I64)
    snprintf(buf, sizeof buf, "%lld", (long long)pko_tensor_i64(t)[k]);
  else
    pkp_flonum(buf, pko_tensor_f64(t)[k]);
  pkp_puts(b, buf, strlen(buf));
}

/* A tensor literal: rows nested in brackets, or for LaTeX a vector or
   matrix as a bmatrix (higher ranks nested in brackets there too). */
static void pkmath_tensor(pkmath *st, pk_val v)
{
  const pko_tensor *t = pko_as_tensor(v);
  pkp_buf *b = st->b;
  if (st->latex && t->rank <= 2 && t->count) {
    uint64_t cols = t->dims[t->rank - 1];
    pkp_puts(b, "\\begin{bmatrix}", 15);
    for (uint64_t k = 0; k < t->count; k++) {
      if (k) pkp_puts(b, k % cols ? " & " : " \\\\ ", k % cols ? 3 : 4);
      pkmath_elem(b, t, k);
    }
    pkp_puts(b, "\\end{bmatrix}", 13);
    return;
  }
  if (!t->count) {
    for (uint32_t d = 0; d < t->rank; d++) pkp_putc(b, '[');
    for (uint32_t d = 0; d < t->rank; d++) pkp_putc(b, ']');
    return;
  }
  for (uint64_t k = 0; k < t->count; k++) {
    uint64_t p = 1;
    if (k) pkp_puts(b, ", ", 2);
    for (uint32_t d = t->rank; d-- > 0 && k % (p *= (uint64_t)t->dims[d]) == 0;) pkp_putc(b, '[');
    pkmath_elem(b, t, k);
    p = 1;
    for (uint32_t d = t->rank; d-- > 0 && (k + 1) % (p *= (uint64_t)t->dims[d]) == 0;) pkp_putc(b, ']');
  }
}

/* Reverse the tasks from index from: pieces are pushed in reading order. */
static void pkmath_reverse(pkmath_tasks *q, size_t from)
{
  for (size_t i = from, j = q->n; i + 1 < j; i++, j--) {
    pkmath_task x = q->t[i];
    q->t[i] = q->t[j - 1];
    q->t[j - 1] = x;
  }
}

/* Compound t: its first piece written, the rest pushed.  An observed node
   stands for its random variable; an improper list is written as is. */
static void pkmath_apply(pkmath *st, pkmath_tasks *q, pk_val t)
{
  pk_val h = pko_car(t), a = pko_cdr(t);
  long n = pko_length(a);
  if (n < 0) {
    pkmath_atom(st, t);
    return;
  }
  if (h == pkmath_syms[PKMATH_S_OBSERVED] && n == 2) {
    pkmath_task_push(q, pkmath_nth(a, 1), NULL, false);
    return;
  }
  const pkmath_op *op = pkmath_op_of(st, h, n);
  size_t from = q->n;
  const char *first = ", ", *sep = ", ", *post = ")";
  if (op) {
    pkp_puts(st->b, op->pre, strlen(op->pre));
    first = op->first;
    sep = op->sep;
    post = op->post;
  } else if (pko_symbolp(h) && st->latex) {
    pkp_puts(st->b, "\\operatorname{", 14);
    pkmath_escape(st->b, pko_symname(h), pko_as_sym(h)->len);
    pkp_puts(st->b, "}(", 2);
  } else if (pko_symbolp(h)) {
    pkp_puts(st->b, pko_symname(h), pko_as_sym(h)->len);
    pkp_putc(st->b, '(');
  } else {
    pkmath_task_push(q, h, NULL, false);
    pkmath_task_push(q, 0, "(", false);
  }
  for (long k = 0; k < n; k++, a = pko_cdr(a)) {
    if (k) pkmath_task_push(q, 0, k == 1 ? first : sep, false);
    pkmath_task_push(q, pko_car(a), NULL, false);
  }
  pkmath_task_push(q, 0, post, false);
  pkmath_reverse(q, from);
}

/* Write v: a named node by its name unless expand (a line's own node). */
static void pkmath_expr(pkmath *st, pk_val v, bool expand)
{
  pkmath_tasks q = { 0 };
  pkmath_task_push(&q, v, NULL, expand);
  while (q.n) {
    pkmath_task x = q.t[--q.n];
    if (x.lit) {
      pkp_puts(st->b, x.lit, strlen(x.lit));
      continue;
    }
    const pkmath_ent *e = !x.expand && pkmath_nodep(x.v) ? pkmath_get(&st->nodes, x.v) : NULL;
    if (e && e->nlen)
      pkp_puts(st->b, st->names.s + e->name, (size_t)e->nlen);
    else if (pko_pairp(x.v))
      pkmath_apply(st, &q, x.v);
    else if (pko_isa(x.v, PK_T_TENSOR))
      pkmath_tensor(st, x.v);
    else if (pko_symbolp(x.v))
      pkmath_name_out(st, st->b, pko_symname(x.v));
    else
      pkmath_atom(st, x.v);
  }
  free(q.t);
}

/* ---- lines ---------------------------------------------------------------------------- */

/* Start a line (LaTeX: the separator after the one before). */
static void pkmath_line(pkmath *st)
{
  if (st->latex && !st->first) pkp_puts(st->b, " \\\\\n", 4);
  pkp_puts(st->b, "  ", 2);
  st->first = false;
}

static void pkmath_eol(pkmath *st)
{
  if (!st->latex) pkp_putc(st->b, '\n');
}

static void pkmath_lit(pkmath *st, const char *text, const char *latex)
{
  const char *s = st->latex ? latex : text;
  pkp_puts(st->b, s, strlen(s));
}

/* Dimensions of a shape: "85", "(2 x N)" (parens when two or more and
   asked), or for LaTeX "2 \times N". */
static void pkmath_dims(pkmath *st, pk_val shape, bool parens)
{
  long n = pko_length(shape);
  parens = parens && n > 1 && !st->latex;
  if (parens) pkp_putc(st->b, '(');
  for (long k = 0; k < n; k++, shape = pko_cdr(shape)) {
    if (k) pkmath_lit(st, " x ", " \\times ");
    pkmath_expr(st, pko_car(shape), false);
  }
  if (parens) pkp_putc(st->b, ')');
}

/* The set of values of a shape: R, R^2, R^(2 x 2), Z, {0,1}^3 ... */
static void pkmath_space(pkmath *st, char set, pk_val shape)
{
  if (set == 'Z')
    pkmath_lit(st, "Z", "\\mathbb{Z}");
  else if (set == 'B')
    pkmath_lit(st, "{0,1}", "\\{0, 1\\}");
  else
    pkmath_lit(st, "R", "\\mathbb{R}");
  if (pko_length(shape) <= 0) return;
  pkmath_lit(st, "^", "^{");
  pkmath_dims(st, shape, true);
  pkmath_lit(st, "", "}");
}

/* The name of node t (it has one). */
static void pkmath_named(pkmath *st, pk_val t)
{
  const pkmath_ent *e = pkmath_get(&st->nodes, t);
  pkp_puts(st->b, st->names.s + e->name, (size_t)e->nlen);
}

/* (input NAME (tensor DTYPE SHAPE) [VALUE]): "NAME in SPACE", and with
   values "NAME = VALUE" after it. */
static void pkmath_input(pkmath *st, pk_val d, bool values)
{
  pk_val name = pkmath_nth(d, 1), ty = pkmath_nth(d, 2), dt = pkmath_nth(ty, 1);
  char set = dt == pkmath_syms[PKMATH_S_I64] ? 'Z' : dt == pkmath_syms[PKMATH_S_BOOL] ? 'B' : 'R';
  pkmath_line(st);
  pkmath_name_out(st, st->b, pko_symname(name));
  pkmath_lit(st, " in ", " &\\in ");
  pkmath_space(st, set, pkmath_nth(ty, 2));
  pkmath_eol(st);
  if (!values || pko_length(d) != 4) return;
  pkmath_line(st);
  pkmath_name_out(st, st->b, pko_symname(name));
  pkmath_lit(st, " = ", " &= ");
  pkmath_expr(st, pkmath_nth(d, 3), true);
  pkmath_eol(st);
}

/* A random variable's line: NAME ~ D(PARAMS) [in SPACE | with size
   SIZE] [= OBSERVED]. */
static void pkmath_rvline(pkmath *st, pk_val t, const pkmath_ent *e)
{
  int k = pkmath_rvterm(t);
  pkmath_line(st);
  pkmath_named(st, t);
  pkmath_lit(st, " ~ ", " &\\sim ");
  pkmath_lit(st, pkmath_rvs[k].text, pkmath_rvs[k].latex);
  pkp_putc(st->b, '(');
  long n = pkg_rv_params(pko_car(t));
  for (long i = 1; i <= n; i++) {
    bool sq = i == 2 && pko_car(t) == pkmath_rvsyms[0];
    if (i > 1) pkp_puts(st->b, ", ", 2);
    if (sq) pkmath_lit(st, "", "{");
    pkmath_expr(st, pkmath_nth(t, i), false);
    if (sq) pkmath_lit(st, "**2", "}^{2}");
  }
  pkp_putc(st->b, ')');
  pk_val size = pkmath_rvsize(t);
  char set = pkmath_rvs[k].set;
  if (pko_length(size) > 0 && set >= 'A' && set <= 'Z') {
    pkmath_lit(st, " in ", " \\in ");
    pkmath_space(st, set, size);
  } else if (pko_length(size) > 0) {
    pkmath_lit(st, " with size ", " \\text{ with size } ");
    pkmath_dims(st, size, true);
  }
  if (e->obs) {
    pkmath_lit(st, " = ", " = ");
    pkmath_expr(st, pkmath_nth(e->obs, 1), false);
  }
  pkmath_eol(st);
}

/* The line of node t: a random variable's, "X = VALUE" for an observed
   node, "NAME = EXPR" for the others. */
static void pkmath_nodeline(pkmath *st, pk_val t, const pkmath_ent *e)
{
  if (pkmath_rvterm(t) >= 0) {
    pkmath_rvline(st, t, e);
    return;
  }
  pkmath_line(st);
  if (pko_pairp(t) && pko_car(t) == pkmath_syms[PKMATH_S_OBSERVED]) {
    pkmath_expr(st, pkmath_nth(t, 2), false);
    pkmath_lit(st, " = ", " &= ");
    pkmath_expr(st, pkmath_nth(t, 1), false);
  } else {
    pkmath_named(st, t);
    pkmath_lit(st, " = ", " &= ");
    pkmath_expr(st, t, true);
  }
  pkmath_eol(st);
}

void pkmath_print(pkp_buf *b, pk_val m, int flags)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, pkmath_syms_once);
  pkmath st = { .b = b, .latex = flags & PKMATH_LATEX, .first = true };
  pkmath_map_init(&st.nodes, 64);
  pkmath_map_init(&st.taken, 64);
  pkp_init(&st.names);
  pk_val outs = pkg_outputs(m);
  pkmath_walk(&st, outs);
  pkmath_given(&st, m);
  pkmath_lines(&st);
  pkmath_lit(&st, "", "% ");
  pkp_print(b, pkg_name(m), PKP_WRITE);
  pkmath_lit(&st, ":\n", "\n\\begin{align*}\n");
  for (pk_val r = pko_cdr(pko_cdr(m)); pko_pairp(r); r = pko_cdr(r))
    if (pko_car(pko_car(r)) == pkmath_syms[PKMATH_S_INPUT]) pkmath_input(&st, pko_car(r), flags & PKMATH_VALUES);
  for (size_t k = 0; k < st.order.n; k++) {
    const pkmath_ent *e = pkmath_get(&st.nodes, st.order.v[k]);
    if (e->flags & PKMATH_LINE) pkmath_nodeline(&st, st.order.v[k], e);
  }
  for (; pko_pairp(outs); outs = pko_cdr(outs)) {
    pk_val o = pko_car(outs);
    if (pkmath_rvterm(o) >= 0 || (pko_pairp(o) && pko_car(o) == pkmath_syms[PKMATH_S_OBSERVED])) continue;
    pkmath_line(&st);
    pkmath_lit(&st, "", "&");
    pkmath_expr(&st, o, false);
    pkmath_eol(&st);
  }
  pkmath_lit(&st, "", "\n\\end{align*}\n");
  pkmath_map_free(&st.nodes);
  pkmath_map_free(&st.taken);
  free(st.order.v);
  pkp_free(&st.names);
}
