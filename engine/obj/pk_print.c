/*
** pk_print.c — the printer: values to text exactly as Chez Scheme 9.5's
** write and display print them, and as JSON.
**
** One loop over an explicit stack of pending work (pkp_item): print a value,
** continue a list after its car, continue a vector at an index, or close a
** bracket.  Only the stack grows with nesting, never the C stack.
**
** Chez details reproduced here (checked against `scheme`):
**   - write never abbreviates (quote x); display prints 'x `x ,x ,@x #'x
**     #`x #,x #,@x for a two-element list headed by one of those symbols.
**   - flonums: shortest digits that read back (Burger & Dybvig), positional
**     when the decimal exponent is in (-4, 10), else d.ddde±x; subnormals
**     get Chez's "|bits" precision suffix (5e-324|1).
**   - symbols are written with \x..; escapes where Chez's reader would not
**     take the character (a\x20;b, \x31;+), the empty symbol as ||; whether
**     a non-ASCII character needs one comes from a table made with Chez.
**   - strings escape " \ \a \b \t \n \v \f \r, other controls and U+0085,
**     U+2028 as \xN;; characters use Chez's R6RS names (#\alarm, #\delete).
*/
#include "pk_print.h"
#include "pk_num.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffers ---------------------------------------------------------------- */

/* Room for extra more bytes plus the NUL that always ends the text. */
void pkp_reserve(pkp_buf *b, size_t extra)
{
  if (b->len + extra + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap * 2 : 64;
  while (cap < b->len + extra + 1) cap *= 2;
  b->s = pko_xrealloc(b->s, cap);
  b->cap = cap;
}

/* An empty buffer; nothing is allocated until the first byte. */
void pkp_init(pkp_buf *b)
{
  b->s = NULL;
  b->len = b->cap = 0;
}

/* Release the text and leave b empty and reusable. */
void pkp_free(pkp_buf *b)
{
  free(b->s);
  pkp_init(b);
}

/* fwrite with NULL is undefined even for 0 bytes, and an empty buffer has
   no text. */
void pkp_fwrite(const pkp_buf *b, FILE *f)
{
  if (b->len) fwrite(b->s, 1, b->len, f);
}

/* One byte; the text stays NUL-terminated after every append. */
void pkp_putc(pkp_buf *b, char c)
{
  pkp_reserve(b, 1);
  b->s[b->len++] = c;
  b->s[b->len] = 0;
}

/* n bytes, which may include NULs. */
void pkp_puts(pkp_buf *b, const char *s, size_t n)
{
  pkp_reserve(b, n);
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = 0;
}

/* Append a C string. */
static void pkp_cstr(pkp_buf *b, const char *s) { pkp_puts(b, s, strlen(s)); }

/* Formats in place; a second pass only when the first did not fit. */
void pkp_printf(pkp_buf *b, const char *fmt, ...)
{
  va_list ap, aq;
  va_start(ap, fmt);
  va_copy(aq, ap);
  pkp_reserve(b, 64);
  int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
  if (n >= 0 && (size_t)n >= b->cap - b->len) {
    pkp_reserve(b, (size_t)n);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, aq);
  }
  if (n > 0) b->len += (size_t)n;
  va_end(aq);
  va_end(ap);
}

/* ---- flonums ---------------------------------------------------------------- */

/* The double that the decimal dig[0..nd) x 10^(e-nd+1) reads as, by the
   engine's own reader's conversion (pkn_decimal). */
static double pkp_decimal(const char *dig, int nd, int e)
{
  char s[48];
  int n = snprintf(s, sizeof s, "%.*se%d", nd, dig, e - nd + 1);
  return pkn_decimal(s, (size_t)n);
}

/* Digits and decimal exponent of d rounded to p significant digits; the
   separator printf uses depends on the locale, so only digits are kept. */
static void pkp_round(double d, int p, char *dig, int *e)
{
  char s[48];
  int nd = 0;
  snprintf(s, sizeof s, "%.*e", p - 1, d);
  const char *x = s;
  for (; *x && *x != 'e'; x++)
    if (*x >= '0' && *x <= '9') dig[nd++] = *x;
  *e = *x == 'e' ? atoi(x + 1) : 0;
}

/* Move dig[0..nd) one unit in the last place up (dir > 0) or down; false
   when that leaves no leading digit (the number would get shorter). */
static bool pkp_step(char *dig, int nd, int *e, int dir)
{
  int k = nd - 1;
  if (dir > 0) {
    while (k >= 0 && dig[k] == '9') dig[k--] = '0';
    if (k < 0) {
      dig[0] = '1';
      ++*e;
      return true;
    }
    dig[k]++;
    return true;
  }
  while (k >= 0 && dig[k] == '0') dig[k--] = '9';
  if (k < 0) return false;
  dig[k]--;
  return dig[0] != '0';
}

/* True when d lies exactly halfway between dig[0..p) and the next p-digit
   decimal up, i.e. its exact expansion is those digits then a single 5.
   Rare, so the long exact printf only runs after a cheap 20-digit hint. */
static bool pkp_tie(double d, const char *dig, int p)
{
  char s[48], full[820];
  int e, n = 0;
  pkp_round(d, p + 20, s, &e);
  s[p + 20] = 0;
  if (memcmp(s, dig, (size_t)p) != 0 || s[p] != '5' || strspn(s + p + 1, "0") < 19) return false;
  snprintf(full, sizeof full, "%.800e", d);
  for (const char *x = full; *x && *x != 'e'; x++)
    if (*x >= '0' && *x <= '9' && n++ > p && *x != '0') return false;
  return true;
}

/* The shortest digits of a normal d (> 0) when 15 or fewer read back as
   d, with their count; else 0 (pkp_shortest then searches from 16
   digits on, or from 1 for a subnormal d).  d's rounding interval is
   narrower than 2^-52 d and 15-digit decimals are 10^-15 d or more apart,
   so at most one decimal of 15 or fewer digits reads back as d, and its
   digits without trailing zeros are what the search of pkp_shortest would
   find (no tie is that close to d).  First the integers m < 10^15 and k
   with m / 10^k == d, both exact doubles and the division correctly
   rounded as strtod is (most data read from text), then d rounded to 15
   digits by printf. */
static int pkp_short15(double d, char *dig, int *e)
{
  static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
  if (d < 0x1p-1022) return 0;
  for (int k = 0; d >= 1e-7 && d < 1e15 && k <= 22; k++) {
    double m = (double)(uint64_t)(d * pow10[k] + 0.5);
    if (m >= 1e15) break;
    if (m / pow10[k] != d) continue;
    char buf[24];
    int n = 0, p;
    for (uint64_t u = (uint64_t)m; u; u /= 10) buf[n++] = (char)('0' + u % 10);
    for (p = 0; p < n; p++) dig[p] = buf[n - 1 - p];
    while (p > 1 && dig[p - 1] == '0') p--;
    *e = n - 1 - k;
    return p;
  }
  pkp_round(d, 15, dig, e);
  if (pkp_decimal(dig, 15, *e) != d) return 0;
  int p = 15;
  while (p > 1 && dig[p - 1] == '0') p--;
  return p;
}

/* Shortest digits that read back as d (> 0, finite), the closest of them
   when several do, the upper one on a tie (as Burger & Dybvig's free-format
   algorithm in Chez): the nearest p-digit decimal, or its neighbour when
   the nearest falls outside d's rounding interval (next to a power of two
   the gap below is half the gap above). */
static int pkp_shortest(double d, char *dig, int *e)
{
  int p = pkp_short15(d, dig, e);
  if (p) return p;
  for (p = d < 0x1p-1022 ? 1 : 16; p <= 17; p++) {
    pkp_round(d, p, dig, e);
    double back = pkp_decimal(dig, p, *e);
    char alt[24];
    int ae = *e;
    memcpy(alt, dig, (size_t)p);
    if (back == d && !pkp_tie(d, dig, p)) break;
    if (back == d && !(pkp_step(alt, p, &ae, 1) && pkp_decimal(alt, p, ae) == d)) break;
    if (back != d && !(pkp_step(alt, p, &ae, back < d ? 1 : -1) && pkp_decimal(alt, p, ae) == d)) continue;
    memcpy(dig, alt, (size_t)p);
    *e = ae;
    break;
  }
  if (p > 17) pkp_round(d, p = 17, dig, e);
  while (p > 1 && dig[p - 1] == '0') p--;
  return p;
}

/* Positional notation: 123.45, 100.0, 0.001. */
static char *pkp_positional(char *o, const char *dig, int nd, int e)
{
  if (e < 0) {
    *o++ = '0';
    *o++ = '.';
    for (int k = -1; k > e; k--) *o++ = '0';
    memcpy(o, dig, (size_t)nd);
    return o + nd;
  }
  for (int k = 0; k <= e; k++) *o++ = k < nd ? dig[k] : '0';
  *o++ = '.';
  if (nd <= e + 1) {
    *o++ = '0';
    return o;
  }
  memcpy(o, dig + e + 1, (size_t)(nd - e - 1));
  return o + nd - e - 1;
}

/* Scientific notation: 1e21, 1.2345e-7. */
static char *pkp_scientific(char *o, const char *dig, int nd, int e)
{
  *o++ = dig[0];
  if (nd > 1) {
    *o++ = '.';
    memcpy(o, dig + 1, (size_t)(nd - 1));
    o += nd - 1;
  }
  return o + sprintf(o, "e%d", e);
}

/* Chez's wrflonum: sign, digits, notation by exponent, subnormal suffix. */
void pkp_flonum(char *buf, double d)
{
  if (isnan(d)) {
    strcpy(buf, "+nan.0");
    return;
  }
  if (isinf(d)) {
    strcpy(buf, d > 0 ? "+inf.0" : "-inf.0");
    return;
  }
  char *o = buf, dig[24];
  if (signbit(d)) *o++ = '-';
  d = fabs(d);
  if (d == 0) {
    strcpy(o, "0.0");
    return;
  }
  int e, nd = pkp_shortest(d, dig, &e);
  o = e > -4 && e < 10 ? pkp_positional(o, dig, nd, e) : pkp_scientific(o, dig, nd, e);
  *o = 0;
  if (d < 0x1p-1022) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    sprintf(o, "|%d", 64 - __builtin_clzll(bits));
  }
}

/* ---- text ------------------------------------------------------------------- */

/* Append code point cp as UTF-8 (U+FFFD for a value no string can hold). */
static void pkp_putcp(pkp_buf *b, uint32_t cp)
{
  char s[4];
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    pkp_putc(b, (char)cp);
    return;
  }
  int n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  for (int k = n - 1; k > 0; k--, cp >>= 6) s[k] = (char)(0x80 | (cp & 0x3F));
  s[0] = (char)((0xF00 >> n) | cp);
  pkp_puts(b, s, (size_t)n);
}

/* Chez's \x<HEX>; escape, used in strings and symbols. */
static void pkp_hexesc(pkp_buf *b, uint32_t cp) { pkp_printf(b, "\\x%X;", cp); }

/* Characters Chez writes as themselves in strings and char literals. */
static bool pkp_plain(uint32_t cp) { return (cp >= 0x20 && cp < 0x7F) || (cp >= 0x80 && cp != 0x85 && cp != 0x2028); }

/* A string as write prints it. */
static void pkp_string(pkp_buf *b, const char *s, size_t n)
{
  static const char from[] = "\a\b\t\n\v\f\r", to[] = "abtnvfr";
  pkp_putc(b, '"');
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    int k = pko_utf8_decode((const unsigned char *)s + i, n - i, &cp);
    if (k == 0) {
      pkp_hexesc(b, (unsigned char)s[i++]);
      continue;
    }
    const char *esc = cp > 0 && cp < 0x20 ? strchr(from, (int)cp) : NULL;
    if (cp == '"' || cp == '\\') {
      pkp_putc(b, '\\');
      pkp_putc(b, (char)cp);
    } else if (pkp_plain(cp)) {
      pkp_puts(b, s + i, (size_t)k);
    } else if (esc) {
      pkp_putc(b, '\\');
      pkp_putc(b, to[esc - from]);
    } else {
      pkp_hexesc(b, cp);
    }
    i += (size_t)k;
  }
  pkp_putc(b, '"');
}

/* A character as write prints it: R6RS names, else itself, else #\xHEX. */
static void pkp_char(pkp_buf *b, uint32_t cp)
{
  static const struct {
    uint32_t cp;
    const char *name;
  } names[] = {
    { 0, "nul" },   { 7, "alarm" },   { 8, "backspace" }, { 9, "tab" },    { 10, "newline" }, { 11, "vtab" },
    { 12, "page" }, { 13, "return" }, { 27, "esc" },      { 32, "space" }, { 127, "delete" },
  };
  pkp_puts(b, "#\\", 2);
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    if (names[k].cp == cp) {
      pkp_cstr(b, names[k].name);
      return;
    }
  }
  if (pkp_plain(cp) && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF))
    pkp_putcp(b, cp);
  else
    pkp_printf(b, "x%X", cp);
}

/* ---- symbols ---------------------------------------------------------------- */

/* Chez 9.5's view of every code point from U+0080: (start << 2) | class,
   sorted; class 2 may start a symbol, 1 may only follow (digits, combining
   marks), 0 is always escaped.  Generated by writing (string->symbol
   (string c)) and (string->symbol (string #\a c)) for every c in Chez. */
static const uint32_t pkp_uc[] = {
  0x200,    0x286,    0x2ac,    0x2b2,    0x2b4,    0x2ba,    0x2ec,   0x2f2,   0xde0,   0xdea,   0xe00,   0xe12,
  0xe2c,    0xe32,    0xe34,    0xe3a,    0xe88,    0xe8e,    0x1221,  0x122a,  0x14c0,  0x14c6,  0x155c,  0x1566,
  0x1580,   0x1586,   0x1620,   0x1626,   0x162c,   0x1636,   0x1640,  0x1646,  0x1720,  0x1742,  0x17ac,  0x17c2,
  0x17d4,   0x181a,   0x1870,   0x187a,   0x1981,   0x19aa,   0x1b74,  0x1b7a,  0x1bc1,  0x1bea,  0x1c38,  0x1c42,
  0x1d2c,   0x1d36,   0x1ec8,   0x1f01,   0x1f2a,   0x1fec,   0x2002,  0x20b8,  0x20c2,  0x20fc,  0x2102,  0x2170,
  0x217a,   0x217c,   0x2282,   0x22cc,   0x2392,   0x240d,   0x2412,  0x24ed,  0x24f2,  0x24f9,  0x2506,  0x2525,
  0x2536,   0x2539,   0x2542,   0x2599,   0x25c2,   0x2609,   0x2610,  0x2616,  0x2634,  0x263e,  0x2644,  0x264e,
  0x26a4,   0x26aa,   0x26c4,   0x26ca,   0x26cc,   0x26da,   0x26e8,  0x26f2,  0x26f9,  0x2706,  0x2714,  0x271d,
  0x2724,   0x272d,   0x2736,   0x273c,   0x275d,   0x2760,   0x2772,  0x2778,  0x277e,  0x2790,  0x2799,  0x27c2,
  0x27f0,   0x2806,   0x280d,   0x2810,   0x2816,   0x282c,   0x283e,  0x2844,  0x284e,  0x28a4,  0x28aa,  0x28c4,
  0x28ca,   0x28d0,   0x28d6,   0x28dc,   0x28e2,   0x28e8,   0x28f2,  0x28f4,  0x28f9,  0x2906,  0x290c,  0x291e,
  0x2924,   0x292e,   0x2938,   0x2946,   0x2948,   0x2966,   0x2974,  0x297a,  0x297c,  0x2999,  0x29c2,  0x29d8,
  0x2a06,   0x2a0d,   0x2a10,   0x2a16,   0x2a38,   0x2a3e,   0x2a48,  0x2a4e,  0x2aa4,  0x2aaa,  0x2ac4,  0x2aca,
  0x2ad0,   0x2ad6,   0x2ae8,   0x2af2,   0x2af9,   0x2b06,   0x2b18,  0x2b1e,  0x2b25,  0x2b28,  0x2b2d,  0x2b36,
  0x2b38,   0x2b42,   0x2b44,   0x2b82,   0x2b90,   0x2b99,   0x2bc2,  0x2bc8,  0x2c06,  0x2c09,  0x2c10,  0x2c16,
  0x2c34,   0x2c3e,   0x2c44,   0x2c4e,   0x2ca4,   0x2caa,   0x2cc4,  0x2cca,  0x2cd0,  0x2cd6,  0x2ce8,  0x2cf2,
  0x2cf9,   0x2cfe,   0x2d01,   0x2d06,   0x2d14,   0x2d1d,   0x2d24,  0x2d2d,  0x2d36,  0x2d38,  0x2d5a,  0x2d5d,
  0x2d60,   0x2d72,   0x2d78,   0x2d7e,   0x2d90,   0x2d99,   0x2dc2,  0x2de0,  0x2e0a,  0x2e10,  0x2e16,  0x2e2c,
  0x2e3a,   0x2e44,   0x2e4a,   0x2e58,   0x2e66,   0x2e6c,   0x2e72,  0x2e74,  0x2e7a,  0x2e80,  0x2e8e,  0x2e94,
  0x2ea2,   0x2eac,   0x2eba,   0x2ee8,   0x2ef9,   0x2f02,   0x2f05,  0x2f0c,  0x2f19,  0x2f24,  0x2f29,  0x2f36,
  0x2f38,   0x2f42,   0x2f44,   0x2f5d,   0x2f60,   0x2f99,   0x2fc2,  0x2fec,  0x3002,  0x3005,  0x3010,  0x3016,
  0x3034,   0x303a,   0x3044,   0x304a,   0x30a4,   0x30aa,   0x30e8,  0x30f6,  0x3105,  0x3114,  0x311a,  0x3124,
  0x312a,   0x3138,   0x3156,   0x315c,   0x3162,   0x3168,   0x3182,  0x3190,  0x3199,  0x31c0,  0x31e2,  0x3200,
  0x3206,   0x3209,   0x3210,   0x3216,   0x3234,   0x323a,   0x3244,  0x324a,  0x32a4,  0x32aa,  0x32d0,  0x32d6,
  0x32e8,   0x32f2,   0x32f9,   0x32fe,   0x3301,   0x3314,   0x331a,  0x331d,  0x3324,  0x3329,  0x3332,  0x3338,
  0x3355,   0x335c,   0x337a,   0x337c,   0x3382,   0x3390,   0x3399,  0x33c0,  0x33c6,  0x33cc,  0x3406,  0x3409,
  0x3410,   0x3416,   0x3434,   0x343a,   0x3444,   0x344a,   0x34ec,  0x34f6,  0x34f9,  0x3506,  0x3514,  0x3519,
  0x3524,   0x3529,   0x3536,   0x353c,   0x355d,   0x3560,   0x3582,  0x3590,  0x3599,  0x35c2,  0x35d8,  0x35e6,
  0x3600,   0x3609,   0x3610,   0x3616,   0x365c,   0x366a,   0x36c8,  0x36ce,  0x36f0,  0x36f6,  0x36f8,  0x3702,
  0x371c,   0x372a,   0x372c,   0x373d,   0x374a,   0x3754,   0x375a,  0x375c,  0x3761,  0x3780,  0x3799,  0x37c0,
  0x37c9,   0x37d2,   0x37d4,   0x3806,   0x38ec,   0x38fe,   0x3941,  0x396a,  0x3970,  0x3a06,  0x3a0c,  0x3a12,
  0x3a14,   0x3a1e,   0x3a24,   0x3a2a,   0x3a2c,   0x3a36,   0x3a38,  0x3a52,  0x3a60,  0x3a66,  0x3a80,  0x3a86,
  0x3a90,   0x3a96,   0x3a98,   0x3a9e,   0x3aa0,   0x3aaa,   0x3ab0,  0x3ab6,  0x3ae8,  0x3aee,  0x3af8,  0x3b02,
  0x3b14,   0x3b1a,   0x3b1c,   0x3b22,   0x3b38,   0x3b41,   0x3b68,  0x3b72,  0x3b80,  0x3c02,  0x3c81,  0x3caa,
  0x3ce8,   0x3cf9,   0x3d02,   0x3d20,   0x3d26,   0x3db4,   0x3dc6,  0x3dfd,  0x3e02,  0x3e60,  0x3e66,  0x3ef4,
  0x3efa,   0x3f34,   0x3f3a,   0x3f6c,   0x4002,   0x40ad,   0x40b6,  0x40c5,  0x40ca,  0x40e1,  0x40e6,  0x40ed,
  0x40f6,   0x4101,   0x412a,   0x4159,   0x4162,   0x4189,   0x4196,  0x419d,  0x41ba,  0x420d,  0x4216,  0x421d,
  0x4236,   0x423d,   0x4276,   0x4318,   0x431e,   0x4320,   0x4336,  0x4338,  0x4342,  0x4924,  0x492a,  0x4938,
  0x4942,   0x495c,   0x4962,   0x4964,   0x496a,   0x4978,   0x4982,  0x4a24,  0x4a2a,  0x4a38,  0x4a42,  0x4ac4,
  0x4aca,   0x4ad8,   0x4ae2,   0x4afc,   0x4b02,   0x4b04,   0x4b0a,  0x4b18,  0x4b22,  0x4b5c,  0x4b62,  0x4c44,
  0x4c4a,   0x4c58,   0x4c62,   0x4d6c,   0x4d76,   0x4df4,   0x4e02,  0x4e68,  0x4e82,  0x4fd4,  0x5002,  0x5a00,
  0x5a06,   0x5a6c,   0x5a82,   0x5be4,   0x5c02,   0x5c34,   0x5c3a,  0x5c54,  0x5c82,  0x5cdc,  0x5d02,  0x5d50,
  0x5d82,   0x5db4,   0x5dba,   0x5dc4,   0x5dca,   0x5dd0,   0x5e02,  0x5ed9,  0x5ede,  0x5ef9,  0x5f1a,  0x5f1d,
  0x5f26,   0x5f78,   0x5f81,   0x5fa8,   0x5fc2,   0x5fe8,   0x6002,  0x6038,  0x6041,  0x6068,  0x6082,  0x61e0,
  0x6202,   0x62ac,   0x62c2,   0x63d8,   0x6402,   0x647c,   0x6482,  0x648d,  0x649e,  0x64a5,  0x64b0,  0x64c1,
  0x64ca,   0x64cd,   0x64e6,   0x64f0,   0x6502,   0x6504,   0x6512,  0x6519,  0x6542,  0x65b8,  0x65c2,  0x65d4,
  0x6602,   0x66b0,   0x66c1,   0x6706,   0x6721,   0x6728,   0x6741,  0x676a,  0x676c,  0x677a,  0x6865,  0x686e,
  0x6870,   0x687a,   0x6955,   0x695a,   0x695d,   0x6962,   0x697c,  0x6982,  0x6985,  0x698a,  0x698d,  0x6996,
  0x69b5,   0x69ce,   0x69f4,   0x69fe,   0x6a01,   0x6a28,   0x6a41,  0x6a68,  0x6a82,  0x6ab8,  0x6ac2,  0x6af9,
  0x6afc,   0x6c02,   0x6c11,   0x6c16,   0x6cd5,   0x6cda,   0x6ced,  0x6cf2,  0x6cf5,  0x6d0a,  0x6d0d,  0x6d16,
  0x6d30,   0x6d41,   0x6d6a,   0x6df4,   0x6e02,   0x6e09,   0x6e0e,  0x6e85,  0x6e8a,  0x6e99,  0x6ea2,  0x6ea9,
  0x6eae,   0x6ec1,   0x6eea,   0x6f9d,   0x6fa2,   0x6fa9,   0x6fb6,  0x6fb9,  0x6fbe,  0x6fc9,  0x6fd0,  0x6ff2,
  0x7091,   0x70b2,   0x70d1,   0x70da,   0x70e0,   0x70ee,   0x7101,  0x7128,  0x7136,  0x7141,  0x716a,  0x7200,
  0x7302,   0x7320,   0x7342,   0x7385,   0x738a,   0x73c9,   0x73d2,  0x73dc,  0x73e2,  0x73e8,  0x7402,  0x77d8,
  0x77f2,   0x7c58,   0x7c62,   0x7c78,   0x7c82,   0x7d18,   0x7d22,  0x7d38,  0x7d42,  0x7d60,  0x7d66,  0x7d68,
  0x7d6e,   0x7d70,   0x7d76,   0x7d78,   0x7d7e,   0x7df8,   0x7e02,  0x7ed4,  0x7eda,  0x7f14,  0x7f1a,  0x7f50,
  0x7f5a,   0x7f70,   0x7f76,   0x7fc0,   0x7fca,   0x7fd4,   0x7fda,  0x7ffc,  0x8042,  0x8060,  0x8082,  0x80a0,
  0x80c2,   0x80e4,   0x80ee,   0x8114,   0x811e,   0x817c,   0x81c2,  0x81c8,  0x81d2,  0x81f4,  0x81fe,  0x8234,
  0x8242,   0x8274,   0x8282,   0x82f8,   0x8342,   0x8375,   0x8386,  0x8389,  0x8396,  0x83c4,  0x8402,  0x8628,
  0x8642,   0x8c20,   0x8c32,   0x8ca4,   0x8cae,   0x8fec,   0x9002,  0x909c,  0x9102,  0x912c,  0x9182,  0x9da0,
  0x9dda,   0x9f14,   0x9f1e,   0x9f98,   0x9fc2,   0xa60c,   0xa666,  0xa760,  0xa772,  0xa7f0,  0xa7fa,  0xadd0,
  0xadda,   0xae58,   0xae62,   0xaee8,   0xaef6,   0xaf24,   0xaf2a,  0xaf48,  0xb002,  0xb0bc,  0xb0c2,  0xb17c,
  0xb182,   0xb3d0,   0xb3e6,   0xb498,   0xb49e,   0xb4a0,   0xb4b6,  0xb4b8,  0xb4c2,  0xb5a0,  0xb5be,  0xb5c4,
  0xb5fe,   0xb65c,   0xb682,   0xb69c,   0xb6a2,   0xb6bc,   0xb6c2,  0xb6dc,  0xb6e2,  0xb6fc,  0xb702,  0xb71c,
  0xb722,   0xb73c,   0xb742,   0xb75c,   0xb762,   0xb77c,   0xb782,  0xb808,  0xb81a,  0xb824,  0xb82e,  0xb830,
  0xb83a,   0xb870,   0xb87a,   0xb880,   0xb8aa,   0xb908,   0xba02,  0xba68,  0xba6e,  0xbbd0,  0xbc02,  0xbf58,
  0xbfc2,   0xbff0,   0xc006,   0xc020,   0xc04a,   0xc050,   0xc072,  0xc074,  0xc082,  0xc0b9,  0xc0c2,  0xc100,
  0xc106,   0xc25c,   0xc266,   0xc400,   0xc416,   0xc4b8,   0xc4c6,  0xc63c,  0xc642,  0xc6ec,  0xc702,  0xc790,
  0xc7c2,   0xc87c,   0xc882,   0xcbfc,   0xcc02,   0x136d8,  0x13702, 0x27f34, 0x28002, 0x29234, 0x29242, 0x2931c,
  0x29342,  0x29881,  0x298aa,  0x298b0,  0x29902,  0x299c1,  0x299ce, 0x29a78, 0x29a7e, 0x29be0, 0x29c02, 0x29e3c,
  0x29e42,  0x29eb8,  0x29ec2,  0x29ec8,  0x29fde,  0x2a08d,  0x2a096, 0x2a09d, 0x2a0a2, 0x2a0b0, 0x2a0c2, 0x2a0e8,
  0x2a102,  0x2a1e0,  0x2a201,  0x2a20a,  0x2a2d1,  0x2a312,  0x2a314, 0x2a33a, 0x2a341, 0x2a368, 0x2a382, 0x2a3f0,
  0x2a401,  0x2a42a,  0x2a549,  0x2a550,  0x2a57e,  0x2a5f4,  0x2a602, 0x2a60d, 0x2a612, 0x2a6d1, 0x2a6da, 0x2a6e9,
  0x2a6f2,  0x2a6f5,  0x2a706,  0x2a738,  0x2a73e,  0x2a741,  0x2a768, 0x2a77a, 0x2a7c1, 0x2a7ea, 0x2a7fc, 0x2a802,
  0x2a8bd,  0x2a8c6,  0x2a8cd,  0x2a8d6,  0x2a8dc,  0x2a902,  0x2a935, 0x2a938, 0x2a941, 0x2a968, 0x2a972, 0x2a9ed,
  0x2a9f2,  0x2a9f5,  0x2a9fa,  0x2ab0c,  0x2ab6e,  0x2abad,  0x2abb2, 0x2abb9, 0x2abc2, 0x2abd5, 0x2abda, 0x2abdc,
  0x2ac06,  0x2ac1c,  0x2ac26,  0x2ac3c,  0x2ac46,  0x2ac5c,  0x2ac82, 0x2ac9c, 0x2aca2, 0x2acbc, 0x2acc2, 0x2ad80,
  0x2ad92,  0x2ad98,  0x2af02,  0x2af8d,  0x2af96,  0x2af99,  0x2afa2, 0x2afa5, 0x2afae, 0x2afb1, 0x2afb6, 0x2afb8,
  0x2afc1,  0x2afe8,  0x2b002,  0x35e90,  0x35ec2,  0x35f1c,  0x35f2e, 0x35ff0, 0x38002, 0x3e9b8, 0x3e9c2, 0x3eb68,
  0x3ec02,  0x3ec1c,  0x3ec4e,  0x3ec60,  0x3ec76,  0x3ecdc,  0x3ece2, 0x3ecf4, 0x3ecfa, 0x3ecfc, 0x3ed02, 0x3ed08,
  0x3ed0e,  0x3ed14,  0x3ed1a,  0x3ef08,  0x3ef4e,  0x3f4f8,  0x3f542, 0x3f640, 0x3f64a, 0x3f720, 0x3f7c2, 0x3f7f8,
  0x3f802,  0x3f85c,  0x3f866,  0x3f868,  0x3f882,  0x3f8b8,  0x3f8c2, 0x3f8d4, 0x3f916, 0x3f91c, 0x3f926, 0x3f94c,
  0x3f952,  0x3f964,  0x3f97e,  0x3f99c,  0x3f9a2,  0x3f9b0,  0x3f9c2, 0x3f9d4, 0x3f9da, 0x3fbf4, 0x3fc06, 0x3fc20,
  0x3fc2a,  0x3fc41,  0x3fc6a,  0x3fcec,  0x3fcf2,  0x3fcf4,  0x3fcfa, 0x3fd6c, 0x3fd72, 0x3fd74, 0x3fd7a, 0x3fd7c,
  0x3fd86,  0x3fd88,  0x3fd92,  0x3fefc,  0x3ff0a,  0x3ff20,  0x3ff2a, 0x3ff40, 0x3ff4a, 0x3ff60, 0x3ff6a, 0x3ff74,
  0x3ff82,  0x3ff9c,  0x3ffa2,  0x3ffbc,  0x3fff2,  0x3fff8,  0x40002, 0x40030, 0x40036, 0x4009c, 0x400a2, 0x400ec,
  0x400f2,  0x400f8,  0x400fe,  0x40138,  0x40142,  0x40178,  0x40202, 0x403ec, 0x40402, 0x4040c, 0x4041e, 0x404d0,
  0x404de,  0x40634,  0x40642,  0x40670,  0x40682,  0x40684,  0x40742, 0x407f8, 0x40a02, 0x40a74, 0x40a82, 0x40b44,
  0x40b82,  0x40bf0,  0x40c02,  0x40c90,  0x40cc2,  0x40d2c,  0x40d42, 0x40dec, 0x40e02, 0x40e78, 0x40e7e, 0x40f10,
  0x40f22,  0x40f58,  0x41002,  0x41278,  0x41281,  0x412a8,  0x41402, 0x414a0, 0x414c2, 0x41590, 0x415be, 0x415c0,
  0x41802,  0x41cdc,  0x41d02,  0x41d58,  0x41d82,  0x41da0,  0x42002, 0x42018, 0x42022, 0x42024, 0x4202a, 0x420d8,
  0x420de,  0x420e4,  0x420f2,  0x420f4,  0x420fe,  0x42158,  0x4215e, 0x4227c, 0x4229e, 0x422c0, 0x42402, 0x42470,
  0x4247e,  0x424e8,  0x424fe,  0x42500,  0x42602,  0x426e0,  0x426fa, 0x42700, 0x42802, 0x42810, 0x42816, 0x4281c,
  0x42832,  0x42850,  0x42856,  0x42860,  0x42866,  0x428d0,  0x428e2, 0x428ec, 0x428fe, 0x42920, 0x42942, 0x42964,
  0x42982,  0x42a80,  0x42b02,  0x42b9c,  0x42bae,  0x42bdc,  0x42c02, 0x42cd8, 0x42ce6, 0x42d58, 0x42d62, 0x42dcc,
  0x42de2,  0x42e48,  0x42e66,  0x42e74,  0x42ea6,  0x42ec0,  0x43002, 0x43124, 0x43982, 0x439fc, 0x44001, 0x44006,
  0x44009,  0x4400e,  0x44138,  0x4414a,  0x44199,  0x441c0,  0x441fe, 0x44209, 0x4420e, 0x442c1, 0x442ce, 0x442dd,
  0x442e6,  0x442f4,  0x442fa,  0x44308,  0x44342,  0x443a4,  0x443c1, 0x443e8, 0x44402, 0x444b1, 0x444b6, 0x444d4,
  0x444d9,  0x44502,  0x44510,  0x44542,  0x445dc,  0x44602,  0x44609, 0x4460e, 0x446cd, 0x446da, 0x446fd, 0x44706,
  0x44724,  0x44736,  0x44738,  0x44741,  0x4476a,  0x4476c,  0x44786, 0x447d4, 0x44802, 0x44848, 0x4484e, 0x448b1,
  0x448be,  0x448c9,  0x448d2,  0x448d5,  0x448da,  0x448f8,  0x44ac2, 0x44b81, 0x44b8e, 0x44bac, 0x44bc1, 0x44be8,
  0x44c06,  0x44c09,  0x44c10,  0x44c16,  0x44c34,  0x44c3e,  0x44c44, 0x44c4e, 0x44ca4, 0x44caa, 0x44cc4, 0x44cca,
  0x44cd0,  0x44cd6,  0x44ce8,  0x44cf2,  0x44cf9,  0x44d02,  0x44d05, 0x44d14, 0x44d1d, 0x44d24, 0x44d2d, 0x44d38,
  0x44d5d,  0x44d60,  0x44d76,  0x44d89,  0x44d90,  0x44d9a,  0x44db4, 0x44dc2, 0x44dd4, 0x45202, 0x452c1, 0x452ce,
  0x452e5,  0x452ea,  0x452ed,  0x452fe,  0x45305,  0x4530a,  0x45320, 0x45341, 0x45368, 0x45602, 0x456bd, 0x456ca,
  0x456d8,  0x456e1,  0x456f2,  0x456f9,  0x456fe,  0x45728,  0x45802, 0x458c1, 0x458ce, 0x458ed, 0x458f6, 0x458f9,
  0x458fe,  0x45914,  0x45941,  0x45968,  0x45a02,  0x45ab1,  0x45ab6, 0x45ab9, 0x45ac2, 0x45ad9, 0x45ade, 0x45ae0,
  0x45b01,  0x45b28,  0x46282,  0x46381,  0x463aa,  0x463cc,  0x463fe, 0x46400, 0x46b02, 0x46be4, 0x48002, 0x48e64,
  0x49002,  0x491bc,  0x491c2,  0x491d4,  0x4c002,  0x4d0bc,  0x5a002, 0x5a8e4, 0x5a902, 0x5a97c, 0x5a981, 0x5a9a8,
  0x5a9ba,  0x5a9c0,  0x5ab42,  0x5abb8,  0x5abc2,  0x5abd8,  0x5ac02, 0x5ad18, 0x5ad41, 0x5ad68, 0x5ad6e, 0x5ad88,
  0x5ad8e,  0x5ade0,  0x5adf6,  0x5ae40,  0x5bc02,  0x5bd14,  0x5bd42, 0x5bd45, 0x5bdfc, 0x5be3e, 0x5be80, 0x6c002,
  0x6c008,  0x6f002,  0x6f1ac,  0x6f1c2,  0x6f1f4,  0x6f202,  0x6f224, 0x6f242, 0x6f268, 0x6f272, 0x6f280, 0x74002,
  0x743d8,  0x74402,  0x7449c,  0x744a6,  0x74595,  0x7459e,  0x745b5, 0x745cc, 0x745ee, 0x74778, 0x74802, 0x74918,
  0x74c02,  0x74d5c,  0x74d82,  0x74dc8,  0x75002,  0x75154,  0x7515a, 0x75274, 0x7527a, 0x75280, 0x7528a, 0x7528c,
  0x75296,  0x7529c,  0x752a6,  0x752b4,  0x752ba,  0x752e8,  0x752ee, 0x752f0, 0x752f6, 0x75310, 0x75316, 0x75418,
  0x7541e,  0x7542c,  0x75436,  0x75454,  0x7545a,  0x75474,  0x7547a, 0x754e8, 0x754ee, 0x754fc, 0x75502, 0x75514,
  0x7551a,  0x7551c,  0x7552a,  0x75544,  0x7554a,  0x75a98,  0x75aa2, 0x75f30, 0x75f39, 0x76000, 0x7a002, 0x7a314,
  0x7a31e,  0x7a35c,  0x7b802,  0x7b810,  0x7b816,  0x7b880,  0x7b886, 0x7b88c, 0x7b892, 0x7b894, 0x7b89e, 0x7b8a0,
  0x7b8a6,  0x7b8cc,  0x7b8d2,  0x7b8e0,  0x7b8e6,  0x7b8e8,  0x7b8ee, 0x7b8f0, 0x7b90a, 0x7b90c, 0x7b91e, 0x7b920,
  0x7b926,  0x7b928,  0x7b92e,  0x7b930,  0x7b936,  0x7b940,  0x7b946, 0x7b94c, 0x7b952, 0x7b954, 0x7b95e, 0x7b960,
  0x7b966,  0x7b968,  0x7b96e,  0x7b970,  0x7b976,  0x7b978,  0x7b97e, 0x7b980, 0x7b986, 0x7b98c, 0x7b992, 0x7b994,
  0x7b99e,  0x7b9ac,  0x7b9b2,  0x7b9cc,  0x7b9d2,  0x7b9e0,  0x7b9e6, 0x7b9f4, 0x7b9fa, 0x7b9fc, 0x7ba02, 0x7ba28,
  0x7ba2e,  0x7ba70,  0x7ba86,  0x7ba90,  0x7ba96,  0x7baa8,  0x7baae, 0x7baf0, 0x7bbc2, 0x7bbc8, 0x7c002, 0x7c0b0,
  0x7c0c2,  0x7c250,  0x7c282,  0x7c2bc,  0x7c2c6,  0x7c300,  0x7c306, 0x7c340, 0x7c346, 0x7c3d8, 0x7c402, 0x7c434,
  0x7c442,  0x7c4bc,  0x7c4c2,  0x7c5b0,  0x7c5c2,  0x7c66c,  0x7c79a, 0x7c80c, 0x7c842, 0x7c8ec, 0x7c902, 0x7c924,
  0x7c942,  0x7c948,  0x7cc02,  0x7ccb4,  0x7ccc2,  0x7cdf8,  0x7ce02, 0x7cf3c, 0x7cf52, 0x7cfe0, 0x7d002, 0x7d3fc,
  0x7d402,  0x7d52c,  0x7d542,  0x7d5e8,  0x7d5ee,  0x7d690,  0x7d696, 0x7d90c, 0x7d916, 0x7db40, 0x7db82, 0x7dbb4,
  0x7dbc2,  0x7dbd0,  0x7dc02,  0x7ddd0,  0x7de02,  0x7df54,  0x7e002, 0x7e030, 0x7e042, 0x7e120, 0x7e142, 0x7e168,
  0x7e182,  0x7e220,  0x7e242,  0x7e2b8,  0x80002,  0xa9b5c,  0xa9c02, 0xadcd4, 0xadd02, 0xae078, 0xbe002, 0xbe878,
  0x380402, 0x3807c0, 0x3c0002, 0x3ffff8, 0x400002, 0x43fff8,
};

/* Class of a code point >= U+0080 (binary search for its range). */
static int pkp_ucclass(uint32_t cp)
{
  size_t lo = 0, hi = sizeof pkp_uc / sizeof pkp_uc[0];
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (pkp_uc[mid] >> 2 <= cp)
      lo = mid;
    else
      hi = mid;
  }
  return (int)(pkp_uc[lo] & 3);
}

/* ASCII letters (the only ones the symbol rules single out). */
static bool pkp_alpha(uint32_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* May c start the symbol s[0..n) unescaped?  Chez escapes a leading + - .
   except in +, -, ->..., and ... , and a leading digit always. */
static bool pkp_symstart(uint32_t c, const char *s, size_t n)
{
  if (c >= 0x80) return pkp_ucclass(c) == 2;
  if (pkp_alpha(c) || (c && strchr("*=<>/!$%&:?^_~", (int)c))) return true;
  if (c == '.') return n == 3 && s[1] == '.' && s[2] == '.';
  if (c == '-') return n == 1 || s[1] == '>';
  return c == '+' && n == 1;
}

/* May c appear unescaped after the first character? */
static bool pkp_symnext(uint32_t c)
{
  if (c >= 0x80) return pkp_ucclass(c) >= 1;
  return pkp_alpha(c) || (c >= '0' && c <= '9') || (c && strchr("-?*!=><$%&/:^_~+.@", (int)c));
}

/* A symbol name as write prints it. */
static void pkp_symbol(pkp_buf *b, const char *s, size_t n)
{
  if (n == 0) {
    pkp_puts(b, "||", 2);
    return;
  }
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    int k = pko_utf8_decode((const unsigned char *)s + i, n - i, &cp);
    if (k == 0) {
      pkp_hexesc(b, (unsigned char)s[i++]);
      continue;
    }
    if (i == 0 ? pkp_symstart(cp, s, n) : pkp_symnext(cp))
      pkp_puts(b, s + i, (size_t)k);
    else
      pkp_hexesc(b, cp);
    i += (size_t)k;
  }
}

/* ---- atoms ------------------------------------------------------------------ */

/* A 64-bit integer in decimal (pk_num's digits, as number->string). */
static void pkp_int(pkp_buf *b, int64_t i)
{
  char s[72];
  pkp_puts(b, s, pkn_int_text(s, i, 10));
}

const char *(*pkp_procname)(pk_val f);

/* #<procedure name> when the primitive or the language knows a name. */
static void pkp_procedure(pkp_buf *b, pk_val v)
{
  pko_type t = pko_typeof(v);
  const char *name = t == PK_T_PRIM                      ? ((const pko_prim *)v)->name
                     : t == PK_T_CLOSURE && pkp_procname ? pkp_procname(v)
                                                         : NULL;
  if (name)
    pkp_printf(b, "#<procedure %s>", name);
  else
    pkp_cstr(b, "#<procedure>");
}

/* One tensor element as write prints the number; in JSON without Chez's
   subnormal suffix, and a non-finite one as {"float":"nan"|"inf"|"-inf"}
   (SPEC §6). */
static void pkp_elem(pkp_buf *b, const pko_tensor *t, uint64_t k, bool json)
{
  char fl[40];
  if (t->h.aux == PKO_TENSOR_I64) {
    pkp_int(b, pko_tensor_i64(t)[k]);
    return;
  }
  double d = pko_tensor_f64(t)[k];
  if (json && !isfinite(d)) {
    pkp_cstr(b, isnan(d) ? "{\"float\":\"nan\"}" : d > 0 ? "{\"float\":\"inf\"}" : "{\"float\":\"-inf\"}");
    return;
  }
  pkp_flonum(fl, d);
  if (json) fl[strcspn(fl, "|")] = 0;
  pkp_cstr(b, fl);
}

/* #[[1.0 2.0] [3.0 4.0]]: rows nested by dimension (row-major), or with
   json the object {"tensor":{"shape":[2,2],"data":[1.0,2.0,3.0,4.0]}}.
   Iterative: one counter per dimension. */
static void pkp_tensor(pkp_buf *b, pk_val v, bool json)
{
  const pko_tensor *t = pko_as_tensor(v);
  if (json) {
    pkp_cstr(b, "{\"tensor\":{\"shape\":[");
    for (uint32_t d = 0; d < t->rank; d++) {
      if (d) pkp_putc(b, ',');
      pkp_int(b, t->dims[d]);
    }
    pkp_cstr(b, "],\"data\":[");
    for (uint64_t k = 0; k < t->count; k++) {
      if (k) pkp_putc(b, ',');
      pkp_elem(b, t, k, true);
    }
    pkp_cstr(b, "]}}");
    return;
  }
  int64_t local[16], *idx = t->rank <= 16 ? local : malloc(t->rank * sizeof *idx);
  if (!idx) abort();
  uint64_t k = 0;
  uint32_t d = 0;
  pkp_cstr(b, "#[");
  idx[0] = 0;
  for (;;) {
    if (idx[d] == t->dims[d]) { /* this row is done */
      pkp_putc(b, ']');
      if (d == 0) break;
      idx[--d]++;
      continue;
    }
    if (idx[d] > 0) pkp_putc(b, ' ');
    if (d + 1 == t->rank) {
      pkp_elem(b, t, k++, false);
      idx[d]++;
    } else {
      pkp_putc(b, '[');
      idx[++d] = 0;
    }
  }
  if (idx != local) free(idx);
}

/* Immediates other than numbers and characters. */
static void pkp_imm(pkp_buf *b, pk_val v)
{
  const char *s = v == PK_NIL       ? "()"
                  : v == PK_TRUE    ? "#t"
                  : v == PK_FALSE   ? "#f"
                  : v == PK_VOID    ? "#<void>"
                  : v == PK_EOF     ? "#!eof"
                  : v == PK_UNBOUND ? "#<unbound object>"
                  : v == PK_DEFAULT ? "#<default>"
                                    : "#<garbage>";
  pkp_cstr(b, s);
}

/* Any value that is not a pair or a vector. */
static void pkp_atom(pkp_buf *b, pk_val v, int mode)
{
  char fl[40];
  if (pko_fixnump(v)) {
    pkp_int(b, pko_fixval(v));
  } else if (pko_varp(v)) {
    pkp_printf(b, "_.%llu", (unsigned long long)pko_varid(v));
  } else if (pko_charp(v)) {
    if (mode == PKP_DISPLAY)
      pkp_putcp(b, pko_charval(v));
    else
      pkp_char(b, pko_charval(v));
  } else if ((v & PK_TAG_MASK) == PK_TAG_IMM) {
    pkp_imm(b, v);
  } else if (!pko_objp(v)) {
    pkp_cstr(b, "#<garbage>");
  } else if (pko_symbolp(v)) {
    if (mode == PKP_DISPLAY)
      pkp_puts(b, pko_symname(v), pko_as_sym(v)->len);
    else
      pkp_symbol(b, pko_symname(v), pko_as_sym(v)->len);
  } else if (pko_stringp(v)) {
    if (mode == PKP_DISPLAY)
      pkp_puts(b, pko_as_str(v)->s, pko_as_str(v)->len);
    else
      pkp_string(b, pko_as_str(v)->s, pko_as_str(v)->len);
  } else if (pko_isa(v, PK_T_FLONUM)) {
    pkp_flonum(fl, pko_flo(v));
    pkp_cstr(b, fl);
  } else if (pko_isa(v, PK_T_INT)) {
    pkp_int(b, ((pko_int *)v)->i);
  } else if (pko_isa(v, PK_T_RATIO)) {
    pkp_int(b, pko_as_ratio(v)->num);
    pkp_putc(b, '/');
    pkp_int(b, pko_as_ratio(v)->den);
  } else if (pko_isa(v, PK_T_TENSOR)) {
    pkp_tensor(b, v, false);
  } else {
    pkp_procedure(b, v);
  }
}

/* ---- the work stack --------------------------------------------------------- */

enum { PKP_JSON = 3 }; /* internal mode next to the public ones */
enum { PKP_OP_VAL, PKP_OP_LIST, PKP_OP_VEC, PKP_OP_CLOSE, PKP_OP_JREST, PKP_OP_JEND, PKP_OP_JCONS };

typedef struct pkp_item {
  pk_val v;
  uint32_t i;
  uint32_t op;
} pkp_item;

/* Small terms use the array in the frame; deeper ones move to collected
   memory, which the collector scans, so the values stay alive. */
typedef struct pkp_stack {
  pkp_item *it;
  size_t n, cap;
  pkp_item local[64];
} pkp_stack;

/* Queue work; doubling into collected memory past the local array. */
static void pkp_push(pkp_stack *st, uint32_t op, pk_val v, uint32_t i)
{
  if (st->n == st->cap) {
    pkp_item *it = GC_MALLOC(st->cap * 2 * sizeof *it);
    if (!it) pko_oom();
    memcpy(it, st->it, st->n * sizeof *it);
    st->it = it;
    st->cap *= 2;
  }
  st->it[st->n++] = (pkp_item){ v, i, op };
}

/* Prefix display uses for (quote x) and friends, or NULL.  Only interned
   symbols count: a renamed (gensym) quote is not quote. */
static const char *pkp_abbrev(pk_val v)
{
  static const char *names[] = {
    "quote",  "'",  "quasiquote",  "`",  "unquote",  ",",  "unquote-splicing",  ",@",
    "syntax", "#'", "quasisyntax", "#`", "unsyntax", "#,", "unsyntax-splicing", "#,@",
  };
  pk_val d = pko_cdr(v), h = pko_car(v);
  if (!pko_pairp(d) || pko_cdr(d) != PK_NIL || !pko_symbolp(h)) return NULL;
  if (pko_as_sym(h)->flags & PKO_SYM_GENSYM) return NULL;
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k += 2)
    if (strcmp(pko_symname(h), names[k]) == 0) return names[k + 1];
  return NULL;
}

static void pkp_jstring(pkp_buf *b, const char *s, size_t n);

/* True if the spine of v ends in (); a cyclic spine is not proper
   (Floyd's two pointers).  Cost: the length of the spine. */
static bool pkp_proper(pk_val v)
{
  pk_val slow = v;
  for (;;) {
    if (!pko_pairp(v)) return v == PK_NIL;
    v = pko_cdr(v);
    if (!pko_pairp(v)) return v == PK_NIL;
    v = pko_cdr(v);
    slow = pko_cdr(slow);
    if (v == slow) return false;
  }
}

/* Start a pair in JSON (SPEC §6): an answer with constraints as
   {"answer":TERM,"constraints":{...}}, a proper list as an array, an
   improper one as nested {"pair":[car,cdr]}. */
static void pkp_jpair(pkp_buf *b, pkp_stack *st, pk_val v)
{
  if (pko_answer_pairp(v)) {
    pkp_cstr(b, "{\"answer\":");
    pkp_push(st, PKP_OP_JCONS, pko_cdr(v), 0);
  } else if (pkp_proper(v)) {
    pkp_putc(b, '[');
    pkp_push(st, PKP_OP_LIST, pko_cdr(v), 0);
  } else {
    pkp_cstr(b, "{\"pair\":[");
    pkp_push(st, PKP_OP_JREST, pko_cdr(v), 1);
  }
  pkp_push(st, PKP_OP_VAL, pko_car(v), 0);
}

/* Continue an improper list at its cdr v, inside depth {"pair":[ ... */
static void pkp_jrest(pkp_buf *b, pkp_stack *st, pk_val v, uint32_t depth)
{
  pkp_putc(b, ',');
  if (pko_pairp(v) && !pko_answer_pairp(v) && depth < UINT32_MAX) {
    pkp_cstr(b, "{\"pair\":[");
    pkp_push(st, PKP_OP_JREST, pko_cdr(v), depth + 1);
    pkp_push(st, PKP_OP_VAL, pko_car(v), 0);
    return;
  }
  pkp_push(st, PKP_OP_JEND, 0, depth);
  pkp_push(st, PKP_OP_VAL, v, 0);
}

/* The constraints of an answer, from entry i: "=/=":[...], "sym":[...],
   ... each key the head symbol of an entry, its value the entry's rest. */
static void pkp_jcons(pkp_buf *b, pkp_stack *st, pk_val v, uint32_t i)
{
  if (i == 0) pkp_cstr(b, ",\"constraints\":{");
  if (!pko_pairp(v)) {
    pkp_cstr(b, "}}");
    return;
  }
  pk_val e = pko_car(v);
  if (i > 0) pkp_putc(b, ',');
  pkp_buf name;
  pkp_init(&name);
  pkp_print(&name, pko_pairp(e) ? pko_car(e) : e, PKP_DISPLAY);
  pkp_jstring(b, name.s ? name.s : "", name.len);
  pkp_free(&name);
  pkp_putc(b, ':');
  pkp_push(st, PKP_OP_JCONS, pko_cdr(v), i + 1);
  pkp_push(st, PKP_OP_VAL, pko_pairp(e) ? pko_cdr(e) : PK_NIL, 0);
}

/* Start a pair: its car now, the rest of the list later. */
static void pkp_pair(pkp_buf *b, pkp_stack *st, pk_val v, int mode)
{
  if (mode == PKP_JSON) {
    pkp_jpair(b, st, v);
    return;
  }
  const char *pre = mode == PKP_DISPLAY || mode == PKP_WRITEQ ? pkp_abbrev(v) : NULL;
  if (pre) {
    pkp_cstr(b, pre);
    pkp_push(st, PKP_OP_VAL, pko_car(pko_cdr(v)), 0);
    return;
  }
  pkp_putc(b, '(');
  pkp_push(st, PKP_OP_LIST, pko_cdr(v), 0);
  pkp_push(st, PKP_OP_VAL, pko_car(v), 0);
}

/* Continue a list at its cdr v: another item, the end, or a dotted tail
   (never in JSON, which starts improper lists with pkp_jpair). */
static void pkp_rest(pkp_buf *b, pkp_stack *st, pk_val v, int mode)
{
  bool json = mode == PKP_JSON;
  if (pko_pairp(v)) {
    pkp_putc(b, json ? ',' : ' ');
    pkp_push(st, PKP_OP_LIST, pko_cdr(v), 0);
    pkp_push(st, PKP_OP_VAL, pko_car(v), 0);
  } else if (v == PK_NIL) {
    pkp_putc(b, json ? ']' : ')');
  } else {
    pkp_cstr(b, json ? ",\".\"," : " . ");
    pkp_push(st, PKP_OP_CLOSE, 0, json ? ']' : ')');
    pkp_push(st, PKP_OP_VAL, v, 0);
  }
}

/* The vectors of one print: seen holds each vector met (data: PKP_OPEN
   while its items print, PKP_SHUT after, PKP_LABEL when a cycle goes
   through it, the label number << 3 once written); labels is the next
   label number.  Only vectors can close a cycle (pairs are immutable). */
enum { PKP_OPEN = 1, PKP_SHUT = 2, PKP_LABEL = 4 };
typedef struct pkp_cycles {
  pko_seen seen;
  uintptr_t labels;
  bool found;    /* a cycle met in the first, label-free pass */
  bool labelled; /* the second pass: seen marks the vectors that get labels */
} pkp_cycles;

/* Start vector v: false when it must not be opened (the first pass met a
   cycle and stops; the second wrote a #N# reference instead). */
static bool pkp_vec_open(pkp_buf *b, pkp_cycles *cy, pk_val v, bool json)
{
  bool added;
  uintptr_t *d = pko_seen_get(&cy->seen, (uintptr_t)v, 0, &added);
  if (!cy->labelled) {
    if (*d == PKP_OPEN) return !(cy->found = true);
    *d = PKP_OPEN;
    return true;
  }
  if (!(*d & PKP_LABEL)) return true;
  if (*d >> 3) {
    pkp_printf(b, json ? "\"#%zu#\"" : "#%zu#", (size_t)(*d >> 3) - 1);
    return false;
  }
  *d |= ++cy->labels << 3;
  if (!json) pkp_printf(b, "#%zu=", (size_t)cy->labels - 1);
  return true;
}

/* Continue vector v at index i. */
static void pkp_vec(pkp_buf *b, pkp_stack *st, pkp_cycles *cy, pk_val v, uint32_t i, int mode)
{
  bool json = mode == PKP_JSON;
  if (i == 0) {
    if (!pkp_vec_open(b, cy, v, json)) return;
    pkp_cstr(b, json ? "{\"vector\":[" : "#(");
  }
  if (i >= pko_as_vec(v)->len) {
    pkp_cstr(b, json ? "]}" : ")");
    if (!cy->labelled) {
      bool added;
      *pko_seen_get(&cy->seen, (uintptr_t)v, 0, &added) = PKP_SHUT;
    }
    return;
  }
  if (i > 0) pkp_putc(b, json ? ',' : ' ');
  pkp_push(st, PKP_OP_VEC, v, i + 1);
  pkp_push(st, PKP_OP_VAL, pko_as_vec(v)->items[i], 0);
}

/* Mark in cy->seen the vectors of v that a cycle returns to, in the order
   the printer meets them (depth first, cars before cdrs): the first vector
   of each cycle that the printer opens gets the label. */
static void pkp_find_cycles(pkp_cycles *cy, pk_val v)
{
  pkp_stack st;
  st.it = st.local;
  st.n = 0;
  st.cap = sizeof st.local / sizeof st.local[0];
  pkp_push(&st, PKP_OP_VAL, v, 0);
  while (st.n > 0) {
    pkp_item it = st.it[--st.n];
    if (pko_pairp(it.v)) {
      pkp_push(&st, PKP_OP_VAL, pko_cdr(it.v), 0);
      pkp_push(&st, PKP_OP_VAL, pko_car(it.v), 0);
      continue;
    }
    if (!pko_isa(it.v, PK_T_VECTOR)) continue;
    bool added;
    uintptr_t *d = pko_seen_get(&cy->seen, (uintptr_t)it.v, 0, &added);
    if (it.op == PKP_OP_VAL) {
      if (!added) {
        if (*d & PKP_OPEN) *d |= PKP_LABEL;
        continue;
      }
      *d = PKP_OPEN;
    }
    const pko_vector *x = pko_as_vec(it.v);
    if (it.i >= x->len) {
      *d = (*d & PKP_LABEL) | PKP_SHUT;
      continue;
    }
    pkp_push(&st, PKP_OP_VEC, it.v, it.i + 1);
    pkp_push(&st, PKP_OP_VAL, x->items[it.i], 0);
  }
}

/* ---- JSON ------------------------------------------------------------------- */

/* Bytes as a JSON string; bytes that are not UTF-8 become \u00XX. */
static void pkp_jstring(pkp_buf *b, const char *s, size_t n)
{
  static const char from[] = "\b\f\n\r\t", to[] = "bfnrt";
  pkp_putc(b, '"');
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    uint32_t cp;
    int k = pko_utf8_decode((const unsigned char *)s + i, n - i, &cp);
    const char *esc = c > 0 && c < 0x20 ? strchr(from, c) : NULL;
    if (c == '"' || c == '\\') {
      pkp_putc(b, '\\');
      pkp_putc(b, (char)c);
    } else if (esc) {
      pkp_putc(b, '\\');
      pkp_putc(b, to[esc - from]);
    } else if (c < 0x20 || k == 0) {
      pkp_printf(b, "\\u%04x", c);
    } else {
      pkp_puts(b, s + i, (size_t)k);
      i += (size_t)k;
      continue;
    }
    i++;
  }
  pkp_putc(b, '"');
}

/* The N of a reified variable's symbol _.N, or -1. */
static long long pkp_reified(pk_val sym)
{
  const char *n = pko_symname(sym);
  if (n[0] != '_' || n[1] != '.' || n[2] < '0' || n[2] > '9' || (n[2] == '0' && n[3])) return -1;
  char *end;
  long long k = strtoll(n + 2, &end, 10);
  return *end ? -1 : k;
}

/* A JSON scalar (SPEC §6): numbers (a float always with . or an exponent;
   {"float":"nan"|"inf"|"-inf"}), booleans, strings, {"sym":"a"},
   {"var":N} for a logic variable or a reified _.N, {"char":"c"}, {"ratio":[n,d]}, a tensor,
   and anything else (procedures, void) as {"other":"#<procedure f>"}. */
static void pkp_jatom(pkp_buf *b, pk_val v)
{
  char fl[48];
  if (v == PK_TRUE || v == PK_FALSE) {
    pkp_cstr(b, v == PK_TRUE ? "true" : "false");
  } else if (v == PK_NIL) {
    pkp_cstr(b, "[]");
  } else if (pko_fixnump(v) || pko_isa(v, PK_T_INT)) {
    pkp_atom(b, v, PKP_WRITE);
  } else if (pko_isa(v, PK_T_FLONUM)) {
    double d = pko_flo(v);
    if (!isfinite(d)) {
      pkp_cstr(b, isnan(d) ? "{\"float\":\"nan\"}" : d > 0 ? "{\"float\":\"inf\"}" : "{\"float\":\"-inf\"}");
      return;
    }
    pkp_flonum(fl, d);
    fl[strcspn(fl, "|")] = 0;
    pkp_cstr(b, fl);
  } else if (pko_varp(v)) {
    pkp_printf(b, "{\"var\":%llu}", (unsigned long long)pko_varid(v));
  } else if (pko_symbolp(v) && pkp_reified(v) >= 0) {
    pkp_printf(b, "{\"var\":%lld}", pkp_reified(v));
  } else if (pko_symbolp(v)) {
    pkp_cstr(b, "{\"sym\":");
    pkp_jstring(b, pko_symname(v), pko_as_sym(v)->len);
    pkp_putc(b, '}');
  } else if (pko_stringp(v)) {
    pkp_jstring(b, pko_as_str(v)->s, pko_as_str(v)->len);
  } else if (pko_charp(v)) {
    pkp_buf t;
    pkp_init(&t);
    pkp_putcp(&t, pko_charval(v));
    pkp_cstr(b, "{\"char\":");
    pkp_jstring(b, t.s, t.len);
    pkp_putc(b, '}');
    pkp_free(&t);
  } else if (pko_isa(v, PK_T_RATIO)) {
    pkp_printf(b, "{\"ratio\":[%lld,%lld]}", (long long)pko_as_ratio(v)->num, (long long)pko_as_ratio(v)->den);
  } else if (pko_isa(v, PK_T_TENSOR)) {
    pkp_tensor(b, v, true);
  } else {
    pkp_buf t;
    pkp_init(&t);
    pkp_atom(&t, v, PKP_WRITE);
    pkp_cstr(b, "{\"other\":");
    pkp_jstring(b, t.s, t.len);
    pkp_putc(b, '}');
    pkp_free(&t);
  }
}

/* ---- entry points ----------------------------------------------------------- */

/* One pass of the printing loop; false when the label-free pass met a
   cycle and stopped. */
static bool pkp_pass(pkp_buf *b, pkp_cycles *cy, pk_val v, int mode)
{
  pkp_stack st;
  st.it = st.local;
  st.n = 0;
  st.cap = sizeof st.local / sizeof st.local[0];
  pkp_push(&st, PKP_OP_VAL, v, 0);
  while (st.n > 0 && !cy->found) {
    pkp_item it = st.it[--st.n];
    if (it.op == PKP_OP_LIST)
      pkp_rest(b, &st, it.v, mode);
    else if (it.op == PKP_OP_VEC)
      pkp_vec(b, &st, cy, it.v, it.i, mode);
    else if (it.op == PKP_OP_CLOSE)
      pkp_putc(b, (char)it.i);
    else if (it.op == PKP_OP_JREST)
      pkp_jrest(b, &st, it.v, it.i);
    else if (it.op == PKP_OP_JCONS)
      pkp_jcons(b, &st, it.v, it.i);
    else if (it.op == PKP_OP_JEND)
      for (uint32_t k = 0; k < it.i; k++) pkp_cstr(b, "]}");
    else if (pko_pairp(it.v))
      pkp_pair(b, &st, it.v, mode);
    else if (pko_isa(it.v, PK_T_VECTOR))
      pkp_vec(b, &st, cy, it.v, 0, mode);
    else if (mode == PKP_JSON)
      pkp_jatom(b, it.v);
    else
      pkp_atom(b, it.v, mode);
  }
  return !cy->found;
}

/* The one printing loop behind write, display and JSON.  Terms without
   cyclic vectors print in one pass (the seen table only counts vectors);
   a cycle restarts the print after a pass that finds where labels go. */
static void pkp_run(pkp_buf *b, pk_val v, int mode)
{
  size_t start = b->len;
  pkp_cycles cy = { 0 };
  if (!pkp_pass(b, &cy, v, mode)) {
    b->len = start;
    if (b->s) b->s[start] = 0;
    pko_seen_free(&cy.seen);
    pkp_find_cycles(&cy, v);
    cy.found = false;
    cy.labelled = true;
    pkp_pass(b, &cy, v, mode);
  }
  pko_seen_free(&cy.seen);
}

/* v as write or display prints it (void as #<void>, as Chez writes it;
   the REPL itself skips void results). */
void pkp_print(pkp_buf *b, pk_val v, int mode)
{
  pkp_run(b, v, mode == PKP_DISPLAY || mode == PKP_WRITEQ ? mode : PKP_WRITE);
}

/* JSON shares the write loop; only atoms and brackets differ. */
void pkp_json(pkp_buf *b, pk_val v) { pkp_run(b, v, PKP_JSON); }

/* Always a malloc'd string, even when v prints as nothing. */
char *pkp_tostring(pk_val v, int mode)
{
  pkp_buf b;
  pkp_init(&b);
  pkp_print(&b, v, mode);
  if (!b.s) {
    b.s = pko_xmalloc(1);
    b.s[0] = 0;
  }
  return b.s;
}
