/*
** pk_topo.c — worker placement and victim order from hwloc (see pk_topo.h).
**
** Each allowed CPU becomes a pu_info: its OS index and the ids of its core,
** its L3 (or package), its NUMA node.  The placement is the PUs sorted by
** (hyper-thread rank within the core, NUMA node, core, PU); workers take
** them round-robin.  Victim lists sort the other workers by (distance,
** seeded random key, worker), so ties are shuffled reproducibly.
** hwloc is used only here and only during pkt_plan_new* and pkt_pin_self.
*/
#include "pk_topo.h"
#include "pk_obj.h"

#include <errno.h>
#include <hwloc.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Ids above this are invented for PUs hwloc does not know (logical indexes
   hwloc hands out stay far below). */
#define UNKNOWN_BASE (1 << 24)

typedef struct pkt_pu_info {
  int os;      /* OS index */
  int logical; /* hwloc logical index, or UNKNOWN_BASE + position */
  int core;    /* core logical index; unknown: UNKNOWN_BASE + os (own core) */
  int cache;   /* L3 (or package) logical index; -1 unknown */
  int numa;    /* NUMA node logical index; -1 unknown */
  int ht_rank; /* allowed PUs of the same core before this one */
  bool known;  /* hwloc has this PU (pin with hwloc) */
} pkt_pu_info;

struct pkt_plan {
  int nworkers;
  pkt_pu_info *w;        /* [nworkers]: the PU of each worker */
  int *victims;          /* [nworkers * (nworkers - 1)] */
  hwloc_topology_t topo; /* NULL: flat */
  bool synthetic;
  char *desc;
};

/* ---- affinity mask ---------------------------------------------------------- */

/* Any thread.  The calling thread's allowed CPUs, increasing, into a malloc'd
   array; their count, or -1.  Cost: one sched_getaffinity per mask size tried
   (1024 CPUs, doubling). */
static int pkt_affinity_cpus(int **out)
{
  for (int ncpu = 1024; ncpu <= (1 << 22); ncpu *= 2) {
    cpu_set_t *set = CPU_ALLOC(ncpu);
    size_t sz = CPU_ALLOC_SIZE(ncpu);
    if (!set) return -1;
    CPU_ZERO_S(sz, set);
    if (sched_getaffinity(0, sz, set) != 0) {
      CPU_FREE(set);
      if (errno == EINVAL) continue; /* the kernel's mask is larger */
      return -1;
    }
    int n = CPU_COUNT_S(sz, set), k = 0;
    int *cpus = out ? pko_xmalloc((size_t)n * sizeof *cpus) : NULL;
    for (int c = 0; out && c < ncpu && k < n; c++)
      if (CPU_ISSET_S((size_t)c, sz, set)) cpus[k++] = c;
    if (out) *out = cpus;
    CPU_FREE(set);
    return n;
  }
  return -1;
}

/* Any thread.  PKANREN_THREADS as a worker count, or 0 if unset or not a
   positive decimal integer.  Cost: O(length). */
static int pkt_env_threads(void)
{
  const char *s = getenv("PKANREN_THREADS");
  if (!s || *s < '0' || *s > '9') return 0;
  long v = 0;
  for (; *s >= '0' && *s <= '9'; s++)
    if ((v = v * 10 + (*s - '0')) > PKT_MAX_WORKERS) v = PKT_MAX_WORKERS;
  return *s == '\0' && v > 0 ? (int)v : 0;
}

int pkt_default_workers(void)
{
  int n = pkt_env_threads();
  if (n > 0) return n;
  n = pkt_affinity_cpus(NULL);
  if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (n > PKT_MAX_WORKERS) n = PKT_MAX_WORKERS;
  return n > 0 ? n : 1;
}

/* ---- per-PU information ----------------------------------------------------- */

static int pkt_cmp_int(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* The allowed CPUs, sorted, without duplicates or negatives: from cpus when
   given, else the affinity mask, else 0 .. online-1.  Count, or -1. */
static int pkt_allowed_cpus(const int *cpus, int ncpus, int **out)
{
  int n;
  if (cpus) {
    int *c = pko_xmalloc((size_t)(ncpus > 0 ? ncpus : 0) * sizeof *c);
    n = 0;
    for (int i = 0; i < ncpus; i++)
      if (cpus[i] >= 0) c[n++] = cpus[i];
    *out = c;
  } else if ((n = pkt_affinity_cpus(out)) <= 0) {
    if (n == 0) free(*out);
    long on = sysconf(_SC_NPROCESSORS_ONLN);
    n = on > 0 ? (int)on : 1;
    *out = pko_xmalloc((size_t)n * sizeof **out);
    for (int i = 0; i < n; i++) (*out)[i] = i;
  }
  qsort(*out, (size_t)n, sizeof **out, pkt_cmp_int);
  int u = 0;
  for (int i = 0; i < n; i++)
    if (u == 0 || (*out)[u - 1] != (*out)[i]) (*out)[u++] = (*out)[i];
  return u;
}

/* A PU without topology: its own core, nothing shared. */
static void pkt_pu_flat(pkt_pu_info *pi, int os, int position)
{
  *pi =
      (pkt_pu_info){ .os = os, .logical = UNKNOWN_BASE + position, .core = UNKNOWN_BASE + os, .cache = -1, .numa = -1 };
}

/* Fills pi for OS index os from topo (flat when topo is NULL or does not know
   os).  have_l3: the topology has L3 caches (else packages group cores).
   Returns whether hwloc knew the PU.  Cost: a few ancestor walks. */
static bool pkt_pu_from_hwloc(hwloc_topology_t topo, bool have_l3, int os, int position, pkt_pu_info *pi)
{
  hwloc_obj_t pu = topo ? hwloc_get_pu_obj_by_os_index(topo, (unsigned)os) : NULL;
  pkt_pu_flat(pi, os, position);
  if (!pu) return false;
  hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
  hwloc_obj_t cache = hwloc_get_ancestor_obj_by_type(topo, have_l3 ? HWLOC_OBJ_L3CACHE : HWLOC_OBJ_PACKAGE, pu);
  int node = pu->nodeset ? hwloc_bitmap_first(pu->nodeset) : -1;
  hwloc_obj_t numa = node >= 0 ? hwloc_get_numanode_obj_by_os_index(topo, (unsigned)node) : NULL;
  pi->logical = (int)pu->logical_index;
  if (core) pi->core = (int)core->logical_index;
  if (cache) pi->cache = (int)cache->logical_index;
  if (numa) pi->numa = (int)numa->logical_index;
  pi->known = true;
  return true;
}

/* Hyper-thread rank of every PU: allowed PUs of its core with a smaller
   logical index.  Cost: O(n^2), n = allowed CPUs. */
static void pkt_rank_hyperthreads(pkt_pu_info *pus, int n)
{
  for (int i = 0; i < n; i++) {
    pus[i].ht_rank = 0;
    for (int j = 0; j < n; j++) pus[i].ht_rank += pus[j].core == pus[i].core && pus[j].logical < pus[i].logical;
  }
}

/* Placement order: hyper-thread tier, NUMA node (unknown last), core, PU. */
static int pkt_cmp_placement(const void *pa, const void *pb)
{
  const pkt_pu_info *a = pa, *b = pb;
  if (a->ht_rank != b->ht_rank) return a->ht_rank - b->ht_rank;
  if (a->numa != b->numa) return (unsigned)a->numa < (unsigned)b->numa ? -1 : 1;
  if (a->core != b->core) return a->core < b->core ? -1 : 1;
  return (a->logical > b->logical) - (a->logical < b->logical);
}

static int pkt_distance(const pkt_pu_info *a, const pkt_pu_info *b)
{
  if (a->os == b->os || a->core == b->core) return PKT_SAME_CORE;
  if (a->cache >= 0 && a->cache == b->cache) return PKT_SAME_CACHE;
  if (a->numa >= 0 && a->numa == b->numa) return PKT_SAME_NUMA;
  return PKT_FAR;
}

/* ---- topology ------------------------------------------------------------------ */

/* A loaded topology for src, or NULL (flat).  Cost: one hwloc load.
   The system's comes from the operating system alone: hwloc's x86
   component runs cpuid on each PU in turn, moving the thread there, and
   each move waits for the PU (1-4 ms of a worker pool's start here),
   for nothing the plan reads (cores, caches and NUMA nodes are in sysfs). */
static hwloc_topology_t pkt_load_topology(pkt_source src, const char *synthetic)
{
  hwloc_topology_t topo;
  if (src == PKT_FLAT || hwloc_topology_init(&topo) != 0) return NULL;
  if (src == PKT_SYSTEM) hwloc_topology_set_components(topo, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, "x86");
  if ((src == PKT_SYNTHETIC && (!synthetic || hwloc_topology_set_synthetic(topo, synthetic) != 0)) ||
      hwloc_topology_load(topo) != 0) {
    hwloc_topology_destroy(topo);
    return NULL;
  }
  return topo;
}

/* The allowed PUs as pu_infos in placement order, count into *n; NULL on
   failure.  Drops the topology (*topo = NULL) when it knows none of them. */
static pkt_pu_info *pkt_placement(hwloc_topology_t *topo, const int *cpus, int ncpus, int *n)
{
  int *os = NULL;
  int m = pkt_allowed_cpus(cpus, ncpus, &os);
  pkt_pu_info *pus = m > 0 ? pko_xcalloc((size_t)m, sizeof *pus) : NULL;
  if (!pus) {
    free(os);
    return NULL;
  }
  bool have_l3 = *topo && hwloc_get_nbobjs_by_type(*topo, HWLOC_OBJ_L3CACHE) > 0;
  int known = 0;
  for (int i = 0; i < m; i++) known += pkt_pu_from_hwloc(*topo, have_l3, os[i], i, &pus[i]);
  free(os);
  if (known == 0 && *topo) {
    hwloc_topology_destroy(*topo);
    *topo = NULL;
  }
  pkt_rank_hyperthreads(pus, m);
  qsort(pus, (size_t)m, sizeof *pus, pkt_cmp_placement);
  *n = m;
  return pus;
}

/* ---- victim lists ---------------------------------------------------------------- */

typedef struct pkt_victim {
  int dist;
  uint64_t key;
  int w;
} pkt_victim;

static int pkt_cmp_victim(const void *pa, const void *pb)
{
  const pkt_victim *a = pa, *b = pb;
  if (a->dist != b->dist) return a->dist - b->dist;
  if (a->key != b->key) return a->key < b->key ? -1 : 1;
  return a->w - b->w;
}

/* Worker w's victim list into out[nworkers-1].  tmp: nworkers-1 scratch.
   Cost: O(n log n). */
static void pkt_victims_of(const pkt_plan *p, int w, uint64_t seed, pkt_victim *tmp, int *out)
{
  uint64_t s = seed ^ ((uint64_t)w * 0xD1B54A32D192ED03ull);
  int k = 0;
  for (int v = 0; v < p->nworkers; v++)
    if (v != w) tmp[k++] = (pkt_victim){ pkt_distance(&p->w[w], &p->w[v]), pko_rand64(&s), v };
  qsort(tmp, (size_t)k, sizeof *tmp, pkt_cmp_victim);
  for (int i = 0; i < k; i++) out[i] = tmp[i].w;
}

/* ---- description ----------------------------------------------------------------- */

/* Distinct values of field among the first n PUs (cores, NUMA nodes). */
static int pkt_count_distinct(const pkt_pu_info *pus, int n, size_t off)
{
  int c = 0;
  for (int i = 0; i < n; i++) {
    int v = *(const int *)((const char *)&pus[i] + off), seen = v < 0;
    for (int j = 0; j < i && !seen; j++) seen = *(const int *)((const char *)&pus[j] + off) == v;
    c += !seen;
  }
  return c;
}

static char *pkt_describe(const pkt_plan *p, const pkt_pu_info *pus, int npus)
{
  size_t cap = 160 + (size_t)p->nworkers * 12, len;
  char *s = pko_xmalloc(cap);
  const char *src = p->synthetic ? "synthetic" : p->topo ? "hwloc" : "affinity-mask";
  len = (size_t)snprintf(s, cap, "workers=%d pus=%d cores=%d numa=%d topo=%s", p->nworkers, npus,
                         pkt_count_distinct(pus, npus, offsetof(pkt_pu_info, core)),
                         pkt_count_distinct(pus, npus, offsetof(pkt_pu_info, numa)), src);
  if (p->nworkers > npus)
    len += (size_t)snprintf(s + len, cap - len, " oversubscribed=%dx", (p->nworkers + npus - 1) / npus);
  for (int w = 0; w < p->nworkers && len < cap; w++)
    len += (size_t)snprintf(s + len, cap - len, "%s%d", w ? "," : " pin=", p->w[w].os);
  return s;
}

/* ---- plans ------------------------------------------------------------------------- */

pkt_plan *pkt_plan_new_from(pkt_source src, const char *synthetic, const int *cpus, int ncpus, int nworkers,
                            uint64_t seed)
{
  if (nworkers < 1 || nworkers > PKT_MAX_WORKERS) return NULL;
  pkt_plan *p = pko_xcalloc(1, sizeof *p);
  pkt_pu_info *pus = NULL;
  pkt_victim *tmp = NULL;
  int npus;
  p->nworkers = nworkers;
  p->topo = pkt_load_topology(src, synthetic);
  p->synthetic = src == PKT_SYNTHETIC;
  if (p->synthetic && !p->topo) goto fail; /* bad description */
  npus = 0;
  pus = pkt_placement(&p->topo, cpus, ncpus, &npus);
  size_t nv = (size_t)nworkers * (size_t)(nworkers - 1);
  if (!pus) goto fail;
  p->w = pko_xmalloc((size_t)nworkers * sizeof *p->w);
  p->victims = pko_xmalloc(nv * sizeof *p->victims);
  tmp = pko_xmalloc((size_t)nworkers * sizeof *tmp);
  for (int w = 0; w < nworkers; w++) p->w[w] = pus[w % npus];
  for (int w = 0; w < nworkers; w++) pkt_victims_of(p, w, seed, tmp, p->victims + (size_t)w * (size_t)(nworkers - 1));
  p->desc = pkt_describe(p, pus, npus);
  free(tmp);
  free(pus);
  return p;
fail:
  free(tmp);
  free(pus);
  pkt_plan_free(p);
  return NULL;
}

pkt_plan *pkt_plan_new(int nworkers, uint64_t seed)
{
  return pkt_plan_new_from(PKT_SYSTEM, NULL, NULL, 0, nworkers, seed);
}

void pkt_plan_free(pkt_plan *p)
{
  if (!p) return;
  if (p->topo) hwloc_topology_destroy(p->topo);
  free(p->w);
  free(p->victims);
  free(p->desc);
  free(p);
}

int pkt_plan_workers(const pkt_plan *p) { return p->nworkers; }

int pkt_plan_pu(const pkt_plan *p, int w) { return p->w[w].os; }

const int *pkt_plan_victims(const pkt_plan *p, int w) { return p->victims + (size_t)w * (size_t)(p->nworkers - 1); }

int pkt_plan_distance(const pkt_plan *p, int a, int b) { return pkt_distance(&p->w[a], &p->w[b]); }

const char *pkt_plan_describe(const pkt_plan *p) { return p->desc; }

/* ---- pinning ------------------------------------------------------------------------- */

/* Calling thread onto CPU os with sched_setaffinity.  0 or -errno. */
static int pkt_pin_affinity(int os)
{
  cpu_set_t *set = CPU_ALLOC(os + 1);
  size_t sz = CPU_ALLOC_SIZE(os + 1);
  if (!set) return -ENOMEM;
  CPU_ZERO_S(sz, set);
  CPU_SET_S((size_t)os, sz, set);
  int rc = sched_setaffinity(0, sz, set) == 0 ? 0 : -errno;
  CPU_FREE(set);
  return rc;
}

/* Calling thread onto PU os with hwloc.  0 or -errno. */
static int pkt_pin_hwloc(hwloc_topology_t topo, int os)
{
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  if (!set) return -ENOMEM;
  hwloc_bitmap_only(set, (unsigned)os);
  int rc = hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD) == 0 ? 0 : -(errno ? errno : EINVAL);
  hwloc_bitmap_free(set);
  return rc;
}

int pkt_pin_self(const pkt_plan *p, int w)
{
  if (!p || w < 0 || w >= p->nworkers) return -EINVAL;
  if (p->synthetic) return -ENOSYS;
  const pkt_pu_info *pi = &p->w[w];
  if (p->topo && pi->known && hwloc_topology_is_thissystem(p->topo)) return pkt_pin_hwloc(p->topo, pi->os);
  return pkt_pin_affinity(pi->os);
}
