/*
** pk_math.h — a model in mathematical notation (`pkanren print`), as
** symbolic-pymc's tt_pprint shows a graph, or as LaTeX (tt_tprint).
**
** Text, one line per declaration or random variable, each indented by two
** spaces under a header line "NAME:":
**   a in R^2                    an input: R (float64), Z (int64) or {0,1}
**   R in R^(2 x 2)              (bool); dimensions, symbols as written,
**   m0 in R                     joined by " x ", parenthesized when two or more
**   a = [1.0, 0.0]              its test value (PKMATH_VALUES), after it
**   beta ~ N(a, R)              a random variable, named by its NAME string
**   Y ~ N((F * beta), V) = [-3.0]   observed, with the value after "="
**   z = (x + y)                 a define naming a node, or a node used twice
**   (x + y)                     an output that is neither of these
** in the order a depth-first, left-to-right walk of the outputs finishes
** the nodes, so every name is defined on a line above its uses.
**
** Notation (tt_pprint's): every infix application in parentheses, add +,
** sub -, mul and dot *, true_div /, pow **, neg (-x), transpose x.T, index
** x[i, j], other operators as calls (exp(x), matrix_inverse(x), sqr(x));
** distributions by symbolic-pymc's print names (N, N**+, C, C**+, Gamma,
** InvGamma, Exp, Beta, Binom, NB, Pois, Bern, U, Dir, Cat, MN; StudentT,
** Laplace and Logistic, which it lacks, by those names), NormalRV's second
** parameter (a standard deviation) squared as tt_pprint does: N(mu, s**2);
** a non-empty SIZE as " in R^85" on a univariate variable, " with size 3"
** on a multivariate one (whose own dimensions need shape inference); an
** unnamed random variable or shared node takes the first free one-letter
** name (a..z, A..Z), then _1, _2, ...  Literals print inline: tensors
** nested [[1.0, 0.0], [0.0, 1.0]].
**
** LaTeX (PKMATH_LATEX): "% NAME" and an align* environment with one
** aligned line per text line (&\in \mathbb{R}^{2 \times 2}, &\sim
** \operatorname{N}(a, R), &=), tt_tprint's operators (mul \odot, dot \;,
** \frac, {x}^{y}, {x}^{\top}, {x}^{-1}, \sqrt{x}), tensors as bmatrix;
** names: a Greek letter's name as its macro (beta -> \beta), one letter or
** Greek letter followed by "_" or digits as a subscript (mu_a -> \mu_{a},
** m0 -> m_{0}), other names in \mathit{} with _ # $ % & { } ~ ^ \ escaped.
** Needs amsmath and amssymb.
*/
#ifndef PK_MATH_H
#define PK_MATH_H
#include "pk_print.h"

enum { PKMATH_LATEX = 1, PKMATH_VALUES = 2 };

/* Append model m (pkg_modelp) in mathematical notation as flags say.
   Iterative: deep terms cost heap, not C stack; linear in the size of the
   graph and of the text.  Thread-safe. */
void pkmath_print(pkp_buf *b, pk_val m, int flags);

#endif
