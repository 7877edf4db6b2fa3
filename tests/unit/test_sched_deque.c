/*
** test_sched_deque.c — unit tests for pk_deque (Chase-Lev work stealing).
**
** Single-threaded: LIFO pop, FIFO steal, growth across many doublings with
** the live range wrapped around the buffer, retired buffers freed, failed
** growth, scrubbing.
** Concurrent: one owner pushing and popping at random while 3 thieves steal
** (4 threads, more than the 2 cores CI has), 2 million items, every item
** taken exactly once (per-item counter), the last items raced for on
** purpose, the empty deque scrubbed under the thieves' feet; and bursts of
** pushes drained by thieves only (each thief sees its items oldest first).
** Every item carries a plain (non-atomic) payload the pusher writes and the
** taker checks, so a missing release/acquire edge shows up as a wrong value,
** or under TSan as a race.
** Worker threads never call cmocka asserts: they count errors in atomics
** that the test thread asserts after joining.
**
** PK_TEST_LABELS: sched
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "pk_deque.h"

#define NTHIEVES 3
#define WORK_PER_ITEM 200

/* xorshift64*: one deterministic stream per seed, per thread. */
static uint64_t rng_next(uint64_t *s)
{
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1Dull;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- counting allocator ------------------------------------------------ */

typedef struct counting {
  atomic_size_t live_bytes;
  atomic_size_t nalloc, nfree;
  size_t fail_after; /* allocations allowed before failing; 0 = never fail */
} counting;

static void *count_alloc(size_t bytes, void *ctx)
{
  counting *c = ctx;
  size_t n = atomic_fetch_add(&c->nalloc, 1) + 1;
  if (c->fail_after && n > c->fail_after) {
    atomic_fetch_sub(&c->nalloc, 1);
    return NULL;
  }
  atomic_fetch_add(&c->live_bytes, bytes);
  return malloc(bytes);
}

static void count_free(void *p, size_t bytes, void *ctx)
{
  counting *c = ctx;
  atomic_fetch_sub(&c->live_bytes, bytes);
  atomic_fetch_add(&c->nfree, 1);
  free(p);
}

static pkd_alloc counting_alloc(counting *c)
{
  memset(c, 0, sizeof *c);
  return (pkd_alloc){ count_alloc, count_free, c };
}

/* ---- single thread --------------------------------------------------------- */

static void test_empty(void **state)
{
  (void)state;
  pkd_deque d;
  assert_true(pkd_init(&d, 0, &pkd_alloc_malloc));
  uintptr_t x = 77;
  assert_false(pkd_pop_owner(&d, &x));
  assert_int_equal(pkd_steal_mc(&d, &x), PKD_EMPTY);
  assert_int_equal(x, 77);
  assert_int_equal(pkd_size_approx(&d), 0);
  assert_int_equal(pkd_capacity_owner(&d), 2);
  /* A failed pop must leave the deque usable. */
  assert_true(pkd_push_owner(&d, 5));
  assert_int_equal(pkd_size_approx(&d), 1);
  assert_true(pkd_pop_owner(&d, &x));
  assert_int_equal(x, 5);
  assert_false(pkd_pop_owner(&d, &x));
  assert_int_equal(pkd_size_approx(&d), 0);
  pkd_destroy(&d);
}

static void test_order(void **state)
{
  (void)state;
  pkd_deque d;
  assert_true(pkd_init(&d, 1000, &pkd_alloc_malloc));
  assert_int_equal(pkd_capacity_owner(&d), 1024);
  uintptr_t x;
  /* Any word is an item, 0 and all-ones included. */
  assert_true(pkd_push_owner(&d, 0));
  assert_true(pkd_push_owner(&d, UINTPTR_MAX));
  assert_true(pkd_pop_owner(&d, &x));
  assert_true(x == UINTPTR_MAX);
  assert_int_equal(pkd_steal_mc(&d, &x), PKD_TAKEN);
  assert_true(x == 0);
  /* Pops are LIFO, steals FIFO, from opposite ends. */
  for (uintptr_t i = 1; i <= 100; i++) assert_true(pkd_push_owner(&d, i));
  assert_int_equal(pkd_size_approx(&d), 100);
  for (uintptr_t i = 1; i <= 50; i++) {
    assert_int_equal(pkd_steal_mc(&d, &x), PKD_TAKEN);
    assert_int_equal(x, i);
    assert_true(pkd_pop_owner(&d, &x));
    assert_int_equal(x, 101 - i);
    assert_int_equal(pkd_size_approx(&d), 100 - 2 * (int64_t)i);
  }
  assert_false(pkd_pop_owner(&d, &x));
  assert_int_equal(pkd_steal_mc(&d, &x), PKD_EMPTY);
  pkd_destroy(&d);
}

/* Growth from 2 slots to 2^20 while top keeps moving, so that every copy
   starts in the middle of the old buffer and wraps around its end. */
static void test_growth(void **state)
{
  (void)state;
  counting c;
  pkd_alloc a = counting_alloc(&c);
  pkd_deque d;
  assert_true(pkd_init(&d, 1, &a));
  assert_int_equal(pkd_capacity_owner(&d), 2);
  const uintptr_t n = (uintptr_t)3 << 19; /* pushes; 2/3 stay: 2^20 live */
  uintptr_t next_steal = 0, x;
  for (uintptr_t i = 0; i < n; i++) {
    if (i % 3 == 2) { /* before every third push, steal one */
      assert_int_equal(pkd_steal_mc(&d, &x), PKD_TAKEN);
      assert_int_equal(x, next_steal);
      next_steal++;
    }
    assert_true(pkd_push_owner(&d, i));
  }
  int64_t live = (int64_t)(n - next_steal);
  assert_int_equal(pkd_size_approx(&d), live);
  size_t cap = pkd_capacity_owner(&d);
  assert_int_equal(cap, (size_t)1 << 20);
  assert_int_equal(atomic_load(&c.nalloc), 20); /* 2, 4, ..., 2^20 */
  /* Drain from both ends: steals see the oldest in order, pops the newest. */
  for (int64_t k = 0; k < live / 2; k++) {
    assert_int_equal(pkd_steal_mc(&d, &x), PKD_TAKEN);
    assert_int_equal(x, next_steal);
    next_steal++;
  }
  for (uintptr_t i = n; i-- > next_steal;) {
    assert_true(pkd_pop_owner(&d, &x));
    assert_int_equal(x, i);
  }
  assert_false(pkd_pop_owner(&d, &x));
  /* Retired buffers: reclaim keeps only the current one, destroy frees all. */
  pkd_reclaim_quiescent(&d);
  assert_int_equal(atomic_load(&c.nfree), 19);
  assert_int_equal(atomic_load(&c.live_bytes), sizeof(struct pkd_buf) + cap * sizeof(uintptr_t));
  assert_true(pkd_push_owner(&d, 42)); /* still usable, no growth */
  assert_int_equal(atomic_load(&c.nalloc), 20);
  pkd_destroy(&d);
  assert_int_equal(atomic_load(&c.live_bytes), 0);
  assert_int_equal(atomic_load(&c.nfree), 20);
}

/* Scrub: only when empty; zeroes every slot, retired buffers included. */
static void test_scrub(void **state)
{
  (void)state;
  pkd_deque d;
  assert_true(pkd_init(&d, 2, &pkd_alloc_malloc));
  uintptr_t x;
  for (uintptr_t i = 1; i <= 100; i++) assert_true(pkd_push_owner(&d, i));
  assert_false(pkd_scrub_owner(&d));
  assert_int_equal(pkd_steal_mc(&d, &x), PKD_TAKEN);
  while (pkd_pop_owner(&d, &x)) {}
  assert_true(pkd_scrub_owner(&d));
  int buffers = 0;
  for (struct pkd_buf *b = atomic_load(&d.buf); b; b = b->older, buffers++)
    for (int64_t i = 0; i <= b->mask; i++) assert_int_equal(atomic_load(&b->slot[i]), 0);
  assert_int_equal(buffers, 7);       /* 2 .. 128 */
  assert_true(pkd_push_owner(&d, 9)); /* usable afterwards */
  assert_int_equal(pkd_steal_mc(&d, &x), PKD_TAKEN);
  assert_int_equal(x, 9);
  pkd_destroy(&d);
}

/* A growth whose allocation fails leaves the deque intact. */
static void test_growth_failure(void **state)
{
  (void)state;
  counting c;
  pkd_alloc a = counting_alloc(&c);
  c.fail_after = 2; /* initial buffer + one doubling */
  pkd_deque d;
  assert_true(pkd_init(&d, 2, &a));
  for (uintptr_t i = 0; i < 4; i++) assert_true(pkd_push_owner(&d, i));
  assert_false(pkd_push_owner(&d, 4));
  assert_int_equal(pkd_size_approx(&d), 4);
  uintptr_t x;
  assert_int_equal(pkd_steal_mc(&d, &x), PKD_TAKEN);
  assert_int_equal(x, 0);
  assert_true(pkd_push_owner(&d, 4)); /* room again */
  for (uintptr_t i = 5; i-- > 1;) {
    assert_true(pkd_pop_owner(&d, &x));
    assert_int_equal(x, i);
  }
  pkd_destroy(&d);
  assert_int_equal(atomic_load(&c.live_bytes), 0);
}

/* ---- concurrent ------------------------------------------------------------- */

/* Shared by the owner and thieves of one concurrent test. */
typedef struct shared {
  pkd_deque d;
  size_t nitems;
  uint64_t *payload;    /* plain memory: written by the pusher */
  atomic_uchar *taken;  /* per item: times taken */
  atomic_size_t ntaken; /* items taken, all threads */
  atomic_size_t errors; /* bad payloads, double takes, bad order */
  atomic_int go;        /* round number released to thieves */
  atomic_int stop;
  pthread_barrier_t barrier;
  /* statistics */
  atomic_size_t steals, lost, empty;
} shared;

static uint64_t payload_of(size_t i) { return (uint64_t)i * 0x9E3779B97F4A7C15ull ^ 0x5555; }

/* Owner: write the payload, then publish the item. */
static void push_item(shared *s, size_t i)
{
  s->payload[i] = payload_of(i);
  while (!pkd_push_owner(&s->d, i)) sched_yield();
}

/* Stand-in for running a branch: ~n dependent multiplies, no memory. */
static uint64_t work(uint64_t x, unsigned n)
{
  for (unsigned k = 0; k < n; k++) x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

/* Any taker: check the payload and that nobody took i before, then work a
   little, as a worker would, so that owner and thieves overlap in time. */
static void took_item(shared *s, uintptr_t i)
{
  if (i >= s->nitems || s->payload[i] != payload_of(i)) {
    atomic_fetch_add(&s->errors, 1);
    return;
  }
  if (work(i, WORK_PER_ITEM) == 0x2545F4914F6CDD1Dull) atomic_fetch_add(&s->ntaken, 0);
  if (atomic_fetch_add_explicit(&s->taken[i], 1, memory_order_relaxed) != 0) atomic_fetch_add(&s->errors, 1);
  atomic_fetch_add_explicit(&s->ntaken, 1, memory_order_relaxed);
}

static void shared_init(shared *s, size_t nitems, size_t capacity)
{
  memset(s, 0, sizeof *s);
  assert_true(pkd_init(&s->d, capacity, &pkd_alloc_malloc));
  s->nitems = nitems;
  s->payload = calloc(nitems, sizeof *s->payload);
  s->taken = calloc(nitems, sizeof *s->taken);
  assert_non_null(s->payload);
  assert_non_null(s->taken);
  assert_int_equal(pthread_barrier_init(&s->barrier, NULL, NTHIEVES + 1), 0);
}

/* Test thread: every item taken exactly once, no error seen. */
static void shared_check_and_free(shared *s)
{
  size_t bad = 0;
  for (size_t i = 0; i < s->nitems; i++) bad += atomic_load(&s->taken[i]) != 1;
  assert_int_equal(atomic_load(&s->errors), 0);
  assert_int_equal(bad, 0);
  assert_int_equal(atomic_load(&s->ntaken), s->nitems);
  assert_int_equal(pkd_size_approx(&s->d), 0);
  pthread_barrier_destroy(&s->barrier);
  pkd_destroy(&s->d);
  free(s->payload);
  free(s->taken);
}

/* Thief: steal until stop.  After a run of misses yield, after a long run
   sleep 20 us, so that the owner gets the CPU when the threads outnumber
   the cores. */
static void *thief_loop(void *arg)
{
  shared *s = arg;
  size_t steals = 0, lost = 0, empty = 0;
  unsigned misses = 0;
  pthread_barrier_wait(&s->barrier);
  while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
    uintptr_t x;
    pkd_steal_result r = pkd_steal_mc(&s->d, &x);
    if (r == PKD_TAKEN) {
      took_item(s, x);
      steals++;
      misses = 0;
      continue;
    }
    if (pkd_size_approx(&s->d) < 0) atomic_fetch_add(&s->errors, 1);
    if (r == PKD_LOST)
      lost++;
    else
      empty++;
    if (++misses % 1024 == 0)
      nanosleep(&(struct timespec){ 0, 20000 }, NULL);
    else if (misses % 32 == 0)
      sched_yield();
  }
  atomic_fetch_add(&s->steals, steals);
  atomic_fetch_add(&s->lost, lost);
  atomic_fetch_add(&s->empty, empty);
  return NULL;
}

static void start_thieves(shared *s, pthread_t *th, void *(*fn)(void *))
{
  for (int k = 0; k < NTHIEVES; k++) assert_int_equal(pthread_create(&th[k], NULL, fn, s), 0);
}

static void join_thieves(pthread_t *th)
{
  for (int k = 0; k < NTHIEVES; k++) assert_int_equal(pthread_join(th[k], NULL), 0);
}

/* 2 million items in all, in 4 trials with fresh threads and deques (each
   trial's start is a new interleaving).  About 0.4 s in Release, 1.5 s
   under TSan, on 2 shared cores. */
#define MIXED_ITEMS 500000u
#define MIXED_TRIALS 4

/* Owner pushing and popping at random against 3 thieves, starting from a
   2-slot buffer (growth races with steals).  Phases alternate: bursts that
   build a deep deque, and a near-empty phase (push 1-3, pop until empty)
   where pops race steals for the last items.  Returns the owner's pops;
   adds the items thieves took in the near-empty phase to *stolen_near_empty. */
static size_t mixed_owner(shared *s, uint64_t seed, size_t *stolen_near_empty)
{
  uint64_t rng = seed;
  size_t next = 0, pops = 0;
  uintptr_t x;
  while (next < s->nitems) {
    uint64_t r = rng_next(&rng);
    if (r % 4 == 0) {                      /* near-empty: last-item race */
      int depth = 1 + (int)((r >> 8) % 3); /* 1..3 items: pops race steals */
      for (int k = 0; k < 64 && next < s->nitems; k++) {
        while (pkd_pop_owner(&s->d, &x)) {
          took_item(s, x);
          pops++;
        }
        /* Empty now: scrubbing races thieves that still read old slots
           (a wrong take would be item 0 taken twice). */
        if (k == 0 && !pkd_scrub_owner(&s->d)) atomic_fetch_add(&s->errors, 1);
        int pushed = 0, popped = 0;
        for (; pushed < depth && next < s->nitems; pushed++) push_item(s, next++);
        while (pkd_pop_owner(&s->d, &x)) {
          took_item(s, x);
          popped++;
        }
        pops += (size_t)popped;
        *stolen_near_empty += (size_t)(pushed - popped);
      }
    } else { /* burst up, partial pop down */
      size_t up = 1 + (r >> 8) % 1024, down = (r >> 24) % (up + 1);
      for (size_t k = 0; k < up && next < s->nitems; k++) push_item(s, next++);
      for (size_t k = 0; k < down && pkd_pop_owner(&s->d, &x); k++) {
        took_item(s, x);
        pops++;
      }
    }
  }
  while (pkd_pop_owner(&s->d, &x)) {
    took_item(s, x);
    pops++;
  }
  return pops;
}

static void test_owner_and_thieves(void **state)
{
  (void)state;
  static shared s;
  size_t pops = 0, near_empty = 0, steals = 0, lost = 0, empty = 0;
  double t0 = now_s();
  for (int trial = 0; trial < MIXED_TRIALS; trial++) {
    shared_init(&s, MIXED_ITEMS, 2);
    pthread_t th[NTHIEVES];
    start_thieves(&s, th, thief_loop);
    pthread_barrier_wait(&s.barrier);
    pops += mixed_owner(&s, 0x1234567u + (uint64_t)trial, &near_empty);
    while (atomic_load(&s.ntaken) < s.nitems && atomic_load(&s.errors) == 0) sched_yield();
    atomic_store_explicit(&s.stop, 1, memory_order_release);
    join_thieves(th);
    steals += atomic_load(&s.steals);
    lost += atomic_load(&s.lost);
    empty += atomic_load(&s.empty);
    assert_true(atomic_load(&s.steals) > 0);
    shared_check_and_free(&s);
  }
  print_message("owner+3 thieves: %u x %u items in %.2f s; pops %zu, steals %zu, "
                "lost races %zu, empty %zu, stolen from 1-3 items %zu\n",
                MIXED_TRIALS, MIXED_ITEMS, now_s() - t0, pops, steals, lost, empty, near_empty);
}

/* Thief for bursts: wait for each round, steal until the round's items are
   gone; the items one thief steals must come out oldest first. */
static void *burst_thief(void *arg)
{
  shared *s = arg;
  size_t steals = 0, lost = 0, empty = 0;
  pthread_barrier_wait(&s->barrier);
  for (;;) {
    pthread_barrier_wait(&s->barrier); /* round pushed (or stop) */
    if (atomic_load(&s->stop)) break;
    uintptr_t last = UINTPTR_MAX, x;
    bool first = true;
    for (;;) {
      pkd_steal_result r = pkd_steal_mc(&s->d, &x);
      if (r == PKD_EMPTY) {
        empty++;
        break;
      }
      if (r == PKD_LOST) {
        lost++;
        continue;
      }
      if (!first && x <= last) atomic_fetch_add(&s->errors, 1);
      first = false;
      last = x;
      took_item(s, x);
      steals++;
    }
    pthread_barrier_wait(&s->barrier); /* round drained */
  }
  atomic_fetch_add(&s->steals, steals);
  atomic_fetch_add(&s->lost, lost);
  atomic_fetch_add(&s->empty, empty);
  return NULL;
}

/* Bursts of pushes (growing the buffer), then only thieves drain them. */
static void test_burst_then_thieves(void **state)
{
  (void)state;
  static shared s;
  const size_t rounds = 40, per_round = 10000;
  shared_init(&s, rounds * per_round, 4);
  pthread_t th[NTHIEVES];
  start_thieves(&s, th, burst_thief);
  pthread_barrier_wait(&s.barrier);
  double t0 = now_s();
  size_t next = 0;
  for (size_t round = 0; round < rounds; round++) {
    size_t n = per_round / 2 + round * per_round / rounds; /* growing bursts */
    if (round == rounds - 1) n = s.nitems - next;
    for (size_t k = 0; k < n; k++) push_item(&s, next++);
    pthread_barrier_wait(&s.barrier); /* release the thieves */
    pthread_barrier_wait(&s.barrier); /* wait until drained */
    assert_int_equal(pkd_size_approx(&s.d), 0);
    assert_int_equal(atomic_load(&s.ntaken), next);
  }
  atomic_store(&s.stop, 1);
  pthread_barrier_wait(&s.barrier);
  join_thieves(th);
  print_message("bursts: %zu items in %zu rounds in %.2f s, capacity %zu; "
                "lost races %zu\n",
                s.nitems, rounds, now_s() - t0, pkd_capacity_owner(&s.d), atomic_load(&s.lost));
  shared_check_and_free(&s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_empty),
    cmocka_unit_test(test_order),
    cmocka_unit_test(test_growth),
    cmocka_unit_test(test_growth_failure),
    cmocka_unit_test(test_scrub),
    cmocka_unit_test(test_owner_and_thieves),
    cmocka_unit_test(test_burst_then_thieves),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
