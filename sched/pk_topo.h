/*
** pk_topo.h — worker placement: which PU each worker is pinned to, and the
** order in which a worker picks victims to steal from.
**
** A plan is computed once per process (before any thread is pinned) from the
** process's affinity mask — what taskset, cgroups, Slurm or mpirun granted —
** and the hwloc topology.  Placement spreads workers over the mask's PUs:
** one PU per core first (every core of every NUMA node), then the second
** hyper-threads, and so on; within each of those tiers one NUMA node is
** filled before the next, cores in topology order.  More workers than PUs
** wrap around (worker w gets the PU of worker w mod PUs).
**
** Each worker's victim list holds every other worker, nearest first:
**   0 same core (or same PU), 1 same L3 cache (same package when the
**   topology has no L3), 2 same NUMA node, 3 anything else;
** workers at equal distance are shuffled by the caller's seed (the same
** seed gives the same lists).  Without topology information (hwloc fails,
** or knows none of the mask's PUs: some containers) every PU counts as its
** own core, the mask order is the placement, and all distances are 3 (0 for
** workers wrapped onto the same PU).
**
** A plan is immutable after pkt_plan_new*: any number of threads may read
** it and call pkt_pin_self concurrently.
*/
#ifndef PK_TOPO_H
#define PK_TOPO_H

#include <stdint.h>

/* Largest worker count a plan accepts (victim lists are workers^2 ints). */
#define PKT_MAX_WORKERS 1024

/* Distances in victim lists. */
enum { PKT_SAME_CORE = 0, PKT_SAME_CACHE = 1, PKT_SAME_NUMA = 2, PKT_FAR = 3 };

/* Where pkt_plan_new_from takes the topology from. */
typedef enum pkt_source {
  PKT_SYSTEM,    /* hwloc's view of this machine (flat if that fails) */
  PKT_SYNTHETIC, /* an hwloc synthetic description, e.g. "pack:2 core:4 pu:2" */
  PKT_FLAT       /* none: the mask order, as when hwloc knows nothing */
} pkt_source;

typedef struct pkt_plan pkt_plan;

/* Any thread.  PKANREN_THREADS when it is a positive decimal integer (at most
   PKT_MAX_WORKERS; larger values are clamped), else the number of CPUs in the
   calling thread's affinity mask (at least 1).  Cost: one getenv and one
   sched_getaffinity. */
int pkt_default_workers(void);

/* Any thread, before it is pinned (the calling thread's affinity mask is
   taken as the process's).  A plan for nworkers (1..PKT_MAX_WORKERS) on this
   machine; NULL when nworkers is out of range (out of memory is pko_oom).
   Cost: an hwloc topology load (milliseconds: reads /sys), O(nworkers^2 log)
   for the victim lists. */
pkt_plan *pkt_plan_new(int nworkers, uint64_t seed);

/* Any thread.  As pkt_plan_new, with the topology from src (synthetic: the
   hwloc description) and the allowed CPUs given as ncpus OS indices (cpus
   NULL: the calling thread's affinity mask).  A CPU the topology does not
   know is its own core in no known NUMA node (placed after the known nodes
   of its tier).  NULL also for an invalid synthetic description.  Plans from
   PKT_SYNTHETIC are for inspection only: pkt_pin_self refuses them. */
pkt_plan *pkt_plan_new_from(pkt_source src, const char *synthetic, const int *cpus, int ncpus, int nworkers,
                            uint64_t seed);

/* Quiescent: no thread uses p any more.  p may be NULL. */
void pkt_plan_free(pkt_plan *p);

/* Any thread.  Number of workers.  Cost: O(1). */
int pkt_plan_workers(const pkt_plan *p);

/* Any thread.  OS index of the PU worker w is pinned to.  Cost: O(1). */
int pkt_plan_pu(const pkt_plan *p, int w);

/* Any thread.  Worker w's victims, nearest first: pkt_plan_workers(p) - 1
   worker numbers, every worker but w once.  Cost: O(1). */
const int *pkt_plan_victims(const pkt_plan *p, int w);

/* Any thread.  Distance (PKT_SAME_CORE .. PKT_FAR) between workers a and b.
   Cost: O(1). */
int pkt_plan_distance(const pkt_plan *p, int a, int b);

/* Any thread.  One line, no newline, for --stats, e.g.
   "workers=4 pus=2 cores=2 numa=1 topo=hwloc oversubscribed=2x pin=0,1,0,1".
   Owned by p.  Cost: O(1). */
const char *pkt_plan_describe(const pkt_plan *p);

/* Any thread, for itself (the worker's own thread).  Binds the calling
   thread to worker w's PU (hwloc_set_cpubind, HWLOC_CPUBIND_THREAD; without
   a topology, sched_setaffinity).  Returns 0, or a negative errno value and
   leaves the binding as it was: -EINVAL for a bad w, -ENOSYS for a synthetic
   plan, else what the system refused.  Not fatal: the worker runs unpinned.
   Cost: one system call. */
int pkt_pin_self(const pkt_plan *p, int w);

#endif /* PK_TOPO_H */
