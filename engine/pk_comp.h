/*
** pk_comp.h — the compiler: a top-level datum to a tree of pke_nodes
** (pk_eval.h), with special forms checked and macros expanded.
*/
#ifndef PK_COMP_H
#define PK_COMP_H
#include "pk_eval.h"

/* Register the special forms.  Once, after pkb_init. */
void pkc_init(void);
/* Compile a top-level datum (static errors thrown with status 2).  Any
   thread; macro definitions are process-wide. */
pke_node *pkc_compile(pk_val x, const pk_srcpos *pos);
/* (run ...) or (run* ...) at top level? */
bool pkc_is_run_form(pk_val x);
/* The file name of a top-level (load "literal"), or 0. */
pk_val pkc_static_load(pk_val x);
/* Mark the globals a top-level form defines. */
void pkc_predeclare(pk_val x);
/* The loader's hook (api/pk_load.c sets it at start): each reference to a
   global, for the static check of unbound names. */
extern void (*pkc_note_global)(pk_val sym, const pk_srcpos *pos);

#endif
