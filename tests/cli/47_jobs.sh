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
# train and cv: preprocessing, features and folds on N threads give the same
# model file and the same cross-validation as one thread
for c in ha cod tissue; do
  "$CALCSPEC" simulate --class $c -n 24 -s 40 --snr 10:50 -o "$T/jt_$c.csv" 2>/dev/null
done
"$CALCSPEC" train --jobs 1 -o "$T/jt1.txt" "$T"/jt_*.csv 2>"$T/jt1.err"; rc1=$?
"$CALCSPEC" train --jobs 3 -o "$T/jt3.txt" "$T"/jt_*.csv 2>"$T/jt3.err"; rc3=$?
[ $rc1 = 0 ] && [ $rc3 = 0 ] && [ -s "$T/jt1.txt" ] && cmp -s "$T/jt1.txt" "$T/jt3.txt" \
  && ok "jobs: train --jobs 3 writes the model --jobs 1 writes" \
  || not_ok "jobs: train --jobs 3" "exit $rc1 $rc3" "$(cat "$T/jt3.err")"
"$CALCSPEC" cv --jobs 1 --folds 4 "$T"/jt_*.csv >"$T/jc1.out" 2>"$T/jc1.err"; rc1=$?
"$CALCSPEC" cv --jobs 3 --folds 4 "$T"/jt_*.csv >"$T/jc3.out" 2>"$T/jc3.err"; rc3=$?
[ $rc1 = 0 ] && [ $rc3 = 0 ] && grep -q '^accuracy' "$T/jc1.out" && cmp -s "$T/jc1.out" "$T/jc3.out" \
  && ok "jobs: cv --jobs 3 prints what --jobs 1 prints" \
  || not_ok "jobs: cv --jobs 3" "exit $rc1 $rc3" "$(cat "$T/jc3.err")"
# two training spectra that do not cover the window (24th and 50th): the
# error names the first, whatever the thread count
"$CALCSPEC" simulate --class ha -n 1 -s 90 --range 300:700 -o "$T/jt_d.csv" 2>/dev/null
"$CALCSPEC" simulate --class ha -n 1 -s 91 --range 300:700 -o "$T/jt_i.csv" 2>/dev/null
for j in 1 3; do
  "$CALCSPEC" train --jobs $j -o "$T/jtb$j.txt" "$T"/jt_*.csv >"$T/out" 2>"$T/jtb$j.err"; rc=$?
  [ $rc = 1 ] && [ ! -e "$T/jtb$j.txt" ] && grep -q 'training spectrum 24: crop' "$T/jtb$j.err" \
    && ok "jobs: train --jobs $j names the first bad training spectrum, writes no model" \
    || not_ok "jobs: train --jobs $j with bad spectra" "exit $rc" "$(cat "$T/jtb$j.err")"
done
rm -f "$T/jt_d.csv" "$T/jt_i.csv"
# stream --jobs N: replies in request order, byte for byte those of one
# thread; bad requests, blank lines and an over-long line among 160 requests
for c in ha cod tissue; do
  [ -f "$T/jt_$c.csv" ] || "$CALCSPEC" simulate --class $c -n 24 -s 40 --snr 10:50 -o "$T/jt_$c.csv" 2>/dev/null
done
i=0
while [ $i -lt 160 ]; do
  case $((i % 8)) in
  0) printf '{"id":%d,"file":"%s","index":%d}\n' $i "$T/jt_ha.csv" $((i % 24)) ;;
  1) printf '{"id":%d,"file":"%s","index":%d}\n' $i "$T/jt_cod.csv" $((i % 24)) ;;
  2) printf '{"id":%d,"file":"%s","index":%d,"core_id":"C%d"}\n' $i "$T/jt_tissue.csv" $((i % 24)) $i ;;
  3) printf '{"id":%d,"file":"%s","index":99}\n' $i "$T/jt_ha.csv" ;;
  4) printf '{"id":%d,"x":[1,2,3],"y":[1,2]}\n' $i ;;
  5) printf '\n   \n' ;;
  6) printf '{"id":%d,"file":"%s"}\n' $i "$ROOT/spectra/examples/core02/hydroxyapatite_9200.animl" ;;
  7) printf '{"id":%d, not json\n' $i ;;
  esac
  i=$((i + 1))
done > "$T/js.jsonl"
awk 'BEGIN{printf "{\"id\":\"long\",\"pad\":\""; for(i=0;i<3000;i++) printf "x"; print "\"}"}' >> "$T/js.jsonl"
# requests of ~1.5 KB under --max-line 2048: at most 2 x 2048 bytes in flight
awk -v f="$T/jt_cod.csv" 'BEGIN{for(k=0;k<20;k++){printf "{\"id\":\"p%d\",\"file\":\"%s\",\"index\":%d,\"note\":\"", k, f, k; for(i=0;i<1500;i++) printf "y"; print "\"}"}}' >> "$T/js.jsonl"
"$CALCSPEC" stream --jobs 1 --max-line 2048 --composition < "$T/js.jsonl" > "$T/js1.out" 2>"$T/js1.err"; rc1=$?
"$CALCSPEC" stream --jobs 4 --max-line 2048 --composition < "$T/js.jsonl" > "$T/js4.out" 2>"$T/js4.err"; rc4=$?
nl=$(wc -l < "$T/js1.out")
[ $rc1 = 0 ] && [ $rc4 = 0 ] && [ "$nl" -eq 161 ] && cmp -s "$T/js1.out" "$T/js4.out" \
  && cmp -s "$T/js1.err" "$T/js4.err" \
  && ok "jobs: stream --jobs 4 answers 161 requests as --jobs 1 does, in order" \
  || not_ok "jobs: stream --jobs 4" "exit $rc1 $rc4, $nl lines" "$(head -c 300 "$T/js4.err")"
# the same requests, the first 32 lines each sent alone with a pause after
# it (as a client waiting for each reply does), the rest at once: the reader
# answers a request itself whenever none is in flight and no more input
# waits (each paced one, unless the machine is very slow), the workers the
# rest; the replies and the counts stay those of one thread.  Pacing only
# every 5th line put 5 lines in each read(), and none was answered inline.
awk '{print; fflush(); if (NR <= 32) system("sleep 0.1")}' "$T/js.jsonl" \
  | "$CALCSPEC" stream --jobs 4 --max-line 2048 --composition > "$T/jsb.out" 2>"$T/jsb.err"; rc4=$?
[ $rc4 = 0 ] && cmp -s "$T/js1.out" "$T/jsb.out" && cmp -s "$T/js1.err" "$T/jsb.err" \
  && ok "jobs: stream --jobs 4 fed one paced line at a time, then at once, answers as --jobs 1 does" \
  || not_ok "jobs: stream --jobs 4 paced" "exit $rc4" "$(diff "$T/js1.out" "$T/jsb.out" | head -c 300)"
