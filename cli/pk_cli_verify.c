/*
** pk_cli_verify.c — `pkanren verify`: rewrite each model with the
** fixed-point driver (pk_rewrite.h) and check the rewrite numerically
** (pk_verify.h).
*/
#include "pk_batch.h"
#include "pk_cli.h"
#include "pk_eval.h"
#include "pk_graph.h"
#include "pk_init.h"
#include "pk_rewrite.h"
#include "pk_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK_USAGE_VERIFY                                                                    \
  "usage: pkanren verify --rules RULES --relation NAME [--walker walko|non_obs_walko]\n"   \
  "                      [--draws N] [--seed N] [--timeout-per-model S] [--max-steps N]\n" \
  "                      [--max-memory BYTES] [--timeout S] MODELS...\n"

/* The family-wise false-alarm rate of a whole run (split over its models). */
#define PKCLI_VERIFY_ALPHA 1e-3
#define PKCLI_VERIFY_DRAWS 100000

static const char *pkcli_verify_help =
    PK_USAGE_VERIFY "\n"
                    "Rewrites each model of the MODELS files as `pkanren rewrite` does, then\n"
                    "draws the original and the rewritten model N times each (inputs at their\n"
                    "test values, random variables through GSL) and checks the rewrite: a\n"
                    "re-parameterisation keeps the distribution of every original random\n"
                    "variable (by NAME, else by position) and of every output (by position);\n"
                    "an observed output rewritten into a posterior equals the exact Bayesian\n"
                    "update and an importance-sampling estimate.  One line per check, then a\n"
                    "summary line per model.  A correct rewrite fails with probability at most\n"
                    "1e-3 per run (Bonferroni over every test of every model).\n"
                    "\n"
                    "  --rules RULES    rules file, or library name (stats: relations/stats.scm)\n"
                    "  --relation NAME  the rule relation (two arguments)\n"
                    "  --walker W       walko (default) or non_obs_walko\n"
                    "  --draws N        draws per model and side (default 100000, at least 100)\n"
                    "  --seed N         GSL mt19937 seed (default 1)\n"
                    "  --timeout-per-model S, --max-steps N, --max-memory B\n"
                    "                   a model's limits (its rewrite and its draws; steps are\n"
                    "                   relation queries, B the bytes in use it adds): past one,\n"
                    "                   the model fails with a message naming it, the others go on\n"
                    "  --timeout S      the whole command (exit 3 when reached)\n"
                    "\n"
                    "exit status: 0 every check passed, 1 a check failed, 2 usage or input\n"
                    "error (an input without a test value), 3 runtime error\n";

typedef struct pkcli_verify_opts {
  const char *rules, *relation, *walker;
  char **files;
  int nfiles;
  long draws;
  unsigned long seed;
  double timeout_model, timeout; /* seconds; 0: none */
  uint64_t max_steps, max_memory;
  int status;
} pkcli_verify_opts;

/* Throw the command's time limit once deadline (0: none) has passed. */
static void pkcli_verify_deadline(const pkcli_verify_opts *v, uint64_t deadline)
{
  if (deadline && pko_now_ns() >= deadline)
    pko_throw_at(PK_STATUS_RUNTIME, NULL, "pkanren verify: time limit of %g s reached (--timeout)", v->timeout);
}

/* Rewrite and check model m under its limits; the number of failed checks,
   or -1 with the failure printed when a limit stopped it.  Other errors
   are rethrown. */
static int pkcli_verify_limited(const pkcli_verify_opts *v, pkrw_ctx *ctx, const char *file, pk_val m,
                                const pkv_opts *o, uint64_t deadline);

/* Check one model; a static error (an input without a test value) is
   rethrown with the file's name in front. */
static int pkcli_verify_model(const char *file, pk_val m, pk_val r, const pkv_opts *o)
{
  pko_catch c;
  if (!PKO_TRY(c)) {
    if (pko_err.status == PK_STATUS_STATIC) {
      char msg[sizeof pko_err.msg + 512];
      snprintf(msg, sizeof msg, "%.500s: %s", file, pko_err.msg);
      msg[sizeof pko_err.msg - 1] = 0;
      memcpy(pko_err.msg, msg, sizeof pko_err.msg);
    }
    pko_rethrow();
  }
  int failed = pkv_check(m, r, o);
  PKO_END(c);
  return failed;
}

/* The exit status of verify v. */
static int pkcli_verify_status(void *arg) { return ((const pkcli_verify_opts *)arg)->status; }

/* Read every model first (their count splits alpha), then rewrite and
   check each. */
static void *pkcli_verify_thread(void *arg)
{
  pkcli_verify_opts *v = arg;
  pkrw_walker w;
  pkrw_ctx *ctx = NULL;
  char *path = NULL;
  pke_thread_start();
  pkbt_walker(v->walker, &w);
  pko_catch c;
  if (!PKO_TRY(c)) {
    fprintf(stderr, "%s\n", pko_err.msg);
    v->status = pko_err.status == PK_STATUS_STATIC      ? PK_STATUS_STATIC
                : pko_err.status == PK_STATUS_INTERRUPT ? PK_STATUS_INTERRUPT
                                                        : PK_STATUS_RUNTIME;
    pkrw_free(ctx);
    free(path);
    return NULL;
  }
  path = pkbt_rules_path(v->rules);
  pk_val rel = pkbt_load_rules(path, v->relation);
  pk_val all = PK_NIL;
  long nmodels = 0;
  for (int i = 0; i < v->nfiles; i++) {
    pk_val ms = pkg_read_file(v->files[i], NULL);
    nmodels += pko_length(ms);
    all = pko_cons(ms, all);
  }
  all = pko_reverse(all);
  ctx = pkrw_new(rel, w);
  pkv_opts o = { .draws = v->draws, .seed = v->seed, .alpha = PKCLI_VERIFY_ALPHA / (double)nmodels, .out = stdout };
  int failed = 0;
  uint64_t deadline = v->timeout > 0 ? pko_now_ns() + (uint64_t)(v->timeout * 1e9) : 0;
  for (int i = 0; i < v->nfiles; i++, all = pko_cdr(all))
    for (pk_val ms = pko_car(all); pko_pairp(ms); ms = pko_cdr(ms)) {
      pkcli_verify_deadline(v, deadline);
      pkcli_verify_limited(v, ctx, v->files[i], pko_car(ms), &o, deadline) ? failed++ : 0;
      fflush(stdout);
    }
  PKO_END(c);
  pkrw_free(ctx);
  free(path);
  printf("%s: %d of %ld models failed verification\n", failed ? "FAIL" : "ok", failed, nmodels);
  v->status = failed ? PK_STATUS_FAILED : PK_STATUS_OK;
  return NULL;
}

static int pkcli_verify_limited(const pkcli_verify_opts *v, pkrw_ctx *ctx, const char *file, pk_val m,
                                const pkv_opts *o, uint64_t deadline)
{
  const char *name = pko_symname(pkg_name(m));
  double secs = v->timeout_model;
  if (deadline) {
    double left = (double)(deadline - pko_now_ns()) * 1e-9;
    if (!secs || left < secs) secs = left > 1e-3 ? left : 1e-3;
  }
  pko_limits lim = { 0, v->max_memory ? pko_memory_used() + v->max_memory : 0, secs };
  pkrw_limit(ctx, v->max_steps ? v->max_steps : PKBT_DEFAULT_STEPS, 0);
  pko_catch c;
  if (!PKO_TRY(c)) {
    int why = pko_stop_reason();
    pko_limits_begin(&(pko_limits){ 0 }); /* ends the model's watchdog, clears the reason */
    pkcli_verify_deadline(v, deadline);
    if (why == PKO_STOP_TIME)
      printf("FAIL %s: time limit of %g s reached (--timeout-per-model)\n", name, v->timeout_model);
    else if (why == PKO_STOP_MEMORY)
      printf("FAIL %s: memory limit of %llu bytes reached (--max-memory)\n", name, (unsigned long long)v->max_memory);
    else if (strstr(pko_err.msg, "step limit") == pko_err.msg)
      printf("FAIL %s: %s\n", name, pko_err.msg);
    else
      pko_rethrow();
    return -1;
  }
  pko_limits_begin(&lim);
  bool changed;
  pk_val r = pkrw_model(ctx, m, &changed);
  int failed = 0;
  if (!changed)
    printf("ok %s: unchanged by %s (nothing to check)\n", name, v->relation);
  else
    failed = pkcli_verify_model(file, m, r, o);
  PKO_END(c);
  pko_limits_begin(&(pko_limits){ 0 });
  return failed;
}

/* pkanren verify --rules RULES --relation NAME [options] MODELS... */
int pkcli_verify(int argc, char **argv)
{
  pkcli_verify_opts v = { .walker = "walko", .draws = PKCLI_VERIFY_DRAWS, .seed = 1 };
  v.files = pko_xcalloc((size_t)argc + 1, sizeof(char *));
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *x = i + 1 < argc ? argv[i + 1] : NULL;
    long n;
    pkrw_walker w;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(pkcli_verify_help, stdout);
      free(v.files);
      return 0;
    } else if (!strcmp(a, "--rules") || !strcmp(a, "--relation") || !strcmp(a, "--walker")) {
      if (!x) return free(v.files), pkcli_usage("an option needs its argument", PK_USAGE_VERIFY);
      if (!strcmp(a, "--rules"))
        v.rules = x;
      else if (!strcmp(a, "--relation"))
        v.relation = x;
      else if (!pkbt_walker(x, &w))
        return free(v.files), pkcli_usage("--walker takes walko or non_obs_walko", PK_USAGE_VERIFY);
      else
        v.walker = x;
      i++;
    } else if (!strcmp(a, "--draws")) {
      if (!pkcli_long(x, &n) || n < 100)
        return free(v.files), pkcli_usage("--draws needs a number >= 100", PK_USAGE_VERIFY);
      v.draws = n;
      i++;
    } else if (!strcmp(a, "--seed")) {
      if (!pkcli_long(x, &n) || n < 0)
        return free(v.files), pkcli_usage("--seed needs a non-negative number", PK_USAGE_VERIFY);
      v.seed = (unsigned long)n;
      i++;
    } else if (!strcmp(a, "--timeout-per-model") || !strcmp(a, "--timeout")) {
      if (!pkcli_seconds(x, !strcmp(a, "--timeout") ? &v.timeout : &v.timeout_model))
        return free(v.files), pkcli_usage("a time limit needs a positive number of seconds", PK_USAGE_VERIFY);
      i++;
    } else if (!strcmp(a, "--max-steps")) {
      if (!pkcli_long(x, &n) || n < 1)
        return free(v.files), pkcli_usage("--max-steps needs a positive number", PK_USAGE_VERIFY);
      v.max_steps = (uint64_t)n;
      i++;
    } else if (!strcmp(a, "--max-memory")) {
      if (!(v.max_memory = pkcli_bytes(x)))
        return free(v.files), pkcli_usage("--max-memory needs a positive byte count (K/M/G/T)", PK_USAGE_VERIFY);
      i++;
    } else if (a[0] == '-' && a[1]) {
      return free(v.files), pkcli_usage("unknown option", PK_USAGE_VERIFY);
    } else {
      v.files[v.nfiles++] = argv[i];
    }
  }
  if (!v.rules || !v.relation)
    return free(v.files), pkcli_usage("verify needs --rules and --relation", PK_USAGE_VERIFY);
  if (!v.nfiles) return free(v.files), pkcli_usage("verify needs MODELS", PK_USAGE_VERIFY);
  pko_set_markers(1);
  pki_init();
  pki_configure(1, false, 0, false);
  pkcli_on_big_stack(pkcli_verify_thread, &v, pkcli_verify_status);
}
