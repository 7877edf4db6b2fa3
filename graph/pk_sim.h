/*
** pk_sim.h — numeric evaluation of models (SPEC §4, §5 "Verified
** rewrites"): a model term compiled to a list of nodes in dependency order,
** then drawn again and again, each draw sampling every random variable once
** (a shared node, one interned term, is one node) and recomputing what
** depends on them.  Inputs take their test values; random variables are
** sampled through GSL with the parameterisation of SPEC §4; the
** deterministic ops work on float64/int64 tensors with numpy broadcasting
** (SPEC §4's list, and numpy's bincount, which relations/stats.scm's
** Dirichlet-Categorical posterior uses).
**
** Values are doubles (an int64 tensor keeps its integer flag; counts are
** exact below 2^53).  A node's buffer is allocated on its first draw and
** reused, so a draw allocates nothing unless a shape changes.
** Thread-safety: a pksim_model belongs to one thread at a time.
*/
#ifndef PK_SIM_H
#define PK_SIM_H
#include "pk_obj.h"

#include <gsl/gsl_rng.h>

#define PKSIM_MAXRANK 8

/* A tensor value (rank 0: a scalar, n == 1). */
typedef struct pksim_val {
  uint32_t rank;
  bool integer;
  int64_t dims[PKSIM_MAXRANK];
  size_t n, cap; /* elements; capacity of x */
  double *x;
} pksim_val;

/* The random variables of SPEC §4, in its order. */
typedef enum pksim_dist {
  PKSIM_NORMAL,
  PKSIM_HALFNORMAL,
  PKSIM_MVNORMAL,
  PKSIM_CAUCHY,
  PKSIM_HALFCAUCHY,
  PKSIM_STUDENTT,
  PKSIM_LAPLACE,
  PKSIM_LOGISTIC,
  PKSIM_GAMMA,
  PKSIM_INVGAMMA,
  PKSIM_EXPONENTIAL,
  PKSIM_BETA,
  PKSIM_BINOMIAL,
  PKSIM_NEGBINOMIAL,
  PKSIM_POISSON,
  PKSIM_BERNOULLI,
  PKSIM_UNIFORM,
  PKSIM_DIRICHLET,
  PKSIM_CATEGORICAL,
  PKSIM_MULTINOMIAL,
  PKSIM_NDIST
} pksim_dist;

typedef enum pksim_kind { PKSIM_CONST, PKSIM_RV, PKSIM_OP, PKSIM_OBSERVED } pksim_kind;

typedef struct pksim_node {
  pk_val term;
  pksim_kind kind;
  int code;           /* pksim_dist for PKSIM_RV, the op for PKSIM_OP */
  int nargs;          /* children: an RV's parameters; observed: value, RV */
  int *args;          /* node indices, all smaller than this node's */
  bool random;        /* an RV, or depends on one */
  const char *name;   /* an RV's NAME */
  uint32_t size_rank; /* an RV's SIZE */
  int64_t size[PKSIM_MAXRANK];
  pksim_val v;
} pksim_node;

typedef struct pksim_model {
  pk_val term;
  const char *name;
  size_t n; /* nodes, in dependency order */
  pksim_node *nodes;
  int nout, *outputs; /* node index of each output */
  bool drawn;         /* the constant nodes are computed */
} pksim_model;

/* The model term m (pkg_modelp) compiled; a malloc'd model to free with
   pksim_free.  An input used without a test value is the static error
   "model NAME: input X has no test value"; an unknown operator or a
   malformed term is a runtime error naming it. */
pksim_model *pksim_compile(pk_val m);
void pksim_free(pksim_model *m);
/* One draw: every random node again (the constant ones on the first
   draw).  Shape errors are runtime errors naming the operator. */
void pksim_draw(pksim_model *m, gsl_rng *r);
/* The index of the first RV node named name, or -1. */
int pksim_find_rv(const pksim_model *m, const char *name);

/* Sample distribution d with parameters p[0..np) into out, shaped by
   SIZE (size_rank 0: the parameters' broadcast shape). */
void pksim_sample(pksim_dist d, pksim_val *const *p, int np, uint32_t size_rank, const int64_t *size, pksim_val *out,
                  gsl_rng *r);
/* The log density (or mass) of x under d with parameters p, summed over
   x's elements (broadcasting the parameters to x). */
double pksim_logpdf(pksim_dist d, pksim_val *const *p, int np, const pksim_val *x);
/* The distribution named by an operator symbol's name, or -1. */
int pksim_dist_of(const char *op);
/* Its name ("NormalRV", ...). */
const char *pksim_dist_name(pksim_dist d);

/* Apply the deterministic op named op (SPEC §4's list) to a[0..n) into
   out; -1 for an unknown name.  Shape errors are runtime errors. */
int pksim_op_apply(const char *op, pksim_val *const *a, int n, pksim_val *out);
/* Is nd the deterministic op named op? */
bool pksim_is_op(const pksim_node *nd, const char *op);

/* Shape v as rank/dims (growing its buffer); v->integer is left as is. */
void pksim_shape(pksim_val *v, uint32_t rank, const int64_t *dims);
/* A fresh copy of src in dst (dst's buffer reused). */
void pksim_copy(pksim_val *dst, const pksim_val *src);

#endif
