/*
** pk_mk.h — the miniKanren engine: states, unification, constraints,
** goals, interleaving streams and reification.
**
** A state is immutable (persistent substitution + constraint store + its
** own variable counter), so a suspended search branch is plain data that
** any thread can resume with no copy and no lock.
*/
#ifndef PK_MK_H
#define PK_MK_H
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
/* Number of unifications done by this thread so far (for --stats). */
uint64_t pks_unify_count(void);

/* A goal implemented in C: called with the walked arguments; returns
   PK_TRUE to succeed once, PK_FALSE to fail. */
typedef bool (*pks_foreign_fn)(int argc, const pk_val *argv, void *data);
pk_val pks_foreign_goal(pks_foreign_fn fn, void *data, int argc, const pk_val *argv);

void pks_init(void);

#endif
