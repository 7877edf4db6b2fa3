/*
** pk_cli.c — the pkanren command: options shared by its commands, and main,
** which dispatches to one file per command (pk_cli_NAME.c).
*/
#include "pk_cli.h"
#include "pk_eval.h"
#include "pk_init.h"
#include "pk_topo.h"
#include "pkanren.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *pkcli_help =
    "pkanren " PK_VERSION_STRING " - parallel relational search (miniKanren) in C\n"
    "\n"
    "usage: pkanren COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  run FILE.scm     run a faster-miniKanren program (pkanren run --help)\n"
    "  repl             interactive prompt with line editing and history\n"
    "  rewrite ...      rewrite models to a fixed point (pkanren rewrite --help)\n"
    "  bench [NAME...]  the benchmark suite at 1..N workers (pkanren bench --help)\n"
    "  print MODEL...   models in mathematical notation or LaTeX (pkanren print --help)\n"
    "  verify ...       rewrite models, check each rewrite numerically (pkanren verify --help)\n"
    "  --version        print the version\n"
    "  --help           this text\n"
    "\n"
    "exit status: 0 ok, 1 a test failed, 2 usage or static input error,\n"
    "             3 runtime error or a limit reached, 130 SIGINT,\n"
    "             143 SIGTERM, 129 SIGHUP\n";

/* Parse a byte count with an optional K/M/G/T suffix; 0 on junk, a sign or
   a count that does not fit in 64 bits (strtoull alone wraps). */
size_t pkcli_bytes(const char *s)
{
  char *end;
  if (!s || *s < '0' || *s > '9') return 0;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno == ERANGE) return 0;
  const char *units = "KMGT", *u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
  int shift = u ? 10 * (int)(u - units + 1) : 0;
  if (u) end++;
  if (*end || v > (SIZE_MAX >> shift)) return 0;
  return (size_t)v << shift;
}

bool pkcli_seconds(const char *s, double *out)
{
  char *end;
  if (!s || !*s) return false;
  *out = strtod(s, &end);
  return !*end && *out > 0 && *out <= 366.0 * 86400;
}

int pkcli_usage(const char *msg, const char *usage)
{
  fprintf(stderr, "pkanren: %s\n%s", msg, usage);
  return PK_STATUS_STATIC;
}

/* Parse a decimal option argument; false on junk or a value outside long. */
bool pkcli_long(const char *s, long *out)
{
  char *end;
  if (!s || !*s) return false;
  errno = 0;
  *out = strtol(s, &end, 10);
  return !*end && errno != ERANGE;
}

/* A worker count from -j or PKANREN_THREADS (named what), or a usage
   error naming the value: 1..PKT_MAX_WORKERS, the largest plan the
   scheduler builds (its victim lists hold workers^2 entries). */
bool pkcli_workers(const char *what, const char *s, long *out)
{
  if (pkcli_long(s, out) && *out >= 1 && *out <= PKT_MAX_WORKERS) return true;
  fprintf(stderr,
          "pkanren: %s %s%s%s: a worker count is a number from 1 to %d (each worker keeps a victim list of all the "
          "others)\n",
          what, s ? "'" : "", s ? s : "needs a value", s ? "'" : "", PKT_MAX_WORKERS);
  return false;
}

/* The signal that stopped the command, or 0. */
static volatile sig_atomic_t pkcli_sig;
/* 1 while nothing is worth saving (reading, compiling): exit at once. */
static volatile sig_atomic_t pkcli_quick = 1; /* commands other than run and repl never poll */

/* SIGINT, SIGTERM, SIGHUP: the first stops the search at its next poll
   (the command then prints what it has and exits 128+sig); a second one,
   or one while reading or compiling, exits at once.  Async-signal-safe:
   a lock-free atomic store, write and _exit. */
static void pkcli_on_signal(int sig)
{
  if (pkcli_sig || pkcli_quick) {
    const char *msg = sig == SIGINT    ? "pkanren: interrupted (SIGINT) before the program ran\n"
                      : sig == SIGTERM ? "pkanren: terminated (SIGTERM) before the program ran\n"
                                       : "pkanren: hung up (SIGHUP) before the program ran\n";
    if (!pkcli_sig) (void)!write(2, msg, strlen(msg));
    _exit(128 + sig);
  }
  pkcli_sig = sig;
  pko_stop(PKO_STOP_SIGNAL);
}

int pkcli_signal(void) { return pkcli_sig; }

void pkcli_forget_signal(void) { pkcli_sig = 0; }

void pkcli_quick_exit(bool on) { pkcli_quick = on; }

/* The exit status for the signal that stopped the command (SPEC §2). */
int pkcli_signal_status(void) { return 128 + pkcli_sig; }

const char *pkcli_signal_name(void)
{
  return pkcli_sig == SIGINT    ? "SIGINT"
         : pkcli_sig == SIGTERM ? "SIGTERM"
         : pkcli_sig == SIGHUP  ? "SIGHUP"
                                : "a signal";
}

/* Install the handlers; SIGPIPE is left at its default, which ends the
   process quietly with the status shells expect (141) when the reader of
   a pipe goes away (pkanren run ... | head). */
static void pkcli_signals(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = pkcli_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_DFL);
}

/* What pkcli_on_big_stack's thread runs, and the exit status after it. */
static struct {
  void *(*body)(void *);
  void *arg;
  int (*status)(void *);
} pkcli_big;

/* The big stack's thread: the command, then the process's exit. */
static void *pkcli_big_main(void *unused)
{
  (void)unused;
  pkcli_big.body(pkcli_big.arg);
  int st = pkcli_big.status(pkcli_big.arg);
  fflush(stdout);
  exit(st);
}

/* Run body on a thread whose stack holds the recursion budget (or the part
   of it the address-space limit leaves, unless --stack chose it). */
_Noreturn void pkcli_on_big_stack(void *(*body)(void *), void *arg, int (*status)(void *))
{
  pthread_t t;
  pkcli_big.body = body;
  pkcli_big.arg = arg;
  pkcli_big.status = status;
  if (!pko_thread_start(&t, pkcli_big_main, NULL, pke_stack_budget, pke_stack_exact, 4)) {
    fprintf(stderr, "pkanren: cannot start the interpreter thread with a stack of %zu bytes%s\n", pke_stack_budget,
            pke_stack_exact ? " (--stack): the address space (ulimit -v) does not hold it; lower --stack" : "");
    exit(PK_STATUS_RUNTIME);
  }
  pthread_join(t, NULL);
  abort(); /* not reached: the thread ends the process */
}

/* Monotonic seconds. */
double pkcli_now(void) { return (double)pko_now_ns() * 1e-9; }

/* "pkanren 0.1.0 (abc1234)": the version and the commit it was built from
   (generated at build time, cmake/PkVersion.cmake). */
extern const char pkv_build_info[];

/* The commands, in the order --help lists them. */
static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
} pkcli_cmds[] = {
  { "run", pkcli_run },     { "repl", pkcli_repl },   { "rewrite", pkcli_rewrite },
  { "bench", pkcli_bench }, { "print", pkcli_print }, { "verify", pkcli_verify },
};

#ifdef PK_JE_EMAP_BYTES
extern char je_arena_emap_global[];
#endif

int main(int argc, char **argv)
{
#ifdef PK_JE_EMAP_BYTES /* jemalloc linked statically: its 2 MB extent map joins the program's data */
  pko_gc_skip(je_arena_emap_global, je_arena_emap_global + PK_JE_EMAP_BYTES);
#endif
  pkcli_signals();
  if (argc < 2) return pkcli_usage("missing command", pkcli_help);
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
    printf("%s\n", pkv_build_info);
    return 0;
  }
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    fputs(pkcli_help, stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof pkcli_cmds / sizeof pkcli_cmds[0]; i++)
    if (!strcmp(cmd, pkcli_cmds[i].name)) {
      int st = pkcli_cmds[i].fn(argc - 2, argv + 2);
      fflush(stdout);
      return st;
    }
  char msg[256];
  snprintf(msg, sizeof msg, "unknown command '%.200s'", cmd);
  return pkcli_usage(msg, pkcli_help);
}
