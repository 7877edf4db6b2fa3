/*
** pkanren.h — the public C API of pkanren, a parallel relational search
** engine (miniKanren) in C.
**
** Thread-safety contract: every function may be called from any thread;
** calls into the library are serialized by one process-wide lock, so
** sharing an engine between threads is safe but not parallel (the
** parallelism is inside a query: pk_set_workers).  The pure readers of an
** existing term (pk_is_*, pk_term_car/cdr, pk_*_value, pk_symbol_name,
** pk_equal) and pk_nil, pk_boolean, pk_version, pk_errmsg, pk_exit_code and
** pk_interrupt take no lock.  Global definitions (define, defrel, relations
** registered from C) are process-wide: every engine of the process sees
** them.  An engine holds its own output stream, error message, settings
** and term roots.
**
** The library's collector must know every thread that calls it: a thread
** is registered on its first call, and a thread that called the library
** must call pk_thread_done() before it exits (the process's main thread
** need not).
**
** Errors are returned, never raised and never exit(): functions return 0
** or a positive count on success and a negative PK_E* code on failure;
** pk_errmsg() then holds "file:line:col: message".  A program's own
** (exit n) is PK_EEXIT, with n in pk_exit_code(), for every n (0 too).
**
** Memory: terms are words that refer to the library's collected heap.
** A term returned to C stays valid until pk_release(engine) or
** pk_engine_free(engine); do not keep terms longer than that.  Free an
** engine's queries before the engine.
*/
#ifndef PKANREN_H
#define PKANREN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef PK_VERSION_STRING
#define PK_VERSION_STRING "0.1.0"
#endif

/* Error codes: the negated exit statuses of the pkanren command. */
enum {
  PK_OK = 0,
  PK_EFAILED = -1,  /* a test in the loaded program failed */
  PK_ESTATIC = -2,  /* reader error, malformed form, unbound name, unreadable file, bad argument */
  PK_ERUNTIME = -3, /* runtime error, or a call not allowed now (see below) */
  PK_EINTR = -130,  /* interrupted (pk_interrupt) */
  PK_EEXIT = -256   /* the program called (exit n); pk_exit_code() holds n */
};

typedef struct pk_engine pk_engine;
typedef struct pk_query pk_query;
typedef struct pk_goal pk_goal;
typedef uintptr_t pk_term;

/* The library's version string, e.g. "0.1.0". */
const char *pk_version(void);

/* A new engine writing program output to stdout, searching on 1 worker in
   the one-worker order; NULL if out of memory. */
pk_engine *pk_engine_new(void);
/* Free an engine; its terms become invalid. */
void pk_engine_free(pk_engine *e);
/* Where display/write/printf of programs run by e go (default stdout). */
void pk_set_output(pk_engine *e, FILE *out);
/* Workers that search e's queries and programs (as `pkanren run -j N`):
   n >= 1, else PK_ESTATIC.  With n > 1 and the default order, workers
   force parts of the search ahead of the one-worker order, which the
   answers keep byte for byte. */
int pk_set_workers(pk_engine *e, int n);
/* on != 0: e's queries release answers as found (as --unordered): the
   same multiset as one worker for run*, n of its answers for run n. */
int pk_set_unordered(pk_engine *e, int on);
/* Limits of each later load and query of e (0: none), as `pkanren run
   --max-steps --max-memory --timeout`: steps are forced suspensions of the
   search, memory the collected heap plus malloc'd bytes of the process,
   the timeout in seconds from the start of the load or query.  Reaching
   one stops it with PK_ERUNTIME, pk_errmsg naming the limit ("stopped by
   the step limit (max-steps 100)").  PK_ESTATIC if timeout < 0 or NaN. */
int pk_set_limits(pk_engine *e, uint64_t max_steps, uint64_t max_memory, double timeout);
/* Message of the last error on e ("" if none); in a foreign goal, of the
   last call the goal made. */
const char *pk_errmsg(const pk_engine *e);
/* n of the last PK_EEXIT on e. */
int pk_exit_code(const pk_engine *e);
/* Ask the running load, or the open query, to stop: the load, or the
   query's pk_query_next (now or next), returns PK_EINTR.  Async-signal-
   safe; a load or query that starts later is not affected. */
void pk_interrupt(void);

/* Load and run program text (name is used in messages) or a file:
   definitions, macros, top-level expressions, as `pkanren run` does
   (without printing top-level run values). */
int pk_load_string(pk_engine *e, const char *name, const char *text, size_t len);
int pk_load_file(pk_engine *e, const char *path);
/* Bind a global name to a term (visible to later programs and queries). */
int pk_define(pk_engine *e, const char *name, pk_term value);

/* ---- terms ---- */
pk_term pk_nil(void);
pk_term pk_boolean(int b);
pk_term pk_int(pk_engine *e, int64_t i);
pk_term pk_float(pk_engine *e, double d);
pk_term pk_symbol(pk_engine *e, const char *name);
pk_term pk_string(pk_engine *e, const char *s, size_t len);
pk_term pk_cons(pk_engine *e, pk_term car, pk_term cdr);
/* Parse one datum from text (e.g. "(a b (c . d))"). */
int pk_parse(pk_engine *e, const char *text, pk_term *out);

int pk_is_nil(pk_term t);
int pk_is_pair(pk_term t);
int pk_is_int(pk_term t);
int pk_is_symbol(pk_term t);
int pk_is_string(pk_term t);
pk_term pk_term_car(pk_term t);         /* t must be a pair */
pk_term pk_term_cdr(pk_term t);         /* t must be a pair */
int64_t pk_int_value(pk_term t);        /* t must be an integer */
const char *pk_symbol_name(pk_term t);  /* t must be a symbol */
const char *pk_string_value(pk_term t); /* t must be a string */
/* t as `write` prints it; malloc'd, caller frees. */
char *pk_to_string(pk_term t);
/* Scheme equal?. */
int pk_equal(pk_term a, pk_term b);

/* ---- queries ---- */
/* Start a query from the text of a run form, e.g.
   "(run* (q) (appendo q '(3) '(1 2 3)))" or "(run 5 (x y) ...)".  An
   unbound name is PK_ESTATIC here, with its position in the text.
   A query of an engine with pk_set_workers > 1 or pk_set_unordered holds
   the process's workers until pk_query_next returns 0 or an error, or
   pk_query_free: meanwhile opening another query or loading a program
   (any engine) returns PK_ERUNTIME, and the query must be iterated and
   freed on the thread that opened it. */
int pk_query_open(pk_engine *e, const char *run_form, pk_query **out);
/* The next answer (reified, as run returns it): 1 with *answer set, 0 when
   there are no more, or a negative error code. */
int pk_query_next(pk_query *q, pk_term *answer);
/* Stop a query and free it (any time: answers not taken are not searched). */
void pk_query_free(pk_query *q);

/* ---- relations written in C ("foreign goals") ----
   The function of a relation runs during search, on the searching thread
   (a worker's, with pk_set_workers > 1), with the arguments fully walked
   (logic variables still unbound appear as terms that pk_is_* all reject).
   It may call: the term constructors and readers, pk_parse, pk_to_string,
   pk_errmsg, pk_exit_code, pk_version, pk_interrupt, and pk_goal_yield.
   Terms it builds stay valid until it returns.  Any other call returns
   PK_ERUNTIME, or does nothing if it returns nothing.  A negative return
   stops the query with PK_ERUNTIME, its message naming the relation (and
   the last error of the function's own calls). */

/* A predicate: return 1 to succeed once, 0 to fail. */
typedef int (*pk_relation_fn)(pk_engine *e, int argc, const pk_term *argv, void *data);
/* Define name as a predicate of arity arguments (0..64) implemented by fn. */
int pk_register_relation(pk_engine *e, const char *name, int arity, pk_relation_fn fn, void *data);

/* A relation with answers: call pk_goal_yield(g, ...) once per answer and
   return 0 (no yield: the goal fails).  All answers of one call are
   computed when the goal runs; they are its answers in yield order. */
typedef int (*pk_goal_fn)(pk_engine *e, pk_goal *g, int argc, const pk_term *argv, void *data);
/* Define name as a relation of arity arguments (0..64) implemented by fn. */
int pk_register_goal(pk_engine *e, const char *name, int arity, pk_goal_fn fn, void *data);
/* One answer of g: argv[i] == values[i] for every i < argc (values may
   hold unbound argv terms).  Only inside g's own call, else PK_ERUNTIME. */
int pk_goal_yield(pk_goal *g, const pk_term *values);

/* The calling thread will not call the library again (call before a
   thread that used the library exits). */
void pk_thread_done(void);

/* Drop the engine's roots: terms handed out so far may be collected. */
void pk_release(pk_engine *e);

/* ---- models (SPEC §4): the model format ---- */
/* Read the models of a .model file, or of model text (name is used in
   messages), into *out: a list of model terms
     (model NAME (input ...) ... (define NAME NODE) ... (output TERM ...))
   with defines substituted, hash-consed (equal subterms are one node, so
   pk_equal on them is a pointer compare).  Returns the number of models,
   or PK_ESTATIC with pk_errmsg() "file:line:col: message" (an unreadable
   file, a reader error, a malformed model). */
int pk_read_models_file(pk_engine *e, const char *path, pk_term *out);
int pk_read_models_string(pk_engine *e, const char *name, const char *text, size_t len, pk_term *out);
/* The list of a model's output terms into *out; PK_ERUNTIME when model is
   not a model term. */
int pk_model_outputs(pk_engine *e, pk_term model, pk_term *out);
/* A model in the model format (inputs, defines for shared and named
   nodes, outputs), malloc'd into *text (caller frees); reading it back
   gives the same graph.  PK_ERUNTIME when model is not a model term. */
int pk_model_print(pk_engine *e, pk_term model, char **text);
/* A model in mathematical notation, as `pkanren print` shows it (a line
   "NAME:", then "a in R^2", "beta ~ N(a, R)", "Y ~ N((F * beta), V) =
   [-3.0]" ...), malloc'd into *text (caller frees).  flags: 0 or an OR of
   PK_PRINT_LATEX (a LaTeX align* environment instead) and PK_PRINT_VALUES
   (the inputs' test values too).  PK_ERUNTIME when model is not a model
   term. */
enum { PK_PRINT_LATEX = 1, PK_PRINT_VALUES = 2 };
int pk_model_print_math(pk_engine *e, pk_term model, int flags, char **text);

/* ---- rewriting (SPEC §5) ---- */
/* Counts of one pk_rewrite_model call. */
typedef struct pk_rewrite_info {
  uint64_t rewrites;     /* answers of the relation used */
  uint64_t steps;        /* queries of the relation run (memo hits not counted) */
  uint64_t passes;       /* walker passes, the failing last one included */
  uint64_t nodes_before; /* distinct compound nodes of the outputs */
  uint64_t nodes_after;
} pk_rewrite_info;
/* Rewrite each output of model to the first answer of
     (run 1 (q) (reduceo (lambda (a b) (WALKER RELATION a b)) OUTPUT q))
   (the fixed-point driver, as `pkanren rewrite`): *out is the rewritten
   model.  rules: a rules file path or library name ("kanren", "stats":
   relations/NAME.scm of the source tree or of share/pkanren), loaded
   into e before the rewrite; NULL: relation is looked up among what e
   has loaded.  walker: "walko" or "non_obs_walko" (NULL: walko).
   max_steps: queries of the relation allowed (0: the command's default,
   100,000,000).  info may be NULL.  Returns 1 when an output changed, 0
   when none did (*out is model), PK_ESTATIC for a bad rules file,
   relation (undefined, or not a two-argument relation) or walker, and
   PK_ERUNTIME for an error of the relation, an answer that is not ground,
   or the step limit; pk_errmsg() says which. */
int pk_rewrite_model(pk_engine *e, pk_term model, const char *rules, const char *relation, const char *walker,
                     uint64_t max_steps, pk_term *out, pk_rewrite_info *info);

/* ---- verified rewrites (SPEC §5) ---- */
/* Check rewritten against original numerically, as `pkanren verify` does
   for one model: draws draws (>= 100) of each, GSL mt19937 seeded with
   seed, every test Bonferroni-corrected to the family-wise false-alarm
   rate alpha (0 < alpha < 1); one line per check and a summary line are
   written to out (NULL: nowhere).  Returns the number of failed checks (0:
   the rewrite passes), PK_ESTATIC when an input the models use has no
   test value, PK_ERUNTIME for anything else (not models, an unknown
   operator, shapes that do not broadcast); pk_errmsg() says which. */
int pk_verify_model(pk_engine *e, pk_term original, pk_term rewritten, long draws, unsigned long seed, double alpha,
                    FILE *out);

#ifdef __cplusplus
}
#endif

#endif
