# bench/peers/kanren_stats.py: Python kanren side of the bulk statistical
# rewriting figures.  relations/stats.scm's `conjugate` (under walko) and
# `scale_loc_transform` (under non_obs_walko) written with kanren on Python
# tuples, run in-process on a sample of bench/gen_stats.py's models, beside
# `pkanren rewrite -j 1` on the same sample; both answers are compared.
#
#   eval "$(bash bench/peers/kanren_env.sh KANREN UNIF ETUPLES CONS | tail -1)"
#   /usr/bin/python3 bench/peers/kanren_stats.py DIR [--sample 100] [--seed 1]
#       [--runs 3] [--pk build/pkanren]
#
# Terms: a list is a tuple, a symbol a str, a NAME a Name, a tensor literal
# a Tensor and the empty list EMPTY (all three leaves: kanren's walko would
# take an empty tuple for an identity rewrite and its reduceo would never
# stop, SPEC §5).  Python unifies 1 with 1.0 where pkanren does not; no
# rule here depends on it.  Both relations see the model's other outputs,
# as `pkanren rewrite` gives them: conjugate's prior and a non-centred
# variable must occur in none of them.
import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial

from cons import cons
from kanren import conde, eq, lall, run, var
from kanren.graph import reduceo, walko
from unification import reify

sys.setrecursionlimit(100000)


class Leaf:
    """A term compared by class and key, never entered by walko."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key

    def __eq__(self, other):
        return type(other) is type(self) and other.key == self.key

    def __hash__(self):
        return hash((type(self).__name__, self.key))


class Name(Leaf):
    """A string (an RV's NAME)."""

    def __repr__(self):
        return '"%s"' % self.key


class Tensor(Leaf):
    """A tensor literal: key is (shape, flat elements)."""

    def __repr__(self):
        return "#%r" % (self.key,)


class Empty(Leaf):
    def __repr__(self):
        return "()"


EMPTY = Empty(None)

# ---- the model reader -------------------------------------------------------

TOKEN = re.compile(r'\s+|;[^\n]*|(#\[|\(|\)|\[|\]|"(?:[^"\\]|\\.)*"|[^\s()\[\]";]+)')


def tokens(text):
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise ValueError("bad character at %d" % pos)
        if m.group(1):
            yield m.group(1), m.start()
        pos = m.end()


def atom(tok):
    if tok.startswith('"'):
        return Name(tok[1:-1])
    try:
        return int(tok)
    except ValueError:
        pass
    try:
        return float(tok)
    except ValueError:
        return tok


def parse(toks):
    """One datum: lists as Python lists, tensor literals as Tensor."""
    tok, _ = next(toks)
    if tok == "(":
        out = []
        while True:
            t = peek(toks)
            if t == ")":
                next(toks)
                return out
            out.append(parse(toks))
    if tok == "#[":
        rows = rows_of(toks)
        return Tensor((shape(rows), tuple(flat(rows))))
    if tok in (")", "]", "["):
        raise ValueError("unexpected %s" % tok)
    return atom(tok)


def rows_of(toks):
    out = []
    while True:
        t, _ = next(toks)
        if t == "]":
            return out
        out.append(rows_of(toks) if t == "[" else atom(t))


def shape(rows):
    """The shape of nested rows; ValueError when they are ragged."""
    subs = {shape(r) if isinstance(r, list) else () for r in rows}
    if len(subs) > 1:
        raise ValueError("ragged tensor literal")
    return (len(rows),) + (subs.pop() if subs else ())


def flat(rows):
    for r in rows:
        yield from (flat(r) if isinstance(r, list) else [r])


class Peek:
    def __init__(self, it):
        self.it, self.buf = it, None

    def __next__(self):
        if self.buf is not None:
            b, self.buf = self.buf, None
            return b
        return next(self.it)


def peek(toks):
    if toks.buf is None:
        toks.buf = next(toks.it)
    return toks.buf[0]


# SPEC §4's random variables and their number of parameters.
RV_PARAMS = {"NormalRV": 2, "HalfNormalRV": 2, "MvNormalRV": 2, "CauchyRV": 2, "HalfCauchyRV": 2, "StudentTRV": 3,
             "LaplaceRV": 2, "LogisticRV": 2, "GammaRV": 2, "InvGammaRV": 2, "ExponentialRV": 1, "BetaRV": 2,
             "BinomialRV": 2, "NegBinomialRV": 2, "PoissonRV": 1, "BernoulliRV": 1, "UniformRV": 2,
             "DirichletRV": 1, "CategoricalRV": 1, "MultinomialRV": 2}


def term(d, env):
    """A datum as a term: defines substituted (one object each), () EMPTY."""
    if isinstance(d, list):
        if d and isinstance(d[0], str) and d[0] in RV_PARAMS and len(d) != RV_PARAMS[d[0]] + 4:
            raise ValueError("%s takes %d arguments" % (d[0], RV_PARAMS[d[0]] + 3))
        return tuple(term(x, env) for x in d) if d else EMPTY
    return env.get(d, d) if isinstance(d, str) else d


def read_models(text):
    """[(name, outputs, source text)] of a .model file's text."""
    toks = Peek(tokens(text))
    models = []
    while True:
        if toks.buf is None:
            try:
                peek(toks)
            except StopIteration:
                return models
        start, begin = toks.buf
        d = parse(toks)
        if start != "(" or not d or d[0] != "model":
            raise ValueError("not a model")
        env, outs = {}, []
        for decl in d[2:]:
            if decl[0] == "define":
                env[decl[1]] = term(decl[2], env)
            elif decl[0] == "output":
                outs = [term(o, env) for o in decl[1:]]
        try:
            peek(toks)
            end = toks.buf[1]
        except StopIteration:
            end = len(text)
        models.append((d[1], outs, text[begin:end].rstrip() + "\n"))


# ---- relations/stats.scm in kanren -----------------------------------------


def project(f, *xs):
    """A goal that succeeds when f holds of the reified xs."""
    def goal(s):
        if f(*reify(xs, s)):
            yield s
    return goal


def num_is(t, x):
    if isinstance(t, (int, float)) and not isinstance(t, bool):
        return t == x
    if isinstance(t, Tensor):
        return len(t.key[1]) > 0 and all(e == x for e in t.key[1])
    return False


def not_num(t, x):
    return project(lambda t: not num_is(t, x), t)


def scalars(*ts):
    return project(lambda *ts: not any(isinstance(t, Tensor) and len(t.key[1]) != 1 for t in ts), *ts)


def suffixo(name, suffix, full):
    def goal(s):
        n, f = reify((name, full), s)
        if isinstance(n, Name):
            yield from eq(full, Name(n.key + suffix))(s)
        elif isinstance(f, Name) and f.key.endswith(suffix):
            yield from eq(name, Name(f.key[:len(f.key) - len(suffix)]))(s)
    return goal


def count(x, t):
    """Occurrences of x in t, each path counted, capped at 2."""
    memo = {}

    def cnt(t):
        if t is x or (isinstance(t, tuple) and t == x):
            return 1
        if not isinstance(t, tuple):
            return 0
        if id(t) in memo:
            return memo[id(t)]
        n = 0
        for e in t:
            n += cnt(e)
            if n >= 2:
                n = 2
                break
        memo[id(t)] = n
        return n
    return cnt(t)


def lonely(prior, y, lik, others):
    return project(lambda p, y, lik: count(p, (y, lik)) == 1 and not any(count(p, o) for o in others),
                   prior, y, lik)


def conjugate_pair(y, lik, prior, post):
    a, R, F, V, Q, A, m0, s0, s, al, be, n, size, rng, name, lsize, lrng, lname, P = (var() for _ in range(19))
    return conde(
        [eq(prior, ("MvNormalRV", a, R, size, rng, name)),
         eq(lik, ("MvNormalRV", ("dot", F, prior), V, EMPTY, lrng, lname)),
         eq(Q, ("add", V, ("dot", F, ("dot", R, ("transpose", F))))),
         eq(A, ("dot", ("dot", R, ("transpose", F)), ("matrix_inverse", Q))),
         eq(post, ("MvNormalRV", ("add", a, ("dot", A, ("sub", y, ("dot", F, a)))),
                   ("sub", R, ("dot", ("dot", A, Q), ("transpose", A))), size, rng, name))],
        [eq(prior, ("NormalRV", m0, s0, EMPTY, rng, name)),
         eq(lik, ("NormalRV", prior, s, lsize, lrng, lname)),
         scalars(m0, s0, s),
         eq(P, ("add", ("true_div", 1.0, ("sqr", s0)), ("true_div", ("size", y), ("sqr", s)))),
         eq(post, ("NormalRV", ("true_div", ("add", ("true_div", m0, ("sqr", s0)),
                                             ("true_div", ("sum", y), ("sqr", s))), P),
                   ("sqrt", ("true_div", 1.0, P)), EMPTY, rng, name))],
        [eq(prior, ("GammaRV", al, be, EMPTY, rng, name)),
         eq(lik, ("PoissonRV", prior, lsize, lrng, lname)),
         scalars(al, be),
         eq(post, ("GammaRV", ("add", al, ("sum", y)), ("add", be, ("size", y)), EMPTY, rng, name))],
        [eq(prior, ("BetaRV", al, be, EMPTY, rng, name)),
         eq(lik, ("BinomialRV", n, prior, lsize, lrng, lname)),
         scalars(al, be),
         eq(post, ("BetaRV", ("add", al, ("sum", y)), ("add", be, ("sum", ("sub", n, y))), EMPTY, rng, name))],
        [eq(prior, ("BetaRV", al, be, EMPTY, rng, name)),
         eq(lik, ("BernoulliRV", prior, lsize, lrng, lname)),
         scalars(al, be),
         eq(post, ("BetaRV", ("add", al, ("sum", y)), ("add", be, ("sub", ("size", y), ("sum", y))),
                   EMPTY, rng, name))],
        [eq(prior, ("BetaRV", al, be, EMPTY, rng, name)),
         eq(lik, ("NegBinomialRV", n, prior, lsize, lrng, lname)),
         scalars(al, be),
         eq(post, ("BetaRV", ("add", al, ("sum", ("mul", n, ("ones_like", y)))), ("add", be, ("sum", y)),
                   EMPTY, rng, name))],
        [eq(prior, ("DirichletRV", al, EMPTY, rng, name)),
         eq(lik, ("CategoricalRV", prior, lsize, lrng, lname)),
         eq(post, ("DirichletRV", ("add", al, ("bincount", y, ("size", al))), EMPTY, rng, name))],
        [eq(prior, ("DirichletRV", al, EMPTY, rng, name)),
         eq(lik, ("MultinomialRV", n, prior, EMPTY, lrng, lname)),
         eq(post, ("DirichletRV", ("add", al, y), EMPTY, rng, name))],
    )


def conjugate_given(others):
    def conjugate(a, b):
        y, lik, prior = var(), var(), var()
        return lall(eq(a, ("observed", y, lik)), conjugate_pair(y, lik, prior, b), lonely(prior, y, lik, others))
    return conjugate


LOC_SCALE = ("NormalRV", "CauchyRV", "LaplaceRV", "LogisticRV")


def scale_loc_given(others):
    """scale_loc_transform, leaving a variable another output also holds."""
    def rel(a, b):
        return lall(project(lambda a: not (isinstance(a, tuple) and any(count(a, o) for o in others)), a),
                    scale_loc_transform(a, b))
    return rel


def scale_loc_transform(a, b):
    op, nu, mu, s, size, rng, name, oname = (var() for _ in range(8))
    return lall(
        conde([eq(a, (op, mu, s, size, rng, name)),
               eq(b, ("add", mu, ("mul", s, (op, 0.0, 1.0, size, rng, oname)))),
               conde(*[[eq(op, o)] for o in LOC_SCALE])],
              [eq(a, ("StudentTRV", nu, mu, s, size, rng, name)),
               eq(b, ("add", mu, ("mul", s, ("StudentTRV", nu, 0.0, 1.0, size, rng, oname))))]),
        not_num(mu, 0), not_num(s, 1), suffixo(name, "_offset", oname))


def non_obs_walko(rel, a, b):
    v, op, xs, ys = var(), var(), var(), var()
    return lall(eq(a, ("observed", v, cons(op, xs))), eq(b, ("observed", v, cons(op, ys))), walko(rel, xs, ys))


def rewrite_model(outs, relation):
    """Each output to the first answer of reduceo over the walker, or itself;
    the relation sees the model's other outputs, as `pkanren rewrite` gives
    them (rewrite-other-outputs)."""
    res = []
    for i, o in enumerate(outs):
        others = outs[:i] + outs[i + 1:]
        if relation == "conjugate":
            walker = partial(walko, conjugate_given(others))
        else:
            walker = partial(non_obs_walko, scale_loc_given(others))
        q = var()
        r = run(1, q, reduceo(walker, o, q))
        res.append(r[0] if r else o)
    return res


# ---- the comparison --------------------------------------------------------


def sample_models(root, k, seed):
    models = []
    for d, _, fs in sorted(os.walk(root)):
        for f in sorted(fs):
            if f.endswith(".model"):
                try:
                    models += read_models(open(os.path.join(d, f)).read())
                except (ValueError, StopIteration, IndexError):
                    pass  # the generator's malformed files
    return random.Random(seed).sample(models, min(k, len(models)))


def pk_run(pk, path, out, relation):
    walker = "walko" if relation == "conjugate" else "non_obs_walko"
    subprocess.run(["rm", "-rf", out], check=True)
    p = subprocess.run([pk, "rewrite", "-j", "1", "--rules", "stats", "--relation", relation, "--walker", walker,
                        "--stats", path, "-o", out], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("pkanren failed: %s" % p.stderr)
    # the rewrite phase: the models' own seconds in the summary (finer than --stats' ms)
    rw = sum(json.loads(line)["seconds"] for line in open(os.path.join(out, "summary.jsonl")))
    total = float(re.search(r"total ([0-9.]+) s", p.stderr).group(1))
    return rw, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--sample", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pk", default=os.path.join(os.path.dirname(__file__), "..", "..", "build", "pkanren"))
    a = ap.parse_args()
    models = sample_models(a.dir, a.sample, a.seed)
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "sample.model")
    with open(path, "w") as f:
        f.write("".join(m[2] for m in models))
    n = len(models)
    for relation in ("conjugate", "scale_loc_transform"):
        py, pk_rw, pk_total, answers = [], [], [], None
        for _ in range(a.runs):  # alternated: Python, pkanren, Python, ...
            t0 = time.perf_counter()
            answers = [rewrite_model(outs, relation) for _, outs, _ in models]
            py.append(time.perf_counter() - t0)
            rw, total = pk_run(a.pk, path, os.path.join(tmp, "out"), relation)
            pk_rw.append(rw)
            pk_total.append(total)
        pk_out = {name: outs for name, outs, _ in read_models(open(os.path.join(tmp, "out", "sample.model")).read())}
        changed = sum(1 for (_, outs, _), r in zip(models, answers) if r != outs)
        same = sum(1 for (name, _, _), r in zip(models, answers) if pk_out[name] == r)
        mpy, mrw, mtot = statistics.median(py), statistics.median(pk_rw), statistics.median(pk_total)
        print("%s: %d models (%d rewritten by kanren), answers equal to pkanren's: %d/%d" %
              (relation, n, changed, same, n))
        print("  kanren %.3f s (%.2f ms/model); pkanren rewrite phase %.4f s (%.3f ms/model), whole command "
              "%.3f s; kanren/pkanren %.0fx (rewrite phase), %.0fx (whole command)" %
              (mpy, 1e3 * mpy / n, mrw, 1e3 * mrw / n, mtot, mpy / mrw, mpy / mtot))
    subprocess.run(["rm", "-rf", tmp], check=True)


if __name__ == "__main__":
    main()
