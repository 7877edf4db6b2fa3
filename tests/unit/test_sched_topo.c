/*
** test_sched_topo.c — unit tests for pk_topo (placement, victim order,
** pinning, default worker count).
**
** On this machine: plans for 1, 2, 8 and PKT_MAX_WORKERS workers are valid
** (PUs from the affinity mask, spread before wrapping; victim lists are
** permutations of the other workers, nearest first; same seed, same plan;
** some seed gives other lists), pinning succeeds or fails gracefully.
** On hwloc synthetic topologies (2 packages, 2 L3 each, 2 cores each, 2
** hyper-threads): the exact placement order and distances.  Without a
** topology: the mask order.  PKANREN_THREADS: honoured when valid.
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
#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "pk_topo.h"

/* 2 packages x 2 L3 x 2 cores x 2 PUs; one NUMA node per package.  PU os i:
   core i/2, L3 i/4, package and NUMA node i/8. */
#define SYNTH "pack:2 numa:1 l3:2 core:2 pu:2"

/* ---- the affinity mask --------------------------------------------------- */

static int mask_cpus[4096];
static int mask_n;

static void read_mask(void)
{
  cpu_set_t set;
  CPU_ZERO(&set);
  assert_int_equal(sched_getaffinity(0, sizeof set, &set), 0);
  mask_n = 0;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &set)) mask_cpus[mask_n++] = c;
  assert_true(mask_n > 0);
}

static int in_mask(int cpu)
{
  for (int i = 0; i < mask_n; i++)
    if (mask_cpus[i] == cpu) return 1;
  return 0;
}

/* ---- plan checks ------------------------------------------------------------ */

/* Invariants of any plan for n workers over npus distinct PUs. */
static void check_plan(const pkt_plan *p, int n, int npus)
{
  assert_non_null(p);
  assert_int_equal(pkt_plan_workers(p), n);
  for (int w = 0; w < n; w++) {
    /* Spread: the first npus workers get distinct PUs, then wrap around. */
    if (w >= npus) assert_int_equal(pkt_plan_pu(p, w), pkt_plan_pu(p, w % npus));
    for (int v = 0; v < w && w < npus; v++) assert_int_not_equal(pkt_plan_pu(p, w), pkt_plan_pu(p, v));
    /* Victims: the other workers, each once, distance non-decreasing. */
    const int *vl = pkt_plan_victims(p, w);
    char *seen = calloc((size_t)n, 1);
    assert_non_null(seen);
    int last = PKT_SAME_CORE;
    for (int k = 0; k < n - 1; k++) {
      int v = vl[k];
      assert_true(v >= 0 && v < n && v != w);
      assert_int_equal(seen[v], 0);
      seen[v] = 1;
      int d = pkt_plan_distance(p, w, v);
      assert_true(d >= last && d <= PKT_FAR);
      assert_int_equal(d, pkt_plan_distance(p, v, w));
      last = d;
    }
    free(seen);
    if (pkt_plan_pu(p, w) == pkt_plan_pu(p, (w + 1) % n))
      assert_int_equal(pkt_plan_distance(p, w, (w + 1) % n), PKT_SAME_CORE);
  }
  const char *d = pkt_plan_describe(p);
  char head[32];
  snprintf(head, sizeof head, "workers=%d ", n);
  assert_non_null(d);
  assert_true(strncmp(d, head, strlen(head)) == 0);
  assert_null(strchr(d, '\n'));
}

/* Same PUs and victim lists. */
static int plans_equal(const pkt_plan *a, const pkt_plan *b)
{
  int n = pkt_plan_workers(a);
  if (n != pkt_plan_workers(b)) return 0;
  for (int w = 0; w < n; w++) {
    if (pkt_plan_pu(a, w) != pkt_plan_pu(b, w)) return 0;
    if (memcmp(pkt_plan_victims(a, w), pkt_plan_victims(b, w), (size_t)(n - 1) * sizeof(int))) return 0;
  }
  return 1;
}

/* ---- this machine -------------------------------------------------------------- */

static void test_system_plans(void **state)
{
  (void)state;
  read_mask();
  const int sizes[] = { 1, 2, 8, PKT_MAX_WORKERS };
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    int n = sizes[i];
    pkt_plan *p = pkt_plan_new(n, 42);
    check_plan(p, n, mask_n);
    for (int w = 0; w < n; w++) assert_true(in_mask(pkt_plan_pu(p, w)));
    pkt_plan *q = pkt_plan_new(n, 42);
    assert_true(plans_equal(p, q));
    if (n == 8) {
      print_message("8 workers: %s\n", pkt_plan_describe(p));
      int differs = 0;
      for (uint64_t seed = 1; seed <= 32 && !differs; seed++) {
        pkt_plan *r = pkt_plan_new(n, seed);
        check_plan(r, n, mask_n);
        differs = !plans_equal(p, r);
        pkt_plan_free(r);
      }
      assert_true(differs);
    }
    pkt_plan_free(q);
    pkt_plan_free(p);
  }
  assert_null(pkt_plan_new(0, 1));
  assert_null(pkt_plan_new(-3, 1));
  assert_null(pkt_plan_new(PKT_MAX_WORKERS + 1, 1));
  pkt_plan_free(NULL);
}

/* ---- pinning ----------------------------------------------------------------------- */

typedef struct pin_arg {
  const pkt_plan *p;
  int w, rc, ok;
} pin_arg;

/* Worker thread: pin, then check the thread's mask is exactly the PU. */
static void *pin_thread(void *arg)
{
  pin_arg *a = arg;
  a->rc = pkt_pin_self(a->p, a->w);
  cpu_set_t set;
  CPU_ZERO(&set);
  a->ok = sched_getaffinity(0, sizeof set, &set) == 0;
  if (a->rc == 0)
    a->ok = a->ok && CPU_COUNT(&set) == 1 && CPU_ISSET(pkt_plan_pu(a->p, a->w), &set);
  else
    a->ok = a->ok && a->rc < 0;
  return NULL;
}

/* One thread per worker pins itself; returns how many pins succeeded. */
static int pin_all(const pkt_plan *p)
{
  int n = pkt_plan_workers(p), ok = 0;
  pthread_t th[8];
  pin_arg args[8];
  assert_true(n <= 8);
  for (int w = 0; w < n; w++) {
    args[w] = (pin_arg){ p, w, 1, 0 };
    assert_int_equal(pthread_create(&th[w], NULL, pin_thread, &args[w]), 0);
  }
  for (int w = 0; w < n; w++) {
    assert_int_equal(pthread_join(th[w], NULL), 0);
    assert_true(args[w].ok);
    ok += args[w].rc == 0;
  }
  return ok;
}

static void test_pin_self(void **state)
{
  (void)state;
  read_mask();
  /* 8 workers on however many CPUs: oversubscription wraps around. */
  pkt_plan *p = pkt_plan_new(8, 7);
  assert_non_null(p);
  int ok = pin_all(p);
  print_message("pinned %d of 8 workers (%d CPUs)\n", ok, mask_n);
  assert_int_equal(pkt_pin_self(p, -1), -EINVAL);
  assert_int_equal(pkt_pin_self(p, 8), -EINVAL);
  assert_int_equal(pkt_pin_self(NULL, 0), -EINVAL);
  pkt_plan_free(p);
  /* Without topology: sched_setaffinity, same result. */
  p = pkt_plan_new_from(PKT_FLAT, NULL, NULL, 0, 4, 7);
  check_plan(p, 4, mask_n);
  assert_true(pin_all(p) >= 0);
  pkt_plan_free(p);
  /* A CPU outside the mask: the pin fails, not fatally, binding unchanged. */
  int outside = 100000; /* no such CPU */
  p = pkt_plan_new_from(PKT_FLAT, NULL, &outside, 1, 1, 7);
  assert_non_null(p);
  pin_arg a = { p, 0, 1, 0 };
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, pin_thread, &a), 0);
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_true(a.rc < 0);
  assert_true(a.ok);
  pkt_plan_free(p);
}

/* ---- synthetic topologies -------------------------------------------------------- */

static void test_synthetic_placement(void **state)
{
  (void)state;
  int all[16];
  for (int i = 0; i < 16; i++) all[i] = i;
  pkt_plan *p = pkt_plan_new_from(PKT_SYNTHETIC, SYNTH, all, 16, 20, 9);
  check_plan(p, 20, 16);
  /* Cores first, NUMA node 0 then 1; then the second hyper-threads. */
  const int want[16] = { 0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15 };
  for (int w = 0; w < 20; w++) assert_int_equal(pkt_plan_pu(p, w), want[w % 16]);
  /* Distances by PU: core i/2, L3 i/4, NUMA i/8. */
  for (int a = 0; a < 20; a++)
    for (int b = 0; b < 20; b++) {
      int x = pkt_plan_pu(p, a), y = pkt_plan_pu(p, b);
      int d = x / 2 == y / 2   ? PKT_SAME_CORE
              : x / 4 == y / 4 ? PKT_SAME_CACHE
              : x / 8 == y / 8 ? PKT_SAME_NUMA
                               : PKT_FAR;
      assert_int_equal(pkt_plan_distance(p, a, b), d);
    }
  /* Worker 0 (PU 0): its hyper-thread sibling (worker 8) and worker 16
     (wrapped onto PU 0) first, then workers 1, 17 (PU 2) and 9 (PU 3) of the
     same L3, in some order. */
  const int *v = pkt_plan_victims(p, 0);
  assert_true((v[0] == 8 && v[1] == 16) || (v[0] == 16 && v[1] == 8));
  assert_int_equal(v[2] + v[3] + v[4], 1 + 9 + 17);
  assert_int_equal(v[2] * v[3] * v[4], 1 * 9 * 17);
  assert_int_equal(pkt_pin_self(p, 0), -ENOSYS);
  print_message("synthetic: %s\n", pkt_plan_describe(p));
  assert_non_null(strstr(pkt_plan_describe(p), "pus=16 cores=8 numa=2 topo=synthetic"));
  pkt_plan_free(p);
}

static void test_synthetic_masks(void **state)
{
  (void)state;
  /* Only odd PUs: one per core, so no second tier. */
  int odd[8];
  for (int i = 0; i < 8; i++) odd[i] = 2 * i + 1;
  pkt_plan *p = pkt_plan_new_from(PKT_SYNTHETIC, SYNTH, odd, 8, 8, 1);
  check_plan(p, 8, 8);
  for (int w = 0; w < 8; w++) assert_int_equal(pkt_plan_pu(p, w), 2 * w + 1);
  pkt_plan_free(p);
  /* Two full cores of node 0 and one PU of node 1; 100 is unknown to the
     topology (own core, unknown node: last of the first tier); duplicates
     and negatives are dropped. */
  const int some[] = { 3, 2, 1, 0, 8, 100, 3, -1 };
  p = pkt_plan_new_from(PKT_SYNTHETIC, SYNTH, some, 8, 6, 1);
  check_plan(p, 6, 6);
  const int want[6] = { 0, 2, 8, 100, 1, 3 };
  for (int w = 0; w < 6; w++) assert_int_equal(pkt_plan_pu(p, w), want[w]);
  assert_int_equal(pkt_plan_distance(p, 0, 3), PKT_FAR);
  assert_int_equal(pkt_plan_distance(p, 0, 4), PKT_SAME_CORE);
  pkt_plan_free(p);
  /* Bad descriptions and empty masks give no plan. */
  assert_null(pkt_plan_new_from(PKT_SYNTHETIC, "pack:banana", odd, 8, 2, 1));
  assert_null(pkt_plan_new_from(PKT_SYNTHETIC, NULL, odd, 8, 2, 1));
  assert_null(pkt_plan_new_from(PKT_FLAT, NULL, odd, 0, 2, 1));
}

/* Seeds shuffle ties only: every seed keeps the distance classes. */
static void test_seed_shuffles_ties(void **state)
{
  (void)state;
  int all[16];
  for (int i = 0; i < 16; i++) all[i] = i;
  pkt_plan *a = pkt_plan_new_from(PKT_SYNTHETIC, SYNTH, all, 16, 16, 1);
  int differs = 0;
  for (uint64_t seed = 2; seed < 10; seed++) {
    pkt_plan *b = pkt_plan_new_from(PKT_SYNTHETIC, SYNTH, all, 16, 16, seed);
    check_plan(b, 16, 16);
    pkt_plan *c = pkt_plan_new_from(PKT_SYNTHETIC, SYNTH, all, 16, 16, seed);
    assert_true(plans_equal(b, c));
    differs += !plans_equal(a, b);
    for (int w = 0; w < 16; w++)
      for (int k = 0; k < 15; k++)
        assert_int_equal(pkt_plan_distance(a, w, pkt_plan_victims(a, w)[k]),
                         pkt_plan_distance(b, w, pkt_plan_victims(b, w)[k]));
    pkt_plan_free(c);
    pkt_plan_free(b);
  }
  assert_true(differs > 0);
  pkt_plan_free(a);
}

/* ---- no topology ---------------------------------------------------------------------- */

static void test_flat(void **state)
{
  (void)state;
  const int cpus[] = { 5, 1, 3, 3 };
  pkt_plan *p = pkt_plan_new_from(PKT_FLAT, NULL, cpus, 4, 5, 3);
  check_plan(p, 5, 3);
  const int want[5] = { 1, 3, 5, 1, 3 };
  for (int w = 0; w < 5; w++) assert_int_equal(pkt_plan_pu(p, w), want[w]);
  assert_int_equal(pkt_plan_distance(p, 0, 1), PKT_FAR);
  assert_int_equal(pkt_plan_distance(p, 0, 3), PKT_SAME_CORE);
  assert_int_equal(pkt_plan_victims(p, 0)[0], 3);
  print_message("flat: %s\n", pkt_plan_describe(p));
  assert_non_null(strstr(pkt_plan_describe(p), "topo=affinity-mask oversubscribed=2x pin=1,3,5,1,3"));
  pkt_plan_free(p);
}

/* ---- PKANREN_THREADS --------------------------------------------------------------------- */

static void test_default_workers(void **state)
{
  (void)state;
  read_mask();
  char *saved = getenv("PKANREN_THREADS") ? strdup(getenv("PKANREN_THREADS")) : NULL;
  unsetenv("PKANREN_THREADS");
  assert_int_equal(pkt_default_workers(), mask_n);
  setenv("PKANREN_THREADS", "3", 1);
  assert_int_equal(pkt_default_workers(), 3);
  setenv("PKANREN_THREADS", "64", 1);
  assert_int_equal(pkt_default_workers(), 64);
  setenv("PKANREN_THREADS", "99999999999999999999", 1);
  assert_int_equal(pkt_default_workers(), PKT_MAX_WORKERS);
  const char *bad[] = { "0", "-2", "", "abc", "3x", " 3", "1.5" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    setenv("PKANREN_THREADS", bad[i], 1);
    assert_int_equal(pkt_default_workers(), mask_n);
  }
  if (saved)
    setenv("PKANREN_THREADS", saved, 1);
  else
    unsetenv("PKANREN_THREADS");
  free(saved);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_system_plans),        cmocka_unit_test(test_pin_self),
    cmocka_unit_test(test_synthetic_placement), cmocka_unit_test(test_synthetic_masks),
    cmocka_unit_test(test_seed_shuffles_ties),  cmocka_unit_test(test_flat),
    cmocka_unit_test(test_default_workers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
