#!/usr/bin/env bash
# run_e2e.sh PKANREN NAME — one end-to-end test, run from tests/e2e/.
#
# Runs `PKANREN run [ARGS...] NAME.scm` with no standard input and checks:
#   NAME.out     expected stdout, byte for byte (required);
#   NAME.status  expected exit status (default 0);
#   NAME.err     a string that must appear in stderr (optional; its final
#                newline, if any, is not part of the string);
#   NAME.args    extra arguments placed before NAME.scm (optional;
#                whitespace-separated words, no quoting, no globbing).
# PK_E2E_WORKERS=N adds `-j N` (the same output is expected on any number
# of workers in the default order); a test whose NAME.args chooses -j or
# --unordered itself is skipped then (exit 77).
# Environment: PK_E2E_UPDATE=1 rewrites NAME.out (and NAME.status when the
# status is not 0) from the actual run instead of comparing — review the
# diff before committing.
set -u
if [ $# -ne 2 ]; then
  echo "usage: $0 PKANREN NAME" >&2
  exit 2
fi
pk=$1
name=$2

if [ ! -f "$name.scm" ] || [ ! -f "$name.out" ]; then
  echo "e2e $name: $name.scm or $name.out missing in $(pwd)" >&2
  exit 2
fi

args=()
if [ -f "$name.args" ]; then
  set -f
  # shellcheck disable=SC2207
  args=($(cat "$name.args"))
  set +f
fi
if [ -n "${PK_E2E_WORKERS:-}" ]; then
  for a in "${args[@]}"; do
    case $a in -j|-j*|--unordered) echo "e2e $name: chooses its workers; skipped"; exit 77 ;; esac
  done
  args=(-j "$PK_E2E_WORKERS" "${args[@]}")
fi
want_status=0
if [ -f "$name.status" ]; then
  want_status=$(tr -d ' \t\r\n' <"$name.status")
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pk-e2e.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$pk" run "${args[@]}" "$name.scm" </dev/null >"$tmp/stdout" 2>"$tmp/stderr"
status=$?

if [ "${PK_E2E_UPDATE:-0}" = 1 ]; then
  cp "$tmp/stdout" "$name.out"
  if [ "$status" != 0 ]; then echo "$status" >"$name.status"; fi
  echo "e2e $name: updated $name.out (status $status)"
  exit 0
fi

fail=0
if [ "$status" != "$want_status" ]; then
  echo "e2e $name: exit status $status, expected $want_status"
  fail=1
fi
if ! cmp -s "$tmp/stdout" "$name.out"; then
  echo "e2e $name: stdout differs from $name.out (--- expected, +++ actual):"
  diff -u --label "$name.out" --label "actual stdout" "$name.out" "$tmp/stdout" | head -n 200
  fail=1
fi
if [ -f "$name.err" ]; then
  want_err=$(cat "$name.err")   # $(...) drops the trailing newline(s)
  actual_err=$(cat "$tmp/stderr")
  if [[ "$actual_err" != *"$want_err"* ]]; then
    echo "e2e $name: stderr does not contain the text of $name.err: $want_err"
    fail=1
  fi
fi
if [ "$fail" != 0 ]; then
  echo "---- command: $pk run ${args[*]:+${args[*]} }$name.scm (in $(pwd))"
  echo "---- stderr:"
  head -c 20000 "$tmp/stderr"
  exit 1
fi
echo "e2e $name: ok"
exit 0
