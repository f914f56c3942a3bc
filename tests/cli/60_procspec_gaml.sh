# 60_procspec_gaml.sh: Ocean Insight ProcSpec and Thermo GAML through the CLI.
# Expected numbers come from the files themselves (python3 zipfile/xml.etree,
# base64/struct), printed as calcspec prints numbers (%.10g).

run formats
expect_out "formats lists procspec" '^procspec	yes	no	procspec	'
expect_out "formats lists procspec_unverified" '^procspec_unverified	yes	no	'
expect_out "formats lists gaml" '^gaml	yes	no	gaml	'

if have_shared; then
  P="$SHARED/formats/ocean_procspec"
  G="$SHARED/formats/gaml"
  run info "$P/OceanOptics_Linux.ProcSpec"
  expect "procspec info exits 0" 0
  expect_out "procspec row: 3648 px, nm, %T, 0.2 s, 5 scans" \
    '	0	procspec	unknown	3648	wavelength_nm	176\.3604183	893\.6943397	transmittance_pct		0\.2	5	'
  run info --json "$P/whiteref.ProcSpec"
  expect "procspec --json exits 0" 0
  expect_out "procspec metadata: instrument, acquired, entry" \
    '"instrument":"USB4000 USB4C00008".*"acquired":"2018-08-02T15:56:19\.360Z".*"procspec\.entry":"ps_13\.xml"'
  run info "$P/tampered_procspec.zip"
  expect "tampered ProcSpec is refused" 1 "calcspec: $P/tampered_procspec.zip: signature mismatch: ps_13.xml was modified"
  expect_prefixed_errors "tampered error is one prefixed line"
  run info "$P/OceanOptics_badencode.ProcSpec"
  expect "edited ProcSpec (badencode) is refused by default" 1 "signature mismatch: ps_56.xml"
  run info --format procspec_unverified "$P/OceanOptics_badencode.ProcSpec"
  expect "procspec_unverified reads badencode (raw MacRoman bytes)" 0
  expect_out "badencode row: 2048 px reflectance, 100 scans" \
    '	procspec_unverified	unknown	2048	wavelength_nm	179\.25249	882\.6895149	reflectance		0\.02	100	'
  cp "$P/OceanOptics_Windows.ProcSpec" "$T/renamed.txt"
  run info "$T/renamed.txt"
  expect "procspec detected by content under a .txt name" 0
  expect_out "renamed ProcSpec keeps its reader" '	procspec	unknown	2048	wavelength_nm	190\.939253	888\.2335352	'
  head -c 50000 "$P/OceanOptics_Windows.ProcSpec" > "$T/cut.ProcSpec"
  run info "$T/cut.ProcSpec"
  expect "truncated ProcSpec exits 1" 1 "calcspec: $T/cut.ProcSpec: "

  run info "$G/TS_Helios.gaml"
  expect "gaml info exits 0" 0
  expect_out "gaml trace 1: absorbance (FLOAT64 y)" '	0	gaml	unknown	201	wavelength_nm	400	600	absorbance	'
  expect_out "gaml trace 2: %T (FLOAT32 y)" '	1	gaml	unknown	201	wavelength_nm	400	600	transmittance_pct	'
  run info "$G/TN_OMNIC_FTIR.gaml"
  expect_out "OMNIC FTIR: wavenumber absorbance, 32 scans" \
    '	gaml	ftir	1868	wavenumber	399\.2538147	3999\.703125	absorbance			32	'
  head -c 5000 "$G/TN_OMNIC_FTIR.gaml" > "$T/cut.gaml"
  run info "$T/cut.gaml"
  expect "truncated GAML exits 1" 1 "calcspec: $T/cut.gaml: "
else
  skip "procspec/gaml CLI tests" "../shared absent"
fi

# A zip bomb: a ps_0.xml that inflates to 80 MiB must be refused before it
# is inflated (the cap is 64 MiB per entry).
if command -v python3 >/dev/null 2>&1; then
  python3 - "$T/bomb.ProcSpec" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("OOISignatures.xml", "<a/>")
    z.writestr("ps_0.xml", b" " * (80 << 20))
EOF
  run info --format procspec_unverified "$T/bomb.ProcSpec"
  expect "zip bomb is refused" 1 "exceeds the 64 MiB limit"
else
  skip "zip bomb" "python3 absent"
fi
