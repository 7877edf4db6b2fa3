/*
** test_print.c — unit tests for the printer (pk_print.c).
**
** Expected texts were produced by Chez Scheme 9.5 (`scheme`) and are
** hard-coded: write and display of a corpus read from text, a flonum table
** (the brief's values plus a sample of random doubles, ties and
** subnormals), JSON, and 1,000,000-deep terms printed in constant C stack.
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

#include "pk_eval.h"
#include "pk_print.h"
#include "pk_read.h"

/* The one datum in text. */
static pk_val read1(const char *text)
{
  pkr_reader *r = pkr_open("t", text, strlen(text));
  pk_val v = PK_NIL;
  assert_true(pkr_next(r, &v));
  return v;
}

/* Assert that v prints as want in mode. */
static void check(pk_val v, int mode, const char *want)
{
  char *s = pkp_tostring(v, mode);
  if (strcmp(s, want) != 0) print_error("got [%.200s] want [%.200s]\n", s, want);
  assert_true(strcmp(s, want) == 0);
  free(s);
}

/* Assert v's JSON text. */
static void check_json(pk_val v, const char *want)
{
  pkp_buf b;
  pkp_init(&b);
  pkp_json(&b, v);
  assert_non_null(b.s);
  if (strcmp(b.s, want) != 0) print_error("got [%.200s] want [%.200s]\n", b.s, want);
  assert_true(strcmp(b.s, want) == 0);
  pkp_free(&b);
}

static int setup(void **state)
{
  (void)state;
  pko_init();
  return 0;
}

/* ---- write and display against Chez ------------------------------------ */

/* { source text, Chez write, Chez display } */
static const struct {
  const char *in, *w, *d;
} chez_cases[] = {
  { "(a b . c)", "(a b . c)", "(a b . c)" },
  { "(1 2 3)", "(1 2 3)", "(1 2 3)" },
  { "()", "()", "()" },
  { "(())", "(())", "(())" },
  { "((a . b) (c . d))", "((a . b) (c . d))", "((a . b) (c . d))" },
  { "(a (b (c (d))) e)", "(a (b (c (d))) e)", "(a (b (c (d))) e)" },
  { "#(1 #(2) \"x\")", "#(1 #(2) \"x\")", "#(1 #(2) x)" },
  { "#()", "#()", "#()" },
  { "#(a (b . c) #\\a)", "#(a (b . c) #\\a)", "#(a (b . c) a)" },
  { "\"plain\"", "\"plain\"", "plain" },
  { "\"q\\\"uote\"", "\"q\\\"uote\"", "q\"uote" },
  { "\"back\\\\slash\"", "\"back\\\\slash\"", "back\\slash" },
  { "\"nl\\nx\"", "\"nl\\nx\"", "nl\012x" },
  { "\"tab\\tx\\rcr\"", "\"tab\\tx\\rcr\"", "tab\011x\015cr" },
  { "\"\\a\\b\\v\\f\"", "\"\\a\\b\\v\\f\"", "\007\010\013\014" },
  { "\"\\x0;\\x1;\\x1f;\\x7f;\"", "\"\\x0;\\x1;\\x1F;\\x7F;\"", "\000\001\037\177" },
  { "\"\\x80;\\x85;\\x2028;\\x2029;\\xa0;\303\251 \316\273\"",
    "\"\302\200\\x85;\\x2028;\342\200\251\302\240\303\251 \316\273\"",
    "\302\200\302\205\342\200\250\342\200\251\302\240\303\251 \316\273" },
  { "\"\"", "\"\"", "" },
  { "#\\a", "#\\a", "a" },
  { "#\\A", "#\\A", "A" },
  { "#\\space", "#\\space", " " },
  { "#\\newline", "#\\newline", "\012" },
  { "#\\tab", "#\\tab", "\011" },
  { "#\\nul", "#\\nul", "\000" },
  { "#\\delete", "#\\delete", "\177" },
  { "#\\alarm", "#\\alarm", "\007" },
  { "#\\backspace", "#\\backspace", "\010" },
  { "#\\vtab", "#\\vtab", "\013" },
  { "#\\page", "#\\page", "\014" },
  { "#\\return", "#\\return", "\015" },
  { "#\\esc", "#\\esc", "\033" },
  { "#\\x1", "#\\x1", "\001" },
  { "#\\x1f", "#\\x1F", "\037" },
  { "#\\x80", "#\\\302\200", "\302\200" },
  { "#\\x85", "#\\x85", "\302\205" },
  { "#\\x2028", "#\\x2028", "\342\200\250" },
  { "#\\\316\273", "#\\\316\273", "\316\273" },
  { "#\\(", "#\\(", "(" },
  { "#\\)", "#\\)", ")" },
  { "#\\;", "#\\;", ";" },
  { "#\\\"", "#\\\"", "\"" },
  { "#\\\\", "#\\\\", "\\" },
  { "#\\#", "#\\#", "#" },
  { "abc", "abc", "abc" },
  { "ABC", "ABC", "ABC" },
  { "a.b", "a.b", "a.b" },
  { "...", "...", "..." },
  { "->", "->", "->" },
  { "->x", "->x", "->x" },
  { "+", "+", "+" },
  { "-", "-", "-" },
  { "a\\x20;b", "a\\x20;b", "a b" },
  { "||", "||", "" },
  { "\\x31;+", "\\x31;+", "1+" },
  { "\\x2D;x", "\\x2D;x", "-x" },
  { "\\x2E;x", "\\x2E;x", ".x" },
  { "a\\x7C;b", "a\\x7C;b", "a|b" },
  { "\\x23;foo", "\\x23;foo", "#foo" },
  { "a\\x27;b", "a\\x27;b", "a'b" },
  { "\316\273x", "\316\273x", "\316\273x" },
  { "a\\xAB;b", "a\\xAB;b", "a\302\253b" },
  { "\\x660;", "\\x660;", "\331\240" },
  { "a\\x660;", "a\331\240", "a\331\240" },
  { "\\x300;", "\314\200", "\314\200" },
  { "_.0", "_.0", "_.0" },
  { "x\\x9;y", "x\\x9;y", "x\011y" },
  { "0", "0", "0" },
  { "1", "1", "1" },
  { "-1", "-1", "-1" },
  { "4611686018427387903", "4611686018427387903", "4611686018427387903" },
  { "4611686018427387904", "4611686018427387904", "4611686018427387904" },
  { "-4611686018427387904", "-4611686018427387904", "-4611686018427387904" },
  { "-4611686018427387905", "-4611686018427387905", "-4611686018427387905" },
  { "9223372036854775807", "9223372036854775807", "9223372036854775807" },
  { "-9223372036854775808", "-9223372036854775808", "-9223372036854775808" },
  { "#t", "#t", "#t" },
  { "#f", "#f", "#f" },
  { "(quote a)", "(quote a)", "'a" },
  { "(quote a b)", "(quote a b)", "(quote a b)" },
  { "(quote)", "(quote)", "(quote)" },
  { "(quote . a)", "(quote . a)", "(quote . a)" },
  { "(quasiquote (a (unquote b) (unquote-splicing c)))", "(quasiquote (a (unquote b) (unquote-splicing c)))",
    "`(a ,b ,@c)" },
  { "(syntax x)", "(syntax x)", "#'x" },
  { "(quasisyntax x)", "(quasisyntax x)", "#`x" },
  { "(unsyntax x)", "(unsyntax x)", "#,x" },
  { "(unsyntax-splicing y)", "(unsyntax-splicing y)", "#,@y" },
  { "(a (quote b) . c)", "(a (quote b) . c)", "(a 'b . c)" },
  { "((quote x) (quote y))", "((quote x) (quote y))", "('x 'y)" },
  { "(quote (quote (quote x)))", "(quote (quote (quote x)))", "'''x" },
  { "(1.5 \"s\" #\\c sym)", "(1.5 \"s\" #\\c sym)", "(1.5 s c sym)" },
  { "#(#(\"a\" #\\b) ())", "#(#(\"a\" #\\b) ())", "#(#(a b) ())" },
};

static void test_chez_corpus(void **state)
{
  (void)state;
  for (size_t k = 0; k < sizeof chez_cases / sizeof chez_cases[0]; k++) {
    pk_val v = read1(chez_cases[k].in);
    check(v, PKP_WRITE, chez_cases[k].w);
    check(v, PKP_DISPLAY, chez_cases[k].d);
  }
}

/* ---- flonums ----------------------------------------------------------- */

/* { value, Chez's write } */
static const struct {
  double d;
  const char *s;
} flo_cases[] = {
  { 1.0, "1.0" },
  { 0.1, "0.1" },
  { 100.0, "100.0" },
  { 1e21, "1e21" },
  { 1e-7, "1e-7" },
  { 123456.789, "123456.789" },
  { 6.02e23, "6.02e23" },
  { -0.0, "-0.0" },
  { 0.0, "0.0" },
  { 1e20, "1e20" },
  { 1e22, "1e22" },
  { 123456789012345678901234.0, "1.2345678901234569e23" },
  { 0.001, "0.001" },
  { 0.0001, "1e-4" },
  { 1e-5, "1e-5" },
  { 1.5e-10, "1.5e-10" },
  { 4.9406564584124654e-324, "5e-324|1" },
  { 1e-323, "1e-323|2" },
  { 1e-310, "1e-310|45" },
  { -1e-310, "-1e-310|45" },
  { 2.2250738585072014e-308, "2.2250738585072014e-308" },
  { 1.7976931348623157e308, "1.7976931348623157e308" },
  { 2.5, "2.5" },
  { -3.75, "-3.75" },
  { 1e10, "1e10" },
  { 12345678901.0, "1.2345678901e10" },
  { 1e100, "1e100" },
  { 0.3, "0.3" },
  { 1.0 / 3, "0.3333333333333333" },
  { 2e-7, "2e-7" },
  { 1.2345e-7, "1.2345e-7" },
  { 3.14159, "3.14159" },
  { 100000.0, "100000.0" },
  { 1000000.0, "1000000.0" },
  { 1e7, "10000000.0" },
  { 1e8, "100000000.0" },
  { 1e9, "1000000000.0" },
  { 123e18, "1.23e20" },
  { 1.5e21, "1.5e21" },
  { 4.35, "4.35" },
  { 9007199254740993.0, "9.007199254740992e15" },
  { 1e-10, "1e-10" },
  { 1e-6, "1e-6" },
  { 0.5e-6, "5e-7" },
  { 0x1p-25, "2.9802322387695313e-8" },
  { 1.49236589057946808e-308, "1.492365890579468e-308|52" },
  { 5.04090217974109327e-309, "5.040902179741093e-309|50" },
  { 9.18171645733735996e-309, "9.18171645733736e-309|51" },
  { 7.79399927911031831e-309, "7.79399927911032e-309|51" },
  { 1.90958052979792437e-308, "1.9095805297979244e-308|52" },
  { 1.52924407338991853e-308, "1.5292440733899185e-308|52" },
  { 9.80797146154168869e+55, "9.807971461541689e55" },
  { 6.99191990197142763e+246, "6.991919901971428e246" },
  { 1.52434000000000003e+00, "1.52434" },
  { 9.95359999999999995e-03, "0.0099536" },
  { 7.93819856969804539e-35, "7.938198569698045e-35" },
  { 6.50389817478092926e-260, "6.503898174780929e-260" },
  { 5.73374653997518005e+104, "5.73374653997518e104" },
  { 7.30750818665451459e+47, "7.307508186654515e47" },
  { 5.26270000000000073e+03, "5262.700000000001" },
  { 1.05091991574159084e-308, "1.050919915741591e-308|51" },
  { 1.58456325028528710e+29, "1.584563250285287e29" },
  { 9.12891999999999966e-06, "9.12892e-6" },
  { 1.66370980606787915e-308, "1.663709806067879e-308|52" },
  { 2.98644357921030008e-300, "2.9864435792103e-300" },
  { 9.86591999999999985e+01, "98.6592" },
  { 1.79293008615523339e-308, "1.7929300861552334e-308|52" },
  { 1.14674930799503601e+105, "1.146749307995036e105" },
  { 9.10149000000000027e-03, "0.00910149" },
  { 4.09173825987017688e+149, "4.091738259870177e149" },
  { 8.43349000000000043e-02, "0.0843349" },
  { 1.03954097656448981e-112, "1.0395409765644898e-112" },
  { 5.35513000000000017e-01, "0.535513" },
  { 3.56436183632021507e-309, "3.564361836320215e-309|50" },
  { 6.82804677926897002e+243, "6.82804677926897e243" },
  { 3.28692000000000000e+05, "328692.0" },
  { -2.01456645108185005e+300, "-2.01456645108185e300" },
  { 2.72579999999999974e+21, "2.7258e21" },
  { 9.40587999999999980e-02, "0.0940588" },
  { 3.00617531501963768e-309, "3.00617531501964e-309|50" },
  { 5.72088933523418727e-247, "5.720889335234187e-247" },
  { 1.97764000000000015e+04, "19776.4" },
  { 1.42556211540740124e-308, "1.425562115407401e-308|52" },
  { -6.46523863344130610e-117, "-6.465238633441306e-117" },
  { 2.19673525124179511e+158, "2.196735251241795e158" },
  { 2.95340000000000000e+06, "2953400.0" },
  { 6.18930999999999995e-03, "0.00618931" },
  { 2.69599466671506368e+67, "2.6959946667150637e67" },
  { 7.40637000000000044e-04, "7.40637e-4" },
  { 5.12000000000000000e+15, "5.12e15" },
  { 2.08809742975952785e-53, "2.088097429759528e-53" },
  { 2.98023223876953125e-08, "2.9802322387695313e-8" },
  { -1.32416449335371925e+15, "-1.3241644933537193e15" },
  { 1.99138850438087125e+14, "1.9913885043808713e14" },
  { -8.86464055016599250e+14, "-8.864640550165993e14" },
};

static void test_flonum_table(void **state)
{
  (void)state;
  char buf[40];
  for (size_t k = 0; k < sizeof flo_cases / sizeof flo_cases[0]; k++) {
    pkp_flonum(buf, flo_cases[k].d);
    if (strcmp(buf, flo_cases[k].s) != 0) print_error("%.17g: got %s\n", flo_cases[k].d, buf);
    assert_string_equal(buf, flo_cases[k].s);
    check(pko_mkflo(flo_cases[k].d), PKP_WRITE, flo_cases[k].s);
    check(pko_mkflo(flo_cases[k].d), PKP_DISPLAY, flo_cases[k].s);
  }
}

static void test_flonum_special(void **state)
{
  (void)state;
  char buf[40];
  pkp_flonum(buf, INFINITY);
  assert_string_equal(buf, "+inf.0");
  pkp_flonum(buf, -INFINITY);
  assert_string_equal(buf, "-inf.0");
  pkp_flonum(buf, NAN);
  assert_string_equal(buf, "+nan.0");
  pkp_flonum(buf, -NAN);
  assert_string_equal(buf, "+nan.0");
  pkp_flonum(buf, -0x1p-1074);
  assert_string_equal(buf, "-5e-324|1");
  pkp_flonum(buf, -1.7976931348623157e308);
  assert_string_equal(buf, "-1.7976931348623157e308");
}

/* Every flonum printed reads back as the same double. */
static void test_flonum_round_trip(void **state)
{
  (void)state;
  uint64_t x = 88172645463325252ull;
  char buf[40];
  for (int k = 0; k < 20000; k++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    double d;
    memcpy(&d, &x, sizeof d);
    if (!isfinite(d)) continue;
    pkp_flonum(buf, d);
    buf[strcspn(buf, "|")] = 0;
    pk_val v = read1(buf);
    assert_true(pko_isa(v, PK_T_FLONUM));
    assert_memory_equal(&d, &((pko_flonum *)v)->d, sizeof d);
  }
}

/* The significant digits of a printed flonum, without leading or
   trailing zeros. */
static void flonum_digits(const char *s, char *dig)
{
  size_t n = 0;
  for (; *s && *s != 'e' && *s != '|'; s++)
    if (*s >= '0' && *s <= '9' && (n || *s != '0')) dig[n++] = *s;
  while (n > 1 && dig[n - 1] == '0') n--;
  dig[n] = 0;
}

/* A decimal of 15 or fewer significant digits (normal range) prints as
   exactly those digits: it is the only one that short in the double's
   rounding interval, so the shortest (pkp_short15's fast path). */
static void test_flonum_short_decimals(void **state)
{
  (void)state;
  uint64_t x = 2463534242ull;
  char text[48], want[24], got[24], buf[40];
  for (int k = 0; k < 20000; k++) {
    int nd = 0;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int len = 1 + (int)(x % 15), ex = (int)((x >> 8) % 601) - 300;
    for (int j = 0; j < len; j++)
      want[nd++] = (char)('0' + (j == 0 ? 1 + (x >> (12 + j)) % 9 : (x >> (12 + 3 * j)) % 10));
    while (nd > 1 && want[nd - 1] == '0') nd--;
    want[nd] = 0;
    snprintf(text, sizeof text, "%c.%se%d", want[0], nd > 1 ? want + 1 : "0", ex);
    pkp_flonum(buf, strtod(text, NULL));
    flonum_digits(buf, got);
    if (strcmp(got, want) != 0) print_error("%s: got %s\n", text, buf);
    assert_string_equal(got, want);
  }
}

/* ---- other atoms ------------------------------------------------------- */

static void test_integers(void **state)
{
  (void)state;
  check(pko_mkint(0), PKP_WRITE, "0");
  check(pko_mkint(-7), PKP_WRITE, "-7");
  check(pko_mkint(PK_FIXNUM_MAX), PKP_WRITE, "4611686018427387903");
  check(pko_mkint(PK_FIXNUM_MAX + 1), PKP_WRITE, "4611686018427387904");
  check(pko_mkint(PK_FIXNUM_MIN - 1), PKP_DISPLAY, "-4611686018427387905");
  check(pko_mkint(INT64_MIN), PKP_WRITE, "-9223372036854775808");
  check(pko_mkint(INT64_MAX), PKP_WRITE, "9223372036854775807");
}

/* Ratios write and display as NUM/DEN, as Chez. */
static void test_ratios(void **state)
{
  (void)state;
  check(pko_mkratio(1, 2), PKP_WRITE, "1/2");
  check(pko_mkratio(-6, 8), PKP_DISPLAY, "-3/4");
  check(pko_mkratio(6, -8), PKP_WRITE, "-3/4");
  check(pko_mkratio(INT64_MIN, 3), PKP_WRITE, "-9223372036854775808/3");
  check(pko_mkratio(INT64_MAX, INT64_MAX - 1), PKP_WRITE, "9223372036854775807/9223372036854775806");
  check(pko_mkratio(INT64_MIN, 2), PKP_WRITE, "-4611686018427387904");
  check(pko_mkratio(0, 5), PKP_WRITE, "0");
  check(pko_mkratio(10, 5), PKP_WRITE, "2");
  assert_true(pko_fixnump(pko_mkratio(10, 5)));
  check(read1("(a 1/2 #(-1/3) (b . 2/3))"), PKP_WRITE, "(a 1/2 #(-1/3) (b . 2/3))");
  check(read1("(1/2 -5/7)"), PKP_WRITEQ, "(1/2 -5/7)");
}

static void test_chars(void **state)
{
  (void)state;
  check(pko_mkchar('a'), PKP_WRITE, "#\\a");
  check(pko_mkchar('a'), PKP_DISPLAY, "a");
  check(pko_mkchar(0x3bb), PKP_DISPLAY, "\xce\xbb");
  check(pko_mkchar(0), PKP_DISPLAY, "");
  check(pko_mkchar(0x7f), PKP_WRITE, "#\\delete");
  check(pko_mkchar(0x9f), PKP_WRITE, "#\\\xc2\x9f");
  check(pko_mkchar(0x1F600), PKP_WRITE, "#\\\xf0\x9f\x98\x80");
  check(pko_mkchar(0x110000), PKP_WRITE, "#\\x110000");
  check(pko_mkchar(0xD800), PKP_WRITE, "#\\xD800");
  check(pko_mkchar(0xD800), PKP_DISPLAY, "\xef\xbf\xbd");
}

/* pkp_tostring stops at NUL, so strings with NUL are checked via pkp_buf. */
static void test_strings(void **state)
{
  (void)state;
  pk_val s = pko_mkstr("a\0b", 3);
  pkp_buf b;
  pkp_init(&b);
  pkp_print(&b, s, PKP_DISPLAY);
  assert_int_equal(b.len, 3);
  assert_memory_equal(b.s, "a\0b", 3);
  pkp_free(&b);
  check(s, PKP_WRITE, "\"a\\x0;b\"");
  /* bytes that are not UTF-8 are written as their byte value */
  check(pko_mkcstr("x\xff\xc3y"), PKP_WRITE, "\"x\\xFF;\\xC3;y\"");
  check(pko_mkcstr("\xed\xa0\x80"), PKP_WRITE, "\"\\xED;\\xA0;\\x80;\"");
  check(pko_mkcstr("x\xff"), PKP_DISPLAY, "x\xff");
  check(pko_mkcstr(""), PKP_WRITE, "\"\"");
  check(pko_mkcstr(""), PKP_DISPLAY, "");
}

static void test_symbols(void **state)
{
  (void)state;
  check(pko_sym("a b"), PKP_WRITE, "a\\x20;b");
  check(pko_sym("a b"), PKP_DISPLAY, "a b");
  check(pko_sym(""), PKP_WRITE, "||");
  check(pko_sym(""), PKP_DISPLAY, "");
  check(pko_sym("1"), PKP_WRITE, "\\x31;");
  check(pko_sym("-1"), PKP_WRITE, "\\x2D;1");
  check(pko_sym("+i"), PKP_WRITE, "\\x2B;i");
  check(pko_sym(".."), PKP_WRITE, "\\x2E;.");
  check(pko_sym("."), PKP_WRITE, "\\x2E;");
  check(pko_sym("x\ny"), PKP_WRITE, "x\\xA;y");
  check(pko_sym("\xff"), PKP_WRITE, "\\xFF;");
  check(pko_sym("a\xc2\xa0"
                "b"),
        PKP_WRITE, "a\\xA0;b");
  check(pko_intern("a\0b", 3), PKP_WRITE, "a\\x0;b");
  /* a renamed symbol prints as its base */
  check(pko_gensym(pko_sym("loop")), PKP_WRITE, "loop");
}

static void test_immediates(void **state)
{
  (void)state;
  check(PK_TRUE, PKP_WRITE, "#t");
  check(PK_FALSE, PKP_DISPLAY, "#f");
  check(PK_NIL, PKP_WRITE, "()");
  check(PK_EOF, PKP_WRITE, "#!eof");
  check(PK_UNBOUND, PKP_WRITE, "#<unbound object>");
  /* void prints nothing at top level, #<void> inside a structure */
  check(PK_VOID, PKP_WRITE, "#<void>"); /* as Chez: (write (if #f #f)) */
  check(PK_VOID, PKP_DISPLAY, "#<void>");
  check(pko_list(3, pko_mkfix(1), PK_VOID, pko_mkfix(2)), PKP_WRITE, "(1 #<void> 2)");
  pk_val v = pko_mkvec(1, PK_VOID);
  check(v, PKP_DISPLAY, "#(#<void>)");
}

static void test_vars(void **state)
{
  (void)state;
  check(pko_mkvar(0), PKP_WRITE, "_.0");
  check(pko_mkvar(12345), PKP_DISPLAY, "_.12345");
  check(pko_cons(pko_mkvar(1), pko_mkvar(2)), PKP_WRITE, "(_.1 . _.2)");
  check_json(pko_list(2, pko_mkvar(3), pko_sym("_.4")), "[{\"var\":3},{\"var\":4}]");
  check_json(pko_list(2, pko_sym("_.04"), pko_sym("_.x")), "[{\"sym\":\"_.04\"},{\"sym\":\"_.x\"}]");
}

/* A primitive object as pko_defprim would make it. */
static pk_val make_prim(const char *name)
{
  pko_prim *p = (pko_prim *)pko_obj(PK_T_PRIM, sizeof(pko_prim));
  p->name = name;
  return (pk_val)p;
}

static void test_procedures(void **state)
{
  (void)state;
  pk_val p = make_prim("car");
  check(p, PKP_WRITE, "#<procedure car>");
  check(p, PKP_DISPLAY, "#<procedure car>");
  check(pko_obj(PK_T_GOAL, 16), PKP_WRITE, "#<procedure>");
  check(pko_obj(PK_T_OPAQUE, 16), PKP_WRITE, "#<procedure>");
  check(pko_list(1, pko_obj(PK_T_GOAL, 16)), PKP_WRITE, "(#<procedure>)");
}

/* write keeps (quote x) as is; display abbreviates two-element lists only,
   and only for the interned symbols. */
static void test_quote_forms(void **state)
{
  (void)state;
  pk_val q = pko_list(2, pko_sym("quote"), pko_sym("x"));
  check(q, PKP_WRITE, "(quote x)");
  check(q, PKP_DISPLAY, "'x");
  check(pko_list(2, pko_sym("unquote-splicing"), q), PKP_DISPLAY, ",@'x");
  check(pko_list(3, pko_sym("quote"), pko_mkfix(1), pko_mkfix(2)), PKP_DISPLAY, "(quote 1 2)");
  check(pko_cons(pko_sym("quote"), pko_cons(pko_mkfix(1), pko_mkfix(2))), PKP_DISPLAY, "(quote 1 . 2)");
  check(pko_list(2, pko_gensym(pko_sym("quote")), pko_mkfix(1)), PKP_DISPLAY, "(quote 1)");
  /* PKP_WRITEQ: write with abbreviations, as Chez's pretty-print */
  check(read1("(a 'b \"s\" #\\c `(x ,y ,@z) (quote 1 2))"), PKP_WRITEQ, "(a 'b \"s\" #\\c `(x ,y ,@z) (quote 1 2))");
  check(q, PKP_WRITEQ, "'x");
}

static void test_json(void **state)
{
  (void)state;
  check_json(read1("(a \"b\" 1 -2.5 #t #f ())"), "[{\"sym\":\"a\"},\"b\",1,-2.5,true,false,[]]");
  check_json(read1("(a . b)"), "{\"pair\":[{\"sym\":\"a\"},{\"sym\":\"b\"}]}");
  check_json(read1("(1 2 . 3)"), "{\"pair\":[1,{\"pair\":[2,3]}]}");
  check_json(read1("((a . b) #(1 2) #())"),
             "[{\"pair\":[{\"sym\":\"a\"},{\"sym\":\"b\"}]},{\"vector\":[1,2]},{\"vector\":[]}]");
  check_json(read1("(1e21 1e-7 1.0 +inf.0 -inf.0 +nan.0)"),
             "[1e21,1e-7,1.0,{\"float\":\"inf\"},{\"float\":\"-inf\"},{\"float\":\"nan\"}]");
  /* an answer with constraints, as reification marks it */
  check_json(
      pko_cons_answer(pko_sym("_.0"), read1("((=/= ((_.0 a))) (sym _.0))")),
      "{\"answer\":{\"var\":0},\"constraints\":{\"=/=\":[[[{\"var\":0},{\"sym\":\"a\"}]]],\"sym\":[{\"var\":0}]}}");
  check_json(read1("(_.0 (=/= ((_.0 a))))"), "[{\"var\":0},[{\"sym\":\"=/=\"},[[{\"var\":0},{\"sym\":\"a\"}]]]]");
  check_json(pko_mkflo(0x1p-1074), "5e-324");
  check_json(read1("\"q\\\"b\\\\s\\n\\t\\x1;\\x7f;\\xe9;\""), "\"q\\\"b\\\\s\\n\\t\\u0001\x7f\xc3\xa9\"");
  check_json(pko_mkcstr("\xff"), "\"\\u00ff\"");
  check_json(read1("(#\\a #\\space |a b| 9223372036854775807)"),
             "[{\"char\":\"a\"},{\"char\":\" \"},{\"sym\":\"a b\"},9223372036854775807]");
  check_json(pko_list(2, PK_VOID, PK_EOF), "[{\"other\":\"#<void>\"},{\"other\":\"#!eof\"}]");
  check_json(pko_mkvar(7), "{\"var\":7}");
  check_json(PK_NIL, "[]");
  /* an exact ratio is {"ratio":[n,d]} (JSON numbers are doubles) */
  check_json(read1("(1/2 -3/4 4/2)"), "[{\"ratio\":[1,2]},{\"ratio\":[-3,4]},2]");
}

/* The printer's output is exactly what the reader reads back. */
static void test_round_trip(void **state)
{
  (void)state;
  for (size_t k = 0; k < sizeof chez_cases / sizeof chez_cases[0]; k++) {
    pk_val v = read1(chez_cases[k].in);
    char *s = pkp_tostring(v, PKP_WRITE);
    assert_true(pko_equal(v, read1(s)));
    free(s);
  }
}

/* ---- deep terms -------------------------------------------------------- */

#define DEEP 1000000

/* Text of n copies of open, then mid, then n copies of close. */
static char *nest_text(size_t n, const char *open, const char *mid, const char *close)
{
  size_t lo = strlen(open), lm = strlen(mid), lc = strlen(close);
  char *s = malloc(n * (lo + lc) + lm + 1), *o = s;
  assert_non_null(s);
  for (size_t k = 0; k < n; k++, o += lo) memcpy(o, open, lo);
  memcpy(o, mid, lm);
  o += lm;
  for (size_t k = 0; k < n; k++, o += lc) memcpy(o, close, lc);
  *o = 0;
  return s;
}

static void test_deep_list(void **state)
{
  (void)state;
  pk_val v = pko_sym("x");
  for (int k = 0; k < DEEP; k++) v = pko_cons(v, PK_NIL);
  char *want = nest_text(DEEP, "(", "x", ")");
  check(v, PKP_WRITE, want);
  check(v, PKP_DISPLAY, want);
  free(want);
  want = nest_text(DEEP, "[", "{\"sym\":\"x\"}", "]");
  check_json(v, want);
  free(want);
}

static void test_deep_cdr_and_long(void **state)
{
  (void)state;
  pk_val v = pko_sym("b");
  for (int k = 0; k < DEEP; k++) v = pko_cons(pko_sym("a"), pko_cons(v, PK_NIL));
  char *want = nest_text(DEEP, "(a ", "b", ")");
  check(v, PKP_WRITE, want);
  free(want);
  pk_val l = PK_NIL;
  for (int k = 0; k < DEEP; k++) l = pko_cons(pko_mkfix(1), l);
  char *s = pkp_tostring(l, PKP_WRITE);
  assert_int_equal(strlen(s), 2 * DEEP + 1);
  assert_memory_equal(s, "(1 1 1", 6);
  assert_string_equal(s + 2 * DEEP - 4, " 1 1)");
  free(s);
}

static void test_deep_vector_and_quote(void **state)
{
  (void)state;
  pk_val v = pko_mkvec(0, PK_NIL);
  for (int k = 0; k < DEEP; k++) v = pko_mkvec(1, v);
  char *want = nest_text(DEEP, "#(", "#()", ")");
  check(v, PKP_WRITE, want);
  free(want);
  pk_val q = pko_sym("x"), quote = pko_sym("quote");
  for (int k = 0; k < DEEP; k++) q = pko_list(2, quote, q);
  want = nest_text(DEEP, "'", "x", "");
  check(q, PKP_DISPLAY, want);
  free(want);
  want = nest_text(DEEP, "(quote ", "x", ")");
  check(q, PKP_WRITE, want);
  free(want);
}

/* ---- buffers ----------------------------------------------------------- */

static void test_buffers(void **state)
{
  (void)state;
  pkp_buf b;
  pkp_init(&b);
  pkp_putc(&b, 'a');
  pkp_puts(&b, "bcd", 3);
  pkp_printf(&b, "%d-%s", 42, "x");
  assert_string_equal(b.s, "abcd42-x");
  char big[5000];
  memset(big, 'z', sizeof big - 1);
  big[sizeof big - 1] = 0;
  pkp_printf(&b, "[%s]", big);
  assert_int_equal(b.len, 8 + 2 + 4999);
  assert_int_equal(b.s[b.len], 0);
  assert_int_equal(b.s[b.len - 1], ']');
  pkp_printf(&b, "%s", "");
  assert_int_equal(b.len, 8 + 2 + 4999);
  pkp_print(&b, pko_mkfix(5), PKP_WRITE);
  assert_int_equal(b.s[b.len - 1], '5');
  pkp_free(&b);
  assert_null(b.s);
  assert_int_equal(b.len, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_chez_corpus),
    cmocka_unit_test(test_flonum_table),
    cmocka_unit_test(test_flonum_special),
    cmocka_unit_test(test_flonum_round_trip),
    cmocka_unit_test(test_flonum_short_decimals),
    cmocka_unit_test(test_integers),
    cmocka_unit_test(test_ratios),
    cmocka_unit_test(test_chars),
    cmocka_unit_test(test_strings),
    cmocka_unit_test(test_symbols),
    cmocka_unit_test(test_immediates),
    cmocka_unit_test(test_vars),
    cmocka_unit_test(test_procedures),
    cmocka_unit_test(test_quote_forms),
    cmocka_unit_test(test_json),
    cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_deep_list),
    cmocka_unit_test(test_deep_cdr_and_long),
    cmocka_unit_test(test_deep_vector_and_quote),
    cmocka_unit_test(test_buffers),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
