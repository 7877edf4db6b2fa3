#!/usr/bin/env python3
"""bench/peers/kanren_walko_1023.py [--which reduceo|walko] [--runs N]:
the Python kanren side of kanren_walko_1023.scm (the peer of
bench/rewrites/walko-1023.bench): the first answer of reduceo(walko) (or
walko) on the same 1,023-node tree and rule, timed in-process
(perf_counter around `run`), the median of N runs (default 1), as one line

    peer kanren: phase=S check=ok

check compares the answer with the one pkanren printed into the file $PKOUT
(its last line), both reduced to their atoms in order: ok, DIFFERS, or -
without $PKOUT.  Python kanren (pythological/kanren b1ff6cf) comes from
PYTHONPATH as bench/peers/kanren_env.sh prints it, else from its default
layout under $PEERS (default /work/peers); without it the line is
`peer kanren: unavailable: REASON`.  Run with /usr/bin/python3 (Debian's
python3-toolz and python3-multipledispatch).
"""
import argparse
import os
import re
import statistics
import sys
import time

sys.setrecursionlimit(100000)


def import_kanren():
    """kanren's run, var, eq, lall, walko and reduceo, or None."""
    try:
        import kanren  # noqa: F401
    except ImportError:
        peers = os.environ.get("PEERS", "/work/peers")
        sys.path[:0] = [os.path.join(peers, d) for d in ("kanren", "unification", "etuples", "python-cons", "meta")]
    try:
        from kanren import run, var, eq, lall
        from kanren.graph import walko, reduceo
    except ImportError as e:
        print("peer kanren: unavailable: %s (set up with bench/peers/kanren_env.sh)" % e)
        return None
    return run, var, eq, lall, walko, reduceo


def atoms(text):
    return re.findall(r"[A-Za-z0-9_]+", text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--which", choices=("reduceo", "walko"), default="reduceo")
    ap.add_argument("--runs", type=int, default=1)
    a = ap.parse_args()
    k = import_kanren()
    if not k:
        return
    run, var, eq, lall, walko, reduceo = k
    from functools import partial

    def tree(d):
        return "a" if d == 0 else ("f", tree(d - 1), tree(d - 1))

    t = tree(9)

    def ab(x, y):
        return lall(eq(x, "a"), eq(y, "b"))

    q = var()
    goal = (lambda: walko(ab, t, q)) if a.which == "walko" else (lambda: reduceo(partial(walko, ab), t, q))
    times = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        r = run(1, q, goal())
        times.append(time.perf_counter() - t0)
    check = "-"
    pkout = os.environ.get("PKOUT")
    if pkout and os.path.isfile(pkout):
        with open(pkout) as f:
            lines = [ln for ln in f.read().splitlines() if ln.strip()]
        check = "ok" if lines and len(r) == 1 and atoms(lines[-1]) == atoms(repr(r[0])) else "DIFFERS"
    print("peer kanren: phase=%.6f check=%s" % (statistics.median(times), check))


if __name__ == "__main__":
    main()
