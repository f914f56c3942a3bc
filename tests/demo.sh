#!/bin/sh
# demo.sh: what `make demo` shows.  $1 = the calcspec binary.
set -u
bin=${1:-build/calcspec}
root=$(cd "$(dirname "$0")/.." && pwd)
ex=$root/spectra/examples
echo "== calcspec formats"
"$bin" formats
echo
echo "== calcspec info spectra/examples/core01   (SYNTHETIC spectra made by calcspec simulate)"
"$bin" info "$ex/core01"
echo
echo "== calcspec classify spectra/examples   (embedded default model, trained on the SYNTHETIC"
echo "   library generated at build time (build/gen/reference); columns: see 'calcspec classify --help')"
# file (its name, without the folder), core, class, subtype, best, t2, q,
# flags, qc_flags, reacquire: the columns by name, so that new ones do not
# shift them
"$bin" classify "$ex" > "${TMPDIR:-/tmp}/calcspec-demo.$$"
status=$?
awk -F'\t' -v OFS='\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i }
  { f = $c["file"]; if (NR > 1) sub(/.*\//, "", f)
    print f, $c["core_id"], $c["class"], $c["subtype"], $c["best"], $c["t2"], $c["q"],
          $c["flags"], $c["qc_flags"], $c["reacquire"] }' "${TMPDIR:-/tmp}/calcspec-demo.$$"
rm -f "${TMPDIR:-/tmp}/calcspec-demo.$$"
echo
echo "== pathologists' birefringence findings for these cores (spectra/examples/findings.csv)"
cat "$ex/findings.csv"
echo
echo "== calcspec cores spectra/examples   (per-core call, counts, carbonate, whitlockite index)"
"$bin" cores "$ex" || status=1
echo
echo "== calcspec validate --findings spectra/examples/findings.csv spectra/examples"
echo "   (core05 and core06 are deliberately discordant)"
"$bin" validate --findings "$ex/findings.csv" "$ex" || status=1
echo
out=$root/build/demo
mkdir -p "$out"
echo "== calcspec report --findings spectra/examples/findings.csv spectra/examples -o build/demo/report.pdf"
echo "   (a summary page with the birefringence comparison, then one page per core)"
"$bin" report --findings "$ex/findings.csv" "$ex" -o "$out/report.pdf" || status=1
echo "== calcspec plot spectra/examples/core02/hydroxyapatite_9200.animl -o build/demo/hydroxyapatite.png"
"$bin" plot "$ex/core02/hydroxyapatite_9200.animl" -o "$out/hydroxyapatite.png" || status=1
echo "   wrote build/demo/report.pdf and build/demo/hydroxyapatite.png"
exit $status
