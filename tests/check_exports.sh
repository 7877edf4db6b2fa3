#!/usr/bin/env bash
# check_exports.sh CC LIB HEADER [TEST.c] — the `unit.exports` ctest test:
# the symbols libpkanren.so defines (nm -D --defined-only) are exactly the
# functions HEADER declares (names followed by "(" once the preprocessor
# has dropped the comments), and TEST.c, if given, calls every one of them.
# Prints the differences; exits 1 on any.
set -euo pipefail
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 CC LIB HEADER [TEST.c]" >&2
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
if [ $# -eq 4 ]; then
  # -fpreprocessed: comments go, #include and macros stay as written
  called=$("$cc" -fpreprocessed -dD -E -P -x c "$4" \
           | grep -oE '\bpk_[A-Za-z0-9_]+[[:space:]]*\(' | sed -E 's/[[:space:]]*\($//' | sort -u || true)
  uncalled=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$called"))
  if [ -n "$uncalled" ]; then
    echo "declared but not called by $(basename "$4"):"; printf '  %s\n' $uncalled; status=1
  fi
fi
exit $status
