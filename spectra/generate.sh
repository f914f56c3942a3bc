#!/bin/sh
# generate.sh CALCSPEC OUTDIR: (re)build the SYNTHETIC reference library and
# the example biopsy cores with `calcspec simulate`.  Fixed seeds, so the
# output is byte-identical on every run (`make spectra`; checked by
# tests/cli/80_simulate.sh).  See spectra/README.md.
set -eu
bin=$1 out=$2
rm -rf "$out/reference" "$out/examples"
mkdir -p "$out/reference/raman" "$out/reference/ftir" "$out/examples"
sim() { "$bin" -q simulate "$@"; }

# Reference library.  Raman: 12 spots at 785 nm + 12 at 830 nm per class,
# SNR 10-60, mineral share 0.2-1 of the probed volume (the rest tissue),
# all other variation at the simulator defaults (fluorescence 1-100x,
# instrument width 4-10 cm^-1, axis shift +-2 cm^-1, stretch +-0.2 %).
# FTIR: 16 spots per class, SNR 50-300, mineral share 0.3-1.
i=0
for c in tissue cod com hydroxyapatite whitlockite calcite; do
  i=$((i + 1))
  mf="--mineral-frac 0.2:1"
  [ "$c" = tissue ] && mf=""
  # shellcheck disable=SC2086
  {
    sim --class "$c" -n 12 --seed $((i * 1000)) --laser 785 --snr 10:60 $mf \
      -o "$out/reference/raman/${c}_785.animl"
    sim --class "$c" -n 12 --seed $((i * 1000 + 100)) --laser 830 --snr 10:60 $mf \
      -o "$out/reference/raman/${c}_830.animl"
    sim --class "$c" -n 16 --seed $((i * 1000 + 500)) -t ftir --snr 50:300 \
      ${mf:+--mineral-frac 0.3:1} -o "$out/reference/ftir/${c}.animl"
  }
done

# Example biopsy cores (Raman 785 nm, SNR 15-40): one folder per core,
# mineral spots plus one tissue-only spot; core_id in metadata.
core() { # core ID SEED CLASS N [simulate options...]
  id=$1 seed=$2 cls=$3 n=$4
  shift 4
  mkdir -p "$out/examples/$id"
  sim --class "$cls" -n "$n" --seed "$seed" --snr 15:40 --core "$id" "$@" \
    -o "$out/examples/$id"
  sim --class tissue -n 1 --seed $((seed + 50)) --snr 15:40 --core "$id" \
    -o "$out/examples/$id"
}
core core01 9100 cod 4 --mineral-frac 0.1:0.6
core core02 9200 hydroxyapatite 4 --mineral-frac 0.1:0.6 --carbonate 5:8
core core03 9300 whitlockite 4 --mineral-frac 0.1:0.6 --whitlockite-frac 0.5:0.9 --carbonate 2:5
core core04 9400 calcite 4 --mineral-frac 0.1:0.6
core core05 9500 hydroxyapatite 4 --mineral-frac 0.1:0.6 --carbonate 1:3
core core06 9600 com 4 --mineral-frac 0.05:0.3

cat > "$out/examples/findings.csv" <<'CSV'
core_id,birefringent,notes
core01,yes,weddellite (COD) oxalate: birefringent as expected
core02,no,carbonated hydroxyapatite: non-birefringent as expected
core03,no,whitlockite + hydroxyapatite: non-birefringent as expected
core04,yes,calcite: strongly birefringent (not oxalate) as expected
core05,yes,DISCORDANT on purpose: apatite-only core called birefringent (e.g. collagen or paraffin birefringence)
core06,no,DISCORDANT on purpose: whewellite (COM) core called non-birefringent (oxalate lost in sectioning)
CSV
