/*
** pk_eval.h — the evaluator (proper tail calls) and the compiled tree it
** runs: nodes, environment frames and closures, which pk_comp.c builds and
** pk_search.c runs goal bodies from.
*/
#ifndef PK_EVAL_H
#define PK_EVAL_H
#include "pk_obj.h"

typedef enum pke_op {
  PKE_CONST,
  PKE_LREF0,
  PKE_LREF1,
  PKE_LREF,
  PKE_GREF,
  PKE_LSET,
  PKE_GSET,
  PKE_GDEF,
  PKE_IF,
  PKE_SEQ,
  PKE_LAMBDA,
  PKE_CALL,
  PKE_AND,
  PKE_OR,
  PKE_LET,
  PKE_LETREC,
  PKE_CONS,
  PKE_APPEND,
  PKE_LIST2VEC,
  /* miniKanren forms: the node is the goal's code, evaluated later by pk_search.c */
  PKE_FRESH,
  PKE_CONDE,
  PKE_CONDA,
  PKE_CONDU,
  PKE_PROJECT,
  PKE_RUN,
  PKE_TEST,
  PKE_LOAD,
  /* kanren's goal combinators (pk_search.c, "kanren order") */
  PKE_LALL,
  PKE_LANY
} pke_op;

/* One compiled expression.  Field use by op:
   CONST v | LREF a=depth b=index | GREF/GSET/GDEF v=symbol x=value
   IF x y z | SEQ/AND/OR kids[n] | CALL x=operator kids[n]=operands
   LAMBDA a=required b=frame size flags&1=rest x=body v=name
   LET/LETREC kids[n]=inits b=frame size x=body
   CONS x y | APPEND x y | LIST2VEC x
   FRESH a=#vars b=frame size kids[n]=goals; flags&2: no variables, no frame
   CONDE/CONDA/CONDU kids[n]=clauses, each a FRESH node with a=0
   PROJECT kids[n]=goals y=SEQ of variable refs (y->n of them) b=frame size
   RUN x=count (NULL for run*) a=#query vars b=frame size kids[n]=goals
   TEST x=title y=expr z=expected v=expr datum | LOAD x=file name
   LALL/LANY kids[n]=goals (lconde: an LANY of LALL nodes)  */
typedef struct pke_node {
  uint8_t op, flags;
  uint16_t n;
  uint32_t a, b;
  pk_val v;
  struct pke_node *x, *y, *z;
  struct pke_node **kids;
  pk_srcpos pos;
} pke_node;

/* An environment frame: slots for one lambda's (or let's) variables.
   h.aux holds the slot count. */
typedef struct pke_env {
  pko_hdr h;
  struct pke_env *up;
  pk_val v[];
} pke_env;

typedef struct pke_closure {
  pko_hdr h;
  const pke_node *lam;
  pke_env *env;
} pke_closure;

/* A frame of n slots under up, slots set to PK_UNBOUND. */
pke_env *pke_frame(pke_env *up, uint32_t n);
/* Evaluate node in env.  Any thread; recursion is bounded by the stack
   budget (a runtime error past it). */
pk_val pke_eval(const pke_node *node, pke_env *env);

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
/* Set when the user chose the budget (--stack): threads never shrink it to
   fit the address space, they fail with a message instead. */
extern bool pke_stack_exact;
/* This thread's recursion floor: below it the budget is spent (0 until
   pke_thread_start: no check). */
extern _Thread_local uintptr_t pke_floor __attribute__((tls_model("initial-exec")));
/* The budget is spent: a runtime error, not a crash. */
_Noreturn void pke_stack_overflow(void);
/* Check the stack budget: one compare. */
static inline void pke_check_stack(void)
{
  char probe;
  if (__builtin_expect((uintptr_t)&probe < pke_floor, 0)) pke_stack_overflow();
}

#endif
