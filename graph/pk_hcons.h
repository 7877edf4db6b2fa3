/*
** pk_hcons.h — hash-consing: one canonical copy of every ground data term.
**
** Interned terms stay ordinary values (pairs, symbols, numbers, strings,
** tensors), so relations written in the language match them with ==; what
** interning adds is that equal terms are the same value, so comparing two
** interned terms is one pointer compare, and a term used twice is one node.
**
** The unit of interning is a list (a term (op arg ...), or any list in a
** term), not a pair: a list whose elements are canonical is looked up by
** its elements, in one probe.  Its first pair is a 32-byte pkh_node whose
** first 16 bytes are the pair (car, cdr), so every pair accessor works on
** it unchanged; the other 16 bytes hold what the rewriting driver needs: a
** stable structural hash and an id unique in the process (its key for
** per-call tables).
** The rest of the list is ordinary pairs, allocated in the same block
** right after the node: a list's tail is not itself a canonical list
** (pkh_intern of it gives the list node that is).  Boxed
** atoms (flonums, strings, tensors, boxed integers, ratios) are interned
** too, so "equal? is eq?" holds for every element of every interned list;
** fixnums, symbols and immediates already are canonical.  Only ground data
** can be interned: no logic variables, procedures, vectors or other
** internal objects.
**
** The table is process-wide, split in 64 shards by hash.  Lookups probe a
** shard without a lock; a miss takes the shard's lock, probes again and
** inserts.  So any number of threads may intern at once.  Interned terms
** live as long as the process (the table references them), except those
** made in a scope (pkh_scope_begin, below), which live as long as it.
**
** Memory (64-bit) per distinct list of n elements: a 32-byte node, n - 1
** 16-byte pairs, and 12 bytes per table slot (value and hash) at a load
** between 3/8 and 3/4.  A binary term (op a b): 32 + 32 + 16..32 = 80..96
** bytes.  pkh_get_stats reports the exact figures.
*/
#ifndef PK_HCONS_H
#define PK_HCONS_H
#include "pk_obj.h"

#include <stdatomic.h>

/* 32 bytes, 16-aligned as pairs are (the last 8 unused). */
typedef struct pkh_node {
  _Alignas(16) pk_val car; /* the list's first pair: pko_car/pko_cdr work on it */
  pk_val cdr;
  uint32_t hash; /* structural: equal terms, equal hashes, in every run */
  uint32_t id;   /* unique in the process, never 0 */
} pkh_node;
_Static_assert(sizeof(pkh_node) == 32, "a node and the pairs after it stay 16-aligned");

/* The node behind an interned list (pkh_internedp true). */
static inline pkh_node *pkh_node_of(pk_val pair) { return (pkh_node *)pko_as_pair(pair); }
/* Ask for the nodes among the elements of interned list l to be loaded: a
   walk reaches them soon, and a node read cold is most of what a visit
   costs.  A node may straddle two cache lines (car at its start, id at
   its end). */
static inline void pkh_prefetch_elements(pk_val l)
{
  for (; pko_pairp(l); l = pko_cdr(l))
    if (pko_pairp(pko_car(l))) {
      const char *n = (const char *)pkh_node_of(pko_car(l));
      __builtin_prefetch(n);
      __builtin_prefetch(n + sizeof(pkh_node) - 1);
    }
}

/* The structural hash's parts, inline for the reader's and the driver's
   lists in steps (pkh_list_hash below).  Murmur3's finaliser: every input
   bit reaches every output bit. */
static inline uint64_t pkh_mix(uint64_t x)
{
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}
/* A list's hash starts from its length, takes a multiply per item, and
   one full mix at the end (pkh_listend). */
static inline uint64_t pkh_listseed(size_t n) { return 0x9e3779b97f4a7c15ull ^ n; }
static inline uint64_t pkh_step(uint64_t h, uint32_t hi) { return (h ^ hi) * 0x100000001b3ull + (h >> 29); }
static inline uint32_t pkh_listend(uint64_t h, uint32_t tailh) { return (uint32_t)pkh_mix(h ^ tailh) | 1; }
/* pkh_hash of PK_NIL, folded to a constant: most lists are proper. */
#define PKH_NILHASH ((uint32_t)pkh_mix((uint64_t)PK_NIL) | 1)

/* The canonical list of items[0..n) ending in tail (PK_NIL for a proper
   list; never a pair); items and tail must be canonical (from pkh_).
   n == 0 gives tail.  A lock-free probe when the list exists already. */
pk_val pkh_list(const pk_val *items, size_t n, pk_val tail);
/* pkh_list(items, n, PK_NIL) in steps, for a reader that keeps its
   items' hashes (hs[k] == pkh_hash(items[k])) and several lists in flight:
   the hash of a proper list from its items' hashes (what pkh_hash of the
   list will be), pkh_prefetch of it early (the table's slot is loaded
   while other work goes on), pkh_prefetch_node shortly before the last
   step, once the slot has arrived (the node it holds, when its hash
   matches: the list is probably there), then pkh_list_at with the
   items. */
static inline uint32_t pkh_list_hash(const uint32_t *hs, size_t n)
{
  if (!n) return PKH_NILHASH;
  uint64_t h = pkh_listseed(n);
  for (size_t k = 0; k < n; k++) h = pkh_step(h, hs[k]);
  return pkh_listend(h, PKH_NILHASH);
}
void pkh_prefetch(uint32_t h);
void pkh_prefetch_node(uint32_t h);
pk_val pkh_list_at(const pk_val *items, size_t n, uint32_t h);
/* Room in the table for n more terms, made now: a reader that knows
   about how many lists it will intern saves the arrays it would outgrow
   (each doubling leaves the old array to the collector). */
void pkh_reserve(size_t n);
/* Ask for [p, p + n), fresh memory a thread is about to fill from its
   end down, to be faulted in from the top by the prefaulter (pk_hcons.c)
   while a CPU is idle: the first touch of fresh memory is slow on a
   virtual machine.  It only faults pages in (their contents unchanged),
   so p may be freed meanwhile.  Replaces the range asked before. */
void pkh_prefault_down(void *p, size_t n);
/* The canonical copy of a ground atom: a boxed number, string or tensor is
   looked up by contents; fixnums, symbols, characters, (), #t and #f are
   returned as they are.  0 for anything else (variables, procedures, ...). */
pk_val pkh_atom(pk_val a);
/* The canonical copy of a whole ground data term (pairs and atoms as
   above), or 0 when it holds anything else.  Already-interned subterms cost
   one check each; iterative, any depth. */
pk_val pkh_intern(pk_val t);
/* Is t canonical: an interned list or boxed atom, or an atom that needs no
   interning?  For a pair, a few loads (the collector's size and base of
   its object: a list head is the start of a block of 32 bytes or more). */
bool pkh_internedp(pk_val t);
/* The structural hash of an interned term (any canonical value). */
uint32_t pkh_hash(pk_val t);

/* Scopes: interning for work whose terms all die with it, such as the
   rewriting of one file of a batch.  Between pkh_scope_begin and
   pkh_scope_end on a thread, a list not already in the table is put in
   the thread's own table instead, where no other thread finds it, and
   pkh_scope_end gives all of them back at once: their memory is refilled
   by the thread's next scope, their ids handed out again.  So a batch's
   memory stays that of its largest file, not the sum of its files.  A
   scope in which the thread's program stored a value that may hold a
   pair (pko_mutations) is kept instead: its lists stay where they are,
   in no table, and their ids are never handed out again.
   The caller's contract: nothing made in a scope is used after it ends
   (no cache keeps one: the program's own stores are the case above);
   while a scope is open on any thread, no thread interns a list outside
   one (so a list in a scope can never also be in the whole table);
   boxed atoms still go to the whole table.  A scope's ids are above every id handed out
   before it began.  pkh_scope_begin on a thread in a scope ends that
   one first; pkh_scope_end outside a scope does nothing. */
void pkh_scope_begin(void);
void pkh_scope_end(void);
/* Is this thread in a scope?  A thread-local load and a test. */
bool pkh_scoped(void);
/* The number of scopes ended on all threads so far: a cache that may hold
   lists of a scope drops them when this changes. */
uint64_t pkh_epoch(void);

typedef struct pkh_stats {
  size_t lists; /* interned lists (nodes) */
  size_t cells; /* the ordinary pairs after their first */
  size_t atoms; /* interned boxed atoms */
  size_t slots; /* table slots over all shards */
  size_t bytes; /* nodes + pairs + slot arrays (atoms not counted) */
} pkh_stats;
/* Counts of the whole table (takes each shard's lock in turn). */
void pkh_get_stats(pkh_stats *s);

#endif
