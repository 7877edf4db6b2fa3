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
  static _Thread_local pk_srcpos here; /* outlives p: pko_where may be read after p is gone */
  const pk_srcpos *was = pko_where;
  for (size_t i = 0; i < p->n; i++) {
    here = p->items[i].pos;
    pko_where = &here; /* for errors the compiler does not place itself (the stack budget) */
    p->items[i].code = pkc_compile(p->items[i].datum, &p->items[i].pos);
  }
  pko_where = was;
  pkl_refs_check();
}

pke_node *pkl_compile_form(pk_val x, const pk_srcpos *pos)
{
  pkl_refs_begin();
  pke_node *code = pkc_compile(x, pos);
  pkl_refs_check();
  return code;
}

/* The top-level run being printed: its index K (from 0, in the main
   file), and the answers found so far, newest first. */
typedef struct pkl_shown {
  int64_t k;
  pk_val found;
  bool on;
  const pk_srcpos *pos; /* of the run form */
} pkl_shown;

/* Write v (an answer or a run's value) to the output as its format says. */
static void pkl_put(pkp_buf *b, pk_val v, const pkl_opts *o)
{
  if (o->json)
    pkp_json(b, v);
  else
    pkp_print(b, v, PKP_WRITE);
}

/* Where run values go. */
static FILE *pkl_out(const pkl_opts *o) { return o->out ? o->out : pkb_output(); }

/* Write b and a newline where run values go, and free b. */
static void pkl_flush_line(pkp_buf *b, const pkl_opts *o)
{
  pkp_putc(b, '\n');
  fwrite(b->s, 1, b->len, pkl_out(o));
  pkp_free(b);
}

/* One released answer of run K with --stream: the answer, or in JSON
   {"run":K,"answer":A}; flushed at once. */
static void pkl_emit_answer(pk_val a, const pkl_shown *sh, const pkl_opts *o)
{
  pkp_buf b;
  pkp_init(&b);
  if (o->json) pkp_printf(&b, "{\"run\":%lld,\"answer\":", (long long)sh->k);
  pkl_put(&b, a, o);
  if (o->json) pkp_putc(&b, '}');
  pkl_flush_line(&b, o);
  fflush(pkl_out(o));
}

/* The answers of run K found before it was stopped (see pk_load.h). */
static void pkl_emit_partial(const pkl_shown *sh, const pkl_opts *o)
{
  const char *why = pko_stop_text();
  pkp_buf b;
  pkp_init(&b);
  if (o->json) {
    pkp_printf(&b, "{\"run\":%lld,", (long long)sh->k);
    if (!o->stream) {
      pkp_puts(&b, "\"partial\":", 10);
      pkp_json(&b, pko_reverse(sh->found));
      pkp_putc(&b, ',');
    }
    pkp_printf(&b, "\"stopped\":\"%s\"}", why);
  } else if (!o->stream) {
    pkp_print(&b, pko_reverse(sh->found), PKP_WRITE);
    pkp_printf(&b, " ; partial: %s", why);
  } else {
    pkp_free(&b);
    return;
  }
  pkl_flush_line(&b, o);
}

/* A top-level run of the main file: its answers as released, each
   written at once with --stream, else the list at the end; what it found
   stays in sh until the run ends, for a partial result. */
static void pkl_show_run(const pke_node *run, pkl_opts *o, pkl_shown *sh)
{
  pks_query *q = pks_query_new(run, NULL, pke_run_count(run, NULL));
  pk_val a;
  sh->found = PK_NIL;
  sh->on = true;
  sh->pos = &run->pos;
  while (pks_query_next(q, &a)) {
    if (o->stream) pkl_emit_answer(a, sh, o);
    sh->found = pko_cons(a, sh->found);
    o->answers++;
  }
  sh->on = false;
  if (!o->stream) {
    pkp_buf b;
    pkp_init(&b);
    pkl_put(&b, pko_reverse(sh->found), o);
    pkl_flush_line(&b, o);
  }
  sh->k++;
}

/* Run the compiled items in order. */
static void pkl_exec(pkl_prog *p, pkl_opts *o, pkl_shown *sh)
{
  for (size_t i = 0; i < p->n; i++) {
    pkl_item *it = &p->items[i];
    bool show = o && o->print_runs && it->main && pkc_is_run_form(it->datum);
    if (show && it->code->op == PKE_RUN) {
      pkl_show_run(it->code, o, sh);
      continue;
    }
    pk_val v = pke_eval(it->code, NULL);
    if (show) {
      pkp_buf b;
      pkp_init(&b);
      pkl_put(&b, v, o);
      pkl_flush_line(&b, o);
      o->answers += (uint64_t)(pko_length(v) > 0 ? pko_length(v) : 0);
      sh->k++;
    }
  }
}

/* Run a program already read into p; the status as pkl_run_file. */
static int pkl_run_prog(pkl_prog *p, pkl_opts *o, pkl_shown *sh)
{
  pko_symbol *failed = pko_as_sym(pko_sym("test-failed"));
  pkl_compile(p);
  if (o->running) o->running();
  failed->value = PK_FALSE; /* a program's status is its own tests' (the C API runs several) */
  pkl_exec(p, o, sh);
  fflush(pkb_out);
  fflush(pkl_out(o));
  return pko_truthy(failed->value) ? PK_STATUS_FAILED : PK_STATUS_OK;
}

/* After an error: the partial result of a top-level run that an
   interrupt or a limit stopped, everything flushed; the status ((exit n)
   is PK_STATUS_EXIT with n in o->exit_code). */
static int pkl_caught(pkl_opts *o, const pkl_shown *sh)
{
  bool stopped = pko_err.status == PK_STATUS_INTERRUPT || pko_stop_reason() >= PKO_STOP_STEPS;
  if (sh->on && stopped && !strstr(pko_err.msg, ": ")) { /* thrown where no form was evaluated: the run's position */
    char msg[sizeof pko_err.msg];
    snprintf(msg, sizeof msg, "%s:%d:%d: %.1900s", sh->pos->file, sh->pos->line, sh->pos->col, pko_err.msg);
    memcpy(pko_err.msg, msg, sizeof msg);
  }
  if (sh->on && stopped) pkl_emit_partial(sh, o);
  fflush(pkb_out);
  fflush(pkl_out(o));
  if (pko_err.status == PK_STATUS_EXIT) o->exit_code = pko_err.code;
  return pko_err.status;
}

/* Read the program (the file path, or text named path), then run it, as
   a status. */
static int pkl_run(const char *path, const char *text, size_t len, pkl_opts *o)
{
  pkl_shown sh = { 0, PK_NIL, false, NULL };
  pko_catch c;
  if (PKO_TRY(c)) {
    pkl_prog p = { 0 };
    if (text) {
      /* The name is copied (positions keep it for good) inside the guard,
         so running out of memory there is an error, not an exit (fuzz_run
         found the exit). */
      char *nm = GC_MALLOC_ATOMIC_UNCOLLECTABLE(strlen(path) + 1);
      if (!nm) pko_oom();
      strcpy(nm, path);
      pkl_read_text(&p, nm, text, len, true, 0);
    } else
      pkl_read_file(&p, path, true, NULL, 0);
    int st = pkl_run_prog(&p, o, &sh);
    PKO_END(c);
    return st;
  }
  return pkl_caught(o, &sh);
}

int pkl_run_file(const char *path, pkl_opts *o) { return pkl_run(path, NULL, 0, o); }

int pkl_run_text(const char *name, const char *text, size_t len, pkl_opts *o) { return pkl_run(name, text, len, o); }

/* (load f) reached at run time. */
static void pkl_load_runtime(pk_val fname, const pk_srcpos *pos)
{
  const char *name = pko_as_str(fname)->s;
  if (pkl_builtin_file(name)) return;
  char *m = pkl_resolve(pos ? pos->file : NULL, name), *full = GC_MALLOC_ATOMIC(strlen(m) + 1);
  if (!full) pko_oom();
  strcpy(full, m); /* collected: reading may throw (found by fuzz_run: the malloc'd copy leaked) */
  free(m);
  pkl_prog p = { 0 };
  bool was = pkl_refs.on;
  pkl_read_file(&p, full, false, pos, 0);
  pkl_compile(&p);
  pkl_refs.on = was;
  pkl_exec(&p, NULL, NULL);
}

void pkl_init(void)
{
  pkc_note_global = pkl_note_global;
  pke_load = pkl_load_runtime;
}
