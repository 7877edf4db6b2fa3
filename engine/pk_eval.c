/*
** pk_eval.c — the evaluator of the tree pk_comp.c compiles.
**
** The evaluator is one loop with proper tail
** calls: a call in tail position replaces the current node and frame instead
** of recursing, so loops written as tail recursion run in constant C stack.
** Non-tail recursion uses the C stack, checked against a budget.
*/
#include "pk_eval.h"
#include "pk_builtin.h"
#include "pk_search.h"
#include "pk_print.h"
#include "pk_read.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pk_val pke_sym_test_failed;

_Thread_local uintptr_t pke_floor;
void (*pke_load)(pk_val fname, const pk_srcpos *pos);
size_t pke_stack_budget = (size_t)1 << 30;
bool pke_stack_exact;

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

void pke_stack_overflow(void) { pko_error("stack budget exhausted (deep recursion); raise it with --stack BYTES"); }

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
  pkp_fwrite(&b, pkb_output());
  pkp_free(&b); /* the expressions may throw: hold no malloc'd buffer then */
  pk_val expected = pke_eval(n->z, e);
  pk_val produced = pke_eval(n->y, e);
  if (!pko_equal(expected, produced)) {
    pko_as_sym(pke_sym_test_failed)->value = PK_TRUE;
    pkp_init(&b);
    pkp_puts(&b, "Failed: ", 8);
    pkp_print(&b, n->v, PKP_WRITE);
    pkp_puts(&b, "\nExpected: ", 11);
    pkp_print(&b, expected, PKP_WRITE);
    pkp_puts(&b, "\nComputed: ", 11);
    pkp_print(&b, produced, PKP_WRITE);
    pkp_putc(&b, '\n');
    pkp_fwrite(&b, pkb_output());
    pkp_free(&b);
  }
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
    case PKE_LREF0: {
      pk_val v = e->v[n->b];
      if (v == PK_UNBOUND) pke_unbound_local(n);
      return v;
    }
    case PKE_LREF1: {
      pk_val v = e->up->v[n->b];
      if (v == PK_UNBOUND) pke_unbound_local(n);
      return v;
    }
    case PKE_LREF: {
      pk_val v = pke_up(e, n->a)->v[n->b];
      if (v == PK_UNBOUND) pke_unbound_local(n);
      return v;
    }
    case PKE_GREF: {
      pk_val v = pko_as_sym(n->v)->value;
      if (v == PK_UNBOUND) {
        pko_where = &n->pos;
        pko_error("variable %s is not bound", pko_symname(n->v));
      }
      return v;
    }
    case PKE_LSET: {
      pk_val v = pke_eval(n->x, e);
      if (!n->flags) pko_note_store(v); /* a set!, not an inner definition */
      pke_up(e, n->a)->v[n->b] = v;
      return PK_VOID;
    }
    case PKE_GSET:
      if (pko_as_sym(n->v)->value == PK_UNBOUND) {
        pko_where = &n->pos;
        pko_error("set!: variable %s is not bound", pko_symname(n->v));
      }
      pko_note_store(pko_as_sym(n->v)->value = pke_eval(n->x, e));
      return PK_VOID;
    case PKE_GDEF: pko_note_store(pko_as_sym(n->v)->value = pke_eval(n->x, e)); return PK_VOID;
    case PKE_IF: n = pko_truthy(pke_leaf(n->x, e)) ? n->y : n->z; continue;
    case PKE_SEQ:
      for (int i = 0; i < n->n - 1; i++) pke_eval(n->kids[i], e);
      n = n->kids[n->n - 1];
      continue;
    case PKE_AND:
    case PKE_OR: {
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
    case PKE_LET:
    case PKE_LETREC: {
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
    case PKE_FRESH:
    case PKE_CONDE:
    case PKE_CONDA:
    case PKE_CONDU:
    case PKE_PROJECT:
    case PKE_LALL:
    case PKE_LANY: return pks_node_goal(n, e);
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

/* Register the evaluator's globals.  Once, after pkc_init. */
void pke_init(void)
{
  pkp_procname = pke_procname;
  pke_sym_test_failed = pko_sym("test-failed");
  pko_as_sym(pke_sym_test_failed)->value = PK_FALSE;
  pko_as_sym(pke_sym_test_failed)->flags |= PKO_SYM_DEFINED;
}
