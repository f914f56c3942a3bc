# 92_unexplained.sh: rejection of the unfamiliar (README "Classifier",
# "Rejection"): a detected spectrum whose strongest band its class cannot
# explain is `unknown` with the reason; clean spectra of known classes are
# not rejected.  SYNTHETIC spectra.

# calcite (1086 + 712 cm^-1) with and without a band at 985 cm^-1 three
# times the height of calcite's own (brushite-like HPO4), 1 cm^-1 steps,
# fixed pseudo-random noise
calc_csv() { # EXTRA_HEIGHT
  awk -v B="$1" 'BEGIN { srand(7)
    for (x = 300; x <= 1900; x++) {
      y = 1000 + 0.2 * x
      d = (x - 1086) / 3.5; y += 2000 * exp(-d * d / 1.4427)
      d = (x - 712) / 4; y += 140 * exp(-d * d / 1.4427)
      d = (x - 985) / 5; y += B * exp(-d * d / 1.4427)
      y += 20 * (rand() + rand() + rand() - 1.5)
      printf "%d,%.3f\n", x, y } }'
}
calc_csv 0 > "$T/calcite.csv"
calc_csv 6000 > "$T/calcite_985.csv"
run classify --technique raman --axis raman_shift "$T/calcite.csv" "$T/calcite_985.csv"
expect "classify calcite with and without a foreign band" 0
c1=$(awk -F'\t' 'NR == 2 { print $5 "|" $23 }' "$T/out")
c2=$(awk -F'\t' 'NR == 3 { print $5 "|" $23 "|" $24 }' "$T/out")
[ "$c1" = "calcite|" ] && ok "calcite alone -> calcite, no flag" || not_ok "calcite alone" "got: $c1"
case $c2 in
  unknown*unexplained*"band at 98"*"unexplained by calcite"*) ok "calcite + strong 985 cm^-1 band -> unknown ($c2)" ;;
  *) not_ok "calcite + strong 985 cm^-1 band -> unknown, reason unexplained" "got: $c2" ;;
esac
run classify --json --technique raman --axis raman_shift "$T/calcite_985.csv"
expect_out "JSON flags name unexplained" '"unexplained"'

# clean, high-SNR spectra of every class are never rejected this way
for c in com cod hydroxyapatite whitlockite calcite; do
  "$CALCSPEC" -q simulate --class $c -n 8 --seed 4100 --snr 200:1000 \
    --fluorescence 0:1 -o "$T/hi_$c.animl"
done
run classify "$T"/hi_*.animl
expect "classify clean high-SNR minerals" 0
n=$(awk -F'\t' 'NR > 1 && $23 ~ /unexplained/' "$T/out" | wc -l)
[ "$n" -eq 0 ] && ok "no clean high-SNR mineral rejected as unexplained (40 spectra)" \
  || not_ok "clean high-SNR minerals rejected as unexplained: $n"
