# 50_spe.sh: the SPE reader through `calcspec info` (FORMATS.md §1 values).
S=$SHARED/formats/spe

run formats; expect "formats lists spe" 0
expect_out "formats has the spe row" '^spe	yes	no	spe	'

if have_shared && [ -f "$S/S0N_50x.spe" ]; then
  # FORMATS.md §1: 1x1340 u32, laserLine 531.988, 30 s; first Wavelength
  # value of the footer is 534.00047611653622 (printed with 10 digits).
  run info "$S/S0N_50x.spe"; expect "info S0N_50x.spe" 0
  expect_out "S0N: raman, 1340 points, nm axis from 534.0004761, laser 531.988, 30 s" \
    '	0	spe	raman	1340	wavelength_nm	534\.0004761	[0-9.]+	counts	531\.988	30	'
  # the same bytes under another name are still found by content
  cp "$S/S0N_50x.spe" "$T/renamed.dat"
  run info "$T/renamed.dat"; expect "SPE detected by content, not name" 0
  expect_out "renamed file reads as spe" '	0	spe	raman	1340	'
  # truncated inside the data: footer offset now points past the end
  head -c 5000 "$S/S0N_50x.spe" > "$T/trunc.spe"
  run info "$T/trunc.spe"; expect "truncated SPE exits 1" 1 "calcspec: $T/trunc.spe: .*outside the file"
  expect_prefixed_errors "truncated SPE error is one prefixed line"
else
  skip "SPE S0N_50x.spe cases" "../shared absent"
fi

if have_shared && [ -f "$S/test_multiple_rois.spe" ]; then
  # 5 frames x 3 ROIs of 1, 66 and 90 rows -> 5 * 157 spectra (+ header)
  run info "$S/test_multiple_rois.spe"; expect "info multi-ROI SPE" 0
  n=$(wc -l < "$T/out")
  if [ "$n" -eq 786 ]; then ok "multi-ROI SPE gives 785 spectra"
  else not_ok "multi-ROI SPE gives 785 spectra" "got $((n - 1))"; fi
  run info --json "$S/test_multiple_rois.spe"; expect "info --json multi-ROI SPE" 0
  expect_out "JSON carries frame/roi/row and time stamps" \
    '"spe.exposure_started_s":"[0-9.]+","spe.frame_tracking_number":"5","spe.frame":"4","spe.roi":"2","spe.row":"89"'
else
  skip "SPE multi-ROI cases" "test_multiple_rois.spe absent"
fi

if have_shared && [ -f "$S/Testfile_Single_SPE2.SPE" ]; then
  # WinSpec 2.2, 35 frames (FORMATS.md §1), laser_position 636.3 nm
  run info "$S/Testfile_Single_SPE2.SPE"; expect "info WinSpec 2.x SPE" 0
  n=$(grep -c '	spe	raman	1340	wavelength_nm	' "$T/out")
  if [ "$n" -eq 35 ]; then ok "WinSpec SPE gives 35 spectra"
  else not_ok "WinSpec SPE gives 35 spectra" "got $n"; fi
else
  skip "SPE 2.x cases" "../shared absent"
fi
