/*
** pk_rewrite.h — the fixed-point rewriting driver (SPEC §5): each output
** term O of a model goes to the first answer of
**   (run 1 (q) (reduceo (lambda (a b) (WALKER REL a b)) O q))
** computed directly, without the search for later answers.
**
** A pass is walko's first answer: where REL has an answer at a node, its
** first answer replaces the node and the pass does not enter it; else each
** element of the node's list is rewritten by the same pass where it can be
** and left where not; the pass fails when REL fired nowhere.  Passes
** repeat until one fails.  Atoms, strings, tensors and () are leaves (REL
** is tried on them, nothing below); an improper list is never entered
** (kanren's map_anyo fails on it).  non_obs_walko: a pass on
** (observed v (op . xs)) is walko's pass on the argument list xs (itself
** a term REL is tried on); any other term fails.
**
** REL runs on the engine with its full semantics, one
** (run 1 (b) (REL a b)) per visited node; its answer is interned.  An
** answer that is not ground (holds a reified variable _.N, or a
** constraint) is a runtime error naming the node: kanren would continue
** with a fresh logic variable, which is not a model term.
**
** Compiled rules: when REL is a conde (or a single clause) of == goals
** over its arguments, fresh variables and quasiquoted patterns, its
** first answer at a ground node is the first clause whose goals all hold,
** computed by matching in C without a query; anything else (another
** goal, a goal with no ground side) goes through the engine.
**
** Head guard: when REL is (lambda (a b) (project (.. a ..) (if TEST G
** fail))) with TEST (head-may-be? a HEADS) or (and (head-may-be? a HEADS)
** ...), a node where the primitive is false has no answer, and the driver
** says so without a query (HEADS a constant or a global, read each time;
** only while head-may-be? and fail are the builtins).
**
** Memo: REL's first answer is taken to be a function of the node.  Per
** pass, every visited node's result is in a table keyed by the node (a
** node shared by many parents is rewritten once per pass).  A node whose
** pass failed (REL fired nowhere inside it) is put in the call's set of
** clean nodes (by id) and never entered again during that call; REL's
** result on an atom is kept in the context for good.  Nothing is stored
** in the shared nodes, so several contexts may run at once on different
** threads (a context is used by one thread at a time), and what a call
** does, its step count included, depends on its term alone.
*/
#ifndef PK_REWRITE_H
#define PK_REWRITE_H
#include "pk_obj.h"

typedef enum pkrw_walker { PKRW_WALKO, PKRW_NON_OBS_WALKO } pkrw_walker;

typedef struct pkrw_stats {
  uint64_t rewrites; /* REL answers used */
  uint64_t steps;    /* REL applications: queries, and hits of the atom memo (as a fresh context would query) */
  uint64_t passes;   /* passes, the failing last one included */
  uint64_t fast;     /* answers computed by the compiled rule (below) */
  uint64_t guarded;  /* nodes where REL's head guard (below) failed, without a query */
} pkrw_stats;

typedef struct pkrw_ctx pkrw_ctx;

/* A driver for relation rel (a two-argument procedure returning a goal;
   the caller keeps it reachable) and walker w.  pkrw_free releases its
   tables. */
pkrw_ctx *pkrw_new(pk_val rel, pkrw_walker w);
void pkrw_free(pkrw_ctx *c);
/* Limits for what follows: at most max_steps REL queries per
   pkrw_term/pkrw_model call (a model's outputs together) (0: none), and the monotonic time deadline_ns
   (pko_now_ns; 0: none).  Past either, a runtime error "step limit N
   reached" / "time limit reached" is thrown (pkrw_timed_out tells which). */
void pkrw_limit(pkrw_ctx *c, uint64_t max_steps, uint64_t deadline_ns);
bool pkrw_timed_out(const pkrw_ctx *c);
/* The counts since pkrw_new (or the last reset). */
pkrw_stats *pkrw_get_stats(pkrw_ctx *c);

/* Split passes, for one large term on several threads.  A pass over a
   term of at least min_nodes distinct lists (0: never) walks the lists
   nested less than depth deep itself, and leaves each list at that depth
   to a task: an independent walk with its own memo, which reads the
   clean set of the passes before.  The tasks of a pass are run by
   run(env, c, n), which calls pkrw_run_task(c, i) once for each i in
   [0, n), on any threads, and returns when all have returned (run NULL:
   in order, on the calling thread).  Results, counts and errors are the
   same whichever threads run the tasks; a list shared by two tasks is
   walked, and counted, in both.  Defaults: 65,536 lists, depth 10, NULL.
   Not inside a program (pkrw_first), which never splits. */
typedef void pkrw_tasks_fn(void *env, pkrw_ctx *c, size_t n);
void pkrw_set_split(pkrw_ctx *c, size_t min_nodes, int depth);
void pkrw_set_tasks(pkrw_ctx *c, pkrw_tasks_fn *run, void *env);
/* Tell c the distinct lists of the next pkrw_model's outputs together
   (as pkrw_count_nodes gives them), so that it need not count them to
   decide whether to split: for that call only. */
void pkrw_model_nodes(pkrw_ctx *c, size_t nodes);
/* Run task i of c's current pass.  Thread-safe for distinct i; each
   thread gets a context of its own for c (made at its first task). */
void pkrw_run_task(pkrw_ctx *c, size_t i);

/* The fixed point of interned term t, or 0 when the first pass fails (no
   rewrite).  Throws REL's errors and the limits'. */
pk_val pkrw_term(pkrw_ctx *c, pk_val t);
/* Model m (pkg_modelp, interned) with each output rewritten, interned;
   *changed false (and m returned) when no output changed. */
pk_val pkrw_model(pkrw_ctx *c, pk_val m, bool *changed);
/* Define the primitives (rewrite-other-outputs): inside pkrw_model, the
   model's outputs other than the one being rewritten (as read), so that a
   relation such as stats.scm's conjugate can see them, '() elsewhere;
   (head-may-be? t HEADS): t is a variable or a pair whose car is a
   variable or one of the list HEADS (eq?), the head guard above; and
   (subterm-count x t): how many times x occurs in t as a subterm (eq?,
   or equal? for a list), over list elements (not an improper tail), not
   inside an occurrence, each path through shared nodes counted, capped
   at 2 (stats.scm's occurrence guards). */
void pkrw_init(void);
/* The number of distinct compound nodes (interned lists) in the terms of
   list ts. */
size_t pkrw_count_nodes(pk_val ts);

#endif
