# --jobs N (issue 15): classify, cores and preprocess split the spectra over
# threads and still write exactly what one thread writes, in input order,
# errors included.  The blocks are 256 spectra, so 300 spectra in a file
# cross a block boundary.
"$CALCSPEC" -q simulate --class hydroxyapatite -n 300 -s 4100 -o "$T/j_ha.csv" \
  && "$CALCSPEC" -q simulate --class cod -n 40 -s 4200 -o "$T/j_cod.animl" \
  && "$CALCSPEC" -q simulate --class tissue -n 20 -s 4300 --technique ftir -o "$T/j_ftir.csv" \
  || not_ok "jobs: make inputs"
# a spectrum no default model window covers: a per-spectrum error line
"$CALCSPEC" convert --range 300:700 "$ROOT/spectra/examples/core01/cod_9100.animl" \
  -o "$T/j_narrow.csv" || not_ok "jobs: make narrow input"
J_IN="$T/j_ha.csv $T/j_narrow.csv $T/j_cod.animl $T/j_ftir.csv"
j_same() { # NAME CMD...: stdout, stderr and exit code equal for --jobs 1, 2, 3, 0
  name=$1
  shift
  "$@" --jobs 1 >"$T/j1.out" 2>"$T/j1.err"
  rc1=$?
  good=1
  for j in 2 3 0; do
    "$@" --jobs $j >"$T/jn.out" 2>"$T/jn.err"
    rcn=$?
    if [ $rcn -ne $rc1 ] || ! cmp -s "$T/j1.out" "$T/jn.out" || ! cmp -s "$T/j1.err" "$T/jn.err"; then
      good=0
      not_ok "jobs: $name --jobs $j equals --jobs 1" "exit $rc1 vs $rcn" \
        "$(cmp "$T/j1.out" "$T/jn.out" 2>&1)" "$(diff "$T/j1.err" "$T/jn.err" | head -3)"
    fi
  done
  [ $good = 1 ] && ok "jobs: $name, --jobs 2/3/0 equal --jobs 1 ($(wc -l < "$T/j1.out") lines, exit $rc1)"
}
# shellcheck disable=SC2086
j_same "classify TSV" "$CALCSPEC" classify $J_IN
[ "$(wc -l < "$T/j1.out")" -eq 361 ] && grep -q 'j_narrow.csv: spectrum 0: ' "$T/j1.err" \
  && [ $rc1 -eq 1 ] && ok "jobs: classify wrote 360 rows and the narrow spectrum's error" \
  || not_ok "jobs: classify rows/errors" "$(wc -l < "$T/j1.out") lines" "$(cat "$T/j1.err")"
# shellcheck disable=SC2086
j_same "classify --json --composition" "$CALCSPEC" classify --json --composition $J_IN
j_same "cores" "$CALCSPEC" cores "$ROOT/spectra/examples"
j_same "cores --json" "$CALCSPEC" cores --json "$T/j_ha.csv" "$T/j_cod.animl"
"$CALCSPEC" preprocess --spikes auto --baseline arpls --smooth sg:11:3 --norm vector \
  --keep-baseline "$T/j_ha.csv" "$T/j_cod.animl" -o "$T/j1.csv" --jobs 1 2>"$T/j1.err"; rc1=$?
"$CALCSPEC" preprocess --spikes auto --baseline arpls --smooth sg:11:3 --norm vector \
  --keep-baseline "$T/j_ha.csv" "$T/j_cod.animl" -o "$T/j3.csv" --jobs 3 2>"$T/j3.err"; rc3=$?
[ $rc1 = 0 ] && [ $rc3 = 0 ] && [ -s "$T/j1.csv" ] && cmp -s "$T/j1.csv" "$T/j3.csv" \
  && ok "jobs: preprocess --jobs 3 writes the file --jobs 1 writes" \
  || not_ok "jobs: preprocess --jobs 3" "exit $rc1 $rc3" "$(cat "$T/j3.err")"
# CALCSPEC_JOBS is the default; --jobs wins
CALCSPEC_JOBS=3 "$CALCSPEC" classify "$T/j_cod.animl" >"$T/jn.out" 2>&1
"$CALCSPEC" classify --jobs 1 "$T/j_cod.animl" >"$T/j1.out" 2>&1
cmp -s "$T/j1.out" "$T/jn.out" && ok "jobs: CALCSPEC_JOBS=3 output equals --jobs 1" \
  || not_ok "jobs: CALCSPEC_JOBS=3"
"$CALCSPEC" classify --jobs x "$T/j_cod.animl" >"$T/out" 2>"$T/err"; rc=$?
expect "jobs: --jobs x is a usage error" 2 '--jobs wants a number'
"$CALCSPEC" cores --jobs 999 "$T/j_cod.animl" >"$T/out" 2>"$T/err"; rc=$?
expect "jobs: --jobs 999 is a usage error" 2 '--jobs wants a number'
