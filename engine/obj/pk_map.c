/*
** pk_map.c — persistent integer-keyed maps: a CHAMP trie (Steindorfer &
** Vinju, OOPSLA 2015) keyed directly on the key bits, low digit first.
**
** Each node has a nodemap (slots holding a child) and a datamap (slots
** holding an inline key/value pair); slot[] is packed: children, then pairs,
** both in bit order, indexed by popcount.  A pair stays at the highest level
** where its digit prefix is unique; only when a second key lands on the same
** slot are both pushed down into a new child.  There is no deletion, so the
** canonical-form compaction of the paper is not needed.
**
** Arity: 16-way (PKM_BITS 4), chosen by bench/map_bench.c: gcc 12 -O2,
** shared 2-core Xeon VM, engine allocator (pko_alloc), maps built by
** inserting ids 0..n-1 in order; ns, best of 4 runs of process CPU time.
** "extend" binds one fresh id on the full map (the cost of a unification
** step); "walk" chases a random chain of bindings (dependent lookups).
** With 64 MB of live heap, so that collections have real marking work:
**
**                          16-way              32-way
**   n = 100 / 10k / 1M    table   popcnt      table   popcnt
**   get, random   100      2.4     1.8         4.0     1.7
**                 10k      6.5     5.0         7.4     3.2
**                 1M        41      33          40      21
**   walk          1M       158     140         130     107
**   extend        100      224     219         268     278
**                 10k      409     437         580     584
**                 1M       725     732        1043    1076
**   bytes/extend  100 / 10k / 1M:  282 / 496 / 848  vs  357 / 732 / 1328
**
** 32-way saves a level on lookups, but every insert copies and allocates
** half as much again (a full node is 264 bytes against 136), and up to
** 10k keys an insert costs as much as 60..100 lookups, mostly allocation
** and collection (perf: about 60% of an insert's time is in libgc).  At 10k keys
** the 32-way map breaks even only above ~80 lookups per insert with the
** POPCNT instruction, and never with the table.  The header is one word
** either way.
** pkm_popc (pk_map.h): without -mpopcnt the 256-byte table measured 2.4 /
** 6.6 ns (n = 100 / 10k) where the shift-and-mask sequence took 4.9 / 12.0.
*/
#include "pk_map.h"

#include <string.h>

_Static_assert(sizeof(uintptr_t) == sizeof(uint64_t), "keys live in slots");
_Static_assert(sizeof(pk_val) == sizeof(uintptr_t), "values live in slots");

/* The external definitions of the header's inline functions. */
extern inline unsigned pkm_popc(uint32_t x);
extern inline pk_val pkm_get(pkm_map m, uint64_t key);

/* Bit counts of every byte, for pkm_popc when POPCNT is not available. */
#define PKM_B2(n) n, n + 1, n + 1, n + 2
#define PKM_B4(n) PKM_B2(n), PKM_B2(n + 1), PKM_B2(n + 1), PKM_B2(n + 2)
#define PKM_B6(n) PKM_B4(n), PKM_B4(n + 1), PKM_B4(n + 1), PKM_B4(n + 2)
const uint8_t pkm_pop8[256] = { PKM_B6(0), PKM_B6(1), PKM_B6(1), PKM_B6(2) };

/* Levels needed to consume all 64 key bits: the path stack bound. */
#define PKM_DEPTH ((64 + PKM_BITS - 1) / PKM_BITS)

typedef struct pkm_node pkm_node;

/* Digit of key at the given shift, as a one-bit mask.  One shift, one and. */
static inline uint32_t pkm_bit(uint64_t key, unsigned shift) { return 1u << ((key >> shift) & PKM_MASK); }

/* Words in slot[] for the given maps. */
static inline size_t pkm_width(uint32_t nodemap, uint32_t datamap)
{
  return pkm_popc(nodemap) + 2 * (size_t)pkm_popc(datamap);
}

/* A node with its maps set and slot[] left for the caller to fill.
   One collector allocation (thread-local free list), 8 + 8*width bytes. */
static pkm_node *pkm_alloc(pkm_owned *o, uint32_t nodemap, uint32_t datamap)
{
  pkm_node *n = pko_alloc(sizeof *n + pkm_width(nodemap, datamap) * sizeof(uintptr_t));
  n->nodemap = (pkm_bitmap)nodemap;
  n->datamap = (pkm_bitmap)datamap;
  if (o) o->node[o->n++ % PKM_OWNED_MAX] = n;
  return n;
}

/* Entries of o in use. */
static unsigned pkm_owned_len(const pkm_owned *o) { return o->n < PKM_OWNED_MAX ? o->n : PKM_OWNED_MAX; }

/* n as a node the caller may change in place, or NULL.  At most
   PKM_OWNED_MAX compares. */
static pkm_node *pkm_owned_node(const pkm_owned *o, pkm_map n)
{
  if (o)
    for (unsigned i = 0, k = pkm_owned_len(o); i < k; i++)
      if (o->node[i] == n) return o->node[i];
  return NULL;
}

/* Copy of n whose child at bit is c.  Path copying's step: one node-sized
   allocation and memcpy per level. */
static pkm_node *pkm_with_child(pkm_owned *o, pkm_map n, uint32_t bit, pkm_map c)
{
  size_t w = pkm_width(n->nodemap, n->datamap);
  pkm_node *r = pkm_alloc(o, n->nodemap, n->datamap);
  memcpy(r->slot, n->slot, w * sizeof(uintptr_t));
  r->slot[pkm_popc(n->nodemap & (bit - 1))] = (uintptr_t)c;
  return r;
}

/* Copy of n with the value word at slot index j replaced. */
static pkm_node *pkm_with_value(pkm_owned *o, pkm_map n, size_t j, pk_val v)
{
  size_t w = pkm_width(n->nodemap, n->datamap);
  pkm_node *r = pkm_alloc(o, n->nodemap, n->datamap);
  memcpy(r->slot, n->slot, w * sizeof(uintptr_t));
  r->slot[j] = v;
  return r;
}

/* Copy of n with a new pair in the empty slot bit.  Two memcpys around a
   two-word gap. */
static pkm_node *pkm_with_pair(pkm_owned *o, pkm_map n, uint32_t bit, uint64_t key, pk_val v)
{
  size_t w = pkm_width(n->nodemap, n->datamap);
  size_t j = pkm_popc(n->nodemap) + 2 * (size_t)pkm_popc(n->datamap & (bit - 1));
  pkm_node *r = pkm_alloc(o, n->nodemap, n->datamap | bit);
  memcpy(r->slot, n->slot, j * sizeof(uintptr_t));
  r->slot[j] = key;
  r->slot[j + 1] = v;
  memcpy(r->slot + j + 2, n->slot + j, (w - j) * sizeof(uintptr_t));
  return r;
}

/* Copy of n where the pair at bit moved down into child c (which holds it
   and one new key): the slot changes from datamap to nodemap. */
static pkm_node *pkm_with_pushdown(pkm_owned *o, pkm_map n, uint32_t bit, pkm_map c)
{
  size_t w = pkm_width(n->nodemap, n->datamap);
  size_t ci = pkm_popc(n->nodemap & (bit - 1));
  size_t j = pkm_popc(n->nodemap) + 2 * (size_t)pkm_popc(n->datamap & (bit - 1));
  pkm_node *r = pkm_alloc(o, n->nodemap | bit, n->datamap & ~bit);
  memcpy(r->slot, n->slot, ci * sizeof(uintptr_t));
  r->slot[ci] = (uintptr_t)c;
  memcpy(r->slot + ci + 1, n->slot + ci, (j - ci) * sizeof(uintptr_t));
  memcpy(r->slot + j + 1, n->slot + j + 2, (w - j - 2) * sizeof(uintptr_t));
  return r;
}

/* Subtree at level shift holding two distinct keys whose digits agree below
   shift.  Keys sharing further digits get a chain of one-child nodes; dense
   ids share at most a level or two, so this is usually one 40-byte node. */
static pkm_map pkm_merge(pkm_owned *o, uint64_t k1, pk_val v1, uint64_t k2, pk_val v2, unsigned shift)
{
  unsigned s = shift;
  while (pkm_bit(k1, s) == pkm_bit(k2, s)) s += PKM_BITS;
  uint32_t b1 = pkm_bit(k1, s), b2 = pkm_bit(k2, s);
  pkm_node *leaf = pkm_alloc(o, 0, b1 | b2);
  int first = b1 < b2 ? 0 : 2;
  leaf->slot[first] = k1;
  leaf->slot[first + 1] = v1;
  leaf->slot[2 - first] = k2;
  leaf->slot[3 - first] = v2;
  pkm_map c = leaf;
  while (s > shift) {
    s -= PKM_BITS;
    pkm_node *up = pkm_alloc(o, pkm_bit(k1, s), 0);
    up->slot[0] = (uintptr_t)c;
    c = up;
  }
  return c;
}

/* Descend recording the path, change the last node, then copy the path
   bottom-up, up to the first node o owns: that one changes in place and
   the nodes above it stay as they are.  Cost: one node copy per level below
   the lowest owned node (about 480 bytes per insert at 10k keys when none
   is owned) and no recursion. */
pkm_map pkm_set_owned(pkm_map m, uint64_t key, pk_val v, pkm_owned *o)
{
  pkm_map path[PKM_DEPTH];
  uint32_t bits[PKM_DEPTH];
  unsigned d = 0, shift = 0;
  if (!m) {
    pkm_node *r = pkm_alloc(o, 0, pkm_bit(key, 0));
    r->slot[0] = key;
    r->slot[1] = v;
    return r;
  }
  pkm_map n = m, r;
  for (;;) {
    uint32_t bit = pkm_bit(key, shift);
    if (n->nodemap & bit) {
      path[d] = n;
      bits[d++] = bit;
      n = (pkm_map)n->slot[pkm_popc(n->nodemap & (bit - 1))];
      shift += PKM_BITS;
      continue;
    }
    if (!(n->datamap & bit)) {
      r = pkm_with_pair(o, n, bit, key, v);
      break;
    }
    size_t j = pkm_popc(n->nodemap) + 2 * (size_t)pkm_popc(n->datamap & (bit - 1));
    if (n->slot[j] == key) {
      if (n->slot[j + 1] == v) return m;
      pkm_node *w = pkm_owned_node(o, n);
      if (w) {
        w->slot[j + 1] = v;
        return m;
      }
      r = pkm_with_value(o, n, j + 1, v);
    } else {
      pkm_map c = pkm_merge(o, n->slot[j], n->slot[j + 1], key, v, shift + PKM_BITS);
      r = pkm_with_pushdown(o, n, bit, c);
    }
    break;
  }
  while (d--) {
    pkm_node *w = pkm_owned_node(o, path[d]);
    if (w) {
      w->slot[pkm_popc(w->nodemap & (bits[d] - 1))] = (uintptr_t)r;
      return m;
    }
    r = pkm_with_child(o, path[d], bits[d], r);
  }
  return r;
}

pkm_map pkm_set(pkm_map m, uint64_t key, pk_val v) { return pkm_set_owned(m, key, v, NULL); }

void pkm_free_owned(pkm_owned *o)
{
  for (unsigned i = 0, k = pkm_owned_len(o); i < k; i++) {
    pkm_node *n = o->node[i];
    pko_free_owned(n, sizeof *n + pkm_width(n->nodemap, n->datamap) * sizeof(uintptr_t));
  }
  pkm_owned_init(o);
}

size_t pkm_count(pkm_map m)
{
  if (!m) return 0;
  size_t nc = pkm_popc(m->nodemap), k = pkm_popc(m->datamap);
  for (size_t i = 0; i < nc; i++) k += pkm_count((pkm_map)m->slot[i]);
  return k;
}

/* Pairs of a node in bit order, then its children in bit order; recursion
   depth is at most PKM_DEPTH.  The order depends only on the key set. */
void pkm_foreach(pkm_map m, void (*fn)(uint64_t key, pk_val v, void *ctx), void *ctx)
{
  if (!m) return;
  size_t nc = pkm_popc(m->nodemap), w = pkm_width(m->nodemap, m->datamap);
  for (size_t j = nc; j < w; j += 2) fn(m->slot[j], m->slot[j + 1], ctx);
  for (size_t i = 0; i < nc; i++) pkm_foreach((pkm_map)m->slot[i], fn, ctx);
}
