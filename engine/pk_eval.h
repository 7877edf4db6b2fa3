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

/* The answer count of a PKE_RUN node (-1: all); a runtime error unless it
   is a non-negative integer or #f. */
int64_t pke_run_count(const pke_node *run, pke_env *env);
/* Register the evaluator's globals.  Once, after pkc_init. */
void pke_init(void);
/* Recompute this thread's recursion floor (call at thread start). */
void pke_thread_start(void);
/* The loader's hook (it sits above the language; api/pk_load.c sets it
   at start): (load f) reached at run time. */
extern void (*pke_load)(pk_val fname, const pk_srcpos *pos);
/* Bytes of C stack a program may use (--stack). */
extern size_t pke_stack_budget;
/* This thread's recursion floor: below it the budget is spent (0 until
   pke_thread_start: no check). */
extern _Thread_local uintptr_t pke_floor;
/* The budget is spent: a runtime error, not a crash. */
_Noreturn void pke_stack_overflow(void);
/* Check the stack budget: one compare. */
static inline void pke_check_stack(void)
{
  char probe;
  if (__builtin_expect((uintptr_t)&probe < pke_floor, 0)) pke_stack_overflow();
}

#endif
