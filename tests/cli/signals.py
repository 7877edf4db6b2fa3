#!/usr/bin/env python3
"""signals.py PKANREN -- `pkanren run` under SIGINT, SIGTERM and SIGHUP,
with its output to a file and to a pipe (SPEC §2, §6).

A program whose first run* finishes and whose second never does is
signalled once it has run a while (0.3 s of CPU: reading and compiling it
take milliseconds).  Expected: exit 128+signal, the first run's line in
the file, the second's answers so far as its list followed by
" ; partial: interrupted", and file:line:col: interrupted (SIGNAME) on
stderr.  A signal while a large file is read exits at once; output piped
to a reader that goes away ends the process by SIGPIPE, silently."""
import os, signal, subprocess, sys, tempfile, time
from _checks import check, finish

PK = sys.argv[1]
PROG = """(run* (q) (conde [(== q 1)] [(== q 2)]))
(defrel (nat n) (conde [(== n 'z)] [(fresh (m) (== n `(s ,m)) (nat m))]))
(run* (q) (nat q))
"""


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_cpu(p, secs, limit=60):
    t0 = time.time()
    while cpu_seconds(p.pid) < secs and time.time() - t0 < limit and p.poll() is None:
        time.sleep(0.02)


def run_signalled(d, args, sig, name):
    out, err = os.path.join(d, "out"), os.path.join(d, "err")
    with open(out, "w") as o, open(err, "w") as e:
        p = subprocess.Popen([PK, "run", *args, os.path.join(d, "prog.scm")], stdout=o, stderr=e, stdin=subprocess.DEVNULL)
        wait_cpu(p, 0.3)
        p.send_signal(sig)
        rc = p.wait(timeout=60)
    return rc, open(out).read(), open(err).read()


with tempfile.TemporaryDirectory() as d:
    with open(os.path.join(d, "prog.scm"), "w") as f:
        f.write(PROG)
    for sig, status, name in ((signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT"), (signal.SIGHUP, 129, "SIGHUP")):
        for args in (["-j", "1"], ["-j", "2"], ["-j", "2", "--unordered"]):
            rc, out, err = run_signalled(d, args, sig, name)
            what = f"{name} {' '.join(args)}"
            check(rc == status, f"{what}: status {rc}, want {status}")
            lines = out.split("\n")
            check(lines[0] == "(1 2)", f"{what}: the finished run* is lost: {out[:80]!r}")
            check(len(lines) >= 2 and lines[1].startswith("(z (s z)") and lines[1].endswith(") ; partial: interrupted"),
                  f"{what}: no partial result: {out[:80]!r}...{out[-60:]!r}")
            check(f"prog.scm:" in err and f"interrupted ({name})" in err, f"{what}: stderr {err!r}")
    # --stream: the answers are on disk as released; nothing is added to them
    rc, out, err = run_signalled(d, ["-j", "1", "--stream"], signal.SIGTERM, "SIGTERM")
    check(rc == 143 and out.startswith("1\n2\nz\n(s z)\n") and "partial" not in out, f"--stream: {rc} {out[:40]!r}")
    # JSON stream: a last line says where the run stopped
    rc, out, err = run_signalled(d, ["-j", "1", "--stream", "--format", "json"], signal.SIGTERM, "SIGTERM")
    last = out.rstrip("\n").split("\n")[-1]
    check(rc == 143 and last == '{"run":1,"stopped":"interrupted"}', f"--stream json: {rc} {last!r}")
    # a signal while reading a large file: at once, 130, a message
    with open(os.path.join(d, "big.scm"), "w") as f:
        f.write("(" * 30_000_000)
    p = subprocess.Popen([PK, "run", os.path.join(d, "big.scm")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_cpu(p, 0.2)
    t0 = time.time()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    check(p.returncode == 130 and time.time() - t0 < 2.0, f"while reading: {p.returncode} after {time.time() - t0:.1f} s")
    check(b"interrupted (SIGINT) before the program ran" in err, f"while reading: {err!r}")
    # SIGPIPE: the reader of the pipe goes away; no message, killed by SIGPIPE (141 in a shell)
    p = subprocess.Popen([PK, "run", "-j", "1", "--stream", os.path.join(d, "prog.scm")], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    for _ in range(3):
        p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read()
    rc = p.wait(timeout=60)
    check(rc == -signal.SIGPIPE and err == b"", f"pipe: status {rc}, stderr {err!r}")

finish("signals")
