/*
** pk_future.h — ordered speculation: in the default order with several
** workers, pool workers force ahead of the query's thread (the driver) the
** thunks it is sure to force later, leaving each result in the thunk's memo
** word as a future; the driver takes them in the one-worker order, so the
** output is byte for byte one worker's (pk_future.c says why).
*/
#ifndef PK_FUTURE_H
#define PK_FUTURE_H
#include "pk_obj.h"

/* What futures need from the pool whose workers force ahead; set by the
   layer that owns a pool (api/pk_jobs.c).  All three are called on the
   driver's thread. */
typedef struct pkf_pool {
  bool (*wanted)(void);    /* is a worker hungry for a thunk?  A few loads */
  void (*offer)(pk_val t); /* hand t to the hungry workers */
  void (*pause)(bool on);  /* stop (on) or resume (off) forcing ahead */
} pkf_pool;
/* Once, before any speculation starts. */
void pkf_set_pool(const pkf_pool *p);

/* This thread takes part in a speculation, as its driver or a worker. */
extern _Thread_local bool pkf_on;

/* The driver pushed t, the thunk of an mplus frame, which it will force
   later as a whole: offer it to a hungry worker.  Only while pkf_on. */
void pkf_offer(pk_val t);
/* Claim shared thunk t to force it in place (returns 0), or take the
   stream a worker forced into it, waiting while that is under way (its
   output is written and its error raised here).  One CAS. */
pk_val pkf_take(pk_val t);

/* Join (on) or leave (off) a speculation, as its driver or as a worker.
   The calling thread only. */
void pkf_enable(bool on, bool driver);
/* Start counting results forced ahead from zero (before workers join). */
void pkf_reset(void);
/* Claim thunk t to force it ahead; false if another thread has it.  Any
   thread. */
bool pkf_claim(pk_val t);
/* Force claimed thunk t ahead, leaving the result in t; the next thunk of
   its chain (unclaimed) or 0. */
pk_val pkf_force(pk_val t);
/* Has the result forced ahead into thunk t been taken?  Any thread. */
bool pkf_taken(pk_val t);
/* Results forced ahead and not yet taken, all threads (approximate). */
int64_t pkf_ahead(void);
/* This thread's counts: results forced ahead it took, times it waited for
   one, and for how long. */
typedef struct pkf_counts {
  uint64_t taken, waits, wait_ns;
} pkf_counts;
pkf_counts pkf_counted(void);

#endif
