/*
** test_sched_pool.c — the worker pool against the one-worker engine:
** run* gives the same multiset of answers on 1, 2, 4 and 8 workers; run n
** gives n answers the one-worker search also gives, and stops (1,000 times,
** with no growth of malloc'd memory or of the heap); an infinite
** branch in every worker does not starve the rest; worker errors reach the
** consumer; a query that splits ahead leaves no step behind a worker stuck
** in another, and one worker takes its steps in order.
** PK_TEST_TIMEOUT: 300
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <gc/gc.h>
#if defined(__SANITIZE_ADDRESS__)
/* From libasan (sanitizer/allocator_interface.h, which gcc does not ship). */
size_t __sanitizer_get_current_allocated_bytes(void);
#elif defined(PK_HAVE_JEMALLOC)
#include <jemalloc/jemalloc.h>
#else
#include <malloc.h>
#endif
#include <stdbool.h>

#include "pk_init.h"
#include "pk_obj.h"
#include "pk_worker.h"
#include "pkanren.h"
#include "mk_relations.h"

static const char *LIB = PKT_APPENDO
    "(defrel (rembero x l out)"
    "  (conde ((== '() l) (== '() out))"
    "         ((fresh (a d) (== `(,a . ,d) l) (== a x) (== d out)))"
    "         ((fresh (a d res) (== `(,a . ,d) l) (=/= a x) (== `(,a . ,res) out) (rembero x d res)))))" PKT_PERMO
        PKT_NATO "(defrel (nevero) (conde ((nevero))))" PKT_LOOKUPO "(defrel (evalo e env v)"
    "  (conde ((symbolo e) (lookupo e env v))"
    "        ((fresh (x b) (== e `(lambda (,x) ,b)) (symbolo x) (absento 'closure b) (== v `(closure ,x ,b ,env))))"
    "        ((fresh (r a x b env2 av) (== e `(,r ,a)) (evalo r env `(closure ,x ,b ,env2))"
    "           (evalo a env av) (evalo b `((,x . ,av) . ,env2) v)))))"
    "(defrel (boom q) (project (q) (== q (car q))))";
#include "engine_fixture.h"

static int strp_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Answers of run_form on `workers` workers (unordered when > 1), each
   written as a string, sorted. */
static char **answers(const char *run_form, int workers, size_t *n)
{
  pki_configure(workers, workers > 1, 42, false);
  pk_query *q;
  if (pk_query_open(E, run_form, &q) != PK_OK) fail_msg("%s: %s", run_form, pk_errmsg(E));
  size_t cap = 64;
  char **out = malloc(cap * sizeof *out);
  *n = 0;
  pk_term a;
  int rc;
  while ((rc = pk_query_next(q, &a)) == 1) {
    if (*n == cap) out = realloc(out, (cap *= 2) * sizeof *out);
    out[(*n)++] = pk_to_string(a);
  }
  if (rc != 0) fail_msg("%s: %s", run_form, pk_errmsg(E));
  pk_query_free(q);
  qsort(out, *n, sizeof *out, strp_cmp);
  return out;
}

static void free_all(char **v, size_t n)
{
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

/* run* on 2, 4 and 8 workers gives exactly the one-worker multiset. */
static void check_same_multiset(const char *form)
{
  size_t n1;
  char **one = answers(form, 1, &n1);
  assert_true(n1 > 0);
  for (int w = 2; w <= 8; w *= 2) {
    size_t nw;
    char **many = answers(form, w, &nw);
    assert_int_equal(nw, n1);
    for (size_t i = 0; i < n1; i++) assert_string_equal(many[i], one[i]);
    free_all(many, nw);
  }
  free_all(one, n1);
}

static void test_runstar_lists(void **state)
{
  (void)state;
  check_same_multiset("(run* (x y) (appendo x y '(1 2 3 4 5 6 7 8 9 10)))");
  check_same_multiset("(run* (q) (permo '(a b c d e) q))");
  check_same_multiset("(run* (q) (fresh (l) (permo '(1 2 3 1) l) (rembero 1 l q)))");
}

static void test_runstar_constraints(void **state)
{
  (void)state;
  check_same_multiset("(run* (q) (fresh (x y) (permo '(1 2 3) (list x y q)) (=/= x 1) (numbero q)))");
  check_same_multiset("(run* (q) (fresh (a b) (appendo a b '(x y z)) (=/= a '()) (absento 'y b) (== q (list a b))))");
  check_same_multiset("(run* (q) (fresh (e) (== e '((lambda (x) x) (lambda (y) y))) (evalo e '() q)))");
  check_same_multiset("(run* (q) (fresh (x b) (evalo `(lambda (,x) ,b) '() q) (== b 'z) (=/= x 'z)))");
}

/* run n: n answers, each produced by the one-worker search (with
   multiplicity), and the query stops although the search is infinite. */
static void test_run_n(void **state)
{
  (void)state;
  size_t n1, nw;
  char **one = answers("(run 400 (q) (nato q))", 1, &n1);
  for (int rep = 0; rep < 20; rep++) {
    char **many = answers("(run 12 (q) (nato q))", 2 + rep % 3, &nw);
    assert_int_equal(nw, 12);
    for (size_t i = 0; i < nw; i++) {
      assert_non_null(bsearch(&many[i], one, n1, sizeof *one, strp_cmp));
      if (i > 0) assert_true(strcmp(many[i - 1], many[i]) != 0); /* nato has no duplicates */
    }
    free_all(many, nw);
  }
  free_all(one, n1);
}

/* Every worker stuck in nevero: the answer branch still runs. */
static void test_fairness(void **state)
{
  (void)state;
  for (int w = 2; w <= 8; w *= 2) {
    size_t n;
    char **a = answers("(run 1 (q) (conde ((nevero)) ((nevero)) ((nevero)) ((== q 1))))", w, &n);
    assert_int_equal(n, 1);
    assert_string_equal(a[0], "1");
    free_all(a, n);
  }
}

/* A runtime error on any worker is the query's error. */
static void test_worker_error(void **state)
{
  (void)state;
  pki_configure(4, true, 7, false);
  pk_query *q;
  assert_int_equal(pk_query_open(E, "(run* (q) (fresh (a b) (appendo a b '(1 2 3 4 5 6)) (boom 5)))", &q), PK_OK);
  pk_term t;
  assert_int_equal(pk_query_next(q, &t), PK_ERUNTIME);
  assert_non_null(strstr(pk_errmsg(E), "car"));
  pk_query_free(q);
  /* the pool is usable afterwards */
  size_t n;
  char **a = answers("(run* (q) (appendo q '(2) '(1 2)))", 4, &n);
  assert_int_equal(n, 1);
  assert_string_equal(a[0], "(1)");
  free_all(a, n);
}

/* Bytes of malloc'd (non-collected) memory in use: the sanitizer's count
   under ASan, jemalloc's otherwise. */
static size_t malloc_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#elif defined(PK_HAVE_JEMALLOC)
  uint64_t epoch = 1;
  size_t sz = sizeof epoch, bytes = 0;
  mallctl("epoch", &epoch, &sz, &epoch, sz); /* refresh the statistics */
  sz = sizeof bytes;
  if (mallctl("stats.allocated", &bytes, &sz, NULL, 0) != 0) return 0;
  return bytes;
#else
  return mallinfo2().uordblks;
#endif
}

/* True if every string of sub occurs in sup at least as often (both
   sorted). */
static bool sub_multiset(char **sub, size_t nsub, char **sup, size_t nsup)
{
  size_t j = 0;
  for (size_t i = 0; i < nsub; i++) {
    while (j < nsup && strcmp(sup[j], sub[i]) < 0) j++;
    if (j == nsup || strcmp(sup[j], sub[i]) != 0) return false;
    j++;
  }
  return true;
}

/* 1,000 short queries stopped early, back to back, on 2-4 workers: each
   gives n answers the one-worker search also gives (a finite search and
   an infinite one), and neither the malloc'd memory (deques, queries,
   answer queues) nor the collected heap (when collecting: not under TSan)
   grows from the 100th query on. */
static void test_repeated_stops(void **state)
{
  (void)state;
  const char *split = "(run 3 (q) (fresh (a b) (appendo a b '(1 2 3 4 5 6 7 8)) (== q `(,a ,b))))";
  const char *all = "(run* (q) (fresh (a b) (appendo a b '(1 2 3 4 5 6 7 8)) (== q `(,a ,b))))";
  size_t nall;
  char **every = answers(all, 1, &nall);
  assert_int_equal(nall, 9);
  size_t m0 = 0, h0 = 0;
  for (int i = 0; i < 1000; i++) {
    if (i == 100) {
      GC_gcollect();
      m0 = malloc_in_use();
      h0 = GC_get_heap_size();
    }
    size_t n;
    char **a = answers(i % 2 ? split : "(run 3 (q) (nato q))", 2 + i % 3, &n);
    assert_int_equal(n, 3);
    if (i % 2)
      assert_true(sub_multiset(a, n, every, nall));
    else
      assert_true(strcmp(a[0], a[1]) && strcmp(a[1], a[2])); /* nato gives each number once */
    free_all(a, n);
  }
  GC_gcollect();
  size_t m1 = malloc_in_use(), h1 = GC_get_heap_size();
  if (m1 > m0 + 256 * 1024) fail_msg("malloc'd memory grew from %zu to %zu bytes over 900 queries", m0, m1);
  if (!GC_is_disabled() && h1 > h0 + 16 * 1024 * 1024)
    fail_msg("collected heap grew from %zu to %zu bytes over 900 queries", h0, h1);
  free_all(every, nall);
}

/* ---- split ahead ---------------------------------------------------------------- */

/* A branch is a range [lo, hi) of steps as a fixnum.  Forcing it logs its
   first step; step 0, while ahead_wait, waits (up to 10 s) until every
   other step has run, and records whether they did. */
#define AHEAD_STEPS 64
static _Atomic int ahead_done;
static _Atomic bool ahead_all_seen, ahead_wait;

static pk_val ahead_range(uint64_t lo, uint64_t hi) { return pko_mkfix((int64_t)(lo << 32 | hi)); }

static _Atomic int ahead_order[1000], ahead_n; /* the steps forced, in order */

static pk_val ahead_force(pk_val t, pk_val *answer)
{
  (void)answer;
  uint64_t r = (uint64_t)pko_fixval(t), lo = r >> 32, hi = r & 0xffffffffu;
  int k = atomic_fetch_add(&ahead_n, 1);
  if (k < 1000) atomic_store(&ahead_order[k], (int)lo);
  if (lo == 0 && atomic_load(&ahead_wait)) {
    struct timespec nap = { 0, 1000000 };
    for (int i = 0; i < 10000 && atomic_load(&ahead_done) < AHEAD_STEPS - 1; i++) nanosleep(&nap, NULL);
    atomic_store(&ahead_all_seen, atomic_load(&ahead_done) == AHEAD_STEPS - 1);
  } else
    atomic_fetch_add(&ahead_done, 1);
  return lo + 1 < hi ? ahead_range(lo + 1, hi) : 0;
}

static bool ahead_split(pk_val t, pk_val *a, pk_val *b)
{
  uint64_t r = (uint64_t)pko_fixval(t), lo = r >> 32, hi = r & 0xffffffffu, mid = lo + (hi - lo) / 2;
  if (hi - lo < 2) return false;
  *a = ahead_range(lo, mid);
  *b = ahead_range(mid, hi);
  return true;
}

static uint64_t ahead_work(void) { return 0; }

static const pkw_ops ahead_ops = {
  .force = ahead_force, .split = ahead_split, .work = ahead_work, .split_ahead = true
};

/* Steps [0, n) on `workers` workers, split ahead, to the query's end. */
static void ahead_run(int workers, uint64_t n)
{
  pki_configure(workers, true, 42, false);
  pkw_query *q = pkw_query_start(&ahead_ops, ahead_range(0, n), -1);
  pk_val a;
  while (pkw_query_next(q, &a)) continue;
  pkw_query_stop(q);
}

/* Two workers, 64 steps, the first of which does not end until the other
   63 have run: split ahead, the other worker takes them all from the
   deque of the worker stuck in step 0 (splitting on demand, that worker
   would hold all or half of them until step 0 ended). */
static void test_split_ahead(void **state)
{
  (void)state;
  atomic_store(&ahead_done, 0);
  atomic_store(&ahead_all_seen, false);
  atomic_store(&ahead_wait, true);
  ahead_run(2, AHEAD_STEPS);
  atomic_store(&ahead_wait, false);
  assert_int_equal(atomic_load(&ahead_done), AHEAD_STEPS - 1);
  assert_true(atomic_load(&ahead_all_seen));
}

/* One worker splitting ahead forces 1,000 steps in their order: it takes
   its newest half first, so its deque holds about log2 of the steps (the
   oldest first would split every half before forcing one and hold a fifth
   of them at once). */
static void test_split_ahead_in_order(void **state)
{
  (void)state;
  atomic_store(&ahead_n, 0);
  ahead_run(1, 1000);
  assert_int_equal(atomic_load(&ahead_n), 1000);
  for (int i = 0; i < 1000; i++) assert_int_equal(atomic_load(&ahead_order[i]), i);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_runstar_lists), cmocka_unit_test(test_runstar_constraints),
    cmocka_unit_test(test_run_n),         cmocka_unit_test(test_fairness),
    cmocka_unit_test(test_worker_error),  cmocka_unit_test(test_repeated_stops),
    cmocka_unit_test(test_split_ahead),   cmocka_unit_test(test_split_ahead_in_order),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
