/*
** test_mk.c — terms, unification, substitutions, constraints, reification
** and search order, through the public API and the object layer.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pk_obj.h"
#include "pkanren.h"
#include "mk_relations.h"

static const char *LIB = PKT_APPENDO "(defrel (nevero) (conde ((nevero))))"
                                     "(defrel (alwayso) (conde (succeed) ((alwayso))))"
                                     "(define (deep n acc) (if (= n 0) acc (deep (- n 1) (list acc))))";
#include "engine_fixture.h"

/* The answers of run_form, written as one list. */
static char *answers(const char *run_form)
{
  pk_query *q;
  int rc = pk_query_open(E, run_form, &q);
  if (rc != PK_OK) fail_msg("%s: %s", run_form, pk_errmsg(E));
  size_t cap = 256, len = 0;
  char *out = malloc(cap);
  out[len++] = '(';
  pk_term a;
  while ((rc = pk_query_next(q, &a)) == 1) {
    char *s = pk_to_string(a);
    size_t n = strlen(s);
    while (len + n + 3 > cap) out = realloc(out, cap *= 2);
    if (len > 1) out[len++] = ' ';
    memcpy(out + len, s, n);
    len += n;
    free(s);
  }
  assert_int_equal(rc, 0);
  pk_query_free(q);
  out[len++] = ')';
  out[len] = 0;
  return out;
}

#define EXPECT(form, expected)           \
  do {                                   \
    char *got_ = answers(form);          \
    assert_string_equal(got_, expected); \
    free(got_);                          \
  } while (0)

/* The ground bit: set exactly when both halves are ground. */
static void test_terms_ground_bit(void **state)
{
  (void)state;
  pk_val x = pko_mkvar(0);
  pk_val g = pko_cons(pko_mkfix(1), pko_cons(pko_sym("a"), PK_NIL));
  assert_true(pko_groundp(g));
  assert_false(pko_groundp(pko_cons(x, PK_NIL)));
  assert_false(pko_groundp(pko_cons(pko_mkfix(1), pko_cons(x, PK_NIL))));
  assert_true(pko_pairp(g) && pko_pairp(pko_cons(x, g)));
  assert_false(pko_groundp(x));
}

/* Fixnums inline up to 63 bits, boxed beyond, equal? by value. */
static void test_terms_numbers_symbols(void **state)
{
  (void)state;
  assert_true(pko_fixnump(pko_mkint(PK_FIXNUM_MAX)));
  assert_false(pko_fixnump(pko_mkint(INT64_MAX)));
  assert_int_equal(pko_intval(pko_mkint(INT64_MIN)), INT64_MIN);
  assert_true(pko_eqv(pko_mkint(INT64_MAX), pko_mkint(INT64_MAX)));
  assert_true(pko_sym("abc") == pko_intern("abc", 3));
  assert_true(pko_gensym(pko_sym("abc")) != pko_sym("abc"));
  assert_true(pko_equal(pko_list(2, pko_mkcstr("s"), pko_mkflo(1.5)), pko_list(2, pko_mkcstr("s"), pko_mkflo(1.5))));
  assert_false(pko_equal(pko_mkflo(1.0), pko_mkfix(1)));
}

static void test_unify_basics(void **state)
{
  (void)state;
  EXPECT("(run* (q) (== q 5))", "(5)");
  EXPECT("(run* (q) (== 5 6))", "()");
  EXPECT("(run* (q) (== q (list q)))", "()"); /* occurs check */
  EXPECT("(run* (q) (fresh (x y) (== x y) (== q (list x y))))", "((_.0 _.0))");
  EXPECT("(run* (q) (fresh (x y) (== `(,x . 2) `(1 . ,y)) (== q (list y x))))", "((2 1))");
  EXPECT("(run* (q) (== \"s\" \"s\") (== 1.5 1.5) (== q #\\a))", "(#\\a)");
  EXPECT("(run* (x y) (appendo x y '(1 2)))", "((() (1 2)) ((1) (2)) ((1 2) ()))");
}

/* Bindings made in one branch are invisible in its sibling, including the
   in-place bindings of variables made before a disjunction. */
static void test_substitution_branches(void **state)
{
  (void)state;
  EXPECT("(run* (q) (fresh (x) (conde ((== x 1)) ((== x 2))) (== q x)))", "(1 2)");
  EXPECT("(run* (q) (fresh (x) (conde ((== x 1) fail) ((== q x)))))", "(_.0)");
  EXPECT("(run* (q) (fresh (x) (conda ((== (list x 1) (list 5 2))) ((== q x)))))", "(_.0)");
  EXPECT("(run* (q) (fresh (x) (condu ((== (list x 1) (list 5 2))) ((== q (list x 7))))))", "((_.0 7))");
}

static void test_disequality(void **state)
{
  (void)state;
  EXPECT("(run* (q) (=/= q 5))", "((_.0 (=/= ((_.0 5)))))");
  EXPECT("(run* (q) (=/= q 5) (== q 5))", "()");
  EXPECT("(run* (q) (=/= q 5) (== q 6))", "(6)");
  EXPECT("(run* (q) (fresh (x y) (=/= (list x y) (list 1 2)) (== q (list x y))))",
         "(((_.0 _.1) (=/= ((_.0 1) (_.1 2)))))");
  EXPECT("(run* (q) (fresh (x y) (=/= x y) (== x y)))", "()");
  /* subsumed: (=/= x 1) makes (=/= (x y) (1 2)) redundant */
  EXPECT("(run* (q) (fresh (x y) (=/= (list x y) (list 1 2)) (=/= x 1) (== q (list x y))))",
         "(((_.0 _.1) (=/= ((_.0 1)))))");
  /* constraints on variables outside the answer are dropped */
  EXPECT("(run* (q) (fresh (x) (=/= x 1)))", "(_.0)");
}

static void test_types(void **state)
{
  (void)state;
  EXPECT("(run* (q) (symbolo q))", "((_.0 (sym _.0)))");
  EXPECT("(run* (q) (numbero q) (== q 'a))", "()");
  EXPECT("(run* (q) (stringo q) (== q \"s\"))", "(\"s\")");
  EXPECT("(run* (q) (symbolo q) (numbero q))", "()");
  EXPECT("(run* (q) (fresh (x y z) (symbolo x) (numbero y) (stringo z) (== q (list z y x))))",
         "(((_.0 _.1 _.2) (num _.1) (str _.0) (sym _.2)))");
  /* a disequality between differently typed variables is dropped */
  EXPECT("(run* (q) (fresh (x y) (symbolo x) (numbero y) (=/= x y) (== q (list x y))))",
         "(((_.0 _.1) (num _.1) (sym _.0)))");
}

static void test_absento(void **state)
{
  (void)state;
  EXPECT("(run* (q) (absento 'closure q))", "((_.0 (absento (closure _.0))))");
  EXPECT("(run* (q) (absento 'closure q) (== q '(a (b closure))))", "()");
  EXPECT("(run* (q) (fresh (x) (absento 'c q) (== q (list x 'd))))", "(((_.0 d) (absento (c _.0))))");
  /* absento on a typed variable becomes a disequality */
  EXPECT("(run* (q) (symbolo q) (absento 'a q))", "((_.0 (=/= ((_.0 a))) (sym _.0)))");
}

/* Interleaving: an infinite branch does not starve the others, and the
   order is faster-miniKanren's. */
static void test_search_order(void **state)
{
  (void)state;
  EXPECT("(run 2 (q) (conde ((nevero)) ((== q 1)) ((== q 2))))", "(1 2)");
  EXPECT("(run 4 (q) (conde ((alwayso) (== q 'a)) ((== q 'b))))", "(b a a a)");
  EXPECT("(run 0 (q) (nevero))", "()");
}

/* Terms a million levels deep unify, reify and print with no C recursion
   (this runs on the test's ordinary thread stack). */
static void test_deep_terms(void **state)
{
  (void)state;
  EXPECT("(run* (q) (fresh (x y) (== (deep 1000000 x) (deep 1000000 y)) (== x 5) (== q (equal? 1 1))))", "(#t)");
  pk_query *q;
  assert_int_equal(pk_query_open(E, "(run 1 (q) (fresh (x) (== q (deep 1000000 x)) (=/= q 1)))", &q), PK_OK);
  pk_term a;
  assert_int_equal(pk_query_next(q, &a), 1);
  char *s = pk_to_string(a);
  assert_int_equal(strlen(s), 2000003); /* ((((...(_.0)...)))) */
  free(s);
  pk_query_free(q);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_terms_ground_bit), cmocka_unit_test(test_terms_numbers_symbols),
    cmocka_unit_test(test_unify_basics),     cmocka_unit_test(test_substitution_branches),
    cmocka_unit_test(test_disequality),      cmocka_unit_test(test_types),
    cmocka_unit_test(test_absento),          cmocka_unit_test(test_search_order),
    cmocka_unit_test(test_deep_terms),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
