#!/usr/bin/env python3
"""gen_stats.py PKANREN -- bench/gen_stats.py's models rewritten by
relations/stats.scm as the bulk benchmark does: the generator is
deterministic and silent, every model reads, only its malformed files fail
(with file:line:col), `conjugate` rewrites the regression-like models and
leaves the radon-like ones, `scale_loc_transform` under non_obs_walko
non-centres the radon-like ones."""
import collections, hashlib, json, os, re, subprocess, sys, tempfile
from _checks import check, finish

PK = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "..", "bench", "gen_stats.py")


def tree_hash(root):
    h = hashlib.sha256()
    for d, _, fs in sorted(os.walk(root)):
        for f in sorted(fs):
            p = os.path.join(d, f)
            h.update(os.path.relpath(p, root).encode() + open(p, "rb").read())
    return h.hexdigest()


def generate(dest):
    p = subprocess.run([sys.executable, GEN, dest, "--models", "300", "--files", "60", "--seed", "2"],
                       capture_output=True, text=True)
    check(p.returncode == 0 and p.stdout == "" and p.stderr == "", "generator ran silently: %r" % (p,))


def rewrite(src, out, relation, walker):
    p = subprocess.run([PK, "rewrite", "-j", "1", "--rules", "stats", "--relation", relation, "--walker", walker,
                        src, "-o", out], capture_output=True, text=True)
    check(p.returncode == 1, "%s: exit 1 (the malformed files), got %d" % (relation, p.returncode))
    lines = [json.loads(l) for l in open(os.path.join(out, "summary.jsonl"))]
    by = collections.Counter(((l["model"] or "").split("-")[0], l["status"]) for l in lines)
    errors = [l for l in lines if l["status"] == "error"]
    check(len(errors) == 3 and all(l["model"] is None and "malformed_" in l["file"] for l in errors),
          "%s: exactly the 3 malformed files fail: %r" % (relation, errors))
    check(all(re.match(r".*malformed_\d\.model:\d+:\d+: ", l["message"]) for l in errors),
          "%s: messages name file:line:col" % relation)
    check(sum(by.values()) == 303, "%s: 300 models and 3 files in the summary: %r" % (relation, by))
    return by


with tempfile.TemporaryDirectory() as t:
    a, b = os.path.join(t, "a"), os.path.join(t, "b")
    generate(a)
    generate(b)
    check(tree_hash(a) == tree_hash(b), "same seed, same files")
    nfiles = sum(len(fs) for _, _, fs in os.walk(a))
    check(nfiles == 63, "60 files and 3 malformed ones, got %d" % nfiles)
    check(any(os.sep in os.path.relpath(d, a) for d, _, _ in os.walk(a)), "files in nested directories")
    conj = rewrite(a, os.path.join(t, "oc"), "conjugate", "walko")
    reg = conj[("regression", "ok")] + conj[("regression", "unchanged")]
    check(conj[("radon", "ok")] == 0, "conjugate leaves radon-like models: %r" % conj)
    check(conj[("regression", "ok")] >= 0.85 * reg, "conjugate rewrites regression-like models: %r" % conj)
    check(conj[("regression", "unchanged")] > 0, "some regression-like models have no conjugate prior: %r" % conj)
    slt = rewrite(a, os.path.join(t, "os"), "scale_loc_transform", "non_obs_walko")
    radon = slt[("radon", "ok")] + slt[("radon", "unchanged")]
    check(slt[("radon", "ok")] >= 0.8 * radon, "scale_loc_transform non-centres radon-like models: %r" % slt)
    check(slt[("radon", "unchanged")] > 0, "some radon-like models are non-centred already: %r" % slt)

finish("gen_stats")
