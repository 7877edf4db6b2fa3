/*
** pk_init.h — the library's start: every module initialised bottom-up,
** and the wiring between layers that do not know each other (the
** language's searches run on the generic scheduler).
*/
#ifndef PK_INIT_H
#define PK_INIT_H
#include "pk_obj.h"

/* Start the library once: collector and symbols, primitives, special
   forms, miniKanren, and the scheduler's hooks.  Any thread, any number of
   times (the first call does the work). */
void pki_init(void);

/* Workers and answer order for the queries that follow (as -j N and
   --unordered); seed fixes the scheduler's random choices, eager makes the
   ordered mode offer every branch (tests).  The thread that runs queries,
   between queries. */
void pki_configure(int workers, bool unordered, uint64_t seed, bool eager);

#endif
