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
#include <string.h>

#define PK_USAGE_RUN                                                        \
  "usage: pkanren run FILE.scm [-j N] [--unordered] [--stats] [--stream]\n" \
  "                    [--format sexp|json] [--stack BYTES] [--seed N]\n"

static const char *pkcli_run_help =
    PK_USAGE_RUN "\n"
                 "Runs FILE like `scheme --script`, and writes the value of each top-level\n"
                 "run/run* form of FILE on a line of its own.\n"
                 "\n"
                 "  -j N             workers (default: CPUs in the affinity mask, or\n"
                 "                   PKANREN_THREADS); by default the output is one\n"
                 "                   worker's, byte for byte, and the others force parts\n"
                 "                   of the search ahead of it\n"
                 "  --unordered      search on all workers and release answers as found\n"
                 "  --stats          print search statistics to stderr\n"
                 "  --stream         write each answer of a top-level run as it is released\n"
                 "  --format F       sexp (default) or json\n"
                 "  --stack BYTES    Scheme recursion budget (default 1G; K/M/G suffixes)\n"
                 "  --seed N         seed of the scheduler's random choices\n";

typedef struct pkcli_run_opts {
  const char *file;
  pkl_opts opts;
  bool stats;
  long workers;
  bool unordered;
  unsigned long long seed;
  int status;
  double seconds;
} pkcli_run_opts;

static void *pkcli_run_thread(void *arg)
{
  pkcli_run_opts *r = arg;
  pke_thread_start();
  double t0 = pkcli_now();
  r->status = pkl_run_file(r->file, &r->opts);
  r->seconds = pkcli_now() - t0;
  if (r->status != PK_STATUS_OK && r->status != PK_STATUS_FAILED && r->status != PK_STATUS_EXIT)
    fprintf(stderr, "%s\n", pko_err.msg);
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

/* pkanren run FILE [options] */
int pkcli_run(int argc, char **argv)
{
  pkcli_run_opts r = { 0 };
  r.opts.print_runs = true;
  r.workers = pkt_default_workers();
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long n;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(pkcli_run_help, stdout);
      return 0;
    } else if (!strcmp(a, "-j")) {
      if (!pkcli_long(v, &n) || n < 1) return pkcli_usage("-j needs a positive number", PK_USAGE_RUN);
      r.workers = n;
      i++;
    } else if (!strncmp(a, "-j", 2) && a[2]) {
      if (!pkcli_long(a + 2, &n) || n < 1) return pkcli_usage("-j needs a positive number", PK_USAGE_RUN);
      r.workers = n;
    } else if (!strcmp(a, "--unordered"))
      r.unordered = true;
    else if (!strcmp(a, "--stats"))
      r.stats = true;
    else if (!strcmp(a, "--stream"))
      r.opts.stream = true;
    else if (!strcmp(a, "--format")) {
      if (!v || (strcmp(v, "sexp") && strcmp(v, "json")))
        return pkcli_usage("--format takes sexp or json", PK_USAGE_RUN);
      r.opts.json = !strcmp(v, "json");
      i++;
    } else if (!strcmp(a, "--stack")) {
      size_t b = v ? pkcli_bytes(v) : 0;
      if (b < ((size_t)1 << 20)) return pkcli_usage("--stack needs a byte count of at least 1M", PK_USAGE_RUN);
      pke_stack_budget = b;
      pke_stack_exact = true;
      i++;
    } else if (!strcmp(a, "--seed")) {
      if (!pkcli_long(v, &n) || n < 0) return pkcli_usage("--seed needs a non-negative number", PK_USAGE_RUN);
      r.seed = (unsigned long long)n;
      i++;
    } else if (a[0] == '-' && a[1])
      return pkcli_usage("unknown option", PK_USAGE_RUN);
    else if (r.file)
      return pkcli_usage("only one FILE", PK_USAGE_RUN);
    else
      r.file = a;
  }
  if (!r.file) return pkcli_usage("run needs a FILE", PK_USAGE_RUN);
  pko_set_markers((unsigned)r.workers);
  pki_init();
  pki_configure((int)r.workers, r.unordered, r.seed, false);
  pkcli_on_big_stack(pkcli_run_thread, &r);
  return r.status == PK_STATUS_EXIT ? r.opts.exit_code : r.status;
}
