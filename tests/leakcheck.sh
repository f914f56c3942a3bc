#!/bin/sh
# leakcheck.sh TEST...: run the unit-test programs and the CLI tests under
# valgrind (memcheck, full leak check) and fail when any process leaked
# (definitely or indirectly lost) or made a memory error.  Each process
# logs to its own file; -q keeps a log empty unless valgrind found
# something, so any non-empty log is a failure.  Used by `make leakcheck`.
# Environment: CALCSPEC (the built binary), CALCSPEC_SHARED, CLI_TESTS
# (narrows the CLI tests, see cli.sh).
here=$(cd "$(dirname "$0")" && pwd)
logs=$(mktemp -d "${TMPDIR:-/tmp}/calcspec-leak.XXXXXX") || exit 1
trap 'rm -rf "$logs"' EXIT INT TERM
export OPENBLAS_NUM_THREADS=1
# valgrind's own memory would count in the RSS bounds of test_reader
export CALCSPEC_NO_RSS_CHECK=1
vg="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
--errors-for-leak-kinds=definite,indirect --track-fds=no --num-callers=30 \
--log-file=$logs/vg.%p"
real=${CALCSPEC:?CALCSPEC must name the calcspec binary}
# the CLI tests run this wrapper in place of calcspec
cat >"$logs/calcspec" <<WRAP
#!/bin/sh
exec $vg "$real" "\$@"
WRAP
chmod +x "$logs/calcspec"
rc=0
for t in "$@"; do
  $vg "$t" >"$logs/$(basename "$t").out" 2>&1 || { echo "leakcheck: $t failed"; rc=1; }
done
# Only valgrind's findings count: a CLI test that times a command may fail
# under valgrind's slowdown (shown, not counted); exit codes are unchanged.
CALCSPEC=$logs/calcspec sh "$here/cli.sh" >"$logs/cli.out" 2>&1 ||
  { grep '^not ok' "$logs/cli.out" | head -n 20;
    echo "leakcheck: (note) these CLI tests failed under valgrind's slowdown"; }
nlogs=$(ls "$logs"/vg.* 2>/dev/null | wc -l)
bad=0
for f in "$logs"/vg.*; do
  [ -s "$f" ] || continue
  bad=$((bad + 1))
  [ $bad -le 5 ] && { echo "--- $f"; head -n 40 "$f"; }
done
echo "leakcheck: $nlogs processes under valgrind, $bad with leaks or errors"
[ $bad -eq 0 ] && [ $rc -eq 0 ]
