/*
** pk_read.c — the reader: Scheme text to data, with source positions.
**
** One token at a time (pkr_token) feeds a loop over an explicit stack of
** open forms (pkr_frame): lists, vectors, quote
** abbreviations and #; datum comments.  A finished datum is handed to the
** frame below it (pkr_deliver), so nothing recurses in C and nesting depth is
** bounded only by memory.  Lists are built front to back by setting the cdr
** of the last pair; every value read is ground, so the ground tag pko_cons
** gave each pair stays true.
**
** Positions live in one process-wide table keyed by pair address.  A reader
** collects its entries in a small buffer and adds them under the table's
** lock once per datum (or per 256 pairs), so parallel readers rarely meet.
*/
#include "pk_read.h"
#include "pk_num.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the position table ----------------------------------------------- */

typedef struct pkr_slot {
  const char *file;
  int32_t line, col;
} pkr_slot;

/* Keys are untagged pair addresses in uncollectable (hence scanned) memory,
   so a recorded pair stays alive as long as the table: a key can never be
   reused by a different pair. */
static struct {
  pthread_mutex_t lock;
  uintptr_t *keys;
  pkr_slot *vals;
  size_t cap, used;
  const char **files; /* interned file names, never freed */
  size_t nfiles, filecap;
} pkr_tab = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0, NULL, 0, 0 };

/* Take and release the table's lock; out of memory inside exits rather
   than throwing past the unlock (pko_oom_fatal). */
static void pkr_lock(void)
{
  pko_oom_fatal++;
  pthread_mutex_lock(&pkr_tab.lock);
}

static void pkr_unlock(void)
{
  pthread_mutex_unlock(&pkr_tab.lock);
  pko_oom_fatal--;
}

/* Fibonacci hashing of an address whose low 4 bits are always zero. */
static size_t pkr_hash(uintptr_t key) { return (size_t)(((uint64_t)key >> 4) * 0x9E3779B97F4A7C15ull >> 20); }

/* Move every entry into arrays of ncap slots (lock held), to grow or,
   after pkr_forget, to shrink. */
static void pkr_rehash(size_t ncap)
{
  uintptr_t *keys = GC_MALLOC_UNCOLLECTABLE(ncap * sizeof *keys);
  pkr_slot *vals = pko_xmalloc(ncap * sizeof *vals);
  if (!keys) pko_oom();
  memset(keys, 0, ncap * sizeof *keys);
  for (size_t i = 0; i < pkr_tab.cap; i++) {
    uintptr_t k = pkr_tab.keys[i];
    if (!k) continue;
    size_t j = pkr_hash(k) & (ncap - 1);
    while (keys[j]) j = (j + 1) & (ncap - 1);
    keys[j] = k;
    vals[j] = pkr_tab.vals[i];
  }
  if (pkr_tab.keys) GC_FREE(pkr_tab.keys);
  free(pkr_tab.vals);
  pkr_tab.keys = keys;
  pkr_tab.vals = vals;
  pkr_tab.cap = ncap;
}

/* Insert or overwrite one entry (lock held); grows at 70% load. */
static void pkr_put(uintptr_t key, pkr_slot s)
{
  if ((pkr_tab.used + 1) * 10 > pkr_tab.cap * 7) pkr_rehash(pkr_tab.cap ? pkr_tab.cap * 2 : 4096);
  size_t m = pkr_tab.cap - 1, i = pkr_hash(key) & m;
  while (pkr_tab.keys[i] && pkr_tab.keys[i] != key) i = (i + 1) & m;
  if (!pkr_tab.keys[i]) {
    pkr_tab.keys[i] = key;
    pkr_tab.used++;
  }
  pkr_tab.vals[i] = s;
}

/* A stable copy of a file name (lock held).  Readers are opened over and
   over on the same few names, so recent names are reused; older ones are
   simply copied again. */
static const char *pkr_file(const char *name)
{
  size_t n = pkr_tab.nfiles;
  for (size_t k = 0; k < 16 && k < n; k++) {
    const char *f = pkr_tab.files[n - 1 - k];
    if (f == name || strcmp(f, name) == 0) return f;
  }
  if (n == pkr_tab.filecap) {
    size_t cap = n ? n * 2 : 16;
    pkr_tab.files = pko_xrealloc(pkr_tab.files, cap * sizeof *pkr_tab.files);
    pkr_tab.filecap = cap;
  }
  char *copy = pko_xstrdup(name);
  pkr_tab.files[pkr_tab.nfiles++] = copy;
  return copy;
}

/* Remove one entry (lock held); false if absent.  Later entries of the
   probe run shift back into the hole, so lookups never need tombstones. */
static bool pkr_del(uintptr_t key)
{
  if (!pkr_tab.cap) return false;
  size_t m = pkr_tab.cap - 1, i = pkr_hash(key) & m;
  while (pkr_tab.keys[i] && pkr_tab.keys[i] != key) i = (i + 1) & m;
  if (!pkr_tab.keys[i]) return false;
  for (size_t j = (i + 1) & m; pkr_tab.keys[j]; j = (j + 1) & m) {
    size_t h = pkr_hash(pkr_tab.keys[j]) & m;
    bool stays = i < j ? (h > i && h <= j) : (h > i || h <= j);
    if (stays) continue;
    pkr_tab.keys[i] = pkr_tab.keys[j];
    pkr_tab.vals[i] = pkr_tab.vals[j];
    i = j;
  }
  pkr_tab.keys[i] = 0;
  pkr_tab.used--;
  return true;
}

/* Push onto the growable walk stack (collected memory, so it is scanned). */
static void pkr_wpush(pk_val **stack, size_t *cap, size_t *n, pk_val v)
{
  if (*n == *cap) {
    pk_val *s = GC_MALLOC(*cap * 2 * sizeof *s);
    if (!s) pko_oom();
    memcpy(s, *stack, *n * sizeof *s);
    *stack = s;
    *cap *= 2;
  }
  (*stack)[(*n)++] = v;
}

/* Walk v dropping entries (lock held).  Only pairs that had an entry are
   entered, so a structure sharing read subterms is walked in linear time. */
static void pkr_forget_walk(pk_val v, pk_val **stack, size_t *cap)
{
  size_t n = 0;
  pkr_wpush(stack, cap, &n, v);
  while (n > 0) {
    v = (*stack)[--n];
    if (pko_pairp(v) && pkr_del((uintptr_t)pko_as_pair(v))) {
      pkr_wpush(stack, cap, &n, pko_cdr(v));
      pkr_wpush(stack, cap, &n, pko_car(v));
    } else if (pko_isa(v, PK_T_VECTOR)) {
      for (uint32_t k = 0; k < pko_as_vec(v)->len; k++) pkr_wpush(stack, cap, &n, pko_as_vec(v)->items[k]);
    }
  }
}

/* Drop a datum's positions; shrinks the table when it has emptied out. */
void pkr_forget(pk_val v)
{
  size_t cap = 64;
  pk_val *stack = GC_MALLOC(cap * sizeof *stack);
  if (!stack) pko_oom();
  pkr_lock();
  pkr_forget_walk(v, &stack, &cap);
  size_t ncap = pkr_tab.cap;
  while (ncap > 4096 && pkr_tab.used * 8 < ncap) ncap /= 2;
  if (ncap < pkr_tab.cap) pkr_rehash(ncap);
  pkr_unlock();
}

/* Look a pair up; any thread, under the table lock. */
bool pkr_pos(pk_val pair, pk_srcpos *out)
{
  if (!pko_pairp(pair)) return false;
  uintptr_t key = (uintptr_t)pko_as_pair(pair);
  bool found = false;
  pkr_lock();
  if (pkr_tab.cap) {
    size_t m = pkr_tab.cap - 1, i = pkr_hash(key) & m;
    while (pkr_tab.keys[i] && pkr_tab.keys[i] != key) i = (i + 1) & m;
    if (pkr_tab.keys[i]) {
      pkr_slot s = pkr_tab.vals[i];
      *out = (pk_srcpos){ s.file, s.line, s.col };
      found = true;
    }
  }
  pkr_unlock();
  return found;
}

/* Record or overwrite one position; the file name is copied. */
void pkr_setpos(pk_val pair, const pk_srcpos *pos)
{
  if (!pko_pairp(pair) || !pos) return;
  pkr_lock();
  const char *file = pkr_file(pos->file ? pos->file : "?");
  pkr_put((uintptr_t)pko_as_pair(pair), (pkr_slot){ file, pos->line, pos->col });
  pkr_unlock();
}

/* ---- reader state --------------------------------------------------------- */

enum { PKR_F_LIST, PKR_F_VEC, PKR_F_QUOTE, PKR_F_DCOMMENT };

/* One open form.  head/tail: the list built so far (head is the quote
   symbol for PKR_F_QUOTE); dot: 0, 1 after " . ", 2 once the tail came. */
typedef struct pkr_frame {
  pk_val head, tail;
  int32_t line, col;
  uint8_t kind, close, dot;
} pkr_frame;

#define PKR_PEND 256

struct pkr_reader {
  const char *text;
  size_t len, i;
  int line, col; /* of text[i] */
  const char *file;
  pkr_frame *stack; /* collected memory: the frames' lists stay alive */
  size_t depth, cap;
  char *tok; /* token bytes, NUL-terminated */
  size_t toklen, tokcap;
  int tline, tcol; /* start of the current token */
  int tch;         /* the bracket of an open/close token */
  size_t npend;
  uintptr_t pkey[PKR_PEND];
  pkr_slot pval[PKR_PEND];
  pk_val symcache[256]; /* recent symbols by hash of their name */
};

enum {
  PKR_T_EOF,
  PKR_T_ATOM,
  PKR_T_OPEN,
  PKR_T_CLOSE,
  PKR_T_VEC,
  PKR_T_TENSOR,
  PKR_T_QUOTE,
  PKR_T_DCOMMENT,
  PKR_T_DOT,
  PKR_T_SKIP
};

/* quote quasiquote unquote unquote-splicing */
static pk_val pkr_syms[4];

/* The quote-like symbols are made once. */
static void pkr_init_once(void)
{
  static const char *names[4] = { "quote", "quasiquote", "unquote", "unquote-splicing" };
  for (int k = 0; k < 4; k++) pkr_syms[k] = pko_sym(names[k]);
}

/* ---- errors --------------------------------------------------------------- */

/* Every reader error is static and carries the offending token's position. */
static _Noreturn void pkr_fail(const pkr_reader *r, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static _Noreturn void pkr_fail(const pkr_reader *r, int line, int col, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  pk_srcpos pos = { r->file, line, col };
  pko_vthrow_at(PK_STATUS_STATIC, &pos, fmt, ap);
}

/* Text for a byte in a message: itself when printable, else \xNN;. */
static const char *pkr_show(int c, char buf[12])
{
  if (c < 0)
    snprintf(buf, 12, "end-of-file");
  else if (c > 0x20 && c < 0x7f)
    snprintf(buf, 12, "%c", c);
  else
    snprintf(buf, 12, "\\x%X;", (unsigned)c);
  return buf;
}

/* ---- characters ----------------------------------------------------------- */

/* The byte at the position, or -1 at the end. */
static int pkr_peek(const pkr_reader *r) { return r->i < r->len ? (unsigned char)r->text[r->i] : -1; }

/* The byte k ahead, or -1 past the end. */
static int pkr_peekat(const pkr_reader *r, size_t k)
{
  return r->i + k < r->len ? (unsigned char)r->text[r->i + k] : -1;
}

/* Consume one byte; columns count code points, so continuation bytes do
   not move the column. */
static void pkr_adv(pkr_reader *r)
{
  unsigned char c = (unsigned char)r->text[r->i++];
  if (c == '\n') {
    r->line++;
    r->col = 1;
  } else if ((c & 0xC0) != 0x80) {
    r->col++;
  }
}

/* Whitespace between tokens (ASCII only, as R6RS requires at least). */
static bool pkr_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Ends a symbol, number or character name: a delimiter, end of input, or a
   control byte (which is then rejected as a token of its own). */
static inline bool pkr_term(int c)
{
  if (((unsigned)c | 0x20) - 'a' < 26u || (unsigned)c - '0' < 10u) return false; /* the usual case */
  if (c < 0x20 || c == 0x7f) return true;
  switch (c) {
  case ' ':
  case '(':
  case ')':
  case '[':
  case ']':
  case '{':
  case '}':
  case '"':
  case ';':
  case '#':
  case '\'':
  case '`':
  case ',': return true;
  default: return false;
  }
}

/* Decode the code point at the reader's position, refusing bad UTF-8. */
static int pkr_cp(pkr_reader *r, uint32_t *cp)
{
  int k = pko_utf8_decode((const unsigned char *)r->text + r->i, r->len - r->i, cp);
  if (k == 0) {
    char b[12];
    pkr_fail(r, r->line, r->col, "invalid UTF-8 byte %s", pkr_show(pkr_peek(r), b));
  }
  return k;
}

/* ---- the token buffer ----------------------------------------------------- */

/* Start an empty token (NUL-terminated, so it can be compared at once). */
static void pkr_tokreset(pkr_reader *r)
{
  r->toklen = 0;
  r->tok[0] = 0;
}

/* Room for extra more bytes and the NUL, growing the buffer in collected
   (atomic) memory. */
static void pkr_tokroom(pkr_reader *r, size_t extra)
{
  if (r->toklen + extra + 1 <= r->tokcap) return;
  size_t cap = r->tokcap * 2;
  while (r->toklen + extra + 1 > cap) cap *= 2;
  char *t = GC_MALLOC_ATOMIC(cap);
  if (!t) pko_oom();
  memcpy(t, r->tok, r->toklen);
  r->tok = t;
  r->tokcap = cap;
}

/* Append a byte. */
static void pkr_tokc(pkr_reader *r, char c)
{
  pkr_tokroom(r, 1);
  r->tok[r->toklen++] = c;
  r->tok[r->toklen] = 0;
}

/* Append a code point as UTF-8. */
static void pkr_tokcp(pkr_reader *r, uint32_t cp)
{
  if (cp < 0x80) {
    pkr_tokc(r, (char)cp);
  } else if (cp < 0x800) {
    pkr_tokc(r, (char)(0xC0 | cp >> 6));
    pkr_tokc(r, (char)(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    pkr_tokc(r, (char)(0xE0 | cp >> 12));
    pkr_tokc(r, (char)(0x80 | (cp >> 6 & 0x3F)));
    pkr_tokc(r, (char)(0x80 | (cp & 0x3F)));
  } else {
    pkr_tokc(r, (char)(0xF0 | cp >> 18));
    pkr_tokc(r, (char)(0x80 | (cp >> 12 & 0x3F)));
    pkr_tokc(r, (char)(0x80 | (cp >> 6 & 0x3F)));
    pkr_tokc(r, (char)(0x80 | (cp & 0x3F)));
  }
}

/* Copy the (validated) code point at the position into the token. */
static uint32_t pkr_copycp(pkr_reader *r)
{
  uint32_t cp;
  int k = pkr_cp(r, &cp);
  for (int j = 0; j < k; j++) {
    pkr_tokc(r, r->text[r->i]);
    pkr_adv(r);
  }
  return cp;
}

/* Collect the run of bytes up to the next terminator into the token. */
static void pkr_run(pkr_reader *r)
{
  while (!pkr_term(pkr_peek(r))) {
    if (pkr_peek(r) < 0x80) {
      pkr_tokc(r, (char)pkr_peek(r));
      pkr_adv(r);
    } else {
      pkr_copycp(r);
    }
  }
}

/* ---- atmosphere ----------------------------------------------------------- */

/* Skip a #| |# comment, nested ones included; an unterminated one is
   reported at its opening. */
static void pkr_block(pkr_reader *r)
{
  int line = r->line, col = r->col, depth = 0;
  do {
    int c = pkr_peek(r), d = pkr_peekat(r, 1);
    if (c < 0) pkr_fail(r, line, col, "unexpected end-of-file reading block comment");
    if ((c == '#' && d == '|') || (c == '|' && d == '#')) {
      depth += c == '#' ? 1 : -1;
      pkr_adv(r);
    }
    pkr_adv(r);
  } while (depth > 0);
}

/* Skip whitespace, ; comments and block comments. */
static void pkr_skip(pkr_reader *r)
{
  for (;;) {
    int c = pkr_peek(r);
    if (pkr_space(c)) {
      pkr_adv(r);
    } else if (c == ';') {
      while (pkr_peek(r) >= 0 && pkr_peek(r) != '\n') pkr_adv(r);
    } else if (c == '#' && pkr_peekat(r, 1) == '|') {
      pkr_block(r);
    } else {
      return;
    }
  }
}

/* ---- numbers -------------------------------------------------------------- */

/* Value of a hex digit, or -1 (character names and escapes). */
static int pkr_hexdigit(int c)
{
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* The token s[0..n) as a number in radix into *v (pkn_parse, the parser
   string->number uses); false if it is not one (then it is a symbol, as in
   Chez: 1+, 1a and 1/-2 are symbols).  A zero denominator and integers
   beyond int64 are static errors. */
static bool pkr_number(pkr_reader *r, const char *s, size_t n, int radix, pk_val *v)
{
  switch (pkn_parse(s, n, radix, v)) {
  case PKN_PARSE_OK: return true;
  case PKN_PARSE_BIG: pkr_fail(r, r->tline, r->tcol, "integer literal too large (no bignums)");
  case PKN_PARSE_ZERODEN: pkr_fail(r, r->tline, r->tcol, "cannot represent %.*s", (int)(n > 40 ? 40 : n), s);
  default: return false;
  }
}

/* ---- symbols -------------------------------------------------------------- */

/* A \x<hex>; escape after the x; what names the construct for messages. */
static uint32_t pkr_hexesc(pkr_reader *r, const char *what)
{
  uint64_t v = 0;
  int n = 0, line = r->line, col = r->col;
  while (pkr_hexdigit(pkr_peek(r)) >= 0) {
    if (v <= 0x10FFFF) v = v * 16 + (uint64_t)pkr_hexdigit(pkr_peek(r));
    n++;
    pkr_adv(r);
  }
  int c = pkr_peek(r);
  if (c < 0) pkr_fail(r, line, col, "unexpected end-of-file reading %s", what);
  char b[12];
  if (c != ';' || n == 0) pkr_fail(r, r->line, r->col, "invalid character %s in %s hex escape", pkr_show(c, b), what);
  pkr_adv(r);
  if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
    pkr_fail(r, line, col, "invalid code point value %llu in %s hex escape", (unsigned long long)v, what);
  return (uint32_t)v;
}

/* |...| inside a symbol: bytes taken literally up to the closing bar. */
static void pkr_bars(pkr_reader *r)
{
  pkr_adv(r);
  for (;;) {
    int c = pkr_peek(r);
    if (c < 0) pkr_fail(r, r->tline, r->tcol, "unexpected end-of-file reading symbol");
    if (c == '|') break;
    if (c < 0x80) {
      pkr_tokc(r, (char)c);
      pkr_adv(r);
    } else {
      pkr_copycp(r);
    }
  }
  pkr_adv(r);
}

/* A backslash in a symbol: \x41; is a code point, any other character
   stands for itself (a\ b is the symbol "a b"). */
static void pkr_symesc(pkr_reader *r)
{
  pkr_adv(r);
  int c = pkr_peek(r);
  if (c < 0) pkr_fail(r, r->tline, r->tcol, "unexpected end-of-file reading symbol");
  if (c == 'x') {
    pkr_adv(r);
    pkr_tokcp(r, pkr_hexesc(r, "symbol"));
  } else {
    pkr_copycp(r);
  }
}

/* The symbol named by the token: from the reader's cache of recent names
   when it is there (a hash and a compare), else interned (a lock). */
static pk_val pkr_symbol(pkr_reader *r)
{
  uint32_t h = 2166136261u;
  for (size_t k = 0; k < r->toklen; k++) h = (h ^ (unsigned char)r->tok[k]) * 16777619u;
  pk_val *slot = &r->symcache[(h ^ h >> 8) & 255];
  if (*slot && pko_as_sym(*slot)->len == r->toklen && memcmp(pko_symname(*slot), r->tok, r->toklen) == 0) return *slot;
  return *slot = pko_intern(r->tok, r->toklen);
}

/* A decimal integer of up to 18 digits, optionally signed, at the cursor
   and ending where a number may end: into *v as the fixnum pkr_number
   would give, the cursor past it.  False (nothing consumed) otherwise. */
static bool pkr_smallint(pkr_reader *r, pk_val *v)
{
  const char *s = r->text;
  size_t k = r->i, d0 = k + (k < r->len && (s[k] == '-' || s[k] == '+'));
  int64_t x = 0;
  for (k = d0; k < r->len && k - d0 < 18 && (unsigned)(s[k] - '0') < 10u; k++) x = x * 10 + (s[k] - '0');
  if (k == d0) return false;
  if (k < r->len) {
    if (!pkr_term((unsigned char)s[k])) return false; /* a symbol such as 12ab (bars, escapes, UTF-8 are no ends) */
  }
  *v = pko_mkfix(s[r->i] == '-' ? -x : x);
  r->col += (int)(k - r->i);
  r->i = k;
  return true;
}

/* A symbol, a number or the dot of a dotted pair (only a token that starts
   like a number is tried as one). */
static int pkr_symnum(pkr_reader *r, pk_val *v)
{
  bool quoted = false;
  if (pkr_smallint(r, v)) return PKR_T_ATOM;
  pkr_tokreset(r);
  /* Fast path: a run of printable ASCII without bars or backslashes is
     copied at once (no newline in it, so only the column moves). */
  size_t j = r->i;
  while (j < r->len) {
    unsigned char c = (unsigned char)r->text[j];
    if (c >= 0x80 || c == '|' || c == '\\' || pkr_term(c)) break;
    j++;
  }
  if (j > r->i) {
    size_t n = j - r->i;
    pkr_tokroom(r, n);
    memcpy(r->tok, r->text + r->i, n);
    r->tok[n] = 0;
    r->toklen = n;
    r->col += (int)n;
    r->i = j;
  }
  for (;;) {
    int c = pkr_peek(r);
    if (c == '|') {
      pkr_bars(r);
      quoted = true;
    } else if (c == '\\') {
      pkr_symesc(r);
      quoted = true;
    } else if (pkr_term(c)) {
      break;
    } else if (c < 0x80) {
      pkr_tokc(r, (char)c);
      pkr_adv(r);
    } else {
      pkr_copycp(r);
    }
  }
  char b[12];
  if (r->toklen == 0 && !quoted) pkr_fail(r, r->tline, r->tcol, "invalid character %s", pkr_show(pkr_peek(r), b));
  if (!quoted && r->toklen == 1 && r->tok[0] == '.') return PKR_T_DOT;
  int c0 = (unsigned char)r->tok[0];
  bool numeric = (c0 >= '0' && c0 <= '9') || c0 == '+' || c0 == '-' || c0 == '.';
  if (!quoted && numeric && pkr_number(r, r->tok, r->toklen, 10, v)) return PKR_T_ATOM;
  *v = pkr_symbol(r);
  return PKR_T_ATOM;
}

/* ---- strings -------------------------------------------------------------- */

/* After a backslash and optional blanks: the line break and the next
   line's leading blanks vanish (R6RS line continuation). */
static void pkr_continuation(pkr_reader *r)
{
  while (pkr_peek(r) == ' ' || pkr_peek(r) == '\t') pkr_adv(r);
  if (pkr_peek(r) == '\r') pkr_adv(r);
  if (pkr_peek(r) < 0) return;
  if (pkr_peek(r) != '\n') {
    char b[12];
    pkr_fail(r, r->line, r->col, "unexpected character %s after \\<intraline whitespace> in string",
             pkr_show(pkr_peek(r), b));
  }
  pkr_adv(r);
  while (pkr_peek(r) == ' ' || pkr_peek(r) == '\t') pkr_adv(r);
}

/* One escape in a string, the backslash already consumed. */
static void pkr_stresc(pkr_reader *r, int line, int col)
{
  static const char from[] = "abtnvfr\"\\", to[] = "\a\b\t\n\v\f\r\"\\";
  int c = pkr_peek(r);
  const char *hit = c > 0 ? strchr(from, c) : NULL;
  if (hit) {
    pkr_tokc(r, to[hit - from]);
    pkr_adv(r);
  } else if (c == 'x') {
    pkr_adv(r);
    pkr_tokcp(r, pkr_hexesc(r, "string"));
  } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
    pkr_continuation(r);
  } else if (c >= 0) {
    char b[12];
    pkr_fail(r, line, col, "invalid string character \\%s", pkr_show(c, b));
  }
}

/* A string literal; unterminated ones are reported at the opening quote. */
static pk_val pkr_string(pkr_reader *r)
{
  pkr_tokreset(r);
  pkr_adv(r);
  for (;;) {
    int c = pkr_peek(r);
    if (c < 0) pkr_fail(r, r->tline, r->tcol, "unexpected end-of-file reading string");
    if (c == '"') break;
    if (c == '\\') {
      int line = r->line, col = r->col;
      pkr_adv(r);
      pkr_stresc(r, line, col);
    } else if (c < 0x80) {
      pkr_tokc(r, (char)c);
      pkr_adv(r);
    } else {
      pkr_copycp(r);
    }
  }
  pkr_adv(r);
  return pko_mkstr(r->tok, r->toklen);
}

/* ---- # syntax ------------------------------------------------------------- */

static const struct {
  const char *name;
  uint32_t cp;
} pkr_charnames[] = {
  { "nul", 0 },       { "alarm", 7 },  { "bel", 7 },     { "backspace", 8 }, { "tab", 9 },      { "newline", 10 },
  { "linefeed", 10 }, { "nel", 0x85 }, { "ls", 0x2028 }, { "vtab", 11 },     { "vt", 11 },      { "page", 12 },
  { "return", 13 },   { "esc", 27 },   { "space", 32 },  { "delete", 127 },  { "rubout", 127 },
};

/* A character name after #\ (the token): a name, x<hex>, or an error. */
static uint32_t pkr_charname(pkr_reader *r)
{
  const char *s = r->tok;
  size_t n = r->toklen;
  for (size_t k = 0; k < sizeof pkr_charnames / sizeof pkr_charnames[0]; k++)
    if (strcmp(s, pkr_charnames[k].name) == 0) return pkr_charnames[k].cp;
  size_t h = 1;
  while (h < n && pkr_hexdigit((unsigned char)s[h]) >= 0) h++;
  if (s[0] == 'x' && h == n) {
    uint64_t v = 0;
    for (size_t i = 1; i < n && v <= 0x10FFFF; i++) v = v * 16 + (uint64_t)pkr_hexdigit((unsigned char)s[i]);
    if (v <= 0x10FFFF && !(v >= 0xD800 && v <= 0xDFFF)) return (uint32_t)v;
    pkr_fail(r, r->tline, r->tcol, "invalid hex character escape %.40s", s);
  }
  pkr_fail(r, r->tline, r->tcol, "invalid character name #\\%.40s", s);
}

/* #\c: one character when a delimiter follows, else a name. */
static pk_val pkr_char(pkr_reader *r)
{
  if (pkr_peek(r) < 0) pkr_fail(r, r->tline, r->tcol, "unexpected end-of-file reading character");
  pkr_tokreset(r);
  uint32_t cp = pkr_copycp(r);
  if (pkr_term(pkr_peek(r))) return pko_mkchar(cp);
  pkr_run(r);
  return pko_mkchar(pkr_charname(r));
}

/* #t #f #true #false, any case. */
static pk_val pkr_boolean(pkr_reader *r)
{
  pkr_tokreset(r);
  pkr_run(r);
  const char *s = r->tok;
  if (strcasecmp(s, "t") == 0 || strcasecmp(s, "true") == 0) return PK_TRUE;
  if (strcasecmp(s, "f") == 0 || strcasecmp(s, "false") == 0) return PK_FALSE;
  pkr_fail(r, r->tline, r->tcol, "invalid boolean #%.40s", s);
}

/* #x #o #b #d integers and ratios (#x10/3 is 16/3); #d also decimals. */
static pk_val pkr_radix(pkr_reader *r)
{
  int c = pkr_peek(r) | 0x20;
  int radix = c == 'x' ? 16 : c == 'o' ? 8 : c == 'b' ? 2 : 10;
  pkr_adv(r);
  pkr_tokreset(r);
  pkr_run(r);
  pk_val v;
  if (!pkr_number(r, r->tok, r->toklen, radix, &v))
    pkr_fail(r, r->tline, r->tcol, "invalid number syntax #%c%.40s", c, r->tok);
  return v;
}

/* #!eof is the end-of-file object; #!r6rs and #!chezscheme are comments. */
static int pkr_directive(pkr_reader *r, pk_val *v)
{
  pkr_adv(r);
  pkr_tokreset(r);
  pkr_run(r);
  if (strcmp(r->tok, "eof") == 0) {
    *v = PK_EOF;
    return PKR_T_ATOM;
  }
  if (strcmp(r->tok, "r6rs") == 0 || strcmp(r->tok, "chezscheme") == 0) return PKR_T_SKIP;
  pkr_fail(r, r->tline, r->tcol, "invalid syntax #!%.40s", r->tok);
}

/* Everything that starts with #, the # not yet consumed. */
static int pkr_sharp(pkr_reader *r, pk_val *v)
{
  pkr_adv(r);
  int c = pkr_peek(r);
  switch (c) {
  case '(': pkr_adv(r); return PKR_T_VEC;
  case '[': pkr_adv(r); return PKR_T_TENSOR;
  case ';': pkr_adv(r); return PKR_T_DCOMMENT;
  case '\\':
    pkr_adv(r);
    *v = pkr_char(r);
    return PKR_T_ATOM;
  case '!': return pkr_directive(r, v);
  case 't':
  case 'f':
  case 'T':
  case 'F': *v = pkr_boolean(r); return PKR_T_ATOM;
  case 'x':
  case 'X':
  case 'o':
  case 'O':
  case 'b':
  case 'B':
  case 'd':
  case 'D': *v = pkr_radix(r); return PKR_T_ATOM;
  case -1: pkr_fail(r, r->tline, r->tcol, "unexpected end-of-file after #");
  default: {
    char b[12];
    pkr_fail(r, r->tline, r->tcol, "invalid sharp-sign prefix #%s", pkr_show(c, b));
  }
  }
}

/* ---- tokens --------------------------------------------------------------- */

/* The quote-like prefix at the position: ' ` , ,@ */
static pk_val pkr_quotesym(pkr_reader *r)
{
  int c = pkr_peek(r);
  pkr_adv(r);
  if (c == '\'') return pkr_syms[0];
  if (c == '`') return pkr_syms[1];
  if (pkr_peek(r) != '@') return pkr_syms[2];
  pkr_adv(r);
  return pkr_syms[3];
}

/* The next token; its start is left in tline/tcol. */
static int pkr_token(pkr_reader *r, pk_val *v)
{
  pkr_skip(r);
  r->tline = r->line;
  r->tcol = r->col;
  int c = pkr_peek(r);
  switch (c) {
  case -1: return PKR_T_EOF;
  case '(':
  case '[':
    r->tch = c;
    pkr_adv(r);
    return PKR_T_OPEN;
  case ')':
  case ']':
    r->tch = c;
    pkr_adv(r);
    return PKR_T_CLOSE;
  case '\'':
  case '`':
  case ',': *v = pkr_quotesym(r); return PKR_T_QUOTE;
  case '"': *v = pkr_string(r); return PKR_T_ATOM;
  case '#': return pkr_sharp(r, v);
  case '{':
  case '}': pkr_fail(r, r->tline, r->tcol, "unexpected character %c", c);
  default: return pkr_symnum(r, v);
  }
}

/* ---- tensor literals ------------------------------------------------------ */

/* Growable arrays of one tensor literal: per depth the expected length
   (-1 until the first row of that depth closes), the count so far and
   where the row opened; the elements in order.  Collected memory. */
typedef struct pkr_tlit {
  int64_t *want, *have;
  int32_t *line, *col;
  size_t cap;
  pk_val *elems;
  size_t n, ecap;
} pkr_tlit;

/* Room for depth d (0-based). */
static void pkr_tdepth(pkr_tlit *t, size_t d)
{
  if (d < t->cap) return;
  size_t cap = t->cap ? t->cap * 2 : 8;
  int64_t *w = GC_MALLOC_ATOMIC(cap * sizeof *w), *h = GC_MALLOC_ATOMIC(cap * sizeof *h);
  int32_t *l = GC_MALLOC_ATOMIC(cap * sizeof *l), *c = GC_MALLOC_ATOMIC(cap * sizeof *c);
  if (!w || !h || !l || !c) pko_oom();
  if (t->cap) {
    memcpy(w, t->want, t->cap * sizeof *w);
    memcpy(h, t->have, t->cap * sizeof *h);
    memcpy(l, t->line, t->cap * sizeof *l);
    memcpy(c, t->col, t->cap * sizeof *c);
  }
  for (size_t k = t->cap; k < cap; k++) w[k] = -1;
  *t = (pkr_tlit){ w, h, l, c, cap, t->elems, t->n, t->ecap };
}

/* Append one element (a number). */
static void pkr_telem(pkr_tlit *t, pk_val v)
{
  if (t->n == t->ecap) {
    size_t cap = t->ecap ? t->ecap * 2 : 16;
    pk_val *e = GC_MALLOC(cap * sizeof *e);
    if (!e) pko_oom();
    if (t->n) memcpy(e, t->elems, t->n * sizeof *e);
    t->elems = e;
    t->ecap = cap;
  }
  t->elems[t->n++] = v;
}

/* A row opens at depth d (the row's own depth is d + 1). */
static void pkr_trow(pkr_reader *r, pkr_tlit *t, size_t d, size_t rank)
{
  if (rank && d + 1 >= rank) pkr_fail(r, r->tline, r->tcol, "ragged tensor literal: a row where a number was expected");
  pkr_tdepth(t, d + 1);
  t->have[d]++;
  t->have[d + 1] = 0;
  t->line[d + 1] = r->tline;
  t->col[d + 1] = r->tcol;
}

/* The row at depth d closes: its length must match its siblings'. */
static void pkr_tclose(pkr_reader *r, pkr_tlit *t, size_t d)
{
  if (t->want[d] < 0)
    t->want[d] = t->have[d];
  else if (t->want[d] != t->have[d])
    pkr_fail(r, t->line[d], t->col[d], "ragged tensor literal: a row of %lld where %lld were expected",
             (long long)t->have[d], (long long)t->want[d]);
}

/* The rest of a #[ ... ] literal (the #[ read; tline/tcol at its #): rows
   nested with [ ] or #[ ], numbers at the innermost depth only, every row
   of a depth the same length.  Tokens come from pkr_token, so comments and
   number syntax are the program reader's. */
static pk_val pkr_tensor(pkr_reader *r)
{
  pkr_tlit t = { 0 };
  int line0 = r->tline, col0 = r->tcol;
  size_t d = 0, rank = 0; /* depth of the open row (0: the literal); rank 0: not known yet */
  pkr_tdepth(&t, 0);
  t.have[0] = 0;
  t.line[0] = line0;
  t.col[0] = col0;
  for (;;) {
    pk_val v = PK_NIL;
    int k = pkr_token(r, &v);
    if (k == PKR_T_SKIP) continue;
    if (k == PKR_T_EOF) pkr_fail(r, line0, col0, "unexpected end-of-file reading tensor literal");
    if (k == PKR_T_TENSOR || (k == PKR_T_OPEN && r->tch == '[')) {
      pkr_trow(r, &t, d++, rank);
    } else if (k == PKR_T_CLOSE && r->tch == ']') {
      if (!rank) rank = d + 1;
      pkr_tclose(r, &t, d);
      if (d == 0) break;
      d--;
    } else if (k == PKR_T_CLOSE) {
      pkr_fail(r, r->tline, r->tcol, "tensor literal terminated by parenthesis");
    } else if (k == PKR_T_ATOM && pko_numberp(v)) {
      if (!rank) rank = d + 1;
      if (d + 1 != rank) pkr_fail(r, r->tline, r->tcol, "ragged tensor literal: a number where a row was expected");
      t.have[d]++;
      pkr_telem(&t, v);
    } else {
      pkr_fail(r, r->tline, r->tcol, "tensor literal elements must be numbers");
    }
  }
  return pko_mktensor((uint32_t)rank, t.want, t.n, t.elems);
}

/* ---- frames --------------------------------------------------------------- */

/* Queue a position for a fresh pair; flushed to the table per datum. */
static void pkr_note(pkr_reader *r, pk_val pair, int line, int col)
{
  if (r->npend == PKR_PEND) {
    pkr_lock();
    for (size_t k = 0; k < r->npend; k++) pkr_put(r->pkey[k], r->pval[k]);
    pkr_unlock();
    r->npend = 0;
  }
  r->pkey[r->npend] = (uintptr_t)pko_as_pair(pair);
  r->pval[r->npend++] = (pkr_slot){ r->file, line, col };
}

/* Publish the queued positions. */
static void pkr_flush(pkr_reader *r)
{
  if (r->npend == 0) return;
  pkr_lock();
  for (size_t k = 0; k < r->npend; k++) pkr_put(r->pkey[k], r->pval[k]);
  pkr_unlock();
  r->npend = 0;
}

/* Open a form at the current token. */
static pkr_frame *pkr_push(pkr_reader *r, int kind, int close)
{
  if (r->depth == r->cap) {
    size_t cap = r->cap * 2;
    pkr_frame *s = GC_MALLOC(cap * sizeof *s);
    if (!s) pko_oom();
    memcpy(s, r->stack, r->depth * sizeof *s);
    r->stack = s;
    r->cap = cap;
  }
  pkr_frame *f = &r->stack[r->depth++];
  *f = (pkr_frame){ PK_NIL, PK_NIL, r->tline, r->tcol, (uint8_t)kind, (uint8_t)close, 0 };
  return f;
}

/* Add a finished datum (starting at line:col) to a list-like frame. */
static void pkr_append(pkr_reader *r, pkr_frame *f, pk_val v, int line, int col)
{
  if (f->dot == 2) pkr_fail(r, line, col, "more than one item found after dot (.)");
  if (f->dot == 1) {
    pko_as_pair(f->tail)->cdr = v;
    f->dot = 2;
    return;
  }
  pk_val p = pko_cons(v, PK_NIL);
  if (f->head == PK_NIL) {
    f->head = p;
    line = f->line;
    col = f->col;
  } else {
    pko_as_pair(f->tail)->cdr = p;
  }
  f->tail = p;
  if (f->kind != PKR_F_VEC) pkr_note(r, p, line, col);
}

/* Hand a finished datum to the enclosing frames; true when it is a whole
   top-level datum.  Quote frames complete at once and pass their result
   down, so this loops instead of recursing. */
static bool pkr_deliver(pkr_reader *r, pk_val *v, int line, int col)
{
  while (r->depth > 0) {
    pkr_frame *f = &r->stack[r->depth - 1];
    if (f->kind == PKR_F_DCOMMENT) {
      r->depth--;
      return false;
    }
    if (f->kind != PKR_F_QUOTE) {
      pkr_append(r, f, *v, line, col);
      return false;
    }
    pk_val inner = pko_cons(*v, PK_NIL);
    pkr_note(r, inner, line, col);
    *v = pko_cons(f->head, inner);
    line = f->line;
    col = f->col;
    pkr_note(r, *v, line, col);
    r->depth--;
  }
  return true;
}

/* A " . " token: legal only after at least one item of a list. */
static void pkr_dot(pkr_reader *r)
{
  pkr_frame *f = r->depth ? &r->stack[r->depth - 1] : NULL;
  if (!f || f->kind != PKR_F_LIST || f->head == PK_NIL || f->dot) pkr_fail(r, r->tline, r->tcol, "unexpected dot (.)");
  f->dot = 1;
}

/* The message for a form closed by the wrong bracket. */
static const char *pkr_mismatch(const pkr_frame *f)
{
  switch (f->kind) {
  case PKR_F_VEC: return "vector terminated by bracket";
  default:
    return f->close == ')' ? "parenthesized list terminated by bracket" : "bracketed list terminated by parenthesis";
  }
}

/* A list of n items as a fresh vector. */
static pk_val pkr_vector(pk_val list)
{
  long n = pko_length(list);
  pk_val v = pko_mkvec((uint32_t)n, PK_FALSE);
  for (long k = 0; k < n; k++, list = pko_cdr(list)) pko_as_vec(v)->items[k] = pko_car(list);
  return v;
}

/* A ) or ]: close the innermost form; line and col become its start. */
static pk_val pkr_close(pkr_reader *r, int *line, int *col)
{
  const char *what = r->tch == ')' ? "parenthesis" : "bracket";
  pkr_frame *f = r->depth ? &r->stack[r->depth - 1] : NULL;
  if (!f || f->kind == PKR_F_QUOTE || f->kind == PKR_F_DCOMMENT)
    pkr_fail(r, r->tline, r->tcol, "unexpected close %s", what);
  if (f->close != r->tch) pkr_fail(r, r->tline, r->tcol, "%s", pkr_mismatch(f));
  if (f->dot == 1) pkr_fail(r, r->tline, r->tcol, "expected one item after dot (.)");
  pk_val v = f->kind == PKR_F_VEC ? pkr_vector(f->head) : f->head;
  *line = f->line;
  *col = f->col;
  r->depth--;
  return v;
}

/* End of input inside a form: reported where the innermost form opened. */
static _Noreturn void pkr_eof(pkr_reader *r)
{
  static const char *what[] = { "list", "vector", NULL, "#; datum comment" };
  const pkr_frame *f = &r->stack[r->depth - 1];
  const char *w = what[f->kind];
  if (f->kind == PKR_F_QUOTE) {
    w = f->head == pkr_syms[0]   ? "quote"
        : f->head == pkr_syms[1] ? "quasiquote"
        : f->head == pkr_syms[2] ? "unquote"
                                 : "unquote-splicing";
  }
  pkr_fail(r, f->line, f->col, "unexpected end-of-file reading %s", w);
}

/* ---- public --------------------------------------------------------------- */

/* Point r at the start of text (past a byte-order mark and a #! line),
   its buffers and its cache of symbols kept. */
static void pkr_start(pkr_reader *r, const char *file, const char *text, size_t len)
{
  r->text = text;
  r->len = len;
  r->i = r->depth = r->toklen = r->npend = 0;
  r->line = r->col = 1;
  pkr_lock();
  r->file = pkr_file(file ? file : "<input>");
  pkr_unlock();
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) r->i = 3;
  if (len - r->i >= 3 && text[r->i] == '#' && text[r->i + 1] == '!' && (text[r->i + 2] == '/' || text[r->i + 2] == ' '))
    while (r->i < len && text[r->i] != '\n') pkr_adv(r);
}

/* A reader with empty buffers, from alloc (GC_malloc or
   GC_malloc_uncollectable). */
static pkr_reader *pkr_make(void *(*alloc)(size_t))
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, pkr_init_once);
  pkr_reader *r = alloc(sizeof *r);
  if (!r) pko_oom();
  *r = (pkr_reader){ .cap = 16, .tokcap = 64 };
  r->stack = GC_MALLOC(r->cap * sizeof *r->stack);
  r->tok = GC_MALLOC_ATOMIC(r->tokcap);
  if (!r->stack || !r->tok) pko_oom();
  return r;
}

pkr_reader *pkr_open(const char *file, const char *text, size_t len)
{
  pkr_reader *r = pkr_make(GC_malloc);
  pkr_start(r, file, text, len);
  return r;
}

pkr_reader *pkr_reopen(pkr_reader *r, const char *file, const char *text, size_t len)
{
  if (!r) r = pkr_make(GC_malloc_uncollectable);
  pkr_start(r, file, text, len);
  return r;
}

/* The main loop: tokens open frames, finished data fall into them. */
bool pkr_next(pkr_reader *r, pk_val *out)
{
  r->depth = 0;
  r->npend = 0;
  for (;;) {
    pk_val v = PK_NIL;
    int t = pkr_token(r, &v), line = r->tline, col = r->tcol;
    switch (t) {
    case PKR_T_EOF:
      if (r->depth == 0) return false;
      pkr_eof(r);
    case PKR_T_OPEN: pkr_push(r, PKR_F_LIST, r->tch == '(' ? ')' : ']'); continue;
    case PKR_T_VEC: pkr_push(r, PKR_F_VEC, ')'); continue;
    case PKR_T_TENSOR: v = pkr_tensor(r); break;
    case PKR_T_QUOTE: pkr_push(r, PKR_F_QUOTE, 0)->head = v; continue;
    case PKR_T_DCOMMENT: pkr_push(r, PKR_F_DCOMMENT, 0); continue;
    case PKR_T_DOT: pkr_dot(r); continue;
    case PKR_T_SKIP: continue;
    case PKR_T_CLOSE: v = pkr_close(r, &line, &col); break;
    default: break;
    }
    if (pkr_deliver(r, &v, line, col)) {
      pkr_flush(r);
      *out = v;
      return true;
    }
  }
}

/* One token for a reader of another format; what a token is and every
   lexical error are the program reader's. */
int pkr_lex(pkr_reader *r, pk_val *v, pk_srcpos *pos, int *bracket)
{
  for (;;) {
    int t = pkr_token(r, v);
    *pos = (pk_srcpos){ r->file, r->tline, r->tcol };
    switch (t) {
    case PKR_T_SKIP: continue;
    case PKR_T_EOF: return PKR_LEX_EOF;
    case PKR_T_ATOM: return PKR_LEX_ATOM;
    case PKR_T_TENSOR: *v = pkr_tensor(r); return PKR_LEX_ATOM;
    case PKR_T_OPEN: *bracket = r->tch; return PKR_LEX_OPEN;
    case PKR_T_CLOSE: *bracket = r->tch; return PKR_LEX_CLOSE;
    default: return PKR_LEX_OTHER;
    }
  }
}

void pkr_cursor(const pkr_reader *r, size_t *i, int *line, int *col)
{
  *i = r->i;
  *line = r->line;
  *col = r->col;
}

void pkr_seek(pkr_reader *r, size_t i, int line, int col)
{
  r->i = i;
  r->line = line;
  r->col = col;
}

/* Where the next token would start (before any blanks are skipped). */
pk_srcpos pkr_here(const pkr_reader *r) { return (pk_srcpos){ r->file, r->line, r->col }; }

/* Everything left in fd, NUL-terminated, in a malloc'd buffer that starts
   at cap bytes and doubles (pipes and /proc files report no size); NULL
   on a read error (errno set).  Stops at want bytes (a regular file's
   size; 0: unknown) without the read that would find the end. */
static char *pkr_readall(int fd, size_t cap, size_t want, size_t *len)
{
  size_t n = 0;
  char *buf = pko_xmalloc(cap);
  for (;;) {
    if (n + 1 == cap) buf = pko_xrealloc(buf, cap *= 2);
    ssize_t k = read(fd, buf + n, cap - 1 - n);
    if (k > 0) n += (size_t)k;
    if (k == 0 || (k > 0 && n == want)) {
      buf[n] = 0;
      *len = n;
      return buf;
    }
    if (k < 0 && errno != EINTR) {
      int e = errno;
      free(buf);
      errno = e;
      return NULL;
    }
  }
}

/* Whole file, sized by fstat when it is a regular file with a size: room
   for the text, its NUL and one byte more, and no read to find the end
   once the size is read (a rerun of a batch reads every input). */
char *pkr_slurp(const char *path, size_t *len)
{
  struct stat st;
  return pkr_slurp_stat(path, len, &st);
}

char *pkr_slurp_stat(const char *path, size_t *len, struct stat *stp)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0) st = (struct stat){ 0 };
  *stp = st;
  bool sized = S_ISREG(st.st_mode) && st.st_size > 0;
  size_t n = 0, cap = sized ? (size_t)st.st_size + 2 : 4096;
  pko_catch c;
  bool guard = pko_handler != NULL; /* without a handler, out of memory exits */
  if (guard && !PKO_TRY(c)) {       /* out of memory: the descriptor is not leaked */
    close(fd);
    pko_rethrow();
  }
  char *buf = pkr_readall(fd, cap, sized ? (size_t)st.st_size : 0, &n);
  if (guard) PKO_END(c);
  int e = errno;
  close(fd);
  errno = e;
  if (buf && len) *len = n;
  return buf;
}
