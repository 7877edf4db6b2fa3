/*
** test_sched_ordered.c — the default (ordered) mode on several workers
** against one worker: the same answers in the same order, the same output
** written by goals, the same error at the same point, early stops, nested
** runs.  Workers force thunks ahead of the driver; these tests would fail
** if a result were taken out of order, lost, or forced twice.
** PK_TEST_TIMEOUT: 300
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pk_init.h"
#include "pk_obj.h"
#include "pk_worker.h"
#include "pkanren.h"
#include "mk_relations.h"

static const char *LIB = PKT_APPENDO PKT_PERMO PKT_NATO PKT_LOOKUPO
    "(defrel (evalo e env v)"
    "  (conde ((== `(quote ,v) e) (absento 'closure v))"
    "        ((symbolo e) (lookupo e env v))"
    "        ((fresh (x b) (== e `(lambda (,x) ,b)) (symbolo x) (== v `(closure ,x ,b ,env))))"
    "        ((fresh (es vs) (== e `(list . ,es)) (evlisto es env v)))"
    "        ((fresh (r a x b env2 av) (== e `(,r ,a)) (evalo r env `(closure ,x ,b ,env2))"
    "           (evalo a env av) (evalo b `((,x . ,av) . ,env2) v)))))"
    "(defrel (evlisto es env vs)"
    "  (conde ((== '() es) (== '() vs))"
    "        ((fresh (e d v vd) (== `(,e . ,d) es) (== `(,v . ,vd) vs) (evalo e env v) (evlisto d env vd)))))"
    /* writes while searching: output must come out in one worker's order */
    "(defrel (noisy-nato n)"
    "  (conde ((== n 'z) (project (n) (begin (display \"z \") succeed)))"
    "        ((fresh (m) (== n `(s ,m)) (project (n) (begin (display \"s \") succeed)) (noisy-nato m)))))"
    /* a runtime error deep in one branch, reached after some answers */
    "(defrel (boom-at k n)"
    "  (conde ((== k 'z) (project (k) (== n (car k))))"
    "        ((fresh (m) (== k `(s ,m)) (conde ((== n k)) ((boom-at m n)))))))";
#include "engine_fixture.h"

/* workers < 0: -workers workers in eager mode (every mplus thunk offered,
   so most results are forced ahead: the memo protocol under stress). */
static void use_workers(int workers) { pki_configure(workers < 0 ? -workers : workers, false, 42, workers < 0); }

/* Everything the query yields, in order, each answer on its own line, with
   the output goals wrote in between; an error ends it as "error: MSG". */
static char *transcript(const char *run_form, int workers, int max)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  use_workers(workers);
  pk_set_output(E, out);
  pk_query *q;
  if (pk_query_open(E, run_form, &q) != PK_OK) fail_msg("%s: %s", run_form, pk_errmsg(E));
  pk_term a;
  int rc, n = 0;
  while (n < max && (rc = pk_query_next(q, &a)) == 1) {
    char *s = pk_to_string(a);
    fprintf(out, "\n%s\n", s);
    free(s);
    n++;
  }
  if (n < max && rc != 0) fprintf(out, "\nerror: %s\n", pk_errmsg(E));
  pk_query_free(q);
  pk_set_output(E, stdout);
  fclose(out);
  return buf;
}

/* The transcript on 2, 4 and 8 workers, eager or not, is one worker's,
   byte for byte. */
static void check_same_transcript(const char *form, int max)
{
  static const int ws[] = { 2, -2, 4, -4, 8, -8 };
  char *one = transcript(form, 1, max);
  if (strlen(one) == 0) fail_msg("%s: no transcript", form);
  for (size_t i = 0; i < sizeof ws / sizeof *ws; i++) {
    char *many = transcript(form, ws[i], max);
    if (strcmp(many, one)) fail_msg("%s on %d workers:\n%s\n--- one worker:\n%s", form, ws[i], many, one);
    free(many);
  }
  free(one);
}

static void test_runstar_order(void **state)
{
  (void)state;
  check_same_transcript("(run* (x y) (appendo x y '(1 2 3 4 5 6 7 8 9 10)))", 1 << 30);
  check_same_transcript("(run* (q) (permo '(a b c d e f) q))", 1 << 30);
  check_same_transcript("(run* (q) (fresh (x y z) (permo '(1 2 3 4) (list x y z q)) (=/= x 1) (numbero q)))", 1 << 30);
  check_same_transcript("(run* (q) (fresh (a b) (appendo a b '(x y z w)) (absento 'y b) (== q (list a b))))", 1 << 30);
}

/* run n on infinite searches: the first n of one worker's answers. */
static void test_run_n_order(void **state)
{
  (void)state;
  check_same_transcript("(run 60 (q) (nato q))", 1 << 30);
  check_same_transcript("(run 200 (x y z) (appendo x y z))", 1 << 30);
  check_same_transcript("(run 30 (q) (evalo q '() '(i love you)))", 1 << 30);
  check_same_transcript("(run 3 (q) (evalo q '() q))", 1 << 30);
  /* the consumer stops early, before the count */
  check_same_transcript("(run* (q) (evalo q '() '(a b)))", 25);
}

/* Output written by goals forced ahead is written when the driver reaches
   them, so it interleaves with the answers exactly as on one worker. */
static void test_goal_output(void **state)
{
  (void)state;
  check_same_transcript("(run 40 (q) (noisy-nato q))", 1 << 30);
  check_same_transcript("(run* (q) (fresh (a b) (appendo a b '(1 2 3 4 5)) (noisy-nato '(s (s z))) (== q a)))",
                        1 << 30);
}

/* An error raised in a branch forced ahead surfaces where one worker
   raises it: after the same answers, with the same message. */
static void test_error_point(void **state)
{
  (void)state;
  check_same_transcript("(run* (q) (boom-at '(s (s (s (s z)))) q))", 1 << 30);
  char *t = transcript("(run* (q) (boom-at '(s (s (s (s z)))) q))", 4, 1 << 30);
  assert_non_null(strstr(t, "\n(s z)\n"));
  assert_non_null(strstr(t, "error: "));
  free(t);
  /* the pool is usable afterwards */
  check_same_transcript("(run* (q) (appendo q '(2) '(1 2)))", 1 << 30);
}

/* A run nested in a goal runs on the thread that reached it. */
static void test_nested_run(void **state)
{
  (void)state;
  check_same_transcript("(run 10 (q) (fresh (x) (nato x) (project (x) (== q (run 2 (y) (appendo y x `(a . ,x)))))))",
                        1 << 30);
}

/* Many early stops back to back, on 2 to 4 workers. */
static void test_repeated_stops(void **state)
{
  (void)state;
  char *one = transcript("(run 5 (q) (nato q))", 1, 1 << 30);
  for (int i = 0; i < 300; i++) {
    char *many =
        transcript(i % 2 ? "(run 5 (q) (nato q))" : "(run* (q) (nato q))", (i % 4 < 2 ? 1 : -1) * (2 + i % 3), 5);
    assert_string_equal(many, one);
    free(many);
  }
  free(one);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_runstar_order), cmocka_unit_test(test_run_n_order), cmocka_unit_test(test_goal_output),
    cmocka_unit_test(test_error_point),   cmocka_unit_test(test_nested_run),  cmocka_unit_test(test_repeated_stops),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
