/*
** pk_builtin.h — the Scheme core's primitive procedures (lists, numbers,
** strings, characters, vectors, equality, output, errors).
*/
#ifndef PK_BUILTIN_H
#define PK_BUILTIN_H
#include "pk_obj.h"
#include <stdio.h>

/* Register every primitive as a global.  Once, after pko_init. */
void pkb_init(void);

/* Where display/write/printf/newline write.  Default stdout.  Set per
   engine by the C API. */
extern FILE *pkb_out;
/* Where this thread's output goes now: its capture stream while it forces
   a thunk ahead of an ordered search (pk_search.c), else pkb_out. */
extern _Thread_local FILE *pkb_capture;
extern _Thread_local bool pkb_captured; /* set when pkb_output returned the capture */
FILE *pkb_output(void);

#endif
