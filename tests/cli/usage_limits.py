#!/usr/bin/env python3
"""usage_limits.py PKANREN -- the run command's validation (exit 2 with a
message naming the word or value) and its limits (exit 3 with a message
naming the limit, the answers found so far printed as a partial result)."""
import os, subprocess, sys, tempfile
from _checks import check, finish

PK = sys.argv[1]


def pk(*args, env=None):
    e = dict(os.environ)
    e.pop("PKANREN_THREADS", None)
    e.update(env or {})
    return subprocess.run([PK, *args], capture_output=True, text=True, env=e, stdin=subprocess.DEVNULL, timeout=120)


with tempfile.TemporaryDirectory() as d:
    prog = os.path.join(d, "nat.scm")
    with open(prog, "w") as f:
        f.write("(run 2 (q) (== q 'first))\n"
                "(defrel (nat n) (conde [(== n 'z)] [(fresh (m) (== n `(s ,m)) (nat m))]))\n"
                "(run* (q) (nat q))\n")
    loop = os.path.join(d, "loop.scm")
    with open(loop, "w") as f:
        f.write("(define (spin) (spin))\n(spin)\n")
    # usage errors: exit 2, the value named; nothing runs
    for args, env, word in ((["run", "-j", "100000", prog], None, "'100000'"),
                            (["run", "-j2147483648", prog], None, "'2147483648'"),
                            (["run", "-j", "0", prog], None, "'0'"),
                            (["run", prog], {"PKANREN_THREADS": "abc"}, "PKANREN_THREADS 'abc'"),
                            (["run", prog], {"PKANREN_THREADS": "0"}, "PKANREN_THREADS '0'"),
                            (["run", prog], {"PKANREN_THREADS": "5000"}, "PKANREN_THREADS '5000'"),
                            (["run", "--stack", "18446744073709551615G", prog], None, "'18446744073709551615G'"),
                            (["run", "--stack", "99999999999999999999", prog], None, "'99999999999999999999'"),
                            (["run", "--max-steps", "-5", prog], None, "'-5'"),
                            (["run", "--timeout", "nan", prog], None, "'nan'"),
                            (["run", "--bogus", prog], None, "'--bogus'"),
                            (["rewrote"], None, "'rewrote'"),
                            (["bench", "--bogus"], None, "'--bogus'"),
                            (["repl", "extra"], None, "'extra'")):
        r = pk(*args, env=env)
        check(r.returncode == 2 and word in r.stderr and r.stdout == "", f"{args} {env}: {r.returncode} {r.stderr[:120]!r}")
    r = pk("run", "-j", "1024", os.devnull)
    check(r.returncode == 0, f"-j 1024 (the largest) refused: {r.stderr[:120]!r}")
    r = pk("--version")
    check(r.returncode == 0 and r.stdout.startswith("pkanren ") and "(" in r.stdout, f"--version {r.stdout!r}")
    # limits: exit 3, the limit named, the partial result printed
    r = pk("run", "-j", "1", "--max-steps", "500", prog)
    lines = r.stdout.split("\n")
    check(r.returncode == 3 and "nat.scm:" in r.stderr and "max-steps 500" in r.stderr, f"--max-steps: {r.returncode} {r.stderr!r}")
    check(lines[0] == "(first)" and lines[1].startswith("(z (s z)") and
          lines[1].endswith(" ; partial: the step limit (max-steps 500)"), f"--max-steps output {r.stdout[:60]!r}")
    fewer = pk("run", "-j", "1", "--max-steps", "100", prog).stdout.split("\n")[1]
    check(len(fewer) < len(lines[1]), "a smaller step limit finds no fewer answers")
    r = pk("run", "-j", "1", "--timeout", "0.5", loop)
    check(r.returncode == 3 and "loop.scm:" in r.stderr and "timeout 0.5 s" in r.stderr, f"--timeout: {r.returncode} {r.stderr!r}")
    r = pk("run", "-j", "2", "--max-memory", "64M", prog)
    check(r.returncode == 3 and "max-memory 67108864" in r.stderr and " ; partial: the memory limit" in r.stdout,
          f"--max-memory: {r.returncode} {r.stderr!r}")
    r = pk("run", "-j", "1", "--stream", "--format", "json", "--max-steps", "300", prog)
    last = r.stdout.rstrip("\n").split("\n")[-1]
    check(r.returncode == 3 and last == '{"run":1,"stopped":"the step limit (max-steps 300)"}', f"json stream limit {last!r}")

    # the stack budget exhausted while compiling: at the top-level form
    deep = os.path.join(d, "deep.scm")
    with open(deep, "w") as f:
        f.write("(display 1)\n(define x " + "(+ 1 " * 200000 + "0" + ")" * 200000 + ")\n")
    r = pk("run", "--stack", "1M", deep)
    check(r.returncode == 3 and r.stderr.startswith(deep + ":2:1: stack budget exhausted"),
          f"compile stack: {r.returncode} {r.stderr[:100]!r}")

finish("usage_limits")
