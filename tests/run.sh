#!/bin/sh
# run.sh: run every unit-test program given as arguments, then the CLI tests,
# and close with one line "N passed, N failed, N skipped".
# Environment: CALCSPEC (the built binary), CALCSPEC_SHARED (../shared).
here=$(dirname "$0")
pass=0 fail=0 skip=0 failed_progs=""
TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/calcspec-check.XXXXXX") || exit 1
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT INT TERM

count() { # $1 = log file: add cmocka's summary lines to the totals
  p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
  f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
  s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$1" | tail -n 1)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
}

for t in "$@"; do
  log="$TMPDIR/$(basename "$t").log"
  "$t" >"$log" 2>&1
  rc=$?
  cat "$log"
  count "$log"
  if [ $rc -ne 0 ] && ! grep -q '^\[  FAILED  \]' "$log"; then
    # crashed or aborted before cmocka could report: one failure
    echo "$t: exited with status $rc before finishing"
    fail=$((fail + 1))
  fi
  [ $rc -ne 0 ] && failed_progs="$failed_progs $(basename "$t")"
done

clilog="$TMPDIR/cli.log"
sh "$here/cli.sh" >"$clilog" 2>&1
rc=$?
cat "$clilog"
p=$(sed -n 's/^cli: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1/p' "$clilog")
f=$(sed -n 's/^cli: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\2/p' "$clilog")
s=$(sed -n 's/^cli: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\3/p' "$clilog")
if [ -z "$p" ]; then echo "cli.sh did not finish"; f=$((${f:-0} + 1)); fi
pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
[ $rc -ne 0 ] && failed_progs="$failed_progs cli.sh"

[ -n "$failed_progs" ] && echo "failing:$failed_progs"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] && [ -z "$failed_progs" ]
