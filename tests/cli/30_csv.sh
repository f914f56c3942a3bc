# 30_csv.sh: the delimited-text reader and the csv writer from the command line.

printf '100,1\n200,2\n300,3\n' > "$T/plain.csv"
run info "$T/plain.csv"; expect "info on a plain two-column csv" 0
expect_out "plain csv: 3 points, axis unknown" "	csv	unknown	3	unknown	100	300	"

printf 'x,y\n1,2\n3,oops\n' > "$T/bad.csv"
cp "$T/plain.csv" "$T/plain2.csv" # one file named twice is taken once
run info "$T/plain.csv" "$T/bad.csv" "$T/plain2.csv"
expect "a bad csv in a batch exits 1" 1 "calcspec: $T/bad.csv: line 3"
expect_prefixed_errors "bad csv error is one prefixed line"
if [ "$(grep -c "^$T/plain2*.csv	" "$T/out")" -eq 2 ]; then ok "the batch goes on after the bad file"
else not_ok "the batch goes on after the bad file" "stdout: $(cat "$T/out")"; fi

# a UTF-16 export (byte order mark FF FE, then x,y / 100,1 in UTF-16LE) is
# named as such with the way out, not "binary data"; stray NULs still are
printf '\377\376x\000,\000y\000\n\000\061\000\060\000\060\000,\000\061\000\n\000' > "$T/u16.csv"
run info "$T/u16.csv"
expect "UTF-16 text is refused with its name" 1 "calcspec: $T/u16.csv: UTF-16 text (byte order mark FF FE)"
expect_prefixed_errors "UTF-16 error is one prefixed line"
printf 'x,y\n1\000,2\n' > "$T/nul.csv"
run info "$T/nul.csv"; expect "NUL bytes elsewhere are binary data" 1 "binary data (NUL bytes)"

if have_shared; then
  lab="$SHARED/formats/horiba_labspec_txt/SMC1-Initial_RT.txt"
  # header: #Acq. time (s)=120, #Accumulations=2, #Laser=532nm_Edge, #Title=D_1;
  # 1024 rows from 12.5534 to 1726.5
  run info "$lab"; expect "info on a LabSpec export" 0
  expect_out "LabSpec: raman shift, laser, exposure, title" \
    "	csv	raman	1024	raman_shift	12.5534	1726.5	arbitrary	532	120	2				D_1$"
  run info "$SHARED/formats/bwtek/PST10_iR532_Probe_100_3000msx7.txt"
  expect "info on a B&W Tek export" 0
  # laser_wavelength;532,02  intigration times(ms);3000  average number;7
  expect_out "B&W Tek: Raman Shift column, decimal comma header" \
    "	raman	1801	raman_shift	145.99	4010.28	arbitrary	532.02	3	7	"
  run info "$SHARED/formats/ocean_txt/jazspec.jaz"; expect "info on a Jaz export" 0
  if [ "$(grep -c 'jazspec.jaz	[0-3]	csv	' "$T/out")" -eq 4 ]; then ok "Jaz: one spectrum per D/R/S/P column"
  else not_ok "Jaz: one spectrum per D/R/S/P column" "stdout: $(cat "$T/out")"; fi

  run convert "$lab" -o "$T/smc1.csv"; expect "convert LabSpec to csv" 0
  if grep -q '^# calcspec laser_nm=532$' "$T/smc1.csv" &&
     grep -q '^# calcspec meta.title=D_1$' "$T/smc1.csv" &&
     grep -q '^x,y$' "$T/smc1.csv"; then ok "csv header carries laser and title"
  else not_ok "csv header carries laser and title" "$(head -n 12 "$T/smc1.csv")"; fi
  run convert "$T/smc1.csv" -o "$T/smc1b.tsv"; expect "convert csv back to tsv" 0
  run info "$T/smc1.csv" "$T/smc1b.tsv"; expect "info on both conversions" 0
  cut -f 2- "$T/out" | sed -n 2,3p | sort -u > "$T/rows"
  if [ "$(wc -l < "$T/rows")" -eq 1 ] && grep -q '	1024	raman_shift	12.5534	1726.5	' "$T/rows"; then
    ok "csv and tsv round trips agree with the original"
  else not_ok "csv and tsv round trips agree with the original" "$(cat "$T/out")"; fi
  if grep -q "	" "$T/smc1b.tsv"; then ok ".tsv output is tab-separated"
  else not_ok ".tsv output is tab-separated"; fi
  run info "$SHARED/minerals/LICENSE_rruff_note.txt" --format csv
  expect "a prose .txt is not a spectrum" 1 "no table of numbers"
else
  for c in "info LabSpec" "info B&W" "info Jaz" "convert" "round trip" "not a spectrum"; do
    skip "$c" "../shared absent"; done
fi
