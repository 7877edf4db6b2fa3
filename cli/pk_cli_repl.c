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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <editline/readline.h>

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
    fprintf(stderr, "%s\n", pko_err.status == PK_STATUS_INTERRUPT ? "interrupted" : pko_err.msg);
  }
  fflush(pkb_out);
}

static void *pkcli_repl_thread(void *arg)
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
    pko_interrupt_set(0);
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
    pkcli_repl_eval(acc);
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
      puts("usage: pkanren repl\n\nCtrl-C cancels the running query; Ctrl-D exits.");
      return 0;
    }
    return pkcli_usage("repl takes no arguments", "usage: pkanren repl\n");
  }
  pki_init();
  pkcli_on_big_stack(pkcli_repl_thread, NULL);
  return 0;
}
