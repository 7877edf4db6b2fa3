/*
** pk_deque.c — Chase-Lev work-stealing deque (Lê, Pop, Cohen, Zappa Nardelli,
** PPoPP 2013, Figure 1), C11 atomics, signed 64-bit indices.
**
** Memory orderings.  The paper's Figure 1 uses two standalone fences:
**
**   push:  store slot (relaxed); fence(release); store bottom (relaxed)
**   take:  store bottom (relaxed); fence(seq_cst); load top (relaxed)
**   steal: load top (acquire); fence(seq_cst); load bottom (acquire)
**   CAS on top: seq_cst (success), relaxed (failure); array load: consume
**
** ThreadSanitizer does not model standalone fences: with the paper's
** version a thief's acquire load of bottom does not synchronise, for TSan,
** with the owner's relaxed store after fence(release), and TSan reports the
** owner's writes to a pushed object against the thief's reads as a data race
** — a false positive.  Seen with gcc 12 -fsanitize=thread on
** tests/unit/test_sched_deque.c (payload check, test_owner_and_thieves), on
** the first run.  This file therefore uses the folded variant, the same
** algorithm with each fence moved into the accesses around it:
**
**   push:  store slot (relaxed); store bottom (release)
**   take:  store bottom (seq_cst); load top (seq_cst)
**   steal: load top (seq_cst); load bottom (seq_cst)
**   CAS on top: seq_cst / relaxed (unchanged); buffer load: acquire
**   bottom restores in take: release (paper: relaxed)
**
** Why it is still correct.  (1) Publication: a thief's load of bottom reads a
** value written by a release store of the owner, so the push of every item
** below it, and the slot and buffer writes, happen-before the thief's loads.
** The restores are release too so that this holds for every value of bottom
** (C11 counts the owner's later relaxed stores into the release sequence,
** C++20 and TSan do not).  (2) The take/steal race the seq_cst fences exist
** for: the owner's store of bottom and its load of top, and a thief's loads
** of top and bottom, are all seq_cst, so they sit in the single total order
** S.  If a thief reads top == b (so a CAS has already raised top to b) and
** then the old bottom b+1, while the owner, after storing bottom = b, reads
** top < b, then in S: owner store bottom < owner load top < the CAS to b <
** thief load top < thief load bottom, and the thief's seq_cst load must see
** bottom = b (contradiction: it returns EMPTY), or a value stored by a later
** push, which put a new item at index b — the one the thief then takes (its
** slot load happens-after that push).  So owner and thief never both take
** the same item; when exactly one item is left, the CAS on top decides.
**
** Cost on x86-64: identical instructions for push (plain stores) and take
** (xchg instead of mov + mfence); steal is cheaper (plain loads instead of
** an mfence).  On AArch64: stlr / ldar instead of dmb.
**
** Growth is owner-only: a buffer twice the size, the live items copied, then
** published by a release store.  A thief that loaded the old buffer may still
** read a slot from it (the copy left it intact, and if that item was taken
** meanwhile its CAS on top fails), so the old buffer is retired onto the new
** buffer's `older` list, not freed, until pkd_destroy/pkd_reclaim_quiescent.
*/
#include "pk_deque.h"
#include "pk_obj.h"

#include <stdlib.h>

_Static_assert(sizeof(pkd_deque) == 4 * PKD_CACHE_LINE, "pkd_deque layout");
_Static_assert(offsetof(pkd_deque, bottom) == 2 * PKD_CACHE_LINE, "bottom's own lines");

#define RLX memory_order_relaxed
#define ACQ memory_order_acquire
#define REL memory_order_release
#define SC memory_order_seq_cst

static void *pkd_malloc_alloc(size_t bytes, void *ctx)
{
  (void)ctx;
  return pko_xmalloc(bytes);
}
static void pkd_malloc_free(void *p, size_t bytes, void *ctx)
{
  (void)bytes;
  (void)ctx;
  free(p);
}
const pkd_alloc pkd_alloc_malloc = { pkd_malloc_alloc, pkd_malloc_free, NULL };

/* Bytes of a buffer of capacity mask + 1.  Cost: O(1). */
static size_t pkd_buf_bytes(int64_t mask)
{
  return sizeof(struct pkd_buf) + (size_t)(mask + 1) * sizeof(_Atomic uintptr_t);
}

/* Owner/quiescent: a new, unpublished buffer.  Cost: one allocation. */
static struct pkd_buf *pkd_buf_new(pkd_deque *d, int64_t mask, struct pkd_buf *older)
{
  struct pkd_buf *b = d->alloc.alloc(pkd_buf_bytes(mask), d->alloc.ctx);
  if (!b) return NULL;
  b->mask = mask;
  b->older = older;
  return b;
}

/* Quiescent: frees b and everything on its older list.  Cost: one free each. */
static void pkd_buf_free_chain(pkd_deque *d, struct pkd_buf *b)
{
  while (b) {
    struct pkd_buf *older = b->older;
    if (d->alloc.free) d->alloc.free(b, pkd_buf_bytes(b->mask), d->alloc.ctx);
    b = older;
  }
}

bool pkd_init(pkd_deque *d, size_t capacity, const pkd_alloc *a)
{
  int64_t cap = 2;
  while ((size_t)cap < capacity && cap < ((int64_t)1 << 40)) cap <<= 1;
  d->alloc = *a;
  struct pkd_buf *b = pkd_buf_new(d, cap - 1, NULL);
  if (!b) return false;
  atomic_init(&d->top, 0);
  atomic_init(&d->bottom, 0);
  atomic_init(&d->buf, b);
  return true;
}

void pkd_destroy(pkd_deque *d)
{
  pkd_buf_free_chain(d, atomic_load_explicit(&d->buf, RLX));
  atomic_store_explicit(&d->buf, NULL, RLX);
}

/* Owner only: replace the full buffer a (live items [t, b)) by one twice the
   size, published with release.  Returns the new buffer or NULL.
   Cost: one allocation and b - t slot copies. */
static struct pkd_buf *pkd_grow_owner(pkd_deque *d, struct pkd_buf *a, int64_t t, int64_t b)
{
  struct pkd_buf *n = pkd_buf_new(d, 2 * a->mask + 1, a);
  if (!n) return NULL;
  for (int64_t i = t; i < b; i++) {
    uintptr_t x = atomic_load_explicit(&a->slot[i & a->mask], RLX);
    atomic_store_explicit(&n->slot[i & n->mask], x, RLX);
  }
  atomic_store_explicit(&d->buf, n, REL);
  return n;
}

bool pkd_push_owner(pkd_deque *d, uintptr_t item)
{
  int64_t b = atomic_load_explicit(&d->bottom, RLX);
  int64_t t = atomic_load_explicit(&d->top, ACQ);
  struct pkd_buf *a = atomic_load_explicit(&d->buf, RLX);
  if (b - t > a->mask) { /* full */
    a = pkd_grow_owner(d, a, t, b);
    if (!a) return false;
  }
  atomic_store_explicit(&a->slot[b & a->mask], item, RLX);
  atomic_store_explicit(&d->bottom, b + 1, REL); /* paper: fence(release); relaxed */
  return true;
}

bool pkd_pop_owner(pkd_deque *d, uintptr_t *item)
{
  int64_t b = atomic_load_explicit(&d->bottom, RLX) - 1;
  struct pkd_buf *a = atomic_load_explicit(&d->buf, RLX);
  atomic_store_explicit(&d->bottom, b, SC);      /* paper: relaxed; fence(seq_cst) */
  int64_t t = atomic_load_explicit(&d->top, SC); /* paper: relaxed */
  if (t > b) {                                   /* empty */
    atomic_store_explicit(&d->bottom, b + 1, REL);
    return false;
  }
  uintptr_t x = atomic_load_explicit(&a->slot[b & a->mask], RLX);
  if (t < b) { /* more than one item */
    *item = x;
    return true;
  }
  /* Exactly one item: race the thieves for it on top. */
  bool won = atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, SC, RLX);
  atomic_store_explicit(&d->bottom, b + 1, REL);
  if (won) *item = x;
  return won;
}

pkd_steal_result pkd_steal_mc(pkd_deque *d, uintptr_t *item)
{
  int64_t t = atomic_load_explicit(&d->top, SC);    /* paper: acquire; fence(seq_cst) */
  int64_t b = atomic_load_explicit(&d->bottom, SC); /* paper: acquire */
  if (t >= b) return PKD_EMPTY;
  struct pkd_buf *a = atomic_load_explicit(&d->buf, ACQ); /* paper: consume */
  uintptr_t x = atomic_load_explicit(&a->slot[t & a->mask], RLX);
  if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, SC, RLX)) return PKD_LOST;
  *item = x;
  return PKD_TAKEN;
}

int64_t pkd_size_approx(pkd_deque *d)
{
  int64_t b = atomic_load_explicit(&d->bottom, RLX);
  int64_t t = atomic_load_explicit(&d->top, RLX);
  return b > t ? b - t : 0;
}

size_t pkd_capacity_owner(pkd_deque *d) { return (size_t)atomic_load_explicit(&d->buf, RLX)->mask + 1; }

/* Why scrubbing an empty deque is safe with thieves in flight: a steal
   succeeds only if its CAS finds top == t with index t live.  An index live
   at the scrub would make the deque non-empty, so t is pushed after it; the
   thief read a bottom above t, written by a release store after that push,
   so its slot load (and the buffer it loaded, at least as new as the one
   the push used, never a retired one) happens-after the push and sees the
   pushed value, not the scrub's zero.  A thief that reads a zero therefore
   fails its CAS.  Cost: one relaxed store per slot of every buffer. */
bool pkd_scrub_owner(pkd_deque *d)
{
  int64_t b = atomic_load_explicit(&d->bottom, RLX);
  int64_t t = atomic_load_explicit(&d->top, ACQ);
  if (t < b) return false;
  for (struct pkd_buf *a = atomic_load_explicit(&d->buf, RLX); a; a = a->older)
    for (int64_t i = 0; i <= a->mask; i++) atomic_store_explicit(&a->slot[i], 0, RLX);
  return true;
}

void pkd_reclaim_quiescent(pkd_deque *d)
{
  struct pkd_buf *a = atomic_load_explicit(&d->buf, RLX);
  pkd_buf_free_chain(d, a->older);
  a->older = NULL;
}
