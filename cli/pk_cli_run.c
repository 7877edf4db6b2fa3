/*
** pk_cli_run.c — `pkanren run FILE`: run a program, print its top-level
** run values, and the search statistics with --stats.
*/
#include "pk_cli.h"
#include "pk_builtin.h"
#include "pk_eval.h"
#include "pk_init.h"
#include "pk_load.h"
#include "pk_search.h"
#include "pk_topo.h"
#include "pk_worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PK_USAGE_RUN                                                        \
  "usage: pkanren run FILE.scm [-j N] [--unordered] [--stats] [--stream]\n" \
  "                    [--format sexp|json] [--stack BYTES] [--seed N]\n"   \
  "                    [--max-steps N] [--max-memory BYTES] [--timeout S]\n"

static const char *pkcli_run_help =
    PK_USAGE_RUN "\n"
                 "Runs FILE like `scheme --script`, and writes the value of each top-level\n"
                 "run/run* form of FILE on a line of its own.\n"
                 "\n"
                 "  -j N             workers, 1 to 1024 (default: CPUs in the affinity\n"
                 "                   mask, or PKANREN_THREADS); by default the output is one\n"
                 "                   worker's, byte for byte, and the others force parts\n"
                 "                   of the search ahead of it\n"
                 "  --unordered      search on all workers and release answers as found\n"
                 "  --stats          print search statistics to stderr\n"
                 "  --stream         write each answer of a top-level run as it is released\n"
                 "  --format F       sexp (default) or json (lossless; with --stream one\n"
                 "                   {\"run\":K,\"answer\":A} a line, program output on stderr)\n"
                 "  --stack BYTES    Scheme recursion budget (default 1G; K/M/G/T suffixes)\n"
                 "  --seed N         seed of the scheduler's random choices\n"
                 "  --max-steps N    stop after N forced suspensions of the search\n"
                 "  --max-memory B   stop when the collected heap plus malloc exceeds B bytes\n"
                 "  --timeout S      stop after S seconds\n"
                 "A limit ends the command with exit status 3 and a message naming it;\n"
                 "SIGINT, SIGTERM and SIGHUP end it with 130, 143 and 129.  Either way the\n"
                 "answers found so far are printed: a top-level run cut short is written as\n"
                 "its list followed by \" ; partial: REASON\" on its line (in JSON\n"
                 "{\"run\":K,\"partial\":[...],\"stopped\":REASON}).\n";

typedef struct pkcli_run_opts {
  const char *file;
  pkl_opts opts;
  bool stats;
  long workers;
  bool unordered;
  unsigned long long seed;
  pko_limits limits;
  int status;
  double seconds;
} pkcli_run_opts;

/* The program is compiled: from now on a signal stops the search and the
   answers found are printed, instead of exiting at once. */
static void pkcli_run_running(void) { pkcli_quick_exit(false); }

/* The run's error message, with the signal's name for an interrupt. */
static void pkcli_run_report(int status)
{
  if (status == PK_STATUS_OK || status == PK_STATUS_FAILED || status == PK_STATUS_EXIT) return;
  if (status == PK_STATUS_INTERRUPT && pkcli_signal())
    fprintf(stderr, "%s (%s)\n", pko_err.msg, pkcli_signal_name());
  else
    fprintf(stderr, "%s\n", pko_err.msg);
}

static void *pkcli_run_thread(void *arg)
{
  pkcli_run_opts *r = arg;
  pke_thread_start();
  double t0 = pkcli_now();
  pko_limits_begin(&r->limits);
  pks_limits_reset();
  r->status = pkl_run_file(r->file, &r->opts);
  pko_limits_end();
  r->seconds = pkcli_now() - t0;
  pkcli_run_report(r->status);
  if (r->stats) {
    uint64_t u = pks_unify_count() + pkw_pool_unifications();
    if (pkw_used())
      pkw_print_stats(stderr);
    else
      fprintf(stderr, "stats: 1 worker (sequential engine), seed %llu, collector markers %d\n", r->seed,
              GC_get_parallel() + 1);
    fprintf(stderr, "stats: answers printed %llu, wall %.3f s, unifications %llu (%.0f/s)\n",
            (unsigned long long)r->opts.answers, r->seconds, (unsigned long long)u,
            r->seconds > 0 ? (double)u / r->seconds : 0.0);
  }
  return NULL;
}

/* The exit status of run r: a signal's, or the program's (exit N) or the
   run's status. */
static int pkcli_run_status(void *arg)
{
  const pkcli_run_opts *r = arg;
  if (pkcli_signal()) return pkcli_signal_status();
  return r->status == PK_STATUS_EXIT ? r->opts.exit_code : r->status;
}

/* A usage error naming the option and its value. */
static int pkcli_run_bad(const char *opt, const char *v, const char *want)
{
  char msg[320];
  snprintf(msg, sizeof msg, "%s %s%.200s%s: %s", opt, v ? "'" : "", v ? v : "needs a value", v ? "'" : "", want);
  return pkcli_usage(msg, PK_USAGE_RUN);
}

/* pkanren run FILE [options] */
int pkcli_run(int argc, char **argv)
{
  pkcli_run_opts r = { 0 };
  r.opts.print_runs = true;
  r.opts.running = pkcli_run_running;
  const char *env = getenv("PKANREN_THREADS");
  if (env && !pkcli_workers("PKANREN_THREADS", env, &r.workers)) return PK_STATUS_STATIC;
  if (!env) r.workers = pkt_default_workers();
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long n;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(pkcli_run_help, stdout);
      return 0;
    } else if (!strcmp(a, "-j") || (!strncmp(a, "-j", 2) && a[2])) {
      if (!pkcli_workers("-j", a[2] ? a + 2 : v, &r.workers)) return PK_STATUS_STATIC;
      i += !a[2];
    } else if (!strcmp(a, "--unordered"))
      r.unordered = true;
    else if (!strcmp(a, "--stats"))
      r.stats = true;
    else if (!strcmp(a, "--stream"))
      r.opts.stream = true;
    else if (!strcmp(a, "--format")) {
      if (!v || (strcmp(v, "sexp") && strcmp(v, "json"))) return pkcli_run_bad(a, v, "sexp or json");
      r.opts.json = !strcmp(v, "json");
      i++;
    } else if (!strcmp(a, "--stack")) {
      size_t b = pkcli_bytes(v);
      if (b < ((size_t)1 << 20) || b > ((size_t)1 << 40))
        return pkcli_run_bad(a, v, "a byte count from 1M to 1T (K/M/G/T suffixes)");
      pke_stack_budget = b;
      pke_stack_exact = true;
      i++;
    } else if (!strcmp(a, "--seed")) {
      if (!pkcli_long(v, &n) || n < 0) return pkcli_run_bad(a, v, "a non-negative number");
      r.seed = (unsigned long long)n;
      i++;
    } else if (!strcmp(a, "--max-steps")) {
      if (!pkcli_long(v, &n) || n < 1) return pkcli_run_bad(a, v, "a positive number of steps");
      r.limits.max_steps = (uint64_t)n;
      i++;
    } else if (!strcmp(a, "--max-memory")) {
      size_t b = pkcli_bytes(v);
      if (!b) return pkcli_run_bad(a, v, "a positive byte count (K/M/G/T suffixes)");
      r.limits.max_memory = b;
      i++;
    } else if (!strcmp(a, "--timeout")) {
      if (!pkcli_seconds(v, &r.limits.timeout)) return pkcli_run_bad(a, v, "seconds, more than 0 and at most a year");
      i++;
    } else if (a[0] == '-' && a[1]) {
      char msg[256];
      snprintf(msg, sizeof msg, "unknown option '%.200s' for run", a);
      return pkcli_usage(msg, PK_USAGE_RUN);
    } else if (r.file)
      return pkcli_run_bad("FILE", a, "only one FILE");
    else
      r.file = a;
  }
  if (!r.file) return pkcli_usage("run needs a FILE", PK_USAGE_RUN);
  if (r.opts.stream && r.opts.json) {
    r.opts.out = stdout; /* the answers alone on stdout, program output on stderr */
    pkb_out = stderr;
  }
  pkcli_quick_exit(true);
  pko_set_markers((unsigned)r.workers);
  pki_init();
  pki_configure((int)r.workers, r.unordered, r.seed, false);
  pkcli_on_big_stack(pkcli_run_thread, &r, pkcli_run_status);
}
