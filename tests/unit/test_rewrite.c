/*
** test_rewrite.c — the fixed-point driver (graph/pk_rewrite.c) against the
** relational definition run on the engine,
**   (run 1 (q) (reduceo (lambda (a b) (WALKER REL a b)) 'TERM q)),
** on seeded random terms (shared subterms come from the small alphabet),
** for rule sets with overlapping rules, a rule under =/=, project,
** several answers, atom rules, a rule that never fires, and both walkers;
** split passes (tasks in any order, on two threads) against unsplit ones;
** then pk_rewrite_model's results and errors.
** PK_TEST_TIMEOUT: 600
*/
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pkanren.h"
#include "pk_eval.h"
#include "pk_hcons.h"
#include "pk_print.h"
#include "pk_read.h"
#include "pk_rewrite.h"

static const char *LIB =
    /* unit laws, overlapping (x*0 and 0*x against x*1 and 1*x) */
    "(define (unit a b)\n"
    "  (fresh (x)\n"
    "    (conde ((== a `(mul ,x 1)) (== b x)) ((== a `(mul 1 ,x)) (== b x))\n"
    "           ((== a `(add ,x 0)) (== b x)) ((== a `(add 0 ,x)) (== b x))\n"
    "           ((== a `(mul ,x 0)) (== b 0)) ((== a `(mul 0 ,x)) (== b 0)))))\n"
    /* overlapping, order decides: (f (g x)) is caught by the first clause */
    "(define (fg a b)\n"
    "  (fresh (x)\n"
    "    (conde ((== a `(f ,x)) (== b `(g ,x))) ((== a `(f (g ,x))) (== b x)) ((== a `(g (g ,x))) (== b `(h ,x "
    ",x))))))\n"
    /* fires only under a constraint */
    "(define (diseq a b)\n"
    "  (fresh (x y) (== a `(h ,x ,y)) (=/= x y) (== b x)))\n"
    /* atoms: a -> b -> c, 2 -> 1 */
    "(define (atoms a b)\n"
    "  (conde ((== a 'a) (== b 'b)) ((== a 'b) (== b 'c)) ((== a 2) (== b 1))))\n"
    /* never fires */
    "(define (never a b) fail)\n"
    /* project: negate numbers under neg */
    "(define (negate a b)\n"
    "  (fresh (x) (== a `(neg ,x)) (project (x) (if (number? x) (== b (- x)) fail))))\n"
    /* several answers in kanren's order: the first is used */
    "(define (multi a b)\n"
    "  (fresh (x) (== a `(k ,x)) (lconde ((== b `(p ,x))) ((== b `(q ,x))))))\n"
    /* == only, but a repeated variable, a reversed ==, and a first
       clause whose template is not ground when reached (the engine
       decides those nodes) */
    "(define (rev a b)\n"
    "  (fresh (x y)\n"
    "    (conde ((== a `(h ,x ,x)) (== b x)) ((== `(h ,x ,y) a) (== b `(k ,y)))\n"
    "           ((== b `(p ,y)) (== a `(k ,y))) ((== a `(add ,x ,y)) (== b `(mul ,y ,x))))))\n"
    /* constants at one position that differ only in bits far apart (the
       clause filter's slots by value cannot separate them) */
    "(define (spread a b)\n"
    "  (fresh (x)\n"
    "    (conde ((== a `(f 0 ,x)) (== b `(p ,x))) ((== a `(f 16 ,x)) (== b `(q ,x)))\n"
    "           ((== a `(f 1024 ,x)) (== b `(r ,x))) ((== a `(f 1040 ,x)) (== b `(s ,x)))\n"
    "           ((== a `(f 2 ,x)) (== b x)))))\n"
    /* a union of the above */
    "(define (all a b)\n"
    "  (conde ((unit a b)) ((fg a b)) ((diseq a b)) ((atoms a b)) ((negate a b)) ((multi a b))))\n"
    /* an answer with a fresh variable */
    "(define (nonground a b) (fresh (x) (== a 'c) (== b `(v ,x))))\n"
    /* ping-pong: never reaches a fixed point */
    "(define (pingpong a b) (conde ((== a 'a) (== b 'b)) ((== a 'b) (== b 'a))))\n"
    "(define (boom a b) (fresh (x) (== a `(boom ,x)) (project (x) (== b (car x)))))\n"
    /* head guards the driver reads: a constant list, then a global and a
       second test */
    "(define (guarded a b) (project (a) (if (head-may-be? a '(mul add)) (unit a b) fail)))\n"
    "(define guard-heads '(f g h))\n"
    "(define (guarded2 a b)\n"
    "  (project (a) (if (and (head-may-be? a guard-heads) (not (equal? a '(f 1)))) (all a b) fail)))\n"
    /* rewrite-other-outputs-hold? and its definition (interned lists are
       looked up in a set, atoms counted) */
    "(define (held a b) (project (a) (if (rewrite-other-outputs-hold? a) (== b '(held)) fail)))\n"
    "(define (held-ref a b)\n"
    "  (project (a) (if (exists (lambda (o) (> (subterm-count a o) 0)) (rewrite-other-outputs)) (== b '(held)) "
    "fail)))\n"
    /* subterm-count's definition in Scheme (stats.scm's before the primitive) */
    "(define (ref-count x t)\n"
    "  (let ((memo '()))\n"
    "    (define (cnt t)\n"
    "      (cond ((or (eq? x t) (and (pair? t) (equal? x t))) 1)\n"
    "            ((pair? t) (let ((hit (assq t memo)))\n"
    "                         (if hit (cdr hit)\n"
    "                             (let ((n (let loop ((l t) (n 0))\n"
    "                                        (cond ((>= n 2) 2) ((pair? l) (loop (cdr l) (+ n (cnt (car l))))) (else "
    "n)))))\n"
    "                               (set! memo (cons (cons t n) memo)) n))))\n"
    "            (else 0)))\n"
    "    (cnt t)))\n";

#include "engine_fixture.h"

/* ---- the generator (seeded) ---------------------------------------------------- */

static uint64_t rng;
static unsigned rnd(unsigned n)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

/* Whether gen makes improper lists too (terms only: the model format has
   none). */
static bool gen_dotted;

/* A random term of depth at most d, as text. */
static void gen(pkp_buf *b, int d, bool obs)
{
  static const char *ops[] = { "mul", "add", "f", "g", "h", "k", "neg", "boom" };
  static const char *leaves[] = { "0", "1", "2", "a", "b", "c", "x", "1.0", "\"s\"", "()" };
  if (obs) {
    pkp_printf(b, "%s", "(observed ");
    gen(b, 1, false);
    pkp_printf(b, "%s", " ");
    gen(b, d, false);
    pkp_printf(b, "%s", ")");
    return;
  }
  if (d == 0 || rnd(4) == 0) {
    pkp_printf(b, "%s", leaves[rnd(10)]);
    return;
  }
  unsigned op = rnd(7), n = op == 2 || op == 3 || op == 5 || op == 6 ? 1 : 2;
  if (rnd(8) == 0) n = 3;
  pkp_printf(b, "%s", "(");
  pkp_printf(b, "%s", ops[op]);
  for (unsigned i = 0; i < n; i++) {
    pkp_printf(b, "%s", " ");
    gen(b, d - 1, false);
  }
  if (gen_dotted && rnd(16) == 0) pkp_printf(b, " . %s", leaves[rnd(10)]); /* walked, never rebuilt */
  pkp_printf(b, "%s", ")");
}

/* The first n answers of reduceo as text ("none" for none): the relational
   definition alone (fast false) or with the driver as its first answer
   (reduceo as programs call it). */
static char *relational(const char *walker, const char *rel, const char *term, bool fast, int n)
{
  char q[8192];
  snprintf(q, sizeof q, "(run %d (q) (kanren-reduceo (lambda (a b) (%s %s a b)) '%s q %s))", n, walker, rel, term,
           fast ? "#t" : "#f");
  pk_query *qq;
  assert_int_equal(pk_query_open(E, q, &qq), PK_OK);
  pk_term a;
  int r;
  pkp_buf b;
  pkp_init(&b);
  while ((r = pk_query_next(qq, &a)) == 1) {
    char *one = pk_to_string(a);
    pkp_printf(&b, "%s%s", b.len ? " " : "", one);
    free(one);
  }
  assert_true(r >= 0);
  pk_query_free(qq);
  pkp_putc(&b, 0);
  char *s = strdup(b.len > 1 ? b.s : "none");
  pkp_free(&b);
  return s;
}

/* The driver's answer as text, or "none". */
static char *driver(pkrw_ctx *c, const char *term)
{
  pk_term t;
  assert_int_equal(pk_parse(E, term, &t), PK_OK);
  pk_val r = pkrw_term(c, pkh_intern(t));
  return r ? pk_to_string(r) : strdup("none");
}

static int cases, fired;
static pk_val builtin_head; /* head-may-be? as defined at start */

/* n random terms against rel under walker: driver == relational. */
static void compare(const char *rel, const char *walker, int n, int depth, uint64_t seed)
{
  rng = seed;
  pk_val relv = pko_as_sym(pko_sym(rel))->value;
  pkrw_ctx *c = pkrw_new(relv, strcmp(walker, "walko") ? PKRW_NON_OBS_WALKO : PKRW_WALKO);
  for (int i = 0; i < n; i++) {
    pkp_buf b;
    pkp_init(&b);
    gen_dotted = true;
    gen(&b, depth, strcmp(walker, "walko") && rnd(4) != 0);
    gen_dotted = false;
    pkp_putc(&b, 0);
    if (strstr(b.s, "boom")) continue;
    char *want = relational(walker, rel, b.s, false, 1), *got = driver(c, b.s);
    if (strcmp(want, got))
      fprintf(stderr, "%s %s on %s:\n  relational %s\n  driver     %s\n", walker, rel, b.s, want, got);
    assert_string_equal(want, got);
    if (i % 8 == 0) { /* the program's reduceo, driver first then relational, is the relational one */
      char *slow = relational(walker, rel, b.s, false, 3), *fast = relational(walker, rel, b.s, true, 3);
      assert_string_equal(slow, fast);
      free(slow);
      free(fast);
    }
    cases++;
    fired += strcmp(got, "none") != 0;
    free(want);
    free(got);
  }
  /* the == rule sets run compiled (no query), the others on the engine */
  bool compiled = !strcmp(rel, "unit") || !strcmp(rel, "fg") || !strcmp(rel, "atoms") || !strcmp(rel, "rev");
  if (compiled)
    assert_true(pkrw_get_stats(c)->fast > 0);
  else
    assert_int_equal(pkrw_get_stats(c)->fast, 0);
  /* the guarded sets fail at the guard without a query, while the
     builtins are in place */
  bool builtin = pko_as_sym(pko_sym("head-may-be?"))->value == builtin_head;
  if (!strncmp(rel, "guarded", 7) && builtin)
    assert_true(pkrw_get_stats(c)->guarded > 0);
  else
    assert_int_equal(pkrw_get_stats(c)->guarded, 0);
  pkrw_free(c);
}

static void test_against_relational(void **state)
{
  (void)state;
  static const char *rels[] = { "unit",  "fg",  "diseq", "atoms",   "never",   "negate",
                                "multi", "all", "rev",   "guarded", "guarded2" };
  static const char *walkers[] = { "walko", "non_obs_walko" };
  builtin_head = pko_as_sym(pko_sym("head-may-be?"))->value;
  for (int w = 0; w < 2; w++)
    for (int r = 0; r < 11; r++)
      compare(rels[r], walkers[w], 300, 4 + (r & 1), 1000u * (uint64_t)(r + 1) + (uint64_t)w);
  /* the guard's global changed, then head-may-be? itself replaced: the
     driver reads both at each node */
  assert_int_equal(pk_load_string(E, "set", "(set! guard-heads '(g k))", 25), PK_OK);
  compare("guarded2", "walko", 300, 4, 77);
  const char *swap = "(define saved-head head-may-be?) (set! head-may-be? (lambda (t h) (pair? t)))";
  assert_int_equal(pk_load_string(E, "swap", swap, strlen(swap)), PK_OK);
  compare("guarded", "walko", 300, 4, 78);
  compare("guarded2", "non_obs_walko", 300, 4, 79);
  assert_int_equal(pk_load_string(E, "back", "(set! head-may-be? saved-head)", 30), PK_OK);
  fprintf(stderr, "test_rewrite: %d cases equal to the relational definition (%d rewritten)\n", cases, fired);
  assert_true(cases >= 5000);
  assert_true(fired > cases / 5);
}

/* A compiled rule set whose constants at one position the filter cannot
   tell apart by a few bits: each term's answer still the relational one. */
static void test_filter_spread(void **state)
{
  (void)state;
  static const char *terms[] = { "(f 0 a)",
                                 "(f 16 b)",
                                 "(f 1024 c)",
                                 "(f 1040 (g a))",
                                 "(f 2 a)",
                                 "(f 5 a)",
                                 "(f 1041 a)",
                                 "(f a a)",
                                 "(f 0)",
                                 "(g (f 1040 a) (f 16 b) (f 3 c))",
                                 "(f (f 1024 a) (f 2 b))" };
  pkrw_ctx *c = pkrw_new(pko_as_sym(pko_sym("spread"))->value, PKRW_WALKO);
  for (size_t i = 0; i < sizeof terms / sizeof *terms; i++) {
    char *want = relational("walko", "spread", terms[i], false, 1), *got = driver(c, terms[i]);
    assert_string_equal(want, got);
    free(want);
    free(got);
  }
  assert_true(pkrw_get_stats(c)->fast > 0);
  pkrw_free(c);
}

/* (subterm-count x t) against its Scheme definition (ref-count) on
   random terms: read (no sharing, equal? lists not eq?), interned (equal
   lists and boxed atoms eq?), and x read with t interned. */
static void test_subterm_count(void **state)
{
  (void)state;
  pk_val prim = pko_as_sym(pko_sym("subterm-count"))->value, ref = pko_as_sym(pko_sym("ref-count"))->value;
  int seen[3] = { 0 };
  rng = 4242;
  for (int i = 0; i < 3000; i++) {
    pkp_buf bx, bt;
    pkp_init(&bx);
    pkp_init(&bt);
    gen(&bx, 1 + (int)rnd(2), false);
    gen(&bt, 5, false);
    pkp_putc(&bx, 0);
    pkp_putc(&bt, 0);
    pk_term x, t;
    assert_int_equal(pk_parse(E, bx.s, &x), PK_OK);
    assert_int_equal(pk_parse(E, bt.s, &t), PK_OK);
    pk_val forms[3][2] = { { x, t }, { pkh_intern(x), pkh_intern(t) }, { x, pkh_intern(t) } };
    for (int k = 0; k < 3; k++) {
      pk_val got = pke_apply(prim, 2, forms[k]), want = pke_apply(ref, 2, forms[k]);
      if (got != want) fprintf(stderr, "subterm-count %s in %s (form %d)\n", bx.s, bt.s, k);
      assert_true(got == want);
      seen[pko_fixval(got)]++;
    }
  }
  fprintf(stderr, "test_rewrite: subterm-count 0/1/2: %d %d %d\n", seen[0], seen[1], seen[2]);
  assert_true(seen[1] > 300 && seen[2] > 100);
}

/* rewrite-other-outputs-hold? against its definition, through
   pk_rewrite_model on random models of two or three outputs (shared
   subterms from the small alphabet). */
static void test_other_outputs_hold(void **state)
{
  (void)state;
  int changed = 0;
  rng = 777;
  for (int i = 0; i < 400; i++) {
    pkp_buf b;
    pkp_init(&b);
    pkp_printf(&b, "%s", "(model m (output");
    for (unsigned k = 0, n = 2 + rnd(2); k < n; k++) {
      pkp_putc(&b, ' ');
      gen(&b, 3, false);
    }
    pkp_printf(&b, "%s", "))");
    pkp_putc(&b, 0);
    pk_term ms, out1, out2;
    assert_int_equal(pk_read_models_string(E, "m.model", b.s, strlen(b.s), &ms), 1);
    int r1 = pk_rewrite_model(E, pk_term_car(ms), NULL, "held", "walko", 0, &out1, NULL);
    int r2 = pk_rewrite_model(E, pk_term_car(ms), NULL, "held-ref", "walko", 0, &out2, NULL);
    assert_int_equal(r1, r2);
    char *s1 = pk_to_string(out1), *s2 = pk_to_string(out2);
    if (strcmp(s1, s2)) fprintf(stderr, "%s:\n  held     %s\n  held-ref %s\n", b.s, s1, s2);
    assert_string_equal(s1, s2);
    changed += r1 == 1;
    free(s1);
    free(s2);
  }
  fprintf(stderr, "test_rewrite: rewrite-other-outputs-hold?: %d of 400 models changed\n", changed);
  assert_true(changed > 100 && changed < 400);
}

/* A node shared by many parents is rewritten once per pass. */
static void test_shared_once(void **state)
{
  (void)state;
  pk_term t;
  assert_int_equal(pk_parse(E, "(g (f a) (f a) (f a) (q (f a) (f a)))", &t), PK_OK);
  pkrw_ctx *c = pkrw_new(pko_as_sym(pko_sym("fg"))->value, PKRW_WALKO);
  pk_val r = pkrw_term(c, pkh_intern(t));
  char *s = pk_to_string(r);
  assert_string_equal(s, "(g (g a) (g a) (g a) (q (g a) (g a)))");
  free(s);
  /* pass 1: root, g, (f a) fires once; q; pass 2: nothing fires again */
  assert_int_equal(pkrw_get_stats(c)->rewrites, 1);
  assert_int_equal(pkrw_get_stats(c)->passes, 2);
  uint64_t steps = pkrw_get_stats(c)->steps;
  /* again, on the result: nothing fires, and the steps are those of a
     fresh context (a call's count depends on its term alone, so a step
     limit gives the same verdict in any batch, on any worker) */
  assert_int_equal(pkrw_term(c, r), 0);
  pkrw_ctx *c2 = pkrw_new(pko_as_sym(pko_sym("fg"))->value, PKRW_WALKO);
  assert_int_equal(pkrw_term(c2, r), 0);
  assert_int_equal(pkrw_get_stats(c)->steps - steps, pkrw_get_stats(c2)->steps);
  /* (p (f a)) met first one list deep, then again two deep: the list
     holding the second one is rebuilt from the first one's result */
  char *got = driver(c2, "(q (h (p (f a))) (p (f a)))");
  assert_string_equal(got, "(q (h (p (g a))) (p (g a)))");
  free(got);
  assert_int_equal(pkrw_get_stats(c2)->rewrites, 1);
  pkrw_free(c2);
  pkrw_free(c);
}

/* A list of 150 elements whose elements were rebuilt in the same pass
   (their interning deferred, then the long list interned at once), inside
   another rebuilt list. */
static void test_wide(void **state)
{
  (void)state;
  pkp_buf in, want;
  pkp_init(&in);
  pkp_init(&want);
  pkp_printf(&in, "%s", "(q (k");
  pkp_printf(&want, "%s", "(q (k");
  for (int i = 0; i < 150; i++) {
    pkp_printf(&in, i % 3 ? " (h (f a%d))" : " b%d", i);
    pkp_printf(&want, i % 3 ? " (h (g a%d))" : " b%d", i);
  }
  pkp_printf(&in, "%s", ") (f c))");
  pkp_printf(&want, "%s", ") (g c))");
  pkp_putc(&in, 0);
  pkp_putc(&want, 0);
  pkrw_ctx *c = pkrw_new(pko_as_sym(pko_sym("fg"))->value, PKRW_WALKO);
  char *got = driver(c, in.s);
  assert_string_equal(got, want.s);
  free(got);
  pkrw_free(c);
  pkp_free(&in);
  pkp_free(&want);
}

/* Deep terms: a redex under 200,000 nested nodes (one pass walks them
   all, without C recursion), and 20,000 nested redexes (one per pass). */
static void test_deep(void **state)
{
  (void)state;
  enum { D = 200000, R = 20000 };
  char *s = malloc(4 * D + 64), *w = s;
  for (int i = 0; i < D; i++) w += sprintf(w, "(f ");
  w += sprintf(w, "(mul z 1)");
  for (int i = 0; i < D; i++) *w++ = ')';
  *w = 0;
  pk_term t;
  assert_int_equal(pk_parse(E, s, &t), PK_OK);
  pkrw_ctx *c = pkrw_new(pko_as_sym(pko_sym("unit"))->value, PKRW_WALKO);
  pk_val r = pkrw_term(c, pkh_intern(t));
  for (int i = 0; i < D; i++) {
    assert_true(pko_pairp(r) && pko_car(r) == pko_sym("f"));
    r = pko_car(pko_cdr(r));
  }
  assert_true(r == pko_sym("z"));
  w = s;
  for (int i = 0; i < R; i++) w += sprintf(w, "(mul ");
  *w++ = 'z';
  for (int i = 0; i < R; i++) w += sprintf(w, " 1)");
  *w = 0;
  assert_int_equal(pk_parse(E, s, &t), PK_OK);
  assert_true(pkrw_term(c, pkh_intern(t)) == pko_sym("z"));
  assert_int_equal(pkrw_get_stats(c)->passes, 2 + R + 1);
  pkrw_free(c);
  free(s);
}

/* Errors: a non-ground answer, a runtime error in REL, the step limit. */
static void test_errors(void **state)
{
  (void)state;
  pk_term t, m, out;
  assert_int_equal(pk_read_models_string(E, "m.model", "(model m (output (add c 1)))", 28, &m), 1);
  m = pk_term_car(m);
  assert_int_equal(pk_rewrite_model(E, m, NULL, "nonground", "walko", 0, &out, NULL), PK_ERUNTIME);
  assert_non_null(strstr(pk_errmsg(E), "not a ground term: (v _.0)"));
  assert_int_equal(pk_rewrite_model(E, m, NULL, "pingpong", "walko", 0, &out, NULL), 0);
  assert_int_equal(pk_read_models_string(E, "m.model", "(model m (output (add a (boom 5))))", 35, &t), 1);
  t = pk_term_car(t);
  assert_int_equal(pk_rewrite_model(E, t, NULL, "boom", "walko", 0, &out, NULL), PK_ERUNTIME);
  assert_non_null(strstr(pk_errmsg(E), "lib:"));
  assert_int_equal(pk_rewrite_model(E, t, NULL, "pingpong", "walko", 1000, &out, NULL), PK_ERUNTIME);
  assert_non_null(strstr(pk_errmsg(E), "step limit 1000"));
  assert_int_equal(pk_rewrite_model(E, t, NULL, "nosuch", "walko", 0, &out, NULL), PK_ESTATIC);
  assert_non_null(strstr(pk_errmsg(E), "relation nosuch is not defined"));
  assert_int_equal(pk_rewrite_model(E, t, NULL, "car", "walko", 0, &out, NULL), PK_ESTATIC);
  assert_int_equal(pk_rewrite_model(E, t, NULL, "unit", "other", 0, &out, NULL), PK_ESTATIC);
}

/* ---- split passes ----------------------------------------------------------------- */

/* Task runners: in reverse order; on two threads sharing a counter. */
static void run_reversed(void *env, pkrw_ctx *c, size_t n)
{
  (void)env;
  for (size_t i = n; i-- > 0;) pkrw_run_task(c, i);
}

typedef struct {
  pkrw_ctx *c;
  size_t n;
  atomic_size_t next;
} shared_tasks;

static void *take_tasks(void *p)
{
  shared_tasks *s = p;
  pke_thread_start();
  for (size_t i; (i = atomic_fetch_add(&s->next, 1)) < s->n;) pkrw_run_task(s->c, i);
  return NULL;
}

static void run_two_threads(void *env, pkrw_ctx *c, size_t n)
{
  (void)env;
  shared_tasks s = { c, n, 0 };
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, take_tasks, &s), 0);
  take_tasks(&s);
  pthread_join(t, NULL);
}

/* t's fixed point on c as text, or "none", or the error's message. */
static char *split_result(pkrw_ctx *c, pk_val t)
{
  pko_catch h;
  if (!PKO_TRY(h)) return strdup(pko_err.msg);
  pk_val r = pkrw_term(c, t);
  PKO_END(h);
  return r ? pk_to_string(r) : strdup("none");
}

/* n random terms of rel under walker, split at depth 2 and 3 (tasks in
   order, reversed, on two threads) and unsplit: the same fixed points,
   and the same counts and errors among the split runs, with and without a
   step limit the larger terms exceed. */
static int split_cases, split_tasks_differ, split_limits, split_errors;
static void compare_split(const char *rel, pkrw_walker w, int n, uint64_t seed)
{
  static pkrw_tasks_fn *runners[] = { NULL, run_reversed, run_two_threads };
  pk_val relv = pko_as_sym(pko_sym(rel))->value;
  rng = seed;
  pkrw_ctx *plain = pkrw_new(relv, w), *split[3];
  pkrw_set_split(plain, 0, 0);
  for (int k = 0; k < 3; k++) {
    split[k] = pkrw_new(relv, w);
    pkrw_set_tasks(split[k], runners[k], NULL);
  }
  for (int i = 0; i < n; i++) {
    pkp_buf b;
    pkp_init(&b);
    bool boom = !strcmp(rel, "boom") && i % 2;
    if (boom) pkp_printf(&b, "%s", "(f (g (h (k (boom 5)))) ");
    gen(&b, 7, w == PKRW_NON_OBS_WALKO && rnd(4) != 0 && !boom);
    if (boom) pkp_putc(&b, ')');
    pkp_putc(&b, 0);
    pk_term term;
    assert_int_equal(pk_parse(E, b.s, &term), PK_OK);
    pk_val t = pkh_intern(term);
    uint64_t limit = i % 3 == 0 ? 40 : 0;
    for (int depth = 2; depth <= 3; depth++) {
      pkrw_limit(plain, limit, 0);
      uint64_t plain0 = pkrw_get_stats(plain)->steps;
      char *want = split_result(plain, t);
      char *first = NULL;
      uint64_t steps = 0, rewrites = 0;
      for (int k = 0; k < 3; k++) {
        pkrw_stats before = *pkrw_get_stats(split[k]);
        pkrw_set_split(split[k], 1, depth);
        pkrw_limit(split[k], limit, 0);
        char *got = split_result(split[k], t);
        uint64_t ds = pkrw_get_stats(split[k])->steps - before.steps,
                 dr = pkrw_get_stats(split[k])->rewrites - before.rewrites;
        if (!limit) assert_string_equal(want, got);
        if (k == 0) {
          first = got;
          steps = ds;
          rewrites = dr;
          continue;
        }
        assert_string_equal(first, got);
        assert_int_equal(steps, ds);
        assert_int_equal(rewrites, dr);
        free(got);
      }
      split_tasks_differ += steps != pkrw_get_stats(plain)->steps - plain0;
      split_limits += strstr(first, "step limit") != NULL;
      split_errors += strstr(first, "car") != NULL;
      free(first);
      free(want);
      split_cases++;
    }
    pkp_free(&b);
  }
  pkrw_free(plain);
  for (int k = 0; k < 3; k++) pkrw_free(split[k]);
}

static void test_split(void **state)
{
  (void)state;
  static const char *rels[] = { "unit", "fg", "diseq", "atoms", "negate", "multi", "all", "rev", "guarded", "boom" };
  for (int r = 0; r < 10; r++) {
    compare_split(rels[r], PKRW_WALKO, 30, 5000u + (uint64_t)r);
    compare_split(rels[r], PKRW_NON_OBS_WALKO, 15, 6000u + (uint64_t)r);
  }
  fprintf(stderr,
          "test_rewrite: %d split cases equal to unsplit ones, %d with more steps than unsplit, %d past a step limit, "
          "%d errors\n",
          split_cases, split_tasks_differ, split_limits, split_errors);
  assert_true(split_limits > 0 && split_errors > 0);
  assert_true(split_cases >= 900);
  assert_true(split_tasks_differ > 0); /* lists shared by two tasks: the passes were split */
}

/* pk_rewrite_model on a model, with a rules file by library name. */
static void test_model(void **state)
{
  (void)state;
  const char *text = "(model m (input y (tensor float64 ())) (define s (add y 0))\n"
                     "  (output (mul s 1) (observed 1.0 (NormalRV (mul s 1) 1.0 () rng \"z\")) y))";
  pk_term ms, out;
  assert_int_equal(pk_read_models_string(E, "m.model", text, strlen(text), &ms), 1);
  pk_rewrite_info info;
  assert_int_equal(pk_rewrite_model(E, pk_term_car(ms), NULL, "unit", "walko", 0, &out, &info), 1);
  char *s;
  assert_int_equal(pk_model_print(E, out, &s), PK_OK);
  assert_non_null(strstr(s, "(output y (observed 1.0 (NormalRV y 1.0 () rng \"z\")) y)"));
  free(s);
  assert_int_equal(info.rewrites, 4);
  assert_int_equal(info.nodes_before, 4);
  assert_int_equal(info.nodes_after, 2);
  assert_int_equal(pk_rewrite_model(E, pk_term_car(ms), NULL, "unit", "non_obs_walko", 0, &out, &info), 1);
  assert_int_equal(pk_model_print(E, out, &s), PK_OK);
  assert_non_null(strstr(s, "(output (mul s 1) (observed 1.0 (NormalRV y 1.0 () rng \"z\")) y)"));
  free(s);
  /* kanren's library by name: walko itself is not a two-argument relation */
  assert_int_equal(pk_rewrite_model(E, pk_term_car(ms), "kanren", "walko", NULL, 0, &out, &info), PK_ESTATIC);
  assert_non_null(strstr(pk_errmsg(E), "walko is not a two-argument relation"));
  assert_int_equal(pk_rewrite_model(E, pk_term_car(ms), "kanren", "eq_comm", NULL, 100, &out, &info), PK_ERUNTIME);
}

/* Program text's stores, as pko_mutations counts them (the batch keeps a
   scope's lists when it moved): only a value that may hold a pair. */
static uint64_t stores_of(const char *text)
{
  uint64_t m0 = pko_mutations;
  assert_int_equal(pk_load_string(E, "stores", text, strlen(text)), PK_OK);
  return pko_mutations - m0;
}

/* Which stores may keep a term, and which cannot. */
static void test_stores(void **state)
{
  (void)state;
  assert_true(stores_of("(define st-v (make-vector 3 0))") == 1); /* a vector may come to hold one */
  assert_true(stores_of("(define st-x 1)") == 0);
  assert_true(stores_of("(vector-set! st-v 0 5) (vector-fill! st-v 'a) (set! st-x 2.5)") == 0);
  assert_true(stores_of("(let ((i 0)) (set! i (+ i 1)) (define (f) i) (f))") == 0);
  assert_true(stores_of("(vector-set! st-v 1 (list 1 2))") == 1);
  assert_true(stores_of("(vector-fill! st-v (vector 1))") == 1);
  assert_true(stores_of("(set! st-x '(a))") == 1);
  assert_true(stores_of("(let ((y 0)) (set! y (lambda () y)) 0)") == 1);
  assert_true(stores_of("(define st-l (list 1))") == 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_against_relational),
    cmocka_unit_test(test_filter_spread),
    cmocka_unit_test(test_subterm_count),
    cmocka_unit_test(test_other_outputs_hold),
    cmocka_unit_test(test_shared_once),
    cmocka_unit_test(test_deep),
    cmocka_unit_test(test_wide),
    cmocka_unit_test(test_split),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_model),
    cmocka_unit_test(test_stores),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
