/*
** pk_obj.h — values, heap objects, symbols and errors: the vocabulary every
** engine module speaks.
**
** A value (pk_val) is one tagged machine word.  Low bits:
**   ...xxx1  fixnum (63-bit signed, inline); wider int64 are boxed PK_T_INT
**   ...0000  pointer to a heap object that starts with a pko_hdr
**   ...0010  pair that may contain logic variables
**   ...1010  pair known to be ground (no logic variables anywhere inside)
**   ...0100  logic variable: pointer to a pko_var cell (id, scope, value)
**   ...0110  other immediates: (), #f, #t, void, unbound, eof, default
**   ...1110  character; code point is v >> 4
** The ground bit is computed once by pko_cons (two tests), so unification
** with a large ground term never rescans it: that keeps forward appendo linear.
**
** All heap objects live in the Boehm collector's heap (GC_MALLOC*): objects
** never move, so addresses are stable keys, and any thread may read any
** object.  Terms are immutable after construction.
*/
#ifndef PK_OBJ_H
#define PK_OBJ_H

#ifndef GC_THREADS
#define GC_THREADS
#endif
#include <gc/gc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uintptr_t pk_val;

/* ---- tags -------------------------------------------------------------- */
#define PK_TAG_MASK ((pk_val)15)
#define PK_TAG_OBJ ((pk_val)0)
#define PK_TAG_PAIR ((pk_val)2)
#define PK_TAG_VAR ((pk_val)4)
#define PK_TAG_IMM ((pk_val)6)
#define PK_TAG_GPAIR ((pk_val)10)
#define PK_TAG_CHAR ((pk_val)14)

#define PK_IMM(n) ((((pk_val)(n)) << 4) | PK_TAG_IMM)
#define PK_NIL PK_IMM(0)
#define PK_FALSE PK_IMM(1)
#define PK_TRUE PK_IMM(2)
#define PK_VOID PK_IMM(3)    /* value of (if #f #f), set!, define, ... */
#define PK_UNBOUND PK_IMM(4) /* "no value": unbound global, absent map key */
#define PK_EOF PK_IMM(5)
#define PK_DEFAULT PK_IMM(6) /* internal marker; never visible to programs */

#define PK_FIXNUM_MAX ((int64_t)(INT64_MAX >> 1))
#define PK_FIXNUM_MIN ((int64_t)(INT64_MIN >> 1))

static inline bool pko_fixnump(pk_val v) { return v & 1; }
static inline int64_t pko_fixval(pk_val v) { return ((int64_t)v) >> 1; }
/* Inline fixnum from a value known to fit in 63 bits. */
static inline pk_val pko_mkfix(int64_t i) { return ((pk_val)i << 1) | 1; }

static inline bool pko_pairp(pk_val v) { return (v & 7) == 2; }
static inline bool pko_varp(pk_val v) { return (v & PK_TAG_MASK) == PK_TAG_VAR; }
static inline bool pko_charp(pk_val v) { return (v & PK_TAG_MASK) == PK_TAG_CHAR; }
static inline bool pko_objp(pk_val v) { return (v & PK_TAG_MASK) == 0 && v != 0; }
/* Ground: not a variable and not a possibly-non-ground pair.  One mask, two
   compares. */
static inline bool pko_groundp(pk_val v)
{
  pk_val t = v & PK_TAG_MASK;
  return t != PK_TAG_PAIR && t != PK_TAG_VAR;
}

/* A logic variable's cell.  val is set in place only while no disjunction
   has started since the variable was made (scope equal to the current
   state's; see pk_search.c), which is faster-miniKanren's set-var-val!: the
   binding is then visible to exactly the one branch that can see the
   variable.  Otherwise bindings go to the state's persistent map. */
typedef struct pko_var {
  pk_val val;
  uint64_t scope, id;
} pko_var;
static inline pko_var *pko_cell(pk_val v) { return (pko_var *)(v & ~(pk_val)15); }
static inline uint64_t pko_varid(pk_val v) { return pko_cell(v)->id; }
/* A fresh unbound variable numbered id, never bound in place. */
pk_val pko_mkvar(uint64_t id);
static inline pk_val pko_mkchar(uint32_t cp) { return ((pk_val)cp << 4) | PK_TAG_CHAR; }
static inline uint32_t pko_charval(pk_val v) { return (uint32_t)(v >> 4); }
static inline pk_val pko_mkbool(bool b) { return b ? PK_TRUE : PK_FALSE; }
static inline bool pko_truthy(pk_val v) { return v != PK_FALSE; }

/* ---- pairs ------------------------------------------------------------- */
typedef struct pko_pair {
  pk_val car, cdr;
} pko_pair;

static inline pko_pair *pko_as_pair(pk_val v) { return (pko_pair *)(v & ~(pk_val)15); }
static inline pk_val pko_car(pk_val v) { return pko_as_pair(v)->car; }
static inline pk_val pko_cdr(pk_val v) { return pko_as_pair(v)->cdr; }

/* ---- allocation ---------------------------------------------------------
** Small objects come from per-thread free lists refilled by GC_malloc_many,
** so the common case is a few loads and stores with no call and no lock.
** The list heads live in an uncollectable per-thread block, which keeps the
** not-yet-used objects reachable (the collector does not scan TLS). */
/* Free lists for 16..272-byte objects: up to a full map node (pk_map.h),
   so that map nodes take the inline path too and owned ones can be given
   back (qs-thrines-565: 1.41 -> 1.34 s at -j 1, 0.80 -> 0.72 s at -j 2,
   against lists up to 128 bytes, medians of 5). */
#define PKO_FL_GRANULES 17
typedef struct pko_freelists {
  void *fl[PKO_FL_GRANULES + 1];
} pko_freelists;
extern _Thread_local pko_freelists *pko_fls __attribute__((tls_model("initial-exec")));
void *pko_alloc_slow(size_t bytes);

/* Give back an object of the given size that nothing else references: it
   goes, zeroed, to the front of this thread's free list, to be reused
   without the collector (no lock, and the memory is still in cache).  For
   objects consumed exactly once, like the engine's thunks; a wrong call is
   a use after free.  A memset of the object and a few loads and stores. */
static inline void pko_free_owned(void *p, size_t bytes)
{
  size_t g = (bytes + 15) >> 4;
  pko_freelists *f = pko_fls;
  if (!f || g > PKO_FL_GRANULES) return; /* left to the collector */
  memset(p, 0, g << 4);
  *(void **)p = f->fl[g];
  f->fl[g] = p;
}

/* Collected memory that may hold pointers, zeroed.  About 8 instructions
   when the thread's free list for the size is not empty. */
static inline void *pko_alloc(size_t bytes)
{
  size_t g = (bytes + 15) >> 4;
  pko_freelists *f = pko_fls;
  if (__builtin_expect(f != NULL && g <= PKO_FL_GRANULES, 1)) {
    void **p = (void **)f->fl[g];
    if (__builtin_expect(p != NULL, 1)) {
      f->fl[g] = *p;
      *p = NULL;
      return p;
    }
  }
  return pko_alloc_slow(bytes);
}

/* Allocate a pair; its tag records whether both halves are ground. */
static inline pk_val pko_cons(pk_val a, pk_val d)
{
  pko_pair *p = (pko_pair *)pko_alloc(sizeof *p);
  p->car = a;
  p->cdr = d;
  return (pk_val)p | ((pko_groundp(a) && pko_groundp(d)) ? PK_TAG_GPAIR : PK_TAG_PAIR);
}

/* A pair (term . constraints) that reification made for an answer with
   constraints, marked so that the JSON printer can tell it from a term
   of the same shape: a third word points at a private static.  Pair
   operations see an ordinary pair (equal?, car, cdr...); a copy of it is
   unmarked. */
pk_val pko_cons_answer(pk_val term, pk_val constraints);
/* True for a pair made by pko_cons_answer.  Cost: a collector lookup. */
bool pko_answer_pairp(pk_val v);

/* ---- heap objects ------------------------------------------------------ */
typedef enum pko_type {
  PK_T_SYMBOL = 1,
  PK_T_STRING,
  PK_T_FLONUM,
  PK_T_INT, /* int64 that does not fit a fixnum */
  PK_T_VECTOR,
  PK_T_CLOSURE, /* Scheme lambda closed over an environment (pk_eval.c) */
  PK_T_PRIM,    /* primitive procedure written in C */
  PK_T_GOAL,    /* miniKanren goal (pk_search.c) */
  PK_T_MACRO,   /* syntax-rules transformer (pk_eval.c) */
  PK_T_ENV,     /* environment frame (pk_eval.c) */
  PK_T_OPAQUE,  /* anything else internal: states, streams, ... */
  PK_T_RATIO,   /* exact non-integer rational with int64 parts */
  PK_T_TENSOR   /* literal tensor #[...] (pko_tensor) */
} pko_type;

typedef struct pko_hdr {
  uint32_t type, aux;
} pko_hdr;

static inline pko_type pko_typeof(pk_val v) { return pko_objp(v) ? (pko_type)((pko_hdr *)v)->type : (pko_type)0; }
static inline bool pko_isa(pk_val v, pko_type t) { return pko_typeof(v) == t; }

typedef struct pko_symbol {
  pko_hdr h;    /* aux: special-form code (pk_eval.c), 0 if none */
  pk_val value; /* global binding or PK_UNBOUND */
  pk_val macro; /* global syntax-rules transformer or 0 */
  uint64_t hash;
  uint32_t len;
  uint32_t flags; /* PKO_SYM_* */
  char name[];
} pko_symbol;
#define PKO_SYM_DEFINED 1u /* defined somewhere in a loaded program (static check) */
#define PKO_SYM_GENSYM 2u  /* uninterned (macro renaming) */

typedef struct pko_string {
  pko_hdr h;
  uint32_t len;
  char s[];
} pko_string; /* NUL-terminated, len bytes */
typedef struct pko_flonum {
  pko_hdr h;
  double d;
} pko_flonum;
typedef struct pko_int {
  pko_hdr h;
  int64_t i;
} pko_int;
typedef struct pko_vector {
  pko_hdr h;
  uint32_t len;
  pk_val items[];
} pko_vector; /* h.aux unused */
/* Always normalised: gcd(num, den) = 1, den > 1 (a denominator of 1 is an
   integer, never a ratio), so eqv? compares the two fields. */
typedef struct pko_ratio {
  pko_hdr h;
  int64_t num, den;
} pko_ratio;

typedef pk_val (*pk_primfn)(int argc, pk_val *argv);
typedef struct pko_prim {
  pko_hdr h;
  pk_primfn fn;
  const char *name;
  int16_t min, max; /* max < 0: variadic */
} pko_prim;

/* A literal tensor: rank dimensions, then count elements (int64_t or
   double as h.aux says), in one block the collector does not scan.
   Immutable; compared by equal? (same element type, shape and elements,
   elements as eqv? compares numbers), never by eqv?.  A rank-0 tensor is
   never made: a scalar is a number. */
enum { PKO_TENSOR_I64 = 1, PKO_TENSOR_F64 = 2 };
typedef struct pko_tensor {
  pko_hdr h; /* aux: PKO_TENSOR_I64 or PKO_TENSOR_F64 */
  uint32_t rank, pad;
  uint64_t count; /* number of elements: the product of the dimensions */
  int64_t dims[]; /* rank dimensions, then the elements */
} pko_tensor;

static inline pko_symbol *pko_as_sym(pk_val v) { return (pko_symbol *)v; }
static inline pko_string *pko_as_str(pk_val v) { return (pko_string *)v; }
static inline pko_vector *pko_as_vec(pk_val v) { return (pko_vector *)v; }
static inline double pko_flo(pk_val v) { return ((pko_flonum *)v)->d; }
static inline const pko_tensor *pko_as_tensor(pk_val v) { return (const pko_tensor *)v; }
static inline const int64_t *pko_tensor_i64(const pko_tensor *t) { return t->dims + t->rank; }
static inline const double *pko_tensor_f64(const pko_tensor *t) { return (const double *)(t->dims + t->rank); }

/* Collected memory never scanned (strings, doubles). */
void *pko_alloc_atomic(size_t bytes);
/* A zeroed heap object of type t: the allocation plus one store. */
static inline pk_val pko_obj(pko_type t, size_t bytes)
{
  pko_hdr *h = (pko_hdr *)pko_alloc(bytes);
  h->type = t;
  return (pk_val)h;
}

/* ---- constructors ------------------------------------------------------ */
pk_val pko_mkint(int64_t i);  /* fixnum or boxed PK_T_INT */
bool pko_intp(pk_val v);      /* exact integer? */
int64_t pko_intval(pk_val v); /* requires pko_intp */
pk_val pko_mkflo(double d);
/* The exact rational num/den, normalised: an integer when den divides num.
   den == 0 is a runtime error "/: undefined for 0"; a result whose parts do
   not fit int64 (only -INT64_MIN can arise) is the overflow error. */
pk_val pko_mkratio(int64_t num, int64_t den);
static inline const pko_ratio *pko_as_ratio(pk_val v) { return (const pko_ratio *)v; }
pk_val pko_mkstr(const char *s, size_t len);
pk_val pko_mkcstr(const char *s);
pk_val pko_mkvec(uint32_t len, pk_val fill);
/* A tensor of rank >= 1 with the given dimensions whose count elements are
   numbers (fixnums, boxed integers, ratios, flonums): int64 when all are
   exact integers, else float64 (each converted).  The caller has checked
   that they are numbers and that count is the product of dims. */
pk_val pko_mktensor(uint32_t rank, const int64_t *dims, uint64_t count, const pk_val *elems);
/* FNV-1a of a tensor's type, shape and element bits: equal tensors hash
   alike.  One pass over the block. */
uint64_t pko_tensor_hash(pk_val v);
pk_val pko_list(int n, ...);     /* (list a b ...) */
pk_val pko_reverse(pk_val list); /* fresh reversed proper list */
long pko_length(pk_val list);    /* -1 if not a proper list */
/* Length (1-4) of the well-formed UTF-8 sequence at s[0..n) and its code
   point, or 0 for malformed input. */
int pko_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* ---- symbols ----------------------------------------------------------- */
/* Interned symbol for a name.  Thread-safe (the table is locked); symbols
   are never freed. */
pk_val pko_intern(const char *name, size_t len);
/* The symbol named name[0..len) if there is one, else 0 (none is made):
   a name no symbol has is free. */
pk_val pko_find_sym(const char *name, size_t len);
pk_val pko_sym(const char *cname);
pk_val pko_gensym(pk_val base); /* fresh uninterned symbol */
static inline const char *pko_symname(pk_val v) { return pko_as_sym(v)->name; }
static inline bool pko_symbolp(pk_val v) { return pko_isa(v, PK_T_SYMBOL); }
static inline bool pko_stringp(pk_val v) { return pko_isa(v, PK_T_STRING); }
static inline bool pko_numberp(pk_val v)
{
  if (pko_fixnump(v)) return true;
  pko_type t = pko_typeof(v);
  return t == PK_T_FLONUM || t == PK_T_INT || t == PK_T_RATIO;
}

/* ---- equality ------------------------------------------------------------ */
bool pko_eqv(pk_val a, pk_val b); /* Scheme eqv? */
/* Scheme equal?: iterative at any depth, through pairs and vectors, and
   terminating on cyclic vectors (a pair of vectors met again while being
   compared is taken as equal: the coinductive reading of R6RS equal?). */
bool pko_equal(pk_val a, pk_val b);

/* A set of (a, b) word pairs with a word of data each, in malloc'd memory
   (open addressing, doubling at 1/2 load).  Keys must be nonzero in a; the
   values they name must stay reachable elsewhere (the collector does not
   see this table).  Used by the walks that must notice a vector seen
   before (cycles).  One thread. */
typedef struct pko_seen {
  uintptr_t *slot; /* 3 words per entry: a, b, data */
  size_t n, cap;
} pko_seen;
/* The data word of (a, b), adding it with data 0 when absent (*added). */
uintptr_t *pko_seen_get(pko_seen *s, uintptr_t a, uintptr_t b, bool *added);
/* Release the table and leave it empty and reusable. */
void pko_seen_free(pko_seen *s);

/* ---- primitives -------------------------------------------------------- */
/* Bind a C primitive to a global name.  Call before any program runs. */
void pko_defprim(const char *name, pk_primfn fn, int min, int max);

/* ---- errors -------------------------------------------------------------- */
/* Exit statuses (SPEC §2). */
enum {
  PK_STATUS_OK = 0,
  PK_STATUS_FAILED = 1, /* a test or a model failed */
  PK_STATUS_STATIC = 2, /* reader, syntax, unbound name, unreadable file */
  PK_STATUS_RUNTIME = 3,
  PK_STATUS_INTERRUPT = 130,
  PK_STATUS_EXIT = 256 /* (exit n): pko_err.code holds n */
};

typedef struct pk_srcpos {
  const char *file;
  int line, col;
} pk_srcpos;

/* A handler frame for pko_throw: PKO_TRY pushes one, PKO_END pops it. */
typedef struct pko_catch {
  jmp_buf jb;
  struct pko_catch *prev;
} pko_catch;

/* The error being thrown, per thread. */
typedef struct pko_errinfo {
  int status;     /* PK_STATUS_* */
  int code;       /* exit code for PK_STATUS_EXIT */
  char msg[2048]; /* "file:line:col: message" */
} pko_errinfo;

extern _Thread_local pko_catch *pko_handler;
extern _Thread_local pko_errinfo pko_err;
/* Position of the form being evaluated, for runtime error messages. */
extern _Thread_local const pk_srcpos *pko_where;
/* Set asynchronously (SIGINT); polled by the evaluator and the search loop. */
extern _Atomic int pko_interrupted;
/* Set (1) or clear (0) the flag: any thread or a signal handler (a
   lock-free atomic store). */
static inline void pko_interrupt_set(int on) { atomic_store_explicit(&pko_interrupted, on, memory_order_relaxed); }

/* Usage: pko_catch c; if (PKO_TRY(c)) { ...body...; PKO_END(c); } else { ...
   pko_err holds the error; handler already popped ... } */
#define PKO_TRY(c) ((c).prev = pko_handler, pko_handler = &(c), setjmp((c).jb) == 0)
#define PKO_END(c) (pko_handler = (c).prev)

/* Throw an error with an explicit position (pos may be NULL: no prefix). */
_Noreturn void pko_throw_at(int status, const pk_srcpos *pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with a va_list, for modules' own formatted error helpers. */
_Noreturn void pko_vthrow_at(int status, const pk_srcpos *pos, const char *fmt, va_list ap);
/* Runtime error (status 3) at pko_where. */
_Noreturn void pko_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runtime error "msg: <irritant written>" at pko_where. */
_Noreturn void pko_error_val(const char *msg, pk_val irritant);
/* Re-throw pko_err to the next handler (after cleanup). */
_Noreturn void pko_rethrow(void);
/* Why the interrupt flag was set: a signal (or pk_interrupt), or the limit
   that was reached.  The first reason stands until pko_limits_begin. */
enum { PKO_STOP_SIGNAL = 1, PKO_STOP_STEPS, PKO_STOP_MEMORY, PKO_STOP_TIME };
/* Any thread or a signal handler: record why (if none is recorded yet) and
   set the interrupt flag, so that every polling thread stops. */
void pko_stop(int why);
/* The recorded reason, or 0. */
int pko_stop_reason(void);

/* Limits of one run (0: none).  A step is one forced suspension of the
   search (pks_tick).  Memory is the collected heap plus malloc'd bytes. */
typedef struct pko_limits {
  uint64_t max_steps;
  uint64_t max_memory;
  double timeout; /* seconds */
} pko_limits;
/* Bytes in use: the collected heap plus malloc'd bytes plus what
   pko_count_mapped was told.  A few microseconds (it asks the
   allocators); any thread. */
uint64_t pko_memory_used(void);
/* n more bytes mapped outside both allocators (the interned nodes'
   chunks), so that pko_memory_used and the memory limit see them. */
void pko_count_mapped(size_t n);
/* The limits in force (read by the step counter's refill). */
extern pko_limits pko_limit;
/* Before a run, from the thread that runs it: clear the flag and the
   reason, set the limits, and start the watchdog thread that checks the
   clock and the memory every 10 ms when either is limited. */
void pko_limits_begin(const pko_limits *l);
/* After the run: stop the watchdog. */
void pko_limits_end(void);
/* "the step limit (max-steps 1000)", ... for the recorded reason. */
const char *pko_stop_text(void);

/* Throw PK_STATUS_INTERRUPT if the interrupt flag is set (a runtime error
   naming the limit when a limit set it). Cost: one load. */
_Noreturn void pko_interrupt(void);
static inline void pko_poll(void)
{
  if (__builtin_expect(atomic_load_explicit(&pko_interrupted, memory_order_relaxed), 0)) pko_interrupt();
}

/* ---- debug checks ----------------------------------------------------------
** PK_DEBUG 1 (the sanitizer build: cmake -DPK_DEBUG=1) checks invariants
** the code otherwise only argues in comments: who may change a state or a
** cell in place, the transitions of a future's memo word, the kinds of
** frames and streams.  At 0 (Release) a check is compiled, type-checked
** and removed: it costs nothing. */
#ifndef PK_DEBUG
#define PK_DEBUG 0
#endif
_Noreturn void pko_assert_fail(const char *cond, const char *file, int line);
#define pko_assert(c) ((void)((PK_DEBUG && !(c)) ? (pko_assert_fail(#c, __FILE__, __LINE__), 0) : 0))

/* ---- clock, random numbers, memory outside the collector ------------------ */

/* The monotonic clock in nanoseconds (CLOCK_MONOTONIC).  Thread-safe; a
   vDSO call, some 20 ns. */
uint64_t pko_now_ns(void);
/* One step of splitmix64: advances *state and returns the next number of
   its stream.  A few multiplies; the caller owns the state. */
uint64_t pko_rand64(uint64_t *state);

/* FNV-1a, 64 bits, of p[0..n) continued from h (PKO_FNV0 to start): the
   one byte hash of the project (symbols, tensors, strings, keys of the
   batch and the bench).  About 4 instructions a byte; any thread. */
#define PKO_FNV0 0xcbf29ce484222325ull
static inline uint64_t pko_fnv(uint64_t h, const void *p, size_t n)
{
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
  return h;
}

/* The one out-of-memory policy: flush stdout, then throw the runtime error
   "out of memory" (status 3) when a handler is active on this thread and
   pko_oom_fatal is 0, else print "pkanren: out of memory" and exit 3.
   The collector's out-of-memory hook calls it too. */
_Noreturn void pko_oom(void);
/* Nonzero while this thread holds a process-wide lock (symbol table,
   position table, ...): out of memory then exits rather than throwing past
   the unlock.  Incremented before the lock, decremented after it. */
extern _Thread_local int pko_oom_fatal;

/* Stores this thread's program made into a place that may outlive the
   call making them (set! of a variable, a global definition, vector-set!,
   vector-fill!), of a value that may hold a pair (pko_holdsp).  A caller
   that gives back the terms a call made (pkh_scope_end) only does so when
   this did not move meanwhile. */
extern _Thread_local uint64_t pko_mutations __attribute__((tls_model("initial-exec")));
/* May v hold a pair, itself or through what it refers to?  Not a fixnum,
   character, immediate, symbol, string, number or tensor.  Two tests for
   most values. */
static inline bool pko_holdsp(pk_val v)
{
  if (pko_pairp(v)) return true;
  switch ((int)pko_typeof(v)) {
  case 0:
  case PK_T_SYMBOL:
  case PK_T_STRING:
  case PK_T_FLONUM:
  case PK_T_INT:
  case PK_T_RATIO:
  case PK_T_TENSOR: return false;
  default: return true;
  }
}
/* A store of v (pko_mutations). */
static inline void pko_note_store(pk_val v) { pko_mutations += pko_holdsp(v); }

/* malloc, calloc, realloc and strdup that never return NULL (pko_oom).
   A size of 0 allocates 1 byte.  pko_xzalloc: calloc for a table probed
   before it is written (pk_obj.c says why). */
void *pko_xmalloc(size_t bytes);
void *pko_xcalloc(size_t n, size_t size);
void *pko_xzalloc(size_t n, size_t size);
void *pko_xrealloc(void *p, size_t bytes);
char *pko_xstrdup(const char *s);

/* Start a joinable thread running fn(arg) on a stack of want bytes plus a
   64 MB margin.  When exact is false, the stack takes at most a share-th
   of half the address space left under ulimit -v (the other half stays
   for the heap), halving from want down to 16 MB until it fits: the
   recursion floor of pke_ follows the stack actually obtained, so deep
   recursion then ends in the stack-budget error sooner, never in a crash.
   Returns the usable stack bytes obtained (at most want), 0 when none fit. */
size_t pko_thread_start(pthread_t *th, void *(*fn)(void *), void *arg, size_t want, bool exact, int share);

/* One-time process init: collector, symbol table, primitives. Idempotent. */
void pko_init(void);
/* The collector's marker threads (0: one per CPU); before pko_init only. */
void pko_set_markers(unsigned n);
/* Static data in [from, to) that never holds a collector pointer (a
   statically linked allocator's), not scanned for roots; before pko_init
   only. */
void pko_gc_skip(void *from, void *to);

#endif
