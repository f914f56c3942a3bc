# 96_progress.sh: progress of cores, train, cv and preprocess on stderr
# (`--progress` forces it when stderr is not a terminal: one final line per
# counter); stdout is the same with and without it.  classify, report and
# map: 96_pictures.sh.
EX=$ROOT/spectra/examples
R=${CALCSPEC_REFERENCE:-$ROOT/build/gen/reference}
REFS="$R/raman/calcite_785_high.animl $R/raman/tissue_785_high.animl $R/raman/hydroxyapatite_785_high.animl"
nspec=$("$CALCSPEC" info $REFS | tail -n +2 | wc -l)

# done_line NAME PATTERN: stderr has the final line; nothing else but it
# and notes
done_line() {
  if grep -Eq -- "$2" "$T/err"; then ok "$1"
  else not_ok "$1" "stderr lacks /$2/" "stderr: $(head -c 300 "$T/err")"; fi
}

run cores "$EX"; cp "$T/out" "$T/plain"
grep -q "/s, done" "$T/err" && not_ok "cores: no progress when stderr is not a terminal" "$(head -c 200 "$T/err")" \
  || ok "cores: no progress when stderr is not a terminal"
run --progress cores "$EX"; expect "--progress cores" 0
done_line "cores counts files" '^calcspec: cores: 30/30 files, [0-9.]+/s, done$'
cmp -s "$T/out" "$T/plain" && ok "--progress leaves the cores table unchanged" || not_ok "--progress cores stdout"

run --progress validate --findings "$EX/findings.csv" "$EX"; expect "--progress validate (reads spectra)" 0
done_line "validate names itself" '^calcspec: validate: 30/30 files, [0-9.]+/s, done$'

run --progress preprocess --range 700:1700 "$EX/core01" -o "$T/pre.csv"
expect "--progress preprocess" 0
done_line "preprocess counts files" '^calcspec: preprocess: 5/5 files, [0-9.]+/s, done$'

run --progress train -o "$T/m.txt" -r 700:1700 $REFS; expect "--progress train" 0
done_line "train: files read" '^calcspec: train: 3/3 files, [0-9.]+/s, done$'
done_line "train: spectra preprocessed (library hook)" "^calcspec: train: $nspec/$nspec spectra, [0-9.]+/s, done\$"
[ ! -s "$T/out" ] && ok "train --progress writes nothing on stdout" || not_ok "train stdout" "$(head -c 200 "$T/out")"

run cv --folds 4 $REFS; cp "$T/out" "$T/plain"
run --progress cv --folds 4 $REFS; expect "--progress cv" 0
done_line "cv: spectra preprocessed" "^calcspec: cv: $nspec/$nspec spectra, [0-9.]+/s, done\$"
done_line "cv: folds" '^calcspec: cv: 4/4 folds, [0-9.]+/s, done$'
cmp -s "$T/out" "$T/plain" && ok "--progress leaves the cv report unchanged" || not_ok "--progress cv stdout"

# (On a terminal the line is rewritten in place 4 times a second; these
# runs finish before the first update, so a terminal test here could not
# fail: it is left out.)
