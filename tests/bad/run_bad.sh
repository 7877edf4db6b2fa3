#!/usr/bin/env bash
# run_bad.sh PKANREN — the bad-input corpus: programs and models that are
# malformed (unbalanced, binary, invalid UTF-8, empty, a directory, huge
# nesting, huge numbers), deep and cyclic vectors through the printers, and
# heap exhaustion under ulimit -v.  Each case states its exit status and a
# string its stderr must hold (stdout too where it matters); any other
# status (a crash is 128+signal) fails.  Inputs are made in a temporary
# directory.  Heap exhaustion runs only under ulimit -v (never the
# machine's own limit).
set -u
pk=$1
t=$(mktemp -d "${TMPDIR:-/tmp}/pk-bad.XXXXXX")
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 2
fails=0

# check NAME STATUS ERR-SUBSTRING [OUT-SUBSTRING] -- ARGS... : run pkanren ARGS.
check() {
  local name=$1 want=$2 err=$3 out=$4
  shift 5
  "$pk" "$@" >out.txt 2>err.txt </dev/null
  local rc=$?
  if [ "$rc" != "$want" ] || { [ -n "$err" ] && ! grep -qF -- "$err" err.txt; } ||
    { [ -n "$out" ] && ! grep -qF -- "$out" out.txt; }; then
    echo "FAIL $name: exit $rc (want $want), stderr: $(head -c 300 err.txt), stdout: $(head -c 100 out.txt)"
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}

: >empty.scm
check empty 0 "" "" -- run empty.scm
mkdir dir.scm
check directory 2 "dir.scm" "" -- run dir.scm
check missing 2 "missing.scm" "" -- run missing.scm
printf '(display 1)\n(car (quote (1 2))\n' >open.scm
check unbalanced-open 2 "open.scm:" "" -- run open.scm
printf '(display 1))\n' >close.scm
check unbalanced-close 2 "close.scm:1:" "" -- run close.scm
printf '\x00\x01\x02\xff\xfe(\x80' >binary.scm
check binary 2 "binary.scm:1:" "" -- run binary.scm
printf '(display "ok")\n(display (quote a\xc3))\n' >utf8.scm
check invalid-utf8 2 "invalid UTF-8" "" -- run utf8.scm
printf '(display 123456789012345678901234567890)\n' >bignum.scm
check huge-integer 2 "too large" "" -- run bignum.scm
printf '(display (* 4611686018427387904 4))\n' >overflow.scm
check overflow 3 "overflow.scm:1:" "" -- run overflow.scm
printf '(display 1e999999)(newline)(display -1e-999999)\n' >bigfloat.scm
check huge-float 0 "" "+inf.0" -- run bigfloat.scm
python3 -c "print('(' * 1000000 + ')' * 1000000)" >nest.scm
check nested-parens 2 "nest.scm:1:" "" -- run nest.scm
python3 -c "print('(' * 1000000)" >nest-open.scm
check nested-unclosed 2 "nest-open.scm:" "" -- run nest-open.scm
python3 -c "print('(display (string-length (format \"~s\" (quote ' + '#(' * 1000000 + ')' * 1000000 + '))))')" >vnest.scm
check nested-vector-literal 0 "" "3000000" -- run vnest.scm
cat >cyclic.scm <<'SCM'
(define v (vector 1 2))
(vector-set! v 1 v)
(write v) (newline)
(display (list v)) (newline)
(printf "~s~%" v)
(run 1 (q) (== q v))
(error 'cyc "irritant" v)
SCM
check cyclic-vector 3 "irritant #0=#(1 #0#)" "(#0=#(1 #0#))" -- run cyclic.scm
check cyclic-vector-json 3 "irritant #0=#(1 #0#)" '[{"vector":[1,"#0#"]}]' -- run --format json cyclic.scm
printf '(display "ok")(newline)(define (f l) (f (cons l l)))(f 1)\n' >oom.scm
printf '(display "before")(let loop ((l (list))) (loop (cons (make-vector 10000000 0) l)))\n' >oom2.scm
(
  ulimit -v 1500000
  check heap-exhaustion-pairs 3 "out of memory" "ok" -- run oom.scm
  check heap-exhaustion-vectors 3 "out of memory" "before" -- run oom2.scm
  if grep -q 'GC Warning' err.txt; then # the collector's own narration stays out of it
    echo "FAIL heap-exhaustion-quiet: $(grep -c 'GC Warning' err.txt) collector warnings before the message"
    fails=$((fails + 1))
  else
    echo "ok   heap-exhaustion-quiet"
  fi
  check appendo-ulimit-default-workers 0 "" "(1 2 3)" -- run "$OLDPWD/../../examples/appendo.scm"
  check stack-does-not-fit 3 "--stack" "" -- run --stack 4G empty.scm
  exit $fails
)
fails=$?
printf '(display (read-models "bad.model"))\n' >model.scm
printf 'model x (((\n' >bad.model
check model-unbalanced 2 "bad.model:1:" "" -- run model.scm
printf '\x00\x01\xff' >bad.model
check model-binary 2 "bad.model:1:" "" -- run model.scm
: >bad.model
check model-empty 2 "no models in the file" "" -- run model.scm
printf '(read-models "dir.scm")\n' >model-dir.scm
check model-directory 2 "is a directory" "" -- run model-dir.scm
echo "bad inputs: $fails failed"
[ "$fails" = 0 ]
