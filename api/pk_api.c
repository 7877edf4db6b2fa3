/*
** pk_api.c — the public C API (include/pkanren.h): every entry point takes
** the process lock, makes sure the calling thread is known to the
** collector, and turns thrown errors into negative return codes.
*/
#include "pkanren.h"
#include "pk_builtin.h"
#include "pk_eval.h"
#include "pk_load.h"
#include "pk_search.h"
#include "pk_print.h"
#include "pk_read.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct pk_engine {
  FILE *out;
  int exit_code;
  char err[2048];
  pk_val *roots;     /* uncollectable: keeps terms handed to C alive */
  size_t nroots, cap;
};

struct pk_query {
  pk_engine *e;
  pks_query *q;      /* the struct lives in uncollectable memory, so q stays alive */
};

/* A relation implemented in C, referenced from its Scheme wrapper. */
typedef struct pka_foreign {
  pko_hdr h;
  pk_engine *e;
  pk_relation_fn fn;
  void *data;
} pka_foreign;

static pthread_mutex_t pka_lock = PTHREAD_MUTEX_INITIALIZER;
/* This thread was registered with the collector by pka_enter. */
static _Thread_local bool pka_registered;

const char *pk_version(void) { return PK_VERSION_STRING; }

/* Enter the library: lock, register the thread, set output. */
static void pka_enter(pk_engine *e)
{
  pko_init();
  pthread_mutex_lock(&pka_lock);
  if (!GC_thread_is_registered()) {
    struct GC_stack_base sb;
    GC_get_stack_base(&sb);
    GC_register_my_thread(&sb);
    pka_registered = true;
  }
  pke_thread_start();
  if (e) {
    pkb_out = e->out;
    e->err[0] = 0;
  }
}

static void pka_leave(void)
{
  fflush(pkb_out);
  pthread_mutex_unlock(&pka_lock);
}

/* The thrown error as a return code, with its message kept on e. */
static int pka_fail(pk_engine *e)
{
  int st = pko_err.status;
  if (e) {
    snprintf(e->err, sizeof e->err, "%s", pko_err.msg);
    if (st == PK_STATUS_EXIT) e->exit_code = pko_err.code;
  }
  pka_leave();
  return st == PK_STATUS_EXIT ? PK_EEXIT : -st;
}

/* Keep v alive until pk_release. */
static pk_term pka_root(pk_engine *e, pk_val v)
{
  if (!pko_objp(v) && !pko_pairp(v)) return v;
  if (e->nroots == e->cap) {
    size_t ncap = e->cap ? 2 * e->cap : 64;
    pk_val *nr = GC_MALLOC_UNCOLLECTABLE(ncap * sizeof *nr);
    if (e->nroots) memcpy(nr, e->roots, e->nroots * sizeof *nr);
    if (e->roots) GC_FREE(e->roots);
    e->roots = nr;
    e->cap = ncap;
  }
  e->roots[e->nroots++] = v;
  return v;
}

pk_engine *pk_engine_new(void)
{
  pko_init();
  pk_engine *e = calloc(1, sizeof *e);
  if (e) e->out = stdout;
  return e;
}

void pk_engine_free(pk_engine *e)
{
  if (!e) return;
  if (e->roots) GC_FREE(e->roots);
  free(e);
}

void pk_set_output(pk_engine *e, FILE *out) { e->out = out ? out : stdout; }
const char *pk_errmsg(const pk_engine *e) { return e->err; }
int pk_exit_code(const pk_engine *e) { return e->exit_code; }
void pk_interrupt(void) { pko_interrupted = 1; }

void pk_thread_done(void)
{
  pthread_mutex_lock(&pka_lock);
  if (pka_registered) GC_unregister_my_thread();
  pka_registered = false;
  pthread_mutex_unlock(&pka_lock);
}

void pk_release(pk_engine *e)
{
  pthread_mutex_lock(&pka_lock);
  e->nroots = 0;
  if (e->roots) memset(e->roots, 0, e->cap * sizeof *e->roots);
  pthread_mutex_unlock(&pka_lock);
}

/* Status of a program run as an API code. */
static int pka_status(pk_engine *e, int st)
{
  if (st == PK_STATUS_OK) { pka_leave(); return PK_OK; }
  if (st == PK_STATUS_FAILED) { snprintf(e->err, sizeof e->err, "a test failed"); pka_leave(); return PK_EFAILED; }
  return pka_fail(e);
}

int pk_load_string(pk_engine *e, const char *name, const char *text, size_t len)
{
  pka_enter(e);
  pkl_opts o = { 0 };
  return pka_status(e, pkl_run_text(name ? name : "<string>", text, len, &o));
}

int pk_load_file(pk_engine *e, const char *path)
{
  pka_enter(e);
  pkl_opts o = { 0 };
  return pka_status(e, pkl_run_file(path, &o));
}

int pk_define(pk_engine *e, const char *name, pk_term value)
{
  pka_enter(e);
  pko_symbol *s = pko_as_sym(pko_sym(name));
  s->value = value;
  s->flags |= PKO_SYM_DEFINED;
  pka_leave();
  return PK_OK;
}

/* ---- terms ------------------------------------------------------------------- */

pk_term pk_nil(void) { return PK_NIL; }
pk_term pk_boolean(int b) { return b ? PK_TRUE : PK_FALSE; }

pk_term pk_int(pk_engine *e, int64_t i)
{
  pka_enter(e);
  pk_term t = pka_root(e, pko_mkint(i));
  pka_leave();
  return t;
}

pk_term pk_float(pk_engine *e, double d)
{
  pka_enter(e);
  pk_term t = pka_root(e, pko_mkflo(d));
  pka_leave();
  return t;
}

pk_term pk_symbol(pk_engine *e, const char *name)
{
  (void)e;
  pko_init();
  return pko_sym(name);
}

pk_term pk_string(pk_engine *e, const char *s, size_t len)
{
  pka_enter(e);
  pk_term t = pka_root(e, pko_mkstr(s, len));
  pka_leave();
  return t;
}

pk_term pk_cons(pk_engine *e, pk_term car, pk_term cdr)
{
  pka_enter(e);
  pk_term t = pka_root(e, pko_cons(car, cdr));
  pka_leave();
  return t;
}

int pk_parse(pk_engine *e, const char *text, pk_term *out)
{
  pka_enter(e);
  pko_catch c;
  if (!PKO_TRY(c)) return pka_fail(e);
  pkr_reader *r = pkr_open("<parse>", text, strlen(text));
  pk_val x;
  if (!pkr_next(r, &x)) pko_throw_at(PK_STATUS_STATIC, NULL, "<parse>: no datum in text");
  pkr_forget(x); /* data: positions are for programs, and would keep x alive */
  *out = pka_root(e, x);
  PKO_END(c);
  pka_leave();
  return PK_OK;
}

int pk_is_nil(pk_term t) { return t == PK_NIL; }
int pk_is_pair(pk_term t) { return pko_pairp(t); }
int pk_is_int(pk_term t) { return pko_intp(t); }
int pk_is_symbol(pk_term t) { return pko_symbolp(t); }
int pk_is_string(pk_term t) { return pko_stringp(t); }
pk_term pk_term_car(pk_term t) { return pko_as_pair(t)->car; }
pk_term pk_term_cdr(pk_term t) { return pko_as_pair(t)->cdr; }
int64_t pk_int_value(pk_term t) { return pko_intval(t); }
const char *pk_symbol_name(pk_term t) { return pko_symname(t); }
const char *pk_string_value(pk_term t) { return pko_as_str(t)->s; }
char *pk_to_string(pk_term t) { return pkp_tostring(t, PKP_WRITE); }
int pk_equal(pk_term a, pk_term b) { return pko_equal(a, b); }

/* ---- queries ---------------------------------------------------------------------- */

/* Compile run_form and start its query. */
static pks_query *pka_open(const char *run_form)
{
  pkr_reader *r = pkr_open("<query>", run_form, strlen(run_form));
  pk_val x;
  if (!pkr_next(r, &x) || !pke_is_run_form(x))
    pko_throw_at(PK_STATUS_STATIC, NULL, "<query>: expected a (run n (q ...) goal ...) or (run* ...) form");
  pk_srcpos pos = { "<query>", 1, 1 };
  pkr_pos(x, &pos);
  const pke_node *run = pke_compile(x, &pos);
  pkr_forget(x); /* compiled: its positions would keep it alive for good */
  return pks_query_new(run, NULL, pke_run_count(run, NULL));
}

int pk_query_open(pk_engine *e, const char *run_form, pk_query **out)
{
  pka_enter(e);
  pko_catch c;
  if (!PKO_TRY(c)) return pka_fail(e);
  pk_query *q = GC_MALLOC_UNCOLLECTABLE(sizeof *q);
  q->e = e;
  q->q = pka_open(run_form);
  *out = q;
  PKO_END(c);
  pka_leave();
  return PK_OK;
}

int pk_query_next(pk_query *q, pk_term *answer)
{
  pka_enter(q->e);
  pko_catch c;
  if (!PKO_TRY(c)) return pka_fail(q->e);
  pk_val a;
  bool got = pks_query_next(q->q, &a);
  if (got) *answer = pka_root(q->e, a);
  PKO_END(c);
  pka_leave();
  return got ? 1 : 0;
}

void pk_query_free(pk_query *q)
{
  if (!q) return;
  pka_enter(q->e);
  pks_query_stop(q->q);
  pka_leave();
  GC_FREE(q);
}

/* ---- foreign relations ---------------------------------------------------------- */

/* Adapter from the engine's foreign-goal call to the user's function. */
static bool pka_call_foreign(int argc, const pk_val *argv, void *data)
{
  const pka_foreign *f = data;
  return f->fn(f->e, argc, argv, f->data) != 0;
}

/* (%foreign-goal handle arg ...): the goal of one call of a C relation. */
static pk_val pka_p_foreign_goal(int argc, pk_val *argv)
{
  if (!pko_isa(argv[0], PK_T_OPAQUE)) pko_error_val("%foreign-goal: not a relation handle", argv[0]);
  return pks_foreign_goal(pka_call_foreign, (void *)argv[0], argc - 1, argv + 1);
}

int pk_register_relation(pk_engine *e, const char *name, int arity, pk_relation_fn fn, void *data)
{
  pka_enter(e);
  pko_catch c;
  if (!PKO_TRY(c)) return pka_fail(e);
  if (arity < 0 || arity > 64) pko_throw_at(PK_STATUS_STATIC, NULL, "pk_register_relation: arity must be 0..64");
  static bool defined;
  if (!defined) { pko_defprim("%foreign-goal", pka_p_foreign_goal, 1, -1); defined = true; }
  pka_foreign *f = GC_MALLOC_UNCOLLECTABLE(sizeof *f);
  f->h.type = PK_T_OPAQUE;
  f->e = e;
  f->fn = fn;
  f->data = data;
  pk_val params = PK_NIL;
  for (int i = arity; i-- > 0;) {
    char nm[16];
    snprintf(nm, sizeof nm, "a%d", i);
    params = pko_cons(pko_sym(nm), params);
  }
  pk_val call = pko_cons(pko_sym("%foreign-goal"), pko_cons(pko_list(2, pko_sym("quote"), (pk_val)f), params));
  pk_val lam = pko_list(3, pko_sym("lambda"), params, call);
  pk_srcpos pos = { "<relation>", 1, 1 };
  pko_symbol *s = pko_as_sym(pko_sym(name));
  s->value = pke_eval(pke_compile(lam, &pos), NULL);
  s->flags |= PKO_SYM_DEFINED;
  PKO_END(c);
  pka_leave();
  return PK_OK;
}

/* ---- models (SPEC §4) ------------------------------------------------------------ */

#include "pk_graph.h"
#include "pk_hcons.h"

/* Read models from a file (text == NULL) or from text, as a rooted list. */
static int pka_read_models(pk_engine *e, const char *name, const char *text, size_t len, pk_term *out)
{
  pka_enter(e);
  pko_catch c;
  if (!PKO_TRY(c)) return pka_fail(e);
  pk_val ms;
  if (text) {
    char *nm = GC_MALLOC_ATOMIC_UNCOLLECTABLE(strlen(name) + 1);
    strcpy(nm, name);
    ms = pkg_read_text(nm, text, len);
  } else {
    ms = pkg_read_file(name, NULL);
  }
  PKO_END(c);
  *out = pka_root(e, ms);
  pka_leave();
  return (int)pko_length(ms);
}

int pk_read_models_file(pk_engine *e, const char *path, pk_term *out)
{
  return pka_read_models(e, path, NULL, 0, out);
}

int pk_read_models_string(pk_engine *e, const char *name, const char *text, size_t len, pk_term *out)
{
  return pka_read_models(e, name ? name : "<string>", text, len, out);
}

int pk_model_outputs(pk_engine *e, pk_term model, pk_term *out)
{
  pka_enter(e);
  if (!pkg_modelp(model)) {
    snprintf(e->err, sizeof e->err, "pk_model_outputs: not a model");
    pka_leave();
    return PK_ERUNTIME;
  }
  *out = pka_root(e, pkg_outputs(model));
  pka_leave();
  return PK_OK;
}

/* Terms built from C are interned first, so their sharing prints. */
int pk_model_print(pk_engine *e, pk_term model, char **text)
{
  pka_enter(e);
  pk_val m = pkg_modelp(model) ? pkh_intern(model) : 0;
  if (!m) {
    snprintf(e->err, sizeof e->err, "pk_model_print: not a model");
    pka_leave();
    return PK_ERUNTIME;
  }
  pkp_buf b;
  pkp_init(&b);
  pkg_print(&b, m);
  pkp_putc(&b, 0);
  *text = b.s;
  pka_leave();
  return PK_OK;
}
