/*
** pk_cli_repl.c — `pkanren repl`: an interactive prompt with line editing
** and history (libedit); Ctrl-C cancels the running query.
*/
#include "pk_cli.h"
#include "pk_builtin.h"
#include "pk_comp.h"
#include "pk_eval.h"
#include "pk_init.h"
#include "pk_print.h"
#include "pk_read.h"
#include "pk_search.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <editline/readline.h>

/* readline's input: one byte, or EOF when Ctrl-C or the end of input ends
   the line (pkcli_signal() tells which).  The signal may be delivered to
   any thread, so the read waits in poll, which looks at the flag every
   50 ms. */
static int pkcli_repl_getc(FILE *f)
{
  struct pollfd p = { fileno(f), POLLIN, 0 };
  unsigned char c;
  for (;;) {
    if (pkcli_signal()) return EOF;
    int r = poll(&p, 1, 50);
    if (r < 0 && errno != EINTR) return EOF;
    if (r <= 0) continue;
    ssize_t n = read(p.fd, &c, 1);
    if (n == 1) return c;
    if (n == 0 || errno != EINTR) return EOF;
  }
}

/* True if text holds an unfinished datum (more lines needed). */
static bool pkcli_repl_incomplete(const char *text)
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
static void pkcli_repl_eval(const char *text)
{
  pko_catch c;
  if (PKO_TRY(c)) {
    pkr_reader *r = pkr_open("<repl>", text, strlen(text));
    pk_val x;
    while (pkr_next(r, &x)) {
      pk_srcpos pos = pkr_here(r);
      pkr_pos(x, &pos);
      pk_val v = pke_eval(pkc_compile(x, &pos), NULL);
      if (v != PK_VOID) {
        pkp_buf b;
        pkp_init(&b);
        pkp_print(&b, v, PKP_WRITE);
        pkp_putc(&b, '\n');
        pkp_fwrite(&b, pkb_out);
        pkp_free(&b);
      }
    }
    PKO_END(c);
  } else if (pko_err.status == PK_STATUS_EXIT) {
    fflush(pkb_out);
    exit(pko_err.code);
  } else {
    fprintf(stderr, "%s\n", pko_err.msg);
  }
  fflush(pkb_out);
}

/* The REPL's exit status: a signal's, else 0. */
static int pkcli_repl_status(void *arg)
{
  (void)arg;
  return pkcli_signal() ? pkcli_signal_status() : 0;
}

static void *pkcli_repl_thread(void *arg)
{
  (void)arg;
  pke_thread_start();
  char hist[4096] = "";
  const char *home = getenv("HOME");
  if (home) snprintf(hist, sizeof hist, "%s/.pkanren_history", home);
  rl_catch_signals = 0; /* before using_history, which sets libedit up: its own handlers re-raise Ctrl-C */
  rl_getc_function = pkcli_repl_getc;
  using_history();
  if (*hist) read_history(hist);
  char *acc = NULL;
  size_t len = 0;
  for (;;) {
    char *line = readline(acc ? "  ... " : "pkanren> ");
    if (pkcli_signal() && pkcli_signal() != SIGINT) break; /* SIGTERM, SIGHUP: leave */
    if (!line && pkcli_signal()) { /* Ctrl-C at a prompt: a fresh prompt, without the partial input */
      pkcli_forget_signal();
      fputs("^C\n", stdout);
      free(acc);
      acc = NULL;
      len = 0;
      continue;
    }
    if (!line) {
      if (acc) fprintf(stderr, "\npkanren: end of input inside an unfinished expression; discarded: %s", acc);
      break;
    }
    size_t n = strlen(line);
    acc = pko_xrealloc(acc, len + n + 2);
    memcpy(acc + len, line, n);
    len += n;
    acc[len++] = '\n';
    acc[len] = 0;
    free(line);
    if (pkcli_repl_incomplete(acc)) continue;
    if (len > 1) {
      acc[len - 1] = 0;
      add_history(acc);
      acc[len - 1] = '\n';
    }
    pko_limits_begin(&(pko_limits){ 0 }); /* no interrupt left from the prompt */
    pks_limits_reset();
    pkcli_repl_eval(acc);
    if (pkcli_signal() == SIGINT) pkcli_forget_signal(); /* Ctrl-C cancelled this input only */
    free(acc);
    acc = NULL;
    len = 0;
  }
  if (*hist) write_history(hist);
  free(acc);
  fputc('\n', stdout);
  return NULL;
}

int pkcli_repl(int argc, char **argv)
{
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) {
      puts("usage: pkanren repl\n\nCtrl-C cancels the running query, or the input typed so far at a prompt;\n"
           "Ctrl-D exits (inside an unfinished expression it says what it discards).");
      return 0;
    }
    char msg[256];
    snprintf(msg, sizeof msg, "repl takes no arguments ('%.200s')", argv[i]);
    return pkcli_usage(msg, "usage: pkanren repl\n");
  }
  pki_init();
  pkcli_quick_exit(false); /* Ctrl-C is the REPL's, never an exit */
  pkcli_on_big_stack(pkcli_repl_thread, NULL, pkcli_repl_status);
}
