/*
** test_api_models.c — the C API's model calls (include/pkanren.h only):
** reading models from text and files, their outputs, printing, and errors
** returned as values.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pkanren.h"

static pk_engine *E;

static int setup(void **state)
{
  (void)state;
  E = pk_engine_new();
  return E ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  pk_engine_free(E);
  return 0;
}

static const char *TEXT =
  "(model nn (input m0 (tensor float64 ())) (define mu (NormalRV m0 1.0 () rng \"mu\"))\n"
  " (output (observed 1.5 (NormalRV mu 1.0 () rng \"y\")) mu))\n"
  "(model two (output (f #[1 2])))\n";

static void test_read_print(void **state)
{
  (void)state;
  pk_term ms, outs;
  assert_int_equal(pk_read_models_string(E, "t.model", TEXT, strlen(TEXT), &ms), 2);
  pk_term m = pk_term_car(ms);
  assert_int_equal(pk_model_outputs(E, m, &outs), PK_OK);
  char *s = pk_to_string(outs);
  assert_string_equal(s, "((observed 1.5 (NormalRV (NormalRV m0 1.0 () rng \"mu\") 1.0 () rng \"y\")) "
                         "(NormalRV m0 1.0 () rng \"mu\"))");
  free(s);
  char *text;
  assert_int_equal(pk_model_print(E, m, &text), PK_OK);
  assert_string_equal(text, "(model nn\n"
                            "  (input m0 (tensor float64 ()))\n"
                            "  (define mu (NormalRV m0 1.0 () rng \"mu\"))\n"
                            "  (output (observed 1.5 (NormalRV mu 1.0 () rng \"y\")) mu))\n");
  /* what was printed reads back to the same nodes */
  pk_term back, outs2;
  assert_int_equal(pk_read_models_string(E, "back.model", text, strlen(text), &back), 1);
  assert_int_equal(pk_model_outputs(E, pk_term_car(back), &outs2), PK_OK);
  assert_true(pk_term_car(outs2) == pk_term_car(outs));
  free(text);
  /* a model built from C prints too */
  pk_term built = pk_cons(E, pk_symbol(E, "model"), pk_cons(E, pk_symbol(E, "c"),
                    pk_cons(E, pk_cons(E, pk_symbol(E, "output"), pk_cons(E, pk_float(E, 2.5), pk_nil())), pk_nil())));
  assert_int_equal(pk_model_print(E, built, &text), PK_OK);
  assert_string_equal(text, "(model c\n  (output 2.5))\n");
  free(text);
}

static void test_errors(void **state)
{
  (void)state;
  pk_term ms = 0, outs;
  const char *bad = "(model m (output (NormalRV 1.0)))";
  assert_int_equal(pk_read_models_string(E, "bad.model", bad, strlen(bad), &ms), PK_ESTATIC);
  assert_string_equal(pk_errmsg(E),
                      "bad.model:1:18: NormalRV takes 5 arguments (mu sd SIZE RNG NAME), given 1 [model m; models read: none]");
  assert_int_equal(pk_read_models_file(E, "no-such.model", &ms), PK_ESTATIC);
  assert_string_equal(pk_errmsg(E), "no-such.model:1:1: cannot read no-such.model: No such file or directory");
  assert_int_equal(pk_model_outputs(E, pk_symbol(E, "x"), &outs), PK_ERUNTIME);
  char *text = NULL;
  assert_int_equal(pk_model_print(E, pk_nil(), &text), PK_ERUNTIME);
  assert_null(text);
  /* the engine still works after errors */
  const char *ok = "(model m (output a))";
  assert_int_equal(pk_read_models_string(E, NULL, ok, strlen(ok), &ms), 1);
}

static void test_file(void **state)
{
  (void)state;
  pk_term ms;
  assert_int_equal(pk_read_models_file(E, "../../examples/regression.model", &ms), 1);
  char *text;
  assert_int_equal(pk_model_print(E, pk_term_car(ms), &text), PK_OK);
  assert_non_null(strstr(text, "  (define beta (MvNormalRV a R () rng \"beta\"))\n"));
  free(text);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_read_print),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_file),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
