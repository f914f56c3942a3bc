# 10_animl.sh: info and convert on AnIML, batch behaviour.

if have_shared; then
  A=$SHARED/formats/animl
  run info "$A/pyAnIML_real_life.animl"; expect "info on real AnIML exits 0" 0
  # 2 steps x the "Value" series; "Measurement Delay" is not a spectrum
  [ "$(wc -l < "$T/out")" -eq 3 ] && ok "info prints a header and 2 rows" || not_ok "info row count" "$(cat "$T/out")"
  expect_out "info row has format, points and axis" "pyAnIML_real_life.animl	0	animl	unknown	96	unknown	0	95	"
  run info --json "$A/pyAnIML_strict.animl"; expect "info --json exits 0" 0
  expect_out "--json prints one object per spectrum" '^\{"file": ?".*pyAnIML_strict.animl", ?"index": ?0,'
  if command -v python3 >/dev/null && python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/out" 2>/dev/null
  then ok "--json output parses as JSON Lines"; else not_ok "--json output parses as JSON Lines" "$(head -c 300 "$T/out")"; fi
  # a batch goes on past a bad file and reports it in the exit code
  run info "$A/pyAnIML_strict.animl" "$T/nope.animl" "$A/pyAnIML_example_nonamespace.animl"
  expect "batch with a missing file exits 1" 1 "calcspec: $T/nope.animl: "
  [ "$(wc -l < "$T/out")" -eq 3 ] && ok "batch still reports the good files" || not_ok "batch rows" "$(cat "$T/out")"
  run info "$A/MS_STRICT.animl"; expect "mass-spectrum AnIML is refused with a reason" 1 "not monotonic"
  expect_prefixed_errors "refusal is one prefixed line"
  run convert "$A/pyAnIML_strict.animl" -o "$T/strict.animl"; expect "convert AnIML to AnIML" 0
  run info "$T/strict.animl"; expect_out "converted file keeps 4 points" "	4	unknown	0	3	"
else
  skip "AnIML CLI tests on real files" "../shared absent"
fi

# nm -> Raman shift during conversion needs a laser
printf '<?xml version="1.0"?><AnIML xmlns="urn:org:astm:animl:schema:core:draft:0.90" version="0.90"><ExperimentStepSet><ExperimentStep name="s" experimentStepID="a"><Result><SeriesSet name="S" length="3"><Series name="Wavelength" seriesID="x" seriesType="Float64" dependency="independent"><IndividualValueSet><D>800</D><D>850</D><D>900</D></IndividualValueSet><Unit label="nm"/></Series><Series name="Intensity" seriesID="y" seriesType="Float64" dependency="dependent"><IndividualValueSet><D>1</D><D>2</D><D>3</D></IndividualValueSet></Series></SeriesSet></Result></ExperimentStep></ExperimentStepSet></AnIML>\n' > "$T/nm.animl"
run convert --raman-shift "$T/nm.animl" -o "$T/shift.animl"
expect "nm to shift without a laser exits 1" 1 "excitation wavelength"
run convert --laser 785 "$T/nm.animl" -o "$T/shift.animl"; expect "convert --laser 785" 0
run info "$T/shift.animl"
# 1e7/785 - 1e7/800 = 238.853503..., 1e7/785 - 1e7/900 = 1627.74239... (by hand)
expect_out "shift axis spans 238.85..1627.74 with laser 785" "raman	3	raman_shift	238\.85350[0-9]*	1627\.7423[0-9]*	arbitrary	785	"
run convert --laser 785 --range 2500:3000 "$T/nm.animl" -o "$T/crop.animl"
expect "crop outside the covered range exits 1" 1 "covers"
run convert "$T/nm.animl" -o "$T/out.weird"; expect "unknown output extension is a usage error" 2 "--to"

# convert streams (cs_writer): a file that breaks after some spectra, or a
# spectrum that cannot be converted, leaves no output and no scratch files
"$CALCSPEC" simulate --class ha -n 6 -s 4 -o "$T/six.animl" >/dev/null 2>&1
head -c "$(($(wc -c < "$T/six.animl") * 2 / 3))" "$T/six.animl" > "$T/cut.animl"
mkdir -p "$T/conv"
run convert "$T/cut.animl" -o "$T/conv/out.jdx"
expect "convert of a file broken part-way exits 1" 1 "cut.animl: "
expect_prefixed_errors "the break is one prefixed line"
[ -z "$(ls -A "$T/conv")" ] && ok "nothing left behind by a failed convert" || not_ok "leftovers" "$(ls -A "$T/conv")"
run convert --range 100:200 "$T/six.animl" -o "$T/conv/out.animl"
expect "a spectrum that cannot be cropped exits 1" 1 "six.animl: spectrum 0: "
[ -z "$(ls -A "$T/conv")" ] && ok "nothing left behind after a spectrum fails" || not_ok "leftovers" "$(ls -A "$T/conv")"
run convert "$T/six.animl" -o "$T/conv/six.jdx"; expect "convert AnIML to JCAMP-DX" 0
run info "$T/conv/six.jdx"
[ "$(wc -l < "$T/out")" -eq 7 ] && ok "all 6 spectra converted" || not_ok "converted rows" "$(cat "$T/out")"
[ "$(ls -A "$T/conv")" = six.jdx ] && ok "only the output is left" || not_ok "leftovers" "$(ls -A "$T/conv")"
