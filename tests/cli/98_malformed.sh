# 98_malformed.sh: a corpus of malformed files, generated here by
# tests/malformed.py into $T (never committed): truncations and byte damage
# of real files of every format (spectra/, calcspec's own writers,
# ../shared/formats when present), NaN/Inf/huge numbers, absurd header
# sizes, XML bombs, zip bombs, deep nesting.  Each file must read (exit 0)
# or give exactly one line "calcspec: FILE: reason" with no control
# characters (exit 1), within a timeout: never a crash, hang or sanitizer
# report.  Each is read with detection; crafted files also forced to
# their reader.
if ! command -v python3 >/dev/null 2>&1; then
  skip "malformed corpus" "python3 not found"
else
  mal=$T/malformed
  mkdir -p "$mal/src"
  "$CALCSPEC" convert "$ROOT/spectra/examples/core01/cod_9100.animl" -o "$mal/src/own.jdx" 2>/dev/null
  "$CALCSPEC" convert "$ROOT/spectra/examples/core01/cod_9100.animl" -o "$mal/src/own.csv" 2>/dev/null
  set -- "$ROOT/spectra/examples/core01/cod_9100.animl" "$mal/src/own.jdx" "$mal/src/own.csv"
  if have_shared; then
    for f in animl/pyAnIML_strict.animl gaml/TN_OMNIC_FTIR.gaml \
      horiba_labspec_xml/jobinyvon_test_spec_3s_cm-1.xml jcamp_dx/SPECFILE.DX \
      jcamp_dx/BRUKER1.JCM ocean_procspec/OceanOptics_Windows.ProcSpec spe/file_v2.spe \
      spe/Testfile_Single_SPE3.spe trivista_tvf/spec_1s_1acc_1frame_average.tvf csv/IR.CSV \
      horiba_labspec_txt/SMC1-Initial_RT.txt bwtek/PST02_iRPlus785_Z050_075_3200ms.txt \
      ocean_txt/OceanView.txt spc/TOLUENE.SPC renishaw_wdf/undefined.wdf \
      bruker_opus/test_opus.0 omnic_spa/spectre.SPA renishaw_wxd/PST_Reflex532_Z050_010_10000msx2.wxd \
      witec_wip/Si-data.WIP; do
      [ -f "$SHARED/formats/$f" ] && set -- "$@" "$SHARED/formats/$f"
    done
  else
    skip "malformed corpus: vendor formats" "../shared absent: only spectra/ and calcspec's own files are mutated"
  fi
  python3 "$here/malformed.py" "$mal/c" "$@" >"$T/out" 2>"$T/err"
  nfiles=$(wc -l <"$mal/c/MANIFEST")
  bad=0 nread=0 nrefused=0
  # check_one FILE [FORMAT]: one run of info, judged as above
  check_one() {
    if [ -n "$2" ]; then
      timeout 60 "$CALCSPEC" info --format "$2" "$1" >"$T/mo" 2>"$T/me"
    else
      timeout 60 "$CALCSPEC" info "$1" >"$T/mo" 2>"$T/me"
    fi
    mrc=$?
    why=""
    if [ $mrc -eq 0 ]; then
      [ "$(wc -l <"$T/mo")" -ge 2 ] || why="exit 0 without a spectrum"
      [ -s "$T/me" ] && why="exit 0 with stderr"
      nread=$((nread + 1))
    elif [ $mrc -eq 1 ]; then
      if [ "$(wc -l <"$T/me")" -ne 1 ]; then why="$(wc -l <"$T/me") stderr lines"
      elif ! grep -q "^calcspec: $1: ." "$T/me"; then why="not 'calcspec: FILE: reason'"
      elif tr -d '\n' <"$T/me" | LC_ALL=C grep -q '[[:cntrl:]]'; then why="control character in the message"
      fi
      nrefused=$((nrefused + 1))
    else
      why="exit $mrc (124 = timeout, >128 = signal)"
    fi
    if [ -n "$why" ]; then
      bad=$((bad + 1))
      not_ok "malformed: info ${2:+--format $2 }$(basename "$1")" "$why" \
        "stderr: $(head -c 300 "$T/me")"
    fi
  }
  while IFS="$(printf '\t')" read -r f fmt; do
    check_one "$f"
    case $(basename "$f") in
    [0-9][0-9][0-9]-trunc* | [0-9][0-9][0-9]-flip* | [0-9][0-9][0-9]-ffff* | \
      [0-9][0-9][0-9]-cut* | [0-9][0-9][0-9]-nan*) ;; # mutations: detection only
    *) [ "$fmt" != "-" ] && check_one "$f" "$fmt" ;;
    esac
  done <"$mal/c/MANIFEST"
  if [ $bad -eq 0 ] && [ "$nfiles" -ge 80 ]; then
    ok "malformed corpus: $nfiles files ($nread reads, $nrefused one-line refusals), no crash, hang or sanitizer report"
  elif [ $bad -eq 0 ]; then
    not_ok "malformed corpus" "only $nfiles files were generated" "$(head -c 300 "$T/err")"
  fi
  # the two messages that once broke a terminal line
  run info "$mal/c/"*-jcamp-cr-value.jdx
  expect "malformed: a JCAMP reason quoting a CR/LF stays one line, escaped" 1 "value '1\\\\n2' is not a number"
  run info "$mal/c/"*-csv-esc.csv
  if [ "$rc" -eq 1 ] && grep -q '\\e' "$T/err" && ! LC_ALL=C grep -q "$(printf '\033')" "$T/err"; then
    ok "malformed: CSV with ESC sequences: shown escaped, never sent to the terminal"
  else
    not_ok "malformed: CSV with ESC sequences" "rc $rc" "stderr: $(od -c "$T/err" | head -n 4)"
  fi
  run info "$mal/c/"*-zipbomb.ProcSpec
  expect "malformed: a ProcSpec zip bomb (256 MiB inside) is refused" 1 "calcspec: .*zipbomb.ProcSpec: "
  run info "$mal/c/"*-bomb-AnIML.animl
  expect "malformed: billion laughs in AnIML is refused" 1 "calcspec: .*bomb-AnIML.animl: "
fi
