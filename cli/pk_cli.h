/*
** pk_cli.h — what the pkanren command's files share: option parsing, usage
** errors, the big-stack thread, and one entry point per command
** (pk_cli_NAME.c, called with the arguments after the command's name).
*/
#ifndef PK_CLI_H
#define PK_CLI_H
#include <stdbool.h>
#include <stddef.h>

/* Print "pkanren: msg" and the usage text to stderr; the usage status (2). */
int pkcli_usage(const char *msg, const char *usage);
/* Parse a decimal option argument into *out; false on junk or NULL. */
bool pkcli_long(const char *s, long *out);
/* Parse a byte count with an optional K/M/G/T suffix; 0 on error or
   overflow. */
size_t pkcli_bytes(const char *s);
/* A time limit in seconds from s into *out: positive, at most a year
   (larger ones overflow the nanosecond clocks); false on junk or NULL. */
bool pkcli_seconds(const char *s, double *out);
/* A worker count (-j, PKANREN_THREADS: what names it) from s into *out,
   1..PKT_MAX_WORKERS; false after printing a message naming the value. */
bool pkcli_workers(const char *what, const char *s, long *out);
/* The signal (SIGINT, SIGTERM, SIGHUP) that stopped the command, or 0;
   its exit status (128 + signal) and name. */
int pkcli_signal(void);
int pkcli_signal_status(void);
const char *pkcli_signal_name(void);
/* Forget the signal (the REPL goes on after Ctrl-C). */
void pkcli_forget_signal(void);
/* While on (reading and compiling: nothing to flush), a signal exits at
   once instead of stopping the search. */
void pkcli_quick_exit(bool on);
/* Run body(arg) on a thread whose stack holds the recursion budget, then
   end the process from that thread with status(arg), stdout flushed: the
   main thread, asleep in the join, is never woken (on a VM a sleeping
   thread's CPU is woken late, and the join was a few tenths of a
   millisecond of a short command). */
_Noreturn void pkcli_on_big_stack(void *(*body)(void *), void *arg, int (*status)(void *));
/* Monotonic seconds. */
double pkcli_now(void);

/* The commands: each returns the exit status. */
int pkcli_run(int argc, char **argv);
int pkcli_repl(int argc, char **argv);
/* pkanren rewrite --rules R --relation NAME MODELS... (SPEC §6). */
int pkcli_rewrite(int argc, char **argv);
/* pkanren bench [NAME...] [options]: runs each program, and each
   rewriting entry with its peer, as child processes of this binary
   (/proc/self/exe run ..., rewrite ...) at each worker count, prints the
   tables, optionally appends JSON records to a history file.  0, 1 when a
   run failed or answers differ, 2 on a usage error, 130 when interrupted. */
int pkcli_bench(int argc, char **argv);
/* pkanren print MODEL... [--latex] [--values]: models in mathematical
   notation; 0, or 2 on a usage error or a file that could not be read. */
int pkcli_print(int argc, char **argv);
/* pkanren verify --rules R --relation N [options] MODELS...: 0 every check
   passed, 1 one failed, 2 usage or input errors, 3 runtime errors. */
int pkcli_verify(int argc, char **argv);

#endif
