# 20_jcamp.sh: JCAMP-DX reading, refusals and the convert -> info round trip.
# Expected numbers are the files' own ##NPOINTS/##FIRSTX/##LASTX labels.

run formats; expect_out "formats lists jcamp as readable and writable" '^jcamp	yes	yes	jdx,dx,jcm,jcamp	'
if have_shared; then
  J="$SHARED/formats/jcamp_dx"
  run info "$J/tannic_acid.jdx"; expect "info on a Raman JCAMP file" 0
  expect_out "tannic_acid: raman, 1949 points, 100.595..2854.713" \
    '	0	jcamp	raman	1949	raman_shift	100\.595	2854\.713	arbitrary	.*	tannic acid$'
  run info "$J/compound.jdx"; expect "info on a LINK compound file" 0
  expect_out "compound.jdx block 5 has 3951 points" '	4	jcamp	ftir	3951	wavenumber	450	4400	'
  run info "$J/pktab1.jdx"; expect "peak table only is refused" 1 "peak table only, no spectrum"
  expect_prefixed_errors "peak table error is prefixed"
  run info "$J/TESTSPEC.DX"; expect "NMR is refused" 1 "not an optical spectrum"
  run info "$J/SPECFILE.DX"; expect "SPECFILE Y-check mismatch is reported" 1 "y-check"
  # copy under a neutral name: detection is by content
  cp "$J/OceanOptics_comma.jdx" "$T/ocean.dat"
  run info "$T/ocean.dat"; expect "comma-decimal export detected by content" 0
  expect_out "comma decimals: 176,36..893,69 read as 176.36..893.69" \
    '	2	jcamp	unknown	3648	wavelength_nm	176\.36	893\.69	transmittance_pct	'
  run convert "$J/compound.jdx" -o "$T/out.jdx"; expect "convert to .jdx" 0
  run info "$T/out.jdx"; expect "info on the written file" 0
  if [ "$(grep -c '	jcamp	ftir	' "$T/out")" -eq 5 ]; then ok "written file keeps 5 spectra"
  else not_ok "written file keeps 5 spectra" "$(cat "$T/out")"; fi
  expect_out "written file keeps titles and ranges" '	2	jcamp	ftir	3951	wavenumber	450	4400	transmittance_pct	.*	block 3$'
  run convert "$J/tannic_acid.jdx" -o "$T/t.jdx"
  run convert "$T/t.jdx" -o "$T/t2.jdx"; expect "convert a written file again" 0
  # a second generation differs from the first only in source_file
  if diff "$T/t.jdx" "$T/t2.jdx" | grep '^[<>]' | grep -qv 'META=source_file='; then
    not_ok "second generation differs only in source_file" "$(diff "$T/t.jdx" "$T/t2.jdx" | head -5)"
  elif cmp -s "$T/t.jdx" "$T/t2.jdx"; then
    not_ok "second generation differs only in source_file" "files are identical: source_file not kept"
  else ok "second generation differs only in source_file"; fi
  run convert --to jcamp "$J/tannic_acid.jdx" -o "$T/t.out"; expect "convert --to jcamp" 0
  run info "$T/t.out"; expect_out "--to jcamp output reads back" '	jcamp	raman	1949	raman_shift	100\.595	2854\.713	'
else
  skip "jcamp CLI tests" "no ../shared"
fi
