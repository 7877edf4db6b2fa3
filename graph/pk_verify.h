/*
** pk_verify.h — numeric checks of a rewrite (SPEC §5 "Verified rewrites"):
** the original and the rewritten model drawn side by side (pk_sim.h).
**
** A re-parameterisation must leave every original random variable
** (matched by NAME, else by its position in the output terms) and every
** output (by position) equal in distribution.  Per element and per sum of
** two elements (neighbours within a variable, first elements of
** consecutive variables): a mean test and a variance test, each the
** self-normalised sum T = sum d / sqrt(sum d^2) of paired differences of
** independent draws (d = a - b; d = (a - c)^2 - (b - c)^2 with c the
** original's first draw), symmetric under equality in distribution, so
** P(|T| > t) <= 2 exp(-t^2/2) for ANY distribution (Efron 1969; heavy
** tails included: Cauchy has no mean); and a two-sample
** Kolmogorov-Smirnov test (asymptotic p-value, Stephens' correction) on a
** few elements and pairs.  A rewrite of an observed output into a random
** variable is a conjugate update: its draws are compared, by the same
** tests, with draws of the exact posterior computed here (the families of
** SPEC §5), and its mean with a self-normalised importance-sampling
** estimate from the original model (prior draws weighted by the
** likelihood of the observed value).  Thresholds: Bonferroni over every
** test of the model at the family-wise false-alarm rate alpha.
** Thread-safety: one call per thread at a time (GSL error handler).
*/
#ifndef PK_VERIFY_H
#define PK_VERIFY_H
#include "pk_obj.h"

#include <stdio.h>

typedef struct pkv_opts {
  long draws;         /* per model and side, >= 100 */
  unsigned long seed; /* GSL mt19937 seed: the original, +1 the rewrite, +2 the posterior */
  double alpha;       /* family-wise false-alarm rate of this model's checks */
  FILE *out;          /* one line per check, then a summary line */
} pkv_opts;

/* Check rewritten (a model term) against original; prints the checks and
   returns how many failed (0: the rewrite passes).  Throws the errors of
   pksim_compile and pksim_draw. */
int pkv_check(pk_val original, pk_val rewritten, const pkv_opts *o);

#endif
