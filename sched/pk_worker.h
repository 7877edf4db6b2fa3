/*
** pk_worker.h — the work-stealing scheduler: a pool of workers that run the
** branches of one query at a time.
**
** The unit of work is a suspended branch (a thunk of pk_search.c): plain data,
** shared with no copy and no lock.  A worker forces its branch a quantum
** of steps at a time, splitting every mplus it meets into two branches and
** pushing one on its Chase-Lev deque, where idle workers steal it.
**
** With --unordered answers are released as found (the same multiset as one
** worker for run*, and n answers of the one-worker search for run n).  In
** the default order the query's thread drives the search as one worker
** would and pool workers force, ahead of it, thunks it will force later
** (pk_search.c, "ordered speculation"): the same output, byte for byte.
*/
#ifndef PK_WORKER_H
#define PK_WORKER_H
#include "pk_obj.h"
#include <stdio.h>

typedef struct pkw_config {
  int workers;        /* >= 1 */
  bool unordered;     /* release answers as found */
  uint64_t seed;      /* victim choice */
  bool eager;         /* ordered mode: offer every mplus thunk, hungry
                         workers or not (stresses the memo protocol; tests) */
} pkw_config;

/* Set the pool's configuration, from the thread that runs queries, between
   queries (one its consumer stopped early is ended first); not
   thread-safe. */
void pkw_configure(const pkw_config *c);
/* Should a query started on this thread run on the pool?  False inside a
   worker (a nested run stays on the worker that reached it). */
bool pkw_parallel(void);

/* Should a query started on this thread have workers force ahead of it
   (the default order with several workers)?  False inside a worker. */
bool pkw_speculative(void);

typedef struct pkw_query pkw_query;
/* Start a parallel search of the stream root for n answers (n < 0: all).
   Thread contract: one query at a time per pool, from the consuming thread. */
pkw_query *pkw_query_start(pk_val root, int64_t n);
/* Next answer; the calling thread works as worker 0 while it waits.
   False when the search is exhausted or n answers were released.  Rethrows
   an error raised by any worker. */
bool pkw_query_next(pkw_query *q, pk_val *out);

/* Stop q early (answers not taken are not searched; an ordered query's
   workers stop forcing ahead); the pool is free for the next query when
   this returns. */
void pkw_query_stop(pkw_query *q);

/* Ordered mode: pool workers force ahead of this thread, which drives the
   query as one worker would (pk_search.c).  Returns the speculation, which
   pkw_query_stop ends.  The driving thread only. */
pkw_query *pkw_spec_start(void);
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
