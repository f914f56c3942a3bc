#!/bin/sh
# bench_peer.sh: calcspec side by side with the Python stack (numpy +
# pybaselines arPLS + scipy savgol + scikit-learn PCA/LDA) on the SAME
# synthetic spectra, in one run, one core.  A benchmark, not a test.
#
#   CALCSPEC=build/calcspec [CALCSPEC_SHARED=../shared] [CALCSPEC_BENCH_N=2000] \
#     [CALCSPEC_BEFORE=/path/to/older/calcspec] sh tests/bench_peer.sh
#
# CALCSPEC_BEFORE: an older build run on the same files in the same run, so
# before/after ratios are not spoilt by the machine's load changing between
# runs.  The one-core runs set CALCSPEC_JOBS=1 (one thread; older builds
# ignore it); with two or more cores a --jobs 2 run follows, not pinned.
# calcspec runs as a user would, without OPENBLAS_NUM_THREADS (it keeps
# OpenBLAS at one thread itself, src/linalg.c); the CALCSPEC_BEFORE build
# gets OPENBLAS_NUM_THREADS=1, since builds before that spin OpenBLAS
# threads.
#
# The spectra (SYNTHETIC, `calcspec simulate`, 1024 points, the six classes in
# equal shares) are written once as calcspec CSV matrices (x + one column per
# spectrum), converted to AnIML, and transposed into the peer's CSV
# (label,id,y...; see the docstring of peer_pipeline.py).  As the issue's
# own measurement did, calcspec also reads them as ONE file of each kind
# (one CSV matrix of all the spectra, one AnIML of all of them), which is
# where per-file costs that grow faster than the spectra would show.  Wall, CPU
# (user+sys) and peak RSS come from /usr/bin/time; the ratios are
# Python / calcspec (> 1: calcspec faster or smaller).  Both sides read their
# input files inside the timed run.  The peer trains PCA/LDA on a small
# training set (CALCSPEC_BENCH_TRAIN per class, default 50) inside its run;
# calcspec uses its embedded model and also runs spike removal, QC and the
# NNLS second opinion, which the peer does not.
#
# Skips with a message when ../shared/peer, python3-numpy, python3-scipy or
# python3-sklearn are absent (make bench installs nothing Python; on Debian:
# apt-get install python3-numpy python3-scipy python3-sklearn).
set -u
CS=${CALCSPEC:-build/calcspec}
SHARED=${CALCSPEC_SHARED:-../shared}
N=${CALCSPEC_BENCH_N:-2000}
NTRAIN=${CALCSPEC_BENCH_TRAIN:-50}
PEER=$SHARED/peer/python
PY=/usr/bin/python3

echo "bench_peer: calcspec classify vs the Python stack, $N synthetic spectra x 1024 points"
if [ ! -f "$PEER/peer_pipeline.py" ]; then
  echo "  skipped: $PEER/peer_pipeline.py not found (set CALCSPEC_SHARED)"
  exit 0
fi
if ! [ -x "$PY" ] || ! "$PY" -c 'import numpy, scipy, sklearn' 2>/dev/null; then
  echo "  skipped: /usr/bin/python3 lacks numpy/scipy/sklearn" \
    "(apt-get install python3-numpy python3-scipy python3-sklearn)"
  exit 0
fi
if [ ! -x /usr/bin/time ]; then
  echo "  skipped: /usr/bin/time (Debian package time) not found"
  exit 0
fi
case $N in '' | *[!0-9]*) echo "  CALCSPEC_BENCH_N must be a number" >&2; exit 2 ;; esac
CS=$(cd "$(dirname "$CS")" && pwd)/$(basename "$CS")
BEFORE=${CALCSPEC_BEFORE:-}
if [ -n "$BEFORE" ]; then
  [ -x "$BEFORE" ] || { echo "  CALCSPEC_BEFORE=$BEFORE is not executable" >&2; exit 2; }
  BEFORE=$(cd "$(dirname "$BEFORE")" && pwd)/$(basename "$BEFORE")
fi
PEER=$(cd "$PEER" && pwd)
PIN=""
if command -v taskset >/dev/null 2>&1 && taskset -c 1 true 2>/dev/null; then
  PIN="taskset -c 1"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/calcspec-bench-peer-XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM

# --- one set of spectra -----------------------------------------------------
classes="cod com hydroxyapatite whitlockite calcite tissue"
per=$(( (N + 5) / 6 ))
seed=1
for c in $classes; do
  # a common axis (no per-spot calibration error) so one matrix holds them all
  "$CS" -q simulate --class "$c" -n "$per" -s $((100000 + seed * 10000)) \
    --no-calib-error -o "$T/test_$c.csv" || exit 1
  "$CS" -q simulate --class "$c" -n "$NTRAIN" -s $((500000 + seed * 10000)) \
    --no-calib-error -o "$T/train_$c.csv" || exit 1
  "$CS" -q convert "$T/test_$c.csv" -o "$T/test_$c.animl" || exit 1
  seed=$((seed + 1))
done
# calcspec CSV matrices -> the peer's row format (untimed preparation)
"$PY" - "$T" $classes <<'EOF' || exit 1
import sys
d, classes = sys.argv[1], sys.argv[2:]
def load(path):
    rows = [l.rstrip('\n').split(',') for l in open(path)
            if l.strip() and not l.startswith('#')]
    rows = rows[1:]                      # the x,y1,y2... title row
    return [r[0] for r in rows], [list(c) for c in zip(*[r[1:] for r in rows])]
for part in ('train', 'test'):
    with open('%s/%s.csv' % (d, part), 'w') as out:
        axis = None
        for c in classes:
            x, ys = load('%s/%s_%s.csv' % (d, part, c))
            if axis is None:
                axis = x
                out.write('label,id,' + ','.join(x) + '\n')
            elif x != axis:
                sys.exit('bench_peer: classes do not share one axis')
            for i, y in enumerate(ys):
                out.write('%s,%s%d,%s\n' % (c, c, i, ','.join(y)))
# the test spectra as one calcspec CSV matrix (x, then one column each,
# each spectrum's metadata kept, renumbered), so one AnIML of them has one
# Sample per spectrum as the per-class files do
import re
meta, cols, axis = [], [], None
for c in classes:
    x, ys = load('%s/test_%s.csv' % (d, c))
    axis = axis or x
    for l in open('%s/test_%s.csv' % (d, c)):
        m = re.match(r'# calcspec\[(\d+)\] (.*)', l)
        if m:
            meta.append('# calcspec[%d] %s' % (len(cols) + int(m.group(1)), m.group(2)))
    cols += ys
with open('%s/all.csv' % d, 'w') as out:
    out.write('# calcspec csv 1\n# calcspec spectra=%d\n' % len(cols))
    out.write('\n'.join(meta) + '\n')
    out.write('x,' + ','.join('y%d' % (i + 1) for i in range(len(cols))) + '\n')
    for j, xv in enumerate(axis):
        out.write(xv + ',' + ','.join(y[j] for y in cols) + '\n')
EOF
"$CS" -q convert "$T/all.csv" -o "$T/all.animl" || exit 1

total=$((per * 6))
mb() { du -cm "$@" | tail -1 | cut -f1; }
echo "  $total test spectra: CSV matrices $(mb "$T"/test_*.csv) MB, AnIML $(mb "$T"/test_*.animl) MB" \
  "(one file: $(mb "$T/all.csv") / $(mb "$T/all.animl") MB)," \
  "peer CSV $(mb "$T/test.csv") MB; peer trains on $((NTRAIN * 6)); one core: ${PIN:-no taskset}"

# run LABEL CMD...: prints one line, remembers wall/cpu/rss in R_wall R_cpu R_rss
run() {
  label=$1
  shift
  if ! $PIN /usr/bin/time -f '%e %U %S %M' -o "$T/time" "$@" >"$T/out" 2>"$T/err"; then
    echo "  $label: FAILED" >&2
    tail -5 "$T/err" >&2
    exit 1
  fi
  set -- $(tail -1 "$T/time")
  R_wall=$1
  R_cpu=$(echo "$2 $3" | awk '{printf "%.2f", $1 + $2}')
  R_rss=$(echo "$4" | awk '{printf "%.0f", $1 / 1024}')
  printf '  %-44s wall %7.2f s  cpu %7.2f s  peak RSS %6s MB\n' "$label" "$R_wall" "$R_cpu" "$R_rss"
}
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.1f", $1 / $2; else printf "inf" }'; }

cd "$T" || exit 1
run "Python peer (read + arPLS + savgol + L2 + PCA/LDA)" \
  env PYTHONPATH="$PEER" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
  "$PY" "$PEER/peer_pipeline.py" --train train.csv --test test.csv --threads 1 --algos arpls --quiet
py_wall=$R_wall py_cpu=$R_cpu py_rss=$R_rss
got=$(grep -c . out)
[ "$got" -gt 0 ] || { echo "  peer printed nothing" >&2; exit 1; }

# check LABEL: the last run printed one row per spectrum
check() {
  rows=$(($(wc -l <"$T/out") - 1))
  if [ "$rows" -ne "$total" ]; then
    echo "  $1 printed $rows rows, expected $total" >&2
    exit 1
  fi
}
ncores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
for fmt in csv animl; do
  if [ -n "$BEFORE" ]; then
    run "calcspec classify ($fmt), CALCSPEC_BEFORE" env OPENBLAS_NUM_THREADS=1 CALCSPEC_JOBS=1 \
      "$BEFORE" classify test_*."$fmt"
    check "CALCSPEC_BEFORE ($fmt)"
    cp "$T/out" "$T/out_before"
    b_cpu=$R_cpu b_wall=$R_wall b_rss=$R_rss
    echo "    ratio Python/before: wall $(ratio "$py_wall" "$R_wall")x  cpu $(ratio "$py_cpu" "$R_cpu")x" \
      " peak RSS $(ratio "$py_rss" "$R_rss")x"
  fi
  run "calcspec classify ($fmt)" env CALCSPEC_JOBS=1 "$CS" classify test_*."$fmt"
  check "calcspec classify ($fmt)"
  echo "    ratio Python/calcspec: wall $(ratio "$py_wall" "$R_wall")x  cpu $(ratio "$py_cpu" "$R_cpu")x" \
    " peak RSS $(ratio "$py_rss" "$R_rss")x"
  if [ -n "$BEFORE" ]; then
    echo "    ratio before/now: wall $(ratio "$b_wall" "$R_wall")x  cpu $(ratio "$b_cpu" "$R_cpu")x" \
      " peak RSS $(ratio "$b_rss" "$R_rss")x;" \
      "output $(cmp -s "$T/out" "$T/out_before" && echo identical || echo DIFFERS)"
  fi
  # the same spectra as one file
  if [ -n "$BEFORE" ]; then
    run "  one file all.$fmt, CALCSPEC_BEFORE" env OPENBLAS_NUM_THREADS=1 CALCSPEC_JOBS=1 \
      "$BEFORE" classify all."$fmt"
    check "CALCSPEC_BEFORE (all.$fmt)"
    cp "$T/out" "$T/out_before"
    b_cpu=$R_cpu
  fi
  run "  one file all.$fmt" env CALCSPEC_JOBS=1 "$CS" classify all."$fmt"
  check "calcspec classify (all.$fmt)"
  echo "    ratio Python/calcspec: wall $(ratio "$py_wall" "$R_wall")x  cpu $(ratio "$py_cpu" "$R_cpu")x" \
    " peak RSS $(ratio "$py_rss" "$R_rss")x"
  if [ -n "$BEFORE" ]; then
    echo "    ratio before/now: cpu $(ratio "$b_cpu" "$R_cpu")x;" \
      "output $(cmp -s "$T/out" "$T/out_before" && echo identical || echo DIFFERS)"
  fi
  if [ "$ncores" -ge 2 ]; then
    PIN_SAVE=$PIN PIN=""
    run "calcspec classify ($fmt) --jobs 2, not pinned" \
      "$CS" classify --jobs 2 test_*."$fmt"
    PIN=$PIN_SAVE
    check "calcspec classify --jobs 2 ($fmt)"
    echo "    ratio Python (one core)/calcspec --jobs 2: wall $(ratio "$py_wall" "$R_wall")x"
  fi
done
exit 0
