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

# Reference library (README "Classifier" explains the sizes).  Raman: per
# class and laser (785, 830 nm) 40 spots with a small mineral share of the
# probed volume (0.03-0.3, the rest tissue) and 40 with a large one
# (0.3-1), SNR 5-100; all other variation at the simulator defaults
# (fluorescence 1-100x, instrument width 4-10 cm^-1, axis shift +-2 cm^-1,
# stretch +-0.2 %).  FTIR: per class 30 + 30 spots likewise, SNR 20-300.
i=0
for c in tissue cod com hydroxyapatite whitlockite calcite; do
  i=$((i + 1))
  lo="--mineral-frac 0.03:0.3" hi="--mineral-frac 0.3:1"
  [ "$c" = tissue ] && lo="" hi=""
  # shellcheck disable=SC2086
  for laser in 785 830; do
    sim --class "$c" -n 40 --seed $((i * 1000 + laser)) --laser $laser --width 2:10 \
      --snr 5:100 $lo -o "$out/reference/raman/${c}_${laser}_low.animl"
    sim --class "$c" -n 40 --seed $((i * 1000 + laser + 100)) --laser $laser --width 2:10 \
      --snr 5:100 $hi -o "$out/reference/raman/${c}_${laser}_high.animl"
  done
  # shellcheck disable=SC2086
  {
    sim --class "$c" -n 30 --seed $((i * 1000 + 500)) -t ftir --snr 20:300 \
      $lo -o "$out/reference/ftir/${c}_low.animl"
    sim --class "$c" -n 30 --seed $((i * 1000 + 600)) -t ftir --snr 20:300 \
      $hi -o "$out/reference/ftir/${c}_high.animl"
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
