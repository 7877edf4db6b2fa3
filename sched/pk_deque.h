/*
** pk_deque.h — Chase-Lev work-stealing deque of machine words.
**
** One deque per worker.  The owner pushes and pops at the bottom (LIFO, the
** newest branch); any number of thieves steal at the top (FIFO, the oldest
** and usually largest branch).  Algorithm: Lê, Pop, Cohen and Zappa Nardelli,
** "Correct and Efficient Work-Stealing for Weak Memory Models", PPoPP 2013,
** Figure 1, with signed 64-bit indices and the fences folded into seq_cst
** accesses of top and bottom (why, and the mapping, in pk_deque.c).
**
** Items are uintptr_t words, never dereferenced here: the engine stores
** tagged pointers to collected objects.  Every value, 0 included, is a valid
** item: results come back through an out parameter.  A successful pop or
** steal happens-after the push of that item (release/acquire), so whatever
** the pusher wrote before pushing is visible to the taker.
**
** Contract names: _owner = only the thread that owns the deque (one thread
** at a time; hand-over needs external synchronisation); _mc = any number of
** threads concurrently with the owner and each other; _quiescent = no other
** thread is using the deque.
**
** Cost: push and pop are a few loads and stores on the owner's cache line
** plus one seq_cst store (xchg on x86-64) in pop; a steal is two loads, one
** load of the slot and one CAS on top.  Growth doubles the buffer and copies
** the live items, amortised O(1) per push; the buffer never shrinks.
*/
#ifndef PK_DEQUE_H
#define PK_DEQUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of the cache line that top and bottom must not share.  The deque
   separates them by two lines (adjacent-line prefetch) with no alignment
   requirement on the struct itself. */
#define PKD_CACHE_LINE 64

/* Buffer allocator.  alloc returns NULL on failure.  free may be NULL or a
   no-op for a tracing collector.  With a collector: buffers hold the items,
   so allocate scanned memory (GC_MALLOC, never GC_MALLOC_ATOMIC) and keep the
   pkd_deque itself in scanned memory; retired buffers stay reachable from
   the current one (its older list), so a thief holding only an interior
   pointer into an old buffer is safe even without interior-pointer
   recognition, until pkd_reclaim_quiescent unlinks them. */
typedef struct pkd_alloc {
  void *(*alloc)(size_t bytes, void *ctx);
  void (*free)(void *p, size_t bytes, void *ctx);
  void *ctx;
} pkd_alloc;

/* pko_xmalloc/free (never NULL: out of memory is pko_oom); ctx unused. */
extern const pkd_alloc pkd_alloc_malloc;

/* A circular buffer of 2^k slots.  older links the buffers this one replaced
   (owner-only), kept until pkd_destroy or pkd_reclaim_quiescent because a
   thief may still be reading them. */
struct pkd_buf {
  int64_t mask;          /* capacity - 1 */
  struct pkd_buf *older; /* retired predecessor, or NULL */
  _Atomic uintptr_t slot[];
};

/* Live items are the indices [top, bottom).  top only grows (CAS by thieves,
   and by the owner taking the last item); bottom is written by the owner
   only.  Layout: top on its own pair of cache lines, the owner's fields on
   the next pair, so thieves' CAS on top does not invalidate the owner's
   bottom except when the deque is nearly empty.  Fields are private. */
typedef struct pkd_deque {
  _Atomic int64_t top;
  char pad_top[2 * PKD_CACHE_LINE - sizeof(_Atomic int64_t)];
  _Atomic int64_t bottom;
  _Atomic(struct pkd_buf *) buf;
  pkd_alloc alloc;
  char pad_bottom[2 * PKD_CACHE_LINE - sizeof(_Atomic int64_t) - sizeof(struct pkd_buf *) - sizeof(pkd_alloc)];
} pkd_deque;

/* Result of a steal.  PKD_LOST: another thief, or the owner taking the last
   item, won the race for the top item; the deque may still hold items, so
   the caller may retry at once. */
typedef enum pkd_steal_result { PKD_TAKEN = 0, PKD_EMPTY = 1, PKD_LOST = 2 } pkd_steal_result;

/* Quiescent: d is not shared yet.  capacity is rounded up to a power of two
   (at least 2).  a is copied.  Returns false when the allocation fails.
   Cost: one allocation of 16 + 8 * capacity bytes. */
bool pkd_init(pkd_deque *d, size_t capacity, const pkd_alloc *a);

/* Quiescent: no thread uses d any more.  Frees the buffer and every retired
   buffer; items still in the deque are dropped.  Cost: one free per buffer. */
void pkd_destroy(pkd_deque *d);

/* Owner only.  Pushes item at the bottom.  Returns false, leaving the deque
   unchanged, when growth was needed and the allocation failed.
   Cost: O(1); a full buffer first doubles (copy of the live items). */
bool pkd_push_owner(pkd_deque *d, uintptr_t item);

/* Owner only.  Pops the newest item into *item; false when empty (or when a
   thief took the last item first).  Cost: O(1), one seq_cst store, plus one
   CAS on top when exactly one item is left. */
bool pkd_pop_owner(pkd_deque *d, uintptr_t *item);

/* Any thread, concurrently with the owner and other thieves.  Takes the
   oldest item into *item (written only on PKD_TAKEN).  Cost: O(1), one CAS;
   lock-free (a PKD_LOST means some other operation succeeded). */
pkd_steal_result pkd_steal_mc(pkd_deque *d, uintptr_t *item);

/* Any thread.  Number of items, from two relaxed loads: exact for the
   owner when no thief is active, otherwise a snapshot that may be stale by
   the time it returns.  Never negative.  Cost: two loads. */
int64_t pkd_size_approx(pkd_deque *d);

/* Owner only.  Current buffer capacity in items.  Cost: one load. */
size_t pkd_capacity_owner(pkd_deque *d);

/* Owner only, concurrently with thieves.  When the deque is empty, zeroes
   every slot of the current and the retired buffers and returns true (else
   does nothing and returns false): taken items stay in their slots until
   overwritten, so a tracing collector would otherwise keep them alive.
   Safe against thieves: a thief can only take an item pushed after this
   returns (see pk_deque.c).  Cost: O(capacity) stores. */
bool pkd_scrub_owner(pkd_deque *d);

/* Quiescent with respect to thieves: no pkd_steal_mc on d is in progress
   (e.g. every worker is parked), the owner may be the caller.  Frees the
   buffers retired by growth.  Cost: one free per retired buffer. */
void pkd_reclaim_quiescent(pkd_deque *d);

#endif /* PK_DEQUE_H */
