#!/usr/bin/env python3
"""json_roundtrip.py PKANREN -- `pkanren run --format json` decoded by
Python's json module (SPEC §6): every kind of value decodes, and values
that print alike in JSON-as-strings (a, "a", _.0, #\\a, (a . b), #(a),
1 and 1.0) are told apart."""
import json, math, os, subprocess, sys, tempfile
from _checks import check, finish

PK = sys.argv[1]
PROG = r"""(display "program output") (newline)
(run* (q) (conde [(== q 'a)] [(== q "a")] [(== q '_.0)] [(== q #\a)] [(== q '(a . b))] [(== q '(a b . c))]
                 [(== q (vector 'a))] [(== q '(a))] [(== q 1)] [(== q 1.0)] [(== q -0.5)] [(== q 1e21)]
                 [(== q (/ 1.0 0))] [(== q (/ -1.0 0))] [(== q (- (/ 1.0 0) (/ 1.0 0)))] [(== q #t)] [(== q #f)]
                 [(== q '())] [(== q "\"q\\\n\x7f;\xe9;")] [(== q (/ 1 3))]))
(run* (q) (fresh (x y) (== q `(,x ,y ,x))))
(run* (q) (fresh (x y w) (=/= x 'a) (symbolo y) (numbero w) (absento 'z x) (== q `(,x ,y ,w))))
(run* (q) (== q '(a (sym x))))
"""
WANT = [
    {"sym": "a"}, "a", {"var": 0}, {"char": "a"},
    {"pair": [{"sym": "a"}, {"sym": "b"}]},
    {"pair": [{"sym": "a"}, {"pair": [{"sym": "b"}, {"sym": "c"}]}]},
    {"vector": [{"sym": "a"}]}, [{"sym": "a"}], 1, 1.0, -0.5, 1e21,
    {"float": "inf"}, {"float": "-inf"}, {"float": "nan"}, True, False, [], "\"q\\\n\x7f\xe9", {"ratio": [1, 3]},
]


def same(a, b):
    """Equality that tells 1 from 1.0 and true from 1."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


with tempfile.TemporaryDirectory() as d:
    prog = os.path.join(d, "kinds.scm")
    with open(prog, "w") as f:
        f.write(PROG)
    r = subprocess.run([PK, "run", "--format", "json", prog], capture_output=True, text=True)
    check(r.returncode == 0, f"status {r.returncode}: {r.stderr}")
    lines = r.stdout.split("\n")
    check(lines[0] == "program output", f"program output {lines[0]!r}")
    runs = [json.loads(l) for l in lines[1:] if l]
    check(len(runs) == 4, f"{len(runs)} run lines")
    kinds = runs[0]
    check(len(kinds) == len(WANT), f"{len(kinds)} answers, want {len(WANT)}")
    for got, want in zip(kinds, WANT):
        check(same(got, want), f"decoded {got!r}, want {want!r}")
    encoded = [json.dumps(k, sort_keys=True) for k in kinds]
    check(len(set(encoded)) == len(encoded), "two kinds decode to the same value")
    check(isinstance(kinds[9], float) and isinstance(kinds[8], int), "1.0 is not a float or 1 not an integer")
    check(same(runs[1], [[{"var": 0}, {"var": 1}, {"var": 0}]]), f"variables {runs[1]!r}")
    c = runs[2][0]
    check(set(c) == {"answer", "constraints"}, f"constrained answer {c!r}")
    check(same(c["answer"], [{"var": 0}, {"var": 1}, {"var": 2}]), f"constrained term {c!r}")
    check(same(c["constraints"], {"=/=": [[[{"var": 0}, {"sym": "a"}]]], "num": [{"var": 2}], "sym": [{"var": 1}],
                                  "absento": [[{"sym": "z"}, {"var": 0}]]}), f"constraints {c['constraints']!r}")
    # a term shaped like an answer with constraints stays a term
    check(same(runs[3], [[{"sym": "a"}, [{"sym": "sym"}, {"sym": "x"}]]]), f"look-alike {runs[3]!r}")
    # --stream: {"run":K,"answer":A} lines on stdout, program output on stderr
    r = subprocess.run([PK, "run", "--format", "json", "--stream", prog], capture_output=True, text=True)
    check(r.returncode == 0 and r.stderr == "program output\n", f"stream: {r.returncode} {r.stderr!r}")
    recs = [json.loads(l) for l in r.stdout.split("\n") if l]
    check(all(set(x) == {"run", "answer"} for x in recs), "stream records")
    check([x["run"] for x in recs] == [0] * len(WANT) + [1, 2, 3], f"run indexes {[x['run'] for x in recs]}")
    check(all(same(x["answer"], w) for x, w in zip(recs, WANT)), "stream answers")

finish("json_roundtrip")
