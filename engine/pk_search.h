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
#include "pk_node.h"

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

void pks_init(void);

/* ---- for the scheduler (sched/pk_worker.c) ---- */
enum { PKS_MZERO, PKS_UNIT, PKS_CHOICE, PKS_THUNK };
/* Force a suspended stream one step.  Any thread; t may be forced once. */
pk_val pks_force(pk_val t);
/* Which of mzero, unit (a state), choice (answer + rest), thunk s is. */
int pks_stream_kind(pk_val s);
pk_val pks_choice_answer(pk_val s);
pk_val pks_choice_rest(pk_val s);
/* Split a thunk into two independent branches (see pk_search.c). */
bool pks_split(pk_val t, pk_val *a, pk_val *b);

/* Ordered speculation (see pk_search.c).  The calling thread only, unless
   said otherwise. */
/* Join (on) or leave (off) the speculation ahead of an ordered query, as
   its driver or as a worker. */
void pks_spec_enable(bool on, bool driver);
/* Has the result forced ahead into thunk t been taken?  Any thread. */
bool pks_spec_taken(pk_val t);
/* Start counting results forced ahead from zero (before workers join). */
void pks_spec_reset(void);
/* Claim thunk t to force it ahead; false if another thread has it.  Any
   thread. */
bool pks_spec_claim(pk_val t);
/* Force claimed thunk t ahead, leaving the result in t; the next thunk of
   its chain (unclaimed) or 0. */
pk_val pks_spec_force(pk_val t);
/* Results forced ahead and not yet taken, all threads (approximate). */
int64_t pks_spec_ahead(void);
/* This thread's counts: results forced ahead it took, times it waited
   for one, and for how long. */
typedef struct pks_spec_counts { uint64_t taken, waits, wait_ns; } pks_spec_counts;
pks_spec_counts pks_spec_counted(void);

#endif
