/*
** pk_main.c — the pkanren command: run, repl, --version, --help.
*/
#include "pk_bench.h"
#include "pk_builtin.h"
#include "pk_init.h"
#include "pk_eval.h"
#include "pk_load.h"
#include "pk_search.h"
#include "pk_print.h"
#include "pk_read.h"
#include "pk_worker.h"
#include "pk_topo.h"
#include "pkanren.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <editline/readline.h>

#define PK_USAGE_RUN \
  "usage: pkanren run FILE.scm [-j N] [--unordered] [--stats] [--stream]\n" \
  "                    [--format sexp|json] [--stack BYTES] [--seed N]\n"

static const char *pkc_help =
  "pkanren " PK_VERSION_STRING " - parallel relational search (miniKanren) in C\n"
  "\n"
  "usage: pkanren COMMAND [ARGS]\n"
  "\n"
  "commands:\n"
  "  run FILE.scm     run a faster-miniKanren program (pkanren run --help)\n"
  "  repl             interactive prompt with line editing and history\n"
  "  bench [NAME...]  the benchmark suite at 1..N workers (pkanren bench --help)\n"
  "  --version        print the version\n"
  "  --help           this text\n"
  "\n"
  "exit status: 0 ok, 1 a test failed, 2 usage or static input error,\n"
  "             3 runtime error, 130 interrupted\n";

static const char *pkc_run_help =
  PK_USAGE_RUN
  "\n"
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

typedef struct pkc_run {
  const char *file;
  pkl_opts opts;
  bool stats;
  long workers;
  bool unordered;
  unsigned long long seed;
  int status;
  double seconds;
} pkc_run;

/* Parse a byte count with an optional K/M/G suffix; 0 on error. */
static size_t pkc_bytes(const char *s)
{
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  switch (*end) {
  case 'k': case 'K': v <<= 10; end++; break;
  case 'm': case 'M': v <<= 20; end++; break;
  case 'g': case 'G': v <<= 30; end++; break;
  }
  return (*end || s[0] == '-') ? 0 : (size_t)v;
}

static int pkc_usage(const char *msg, const char *usage)
{
  fprintf(stderr, "pkanren: %s\n%s", msg, usage);
  return PK_STATUS_STATIC;
}

/* Parse a decimal option argument; false on junk. */
static bool pkc_long(const char *s, long *out)
{
  char *end;
  if (!s) return false;
  *out = strtol(s, &end, 10);
  return *s && !*end;
}

static void pkc_on_sigint(int sig)
{
  (void)sig;
  pko_interrupted = 1;
}

/* Run body on a thread whose stack holds the recursion budget. */
static void pkc_on_big_stack(void *(*body)(void *), void *arg)
{
  pthread_attr_t a;
  pthread_t t;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, pke_stack_budget + ((size_t)64 << 20));
  if (pthread_create(&t, &a, body, arg) != 0) {
    fprintf(stderr, "pkanren: cannot start the interpreter thread (stack %zu bytes)\n", pke_stack_budget);
    exit(PK_STATUS_RUNTIME);
  }
  pthread_join(t, NULL);
  pthread_attr_destroy(&a);
}

/* Monotonic seconds. */
static double pkc_now(void)
{
  return (double)pko_now_ns() * 1e-9;
}

static void *pkc_run_thread(void *arg)
{
  pkc_run *r = arg;
  pke_thread_start();
  double t0 = pkc_now();
  r->status = pkl_run_file(r->file, &r->opts);
  r->seconds = pkc_now() - t0;
  if (r->status != PK_STATUS_OK && r->status != PK_STATUS_FAILED && r->status != PK_STATUS_EXIT)
    fprintf(stderr, "%s\n", pko_err.msg);
  if (r->stats) {
    uint64_t u = pks_unify_count() + pkw_pool_unifications();
    if (pkw_used()) pkw_print_stats(stderr);
    else fprintf(stderr, "stats: 1 worker (sequential engine), seed %llu, collector markers %d\n", r->seed, GC_get_parallel() + 1);
    fprintf(stderr, "stats: answers printed %llu, wall %.3f s, unifications %llu (%.0f/s)\n",
            (unsigned long long)r->opts.answers, r->seconds, (unsigned long long)u,
            r->seconds > 0 ? (double)u / r->seconds : 0.0);
  }
  return NULL;
}

/* pkanren run FILE [options] */
static int pkc_cmd_run(int argc, char **argv)
{
  pkc_run r = { 0 };
  r.opts.print_runs = true;
  r.workers = pkt_default_workers();
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    long n;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(pkc_run_help, stdout); return 0; }
    else if (!strcmp(a, "-j")) { if (!pkc_long(v, &n) || n < 1) return pkc_usage("-j needs a positive number", PK_USAGE_RUN); r.workers = n; i++; }
    else if (!strncmp(a, "-j", 2) && a[2]) { if (!pkc_long(a + 2, &n) || n < 1) return pkc_usage("-j needs a positive number", PK_USAGE_RUN); r.workers = n; }
    else if (!strcmp(a, "--unordered")) r.unordered = true;
    else if (!strcmp(a, "--stats")) r.stats = true;
    else if (!strcmp(a, "--stream")) r.opts.stream = true;
    else if (!strcmp(a, "--format")) {
      if (!v || (strcmp(v, "sexp") && strcmp(v, "json"))) return pkc_usage("--format takes sexp or json", PK_USAGE_RUN);
      r.opts.json = !strcmp(v, "json");
      i++;
    } else if (!strcmp(a, "--stack")) {
      size_t b = v ? pkc_bytes(v) : 0;
      if (b < ((size_t)1 << 20)) return pkc_usage("--stack needs a byte count of at least 1M", PK_USAGE_RUN);
      pke_stack_budget = b;
      i++;
    } else if (!strcmp(a, "--seed")) {
      if (!pkc_long(v, &n) || n < 0) return pkc_usage("--seed needs a non-negative number", PK_USAGE_RUN);
      r.seed = (unsigned long long)n;
      i++;
    } else if (a[0] == '-' && a[1]) return pkc_usage("unknown option", PK_USAGE_RUN);
    else if (r.file) return pkc_usage("only one FILE", PK_USAGE_RUN);
    else r.file = a;
  }
  if (!r.file) return pkc_usage("run needs a FILE", PK_USAGE_RUN);
  pko_set_markers((unsigned)r.workers);
  pki_init();
  pki_configure((int)r.workers, r.unordered, r.seed, false);
  pkc_on_big_stack(pkc_run_thread, &r);
  return r.status == PK_STATUS_EXIT ? r.opts.exit_code : r.status;
}

/* ---- repl ----------------------------------------------------------------------- */

typedef struct pkc_repl { int status; } pkc_repl;

/* True if text holds an unfinished datum (more lines needed). */
static bool pkc_incomplete(const char *text)
{
  pko_catch c;
  if (PKO_TRY(c)) {
    pkr_reader *r = pkr_open("<repl>", text, strlen(text));
    pk_val x;
    while (pkr_next(r, &x)) {}
    PKO_END(c);
    return false;
  }
  return strstr(pko_err.msg, "unexpected end-of-file") != NULL;
}

/* Evaluate one complete input, printing each value like a REPL. */
static void pkc_repl_eval(const char *text)
{
  pko_catch c;
  if (PKO_TRY(c)) {
    pkr_reader *r = pkr_open("<repl>", text, strlen(text));
    pk_val x;
    while (pkr_next(r, &x)) {
      pk_srcpos pos = pkr_here(r);
      pkr_pos(x, &pos);
      pk_val v = pke_eval(pke_compile(x, &pos), NULL);
      if (v != PK_VOID) {
        pkp_buf b;
        pkp_init(&b);
        pkp_print(&b, v, PKP_WRITE);
        pkp_putc(&b, '\n');
        fwrite(b.s, 1, b.len, pkb_out);
        pkp_free(&b);
      }
    }
    PKO_END(c);
  } else if (pko_err.status == PK_STATUS_EXIT) {
    fflush(pkb_out);
    exit(pko_err.code);
  } else {
    fprintf(stderr, "%s\n", pko_err.status == PK_STATUS_INTERRUPT ? "interrupted" : pko_err.msg);
  }
  fflush(pkb_out);
}

static void *pkc_repl_thread(void *arg)
{
  (void)arg;
  pke_thread_start();
  char hist[4096] = "";
  const char *home = getenv("HOME");
  if (home) snprintf(hist, sizeof hist, "%s/.pkanren_history", home);
  using_history();
  if (*hist) read_history(hist);
  char *acc = NULL;
  size_t len = 0;
  for (;;) {
    char *line = readline(acc ? "  ... " : "pkanren> ");
    if (!line) break;
    pko_interrupted = 0;
    size_t n = strlen(line);
    acc = pko_xrealloc(acc, len + n + 2);
    memcpy(acc + len, line, n);
    len += n;
    acc[len++] = '\n';
    acc[len] = 0;
    free(line);
    if (pkc_incomplete(acc)) continue;
    if (len > 1) {
      acc[len - 1] = 0;
      add_history(acc);
      acc[len - 1] = '\n';
    }
    pkc_repl_eval(acc);
    free(acc);
    acc = NULL;
    len = 0;
  }
  if (*hist) write_history(hist);
  free(acc);
  fputc('\n', stdout);
  return NULL;
}

static int pkc_cmd_repl(int argc, char **argv)
{
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) { puts("usage: pkanren repl\n\nCtrl-C cancels the running query; Ctrl-D exits."); return 0; }
    return pkc_usage("repl takes no arguments", "usage: pkanren repl\n");
  }
  pki_init();
  pkc_on_big_stack(pkc_repl_thread, NULL);
  return 0;
}

int main(int argc, char **argv)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = pkc_on_sigint;
  sigaction(SIGINT, &sa, NULL);
  if (argc < 2) return pkc_usage("missing command", pkc_help);
  const char *cmd = argv[1];
  int st;
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) { printf("pkanren %s\n", pk_version()); return 0; }
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) { fputs(pkc_help, stdout); return 0; }
  if (!strcmp(cmd, "run")) st = pkc_cmd_run(argc - 2, argv + 2);
  else if (!strcmp(cmd, "repl")) st = pkc_cmd_repl(argc - 2, argv + 2);
  else if (!strcmp(cmd, "bench")) { pki_init(); st = pkc_cmd_bench(argc - 2, argv + 2); }
  else return pkc_usage("unknown command", pkc_help);
  fflush(stdout);
  return st;
}
