/*
** test_math.c — models in mathematical notation (graph/pk_math.c): deep
** terms in constant C stack, fresh names past the 52 letters, names given
** by defines and NAME strings, sharing, and a model built from terms that
** were never read.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pk_graph.h"
#include "pk_hcons.h"
#include "pk_math.h"

static int setup(void **state)
{
  (void)state;
  pko_init();
  return 0;
}

/* The notation of the first model of text, malloc'd. */
static char *math(const char *text, int flags)
{
  pk_val ms = pkg_read_text("t.model", text, strlen(text));
  pkp_buf b;
  pkp_init(&b);
  pkmath_print(&b, pko_car(ms), flags);
  return b.s;
}

/* 300,000 nested calls print without recursion. */
static void test_deep(void **state)
{
  (void)state;
  enum { N = 300000 };
  pkp_buf t;
  pkp_init(&t);
  pkp_puts(&t, "(model deep (input x (tensor float64 ())) (output ", 50);
  for (int k = 0; k < N; k++) pkp_puts(&t, "(exp ", 5);
  pkp_putc(&t, 'x');
  for (int k = 0; k < N; k++) pkp_putc(&t, ')');
  pkp_puts(&t, "))", 2);
  char *s = math(t.s, 0);
  const char *head = "deep:\n  x in R\n  ";
  assert_int_equal(strlen(s), strlen(head) + (size_t)N * 5 + 2);
  assert_memory_equal(s, head, strlen(head));
  assert_memory_equal(s + strlen(head), "exp(exp(", 8);
  assert_memory_equal(s + strlen(s) - N - 2, "x)))", 4);
  assert_string_equal(s + strlen(s) - 2, ")\n");
  free(s);
  pkp_free(&t);
}

/* 60 unnamed random variables: a..z and A..Z but the names the model
   uses, then _1, _2, ... */
static void test_fresh(void **state)
{
  (void)state;
  pkp_buf t;
  pkp_init(&t);
  pkp_puts(&t, "(model f (input b (tensor float64 ())) (output", 46);
  for (int k = 0; k < 60; k++) pkp_printf(&t, " (NormalRV b %d () rng \"\")", k + 1);
  pkp_puts(&t, " (ExponentialRV 1.0 () rng \"_2\")))", 34);
  char *s = math(t.s, 0);
  assert_non_null(strstr(s, "\n  a ~ N(b, 1**2)\n  c ~ N(b, 2**2)\n"));
  assert_non_null(strstr(s, "\n  Z ~ N(b, 51**2)\n  _1 ~ N(b, 52**2)\n  _3 ~ N(b, 53**2)\n"));
  assert_non_null(strstr(s, "\n  _9 ~ N(b, 59**2)\n  _10 ~ N(b, 60**2)\n  _2 ~ Exp(1.0)\n"));
  free(s);
  pkp_free(&t);
}

/* A node used twice is named once, a define's name wins over a fresh one,
   a random variable's NAME over its define's name, an RV observed with a
   compound value gets a line of its own. */
static void test_names(void **state)
{
  (void)state;
  char *s = math("(model n (input x (tensor float64 (3)))\n"
                 " (define k (NormalRV 0.0 1.0 () rng \"kappa\"))\n"
                 " (define z (mul x x))\n"
                 " (output (observed (add x x) (NormalRV (add (neg k) z z) 1.0 () rng \"y\"))\n"
                 "         (sub (log (sum x)) (log (sum x)))))",
                 0);
  assert_string_equal(s, "n:\n"
                         "  x in R^3\n"
                         "  kappa ~ N(0.0, 1.0**2)\n"
                         "  z = (x * x)\n"
                         "  y ~ N(((-kappa) + z + z), 1.0**2)\n"
                         "  y = (x + x)\n"
                         "  a = log(sum(x))\n"
                         "  (a - a)\n");
  free(s);
  s = math("(model n (input x (tensor float64 (3)))\n"
           " (define k (NormalRV 0.0 1.0 () rng \"kappa\"))\n"
           " (output (observed (add x x) (NormalRV (add (neg k) 1) 1.0 () rng \"y\"))))",
           PKMATH_LATEX);
  assert_string_equal(s, "% n\n"
                         "\\begin{align*}\n"
                         "  x &\\in \\mathbb{R}^{3} \\\\\n"
                         "  \\kappa &\\sim \\operatorname{N}(0.0, {1.0}^{2}) \\\\\n"
                         "  y &\\sim \\operatorname{N}(((-\\kappa) + 1), {1.0}^{2}) \\\\\n"
                         "  y &= (x + x)\n"
                         "\\end{align*}\n");
  free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_deep),
    cmocka_unit_test(test_fresh),
    cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
