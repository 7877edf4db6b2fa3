/*
** pk_hcons.c — the hash-consing table (see pk_hcons.h).
**
** 64 shards, each an open-addressing array of canonical values (linear
** probing, 0 = empty), grown by doubling at 3/4 load.  An array and its
** capacity are one collected object, published with a release store, so a
** lock-free reader always sees a consistent (possibly outdated) array;
** slots go from 0 to a value exactly once, with a release store after the
** node is complete.  A reader that misses in an outdated array retries
** under the lock in the current one, so a term is never inserted twice.
*/
#include "pk_hcons.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define PKH_SHARD_BITS 6
#define PKH_SHARDS (1u << PKH_SHARD_BITS)

typedef struct pkh_arr {
  size_t cap;                    /* power of two */
  _Atomic pk_val slot[];
} pkh_arr;

typedef struct pkh_shard {
  pthread_mutex_t lock;
  _Atomic(pkh_arr *) arr;
  size_t count, pairs;           /* under lock */
  uint32_t next_id;              /* under lock */
  char pad[64];                  /* shards on separate cache lines */
} pkh_shard;

static pkh_shard pkh_tab[PKH_SHARDS];
static pthread_once_t pkh_once = PTHREAD_ONCE_INIT;

/* Out of memory while interning is not recoverable for any caller. */
static _Noreturn void pkh_oom(void)
{
  fputs("pkanren: out of memory\n", stderr);
  abort();
}

/* An empty array of cap slots (collected, scanned: it keeps the terms). */
static pkh_arr *pkh_newarr(size_t cap)
{
  pkh_arr *a = GC_MALLOC(sizeof *a + cap * sizeof(pk_val));
  if (!a) pkh_oom();
  a->cap = cap;
  return a;
}

/* Locks and first arrays (the collector must be up: pko_init first). */
static void pkh_init_once(void)
{
  for (unsigned k = 0; k < PKH_SHARDS; k++) {
    pthread_mutex_init(&pkh_tab[k].lock, NULL);
    atomic_store(&pkh_tab[k].arr, pkh_newarr(256));
    pkh_tab[k].next_id = 1;
  }
}

/* ---- hashing --------------------------------------------------------------- */

/* Murmur3's finaliser: every input bit reaches every output bit. */
static inline uint64_t pkh_mix(uint64_t x)
{
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

/* FNV-1a of bytes. */
static uint64_t pkh_bytes(const char *s, size_t n)
{
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

/* Hash of a canonical atom by contents (so the same in every run), or of an
   interned pair from its node.  Numbers of different types hash apart. */
static uint32_t pkh_hash_of(pk_val v)
{
  if (pko_pairp(v)) return pkh_node_of(v)->hash;
  switch (pko_typeof(v)) {
  case PK_T_SYMBOL: return (uint32_t)pkh_mix(pko_as_sym(v)->hash);
  case PK_T_STRING: return (uint32_t)pkh_mix(pkh_bytes(pko_as_str(v)->s, pko_as_str(v)->len) ^ 1);
  case PK_T_FLONUM: {
    double d = pko_flo(v);
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return (uint32_t)pkh_mix(bits ^ 2);
  }
  case PK_T_INT: return (uint32_t)pkh_mix((uint64_t)((pko_int *)v)->i ^ 3);
  case PK_T_RATIO: return (uint32_t)pkh_mix((uint64_t)pko_as_ratio(v)->num * 31 + (uint64_t)pko_as_ratio(v)->den + 4);
  case PK_T_TENSOR: return (uint32_t)pkh_mix(pko_tensor_hash(v));
  default: return (uint32_t)pkh_mix((uint64_t)v);   /* fixnums, immediates, characters */
  }
}

uint32_t pkh_hash(pk_val t) { return pkh_hash_of(t); }

/* The hash of the pair (a . d) from its parts' hashes. */
static inline uint32_t pkh_pairhash(uint32_t ha, uint32_t hd)
{
  return (uint32_t)pkh_mix(((uint64_t)ha << 32 | hd) ^ 0x9e3779b97f4a7c15ull);
}

/* Boxed atoms that interning makes canonical. */
static bool pkh_boxed(pk_val v)
{
  pko_type t = pko_typeof(v);
  return t == PK_T_STRING || t == PK_T_FLONUM || t == PK_T_INT || t == PK_T_RATIO || t == PK_T_TENSOR;
}

/* Atoms that are canonical as they are. */
static bool pkh_plain(pk_val v)
{
  if (pko_fixnump(v) || pko_charp(v)) return true;
  if ((v & PK_TAG_MASK) == PK_TAG_IMM) return v == PK_NIL || v == PK_TRUE || v == PK_FALSE;
  return pko_symbolp(v) && !(pko_as_sym(v)->flags & PKO_SYM_GENSYM);
}

/* ---- the table ------------------------------------------------------------- */

static inline pkh_shard *pkh_shard_of(uint32_t h) { return &pkh_tab[h >> (32 - PKH_SHARD_BITS)]; }

/* Does slot value s hold the pair (a . d) with hash h? */
static inline bool pkh_is_pair(pk_val s, uint32_t h, pk_val a, pk_val d)
{
  if (!pko_pairp(s)) return false;
  const pkh_node *n = pkh_node_of(s);
  return n->hash == h && n->car == a && n->cdr == d;
}

/* Does slot value s hold an atom equal to a (same type, contents)? */
static inline bool pkh_is_atom(pk_val s, pk_val a)
{
  return !pko_pairp(s) && pko_typeof(s) == pko_typeof(a) && pko_equal(s, a);
}

/* Probe arr for (a . d) (pair) or atom a: the value, or 0 at the first
   empty slot (*at: its index). */
static pk_val pkh_probe(const pkh_arr *arr, uint32_t h, bool pair, pk_val a, pk_val d, size_t *at)
{
  size_t m = arr->cap - 1, i = h & m;
  for (;;) {
    pk_val s = atomic_load_explicit(&arr->slot[i], memory_order_acquire);
    if (!s) {
      *at = i;
      return 0;
    }
    if (pair ? pkh_is_pair(s, h, a, d) : pkh_is_atom(s, a)) return s;
    i = (i + 1) & m;
  }
}

/* Double a shard's array (lock held); the old one stays valid for readers. */
static void pkh_grow(pkh_shard *sh)
{
  pkh_arr *old = atomic_load_explicit(&sh->arr, memory_order_relaxed);
  pkh_arr *na = pkh_newarr(old->cap * 2);
  size_t m = na->cap - 1;
  for (size_t k = 0; k < old->cap; k++) {
    pk_val s = atomic_load_explicit(&old->slot[k], memory_order_relaxed);
    if (!s) continue;
    size_t i = pkh_hash_of(s) & m;
    while (atomic_load_explicit(&na->slot[i], memory_order_relaxed)) i = (i + 1) & m;
    atomic_store_explicit(&na->slot[i], s, memory_order_relaxed);
  }
  atomic_store_explicit(&sh->arr, na, memory_order_release);
}

/* Find or add: the lock-free probe, then the locked probe and insert.
   make builds the value to insert (pair: a node; atom: a itself). */
static pk_val pkh_find_add(uint32_t h, bool pair, pk_val a, pk_val d)
{
  pkh_shard *sh = pkh_shard_of(h);
  size_t at;
  pk_val v = pkh_probe(atomic_load_explicit(&sh->arr, memory_order_acquire), h, pair, a, d, &at);
  if (v) return v;
  pthread_mutex_lock(&sh->lock);
  if ((sh->count + 1) * 4 > atomic_load_explicit(&sh->arr, memory_order_relaxed)->cap * 3) pkh_grow(sh);
  pkh_arr *arr = atomic_load_explicit(&sh->arr, memory_order_relaxed);
  v = pkh_probe(arr, h, pair, a, d, &at);
  if (!v) {
    if (pair) {
      pkh_node *n = pko_alloc(sizeof *n);
      n->car = a;
      n->cdr = d;
      n->hash = h;
      n->id = sh->next_id++ << PKH_SHARD_BITS | (uint32_t)(sh - pkh_tab);
      v = (pk_val)n | PK_TAG_GPAIR;
      sh->pairs++;
    } else {
      v = a;
    }
    atomic_store_explicit(&arr->slot[at], v, memory_order_release);
    sh->count++;
  }
  pthread_mutex_unlock(&sh->lock);
  return v;
}

/* ---- public -------------------------------------------------------------------- */

pk_val pkh_cons(pk_val car, pk_val cdr)
{
  pthread_once(&pkh_once, pkh_init_once);
  return pkh_find_add(pkh_pairhash(pkh_hash_of(car), pkh_hash_of(cdr)), true, car, cdr);
}

pk_val pkh_atom(pk_val a)
{
  if (pkh_plain(a)) return a;
  if (!pkh_boxed(a)) return 0;
  pthread_once(&pkh_once, pkh_init_once);
  return pkh_find_add(pkh_hash_of(a), false, a, 0);
}

bool pkh_internedp(pk_val t)
{
  if (pko_pairp(t)) return GC_size(pko_as_pair(t)) == sizeof(pkh_node);
  return pkh_plain(t) || (pkh_boxed(t) && pkh_atom(t) == t);
}

/* Post-order over the pairs not yet interned: frames are (pair, interned
   car or 0); collected memory, so the partial results stay alive. */
pk_val pkh_intern(pk_val t)
{
  if (!pko_pairp(t)) return pkh_atom(t);
  if (pkh_internedp(t)) return t;
  size_t cap = 64, n = 0;
  pk_val *st = GC_MALLOC(cap * sizeof *st), res = 0;
  if (!st) pkh_oom();
  st[n++] = t;
  st[n++] = 0;
  while (n) {
    pk_val p = st[n - 2], half = st[n - 1] ? pko_cdr(p) : pko_car(p);
    pk_val got = 0;
    if (!pko_pairp(half) || pkh_internedp(half)) {
      got = pko_pairp(half) ? half : pkh_atom(half);
      if (!got) return 0;
    } else {
      if (n + 2 > cap) {
        pk_val *ns = GC_MALLOC(2 * cap * sizeof *ns);
        if (!ns) pkh_oom();
        memcpy(ns, st, n * sizeof *ns);
        st = ns;
        cap *= 2;
      }
      st[n++] = half;
      st[n++] = 0;
      continue;
    }
    /* got is the interned half; climb while frames complete */
    for (;;) {
      if (!st[n - 1]) {
        st[n - 1] = got;
        break;
      }
      res = pkh_cons(st[n - 1], got);
      n -= 2;
      if (!n) return res;
      got = res;
    }
  }
  return res;
}

void pkh_get_stats(pkh_stats *s)
{
  pthread_once(&pkh_once, pkh_init_once);
  *s = (pkh_stats){ 0 };
  for (unsigned k = 0; k < PKH_SHARDS; k++) {
    pthread_mutex_lock(&pkh_tab[k].lock);
    s->pairs += pkh_tab[k].pairs;
    s->atoms += pkh_tab[k].count - pkh_tab[k].pairs;
    s->slots += atomic_load_explicit(&pkh_tab[k].arr, memory_order_relaxed)->cap;
    pthread_mutex_unlock(&pkh_tab[k].lock);
  }
  s->bytes = s->pairs * sizeof(pkh_node) + s->slots * sizeof(pk_val);
}
