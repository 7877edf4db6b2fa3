/*
** test_api_threads.c — the C API's thread contract: host threads call the
** library concurrently (serialized inside), each sees correct answers, and
** after pk_thread_done() exits the collector still runs on the rest.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <gc/gc.h>
#include "pkanren.h"
#include "mk_relations.h"

static pk_engine *E;

/* Count the answers of a run* that has exactly 11 of them, 20 times. */
static void *worker(void *arg)
{
  int *ok = arg;
  for (int i = 0; i < 20; i++) {
    pk_query *q;
    if (pk_query_open(E, "(run* (x y) (appendo x y '(0 1 2 3 4 5 6 7 8 9)))", &q) != PK_OK) return NULL;
    pk_term a;
    int n = 0;
    while (pk_query_next(q, &a) == 1) n++;
    pk_query_free(q);
    if (n == 11) (*ok)++;
  }
  pk_thread_done();
  return NULL;
}

static void test_threads(void **state)
{
  (void)state;
  pthread_t t[4];
  int ok[4] = { 0, 0, 0, 0 };
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&t[i], NULL, worker, &ok[i]), 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 4; i++) assert_int_equal(ok[i], 20);
  /* the collector still works with the threads gone */
  GC_gcollect();
  pk_query *q;
  assert_int_equal(pk_query_open(E, "(run* (q) (appendo q '(2) '(1 2)))", &q), PK_OK);
  pk_term a;
  assert_int_equal(pk_query_next(q, &a), 1);
  char *s = pk_to_string(a);
  assert_string_equal(s, "(1)");
  free(s);
  pk_query_free(q);
}

int main(void)
{
  E = pk_engine_new();
  const char *lib = PKT_APPENDO;
  if (pk_load_string(E, "lib", lib, strlen(lib)) != PK_OK) return 1;
  const struct CMUnitTest tests[] = { cmocka_unit_test(test_threads) };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  pk_engine_free(E);
  return rc;
}
