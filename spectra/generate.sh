#!/bin/sh
# generate.sh CALCSPEC OUTDIR [reference|examples|all]: (re)build the
# SYNTHETIC reference library (OUTDIR/reference) and/or the example biopsy
# cores (OUTDIR/examples) with `calcspec simulate`.  Fixed seeds, so the
# output is byte-identical on every run.  The build makes the reference
# library under build/gen (never committed; Makefile); `make spectra`
# regenerates spectra/examples, checked by tests/cli/80_simulate.sh.  See
# spectra/README.md.
set -eu
bin=$1 out=$2 what=${3:-all}
sim() { "$bin" -q simulate "$@"; }

if [ "$what" = reference ] || [ "$what" = all ]; then
rm -rf "$out/reference"
mkdir -p "$out/reference/raman" "$out/reference/ftir"
# Reference library (README "Simulator and reference spectra" explains it).
# Raman: per class and laser/detector (785 nm 1024 px, 830 nm 1340 px,
# 1064 nm 512 px) 30 spots with a small mineral share of the probed volume
# (0.05-0.3, the rest tissue) and 30 with a large one (0.3-1), SNR 5-100,
# fluorescence 1-100x the strongest band (with its shot noise), band
# shapes from Gaussian to Lorentzian (--lorentz 0:1), band widths x0.7-1.3,
# instrument width 2-10 cm^-1, axis offset +-5 cm^-1 and stretch +-0.3 %,
# phosphate nu1 across its literature range (bands.md 1A: carbonate-free HA
# 962-964, whitlockite 965-975 with a weak-to-medium lower component).
# FTIR: per class 30 + 30 spots (mineral 0.03-0.3 / 0.3-1, SNR 20-300)
# and 30 sampled by diamond ATR (bands pulled 2-8 cm^-1 lower, x 1000/nu;
# Gaussian to Lorentzian, widths x0.8-1.4), 60 more tissue spectra with
# varied protein band shapes (they set the FTIR detection threshold),
# plus bone-like carbonated apatite in protein (4-9 wt% CO3, mineral
# 0.3-0.7, band widths x1-1.5) and poorly crystalline bone apatite (PO4
# sub-bands 1000-1145 cm^-1, --bio-apatite; mineral 0.5-0.95).
i=0
for c in tissue cod com hydroxyapatite whitlockite calcite; do
  i=$((i + 1))
  lo="--mineral-frac 0.05:0.3" hi="--mineral-frac 0.3:1"
  [ "$c" = tissue ] && lo="" hi=""
  for det in 785:1024 830:1340 1064:512; do
    laser=${det%:*} px=${det#*:}
    # shellcheck disable=SC2086
    for half in low high; do
      mf=$lo off=0
      [ $half = high ] && mf=$hi off=100
      sim --class "$c" -n 30 --seed $((i * 10000 + laser + off)) --laser "$laser" \
        --pixels "$px" --width 2:10 --snr 5:100 --fluorescence 1:100 --shift -5:5 \
        --stretch -0.003:0.003 --lorentz 0:1 --band-width 0.7:1.3 $mf \
        --ha-nu1 962:964 --wht-nu1 965:972 --wht-lower 0.05:0.3 \
        -o "$out/reference/raman/${c}_${laser}_${half}.animl"
    done
  done
  lo="--mineral-frac 0.03:0.3" atr="--mineral-frac 0.1:1"
  [ "$c" = tissue ] && lo="" atr=""
  # shellcheck disable=SC2086
  {
    sim --class "$c" -n 30 --seed $((i * 1000 + 500)) --technique ftir --snr 20:300 \
      $lo -o "$out/reference/ftir/${c}_low.animl"
    sim --class "$c" -n 30 --seed $((i * 1000 + 600)) --technique ftir --snr 20:300 \
      $hi -o "$out/reference/ftir/${c}_high.animl"
    sim --class "$c" -n 30 --seed $((i * 1000 + 700)) --technique ftir --snr 20:300 \
      --atr 2:8 --band-width 0.8:1.4 --lorentz 0:1 $atr -o "$out/reference/ftir/${c}_atr.animl"
  }
done
sim --class tissue -n 60 --seed 4600 --technique ftir --snr 20:300 --band-width 0.7:1.4 \
  --lorentz 0:1 --atr 0:8 -o "$out/reference/ftir/tissue_varied.animl"
sim --class hydroxyapatite -n 30 --seed 4700 --technique ftir --snr 20:300 --carbonate 4:9 \
  --mineral-frac 0.3:0.7 --band-width 1:1.5 -o "$out/reference/ftir/hydroxyapatite_bone.animl"
sim --class hydroxyapatite -n 30 --seed 4800 --technique ftir --snr 20:300 --carbonate 4:9 \
  --mineral-frac 0.5:0.95 --bio-apatite 0.5:1 --band-width 0.8:1.5 \
  -o "$out/reference/ftir/hydroxyapatite_bone_bio.animl"
fi

[ "$what" = examples ] || [ "$what" = all ] || exit 0
rm -rf "$out/examples"
mkdir -p "$out/examples"

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
