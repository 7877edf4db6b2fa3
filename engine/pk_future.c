/*
** pk_future.c — ordered speculation: thunks forced ahead as futures.
**
** In the default order with several workers, the driver (the thread running
** the query) forces the stream exactly as one worker would, while pool
** workers force, ahead of it, thunks it is sure to force later as a whole:
** the thunk of each mplus frame (pk_search.c offers them while a worker is
** hungry), then the chain of thunks that follows each (its stream when that
** is a thunk, else its rest after an answer).  Forcing a thunk is a function
** of the thunk alone (states are persistent, and in-place bindings touch only
** variables private to the branch), and forcing is compositional (a thunk
** forced on its own, then the outer frames unwound, is the same as forcing it
** in place), so the driver may take the stream a worker left in the thunk's
** memo word.  Claims are one CAS on that word: a worker that comes second
** drops the thunk; a forcer that comes second waits for the worker's result.
** Output written ahead is kept with the result and written when it is taken;
** an error is raised there.  So the output is byte for byte one worker's.
*/
#include "pk_future.h"
#include "pk_builtin.h"
#include "pk_search.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

_Thread_local bool pkf_on;
static const pkf_pool *pkf_the_pool;

void pkf_set_pool(const pkf_pool *p) { pkf_the_pool = p; }

/* Forcing ahead pays when results are ready by the time the driver needs
   them.  pkf_credit goes up by one for each result it takes without
   waiting and down by two for each it waited for; below PKF_CREDIT_MIN (a
   sequential chain, where each result is needed at once: ping-pong between
   cores) offers and forcing ahead stop for PKF_CREDIT_PAUSE pushes, then
   are tried again; each pause that follows without the credit filling up
   in between is twice as long (up to 256 times).  Only the driver decides
   (pkf_driver). */
#define PKF_CREDIT_MIN (-32)
#define PKF_CREDIT_MAX 64
#define PKF_CREDIT_PAUSE 4096
static _Thread_local int pkf_credit, pkf_pause, pkf_pause_len = PKF_CREDIT_PAUSE;
static _Thread_local bool pkf_driver;

/* Offer v to a hungry worker, unless offers do not pay here lately. */
void pkf_offer(pk_val v)
{
  if (pkf_pause > 0) {
    if (--pkf_pause == 0) pkf_the_pool->pause(false);
    return;
  }
  if (pks_constp(v) || !pkf_the_pool->wanted()) return;
  pks_share(v); /* before a thief can see it */
  pkf_the_pool->offer(v);
}

/* Count a result taken (waited: after waiting for it). */
static void pkf_credit_take(bool waited)
{
  if (!pkf_driver) return;
  if (!waited) {
    if (pkf_credit < PKF_CREDIT_MAX)
      pkf_credit++;
    else
      pkf_pause_len = PKF_CREDIT_PAUSE; /* paying again: short pauses */
  } else if ((pkf_credit -= 2) < PKF_CREDIT_MIN) {
    pkf_credit = 0;
    pkf_pause = pkf_pause_len;
    if (pkf_pause_len < PKF_CREDIT_PAUSE << 8) pkf_pause_len *= 2; /* still not paying: pause longer */
    pkf_the_pool->pause(true);
  }
}

#define PKF_BUSY PK_TRUE       /* being forced ahead */
#define PKF_CLAIMED PK_UNBOUND /* forced in place */

/* A result forced ahead that wrote output or raised an error. */
typedef struct pkf_memo {
  pko_hdr h;
  pk_val s;  /* the stream */
  char *out; /* output written while forcing, len bytes */
  size_t len;
  pko_errinfo *err; /* the error raised, or NULL */
} pkf_memo;

static _Atomic int64_t pkf_nahead; /* results left in thunks, not yet taken */
static _Thread_local int64_t pkf_ahead_delta;
static _Thread_local pkf_counts pkf_counts_now; /* this thread's, for --stats */

/* Count results made (+1) or taken (-1); shared every 32 so the counter's
   cache line is not written on every force. */
static void pkf_ahead_add(int64_t d)
{
  pkf_ahead_delta += d;
  if (pkf_ahead_delta >= 32 || pkf_ahead_delta <= -32) {
    atomic_fetch_add_explicit(&pkf_nahead, pkf_ahead_delta, memory_order_relaxed);
    pkf_ahead_delta = 0;
  }
}

int64_t pkf_ahead(void) { return atomic_load_explicit(&pkf_nahead, memory_order_relaxed); }
pkf_counts pkf_counted(void) { return pkf_counts_now; }

/* Has the result forced ahead into t been taken? */
bool pkf_taken(pk_val t) { return atomic_load_explicit(&((pks_thunk *)t)->memo, memory_order_relaxed) == PKF_CLAIMED; }

/* Begin (on) or end (off) this thread's part in an ordered speculation:
   as its driver or as a worker forcing ahead. */
void pkf_enable(bool on, bool driver)
{
  pkf_driver = on && driver;
  if (!on && pkf_ahead_delta) atomic_fetch_add_explicit(&pkf_nahead, pkf_ahead_delta, memory_order_relaxed);
  pkf_ahead_delta = 0;
  pkf_credit = pkf_pause = 0;
  pkf_pause_len = PKF_CREDIT_PAUSE;
  pkf_on = on;
}

/* A new speculation: nothing is ahead. */
void pkf_reset(void) { atomic_store(&pkf_nahead, 0); }

/* Write the output kept with a result, raise its error, or give its stream. */
static pk_val pkf_replay(const pkf_memo *r)
{
  if (r->len) fwrite(r->out, 1, r->len, pkb_output());
  if (r->err) {
    pko_err = *r->err;
    pko_rethrow();
  }
  return r->s;
}

/* Wait until the worker forcing k ahead leaves its result: usually
   microseconds, so spin, then yield. */
static pk_val pkf_wait(pks_thunk *k)
{
  uint64_t t0 = pko_now_ns();
  pk_val m;
  for (unsigned round = 0; (m = atomic_load_explicit(&k->memo, memory_order_acquire)) == PKF_BUSY;)
    if (++round > 64) sched_yield();
  pkf_counts_now.waits++;
  pkf_counts_now.wait_ns += pko_now_ns() - t0;
  return m;
}

/* Claim thunk t to force it in place (returns 0), or take the stream a
   worker forced into it, waiting while that is under way.  One CAS. */
pk_val pkf_take(pk_val t)
{
  pks_thunk *k = (pks_thunk *)t;
  pk_val m = 0;
  if (atomic_compare_exchange_strong_explicit(&k->memo, &m, PKF_CLAIMED, memory_order_acq_rel, memory_order_acquire))
    return 0;
  bool waited = m == PKF_BUSY;
  if (waited) m = pkf_wait(k);
  pkf_credit_take(waited);
  if (m == PKF_CLAIMED) pko_error("internal error: a thunk forced twice");
  /* t may stay reachable (a stale deque slot); its result must not, or
     every result after it on the chain would stay too. */
  atomic_store_explicit(&k->memo, PKF_CLAIMED, memory_order_relaxed);
  pkf_ahead_add(-1);
  pkf_counts_now.taken++;
  return pks_is(m, PKS_K_MEMO) ? pkf_replay((const pkf_memo *)m) : m;
}

/* Claim thunk t to force it ahead of the driver; false if it is taken. */
bool pkf_claim(pk_val t)
{
  pko_assert(pks_shared(t)); /* shared before it was published */
  pk_val m = 0;
  return atomic_compare_exchange_strong_explicit(&((pks_thunk *)t)->memo, &m, PKF_BUSY, memory_order_acq_rel,
                                                 memory_order_relaxed);
}

/* This thread's capture stream for output written while forcing ahead. */
static FILE *pkf_capture_file(void)
{
  static _Thread_local FILE *f;
  static _Thread_local char *buf;
  static _Thread_local size_t len;
  if (!f && !(f = open_memstream(&buf, &len))) pko_oom(); /* open_memstream fails only for memory */
  return f;
}

/* The memo of a result that wrote n bytes of output (in the capture
   stream) or raised the error in pko_err (err). */
static pk_val pkf_memo_new(pk_val s, FILE *cap, long n, bool err)
{
  pkf_memo *r = (pkf_memo *)pks_opaque(PKS_K_MEMO, sizeof *r);
  r->s = s;
  if (n > 0) {
    r->out = pko_alloc_atomic((size_t)n);
    rewind(cap);
    if (fread(r->out, 1, (size_t)n, cap) != (size_t)n) pko_error("cannot read back captured output");
    r->len = (size_t)n;
    rewind(cap);
  }
  if (err) {
    r->err = pko_alloc_atomic(sizeof *r->err);
    *r->err = pko_err;
  }
  return (pk_val)r;
}

/* Force claimed thunk t into *s with output going to cap; false (and the
   error in pko_err) if it raised one. */
static bool pkf_run_caught(pk_val t, FILE *cap, pk_val *s)
{
  pko_catch c;
  *s = PK_FALSE;
  pkb_capture = cap;
  if (!PKO_TRY(c)) {
    pkb_capture = NULL;
    return false;
  }
  *s = pks_force_claimed(t);
  PKO_END(c);
  pkb_capture = NULL;
  return true;
}

/* Force claimed thunk t ahead of the driver, leaving its stream (with its
   output or error) in t's memo.  Returns the next thunk the driver will
   force on t's chain, unclaimed, or 0. */
pk_val pkf_force(pk_val t)
{
  FILE *cap = pkf_capture_file();
  pk_val s;
  pkb_captured = false;
  bool err = !pkf_run_caught(t, cap, &s);
  long n = 0;
  if (pkb_captured) { /* stdio calls only when something was written */
    fflush(cap);
    n = ftell(cap);
  }
  pk_val r = (n > 0 || err) ? pkf_memo_new(s, cap, n, err) : s;
  pk_val next = err ? 0 : pks_chain_next(s);
  if (next) pks_share(next); /* before the driver can see it */
  pko_assert(atomic_load_explicit(&((pks_thunk *)t)->memo, memory_order_relaxed) ==
             PKF_BUSY); /* ours since pkf_claim */
  atomic_store_explicit(&((pks_thunk *)t)->memo, r, memory_order_release);
  pkf_ahead_add(1);
  return next;
}
