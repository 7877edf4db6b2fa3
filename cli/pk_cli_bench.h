/*
** pk_cli_bench.h — what the two files of `pkanren bench` share: child
** processes timed from outside, medians, the table's number formats and
** the --json record's head (all in pk_cli_bench.c), for the rewriting
** entries of pk_cli_benchrw.c.
*/
#ifndef PK_CLI_BENCH_H
#define PK_CLI_BENCH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { PKCLI_BENCH_OK = 0, PKCLI_BENCH_EXIT, PKCLI_BENCH_SIGNAL, PKCLI_BENCH_TIMEOUT, PKCLI_BENCH_SPAWN };

/* The most rounds --runs takes (the tables of runs are this long). */
#define PKCLI_BENCH_MAXRUNS 32

/* One child process as pkcli_bench_spawn saw it. */
typedef struct pkcli_bench_child {
  int status;      /* PKCLI_BENCH_OK, ... */
  int code;        /* exit code, signal or errno */
  double wall;     /* seconds, monotonic clock around fork/wait */
  long rss_kb;     /* wait4's ru_maxrss: the child's or a descendant's it waited for */
  char *out, *err; /* its stdout and stderr, malloc'd ("" when empty) */
} pkcli_bench_child;

/* What one `pkanren bench` tells the rewriting entries. */
typedef struct pkcli_bench_env {
  const char *tmpdir; /* scratch space, removed at the end */
  const char *date, *host, *model;
  long cpus;
  FILE *jf; /* --json, or NULL */
  int runs, nw;
  const int *ws; /* worker counts */
  double timeout;
} pkcli_bench_env;

/* A malloc'd printf. */
char *pkcli_bench_fmt(const char *fmt, ...);
/* s without its leading and trailing blanks (trailing ones cut in place). */
char *pkcli_bench_trim(char *s);
/* The next `;;! key: value` line of the text at *cur (cut in place; key
   and value trimmed), moving *cur past it; false at the end, which with
   stop_at_code is also the first line that is neither blank nor a
   comment (a program's header ends there). */
bool pkcli_bench_header_next(char **cur, bool stop_at_code, char **key, char **val);
/* name's position in order[0..n), or n when it is not there. */
int pkcli_bench_rank(const char *const *order, int n, const char *name);
/* Median of v[0..n) (sorted in place); -1 when n is 0. */
double pkcli_bench_median(double *v, int n);
bool pkcli_bench_is_file(const char *p);
bool pkcli_bench_is_dir(const char *p);
/* Remove p and everything under it (no error when it is absent). */
void pkcli_bench_rmtree(const char *p);
/* The source tree's bench directory (absolute when known), malloc'd. */
char *pkcli_bench_src_dir(void);
/* The pkanren binary children run: $PKANREN_BENCH_EXE or /proc/self/exe. */
const char *pkcli_bench_exe(void);
/* Run exe with argv in cwd (NULL: ours), env ("NAME=VALUE" strings,
   NULL-terminated, or NULL) added to ours, stdin /dev/null, stdout and
   stderr into files of tmpdir; kill it after timeout seconds (0: never)
   or on an interrupt. */
void pkcli_bench_spawn(const char *tmpdir, const char *exe, char *const argv[], const char *cwd, char *const env[],
                       double timeout, pkcli_bench_child *c);
/* A failed (or ok) child's status for the table, malloc'd. */
char *pkcli_bench_status_str(int status, int code);
/* The last 400 characters of err without its stats lines, on one line. */
char *pkcli_bench_err_tail(const char *err);
/* True once SIGINT or SIGTERM asked the bench to stop. */
bool pkcli_bench_stopped(void);
/* A rate with a k, M or G suffix; seconds with 3 or 2 decimals; "-" for
   a negative value. */
void pkcli_bench_fmt_rate(char *buf, size_t n, double x);
void pkcli_bench_fmt_secs(char *buf, size_t n, double x);
void pkcli_bench_put_json_string(FILE *f, const char *s);
/* x as a JSON number, null when negative (no value) or NaN. */
void pkcli_bench_put_json_num(FILE *f, double x);
void pkcli_bench_put_json_count(FILE *f, long long x);
/* The start of a --json record: date, commit, machine, name, workers. */
void pkcli_bench_json_head(const pkcli_bench_env *e, const char *name, int workers);

#endif
