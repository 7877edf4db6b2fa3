/*
** test_num.c — unit tests for pk_num: the one number parser (pkn_parse)
** and its use by the reader, and the tower's overflow errors.
**
** Each parser case gives a text, a radix, the expected result code and,
** for PKN_PARSE_OK, the expected value written by the printer (Chez 9.5's
** text for the same number).  The reader must agree with the parser on
** every case it can see (no prefixes: the reader consumes #x itself).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "pk_num.h"
#include "pk_print.h"
#include "pk_read.h"

static int setup(void **state)
{
  (void)state;
  pko_init();
  return 0;
}

typedef struct num_case {
  const char *text;
  int radix, code;
  const char *written;
} num_case;

static const num_case cases[] = {
  /* int64 bounds: fixnums end at 2^62, boxed integers at 2^63 */
  { "4611686018427387903", 10, PKN_PARSE_OK, "4611686018427387903" },
  { "4611686018427387904", 10, PKN_PARSE_OK, "4611686018427387904" },
  { "9223372036854775807", 10, PKN_PARSE_OK, "9223372036854775807" },
  { "+9223372036854775807", 10, PKN_PARSE_OK, "9223372036854775807" },
  { "-9223372036854775808", 10, PKN_PARSE_OK, "-9223372036854775808" },
  { "9223372036854775808", 10, PKN_PARSE_BIG, NULL },
  { "-9223372036854775809", 10, PKN_PARSE_BIG, NULL },
  { "#x7FFFFFFFFFFFFFFF", 10, PKN_PARSE_OK, "9223372036854775807" },
  { "#x8000000000000000", 10, PKN_PARSE_BIG, NULL },
  { "-8000000000000000", 16, PKN_PARSE_OK, "-9223372036854775808" },
  /* flonums: signed zero, the double range, exponent markers */
  { "-0.0", 10, PKN_PARSE_OK, "-0.0" },
  { "0.0", 10, PKN_PARSE_OK, "0.0" },
  { "1e308", 10, PKN_PARSE_OK, "1e308" },
  { "1e309", 10, PKN_PARSE_OK, "+inf.0" },
  { "-1e309", 10, PKN_PARSE_OK, "-inf.0" },
  { "1e-400", 10, PKN_PARSE_OK, "0.0" },
  { ".5", 10, PKN_PARSE_OK, "0.5" },
  { "1.", 10, PKN_PARSE_OK, "1.0" },
  { "1s2", 10, PKN_PARSE_OK, "100.0" },
  { "1L-1", 10, PKN_PARSE_OK, "0.1" },
  { "+inf.0", 10, PKN_PARSE_OK, "+inf.0" },
  { "-inf.0", 10, PKN_PARSE_OK, "-inf.0" },
  { "+nan.0", 10, PKN_PARSE_OK, "+nan.0" },
  { "1.5", 16, PKN_PARSE_NONE, NULL },
  /* ratios: lowest terms, sign on the numerator only, zero denominators */
  { "-6/4", 10, PKN_PARSE_OK, "-3/2" },
  { "6/-4", 10, PKN_PARSE_NONE, NULL },
  { "4/2", 10, PKN_PARSE_OK, "2" },
  { "0/5", 10, PKN_PARSE_OK, "0" },
  { "-9223372036854775808/2", 10, PKN_PARSE_OK, "-4611686018427387904" },
  { "1/9223372036854775808", 10, PKN_PARSE_BIG, NULL },
  { "1/0", 10, PKN_PARSE_ZERODEN, NULL },
  { "0/0", 10, PKN_PARSE_ZERODEN, NULL },
  { "#i1/0", 10, PKN_PARSE_OK, "+inf.0" },
  { "#i-1/0", 10, PKN_PARSE_OK, "-inf.0" },
  { "#i1/3", 10, PKN_PARSE_OK, "0.3333333333333333" },
  { "ff/3", 16, PKN_PARSE_OK, "85" },
  { "1/", 10, PKN_PARSE_NONE, NULL },
  { "/2", 10, PKN_PARSE_NONE, NULL },
  { "1/2/3", 10, PKN_PARSE_NONE, NULL },
  /* not numbers */
  { "", 10, PKN_PARSE_NONE, NULL },
  { "+", 10, PKN_PARSE_NONE, NULL },
  { "-", 10, PKN_PARSE_NONE, NULL },
  { ".", 10, PKN_PARSE_NONE, NULL },
  { "1e", 10, PKN_PARSE_NONE, NULL },
  { "1e+", 10, PKN_PARSE_NONE, NULL },
  { "e1", 10, PKN_PARSE_NONE, NULL },
  { "1+", 10, PKN_PARSE_NONE, NULL },
  { "1a", 10, PKN_PARSE_NONE, NULL },
  { "--1", 10, PKN_PARSE_NONE, NULL },
  { "inf.0", 10, PKN_PARSE_NONE, NULL },
  /* prefixes */
  { "#xff", 10, PKN_PARSE_OK, "255" },
  { "#XfF", 10, PKN_PARSE_OK, "255" },
  { "#b-101", 10, PKN_PARSE_OK, "-5" },
  { "#o17", 10, PKN_PARSE_OK, "15" },
  { "#d10", 16, PKN_PARSE_OK, "10" },
  { "#x", 10, PKN_PARSE_NONE, NULL },
  { "#b2", 10, PKN_PARSE_NONE, NULL },
  { "#q1", 10, PKN_PARSE_NONE, NULL },
  { "#e1.5", 10, PKN_PARSE_OK, "3/2" },
  { "#e0.1", 10, PKN_PARSE_OK, "1/10" },
  { "#e-1e3", 10, PKN_PARSE_OK, "-1000" },
  { "#e1e19", 10, PKN_PARSE_BIG, NULL },
  { "#e0e999", 10, PKN_PARSE_OK, "0" },
  { "#e+inf.0", 10, PKN_PARSE_NOEXACT, NULL },
  { "#i3", 10, PKN_PARSE_OK, "3.0" },
  { "#i99999999999999999999", 10, PKN_PARSE_OK, "1e20" },
  { "#x#e10", 10, PKN_PARSE_OK, "16" },
  { "#e#i1", 10, PKN_PARSE_NONE, NULL },
};

/* The printer's text of v (write). */
static char *written(pk_val v) { return pkp_tostring(v, PKP_WRITE); }

/* Every case through pkn_parse: the code, and the value as written. */
static void test_parse_cases(void **state)
{
  (void)state;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const num_case *c = &cases[k];
    pk_val v = PK_VOID;
    int code = pkn_parse(c->text, strlen(c->text), c->radix, &v);
    if (code != c->code) fail_msg("\"%s\" radix %d: code %d, expected %d", c->text, c->radix, code, c->code);
    if (code != PKN_PARSE_OK) continue;
    char *s = written(v);
    if (strcmp(s, c->written) != 0) fail_msg("\"%s\": %s, expected %s", c->text, s, c->written);
    free(s);
  }
}

/* -0.0 keeps its sign, and parts beyond a fixnum come back boxed but equal
   to the C values. */
static void test_parse_values(void **state)
{
  (void)state;
  pk_val v;
  assert_int_equal(pkn_parse("-0.0", 4, 10, &v), PKN_PARSE_OK);
  assert_true(pko_isa(v, PK_T_FLONUM) && pko_flo(v) == 0.0 && signbit(pko_flo(v)));
  assert_int_equal(pkn_parse("-9223372036854775808", 20, 10, &v), PKN_PARSE_OK);
  assert_true(pko_intp(v) && pko_intval(v) == INT64_MIN);
  assert_int_equal(pkn_parse("-6/4", 4, 10, &v), PKN_PARSE_OK);
  assert_true(pko_isa(v, PK_T_RATIO));
  assert_true(pko_as_ratio(v)->num == -3 && pko_as_ratio(v)->den == 2);
  /* the length bounds the text: no NUL needed, nothing read past n */
  assert_int_equal(pkn_parse("12345", 2, 10, &v), PKN_PARSE_OK);
  assert_true(pko_intval(v) == 12);
}

/* The reader's verdict on one token: its datum written, or "symbol", or
   the error message (from ":1:1: " on). */
static char *read_token(const char *text)
{
  pkr_reader *r = pkr_open("t", text, strlen(text));
  pk_val v;
  pko_catch c;
  if (!PKO_TRY(c)) {
    const char *m = strstr(pko_err.msg, "t:1:1: ");
    return strdup(m ? m + 7 : pko_err.msg);
  }
  bool got = pkr_next(r, &v);
  PKO_END(c);
  if (!got) return strdup("eof");
  if (pko_symbolp(v)) return strdup("symbol");
  return written(v);
}

/* The reader uses the same parser: on every prefix-free radix-10 case it
   reads the same number, a symbol where the parser says "not a number",
   and a static error for the rest. */
static void test_reader_agrees(void **state)
{
  (void)state;
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const num_case *c = &cases[k];
    if (c->radix != 10 || c->text[0] == '#' || !c->text[0] || !strcmp(c->text, ".")) continue;
    char *got = read_token(c->text);
    const char *want = c->code == PKN_PARSE_OK     ? c->written
                       : c->code == PKN_PARSE_NONE ? "symbol"
                       : c->code == PKN_PARSE_BIG  ? "integer literal too large (no bignums)"
                                                   : NULL;
    char zero[64];
    if (c->code == PKN_PARSE_ZERODEN) {
      snprintf(zero, sizeof zero, "cannot represent %s", c->text);
      want = zero;
    }
    if (!want || strcmp(got, want) != 0) fail_msg("read \"%s\": %s, expected %s", c->text, got, want ? want : "?");
    free(got);
  }
  char *x = read_token("#x-8000000000000000");
  assert_string_equal(x, "-9223372036854775808");
  free(x);
  x = read_token("#b102");
  assert_string_equal(x, "invalid number syntax #b102");
  free(x);
}

/* An operation that must throw the runtime error msg (status 3). */
static void expect_runtime_error(pk_val (*fn)(int, const pk_val *), int argc, const pk_val *argv, const char *msg)
{
  pko_catch c;
  if (PKO_TRY(c)) {
    pk_val v = fn(argc, argv);
    PKO_END(c);
    char *s = written(v);
    fail_msg("no error; got %s", s);
  }
  assert_int_equal(pko_err.status, PK_STATUS_RUNTIME);
  if (!strstr(pko_err.msg, msg)) fail_msg("error \"%s\", expected \"%s\"", pko_err.msg, msg);
}

/* |INT64_MIN| does not fit: lcm of it alone, or with 1, is the overflow
   error (before the fix, an undefined negation UBSan reported). */
static void test_lcm_overflow(void **state)
{
  (void)state;
  pk_val a[2] = { pko_mkint(INT64_MIN), pko_mkfix(1) };
  expect_runtime_error(pkn_lcm, 1, a, "lcm: fixnum overflow with 1 and -9223372036854775808 (no bignums)");
  expect_runtime_error(pkn_lcm, 2, a, "lcm: fixnum overflow");
  pk_val b[2] = { pko_mkfix(-3), pko_mkint(INT64_MIN / 3 * 2 + 2) };
  pk_val v = pkn_lcm(1, b);
  assert_true(pko_intval(v) == 3);
  pk_val m[1] = { pko_mkint(INT64_MIN + 1) };
  assert_true(pko_intval(pkn_lcm(1, m)) == INT64_MAX);
}

/* Decimals read as strtod reads them, bit for bit: the fast path
   (pkn_decimal_fast) for short ones and strtod for the rest, on seeded
   random strings of every shape (signs, leading and trailing zeros,
   fraction only, exponents with every marker, many digits). */
static void test_decimal_like_strtod(void **state)
{
  (void)state;
  uint64_t x = 12345;
  for (int k = 0; k < 200000; k++) {
    char buf[80], ref[80];
    int len = 0;
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t r = x >> 11;
    if (r & 1) buf[len++] = r & 2 ? '-' : '+';
    int nint = (int)((r >> 2) % 12), nfrac = (int)((r >> 6) % 12);
    if (!nint && !nfrac) nint = 1;
    for (int i = 0; i < nint; i++, r = r * 2862933555777941757ull + 3037000493ull)
      buf[len++] = (char)('0' + (r >> 40) % 10);
    if (nfrac || (r & 16)) buf[len++] = '.';
    for (int i = 0; i < nfrac; i++, r = r * 2862933555777941757ull + 3037000493ull)
      buf[len++] = (char)('0' + (r >> 40) % 10);
    if ((x >> 7) % 3 == 0)
      len += snprintf(buf + len, sizeof buf - (size_t)len, "%c%d", "eEdfsl"[(x >> 20) % 6], (int)((x >> 24) % 61) - 30);
    buf[len] = 0;
    pk_val v;
    if (pkn_parse(buf, (size_t)len, 10, &v) != PKN_PARSE_OK) fail_msg("%s: not read", buf);
    if (!pko_isa(v, PK_T_FLONUM)) continue; /* an integer */
    strcpy(ref, buf);
    for (char *c = ref; *c; c++)
      if (strchr("dfsl", *c)) *c = 'e';
    double want = strtod(ref, NULL), got = pko_flo(v);
    if (memcmp(&want, &got, sizeof want) != 0) fail_msg("%s: got %.17g, strtod %.17g", buf, got, want);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse_cases),         cmocka_unit_test(test_parse_values),
    cmocka_unit_test(test_reader_agrees),       cmocka_unit_test(test_lcm_overflow),
    cmocka_unit_test(test_decimal_like_strtod),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
