/*
** pk_num.c — numbers: parsing, exact text, and the generic arithmetic and
** comparison of the tower fixnum / boxed int64 / ratio / flonum.
**
** Exact numbers are int64 integers and ratios of them (PK_T_RATIO, always
** normalised); where Chez needs a type we do not have (bignums, complex
** numbers) the operation throws a runtime error instead of returning a
** wrong value.  Intermediates of exact ratio arithmetic are 128-bit, so
** only a result that does not fit is an overflow.
*/
#include "pk_num.h"
#include "pk_print.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== errors =============================================================== */

/* "who: what: v" — the common shape of a type error. */
static _Noreturn void pkn_bad(const char *who, const char *what, pk_val v)
{
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", who, what);
  pko_error_val(msg, v);
}

/* An error naming two values, e.g. the operands of an overflow; fmt has
   two %s for their written forms, cut to a readable length. */
static _Noreturn void pkn_bad2(const char *who, const char *fmt, pk_val a, pk_val b)
{
  char *sa = pkp_tostring(a, PKP_WRITE), *sb = pkp_tostring(b, PKP_WRITE), msg[1024];
  if (strlen(sa) > 300) strcpy(sa + 297, "...");
  if (strlen(sb) > 300) strcpy(sb + 297, "...");
  snprintf(msg, sizeof msg, fmt, sa, sb);
  free(sa);
  free(sb);
  pko_error("%s: %s", who, msg);
}

/* ==== representation ======================================================= */

typedef __int128 pkn_i128;
typedef unsigned __int128 pkn_u128;

/* Unpack a number or throw "who: not a number".  A few loads. */
pkn_num pkn_of(const char *who, pk_val v)
{
  pkn_num n = { false, 0, 1, 0.0 };
  if (pko_fixnump(v)) {
    n.i = pko_fixval(v);
    return n;
  }
  switch (pko_typeof(v)) {
  case PK_T_INT: n.i = ((pko_int *)v)->i; break;
  case PK_T_RATIO:
    n.i = pko_as_ratio(v)->num;
    n.den = pko_as_ratio(v)->den;
    break;
  case PK_T_FLONUM:
    n.flo = true;
    n.d = pko_flo(v);
    break;
  default: pkn_bad(who, "not a number", v);
  }
  return n;
}

/* Exact integer (not a ratio, not a flonum). */
static bool pkn_exint(pkn_num n) { return !n.flo && n.den == 1; }

/* The double nearest to n/d (d > 1), ties to even, as Chez's inexact:
   the quotient is taken to 55 or 56 bits with a sticky remainder in 128-bit
   arithmetic and rounded once.  |n/d| >= 2^-63, so no subnormals. */
static __attribute__((noinline, cold)) double pkn_q2d(int64_t n, int64_t d)
{
  uint64_t un = n < 0 ? -(uint64_t)n : (uint64_t)n, ud = (uint64_t)d;
  if (un == 0) return 0.0;
  int ln = 64 - __builtin_clzll(un), ld = 64 - __builtin_clzll(ud);
  int k = 55 + ld - ln; /* un * 2^k / ud lies in [2^54, 2^56) */
  pkn_u128 N = un, D = ud;
  if (k >= 0)
    N <<= k;
  else
    D <<= -k;
  uint64_t q = (uint64_t)(N / D);
  bool sticky = N % D != 0;
  int drop = (64 - __builtin_clzll(q)) - 53;
  uint64_t mant = q >> drop, rest = q & ((UINT64_C(1) << drop) - 1), half = UINT64_C(1) << (drop - 1);
  if (rest > half || (rest == half && (sticky || (mant & 1)))) mant++;
  double r = ldexp((double)mant, drop - k);
  return n < 0 ? -r : r;
}

/* The value as a double (contagion: Chez converts the exact operand with
   inexact, then operates on flonums) and the exact-zero test Chez's
   contagion rules hinge on. */
double pkn_dbl(pkn_num n) { return n.flo ? n.d : n.den == 1 ? (double)n.i : pkn_q2d(n.i, n.den); }

/* An exact 0: absorbing for *, neutral for + and - (Chez's contagion). */
static bool pkn_zero_exact(pkn_num n) { return !n.flo && n.i == 0; }

/* No bignums (SPEC §2): an exact result outside int64 (an integer, or a
   ratio's numerator or denominator) is a runtime error. */
static _Noreturn void pkn_overflow(const char *who, int64_t a, int64_t b)
{
  pko_error("%s: fixnum overflow with %" PRId64 " and %" PRId64 " (no bignums)", who, a, b);
}

/* The same error naming the operands as written (ratios included). */
static _Noreturn void pkn_overflow_v(const char *who, pk_val a, pk_val b)
{
  pkn_bad2(who, "fixnum overflow with %s and %s (no bignums)", a, b);
}

/* Integral value (exact integer, or finite flonum with no fraction). */
static pkn_num pkn_integer_of(const char *who, pk_val v)
{
  pkn_num n = pkn_of(who, v);
  if (n.flo ? !(isfinite(n.d) && n.d == trunc(n.d)) : n.den != 1) pkn_bad(who, "not an integer", v);
  return n;
}

/* A finite non-integral double as m / 2^s in lowest terms: |m| < 2^53 odd,
   s >= 1 (s may exceed 63). */
static void pkn_dyadic(double d, int64_t *m, int *s)
{
  int e;
  double f = frexp(d, &e);            /* d = f * 2^e, 0.5 <= |f| < 1 */
  int64_t mm = (int64_t)ldexp(f, 53); /* exact: d = mm / 2^(53 - e) */
  int tz = __builtin_ctzll((uint64_t)mm);
  *m = mm / ((int64_t)1 << tz);
  *s = 53 - e - tz;
}

/* A flonum as the exact rational it denotes; int64 parts or the overflow
   error (Chez would make a bignum). */
static pk_val pkn_flo_to_exact(const char *who, pk_val v, double d)
{
  if (!isfinite(d)) pkn_bad(who, "no exact representation for", v);
  if (d == trunc(d)) {
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
      pkn_bad(who, "fixnum overflow (no bignums) converting", v);
    return pko_mkint((int64_t)d);
  }
  int64_t m;
  int s;
  pkn_dyadic(d, &m, &s);
  if (s > 62) pkn_bad(who, "fixnum overflow (no bignums) converting", v);
  return pko_mkratio(m, (int64_t)1 << s);
}

/* gcd of magnitudes, 128-bit (64-bit once both fit). */
static pkn_u128 pkn_gcd128(pkn_u128 x, pkn_u128 y)
{
  while (y && (x >> 64 || y >> 64)) {
    pkn_u128 t = x % y;
    x = y;
    y = t;
  }
  if (!y) return x; /* the gcd itself may exceed 64 bits */
  uint64_t a = (uint64_t)x, b = (uint64_t)y;
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* num/den (den != 0, both below 2^127 in magnitude) in lowest terms; the
   overflow error names a and b when a part does not fit int64. */
static pk_val pkn_mkq128(const char *who, pkn_i128 num, pkn_i128 den, pk_val a, pk_val b)
{
  if (den < 0) {
    num = -num;
    den = -den;
  }
  pkn_u128 g = pkn_gcd128(num < 0 ? -(pkn_u128)num : (pkn_u128)num, (pkn_u128)den);
  num /= (pkn_i128)g;
  den /= (pkn_i128)g;
  if (num < INT64_MIN || num > INT64_MAX || den > INT64_MAX) pkn_overflow_v(who, a, b);
  return pko_mkratio((int64_t)num, (int64_t)den);
}

/* ==== arithmetic ================================================= */

/* Exact x op y (rationals; at least one a ratio, or a division).  Every
   intermediate is below 2^127 in magnitude, so only a result whose
   normalised parts do not fit int64 is an overflow. */
static __attribute__((noinline, cold)) pk_val pkn_exact_arith(const char *who, char op, pkn_num x, pkn_num y, pk_val a,
                                                              pk_val b)
{
  pkn_i128 n, d;
  switch (op) {
  case '+':
  case '-': {
    int64_t g = (int64_t)pkn_gcd128((pkn_u128)x.den, (pkn_u128)y.den);
    pkn_i128 xs = (pkn_i128)x.i * (y.den / g), ys = (pkn_i128)y.i * (x.den / g);
    n = op == '+' ? xs + ys : xs - ys;
    d = (pkn_i128)(x.den / g) * y.den;
    break;
  }
  case '*':
    n = (pkn_i128)x.i * y.i;
    d = (pkn_i128)x.den * y.den;
    break;
  default:
    if (y.i == 0) pko_error("/: undefined for 0");
    n = (pkn_i128)x.i * y.den;
    d = (pkn_i128)x.den * y.i;
  }
  return pkn_mkq128(who, n, d, a, b);
}

/* The four operations on two numbers with Chez's contagion: exact 0 is
   neutral for + and absorbing for *, flonums otherwise win. */
static pk_val pkn_arith(char op, pk_val a, pk_val b)
{
  static const char *const names[] = { ['+'] = "+", ['-'] = "-", ['*'] = "*", ['/'] = "/" };
  const char *who = names[(unsigned char)op];
  if (pko_isa(a, PK_T_FLONUM) && pko_isa(b, PK_T_FLONUM)) {
    double p = pko_flo(a), q = pko_flo(b);
    return pko_mkflo(op == '+' ? p + q : op == '-' ? p - q : op == '*' ? p * q : p / q);
  }
  pkn_num x = pkn_of(who, a), y = pkn_of(who, b);
  int64_t r;
  if (!x.flo && !y.flo) {
    if (x.den != 1 || y.den != 1) return pkn_exact_arith(who, op, x, y, a, b);
    switch (op) {
    case '+':
      if (__builtin_add_overflow(x.i, y.i, &r)) pkn_overflow(who, x.i, y.i);
      break;
    case '-':
      if (__builtin_sub_overflow(x.i, y.i, &r)) pkn_overflow(who, x.i, y.i);
      break;
    case '*':
      if (__builtin_mul_overflow(x.i, y.i, &r)) pkn_overflow(who, x.i, y.i);
      break;
    default:
      if (y.i == 0) pko_error("/: undefined for 0");
      if (y.i == -1) {
        if (x.i == INT64_MIN) pkn_overflow(who, x.i, y.i);
        r = -x.i;
      } else {
        if (x.i % y.i != 0) return pkn_exact_arith(who, op, x, y, a, b);
        r = x.i / y.i;
      }
    }
    return pko_mkint(r);
  }
  switch (op) {
  case '+':
    if (pkn_zero_exact(x)) return b;
    if (pkn_zero_exact(y)) return a;
    return pko_mkflo(pkn_dbl(x) + pkn_dbl(y));
  case '-':
    if (pkn_zero_exact(y)) return a;
    if (pkn_zero_exact(x)) return pko_mkflo(-y.d);
    return pko_mkflo(pkn_dbl(x) - pkn_dbl(y));
  case '*':
    if (pkn_zero_exact(x) || pkn_zero_exact(y)) return pko_mkfix(0);
    return pko_mkflo(pkn_dbl(x) * pkn_dbl(y));
  default: return pko_mkflo(pkn_dbl(x) / pkn_dbl(y));
  }
}

/* The evaluator's and the primitives' entry points: a fixnum fast path,
   then pkn_arith. */
pk_val pkn_add(pk_val a, pk_val b)
{
  if (pko_fixnump(a) && pko_fixnump(b)) return pko_mkint(pko_fixval(a) + pko_fixval(b));
  return pkn_arith('+', a, b);
}

/* a - b; the fixnum difference always fits int64. */
pk_val pkn_sub(pk_val a, pk_val b)
{
  if (pko_fixnump(a) && pko_fixnump(b)) return pko_mkint(pko_fixval(a) - pko_fixval(b));
  return pkn_arith('-', a, b);
}

/* a * b; fixnums multiply inline unless the product overflows. */
pk_val pkn_mul(pk_val a, pk_val b)
{
  int64_t r;
  if (pko_fixnump(a) && pko_fixnump(b) && !__builtin_mul_overflow(pko_fixval(a), pko_fixval(b), &r))
    return pko_mkint(r);
  return pkn_arith('*', a, b);
}

/* a / b: exact when both are, so (/ 6 4) is 3/2. */
pk_val pkn_div(pk_val a, pk_val b) { return pkn_arith('/', a, b); }

/* Positive n/d (d >= 1) against a positive finite double, exactly: the
   integer parts first, then the fractions r/d and f = m/2^s as r*2^s
   against m*d in 128 bits.  f = x - floor(x) is exact because x >= 0. */
static int pkn_cmp_pos_q_dbl(uint64_t n, uint64_t d, double x)
{
  if (x >= 18446744073709551616.0) return -1; /* n/d < 2^64 <= x */
  double fx = floor(x);
  uint64_t fi = (uint64_t)fx, q = n / d, r = n % d;
  if (q != fi) return q < fi ? -1 : 1;
  double f = x - fx;
  if (r == 0) return f > 0.0 ? -1 : 0;
  if (f == 0.0) return 1;
  int64_t m;
  int sh;
  pkn_dyadic(f, &m, &sh);                   /* f = m / 2^sh, m < 2^53 */
  pkn_u128 rhs = (pkn_u128)(uint64_t)m * d; /* < 2^116 */
  int rb = 64 - __builtin_clzll(r);
  if (rb + sh > 117) return 1; /* r * 2^sh >= 2^117 */
  pkn_u128 lhs = (pkn_u128)r << sh;
  return lhs < rhs ? -1 : lhs > rhs;
}

/* Exact n/d (d > 0) against a double, exactly, as Chez compares exact
   with inexact (1/3 is not (inexact 1/3)): -1, 0, 1, or 2 for a NaN.
   Signs decide unless both are strictly of one sign; then magnitudes. */
static __attribute__((noinline)) int pkn_cmp_q_dbl(int64_t n, int64_t d, double x)
{
  if (isnan(x)) return 2;
  int sn = (n > 0) - (n < 0), sx = (x > 0) - (x < 0);
  if (sn != sx || sn == 0) return (sn > sx) - (sn < sx);
  if (isinf(x)) return -sx;
  int c = pkn_cmp_pos_q_dbl(sn < 0 ? -(uint64_t)n : (uint64_t)n, (uint64_t)d, fabs(x));
  return sn < 0 ? -c : c;
}

/* Three-way compare; 2 means unordered (a NaN is involved), which callers
   must treat as false for every relation. */
int pkn_cmp(const char *who, pk_val a, pk_val b)
{
  if (pko_fixnump(a) && pko_fixnump(b)) return ((int64_t)a > (int64_t)b) - ((int64_t)a < (int64_t)b);
  pkn_num x = pkn_of(who, a), y = pkn_of(who, b);
  if (!x.flo && !y.flo) {
    if (x.den == 1 && y.den == 1) return (x.i > y.i) - (x.i < y.i);
    pkn_i128 l = (pkn_i128)x.i * y.den, r = (pkn_i128)y.i * x.den;
    return (l > r) - (l < r);
  }
  if (x.flo && y.flo) {
    if (isnan(x.d) || isnan(y.d)) return 2;
    return (x.d > y.d) - (x.d < y.d);
  }
  if (!x.flo) return pkn_cmp_q_dbl(x.i, x.den, y.d);
  int c = pkn_cmp_q_dbl(y.i, y.den, x.d);
  return c == 2 ? 2 : -c;
}

/* Chained comparisons: every argument is checked, then each adjacent pair. */
bool pkn_compare(const char *who, int rel, int argc, const pk_val *argv)
{
  for (int i = 0; i < argc; i++) pkn_of(who, argv[i]);
  bool ok = true;
  for (int i = 0; i + 1 < argc && ok; i++) {
    int c = pkn_cmp(who, argv[i], argv[i + 1]);
    switch (rel) {
    case PKN_EQ: ok = c == 0; break;
    case PKN_LT: ok = c == -1; break;
    case PKN_GT: ok = c == 1; break;
    case PKN_LE: ok = c == -1 || c == 0; break;
    default: ok = c == 1 || c == 0; break;
    }
  }
  return ok;
}

/* max/min: a NaN wins, ties keep the later argument (as Chez), and any
   inexact argument makes the result inexact. */
pk_val pkn_extremum(const char *who, bool want_max, int argc, const pk_val *argv)
{
  pk_val best = argv[0];
  bool inexact = pkn_of(who, best).flo;
  for (int i = 1; i < argc; i++) {
    pkn_num n = pkn_of(who, argv[i]);
    inexact |= n.flo;
    if (pko_isa(best, PK_T_FLONUM) && isnan(pko_flo(best))) continue;
    int c = pkn_cmp(who, best, argv[i]);
    if (c == 2 || c != (want_max ? 1 : -1)) best = argv[i];
  }
  if (inexact && !pko_isa(best, PK_T_FLONUM)) best = pko_mkflo(pkn_dbl(pkn_of(who, best)));
  return best;
}

/* abs: |INT64_MIN| does not fit, nor does |INT64_MIN/d|. */
pk_val pkn_abs(pk_val v)
{
  pkn_num n = pkn_of("abs", v);
  if (n.flo) return pko_mkflo(fabs(n.d));
  if (n.i >= 0) return v;
  if (n.i == INT64_MIN) pkn_overflow_v("abs", v, pko_mkfix(-1));
  return n.den == 1 ? pko_mkint(-n.i) : pko_mkratio(-n.i, n.den);
}

/* quotient, remainder, modulo on integers, exact or integral flonums. */
pk_val pkn_intdiv(const char *who, int kind, pk_val a, pk_val b)
{
  pkn_num x = pkn_integer_of(who, a), y = pkn_integer_of(who, b);
  if ((!y.flo && y.i == 0) || (y.flo && y.d == 0.0)) pko_error("%s: undefined for 0", who);
  /* Chez: any integer modulo an exact 1 or -1 is an exact 0 */
  if (kind != PKN_QUO && !y.flo && (y.i == 1 || y.i == -1)) return pko_mkfix(0);
  if (!x.flo && !y.flo) {
    if (y.i == -1) {
      if (x.i == INT64_MIN) pkn_overflow(who, x.i, y.i);
      return pko_mkint(-x.i);
    }
    int64_t r = x.i % y.i;
    if (kind == PKN_QUO) return pko_mkint(x.i / y.i);
    if (kind == PKN_MOD && r != 0 && ((r < 0) != (y.i < 0))) r += y.i;
    return pko_mkint(r);
  }
  double p = pkn_dbl(x), q = pkn_dbl(y);
  if (kind == PKN_QUO) return pko_mkflo(trunc(p / q));
  double r = fmod(p, q);
  if (kind == PKN_MOD && r != 0.0 && ((r < 0) != (q < 0))) r += q;
  return pko_mkflo(r == 0.0 ? 0.0 : r);
}

/* gcd/lcm of integers; an integral flonum argument makes the result a
   flonum, as in Chez. */
static int64_t pkn_gcd2(int64_t a, int64_t b)
{
  uint64_t x = a < 0 ? -(uint64_t)a : (uint64_t)a, y = b < 0 ? -(uint64_t)b : (uint64_t)b;
  while (y) {
    uint64_t t = x % y;
    x = y;
    y = t;
  }
  if (x > (uint64_t)INT64_MAX) pkn_overflow("gcd", a, b);
  return (int64_t)x;
}

/* gcd of integral doubles (Euclid with fmod, exact on integers). */
static double pkn_gcd2f(double a, double b)
{
  a = fabs(a);
  b = fabs(b);
  while (b != 0.0) {
    double t = fmod(a, b);
    a = b;
    b = t;
  }
  return a;
}

/* Every argument is checked before any result is formed, as Chez. */
pk_val pkn_gcd(int argc, const pk_val *argv)
{
  bool inexact = false;
  for (int i = 0; i < argc; i++) inexact |= pkn_integer_of("gcd", argv[i]).flo;
  int64_t g = 0;
  double gf = 0.0;
  for (int i = 0; i < argc; i++) {
    pkn_num n = pkn_of("gcd", argv[i]);
    if (inexact)
      gf = pkn_gcd2f(gf, pkn_dbl(n));
    else
      g = pkn_gcd2(g, n.i);
  }
  return inexact ? pko_mkflo(gf) : pko_mkint(g);
}

/* lcm as |l / gcd(l, n) * n|, folded; an exact 0 makes it 0. */
pk_val pkn_lcm(int argc, const pk_val *argv)
{
  bool inexact = false;
  for (int i = 0; i < argc; i++) inexact |= pkn_integer_of("lcm", argv[i]).flo;
  int64_t l = 1, r;
  double lf = 1.0;
  for (int i = 0; i < argc; i++) {
    pkn_num n = pkn_of("lcm", argv[i]);
    if (inexact) {
      double x = fabs(pkn_dbl(n));
      lf = (x == 0.0 || lf == 0.0) ? 0.0 : lf / pkn_gcd2f(lf, x) * x;
      continue;
    }
    if (n.i == 0 || l == 0) {
      l = 0;
      continue;
    }
    /* the result is |r|: INT64_MIN has no magnitude in int64 */
    if (__builtin_mul_overflow(l / pkn_gcd2(l, n.i), n.i, &r) || r == INT64_MIN) pkn_overflow("lcm", l, n.i);
    l = r < 0 ? -r : r;
  }
  return inexact ? pko_mkflo(lf) : pko_mkint(l);
}

/* Parity of an integer, exact or integral flonum. */
bool pkn_odd(const char *who, pk_val v)
{
  pkn_num n = pkn_integer_of(who, v);
  return n.flo ? fmod(n.d, 2.0) != 0.0 : (n.i & 1) != 0;
}

/* Our reals are int64, ratios of int64 and flonums: an integer is an exact
   integer or an integral finite flonum. */
bool pkn_integerp(pk_val v)
{
  if (pko_intp(v)) return true;
  return pko_isa(v, PK_T_FLONUM) && isfinite(pko_flo(v)) && pko_flo(v) == trunc(pko_flo(v));
}

/* Every finite real is rational (flonums are dyadic rationals). */
bool pkn_rationalp(pk_val v)
{
  return pko_intp(v) || pko_isa(v, PK_T_RATIO) || (pko_isa(v, PK_T_FLONUM) && isfinite(pko_flo(v)));
}

/* exact->inexact/inexact and inexact->exact/exact. */
pk_val pkn_to_inexact(const char *who, pk_val v)
{
  pkn_num n = pkn_of(who, v);
  return n.flo ? v : pko_mkflo(pkn_dbl(n));
}

/* A flonum as the exact rational it denotes, or the overflow error. */
pk_val pkn_to_exact(const char *who, pk_val v)
{
  pkn_num n = pkn_of(who, v);
  return n.flo ? pkn_flo_to_exact(who, v, n.d) : v;
}

/* numerator/denominator: of an exact rational its parts; of a flonum the
   parts of the rational it denotes, as flonums (Chez: (denominator 0.5) is
   2.0, and a denominator beyond the double range is +inf.0). */
pk_val pkn_parts(const char *who, bool want_num, pk_val v)
{
  pkn_num n = pkn_of(who, v);
  if (!n.flo) return want_num ? pko_mkint(n.i) : pko_mkint(n.den);
  if (!isfinite(n.d)) pkn_bad(who, "not a rational number", v);
  if (n.d == trunc(n.d)) return want_num ? v : pko_mkflo(1.0);
  int64_t m;
  int s;
  pkn_dyadic(n.d, &m, &s);
  return pko_mkflo(want_num ? (double)m : ldexp(1.0, s));
}

/* Rounding: exact integers are their own result, ratios round to exact
   integers (round: ties to even), flonums stay flonums.  Chez's round
   gives +0.0 for results of zero. */
pk_val pkn_round(const char *who, int kind, pk_val v)
{
  static double (*const fns[])(double) = { floor, ceil, rint, trunc };
  pkn_num n = pkn_of(who, v);
  if (n.flo) {
    double r = fns[kind](n.d);
    if (kind == PKN_ROUND && r == 0.0) r = 0.0;
    return pko_mkflo(r);
  }
  if (n.den == 1) return v;
  int64_t q = n.i / n.den, r = n.i % n.den;
  if (r < 0) {
    q--;
    r += n.den;
  } /* floor; 0 < r < den; q + 1 cannot overflow */
  switch (kind) {
  case PKN_FLOOR: break;
  case PKN_CEILING: q++; break;
  case PKN_TRUNCATE:
    if (n.i < 0) q++;
    break;
  default:
    if (r > n.den - r || (r == n.den - r && (q & 1))) q++;
  }
  return pko_mkint(q);
}

/* Results Chez gives as complex numbers, which we do not have. */
static _Noreturn void pkn_no_complex(const char *who, pk_val v)
{
  pkn_bad(who, "complex result (no complex numbers) for", v);
}

/* Exact square root of a non-negative int64, or -1 if it is not a perfect
   square. */
static int64_t pkn_isqrt(int64_t n)
{
  int64_t r = (int64_t)sqrt((double)n), sq;
  while (r > 0 && (__builtin_mul_overflow(r, r, &sq) || sq > n)) r--;
  while (!__builtin_mul_overflow(r + 1, r + 1, &sq) && sq <= n) r++;
  return r * r == n ? r : -1;
}

/* sqrt: exact for perfect squares (ratios too: both parts squares), as
   Chez. */
pk_val pkn_sqrt(pk_val v)
{
  pkn_num n = pkn_of("sqrt", v);
  if (n.flo) {
    if (n.d < 0) pkn_no_complex("sqrt", v);
    return pko_mkflo(sqrt(n.d));
  }
  if (n.i < 0) pkn_no_complex("sqrt", v);
  int64_t rn = pkn_isqrt(n.i), rd = n.den == 1 ? 1 : pkn_isqrt(n.den);
  if (rn >= 0 && rd >= 0) return pko_mkratio(rn, rd);
  return pko_mkflo(sqrt(pkn_dbl(n)));
}

/* b^e for e >= 1 with overflow checks naming the operands of expt; the
   base is squared only while bits of the exponent remain. */
static int64_t pkn_ipow(int64_t b, uint64_t e, pk_val x, pk_val y)
{
  int64_t r = 1;
  while (e > 0) {
    if ((e & 1) && __builtin_mul_overflow(r, b, &r)) pkn_overflow_v("expt", x, y);
    e >>= 1;
    if (e > 0 && __builtin_mul_overflow(b, b, &b)) pkn_overflow_v("expt", x, y);
  }
  return r;
}

/* bv^ev: exact for an exact base and integer power (overflow checked),
   0 to a positive ratio is exact 0, else pow on doubles. */
pk_val pkn_expt(pk_val bv, pk_val ev)
{
  pkn_num x = pkn_of("expt", bv), y = pkn_of("expt", ev);
  if (pkn_exint(y)) {
    if (y.i == 0) return pko_mkfix(1);
    if (x.flo) return pko_mkflo(pow(x.d, (double)y.i));
    if (x.i == 0) {
      if (y.i < 0) pkn_bad2("expt", "undefined for values %s and %s", bv, ev);
      return pko_mkfix(0);
    }
    uint64_t e = y.i < 0 ? -(uint64_t)y.i : (uint64_t)y.i;
    if (x.den == 1 && (x.i == 1 || x.i == -1)) return pko_mkfix(x.i == -1 && (e & 1) ? -1 : 1);
    /* coprime parts stay coprime: no normalisation needed but the sign */
    int64_t pn = pkn_ipow(x.i, e, bv, ev), pd = pkn_ipow(x.den, e, bv, ev);
    if (y.i > 0) return pko_mkratio(pn, pd);
    if (pn == INT64_MIN) pkn_overflow_v("expt", bv, ev);
    return pko_mkratio(pd, pn);
  }
  if (pkn_zero_exact(x) && !y.flo) {
    /* Chez: 0 to a positive ratio is an exact 0 */
    if (y.i < 0) pkn_bad2("expt", "undefined for values %s and %s", bv, ev);
    return pko_mkfix(0);
  }
  double b = pkn_dbl(x), p = pkn_dbl(y);
  if (b < 0 && (!y.flo || p != trunc(p))) pkn_no_complex("expt", bv);
  return pko_mkflo(pow(b, p));
}

/* exp/log and the trigonometric functions.  Chez returns exact results
   for the exact arguments where they are exact (exp 0 = 1, log 1 = 0,
   sin 0 = 0, ...); everything else is a flonum. */
pk_val pkn_exp(pk_val v)
{
  pkn_num n = pkn_of("exp", v);
  if (pkn_zero_exact(n)) return pko_mkfix(1);
  return pko_mkflo(exp(pkn_dbl(n)));
}

/* Natural log; (log x base) is (/ (log x) (log base)) for the caller. */
pk_val pkn_log(pk_val v)
{
  pkn_num n = pkn_of("log", v);
  if (pkn_exint(n) && n.i == 1) return pko_mkfix(0);
  if (pkn_zero_exact(n)) pko_error("log: undefined for 0");
  if (pkn_dbl(n) < 0) pkn_no_complex("log", v);
  return pko_mkflo(log(pkn_dbl(n)));
}

/* One-argument real function with an exact fixed point: f(exact at) is
   exact val. */
pk_val pkn_real_fn(const char *who, double (*fn)(double), pk_val v, int64_t at, int64_t val, double lo, double hi)
{
  pkn_num n = pkn_of(who, v);
  if (pkn_exint(n) && n.i == at) return pko_mkfix(val);
  double d = pkn_dbl(n);
  if (d < lo || d > hi) pkn_no_complex(who, v);
  return pko_mkflo(fn(d));
}

/* (atan y x): exact 0 on the positive x axis, as Chez. */
pk_val pkn_atan2(pk_val yv, pk_val xv)
{
  pkn_num y = pkn_of("atan", yv), x = pkn_of("atan", xv);
  if (pkn_zero_exact(y) && !x.flo && x.i > 0) return pko_mkfix(0);
  return pko_mkflo(atan2(pkn_dbl(y), pkn_dbl(x)));
}

/* ==== text ======================================================= */

/* Digits of an exact integer in radix 2..36, upper-case letters (Chez);
   the length.  One division per digit. */
size_t pkn_int_text(char *buf, int64_t v, int radix)
{
  char tmp[72];
  int n = 0;
  uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[u % (uint64_t)radix];
    u /= (uint64_t)radix;
  } while (u);
  char *p = buf;
  if (v < 0) *p++ = '-';
  while (n) *p++ = tmp[--n];
  *p = 0;
  return (size_t)(p - buf);
}

/* An exact rational's text: NUM, or NUM/DEN. */
void pkn_exact_text(char *buf, pkn_num n, int radix)
{
  size_t k = pkn_int_text(buf, n.i, radix);
  if (n.den == 1) return;
  buf[k] = '/';
  pkn_int_text(buf + k + 1, n.den, radix);
}

/* Value of a digit in radix, or -1. */
static int pkn_digit(char c, int radix)
{
  int d = c >= '0' && c <= '9'   ? c - '0'
          : c >= 'a' && c <= 'z' ? c - 'a' + 10
          : c >= 'A' && c <= 'Z' ? c - 'A' + 10
                                 : 99;
  return d < radix ? d : -1;
}

/* [+-]digits in radix into *out: PKN_PARSE_OK, _NONE (not an integer) or
   _BIG (all digits, beyond int64). */
static int pkn_parse_int(const char *s, size_t n, int radix, bool sign_ok, int64_t *out)
{
  size_t i = 0;
  bool neg = false;
  if (sign_ok && n > 0 && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == n) return PKN_PARSE_NONE;
  int64_t acc = 0;
  bool over = false;
  for (; i < n; i++) {
    int d = pkn_digit(s[i], radix);
    if (d < 0) return PKN_PARSE_NONE;
    /* accumulate negatively so INT64_MIN is reachable */
    if (__builtin_mul_overflow(acc, (int64_t)radix, &acc) || __builtin_sub_overflow(acc, (int64_t)d, &acc)) over = true;
  }
  if (over || (!neg && acc == INT64_MIN)) return PKN_PARSE_BIG;
  *out = neg ? acc : -acc;
  return PKN_PARSE_OK;
}

/* Decimal syntax: [+-] (d+ [. d*] | . d+) [marker [+-] d+]. */
static bool pkn_decimal_syntax(const char *s, size_t n)
{
  size_t i = 0, digits = 0;
  if (i < n && (s[i] == '+' || s[i] == '-')) i++;
  while (i < n && s[i] >= '0' && s[i] <= '9') {
    i++;
    digits++;
  }
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      i++;
      digits++;
    }
  }
  if (digits == 0) return false;
  if (i < n && strchr("eEsSfFdDlL", s[i])) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    size_t e = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == e) return false;
  }
  return i == n;
}

static locale_t pkn_c_locale;

/* The C locale for strtod_l, made once. */
static void pkn_locale_once(void) { pkn_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* Clinger's fast path for a well-formed decimal: m x 10^p with m < 2^53
   and |p| <= 22 is one operation on two exact doubles, so correctly
   rounded, as strtod's result is.  False when it does not apply (more
   digits, a larger exponent): the caller asks strtod.  Model files are
   mostly such numbers, and strtod was most of reading them. */
static bool pkn_decimal_fast(const char *s, size_t n, double *out)
{
  static const double p10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
  size_t i = 0;
  bool neg = s[0] == '-';
  if (s[0] == '-' || s[0] == '+') i++;
  uint64_t m = 0;
  int nd = 0, p = 0;
  for (bool frac = false; i < n; i++) {
    if (s[i] == '.' && !frac) {
      frac = true;
      continue;
    }
    if (s[i] < '0' || s[i] > '9') break;
    if (m || s[i] != '0') {
      if (++nd > 18) return false;
      m = m * 10 + (uint64_t)(s[i] - '0');
    }
    p -= frac;
  }
  if (i < n) { /* an exponent marker, then [+-] digits (the syntax is checked) */
    bool eneg = s[++i] == '-';
    if (s[i] == '-' || s[i] == '+') i++;
    int e = 0;
    for (; i < n; i++)
      if ((e = e * 10 + (s[i] - '0')) > 9999) return false;
    p += eneg ? -e : e;
  }
  if (m > (uint64_t)1 << 53 || p > 22 || p < -22) return false;
  double d = (double)m;
  d = p >= 0 ? d * p10[p] : d / p10[-p];
  *out = neg ? -d : d;
  return true;
}

/* In the C locale, whatever the process's: a program may have changed
   it, and "1.5" must still read as 1.5. */
double pkn_decimal(const char *s, size_t n)
{
  double fast;
  if (pkn_decimal_fast(s, n, &fast)) return fast;
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, pkn_locale_once);
  char small[64], *buf = n < sizeof small ? small : pko_xmalloc(n + 1);
  for (size_t i = 0; i < n; i++) buf[i] = s[i] && strchr("sSfFdDlL", s[i]) ? 'e' : s[i];
  buf[n] = 0;
  double d = strtod_l(buf, NULL, pkn_c_locale);
  if (buf != small) free(buf);
  return d;
}

/* A decimal string (known to be well formed) as the exact rational it
   denotes, as Chez's #e prefix: #e0.1 is 1/10, not the double 0.1. */
static int pkn_decimal_exact(const char *s, size_t n, pk_val *out)
{
  size_t i = 0;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  /* digits without the point, trailing zeros of the fraction dropped */
  int64_t m = 0, e10 = 0;
  size_t lastnz = 0, fracstart = n;
  for (size_t j = i; j < n && !strchr("eEsSfFdDlL", s[j]); j++) {
    if (s[j] == '.')
      fracstart = j + 1;
    else if (s[j] != '0')
      lastnz = j + 1;
  }
  for (; i < n && !strchr("eEsSfFdDlL", s[i]); i++) {
    if (s[i] == '.') continue;
    if (i >= fracstart && i >= lastnz) continue; /* a trailing zero of the fraction */
    if (__builtin_mul_overflow(m, 10, &m) || __builtin_add_overflow(m, s[i] - '0', &m)) return PKN_PARSE_BIG;
    if (i >= fracstart) e10--;
  }
  *out = pko_mkfix(0);
  if (i < n) {
    i++;
    int64_t x;
    if (pkn_parse_int(s + i, n - i, 10, true, &x) != PKN_PARSE_OK || x > 400 || x < -400)
      return m != 0 ? PKN_PARSE_BIG : PKN_PARSE_OK;
    e10 += x;
  }
  if (neg) m = -m;
  if (m == 0) return PKN_PARSE_OK;
  int64_t p = 1;
  for (; e10 > 0; e10--)
    if (__builtin_mul_overflow(m, 10, &m)) return PKN_PARSE_BIG;
  for (; e10 < 0; e10++) {
    if (m % 10 == 0) {
      m /= 10;
      continue;
    }
    if (__builtin_mul_overflow(p, 10, &p)) return PKN_PARSE_BIG;
  }
  *out = pko_mkratio(m, p);
  return PKN_PARSE_OK;
}

/* n/d after the prefixes: exact in lowest terms, or with #i the nearest
   double (#i1/0 is +inf.0; an exact n/0 is not a number). */
static int pkn_parse_ratio(const char *s, size_t n, const char *slash, int radix, char exactness, pk_val *out)
{
  size_t k = (size_t)(slash - s);
  int64_t a, b;
  int ra = pkn_parse_int(s, k, radix, true, &a), rb = pkn_parse_int(slash + 1, n - k - 1, radix, false, &b);
  if (ra == PKN_PARSE_NONE || rb == PKN_PARSE_NONE) return PKN_PARSE_NONE;
  if (ra != PKN_PARSE_OK || rb != PKN_PARSE_OK) return PKN_PARSE_BIG;
  if (b == 0) {
    if (exactness != 'i') return PKN_PARSE_ZERODEN;
    *out = pko_mkflo(a > 0 ? INFINITY : a < 0 ? -INFINITY : NAN);
    return PKN_PARSE_OK;
  }
  *out = pko_mkratio(a, b);
  if (exactness == 'i') *out = pko_mkflo(pkn_dbl(pkn_of("inexact", *out)));
  return PKN_PARSE_OK;
}

/* The one number parser: prefixes, then the special flonums, integers,
   ratios and decimals.  Tries the cheap forms first (an integer is one
   pass over the digits). */
int pkn_parse(const char *s, size_t n, int radix, pk_val *out)
{
  char exactness = 0;
  while (n >= 2 && s[0] == '#') {
    switch (s[1]) {
    case 'x':
    case 'X': radix = 16; break;
    case 'b':
    case 'B': radix = 2; break;
    case 'o':
    case 'O': radix = 8; break;
    case 'd':
    case 'D': radix = 10; break;
    case 'e':
    case 'E':
      if (exactness) return PKN_PARSE_NONE;
      exactness = 'e';
      break;
    case 'i':
    case 'I':
      if (exactness) return PKN_PARSE_NONE;
      exactness = 'i';
      break;
    default: return PKN_PARSE_NONE;
    }
    s += 2;
    n -= 2;
  }
  if (n == 6 && (s[0] == '+' || s[0] == '-') && (!memcmp(s + 1, "inf.0", 5) || !memcmp(s + 1, "nan.0", 5))) {
    if (exactness == 'e') return PKN_PARSE_NOEXACT;
    double d = s[1] == 'i' ? INFINITY : NAN;
    *out = pko_mkflo(s[0] == '-' && s[1] == 'i' ? -d : d);
    return PKN_PARSE_OK;
  }
  int64_t a;
  int r = pkn_parse_int(s, n, radix, true, &a);
  if (r == PKN_PARSE_OK) {
    *out = exactness == 'i' ? pko_mkflo((double)a) : pko_mkint(a);
    return r;
  }
  if (r == PKN_PARSE_BIG) {
    if (exactness != 'i' || radix != 10) return r;
    *out = pko_mkflo(pkn_decimal(s, n));
    return PKN_PARSE_OK;
  }
  const char *slash = memchr(s, '/', n);
  if (slash) return pkn_parse_ratio(s, n, slash, radix, exactness, out);
  if (radix != 10 || !pkn_decimal_syntax(s, n)) return PKN_PARSE_NONE;
  if (exactness == 'e') return pkn_decimal_exact(s, n, out);
  *out = pko_mkflo(pkn_decimal(s, n));
  return PKN_PARSE_OK;
}
