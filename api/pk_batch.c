/*
** pk_batch.c — bulk rewriting (pk_batch.h).  With one worker the files
** are done in order on the calling thread; with several, the input files
** are the branches of a query on the scheduler's pool (a branch is a range
** of files; forcing it does one file, splitting it halves it), each worker
** rewriting with its own context and writing each output file itself, and
** the calling thread appends the summary lines in input order.
*/
#include "pk_batch.h"
#include "pk_eval.h"
#include "pk_graph.h"
#include "pk_hcons.h"
#include "pk_load.h"
#include "pk_print.h"
#include "pk_read.h"
#include "pk_worker.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#ifndef PK_SRC_RELATIONS
#define PK_SRC_RELATIONS ""
#endif
#ifndef PK_DATA_RELATIONS
#define PK_DATA_RELATIONS ""
#endif

/* ---- rules -------------------------------------------------------------------------- */

static bool pkbt_readable(const char *p)
{
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

char *pkbt_rules_path(const char *rules)
{
  if (pkbt_readable(rules) || strchr(rules, '/')) return pko_xstrdup(rules);
  char exe[4096], buf[8192];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = 0;
  const char *dirs[3] = { PK_SRC_RELATIONS, NULL, PK_DATA_RELATIONS };
  char share[4200];
  if (n > 0) {
    snprintf(share, sizeof share, "%s/../share/pkanren", dirname(exe));
    dirs[1] = share;
  }
  for (int i = 0; i < 3; i++) {
    if (!dirs[i] || !dirs[i][0]) continue;
    snprintf(buf, sizeof buf, "%s/%s.scm", dirs[i], rules);
    if (pkbt_readable(buf)) return pko_xstrdup(buf);
  }
  return pko_xstrdup(rules);
}

bool pkbt_walker(const char *name, pkrw_walker *w)
{
  if (!name || !strcmp(name, "walko"))
    *w = PKRW_WALKO;
  else if (!strcmp(name, "non_obs_walko"))
    *w = PKRW_NON_OBS_WALKO;
  else
    return false;
  return true;
}

/* Can procedure v take two arguments?  Exact for closures and
   primitives; other procedures (goals used as procedures) are taken on
   trust. */
static bool pkbt_two_args(pk_val v, pk_srcpos *pos)
{
  if (pko_isa(v, PK_T_PRIM)) {
    const pko_prim *p = (const pko_prim *)v;
    return p->min <= 2 && (p->max < 0 || p->max >= 2);
  }
  if (!pko_isa(v, PK_T_CLOSURE)) return pke_procedurep(v);
  const pke_node *lam = ((const pke_closure *)v)->lam;
  *pos = lam->pos;
  return (lam->flags & 1) ? lam->a <= 2 : lam->a == 2;
}

pk_val pkbt_load_rules(const char *path, const char *relation)
{
  if (path) {
    pkl_opts lo = { 0 };
    int st = pkl_run_file(path, &lo);
    if (st == PK_STATUS_EXIT)
      pko_throw_at(PK_STATUS_RUNTIME, NULL, "%s: the rules called (exit %d)", path, lo.exit_code);
    if (st == PK_STATUS_FAILED) pko_throw_at(PK_STATUS_RUNTIME, NULL, "%s: a test in the rules failed", path);
    if (st != PK_STATUS_OK) {
      char msg[sizeof pko_err.msg];
      memcpy(msg, pko_err.msg, sizeof msg);
      pko_throw_at(st, NULL, "%s", msg);
    }
  }
  pk_srcpos pos = { path ? path : "<rules>", 1, 1 };
  pk_val v = pko_as_sym(pko_sym(relation))->value;
  if (v == PK_UNBOUND)
    pko_throw_at(PK_STATUS_STATIC, &pos, "relation %s is not defined%s%s", relation, path ? " by " : "",
                 path ? path : "");
  if (!pkbt_two_args(v, &pos)) pko_throw_at(PK_STATUS_STATIC, &pos, "%s is not a two-argument relation", relation);
  return v;
}

/* ---- keys ---------------------------------------------------------------------------- */

/* A file's text hashed eight bytes a step, continued from h (FNV-1a's
   byte loop was a fifth of a rerun that finds everything done). */
static uint64_t pkbt_hash_text(uint64_t h, const char *p, size_t n)
{
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 32;
  }
  return pko_fnv(h ^ n, p + i, n - i);
}

/* How long before it is read an input must have changed last for its
   status to stand for its text on a rerun: a later change, even to the
   same size, then shows in its change time on any file system whose
   timestamps are finer than this (git's "racy" index entries). */
#define PKBT_SETTLED_S 2

/* The stat key of an input of status st, taken just now: its device,
   inode, size, modification and change times under the batch's rules key
   (0 when it is no regular file or changed too lately to be told from a
   change to come).  A rerun that finds the same key skips the file
   without reading it. */
static uint64_t pkbt_stat_key(uint64_t base_key, const struct stat *st)
{
  time_t settled = time(NULL) - PKBT_SETTLED_S;
  if (!S_ISREG(st->st_mode) || st->st_mtim.tv_sec > settled || st->st_ctim.tv_sec > settled) return 0;
  uint64_t f[7] = { (uint64_t)st->st_dev,         (uint64_t)st->st_ino,          (uint64_t)st->st_size,
                    (uint64_t)st->st_mtim.tv_sec, (uint64_t)st->st_mtim.tv_nsec, (uint64_t)st->st_ctim.tv_sec,
                    (uint64_t)st->st_ctim.tv_nsec };
  uint64_t h = pkbt_hash_text(base_key, (const char *)f, sizeof f);
  return h ? h : 1;
}

/* ---- inputs -------------------------------------------------------------------------- */

/* One input file: where it is read from ("-": stdin), its path under
   the output directory, and its stat key as the inputs were listed when
   a summary could make it skippable (stated). */
typedef struct pkbt_in {
  char *path, *rel;
  uint64_t stat_key;
  bool stated;
} pkbt_in;

/* The inputs; base_key: the batch's rules key when the inputs' status is
   wanted as they are listed (a summary exists), else 0. */
typedef struct pkbt_ins {
  pkbt_in *v;
  size_t n, cap;
  uint64_t base_key;
} pkbt_ins;

/* Add an input (path and rel malloc'd, taken; st: its status, or NULL). */
static void pkbt_add(pkbt_ins *l, char *path, char *rel, const struct stat *st)
{
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->v = pko_xrealloc(l->v, l->cap * sizeof *l->v);
  }
  bool stated = st && l->base_key;
  l->v[l->n++] = (pkbt_in){ path, rel, stated ? pkbt_stat_key(l->base_key, st) : 0, stated };
}

static bool pkbt_suffix(const char *s, const char *suf)
{
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

/* a[0..an) and b[0..bn) joined by a slash (none when either is empty),
   malloc'd.  snprintf's "%s/%s" took 900 instructions a call, 15% of a
   rerun that finds everything done. */
static char *pkbt_join(const char *a, size_t an, const char *b, size_t bn)
{
  char *p = pko_xmalloc(an + bn + 2), *q = p;
  memcpy(q, a, an);
  q += an;
  if (an && bn) *q++ = '/';
  memcpy(q, b, bn);
  q[bn] = 0;
  return p;
}

/* Every .model file under dir (rel: its path under root).  A file is
   stat'ed here, by its name in the open directory, when its type is not
   told or its status is wanted: a lookup of one name, where a stat of its
   path later walks every directory above it again. */
static void pkbt_scan(pkbt_ins *l, const char *dir, const char *rel)
{
  DIR *d = opendir(dir);
  if (!d) pko_throw_at(PK_STATUS_STATIC, NULL, "cannot read directory %s: %s", dir, strerror(errno));
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    unsigned char type = e->d_type;
    bool model = pkbt_suffix(e->d_name, ".model");
    struct stat st;
    bool stated = false;
    if ((type != DT_DIR && type != DT_REG) || (type == DT_REG && model && l->base_key)) {
      stated = fstatat(dirfd(d), e->d_name, &st, 0) == 0;
      type = !stated ? DT_UNKNOWN : S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
    }
    if (type != DT_DIR && (type != DT_REG || !model)) continue;
    size_t nl = strlen(e->d_name);
    char *p = pkbt_join(dir, strlen(dir), e->d_name, nl), *r = pkbt_join(rel, strlen(rel), e->d_name, nl);
    if (type == DT_DIR) {
      pkbt_scan(l, p, r);
      free(p);
      free(r);
    } else {
      pkbt_add(l, p, r, stated ? &st : NULL);
    }
  }
  closedir(d);
}

/* An argument: stdin, a directory or a file (rel: as_written keeps a
   relative path as it is, for --files-from; else the file's name). */
static void pkbt_arg(pkbt_ins *l, const char *a, bool as_written)
{
  struct stat st;
  if (!strcmp(a, "-")) {
    pkbt_add(l, pko_xstrdup("-"), pko_xstrdup("stdin.model"), NULL);
    return;
  }
  if (stat(a, &st) != 0) pko_throw_at(PK_STATUS_STATIC, NULL, "cannot read %s: %s", a, strerror(errno));
  if (S_ISDIR(st.st_mode)) {
    pkbt_scan(l, a, "");
    return;
  }
  const char *rel = a;
  if (as_written && a[0] != '/' && !strstr(a, "..")) {
    while (!strncmp(rel, "./", 2)) rel += 2;
  } else {
    const char *b = strrchr(a, '/');
    rel = b ? b + 1 : a;
  }
  pkbt_add(l, pko_xstrdup(a), pko_xstrdup(rel), &st);
}

static int pkbt_cmp_path(const void *a, const void *b)
{
  return strcmp(((const pkbt_in *)a)->path, ((const pkbt_in *)b)->path);
}

static int pkbt_cmp_rel(const void *a, const void *b)
{
  return strcmp((*(const pkbt_in *const *)a)->rel, (*(const pkbt_in *const *)b)->rel);
}

/* The batch's input files: arguments and --files-from, sorted by path,
   then this shard's slice; two files with one output path are an error. */
static void pkbt_inputs(const pkbt_opts *o, pkbt_ins *l)
{
  for (size_t i = 0; i < o->ninputs; i++) pkbt_arg(l, o->inputs[i], false);
  if (o->files_from) {
    size_t len;
    char *text = pkr_slurp(o->files_from, &len);
    if (!text) pko_throw_at(PK_STATUS_STATIC, NULL, "cannot read %s: %s", o->files_from, strerror(errno));
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
      size_t n = strlen(line);
      if (n && line[n - 1] == '\r') line[--n] = 0;
      if (n) pkbt_arg(l, line, true);
    }
    free(text);
  }
  if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, pkbt_cmp_path);
  if (o->shard_n > 0) {
    size_t lo = l->n * (size_t)(o->shard_i - 1) / (size_t)o->shard_n,
           hi = l->n * (size_t)o->shard_i / (size_t)o->shard_n;
    if (lo) memmove(l->v, l->v + lo, (hi - lo) * sizeof *l->v);
    l->n = hi - lo;
  }
  pkbt_in **byrel = pko_xmalloc((l->n + 1) * sizeof *byrel);
  for (size_t i = 0; i < l->n; i++) byrel[i] = &l->v[i];
  qsort(byrel, l->n, sizeof *byrel, pkbt_cmp_rel);
  for (size_t i = 1; i < l->n; i++)
    if (!strcmp(byrel[i]->rel, byrel[i - 1]->rel)) {
      char msg[1024];
      snprintf(msg, sizeof msg, "%s and %s would both be written to %s", byrel[i - 1]->path, byrel[i]->path,
               byrel[i]->rel);
      free(byrel);
      pko_throw_at(PK_STATUS_STATIC, NULL, "%s", msg);
    }
  free(byrel);
}

/* ---- the summary ----------------------------------------------------------------------- */

/* One line of an earlier summary: what resume needs. */
typedef struct pkbt_old {
  char *file;
  uint64_t file_key;
  uint64_t stat_key; /* 0: none */
  bool failed;
  bool line_ok;     /* ok or unchanged */
  char *run;        /* the id of the run that wrote it */
  const char *text; /* the whole line, in the mapped summary */
  size_t len;
} pkbt_old;

/* The lines, their text in map (the summary mapped, mapped bytes) and
   their file and run names in arena (unescaped). */
typedef struct pkbt_olds {
  pkbt_old *v;
  size_t n, cap;
  char *map, *arena;
  size_t mapped;
} pkbt_olds;

static void pkbt_olds_free(pkbt_olds *o)
{
  free(o->v);
  if (o->map) munmap(o->map, o->mapped);
  free(o->arena);
  *o = (pkbt_olds){ 0 };
}

/* A JSON string's text as it is in a line, escapes and all (p NULL when
   absent).  Our lines escape \" and \\ only (pkbt_json_str), so two
   names are equal when their texts are. */
typedef struct pkbt_span {
  const char *p;
  size_t n;
} pkbt_span;

static bool pkbt_span_eq(pkbt_span a, pkbt_span b) { return a.n == b.n && !memcmp(a.p, b.p, a.n); }

static bool pkbt_span_is(pkbt_span a, const char *s) { return a.p && a.n == strlen(s) && !memcmp(a.p, s, a.n); }

/* The string fields of a summary line that resume needs. */
typedef struct pkbt_fields {
  pkbt_span file, file_key, stat_key, status, run;
} pkbt_fields;

/* The end of the JSON string starting at p, in a line ending at e: its
   closing quote, or e. */
static const char *pkbt_str_end(const char *p, const char *e)
{
  for (;;) {
    const char *q = memchr(p, '"', (size_t)(e - p)), *b;
    if (!q) return e;
    if (!(b = memchr(p, '\\', (size_t)(q - p)))) return q;
    p = b + 2; /* b < q: the escaped character is there */
  }
}

/* The text of span s unescaped at *w, 0-terminated; *w moved past it. */
static char *pkbt_unescape(pkbt_span s, char **w)
{
  char *out = *w, *o = out;
  const char *p = s.p, *e = s.p + s.n;
  for (const char *b; (b = memchr(p, '\\', (size_t)(e - p))) && b + 1 < e; p = b + 2) {
    memcpy(o, p, (size_t)(b - p));
    o += b - p;
    *o++ = b[1];
  }
  memcpy(o, p, (size_t)(e - p));
  o += e - p;
  *o++ = 0;
  *w = o;
  return out;
}

/* One pass over the line's "name":value pairs (a rerun reads every line of
   the summary: four strstr scans a line were half its time). */
static void pkbt_fields_of(const char *line, const char *e, pkbt_fields *f)
{
  *f = (pkbt_fields){ 0 };
  for (const char *p = line; p < e && (p = memchr(p, '"', (size_t)(e - p)));) {
    const char *name = ++p;
    p = pkbt_str_end(p, e);
    size_t nl = (size_t)(p - name);
    if (e - p < 3 || p[1] != ':' || p[2] != '"') { /* a number or null: the next quote opens a name */
      p += p < e;
      continue;
    }
    const char *v = p += 3;
    p = pkbt_str_end(p, e);
    pkbt_span *slot = nl == 4 && !memcmp(name, "file", 4)       ? &f->file
                      : nl == 8 && !memcmp(name, "file_key", 8) ? &f->file_key
                      : nl == 8 && !memcmp(name, "stat_key", 8) ? &f->stat_key
                      : nl == 6 && !memcmp(name, "status", 6)   ? &f->status
                      : nl == 3 && !memcmp(name, "run", 3)      ? &f->run
                                                                : NULL;
    if (slot && !slot->p) *slot = (pkbt_span){ v, (size_t)(p - v) };
    p += p < e;
  }
}

/* Does the text at p, which ends at e, start with the literal lit? */
#define pkbt_at(p, e, lit) ((size_t)((e) - (p)) >= sizeof lit - 1 && !memcmp((p), lit, sizeof lit - 1))

/* pkbt_fields_of for a line as pkbt_line writes it, of len bytes: the
   fields where it puts them, checked, so that a rerun does not scan the
   names and values of each of its lines.  False when the line is laid
   out otherwise (an older version's, or edited): then the scan. */
static bool pkbt_fields_fast(const char *line, size_t len, pkbt_fields *f)
{
  static const char tail[] = ",\"file_key\":\"0123456789abcdef\",\"stat_key\":\"0123456789abcdef\",\"run\":\"";
  const char *p = line, *e = line + len;
  if (len < 64 + sizeof tail || !pkbt_at(p, e, "{\"model\":") || !pkbt_at(e - 2, e, "\"}")) return false;
  p += 9;
  if (pkbt_at(p, e, "null"))
    p += 4;
  else if (*p == '"' && (p = pkbt_str_end(p + 1, e)) < e)
    p++;
  if (!pkbt_at(p, e, ",\"file\":\"")) return false;
  f->file.p = p += 9;
  p = pkbt_str_end(p, e);
  f->file.n = (size_t)(p - f->file.p);
  if (!pkbt_at(p, e, "\",\"status\":\"")) return false;
  f->status.p = p += 12;
  if (!(p = memchr(p, '"', (size_t)(e - p)))) return false;
  f->status.n = (size_t)(p - f->status.p);
  const char *r = e - 2;
  while (r > p && r[-1] != '"') r--;
  const char *t = r - (sizeof tail - 1);
  if (t <= p || !pkbt_at(t, e, ",\"file_key\":\"") || !pkbt_at(t + 29, e, "\",\"stat_key\":\"") ||
      !pkbt_at(t + 59, e, "\",\"run\":\""))
    return false;
  f->file_key = (pkbt_span){ t + 13, 16 };
  f->stat_key = (pkbt_span){ t + 43, 16 };
  f->run = (pkbt_span){ r, (size_t)(e - 2 - r) };
  return true;
}

/* The hexadecimal number of span s (its first 16 digits, up to a
   character that is not one). */
static uint64_t pkbt_span_hex(pkbt_span s)
{
  /* a digit's value plus one, 0 for any other byte: one load, where
     compares mispredicted on the keys' random digits */
  static const unsigned char val[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16
  };
  uint64_t x = 0;
  for (size_t i = 0; i < s.n && i < 16; i++) {
    unsigned d = val[(unsigned char)s.p[i]];
    if (!d) break;
    x = x << 4 | (d - 1);
  }
  return x;
}

/* The lines of DIR/summary.jsonl from earlier runs (none when absent).
   A rerun reads every line: the file is mapped, not copied (copying took
   a page fault every 4 KB), the lines stay where they are, and their
   names go to one arena, once for a file's run of lines. */
static void pkbt_read_summary(const char *path, pkbt_olds *o)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0) return;
  if (fstat(fd, &st) != 0 || st.st_size <= 0) {
    close(fd);
    return;
  }
  size_t len = (size_t)st.st_size;
  char *text = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0), *w;
  close(fd);
  if (text == MAP_FAILED) return;
  o->map = text;
  o->mapped = len;
  o->arena = w = pko_xmalloc(len + 1);
  pkbt_span lastfile = { 0 }, lastrun = { 0 };
  char *file = NULL, *run = NULL;
  for (const char *line = text, *end = text + len, *e; line < end; line = e + 1) {
    if (!(e = memchr(line, '\n', (size_t)(end - line)))) e = end;
    pkbt_fields f = { 0 };
    if (!pkbt_fields_fast(line, (size_t)(e - line), &f)) pkbt_fields_of(line, e, &f);
    if (!f.file.p || !f.file_key.p || !f.status.p || !f.run.p) continue;
    if (o->n == o->cap) {
      o->cap = o->cap ? 2 * o->cap : 256;
      o->v = pko_xrealloc(o->v, o->cap * sizeof *o->v);
    }
    bool ok = pkbt_span_is(f.status, "ok") || pkbt_span_is(f.status, "unchanged");
    if (!file || !pkbt_span_eq(f.file, lastfile))
      file = pkbt_unescape(lastfile = f.file, &w); /* a file's lines are together */
    if (!run || !pkbt_span_eq(f.run, lastrun)) run = pkbt_unescape(lastrun = f.run, &w);
    o->v[o->n++] = (pkbt_old){ file, pkbt_span_hex(f.file_key), pkbt_span_hex(f.stat_key), !ok, ok, run,
                               line, (size_t)(e - line) };
  }
}

/* An empty table from file names to 1 + a line of o (0: empty), room for
   every line at half load; *cap its size. */
static size_t *pkbt_file_table(const pkbt_olds *o, size_t *cap)
{
  for (*cap = 64; *cap < 2 * o->n + 2; *cap *= 2) continue;
  return pko_xzalloc(*cap, sizeof(size_t));
}

/* file's slot in table tab of o's lines: the one holding a line of file,
   or the empty one where it would go.  Linear probing. */
static size_t *pkbt_file_slot(const pkbt_olds *o, size_t *tab, size_t cap, const char *file)
{
  size_t h = pkbt_hash_text(PKO_FNV0, file, strlen(file)) & (cap - 1);
  while (tab[h] && strcmp(o->v[tab[h] - 1].file, file)) h = (h + 1) & (cap - 1);
  return &tab[h];
}

/* A run killed (or out of disk) while appending a file's lines leaves the
   summary cut inside a line: cut it back to the start of that line and of
   the lines before it of the last whole line's file and run (its file's
   lines may be incomplete), so that file is redone.  A cut between two
   lines cannot be seen.  Unsharded runs only: shards may be appending. */
static void pkbt_trim_summary(const char *path)
{
  char last = '\n';
  struct stat st;
  int fd = open(path, O_RDONLY);
  if (fd < 0) return;
  if (fstat(fd, &st) != 0 || st.st_size == 0 || pread(fd, &last, 1, st.st_size - 1) != 1) last = '\n';
  close(fd);
  size_t len, cut;
  char *text = last == '\n' ? NULL : pkr_slurp(path, &len);
  if (!text) return;
  for (cut = len; cut > 0 && text[cut - 1] != '\n'; cut--) continue;
  pkbt_span file = { 0 }, run = { 0 };
  while (cut > 0) { /* the whole line ending at cut - 1: cut too if of the group */
    size_t s = cut - 1;
    text[s] = 0;
    while (s > 0 && text[s - 1] != '\n') s--;
    pkbt_fields lf;
    pkbt_fields_of(text + s, text + cut - 1, &lf);
    bool group = lf.file.p && lf.run.p && (!file.p || (pkbt_span_eq(lf.file, file) && pkbt_span_eq(lf.run, run)));
    if (group && !file.p) {
      file = lf.file;
      run = lf.run;
    }
    if (!group) break;
    cut = s;
  }
  free(text);
  if (truncate(path, (off_t)cut) != 0)
    pko_throw_at(PK_STATUS_STATIC, NULL, "cannot write %s: %s", path, strerror(errno));
}

static void pkbt_puts(pkp_buf *b, const char *s) { pkp_puts(b, s, strlen(s)); }

/* v in decimal, at least width digits (zeros in front): a summary line
   has six numbers, and printf's were most of its cost. */
static void pkbt_dec(pkp_buf *b, uint64_t v, int width)
{
  char d[24];
  int n = 0;
  do d[n++] = (char)('0' + v % 10);
  while ((v /= 10) || n < width);
  while (n) pkp_putc(b, d[--n]);
}

/* v as 16 lower-case hexadecimal digits. */
static void pkbt_hex(pkp_buf *b, uint64_t v)
{
  for (int s = 60; s >= 0; s -= 4) pkp_putc(b, "0123456789abcdef"[v >> s & 15]);
}

/* Append s as a JSON string. */
static void pkbt_json_str(pkp_buf *b, const char *s)
{
  pkp_putc(b, '"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      pkp_printf(b, "\\%c", c);
    else if (c < 0x20)
      pkp_printf(b, "\\u%04x", c);
    else
      pkp_putc(b, (char)c);
  }
  pkp_putc(b, '"');
}

/* ---- the per-model watchdog -------------------------------------------------------------- */

/* One per worker: the deadline of its model in flight (monotonic ns, 0:
   none) and whether the watchdog fired for it.  The engine's interrupt
   flag is the process's, so a firing interrupts whichever worker polls
   first: a worker interrupted for another's deadline takes its model again
   (pkbt_fires tells it so), and the watchdog sets the flag again every
   2 ms until the worker it fired for has disarmed.  Firing and disarming
   hold pkbt_wd_lock, so no flag is left set for a model already done. */
typedef struct pkbt_wd {
  bool armed;
  uint64_t deadline; /* 0: none */
  uint64_t mem0;     /* bytes in use when armed */
  int fired;         /* 0, or why: PKBT_FIRED_TIME or _MEMORY */
} pkbt_wd;

enum { PKBT_FIRED_TIME = 1, PKBT_FIRED_MEMORY };
static uint64_t pkbt_max_mem; /* --max-memory, per model (0: none) */

static pthread_mutex_t pkbt_wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pkbt_wd *pkbt_wds;
static int pkbt_nwd;
static _Atomic uint64_t pkbt_fires;
static _Atomic int pkbt_stop;

static void *pkbt_watchdog(void *arg)
{
  (void)arg;
  while (!atomic_load(&pkbt_stop)) {
    struct timespec ts = { 0, 2000000 };
    nanosleep(&ts, NULL);
    uint64_t now = pko_now_ns(), used = pkbt_max_mem ? pko_memory_used() : 0;
    pthread_mutex_lock(&pkbt_wd_lock);
    for (int k = 0; k < pkbt_nwd; k++) {
      pkbt_wd *w = &pkbt_wds[k];
      int why = !w->armed                                       ? 0
                : w->deadline && now >= w->deadline             ? PKBT_FIRED_TIME
                : pkbt_max_mem && used > w->mem0 + pkbt_max_mem ? PKBT_FIRED_MEMORY
                                                                : 0;
      if (!why) continue;
      if (!w->fired) w->fired = why;
      atomic_fetch_add(&pkbt_fires, 1);
      pko_interrupt_set(1);
    }
    pthread_mutex_unlock(&pkbt_wd_lock);
  }
  return NULL;
}

/* Arm worker k's watchdog (with deadline, 0: none, and the memory limit
   from the bytes in use now) or disarm it; disarming returns why it fired
   (0: it did not), and clears the flag it set. */
static int pkbt_arm(int k, bool on, uint64_t deadline)
{
  uint64_t mem0 = on && pkbt_max_mem ? pko_memory_used() : 0;
  pthread_mutex_lock(&pkbt_wd_lock);
  int fired = pkbt_wds[k].fired;
  pkbt_wds[k] = (pkbt_wd){ on, deadline, mem0, 0 };
  if (fired) pko_interrupt_set(0);
  pthread_mutex_unlock(&pkbt_wd_lock);
  return fired;
}

/* Did a signal ask the command to stop? */
static bool pkbt_signalled(void) { return pko_stop_reason() == PKO_STOP_SIGNAL; }

/* ---- the batch --------------------------------------------------------------------------- */

/* What one input file came to: its summary lines and output text, its
   messages for stderr, its counts.  Filled by the worker that did it,
   committed (summary appended, counts added) in input order. */
typedef struct pkbt_fileres {
  pkp_buf lines, out, errs;
  size_t kept, models, ok, unchanged, failed, models_skipped, failed_before;
  uint64_t rewrites;
  double t_read, t_rewrite, t_write;
  bool skipped, unread, batch_timeout; /* unread: skipped by its status alone */
  uint64_t stat_key;                   /* of the input as read (pkbt_stat_key), for its lines */
  _Atomic bool ready;
} pkbt_fileres;

typedef struct pkbt_b {
  const pkbt_opts *o;
  pk_val rel;
  pkrw_walker walker;
  pkrw_ctx **ctx; /* one per worker, made by the worker */
  int nctx;
  uint64_t base_key; /* rules text, relation, walker */
  const char *dir;
  char run[40]; /* this run's id: start time and process */
  char *summary;
  FILE *sum;      /* DIR/summary.jsonl, appended line by line */
  long sum_start; /* its size before this run */
  bool sum_stale; /* it held lines a later run of their file replaced */
  pkbt_olds old;
  size_t *oldix, oldcap; /* file -> 1 + its first line in old (0: empty) */
  const pkbt_ins *ins;
  pkbt_fileres *res;    /* per input file, when run on the pool */
  size_t failed_before; /* failed models of skipped files */
  size_t nfiles, files_done, files_skipped, files_unread, models_skipped, models, failed, ok, unchanged;
  uint64_t rewrites;
  double t0, t_start, t_read, t_rewrite, t_write, last_draw;
  uint64_t deadline; /* the batch's --timeout, or 0 */
  bool batch_timeout;
  bool files_started; /* rules, inputs, summary and output directory were fine */
  bool scoped;        /* each file's lists in a scope of its thread (pkh_scope_begin): no model is split */
  char **outs;        /* pkbt_list_outputs: output files there at the start */
  size_t outcap, nouts;
  bool top_listed; /* the output directory itself listed (pkbt_olds_main) */
} pkbt_b;

static double pkbt_now(void) { return (double)pko_now_ns() * 1e-9; }

/* This thread's worker number in the running batch (0 .. nctx-1): taken
   at its first file of the batch (pkbt_gen counts batches). */
static _Thread_local int pkbt_my_k;
static _Thread_local unsigned pkbt_my_gen;
static unsigned pkbt_gen;
static _Atomic int pkbt_next_k;

static int pkbt_self(const pkbt_b *b)
{
  if (pkbt_my_gen != pkbt_gen) {
    pkbt_my_gen = pkbt_gen;
    pkbt_my_k = atomic_fetch_add(&pkbt_next_k, 1);
    if (pkbt_my_k >= b->nctx) pko_throw_at(PK_STATUS_RUNTIME, NULL, "internal error: more batch workers than -j");
  }
  return pkbt_my_k;
}

static pkrw_ctx *pkbt_ctx(pkbt_b *b, int k)
{
  if (!b->ctx[k]) b->ctx[k] = pkrw_new(b->rel, b->walker);
  return b->ctx[k];
}

/* The progress line on a terminal: files, models, rate, ETA. */
static void pkbt_progress(pkbt_b *b, bool last)
{
  if (!b->o->progress) return;
  double now = pkbt_now();
  if (!last && now - b->last_draw < 0.1) return;
  b->last_draw = now;
  size_t done = b->files_done + b->files_skipped, width = 30;
  size_t fill = b->nfiles ? width * done / b->nfiles : width;
  double el = now - b->t0, rate = el > 0 ? (double)b->models / el : 0;
  double eta = done && b->files_done ? el / (double)done * (double)(b->nfiles - done) : 0;
  char bar[64];
  for (size_t i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
  bar[width] = 0;
  fprintf(stderr, "\r[%s] %zu/%zu files, %zu models, %.0f models/s, ETA %.0f s ", bar, done, b->nfiles, b->models, rate,
          eta);
  if (last) fputc('\n', stderr);
  fflush(stderr);
}
/* Where "(model NAME" starts in text, as FILE:LINE:COL. */
static void pkbt_model_pos(const char *text, size_t len, const char *name, pk_srcpos *pos)
{
  size_t nl = strlen(name);
  int line = 1, col = 1;
  for (size_t i = 0; i < len; i++) {
    if (text[i] == '(' && i + 6 < len && !strncmp(text + i + 1, "model", 5)) {
      size_t j = i + 6;
      while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) j++;
      if (j + nl <= len && !strncmp(text + j, name, nl) && (j + nl == len || strchr(" \t\r\n()", text[j + nl]))) {
        pos->line = line;
        pos->col = col;
        return;
      }
    }
    if (text[i] == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  pos->line = pos->col = 1;
}

/* Index the earlier lines by file (each file's lines are consecutive once
   pkbt_last_groups has run): a probe per input file, not a scan. */
static void pkbt_index(pkbt_b *b)
{
  b->oldix = pkbt_file_table(&b->old, &b->oldcap);
  for (size_t i = 0; i < b->old.n; i++) {
    if (i && b->old.v[i].file == b->old.v[i - 1].file) continue; /* the same run of lines (pkbt_read_summary) */
    size_t *s = pkbt_file_slot(&b->old, b->oldix, b->oldcap, b->old.v[i].file);
    if (!*s) *s = i + 1;
  }
}

/* The slot of path in the set of output files (linear probing). */
static char **pkbt_out_slot(char **tab, size_t cap, const char *path)
{
  size_t i = pkbt_hash_text(PKO_FNV0, path, strlen(path)) & (cap - 1);
  while (tab[i] && strcmp(tab[i], path)) i = (i + 1) & (cap - 1);
  return &tab[i];
}

/* Add path (malloc'd, taken) to the set of output files, which doubles
   at half load. */
static void pkbt_out_add(pkbt_b *b, char *path)
{
  if (2 * (b->nouts + 1) > b->outcap) {
    char **old = b->outs;
    size_t oldcap = b->outcap;
    b->outcap = oldcap ? 2 * oldcap : 64;
    b->outs = pko_xzalloc(b->outcap, sizeof *b->outs);
    for (size_t i = 0; i < oldcap; i++)
      if (old[i]) *pkbt_out_slot(b->outs, b->outcap, old[i]) = old[i];
    free(old);
  }
  char **slot = pkbt_out_slot(b->outs, b->outcap, path);
  if (*slot) {
    free(path);
    return;
  }
  *slot = path;
  b->nouts++;
}

/* The entries of directory dir into b's output files. */
static void pkbt_list_dir(pkbt_b *b, const char *dir)
{
  DIR *d = opendir(dir);
  for (struct dirent *e; d && (e = readdir(d));)
    pkbt_out_add(b, pkbt_join(dir, strlen(dir), e->d_name, strlen(e->d_name)));
  if (d) closedir(d);
}

/* The output files already there, found by listing each output directory
   an input maps to once, before any worker runs (a rerun asked the system
   about each output file in turn: 15% of the time of one that found
   everything done), the top one unless pkbt_olds_main did.  Only when
   there is an earlier summary to resume. */
static void pkbt_list_outputs(pkbt_b *b)
{
  if (!b->old.n) return;
  char *last = NULL;
  for (size_t i = 0; i < b->nfiles; i++) {
    const char *rel = b->ins->v[i].rel, *slash = strrchr(rel, '/');
    if (!slash && b->top_listed) continue;
    char *dir = pkbt_join(b->dir, strlen(b->dir), rel, slash ? (size_t)(slash - rel) : 0);
    if (last && !strcmp(last, dir)) { /* consecutive inputs of one directory list it once */
      free(dir);
      continue;
    }
    free(last);
    last = dir;
    pkbt_list_dir(b, dir);
  }
  free(last);
}

/* Was output file path there when the batch started? */
static bool pkbt_out_there(const pkbt_b *b, const char *path)
{
  return b->outcap && *pkbt_out_slot(b->outs, b->outcap, path);
}

static void pkbt_outs_free(pkbt_b *b)
{
  for (size_t i = 0; i < b->outcap; i++) free(b->outs[i]);
  free(b->outs);
}

/* The first earlier line of file path, or old.n when there is none. */
static size_t pkbt_first(const pkbt_b *b, const char *path)
{
  size_t s = *pkbt_file_slot(&b->old, b->oldix, b->oldcap, path);
  return s ? s - 1 : b->old.n;
}

/* Does the earlier summary say this file is done with these keys?
   (Every earlier line of the file has its key; no failure unless failures
   are not retried; the output exists when a model of it succeeded.)  Counts
   the skipped models and earlier failures into fr when it does. */
static bool pkbt_done(const pkbt_b *b, pkbt_fileres *fr, const char *path, uint64_t file_key, uint64_t stat_key,
                      const char *out)
{
  bool any_ok = false;
  size_t i0 = pkbt_first(b, path), i = i0, failed = 0;
  if (i0 == b->old.n) return false;
  for (; i < b->old.n && !strcmp(b->old.v[i].file, path); i++) {
    const pkbt_old *l = &b->old.v[i];
    if (!(file_key ? l->file_key == file_key : stat_key && l->stat_key == stat_key)) return false;
    if (l->failed && b->o->retry_failed) return false;
    any_ok |= l->line_ok;
    failed += l->failed;
  }
  if (any_ok && !pkbt_out_there(b, out)) return false;
  fr->models_skipped += i - i0;
  fr->failed_before += failed;
  return true;
}

/* Append one summary line to fr (and a failure's message to its errs). */
static void pkbt_line(const pkbt_b *b, pkbt_fileres *fr, const char *path, const char *model, const char *status,
                      const char *msg, size_t before, size_t after, uint64_t rewrites, double secs, uint64_t key,
                      uint64_t file_key)
{
  pkp_buf *l = &fr->lines;
  pkbt_puts(l, "{\"model\":");
  if (model)
    pkbt_json_str(l, model);
  else
    pkbt_puts(l, "null");
  pkbt_puts(l, ",\"file\":");
  pkbt_json_str(l, path);
  pkbt_puts(l, ",\"status\":\"");
  pkbt_puts(l, status);
  pkp_putc(l, '"');
  if (msg) {
    pkbt_puts(l, ",\"message\":");
    pkbt_json_str(l, msg);
  }
  pkbt_puts(l, ",\"nodes_before\":");
  pkbt_dec(l, before, 0);
  pkbt_puts(l, ",\"nodes_after\":");
  pkbt_dec(l, after, 0);
  pkbt_puts(l, ",\"rewrites\":");
  pkbt_dec(l, rewrites, 0);
  uint64_t us = (uint64_t)llround(secs * 1e6); /* as %.6f writes it */
  pkbt_puts(l, ",\"seconds\":");
  pkbt_dec(l, us / 1000000, 0);
  pkp_putc(l, '.');
  pkbt_dec(l, us % 1000000, 6);
  pkbt_puts(l, ",\"key\":\"");
  pkbt_hex(l, key);
  pkbt_puts(l, "\",\"file_key\":\"");
  pkbt_hex(l, file_key);
  pkbt_puts(l, "\",\"stat_key\":\"");
  pkbt_hex(l, fr->stat_key);
  pkbt_puts(l, "\",\"run\":\"");
  pkbt_puts(l, b->run);
  pkbt_puts(l, "\"}\n");
  if (strcmp(status, "ok") && strcmp(status, "unchanged")) {
    fr->failed++;
    pkp_printf(&fr->errs, "pkanren rewrite: %s\n", msg);
  }
}

/* pkrw_model under a catch: true with *r and *changed, or false with the
   error in pko_err.  Not inlined: the caller's variables live across it. */
__attribute__((noinline)) static bool pkbt_try_model(pkrw_ctx *ctx, pk_val m, pk_val *r, bool *changed)
{
  pko_catch c;
  if (!PKO_TRY(c)) return false;
  *r = pkrw_model(ctx, m, changed);
  PKO_END(c);
  return true;
}

/* pkg_read_text under a catch, as pkbt_try_model. */
__attribute__((noinline)) static bool pkbt_try_read(const char *path, const char *text, size_t len, pk_val *ms)
{
  pko_catch c;
  if (!PKO_TRY(c)) return false;
  *ms = pkg_read_text(path, text, len);
  PKO_END(c);
  return true;
}

/* Room in the interning table (the file's scope's, in a batch of
   several files), made before a file of len bytes is read, for as many
   lists again as the text promises (8 bytes of text a list), when that
   is 1 MB of text or more, so the table is not rebuilt in the middle of
   a rewrite (a rebuild holds a shard's lock, which other workers wait
   on); the reader would make room only for what it reads.  A large text
   gets room for the lists its rewriting makes too (about as many as it
   reads: the unit-law model's rewrite adds 60%). */
static void pkbt_reserve(size_t len)
{
  if (len >= (1u << 20)) pkh_reserve(len / 8);
}

/* Rewrite m on worker k under its limits: true with *r and *changed, or
   false with the error in pko_err and *why (why the watchdog stopped it,
   or PKBT_FIRED_TIME for the driver's own deadline).  A model interrupted
   for another worker's limit is taken again. */
static bool pkbt_attempt(const pkbt_b *b, int k, pkrw_ctx *ctx, pk_val m, pk_val *r, bool *changed, int *why)
{
  for (;;) {
    uint64_t dl = b->o->timeout_model > 0 ? pko_now_ns() + (uint64_t)(b->o->timeout_model * 1e9) : 0;
    if (b->deadline && (!dl || b->deadline < dl)) dl = b->deadline;
    pkrw_limit(ctx, b->o->max_steps ? b->o->max_steps : PKBT_DEFAULT_STEPS, dl);
    uint64_t fires = atomic_load(&pkbt_fires);
    pkbt_arm(k, true, dl);
    bool ok = pkbt_try_model(ctx, m, r, changed);
    int fired = pkbt_arm(k, false, 0);
    *why = ok ? 0 : fired ? fired : pkrw_timed_out(ctx) ? PKBT_FIRED_TIME : 0;
    if (ok || pko_err.status != PK_STATUS_INTERRUPT || fired || pkbt_signalled() || atomic_load(&pkbt_fires) == fires)
      return ok;
  }
}

/* Rewrite model m of file path (text for positions) on worker k: one
   summary line, and its text into the output when it succeeded.  Throws
   only an interrupt that is not a timeout (the batch stops). */
static void pkbt_model(const pkbt_b *b, int k, pkbt_fileres *fr, const char *path, const char *text, size_t len,
                       pk_val m, uint64_t file_key)
{
  pkrw_ctx *ctx = b->ctx[k];
  const char *name = pko_symname(pkg_name(m));
  uint64_t key = pko_fnv(file_key, name, strlen(name) + 1);
  double tc = pkbt_now();
  size_t before = pkrw_count_nodes(pkg_outputs(m));
  pkrw_stats s0 = *pkrw_get_stats(ctx);
  pkrw_model_nodes(ctx, before);
  double t0 = pkbt_now();
  fr->t_read += t0 - tc; /* counting the input's nodes is part of reading */
  bool changed;
  int why;
  pk_val r;
  bool ok = pkbt_attempt(b, k, ctx, m, &r, &changed, &why);
  bool timeout = why == PKBT_FIRED_TIME;
  double secs = pkbt_now() - t0;
  fr->t_rewrite += secs;
  const pkrw_stats *s = pkrw_get_stats(ctx);
  uint64_t rewrites = s->rewrites - s0.rewrites;
  if (ok) {
    double tw = pkbt_now(); /* counting the output's nodes is part of writing */
    size_t after = changed ? pkrw_count_nodes(pkg_outputs(r)) : before;
    pkbt_line(b, fr, path, name, changed ? "ok" : "unchanged", NULL, before, after, rewrites, secs, key, file_key);
    pkg_print(&fr->out, r);
    fr->t_write += pkbt_now() - tw;
    fr->kept++;
    changed ? fr->ok++ : fr->unchanged++;
    fr->rewrites += rewrites;
    return;
  }
  if (pko_err.status == PK_STATUS_INTERRUPT && !why) pko_throw_at(PK_STATUS_INTERRUPT, NULL, "interrupted");
  if (timeout && b->deadline && pko_now_ns() >= b->deadline) {
    fr->batch_timeout = true;
    return;
  }
  pk_srcpos pos = { path, 1, 1 };
  pkbt_model_pos(text, len, name, &pos);
  char msg[sizeof pko_err.msg + 256];
  if (timeout)
    snprintf(msg, sizeof msg, "%s:%d:%d: model %s: time limit of %g s reached (--timeout-per-model)", path, pos.line,
             pos.col, name, b->o->timeout_model);
  else if (why == PKBT_FIRED_MEMORY)
    snprintf(msg, sizeof msg, "%s:%d:%d: model %s: memory limit of %llu bytes reached (--max-memory)", path, pos.line,
             pos.col, name, (unsigned long long)pkbt_max_mem);
  else if (strstr(pko_err.msg, "step limit") == pko_err.msg)
    snprintf(msg, sizeof msg, "%s:%d:%d: model %s: %s", path, pos.line, pos.col, name, pko_err.msg);
  else
    snprintf(msg, sizeof msg, "%s [model %s at %s:%d:%d]", pko_err.msg, name, path, pos.line, pos.col);
  pkbt_line(b, fr, path, name, timeout ? "timeout" : "error", msg, before, before, rewrites, secs, key, file_key);
}

/* mkdir -p of directory p (changed meanwhile, given back): the deepest
   first, its parents only when it cannot be made without them, so a
   directory that exists costs one call.  0, or -1 with errno and p the
   directory that failed. */
static int pkbt_mkdir_p(char *p)
{
  if (mkdir(p, 0777) == 0 || errno == EEXIST) return 0;
  char *s = strrchr(p, '/');
  if (errno != ENOENT || !s || s == p) return -1;
  *s = 0;
  int r = pkbt_mkdir_p(p);
  if (r) return r;
  *s = '/';
  return mkdir(p, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

/* mkdir -p of the directory part of path (inside the output directory). */
static void pkbt_mkdirs(const char *path)
{
  char *p = pko_xstrdup(path), *s = strrchr(p, '/');
  if (s && s > p) {
    *s = 0;
    if (pkbt_mkdir_p(p) != 0) {
      char msg[1024];
      snprintf(msg, sizeof msg, "cannot create directory %s: %s", p, strerror(errno));
      free(p);
      pko_throw_at(PK_STATUS_STATIC, NULL, "%s", msg);
    }
  }
  free(p);
}

/* Write len bytes to path atomically: a temporary file beside it, then
   rename.  Throws a static error (the batch stops) on failure, leaving
   nothing under the final name.  The temporary's name is fixed, not the
   process's: a run killed while writing it leaves it behind, and the
   rerun, which redoes that file, overwrites and renames it. */
static void pkbt_write_atomic(const char *path, const char *data, size_t len)
{
  size_t n = strlen(path) + 32;
  char *tmp = pko_xmalloc(n);
  snprintf(tmp, n, "%s.tmp.pkanren", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (fd < 0 && errno == ENOENT) { /* its directory is made at its first file (a mkdir a file was 2% of a run) */
    pkbt_mkdirs(path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  }
  bool ok = fd >= 0;
  for (size_t off = 0; ok && off < len;) {
    ssize_t w = write(fd, data + off, len - off);
    if (w <= 0) ok = false;
    off += w > 0 ? (size_t)w : 0;
  }
  if (fd >= 0 && close(fd) != 0) ok = false;
  if (ok && rename(tmp, path) != 0) ok = false;
  if (!ok) {
    char msg[1024];
    snprintf(msg, sizeof msg, "cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    free(tmp);
    pko_throw_at(PK_STATUS_STATIC, NULL, "%s", msg);
  }
  free(tmp);
}

/* The whole of stdin, malloc'd. */
static char *pkbt_stdin(size_t *len)
{
  size_t cap = 65536, n = 0;
  char *s = pko_xmalloc(cap + 1);
  for (size_t r; (r = fread(s + n, 1, cap - n, stdin)) > 0;) {
    n += r;
    if (n == cap) s = pko_xrealloc(s, (cap *= 2) + 1);
  }
  s[n] = 0;
  *len = n;
  return s;
}

/* Read the models of file path (text, len bytes, read from t0 on) and
   rewrite them on worker k, their lines and outputs into fr.  Throws only
   what stops the batch. */
static void pkbt_models_of(pkbt_b *b, int k, pkbt_fileres *fr, const char *path, const char *text, size_t len,
                           uint64_t file_key, double t0)
{
  pk_val ms = PK_NIL;
  pkbt_reserve(len);
  if (!pkbt_try_read(path, text, len, &ms)) {
    if (pko_err.status == PK_STATUS_INTERRUPT) pko_throw_at(PK_STATUS_INTERRUPT, NULL, "interrupted");
    pkbt_line(b, fr, path, NULL, "error", pko_err.msg, 0, 0, 0, 0, 0, file_key);
  }
  fr->t_read += pkbt_now() - t0;
  for (; pko_pairp(ms) && !fr->batch_timeout; ms = pko_cdr(ms)) {
    pkbt_model(b, k, fr, path, text, len, pko_car(ms), file_key);
    fr->models++;
  }
}

/* pkbt_models_of, in a scope of the thread when the batch has them: the
   file's lists are given back when its outputs are printed. */
static void pkbt_models(pkbt_b *b, int k, pkbt_fileres *fr, const char *path, const char *text, size_t len,
                        uint64_t file_key, double t0)
{
  if (!b->scoped) {
    pkbt_models_of(b, k, fr, path, text, len, file_key, t0);
    return;
  }
  pkh_scope_begin();
  pko_catch c;
  if (!PKO_TRY(c)) {
    pkh_scope_end();
    pko_rethrow();
  }
  pkbt_models_of(b, k, fr, path, text, len, file_key, t0);
  PKO_END(c);
  pkh_scope_end();
}

/* Is input in (output out) done by an earlier run, by its status alone
   (pkbt_stat_key)?  Then fr says it was skipped.  One stat, unless the
   listing of the inputs took it. */
static bool pkbt_skip_unread(const pkbt_b *b, const pkbt_in *in, const char *out, pkbt_fileres *fr)
{
  struct stat st;
  if (!b->old.n || !strcmp(in->path, "-")) return false;
  uint64_t key = in->stated ? in->stat_key : stat(in->path, &st) == 0 ? pkbt_stat_key(b->base_key, &st) : 0;
  if (!key || !pkbt_done(b, fr, in->path, 0, key, out)) return false;
  fr->skipped = fr->unread = true;
  return true;
}

/* Input file i on worker k: skipped when done, else its models
   rewritten and its output written (atomically) into fr; the summary is
   the committer's.  Any thread. */
static void pkbt_file(pkbt_b *b, int k, size_t i, pkbt_fileres *fr)
{
  const pkbt_in *in = &b->ins->v[i];
  if (fr->skipped) return; /* by pkbt_pool's first look */
  if (pkbt_signalled()) pko_throw_at(PK_STATUS_INTERRUPT, NULL, "interrupted");
  if (b->deadline && pko_now_ns() >= b->deadline) {
    fr->batch_timeout = true;
    return;
  }
  pkbt_ctx(b, k);
  double t0 = pkbt_now();
  size_t len;
  char *text = NULL, *out = pkbt_join(b->dir, strlen(b->dir), in->rel, strlen(in->rel));
  bool std_in = !strcmp(in->path, "-");
  struct stat st;
  if (!b->res && pkbt_skip_unread(b, in, out, fr)) goto done; /* on the pool, pkbt_pool's first look did it */
  text = std_in ? pkbt_stdin(&len) : pkr_slurp_stat(in->path, &len, &st);
  fr->stat_key = text && !std_in ? pkbt_stat_key(b->base_key, &st) : 0;
  uint64_t file_key = text ? pkbt_hash_text(b->base_key, text, len) : 0;
  if (text && pkbt_done(b, fr, in->path, file_key, 0, out)) {
    fr->skipped = true;
    goto done;
  }
  if (!text) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s:1:1: cannot read %s: %s", in->path, in->path, strerror(errno));
    pkbt_line(b, fr, in->path, NULL, "error", msg, 0, 0, 0, 0, 0, 0);
  } else {
    pkbt_models(b, k, fr, in->path, text, len, file_key, t0);
  }
  if (fr->batch_timeout) goto done;
  double tw = pkbt_now();
  if (fr->kept)
    pkbt_write_atomic(out, fr->out.s, fr->out.len);
  else
    unlink(out);
  fr->t_write += pkbt_now() - tw;
done:
  pkp_free(&fr->out);
  free(out);
  free(text);
}

/* Add file result fr to the batch, in input order: its summary lines
   appended (flushed, so a killed run keeps them), its messages printed,
   its counts added.  The committing thread only. */
static void pkbt_commit(pkbt_b *b, pkbt_fileres *fr)
{
  if (fr->batch_timeout || b->batch_timeout) {
    b->batch_timeout = true;
  } else if (fr->skipped) {
    b->files_skipped++;
    b->files_unread += fr->unread;
    b->models_skipped += fr->models_skipped;
    b->failed_before += fr->failed_before;
  } else {
    if (fr->lines.len && (fwrite(fr->lines.s, 1, fr->lines.len, b->sum) != fr->lines.len || fflush(b->sum) != 0))
      pko_throw_at(PK_STATUS_STATIC, NULL, "cannot write %s: %s", b->summary, strerror(errno));
    if (fr->errs.len) fwrite(fr->errs.s, 1, fr->errs.len, stderr);
    b->files_done++;
    b->models += fr->models;
    b->ok += fr->ok;
    b->unchanged += fr->unchanged;
    b->failed += fr->failed;
    b->rewrites += fr->rewrites;
    b->t_read += fr->t_read;
    b->t_rewrite += fr->t_rewrite;
    b->t_write += fr->t_write;
  }
  pkp_free(&fr->lines);
  pkp_free(&fr->errs);
  pkbt_progress(b, false);
}

/* ---- many files on the pool --------------------------------------------------------------- */

/* A branch of the pool is a range of input files [lo, hi), as a fixnum;
   forcing it does file lo, whose answer is the fixnum lo + 1. */
static pkbt_b *pkbt_cur;

static pk_val pkbt_range(size_t lo, size_t hi) { return pko_mkfix((int64_t)((uint64_t)lo << 32 | hi)); }

/* Range branch t: its first item, *hi its end. */
static size_t pkbt_unrange(pk_val t, size_t *hi)
{
  uint64_t r = (uint64_t)pko_fixval(t);
  *hi = r & 0xffffffffu;
  return r >> 32;
}

/* Force range branch t by running its first item lo: the answer lo + 1
   (when answer is not NULL), the rest of the range to go on with. */
static pk_val pkbt_force_range(pk_val t, pk_val *answer, void (*run)(size_t lo))
{
  size_t hi, lo = pkbt_unrange(t, &hi);
  run(lo);
  if (answer) *answer = pko_mkfix((int64_t)lo + 1);
  return lo + 1 < hi ? pkbt_range(lo + 1, hi) : 0;
}

static void pkbt_run_file(size_t i) { pkbt_file(pkbt_cur, pkbt_self(pkbt_cur), i, &pkbt_cur->res[i]); }

static pk_val pkbt_force(pk_val t, pk_val *answer) { return pkbt_force_range(t, answer, pkbt_run_file); }

static bool pkbt_split(pk_val t, pk_val *a, pk_val *c)
{
  size_t hi, lo = pkbt_unrange(t, &hi);
  if (hi - lo < 2) return false;
  size_t mid = lo + (hi - lo) / 2;
  *a = pkbt_range(lo, mid);
  *c = pkbt_range(mid, hi);
  return true;
}

static uint64_t pkbt_work(void) { return 0; }

static const pkw_ops pkbt_ops = { .force = pkbt_force, .split = pkbt_split, .work = pkbt_work };

/* ---- one large model's passes on the pool -------------------------------------------------- */

/* A branch is a range of the current split pass's tasks [lo, hi) (as
   files above); forcing it runs task lo, with no answer.  One pass at a
   time, from the thread that rewrites the model. */
static pkrw_ctx *pkbt_task_ctx;

static void pkbt_run_task(size_t i) { pkrw_run_task(pkbt_task_ctx, i); }

/* No answer: the consuming thread would spend its time taking them
   instead of running tasks. */
static pk_val pkbt_task_force(pk_val t, pk_val *answer)
{
  (void)answer;
  return pkbt_force_range(t, NULL, pkbt_run_task);
}

/* A split pass's tasks: the other worker watches for work through the
   pass's serial part (its top and rebuild: 0.1-0.3 ms) and the end of its
   tasks, instead of napping and being woken late. */
static const pkw_ops pkbt_task_ops = {
  .force = pkbt_task_force, .split = pkbt_split, .work = pkbt_work, .spin_us = 200, .split_ahead = true
};

/* pkrw's task runner (pkrw_set_tasks): the n tasks of c's pass on the
   pool's workers, this thread among them. */
static void pkbt_tasks(void *env, pkrw_ctx *c, size_t n)
{
  (void)env;
  pkbt_task_ctx = c;
  pkw_query *q = pkw_query_start(&pkbt_task_ops, pkbt_range(0, n), -1);
  pk_val a;
  while (pkw_query_next(q, &a)) continue;
  pkw_query_stop(q);
}

/* The files on the pool's workers; results committed in input order as
   they complete (a file done out of order waits for those before it).  A
   rerun first stats every file: what its status says is done is
   committed without a task, and the pool (its threads started at its
   first query) runs only when something is left. */
static void pkbt_pool(pkbt_b *b)
{
  size_t n = b->nfiles, next = 0, left = n;
  b->res = pko_xzalloc(n, sizeof *b->res);     /* read before written by the workers (pko_xzalloc) */
  for (size_t i = 0; b->old.n && i < n; i++) { /* a rerun: what a stat says is done costs no task */
    const pkbt_in *in = &b->ins->v[i];
    char *out = pkbt_join(b->dir, strlen(b->dir), in->rel, strlen(in->rel));
    if (pkbt_skip_unread(b, in, out, &b->res[i])) {
      atomic_store(&b->res[i].ready, true);
      left--;
    }
    free(out);
  }
  while (next < n && atomic_load(&b->res[next].ready)) pkbt_commit(b, &b->res[next++]);
  if (!left) return;
  pkbt_cur = b;
  pkw_query *q = pkw_query_start(&pkbt_ops, pkbt_range(0, n), -1);
  pk_val a;
  while (pkw_query_next(q, &a)) {
    atomic_store(&b->res[pko_fixval(a) - 1].ready, true);
    while (next < n && atomic_load(&b->res[next].ready) && !b->batch_timeout) pkbt_commit(b, &b->res[next++]);
  }
  pkw_query_stop(q);
}

/* Keep, of each file's lines, only those of the run that wrote its last
   line (a later run's lines for a file replace the earlier ones).  A
   string-keyed table makes it linear. */
static void pkbt_last_groups(pkbt_olds *o)
{
  size_t cap, *tab = pkbt_file_table(o, &cap);
  size_t *owner = pko_xmalloc((o->n + 1) * sizeof *owner), *last = pko_xmalloc((o->n + 1) * sizeof *last);
  for (size_t i = 0; i < o->n; i++) {
    if (i && o->v[i].file == o->v[i - 1].file) { /* the same run of lines (pkbt_read_summary) */
      owner[i] = owner[i - 1];
    } else {
      size_t *s = pkbt_file_slot(o, tab, cap, o->v[i].file);
      if (!*s) *s = i + 1;
      owner[i] = *s - 1;
    }
    last[owner[i]] = i;
  }
  size_t k = 0;
  for (size_t i = 0; i < o->n; i++) {
    if (!strcmp(o->v[i].run, o->v[last[owner[i]]].run)) {
      o->v[k++] = o->v[i];
      continue;
    }
  }
  o->n = k;
  free(tab);
  free(owner);
  free(last);
}

/* Rewrite the summary with each file's last lines only (temporary file
   and rename). */
static void pkbt_compact(pkbt_b *b)
{
  pkbt_olds all = { 0 };
  pkbt_read_summary(b->summary, &all);
  pkbt_last_groups(&all);
  pkp_buf t;
  pkp_init(&t);
  for (size_t i = 0; i < all.n; i++) {
    pkp_puts(&t, all.v[i].text, all.v[i].len);
    pkp_putc(&t, '\n');
  }
  pkbt_olds_free(&all);
  pkbt_write_atomic(b->summary, t.s ? t.s : "", t.len);
  pkp_free(&t);
}

/* Print the --stats lines. */
static void pkbt_stats(pkbt_b *b)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double total = pkbt_now() - b->t0;
  uint64_t steps = 0;
  for (int k = 0; k < b->nctx; k++)
    if (b->ctx[k]) steps += pkrw_get_stats(b->ctx[k])->steps;
  fprintf(stderr,
          "stats: files %zu done, %zu skipped (%zu by their status alone); models %zu (ok %zu, unchanged %zu, failed "
          "%zu), %zu skipped\n",
          b->files_done, b->files_skipped, b->files_unread, b->models, b->ok, b->unchanged, b->failed,
          b->models_skipped);
  fprintf(stderr, "stats: read %.3f s, rewrite %.3f s, write %.3f s%s, total %.3f s (start and rules %.3f s)\n",
          b->t_read, b->t_rewrite, b->t_write, b->res ? " (summed over workers)" : "", total, b->t_start);
  fprintf(stderr, "stats: rewrites %llu (%.0f/s of the rewrite phase), relation queries %llu, %.0f models/s\n",
          (unsigned long long)b->rewrites, b->t_rewrite > 0 ? (double)b->rewrites / b->t_rewrite : 0.0,
          (unsigned long long)steps, total > 0 ? (double)b->models / total : 0.0);
  fprintf(stderr, "stats: peak memory %.1f MB (resident)\n", (double)ru.ru_maxrss / 1024.0);
}

/* The earlier runs' lines: the summary read, each file's last group
   kept and indexed. */
static void pkbt_load_olds(pkbt_b *b)
{
  pkbt_read_summary(b->summary, &b->old);
  size_t nold = b->old.n;
  pkbt_last_groups(&b->old);
  b->sum_stale = b->old.n != nold;
  pkbt_index(b);
}

static int pkbt_plain_thread(pthread_t *t, void *(*fn)(void *), void *arg);
static void pkbt_plain_join(pthread_t t);

/* pkbt_load_olds and the output directory's listing on a thread of its
   own: with several workers, a rerun reads the summary while it lists and
   stats the inputs. */
static void *pkbt_olds_main(void *arg)
{
  pkbt_b *b = arg;
  pkbt_load_olds(b);
  if (b->old.n) pkbt_list_dir(b, b->dir); /* the top output directory, which most inputs' outputs are in */
  b->top_listed = b->old.n > 0;
  return NULL;
}

/* Everything that can throw: rules, inputs, output directory, files. */
static void pkbt_body(pkbt_b *b, pkbt_ins *ins)
{
  const pkbt_opts *o = b->o;
  if (!pkbt_walker(o->walker, &b->walker))
    pko_throw_at(PK_STATUS_STATIC, NULL, "--walker takes walko or non_obs_walko");
  char *rp = pkbt_rules_path(o->rules);
  size_t rl;
  char *rt = pkr_slurp(rp, &rl);
  if (!rt) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s:1:1: cannot read rules %s: %s", rp, rp, strerror(errno));
    free(rp);
    pko_throw_at(PK_STATUS_STATIC, NULL, "%s", msg);
  }
  b->rel = pkbt_load_rules(rp, o->relation);
  uint64_t k = pko_fnv(PKO_FNV0, rt, rl);
  k = pko_fnv(k, o->relation, strlen(o->relation) + 1);
  b->base_key = pko_fnv(k, o->walker ? o->walker : "walko", strlen(o->walker ? o->walker : "walko") + 1);
  free(rt);
  free(rp);
  size_t n = strlen(b->dir) + 64;
  b->summary = pko_xmalloc(n);
  snprintf(b->summary, n, "%s/summary.jsonl", b->dir);
  bool rerun = access(b->summary, F_OK) == 0;
  if (o->shard_n == 0) pkbt_trim_summary(b->summary);        /* before its lines are read, here or beside */
  if (rerun && o->shard_n == 0) ins->base_key = b->base_key; /* a shard's listing holds other shards' files */
  pthread_t t;
  bool beside = rerun && b->nctx > 1 && pkbt_plain_thread(&t, pkbt_olds_main, b) == 0;
  if (beside) {
    pko_catch c;
    if (!PKO_TRY(c)) {
      pkbt_plain_join(t);
      pko_rethrow();
    }
    pkbt_inputs(o, ins);
    PKO_END(c);
    pkbt_plain_join(t);
  } else {
    pkbt_inputs(o, ins);
  }
  b->ins = ins;
  b->nfiles = ins->n;
  pkbt_mkdirs(b->summary);
  if (!beside) pkbt_load_olds(b);
  pkbt_list_outputs(b);
  b->sum = fopen(b->summary, "a");
  if (!b->sum) pko_throw_at(PK_STATUS_STATIC, NULL, "cannot write %s: %s", b->summary, strerror(errno));
  fseek(b->sum, 0, SEEK_END);
  b->sum_start = ftell(b->sum);
  b->t_start = pkbt_now() - b->t0;
  b->files_started = true;
  b->scoped = ins->n > 1; /* one file: its model may be split, and nothing follows it */
  if (b->nctx > 1 && ins->n > 1) {
    pkbt_pool(b);
  } else {
    if (b->nctx > 1) { /* one file: its large models' passes on the pool, started while the file is read */
      pkrw_set_tasks(pkbt_ctx(b, 0), pkbt_tasks, NULL);
      pkw_start();
    }
    for (size_t i = 0; i < ins->n && !b->batch_timeout; i++) {
      pkbt_fileres fr = { 0 };
      pkbt_file(b, 0, i, &fr);
      pkbt_commit(b, &fr);
    }
  }
  if (o->shard_n == 0 && !b->batch_timeout) {
    bool added = ftell(b->sum) != b->sum_start;
    fclose(b->sum);
    b->sum = NULL;
    /* only this run's lines, or earlier ones none replaced: nothing to drop */
    if (b->sum_start && (added || b->sum_stale)) pkbt_compact(b);
  }
}

int pkbt_run(const pkbt_opts *o)
{
  pkbt_b b = { .o = o, .dir = o->outdir ? o->outdir : "rewritten", .t0 = pkbt_now() };
  snprintf(b.run, sizeof b.run, "%llx-%ld", (unsigned long long)time(NULL), (long)getpid());
  if (o->timeout > 0) b.deadline = pko_now_ns() + (uint64_t)(o->timeout * 1e9);
  pkbt_ins ins = { 0 };
  int status = 0;
  b.nctx = o->workers > 1 ? o->workers : 1;
  b.ctx = pko_xcalloc((size_t)b.nctx, sizeof *b.ctx);
  pkbt_wds = pko_xcalloc((size_t)b.nctx, sizeof *pkbt_wds);
  pkbt_nwd = b.nctx;
  pkbt_max_mem = o->max_memory;
  pkbt_gen++;
  atomic_store(&pkbt_next_k, 0);
  pthread_t wd;
  atomic_store(&pkbt_stop, 0);
  bool limits = o->timeout > 0 || o->timeout_model > 0 || o->max_memory; /* else the watchdog would only wake */
  bool wd_on = limits && pthread_create(&wd, NULL, pkbt_watchdog, NULL) == 0;
  pko_catch c;
  if (PKO_TRY(c)) {
    pkbt_body(&b, &ins);
    PKO_END(c);
  } else {
    status = pko_err.status;
    if (status == PK_STATUS_INTERRUPT) {
      fprintf(stderr, "pkanren rewrite: interrupted; %zu files done\n", b.files_done);
    } else {
      fprintf(stderr, "%s\n", pko_err.msg);
    }
  }
  atomic_store(&pkbt_stop, 1);
  if (wd_on) pthread_join(wd, NULL);
  for (int k = 0; k < b.nctx; k++) pkbt_arm(k, false, 0);
  if (b.sum) fclose(b.sum);
  pkbt_progress(&b, true);
  if (b.files_skipped)
    fprintf(stderr, "pkanren rewrite: skipped %zu files (%zu models) done by an earlier run", b.files_skipped,
            b.models_skipped);
  if (b.failed_before) fprintf(stderr, "; %zu of those models failed (--retry-failed redoes them)", b.failed_before);
  if (b.files_skipped) fputc('\n', stderr);
  if (o->stats && b.files_started) pkbt_stats(&b);
  if (!status && b.batch_timeout) {
    fprintf(stderr, "pkanren rewrite: time limit of %g s reached (--timeout): %zu of %zu files done\n", o->timeout,
            b.files_done, b.nfiles);
    status = PK_STATUS_RUNTIME;
  }
  if (!status && (b.failed || b.failed_before)) status = PK_STATUS_FAILED; /* the whole batch, as the summary */
  for (int k = 0; k < b.nctx; k++) pkrw_free(b.ctx[k]);
  free(b.ctx);
  pthread_mutex_lock(&pkbt_wd_lock);
  free(pkbt_wds);
  pkbt_wds = NULL;
  pkbt_nwd = 0;
  pthread_mutex_unlock(&pkbt_wd_lock);
  for (size_t i = 0; b.res && i < b.nfiles; i++) {
    pkp_free(&b.res[i].lines);
    pkp_free(&b.res[i].errs);
    pkp_free(&b.res[i].out);
  }
  free(b.res);
  pkbt_olds_free(&b.old);
  pkbt_outs_free(&b);
  free(b.oldix);
  for (size_t i = 0; i < ins.n; i++) {
    free(ins.v[i].path);
    free(ins.v[i].rel);
  }
  free(ins.v);
  free(b.summary);
  return status;
}

#undef pthread_create /* below: a thread the collector does not know */
#undef pthread_join

/* Start fn(arg) on a plain thread: fn touches no collected memory and
   holds no pointer into it.  The collector's pthread_create waits for the
   new thread to register itself (a wake-up of the other CPU, which this VM
   gives late), and registering and unregistering take the collector's
   lock. */
static int pkbt_plain_thread(pthread_t *t, void *(*fn)(void *), void *arg) { return pthread_create(t, NULL, fn, arg); }

/* Wait for a thread of pkbt_plain_thread's (the collector's join would
   look for it among its own). */
static void pkbt_plain_join(pthread_t t) { pthread_join(t, NULL); }
