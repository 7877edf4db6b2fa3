/*
** test_read.c — unit tests for the reader (pk_read.c).
**
** Data are checked through the printer (write), whose output for each case
** is what Chez Scheme 9.5 writes for the same datum (tensor literals and
** the static errors aside, which are pkanren's own).  Every error case
** asserts the whole "file:line:col: message" text.  Deep inputs (1,000,000
** levels) prove that nothing recurses in C.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <math.h>
#include <unistd.h>
#include <cmocka.h>

#include "pk_print.h"
#include "pk_read.h"

static int setup(void **state)
{
  (void)state;
  pko_init();
  return 0;
}

/* Every datum of text, written and separated by one space.  A reader
   error is re-thrown after the text so far is freed. */
static char *read_all(const char *text, size_t len)
{
  pkr_reader *r = pkr_open("t", text, len);
  pkp_buf *b = malloc(sizeof *b); /* not automatic: valid after a longjmp */
  assert_non_null(b);
  pkp_init(b);
  pk_val v;
  pko_catch c;
  if (!PKO_TRY(c)) {
    pkp_free(b);
    free(b);
    pko_rethrow();
  }
  for (int n = 0; pkr_next(r, &v); n++) {
    if (n) pkp_putc(b, ' ');
    pkp_print(b, v, PKP_WRITE);
  }
  PKO_END(c);
  if (!b->s) pkp_putc(b, 0);
  char *s = b->s;
  free(b);
  return s;
}

/* Assert that text reads as data that write as want. */
static void check(const char *text, const char *want)
{
  char *s = read_all(text, strlen(text));
  if (strcmp(s, want) != 0) print_error("%s: got [%.200s] want [%.200s]\n", text, s, want);
  assert_true(strcmp(s, want) == 0);
  free(s);
}

/* The one datum in text. */
static pk_val read1(const char *text)
{
  pkr_reader *r = pkr_open("t", text, strlen(text));
  pk_val v = PK_NIL;
  assert_true(pkr_next(r, &v));
  assert_false(pkr_next(r, &(pk_val){ 0 }));
  return v;
}

/* Assert that reading len bytes of text throws exactly want (status 2). */
static void check_error_n(const char *text, size_t len, const char *want)
{
  pko_catch c;
  if (PKO_TRY(c)) {
    char *s = read_all(text, len);
    PKO_END(c);
    print_error("%s: read as [%s], want error %s\n", text, s, want);
    free(s);
    fail();
  }
  if (strcmp(pko_err.msg, want) != 0) print_error("%s: got [%s] want [%s]\n", text, pko_err.msg, want);
  assert_string_equal(pko_err.msg, want);
  assert_int_equal(pko_err.status, PK_STATUS_STATIC);
}

static void check_error(const char *text, const char *want) { check_error_n(text, strlen(text), want); }

/* ---- atoms ------------------------------------------------------------- */

static void test_integers(void **state)
{
  (void)state;
  check("0 -0 +5 00012 42", "0 0 5 12 42");
  check("4611686018427387903 4611686018427387904", "4611686018427387903 4611686018427387904");
  check("-4611686018427387904 -4611686018427387905", "-4611686018427387904 -4611686018427387905");
  check("9223372036854775807 -9223372036854775808", "9223372036854775807 -9223372036854775808");
  assert_true(pko_fixnump(read1("4611686018427387903")));
  assert_true(pko_isa(read1("4611686018427387904"), PK_T_INT));
  assert_int_equal(pko_intval(read1("-9223372036854775808")), INT64_MIN);
  check("#x10 #XfF #x-ff #b101 #o17 #d99 #x+1", "16 255 -255 5 15 99 1");
}

static void test_flonums(void **state)
{
  (void)state;
  check("1.5 .5 -.5 +.5 1. 1e3 1E3 1.5e3 1e-5 1.e5 -0.0 1d3 1s2 1f0 1l1",
        "1.5 0.5 -0.5 0.5 1.0 1000.0 1000.0 1500.0 1e-5 100000.0 -0.0 1000.0 100.0 1.0 10.0");
  check("+inf.0 -inf.0 +nan.0 -nan.0 1e400 -1e400 1e-400", "+inf.0 -inf.0 +nan.0 +nan.0 +inf.0 -inf.0 0.0");
  check("0.1 123456.789 6.02e23 5e-324", "0.1 123456.789 6.02e23 5e-324|1");
  assert_true(pko_isa(read1("1e3"), PK_T_FLONUM));
  assert_true(signbit(pko_flo(read1("-0.0"))));
}

/* Ratios: exact, in lowest terms, sign on the numerator only; outputs as
   Chez 9.5 writes the same data. */
static void test_ratios(void **state)
{
  (void)state;
  check("1/2 -3/4 +6/8 4/2 -4/2 0/5 -0/5 10/4", "1/2 -3/4 3/4 2 -2 0 0 5/2");
  check("9223372036854775807/2 -9223372036854775808/3 -9223372036854775808/2",
        "9223372036854775807/2 -9223372036854775808/3 -4611686018427387904");
  check("9223372036854775806/9223372036854775807", "9223372036854775806/9223372036854775807");
  check("#x10/3 #xff/2 #b101/11 #o-17/2 #d6/4 #d1.5", "16/3 255/2 5/3 -15/2 3/2 1.5");
  /* not numbers: symbols, as in Chez */
  check("1/-2 1/+2 1//2 /2 1/ 1/2/3 1.0/2 1/2.0 1/a",
        "\\x31;/-2 \\x31;/+2 \\x31;//2 /2 \\x31;/ \\x31;/2/3 \\x31;.0/2 \\x31;/2.0 \\x31;/a");
  check("(1/2 . 3/4) #(1/3)", "(1/2 . 3/4) #(1/3)");
  pk_val v = read1("-6/4");
  assert_true(pko_isa(v, PK_T_RATIO));
  assert_int_equal(pko_as_ratio(v)->num, -3);
  assert_int_equal(pko_as_ratio(v)->den, 2);
  assert_true(pko_fixnump(read1("8/4")));
  assert_true(pko_eqv(read1("1/2"), read1("2/4")));
  assert_true(pko_equal(read1("(1/2)"), read1("(3/6)")));
  assert_false(pko_eqv(read1("1/2"), read1("0.5")));
  assert_false(pko_eqv(read1("1/2"), read1("1/3")));
  assert_true(pko_numberp(read1("1/3")));
}

/* Tokens that are not numbers are symbols, as in Chez. */
static void test_symbols(void **state)
{
  (void)state;
  check("abc ABC Abc a.b ... -> ->x + - <=? !$%&*/:<=>?^_~", "abc ABC Abc a.b ... -> ->x + - <=? !$%&*/:<=>?^_~");
  assert_true(read1("abc") != read1("ABC"));
  assert_true(read1("abc") == pko_sym("abc"));
  check("1+ 1a 1e 1.5.5 1..2 .e5 +. -x +x .x inf 1_000",
        "\\x31;+ \\x31;a \\x31;e \\x31;.5.5 \\x31;..2 \\x2E;e5 \\x2B;. \\x2D;x \\x2B;x \\x2E;x inf \\x31;_000");
  check("|a b| || |a|b a|b c|d |(|", "a\\x20;b || ab ab\\x20;cd \\x28;");
  check("a\\x41;b \\x41; a\\ b a\\(b a\\n", "aAb A a\\x20;b a\\x28;b an");
  check("|a\\x41;b|", "a\\x5C;x41\\x3B;b");
  check("\xce\xbbx _.0 x\xc3\xa9", "\xce\xbbx _.0 x\xc3\xa9");
  assert_string_equal(pko_symname(read1("|a b|")), "a b");
  assert_int_equal(pko_as_sym(read1("||"))->len, 0);
  assert_int_equal(pko_as_sym(read1("a\\x0;b"))->len, 3);
}

static void test_booleans(void **state)
{
  (void)state;
  check("#t #f #true #false #T #F #tRuE #False", "#t #f #t #f #t #f #t #f");
  check("(#t)(#f)", "(#t) (#f)");
}

static void test_chars(void **state)
{
  (void)state;
  check("#\\a #\\A #\\space #\\newline #\\tab #\\nul #\\return #\\x41 #\\x",
        "#\\a #\\A #\\space #\\newline #\\tab #\\nul #\\return #\\A #\\x");
  check("#\\( #\\) #\\; #\\\" #\\\\ #\\# #\\[", "#\\( #\\) #\\; #\\\" #\\\\ #\\# #\\[");
  check("#\\alarm #\\bel #\\backspace #\\vtab #\\vt #\\page #\\esc #\\delete #\\rubout #\\linefeed",
        "#\\alarm #\\alarm #\\backspace #\\vtab #\\vtab #\\page #\\esc #\\delete #\\delete #\\newline");
  check("#\\nel #\\ls #\\x0 #\\x00041 #\\xa #\\x3bb #\\\xce\xbb #\\ ",
        "#\\x85 #\\x2028 #\\nul #\\A #\\newline #\\\xce\xbb #\\\xce\xbb #\\space");
  check("(#\\a)(#\\))#\\a(b)", "(#\\a) (#\\)) #\\a (b)");
  assert_int_equal(pko_charval(read1("#\\x10FFFF")), 0x10FFFF);
  assert_int_equal(pko_charval(read1("#\\\xf0\x9f\x98\x80")), 0x1F600);
}

static void test_strings(void **state)
{
  (void)state;
  check("\"abc\" \"\" \"a\\\"b\" \"a\\\\b\"", "\"abc\" \"\" \"a\\\"b\" \"a\\\\b\"");
  check("\"\\n\\t\\r\\a\\b\\v\\f\"", "\"\\n\\t\\r\\a\\b\\v\\f\"");
  check("\"\\x41;\\x3bb;\\x0;\\x7f;\"", "\"A\xce\xbb\\x0;\\x7F;\"");
  check("\"a\\\n   b\" \"a\\   \n\tb\" \"a\\\r\nb\"", "\"ab\" \"ab\" \"ab\"");
  check("\"line\nbreak\ttab\"", "\"line\\nbreak\\ttab\"");
  check("\"\xc3\xa9\xf0\x9f\x98\x80\"", "\"\xc3\xa9\xf0\x9f\x98\x80\"");
  pk_val s = read1("\"a\\x0;b\"");
  assert_int_equal(pko_as_str(s)->len, 3);
  assert_memory_equal(pko_as_str(s)->s, "a\0b", 4);
  pkr_reader *r = pkr_open("t", "\"a\0b\"", 5);
  assert_true(pkr_next(r, &s));
  assert_int_equal(pko_as_str(s)->len, 3);
  check_error_n("x \0", 3, "t:1:3: invalid character \\x0;");
}

/* ---- compound data ----------------------------------------------------- */

static void test_lists(void **state)
{
  (void)state;
  check("() (a) (a b c) (a . b) (a b . c) (a . (b . (c))) ((a) (b . c))",
        "() (a) (a b c) (a . b) (a b . c) (a b c) ((a) (b . c))");
  check("[a b] (a [b c] d) [] [a . b]", "(a b) (a (b c) d) () (a . b)");
  check("(a.b) (a .b) (a. b) (.5 . .5)", "(a.b) (a \\x2E;b) (a. b) (0.5 . 0.5)");
  check("(a\n;comment\n b)", "(a b)");
  check("(a(b)c\"d\"e)", "(a (b) c \"d\" e)");
  pk_val v = read1("(1 2 3)");
  assert_true(pko_pairp(v) && pko_groundp(v));
}

static void test_vectors(void **state)
{
  (void)state;
  check("#() #(1 2) #(a (b . c) #(d)) #(\"s\" #\\c)", "#() #(1 2) #(a (b . c) #(d)) #(\"s\" #\\c)");
  pk_val v = read1("#(1 2 3)");
  assert_true(pko_isa(v, PK_T_VECTOR));
  assert_int_equal(pko_as_vec(v)->len, 3);
  assert_true(pko_as_vec(v)->items[2] == pko_mkfix(3));
}

static void test_quotes(void **state)
{
  (void)state;
  check("'a 'b `(a ,b ,@c) '() ''a",
        "(quote a) (quote b) (quasiquote (a (unquote b) (unquote-splicing c))) (quote ()) (quote (quote a))");
  check("' a '\n;c\n b (a 'b . 'c) ,@ x ,'x",
        "(quote a) (quote b) (a (quote b) quote c) (unquote-splicing x) (unquote (quote x))");
  check("a'b a`b a,b", "a (quote b) a (quasiquote b) a (unquote b)");
}

/* #[...] reads as one tensor atom: nested rows give the shape, int64 when
   every element is exact, else float64; it prints back as #[...]. */
static void test_tensors(void **state)
{
  (void)state;
  check("#[1.0 2.0]", "#[1.0 2.0]");
  check("#[[10.0 0.0] [0.0 10.0]]", "#[[10.0 0.0] [0.0 10.0]]");
  check("#[#[1] #[2]] #[] #[-3.0] #[[]]", "#[[1] [2]] #[] #[-3.0] #[[]]");
  check("(observed #[-3.0] (f #[[1 2]]))", "(observed #[-3.0] (f #[[1 2]]))");
  check("#[[[1 2] [3 4]] [[5 6] [7 8]]]", "#[[[1 2] [3 4]] [[5 6] [7 8]]]");
  check("#[1 2.5 1/2 ; c\n #| b |# -0.0 1e300]", "#[1.0 2.5 0.5 -0.0 1e300]");
  pk_val t = read1("#[[1 2 3] [4 5 6]]");
  assert_true(pko_isa(t, PK_T_TENSOR));
  const pko_tensor *x = pko_as_tensor(t);
  assert_int_equal(x->rank, 2);
  assert_int_equal(x->dims[0], 2);
  assert_int_equal(x->dims[1], 3);
  assert_int_equal(x->h.aux, PKO_TENSOR_I64);
  assert_int_equal(pko_tensor_i64(x)[5], 6);
  /* equal? compares type, shape and elements; eqv? only identity */
  assert_true(pko_equal(t, read1("#[[1 2 3] [4 5 6]]")));
  assert_false(pko_eqv(t, read1("#[[1 2 3] [4 5 6]]")));
  assert_true(pko_tensor_hash(t) == pko_tensor_hash(read1("#[[1 2 3] [4 5 6]]")));
  assert_false(pko_equal(t, read1("#[[1 2] [3 4] [5 6]]")));
  assert_false(pko_equal(t, read1("#[1 2 3 4 5 6]")));
  assert_false(pko_equal(t, read1("#[[1.0 2 3] [4 5 6]]")));
  assert_false(pko_equal(read1("#[0.0]"), read1("#[-0.0]")));
  assert_true(pko_equal(read1("(a #[1.5])"), read1("(a #[1.5])")));
}

static const struct {
  const char *in, *msg;
} tensor_errors[] = {
  { "#[[1 2] [3]]", "t:1:9: ragged tensor literal: a row of 1 where 2 were expected" },
  { "#[[1 2]\n [3 4 5]]", "t:2:2: ragged tensor literal: a row of 3 where 2 were expected" },
  { "#[[1 2] 3]", "t:1:9: ragged tensor literal: a number where a row was expected" },
  { "#[1 [2]]", "t:1:5: ragged tensor literal: a row where a number was expected" },
  { "#[[] [1]]", "t:1:6: ragged tensor literal: a row of 1 where 0 were expected" },
  { "#[1 a]", "t:1:5: tensor literal elements must be numbers" },
  { "#[1 \"s\"]", "t:1:5: tensor literal elements must be numbers" },
  { "#[(1 2)]", "t:1:3: tensor literal elements must be numbers" },
  { "#[1 #t]", "t:1:5: tensor literal elements must be numbers" },
};

/* Each malformed tensor literal fails at the offending row or element. */
static void test_tensor_errors(void **state)
{
  (void)state;
  for (size_t k = 0; k < sizeof tensor_errors / sizeof tensor_errors[0]; k++) {
    pko_catch c;
    if (PKO_TRY(c)) {
      read_all(tensor_errors[k].in, strlen(tensor_errors[k].in));
      PKO_END(c);
      fail_msg("no error for %s", tensor_errors[k].in);
    }
    assert_int_equal(pko_err.status, PK_STATUS_STATIC);
    assert_string_equal(pko_err.msg, tensor_errors[k].msg);
  }
}

/* ---- comments and directives ------------------------------------------- */

static void test_comments(void **state)
{
  (void)state;
  check("a ; comment\nb ;last", "a b");
  check("#| block |# a #| nested #| deeper |# still |# b", "a b");
  check("#||# a #|#||#|# b", "a b");
  check("#;x a #;(b c) d (e #;f g) #; #; h i j", "a d (e g) j");
  check("(a #;'b c) #;#(1 2) x #;#[1] y #;\"s\" z", "(a c) x y z");
  check("#!r6rs a #!chezscheme b", "a b");
  check("#!eof", "#!eof");
  assert_true(read1("#!eof") == PK_EOF);
  check("", "");
  check("  ; only a comment\n #| and a block |#  ", "");
}

/* A first line "#!/..." or "#! ..." is a script's interpreter line; a UTF-8
   byte-order mark is skipped. */
static void test_script_header(void **state)
{
  (void)state;
  check("#!/usr/bin/env pkanren\n(a)", "(a)");
  check("#! pkanren\n(a)", "(a)");
  check("\xef\xbb\xbf(a)", "(a)");
  check("\xef\xbb\xbf#!/bin/x\n(a)", "(a)");
  pk_val v = read1("#!/x\n(a)");
  pk_srcpos p;
  assert_true(pkr_pos(v, &p));
  assert_int_equal(p.line, 2);
  assert_int_equal(p.col, 1);
}

/* ---- errors ------------------------------------------------------------ */

static const struct {
  const char *in, *msg;
} errors[] = {
  { "(a b", "t:1:1: unexpected end-of-file reading list" },
  { "(a\n (b c)\n (d", "t:3:2: unexpected end-of-file reading list" },
  { "[a", "t:1:1: unexpected end-of-file reading list" },
  { "#(1", "t:1:1: unexpected end-of-file reading vector" },
  { "#[1", "t:1:1: unexpected end-of-file reading tensor literal" },
  { "'", "t:1:1: unexpected end-of-file reading quote" },
  { "  `", "t:1:3: unexpected end-of-file reading quasiquote" },
  { ",", "t:1:1: unexpected end-of-file reading unquote" },
  { ",@", "t:1:1: unexpected end-of-file reading unquote-splicing" },
  { "#;", "t:1:1: unexpected end-of-file reading #; datum comment" },
  { "a )", "t:1:3: unexpected close parenthesis" },
  { "]", "t:1:1: unexpected close bracket" },
  { "(')", "t:1:3: unexpected close parenthesis" },
  { "(#;)", "t:1:4: unexpected close parenthesis" },
  { "(a]", "t:1:3: parenthesized list terminated by bracket" },
  { "[a)", "t:1:3: bracketed list terminated by parenthesis" },
  { "#(a]", "t:1:4: vector terminated by bracket" },
  { "#[1 2)", "t:1:6: tensor literal terminated by parenthesis" },
  { "#[[1 2)]", "t:1:7: tensor literal terminated by parenthesis" },
  { "(a . b c)", "t:1:8: more than one item found after dot (.)" },
  { "(a . b\n (c))", "t:2:2: more than one item found after dot (.)" },
  { "(a .)", "t:1:5: expected one item after dot (.)" },
  { "( . a)", "t:1:3: unexpected dot (.)" },
  { "(a . . b)", "t:1:6: unexpected dot (.)" },
  { "(a . b . c)", "t:1:8: unexpected dot (.)" },
  { "#(1 . 2)", "t:1:5: unexpected dot (.)" },
  { "#[1 . 2]", "t:1:5: tensor literal elements must be numbers" },
  { ".", "t:1:1: unexpected dot (.)" },
  { "'.", "t:1:2: unexpected dot (.)" },
  { "\"abc", "t:1:1: unexpected end-of-file reading string" },
  { "x \"a\\", "t:1:3: unexpected end-of-file reading string" },
  { "\"a\\qb\"", "t:1:3: invalid string character \\q" },
  { "\"a\\0\"", "t:1:3: invalid string character \\0" },
  { "\"a\\x41\"", "t:1:7: invalid character \" in string hex escape" },
  { "\"a\\x;\"", "t:1:5: invalid character ; in string hex escape" },
  { "\"\\x110000;\"", "t:1:4: invalid code point value 1114112 in string hex escape" },
  { "\"\\xd800;\"", "t:1:4: invalid code point value 55296 in string hex escape" },
  { "\"\\xffffffffffffffffffff;\"", "t:1:4: invalid code point value 16777215 in string hex escape" },
  { "\"a\\   b\"", "t:1:7: unexpected character b after \\<intraline whitespace> in string" },
  { "#|a #| b |# c", "t:1:1: unexpected end-of-file reading block comment" },
  { "a\n  #| x", "t:2:3: unexpected end-of-file reading block comment" },
  { "#z", "t:1:1: invalid sharp-sign prefix #z" },
  { "#", "t:1:1: unexpected end-of-file after #" },
  { "# a", "t:1:1: invalid sharp-sign prefix #\\x20;" },
  { "#'a", "t:1:1: invalid sharp-sign prefix #'" },
  { "#&a", "t:1:1: invalid sharp-sign prefix #&" },
  { "#1=(a)", "t:1:1: invalid sharp-sign prefix #1" },
  { "#vu8(1)", "t:1:1: invalid sharp-sign prefix #v" },
  { "#\\foo", "t:1:1: invalid character name #\\foo" },
  { "#\\SPACE", "t:1:1: invalid character name #\\SPACE" },
  { "#\\ab", "t:1:1: invalid character name #\\ab" },
  { "#\\x41z", "t:1:1: invalid character name #\\x41z" },
  { "#\\x110000", "t:1:1: invalid hex character escape x110000" },
  { "#\\xd800", "t:1:1: invalid hex character escape xd800" },
  { "#\\", "t:1:1: unexpected end-of-file reading character" },
  { "#tru", "t:1:1: invalid boolean #tru" },
  { "#t1", "t:1:1: invalid boolean #t1" },
  { "#falsey", "t:1:1: invalid boolean #falsey" },
  { "|abc", "t:1:1: unexpected end-of-file reading symbol" },
  { "abc|def", "t:1:1: unexpected end-of-file reading symbol" },
  { "ab\\", "t:1:1: unexpected end-of-file reading symbol" },
  { "a\\x41", "t:1:4: unexpected end-of-file reading symbol" },
  { "a\\x4g;", "t:1:5: invalid character g in symbol hex escape" },
  { "a\\x110000;", "t:1:4: invalid code point value 1114112 in symbol hex escape" },
  { "1/0", "t:1:1: cannot represent 1/0" },
  { "(x -3/0)", "t:1:4: cannot represent -3/0" },
  { "1/99999999999999999999", "t:1:1: integer literal too large (no bignums)" },
  { "#x1/0", "t:1:1: cannot represent 1/0" },
  { "99999999999999999999", "t:1:1: integer literal too large (no bignums)" },
  { "9223372036854775808", "t:1:1: integer literal too large (no bignums)" },
  { "-9223372036854775809", "t:1:1: integer literal too large (no bignums)" },
  { "#x10000000000000000", "t:1:1: integer literal too large (no bignums)" },
  { "#x1g", "t:1:1: invalid number syntax #x1g" },
  { "#x", "t:1:1: invalid number syntax #x" },
  { "#d1.5x", "t:1:1: invalid number syntax #d1.5x" },
  { "#x1/g", "t:1:1: invalid number syntax #x1/g" },
  { "#!foo", "t:1:1: invalid syntax #!foo" },
  { "#!", "t:1:1: invalid syntax #!" },
  { "{a}", "t:1:1: unexpected character {" },
  { "(a}", "t:1:3: unexpected character }" },
  { "a\x01", "t:1:2: invalid character \\x1;" },
  { "(a \x7f)", "t:1:4: invalid character \\x7F;" },
  { "\xff", "t:1:1: invalid UTF-8 byte \\xFF;" },
  { "(a \xc3(", "t:1:4: invalid UTF-8 byte \\xC3;" },
  { "\"\xed\xa0\x80\"", "t:1:2: invalid UTF-8 byte \\xED;" },
  { "#\\\xc0\x80", "t:1:3: invalid UTF-8 byte \\xC0;" },
  { "\xce\xbb\xce\xbb )", "t:1:4: unexpected close parenthesis" },
};

static void test_errors(void **state)
{
  (void)state;
  for (size_t k = 0; k < sizeof errors / sizeof errors[0]; k++) check_error(errors[k].in, errors[k].msg);
}

/* Data before an error are returned; the error comes on the next call. */
static void test_error_after_data(void **state)
{
  (void)state;
  pkr_reader *r = pkr_open("f.scm", "(a) (b", 6);
  pk_val v;
  assert_true(pkr_next(r, &v));
  pko_catch c;
  if (PKO_TRY(c)) {
    pkr_next(r, &v);
    PKO_END(c);
    fail();
  }
  assert_string_equal(pko_err.msg, "f.scm:1:5: unexpected end-of-file reading list");
}

/* True if text reads; false after a static error with a position. */
static bool reads(const char *text, size_t n)
{
  pko_catch c;
  if (PKO_TRY(c)) {
    free(read_all(text, n));
    PKO_END(c);
    return true;
  }
  assert_int_equal(pko_err.status, PK_STATUS_STATIC);
  assert_memory_equal(pko_err.msg, "t:", 2);
  return false;
}

/* Random bytes and random token soup: every input either reads or throws
   a static error with a position; nothing crashes or hangs. */
static void test_garbage(void **state)
{
  (void)state;
  static const char *frags[] = {
    "(",        ")",        "[",
    "]",        "#(",       "#[",
    "'",        "`",        ",",
    ",@",       " . ",      ".",
    "\"",       "\\",       "#\\",
    "#|",       "|#",       "#;",
    ";",        "\n",       " ",
    "a",        "1",        "-",
    "1.5",      "e",        "x",
    "#t",       "|",        "#x",
    "\xce\xbb", "\xff",     "\xc3",
    "\x01",     "1/2",      "#!eof",
    "\\x41;",   "#\\space", "99999999999999999999",
  };
  uint64_t x = 0x9E3779B97F4A7C15ull;
  char text[600];
  int ok = 0, bad = 0;
  for (int it = 0; it < 50000; it++) {
    size_t n = 0, len;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    len = x % 80;
    for (size_t k = 0; k < len; k++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      if (x % 3 == 0) {
        text[n++] = (char)(x >> 24);
      } else {
        const char *f = frags[(x >> 8) % (sizeof frags / sizeof frags[0])];
        memcpy(text + n, f, strlen(f));
        n += strlen(f);
      }
    }
    if (reads(text, n))
      ok++;
    else
      bad++;
  }
  assert_true(ok > 100 && bad > 100);
}

/* ---- positions --------------------------------------------------------- */

static void assert_pos(pk_val pair, int line, int col)
{
  pk_srcpos p;
  assert_true(pkr_pos(pair, &p));
  if (p.line != line || p.col != col) print_error("at %d:%d, want %d:%d\n", p.line, p.col, line, col);
  assert_string_equal(p.file, "pos.scm");
  assert_int_equal(p.line, line);
  assert_int_equal(p.col, col);
}

/* A list's first pair is at its open bracket, each later pair at its item;
   a quote form is at the quote character, its inner pair at the datum;
   columns count characters, not bytes. */
static void test_positions(void **state)
{
  (void)state;
  const char *text = "(define (f x)\n  (g 'x\n     \"\xce\xbb\" (h)))\n  (#[1] [2])";
  pkr_reader *r = pkr_open("pos.scm", text, strlen(text));
  pk_val v, t;
  assert_true(pkr_next(r, &v));
  assert_pos(v, 1, 1);
  assert_pos(pko_cdr(v), 1, 9);
  assert_pos(pko_car(pko_cdr(v)), 1, 9);
  assert_pos(pko_cdr(pko_car(pko_cdr(v))), 1, 12);
  pk_val g = pko_car(pko_cdr(pko_cdr(v)));
  assert_pos(pko_cdr(pko_cdr(v)), 2, 3);
  assert_pos(g, 2, 3);
  assert_pos(pko_cdr(g), 2, 6);
  assert_pos(pko_car(pko_cdr(g)), 2, 6);
  assert_pos(pko_cdr(pko_car(pko_cdr(g))), 2, 7);
  assert_pos(pko_cdr(pko_cdr(g)), 3, 6);
  assert_pos(pko_cdr(pko_cdr(pko_cdr(g))), 3, 10);
  assert_pos(pko_car(pko_cdr(pko_cdr(pko_cdr(g)))), 3, 10);
  pk_srcpos here = pkr_here(r);
  assert_int_equal(here.line, 3);
  assert_int_equal(here.col, 15);
  assert_true(pkr_next(r, &t));
  assert_pos(t, 4, 3);
  assert_pos(pko_cdr(t), 4, 9);
  assert_pos(pko_car(pko_cdr(t)), 4, 9);
  assert_false(pkr_next(r, &t));
  here = pkr_here(r);
  assert_int_equal(here.line, 4);
  assert_int_equal(here.col, 13);
  pk_srcpos p;
  assert_false(pkr_pos(pko_cons(pko_mkfix(1), PK_NIL), &p));
  assert_false(pkr_pos(pko_mkfix(1), &p));
  assert_false(pkr_pos(pko_sym("a"), &p));
  /* vectors are rebuilt from a temporary list: no positions inside */
  assert_true(pkr_next(pkr_open("pos.scm", "#((a))", 6), &t));
  assert_pos(pko_as_vec(t)->items[0], 1, 3);
}

static void test_setpos_forget(void **state)
{
  (void)state;
  pk_val p = pko_cons(pko_mkfix(1), PK_NIL), q = read1("(a (b) #((c)) 'd)");
  pk_srcpos in = { "pos.scm", 7, 9 }, out;
  pkr_setpos(p, &in);
  assert_pos(p, 7, 9);
  in.line = 8;
  pkr_setpos(p, &in);
  assert_pos(p, 8, 9);
  char name[32];
  snprintf(name, sizeof name, "%s", "tmp.scm");
  in.file = name;
  pkr_setpos(p, &in);
  name[0] = 'X';
  assert_true(pkr_pos(p, &out));
  assert_string_equal(out.file, "tmp.scm");
  pk_val c = pko_as_vec(pko_car(pko_cdr(pko_cdr(q))))->items[0];
  assert_true(pkr_pos(c, &out));
  pkr_forget(q);
  assert_false(pkr_pos(q, &out));
  assert_false(pkr_pos(pko_car(pko_cdr(q)), &out));
  assert_false(pkr_pos(c, &out));
  assert_true(pkr_pos(p, &out));
  pkr_forget(pko_mkfix(3));
}

/* Positions survive collections; they are kept while the pair is. */
static void test_positions_gc(void **state)
{
  (void)state;
  pk_val keep[64];
  char text[128];
  for (int k = 0; k < 64; k++) {
    snprintf(text, sizeof text, "\n%*s(x %d)", k, "", k);
    keep[k] = read1(text);
    for (int j = 0; j < 2000; j++) pko_cons(pko_mkfix(j), PK_NIL);
  }
  GC_gcollect();
  for (int k = 0; k < 64; k++) {
    pk_srcpos p;
    assert_true(pkr_pos(keep[k], &p));
    assert_int_equal(p.line, 2);
    assert_int_equal(p.col, k + 1);
    assert_int_equal(pko_intval(pko_car(pko_cdr(keep[k]))), k);
  }
}

/* Readers on several threads at once share the position table. */
static void *reader_thread(void *arg)
{
  int id = (int)(intptr_t)arg, bad = 0;
  char text[128];
  for (int k = 0; k < 300; k++) {
    int n = snprintf(text, sizeof text, "(t%d k%d)\n  (a (b %d) c)", id, k, k);
    pkr_reader *r = pkr_open("pos.scm", text, (size_t)n);
    pk_val v, w;
    pk_srcpos p;
    if (!pkr_next(r, &v) || !pkr_next(r, &w))
      bad++;
    else if (!pkr_pos(pko_car(pko_cdr(w)), &p) || p.line != 2 || p.col != 6)
      bad++;
    else if (!pkr_pos(v, &p) || p.line != 1 || p.col != 1)
      bad++;
  }
  return (void *)(intptr_t)bad;
}

static void test_threads(void **state)
{
  (void)state;
  pthread_t th[4];
  for (int k = 0; k < 4; k++) assert_int_equal(pthread_create(&th[k], NULL, reader_thread, (void *)(intptr_t)k), 0);
  for (int k = 0; k < 4; k++) {
    void *bad;
    pthread_join(th[k], &bad);
    assert_int_equal((intptr_t)bad, 0);
  }
}

/* ---- round trip -------------------------------------------------------- */

/* For every datum: its written form reads back equal? and writes the same;
   the expected texts are Chez's. */
static void test_round_trip(void **state)
{
  (void)state;
  static const struct {
    const char *in, *out;
  } corpus[] = {
    { "(define (appendo l s out) (conde ((== '() l) (== s out)) ((fresh (a d res) (== `(,a . ,d) l) (== `(,a . ,res) "
      "out) (appendo d s res)))))",
      "(define (appendo l s out) (conde ((== (quote ()) l) (== s out)) ((fresh (a d res) (== (quasiquote ((unquote a) "
      "unquote d)) l) (== (quasiquote ((unquote a) unquote res)) out) (appendo d s res)))))" },
    { "(run* (q) (=/= q 'a) (absento 'closure q))", "(run* (q) (=/= q (quote a)) (absento (quote closure) q))" },
    { "#(1 \"two\" #\\3 (4 . 5) 6.0 #t ())", "#(1 \"two\" #\\3 (4 . 5) 6.0 #t ())" },
    { "(|a b| \"\\x7f;\\t\" #\\x7 #\\x85 -0.0 1e21 1e-7 +nan.0)",
      "(a\\x20;b \"\\x7F;\\t\" #\\alarm #\\x85 -0.0 1e21 1e-7 +nan.0)" },
    { "(model m (input a (tensor float64 (2))) (output (observed #[-3.0] (NormalRV a 1.0 () rng \"Y\"))))",
      "(model m (input a (tensor float64 (2))) (output (observed #[-3.0] (NormalRV a 1.0 () rng \"Y\"))))" },
    { "(1+ -> ... \\x31;x _.0 a.b)", "(\\x31;+ -> ... \\x31;x _.0 a.b)" },
  };
  for (size_t k = 0; k < sizeof corpus / sizeof corpus[0]; k++) {
    pk_val v = read1(corpus[k].in);
    char *s = pkp_tostring(v, PKP_WRITE);
    assert_string_equal(s, corpus[k].out);
    pk_val w = read1(s);
    char *s2 = pkp_tostring(w, PKP_WRITE);
    assert_string_equal(s2, s);
    if (!strstr(s, "nan")) assert_true(pko_equal(v, w));
    free(s);
    free(s2);
  }
}

/* ---- deep input -------------------------------------------------------- */

#define DEEP 1000000

/* n copies of open, then mid, then n copies of close. */
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

/* Read text (one datum), check it writes as want, then drop its positions. */
static void check_deep(const char *text, const char *want)
{
  pk_val v = read1(text);
  char *s = pkp_tostring(v, PKP_WRITE);
  assert_true(strcmp(s, want) == 0);
  free(s);
  pkr_forget(v);
}

static void test_deep_parens(void **state)
{
  (void)state;
  char *t = nest_text(DEEP, "(", "x", ")");
  check_deep(t, t);
  free(t);
  t = nest_text(DEEP, "[", "", "]");
  char *want = nest_text(DEEP, "(", "", ")");
  check_deep(t, want);
  free(t);
  free(want);
  t = nest_text(DEEP, "(a ", ". b", ")");
  check_deep(t, t);
  free(t);
}

static void test_deep_quotes(void **state)
{
  (void)state;
  char *t = nest_text(DEEP, "'", "x", "");
  char *want = nest_text(DEEP, "(quote ", "x", ")");
  check_deep(t, want);
  free(t);
  free(want);
  t = nest_text(DEEP / 4, "`,,@'", "x", "");
  want = nest_text(DEEP / 4, "(quasiquote (unquote (unquote-splicing (quote ", "x", "))))");
  check_deep(t, want);
  free(t);
  free(want);
  t = nest_text(DEEP, "#;", "", "a ");
  size_t n = strlen(t);
  t = realloc(t, n + 2);
  memcpy(t + n, "b", 2);
  check(t, "b");
  free(t);
}

static void test_deep_vectors_tensors(void **state)
{
  (void)state;
  char *t = nest_text(DEEP, "#(", "", ")");
  check_deep(t, t);
  free(t);
  t = nest_text(DEEP, "#[", "1.0", "]");
  char *want = nest_text(DEEP - 1, "[", "1.0", "]");
  size_t n = strlen(want);
  char *w = malloc(n + 4);
  assert_non_null(w);
  memcpy(w, "#[", 2);
  memcpy(w + 2, want, n);
  memcpy(w + 2 + n, "]", 2);
  check_deep(t, w);
  free(t);
  free(want);
  free(w);
}

static void test_long_list(void **state)
{
  (void)state;
  pkp_buf b;
  pkp_init(&b);
  pkp_putc(&b, '(');
  for (int k = 0; k < DEEP; k++) pkp_printf(&b, k ? " %d" : "%d", k);
  pkp_putc(&b, ')');
  pk_val v = read1(b.s);
  assert_int_equal(pko_length(v), DEEP);
  pk_srcpos p;
  pk_val last = v;
  while (pko_cdr(last) != PK_NIL) last = pko_cdr(last);
  assert_true(pkr_pos(last, &p));
  assert_int_equal(p.col, (int)b.len - 6);
  check_deep(b.s, b.s);
  pkp_free(&b);
}

/* ---- files ------------------------------------------------------------- */

static void test_slurp(void **state)
{
  (void)state;
  char path[] = "/tmp/pk_test_readXXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  static char big[100000];
  for (size_t k = 0; k < sizeof big; k++) big[k] = (char)('a' + k % 26);
  assert_int_equal(write(fd, big, sizeof big), (ssize_t)sizeof big);
  close(fd);
  size_t len = 0;
  char *s = pkr_slurp(path, &len);
  assert_non_null(s);
  assert_int_equal(len, sizeof big);
  assert_memory_equal(s, big, sizeof big);
  assert_int_equal(s[len], 0);
  free(s);
  fd = open(path, O_WRONLY | O_TRUNC);
  close(fd);
  s = pkr_slurp(path, &len);
  assert_non_null(s);
  assert_int_equal(len, 0);
  assert_int_equal(s[0], 0);
  free(s);
  unlink(path);
  errno = 0;
  assert_null(pkr_slurp("/nonexistent/pk/file.scm", &len));
  assert_int_equal(errno, ENOENT);
  assert_null(pkr_slurp("/tmp", &len));
  assert_int_equal(errno, EISDIR);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_integers),
    cmocka_unit_test(test_flonums),
    cmocka_unit_test(test_ratios),
    cmocka_unit_test(test_symbols),
    cmocka_unit_test(test_booleans),
    cmocka_unit_test(test_chars),
    cmocka_unit_test(test_strings),
    cmocka_unit_test(test_lists),
    cmocka_unit_test(test_vectors),
    cmocka_unit_test(test_quotes),
    cmocka_unit_test(test_tensors),
    cmocka_unit_test(test_tensor_errors),
    cmocka_unit_test(test_comments),
    cmocka_unit_test(test_script_header),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_error_after_data),
    cmocka_unit_test(test_garbage),
    cmocka_unit_test(test_positions),
    cmocka_unit_test(test_setpos_forget),
    cmocka_unit_test(test_positions_gc),
    cmocka_unit_test(test_threads),
    cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_deep_parens),
    cmocka_unit_test(test_deep_quotes),
    cmocka_unit_test(test_deep_vectors_tensors),
    cmocka_unit_test(test_long_list),
    cmocka_unit_test(test_slurp),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
