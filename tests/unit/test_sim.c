/*
** test_sim.c — the numeric model evaluator (graph/pk_sim.c) and the
** checks of graph/pk_verify.c: every distribution's sample mean and
** variance against its closed form (400,000 draws, seed 7: the mean within
** 5 standard errors, the variance within 3%; quartiles for the Cauchy
** pair), broadcasting, dot, transpose, matrix_inverse, index, a shared
** node drawn once per draw, an input without a test value, and pkv_check
** passing a correct hand-written rewrite and failing wrong ones.
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pk_graph.h"
#include "pk_sim.h"
#include "pk_verify.h"

enum { N = 400000 };

static int setup(void **state)
{
  (void)state;
  pko_init();
  return 0;
}

/* A value holding the numbers xs[0..n) in shape dims (rank 0: one). */
static pksim_val *val(uint32_t rank, const int64_t *dims, const double *xs)
{
  pksim_val *v = calloc(1, sizeof *v);
  pksim_shape(v, rank, dims);
  memcpy(v->x, xs, v->n * sizeof(double));
  return v;
}

static pksim_val *scalar(double x) { return val(0, NULL, &x); }

static void vfree(pksim_val *v)
{
  free(v->x);
  free(v);
}

/* Mean and variance of every k-th element starting at off. */
static void moments(const pksim_val *v, size_t off, size_t k, double *m, double *var)
{
  double s = 0, q = 0;
  size_t n = 0;
  for (size_t i = off; i < v->n; i += k, n++) s += v->x[i];
  *m = s / (double)n;
  for (size_t i = off; i < v->n; i += k) q += (v->x[i] - *m) * (v->x[i] - *m);
  *var = q / (double)(n - 1);
}

/* Draw d with parameters p at SIZE (N) (or (N) events) and compare
   element off of each event (k per event) with mean m and variance var. */
static void check_dist(pksim_dist d, pksim_val **p, int np, size_t off, size_t k, double m, double var)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 7);
  pksim_val out = { 0 };
  int64_t size = N;
  pksim_sample(d, p, np, 1, &size, &out, r);
  double sm, sv;
  moments(&out, off, k, &sm, &sv);
  double se = sqrt(var / N);
  if (fabs(sm - m) > 5 * se || fabs(sv - var) > 0.03 * var)
    fail_msg("%s[%zu]: mean %g (want %g, se %g), variance %g (want %g)", pksim_dist_name(d), off, sm, m, se, sv, var);
  free(out.x);
  gsl_rng_free(r);
}

/* The fraction of draws of d below x. */
static double below(pksim_dist d, pksim_val **p, int np, double x)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 7);
  pksim_val out = { 0 };
  int64_t size = N;
  pksim_sample(d, p, np, 1, &size, &out, r);
  size_t c = 0;
  for (size_t i = 0; i < out.n; i++) c += out.x[i] < x;
  free(out.x);
  gsl_rng_free(r);
  return (double)c / N;
}

static void test_scalar_dists(void **state)
{
  (void)state;
  pksim_val *one = scalar(1), *two = scalar(2), *three = scalar(3), *five = scalar(5), *six = scalar(6);
  pksim_val *p03 = scalar(0.3), *p04 = scalar(0.4), *ten = scalar(10);
  check_dist(PKSIM_NORMAL, (pksim_val *[]){ one, two }, 2, 0, 1, 1, 4);
  check_dist(PKSIM_HALFNORMAL, (pksim_val *[]){ one, two }, 2, 0, 1, 1 + 2 * sqrt(2 / M_PI), 4 * (1 - 2 / M_PI));
  check_dist(PKSIM_STUDENTT, (pksim_val *[]){ five, one, two }, 3, 0, 1, 1, 4 * 5.0 / 3);
  check_dist(PKSIM_LAPLACE, (pksim_val *[]){ one, two }, 2, 0, 1, 1, 8);
  check_dist(PKSIM_LOGISTIC, (pksim_val *[]){ one, two }, 2, 0, 1, 1, M_PI * M_PI * 4 / 3);
  check_dist(PKSIM_GAMMA, (pksim_val *[]){ three, two }, 2, 0, 1, 1.5, 0.75);
  check_dist(PKSIM_INVGAMMA, (pksim_val *[]){ six, two }, 2, 0, 1, 0.4, 0.04);
  check_dist(PKSIM_EXPONENTIAL, (pksim_val *[]){ two }, 1, 0, 1, 0.5, 0.25);
  check_dist(PKSIM_BETA, (pksim_val *[]){ two, three }, 2, 0, 1, 0.4, 0.04);
  check_dist(PKSIM_BINOMIAL, (pksim_val *[]){ ten, p03 }, 2, 0, 1, 3, 2.1);
  check_dist(PKSIM_NEGBINOMIAL, (pksim_val *[]){ three, p04 }, 2, 0, 1, 4.5, 11.25);
  check_dist(PKSIM_POISSON, (pksim_val *[]){ three }, 1, 0, 1, 3, 3);
  check_dist(PKSIM_BERNOULLI, (pksim_val *[]){ p03 }, 1, 0, 1, 0.3, 0.21);
  check_dist(PKSIM_UNIFORM, (pksim_val *[]){ one, three }, 2, 0, 1, 2, 4.0 / 12);
  /* No moments: quartiles loc -/+ scale, HalfCauchy's median loc + scale. */
  assert_true(fabs(below(PKSIM_CAUCHY, (pksim_val *[]){ one, two }, 2, -1) - 0.25) < 0.003);
  assert_true(fabs(below(PKSIM_CAUCHY, (pksim_val *[]){ one, two }, 2, 3) - 0.75) < 0.003);
  assert_true(fabs(below(PKSIM_HALFCAUCHY, (pksim_val *[]){ one, two }, 2, 3) - 0.5) < 0.003);
  assert_true(below(PKSIM_HALFCAUCHY, (pksim_val *[]){ one, two }, 2, 1) == 0);
  pksim_val *all[] = { one, two, three, five, six, p03, p04, ten };
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) vfree(all[i]);
}

static void test_vector_dists(void **state)
{
  (void)state;
  int64_t k2 = 2, k3 = 3, d22[2] = { 2, 2 };
  pksim_val *mean = val(1, &k2, (double[]){ 1, 2 }), *cov = val(2, d22, (double[]){ 2, 0.5, 0.5, 1 });
  check_dist(PKSIM_MVNORMAL, (pksim_val *[]){ mean, cov }, 2, 0, 2, 1, 2);
  check_dist(PKSIM_MVNORMAL, (pksim_val *[]){ mean, cov }, 2, 1, 2, 2, 1);
  pksim_val *alpha = val(1, &k3, (double[]){ 1, 2, 3 }), *p = val(1, &k3, (double[]){ 0.2, 0.3, 0.5 });
  pksim_val *ten = scalar(10);
  check_dist(PKSIM_DIRICHLET, (pksim_val *[]){ alpha }, 1, 0, 3, 1.0 / 6, 5.0 / 252);
  check_dist(PKSIM_DIRICHLET, (pksim_val *[]){ alpha }, 1, 2, 3, 0.5, 9.0 / 252);
  check_dist(PKSIM_CATEGORICAL, (pksim_val *[]){ p }, 1, 0, 1, 1.3, 0.61);
  check_dist(PKSIM_MULTINOMIAL, (pksim_val *[]){ ten, p }, 2, 0, 3, 2, 1.6);
  check_dist(PKSIM_MULTINOMIAL, (pksim_val *[]){ ten, p }, 2, 2, 3, 5, 2.5);
  /* The MvNormal covariance: var(x0 + x1) = 2 + 1 + 2 * 0.5. */
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  pksim_val out = { 0 }, s = { 0 };
  int64_t size = N;
  pksim_sample(PKSIM_MVNORMAL, (pksim_val *[]){ mean, cov }, 2, 1, &size, &out, r);
  pksim_shape(&s, 1, &size);
  for (size_t i = 0; i < N; i++) s.x[i] = out.x[2 * i] + out.x[2 * i + 1];
  double m, v;
  moments(&s, 0, 1, &m, &v);
  assert_true(fabs(v - 4) < 0.03 * 4);
  assert_int_equal(out.rank, 2);
  assert_int_equal(out.dims[1], 2);
  free(out.x), free(s.x);
  gsl_rng_free(r);
  vfree(mean), vfree(cov), vfree(alpha), vfree(p), vfree(ten);
}

/* SIZE broadcasting: parameters of shape () and (k) against SIZE (k) and
   (m k); a parameter that does not broadcast is an error. */
static void test_size(void **state)
{
  (void)state;
  int64_t k3 = 3, d23[2] = { 2, 3 };
  pksim_val *mu = val(1, &k3, (double[]){ 0, 100, 200 }), *zero = scalar(0);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  pksim_val out = { 0 };
  pksim_sample(PKSIM_NORMAL, (pksim_val *[]){ mu, zero }, 2, 2, d23, &out, r);
  assert_int_equal(out.n, 6);
  for (int i = 0; i < 6; i++) assert_true(out.x[i] == 100.0 * (i % 3));
  pksim_sample(PKSIM_NORMAL, (pksim_val *[]){ mu, zero }, 2, 0, NULL, &out, r);
  assert_int_equal(out.rank, 1);
  assert_int_equal(out.n, 3);
  int64_t k2 = 2;
  pko_catch c;
  bool thrown = false;
  if (PKO_TRY(c)) {
    pksim_sample(PKSIM_NORMAL, (pksim_val *[]){ mu, zero }, 2, 1, &k2, &out, r);
    PKO_END(c);
  } else {
    thrown = strstr(pko_err.msg, "SIZE") != NULL;
  }
  assert_true(thrown);
  free(out.x);
  gsl_rng_free(r);
  vfree(mu), vfree(zero);
}

static void check_vals(const pksim_val *v, uint32_t rank, const int64_t *dims, const double *xs)
{
  assert_int_equal(v->rank, rank);
  for (uint32_t d = 0; d < rank; d++) assert_int_equal(v->dims[d], dims[d]);
  for (size_t i = 0; i < v->n; i++)
    if (fabs(v->x[i] - xs[i]) > 1e-12) fail_msg("element %zu: %g, want %g", i, v->x[i], xs[i]);
}

static void test_ops(void **state)
{
  (void)state;
  int64_t d23[2] = { 2, 3 }, d32[2] = { 3, 2 }, d21[2] = { 2, 1 }, k3 = 3, k2 = 2, d22[2] = { 2, 2 };
  pksim_val *m = val(2, d23, (double[]){ 1, 2, 3, 4, 5, 6 }), *row = val(1, &k3, (double[]){ 10, 20, 30 });
  pksim_val *col = val(2, d21, (double[]){ 100, 200 }), out = { 0 };
  assert_int_equal(pksim_op_apply("add", (pksim_val *[]){ m, row, col }, 3, &out), 0);
  check_vals(&out, 2, d23, (double[]){ 111, 122, 133, 214, 225, 236 });
  pksim_op_apply("transpose", (pksim_val *[]){ m }, 1, &out);
  check_vals(&out, 2, d32, (double[]){ 1, 4, 2, 5, 3, 6 });
  pksim_op_apply("dot", (pksim_val *[]){ m, row }, 2, &out);
  check_vals(&out, 1, &k2, (double[]){ 140, 320 });
  pksim_val *a = val(2, d22, (double[]){ 4, 7, 2, 6 });
  pksim_op_apply("matrix_inverse", (pksim_val *[]){ a }, 1, &out);
  check_vals(&out, 2, d22, (double[]){ 0.6, -0.7, -0.2, 0.4 });
  pksim_val *idx = val(1, &k3, (double[]){ 1, 0, 1 });
  idx->integer = true;
  pksim_op_apply("index", (pksim_val *[]){ m, idx }, 2, &out);
  int64_t d33[2] = { 3, 3 };
  check_vals(&out, 2, d33, (double[]){ 4, 5, 6, 1, 2, 3, 4, 5, 6 });
  pksim_op_apply("sum", (pksim_val *[]){ m }, 1, &out);
  check_vals(&out, 0, NULL, (double[]){ 21 });
  pksim_op_apply("size", (pksim_val *[]){ m }, 1, &out);
  check_vals(&out, 0, NULL, (double[]){ 6 });
  pksim_val *three = scalar(3);
  pksim_op_apply("bincount", (pksim_val *[]){ idx, three }, 2, &out);
  check_vals(&out, 1, &k3, (double[]){ 1, 2, 0 });
  vfree(three);
  pksim_op_apply("true_div", (pksim_val *[]){ row, row }, 2, &out);
  check_vals(&out, 1, &k3, (double[]){ 1, 1, 1 });
  assert_false(out.integer);
  pko_catch c;
  bool thrown = false;
  if (PKO_TRY(c)) {
    pksim_op_apply("add", (pksim_val *[]){ m, col, idx, a }, 4, &out);
    PKO_END(c);
  } else {
    thrown = strstr(pko_err.msg, "broadcast") != NULL;
  }
  assert_true(thrown);
  free(out.x);
  vfree(m), vfree(row), vfree(col), vfree(a), vfree(idx);
}

static pk_val model(const char *text) { return pko_car(pkg_read_text("t.model", text, strlen(text))); }

/* A shared node is one draw: x - x is 0 in every draw, x - y is not. */
static void test_model_sharing(void **state)
{
  (void)state;
  pksim_model *m = pksim_compile(model("(model s (input m (tensor float64 ()) 1.0)\n"
                                       "  (define x (NormalRV m 1.0 (4) rng \"x\"))\n"
                                       "  (define y (NormalRV m 1.0 (4) rng \"y\"))\n"
                                       "  (output (sub x x) (sub x y) (index x 3)))"));
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  for (int t = 0; t < 10; t++) {
    pksim_draw(m, r);
    const pksim_val *a = &m->nodes[m->outputs[0]].v, *b = &m->nodes[m->outputs[1]].v;
    const pksim_val *x = &m->nodes[pksim_find_rv(m, "x")].v, *i3 = &m->nodes[m->outputs[2]].v;
    for (int i = 0; i < 4; i++) {
      assert_true(a->x[i] == 0);
      assert_true(b->x[i] != 0);
    }
    assert_true(i3->x[0] == x->x[3]);
  }
  gsl_rng_free(r);
  pksim_free(m);
}

/* Parameters out of range draw NaN (GSL could loop or abort), and a
   rewrite that makes them fails its checks. */
static void test_invalid_params(void **state)
{
  (void)state;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  pksim_val out = { 0 }, *m1 = scalar(-1), *zero = scalar(0), *one = scalar(1);
  int64_t k2 = 2, d22[2] = { 2, 2 };
  pksim_val *mean = val(1, &k2, (double[]){ 0, 0 }), *bad = val(2, d22, (double[]){ 1, 2, 2, 1 });
  pksim_sample(PKSIM_NORMAL, (pksim_val *[]){ one, m1 }, 2, 0, NULL, &out, r);
  assert_true(isnan(out.x[0]));
  pksim_sample(PKSIM_GAMMA, (pksim_val *[]){ zero, one }, 2, 0, NULL, &out, r);
  assert_true(isnan(out.x[0]));
  pksim_sample(PKSIM_BERNOULLI, (pksim_val *[]){ m1 }, 1, 0, NULL, &out, r);
  assert_true(isnan(out.x[0]));
  pksim_sample(PKSIM_MVNORMAL, (pksim_val *[]){ mean, bad }, 2, 0, NULL, &out, r);
  assert_true(isnan(out.x[0]) && isnan(out.x[1]));
  pksim_sample(PKSIM_DIRICHLET, (pksim_val *[]){ mean }, 1, 0, NULL, &out, r);
  assert_true(isnan(out.x[0]));
  free(out.x);
  gsl_rng_free(r);
  vfree(m1), vfree(zero), vfree(one), vfree(mean), vfree(bad);
}

/* An input without a test value is a static error naming it. */
static void test_no_test_value(void **state)
{
  (void)state;
  pk_val mt = model("(model nv (input m (tensor float64 ())) (output (NormalRV m 1.0 () rng \"x\")))");
  pko_catch c;
  int st = 0;
  if (PKO_TRY(c)) {
    pksim_compile(mt);
    PKO_END(c);
  } else {
    st = pko_err.status;
    assert_non_null(strstr(pko_err.msg, "input m has no test value"));
  }
  assert_int_equal(st, PK_STATUS_STATIC);
}

/* pkv_check's verdict on an original and a rewrite: failed checks, and
   whether the output mentions what. */
static int check(const char *orig, const char *rew, const char *want)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  pkv_opts o = { .draws = 20000, .seed = 3, .alpha = 1e-3, .out = f };
  int failed = pkv_check(model(orig), model(rew), &o);
  fclose(f);
  if (want && !strstr(buf, want)) fail_msg("no \"%s\" in:\n%s", want, buf);
  free(buf);
  return failed;
}

#define NN_IN "(model nn (input m0 (tensor float64 ()) 0.5) (input s0 (tensor float64 ()) 2.0)\n"

static void test_check_reparam(void **state)
{
  (void)state;
  const char *orig = NN_IN "(define mu (NormalRV m0 s0 () rng \"mu\"))\n"
                           "(output (observed 1.5 (NormalRV mu 1.0 () rng \"y\"))))";
  /* Non-centred: passes, mu found by position. */
  assert_int_equal(check(orig,
                         NN_IN "(output (observed 1.5 (NormalRV (add m0 (mul s0 (NormalRV 0.0 1.0 () rng "
                               "\"mu_offset\"))) 1.0 () rng \"y\"))))",
                         "ok    ks     rv mu"),
                   0);
  /* A negative scale: NaN draws, the checks of mu fail. */
  assert_true(check(orig,
                    NN_IN "(output (observed 1.5 (NormalRV (NormalRV m0 (neg s0) () rng \"mu\") 1.0 () rng \"y\"))))",
                    "FAIL  mean   rv mu") > 0);
  /* The scale dropped: rv mu and the output fail. */
  assert_true(check(orig,
                    NN_IN "(output (observed 1.5 (NormalRV (add m0 (NormalRV 0.0 1.0 () rng \"mu_offset\")) 1.0 () "
                          "rng \"y\"))))",
                    "FAIL  var    rv mu") > 0);
  /* Same marginals, broken dependence: y drawn from its own copy of mu. */
  assert_true(check(NN_IN "(define mu (NormalRV m0 s0 () rng \"mu\"))\n"
                          "(output mu (NormalRV mu 1.0 () rng \"y\")))",
                    NN_IN "(define mu (NormalRV m0 s0 () rng \"mu\"))\n"
                          "(output mu (NormalRV (NormalRV m0 s0 () rng \"mu2\") 1.0 () rng \"y\")))",
                    "FAIL  var    pairs across") > 0);
}

static void test_check_conjugate(void **state)
{
  (void)state;
  const char *orig = NN_IN "(define mu (NormalRV m0 s0 () rng \"mu\"))\n"
                           "(output (observed 1.5 (NormalRV mu 1.0 () rng \"y\"))))";
  /* Posterior precision 1/4 + 1, mean (0.5/4 + 1.5) / 1.25 = 1.3. */
  assert_int_equal(check(orig, NN_IN "(output (NormalRV 1.3 (sqrt 0.8) () rng \"mu\")))", "ok    is     posterior mu"),
                   0);
  assert_true(check(orig, NN_IN "(output (NormalRV -1.1 (sqrt 0.8) () rng \"mu\")))", "FAIL  is     posterior mu") > 0);
  assert_true(check(orig, NN_IN "(output (NormalRV 1.3 (sqrt 0.8) () rng \"mu\")))", "exact NormalRV") == 0);
  /* Gamma-Poisson: Gamma(2 + 7, 1 + 3). */
  const char *gp = "(model gp (input y (tensor int64 (3)) #[1 2 4])\n"
                   "  (define l (GammaRV 2.0 1.0 () rng \"l\"))\n"
                   "  (output (observed y (PoissonRV l () rng \"y\"))))";
  assert_int_equal(check(gp, "(model gp (output (GammaRV 9.0 4.0 () rng \"l\")))", "exact GammaRV"), 0);
  assert_true(check(gp, "(model gp (output (GammaRV 9.0 3.0 () rng \"l\")))", "FAIL") > 0);
  /* Dirichlet-Categorical: alpha + counts. */
  const char *dc = "(model dc (input y (tensor int64 (4)) #[0 2 2 1])\n"
                   "  (define p (DirichletRV #[1.0 1.0 1.0] () rng \"p\"))\n"
                   "  (output (observed y (CategoricalRV p () rng \"y\"))))";
  assert_int_equal(check(dc, "(model dc (output (DirichletRV #[2.0 2.0 3.0] () rng \"p\")))", "exact DirichletRV"), 0);
  assert_true(check(dc, "(model dc (output (DirichletRV #[2.0 3.0 2.0] () rng \"p\")))", "FAIL") > 0);
  /* Beta with Binomial (a + sum y, b + sum (n - y)), Bernoulli, NegBinomial
     (a + sum n, b + sum y); Dirichlet-Multinomial (alpha + y). */
  const char *bb = "(model bb (input y (tensor int64 (2)) #[3 7])\n"
                   "  (define p (BetaRV 2.0 3.0 () rng \"p\"))\n"
                   "  (output (observed y (BinomialRV 10 p () rng \"y\"))))";
  assert_int_equal(check(bb, "(model bb (output (BetaRV 12.0 13.0 () rng \"p\")))", "exact BetaRV"), 0);
  assert_true(check(bb, "(model bb (output (BetaRV 13.0 12.0 () rng \"p\")))", "FAIL") > 0);
  const char *be = "(model be (input y (tensor int64 (4)) #[1 0 1 1])\n"
                   "  (define p (BetaRV 2.0 3.0 () rng \"p\"))\n"
                   "  (output (observed y (BernoulliRV p () rng \"y\"))))";
  assert_int_equal(check(be, "(model be (output (BetaRV 5.0 4.0 () rng \"p\")))", "exact BetaRV"), 0);
  const char *nb = "(model nb (input y (tensor int64 (2)) #[2 4])\n"
                   "  (define p (BetaRV 2.0 3.0 () rng \"p\"))\n"
                   "  (output (observed y (NegBinomialRV 3 p () rng \"y\"))))";
  assert_int_equal(check(nb, "(model nb (output (BetaRV 8.0 9.0 () rng \"p\")))", "exact BetaRV"), 0);
  assert_true(check(nb, "(model nb (output (BetaRV 9.0 8.0 () rng \"p\")))", "FAIL") > 0);
  const char *dm = "(model dm (input y (tensor int64 (3)) #[1 2 3])\n"
                   "  (define p (DirichletRV #[1.0 1.0 1.0] () rng \"p\"))\n"
                   "  (output (observed y (MultinomialRV 6 p () rng \"y\"))))";
  assert_int_equal(check(dm, "(model dm (output (DirichletRV #[2.0 3.0 4.0] () rng \"p\")))", "exact DirichletRV"), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_scalar_dists),  cmocka_unit_test(test_vector_dists),    cmocka_unit_test(test_size),
    cmocka_unit_test(test_ops),           cmocka_unit_test(test_model_sharing),   cmocka_unit_test(test_no_test_value),
    cmocka_unit_test(test_check_reparam), cmocka_unit_test(test_check_conjugate), cmocka_unit_test(test_invalid_params),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
