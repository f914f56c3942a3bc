# 95_calibrate.sh: calibrate's labels file (file,wt lines).  SYNTHETIC FTIR
# standards, one per file, without truth.carbonate_wt so only -l labels them.
mkdir -p "$T/lab"
for i in 1 2 3 4; do
  "$CALCSPEC" -q simulate --class hydroxyapatite --technique ftir -n 1 --seed $((6100 + i)) \
    --carbonate $((2 * i)) --whitlockite-frac 0:0 --snr 200 -o "$T/lab/raw$i.csv"
  grep -v 'truth\.carbonate_wt' "$T/lab/raw$i.csv" > "$T/lab/std$i.csv"
done
rm -f "$T"/lab/raw*.csv
printf 'file,wt\nstd1.csv,2\nstd2.csv,4\nstd3.csv,6\nstd4.csv,8\n' > "$T/lab/wt.csv"
run calibrate carbonate -l "$T/lab/wt.csv" "$T"/lab/std*.csv; expect "calibrate -l labels" 0
expect_out "four standards from the labels" '^n 4$'
cp "$T/out" "$T/lab/cal_lf.txt"
# labels from standard input: read once, for every standard (it was read
# again per standard, so only the first one found its label)
run_stdin() { "$CALCSPEC" "$@" <"$STDIN" >"$T/out" 2>"$T/err"; rc=$?; }
STDIN="$T/lab/wt.csv" run_stdin calibrate carbonate -l - "$T"/lab/std*.csv
expect "calibrate -l - (labels on standard input)" 0
cmp -s "$T/out" "$T/lab/cal_lf.txt" && ok "labels on standard input: the same calibration" \
  || not_ok "labels on standard input" "$(head -c 300 "$T/out")"
# an unreadable labels file is named, not reported as standards without labels
run calibrate carbonate -l "$T/lab/nosuch.csv" "$T"/lab/std*.csv
expect "calibrate -l missing file" 1 "nosuch.csv: cannot read labels"
# a labels file saved with CRLF line ends (spreadsheets) reads as the same
# labels: "std1.csv,2\r" was not a number, so no standard had a label
tr -d '\r' < "$T/lab/wt.csv" | sed 's/$/\r/' > "$T/lab/wt_crlf.csv"
run calibrate carbonate -l "$T/lab/wt_crlf.csv" "$T"/lab/std*.csv; expect "calibrate -l CRLF labels" 0
cmp -s "$T/out" "$T/lab/cal_lf.txt" && ok "CRLF labels: the same calibration" \
  || not_ok "CRLF labels" "$(head -c 300 "$T/out")"
# a label that is no value in range, or a file labelled twice, is refused
# naming the line (it was skipped, and the metadata's value used instead)
printf 'std1.csv,2\nstd2.csv,nan\n' > "$T/lab/bad.csv"
run calibrate carbonate -l "$T/lab/bad.csv" "$T"/lab/std*.csv
expect "calibrate -l: nan is refused" 1 "bad.csv: line 2: want file,value with the value in 0..100, got 'std2.csv,nan'"
printf 'std1.csv,2\nstd2.csv,4\nstd1.csv,6\n' > "$T/lab/dup.csv"
run calibrate carbonate -l "$T/lab/dup.csv" "$T"/lab/std*.csv
expect "calibrate -l: a file listed twice" 1 "dup.csv: line 3: 'std1.csv' listed again (first on line 1)"
printf 'std1.csv,0.2\nstd2.csv,4\n' > "$T/lab/wh.csv"
run calibrate whitlockite -l "$T/lab/wh.csv" "$T"/lab/std*.csv
expect "calibrate whitlockite -l: a share above 1" 1 "wh.csv: line 2: want file,value with the value in 0..1"
# no standard usable: say that, not "technique must be raman or ftir" (the
# technique is unknown only because no standard was read)
run calibrate carbonate "$ROOT/spectra/examples/core01"
expect "calibrate with no usable standard" 1 "need at least 3 standards, got 0"
