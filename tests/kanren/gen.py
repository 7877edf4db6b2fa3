#!/usr/bin/python3
"""tests/kanren/gen.py — generate end-to-end tests of relations/kanren.scm
from Python kanren (pythological/kanren b1ff6cf, SPEC §5).

Builds random terms (tuples of symbols and small ints) over a small rule
set and over add/mul, runs kanren's relations on them (walko, reduceo,
map_anyo, mapo, list relations, eq_comm/eq_assoc/eq_assoccomm, term_walko,
applyo), and writes tests/e2e/kanren_gen_N.scm with kanren's answers, in
kanren's order, as the expected output (.out).

    eval "$(bash bench/peers/kanren_env.sh KANREN UNIF ETUPLES CONS | tail -1)"
    /usr/bin/python3 tests/kanren/gen.py [--seed 1] [--cases 600] [--files 4] [--out DIR]

Deterministic for a seed.  Cases whose kanren answers are not comparable
are not generated: constrained variables (kanren does not print the
constraint), floats or booleans (Python's 1 == 1.0 == True), unbound
operators (kanren takes its facts in hash order).  A case that overflows
Python's stack is skipped.
"""
import argparse
import os
import random
import sys
from functools import partial

from kanren import conde, eq, fact, lall, run, var
from kanren.assoccomm import associative, commutative, eq_assoc, eq_assoccomm, eq_comm
from kanren.goals import appendo, conso, membero, permuteo, rembero
from kanren.graph import map_anyo, mapo, reduceo, walko
from kanren.term import applyo
from unification import isvar

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "e2e")
SYMS = ["x", "y", "z"]
OPS = ["add", "mul", "neg", "f"]

# ---- rules, the same in both languages ---------------------------------------

RULES_SCM = """
(define (simp a b)
  (lconde ((fresh (x) (lall (== a `(mul ,x 1)) (== b x))))
          ((fresh (x) (lall (== a `(add ,x 0)) (== b x))))
          ((fresh (x) (lall (== a `(neg (neg ,x))) (== b x))))))
(define (comm a b)
  (lconde ((fresh (x y) (lall (== a `(add ,x ,y)) (== b `(add ,y ,x)))))
          ((fresh (x) (lall (== a `(mul ,x 1)) (== b x))))))
(define (expand a b)
  (lconde ((fresh (x) (lall (== a `(f ,x)) (lconde ((== b `(g ,x))) ((== b `(h ,x)))))))
          ((fresh (x) (lall (== a `(neg ,x)) (== b `(mul ,x -1)))))))
"""


def simp(a, b):
    x1, x2, x3 = var(), var(), var()
    return conde([eq(a, ("mul", x1, 1)), eq(b, x1)],
                 [eq(a, ("add", x2, 0)), eq(b, x2)],
                 [eq(a, ("neg", ("neg", x3))), eq(b, x3)])


def comm(a, b):
    x, y, z = var(), var(), var()
    return conde([eq(a, ("add", x, y)), eq(b, ("add", y, x))],
                 [eq(a, ("mul", z, 1)), eq(b, z)])


def expand(a, b):
    x, y = var(), var()
    return conde([eq(a, ("f", x)), conde([eq(b, ("g", x))], [eq(b, ("h", x))])],
                 [eq(a, ("neg", y)), eq(b, ("mul", y, -1))])


RULES = {"simp": simp, "comm": comm, "expand": expand}

for _op in ("add", "mul"):  # pkanren's defaults
    fact(commutative, _op)
    fact(associative, _op)

# ---- terms ---------------------------------------------------------------------------


def rand_term(r, depth):
    if depth == 0 or r.random() < 0.25:
        return r.choice(SYMS + [0, 1, 2])
    k = r.random()
    if k < 0.2:
        return ("mul", rand_term(r, depth - 1), 1)
    if k < 0.4:
        return ("add", rand_term(r, depth - 1), 0)
    if k < 0.5:
        return ("neg", ("neg", rand_term(r, depth - 1)))
    op = r.choice(OPS)
    n = 1 if op in ("neg", "f") else 2
    return (op,) + tuple(rand_term(r, depth - 1) for _ in range(n))


def scm(t, names):
    """Scheme text of a Python term; names numbers logic variables."""
    if isvar(t):
        if t not in names:
            names[t] = len(names)
        return "_.%d" % names[t]
    if isinstance(t, (tuple, list)):
        return "(" + " ".join(scm(x, names) for x in t) + ")"
    if isinstance(t, bool):
        return "#t" if t else "#f"
    return str(t)


def runf(n):
    return "run*" if n == 0 else "run %d" % n


def quote(t):
    return "'" + scm(t, {})


def answers(res):
    """Scheme text of a run's answers: variables numbered per answer."""
    return "(" + " ".join(scm(a, {}) for a in res) + ")"

# ---- cases -----------------------------------------------------------------------------


def case_walko(r):
    t = rand_term(r, 4)
    rn = r.choice(list(RULES))
    q = var()
    n = r.choice([0, 0, 3, 50])
    res = run(n, q, walko(RULES[rn], t, q))
    return "(%s (q) (walko %s %s q))" % (runf(n), rn, quote(t)), res


def case_reduceo(r):
    t = rand_term(r, 4)
    rn = "simp"  # comm never reaches a fixed point: kanren overflows Python's stack
    q = var()
    n = r.choice([1, 1, 5, 200])
    res = run(n, q, reduceo(partial(walko, RULES[rn]), t, q))
    return ("(run %d (q) (reduceo (lambda (a b) (walko %s a b)) %s q))" % (n, rn, quote(t)), res)


def case_map_anyo(r):
    ts = tuple(rand_term(r, 2) for _ in range(r.randint(0, 4)))
    rn = r.choice(list(RULES))
    q = var()
    res = run(0, q, map_anyo(RULES[rn], ts, q))
    return "(run* (q) (map_anyo %s %s q))" % (rn, quote(ts)), res


def case_mapo(r):
    ts = tuple(r.choice([("f", r.choice(SYMS)), ("neg", 1), ("mul", 2, 1)]) for _ in range(r.randint(0, 3)))
    q = var()
    res = run(0, q, mapo(expand, ts, q))
    return "(run* (q) (mapo expand %s q))" % quote(ts), res


def small_list(r, k=4):
    return tuple(r.choice(SYMS + [1, 2, 3]) for _ in range(r.randint(0, k)))


def case_membero(r):
    ls = small_list(r, 5)
    q = var()
    return "(run* (q) (membero q %s))" % quote(ls), run(0, q, membero(q, ls))


def case_appendo(r):
    ls = small_list(r, 5)
    a, b = var(), var()
    n = r.choice([0, 2, 20])
    res = run(n, (a, b), appendo(a, b, ls))
    return "(%s (a b) (appendo a b %s))" % (runf(n), quote(ls)), res


def case_appendo_fwd(r):
    x, y = small_list(r), small_list(r)
    q = var()
    return "(run* (q) (appendo %s %s q))" % (quote(x), quote(y)), run(0, q, appendo(x, y, q))


def case_permuteo(r):
    ls = small_list(r, 4)
    q = var()
    if r.random() < 0.5:
        return "(run* (q) (permuteo %s q))" % quote(ls), run(0, q, permuteo(ls, q))
    return "(run* (q) (permuteo q %s))" % quote(ls), run(0, q, permuteo(q, ls))


def case_permuteo_partial(r):
    ls = small_list(r, 4)
    if not ls:
        ls = (1,)
    other = list(ls)
    r.shuffle(other)
    q = var()
    i = r.randrange(len(other))
    other[i] = q
    other = tuple(other)
    return ("(run* (q) (permuteo %s `%s))" % (quote(ls), scm(other, {q: 0}).replace("_.0", ",q")),
            run(0, q, permuteo(ls, other)))


def case_rembero(r):
    ls = small_list(r, 5)
    x = r.choice(SYMS + [1, 2, 3])
    q = var()
    return "(run* (q) (rembero %s %s q))" % (quote(x), quote(ls)), run(0, q, rembero(x, ls, q))


def ac_term(r, depth, width):
    if depth == 0 or r.random() < 0.3:
        return r.choice(SYMS + [1, 2, 3])
    op = r.choice(["add", "mul", "mul", "f"])
    n = r.randint(2, width) if op != "f" else 1
    return (op,) + tuple(ac_term(r, depth - 1, width) for _ in range(n))


def with_hole(r, t, q):
    """t with one random subterm replaced by q (quasiquoted Scheme text)."""
    paths = []

    def walk(x, p):
        paths.append(p)
        if isinstance(x, tuple):
            for i in range(1, len(x)):
                walk(x[i], p + (i,))
    walk(t, ())
    p = r.choice(paths[1:] or [()])

    def put(x, p):
        if not p:
            return q
        return x[:p[0]] + (put(x[p[0]], p[1:]),) + x[p[0] + 1:]
    return put(t, p)


def shuffled(r, t):
    if not isinstance(t, tuple) or t[0] == "f":
        return t
    args = [shuffled(r, a) for a in t[1:]]
    r.shuffle(args)
    return (t[0],) + tuple(args)


def case_eq_ac(r):
    rel, name = r.choice([(eq_comm, "eq_comm"), (eq_assoc, "eq_assoc"), (eq_assoccomm, "eq_assoccomm")])
    width = 3 if name != "eq_assoccomm" else 2
    t = ac_term(r, 2, width)
    q = var()
    k = r.random()
    n = 0 if name != "eq_assoccomm" else 40
    if k < 0.4:
        return "(%s (q) (%s %s q))" % (runf(n), name, quote(t)), run(n, q, rel(t, q))
    if k < 0.7:
        u = with_hole(r, shuffled(r, t), q)
        text = "`" + scm(u, {q: 0}).replace("_.0", ",q")
        return "(%s (q) (%s %s %s))" % (runf(n), name, quote(t), text), run(n, q, rel(t, u))
    u = shuffled(r, t) if r.random() < 0.7 else ac_term(r, 2, width)
    return ("(run* (q) (%s %s %s))" % (name, quote(t), quote(u)), run(0, q, rel(t, u)))


def case_term_walko(r):
    t = ac_term(r, 2, 3)
    q = var()

    def perm_rands(x, y, op):
        return permuteo(x, y, no_ident=True)
    from kanren.graph import term_walko
    return ("(run* (q) (term_walko commutative (lambda (x y op) (kanren-permuteo x y #t)) %s q))" % quote(t),
            run(0, q, term_walko(commutative, perm_rands, t, q)))


def case_applyo(r):
    t = ac_term(r, 2, 3)
    a, b = var(), var()
    if isinstance(t, tuple) and r.random() < 0.5:
        return ("(run* (a) (applyo a %s %s))" % (quote(t[1:]), quote(t)), run(0, a, applyo(a, t[1:], t)))
    return "(run* (a b) (applyo a b %s))" % quote(t), run(0, (a, b), applyo(a, b, t))


CASES = [case_eq_ac, case_eq_ac, case_eq_ac, case_term_walko, case_applyo,
         case_walko, case_walko, case_reduceo, case_reduceo, case_map_anyo, case_mapo,
         case_membero, case_appendo, case_appendo_fwd, case_permuteo, case_permuteo_partial,
         case_rembero]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cases", type=int, default=600)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--out", default=OUT, help="directory for kanren_gen_N.scm/.out")
    args = ap.parse_args()
    r = random.Random(args.seed)
    cases = []
    while len(cases) < args.cases:
        try:
            src, res = r.choice(CASES)(r)
        except RecursionError:  # kanren's generators nest deeper than Python allows
            continue
        cases.append((src, answers(res)))
    with open(os.path.join(args.out, "_kanren_rules.scm"), "w") as fr:
        fr.write(";; generated by tests/kanren/gen.py: the rule relations of kanren_gen_*.scm; do not edit\n")
        fr.write(RULES_SCM.lstrip("\n"))
    per = (len(cases) + args.files - 1) // args.files
    for f in range(args.files):
        name = os.path.join(args.out, "kanren_gen_%d" % f)
        part = cases[f * per:(f + 1) * per]
        with open(name + ".scm", "w") as fs, open(name + ".out", "w") as fo:
            fs.write(";; generated by tests/kanren/gen.py --seed %d from Python kanren b1ff6cf; "
                     "do not edit\n" % args.seed)
            fs.write('(load "_kanren_rules.scm")\n')
            for src, out in part:
                fs.write(src + "\n")
                fo.write(out + "\n")
    print("%d cases in %d files" % (len(cases), args.files), file=sys.stderr)


if __name__ == "__main__":
    main()
