# Streaming reads (cs_reader): classify, info and map read a file spectrum by
# spectrum (AnIML one experiment step, CSV tables a block of 256 columns,
# WDF one spectrum at a time).  The results must be exactly what the whole
# reading gives: JCAMP-DX is still read whole, so the same SYNTHETIC spectra
# as AnIML (streamed), CSV (streamed in column blocks) and JCAMP-DX (whole)
# must classify the same, row for row; 300 spectra cross the 256 blocks.
"$CALCSPEC" -q simulate --class hydroxyapatite -n 300 -s 5100 -o "$T/s.animl" \
  && "$CALCSPEC" convert "$T/s.animl" -o "$T/s.csv" \
  && "$CALCSPEC" convert "$T/s.animl" -o "$T/s.jdx" \
  || not_ok "stream: make inputs"
for f in s.animl s.csv s.jdx; do
  "$CALCSPEC" classify --composition "$T/$f" 2>"$T/s.err" | cut -f2- >"$T/$f.tsv"
done
[ "$(wc -l < "$T/s.animl.tsv")" -eq 301 ] && cmp -s "$T/s.animl.tsv" "$T/s.jdx.tsv" \
  && cmp -s "$T/s.csv.tsv" "$T/s.jdx.tsv" \
  && ok "stream: AnIML and CSV streamed classify exactly as JCAMP-DX read whole (300 rows)" \
  || not_ok "stream: streamed and whole readings classify alike" \
    "$(wc -l < "$T/s.animl.tsv") rows" "$(diff "$T/s.animl.tsv" "$T/s.jdx.tsv" | head -3)"
# JSON records carry the file's count, known only at its end
run classify --json "$T/s.animl"
n=$(grep -c '"count":300,' "$T/out")
[ "$rc" -eq 0 ] && [ "$n" -eq 300 ] && ok "stream: every JSON record says count 300" \
  || not_ok "stream: JSON count" "exit $rc, $n records with count 300"
# info streams the same metadata as before, for every spectrum
"$CALCSPEC" info "$T/s.animl" | cut -f2- | sed 1d >"$T/s_i1"
"$CALCSPEC" info "$T/s.jdx" | cut -f2- | sed 1d >"$T/s_i2"
[ "$(wc -l < "$T/s_i1")" -eq 300 ] && ok "stream: info lists 300 spectra" \
  || not_ok "stream: info" "$(wc -l < "$T/s_i1") rows"
# a file that breaks part-way: the spectra before the break are reported,
# then the error (exit 1); cut the AnIML inside its 290th step
off=$(grep -bo '<ExperimentStep ' "$T/s.animl" | sed -n 290p | cut -d: -f1)
head -c $((off + 200)) "$T/s.animl" >"$T/s_cut.animl"
run classify "$T/s_cut.animl"
rows=$(($(wc -l < "$T/out") - 1))
[ "$rc" -eq 1 ] && [ "$rows" -ge 250 ] && [ "$rows" -le 289 ] \
  && grep -q "s_cut.animl: XML error" "$T/err" \
  && ok "stream: a file cut part-way gives its first $rows rows, then the error" \
  || not_ok "stream: cut file" "exit $rc, $rows rows" "$(cat "$T/err")"
# memory: info on a ~23 MB AnIML (1,500 spectra) stays below the file's
# size (the whole DOM reading took some 150 MB)
if ldd "$CALCSPEC" 2>/dev/null | grep -q libasan; then
  skip "stream: info RSS" "AddressSanitizer build (shadow memory and quarantine inflate RSS)"
elif [ -x /usr/bin/time ]; then
  "$CALCSPEC" -q simulate --class tissue -n 1500 -s 5300 -o "$T/s_big.animl" \
    || not_ok "stream: make the large input"
  /usr/bin/time -f '%M' -o "$T/s_rss" "$CALCSPEC" info "$T/s_big.animl" >"$T/out" 2>"$T/err"
  kb=$(tail -n 1 "$T/s_rss")
  size=$(($(wc -c < "$T/s_big.animl") / 1024))
  [ "$(wc -l < "$T/out")" -eq 1501 ] && [ "$kb" -lt 40000 ] \
    && ok "stream: info on a $size kB AnIML peaks at $kb kB RSS" \
    || not_ok "stream: info RSS" "$kb kB for a $size kB file"
else
  skip "stream: info RSS" "no /usr/bin/time"
fi
