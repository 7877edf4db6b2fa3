/*
** pk_worker.h — the work-stealing scheduler: a pool of workers that run the
** branches of one query at a time.
**
** The unit of work is a branch: an opaque word that the client's
** operations (pkw_ops) force, split and force ahead.  Branches are plain
** data, shared with no copy and no lock.  A worker forces its branch a
** quantum of steps at a time, splitting it while another worker is hungry
** and pushing one half on its Chase-Lev deque, where idle workers steal it.
** The scheduler knows nothing else of its client: miniKanren searches
** (api/pk_jobs.c) and rewriting both run on it.
**
** With --unordered answers are released as found (the same multiset as one
** worker for run*, and n answers of the one-worker search for run n).  In
** the default order the query's thread drives the search as one worker
** would and pool workers force, ahead of it, branches it will force later
** (engine/pk_future.c): the same output, byte for byte.
*/
#ifndef PK_WORKER_H
#define PK_WORKER_H
#include "pk_obj.h"
#include <stdio.h>

typedef struct pkw_config {
  int workers;                /* >= 1 */
  bool unordered;             /* release answers as found */
  uint64_t seed;              /* victim choice */
  bool eager;                 /* ordered mode: offer every mplus thunk, hungry
                         workers or not (stresses the memo protocol; tests) */
  size_t stack_bytes;         /* C stack the client's code may use on a worker */
  void (*thread_start)(void); /* run first on each worker thread, or NULL */
  bool stack_exact;           /* the user chose stack_bytes: never shrink it */
} pkw_config;

/* A driver's counts in an ordered query, for --stats. */
typedef struct pkw_counts {
  uint64_t taken, waits, wait_ns;
} pkw_counts;

/* What a branch is: the client's operations.  force and split are called
   on any worker; the ordered-mode operations as pk_future.h describes
   them. */
typedef struct pkw_ops {
  /* Run branch t one step: an answer into *answer (left 0 when there is
     none), the branch to go on with returned (0 when t has ended). */
  pk_val (*force)(pk_val t, pk_val *answer);
  /* Split t into two independent branches whose answers together are
     t's; false when t cannot be split. */
  bool (*split)(pk_val t, pk_val *a, pk_val *b);
  /* This thread's work counter (unifications), for --stats. */
  uint64_t (*work)(void);
  /* Ordered mode: claim t to force it ahead (false if taken), force a
     claimed t ahead (the next branch of its chain, or 0), has t's result
     been taken, results ahead not yet taken, join or leave as driver or
     worker, start counting from zero, the driver's counts. */
  bool (*claim)(pk_val t);
  pk_val (*force_ahead)(pk_val t);
  bool (*taken)(pk_val t);
  int64_t (*ahead)(void);
  void (*join)(bool on, bool driver);
  void (*reset)(void);
  pkw_counts (*counts)(void);
  /* How long (microseconds) an idle thread of this query watches for work
     before it yields and naps; 0: a few microseconds.  For queries that
     come in quick succession and end together (a split rewrite's passes):
     a napping thread's CPU halts, and is woken late on a VM. */
  uint32_t spin_us;
  /* Split each branch taken down to single steps, the halves pushed for
     others to take: for independent steps of some length (a split
     rewrite's tasks), so that a worker whose CPU the host takes away in
     the middle of a step holds no other. */
  bool split_ahead;
} pkw_ops;

/* Set the pool's configuration, from the thread that runs queries, between
   queries (one its consumer stopped early is ended first); not
   thread-safe. */
void pkw_configure(const pkw_config *c);
/* Start the pool's threads now rather than at the first query: a client
   that will run queries soon starts them while it does other work (a
   thread's start and placement take milliseconds).  The thread that runs
   queries; not thread-safe. */
void pkw_start(void);
/* Should a query started on this thread run on the pool?  False inside a
   worker (a nested run stays on the worker that reached it). */
bool pkw_parallel(void);

/* Should a query started on this thread have workers force ahead of it
   (the default order with several workers)?  False inside a worker. */
bool pkw_speculative(void);

typedef struct pkw_query pkw_query;
/* Start a parallel search of branch root for n answers (n < 0: all).
   Thread contract: one query at a time per pool, from the consuming thread. */
pkw_query *pkw_query_start(const pkw_ops *ops, pk_val root, int64_t n);
/* Next answer; the calling thread works as worker 0 while it waits.
   False when the search is exhausted or n answers were released.  Rethrows
   an error raised by any worker. */
bool pkw_query_next(pkw_query *q, pk_val *out);

/* Stop q early (answers not taken are not searched; an ordered query's
   workers stop forcing ahead); the pool is free for the next query when
   this returns. */
void pkw_query_stop(pkw_query *q);

/* Ordered mode: pool workers force ahead of this thread, which drives the
   query as one worker would and offers branches (pkw_offer).  Returns the
   speculation, which pkw_query_stop ends.  The driving thread only. */
pkw_query *pkw_spec_start(const pkw_ops *ops);
/* Is a worker hungry for a thunk to force ahead (and this thread's deque
   nearly empty)?  A few loads. */
bool pkw_offer_wanted(void);
/* Offer thunk t, which the calling thread will force later as a whole, to
   hungry workers to force ahead.  The thread's own deque: owner only. */
void pkw_offer(pk_val t);
/* Stop (on) or resume (off) forcing ahead: the driver's call, when the
   results it takes are mostly ones it has to wait for. */
void pkw_spec_pause(bool on);

/* Unifications done by pool workers 1..N-1 (worker 0 is the consuming
   thread, which counts its own). */
uint64_t pkw_pool_unifications(void);
/* True once a query has run on the pool. */
bool pkw_used(void);

/* Per-worker statistics of all queries so far, for --stats. */
void pkw_print_stats(FILE *f);

#endif
