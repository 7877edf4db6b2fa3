/*
** pk_cli.c — the pkanren command: options shared by its commands, and main,
** which dispatches to one file per command (pk_cli_NAME.c).
*/
#include "pk_cli.h"
#include "pk_eval.h"
#include "pk_init.h"
#include "pkanren.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *pkcli_help = "pkanren " PK_VERSION_STRING " - parallel relational search (miniKanren) in C\n"
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

/* Parse a byte count with an optional K/M/G suffix; 0 on error. */
size_t pkcli_bytes(const char *s)
{
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  switch (*end) {
  case 'k':
  case 'K':
    v <<= 10;
    end++;
    break;
  case 'm':
  case 'M':
    v <<= 20;
    end++;
    break;
  case 'g':
  case 'G':
    v <<= 30;
    end++;
    break;
  }
  return (*end || s[0] == '-') ? 0 : (size_t)v;
}

int pkcli_usage(const char *msg, const char *usage)
{
  fprintf(stderr, "pkanren: %s\n%s", msg, usage);
  return PK_STATUS_STATIC;
}

/* Parse a decimal option argument; false on junk. */
bool pkcli_long(const char *s, long *out)
{
  char *end;
  if (!s) return false;
  *out = strtol(s, &end, 10);
  return *s && !*end;
}

static void pkcli_on_sigint(int sig)
{
  (void)sig;
  pko_interrupt_set(1);
}

/* Run body on a thread whose stack holds the recursion budget (or the part
   of it the address-space limit leaves, unless --stack chose it). */
void pkcli_on_big_stack(void *(*body)(void *), void *arg)
{
  pthread_t t;
  if (!pko_thread_start(&t, body, arg, pke_stack_budget, pke_stack_exact, 4)) {
    fprintf(stderr, "pkanren: cannot start the interpreter thread with a stack of %zu bytes%s\n", pke_stack_budget,
            pke_stack_exact ? " (--stack): the address space (ulimit -v) does not hold it; lower --stack" : "");
    exit(PK_STATUS_RUNTIME);
  }
  pthread_join(t, NULL);
}

/* Monotonic seconds. */
double pkcli_now(void) { return (double)pko_now_ns() * 1e-9; }

/* The commands, in the order --help lists them. */
static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
} pkcli_cmds[] = {
  { "run", pkcli_run },
  { "repl", pkcli_repl },
  { "bench", pkcli_bench },
};

int main(int argc, char **argv)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = pkcli_on_sigint;
  sigaction(SIGINT, &sa, NULL);
  if (argc < 2) return pkcli_usage("missing command", pkcli_help);
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
    printf("pkanren %s\n", pk_version());
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
  return pkcli_usage("unknown command", pkcli_help);
}
