# 97_review.sh: regressions found in code review.

# classify: a spectrum the library refuses (all-zero counts cannot be
# normalised) is reported with the library's reason, not an empty one.
awk 'BEGIN { print "raman_shift,counts"; for (i = 0; i <= 800; i++) print 300 + 2 * i ",0" }' \
  > "$T/rv_zero.csv"
run classify "$T/rv_zero.csv"
expect "classify: failed spectrum exits 1" 1 "calcspec: $T/rv_zero.csv: spectrum 0: "
if grep -Eq ': spectrum 0: *$' "$T/err"; then
  not_ok "classify: failed spectrum has a reason" "stderr: $(head -c 300 "$T/err")"
else ok "classify: failed spectrum has a reason"; fi

# convert --laser overrides the file's laser (cmd_convert.c passes it to
# cs_spectrum_to_raman_shift, which documents the override); --help said
# it applied only when the file records none.
run convert --help
expect_out "convert --help: --laser overrides the file's laser" 'overrides the laser the file records'

# calcspec --help lists exit status 3 (README "Exit codes").
run --help
expect_out "--help lists exit status 3" '3 validate --min-kappa'

# An XML file whose bytes fail its declared encoding: libxml2 reports the
# conversion failure through its generic handler (stderr by default); the
# library must not print, so stderr holds only the one prefixed line.
printf '<?xml version="1.0" encoding="EUC-JP"?>\n<AnIML xmlns="urn:org:astm:animl:schema:core:draft:0.90"><SampleSet>\377\376\377</SampleSet></AnIML>\n' \
  > "$T/rv_enc.animl"
run info "$T/rv_enc.animl"
expect "XML encoding error exits 1" 1 "calcspec: $T/rv_enc.animl: "
if [ "$(wc -l < "$T/err")" -eq 1 ]; then ok "XML encoding error: one stderr line"
else not_ok "XML encoding error: one stderr line" "stderr: $(head -c 300 "$T/err")"; fi
