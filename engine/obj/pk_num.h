/*
** pk_num.h — numbers: the one parser (reader and string->number), exact
** text in a radix, and the generic arithmetic and comparison of the tower
** fixnum / boxed int64 / ratio of int64 / flonum.
**
** Behaviour follows Chez Scheme 9.5 (SPEC §2): numeric contagion (an exact
** 0 is absorbing for * and neutral for + and -), exact results where Chez
** gives them.  There are no bignums and no complex numbers: an exact
** result outside int64 (an integer, or a ratio's part) and a complex result
** are runtime errors "who: ..." naming the operands, never a wrong value.
** Every function here is pure and thread-safe; errors are thrown with
** pko_error at pko_where.
*/
#ifndef PK_NUM_H
#define PK_NUM_H
#include "pk_obj.h"

/* A number unpacked: an exact rational i/den (den is 1 for an integer and
   > 1, coprime with i, for a ratio) or a flonum d. */
typedef struct pkn_num {
  bool flo;
  int64_t i, den;
  double d;
} pkn_num;

/* Unpack a number or throw "who: not a number: v". */
pkn_num pkn_of(const char *who, pk_val v);
/* The value as the nearest double (exact ratios rounded once, as Chez's
   inexact). */
double pkn_dbl(pkn_num n);

/* ---- arithmetic ---------------------------------------------------------
** Fixnum fast path inline in the callee (a test and an add), then the tower.
** Results outside int64 throw "who: fixnum overflow with a and b". */
pk_val pkn_add(pk_val a, pk_val b);
pk_val pkn_sub(pk_val a, pk_val b);
pk_val pkn_mul(pk_val a, pk_val b);
pk_val pkn_div(pk_val a, pk_val b); /* "/: undefined for 0" on an exact 0 divisor */

/* Three-way compare, exact between exact and inexact (1/3 is not (inexact
   1/3)): -1, 0, 1, or 2 when unordered (a NaN), which must count as false
   for every relation.  who names the caller in "not a number" errors. */
int pkn_cmp(const char *who, pk_val a, pk_val b);

/* Chained relations over argv: every argument is checked, then each
   adjacent pair. */
enum { PKN_EQ, PKN_LT, PKN_GT, PKN_LE, PKN_GE };
bool pkn_compare(const char *who, int rel, int argc, const pk_val *argv);
/* max/min (argc >= 1): a NaN wins, ties keep the later argument, any
   inexact argument makes the result inexact. */
pk_val pkn_extremum(const char *who, bool want_max, int argc, const pk_val *argv);

pk_val pkn_abs(pk_val v);
/* quotient, remainder, modulo on integers, exact or integral flonums. */
enum { PKN_QUO, PKN_REM, PKN_MOD };
pk_val pkn_intdiv(const char *who, int kind, pk_val a, pk_val b);
/* gcd/lcm of argc integers; an integral flonum makes the result a flonum. */
pk_val pkn_gcd(int argc, const pk_val *argv);
pk_val pkn_lcm(int argc, const pk_val *argv);
/* odd? of an integer (exact or integral flonum). */
bool pkn_odd(const char *who, pk_val v);
bool pkn_integerp(pk_val v);
bool pkn_rationalp(pk_val v);

/* exact->inexact and inexact->exact (a flonum as the rational it denotes). */
pk_val pkn_to_inexact(const char *who, pk_val v);
pk_val pkn_to_exact(const char *who, pk_val v);
/* numerator (want_num) or denominator; of a flonum, as flonums. */
pk_val pkn_parts(const char *who, bool want_num, pk_val v);
/* floor, ceiling, round (ties to even), truncate. */
enum { PKN_FLOOR, PKN_CEILING, PKN_ROUND, PKN_TRUNCATE };
pk_val pkn_round(const char *who, int kind, pk_val v);

/* Transcendental functions with Chez's exact special cases. */
pk_val pkn_sqrt(pk_val v);
pk_val pkn_expt(pk_val x, pk_val y);
pk_val pkn_exp(pk_val v);
pk_val pkn_log(pk_val v);
/* fn(v) for a real function defined on [lo, hi] with f(exact at) = exact
   val; outside the domain, "who: complex result". */
pk_val pkn_real_fn(const char *who, double (*fn)(double), pk_val v, int64_t at, int64_t val, double lo, double hi);
pk_val pkn_atan2(pk_val y, pk_val x);

/* ---- text ------------------------------------------------------------------ */

/* A well-formed decimal s[0..n) (digits, a point, an exponent marker e s
   f d l) as the nearest double, in the C locale whatever the process's;
   Clinger's fast path when it applies (about 20 instructions), else
   strtod_l. */
double pkn_decimal(const char *s, size_t n);
/* Digits of an exact integer in radix 2..36, upper-case letters (Chez);
   buf holds at least 66 bytes.  Returns the length. */
size_t pkn_int_text(char *buf, int64_t v, int radix);
/* An exact number's text, NUM or NUM/DEN; buf holds at least 140 bytes. */
void pkn_exact_text(char *buf, pkn_num n, int radix);

/* pkn_parse results: a value, or why the text is not one. */
enum {
  PKN_PARSE_OK = 0,
  PKN_PARSE_NONE = -1,    /* not number syntax (a symbol to the reader) */
  PKN_PARSE_BIG = -2,     /* an exact part beyond int64 (no bignums) */
  PKN_PARSE_ZERODEN = -3, /* an exact n/0 */
  PKN_PARSE_NOEXACT = -4  /* #e+inf.0, #e+nan.0 */
};
/* Scheme number syntax s[0..n) in radix (2, 8, 10, 16; prefixes #x #b #o
   #d #e #i override it): integers, n/d in lowest terms, decimals with an
   exponent marker (e s f d l) in radix 10, +inf.0, -inf.0, +nan.0, -nan.0.
   Sets *out on PKN_PARSE_OK.  Allocates only the result; throws only when
   out of memory. */
int pkn_parse(const char *s, size_t n, int radix, pk_val *out);

#endif
