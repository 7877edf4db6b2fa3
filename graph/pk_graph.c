/*
** pk_graph.c — the model format (see pk_graph.h).
**
** Reading: the program reader's tokens (pkr_lex; the commonest ones are
** lexed here, pkg_token) feed one loop over an explicit stack of open
** lists, so nesting depth costs heap, not C stack.  Each finished list
** becomes a hash-consed term at once (pkh_list of its items), with define
** names substituted as the symbols arrive, so a file is read in one pass
** with no intermediate tree.  Depth 1 is the
** (model ...) form, depth 2 its declarations, deeper the terms.
**
** Printing: one depth-first walk over the output DAG counts uses and
** records the finishing order; the defines follow from it; one more
** iterative walk writes the defines' and outputs' text from its end
** backwards (pkg_back), which meets the nodes about in memory order.
*/
#include "pk_graph.h"
#include "pk_hcons.h"
#include "pk_num.h"
#include "pk_read.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- symbols and the known random variables ------------------------------------ */

enum {
  PKG_S_MODEL,
  PKG_S_INPUT,
  PKG_S_DEFINE,
  PKG_S_OUTPUT,
  PKG_S_TENSOR,
  PKG_S_F64,
  PKG_S_I64,
  PKG_S_BOOL,
  PKG_S_OBSERVED,
  PKG_NSYMS
};
static pk_val pkg_syms[PKG_NSYMS];

/* SPEC §4's random variables: name and parameters (then SIZE RNG NAME). */
static const struct {
  const char *name, *params;
  int n;
} pkg_rvs[] = {
  { "NormalRV", "mu sd", 2 },         { "HalfNormalRV", "loc sd", 2 },    { "MvNormalRV", "mean cov", 2 },
  { "CauchyRV", "loc scale", 2 },     { "HalfCauchyRV", "loc scale", 2 }, { "StudentTRV", "nu mu sd", 3 },
  { "LaplaceRV", "mu b", 2 },         { "LogisticRV", "mu s", 2 },        { "GammaRV", "shape rate", 2 },
  { "InvGammaRV", "shape scale", 2 }, { "ExponentialRV", "rate", 1 },     { "BetaRV", "a b", 2 },
  { "BinomialRV", "n p", 2 },         { "NegBinomialRV", "n p", 2 },      { "PoissonRV", "rate", 1 },
  { "BernoulliRV", "p", 1 },          { "UniformRV", "lower upper", 2 },  { "DirichletRV", "alpha", 1 },
  { "CategoricalRV", "p", 1 },        { "MultinomialRV", "n p", 2 },
};
#define PKG_NRVS (sizeof pkg_rvs / sizeof pkg_rvs[0])
static pk_val pkg_rvsyms[PKG_NRVS];

static void pkg_syms_once(void)
{
  static const char *names[PKG_NSYMS] = { "model",   "input", "define", "output",  "tensor",
                                          "float64", "int64", "bool",   "observed" };
  for (int k = 0; k < PKG_NSYMS; k++) pkg_syms[k] = pko_sym(names[k]);
  for (size_t k = 0; k < PKG_NRVS; k++) pkg_rvsyms[k] = pko_sym(pkg_rvs[k].name);
}

static void pkg_setup(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, pkg_syms_once);
}

/* Index of a known random variable's symbol, or -1.  Names not ending in
   "RV" are rejected on two bytes. */
static int pkg_rv(pk_val sym)
{
  if (!pko_symbolp(sym)) return -1;
  const pko_symbol *s = pko_as_sym(sym);
  if (s->len < 3 || s->name[s->len - 2] != 'R' || s->name[s->len - 1] != 'V') return -1;
  for (size_t k = 0; k < PKG_NRVS; k++)
    if (pkg_rvsyms[k] == sym) return (int)k;
  return -1;
}

int pkg_rv_params(pk_val op)
{
  pkg_setup();
  int k = pkg_rv(op);
  return k < 0 ? -1 : pkg_rvs[k].n;
}

/* ---- a map from values (compared by identity) to small records ---------------------- */

typedef struct pkg_ent {
  pk_val val;
  int32_t a, b;
  int32_t kind, pad;
} pkg_ent;

/* A map from values to records, malloc'd (pkg_map_free): what a map
   holds is interned or reachable from the model being read or printed. */
typedef struct pkg_map {
  pk_val *keys; /* 0 = empty; the block, ents after the keys */
  pkg_ent *ents;
  size_t cap, n;
} pkg_map;

static void pkg_oom(void)
{
  fputs("pkanren: out of memory\n", stderr);
  abort();
}

/* An empty map of cap (a power of two) slots.  Most maps stay small: a
   small model's printer makes six.  In collected memory they were two
   thirds of what a batch of small models allocated there, the collected
   heap's growth fresh memory the system zeroed, twice as much of it with
   two workers. */
#define PKG_MAP_SMALL 8
static void pkg_map_init(pkg_map *m, size_t cap)
{
  m->keys = pko_xmalloc(cap * (sizeof *m->keys + sizeof *m->ents));
  memset(m->keys, 0, cap * sizeof *m->keys);
  m->ents = (pkg_ent *)(m->keys + cap);
  m->cap = cap;
  m->n = 0;
}

static void pkg_map_free(pkg_map *m)
{
  free(m->keys);
  m->keys = NULL;
}

static inline size_t pkg_slot(pk_val k, size_t cap)
{
  return (size_t)(((uint64_t)k >> 4) * 0x9E3779B97F4A7C15ull >> 17) & (cap - 1);
}

/* The record of key k, or NULL. */
static pkg_ent *pkg_get(const pkg_map *m, pk_val k)
{
  size_t i = pkg_slot(k, m->cap);
  for (;;) {
    if (m->keys[i] == k) return &m->ents[i];
    if (!m->keys[i]) return NULL;
    i = (i + 1) & (m->cap - 1);
  }
}

/* The record of key k, added zeroed when absent (*fresh says which);
   doubles at half load. */
static pkg_ent *pkg_put(pkg_map *m, pk_val k, bool *fresh)
{
  if (2 * (m->n + 1) > m->cap) {
    pkg_map old = *m;
    pkg_map_init(m, old.cap * 2);
    for (size_t j = 0; j < old.cap; j++) {
      if (!old.keys[j]) continue;
      size_t i = pkg_slot(old.keys[j], m->cap);
      while (m->keys[i]) i = (i + 1) & (m->cap - 1);
      m->keys[i] = old.keys[j];
      m->ents[i] = old.ents[j];
    }
    m->n = old.n;
    pkg_map_free(&old);
  }
  size_t i = pkg_slot(k, m->cap);
  while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
  *fresh = !m->keys[i];
  if (*fresh) {
    m->keys[i] = k;
    m->ents[i] = (pkg_ent){ 0 };
    m->n++;
  }
  return &m->ents[i];
}

/* A growable array of values (malloc'd: what it holds is interned or
   reachable from a model being printed, so kept alive elsewhere). */
typedef struct pkg_vec {
  pk_val *v;
  size_t n, cap;
} pkg_vec;

static __attribute__((noinline)) void pkg_vgrow(pkg_vec *a)
{
  a->cap = a->cap ? a->cap * 2 : 256;
  a->v = realloc(a->v, a->cap * sizeof *a->v);
  if (!a->v) pkg_oom();
}

static inline void pkg_vpush(pkg_vec *a, pk_val x)
{
  if (a->n == a->cap) pkg_vgrow(a);
  a->v[a->n++] = x;
}

/* ---- reading: state --------------------------------------------------------------- */

enum { PKG_D_NONE, PKG_D_INPUT, PKG_D_DEFINE, PKG_D_OUTPUT }; /* declarations */
enum { PKG_N_USED = 1, PKG_N_INPUT, PKG_N_DEFINE };           /* what a name is */

typedef struct pkg_item {
  int32_t line, col;
} pkg_item;
typedef struct pkg_frame {
  size_t start;
  int32_t line, col;
  int16_t close;
  int16_t check; /* 0 when the head is known to need no pkg_check_term */
} pkg_frame;

/* A symbol the fast lexer met: its name's first 8 bytes (names up to 8
   bytes long; longer ones key by name hash, w == 0), its table hash, and
   what it stands for in the current model's terms (valid when gen is the
   model's). */
typedef struct pkg_symc {
  uint64_t w;
  pk_val sym, sub;
  uint32_t h, subh;
  uint32_t gen, check; /* check: sub heads a term pkg_check_term looks at */
} pkg_symc;

/* A list closed in a term body but not yet interned (pkg_terms): its
   items (some may be placeholders of lists before it), its hash, and
   where its own placeholder is (an item on the stack, or of a later
   pending list). */
#define PKG_RING 16
#define PKG_RING_ITEMS 8
typedef struct pkg_pend {
  pk_val items[PKG_RING_ITEMS];
  uint32_t h, n, atoms; /* atoms: its items are (pkg_atomsp), so it goes in pkg_known */
  int32_t wring;        /* -1: rd->vals[wslot]; else ring[wring].items[wslot] */
  uint32_t wslot;
} pkg_pend;

/* A list of up to PKG_KNOWN_ITEMS atoms interned lately (pkg_known). */
#define PKG_KNOWN 4096
#define PKG_KNOWN_ITEMS 3
typedef struct pkg_known {
  uint32_t h, n;
  pk_val items[PKG_KNOWN_ITEMS];
  pk_val list;
} pkg_known;

/* The reader's caches that outlive a read: symbols by name and lists of
   atoms, both of values that live as long as the process (symbols,
   interned lists and atoms), so one set per thread serves every text it
   reads: 2,000 files of 5 models each zeroed 200 KB apiece when every read
   made its own.  An entry is checked against what it caches; a symbol's
   substitution is valid for the model numbered gen, and the numbers only
   grow on a thread. */
typedef struct pkg_cache {
  uint32_t gen;               /* the last model's number */
  pkg_symc symcache[256];     /* recent symbols by their name */
  pkg_known known[PKG_KNOWN]; /* lists of atoms by their hash */
  pkg_pend ring[PKG_RING];    /* pkg_rd's lists in flight: their items are interned */
  pkr_reader *r;              /* the lexer of pkg_rd.r, reused (pkr_reopen) */
} pkg_cache;

typedef struct pkg_rd {
  pkr_reader *r;
  const char *file;
  const char *text; /* the fast lexer's cursor (pkg_token) */
  size_t len, i;
  size_t lstart; /* where the current line starts, as seen by col (the fast lexer's bytes are ASCII) */
  int line;
  uint32_t gen;      /* the model being read (pkg_symc.gen) */
  pkg_cache *c;      /* this thread's */
  bool known;        /* lists of atoms go in c->known: not in a scope (pkh_scope_begin), whose lists die with it */
  uint32_t hfix[16]; /* hashes of the fixnums 0..15, 0 until needed */
  /* Lists in flight, oldest at rhead: c's, not scanned (as a collected
     block, this large, it took the collector's global lock at each read). */
  pkg_pend *ring;
  unsigned rhead, rcount;
  pkg_symc *sym; /* the entry of the symbol just lexed, or NULL */
  pk_val *vals;  /* items of the open lists, innermost last */
  uint32_t *hs;  /* their hashes (pkh_hash) */
  pkg_item *pos; /* where each item starts */
  size_t n, icap;
  pkg_frame *fr; /* open lists */
  size_t depth, fcap;
  /* the model being read */
  pk_val name;
  int decl;                     /* the open declaration's kind */
  pkg_map names;                /* symbol -> PKG_N_*, its node, where first seen */
  pk_val inputs, defines, outs; /* reversed lists of interned terms */
  /* the file */
  pk_val models;      /* reversed */
  pkg_map modelnames; /* name -> line, col */
  pkp_buf done;       /* names of the models read, for messages */
} pkg_rd;

/* A static error at line:col of the file. */
static _Noreturn void pkg_fail(const pkg_rd *rd, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static _Noreturn void pkg_fail(const pkg_rd *rd, int line, int col, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  pk_srcpos pos = { rd->file, line, col };
  pko_vthrow_at(PK_STATUS_STATIC, &pos, fmt, ap);
}

/* A value written for a message, cut to 80 characters, into buf. */
static const char *pkg_show(pk_val v, char buf[96])
{
  char *s = pkp_tostring(v, PKP_WRITE);
  if (strlen(s) > 80) memcpy(s + 77, "...", 4);
  snprintf(buf, 96, "%s", s);
  free(s);
  return buf;
}

/* Room for one more item. */
static void pkg_grow(pkg_rd *rd)
{
  size_t cap = rd->icap * 2;
  pk_val *vs = GC_MALLOC(cap * sizeof *vs);
  uint32_t *hs = GC_MALLOC_ATOMIC(cap * sizeof *hs);
  pkg_item *ps = GC_MALLOC_ATOMIC(cap * sizeof *ps);
  if (!vs || !hs || !ps) pkg_oom();
  memcpy(vs, rd->vals, rd->n * sizeof *vs);
  memcpy(hs, rd->hs, rd->n * sizeof *hs);
  memcpy(ps, rd->pos, rd->n * sizeof *ps);
  rd->vals = vs;
  rd->hs = hs;
  rd->pos = ps;
  rd->icap = cap;
}

/* Push an item (canonical, its hash h) of the innermost list. */
static inline void pkg_push(pkg_rd *rd, pk_val v, uint32_t h, int line, int col)
{
  if (rd->n == rd->icap) pkg_grow(rd);
  rd->vals[rd->n] = v;
  rd->hs[rd->n] = h;
  rd->pos[rd->n++] = (pkg_item){ line, col };
}

/* Open a list at pos. */
static void pkg_open(pkg_rd *rd, const pk_srcpos *pos, int bracket)
{
  if (rd->depth == rd->fcap) {
    size_t cap = rd->fcap * 2;
    pkg_frame *f = GC_MALLOC_ATOMIC(cap * sizeof *f);
    if (!f) pkg_oom();
    memcpy(f, rd->fr, rd->depth * sizeof *f);
    rd->fr = f;
    rd->fcap = cap;
  }
  rd->fr[rd->depth++] = (pkg_frame){ rd->n, pos->line, pos->col, bracket == '(' ? ')' : ']', 1 };
}

/* Start a model: forget the last one's names (emptied in place, a large
   map replaced by a smaller one) and declarations. */
static void pkg_model_reset(pkg_rd *rd)
{
  if (rd->names.n > 0) {
    if (rd->names.cap > 1024) {
      pkg_map_free(&rd->names);
      pkg_map_init(&rd->names, 1024);
    } else {
      memset(rd->names.keys, 0, rd->names.cap * sizeof *rd->names.keys);
      rd->names.n = 0;
    }
  }
  rd->name = 0;
  rd->decl = PKG_D_NONE;
  rd->inputs = rd->defines = rd->outs = PK_NIL;
  if (++rd->c->gen == 0) { /* after 2^32 models: no entry may look current */
    for (int k = 0; k < 256; k++) rd->c->symcache[k].gen = 0;
    rd->c->gen = 1;
  }
  rd->gen = rd->c->gen;
}

/* ---- reading: atoms ------------------------------------------------------------------ */

/* A symbol in a term: the node its define names, or itself (remembered as
   used, so that a later define of it is an error).  The result is kept in
   the lexer's entry of the symbol (never stale: a name used cannot be
   defined later in the model). */
static pk_val pkg_subst(pkg_rd *rd, pk_val sym, int line, int col, uint32_t *h)
{
  pkg_symc *c = rd->sym && rd->sym->sym == sym ? rd->sym : NULL;
  if (c && c->gen == rd->gen) {
    *h = c->subh;
    return c->sub;
  }
  bool fresh;
  pkg_ent *e = pkg_put(&rd->names, sym, &fresh);
  if (fresh) {
    e->kind = PKG_N_USED;
    e->a = line;
    e->b = col;
  }
  pk_val v = e->kind == PKG_N_DEFINE ? e->val : sym;
  *h = pkh_hash(v);
  if (c) *c = (pkg_symc){ c->w, sym, v, c->h, *h, rd->gen, pkg_rv(v) >= 0 || v == pkg_syms[PKG_S_OBSERVED] };
  return v;
}

/* The index the next item of the innermost list will have. */
static size_t pkg_index(const pkg_rd *rd) { return rd->n - rd->fr[rd->depth - 1].start; }

/* Where a list or atom may stand, by depth and index (pos: its start). */
static void pkg_place(pkg_rd *rd, bool list, pk_val v, const pk_srcpos *pos)
{
  char b[96];
  size_t d = rd->depth;
  if (d >= 3) return; /* inside a term: anything goes */
  size_t i = d ? pkg_index(rd) : 0;
  if (d == 0 && !list)
    pkg_fail(rd, pos->line, pos->col, "expected (model NAME declaration ...), found %s", pkg_show(v, b));
  if (d == 1 && i == 0 && (list || v != pkg_syms[PKG_S_MODEL]))
    pkg_fail(rd, pos->line, pos->col, "expected (model NAME declaration ...), found %s",
             list ? "a list" : pkg_show(v, b));
  if (d == 1 && i == 1 && (list || !pko_symbolp(v)))
    pkg_fail(rd, pos->line, pos->col, "a model's name must be a symbol, found %s", list ? "a list" : pkg_show(v, b));
  if (d == 1 && i >= 2 && !list)
    pkg_fail(rd, pos->line, pos->col, "expected a declaration (input, define or output), found %s", pkg_show(v, b));
  if (d == 2 && i == 0) {
    int k = v == pkg_syms[PKG_S_INPUT]    ? PKG_D_INPUT
            : v == pkg_syms[PKG_S_DEFINE] ? PKG_D_DEFINE
            : v == pkg_syms[PKG_S_OUTPUT] ? PKG_D_OUTPUT
                                          : PKG_D_NONE;
    if (list || k == PKG_D_NONE)
      pkg_fail(rd, pos->line, pos->col, "unknown declaration %s (expected input, define or output)",
               list ? "(a list)" : pkg_show(v, b));
    rd->decl = k;
  }
}

/* An atom token: placed, interned, substituted where terms are. */
static void pkg_atom(pkg_rd *rd, pk_val v, const pk_srcpos *pos)
{
  size_t d = rd->depth;
  uint32_t h;
  if (d < 3) {
    pkg_place(rd, false, v, pos);
    if (d == 1 && pkg_index(rd) == 1) rd->name = v;
  }
  if (pko_symbolp(v)) {
    size_t i = d < 3 ? pkg_index(rd) : 0;
    bool term = (d >= 3 && rd->decl != PKG_D_INPUT) ||
                (d == 2 && ((rd->decl == PKG_D_DEFINE && i >= 2) || (rd->decl == PKG_D_OUTPUT && i >= 1)));
    if (term)
      v = pkg_subst(rd, v, pos->line, pos->col, &h);
    else
      h = rd->sym && rd->sym->sym == v ? rd->sym->h : pkh_hash(v);
  } else {
    pk_val c = pkh_atom(v);
    char b[96];
    if (!c) pkg_fail(rd, pos->line, pos->col, "%s cannot appear in a model", pkg_show(v, b));
    v = c;
    h = pkh_hash(v);
  }
  pkg_push(rd, v, h, pos->line, pos->col);
}

/* ---- reading: lists ------------------------------------------------------------------ */

/* items[from..to) as an interned list. */
static pk_val pkg_list(const pkg_rd *rd, size_t from, size_t to)
{
  return pkh_list_at(rd->vals + from, to - from, pkh_list_hash(rd->hs + from, to - from));
}

/* A finished term list (items from start): known random variables and
   observed must have their number of arguments. */
static void pkg_check_term(const pkg_rd *rd, const pkg_frame *f)
{
  size_t n = rd->n - f->start;
  if (n == 0) return;
  pk_val h = rd->vals[f->start];
  int k = pkg_rv(h);
  if (k >= 0 && (int)n - 1 != pkg_rvs[k].n + 3)
    pkg_fail(rd, f->line, f->col, "%s takes %d arguments (%s SIZE RNG NAME), given %d", pkg_rvs[k].name,
             pkg_rvs[k].n + 3, pkg_rvs[k].params, (int)n - 1);
  if (h == pkg_syms[PKG_S_OBSERVED] && n != 3)
    pkg_fail(rd, f->line, f->col, "observed takes 2 arguments (VALUE RV), given %d", (int)n - 1);
}

/* Dimensions of a declared shape: a proper list of non-negative integers
   and symbols; -1 stands for a symbol.  *rank gets the length. */
static int64_t *pkg_shape(const pkg_rd *rd, pk_val shape, const pkg_item *at, uint32_t *rank)
{
  long n = pko_length(shape);
  if (n < 0) pkg_fail(rd, at->line, at->col, "a shape must be a list of dimensions");
  int64_t *dims = GC_MALLOC_ATOMIC((size_t)(n ? n : 1) * sizeof *dims);
  if (!dims) pkg_oom();
  for (long k = 0; k < n; k++, shape = pko_cdr(shape)) {
    pk_val d = pko_car(shape);
    if (pko_symbolp(d))
      dims[k] = -1;
    else if (pko_intp(d) && pko_intval(d) >= 0)
      dims[k] = pko_intval(d);
    else {
      char b[96];
      pkg_fail(rd, at->line, at->col, "a dimension must be a non-negative integer or a symbol, found %s",
               pkg_show(d, b));
    }
  }
  *rank = (uint32_t)n;
  return dims;
}

/* The shape of a test value as text, e.g. "(2 2)" or "()". */
static void pkg_shape_text(char *buf, size_t cap, uint32_t rank, const int64_t *dims)
{
  size_t o = (size_t)snprintf(buf, cap, "(");
  for (uint32_t k = 0; k < rank && o < cap; k++)
    o += (size_t)snprintf(buf + o, cap - o, k ? " %lld" : "%lld", (long long)dims[k]);
  if (o < cap) snprintf(buf + o, cap - o, ")");
}

/* (input NAME (tensor DTYPE SHAPE) [VALUE]) */
static void pkg_input(pkg_rd *rd, const pkg_frame *f)
{
  const pkg_item *it = rd->pos + f->start;
  const pk_val *v = rd->vals + f->start;
  size_t n = rd->n - f->start;
  char b[96];
  if (n < 3 || n > 4)
    pkg_fail(rd, f->line, f->col, "input takes a name, a type (tensor DTYPE SHAPE) and an optional test value");
  if (!pko_symbolp(v[1]))
    pkg_fail(rd, it[1].line, it[1].col, "an input's name must be a symbol, found %s", pkg_show(v[1], b));
  pk_val ty = v[2];
  if (pko_length(ty) != 3 || pko_car(ty) != pkg_syms[PKG_S_TENSOR])
    pkg_fail(rd, it[2].line, it[2].col, "an input's type must be (tensor DTYPE SHAPE), found %s", pkg_show(ty, b));
  pk_val dt = pko_car(pko_cdr(ty));
  if (dt != pkg_syms[PKG_S_F64] && dt != pkg_syms[PKG_S_I64] && dt != pkg_syms[PKG_S_BOOL])
    pkg_fail(rd, it[2].line, it[2].col, "unknown dtype %s (expected float64, int64 or bool)", pkg_show(dt, b));
  uint32_t rank;
  const int64_t *dims = pkg_shape(rd, pko_car(pko_cdr(pko_cdr(ty))), &it[2], &rank);
  if (n == 4) {
    pk_val tv = v[3];
    if (!pko_numberp(tv) && !pko_isa(tv, PK_T_TENSOR))
      pkg_fail(rd, it[3].line, it[3].col, "a test value must be a number or a tensor literal, found %s",
               pkg_show(tv, b));
    const pko_tensor *t = pko_isa(tv, PK_T_TENSOR) ? pko_as_tensor(tv) : NULL;
    uint32_t vr = t ? t->rank : 0;
    bool ok = vr == rank;
    for (uint32_t k = 0; ok && k < rank; k++) ok = dims[k] < 0 || dims[k] == t->dims[k];
    if (!ok) {
      char have[64], want[64];
      pkg_shape_text(have, sizeof have, vr, t ? t->dims : NULL);
      snprintf(want, sizeof want, "%s", pkg_show(pko_car(pko_cdr(pko_cdr(ty))), b));
      pkg_fail(rd, it[3].line, it[3].col, "test value of shape %s contradicts the declared shape %s", have, want);
    }
  }
  bool fresh;
  pkg_ent *e = pkg_put(&rd->names, v[1], &fresh);
  if (!fresh && e->kind != PKG_N_USED)
    pkg_fail(rd, it[1].line, it[1].col, "%s is declared twice (first at line %d)", pko_symname(v[1]), e->a);
  *e = (pkg_ent){ v[1], it[1].line, it[1].col, PKG_N_INPUT, 0 };
  rd->inputs = pko_cons(pkg_list(rd, f->start, rd->n), rd->inputs);
}

/* (define NAME TERM) */
static void pkg_define(pkg_rd *rd, const pkg_frame *f)
{
  const pkg_item *it = rd->pos + f->start;
  const pk_val *v = rd->vals + f->start;
  char b[96];
  if (rd->n - f->start != 3) pkg_fail(rd, f->line, f->col, "define takes a name and one term");
  if (!pko_symbolp(v[1]))
    pkg_fail(rd, it[1].line, it[1].col, "a define's name must be a symbol, found %s", pkg_show(v[1], b));
  bool fresh;
  pkg_ent *e = pkg_put(&rd->names, v[1], &fresh);
  if (!fresh && e->kind == PKG_N_USED)
    pkg_fail(rd, e->a, e->b, "%s is used before its define (line %d)", pko_symname(v[1]), it[1].line);
  if (!fresh) pkg_fail(rd, it[1].line, it[1].col, "%s is defined twice (first at line %d)", pko_symname(v[1]), e->a);
  *e = (pkg_ent){ v[2], it[1].line, it[1].col, PKG_N_DEFINE, 0 };
  rd->defines = pko_cons(pkg_list(rd, f->start, rd->n), rd->defines);
}

/* (output TERM ...) */
static void pkg_output(pkg_rd *rd, const pkg_frame *f)
{
  if (rd->n - f->start < 2) pkg_fail(rd, f->line, f->col, "output takes at least one term");
  for (size_t k = f->start + 1; k < rd->n; k++) rd->outs = pko_cons(rd->vals[k], rd->outs);
}

/* Push the items of a reversed list, in their order. */
static void pkg_push_rev(pkg_vec *a, pk_val rev)
{
  size_t n = 0;
  for (pk_val r = rev; r != PK_NIL; r = pko_cdr(r)) n++;
  for (size_t k = 0; k < n; k++) pkg_vpush(a, PK_NIL);
  for (size_t k = a->n; rev != PK_NIL; rev = pko_cdr(rev)) a->v[--k] = pko_car(rev);
}

/* (model NAME ...) closes: the term, and its name checked against the
   file's other models. */
static void pkg_model(pkg_rd *rd, const pkg_frame *f)
{
  const pkg_item *it = rd->pos + f->start;
  const pk_val *v = rd->vals + f->start;
  if (rd->n - f->start < 2) pkg_fail(rd, f->line, f->col, "a model needs a name: (model NAME declaration ...)");
  if (rd->outs == PK_NIL) pkg_fail(rd, f->line, f->col, "model %s has no output", pko_symname(v[1]));
  bool fresh;
  pkg_ent *e = pkg_put(&rd->modelnames, v[1], &fresh);
  if (!fresh)
    pkg_fail(rd, it[1].line, it[1].col, "model %s is defined twice in this file (first at line %d)", pko_symname(v[1]),
             e->a);
  e->a = it[1].line;
  pkg_vec a = { 0 };
  pkg_vpush(&a, pkg_syms[PKG_S_OUTPUT]);
  pkg_push_rev(&a, rd->outs);
  pk_val out = pkh_list(a.v, a.n, PK_NIL);
  a.n = 0;
  pkg_vpush(&a, pkg_syms[PKG_S_MODEL]);
  pkg_vpush(&a, v[1]);
  pkg_push_rev(&a, rd->inputs);
  pkg_push_rev(&a, rd->defines);
  pkg_vpush(&a, out);
  pk_val m = pkh_list(a.v, a.n, PK_NIL);
  free(a.v);
  rd->models = pko_cons(m, rd->models);
  pkp_puts(&rd->done, rd->done.len ? ", " : "", rd->done.len ? 2 : 0);
  pkp_puts(&rd->done, pko_symname(v[1]), pko_as_sym(v[1])->len);
}

/* A close bracket: finish the innermost list as its depth says. */
static void pkg_close(pkg_rd *rd, const pk_srcpos *pos, int bracket)
{
  if (rd->depth == 0)
    pkg_fail(rd, pos->line, pos->col, "unexpected close %s", bracket == ')' ? "parenthesis" : "bracket");
  pkg_frame f = rd->fr[rd->depth - 1];
  if (f.close != bracket)
    pkg_fail(rd, pos->line, pos->col, "%s list terminated by %s", f.close == ')' ? "parenthesized" : "bracketed",
             bracket == ')' ? "parenthesis" : "bracket");
  if (rd->depth >= 3) {
    if (rd->decl != PKG_D_INPUT) pkg_check_term(rd, &f);
    pk_val l = pkg_list(rd, f.start, rd->n);
    rd->n = f.start;
    rd->depth--;
    pkg_push(rd, l, pkh_hash(l), f.line, f.col);
    return;
  }
  if (rd->depth == 2) {
    if (rd->n == f.start) pkg_fail(rd, f.line, f.col, "unknown declaration () (expected input, define or output)");
    if (rd->decl == PKG_D_INPUT)
      pkg_input(rd, &f);
    else if (rd->decl == PKG_D_DEFINE)
      pkg_define(rd, &f);
    else
      pkg_output(rd, &f);
    rd->decl = PKG_D_NONE;
  } else {
    pkg_model(rd, &f);
  }
  rd->n = f.start;
  rd->depth--;
}

/* The first byte that is not UTF-8, as a static error at its line:col. */
static void pkg_utf8(const pkg_rd *rd, const char *text, size_t len)
{
  const unsigned char *s = (const unsigned char *)text;
  size_t i = 0;
  while (i < len) {
    uint64_t w;
    if (i + 8 <= len && (memcpy(&w, s + i, 8), !(w & 0x8080808080808080ull))) {
      i += 8; /* eight ASCII bytes at once */
      continue;
    }
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    uint32_t cp;
    int k = pko_utf8_decode(s + i, len - i, &cp);
    if (k) {
      i += (size_t)k;
      continue;
    }
    int line = 1, col = 1;
    for (size_t j = 0; j < i; j++) {
      if (s[j] == '\n') {
        line++;
        col = 1;
      } else if ((s[j] & 0xC0) != 0x80)
        col++;
    }
    pkg_fail(rd, line, col, "invalid UTF-8 byte \\x%02X;", s[i]);
  }
}

/* The cache entry c of the symbol named s[0..n) (key w, below), filled. */
static __attribute__((noinline)) pkg_symc *pkg_symfill(pkg_symc *c, const char *s, size_t n, uint64_t w)
{
  pk_val sym = pko_intern(s, n);
  *c = (pkg_symc){ w, sym, 0, pkh_hash(sym), 0, 0, 0 };
  return c;
}

/* The cache entry of the symbol named s[0..n), filled on a miss: names
   of up to 8 bytes are keyed by their bytes, compared as one word (w);
   longer ones by their hash and compared by name. */
static inline pkg_symc *pkg_symbol(pkg_rd *rd, const char *s, size_t n, uint64_t w)
{
  if (n <= 8) {
    pkg_symc *c = &rd->c->symcache[(w * 0x9E3779B97F4A7C15ull) >> 56];
    return c->w == w && c->sym ? c : pkg_symfill(c, s, n, w);
  }
  pkg_symc *c = &rd->c->symcache[(pko_fnv(PKO_FNV0, s, n) * 0x9E3779B97F4A7C15ull) >> 56];
  if (c->sym && !c->w && pko_as_sym(c->sym)->len == n && memcmp(pko_symname(c->sym), s, n) == 0) return c;
  return pkg_symfill(c, s, n, 0);
}

/* Byte classes of the fast lexers (pkg_token, pkg_terms): the bytes
   from PKG_C_BLANK on end a token they take (a subset of the program
   reader's delimiters: anything else goes to pkr_lex). */
enum { PKG_C_OTHER, PKG_C_ALPHA, PKG_C_DIGIT, PKG_C_BLANK, PKG_C_NL, PKG_C_OPEN, PKG_C_CLOSE, PKG_C_SEMI };
static const uint8_t pkg_cls[256] = {
  [' '] = PKG_C_BLANK,         ['\t'] = PKG_C_BLANK, ['\r'] = PKG_C_BLANK,        ['\n'] = PKG_C_NL,
  ['('] = PKG_C_OPEN,          ['['] = PKG_C_OPEN,   [')'] = PKG_C_CLOSE,         [']'] = PKG_C_CLOSE,
  [';'] = PKG_C_SEMI,          ['_'] = PKG_C_ALPHA,  ['0' ... '9'] = PKG_C_DIGIT, ['a' ... 'z'] = PKG_C_ALPHA,
  ['A' ... 'Z'] = PKG_C_ALPHA,
};

static inline unsigned pkg_class(const char *t, size_t j) { return pkg_cls[(unsigned char)t[j]]; }

/* Does a token end before byte j of t[0..len)? */
static inline bool pkg_ends(const char *t, size_t j, size_t len) { return j == len || pkg_class(t, j) >= PKG_C_BLANK; }

/* The end of the name of letters, digits and _ at t[i] (a letter or _),
   if a token ends there, else 0; *w gets its first 8 bytes, the key of
   pkg_symbol. */
static inline size_t pkg_name_at(const char *t, size_t i, size_t len, uint64_t *w)
{
  size_t j = i + 1;
  uint64_t x = (unsigned char)t[i];
  for (; j < len && pkg_class(t, j) - PKG_C_ALPHA < 2u; j++)
    if (j - i < 8) x |= (uint64_t)(unsigned char)t[j] << 8 * (j - i);
  *w = x;
  return pkg_ends(t, j, len) ? j : 0;
}

/* The end of the integer of up to 18 digits at t[i] (a digit), if a token
   ends there, else 0; *x gets its value. */
static inline size_t pkg_int_at(const char *t, size_t i, size_t len, int64_t *x)
{
  size_t j = i + 1;
  int64_t v = t[i] - '0';
  while (j < len && pkg_class(t, j) == PKG_C_DIGIT && j - i < 18) v = v * 10 + (t[j++] - '0');
  *x = v;
  return pkg_ends(t, j, len) ? j : 0;
}

/* The next token, as pkr_lex gives it.  The commonest ones are taken here
   without the general lexer: blanks, brackets, symbols of letters, digits
   and _ that start with a letter or _, and integers of up to 18 digits,
   each followed by a blank, a bracket, ; or the end (which the program
   reader reads the same way); everything else goes to pkr_lex from the
   same position.  rd->sym is the cache entry of a symbol taken here. */
static int pkg_token(pkg_rd *rd, pk_val *v, pk_srcpos *pos, int *bracket)
{
  const char *t = rd->text;
  size_t i = rd->i, len = rd->len;
  for (; i < len; i++) {
    unsigned k = pkg_class(t, i);
    if (k == PKG_C_NL)
      rd->line++, rd->lstart = i + 1;
    else if (k != PKG_C_BLANK)
      break;
  }
  rd->i = i;
  rd->sym = NULL;
  *pos = (pk_srcpos){ rd->file, rd->line, (int)(i - rd->lstart) + 1 };
  if (i < len) {
    unsigned k = pkg_class(t, i);
    if (k == PKG_C_OPEN || k == PKG_C_CLOSE) {
      *bracket = (unsigned char)t[i];
      rd->i++;
      return k == PKG_C_OPEN ? PKR_LEX_OPEN : PKR_LEX_CLOSE;
    }
    size_t j;
    uint64_t w;
    int64_t x;
    if (k == PKG_C_ALPHA && (j = pkg_name_at(t, i, len, &w))) {
      rd->sym = pkg_symbol(rd, t + i, j - i, w);
      *v = rd->sym->sym;
      rd->i = j;
      return PKR_LEX_ATOM;
    }
    if (k == PKG_C_DIGIT && (j = pkg_int_at(t, i, len, &x))) {
      *v = pko_mkfix(x);
      rd->i = j;
      return PKR_LEX_ATOM;
    }
  }
  pkr_seek(rd->r, rd->i, rd->line, pos->col);
  int k = pkr_lex(rd->r, v, pos, bracket);
  int col;
  pkr_cursor(rd->r, &rd->i, &rd->line, &col);
  rd->lstart = rd->i - (size_t)(col - 1);
  return k;
}

/* Push the first item of the innermost list (or any item when head is
   false) from the fast path, which knows whether the list needs
   pkg_check_term. */
static inline void pkg_fpush(pkg_rd *rd, pk_val v, uint32_t h, int check)
{
  size_t n = rd->n; /* once: the stores below could be to it as far as the compiler knows */
  if (n == rd->icap) pkg_grow(rd);
  pkg_frame *f = &rd->fr[rd->depth - 1];
  if (n == f->start) f->check = (int16_t)check;
  rd->vals[n] = v;
  rd->hs[n] = h; /* items inside terms need no position */
  rd->n = n + 1;
}

/* The hash of a small fixnum, remembered. */
static inline uint32_t pkg_fixhash(pkg_rd *rd, pk_val x, int64_t i)
{
  if (i >= 16) return pkh_hash(x);
  if (!rd->hfix[i]) rd->hfix[i] = pkh_hash(x);
  return rd->hfix[i];
}

/* A pending list's placeholder: a logic variable's tag, which no model
   term holds. */
static inline pk_val pkg_pending(unsigned k) { return (pk_val)k << 4 | PK_TAG_VAR; }
static inline bool pkg_pendingp(pk_val v) { return (v & PK_TAG_MASK) == PK_TAG_VAR; }

/* Are items[0..n) atoms (no lists, no placeholders), few enough for a
   pkg_known entry? */
static inline bool pkg_atomsp(const pk_val *items, size_t n)
{
  if (n > PKG_KNOWN_ITEMS) return false;
  for (size_t k = 0; k < n; k++)
    if (pko_pairp(items[k]) || pkg_pendingp(items[k])) return false;
  return true;
}

/* The list items[0..n) of hash h if it is in the cache of lists of atoms,
   else 0.  The lowest lists of a term repeat most (the unit-law model's
   lowest are 648 different ones, over a quarter of its lists): found
   here they cost no probe of the table, whose slots and nodes are cold. */
static inline pk_val pkg_known_get(const pkg_rd *rd, const pk_val *items, size_t n, uint32_t h)
{
  const pkg_known *e = &rd->c->known[(h >> 1) & (PKG_KNOWN - 1)];
  if (e->h != h || e->n != n) return 0;
  for (size_t k = 0; k < n; k++)
    if (e->items[k] != items[k]) return 0;
  return e->list;
}

/* Remember list l of atoms items[0..n) (pkg_atomsp) of hash h. */
static inline void pkg_known_put(pkg_rd *rd, const pk_val *items, size_t n, uint32_t h, pk_val l)
{
  pkg_known *e = &rd->c->known[(h >> 1) & (PKG_KNOWN - 1)];
  e->h = h;
  e->n = (uint32_t)n;
  for (size_t k = 0; k < n; k++) e->items[k] = items[k];
  e->list = l;
}

/* Intern the oldest pending list and put it where its placeholder is.
   The node of the list PKG_NODE_AHEAD places behind it is asked for now:
   its table slot, asked for when it closed, has arrived by then (asking
   halfway through the ring waited for the slot). */
#define PKG_NODE_AHEAD 4
static void pkg_resolve(pkg_rd *rd)
{
  pkg_pend *p = &rd->ring[rd->rhead];
  if (rd->rcount > PKG_NODE_AHEAD) pkh_prefetch_node(rd->ring[(rd->rhead + PKG_NODE_AHEAD) % PKG_RING].h);
  pk_val l = pkh_list_at(p->items, p->n, p->h);
  if (p->atoms) pkg_known_put(rd, p->items, p->n, p->h, l);
  if (p->wring < 0)
    rd->vals[p->wslot] = l;
  else
    rd->ring[p->wring].items[p->wslot] = l;
  rd->rhead = (rd->rhead + 1) % PKG_RING;
  rd->rcount--;
}

/* The innermost list (frame f, short enough, hash h; atoms: pkg_atomsp of
   its items) closes: the table's slot for it prefetched, its interning
   once PKG_RING more lists have closed, so that the table's cache misses
   overlap. */
static void pkg_defer(pkg_rd *rd, const pkg_frame *f, uint32_t h, bool atoms)
{
  size_t n = rd->n - f->start;
  if (rd->rcount == PKG_RING) pkg_resolve(rd);
  pkh_prefetch(h);
  unsigned k = (rd->rhead + rd->rcount++) % PKG_RING;
  pkg_pend *p = &rd->ring[k];
  for (size_t j = 0; j < n; j++) {
    pk_val v = rd->vals[f->start + j];
    p->items[j] = v;
    if (pkg_pendingp(v)) {
      rd->ring[v >> 4].wring = (int32_t)k;
      rd->ring[v >> 4].wslot = (uint32_t)j;
    }
  }
  p->h = h;
  p->n = (uint32_t)n;
  p->atoms = atoms;
  p->wring = -1;
  p->wslot = (uint32_t)f->start;
  rd->n = f->start;
  rd->depth--;
  pkg_fpush(rd, pkg_pending(k), h, 0);
}

/* The innermost list (frame f, of 1 to PKG_RING_ITEMS items) closes:
   found in the cache of lists of atoms, or deferred. */
static inline void pkg_shut(pkg_rd *rd, const pkg_frame *f)
{
  size_t n = rd->n - f->start;
  const pk_val *items = rd->vals + f->start;
  uint32_t h = pkh_list_hash(rd->hs + f->start, n);
  bool atoms = rd->known && pkg_atomsp(items, n);
  pk_val l = atoms ? pkg_known_get(rd, items, n, h) : 0;
  if (!l) {
    pkg_defer(rd, f, h, atoms);
    return;
  }
  rd->n = f->start;
  rd->depth--;
  pkg_fpush(rd, l, h, 0);
}

/* The body of a define's or output's term (depth 3 and more, not in an
   input), where nothing is placed and items keep no position: blanks,
   brackets, plain symbols and small integers read here, lists interned as
   they close above depth 3.  Returns at the first byte anything else
   starts (a close to depth 2 included), for pkg_token to take. */
static void pkg_terms(pkg_rd *rd)
{
  const char *t = rd->text;
  size_t i = rd->i, len = rd->len;
  while (i < len) { /* the depth stays 3 or more: a close to depth 2 returns */
    unsigned char c = (unsigned char)t[i];
    unsigned k = pkg_cls[c];
    if (k == PKG_C_BLANK) { /* most tokens have one blank before them: no dispatch for it */
      if (++i == len) break;
      k = pkg_cls[c = (unsigned char)t[i]];
    }
    switch (k) {
    case PKG_C_BLANK: i++; continue;
    case PKG_C_NL:
      rd->line++;
      rd->lstart = ++i;
      continue;
    case PKG_C_OPEN:
      if (rd->depth == rd->fcap) break;
      rd->fr[rd->depth++] = (pkg_frame){ rd->n, rd->line, (int32_t)(i - rd->lstart) + 1, c == '(' ? ')' : ']', 1 };
      i++;
      continue;
    case PKG_C_CLOSE: {
      pkg_frame *f = &rd->fr[rd->depth - 1];
      if (rd->depth == 3 || f->close != c) break;
      if (f->check) pkg_check_term(rd, f);
      if (rd->n - f->start > PKG_RING_ITEMS || rd->n == f->start) {
        while (rd->rcount) pkg_resolve(rd);
        pk_val l = pkg_list(rd, f->start, rd->n);
        rd->n = f->start;
        rd->depth--;
        pkg_fpush(rd, l, pkh_hash(l), 0);
      } else {
        pkg_shut(rd, f);
      }
      i++;
      continue;
    }
    case PKG_C_ALPHA: {
      uint64_t w;
      size_t j = pkg_name_at(t, i, len, &w);
      if (!j) break;
      pkg_symc *e = rd->sym = pkg_symbol(rd, t + i, j - i, w);
      uint32_t h;
      pk_val v =
          e->gen == rd->gen ? (h = e->subh, e->sub) : pkg_subst(rd, e->sym, rd->line, (int)(i - rd->lstart) + 1, &h);
      pkg_fpush(rd, v, h, (int)e->check);
      i = j;
      continue;
    }
    case PKG_C_DIGIT: {
      int64_t x;
      size_t j = pkg_int_at(t, i, len, &x);
      if (!j) break;
      pk_val v = pko_mkfix(x);
      pkg_fpush(rd, v, pkg_fixhash(rd, v, x), 0);
      i = j;
      continue;
    }
    default: break;
    }
    break;
  }
  rd->i = i;
  while (rd->rcount) pkg_resolve(rd);
}

/* The reading loop. */
static void pkg_parse(pkg_rd *rd)
{
  for (;;) {
    pk_val v = PK_NIL;
    pk_srcpos pos;
    int bracket = 0;
    if (rd->depth >= 3 && rd->decl != PKG_D_INPUT) pkg_terms(rd);
    switch (pkg_token(rd, &v, &pos, &bracket)) {
    case PKR_LEX_EOF:
      if (rd->depth)
        pkg_fail(rd, rd->fr[rd->depth - 1].line, rd->fr[rd->depth - 1].col, "unexpected end-of-file reading list");
      if (rd->models == PK_NIL)
        pkg_fail(rd, pos.line, pos.col, "no models in the file: expected (model NAME declaration ...)");
      return;
    case PKR_LEX_ATOM: pkg_atom(rd, v, &pos); break;
    case PKR_LEX_OPEN:
      pkg_place(rd, true, 0, &pos);
      if (rd->depth == 0) pkg_model_reset(rd);
      pkg_open(rd, &pos, bracket);
      break;
    case PKR_LEX_CLOSE: pkg_close(rd, &pos, bracket); break;
    default:
      pkg_fail(rd, pos.line, pos.col, "only lists, symbols, numbers, strings and #[...] tensors may appear in a model");
    }
  }
}

/* Add "[model NAME; models read: ...]" to the error being thrown. */
static void pkg_context(const pkg_rd *rd)
{
  size_t n = strlen(pko_err.msg), cap = sizeof pko_err.msg;
  const char *read = rd->done.len ? rd->done.s : "none";
  if (rd->depth == 0 && rd->models != PK_NIL) return;
  if (rd->name)
    snprintf(pko_err.msg + n, cap - n, " [model %s; models read: %.600s]", pko_symname(rd->name), read);
  else if (rd->depth)
    snprintf(pko_err.msg + n, cap - n, " [model at line %d; models read: %.600s]", rd->fr[0].line, read);
}

/* Free room in the collected heap for reading len bytes of model text:
   4 bytes a byte (the nodes are mapped apart; what the collected heap
   gets while reading is the reader's stacks and the declarations, less
   than that: the unit-law model reads without a collection, as it did
   with 16; a tensor's numbers can take more than their text).
   A large model then reads without a collection: the collector starts
   one whenever the bytes allocated since the last reach the free space,
   and while reading, the heap only grows.  The table is made room for a
   list per 16 bytes (the unit-law model has one per 14), so it is not
   rebuilt as it grows.  Small texts are left alone. */
static void pkg_reserve(size_t len)
{
  size_t want = len * 4, free = GC_get_free_bytes();
  if (len < (1u << 20)) return;
  if (free < want) GC_expand_hp(want - free);
  pkh_reserve(len / 16);
}

static pthread_key_t pkg_cache_key;
static void pkg_cache_key_once(void) { pthread_key_create(&pkg_cache_key, free); }

/* This thread's reader caches, made at its first read and freed when it
   exits.  Not scanned by the collector: what they hold lives anyway. */
static pkg_cache *pkg_cache_here(void)
{
  static _Thread_local pkg_cache *here;
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  if (here) return here;
  pthread_once(&once, pkg_cache_key_once);
  if (!(here = calloc(1, sizeof *here))) pkg_oom();
  pthread_setspecific(pkg_cache_key, here);
  return here;
}

/* What a read holds outside the collected heap, given back. */
static void pkg_rd_free(pkg_rd *rd)
{
  pkg_map_free(&rd->names);
  pkg_map_free(&rd->modelnames);
  pkp_free(&rd->done);
}

pk_val pkg_read_text(const char *file, const char *text, size_t len)
{
  pkg_setup();
  pkg_rd *rd = GC_MALLOC(sizeof *rd);
  if (!rd) pkg_oom();
  rd->c = pkg_cache_here();
  rd->known = !pkh_scoped();
  rd->ring = rd->c->ring;
  rd->file = file;
  rd->icap = 32;
  rd->vals = GC_MALLOC(rd->icap * sizeof *rd->vals);
  rd->hs = GC_MALLOC_ATOMIC(rd->icap * sizeof *rd->hs);
  rd->pos = GC_MALLOC_ATOMIC(rd->icap * sizeof *rd->pos);
  rd->fcap = 16;
  rd->fr = GC_MALLOC_ATOMIC(rd->fcap * sizeof *rd->fr);
  if (!rd->vals || !rd->hs || !rd->pos || !rd->fr) pkg_oom();
  pkg_map_init(&rd->names, PKG_MAP_SMALL);
  pkg_map_init(&rd->modelnames, PKG_MAP_SMALL);
  rd->models = PK_NIL;
  pkp_init(&rd->done);
  pko_catch c;
  if (!PKO_TRY(c)) {
    pkg_context(rd);
    pkg_rd_free(rd);
    pko_rethrow();
  }
  pkg_utf8(rd, text, len);
  pkg_reserve(len);
  rd->r = rd->c->r = pkr_reopen(rd->c->r, file, text, len);
  rd->text = text;
  rd->len = len;
  int col;
  pkr_cursor(rd->r, &rd->i, &rd->line, &col);
  rd->lstart = rd->i - (size_t)(col - 1);
  pkg_parse(rd);
  PKO_END(c);
  pkg_rd_free(rd);
  return pko_reverse(rd->models);
}

pk_val pkg_read_file(const char *path, const pk_srcpos *from)
{
  pk_srcpos at = { path, 1, 1 };
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    pko_throw_at(PK_STATUS_STATIC, from ? from : &at, "cannot read %s: it is a directory", path);
  size_t len;
  char *text = pkr_slurp(path, &len);
  if (!text) pko_throw_at(PK_STATUS_STATIC, from ? from : &at, "cannot read %s: %s", path, strerror(errno));
  char *name = GC_MALLOC_ATOMIC_UNCOLLECTABLE(strlen(path) + 1);
  if (!name) pkg_oom();
  strcpy(name, path);
  pko_catch c;
  if (!PKO_TRY(c)) {
    free(text);
    pko_rethrow();
  }
  pk_val ms = pkg_read_text(name, text, len);
  PKO_END(c);
  free(text);
  return ms;
}

/* ---- model terms -------------------------------------------------------------------- */

/* A declaration headed by sym? */
static bool pkg_decl(pk_val d, int sym) { return pko_pairp(d) && pko_car(d) == pkg_syms[sym] && pko_length(d) > 0; }

bool pkg_modelp(pk_val m)
{
  pkg_setup();
  if (!pko_pairp(m) || pko_car(m) != pkg_syms[PKG_S_MODEL]) return false;
  pk_val r = pko_cdr(m);
  if (!pko_pairp(r) || !pko_symbolp(pko_car(r))) return false;
  for (r = pko_cdr(r); pko_pairp(r); r = pko_cdr(r)) {
    pk_val d = pko_car(r);
    if (pko_cdr(r) == PK_NIL) return pkg_decl(d, PKG_S_OUTPUT);
    if (!pkg_decl(d, PKG_S_INPUT) && !pkg_decl(d, PKG_S_DEFINE)) return false;
  }
  return false;
}

pk_val pkg_outputs(pk_val m)
{
  while (pko_cdr(m) != PK_NIL) m = pko_cdr(m);
  return pko_cdr(pko_car(m));
}

pk_val pkg_name(pk_val m) { return pko_car(pko_cdr(m)); }

/* ---- printing ------------------------------------------------------------------------ */

/* The nodes seen by the printer's walk: identity keys, 8 bytes a slot; a
   node used more than once has bit 0 of its key set (values' bit 0 is a
   tag bit that is 0 in pairs and objects). */
typedef struct pkg_seen {
  pk_val *keys;
  size_t cap, count;
} pkg_seen;

static void pkg_seen_init(pkg_seen *c, size_t cap)
{
  c->keys = pko_xzalloc(cap, sizeof *c->keys);
  c->cap = cap;
  c->count = 0;
}

/* One more use of k: 0 on its first, 1 on its second, 2 after. */
static int pkg_seen_add(pkg_seen *c, pk_val k)
{
  if (2 * (c->count + 1) > c->cap) {
    pkg_seen old = *c;
    pkg_seen_init(c, old.cap * 2);
    for (size_t j = 0; j < old.cap; j++) {
      if (!old.keys[j]) continue;
      size_t i = pkg_slot(old.keys[j] & ~(pk_val)1, c->cap);
      while (c->keys[i]) i = (i + 1) & (c->cap - 1);
      c->keys[i] = old.keys[j];
    }
    c->count = old.count;
    free(old.keys);
  }
  size_t i = pkg_slot(k, c->cap);
  while (c->keys[i] && (c->keys[i] & ~(pk_val)1) != k) i = (i + 1) & (c->cap - 1);
  if (!c->keys[i]) {
    c->keys[i] = k;
    c->count++;
    return 0;
  }
  if (c->keys[i] & 1) return 2;
  c->keys[i] |= 1;
  return 1;
}

static bool pkg_seen_has(const pkg_seen *c, pk_val k)
{
  size_t i = pkg_slot(k, c->cap);
  while (c->keys[i] && (c->keys[i] & ~(pk_val)1) != k) i = (i + 1) & (c->cap - 1);
  return c->keys[i] != 0;
}

/* Two bits per interned list, indexed by its id (pkh_node): 0 unseen, 1
   seen once, 2 used more than once, 3 given a define by the model.  Ids
   are dense over the process's lists, so the marks of a large model fit
   in the cache where a hash set of its nodes does not; pages of 4096 ids
   are allocated when first touched, so a small model touches a few. */
typedef struct pkg_marks {
  uint8_t **pages;
  size_t npages;
} pkg_marks;

static inline unsigned pkg_mark(const pkg_marks *mk, pk_val l)
{
  uint32_t id = pkh_node_of(l)->id;
  size_t p = id >> 12;
  if (p >= mk->npages || !mk->pages[p]) return 0;
  return mk->pages[p][(id & 4095) >> 2] >> 2 * (id & 3) & 3;
}

/* The page of marks holding id, allocated when new. */
static uint8_t *pkg_mark_page(pkg_marks *mk, uint32_t id)
{
  size_t p = id >> 12;
  if (p >= mk->npages) {
    size_t n = mk->npages * 2 > p + 1 ? mk->npages * 2 : p + 1;
    uint8_t **pg = realloc(mk->pages, n * sizeof *pg);
    if (!pg) pkg_oom();
    memset(pg + mk->npages, 0, (n - mk->npages) * sizeof *pg);
    mk->pages = pg;
    mk->npages = n;
  }
  if (!mk->pages[p]) mk->pages[p] = pko_xzalloc(1024, 1);
  return mk->pages[p];
}

static inline void pkg_mark_set(pkg_marks *mk, pk_val l, unsigned v)
{
  uint32_t id = pkh_node_of(l)->id;
  uint8_t *b = &pkg_mark_page(mk, id)[(id & 4095) >> 2];
  *b = (uint8_t)((*b & ~(3u << 2 * (id & 3))) | v << 2 * (id & 3));
}

static void pkg_marks_free(pkg_marks *mk)
{
  for (size_t p = 0; p < mk->npages; p++) free(mk->pages[p]);
  free(mk->pages);
}

/* Nodes a define may name: compound terms and tensor literals. */
static bool pkg_nodep(pk_val v) { return pko_pairp(v) || pko_isa(v, PK_T_TENSOR); }

/* Symbols of list l (a shape) into taken. */
static void pkg_take_syms(pkg_map *taken, pk_val l)
{
  bool fresh;
  for (; pko_pairp(l); l = pko_cdr(l))
    if (pko_symbolp(pko_car(l))) pkg_put(taken, pko_car(l), &fresh);
}

/* How far above a list the walk enters the lists after it are asked for.
   A read model's lists lie in the order the reader made them (a list
   right after its last element's subterm), so once the walk has gone down
   a term's first elements it climbs up the memory; what it meets a few
   dozen lists on is cold by then. */
#define PKG_WAHEAD 2048
/* The printer's walk: nodes seen, symbols used, the nodes in the order
   they finish, the nodes used more than once. */
typedef struct pkg_walker {
  pkg_marks marks; /* lists */
  pkg_seen seen;   /* tensors */
  pkg_map taken;
  pk_val recent[64]; /* symbols put in taken lately: most repeat */
  pkg_vec order, shared;
} pkg_walker;

/* One element e of a term: its use counted, the symbols it is recorded;
   true when e is a compound node seen for the first time (to descend). */
static inline __attribute__((always_inline)) bool pkg_visit(pkg_walker *w, pk_val e)
{
  if (pko_symbolp(e)) {
    size_t c = (size_t)(((uint64_t)e >> 4) * 0x9E3779B97F4A7C15ull >> 58);
    bool fresh;
    if (w->recent[c] != e) pkg_put(&w->taken, e, &fresh);
    w->recent[c] = e;
    return false;
  }
  if (pko_pairp(e)) {
    uint32_t id = pkh_node_of(e)->id;
    size_t p = id >> 12;
    uint8_t *pg = p < w->marks.npages ? w->marks.pages[p] : NULL;
    uint8_t *b = &(pg ? pg : pkg_mark_page(&w->marks, id))[(id & 4095) >> 2];
    unsigned sh = 2 * (id & 3), m = *b >> sh & 3;
    if (m < 2) *b = (uint8_t)(*b + (1u << sh));
    return m == 0;
  }
  if (!pkg_nodep(e)) return false;
  int n = pkg_seen_add(&w->seen, e);
  if (n == 1) pkg_vpush(&w->shared, e);
  if (n) return false;
  pkg_vpush(&w->order, e); /* a tensor finishes at once */
  return false;
}

/* Depth-first, left to right over the outputs: uses of every node, the
   symbols used, and the order in which nodes finish.  Frames are (node,
   rest of its list, index of the next element, index of a SIZE to skip). */
static void pkg_walk(pk_val outs, pkg_walker *w)
{
  typedef struct {
    pk_val node, rest;
    long idx, skip;
  } fr;
  size_t n = 0, cap = 64;
  fr *st = malloc(cap * sizeof *st);
  if (!st) pkg_oom();
  for (; pko_pairp(outs); outs = pko_cdr(outs)) {
    if (!pkg_visit(w, pko_car(outs))) continue;
    pk_val t = pko_car(outs);
    int rv = pkg_rv(pko_car(t));
    st[n++] = (fr){ t, t, 0, rv >= 0 ? pkg_rvs[rv].n + 1 : -1 };
    while (n) {
      fr *f = &st[n - 1];
      if (!pko_pairp(f->rest)) {
        if (f->rest != PK_NIL) pkg_visit(w, f->rest);
        pkg_vpush(&w->order, f->node);
        n--;
        continue;
      }
      pk_val e = pko_car(f->rest);
      long idx = f->idx++;
      f->rest = pko_cdr(f->rest);
      if (idx == f->skip) {
        pkg_take_syms(&w->taken, e);
        continue;
      }
      if (!pkg_visit(w, e)) continue;
      if (n == cap) {
        cap *= 2;
        st = realloc(st, cap * sizeof *st);
        if (!st) pkg_oom();
      }
      pkh_prefetch_elements(e);
      __builtin_prefetch((const char *)pko_as_pair(e) + PKG_WAHEAD);
      rv = pkg_rv(pko_car(e));
      st[n++] = (fr){ e, e, 0, rv >= 0 ? pkg_rvs[rv].n + 1 : -1 };
    }
  }
  free(st);
}

/* Text written backwards, last byte first, into the room at the end of a
   buffer b: it is b->s[start, end).  The printer writes a model's defines
   and outputs from the end, so that it meets the nodes in about the
   reverse of the order the reader made them (a list's last element is
   made just before it): walking down the memory, where a walk from the
   front jumps back over each last subterm and waits for a cold node at
   each step.  Texts are moved in words that may spill up to 8 bytes below
   start (kept free: room is made for PKG_BSLACK more than is written). */
typedef struct pkg_back {
  pkp_buf *b;
  size_t start, end;
} pkg_back;

#define PKG_BSLACK 8
/* A text room this large is faulted in ahead of the writer (pkh_prefault_down). */
#define PKG_PREFAULT ((size_t)1 << 20)
/* How far below a list entered the next ones are asked for: the lists
   made in order lie one after another, and a walk down them meets those
   from here in a few dozen lists. */
#define PKG_BAHEAD 1024

/* Room for n more bytes before the text (and the slack below them): the
   buffer grown, and the text moved to its new end. */
static __attribute__((noinline)) void pkg_back_grow(pkg_back *k, size_t n)
{
  pkp_buf *b = k->b;
  size_t len = k->end - k->start;
  pkp_reserve(b, PKG_BSLACK + n + len);
  memmove(b->s + b->cap - 1 - len, b->s + k->start, len);
  k->end = b->cap - 1;
  k->start = k->end - len;
}

/* Start writing backwards after b's text, with room for about n bytes. */
static void pkg_back_init(pkg_back *k, pkp_buf *b, size_t n)
{
  pkp_reserve(b, n + PKG_BSLACK);
  *k = (pkg_back){ b, b->cap - 1, b->cap - 1 };
}

/* Move the text written backwards to the end of b's text. */
static void pkg_back_done(pkg_back *k)
{
  pkp_buf *b = k->b;
  memmove(b->s + b->len, b->s + k->start, k->end - k->start);
  b->len += k->end - k->start;
  b->s[b->len] = 0;
}

static inline void pkg_bputc(pkg_back *k, char c)
{
  if (k->start < k->b->len + 1 + PKG_BSLACK) pkg_back_grow(k, 1);
  k->b->s[--k->start] = c;
}

static inline void pkg_bput(pkg_back *k, const char *s, size_t n)
{
  if (k->start < k->b->len + n + PKG_BSLACK) pkg_back_grow(k, n);
  k->start -= n;
  memcpy(k->b->s + k->start, s, n);
}

/* n bytes at s, where the 8 bytes before s + n may be read: a text of up
   to 8 bytes (most names and numbers) is moved as one word, not through
   memcpy's call and its branches on the length. */
static inline void pkg_bput8(pkg_back *k, const char *s, size_t n)
{
  if (n > 8) {
    pkg_bput(k, s, n);
    return;
  }
  if (k->start < k->b->len + n + PKG_BSLACK) pkg_back_grow(k, n);
  memcpy(k->b->s + k->start - 8, s + n - 8, 8);
  k->start -= n;
}

/* A symbol or fixnum as write prints it, symbols from a cache of their
   written text (an arena of bytes, the map giving offset and length), so
   each distinct symbol goes through the escaping rules once per print.
   The arena starts with 8 bytes of padding (pkg_bput8 reads the 8 bytes
   that end a text). */
typedef struct pkg_atoms {
  pkg_map text;
  pkp_buf arena;
  pk_val rsym[256]; /* a direct-mapped front of text */
  int32_t roff[256], rlen[256];
} pkg_atoms;

/* Where symbol v's written text is in the arena (*len bytes from the
   returned offset), written there the first time. */
static int32_t pkg_symtext(pkg_atoms *c, pk_val v, int32_t *len)
{
  size_t r = (size_t)(((uint64_t)v >> 4) * 0x9E3779B97F4A7C15ull >> 56);
  if (c->rsym[r] != v) {
    bool fresh;
    pkg_ent *e = pkg_put(&c->text, v, &fresh);
    if (fresh) {
      e->a = (int32_t)c->arena.len;
      pkp_print(&c->arena, v, PKP_WRITE);
      e->b = (int32_t)c->arena.len - e->a;
    }
    c->rsym[r] = v;
    c->roff[r] = e->a;
    c->rlen[r] = e->b;
  }
  *len = c->rlen[r];
  return c->roff[r];
}

static inline void pkg_batom(pkg_back *k, pkg_atoms *c, pk_val v)
{
  if (pko_fixnump(v)) {
    int64_t i = pko_fixval(v);
    uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    do pkg_bputc(k, (char)('0' + u % 10));
    while (u /= 10);
    if (i < 0) pkg_bputc(k, '-');
    return;
  }
  if (!pko_symbolp(v)) {
    pkp_buf t;
    pkp_init(&t);
    pkp_print(&t, v, PKP_WRITE);
    pkg_bput(k, t.s, t.len);
    pkp_free(&t);
    return;
  }
  int32_t len, off = pkg_symtext(c, v, &len);
  pkg_bput8(k, c->arena.s + off, (size_t)len);
}

/* Where a define's name is in the atoms' arena: 8 bytes, apart from the
   defines' nodes, so the lookups of a large model's uses stay in the
   cache. */
typedef struct pkg_dname {
  int32_t off, len;
} pkg_dname;

/* The defines of lists by their ids: a slot holds the id (0 when empty:
   ids are never 0) and where the define's name is, 12 bytes, so a use of
   a large model's define is one lookup that stays in the cache. */
typedef struct pkg_idslot {
  uint32_t id;
  pkg_dname name;
} pkg_idslot;
typedef struct pkg_ids {
  pkg_idslot *s;
  size_t cap, n;
} pkg_ids;

static inline size_t pkg_idslot_of(uint32_t id, size_t cap)
{
  return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
}

static void pkg_ids_add(pkg_ids *t, uint32_t id, pkg_dname name)
{
  if (4 * (t->n + 1) > 3 * t->cap) {
    pkg_ids old = *t;
    t->cap = old.cap ? old.cap * 2 : 256;
    t->s = pko_xzalloc(t->cap, sizeof *t->s);
    for (size_t j = 0; j < old.cap; j++)
      if (old.s[j].id) {
        size_t i = pkg_idslot_of(old.s[j].id, t->cap);
        while (t->s[i].id) i = (i + 1) & (t->cap - 1);
        t->s[i] = old.s[j];
      }
    free(old.s);
  }
  size_t i = pkg_idslot_of(id, t->cap);
  while (t->s[i].id) i = (i + 1) & (t->cap - 1);
  t->s[i] = (pkg_idslot){ id, name };
  t->n++;
}

/* The name of the define of the list with this id, or NULL. */
static inline const pkg_dname *pkg_ids_get(const pkg_ids *t, uint32_t id)
{
  if (!t->cap) return NULL;
  for (size_t i = pkg_idslot_of(id, t->cap);; i = (i + 1) & (t->cap - 1)) {
    if (!t->s[i].id) return NULL;
    if (t->s[i].id == id) return &t->s[i].name;
  }
}

/* What the printer needs: the defines (lists found by id, tensors by
   the map defs from node to define number in a), the walk's marks
   (which lists have a define), the symbols' text. */
typedef struct pkg_printer {
  const pkg_dname *names;
  const pkg_ids *ids;
  const pkg_map *tensors;
  const pkg_marks *marks;
  pkg_atoms *atoms;
} pkg_printer;

/* The define of node e, or NULL.  A list is looked up only when its mark
   says it has one. */
static inline const pkg_dname *pkg_defname(const pkg_printer *p, pk_val e)
{
  if (pko_pairp(e)) return pkg_mark(p->marks, e) >= 2 ? pkg_ids_get(p->ids, pkh_node_of(e)->id) : NULL;
  const pkg_ent *t = p->tensors->n && pko_isa(e, PK_T_TENSOR) ? pkg_get(p->tensors, e) : NULL;
  return t ? &p->names[t->a] : NULL;
}

/* An element: its define's name, or itself when an atom. */
static inline __attribute__((always_inline)) void pkg_belem(pkg_back *k, const pkg_printer *p, pk_val e)
{
  const pkg_dname *d = pkg_defname(p, e);
  if (d)
    pkg_bput8(k, p->atoms->arena.s + d->off, (size_t)d->len);
  else
    pkg_batom(k, p->atoms, e);
}

/* The defines a print makes, in order (node, name; n, cap), and how to
   find them (pkg_printer). */
typedef struct pkg_defs {
  pk_val *node;
  pkg_dname *name;
  size_t n, cap;
  pkg_ids ids;
  pkg_map tensors;
  pkg_atoms *atoms;
} pkg_defs;

/* Define node by the name whose text ends the atoms' arena from off (a
   define's name is never an element, it is not taken: no cache entry). */
static void pkg_defs_add(pkg_defs *d, pk_val node, int32_t off)
{
  if (d->n == d->cap) {
    d->cap = d->cap ? 2 * d->cap : 64;
    d->node = realloc(d->node, d->cap * sizeof *d->node);
    d->name = realloc(d->name, d->cap * sizeof *d->name);
    if (!d->node || !d->name) pkg_oom();
  }
  pkp_buf *a = &d->atoms->arena;
  d->node[d->n] = node;
  d->name[d->n] = (pkg_dname){ off, (int32_t)a->len - off };
  if (pko_pairp(node)) {
    pkg_ids_add(&d->ids, pkh_node_of(node)->id, d->name[d->n]);
  } else {
    bool fresh;
    pkg_put(&d->tensors, node, &fresh)->a = (int32_t)d->n;
  }
  d->n++;
}

/* Write the first name _N, N from next on, that no symbol in taken has
   (as write prints it: no escapes) into a; the N after it.  A name no
   symbol has is free, and is not made a symbol. */
static unsigned pkg_fresh_name(pkp_buf *a, const pkg_map *taken, unsigned next)
{
  for (char buf[72] = "_";; next++) {
    size_t n = 1 + pkn_int_text(buf + 1, next, 10);
    pk_val s = pko_find_sym(buf, n);
    if (!s || !pkg_get(taken, s)) {
      pkp_puts(a, buf, n);
      return next + 1;
    }
  }
}

/* The defines into out: each shared or named node and its name's text,
   in the order they finish.  Names the model gave are kept unless a
   free symbol has them; the rest get _1, _2, ... not otherwise taken. */
static void pkg_names(pk_val m, pkg_walker *w, pkg_defs *out)
{
  pkg_map given, shared;
  pkg_map_init(&given, PKG_MAP_SMALL);
  pkg_map_init(&shared, PKG_MAP_SMALL);
  pkg_map *taken = &w->taken;
  const pkg_vec *order = &w->order;
  bool fresh;
  for (size_t k = 0; k < w->shared.n; k++) pkg_put(&shared, w->shared.v[k], &fresh);
  for (pk_val r = pko_cdr(pko_cdr(m)); pko_pairp(r); r = pko_cdr(r)) {
    pk_val d = pko_car(r);
    if (pkg_decl(d, PKG_S_INPUT)) pkg_put(taken, pko_car(pko_cdr(d)), &fresh);
    if (!pkg_decl(d, PKG_S_DEFINE) || !pkg_nodep(pko_car(pko_cdr(pko_cdr(d))))) continue;
    pk_val name = pko_car(pko_cdr(d)), node = pko_car(pko_cdr(pko_cdr(d)));
    bool seen = pko_pairp(node) ? pkg_mark(&w->marks, node) != 0 : pkg_seen_has(&w->seen, node);
    if (pkg_get(taken, name) || !seen) continue; /* free symbol, or node gone */
    pkg_ent *e = pkg_put(&given, node, &fresh);
    if (fresh) e->val = name;
  }
  for (size_t k = 0; given.n && k < order->n; k++) {
    pkg_ent *g = pkg_get(&given, order->v[k]);
    if (g) pkg_put(taken, g->val, &fresh);
  }
  unsigned next = 1;
  for (size_t k = 0; k < order->n; k++) {
    pk_val node = order->v[k];
    pkg_ent *g = given.n ? pkg_get(&given, node) : NULL;
    bool named = g || (pko_pairp(node) ? pkg_mark(&w->marks, node) == 2 : pkg_get(&shared, node) != NULL);
    if (!named) continue;
    if (g && pko_pairp(node)) pkg_mark_set(&w->marks, node, 3);
    pkp_buf *a = &out->atoms->arena;
    int32_t off = (int32_t)a->len;
    if (g)
      pkp_print(a, g->val, PKP_WRITE);
    else
      next = pkg_fresh_name(a, taken, next);
    pkg_defs_add(out, node, off);
  }
  pkg_map_free(&given);
  pkg_map_free(&shared);
}

/* Enter list t: its close and tail written, a 0 (its open) and its
   elements pushed on st, so that they come off last first. */
static inline __attribute__((always_inline)) void pkg_bopen(pkg_back *k, const pkg_printer *p, pkg_vec *st, pk_val t)
{
  pkg_vpush(st, 0);
  __builtin_prefetch((const char *)pko_as_pair(t) - PKG_BAHEAD);
  pk_val r = t;
  for (; pko_pairp(r); r = pko_cdr(r)) {
    pk_val e = pko_car(r);
    if (pko_pairp(e)) __builtin_prefetch(pko_as_pair(e));
    pkg_vpush(st, e);
  }
  pkg_bputc(k, ')');
  if (r != PK_NIL) {
    pkg_belem(k, p, r);
    pkg_bput(k, " . ", 3);
  }
}

/* Write term t backwards, every element that has a define written as its
   name (t itself written out when root_named: it is what a define
   defines).  Iterative over the stack st (values, 0 for a list's open). */
static void pkg_bterm(pkg_back *k, const pkg_printer *p, pkg_vec *st, pk_val t, bool root_named)
{
  if (!pko_pairp(t) || (!root_named && pkg_defname(p, t))) {
    if (root_named)
      pkg_batom(k, p->atoms, t);
    else
      pkg_belem(k, p, t);
    return;
  }
  size_t base = st->n;
  pkg_bopen(k, p, st, t);
  while (st->n > base) {
    pk_val e = st->v[--st->n];
    if (!e) {
      pkg_bputc(k, '(');
    } else if (!pko_pairp(e)) {
      pkg_belem(k, p, e);
    } else {
      const pkg_dname *d = pkg_defname(p, e);
      if (!d) {
        pkg_bopen(k, p, st, e);
        continue;
      }
      pkg_bput8(k, p->atoms->arena.s + d->off, (size_t)d->len);
    }
    if (st->n > base && st->v[st->n - 1]) pkg_bputc(k, ' '); /* not its list's first */
  }
}

void pkg_print(pkp_buf *b, pk_val m)
{
  pkg_setup();
  pko_assert(pkh_internedp(m)); /* the marks are indexed by the ids of its lists */
  pkg_walker w = { .order = { 0 }, .shared = { 0 }, .recent = { 0 } };
  pkg_seen_init(&w.seen, 64);
  pkg_map_init(&w.taken, PKG_MAP_SMALL);
  pkg_atoms atoms = { .rsym = { 0 } };
  pkg_map_init(&atoms.text, PKG_MAP_SMALL);
  pkp_init(&atoms.arena);
  pkp_puts(&atoms.arena, "        ", 8);
  pkg_defs defs = { .atoms = &atoms };
  pkg_map_init(&defs.tensors, PKG_MAP_SMALL);
  pk_val outs = pkg_outputs(m);
  pkg_walk(outs, &w);
  pkg_names(m, &w, &defs);
  pkp_puts(b, "(model ", 7);
  pkp_print(b, pkg_name(m), PKP_WRITE);
  for (pk_val r = pko_cdr(pko_cdr(m)); pko_pairp(r); r = pko_cdr(r)) {
    if (!pkg_decl(pko_car(r), PKG_S_INPUT)) continue;
    pkp_puts(b, "\n  ", 3);
    pkp_print(b, pko_car(r), PKP_WRITE);
  }
  pkg_back k;
  pkg_back_init(&k, b, 12 * w.order.n); /* about what a list's text takes, names and separators included */
  if (k.end - b->len >= PKG_PREFAULT) pkh_prefault_down(b->s + b->len, k.end - b->len);
  free(w.seen.keys);
  free(w.order.v);
  free(w.shared.v);
  pkg_printer p = { defs.name, &defs.ids, &defs.tensors, &w.marks, &atoms };
  pkg_vec st = { 0 };
  pkg_bput(&k, "))\n", 3);
  size_t first = st.n;
  for (; pko_pairp(outs); outs = pko_cdr(outs)) pkg_vpush(&st, pko_car(outs));
  while (st.n > first) {
    size_t n = --st.n;
    pkg_bterm(&k, &p, &st, st.v[n], false);
    pkg_bputc(&k, ' ');
  }
  pkg_bput(&k, "\n  (output", 10);
  for (size_t d = defs.n; d-- > 0;) {
    pkg_bputc(&k, ')');
    pkg_bterm(&k, &p, &st, defs.node[d], true);
    pkg_bputc(&k, ' ');
    pkg_bput(&k, atoms.arena.s + defs.name[d].off, (size_t)defs.name[d].len);
    pkg_bput(&k, "\n  (define ", 11);
  }
  pkg_back_done(&k);
  free(st.v);
  free(defs.node);
  free(defs.name);
  free(defs.ids.s);
  pkg_map_free(&defs.tensors);
  pkg_map_free(&atoms.text);
  pkg_map_free(&w.taken);
  pkp_free(&atoms.arena);
  pkg_marks_free(&w.marks);
}

/* ---- primitives ------------------------------------------------------------------------ */

#include "pk_builtin.h"

/* (read-models "f.model"): a relative name is taken from the directory of
   the file of the calling form, as load does. */
static pk_val pkg_prim_read(int argc, pk_val *argv)
{
  (void)argc;
  if (!pko_stringp(argv[0])) pko_error_val("read-models: not a string", argv[0]);
  const char *name = pko_as_str(argv[0])->s;
  const pk_srcpos *from = pko_where;
  if (name[0] == '/' || !from || !from->file) return pkg_read_file(name, from);
  char *dup = strdup(from->file);
  if (!dup) pkg_oom();
  size_t n = strlen(dup) + strlen(name) + 2;
  char *full = GC_MALLOC_ATOMIC(n);
  if (!full) pkg_oom();
  snprintf(full, n, "%s/%s", dirname(dup), name);
  free(dup);
  return pkg_read_file(full, from);
}

/* (model-outputs m): the list of output terms. */
static pk_val pkg_prim_outputs(int argc, pk_val *argv)
{
  (void)argc;
  if (!pkg_modelp(argv[0])) pko_error_val("model-outputs: not a model", argv[0]);
  return pkg_outputs(argv[0]);
}

/* (write-model m): m in the model format on the current output.  Its terms
   are interned first, so a model built or rewritten by a program prints
   with its sharing. */
static pk_val pkg_prim_write(int argc, pk_val *argv)
{
  (void)argc;
  pk_val m = pkg_modelp(argv[0]) ? pkh_intern(argv[0]) : 0;
  if (!m) pko_error_val("write-model: not a model", argv[0]);
  pkp_buf b;
  pkp_init(&b);
  pkg_print(&b, m);
  fwrite(b.s, 1, b.len, pkb_output());
  pkp_free(&b);
  return PK_VOID;
}

void pkg_init(void)
{
  pko_defprim("read-models", pkg_prim_read, 1, 1);
  pko_defprim("model-outputs", pkg_prim_outputs, 1, 1);
  pko_defprim("write-model", pkg_prim_write, 1, 1);
}
