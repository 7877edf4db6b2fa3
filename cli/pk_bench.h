/*
** pk_bench.h — `pkanren bench`: the benchmark suite of bench/programs (SPEC §8).
*/
#ifndef PK_BENCH_H
#define PK_BENCH_H

/* pkanren bench [NAME...] [options]: argv holds the arguments after the
** word "bench" (argc of them), like the other pkc_cmd_* commands.  Runs each
** program as a child process of this binary (/proc/self/exe run ...) at each
** worker count, prints a table, optionally appends JSON records to a
** history file.  Returns 0, 2 on a usage error, 130 when interrupted. */
int pkc_cmd_bench(int argc, char **argv);

#endif
