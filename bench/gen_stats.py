#!/usr/bin/env python3
"""gen_stats.py — seeded statistical models for the bulk stats benchmark.

Writes MODELS models (SPEC §4 format) into FILES .model files under DIR,
in subdirectories one to three deep, plus MALFORMED files that do not read
(an unclosed model, a ragged tensor literal, an RV with a missing
argument).  Half the models are radon-like (hierarchical location-scale
effects with mu/sigma hyperpriors, Normal mostly, some Cauchy, StudentT,
Laplace, Logistic; `scale_loc_transform` under `non_obs_walko`
non-centres them), half regression-like (one to three observations, each
with a conjugate prior of relations/stats.scm: MvNormal linear,
Normal-Normal, Gamma-Poisson, Beta-Binomial/Bernoulli/NegBinomial,
Dirichlet-Categorical/Multinomial; `conjugate` replaces them by their
posteriors).  About one model in ten of each kind has nothing to rewrite
for its relation (already non-centred; a prior that is not conjugate; a
prior shared by two observations or also an output, which SPEC §5 leaves
alone: `pkanren rewrite` does not yet tell `conjugate` the other outputs).
Sizes (observations, groups, dimensions), names, hierarchy depth, test
values (every input has one, so `pkanren verify` can check the
rewrites) and the number of models a file are random, from SEED.

    bench/gen_stats.py DIR [--models 10000] [--files 2000] [--seed 1] [--malformed 3]

Prints nothing on success.
"""
import argparse
import math
import os
import random

RESERVED = {
    "add", "sub", "mul", "true_div", "neg", "reciprocal", "pow", "sqr", "sqrt", "exp", "log", "dot",
    "transpose", "matrix_inverse", "index", "sum", "size", "zeros_like", "ones_like", "bincount",
    "rng", "model", "input", "define", "output", "tensor", "float64", "int64", "bool", "observed",
}

WORDS = [
    "county", "state", "house", "school", "clinic", "site", "plot", "batch", "subject", "trial",
    "region", "floor", "soil", "dose", "arm", "ward", "field", "lab", "lot", "farm",
]


class Model:
    """One model being built: inputs, defines, outputs, names taken."""

    def __init__(self, rnd, name):
        self.rnd, self.name = rnd, name
        self.inputs, self.defines, self.outputs = [], [], []
        self.taken = set(RESERVED)
        self.symdims = rnd.random() < 0.2  # data shapes as symbols (N) rather than numbers

    def fresh(self, base):
        """A symbol not yet used in this model, from base."""
        name, k = base, 1
        while name in self.taken:
            k += 1
            name = "%s_%d" % (base, k)
        self.taken.add(name)
        return name

    def input(self, base, dtype, shape, value):
        """Declare an input; its symbol."""
        name = self.fresh(base)
        dims = "(%s)" % " ".join(str(d) for d in shape)
        if self.symdims and len(shape) == 1 and shape[0] > 8:
            dims = "(%s)" % self.fresh("n_" + name)
        self.inputs.append("  (input %s (tensor %s %s) %s)" % (name, dtype, dims, value))
        return name

    def define(self, base, term):
        """Name term; the name (a reference to one shared node)."""
        name = self.fresh(base)
        self.defines.append("  (define %s %s)" % (name, term))
        return name

    def rv(self, op, params, size, base):
        """Define a random variable named after its define; its name."""
        name = self.fresh(base)
        sz = "(%s)" % " ".join(str(d) for d in size)
        self.taken.discard(name)
        return self.define(name, '(%s %s %s rng "%s")' % (op, " ".join(params), sz, name))

    def text(self):
        return "(model %s\n%s\n  (output %s))\n" % (
            self.name, "\n".join(self.inputs + self.defines), "\n          ".join(self.outputs))


# ---- literals -----------------------------------------------------------------


def fnum(x):
    """A float literal (always with a point or exponent)."""
    s = "%.1f" % x if abs(x) >= 1000 else "%.4g" % x
    return s if any(c in s for c in ".en") else s + ".0"


def tensor(shape, values):
    """A #[...] literal of values (flat, row-major) with that shape."""
    def rows(shape, vals):
        if len(shape) == 1:
            return "[" + " ".join(vals) + "]"
        step = len(vals) // shape[0]
        return "[" + " ".join(rows(shape[1:], vals[i * step:(i + 1) * step]) for i in range(shape[0])) + "]"
    return "#" + rows(shape, values)


def loguniform(rnd, lo, hi):
    return int(round(math.exp(rnd.uniform(math.log(lo), math.log(hi)))))


def scale_lit(rnd):
    return fnum(rnd.choice([0.5, 2.0, 2.5, 5.0, 10.0, 100.0, 10000.0]))


def loc_lit(rnd, zero):
    return "0.0" if zero else fnum(rnd.uniform(-3, 3))


# ---- radon-like ---------------------------------------------------------------

LOCSCALE = [("NormalRV", 60), ("StudentTRV", 10), ("CauchyRV", 10), ("LaplaceRV", 10), ("LogisticRV", 10)]


def pick(rnd, weighted):
    r = rnd.uniform(0, sum(w for _, w in weighted))
    for x, w in weighted:
        r -= w
        if r <= 0:
            return x
    return weighted[-1][0]


def scale_prior(m, base):
    """A positive hyperprior for a scale."""
    rnd = m.rnd
    kind = rnd.choice(["HalfCauchyRV", "HalfCauchyRV", "HalfNormalRV", "ExponentialRV", "InvGammaRV", "GammaRV"])
    if kind in ("HalfCauchyRV", "HalfNormalRV"):
        return m.rv(kind, ["0.0", scale_lit(rnd)], [], base)
    if kind == "ExponentialRV":
        return m.rv(kind, [fnum(rnd.choice([0.1, 1.0, 2.0]))], [], base)
    return m.rv(kind, [fnum(rnd.uniform(1, 3)), fnum(rnd.uniform(0.5, 2))], [], base)


def locscale(m, op, loc, scale, size, base):
    """op(loc, scale) of size, with a nu for StudentT."""
    params = [loc, scale]
    if op == "StudentTRV":
        params = [fnum(m.rnd.choice([3.0, 4.0, 5.0, 7.0]))] + params
    return m.rv(op, params, size, base)


def effect(m, loc, scale, size, base, centred):
    """A group effect: op(loc, scale), or written non-centred already."""
    op = pick(m.rnd, LOCSCALE)
    if centred:
        return locscale(m, op, loc, scale, size, base)
    off = locscale(m, op, "0.0", "1.0", size, base + "_offset")
    return m.define(base, "(add %s (mul %s %s))" % (loc, scale, off))


def hyper_loc(m, base, centred, depth):
    """A location hyperprior, itself hierarchical below depth 1."""
    rnd = m.rnd
    if depth > 1:
        top = hyper_loc(m, base + "_top", centred, depth - 1)
        return effect(m, top, scale_prior(m, "tau_" + base), [], base, centred)
    zero = not centred or rnd.random() < 0.6
    op = "NormalRV" if not centred or rnd.random() < 0.8 else pick(rnd, LOCSCALE)
    return locscale(m, op, loc_lit(rnd, zero), scale_lit(rnd), [], base)


def group_index(m, n, k, word):
    return m.input(word + "_idx", "int64", [n], tensor([n], [str(m.rnd.randrange(k)) for _ in range(n)]))


def radon_like(m):
    """Varying intercepts and slopes over groups (possibly nested groups)."""
    rnd = m.rnd
    centred = rnd.random() >= 0.1
    n = loguniform(rnd, 5, 300)
    word = rnd.choice(WORDS)
    k = rnd.randint(2, max(2, min(60, n // 2)))
    idx = group_index(m, n, k, word)
    covs = []
    for _ in range(rnd.choice([0, 1, 1, 1, 2, 3])):
        w = rnd.choice(WORDS + ["x", "z", "w"])
        vals = [fnum(rnd.choice([0.0, 1.0])) for _ in range(n)] if rnd.random() < 0.5 else \
            [fnum(rnd.gauss(0, 1)) for _ in range(n)]
        covs.append(m.input(w, "float64", [n], tensor([n], vals)))
    ys = [m.input(rnd.choice(["log_radon", "y", "score", "yield", "resp"]), "float64", [n],
                  tensor([n], [fnum(rnd.gauss(1.3, 0.8)) for _ in range(n)])) for _ in range(1 + (rnd.random() < 0.15))]
    nested = rnd.random() < 0.3
    if nested:
        k2 = rnd.randint(2, max(2, k // 2))
        upper = m.input(rnd.choice(WORDS) + "_of_" + word, "int64", [k], tensor([k], [str(rnd.randrange(k2)) for _ in range(k)]))
    depth = rnd.choice([1, 1, 1, 2, 2, 3])
    terms = []
    letters = iter("abcdefghjk")
    for cov in [None] + covs:
        c = next(letters)
        mu = hyper_loc(m, "mu_" + c, centred, depth)
        sigma = scale_prior(m, "sigma_" + c)
        if nested:
            mid = effect(m, mu, sigma, [k2], c + "_upper", centred)
            mu = "(index %s %s)" % (mid, upper)
            sigma = scale_prior(m, "sigma_" + c + "_g")
        eff = effect(m, mu, sigma, [k], c, centred)
        t = "(index %s %s)" % (eff, idx)
        terms.append(t if cov is None else "(mul %s %s)" % (t, cov))
    est = m.define(rnd.choice(["radon_est", "eta", "mean", "theta"]),
                   terms[0] if len(terms) == 1 else "(add %s)" % " ".join(terms))
    for y in ys:
        eps = scale_prior(m, "eps")
        size = "()" if rnd.random() < 0.7 else "(%d)" % n
        if rnd.random() < 0.8:
            lik = '(NormalRV %s %s %s rng "%s_like")' % (est, eps, size, y)
        else:
            lik = '(StudentTRV %s %s %s %s rng "%s_like")' % (fnum(rnd.choice([3.0, 5.0])), est, eps, size, y)
        m.outputs.append("(observed %s %s)" % (y, lik))


# ---- regression-like ------------------------------------------------------------


def scalar(m, base, value, positive=True):
    """A scalar parameter of the given value: a literal, an input or an
    expression of an input (never random: a conjugate update with a random
    hyperparameter is only the conditional posterior)."""
    rnd = m.rnd
    r = rnd.random()
    if r < 0.15:
        if positive:
            return "(mul 2.0 %s)" % m.input(base, "float64", [], fnum(value / 2))
        return "(add %s 0.5)" % m.input(base, "float64", [], fnum(value - 0.5))
    if r < 0.55:
        return m.input(base, "float64", [], fnum(value))
    return fnum(value)


def obs_input(m, base, dtype, values):
    return m.input(base, dtype, [len(values)], tensor([len(values)], values))


def poisson(rnd, lam):
    if lam > 50:
        return max(0, int(round(rnd.gauss(lam, math.sqrt(lam)))))
    k, p, lim = 0, rnd.random(), math.exp(-lam)
    while p > lim:
        k += 1
        p *= rnd.random()
    return k


def pair_mvnormal(m):
    """beta ~ MvNormal(a, R); y ~ MvNormal(F beta, V), one draw of n."""
    rnd = m.rnd
    d, n = rnd.randint(2, 4), rnd.randint(1, 4)
    av = [rnd.gauss(0, 1) for _ in range(d)]
    if rnd.random() < 0.2:
        a = "(mul 0.5 %s)" % m.input("a", "float64", [d], tensor([d], [fnum(2 * x) for x in av]))
    else:
        a = m.input("a", "float64", [d], tensor([d], [fnum(x) for x in av]))
    rv = rnd.choice([1.0, 2.0, 4.0])
    R = m.input("R", "float64", [d, d], tensor([d, d], [fnum(rv) if i == j else "0.0" for i in range(d) for j in range(d)]))
    fv = [round(rnd.gauss(0, 1), 3) for _ in range(n * d)]
    F = m.input("F", "float64", [n, d], tensor([n, d], [fnum(x) for x in fv]))
    vv = rnd.choice([1.0, 2.0, 4.0])
    V = m.input("V", "float64", [n, n], tensor([n, n], [fnum(vv) if i == j else "0.0" for i in range(n) for j in range(n)]))
    bv = [x + math.sqrt(rv) * rnd.gauss(0, 1) for x in av]
    yv = tensor([n], [fnum(sum(fv[i * d + j] * bv[j] for j in range(d)) + math.sqrt(vv) * rnd.gauss(0, 1))
                      for i in range(n)])
    y = yv if rnd.random() < 0.4 else m.input("Y_obs", "float64", [n], yv)
    beta = m.rv("MvNormalRV", [a, R], [], "beta")
    return beta, lambda p, nm: '(observed %s (MvNormalRV (dot %s %s) %s () rng "%s"))' % (y, F, p, V, nm)


def pair_normal(m):
    rnd = m.rnd
    n = loguniform(rnd, 1, 200)
    m0, s0, sd = rnd.uniform(-2, 2), rnd.uniform(0.5, 5), rnd.uniform(0.2, 3)
    mu = m.rv("NormalRV", [scalar(m, "m0", m0, positive=False), scalar(m, "s0", s0)], [], "mu")
    s = scalar(m, "sigma", sd)
    muv = rnd.gauss(m0, s0)
    y = obs_input(m, "y", "float64", [fnum(rnd.gauss(muv, sd)) for _ in range(n)])
    return mu, lambda p, nm: '(observed %s (NormalRV %s %s (%d) rng "%s"))' % (y, p, s, n, nm)


def pair_gamma_poisson(m):
    rnd = m.rnd
    n = loguniform(rnd, 1, 200)
    al, be = rnd.uniform(0.5, 4), rnd.uniform(0.5, 4)
    lam = m.rv("GammaRV", [scalar(m, "alpha", al), scalar(m, "beta", be)], [], "lam")
    lv = rnd.gammavariate(al, 1 / be)
    y = obs_input(m, "counts", "int64", [str(poisson(rnd, lv)) for _ in range(n)])
    return lam, lambda p, nm: '(observed %s (PoissonRV %s (%d) rng "%s"))' % (y, p, n, nm)


def pair_beta(m, lik):
    rnd = m.rnd
    n = loguniform(rnd, 1, 200)
    al, be = rnd.uniform(0.5, 3), rnd.uniform(0.5, 3)
    p = m.rv("BetaRV", [scalar(m, "a", al), scalar(m, "b", be)], [], "p")
    pv = min(0.98, max(0.02, rnd.betavariate(al, be)))
    if lik == "BernoulliRV":
        y = obs_input(m, "success", "int64", [str(int(rnd.random() < pv)) for _ in range(n)])
        return p, lambda q, nm: '(observed %s (BernoulliRV %s (%d) rng "%s"))' % (y, q, n, nm)
    trials = rnd.randint(1, 20)
    nn = str(trials) if rnd.random() < 0.6 else m.input("n_trials", "int64", [], str(trials))
    if lik == "BinomialRV":
        y = obs_input(m, "k", "int64", [str(sum(rnd.random() < pv for _ in range(trials))) for _ in range(n)])
    else:  # failures before the trials-th success
        y = obs_input(m, "failures", "int64",
                      [str(sum(int(math.log(1 - rnd.random()) / math.log(1 - pv)) for _ in range(trials)))
                       for _ in range(n)])
    return p, lambda q, nm: '(observed %s (%s %s %s (%d) rng "%s"))' % (y, lik, nn, q, n, nm)


def pair_dirichlet(m, lik):
    rnd = m.rnd
    k = rnd.randint(2, 8)
    alv = [rnd.uniform(0.5, 3) for _ in range(k)]
    al = tensor([k], [fnum(x) for x in alv])
    if rnd.random() < 0.5:
        al = m.input("alpha", "float64", [k], al)
    th = m.rv("DirichletRV", [al], [], "theta")
    g = [rnd.gammavariate(x, 1) + 1e-12 for x in alv]
    draw = lambda: rnd.choices(range(k), weights=g)[0]
    if lik == "CategoricalRV":
        n = loguniform(rnd, 1, 200)
        y = obs_input(m, "cat", "int64", [str(draw()) for _ in range(n)])
        return th, lambda q, nm: '(observed %s (CategoricalRV %s (%d) rng "%s"))' % (y, q, n, nm)
    total = rnd.randint(1, 60)
    counts = [0] * k
    for _ in range(total):
        counts[draw()] += 1
    y = obs_input(m, "counts", "int64", [str(c) for c in counts])
    return th, lambda q, nm: '(observed %s (MultinomialRV %d %s () rng "%s"))' % (y, total, q, nm)


PAIRS = [
    (pair_mvnormal, 30),
    (pair_normal, 20),
    (pair_gamma_poisson, 10),
    (lambda m: pair_beta(m, "BinomialRV"), 10),
    (lambda m: pair_beta(m, "BernoulliRV"), 8),
    (lambda m: pair_beta(m, "NegBinomialRV"), 7),
    (lambda m: pair_dirichlet(m, "CategoricalRV"), 8),
    (lambda m: pair_dirichlet(m, "MultinomialRV"), 7),
]


def not_conjugate(m):
    """An observation whose prior no rule of `conjugate` takes."""
    rnd = m.rnd
    n = loguniform(rnd, 1, 100)
    r = rnd.randrange(3)
    if r == 0:
        p = m.rv("UniformRV", ["0.0", "1.0"], [], "p")
        y = obs_input(m, "success", "int64", [str(rnd.randrange(2)) for _ in range(n)])
        return '(observed %s (BernoulliRV %s (%d) rng "y"))' % (y, p, n)
    if r == 1:
        lam = m.rv("HalfNormalRV", ["0.0", scale_lit(rnd)], [], "lam")
        y = obs_input(m, "counts", "int64", [str(rnd.randrange(12)) for _ in range(n)])
        return '(observed %s (PoissonRV %s (%d) rng "y"))' % (y, lam, n)
    mu = m.rv("NormalRV", ["0.0", scale_lit(rnd)], [3], "mu")  # a vector prior: not the scalar rule
    y = obs_input(m, "y", "float64", [fnum(rnd.gauss(0, 1)) for _ in range(3)])
    return '(observed %s (NormalRV %s 1.0 (3) rng "y"))' % (y, mu)


def regression_like(m):
    """One to three observations, each with its conjugate prior; about one
    model in ten with none that `conjugate` can take."""
    rnd = m.rnd
    if rnd.random() < 0.1:
        r = rnd.randrange(3)
        if r == 2:
            m.outputs.append(not_conjugate(m))
            return
        gen = pick(rnd, PAIRS)
        prior, obs = gen(m)
        m.outputs.append(obs(prior, m.fresh("y")))
        if r == 0:  # the prior shared by a second observation of the same form
            m.outputs.append(obs(prior, m.fresh("y")))
        else:  # the prior is an output too
            m.outputs.append(prior)
        return
    for _ in range(rnd.choice([1, 1, 1, 2, 2, 3])):
        gen = pick(rnd, PAIRS)
        prior, obs = gen(m)
        m.outputs.append(obs(prior, m.fresh(rnd.choice(["Y", "y", "obs", "data"]))))


# ---- files ----------------------------------------------------------------------

MALFORMED = [
    # an unclosed model
    '(model broken-unclosed\n  (input x (tensor float64 ()) 1.0)\n'
    '  (define mu (NormalRV x 2.0 () rng "mu"))\n  (output (observed 0.5 (NormalRV mu 1.0 () rng "y")))\n',
    # a ragged tensor literal
    '(model broken-ragged\n  (input R (tensor float64 (2 2)) #[[1.0 0.0] [0.0]])\n'
    '  (define beta (MvNormalRV #[0.0 0.0] R () rng "beta"))\n'
    '  (output (observed #[1.0] (MvNormalRV (dot #[[1.0 1.0]] beta) #[[1.0]] () rng "Y"))))\n',
    # a known RV with a missing argument
    '(model broken-arity\n  (define mu (NormalRV 0.0 10.0 rng "mu"))\n'
    '  (output (observed 1.5 (NormalRV mu 1.0 () rng "y"))))\n',
]


def layout(rnd, files):
    """Relative paths of the files: one to three directories deep."""
    paths, seen = [], set()
    tops = max(1, files // 50)
    for i in range(files):
        parts = ["p%02d" % rnd.randrange(tops)]
        for _ in range(rnd.choice([0, 1, 1, 2])):
            parts.append(rnd.choice(WORDS) + str(rnd.randrange(4)))
        path = os.path.join(*parts, "%s_%05d.model" % (rnd.choice(WORDS), i))
        seen.add(path)
        paths.append(path)
    return paths


def counts(rnd, models, files):
    """Models in each file: at least one each, the rest at random."""
    c = [1] * files
    for _ in range(models - files):
        c[rnd.randrange(files)] += 1
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--models", type=int, default=10000)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--malformed", type=int, default=3, help="files that do not read (at most 3)")
    a = ap.parse_args()
    if a.files < 1 or a.models < a.files:
        ap.error("need 1 <= FILES <= MODELS")
    rnd = random.Random(a.seed)
    paths = layout(rnd, a.files)
    per = counts(rnd, a.models, a.files)
    k = 0
    for path, cnt in zip(paths, per):
        full = os.path.join(a.dir, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as out:
            out.write(";; bench/gen_stats.py --seed %d\n" % a.seed)
            for _ in range(cnt):
                radon = rnd.random() < 0.5
                name = "%s-%s-%d" % ("radon" if radon else "regression", rnd.choice(WORDS), k)
                m = Model(rnd, name)
                (radon_like if radon else regression_like)(m)
                out.write(m.text())
                k += 1
    for i, text in enumerate(MALFORMED[:max(0, a.malformed)]):
        full = os.path.join(a.dir, os.path.dirname(paths[rnd.randrange(len(paths))]), "malformed_%d.model" % i)
        with open(full, "w") as out:
            out.write(text)


if __name__ == "__main__":
    main()
