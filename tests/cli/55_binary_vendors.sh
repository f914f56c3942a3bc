# 55_binary_vendors.sh: SPC, WDF, OPUS, OMNIC and the named refusals through
# the command line (values decoded by hand; FORMATS.md §8-§11).
run formats; expect "formats lists the binary vendor readers" 0
expect_out "formats has the spc row" '^spc	yes	no	'
expect_out "formats has the wdf row" '^wdf	yes	no	'
expect_out "formats has the opus row" '^opus	yes	no	'
expect_out "formats has the omnic row" '^omnic	yes	no	'
expect_out "formats names WITec WIP as recognised, not read" '^witec_wip	no	no	'

# A synthetic WITec project header (only the tag matters): one prefixed
# line naming the format, exit 1, under any file name.
printf 'WIT_PRCT\r\000\000\000WITec Project\000' > "$T/project"
run info "$T/project"
expect "WITec WIP refused by name" 1 "calcspec: $T/project: WITec Project .wip .*is not supported"
expect_prefixed_errors "WIP refusal is one prefixed line"

if have_shared && [ -d "$SHARED/formats/renishaw_wdf" ]; then
  W=$SHARED/formats/renishaw_wdf
  # 3 x 3 map, WMAP start -100 um, step 100 um; 325 nm laser, nm axis
  run info --json "$W/renishaw_test_map.wdf"; expect "info WDF map" 0
  n=$(wc -l < "$T/out")
  if [ "$n" -eq 9 ]; then ok "WDF map gives 9 spectra"
  else not_ok "WDF map gives 9 spectra" "got $n"; fi
  expect_out "last pixel at (100, 100) um" '"index":8,.*"position_um":"100 100"'
  cp "$W/nCal_Qontor785_z005H12_100_1x3s.wdf" "$T/ncal"
  run info "$T/ncal"; expect "WDF without extension" 0
  expect_out "nCal: raman, 1021 points, 785 nm, 3 s, 1 accumulation" \
    '	0	wdf	raman	1021	raman_shift	-154\.5019531	1111\.108398	counts	785\.01[0-9]*	3	1	'
  run info "$SHARED/formats/omnic_spa/interfero.SPA"
  expect "OMNIC interferogram refused" 1 "interferogram"
  run info "$SHARED/formats/bruker_opus/test.0000"; expect "info OPUS" 0
  expect_out "OPUS absorbance block" '	1	opus	ftir	2567	wavenumber	699\.3889539	3998\.344938	absorbance	'
else
  skip "binary vendor files" "../shared absent"
fi
