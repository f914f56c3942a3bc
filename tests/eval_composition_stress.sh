#!/bin/sh
# eval_composition_stress.sh: carbonate / whitlockite accuracy on spectra of
# the independent generator tests/stressgen.c (SYNTHETIC): calibrate on 24
# pure-HA standards, evaluate on HA at mineral share 0.3/0.6/1.0 x SNR
# 5/20/50 (cores of 5) and on HA+whitlockite mixtures with +-4 cm^-1 axis
# offsets.  Data go to a temporary directory.  Usage (from the repository):
#   make build/bench/eval_composition && sh tests/eval_composition_stress.sh
set -eu
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
cc -O2 -std=c11 -o "$t/stressgen" tests/stressgen.c -lm
g="$t/stressgen"
$g --class ha -n 24 --seed 100 --snr 50 --share 1 --wht 0 -o "$t/std.csv" --truth "$t/std.tsv" >/dev/null
seed=200
for share in 0.3 0.6 1; do
  for snr in 5 20 50; do
    $g --class ha -n 40 --seed $seed --snr $snr --share $share --wht 0 \
      -o "$t/ev_${share}_$snr.csv" --truth "$t/ev_${share}_$snr.tsv" >/dev/null
    seed=$((seed + 1))
  done
done
for share in 0.3 0.6 1; do
  for snr in 5 20 50; do
    build/bench/eval_composition stress "$t/std.csv" "$t/std.tsv" \
      "$t/ev_${share}_$snr.csv" "$t/ev_${share}_$snr.tsv" | grep -v '^SYNTH\|^calib\|whitlockite'
  done
done
for snr in 20 50; do
  for off in -4 0 4; do
    rm -f "$t/wh.tsv"
    $g --class hawh -n 60 --seed $((300 + snr + off)) --snr $snr --share 1 --offset $off \
      -o "$t/wh.csv" --truth "$t/wh.tsv" >/dev/null
    printf 'hawh SNR %s offset %s: ' "$snr" "$off"
    build/bench/eval_composition stress "$t/std.csv" "$t/std.tsv" "$t/wh.csv" "$t/wh.tsv" | grep whitlockite
  done
done
