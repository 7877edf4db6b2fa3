/*
** pk_bench.c — `pkanren bench`: runs the programs of bench/programs at
** several worker counts and reports wall time, answers/s, unifications/s,
** peak memory, idle time and speed-up (SPEC §8).
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
#include "pk_bench.h"

#if defined(__has_include)
#if __has_include("pk_version.h")
#include "pk_version.h"
#endif
#endif

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#define PKB_USAGE \
  "usage: pkanren bench [NAME...] [--runs R] [-j LIST] [--json FILE] [--dir DIR]\n" \
  "                     [--fmk DIR] [--quick] [--all] [--gated] [--timeout S]\n" \
  "                     [--ordered]\n" \
  "                     [--list] [--help]\n"

static const char *pkcb_help =
  PKB_USAGE
  "\n"
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
  "  --list           list the programs and exit\n"
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
  "MISMATCH otherwise.\n";

/* Preferred order; programs not listed come afterwards, alphabetically. */
static const char *const pkcb_order[] = {
  "empty",
  "appendo-split",
  "appendo-forward-10k", "appendo-forward-20k", "appendo-forward-40k",
  "nrev30x1000",
  "zebra",
  "perm8-diseq",
  "factors-720", "factors-720-own",
  "quines-1", "quines-10", "quines-100", "twines-2", "thrines-4",
  "qi-quines-1", "qi-quines-10", "qi-quines-100", "qi-twines-2",
  "qi-thrines-4", "qs-thrines-565",
  "evalo-1000",
  "append-synthesis",
  "long-loop-2M", "long-loop-8M",
};

/* `;;! needs:` words naming faster-miniKanren's files (from --fmk); any
   other word foo names our own helper DIR/_foo.scm. */
static const struct { const char *need, *file; } pkcb_peer_libs[] = {
  { "full-interp", "full-interp.scm" },
  { "numbers", "numbers.scm" },
};
#define PKB_NPEER_LIBS (sizeof pkcb_peer_libs / sizeof pkcb_peer_libs[0])

#define PKB_MAX_NEEDS 8
#define PKB_MAX_W 64

typedef struct pkcb_prog {
  char *name;
  char *about;
  char *needs[PKB_MAX_NEEDS];
  int nneeds;
  bool gated, def, runstar;
  int rank;                 /* position in pkcb_order, or a large number */
  const char *skip;         /* why it is not run, or NULL */
} pkcb_prog;

/* One run of one program at one worker count. */
typedef struct pkcb_run {
  int status;               /* 0 ok, else see pkcb_status_str */
  int code;                 /* exit code or signal */
  double wall;              /* seconds, monotonic clock around the child */
  long rss_kb;              /* wait4 ru_maxrss */
  bool has_stats;
  double stats_wall;
  unsigned long long unifs;
  double unif_rate;
  double idle_pct;          /* mean over workers, < 0 when no worker lines */
  int nworkers_seen;
  long answers;             /* from "answers=N", -1 if absent */
  char *checksum;           /* normalised output */
  char *err_tail;           /* last part of stderr on failure */
} pkcb_run;

enum { PKB_OK = 0, PKB_EXIT, PKB_SIGNAL, PKB_TIMEOUT, PKB_SPAWN };

/* The summary of one (program, W). */
typedef struct pkcb_cell {
  int w;
  int nruns;
  pkcb_run runs[32];
  bool failed;
  double wall, unif_rate, idle_pct, stats_wall;
  unsigned long long unifs;
  long rss_kb, answers;
  const char *check;        /* "ok", "MISMATCH", "varies", "-" */
} pkcb_cell;

static volatile sig_atomic_t pkcb_interrupted;
static pid_t pkcb_child = -1;

static void pkcb_on_sigint(int sig)
{
  (void)sig;
  pkcb_interrupted = 1;
  if (pkcb_child > 0) kill(pkcb_child, SIGKILL);
}

/* ---- small helpers --------------------------------------------------------------- */

static void *pkcb_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (!p) { fputs("pkanren bench: out of memory\n", stderr); exit(3); }
  return p;
}

static char *pkcb_strdup(const char *s)
{
  size_t n = strlen(s) + 1;
  char *p = pkcb_xmalloc(n);
  memcpy(p, s, n);
  return p;
}

static char *pkcb_fmt(const char *fmt, ...)
{
  va_list ap, aq;
  va_start(ap, fmt);
  va_copy(aq, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = pkcb_xmalloc((size_t)n + 1);
  vsnprintf(s, (size_t)n + 1, fmt, aq);
  va_end(aq);
  return s;
}

static int pkcb_usage(const char *msg)
{
  fprintf(stderr, "pkanren bench: %s\n%s", msg, PKB_USAGE);
  return 2;
}

static double pkcb_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int pkcb_cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pkcb_median(double *v, int n)
{
  if (n <= 0) return -1;
  qsort(v, (size_t)n, sizeof *v, pkcb_cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char *pkcb_read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *s = pkcb_xmalloc(cap);
  size_t k;
  while ((k = fread(s + n, 1, cap - n - 1, f)) > 0) {
    n += k;
    if (cap - n - 1 == 0) {
      cap *= 2;
      char *t = realloc(s, cap);
      if (!t) { free(s); fclose(f); return NULL; }
      s = t;
    }
  }
  fclose(f);
  s[n] = 0;
  if (len) *len = n;
  return s;
}

static bool pkcb_is_dir(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool pkcb_is_file(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The default programs directory: PK_BENCH_DIR if the build defines it,
** else <directory of this source file>/../bench/programs. */
static char *pkcb_default_dir(void)
{
#ifdef PK_BENCH_DIR
  return pkcb_strdup(PK_BENCH_DIR);
#else
  const char *f = __FILE__;
  const char *slash = strrchr(f, '/');
  if (f[0] != '/' || !slash) return pkcb_strdup("bench/programs");
  return pkcb_fmt("%.*s/../bench/programs", (int)(slash - f), f);
#endif
}

static char *pkcb_abspath(const char *p)
{
  char buf[PATH_MAX];
  if (realpath(p, buf)) return pkcb_strdup(buf);
  return pkcb_strdup(p);
}

static int pkcb_cpu_count(void)
{
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

static char *pkcb_cpu_model(void)
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
        return pkcb_strdup(c);
      }
    }
    fclose(f);
  }
  return pkcb_strdup("unknown");
}

static const char *pkcb_commit(void)
{
#ifdef PK_GIT_COMMIT
  if (PK_GIT_COMMIT[0]) return PK_GIT_COMMIT;
#endif
  return "unknown";
}

/* Scheme string literal for a path. */
static void pkcb_put_scheme_string(FILE *f, const char *s)
{
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static void pkcb_put_json_string(FILE *f, const char *s)
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
      if (*p < 0x20) fprintf(f, "\\u%04x", *p);
      else fputc(*p, f);
    }
  }
  fputc('"', f);
}

static void pkcb_put_json_num(FILE *f, double x)
{
  if (x < 0 || x != x) fputs("null", f);
  else fprintf(f, "%.6g", x);
}

/* ---- programs ------------------------------------------------------------------------- */

static char *pkcb_trim(char *s)
{
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  return s;
}

/* True if the text holds a `(run*` form and no `(run N` form. */
static bool pkcb_is_runstar(const char *text)
{
  bool star = false;
  for (const char *p = text; (p = strstr(p, "(run")); p += 4) {
    const char *q = p + 4;
    if (*q == '*') star = true;
    else if (isspace((unsigned char)*q)) return false;
  }
  return star;
}

static bool pkcb_load_prog(const char *dir, const char *fname, pkcb_prog *pg)
{
  char *path = pkcb_fmt("%s/%s", dir, fname);
  char *text = pkcb_read_file(path, NULL);
  free(path);
  if (!text) return false;
  memset(pg, 0, sizeof *pg);
  pg->name = pkcb_fmt("%.*s", (int)(strlen(fname) - 4), fname);
  pg->about = pkcb_strdup("");
  pg->def = true;
  pg->runstar = pkcb_is_runstar(text);   /* before the header parse cuts the text */
  char *line = text;
  while (line && *line) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    if (!strncmp(line, ";;!", 3)) {
      char *kv = line + 3, *colon = strchr(kv, ':');
      if (colon) {
        *colon = 0;
        char *key = pkcb_trim(kv), *val = pkcb_trim(colon + 1);
        if (!strcmp(key, "needs")) {
          for (char *w = strtok(val, " \t,"); w && pg->nneeds < PKB_MAX_NEEDS; w = strtok(NULL, " \t,"))
            pg->needs[pg->nneeds++] = pkcb_strdup(w);
        } else if (!strcmp(key, "about")) {
          free(pg->about);
          pg->about = pkcb_strdup(val);
        } else if (!strcmp(key, "default")) {
          pg->def = strncasecmp(val, "no", 2) != 0;
        } else if (!strcmp(key, "gated")) {
          pg->gated = strncasecmp(val, "yes", 3) == 0;
        }
      }
    } else if (*pkcb_trim(line) && line[0] != ';') {
      if (nl) *nl = '\n';
      break;
    }
    if (nl) *nl = '\n';
    line = nl ? nl + 1 : NULL;
  }
  free(text);
  pg->rank = 1 << 20;
  for (size_t i = 0; i < sizeof pkcb_order / sizeof pkcb_order[0]; i++)
    if (!strcmp(pkcb_order[i], pg->name)) pg->rank = (int)i;
  return true;
}

static int pkcb_cmp_prog(const void *a, const void *b)
{
  const pkcb_prog *x = a, *y = b;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  return strcmp(x->name, y->name);
}

static pkcb_prog *pkcb_discover(const char *dir, int *count)
{
  DIR *d = opendir(dir);
  if (!d) return NULL;
  int cap = 32, n = 0;
  pkcb_prog *v = pkcb_xmalloc(sizeof *v * (size_t)cap);
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (e->d_name[0] == '_' || e->d_name[0] == '.' || len < 5 || strcmp(e->d_name + len - 4, ".scm")) continue;
    if (n == cap) {
      cap *= 2;
      pkcb_prog *t = realloc(v, sizeof *v * (size_t)cap);
      if (!t) { closedir(d); free(v); return NULL; }
      v = t;
    }
    if (pkcb_load_prog(dir, e->d_name, &v[n])) n++;
  }
  closedir(d);
  qsort(v, (size_t)n, sizeof *v, pkcb_cmp_prog);
  *count = n;
  return v;
}

/* The file of need w, to free: a peer library under fmk (*peer; NULL when
   there is no fmk) or our own dir/_w.scm. */
static char *pkcb_need_path(const char *w, const char *dir, const char *fmk, bool *peer)
{
  for (size_t k = 0; k < PKB_NPEER_LIBS; k++)
    if (!strcmp(pkcb_peer_libs[k].need, w)) {
      *peer = true;
      return fmk ? pkcb_fmt("%s/%s", fmk, pkcb_peer_libs[k].file) : NULL;
    }
  *peer = false;
  return pkcb_fmt("%s/_%s.scm", dir, w);
}

/* Why pg cannot run with these directories, or NULL. */
static const char *pkcb_unmet(const pkcb_prog *pg, const char *dir, const char *fmk)
{
  static char why[512];
  for (int i = 0; i < pg->nneeds; i++) {
    bool peer;
    char *p = pkcb_need_path(pg->needs[i], dir, fmk, &peer);
    if (!p) {
      snprintf(why, sizeof why, "needs %s (a faster-miniKanren library): use --fmk DIR", pg->needs[i]);
      return why;
    }
    bool ok = pkcb_is_file(p);
    if (!ok) snprintf(why, sizeof why, "%s is missing", p);
    free(p);
    if (!ok) return why;
  }
  return NULL;
}

/* Write the wrapper of pg into tmpdir; returns its path or NULL. */
static char *pkcb_write_wrapper(const char *tmpdir, const pkcb_prog *pg, const char *dir, const char *fmk)
{
  char *path = pkcb_fmt("%s/%s.scm", tmpdir, pg->name);
  FILE *f = fopen(path, "w");
  if (!f) { free(path); return NULL; }
  fprintf(f, ";; generated by pkanren bench for %s\n", pg->name);
  fputs("(define bench-full-check #f)\n", f);
  char *loads[2 * PKB_MAX_NEEDS + 4];
  int n = 0;
  if (fmk) {
    /* As in bench/run_peers.py; pkanren treats these two as no-ops. */
    loads[n++] = pkcb_fmt("%s/mk-vicare.scm", fmk);
    loads[n++] = pkcb_fmt("%s/mk.scm", fmk);
  }
  bool peer;
  for (int i = 0; i < pg->nneeds; i++) { /* peer libraries */
    char *p = pkcb_need_path(pg->needs[i], dir, fmk, &peer);
    if (peer && p) loads[n++] = p;
    else free(p);
  }
  loads[n++] = pkcb_fmt("%s/_checksum.scm", dir);
  for (int i = 0; i < pg->nneeds; i++) { /* our own helpers */
    char *p = pkcb_need_path(pg->needs[i], dir, fmk, &peer);
    if (!peer) loads[n++] = p;
    else free(p);
  }
  for (int i = 0; i < n; i++) {
    fputs("(load ", f);
    pkcb_put_scheme_string(f, loads[i]);
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
          "  (for-each (lambda (a) (display \"\\t\") (write a) (newline)) answers))\n", f);
  }
  fputs("(load ", f);
  char *prog = pkcb_fmt("%s/%s.scm", dir, pg->name);
  pkcb_put_scheme_string(f, prog);
  free(prog);
  fputs(")\n", f);
  if (fclose(f) != 0) { free(path); return NULL; }
  return path;
}

/* ---- one run ------------------------------------------------------------------------------ */

static uint64_t pkcb_mix64(uint64_t z)
{
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Normalise the child's stdout: report lines are kept (joined by " | "),
** answer lines (starting with a tab) are hashed as a multiset. */
static char *pkcb_checksum(const char *out, bool multiset, long *answers)
{
  uint64_t sum = 0;
  unsigned long long nlines = 0;
  size_t cap = 256, len = 0;
  char *rep = pkcb_xmalloc(cap);
  rep[0] = 0;
  *answers = -1;
  for (const char *p = out; *p;) {
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (*p == '\t') {
      uint64_t h = 0xcbf29ce484222325ULL;
      for (size_t i = 1; i < n; i++) { h ^= (unsigned char)p[i]; h *= 0x100000001b3ULL; }
      sum += pkcb_mix64(h);
      nlines++;
    } else if (n) {
      const char *a = strstr(p, "answers=");
      if (a && a < p + n) *answers = strtol(a + 8, NULL, 10);
      while (len + n + 4 >= cap) { cap *= 2; char *t = realloc(rep, cap); if (!t) exit(3); rep = t; }
      if (len) { memcpy(rep + len, " | ", 3); len += 3; }
      memcpy(rep + len, p, n);
      len += n;
      rep[len] = 0;
    }
    p = e ? e + 1 : p + n;
  }
  if (multiset) {
    char *r = pkcb_fmt("%s set=%016llx", rep, (unsigned long long)sum);
    free(rep);
    return r;
  }
  return rep;
}

static void pkcb_parse_stats(const char *err, pkcb_run *r)
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
    if (sscanf(line, "stats: answers printed %llu, wall %lf s, unifications %llu (%lf/s)", &ans, &wall, &u, &rate) == 4) {
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

static int pkcb_pidfd_open(pid_t pid)
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
static bool pkcb_ordered;

static void pkcb_run_once(const char *tmpdir, const char *wrapper, int w, double timeout, bool multiset, pkcb_run *r)
{
  memset(r, 0, sizeof *r);
  r->answers = -1;
  r->idle_pct = -1;
  char *outp = pkcb_fmt("%s/stdout", tmpdir), *errp = pkcb_fmt("%s/stderr", tmpdir);
  char wbuf[32];
  snprintf(wbuf, sizeof wbuf, "%d", w);
  fflush(stdout);
  fflush(stderr);
  double t0 = pkcb_now();
  pid_t pid = fork();
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(127);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    signal(SIGINT, SIG_DFL);
    char *args[] = { "pkanren", "run", "-j", wbuf, "--stats", (char *)wrapper, "--unordered", NULL };
    if (pkcb_ordered) args[6] = NULL;
    const char *exe = getenv("PKANREN_BENCH_EXE");
    execv(exe && *exe ? exe : "/proc/self/exe", args);
    _exit(127);
  }
  if (pid < 0) {
    r->status = PKB_SPAWN;
    r->code = errno;
    free(outp);
    free(errp);
    return;
  }
  pkcb_child = pid;
  int st = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  bool timed_out = false;
  int pfd = pkcb_pidfd_open(pid);
  for (;;) {
    pid_t got = wait4(pid, &st, WNOHANG, &ru);
    if (got == pid) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pkcb_interrupted) kill(pid, SIGKILL);
    double left = timeout > 0 ? timeout - (pkcb_now() - t0) : -1;
    if (timeout > 0 && left <= 0) {
      if (!timed_out) kill(pid, SIGKILL);
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
  r->wall = pkcb_now() - t0;
  pkcb_child = -1;
  if (pfd >= 0) close(pfd);
  r->rss_kb = ru.ru_maxrss;
  if (timed_out) r->status = PKB_TIMEOUT;
  else if (WIFSIGNALED(st)) { r->status = PKB_SIGNAL; r->code = WTERMSIG(st); }
  else if (WIFEXITED(st) && WEXITSTATUS(st) != 0) { r->status = PKB_EXIT; r->code = WEXITSTATUS(st); }
  char *out = pkcb_read_file(outp, NULL), *err = pkcb_read_file(errp, NULL);
  if (err) pkcb_parse_stats(err, r);
  long answers = -1;
  r->checksum = pkcb_checksum(out ? out : "", multiset, &answers);
  r->answers = answers;
  if (r->status != PKB_OK && err) {
    /* The last 400 characters of stderr without the stats lines, one line. */
    size_t n = 0;
    char *buf = pkcb_xmalloc(3 * strlen(err) + 1);
    for (char *p = err, *e; p && *p; p = e ? e + 1 : NULL) {
      e = strchr(p, '\n');
      size_t k = e ? (size_t)(e - p) : strlen(p);
      if (!k || !strncmp(p, "stats: ", 7)) continue;
      if (n) { memcpy(buf + n, " / ", 3); n += 3; }
      memcpy(buf + n, p, k);
      n += k;
    }
    buf[n] = 0;
    r->err_tail = pkcb_strdup(n > 400 ? buf + n - 400 : buf);
    free(buf);
  }
  free(out);
  free(err);
  unlink(outp);
  unlink(errp);
  free(outp);
  free(errp);
}

static char *pkcb_status_str(const pkcb_run *r)
{
  switch (r->status) {
  case PKB_OK: return pkcb_strdup("ok");
  case PKB_EXIT: return pkcb_fmt("CRASH(rc=%d)", r->code);
  case PKB_SIGNAL: return pkcb_fmt("CRASH(signal %d)", r->code);
  case PKB_TIMEOUT: return pkcb_strdup("TIMEOUT");
  default: return pkcb_fmt("SPAWN FAILED(%s)", strerror(r->code));
  }
}

/* ---- the table -------------------------------------------------------------------------- */

static void pkcb_fmt_rate(char *buf, size_t n, double x)
{
  if (x < 0) snprintf(buf, n, "-");
  else if (x >= 1e9) snprintf(buf, n, "%.2fG", x / 1e9);
  else if (x >= 1e6) snprintf(buf, n, "%.2fM", x / 1e6);
  else if (x >= 1e4) snprintf(buf, n, "%.1fk", x / 1e3);
  else snprintf(buf, n, "%.1f", x);
}

static void pkcb_fmt_secs(char *buf, size_t n, double x)
{
  if (x < 0) snprintf(buf, n, "-");
  else if (x < 10) snprintf(buf, n, "%.3f", x);
  else snprintf(buf, n, "%.2f", x);
}

#define PKB_ROW "%-20s %3s %9s %10s %9s %8s %6s %8s  %s\n"

static void pkcb_summarise(pkcb_cell *c)
{
  double walls[32], rates[32], idles[32], swalls[32];
  int n = 0, ni = 0;
  c->rss_kb = 0;
  c->answers = -1;
  c->unifs = 0;
  for (int i = 0; i < c->nruns; i++) {
    pkcb_run *r = &c->runs[i];
    if (r->rss_kb > c->rss_kb) c->rss_kb = r->rss_kb;
    if (r->status != PKB_OK) { c->failed = true; continue; }
    walls[n] = r->wall;
    rates[n] = r->has_stats ? r->unif_rate : -1;
    swalls[n] = r->has_stats ? r->stats_wall : -1;
    if (r->unifs > c->unifs) c->unifs = r->unifs;
    n++;
    if (r->idle_pct >= 0) idles[ni++] = r->idle_pct;
    if (r->answers >= 0) c->answers = r->answers;
  }
  c->wall = n ? pkcb_median(walls, n) : -1;
  c->unif_rate = n ? pkcb_median(rates, n) : -1;
  c->stats_wall = n ? pkcb_median(swalls, n) : -1;
  c->idle_pct = ni ? pkcb_median(idles, ni) : -1;
}

/* ---- the command ---------------------------------------------------------------------- */

static void pkcb_rmdir(const char *dir)
{
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char *p = pkcb_fmt("%s/%s", dir, e->d_name);
      unlink(p);
      free(p);
    }
    closedir(d);
  }
  rmdir(dir);
}

static bool pkcb_parse_jlist(const char *s, int *ws, int *nw)
{
  *nw = 0;
  if (!s || !*s) return false;
  while (*s) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v < 1 || v > 4096 || *nw >= PKB_MAX_W) return false;
    bool dup = false;
    for (int i = 0; i < *nw; i++) dup |= ws[i] == (int)v;
    if (!dup) ws[(*nw)++] = (int)v;
    if (*end == ',') end++;
    else if (*end) return false;
    s = end;
  }
  return *nw > 0;
}

int pkc_cmd_bench(int argc, char **argv)
{
  const char *json = NULL, *dir_opt = NULL, *fmk_opt = NULL, *jlist = NULL;
  int runs = 3;
  bool quick = false, all = false, gated = false, list = false;
  double timeout = 600;
  const char **names = pkcb_xmalloc(sizeof *names * (size_t)(argc + 1));
  int nnames = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(pkcb_help, stdout); free(names); return 0; }
    else if (!strcmp(a, "--json")) { if (!v) { free(names); return pkcb_usage("--json needs a FILE"); } json = v; i++; }
    else if (!strcmp(a, "--dir")) { if (!v) { free(names); return pkcb_usage("--dir needs a DIR"); } dir_opt = v; i++; }
    else if (!strcmp(a, "--fmk")) { if (!v) { free(names); return pkcb_usage("--fmk needs a DIR"); } fmk_opt = v; i++; }
    else if (!strcmp(a, "--runs")) {
      char *end;
      long n = v ? strtol(v, &end, 10) : 0;
      if (!v || *end || n < 1 || n > 32) { free(names); return pkcb_usage("--runs needs a number from 1 to 32"); }
      runs = (int)n;
      i++;
    } else if (!strcmp(a, "--timeout")) {
      char *end;
      double t = v ? strtod(v, &end) : -1;
      if (!v || *end || t < 0) { free(names); return pkcb_usage("--timeout needs a number of seconds"); }
      timeout = t;
      i++;
    } else if (!strcmp(a, "-j")) { if (!v) { free(names); return pkcb_usage("-j needs a LIST such as 1,2,4"); } jlist = v; i++; }
    else if (!strncmp(a, "-j", 2) && a[2]) jlist = a + 2;
    else if (!strcmp(a, "--quick")) quick = true;
    else if (!strcmp(a, "--ordered")) pkcb_ordered = true;
    else if (!strcmp(a, "--all")) all = true;
    else if (!strcmp(a, "--gated")) gated = true;
    else if (!strcmp(a, "--list")) list = true;
    else if (a[0] == '-' && a[1]) { free(names); return pkcb_usage("unknown option"); }
    else names[nnames++] = a;
  }
  if (quick) runs = 1;
  int ncpu = pkcb_cpu_count();
  int ws[PKB_MAX_W], nw = 0;
  if (jlist) {
    if (!pkcb_parse_jlist(jlist, ws, &nw)) { free(names); return pkcb_usage("-j needs a comma-separated list of positive worker counts"); }
  } else {
    ws[nw++] = 1;
    if (ncpu > 1) ws[nw++] = ncpu;
  }

  char *dir = dir_opt ? pkcb_strdup(dir_opt) : pkcb_default_dir();
  if (!pkcb_is_dir(dir)) {
    fprintf(stderr, "pkanren bench: no programs directory %s (use --dir DIR)\n", dir);
    free(dir);
    free(names);
    return 2;
  }
  char *adir = pkcb_abspath(dir);
  free(dir);
  dir = adir;
  char *fmk = NULL;
  if (fmk_opt) {
    if (!pkcb_is_dir(fmk_opt)) {
      fprintf(stderr, "pkanren bench: --fmk %s is not a directory\n", fmk_opt);
      free(dir);
      free(names);
      return 2;
    }
    fmk = pkcb_abspath(fmk_opt);
  }

  int nprog = 0;
  pkcb_prog *progs = pkcb_discover(dir, &nprog);
  if (!progs) {
    fprintf(stderr, "pkanren bench: cannot read %s\n", dir);
    free(dir);
    free(fmk);
    free(names);
    return 2;
  }
  for (int p = 0; p < nprog; p++) {
    const char *why = pkcb_unmet(&progs[p], dir, fmk);
    progs[p].skip = why ? pkcb_strdup(why) : NULL;
  }

  if (list) {
    for (int p = 0; p < nprog; p++) {
      printf("%-20s %s%s%s\n", progs[p].name, progs[p].gated ? "gated " : "",
             progs[p].def ? "" : "non-default ", progs[p].about);
      if (progs[p].skip) printf("%-20s (skipped: %s)\n", "", progs[p].skip);
    }
    fflush(stdout);
    for (int p = 0; p < nprog; p++) free((char *)progs[p].skip);
    free(progs);
    free(names);
    free(dir);
    free(fmk);
    return 0;
  }

  /* The selection: the NAMEs given, else the default set. */
  bool *sel = calloc((size_t)nprog + 1, sizeof *sel);
  if (!sel) exit(3);
  if (nnames) {
    for (int i = 0; i < nnames; i++) {
      char *nm = pkcb_strdup(names[i]);
      size_t l = strlen(nm);
      if (l > 4 && !strcmp(nm + l - 4, ".scm")) nm[l - 4] = 0;
      int found = -1;
      for (int p = 0; p < nprog; p++)
        if (!strcmp(progs[p].name, nm)) found = p;
      if (found < 0) {
        fprintf(stderr, "pkanren bench: unknown benchmark '%s' (see pkanren bench --list)\n", nm);
        free(nm);
        free(sel);
        free(names);
        return 2;
      }
      free(nm);
      sel[found] = true;
    }
  } else {
    for (int p = 0; p < nprog; p++)
      sel[p] = (progs[p].def || all) && (!gated || progs[p].gated);
  }

  FILE *jf = NULL;
  if (json) {
    jf = fopen(json, "a");
    if (!jf) {
      fprintf(stderr, "pkanren bench: cannot open %s: %s\n", json, strerror(errno));
      free(sel);
      free(names);
      return 2;
    }
  }

  char tmpl[] = "/tmp/pk-bench-XXXXXX";
  const char *tmpdir = mkdtemp(tmpl);
  if (!tmpdir) {
    fprintf(stderr, "pkanren bench: cannot create a temporary directory: %s\n", strerror(errno));
    if (jf) fclose(jf);
    free(sel);
    free(names);
    return 2;
  }

  struct sigaction sa, old_int, old_term;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = pkcb_on_sigint;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  char *model = pkcb_cpu_model();
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  char date[64];
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  double load[3] = { 0, 0, 0 };
  getloadavg(load, 3);
  printf("pkanren bench: commit %s, %s, %d cpus (%s), load %.2f %.2f %.2f\n",
         pkcb_commit(), host, ncpu, model, load[0], load[1], load[2]);
  printf("programs: %s%s%s; runs: %d; workers:", dir, fmk ? "; fmk: " : "", fmk ? fmk : "", runs);
  for (int i = 0; i < nw; i++) printf("%s%d", i ? "," : " ", ws[i]);
  printf("\n\n");
  printf(PKB_ROW, "name", "W", "wall s", "answers/s", "unif/s", "peak MB", "idle %", "speed-up", "check");
  printf("%.*s\n", 100, "----------------------------------------------------------------------------------------------------");
  fflush(stdout);

  int nskipped = 0, nmismatch = 0, nfailed = 0;
  for (int p = 0; p < nprog && !pkcb_interrupted; p++) {
    pkcb_prog *pg = &progs[p];
    if (!sel[p]) continue;
    if (pg->skip) { nskipped++; continue; }
    char *wrapper = pkcb_write_wrapper(tmpdir, pg, dir, fmk);
    if (!wrapper) {
      fprintf(stderr, "pkanren bench: cannot write the wrapper for %s\n", pg->name);
      continue;
    }
    pkcb_cell *cells = calloc((size_t)nw, sizeof *cells);
    if (!cells) exit(3);
    /* Worker counts alternate (W=1, W=2, W=1, ...), so drift in the
       machine's load hits every count alike. */
    bool *stop = calloc((size_t)nw, sizeof *stop);
    if (!stop) exit(3);
    for (int k = 0; k < nw; k++) cells[k].w = ws[k];
    for (int i = 0; i < runs && !pkcb_interrupted; i++)
      for (int k = 0; k < nw && !pkcb_interrupted; k++) {
        pkcb_cell *c = &cells[k];
        if (stop[k]) continue;
        pkcb_run_once(tmpdir, wrapper, c->w, timeout, pg->runstar, &c->runs[c->nruns++]);
        stop[k] = c->runs[c->nruns - 1].status != PKB_OK; /* no point repeating */
      }
    for (int k = 0; k < nw; k++) if (cells[k].nruns) pkcb_summarise(&cells[k]);
    free(stop);
    if (pkcb_interrupted) { free(cells); free(wrapper); break; }

    /* Checksums: every ok run at every W against the first ok run. */
    const char *ref = NULL;
    long ref_answers = -1;
    for (int k = 0; k < nw && !ref; k++)
      for (int i = 0; i < cells[k].nruns && !ref; i++)
        if (cells[k].runs[i].status == PKB_OK) { ref = cells[k].runs[i].checksum; ref_answers = cells[k].runs[i].answers; }
    bool any_mismatch = false;
    for (int k = 0; k < nw; k++) {
      pkcb_cell *c = &cells[k];
      bool seen = false, same = true;
      for (int i = 0; i < c->nruns; i++) {
        pkcb_run *r = &c->runs[i];
        if (r->status != PKB_OK) continue;
        seen = true;
        if (pg->runstar ? strcmp(r->checksum, ref) != 0 : r->answers != ref_answers) same = false;
      }
      c->check = !seen ? "-" : same ? "ok" : "MISMATCH";
      if (!same) any_mismatch = true;
    }
    if (any_mismatch) nmismatch++;

    double base = -1;
    for (int k = 0; k < nw; k++)
      if (cells[k].w == 1 && !cells[k].failed) base = cells[k].wall;
    for (int k = 0; k < nw; k++) {
      pkcb_cell *c = &cells[k];
      char wb[16], tb[32], ab[32], ub[32], mb[32], ib[32], sb[32];
      snprintf(wb, sizeof wb, "%d", c->w);
      char *status = NULL;
      for (int i = 0; i < c->nruns; i++)
        if (c->runs[i].status != PKB_OK) { status = pkcb_status_str(&c->runs[i]); break; }
      if (status) nfailed++;
      pkcb_fmt_secs(tb, sizeof tb, c->failed ? -1 : c->wall);
      double aps = (!c->failed && c->answers >= 0 && c->wall > 0) ? (double)c->answers / c->wall : -1;
      pkcb_fmt_rate(ab, sizeof ab, aps);
      pkcb_fmt_rate(ub, sizeof ub, c->failed ? -1 : c->unif_rate);
      if (c->rss_kb > 0) snprintf(mb, sizeof mb, "%.1f", c->rss_kb / 1024.0); else snprintf(mb, sizeof mb, "-");
      if (c->idle_pct >= 0 && !c->failed) snprintf(ib, sizeof ib, "%.1f", c->idle_pct); else snprintf(ib, sizeof ib, "-");
      double speedup = (base > 0 && !c->failed && c->wall > 0) ? base / c->wall : -1;
      if (speedup >= 0) snprintf(sb, sizeof sb, "%.2f", speedup); else snprintf(sb, sizeof sb, "-");
      char *check = status ? pkcb_fmt("%s%s%s", status, strcmp(c->check, "-") ? "; " : "", strcmp(c->check, "-") ? c->check : "")
                           : pkcb_fmt("%s%s", c->check, pg->runstar ? "" : " (count)");
      printf(PKB_ROW, k == 0 ? pg->name : "", wb, tb, ab, ub, mb, ib, sb, check);

      if (jf) {
        fputs("{\"date\":", jf); pkcb_put_json_string(jf, date);
        fputs(",\"commit\":", jf); pkcb_put_json_string(jf, pkcb_commit());
        fputs(",\"machine\":{\"hostname\":", jf); pkcb_put_json_string(jf, host);
        fprintf(jf, ",\"cpus\":%ld,\"model\":", online > 0 ? online : (long)ncpu);
        pkcb_put_json_string(jf, model);
        fputs("},\"name\":", jf); pkcb_put_json_string(jf, pg->name);
        fprintf(jf, ",\"workers\":%d,\"runs\":%d,\"gated\":%s,\"runstar\":%s", c->w, c->nruns,
                pg->gated ? "true" : "false", pg->runstar ? "true" : "false");
        fputs(",\"wall_s\":", jf); pkcb_put_json_num(jf, c->failed ? -1 : c->wall);
        fputs(",\"wall_runs_s\":[", jf);
        for (int i = 0; i < c->nruns; i++) { if (i) fputc(',', jf); pkcb_put_json_num(jf, c->runs[i].wall); }
        fputs("],\"search_wall_s\":", jf); pkcb_put_json_num(jf, c->failed ? -1 : c->stats_wall);
        fputs(",\"answers\":", jf);
        if (c->answers >= 0) fprintf(jf, "%ld", c->answers); else fputs("null", jf);
        fputs(",\"answers_per_s\":", jf); pkcb_put_json_num(jf, aps);
        fputs(",\"unifications\":", jf);
        if (!c->failed) fprintf(jf, "%llu", c->unifs); else fputs("null", jf);
        fputs(",\"unifications_per_s\":", jf); pkcb_put_json_num(jf, c->failed ? -1 : c->unif_rate);
        fputs(",\"peak_rss_kb\":", jf);
        if (c->rss_kb > 0) fprintf(jf, "%ld", c->rss_kb); else fputs("null", jf);
        fputs(",\"idle_pct\":", jf); pkcb_put_json_num(jf, c->failed ? -1 : c->idle_pct);
        fputs(",\"speedup\":", jf); pkcb_put_json_num(jf, speedup);
        fputs(",\"checksum\":", jf);
        const char *cs = NULL;
        for (int i = 0; i < c->nruns && !cs; i++) if (c->runs[i].status == PKB_OK) cs = c->runs[i].checksum;
        if (cs) pkcb_put_json_string(jf, cs); else fputs("null", jf);
        fputs(",\"check\":", jf); pkcb_put_json_string(jf, c->check);
        fputs(",\"status\":", jf); pkcb_put_json_string(jf, status ? status : "ok");
        fputs("}\n", jf);
        fflush(jf);
      }
      free(check);
      free(status);
    }
    fflush(stdout);

    /* Details of failures and mismatches. */
    for (int k = 0; k < nw; k++) {
      pkcb_cell *c = &cells[k];
      for (int i = 0; i < c->nruns; i++) {
        pkcb_run *r = &c->runs[i];
        if (r->status != PKB_OK) {
          char *s = pkcb_status_str(r);
          printf("  ! %s W=%d run %d: %s after %.1f s; stderr tail: %s\n", pg->name, c->w, i + 1, s, r->wall,
                 r->err_tail ? r->err_tail : "");
          free(s);
        } else if (any_mismatch) {
          printf("  ! %s W=%d run %d: %s\n", pg->name, c->w, i + 1, r->checksum);
        }
      }
    }
    for (int k = 0; k < nw; k++)
      for (int i = 0; i < cells[k].nruns; i++) { free(cells[k].runs[i].checksum); free(cells[k].runs[i].err_tail); }
    free(cells);
    unlink(wrapper);
    free(wrapper);
  }

  if (nskipped) {
    printf("\nskipped:\n");
    for (int p = 0; p < nprog; p++)
      if (sel[p] && progs[p].skip) printf("  %-20s %s\n", progs[p].name, progs[p].skip);
  }
  if (nmismatch) printf("\nMISMATCH: %d program(s) gave different checksums across runs or worker counts\n", nmismatch);
  if (nfailed) printf("\n%d row(s) failed (see the ! lines)\n", nfailed);
  if (pkcb_interrupted) printf("\ninterrupted\n");
  fflush(stdout);

  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  pkcb_rmdir(tmpdir);
  if (jf) fclose(jf);
  for (int p = 0; p < nprog; p++) {
    free(progs[p].name);
    free(progs[p].about);
    for (int i = 0; i < progs[p].nneeds; i++) free(progs[p].needs[i]);
    free((char *)progs[p].skip);
  }
  free(progs);
  free(sel);
  free(names);
  free(model);
  free(dir);
  free(fmk);
  /* exit 1 when a program failed or its answers differ across worker counts */
  return pkcb_interrupted ? 130 : (nmismatch || nfailed) ? 1 : 0;
}
