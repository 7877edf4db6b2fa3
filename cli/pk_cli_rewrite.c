/*
** pk_cli_rewrite.c — `pkanren rewrite`: options, signals and the
** interpreter thread around the batch (api/pk_batch.c).
*/
#include "pk_cli.h"
#include "pk_batch.h"
#include "pk_eval.h"
#include "pk_init.h"
#include "pk_topo.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PK_USAGE_REWRITE                                                                          \
  "usage: pkanren rewrite --rules RULES --relation NAME [--walker walko|non_obs_walko]\n"         \
  "                       MODELS... [-o DIR] [-j N] [--timeout-per-model S] [--max-steps N]\n"    \
  "                       [--max-memory BYTES] [--timeout S] [--shard I/N] [--files-from FILE]\n" \
  "                       [--retry-failed] [--stats]\n"

static const char *pkcli_rewrite_help =
    PK_USAGE_REWRITE "\n"
                     "Rewrites each output of each model to the first answer of\n"
                     "  (run 1 (q) (reduceo (lambda (a b) (WALKER NAME a b)) OUTPUT q))\n"
                     "\n"
                     "  --rules RULES    a rules file, or a library name (kanren, stats)\n"
                     "  --relation NAME  the rule relation, of two arguments\n"
                     "  --walker W       walko (default) or non_obs_walko\n"
                     "  MODELS           .model files, directories (every .model inside), - (stdin)\n"
                     "  -o DIR           output tree (default rewritten/), DIR/summary.jsonl\n"
                     "  -j N             workers: files rewritten at once, or one large model's passes\n"
                     "                   split among them (same outputs on any N)\n"
                     "  --timeout-per-model S  a model's time limit (status timeout)\n"
                     "  --max-steps N    a model's limit of relation queries (default 100000000)\n"
                     "  --max-memory B   a model's limit on the bytes in use it adds (K/M/G/T)\n"
                     "  --timeout S      the batch's time limit (exit 3)\n"
                     "  --shard I/N      the I-th of N slices of the sorted input files\n"
                     "  --files-from F   input paths, one a line\n"
                     "  --retry-failed   redo files whose models failed in an earlier run\n"
                     "  --stats          phases, rewrites/s and memory on stderr\n"
                     "\n"
                     "exit status: 0 ok, 1 a model failed, 2 usage, rules or output error,\n"
                     "             3 runtime error or --timeout, 130 SIGINT, 143 SIGTERM\n";

typedef struct pkcli_rewrite_job {
  pkbt_opts o;
  int status;
} pkcli_rewrite_job;

static volatile sig_atomic_t pkcli_rewrite_term;

static void pkcli_rewrite_on_term(int sig)
{
  (void)sig;
  pkcli_rewrite_term = 1;
  pko_stop(PKO_STOP_SIGNAL);
}

static void *pkcli_rewrite_thread(void *arg)
{
  pkcli_rewrite_job *j = arg;
  pke_thread_start();
  j->status = pkbt_run(&j->o);
  return NULL;
}

/* The exit status of the batch j: SIGTERM's 143 when it stopped it. */
static int pkcli_rewrite_status(void *arg)
{
  const pkcli_rewrite_job *j = arg;
  return j->status == PK_STATUS_INTERRUPT && pkcli_rewrite_term ? 143 : j->status;
}

/* pkanren rewrite [options] MODELS... */
int pkcli_rewrite(int argc, char **argv)
{
  pkcli_rewrite_job j = { 0 };
  pkbt_opts *o = &j.o;
  long workers = 1, n;
  o->inputs = calloc((size_t)argc + 1, sizeof *o->inputs);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(pkcli_rewrite_help, stdout);
      return 0;
    } else if (!strcmp(a, "--rules") && v) {
      o->rules = v;
      i++;
    } else if (!strcmp(a, "--relation") && v) {
      o->relation = v;
      i++;
    } else if (!strcmp(a, "--walker")) {
      if (!v || (strcmp(v, "walko") && strcmp(v, "non_obs_walko")))
        return pkcli_usage("--walker takes walko or non_obs_walko", PK_USAGE_REWRITE);
      o->walker = v;
      i++;
    } else if (!strcmp(a, "-o") && v) {
      o->outdir = v;
      i++;
    } else if (!strcmp(a, "-j")) {
      if (!pkcli_long(v, &workers) || workers < 1) return pkcli_usage("-j needs a positive number", PK_USAGE_REWRITE);
      i++;
    } else if (!strcmp(a, "--timeout-per-model")) {
      if (!pkcli_seconds(v, &o->timeout_model))
        return pkcli_usage("--timeout-per-model needs a positive number of seconds", PK_USAGE_REWRITE);
      i++;
    } else if (!strcmp(a, "--timeout")) {
      if (!pkcli_seconds(v, &o->timeout))
        return pkcli_usage("--timeout needs a positive number of seconds", PK_USAGE_REWRITE);
      i++;
    } else if (!strcmp(a, "--max-memory")) {
      if (!(o->max_memory = pkcli_bytes(v)))
        return pkcli_usage("--max-memory needs a positive byte count (K/M/G/T suffixes)", PK_USAGE_REWRITE);
      i++;
    } else if (!strcmp(a, "--max-steps")) {
      if (!pkcli_long(v, &n) || n < 1) return pkcli_usage("--max-steps needs a positive number", PK_USAGE_REWRITE);
      o->max_steps = (uint64_t)n;
      i++;
    } else if (!strcmp(a, "--shard")) {
      char *end;
      o->shard_i = v ? strtol(v, &end, 10) : 0;
      if (!v || *end != '/' || !pkcli_long(end + 1, &o->shard_n) || o->shard_n < 1 || o->shard_i < 1 ||
          o->shard_i > o->shard_n)
        return pkcli_usage("--shard takes I/N with 1 <= I <= N", PK_USAGE_REWRITE);
      i++;
    } else if (!strcmp(a, "--files-from") && v) {
      o->files_from = v;
      i++;
    } else if (!strcmp(a, "--retry-failed"))
      o->retry_failed = true;
    else if (!strcmp(a, "--stats"))
      o->stats = true;
    else if (a[0] == '-' && a[1])
      return pkcli_usage(!v && a[1] == '-' ? "option needs an argument" : "unknown option", PK_USAGE_REWRITE);
    else
      o->inputs[o->ninputs++] = a;
  }
  if (!o->rules || !o->relation) return pkcli_usage("rewrite needs --rules and --relation", PK_USAGE_REWRITE);
  if (!o->ninputs && !o->files_from) return pkcli_usage("rewrite needs MODELS", PK_USAGE_REWRITE);
  o->progress = isatty(2);
  o->workers = (int)workers;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = pkcli_rewrite_on_term;
  sigaction(SIGTERM, &sa, NULL);
  pko_set_markers((unsigned)workers);
  pki_init();
  pki_configure((int)workers, false, 0, false);
  pkcli_on_big_stack(pkcli_rewrite_thread, &j, pkcli_rewrite_status);
}
