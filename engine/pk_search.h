/*
** pk_search.h — the miniKanren engine: states, unification, constraints,
** goals, interleaving streams and reification.
**
** A state is immutable (persistent substitution + constraint store + its
** own variable counter), so a suspended search branch is plain data that
** any thread can resume with no copy and no lock.
*/
#ifndef PK_SEARCH_H
#define PK_SEARCH_H
#include "pk_eval.h"
#include <stdatomic.h>

/* The goal that node (PKE_FRESH, PKE_CONDE, PKE_CONDA, PKE_CONDU,
   PKE_PROJECT) denotes, closed over env. */
pk_val pks_node_goal(const pke_node *node, pke_env *env);
/* True if v is a goal. */
bool pks_goalp(pk_val v);

/* A query in progress: the stream of a run form's answers. */
typedef struct pks_query pks_query;
/* Start the query of a PKE_RUN node in env (n < 0: run*). */
pks_query *pks_query_new(const pke_node *run, pke_env *env, int64_t n);
/* Next reified answer into *out; false when the stream is exhausted or the
   count is reached. */
bool pks_query_next(pks_query *q, pk_val *out);
/* Stop a query early; its remaining answers are never searched. */
void pks_query_stop(pks_query *q);
/* Number of unifications done by this thread so far (for --stats). */
uint64_t pks_unify_count(void);

/* A goal implemented in C: called with the walked arguments (on the
   searching thread); returns PK_FALSE to fail, PK_TRUE to succeed once, or
   a list of answers, each a list of argc terms: one branch per answer, in
   order, unifying the arguments with it. */
typedef pk_val (*pks_foreign_fn)(int argc, const pk_val *argv, void *data);
pk_val pks_foreign_goal(pks_foreign_fn fn, void *data, int argc, const pk_val *argv);

/* A goal whose first answer C computes: applied to a state, fn(state,
   argc, walked argv) returns the list of argc terms of the goal's first
   answer (unified with the arguments), PK_FALSE when the goal has no
   answer, or 0 to decline; the goal's answers are then that one followed
   by slow's answers after slow's first, which must be the same answer
   (slow is the goal's definition: fn is its fast path). */
typedef pk_val (*pks_first_fn)(pk_val state, int argc, const pk_val *argv);
pk_val pks_first_goal(pks_first_fn fn, int argc, const pk_val *argv, pk_val slow);
/* For a pks_first_fn: the first answer of (rel a b), b a fresh variable,
   searched from a new branch of state: 1 with b reified in *out, 0 when
   there is none, -1 when the answer binds or constrains a variable of
   state (it is not a function of a alone).  Throws what the search
   throws. */
int pks_first_in(pk_val state, pk_val rel, pk_val a, pk_val *out);
/* Count one step of a search done in C (such as the rewrite driver's)
   against the step limit, polling the interrupt flag every 1,024. */
void pks_tick(void);

void pks_init(void);

/* How queries run on several workers: set once by the layer that owns a
   pool (api/pk_jobs.c); without one every query runs on its own thread.
   start: run the stream root on the pool for n answers (n < 0: all), or
   NULL when this query should not (one worker, the default order, or
   inside a worker); ahead: start workers forcing ahead of this thread's
   query (pk_future.h), or NULL; next/stop: as pks_query_next/stop. */
typedef struct pks_runner {
  void *(*start)(pk_val root, int64_t n);
  void *(*ahead)(void);
  bool (*next)(void *q, pk_val *out);
  void (*stop)(void *q);
} pks_runner;
void pks_set_runner(const pks_runner *r);

/* ---- streams, for pk_future.c and the pool's operations ---- */
/* Stream objects are PK_T_OPAQUE with their kind in aux; a thunk's memo
   word is for ordered speculation (0 when unused). */
enum { PKS_K_MEMO = 6 }; /* a result forced ahead (pk_future.c) */
typedef struct pks_thunk {
  pko_hdr h;
  pk_val x, y;
  _Atomic pk_val memo;
} pks_thunk;
/* Bit 7 of a thunk's aux: other threads may reach it. */
#define PKS_SHARED 0x80u
static inline bool pks_shared(pk_val t) { return ((pko_hdr *)t)->aux & PKS_SHARED; }
/* Mark t as reachable by other threads; before it is published, by the
   only thread that can reach it. */
static inline void pks_share(pk_val t)
{
  if (!pks_shared(t)) ((pko_hdr *)t)->aux |= PKS_SHARED;
}
static inline bool pks_is(pk_val s, unsigned k) { return pko_isa(s, PK_T_OPAQUE) && ((pko_hdr *)s)->aux == k; }
/* A stream object of the given kind: the allocation and two stores. */
static inline pk_val pks_opaque(unsigned kind, size_t bytes)
{
  pk_val o = pko_obj(PK_T_OPAQUE, bytes);
  ((pko_hdr *)o)->aux = kind;
  return o;
}
/* The constant thunks after each answer: never shared or forced ahead. */
extern pks_thunk pks_nil2, pks_nil1;
static inline bool pks_constp(pk_val t) { return t == (pk_val)&pks_nil2 || t == (pk_val)&pks_nil1; }

enum { PKS_MZERO, PKS_UNIT, PKS_CHOICE, PKS_THUNK };
/* Force a suspended stream one step.  Any thread; t may be forced once. */
pk_val pks_force(pk_val t);
/* Force thunk t that this thread claimed for ordered speculation. */
pk_val pks_force_claimed(pk_val t);
/* The thunk forced next after stream s on its chain (s itself when it is
   a thunk, a choice's rest), or 0. */
pk_val pks_chain_next(pk_val s);
/* Which of mzero, unit (a state), choice (answer + rest), thunk s is. */
int pks_stream_kind(pk_val s);
pk_val pks_choice_answer(pk_val s);
pk_val pks_choice_rest(pk_val s);
/* Split a thunk into two independent branches (see pk_search.c). */
bool pks_split(pk_val t, pk_val *a, pk_val *b);

/* Start counting steps against pko_limit.max_steps (after
   pko_limits_begin), on the calling thread. */
void pks_limits_reset(void);

#endif
