/*
** pk_verify.c — numeric checks of a rewrite (pk_verify.h).
*/
#include "pk_verify.h"
#include "pk_graph.h"
#include "pk_sim.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PKV_PAIRS = 64, PKV_KS_ELEMS = 4, PKV_KS_PAIRS = 2 };

/* One tested quantity: the element i1 of a side's value, plus element i2
   of a second value when a pair sum. */
typedef struct pkv_col {
  const pksim_val *a1, *b1, *a2, *b2;
  size_t i1, i2;
  double c, s1, q1, s2, q2; /* centre; sums for the mean and variance tests */
  float *ka, *kb;           /* stored draws for the KS test, or NULL */
} pkv_col;

/* A labelled range of columns (one variable, an output, the pairs across). */
typedef struct pkv_group {
  char label[96];
  size_t first, n, nel; /* columns [first, first+n); nel of them are elements */
} pkv_group;

/* An importance-sampling check of one conjugate posterior. */
typedef struct pkv_is {
  char label[96];
  int prior, lik, obs;   /* original's nodes: P, the likelihood RV, observed */
  const pksim_val *post; /* the rewrite's posterior draws */
  size_t k;
  double maxll, sw, sw2, *swx, *sw2x, *sw2xx, *su, *suu;
} pkv_is;

typedef struct pkv_run {
  const pkv_opts *o;
  pksim_model *a, *b;
  pkv_col *cols;
  size_t ncols, capcols;
  pkv_group *groups;
  size_t ngroups, capgroups;
  pkv_is *is;
  size_t nis;
  pksim_val *posts; /* exact posteriors, sampled each draw */
  struct pkv_exact {
    pksim_dist d;
    pksim_val *par[3];
    int np;
    uint32_t rank;
    int64_t dims[PKSIM_MAXRANK];
  } * exact;
  size_t nexact;
  gsl_rng *g[3]; /* the original's, the rewrite's, the exact posteriors' */
  int failed, checks;
} pkv_run;

/* A new zeroed column (the array grows by doubling: no pointer into it
   survives a call). */
static pkv_col *pkv_addcol(pkv_run *r)
{
  if (r->ncols == r->capcols) {
    r->capcols = r->capcols ? 2 * r->capcols : 64;
    r->cols = pko_xrealloc(r->cols, r->capcols * sizeof(pkv_col));
  }
  pkv_col *c = &r->cols[r->ncols++];
  memset(c, 0, sizeof *c);
  return c;
}

/* A new group starting at the next column. */
static pkv_group *pkv_addgroup(pkv_run *r, const char *label)
{
  if (r->ngroups == r->capgroups) {
    r->capgroups = r->capgroups ? 2 * r->capgroups : 16;
    r->groups = pko_xrealloc(r->groups, r->capgroups * sizeof(pkv_group));
  }
  pkv_group *g = &r->groups[r->ngroups++];
  snprintf(g->label, sizeof g->label, "%s", label);
  g->first = r->ncols;
  g->n = g->nel = 0;
  return g;
}

/* A failed structural check (no draws needed): printed, counted. */
static void pkv_fail(pkv_run *r, const char *fmt, const char *what)
{
  fprintf(r->o->out, "  FAIL  ");
  fprintf(r->o->out, fmt, what);
  fputc('\n', r->o->out);
  r->failed++;
  r->checks++;
}

/* Compare value a (original side) with b (rewritten side) element by
   element; both must have one shape (checked after the first draw). */
static void pkv_compare(pkv_run *r, const char *label, const pksim_val *a, const pksim_val *b)
{
  pkv_group *g = pkv_addgroup(r, label);
  size_t n = a->n;
  if (a->rank != b->rank || a->n != b->n || memcmp(a->dims, b->dims, a->rank * sizeof(int64_t))) {
    r->ngroups--;
    pkv_fail(r, "shape  %s: the rewrite's shape differs", label);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    pkv_col *c = pkv_addcol(r);
    c->a1 = a, c->b1 = b, c->i1 = i;
  }
  g->nel = n;
  for (size_t i = 0; i + 1 < n && i < PKV_PAIRS; i++) {
    pkv_col *c = pkv_addcol(r);
    c->a1 = c->a2 = a, c->b1 = c->b2 = b, c->i1 = i, c->i2 = i + 1;
  }
  g->n = r->ncols - g->first;
}

/* The pairs across consecutive groups: element 0 of one plus element 0
   of the next (a broken dependence between two variables). */
static void pkv_cross(pkv_run *r)
{
  size_t ng = r->ngroups;
  if (ng < 2) return;
  pkv_group *g = pkv_addgroup(r, "pairs across variables");
  for (size_t k = 0; k + 1 < ng; k++) {
    pkv_col x = r->cols[r->groups[k].first], y = r->cols[r->groups[k + 1].first];
    pkv_col *c = pkv_addcol(r);
    c->a1 = x.a1, c->b1 = x.b1, c->a2 = y.a1, c->b2 = y.b1;
  }
  g = &r->groups[r->ngroups - 1];
  g->n = r->ncols - g->first;
}

/* The rewritten node of term t: the node whose term is t, or -1. */
static int pkv_node_of(const pksim_model *m, pk_val t)
{
  for (size_t i = 0; i < m->n; i++)
    if (m->nodes[i].term == t) return (int)i;
  return -1;
}

static void pkv_align(const pksim_model *a, const pksim_model *b, pk_val x, pk_val y, int *pos);

/* The k-th element of list l, or 0. */
static pk_val pkv_nth(pk_val l, int k)
{
  for (; k > 0 && pko_pairp(l); k--) l = pko_cdr(l);
  return pko_pairp(l) ? pko_car(l) : 0;
}

/* x non-centred into y = (add LOC (mul SCALE OFFSET)): x's location and
   scale (StudentT's second and third arguments, else the first two) are
   LOC and SCALE, themselves perhaps rewritten (a non-centred mean). */
static void pkv_align_offset(const pksim_model *a, const pksim_model *b, pk_val x, pk_val y, int *pos)
{
  pk_val m = pkv_nth(y, 2);
  if (!pko_pairp(x) || !pko_pairp(y) || pko_car(y) != pko_sym("add") || pko_length(y) != 3 || !m || !pko_pairp(m) ||
      pko_car(m) != pko_sym("mul") || pko_length(m) != 3)
    return;
  int k = pko_car(x) == pko_sym("StudentTRV") ? 2 : 1;
  pk_val loc = pkv_nth(x, k), scale = pkv_nth(x, k + 1);
  if (loc && scale) {
    pkv_align(a, b, loc, pkv_nth(y, 1), pos);
    pkv_align(a, b, scale, pkv_nth(m, 1), pos);
  }
}

/* Walk original term x and rewritten term y in parallel: where they
   differ in operator or arity, x's node maps to y's (*pos[x] = y), and a
   non-centred x's location and scale to their places in y. */
static void pkv_align(const pksim_model *a, const pksim_model *b, pk_val x, pk_val y, int *pos)
{
  int ix = pkv_node_of(a, x);
  if (ix < 0 || pos[ix] >= 0) return;
  int iy = pkv_node_of(b, y);
  pos[ix] = iy;
  if (!pko_pairp(x) || !pko_pairp(y) || pko_car(x) != pko_car(y) || pko_length(x) != pko_length(y)) {
    pkv_align_offset(a, b, x, y, pos);
    return;
  }
  const pksim_node *nx = &a->nodes[ix];
  pk_val ax = pko_cdr(x), ay = pko_cdr(y);
  for (int i = 0; i < nx->nargs; i++, ax = pko_cdr(ax), ay = pko_cdr(ay))
    pkv_align(a, b, pko_car(ax), pko_car(ay), pos);
}

/* Add the sums of y's elements (and counts) into the posterior
   parameters of prior element j(i) = (P scalar ? 0 : i). */
static bool pkv_conj_scalar(pkv_run *r, struct pkv_exact *e, pksim_node *P, pksim_node *L, const pksim_val *y)
{
  pksim_model *a = r->a;
  pksim_val *pp[3] = { &a->nodes[P->args[0]].v, &a->nodes[P->args[1]].v, NULL };
  size_t k = P->v.n;
  if (k != 1 && k != y->n) return false;
  double *s0 = pko_xcalloc(k, sizeof(double)), *s1 = pko_xcalloc(k, sizeof(double));
  pksim_val *lp[3];
  int pi = -1; /* which likelihood parameter is P */
  for (int i = 0; i < L->nargs; i++) {
    lp[i] = &a->nodes[L->args[i]].v;
    if (&a->nodes[L->args[i]] == P) pi = i;
  }
  pksim_dist ld = (pksim_dist)L->code, pd = (pksim_dist)P->code;
  bool ok = pi >= 0;
  for (size_t i = 0; ok && i < y->n; i++) {
    size_t j = k == 1 ? 0 : i;
    /* the other likelihood parameter at element i (broadcast from the left) */
    const pksim_val *o = L->nargs == 2 ? lp[1 - pi] : NULL;
    double ov = o ? o->x[o->n == 1 ? 0 : i % o->n] : 0, yi = y->x[i];
    if (o && o->n != 1 && o->n != y->n) ok = false;
    if (pd == PKSIM_NORMAL && ld == PKSIM_NORMAL && pi == 0) {
      s0[j] += 1 / (ov * ov), s1[j] += yi / (ov * ov);
    } else if (pd == PKSIM_GAMMA && ld == PKSIM_POISSON) {
      s0[j] += yi, s1[j] += 1;
    } else if (pd == PKSIM_BETA && ld == PKSIM_BINOMIAL && pi == 1) {
      s0[j] += yi, s1[j] += ov - yi;
    } else if (pd == PKSIM_BETA && ld == PKSIM_BERNOULLI) {
      s0[j] += yi, s1[j] += 1 - yi;
    } else if (pd == PKSIM_BETA && ld == PKSIM_NEGBINOMIAL && pi == 1) {
      s0[j] += ov, s1[j] += yi;
    } else {
      ok = false;
    }
  }
  if (ok) {
    e->d = pd, e->np = 2, e->rank = P->v.rank;
    memcpy(e->dims, P->v.dims, sizeof e->dims);
    for (int q = 0; q < 2; q++) {
      e->par[q] = pko_xcalloc(1, sizeof(pksim_val));
      pksim_shape(e->par[q], P->v.rank, P->v.dims);
    }
    for (size_t j = 0; j < k; j++) {
      double p0 = pp[0]->x[pp[0]->n == 1 ? 0 : j], p1 = pp[1]->x[pp[1]->n == 1 ? 0 : j];
      if (pd == PKSIM_NORMAL) {
        double prec = 1 / (p1 * p1) + s0[j];
        e->par[0]->x[j] = (p0 / (p1 * p1) + s1[j]) / prec;
        e->par[1]->x[j] = sqrt(1 / prec);
      } else {
        e->par[0]->x[j] = p0 + s0[j];
        e->par[1]->x[j] = p1 + s1[j];
      }
    }
  }
  free(s0), free(s1);
  return ok;
}

/* The exact posterior of prior P given observed y under likelihood L (the
   families of SPEC §5) into e; false when the checker knows no closed form
   (or a hyperparameter is itself random). */
static bool pkv_conj(pkv_run *r, struct pkv_exact *e, int ip, int il, const pksim_val *y)
{
  pksim_model *a = r->a;
  pksim_node *P = &a->nodes[ip], *L = &a->nodes[il];
  for (int i = 0; i < P->nargs; i++)
    if (a->nodes[P->args[i]].random) return false;
  for (int i = 0; i < L->nargs; i++)
    if (L->args[i] != ip && a->nodes[L->args[i]].random && !pksim_is_op(&a->nodes[L->args[i]], "dot")) return false;
  pksim_dist pd = (pksim_dist)P->code, ld = (pksim_dist)L->code;
  if (pd == PKSIM_MVNORMAL && ld == PKSIM_MVNORMAL) {
    pksim_node *mean = &a->nodes[L->args[0]];
    if (!pksim_is_op(mean, "dot") || mean->args[1] != ip || a->nodes[mean->args[0]].random ||
        a->nodes[L->args[1]].random)
      return false;
    pksim_val *F = &a->nodes[mean->args[0]].v, *V = &a->nodes[L->args[1]].v;
    pksim_val *m0 = &a->nodes[P->args[0]].v, *R = &a->nodes[P->args[1]].v;
    pksim_val t[10] = { 0 };
    pksim_val *yv = (pksim_val *)y;
    /* S = V + F R F', K = R F' S^-1, mean = a + K (y - F a), cov = R - K S K' */
    pksim_op_apply("transpose", (pksim_val *[]){ F }, 1, &t[0]);
    pksim_op_apply("dot", (pksim_val *[]){ R, &t[0] }, 2, &t[1]);
    pksim_op_apply("dot", (pksim_val *[]){ F, &t[1] }, 2, &t[2]);
    pksim_op_apply("add", (pksim_val *[]){ V, &t[2] }, 2, &t[3]);
    pksim_op_apply("matrix_inverse", (pksim_val *[]){ &t[3] }, 1, &t[4]);
    pksim_op_apply("dot", (pksim_val *[]){ &t[1], &t[4] }, 2, &t[5]);
    pksim_op_apply("dot", (pksim_val *[]){ F, m0 }, 2, &t[6]);
    pksim_op_apply("sub", (pksim_val *[]){ yv, &t[6] }, 2, &t[7]);
    e->par[0] = pko_xcalloc(1, sizeof(pksim_val));
    e->par[1] = pko_xcalloc(1, sizeof(pksim_val));
    pksim_op_apply("dot", (pksim_val *[]){ &t[5], &t[7] }, 2, &t[8]);
    pksim_op_apply("add", (pksim_val *[]){ m0, &t[8] }, 2, e->par[0]);
    /* K S K' = K (F R), F R = (R F')' (R symmetric) */
    pksim_op_apply("transpose", (pksim_val *[]){ &t[1] }, 1, &t[2]);
    pksim_op_apply("dot", (pksim_val *[]){ &t[5], &t[2] }, 2, &t[9]);
    pksim_op_apply("sub", (pksim_val *[]){ R, &t[9] }, 2, e->par[1]);
    for (int i = 0; i < 10; i++) free(t[i].x);
    e->d = PKSIM_MVNORMAL, e->np = 2, e->rank = 0;
    return true;
  }
  if (pd == PKSIM_DIRICHLET && (ld == PKSIM_CATEGORICAL || ld == PKSIM_MULTINOMIAL)) {
    if (L->args[ld == PKSIM_MULTINOMIAL ? 1 : 0] != ip) return false;
    pksim_val *al = &a->nodes[P->args[0]].v;
    size_t k = al->n;
    e->par[0] = pko_xcalloc(1, sizeof(pksim_val));
    pksim_copy(e->par[0], al);
    e->par[0]->integer = false;
    for (size_t i = 0; i < y->n; i++) {
      if (ld == PKSIM_CATEGORICAL) {
        size_t c = (size_t)y->x[i];
        if (c < k) e->par[0]->x[c] += 1;
      } else {
        e->par[0]->x[i % k] += y->x[i];
      }
    }
    e->d = PKSIM_DIRICHLET, e->np = 1, e->rank = 0;
    return true;
  }
  return pkv_conj_scalar(r, e, P, L, y);
}

/* Set up the checks of one conjugate output: original observed node io,
   rewritten node ib (an RV named like the prior). */
static void pkv_conjugate(pkv_run *r, int io, int ib, const char *pos)
{
  pksim_node *O = &r->a->nodes[io], *B = &r->b->nodes[ib];
  char label[96];
  if (B->kind != PKSIM_RV) {
    pkv_fail(r, "conj   %s: an observed output rewritten into something that is not a random variable", pos);
    return;
  }
  int ip = pksim_find_rv(r->a, B->name), il = O->args[1];
  if (ip < 0) {
    pkv_fail(r, "conj   %s: no prior of that name in the original", B->name);
    return;
  }
  struct pkv_exact *e = &r->exact[r->nexact];
  memset(e, 0, sizeof *e);
  const pksim_val *y = &r->a->nodes[O->args[0]].v;
  if (pkv_conj(r, e, ip, il, y)) {
    snprintf(label, sizeof label, "posterior %s vs exact %s", B->name, pksim_dist_name(e->d));
    r->posts[r->nexact].rank = 0;
    pksim_sample(e->d, e->par, e->np, e->rank, e->dims, &r->posts[r->nexact], r->g[2]);
    pkv_compare(r, label, &B->v, &r->posts[r->nexact]);
    r->nexact++;
  } else {
    fprintf(r->o->out, "  note  posterior %s: no closed form known to the checker; importance sampling only\n",
            B->name);
  }
  pkv_is *s = &r->is[r->nis++];
  memset(s, 0, sizeof *s);
  snprintf(s->label, sizeof s->label, "posterior %s vs importance sampling", B->name);
  s->prior = ip, s->lik = il, s->obs = O->args[0], s->post = &B->v, s->k = B->v.n;
  s->maxll = -INFINITY;
  s->swx = pko_xcalloc(s->k, sizeof(double)), s->sw2x = pko_xcalloc(s->k, sizeof(double));
  s->sw2xx = pko_xcalloc(s->k, sizeof(double)), s->su = pko_xcalloc(s->k, sizeof(double));
  s->suu = pko_xcalloc(s->k, sizeof(double));
}

/* One draw of the importance-sampling accumulators (weights rescaled
   when the largest log-likelihood grows). */
static void pkv_is_step(pkv_run *r, pkv_is *s)
{
  pksim_node *L = &r->a->nodes[s->lik];
  pksim_val *p[3];
  for (int i = 0; i < L->nargs; i++) p[i] = &r->a->nodes[L->args[i]].v;
  double ll = pksim_logpdf((pksim_dist)L->code, p, L->nargs, &r->a->nodes[s->obs].v);
  const pksim_val *x = &r->a->nodes[s->prior].v;
  for (size_t j = 0; j < s->k; j++) {
    double u = s->post->x[j];
    s->su[j] += u, s->suu[j] += u * u;
  }
  if (!(ll > -INFINITY)) return;
  if (ll > s->maxll) {
    double f = s->maxll == -INFINITY ? 0 : exp(s->maxll - ll);
    s->sw *= f, s->sw2 *= f * f;
    for (size_t j = 0; j < s->k; j++) s->swx[j] *= f, s->sw2x[j] *= f * f, s->sw2xx[j] *= f * f;
    s->maxll = ll;
  }
  double w = exp(ll - s->maxll);
  s->sw += w, s->sw2 += w * w;
  for (size_t j = 0; j < s->k && j < x->n; j++) {
    double v = x->x[j];
    s->swx[j] += w * v, s->sw2x[j] += w * w * v, s->sw2xx[j] += w * w * v * v;
  }
}

/* Accumulate one draw into every column. */
static void pkv_step(pkv_run *r, long t)
{
  for (size_t i = 0; i < r->ncols; i++) {
    pkv_col *c = &r->cols[i];
    double a = c->a1->x[c->i1], b = c->b1->x[c->i1];
    if (c->a2) a += c->a2->x[c->i2], b += c->b2->x[c->i2];
    if (c->ka) c->ka[t] = (float)a, c->kb[t] = (float)b;
    if (t == 0) {
      c->c = a;
      continue;
    }
    double d = a - b, e = (a - c->c) * (a - c->c) - (b - c->c) * (b - c->c);
    c->s1 += d, c->q1 += d * d, c->s2 += e, c->q2 += e * e;
  }
}

/* qsort order of floats. */
static int pkv_cmpf(const void *x, const void *y)
{
  float a = *(const float *)x, b = *(const float *)y;
  return (a > b) - (a < b);
}

/* The two-sample KS statistic of sorted samples of n each (ties advance
   both samples together); 1 when either holds a NaN (invalid parameters). */
static double pkv_ks_stat(const float *a, const float *b, size_t n)
{
  size_t i = 0, j = 0;
  double d = 0;
  for (size_t k = 0; k < n; k++)
    if (isnan(a[k]) || isnan(b[k])) return 1; /* no draw: as far apart as can be */
  while (i < n && j < n) {
    float v = a[i] < b[j] ? a[i] : b[j];
    while (i < n && a[i] == v) i++;
    while (j < n && b[j] == v) j++;
    double f = fabs((double)i - (double)j) / (double)n;
    if (f > d) d = f;
  }
  return d;
}

/* The asymptotic p-value of D for effective size ne (Kolmogorov's series
   with Stephens' small-sample correction, as Numerical Recipes). */
static double pkv_ks_p(double d, double ne)
{
  double sq = sqrt(ne), l = (sq + 0.12 + 0.11 / sq) * d, s = 0, sign = 1;
  if (l < 0.3) return 1.0;
  for (int k = 1; k <= 100; k++) {
    double term = sign * 2 * exp(-2.0 * k * k * l * l);
    s += term;
    if (fabs(term) < 1e-12 * fabs(s)) break;
    sign = -sign;
  }
  return s < 0 ? 0 : s > 1 ? 1 : s;
}

/* The index text of column c within group g (element or pair). */
static void pkv_colname(const pkv_group *g, size_t ci, char *buf, size_t len)
{
  size_t k = ci - g->first;
  if (k < g->nel)
    snprintf(buf, len, "[%zu]", k);
  else if (!strcmp(g->label, "pairs across variables"))
    snprintf(buf, len, "pair %zu", k);
  else
    snprintf(buf, len, "[%zu]+[%zu]", k - g->nel, k - g->nel + 1);
}

/* Print the line of one test over a group: worst statistic vs threshold. */
static void pkv_report(pkv_run *r, const char *kind, const pkv_group *g, double worst, size_t at, double thr, bool bad,
                       const char *stat)
{
  char where[48];
  pkv_colname(g, at, where, sizeof where);
  fprintf(r->o->out, "  %-4s  %-6s %s (%zu tested): %s %.4g at %s, threshold %.4g\n", bad ? "FAIL" : "ok", kind,
          g->label, g->n, stat, worst, where, thr);
  r->checks++;
  if (bad) r->failed++;
}

/* The mean, variance and KS tests of every group at per-test level ae. */
static void pkv_finish_groups(pkv_run *r, double ae, long n)
{
  double tthr = sqrt(2 * log(2 / ae));
  for (size_t gi = 0; gi < r->ngroups; gi++) {
    const pkv_group *g = &r->groups[gi];
    if (!g->n) continue;
    double wm = 0, wv = 0, wk = 0, pk = 1;
    size_t am = g->first, av = g->first, ak = g->first;
    bool ks = false;
    for (size_t ci = g->first; ci < g->first + g->n; ci++) {
      pkv_col *c = &r->cols[ci];
      double tm = c->q1 > 0 ? fabs(c->s1) / sqrt(c->q1) : 0, tv = c->q2 > 0 ? fabs(c->s2) / sqrt(c->q2) : 0;
      if (!isfinite(c->q1) || !isfinite(c->q2)) tm = tv = INFINITY;
      if (tm > wm) wm = tm, am = ci;
      if (tv > wv) wv = tv, av = ci;
      if (c->ka) {
        qsort(c->ka, (size_t)n, sizeof(float), pkv_cmpf);
        qsort(c->kb, (size_t)n, sizeof(float), pkv_cmpf);
        double d = pkv_ks_stat(c->ka, c->kb, (size_t)n), p = pkv_ks_p(d, n / 2.0);
        if (!ks || p < pk) pk = p, wk = d, ak = ci;
        ks = true;
      }
    }
    pkv_report(r, "mean", g, wm, am, tthr, !(wm <= tthr), "max |T|");
    pkv_report(r, "var", g, wv, av, tthr, !(wv <= tthr), "max |T|");
    if (ks) {
      char stat[64];
      snprintf(stat, sizeof stat, "D %.4g, min p", wk);
      pkv_report(r, "ks", g, pk, ak, ae, !(pk >= ae), stat);
    }
  }
}

/* The importance-sampling comparisons: z of the rewrite's mean against the
   weighted prior mean, with both standard errors. */
static void pkv_finish_is(pkv_run *r, double ae, long n)
{
  double zthr = gsl_cdf_ugaussian_Qinv(ae / 2);
  for (size_t i = 0; i < r->nis; i++) {
    pkv_is *s = &r->is[i];
    double ess = s->sw > 0 ? s->sw * s->sw / s->sw2 : 0, worst = 0;
    size_t at = 0;
    if (ess < 100) {
      fprintf(r->o->out, "  FAIL  is     %s: effective sample size %.1f below 100 (more draws needed)\n", s->label,
              ess);
      r->failed++;
      r->checks++;
      continue;
    }
    for (size_t j = 0; j < s->k; j++) {
      double m = s->swx[j] / s->sw, mu = s->su[j] / (double)n, vu = s->suu[j] / (double)n - mu * mu;
      double vis = (s->sw2xx[j] - 2 * m * s->sw2x[j] + m * m * s->sw2) / (s->sw * s->sw);
      double z = fabs(mu - m) / sqrt(vu / (double)n + (vis > 0 ? vis : 0));
      if (!(z <= worst)) worst = z, at = j;
    }
    bool bad = !(worst <= zthr);
    fprintf(r->o->out, "  %-4s  is     %s (%zu tested, ESS %.0f): max |z| %.4g at [%zu], threshold %.4g\n",
            bad ? "FAIL" : "ok", s->label, s->k, ess, worst, at, zthr);
    r->checks++;
    if (bad) r->failed++;
  }
}

/* Choose the columns whose draws are kept for KS: a few evenly spaced
   elements and the first pairs of each group. */
static void pkv_pick_ks(pkv_run *r, long n)
{
  for (size_t gi = 0; gi < r->ngroups; gi++) {
    pkv_group *g = &r->groups[gi];
    size_t ne = g->nel < PKV_KS_ELEMS ? g->nel : PKV_KS_ELEMS, np = g->n - g->nel;
    if (np > PKV_KS_PAIRS) np = PKV_KS_PAIRS;
    for (size_t k = 0; k < ne + np; k++) {
      size_t ci = k < ne ? g->first + (ne > 1 ? k * (g->nel - 1) / (ne - 1) : 0) : g->first + g->nel + (k - ne);
      pkv_col *c = &r->cols[ci];
      if (c->ka) continue;
      c->ka = pko_xmalloc((size_t)n * sizeof(float));
      c->kb = pko_xmalloc((size_t)n * sizeof(float));
    }
  }
}

/* Set up every check after the first draw (shapes known). */
static void pkv_setup(pkv_run *r)
{
  pksim_model *a = r->a, *b = r->b;
  char label[128];
  bool *conj = pko_xcalloc((size_t)a->nout + 1, sizeof(bool));
  bool *live = pko_xcalloc(a->n, sizeof(bool));
  int *pos = pko_xmalloc(a->n * sizeof(int));
  for (size_t i = 0; i < a->n; i++) pos[i] = -1;
  if (a->nout != b->nout) pkv_fail(r, "output count differs%s", "");
  int nout = a->nout < b->nout ? a->nout : b->nout;
  r->exact = pko_xcalloc((size_t)nout + 1, sizeof *r->exact);
  r->posts = pko_xcalloc((size_t)nout + 1, sizeof(pksim_val));
  r->is = pko_xcalloc((size_t)nout + 1, sizeof(pkv_is));
  for (int i = 0; i < nout; i++) {
    pksim_node *x = &a->nodes[a->outputs[i]], *y = &b->nodes[b->outputs[i]];
    snprintf(label, sizeof label, "output %d", i);
    if (x->kind == PKSIM_OBSERVED && y->kind != PKSIM_OBSERVED) {
      conj[i] = true;
      pkv_conjugate(r, a->outputs[i], b->outputs[i], label);
    } else {
      live[a->outputs[i]] = true;
      pkv_align(a, b, x->term, y->term, pos);
    }
  }
  for (size_t i = a->n; i-- > 0;)
    if (live[i])
      for (int k = 0; k < a->nodes[i].nargs; k++) live[a->nodes[i].args[k]] = true;
  for (size_t i = 0; i < a->n; i++) {
    pksim_node *x = &a->nodes[i];
    if (x->kind != PKSIM_RV || !live[i]) continue;
    int j = pksim_find_rv(b, x->name);
    if (j < 0) j = pos[i];
    snprintf(label, sizeof label, "rv %s", x->name);
    if (j < 0)
      pkv_fail(r, "match  %s: no counterpart in the rewrite", label);
    else
      pkv_compare(r, label, &x->v, &b->nodes[j].v);
  }
  for (int i = 0; i < nout; i++) /* an RV output, or an observed one's RV, is compared above */
    if (!conj[i] && a->nodes[a->outputs[i]].kind != PKSIM_OBSERVED && a->nodes[a->outputs[i]].kind != PKSIM_RV) {
      snprintf(label, sizeof label, "output %d", i);
      pkv_compare(r, label, &a->nodes[a->outputs[i]].v, &b->nodes[b->outputs[i]].v);
    }
  pkv_cross(r);
  free(conj), free(live), free(pos);
}

/* Everything pkv_check allocated, also after an error part way. */
static void pkv_free(pkv_run *r)
{
  for (size_t i = 0; i < r->ncols; i++) free(r->cols[i].ka), free(r->cols[i].kb);
  free(r->cols), free(r->groups);
  for (size_t i = 0; i < r->nis; i++) {
    pkv_is *s = &r->is[i];
    free(s->swx), free(s->sw2x), free(s->sw2xx), free(s->su), free(s->suu);
  }
  free(r->is);
  for (size_t i = 0; r->exact && i < r->nexact; i++) {
    for (int k = 0; k < r->exact[i].np; k++)
      if (r->exact[i].par[k]) free(r->exact[i].par[k]->x), free(r->exact[i].par[k]);
    free(r->posts[i].x);
  }
  free(r->exact), free(r->posts);
  pksim_free(r->a), pksim_free(r->b);
}

/* First draw, set-up (shapes are known then), the remaining draws, the
   verdicts.  Cost: draws x (both models + the tested columns). */
int pkv_check(pk_val original, pk_val rewritten, const pkv_opts *o)
{
  pkv_run r = { .o = o };
  gsl_rng **g = r.g;
  long n = o->draws;
  pko_catch k;
  if (!PKO_TRY(k)) {
    for (int i = 0; i < 3; i++)
      if (g[i]) gsl_rng_free(g[i]);
    pkv_free(&r);
    pko_rethrow();
  }
  r.a = pksim_compile(original);
  r.b = pksim_compile(rewritten);
  for (int i = 0; i < 3; i++) {
    g[i] = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g[i], o->seed + (unsigned long)i);
  }
  fprintf(o->out, "model %s: %ld draws, seed %lu\n", r.a->name, n, o->seed);
  pksim_draw(r.a, g[0]);
  pksim_draw(r.b, g[1]);
  pkv_setup(&r);
  pkv_pick_ks(&r, n);
  size_t nks = 0;
  for (size_t i = 0; i < r.ncols; i++) nks += r.cols[i].ka != NULL;
  size_t ntests = 2 * r.ncols + nks;
  for (size_t i = 0; i < r.nis; i++) ntests += r.is[i].k;
  double ae = o->alpha / (double)(ntests ? ntests : 1);
  for (long t = 0; t < n; t++) {
    if (t) {
      pksim_draw(r.a, g[0]);
      pksim_draw(r.b, g[1]);
    }
    for (size_t i = 0; i < r.nexact; i++) {
      struct pkv_exact *e = &r.exact[i];
      pksim_sample(e->d, e->par, e->np, e->rank, e->dims, &r.posts[i], g[2]);
    }
    pkv_step(&r, t);
    for (size_t i = 0; i < r.nis; i++) pkv_is_step(&r, &r.is[i]);
    if ((t & 1023) == 0) pko_poll();
  }
  pkv_finish_groups(&r, ae, n);
  pkv_finish_is(&r, ae, n);
  fprintf(o->out, "%s %s: %d of %d checks failed (%zu tests, Bonferroni at family-wise %.3g: %.3g each)\n",
          r.failed ? "FAIL" : "ok", r.a->name, r.failed, r.checks, ntests, o->alpha, ae);
  int failed = r.failed;
  PKO_END(k);
  for (int i = 0; i < 3; i++) gsl_rng_free(g[i]);
  pkv_free(&r);
  return failed;
}
