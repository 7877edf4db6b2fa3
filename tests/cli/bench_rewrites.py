#!/usr/bin/env python3
"""tests/cli/bench_rewrites.py PKANREN — `pkanren bench`'s rewriting
entries end to end, on the tiny entries of tests/cli/bench/ (the shape of
the report, never its times): the listing and a missing generator, rows per
relation and worker count with rewrites, models/s and the rerun, a peer's
row and the ratios against it, a `run` entry whose peer disagrees (no
ratios, exit 1), `run` entries put against the peer's whole process
(`versus: whole`; Maude checking that a model read and printed back is the
term it was given), the --json records, inputs generated once and then
taken from the cache, and an unknown name (exit 2)."""
import json
import os
import re
import subprocess
import sys
import tempfile

from _checks import check as _check, finish

PK = os.path.abspath(sys.argv[1])
HERE = os.path.dirname(os.path.abspath(__file__))
ENTRIES = os.path.join(HERE, "bench")


def check(name, ok, detail=""):
    _check(ok, name, detail)


def bench(*args, cache):
    p = subprocess.run([PK, "bench", "--rewrites", ENTRIES, "--cache", cache, *args], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=240)
    return p.returncode, p.stdout, p.stderr


def row(out, label, w):
    """The columns of the row of label (or a continuation row) at W=w."""
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.split()[:1] == [label]:
            for ln in lines[i:i + 4]:
                cols = ln.split()
                if cols[:2] == [label, str(w)]:
                    return cols[1:]
                if cols[:1] == [str(w)]:
                    return cols
    return None


def number(s):
    return re.fullmatch(r"[0-9.]+[kMG]?", s) is not None


with tempfile.TemporaryDirectory() as t:
    cache = os.path.join(t, "cache")
    rc, out, err = bench("--list", cache=cache)
    check("list exit 0", rc == 0, err)
    check("list names the entries", all(n in out for n in ("tiny-bulk", "tiny-unitlaw", "tiny-run")), out)
    check("list says the generator is missing",
          re.search(r"\(skipped: its generator \S*gen_missing\.py is missing\)", out) is not None, out)

    hist = os.path.join(t, "h.jsonl")
    rc, out, err = bench("tiny-bulk", "tiny-unitlaw", "tiny-missing", "-j", "1,2", "--runs", "1", "--json", hist,
                         cache=cache)
    report = out + err
    check("run exit 0", rc == 0, report)
    check("inputs generated", err.count("generating its inputs") == 2, err)
    check("rewriting header", re.search(r"^rewriting +W +wall s +phase s +rewrites +rewr/s +models/s +peak MB +wall x "
                                        r"+phase x +rerun s +rerun/1 +check$", out, re.M) is not None, out)
    for label in ("tiny-bulk/unit-law", "tiny-bulk/none"):
        for w in (1, 2):
            c = row(out, label, w)
            check("%s W=%d row" % (label, w), c is not None and len(c) == 12, out)
            if c and len(c) == 12:
                # W wall phase rewrites rewr/s models/s MB wall-x phase-x rerun rerun/1 check
                # phase x is "-" when the W=1 phase was too short to time (0.0000)
                base = row(out, label, 1)
                untimed = base is not None and base[2] == "0.0000" and c[8] == "-"
                check("%s W=%d figures" % (label, w),
                      all(number(x) for x in c[1:3] + c[4:8] + c[9:11]) and (number(c[8]) or untimed) and c[11] == "ok",
                      out)
                check("%s W=%d rewrites" % (label, w), c[3] == ("349" if label.endswith("unit-law") else "0"), out)
    check("fixed peer row", re.search(r"^  fixed +- +9\.500 +2\.500 +1000 +400\.0 +- +2000\.0 .* same answer$", out,
                                      re.M) is not None, out)
    check("ratios against the fixed peer",
          re.search(r"^  vs fixed \(W=1\): whole process fixed/pk [0-9.]+x; rewriting phase fixed/pk [0-9.]+x; "
                    r"fixed's rewrites / pk's phase \S+/s vs fixed's 400\.0/s \([0-9.]+x\); peak memory pk/fixed "
                    r"[0-9.]+$", out, re.M) is not None, out)
    for w in (1, 2):
        c = row(out, "tiny-unitlaw", w)
        check("tiny-unitlaw W=%d row" % w, c is not None and c[3] == "339" and c[11] == "ok", out)
    maude = re.search(r"^  maude +- .* same answer$", out, re.M) and re.search(
        r"^  vs maude \(W=1\): whole process maude/pk [0-9.]+x; ", out, re.M)
    check("maude row (or unavailable)", maude is not None or re.search(r"^  maude +unavailable: ", out, re.M),
          out)
    check("goal line", "\n  goal: a goal line\n" in out, out)
    check("skipped list", re.search(r"^skipped:\n  tiny-missing +its generator", out, re.M) is not None, out)

    recs = []
    with open(hist) as f:
        for line in f:
            try:
                recs.append(json.loads(line))
            except ValueError:
                check("json line", False, line)
    names = sorted((r["name"], r["workers"]) for r in recs)
    want = [("tiny-bulk (fixed)", 1), ("tiny-bulk/none", 1), ("tiny-bulk/none", 2), ("tiny-bulk/unit-law", 1),
            ("tiny-bulk/unit-law", 2), ("tiny-unitlaw", 1), ("tiny-unitlaw", 2)]
    check("json records", [n for n in names if n != ("tiny-unitlaw (maude)", 1)] == want, repr(names))
    for r in recs:
        if r.get("kind") == "rewrite":
            check("json fields of %s" % r["name"],
                  all(k in r for k in ("date", "commit", "machine", "wall_s", "phase_s", "rewrites", "models_per_s",
                                       "peak_rss_kb", "speedup", "rerun_s", "check"))
                  and r["check"] == "ok" and r["status"] == "ok" and r["models"] >= 1, repr(r))
            check("json rerun of %s" % r["name"], (r["rerun_s"] is not None) == r["name"].startswith("tiny-bulk"),
                  repr(r))
        elif r.get("kind") == "peer":
            check("json peer %s" % r["name"], r["check"] == "ok" and r["wall_s"] > 0, repr(r))

    rc, out, err = bench("tiny-bulk", "-j", "1", "--runs", "1", cache=cache)
    check("cached rerun exit 0", rc == 0, out + err)
    check("inputs taken from the cache", "generating" not in err, err)

    rc, out, err = bench("tiny-run", "-j", "1,2", "--runs", "2", cache=cache)
    check("disagreeing peer exit 1", rc == 1, out + err)
    for w in (1, 2):
        c = row(out, "tiny-run", w)
        check("tiny-run W=%d row" % w, c is not None and number(c[2]) and c[3] == "-" and c[11] == "ok", out)
    check("no ratios when the answers differ", "\n  vs wrong: the answers differ: no ratios\n" in out, out)
    check("mismatch counted", "MISMATCH: 1 benchmark(s)" in out, out)

    rc, out, err = bench("tiny-versus", "tiny-readprint", "-j", "1", "--runs", "1", cache=cache)
    check("versus entries exit 0", rc == 0, out + err)
    check("in-process over the peer's whole process",
          re.search(r"^  vs fixed \(W=1\): pk's in-process over fixed's whole process 0\.0[0-9]{2} "
                    r"\(pk [0-9.]+ s, fixed 2\.000 s\)$", out, re.M) is not None, out)
    c = row(out, "tiny-readprint", 1)
    check("tiny-readprint row", c is not None and c[11] == "ok", out)
    readprint = re.search(r"^  maude +- .* same answer$", out, re.M) and re.search(
        r"^  vs maude \(W=1\): pk's in-process over maude's whole process [0-9.]+ ", out, re.M)
    check("read + print against maude (or unavailable)",
          readprint is not None or re.search(r"^  maude +unavailable: ", out, re.M), out)

    rc, out, err = bench("no-such-entry", cache=cache)
    check("unknown name exit 2", rc == 2 and "unknown benchmark 'no-such-entry'" in err, out + err)

finish("bench_rewrites")
