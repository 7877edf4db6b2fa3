#!/usr/bin/env python3
"""gen_unitlaw.py — a seeded unit-law model for the rewriting benchmarks.

Writes one model whose output is a tree (no sharing in the text) of exactly
NODES nodes (odd; an even count is rounded up): free binary operators mul
and add over the symbols x0..x15 and the literals 0 and 1, where a node is a
unit-law redex (x*1, 1*x, x+0, 0+x, x*0, 0*x) with probability --redex.

    bench/gen_unitlaw.py [--nodes 1000001] [--seed 1] [--redex 0.3] > unitlaw.model
"""
import argparse
import random
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=1000001)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--redex", type=float, default=0.3)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    nodes = a.nodes | 1
    syms = ["x%d" % k for k in range(16)]
    laws = [("mul", None, "1"), ("mul", "1", None), ("add", None, "0"),
            ("add", "0", None), ("mul", None, "0"), ("mul", "0", None)]
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
            op, left, right = rnd.choice(laws)
            out.append("(%s " % op)
            if left is None:
                stack += [")", right, " ", t - 2]
            else:
                stack += [")", t - 2, " ", left]
        else:
            left = 2 * rnd.randrange((t - 1) // 2) + 1
            out.append("(%s " % rnd.choice(("mul", "add")))
            stack += [")", t - 1 - left, " ", left]
    w = sys.stdout.write
    w(";; bench/gen_unitlaw.py --nodes %d --seed %d --redex %g\n" % (nodes, a.seed, a.redex))
    w("(model unitlaw\n")
    for s in syms:
        w("  (input %s (tensor float64 ()))\n" % s)
    w("  (output ")
    w("".join(out))
    w("))\n")


if __name__ == "__main__":
    main()
