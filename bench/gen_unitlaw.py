#!/usr/bin/env python3
"""gen_unitlaw.py — a seeded unit-law model for the rewriting benchmarks.

Writes one model whose output is a tree (no sharing in the text) of exactly
NODES nodes (odd; an even count is rounded up): free binary operators mul
and add over the symbols x0..x15 and the literals 0 and 1, where a node is a
unit-law redex (x*1, 1*x, x+0, 0+x, x*0, 0*x) with probability --redex;
an absorbing law (x*0, 0*x) only over a subtree of at most --absorb-max
nodes.  Without that bound the tree collapses near its root: kanren's
outermost passes never enter what an absorbing law high up erases, so the
1M-node term's normal form had 20 nodes and the rewriting phase visited
under 1% of the term.
With --maude it writes the same term (same seed, same tree) as a Maude
functional module with the six laws as equations over free operators,
followed by `red` of the term (the peer of bench/rewrites/unitlaw-1m.bench).

    bench/gen_unitlaw.py [--nodes 1000001] [--seed 1] [--redex 0.3] [--absorb-max 31] [--maude] > unitlaw.model
"""
import argparse
import random
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=1000001)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--redex", type=float, default=0.3)
    ap.add_argument("--absorb-max", type=int, default=31, help="largest subtree an absorbing law erases")
    ap.add_argument("--maude", action="store_true", help="a Maude module and its red command")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    nodes = a.nodes | 1
    syms = ["x%d" % k for k in range(16)]
    laws = [("mul", None, "1"), ("mul", "1", None), ("add", None, "0"),
            ("add", "0", None), ("mul", None, "0"), ("mul", "0", None)]
    # an application: open + left + sep + right + ")"
    open_, sep = ("%s(", ", ") if a.maude else ("(%s ", " ")
    out = []
    # tasks: an int is a subtree of that many nodes; a str is text to write
    stack = [nodes]
    while stack:
        t = stack.pop()
        if isinstance(t, str):
            out.append(t)
        elif t == 1:
            out.append(rnd.choice(syms) if rnd.random() < 0.8 else rnd.choice("01"))
        elif rnd.random() < a.redex:
            op, left, right = rnd.choice(laws if t - 2 <= a.absorb_max else laws[:4])
            out.append(open_ % op)
            if left is None:
                stack += [")", right, sep, t - 2]
            else:
                stack += [")", t - 2, sep, left]
        else:
            left = 2 * rnd.randrange((t - 1) // 2) + 1
            out.append(open_ % rnd.choice(("mul", "add")))
            stack += [")", t - 1 - left, sep, left]
    if a.maude:
        write_maude(nodes, a, syms, "".join(out))
    else:
        write_model(nodes, a, syms, "".join(out))


def write_model(nodes, a, syms, term):
    """The term as the output of one pkanren model."""
    w = sys.stdout.write
    w(";; bench/gen_unitlaw.py --nodes %d --seed %d --redex %g --absorb-max %d\n" % (nodes, a.seed, a.redex, a.absorb_max))
    w("(model unitlaw\n")
    for s in syms:
        w("  (input %s (tensor float64 ()))\n" % s)
    w("  (output ")
    w(term)
    w("))\n")


def write_maude(nodes, a, syms, term):
    """The term and the six laws as a Maude module; `red` reduces it to its
    normal form (Maude prints the rewrite count and, with timing on, the
    time)."""
    w = sys.stdout.write
    w("*** bench/gen_unitlaw.py --nodes %d --seed %d --redex %g --absorb-max %d --maude\n" % (nodes, a.seed, a.redex, a.absorb_max))
    w("fmod UNITLAW is\n  sort T .\n")
    w("  ops %s 0 1 : -> T [ctor] .\n" % " ".join(syms))
    w("  ops mul add : T T -> T .\n  var X : T .\n")
    for lhs, rhs in [("mul(X, 1)", "X"), ("mul(1, X)", "X"), ("add(X, 0)", "X"),
                     ("add(0, X)", "X"), ("mul(X, 0)", "0"), ("mul(0, X)", "0")]:
        w("  eq %s = %s .\n" % (lhs, rhs))
    w("endfm\n")
    w("set show timing on .\nset show command off .\n")
    w("red ")
    w(term)
    w(" .\nquit\n")


if __name__ == "__main__":
    main()
