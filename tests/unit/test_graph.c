/*
** test_graph.c — the model format (graph/pk_graph.c) and hash-consing
** (graph/pk_hcons.c): the seed's models, printing and reading back (also
** on generated models), sharing, every read error, interning from several
** threads, memory per node, depth, scopes.
*/
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pk_graph.h"
#include "pk_hcons.h"
#include "pk_print.h"

static int setup(void **state)
{
  (void)state;
  pko_init();
  return 0;
}

/* The seed's three models (shared/reference/models.sexp), comments kept. */
static const char *SEED = ";;; Example 1\n"
                          "(model mvnormal-regression\n"
                          "  (input a (tensor float64 (2))   #[1.0 0.0])\n"
                          "  (input R (tensor float64 (2 2)) #[[10.0 0.0] [0.0 10.0]])\n"
                          "  (input F (tensor float64 (1 2)) #[[-2.0 1.0]])\n"
                          "  (input V (tensor float64 (1 1)) #[[0.5]])\n"
                          "  (define beta (MvNormalRV a R () rng \"beta\"))          ; size ()\n"
                          "  (output (observed #[-3.0] (MvNormalRV (dot F beta) V () rng \"Y\"))))\n"
                          "(model radon\n"
                          "  (input county_idx (tensor int64 (919)))\n"
                          "  (input floor      (tensor float64 (919)))\n"
                          "  (input log_radon  (tensor float64 (919)))\n"
                          "  (define mu_a    (NormalRV 0.0 10000.0 () rng \"mu_a\"))\n"
                          "  (define sigma_a (HalfCauchyRV 0.0 5.0 () rng \"sigma_a\"))\n"
                          "  (define mu_b    (NormalRV 0.0 10000.0 () rng \"mu_b\"))\n"
                          "  (define sigma_b (HalfCauchyRV 0.0 5.0 () rng \"sigma_b\"))\n"
                          "  (define a (NormalRV mu_a sigma_a (85) rng \"a\"))\n"
                          "  (define b (NormalRV mu_b sigma_b (85) rng \"b\"))\n"
                          "  (define eps (HalfCauchyRV 0.0 5.0 () rng \"eps\"))\n"
                          "  (define radon_est (add (index a county_idx) (mul (index b county_idx) floor)))\n"
                          "  (output (observed log_radon (NormalRV radon_est eps () rng \"radon_like\"))))\n"
                          "(model normal-normal\n"
                          "  (input m0 (tensor float64 ()))\n"
                          "  (input s0 (tensor float64 ()))\n"
                          "  (define mu (NormalRV m0 s0 () rng \"mu\"))\n"
                          "  (output (observed 1.5 (NormalRV mu 1.0 () rng \"y\"))))\n";

/* SPEC §4's text of the regression model, as the printer writes it. */
static const char *REGRESSION = "(model mvnormal-regression\n"
                                "  (input a (tensor float64 (2)) #[1.0 0.0])\n"
                                "  (input R (tensor float64 (2 2)) #[[10.0 0.0] [0.0 10.0]])\n"
                                "  (input F (tensor float64 (1 2)) #[[-2.0 1.0]])\n"
                                "  (input V (tensor float64 (1 1)) #[[0.5]])\n"
                                "  (define beta (MvNormalRV a R () rng \"beta\"))\n"
                                "  (output (observed #[-3.0] (MvNormalRV (dot F beta) V () rng \"Y\"))))\n";

static pk_val read_text(const char *text) { return pkg_read_text("m.model", text, strlen(text)); }

/* A model printed, malloc'd. */
static char *print_model(pk_val m)
{
  pkp_buf b;
  pkp_init(&b);
  pkg_print(&b, m);
  pkp_putc(&b, 0);
  return b.s;
}

/* The inputs of a model (its input declarations, in order). */
static pk_val inputs_of(pk_val m)
{
  pk_val r = PK_NIL;
  for (pk_val d = pko_cdr(pko_cdr(m)); pko_pairp(d); d = pko_cdr(d))
    if (pko_car(pko_car(d)) == pko_sym("input")) r = pko_cons(pko_car(d), r);
  return pko_reverse(r);
}

/* Print m, read the text back: same name, inputs and output nodes (the
   very same interned nodes), and the same text when printed again. */
static void check_roundtrip(pk_val m)
{
  char *t1 = print_model(m);
  pk_val back = read_text(t1);
  assert_int_equal(pko_length(back), 1);
  pk_val m2 = pko_car(back);
  assert_true(pkg_name(m2) == pkg_name(m));
  assert_true(pko_equal(inputs_of(m2), inputs_of(m)));
  pk_val o1 = pkg_outputs(m), o2 = pkg_outputs(m2);
  assert_int_equal(pko_length(o1), pko_length(o2));
  for (; pko_pairp(o1); o1 = pko_cdr(o1), o2 = pko_cdr(o2)) assert_true(pko_car(o1) == pko_car(o2));
  char *t2 = print_model(m2);
  assert_string_equal(t1, t2);
  free(t1);
  free(t2);
}

/* ---- the seed's models ------------------------------------------------------ */

static void test_seed(void **state)
{
  (void)state;
  pk_val ms = read_text(SEED);
  assert_int_equal(pko_length(ms), 3);
  assert_string_equal(pko_symname(pkg_name(pko_car(ms))), "mvnormal-regression");
  assert_string_equal(pko_symname(pkg_name(pko_car(pko_cdr(ms)))), "radon");
  for (pk_val m = ms; pko_pairp(m); m = pko_cdr(m)) {
    assert_true(pkg_modelp(pko_car(m)));
    check_roundtrip(pko_car(m));
  }
  char *t = print_model(pko_car(ms));
  assert_string_equal(t, REGRESSION);
  free(t);
  /* defines are substituted: the output mentions beta's node, not beta */
  pk_val out = pko_car(pkg_outputs(pko_car(ms)));
  char *w = pkp_tostring(out, PKP_WRITE);
  assert_string_equal(w, "(observed #[-3.0] (MvNormalRV (dot F (MvNormalRV a R () rng \"beta\")) V () rng \"Y\"))");
  free(w);
  /* the term shape of a model */
  w = pkp_tostring(pko_car(pko_cdr(pko_cdr(ms))), PKP_WRITE);
  assert_string_equal(w, "(model normal-normal (input m0 (tensor float64 ())) (input s0 (tensor float64 ())) "
                         "(define mu (NormalRV m0 s0 () rng \"mu\")) "
                         "(output (observed 1.5 (NormalRV (NormalRV m0 s0 () rng \"mu\") 1.0 () rng \"y\"))))");
  free(w);
  /* reading again gives the same nodes */
  assert_true(pko_car(read_text(SEED)) == pko_car(ms));
  /* radon: every define survives, in the order the walk finishes them */
  t = print_model(pko_car(pko_cdr(ms)));
  assert_non_null(strstr(t, "  (define a (NormalRV mu_a sigma_a (85) rng \"a\"))\n"));
  assert_non_null(strstr(t, "  (output (observed log_radon (NormalRV radon_est eps () rng \"radon_like\"))))\n"));
  assert_null(strstr(t, "_1")); /* (85) is a SIZE: never a define */
  free(t);
}

/* ---- sharing ---------------------------------------------------------------- */

static void test_sharing(void **state)
{
  (void)state;
  pk_val m = pko_car(read_text("(model s (input a (tensor float64 ()))\n"
                               " (define x (f a #[1 2]))\n"
                               " (output (g x x) (f a #[1 2]) (h #[1 2] (k a) (k a)) 2.5 2.5))"));
  pk_val o = pkg_outputs(m);
  pk_val g = pko_car(o), f = pko_car(pko_cdr(o)), h = pko_car(pko_cdr(pko_cdr(o)));
  assert_true(pko_car(pko_cdr(g)) == pko_car(pko_cdr(pko_cdr(g)))); /* x used twice: one node */
  assert_true(pko_car(pko_cdr(g)) == f);                            /* equal subterms: one node */
  assert_true(pko_car(pko_cdr(h)) == pko_car(pko_cdr(pko_cdr(f)))); /* tensors too */
  assert_true(pko_car(pko_cdr(pko_cdr(pko_cdr(o)))) == pko_car(pko_cdr(pko_cdr(pko_cdr(pko_cdr(o))))));
  assert_true(pkh_internedp(g) && pkh_internedp(f) && pkh_internedp(m));
  char *t = print_model(m);
  assert_string_equal(t, "(model s\n"
                         "  (input a (tensor float64 ()))\n"
                         "  (define _1 #[1 2])\n"
                         "  (define x (f a _1))\n"
                         "  (define _2 (k a))\n"
                         "  (output (g x x) x (h _1 _2 _2) 2.5 2.5))\n");
  free(t);
  check_roundtrip(m);
  /* a free symbol _1 is never a generated name */
  m = pko_car(read_text("(model s (output (g (f _1) (f _1))))"));
  t = print_model(m);
  assert_string_equal(t, "(model s\n  (define _2 (f _1))\n  (output (g _2 _2)))\n");
  free(t);
  check_roundtrip(m);
}

/* The printer's atoms and tails, as write prints them: a dotted tail (a
   model a program built), numbers of every sign and length, names longer
   than a word, strings, flonums, booleans; a shared dotted list gets a
   define. */
static void test_print_atoms(void **state)
{
  (void)state;
  pk_val dot = pko_cons(pko_sym("f"), pko_cons(pko_sym("a"), pko_sym("b")));
  pk_val g = pko_list(9, pko_sym("g"), pko_mkfix(-12), pko_mkfix(0), pko_mkfix(1234567890123), pko_mkfix(-7),
                      pko_sym("a-very-long-symbol-name"), pko_mkcstr("s t"), pko_mkflo(2.5), PK_TRUE);
  pk_val out = pko_list(4, pko_sym("output"), dot, g, pko_cons(pko_sym("h"), pko_cons(dot, pko_mkfix(3))));
  pk_val m = pkh_intern(pko_list(3, pko_sym("model"), pko_sym("p"), out));
  assert_true(m && pkg_modelp(m));
  char *t = print_model(m);
  assert_string_equal(t,
                      "(model p\n"
                      "  (define _1 (f a . b))\n"
                      "  (output _1 (g -12 0 1234567890123 -7 a-very-long-symbol-name \"s t\" 2.5 #t) (h _1 . 3)))\n");
  free(t);
}

/* Interning ordinary terms built by a program. */
static void test_intern(void **state)
{
  (void)state;
  pk_val a = pko_list(3, pko_sym("mul"), pko_sym("x"), pko_list(2, pko_mkflo(1.5), pko_mkcstr("s")));
  pk_val b = pko_list(3, pko_sym("mul"), pko_sym("x"), pko_list(2, pko_mkflo(1.5), pko_mkcstr("s")));
  assert_false(pkh_internedp(a));
  pk_val ia = pkh_intern(a), ib = pkh_intern(b);
  assert_true(ia && ia == ib);
  assert_true(pko_equal(ia, a));
  assert_true(pkh_internedp(ia));
  assert_true(pkh_intern(ia) == ia);
  assert_true(pkh_hash(ia) == pkh_hash(ib));
  /* the tail of an interned list is a plain pair; interning it gives the list node */
  assert_false(pkh_internedp(pko_cdr(ia)));
  assert_true(pko_equal(pkh_intern(pko_cdr(ia)), pko_cdr(ia)));
  /* atoms: boxed ones canonical by contents; fixnums and symbols as they are */
  assert_true(pkh_atom(pko_mkflo(2.5)) == pkh_atom(pko_mkflo(2.5)));
  assert_false(pkh_atom(pko_mkflo(0.0)) == pkh_atom(pko_mkflo(-0.0)));
  assert_false(pkh_atom(pko_mkflo(1.0)) == pkh_atom(pko_mkfix(1)));
  assert_true(pkh_atom(pko_mkfix(7)) == pko_mkfix(7));
  /* dotted lists, and what cannot be interned */
  pk_val d = pkh_intern(pko_cons(pko_sym("a"), pko_mkfix(1)));
  assert_true(d && d == pkh_intern(pko_cons(pko_sym("a"), pko_mkfix(1))));
  assert_true(pkh_intern(pko_list(2, pko_sym("f"), pko_mkvar(1))) == 0);
  assert_true(pkh_intern(pko_list(2, pko_sym("f"), pko_mkvec(1, PK_NIL))) == 0);
  /* ids differ */
  assert_true(pkh_node_of(ia)->id != pkh_node_of(d)->id);
}

/* ---- generated models ------------------------------------------------------- */

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n)
{
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (unsigned)(rs % n);
}

/* Append printf text to a growable buffer. */
static void put(pkp_buf *b, const char *fmt, ...)
{
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  pkp_puts(b, tmp, strlen(tmp));
}

/* A random term of about size nodes over the inputs, the defines so far
   (d0 ... d{ndef-1}), literals and tensors, with random variables. */
static void gen_term(pkp_buf *b, int size, int ndef)
{
  if (size <= 1) {
    switch (rnd(6)) {
    case 0: put(b, "x%u", rnd(3)); break;
    case 1:
      if (ndef) {
        put(b, "d%u", rnd((unsigned)ndef));
        break;
      } /* fall through */
    case 2: put(b, "%u", rnd(3)); break;
    case 3: put(b, "%u.5", rnd(3)); break;
    case 4: put(b, rnd(2) ? "#[1.0 %u.0]" : "#[[1 2] [%u 4]]", rnd(2)); break;
    default: put(b, "\"s%u\"", rnd(2)); break;
    }
    return;
  }
  static const char *ops[] = { "add", "mul", "dot", "neg", "exp" };
  if (rnd(4) == 0) {
    put(b, "(NormalRV ");
    gen_term(b, size / 2, ndef);
    put(b, " ");
    gen_term(b, size / 2, ndef);
    put(b, rnd(2) ? " () rng \"n%u\")" : " (85) rng \"n%u\")", rnd(4));
    return;
  }
  const char *op = ops[rnd(5)];
  int arity = op[0] == 'n' || op[0] == 'e' ? 1 : 2;
  put(b, "(%s", op);
  for (int k = 0; k < arity; k++) {
    put(b, " ");
    gen_term(b, (size - 1) / arity, ndef);
  }
  put(b, ")");
}

/* Models with random defines (used zero, one or more times) and outputs:
   printing and reading back gives the same graph, and the printed text is
   a fixed point. */
static void test_generated(void **state)
{
  (void)state;
  for (int k = 0; k < 300; k++) {
    pkp_buf b;
    pkp_init(&b);
    put(&b, "(model g%d\n", k);
    for (int i = 0; i < 3; i++) put(&b, "  (input x%d (tensor float64 (2)) #[%d.0 1.0])\n", i, i);
    int ndef = (int)rnd(5);
    for (int i = 0; i < ndef; i++) {
      put(&b, "  (define d%d ", i);
      gen_term(&b, 1 + (int)rnd(12), i);
      put(&b, ")\n");
    }
    put(&b, "  (output");
    for (int i = 0, n = 1 + (int)rnd(3); i < n; i++) {
      put(&b, " ");
      gen_term(&b, 1 + (int)rnd(30), ndef);
    }
    put(&b, "))\n");
    pkp_putc(&b, 0);
    pk_val ms = read_text(b.s);
    assert_int_equal(pko_length(ms), 1);
    check_roundtrip(pko_car(ms));
    pkp_free(&b);
  }
}

/* ---- errors ----------------------------------------------------------------- */

#define GOOD "(model good (input a (tensor float64 ())) (output (NormalRV a 1.0 () rng \"x\")))\n"

static const struct {
  const char *in, *msg;
} errors[] = {
  /* unbalanced parentheses */
  { "(model m (input a (tensor float64 ()))\n (output a)",
    "m.model:1:1: unexpected end-of-file reading list [model m; models read: none]" },
  { "(model m (output a)))", "m.model:1:21: unexpected close parenthesis" },
  { "(model m (output (f a]))", "m.model:1:22: parenthesized list terminated by bracket [model m; models read: none]" },
  /* two models of the same name */
  { "(model m (output a))\n(model m (output b))",
    "m.model:2:8: model m is defined twice in this file (first at line 1) [model m; models read: m]" },
  /* ragged or non-numeric tensors */
  { "(model m (output #[[1 2] [3]]))",
    "m.model:1:26: ragged tensor literal: a row of 1 where 2 were expected [model m; models read: none]" },
  { "(model m (output #[1 x]))", "m.model:1:22: tensor literal elements must be numbers [model m; models read: none]" },
  /* unknown declarations, and other malformed forms */
  { "(model m (inptu a (tensor float64 ())) (output a))",
    "m.model:1:11: unknown declaration inptu (expected input, define or output) [model m; models read: none]" },
  { "(model m () (output a))",
    "m.model:1:10: unknown declaration () (expected input, define or output) [model m; models read: none]" },
  { "(modle m (output a))",
    "m.model:1:2: expected (model NAME declaration ...), found modle [model at line 1; models read: none]" },
  { "(model \"m\" (output a))",
    "m.model:1:8: a model's name must be a symbol, found \"m\" [model at line 1; models read: none]" },
  { "(model m a (output a))",
    "m.model:1:10: expected a declaration (input, define or output), found a [model m; models read: none]" },
  { "x", "m.model:1:1: expected (model NAME declaration ...), found x" },
  { "(model m (input a (tensor float64 ())))", "m.model:1:1: model m has no output [model m; models read: none]" },
  { "(model m (output 'a))", "m.model:1:18: only lists, symbols, numbers, strings and #[...] tensors may appear in a "
                             "model [model m; models read: none]" },
  { "(model m (output (f #(1))))", "m.model:1:21: only lists, symbols, numbers, strings and #[...] tensors may appear "
                                   "in a model [model m; models read: none]" },
  /* defines: used before, defined twice, malformed */
  { "(model m (define y (f x))\n (define x (g a))\n (output y))",
    "m.model:1:23: x is used before its define (line 2) [model m; models read: none]" },
  { "(model m (define x (f a))\n (define x (g a))\n (output x))",
    "m.model:2:10: x is defined twice (first at line 1) [model m; models read: none]" },
  { "(model m (input x (tensor float64 ()))\n (define x (g a))\n (output x))",
    "m.model:2:10: x is defined twice (first at line 1) [model m; models read: none]" },
  { "(model m (define x (f a) (g a)) (output x))",
    "m.model:1:10: define takes a name and one term [model m; models read: none]" },
  /* known random variables with the wrong number of arguments */
  { "(model m (output (NormalRV 0.0 1.0 () rng)))",
    "m.model:1:18: NormalRV takes 5 arguments (mu sd SIZE RNG NAME), given 4 [model m; models read: none]" },
  { "(model m (define b (StudentTRV 1 0.0 1.0 () rng \"b\" 7)) (output b))",
    "m.model:1:20: StudentTRV takes 6 arguments (nu mu sd SIZE RNG NAME), given 7 [model m; models read: none]" },
  { "(model m (output (observed 1.0)))",
    "m.model:1:18: observed takes 2 arguments (VALUE RV), given 1 [model m; models read: none]" },
  /* test values and types */
  { "(model m (input A (tensor float64 (2 2)) #[1.0 2.0]) (output A))",
    "m.model:1:42: test value of shape (2) contradicts the declared shape (2 2) [model m; models read: none]" },
  { "(model m (input A (tensor float64 (2)) 1.0) (output A))",
    "m.model:1:40: test value of shape () contradicts the declared shape (2) [model m; models read: none]" },
  { "(model m (input A (tensor float64 ()) #[1.0]) (output A))",
    "m.model:1:39: test value of shape (1) contradicts the declared shape () [model m; models read: none]" },
  { "(model m (input A (tensor float64 (2)) \"s\") (output A))",
    "m.model:1:40: a test value must be a number or a tensor literal, found \"s\" [model m; models read: none]" },
  { "(model m (input A (tensor float32 (2))) (output A))",
    "m.model:1:19: unknown dtype float32 (expected float64, int64 or bool) [model m; models read: none]" },
  { "(model m (input A (tensor float64 (2 -1))) (output A))",
    "m.model:1:19: a dimension must be a non-negative integer or a symbol, found -1 [model m; models read: none]" },
  { "(model m (input A (matrix float64 (2))) (output A))",
    "m.model:1:19: an input's type must be (tensor DTYPE SHAPE), found (matrix float64 (2)) [model m; models read: "
    "none]" },
  { "(model m (input A) (output A))", "m.model:1:10: input takes a name, a type (tensor DTYPE SHAPE) and an optional "
                                      "test value [model m; models read: none]" },
  /* empty files, bad bytes */
  { "", "m.model:1:1: no models in the file: expected (model NAME declaration ...)" },
  { "  ; only a comment\n", "m.model:2:1: no models in the file: expected (model NAME declaration ...)" },
  { "(model m (output \"\xc3\x28\"))", "m.model:1:19: invalid UTF-8 byte \\xC3;" },
  { "; \xff in a comment\n(model m (output a))", "m.model:1:3: invalid UTF-8 byte \\xFF;" },
  /* one bad model among good ones: named, with the models read before it */
  { GOOD "(model good2 (output a))\n(model bad (output (NormalRV a)))\n" GOOD,
    "m.model:3:20: NormalRV takes 5 arguments (mu sd SIZE RNG NAME), given 1 [model bad; models read: good, good2]" },
};

/* The static error reading text (or a file when text is NULL) throws. */
static const char *read_error(const char *text, const char *path)
{
  pko_catch c;
  if (PKO_TRY(c)) {
    if (text)
      read_text(text);
    else
      pkg_read_file(path, NULL);
    PKO_END(c);
    fail_msg("no error for %s", text ? text : path);
  }
  assert_int_equal(pko_err.status, PK_STATUS_STATIC);
  return pko_err.msg;
}

static void test_errors(void **state)
{
  (void)state;
  for (size_t k = 0; k < sizeof errors / sizeof errors[0]; k++) {
    const char *msg = read_error(errors[k].in, NULL);
    if (strcmp(msg, errors[k].msg) != 0) print_error("case %zu: %s\n", k, msg);
    assert_string_equal(msg, errors[k].msg);
  }
  /* a bad byte after any number of ASCII bytes (the check takes eight at
     a time), and a good two-byte character before it */
  for (int pad = 0; pad < 20; pad++) {
    char text[64], want[64];
    snprintf(text, sizeof text, "(model m (output x))\n;\xc3\xa9%*s\xff", pad, "");
    snprintf(want, sizeof want, "m.model:2:%d: invalid UTF-8 byte \\xFF;", pad + 3);
    assert_string_equal(read_error(text, NULL), want);
  }
}

/* Files: a directory and a missing file are static errors at PATH:1:1. */
static void test_file_errors(void **state)
{
  (void)state;
  const char *paths[] = { ".", "no-such.model" };
  const char *msgs[] = { ".:1:1: cannot read .: it is a directory",
                         "no-such.model:1:1: cannot read no-such.model: No such file or directory" };
  for (int k = 0; k < 2; k++) assert_string_equal(read_error(NULL, paths[k]), msgs[k]);
}

/* ---- threads, memory, depth ---------------------------------------------------- */

#define NT 4
#define NTERMS 20000

/* Every thread interns the same terms (built afresh, in its own order):
   all get the same nodes. */
static pk_val *results[NT];

static void *intern_worker(void *arg)
{
  int t = (int)(intptr_t)arg;
  pk_val *out = GC_MALLOC(NTERMS * sizeof *out);
  for (int k = 0; k < NTERMS; k++) {
    int i = t % 2 ? NTERMS - 1 - k : k;
    pk_val leaf = pko_list(3, pko_sym("mul"), pko_mkfix(i % 97), pko_mkflo(i % 13));
    out[i] = pkh_intern(pko_list(3, pko_sym("add"), leaf, pko_mkfix(i)));
  }
  results[t] = out;
  return NULL;
}

static void test_threads(void **state)
{
  (void)state;
  pthread_t th[NT];
  for (int t = 0; t < NT; t++) assert_int_equal(pthread_create(&th[t], NULL, intern_worker, (void *)(intptr_t)t), 0);
  for (int t = 0; t < NT; t++) pthread_join(th[t], NULL);
  for (int k = 0; k < NTERMS; k++)
    for (int t = 1; t < NT; t++) assert_true(results[t][k] == results[0][k]);
  assert_true(pko_car(pko_cdr(results[0][5])) == pko_car(pko_cdr(results[0][5 + 97 * 13])));
}

/* Distinct binary terms cost under 100 bytes each (node, tail pairs,
   table slots). */
static void test_memory(void **state)
{
  (void)state;
  pkh_stats a, b;
  pkh_get_stats(&a);
  pk_val t = pko_sym("x");
  for (int k = 0; k < 200000; k++) t = pkh_intern(pko_list(3, pko_sym(k % 2 ? "mul" : "add"), t, pko_mkfix(k)));
  pkh_get_stats(&b);
  size_t lists = b.lists - a.lists;
  assert_int_equal(lists, 200000);
  double per = (double)(b.bytes - a.bytes) / (double)lists;
  print_message("bytes per distinct binary term: %.1f\n", per);
  assert_true(per < 100);
}

/* A model nested 1,000,000 deep reads and prints (no C recursion). */
static void test_deep(void **state)
{
  (void)state;
  enum { N = 1000000 };
  pkp_buf b;
  pkp_init(&b);
  put(&b, "(model deep (output ");
  for (int k = 0; k < N; k++) pkp_puts(&b, "(f ", 3);
  pkp_putc(&b, 'x');
  for (int k = 0; k < N; k++) pkp_putc(&b, ')');
  put(&b, "))");
  pk_val ms = pkg_read_text("deep.model", b.s, b.len);
  pkp_free(&b);
  char *t = print_model(pko_car(ms));
  assert_int_equal(strlen(t), strlen("(model deep\n  (output ))\n") + (size_t)N * 4 + 1);
  pk_val back = pkg_read_text("deep2.model", t, strlen(t));
  assert_true(pko_car(pkg_outputs(pko_car(back))) == pko_car(pkg_outputs(pko_car(ms))));
  free(t);
}

/* (f sym k) interned. */
static pk_val fk(const char *f, int k) { return pkh_intern(pko_list(2, pko_sym(f), pko_mkfix(k))); }

/* Scopes: lists made in one are found in it (the whole table's first),
   counted nowhere else, given back at its end (the next scope refills
   the same memory), unless the program stored something meanwhile; a
   model read and rewritten in one prints as outside. */
static void test_scope(void **state)
{
  (void)state;
  pk_val g = fk("scope-g", 1);
  uint32_t gid = pkh_node_of(g)->id;
  pkh_stats a, b;
  pkh_get_stats(&a);
  uint64_t e0 = pkh_epoch();
  assert_false(pkh_scoped());
  pkh_scope_begin();
  assert_true(pkh_scoped());
  assert_true(fk("scope-g", 1) == g);
  pk_val h = fk("scope-h", 1);
  assert_true(pkh_internedp(h) && fk("scope-h", 1) == h && pkh_node_of(h)->id > gid);
  pk_val many[20000];
  for (int k = 0; k < 20000; k++) many[k] = fk("scope-m", k); /* the scope's table grows */
  for (int k = 0; k < 20000; k++) assert_true(fk("scope-m", k) == many[k]);
  pk_val longl = PK_NIL;
  for (int k = 0; k < 5000; k++) longl = pko_cons(pko_mkfix(k), longl);
  longl = pkh_intern(longl); /* a block of its own */
  assert_true(pkh_internedp(longl));
  pkh_get_stats(&b);
  assert_int_equal(b.lists, a.lists);
  pkh_scope_end();
  assert_false(pkh_scoped());
  assert_true(pkh_epoch() == e0 + 1);
  assert_false(pkh_internedp(h));

  pkh_scope_begin();
  pk_val h2 = fk("scope-h2", 2);
  assert_true(h2 == h); /* the same memory again */
  pko_mutations++;      /* as a set! would: the scope's lists stay */
  pkh_scope_end();
  assert_true(pkh_internedp(h2) && pko_equal(h2, pko_list(2, pko_sym("scope-h2"), pko_mkfix(2))));
  pkh_scope_begin();
  pk_val h3 = fk("scope-h3", 3);
  assert_true(h3 != h2 && pkh_node_of(h3)->id > pkh_node_of(h2)->id);
  assert_true(fk("scope-h2", 2) != h2); /* a new node: the kept one is in no table */
  pkh_scope_end();
  assert_true(pkh_internedp(h2));

  /* reading and printing in a scope */
  char *out = print_model(pko_car(pkg_read_text("seed.model", SEED, strlen(SEED))));
  pkh_scope_begin();
  char *in = print_model(pko_car(pkg_read_text("seed.model", SEED, strlen(SEED))));
  pkh_scope_end();
  assert_string_equal(in, out);
  free(in);
  free(out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_seed),        cmocka_unit_test(test_sharing),   cmocka_unit_test(test_print_atoms),
    cmocka_unit_test(test_intern),      cmocka_unit_test(test_generated), cmocka_unit_test(test_errors),
    cmocka_unit_test(test_file_errors), cmocka_unit_test(test_threads),   cmocka_unit_test(test_memory),
    cmocka_unit_test(test_deep),        cmocka_unit_test(test_scope),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
