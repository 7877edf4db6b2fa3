#!/usr/bin/env python3
"""bench/peers/maude.py [--input] FILE.maude — the Maude peer of a rewriting
entry of `pkanren bench` (bench/rewrites/unitlaw-1m.bench, model-rw-1m.bench).

Runs `maude -no-banner -batch FILE` once (FILE as written by
`bench/gen_unitlaw.py --maude`: the module, `set show timing on`, one `red`,
`quit`), timing the whole process (monotonic clock around it, peak RSS from
wait4), and prints one line for the harness:

    peer maude: wall=S rss_kb=K phase=S cpu=S rewrites=N rate=R check=ok

phase and cpu are Maude's own "in Xms cpu (Yms real)" of the reduction,
rate its printed rewrites/second (rewrites over its cpu time).  check
compares Maude's normal form with the output term of the model that
pkanren wrote into the directory $PKOUT, both reduced to their atoms in
prefix order (mul(x, y) and (mul x y) are both `mul x y`; pkanren's shared
subterms, `(define _N TERM)`, written out in place): ok, DIFFERS, or - without
$PKOUT.  With --input, the entry is one that reads and prints the model
back (model-rw-1m): $PKOUT is then the file of the model pkanren printed,
and its output term is compared with the term Maude was given (the `red`
line of FILE), not with Maude's normal form.  Without maude on PATH the line is
`peer maude: unavailable: REASON` and the harness skips the peer.

The stack's soft limit is raised to the hard limit for Maude (as `ulimit -s
unlimited` would): its rewriting recurses on the term's depth.  The depth
is not what limits this peer, though: Maude's parser slows down steeply
with nesting (a right-nested chain took 0.5 s at depth 500, 2.4 s at 1000,
15 s at 2000 and did not finish in 7 minutes at 10,000), while the
generated tree's depth is 78.
"""
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def tokens(text):
    """The atoms of a term in prefix order, parentheses and commas dropped."""
    return re.findall(r"[^\s(),]+", text)


def sexp(text):
    """The s-expressions of text as nested lists of atoms."""
    stack = [[]]
    for tok in re.findall(r"\(|\)|[^\s()]+", re.sub(r";[^\n]*", "", text)):
        if tok == "(":
            stack.append([])
        elif tok == ")":
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok)
    return stack[0]


def pk_term(pkout):
    """The atoms of the output term of the one model pkanren wrote (into the
    directory pkout, or the file pkout), its shared subterms (`(define _N
    TERM)`) written out in place."""
    if os.path.isdir(pkout):
        names = sorted(n for n in os.listdir(pkout) if n.endswith(".model"))
        if len(names) != 1:
            return None
        pkout = os.path.join(pkout, names[0])
    with open(pkout) as f:
        models = sexp(f.read())
    if len(models) != 1:
        return None
    model = models[0]
    defs = {x[1]: x[2] for x in model if isinstance(x, list) and x[0] == "define"}
    outs = [x[1] for x in model if isinstance(x, list) and x[0] == "output"]
    atoms = []

    def walk(t):
        if isinstance(t, list):
            for x in t:
                walk(x)
        elif t in defs:
            walk(defs[t])
        else:
            atoms.append(t)

    if len(outs) != 1:
        return None
    walk(outs[0])
    return atoms


def maude_result(out):
    """The text of Maude's `result SORT: TERM` (continued on indented lines)."""
    m = re.search(r"^result [^:\n]+: (.*(?:\n[ \t].*)*)", out, re.M)
    return m.group(1) if m else None


def raise_stack():
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    resource.setrlimit(resource.RLIMIT_STACK, (hard, hard))


def red_term(path):
    """The text of the term of the `red` command in Maude file path."""
    with open(path) as f:
        m = re.search(r"^red (.*?) \.$", f.read(), re.M | re.S)
    return m.group(1) if m else None


def main():
    args = sys.argv[1:]
    given = args[:1] == ["--input"]
    if given:
        args = args[1:]
    if len(args) != 1:
        sys.exit(__doc__.split("\n\n")[0])
    maude = shutil.which("maude")
    if not maude:
        print("peer maude: unavailable: maude is not on PATH (apt-get install maude)")
        return
    with tempfile.TemporaryFile() as out:
        t0 = time.monotonic()
        p = subprocess.Popen([maude, "-no-banner", "-batch", args[0]], stdin=subprocess.DEVNULL,
                             stdout=out, stderr=subprocess.STDOUT, preexec_fn=raise_stack)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        out.seek(0)
        text = out.read().decode(errors="replace")
    m = re.search(r"^rewrites: (\d+) in (\d+)ms cpu \((\d+)ms real\) \((~|\d+) rewrites/second\)", text, re.M)
    result = maude_result(text)
    if status != 0 or not m or result is None:
        sys.stderr.write(text[-2000:])
        sys.exit("maude.py: maude exited with status %d without a result" % (status >> 8))
    check = "-"
    pkout = os.environ.get("PKOUT")
    if pkout and os.path.exists(pkout):
        theirs = red_term(args[0]) if given else result
        pk, mine = pk_term(pkout), tokens(theirs or "")
        check = "ok" if pk == mine else "DIFFERS"
        if pk != mine:
            sys.stderr.write("maude.py: %s has %d atoms, pkanren's %s\n"
                             % ("the term given" if given else "Maude's normal form", len(mine),
                                "none" if pk is None else len(pk)))
    rate = m.group(4) if m.group(4) != "~" else "-"
    print("peer maude: wall=%.6f rss_kb=%d phase=%.3f cpu=%.3f rewrites=%s rate=%s check=%s"
          % (wall, ru.ru_maxrss, int(m.group(3)) / 1000, int(m.group(2)) / 1000, m.group(1), rate, check))


if __name__ == "__main__":
    main()
