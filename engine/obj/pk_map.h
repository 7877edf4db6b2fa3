/*
** pk_map.h — persistent integer-keyed maps (CHAMP trie, 16-way).
**
** Used for substitutions (variable id -> term) and constraint stores
** (variable id -> constraint record).  A map is immutable: pkm_set returns a
** new map that shares all untouched nodes with the old one, so any number of
** search branches, on any threads, may hold and extend the same map with no
** copy and no lock.  Nodes live in the collected heap.
** Cost: lookup is one popcount and one load per level (log16 n levels);
** insert copies one node per level (path copying).
**
** The trie is keyed on the key bits themselves, least significant nibble
** first: ids are dense, so the low bits already spread keys evenly and no
** hash is needed.  The arity choice (16 vs 32) and its measurements are in
** pk_map.c; PKM_BITS exists only so bench/map_bench.c can rebuild the 32-way
** variant (every file of one program must agree on it).
*/
#ifndef PK_MAP_H
#define PK_MAP_H
#include "pk_obj.h"

#ifndef PKM_BITS
#define PKM_BITS 4
#endif
#if PKM_BITS == 4
typedef uint16_t pkm_bitmap;
#elif PKM_BITS == 5
typedef uint32_t pkm_bitmap;
#else
#error "PKM_BITS must be 4 (16-way) or 5 (32-way)"
#endif
#define PKM_MASK ((1u << PKM_BITS) - 1)

/* One trie node.  A slot holding bit b of the key's current digit is either
   a child (bit b of nodemap) or an inline key/value pair (bit b of datamap),
   never both.  slot[] holds the children first, in bit order, then the
   pairs as key,value word pairs in bit order: descending needs one popcount,
   only the last level needs two.  No cached count: a node changed in place
   would need its ancestors' counts changed too, so every ancestor would
   have to be owned.  Never mutated after pkm_set returns it;
   pkm_set_owned mutates only nodes its caller owns. */
struct pkm_node {
  pkm_bitmap nodemap, datamap;
  uintptr_t slot[];
};

typedef const struct pkm_node *pkm_map; /* NULL is the empty map */

/* Population count without a libgcc call: x86-64's baseline ISA has no
   POPCNT, and there __builtin_popcount becomes a call to __popcountdi2.
   With -mpopcnt (or any -march that has it) this is one instruction;
   otherwise two loads from a 256-byte table that stays in L1, which
   measured nearly twice as fast as the shift-and-mask sequence and a third
   slower than the instruction (numbers in pk_map.c).  Plain C99 inline like
   pkm_get, which may not call a static function. */
extern const uint8_t pkm_pop8[256] __attribute__((visibility("hidden")));
inline unsigned pkm_popc(uint32_t x)
{
#if defined(__POPCNT__) || !defined(__x86_64__)
  return (unsigned)__builtin_popcount(x);
#elif PKM_BITS == 4
  return pkm_pop8[x & 255] + pkm_pop8[(x >> 8) & 255];
#else
  return pkm_pop8[x & 255] + pkm_pop8[(x >> 8) & 255] + pkm_pop8[(x >> 16) & 255] + pkm_pop8[x >> 24];
#endif
}

/* Value bound to key, or PK_UNBOUND. Thread-safe (read-only).
   Inline (C99 inline: pk_map.c emits the one external definition) because
   walk() calls it in a loop; no calls inside: per level about nine
   instructions with POPCNT, thirteen with the table, plus the final key
   compare. */
inline pk_val pkm_get(pkm_map m, uint64_t key)
{
  uint64_t k = key;
  if (!m) return PK_UNBOUND;
  for (;;) {
    uint32_t bit = 1u << (k & PKM_MASK);
    uint32_t below = bit - 1;
    if (m->nodemap & bit) {
      m = (pkm_map)m->slot[pkm_popc(m->nodemap & below)];
      k >>= PKM_BITS;
      continue;
    }
    if (!(m->datamap & bit)) return PK_UNBOUND;
    const uintptr_t *e = &m->slot[pkm_popc(m->nodemap) + 2 * pkm_popc(m->datamap & below)];
    return e[0] == key ? e[1] : PK_UNBOUND;
  }
}
/* m with key bound to v (replacing any old binding). Thread-safe.
   Returns m itself when key is already bound to v. */
pkm_map pkm_set(pkm_map m, uint64_t key, pk_val v);
/* Nodes a caller made and nobody else has seen yet, so it may update them
   in place (a transient, as in Clojure): the last PKM_OWNED_MAX made, a
   ring (older ones are simply copied again).  Only compared with the nodes
   of a map being updated, never followed, so a list that outlives some of
   its nodes is harmless; pkm_free_owned does follow them, so a list to be
   freed must stay where the collector scans (the C stack). */
#define PKM_OWNED_MAX 32
typedef struct pkm_owned {
  unsigned n;
  struct pkm_node *node[PKM_OWNED_MAX];
} pkm_owned;
/* Empty o (one store: the node array is not cleared). */
static inline void pkm_owned_init(pkm_owned *o) { o->n = 0; }
/* pkm_set that updates the nodes in o in place and adds the nodes it makes
   to o (o NULL: pkm_set).  No one but the caller may use a map built on
   o's nodes once it is updated: a scratch map, or the maps of one search
   branch between two disjunctions (pks_tx in pk_search.c).  A chain of k
   updates on one path then copies it once instead of k times.  One
   thread. */
pkm_map pkm_set_owned(pkm_map m, uint64_t key, pk_val v, pkm_owned *o);
/* Give o's nodes back to this thread's free lists and empty o: every map
   built on them must be dropped already (a scratch map). */
void pkm_free_owned(pkm_owned *o);
/* Number of keys.  O(n): for tests and statistics. */
size_t pkm_count(pkm_map m);
/* Call fn(key, value, ctx) for every binding (deterministic order). */
void pkm_foreach(pkm_map m, void (*fn)(uint64_t key, pk_val v, void *ctx), void *ctx);

#endif
