#!/bin/sh
# cli.sh: command-line behaviour tests (exit codes, stderr lines, output).
# Each tests/cli/*.sh file adds cases using the helpers below; this script
# closes with "cli: N passed, N failed, N skipped".
# Environment: CALCSPEC = binary under test, CALCSPEC_SHARED = ../shared.
here=$(cd "$(dirname "$0")" && pwd)
CALCSPEC=${CALCSPEC:-$here/../build/calcspec}
SHARED=${CALCSPEC_SHARED:-$here/../../shared}
ROOT=$(cd "$here/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/calcspec-cli.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
npass=0 nfail=0 nskip=0

ok() { npass=$((npass + 1)); echo "ok - $1"; }
not_ok() { nfail=$((nfail + 1)); echo "not ok - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
skip() { nskip=$((nskip + 1)); echo "ok - $1 # SKIP $2"; }
have_shared() { [ -d "$SHARED/formats" ]; }

# run: run calcspec with args; sets $rc, $T/out, $T/err.
run() { "$CALCSPEC" "$@" >"$T/out" 2>"$T/err"; rc=$?; }

# expect NAME RC [grep-pattern-on-stderr]: check the last run.
expect() {
  name=$1 want=$2 pat=$3
  if [ "$rc" -ne "$want" ]; then
    not_ok "$name" "exit $rc, want $want" "stderr: $(head -c 300 "$T/err")"
  elif [ -n "$pat" ] && ! grep -q -- "$pat" "$T/err"; then
    not_ok "$name" "stderr lacks '$pat'" "stderr: $(head -c 300 "$T/err")"
  else
    ok "$name"
  fi
}

# expect_out NAME PATTERN: stdout of the last run matches an ERE.
expect_out() {
  if grep -Eq -- "$2" "$T/out"; then ok "$1"
  else not_ok "$1" "stdout lacks /$2/" "stdout: $(head -c 300 "$T/out")"; fi
}

# Every stderr line of the last run has the "calcspec: " prefix.
expect_prefixed_errors() {
  if grep -v '^calcspec: ' "$T/err" | grep -v "^see 'calcspec" | grep -q .; then
    not_ok "$1" "unprefixed stderr: $(grep -v '^calcspec: ' "$T/err" | head -n 2)"
  else ok "$1"; fi
}

# CLI_TESTS: a list of files to run instead of every tests/cli/*.sh
for f in ${CLI_TESTS:-"$here"/cli/*.sh}; do
  [ -f "$f" ] && . "$f"
done

echo "cli: $npass passed, $nfail failed, $nskip skipped"
[ "$nfail" -eq 0 ]
