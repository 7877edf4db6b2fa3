/*
** test_map.c — unit tests for pk_map (persistent CHAMP trie).
**
** Every check compares the map against a plain reference (an array indexed
** by key, or a list of pairs for sparse keys).  Arrays of maps live in the
** collected heap (GC_MALLOC) so the collector sees them; tests force
** collections, under the engine's collector settings (pko_init: interior
** pointers off), to prove that nodes, and values reachable only through a
** map, survive.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>

#include "pk_map.h"

/* xorshift64*: a deterministic stream per seed, one multiply per number. */
static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ull + 1; }
static uint64_t rng(void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}
static uint64_t rng_below(uint64_t n) { return rng() % n; }

/* A value that is never PK_UNBOUND: a fixnum carrying x. */
static pk_val val_of(uint64_t x) { return pko_mkfix((int64_t)(x & 0xffffffffffull)); }

/* Assert m agrees with ref[0..n) (PK_UNBOUND = absent) on every key, on
   the count, and on the first keys beyond the range. */
static void check_dense(pkm_map m, const pk_val *ref, size_t n)
{
  size_t count = 0;
  for (size_t k = 0; k < n; k++) {
    assert_int_equal(pkm_get(m, k), ref[k]);
    count += ref[k] != PK_UNBOUND;
  }
  for (size_t k = n; k < n + 64; k++) assert_int_equal(pkm_get(m, k), PK_UNBOUND);
  assert_int_equal(pkm_count(m), count);
}

/* ---- empty map ----------------------------------------------------------- */

static void test_empty(void **state)
{
  (void)state;
  assert_int_equal(pkm_get(NULL, 0), PK_UNBOUND);
  assert_int_equal(pkm_get(NULL, UINT64_MAX), PK_UNBOUND);
  assert_int_equal(pkm_count(NULL), 0);
  pkm_map one = pkm_set(NULL, 7, PK_TRUE);
  assert_int_equal(pkm_count(one), 1);
  assert_int_equal(pkm_get(one, 7), PK_TRUE);
  assert_int_equal(pkm_get(one, 7 + 16), PK_UNBOUND);
  assert_int_equal(pkm_get(one, 8), PK_UNBOUND);
}

/* ---- random operations against an array ----------------------------------- */

/* 100k random sets and gets over keys [0, range): bias toward the newest
   ids (the engine's pattern) half the time, uniform otherwise. */
static void random_ops(uint64_t seed, size_t range)
{
  rng_seed(seed);
  pk_val *ref = malloc(range * sizeof *ref);
  for (size_t k = 0; k < range; k++) ref[k] = PK_UNBOUND;
  pkm_map m = NULL;
  size_t count = 0, hi = 1;
  for (int op = 0; op < 100000; op++) {
    uint64_t r = rng();
    if (hi < range && (r & 3) == 0) hi++;
    uint64_t k = (r & 4) ? hi - 1 - rng_below(hi < 8 ? hi : 8) : rng_below(hi);
    if ((r >> 8) % 3 == 0) {
      pk_val v = val_of(rng());
      count += ref[k] == PK_UNBOUND;
      ref[k] = v;
      m = pkm_set(m, k, v);
      assert_int_equal(pkm_count(m), count);
    }
    assert_int_equal(pkm_get(m, k), ref[k]);
    uint64_t probe = rng_below(range + 100);
    assert_int_equal(pkm_get(m, probe), probe < range ? ref[probe] : PK_UNBOUND);
    if (op % 20000 == 19999) check_dense(m, ref, range);
  }
  check_dense(m, ref, range);
  free(ref);
}

static void test_random_small_range(void **state)
{
  (void)state;
  for (uint64_t seed = 1; seed <= 4; seed++) random_ops(seed, 300);
}

static void test_random_dense(void **state)
{
  (void)state;
  for (uint64_t seed = 11; seed <= 15; seed++) random_ops(seed, 70000);
}

/* ---- persistence ---------------------------------------------------------- */

/* Keep every 500th version together with a copy of its reference, keep
   extending the newest (and sometimes an old one, as a search branch
   would), collect garbage, then check every kept version on every key. */
static void test_persistence(void **state)
{
  (void)state;
  enum { RANGE = 6000, OPS = 40000, EVERY = 500, KEPT = OPS / EVERY };
  rng_seed(99);
  pkm_map *ver = GC_MALLOC(KEPT * sizeof *ver);
  pk_val **snap = malloc(KEPT * sizeof *snap);
  pk_val *ref = malloc(RANGE * sizeof *ref);
  for (size_t k = 0; k < RANGE; k++) ref[k] = PK_UNBOUND;
  pkm_map m = NULL;
  int kept = 0;
  for (int op = 0; op < OPS; op++) {
    uint64_t k = rng_below(RANGE);
    pk_val v = val_of(rng());
    m = pkm_set(m, k, v);
    ref[k] = v;
    if (op % EVERY == EVERY - 1) {
      ver[kept] = m;
      snap[kept] = malloc(RANGE * sizeof *ref);
      memcpy(snap[kept], ref, RANGE * sizeof *ref);
      kept++;
      /* Branch off an old version: must not disturb it or its snapshot. */
      pkm_map old = ver[rng_below((uint64_t)kept)];
      for (int i = 0; i < 50; i++) old = pkm_set(old, rng_below(RANGE + 50), val_of(rng()));
    }
    if (op % 10000 == 0) GC_gcollect();
  }
  GC_gcollect();
  for (int i = 0; i < kept; i++) {
    check_dense(ver[i], snap[i], RANGE);
    free(snap[i]);
  }
  free(snap);
  free(ref);
}

/* Values reachable only through a map (heap pairs) stay alive and intact
   across collections: nodes must be scanned by the collector. */
static void test_values_kept_alive(void **state)
{
  (void)state;
  enum { N = 20000 };
  pkm_map *holder = GC_MALLOC(sizeof *holder);
  for (uint64_t k = 0; k < N; k++) *holder = pkm_set(*holder, k, pko_cons(pko_mkfix((int64_t)k), PK_NIL));
  for (int i = 0; i < 3; i++) {
    GC_gcollect();
    /* Churn so that freed memory would be reused and overwritten. */
    for (int j = 0; j < 100000; j++) (void)pko_cons(pko_mkfix(-1), pko_mkfix(-1));
  }
  for (uint64_t k = 0; k < N; k++) {
    pk_val p = pkm_get(*holder, k);
    assert_true(pko_pairp(p));
    assert_int_equal(pko_car(p), pko_mkfix((int64_t)k));
    assert_int_equal(pko_cdr(p), PK_NIL);
  }
}

/* ---- sequential and sparse keys ------------------------------------------- */

static void test_sequential_million(void **state)
{
  (void)state;
  enum { N = 1000000 };
  pkm_map m = NULL;
  for (uint64_t k = 0; k < N; k++) {
    m = pkm_set(m, k, val_of(k * 3));
    assert_int_equal(pkm_get(m, k), val_of(k * 3));
  }
  assert_int_equal(pkm_count(m), N);
  for (uint64_t k = 0; k < N; k++) assert_int_equal(pkm_get(m, k), val_of(k * 3));
  for (uint64_t k = N; k < N + 1000; k++) assert_int_equal(pkm_get(m, k), PK_UNBOUND);
  assert_int_equal(pkm_get(m, (uint64_t)1 << 40), PK_UNBOUND);
}

/* Index of key in keys[0..n), or n. */
static size_t find_key(const uint64_t *keys, size_t n, uint64_t key)
{
  for (size_t i = 0; i < n; i++)
    if (keys[i] == key) return i;
  return n;
}

/* Random keys below 2^40, keys sharing long runs of low bits (deep
   single-child chains), and the 64-bit extremes, against a pair list. */
static void test_sparse_large(void **state)
{
  (void)state;
  enum { N = 4000 };
  uint64_t *keys = malloc(2 * N * sizeof *keys);
  pk_val *vals = malloc(2 * N * sizeof *vals);
  size_t n = 0;
  pkm_map m = NULL;
  rng_seed(2024);
  for (int i = 0; i < 2 * N; i++) {
    uint64_t k;
    switch (i % 4) {
    case 0: k = rng_below((uint64_t)1 << 40); break;
    case 1: k = rng_below(64) << (20 + rng_below(20)); break;     /* low bits zero */
    case 2: k = ((uint64_t)1 << 40) - 1 - rng_below(1000); break; /* near 2^40 */
    default: k = (i & 8) ? UINT64_MAX - rng_below(50) : ((uint64_t)1 << 63) | rng_below(8);
    }
    pk_val v = val_of(rng());
    size_t at = find_key(keys, n, k);
    if (at == n) keys[n++] = k;
    vals[at] = v;
    m = pkm_set(m, k, v);
    assert_int_equal(pkm_get(m, k), v);
  }
  assert_int_equal(pkm_count(m), n);
  for (size_t i = 0; i < n; i++) assert_int_equal(pkm_get(m, keys[i]), vals[i]);
  for (int i = 0; i < 20000; i++) {
    uint64_t k = (i & 1) ? rng_below((uint64_t)1 << 40) : rng();
    size_t at = find_key(keys, n, k);
    assert_int_equal(pkm_get(m, k), at < n ? vals[at] : PK_UNBOUND);
  }
  free(keys);
  free(vals);
}

/* ---- overwrite ------------------------------------------------------------- */

static void test_overwrite(void **state)
{
  (void)state;
  pkm_map m = NULL;
  for (uint64_t k = 0; k < 1000; k++) m = pkm_set(m, k, val_of(k));
  pkm_map base = m;
  for (int round = 1; round <= 5; round++) {
    for (uint64_t k = 0; k < 1000; k += 7) m = pkm_set(m, k, val_of(k + 100000u * round));
    assert_int_equal(pkm_count(m), 1000);
  }
  for (uint64_t k = 0; k < 1000; k++) {
    assert_int_equal(pkm_get(m, k), val_of(k % 7 ? k : k + 500000));
    assert_int_equal(pkm_get(base, k), val_of(k));
  }
  /* Rebinding to the same word is free: the very same map comes back. */
  assert_ptr_equal(pkm_set(m, 14, val_of(14 + 500000)), m);
  assert_ptr_not_equal(pkm_set(m, 14, val_of(1)), m);
}

/* ---- foreach and count ------------------------------------------------------ */

typedef struct seen_ctx {
  uint32_t *hits;
  const pk_val *ref;
  size_t range, calls, cap;
  uint64_t *order;
} seen_ctx;

static void seen_fn(uint64_t key, pk_val v, void *ctx)
{
  seen_ctx *c = ctx;
  assert_true(key < c->range);
  assert_int_equal(v, c->ref[key]);
  c->hits[key]++;
  assert_true(c->calls < c->cap);
  if (c->order) c->order[c->calls] = key;
  c->calls++;
}

static void test_foreach(void **state)
{
  (void)state;
  enum { RANGE = 50000 };
  rng_seed(5);
  pk_val *ref = malloc(RANGE * sizeof *ref);
  for (size_t k = 0; k < RANGE; k++) ref[k] = PK_UNBOUND;
  pkm_map m = NULL;
  size_t count = 0;
  for (int i = 0; i < 60000; i++) {
    uint64_t k = rng_below(RANGE);
    count += ref[k] == PK_UNBOUND;
    ref[k] = val_of(rng());
    m = pkm_set(m, k, ref[k]);
  }
  seen_ctx c = { calloc(RANGE, sizeof(uint32_t)), ref, RANGE, 0, count, malloc(count * sizeof(uint64_t)) };
  pkm_foreach(m, seen_fn, &c);
  assert_int_equal(c.calls, count);
  assert_int_equal(pkm_count(m), count);
  for (size_t k = 0; k < RANGE; k++) assert_int_equal(c.hits[k], ref[k] != PK_UNBOUND);

  /* Same keys and values inserted in another order: same visiting order. */
  pkm_map m2 = NULL;
  for (size_t k = RANGE; k-- > 0;)
    if (ref[k] != PK_UNBOUND) m2 = pkm_set(m2, k, ref[k]);
  seen_ctx c2 = { calloc(RANGE, sizeof(uint32_t)), ref, RANGE, 0, count, malloc(count * sizeof(uint64_t)) };
  pkm_foreach(m2, seen_fn, &c2);
  assert_int_equal(c2.calls, count);
  assert_memory_equal(c.order, c2.order, count * sizeof(uint64_t));

  seen_ctx none = { NULL, ref, RANGE, 0, 0, NULL };
  pkm_foreach(NULL, seen_fn, &none);
  assert_int_equal(none.calls, 0);
  free(c.hits);
  free(c.order);
  free(c2.hits);
  free(c2.order);
  free(ref);
}

static void test_count(void **state)
{
  (void)state;
  pkm_map m = NULL, prev = NULL;
  for (uint64_t k = 0; k < 5000; k++) {
    prev = m;
    m = pkm_set(m, k * 37, val_of(k));
    assert_int_equal(pkm_count(m), k + 1);
    assert_int_equal(pkm_count(prev), k);
    m = pkm_set(m, k * 37, val_of(k + 1));
    assert_int_equal(pkm_count(m), k + 1);
  }
}

/* ---- sharing across threads ------------------------------------------------- */

typedef struct branch_arg {
  pkm_map base;
  uint64_t from;
  int ok;
} branch_arg;

/* Extend a shared map with this thread's own keys, then verify both the
   extension and the untouched base. */
static void *branch_main(void *p)
{
  branch_arg *a = p;
  pkm_map m = a->base;
  for (uint64_t k = a->from; k < a->from + 50000; k++) m = pkm_set(m, k, val_of(k + a->from));
  a->ok = pkm_count(m) == pkm_count(a->base) + 50000;
  for (uint64_t k = 0; k < 10000; k++) a->ok &= pkm_get(m, k) == val_of(k);
  for (uint64_t k = a->from; k < a->from + 50000; k++) a->ok &= pkm_get(m, k) == val_of(k + a->from);
  for (uint64_t k = a->from; k < a->from + 50000; k++) a->ok &= pkm_get(a->base, k) == PK_UNBOUND;
  return NULL;
}

static void test_threads_share(void **state)
{
  (void)state;
  pkm_map base = NULL;
  for (uint64_t k = 0; k < 10000; k++) base = pkm_set(base, k, val_of(k));
  branch_arg *args = GC_MALLOC(4 * sizeof *args);
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    args[i] = (branch_arg){ base, 10000 + 50000 * (uint64_t)i, 0 };
    assert_int_equal(pthread_create(&th[i], NULL, branch_main, &args[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_true(args[i].ok);
  }
  assert_int_equal(pkm_count(base), 10000);
}

int main(void)
{
  pko_init(); /* the engine's collector settings: no interior pointers */
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_empty),
    cmocka_unit_test(test_random_small_range),
    cmocka_unit_test(test_random_dense),
    cmocka_unit_test(test_persistence),
    cmocka_unit_test(test_values_kept_alive),
    cmocka_unit_test(test_sequential_million),
    cmocka_unit_test(test_sparse_large),
    cmocka_unit_test(test_overwrite),
    cmocka_unit_test(test_foreach),
    cmocka_unit_test(test_count),
    cmocka_unit_test(test_threads_share),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
