# 40_vendor_xml.sh: HORIBA LabSpec 6 XML and TriVista .tvf through the CLI.
# Row counts come from the files: the x3-y2 map's <LSX_Matrix> has 6
# <LSX_Row>s, linescan.tvf has 21 <Frame>s.

lsx="$SHARED/formats/horiba_labspec_xml"
tvf="$SHARED/formats/trivista_tvf"
if have_shared && [ -d "$lsx" ] && [ -d "$tvf" ]; then
  run info "$lsx/jobinyvon_test_map_x3-y2.xml"
  expect "info on a LabSpec map exits 0" 0
  if [ "$(wc -l <"$T/out")" -eq 7 ]; then ok "info on a 3x2 map prints a header and one row per pixel"
  else not_ok "info on a 3x2 map prints a header and one row per pixel" "$(wc -l <"$T/out") lines"; fi
  expect_out "map rows say labspec_xml, wavelength, counts/s, 632.817 nm" \
    '	5	labspec_xml	raman	34	wavelength_nm	720\.924	771\.797	counts_per_s	632\.817	2	1	test			map_x3-y2$'

  run info --json "$lsx/jobinyvon_test_map_x3-y2.xml"
  expect "info --json on a LabSpec map exits 0" 0
  expect_out "the last pixel sits at x=2 y=1 um" '"index":5,.*"position_um":"2 1"'

  run info "$lsx/jobinyvon_test_spec_3s_cm-1.xml"
  expect_out "a cm-1 export is a Raman-shift axis" '	raman_shift	1930\.57	2844\.97	counts_per_s	'

  cp "$lsx/jobinyvon_test_spec_3s_counts.xml" "$T/noext"
  run info "$T/noext"
  expect "a LabSpec file without extension is recognised by content" 0
  expect_out "Cnt gives counts, exposure 3 s" '	labspec_xml	raman	34	wavelength_nm	720\.888	771\.76	counts	632\.817	3	1	'

  run info "$tvf/linescan.tvf"
  expect "info on a TriVista line scan exits 0" 0
  if [ "$(wc -l <"$T/out")" -eq 22 ]; then ok "info on linescan.tvf prints one row per frame"
  else not_ok "info on linescan.tvf prints one row per frame" "$(wc -l <"$T/out") lines"; fi

  cp "$tvf/spec_3s_2acc_1frame_no_average.tvf" "$T/tvfcopy"
  run info "$T/tvfcopy"
  expect "a TriVista file without extension is recognised by content" 0
  expect_out "LaserWave 790, Exposure_Time_(ms) 3000, 2 accumulations" \
    '	trivista	raman	1024	wavelength_nm	933\.846926[0-9]*	966\.019543[0-9]*	counts	790	3	2	'

  head -c 20000 "$tvf/spec_1s_1acc_1frame_average.tvf" > "$T/cut.tvf"
  run info "$T/cut.tvf"
  expect "a truncated TriVista file is one error line" 1 "calcspec: $T/cut.tvf: XML error"
  expect_prefixed_errors "truncated TriVista error is prefixed"

  head -c 5000 "$lsx/jobinyvon_test_spec.xml" > "$T/cut.xml"
  run info "$T/cut.xml"
  expect "a truncated LabSpec file is one error line" 1 "calcspec: $T/cut.xml: XML error"

  run formats
  expect_out "formats lists labspec_xml" '^labspec_xml	yes	no	'
  expect_out "formats lists trivista" '^trivista	yes	no	tvf	'
else
  skip "vendor XML CLI tests" "../shared/formats absent"
fi
