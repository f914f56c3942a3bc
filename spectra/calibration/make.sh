#!/bin/sh
# make.sh: the default carbonate calibrations compiled into calcspec.
# They are fitted on SYNTHETIC hydroxyapatite spectra from `calcspec
# simulate` (known truth.carbonate_wt 0-10 wt%), NOT on real standards:
# calibrate with standards of your own (`calcspec calibrate carbonate`).
# Usage: sh spectra/calibration/make.sh build/calcspec spectra/calibration
set -eu
bin=$1 out=$2
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
note="user calibration fitted on SYNTHETIC spectra: calibrate with standards"
"$bin" -q simulate --class hydroxyapatite -n 200 --seed 7000 --carbonate 0:10 \
  --whitlockite-frac 0:0 --snr 100:100 -o "$t/raman.animl"
"$bin" -q calibrate carbonate --note "$note (spectra/calibration/make.sh, Raman seeds 7000-7199)" \
  -o "$out/carbonate_raman.txt" "$t/raman.animl"
"$bin" -q simulate --class hydroxyapatite --technique ftir -n 60 --seed 7100 --carbonate 0:10 \
  --whitlockite-frac 0:0 --snr 100:100 -o "$t/ftir.animl"
"$bin" -q calibrate carbonate --note "$note (spectra/calibration/make.sh, FTIR seeds 7100-7159)" \
  -o "$out/carbonate_ftir.txt" "$t/ftir.animl"
