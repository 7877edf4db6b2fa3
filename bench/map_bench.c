/*
** map_bench.c — ns per pkm_get / pkm_set at 100, 10k and 1M keys.
**
** Build (16-way; add -DPKM_BITS=5 for 32-way, -mpopcnt for the hardware
** popcount):
**   gcc -std=c11 -O2 -D_GNU_SOURCE -Iengine engine/pk_map.c \
**       bench/map_bench.c -o /tmp/map_bench -lgc
**   /tmp/map_bench [MB of live ballast, e.g. 64]
** Maps are built by inserting ids 0..n-1 in order, as a search branch
** allocates them.  Rows:
**   build     ns per set while building the map from empty
**   extend    ns per set of one new id (n, n+1, ...) on the full map, each
**             from the same base: a branch binding a fresh variable
**   B/set     bytes allocated per extend (path copy size)
**   get rand  independent lookups of uniform keys (throughput)
**   get new   independent lookups of the 64 newest ids
**   walk      dependent lookups: each value is the next key to fetch, in a
**             random cycle, as walk() chases variable chains (latency)
** Times are process CPU time; run it several times and take the minimum.
*/
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pk_map.h"

static volatile uint64_t sink;

/* Process CPU time in ns: it counts the collector's marker threads and
   ignores time lost to other processes on a shared machine. */
static double now_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

/* xorshift64*: cheap enough not to dominate a lookup. */
static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Build 0..n-1 where key i maps to the variable of the next key in a
   random cycle, reps times; ns per set is the mean over all of them (a
   single small build is below the CPU clock's resolution). */
static pkm_map build(size_t n, int reps, double *ns_per_set)
{
  uint64_t *perm = pko_xmalloc(n * sizeof *perm);
  for (size_t i = 0; i < n; i++) perm[i] = i;
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = rng() % (i + 1);
    uint64_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  uint64_t *next = pko_xmalloc(n * sizeof *next);
  for (size_t i = 0; i < n; i++) next[perm[i]] = perm[(i + 1) % n];
  pkm_map m = NULL;
  double t0 = now_ns();
  for (int r = 0; r < reps; r++) {
    m = NULL;
    for (size_t k = 0; k < n; k++) m = pkm_set(m, k, pko_mkvar(next[k]));
  }
  *ns_per_set = (now_ns() - t0) / ((double)n * reps);
  free(perm);
  free(next);
  return m;
}

/* One size: print one line of results. */
static void run(size_t n)
{
  double t_build;
  int reps = n >= 1000000 ? 3 : (int)(3000000 / n);
  pkm_map m = build(n, reps, &t_build);
  const size_t ops = 10000000;

  size_t ext = n >= 1000000 ? 1000000 : 2000000;
  GC_gcollect();
  size_t b0 = GC_get_total_bytes();
  double t0 = now_ns();
  uint64_t acc = 0;
  for (size_t i = 0; i < ext; i++) acc += (uintptr_t)pkm_set(m, n + (i & 1023), PK_TRUE);
  double t_ext = (now_ns() - t0) / ext;
  double bytes = (double)(GC_get_total_bytes() - b0) / ext;

  /* 64k precomputed keys read in sequence: the prefetcher hides them. */
  uint64_t *keys = pko_xmalloc(65536 * sizeof *keys);
  for (int i = 0; i < 65536; i++) keys[i] = rng() % n;
  t0 = now_ns();
  for (size_t i = 0; i < ops; i++) acc += pkm_get(m, keys[i & 65535]);
  double t_rand = (now_ns() - t0) / ops;

  t0 = now_ns();
  for (size_t i = 0; i < ops; i++) acc += pkm_get(m, n - 1 - (i & 63));
  double t_new = (now_ns() - t0) / ops;

  uint64_t k = 0;
  t0 = now_ns();
  for (size_t i = 0; i < ops; i++) k = pko_varid(pkm_get(m, k));
  double t_walk = (now_ns() - t0) / ops;

  sink = acc + k;
  printf("%8zu  build %6.1f  extend %6.1f  B/set %5.0f  get rand %5.1f  get new %5.1f  walk %6.1f\n", n, t_build, t_ext,
         bytes, t_rand, t_new, t_walk);
  free(keys);
}

/* Sizes 100, 10k, 1M; the header line names the variant measured. */
int main(int argc, char **argv)
{
  pko_init();
  /* Optional live ballast (argv[1] MB of pairs): collections then have real
     marking work, as in an engine with a populated heap, and the cost of
     each allocated byte shows. */
  static pk_val *ballast;
  ballast = GC_MALLOC(sizeof *ballast);
  for (long i = 0, mb = argc > 1 ? atol(argv[1]) : 0; i < mb * 65536; i++) *ballast = pko_cons(PK_NIL, *ballast);
  printf("%d-way, popcount %s, ballast %s MB\n", 1 << PKM_BITS,
#ifdef __POPCNT__
         "instruction"
#else
         "table"
#endif
         ,
         argc > 1 ? argv[1] : "0");
  run(100);
  run(10000);
  run(1000000);
  return 0;
}
