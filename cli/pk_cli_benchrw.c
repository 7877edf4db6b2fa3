/*
** pk_cli_benchrw.c — the rewriting entries of `pkanren bench` (SPEC §8).
** bench/rewrites/NAME.bench declares one in `;;! key: value` lines:
**
**   gen:    a shell command (repeatable) run in the entry's data directory
**           to make its inputs, which are cached under --cache by a hash
**           of the commands and of the $BENCH and $HERE files they name
**   pk:     `rewrite OPTIONS INPUTS` (repeatable: one group of rows each)
**           or `run FILE`, run as `pkanren rewrite -j W --stats OPTIONS
**           INPUTS -o OUT` or `pkanren run -j W --stats FILE`
**   rerun:  yes: the same rewrite again over the finished OUT, timed
**   exit:   the exit statuses of pkanren that are ok (default 0), e.g.
**           `0 1` where the inputs hold models that fail by design
**   peer:   a shell command that prints one line `peer NAME: key=value ...`
**           (wall, rss_kb, phase, rewrites, rate, check) or `peer NAME:
**           unavailable: WHY`
**   goal:   a line printed under the rows (repeatable)
**   versus: `whole`: the ratio line puts a run's in-process time against
**           the peer's whole process (default: against its phase)
**   about:, default: as for the programs
**
** In pk: lines $BENCH is the source tree's bench directory, $HERE the
** .bench file's directory and $DATA the generated inputs'; the shell lines
** get them as environment variables, the peer also $PKOUT: pkanren's
** output of the round (a rewrite's OUT directory, a run's stdout as a file).
**
** Per worker count W, medians over --runs (worker counts and the peer
** alternating): the whole process's wall time and peak RSS (wait4), and
** from --stats the rewriting phase, the rewrites and the models (a run:
** its --stats wall over the reps=N its output names, the in-process time
** of one query).  Answers before times: every run's output (OUT without
** summary.jsonl, or stdout) must hash alike at every W, and the ratios
** against the peer are printed only when the peer found pkanren's answer
** (check=ok).
*/
#include "pk_cli_benchrw.h"
#include "pk_obj.h"
#include "pk_read.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* One run of a pk: line at one worker count (and its rerun). */
typedef struct pkcli_benchrw_one {
  int status, code;
  double wall, phase, rerun; /* rerun < 0: none */
  long rss_kb;
  long long rewrites, models, redone; /* -1: not reported; redone: files the rerun did again */
  uint64_t sum;                       /* hash of the output */
  char *err_tail;
} pkcli_benchrw_one;

/* The runs of one pk: line at one W and their medians. */
typedef struct pkcli_benchrw_cell {
  int w, nruns;
  pkcli_benchrw_one runs[PKCLI_BENCH_MAXRUNS];
  bool failed;
  double wall, phase, rerun;
  long rss_kb;
  long long rewrites, models, redone;
} pkcli_benchrw_cell;

/* One pk: line: its command, output directory and cells. */
typedef struct pkcli_benchrw_case {
  char *label, *out; /* out: the rewrite's OUT, or the file of a run's stdout */
  char **argv;       /* argv[3] is wbuf */
  char wbuf[16];
  bool rewrite;
  const char *check; /* "ok", "MISMATCH", "-" */
  pkcli_benchrw_cell *cells;
} pkcli_benchrw_case;

/* The peer's runs and medians. */
typedef struct pkcli_benchrw_peer {
  char name[64];
  char *unavailable, *failure; /* malloc'd reasons, or NULL */
  int nruns;
  double wall[PKCLI_BENCH_MAXRUNS], phase[PKCLI_BENCH_MAXRUNS], rate[PKCLI_BENCH_MAXRUNS];
  long rss_kb;
  long long rewrites;
  int agree, differ; /* runs whose check said ok / DIFFERS */
  double mwall, mphase, mrate;
} pkcli_benchrw_peer;

/* ---- declarations ---------------------------------------------------------------------- */

/* s with $BENCH, $HERE and $DATA replaced (malloc'd). */
static char *pkcli_benchrw_subst(const char *s, const char *bench, const char *here, const char *data)
{
  const char *names[] = { "$BENCH", "$HERE", "$DATA" }, *vals[] = { bench, here, data ? data : "" };
  size_t cap = strlen(s) + 1, n = 0;
  for (int k = 0; k < 3; k++) cap += 4 * strlen(vals[k]);
  char *r = pko_xmalloc(cap);
  while (*s) {
    int k = 0;
    while (k < 3 && strncmp(s, names[k], strlen(names[k]))) k++;
    const char *v = k < 3 ? vals[k] : NULL;
    size_t add = v ? strlen(v) : 1;
    while (n + add + 1 > cap) r = pko_xrealloc(r, cap *= 2);
    memcpy(r + n, v ? v : s, add);
    n += add;
    s += v ? strlen(names[k]) : 1;
  }
  r[n] = 0;
  return r;
}

/* The file named by the $BENCH/ or $HERE/ reference at p (malloc'd), or
   NULL; *end after it. */
static char *pkcli_benchrw_ref(const char *p, const char *bench, const char *here, const char **end)
{
  const char *base = !strncmp(p, "$BENCH/", 7) ? bench : !strncmp(p, "$HERE/", 6) ? here : NULL;
  if (!base) return NULL;
  const char *s = strchr(p, '/') + 1, *e = s;
  while (*e && !isspace((unsigned char)*e) && !strchr("\"';&|<>()", *e)) e++;
  *end = e;
  return pkcli_bench_fmt("%s/%.*s", base, (int)(e - s), s);
}

/* The hash of e's gen lines and of the files they name (the cache key);
   sets *missing (malloc'd) to the first named file that is absent. */
static uint64_t pkcli_benchrw_key(const pkcli_benchrw_entry *e, const char *bench, char **missing)
{
  uint64_t h = PKO_FNV0;
  *missing = NULL;
  for (int g = 0; g < e->ngen; g++) {
    h = pko_fnv(h, e->gen[g], strlen(e->gen[g]) + 1);
    for (const char *p = e->gen[g], *end; *p; p++) {
      char *f = pkcli_benchrw_ref(p, bench, e->here, &end);
      if (!f) continue;
      size_t len;
      char *text = pkr_slurp(f, &len);
      if (text)
        h = pko_fnv(h, text, len);
      else if (!*missing)
        *missing = pko_xstrdup(f);
      free(text);
      free(f);
      p = end - 1;
    }
  }
  return h;
}

/* An `exit:` value (statuses 0..31, separated by spaces or commas) as a
   mask; {0} when there are none. */
static unsigned pkcli_benchrw_exits(const char *s)
{
  unsigned m = 0;
  char *end;
  for (long v = strtol(s, &end, 10); end != s; v = strtol(s, &end, 10)) {
    if (v >= 0 && v < 32) m |= 1u << v;
    s = end + strspn(end, " ,");
  }
  return m ? m : 1;
}

/* Entry dir/fname into *e; false if unreadable. */
static bool pkcli_benchrw_load(const char *dir, const char *fname, const char *bench, pkcli_benchrw_entry *e)
{
  char *path = pkcli_bench_fmt("%s/%s", dir, fname);
  char *text = pkr_slurp(path, NULL);
  free(path);
  if (!text) return false;
  memset(e, 0, sizeof *e);
  e->name = pkcli_bench_fmt("%.*s", (int)(strlen(fname) - 6), fname);
  e->about = pko_xstrdup("");
  e->here = pko_xstrdup(dir);
  e->def = true;
  e->exits = 1;
  char *key, *val;
  for (char *cur = text; pkcli_bench_header_next(&cur, false, &key, &val);) {
    if (!strcmp(key, "gen") && e->ngen < PKCLI_BENCHRW_MAX)
      e->gen[e->ngen++] = pko_xstrdup(val);
    else if (!strcmp(key, "pk") && e->npk < PKCLI_BENCHRW_MAX)
      e->pk[e->npk++] = pko_xstrdup(val);
    else if (!strcmp(key, "goal") && e->ngoal < PKCLI_BENCHRW_MAX)
      e->goal[e->ngoal++] = pko_xstrdup(val);
    else if (!strcmp(key, "peer") && !e->peer)
      e->peer = pko_xstrdup(val);
    else if (!strcmp(key, "exit"))
      e->exits = pkcli_benchrw_exits(val);
    else if (!strcmp(key, "rerun"))
      e->rerun = !strncasecmp(val, "yes", 3);
    else if (!strcmp(key, "versus"))
      e->versus_whole = !strncasecmp(val, "whole", 5);
    else if (!strcmp(key, "default"))
      e->def = strncasecmp(val, "no", 2) != 0;
    else if (!strcmp(key, "about")) {
      free(e->about);
      e->about = pko_xstrdup(val);
    }
  }
  free(text);
  char *missing;
  e->key = pkcli_benchrw_key(e, bench, &missing);
  if (missing) e->skip = pkcli_bench_fmt("its generator %s is missing", missing);
  for (int c = 0; c < e->npk && !e->skip; c++)
    if (strncmp(e->pk[c], "rewrite ", 8) && strncmp(e->pk[c], "run ", 4))
      e->skip = pkcli_bench_fmt("pk: must start with rewrite or run: %s", e->pk[c]);
  if (!e->npk && !e->skip) e->skip = pko_xstrdup("no pk: line");
  free(missing);
  return true;
}

/* SPEC §8's order; other entries come afterwards, alphabetically. */
static const char *const pkcli_benchrw_order[] = { "unitlaw-1m", "bulk-10k", "stats-10k", "walko-1023" };

static int pkcli_benchrw_rank(const char *name)
{
  return pkcli_bench_rank(pkcli_benchrw_order, (int)(sizeof pkcli_benchrw_order / sizeof pkcli_benchrw_order[0]), name);
}

/* qsort order of entries: pkcli_benchrw_order, then by name. */
static int pkcli_benchrw_cmp(const void *a, const void *b)
{
  const char *x = ((const pkcli_benchrw_entry *)a)->name, *y = ((const pkcli_benchrw_entry *)b)->name;
  int rx = pkcli_benchrw_rank(x), ry = pkcli_benchrw_rank(y);
  return rx != ry ? rx - ry : strcmp(x, y);
}

pkcli_benchrw_entry *pkcli_benchrw_discover(const char *dir, const char *bench, int *n)
{
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return NULL;
  int cap = 8;
  pkcli_benchrw_entry *v = pko_xmalloc(sizeof *v * (size_t)cap);
  struct dirent *de;
  while ((de = readdir(d))) {
    size_t len = strlen(de->d_name);
    if (de->d_name[0] == '.' || len < 7 || strcmp(de->d_name + len - 6, ".bench")) continue;
    if (*n == cap) v = pko_xrealloc(v, sizeof *v * (size_t)(cap *= 2));
    if (pkcli_benchrw_load(dir, de->d_name, bench, &v[*n])) (*n)++;
  }
  closedir(d);
  qsort(v, (size_t)*n, sizeof *v, pkcli_benchrw_cmp);
  return v;
}

void pkcli_benchrw_free(pkcli_benchrw_entry *v, int n)
{
  for (int i = 0; i < n; i++) {
    pkcli_benchrw_entry *e = &v[i];
    for (int k = 0; k < e->ngen; k++) free(e->gen[k]);
    for (int k = 0; k < e->npk; k++) free(e->pk[k]);
    for (int k = 0; k < e->ngoal; k++) free(e->goal[k]);
    free(e->name);
    free(e->about);
    free(e->here);
    free(e->peer);
    free(e->skip);
  }
  free(v);
}

void pkcli_benchrw_list(const pkcli_benchrw_entry *v, int n)
{
  for (int i = 0; i < n; i++) {
    printf("%-20s rewriting %s%s\n", v[i].name, v[i].def ? "" : "non-default ", v[i].about);
    if (v[i].skip) printf("%-20s (skipped: %s)\n", "", v[i].skip);
  }
  fflush(stdout);
}

/* ---- inputs ---------------------------------------------------------------------------- */

/* mkdir -p p; false on failure. */
static bool pkcli_benchrw_mkdirs(const char *p)
{
  char *s = pko_xstrdup(p);
  for (char *q = s + 1; *q; q++)
    if (*q == '/') {
      *q = 0;
      mkdir(s, 0777);
      *q = '/';
    }
  bool ok = mkdir(s, 0777) == 0 || errno == EEXIST;
  free(s);
  return ok && pkcli_bench_is_dir(p);
}

/* Remove the cache's NAME-<16 hex> directories other than keep. */
static void pkcli_benchrw_drop_stale(const char *cache, const char *name, const char *keep)
{
  DIR *d = opendir(cache);
  if (!d) return;
  size_t l = strlen(name);
  struct dirent *de;
  while ((de = readdir(d))) {
    const char *s = de->d_name;
    if (strncmp(s, name, l) || s[l] != '-' || strlen(s + l + 1) != 16 || !strcmp(s, keep)) continue;
    if (strspn(s + l + 1, "0123456789abcdef") != 16) continue;
    char *p = pkcli_bench_fmt("%s/%s", cache, s);
    pkcli_bench_rmtree(p);
    free(p);
  }
  closedir(d);
}

/* Runs the shell line cmd in cwd with $BENCH, $HERE, $DATA (and $PKOUT
   when not NULL) set. */
static void pkcli_benchrw_sh(const char *cmd, const char *cwd, const char *bench, const char *here, const char *data,
                             const char *pkout, double timeout, const pkcli_bench_env *env, pkcli_bench_child *c)
{
  char *vars[] = { pkcli_bench_fmt("BENCH=%s", bench), pkcli_bench_fmt("HERE=%s", here),
                   pkcli_bench_fmt("DATA=%s", data ? data : ""), pkout ? pkcli_bench_fmt("PKOUT=%s", pkout) : NULL,
                   NULL };
  char *argv[] = { "sh", "-c", (char *)cmd, NULL };
  pkcli_bench_spawn(env->tmpdir, "/bin/sh", argv, cwd, vars, timeout, c);
  for (int i = 0; vars[i]; i++) free(vars[i]);
}

/* Write text to path; false on failure. */
static bool pkcli_benchrw_write(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  if (!f) return false;
  bool ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

/* The data directory of e (malloc'd): cache/NAME-KEY, made by its gen
   lines unless an earlier run made it (its .complete stamp); NULL after a
   message when a generator failed. */
static char *pkcli_benchrw_inputs(const pkcli_benchrw_entry *e, const char *bench, const char *cache,
                                  const pkcli_bench_env *env)
{
  char *leaf = pkcli_bench_fmt("%s-%016llx", e->name, (unsigned long long)e->key);
  char *data = pkcli_bench_fmt("%s/%s", cache, leaf), *stamp = pkcli_bench_fmt("%s/.complete", data);
  bool ok = pkcli_bench_is_file(stamp);
  if (!ok && !pkcli_benchrw_mkdirs(cache))
    printf("  ! %s: cannot create the cache directory %s: %s\n", e->name, cache, strerror(errno));
  else if (!ok) {
    pkcli_benchrw_drop_stale(cache, e->name, leaf);
    pkcli_bench_rmtree(data);
    ok = pkcli_benchrw_mkdirs(data);
    fprintf(stderr, "pkanren bench: %s: generating its inputs into %s\n", e->name, data);
    double t = 0;
    for (int g = 0; g < e->ngen && ok; g++) {
      pkcli_bench_child c;
      pkcli_benchrw_sh(e->gen[g], data, bench, e->here, data, NULL, 0, env, &c);
      t += c.wall;
      if (c.status != PKCLI_BENCH_OK) {
        char *st = pkcli_bench_status_str(c.status, c.code), *tail = pkcli_bench_err_tail(c.err);
        printf("  ! %s: the generator `%s` failed: %s; stderr tail: %s\n", e->name, e->gen[g], st, tail);
        free(st);
        free(tail);
        ok = false;
      }
      free(c.out);
      free(c.err);
    }
    if (ok) {
      char *line = pkcli_bench_fmt("generated in %.1f s\n", t);
      ok = pkcli_benchrw_write(stamp, line);
      free(line);
    }
    if (!ok) pkcli_bench_rmtree(data);
  }
  free(leaf);
  free(stamp);
  if (!ok) free(data);
  return ok ? data : NULL;
}

/* ---- one run ------------------------------------------------------------------------------ */

/* The hash of the files under dir (names relative to root), in name
   order, summary.jsonl at the top left out (it holds times). */
static uint64_t pkcli_benchrw_hash_tree(uint64_t h, const char *dir, const char *rel)
{
  struct dirent **v;
  int n = scandir(dir, &v, NULL, alphasort);
  for (int i = 0; i < n; i++) {
    const char *nm = v[i]->d_name;
    if (strcmp(nm, ".") && strcmp(nm, "..") && (*rel || strcmp(nm, "summary.jsonl"))) {
      char *p = pkcli_bench_fmt("%s/%s", dir, nm), *r = pkcli_bench_fmt("%s%s%s", rel, *rel ? "/" : "", nm);
      h = pko_fnv(h, r, strlen(r) + 1);
      size_t len;
      char *text = pkcli_bench_is_dir(p) ? NULL : pkr_slurp(p, &len);
      h = text ? pko_fnv(h, text, len) : pkcli_benchrw_hash_tree(h, p, r);
      free(text);
      free(p);
      free(r);
    }
    free(v[i]);
  }
  if (n >= 0) free(v);
  return h;
}

/* A rewrite's --stats lines into r: the phase, rewrites, models, files
   done.  The phase is printed to the millisecond, so where there are
   rewrites it is taken as rewrites over their rate (six digits). */
static void pkcli_benchrw_rewrite_stats(const char *err, pkcli_benchrw_one *r, long long *files_done)
{
  *files_done = -1;
  for (const char *p = err; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    unsigned long long a, b;
    double rd, rw, rate = 0;
    if (sscanf(p, "stats: files %llu done, %*u skipped (%*u by their status alone); models %llu", &a, &b) == 2) {
      *files_done = (long long)a;
      r->models = (long long)b;
    } else if (sscanf(p, "stats: read %lf s, rewrite %lf s", &rd, &rw) == 2)
      r->phase = rw;
    else if (sscanf(p, "stats: rewrites %llu (%lf/s", &a, &rate) >= 1) {
      r->rewrites = (long long)a;
      if (a > 0 && rate > 0) r->phase = (double)a / rate;
    }
  }
}

/* A run's in-process time of one query into r: its --stats wall over the
   reps=N of its output (1 without). */
static void pkcli_benchrw_run_stats(const char *out, const char *err, pkcli_benchrw_one *r)
{
  const char *w = strstr(err, "stats: answers printed "), *reps = strstr(out, "reps=");
  double wall;
  long n = reps ? strtol(reps + 5, NULL, 10) : 1;
  if (w && sscanf(w, "stats: answers printed %*u, wall %lf s", &wall) == 1) r->phase = wall / (double)(n > 0 ? n : 1);
}

/* c's status, where the exit statuses of the mask exits count as ok. */
static int pkcli_benchrw_status(const pkcli_bench_child *c, unsigned exits)
{
  bool ok = c->status == PKCLI_BENCH_EXIT && c->code >= 0 && c->code < 32 && (exits >> c->code & 1u);
  return ok ? PKCLI_BENCH_OK : c->status;
}

/* One run of case cs of e at worker count w into r (and its rerun). */
static void pkcli_benchrw_once(pkcli_benchrw_case *cs, const pkcli_benchrw_entry *e, int w, const pkcli_bench_env *env,
                               pkcli_benchrw_one *r)
{
  memset(r, 0, sizeof *r);
  r->phase = r->rerun = -1;
  r->rewrites = r->models = r->redone = -1;
  snprintf(cs->wbuf, sizeof cs->wbuf, "%d", w);
  if (cs->rewrite) pkcli_bench_rmtree(cs->out);
  pkcli_bench_child c;
  pkcli_bench_spawn(env->tmpdir, pkcli_bench_exe(), cs->argv, NULL, NULL, env->timeout, &c);
  r->status = pkcli_benchrw_status(&c, e->exits);
  r->code = c.code;
  r->wall = c.wall;
  r->rss_kb = c.rss_kb;
  long long done;
  if (cs->rewrite) {
    pkcli_benchrw_rewrite_stats(c.err, r, &done);
    r->sum = pkcli_benchrw_hash_tree(PKO_FNV0, cs->out, "");
  } else {
    pkcli_benchrw_run_stats(c.out, c.err, r);
    r->sum = pko_fnv(PKO_FNV0, c.out, strlen(c.out));
    if (!pkcli_benchrw_write(cs->out, c.out)) {
      r->status = PKCLI_BENCH_SPAWN;
      r->code = errno;
    }
  }
  if (r->status == PKCLI_BENCH_OK && e->rerun && cs->rewrite) {
    pkcli_bench_child c2;
    pkcli_bench_spawn(env->tmpdir, pkcli_bench_exe(), cs->argv, NULL, NULL, env->timeout, &c2);
    pkcli_benchrw_one r2 = { 0 };
    pkcli_benchrw_rewrite_stats(c2.err, &r2, &r->redone);
    r->rerun = c2.wall;
    r->status = pkcli_benchrw_status(&c2, e->exits);
    r->code = c2.code;
    free(c.err);
    c.err = c2.err;
    free(c2.out);
  }
  if (r->status != PKCLI_BENCH_OK) r->err_tail = pkcli_bench_err_tail(c.err);
  free(c.out);
  free(c.err);
}

/* The peer's `peer NAME: ...` line into p for run i; false (and
   p->failure or p->unavailable set) when there is none to use. */
static bool pkcli_benchrw_peer_line(const pkcli_bench_child *c, pkcli_benchrw_peer *p, int i)
{
  const char *l = c->out;
  while (l && strncmp(l, "peer ", 5)) {
    l = strchr(l, '\n');
    if (l) l++;
  }
  const char *colon = l ? strchr(l, ':') : NULL, *nl = l ? strchr(l, '\n') : NULL;
  if (c->status != PKCLI_BENCH_OK || !colon || (nl && colon > nl)) {
    char *st = pkcli_bench_status_str(c->status, c->code), *tail = pkcli_bench_err_tail(c->err);
    const char *why = c->status != PKCLI_BENCH_OK ? "" : l ? ", no `peer NAME:` in its line" : ", no peer line";
    p->failure = pkcli_bench_fmt("%s%s; stderr tail: %s", st, why, tail);
    free(st);
    free(tail);
    return false;
  }
  snprintf(p->name, sizeof p->name, "%.*s", (int)(colon - l - 5), l + 5);
  char *rest = pkcli_bench_fmt("%.*s", nl ? (int)(nl - colon - 1) : (int)strlen(colon + 1), colon + 1);
  char *t = pkcli_bench_trim(rest);
  if (!strncmp(t, "unavailable:", 12)) {
    p->unavailable = pko_xstrdup(pkcli_bench_trim(t + 12));
    free(rest);
    return false;
  }
  p->wall[i] = c->wall;
  p->phase[i] = p->rate[i] = -1;
  for (char *kv = strtok(t, " \t"); kv; kv = strtok(NULL, " \t")) {
    char *eq = strchr(kv, '=');
    if (!eq) continue;
    *eq++ = 0;
    double v = strtod(eq, NULL);
    if (!strcmp(kv, "wall")) p->wall[i] = v;
    if (!strcmp(kv, "phase")) p->phase[i] = v;
    if (!strcmp(kv, "rate") && isdigit((unsigned char)*eq)) p->rate[i] = v;
    if (!strcmp(kv, "rewrites")) p->rewrites = strtoll(eq, NULL, 10);
    if (!strcmp(kv, "rss_kb") && (long)v > p->rss_kb) p->rss_kb = (long)v;
    if (!strcmp(kv, "check")) {
      p->agree += !strcmp(eq, "ok");
      p->differ += !strcmp(eq, "DIFFERS");
    }
  }
  free(rest);
  return true;
}

/* One run of e's peer (pkout: pkanren's output of this round). */
static void pkcli_benchrw_peer_once(const pkcli_benchrw_entry *e, const char *bench, const char *data,
                                    const char *pkout, const pkcli_bench_env *env, pkcli_benchrw_peer *p)
{
  pkcli_bench_child c;
  pkcli_benchrw_sh(e->peer, data ? data : e->here, bench, e->here, data, pkout, env->timeout, env, &c);
  if (c.rss_kb > p->rss_kb) p->rss_kb = c.rss_kb;
  if (pkcli_benchrw_peer_line(&c, p, p->nruns)) p->nruns++;
  free(c.out);
  free(c.err);
}

/* ---- summaries, rows, records ---------------------------------------------------------- */

/* Medians over the ok runs of a cell, the largest peak RSS over all. */
static void pkcli_benchrw_summarise(pkcli_benchrw_cell *c)
{
  double wall[PKCLI_BENCH_MAXRUNS], phase[PKCLI_BENCH_MAXRUNS], rerun[PKCLI_BENCH_MAXRUNS];
  int n = 0, np = 0, nr = 0;
  c->rewrites = c->models = c->redone = -1;
  for (int i = 0; i < c->nruns; i++) {
    pkcli_benchrw_one *r = &c->runs[i];
    if (r->rss_kb > c->rss_kb) c->rss_kb = r->rss_kb;
    if (r->status != PKCLI_BENCH_OK) {
      c->failed = true;
      continue;
    }
    wall[n++] = r->wall;
    if (r->phase >= 0) phase[np++] = r->phase;
    if (r->rerun >= 0) rerun[nr++] = r->rerun;
    if (r->rewrites >= 0) c->rewrites = r->rewrites;
    if (r->models >= 0) c->models = r->models;
    if (r->redone > c->redone) c->redone = r->redone;
  }
  c->wall = pkcli_bench_median(wall, n);
  c->phase = pkcli_bench_median(phase, np);
  c->rerun = pkcli_bench_median(rerun, nr);
}

/* Every ok run of every cell of cs must hash alike; sets cs->check. */
static bool pkcli_benchrw_check(pkcli_benchrw_case *cs, int nw)
{
  bool seen = false, same = true;
  uint64_t ref = 0;
  for (int k = 0; k < nw; k++)
    for (int i = 0; i < cs->cells[k].nruns; i++) {
      const pkcli_benchrw_one *r = &cs->cells[k].runs[i];
      if (r->status != PKCLI_BENCH_OK) continue;
      if (seen && r->sum != ref) same = false;
      ref = r->sum;
      seen = true;
    }
  cs->check = !seen ? "-" : same ? "ok" : "MISMATCH";
  return !same;
}

#define PKCLI_BENCHRW_ROW "%-20s %2s %8s %8s %9s %8s %8s %7s %6s %7s %7s %7s  %s\n"

void pkcli_benchrw_header(void)
{
  printf(PKCLI_BENCHRW_ROW, "rewriting", "W", "wall s", "phase s", "rewrites", "rewr/s", "models/s", "peak MB",
         "wall x", "phase x", "rerun s", "rerun/1", "check");
  printf("%.*s\n", 124,
         "------------------------------------------------------------------------------------------------------------"
         "----------------");
  fflush(stdout);
}

/* A ratio with 2 decimals, or "-". */
static void pkcli_benchrw_fmt_ratio(char *buf, size_t n, double a, double b)
{
  if (a > 0 && b > 0)
    snprintf(buf, n, "%.2f", a / b);
  else
    snprintf(buf, n, "-");
}

/* A phase's seconds: 4 decimals below 1 s (phases of milliseconds). */
static void pkcli_benchrw_fmt_phase(char *buf, size_t n, double x)
{
  if (x >= 0 && x < 1)
    snprintf(buf, n, "%.4f", x);
  else
    pkcli_bench_fmt_secs(buf, n, x);
}

/* A count, or "-" when negative. */
static void pkcli_benchrw_fmt_count(char *buf, size_t n, long long x)
{
  if (x >= 0)
    snprintf(buf, n, "%lld", x);
  else
    snprintf(buf, n, "-");
}

/* Numbers per second: count over seconds, -1 without both. */
static double pkcli_benchrw_per_s(long long count, double secs)
{
  return count == 0 ? 0 : count > 0 && secs > 0 ? count / secs : -1; /* none in a phase too short to time: 0/s */
}

/* The --json record of cell c of case cs (base: the W=1 cell or NULL). */
static void pkcli_benchrw_json(const pkcli_bench_env *env, const pkcli_benchrw_case *cs, const pkcli_benchrw_cell *c,
                               const pkcli_benchrw_cell *base, const char *status)
{
  FILE *jf = env->jf;
  bool ok = !c->failed;
  pkcli_bench_json_head(env, cs->label, c->w);
  fprintf(jf, ",\"kind\":\"%s\",\"runs\":%d,\"wall_s\":", cs->rewrite ? "rewrite" : "run", c->nruns);
  pkcli_bench_put_json_num(jf, ok ? c->wall : -1);
  fputs(",\"wall_runs_s\":[", jf);
  for (int i = 0; i < c->nruns; i++) fprintf(jf, "%s%.6g", i ? "," : "", c->runs[i].wall);
  fputs("],\"phase_runs_s\":[", jf);
  for (int i = 0; i < c->nruns; i++) fprintf(jf, "%s%.6g", i ? "," : "", c->runs[i].phase);
  fputs("],\"phase_s\":", jf);
  pkcli_bench_put_json_num(jf, ok ? c->phase : -1);
  fputs(",\"rewrites\":", jf);
  pkcli_bench_put_json_count(jf, c->rewrites);
  fputs(",\"rewrites_per_s\":", jf);
  pkcli_bench_put_json_num(jf, pkcli_benchrw_per_s(c->rewrites, c->phase));
  fputs(",\"models\":", jf);
  pkcli_bench_put_json_count(jf, c->models);
  fputs(",\"models_per_s\":", jf);
  pkcli_bench_put_json_num(jf, ok ? pkcli_benchrw_per_s(c->models, c->wall) : -1);
  fprintf(jf, ",\"peak_rss_kb\":%ld,\"speedup\":", c->rss_kb);
  pkcli_bench_put_json_num(jf, base && ok && c->wall > 0 ? base->wall / c->wall : -1);
  fputs(",\"phase_speedup\":", jf);
  pkcli_bench_put_json_num(jf, base && ok && c->phase > 0 && base->phase > 0 ? base->phase / c->phase : -1);
  fputs(",\"rerun_s\":", jf);
  pkcli_bench_put_json_num(jf, ok ? c->rerun : -1);
  fputs(",\"rerun_ratio\":", jf);
  pkcli_bench_put_json_num(jf, ok && c->rerun >= 0 && c->wall > 0 ? c->rerun / c->wall : -1);
  fputs(",\"check\":", jf);
  pkcli_bench_put_json_string(jf, cs->check);
  fputs(",\"status\":", jf);
  pkcli_bench_put_json_string(jf, status ? status : "ok");
  fputs("}\n", jf);
  fflush(jf);
}

/* The row of cell c of case cs; the first failed run's status (malloc'd)
   or NULL. */
static char *pkcli_benchrw_row(const pkcli_benchrw_case *cs, const pkcli_benchrw_cell *c, bool first,
                               const pkcli_benchrw_cell *base)
{
  char wb[16], tb[32], pb[32], rwb[32], rsb[32], mb[32], mem[32], sw[32], sp[32], rrb[32], rrr[32];
  bool ok = !c->failed;
  char *status = NULL;
  for (int i = 0; i < c->nruns && !status; i++)
    if (c->runs[i].status != PKCLI_BENCH_OK) status = pkcli_bench_status_str(c->runs[i].status, c->runs[i].code);
  snprintf(wb, sizeof wb, "%d", c->w);
  pkcli_bench_fmt_secs(tb, sizeof tb, ok ? c->wall : -1);
  pkcli_benchrw_fmt_phase(pb, sizeof pb, ok ? c->phase : -1);
  pkcli_benchrw_fmt_count(rwb, sizeof rwb, c->rewrites);
  pkcli_bench_fmt_rate(rsb, sizeof rsb, ok ? pkcli_benchrw_per_s(c->rewrites, c->phase) : -1);
  pkcli_bench_fmt_rate(mb, sizeof mb, ok ? pkcli_benchrw_per_s(c->models, c->wall) : -1);
  snprintf(mem, sizeof mem, "%.1f", c->rss_kb / 1024.0);
  pkcli_benchrw_fmt_ratio(sw, sizeof sw, base && ok ? base->wall : -1, c->wall);
  pkcli_benchrw_fmt_ratio(sp, sizeof sp, base && ok ? base->phase : -1, c->phase);
  pkcli_bench_fmt_secs(rrb, sizeof rrb, ok ? c->rerun : -1);
  pkcli_benchrw_fmt_ratio(rrr, sizeof rrr, ok ? c->rerun : -1, c->wall);
  char *check = status          ? pkcli_bench_fmt("%s; %s", status, cs->check)
                : c->redone > 0 ? pkcli_bench_fmt("%s; RERUN REDID %lld FILES", cs->check, c->redone)
                                : pko_xstrdup(cs->check);
  bool own_line = first && strlen(cs->label) > 20; /* a long label gets a line of its own */
  if (own_line) printf("%s\n", cs->label);
  printf(PKCLI_BENCHRW_ROW, first && !own_line ? cs->label : "", wb, tb, pb, rwb, rsb, mb, mem, sw, sp, rrb, rrr,
         check);
  free(check);
  return status;
}

/* The peer's row and --json record. */
static void pkcli_benchrw_peer_row(const pkcli_benchrw_entry *e, pkcli_benchrw_peer *p, const pkcli_bench_env *env)
{
  char label[96], tb[32], pb[32], rwb[32], rsb[32], mem[32];
  snprintf(label, sizeof label, "  %s", p->name[0] ? p->name : "peer");
  if (!p->nruns) {
    if (p->unavailable)
      printf("%-20s    unavailable: %s\n", label, p->unavailable);
    else
      printf("  ! %s: %s\n", p->name[0] ? p->name : "peer", p->failure ? p->failure : "not run: pkanren failed");
    return;
  }
  p->mwall = pkcli_bench_median(p->wall, p->nruns);
  p->mphase = pkcli_bench_median(p->phase, p->nruns);
  p->mrate = pkcli_bench_median(p->rate, p->nruns);
  pkcli_bench_fmt_secs(tb, sizeof tb, p->mwall);
  pkcli_benchrw_fmt_phase(pb, sizeof pb, p->mphase);
  pkcli_benchrw_fmt_count(rwb, sizeof rwb, p->rewrites);
  pkcli_bench_fmt_rate(rsb, sizeof rsb, p->mrate);
  snprintf(mem, sizeof mem, "%.1f", p->rss_kb / 1024.0);
  const char *check = p->differ ? "ANSWER DIFFERS" : p->agree == p->nruns ? "same answer" : "answer not checked";
  printf(PKCLI_BENCHRW_ROW, label, "-", tb, pb, rwb, rsb, "-", mem, "-", "-", "-", "-", check);
  if (p->failure) printf("  ! %s: %s\n", p->name, p->failure);
  if (!env->jf) return;
  char *name = pkcli_bench_fmt("%s (%s)", e->name, p->name);
  pkcli_bench_json_head(env, name, 1);
  free(name);
  fputs(",\"kind\":\"peer\",\"peer\":", env->jf);
  pkcli_bench_put_json_string(env->jf, p->name);
  fprintf(env->jf, ",\"runs\":%d,\"wall_s\":", p->nruns);
  pkcli_bench_put_json_num(env->jf, p->mwall);
  fputs(",\"wall_runs_s\":[", env->jf);
  for (int i = 0; i < p->nruns; i++) fprintf(env->jf, "%s%.6g", i ? "," : "", p->wall[i]);
  fputs("]", env->jf);
  fputs(",\"phase_s\":", env->jf);
  pkcli_bench_put_json_num(env->jf, p->mphase);
  fputs(",\"rewrites\":", env->jf);
  pkcli_bench_put_json_count(env->jf, p->rewrites);
  fputs(",\"rewrites_per_s\":", env->jf);
  pkcli_bench_put_json_num(env->jf, p->mrate);
  fprintf(env->jf, ",\"peak_rss_kb\":%ld,\"check\":\"%s\",\"status\":\"%s\"}\n", p->rss_kb,
          p->differ              ? "DIFFERS"
          : p->agree == p->nruns ? "ok"
                                 : "-",
          p->failure ? "failed" : "ok");
  fflush(env->jf);
}

/* The line of ratios against the peer at W=1 (c: the first case's cell;
   whole: a run's time against the peer's whole process). */
static void pkcli_benchrw_ratios(const pkcli_benchrw_case *cs, const pkcli_benchrw_cell *c, const pkcli_benchrw_peer *p,
                                 bool whole)
{
  if (!p->nruns || !c || c->failed) return;
  const char *n = p->name;
  if (p->differ || p->agree < p->nruns) {
    printf("  vs %s: %s\n", n, p->differ ? "the answers differ: no ratios" : "answers not checked: no ratios");
    return;
  }
  char rate[32], prate[32];
  printf("  vs %s (W=1):", n);
  if (cs->rewrite) {
    printf(" whole process %s/pk %.2fx;", n, p->mwall / c->wall);
    if (c->phase > 0 && p->mphase > 0) printf(" rewriting phase %s/pk %.2fx;", n, p->mphase / c->phase);
    if (c->phase > 0 && p->rewrites >= 0 && p->mrate > 0) {
      double r = (double)p->rewrites / c->phase;
      pkcli_bench_fmt_rate(rate, sizeof rate, r);
      pkcli_bench_fmt_rate(prate, sizeof prate, p->mrate);
      printf(" %s's rewrites / pk's phase %s/s vs %s's %s/s (%.2fx);", n, rate, n, prate, r / p->mrate);
    }
    if (p->rss_kb > 0) printf(" peak memory pk/%s %.2f", n, (double)c->rss_kb / (double)p->rss_kb);
    printf("\n");
  } else if (whole)
    printf(" pk's in-process over %s's whole process %.3f (pk %.4f s, %s %.3f s)\n", n, c->phase / p->mwall, c->phase,
           n, p->mwall);
  else
    printf(" in-process %s/pk %.0fx (%s %.3f s, pk %.4f s)\n", n, p->mphase / c->phase, n, p->mphase, c->phase);
}

/* ---- an entry ---------------------------------------------------------------------------- */

/* Case k of e: its argv (`pkanren CMD -j W --stats ARGS [-o OUT]`), its
   label and its output path under tmpdir. */
static void pkcli_benchrw_case_init(pkcli_benchrw_case *cs, const pkcli_benchrw_entry *e, int k, const char *bench,
                                    const char *data, const pkcli_bench_env *env)
{
  char *line = pkcli_benchrw_subst(e->pk[k], bench, e->here, data);
  char **w = pko_xcalloc(strlen(line) / 2 + 8, sizeof *w);
  int n = 0, rel = -1;
  cs->rewrite = !strncmp(line, "rewrite", 7);
  cs->out = pkcli_bench_fmt("%s/%s-%d%s", env->tmpdir, e->name, k, cs->rewrite ? "" : ".out");
  w[n++] = pko_xstrdup("pkanren");
  for (char *t = strtok(line, " \t"); t; t = strtok(NULL, " \t")) {
    if (n == 2) {
      w[n++] = pko_xstrdup("-j");
      w[n++] = cs->wbuf;
      w[n++] = pko_xstrdup("--stats");
    }
    if (!strcmp(t, "--relation")) rel = n + 1;
    w[n++] = pko_xstrdup(t);
  }
  if (cs->rewrite) {
    w[n++] = pko_xstrdup("-o");
    w[n++] = pko_xstrdup(cs->out);
  }
  cs->argv = w;
  cs->label = e->npk > 1 && rel > 0 && rel < n ? pkcli_bench_fmt("%s/%s", e->name, w[rel]) : pko_xstrdup(e->name);
  cs->cells = pko_xcalloc((size_t)env->nw, sizeof *cs->cells);
  for (int i = 0; i < env->nw; i++) cs->cells[i].w = env->ws[i];
  cs->check = "-";
  free(line);
}

static void pkcli_benchrw_case_free(pkcli_benchrw_case *cs, int nw)
{
  for (int i = 0; cs->argv[i]; i++)
    if (cs->argv[i] != cs->wbuf) free(cs->argv[i]);
  for (int k = 0; k < nw; k++)
    for (int i = 0; i < cs->cells[k].nruns; i++) free(cs->cells[k].runs[i].err_tail);
  pkcli_bench_rmtree(cs->out);
  free(cs->argv);
  free(cs->cells);
  free(cs->label);
  free(cs->out);
}

/* The rows of case cs, their records, the ! lines of failed runs. */
static void pkcli_benchrw_report(const pkcli_benchrw_case *cs, const pkcli_bench_env *env, pkcli_benchrw_tally *t)
{
  const pkcli_benchrw_cell *base = NULL;
  for (int k = 0; k < env->nw; k++)
    if (cs->cells[k].w == 1 && !cs->cells[k].failed) base = &cs->cells[k];
  for (int k = 0; k < env->nw; k++) {
    const pkcli_benchrw_cell *c = &cs->cells[k];
    char *status = pkcli_benchrw_row(cs, c, k == 0, base);
    if (status || c->redone > 0) t->failed++;
    if (env->jf) pkcli_benchrw_json(env, cs, c, base, status);
    free(status);
  }
  for (int k = 0; k < env->nw; k++)
    for (int i = 0; i < cs->cells[k].nruns; i++) {
      const pkcli_benchrw_one *r = &cs->cells[k].runs[i];
      if (r->status == PKCLI_BENCH_OK) continue;
      char *st = pkcli_bench_status_str(r->status, r->code);
      printf("  ! %s W=%d run %d: %s after %.1f s; stderr tail: %s\n", cs->label, cs->cells[k].w, i + 1, st, r->wall,
             r->err_tail ? r->err_tail : "");
      free(st);
    }
}

/* The runs: round after round, each case at each W (a W stops at its
   first failure), then the peer on the first case's output.  The worker
   counts go up in even rounds and down in odd ones, so that no W always
   runs right after the peer: on a virtual machine the memory a large
   peer gave back can be slow to touch again for the next process. */
static void pkcli_benchrw_measure(const pkcli_benchrw_entry *e, pkcli_benchrw_case *cs, const char *bench,
                                  const char *data, const pkcli_bench_env *env, pkcli_benchrw_peer *p)
{
  for (int i = 0; i < env->runs && !pkcli_bench_stopped(); i++) {
    bool pk_ok = true;
    for (int k = 0; k < e->npk; k++)
      for (int jj = 0; jj < env->nw && !pkcli_bench_stopped(); jj++) {
        int j = i % 2 ? env->nw - 1 - jj : jj;
        pkcli_benchrw_cell *c = &cs[k].cells[j];
        if (c->nruns && c->runs[c->nruns - 1].status != PKCLI_BENCH_OK) continue;
        pkcli_benchrw_once(&cs[k], e, c->w, env, &c->runs[c->nruns]);
        pk_ok &= c->runs[c->nruns++].status == PKCLI_BENCH_OK;
      }
    /* $PKOUT: the first case's output, of the round's last run */
    if (e->peer && pk_ok && !p->unavailable && !p->failure && !pkcli_bench_stopped())
      pkcli_benchrw_peer_once(e, bench, data, cs[0].out, env, p);
  }
}

void pkcli_benchrw_run(const pkcli_benchrw_entry *e, const char *bench, const char *cache, const pkcli_bench_env *env,
                       pkcli_benchrw_tally *t)
{
  char *data = NULL;
  if (e->ngen && !(data = pkcli_benchrw_inputs(e, bench, cache, env))) {
    t->failed++;
    return;
  }
  pkcli_benchrw_case *cs = pko_xcalloc((size_t)e->npk, sizeof *cs);
  for (int k = 0; k < e->npk; k++) pkcli_benchrw_case_init(&cs[k], e, k, bench, data, env);
  pkcli_benchrw_peer p;
  memset(&p, 0, sizeof p);
  p.rewrites = -1;
  pkcli_benchrw_measure(e, cs, bench, data, env, &p);
  if (!pkcli_bench_stopped()) {
    const pkcli_benchrw_cell *first = NULL;
    for (int k = 0; k < e->npk; k++) {
      for (int j = 0; j < env->nw; j++)
        if (cs[k].cells[j].nruns) pkcli_benchrw_summarise(&cs[k].cells[j]);
      if (pkcli_benchrw_check(&cs[k], env->nw)) t->mismatch++;
      pkcli_benchrw_report(&cs[k], env, t);
    }
    for (int j = 0; j < env->nw; j++)
      if (cs[0].cells[j].w == 1) first = &cs[0].cells[j];
    if (e->peer) {
      pkcli_benchrw_peer_row(e, &p, env);
      if (p.failure || (!p.nruns && !p.unavailable)) t->failed++;
      if (p.differ) t->mismatch++;
      if (!strcmp(cs[0].check, "ok")) pkcli_benchrw_ratios(&cs[0], first, &p, e->versus_whole);
    }
    for (int g = 0; g < e->ngoal; g++) printf("  goal: %s\n", e->goal[g]);
    fflush(stdout);
  }
  for (int k = 0; k < e->npk; k++) pkcli_benchrw_case_free(&cs[k], env->nw);
  free(cs);
  free(p.unavailable);
  free(p.failure);
  free(data);
}
