/*
** test_builtin.c — unit tests for the Scheme core's primitives (pk_builtin).
**
** Expressions are written as Scheme text and run by a tiny evaluator that
** knows only quote and calls of global primitives, so these tests need the
** reader and the primitives but not the compiler.  Expected values are
** compared with equal? (so 1 and 1.0 differ); expected values marked in the
** comments come from Chez Scheme 9.5.  Call-order tests use recording
** primitives defined here.
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

#include "pk_init.h"
#include "pk_builtin.h"
#include "pk_num.h"
#include "pk_eval.h"
#include "pk_print.h"
#include "pk_read.h"

/* ---- harness --------------------------------------------------------------- */

/* One datum read from text. */
static pk_val R(const char *text)
{
  pkr_reader *r = pkr_open("test", text, strlen(text));
  pk_val v = PK_VOID;
  assert_true(pkr_next(r, &v));
  return v;
}

/* Evaluate: (quote x), calls of global procedures, symbols as globals,
   everything else self-evaluating. */
static pk_val ev(pk_val x)
{
  if (pko_symbolp(x)) return pko_as_sym(x)->value;
  if (!pko_pairp(x)) return x;
  if (pko_car(x) == pko_sym("quote")) return pko_car(pko_cdr(x));
  pk_val f = ev(pko_car(x));
  pk_val args[32];
  int n = 0;
  for (pk_val l = pko_cdr(x); pko_pairp(l); l = pko_cdr(l)) args[n++] = ev(pko_car(l));
  return pke_apply(f, n, args);
}

static pk_val E(const char *text) { return ev(R(text)); }

/* Evaluate expr; it must not throw and must be equal? to expected. */
static void check(const char *expr, const char *expected)
{
  pko_catch c;
  if (PKO_TRY(c)) {
    pk_val got = E(expr);
    PKO_END(c);
    if (!pko_equal(got, R(expected))) {
      char *s = pkp_tostring(got, PKP_WRITE);
      print_error("%s => %s, expected %s\n", expr, s, expected);
      free(s);
      fail();
    }
  } else {
    print_error("%s threw: %s\n", expr, pko_err.msg);
    fail();
  }
}

/* Evaluate expr; it must throw a runtime error whose message contains part. */
static void check_err(const char *expr, const char *part)
{
  pko_catch c;
  if (PKO_TRY(c)) {
    pk_val got = E(expr);
    PKO_END(c);
    char *s = pkp_tostring(got, PKP_WRITE);
    print_error("%s => %s, expected an error\n", expr, s);
    free(s);
    fail();
  } else {
    if (pko_err.status != PK_STATUS_RUNTIME || !strstr(pko_err.msg, part)) {
      print_error("%s: status %d message \"%s\", expected \"%s\"\n", expr, pko_err.status, pko_err.msg, part);
      fail();
    }
  }
}

/* Evaluate expr with pkb_out captured; compare the text written. */
static void check_out(const char *expr, const char *expected)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *saved = pkb_out;
  pkb_out = open_memstream(&buf, &len);
  pko_catch c;
  bool ok = PKO_TRY(c);
  if (ok) {
    E(expr);
    PKO_END(c);
  }
  fclose(pkb_out);
  pkb_out = saved;
  if (!ok) {
    print_error("%s threw: %s\n", expr, pko_err.msg);
    free(buf);
    fail();
  }
  if (strcmp(buf, expected) != 0) {
    print_error("%s wrote \"%s\", expected \"%s\"\n", expr, buf, expected);
    free(buf);
    fail();
  }
  free(buf);
}

/* Evaluate expr to a string and compare its contents. */
static void check_str(const char *expr, const char *expected)
{
  pk_val v = E(expr);
  assert_true(pko_stringp(v));
  assert_int_equal(pko_as_str(v)->len, strlen(expected));
  assert_memory_equal(pko_as_str(v)->s, expected, strlen(expected));
}

/* Recording procedures: each call conses its first argument (or the pair of
   its two arguments, for rec-lt) onto rec_log. */
static pk_val rec_log;

static pk_val rec_id(int argc, pk_val *argv)
{
  (void)argc;
  rec_log = pko_cons(argv[0], rec_log);
  return argv[0];
}

static pk_val rec_odd(int argc, pk_val *argv)
{
  (void)argc;
  rec_log = pko_cons(argv[0], rec_log);
  return pko_mkbool(pko_intval(argv[0]) & 1);
}

static pk_val rec_lt(int argc, pk_val *argv)
{
  (void)argc;
  rec_log = pko_cons(pko_list(2, argv[0], argv[1]), rec_log);
  return pko_mkbool(pkn_cmp("compare", argv[0], argv[1]) == -1);
}

/* Order by car only, to observe stability. */
static pk_val car_lt(int argc, pk_val *argv)
{
  (void)argc;
  return pko_mkbool(pkn_cmp("compare", pko_car(argv[0]), pko_car(argv[1])) == -1);
}

/* The calls recorded since the last reset, oldest first. */
static void check_log(const char *expected)
{
  pk_val got = pko_reverse(rec_log);
  if (!pko_equal(got, R(expected))) {
    char *s = pkp_tostring(got, PKP_WRITE);
    print_error("call log %s, expected %s\n", s, expected);
    free(s);
    fail();
  }
  rec_log = PK_NIL;
}

static int setup(void **state)
{
  (void)state;
  pki_init();
  pko_defprim("rec!", rec_id, 1, -1);
  pko_defprim("rec-odd?", rec_odd, 1, 1);
  pko_defprim("rec-lt", rec_lt, 2, 2);
  pko_defprim("car<", car_lt, 2, 2);
  rec_log = PK_NIL;
  return 0;
}

/* ---- registration ---------------------------------------------------------- */

static void test_registered(void **state)
{
  (void)state;
  static const char *const names[] = {
    "cons",
    "car",
    "cdr",
    "caar",
    "cddddr",
    "cadadr",
    "list",
    "length",
    "append",
    "reverse",
    "list-ref",
    "list-tail",
    "map",
    "for-each",
    "filter",
    "apply",
    "assoc",
    "assq",
    "assv",
    "member",
    "memq",
    "memv",
    "null?",
    "pair?",
    "list?",
    "symbol?",
    "number?",
    "integer?",
    "string?",
    "boolean?",
    "procedure?",
    "equal?",
    "eqv?",
    "eq?",
    "+",
    "-",
    "*",
    "/",
    "quotient",
    "remainder",
    "modulo",
    "abs",
    "min",
    "max",
    "=",
    "<",
    ">",
    "<=",
    ">=",
    "zero?",
    "positive?",
    "negative?",
    "even?",
    "odd?",
    "number->string",
    "string->symbol",
    "symbol->string",
    "string-append",
    "string-length",
    "error",
    "exit",
    "display",
    "write",
    "newline",
    "printf",
    "format",
    "not",
    "vector",
    "sort",
    "list-sort",
    "fold-left",
    "fold-right",
    "andmap",
    "ormap",
    "exists",
    "for-all",
    "gensym",
    "void",
    "string->number",
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    pk_val v = pko_as_sym(pko_sym(names[i]))->value;
    if (!pko_isa(v, PK_T_PRIM)) {
      print_error("%s is not a primitive\n", names[i]);
      fail();
    }
  }
  assert_true(pkb_out != NULL);
}

/* ---- pairs and lists ------------------------------------------------------- */

static void test_lists(void **state)
{
  (void)state;
  check("(cons 1 2)", "(1 . 2)");
  check("(car '(1 2))", "1");
  check("(cdr '(1 2))", "(2)");
  check("(cadr '(1 2 3))", "2");
  check("(cddr '(1 2 3))", "(3)");
  check("(caddr '(1 2 3))", "3");
  check("(cadddr '(1 2 3 4))", "4");
  check("(cddddr '(1 2 3 4 5))", "(5)");
  check("(caadr '(1 (2 3)))", "2");
  check("(cdar '((1 . 2)))", "2");
  check("(list)", "()");
  check("(list 1 2 3)", "(1 2 3)");
  check("(cons* 1 2 '(3))", "(1 2 3)");
  check("(list* 1)", "1");
  check("(length '())", "0");
  check("(length '(1 2 3))", "3");
  check("(append)", "()");
  check("(append '(1) 2)", "(1 . 2)");
  check("(append '(1) '() '(2 3) '(4 . 5))", "(1 2 3 4 . 5)");
  check("(append 7)", "7");
  check("(reverse '(1 2 3))", "(3 2 1)");
  check("(list-ref '(a b c) 2)", "c");
  check("(list-tail '(1 2 . 3) 2)", "3");
  check("(list-copy '(1 2))", "(1 2)");
  check("(last-pair '(1 2 3))", "(3)");
  check("(last-pair '(1 . 2))", "(1 . 2)");
  check("(memq 'c '(a b c d))", "(c d)");
  check("(memq 'z '(a b))", "#f");
  check("(memv 1.0 '(1 1.0 2))", "(1.0 2)");
  check("(member '(1) '(2 (1) 3))", "((1) 3)");
  check("(member 2.0 '(1 2 3) =)", "(2 3)");
  check("(assq 'b '((a 1) (b 2)))", "(b 2)");
  check("(assv 2 '((1 . a) (2 . b)))", "(2 . b)");
  check("(assoc \"b\" '((\"a\" . 1) (\"b\" . 2)))", "(\"b\" . 2)");
  check("(assoc 2.0 '((1 . a) (2 . b)) =)", "(2 . b)");
  check("(assoc 9 '((1 . a)))", "#f");
  check("(remove 2 '(1 2 3 2))", "(1 3)");
  check("(remq 'a '(a b a))", "(b)");
  check("(remv 1 '(1 2))", "(2)");
}

static void test_list_errors(void **state)
{
  (void)state;
  check_err("(car '())", "car: not a pair: ()");
  check_err("(cdr 5)", "cdr: not a pair: 5");
  check_err("(cadr '(1))", "cadr: incorrect list structure: (1)");
  check_err("(length '(1 2 . 3))", "length: not a proper list: (1 2 . 3)");
  check_err("(length 5)", "length: not a proper list");
  check_err("(append '(1 . 2) '(3))", "append: not a proper list");
  check_err("(reverse '(1 . 2))", "reverse: not a proper list");
  check_err("(list-ref '(1 2) 5)", "list-ref: index 5 is out of range for list (1 2)");
  check_err("(list-ref '(1 2) -1)", "list-ref: index is not an exact nonnegative integer: -1");
  check_err("(list-tail '(1 2) 3)", "list-tail: index 3 is out of range");
  check_err("(memq 'c '(a b . c))", "memq: improper list");
  check_err("(assq 'x '((a 1) . 3))", "assq: improperly formed alist");
  check_err("(assv 2 '((1 . a) 3))", "assv: improperly formed alist");
  check_err("(last-pair '())", "last-pair: not a pair");
  check_err("(list-copy 5)", "list-copy: not a proper list");
  check_err("(remove 1 '(1 . 2))", "remove: not a proper list");
}

/* ---- higher-order procedures ------------------------------------------------ */

static void test_higher_order(void **state)
{
  (void)state;
  check("(map car '((1 2) (3 4)))", "(1 3)");
  check("(map cons '(1 2) '(a b))", "((1 . a) (2 . b))");
  check("(map list '(1 2) '(3 4) '(5 6))", "((1 3 5) (2 4 6))");
  check("(map car '())", "()");
  check("(filter odd? '(1 2 3 4 5))", "(1 3 5)");
  check("(apply + 1 2 '(3 4))", "10");
  check("(apply + '())", "0");
  check("(apply list '(1 2))", "(1 2)");
  check("(andmap odd? '(1 3))", "#t");
  check("(andmap odd? '())", "#t");
  check("(andmap + '(1 2) '(3 4))", "6");
  check("(ormap odd? '(2 4))", "#f");
  check("(ormap memq '(a z) '((z) (z)))", "(z)");
  check("(exists odd? '(2 4 5))", "#t");
  check("(for-all odd? '(1 3))", "#t");
  check("(fold-left cons '() '(1 2 3))", "(((() . 1) . 2) . 3)");
  check("(fold-right cons '() '(1 2 3))", "(1 2 3)");
  check("(fold-left + 0 '(1 2) '(3 4))", "10");
  check("(fold-right list 'z '(1 2) '(3 4))", "(1 3 (2 4 z))");
  check("(find odd? '(2 3 4))", "3");
  check("(find odd? '(2 4))", "#f");
  check_err("(map cons '(1 2 3) '(4 5))", "map: lists (1 2 3) and (4 5) differ in length");
  check_err("(for-each cons '(1 2) '(3))", "for-each: lists (1 2) and (3) differ in length");
  check_err("(for-all cons '(1 3) '(1))", "for-all: lists");
  check_err("(map 5 '(1))", "map: not a procedure: 5");
  check_err("(filter odd? '(1 . 2))", "filter: not a proper list");
  check_err("(apply + 1 2)", "apply: not a proper list: 2");
  check_err("(apply 5 '())", "apply: attempt to apply non-procedure: 5");
}

/* for-each returns the last call's value (Chez calls it in tail position). */
static void test_for_each_value(void **state)
{
  (void)state;
  assert_int_equal(E("(for-each car '())"), PK_VOID);
  check("(for-each car '((1) (2)))", "2");
}

/* Chez 9.5's map and filter call order: pairs from the back, each pair in
   order; with three or more lists, back to front.  for-each, andmap and
   fold-left go front to back; fold-right back to front. */
static void test_call_order(void **state)
{
  (void)state;
  rec_log = PK_NIL;
  E("(map rec! '(1))");
  check_log("(1)");
  E("(map rec! '(1 2 3 4 5))");
  check_log("(5 3 4 1 2)");
  E("(map rec! '(1 2 3 4 5 6 7 8 9 10))");
  check_log("(9 10 7 8 5 6 3 4 1 2)");
  check("(map rec! '(1 2 3 4 5) '(a b c d e))", "(1 2 3 4 5)");
  check_log("(5 3 4 1 2)");
  E("(map rec! '(1 2 3) '(1 2 3) '(1 2 3))");
  check_log("(3 2 1)");
  check("(filter rec-odd? '(1 2 3 4 5 6 7))", "(1 3 5 7)");
  check_log("(7 5 6 3 4 1 2)");
  E("(for-each rec! '(1 2 3))");
  check_log("(1 2 3)");
  E("(andmap rec! '(1 2 #f 4))");
  check_log("(1 2 #f)");
  E("(ormap rec! '(#f #f 3 4))");
  check_log("(#f #f 3)");
  E("(fold-right rec! 0 '(1 2 3))");
  check_log("(3 2 1)");
  E("(fold-left rec! 0 '(1 2 3))");
  check_log("(0 0 0)");
}

/* ---- sort -------------------------------------------------------------------- */

static void test_sort(void **state)
{
  (void)state;
  check("(sort < '(3 1 2))", "(1 2 3)");
  check("(list-sort < '(3 1 2))", "(1 2 3)");
  check("(sort < '())", "()");
  check("(sort < '(1))", "(1)");
  check("(sort > '(5 3 9 1 1 7 2 8 6 4 0))", "(9 8 7 6 5 4 3 2 1 1 0)");
  /* stable: equal keys keep their order */
  check("(sort car< '((1 . a) (0 . b) (1 . c) (0 . d) (1 . e) (0 . f)))",
        "((0 . b) (0 . d) (0 . f) (1 . a) (1 . c) (1 . e))");
  check("(list-sort car< '((2 . a) (1 . b) (2 . c) (1 . d) (2 . e) (1 . f) (2 . g) (1 . h) (0 . i)))",
        "((0 . i) (1 . b) (1 . d) (1 . f) (1 . h) (2 . a) (2 . c) (2 . e) (2 . g))");
  /* the comparisons Chez 9.5 makes, in its order */
  rec_log = PK_NIL;
  check("(sort rec-lt '(3 1 2 5 4))", "(1 2 3 4 5)");
  check_log("((4 5) (4 2) (1 3) (2 1) (2 3) (4 3))");
  check_err("(sort < '(1 . 2))", "sort: not a proper list");
  check_err("(sort '(3 1 2) <)", "sort: not a procedure");
  check_err("(sort < '(2 a))", "not a number: a");
}

/* ---- numbers ----------------------------------------------------------------- */

static void test_arith(void **state)
{
  (void)state;
  check("(+)", "0");
  check("(*)", "1");
  check("(+ 1 2 3)", "6");
  check("(- 5)", "-5");
  check("(- 5 1 1)", "3");
  check("(* 2 3 4)", "24");
  check("(+ 1 2.5)", "3.5");
  check("(* 2 2.5)", "5.0");
  check("(- 5 2.5)", "2.5");
  /* Chez: exact 0 absorbs *, is neutral for + and - */
  check("(* 0 1.5)", "0");
  check("(* 1.5 0)", "0");
  check("(* 0 +inf.0)", "0");
  check("(* 0.0 5)", "0.0");
  check("(+ 0 1.5)", "1.5");
  check("(- 0.0 0)", "0.0");
  check("(/ 6 3)", "2");
  check("(/ 9 3 3)", "1");
  check("(/ 7 2.0)", "3.5");
  check("(/ 0.5)", "2.0");
  check("(/ -1)", "-1");
  check("(/ 1.0 0)", "+inf.0");
  check("(/ 0 2.5)", "0.0");
  check("(add1 1)", "2");
  check("(sub1 1.5)", "0.5");
  check("(+ 4611686018427387903 1)", "4611686018427387904");
  check("(- -4611686018427387904 1)", "-4611686018427387905");
  check("(* 3037000499 3037000499)", "9223372030926249001");
  check("(- 9223372036854775807 9223372036854775807)", "0");
  check("(abs -5)", "5");
  check("(abs -5.5)", "5.5");
  check("(abs -9223372036854775807)", "9223372036854775807");
}

static void test_arith_errors(void **state)
{
  (void)state;
  check_err("(+ 9223372036854775807 1)", "fixnum overflow");
  check_err("(- -9223372036854775808 1)", "fixnum overflow");
  check_err("(* 4611686018427387904 2)", "fixnum overflow");
  check_err("(* 3037000500 3037000500)", "fixnum overflow");
  check_err("(- -9223372036854775808)", "fixnum overflow");
  check_err("(abs -9223372036854775808)", "fixnum overflow");
  check_err("(/ -9223372036854775808 -1)", "fixnum overflow");
  check_err("(quotient -9223372036854775808 -1)", "fixnum overflow");
  check_err("(expt 2 63)", "fixnum overflow");
  check_err("(expt 10 19)", "fixnum overflow");
  check_err("(/ 1/2 0)", "/: undefined for 0");
  check_err("(/ 1 0)", "/: undefined for 0");
  check_err("(+ 'a 1)", "+: not a number: a");
  check_err("(* 1 \"x\")", "*: not a number");
  check_err("(quotient 7 0)", "quotient: undefined for 0");
  check_err("(modulo 7.0 0)", "modulo: undefined for 0");
  check_err("(modulo 7.5 2)", "modulo: not an integer: 7.5");
  check_err("(even? 2.5)", "even?: not an integer");
  check_err("(sqrt -4)", "sqrt: complex result");
  check_err("(expt 2 -63)", "expt: fixnum overflow with 2 and -63 (no bignums)");
  check_err("(expt 0 -1)", "expt: undefined");
  check_err("(inexact->exact 1e-300)", "inexact->exact: fixnum overflow (no bignums) converting: 1e-300");
  check_err("(exact +inf.0)", "no exact representation");
  check_err("(exact 1e19)", "fixnum overflow");
  check_err("(log 0)", "log: undefined for 0");
  check_err("(< 1 'a)", "<: not a number: a");
  check_err("(max 2 'a)", "max: not a number");
  check_err("(zero? 'a)", "zero?: not a number");
  /* errors carry the runtime status */
  pko_catch c;
  if (PKO_TRY(c)) {
    E("(+ 9223372036854775807 1)");
    PKO_END(c);
    fail();
  }
  assert_int_equal(pko_err.status, PK_STATUS_RUNTIME);
}

static void test_division(void **state)
{
  (void)state;
  check("(quotient 7 -2)", "-3");
  check("(remainder 7 -2)", "1");
  check("(modulo 7 -2)", "-1");
  check("(modulo -7 2)", "1");
  check("(quotient -7 2)", "-3");
  check("(remainder -7 2)", "-1");
  check("(modulo -7 -2)", "-1");
  check("(quotient 7.0 2)", "3.0");
  check("(modulo 7.0 -2)", "-1.0");
  check("(remainder -7.0 2)", "-1.0");
  check("(modulo -6.0 3)", "0.0");
  check("(quotient -1.0 2)", "-0.0");
  check("(modulo -9223372036854775808 -1)", "0");
  check("(remainder -9223372036854775808 -1)", "0");
  check("(remainder 7.0 1)", "0");
  check("(modulo -7.0 -1)", "0");
  check("(quotient 7.0 -1)", "-7.0");
  check("(gcd 12 18)", "6");
  check("(gcd -4)", "4");
  check("(gcd 2.0 4)", "2.0");
  check("(gcd -9223372036854775808 1.0)", "1.0");
  check("(lcm -7 10)", "70");
  check("(lcm 0 5)", "0");
  check("(lcm 4611686018427387903 1.0)", "4.611686018427388e18");
  check_err("(gcd -9223372036854775808)", "fixnum overflow");
  check_err("(lcm 4611686018427387903 4)", "fixnum overflow");
  check_err("(lcm -9223372036854775808)", "lcm: fixnum overflow");
  check_err("(gcd 'a)", "gcd: not a number");
  check("(gcd)", "0");
  check("(lcm 4 6)", "12");
  check("(lcm)", "1");
}

static void test_compare(void **state)
{
  (void)state;
  check("(= 1 1.0)", "#t");
  check("(< 1 2 3)", "#t");
  check("(< 1 3 2)", "#f");
  check("(<= 1 1 2)", "#t");
  check("(>= 3 3 4)", "#f");
  check("(> 3 2.5 2)", "#t");
  check("(= 1)", "#t");
  /* exact against inexact compares exactly, as Chez */
  check("(= 9007199254740993 9007199254740992.0)", "#f");
  check("(< 9007199254740992.0 9007199254740993)", "#t");
  check("(< 9223372036854775807 9223372036854775808.0)", "#t");
  check("(= 1 +nan.0)", "#f");
  check("(< 1 +nan.0)", "#f");
  check("(>= +nan.0 1)", "#f");
  check("(< 1 +inf.0)", "#t");
  check("(max 1 2 3.0)", "3.0");
  check("(min 1 2 3.0)", "1.0");
  check("(max 3 2.0)", "3.0");
  check("(max -0.0 0)", "0.0");
  check("(min 0 -0.0)", "-0.0");
  check("(min 1)", "1");
  assert_true(isnan(pko_flo(E("(max 1 +nan.0)"))));
  assert_true(isnan(pko_flo(E("(min +nan.0 1)"))));
  assert_int_equal(pkn_cmp("compare", pko_mkfix(1), pko_mkfix(2)), -1);
  assert_int_equal(pkn_cmp("compare", pko_mkflo(2.0), pko_mkfix(2)), 0);
  assert_int_equal(pkn_cmp("compare", pko_mkint(INT64_MAX), pko_mkint(INT64_MIN)), 1);
  assert_int_equal(pkn_cmp("compare", pko_mkflo(NAN), pko_mkfix(2)), 2);
}

static void test_number_preds(void **state)
{
  (void)state;
  check("(zero? 0.0)", "#t");
  check("(zero? -0.0)", "#t");
  check("(positive? 0)", "#f");
  check("(negative? -1)", "#t");
  check("(even? 0)", "#t");
  check("(even? 2.0)", "#t");
  check("(odd? -3)", "#t");
  check("(number? 1.5)", "#t");
  check("(number? 'a)", "#f");
  check("(integer? 2.0)", "#t");
  check("(integer? 2.5)", "#f");
  check("(integer? +inf.0)", "#f");
  check("(integer? 'a)", "#f");
  check("(rational? 1.5)", "#t");
  check("(rational? +nan.0)", "#f");
  check("(real? 1)", "#t");
  check("(exact? 1)", "#t");
  check("(inexact? 1.0)", "#t");
  check("(nan? +nan.0)", "#t");
  check("(infinite? -inf.0)", "#t");
  check("(finite? 1.0)", "#t");
  check_err("(exact? 'a)", "exact?: not a number");
}

static void test_conversions(void **state)
{
  (void)state;
  check("(exact->inexact 3)", "3.0");
  check("(inexact 1)", "1.0");
  check("(inexact->exact 2.0)", "2");
  check("(exact 9.2e18)", "9200000000000000000");
  check("(inexact->exact -0.0)", "0");
  check("(floor 2.5)", "2.0");
  check("(floor -0.5)", "-1.0");
  check("(ceiling -0.5)", "-0.0");
  check("(round 2.5)", "2.0");
  check("(round 3.5)", "4.0");
  check("(round -2.5)", "-2.0");
  check("(round -0.3)", "0.0");
  check("(truncate -2.7)", "-2.0");
  check("(floor 3)", "3");
  check("(sqrt 16)", "4");
  check("(sqrt 4611686018427387904)", "2147483648");
  check("(sqrt 12345678987654321)", "111111111");
  check("(sqrt 16.0)", "4.0");
  check("(sqrt 2)", "1.4142135623730951");
  check("(expt 2 10)", "1024");
  check("(expt -2 63)", "-9223372036854775808");
  check("(expt 2.0 3)", "8.0");
  check("(expt 2.5 0)", "1");
  check("(expt 1 -5)", "1");
  check("(expt -1 -5)", "-1");
  check("(expt 2.0 -1)", "0.5");
  check("(expt 2 0.5)", "1.4142135623730951");
  check("(expt 0 2.5)", "0.0");
  check("(exp 0)", "1");
  check("(log 1)", "0");
  check("(sin 0)", "0");
  check("(cos 0)", "1");
  check("(atan 0)", "0");
  check("(atan 0 1)", "0");
  check("(log 8 2)", "3.0");
  check("(log 100 10)", "2.0");
  check("(log 1 2)", "0.0");
  check("(exp 1)", "2.718281828459045");
  check("(atan 1 1)", "0.7853981633974483");
}

static void test_number_text(void **state)
{
  (void)state;
  check("(number->string 42)", "\"42\"");
  check("(number->string -9223372036854775808)", "\"-9223372036854775808\"");
  check("(number->string 255 16)", "\"FF\"");
  check("(number->string -255 2)", "\"-11111111\"");
  check("(number->string 10 3)", "\"101\"");
  check("(number->string 3.0)", "\"3.0\"");
  check("(number->string 0.5)", "\"0.5\"");
  check("(string->number \"12\")", "12");
  check("(string->number \"-12\")", "-12");
  check("(string->number \"1.5\")", "1.5");
  check("(string->number \".5\")", "0.5");
  check("(string->number \"1.\")", "1.0");
  check("(string->number \"1e3\")", "1000.0");
  check("(string->number \"abc\")", "#f");
  check("(string->number \"\")", "#f");
  check("(string->number \"-\")", "#f");
  check("(string->number \"1e\")", "#f");
  check("(string->number \" 1\")", "#f");
  check("(string->number \"0x10\")", "#f");
  check("(string->number \"ff\" 16)", "255");
  check("(string->number \"#xff\")", "255");
  check("(string->number \"#x-ff\")", "-255");
  check("(string->number \"#b101\")", "5");
  check("(string->number \"#e1e3\")", "1000");
  check("(string->number \"#i3\")", "3.0");
  check("(string->number \"4/2\")", "2");
  check("(string->number \"+inf.0\")", "+inf.0");
  check("(string->number \"-9223372036854775808\")", "-9223372036854775808");
  check("(string->number \"9223372036854775807\")", "9223372036854775807");
  check_err("(string->number \"9223372036854775808\")", "no bignums");
  check_err("(string->number \"1/99999999999999999999\")", "no bignums");
  check_err("(number->string 5 1)", "not a valid radix");
  check_err("(number->string 'a)", "number->string: not a number");
  check_err("(string->number 12)", "string->number: not a string");
}

/* ---- exact ratios ------------------------------------------------------------ */

/* Exact rationals with int64 parts; expected values from Chez Scheme 9.5. */
static void test_ratio_arith(void **state)
{
  (void)state;
  check("(/ 1 2)", "1/2");
  check("(/ 2)", "1/2");
  check("(/ -2)", "-1/2");
  check("(/ 6 4)", "3/2");
  check("(/ -6 4)", "-3/2");
  check("(/ 6 -4)", "-3/2");
  check("(/ -6 -4)", "3/2");
  check("(/ 0 5)", "0");
  check("(/ 1/2)", "2");
  check("(/ 3/4)", "4/3");
  check("(/ -3/4)", "-4/3");
  check("(/ 1 2 3)", "1/6");
  check("(/ 1/2 1/4)", "2");
  check("(+ 1/2 1/3)", "5/6");
  check("(+ 1/2 1/2)", "1");
  check("(+ 1/2 1)", "3/2");
  check("(- 1/2)", "-1/2");
  check("(- 1/2 1/2)", "0");
  check("(- 1 1/3)", "2/3");
  check("(* 2/3 3/2)", "1");
  check("(* 2/3 3)", "2");
  check("(* 1/2 1/3)", "1/6");
  check("(* 0 1/2)", "0");
  check("(+ 1/6 1/10)", "4/15");
  check("(add1 1/2)", "3/2");
  check("(sub1 1/2)", "-1/2");
  /* contagion: the ratio is converted with inexact, then flonum arithmetic */
  check("(+ 1/2 0.5)", "1.0");
  check("(* 1.5 2/3)", "1.0");
  check("(- 0.5 1/3)", "0.16666666666666669");
  check("(/ 1/3 2.0)", "0.16666666666666666");
  check("(+ 0.0 1/3)", "0.3333333333333333");
  /* big parts: intermediates are exact, only the normalised result must fit */
  check("(/ 9223372036854775807 9223372036854775806)", "9223372036854775807/9223372036854775806");
  check("(* 9223372036854775807/2 2/9223372036854775807)", "1");
  check("(+ 4611686018427387903/2 4611686018427387903/2)", "4611686018427387903");
  check("(- 1/9223372036854775807 1/9223372036854775807)", "0");
  check("(/ -9223372036854775808 2)", "-4611686018427387904");
  check("(/ -9223372036854775808 3)", "-9223372036854775808/3");
  check("(+ 1/3 -9223372036854775807/3)", "-3074457345618258602");
  /* the gcd of the 128-bit cross products exceeds 64 bits */
  check("(/ -6641186714114341027/3366513209415929612 6641186714114341027/3366513209415929612)", "-1");
  check("(* 9223372036854775807/9223372036854775806 9223372036854775806/9223372036854775807)", "1");
  check("(/ 9223372036854775807/9223372036854775806 9223372036854775807/9223372036854775806)", "1");
  check("(* -9223372036854775808/9223372036854775807 9223372036854775807/4611686018427387904)", "-2");
  check_err("(/ -9223372036854775808 -3)", "/: fixnum overflow with -9223372036854775808 and -3 (no bignums)");
  check_err("(+ 1/9223372036854775807 1/9223372036854775806)", "(no bignums)");
  check_err("(* 9223372036854775807/2 3)", "*: fixnum overflow with 9223372036854775807/2 and 3 (no bignums)");
  check_err("(- -9223372036854775808/3 1)", "-: fixnum overflow");
  check_err("(abs -9223372036854775808/3)", "abs: fixnum overflow");
  check_err("(/ 1/2 0)", "/: undefined for 0");
  check_err("(+ 1/2 'a)", "+: not a number: a");
}

static void test_ratio_compare(void **state)
{
  (void)state;
  check("(= 1/2 2/4)", "#t");
  check("(= 1/2 0.5)", "#t");
  check("(= 0.5 1/2 2/4)", "#t");
  check("(< 1/3 1/2)", "#t");
  check("(< 1/3 1/2 1)", "#t");
  check("(< -1/2 -1/3)", "#t");
  check("(> 1/2 0)", "#t");
  check("(<= 1/2 1/2 2/3)", "#t");
  check("(>= 1/2 1/3 1/3 0)", "#t");
  check("(< 9223372036854775806/9223372036854775807 9223372036854775805/9223372036854775806)", "#f");
  /* exact against inexact compares exactly: 1/3 is not (inexact 1/3) */
  check("(= 1/3 0.3333333333333333)", "#f");
  check("(< 1/3 0.3333333333333333)", "#f");
  check("(> 1/3 0.3333333333333333)", "#t");
  check("(< 0.3333333333333333 1/3)", "#t");
  check("(= 3602879701896397/36028797018963968 0.1)", "#t");
  check("(< 3602879701896397/36028797018963968 0.1)", "#f");
  check("(< 1/10 0.1)", "#t");
  check("(< 1/2 +inf.0)", "#t");
  check("(> 1/2 -inf.0)", "#t");
  check("(< 1/2 +nan.0)", "#f");
  check("(= 1/2 +nan.0)", "#f");
  check("(< -1/9223372036854775807 -1e-300)", "#t");
  check("(< 1/9223372036854775807 1e-300)", "#f");
  check("(> 9223372036854775807/2 4.611686018427388e18)", "#f");
  check("(< 9223372036854775807/2 4.611686018427388e18)", "#t");
  check("(> 1/2 -0.0)", "#t");
  /* negative fractions: 1 + x is not exact for a small negative x */
  check("(< -270887830515553/2423409811215222225 -0.00011177962111976264)", "#f");
  check("(> -270887830515553/2423409811215222225 -0.00011177962111976264)", "#t");
  check("(< -170421905268840403/879031367393835306 -0.19387465748134755)", "#t");
  check("(max -270887830515553/2423409811215222225 -0.00011177962111976264)", "-1.1177962111976263e-4");
  check("(< -1/3 -0.3333333333333333)", "#t");
  check("(> -1/3 -0.3333333333333333)", "#f");
  check("(< -7/2 -3.5)", "#f");
  check("(< -7/2 -3.4999999999999996)", "#t");
  check("(> -1/10 -0.1)", "#t");
  check("(< -9223372036854775808/3 -3.0744573456182584e18)", "#t");
  check("(> 9223372036854775807/2 1.8446744073709552e19)", "#f");
  check("(max 1/2 1/3)", "1/2");
  check("(max 1/2 0.1)", "0.5");
  check("(min 1/2 1)", "1/2");
  check("(min 1/3 1.0)", "0.3333333333333333");
  check("(abs -1/2)", "1/2");
  check("(abs 1/2)", "1/2");
  check("(abs -9223372036854775807/2)", "9223372036854775807/2");
  check("(zero? 1/2)", "#f");
  check("(positive? 1/2)", "#t");
  check("(negative? -1/2)", "#t");
  check("(positive? -1/2)", "#f");
  assert_int_equal(pkn_cmp("compare", E("1/3"), E("1/2")), -1);
  assert_int_equal(pkn_cmp("compare", E("1/2"), pko_mkflo(0.5)), 0);
  assert_int_equal(pkn_cmp("compare", pko_mkflo(NAN), E("1/2")), 2);
}

static void test_ratio_preds(void **state)
{
  (void)state;
  check("(rational? 1/2)", "#t");
  check("(integer? 1/2)", "#f");
  check("(integer? 4/2)", "#t");
  check("(exact? 1/2)", "#t");
  check("(inexact? 1/2)", "#f");
  check("(real? 1/2)", "#t");
  check("(number? 1/2)", "#t");
  check("(nan? 1/2)", "#f");
  check("(finite? 1/2)", "#t");
  check("(eqv? 1/2 2/4)", "#t");
  check("(eqv? 1/2 (/ 1 2))", "#t");
  check("(eqv? 1/2 0.5)", "#f");
  check("(eqv? 1/2 1/3)", "#f");
  check("(equal? '(1/2 (3/4)) (list (/ 2 4) (list (/ 6 8))))", "#t");
  check("(equal? 1/2 0.5)", "#f");
  check("(memv 1/2 '(1 1/2 2))", "(1/2 2)");
  check("(assoc 1/2 '((1 . a) (1/2 . b)))", "(1/2 . b)");
  check_err("(even? 1/2)", "even?: not an integer: 1/2");
  check_err("(quotient 1/2 1)", "quotient: not an integer: 1/2");
  check_err("(remainder 1 1/2)", "remainder: not an integer: 1/2");
  check_err("(modulo 3/2 1)", "modulo: not an integer: 3/2");
  check_err("(gcd 1/2 2)", "gcd: not an integer: 1/2");
}

static void test_ratio_conversions(void **state)
{
  (void)state;
  check("(numerator 6/4)", "3");
  check("(denominator 6/4)", "2");
  check("(numerator -6/4)", "-3");
  check("(denominator -6/4)", "2");
  check("(numerator 5)", "5");
  check("(denominator 5)", "1");
  check("(denominator 0)", "1");
  check("(numerator 0.5)", "1.0");
  check("(denominator 0.5)", "2.0");
  check("(numerator -0.75)", "-3.0");
  check("(denominator 0.1)", "36028797018963968.0");
  check("(numerator 1e300)", "1e300");
  check("(denominator 1e300)", "1.0");
  check("(denominator 1e-300)", "+inf.0");
  check("(numerator -0.0)", "-0.0");
  check_err("(numerator +inf.0)", "numerator: not a rational number: +inf.0");
  check_err("(denominator +nan.0)", "denominator: not a rational number");
  check_err("(numerator 'a)", "numerator: not a number: a");
  check("(exact->inexact 1/3)", "0.3333333333333333");
  check("(inexact -1/3)", "-0.3333333333333333");
  check("(inexact 1/2)", "0.5");
  /* correctly rounded where (/ (inexact n) (inexact d)) is not */
  check("(inexact 9007199254740993/3)", "3002399751580331.0");
  check("(inexact 1/9223372036854775807)", "1.0842021724855044e-19");
  check("(inexact 9223372036854775807/2)", "4.611686018427388e18");
  check("(exact 2.5)", "5/2");
  check("(exact -0.125)", "-1/8");
  check("(inexact->exact 0.1)", "3602879701896397/36028797018963968");
  check("(exact (/ 1.0 3))", "6004799503160661/18014398509481984");
  check("(exact 4.0)", "4");
  check_err("(exact 1e-20)", "exact: fixnum overflow (no bignums) converting: 1e-20");
  check("(floor 7/2)", "3");
  check("(floor -7/2)", "-4");
  check("(ceiling 7/2)", "4");
  check("(ceiling -7/2)", "-3");
  check("(truncate 7/2)", "3");
  check("(truncate -7/2)", "-3");
  check("(round 7/2)", "4");
  check("(round 5/2)", "2");
  check("(round -5/2)", "-2");
  check("(round -7/2)", "-4");
  check("(round 1/2)", "0");
  check("(round -1/2)", "0");
  check("(round 5/3)", "2");
  check("(round -4/3)", "-1");
  check("(floor -1/2)", "-1");
  check("(ceiling -1/2)", "0");
  check("(floor -9223372036854775808/3)", "-3074457345618258603");
  check("(ceiling 9223372036854775807/2)", "4611686018427387904");
  check("(sqrt 1/4)", "1/2");
  check("(sqrt 4/9)", "2/3");
  check("(sqrt 8/18)", "2/3");
  check("(sqrt 2/4)", "0.7071067811865476");
  check("(sqrt 1/3)", "0.5773502691896257");
  check_err("(sqrt -1/4)", "sqrt: complex result");
  check("(expt 2 -3)", "1/8");
  check("(expt -2 -3)", "-1/8");
  check("(expt 2/3 3)", "8/27");
  check("(expt -2/3 3)", "-8/27");
  check("(expt 2/3 -3)", "27/8");
  check("(expt -2/3 -3)", "-27/8");
  check("(expt 1/2 -2)", "4");
  check("(expt 1/2 0)", "1");
  check("(expt 1/2 0.0)", "1.0");
  check("(expt -2 -62)", "1/4611686018427387904");
  check("(expt 1/2 0.5)", "0.7071067811865476");
  check("(expt 0.5 1/2)", "0.7071067811865476");
  check("(expt 4 1/2)", "2.0");
  check("(expt 1/4 1/2)", "0.5");
  check("(expt 1 1/2)", "1.0");
  check("(expt 0 1/2)", "0");
  check("(expt 0.0 1/2)", "0.0");
  check_err("(expt 0 -1/2)", "expt: undefined for values 0 and -1/2");
  check_err("(expt -8 1/3)", "expt: complex result");
  check_err("(expt 2/3 -40)", "expt: fixnum overflow");
  check("(exp 1/2)", "1.6487212707001282");
  check("(log 1/2)", "-0.6931471805599453");
  check("(log 1/2 2)", "-1.0");
  check("(log 8 1/2)", "-3.0");
  check("(sin 1/2)", "0.479425538604203");
  check("(cos 1/2)", "0.8775825618903728");
  check("(asin 1/2)", "0.5235987755982989");
  check("(acos 1/2)", "1.0471975511965979");
  check("(atan 1/2)", "0.4636476090008061");
  check("(atan 1/2 1/3)", "0.982793723247329");
  check("(atan 0 1/2)", "0");
}

static void test_ratio_text(void **state)
{
  (void)state;
  check("(number->string 1/2)", "\"1/2\"");
  check("(number->string -3/4)", "\"-3/4\"");
  check("(number->string -3/4 2)", "\"-11/100\"");
  check("(number->string 255/2 16)", "\"FF/2\"");
  check("(string->number \"1/2\")", "1/2");
  check("(string->number \"-3/4\")", "-3/4");
  check("(string->number \"+6/8\")", "3/4");
  check("(string->number \"-0/5\")", "0");
  check("(string->number \"1/2\" 16)", "1/2");
  check("(string->number \"#x1/A\")", "1/10");
  check("(string->number \"#e1/2\")", "1/2");
  check("(string->number \"#i1/2\")", "0.5");
  check("(string->number \"#i1/3\")", "0.3333333333333333");
  check("(string->number \"#i1/0\")", "+inf.0");
  check("(string->number \"#i-1/0\")", "-inf.0");
  check("(string->number \"1/0\")", "#f");
  check("(string->number \"6/-4\")", "#f");
  check("(string->number \"1.5/2\")", "#f");
  check("(string->number \"1/2/3\")", "#f");
  check("(string->number \"/2\")", "#f");
  check("(string->number \"1/\")", "#f");
  /* #e of a decimal is the decimal's exact value, not the double's */
  check("(string->number \"#e0.1\")", "1/10");
  check("(string->number \"#e1.5e-3\")", "3/2000");
  check("(string->number \"#e-12.50\")", "-25/2");
  check("(string->number \"#e0.5\")", "1/2");
  check("(string->number \"#e1.0\")", "1");
  check("(string->number \"#e.25\")", "1/4");
  check("(string->number \"#e1e18\")", "1000000000000000000");
  check("(string->number \"#e0.0e999\")", "0");
  check("(string->number \"#e1.100000000000000000000000\")", "11/10");
  check_err("(string->number \"#e1e19\")", "no bignums");
  check_err("(string->number \"#e1e-19\")", "no bignums");
  check_str("(format \"~a ~s ~x ~b ~d\" 1/2 -1/3 255/2 3/4 5/6)", "1/2 -1/3 FF/2 11/100 5/6");
  check_out("(display 1/2)", "1/2");
  check_out("(write -7/3)", "-7/3");
}

/* ---- strings, characters, symbols, vectors ---------------------------------- */

static void test_strings(void **state)
{
  (void)state;
  check("(string-append \"ab\" \"\" \"cd\")", "\"abcd\"");
  check("(string-append)", "\"\"");
  check("(string-length \"hello\")", "5");
  check("(string-length \"h\xc3\xa9llo\")", "5");
  check("(string-ref \"abc\" 1)", "#\\b");
  check("(char->integer (string-ref \"h\xc3\xa9llo\" 1))", "233");
  check("(substring \"hello\" 1 3)", "\"el\"");
  check("(substring \"h\xc3\xa9llo\" 1 3)", "\"\xc3\xa9l\"");
  check("(string->list \"abc\")", "(#\\a #\\b #\\c)");
  check("(list->string '(#\\a #\\b))", "\"ab\"");
  check("(list->string (list (integer->char 955)))", "\"\xce\xbb\"");
  check("(string #\\a #\\b)", "\"ab\"");
  check("(make-string 3 #\\x)", "\"xxx\"");
  check("(string-copy \"ab\")", "\"ab\"");
  check("(string=? \"a\" \"a\" \"a\")", "#t");
  check("(string=? \"a\" \"b\")", "#f");
  check("(string<? \"a\" \"b\" \"c\")", "#t");
  check("(string<? \"abc\" \"ab\")", "#f");
  check("(string>? \"b\" \"a\")", "#t");
  check("(string<=? \"a\" \"a\")", "#t");
  check("(string>=? \"a\" \"b\")", "#f");
  check("(string-ci=? \"aB\" \"Ab\")", "#t");
  check("(string-upcase \"abc\")", "\"ABC\"");
  check("(string-downcase \"ABC\")", "\"abc\"");
  check("(string->symbol \"hello world\")", "|hello world|");
  check("(symbol->string 'abc)", "\"abc\"");
  check("(eq? (string->symbol \"abc\") 'abc)", "#t");
  check_err("(string-append \"a\" 'b)", "string-append: not a string: b");
  check_err("(string-length 'a)", "string-length: not a string");
  check_err("(symbol->string \"a\")", "symbol->string: not a symbol");
  check_err("(string->symbol 'a)", "string->symbol: not a string");
  check_err("(string-ref \"abc\" 3)", "string-ref: 3 is not a valid index for \"abc\"");
  check_err("(string-ref \"abc\" 1.0)", "string-ref: 1.0 is not a valid index");
  check_err("(substring \"hello\" 3 1)", "substring: 3 and 1 are not valid start/end indices");
  check_err("(list->string '(#\\a 1))", "list->string: not a character: 1");
  check_err("(string=? \"a\" 'a)", "string=?: not a string");
}

static void test_chars(void **state)
{
  (void)state;
  check("(char->integer #\\A)", "65");
  check("(integer->char 97)", "#\\a");
  check("(char<? #\\a #\\b #\\c)", "#t");
  check("(char<? #\\b #\\a)", "#f");
  check("(char=? #\\a)", "#t");
  check("(char>? #\\b #\\a)", "#t");
  check("(char<=? #\\a #\\a)", "#t");
  check("(char>=? #\\a #\\b)", "#f");
  check("(char-ci=? #\\a #\\A)", "#t");
  check("(char-upcase #\\a)", "#\\A");
  check("(char-downcase #\\A)", "#\\a");
  check("(char-alphabetic? #\\a)", "#t");
  check("(char-alphabetic? #\\1)", "#f");
  check("(char-numeric? #\\1)", "#t");
  check("(char-whitespace? #\\space)", "#t");
  check("(char-upper-case? #\\A)", "#t");
  check("(char-lower-case? #\\A)", "#f");
  check("(char? #\\a)", "#t");
  check("(char? \"a\")", "#f");
  /* Unicode case mapping: ä -> Ä */
  check("(char->integer (char-upcase (integer->char 228)))", "196");
  check("(char->integer (char-downcase (integer->char 196)))", "228");
  /* classes past ASCII: lambda is a letter, U+3000 a space */
  check("(char-alphabetic? (integer->char 955))", "#t");
  check("(char-lower-case? (integer->char 955))", "#t");
  check("(char-whitespace? (integer->char 12288))", "#t");
  check("(char-alphabetic? (integer->char 12288))", "#f");
  check_err("(integer->char 55296)", "not a valid unicode scalar value");
  check_err("(integer->char -1)", "not a valid unicode scalar value");
  check_err("(integer->char 1114112)", "not a valid unicode scalar value");
  check_err("(char->integer 'a)", "char->integer: not a character: a");
  check_err("(char<? #\\a 1)", "char<?: not a character: 1");
}

static void test_vectors_symbols(void **state)
{
  (void)state;
  check("(vector 1 2)", "#(1 2)");
  check("(vector)", "#()");
  check("(make-vector 2 'x)", "#(x x)");
  check("(make-vector 2)", "#(0 0)");
  check("(vector-ref (vector 1 2) 1)", "2");
  check("(vector-length (vector 1 2 3))", "3");
  check("(vector->list (vector 1 2))", "(1 2)");
  check("(list->vector '(1 2))", "#(1 2)");
  check("(vector? (vector))", "#t");
  check("(vector? '(1))", "#f");
  pk_val v = E("(vector 1 2)");
  pk_val args[3] = { v, pko_mkfix(0), pko_mkfix(9) };
  pke_apply(pko_as_sym(pko_sym("vector-set!"))->value, 3, args);
  assert_true(pko_equal(v, R("#(9 2)")));
  check_err("(vector-ref (vector 1 2) 2)", "vector-ref: 2 is not a valid index for #(1 2)");
  check_err("(vector-ref (vector 1 2) -1)", "not a valid index");
  check_err("(make-vector -1)", "make-vector: not a valid vector length");
  check_err("(vector-length '(1))", "vector-length: not a vector");
  check_err("(list->vector '(1 . 2))", "list->vector: not a proper list");
  pk_val g1 = E("(gensym)"), g2 = E("(gensym \"foo\")");
  assert_true(pko_symbolp(g1));
  assert_true(pko_symbolp(g2));
  assert_true(g1 != pko_sym("g"));
  assert_true(g2 != pko_sym("foo"));
  assert_true(pko_as_sym(g2)->flags & PKO_SYM_GENSYM);
  assert_string_equal(pko_symname(g2), "foo");
}

/* ---- predicates and equality -------------------------------------------------- */

static void test_equality(void **state)
{
  (void)state;
  check("(eq? 'a 'a)", "#t");
  check("(eq? '() '())", "#t");
  check("(eq? 100000000000 100000000000)", "#t");
  check("(eq? (list 1) (list 1))", "#f");
  check("(ground? '(a (b 1.0) \"s\" #[1 2]))", "#t");
  check("(ground? 'a)", "#t");
  check("(eqv? 2.0 2.0)", "#t");
  check("(eqv? 1.0 1)", "#f");
  check("(eqv? 9223372036854775807 9223372036854775807)", "#t");
  check("(eqv? \"a\" \"a\")", "#f");
  check("(equal? \"a\" \"a\")", "#t");
  check("(equal? 2 2.0)", "#f");
  check("(equal? '(1 (2 #(3 \"x\"))) (list 1 (list 2 (vector 3 \"x\"))))", "#t");
  check("(equal? '(1 2) '(1 3))", "#f");
  check("(not #f)", "#t");
  check("(not '())", "#f");
  check("(boolean=? #t #t)", "#t");
  check("(boolean=? #t #f)", "#f");
  check_err("(boolean=? #t 1)", "boolean=?: not a boolean: 1");
  check("(null? '())", "#t");
  check("(null? #f)", "#f");
  check("(pair? '())", "#f");
  check("(list? '(1 2))", "#t");
  check("(list? '(1 . 2))", "#f");
  check("(symbol? 'a)", "#t");
  check("(symbol? \"a\")", "#f");
  check("(string? \"a\")", "#t");
  check("(boolean? '())", "#f");
  check("(boolean? #f)", "#t");
  check("(procedure? car)", "#t");
  check("(procedure? 'car)", "#f");
  assert_int_equal(E("(void)"), PK_VOID);
}

/* equal? on lists far deeper than the C stack could recurse. */
static void test_equal_deep(void **state)
{
  (void)state;
  pk_val a = PK_NIL, b = PK_NIL;
  for (int i = 0; i < 1000000; i++) {
    a = pko_list(1, a);
    b = pko_list(1, b);
  }
  pk_val args[2] = { a, b };
  assert_int_equal(pke_apply(pko_as_sym(pko_sym("equal?"))->value, 2, args), PK_TRUE);
  args[1] = pko_list(1, b);
  assert_int_equal(pke_apply(pko_as_sym(pko_sym("equal?"))->value, 2, args), PK_FALSE);
  long n = 0;
  pk_val l = PK_NIL;
  for (; n < 1000000; n++) l = pko_cons(pko_mkfix(n), l);
  args[0] = l;
  assert_true(pko_equal(pke_apply(pko_as_sym(pko_sym("length"))->value, 1, args), pko_mkfix(1000000)));
}

/* ---- output ---------------------------------------------------------------------- */

static void test_output(void **state)
{
  (void)state;
  check_out("(display \"a\\nb\")", "a\nb");
  check_out("(write \"a\")", "\"a\"");
  check_out("(display #\\a)", "a");
  check_out("(write #\\a)", "#\\a");
  check_out("(display '(1 \"x\" y))", "(1 x y)");
  check_out("(newline)", "\n");
  check_out("(write-char #\\z)", "z");
  check_out("(printf \"~a|~s|~d~%\" \"x\" \"x\" 42)", "x|\"x\"|42\n");
  check_out("(format #t \"~a-~a\" 1 2)", "1-2");
  check_out("(display 1.5)", "1.5");
}

static void test_format(void **state)
{
  (void)state;
  check_str("(format \"~a|~s|~d|~%|~~\" \"x\" \"x\" 42)", "x|\"x\"|42|\n|~");
  check_str("(format #f \"~a\" '(1 \"a\" #\\b))", "(1 a b)");
  check_str("(format \"~s\" '(1 \"a\" #\\b))", "(1 \"a\" #\\b)");
  check_str("(format \"~A ~S\" \"a\" \"b\")", "a \"b\"");
  check_str("(format \"~d\" 'a)", "a");
  check_str("(format \"~x ~o ~b\" 255 8 5)", "FF 10 101");
  check_str("(format \"~x\" -255)", "-FF");
  check_str("(format \"~c\" #\\a)", "a");
  check_str("(format \"~%~n\")", "\n\n");
  check_str("(format \"x~\n     y\")", "xy");
  check_str("(format \"no directives\")", "no directives");
  check_str("(format \"\")", "");
  check_err("(format \"~a\")", "format: too few arguments for control string");
  check_err("(format \"~a\" 1 2)", "format: too many arguments for control string");
  check_err("(format \"~q\" 1)", "format: unrecognized directive ~q");
  check_err("(format \"a~\")", "format: incomplete format directive");
  check_err("(printf \"~a\")", "printf: too few arguments");
  check_err("(format 5 \"x\")", "format: not a string or boolean: 5");
}

/* ---- error and exit ---------------------------------------------------------------- */

static void test_error(void **state)
{
  (void)state;
  check_err("(error 'foo \"bad thing\")", "foo: bad thing");
  check_err("(error 'foo \"bad thing\" 1)", "foo: bad thing with irritant 1");
  check_err("(error 'foo \"bad thing\" 1 \"s\" 'x)", "foo: bad thing with irritants (1 \"s\" x)");
  check_err("(error \"who\" \"msg\" 2)", "who: msg with irritant 2");
  check_err("(error 'foo 'notstring 1)", "error: invalid message argument notstring");
  pko_catch c;
  if (PKO_TRY(c)) {
    E("(error #f \"just this\")");
    PKO_END(c);
    fail();
  }
  assert_string_equal(pko_err.msg, "just this");
}

/* (exit code) throws PK_STATUS_EXIT with Chez's status rule. */
static int exit_code(const char *expr)
{
  pko_catch c;
  if (PKO_TRY(c)) {
    E(expr);
    PKO_END(c);
    fail();
  }
  assert_int_equal(pko_err.status, PK_STATUS_EXIT);
  return pko_err.code;
}

static void test_exit(void **state)
{
  (void)state;
  assert_int_equal(exit_code("(exit)"), 0);
  assert_int_equal(exit_code("(exit 7)"), 7);
  assert_int_equal(exit_code("(exit 256)"), 0);
  assert_int_equal(exit_code("(exit -1)"), 255);
  assert_int_equal(exit_code("(exit 3 4)"), 3);
  assert_int_equal(exit_code("(exit #f)"), 1);
  assert_int_equal(exit_code("(exit #t)"), 1);
  assert_int_equal(exit_code("(exit 'a)"), 1);
  assert_int_equal(exit_code("(exit 2.0)"), 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_registered),     cmocka_unit_test(test_lists),
    cmocka_unit_test(test_list_errors),    cmocka_unit_test(test_higher_order),
    cmocka_unit_test(test_for_each_value), cmocka_unit_test(test_call_order),
    cmocka_unit_test(test_sort),           cmocka_unit_test(test_arith),
    cmocka_unit_test(test_arith_errors),   cmocka_unit_test(test_division),
    cmocka_unit_test(test_compare),        cmocka_unit_test(test_number_preds),
    cmocka_unit_test(test_conversions),    cmocka_unit_test(test_number_text),
    cmocka_unit_test(test_ratio_arith),    cmocka_unit_test(test_ratio_compare),
    cmocka_unit_test(test_ratio_preds),    cmocka_unit_test(test_ratio_conversions),
    cmocka_unit_test(test_ratio_text),     cmocka_unit_test(test_strings),
    cmocka_unit_test(test_chars),          cmocka_unit_test(test_vectors_symbols),
    cmocka_unit_test(test_equality),       cmocka_unit_test(test_equal_deep),
    cmocka_unit_test(test_output),         cmocka_unit_test(test_format),
    cmocka_unit_test(test_error),          cmocka_unit_test(test_exit),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
