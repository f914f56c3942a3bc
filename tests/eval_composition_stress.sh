#!/bin/sh
# eval_composition_stress.sh: composition accuracy on spectra of the
# independent generator tests/stressgen.c (SYNTHETIC):
# - carbonate: calibrate on 24 pure-HA standards, evaluate on HA at mineral
#   share 0.3/0.6/1.0 x SNR 5/20/50, per spectrum and per core of 5;
# - whitlockite: index on HA+whitlockite mixtures with -4/0/+4 cm^-1 axis
#   offsets, raw and after a powder-mixture calibration on 40 other mixtures;
#   then at SNR 400 (noise nearly gone: what is left is model error), each
#   with the index's mean and sd per 0.1 bin of the true share;
# - COM fraction (Kontoyannis) on oxalate at mineral share 0.3/0.6/1 (tissue
#   under 1440-1500).
# N spectra per carbonate cell (default 200 = 40 cores).  Data go to a
# temporary directory.  Usage (from the repository):
#   make build/bench/eval_composition && sh tests/eval_composition_stress.sh
set -eu
N=${N:-200}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
cc -O2 -std=c11 -o "$t/stressgen" tests/stressgen.c -lm
g="$t/stressgen"
e=build/bench/eval_composition
$g --class ha -n 24 --seed 100 --snr 50 --share 1 --wht 0 -o "$t/std.csv" --truth "$t/std.tsv" >/dev/null
seed=200
for share in 0.3 0.6 1; do
  for snr in 5 20 50; do
    $g --class ha -n "$N" --seed $seed --snr $snr --share $share --wht 0 \
      -o "$t/ev.csv" --truth "$t/ev.tsv" >/dev/null
    $e stress "$t/std.csv" "$t/std.tsv" "$t/ev.csv" "$t/ev.tsv" | grep -v '^SYNTH\|^calib\|whitlockite'
    rm -f "$t/ev.tsv"
    seed=$((seed + 1))
  done
done
$g --class hawh -n 40 --seed 901 --snr 50 --share 1 -o "$t/whs.csv" --truth "$t/whs.tsv" >/dev/null
for snr in 20 50 400; do
  for off in -4 0 4; do
    rm -f "$t/wh.tsv"
    $g --class hawh -n 100 --seed $((300 + snr + off)) --snr $snr --share 1 --offset $off \
      -o "$t/wh.csv" --truth "$t/wh.tsv" >/dev/null
    echo "hawh SNR $snr offset $off:"
    $e stresswh "$t/whs.csv" "$t/whs.tsv" "$t/wh.csv" "$t/wh.tsv" | grep -v '^SYNTH'
  done
done
for share in 0.3 0.6 1; do
  rm -f "$t/ox.tsv"
  $g --class oxalate -n 100 --seed 400 --snr 30 --share $share -o "$t/ox.csv" --truth "$t/ox.tsv" >/dev/null
  $e stress "$t/std.csv" "$t/std.tsv" "$t/ox.csv" "$t/ox.tsv" | grep COM
done
