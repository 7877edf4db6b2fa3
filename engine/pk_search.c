/*
** pk_search.c — miniKanren: states, unification, constraints, goals, the
** interleaving stream machine, and reification.
**
** Semantics follow faster-miniKanren (commit a25c702) step for step, so one
** worker prints its answers in its order: the same suspension points, the
** same mplus/bind interleaving, the same constraint store and reification.
** The differences are representation only:
**   - a variable is a cell (id, scope, value); its id comes from the
**     state's own counter (creation order along the branch), not a global
**     counter;
**   - substitutions and constraint stores are persistent CHAMP maps; as in
**     faster-miniKanren, a variable made since the last disjunction is bound
**     in its cell (set-var-val!), which only its own branch can see, so
**     branches move between threads freely;
**   - forcing a suspended stream runs an explicit frame stack instead of
**     nested Scheme closures, so deep bind/mplus nesting costs heap, not C
**     stack.
*/
#include "pk_search.h"
#include "pk_builtin.h"
#include "pk_eval.h"
#include "pk_future.h"
#include "pk_map.h"
#include "pk_num.h"
#include "pk_print.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- objects --------------------------------------------------------------- */

/* Stream objects are PK_T_OPAQUE; aux says which (PKS_K_MEMO is
   pk_future.c's). */
enum {
  K_STATE = 1,
  K_CHOICE,
  K_CREC,
  K_IFTE,
  K_QUERY,
  K_KI = PKS_K_MEMO + 1,
  TK_GOAL = 16,
  TK_CONDE_REST,
  TK_MPLUS,
  TK_BIND,
  TK_NIL2,
  TK_NIL1,
  TK_IFTE,
  TK_KI,
  TK_DROP1,
  TK_APPLY
};

/* Goal kinds (aux of PK_T_GOAL objects). */
enum {
  G_UNIFY = 1,
  G_DISEQ,
  G_ABSENTO,
  G_TYPE,
  G_SUCCEED,
  G_FAIL,
  G_NODE,
  G_REIFY,
  G_ONCE,
  G_RUN_OUTER,
  G_RUN_INNER,
  G_FOREIGN,
  G_FIRST
};

/* Type-constraint tags, in faster-miniKanren's order num, str, sym. */
enum { T_NONE = 0, T_NUM, T_STR, T_SYM };

typedef struct pks_state {
  pko_hdr h;
  pkm_map S;      /* substitution: var id -> term (bindings not made in place) */
  pkm_map C;      /* constraint store: var id -> pks_crec */
  uint64_t nv;    /* next variable id along this branch */
  uint64_t scope; /* renewed at every disjunction; variables made in the
                     current scope are bound in place (never 0) */
} pks_state;

typedef struct pks_crec {
  pko_hdr h; /* aux: type tag T_* */
  pk_val D;  /* list of disequalities, each a list of (var . term) */
  pk_val A;  /* list of absento terms */
} pks_crec;

/* A goal: 32 bytes.  G_NODE and G_RUN_*: a = node, b = env (c = the
   answer variable of G_RUN_INNER); G_FOREIGN: a = arguments, b = function,
   c = its data; G_FIRST: a = arguments, b = function, c = the slow goal;
   the rest: the goal's terms. */
typedef struct pks_goal {
  pko_hdr h;
  pk_val a, b, c;
} pks_goal;

#define PKS_NODE(g) ((const pke_node *)(g)->a)
#define PKS_ENV(g) ((pke_env *)(g)->b)

typedef struct pks_choice {
  pko_hdr h;
  pk_val a, f;
} pks_choice;

/* A conda/condu/onceo in progress: the clause being asked and its goals. */
typedef struct pks_ifte {
  pko_hdr h;
  const pks_goal *g; /* the conda/condu/once goal */
  pks_state *st;     /* the state the question started from */
  int64_t i;         /* clause index */
  pk_val *goals;     /* evaluated goals of clause i */
  int ngoals;
} pks_ifte;

struct pks_query {
  pko_hdr h;
  pk_val next;  /* thunk of the rest of the stream, or PK_FALSE */
  int64_t left; /* answers still wanted; < 0: all */
  void *par;    /* the parallel search, when workers run this query */
  void *spec;   /* the workers forcing ahead of this (ordered) query */
};

static _Thread_local uint64_t pks_nunify;
/* Variable counter in force while goal expressions are evaluated, so a
   nested run (through project) numbers its variables above the outer
   branch's. */
static _Thread_local uint64_t pks_floor;
/* Inside pks_first_in: variables numbered below pks_outer are the
   caller's, and pks_touched records that the search bound or constrained
   one (0 outside, so the test in pks_unify never holds). */
static _Thread_local uint64_t pks_outer;
static _Thread_local bool pks_touched;
static pk_val pks_sym_num, pks_sym_str, pks_sym_sym, pks_sym_diseq, pks_sym_absento;

uint64_t pks_unify_count(void) { return pks_nunify; }

/* Stream objects keep their kind in aux's low 7 bits; bit 7 marks a thunk
   other threads may reach (ordered speculation); TK_CONDE_REST keeps its
   clause index above bit 8.  Only pks_step looks at thunk kinds, so
   pks_kind need not mask them off: states, choices and the rest never
   have the high bits, and any thunk's aux is >= TK_GOAL. */
static inline unsigned pks_kind(pk_val s) { return ((pko_hdr *)s)->aux; }
static inline bool pks_thunkp(pk_val s) { return pks_kind(s) >= TK_GOAL; }

/* A state like from (same scope) with the given maps and counter. */
static pks_state *pks_mkstate(const pks_state *from, pkm_map S, pkm_map C, uint64_t nv)
{
  pks_state *s = (pks_state *)pks_opaque(K_STATE, sizeof *s);
  s->S = S;
  s->C = C;
  s->nv = nv;
  s->scope = from->scope;
  return s;
}

/* The state and map nodes this thread made last in one scope, which it
   may change in place (set-var-val!'s argument, for whole states and map
   nodes): between two disjunctions a branch is a chain of states, each
   used once, by the goal that makes the next one (the states that are
   used again, by conde's later clauses and conda's next question, are
   pks_rescope's, which start a scope and are never made here).  So a
   state or node made in the scope of the state a goal starts from belongs
   to that goal's branch alone: no other branch can reach it, and once the
   branch forks its descendants are in other scopes.  Not scanned by the
   collector, and need not be: st and own are only compared with the live
   state and map a goal was given, and memory the collector reuses for a
   new object of the same scope is again that object's branch's alone. */
typedef struct pks_txn {
  uint64_t scope;
  pks_state *st;
  pkm_owned own;
} pks_txn;
static _Thread_local pks_txn pks_tx;

/* Before a goal changes st: what this thread made in another scope is no
   longer its own.  One compare. */
static inline void pks_tx_enter(const pks_state *st)
{
  if (st->scope == pks_tx.scope) return;
  pks_tx.scope = st->scope;
  pks_tx.st = NULL;
  pkm_owned_init(&pks_tx.own);
}

/* from with the given maps: from itself changed in place when this thread
   made it in this scope, else a new state. */
static pks_state *pks_txstate(pks_state *from, pkm_map S, pkm_map C)
{
  if (from != pks_tx.st) return pks_tx.st = pks_mkstate(from, S, C, from->nv);
  pko_assert(from->scope == pks_tx.scope); /* made by this thread in this scope */
  from->S = S;
  from->C = C;
  return from;
}

/* st's constraint map with x's record set to c, in st's scope. */
static pkm_map pks_cset(const pks_state *st, pk_val x, pk_val c)
{
  if (__builtin_expect(pko_varid(x) < pks_outer, 0)) pks_touched = true;
  return pkm_set_owned(st->C, pko_varid(x), c, &pks_tx.own);
}

/* A scope no other state has: per-thread blocks of a global counter, so
   there is no shared write per disjunction. */
static uint64_t pks_new_scope(void)
{
  static _Atomic uint64_t next_block = 1;
  static _Thread_local uint64_t next, end;
  if (next == end) {
    next = atomic_fetch_add(&next_block, 1) << 32;
    end = next + ((uint64_t)1 << 32);
  }
  return next++;
}

/* st in a new scope: at a disjunction, so that no variable made before it
   is bound in place afterwards. */
static pks_state *pks_rescope(const pks_state *st)
{
  pks_state *s = pks_mkstate(st, st->S, st->C, st->nv);
  s->scope = pks_new_scope();
  return s;
}

/* A fresh variable of st's scope. */
static pk_val pks_newvar(uint64_t id, uint64_t scope)
{
  pko_var *c = pko_alloc(sizeof *c);
  c->val = PK_UNBOUND;
  c->id = id;
  c->scope = scope;
  return (pk_val)c | PK_TAG_VAR;
}

/* A suspended stream: 32 bytes. */
static inline __attribute__((always_inline)) pk_val pks_mkthunk(unsigned kind, pk_val x, pk_val y)
{
  pks_thunk *t = (pks_thunk *)pks_opaque(kind, sizeof *t);
  t->x = x;
  t->y = y;
  atomic_init(&t->memo, 0);
  return (pk_val)t;
}

/* The rest of conde g's clauses from clause i on, from state st. */
static pk_val pks_conde_rest(pk_val g, pk_val st, int64_t i)
{
  pk_val t = pks_mkthunk(TK_CONDE_REST, g, st);
  ((pko_hdr *)t)->aux |= (uint32_t)i << 8;
  return t;
}

/* (lambda () (lambda () #f)) after each answer, and its inner thunk:
   constants, shared by all answers. */
pks_thunk pks_nil2 __attribute__((aligned(16))) = { { PK_T_OPAQUE, TK_NIL2 }, 0, 0, 0 };
pks_thunk pks_nil1 __attribute__((aligned(16))) = { { PK_T_OPAQUE, TK_NIL1 }, 0, 0, 0 };

/* Thunk t was just forced.  A stream is forced once, so unless other
   threads may reach t (ordered speculation shares some) or it is static,
   nothing references it any more: its memory goes straight back to this
   thread's free list.  A third of the bytes a search allocates are
   thunks; reusing them at once cuts the collector's lock traffic (one lock
   per 4 KB block handed out) by a third: 480K to 300K refills on
   qs-thrines-565. */
static inline void pks_consumed(pk_val t)
{
  pko_assert(pks_thunkp(t));
  if (!pks_shared(t) && !pks_constp(t)) pko_free_owned((void *)t, sizeof(pks_thunk));
}

static pk_val pks_choice_new(pk_val a, pk_val f)
{
  pks_choice *c = (pks_choice *)pks_opaque(K_CHOICE, sizeof *c);
  c->a = a;
  c->f = f;
  return (pk_val)c;
}

static pks_goal *pks_mkgoal(unsigned kind, pk_val a, pk_val b)
{
  pks_goal *g = (pks_goal *)pko_obj(PK_T_GOAL, sizeof *g);
  g->h.aux = kind;
  g->a = a;
  g->b = b;
  return g;
}

bool pks_goalp(pk_val v) { return pko_isa(v, PK_T_GOAL); }

pk_val pks_node_goal(const pke_node *node, pke_env *env)
{
  return (pk_val)pks_mkgoal(G_NODE, (pk_val)node, (pk_val)env);
}

/* ---- walking ------------------------------------------------------------------ */

/* Follow variable bindings: the cell first, then the map. */
static inline pk_val pks_walk(pk_val u, pkm_map S)
{
  while (pko_varp(u)) {
    const pko_var *c = pko_cell(u);
    pk_val v = c->val;
    if (v == PK_UNBOUND) {
      v = pkm_get(S, c->id);
      if (v == PK_UNBOUND) return u;
    }
    u = v;
  }
  return u;
}

/* A growable stack of values on the C stack first, then the collected heap
   (so the collector sees what it holds). */
typedef struct pks_vstack {
  pk_val *v;
  size_t n, cap;
  pk_val local[64];
} pks_vstack;

static void pks_vinit(pks_vstack *s)
{
  s->v = s->local;
  s->n = 0;
  s->cap = 64;
}

static void pks_vpush(pks_vstack *s, pk_val x)
{
  if (s->n == s->cap) {
    pk_val *nv = pko_alloc(2 * s->cap * sizeof *nv);
    memcpy(nv, s->v, s->n * sizeof *nv);
    s->v = nv;
    s->cap *= 2;
  }
  s->v[s->n++] = x;
}

/* walk*: the term with every bound variable replaced, iteratively.  Ground
   subterms are returned as they are (no copy), and unchanged pairs are
   reused. */
static pk_val pks_walkstar(pk_val t, pkm_map S)
{
  t = pks_walk(t, S);
  if (pko_groundp(t) || pko_varp(t)) return t;
  /* Post-order over pairs: frames are (pair, car-result-or-0). */
  pks_vstack st;
  pks_vinit(&st);
  pk_val result = 0;
  pks_vpush(&st, t);
  pks_vpush(&st, 0);
  pks_vpush(&st, 0); /* state: 0 = car pending, 1 = cdr pending */
  while (st.n) {
    size_t top = st.n - 3;
    pk_val p = st.v[top], phase = st.v[top + 2];
    if (result == 0) {
      pk_val sub = pks_walk(phase == 0 ? pko_car(p) : pko_cdr(p), S);
      if (pko_pairp(sub) && !pko_groundp(sub)) {
        pks_vpush(&st, sub);
        pks_vpush(&st, 0);
        pks_vpush(&st, 0);
        continue;
      }
      result = sub;
    }
    if (phase == 0) {
      st.v[top + 1] = result;
      st.v[top + 2] = 1;
      result = 0;
      continue;
    }
    pk_val a = st.v[top + 1], d = result;
    result = (a == pko_car(p) && d == pko_cdr(p)) ? p : pko_cons(a, d);
    st.n -= 3;
  }
  return result;
}

/* Does variable x occur in v under S?  Ground subterms are skipped. */
static bool pks_occurs(pk_val x, pk_val v, pkm_map S)
{
  pks_vstack st;
  pks_vinit(&st);
  pks_vpush(&st, v);
  while (st.n) {
    pk_val t = pks_walk(st.v[--st.n], S);
    if (t == x) return true;
    if (pko_pairp(t) && !pko_groundp(t)) {
      pks_vpush(&st, pko_cdr(t));
      pks_vpush(&st, pko_car(t));
    }
  }
  return false;
}

/* ---- unification ---------------------------------------------------------------- */

/* A list built in order by appending at the tail.  Safe because the pairs
   are fresh and their cars (bindings of variables) are never ground, so the
   spine's tags do not depend on the cdr. */
typedef struct pks_list {
  pk_val head;
  pko_pair *tail;
} pks_list;

static void pks_list_add(pks_list *l, pk_val x)
{
  pk_val p = pko_cons(x, PK_NIL);
  if (l->tail)
    l->tail->cdr = p;
  else
    l->head = p;
  l->tail = pko_as_pair(p);
}

/* Unify u and v under *S.  On success *S is extended and, when added is not
   NULL, the new bindings (x . term) are appended to it in
   faster-miniKanren's order.  A variable of the given scope is bound in its
   cell instead of the map (scope 0: never; used for =/= and reification,
   which must not bind).  o, when not NULL, owns the map nodes made: the
   branch's own (pks_tx), or a scratch map's, dropped after (pks_diseq).
   Iterative: car first, then cdr. */
static bool pks_unify(pkm_map *S, pk_val u, pk_val v, pks_list *added, uint64_t scope, pkm_owned *o)
{
  pks_vstack st;
  pks_vinit(&st);
  pkm_map s = *S;
  pks_nunify++;
  for (;;) {
    u = pks_walk(u, s);
    v = pks_walk(v, s);
    if (u == v) goto next;
    if (pko_varp(u) || pko_varp(v)) {
      pk_val x = u, t = v;
      if (!pko_varp(u) || (pko_varp(v) && pko_varid(v) > pko_varid(u))) {
        x = v;
        t = u;
      }
      if (!pko_groundp(t) && !pko_varp(t) && pks_occurs(x, t, s)) return false;
      pko_var *c = pko_cell(x);
      if (c->scope == scope) {
        pko_assert(c->val == PK_UNBOUND && scope != 0); /* set-var-val!: once, own scope only */
        c->val = t;
      } else {
        if (__builtin_expect(c->id < pks_outer, 0) && scope) pks_touched = true;
        s = pkm_set_owned(s, c->id, t, o);
      }
      if (added) pks_list_add(added, pko_cons(x, t));
      goto next;
    }
    if (pko_pairp(u) && pko_pairp(v)) {
      if (pko_groundp(u) && pko_groundp(v)) {
        if (!pko_equal(u, v)) return false;
        goto next;
      }
      pks_vpush(&st, pko_cdr(u));
      pks_vpush(&st, pko_cdr(v));
      u = pko_car(u);
      v = pko_car(v);
      continue;
    }
    if (!pko_equal(u, v)) return false;
  next:
    if (st.n == 0) break;
    v = st.v[--st.n];
    u = st.v[--st.n];
  }
  *S = s;
  return true;
}

/* unify* of a list of (lhs . rhs) associations: the pairs in order, as
   unifying the list of lhs with the list of rhs would. */
static bool pks_unify_assoc(pkm_map *S, pk_val assoc, pks_list *added, pkm_owned *o)
{
  for (; pko_pairp(assoc); assoc = pko_cdr(assoc))
    if (!pks_unify(S, pko_car(pko_car(assoc)), pko_cdr(pko_car(assoc)), added, 0, o)) return false;
  return true;
}

/* ---- constraint store ----------------------------------------------------------- */

static pks_crec pks_empty_c __attribute__((aligned(16))) = { { PK_T_OPAQUE, T_NONE }, PK_NIL, PK_NIL };

static const pks_crec *pks_lookup_c(const pks_state *st, pk_val x)
{
  pk_val c = pkm_get(st->C, pko_varid(x));
  return c == PK_UNBOUND ? &pks_empty_c : (const pks_crec *)c;
}

static pks_state *pks_set_c(const pks_state *st, pk_val x, unsigned T, pk_val D, pk_val A)
{
  pks_crec *c = (pks_crec *)pks_opaque(K_CREC, sizeof *c);
  c->h.aux = T;
  c->D = D;
  c->A = A;
  return pks_txstate((pks_state *)st, st->S, pks_cset(st, x, (pk_val)c));
}

static bool pks_type_ok(unsigned T, pk_val t)
{
  switch (T) {
  case T_NUM: return pko_numberp(t);
  case T_STR: return pko_stringp(t);
  case T_SYM: return pko_symbolp(t);
  }
  return false;
}

/* symbolo / numbero / stringo on u. */
static pks_state *pks_type(pks_state *st, unsigned T, pk_val u)
{
  pk_val t = pks_walk(u, st->S);
  if (pks_type_ok(T, t)) return st;
  if (!pko_varp(t)) return NULL;
  const pks_crec *c = pks_lookup_c(st, t);
  if (c->h.aux == T) return st;
  if (c->h.aux != T_NONE) return NULL;
  return pks_set_c(st, t, T, c->D, c->A);
}

static pks_state *pks_add_D(pks_state *st, pk_val v, pk_val d)
{
  const pks_crec *c = pks_lookup_c(st, v);
  return pks_set_c(st, v, c->h.aux, pko_cons(d, c->D), c->A);
}

/* Record the disequality whose unifier is added, or fail when it is empty
   (the terms are already equal). */
static pks_state *pks_diseq_store(pks_state *st, pk_val added)
{
  if (added == PK_NIL) return NULL;
  pk_val el = pko_car(added);
  st = pks_add_D(st, pko_car(el), added);
  if (pko_varp(pko_cdr(el))) st = pks_add_D(st, pko_cdr(el), added);
  return st;
}

/* =/=* of a list of associations.  Like every scratch unification (=/=
   asks what unifying would add; reification, whether one disequality
   subsumes another), it drops its map right after, so it owns the map's
   nodes and gives them straight back to the free lists. */
static pks_state *pks_diseq(pks_state *st, pk_val assoc)
{
  pkm_map S = st->S;
  pks_list added = { PK_NIL, NULL };
  pkm_owned o;
  pkm_owned_init(&o);
  bool ok = pks_unify_assoc(&S, assoc, &added, &o);
  pkm_free_owned(&o);
  return ok ? pks_diseq_store(st, added.head) : st;
}

/* (=/= u v): the one-association case without building the list. */
static pks_state *pks_diseq_uv(pks_state *st, pk_val u, pk_val v)
{
  pkm_map S = st->S;
  pks_list added = { PK_NIL, NULL };
  pkm_owned o;
  pkm_owned_init(&o);
  bool ok = pks_unify(&S, u, v, &added, 0, &o);
  pkm_free_owned(&o);
  return ok ? pks_diseq_store(st, added.head) : st;
}

static bool pks_memv(pk_val x, pk_val l)
{
  for (; pko_pairp(l); l = pko_cdr(l))
    if (pko_eqv(x, pko_car(l))) return true;
  return false;
}

/* absento t1 t2: (=/= t1 t2) at every node of t2, recorded on its
   variables.  Preorder, car before cdr, with an explicit stack. */
static pks_state *pks_absento(pks_state *st, pk_val t1, pk_val t2)
{
  t1 = pks_walk(t1, st->S);
  pks_vstack stk;
  pks_vinit(&stk);
  pks_vpush(&stk, t2);
  while (stk.n && st) {
    pk_val t = pks_walk(stk.v[--stk.n], st->S);
    st = pks_diseq_uv(st, t1, t);
    if (!st) return NULL;
    if (pko_pairp(t)) {
      pks_vpush(&stk, pko_cdr(t));
      pks_vpush(&stk, pko_car(t));
    } else if (pko_varp(t)) {
      const pks_crec *c = pks_lookup_c(st, t);
      if (!pks_memv(t1, c->A)) st = pks_set_c(st, t, c->h.aux, c->D, pko_cons(t1, c->A));
    }
  }
  return st;
}

/* Re-check the constraints of a variable that was just bound. */
static pks_state *pks_update(pks_state *st, pk_val assoc)
{
  pk_val x = pko_car(assoc), v = pko_cdr(assoc);
  const pks_crec *c = pks_lookup_c(st, x);
  if (c == &pks_empty_c) return st;
  st = pks_txstate(st, st->S, pks_cset(st, x, (pk_val)&pks_empty_c));
  if (c->h.aux && !(st = pks_type(st, c->h.aux, v))) return NULL;
  for (pk_val a = c->A; pko_pairp(a) && st; a = pko_cdr(a)) st = pks_absento(st, pko_car(a), v);
  for (pk_val d = c->D; pko_pairp(d) && st; d = pko_cdr(d)) st = pks_diseq(st, pko_car(d));
  return st;
}

/* The == goal. */
static pks_state *pks_eq(pks_state *st, pk_val u, pk_val v)
{
  pkm_map S = st->S;
  if (!st->C) {
    if (!pks_unify(&S, u, v, NULL, st->scope, &pks_tx.own)) return NULL;
    return S == st->S ? st : pks_txstate(st, S, NULL);
  }
  pks_list added = { PK_NIL, NULL };
  if (!pks_unify(&S, u, v, &added, st->scope, &pks_tx.own)) return NULL;
  if (added.head == PK_NIL) return st;
  st = pks_txstate(st, S, st->C);
  for (pk_val a = added.head; pko_pairp(a) && st; a = pko_cdr(a)) st = pks_update(st, pko_car(a));
  return st;
}

/* ---- reification ------------------------------------------------------------------ */

static pk_val pks_reify(pk_val x, const pks_state *st);

/* ---- goals and streams ------------------------------------------------------------ */

/* A frame is one word: a goal, thunk or ifte object (16-byte aligned)
   with the frame kind in its low bits. */
typedef pk_val pks_frame;
enum { F_BIND = 1, F_MPLUS = 2, F_IFTE = 3, F_KI = 4, F_DROP1 = 5 };

typedef struct pks_machine {
  pks_frame *f;
  size_t n, cap;
  pks_frame local[64];
} pks_machine;

/* Double the frame stack (in the collected heap: it holds pointers). */
static void pks_grow(pks_machine *m)
{
  pks_frame *nf = pko_alloc(2 * m->cap * sizeof *nf);
  memcpy(nf, m->f, m->n * sizeof *nf);
  m->f = nf;
  m->cap *= 2;
}

/* Push a frame: a compare and a store (plus, in an ordered parallel
   search, an offer of an mplus frame's thunk: it will be forced later as a
   whole, so a hungry worker may force it ahead). */
static inline void pks_push(pks_machine *m, int kind, pk_val v)
{
  if (__builtin_expect(m->n == m->cap, 0)) pks_grow(m);
  m->f[m->n++] = v | (pk_val)kind;
  if (kind == F_MPLUS && __builtin_expect(pkf_on, 0)) pkf_offer(v);
}

/* A constraint goal: ==, =/=, absento or a type goal.  It reaches its
   result through a chain of states, one per binding checked or constraint
   stored, each the last with a map changed; it changes in place the states
   and map nodes its branch made since the last disjunction (pks_tx).  On
   qs-thrines-565 that makes 1.9M states instead of 5.1M (3.0M when only
   those of the same goal were reused), and 6.0M map nodes instead of 8.6M
   (6.6M). */
static pk_val pks_constrain(const pks_goal *g, pks_state *st)
{
  pks_state *r = NULL;
  pks_tx_enter(st);
  switch (g->h.aux) {
  case G_UNIFY: r = pks_eq(st, g->a, g->b); break;
  case G_DISEQ: r = pks_diseq_uv(st, g->a, g->b); break;
  case G_ABSENTO: r = pks_absento(st, g->a, g->b); break;
  case G_TYPE: r = pks_type(st, (unsigned)pko_fixval(g->b), g->a); break;
  }
  return r ? (pk_val)r : PK_FALSE;
}

static pk_val pks_foreign_apply(const pks_goal *g, pks_state *st);
static pk_val pks_first_apply(const pks_goal *g, pks_state *st);

/* Apply goal g to state st: a stream.  Never recurses into the search:
   goals that suspend return a thunk. */
static pk_val pks_apply(pk_val gv, pks_state *st)
{
  if (!pks_goalp(gv)) pko_error_val("not a goal", gv);
  const pks_goal *g = (const pks_goal *)gv;
  pks_state *r;
  switch (g->h.aux) {
  case G_UNIFY:
  case G_DISEQ:
  case G_ABSENTO:
  case G_TYPE: return pks_constrain(g, st);
  case G_SUCCEED: r = st; break;
  case G_FAIL: r = NULL; break;
  case G_REIFY: return pks_choice_new(pks_reify(g->a, st), (pk_val)&pks_nil2);
  case G_FOREIGN: return pks_foreign_apply(g, st);
  case G_FIRST: return pks_first_apply(g, st);
  default: return pks_mkthunk(TK_GOAL, gv, (pk_val)st);
  }
  return r ? (pk_val)r : PK_FALSE;
}

/* Evaluate the goal expressions of a fresh-shaped node in frame env. */
static void pks_eval_goals(const pke_node *n, pke_env *env, pks_state *st, pk_val *out)
{
  uint64_t saved = pks_floor;
  pks_floor = st->nv;
  for (int i = 0; i < n->n; i++) {
    out[i] = pke_eval(n->kids[i], env);
    if (!pks_goalp(out[i])) {
      pko_where = &n->kids[i]->pos;
      pko_error_val("not a goal", out[i]);
    }
  }
  pks_floor = saved;
}

/* Run a conjunction: bind frames for goals 1.. (innermost on top), then
   the stream of goal 0. */
static pk_val pks_conj(pks_machine *m, pk_val *goals, int n, pks_state *st)
{
  for (int i = n - 1; i >= 1; i--) pks_push(m, F_BIND, goals[i]);
  return pks_apply(goals[0], st);
}

/* The frame and state for a node's fresh variables. */
static pke_env *pks_fresh_frame(const pke_node *n, pke_env *env, pks_state **st)
{
  if (n->flags & 2) return env;
  pke_env *f = pke_frame(env, n->b);
  uint64_t base = (*st)->nv;
  for (uint32_t i = 0; i < n->a; i++) f->v[i] = pks_newvar(base + i, (*st)->scope);
  pks_tx_enter(*st);
  *st = pks_txstate(*st, (*st)->S, (*st)->C);
  (*st)->nv = base + n->a;
  return f;
}

/* Body of a fresh-shaped node on st: evaluate its goals, run them. */
static pk_val pks_body(pks_machine *m, const pke_node *n, pke_env *env, pks_state *st)
{
  env = pks_fresh_frame(n, env, &st);
  pk_val goals[n->n > 0 ? n->n : 1];
  pks_eval_goals(n, env, st, goals);
  return pks_conj(m, goals, n->n, st);
}

/* Start clause i of a conda/condu/once: ask its first goal under an
   F_IFTE frame.  Returns the question's stream. */
static pk_val pks_ifte_clause(pks_machine *m, const pks_goal *g, pks_state *st, int64_t i)
{
  pks_ifte *q = (pks_ifte *)pks_opaque(K_IFTE, sizeof *q);
  q->g = g;
  q->st = st;
  q->i = i;
  if (g->h.aux == G_ONCE) {
    q->goals = pko_alloc(sizeof *q->goals);
    q->goals[0] = g->a;
    q->ngoals = 1;
  } else {
    const pke_node *cl = PKS_NODE(g)->kids[i];
    q->goals = pko_alloc((size_t)cl->n * sizeof *q->goals);
    q->ngoals = cl->n;
    pks_eval_goals(cl, PKS_ENV(g), st, q->goals);
  }
  pks_push(m, F_IFTE, (pk_val)q);
  return pks_apply(q->goals[0], st);
}

/* kanren's goals (below) answer either a stream or a thunk to force next
   in place, without a suspension: the thunk with its low bit set (streams
   are aligned objects or immediates, never odd), so the caller's next
   thunk stays in a register instead of going through a pointer. */
#define PKS_NEXT(t) ((t) | 1)
static inline pk_val pks_take_next(pk_val r, pk_val *next)
{
  if (__builtin_expect(r & 1, 0)) {
    *next = r & ~(pk_val)1;
    return 0;
  }
  return r;
}

static pk_val pks_run_body(pks_machine *m, const pks_goal *g, pks_state *st);
static pk_val pks_lall(const pke_node *n, pke_env *env, pks_state *st);
static pk_val pks_lany(pks_machine *m, const pke_node *n, pke_env *env, pks_state *st);

/* Force a goal's suspension (TK_GOAL): the body of fresh, conde, project,
   conda, condu, onceo, run. */
static pk_val pks_force_goal(pks_machine *m, const pks_goal *g, pks_state *st)
{
  const pke_node *n = PKS_NODE(g);
  switch (g->h.aux) {
  case G_ONCE: return pks_ifte_clause(m, g, pks_rescope(st), 0);
  case G_RUN_OUTER:
  case G_RUN_INNER: return pks_run_body(m, g, st);
  }
  switch ((pke_op)n->op) {
  case PKE_FRESH: return pks_body(m, n, PKS_ENV(g), st);
  case PKE_CONDE:
    st = pks_rescope(st);
    if (n->n > 1) pks_push(m, F_MPLUS, pks_conde_rest((pk_val)g, (pk_val)st, 1));
    return pks_body(m, n->kids[0], PKS_ENV(g), st);
  case PKE_CONDA:
  case PKE_CONDU: return pks_ifte_clause(m, g, pks_rescope(st), 0);
  case PKE_PROJECT: {
    pke_env *f = pke_frame(PKS_ENV(g), n->b);
    for (int i = 0; i < n->y->n; i++) f->v[i] = pks_walkstar(pke_eval(n->y->kids[i], PKS_ENV(g)), st->S);
    pk_val goals[n->n];
    pks_eval_goals(n, f, st, goals);
    return pks_conj(m, goals, n->n, st);
  }
  case PKE_LALL: return pks_lall(n, PKS_ENV(g), st);
  case PKE_LANY: return pks_lany(m, n, PKS_ENV(g), st);
  default: pko_error("internal error: bad goal node");
  }
}

/* ---- kanren order ---------------------------------------------------------------
** kanren (pythological/kanren, SPEC §5) has no suspensions: a goal maps a
** state to a lazy sequence of answers, and its combinators interleave by
** answers (toolz.interleave): lany(g1 .. gn) takes the first answer of g1,
** then of g2, ..., each stream started when its turn first comes, then goes
** round the streams still live, one answer each, in the order their first
** answers came; lall(g0 g1 ..) is bind(bind(g0(S), g1), ..), where bind(z,
** g) interleaves the same way over the streams g(a) for the answers a of z,
** taking the next answer of z each time a new stream is due (so every
** answer of z is started before any stream gives its second answer).
** docs/kanren.md has the details.  A pks_ki is one such interleaving in
** progress.  Forcing a stream to its next answer goes through the frame
** machine (an F_KI frame waits for it); when that stream suspends, the
** whole interleaving suspends with it (a TK_KI thunk) and resumes the same
** stream: suspensions decide nothing, so among kanren goals the answers
** come in kanren's order.  A pks_ki is held by one thunk or frame at a time
** (a stream is forced once) and is updated in place.
*/
enum { KI_SUB, KI_SRC };
typedef struct pks_ki {
  pko_hdr h;
  pk_val src;         /* lany: goals not started yet (a list); bind: the stream z; #f when done */
  pk_val goal;        /* bind: the goal applied to each answer of z; 0 for lany */
  pks_state *st;      /* lany: the state every goal starts from */
  pk_val front, back; /* streams that gave an answer, in turn: front, then back reversed */
  pk_val pend;        /* the stream to take from next (0: the next one due) */
  int role;           /* pend is a started stream (KI_SUB) or z (KI_SRC) */
} pks_ki;

static pks_ki *pks_ki_new(pk_val src, pk_val goal, pks_state *st)
{
  pks_ki *k = (pks_ki *)pks_opaque(K_KI, sizeof *k);
  k->src = src;
  k->goal = goal;
  k->st = st;
  k->front = k->back = PK_NIL;
  k->pend = 0;
  return k;
}

/* The stream due next in k's turn, or 0 when every stream is done: a new
   one while the source lasts, else the first in the queue. */
static pk_val pks_ki_due(pks_ki *k)
{
  if (k->src != PK_FALSE) {
    pk_val z = k->src;
    k->role = k->goal ? KI_SRC : KI_SUB;
    if (k->goal) {
      k->src = PK_FALSE;
      return z;
    }
    k->src = pko_cdr(z) == PK_NIL ? PK_FALSE : pko_cdr(z);
    return pks_apply(pko_car(z), k->st);
  }
  if (k->front == PK_NIL) {
    if (k->back == PK_NIL) return 0;
    k->front = pko_reverse(k->back);
    k->back = PK_NIL;
  }
  pk_val s = pko_car(k->front);
  k->front = pko_cdr(k->front);
  k->role = KI_SUB;
  return s;
}

/* The one stream k has left, or 0: with nothing more to start, an
   interleaving of one stream is that stream, so k drops out and answers
   deep in nested relations (membero's) do not pass every level. */
static pk_val pks_ki_single(const pks_ki *k)
{
  if (k->src != PK_FALSE) return 0;
  if (k->front == PK_NIL && k->back != PK_NIL && pko_cdr(k->back) == PK_NIL) return pko_car(k->back);
  if (k->back == PK_NIL && k->front != PK_NIL && pko_cdr(k->front) == PK_NIL) return pko_car(k->front);
  return 0;
}

/* k's answer a, then the rest of k (a state when nothing is left). */
static pk_val pks_ki_answer(pks_ki *k, pk_val a)
{
  if (k->src == PK_FALSE && k->front == PK_NIL && k->back == PK_NIL) return a;
  pk_val one = pks_ki_single(k);
  return pks_choice_new(a, one ? one : pks_mkthunk(TK_KI, (pk_val)k, 0));
}

/* Continue interleaving k with stream p (0: the stream due next) until an
   answer: returns k's stream, or PKS_NEXT(t) for a thunk t to force under
   an F_KI frame. */
__attribute__((noinline)) static pk_val pks_ki_run(pks_machine *m, pks_ki *k, pk_val p)
{
  k->pend = 0;
  for (;;) {
    pk_val one;
    if (!p && (one = pks_ki_single(k))) return PKS_NEXT(one); /* queued streams are thunks */
    if (!p && !(p = pks_ki_due(k))) return PK_FALSE;
    if (p == PK_FALSE) {
      p = 0;
      continue;
    }
    if (pks_thunkp(p)) {
      pks_push(m, F_KI, (pk_val)k);
      return PKS_NEXT(p);
    }
    bool unit = pks_kind(p) == K_STATE;
    pk_val a = unit ? p : ((pks_choice *)p)->a, f = unit ? PK_FALSE : ((pks_choice *)p)->f;
    if (k->role == KI_SUB) {
      if (!unit) k->back = pko_cons(f, k->back);
      return pks_ki_answer(k, a);
    }
    k->src = f; /* z's answer a starts the stream of goal on a */
    k->role = KI_SUB;
    p = pks_apply(k->goal, (pks_state *)a);
  }
}

/* lall: bind(..bind(g0(st), g1).., gn), goals made now as kanren does. */
__attribute__((noinline)) static pk_val pks_lall(const pke_node *n, pke_env *env, pks_state *st)
{
  if (n->n == 0) return (pk_val)st;
  pk_val goals[n->n];
  pks_eval_goals(n, env, st, goals);
  pk_val z = pks_apply(goals[0], st);
  for (int i = 1; i < n->n; i++) z = pks_mkthunk(TK_KI, (pk_val)pks_ki_new(z, goals[i], NULL), 0);
  return z == PK_FALSE || !pks_thunkp(z) ? z : PKS_NEXT(z);
}

/* lany: its goals interleaved from one state (a disjunction: a new
   scope); no goals succeed, as kanren's ldisj does. */
__attribute__((noinline)) static pk_val pks_lany(pks_machine *m, const pke_node *n, pke_env *env, pks_state *st)
{
  if (n->n == 0) return (pk_val)st;
  st = pks_rescope(st);
  pk_val goals[n->n], l = PK_NIL;
  pks_eval_goals(n, env, st, goals);
  for (int i = n->n; i-- > 0;) l = pko_cons(goals[i], l);
  return pks_ki_run(m, pks_ki_new(l, 0, st), 0);
}

/* The stream a thunk yields when forced, one level: nested thunks push
   frames and continue with their inner thunk (*next). */
static pk_val pks_step(pks_machine *m, pk_val t, pk_val *next, bool memo)
{
  const pks_thunk *k = (const pks_thunk *)t;
  unsigned kind = k->h.aux;
  *next = 0;
  if (__builtin_expect(kind > TK_APPLY, 0)) { /* shared, or conde's rest with its clause index */
    pk_val s;
    if (memo && pks_shared(t) && (s = pkf_take(t)) != 0) return s;
    kind &= 0x7f;
  }
  switch (kind) {
  case TK_MPLUS:
    pks_push(m, F_MPLUS, k->y);
    *next = k->x;
    return 0;
  case TK_BIND:
    pks_push(m, F_BIND, k->y);
    *next = k->x;
    return 0;
  case TK_IFTE:
    pks_push(m, F_IFTE, k->y);
    *next = k->x;
    return 0;
  case TK_DROP1:
    pks_push(m, F_DROP1, 0);
    *next = k->x;
    return 0;
  case TK_NIL2: return (pk_val)&pks_nil1;
  case TK_NIL1: return PK_FALSE;
  case TK_APPLY: return pks_apply(k->x, (pks_state *)k->y);
  case TK_GOAL: return pks_take_next(pks_force_goal(m, (const pks_goal *)k->x, (pks_state *)k->y), next);
  case TK_KI: return pks_take_next(pks_ki_run(m, (pks_ki *)k->x, ((pks_ki *)k->x)->pend), next);
  case TK_CONDE_REST: {
    const pks_goal *g = (const pks_goal *)k->x;
    int64_t i = k->h.aux >> 8;
    if (i + 1 < PKS_NODE(g)->n) pks_push(m, F_MPLUS, pks_conde_rest(k->x, k->y, i + 1));
    return pks_body(m, PKS_NODE(g)->kids[i], PKS_ENV(g), (pks_state *)k->y);
  }
  }
  pko_error("internal error: bad thunk");
}

/* The answer of a conda/condu question: continue with the clause's other
   goals, on every answer (conda) or the first (condu, onceo). */
static pk_val pks_ifte_answer(pks_machine *m, const pks_ifte *q, pk_val s)
{
  bool once = q->g->h.aux == G_ONCE || PKS_NODE(q->g)->op == PKE_CONDU;
  if (once && pks_is(s, K_CHOICE)) s = ((pks_choice *)s)->a;
  for (int i = q->ngoals - 1; i >= 1; i--) pks_push(m, F_BIND, q->goals[i]);
  return s;
}

/* ---- steps: the limit and the interrupt ------------------------------------------
** pks_run counts steps (forced suspensions) down in a local copy of this
** thread's chunk, so the hot path is a decrement and a compare in a
** register.  Every PKS_CHUNK steps the refill polls the interrupt flag
** (signals, the watchdog's time and memory limits) and, under a step
** limit, takes the next chunk of the global budget or stops every thread
** when it is spent: the threads together force at most max-steps. */
#define PKS_CHUNK 1024
static _Thread_local int64_t pks_ticks;
static _Atomic int64_t pks_steps_left;

void pks_limits_reset(void)
{
  atomic_store(&pks_steps_left, (int64_t)pko_limit.max_steps);
  pks_ticks = 0;
}

/* The next chunk, less the step being taken; throws when stopped. */
static int64_t pks_refill(void)
{
  pko_poll();
  if (!pko_limit.max_steps) return PKS_CHUNK - 1;
  int64_t got = atomic_fetch_sub(&pks_steps_left, PKS_CHUNK);
  if (got <= 0) {
    atomic_fetch_add(&pks_steps_left, PKS_CHUNK);
    pko_stop(PKO_STOP_STEPS);
    pko_interrupt();
  }
  if (got < PKS_CHUNK) atomic_fetch_add(&pks_steps_left, PKS_CHUNK - got); /* the rest of a short chunk */
  return (got < PKS_CHUNK ? got : PKS_CHUNK) - 1;
}

/* Force thunk t to a stream (mzero, state, choice, or another thunk).
   Frames on m stand for the Scheme continuation of faster-miniKanren's
   nested (mplus (f) f^) and (bind (f) g) calls.  claimed: t is this
   thread's to force (an ordered speculation's claim is made). */
static pk_val pks_run(pk_val t, bool claimed)
{
  pks_machine m;
  m.f = m.local;
  m.n = 0;
  m.cap = 64;
  pk_val s, next;
  int64_t left = pks_ticks;
descend:
  for (;;) {
    if (__builtin_expect(--left < 0, 0)) left = pks_refill();
    s = pks_step(&m, t, &next, !claimed);
    pks_consumed(t);
    claimed = false;
    if (!next) break;
    t = next;
  }
  while (m.n) {
    pks_frame fw = m.f[--m.n];
    struct {
      int kind;
      pk_val v;
    } fr = { (int)(fw & 15), fw & ~(pk_val)15 };
    pko_assert(fr.kind >= F_BIND && fr.kind <= F_DROP1);
    switch (fr.kind) {
    case F_MPLUS: /* (mplus s f) */
      if (s == PK_FALSE) {
        t = fr.v;
        goto descend;
      }
      if (pks_thunkp(s))
        s = pks_mkthunk(TK_MPLUS, fr.v, s);
      else if (pks_kind(s) == K_STATE)
        s = pks_choice_new(s, fr.v);
      else { /* a choice is consumed once too: update it in place */
        pks_choice *c = (pks_choice *)s;
        c->f = pks_mkthunk(TK_MPLUS, fr.v, c->f);
      }
      break;
    case F_BIND: /* (bind s g) */
      if (s == PK_FALSE) break;
      if (pks_thunkp(s))
        s = pks_mkthunk(TK_BIND, s, fr.v);
      else if (pks_kind(s) == K_STATE)
        s = pks_apply(fr.v, (pks_state *)s);
      else {
        pks_choice *c = (pks_choice *)s;
        pks_state *a = (pks_state *)c->a;
        pks_push(&m, F_MPLUS, pks_mkthunk(TK_BIND, c->f, fr.v));
        pko_free_owned(c, sizeof *c);
        s = pks_apply(fr.v, a);
      }
      break;
    case F_IFTE: { /* a conda/condu question answered s */
      const pks_ifte *q = (const pks_ifte *)fr.v;
      if (s == PK_FALSE) {
        if (q->g->h.aux == G_ONCE || q->i + 1 >= PKS_NODE(q->g)->n) break;
        s = pks_ifte_clause(&m, q->g, q->st, q->i + 1);
      } else if (pks_thunkp(s))
        s = pks_mkthunk(TK_IFTE, s, fr.v);
      else
        s = pks_ifte_answer(&m, q, s);
      break;
    }
    case F_DROP1: /* a stream without its first answer */
      if (s == PK_FALSE) break;
      if (pks_thunkp(s))
        s = pks_mkthunk(TK_DROP1, s, 0);
      else
        s = pks_kind(s) == K_STATE ? PK_FALSE : ((pks_choice *)s)->f;
      break;
    case F_KI: { /* kanren's interleaving took s from its current stream */
      pks_ki *k = (pks_ki *)fr.v;
      if (s != PK_FALSE && pks_thunkp(s)) {
        k->pend = s;
        s = pks_mkthunk(TK_KI, (pk_val)k, 0);
        break;
      }
      s = pks_ki_run(&m, k, s);
      if (s & 1) {
        t = s & ~(pk_val)1;
        goto descend;
      }
      break;
    }
    }
  }
  pks_ticks = left;
  return s;
}

pk_val pks_force(pk_val t) { return pks_run(t, false); }
pk_val pks_force_claimed(pk_val t) { return pks_run(t, true); }

pk_val pks_chain_next(pk_val s)
{
  pk_val next = s == PK_FALSE ? 0 : pks_thunkp(s) ? s : pks_kind(s) == K_CHOICE ? ((pks_choice *)s)->f : 0;
  return pks_constp(next) ? 0 : next;
}

/* ---- reification ------------------------------------------------------------------
** faster-miniKanren's reify, extract-and-normalize, drop-irrelevant,
** drop-subsumed and form, in that order, with the same list orders. */

/* Variables of t in preorder (car first), first occurrences only, then
   reversed: the order faster-miniKanren's (remove-duplicates (vars t))
   yields. */
static pk_val pks_vars(pk_val t)
{
  pks_vstack st;
  pks_vinit(&st);
  pks_vpush(&st, t);
  pk_val acc = PK_NIL;
  while (st.n) {
    pk_val x = st.v[--st.n];
    if (pko_varp(x)) {
      if (!pks_memv(x, acc)) acc = pko_cons(x, acc);
    } else if (pko_pairp(x) && !pko_groundp(x)) {
      pks_vpush(&st, pko_cdr(x));
      pks_vpush(&st, pko_car(x));
    }
  }
  return acc;
}

/* The symbol _.n. */
static pk_val pks_reify_name(uint64_t n)
{
  char buf[32];
  int len = snprintf(buf, sizeof buf, "_.%llu", (unsigned long long)n);
  return pko_intern(buf, (size_t)len);
}

/* reify-S: name the variables of v in preorder. */
static pkm_map pks_reify_s(pk_val v)
{
  pkm_map R = NULL;
  uint64_t n = 0;
  pks_vstack st;
  pks_vinit(&st);
  pks_vpush(&st, v);
  while (st.n) {
    pk_val x = st.v[--st.n];
    if (pko_varp(x)) {
      if (pkm_get(R, pko_varid(x)) == PK_UNBOUND) R = pkm_set(R, pko_varid(x), pks_reify_name(n++));
    } else if (pko_pairp(x) && !pko_groundp(x)) {
      pks_vpush(&st, pko_cdr(x));
      pks_vpush(&st, pko_car(x));
    }
  }
  return R;
}

static unsigned pks_var_type(const pks_state *st, pk_val x)
{
  return pko_varp(x) ? pks_lookup_c(st, x)->h.aux : T_NONE;
}

/* Append list b to a fresh copy of a. */
static pk_val pks_append(pk_val a, pk_val b)
{
  for (pk_val r = pko_reverse(a); pko_pairp(r); r = pko_cdr(r)) b = pko_cons(pko_car(r), b);
  return b;
}

/* Keep the elements of l for which keep(x, ctx) holds, in order. */
static pk_val pks_filter(pk_val l, bool (*keep)(pk_val, const void *), const void *ctx)
{
  pk_val out = PK_NIL;
  for (; pko_pairp(l); l = pko_cdr(l))
    if (keep(pko_car(l), ctx)) out = pko_cons(pko_car(l), out);
  return pko_reverse(out);
}

static bool pks_all_relevant(pk_val t, const void *rv)
{
  for (pk_val v = pks_vars(t); pko_pairp(v); v = pko_cdr(v))
    if (!pks_memv(pko_car(v), (pk_val)rv)) return false;
  return true;
}

/* d1 is subsumed by d2: d2 adds nothing once d1 holds. */
static bool pks_d_subsumed_by(pk_val d1, pk_val d2)
{
  pkm_map S = NULL;
  pks_list added = { PK_NIL, NULL };
  pkm_owned o;
  pkm_owned_init(&o);
  bool r = pks_unify_assoc(&S, d1, NULL, &o) && pks_unify_assoc(&S, d2, &added, &o) && added.head == PK_NIL;
  pkm_free_owned(&o);
  return r;
}

static bool pks_absento_atomic(const pks_state *st, pk_val a)
{
  return !(pko_varp(pko_cdr(a)) && pks_var_type(st, pko_cdr(a)) == T_NONE);
}

typedef struct pks_dctx {
  const pks_state *st;
  pk_val A;
} pks_dctx;

/* Keep d unless the type constraints or an absento already imply it. */
static bool pks_keep_d(pk_val d, const void *vctx)
{
  const pks_dctx *c = vctx;
  for (pk_val p = d; pko_pairp(p); p = pko_cdr(p)) {
    pk_val l = pko_car(pko_car(p)), r = pko_cdr(pko_car(p));
    unsigned tl = pks_var_type(c->st, l);
    if (tl == T_NONE) continue;
    if (pko_varp(r) ? (pks_var_type(c->st, r) != T_NONE && pks_var_type(c->st, r) != tl) : !pks_type_ok(tl, r))
      return false;
  }
  for (pk_val a = c->A; pko_pairp(a); a = pko_cdr(a))
    if (!pks_absento_atomic(c->st, pko_car(a)) && pks_d_subsumed_by(d, pko_list(1, pko_car(a)))) return false;
  return true;
}

static bool pks_keep_a(pk_val a, const void *vst)
{
  const pks_state *st = vst;
  return !pks_absento_atomic(st, a) && !pks_occurs(pko_cdr(a), pko_car(a), st->S);
}

/* Is u equal? to v or to a subterm of v?  Iterative: any depth. */
static bool pks_member_star(pk_val u, pk_val v)
{
  pks_vstack st;
  pks_vinit(&st);
  pks_vpush(&st, v);
  while (st.n) {
    v = st.v[--st.n];
    if (pko_equal(u, v)) return true;
    if (pko_pairp(v)) {
      pks_vpush(&st, pko_cdr(v));
      pks_vpush(&st, pko_car(v));
    }
  }
  return false;
}

static bool pks_a_subsumed_by(pk_val t1, pk_val t2)
{
  return pko_cdr(t1) == pko_cdr(t2) && pks_member_star(pko_car(t2), pko_car(t1));
}

/* rem-subsumed: drop elements subsumed by a later or an already kept one. */
static pk_val pks_rem_subsumed(pk_val l, bool (*sub)(pk_val, pk_val))
{
  pk_val result = PK_NIL;
  for (; pko_pairp(l); l = pko_cdr(l)) {
    pk_val el = pko_car(l);
    bool drop = false;
    for (pk_val r = pko_cdr(l); pko_pairp(r) && !drop; r = pko_cdr(r)) drop = sub(el, pko_car(r));
    for (pk_val r = result; pko_pairp(r) && !drop; r = pko_cdr(r)) drop = sub(el, pko_car(r));
    if (!drop) result = pko_cons(el, result);
  }
  return result;
}

/* faster-miniKanren's type index for lex ordering. */
static int pks_type_index(pk_val v)
{
  if (pko_numberp(v)) return 0;
  if (pko_stringp(v)) return 1;
  if (pko_symbolp(v)) return 2;
  if (v == PK_FALSE) return 3;
  if (v == PK_TRUE) return 4;
  if (v == PK_NIL) return 5;
  if (pko_pairp(v)) return 6;
  pko_error_val("type-index: missing ordering for type of value", v);
}

/* faster-miniKanren's number-compare: (cond ((= a b) '=) ((< a b) '<) (else '>)). */
static int pks_numcmp(pk_val a, pk_val b)
{
  int c = pkn_cmp("compare", a, b); /* -1, 0, 1; 2 when unordered (NaN): the else branch */
  return c == 2 ? 1 : c;
}

/* lex-compare: -1, 0, 1.  Pairs compare car first; the cdrs still to
   compare wait on an explicit stack, so depth costs heap, not C stack. */
static int pks_lex(pk_val x, pk_val y)
{
  pks_vstack st;
  pks_vinit(&st);
  for (;;) {
    int ix = pks_type_index(x), iy = pks_type_index(y), c = 0;
    if (ix != iy) return ix < iy ? -1 : 1;
    switch (ix) {
    case 0: c = pks_numcmp(x, y); break;
    case 1: c = strcmp(pko_as_str(x)->s, pko_as_str(y)->s); break;
    case 2: c = strcmp(pko_symname(x), pko_symname(y)); break;
    case 6:
      pks_vpush(&st, pko_cdr(x));
      pks_vpush(&st, pko_cdr(y));
      x = pko_car(x);
      y = pko_car(y);
      continue;
    default: break;
    }
    if (c) return c < 0 ? -1 : 1;
    if (!st.n) return 0;
    y = st.v[--st.n];
    x = st.v[--st.n];
  }
}

/* Stable merge sort of a list by lex<=?. */
static pk_val pks_sort_lex(pk_val l)
{
  long n = pko_length(l);
  if (n < 2) return l;
  pk_val a = PK_NIL, b = PK_NIL;
  for (long i = 0; i < n; i++, l = pko_cdr(l))
    if (i < n / 2)
      a = pko_cons(pko_car(l), a);
    else
      b = pko_cons(pko_car(l), b);
  a = pks_sort_lex(pko_reverse(a));
  b = pks_sort_lex(pko_reverse(b));
  pk_val out = PK_NIL;
  while (pko_pairp(a) && pko_pairp(b)) {
    /* Chez's list-sort merge takes from the right when (lex<=? b a) */
    if (pks_lex(pko_car(b), pko_car(a)) <= 0) {
      out = pko_cons(pko_car(b), out);
      b = pko_cdr(b);
    } else {
      out = pko_cons(pko_car(a), out);
      a = pko_cdr(a);
    }
  }
  for (pk_val r = pko_pairp(a) ? a : b; pko_pairp(r); r = pko_cdr(r)) out = pko_cons(pko_car(r), out);
  return pko_reverse(out);
}

static bool pks_reified_varp(pk_val r) { return pko_symbolp(r) && pko_symname(r)[0] == '_'; }

/* sort-d: orient each pair toward the reified variable, then sort. */
static pk_val pks_sort_d(pk_val d)
{
  pk_val out = PK_NIL;
  for (; pko_pairp(d); d = pko_cdr(d)) {
    pk_val pr = pko_car(d), l = pko_car(pr), r = pko_cdr(pr);
    if (pks_reified_varp(r) && pko_symbolp(l) && strcmp(pko_symname(r), pko_symname(l)) < 0) pr = pko_cons(r, l);
    out = pko_cons(pr, out);
  }
  return pks_sort_lex(pko_reverse(out));
}

/* drop-dot: each (l . r) as (l r). */
static pk_val pks_drop_dot(pk_val x)
{
  pk_val out = PK_NIL;
  for (; pko_pairp(x); x = pko_cdr(x)) out = pko_cons(pko_list(2, pko_car(pko_car(x)), pko_cdr(pko_car(x))), out);
  return pko_reverse(out);
}

/* form: the printed answer with its constraints. */
static pk_val pks_form(pk_val v, pk_val D, pk_val T, pk_val A)
{
  pk_val ft = PK_NIL, fd = PK_NIL, fa = PK_NIL;
  for (pk_val t = T; pko_pairp(t); t = pko_cdr(t))
    if (pko_cdr(pko_car(t)) != PK_NIL)
      ft = pko_cons(pko_cons(pko_car(pko_car(t)), pks_sort_lex(pko_cdr(pko_car(t)))), ft);
  ft = pko_reverse(ft);
  for (pk_val d = D; pko_pairp(d); d = pko_cdr(d)) fd = pko_cons(pks_sort_d(pko_car(d)), fd);
  fd = pks_sort_lex(pko_reverse(fd));
  fa = pks_sort_lex(A);
  if (fd == PK_NIL && ft == PK_NIL && fa == PK_NIL) return v;
  pk_val out = PK_NIL;
  if (fa != PK_NIL) out = pko_cons(pko_cons(pks_sym_absento, pks_drop_dot(fa)), out);
  out = pks_append(ft, out);
  if (fd != PK_NIL) {
    pk_val dd = PK_NIL;
    for (pk_val d = fd; pko_pairp(d); d = pko_cdr(d)) dd = pko_cons(pks_drop_dot(pko_car(d)), dd);
    out = pko_cons(pko_cons(pks_sym_diseq, pko_reverse(dd)), out);
  }
  return pko_cons_answer(v, out);
}

/* The reified answer for variable x in state st. */
static pk_val pks_reify(pk_val x, const pks_state *st)
{
  pk_val v = pks_walkstar(x, st->S);
  pkm_map R = pks_reify_s(v);
  if (!st->C) return pks_walkstar(v, R);
  pk_val rv = pks_vars(v), T = PK_NIL, D = PK_NIL, A = PK_NIL;
  static const unsigned tcs[3] = { T_NUM, T_STR, T_SYM };
  pk_val tags[3] = { pks_sym_num, pks_sym_str, pks_sym_sym };
  for (int i = 0; i < 3; i++) {
    pk_val xs = PK_NIL;
    for (pk_val r = rv; pko_pairp(r); r = pko_cdr(r))
      if (pks_var_type(st, pko_car(r)) == tcs[i]) xs = pko_cons(pko_car(r), xs);
    T = pko_cons(pko_cons(tags[i], pko_reverse(xs)), T);
  }
  T = pko_reverse(T);
  for (pk_val r = rv; pko_pairp(r); r = pko_cdr(r)) {
    const pks_crec *c = pks_lookup_c(st, pko_car(r));
    for (pk_val d = c->D; pko_pairp(d); d = pko_cdr(d)) {
      pkm_map S = st->S;
      pks_list added = { PK_NIL, NULL };
      pkm_owned o;
      pkm_owned_init(&o);
      if (pks_unify_assoc(&S, pko_car(d), &added, &o)) D = pko_cons(pks_walkstar(added.head, st->S), D);
      pkm_free_owned(&o);
    }
    for (pk_val a = c->A; pko_pairp(a); a = pko_cdr(a))
      A = pko_cons(pko_cons(pks_walkstar(pko_car(a), st->S), pko_car(r)), A);
  }
  D = pks_filter(pko_reverse(D), pks_all_relevant, (const void *)rv);
  A = pks_filter(pko_reverse(A), pks_all_relevant, (const void *)rv);
  pks_dctx dc = { st, A };
  D = pks_rem_subsumed(pks_filter(D, pks_keep_d, &dc), pks_d_subsumed_by);
  A = pks_rem_subsumed(pks_filter(A, pks_keep_a, st), pks_a_subsumed_by);
  return pks_form(pks_walkstar(v, R), pks_walkstar(D, R), pks_walkstar(T, R), pks_walkstar(A, R));
}

/* ---- run -------------------------------------------------------------------------- */

static pk_val pks_reify_goal(pk_val x) { return (pk_val)pks_mkgoal(G_REIFY, x, 0); }

/* The body of run's fresh: (fresh (q) g ... reify) for one query variable;
   (fresh (x) (fresh (q ...) g ... (== (list q ...) x)) reify) for several,
   as faster-miniKanren expands it. */
static pk_val pks_run_body(pks_machine *m, const pks_goal *g, pks_state *st)
{
  const pke_node *n = PKS_NODE(g);
  if (g->h.aux == G_RUN_OUTER && n->a > 1) {
    pk_val x = pks_newvar(st->nv, st->scope), goals[2];
    st = pks_mkstate(st, st->S, st->C, st->nv + 1);
    pks_goal *inner = pks_mkgoal(G_RUN_INNER, (pk_val)n, g->b);
    inner->c = x;
    goals[0] = (pk_val)inner;
    goals[1] = pks_reify_goal(x);
    return pks_conj(m, goals, 2, st);
  }
  pke_env *f = pks_fresh_frame(n, PKS_ENV(g), &st);
  pk_val goals[n->n + 1];
  pks_eval_goals(n, f, st, goals);
  if (g->h.aux == G_RUN_OUTER)
    goals[n->n] = pks_reify_goal(f->v[0]);
  else {
    pk_val qs = PK_NIL;
    for (uint32_t i = n->a; i-- > 0;) qs = pko_cons(f->v[i], qs);
    goals[n->n] = (pk_val)pks_mkgoal(G_UNIFY, qs, g->c);
  }
  return pks_conj(m, goals, n->n + 1, st);
}

static const pks_runner *pks_the_runner;

void pks_set_runner(const pks_runner *r) { pks_the_runner = r; }

pks_query *pks_query_new(const pke_node *run, pke_env *env, int64_t n)
{
  pks_query *q = (pks_query *)pks_opaque(K_QUERY, sizeof *q);
  pks_goal *g = pks_mkgoal(G_RUN_OUTER, 0, 0);
  g->a = (pk_val)run;
  g->b = (pk_val)env;
  pks_state st00 = { { PK_T_OPAQUE, K_STATE }, NULL, NULL, pks_floor, 0 };
  pks_state *st0 = pks_rescope(&st00);
  /* run's outer (suspend ((fresh (q) ...) empty-state)) */
  q->next = pks_mkthunk(TK_APPLY, (pk_val)g, (pk_val)st0);
  q->left = n;
  if (n != 0 && pks_the_runner) {
    q->par = pks_the_runner->start(q->next, n);
    if (!q->par && !pkf_on) q->spec = pks_the_runner->ahead();
  }
  return q;
}

/* End the speculation ahead of q, if any: the pool is free again. */
static void pks_query_unspec(pks_query *q)
{
  if (!q->spec) return;
  pks_the_runner->stop(q->spec);
  q->spec = NULL;
}

void pks_query_stop(pks_query *q)
{
  if (q->par) pks_the_runner->stop(q->par);
  pks_query_unspec(q);
  q->next = PK_FALSE;
}

/* One answer of q into *out, forcing on this thread (and taking what
   workers forced ahead, when q->spec). */
static bool pks_query_step(pks_query *q, pk_val *out)
{
  while (q->left != 0 && q->next != PK_FALSE) {
    pk_val t = q->next;
    q->next = PK_FALSE; /* forcing consumes t, even when it fails */
    pk_val s = pks_force(t);
    if (s == PK_FALSE) break;
    if (pks_thunkp(s)) {
      q->next = s;
      continue;
    }
    if (pks_kind(s) == K_STATE)
      *out = s;
    else {
      *out = ((pks_choice *)s)->a;
      q->next = ((pks_choice *)s)->f;
    }
    if (q->left > 0) q->left--;
    return true;
  }
  return false;
}

bool pks_query_next(pks_query *q, pk_val *out)
{
  if (q->par) return pks_the_runner->next(q->par, out);
  if (!q->spec) return pks_query_step(q, out);
  pko_catch c;
  bool got;
  if (!PKO_TRY(c)) {
    pks_query_unspec(q);
    pko_rethrow();
  }
  got = pks_query_step(q, out);
  PKO_END(c);
  if (!got || q->left == 0) pks_query_unspec(q);
  return got;
}

/* ---- for the scheduler -------------------------------------------------------------- */

int pks_stream_kind(pk_val s)
{
  if (s == PK_FALSE) return PKS_MZERO;
  if (pks_thunkp(s)) return PKS_THUNK;
  return pks_kind(s) == K_STATE ? PKS_UNIT : PKS_CHOICE;
}

pk_val pks_choice_answer(pk_val s) { return ((pks_choice *)s)->a; }
pk_val pks_choice_rest(pk_val s) { return ((pks_choice *)s)->f; }

/* t is (bind ... (bind (mplus x y) g1) ... gk): the binds distribute over
   the mplus, so x and y under the same binds are two independent branches
   whose answers, together, are t's (as a multiset; not in t's order).
   conda/condu questions (TK_IFTE) are never split: committing needs all of
   the question's stream. */
bool pks_split(pk_val t, pk_val *a, pk_val *b)
{
  pk_val goals[64];
  int n = 0;
  while (pks_is(t, TK_BIND) && n < 64) {
    goals[n++] = ((pks_thunk *)t)->y;
    t = ((pks_thunk *)t)->x;
  }
  if (!pks_is(t, TK_MPLUS)) return false;
  pk_val x = ((pks_thunk *)t)->x, y = ((pks_thunk *)t)->y;
  while (n-- > 0) {
    x = pks_mkthunk(TK_BIND, x, goals[n]);
    y = pks_mkthunk(TK_BIND, y, goals[n]);
  }
  *a = x;
  *b = y;
  return true;
}

/* ---- primitives ------------------------------------------------------------------ */

static pk_val pks_p_eq(int c, pk_val *v)
{
  (void)c;
  return (pk_val)pks_mkgoal(G_UNIFY, v[0], v[1]);
}
static pk_val pks_p_neq(int c, pk_val *v)
{
  (void)c;
  return (pk_val)pks_mkgoal(G_DISEQ, v[0], v[1]);
}
static pk_val pks_p_absento(int c, pk_val *v)
{
  (void)c;
  return (pk_val)pks_mkgoal(G_ABSENTO, v[0], v[1]);
}
static pk_val pks_p_symbolo(int c, pk_val *v)
{
  (void)c;
  return (pk_val)pks_mkgoal(G_TYPE, v[0], pko_mkfix(T_SYM));
}
static pk_val pks_p_numbero(int c, pk_val *v)
{
  (void)c;
  return (pk_val)pks_mkgoal(G_TYPE, v[0], pko_mkfix(T_NUM));
}
static pk_val pks_p_stringo(int c, pk_val *v)
{
  (void)c;
  return (pk_val)pks_mkgoal(G_TYPE, v[0], pko_mkfix(T_STR));
}
/* (var? x): x is a logic variable; in a project body, an unbound one
   (kanren's isvar, for relations that branch on what is known). */
static pk_val pks_p_varp(int c, pk_val *v)
{
  (void)c;
  return pko_mkbool(pko_varp(v[0]));
}
static pk_val pks_p_onceo(int c, pk_val *v)
{
  (void)c;
  if (!pks_goalp(v[0])) pko_error_val("onceo: not a goal", v[0]);
  return (pk_val)pks_mkgoal(G_ONCE, v[0], 0);
}

/* The arguments of a foreign or G_FIRST goal (the list l of n) walked in
   st, into args. */
static void pks_walk_args(pk_val l, long n, const pks_state *st, pk_val *args)
{
  for (long i = 0; i < n; i++, l = pko_cdr(l)) args[i] = pks_walkstar(pko_car(l), st->S);
}

/* A goal of the given kind over the argument list of argv, with its
   function fn. */
static pks_goal *pks_args_goal(unsigned kind, int argc, const pk_val *argv, pk_val fn)
{
  pk_val args = PK_NIL;
  for (int i = argc; i-- > 0;) args = pko_cons(argv[i], args);
  return pks_mkgoal(kind, args, fn);
}

/* The stream of foreign goal g on st: fail, st itself, or one branch per
   answer the function gave, in its order, each unifying the argument list
   with the answer (a new scope first, as conde's clauses start one: the
   branches share st). */
static pk_val pks_foreign_apply(const pks_goal *g, pks_state *st)
{
  long n = pko_length(g->a);
  pk_val args[n > 0 ? n : 1], l;
  pks_walk_args(g->a, n, st, args);
  pk_val r = ((pks_foreign_fn)g->b)((int)n, args, (void *)g->c);
  if (r == PK_TRUE) return (pk_val)st;
  if (r == PK_FALSE || r == PK_NIL) return PK_FALSE;
  st = pks_rescope(st);
  pk_val s = PK_FALSE;
  for (l = pko_reverse(r); l != PK_NIL; l = pko_cdr(l)) {
    pk_val b = pks_mkthunk(TK_APPLY, (pk_val)pks_mkgoal(G_UNIFY, g->a, pko_car(l)), (pk_val)st);
    s = s == PK_FALSE ? b : pks_mkthunk(TK_MPLUS, b, s);
  }
  return s;
}

pk_val pks_foreign_goal(pks_foreign_fn fn, void *data, int argc, const pk_val *argv)
{
  pks_goal *g = pks_args_goal(G_FOREIGN, argc, argv, (pk_val)fn);
  g->c = (pk_val)data;
  return (pk_val)g;
}

/* The stream of G_FIRST goal g on st: the function's first answer (the
   arguments unified with it), then the slow goal's answers after its first
   (which the function computed); the slow goal alone when the function
   declines or its answer does not unify here (then the slow goal's first
   answer is another one); nothing when the function says there is none. */
static pk_val pks_first_apply(const pks_goal *g, pks_state *st)
{
  long n = pko_length(g->a);
  pk_val args[n > 0 ? n : 1];
  pks_walk_args(g->a, n, st, args);
  pk_val r = ((pks_first_fn)g->b)((pk_val)st, (int)n, args);
  if (r == PK_FALSE) return PK_FALSE;
  if (r == 0) return pks_apply(g->c, st);
  pk_val a = pks_apply((pk_val)pks_mkgoal(G_UNIFY, g->a, r), pks_rescope(st)); /* st starts two branches */
  if (a == PK_FALSE) return pks_apply(g->c, st);
  pk_val slow = pks_mkthunk(TK_DROP1, pks_mkthunk(TK_APPLY, g->c, (pk_val)pks_rescope(st)), 0);
  return pks_choice_new(a, slow);
}

pk_val pks_first_goal(pks_first_fn fn, int argc, const pk_val *argv, pk_val slow)
{
  if (!pks_goalp(slow)) pko_error_val("not a goal", slow);
  pks_goal *g = pks_args_goal(G_FIRST, argc, argv, (pk_val)fn);
  g->c = slow;
  return (pk_val)g;
}

int pks_first_in(pk_val state, pk_val rel, pk_val a, pk_val *out)
{
  const pks_state *st = (const pks_state *)state;
  pks_state *s = pks_rescope(st);
  pk_val b = pks_newvar(s->nv++, s->scope);
  uint64_t floor0 = pks_floor, outer0 = pks_outer;
  bool touched0 = pks_touched;
  pks_floor = s->nv;
  pk_val args[2] = { a, b }, g = pke_apply(rel, 2, args);
  pks_floor = floor0;
  if (!pks_goalp(g)) pko_error_val("not a goal", g);
  pks_outer = st->nv;
  pks_touched = false;
  pk_val r = pks_apply(g, s);
  while (r != PK_FALSE && pks_thunkp(r)) r = pks_force(r);
  bool touched = pks_touched;
  pks_outer = outer0;
  pks_touched = touched0;
  if (r == PK_FALSE) return 0;
  if (touched) return -1;
  *out = pks_reify(b, (const pks_state *)(pks_kind(r) == K_STATE ? r : ((pks_choice *)r)->a));
  return 1;
}

void pks_tick(void)
{
  if (--pks_ticks < 0) pks_ticks = pks_refill();
}

/* Register ==, =/=, the type constraints, absento, onceo, succeed, fail. */
void pks_init(void)
{
  pko_defprim("==", pks_p_eq, 2, 2);
  pko_defprim("=/=", pks_p_neq, 2, 2);
  pko_defprim("absento", pks_p_absento, 2, 2);
  pko_defprim("symbolo", pks_p_symbolo, 1, 1);
  pko_defprim("numbero", pks_p_numbero, 1, 1);
  pko_defprim("stringo", pks_p_stringo, 1, 1);
  pko_defprim("onceo", pks_p_onceo, 1, 1);
  pko_defprim("var?", pks_p_varp, 1, 1);
  pko_symbol *s = pko_as_sym(pko_sym("succeed"));
  s->value = (pk_val)pks_mkgoal(G_SUCCEED, 0, 0);
  s->flags |= PKO_SYM_DEFINED;
  s = pko_as_sym(pko_sym("fail"));
  s->value = (pk_val)pks_mkgoal(G_FAIL, 0, 0);
  s->flags |= PKO_SYM_DEFINED;
  pks_sym_num = pko_sym("num");
  pks_sym_str = pko_sym("str");
  pks_sym_sym = pko_sym("sym");
  pks_sym_diseq = pko_sym("=/=");
  pks_sym_absento = pko_sym("absento");
}
