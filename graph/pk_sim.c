/*
** pk_sim.c — numeric evaluation of models through GSL (pk_sim.h).
*/
#include "pk_sim.h"
#include "pk_graph.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <string.h>

typedef enum pksim_op {
  PKSIM_ADD,
  PKSIM_SUB,
  PKSIM_MUL,
  PKSIM_DIV,
  PKSIM_NEG,
  PKSIM_RECIP,
  PKSIM_POW,
  PKSIM_SQR,
  PKSIM_SQRT,
  PKSIM_EXP,
  PKSIM_LOG,
  PKSIM_DOT,
  PKSIM_TRANSPOSE,
  PKSIM_INV,
  PKSIM_INDEX,
  PKSIM_SUM,
  PKSIM_SIZE,
  PKSIM_ZEROS,
  PKSIM_ONES,
  PKSIM_BINCOUNT,
  PKSIM_NOPS
} pksim_op;

static const char *const pksim_op_names[PKSIM_NOPS] = {
  "add", "sub", "mul",       "true_div",       "neg",   "reciprocal", "pow",  "sqr",        "sqrt",      "exp",
  "log", "dot", "transpose", "matrix_inverse", "index", "sum",        "size", "zeros_like", "ones_like", "bincount",
};
/* Arity of each op: -2 two or more, else exact. */
static const int pksim_op_arity[PKSIM_NOPS] = { -2, 2, -2, 2, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 2, 1, 1, 1, 1, 2 };

static const char *const pksim_dist_names[PKSIM_NDIST] = {
  "NormalRV",   "HalfNormalRV", "MvNormalRV", "CauchyRV",      "HalfCauchyRV",  "StudentTRV",    "LaplaceRV",
  "LogisticRV", "GammaRV",      "InvGammaRV", "ExponentialRV", "BetaRV",        "BinomialRV",    "NegBinomialRV",
  "PoissonRV",  "BernoulliRV",  "UniformRV",  "DirichletRV",   "CategoricalRV", "MultinomialRV",
};
static const int pksim_dist_np[PKSIM_NDIST] = { 2, 2, 2, 2, 2, 3, 2, 2, 2, 2, 1, 2, 2, 2, 1, 1, 2, 1, 1, 2 };

/* ---- values ---------------------------------------------------------------------- */

/* Shape v, growing its buffer when needed. */
void pksim_shape(pksim_val *v, uint32_t rank, const int64_t *dims)
{
  size_t n = 1;
  if (rank > PKSIM_MAXRANK) pko_error("tensor of rank %u: more than %d dimensions", rank, PKSIM_MAXRANK);
  for (uint32_t i = 0; i < rank; i++) {
    v->dims[i] = dims[i];
    n *= (size_t)dims[i];
  }
  v->rank = rank;
  v->n = n;
  if (n > v->cap) {
    free(v->x);
    v->cap = n;
    v->x = pko_xmalloc(n * sizeof(double));
  }
}

/* A fresh copy of src in dst. */
void pksim_copy(pksim_val *dst, const pksim_val *src)
{
  pksim_shape(dst, src->rank, src->dims);
  dst->integer = src->integer;
  memcpy(dst->x, src->x, src->n * sizeof(double));
}

/* A number's value; false when v is not a real number. */
static bool pksim_number(pk_val v, double *d, bool *integer)
{
  if (pko_intp(v)) {
    *d = (double)pko_intval(v);
    *integer = true;
    return true;
  }
  if (pko_isa(v, PK_T_FLONUM)) {
    *d = pko_flo(v);
    *integer = false;
    return true;
  }
  if (pko_isa(v, PK_T_RATIO)) {
    *d = (double)pko_as_ratio(v)->num / (double)pko_as_ratio(v)->den;
    *integer = false;
    return true;
  }
  return false;
}

/* A number or tensor literal into v; false for anything else. */
static bool pksim_literal(pk_val t, pksim_val *v)
{
  double d;
  bool integer;
  if (pksim_number(t, &d, &integer)) {
    pksim_shape(v, 0, NULL);
    v->x[0] = d;
    v->integer = integer;
    return true;
  }
  if (!pko_isa(t, PK_T_TENSOR)) return false;
  const pko_tensor *tt = pko_as_tensor(t);
  pksim_shape(v, tt->rank, tt->dims);
  v->integer = tt->h.aux == PKO_TENSOR_I64;
  for (size_t i = 0; i < v->n; i++) v->x[i] = v->integer ? (double)pko_tensor_i64(tt)[i] : pko_tensor_f64(tt)[i];
  return true;
}

/* ---- broadcasting ------------------------------------------------------------------- */

/* The broadcast shape of vs[0..n) into rank/dims (numpy's rule); false
   when two dimensions differ and neither is 1. */
static bool pksim_bshape(pksim_val *const *vs, int n, uint32_t *rank, int64_t *dims)
{
  uint32_t r = 0;
  for (int i = 0; i < n; i++)
    if (vs[i]->rank > r) r = vs[i]->rank;
  for (uint32_t d = 0; d < r; d++) dims[d] = 1;
  for (int i = 0; i < n; i++)
    for (uint32_t d = 0; d < vs[i]->rank; d++) {
      int64_t k = vs[i]->dims[d], *o = &dims[r - vs[i]->rank + d];
      if (k == *o || k == 1) continue;
      if (*o != 1) return false;
      *o = k;
    }
  *rank = r;
  return true;
}

/* Per-output-dimension strides of v broadcast to rank/dims (0 where v
   repeats). */
static void pksim_bstrides(const pksim_val *v, uint32_t rank, const int64_t *dims, int64_t *st)
{
  int64_t s = 1;
  (void)dims;
  for (uint32_t d = rank; d-- > 0;) {
    uint32_t off = rank - v->rank;
    if (d < off || v->dims[d - off] == 1) {
      st[d] = 0;
    } else {
      st[d] = s;
      s *= v->dims[d - off];
    }
  }
}

/* An iterator over the elements of several values broadcast to one shape:
   idx[k] is the element of value k for the current output element. */
typedef struct pksim_bit {
  int n;
  uint32_t rank;
  int64_t dims[PKSIM_MAXRANK], ctr[PKSIM_MAXRANK];
  int64_t st[8][PKSIM_MAXRANK];
  size_t idx[8];
} pksim_bit;

/* Start it at the first element of the shape rank/dims. */
static void pksim_bit_init(pksim_bit *it, pksim_val *const *vs, int n, uint32_t rank, const int64_t *dims)
{
  it->n = n;
  it->rank = rank;
  memcpy(it->dims, dims, rank * sizeof(int64_t));
  memset(it->ctr, 0, sizeof it->ctr);
  for (int k = 0; k < n; k++) {
    pksim_bstrides(vs[k], rank, dims, it->st[k]);
    it->idx[k] = 0;
  }
}

/* Advance to the next output element (odometer over the dimensions). */
static void pksim_bit_next(pksim_bit *it)
{
  for (uint32_t d = it->rank; d-- > 0;) {
    if (++it->ctr[d] < it->dims[d]) {
      for (int k = 0; k < it->n; k++) it->idx[k] += (size_t)it->st[k][d];
      return;
    }
    it->ctr[d] = 0;
    for (int k = 0; k < it->n; k++) it->idx[k] -= (size_t)(it->st[k][d] * (it->dims[d] - 1));
  }
}

/* Is every value a scalar or of exactly shape rank/dims?  Then element i
   of the result reads element i (or 0) of each: no iterator needed. */
static bool pksim_flat(pksim_val *const *vs, int n, uint32_t rank, const int64_t *dims)
{
  for (int k = 0; k < n; k++)
    if (vs[k]->n != 1 && (vs[k]->rank != rank || memcmp(vs[k]->dims, dims, rank * sizeof(int64_t)))) return false;
  return true;
}

/* ---- sampling ----------------------------------------------------------------------- */

/* A linear scan of SPEC §4's twenty names. */
int pksim_dist_of(const char *op)
{
  for (int d = 0; d < PKSIM_NDIST; d++)
    if (!strcmp(op, pksim_dist_names[d])) return d;
  return -1;
}

const char *pksim_dist_name(pksim_dist d) { return pksim_dist_names[d]; }

/* Are a[] valid parameters of d?  (Out of range, GSL may loop or return
   junk: the draw is NaN instead, which every check fails.) */
static bool pksim_valid(pksim_dist d, const double *a)
{
  switch (d) {
  case PKSIM_NORMAL:
  case PKSIM_HALFNORMAL: return a[1] >= 0;
  case PKSIM_CAUCHY:
  case PKSIM_HALFCAUCHY:
  case PKSIM_LAPLACE:
  case PKSIM_LOGISTIC: return a[1] > 0;
  case PKSIM_GAMMA:
  case PKSIM_INVGAMMA:
  case PKSIM_BETA: return a[0] > 0 && a[1] > 0;
  case PKSIM_STUDENTT: return a[0] > 0 && a[2] > 0;
  case PKSIM_EXPONENTIAL: return a[0] > 0;
  case PKSIM_POISSON: return a[0] >= 0;
  case PKSIM_BINOMIAL:
  case PKSIM_NEGBINOMIAL: return a[0] >= 0 && a[1] >= 0 && a[1] <= 1 && (d == PKSIM_BINOMIAL || a[1] > 0);
  case PKSIM_BERNOULLI: return a[0] >= 0 && a[0] <= 1;
  case PKSIM_UNIFORM: return a[0] < a[1];
  default: return true;
  }
}

/* One scalar draw of d with parameters a[]. */
static double pksim_draw1(pksim_dist d, const double *a, gsl_rng *r)
{
  if (!pksim_valid(d, a)) return NAN;
  switch (d) {
  case PKSIM_NORMAL: return a[0] + a[1] * gsl_ran_gaussian_ziggurat(r, 1.0);
  case PKSIM_HALFNORMAL: return a[0] + fabs(a[1] * gsl_ran_gaussian_ziggurat(r, 1.0));
  case PKSIM_CAUCHY: return a[0] + gsl_ran_cauchy(r, a[1]);
  case PKSIM_HALFCAUCHY: return a[0] + fabs(gsl_ran_cauchy(r, a[1]));
  case PKSIM_STUDENTT: return a[1] + a[2] * gsl_ran_tdist(r, a[0]);
  case PKSIM_LAPLACE: return a[0] + gsl_ran_laplace(r, a[1]);
  case PKSIM_LOGISTIC: return a[0] + gsl_ran_logistic(r, a[1]);
  case PKSIM_GAMMA: return gsl_ran_gamma(r, a[0], 1.0 / a[1]);
  case PKSIM_INVGAMMA: return 1.0 / gsl_ran_gamma(r, a[0], 1.0 / a[1]);
  case PKSIM_EXPONENTIAL: return gsl_ran_exponential(r, 1.0 / a[0]);
  case PKSIM_BETA: return gsl_ran_beta(r, a[0], a[1]);
  case PKSIM_BINOMIAL: return (double)gsl_ran_binomial(r, a[1], (unsigned)a[0]);
  case PKSIM_NEGBINOMIAL: return (double)gsl_ran_negative_binomial(r, a[1], a[0]);
  case PKSIM_POISSON: return (double)gsl_ran_poisson(r, a[0]);
  case PKSIM_BERNOULLI: return (double)gsl_ran_bernoulli(r, a[0]);
  case PKSIM_UNIFORM: return gsl_ran_flat(r, a[0], a[1]);
  default: return NAN;
  }
}

/* A draw of an MvNormal with mean m (k) and covariance c (k x k) into
   out[0..k): Cholesky of c (NaNs when not positive definite). */
static void pksim_mvnormal(const pksim_val *m, const pksim_val *c, double *out, gsl_rng *r)
{
  size_t k = m->n;
  if (m->rank != 1 || c->rank != 2 || (size_t)c->dims[0] != k || (size_t)c->dims[1] != k)
    pko_error("MvNormalRV: mean of shape (k) and covariance (k k) expected");
  double L[k * k], z[k];
  memcpy(L, c->x, k * k * sizeof(double));
  gsl_matrix_view lv = gsl_matrix_view_array(L, k, k);
  if (gsl_linalg_cholesky_decomp1(&lv.matrix)) { /* not positive definite: no draw */
    for (size_t i = 0; i < k; i++) out[i] = NAN;
    return;
  }
  for (size_t i = 0; i < k; i++) z[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
  for (size_t i = 0; i < k; i++) {
    double s = m->x[i];
    for (size_t j = 0; j <= i; j++) s += L[i * k + j] * z[j];
    out[i] = s;
  }
}

/* One draw of a vector distribution (event shape (k)) into out[0..k). */
static void pksim_draw_vec(pksim_dist d, pksim_val *const *p, double *out, gsl_rng *r)
{
  const pksim_val *v = p[d == PKSIM_MULTINOMIAL ? 1 : 0];
  size_t k = v->n;
  double buf[k];
  unsigned cnt[k];
  bool ok = true;
  double tot = 0;
  for (size_t i = 0; d != PKSIM_MVNORMAL && i < k; i++) {
    ok = ok && v->x[i] >= 0 && (d != PKSIM_DIRICHLET || v->x[i] > 0);
    tot += v->x[i];
  }
  if (!ok || (d != PKSIM_MVNORMAL && !(tot > 0)) || (d == PKSIM_MULTINOMIAL && !(p[0]->x[0] >= 0))) {
    for (size_t i = 0; i < (d == PKSIM_CATEGORICAL ? 1 : k); i++) /* invalid parameters: no draw */
      out[i] = NAN;
    return;
  }
  switch (d) {
  case PKSIM_MVNORMAL: pksim_mvnormal(p[0], p[1], out, r); return;
  case PKSIM_DIRICHLET:
    gsl_ran_dirichlet(r, k, v->x, buf);
    memcpy(out, buf, k * sizeof(double));
    return;
  case PKSIM_CATEGORICAL: {
    double s = 0, u;
    for (size_t i = 0; i < k; i++) s += v->x[i];
    u = gsl_rng_uniform(r) * s;
    size_t i = 0;
    while (i + 1 < k && u >= v->x[i]) u -= v->x[i++];
    out[0] = (double)i;
    return;
  }
  case PKSIM_MULTINOMIAL:
    gsl_ran_multinomial(r, k, (unsigned)p[0]->x[0], v->x, cnt);
    for (size_t i = 0; i < k; i++) out[i] = cnt[i];
    return;
  default: return;
  }
}

/* Is d a distribution whose parameters carry an event dimension? */
static bool pksim_vector_dist(pksim_dist d)
{
  return d == PKSIM_MVNORMAL || d == PKSIM_DIRICHLET || d == PKSIM_CATEGORICAL || d == PKSIM_MULTINOMIAL;
}

/* Does d draw counts or categories (an int64 value)? */
static bool pksim_integer_dist(pksim_dist d)
{
  return d == PKSIM_BINOMIAL || d == PKSIM_NEGBINOMIAL || d == PKSIM_POISSON || d == PKSIM_BERNOULLI ||
         d == PKSIM_CATEGORICAL || d == PKSIM_MULTINOMIAL;
}

/* Sample d: a scalar family broadcasts its parameters to SIZE (or to their
   own broadcast shape); a vector family repeats its event SIZE times. */
void pksim_sample(pksim_dist d, pksim_val *const *p, int np, uint32_t size_rank, const int64_t *size, pksim_val *out,
                  gsl_rng *r)
{
  uint32_t rank;
  int64_t dims[PKSIM_MAXRANK];
  out->integer = pksim_integer_dist(d);
  if (pksim_vector_dist(d)) {
    const pksim_val *ev = p[d == PKSIM_MULTINOMIAL ? 1 : 0];
    if (ev->rank != 1) pko_error("%s: a vector parameter expected", pksim_dist_names[d]);
    if (size_rank) memcpy(dims, size, size_rank * sizeof(int64_t)); /* size may be NULL for () */
    rank = size_rank;
    size_t k = d == PKSIM_CATEGORICAL ? 1 : ev->n;
    if (d != PKSIM_CATEGORICAL) dims[rank++] = (int64_t)k;
    pksim_shape(out, rank, dims);
    for (size_t i = 0; i < out->n; i += k) pksim_draw_vec(d, p, out->x + i, r);
    return;
  }
  if (!pksim_bshape(p, np, &rank, dims)) pko_error("%s: parameter shapes do not broadcast", pksim_dist_names[d]);
  if (size_rank) {
    pksim_val sz = { .rank = size_rank };
    memcpy(sz.dims, size, size_rank * sizeof(int64_t));
    pksim_val *both[2] = { &sz, NULL };
    uint32_t r2;
    int64_t d2[PKSIM_MAXRANK];
    both[1] = &(pksim_val){ .rank = rank };
    memcpy(both[1]->dims, dims, rank * sizeof(int64_t));
    if (!pksim_bshape(both, 2, &r2, d2) || r2 != size_rank || memcmp(d2, size, size_rank * sizeof(int64_t)))
      pko_error("%s: parameters do not broadcast to SIZE", pksim_dist_names[d]);
    rank = size_rank;
    memcpy(dims, size, rank * sizeof(int64_t));
  }
  pksim_shape(out, rank, dims);
  double a[3];
  if (pksim_flat(p, np, rank, dims)) {
    for (size_t i = 0; i < out->n; i++) {
      for (int k = 0; k < np; k++) a[k] = p[k]->x[p[k]->n == 1 ? 0 : i];
      out->x[i] = pksim_draw1(d, a, r);
    }
    return;
  }
  pksim_bit it;
  pksim_bit_init(&it, p, np, rank, dims);
  for (size_t i = 0; i < out->n; i++, pksim_bit_next(&it)) {
    for (int k = 0; k < np; k++) a[k] = p[k]->x[it.idx[k]];
    out->x[i] = pksim_draw1(d, a, r);
  }
}

/* The log density of one scalar x under d with parameters a. */
static double pksim_logpdf1(pksim_dist d, const double *a, double x)
{
  switch (d) {
  case PKSIM_NORMAL: {
    double z = (x - a[0]) / a[1];
    return -0.5 * z * z - log(a[1]) - 0.5 * log(2 * M_PI);
  }
  case PKSIM_POISSON: return x * log(a[0]) - a[0] - gsl_sf_lngamma(x + 1);
  case PKSIM_BINOMIAL: return gsl_sf_lnchoose((unsigned)a[0], (unsigned)x) + x * log(a[1]) + (a[0] - x) * log1p(-a[1]);
  case PKSIM_BERNOULLI: return x != 0 ? log(a[0]) : log1p(-a[0]);
  case PKSIM_NEGBINOMIAL:
    return gsl_sf_lngamma(x + a[0]) - gsl_sf_lngamma(a[0]) - gsl_sf_lngamma(x + 1) + a[0] * log(a[1]) +
           x * log1p(-a[1]);
  case PKSIM_EXPONENTIAL: return x < 0 ? -INFINITY : log(a[0]) - a[0] * x;
  case PKSIM_GAMMA: return x <= 0 ? -INFINITY : log(gsl_ran_gamma_pdf(x, a[0], 1.0 / a[1]));
  case PKSIM_BETA: return log(gsl_ran_beta_pdf(x, a[0], a[1]));
  case PKSIM_UNIFORM: return x < a[0] || x > a[1] ? -INFINITY : -log(a[1] - a[0]);
  case PKSIM_CAUCHY: return log(gsl_ran_cauchy_pdf(x - a[0], a[1]));
  case PKSIM_LAPLACE: return log(gsl_ran_laplace_pdf(x - a[0], a[1]));
  case PKSIM_LOGISTIC: return log(gsl_ran_logistic_pdf(x - a[0], a[1]));
  case PKSIM_STUDENTT: return log(gsl_ran_tdist_pdf((x - a[1]) / a[2], a[0])) - log(a[2]);
  default: return NAN;
  }
}

/* The log density of an MvNormal at x[0..k). */
static double pksim_mvnormal_logpdf(const pksim_val *m, const pksim_val *c, const double *x)
{
  size_t k = m->n;
  double L[k * k], dx[k];
  memcpy(L, c->x, k * k * sizeof(double));
  gsl_matrix_view lv = gsl_matrix_view_array(L, k, k);
  if (gsl_linalg_cholesky_decomp1(&lv.matrix)) return NAN;
  double q = 0, ld = 0;
  for (size_t i = 0; i < k; i++) { /* solve L z = x - m */
    double s = x[i] - m->x[i];
    for (size_t j = 0; j < i; j++) s -= L[i * k + j] * dx[j];
    dx[i] = s / L[i * k + i];
    q += dx[i] * dx[i];
    ld += log(L[i * k + i]);
  }
  return -0.5 * q - ld - 0.5 * (double)k * log(2 * M_PI);
}

/* Sum of the log densities of x's elements (or events) under d. */
double pksim_logpdf(pksim_dist d, pksim_val *const *p, int np, const pksim_val *x)
{
  double s = 0;
  if (pksim_vector_dist(d)) {
    const pksim_val *ev = p[d == PKSIM_MULTINOMIAL ? 1 : 0];
    size_t k = d == PKSIM_CATEGORICAL ? 1 : ev->n;
    double tot = 0;
    for (size_t j = 0; j < ev->n; j++) tot += ev->x[j];
    for (size_t i = 0; i + k <= x->n; i += k) {
      if (d == PKSIM_MVNORMAL) {
        s += pksim_mvnormal_logpdf(p[0], p[1], x->x + i);
      } else if (d == PKSIM_CATEGORICAL) {
        size_t c = (size_t)x->x[i];
        s += c < ev->n ? log(ev->x[c] / tot) : -INFINITY;
      } else if (d == PKSIM_DIRICHLET) {
        s += gsl_ran_dirichlet_lnpdf(k, ev->x, x->x + i);
      } else {
        unsigned cnt[k];
        for (size_t j = 0; j < k; j++) cnt[j] = (unsigned)x->x[i + j];
        s += gsl_ran_multinomial_lnpdf(k, ev->x, cnt);
      }
    }
    return s;
  }
  pksim_val *all[4];
  for (int k = 0; k < np; k++) all[k] = p[k];
  pksim_bit it;
  pksim_bit_init(&it, all, np, x->rank, x->dims);
  double a[3];
  for (size_t i = 0; i < x->n; i++, pksim_bit_next(&it)) {
    for (int k = 0; k < np; k++) a[k] = p[k]->x[it.idx[k]];
    s += pksim_logpdf1(d, a, x->x[i]);
  }
  return s;
}

/* ---- deterministic ops --------------------------------------------------------------------- */

/* One element of an elementwise op. */
static double pksim_elem(pksim_op op, const double *a, int n)
{
  double s;
  switch (op) {
  case PKSIM_ADD:
    s = a[0];
    for (int i = 1; i < n; i++) s += a[i];
    return s;
  case PKSIM_MUL:
    s = a[0];
    for (int i = 1; i < n; i++) s *= a[i];
    return s;
  case PKSIM_SUB: return a[0] - a[1];
  case PKSIM_DIV: return a[0] / a[1];
  case PKSIM_POW: return pow(a[0], a[1]);
  case PKSIM_NEG: return -a[0];
  case PKSIM_RECIP: return 1.0 / a[0];
  case PKSIM_SQR: return a[0] * a[0];
  case PKSIM_SQRT: return sqrt(a[0]);
  case PKSIM_EXP: return exp(a[0]);
  case PKSIM_LOG: return log(a[0]);
  default: return NAN;
  }
}

/* The common binary ops on flat operands, one loop each (the hot path of
   a model's draws); false for the others. */
static bool pksim_binary(pksim_op op, const pksim_val *a, const pksim_val *b, pksim_val *out)
{
  size_t n = out->n, sa = a->n != 1, sb = b->n != 1;
  const double *x = a->x, *y = b->x;
  double *o = out->x;
#define PKSIM_LOOP(expr)                                          \
  for (size_t i = 0; i < n; i++) o[i] = x[i * sa] expr y[i * sb]; \
  return true
  switch (op) {
  case PKSIM_ADD: PKSIM_LOOP(+);
  case PKSIM_SUB: PKSIM_LOOP(-);
  case PKSIM_MUL: PKSIM_LOOP(*);
  case PKSIM_DIV: PKSIM_LOOP(/);
  default: return false;
  }
#undef PKSIM_LOOP
}

/* An elementwise op with numpy broadcasting. */
static void pksim_elementwise(pksim_op op, pksim_val *const *a, int n, pksim_val *out)
{
  uint32_t rank;
  int64_t dims[PKSIM_MAXRANK];
  double x[8];
  if (n > 8) pko_error("%s: more than 8 arguments", pksim_op_names[op]);
  if (!pksim_bshape(a, n, &rank, dims)) pko_error("%s: shapes do not broadcast", pksim_op_names[op]);
  bool integer = op == PKSIM_ADD || op == PKSIM_SUB || op == PKSIM_MUL || op == PKSIM_NEG || op == PKSIM_SQR;
  for (int k = 0; k < n; k++) integer = integer && a[k]->integer;
  pksim_shape(out, rank, dims);
  out->integer = integer;
  if (pksim_flat(a, n, rank, dims)) {
    if (n == 2 && pksim_binary(op, a[0], a[1], out)) return;
    for (size_t i = 0; i < out->n; i++) {
      for (int k = 0; k < n; k++) x[k] = a[k]->x[a[k]->n == 1 ? 0 : i];
      out->x[i] = pksim_elem(op, x, n);
    }
    return;
  }
  pksim_bit it;
  pksim_bit_init(&it, a, n, rank, dims);
  for (size_t i = 0; i < out->n; i++, pksim_bit_next(&it)) {
    for (int k = 0; k < n; k++) x[k] = a[k]->x[it.idx[k]];
    out->x[i] = pksim_elem(op, x, n);
  }
}

/* numpy's dot for ranks 0-2. */
static void pksim_dot(const pksim_val *a, const pksim_val *b, pksim_val *out)
{
  if (a->rank == 0 || b->rank == 0) {
    pksim_val *ab[2] = { (pksim_val *)a, (pksim_val *)b };
    pksim_elementwise(PKSIM_MUL, ab, 2, out);
    return;
  }
  if (a->rank > 2 || b->rank > 2) pko_error("dot: rank above 2");
  int64_t m = a->rank == 2 ? a->dims[0] : 1, k = a->dims[a->rank - 1];
  int64_t kb = b->dims[0], n = b->rank == 2 ? b->dims[1] : 1;
  if (k != kb) pko_error("dot: shapes (.., %lld) and (%lld, ..) do not align", (long long)k, (long long)kb);
  int64_t dims[2];
  uint32_t rank = 0;
  if (a->rank == 2) dims[rank++] = m;
  if (b->rank == 2) dims[rank++] = n;
  pksim_shape(out, rank, dims);
  out->integer = a->integer && b->integer;
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t l = 0; l < k; l++) s += a->x[i * k + l] * b->x[l * n + j];
      out->x[i * n + j] = s;
    }
}

/* The inverse of a square matrix (LU); an error when singular. */
static void pksim_inverse(const pksim_val *a, pksim_val *out)
{
  if (a->rank != 2 || a->dims[0] != a->dims[1]) pko_error("matrix_inverse: a square matrix expected");
  size_t k = (size_t)a->dims[0];
  double lu[k * k];
  memcpy(lu, a->x, k * k * sizeof(double));
  pksim_shape(out, 2, a->dims);
  out->integer = false;
  gsl_matrix_view lv = gsl_matrix_view_array(lu, k, k), ov = gsl_matrix_view_array(out->x, k, k);
  gsl_permutation *p = gsl_permutation_alloc(k);
  int sg;
  int st = gsl_linalg_LU_decomp(&lv.matrix, p, &sg) || gsl_linalg_LU_invert(&lv.matrix, p, &ov.matrix);
  gsl_permutation_free(p);
  if (st) pko_error("matrix_inverse: singular matrix");
}

/* x[idx] along the first axis: a scalar index drops it, an index tensor
   gathers (numpy's fancy indexing). */
static void pksim_index(const pksim_val *x, const pksim_val *idx, pksim_val *out)
{
  if (x->rank == 0) pko_error("index: a scalar has no elements");
  size_t inner = x->n / (size_t)x->dims[0];
  int64_t dims[PKSIM_MAXRANK];
  uint32_t rank = idx->rank + x->rank - 1;
  if (rank > PKSIM_MAXRANK) pko_error("index: result of rank above %d", PKSIM_MAXRANK);
  memcpy(dims, idx->dims, idx->rank * sizeof(int64_t));
  memcpy(dims + idx->rank, x->dims + 1, (x->rank - 1) * sizeof(int64_t));
  pksim_shape(out, rank, dims);
  out->integer = x->integer;
  for (size_t i = 0; i < idx->n; i++) {
    int64_t j = (int64_t)idx->x[i];
    if (j < 0) j += x->dims[0];
    if (j < 0 || j >= x->dims[0]) pko_error("index: %lld out of range (%lld)", (long long)j, (long long)x->dims[0]);
    if (inner == 1)
      out->x[i] = x->x[j];
    else
      memcpy(out->x + i * inner, x->x + (size_t)j * inner, inner * sizeof(double));
  }
}

/* Reverse the axes (a matrix's transpose). */
static void pksim_transpose(const pksim_val *a, pksim_val *out)
{
  int64_t dims[PKSIM_MAXRANK], st[PKSIM_MAXRANK], s = 1;
  for (uint32_t d = 0; d < a->rank; d++) dims[d] = a->dims[a->rank - 1 - d];
  for (uint32_t d = a->rank; d-- > 0;) {
    st[a->rank - 1 - d] = s;
    s *= a->dims[d];
  }
  pksim_shape(out, a->rank, dims);
  out->integer = a->integer;
  int64_t ctr[PKSIM_MAXRANK] = { 0 };
  for (size_t i = 0; i < out->n; i++) {
    size_t src = 0;
    for (uint32_t d = 0; d < a->rank; d++) src += (size_t)(ctr[d] * st[d]);
    out->x[i] = a->x[src];
    for (uint32_t d = a->rank; d-- > 0;) {
      if (++ctr[d] < dims[d]) break;
      ctr[d] = 0;
    }
  }
}

/* Apply op to the values of a node's children. */
static void pksim_apply(pksim_op op, pksim_val *const *a, int n, pksim_val *out)
{
  switch (op) {
  case PKSIM_DOT: pksim_dot(a[0], a[1], out); return;
  case PKSIM_TRANSPOSE: pksim_transpose(a[0], out); return;
  case PKSIM_INV: pksim_inverse(a[0], out); return;
  case PKSIM_INDEX: pksim_index(a[0], a[1], out); return;
  case PKSIM_SUM: {
    double s = 0;
    for (size_t i = 0; i < a[0]->n; i++) s += a[0]->x[i];
    pksim_shape(out, 0, NULL);
    out->integer = a[0]->integer;
    out->x[0] = s;
    return;
  }
  case PKSIM_SIZE:
    pksim_shape(out, 0, NULL);
    out->integer = true;
    out->x[0] = (double)a[0]->n;
    return;
  case PKSIM_ZEROS:
  case PKSIM_ONES:
    pksim_shape(out, a[0]->rank, a[0]->dims);
    out->integer = a[0]->integer;
    for (size_t i = 0; i < out->n; i++) out->x[i] = op == PKSIM_ONES;
    return;
  case PKSIM_BINCOUNT: { /* numpy's bincount(x, minlength): counts of 0, 1, ... */
    int64_t len = (int64_t)a[1]->x[0];
    for (size_t i = 0; i < a[0]->n; i++) {
      if (!(a[0]->x[i] >= 0)) pko_error("bincount: a negative or NaN value");
      if ((int64_t)a[0]->x[i] >= len) len = (int64_t)a[0]->x[i] + 1;
    }
    pksim_shape(out, 1, &len);
    out->integer = true;
    memset(out->x, 0, out->n * sizeof(double));
    for (size_t i = 0; i < a[0]->n; i++) out->x[(size_t)a[0]->x[i]] += 1;
    return;
  }
  default: pksim_elementwise(op, a, n, out);
  }
}

/* ---- compiling ------------------------------------------------------------------------- */

/* An open-addressing map from terms to node indices. */
typedef struct pksim_map {
  size_t cap, used;
  pk_val *keys;
  int *vals;
} pksim_map;

static size_t pksim_hash(pk_val k) { return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20); }

/* The value slot of key k, inserted (*found false) when absent; the
   table doubles at half load, so a slot is valid until the next call. */
static int *pksim_map_slot(pksim_map *m, pk_val k, bool *found)
{
  if (2 * (m->used + 1) > m->cap) {
    pksim_map old = *m;
    m->cap = old.cap ? 2 * old.cap : 64;
    m->used = 0;
    m->keys = pko_xzalloc(m->cap, sizeof(pk_val));
    m->vals = pko_xmalloc(m->cap * sizeof(int));
    bool f;
    for (size_t i = 0; i < old.cap; i++)
      if (old.keys[i]) *pksim_map_slot(m, old.keys[i], &f) = old.vals[i];
    free(old.keys);
    free(old.vals);
  }
  size_t i = pksim_hash(k) & (m->cap - 1);
  while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
  *found = m->keys[i] == k;
  if (!*found) m->used++;
  m->keys[i] = k;
  return &m->vals[i];
}

typedef struct pksim_comp {
  pksim_model *m;
  pksim_map map;
  size_t cap;
  pk_val inputs; /* the model's (input ...) forms */
  pk_val *stack; /* DFS: terms ... */
  size_t sp, scap;
} pksim_comp;

/* The (input NAME TYPE [VALUE]) form of name, or 0. */
static pk_val pksim_input(pksim_comp *c, pk_val name)
{
  for (pk_val l = c->inputs; pko_pairp(l); l = pko_cdr(l))
    if (pko_car(pko_cdr(pko_car(l))) == name) return pko_car(l);
  return 0;
}

/* The children of term t that are evaluated (an RV's parameters; the
   args of an op; observed's value and RV), as a list, with *np their
   count; sets the node's kind and code. */
static pk_val pksim_children(pksim_comp *c, pk_val t, pksim_node *nd, int *np)
{
  (void)c;
  pk_val op = pko_car(t), args = pko_cdr(t);
  long len = pko_length(args);
  if (!pko_isa(op, PK_T_SYMBOL) || len < 0) pko_error_val("verify: not a model term", t);
  const char *s = pko_symname(op);
  int d = pksim_dist_of(s);
  if (d >= 0) {
    nd->kind = PKSIM_RV;
    nd->code = d;
    *np = pksim_dist_np[d];
    if (len != *np + 3) pko_error_val("verify: wrong number of arguments", t);
    pk_val rest = args;
    for (int i = 0; i < *np; i++) rest = pko_cdr(rest);
    pk_val size = pko_car(rest), name = pko_car(pko_cdr(pko_cdr(rest)));
    long sr = pko_length(size);
    if (sr < 0 || sr > PKSIM_MAXRANK) pko_error_val("verify: SIZE is not a shape", t);
    nd->size_rank = (uint32_t)sr;
    for (long i = 0; i < sr; i++, size = pko_cdr(size)) {
      if (!pko_intp(pko_car(size))) pko_error_val("verify: SIZE is not a shape", t);
      nd->size[i] = pko_intval(pko_car(size));
    }
    nd->name = pko_isa(name, PK_T_STRING) ? pko_as_str(name)->s : "";
    return args;
  }
  if (!strcmp(s, "observed")) {
    if (len != 2) pko_error_val("verify: observed takes two arguments", t);
    nd->kind = PKSIM_OBSERVED;
    *np = 2;
    return args;
  }
  for (int o = 0; o < PKSIM_NOPS; o++)
    if (!strcmp(s, pksim_op_names[o])) {
      int ar = pksim_op_arity[o];
      if (ar == -2 ? len < 2 : len != ar) pko_error_val("verify: wrong number of arguments", t);
      nd->kind = PKSIM_OP;
      nd->code = o;
      *np = (int)len;
      return args;
    }
  pko_error("verify: unknown operator %s", s);
}

/* Add a node for term t whose children are all compiled. */
static int pksim_add(pksim_comp *c, pk_val t)
{
  pksim_model *m = c->m;
  if (m->n == c->cap) {
    c->cap *= 2;
    m->nodes = pko_xrealloc(m->nodes, c->cap * sizeof(pksim_node));
  }
  pksim_node *nd = &m->nodes[m->n];
  memset(nd, 0, sizeof *nd);
  nd->term = t;
  if (pko_pairp(t)) {
    int np;
    pk_val ch = pksim_children(c, t, nd, &np);
    nd->nargs = np;
    nd->args = pko_xmalloc((size_t)np * sizeof(int));
    nd->random = nd->kind == PKSIM_RV;
    for (int i = 0; i < np; i++, ch = pko_cdr(ch)) {
      bool f;
      nd->args[i] = *pksim_map_slot(&c->map, pko_car(ch), &f);
      nd->random = nd->random || m->nodes[nd->args[i]].random;
    }
  } else {
    nd->kind = PKSIM_CONST;
    pk_val src = t;
    if (pko_isa(t, PK_T_SYMBOL)) {
      pk_val in = pksim_input(c, t);
      if (!in) pko_error("verify: model %s: %s is not an input", m->name, pko_symname(t));
      pk_val rest = pko_cdr(pko_cdr(pko_cdr(in)));
      if (!pko_pairp(rest))
        pko_throw_at(PK_STATUS_STATIC, NULL, "verify: model %s: input %s has no test value", m->name, pko_symname(t));
      src = pko_car(rest);
    }
    if (!pksim_literal(src, &nd->v)) pko_error_val("verify: not a number or tensor", t);
  }
  return (int)m->n++;
}

/* Push t on the compiler's stack (grown by doubling). */
static void pksim_push(pksim_comp *c, pk_val t)
{
  if (c->sp == c->scap) {
    c->scap *= 2;
    c->stack = pko_xrealloc(c->stack, c->scap * sizeof(pk_val));
  }
  c->stack[c->sp++] = t;
}

/* Compile term t (and what it uses) iteratively; its node index. */
static int pksim_term(pksim_comp *c, pk_val t)
{
  bool f;
  pksim_push(c, t);
  while (c->sp) {
    pk_val x = c->stack[c->sp - 1];
    int *slot = pksim_map_slot(&c->map, x, &f);
    if (f && *slot >= 0) {
      c->sp--;
      continue;
    }
    if (!f) *slot = -1; /* visiting */
    bool ready = true;
    if (pko_pairp(x)) {
      int np = 0;
      pksim_node tmp = { 0 };
      pk_val ch = pksim_children(c, x, &tmp, &np);
      for (int i = 0; i < np; i++, ch = pko_cdr(ch)) {
        bool g;
        int *s2 = pksim_map_slot(&c->map, pko_car(ch), &g);
        if (g && *s2 >= 0) continue;
        *s2 = -1; /* pushed again when deeper on the stack: done first */
        ready = false;
        pksim_push(c, pko_car(ch));
      }
    }
    if (!ready) continue;
    int id = pksim_add(c, x);
    *pksim_map_slot(&c->map, x, &f) = id;
    c->sp--;
  }
  return *pksim_map_slot(&c->map, t, &f);
}

/* The inputs gathered, then each output compiled depth first. */
pksim_model *pksim_compile(pk_val mt)
{
  gsl_set_error_handler_off(); /* GSL's default aborts; its status codes are checked */
  if (!pkg_modelp(mt)) pko_error_val("verify: not a model", mt);
  pksim_model *m = pko_xcalloc(1, sizeof *m);
  pksim_comp c = { .m = m, .cap = 16, .scap = 64 };
  m->term = mt;
  m->name = pko_symname(pkg_name(mt));
  m->nodes = pko_xmalloc(c.cap * sizeof(pksim_node));
  c.stack = pko_xmalloc(c.scap * sizeof(pk_val));
  pk_val ins = PK_NIL;
  for (pk_val l = pko_cdr(pko_cdr(mt)); pko_pairp(l); l = pko_cdr(l))
    if (pko_car(pko_car(l)) == pko_sym("input")) ins = pko_cons(pko_car(l), ins);
  c.inputs = ins;
  pk_val outs = pkg_outputs(mt);
  m->nout = (int)pko_length(outs);
  m->outputs = pko_xmalloc((size_t)m->nout * sizeof(int));
  pko_catch k;
  if (PKO_TRY(k)) {
    for (int i = 0; i < m->nout; i++, outs = pko_cdr(outs)) m->outputs[i] = pksim_term(&c, pko_car(outs));
    PKO_END(k);
  } else {
    free(c.map.keys);
    free(c.map.vals);
    free(c.stack);
    pksim_free(m);
    pko_rethrow();
  }
  free(c.map.keys);
  free(c.map.vals);
  free(c.stack);
  return m;
}

/* Every node's buffers, then the model. */
void pksim_free(pksim_model *m)
{
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) {
    free(m->nodes[i].args);
    free(m->nodes[i].v.x);
  }
  free(m->nodes);
  free(m->outputs);
  free(m);
}

/* A linear scan: called while checks are set up, not per draw. */
int pksim_find_rv(const pksim_model *m, const char *name)
{
  for (size_t i = 0; i < m->n; i++)
    if (m->nodes[i].kind == PKSIM_RV && !strcmp(m->nodes[i].name, name)) return (int)i;
  return -1;
}

/* Nodes in dependency order; constants skipped after the first draw. */
void pksim_draw(pksim_model *m, gsl_rng *r)
{
  pksim_val *a[16];
  for (size_t i = 0; i < m->n; i++) {
    pksim_node *nd = &m->nodes[i];
    if (nd->kind == PKSIM_CONST || (m->drawn && !nd->random)) continue;
    if (nd->nargs > 16) pko_error("verify: more than 16 arguments");
    for (int k = 0; k < nd->nargs; k++) a[k] = &m->nodes[nd->args[k]].v;
    if (nd->kind == PKSIM_RV)
      pksim_sample((pksim_dist)nd->code, a, nd->nargs, nd->size_rank, nd->size, &nd->v, r);
    else if (nd->kind == PKSIM_OBSERVED)
      pksim_copy(&nd->v, a[1]);
    else
      pksim_apply((pksim_op)nd->code, a, nd->nargs, &nd->v);
  }
  m->drawn = true;
}

/* By name, for the verifier's own linear algebra (posteriors). */
int pksim_op_apply(const char *op, pksim_val *const *a, int n, pksim_val *out)
{
  for (int o = 0; o < PKSIM_NOPS; o++)
    if (!strcmp(op, pksim_op_names[o])) {
      pksim_apply((pksim_op)o, a, n, out);
      return 0;
    }
  return -1;
}

/* Compares the op's name: for pattern checks, not per draw. */
bool pksim_is_op(const pksim_node *nd, const char *op)
{
  return nd->kind == PKSIM_OP && !strcmp(pksim_op_names[nd->code], op);
}
