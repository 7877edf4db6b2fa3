#!/usr/bin/env bash
# check_latex.sh PKANREN MODEL... — `pkanren print --latex --values` of the
# models, checked as LaTeX: compiled by pdflatex in a document with amsmath
# and amssymb when pdflatex is installed; otherwise every align* block is
# checked to be balanced (braces, \begin/\end, \left/\right) with every _ # $
# % & either a subscript (_{) or escaped.  Run from tests/cli/.
set -u
pk=$1
shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pk-latex.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$pk" print --latex --values "$@" >"$tmp/body.tex" || { echo "pkanren print failed"; exit 1; }
if command -v pdflatex >/dev/null; then
  { printf '\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n'
    cat "$tmp/body.tex"
    printf '\\end{document}\n'; } >"$tmp/doc.tex"
  (cd "$tmp" && pdflatex -interaction=nonstopmode -halt-on-error doc.tex >log.txt 2>&1) ||
    { tail -n 30 "$tmp/log.txt"; exit 1; }
  echo "latex: compiled with pdflatex"
  exit 0
fi
python3 - "$tmp/body.tex" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
bad = []
blocks = re.findall(r"\\begin\{align\*\}\n(.*?)\n\\end\{align\*\}", text, re.S)
if not blocks or text.count("\\begin{align*}") != len(blocks):
    bad.append("align* blocks unbalanced")
for b in blocks:
    for line in b.split(" \\\\\n"):
        s = re.sub(r"\\[{}_#$%&]", "", line)          # escaped characters
        s = s.replace(" & ", " ")                     # bmatrix columns
        if s.count("&") != 1:
            bad.append("not one alignment point: " + line)
        s = s.replace("&", "", 1)
        depth = 0
        for c in s:
            depth += {"{": 1, "}": -1}.get(c, 0)
            if depth < 0:
                break
        if depth:
            bad.append("unbalanced braces: " + line)
        if re.search(r"_(?!\{)", s) or re.search(r"[#$%&]", s):
            bad.append("unescaped character: " + line)
        if s.count("\\begin{") != s.count("\\end{") or s.count("\\left") != s.count("\\right"):
            bad.append("unbalanced environment: " + line)
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("latex: %d blocks balanced and escaped (no pdflatex)" % len(blocks))
PY
