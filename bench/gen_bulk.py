#!/usr/bin/env python3
"""gen_bulk.py — seeded small models for the bulk-rewriting benchmark.

Writes FILES .model files of MODELS/FILES models each into DIR: every model
has a few inputs and one output tree of 20-120 nodes over add/mul and the
inputs and 0/1, where a node is a unit-law redex with probability --redex.
In MALFORMED of the files (chosen apart, so the others do not change) one
model does not read: an unbalanced list, an unknown declaration, a name
used before its define.

    bench/gen_bulk.py DIR [--models 10000] [--files 2000] [--seed 1] [--redex 0.2] [--malformed 3]
"""
import argparse
import os
import random

MALFORMED = [
    "(model bad%d (input x (tensor float64 ()))\n  (output (add x (mul x 1)))\n",
    "(model bad%d (input x (tensor float64 ()))\n  (parameter y)\n  (output (add x 0)))\n",
    "(model bad%d (input x (tensor float64 ()))\n  (define a (mul b 1))\n  (define b (add x 0))\n  (output a))\n",
]

def tree(rnd, n, syms, redex):
    if n <= 1:
        return rnd.choice(syms) if rnd.random() < 0.85 else rnd.choice("01")
    left = rnd.randrange(0, n - 1) | 1 if n > 3 else 1
    right = n - 1 - left
    if right < 1:
        left, right = n - 2, 1
    if rnd.random() < redex:
        op, unit = rnd.choice([("mul", "1"), ("add", "0")])
        return "(%s %s %s)" % (op, tree(rnd, n - 2, syms, redex), unit)
    return "(%s %s %s)" % (rnd.choice(["add", "mul"]), tree(rnd, left, syms, redex), tree(rnd, right, syms, redex))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--models", type=int, default=10000)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--redex", type=float, default=0.2)
    ap.add_argument("--malformed", type=int, default=3, help="files with a model that does not read (at most 3)")
    a = ap.parse_args()
    if not 0 <= a.malformed <= len(MALFORMED):
        ap.error("--malformed takes 0 to %d" % len(MALFORMED))
    bad = dict(zip(random.Random(a.seed + 1).sample(range(a.files), a.malformed), MALFORMED))
    rnd = random.Random(a.seed)
    os.makedirs(a.dir, exist_ok=True)
    per = a.models // a.files
    k = 0
    for f in range(a.files):
        with open(os.path.join(a.dir, "m%05d.model" % f), "w") as out:
            for m in range(per):
                syms = ["x%d" % i for i in range(rnd.randint(2, 6))]
                decl = " ".join("(input %s (tensor float64 ()))" % s for s in syms)
                n = rnd.randint(20, 120) | 1
                text = "(model m%d %s\n  (output %s))\n" % (k, decl, tree(rnd, n, syms, a.redex))
                if f in bad and m == per // 2:
                    text = bad.pop(f) % k
                out.write(text)
                k += 1


if __name__ == "__main__":
    main()
