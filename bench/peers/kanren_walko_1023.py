# bench/peers/kanren_walko_1023.py: Python kanren side of kanren_walko_1023.scm;
# in-process medians of 5 (PYTHONPATH from bench/peers/kanren_env.sh).
import time, statistics, sys
sys.setrecursionlimit(100000)
from functools import partial
from kanren import run, var, eq, lall
from kanren.graph import walko, reduceo
def tree(d): return 'a' if d == 0 else ('f', tree(d-1), tree(d-1))
t = tree(9)
def ab(a, b): return lall(eq(a, 'a'), eq(b, 'b'))
def med(f):
    ts = []
    for _ in range(5):
        t0 = time.perf_counter(); r = f(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts), r
q = var()
tw, r1 = med(lambda: run(1, q, walko(ab, t, q)))
tr, r2 = med(lambda: run(1, q, reduceo(partial(walko, ab), t, q)))
print("walko %.3f s reduceo %.3f s same %s" % (tw, tr, r1 == r2))
