#!/usr/bin/env bash
# bench/stats_bulk.sh [PKANREN] [RUNS] [MODELS] [FILES] — the bulk
# statistical rewriting figures (issue 13): bench/gen_stats.py's seeded
# models rewritten by stats.scm's `conjugate` (walko) and
# `scale_loc_transform` (non_obs_walko) at -j 1 and -j 2, RUNS runs of
# each (alternated), each run into a fresh output directory; prints each
# run's `--stats` models/s, CPU seconds and phases, then the medians.
# TMPDIR chooses where the models and outputs go (e.g. /dev/shm), RULES
# the rules file (default the library `stats`).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
P=${1:-$here/../build/pkanren}
runs=${2:-3}
models=${3:-10000}
files=${4:-2000}
rules=${RULES:-stats}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
python3 "$here/gen_stats.py" "$t/in" --models "$models" --files "$files" --seed 1
configs=("conjugate walko 1" "conjugate walko 2" "scale_loc_transform non_obs_walko 1"
         "scale_loc_transform non_obs_walko 2")
for run in $(seq "$runs"); do
  for c in "${configs[@]}"; do
    set -- $c
    rm -rf "$t/out"
    # exit status 1: the generator's malformed files fail, by design
    /usr/bin/time -f "cpu %U %S" -o "$t/time" "$P" rewrite -j "$3" --rules "$rules" --relation "$1" --walker "$2" --stats "$t/in" -o "$t/out" \
      2> "$t/err" || [ $? -eq 1 ]
    mps=$(sed -n 's/.* \([0-9]*\) models\/s$/\1/p' "$t/err")
    phases=$(sed -n 's/^stats: \(read .*\)$/\1/p' "$t/err")
    summary=$(sed -n 's/^stats: files .*; models \(.*\), .* skipped$/\1/p' "$t/err")
    cpu=$(awk '/^cpu/ {printf "%.2f", $2 + $3}' "$t/time")
    echo "$1 -j $3 run $run: $mps models/s, cpu $cpu s; $phases; $summary"
    echo "$1 -j $3 $mps $cpu" >> "$t/all"
  done
done
median() { sort -n | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "medians: models/s (wall), cpu s (user + sys)"
for c in "${configs[@]}"; do
  set -- $c
  echo "  $1 -j $3: $(grep "^$1 -j $3 " "$t/all" | awk '{print $4}' | median) models/s," \
    "$(grep "^$1 -j $3 " "$t/all" | awk '{print $5}' | median) s cpu"
done
