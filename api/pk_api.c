/*
** pk_api.c — the public C API (include/pkanren.h): every entry point that
** touches the library takes the process lock (a call from a foreign goal
** runs under its caller's), makes sure the calling thread is known to the
** collector, and turns thrown errors into negative return codes.  Engines
** carry the workers and order their queries run with (pki_configure).
*/
#include "pkanren.h"
#include "pk_batch.h"
#include "pk_graph.h"
#include "pk_hcons.h"
#include "pk_math.h"
#include "pk_rewrite.h"
#include "pk_init.h"
#include "pk_builtin.h"
#include "pk_comp.h"
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
  int workers;       /* pk_set_workers */
  bool unordered;    /* pk_set_unordered */
  pko_limits limits; /* pk_set_limits */
  char err[2048];
  pk_val *roots; /* uncollectable: keeps terms handed to C alive */
  size_t nroots, cap;
};

struct pk_query {
  pk_engine *e;
  pks_query *q;     /* the struct lives in uncollectable memory, so q stays alive */
  bool pool;        /* holds the workers until its end */
  bool done;        /* returned 0 or an error */
  pthread_t thread; /* that opened it */
};

/* One call of a C relation, on the stack of the thread that runs it. */
struct pk_goal {
  int argc;
  pk_val answers; /* yielded, last first */
  pk_val keep;    /* terms the call built: alive while this frame is */
  char err[512];  /* message of the call's own last failed call */
};

/* A relation implemented in C, referenced from its Scheme wrapper. */
typedef struct pka_foreign {
  pko_hdr h;
  pk_engine *e;
  pk_relation_fn pred; /* one of pred and gen */
  pk_goal_fn gen;
  void *data;
  char name[64];
} pka_foreign;

static pthread_mutex_t pka_lock = PTHREAD_MUTEX_INITIALIZER;
/* This thread was registered with the collector by pka_enter. */
static _Thread_local bool pka_registered;
/* Library calls this thread is inside: the outermost took pka_lock, or
   is a foreign goal's call (its thread works for the lock's holder). */
static _Thread_local int pka_depth;
/* The foreign goal call this thread runs, or NULL. */
static _Thread_local pk_goal *pka_cb;
/* The scheduler configuration the API set last (the pool's initial one
   until then); and the open query that holds the workers, if any.  Under
   pka_lock. */
static struct {
  int workers;
  bool unordered;
} pka_applied = { 1, false };
static pk_query *pka_pool_q;
#define PKA_BUSY "another query runs on the workers: take its last answer or free it first"

const char *pk_version(void) { return PK_VERSION_STRING; }

/* Enter the library: lock, register the thread, set output.  A call made
   by a foreign goal (pka_depth > 0) does none of that: its thread works
   for the caller that holds the lock. */
static void pka_enter(pk_engine *e)
{
  if (pka_depth++ > 0) {
    if (pka_cb) pka_cb->err[0] = 0;
    return;
  }
  pki_init();
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
  if (--pka_depth > 0) return;
  fflush(pkb_out);
  pthread_mutex_unlock(&pka_lock);
}

/* Where the error of a call on e goes: the foreign goal's frame in one. */
static char *pka_errbuf(pk_engine *e, size_t *n)
{
  if (pka_cb) {
    *n = sizeof pka_cb->err;
    return pka_cb->err;
  }
  *n = sizeof e->err;
  return e->err;
}

/* Leave with error st (a PK_STATUS_*) and message msg. */
static int pka_error(pk_engine *e, int st, const char *msg)
{
  size_t n;
  char *buf = e ? pka_errbuf(e, &n) : NULL;
  if (buf && buf != msg) snprintf(buf, n, "%s", msg);
  pka_leave();
  return st == PK_STATUS_EXIT ? PK_EEXIT : -st;
}

/* The thrown error as a return code, with its message kept on e. */
static int pka_fail(pk_engine *e)
{
  if (e && pko_err.status == PK_STATUS_EXIT) e->exit_code = pko_err.code;
  return pka_error(e, pko_err.status, pko_err.msg);
}

/* True (with the message on e) for a call a foreign goal may not make. */
static bool pka_refused(pk_engine *e, const char *fn)
{
  if (!pka_cb) return false;
  if (e) snprintf(pka_cb->err, sizeof pka_cb->err, "%s: not allowed in a foreign goal", fn);
  return true;
}

/* Keep v alive until pk_release (in a foreign goal: until it returns). */
static pk_term pka_root(pk_engine *e, pk_val v)
{
  if (!pko_objp(v) && !pko_pairp(v)) return v;
  if (pka_cb) {
    pka_cb->keep = pko_cons(v, pka_cb->keep);
    return v;
  }
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

/* NULL if out of memory (the public contract). */
pk_engine *pk_engine_new(void)
{
  if (pka_refused(NULL, "pk_engine_new")) return NULL;
  pka_enter(NULL);
  pk_engine *e = NULL;
  pko_catch c;
  if (PKO_TRY(c)) {
    e = pko_xcalloc(1, sizeof *e);
    PKO_END(c);
    e->out = stdout;
    e->workers = 1;
  }
  pka_leave();
  return e;
}

void pk_engine_free(pk_engine *e)
{
  if (!e || pka_refused(NULL, "pk_engine_free")) return;
  pka_enter(NULL);
  if (pkb_out == e->out) pkb_out = stdout; /* the caller may close it next */
  if (e->roots) GC_FREE(e->roots);
  free(e);
  pka_leave();
}

void pk_set_output(pk_engine *e, FILE *out)
{
  if (pka_refused(NULL, "pk_set_output")) return;
  pka_enter(NULL);
  /* The library writes and flushes pkb_out between calls too: it must never
     be a stream the caller has closed (a closed memstream's flush writes
     through pointers into a dead stack frame). */
  if (pkb_out == e->out) pkb_out = out ? out : stdout;
  e->out = out ? out : stdout;
  pka_leave();
}

int pk_set_workers(pk_engine *e, int n)
{
  if (pka_refused(e, "pk_set_workers")) return PK_ERUNTIME;
  pka_enter(e);
  if (n < 1) return pka_error(e, PK_STATUS_STATIC, "pk_set_workers: the number of workers must be at least 1");
  e->workers = n;
  pka_leave();
  return PK_OK;
}

int pk_set_unordered(pk_engine *e, int on)
{
  if (pka_refused(e, "pk_set_unordered")) return PK_ERUNTIME;
  pka_enter(e);
  e->unordered = on != 0;
  pka_leave();
  return PK_OK;
}

int pk_set_limits(pk_engine *e, uint64_t max_steps, uint64_t max_memory, double timeout)
{
  if (pka_refused(e, "pk_set_limits")) return PK_ERUNTIME;
  pka_enter(e);
  if (!(timeout >= 0)) return pka_error(e, PK_STATUS_STATIC, "pk_set_limits: the timeout must be 0 or more seconds");
  e->limits = (pko_limits){ max_steps, max_memory, timeout };
  pka_leave();
  return PK_OK;
}

const char *pk_errmsg(const pk_engine *e) { return pka_cb ? pka_cb->err : e->err; }
int pk_exit_code(const pk_engine *e) { return e->exit_code; }
void pk_interrupt(void) { pko_interrupt_set(1); }

void pk_thread_done(void)
{
  if (pka_refused(NULL, "pk_thread_done") || pka_depth > 0) return;
  pthread_mutex_lock(&pka_lock);
  if (pka_registered) GC_unregister_my_thread();
  pka_registered = false;
  pthread_mutex_unlock(&pka_lock);
}

void pk_release(pk_engine *e)
{
  if (pka_refused(NULL, "pk_release")) return;
  pka_enter(NULL);
  e->nroots = 0;
  if (e->roots) memset(e->roots, 0, e->cap * sizeof *e->roots);
  pka_leave();
}

/* Before a query or program of e: give the workers e's settings, unless an
   open query holds them (then false).  The pool is
   configured only when the settings change, so a test that configures it
   through pki_configure keeps its configuration while its engine keeps
   the default settings. */
static bool pka_sched(pk_engine *e)
{
  if (pka_pool_q) return false;
  if (pka_applied.workers != e->workers || pka_applied.unordered != e->unordered) {
    pka_applied.workers = e->workers;
    pka_applied.unordered = e->unordered;
    pki_configure(e->workers, e->unordered, 0, false);
  }
  pko_limits_begin(&e->limits); /* also clears the interrupt: pk_interrupt stops the running load or query only */
  pks_limits_reset();
  return true;
}

/* Run a program with e's settings: an API code. */
static int pka_run(pk_engine *e, const char *name, const char *path, const char *text, size_t len)
{
  if (pka_refused(e, path ? "pk_load_file" : "pk_load_string")) return PK_ERUNTIME;
  pka_enter(e);
  if (!pka_sched(e)) return pka_error(e, PK_STATUS_RUNTIME, PKA_BUSY);
  pkl_opts o = { 0 };
  int st = path ? pkl_run_file(path, &o) : pkl_run_text(name, text, len, &o);
  pko_limits_end();
  if (st == PK_STATUS_OK) {
    pka_leave();
    return PK_OK;
  }
  if (st == PK_STATUS_FAILED) return pka_error(e, st, "a test failed");
  if (st == PK_STATUS_EXIT) e->exit_code = o.exit_code;
  return pka_error(e, st, pko_err.msg);
}

int pk_load_string(pk_engine *e, const char *name, const char *text, size_t len)
{
  return pka_run(e, name ? name : "<string>", NULL, text, len);
}

int pk_load_file(pk_engine *e, const char *path) { return pka_run(e, NULL, path, NULL, 0); }

int pk_define(pk_engine *e, const char *name, pk_term value)
{
  if (pka_refused(e, "pk_define")) return PK_ERUNTIME;
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
  pka_enter(e);
  pk_term t = pko_sym(name); /* interned: never collected */
  pka_leave();
  return t;
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
int pk_equal(pk_term a, pk_term b) { return pko_equal(a, b); }

char *pk_to_string(pk_term t)
{
  pka_enter(NULL);
  char *s = pkp_tostring(t, PKP_WRITE);
  pka_leave();
  return s;
}

/* ---- queries ---------------------------------------------------------------------- */

/* Compile run_form, with a program's static checks, and start its query. */
static pks_query *pka_open(const char *run_form)
{
  pkr_reader *r = pkr_open("<query>", run_form, strlen(run_form));
  pk_val x;
  if (!pkr_next(r, &x) || !pkc_is_run_form(x))
    pko_throw_at(PK_STATUS_STATIC, NULL, "<query>: expected a (run n (q ...) goal ...) or (run* ...) form");
  pk_srcpos pos = { "<query>", 1, 1 };
  pkr_pos(x, &pos);
  const pke_node *run = pkl_compile_form(x, &pos);
  pkr_forget(x); /* compiled: its positions would keep it alive for good */
  return pks_query_new(run, NULL, pke_run_count(run, NULL));
}

int pk_query_open(pk_engine *e, const char *run_form, pk_query **out)
{
  if (pka_refused(e, "pk_query_open")) return PK_ERUNTIME;
  pka_enter(e);
  if (!pka_sched(e)) return pka_error(e, PK_STATUS_RUNTIME, PKA_BUSY);
  pko_catch c;
  if (!PKO_TRY(c)) return pka_fail(e);
  pk_query *q = GC_MALLOC_UNCOLLECTABLE(sizeof *q);
  q->e = e;
  q->q = pka_open(run_form);
  q->pool = pka_applied.workers > 1 || pka_applied.unordered;
  q->thread = pthread_self();
  if (q->pool) pka_pool_q = q;
  *out = q;
  PKO_END(c);
  pka_leave();
  return PK_OK;
}

/* q reached its end: the workers are free. */
static void pka_query_done(pk_query *q)
{
  q->done = true;
  if (pka_pool_q == q) pka_pool_q = NULL;
}

int pk_query_next(pk_query *q, pk_term *answer)
{
  if (pka_refused(q->e, "pk_query_next")) return PK_ERUNTIME;
  pka_enter(q->e);
  if (q->done) {
    pka_leave();
    return 0;
  }
  if (q->pool && !pthread_equal(q->thread, pthread_self()))
    return pka_error(q->e, PK_STATUS_RUNTIME,
                     "pk_query_next: a query on workers is iterated by the thread that opened it");
  pko_catch c;
  if (!PKO_TRY(c)) {
    pka_query_done(q);
    return pka_fail(q->e);
  }
  pk_val a;
  bool got = pks_query_next(q->q, &a);
  if (got)
    *answer = pka_root(q->e, a);
  else
    pka_query_done(q);
  PKO_END(c);
  pka_leave();
  return got ? 1 : 0;
}

void pk_query_free(pk_query *q)
{
  if (!q || pka_refused(NULL, "pk_query_free")) return;
  pka_enter(NULL); /* keeps q's error message */
  pko_limits_end();
  pks_query_stop(q->q);
  pka_query_done(q);
  pka_leave();
  GC_FREE(q);
}

/* ---- foreign relations ---------------------------------------------------------- */

/* Adapter from the engine's foreign-goal call to the user's function: the
   call runs as a library call of this thread (pka_depth), with its own
   frame for terms, answers and messages. */
static pk_val pka_call_foreign(int argc, const pk_val *argv, void *data)
{
  const pka_foreign *f = data;
  pk_goal g = { argc, PK_NIL, PK_NIL, "" };
  pk_goal *outer = pka_cb;
  pka_cb = &g;
  pka_depth++;
  int rc = f->gen ? f->gen(f->e, &g, argc, argv, f->data) : f->pred(f->e, argc, argv, f->data);
  pka_depth--;
  pka_cb = outer;
  if (rc < 0) pko_error("%s: the C relation returned %d%s%s", f->name, rc, g.err[0] ? ": " : "", g.err);
  if (!f->gen) return rc ? PK_TRUE : PK_FALSE;
  return pko_reverse(g.answers);
}

int pk_goal_yield(pk_goal *g, const pk_term *values)
{
  if (!g || g != pka_cb) return PK_ERUNTIME;
  pk_val a = PK_NIL;
  for (int i = g->argc; i-- > 0;) a = pko_cons(values[i], a);
  g->answers = pko_cons(a, g->answers);
  return PK_OK;
}

/* (%foreign-goal handle arg ...): the goal of one call of a C relation. */
static pk_val pka_p_foreign_goal(int argc, pk_val *argv)
{
  if (!pko_isa(argv[0], PK_T_OPAQUE)) pko_error_val("%foreign-goal: not a relation handle", argv[0]);
  return pks_foreign_goal(pka_call_foreign, (void *)argv[0], argc - 1, argv + 1);
}

/* Define name as (lambda (a0 ...) (%foreign-goal 'handle a0 ...)). */
static int pka_register(pk_engine *e, const char *name, int arity, pk_relation_fn pred, pk_goal_fn gen, void *data)
{
  if (pka_refused(e, pred ? "pk_register_relation" : "pk_register_goal")) return PK_ERUNTIME;
  pka_enter(e);
  if (arity < 0 || arity > 64 || (!pred && !gen) || !name)
    return pka_error(e, PK_STATUS_STATIC, "pk_register: needs a name, a function and an arity of 0..64");
  pko_catch c;
  if (!PKO_TRY(c)) return pka_fail(e);
  static bool defined;
  if (!defined) {
    pko_defprim("%foreign-goal", pka_p_foreign_goal, 1, -1);
    defined = true;
  }
  pka_foreign *f = GC_MALLOC_UNCOLLECTABLE(sizeof *f);
  f->h.type = PK_T_OPAQUE;
  f->e = e;
  f->pred = pred;
  f->gen = gen;
  f->data = data;
  snprintf(f->name, sizeof f->name, "%s", name);
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
  s->value = pke_eval(pkc_compile(lam, &pos), NULL);
  s->flags |= PKO_SYM_DEFINED;
  PKO_END(c);
  pka_leave();
  return PK_OK;
}

int pk_register_relation(pk_engine *e, const char *name, int arity, pk_relation_fn fn, void *data)
{
  return pka_register(e, name, arity, fn, NULL, data);
}

int pk_register_goal(pk_engine *e, const char *name, int arity, pk_goal_fn fn, void *data)
{
  return pka_register(e, name, arity, NULL, fn, data);
}

/* ---- models (SPEC §4) ------------------------------------------------------------ */

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

int pk_read_models_file(pk_engine *e, const char *path, pk_term *out) { return pka_read_models(e, path, NULL, 0, out); }

int pk_read_models_string(pk_engine *e, const char *name, const char *text, size_t len, pk_term *out)
{
  return pka_read_models(e, name ? name : "<string>", text, len, out);
}

int pk_model_outputs(pk_engine *e, pk_term model, pk_term *out)
{
  pka_enter(e);
  if (!pkg_modelp(model)) return pka_error(e, PK_STATUS_RUNTIME, "pk_model_outputs: not a model");
  *out = pka_root(e, pkg_outputs(model));
  pka_leave();
  return PK_OK;
}

/* Terms built from C are interned first, so their sharing prints. */
int pk_model_print(pk_engine *e, pk_term model, char **text)
{
  pka_enter(e);
  pk_val m = pkg_modelp(model) ? pkh_intern(model) : 0;
  if (!m) return pka_error(e, PK_STATUS_RUNTIME, "pk_model_print: not a model");
  pkp_buf b;
  pkp_init(&b);
  pkg_print(&b, m);
  pkp_putc(&b, 0);
  *text = b.s;
  pka_leave();
  return PK_OK;
}

/* The flags are pk_math.h's under public names. */
int pk_model_print_math(pk_engine *e, pk_term model, int flags, char **text)
{
  _Static_assert((int)PK_PRINT_LATEX == (int)PKMATH_LATEX && (int)PK_PRINT_VALUES == (int)PKMATH_VALUES, "flags");
  pka_enter(e);
  pk_val m = pkg_modelp(model) ? pkh_intern(model) : 0;
  if (!m) return pka_error(e, PK_STATUS_RUNTIME, "pk_model_print_math: not a model");
  pkp_buf b;
  pkp_init(&b);
  pkmath_print(&b, m, flags);
  pkp_putc(&b, 0);
  *text = b.s;
  pka_leave();
  return PK_OK;
}

/* ---- rewriting (SPEC §5) ----------------------------------------------------------- */

/* The context of the pk_rewrite_model running on this thread: in memory,
   so the handler of a throw frees it. */
static _Thread_local pkrw_ctx *pka_rw_ctx;

/* The body of pk_rewrite_model under the caller's catch. */
static int pka_rewrite(pk_val model, const char *rules, const char *relation, const char *walker, uint64_t max_steps,
                       pk_val *out, pk_rewrite_info *info)
{
  pkrw_walker w;
  if (!relation || !pkbt_walker(walker, &w))
    pko_throw_at(PK_STATUS_STATIC, NULL, "pk_rewrite_model: %s",
                 relation ? "walker must be walko or non_obs_walko" : "no relation");
  pk_val m = pkg_modelp(model) ? pkh_intern(model) : 0;
  if (!m) pko_throw_at(PK_STATUS_RUNTIME, NULL, "pk_rewrite_model: not a model");
  char *path = rules ? pkbt_rules_path(rules) : NULL;
  pk_val rel = pkbt_load_rules(path, relation);
  free(path);
  pkrw_ctx *c = pka_rw_ctx = pkrw_new(rel, w);
  pkrw_limit(c, max_steps ? max_steps : PKBT_DEFAULT_STEPS, 0);
  bool changed;
  *out = pkrw_model(c, m, &changed);
  if (info) {
    const pkrw_stats *s = pkrw_get_stats(c);
    *info = (pk_rewrite_info){ s->rewrites, s->steps, s->passes, pkrw_count_nodes(pkg_outputs(m)),
                               pkrw_count_nodes(pkg_outputs(*out)) };
  }
  return changed ? 1 : 0;
}

int pk_rewrite_model(pk_engine *e, pk_term model, const char *rules, const char *relation, const char *walker,
                     uint64_t max_steps, pk_term *out, pk_rewrite_info *info)
{
  if (pka_refused(e, "pk_rewrite_model")) return PK_ERUNTIME;
  pka_enter(e);
  pka_rw_ctx = NULL;
  pko_catch k;
  if (!PKO_TRY(k)) {
    pkrw_free(pka_rw_ctx);
    pka_rw_ctx = NULL;
    return pka_fail(e);
  }
  pk_val r;
  int st = pka_rewrite(model, rules, relation, walker, max_steps, &r, info);
  PKO_END(k);
  pkrw_free(pka_rw_ctx);
  pka_rw_ctx = NULL;
  *out = pka_root(e, r);
  pka_leave();
  return st;
}

/* ---- verified rewrites (SPEC §5) ------------------------------------------------- */

#include "pk_verify.h"

int pk_verify_model(pk_engine *e, pk_term original, pk_term rewritten, long draws, unsigned long seed, double alpha,
                    FILE *out)
{
  if (pka_refused(e, "pk_verify_model")) return PK_ERUNTIME;
  pka_enter(e);
  if (draws < 100 || !(alpha > 0 && alpha < 1))
    return pka_error(e, PK_STATUS_RUNTIME, "pk_verify_model: draws below 100 or alpha outside (0, 1)");
  pk_val a = pkg_modelp(original) ? pkh_intern(original) : 0, b = pkg_modelp(rewritten) ? pkh_intern(rewritten) : 0;
  if (!a || !b) return pka_error(e, PK_STATUS_RUNTIME, "pk_verify_model: not a model");
  FILE *sink = out ? out : fopen("/dev/null", "w");
  if (!sink) return pka_error(e, PK_STATUS_RUNTIME, "pk_verify_model: cannot open /dev/null");
  pkv_opts o = { .draws = draws, .seed = seed, .alpha = alpha, .out = sink };
  pko_catch k;
  if (!PKO_TRY(k)) {
    if (!out) fclose(sink);
    return pka_fail(e);
  }
  int failed = pkv_check(a, b, &o);
  PKO_END(k);
  if (!out) fclose(sink);
  pka_leave();
  return failed;
}
