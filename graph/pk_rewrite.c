/*
** pk_rewrite.c — the fixed-point rewriting driver (pk_rewrite.h).
**
** A pass walks the term iteratively (an explicit stack of frames, one per
** list being entered, and a stack of element results), so terms of any
** depth are fine.  Thread-safety: a context is used by one thread at a
** time; contexts on different threads share only the interned nodes,
** which they never write.
*/
#include "pk_rewrite.h"
#include "pk_comp.h"
#include "pk_eval.h"
#include "pk_graph.h"
#include "pk_hcons.h"
#include "pk_read.h"
#include "pk_search.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* "This pass failed here" in result slots (never a valid value). */
#define PKRW_FAIL PK_UNBOUND
/* A rebuilt list of pkrw_walk_pass whose interning waits (pend i): an
   immediate no term holds (interning refuses it). */
#define PKRW_PEND0 ((uint64_t)1 << 42)
static inline pk_val pkrw_pend(size_t i) { return PK_IMM(PKRW_PEND0 + (uint64_t)i); }
static inline bool pkrw_pendp(pk_val v) { return (v & PK_TAG_MASK) == PK_TAG_IMM && v >> 4 >= PKRW_PEND0; }
enum { PKRW_SPLIT_NODES = 65536, PKRW_SPLIT_DEPTH = 10, PKRW_RING = 8 };
static _Atomic uint64_t pkrw_serials = 1;

/* A table from canonical values to results; slots whose gen is not the
   table's are empty, so clearing is gen++. */
typedef struct pkrw_slot {
  pk_val key, val;
  uint64_t gen;
} pkrw_slot;

typedef struct pkrw_tab {
  pkrw_slot *s;
  size_t cap, n;
  uint64_t gen;
} pkrw_tab;

/* A position pkrw_walk_pass met, in the order met (breadth first): the
   element there, and what the pass gives there once known.  A list met
   again in the same pass is one entry (PKRW_SAME points to it). */
/* An entry's state: a list met whose visit is still to come (MET), a
   result known (DONE), a list opened, its elements' entries after it
   (OPEN), a list met before in the pass (SAME), a task's list (TASK). */
typedef enum { PKRW_MET, PKRW_DONE, PKRW_OPEN, PKRW_SAME, PKRW_TASK } pkrw_mark;
/* An open entry pkrw_ent_finish is rebuilding: its elements' results
   taken so far are vals[base..], and whether any of them rewrote. */
typedef struct pkrw_up {
  uint32_t ent, base;
  bool changed;
} pkrw_up;
typedef struct pkrw_ent {
  pk_val node;       /* the element */
  pk_val res;        /* PKRW_DONE: a value or PKRW_FAIL */
  uint32_t kid;      /* PKRW_OPEN: its elements' entries from kid on; PKRW_SAME: the first entry; PKRW_TASK: the task */
  uint32_t n;        /* PKRW_OPEN: how many */
  uint32_t scan;     /* PKRW_OPEN: how many of them pkrw_ent_finish has taken */
  uint32_t id, hash; /* a list's, read at its visit */
  uint8_t mark;
  bool proper; /* PKRW_OPEN: the list ends in () */
} pkrw_ent;

/* REL compiled for the driver: a conde (or one clause) of == goals over
   REL's two arguments, fresh variables and quasiquoted patterns.  Each
   clause is a goal list; slot 0 is a, 1 is b, 2.. the fresh variables. */
enum { PKRW_MAXSLOTS = 32, PKRW_FLATMAX = 8, PKRW_MAXHEADS = 14 };
/* A clause's first goal (== a `(e ...)) when its pattern is a proper list
   of at most PKRW_FLATMAX elements, each a symbol, fixnum or () (slot -1,
   compared by eq?) or a variable (its slot): matched by one loop over the
   input's elements.  n == 0: not flat. */
typedef struct pkrw_flat {
  int n, nconst;
  int8_t slot[PKRW_FLATMAX];
  pk_val c[PKRW_FLATMAX];
  int8_t at[PKRW_FLATMAX]; /* the constants' positions, nconst of them */
} pkrw_flat;
/* A candidate list's filter: at the positions where its flat clauses have
   constants, which candidates (bits by index in the list) want which of up
   to PKRW_FILTVALS constants.  Only a pre-test: a candidate it keeps is
   still matched in full, one it drops cannot hold. */
enum { PKRW_FILTVALS = 4, PKRW_FILTSLOTS = 8 };
/* A position's constants by value: slot (v >> shift) % PKRW_FILTSLOTS
   holds v and the candidates that want it (a shift found without
   collisions); an empty slot wants none. */
typedef struct pkrw_fslot {
  pk_val val;
  uint64_t want;
} pkrw_fslot;
typedef struct pkrw_filter {
  int npos;
  uint64_t all; /* the list's candidates */
  int8_t pos[PKRW_FLATMAX];
  uint8_t shift[PKRW_FLATMAX];
  uint64_t need[PKRW_FLATMAX]; /* candidates with a constant at pos[i] */
  int nval[PKRW_FLATMAX];
  pk_val val[PKRW_FLATMAX][PKRW_FILTVALS];
  uint64_t want[PKRW_FLATMAX][PKRW_FILTVALS];   /* candidates whose constant at pos[i] is val[i][j] */
  pkrw_fslot tab[PKRW_FLATMAX][PKRW_FILTSLOTS]; /* val and want by value */
} pkrw_filter;
typedef struct pkrw_plan {
  int nclauses;
  const pke_node *const *clauses[64]; /* each clause's goals */
  int ngoals[64];
  /* What the input must be for a clause to hold, from its first goal
     (== a PATTERN): a pair (PATTERN a cons), whose car is head[c] when
     that is a symbol or fixnum (else head[c] is 0).  Checked before the
     goals: about 5 instructions a clause skipped. */
  bool pair[64];
  pk_val head[64];
  pkrw_flat flat[64];
  /* A direct clause, (== a FLAT) (== b T) with T a constant compared by
     eq? or a variable FLAT binds once: its answer is that constant
     (out[c] == PKRW_FLATMAX, in outc[c]) or the input's element out[c],
     canonical, with no slots.  out[c] == -1: not direct. */
  int8_t out[64];
  pk_val outc[64];
  /* The clauses that may hold, in order, for an input whose head is
     heads[k] (list k), for another pair (list nheads), for an atom (list
     nheads + 1): clause indexing, as Prolog systems index on the first
     argument. */
  pk_val heads[PKRW_MAXHEADS];
  int nheads;
  uint8_t *cand[PKRW_MAXHEADS + 2];
  int ncand[PKRW_MAXHEADS + 2];
  uint8_t cands[(PKRW_MAXHEADS + 2) * 64];
  pkrw_filter filt[PKRW_MAXHEADS + 2];
  int filtmax;     /* 1 + the last position a filter looks at, or 0 */
  bool pairs_only; /* every clause wants a pair: REL fails on an atom */
  bool fresh;      /* a fresh frame around the clauses: depth 0 is it, 1 the arguments */
  int nslots;      /* 2 + the fresh variables */
} pkrw_plan;

/* REL's head guard: REL is (lambda (a b) (project (.. a ..) (if TEST G
   fail))) with TEST (head-may-be? a HEADS) or (and (head-may-be? a HEADS)
   ...), HEADS a constant or a global.  Where the test is false REL fails
   at once, so the driver answers "no" without a query; the globals are
   read at each node, so a redefinition is seen. */
typedef struct pkrw_guard {
  const pke_node *test, *heads, *fail; /* the GREFs of head-may-be? and fail; heads CONST or GREF */
} pkrw_guard;

/* A set of node ids: a bitmap in pages of 4096 ids, each made when first
   touched, and the list of pages touched (a page's last word says it is
   on the list), so that emptying the set costs what was used.  The interning table numbers lists densely and in order,
   so a term's ids fall in few pages: a lookup is a shift, a load and a
   test, and a million-node set is 128 KB. */
enum { PKRW_IDPAGE = 4096 };
typedef struct pkrw_ids {
  uint64_t **pages; /* by id / PKRW_IDPAGE */
  uint32_t *touched;
  size_t npages, ntouched, captouched, n;
  bool logged; /* a set that is moved often (a task's): its ids kept in order, so moving costs what it holds */
  uint32_t *log;
  size_t caplog;
} pkrw_ids;

/* A rebuilt list waiting to be interned (pkrw_defer_intern). */
typedef struct pkrw_pending {
  uint32_t h, n;
  size_t items;
  pk_val result;
} pkrw_pending;

/* A list a split pass leaves to a task: its node, and what its walk gave
   (the new term or PKRW_FAIL), or the error it raised. */
typedef struct pkrw_task {
  pk_val node, result;
  size_t ent; /* the entry of the pass's walk waiting on it */
  int status; /* 0, or the error's */
  bool timed_out, steps_out;
  char *msg;
} pkrw_task;

struct pkrw_ctx {
  pk_val rel;
  pkrw_plan *plan;  /* or NULL: every node through the engine */
  pkrw_guard guard; /* guard.test NULL: none */
  pkrw_walker walker;
  pkrw_ids clean;       /* nodes of this call with no redex below: never entered again */
  pkrw_tab pass;        /* this pass's lists: their entries (index + 1) */
  pkrw_tab atoms;       /* REL's result at atoms: across passes and calls, unless REL may see other outputs */
  uint64_t atoms_epoch; /* pkh_epoch when atoms was last emptied: a result may be a scope's list */
  pkrw_ent *ent;        /* pkrw_walk_pass's entries */
  size_t nent, capent;
  pkrw_up *up; /* pkrw_ent_finish's stack */
  size_t capup;
  uint32_t *hvals; /* the hashes of vals[0..nvals) in pkrw_ent_finish */
  size_t caphvals;
  pk_val *vals;
  size_t nvals, capvals;
  uint64_t max_steps, deadline, step0;
  uint64_t check_at; /* pkrw_step checks the limits from this count on (pkrw_arm) */
  bool timed_out;
  /* Inside a program (pkrw_first): REL runs in the caller's search state,
     each application is a step of the program's search, and an answer
     that is not a function of the node alone (not ground, or binding the
     caller's variables) makes the driver decline instead of failing. */
  pk_val state;
  bool decline;
  pkrw_stats st;
  /* Split passes (pkrw_set_split): the threshold, the depth of the tasks,
     who runs them, and this pass's tasks and deferred lists. */
  size_t split_nodes;
  size_t model_nodes; /* pkrw_model_nodes's hint for the next pkrw_model call, or 0 */
  size_t known_nodes; /* the hint of the running pkrw_model call, or 0 */
  bool one_output;    /* the model being rewritten has one output */
  int split_depth;
  bool splitting; /* this call's term is large enough */
  pkrw_tasks_fn *run_tasks;
  void *tasks_env;
  pkrw_task *tasks;
  size_t ntasks, captasks;
  uint64_t task_budget; /* steps a task may take (0: no limit) */
  pk_val others;        /* the other outputs, for tasks on other threads */
  uint64_t serial;      /* unique: names this context in threads' caches */
  pthread_mutex_t sub_lock;
  pkrw_ctx *subs;               /* the contexts that ran its tasks, one per thread */
  pkrw_ctx *next_sub;           /* in a sub-context: the next of its coordinator's */
  const pkrw_ids *shared_clean; /* in a sub-context: its coordinator's clean set */
  pkrw_ids count;               /* scratch of pkrw_count_upto */
  /* pkrw_walk_pass's rebuilt lists waiting to be interned: hash, items
     (in pitems), and the interned list once resolved (in order). */
  pkrw_pending *pend;
  size_t npend, cappend, nresolved;
  pk_val *pitems;
  size_t npitems, cappitems;
  pkrw_ids found; /* in a sub-context: what its tasks of this pass found clean */
  /* The hashes of atoms met lately as items of rebuilt lists (operators,
     leaves), direct-mapped by address: pkh_hash's type dispatch and mix
     once per atom rather than once per use. */
  pk_val hkey[64];
  uint32_t hval[64];
};

static pk_val pkrw_runner; /* (lambda (rel a) (run 1 (b) (rel a b))) */
static pthread_once_t pkrw_once = PTHREAD_ONCE_INIT;
static pk_val pkrw_sym_observed, pkrw_sym_walko, pkrw_sym_non_obs;
static pk_val *pkrw_builtins; /* the primitive head-may-be? and the goal fail, as defined at start */
static pkrw_plan *pkrw_make_plan(pk_val rel);
static pkrw_guard pkrw_make_guard(pk_val rel);
static void pkrw_arm(pkrw_ctx *c);

/* Compile the per-node query once; it is kept in an uncollectable root. */
static void pkrw_init_once(void)
{
  static const char src[] = "(lambda (rel a) (run 1 (b) (rel a b)))";
  pkr_reader *r = pkr_open("<rewrite>", src, sizeof src - 1);
  pk_val x;
  pkr_next(r, &x);
  pk_srcpos pos = { "<rewrite>", 1, 1 };
  pk_val *root = GC_MALLOC_UNCOLLECTABLE(2 * sizeof *root);
  root[0] = pke_eval(pkc_compile(x, &pos), NULL);
  root[1] = pko_sym("observed");
  pkrw_runner = root[0];
  pkrw_sym_observed = root[1];
}

/* ---- tables ---------------------------------------------------------------------- */

static size_t pkrw_hash(pk_val k) { return (size_t)((k >> 3) * 0x9E3779B97F4A7C15ull >> 17); }

static void pkrw_tab_init(pkrw_tab *t)
{
  t->cap = 1024;
  t->n = 0;
  t->gen = 1;
  t->s = pko_xzalloc(t->cap, sizeof *t->s);
}

static pkrw_slot *pkrw_probe(pkrw_slot *s, size_t cap, uint64_t gen, pk_val k)
{
  size_t i = pkrw_hash(k) & (cap - 1);
  while (s[i].gen == gen && s[i].key != k) i = (i + 1) & (cap - 1);
  return &s[i];
}

/* The result stored for k, or 0. */
static pk_val pkrw_tab_get(const pkrw_tab *t, pk_val k)
{
  pkrw_slot *e = pkrw_probe(t->s, t->cap, t->gen, k);
  return e->gen == t->gen ? e->val : 0;
}

/* k's slot, the table doubled first when at half load. */
static pkrw_slot *pkrw_tab_slot(pkrw_tab *t, pk_val k)
{
  if (2 * (t->n + 1) > t->cap) {
    size_t ncap = 2 * t->cap;
    pkrw_slot *ns = pko_xzalloc(ncap, sizeof *ns);
    for (size_t i = 0; i < t->cap; i++)
      if (t->s[i].gen == t->gen) *pkrw_probe(ns, ncap, t->gen, t->s[i].key) = t->s[i];
    free(t->s);
    t->s = ns;
    t->cap = ncap;
  }
  return pkrw_probe(t->s, t->cap, t->gen, k);
}

/* Store k -> v. */
static void pkrw_tab_put(pkrw_tab *t, pk_val k, pk_val v)
{
  pkrw_slot *e = pkrw_tab_slot(t, k);
  if (e->gen != t->gen) t->n++;
  *e = (pkrw_slot){ k, v, t->gen };
}

/* The value stored for k, or 0 after storing v for it: one probe where
   a get and a put take two. */
static pk_val pkrw_tab_claim(pkrw_tab *t, pk_val k, pk_val v)
{
  pkrw_slot *e = pkrw_tab_slot(t, k);
  if (e->gen == t->gen) return e->val;
  t->n++;
  *e = (pkrw_slot){ k, v, t->gen };
  return 0;
}

/* Forget every entry: O(1) (the slots of older generations read as empty). */
static void pkrw_tab_clear(pkrw_tab *t)
{
  t->gen++;
  t->n = 0;
}

/* ---- reduceo's fast path ------------------------------------------------------------ */

/* The depth of a local variable reference (every kind keeps it in a), or
   -1. */
static int pkrw_lref_depth(const pke_node *e)
{
  return e->op == PKE_LREF0 || e->op == PKE_LREF1 || e->op == PKE_LREF ? (int)e->a : -1;
}

/* Is e a reference to variable slot i of the innermost frame? */
static bool pkrw_local(const pke_node *e, uint32_t i) { return pkrw_lref_depth(e) == 0 && e->b == i; }

/* The body of rel when it is a closure of exactly two arguments, else
   NULL: the shape every recognised relation starts with. */
static const pke_node *pkrw_body2(pk_val rel)
{
  if (!pko_isa(rel, PK_T_CLOSURE)) return NULL;
  const pke_node *lam = ((const pke_closure *)rel)->lam;
  return lam->a == 2 && !(lam->flags & 1) ? lam->x : NULL;
}

/* Is rel (lambda (x y) (W REL x y)) with W kanren's walko or non_obs_walko
   and REL a constant, a global or a variable of the closure?  Then *inner
   is REL's value and *w the walker. */
static bool pkrw_walker_of(pk_val rel, pk_val *inner, pkrw_walker *w)
{
  const pke_node *b = pkrw_body2(rel);
  if (!b || b->op != PKE_CALL || b->n != 3 || b->x->op != PKE_GREF) return false;
  pk_val f = pko_as_sym(b->x->v)->value;
  if (f == PK_UNBOUND) return false;
  if (f == pko_as_sym(pkrw_sym_walko)->value)
    *w = PKRW_WALKO;
  else if (f == pko_as_sym(pkrw_sym_non_obs)->value)
    *w = PKRW_NON_OBS_WALKO;
  else
    return false;
  const pke_node *e = b->kids[0];
  if (!pkrw_local(b->kids[1], 0) || !pkrw_local(b->kids[2], 1)) return false;
  int d = pkrw_lref_depth(e);
  if (e->op == PKE_CONST)
    *inner = e->v;
  else if (e->op == PKE_GREF)
    *inner = pko_as_sym(e->v)->value;
  else if (d >= 1) {
    const pke_env *env = ((const pke_closure *)rel)->env;
    while (--d > 0) env = env->up;
    *inner = env->v[e->b];
  } else
    return false;
  return *inner != PK_UNBOUND;
}

/* reduceo's first answer on a known term (a pks_first_fn): argv is (rel a
   b); when rel is a walker over REL (pkrw_walker_of) and a is ground, the
   driver's fixed point in the caller's state, else 0 (the relational
   definition runs instead). */
static pk_val pkrw_first(pk_val state, int argc, const pk_val *argv)
{
  (void)argc;
  pk_val inner, t;
  pkrw_walker w;
  if (!pkrw_walker_of(argv[0], &inner, &w) || !(t = pkh_intern(argv[1]))) return 0;
  pkrw_ctx *c = pkrw_new(inner, w);
  c->state = state;
  pkrw_arm(c);
  pko_catch k;
  if (!PKO_TRY(k)) {
    pkrw_free(c);
    pko_rethrow();
  }
  pk_val r = pkrw_term(c, t);
  PKO_END(k);
  bool decline = c->decline;
  pkrw_free(c);
  if (decline) return 0;
  return r ? pko_list(3, argv[0], argv[1], r) : PK_FALSE;
}

/* (kanren-reduceo-first rel a b slow): the goal slow, reduceo's relational
   definition on a known a, with the driver's fixed point as its first
   answer when pkrw_first can compute it. */
static pk_val pkrw_prim_first(int argc, pk_val *argv)
{
  (void)argc;
  return pks_first_goal(pkrw_first, 3, argv, argv[3]);
}

/* pkrw_grow's reallocation. */
static __attribute__((noinline)) void pkrw_regrow(void **p, size_t *cap, size_t used, size_t n, size_t sz)
{
  size_t nc = *cap ? 2 * *cap : 256;
  while (nc < used + n) nc *= 2;
  *p = pko_xrealloc(*p, nc * sz);
  *cap = nc;
}

/* Room for n more items of size sz in the array *p of *cap (doubling):
   one compare when there is room. */
static inline void pkrw_grow(void **p, size_t *cap, size_t used, size_t n, size_t sz)
{
  if (used + n > *cap) pkrw_regrow(p, cap, used, n, sz);
}

/* ---- sets of node ids ---------------------------------------------------------- */

/* An empty set. */
static void pkrw_ids_init(pkrw_ids *t) { *t = (pkrw_ids){ 0 }; }

static inline bool pkrw_ids_has(const pkrw_ids *t, uint32_t id)
{
  size_t p = id / PKRW_IDPAGE;
  return p < t->npages && t->pages[p] && t->pages[p][id % PKRW_IDPAGE / 64] >> id % 64 & 1;
}

/* Empty t, keeping its pages. */
static void pkrw_ids_clear(pkrw_ids *t)
{
  if (t->logged) {
    for (size_t k = 0; k < t->n; k++) t->pages[t->log[k] / PKRW_IDPAGE][t->log[k] % PKRW_IDPAGE / 64] = 0;
    t->n = 0;
    return;
  }
  for (size_t k = 0; k < t->ntouched; k++) memset(t->pages[t->touched[k]], 0, PKRW_IDPAGE / 8 + 8);
  t->ntouched = t->n = 0;
}

/* Release t's memory. */
static void pkrw_ids_free(pkrw_ids *t)
{
  for (size_t p = 0; p < t->npages; p++) free(t->pages[p]);
  free(t->pages);
  free(t->touched);
  free(t->log);
}

/* id's page, made and recorded as touched when it is not yet. */
static uint64_t *pkrw_ids_page(pkrw_ids *t, uint32_t id)
{
  size_t p = id / PKRW_IDPAGE;
  if (p >= t->npages) {
    size_t n = p + 1 > 2 * t->npages ? p + 1 : 2 * t->npages;
    t->pages = pko_xrealloc(t->pages, n * sizeof *t->pages);
    memset(t->pages + t->npages, 0, (n - t->npages) * sizeof *t->pages);
    t->npages = n;
  }
  if (!t->pages[p]) t->pages[p] = pko_xzalloc(PKRW_IDPAGE / 64 + 1, sizeof(uint64_t));
  return t->pages[p];
}

/* Add id; false if it was there. */
static bool pkrw_ids_add(pkrw_ids *t, uint32_t id)
{
  uint64_t *pg = pkrw_ids_page(t, id), *w = &pg[id % PKRW_IDPAGE / 64], bit = 1ull << id % 64;
  if (*w & bit) return false;
  if (t->logged) {
    pkrw_grow((void **)&t->log, &t->caplog, t->n, 1, sizeof *t->log);
    t->log[t->n] = id;
  }
  t->n++;
  if (!pg[PKRW_IDPAGE / 64]) {
    pg[PKRW_IDPAGE / 64] = 1;
    pkrw_grow((void **)&t->touched, &t->captouched, t->ntouched, 1, sizeof *t->touched);
    t->touched[t->ntouched++] = id / PKRW_IDPAGE;
  }
  *w |= bit;
  return true;
}

/* Add the ids of set from to set to, and empty from. */
static void pkrw_ids_move(pkrw_ids *to, pkrw_ids *from)
{
  for (size_t k = 0; from->logged && k < from->n; k++) pkrw_ids_add(to, from->log[k]);
  for (size_t k = 0; !from->logged && k < from->ntouched; k++) {
    uint32_t p = from->touched[k];
    const uint64_t *w = from->pages[p];
    for (uint32_t j = 0; j < PKRW_IDPAGE / 64; j++)
      for (uint64_t b = w[j]; b; b &= b - 1) pkrw_ids_add(to, p * PKRW_IDPAGE + j * 64 + (uint32_t)__builtin_ctzll(b));
  }
  pkrw_ids_clear(from);
}

/* The outputs of the model being rewritten other than the one whose fixed
   point is being computed, on this thread ('() outside pkrw_model): what
   `(rewrite-other-outputs)` gives REL.  The model is on the caller's stack,
   so they stay alive. */
static _Thread_local pk_val pkrw_others = PK_NIL;
/* The ids of the lists occurring in pkrw_others (by list elements, the
   outputs themselves included), built at the first question after
   pkrw_others changed (gen), and whether all of them are interned. */
static _Thread_local uint64_t pkrw_ogen, pkrw_oset_gen;
static _Thread_local bool pkrw_oset_exact;

/* Make o the other outputs. */
static void pkrw_set_others(pk_val o)
{
  pkrw_others = o;
  pkrw_ogen++;
}

/* (rewrite-other-outputs) */
static pk_val pkrw_prim_others(int argc, pk_val *argv)
{
  (void)argc;
  (void)argv;
  return pkrw_others;
}

/* Can t be a term whose head is one of heads: a logic variable, or a pair
   whose car is one or in heads (eq?)?  -1 when heads is not a list. */
static int pkrw_head_may_be(pk_val t, pk_val heads)
{
  if (pko_varp(t)) return 1;
  if (!pko_pairp(t)) return 0;
  pk_val h = pko_car(t);
  if (pko_varp(h)) return 1;
  for (; pko_pairp(heads); heads = pko_cdr(heads))
    if (pko_car(heads) == h) return 1;
  return heads == PK_NIL ? 0 : -1;
}

/* (head-may-be? t heads) */
static pk_val pkrw_prim_head(int argc, pk_val *argv)
{
  (void)argc;
  int r = pkrw_head_may_be(argv[0], argv[1]);
  if (r < 0) pko_error("head-may-be?: not a list");
  return pko_mkbool(r);
}

/* ---- (subterm-count x t) ------------------------------------------------------------ */

/* Is t the subterm x: eq?, or equal? when t is a list.  Two interned lists
   are equal only when eq?, and lists whose heads are different symbols
   never are. */
static bool pkrw_is(pk_val x, pk_val t, bool xin)
{
  if (x == t) return true;
  if (!pko_pairp(t) || !pko_pairp(x)) return false;
  pk_val hx = pko_car(x), ht = pko_car(t);
  if (hx != ht && (pko_symbolp(hx) || pko_symbolp(ht))) return false;
  if (xin && pkh_internedp(t)) return false;
  return pko_equal(x, t);
}

/* A list being counted: its elements not yet seen and the count so far. */
typedef struct pkrw_cframe {
  pk_val node, rest;
  int n;
} pkrw_cframe;

/* A thread's tables for the primitives: pkrw_count's memo (list ->
   count + 1) and frames, and the set of the other outputs' node ids.
   Freed when the thread ends (a key's destructor). */
typedef struct pkrw_scratch {
  pkrw_tab cmemo;
  pkrw_cframe *cfr;
  size_t ncfr;
  pkrw_ids oset;
} pkrw_scratch;

static _Thread_local pkrw_scratch *pkrw_scr;
static pthread_key_t pkrw_scr_key;
static pthread_once_t pkrw_scr_once = PTHREAD_ONCE_INIT;

static void pkrw_scratch_free(void *p)
{
  pkrw_scratch *x = p;
  free(x->cmemo.s);
  free(x->cfr);
  pkrw_ids_free(&x->oset);
  free(x);
}

static void pkrw_scratch_key(void) { pthread_key_create(&pkrw_scr_key, pkrw_scratch_free); }

/* This thread's scratch tables, made at the first use. */
static pkrw_scratch *pkrw_scratch_get(void)
{
  if (pkrw_scr) return pkrw_scr;
  pthread_once(&pkrw_scr_once, pkrw_scratch_key);
  pkrw_scr = pko_xcalloc(1, sizeof *pkrw_scr);
  pkrw_tab_init(&pkrw_scr->cmemo);
  pkrw_ids_init(&pkrw_scr->oset);
  pthread_setspecific(pkrw_scr_key, pkrw_scr);
  return pkrw_scr;
}

/* t's count when known without entering it (a match, an atom, a memo
   hit), else -1. */
static int pkrw_count_known(pk_val x, pk_val t, bool xin)
{
  if (pkrw_is(x, t, xin)) return 1;
  if (!pko_pairp(t)) return 0;
  pk_val m = pkrw_tab_get(&pkrw_scr->cmemo, t);
  return m ? (int)m - 1 : -1;
}

/* How many times x occurs in t as a subterm (pkrw_is), over the elements
   of lists (an improper tail is not looked at), not inside an occurrence,
   each path through shared nodes counted, capped at 2.  Each list of t is
   entered once (a memo), and the walk is iterative. */
static int pkrw_count(pk_val x, pk_val t)
{
  bool xin = pko_pairp(x) && pkh_internedp(x);
  if (pkrw_is(x, t, xin)) return 1;
  if (!pko_pairp(t)) return 0;
  pkrw_scratch *sc = pkrw_scratch_get();
  pkrw_tab_clear(&sc->cmemo);
  int r;
  size_t n = 0;
  pkrw_cframe top = { t, t, 0 };
  for (;;) {
    if (top.n < 2 && pko_pairp(top.rest)) {
      pk_val e = pko_car(top.rest);
      top.rest = pko_cdr(top.rest);
      int k = pkrw_count_known(x, e, xin);
      if (k >= 0) {
        top.n += k;
        continue;
      }
      if (n == sc->ncfr) {
        sc->ncfr = sc->ncfr ? 2 * sc->ncfr : 64;
        sc->cfr = pko_xrealloc(sc->cfr, sc->ncfr * sizeof *sc->cfr);
      }
      sc->cfr[n++] = top;
      top = (pkrw_cframe){ e, e, 0 };
      continue;
    }
    r = top.n < 2 ? top.n : 2;
    pkrw_tab_put(&sc->cmemo, top.node, (pk_val)r + 1);
    if (n == 0) return r;
    top = sc->cfr[--n];
    top.n += r;
  }
}

/* (subterm-count x t) */
static pk_val pkrw_prim_count(int argc, pk_val *argv)
{
  (void)argc;
  return pko_mkfix(pkrw_count(argv[0], argv[1]));
}

/* Add the lists of t to set; false at a list that is not interned. */
static bool pkrw_oset_add(pkrw_ids *set, pk_val t)
{
  size_t n = 0, cap = 64;
  pk_val *st = pko_xmalloc(cap * sizeof *st); /* parts of t, which the caller keeps */
  bool ok = true;
  st[n++] = t;
  while (ok && n) {
    pk_val u = st[--n];
    if (!pko_pairp(u)) continue;
    ok = pkh_internedp(u);
    if (!ok || !pkrw_ids_add(set, pkh_node_of(u)->id)) continue;
    for (pk_val l = u; pko_pairp(l); l = pko_cdr(l)) {
      if (n == cap) st = pko_xrealloc(st, (cap *= 2) * sizeof *st);
      st[n++] = pko_car(l);
    }
  }
  free(st);
  return ok;
}

/* The scratch's set for the current other outputs; false when it cannot
   answer (a list in them is not interned). */
static bool pkrw_oset_ready(void)
{
  pkrw_scratch *x = pkrw_scratch_get();
  if (pkrw_oset_gen == pkrw_ogen) return pkrw_oset_exact;
  pkrw_ids_clear(&x->oset);
  pkrw_oset_exact = true;
  for (pk_val o = pkrw_others; pkrw_oset_exact && pko_pairp(o); o = pko_cdr(o))
    pkrw_oset_exact = pkrw_oset_add(&x->oset, pko_car(o));
  pkrw_oset_gen = pkrw_ogen;
  return pkrw_oset_exact;
}

/* (rewrite-other-outputs-hold? x): does x occur (subterm-count > 0) in
   one of (rewrite-other-outputs)?  An interned list is looked up in the
   set of theirs (equal lists are eq? when interned); anything else is
   counted. */
static pk_val pkrw_prim_in_others(int argc, pk_val *argv)
{
  (void)argc;
  pk_val x = argv[0];
  if (pkrw_others == PK_NIL) return PK_FALSE;
  if (pko_pairp(x) && pkh_internedp(x) && pkrw_oset_ready())
    return pko_mkbool(pkrw_ids_has(&pkrw_scr->oset, pkh_node_of(x)->id));
  for (pk_val o = pkrw_others; pko_pairp(o); o = pko_cdr(o))
    if (pkrw_count(x, pko_car(o)) > 0) return PK_TRUE;
  return PK_FALSE;
}

void pkrw_init(void)
{
  pko_defprim("rewrite-other-outputs", pkrw_prim_others, 0, 0);
  pko_defprim("head-may-be?", pkrw_prim_head, 2, 2);
  pko_defprim("subterm-count", pkrw_prim_count, 2, 2);
  pko_defprim("rewrite-other-outputs-hold?", pkrw_prim_in_others, 1, 1);
  pko_defprim("kanren-reduceo-first", pkrw_prim_first, 4, 4);
  pkrw_sym_walko = pko_sym("kanren-walko");
  pkrw_sym_non_obs = pko_sym("kanren-non-obs-walko");
  pkrw_builtins = GC_MALLOC_UNCOLLECTABLE(2 * sizeof *pkrw_builtins);
  pkrw_builtins[0] = pko_as_sym(pko_sym("head-may-be?"))->value;
  pkrw_builtins[1] = pko_as_sym(pko_sym("fail"))->value;
}

/* ---- context ---------------------------------------------------------------------- */

pkrw_ctx *pkrw_new(pk_val rel, pkrw_walker w)
{
  pthread_once(&pkrw_once, pkrw_init_once);
  pkrw_ctx *c = pko_xcalloc(1, sizeof *c);
  c->rel = rel;
  c->walker = w;
  c->plan = pkrw_make_plan(rel);
  c->guard = pkrw_make_guard(rel);
  pkrw_ids_init(&c->clean);
  pkrw_ids_init(&c->count);
  pkrw_ids_init(&c->found);
  pkrw_tab_init(&c->pass);
  pkrw_tab_init(&c->atoms);
  c->split_nodes = PKRW_SPLIT_NODES;
  c->split_depth = PKRW_SPLIT_DEPTH;
  c->serial = atomic_fetch_add(&pkrw_serials, 1);
  pthread_mutex_init(&c->sub_lock, NULL);
  /* rel and the results in the tables are reachable otherwise: rel from
     the caller, results from the interning table */
  return c;
}

void pkrw_free(pkrw_ctx *c)
{
  if (!c) return;
  for (pkrw_ctx *x = c->subs, *next; x; x = next) {
    next = x->next_sub;
    pkrw_free(x);
  }
  pthread_mutex_destroy(&c->sub_lock);
  free(c->tasks);
  free(c->pend);
  free(c->pitems);
  pkrw_ids_free(&c->count);
  pkrw_ids_free(&c->found);
  free(c->plan);
  free(c->pass.s);
  free(c->atoms.s);
  pkrw_ids_free(&c->clean);
  free(c->ent);
  free(c->up);
  free(c->hvals);
  free(c->vals);
  free(c);
}

void pkrw_set_split(pkrw_ctx *c, size_t min_nodes, int depth)
{
  c->split_nodes = min_nodes;
  c->split_depth = depth > 0 ? depth : 1;
}

void pkrw_set_tasks(pkrw_ctx *c, pkrw_tasks_fn *run, void *env)
{
  c->run_tasks = run;
  c->tasks_env = env;
}

void pkrw_limit(pkrw_ctx *c, uint64_t max_steps, uint64_t deadline_ns)
{
  c->max_steps = max_steps;
  c->deadline = deadline_ns;
  c->timed_out = false;
  pkrw_arm(c);
}

bool pkrw_timed_out(const pkrw_ctx *c) { return c->timed_out; }

pkrw_stats *pkrw_get_stats(pkrw_ctx *c) { return &c->st; }

/* ---- REL compiled for the driver ------------------------------------------------------ */

/* The slot of a variable reference in a clause of plan p, or -1. */
static int pkrw_var(const pkrw_plan *p, const pke_node *e)
{
  int d = pkrw_lref_depth(e);
  if (d == (p->fresh ? 1 : 0)) return e->b < 2 ? (int)e->b : -1;
  if (p->fresh && d == 0) return e->b + 2 < PKRW_MAXSLOTS ? (int)e->b + 2 : -1;
  return -1;
}

/* Is e a pattern the plan handles: constants, conses, variables? */
static bool pkrw_pattern_ok(const pkrw_plan *p, const pke_node *e)
{
  if (e->op == PKE_CONST) return true;
  if (e->op == PKE_CONS) return pkrw_pattern_ok(p, e->x) && pkrw_pattern_ok(p, e->y);
  return pkrw_var(p, e) >= 0;
}

/* Is g a call of the builtin == on two patterns? */
static bool pkrw_eq_goal(const pkrw_plan *p, const pke_node *g)
{
  if (g->op != PKE_CALL || g->n != 2 || g->x->op != PKE_GREF) return false;
  pk_val f = pko_as_sym(g->x->v)->value;
  if (!pko_isa(f, PK_T_PRIM) || strcmp(((const pko_prim *)f)->name, "==")) return false;
  return pkrw_pattern_ok(p, g->kids[0]) && pkrw_pattern_ok(p, g->kids[1]);
}

/* Constants compared by eq? alone (pkrw_same). */
static bool pkrw_eqconst(pk_val v) { return pko_fixnump(v) || pko_symbolp(v) || v == PK_NIL; }

/* Add element v (a constant) or slot k to f; false when f is full. */
static bool pkrw_flat_add(pkrw_flat *f, int k, pk_val v)
{
  if (f->n == PKRW_FLATMAX) return false;
  if (k < 0) f->at[f->nconst++] = (int8_t)f->n;
  f->slot[f->n] = (int8_t)k;
  f->c[f->n++] = v;
  return true;
}

/* f from pattern pat (a PKE_CONS) when it is flat (above), else f->n 0. */
static void pkrw_flatten(const pkrw_plan *p, const pke_node *pat, pkrw_flat *f)
{
  f->n = f->nconst = 0;
  bool ok = true;
  for (; ok && pat->op == PKE_CONS; pat = pat->y) {
    const pke_node *e = pat->x;
    int k = e->op == PKE_CONST ? -1 : pkrw_var(p, e);
    ok = (e->op == PKE_CONST ? pkrw_eqconst(e->v) : k >= 0) && pkrw_flat_add(f, k, e->op == PKE_CONST ? e->v : 0);
  }
  if (ok && pat->op == PKE_CONST) {
    pk_val l = pat->v;
    for (; ok && pko_pairp(l); l = pko_cdr(l)) ok = pkrw_eqconst(pko_car(l)) && pkrw_flat_add(f, -1, pko_car(l));
    ok = ok && l == PK_NIL;
  } else {
    ok = false;
  }
  if (!ok) f->n = f->nconst = 0;
}

/* Fill out[c] and outc[c] (above) of clause c, its flat[c] known. */
static void pkrw_index_direct(pkrw_plan *p, int c)
{
  const pkrw_flat *f = &p->flat[c];
  p->out[c] = -1;
  if (!f->n || p->ngoals[c] != 2) return;
  for (int i = 0; i < f->n; i++) {
    if (f->slot[i] >= 0 && f->slot[i] < 2) return; /* binds a or b */
    for (int j = 0; j < i; j++)
      if (f->slot[i] >= 0 && f->slot[j] == f->slot[i]) return; /* a variable twice: compared */
  }
  const pke_node *l = p->clauses[c][1]->kids[0], *r = p->clauses[c][1]->kids[1];
  const pke_node *t = pkrw_var(p, l) == 1 ? r : pkrw_var(p, r) == 1 ? l : NULL;
  if (t && t->op == PKE_CONST && pkrw_eqconst(t->v)) {
    p->out[c] = PKRW_FLATMAX;
    p->outc[c] = t->v;
    return;
  }
  int k = t ? pkrw_var(p, t) : -1;
  for (int i = 0; k >= 2 && i < f->n; i++)
    if (f->slot[i] == k) p->out[c] = (int8_t)i;
}

/* Fill pair[c], head[c], flat[c] and out[c] from clause c's first goal. */
static void pkrw_index_clause(pkrw_plan *p, int c)
{
  p->pair[c] = false;
  p->head[c] = 0;
  if (p->ngoals[c] == 0) return;
  const pke_node *g = p->clauses[c][0], *l = g->kids[0], *r = g->kids[1];
  const pke_node *pat = pkrw_var(p, l) == 0 ? r : pkrw_var(p, r) == 0 ? l : NULL;
  p->pair[c] = pat && pat->op == PKE_CONS;
  if (p->pair[c] && pat->x->op == PKE_CONST && (pko_symbolp(pat->x->v) || pko_fixnump(pat->x->v)))
    p->head[c] = pat->x->v;
  if (p->pair[c]) pkrw_flatten(p, pat, &p->flat[c]);
  pkrw_index_direct(p, c);
}

/* Add clause node cl (a FRESH node without frame) to p; false if it is
   not a list of == goals. */
static bool pkrw_add_clause(pkrw_plan *p, const pke_node *cl)
{
  if (p->nclauses == 64 || cl->op != PKE_FRESH || !(cl->flags & 2)) return false;
  for (int i = 0; i < cl->n; i++)
    if (!pkrw_eq_goal(p, cl->kids[i])) return false;
  p->clauses[p->nclauses] = (const pke_node *const *)cl->kids;
  p->ngoals[p->nclauses] = cl->n;
  pkrw_index_clause(p, p->nclauses++);
  return true;
}

/* Is h one of p's indexed heads? */
static bool pkrw_head_known(const pkrw_plan *p, pk_val h)
{
  for (int k = 0; k < p->nheads; k++)
    if (p->heads[k] == h) return true;
  return false;
}

/* Add to filter f that candidate i has constant v at position at, unless
   the position already has PKRW_FILTVALS others (then it is not filtered
   there: the full match decides). */
static void pkrw_filter_add(pkrw_filter *f, int i, int at, pk_val v)
{
  int q = 0;
  while (q < f->npos && f->pos[q] != at) q++;
  if (q == f->npos) {
    f->pos[f->npos++] = (int8_t)at;
    f->need[q] = 0;
    f->nval[q] = 0;
  }
  int j = 0;
  while (j < f->nval[q] && f->val[q][j] != v) j++;
  if (j == PKRW_FILTVALS) return;
  if (j == f->nval[q]) {
    f->val[q][j] = v;
    f->want[q][j] = 0;
    f->nval[q]++;
  }
  f->need[q] |= (uint64_t)1 << i;
  f->want[q][j] |= (uint64_t)1 << i;
}

/* Fill position q's slots by value: the first shift that puts its
   constants in distinct slots.  Without one (constants that differ only
   in bits far apart) the position filters nothing: the full match
   decides. */
static void pkrw_filter_slots(pkrw_filter *f, int q)
{
  for (unsigned sh = 0; sh < 64; sh++) {
    memset(f->tab[q], 0, sizeof f->tab[q]);
    int j = 0;
    for (; j < f->nval[q]; j++) {
      pkrw_fslot *e = &f->tab[q][(f->val[q][j] >> sh) % PKRW_FILTSLOTS];
      if (e->want) break;
      *e = (pkrw_fslot){ f->val[q][j], f->want[q][j] };
    }
    if (j == f->nval[q]) {
      f->shift[q] = (uint8_t)sh;
      return;
    }
  }
  memset(f->tab[q], 0, sizeof f->tab[q]);
  f->need[q] = 0;
}

/* The filter of candidate list k from its flat clauses' constants. */
static void pkrw_filter_make(pkrw_plan *p, int k)
{
  pkrw_filter *f = &p->filt[k];
  f->npos = 0;
  f->all = p->ncand[k] == 64 ? ~(uint64_t)0 : ((uint64_t)1 << p->ncand[k]) - 1;
  for (int i = 0; i < p->ncand[k]; i++) {
    const pkrw_flat *fl = &p->flat[p->cand[k][i]];
    for (int j = 0; j < fl->nconst; j++)
      if (fl->at[j] > 0 || k >= p->nheads) /* list k < nheads: every candidate's head constant is heads[k] */
        pkrw_filter_add(f, i, fl->at[j], fl->c[fl->at[j]]);
  }
  for (int q = 0; q < f->npos; q++) {
    pkrw_filter_slots(f, q);
    if (f->pos[q] >= p->filtmax) p->filtmax = f->pos[q] + 1;
  }
}

/* The candidates of filter f that the elements el of a flat input (n <
   0: none), padded with PKRW_FAIL (no constant) to the plan's filtmax,
   leave possible.  About 8 instructions a constant position, one slot
   looked at. */
static inline uint64_t pkrw_filter_live(const pkrw_filter *f, const pk_val *el, int n)
{
  uint64_t live = f->all;
  if (n < 0) return live;
  for (int q = 0; q < f->npos; q++) {
    pk_val v = el[f->pos[q]];
    const pkrw_fslot *e = &f->tab[q][(v >> f->shift[q]) % PKRW_FILTSLOTS];
    live &= ~f->need[q] | (e->val == v ? e->want : 0);
  }
  return live;
}

/* Fill the candidate lists (above) of p, and their filters.  Past
   PKRW_MAXHEADS distinct heads, the others share the list of "another
   pair". */
static void pkrw_index_heads(pkrw_plan *p)
{
  for (int c = 0; c < p->nclauses; c++)
    if (p->head[c] && !pkrw_head_known(p, p->head[c]) && p->nheads < PKRW_MAXHEADS) p->heads[p->nheads++] = p->head[c];
  for (int k = 0; k < p->nheads + 2; k++) {
    p->cand[k] = p->cands + 64 * k;
    p->ncand[k] = 0;
    for (int c = 0; c < p->nclauses; c++) {
      bool fits = k == p->nheads + 1 ? !p->pair[c]
                  : k == p->nheads   ? !p->pair[c] || !p->head[c] || !pkrw_head_known(p, p->head[c])
                                     : !p->pair[c] || !p->head[c] || p->head[c] == p->heads[k];
      if (fits) p->cand[k][p->ncand[k]++] = (uint8_t)c;
    }
    pkrw_filter_make(p, k);
  }
}

/* The plan of rel when it is a (lambda (a b) [(fresh (x ...)] (conde
   ((== ..) ...) ...) | (== ..) ...)) over patterns; else NULL. */
static pkrw_plan *pkrw_make_plan(pk_val rel)
{
  const pke_node *body = pkrw_body2(rel);
  if (!body) return NULL;
  pkrw_plan *p = pko_xcalloc(1, sizeof *p);
  p->nslots = 2;
  if (body->op == PKE_FRESH && !(body->flags & 2) && body->n == 1 && body->a + 2 <= PKRW_MAXSLOTS) {
    p->fresh = true;
    p->nslots = 2 + (int)body->a;
    body = body->kids[0];
  }
  bool ok = true;
  if (body->op == PKE_CONDE)
    for (int i = 0; ok && i < body->n; i++) ok = pkrw_add_clause(p, body->kids[i]);
  else if (body->op == PKE_FRESH && (body->flags & 2))
    ok = pkrw_add_clause(p, body);
  else
    ok = false;
  if (!ok) {
    free(p);
    return NULL;
  }
  p->pairs_only = true;
  for (int c = 0; c < p->nclauses; c++) p->pairs_only &= p->pair[c];
  pkrw_index_heads(p);
  return p;
}

/* Equal ground values: fixnums, symbols and () are equal only when
   identical, and so are two interned lists. */
static bool pkrw_same(pk_val x, pk_val y)
{
  if (x == y) return true;
  if (pko_fixnump(x) || pko_fixnump(y) || x == PK_NIL || y == PK_NIL || pko_symbolp(x) || pko_symbolp(y)) return false;
  if (pko_pairp(x) != pko_pairp(y)) return false;
  if (pko_pairp(x) && pkh_internedp(x) && pkh_internedp(y)) return false;
  return pko_equal(x, y);
}

/* Does constant c equal ground v?  A constant list (a pattern's tail, as
   (1) in `(mul ,x 1)) is compared element by element. */
static bool pkrw_same_const(pk_val c, pk_val v)
{
  for (; pko_pairp(c) && pko_pairp(v); c = pko_cdr(c), v = pko_cdr(v))
    if (!pkrw_same(pko_car(c), pko_car(v))) return false;
  return pkrw_same(c, v);
}

/* The value of pattern e under slots, or 0 when a variable in it is
   unbound.  Conses only for templates (the answer's new part). */
static pk_val pkrw_value(const pkrw_plan *p, const pke_node *e, const pk_val *slots)
{
  if (e->op == PKE_CONST) return e->v;
  if (e->op == PKE_CONS) {
    pk_val a = pkrw_value(p, e->x, slots), d = a ? pkrw_value(p, e->y, slots) : 0;
    return d ? pko_cons(a, d) : 0;
  }
  return slots[pkrw_var(p, e)];
}

/* Match pattern e against ground v, binding unbound slots. */
static bool pkrw_match(const pkrw_plan *p, const pke_node *e, pk_val v, pk_val *slots)
{
  if (e->op == PKE_CONST) return pkrw_same_const(e->v, v);
  if (e->op == PKE_CONS)
    return pko_pairp(v) && pkrw_match(p, e->x, pko_car(v), slots) && pkrw_match(p, e->y, pko_cdr(v), slots);
  int k = pkrw_var(p, e);
  if (!slots[k]) {
    slots[k] = v;
    return true;
  }
  return pkrw_same(slots[k], v);
}

/* The elements of list a into el (at most PKRW_FLATMAX): their number, or
   -1 when a is longer or improper. */
static int pkrw_elements(pk_val a, pk_val *el, int pad)
{
  int n = 0;
  for (; pko_pairp(a); a = pko_cdr(a)) {
    if (n == PKRW_FLATMAX) return -1;
    el[n++] = pko_car(a);
  }
  for (int i = n; i < pad; i++) el[i] = PKRW_FAIL;
  return a == PK_NIL ? n : -1;
}

/* Do the n elements el of the input have flat pattern f's length and
   constants?  About 4 instructions a constant. */
static inline bool pkrw_flat_consts(const pkrw_flat *f, const pk_val *el, int n)
{
  if (n != f->n) return false;
  for (int i = 0; i < f->nconst; i++)
    if (el[f->at[i]] != f->c[f->at[i]]) return false;
  return true;
}

/* Match the n elements el of the input against flat pattern f, binding
   unbound slots (all empty but slot 0 when called): the constants first
   (they decide most clauses, with nothing to undo), then the variables;
   on failure the slots are left empty again. */
static bool pkrw_flat_match(const pkrw_flat *f, const pk_val *el, int n, pk_val *slots)
{
  if (!pkrw_flat_consts(f, el, n)) return false;
  for (int i = 0; i < n; i++) {
    int k = f->slot[i];
    if (k < 0) continue;
    if (!slots[k]) {
      slots[k] = el[i];
    } else if (!pkrw_same(slots[k], el[i])) {
      for (int j = 0; j < n; j++)
        if (f->slot[j] > 0) slots[f->slot[j]] = 0; /* what it bound, so the slots stay empty */
      return false;
    }
  }
  return true;
}

/* Direct clause c's answer on the input's n elements el into *out, when
   the input has its length and constants. */
static inline bool pkrw_direct(const pkrw_plan *p, int c, const pk_val *el, int n, pk_val *out)
{
  if (!pkrw_flat_consts(&p->flat[c], el, n)) return false;
  *out = p->out[c] == PKRW_FLATMAX ? p->outc[c] : el[p->out[c]];
  return true;
}

/* pkrw_plan_run's clauses from candidate bits live of list k on, for
   input a (elements el[0..n)), matched slot by slot: as pkrw_plan_run. */
static __attribute__((noinline)) int pkrw_plan_clauses(const pkrw_plan *p, pk_val a, const pk_val *el, int n, int k,
                                                       uint64_t live, pk_val *out)
{
  pk_val slots[PKRW_MAXSLOTS];
  bool dirty = true; /* slots other than a failed flat match's may be bound */
  for (; live; live &= live - 1) {
    int c = p->cand[k][__builtin_ctzll(live)];
    if (p->out[c] >= 0) {
      if (pkrw_direct(p, c, el, n, out)) return 2;
      continue;
    }
    if (dirty) memset(slots, 0, (size_t)p->nslots * sizeof *slots);
    dirty = false;
    slots[0] = a;
    int g = 0;
    if (p->flat[c].n) {
      if (!pkrw_flat_match(&p->flat[c], el, n, slots)) continue;
      g = 1;
    }
    dirty = true;
    bool ok = true;
    for (; ok && g < p->ngoals[c]; g++) {
      const pke_node *l = p->clauses[c][g]->kids[0], *r = p->clauses[c][g]->kids[1];
      pk_val v = pkrw_value(p, l, slots);
      if (v)
        ok = pkrw_match(p, r, v, slots);
      else if ((v = pkrw_value(p, r, slots)))
        ok = pkrw_match(p, l, v, slots);
      else
        return -1;
    }
    if (ok) {
      if (!slots[1]) return -1;
      *out = slots[1];
      return 1;
    }
  }
  return 0;
}

/* REL's first answer at a by the plan: 1 with *out (not interned), 2 with
   *out canonical (a direct clause's), 0 when no clause holds, -1 when a
   goal has no ground side (the engine decides).  The clauses' goals are
   immediate, so conde's first answer is the first clause that holds.
   The direct clauses are tried here, the others by pkrw_plan_clauses. */
static inline int pkrw_plan_run(const pkrw_plan *p, pk_val a, pk_val *out)
{
  pk_val el[PKRW_FLATMAX];
  bool pair = pko_pairp(a);
  int n = pair ? pkrw_elements(a, el, p->filtmax) : -1, k = pair ? p->nheads : p->nheads + 1;
  for (int j = 0; pair && j < p->nheads; j++)
    if (p->heads[j] == pko_car(a)) k = j;
  for (uint64_t live = pkrw_filter_live(&p->filt[k], el, n); live; live &= live - 1) {
    int c = p->cand[k][__builtin_ctzll(live)];
    if (p->out[c] < 0) return pkrw_plan_clauses(p, a, el, n, k, live, out);
    if (pkrw_direct(p, c, el, n, out)) return 2;
  }
  return 0;
}

/* ---- REL's head guard ------------------------------------------------------------ */

/* rel's head guard (above), or one with test NULL. */
static pkrw_guard pkrw_make_guard(pk_val rel)
{
  pkrw_guard none = { 0 };
  const pke_node *pj = pkrw_body2(rel);
  if (!pj || pj->op != PKE_PROJECT || pj->n != 1) return none;
  const pke_node *ifn = pj->kids[0], *t;
  if (ifn->op != PKE_IF || !ifn->z || ifn->z->op != PKE_GREF || ifn->z->v != pko_sym("fail")) return none;
  t = ifn->x->op == PKE_AND && ifn->x->n > 0 ? ifn->x->kids[0] : ifn->x;
  if (t->op != PKE_CALL || t->n != 2 || t->x->op != PKE_GREF || t->x->v != pko_sym("head-may-be?")) return none;
  const pke_node *arg = t->kids[0], *heads = t->kids[1];
  if (!(pkrw_lref_depth(arg) == 0 && arg->b < pj->y->n && pkrw_local(pj->y->kids[arg->b], 0))) return none;
  if (heads->op != PKE_CONST && heads->op != PKE_GREF) return none;
  return (pkrw_guard){ t->x, heads, ifn->z };
}

/* Does the guard say REL has no answer at ground a?  Only while
   head-may-be? and fail are the builtins. */
static bool pkrw_guard_fails(const pkrw_guard *g, pk_val a)
{
  if (!g->test || pko_as_sym(g->test->v)->value != pkrw_builtins[0] ||
      pko_as_sym(g->fail->v)->value != pkrw_builtins[1])
    return false;
  pk_val heads = g->heads->op == PKE_CONST ? g->heads->v : pko_as_sym(g->heads->v)->value;
  return pkrw_head_may_be(a, heads) == 0;
}

/* ---- REL at one node ------------------------------------------------------------- */

/* Is s a reified variable's name, _.N? */
static bool pkrw_reified_sym(pk_val s)
{
  if (!pko_symbolp(s)) return false;
  const char *n = pko_symname(s);
  if (n[0] != '_' || n[1] != '.' || !n[2]) return false;
  for (n += 2; *n; n++)
    if (*n < '0' || *n > '9') return false;
  return true;
}

/* Push v on the value stack. */
static void pkrw_push_val(pkrw_ctx *c, pk_val v)
{
  pkrw_grow((void **)&c->vals, &c->capvals, c->nvals, 1, sizeof *c->vals);
  c->vals[c->nvals++] = v;
}

/* Does answer a (fresh from reification) hold a reified variable?  Interned
   parts (the input's subterms, returned as they are) are skipped, so the
   cost is the size of what REL built. */
static bool pkrw_has_var(pkrw_ctx *c, pk_val a)
{
  size_t base = c->nvals;
  bool found = false;
  pk_val t = a;
  for (;;) {
    if (pkrw_reified_sym(t)) {
      found = true;
      break;
    }
    if (pko_pairp(t) && !pkh_internedp(t)) {
      pkrw_push_val(c, pko_cdr(t));
      t = pko_car(t);
      continue;
    }
    if (c->nvals == base) break;
    t = c->vals[--c->nvals];
  }
  c->nvals = base;
  return found;
}

/* Set check_at, the step count at which pkrw_step next checks, from step
   count from on: every step in a program's search (its tick), else at the
   step limit and, with a deadline, at a multiple of 64 (a clock read per
   64 steps). */
static void pkrw_arm_from(pkrw_ctx *c, uint64_t from)
{
  uint64_t at = c->max_steps ? c->step0 + c->max_steps : UINT64_MAX, tick = (from + 63) & ~(uint64_t)63;
  if (c->deadline && tick < at) at = tick;
  c->check_at = c->state ? from : at;
}

static void pkrw_arm(pkrw_ctx *c) { pkrw_arm_from(c, c->st.steps); }

/* Throw past the step or time limit. */
static __attribute__((noinline)) void pkrw_check_limits(pkrw_ctx *c)
{
  if (c->state) pks_tick();
  if (c->max_steps && c->st.steps - c->step0 >= c->max_steps)
    pko_throw_at(PK_STATUS_RUNTIME, NULL, "step limit %llu reached (--max-steps)", (unsigned long long)c->max_steps);
  if (c->deadline && (c->st.steps & 63) == 0 && pko_now_ns() >= c->deadline) {
    c->timed_out = true;
    pko_throw_at(PK_STATUS_RUNTIME, NULL, "time limit reached (--timeout-per-model)");
  }
  pkrw_arm_from(c, c->st.steps + 1);
}

/* Count one REL application, checking the limits when due: one compare. */
static inline void pkrw_step(pkrw_ctx *c)
{
  if (c->st.steps >= c->check_at) pkrw_check_limits(c);
  c->st.steps++;
}

/* REL's first answer at node a, interned, or 0 when it has none.  One
   engine query: (run 1 (b) (REL a b)). */
static pk_val pkrw_rel(pkrw_ctx *c, pk_val a)
{
  if (c->decline) return 0;
  pkrw_step(c);
  pk_val fast;
  int k = c->plan ? pkrw_plan_run(c->plan, a, &fast) : -1;
  if (k == 0) return 0;
  if (k == 2) {
    c->st.fast++;
    c->st.rewrites++;
    return fast;
  }
  if (k < 0 && pkrw_guard_fails(&c->guard, a)) {
    c->st.guarded++;
    return 0;
  }
  if (k == 1 && (fast = pkh_intern(fast))) {
    c->st.fast++;
    c->st.rewrites++;
    return fast;
  }
  pk_val ans;
  if (c->state) {
    int got = pks_first_in(c->state, c->rel, a, &ans);
    if (got <= 0) {
      c->decline = got < 0;
      return 0;
    }
  } else {
    pk_val args[2] = { c->rel, a };
    pk_val r = pke_apply(pkrw_runner, 2, args);
    if (!pko_pairp(r)) return 0;
    ans = pko_car(r);
  }
  pk_val in = pkrw_has_var(c, ans) ? 0 : pkh_intern(ans);
  if (!in && c->state) {
    c->decline = true;
    return 0;
  }
  if (!in) {
    pkp_buf b;
    pkp_init(&b);
    pkp_print(&b, ans, PKP_WRITE);
    pkp_putc(&b, 0);
    pko_throw_at(PK_STATUS_RUNTIME, NULL, "the rewrite of a node is not a ground term: %.200s", b.s);
  }
  c->st.rewrites++;
  return in;
}

/* ---- one pass ---------------------------------------------------------------------- */

/* Is list id known to hold no redex: in this call's clean set or, in a
   task's context, in the clean set of the passes before?  (A task's own
   set is empty while its walk visits: a walk marks lists clean only when
   it rebuilds them, after its visits.) */
static bool pkrw_clean_id(const pkrw_ctx *c, uint32_t id)
{
  return pkrw_ids_has(c->shared_clean ? c->shared_clean : &c->clean, id);
}

/* Does REL fail on every atom, which the plan knows without a look? */
static inline bool pkrw_atoms_fail(const pkrw_ctx *c) { return c->plan && c->plan->pairs_only && !c->decline; }

/* The pass's result at atom t: REL's answer there, or PKRW_FAIL. */
static pk_val pkrw_atom(pkrw_ctx *c, pk_val t)
{
  if (pkrw_atoms_fail(c)) {
    pkrw_step(c); /* REL's query, which the plan answers without a look */
    return PKRW_FAIL;
  }
  pk_val r = pkrw_tab_get(&c->atoms, t);
  if (!r) {
    r = pkrw_rel(c, t);
    if (!r) r = PKRW_FAIL;
    pkrw_tab_put(&c->atoms, t, r);
    return r;
  }
  pkrw_step(c); /* a step as if queried: the count is the model's alone */
  if (r != PKRW_FAIL) c->st.rewrites++;
  return r;
}

/* The waiting list pending value v stands for. */
static pkrw_pending *pkrw_pending_of(const pkrw_ctx *c, pk_val v) { return &c->pend[(v >> 4) - PKRW_PEND0]; }

/* What v stands for: itself, or the list a resolved pending value became. */
static pk_val pkrw_resolved(const pkrw_ctx *c, pk_val v) { return pkrw_pendp(v) ? pkrw_pending_of(c, v)->result : v; }

/* Intern the oldest waiting list, its waiting items replaced by theirs
   (older, so resolved). */
static void pkrw_resolve_one(pkrw_ctx *c)
{
  pkrw_pending *e = &c->pend[c->nresolved++];
  pk_val *it = c->pitems + e->items;
  for (uint32_t k = 0; k < e->n; k++) it[k] = pkrw_resolved(c, it[k]);
  e->result = pkh_list_at(it, e->n, e->h);
}

/* pkh_hash of item x of a rebuilt list: a waiting list's (its pending
   entry), a list node's (its header), an atom's (the cache, else pkh_hash). */
static inline uint32_t pkrw_item_hash(pkrw_ctx *c, pk_val x)
{
  if (pko_pairp(x)) return pkh_node_of(x)->hash;
  if (pkrw_pendp(x)) return pkrw_pending_of(c, x)->h;
  size_t i = (x >> 4) & 63;
  if (c->hkey[i] != x) {
    c->hval[i] = pkh_hash(x);
    c->hkey[i] = x;
  }
  return c->hval[i];
}

/* The proper list of items[0..n) (their hashes hs[0..n)), interned a
   few lists later: its table slot is asked for now (pkh_prefetch) and is
   there when it is interned, so the probe's cache miss overlaps the walk
   (as the model reader's ring does).  What stands for it meanwhile is a
   pending value, which pkrw_walk_pass resolves before it returns.  A
   list of over 64 items is interned at once, its pending items replaced
   in place in items (the caller's, on the value stack, which must not
   move meanwhile). */
static pk_val pkrw_defer_intern(pkrw_ctx *c, pk_val *items, const uint32_t *hs, size_t n)
{
  if (n > 64) { /* a long list: at once, its waiting items resolved in place */
    for (size_t k = 0; k < n; k++) {
      while (pkrw_pendp(items[k]) && pkrw_pending_of(c, items[k]) >= c->pend + c->nresolved) pkrw_resolve_one(c);
      items[k] = pkrw_resolved(c, items[k]);
    }
    return pkh_list(items, n, PK_NIL);
  }
  uint32_t h = pkh_list_hash(hs, n);
  pkh_prefetch(h);
  pkrw_grow((void **)&c->pitems, &c->cappitems, c->npitems, n, sizeof *c->pitems);
  memcpy(c->pitems + c->npitems, items, n * sizeof *items);
  pkrw_grow((void **)&c->pend, &c->cappend, c->npend, 1, sizeof *c->pend);
  c->pend[c->npend] = (pkrw_pending){ h, (uint32_t)n, c->npitems, 0 };
  c->npitems += n;
  pk_val r = pkrw_pend(c->npend++);
  if (c->npend - c->nresolved > PKRW_RING) pkrw_resolve_one(c);
  return r;
}

/* Entry for element x of a list being opened, or for the walk's root:
   an atom's result at once, a list's visit later. */
static void pkrw_ent_add(pkrw_ctx *c, pk_val x)
{
  pkrw_grow((void **)&c->ent, &c->capent, c->nent, 1, sizeof *c->ent);
  pkrw_ent *e = &c->ent[c->nent++];
  if (pko_pairp(x)) {
    *e = (pkrw_ent){ .node = x, .mark = PKRW_MET };
    const char *p = (const char *)pkh_node_of(x); /* its visit comes soon, and reads its block */
    __builtin_prefetch(p);
    __builtin_prefetch(p + 63);
  } else
    *e = (pkrw_ent){ .node = x, .res = pkrw_atom(c, x), .mark = PKRW_DONE };
}

/* A task for list t, whose result entry i waits for. */
static void pkrw_new_task(pkrw_ctx *c, pk_val t, size_t i)
{
  pkrw_grow((void **)&c->tasks, &c->captasks, c->ntasks, 1, sizeof *c->tasks);
  c->tasks[c->ntasks] = (pkrw_task){ .node = t, .ent = i };
  c->ent[i].mark = PKRW_TASK;
  c->ent[i].kid = (uint32_t)c->ntasks++;
}

/* Visit list entry i: known clean, the same list as an entry before it,
   a task (when task), REL's answer there, or opened (its elements'
   entries added). */
static void pkrw_ent_visit(pkrw_ctx *c, size_t i, bool task)
{
  pk_val t = c->ent[i].node, r;
  uint32_t id = pkh_node_of(t)->id;
  c->ent[i].hash = pkh_node_of(t)->hash;
  if (pkrw_clean_id(c, id))
    r = PKRW_FAIL;
  else if ((r = pkrw_tab_claim(&c->pass, t, (pk_val)i + 1))) {
    c->ent[i].mark = PKRW_SAME;
    c->ent[i].kid = (uint32_t)(r - 1);
    return;
  } else if (task) {
    pkrw_new_task(c, t, i);
    return;
  } else
    r = pkrw_rel(c, t);
  if (r) {
    if (pko_pairp(r)) __builtin_prefetch(pkh_node_of(r)); /* its hash, when its user is rebuilt */
    c->ent[i].res = r;
    c->ent[i].mark = PKRW_DONE;
    return;
  }
  size_t kid = c->nent;
  pk_val l = t;
  for (; pko_pairp(l); l = pko_cdr(l)) pkrw_ent_add(c, pko_car(l));
  pkrw_ent *e = &c->ent[i];
  e->mark = PKRW_OPEN;
  e->kid = (uint32_t)kid;
  e->n = (uint32_t)(c->nent - kid);
  e->id = id;
  e->proper = l == PK_NIL;
}

/* Take the result at x, an element of the list being rebuilt, whose
   entry (x's, or the first of x's list) is y: onto vals, with its hash;
   true when it rewrote. */
static inline bool pkrw_ent_take(pkrw_ctx *c, const pkrw_ent *x, const pkrw_ent *y)
{
  pk_val r = y->res;
  pkrw_grow((void **)&c->vals, &c->capvals, c->nvals, 1, sizeof *c->vals);
  pkrw_grow((void **)&c->hvals, &c->caphvals, c->nvals, 1, sizeof *c->hvals);
  bool rewrote = r != PKRW_FAIL;
  c->hvals[c->nvals] = rewrote ? pkrw_item_hash(c, r) : pko_pairp(x->node) ? x->hash : pkrw_item_hash(c, x->node);
  c->vals[c->nvals++] = rewrote ? r : x->node;
  return rewrote;
}

/* Rebuild open entry e from the results taken (pkrw_up u): the new list
   (interned a few lists later) or PKRW_FAIL, which marks the list clean. */
static void pkrw_ent_rebuild(pkrw_ctx *c, pkrw_ent *e, const pkrw_up *u)
{
  pk_val r = u->changed && e->proper ? pkrw_defer_intern(c, c->vals + u->base, c->hvals + u->base, e->n) : PKRW_FAIL;
  if (r == PKRW_FAIL) pkrw_ids_add(&c->clean, e->id);
  c->nvals = u->base;
  e->res = r;
  e->mark = PKRW_DONE;
}

/* The entry where entry j's list was first met: j's own, or the one it
   is the same as. */
static inline uint32_t pkrw_ent_first(const pkrw_ctx *c, uint32_t j)
{
  return c->ent[j].mark == PKRW_SAME ? c->ent[j].kid : j;
}

/* Entry 0's result, the open entries rebuilt elements first, as a walk
   depth first would: by the lists' graph, since an entry met again may
   be used by a list rebuilt before the entry's first user. */
static pk_val pkrw_ent_finish(pkrw_ctx *c)
{
  size_t n = 0;
  if (c->ent[0].mark != PKRW_OPEN) return c->ent[0].res;
  pkrw_grow((void **)&c->up, &c->capup, 0, 1, sizeof *c->up);
  c->up[n++] = (pkrw_up){ 0, (uint32_t)c->nvals, false };
  while (n) {
    pkrw_up *u = &c->up[n - 1];
    pkrw_ent *e = &c->ent[u->ent];
    uint32_t t = 0;
    for (; e->scan < e->n; e->scan++) {
      uint32_t j = e->kid + e->scan;
      if (c->ent[t = pkrw_ent_first(c, j)].mark == PKRW_OPEN) break;
      u->changed |= pkrw_ent_take(c, &c->ent[j], &c->ent[t]);
    }
    if (e->scan == e->n) {
      pkrw_ent_rebuild(c, e, u);
      n--;
      continue;
    }
    pkrw_grow((void **)&c->up, &c->capup, n, 1, sizeof *c->up);
    c->up[n++] = (pkrw_up){ t, (uint32_t)c->nvals, false };
  }
  return c->ent[0].res;
}

static void pkrw_run_tasks(pkrw_ctx *c);

/* walko's first answer on t for one pass: the new term, or 0 when REL
   fired nowhere in t.  Breadth first: the lists it visits are known a
   while before their visit and asked for when met (pkrw_ent_add), where a
   walk depth first waits at each visit for the list it has just read.
   Which lists are visited, and REL's query at each, is the same either
   way: one query per list per pass, and none below an answer.  A split
   pass (c->splitting) leaves the lists split_depth deep to tasks, run
   (pkrw_run_tasks) before the lists above them are finished. */
static pk_val pkrw_walk_pass(pkrw_ctx *c, pk_val t)
{
  size_t level_end = 1;
  int depth = 0, split = c->splitting ? c->split_depth : -1;
  pko_assert(!c->shared_clean || !c->clean.n); /* pkrw_clean_id asks only the passes before */
  c->nent = c->ntasks = c->npend = c->nresolved = c->npitems = 0;
  pkrw_ent_add(c, t);
  for (size_t i = 0; i < c->nent; i++) {
    if (i == level_end) {
      depth++;
      level_end = c->nent;
    }
    if (c->ent[i].mark == PKRW_MET) pkrw_ent_visit(c, i, depth == split);
  }
  if (c->ntasks) pkrw_run_tasks(c);
  pk_val r = pkrw_ent_finish(c);
  while (c->nresolved < c->npend) pkrw_resolve_one(c);
  return r == PKRW_FAIL ? 0 : pkrw_resolved(c, r);
}

/* Forget REL's results at atoms if a scope has ended since they were
   found (pkh_epoch): a result may be one of its lists.  One load. */
static void pkrw_atoms_fresh(pkrw_ctx *c)
{
  uint64_t e = pkh_epoch();
  if (e == c->atoms_epoch) return;
  pkrw_tab_clear(&c->atoms);
  c->atoms_epoch = e;
}

/* ---- split passes ---------------------------------------------------------------- */

/* This thread's context for c's tasks, made at its first one. */
static pkrw_ctx *pkrw_sub(pkrw_ctx *c)
{
  static _Thread_local uint64_t serial;
  static _Thread_local pkrw_ctx *sub;
  if (serial == c->serial) return sub;
  pkrw_ctx *x = pkrw_new(c->rel, c->walker);
  x->split_nodes = 0;
  x->shared_clean = &c->clean;
  x->clean.logged = x->found.logged = true;
  pthread_mutex_lock(&c->sub_lock);
  x->next_sub = c->subs;
  c->subs = x;
  pthread_mutex_unlock(&c->sub_lock);
  serial = c->serial;
  sub = x;
  return x;
}

/* Task k's walk on context x under a catch: its result, or its error. */
__attribute__((noinline)) static void pkrw_task_walk(pkrw_ctx *x, pkrw_task *k)
{
  pko_catch h;
  if (PKO_TRY(h)) {
    pk_val r = pkrw_walk_pass(x, k->node);
    k->result = r ? r : PKRW_FAIL;
    PKO_END(h);
    return;
  }
  k->status = pko_err.status;
  k->timed_out = x->timed_out;
  k->steps_out = x->max_steps && x->st.steps - x->step0 >= x->max_steps;
  k->msg = pko_xmalloc(strlen(pko_err.msg) + 1);
  strcpy(k->msg, pko_err.msg);
}

void pkrw_run_task(pkrw_ctx *c, size_t i)
{
  pkrw_ctx *x = pkrw_sub(c);
  x->nvals = 0;
  x->step0 = x->st.steps;
  pkrw_limit(x, c->task_budget, c->deadline);
  pkrw_tab_clear(&x->pass);
  pkrw_atoms_fresh(x);
  if (pkrw_others != c->others) pkrw_set_others(c->others);
  pkrw_task_walk(x, &c->tasks[i]);
  pkrw_ids_move(&x->found, &x->clean); /* the next task sees only the passes before, as on any thread */
}

/* Add what the task contexts did to c: their counts and the lists they
   found clean, each context emptied. */
static void pkrw_merge_subs(pkrw_ctx *c)
{
  for (pkrw_ctx *x = c->subs; x; x = x->next_sub) {
    c->st.rewrites += x->st.rewrites;
    c->st.steps += x->st.steps;
    c->st.fast += x->st.fast;
    c->st.guarded += x->st.guarded;
    x->st = (pkrw_stats){ 0 };
    pkrw_ids_move(&c->clean, &x->found);
  }
}

/* Throw the first failed task's error (the tasks' order, so the same
   error whichever threads ran them), or the step limit when the tasks
   together went past it. */
static void pkrw_task_errors(pkrw_ctx *c)
{
  size_t bad = c->ntasks;
  for (size_t i = c->ntasks; i-- > 0;)
    if (c->tasks[i].status) bad = i;
  bool steps_out = bad < c->ntasks && c->tasks[bad].steps_out;
  if (bad < c->ntasks && !steps_out) {
    pko_err.status = c->tasks[bad].status;
    snprintf(pko_err.msg, sizeof pko_err.msg, "%s", c->tasks[bad].msg);
    c->timed_out = c->tasks[bad].timed_out;
  }
  for (size_t i = 0; i < c->ntasks; i++) free(c->tasks[i].msg);
  if (bad < c->ntasks && !steps_out) pko_rethrow();
  if (steps_out || (c->max_steps && c->st.steps - c->step0 > c->max_steps))
    pko_throw_at(PK_STATUS_RUNTIME, NULL, "step limit %llu reached (--max-steps)", (unsigned long long)c->max_steps);
}

/* Run the pass's tasks, by the caller's runner or here in order. */
static void pkrw_run_tasks(pkrw_ctx *c)
{
  uint64_t used = c->st.steps - c->step0;
  c->task_budget = c->max_steps ? (used < c->max_steps ? c->max_steps - used : 1) : 0;
  if (c->run_tasks)
    c->run_tasks(c->tasks_env, c, c->ntasks);
  else
    for (size_t i = 0; i < c->ntasks; i++) pkrw_run_task(c, i);
  pkrw_merge_subs(c);
  pkrw_task_errors(c);
  for (size_t i = 0; i < c->ntasks; i++) {
    pkrw_ent *e = &c->ent[c->tasks[i].ent];
    e->res = c->tasks[i].result;
    e->mark = PKRW_DONE;
  }
}

/* ---- passes to the fixed point -------------------------------------------------------- */

/* (observed v (op . xs)): its three parts, or false for any other term. */
static bool pkrw_observed(pk_val t, pk_val *v, pk_val *app)
{
  if (!pko_pairp(t) || pko_car(t) != pkrw_sym_observed) return false;
  pk_val r = pko_cdr(t);
  if (!pko_pairp(r) || !pko_pairp(pko_cdr(r)) || pko_cdr(pko_cdr(r)) != PK_NIL) return false;
  *v = pko_car(r);
  *app = pko_car(pko_cdr(r));
  return pko_pairp(*app);
}

/* The interned list of head (unless 0) and the elements of l, whose parts
   are interned (the elements of an interned list are): the table's
   lookup, without pkh_intern's check of each part. */
static pk_val pkrw_relist(pkrw_ctx *c, pk_val head, pk_val l)
{
  size_t base = c->nvals;
  if (head) pkrw_push_val(c, head);
  for (; pko_pairp(l); l = pko_cdr(l)) pkrw_push_val(c, pko_car(l));
  pk_val r = pkh_list(c->vals + base, c->nvals - base, l);
  c->nvals = base;
  return r;
}

/* One pass of the context's walker on t: the new term or 0. */
static pk_val pkrw_one_pass(pkrw_ctx *c, pk_val t)
{
  c->st.passes++;
  pkrw_tab_clear(&c->pass);
  if (c->walker == PKRW_WALKO) return pkrw_walk_pass(c, t);
  pk_val v, app;
  if (!pkrw_observed(t, &v, &app)) return 0;
  pk_val ys = pkrw_walk_pass(c, pkrw_relist(c, 0, pko_cdr(app)));
  if (!ys) return 0;
  pk_val parts[3] = { pkrw_sym_observed, v, pkrw_relist(c, pko_car(app), ys) };
  return pkh_list(parts, 3, PK_NIL);
}

/* The distinct lists in the terms of list ts, counting stops at cap. */
static size_t pkrw_count_upto(pkrw_ids *seen, pk_val ts, size_t cap)
{
  size_t capst = 256, n = 0;
  pk_val *stack = pko_xmalloc(capst * sizeof *stack);
  pkrw_ids_clear(seen);
  for (pk_val l = ts; pko_pairp(l) && seen->n < cap; l = pko_cdr(l)) {
    stack[n++] = pko_car(l);
    while (n && seen->n < cap) {
      pk_val t = stack[--n];
      if (!pko_pairp(t)) continue;
      pko_assert(pkh_internedp(t));
      if (!pkrw_ids_add(seen, pkh_node_of(t)->id)) continue;
      for (pk_val e = t; pko_pairp(e); e = pko_cdr(e)) {
        if (n == capst) stack = pko_xrealloc(stack, (capst *= 2) * sizeof *stack);
        stack[n++] = pko_car(e);
      }
    }
    n = 0;
  }
  free(stack);
  return seen->n;
}

/* Is t large enough for split passes?  The model's node count, when
   the caller gave it, answers without a count: below the threshold for
   every output, and t's own when the model has one output. */
static bool pkrw_large(pkrw_ctx *c, pk_val t)
{
  if (!c->split_nodes || c->state || !pko_pairp(t)) return false;
  size_t known = c->known_nodes;
  if (known && (known < c->split_nodes || c->one_output)) return known >= c->split_nodes;
  return pkrw_count_upto(&c->count, pko_cons(t, PK_NIL), c->split_nodes) >= c->split_nodes;
}

/* Passes from t until one fails: the last result, or 0. */
static pk_val pkrw_fix(pkrw_ctx *c, pk_val t)
{
  c->splitting = pkrw_large(c, t);
  pk_val r = pkrw_one_pass(c, t);
  if (!r) return 0;
  for (pk_val n; (n = pkrw_one_pass(c, r));) r = n;
  return r;
}

/* Start a call: empty stacks (a throw may have left frames), limits from
   now. */
static void pkrw_start(pkrw_ctx *c)
{
  c->nvals = 0;
  c->others = PK_NIL;
  pkrw_set_others(PK_NIL); /* a throw may have left some */
  pkrw_ids_clear(&c->clean);
  pkrw_atoms_fresh(c);
  c->step0 = c->st.steps;
  c->timed_out = false;
  pkrw_arm(c);
}

pk_val pkrw_term(pkrw_ctx *c, pk_val t)
{
  pkrw_start(c);
  c->known_nodes = 0;
  return pkrw_fix(c, t);
}

/* outs without its i-th element. */
static pk_val pkrw_without(pk_val outs, size_t i)
{
  pk_val r = PK_NIL;
  size_t k = 0;
  for (pk_val o = outs; pko_pairp(o); o = pko_cdr(o), k++)
    if (k != i) r = pko_cons(pko_car(o), r);
  return pko_reverse(r);
}

void pkrw_model_nodes(pkrw_ctx *c, size_t nodes) { c->model_nodes = nodes; }

pk_val pkrw_model(pkrw_ctx *c, pk_val m, bool *changed)
{
  size_t hint = c->model_nodes;
  c->model_nodes = 0; /* this call's only */
  pkrw_start(c);
  pk_val outs = PK_NIL, all = pkg_outputs(m), others = PK_NIL;
  bool several = pko_pairp(all) && pko_pairp(pko_cdr(all));
  c->one_output = !several;
  c->known_nodes = hint;
  *changed = false;
  size_t i = 0;
  for (pk_val o = all; pko_pairp(o); o = pko_cdr(o), i++) {
    if (several) { /* REL may look at the other outputs: what it gave is not a function of the node alone */
      c->others = others = pkrw_without(all, i);
      pkrw_set_others(others);
      pkrw_ids_clear(&c->clean);
      pkrw_tab_clear(&c->atoms);
      for (pkrw_ctx *x = c->subs; x; x = x->next_sub) pkrw_tab_clear(&x->atoms);
    }
    pk_val r = pkrw_fix(c, pko_car(o));
    c->others = PK_NIL;
    pkrw_set_others(PK_NIL);
    if (r) *changed = true;
    outs = pko_cons(r ? r : pko_car(o), outs);
  }
  if (!*changed) return m;
  pk_val items = PK_NIL;
  for (pk_val x = m; pko_pairp(x); x = pko_cdr(x))
    items = pko_cons(pko_cdr(x) == PK_NIL ? pko_cons(pko_car(pko_car(x)), pko_reverse(outs)) : pko_car(x), items);
  return pkh_intern(pko_reverse(items));
}

size_t pkrw_count_nodes(pk_val ts)
{
  pkrw_ids seen;
  pkrw_ids_init(&seen);
  size_t n = pkrw_count_upto(&seen, ts, SIZE_MAX);
  pkrw_ids_free(&seen);
  return n;
}
