# 70_preprocess.sh: calcspec preprocess: options, canonical pipeline text,
# spike metadata, --keep-baseline, batch behaviour.  Inputs are AnIML files
# written here; expected values are the injected spike (x = 1050) and hand
# arithmetic.

# mkspec FILE FIRST N SPIKE_INDEX: AnIML with x = FIRST..FIRST+N-1 and y = a
# slope + a Lorentzian at 960 (FWHM 10) + a small ripple, plus 3000 at
# SPIKE_INDEX (-1: none).
mkspec() {
  awk -v first="$2" -v n="$3" -v sp="$4" 'BEGIN {
    printf "<?xml version=\"1.0\"?><AnIML xmlns=\"urn:org:astm:animl:schema:core:draft:0.90\" version=\"0.90\"><ExperimentStepSet><ExperimentStep name=\"s\" experimentStepID=\"a\"><Result><SeriesSet name=\"S\" length=\"%d\"><Series name=\"Raman shift\" seriesID=\"x\" seriesType=\"Float64\" dependency=\"independent\"><IndividualValueSet>", n
    for (i = 0; i < n; i++) printf "<D>%d</D>", first + i
    printf "</IndividualValueSet><Unit label=\"1/cm\"/></Series><Series name=\"Intensity\" seriesID=\"y\" seriesType=\"Float64\" dependency=\"dependent\"><IndividualValueSet>"
    for (i = 0; i < n; i++) { x = first + i; y = 100 + 0.1 * i + 500 / (1 + ((x - 960) / 5) ^ 2) + (i % 3); if (i == sp) y += 3000; printf "<D>%.6f</D>", y }
    printf "</IndividualValueSet></Series></SeriesSet></Result></ExperimentStep></ExperimentStepSet></AnIML>\n" }' > "$1"
}
mkspec "$T/pp_in.animl" 900 201 150
mkspec "$T/pp_clean.animl" 900 201 -1
mkspec "$T/pp_short.animl" 1200 50 -1

run preprocess --help; expect "preprocess --help exits 0" 0
expect_out "preprocess --help prints usage" '^usage: calcspec preprocess'
run preprocess "$T/pp_in.animl"; expect "preprocess without -o exits 2" 2 "no output file"
run preprocess -o "$T/x.animl"; expect "preprocess without inputs exits 2" 2 "no input files"
run preprocess --smooth sg:10:3 -o "$T/x.animl" "$T/pp_in.animl"
expect "even SG window is a usage error" 2 "--smooth: savitzky-golay window must be odd"
run preprocess --norm l2 -o "$T/x.animl" "$T/pp_in.animl"; expect "unknown --norm exits 2" 2 "--norm"
run preprocess --baseline nosuch -o "$T/x.animl" "$T/pp_in.animl"; expect "unknown --baseline exits 2" 2 "--baseline"
run preprocess --resample 1:2 -o "$T/x.animl" "$T/pp_in.animl"; expect "--resample needs A:B:STEP" 2 "--resample"
run preprocess --spikes 0 -o "$T/x.animl" "$T/pp_in.animl"; expect "--spikes threshold must be positive" 2 "--spikes"
run preprocess --range 5:1 -o "$T/x.animl" "$T/pp_in.animl"; expect "--range needs A<B" 2 "--range"
[ ! -e "$T/x.animl" ] && ok "no output after usage errors" || not_ok "no output after usage errors"

# canonical pipeline text, in the fixed order whatever the option order
run preprocess -P --resample 910:1090:1 --norm band:960:20 --smooth sg:11:3 --spikes auto --range 900:1100
expect "--print-pipeline exits 0" 0
printf 'crop 900:1100\nspikes 6:3\nsmooth sg:11:3\nnormalise band:960:20\nresample 910:1090:1\n' > "$T/pp_want.txt"
cmp -s "$T/out" "$T/pp_want.txt" && ok "--print-pipeline prints the canonical text" \
  || not_ok "--print-pipeline prints the canonical text" "$(cat "$T/out")"
cp "$T/out" "$T/pp_pipe.txt"
run preprocess -P --pipeline "$T/pp_pipe.txt"; expect "--pipeline FILE reads the text back" 0
cmp -s "$T/out" "$T/pp_want.txt" && ok "pipeline text round-trips through a file" \
  || not_ok "pipeline text round-trips through a file" "$(cat "$T/out")"
printf 'smooth sg:11:3\ncrop 1:2\n' > "$T/pp_bad.txt"
run preprocess -P --pipeline "$T/pp_bad.txt"; expect "out-of-order pipeline file exits 2" 2 "line 2: step 'crop' repeated or out of order"

# the injected spike at index 150 (x = 1050) is removed and recorded
run preprocess --spikes auto --smooth sg:5:2 --norm max -o "$T/pp_out.animl" "$T/pp_in.animl"
expect "preprocess exits 0" 0
grep -A1 '"spikes_removed"' "$T/pp_out.animl" | grep -q '<S>1</S>' && ok "spikes_removed = 1" || not_ok "spikes_removed = 1"
grep -A1 '"spike_x"' "$T/pp_out.animl" | grep -q '<S>1050</S>' && ok "spike_x = 1050" || not_ok "spike_x = 1050"
grep -A1 '"preprocessing"' "$T/pp_out.animl" | grep -q '<S>spikes 6:3; smooth sg:5:2; normalise max</S>' \
  && ok "output records its preprocessing" || not_ok "output records its preprocessing"
# max normalisation: the largest value is 1 (decoded with python3's stdlib)
if command -v python3 >/dev/null; then
  if python3 - "$T/pp_out.animl" <<'PY'
import base64, re, struct, sys
v = re.findall(r'<EncodedValueSet>([^<]*)</EncodedValueSet>', open(sys.argv[1]).read())
b = base64.b64decode(v[1]); y = struct.unpack('<%dd' % (len(b) // 8), b)
sys.exit(0 if abs(max(y) - 1) < 1e-12 and len(y) == 201 else 1)
PY
  then ok "max-normalised output peaks at 1"; else not_ok "max-normalised output peaks at 1"; fi
else
  skip "max-normalised output peaks at 1" "python3 absent"
fi

# --keep-baseline: a second spectrum per input with role=baseline
run preprocess --baseline arpls:lam=1e5 --keep-baseline -o "$T/pp_kb.animl" "$T/pp_clean.animl"
expect "--keep-baseline exits 0" 0
run info "$T/pp_kb.animl"
[ "$(wc -l < "$T/out")" -eq 3 ] && ok "--keep-baseline writes 2 spectra" || not_ok "--keep-baseline writes 2 spectra" "$(cat "$T/out")"
grep -A1 '"role"' "$T/pp_kb.animl" | grep -q '<S>baseline</S>' && ok "baseline spectrum has role=baseline" || not_ok "baseline spectrum has role=baseline"

# resample onto 910..1090 step 1: 181 points
run preprocess --range 905:1095 --resample 910:1090:1 -o "$T/pp_rs.animl" "$T/pp_clean.animl"
expect "--resample exits 0" 0
run info "$T/pp_rs.animl"; expect_out "resampled axis has 181 points 910..1090" "	181	raman_shift	910	1090	"

# batch: a missing file and a spectrum without the band are reported; the
# good file is still written; the exit status is 1
run preprocess --norm band:960:20 -o "$T/pp_batch.animl" "$T/pp_clean.animl" "$T/pp_nope.animl" "$T/pp_short.animl"
expect "batch with failures exits 1" 1 "calcspec: $T/pp_nope.animl: "
grep -q "calcspec: $T/pp_short.animl: spectrum 0: normalise: band window 940 to 980 is not inside" "$T/err" \
  && ok "band outside the spectrum is reported per spectrum" || not_ok "band outside the spectrum is reported per spectrum" "$(cat "$T/err")"
expect_prefixed_errors "batch errors are prefixed lines"
run info "$T/pp_batch.animl"
[ "$(wc -l < "$T/out")" -eq 2 ] && ok "batch output holds the good spectrum" || not_ok "batch output holds the good spectrum" "$(cat "$T/out")"
run preprocess --norm band:960:20 -o "$T/pp_none.animl" "$T/pp_short.animl"
expect "nothing processed exits 1" 1 "nothing to write"
[ ! -e "$T/pp_none.animl" ] && ok "no output when nothing was processed" || not_ok "no output when nothing was processed"

# spectrum by spectrum (cs_writer): a file that breaks part-way keeps the
# spectra before the break, reports the break and exits 1; the output is
# the same as from the whole file's good part
"$CALCSPEC" simulate --class ha -n 40 -s 11 -o "$T/pp40.animl" >/dev/null 2>&1
cut_at=$(grep -b -o '<ExperimentStep name="sim-hydroxyapatite-41' "$T/pp40.animl" | head -n 1 | cut -d: -f1)
head -c "$((cut_at + 200))" "$T/pp40.animl" > "$T/pp_cut.animl"
run preprocess -b arpls "$T/pp_cut.animl" -o "$T/pp_cut_out.animl"
expect "preprocess of a file broken part-way exits 1" 1 "pp_cut.animl: "
expect_prefixed_errors "the break is one prefixed line"
run info "$T/pp_cut_out.animl"
n=$(($(wc -l < "$T/out") - 1))
[ "$n" -ge 20 ] && [ "$n" -lt 40 ] && ok "spectra before the break are written ($n)" || not_ok "spectra written before the break" "$n"
