/*
** pk_eval.h — the Scheme core: compiler from data to a lexically addressed
** tree, syntax-rules expander, and the evaluator (proper tail calls).
*/
#ifndef PK_EVAL_H
#define PK_EVAL_H
#include "pk_obj.h"
#include "pk_node.h"

/* True for closures, primitives, and goals used as procedures. */
bool pke_procedurep(pk_val v);
/* Apply any procedure to arguments.  Throws on arity or non-procedure.
   Thread contract: safe on any thread that owns its own evaluation. */
pk_val pke_apply(pk_val f, int argc, pk_val *argv);
/* Name of a procedure for printing (#<procedure name>), or NULL. */
const char *pke_procname(pk_val f);

/* Compile a top-level datum (static errors thrown with status 2). */
pke_node *pke_compile(pk_val x, const pk_srcpos *pos);
/* The answer count of a PKE_RUN node (-1: all); a runtime error unless it
   is a non-negative integer or #f. */
int64_t pke_run_count(const pke_node *run, pke_env *env);
/* (run ...) or (run* ...) at top level? */
bool pke_is_run_form(pk_val x);
/* The file name of a top-level (load "literal"), or 0. */
pk_val pke_static_load(pk_val x);
/* Mark the globals a top-level form defines. */
void pke_predeclare(pk_val x);
/* Register the special forms.  Once, after pkb_init. */
void pke_init(void);
/* Recompute this thread's recursion floor (call at thread start). */
void pke_thread_start(void);
/* The loader's hooks (it sits above the language; api/pk_load.c sets
   them at start): the compiler reports each reference to a global, for
   the static check of unbound names; (load f) reached at run time. */
extern void (*pke_note_global)(pk_val sym, const pk_srcpos *pos);
extern void (*pke_load)(pk_val fname, const pk_srcpos *pos);
/* Bytes of C stack a program may use (--stack). */
extern size_t pke_stack_budget;

#endif
