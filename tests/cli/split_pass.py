#!/usr/bin/env python3
"""split_pass.py PKANREN -- one large model rewritten on 1 and 2 workers
(docs/DESIGN.md, "Split passes"): a 200,001-node unit-law tree is over the
65,536-list threshold, so its passes are split into tasks, which -j 2 runs
on the pool.  The output file is byte-identical and the summary line the
same (time and run id aside) on 1 and 2 workers and in a second -j 2 run;
the output is the normal form Maude would give (checked against a
bottom-up normaliser of the six laws); a --max-steps below the model's
count stops it on both worker counts with the same message."""
import json, os, subprocess, sys, tempfile
from _checks import check, finish

PK = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GEN = os.path.join(ROOT, "bench", "gen_unitlaw.py")
RULES = os.path.join(ROOT, "bench", "unitlaw.scm")


def rewrite(model, out, workers, *extra):
    return subprocess.run([PK, "rewrite", "-j", str(workers), "--rules", RULES, "--relation", "unit-law", model,
                           "-o", out, *extra], capture_output=True, text=True)


def summary(out):
    with open(os.path.join(out, "summary.jsonl")) as f:
        line = json.loads(f.readline())
    for k in ("seconds", "run", "stat_key"):
        line.pop(k, None)
    return line


def parse(text, i=0):
    """The first term of text from i: (term, next index); lists as tuples."""
    while text[i].isspace():
        i += 1
    if text[i] == "(":
        items, i = [], i + 1
        while True:
            while text[i].isspace():
                i += 1
            if text[i] == ")":
                return tuple(items), i + 1
            x, i = parse(text, i)
            items.append(x)
    j = i
    while text[j] not in "() \n\t":
        j += 1
    return text[i:j], j


def normal(t):
    """The six laws' normal form, bottom up (the system is confluent)."""
    stack, done = [(t, False)], []
    while stack:
        x, ready = stack.pop()
        if not isinstance(x, tuple):
            done.append(x)
        elif not ready:
            stack.append((x, True))
            stack += [(e, False) for e in reversed(x[1:])]
        else:
            b = done.pop()
            a = done.pop()
            op = x[0]
            if op == "mul" and "0" in (a, b):
                done.append("0")
            elif op == "mul" and a == "1":
                done.append(b)
            elif op in ("mul", "add") and b == ("1" if op == "mul" else "0"):
                done.append(a)
            elif op == "add" and a == "0":
                done.append(b)
            else:
                done.append((op, a, b))
    return done[0]


def output_term(path):
    """The model's output term, its defines written out in place."""
    text = open(path).read()
    defs, i = {}, text.index("(model")
    model, _ = parse(text, i)

    def expand(x):
        if isinstance(x, tuple):
            return tuple(expand(e) for e in x)
        return expand(defs[x]) if x in defs else x

    out = None
    for item in model[2:]:
        if item[0] == "define":
            defs[item[1]] = item[2]
        elif item[0] == "output":
            out = expand(item[1])
    return out


with tempfile.TemporaryDirectory() as d:
    model = os.path.join(d, "big.model")
    with open(model, "w") as f:
        subprocess.run([sys.executable, GEN, "--nodes", "200001", "--seed", "3"], stdout=f, check=True)
    runs = {}
    for name, w in (("j1", 1), ("j2", 2), ("j2b", 2)):
        out = os.path.join(d, name)
        r = rewrite(model, out, w)
        check(r.returncode == 0, f"{name}: exit 0", r.stderr)
        runs[name] = (open(os.path.join(out, "big.model"), "rb").read(), summary(out))
    check(runs["j1"][0] == runs["j2"][0] == runs["j2b"][0], "the output is byte-identical on 1 and 2 workers")
    check(runs["j1"][1] == runs["j2"][1] == runs["j2b"][1], "the summary line is the same on 1 and 2 workers",
          repr((runs["j1"][1], runs["j2"][1])))
    s = runs["j1"][1]
    check(s["status"] == "ok" and s["nodes_before"] > 65536, "the model is over the split threshold", repr(s))
    want = normal(parse(open(model).read()[open(model).read().index("(output") + 7:])[0])
    check(output_term(os.path.join(d, "j1", "big.model")) == want, "the output is the laws' normal form")
    # a step limit below the model's count: the same verdict and message on both
    limit = str(s["rewrites"])
    msgs = []
    for w in (1, 2):
        out = os.path.join(d, f"lim{w}")
        r = rewrite(model, out, w, "--max-steps", limit)
        check(r.returncode == 1, f"-j {w} --max-steps {limit}: exit 1", r.stderr)
        line = summary(out)
        msgs.append((line.get("status"), line.get("message")))
    check(msgs[0] == msgs[1] and msgs[0][0] == "error" and "step limit" in (msgs[0][1] or ""),
          "the step limit stops it alike on 1 and 2 workers", repr(msgs))
finish("split_pass")
