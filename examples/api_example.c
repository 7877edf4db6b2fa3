/*
** api_example.c — a tour of pkanren's C API (include/pkanren.h).
**
**   cc api_example.c $(pkg-config --cflags --libs pkanren) -o api_example
**   ./api_example
**
** It loads a relation written in the pkanren language, iterates over the
** answers of a query, stops an infinite query early, builds a term in C and
** queries against it, registers relations written in C (a "foreign goal"
** that decides, and one that computes several answers), runs a query on
** two workers, and gets errors back as values.  Every result is checked: the program
** exits 0 only if all of them are as expected (the test suite runs it).
*/
#include <pkanren.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    if (!(cond)) {                                                            \
      failures++;                                                             \
      fprintf(stderr, "api_example:%d: check failed: %s: ", __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                           \
      fputc('\n', stderr);                                                    \
    }                                                                         \
  } while (0)

/* Load program text; report and count a failure if it does not load. */
static int load(pk_engine *e, const char *name, const char *text)
{
  int rc = pk_load_string(e, name, text, strlen(text));
  CHECK(rc == PK_OK, "loading %s returned %d: %s", name, rc, pk_errmsg(e));
  return rc;
}

/* Run a query to the end (or to max answers when max >= 0), print each
   answer, and compare the answers, as `write` prints them, with want[]
   (n_want entries).  The query is freed, also when stopped early. */
static void expect_answers(pk_engine *e, const char *form, int max, const char *const *want, int n_want)
{
  pk_query *q = NULL;
  int rc = pk_query_open(e, form, &q);
  CHECK(rc == PK_OK, "pk_query_open(%s) returned %d: %s", form, rc, pk_errmsg(e));
  if (rc != PK_OK) return;
  printf("%s\n", form);
  int n = 0;
  for (;;) {
    if (max >= 0 && n == max) break;
    pk_term a;
    rc = pk_query_next(q, &a);
    CHECK(rc >= 0, "pk_query_next on %s returned %d: %s", form, rc, pk_errmsg(e));
    if (rc <= 0) break;
    char *s = pk_to_string(a);
    CHECK(s != NULL, "pk_to_string returned NULL");
    if (!s) break;
    printf("  answer %d: %s\n", n + 1, s);
    if (n < n_want) CHECK(strcmp(s, want[n]) == 0, "%s: answer %d is %s, expected %s", form, n + 1, s, want[n]);
    free(s);
    n++;
  }
  CHECK(n == n_want, "%s: %d answers, expected %d", form, n, n_want);
  pk_query_free(q);
}

/* ---- a relation written in C: (primeo n) succeeds when n is a prime ---- */

struct prime_stats {
  int calls;   /* how often the engine called primeo */
  int unbound; /* ... with an argument that is not an integer */
};

static int is_prime(int64_t n)
{
  if (n < 2) return 0;
  for (int64_t d = 2; d * d <= n; d++)
    if (n % d == 0) return 0;
  return 1;
}

static int primeo(pk_engine *e, int argc, const pk_term *argv, void *data)
{
  (void)e;
  struct prime_stats *st = data;
  st->calls++;
  if (argc != 1) return 0;
  if (!pk_is_int(argv[0])) { /* a symbol, a list, or a fresh variable */
    st->unbound++;
    return 0;
  }
  return is_prime(pk_int_value(argv[0]));
}

/* (factoro n f): the factorizations f = (a b) with a * b = n, a <= b, as
   terms built in C, one answer each in increasing a.  Like symbolic-pymc
   asking SymPy for terms, the C code computes answers the search unifies. */
static int factoro(pk_engine *e, pk_goal *g, int argc, const pk_term *argv, void *data)
{
  (void)data;
  if (argc != 2 || !pk_is_int(argv[0])) return 0; /* n must be known: no answers */
  int64_t n = pk_int_value(argv[0]);
  for (int64_t a = 1; a * a <= n; a++) {
    if (n % a) continue;
    pk_term ans[2] = { argv[0], pk_cons(e, pk_int(e, a), pk_cons(e, pk_int(e, n / a), pk_nil())) };
    if (pk_goal_yield(g, ans) != PK_OK) return -1; /* a negative return is a runtime error */
  }
  return 0;
}

int main(void)
{
  const char *v = pk_version();
  CHECK(v != NULL && v[0] != '\0', "pk_version() is empty");
  printf("pkanren %s\n", v ? v : "?");

  pk_engine *e = pk_engine_new();
  CHECK(e != NULL, "pk_engine_new() returned NULL");
  if (!e) return 1;

  /* 1. Relations written in the pkanren language. */
  load(e, "relations.scm",
       "(defrel (appendo l s out)\n"
       "  (conde\n"
       "    [(== '() l) (== s out)]\n"
       "    [(fresh (a d res)\n"
       "       (== `(,a . ,d) l)\n"
       "       (== `(,a . ,res) out)\n"
       "       (appendo d s res))]))\n"
       "(defrel (membero x l)\n"
       "  (fresh (a d)\n"
       "    (== `(,a . ,d) l)\n"
       "    (conde [(== a x)] [(membero x d)])))\n"
       "(defrel (nato n)\n"
       "  (conde [(== n 'z)] [(fresh (m) (== n `(s ,m)) (nato m))]))\n");

  /* 2. Iterate over the answers of a run*. */
  {
    static const char *const want[] = {
      "(() (1 2 3))",
      "((1) (2 3))",
      "((1 2) (3))",
      "((1 2 3) ())",
    };
    expect_answers(e, "(run* (x y) (appendo x y '(1 2 3)))", -1, want, 4);
  }
  {
    static const char *const want[] = { "((_.0 _.1) (=/= ((_.0 _.1))) (sym _.0))" };
    expect_answers(e, "(run* (q) (fresh (a b) (== q (list a b)) (=/= a b) (symbolo a)))", -1, want, 1);
  }

  /* 3. A run* over an infinite relation, stopped after three answers. */
  {
    static const char *const want[] = { "z", "(s z)", "(s (s z))" };
    expect_answers(e, "(run* (q) (nato q))", 3, want, 3);
  }
  /* ... and run n stops by itself. */
  {
    static const char *const want[] = { "z", "(s z)" };
    expect_answers(e, "(run 2 (q) (nato q))", -1, want, 2);
  }

  /* 4. A term built in C, bound to a global name, used in a query. */
  {
    pk_term list = pk_nil();
    for (int i = 3; i >= 1; i--) list = pk_cons(e, pk_int(e, i), list);
    pk_term tagged = pk_cons(e, pk_symbol(e, "numbers"), pk_cons(e, pk_string(e, "one two three", 13), pk_nil()));
    pk_term both = pk_cons(e, list, tagged);
    char *s = pk_to_string(both);
    CHECK(s && strcmp(s, "((1 2 3) numbers \"one two three\")") == 0, "built term prints as %s", s ? s : "(null)");
    printf("built in C: %s\n", s ? s : "(null)");
    free(s);
    CHECK(pk_is_pair(list) && pk_is_int(pk_term_car(list)) && pk_int_value(pk_term_car(list)) == 1,
          "car of the built list is not 1");
    CHECK(pk_is_symbol(pk_term_car(tagged)) && strcmp(pk_symbol_name(pk_term_car(tagged)), "numbers") == 0,
          "symbol accessor");
    CHECK(pk_is_string(pk_term_car(pk_term_cdr(tagged))) &&
              strcmp(pk_string_value(pk_term_car(pk_term_cdr(tagged))), "one two three") == 0,
          "string accessor");

    int rc = pk_define(e, "my-list", list);
    CHECK(rc == PK_OK, "pk_define returned %d: %s", rc, pk_errmsg(e));
    static const char *const want[] = { "(1 2)" };
    expect_answers(e, "(run* (q) (appendo q '(3) my-list))", -1, want, 1);
    static const char *const want2[] = { "1", "2", "3" };
    expect_answers(e, "(run* (q) (membero q my-list))", -1, want2, 3);

    /* An answer is a term: look inside it from C. */
    pk_query *q = NULL;
    rc = pk_query_open(e, "(run* (x y) (appendo x y my-list) (== x '(1)))", &q);
    CHECK(rc == PK_OK, "pk_query_open returned %d: %s", rc, pk_errmsg(e));
    if (rc == PK_OK) {
      pk_term a;
      rc = pk_query_next(q, &a);
      CHECK(rc == 1, "expected one answer, got %d", rc);
      if (rc == 1) {
        pk_term want_term;
        int prc = pk_parse(e, "((1) (2 3))", &want_term);
        CHECK(prc == PK_OK, "pk_parse returned %d: %s", prc, pk_errmsg(e));
        CHECK(prc == PK_OK && pk_equal(a, want_term), "answer is not ((1) (2 3))");
        pk_term y = pk_term_car(pk_term_cdr(a));
        CHECK(pk_is_pair(y) && pk_int_value(pk_term_car(y)) == 2, "y does not start with 2");
      }
      rc = pk_query_next(q, &a);
      CHECK(rc == 0, "expected no second answer, got %d", rc);
      pk_query_free(q);
    }
  }

  /* 5. A relation written in C, used with conde and with other relations. */
  {
    struct prime_stats st = { 0, 0 };
    int rc = pk_register_relation(e, "primeo", 1, primeo, &st);
    CHECK(rc == PK_OK, "pk_register_relation returned %d: %s", rc, pk_errmsg(e));
    static const char *const want[] = { "7", "13" };
    expect_answers(e, "(run* (q) (conde [(== q 7)] [(== q 8)] [(== q 13)] [(== q 'x)]) (primeo q))", -1, want, 2);
    CHECK(st.calls == 4, "primeo was called %d times, expected 4", st.calls);
    CHECK(st.unbound == 1, "primeo saw %d non-integers, expected 1", st.unbound);

    static const char *const want2[] = { "2", "3", "5", "7", "11" };
    expect_answers(e, "(run* (q) (membero q '(1 2 3 4 5 6 7 8 9 10 11 12)) (primeo q))", -1, want2, 5);
    /* The argument is walked: q is bound through another variable. */
    static const char *const want3[] = { "(17 prime)", "(18 composite)" };
    expect_answers(e,
                   "(run* (q) (fresh (n r) (== q (list n r)) (membero n '(17 18))"
                   "  (conde [(primeo n) (== r 'prime)]"
                   "         [(== r 'composite) (fresh (m) (== m n) (project (m) (if (even? m) succeed fail)))])))",
                   -1, want3, 2);
    /* A fresh variable is not an integer: primeo fails. */
    expect_answers(e, "(run* (q) (primeo q))", -1, NULL, 0);
    /* The C relation is a value in the language like any relation. */
    load(e, "filter.scm",
         "(defrel (filtero rel l out)\n"
         "  (conde\n"
         "    [(== l '()) (== out '())]\n"
         "    [(fresh (a d r)\n"
         "       (== l `(,a . ,d))\n"
         "       (conde\n"
         "         [(rel a) (== out `(,a . ,r))]\n"
         "         [(== out r)])\n"
         "       (filtero rel d r))]))\n");
    static const char *const want4[] = { "(2 3 5)" };
    expect_answers(e, "(run 1 (q) (filtero primeo '(2 3 4 5) q))", -1, want4, 1);
  }

  /* 6. A relation written in C with several answers, used forwards and
     with other goals; then the same queries on two workers. */
  {
    int rc = pk_register_goal(e, "factoro", 2, factoro, NULL);
    CHECK(rc == PK_OK, "pk_register_goal returned %d: %s", rc, pk_errmsg(e));
    static const char *const want[] = { "(1 12)", "(2 6)", "(3 4)" };
    expect_answers(e, "(run* (f) (factoro 12 f))", -1, want, 3);
    static const char *const want2[] = { "3" };
    expect_answers(e, "(run* (a) (fresh (b) (factoro 12 `(,a ,b)) (== b 4)))", -1, want2, 1);
    rc = pk_set_workers(e, 2);
    CHECK(rc == PK_OK, "pk_set_workers returned %d: %s", rc, pk_errmsg(e));
    expect_answers(e, "(run* (f) (factoro 12 f))", -1, want, 3); /* the same order */
    pk_set_unordered(e, 1);                                      /* answers as found */
    pk_query *q;
    rc = pk_query_open(e, "(run* (f) (factoro 36 f))", &q);
    CHECK(rc == PK_OK, "pk_query_open returned %d: %s", rc, pk_errmsg(e));
    pk_term a;
    int n = 0;
    while (rc == PK_OK && pk_query_next(q, &a) == 1) n++;
    CHECK(n == 5, "36 has %d factorizations, expected 5", n);
    if (rc == PK_OK) pk_query_free(q);
    pk_set_unordered(e, 0);
    pk_set_workers(e, 1);
  }

  /* 7. Errors are values: a negative code and "file:line:col: message". */
  {
    const char *bad = "(define (f x)\n  (+ x 1)\n";
    int rc = pk_load_string(e, "bad.scm", bad, strlen(bad));
    printf("loading bad.scm: %d, %s\n", rc, pk_errmsg(e));
    CHECK(rc == PK_ESTATIC, "unbalanced program returned %d, expected PK_ESTATIC", rc);
    CHECK(strncmp(pk_errmsg(e), "bad.scm:1:1: ", 13) == 0, "message is \"%s\"", pk_errmsg(e));

    const char *unbound = "(display \"not printed\")\n(run* (q) (no-such-relation q))\n";
    rc = pk_load_string(e, "unbound.scm", unbound, strlen(unbound));
    printf("loading unbound.scm: %d, %s\n", rc, pk_errmsg(e));
    CHECK(rc == PK_ESTATIC, "unbound name returned %d, expected PK_ESTATIC", rc);
    CHECK(strncmp(pk_errmsg(e), "unbound.scm:2:11: ", 18) == 0, "message is \"%s\"", pk_errmsg(e));
    CHECK(strstr(pk_errmsg(e), "no-such-relation") != NULL, "message is \"%s\"", pk_errmsg(e));

    const char *rt = "(define (g x) (car x))\n(g 5)\n";
    rc = pk_load_string(e, "runtime.scm", rt, strlen(rt));
    printf("loading runtime.scm: %d, %s\n", rc, pk_errmsg(e));
    CHECK(rc == PK_ERUNTIME, "runtime error returned %d, expected PK_ERUNTIME", rc);
    CHECK(strncmp(pk_errmsg(e), "runtime.scm:1:", 14) == 0, "message is \"%s\"", pk_errmsg(e));

    pk_query *q = NULL;
    rc = pk_query_open(e, "(not-a-run-form)", &q);
    printf("opening a non-query: %d, %s\n", rc, pk_errmsg(e));
    CHECK(rc < 0, "pk_query_open of a non-run form returned %d", rc);

    rc = pk_query_open(e, "(run -1 (q) succeed)", &q);
    printf("opening (run -1 ...): %d, %s\n", rc, pk_errmsg(e));
    CHECK(rc == PK_ERUNTIME, "(run -1 ...) returned %d, expected PK_ERUNTIME", rc);

    /* A goal that is not a goal fails when it is reached: from pk_query_next. */
    rc = pk_query_open(e, "(run* (q) (conde [(== q 1)] [5]))", &q);
    CHECK(rc == PK_OK, "pk_query_open returned %d: %s", rc, pk_errmsg(e));
    if (rc == PK_OK) {
      pk_term a;
      int got = 0;
      while ((rc = pk_query_next(q, &a)) == 1) got++;
      printf("a query with a non-goal: %d answer(s), then %d, %s\n", got, rc, pk_errmsg(e));
      CHECK(rc == PK_ERUNTIME, "non-goal gave %d, expected PK_ERUNTIME", rc);
      CHECK(strstr(pk_errmsg(e), "not a goal") != NULL, "message is \"%s\"", pk_errmsg(e));
      pk_query_free(q);
    }

    /* (exit n) is returned too, never exit(): PK_EEXIT for every n. */
    const char *ex = "(exit 7)\n";
    rc = pk_load_string(e, "exit.scm", ex, strlen(ex));
    CHECK(rc == PK_EEXIT && pk_exit_code(e) == 7, "(exit 7) returned %d, exit code %d", rc, pk_exit_code(e));
    rc = pk_load_string(e, "exit.scm", "(exit 0)", 8);
    CHECK(rc == PK_EEXIT && pk_exit_code(e) == 0, "(exit 0) returned %d, exit code %d", rc, pk_exit_code(e));

    pk_term t;
    rc = pk_parse(e, "(a b", &t);
    CHECK(rc < 0, "pk_parse of \"(a b\" returned %d", rc);

    /* The engine is still usable after errors. */
    static const char *const want[] = { "(a b c)" };
    expect_answers(e, "(run* (q) (appendo '(a) '(b c) q))", -1, want, 1);
  }

  pk_engine_free(e);
  if (failures) {
    fprintf(stderr, "api_example: %d check(s) failed\n", failures);
    return 1;
  }
  printf("api_example: all checks passed\n");
  return 0;
}
