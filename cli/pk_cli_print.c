/*
** pk_cli_print.c — `pkanren print MODEL...`: models in mathematical
** notation (graph/pk_math.h), or LaTeX.
*/
#include "pk_cli.h"
#include "pk_graph.h"
#include "pk_init.h"
#include "pk_math.h"

#include <stdio.h>
#include <string.h>

#define PK_USAGE_PRINT "usage: pkanren print MODEL... [--latex] [--values]\n"

static const char *pkcli_print_help =
    PK_USAGE_PRINT "\n"
                   "Prints each model of each MODEL file in mathematical notation, under a\n"
                   "line with its name: inputs with their sets (a in R^2, R in R^(2 x 2)),\n"
                   "one line per random variable (beta ~ N(a, R)), observed values after\n"
                   "\"=\", named and shared nodes once (z = (x + y)), then the other outputs.\n"
                   "A file that cannot be read is reported (file:line:col: message) and the\n"
                   "next one printed; the exit status is then 2.\n"
                   "\n"
                   "  --latex   a LaTeX align* environment per model (amsmath, amssymb)\n"
                   "  --values  the inputs' test values (a = [1.0, 0.0])\n";

/* The models of path printed to stdout (a blank line before each but the
   first of the run, *count of them so far); false after reporting an
   error. */
static bool pkcli_print_file(const char *path, int flags, int *count)
{
  pko_catch c;
  if (!PKO_TRY(c)) {
    fprintf(stderr, "%s\n", pko_err.msg);
    return false;
  }
  pk_val ms = pkg_read_file(path, NULL);
  PKO_END(c);
  pkp_buf b;
  pkp_init(&b);
  for (; ms != PK_NIL; ms = pko_cdr(ms)) {
    if ((*count)++) pkp_putc(&b, '\n');
    pkmath_print(&b, pko_car(ms), flags);
  }
  fwrite(b.s, 1, b.len, stdout);
  pkp_free(&b);
  return true;
}

/* pkanren print MODEL... [--latex] [--values] */
int pkcli_print(int argc, char **argv)
{
  int flags = 0, files = 0;
  char msg[256];
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(pkcli_print_help, stdout);
      return 0;
    } else if (!strcmp(a, "--latex"))
      flags |= PKMATH_LATEX;
    else if (!strcmp(a, "--values"))
      flags |= PKMATH_VALUES;
    else if (a[0] == '-' && a[1]) {
      snprintf(msg, sizeof msg, "print: unknown option %s", a);
      return pkcli_usage(msg, PK_USAGE_PRINT);
    } else
      files++;
  }
  if (!files) return pkcli_usage("print needs a MODEL file", PK_USAGE_PRINT);
  pki_init();
  int status = 0, count = 0;
  for (int i = 0; i < argc; i++)
    if ((argv[i][0] != '-' || !argv[i][1]) && !pkcli_print_file(argv[i], flags, &count)) status = PK_STATUS_STATIC;
  return status;
}
