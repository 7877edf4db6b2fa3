#!/usr/bin/env python3
"""repl_keys.py PKANREN -- `pkanren repl` on a pseudo-terminal: Ctrl-C at a
continuation prompt drops the partial input (a fresh prompt, the next line
evaluated alone), Ctrl-C during a query cancels it and the REPL goes on,
Ctrl-D inside an unfinished expression says what it discards and exits 0."""
import os, pty, select, signal, sys, tempfile, termios, time
from _checks import check as _check, finish

PK = sys.argv[1]
transcript = []  # everything read, printed with a failure


def check(cond, what):
    _check(cond, what, "  read so far: " + repr("".join(transcript)))


def read_until(fds, text, secs=20):
    """Output of the terminal and of stderr (a pipe: what a process writes
    to a pseudo-terminal just before it exits can be lost) up to and
    including text, or whatever came within secs."""
    buf, t0 = b"", time.time()
    fds = list(fds)
    while fds and text.encode() not in buf and time.time() - t0 < secs:
        r, _, _ = select.select(fds, [], [], 0.1)
        for f in r:
            try:
                chunk = os.read(f, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                fds.remove(f)
            buf += chunk
    transcript.append(buf.decode(errors="replace"))
    return transcript[-1]


def type_keys(fd, keys):
    """Write keys once the line editor has the terminal in raw mode: keys
    typed ahead in cooked mode are the kernel's (it echoes them itself and
    turns Ctrl-D into an end of file), so what the editor does with them
    is not what this test checks."""
    t0 = time.time()
    while termios.tcgetattr(fd)[3] & termios.ICANON and time.time() - t0 < 20:
        time.sleep(0.01)
    os.write(fd, keys)


def wait_exit(pid, secs=30):
    """The child's wait status, or None (and the child killed) after secs."""
    t0 = time.time()
    while time.time() - t0 < secs:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            return st
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


with tempfile.TemporaryDirectory() as home:
    err_r, err_w = os.pipe()
    pid, fd = pty.fork()
    if pid == 0:
        os.dup2(err_w, 2)
        os.environ["HOME"] = home
        os.execv(PK, [PK, "repl"])
    os.close(err_w)
    fds = (fd, err_r)
    check("pkanren> " in read_until(fds, "pkanren> "), "no first prompt")
    type_keys(fd, b"(+ 1\r")
    check("  ... " in read_until(fds, "  ... "), "no continuation prompt")
    type_keys(fd, b"\x03")  # Ctrl-C at the continuation prompt
    check("pkanren> " in read_until(fds, "pkanren> "), "Ctrl-C at '...' gives no fresh prompt")
    type_keys(fd, b"(+ 2 3)\r")
    out = read_until(fds, "pkanren> ")
    check("\r\n5\r\n" in out and "(+ 2 3)(+ 2 3)" not in out, f"the line after Ctrl-C is not evaluated alone: {out!r}")
    type_keys(fd, b"(run* (q) (let loop () (loop)))\r")
    time.sleep(0.5)
    os.write(fd, b"\x03")  # Ctrl-C while the query runs
    out = read_until(fds, "pkanren> ")
    check("interrupted" in out and "<repl>:1:" in out and "pkanren> " in out, f"Ctrl-C does not cancel the query: {out!r}")
    type_keys(fd, b"(run 1 (q) (== q 'alive))\r")
    out = read_until(fds, "pkanren> ")
    check("(alive)" in out, f"the REPL is gone after Ctrl-C: {out!r}")
    type_keys(fd, b"(list 1\r")
    read_until(fds, "  ... ")
    type_keys(fd, b"\x04")  # Ctrl-D inside an unfinished expression
    out = read_until(fds, "(list 1", 10) + read_until(fds, "\n", 2)
    check("discarded: (list 1" in out, f"Ctrl-D does not say what it discards: {out!r}")
    st = wait_exit(pid)
    check(st is not None, "the REPL does not exit after Ctrl-D")
    check(st is not None and os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, f"exit status {st}")

finish("repl_keys")
