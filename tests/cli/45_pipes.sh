# Pipes, FIFOs and "-" (issue 17): a stream is read once, whole, so what
# comes through a pipe equals the file; "-o -" writes standard output; a
# FIFO without a writer is one error line after CALCSPEC_INPUT_TIMEOUT.
P_A=$ROOT/spectra/examples/core01/cod_9100.animl
"$CALCSPEC" convert "$P_A" -o "$T/p.jdx" && "$CALCSPEC" convert "$P_A" -o "$T/p.csv" \
  && "$CALCSPEC" convert "$P_A" -o "$T/p.txt" || not_ok "pipes: make inputs"
# plain text: the converted file without its comments and header (a
# headerless two-column "x y" file, as RRUFF-style exports are)
grep -v '^#' "$T/p.txt" | tail -n +2 | tr ',' ' ' > "$T/plain.txt"
p_same() { # NAME FILE: info through "cat FILE | info -" equals info FILE
  "$CALCSPEC" info "$2" | cut -f2- > "$T/p_file"
  cat "$2" | "$CALCSPEC" info - 2>"$T/err" | cut -f2- > "$T/p_pipe"
  if [ -s "$T/p_file" ] && [ "$(wc -l < "$T/p_file")" -ge 2 ] && cmp -s "$T/p_file" "$T/p_pipe"
  then ok "pipe: $1 from '-' equals the file"
  else not_ok "pipe: $1 from '-' equals the file" "$(tail -n 1 "$T/p_file")" "$(tail -n 1 "$T/p_pipe")" "$(cat "$T/err")"; fi
}
p_same AnIML "$P_A"
p_same JCAMP "$T/p.jdx"
p_same CSV "$T/p.csv"
p_same text "$T/plain.txt"
RRUFF=$SHARED/minerals/calcite/Calcite__R040070__Raman__785__0__unoriented__Raman_Data_Processed__15334.txt
if [ -f "$RRUFF" ]; then p_same "RRUFF text (2347 points)" "$RRUFF"
else skip "pipe: RRUFF text" "../shared absent"; fi
# /dev/stdin is read the same way
"$CALCSPEC" info "$P_A" | cut -f2- > "$T/p_file"
"$CALCSPEC" info /dev/stdin < "$P_A" | cut -f2- > "$T/p_pipe"
cat "$P_A" | "$CALCSPEC" info /dev/stdin | cut -f2- > "$T/p_pipe2"
[ -s "$T/p_file" ] && cmp -s "$T/p_file" "$T/p_pipe" && cmp -s "$T/p_file" "$T/p_pipe2" \
  && ok "pipe: /dev/stdin equals the file" || not_ok "pipe: /dev/stdin" "$(cat "$T/p_pipe2")"
# the user's name, never the temporary file, in messages and output
printf 'not a spectrum\n' | "$CALCSPEC" info - >"$T/out" 2>"$T/err"; rc=$?
expect "pipe: bad content is a data error" 1 '^calcspec: -: '
grep -q 'calcspec-in-\|/proc/self' "$T/err" "$T/out" && not_ok "pipe: temporary name leaked" "$(cat "$T/err")" \
  || ok "pipe: no temporary name in messages"
cat "$P_A" | "$CALCSPEC" classify - >"$T/out" 2>"$T/err"; rc=$?
expect "pipe: classify -" 0
expect_out "pipe: classify names the input '-'" '^-	0	core01	raman	oxalate	'
# -o -: convert and preprocess write standard output
"$CALCSPEC" convert "$P_A" -o - --to jcamp > "$T/p_out.jdx" 2>"$T/err"
[ -s "$T/p.jdx" ] && cmp -s "$T/p_out.jdx" "$T/p.jdx" && ok "convert -o - --to jcamp equals -o FILE.jdx" \
  || not_ok "convert -o -" "$(head -c 200 "$T/err")"
"$CALCSPEC" convert "$P_A" -o - --to csv | "$CALCSPEC" convert - -o - --to animl \
  | "$CALCSPEC" info - | cut -f2,4-10 > "$T/p_chain"
"$CALCSPEC" info "$P_A" | cut -f2,4-10 > "$T/p_file"
[ -s "$T/p_file" ] && cmp -s "$T/p_chain" "$T/p_file" && ok "convert - -o - in a pipeline keeps the spectrum" \
  || not_ok "pipeline" "$(cat "$T/p_chain")"
run convert "$P_A" -o -; expect "convert -o - without --to is a usage error" 2 "needs --to"
[ -e "$ROOT/-" ] || [ -e ./- ] && not_ok "a file named '-' was written" || ok "no file named '-'"
cat "$P_A" | "$CALCSPEC" preprocess -r 400:1800 -o - --to csv - > "$T/p_pp.csv" 2>"$T/err"
"$CALCSPEC" info "$T/p_pp.csv" > "$T/out" 2>>"$T/err"
expect_out "preprocess - -o - --to csv" '	csv	raman	[0-9]+	raman_shift	4[0-9.]*	1[78][0-9.]*	'
# validate reads its findings table from "-"
"$CALCSPEC" cores "$ROOT/spectra/examples" > "$T/p_cores.tsv" 2>/dev/null
if [ -f "$ROOT/spectra/examples/findings.csv" ]; then
  "$CALCSPEC" validate --findings "$ROOT/spectra/examples/findings.csv" "$T/p_cores.tsv" > "$T/p_v1" 2>/dev/null; r1=$?
  cat "$T/p_cores.tsv" | "$CALCSPEC" validate --findings "$ROOT/spectra/examples/findings.csv" - > "$T/p_v2" 2>"$T/err"; r2=$?
  [ "$r1" = "$r2" ] && cmp -s "$T/p_v1" "$T/p_v2" && ok "validate TSV from '-' equals the file" \
    || not_ok "validate -" "rc $r1 vs $r2" "$(head -c 200 "$T/err")"
  printf 'x\ty\n' | "$CALCSPEC" validate --findings "$ROOT/spectra/examples/findings.csv" - >"$T/out" 2>"$T/err"; rc=$?
  expect "validate: '-' that is not a cores table" 1 "^calcspec: -: not a cores table"
fi
# FIFOs: with a writer it is read whole; without one, one line, no hang
if mkfifo "$T/p_fifo" 2>/dev/null && command -v timeout >/dev/null; then
  (cat "$T/p.jdx" > "$T/p_fifo") &
  timeout 20 "$CALCSPEC" info "$T/p_fifo" | cut -f2- > "$T/p_pipe"
  wait
  "$CALCSPEC" info "$T/p.jdx" | cut -f2- > "$T/p_file"
  [ "$(wc -l < "$T/p_file")" -ge 1 ] && cmp -s "$T/p_file" "$T/p_pipe" && ok "FIFO with a writer equals the file" || not_ok "FIFO with a writer" "$(cat "$T/p_pipe")"
  CALCSPEC_INPUT_TIMEOUT=1 timeout 20 "$CALCSPEC" info "$T/p_fifo" >"$T/out" 2>"$T/err"; rc=$?
  expect "FIFO without a writer: error after the timeout" 1 "no data within the timeout"
  [ "$(wc -l < "$T/err")" -eq 1 ] && ok "FIFO without a writer: one line" || not_ok "FIFO one line" "$(cat "$T/err")"
else
  skip "FIFO tests" "no mkfifo or timeout"
fi
# --technique / --axis: applied when the file does not say
run classify "$T/plain.txt"; expect "headerless x y: technique unknown without options" 1 "technique unknown"
run classify --axis raman_shift "$T/plain.txt"; expect "headerless x y classifies with --axis raman_shift" 0
expect_out "--axis raman_shift: COD oxalate" '	raman	oxalate	COD	'
run classify --technique raman "$T/plain.txt"; expect "--technique raman implies a Raman-shift axis" 0
expect_out "--technique raman: COD oxalate" '	raman	oxalate	COD	'
run info --axis raman_shift "$T/plain.txt"; expect "info --axis" 0
expect_out "info shows the given axis" '	raman	1024	raman_shift	'
run cores --axis raman_shift "$T/plain.txt"; expect "cores --axis" 0
run classify --technique ftir "$P_A"; expect "--technique disagreeing with the file is an error" 1 "the file says technique raman, --technique says ftir"
run info --axis wavenumber "$P_A"; expect "--axis disagreeing with the file is an error" 1 "the file says axis raman_shift, --axis says wavenumber"
run classify --axis pixels "$P_A"; expect "bad --axis is a usage error" 2 "raman_shift, wavelength_nm or wavenumber"
run cores --technique uv "$P_A"; expect "bad --technique is a usage error" 2 "raman or ftir"
