"""tests/cli/_checks.py -- what the tests/cli/*.py tests share (a file
whose name starts with _ is not a test): checks counted and printed as they
fail, and the last line with the exit status."""
import sys

fails = 0


def check(cond, what, detail=""):
    """Count and print a failed check; cond, so callers can chain."""
    global fails
    if not cond:
        fails += 1
        print("FAIL:", what + ("\n" + detail if detail else ""), flush=True)
    return cond


def finish(name):
    """The test's last line, and its exit: 0 when every check held."""
    print(f"{name}:", "ok" if not fails else f"{fails} failures")
    sys.exit(1 if fails else 0)
