#!/usr/bin/env python3
"""kill_rerun.py PKANREN -- crash safety of `pkanren rewrite` batches (SPEC §6,
issue 14): a batch killed at any point and rerun to completion ends as an
uninterrupted run does.

The batch: bench/gen_bulk.py's 10,000 models in 2,000 files (seed 1, none malformed) and, in
subdirectories, files that fail (malformed, empty, a model past --max-steps
alone and beside five good ones); rules bench/unitlaw.scm, relation
unit-law, --max-steps 1000 (no generated model comes near it: the step count
of a model depends on the memo left by the models rewritten before it in
the same process, so a limit close to it would fail a model in one run and
not in another).  An uninterrupted run at -j 1 is the reference (-j 2
gives the same bytes, SPEC §3), T its wall time.  At -j 1 and -j 2:

  - SINGLES fresh output directories, each SIGKILLed after a seeded random
    delay in [0, T) and rerun to completion;
  - one output directory killed in succession, each rerun once its summary
    has grown to a seeded random size between its size and the reference's
    (a random point of the work left, whatever the load), then rerun to
    completion; then FINISHED reruns of the finished batch killed (while
    they skip or compact), and a last rerun: KILLS_PER_J kills at each -j.

After every kill: each output file under its final name equals the
reference's (no partial file has a final name) and every summary line is a
whole line of the reference's.  After the completing rerun: (a) the same
output files, byte for byte; (b) DIR/summary.jsonl has exactly one line per
model with the reference's status, message, counts and keys (seconds, run
ids and stat keys aside: a file read within 2 s of its last change has none); (c) no temporary file (*.tmp*) anywhere in DIR.  The kills
are counted by where they landed.

Four focused checks kill inside a write for certain: RLIMIT_FSIZE makes the
kernel cut a write short and end the process by SIGXFSZ (1) while an output
file's temporary is written, (2, 3) half way into a file's first or third
summary line, (4) while the summary is compacted.

The scratch files go to /dev/shm when it has room.  PK_KILL_SEED (default
1) seeds the delays and sizes."""
import os, random, re, resource, shutil, signal, subprocess, sys, tempfile, time
import _checks
from _checks import check

PK = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RULES = os.path.join(ROOT, "bench", "unitlaw.scm")
SEED = int(os.environ.get("PK_KILL_SEED", "1"))
SINGLES, FINISHED, KILLS_PER_J = 1, 2, 10
BASE = ["rewrite", "--rules", RULES, "--relation", "unit-law", "--max-steps", "1000"]
NOISE = re.compile(r',"(seconds|stat_key|run)":("[^"]*"|[-+.0-9eE]+)')
rnd = random.Random(SEED)
kills = []  # (where the kill landed) per kill


def limit_fsize(n):
    def pre():
        resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return pre


def start(d, j, out, inputs="in", fsize=None):
    """pkanren rewrite INPUTS -o OUT -j J in d (SIGXFSZ at its default:
    subprocess restores it)."""
    return subprocess.Popen([PK, *BASE, "-j", str(j), inputs, "-o", out], cwd=d, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=limit_fsize(fsize) if fsize else None)


def run(d, j, out, inputs="in", fsize=None):
    p = start(d, j, out, inputs, fsize)
    err = p.communicate(timeout=300)[1].decode(errors="replace")
    return p.returncode, err


def temporaries(out):
    return sorted(os.path.relpath(os.path.join(dp, n), out) for dp, _, names in os.walk(out) for n in names
                  if ".tmp" in n)


def snapshot(out):
    """Output files (relative path -> bytes), the summary's text, and the
    temporary files left in out."""
    files = {}
    for dp, _, names in os.walk(out):
        for n in names:
            p = os.path.join(dp, n)
            rel = os.path.relpath(p, out)
            if ".tmp" not in n and rel != "summary.jsonl":
                with open(p, "rb") as f:
                    files[rel] = f.read()
    try:
        with open(os.path.join(out, "summary.jsonl"), "rb") as f:
            summary = f.read().decode()
    except FileNotFoundError:
        summary = ""
    return files, summary, temporaries(out)


def lines_of(summary):
    """The summary's lines without seconds and run ids (a line cut short
    matches no line of the reference)."""
    return [NOISE.sub("", line) for line in summary.split("\n") if line]


def first_difference(name, got, want):
    """Where an output file departs from the reference's, to tell a cut
    file from a whole but different one."""
    if want is None:
        return f"  {name}: not in the reference ({len(got)} bytes)"
    a, b = got.decode(errors="replace").split("\n"), want.decode(errors="replace").split("\n")
    k = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return (f"  {name}: {len(got)} bytes against the reference's {len(want)}, first difference at line {k + 1}:\n"
            f"    got  {a[k][:200] if k < len(a) else '(end)'!r}\n    want {b[k][:200] if k < len(b) else '(end)'!r}")


def check_partial(what, out, ref):
    """A killed run's state: every output under a final name is the
    reference's, every summary line but one cut by the kill at the end a
    line of the reference."""
    files, summary, tmps = snapshot(out)
    ref_files, ref_lines = ref
    bad = [f for f in files if files[f] != ref_files.get(f)]
    if not check(not bad, f"{what}: {len(bad)} output files differ from the uninterrupted run's, e.g. {bad[:3]}"):
        print(first_difference(bad[0], files[bad[0]], ref_files.get(bad[0])), flush=True)
    extra = set(lines_of(summary[:summary.rfind("\n") + 1])) - set(ref_lines)
    check(not extra, f"{what}: summary lines the uninterrupted run does not have: {sorted(extra)[:2]}")
    return files, summary, tmps


def check_final(what, out, ref, rc, ref_rc, err):
    files, summary, tmps = snapshot(out)
    ref_files, ref_lines = ref
    ok = check(rc == ref_rc, f"{what}: completing rerun exit {rc}, uninterrupted {ref_rc}: {err[-300:]!r}")
    missing = sorted(set(ref_files) - set(files))
    extra = sorted(set(files) - set(ref_files))
    differ = sorted(f for f in files if f in ref_files and files[f] != ref_files[f])
    ok &= check(not missing and not extra and not differ,
                f"{what}: outputs missing {missing[:3]} ({len(missing)}), extra {extra[:3]} ({len(extra)}), "
                f"differing {differ[:3]} ({len(differ)})")
    got = lines_of(summary)
    if got != ref_lines:
        a, b = sorted(got), sorted(ref_lines)
        lost = sorted(set(b) - set(a))
        dups = len(a) - len(set(a))
        ok &= check(a == b, f"{what}: summary has {len(got)} lines, want {len(ref_lines)}; {len(lost)} lost "
                    f"(e.g. {lost[:1]}), {dups} duplicated, not the reference's: {sorted(set(a) - set(b))[:2]}")
    ok &= check(not tmps, f"{what}: temporary files left: {tmps[:5]}")
    return ok


def classify(before_lines, summary, total, tmps):
    """Where a kill landed, as its traces tell."""
    after_lines = summary.count("\n")
    if summary and not summary.endswith("\n"):
        return "appending summary lines"
    if any(t.startswith("summary.jsonl") for t in tmps):
        return "compacting the summary"
    if tmps:
        return "writing an output file"
    if after_lines > before_lines:
        return "reading, rewriting and writing files" if after_lines < total else "compacting (after the last file)"
    if before_lines < total:
        return "before a file was done (rules, summary, skipping done files)"
    return "rerunning a finished batch (skipping, compacting)"


def kill_when(d, j, out, delay=None, size=None):
    """Start a run and SIGKILL it after delay s, or once the summary has
    size bytes (progress, whatever the machine's load); True when it was
    killed rather than done first."""
    p = start(d, j, out)
    if delay is not None:
        time.sleep(delay)
    summary = os.path.join(out, "summary.jsonl")
    while size is not None and p.poll() is None:
        try:
            if os.path.getsize(summary) >= size:
                break
        except OSError:
            pass
        time.sleep(0.002)
    p.kill()
    p.communicate(timeout=60)
    return p.returncode == -signal.SIGKILL


def summary_size(out):
    try:
        return os.path.getsize(os.path.join(out, "summary.jsonl"))
    except OSError:
        return 0


def count_lines(out):
    try:
        with open(os.path.join(out, "summary.jsonl"), "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def one_kill(d, j, out, ref, total, what, delay=None, size=None):
    before, old_tmps = count_lines(out), temporaries(out)
    if not kill_when(d, j, out, delay, size):
        return False
    _, summary, tmps = check_partial(what, out, ref)
    kills.append(classify(before, summary, total, sorted(set(tmps) - set(old_tmps))))
    return True


def make_inputs(d):
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_bulk.py"), os.path.join(d, "in"),
                    "--malformed", "0"], check=True)
    x = os.path.join(d, "in", "extra")
    os.makedirs(os.path.join(x, "deep"))
    with open(os.path.join(x, "unbalanced.model"), "w") as f:
        f.write("(model bad1 (input x (tensor float64 ()))\n  (output (add x 0))\n")
    with open(os.path.join(x, "no_output.model"), "w") as f:
        f.write("(model bad2 (input x (tensor float64 ())))\n")
    open(os.path.join(x, "empty.model"), "w").close()
    t = "x"
    for _ in range(1500):
        t = f"(add {t} 0)"
    deep = f"(model deep (input x (tensor float64 ()))\n  (output {t}))\n"
    with open(os.path.join(x, "deep", "limit.model"), "w") as f:
        f.write(deep)
    with open(os.path.join(d, "in", "m00007.model")) as f:
        good = f.read()
    with open(os.path.join(x, "deep", "mixed.model"), "w") as f:
        f.write(good + deep)


def fsize_checks(d):
    """Kills inside a write, made certain by RLIMIT_FSIZE (SIGXFSZ): the
    kernel writes up to the limit, then ends the process."""
    small = os.path.join(d, "small")
    os.makedirs(small)
    for i in range(4):
        shutil.copy(os.path.join(d, "in", f"m{i:05d}.model"), small)
    rc, err = run(d, 1, "small_ref", "small")
    ref_files, ref_summary, _ = snapshot(os.path.join(d, "small_ref"))
    ref = (ref_files, lines_of(ref_summary))
    biggest = max(len(v) for v in ref_files.values())

    def mid_line(k):
        """Half way into the first line past every output's size that is
        the k-th (mod 5) of its file's five."""
        lines, at = ref_summary.split("\n"), 0
        for i, line in enumerate(lines):
            if at > biggest and i % 5 == k:
                return at + len(line) // 2
            at += len(line) + 1
        return None

    cases = [
        ("writing an output file", min(len(v) for v in ref_files.values()) // 2, None),
        ("appending a file's first summary line", mid_line(0), None),
        ("appending a file's third summary line", mid_line(2), None),
        ("compacting the summary", len(ref_summary) // 2, "small_ref"),
    ]
    for n, (what, fsize, seed_dir) in enumerate(cases):
        what = "killed " + what
        out = os.path.join(d, f"small{n}")
        if seed_dir:  # a finished batch whose summary also holds an earlier run's lines: the rerun compacts it
            shutil.copytree(os.path.join(d, seed_dir), out)
            with open(os.path.join(out, "summary.jsonl"), "r+") as f:
                lines = f.read()
                f.seek(0)
                f.write(re.sub(r'"run":"', '"run":"earlier-', lines) + lines)
        krc, _ = run(d, 1, out, "small", fsize)
        if not check(krc == -signal.SIGXFSZ, f"{what}: RLIMIT_FSIZE {fsize} gave exit {krc}, not SIGXFSZ"):
            continue
        _, summary, tmps = check_partial(what, out, ref)
        if "appending" in what:
            check(summary and not summary.endswith("\n"), f"{what}: the summary was not cut in a line (premise)")
        else:
            check(tmps, f"{what}: no temporary file after the kill (premise)")
        rrc, err = run(d, 1, out, "small")
        check_final(what, out, ref, rrc, rc, err)


def scratch():
    """tmpfs when it has room: creating and renaming 2,000 files a run
    costs seconds of system time on a loaded disk."""
    try:
        st = os.statvfs("/dev/shm")
        if os.access("/dev/shm", os.W_OK) and st.f_bavail * st.f_frsize > (256 << 20):
            return "/dev/shm"
    except OSError:
        pass
    return None


def main():
    t_start = time.time()
    with tempfile.TemporaryDirectory(dir=scratch()) as d:
        make_inputs(d)
        fsize_checks(d)
        # the reference, at -j 1 (-j 2 must give the same bytes: SPEC §3)
        t0 = time.time()
        ref_rc, err = run(d, 1, "ref")
        T = time.time() - t0
        ref_dir = os.path.join(d, "ref")
        ref_files, ref_summary, ref_tmps = snapshot(ref_dir)
        ref = (ref_files, lines_of(ref_summary))
        total = len(ref[1])
        check(ref_rc == 1 and total == 10010 and not ref_tmps,
              f"uninterrupted: exit {ref_rc}, {total} summary lines, temporaries {ref_tmps}: {err[-300:]!r}")
        # a rerun that finds everything done changes nothing
        t0 = time.time()
        rc, err = run(d, 1, "ref")
        t_skip = time.time() - t0
        check(snapshot(ref_dir) == (ref_files, ref_summary, []), "a rerun of a finished batch changed it")
        print(f"uninterrupted {T:.2f} s, rerun of the finished batch {t_skip:.2f} s", flush=True)
        for j in (1, 2):
            landed = 0
            for k in range(SINGLES):
                out = os.path.join(d, f"single{j}_{k}")
                what = f"-j {j} single kill {k + 1}"
                landed += one_kill(d, j, out, ref, total, what, delay=rnd.uniform(0, T))
                rc, err = run(d, j, out)
                check_final(what, out, ref, rc, ref_rc, err)
                shutil.rmtree(out)
            out = os.path.join(d, f"chain{j}")
            chain = 0
            for attempt in range(3 * KILLS_PER_J):
                if landed >= KILLS_PER_J - FINISHED:
                    break
                size = summary_size(out)
                ok = one_kill(d, j, out, ref, total, f"-j {j} chain kill {chain + 1}",
                              size=rnd.uniform(size, len(ref_summary)))
                chain += ok
                landed += ok
            rc, err = run(d, j, out)
            check_final(f"-j {j} after {chain} kills in succession", out, ref, rc, ref_rc, err)
            bound = t_skip  # a rerun that beat its kill: aim earlier (a rerun takes tens of ms)
            for attempt in range(10 * FINISHED):
                if landed >= KILLS_PER_J:
                    break
                ok = one_kill(d, j, out, ref, total, f"-j {j} finished batch kill", delay=rnd.uniform(0, bound))
                landed += ok
                bound = bound if ok else 0.7 * bound
            rc, err = run(d, j, out)
            check_final(f"-j {j} after kills of the finished batch's reruns", out, ref, rc, ref_rc, err)
            shutil.rmtree(out)
            print(f"-j {j}: {landed} kills", flush=True)
    where = {}
    for k in kills:
        where[k] = where.get(k, 0) + 1
    print(f"{len(kills)} kills (seed {SEED}): " + ", ".join(f"{n} {k}" for k, n in sorted(where.items())))
    check(len(kills) >= 2 * KILLS_PER_J, f"only {len(kills)} kills landed, want {2 * KILLS_PER_J}")
    print(f"{time.time() - t_start:.1f} s")
    if _checks.fails:
        print(f"{_checks.fails} checks failed (PK_KILL_SEED={SEED})")
    return 1 if _checks.fails else 0


if __name__ == "__main__":
    sys.exit(main())
