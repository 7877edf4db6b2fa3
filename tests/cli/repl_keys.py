#!/usr/bin/env python3
"""repl_keys.py PKANREN -- `pkanren repl` on a pseudo-terminal: Ctrl-C at a
continuation prompt drops the partial input (a fresh prompt, the next line
evaluated alone), Ctrl-C during a query cancels it and the REPL goes on,
Ctrl-D inside an unfinished expression says what it discards and exits 0."""
import os, pty, select, signal, sys, tempfile, time

PK = sys.argv[1]
fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print("FAIL:", what)


def read_until(fd, text, secs=20):
    """Output up to and including text (or whatever came within secs)."""
    buf, t0 = b"", time.time()
    while text.encode() not in buf and time.time() - t0 < secs:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf.decode(errors="replace")


with tempfile.TemporaryDirectory() as home:
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["HOME"] = home
        os.execv(PK, [PK, "repl"])
    check("pkanren> " in read_until(fd, "pkanren> "), "no first prompt")
    os.write(fd, b"(+ 1\r")
    check("  ... " in read_until(fd, "  ... "), "no continuation prompt")
    os.write(fd, b"\x03")  # Ctrl-C at the continuation prompt
    check("pkanren> " in read_until(fd, "pkanren> "), "Ctrl-C at '...' gives no fresh prompt")
    os.write(fd, b"(+ 2 3)\r")
    out = read_until(fd, "pkanren> ")
    check("\r\n5\r\n" in out and "(+ 2 3)(+ 2 3)" not in out, f"the line after Ctrl-C is not evaluated alone: {out!r}")
    os.write(fd, b"(run* (q) (let loop () (loop)))\r")
    time.sleep(0.5)
    os.write(fd, b"\x03")  # Ctrl-C while the query runs
    out = read_until(fd, "pkanren> ")
    check("interrupted" in out and "<repl>:1:" in out and "pkanren> " in out, f"Ctrl-C does not cancel the query: {out!r}")
    os.write(fd, b"(run 1 (q) (== q 'alive))\r")
    out = read_until(fd, "pkanren> ")
    check("(alive)" in out, f"the REPL is gone after Ctrl-C: {out!r}")
    os.write(fd, b"(list 1\r")
    read_until(fd, "  ... ")
    os.write(fd, b"\x04")  # Ctrl-D inside an unfinished expression
    out = read_until(fd, "(list 1", 10) + read_until(fd, "\n", 2)
    check("discarded: (list 1" in out, f"Ctrl-D does not say what it discards: {out!r}")
    _, st = os.waitpid(pid, 0)
    check(os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, f"exit status {st}")

print("repl_keys:", "ok" if not fails else f"{fails} failures")
sys.exit(1 if fails else 0)
