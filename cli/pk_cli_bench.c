/*
** pk_cli_bench.c — `pkanren bench`: runs the programs of bench/programs at
** several worker counts and reports wall time, answers/s, unifications/s,
** peak memory, idle time and speed-up (SPEC §8); then the rewriting entries
** of bench/rewrites (pk_cli_benchrw.c), through the child processes,
** medians and records this file shares with it (pk_cli_bench.h).
**
** Every measurement is a child process of this very binary:
**
**     /proc/self/exe run --unordered -j W --stats WRAPPER
**
** (the environment variable PKANREN_BENCH_EXE names another binary, e.g.
** when this one runs under valgrind, where /proc/self/exe is valgrind).
** WRAPPER is a file written into a temporary directory, like the one of
** bench/run_peers.py: it defines bench-full-check as #f and loads, by
** absolute path, the peer libraries the program needs (from --fmk DIR),
** _checksum.scm, our own helper libraries (_qinterp.scm, _arith.scm) and
** finally the program.  Wall time is taken around fork/wait with the
** monotonic clock (so it includes start-up; see the `empty` row), the peak
** RSS comes from wait4's rusage, and the unification count and per-worker
** idle times from the child's --stats lines on stderr.
**
** Checksums.  Programs end with (bench-report NAME ANSWERS).  Under
** --unordered the answers of a run* come in an order that depends on the
** scheduling, and _checksum.scm's sampled hash depends on the order, so for
** programs whose search is a run* the wrapper replaces bench-report by one
** that writes the count and then every answer on a line of its own; this
** harness hashes those lines as a multiset ("set=" + 16 hex digits).  That
** checksum must be identical at every worker count and in every run; a
** difference is marked MISMATCH.  For run N programs the set of answers may
** legitimately depend on the schedule, so only the answer count is compared
** there and the program's own report line is kept.
*/
#include "pk_cli.h"
#include "pk_cli_bench.h"
#include "pk_cli_benchrw.h"
#include "pk_init.h"
#include "pk_obj.h"
#include "pk_read.h"

#if defined(__has_include)
#if __has_include("pk_version.h")
#include "pk_version.h"
#endif
#endif

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PKCLI_BENCH_USAGE                                                           \
  "usage: pkanren bench [NAME...] [--runs R] [-j LIST] [--json FILE] [--dir DIR]\n" \
  "                     [--fmk DIR] [--quick] [--all] [--gated] [--timeout S]\n"    \
  "                     [--ordered] [--rewrites DIR] [--cache DIR]\n"               \
  "                     [--list] [--help]\n"

static const char *pkcli_bench_help =
    PKCLI_BENCH_USAGE "\n"
                      "Runs the benchmark programs of bench/programs (default: the default set,\n"
                      "or the NAMEs given) at each worker count, as child processes\n"
                      "`pkanren run --unordered -j W --stats` (worker counts alternate from run\n"
                      "to run), and prints per program and W the\n"
                      "median wall time, answers/s, unifications/s, peak RSS, mean worker idle\n"
                      "time and the speed-up against W=1.\n"
                      "\n"
                      "  NAME...          programs to run (bench/programs/NAME.scm), default ones or not\n"
                      "  --runs R         runs per program and worker count, median reported (default 3)\n"
                      "  --quick          one run each\n"
                      "  -j LIST          worker counts, comma-separated (default: 1 and the CPU count)\n"
                      "  --json FILE      append one JSON record per program and worker count to FILE\n"
                      "  --dir DIR        the programs directory (default: the source tree's bench/programs)\n"
                      "  --fmk DIR        a faster-miniKanren checkout, for programs that need\n"
                      "                   full-interp.scm or numbers.scm (skipped without it)\n"
                      "  --all            include programs marked `;;! default: no`\n"
                      "  --gated          only programs marked `;;! gated: yes`\n"
                      "  --timeout S      seconds per run before it is killed (default 600, 0 = none)\n"
                      "  --ordered        run in the default order (workers force ahead of the\n"
                      "                   one-worker search) instead of --unordered\n"
                      "  --rewrites DIR   the rewriting entries (default: the source tree's bench/rewrites)\n"
                      "  --cache DIR      their generated inputs (default: $TMPDIR/pkanren-bench-cache)\n"
                      "  --list           list the programs and the rewriting entries and exit\n"
                      "\n"
                      "The children are /proc/self/exe (or $PKANREN_BENCH_EXE) run --unordered\n"
                      "-j W --stats WRAPPER, where WRAPPER loads the helper files and the program.\n"
                      "\n"
                      "Columns: `wall s` median wall seconds of the whole child process;\n"
                      "`answers/s` answers (from the report line) over that time; `unif/s` the\n"
                      "median unification rate of --stats; `peak MB` the largest peak RSS over\n"
                      "the runs; `idle %` the mean idle share of the workers (- on one worker);\n"
                      "`speed-up` wall(W=1) / wall(W);\n"
                      "`check` ok when the checksum (run* programs: the multiset of answers; run N\n"
                      "programs: the answer count) is the same in every run at every W,\n"
                      "MISMATCH otherwise.\n"
                      "\n"
                      "Rewriting entries (bench/rewrites/NAME.bench, see bench/README.md) run\n"
                      "`pkanren rewrite -j W --stats ...` or `pkanren run -j W --stats FILE` on\n"
                      "generated inputs, alternating with a peer (Maude, Python kanren), and have\n"
                      "a table of their own: `wall s` the whole process, `phase s` the rewriting\n"
                      "phase of --stats (a run: its in-process time over the reps=N it prints),\n"
                      "`rewrites`, `rewr/s` rewrites over the phase, `models/s` models over the\n"
                      "whole process, `peak MB`, `wall x` and `phase x` the speed-ups against W=1,\n"
                      "`rerun s` the same command again over the finished output, `rerun/1` its\n"
                      "share of the first run; then the peer's row and the ratios against it,\n"
                      "printed only when the peer found pkanren's answer.\n";

/* Preferred order; programs not listed come afterwards, alphabetically. */
static const char *const pkcli_bench_order[] = {
  "empty",
  "appendo-split",
  "appendo-forward-10k",
  "appendo-forward-20k",
  "appendo-forward-40k",
  "nrev30x1000",
  "zebra",
  "perm8-diseq",
  "factors-720",
  "factors-720-own",
  "quines-1",
  "quines-10",
  "quines-100",
  "twines-2",
  "thrines-4",
  "qi-quines-1",
  "qi-quines-10",
  "qi-quines-100",
  "qi-twines-2",
  "qi-thrines-4",
  "qs-thrines-565",
  "evalo-1000",
  "append-synthesis",
  "long-loop-2M",
  "long-loop-8M",
};

/* `;;! needs:` words naming faster-miniKanren's files (from --fmk); any
   other word foo names our own helper DIR/_foo.scm. */
static const struct {
  const char *need, *file;
} pkcli_bench_peer_libs[] = {
  { "full-interp", "full-interp.scm" },
  { "numbers", "numbers.scm" },
};
#define PKCLI_BENCH_NPEER_LIBS (sizeof pkcli_bench_peer_libs / sizeof pkcli_bench_peer_libs[0])

#define PKCLI_BENCH_MAX_NEEDS 8
#define PKCLI_BENCH_MAX_W 64

typedef struct pkcli_bench_prog {
  char *name;
  char *about;
  char *needs[PKCLI_BENCH_MAX_NEEDS];
  int nneeds;
  bool gated, def, runstar;
  int rank;         /* position in pkcli_bench_order, or past its end */
  const char *skip; /* why it is not run, or NULL */
} pkcli_bench_prog;

/* One run of one program at one worker count. */
typedef struct pkcli_bench_run {
  int status;  /* 0 ok, else see pkcli_bench_status_str */
  int code;    /* exit code or signal */
  double wall; /* seconds, monotonic clock around the child */
  long rss_kb; /* wait4 ru_maxrss */
  bool has_stats;
  double stats_wall;
  unsigned long long unifs;
  double unif_rate;
  double idle_pct; /* mean over workers, < 0 when no worker lines */
  int nworkers_seen;
  long answers;   /* from "answers=N", -1 if absent */
  char *checksum; /* normalised output */
  char *err_tail; /* last part of stderr on failure */
} pkcli_bench_run;

/* The summary of one (program, W). */
typedef struct pkcli_bench_cell {
  int w;
  int nruns;
  pkcli_bench_run runs[PKCLI_BENCH_MAXRUNS];
  bool failed;
  double wall, unif_rate, idle_pct, stats_wall;
  unsigned long long unifs;
  long rss_kb, answers;
  const char *check; /* "ok", "MISMATCH", "varies", "-" */
} pkcli_bench_cell;

static volatile sig_atomic_t pkcli_bench_interrupted;
static pid_t pkcli_bench_pid = -1;

/* SIGINT/SIGTERM: stop after the running child, which is killed now. */
static void pkcli_bench_on_sigint(int sig)
{
  (void)sig;
  pkcli_bench_interrupted = 1;
  if (pkcli_bench_pid > 0) kill(-pkcli_bench_pid, SIGKILL);
}

bool pkcli_bench_stopped(void) { return pkcli_bench_interrupted != 0; }

/* ---- small helpers --------------------------------------------------------------- */

/* A malloc'd printf. */
char *pkcli_bench_fmt(const char *fmt, ...)
{
  va_list ap, aq;
  va_start(ap, fmt);
  va_copy(aq, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = pko_xmalloc((size_t)n + 1);
  vsnprintf(s, (size_t)n + 1, fmt, aq);
  va_end(aq);
  return s;
}

/* The usage error: message and synopsis on stderr, status 2. */
static int pkcli_bench_usage(const char *msg)
{
  fprintf(stderr, "pkanren bench: %s\n%s", msg, PKCLI_BENCH_USAGE);
  return 2;
}

/* Monotonic seconds. */
static double pkcli_bench_now(void) { return (double)pko_now_ns() * 1e-9; }

/* qsort order of doubles. */
static int pkcli_bench_cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of v[0..n) (sorted in place); -1 when n is 0. */
double pkcli_bench_median(double *v, int n)
{
  if (n <= 0) return -1;
  qsort(v, (size_t)n, sizeof *v, pkcli_bench_cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* p names a directory (after symlinks). */
bool pkcli_bench_is_dir(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* p names a regular file (after symlinks). */
bool pkcli_bench_is_file(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The source tree's bench directory: <directory of this source
   file>/../bench. */
char *pkcli_bench_src_dir(void)
{
  const char *f = __FILE__;
  const char *slash = strrchr(f, '/');
  if (f[0] != '/' || !slash) return pko_xstrdup("bench");
  return pkcli_bench_fmt("%.*s/../bench", (int)(slash - f), f);
}

/* The canonical absolute path of p (malloc'd), or a copy of p. */
static char *pkcli_bench_abspath(const char *p)
{
  char buf[PATH_MAX];
  if (realpath(p, buf)) return pko_xstrdup(buf);
  return pko_xstrdup(p);
}

/* CPUs this process may run on (its affinity mask), at least 1. */
static int pkcli_bench_cpu_count(void)
{
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

/* The CPU's model name from /proc/cpuinfo (malloc'd), or "unknown". */
static char *pkcli_bench_cpu_model(void)
{
  FILE *f = fopen("/proc/cpuinfo", "r");
  char line[1024];
  if (f) {
    while (fgets(line, sizeof line, f)) {
      if (!strncmp(line, "model name", 10)) {
        char *c = strchr(line, ':');
        if (!c) continue;
        c++;
        while (*c == ' ' || *c == '\t') c++;
        size_t n = strlen(c);
        while (n && (c[n - 1] == '\n' || c[n - 1] == ' ')) c[--n] = 0;
        fclose(f);
        return pko_xstrdup(c);
      }
    }
    fclose(f);
  }
  return pko_xstrdup("unknown");
}

/* The git commit the binary was built from, or "unknown". */
static const char *pkcli_bench_commit(void)
{
#ifdef PK_GIT_COMMIT
  if (PK_GIT_COMMIT[0]) return PK_GIT_COMMIT;
#endif
  return "unknown";
}

/* Scheme string literal for a path. */
static void pkcli_bench_put_scheme_string(FILE *f, const char *s)
{
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

/* s as a JSON string literal. */
void pkcli_bench_put_json_string(FILE *f, const char *s)
{
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", f); break;
    case '\\': fputs("\\\\", f); break;
    case '\n': fputs("\\n", f); break;
    case '\t': fputs("\\t", f); break;
    case '\r': fputs("\\r", f); break;
    default:
      if (*p < 0x20)
        fprintf(f, "\\u%04x", *p);
      else
        fputc(*p, f);
    }
  }
  fputc('"', f);
}

/* x as a JSON number, null when negative (no value) or NaN. */
void pkcli_bench_put_json_num(FILE *f, double x)
{
  if (x < 0 || x != x)
    fputs("null", f);
  else
    fprintf(f, "%.6g", x);
}

/* A count as a JSON integer (every digit), null when negative (no value). */
void pkcli_bench_put_json_count(FILE *f, long long x)
{
  if (x < 0)
    fputs("null", f);
  else
    fprintf(f, "%lld", x);
}

/* ---- programs ------------------------------------------------------------------------- */

char *pkcli_bench_trim(char *s)
{
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  return s;
}

/* True if the text holds a `(run*` form and no `(run N` form. */
static bool pkcli_bench_is_runstar(const char *text)
{
  bool star = false;
  for (const char *p = text; (p = strstr(p, "(run")); p += 4) {
    const char *q = p + 4;
    if (*q == '*')
      star = true;
    else if (isspace((unsigned char)*q))
      return false;
  }
  return star;
}

bool pkcli_bench_header_next(char **cur, bool stop_at_code, char **key, char **val)
{
  for (char *line = *cur; line && *line; line = *cur) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    *cur = nl ? nl + 1 : NULL;
    char *colon = strncmp(line, ";;!", 3) ? NULL : strchr(line + 3, ':');
    if (colon) {
      *colon = 0;
      *key = pkcli_bench_trim(line + 3);
      *val = pkcli_bench_trim(colon + 1);
      return true;
    }
    if (stop_at_code && *pkcli_bench_trim(line) && line[0] != ';') break;
  }
  *cur = NULL;
  return false;
}

int pkcli_bench_rank(const char *const *order, int n, const char *name)
{
  for (int i = 0; i < n; i++)
    if (!strcmp(order[i], name)) return i;
  return n;
}

/* Program dir/fname into *pg: its name, its `;;!` header (needs, about,
   default, gated) and whether it is a run* search; false if unreadable. */
static bool pkcli_bench_load_prog(const char *dir, const char *fname, pkcli_bench_prog *pg)
{
  char *path = pkcli_bench_fmt("%s/%s", dir, fname);
  char *text = pkr_slurp(path, NULL);
  free(path);
  if (!text) return false;
  memset(pg, 0, sizeof *pg);
  pg->name = pkcli_bench_fmt("%.*s", (int)(strlen(fname) - 4), fname);
  pg->about = pko_xstrdup("");
  pg->def = true;
  pg->runstar = pkcli_bench_is_runstar(text); /* before the header parse cuts the text */
  char *key, *val;
  for (char *cur = text; pkcli_bench_header_next(&cur, true, &key, &val);) {
    if (!strcmp(key, "needs")) {
      for (char *w = strtok(val, " \t,"); w && pg->nneeds < PKCLI_BENCH_MAX_NEEDS; w = strtok(NULL, " \t,"))
        pg->needs[pg->nneeds++] = pko_xstrdup(w);
    } else if (!strcmp(key, "about")) {
      free(pg->about);
      pg->about = pko_xstrdup(val);
    } else if (!strcmp(key, "default")) {
      pg->def = strncasecmp(val, "no", 2) != 0;
    } else if (!strcmp(key, "gated")) {
      pg->gated = strncasecmp(val, "yes", 3) == 0;
    }
  }
  free(text);
  pg->rank =
      pkcli_bench_rank(pkcli_bench_order, (int)(sizeof pkcli_bench_order / sizeof pkcli_bench_order[0]), pg->name);
  return true;
}

/* qsort order of programs: pkcli_bench_order, then by name. */
static int pkcli_bench_cmp_prog(const void *a, const void *b)
{
  const pkcli_bench_prog *x = a, *y = b;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* The programs of dir (NAME.scm, not _helpers), sorted; NULL if dir
   cannot be read. */
static pkcli_bench_prog *pkcli_bench_discover(const char *dir, int *count)
{
  DIR *d = opendir(dir);
  if (!d) return NULL;
  int cap = 32, n = 0;
  pkcli_bench_prog *v = pko_xmalloc(sizeof *v * (size_t)cap);
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (e->d_name[0] == '_' || e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".scm")) continue;
    if (n == cap) {
      cap *= 2;
      v = pko_xrealloc(v, sizeof *v * (size_t)cap);
    }
    if (pkcli_bench_load_prog(dir, e->d_name, &v[n])) n++;
  }
  closedir(d);
  qsort(v, (size_t)n, sizeof *v, pkcli_bench_cmp_prog);
  *count = n;
  return v;
}

/* The file of need w, to free: a peer library under fmk (*peer; NULL when
   there is no fmk) or our own dir/_w.scm. */
static char *pkcli_bench_need_path(const char *w, const char *dir, const char *fmk, bool *peer)
{
  for (size_t k = 0; k < PKCLI_BENCH_NPEER_LIBS; k++)
    if (!strcmp(pkcli_bench_peer_libs[k].need, w)) {
      *peer = true;
      return fmk ? pkcli_bench_fmt("%s/%s", fmk, pkcli_bench_peer_libs[k].file) : NULL;
    }
  *peer = false;
  return pkcli_bench_fmt("%s/_%s.scm", dir, w);
}

/* Why pg cannot run with these directories, or NULL. */
static const char *pkcli_bench_unmet(const pkcli_bench_prog *pg, const char *dir, const char *fmk)
{
  static char why[512];
  for (int i = 0; i < pg->nneeds; i++) {
    bool peer;
    char *p = pkcli_bench_need_path(pg->needs[i], dir, fmk, &peer);
    if (!p) {
      snprintf(why, sizeof why, "needs %s (a faster-miniKanren library): use --fmk DIR", pg->needs[i]);
      return why;
    }
    bool ok = pkcli_bench_is_file(p);
    if (!ok) snprintf(why, sizeof why, "%s is missing", p);
    free(p);
    if (!ok) return why;
  }
  return NULL;
}

/* Write the wrapper of pg into tmpdir; returns its path or NULL. */
static char *pkcli_bench_write_wrapper(const char *tmpdir, const pkcli_bench_prog *pg, const char *dir, const char *fmk)
{
  char *path = pkcli_bench_fmt("%s/%s.scm", tmpdir, pg->name);
  FILE *f = fopen(path, "w");
  if (!f) {
    free(path);
    return NULL;
  }
  fprintf(f, ";; generated by pkanren bench for %s\n", pg->name);
  fputs("(define bench-full-check #f)\n", f);
  char *loads[2 * PKCLI_BENCH_MAX_NEEDS + 4];
  int n = 0;
  if (fmk) {
    /* As in bench/run_peers.py; pkanren treats these two as no-ops. */
    loads[n++] = pkcli_bench_fmt("%s/mk-vicare.scm", fmk);
    loads[n++] = pkcli_bench_fmt("%s/mk.scm", fmk);
  }
  bool peer;
  for (int i = 0; i < pg->nneeds; i++) { /* peer libraries */
    char *p = pkcli_bench_need_path(pg->needs[i], dir, fmk, &peer);
    if (peer && p)
      loads[n++] = p;
    else
      free(p);
  }
  loads[n++] = pkcli_bench_fmt("%s/_checksum.scm", dir);
  for (int i = 0; i < pg->nneeds; i++) { /* our own helpers */
    char *p = pkcli_bench_need_path(pg->needs[i], dir, fmk, &peer);
    if (!peer)
      loads[n++] = p;
    else
      free(p);
  }
  for (int i = 0; i < n; i++) {
    fputs("(load ", f);
    pkcli_bench_put_scheme_string(f, loads[i]);
    fputs(")\n", f);
    free(loads[i]);
  }
  if (pg->runstar) {
    /* Order-independent checksum: every answer on its own line, hashed as a
    ** multiset by the harness (the sampled hash depends on the order). */
    fputs(";; run* program: the harness hashes the answer lines as a multiset\n"
          "(define (bench-report name answers)\n"
          "  (display name)\n"
          "  (display \" answers=\")\n"
          "  (display (length answers))\n"
          "  (newline)\n"
          "  (for-each (lambda (a) (display \"\\t\") (write a) (newline)) answers))\n",
          f);
  }
  fputs("(load ", f);
  char *prog = pkcli_bench_fmt("%s/%s.scm", dir, pg->name);
  pkcli_bench_put_scheme_string(f, prog);
  free(prog);
  fputs(")\n", f);
  if (fclose(f) != 0) {
    free(path);
    return NULL;
  }
  return path;
}

/* ---- one run ------------------------------------------------------------------------------ */

/* Normalise the child's stdout: report lines are kept (joined by " | "),
** answer lines (starting with a tab) are hashed as a multiset. */
static char *pkcli_bench_checksum(const char *out, bool multiset, long *answers)
{
  uint64_t sum = 0;
  unsigned long long nlines = 0;
  size_t cap = 256, len = 0;
  char *rep = pko_xmalloc(cap);
  rep[0] = 0;
  *answers = -1;
  for (const char *p = out; *p;) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (*p == '\t') {
      uint64_t h = pko_fnv(PKO_FNV0, p + 1, n - 1);
      sum += pko_rand64(&h); /* splitmix64's mix of h + its increment */
      nlines++;
    } else if (n) {
      const char *a = strstr(p, "answers=");
      if (a && a < p + n) *answers = strtol(a + 8, NULL, 10);
      while (len + n + 4 >= cap) rep = pko_xrealloc(rep, cap *= 2);
      if (len) {
        memcpy(rep + len, " | ", 3);
        len += 3;
      }
      memcpy(rep + len, p, n);
      len += n;
      rep[len] = 0;
    }
    p = e ? e + 1 : p + n;
  }
  if (multiset) {
    char *r = pkcli_bench_fmt("%s set=%016llx", rep, (unsigned long long)sum);
    free(rep);
    return r;
  }
  return rep;
}

/* The child's --stats lines on stderr: unifications, rate, search wall
   time and the mean idle share of the workers. */
static void pkcli_bench_parse_stats(const char *err, pkcli_bench_run *r)
{
  double idle_sum = 0;
  int nw = 0;
  for (const char *p = err; p && *p;) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    char line[1024];
    if (n >= sizeof line) n = sizeof line - 1;
    memcpy(line, p, n);
    line[n] = 0;
    unsigned long long ans, u;
    double wall, rate;
    if (sscanf(line, "stats: answers printed %llu, wall %lf s, unifications %llu (%lf/s)", &ans, &wall, &u, &rate) ==
        4) {
      r->has_stats = true;
      r->stats_wall = wall;
      r->unifs = u;
      r->unif_rate = rate;
    } else if (!strncmp(line, "stats: worker ", 14)) {
      const char *paren = strrchr(line, '(');
      double pct;
      if (paren && strstr(line, "idle") && sscanf(paren, "(%lf%%)", &pct) == 1) {
        idle_sum += pct;
        nw++;
      }
    }
    p = e ? e + 1 : NULL;
  }
  r->nworkers_seen = nw;
  r->idle_pct = nw ? idle_sum / nw : -1;
}

/* A pidfd for pid (readable when it exits), or -1 where unsupported. */
static int pkcli_bench_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
  return (int)syscall(SYS_pidfd_open, pid, 0);
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

/* --ordered: children run in the default order (speculation) instead. */
static bool pkcli_bench_ordered;

/* The path of this binary for the children. */
const char *pkcli_bench_exe(void)
{
  const char *exe = getenv("PKANREN_BENCH_EXE");
  return exe && *exe ? exe : "/proc/self/exe";
}

/* The child's side of pkcli_bench_spawn: its own process group (a timeout
   kills its children too), the files, the environment, exec. */
static void pkcli_bench_exec(const char *outp, const char *errp, const char *exe, char *const argv[], const char *cwd,
                             char *const env[])
{
  setpgid(0, 0);
  int in = open("/dev/null", O_RDONLY);
  int out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (in < 0 || out < 0 || err < 0 || (cwd && chdir(cwd) != 0)) _exit(127);
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  for (int i = 0; env && env[i]; i++) putenv(env[i]);
  execv(exe, argv);
  _exit(127);
}

/* Wait for pid, killing its group after timeout seconds (0: never) or on
   an interrupt; its wait status and rusage; true if it timed out. */
static bool pkcli_bench_wait(pid_t pid, double t0, double timeout, int *st, struct rusage *ru)
{
  bool timed_out = false;
  int pfd = pkcli_bench_pidfd_open(pid);
  for (;;) {
    pid_t got = wait4(pid, st, WNOHANG, ru);
    if (got == pid) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pkcli_bench_interrupted) kill(-pid, SIGKILL);
    double left = timeout > 0 ? timeout - (pkcli_bench_now() - t0) : -1;
    if (timeout > 0 && left <= 0) {
      if (!timed_out) kill(-pid, SIGKILL);
      timed_out = true;
      left = 1;
    }
    if (pfd >= 0) {
      /* Sleep until the child exits (the pidfd becomes readable). */
      struct pollfd pf = { pfd, POLLIN, 0 };
      poll(&pf, 1, left < 0 ? -1 : left > 3600 ? 3600 * 1000 : (int)(left * 1000) + 1);
    } else {
      struct timespec ts = { 0, 1000 * 1000 };
      nanosleep(&ts, NULL);
    }
  }
  if (pfd >= 0) close(pfd);
  return timed_out;
}

void pkcli_bench_spawn(const char *tmpdir, const char *exe, char *const argv[], const char *cwd, char *const env[],
                       double timeout, pkcli_bench_child *c)
{
  memset(c, 0, sizeof *c);
  char *outp = pkcli_bench_fmt("%s/stdout", tmpdir), *errp = pkcli_bench_fmt("%s/stderr", tmpdir);
  fflush(stdout);
  fflush(stderr);
  double t0 = pkcli_bench_now();
  pid_t pid = fork();
  if (pid == 0) pkcli_bench_exec(outp, errp, exe, argv, cwd, env);
  if (pid < 0) {
    c->status = PKCLI_BENCH_SPAWN;
    c->code = errno;
  } else {
    setpgid(pid, pid); /* as the child does: no window where a kill of the group misses it */
    pkcli_bench_pid = pid;
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    bool timed_out = pkcli_bench_wait(pid, t0, timeout, &st, &ru);
    c->wall = pkcli_bench_now() - t0;
    pkcli_bench_pid = -1;
    c->rss_kb = ru.ru_maxrss;
    if (timed_out)
      c->status = PKCLI_BENCH_TIMEOUT;
    else if (WIFSIGNALED(st)) {
      c->status = PKCLI_BENCH_SIGNAL;
      c->code = WTERMSIG(st);
    } else if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
      c->status = PKCLI_BENCH_EXIT;
      c->code = WEXITSTATUS(st);
    }
  }
  c->out = pkr_slurp(outp, NULL);
  c->err = pkr_slurp(errp, NULL);
  if (!c->out) c->out = pko_xstrdup("");
  if (!c->err) c->err = pko_xstrdup("");
  unlink(outp);
  unlink(errp);
  free(outp);
  free(errp);
}

char *pkcli_bench_err_tail(const char *err)
{
  size_t n = 0;
  char *buf = pko_xmalloc(3 * strlen(err) + 1);
  for (const char *p = err, *e; p && *p; p = e ? e + 1 : NULL) {
    e = strchr(p, '\n');
    size_t k = e ? (size_t)(e - p) : strlen(p);
    if (!k || !strncmp(p, "stats: ", 7)) continue;
    if (n) {
      memcpy(buf + n, " / ", 3);
      n += 3;
    }
    memcpy(buf + n, p, k);
    n += k;
  }
  buf[n] = 0;
  char *tail = pko_xstrdup(n > 400 ? buf + n - 400 : buf);
  free(buf);
  return tail;
}

/* One child run of wrapper on w workers into *r: wall time around
   fork/wait, peak RSS, exit status, stats, checksum of stdout, and the
   tail of stderr when it failed. */
static void pkcli_bench_run_once(const char *tmpdir, const char *wrapper, int w, double timeout, bool multiset,
                                 pkcli_bench_run *r)
{
  memset(r, 0, sizeof *r);
  r->idle_pct = -1;
  char wbuf[32];
  snprintf(wbuf, sizeof wbuf, "%d", w);
  char *args[] = { "pkanren", "run", "-j", wbuf, "--stats", (char *)wrapper, "--unordered", NULL };
  if (pkcli_bench_ordered) args[6] = NULL;
  pkcli_bench_child c;
  pkcli_bench_spawn(tmpdir, pkcli_bench_exe(), args, NULL, NULL, timeout, &c);
  r->status = c.status;
  r->code = c.code;
  r->wall = c.wall;
  r->rss_kb = c.rss_kb;
  pkcli_bench_parse_stats(c.err, r);
  r->checksum = pkcli_bench_checksum(c.out, multiset, &r->answers);
  if (r->status != PKCLI_BENCH_OK) r->err_tail = pkcli_bench_err_tail(c.err);
  free(c.out);
  free(c.err);
}

char *pkcli_bench_status_str(int status, int code)
{
  switch (status) {
  case PKCLI_BENCH_OK: return pko_xstrdup("ok");
  case PKCLI_BENCH_EXIT: return pkcli_bench_fmt("CRASH(rc=%d)", code);
  case PKCLI_BENCH_SIGNAL: return pkcli_bench_fmt("CRASH(signal %d)", code);
  case PKCLI_BENCH_TIMEOUT: return pko_xstrdup("TIMEOUT");
  default: return pkcli_bench_fmt("SPAWN FAILED(%s)", strerror(code));
  }
}

/* ---- the table -------------------------------------------------------------------------- */

/* A rate with a k, M or G suffix; "-" for none. */
void pkcli_bench_fmt_rate(char *buf, size_t n, double x)
{
  if (x < 0)
    snprintf(buf, n, "-");
  else if (x >= 1e9)
    snprintf(buf, n, "%.2fG", x / 1e9);
  else if (x >= 1e6)
    snprintf(buf, n, "%.2fM", x / 1e6);
  else if (x >= 1e4)
    snprintf(buf, n, "%.1fk", x / 1e3);
  else
    snprintf(buf, n, "%.1f", x);
}

/* Seconds with 3 decimals below 10 s, else 2; "-" for none. */
void pkcli_bench_fmt_secs(char *buf, size_t n, double x)
{
  if (x < 0)
    snprintf(buf, n, "-");
  else if (x < 10)
    snprintf(buf, n, "%.3f", x);
  else
    snprintf(buf, n, "%.2f", x);
}

#define PKCLI_BENCH_ROW "%-20s %3s %9s %10s %9s %8s %6s %8s  %s\n"

/* Medians over the ok runs of a cell, the largest peak RSS over all. */
static void pkcli_bench_summarise(pkcli_bench_cell *c)
{
  double walls[PKCLI_BENCH_MAXRUNS], rates[PKCLI_BENCH_MAXRUNS], idles[PKCLI_BENCH_MAXRUNS],
      swalls[PKCLI_BENCH_MAXRUNS];
  int n = 0, ni = 0;
  c->rss_kb = 0;
  c->answers = -1;
  c->unifs = 0;
  for (int i = 0; i < c->nruns; i++) {
    pkcli_bench_run *r = &c->runs[i];
    if (r->rss_kb > c->rss_kb) c->rss_kb = r->rss_kb;
    if (r->status != PKCLI_BENCH_OK) {
      c->failed = true;
      continue;
    }
    walls[n] = r->wall;
    rates[n] = r->has_stats ? r->unif_rate : -1;
    swalls[n] = r->has_stats ? r->stats_wall : -1;
    if (r->unifs > c->unifs) c->unifs = r->unifs;
    n++;
    if (r->idle_pct >= 0) idles[ni++] = r->idle_pct;
    if (r->answers >= 0) c->answers = r->answers;
  }
  c->wall = n ? pkcli_bench_median(walls, n) : -1;
  c->unif_rate = n ? pkcli_bench_median(rates, n) : -1;
  c->stats_wall = n ? pkcli_bench_median(swalls, n) : -1;
  c->idle_pct = ni ? pkcli_bench_median(idles, ni) : -1;
}

/* ---- the command ---------------------------------------------------------------------- */

/* nftw's visit of pkcli_bench_rmtree: children first. */
static int pkcli_bench_rm1(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  if (flag == FTW_DP)
    rmdir(p);
  else
    unlink(p);
  return 0;
}

void pkcli_bench_rmtree(const char *p) { nftw(p, pkcli_bench_rm1, 16, FTW_DEPTH | FTW_PHYS); }

/* -j LIST: distinct worker counts 1..4096, comma-separated; false if
   malformed. */
static bool pkcli_bench_parse_jlist(const char *s, int *ws, int *nw)
{
  *nw = 0;
  if (!s || !*s) return false;
  while (*s) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v < 1 || v > 4096 || *nw >= PKCLI_BENCH_MAX_W) return false;
    bool dup = false;
    for (int i = 0; i < *nw; i++) dup |= ws[i] == (int)v;
    if (!dup) ws[(*nw)++] = (int)v;
    if (*end == ',')
      end++;
    else if (*end)
      return false;
    s = end;
  }
  return *nw > 0;
}

/* The command line, parsed. */
typedef struct pkcli_bench_opts {
  const char *json, *dir, *fmk, *rwdir, *cache;
  const char **names; /* the NAMEs given, nnames of them */
  int nnames, runs;
  bool all, gated, list;
  double timeout;
  int ws[PKCLI_BENCH_MAX_W], nw; /* worker counts */
} pkcli_bench_opts;

/* Everything one `pkanren bench` holds, released by pkcli_bench_close. */
typedef struct pkcli_bench_session {
  char *dir, *fmk, *model; /* absolute programs and fmk directories */
  char *cache;             /* generated inputs of the rewriting entries */
  char *bench, *rwdir;     /* the source tree's bench/ and the rewriting entries' directory */
  pkcli_bench_prog *progs;
  pkcli_benchrw_entry *rws; /* the rewriting entries */
  int nprog, nrw, ncpu;
  bool *sel, *rwsel; /* progs[p], rws[r] are to run */
  pkcli_bench_env env;
  pkcli_benchrw_tally tally;
  FILE *jf; /* --json history, appended to */
  char tmpl[4096];
  const char *tmpdir; /* the wrappers and the children's output */
  char host[256], date[64];
  long online;
  int nskipped, nmismatch, nfailed;
} pkcli_bench_session;

/* Parse argv into o; -1 to go on, else the exit status (0 after --help,
   2 on a usage error).  o->names is malloc'd in every case. */
static int pkcli_bench_parse(int argc, char **argv, pkcli_bench_opts *o, int ncpu)
{
  memset(o, 0, sizeof *o);
  o->runs = 3;
  o->timeout = 600;
  o->names = pko_xmalloc(sizeof *o->names * (size_t)(argc + 1));
  const char *jlist = NULL;
  bool quick = false;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(pkcli_bench_help, stdout);
      return 0;
    } else if (!strcmp(a, "--json")) {
      if (!v) return pkcli_bench_usage("--json needs a FILE");
      o->json = v;
      i++;
    } else if (!strcmp(a, "--dir")) {
      if (!v) return pkcli_bench_usage("--dir needs a DIR");
      o->dir = v;
      i++;
    } else if (!strcmp(a, "--rewrites")) {
      if (!v) return pkcli_bench_usage("--rewrites needs a DIR");
      o->rwdir = v;
      i++;
    } else if (!strcmp(a, "--cache")) {
      if (!v) return pkcli_bench_usage("--cache needs a DIR");
      o->cache = v;
      i++;
    } else if (!strcmp(a, "--fmk")) {
      if (!v) return pkcli_bench_usage("--fmk needs a DIR");
      o->fmk = v;
      i++;
    } else if (!strcmp(a, "--runs")) {
      long n = v ? strtol(v, &end, 10) : 0;
      if (!v || *end || n < 1 || n > PKCLI_BENCH_MAXRUNS) {
        char m[64];
        snprintf(m, sizeof m, "--runs needs a number from 1 to %d", PKCLI_BENCH_MAXRUNS);
        return pkcli_bench_usage(m);
      }
      o->runs = (int)n;
      i++;
    } else if (!strcmp(a, "--timeout")) {
      double t = v ? strtod(v, &end) : -1;
      if (!v || *end || t < 0) return pkcli_bench_usage("--timeout needs a number of seconds");
      o->timeout = t;
      i++;
    } else if (!strcmp(a, "-j")) {
      if (!v) return pkcli_bench_usage("-j needs a LIST such as 1,2,4");
      jlist = v;
      i++;
    } else if (!strncmp(a, "-j", 2) && a[2])
      jlist = a + 2;
    else if (!strcmp(a, "--quick"))
      quick = true;
    else if (!strcmp(a, "--ordered"))
      pkcli_bench_ordered = true;
    else if (!strcmp(a, "--all"))
      o->all = true;
    else if (!strcmp(a, "--gated"))
      o->gated = true;
    else if (!strcmp(a, "--list"))
      o->list = true;
    else if (a[0] == '-' && a[1]) {
      char msg[256];
      snprintf(msg, sizeof msg, "unknown option '%.200s'", a);
      return pkcli_bench_usage(msg);
    } else
      o->names[o->nnames++] = a;
  }
  if (quick) o->runs = 1;
  if (jlist) {
    if (!pkcli_bench_parse_jlist(jlist, o->ws, &o->nw))
      return pkcli_bench_usage("-j needs a comma-separated list of positive worker counts");
  } else {
    o->ws[o->nw++] = 1;
    if (ncpu > 1) o->ws[o->nw++] = ncpu;
  }
  return -1;
}

/* The rewriting entries (--rewrites DIR, else bench/rewrites if it
   exists); 0, or 2 after the error message. */
static int pkcli_bench_open_rw(const pkcli_bench_opts *o, pkcli_bench_session *s)
{
  char *dir = o->rwdir ? pko_xstrdup(o->rwdir) : pkcli_bench_fmt("%s/rewrites", s->bench);
  if (!pkcli_bench_is_dir(dir)) {
    if (o->rwdir) fprintf(stderr, "pkanren bench: --rewrites %s is not a directory\n", dir);
    free(dir);
    return o->rwdir ? 2 : 0;
  }
  s->rwdir = pkcli_bench_abspath(dir);
  free(dir);
  s->rws = pkcli_benchrw_discover(s->rwdir, s->bench, &s->nrw);
  return 0;
}

/* The programs and fmk directories, the programs in them and what each
   lacks, and the rewriting entries; 0, or 2 after the error message. */
static int pkcli_bench_open(const pkcli_bench_opts *o, pkcli_bench_session *s)
{
  char *src = pkcli_bench_src_dir();
  s->bench = pkcli_bench_abspath(src);
  free(src);
  char *dir = o->dir ? pko_xstrdup(o->dir) : pkcli_bench_fmt("%s/programs", s->bench);
  if (!pkcli_bench_is_dir(dir)) {
    fprintf(stderr, "pkanren bench: no programs directory %s (use --dir DIR)\n", dir);
    free(dir);
    return 2;
  }
  s->dir = pkcli_bench_abspath(dir);
  free(dir);
  if (o->fmk) {
    if (!pkcli_bench_is_dir(o->fmk)) {
      fprintf(stderr, "pkanren bench: --fmk %s is not a directory\n", o->fmk);
      return 2;
    }
    s->fmk = pkcli_bench_abspath(o->fmk);
  }
  s->progs = pkcli_bench_discover(s->dir, &s->nprog);
  if (!s->progs) {
    fprintf(stderr, "pkanren bench: cannot read %s\n", s->dir);
    return 2;
  }
  for (int p = 0; p < s->nprog; p++) {
    const char *why = pkcli_bench_unmet(&s->progs[p], s->dir, s->fmk);
    s->progs[p].skip = why ? pko_xstrdup(why) : NULL;
  }
  return pkcli_bench_open_rw(o, s);
}

/* --list: every program, its marks and what it lacks. */
static void pkcli_bench_list(const pkcli_bench_session *s)
{
  for (int p = 0; p < s->nprog; p++) {
    const pkcli_bench_prog *pg = &s->progs[p];
    printf("%-20s %s%s%s\n", pg->name, pg->gated ? "gated " : "", pg->def ? "" : "non-default ", pg->about);
    if (pg->skip) printf("%-20s (skipped: %s)\n", "", pg->skip);
  }
  pkcli_benchrw_list(s->rws, s->nrw);
}

/* The selection: the NAMEs given (NAME.scm too), else the default set
   (--all, --gated); 0, or 2 for an unknown NAME. */
static int pkcli_bench_select(const pkcli_bench_opts *o, pkcli_bench_session *s)
{
  s->sel = pko_xcalloc((size_t)s->nprog + 1, sizeof *s->sel);
  s->rwsel = pko_xcalloc((size_t)s->nrw + 1, sizeof *s->rwsel);
  if (!o->nnames) {
    for (int p = 0; p < s->nprog; p++) s->sel[p] = (s->progs[p].def || o->all) && (!o->gated || s->progs[p].gated);
    for (int r = 0; r < s->nrw; r++) s->rwsel[r] = (s->rws[r].def || o->all) && !o->gated;
    return 0;
  }
  for (int i = 0; i < o->nnames; i++) {
    size_t l = strlen(o->names[i]);
    if (l > 4 && !strcmp(o->names[i] + l - 4, ".scm")) l -= 4;
    if (l > 6 && !strcmp(o->names[i] + l - 6, ".bench")) l -= 6;
    int found = -1, rfound = -1;
    for (int p = 0; p < s->nprog; p++)
      if (strlen(s->progs[p].name) == l && !strncmp(s->progs[p].name, o->names[i], l)) found = p;
    for (int r = 0; r < s->nrw && found < 0; r++)
      if (strlen(s->rws[r].name) == l && !strncmp(s->rws[r].name, o->names[i], l)) rfound = r;
    if (found < 0 && rfound < 0) {
      fprintf(stderr, "pkanren bench: unknown benchmark '%.*s' (see pkanren bench --list)\n", (int)l, o->names[i]);
      return 2;
    }
    if (found >= 0)
      s->sel[found] = true;
    else
      s->rwsel[rfound] = true;
  }
  return 0;
}

/* The --json file and the temporary directory; 0, or 2 after the error
   message. */
static int pkcli_bench_prepare(const pkcli_bench_opts *o, pkcli_bench_session *s)
{
  if (o->json && !(s->jf = fopen(o->json, "a"))) {
    fprintf(stderr, "pkanren bench: cannot open %s: %s\n", o->json, strerror(errno));
    return 2;
  }
  const char *tmp = getenv("TMPDIR");
  s->cache = o->cache ? pko_xstrdup(o->cache) : pkcli_bench_fmt("%s/pkanren-bench-cache", tmp && *tmp ? tmp : "/tmp");
  snprintf(s->tmpl, sizeof s->tmpl, "%s/pk-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!(s->tmpdir = mkdtemp(s->tmpl))) {
    fprintf(stderr, "pkanren bench: cannot create a temporary directory: %s\n", strerror(errno));
    return 2;
  }
  return 0;
}

/* The machine, the date, and the table's header lines. */
static void pkcli_bench_header(const pkcli_bench_opts *o, pkcli_bench_session *s)
{
  snprintf(s->host, sizeof s->host, "unknown");
  gethostname(s->host, sizeof s->host - 1);
  s->model = pkcli_bench_cpu_model();
  s->online = sysconf(_SC_NPROCESSORS_ONLN);
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  strftime(s->date, sizeof s->date, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  double load[3] = { 0, 0, 0 };
  getloadavg(load, 3);
  printf("pkanren bench: commit %s, %s, %d cpus (%s), load %.2f %.2f %.2f\n", pkcli_bench_commit(), s->host, s->ncpu,
         s->model, load[0], load[1], load[2]);
  printf("programs: %s%s%s; runs: %d; workers:", s->dir, s->fmk ? "; fmk: " : "", s->fmk ? s->fmk : "", o->runs);
  for (int i = 0; i < o->nw; i++) printf("%s%d", i ? "," : " ", o->ws[i]);
  if (s->rwdir) printf("\nrewriting entries: %s; inputs cached in %s", s->rwdir, s->cache);
  printf("\n");
  s->env = (pkcli_bench_env){ .tmpdir = s->tmpdir,
                              .date = s->date,
                              .host = s->host,
                              .model = s->model,
                              .cpus = s->online > 0 ? s->online : (long)s->ncpu,
                              .jf = s->jf,
                              .runs = o->runs,
                              .nw = o->nw,
                              .ws = o->ws,
                              .timeout = o->timeout };
  fflush(stdout);
}

/* The programs' table header. */
static void pkcli_bench_prog_header(void)
{
  printf("\n");
  printf(PKCLI_BENCH_ROW, "name", "W", "wall s", "answers/s", "unif/s", "peak MB", "idle %", "speed-up", "check");
  printf("%.*s\n", 100,
         "----------------------------------------------------------------------------------------------------");
  fflush(stdout);
}

/* The runs of pg, worker counts alternating (W=1, W=2, W=1, ...) so that
   drift in the machine's load hits every count alike; a count stops at its
   first failed run. */
static void pkcli_bench_measure(const pkcli_bench_opts *o, const pkcli_bench_session *s, const pkcli_bench_prog *pg,
                                const char *wrapper, pkcli_bench_cell *cells)
{
  bool stop[PKCLI_BENCH_MAX_W] = { false };
  for (int k = 0; k < o->nw; k++) cells[k].w = o->ws[k];
  for (int i = 0; i < o->runs && !pkcli_bench_interrupted; i++)
    for (int k = 0; k < o->nw && !pkcli_bench_interrupted; k++) {
      pkcli_bench_cell *c = &cells[k];
      if (stop[k]) continue;
      pkcli_bench_run_once(s->tmpdir, wrapper, c->w, o->timeout, pg->runstar, &c->runs[c->nruns++]);
      stop[k] = c->runs[c->nruns - 1].status != PKCLI_BENCH_OK;
    }
  for (int k = 0; k < o->nw; k++)
    if (cells[k].nruns) pkcli_bench_summarise(&cells[k]);
}

/* Checksums: every ok run at every W against the first ok run (run*: the
   multiset of answers; run N: the count).  True on a mismatch. */
static bool pkcli_bench_check(const pkcli_bench_prog *pg, pkcli_bench_cell *cells, int nw)
{
  const char *ref = NULL;
  long ref_answers = -1;
  for (int k = 0; k < nw && !ref; k++)
    for (int i = 0; i < cells[k].nruns && !ref; i++)
      if (cells[k].runs[i].status == PKCLI_BENCH_OK) {
        ref = cells[k].runs[i].checksum;
        ref_answers = cells[k].runs[i].answers;
      }
  bool any_mismatch = false;
  for (int k = 0; k < nw; k++) {
    pkcli_bench_cell *c = &cells[k];
    bool seen = false, same = true;
    for (int i = 0; i < c->nruns; i++) {
      pkcli_bench_run *r = &c->runs[i];
      if (r->status != PKCLI_BENCH_OK) continue;
      seen = true;
      if (pg->runstar ? strcmp(r->checksum, ref) != 0 : r->answers != ref_answers) same = false;
    }
    c->check = !seen ? "-" : same ? "ok" : "MISMATCH";
    if (!same) any_mismatch = true;
  }
  return any_mismatch;
}

/* The derived figures of one row; -1 where there is none. */
typedef struct pkcli_bench_figures {
  double aps, speedup;
} pkcli_bench_figures;

void pkcli_bench_json_head(const pkcli_bench_env *e, const char *name, int workers)
{
  FILE *jf = e->jf;
  fputs("{\"date\":", jf);
  pkcli_bench_put_json_string(jf, e->date);
  fputs(",\"commit\":", jf);
  pkcli_bench_put_json_string(jf, pkcli_bench_commit());
  fputs(",\"machine\":{\"hostname\":", jf);
  pkcli_bench_put_json_string(jf, e->host);
  fprintf(jf, ",\"cpus\":%ld,\"model\":", e->cpus);
  pkcli_bench_put_json_string(jf, e->model);
  fputs("},\"name\":", jf);
  pkcli_bench_put_json_string(jf, name);
  fprintf(jf, ",\"workers\":%d", workers);
}

/* One --json record (one line) for cell c of pg. */
static void pkcli_bench_json(const pkcli_bench_session *s, const pkcli_bench_prog *pg, const pkcli_bench_cell *c,
                             pkcli_bench_figures f, const char *status)
{
  FILE *jf = s->jf;
  pkcli_bench_json_head(&s->env, pg->name, c->w);
  fprintf(jf, ",\"runs\":%d,\"gated\":%s,\"runstar\":%s", c->nruns, pg->gated ? "true" : "false",
          pg->runstar ? "true" : "false");
  fputs(",\"wall_s\":", jf);
  pkcli_bench_put_json_num(jf, c->failed ? -1 : c->wall);
  fputs(",\"wall_runs_s\":[", jf);
  for (int i = 0; i < c->nruns; i++) {
    if (i) fputc(',', jf);
    pkcli_bench_put_json_num(jf, c->runs[i].wall);
  }
  fputs("],\"search_wall_s\":", jf);
  pkcli_bench_put_json_num(jf, c->failed ? -1 : c->stats_wall);
  fputs(",\"answers\":", jf);
  if (c->answers >= 0)
    fprintf(jf, "%ld", c->answers);
  else
    fputs("null", jf);
  fputs(",\"answers_per_s\":", jf);
  pkcli_bench_put_json_num(jf, f.aps);
  fputs(",\"unifications\":", jf);
  if (!c->failed)
    fprintf(jf, "%llu", c->unifs);
  else
    fputs("null", jf);
  fputs(",\"unifications_per_s\":", jf);
  pkcli_bench_put_json_num(jf, c->failed ? -1 : c->unif_rate);
  fputs(",\"peak_rss_kb\":", jf);
  if (c->rss_kb > 0)
    fprintf(jf, "%ld", c->rss_kb);
  else
    fputs("null", jf);
  fputs(",\"idle_pct\":", jf);
  pkcli_bench_put_json_num(jf, c->failed ? -1 : c->idle_pct);
  fputs(",\"speedup\":", jf);
  pkcli_bench_put_json_num(jf, f.speedup);
  fputs(",\"checksum\":", jf);
  const char *cs = NULL;
  for (int i = 0; i < c->nruns && !cs; i++)
    if (c->runs[i].status == PKCLI_BENCH_OK) cs = c->runs[i].checksum;
  if (cs)
    pkcli_bench_put_json_string(jf, cs);
  else
    fputs("null", jf);
  fputs(",\"check\":", jf);
  pkcli_bench_put_json_string(jf, c->check);
  fputs(",\"status\":", jf);
  pkcli_bench_put_json_string(jf, status ? status : "ok");
  fputs("}\n", jf);
  fflush(jf);
}

/* The table row of cell c (the name on the first row of pg only); its
   figures, and the first failed run's status (malloc'd) or NULL. */
static char *pkcli_bench_row(const pkcli_bench_prog *pg, const pkcli_bench_cell *c, bool first, double base,
                             pkcli_bench_figures *f)
{
  char wb[16], tb[32], ab[32], ub[32], mb[32], ib[32], sb[32];
  snprintf(wb, sizeof wb, "%d", c->w);
  char *status = NULL;
  for (int i = 0; i < c->nruns && !status; i++)
    if (c->runs[i].status != PKCLI_BENCH_OK) status = pkcli_bench_status_str(c->runs[i].status, c->runs[i].code);
  pkcli_bench_fmt_secs(tb, sizeof tb, c->failed ? -1 : c->wall);
  f->aps = (!c->failed && c->answers >= 0 && c->wall > 0) ? (double)c->answers / c->wall : -1;
  pkcli_bench_fmt_rate(ab, sizeof ab, f->aps);
  pkcli_bench_fmt_rate(ub, sizeof ub, c->failed ? -1 : c->unif_rate);
  if (c->rss_kb > 0)
    snprintf(mb, sizeof mb, "%.1f", c->rss_kb / 1024.0);
  else
    snprintf(mb, sizeof mb, "-");
  if (c->idle_pct >= 0 && !c->failed)
    snprintf(ib, sizeof ib, "%.1f", c->idle_pct);
  else
    snprintf(ib, sizeof ib, "-");
  f->speedup = (base > 0 && !c->failed && c->wall > 0) ? base / c->wall : -1;
  if (f->speedup >= 0)
    snprintf(sb, sizeof sb, "%.2f", f->speedup);
  else
    snprintf(sb, sizeof sb, "-");
  bool checked = strcmp(c->check, "-") != 0;
  char *check = status ? pkcli_bench_fmt("%s%s%s", status, checked ? "; " : "", checked ? c->check : "")
                       : pkcli_bench_fmt("%s%s", c->check, pg->runstar ? "" : " (count)");
  printf(PKCLI_BENCH_ROW, first ? pg->name : "", wb, tb, ab, ub, mb, ib, sb, check);
  free(check);
  return status;
}

/* The rows of pg, their --json records, then the ! lines of failed runs
   (and of every run when the checksums differ). */
static void pkcli_bench_report(const pkcli_bench_opts *o, pkcli_bench_session *s, const pkcli_bench_prog *pg,
                               const pkcli_bench_cell *cells, bool any_mismatch)
{
  double base = -1;
  for (int k = 0; k < o->nw; k++)
    if (cells[k].w == 1 && !cells[k].failed) base = cells[k].wall;
  for (int k = 0; k < o->nw; k++) {
    pkcli_bench_figures f;
    char *status = pkcli_bench_row(pg, &cells[k], k == 0, base, &f);
    if (status) s->nfailed++;
    if (s->jf) pkcli_bench_json(s, pg, &cells[k], f, status);
    free(status);
  }
  fflush(stdout);
  for (int k = 0; k < o->nw; k++) {
    const pkcli_bench_cell *c = &cells[k];
    for (int i = 0; i < c->nruns; i++) {
      const pkcli_bench_run *r = &c->runs[i];
      if (r->status != PKCLI_BENCH_OK) {
        char *st = pkcli_bench_status_str(r->status, r->code);
        printf("  ! %s W=%d run %d: %s after %.1f s; stderr tail: %s\n", pg->name, c->w, i + 1, st, r->wall,
               r->err_tail ? r->err_tail : "");
        free(st);
      } else if (any_mismatch) {
        printf("  ! %s W=%d run %d: %s\n", pg->name, c->w, i + 1, r->checksum);
      }
    }
  }
}

/* One program: its wrapper, its runs at every W, its rows. */
static void pkcli_bench_run_prog(const pkcli_bench_opts *o, pkcli_bench_session *s, const pkcli_bench_prog *pg)
{
  char *wrapper = pkcli_bench_write_wrapper(s->tmpdir, pg, s->dir, s->fmk);
  if (!wrapper) {
    fprintf(stderr, "pkanren bench: cannot write the wrapper for %s\n", pg->name);
    return;
  }
  pkcli_bench_cell *cells = pko_xcalloc((size_t)o->nw, sizeof *cells);
  pkcli_bench_measure(o, s, pg, wrapper, cells);
  if (!pkcli_bench_interrupted) {
    bool mismatch = pkcli_bench_check(pg, cells, o->nw);
    if (mismatch) s->nmismatch++;
    pkcli_bench_report(o, s, pg, cells, mismatch);
  }
  for (int k = 0; k < o->nw; k++)
    for (int i = 0; i < cells[k].nruns; i++) {
      free(cells[k].runs[i].checksum);
      free(cells[k].runs[i].err_tail);
    }
  free(cells);
  unlink(wrapper);
  free(wrapper);
}

/* The selected rewriting entries under their own table header. */
static void pkcli_bench_run_rws(pkcli_bench_session *s)
{
  bool head = false;
  for (int r = 0; r < s->nrw && !pkcli_bench_interrupted; r++) {
    if (!s->rwsel[r]) continue;
    if (!head) {
      printf("\n");
      pkcli_benchrw_header();
    }
    head = true;
    if (s->rws[r].skip)
      s->tally.skipped++;
    else
      pkcli_benchrw_run(&s->rws[r], s->bench, s->cache, &s->env, &s->tally);
  }
}

/* The lines after the table: skipped programs, mismatches, failures. */
static void pkcli_bench_footer(const pkcli_bench_session *s)
{
  if (s->nskipped || s->tally.skipped) {
    printf("\nskipped:\n");
    for (int p = 0; p < s->nprog; p++)
      if (s->sel[p] && s->progs[p].skip) printf("  %-20s %s\n", s->progs[p].name, s->progs[p].skip);
    for (int r = 0; r < s->nrw; r++)
      if (s->rwsel[r] && s->rws[r].skip) printf("  %-20s %s\n", s->rws[r].name, s->rws[r].skip);
  }
  if (s->nmismatch || s->tally.mismatch)
    printf("\nMISMATCH: %d benchmark(s) gave different checksums across runs or worker counts, or an answer "
           "other than their peer's\n",
           s->nmismatch + s->tally.mismatch);
  if (s->nfailed || s->tally.failed) printf("\n%d row(s) failed (see the ! lines)\n", s->nfailed + s->tally.failed);
  if (pkcli_bench_interrupted) printf("\ninterrupted\n");
  fflush(stdout);
}

/* Release what the session holds; any field may be unset. */
static void pkcli_bench_close(pkcli_bench_session *s)
{
  if (s->tmpdir) pkcli_bench_rmtree(s->tmpdir);
  if (s->jf) fclose(s->jf);
  for (int p = 0; p < s->nprog; p++) {
    free(s->progs[p].name);
    free(s->progs[p].about);
    for (int i = 0; i < s->progs[p].nneeds; i++) free(s->progs[p].needs[i]);
    free((char *)s->progs[p].skip);
  }
  free(s->progs);
  free(s->sel);
  pkcli_benchrw_free(s->rws, s->nrw);
  free(s->rwsel);
  free(s->model);
  free(s->dir);
  free(s->fmk);
  free(s->bench);
  free(s->rwdir);
  free(s->cache);
}

/* parse, open, select, prepare, run each program, report; one way out. */
int pkcli_bench(int argc, char **argv)
{
  pkcli_bench_opts o;
  pkcli_bench_session s;
  memset(&s, 0, sizeof s);
  pki_init();
  s.ncpu = pkcli_bench_cpu_count();
  int rc = pkcli_bench_parse(argc, argv, &o, s.ncpu);
  if (rc >= 0) goto out;
  if ((rc = pkcli_bench_open(&o, &s)) != 0) goto out;
  if (o.list) {
    pkcli_bench_list(&s);
    goto out;
  }
  if ((rc = pkcli_bench_select(&o, &s)) != 0 || (rc = pkcli_bench_prepare(&o, &s)) != 0) goto out;

  struct sigaction sa, old_int, old_term;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = pkcli_bench_on_sigint;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  pkcli_bench_header(&o, &s);
  bool head = false;
  for (int p = 0; p < s.nprog && !pkcli_bench_interrupted; p++) {
    if (!s.sel[p]) continue;
    if (!head) pkcli_bench_prog_header();
    head = true;
    if (s.progs[p].skip)
      s.nskipped++;
    else
      pkcli_bench_run_prog(&o, &s, &s.progs[p]);
  }
  pkcli_bench_run_rws(&s);
  pkcli_bench_footer(&s);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  /* exit 1 when a program failed or its answers differ across worker counts */
  rc = pkcli_bench_interrupted ? 130 : (s.nmismatch || s.nfailed || s.tally.mismatch || s.tally.failed) ? 1 : 0;
out:
  pkcli_bench_close(&s);
  free(o.names);
  return rc;
}
