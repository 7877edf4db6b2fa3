/*
** pk_worker.c — the worker pool and the parallel search of one query.
**
** Workers are pthreads started once per process (on first use), pinned by
** the topology plan, with stacks as large as the evaluator's budget.  The
** thread that consumes a query's answers is worker 0: it searches while it
** waits, so a query never hands its root to a sleeping pool.
**
** Termination: q->pending counts live branches (in a deque or being run);
** a split adds one, a branch that fails removes one; the worker that takes
** it to zero marks the query done.  Idle workers poll with backoff, whose
** naps end early when a query starts or ends, an answer or a branch is
** released, or the last worker leaves a query (pkw_poke), so a wake-up
** lost costs at most one nap; between queries they sleep on a condition
** variable.
**
** Splitting on demand: a worker searches its branch like the one-worker
** engine and splits it only while another worker is hungry, so the
** interleaving stays close to one worker's (a run n that terminates there
** terminates here, without a frontier blow-up from depth-first dives).
** Queries of independent steps may split ahead instead (pkw_ops.split_ahead):
** every branch taken is split down to single steps at once, so a worker
** whose CPU stops mid-step holds no other step.
**
** Fairness: a worker runs its branch for PKW_QUANTUM forces; if other
** branches wait in its deque it puts the branch at the bottom and resumes
** the oldest, so every branch in a deque resumes within a bounded number of
** its holder's steps even when every worker is inside an infinite branch.
*/
#include "pk_worker.h"
#include "pk_deque.h"
#include "pk_topo.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PKW_QUANTUM 32       /* forces per turn of a branch */
#define PKW_LINGER_ROUNDS 21 /* pkw_backoff rounds a worker polls for the next query */

/* An answer on its way to the consumer (MPSC queue node). */
typedef struct pkw_anode {
  struct pkw_anode *_Atomic next;
  pk_val v;
} pkw_anode;

struct pkw_query {
  const pkw_ops *ops;      /* what a branch is */
  bool spec;               /* workers force ahead of an ordered driver */
  _Atomic int64_t pending; /* live branches */
  _Atomic int64_t claimed; /* answers found so far (indices handed out) */
  int64_t limit;           /* n, or < 0 for all */
  _Atomic int done;        /* exhausted, limit reached, or failed */
  _Atomic int failed;
  int status; /* the first worker error */
  char msg[sizeof pko_err.msg];
  pkw_anode *_Atomic tail; /* producers append here */
  pkw_anode *head;         /* consumer reads after this sentinel */
  pkw_anode sentinel;
};

typedef struct pkw_stats {
  uint64_t forces, tasks, steals_tried, steals_ok, answers, splits, unifies;
  uint64_t idle_ns, busy_ns;
  uint64_t taken, waits, wait_ns; /* ordered mode, the driver: results forced ahead it used */
} pkw_stats;

typedef struct pkw_worker {
  int id;
  bool hungry;
  pk_val cur; /* the branch this worker is running, or 0 */
  pkd_deque dq;
  uint64_t rng;
  pkw_stats st;
  pthread_t th;
} pkw_worker;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pkw_config cfg;
  bool started;
  int n;          /* workers started (the active ones are cfg.workers) */
  pkw_worker **w; /* each uncollectable: deque buffers hang off it */
  pkt_plan *plan;
  pkw_query *cur;              /* the query workers should join, or NULL */
  pkw_query *mine;             /* the consuming thread's query, published (cur) or not yet */
  int unseen;                  /* offers an ordered query makes before it is published */
  _Atomic uint64_t generation; /* written under lock; read without it while lingering */
  _Atomic int active;          /* pool workers inside cur */
  _Atomic int hungry;          /* workers with no branch */
  uint64_t spec_t0, spec_u0;   /* the driver's clock and counts at the start of */
  pkw_counts spec0;            /* an ordered query */
} pkw = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .cfg = { .workers = 1 } };

/* The worker this thread is, or NULL outside the pool. */
static _Thread_local pkw_worker *pkw_self;

/* Deque buffers live in the collected heap: they hold branches.  An old
   buffer is never freed by hand: a thief may still read it, and the
   collector keeps it while any stack points to it. */
static void *pkw_buf_alloc(size_t bytes, void *ctx)
{
  (void)ctx;
  return GC_MALLOC(bytes);
}

static void pkw_buf_free(void *p, size_t bytes, void *ctx)
{
  (void)p;
  (void)bytes;
  (void)ctx;
}

static void pkw_grow_pool(int n);
static void pkw_gc_budget(bool unordered);

static void pkw_query_end(pkw_query *q);

/* Install plan p and free the old one.  Between queries only: workers read
   the plan inside a query (and, once, when their thread starts, under the
   lock). */
static void pkw_set_plan(pkt_plan *p)
{
  pthread_mutex_lock(&pkw.lock);
  pkt_plan *old = pkw.plan;
  pkw.plan = p;
  pthread_mutex_unlock(&pkw.lock);
  pkt_plan_free(old);
}

/* The consuming thread's own affinity mask, from before it was pinned. */
static cpu_set_t pkw_mask0;
static bool pkw_mask0_saved;

/* Pin the consuming thread (worker 0) to its PU (on), or give it back its
   own mask (off), which a new plan reads.  Left floating, it could sit on
   worker 1's PU, and a pinned worker then waits for the system to move it
   (milliseconds: a split rewrite's pass is over before worker 1 starts). */
static void pkw_pin_consumer(bool on)
{
  if (!pkw_mask0_saved) pkw_mask0_saved = sched_getaffinity(0, sizeof pkw_mask0, &pkw_mask0) == 0;
  if (on && pkw.cfg.workers > 1)
    pkt_pin_self(pkw.plan, 0);
  else if (pkw_mask0_saved)
    sched_setaffinity(0, sizeof pkw_mask0, &pkw_mask0);
}

void pkw_configure(const pkw_config *c)
{
  pkw_config was = pkw.cfg;
  pkw.cfg = *c;
  if (pkw.cfg.workers < 1) pkw.cfg.workers = 1;
  if (!pkw.started) return;
  if (pkw.mine) pkw_query_end(pkw.mine); /* a consumer that stopped early */
  pkw_pin_consumer(false);
  if (pkw.cfg.workers > pkw.n)
    pkw_grow_pool(pkw.cfg.workers);
  else if (pkw.cfg.workers != was.workers || pkw.cfg.seed != was.seed) {
    pkt_plan *p = pkt_plan_new(pkw.cfg.workers, pkw.cfg.seed);
    if (p) pkw_set_plan(p);
  }
  pkw_pin_consumer(true);
}

bool pkw_used(void) { return pkw.started; }

bool pkw_parallel(void) { return pkw.cfg.unordered && !pkw_self; /* -j 1 too: one worker through the scheduler */ }

bool pkw_speculative(void) { return pkw.cfg.workers > 1 && !pkw.cfg.unordered && !pkw_self; }

/* What a waiting thread waits for (a query started or ended, an answer or
   a branch released, the last worker out of a query) changes pkw_pulse;
   a napping thread sleeps on it, counted in pkw_nappers so that a change
   with no one asleep costs no system call. */
static _Atomic uint32_t pkw_pulse, pkw_nappers;

/* The pulse to pass to pkw_backoff: read before the condition it waits
   for is tested, so a change after the test ends the nap. */
static inline uint32_t pkw_pulse_now(void) { return atomic_load(&pkw_pulse); }

/* Something a waiter may wait for happened: wake the nappers.  One atomic
   add when no one naps. */
static void pkw_poke(void)
{
  atomic_fetch_add(&pkw_pulse, 1);
  if (atomic_load(&pkw_nappers)) syscall(SYS_futex, &pkw_pulse, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* ---- answers ------------------------------------------------------------------ */

/* Release answer v if the query still wants it.  Lock-free: one
   fetch-and-add to claim an index, one exchange to enqueue. */
static void pkw_emit(pkw_worker *w, pkw_query *q, pk_val v)
{
  int64_t i = atomic_fetch_add(&q->claimed, 1);
  if (q->limit >= 0 && i >= q->limit) return;
  pkw_anode *n = pko_alloc(sizeof *n);
  n->v = v;
  atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
  pkw_anode *prev = atomic_exchange_explicit(&q->tail, n, memory_order_acq_rel);
  atomic_store_explicit(&prev->next, n, memory_order_release);
  w->st.answers++;
  if (q->limit >= 0 && i + 1 == q->limit) atomic_store(&q->done, 1);
  pkw_poke(); /* the consumer may nap */
}

/* Take the next released answer; consumer only. */
static bool pkw_take_answer(pkw_query *q, pk_val *out)
{
  pkw_anode *next = atomic_load_explicit(&q->head->next, memory_order_acquire);
  if (!next) return false;
  q->head = next;
  *out = next->v;
  return true;
}

/* ---- running branches ---------------------------------------------------------- */

/* Push branch t on w's deque (dies when memory is exhausted, like any
   allocation). */
static void pkw_push(pkw_worker *w, pk_val t)
{
  if (!pkd_push_owner(&w->dq, t)) pko_error("out of memory growing a work deque");
}

/* Push a new branch for others to take, waking the hungry.  Splitting
   ahead pushes a branch per step, nearly always with no one hungry: then
   it pokes only when someone is (a worker that turns hungry meanwhile
   finds the branch at its next look, at worst one spin later). */
static void pkw_spawn(pkw_worker *w, pkw_query *q, pk_val t)
{
  atomic_fetch_add_explicit(&q->pending, 1, memory_order_relaxed);
  pkw_push(w, t);
  w->st.splits++;
  if (!q->ops->split_ahead || atomic_load_explicit(&pkw.hungry, memory_order_relaxed) > 0) pkw_poke();
}

/* A branch ended: the last one marks the query exhausted. */
static void pkw_retire(pkw_query *q)
{
  if (atomic_fetch_sub_explicit(&q->pending, 1, memory_order_acq_rel) == 1) {
    atomic_store(&q->done, 1);
    pkw_poke();
  }
}

/* Run w's branch for one quantum.  While some worker is hungry and w's
   deque is empty, split the branch and push one half for it: between
   requests a worker searches its branch exactly as the one-worker engine
   would, which keeps the interleaving (and so the work done before n
   answers) close to one worker's.  Splitting ahead, every split is made
   before the first step. */
static void pkw_run(pkw_worker *w, pkw_query *q)
{
  pk_val t = w->cur;
  for (int i = 0; i < PKW_QUANTUM && t; i++) {
    if (atomic_load_explicit(&q->done, memory_order_relaxed)) {
      t = 0;
      break;
    }
    pk_val a, b;
    if (q->ops->split_ahead) {
      for (; q->ops->split(t, &a, &b); t = a) pkw_spawn(w, q, b);
    } else if (atomic_load_explicit(&pkw.hungry, memory_order_relaxed) > 0 && pkd_size_approx(&w->dq) == 0 &&
               q->ops->split(t, &a, &b)) {
      pkw_spawn(w, q, b);
      t = a;
    }
    pk_val answer = 0;
    t = q->ops->force(t, &answer);
    w->st.forces++;
    if (answer) pkw_emit(w, q, answer);
    if (!t) pkw_retire(q);
  }
  w->cur = t;
}

/* Record the first error of any worker and stop the query. */
static void pkw_fail(pkw_query *q)
{
  int expected = 0;
  if (atomic_compare_exchange_strong(&q->failed, &expected, 1)) {
    q->status = pko_err.status;
    memcpy(q->msg, pko_err.msg, sizeof q->msg);
  }
  atomic_store(&q->done, 1);
  pkw_poke();
}

/* Run a quantum of w's branch, catching errors. */
static void pkw_run_guarded(pkw_worker *w, pkw_query *q)
{
  pko_catch c;
  if (PKO_TRY(c)) {
    pkw_run(w, q);
    PKO_END(c);
    return;
  }
  w->cur = 0;
  pkw_fail(q);
}

/* Take the oldest branch of d into *t, retrying lost races (lock-free: a
   lost race means another take succeeded). */
static bool pkw_steal_from(pkd_deque *d, pk_val *t)
{
  uintptr_t item;
  pkd_steal_result r;
  while ((r = pkd_steal_mc(d, &item)) == PKD_LOST) {}
  if (r != PKD_TAKEN) return false;
  *t = (pk_val)item;
  return true;
}

/* Steal one branch from another worker, nearest victims first. */
static bool pkw_steal(pkw_worker *w, pk_val *t)
{
  int nv = pkt_plan_workers(pkw.plan) - 1;
  const int *victims = pkt_plan_victims(pkw.plan, w->id);
  int start = nv > 1 ? (int)(pko_rand64(&w->rng) % 2) : 0; /* ties among the nearest two */
  for (int k = 0; k < nv; k++) {
    int v = victims[(k < 2 && nv > 1) ? (k + start) % 2 : k];
    if (v >= pkw.cfg.workers) continue;
    w->st.steals_tried++;
    if (pkw_steal_from(&pkw.w[v]->dq, t)) {
      w->st.steals_ok++;
      return true;
    }
  }
  return false;
}

/* Take w's own oldest branch (round robin over its deque), else steal.
   An empty deque is scrubbed first: taken branches left in its slots would
   keep whole dead subtrees reachable for the collector. */
static bool pkw_take(pkw_worker *w, pk_val *t)
{
  if (pkw_steal_from(&w->dq, t)) return true;
  pkd_scrub_owner(&w->dq);
  return pkw_steal(w, t);
}

/* pkw_take for query q: splitting ahead, w's newest branch first (the
   nearest steps, and a deque of about log2 of a range's steps, where the
   oldest first would split every half before forcing one and hold a fifth
   of the steps at once). */
static bool pkw_take_for(pkw_worker *w, const pkw_query *q, pk_val *t)
{
  uintptr_t item;
  if (!q->ops->split_ahead || !pkd_pop_owner(&w->dq, &item)) return pkw_take(w, t);
  *t = (pk_val)item;
  return true;
}

/* After a quantum: if other branches wait in w's deque, put the current
   one at the bottom and resume the oldest, so that every branch a worker
   holds resumes within (branches held) quanta of its steps. */
static void pkw_rotate(pkw_worker *w)
{
  if (!w->cur || pkd_size_approx(&w->dq) == 0) return;
  pk_val t;
  pkw_push(w, w->cur);
  w->cur = pkw_take(w, &t) ? t : 0;
}

/* A spin loop's breath: the pause instruction where there is one (it
   yields the core to a hyper-thread sibling and costs no memory traffic). */
static inline void pkw_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  __asm__ volatile("" ::: "memory");
#endif
}

/* Idle wait with backoff: spin, watch the pulse for spin_us (a query's
   ops ask for it, pkw_ops.spin_us), then yield, then nap up to 100 us, or
   until the pulse moves on from seen.  Rounds 0-7 cost a few microseconds
   together. */
static void pkw_backoff(unsigned *round, uint32_t seen, uint32_t spin_us)
{
  if (*round < 8) {
    for (int i = 0; i < (16 << *round); i++) __asm__ volatile("" ::: "memory");
  } else if (*round == 8 && spin_us) {
    uint64_t t0 = pko_now_ns(), ns = (uint64_t)spin_us * 1000;
    while (atomic_load_explicit(&pkw_pulse, memory_order_relaxed) == seen && pko_now_ns() - t0 < ns)
      for (int i = 0; i < 16; i++) pkw_relax();
  } else if (*round < 16) {
    sched_yield();
  } else {
    struct timespec ts = { 0, 100000 };
    atomic_fetch_add(&pkw_nappers, 1);
    syscall(SYS_futex, &pkw_pulse, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
    atomic_fetch_sub(&pkw_nappers, 1);
  }
  if (*round < 64) (*round)++;
}

/* Mark w hungry (no branch) or fed, keeping the global count. */
static void pkw_hungry(pkw_worker *w, bool h)
{
  if (w->hungry == h) return;
  w->hungry = h;
  atomic_fetch_add_explicit(&pkw.hungry, h ? 1 : -1, memory_order_relaxed);
}

/* A worker's time inside one query, for --stats. */
typedef struct pkw_shift {
  unsigned idle; /* backoff round while hungry */
  uint64_t t0, idle_since, u0;
  const pkw_ops *ops;
} pkw_shift;

static pkw_shift pkw_shift_begin(const pkw_query *q)
{
  return (pkw_shift){ 0, pko_now_ns(), 0, q->ops->work(), q->ops };
}

/* No branch to run (the pulse seen before looking): w is hungry, and
   waits a little longer each round. */
static void pkw_shift_idle(pkw_worker *w, pkw_shift *s, uint32_t seen)
{
  pkw_hungry(w, true);
  if (!s->idle_since) s->idle_since = pko_now_ns();
  pkw_backoff(&s->idle, seen, s->ops->spin_us);
}

/* w has a branch again: close the idle interval. */
static void pkw_shift_busy(pkw_worker *w, pkw_shift *s)
{
  pkw_hungry(w, false);
  if (s->idle_since) {
    w->st.idle_ns += pko_now_ns() - s->idle_since;
    s->idle_since = 0;
  }
  s->idle = 0;
}

/* w leaves the query: add the shift to its statistics. */
static void pkw_shift_end(pkw_worker *w, pkw_shift *s)
{
  pkw_hungry(w, false);
  uint64_t t1 = pko_now_ns();
  if (s->idle_since) w->st.idle_ns += t1 - s->idle_since;
  w->st.busy_ns += t1 - s->t0;
  w->st.unifies += s->ops->work() - s->u0;
}

/* Work on q until it is done, or (consumer) until an answer is waiting. */
static void pkw_work(pkw_worker *w, pkw_query *q, bool consumer)
{
  pkw_shift sh = pkw_shift_begin(q);
  for (uint32_t seen; (seen = pkw_pulse_now(), !atomic_load_explicit(&q->done, memory_order_acquire));) {
    if (consumer && atomic_load_explicit(&q->head->next, memory_order_acquire)) break;
    if (!w->cur) {
      pk_val t;
      if (!pkw_take_for(w, q, &t)) {
        pkw_shift_idle(w, &sh, seen);
        continue;
      }
      w->cur = t;
      w->st.tasks++;
    }
    pkw_shift_busy(w, &sh);
    pkw_run_guarded(w, q);
    pkw_rotate(w);
  }
  pkw_shift_end(w, &sh);
}

/* ---- ordered speculation (the client's force_ahead does the forcing) -------------- */

/* Results forced ahead and not yet taken, per worker, before workers stop
   forcing ahead: bounds the memory a run n can waste. */
#define PKW_AHEAD_PER_WORKER 1024
/* An ordered query wakes the pool at its 64th offer, not at its start: a
   query that ends sooner (a reduceo answered by the rewriting driver, a
   short run in a loop) costs the pool nothing, where waking workers and
   waiting for them to leave cost about 60 us a query. */
#define PKW_UNSEEN_OFFERS 64
#define PKW_CHAIN_LEAD 8

static void pkw_query_publish(pkw_query *q);

/* The worker whose deque takes this thread's offers (ordered mode). */
static _Thread_local pkw_worker *pkw_spec_self;

bool pkw_offer_wanted(void)
{
  pkw_worker *w = pkw_spec_self;
  if (!w) return false;
  if (w->id == 0 && pkw.unseen) { /* the driver's query is not published yet */
    if (--pkw.unseen == 0) pkw_query_publish(pkw.mine);
    return false;
  }
  if (pkw.cfg.eager) return pkd_size_approx(&w->dq) < 64;
  return atomic_load_explicit(&pkw.hungry, memory_order_relaxed) > 0 && pkd_size_approx(&w->dq) <= 1;
}

void pkw_offer(pk_val t)
{
  pkw_worker *w = pkw_spec_self;
  /* The driver never takes from its own deque: clear the slots of offers
     already taken, or each would keep an old subtree reachable. */
  if (w->id == 0) pkd_scrub_owner(&w->dq);
  pkw_push(w, t);
  w->st.splits++;
  pkw_poke();
}

/* Set by the driver while forcing ahead does not pay (pkw_spec_pause). */
static _Atomic bool pkw_spec_paused;

void pkw_spec_pause(bool on) { atomic_store_explicit(&pkw_spec_paused, on, memory_order_relaxed); }

/* True while workers may force more ahead of q's driver. */
static bool pkw_spec_room(const pkw_query *q)
{
  return !atomic_load_explicit(&pkw_spec_paused, memory_order_relaxed) &&
         q->ops->ahead() < (int64_t)PKW_AHEAD_PER_WORKER * pkw.cfg.workers;
}

/* Force claimed thunk t, then the thunks that follow it on its chain,
   while there is room and the chain is at most PKW_CHAIN_LEAD results
   ahead of whoever takes them (a chain deep in the interleaving is taken
   rarely: better leave it and take a fresh offer, which is needed sooner). */
static void pkw_spec_chain(pkw_worker *w, pkw_query *q, pk_val t)
{
  pk_val recent[PKW_CHAIN_LEAD] = { 0 };
  for (unsigned i = 0;; i++) {
    recent[i % PKW_CHAIN_LEAD] = t;
    t = q->ops->force_ahead(t);
    w->st.forces++;
    pk_val old = recent[(i + 1) % PKW_CHAIN_LEAD];
    if (!t || (old && !q->ops->taken(old)) || !pkw_spec_room(q) ||
        atomic_load_explicit(&q->done, memory_order_relaxed) || !q->ops->claim(t))
      return;
  }
}

/* A pool worker in an ordered query: take an offered thunk and force it
   and its chain ahead of the driver, while there is room. */
static void pkw_spec_work(pkw_worker *w, pkw_query *q)
{
  pkw_shift sh = pkw_shift_begin(q);
  q->ops->join(true, false);
  pkw_spec_self = w;
  for (uint32_t seen; (seen = pkw_pulse_now(), !atomic_load_explicit(&q->done, memory_order_acquire));) {
    pk_val t;
    if (!pkw_spec_room(q) || !pkw_take(w, &t)) {
      pkw_shift_idle(w, &sh, seen);
      continue;
    }
    pkw_shift_busy(w, &sh);
    if (!q->ops->claim(t)) continue;
    w->st.tasks++;
    pkw_spec_chain(w, q, t);
  }
  pkw_spec_self = NULL;
  q->ops->join(false, false);
  pkw_shift_end(w, &sh);
}

/* Discard what is left in w's deque after the query ended. */
static void pkw_drain(pkw_worker *w)
{
  uintptr_t item;
  w->cur = 0;
  while (pkd_pop_owner(&w->dq, &item)) {}
  pkd_scrub_owner(&w->dq); /* taken branches must not stay reachable */
}

/* ---- the pool -------------------------------------------------------------------- */

/* Poll for a query after generation seen for a while (spin, yield, then
   a few 100 us sleeps: about half a millisecond) before blocking: queries
   often come in quick succession (a split rewrite's passes, a program's
   runs), and a blocked worker is woken late, most of all on a busy
   machine.  spin_us: what the last query's ops ask for (pkw_backoff). */
static void pkw_linger(uint64_t seen, uint32_t spin_us)
{
  for (unsigned r = 0; r < PKW_LINGER_ROUNDS;) {
    uint32_t pulse = pkw_pulse_now();
    if (atomic_load_explicit(&pkw.generation, memory_order_relaxed) != seen) return;
    pkw_backoff(&r, pulse, spin_us);
  }
}

/* A pool worker: wait for a query, join it, work, leave, repeat. */
static void *pkw_main(void *arg)
{
  pkw_worker *w = arg;
  pkw_self = w;
  if (pkw.cfg.thread_start) pkw.cfg.thread_start();
  pthread_mutex_lock(&pkw.lock);
  pkt_pin_self(pkw.plan, w->id);
  pthread_mutex_unlock(&pkw.lock);
  uint64_t seen = 0;
  uint32_t spin_us = 0;
  for (;;) {
    pkw_linger(seen, spin_us);
    pthread_mutex_lock(&pkw.lock);
    while (!pkw.cur || pkw.generation == seen || w->id >= pkw.cfg.workers) pthread_cond_wait(&pkw.wake, &pkw.lock);
    pkw_query *q = pkw.cur;
    seen = pkw.generation;
    spin_us = q->ops->spin_us;
    atomic_fetch_add(&pkw.active, 1);
    pthread_mutex_unlock(&pkw.lock);
    if (q->spec)
      pkw_spec_work(w, q);
    else
      pkw_work(w, q, false);
    pkw_drain(w);
    if (atomic_fetch_sub(&pkw.active, 1) == 1) pkw_poke(); /* the driver may wait for the last one out */
  }
  return NULL;
}

/* Start pool worker i's thread, with the stack the configuration asks for
   (the client's code runs on workers) plus a margin, or a smaller one that
   fits the address-space limit when the size is the default (each of the
   n - i workers still to start gets an equal share). */
static void pkw_spawn_thread(int i, int n)
{
  if (pko_thread_start(&pkw.w[i]->th, pkw_main, pkw.w[i], pkw.cfg.stack_bytes, pkw.cfg.stack_exact, n - i)) return;
  if (pkw.cfg.stack_exact)
    pko_error("cannot start worker %d with a stack of %zu bytes (--stack): the address space (ulimit -v) does not "
              "hold it; lower --stack or -j",
              i, pkw.cfg.stack_bytes);
  pko_error("cannot start worker %d: the address space (ulimit -v) does not hold even a 16 MB stack; lower -j", i);
}

/* Workers pkw.n..n-1 with their deques and threads.  Worker structs never
   move: threads and thieves hold pointers to them. */
static void pkw_grow_pool(int n)
{
  pkw_worker **w = GC_MALLOC_UNCOLLECTABLE((size_t)n * sizeof *w);
  pkd_alloc al = { pkw_buf_alloc, pkw_buf_free, NULL };
  int old = pkw.n;
  if (old) memcpy(w, pkw.w, (size_t)old * sizeof *w);
  for (int i = old; i < n; i++) {
    w[i] = GC_MALLOC_UNCOLLECTABLE(sizeof *w[i]);
    w[i]->id = i;
    w[i]->rng = pkw.cfg.seed * 0x100000001b3ull + (uint64_t)i;
    if (!pkd_init(&w[i]->dq, 256, &al)) pko_error("out of memory starting worker %d", i);
  }
  pkt_plan *plan = pkt_plan_new(n, pkw.cfg.seed);
  if (!plan) pko_error("cannot plan %d workers (at most %d)", n, PKT_MAX_WORKERS);
  pthread_mutex_lock(&pkw.lock);
  pkw.w = w;
  pkw.n = n;
  pthread_mutex_unlock(&pkw.lock);
  pkw_set_plan(plan);
  for (int i = old > 0 ? old : 1; i < n; i++) pkw_spawn_thread(i, n);
}

/* More threads allocate more between collections, and every collection
   stops all of them: an unordered query gives each worker 16 MB of
   allocation between collections (up to 128 MB).  Before thunks and
   scratch map nodes were reused in place, a larger budget paid (perm8-diseq
   --unordered -j 2: 16 MB/worker 1.50x, 24 MB 1.61x, 32 MB 1.72x); since,
   it does not (medians of 5 at -j 2, 16 / 24 MB per worker: perm8-diseq
   0.58 / 0.57 s, factors-720-own 0.40 / 0.41 s, qs-thrines-565 0.76 /
   0.78 s), and peak RSS drops from 71 to 53 MB.  An ordered query
   allocates mostly on its driver and keeps the one-worker budget (a larger
   one costs cache misses: zebra at -j 1 with 48 MB is 12% slower). */
static void pkw_gc_budget(bool unordered)
{
  static size_t base;
  if (!base) base = GC_get_min_bytes_allocd();
  int n = pkw.cfg.workers < 8 ? pkw.cfg.workers : 8;
  size_t want = (size_t)n * ((size_t)16 << 20);
  GC_set_min_bytes_allocd(unordered && want > base ? want : base);
}

/* Start the pool once: plan, deques, threads, and worker 0 pinned. */
static void pkw_start_pool(void)
{
  pkw_grow_pool(pkw.cfg.workers);
  pkw.started = true;
  pkw_pin_consumer(true);
}

void pkw_start(void)
{
  if (!pkw.started) pkw_start_pool();
}

/* End q: stop it, wait until no pool worker is inside it. */
static void pkw_query_end(pkw_query *q)
{
  atomic_store(&q->done, 1);
  pkw_poke();
  if (q->spec) {
    q->ops->join(false, false);
    pkw_spec_self = NULL;
    pkw_worker *w0 = pkw.w[0];
    pkw_counts c = q->ops->counts();
    w0->st.taken += c.taken - pkw.spec0.taken;
    w0->st.waits += c.waits - pkw.spec0.waits;
    w0->st.wait_ns += c.wait_ns - pkw.spec0.wait_ns;
    w0->st.busy_ns += pko_now_ns() - pkw.spec_t0;
    w0->st.unifies += q->ops->work() - pkw.spec_u0;
  }
  pthread_mutex_lock(&pkw.lock);
  if (pkw.cur == q) pkw.cur = NULL;
  pthread_mutex_unlock(&pkw.lock);
  pkw.mine = NULL;
  unsigned r = 0;
  for (uint32_t seen; (seen = pkw_pulse_now(), atomic_load(&pkw.active) > 0);) pkw_backoff(&r, seen, q->ops->spin_us);
  pkw_drain(pkw.w[0]);
}

/* A new query for the pool, after the one still running (a consumer that
   stopped early) ends. */
static pkw_query *pkw_query_new(const pkw_ops *ops, bool unordered)
{
  if (!pkw.started) pkw_start_pool();
  if (pkw.mine) pkw_query_end(pkw.mine);
  pkw_gc_budget(unordered);
  pkw_query *q = pko_alloc(sizeof *q);
  q->ops = ops;
  q->spec = !unordered;
  q->head = &q->sentinel;
  atomic_store(&q->tail, &q->sentinel);
  return q;
}

/* Make q the pool's query and wake the workers. */
static void pkw_query_publish(pkw_query *q)
{
  pkw.mine = q;
  pkw.unseen = 0;
  pthread_mutex_lock(&pkw.lock);
  pkw.cur = q;
  pkw.generation++;
  pthread_cond_broadcast(&pkw.wake);
  pthread_mutex_unlock(&pkw.lock);
  pkw_poke(); /* lingering workers */
}

pkw_query *pkw_query_start(const pkw_ops *ops, pk_val root, int64_t n)
{
  pkw_query *q = pkw_query_new(ops, true);
  q->limit = n;
  atomic_store(&q->pending, 1);
  pkw_push(pkw.w[0], root);
  pkw_query_publish(q);
  return q;
}

pkw_query *pkw_spec_start(const pkw_ops *ops)
{
  pkw_query *q = pkw_query_new(ops, false);
  ops->reset();
  pkw_spec_pause(false);
  ops->join(true, true);
  pkw_spec_self = pkw.w[0];
  pkw.spec_t0 = pko_now_ns();
  pkw.spec0 = ops->counts();
  pkw.spec_u0 = ops->work();
  if (pkw.cfg.eager) { /* the stress mode: every offer taken, from the first */
    pkw_query_publish(q);
  } else {
    pkw.mine = q; /* published at its PKW_UNSEEN_OFFERS-th offer (pkw_offer_wanted) */
    pkw.unseen = PKW_UNSEEN_OFFERS;
  }
  return q;
}

bool pkw_query_next(pkw_query *q, pk_val *out)
{
  pkw_worker *w0 = pkw.w[0];
  for (;;) {
    if (pkw_take_answer(q, out)) return true;
    if (atomic_load(&q->done)) break;
    pkw_self = w0;
    pkw_work(w0, q, true);
    pkw_self = NULL;
  }
  if (pkw.mine == q) pkw_query_end(q);
  if (pkw_take_answer(q, out)) return true; /* released just before the end */
  if (atomic_load(&q->failed)) {
    pko_err.status = q->status;
    memcpy(pko_err.msg, q->msg, sizeof pko_err.msg);
    pko_rethrow();
  }
  return false;
}

void pkw_query_stop(pkw_query *q)
{
  if (pkw.mine == q) pkw_query_end(q);
}

uint64_t pkw_pool_unifications(void)
{
  uint64_t u = 0;
  for (int i = 1; i < pkw.n; i++) u += pkw.w[i]->st.unifies;
  return u;
}

void pkw_print_stats(FILE *f)
{
  if (!pkw.started) return;
  fprintf(f, "stats: %d workers, seed %llu, collector markers %d, %s\n", pkw.cfg.workers,
          (unsigned long long)pkw.cfg.seed, GC_get_parallel() + 1, pkt_plan_describe(pkw.plan));
  for (int i = 0; i < pkw.cfg.workers && i < pkw.n; i++) {
    const pkw_stats *s = &pkw.w[i]->st;
    double busy = (double)s->busy_ns / 1e9, idle = (double)s->idle_ns / 1e9;
    fprintf(f,
            "stats: worker %d: branches %llu, forces %llu, splits %llu, steals %llu/%llu, answers %llu, unifications "
            "%llu, idle %.3f s of %.3f s (%.1f%%)\n",
            i, (unsigned long long)s->tasks, (unsigned long long)s->forces, (unsigned long long)s->splits,
            (unsigned long long)s->steals_ok, (unsigned long long)s->steals_tried, (unsigned long long)s->answers,
            (unsigned long long)s->unifies, idle, busy, busy > 0 ? 100.0 * idle / busy : 0.0);
    if (s->taken)
      fprintf(
          f,
          "stats: worker %d drove ordered queries: %llu results forced ahead taken, waited for %llu of them (%.3f s)\n",
          i, (unsigned long long)s->taken, (unsigned long long)s->waits, (double)s->wait_ns / 1e9);
  }
}
