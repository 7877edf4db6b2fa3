#!/usr/bin/env bash
# run_cli.sh PKANREN NAME — one test of a pkanren command, run from tests/cli/.
#
# Runs `PKANREN ARGS...` (ARGS: the whitespace-separated words of NAME.args,
# no quoting, no globbing) with no standard input and checks:
#   NAME.out     expected stdout, byte for byte (required);
#   NAME.status  expected exit status (default 0);
#   NAME.err     a string that must appear in stderr (optional; its final
#                newline, if any, is not part of the string).
# PK_CLI_UPDATE=1 rewrites NAME.out (and NAME.status when the status is not
# 0) from the actual run instead of comparing — review the diff.
set -u
if [ $# -ne 2 ]; then
  echo "usage: $0 PKANREN NAME" >&2
  exit 2
fi
pk=$1
name=$2
if [ ! -f "$name.args" ] || [ ! -f "$name.out" ]; then
  echo "cli $name: $name.args or $name.out missing in $(pwd)" >&2
  exit 2
fi
set -f
# shellcheck disable=SC2207
args=($(cat "$name.args"))
set +f
want_status=0
if [ -f "$name.status" ]; then
  want_status=$(tr -d ' \t\r\n' <"$name.status")
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pk-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$pk" "${args[@]}" </dev/null >"$tmp/stdout" 2>"$tmp/stderr"
status=$?

if [ "${PK_CLI_UPDATE:-0}" = 1 ]; then
  cp "$tmp/stdout" "$name.out"
  if [ "$status" != 0 ]; then echo "$status" >"$name.status"; fi
  echo "cli $name: updated $name.out (status $status)"
  exit 0
fi
fail=0
if [ "$status" != "$want_status" ]; then
  echo "cli $name: exit status $status, expected $want_status"
  fail=1
fi
if ! cmp -s "$tmp/stdout" "$name.out"; then
  echo "cli $name: stdout differs from $name.out (--- expected, +++ actual):"
  diff -u --label "$name.out" --label "actual stdout" "$name.out" "$tmp/stdout" | head -n 200
  fail=1
fi
if [ -f "$name.err" ]; then
  want_err=$(cat "$name.err")
  actual_err=$(cat "$tmp/stderr")
  if [[ "$actual_err" != *"$want_err"* ]]; then
    echo "cli $name: stderr does not contain the text of $name.err: $want_err"
    fail=1
  fi
fi
if [ "$fail" != 0 ]; then
  echo "---- command: $pk ${args[*]} (in $(pwd))"
  echo "---- stderr:"
  head -c 20000 "$tmp/stderr"
  exit 1
fi
echo "cli $name: ok"
exit 0
