/*
** pk_hcons.c — the hash-consing table (see pk_hcons.h).
**
** 64 shards, each an open-addressing array of canonical values (linear
** probing) with a parallel array of their hashes, grown by doubling at 3/4
** load.  An array and its capacity are one collected object, published
** with a release store, so a lock-free reader always sees a consistent
** (possibly outdated) array.  A slot is filled once: its value first, then
** its hash with a release store; a reader loads the hash (acquire) and only
** then the value, and takes a hash of 0 for an empty slot (stored hashes
** have their low bit set).  So a probe runs over a dense array of 4-byte
** hashes and touches a node only on a match.  A reader that misses in an
** outdated array retries under the lock in the current one, so a term is
** never inserted twice.
**
** Nodes live in chunks outside the collected heap, which the collector
** therefore never frees and never scans: the table keeps every interned
** term alive anyway, and every value a node holds is canonical, so it is
** either permanent (symbols, other nodes) or kept alive by its own table
** slot (boxed atoms).  Scanning the nodes was most of each collection's
** work once a batch had interned a few hundred thousand of them.  The
** chunks are cut from large regions mapped here, with huge pages asked
** for, and faulted in ahead of use by a thread of its own (the
** prefaulter, below).  A chunk starts with a bitmap of the 16-byte units
** where a node starts, which tells a node from the pairs after it.  A
** list too long for a chunk gets an uncollectable block of its own.  Each
** thread fills a chunk of its own, whatever the nodes' shards, so a term
** made in one go lies in memory in order (a thread's last chunk is not
** given back when it exits: at most 64 KB a thread).
**
** A scope (pkh_scope_begin) is a thread's own small table in front of
** the shared one, for lists that die together: a batch's file.  Its lists
** are cut from chunks the thread keeps and refills scope after scope, so
** a batch of a million models neither grows the shared table (whose every
** probe then misses the cache) nor faults in fresh memory for each model.
** A scope in which the program stored something (pko_mutations) is not
** refilled: what it stored may hold the scope's lists.
*/
#include "pk_hcons.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#undef pthread_create /* the prefaulter touches no collected memory: the collector need not stop it */

#define PKH_SHARD_BITS 6
#define PKH_SHARDS (1u << PKH_SHARD_BITS)

/* A shard's array.  The header lies apart from the slots when they are
   in a mapped block (pkh_reserve), so that making it touches none of the
   block's pages. */
typedef struct pkh_arr {
  size_t cap;             /* power of two */
  _Atomic pk_val *slot;   /* cap entries */
  _Atomic uint32_t *hash; /* cap entries, after slot */
} pkh_arr;

#define PKH_CHUNK ((size_t)64 << 10)
#define PKH_UNITS (PKH_CHUNK / 16)
/* A list of more bytes than this gets a block of its own, not chunk room. */
#define PKH_LONG (PKH_CHUNK / 4)

typedef struct pkh_chunk {
  _Atomic uint64_t starts[PKH_UNITS / 64]; /* bit u: a node starts at unit u */
} pkh_chunk;

/* The first unit after the header. */
#define PKH_FIRST ((sizeof(pkh_chunk) + 15) / 16 * 16)

/* A growable stack of values in collected memory (so partial results stay
   alive). */
typedef struct pkh_stack {
  pk_val *v;
  size_t n, cap;
} pkh_stack;

/* A shard: the array every probe reads on a cache line of its own, apart
   from what each insert writes (with them, every insert by one thread took
   the line the other threads' probes of the shard were reading). */
typedef struct pkh_shard {
  _Alignas(64) _Atomic(pkh_arr *) arr; /* written only when the array is replaced */
  _Alignas(64) _Atomic int lock;       /* pkh_lock */
  pkh_stack atoms;                     /* under lock: the boxed atoms, scanned (the arrays are not) */
  size_t count, lists, cells;          /* under lock */
  _Atomic uint32_t next_id;            /* written under lock; read without it by pkh_scope_begin */
} pkh_shard;

static pkh_shard pkh_tab[PKH_SHARDS];

/* A shard's lock, held for one insert or an array's rebuild: a pthread
   mutex's lock and unlock took more instructions than the insert.  Spins
   on a load, then yields (the holder may have lost its core). */
static inline void pkh_lock(pkh_shard *sh)
{
  for (unsigned round = 0; atomic_exchange_explicit(&sh->lock, 1, memory_order_acquire);)
    while (atomic_load_explicit(&sh->lock, memory_order_relaxed))
      if (++round > 64) sched_yield();
}

static inline void pkh_unlock(pkh_shard *sh) { atomic_store_explicit(&sh->lock, 0, memory_order_release); }

/* Where this thread's new nodes go, whatever their shard: the nodes a
   thread makes one after another (a term as it is read or rewritten) lie
   side by side, so walking the term later reads memory in order. */
static _Thread_local pkh_chunk *pkh_chunk_here;
static _Thread_local size_t pkh_used_here; /* bytes of pkh_chunk_here taken */
static pthread_once_t pkh_once = PTHREAD_ONCE_INIT;

/* Out of memory while interning is not recoverable for any caller. */
static _Noreturn void pkh_oom(void)
{
  fputs("pkanren: out of memory\n", stderr);
  abort();
}

/* Bytes of the slots and hashes of an array of cap slots. */
static size_t pkh_arrbytes(size_t cap) { return cap * (sizeof(pk_val) + sizeof(uint32_t)); }

/* Header a made the array of cap slots at mem (zeroed: fresh mapped
   memory, whose pages the system gives zeroed when first touched). */
static pkh_arr *pkh_setarr(pkh_arr *a, void *mem, size_t cap, bool zeroed)
{
  if (!zeroed) memset(mem, 0, pkh_arrbytes(cap));
  a->cap = cap;
  a->slot = mem;
  a->hash = (_Atomic uint32_t *)(a->slot + cap);
  return a;
}

/* An empty array of cap slots, header and slots one block.  It is not
   scanned: what the slots hold is in chunks or kept by the shard's atoms
   array. */
static pkh_arr *pkh_newarr(size_t cap)
{
  pkh_arr *a = GC_MALLOC_ATOMIC(sizeof(pkh_arr) + pkh_arrbytes(cap));
  if (!a) pkh_oom();
  return pkh_setarr(a, a + 1, cap, false);
}

static void pkh_spush(pkh_stack *s, pk_val x)
{
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    pk_val *nv = GC_MALLOC(cap * sizeof *nv);
    if (!nv) pkh_oom();
    if (s->n) memcpy(nv, s->v, s->n * sizeof *nv);
    s->v = nv;
    s->cap = cap;
  }
  s->v[s->n++] = x;
}

static void pkh_scope_free(void *p);
static pthread_key_t pkh_sc_key; /* frees a thread's scope when it ends (its chunks stay) */

/* Locks and first arrays (the collector must be up: pko_init first). */
static void pkh_init_once(void)
{
  pthread_key_create(&pkh_sc_key, pkh_scope_free);
  for (unsigned k = 0; k < PKH_SHARDS; k++) {
    atomic_store(&pkh_tab[k].arr, pkh_newarr(256));
    atomic_store_explicit(&pkh_tab[k].next_id, 1, memory_order_relaxed);
  }
}

/* ---- hashing --------------------------------------------------------------- */

/* Hash of an atom by contents (so the same in every run); numbers of
   different types hash apart. */
static uint32_t pkh_hash_atom(pk_val v)
{
  switch (pko_typeof(v)) {
  case PK_T_SYMBOL: return (uint32_t)pkh_mix(pko_as_sym(v)->hash);
  case PK_T_STRING: return (uint32_t)pkh_mix(pko_fnv(PKO_FNV0, pko_as_str(v)->s, pko_as_str(v)->len) ^ 1);
  case PK_T_FLONUM: {
    double d = pko_flo(v);
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return (uint32_t)pkh_mix(bits ^ 2);
  }
  case PK_T_INT: return (uint32_t)pkh_mix((uint64_t)((pko_int *)v)->i ^ 3);
  case PK_T_RATIO: return (uint32_t)pkh_mix((uint64_t)pko_as_ratio(v)->num * 31 + (uint64_t)pko_as_ratio(v)->den + 4);
  case PK_T_TENSOR: return (uint32_t)pkh_mix(pko_tensor_hash(v));
  default: return (uint32_t)pkh_mix((uint64_t)v); /* fixnums, immediates, characters */
  }
}

/* Hash of a canonical value: a list's from its node, an atom's from its
   contents.  The low bit is always set (0 marks an empty slot). */
static inline uint32_t pkh_hash_of(pk_val v) { return pko_pairp(v) ? pkh_node_of(v)->hash : pkh_hash_atom(v) | 1; }

uint32_t pkh_hash(pk_val t) { return pkh_hash_of(t); }

/* Hash of the list items[0..n) ending in tail. */
static uint32_t pkh_listhash(const pk_val *items, size_t n, pk_val tail)
{
  uint64_t h = pkh_listseed(n);
  for (size_t k = 0; k < n; k++) h = pkh_step(h, pkh_hash_of(items[k]));
  return pkh_listend(h, tail == PK_NIL ? PKH_NILHASH : pkh_hash_of(tail));
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

/* Is list node s the list items[0..n) ending in tail?  Its hash matched. */
static bool pkh_same_list(pk_val s, const pk_val *items, size_t n, pk_val tail)
{
  if (!pko_pairp(s)) return false;
  for (size_t k = 0; k < n; k++, s = pko_cdr(s))
    if (!pko_pairp(s) || pko_car(s) != items[k]) return false;
  return s == tail;
}

/* Does slot value s hold an atom equal to a (same type, contents)? */
static inline bool pkh_same_atom(pk_val s, pk_val a)
{
  return !pko_pairp(s) && pko_typeof(s) == pko_typeof(a) && pko_equal(s, a);
}

/* Probe arr for the list items[0..n) + tail (n > 0) or the atom tail
   (n == 0): the value, or 0 at the first empty slot (*at: its index). */
static inline pk_val pkh_probe(const pkh_arr *arr, uint32_t h, const pk_val *items, size_t n, pk_val tail, size_t *at)
{
  size_t m = arr->cap - 1, i = (h >> 1) & m;
  __builtin_prefetch((const void *)&arr->slot[i]); /* loaded in parallel with the hash, needed on a match */
  for (;;) {
    uint32_t hi = atomic_load_explicit(&arr->hash[i], memory_order_acquire);
    if (!hi) {
      *at = i;
      return 0;
    }
    if (hi == h) {
      pk_val s = atomic_load_explicit(&arr->slot[i], memory_order_relaxed);
      if (n ? pkh_same_list(s, items, n, tail) : pkh_same_atom(s, tail)) return s;
    }
    i = (i + 1) & m;
  }
}

/* Replace a shard's array by na, empty and larger (lock held); the old
   one stays valid for readers. */
static void pkh_grow(pkh_shard *sh, pkh_arr *na)
{
  pkh_arr *old = atomic_load_explicit(&sh->arr, memory_order_relaxed);
  size_t m = na->cap - 1;
  for (size_t k = 0; k < old->cap; k++) {
    uint32_t h = atomic_load_explicit(&old->hash[k], memory_order_relaxed);
    if (!h) continue;
    size_t i = (h >> 1) & m;
    while (atomic_load_explicit(&na->hash[i], memory_order_relaxed)) i = (i + 1) & m;
    atomic_store_explicit(&na->slot[i], atomic_load_explicit(&old->slot[k], memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&na->hash[i], h, memory_order_relaxed);
  }
  atomic_store_explicit(&sh->arr, na, memory_order_release);
}

/* Regions of address space the chunks are cut from: reserved without
   backing, 64 KB-aligned chunks handed out in order, so a chunk is found
   from any address in it by masking.  Huge pages are asked for (the
   system may give them or not), except in the first 2 MB, which is all a
   small run touches: a walk over a large term then takes few TLB misses
   and its memory arrives in few page faults. */
#define PKH_REGION ((size_t)64 << 20)
#define PKH_HUGE ((size_t)2 << 20)
#define PKH_MAXREGIONS 4096

static char *pkh_regions[PKH_MAXREGIONS]; /* [0, pkh_nregions) published */
static _Atomic size_t pkh_nregions;
static size_t pkh_region_used; /* bytes of the last region handed out, under pkh_region_lock */
static pthread_mutex_t pkh_region_lock = PTHREAD_MUTEX_INITIALIZER;

/* size bytes mapped at a PKH_HUGE boundary, huge pages asked for from
   byte skip on; NULL when the system has no room. */
static char *pkh_map_aligned(size_t size, size_t skip)
{
  char *m = mmap(NULL, size + PKH_HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return NULL;
  char *r = (char *)(((uintptr_t)m + PKH_HUGE - 1) & ~(uintptr_t)(PKH_HUGE - 1));
  if (r > m) munmap(m, (size_t)(r - m));
  if (r < m + PKH_HUGE) munmap(r + size, (size_t)(m + PKH_HUGE - r));
#ifdef MADV_HUGEPAGE
  madvise(r + skip, size - skip, MADV_HUGEPAGE);
#endif
  return r;
}

/* A new region, aligned to PKH_HUGE (lock held). */
static char *pkh_newregion(void)
{
  size_t n = atomic_load_explicit(&pkh_nregions, memory_order_relaxed);
  if (n == PKH_MAXREGIONS) pkh_oom();
  char *r = pkh_map_aligned(PKH_REGION, n ? 0 : PKH_HUGE);
  if (!r) pkh_oom();
  pkh_regions[n] = r;
  atomic_store_explicit(&pkh_nregions, n + 1, memory_order_release);
  pkh_region_used = 0;
  return r;
}

/* ---- the prefaulter ---- */

/* Fresh memory is faulted in by a thread of its own, so that the system
   zeroes the huge pages a thread will fill next while it works, not when
   it first touches them: on a virtual machine whose host takes back the
   guest's free memory, a fresh huge page can take milliseconds to arrive.
   Three ranges wait for it: the table's mapped block (pkh_reserve), a
   buffer a thread will fill from its end (pkh_prefault_down: the model
   printer's), and the newest region's next PKH_AHEAD bytes past the chunk
   cursor; it takes a huge page at a time, in that order. */
#define PKH_AHEAD ((size_t)8 << 20)

typedef struct pkh_range {
  char *from, *to;
} pkh_range;

static pthread_cond_t pkh_pf_cond = PTHREAD_COND_INITIALIZER;
static pkh_range pkh_pf_block, pkh_pf_down, pkh_pf_ahead; /* under pkh_region_lock */
static char *pkh_pf_region;                               /* the region pkh_pf_ahead lies in, under pkh_region_lock */
static bool pkh_pf_started;                               /* under pkh_region_lock */

/* The next huge page (at most) to fault in, taken from its range, or an
   empty range (lock held). */
static pkh_range pkh_pf_take(void)
{
  pkh_range *d = &pkh_pf_down;
  if (pkh_pf_block.from >= pkh_pf_block.to && d->from < d->to) { /* from the top down */
    pkh_range r = { d->to - d->from > (ptrdiff_t)PKH_HUGE ? d->to - PKH_HUGE : d->from, d->to };
    d->to = r.from;
    return r;
  }
  pkh_range *q = pkh_pf_block.from < pkh_pf_block.to ? &pkh_pf_block : &pkh_pf_ahead;
  pkh_range r = { q->from, q->to - q->from > (ptrdiff_t)PKH_HUGE ? q->from + PKH_HUGE : q->to };
  q->from = r.to;
  return r;
}

/* The CPUs the process may run on as it started, which the prefaulter
   is given: a thread inherits its maker's mask, and the thread that first
   needs the prefaulter may be a worker pinned to one PU, which it would
   then share with it. */
static cpu_set_t pkh_cpus0;
static bool pkh_cpus0_saved;

__attribute__((constructor)) static void pkh_save_cpus(void)
{
  pkh_cpus0_saved = sched_getaffinity(0, sizeof pkh_cpus0, &pkh_cpus0) == 0;
}

/* A clock's reading in seconds. */
static double pkh_clock(clockid_t id)
{
  struct timespec t;
  clock_gettime(id, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Did the process's other threads leave one of its CPUs idle since the
   last look (their CPU time against the wall time)?  Two clock calls.
   Faulting in ahead only pays on a CPU no one else wants: with every
   CPU busy, the prefaulter would only take time from the threads it
   works for (two workers rewriting many models: 0.18 -> 0.23 s).
   Prefaulter thread only. */
static bool pkh_pf_room(void)
{
  static double wall0, others0;
  double wall = pkh_clock(CLOCK_MONOTONIC);
  double others = pkh_clock(CLOCK_PROCESS_CPUTIME_ID) - pkh_clock(CLOCK_THREAD_CPUTIME_ID);
  int cpus = CPU_COUNT(&pkh_cpus0);
  bool room = others - others0 < (wall - wall0) * ((cpus > 0 ? cpus : 1) - 0.5);
  wall0 = wall;
  others0 = others;
  return room;
}

/* The prefaulter's loop: a huge page at a time while there is work and
   a CPU to spare, else wait for the next call. */
static void *pkh_prefaulter(void *arg)
{
  (void)arg;
  pthread_mutex_lock(&pkh_region_lock);
  for (;;) {
    pkh_range r = { NULL, NULL };
    if (pkh_pf_room()) r = pkh_pf_take();
    if (r.from >= r.to) {
      pthread_cond_wait(&pkh_pf_cond, &pkh_region_lock);
      continue;
    }
    pthread_mutex_unlock(&pkh_region_lock);
    madvise(r.from, (size_t)(r.to - r.from), MADV_POPULATE_WRITE);
    pthread_mutex_lock(&pkh_region_lock);
  }
  return NULL;
}

/* Tell the prefaulter there is work, starting it the first time (lock
   held).  Without it (no thread could be made) memory is faulted in by
   its first touch as usual. */
static void pkh_pf_wake(void)
{
  if (!pkh_pf_started) {
    pkh_pf_started = true;
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (pkh_cpus0_saved) pthread_attr_setaffinity_np(&a, sizeof pkh_cpus0, &pkh_cpus0);
    pthread_create(&t, &a, pkh_prefaulter, NULL);
    pthread_attr_destroy(&a);
  }
  pthread_cond_signal(&pkh_pf_cond);
}

/* Chunk c of region r was handed out: ask for the region's next
   PKH_AHEAD bytes past c's huge page (lock held).  A small program, which
   stays in the first region's first huge page, never starts the
   prefaulter. */
static void pkh_prefault_after(char *r, char *c)
{
  if (c < r + PKH_HUGE && r == pkh_regions[0]) return;
  char *page = r + ((size_t)(c - r) & ~(PKH_HUGE - 1)), *want = page + PKH_HUGE + PKH_AHEAD;
  if (want > r + PKH_REGION) want = r + PKH_REGION;
  if (r != pkh_pf_region || pkh_pf_ahead.from < page + PKH_HUGE) {
    pkh_pf_region = r;
    pkh_pf_ahead.from = pkh_pf_ahead.to = page + PKH_HUGE;
  }
  if (want <= pkh_pf_ahead.to) return;
  pkh_pf_ahead.to = want;
  pkh_pf_wake();
}

/* Set the prefaulter's range *q to [from, to) and wake it. */
static void pkh_pf_ask(pkh_range *q, char *from, char *to)
{
  pthread_mutex_lock(&pkh_region_lock);
  *q = (pkh_range){ from, to };
  pkh_pf_wake();
  pthread_mutex_unlock(&pkh_region_lock);
}

/* Fault in the table's block [b, b + n) ahead of its use. */
static void pkh_prefault_block(char *b, size_t n) { pkh_pf_ask(&pkh_pf_block, b, b + n); }

void pkh_prefault_down(void *p, size_t n)
{
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), from = ((uintptr_t)p + page - 1) & ~(page - 1),
            to = ((uintptr_t)p + n) & ~(page - 1); /* madvise takes whole pages */
  if (to > from) pkh_pf_ask(&pkh_pf_down, (char *)from, (char *)to);
}

/* A fresh chunk, its header set. */
static pkh_chunk *pkh_newchunk(void)
{
  pthread_mutex_lock(&pkh_region_lock);
  size_t n = atomic_load_explicit(&pkh_nregions, memory_order_relaxed);
  char *r = n && pkh_region_used < PKH_REGION ? pkh_regions[n - 1] : pkh_newregion();
  pkh_chunk *c = (pkh_chunk *)(r + pkh_region_used);
  pkh_region_used += PKH_CHUNK;
  pkh_prefault_after(r, (char *)c);
  pthread_mutex_unlock(&pkh_region_lock);
  pko_count_mapped(PKH_CHUNK);
  memset(c, 0, sizeof *c);
  return c;
}

/* The chunk holding p, or NULL when p is in no region. */
static const pkh_chunk *pkh_chunk_of(const void *p)
{
  size_t n = atomic_load_explicit(&pkh_nregions, memory_order_acquire);
  for (size_t k = n; k-- > 0;)
    if ((const char *)p >= pkh_regions[k] && (const char *)p < pkh_regions[k] + PKH_REGION)
      return (const pkh_chunk *)((uintptr_t)p & ~(uintptr_t)(PKH_CHUNK - 1));
  return NULL;
}

/* A thread's scope (pkh_scope_begin): its own table of the lists made
   in it, the chunks they were cut from (kept from scope to scope, so a
   thread that rewrites model after model refills the same few chunks,
   which stay in its cache, and never faults in fresh memory), the long
   lists' blocks, and the ids handed out, base + 1 on. */
typedef struct pkh_scope {
  bool on;
  size_t cap, count; /* the table: cap a power of two, 0 hashes for empty slots */
  pk_val *slot;
  uint32_t *hash;
  pkh_chunk **chunk; /* [0, at] filled in this scope, the rest spare */
  size_t nchunk, capchunk, at;
  void **longs; /* long lists' blocks of this scope */
  size_t nlong, caplong;
  uint32_t base, next;
  uint64_t mutations;   /* pko_mutations at the start */
  pkh_chunk *out_chunk; /* the thread's chunk outside the scope, and its use */
  size_t out_used;
} pkh_scope;

static _Thread_local pkh_scope *pkh_sc; /* this thread's, made at its first scope */
static _Atomic unsigned pkh_scopes_on;  /* scopes open on all threads (checked in debug builds) */
static _Atomic uint64_t pkh_epoch_n;    /* scopes ended on all threads */
static _Atomic uint32_t pkh_id_floor;   /* ids up to this were a kept scope's: never handed out again */

/* This thread's scope when it is in one, else NULL.  A thread-local load
   and a test. */
static inline pkh_scope *pkh_scope_open(void)
{
  pkh_scope *s = pkh_sc;
  return s && s->on ? s : NULL;
}

/* Grow a vector of pointers *v of *cap to hold one more. */
static void pkh_vgrow(void ***v, size_t n, size_t *cap)
{
  if (n < *cap) return;
  size_t nc = *cap ? 2 * *cap : 16;
  void **nv = realloc(*v, nc * sizeof *nv);
  if (!nv) pkh_oom();
  *v = nv;
  *cap = nc;
}

/* The chunk a thread fills next: in a scope, its next spare one (a new one
   when it has none), else a new one. */
static pkh_chunk *pkh_nextchunk(void)
{
  pkh_scope *s = pkh_scope_open();
  if (!s) return pkh_newchunk();
  if (++s->at == s->nchunk) {
    pkh_vgrow((void ***)&s->chunk, s->nchunk, &s->capchunk);
    s->chunk[s->nchunk++] = pkh_newchunk();
  }
  return s->chunk[s->at];
}

/* bytes (a multiple of 16) for a new node: from the thread's chunk, or a
   block of its own for a long list. */
static void *pkh_alloc(size_t bytes)
{
  if (bytes > PKH_LONG) {
    void *p = GC_malloc_atomic_uncollectable(bytes);
    if (!p) pkh_oom();
    pkh_scope *s = pkh_scope_open();
    if (s) {
      pkh_vgrow(&s->longs, s->nlong, &s->caplong);
      s->longs[s->nlong++] = p;
    }
    return p;
  }
  pkh_chunk *c = pkh_chunk_here;
  if (!c || pkh_used_here + bytes > PKH_CHUNK) {
    c = pkh_chunk_here = pkh_nextchunk();
    pkh_used_here = PKH_FIRST;
  }
  size_t u = pkh_used_here / 16;
  pkh_used_here += bytes;
  uint64_t bits = atomic_load_explicit(&c->starts[u / 64], memory_order_relaxed); /* one writer: this thread */
  atomic_store_explicit(&c->starts[u / 64], bits | (uint64_t)1 << (u % 64), memory_order_relaxed);
  return (char *)c + u * 16;
}

/* Bytes of the block of a list of n items: its node and n - 1 pairs. */
static inline size_t pkh_list_bytes(size_t n) { return sizeof(pkh_node) + (n - 1) * sizeof(pko_pair); }

/* A new list, not yet in the table (no lock held): one block, the
   pkh_node, then the other n - 1 pairs in order, so that comparing and
   walking a list stays in one or two cache lines.  The pairs after the
   first are referenced only inside the block, which is never freed.  Made
   before the shard's lock is taken, so that the first touch of a fresh
   chunk (a page fault, which can take a millisecond on a virtual machine)
   never holds up another thread waiting for the lock. */
static pkh_node *pkh_newlist(uint32_t h, const pk_val *items, size_t n, pk_val tail)
{
  for (size_t k = 0; k < n; k++) pko_assert(pkh_internedp(items[k]));
  pko_assert(pkh_internedp(tail));
  pkh_node *node = pkh_alloc(pkh_list_bytes(n));
  pko_pair *cells = (pko_pair *)(node + 1);
  pk_val rest = tail;
  for (size_t k = n - 1; k > 0; k--) {
    cells[k - 1] = (pko_pair){ items[k], rest };
    rest = (pk_val)&cells[k - 1] | PK_TAG_GPAIR;
  }
  node->car = items[0];
  node->cdr = rest;
  node->hash = h;
  return node;
}

/* Give back node, made by this thread's last pkh_newlist of n items and
   not published (another thread put the same list in first). */
static void pkh_unalloc(pkh_node *node, size_t n)
{
  if (pkh_list_bytes(n) > PKH_LONG) {
    GC_free(node);
    return;
  }
  pkh_chunk *c = pkh_chunk_here;
  size_t u = (size_t)((char *)node - (char *)c) / 16;
  uint64_t bits = atomic_load_explicit(&c->starts[u / 64], memory_order_relaxed);
  atomic_store_explicit(&c->starts[u / 64], bits & ~((uint64_t)1 << (u % 64)), memory_order_relaxed);
  pkh_used_here = u * 16;
}

/* The insert after a lock-free miss (seen: the array probed, at: the
   empty slot it ended at).  The locked probe is skipped when the array is
   still the one probed and that slot is still empty: slots only ever
   fill, so the probe sequence up to it is unchanged and the term cannot
   be anywhere else. */
static __attribute__((noinline)) pk_val pkh_add(pkh_shard *sh, const pkh_arr *seen, size_t at, uint32_t h,
                                                const pk_val *items, size_t n, pk_val tail)
{
  pk_val v = 0;
  pkh_node *node = n ? pkh_newlist(h, items, n, tail) : NULL;
  pkh_lock(sh);
  size_t cap = atomic_load_explicit(&sh->arr, memory_order_relaxed)->cap;
  if ((sh->count + 1) * 4 > cap * 3) pkh_grow(sh, pkh_newarr(cap * 2));
  pkh_arr *arr = atomic_load_explicit(&sh->arr, memory_order_relaxed);
  if (arr != seen || atomic_load_explicit(&arr->hash[at], memory_order_relaxed))
    v = pkh_probe(arr, h, items, n, tail, &at);
  if (!v) {
    if (node) {
      pko_assert(!atomic_load_explicit(&pkh_scopes_on, memory_order_relaxed));
      uint32_t id = atomic_load_explicit(&sh->next_id, memory_order_relaxed);
      atomic_store_explicit(&sh->next_id, id + 1, memory_order_relaxed);
      node->id = id << PKH_SHARD_BITS | (uint32_t)(sh - pkh_tab);
      sh->lists++;
      sh->cells += n - 1;
      v = (pk_val)node | PK_TAG_GPAIR;
      node = NULL;
    } else {
      pkh_spush(&sh->atoms, v = tail);
    }
    atomic_store_explicit(&arr->slot[at], v, memory_order_relaxed);
    atomic_store_explicit(&arr->hash[at], h, memory_order_release);
    sh->count++;
  }
  pkh_unlock(sh);
  if (node) pkh_unalloc(node, n);
  return v;
}

/* ---- scopes ---- */

/* An empty table of cap slots for scope s (its old arrays freed). */
static void pkh_scope_table(pkh_scope *s, size_t cap)
{
  free(s->slot);
  s->slot = malloc(cap * (sizeof *s->slot + sizeof *s->hash));
  if (!s->slot) pkh_oom();
  s->hash = (uint32_t *)(s->slot + cap);
  memset(s->hash, 0, cap * sizeof *s->hash);
  s->cap = cap;
}

/* Double scope s's table. */
static void pkh_scope_grow(pkh_scope *s)
{
  size_t ocap = s->cap;
  pk_val *oslot = s->slot;
  uint32_t *ohash = s->hash;
  s->slot = NULL;
  pkh_scope_table(s, 2 * ocap);
  for (size_t k = 0; k < ocap; k++) {
    if (!ohash[k]) continue;
    size_t i = (ohash[k] >> 1) & (s->cap - 1);
    while (s->hash[i]) i = (i + 1) & (s->cap - 1);
    s->slot[i] = oslot[k];
    s->hash[i] = ohash[k];
  }
  free(oslot);
}

/* Find or add the list items[0..n) + tail (n > 0) of hash h in scope s,
   which the whole table has not got.  No lock: only its thread sees it. */
static pk_val pkh_scope_list(pkh_scope *s, uint32_t h, const pk_val *items, size_t n, pk_val tail)
{
  if ((s->count + 1) * 4 > s->cap * 3) pkh_scope_grow(s);
  size_t m = s->cap - 1, i = (h >> 1) & m;
  for (; s->hash[i]; i = (i + 1) & m)
    if (s->hash[i] == h && pkh_same_list(s->slot[i], items, n, tail)) return s->slot[i];
  if (s->next == UINT32_MAX - s->base) pkh_oom();
  pkh_node *node = pkh_newlist(h, items, n, tail);
  node->id = s->base + ++s->next;
  s->slot[i] = (pk_val)node | PK_TAG_GPAIR;
  s->hash[i] = h;
  s->count++;
  return s->slot[i];
}

/* A thread's scope, at its end. */
static void pkh_scope_free(void *p)
{
  pkh_scope *s = p;
  free(s->slot);
  free(s->chunk);
  free(s->longs);
  free(s);
}

void pkh_scope_begin(void)
{
  pthread_once(&pkh_once, pkh_init_once);
  pkh_scope *s = pkh_sc;
  if (!s) {
    s = pkh_sc = pko_xcalloc(1, sizeof *s);
    pkh_scope_table(s, 1024);
    pthread_setspecific(pkh_sc_key, s);
  }
  if (s->on) pkh_scope_end();
  uint32_t top = 0;
  for (unsigned k = 0; k < PKH_SHARDS; k++) {
    uint32_t id = atomic_load_explicit(&pkh_tab[k].next_id, memory_order_relaxed);
    top = id > top ? id : top;
  }
  uint32_t floor = atomic_load_explicit(&pkh_id_floor, memory_order_relaxed);
  s->base = top << PKH_SHARD_BITS > floor ? top << PKH_SHARD_BITS : floor;
  s->next = 0;
  s->mutations = pko_mutations;
  s->out_chunk = pkh_chunk_here;
  s->out_used = pkh_used_here;
  if (!s->nchunk) {
    pkh_vgrow((void ***)&s->chunk, 0, &s->capchunk);
    s->chunk[s->nchunk++] = pkh_newchunk();
  }
  s->at = 0;
  pkh_chunk_here = s->chunk[0];
  pkh_used_here = PKH_FIRST;
  s->on = true;
  atomic_fetch_add_explicit(&pkh_scopes_on, 1, memory_order_relaxed);
}

/* Leave scope s's lists where they are, for good: the program stored
   something meanwhile (pko_mutations), which may hold some of them.  Its
   chunks are dropped from the scope's, its ids never handed out again.
   A later equal list is another node then, which costs sharing, not
   meaning: the engine compares terms by structure. */
static void pkh_scope_keep(pkh_scope *s)
{
  size_t kept = s->at + 1;
  memmove(s->chunk, s->chunk + kept, (s->nchunk - kept) * sizeof *s->chunk);
  s->nchunk -= kept;
  s->nlong = 0;
  uint32_t top = s->base + s->next, f = atomic_load_explicit(&pkh_id_floor, memory_order_relaxed);
  while (f < top &&
         !atomic_compare_exchange_weak_explicit(&pkh_id_floor, &f, top, memory_order_relaxed, memory_order_relaxed))
    ;
}

void pkh_scope_end(void)
{
  pkh_scope *s = pkh_scope_open();
  if (!s) return;
  if (s->mutations != pko_mutations) {
    pkh_scope_keep(s);
  } else {
    for (size_t k = 0; k <= s->at; k++) memset(s->chunk[k]->starts, 0, sizeof s->chunk[k]->starts);
    for (size_t k = 0; k < s->nlong; k++) GC_free(s->longs[k]);
    s->nlong = 0;
  }
  if (s->cap > 65536)
    pkh_scope_table(s, 1024);
  else
    memset(s->hash, 0, s->cap * sizeof *s->hash);
  s->count = 0;
  pkh_chunk_here = s->out_chunk;
  pkh_used_here = s->out_used;
  s->on = false;
  atomic_fetch_sub_explicit(&pkh_scopes_on, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&pkh_epoch_n, 1, memory_order_release);
}

bool pkh_scoped(void) { return pkh_scope_open() != NULL; }

uint64_t pkh_epoch(void) { return atomic_load_explicit(&pkh_epoch_n, memory_order_acquire); }

/* Find or add a list (n > 0) or an atom (n == 0, the atom in tail): the
   lock-free probe, then pkh_add. */
static inline pk_val pkh_find_add(uint32_t h, const pk_val *items, size_t n, pk_val tail)
{
  pkh_shard *sh = pkh_shard_of(h);
  size_t at = 0;
  pkh_arr *seen = atomic_load_explicit(&sh->arr, memory_order_acquire);
  if (__builtin_expect(!seen, 0)) { /* the table is made on first use; an array published means its shard is ready */
    pthread_once(&pkh_once, pkh_init_once);
    seen = atomic_load_explicit(&sh->arr, memory_order_acquire);
  }
  pk_val v = pkh_probe(seen, h, items, n, tail, &at);
  if (v) return v;
  pkh_scope *s = n ? pkh_scope_open() : NULL;
  return s ? pkh_scope_list(s, h, items, n, tail) : pkh_add(sh, seen, at, h, items, n, tail);
}

/* ---- public -------------------------------------------------------------------- */

pk_val pkh_list(const pk_val *items, size_t n, pk_val tail)
{
  if (n == 0) return tail;
  return pkh_find_add(pkh_listhash(items, n, tail), items, n, tail);
}

pk_val pkh_list_at(const pk_val *items, size_t n, uint32_t h) { return n ? pkh_find_add(h, items, n, PK_NIL) : PK_NIL; }

void pkh_prefetch(uint32_t h)
{
  const pkh_arr *arr = atomic_load_explicit(&pkh_shard_of(h)->arr, memory_order_acquire);
  if (!arr) return; /* the table is made by the first interning */
  size_t i = (h >> 1) & (arr->cap - 1);
  __builtin_prefetch((const void *)&arr->hash[i]);
  __builtin_prefetch((const void *)&arr->slot[i]);
}

/* A slot's value read without ordering: only an address to prefetch,
   which may be stale or 0 (prefetching any address is harmless). */
void pkh_prefetch_node(uint32_t h)
{
  const pkh_arr *arr = atomic_load_explicit(&pkh_shard_of(h)->arr, memory_order_relaxed);
  if (!arr) return;
  size_t i = (h >> 1) & (arr->cap - 1);
  if (atomic_load_explicit(&arr->hash[i], memory_order_relaxed) != h) return;
  __builtin_prefetch((const void *)(atomic_load_explicit(&arr->slot[i], memory_order_relaxed) & ~PK_TAG_MASK));
}

/* The slots each shard wants for n more terms, or 0 where it has room. */
static void pkh_wants(size_t n, size_t want[PKH_SHARDS])
{
  size_t per = n / PKH_SHARDS + 1;
  for (unsigned k = 0; k < PKH_SHARDS; k++) {
    pkh_shard *sh = &pkh_tab[k];
    pkh_lock(sh);
    size_t cap = atomic_load_explicit(&sh->arr, memory_order_relaxed)->cap, w = cap;
    while ((sh->count + per) * 4 > w * 3) w *= 2;
    want[k] = w > cap ? w : 0;
    pkh_unlock(sh);
  }
}

/* The first large reservation's arrays lie in one mapped block with huge
   pages asked for: probes go to random slots of all of them, and with 4 KB
   pages most probes of a large table also miss the TLB.  The block is
   never unmapped (a reader may still probe an array its shard outgrew),
   so only the first reservation takes one. */
static atomic_flag pkh_mapped_once = ATOMIC_FLAG_INIT;

/* Memory for the arrays of want[k] slots: one mapped block, or NULL. */
static char *pkh_maparrs(const size_t want[PKH_SHARDS])
{
  size_t sum = 0;
  for (unsigned k = 0; k < PKH_SHARDS; k++) sum += want[k] ? (pkh_arrbytes(want[k]) + 63) & ~(size_t)63 : 0;
  if (sum < 2 * PKH_HUGE || atomic_flag_test_and_set(&pkh_mapped_once)) return NULL;
  char *r = pkh_map_aligned(sum, 0);
  if (!r) return NULL;
  pko_count_mapped(sum);
  pkh_prefault_block(r, sum);
  return r;
}

void pkh_reserve(size_t n)
{
  pthread_once(&pkh_once, pkh_init_once);
  pkh_scope *s = pkh_scope_open();
  if (s) {
    while ((s->count + n) * 4 > s->cap * 3) pkh_scope_grow(s);
    return;
  }
  size_t want[PKH_SHARDS];
  pkh_wants(n, want);
  char *block = pkh_maparrs(want);
  for (unsigned k = 0; k < PKH_SHARDS; k++) {
    if (!want[k]) continue;
    pkh_arr *a;
    if (block) {
      if (!(a = GC_MALLOC_ATOMIC(sizeof *a))) pkh_oom();
      pkh_setarr(a, block, want[k], true);
      block += (pkh_arrbytes(want[k]) + 63) & ~(size_t)63;
    } else {
      a = pkh_newarr(want[k]);
    }
    pkh_shard *sh = &pkh_tab[k];
    pkh_lock(sh);
    if (want[k] > atomic_load_explicit(&sh->arr, memory_order_relaxed)->cap) pkh_grow(sh, a);
    pkh_unlock(sh);
  }
}

pk_val pkh_atom(pk_val a)
{
  if (pkh_plain(a)) return a;
  if (!pkh_boxed(a)) return 0;
  return pkh_find_add(pkh_hash_atom(a) | 1, NULL, 0, a);
}

bool pkh_internedp(pk_val t)
{
  if (pko_pairp(t)) {
    char *p = (char *)pko_as_pair(t);
    const pkh_chunk *c = pkh_chunk_of(p);
    if (c) {
      size_t u = (size_t)(p - (const char *)c) / 16;
      return atomic_load_explicit(&c->starts[u / 64], memory_order_relaxed) >> (u % 64) & 1;
    }
    return GC_base(p) == p && GC_size(p) >= sizeof(pkh_node); /* ordinary pairs are 16 bytes; a long list's own block */
  }
  return pkh_plain(t) || (pkh_boxed(t) && pkh_atom(t) == t);
}

/* Lists not yet interned are entered post-order: frames on fr are (rest
   of the list, index in items where its elements start).  Both stacks
   start on the C stack (the collector scans it); a deep or wide term
   moves them to the heap. */
pk_val pkh_intern(pk_val t)
{
  if (!pko_pairp(t)) return pkh_atom(t);
  if (pkh_internedp(t)) return t;
  pk_val frbuf[64], itbuf[64];
  pkh_stack fr = { frbuf, 0, 64 }, items = { itbuf, 0, 64 };
  pkh_spush(&fr, t);
  pkh_spush(&fr, 0);
  while (fr.n) {
    pk_val rest = fr.v[fr.n - 2];
    if (pko_pairp(rest)) {
      pk_val e = pko_car(rest);
      fr.v[fr.n - 2] = pko_cdr(rest);
      if (pko_pairp(e) && !pkh_internedp(e)) {
        pkh_spush(&fr, e);
        pkh_spush(&fr, (pk_val)items.n);
        continue;
      }
      pk_val c = pko_pairp(e) ? e : pkh_atom(e);
      if (!c) return 0;
      pkh_spush(&items, c);
      continue;
    }
    pk_val tail = pkh_atom(rest);
    if (!tail) return 0;
    size_t start = (size_t)fr.v[fr.n - 1];
    pk_val l = pkh_list(items.v + start, items.n - start, tail);
    items.n = start;
    fr.n -= 2;
    if (!fr.n) return l;
    pkh_spush(&items, l);
  }
  return 0;
}

void pkh_get_stats(pkh_stats *s)
{
  pthread_once(&pkh_once, pkh_init_once);
  *s = (pkh_stats){ 0 };
  for (unsigned k = 0; k < PKH_SHARDS; k++) {
    pkh_lock(&pkh_tab[k]);
    s->lists += pkh_tab[k].lists;
    s->cells += pkh_tab[k].cells;
    s->atoms += pkh_tab[k].count - pkh_tab[k].lists;
    s->slots += atomic_load_explicit(&pkh_tab[k].arr, memory_order_relaxed)->cap;
    pkh_unlock(&pkh_tab[k]);
  }
  s->bytes = s->lists * sizeof(pkh_node) + s->cells * sizeof(pko_pair) + s->slots * (sizeof(pk_val) + sizeof(uint32_t));
}
