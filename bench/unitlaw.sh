#!/usr/bin/env bash
# bench/unitlaw.sh [PKANREN] [NODES] [REDEX] — the unit-law fixed point
# (SPEC §8): a seeded tree model of NODES nodes (bench/gen_unitlaw.py),
# rewritten by bench/unitlaw.scm's six laws; prints `pkanren rewrite
# --stats` (phases, rewrites/s, memory) and the summary line, 3 runs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
P=${1:-$here/../build/pkanren}
nodes=${2:-1000001}
redex=${3:-0.3}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
python3 "$here/gen_unitlaw.py" --nodes "$nodes" --seed 1 --redex "$redex" > "$t/unitlaw.model"
for run in 1 2 3; do
  rm -rf "$t/out"
  echo "run $run:"
  "$P" rewrite -j 1 --rules "$here/unitlaw.scm" --relation unit-law --stats "$t/unitlaw.model" -o "$t/out"
  cut -d, -f1-8 "$t/out/summary.jsonl"
done
