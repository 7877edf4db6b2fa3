#!/usr/bin/env bash
# run_verify.sh PKANREN STATUS TEXT ARGS... — run `PKANREN verify ARGS...`
# from tests/verify/ and check its exit status and that TEXT appears in its
# stdout or stderr (both are shown on failure).
set -u
pk=$1 want=$2 text=$3
shift 3
out=$("$pk" verify "$@" 2>&1 </dev/null)
status=$?
printf '%s\n' "$out"
if [ "$status" != "$want" ]; then
  echo "run_verify: exit status $status, expected $want"
  exit 1
fi
if [[ "$out" != *"$text"* ]]; then
  echo "run_verify: no \"$text\" in the output"
  exit 1
fi
