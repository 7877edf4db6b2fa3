/*
** test_api.c — every function of include/pkanren.h through the public
** header: terms, loads and exit codes, queries and their static errors,
** foreign goals (predicates and relations with several answers, calling
** back into the library, refused calls), workers and answer order,
** interrupts (from a foreign goal, from a second thread), pk_release,
** thread registration and pk_thread_done; reading, printing and the
** outputs of models.
** Queries run on workers here, so the TSan step runs it too.
** PK_TEST_LABELS: sched
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gc/gc.h>
#undef pthread_create /* gc.h registers new threads; these tests check the API does */
#undef pthread_join
#include "pkanren.h"
#include "mk_relations.h"

static const char *LIB = PKT_APPENDO PKT_NATO
    "(defrel (nevero) (conde ((nevero))))"
    "(defrel (mixs x d) (conde ((== x 1) (== d 'a)) ((== x 2) (== d '(normal 0 1.5))) ((== x 3))))";
#include "engine_fixture.h"

/* All answers of run_form, written and joined by spaces; the status of the
   last pk_query_next in *rc (0 when exhausted).  Caller frees. */
static char *all_answers(pk_engine *e, const char *run_form, int *rc)
{
  pk_query *q;
  int st = pk_query_open(e, run_form, &q);
  if (st != PK_OK) fail_msg("%s: %d %s", run_form, st, pk_errmsg(e));
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  pk_term a;
  int n = 0;
  while ((st = pk_query_next(q, &a)) == 1) {
    char *s = pk_to_string(a);
    fprintf(f, "%s%s", n++ ? " " : "", s);
    free(s);
  }
  pk_query_free(q);
  fclose(f);
  if (rc)
    *rc = st;
  else if (st != 0)
    fail_msg("%s: %d %s", run_form, st, pk_errmsg(e));
  return buf;
}

static void expect_answers(pk_engine *e, const char *run_form, const char *want)
{
  char *got = all_answers(e, run_form, NULL);
  assert_string_equal(got, want);
  free(got);
}

static int load(pk_engine *e, const char *text) { return pk_load_string(e, "t.scm", text, strlen(text)); }

/* ---- terms ---- */

static void test_terms(void **state)
{
  (void)state;
  assert_non_null(strstr(pk_version(), "."));
  pk_term n = pk_nil(), t = pk_boolean(1), f = pk_boolean(0);
  pk_term i = pk_int(E, 42), big = pk_int(E, INT64_C(1) << 62), fl = pk_float(E, 2.5);
  pk_term sym = pk_symbol(E, "normal"), str = pk_string(E, "a\"b", 3);
  pk_term l =
      pk_cons(E, i, pk_cons(E, big, pk_cons(E, fl, pk_cons(E, t, pk_cons(E, f, pk_cons(E, sym, pk_cons(E, str, n)))))));
  char *s = pk_to_string(l);
  assert_string_equal(s, "(42 4611686018427387904 2.5 #t #f normal \"a\\\"b\")");
  free(s);
  assert_true(pk_is_nil(n) && !pk_is_nil(l));
  assert_true(pk_is_pair(l) && !pk_is_pair(i));
  assert_true(pk_is_int(i) && pk_is_int(big) && !pk_is_int(fl) && !pk_is_int(sym));
  assert_true(pk_is_symbol(sym) && !pk_is_symbol(str));
  assert_true(pk_is_string(str) && !pk_is_string(sym));
  assert_int_equal(pk_int_value(pk_term_car(l)), 42);
  assert_int_equal(pk_int_value(pk_term_car(pk_term_cdr(l))), INT64_C(1) << 62);
  assert_string_equal(pk_symbol_name(sym), "normal");
  assert_string_equal(pk_string_value(str), "a\"b");
  assert_true(pk_symbol(E, "normal") == sym); /* interned */
  pk_term p;
  assert_int_equal(pk_parse(E, "(42 4611686018427387904 2.5 #t #f normal \"a\\\"b\")", &p), PK_OK);
  assert_true(pk_equal(p, l));
  assert_false(pk_equal(p, pk_term_cdr(l)));
  assert_int_equal(pk_parse(E, "(a b", &p), PK_ESTATIC);
  assert_non_null(strstr(pk_errmsg(E), "<parse>:1:"));
  assert_int_equal(pk_parse(E, "  ", &p), PK_ESTATIC);
  assert_int_equal(pk_parse(E, "x", &p), PK_OK);
  assert_string_equal(pk_errmsg(E), ""); /* a call that succeeds clears the message */
}

/* pk_define'd terms are globals of programs and queries. */
static void test_define(void **state)
{
  (void)state;
  pk_term l = pk_cons(E, pk_int(E, 1), pk_cons(E, pk_int(E, 2), pk_nil()));
  assert_int_equal(pk_define(E, "my-list", l), PK_OK);
  expect_answers(E, "(run* (x y) (appendo x y my-list))", "(() (1 2)) ((1) (2)) ((1 2) ())");
}

/* Terms handed to C stay until pk_release; then the collector may take them. */
#define NREL 64
static GC_word *rel_links; /* atomic (unscanned) cells: hidden pointers */

static void __attribute__((noinline)) make_strings(pk_engine *e)
{
  for (int i = 0; i < NREL; i++) {
    pk_term s = pk_string(e, "a string of the released engine", 31);
    rel_links[i] = (GC_word)s;
    GC_general_register_disappearing_link((void **)&rel_links[i], (void *)s);
  }
}

static int count_alive(void)
{
  int n = 0;
  for (int i = 0; i < NREL; i++) n += rel_links[i] != 0;
  return n;
}

static void test_release(void **state)
{
  (void)state;
  pk_engine *e = pk_engine_new();
  rel_links = GC_MALLOC_ATOMIC(NREL * sizeof *rel_links);
  make_strings(e);
  GC_gcollect();
  assert_int_equal(count_alive(), NREL);
  pk_release(e);
  GC_gcollect();
  GC_gcollect();
  /* a few may survive on stale stack words; nothing is collected while the
     collector is off (GC_DONT_GC, the TSan build) */
  if (!GC_is_disabled()) assert_true(count_alive() < NREL / 2);
  pk_engine_free(e);
}

/* ---- loading, output, exit codes ---- */

static void test_exit_codes(void **state)
{
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  pk_set_output(E, out);
  assert_int_equal(load(E, "(display \"before\") (exit 0) (display \"after\")"), PK_EEXIT);
  assert_int_equal(pk_exit_code(E), 0);
  assert_int_equal(load(E, "(exit 1)"), PK_EEXIT);
  assert_int_equal(pk_exit_code(E), 1);
  assert_int_equal(load(E, "(exit 7)"), PK_EEXIT);
  assert_int_equal(pk_exit_code(E), 7);
  assert_int_equal(load(E, "(exit)"), PK_EEXIT);
  assert_int_equal(pk_exit_code(E), 0);
  /* (exit n) in a query */
  pk_query *q;
  pk_term a;
  assert_int_equal(pk_query_open(E, "(run* (q) (project (q) (begin (exit 5) succeed)))", &q), PK_OK);
  assert_int_equal(pk_query_next(q, &a), PK_EEXIT);
  assert_int_equal(pk_exit_code(E), 5);
  pk_query_free(q);
  /* a failed test, then a program whose tests pass */
  assert_int_equal(load(E, "(load \"test-check.scm\") (test \"no\" (+ 1 1) 3) (display \"goes on\")"), PK_EFAILED);
  assert_string_equal(pk_errmsg(E), "a test failed");
  assert_int_equal(load(E, "(test \"yes\" (+ 1 1) 2)"), PK_OK);
  assert_int_equal(load(E, "(car '())"), PK_ERUNTIME);
  assert_non_null(strstr(pk_errmsg(E), "t.scm:1:"));
  assert_int_equal(load(E, "(display \"zzz\") (no-such-name)"), PK_ESTATIC);
  assert_non_null(strstr(pk_errmsg(E), "t.scm:1:"));
  pk_set_output(E, stdout);
  fclose(out);
  assert_non_null(strstr(buf, "before"));
  assert_null(strstr(buf, "after"));
  assert_non_null(strstr(buf, "goes on"));
  assert_null(strstr(buf, "zzz")); /* a static error stops the program before it runs */
  free(buf);
}

static void test_load_file(void **state)
{
  (void)state;
  char path[] = "/tmp/pk_test_api_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *text = "(defrel (twiceo x y) (== y `(,x ,x)))\n";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  assert_int_equal(pk_load_file(E, path), PK_OK);
  expect_answers(E, "(run* (q) (twiceo 'a q))", "(a a)");
  unlink(path);
  assert_int_equal(pk_load_file(E, path), PK_ESTATIC);
  assert_non_null(strstr(pk_errmsg(E), path));
}

/* ---- queries ---- */

static void test_query_static(void **state)
{
  (void)state;
  pk_query *q = NULL;
  assert_int_equal(pk_query_open(E, "(run* (q)\n  (no-such-relation q))", &q), PK_ESTATIC);
  assert_string_equal(pk_errmsg(E), "<query>:2:3: variable no-such-relation is not bound");
  assert_int_equal(pk_query_open(E, "(not-a-run-form)", &q), PK_ESTATIC);
  assert_int_equal(pk_query_open(E, "(run* (q) (== q 1)", &q), PK_ESTATIC);
  /* run n stops; a freed query is not searched further */
  expect_answers(E, "(run 3 (q) (nato q))", "z (s z) (s (s z))");
  assert_int_equal(pk_query_open(E, "(run* (q) (nato q))", &q), PK_OK);
  pk_term a;
  assert_int_equal(pk_query_next(q, &a), 1);
  pk_query_free(q);
  pk_query_free(NULL);
}

/* ---- foreign goals ---- */

/* (sumo a b c): c = a + b for integers a and b; builds c with pk_int and
   checks it against a term it parses and writes (calls back in). */
static int sumo(pk_engine *e, int argc, const pk_term *argv, void *data)
{
  int *calls = data;
  (*calls)++;
  if (argc != 3) return -1;
  if (!pk_is_int(argv[0]) || !pk_is_int(argv[1])) return 0;
  pk_term c = pk_int(e, pk_int_value(argv[0]) + pk_int_value(argv[1]));
  char *s = pk_to_string(pk_cons(e, pk_symbol(e, "sum"), pk_cons(e, c, pk_nil())));
  pk_term p;
  int ok = pk_parse(e, s, &p) == PK_OK && pk_equal(pk_term_car(pk_term_cdr(p)), c);
  free(s);
  return ok && (!pk_is_int(argv[2]) || pk_int_value(argv[2]) == pk_int_value(c));
}

static void test_foreign_predicate(void **state)
{
  (void)state;
  int calls = 0;
  assert_int_equal(pk_register_relation(E, "sumo", 3, sumo, &calls), PK_OK);
  expect_answers(E, "(run* (q) (sumo 2 3 5))", "_.0");
  expect_answers(E, "(run* (q) (sumo 2 3 6))", "");
  expect_answers(E, "(run* (q) (sumo 2 q 5))", ""); /* q unbound: the C code says no */
  expect_answers(E, "(run* (q) (fresh (a) (== a 4) (sumo a a 8) (== q 'yes)))", "yes");
  assert_int_equal(calls, 4);
  assert_int_equal(pk_register_relation(E, "bad", 65, sumo, &calls), PK_ESTATIC);
  assert_int_equal(pk_register_relation(E, "bad", 1, NULL, &calls), PK_ESTATIC);
}

/* (mixo x d): three answers, in this order: x = 1, d = a; x = 2, d = the
   term (normal 0 1.5) built with the constructors; x = 3, d = d itself
   (left unbound). */
static pk_goal *last_goal;

static int mixo(pk_engine *e, pk_goal *g, int argc, const pk_term *argv, void *data)
{
  (void)data;
  if (argc != 2) return -1;
  last_goal = g;
  pk_term v[2];
  v[0] = pk_int(e, 1);
  v[1] = pk_symbol(e, "a");
  pk_goal_yield(g, v);
  v[0] = pk_int(e, 2);
  v[1] = pk_cons(e, pk_symbol(e, "normal"), pk_cons(e, pk_int(e, 0), pk_cons(e, pk_float(e, 1.5), pk_nil())));
  pk_goal_yield(g, v);
  v[0] = pk_int(e, 3);
  v[1] = argv[1];
  return pk_goal_yield(g, v);
}

/* (splito n a b): a + b = n for naturals a, b (n an integer; else fails). */
static int splito(pk_engine *e, pk_goal *g, int argc, const pk_term *argv, void *data)
{
  (void)argc;
  (void)data;
  if (!pk_is_int(argv[0])) return 0;
  for (int64_t a = 0; a <= pk_int_value(argv[0]); a++) {
    pk_term v[3] = { argv[0], pk_int(e, a), pk_int(e, pk_int_value(argv[0]) - a) };
    if (pk_goal_yield(g, v) != PK_OK) return -1;
  }
  return 0;
}

static void test_foreign_answers(void **state)
{
  (void)state;
  assert_int_equal(pk_register_goal(E, "mixo", 2, mixo, NULL), PK_OK);
  assert_int_equal(pk_register_goal(E, "splito", 3, splito, NULL), PK_OK);
  expect_answers(E, "(run* (x d) (mixo x d))", "(1 a) (2 (normal 0 1.5)) (3 _.0)");
  expect_answers(E, "(run* (d) (mixo 2 d))", "(normal 0 1.5)");
  expect_answers(E, "(run* (x) (mixo x 'a))", "1 3");
  expect_answers(E, "(run 2 (x d) (mixo x d))", "(1 a) (2 (normal 0 1.5))");
  /* the same answers in the same order as mixs, its conde in Scheme */
  const char *ctx[] = {
    "(run* (q) (conde ((%s q 'a)) ((== q 'other))))",
    "(run 4 (x n) (conde ((%s x 'a)) ((nato n))))",
    "(run 5 (x n) (nato n) (%s x 'a))",
    "(run 7 (x n d) (conde ((nato n) (%s x d)) ((%s x d) (nato n))))",
  };
  for (size_t i = 0; i < sizeof ctx / sizeof *ctx; i++) {
    char form[256];
    snprintf(form, sizeof form, ctx[i], "mixs", "mixs");
    char *want = all_answers(E, form, NULL);
    snprintf(form, sizeof form, ctx[i], "mixo", "mixo");
    expect_answers(E, form, want);
    free(want);
  }
  expect_answers(E, "(run* (a b) (splito 3 a b))", "(0 3) (1 2) (2 1) (3 0)");
  expect_answers(E, "(run* (a b) (fresh (n) (== n 2) (splito n a b)))", "(0 2) (1 1) (2 0)");
  /* a conjunction of two: every split of every x */
  expect_answers(E, "(run* (x a b) (mixo x 'a) (splito x a b))", "(1 0 1) (3 0 3) (1 1 0) (3 1 2) (3 2 1) (3 3 0)");
  expect_answers(E, "(run* (a b) (splito 'x a b))", "");
  /* yielding outside a call */
  pk_term v[2] = { pk_nil(), pk_nil() };
  assert_int_equal(pk_goal_yield(NULL, v), PK_ERUNTIME);
  assert_int_equal(pk_goal_yield(last_goal, v), PK_ERUNTIME);
}

/* A foreign goal that makes calls it may not make, then fails the query. */
static int refuser(pk_engine *e, pk_goal *g, int argc, const pk_term *argv, void *data)
{
  (void)g;
  (void)argc;
  (void)argv;
  int *seen = data;
  pk_query *q;
  *seen = 0;
  *seen += pk_load_string(e, "x", "1", 1) == PK_ERUNTIME && strstr(pk_errmsg(e), "pk_load_string: not allowed");
  *seen += pk_load_file(e, "/dev/null") == PK_ERUNTIME;
  *seen += pk_query_open(e, "(run* (q))", &q) == PK_ERUNTIME;
  *seen += pk_define(e, "x", pk_nil()) == PK_ERUNTIME;
  *seen += pk_set_workers(e, 2) == PK_ERUNTIME;
  *seen += pk_set_unordered(e, 1) == PK_ERUNTIME;
  *seen += pk_register_relation(e, "x", 1, sumo, NULL) == PK_ERUNTIME;
  *seen += pk_register_goal(e, "x", 1, mixo, NULL) == PK_ERUNTIME;
  *seen += pk_engine_new() == NULL;
  pk_engine_free(e); /* ignored */
  pk_set_output(e, NULL);
  pk_release(e);
  pk_thread_done();
  pk_term t;
  *seen += pk_parse(e, "(", &t) == PK_ESTATIC && strstr(pk_errmsg(e), "<parse>");
  return -7;
}

static void test_foreign_refused(void **state)
{
  (void)state;
  int seen = 0;
  assert_int_equal(pk_register_goal(E, "refuser", 0, refuser, &seen), PK_OK);
  int rc;
  char *s = all_answers(E, "(run* (q) (refuser))", &rc);
  free(s);
  assert_int_equal(rc, PK_ERUNTIME);
  assert_int_equal(seen, 10);
  if (!strstr(pk_errmsg(E), "refuser: the C relation returned -7: <parse>")) fail_msg("%s", pk_errmsg(E));
  /* the engine survived the ignored calls */
  expect_answers(E, "(run* (q) (appendo q '(2) '(1 2)))", "(1)");
}

/* ---- interrupts ---- */

/* Succeeds; interrupts the query at its 100th call. */
static int interrupter(pk_engine *e, int argc, const pk_term *argv, void *data)
{
  (void)e;
  (void)argc;
  (void)argv;
  int *calls = data;
  if (++*calls == 100) pk_interrupt();
  return 1;
}

static _Atomic int query_done;

static void *interrupt_thread(void *arg)
{
  (void)arg;
  while (!query_done) {
    pk_interrupt();
    usleep(1000);
  }
  return NULL;
}

static void test_interrupt(void **state)
{
  (void)state;
  int calls = 0;
  assert_int_equal(pk_register_relation(E, "interrupter", 1, interrupter, &calls), PK_OK);
  int rc;
  char *s = all_answers(E, "(run* (q) (nato q) (interrupter q))", &rc);
  free(s);
  assert_int_equal(rc, PK_EINTR);
  assert_int_equal(calls, 100);
  /* an interrupt from another thread, during a query and during a load */
  pthread_t t;
  query_done = 0;
  assert_int_equal(pthread_create(&t, NULL, interrupt_thread, NULL), 0);
  s = all_answers(E, "(run* (q) (nevero))", &rc);
  free(s);
  assert_int_equal(rc, PK_EINTR);
  assert_int_equal(load(E, "(let loop () (loop))"), PK_EINTR);
  query_done = 1;
  pthread_join(t, NULL);
  /* no interrupt is left over */
  expect_answers(E, "(run 1 (q) (nato q))", "z");
}

/* pk_set_limits: each limit stops a load or a query with PK_ERUNTIME and
   a message naming it; 0 lifts them. */
static void test_limits(void **state)
{
  (void)state;
  int rc;
  assert_int_equal(pk_set_limits(E, 0, 0, -1.0), PK_ESTATIC);
  assert_int_equal(pk_set_limits(E, 1000, 0, 0), PK_OK);
  char *s = all_answers(E, "(run* (q) (nato q))", &rc);
  free(s);
  assert_int_equal(rc, PK_ERUNTIME);
  assert_non_null(strstr(pk_errmsg(E), "max-steps 1000"));
  expect_answers(E, "(run 3 (q) (nato q))", "z (s z) (s (s z))"); /* within the budget */
  assert_int_equal(pk_set_limits(E, 0, 0, 0.2), PK_OK);
  assert_int_equal(load(E, "(let loop () (loop))"), PK_ERUNTIME);
  assert_non_null(strstr(pk_errmsg(E), "timeout 0.2 s"));
  assert_int_equal(pk_set_limits(E, 0, 1 << 20, 0), PK_OK); /* less than the heap already holds */
  s = all_answers(E, "(run* (q) (nato q))", &rc);
  free(s);
  assert_int_equal(rc, PK_ERUNTIME);
  assert_non_null(strstr(pk_errmsg(E), "max-memory 1048576"));
  assert_int_equal(pk_set_limits(E, 0, 0, 0), PK_OK);
  expect_answers(E, "(run 1 (q) (nato q))", "z");
}

/* ---- workers and order ---- */

static int strp_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The answers of s (space-separated words at depth 0), sorted. */
static char *sorted(const char *s)
{
  char *copy = strdup(s), *words[4096];
  int n = 0, depth = 0;
  char *start = copy;
  for (char *p = copy;; p++) {
    if (*p == '(')
      depth++;
    else if (*p == ')')
      depth--;
    else if ((*p == ' ' && depth == 0) || !*p) {
      bool end = !*p;
      *p = 0;
      if (*start) words[n++] = start;
      start = p + 1;
      if (end) break;
    }
  }
  qsort(words, (size_t)n, sizeof *words, strp_cmp);
  char *out = malloc(strlen(s) + 2), *o = out;
  for (int i = 0; i < n; i++) o += sprintf(o, "%s%s", i ? " " : "", words[i]);
  *o = 0;
  free(copy);
  return out;
}

static pthread_t main_thread;

/* (halfo n h): h = (n/2) for even n, built on the searching thread
   (data: counts calls made on a pool worker). */
static int halfo(pk_engine *e, pk_goal *g, int argc, const pk_term *argv, void *data)
{
  (void)argc;
  if (!pthread_equal(pthread_self(), main_thread)) __atomic_add_fetch((int *)data, 1, __ATOMIC_RELAXED);
  if (!pk_is_int(argv[0]) || pk_int_value(argv[0]) % 2) return 0;
  pk_term v[2] = { argv[0], pk_cons(e, pk_int(e, pk_int_value(argv[0]) / 2), pk_nil()) };
  return pk_goal_yield(g, v);
}

/* pk_query_next of q from another thread: its status. */
static void *next_elsewhere(void *arg)
{
  pk_term a;
  intptr_t rc = pk_query_next(arg, &a);
  pk_thread_done();
  return (void *)rc;
}

static void test_workers(void **state)
{
  (void)state;
  int on_pool = 0;
  main_thread = pthread_self();
  assert_int_equal(pk_register_goal(E, "halfo", 2, halfo, &on_pool), PK_OK);
  const char *forms[] = {
    "(run* (x y) (appendo x y '(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20)))",
    "(run* (q) (fresh (x y n h) (appendo x y '(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 "
    "27 28 29 30 31 32))"
    " (project (x) (== n (length x))) (halfo n h) (== q `(,n ,h))))",
  };
  pk_engine *e = pk_engine_new();
  assert_int_equal(pk_set_workers(e, 0), PK_ESTATIC);
  for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
    char *one = all_answers(E, forms[i], NULL);
    assert_int_equal(pk_set_workers(e, 2), PK_OK);
    assert_int_equal(pk_set_unordered(e, 1), PK_OK);
    char *un = all_answers(e, forms[i], NULL);
    char *a = sorted(one), *b = sorted(un);
    assert_string_equal(a, b);
    assert_int_equal(pk_set_unordered(e, 0), PK_OK);
    char *ordered = all_answers(e, forms[i], NULL);
    assert_string_equal(ordered, one);
    free(one);
    free(un);
    free(a);
    free(b);
    free(ordered);
  }
  /* until a pool worker has run halfo (building terms: calls back in) */
  pk_set_unordered(e, 1);
  char *one = all_answers(E, forms[1], NULL), *want = sorted(one);
  free(one);
  for (int k = 0; k < 500 && on_pool == 0; k++) {
    char *got = all_answers(e, forms[1], NULL), *sgot = sorted(got);
    assert_string_equal(sgot, want);
    free(got);
    free(sgot);
  }
  free(want);
  assert_true(on_pool > 0);
  /* a query on workers holds them until its end */
  pk_set_unordered(e, 1);
  pk_query *q, *q2;
  pk_term ans;
  assert_int_equal(pk_query_open(e, forms[0], &q), PK_OK);
  assert_int_equal(pk_query_next(q, &ans), 1);
  assert_int_equal(pk_query_open(E, "(run* (q) (== q 1))", &q2), PK_ERUNTIME);
  assert_non_null(strstr(pk_errmsg(E), "workers"));
  assert_int_equal(load(E, "(+ 1 2)"), PK_ERUNTIME);
  pthread_t t;
  void *st;
  assert_int_equal(pthread_create(&t, NULL, next_elsewhere, q), 0);
  pthread_join(t, &st);
  assert_int_equal((intptr_t)st, PK_ERUNTIME);
  assert_non_null(strstr(pk_errmsg(e), "thread that opened it"));
  assert_int_equal(pk_query_next(q, &ans), 1);
  pk_query_free(q);
  expect_answers(E, "(run* (q) (== q 1))", "1");
  assert_int_equal(pk_query_open(e, "(run 1 (q) (== q 1))", &q), PK_OK);
  assert_int_equal(pk_query_next(q, &ans), 1);
  assert_int_equal(pk_query_next(q, &ans), 0);
  expect_answers(E, "(run* (q) (== q 2))", "2"); /* free again before pk_query_free */
  pk_query_free(q);
  pk_engine_free(e);
}

/* ---- threads ---- */

typedef struct reg_check {
  int to_string_first, before, after, done;
  char *written;
} reg_check;

/* First call of a new thread: pk_symbol, or pk_to_string. */
static void *reg_thread(void *arg)
{
  reg_check *r = arg;
  r->before = GC_thread_is_registered();
  if (r->to_string_first)
    r->written = pk_to_string(pk_nil());
  else
    r->written = pk_to_string(pk_symbol(E, "hello"));
  r->after = GC_thread_is_registered();
  pk_thread_done();
  r->done = GC_thread_is_registered();
  return NULL;
}

static void test_thread_registration(void **state)
{
  (void)state;
  for (int first = 0; first < 2; first++) {
    reg_check r = { first, 1, 0, 1, NULL };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, reg_thread, &r), 0);
    pthread_join(t, NULL);
    assert_false(r.before);
    assert_true(r.after);
    assert_false(r.done);
    assert_string_equal(r.written, first ? "()" : "hello");
    free(r.written);
  }
  GC_gcollect();
  expect_answers(E, "(run* (q) (appendo q '(2) '(1 2)))", "(1)");
}

/* ---- models (SPEC §4): read from text and files, outputs, print, read
   back to the same nodes, a model built from C, errors as values ---- */

static const char *MODELS = "(model nn (input m0 (tensor float64 ())) (define mu (NormalRV m0 1.0 () rng \"mu\"))\n"
                            " (output (observed 1.5 (NormalRV mu 1.0 () rng \"y\")) mu))\n"
                            "(model two (output (f #[1 2])))\n";

static void test_models(void **state)
{
  (void)state;
  pk_term ms, outs;
  assert_int_equal(pk_read_models_string(E, "t.model", MODELS, strlen(MODELS), &ms), 2);
  pk_term m = pk_term_car(ms);
  assert_int_equal(pk_model_outputs(E, m, &outs), PK_OK);
  char *s = pk_to_string(outs);
  assert_string_equal(s, "((observed 1.5 (NormalRV (NormalRV m0 1.0 () rng \"mu\") 1.0 () rng \"y\")) "
                         "(NormalRV m0 1.0 () rng \"mu\"))");
  free(s);
  char *text;
  assert_int_equal(pk_model_print(E, m, &text), PK_OK);
  assert_string_equal(text, "(model nn\n"
                            "  (input m0 (tensor float64 ()))\n"
                            "  (define mu (NormalRV m0 1.0 () rng \"mu\"))\n"
                            "  (output (observed 1.5 (NormalRV mu 1.0 () rng \"y\")) mu))\n");
  /* what was printed reads back to the same nodes */
  pk_term back, outs2;
  assert_int_equal(pk_read_models_string(E, "back.model", text, strlen(text), &back), 1);
  assert_int_equal(pk_model_outputs(E, pk_term_car(back), &outs2), PK_OK);
  assert_true(pk_term_car(outs2) == pk_term_car(outs));
  free(text);
  /* a model built from C prints too */
  pk_term built = pk_cons(
      E, pk_symbol(E, "model"),
      pk_cons(E, pk_symbol(E, "c"),
              pk_cons(E, pk_cons(E, pk_symbol(E, "output"), pk_cons(E, pk_float(E, 2.5), pk_nil())), pk_nil())));
  assert_int_equal(pk_model_print(E, built, &text), PK_OK);
  assert_string_equal(text, "(model c\n  (output 2.5))\n");
  free(text);
}

static void test_model_math(void **state)
{
  (void)state;
  pk_term ms;
  assert_int_equal(pk_read_models_string(E, "t.model", MODELS, strlen(MODELS), &ms), 2);
  char *text;
  assert_int_equal(pk_model_print_math(E, pk_term_car(ms), 0, &text), PK_OK);
  assert_string_equal(text, "nn:\n"
                            "  m0 in R\n"
                            "  mu ~ N(m0, 1.0**2)\n"
                            "  y ~ N(mu, 1.0**2) = 1.5\n");
  free(text);
  assert_int_equal(pk_model_print_math(E, pk_term_car(pk_term_cdr(ms)), PK_PRINT_LATEX | PK_PRINT_VALUES, &text),
                   PK_OK);
  assert_string_equal(text, "% two\n"
                            "\\begin{align*}\n"
                            "  &\\operatorname{f}(\\begin{bmatrix}1 & 2\\end{bmatrix})\n"
                            "\\end{align*}\n");
  free(text);
  text = NULL;
  assert_int_equal(pk_model_print_math(E, pk_symbol(E, "x"), 0, &text), PK_ERUNTIME);
  assert_null(text);
  assert_non_null(strstr(pk_errmsg(E), "pk_model_print_math: not a model"));
}

static void test_model_errors(void **state)
{
  (void)state;
  pk_term ms = 0, outs;
  const char *bad = "(model m (output (NormalRV 1.0)))";
  assert_int_equal(pk_read_models_string(E, "bad.model", bad, strlen(bad), &ms), PK_ESTATIC);
  assert_string_equal(
      pk_errmsg(E),
      "bad.model:1:18: NormalRV takes 5 arguments (mu sd SIZE RNG NAME), given 1 [model m; models read: none]");
  assert_int_equal(pk_read_models_file(E, "no-such.model", &ms), PK_ESTATIC);
  assert_string_equal(pk_errmsg(E), "no-such.model:1:1: cannot read no-such.model: No such file or directory");
  assert_int_equal(pk_model_outputs(E, pk_symbol(E, "x"), &outs), PK_ERUNTIME);
  char *text = NULL;
  assert_int_equal(pk_model_print(E, pk_nil(), &text), PK_ERUNTIME);
  assert_null(text);
  /* the engine still works after errors */
  const char *ok = "(model m (output a))";
  assert_int_equal(pk_read_models_string(E, NULL, ok, strlen(ok), &ms), 1);
}

static void test_model_file(void **state)
{
  (void)state;
  pk_term ms;
  assert_int_equal(pk_read_models_file(E, "../../examples/regression.model", &ms), 1);
  char *text;
  assert_int_equal(pk_model_print(E, pk_term_car(ms), &text), PK_OK);
  assert_non_null(strstr(text, "  (define beta (MvNormalRV a R () rng \"beta\"))\n"));
  free(text);
}

/* pk_rewrite_model: a rules text loaded first, then the relation by name
   (rules NULL); results and errors as `pkanren rewrite`. */
static void test_rewrite_model(void **state)
{
  (void)state;
  const char *rules = "(define (nn2 a b) (fresh (m s) (== a `(NormalRV ,m 1.0 () rng \"mu\")) (== b `(NormalRV ,m 2.0 "
                      "() rng \"mu\"))))";
  assert_int_equal(pk_load_string(E, "rules.scm", rules, strlen(rules)), PK_OK);
  pk_term ms, out;
  assert_int_equal(pk_read_models_string(E, "t.model", MODELS, strlen(MODELS), &ms), 2);
  pk_rewrite_info info;
  assert_int_equal(pk_rewrite_model(E, pk_term_car(ms), NULL, "nn2", "walko", 0, &out, &info), 1);
  assert_int_equal(info.rewrites, 2); /* the shared node, once per output */
  pk_term outs;
  assert_int_equal(pk_model_outputs(E, out, &outs), PK_OK);
  char *s = pk_to_string(outs);
  assert_string_equal(s, "((observed 1.5 (NormalRV (NormalRV m0 2.0 () rng \"mu\") 1.0 () rng \"y\")) "
                         "(NormalRV m0 2.0 () rng \"mu\"))");
  free(s);
  assert_int_equal(pk_rewrite_model(E, pk_term_car(pk_term_cdr(ms)), NULL, "nn2", NULL, 0, &out, NULL), 0);
  assert_int_equal(pk_rewrite_model(E, pk_term_car(ms), NULL, "no-such-rel", "walko", 0, &out, NULL), PK_ESTATIC);
  assert_int_equal(pk_rewrite_model(E, pk_nil(), NULL, "nn2", "walko", 0, &out, NULL), PK_ERUNTIME);
}

/* pk_verify_model: a hand-written non-centring passes, a wrong scale
   fails, an input without a test value is PK_ESTATIC naming it. */
static void test_verify_model(void **state)
{
  (void)state;
  const char *text = "(model a (input m0 (tensor float64 ()) 0.5) (output (NormalRV m0 2.0 () rng \"mu\")))\n"
                     "(model b (input m0 (tensor float64 ()) 0.5)\n"
                     "  (output (add m0 (mul 2.0 (NormalRV 0.0 1.0 () rng \"mu_offset\")))))\n"
                     "(model c (input m0 (tensor float64 ()) 0.5)\n"
                     "  (output (add m0 (NormalRV 0.0 1.0 () rng \"mu_offset\"))))\n";
  pk_term ms, nv;
  assert_int_equal(pk_read_models_string(E, "v.model", text, strlen(text), &ms), 3);
  pk_term a = pk_term_car(ms), b = pk_term_car(pk_term_cdr(ms)), c = pk_term_car(pk_term_cdr(pk_term_cdr(ms)));
  assert_int_equal(pk_verify_model(E, a, b, 5000, 1, 1e-3, NULL), 0);
  assert_true(pk_verify_model(E, a, c, 5000, 1, 1e-3, NULL) > 0);
  assert_int_equal(pk_read_models_string(E, "t.model", MODELS, strlen(MODELS), &nv), 2);
  assert_int_equal(pk_verify_model(E, pk_term_car(nv), pk_term_car(nv), 5000, 1, 1e-3, NULL), PK_ESTATIC);
  assert_non_null(strstr(pk_errmsg(E), "input m0 has no test value"));
  assert_int_equal(pk_verify_model(E, pk_nil(), a, 5000, 1, 1e-3, NULL), PK_ERUNTIME);
  assert_int_equal(pk_verify_model(E, a, b, 10, 1, 1e-3, NULL), PK_ERUNTIME);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_terms),
    cmocka_unit_test(test_define),
    cmocka_unit_test(test_release),
    cmocka_unit_test(test_exit_codes),
    cmocka_unit_test(test_load_file),
    cmocka_unit_test(test_query_static),
    cmocka_unit_test(test_foreign_predicate),
    cmocka_unit_test(test_foreign_answers),
    cmocka_unit_test(test_foreign_refused),
    cmocka_unit_test(test_interrupt),
    cmocka_unit_test(test_limits),
    cmocka_unit_test(test_workers),
    cmocka_unit_test(test_thread_registration),
    cmocka_unit_test(test_models),
    cmocka_unit_test(test_model_math),
    cmocka_unit_test(test_model_errors),
    cmocka_unit_test(test_model_file),
    cmocka_unit_test(test_rewrite_model),
    cmocka_unit_test(test_verify_model),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
