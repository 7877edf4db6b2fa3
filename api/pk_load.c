/*
** pk_load.c — programs: read every file a program loads by a literal
** top-level (load "..."), compile everything, check for unbound names, and
** only then run.  So reader errors, malformed forms and unbound names in any
** of those files stop the program before it prints anything.
*/
#include "pk_load.h"
#include "pk_builtin.h"
#include "pk_comp.h"
#include "pk_eval.h"
#include "pk_search.h"
#include "pk_print.h"
#include "pk_read.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

/* One top-level form of the program, in execution order. */
typedef struct pkl_item {
  pk_val datum;
  pk_srcpos pos;
  bool main; /* from the file named on the command line */
  pke_node *code;
} pkl_item;

typedef struct pkl_prog {
  pkl_item *items;
  size_t n, cap;
} pkl_prog;

/* Global references noted by the compiler, checked after compilation. */
static struct {
  pk_val *syms;
  pk_srcpos *pos;
  size_t n, cap;
  bool on;
} pkl_refs;

/* A reference to global sym at pos, checked before the program runs. */
static void pkl_note_global(pk_val sym, const pk_srcpos *pos)
{
  if (!pkl_refs.on) return;
  if (pkl_refs.n == pkl_refs.cap) {
    pkl_refs.cap = pkl_refs.cap ? 2 * pkl_refs.cap : 256;
    pk_val *ns = GC_MALLOC_UNCOLLECTABLE(pkl_refs.cap * sizeof *ns);
    pk_srcpos *np = GC_MALLOC_UNCOLLECTABLE(pkl_refs.cap * sizeof *np);
    if (pkl_refs.n) {
      memcpy(ns, pkl_refs.syms, pkl_refs.n * sizeof *ns);
      memcpy(np, pkl_refs.pos, pkl_refs.n * sizeof *np);
      GC_FREE(pkl_refs.syms);
      GC_FREE(pkl_refs.pos);
    }
    pkl_refs.syms = ns;
    pkl_refs.pos = np;
  }
  pkl_refs.syms[pkl_refs.n] = sym;
  pkl_refs.pos[pkl_refs.n++] = pos ? *pos : (pk_srcpos){ 0 };
}

static void pkl_push(pkl_prog *p, pk_val datum, const pk_srcpos *pos, bool main)
{
  if (p->n == p->cap) {
    p->cap = p->cap ? 2 * p->cap : 64;
    pkl_item *ni = pko_alloc(p->cap * sizeof *ni);
    if (p->n) memcpy(ni, p->items, p->n * sizeof *ni);
    p->items = ni;
  }
  p->items[p->n++] = (pkl_item){ datum, *pos, main, NULL };
}

/* Files that faster-miniKanren programs load and pkanren has built in. */
static bool pkl_builtin_file(const char *name)
{
  const char *b = strrchr(name, '/');
  b = b ? b + 1 : name;
  return !strcmp(b, "mk.scm") || !strcmp(b, "mk-vicare.scm") || !strcmp(b, "test-check.scm") ||
         !strcmp(b, "mk-chicken.scm") || !strcmp(b, "mk-guile.scm");
}

/* name resolved against the directory of the file that loads it. */
static char *pkl_resolve(const char *from, const char *name)
{
  if (name[0] == '/' || !from) return pko_xstrdup(name);
  char *dup = pko_xstrdup(from), *dir = dirname(dup);
  size_t n = strlen(dir) + strlen(name) + 2;
  char *out = pko_xmalloc(n);
  snprintf(out, n, "%s/%s", dir, name);
  free(dup);
  return out;
}

/* A file's text, or a static error at pos naming it. */
static char *pkl_slurp(const char *path, size_t *len, const pk_srcpos *pos)
{
  char *text = pkr_slurp(path, len);
  if (!text) pko_throw_at(PK_STATUS_STATIC, pos, "cannot read %s: %s", path, strerror(errno));
  return text;
}

static void pkl_read_file(pkl_prog *p, const char *path, bool main, const pk_srcpos *from, int depth);

/* Read text's forms into p, reading literal top-level loads in place. */
static void pkl_read_text(pkl_prog *p, const char *file, const char *text, size_t len, bool main, int depth)
{
  pkr_reader *r = pkr_open(file, text, len);
  pk_val x;
  for (;;) {
    pk_srcpos pos = pkr_here(r);
    if (!pkr_next(r, &x)) break;
    pkr_pos(x, &pos);
    pk_val lf = pkc_static_load(x);
    if (!lf) {
      pkl_push(p, x, &pos, main);
      continue;
    }
    if (pkl_builtin_file(pko_as_str(lf)->s)) continue;
    /* The path in collected memory: reading it may throw past this frame. */
    char *m = pkl_resolve(file, pko_as_str(lf)->s), *full = pko_alloc_atomic(strlen(m) + 1);
    strcpy(full, m);
    free(m);
    pk_srcpos *keep = pko_alloc(sizeof *keep);
    *keep = pos;
    pkl_read_file(p, full, false, keep, depth + 1);
  }
}

static void pkl_read_file(pkl_prog *p, const char *path, bool main, const pk_srcpos *from, int depth)
{
  if (depth > 100) pko_throw_at(PK_STATUS_STATIC, from, "load: files nested more than 100 deep (a load cycle?)");
  size_t len;
  char *text = pkl_slurp(path, &len, from);
  char *name = GC_MALLOC_ATOMIC_UNCOLLECTABLE(strlen(path) + 1);
  strcpy(name, path);
  pkl_read_text(p, name, text, len, main, depth);
  /* the reader may keep pointers into text for positions only via name */
  free(text);
}

/* Start noting global references (pkl_note_global). */
static void pkl_refs_begin(void)
{
  pkl_refs.n = 0;
  pkl_refs.on = true;
}

/* Stop noting, and fail on the first noted global that nothing defines. */
static void pkl_refs_check(void)
{
  pkl_refs.on = false;
  for (size_t i = 0; i < pkl_refs.n; i++) {
    const pko_symbol *s = pko_as_sym(pkl_refs.syms[i]);
    if (!(s->flags & PKO_SYM_DEFINED) && s->value == PK_UNBOUND && !s->macro)
      pko_throw_at(PK_STATUS_STATIC, &pkl_refs.pos[i], "variable %s is not bound", s->name);
  }
}

/* Compile every item, then fail on the first reference to a global that no
   loaded file defines. */
static void pkl_compile(pkl_prog *p)
{
  for (size_t i = 0; i < p->n; i++) pkc_predeclare(p->items[i].datum);
  pkl_refs_begin();
  for (size_t i = 0; i < p->n; i++) p->items[i].code = pkc_compile(p->items[i].datum, &p->items[i].pos);
  pkl_refs_check();
}

pke_node *pkl_compile_form(pk_val x, const pk_srcpos *pos)
{
  pkl_refs_begin();
  pke_node *code = pkc_compile(x, pos);
  pkl_refs_check();
  return code;
}

/* Write one answer (or a whole run's value) on its own line. */
static void pkl_emit(pk_val v, const pkl_opts *o)
{
  pkp_buf b;
  pkp_init(&b);
  if (o->json)
    pkp_json(&b, v);
  else
    pkp_print(&b, v, PKP_WRITE);
  pkp_putc(&b, '\n');
  pkp_fwrite(&b, pkb_output());
  pkp_free(&b);
}

/* A top-level run of the main file in --stream mode: answers as released. */
static void pkl_stream_run(const pke_node *run, pkl_opts *o)
{
  pks_query *q = pks_query_new(run, NULL, pke_run_count(run, NULL));
  pk_val a;
  while (pks_query_next(q, &a)) {
    pkl_emit(a, o);
    fflush(pkb_out);
    o->answers++;
  }
}

/* Run the compiled items in order. */
static void pkl_exec(pkl_prog *p, pkl_opts *o)
{
  for (size_t i = 0; i < p->n; i++) {
    pkl_item *it = &p->items[i];
    bool show = o && o->print_runs && it->main && pkc_is_run_form(it->datum);
    if (show && o->stream && it->code->op == PKE_RUN) {
      pkl_stream_run(it->code, o);
      continue;
    }
    pk_val v = pke_eval(it->code, NULL);
    if (show) {
      pkl_emit(v, o);
      o->answers += (uint64_t)(pko_length(v) > 0 ? pko_length(v) : 0);
    }
  }
}

/* Run a program already read into p; the status as pkl_run_file. */
static int pkl_run_prog(pkl_prog *p, pkl_opts *o)
{
  pko_symbol *failed = pko_as_sym(pko_sym("test-failed"));
  pkl_compile(p);
  failed->value = PK_FALSE; /* a program's status is its own tests' (the C API runs several) */
  pkl_exec(p, o);
  fflush(pkb_out);
  return pko_truthy(failed->value) ? PK_STATUS_FAILED : PK_STATUS_OK;
}

/* Catch an error thrown while running, as a status; (exit n) is
   PK_STATUS_EXIT with n in o->exit_code. */
#define PKL_GUARD(body, o)                                               \
  do {                                                                   \
    pko_catch c_;                                                        \
    if (PKO_TRY(c_)) {                                                   \
      int st_ = (body);                                                  \
      PKO_END(c_);                                                       \
      return st_;                                                        \
    }                                                                    \
    fflush(pkb_out);                                                     \
    if (pko_err.status == PK_STATUS_EXIT) (o)->exit_code = pko_err.code; \
    return pko_err.status;                                               \
  } while (0)

static int pkl_file_body(const char *path, pkl_opts *o)
{
  pkl_prog p = { 0 };
  pkl_read_file(&p, path, true, NULL, 0);
  return pkl_run_prog(&p, o);
}

int pkl_run_file(const char *path, pkl_opts *o) { PKL_GUARD(pkl_file_body(path, o), o); }

/* The name is copied (positions keep it for good) inside the guard, so
   running out of memory there is an error, not an exit (fuzz_run found
   the exit). */
static int pkl_text_body(const char *name, const char *text, size_t len, pkl_opts *o)
{
  pkl_prog p = { 0 };
  char *nm = GC_MALLOC_ATOMIC_UNCOLLECTABLE(strlen(name) + 1);
  if (!nm) pko_oom();
  strcpy(nm, name);
  pkl_read_text(&p, nm, text, len, true, 0);
  return pkl_run_prog(&p, o);
}

int pkl_run_text(const char *name, const char *text, size_t len, pkl_opts *o)
{
  PKL_GUARD(pkl_text_body(name, text, len, o), o);
}

/* (load f) reached at run time. */
static void pkl_load_runtime(pk_val fname, const pk_srcpos *pos)
{
  const char *name = pko_as_str(fname)->s;
  if (pkl_builtin_file(name)) return;
  char *full = pkl_resolve(pos ? pos->file : NULL, name);
  pkl_prog p = { 0 };
  bool was = pkl_refs.on;
  pkl_read_file(&p, full, false, pos, 0);
  free(full);
  pkl_compile(&p);
  pkl_refs.on = was;
  pkl_exec(&p, NULL);
}

void pkl_init(void)
{
  pkc_note_global = pkl_note_global;
  pke_load = pkl_load_runtime;
}
