#!/usr/bin/env bash
# bench/ab_phase.sh OLD NEW MODEL [ROUNDS] [WORKERS] — two pkanren
# binaries' rewriting phase (`rewrite --stats`) on one model, in paired
# rounds: each round runs both, the order alternating, and the figure is
# the median of the rounds' ratios NEW/OLD with its quartiles.  Single
# runs of the 1M unit-law phase spread by 15% on a shared VM, and the
# host's speed drifts over minutes: a ratio within a round cancels the
# drift, which medians of separate runs do not.  RULES and RELATION
# choose the rules (default bench/unitlaw.scm, unit-law); TMPDIR where
# the outputs go.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
old=$1 new=$2 model=$3 rounds=${4:-21} workers=${5:-1}
rules=${RULES:-$here/unitlaw.scm} relation=${RELATION:-unit-law}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

# The rewriting phase of one run of binary $1, in seconds.
phase() {
  rm -rf "$t/out"
  "$1" rewrite -j "$workers" --rules "$rules" --relation "$relation" --stats "$model" -o "$t/out" 2>&1 >/dev/null |
    sed -n 's/.*rewrite \([0-9.]*\) s.*/\1/p'
}

for r in $(seq "$rounds"); do
  if [ $((r % 2)) = 0 ]; then a=$(phase "$old"); b=$(phase "$new"); else b=$(phase "$new"); a=$(phase "$old"); fi
  echo "$a $b"
done > "$t/rounds"

median() { sort -n | awk '{v[NR] = $1} END {printf "%.4f", v[int((NR + 1) / 2)]}'; }
awk '$1 > 0 {print $2 / $1}' "$t/rounds" | sort -n |
  awk '{v[NR] = $1} END {printf "NEW/OLD phase: median %.3f, quartiles %.3f-%.3f, %d rounds\n", v[int((NR + 1) / 2)], v[int((NR + 3) / 4)], v[int((3 * NR + 1) / 4)], NR}'
echo "OLD median $(cut -d' ' -f1 "$t/rounds" | median) s, NEW median $(cut -d' ' -f2 "$t/rounds" | median) s"
