#!/bin/sh
# seeds.sh BUILD FUZZDIR SHARED TARGET...: write the seed corpora of the
# fuzz targets into FUZZDIR/corpus/TARGET (generated at build time, never
# committed).  Seeds come from the generated training library, spectra/,
# from files calcspec itself writes (conversions, a small model, pipeline
# texts), from the files the reader unit tests write (run again with TMPDIR
# pointing into FUZZDIR), and from SHARED/formats when present.  Reader targets share one pool of files;
# libFuzzer keeps what adds coverage.
set -eu
build=$1 dir=$2 shared=$3
shift 3
cs=$build/calcspec
c=$dir/corpus
rm -rf "$c" "$dir/seeds"
mkdir -p "$c/files" "$dir/seeds"
MAX=204800 # seeds up to 200 KB: larger ones only slow the mutations

add() { # add DEST FILE...: copy files under MAX bytes into corpus DEST
  d=$1; shift
  mkdir -p "$c/$d"
  for f in "$@"; do
    [ -f "$f" ] || continue
    [ "$(wc -c <"$f")" -le $MAX ] || continue
    cp "$f" "$c/$d/$(printf '%s' "$f" | cksum | cut -d' ' -f1)-$(basename "$f")"
  done
}
text() { # text DEST NAME CONTENT: one seed from a string
  mkdir -p "$c/$1"
  printf '%s' "$3" >"$c/$1/$2"
}

# the generated training library (two of each class) and the example findings
add files $(ls "$build"/gen/reference/raman/*.animl | awk 'NR % 5 == 1') \
  $(ls "$build"/gen/reference/ftir/*.animl | awk 'NR % 5 == 1') \
  spectra/examples/findings.csv
# calcspec's own writers: JCAMP-DX and CSV of a Raman and an FTIR spectrum
s=$dir/seeds
"$cs" simulate --class cod -n 1 --seed 7 --range 400:1800 -o "$s/cod.animl" >/dev/null
"$cs" simulate --class calcite --technique ftir -n 1 --seed 8 -o "$s/ir.animl" >/dev/null
for f in cod ir; do
  "$cs" convert "$s/$f.animl" -o "$s/$f.jdx" >/dev/null
  "$cs" convert "$s/$f.animl" -o "$s/$f.csv" >/dev/null
done
add files "$s"/*.animl "$s"/*.jdx "$s"/*.csv
# the files the reader unit tests write (synthetic documents, truncations,
# flipped bytes of every format)
mkdir -p "$s/tmp"
for t in "$@"; do
  case $t in read_*) ;; *) continue ;; esac
  u=$build/tests/test_${t#read_}
  [ -x "$u" ] || continue
  TMPDIR=$s/tmp CALCSPEC_SHARED=$shared "$u" >/dev/null 2>&1 || true
done
add files $(find "$s/tmp" -type f | sort | head -n 600)
# real vendor files when ../shared is present
if [ -d "$shared/formats" ]; then
  add files $(find "$shared/formats" -type f ! -name '*.md' ! -name '*.tsv' | sort)
fi
# Each reader gets the pool files with one of its extensions (`calcspec
# formats`; a reader with none, such as procspec_unverified, those of the
# reader its name extends), read_any a sample of all: at most 120 seeds a
# target, spread over the pool, so that loading them stays within seconds.
"$cs" formats | tail -n +2 | cut -f1,4 >"$s/exts"
pick() { # pick N: N names of stdin, evenly spread
  awk -v n="$1" '{ a[NR] = $0 } END { k = NR / n; if (k < 1) k = 1;
    for (i = 1; i <= NR; i += k) print a[int(i)] }'
}
for t in "$@"; do
  case $t in read_*) ;; *) continue ;; esac
  r=${t#read_}
  mkdir -p "$c/$t"
  if [ "$r" = any ]; then
    ls "$c/files" | pick 120 | while read -r f; do cp -l "$c/files/$f" "$c/$t/"; done
    continue
  fi
  e=$(awk -F'\t' -v r="$r" '$1 == r { print $2 }' "$s/exts")
  if [ -z "$e" ]; then
    e=$(awk -F'\t' -v r="$r" 'index(r, $1 "_") == 1 { print $2 }' "$s/exts")
  fi
  ls "$c/files" | awk -v e=",$e," '{ n = split(tolower($0), p, ".");
    if (n > 1 && index(e, "," p[n] ",")) print }' | pick 120 |
    while read -r f; do cp -l "$c/files/$f" "$c/$t/"; done
done

# model files: a small model trained here (2 classes, 3 components)
mkdir -p "$s/train/calcite" "$s/train/cod"
"$cs" simulate --class calcite -n 6 --seed 11 -o "$s/train/calcite" >/dev/null
"$cs" simulate --class cod -n 6 --seed 12 -o "$s/train/cod" >/dev/null
"$cs" train -k 3 -u 1 -o "$s/model.txt" "$s/train" >/dev/null 2>&1
add model "$s/model.txt"
# pipeline texts, as calcspec prints them
i=0
for opts in "--spikes auto --baseline arpls:lam=1e5 --smooth sg:11:3 --norm band:960:20 --range 700:1800 --resample 700:1800:1" \
  "--baseline imodpoly:poly_order=5 --smooth gauss:2 --norm snv" \
  "--baseline snip:max_half_window=40,filter_order=4 --norm vector --resample 600:1500:2:cubic" \
  "--spikes 5:2 --baseline asls:lam=1e6,p=0.01 --smooth sg:15:4:1 --norm area" \
  "--baseline airpls --baseline modpoly --norm max --range 650:1600"; do
  i=$((i + 1))
  mkdir -p "$c/pipeline"
  # shellcheck disable=SC2086
  "$cs" preprocess $opts --print-pipeline >"$c/pipeline/p$i" 2>/dev/null || true
done
text pipeline axis "resample axis:700,701.5,703,710:cubic
"
# QC options
text qc a "min_snr=20,detector_max=262143"
text qc b "max_fluor_ratio=50,min_mineral_frac=0.2,flat_run=4,spike_threshold=7"
text qc c "reacquire_mask=low_snr+saturated"
text qc d "reacquire_mask=none"
# findings tables
add findings spectra/examples/findings.csv
text findings tsv "core_id	birefringent	notes
c1	yes	Weddellite
c2	no
# comment

c3	unknown	x
"
# calibrations
add calibration spectra/calibration/carbonate_raman.txt spectra/calibration/carbonate_ftir.txt
# labels files (the target's spectrum is fuzz-labels.csv)
text labels a "file,index,class
fuzz-labels.csv,0,calcite
"
text labels b "# labels
fuzz-labels.csv	*	oxalate
other.csv;3;tissue
"
# stream requests
x=$(seq 400 4 1796 | paste -sd, -)
y=$(seq 400 4 1796 | awk '{printf "%s%g", (NR > 1 ? "," : ""), 100 + 900 * exp(-($1 - 1086) ^ 2 / 50)}')
text request xy "{\"id\":1,\"x\":[$x],\"y\":[$y],\"axis\":\"raman_shift\",\"core\":\"C3\"}"
text request nm "{\"id\":\"a\",\"x\":[800,801,802],\"y\":[1,2,3],\"axis\":\"wavelength_nm\",\"laser_nm\":785,\"meta\":{\"k\":[1,{\"z\":null}],\"b\":true}}"
text request file '{"id":19,"file":"/data/spot19.spe","index":0,"format":"spe"}'
text request ftir '{"id":2,"x":[1800,1000,900],"y":[0.1,0.5,0.2],"axis":"wavenumber"}'
text request plain ' { "id" : -12.5e-3 , "x" : [ 0.5 , -1E+2,3e0 ] , "y":[1,2.25,-0.0], "axis":"raman_shift", "ok":true, "n":null, "big":123456789012345678901 } '
text request odd '{"id":"\u00e9\n","x":[1,2],"y":[01,2],"x":[3]}'
echo "fuzz seeds: $(for t in "$@"; do printf '%s=%s ' "$t" "$(ls "$c/$t" 2>/dev/null | wc -l)"; done)"
