/*
** pk_obj.c — allocation, numbers, strings, symbols, equality and errors.
*/
#include "pk_obj.h"
#include "pk_print.h"

#include <inttypes.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if PK_HAVE_JEMALLOC
#include <jemalloc/jemalloc.h>
#else
#include <malloc.h>
#endif

_Thread_local pko_catch *pko_handler;
_Thread_local pko_errinfo pko_err;
_Thread_local const pk_srcpos *pko_where;
_Atomic int pko_interrupted;

/* ---- clock, random numbers, memory outside the collector ------------------ */

/* Nanoseconds since an unspecified start; never goes back. */
uint64_t pko_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64 (Steele, Lea and Flood 2014): a Weyl sequence through a
   bijective mixer; every state gives a full-period stream. */
uint64_t pko_rand64(uint64_t *state)
{
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

_Thread_local int pko_oom_fatal;
_Thread_local uint64_t pko_mutations;

/* Output already written stays written; then the error, or the exit. */
_Noreturn void pko_oom(void)
{
  fflush(stdout);
  if (pko_handler && !pko_oom_fatal) pko_error("out of memory");
  fputs("pkanren: out of memory\n", stderr);
  exit(PK_STATUS_RUNTIME);
}

/* The collector's out-of-memory hook (GC_set_oom_fn): never returns. */
static void *pko_gc_oom(size_t bytes)
{
  (void)bytes;
  pko_oom();
}

/* The checked allocators: the C library's, then pko_oom on NULL. */
void *pko_xmalloc(size_t bytes)
{
  void *p = malloc(bytes ? bytes : 1);
  if (!p) pko_oom();
  return p;
}

void *pko_xcalloc(size_t n, size_t size)
{
  void *p = calloc(n && size ? n : 1, n && size ? size : 1);
  if (!p) pko_oom();
  return p;
}

/* n * size zero bytes, written: for a table probed before it is written.
   Fresh memory from calloc is mapped to the shared zero page by a first
   read, and the write after it then copies the page, with a TLB
   shootdown (an interrupt) on every other CPU the process runs on. */
void *pko_xzalloc(size_t n, size_t size)
{
  size_t bytes = n && size ? n * size : 1;
  if (size && bytes / size != n) pko_oom();
  return memset(pko_xmalloc(bytes), 0, bytes);
}

void *pko_xrealloc(void *p, size_t bytes)
{
  void *q = realloc(p, bytes ? bytes : 1);
  if (!q) pko_oom();
  return q;
}

char *pko_xstrdup(const char *s)
{
  size_t n = strlen(s) + 1;
  return memcpy(pko_xmalloc(n), s, n);
}

/* One pthread_create with a stack of bytes. */
static bool pko_thread_try(pthread_t *th, void *(*fn)(void *), void *arg, size_t bytes)
{
  pthread_attr_t a;
  pthread_attr_init(&a);
  int rc = pthread_attr_setstacksize(&a, bytes);
  if (rc == 0) rc = pthread_create(th, &a, fn, arg);
  pthread_attr_destroy(&a);
  return rc == 0;
}

/* Address space this process may still map under RLIMIT_AS (ulimit -v),
   SIZE_MAX when unlimited: the limit less the current size (Linux's
   /proc/self/statm; elsewhere the whole limit). */
static size_t pko_as_free(void)
{
  struct rlimit r;
  if (getrlimit(RLIMIT_AS, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
  unsigned long pages = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%lu", &pages) != 1) pages = 0;
    fclose(f);
  }
  size_t used = (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
  return r.rlim_cur > used ? (size_t)(r.rlim_cur - used) : 0;
}

size_t pko_thread_start(pthread_t *th, void *(*fn)(void *), void *arg, size_t want, bool exact, int share)
{
  const size_t margin = (size_t)64 << 20, least = (size_t)16 << 20;
  size_t cap = pko_as_free();
  if (cap != SIZE_MAX && !exact) cap = cap / 2 / (size_t)(share > 0 ? share : 1);
  if ((exact || cap >= want + margin) && pko_thread_try(th, fn, arg, want + margin)) return want;
  if (exact) return 0;
  for (size_t s = want / 2; s >= least; s /= 2)
    if (s <= cap && pko_thread_try(th, fn, arg, s)) return s - ((size_t)256 << 10);
  if (cap < least && pko_thread_try(th, fn, arg, least)) return least - ((size_t)256 << 10);
  return 0;
}

/* ---- allocation ---------------------------------------------------------- */

_Thread_local pko_freelists *pko_fls;

/* Refill this thread's free list for the size of bytes and allocate from
   it; larger objects go to the collector directly.  Dies when out of
   memory (pko_oom), because every caller would have to. */
void *pko_alloc_slow(size_t bytes)
{
  size_t g = (bytes + 15) >> 4;
  if (g == 0 || g > PKO_FL_GRANULES) {
    void *p = GC_MALLOC(bytes);
    if (!p) pko_oom();
    return p;
  }
  if (!pko_fls) {
    pko_fls = GC_MALLOC_UNCOLLECTABLE(sizeof *pko_fls);
    if (!pko_fls) pko_oom();
  }
  if (!pko_fls->fl[g]) {
    pko_fls->fl[g] = GC_malloc_many(g << 4);
    if (!pko_fls->fl[g]) pko_oom();
  }
  return pko_alloc(bytes);
}

/* Collected memory the collector never scans (no pointers inside). */
void *pko_alloc_atomic(size_t bytes)
{
  void *p = GC_MALLOC_ATOMIC(bytes);
  if (!p) pko_oom();
  return p;
}

/* ---- numbers and strings ------------------------------------------------- */

/* A fresh unbound variable (scope 0: never bound in place). */
pk_val pko_mkvar(uint64_t id)
{
  pko_var *c = pko_alloc(sizeof *c);
  c->val = PK_UNBOUND;
  c->id = id;
  return (pk_val)c | PK_TAG_VAR;
}

/* An exact integer: inline when it fits 63 bits, boxed otherwise. */
pk_val pko_mkint(int64_t i)
{
  if (i >= PK_FIXNUM_MIN && i <= PK_FIXNUM_MAX) return pko_mkfix(i);
  pko_int *b = pko_alloc_atomic(sizeof *b);
  b->h.type = PK_T_INT;
  b->h.aux = 0;
  b->i = i;
  return (pk_val)b;
}

/* Exact integer test. */
bool pko_intp(pk_val v) { return pko_fixnump(v) || pko_isa(v, PK_T_INT); }

/* Value of an exact integer. */
int64_t pko_intval(pk_val v) { return pko_fixnump(v) ? pko_fixval(v) : ((pko_int *)v)->i; }

/* A boxed double. */
pk_val pko_mkflo(double d)
{
  pko_flonum *f = pko_alloc_atomic(sizeof *f);
  f->h.type = PK_T_FLONUM;
  f->h.aux = 0;
  f->d = d;
  return (pk_val)f;
}

/* Exact num/den in lowest terms with a positive denominator; an integer
   when the denominator comes out 1. */
pk_val pko_mkratio(int64_t num, int64_t den)
{
  if (den == 0) pko_error("/: undefined for 0");
  /* gcd on magnitudes, as unsigned so that INT64_MIN has one */
  uint64_t a = num < 0 ? -(uint64_t)num : (uint64_t)num;
  uint64_t b = den < 0 ? -(uint64_t)den : (uint64_t)den;
  uint64_t x = a, y = b;
  while (y) {
    uint64_t t = x % y;
    x = y;
    y = t;
  }
  a /= x;
  b /= x;
  bool neg = (num < 0) != (den < 0) && a != 0;
  /* a may be 2^63 only when negative; b must fit INT64_MAX */
  if (b > (uint64_t)INT64_MAX || a > (uint64_t)INT64_MAX + neg)
    pko_error("/: fixnum overflow with %" PRId64 " and %" PRId64 " (no bignums)", num, den);
  int64_t n = neg ? (int64_t)(0 - a) : (int64_t)a;
  if (b == 1) return pko_mkint(n);
  pko_ratio *q = pko_alloc_atomic(sizeof *q);
  q->h.type = PK_T_RATIO;
  q->h.aux = 0;
  q->num = n;
  q->den = (int64_t)b;
  return (pk_val)q;
}

/* An immutable string copied from s[0..len). */
pk_val pko_mkstr(const char *s, size_t len)
{
  pko_string *p = pko_alloc_atomic(sizeof *p + len + 1);
  p->h.type = PK_T_STRING;
  p->h.aux = 0;
  p->len = (uint32_t)len;
  memcpy(p->s, s, len);
  p->s[len] = 0;
  return (pk_val)p;
}

pk_val pko_mkcstr(const char *s) { return pko_mkstr(s, strlen(s)); }

/* A vector of len slots, each fill. */
pk_val pko_mkvec(uint32_t len, pk_val fill)
{
  pko_vector *v = pko_alloc(sizeof *v + len * sizeof(pk_val));
  v->h.type = PK_T_VECTOR;
  v->len = len;
  for (uint32_t i = 0; i < len; i++) v->items[i] = fill;
  return (pk_val)v;
}

/* An element as a double, for float64 tensors. */
static double pko_to_double(pk_val v)
{
  if (pko_isa(v, PK_T_FLONUM)) return pko_flo(v);
  if (pko_isa(v, PK_T_RATIO)) return (double)pko_as_ratio(v)->num / (double)pko_as_ratio(v)->den;
  return (double)pko_intval(v);
}

/* One atomic block: header, dimensions, elements. */
pk_val pko_mktensor(uint32_t rank, const int64_t *dims, uint64_t count, const pk_val *elems)
{
  bool f64 = false;
  for (uint64_t k = 0; k < count && !f64; k++) f64 = !pko_intp(elems[k]);
  pko_tensor *t = pko_alloc_atomic(sizeof *t + (rank + count) * sizeof(int64_t));
  t->h.type = PK_T_TENSOR;
  t->h.aux = f64 ? PKO_TENSOR_F64 : PKO_TENSOR_I64;
  t->rank = rank;
  t->pad = 0;
  t->count = count;
  memcpy(t->dims, dims, rank * sizeof *dims);
  int64_t *i64 = t->dims + rank;
  double *d = (double *)i64;
  for (uint64_t k = 0; k < count; k++) {
    if (f64)
      d[k] = pko_to_double(elems[k]);
    else
      i64[k] = pko_intval(elems[k]);
  }
  return (pk_val)t;
}

/* Bytes of a tensor after its header: dimensions and elements. */
static size_t pko_tensor_bytes(const pko_tensor *t) { return (t->rank + t->count) * sizeof(int64_t); }

uint64_t pko_tensor_hash(pk_val v)
{
  const pko_tensor *t = pko_as_tensor(v);
  const unsigned char *p = (const unsigned char *)t->dims;
  return pko_fnv(PKO_FNV0 ^ t->h.aux ^ (uint64_t)t->rank << 8, p, pko_tensor_bytes(t));
}

/* Same element type, shape and element bits (so -0.0 differs from 0.0 and
   a NaN equals itself, as eqv? compares flonums). */
static bool pko_tensor_equal(pk_val a, pk_val b)
{
  const pko_tensor *x = pko_as_tensor(a), *y = pko_as_tensor(b);
  return x->h.aux == y->h.aux && x->rank == y->rank && x->count == y->count &&
         memcmp(x->dims, y->dims, pko_tensor_bytes(x)) == 0;
}

/* (list a b ...) from n C arguments. */
pk_val pko_list(int n, ...)
{
  pk_val items[n > 0 ? n : 1], r = PK_NIL;
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) items[i] = va_arg(ap, pk_val);
  va_end(ap);
  while (n-- > 0) r = pko_cons(items[n], r);
  return r;
}

/* A fresh proper list with the elements of list in reverse order. */
pk_val pko_reverse(pk_val list)
{
  pk_val r = PK_NIL;
  for (; pko_pairp(list); list = pko_cdr(list)) r = pko_cons(pko_car(list), r);
  return r;
}

/* Length of a proper list, or -1.  Floyd's cycle check is unnecessary:
   pairs are immutable, so lists cannot be circular. */
long pko_length(pk_val list)
{
  long n = 0;
  for (; pko_pairp(list); list = pko_cdr(list)) n++;
  return list == PK_NIL ? n : -1;
}

/* Length of the well-formed UTF-8 sequence at s[0..n) and its code point,
   or 0 (overlong forms, surrogates and values past U+10FFFF are refused). */
int pko_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
  unsigned c = s[0];
  int k = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c < 0xF5 ? 4 : 0;
  if (k == 0 || (size_t)k > n) return 0;
  uint32_t v = k == 1 ? c : c & (0x7F >> k);
  for (int j = 1; j < k; j++) {
    if ((s[j] & 0xC0) != 0x80) return 0;
    v = v << 6 | (s[j] & 0x3F);
  }
  static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
  if (v < min[k] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return k;
}

/* ---- symbols --------------------------------------------------------------
** Open addressing, power-of-two table, grown at 50% load.  Lookups take no
** lock: a table is published whole (release), and a slot is filled once,
** with a release store of a finished symbol, so a reader sees it empty or
** done.  A miss makes the symbol, then takes the lock, probes the current
** table again and inserts it (or drops it: another thread was first).  A
** table outgrown is left to the collector: a reader may still be probing
** it.  Two workers reading thousands of models each met on the lock. */

typedef struct pko_symarr {
  size_t cap;
  pko_symbol *_Atomic slots[];
} pko_symarr;

static struct {
  pthread_mutex_t lock;
  pko_symarr *_Atomic arr; /* replaced under lock */
  size_t count;            /* under lock */
} pko_symtab = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };

/* A new symbol object, not entered in any table. */
static pko_symbol *pko_newsym(const char *name, size_t len, uint64_t h)
{
  pko_symbol *s = GC_MALLOC_UNCOLLECTABLE(sizeof *s + len + 1);
  s->h.type = PK_T_SYMBOL;
  s->value = PK_UNBOUND;
  s->hash = h;
  s->len = (uint32_t)len;
  memcpy(s->name, name, len);
  s->name[len] = 0;
  return s;
}

/* The slot of t holding the symbol named name[0..len) of hash h, or the
   empty slot where it would go. */
static size_t pko_symslot(const pko_symarr *t, const char *name, size_t len, uint64_t h)
{
  size_t j = h & (t->cap - 1);
  for (pko_symbol *s; (s = atomic_load_explicit(&t->slots[j], memory_order_acquire)); j = (j + 1) & (t->cap - 1))
    if (s->hash == h && s->len == len && memcmp(s->name, name, len) == 0) break;
  return j;
}

/* The symbol named name[0..len) of hash h if there is one, else NULL.  No
   lock. */
static pko_symbol *pko_symfind(const char *name, size_t len, uint64_t h)
{
  const pko_symarr *t = atomic_load_explicit(&pko_symtab.arr, memory_order_acquire);
  return t ? atomic_load_explicit(&t->slots[pko_symslot(t, name, len, h)], memory_order_acquire) : NULL;
}

/* The table, doubled (or made) when one more symbol would pass half load
   (lock held). */
static pko_symarr *pko_symroom(void)
{
  pko_symarr *t = atomic_load_explicit(&pko_symtab.arr, memory_order_relaxed);
  if (t && 2 * (pko_symtab.count + 1) <= t->cap) return t;
  size_t ncap = t ? t->cap * 2 : 4096;
  pko_symarr *n = GC_MALLOC_ATOMIC(sizeof *n + ncap * sizeof n->slots[0]); /* symbols are uncollectable */
  if (!n) pko_oom();
  memset(n->slots, 0, ncap * sizeof n->slots[0]);
  n->cap = ncap;
  for (size_t i = 0; t && i < t->cap; i++) {
    pko_symbol *s = atomic_load_explicit(&t->slots[i], memory_order_relaxed);
    if (!s) continue;
    size_t j = s->hash & (ncap - 1);
    while (atomic_load_explicit(&n->slots[j], memory_order_relaxed)) j = (j + 1) & (ncap - 1);
    atomic_store_explicit(&n->slots[j], s, memory_order_relaxed);
  }
  atomic_store_explicit(&pko_symtab.arr, n, memory_order_release);
  return n;
}

/* The interned symbol named name[0..len). */
pk_val pko_intern(const char *name, size_t len)
{
  uint64_t h = pko_fnv(PKO_FNV0, name, len);
  pko_symbol *s = pko_symfind(name, len, h);
  if (s) return (pk_val)s;
  pko_oom_fatal++;
  pko_symbol *made = pko_newsym(name, len, h);
  pthread_mutex_lock(&pko_symtab.lock);
  pko_symarr *t = pko_symroom();
  size_t j = pko_symslot(t, name, len, h);
  s = atomic_load_explicit(&t->slots[j], memory_order_relaxed);
  if (!s) {
    atomic_store_explicit(&t->slots[j], s = made, memory_order_release);
    pko_symtab.count++;
    made = NULL;
  }
  pthread_mutex_unlock(&pko_symtab.lock);
  if (made) GC_FREE(made);
  pko_oom_fatal--;
  return (pk_val)s;
}

pk_val pko_find_sym(const char *name, size_t len)
{
  return (pk_val)pko_symfind(name, len, pko_fnv(PKO_FNV0, name, len));
}

pk_val pko_sym(const char *cname) { return pko_intern(cname, strlen(cname)); }

/* A fresh uninterned symbol printed like base; used to rename identifiers
   that a macro template introduces. */
pk_val pko_gensym(pk_val base)
{
  const pko_symbol *b = pko_as_sym(base);
  pko_symbol *s = pko_newsym(b->name, b->len, b->hash);
  s->flags |= PKO_SYM_GENSYM;
  return (pk_val)s;
}

/* ---- equality ------------------------------------------------------------ */

/* Scheme eqv?: identity, or same number of the same exactness, or same
   character (chars are immediates, so identity covers them). */
bool pko_eqv(pk_val a, pk_val b)
{
  if (a == b) return true;
  pko_type ta = pko_typeof(a), tb = pko_typeof(b);
  if (ta != tb) return false;
  if (ta == PK_T_INT) return ((pko_int *)a)->i == ((pko_int *)b)->i;
  if (ta == PK_T_RATIO)
    return pko_as_ratio(a)->num == pko_as_ratio(b)->num && pko_as_ratio(a)->den == pko_as_ratio(b)->den;
  if (ta == PK_T_FLONUM) {
    double x = pko_flo(a), y = pko_flo(b);
    return memcmp(&x, &y, sizeof x) == 0;
  }
  return false;
}

/* Atoms under equal?: eqv, same string contents, or equal tensors. */
static bool pko_equal_atom(pk_val a, pk_val b)
{
  if (pko_eqv(a, b)) return true;
  if (pko_isa(a, PK_T_TENSOR) && pko_isa(b, PK_T_TENSOR)) return pko_tensor_equal(a, b);
  if (pko_stringp(a) && pko_stringp(b))
    return pko_as_str(a)->len == pko_as_str(b)->len &&
           memcmp(pko_as_str(a)->s, pko_as_str(b)->s, pko_as_str(a)->len) == 0;
  return false;
}

/* Slot index of (a, b) in a table of capacity cap (a power of two). */
static size_t pko_seen_home(uintptr_t a, uintptr_t b, size_t cap)
{
  uint64_t h = (uint64_t)a ^ ((uint64_t)b * 0x9e3779b97f4a7c15ull);
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return (size_t)(h ^ (h >> 31)) & (cap - 1);
}

/* Double the table; every entry moves to its new home. */
static void pko_seen_grow(pko_seen *s)
{
  size_t cap = s->cap ? s->cap * 2 : 64;
  uintptr_t *t = pko_xzalloc(cap * 3, sizeof *t);
  for (size_t k = 0; k < s->cap; k++) {
    uintptr_t *e = s->slot + 3 * k;
    if (!e[0]) continue;
    size_t i = pko_seen_home(e[0], e[1], cap);
    while (t[3 * i]) i = (i + 1) & (cap - 1);
    memcpy(t + 3 * i, e, 3 * sizeof *e);
  }
  free(s->slot);
  s->slot = t;
  s->cap = cap;
}

uintptr_t *pko_seen_get(pko_seen *s, uintptr_t a, uintptr_t b, bool *added)
{
  if (2 * (s->n + 1) > s->cap) pko_seen_grow(s);
  size_t i = pko_seen_home(a, b, s->cap);
  for (;; i = (i + 1) & (s->cap - 1)) {
    uintptr_t *e = s->slot + 3 * i;
    if (!e[0]) {
      e[0] = a;
      e[1] = b;
      e[2] = 0;
      s->n++;
      *added = true;
      return e + 2;
    }
    if (e[0] == a && e[1] == b) {
      *added = false;
      return e + 2;
    }
  }
}

void pko_seen_free(pko_seen *s)
{
  free(s->slot);
  s->slot = NULL;
  s->n = s->cap = 0;
}

/* The explicit stack of pko_equal: pairs of values still to compare. */
typedef struct pko_eqstack {
  pk_val *v;
  size_t n, cap; /* in pairs */
  pk_val local[128];
} pko_eqstack;

/* Queue (a, b); doubling into malloc'd memory past the local array. */
static void pko_eqpush(pko_eqstack *st, pk_val a, pk_val b)
{
  if (st->n == st->cap) {
    pk_val *nv = pko_xmalloc(4 * st->cap * sizeof *nv);
    memcpy(nv, st->v, 2 * st->n * sizeof *nv);
    if (st->v != st->local) free(st->v);
    st->v = nv;
    st->cap *= 2;
  }
  st->v[2 * st->n] = a;
  st->v[2 * st->n + 1] = b;
  st->n++;
}

/* Compare vectors x and y: false on a length mismatch, else their items
   are queued, unless this pair of vectors was met before. */
static bool pko_equal_vec(pko_eqstack *st, pko_seen *seen, pk_val a, pk_val b)
{
  const pko_vector *x = pko_as_vec(a), *y = pko_as_vec(b);
  if (x->len != y->len) return false;
  bool added;
  pko_seen_get(seen, (uintptr_t)a, (uintptr_t)b, &added);
  if (!added) return true;
  for (uint32_t i = x->len; i-- > 0;) pko_eqpush(st, x->items[i], y->items[i]);
  return true;
}

/* Walks cdrs in a loop and cars and vector items through an explicit
   stack, so depth costs heap, not C stack; the seen table (vectors only)
   makes cycles terminate and is never touched by vector-free terms. */
bool pko_equal(pk_val a, pk_val b)
{
  pko_eqstack st;
  st.v = st.local;
  st.n = 0;
  st.cap = sizeof st.local / sizeof st.local[0] / 2;
  pko_seen seen = { 0 };
  bool ok = true;
  for (;;) {
    if (a == b) goto next;
    if (pko_pairp(a) && pko_pairp(b)) {
      pko_eqpush(&st, pko_cdr(a), pko_cdr(b));
      a = pko_car(a);
      b = pko_car(b);
      continue;
    }
    if (pko_isa(a, PK_T_VECTOR) && pko_isa(b, PK_T_VECTOR) ? !pko_equal_vec(&st, &seen, a, b) : !pko_equal_atom(a, b)) {
      ok = false;
      break;
    }
  next:
    if (st.n == 0) break;
    st.n--;
    a = st.v[2 * st.n];
    b = st.v[2 * st.n + 1];
  }
  if (st.v != st.local) free(st.v);
  pko_seen_free(&seen);
  return ok;
}

/* ---- primitives ---------------------------------------------------------- */

/* Bind name to a C primitive. */
void pko_defprim(const char *name, pk_primfn fn, int min, int max)
{
  pko_prim *p = GC_MALLOC_UNCOLLECTABLE(sizeof *p);
  p->h.type = PK_T_PRIM;
  p->fn = fn;
  p->name = name;
  p->min = (int16_t)min;
  p->max = (int16_t)max;
  pko_symbol *s = pko_as_sym(pko_sym(name));
  s->value = (pk_val)p;
  s->flags |= PKO_SYM_DEFINED;
}

/* ---- errors -------------------------------------------------------------- */

/* A failed pko_assert: an internal error, never a user's. */
_Noreturn void pko_assert_fail(const char *cond, const char *file, int line)
{
  fflush(stdout);
  fprintf(stderr, "pkanren: internal error: %s:%d: check failed: %s\n", file, line, cond);
  abort();
}

/* Jump to the innermost handler; with none, the error is unrecoverable. */
_Noreturn void pko_rethrow(void)
{
  pko_catch *c = pko_handler;
  if (!c) {
    fprintf(stderr, "%s\n", pko_err.msg);
    exit(pko_err.status == PK_STATUS_EXIT ? pko_err.code : pko_err.status);
  }
  pko_handler = c->prev;
  longjmp(c->jb, 1);
}

/* Format "file:line:col: " + message into pko_err.msg and throw. */
_Noreturn void pko_vthrow_at(int status, const pk_srcpos *pos, const char *fmt, va_list ap)
{
  int n = 0;
  if (pos && pos->file) n = snprintf(pko_err.msg, sizeof pko_err.msg, "%s:%d:%d: ", pos->file, pos->line, pos->col);
  vsnprintf(pko_err.msg + n, sizeof pko_err.msg - (size_t)n, fmt, ap);
  pko_err.status = status;
  pko_rethrow();
}

_Noreturn void pko_throw_at(int status, const pk_srcpos *pos, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  pko_vthrow_at(status, pos, fmt, ap);
}

_Noreturn void pko_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  pko_vthrow_at(PK_STATUS_RUNTIME, pko_where, fmt, ap);
}

/* Runtime error whose message ends with the written irritant, cut to a
   readable length. */
_Noreturn void pko_error_val(const char *msg, pk_val irritant)
{
  char *s = pkp_tostring(irritant, PKP_WRITE);
  size_t n = strlen(s);
  if (n > 200) strcpy(s + 197, "...");
  char buf[512];
  snprintf(buf, sizeof buf, "%s", s);
  free(s);
  pko_error("%s: %s", msg, buf);
}

/* ---- answers with constraints -------------------------------------------- */

static const char pko_answer_mark = 'A';

pk_val pko_cons_answer(pk_val term, pk_val constraints)
{
  pk_val *w = GC_MALLOC(3 * sizeof *w);
  if (!w) pko_oom();
  w[0] = term;
  w[1] = constraints;
  w[2] = (pk_val)&pko_answer_mark;
  return (pk_val)w | ((pko_groundp(term) && pko_groundp(constraints)) ? PK_TAG_GPAIR : PK_TAG_PAIR);
}

bool pko_answer_pairp(pk_val v)
{
  if (!pko_pairp(v)) return false;
  pk_val *w = (pk_val *)(v & ~PK_TAG_MASK);
  return GC_base(w) == (void *)w && GC_size(w) >= 3 * sizeof *w && w[2] == (pk_val)&pko_answer_mark;
}

/* ---- stopping: signals and limits ---------------------------------------- */

static _Atomic int pko_why;
pko_limits pko_limit;

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t th;
  bool on, quit;
} pko_dog = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

void pko_stop(int why)
{
  int none = 0;
  atomic_compare_exchange_strong(&pko_why, &none, why);
  pko_interrupt_set(1);
}

int pko_stop_reason(void) { return atomic_load(&pko_why); }

const char *pko_stop_text(void)
{
  static _Thread_local char buf[96];
  switch (pko_stop_reason()) {
  case PKO_STOP_STEPS:
    snprintf(buf, sizeof buf, "the step limit (max-steps %llu)", (unsigned long long)pko_limit.max_steps);
    break;
  case PKO_STOP_MEMORY:
    snprintf(buf, sizeof buf, "the memory limit (max-memory %llu bytes)", (unsigned long long)pko_limit.max_memory);
    break;
  case PKO_STOP_TIME: snprintf(buf, sizeof buf, "the time limit (timeout %g s)", pko_limit.timeout); break;
  default: snprintf(buf, sizeof buf, "interrupted");
  }
  return buf;
}

/* Collected heap plus malloc'd bytes (jemalloc's count when linked). */
static _Atomic uint64_t pko_mapped; /* pko_count_mapped */

void pko_count_mapped(size_t n) { atomic_fetch_add_explicit(&pko_mapped, n, memory_order_relaxed); }

uint64_t pko_memory_used(void)
{
  uint64_t n = GC_get_heap_size() + atomic_load_explicit(&pko_mapped, memory_order_relaxed);
#if PK_HAVE_JEMALLOC
  uint64_t epoch = 1;
  size_t alloc = 0, sz = sizeof epoch;
  mallctl("epoch", &epoch, &sz, &epoch, sz);
  sz = sizeof alloc;
  if (mallctl("stats.allocated", &alloc, &sz, NULL, 0) == 0) n += alloc;
#else
  struct mallinfo2 mi = mallinfo2();
  n += mi.uordblks + mi.hblkhd;
#endif
  return n;
}

/* The watchdog: every 10 ms, the clock and the memory against the limits. */
static void *pko_watchdog(void *arg)
{
  (void)arg;
  uint64_t start = pko_now_ns(), ns = (uint64_t)(pko_limit.timeout * 1e9);
  pthread_mutex_lock(&pko_dog.mu);
  while (!pko_dog.quit) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 10000000;
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&pko_dog.cv, &pko_dog.mu, &ts);
    if (pko_dog.quit) break;
    if (ns && pko_now_ns() - start >= ns)
      pko_stop(PKO_STOP_TIME);
    else if (pko_limit.max_memory && pko_memory_used() > pko_limit.max_memory)
      pko_stop(PKO_STOP_MEMORY);
  }
  pthread_mutex_unlock(&pko_dog.mu);
  return NULL;
}

void pko_limits_begin(const pko_limits *l)
{
  pko_limits_end();
  pko_limit = *l;
  atomic_store(&pko_why, 0);
  pko_interrupt_set(0);
  if (!l->timeout && !l->max_memory) return;
  pko_dog.quit = false;
  pko_dog.on = pthread_create(&pko_dog.th, NULL, pko_watchdog, NULL) == 0;
  if (!pko_dog.on) pko_error("cannot start the thread that watches the time and memory limits");
}

void pko_limits_end(void)
{
  if (!pko_dog.on) return;
  pthread_mutex_lock(&pko_dog.mu);
  pko_dog.quit = true;
  pthread_cond_signal(&pko_dog.cv);
  pthread_mutex_unlock(&pko_dog.mu);
  pthread_join(pko_dog.th, NULL);
  pko_dog.on = false;
}

/* Clear the flag and throw: the interrupt status at the form being
   evaluated, or a runtime error naming the limit that set the flag. */
_Noreturn void pko_interrupt(void)
{
  pko_interrupt_set(0);
  if (pko_stop_reason() >= PKO_STOP_STEPS) pko_throw_at(PK_STATUS_RUNTIME, pko_where, "stopped by %s", pko_stop_text());
  pko_throw_at(PK_STATUS_INTERRUPT, pko_where, "interrupted");
}

/* ---- init ---------------------------------------------------------------- */

static unsigned pko_markers;

/* Before pko_init, from one thread: the collector marks on n threads (0:
   one per CPU, the collector's default).  A command-line run passes its
   worker count, so that -j N keeps to N cores while collecting too (with
   one marker per CPU, -j 1 used 1.16 cores on perm8-diseq); GC_MARKERS in
   the environment still wins. */
void pko_set_markers(unsigned n) { pko_markers = n; }

static void *pko_skip_from, *pko_skip_to;

void pko_gc_skip(void *from, void *to)
{
  pko_skip_from = from;
  pko_skip_to = to;
}

/* The libraries pkanren links that never hold a collector pointer in
   their static data: the collector need not scan it for roots. */
static const char *const pko_rootless[] = { "libjemalloc.", "libgsl.",    "libgslcblas.", "libhwloc.",
                                            "libudev.",     "libedit.",   "libtinfo.",    "libbsd.",
                                            "libmd.",       "libstdc++.", "libgcc_s.",    "libm." };

/* Whether the collector scans a library's writable segment for roots
   (GC_register_has_static_roots_callback): all but pko_rootless's.
   jemalloc's are megabytes never touched, which a scan would fault in
   page by page at every start. */
static int GC_CALLBACK pko_gc_scans(const char *dlpi_name, void *start, size_t size)
{
  (void)start;
  (void)size;
  const char *base = strrchr(dlpi_name, '/');
  base = base ? base + 1 : dlpi_name;
  for (size_t i = 0; i < sizeof pko_rootless / sizeof *pko_rootless; i++)
    if (!strncmp(base, pko_rootless[i], strlen(pko_rootless[i]))) return 0;
  return 1;
}

static GC_warn_proc pko_gc_warn_next;

/* The collector's warnings, but for a heap it cannot grow: under ulimit -v
   it said so some eighty times before pkanren's one `FILE:LINE:COL: out
   of memory`, which tells the user what happened and where. */
static void GC_CALLBACK pko_gc_warn(char *msg, GC_word arg)
{
  if (strstr(msg, "Failed to expand heap") || strcasestr(msg, "out of memory")) return;
  pko_gc_warn_next(msg, arg);
}

/* Start the collector and the symbol table. */
static void pko_init_once(void)
{
  GC_register_has_static_roots_callback(pko_gc_scans);
  /* Objects are referenced only from their start or a pair tag offset:
     no interior pointers, so a 16-byte pair takes 16 bytes, not 32. */
  GC_set_all_interior_pointers(0);
  if (pko_markers) GC_set_markers_count(pko_markers);
  /* before GC_INIT, whose first look at the roots would fault the range in */
  if (pko_skip_from) GC_exclude_static_roots(pko_skip_from, pko_skip_to);
  GC_INIT();
  GC_set_oom_fn(pko_gc_oom);
  pko_gc_warn_next = GC_get_warn_proc();
  GC_set_warn_proc(pko_gc_warn);
  GC_register_displacement(PK_TAG_PAIR);
  GC_register_displacement(PK_TAG_GPAIR);
  GC_register_displacement(PK_TAG_VAR);
  const char *div = getenv("PKANREN_GC_DIVISOR");
  GC_set_free_space_divisor(div ? (GC_word)atoi(div) : 1);
  /* At least 16 MB between collections: a small live heap (a small search
     frontier) would otherwise be collected every few MB, paying the fixed
     cost of stopping threads and scanning roots each time. */
  const char *minmb = getenv("PKANREN_GC_MIN_MB");
  GC_set_min_bytes_allocd((size_t)(minmb ? atoi(minmb) : 16) << 20);
  GC_allow_register_threads();
}

/* One-time process set-up; any thread may call it, any number of times. */
void pko_init(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, pko_init_once);
}
