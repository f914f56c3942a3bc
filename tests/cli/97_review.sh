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
