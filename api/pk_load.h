/*
** pk_load.h — programs: reading files (with literal top-level loads read up
** front), the static checks, and running top-level forms.
*/
#ifndef PK_LOAD_H
#define PK_LOAD_H
#include "pk_obj.h"
#include "pk_eval.h"
#include <stdio.h>

/* How top-level run forms of the main file are printed. */
typedef struct pkl_opts {
  bool stream;           /* print each answer as soon as it is released */
  bool json;             /* answers as JSON instead of write syntax (SPEC §6) */
  bool print_runs;       /* write the value of top-level run forms (pkanren run) */
  void (*running)(void); /* called once the program is read and compiled */
  FILE *out;             /* where run values go (NULL: the program's output) */
  uint64_t answers;      /* out: answers printed */
  int exit_code;         /* out: n of the program's (exit n), when PK_STATUS_EXIT */
} pkl_opts;

/* Run the program in file path.  Returns PK_STATUS_* (PK_STATUS_FAILED
   when a test failed, PK_STATUS_EXIT when it called (exit n), whatever n);
   on error the message is in pko_err.msg.  A top-level run stopped by an
   interrupt or a limit (pko_stop) prints the answers it had found, marked
   partial: in write syntax the list and " ; partial: REASON" on its line;
   in JSON {"run":K,"partial":[...],"stopped":"REASON"}, and with --stream
   {"run":K,"stopped":"REASON"} after the answers already written. */
int pkl_run_file(const char *path, pkl_opts *opts);
/* Run program text (named name in messages), same contract. */
int pkl_run_text(const char *name, const char *text, size_t len, pkl_opts *opts);

/* Compile one top-level datum with a program's static check: a static
   error at the first global it refers to that nothing defines. */
pke_node *pkl_compile_form(pk_val x, const pk_srcpos *pos);

/* Install the loader's hooks in the compiler and evaluator.  Once, at
   start (pki_init). */
void pkl_init(void);

#endif
