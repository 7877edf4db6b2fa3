#!/usr/bin/env bash
# check_exports.sh CC LIB HEADER — the `unit.exports` ctest test: the
# symbols libpkanren.so defines (nm -D --defined-only) are exactly the
# functions HEADER declares (names followed by "(" once the preprocessor
# has dropped the comments).  Prints both differences; exits 1 on any.
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 CC LIB HEADER" >&2
  exit 2
fi
cc=$1 lib=$2 hdr=$3
exported=$(nm -D --defined-only "$lib" | awk 'NF == 3 { sub(/@.*/, "", $3); print $3 }' | sort -u)
declared=$("$cc" -E -P -x c "$hdr" | grep -oE '\bpk_[A-Za-z0-9_]+[[:space:]]*\(' | sed -E 's/[[:space:]]*\($//' | sort -u)
extra=$(comm -23 <(printf '%s\n' "$exported") <(printf '%s\n' "$declared"))
missing=$(comm -13 <(printf '%s\n' "$exported") <(printf '%s\n' "$declared"))
echo "$(printf '%s\n' "$declared" | grep -c .) functions declared, $(printf '%s\n' "$exported" | grep -c .) symbols exported"
status=0
if [ -n "$extra" ]; then
  echo "exported but not declared in $(basename "$hdr"):"; printf '  %s\n' $extra; status=1
fi
if [ -n "$missing" ]; then
  echo "declared but not exported by $(basename "$lib"):"; printf '  %s\n' $missing; status=1
fi
exit $status
