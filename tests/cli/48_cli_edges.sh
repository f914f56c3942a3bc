# 48_cli_edges.sh: the command line helps (issue 17): one short option, one
# meaning; one-line option errors; "did you mean"; train needs -o; cv --by
# core says what is missing; cores picks the FTIR model by itself;
# --core-from manifest does not swallow the input; unlabelled folders give
# one count, not a line per file; stream --technique/--axis; an option of
# the other command of train/cv's shared table, an -o that names no writer
# and a bad --pipeline file are usage errors with the --help pointer.
# Example cores and simulated spectra are SYNTHETIC.
EX=$ROOT/spectra/examples

# one line (plus the --help pointer) for every option error
one_line() { # NAME PATTERN: the last run exited 2 with exactly that line + hint
  if [ "$rc" -eq 2 ] && [ "$(wc -l < "$T/err")" -eq 2 ] && head -n 1 "$T/err" | grep -q -- "$2" \
     && sed -n 2p "$T/err" | grep -q "^see 'calcspec"; then ok "$1"
  else not_ok "$1" "rc $rc" "$(cat "$T/err")"; fi
}
run classify --jsn x; one_line "unknown long option: one line with a suggestion" "^calcspec: classify: unknown option '--jsn' (did you mean '--json'?)$"
run classify -m; one_line "-m without its argument says so" "^calcspec: classify: option '-m' needs an argument$"
run classify --model; one_line "--model without its argument says so" "^calcspec: classify: option '--model' needs an argument$"
run info -Z x; one_line "unknown short option" "^calcspec: info: unknown option '-Z'$"
run clasify x; one_line "unknown command: did you mean" "^calcspec: unknown command 'clasify' (did you mean 'classify'?)$"
run cores --c x; one_line "ambiguous long prefix" "^calcspec: cores: option '--c' is ambiguous$"
run preprocess --baseline arpls:lamda=1e5 -o "$T/x.csv" "$EX/core01/cod_9100.animl"
one_line "baseline key typo: did you mean" "unknown option 'lamda' (did you mean 'lam'?)"
run preprocess --baseline arpl -o "$T/x.csv" "$EX/core01/cod_9100.animl"
one_line "baseline method typo: valid values and did you mean" "known: none, asls, arpls.*(did you mean 'arpls'?)"
run simulate --class hydroxyapatit -o "$T/x.csv"; one_line "simulate class typo" "did you mean 'hydroxyapatite'?.*known: tissue"
run classify --axis wavenumbr x; one_line "--axis typo" "did you mean 'wavenumber'?"
# train and cv share one option table: an option of the other command is
# named, not its argument ("unknown option '3'" before)
run train --folds 3 -o "$T/x.txt" x; one_line "train --folds: names the option" "^calcspec: train: unknown option '--folds'$"
run cv --output "$T/x.txt" x; one_line "cv --output: names the option" "^calcspec: cv: unknown option '--output'$"
run cv --seed=4 x; one_line "cv --seed=4: names the option" "^calcspec: cv: unknown option '--seed'$"
# an -o whose extension names no writer is a usage error before any work
# (it was found after reading, without the --help pointer)
run convert "$EX/core01/cod_9100.animl" -o "$T/x.xyz"; one_line "convert -o .xyz: usage error" "^calcspec: convert: cannot tell the output format from '.*x.xyz'"
run preprocess --norm vector "$EX/core01" -o "$T/x.xyz"; one_line "preprocess -o .xyz: usage error" "^calcspec: preprocess: cannot tell the output format from '.*x.xyz'"
run -q convert "$EX/core01/cod_9100.animl" -o "$T/x.TSV"; expect "convert -o .TSV (any case) writes csv" 0
run simulate --class ha -o "$T/x.xyz"; one_line "simulate -o .xyz: usage error" "^calcspec: simulate: cannot tell the output format from '.*x.xyz'"
run simulate --class ha --to bogus -o "$T/x.csv"; one_line "simulate --to bogus: usage error" "^calcspec: simulate: cannot write format 'bogus'$"
printf 'smooth sg:4:2\n' > "$T/bad.pipeline"
run preprocess --pipeline "$T/bad.pipeline" -o "$T/x.csv" "$EX/core01"; one_line "preprocess --pipeline with a bad step: usage error" "bad.pipeline: line 1: savitzky-golay window"
run preprocess --pipeline "$T/none.pipeline" -o "$T/x.csv" "$EX/core01"; one_line "preprocess --pipeline missing: usage error" "none.pipeline: cannot read pipeline file"

# one meaning per short option: -s is --seed (simulate), never --smooth or
# --raman-shift; -t is --to, never --table or --technique; -c is
# --calibration, never --class; -k is --components, never --min-kappa
run preprocess -s sg:11:3 -o "$T/x.csv" "$EX/core01/cod_9100.animl"; expect "preprocess -s is not --smooth" 2 "unknown option '-s'"
run simulate -c ha -o "$T/x.csv"; expect "simulate -c is not --class" 2 "unknown option '-c'"
run map -t "$T/t.tsv" -o "$T/m.png" "$EX/core01/cod_9100.animl"; expect "map -t is not --table" 2 "unknown option '-t'"
run validate -k 0.5 --findings "$EX/findings.csv" "$EX"; expect "validate -k is not --min-kappa" 2 "unknown option '-k'"
run -q simulate --class ha -s 3 -n 1 -o "$T/e_ha.csv"; expect "simulate -s is --seed" 0
for c in calibrate classify convert cores cv info map plot preprocess report simulate stream train validate watch formats; do
  "$CALCSPEC" $c --help > "$T/h_$c" 2>&1 || true
done
# every short option in the helps, with its long name: a letter maps to one long name
cat "$T"/h_* | grep -oE '^  -[a-zA-Z], --[a-z-]+' | sed 's/^  //' | sort -u > "$T/shorts"
dups=$(cut -d, -f1 "$T/shorts" | uniq -d)
[ -z "$dups" ] && [ -s "$T/shorts" ] && ok "each short option has one long name across commands ($(wc -l < "$T/shorts") pairs)" \
  || not_ok "short options with two meanings" "$(grep -E "^($(echo $dups | tr ' ' '|'))," "$T/shorts")"

# train: -o is required; -o - writes the model to stdout
mkdir -p "$T/e_train/calcite" "$T/e_train/cod"
run -q simulate --class calcite -n 6 --seed 41 -o "$T/e_train/calcite"
run -q simulate --class cod -n 6 --seed 42 -o "$T/e_train/cod"
(cd "$T" && "$CALCSPEC" train -k 3 -u 1 e_train > "$T/out" 2> "$T/err"); rc=$?
expect "train without -o: usage error" 2 "give -o model.txt"
[ ! -e "$T/model.txt" ] && ok "train without -o writes no model.txt" || not_ok "train wrote model.txt"
run -q train -k 3 -u 1 -o - "$T/e_train"; expect "train -o - exits 0" 0
head -n 1 "$T/out" | grep -q '^calcspec-model' && cp "$T/out" "$T/e_model.txt" && ok "train -o - writes the model on stdout" \
  || not_ok "train -o -" "$(head -c 100 "$T/out")"
run classify -m "$T/e_model.txt" "$T/e_train/cod"; expect "the model from stdout loads and classifies" 0

# an unlabelled folder: three lines and a count, not one per file
mkdir -p "$T/e_unl"; for i in 1 2 3 4 5 6 7; do cp "$EX/core01/cod_9100.animl" "$T/e_unl/s$i.animl"; done
# (the example files carry truth.class: strip it so that they are unlabelled)
for f in "$T"/e_unl/*.animl; do sed -i 's/truth\.class/truth_class/g; s/"class"/"klass"/g' "$f"; done
run train -o "$T/e_unl.txt" "$T/e_unl"; expect "train on an unlabelled folder fails" 1
n=$(grep -c "has no class" "$T/err")
[ "$n" -eq 3 ] && grep -q "4 more spectra have no class (7 in all)" "$T/err" && ok "unlabelled folder: 3 lines and a count" \
  || not_ok "unlabelled lines" "$(cat "$T/err")"

# cv --by core without core ids: say so and how many folds, before running
mkdir -p "$T/e_cv/calcite" "$T/e_cv/cod"
run -q simulate --class calcite -n 4 --seed 51 -o "$T/e_cv/calcite"
run -q simulate --class cod -n 4 --seed 52 -o "$T/e_cv/cod"
run cv --by core -k 3 -u 1 "$T/e_cv"; expect "cv --by core without core ids says what it groups by, and how many folds" 0 "none of the 8 spectra has a core id.*8 folds"

# cores on FTIR input without -m (the FTIR model is picked by technique)
run -q simulate --class hydroxyapatite --technique ftir -n 3 --seed 61 --core K1 -o "$T/e_ftir.animl"
run cores "$T/e_ftir.animl"; expect "cores on FTIR spectra without -m" 0
awk -F'\t' 'NR==2 {exit !($1=="K1" && $2==3 && $3=="phosphate")}' "$T/out" && ok "cores: FTIR core called phosphate" || not_ok "cores FTIR" "$(cat "$T/out")"

# --core-from manifest: manifest:FILE, and the old form does not swallow a directory
for f in "$EX"/core01/*.animl; do printf '%s,M1\n' "$(basename "$f")"; done > "$T/e_man.csv"
run cores --core-from manifest:"$T/e_man.csv" "$EX/core01"; expect "--core-from manifest:FILE" 0
run cores --core-from manifest "$EX/core01"; expect "--core-from manifest DIR: usage error, not the input read as a manifest" 2 "manifest:FILE"

# stream --technique / --axis
printf '1000 0.1\n1001 0.2\n' > "$T/e_xy.txt"
printf '{"id":1,"file":"%s"}\n{"id":2,"x":[1,2],"y":[3,4]}\n' "$T/e_xy.txt" | "$CALCSPEC" stream --technique ftir > "$T/out" 2>"$T/err"; rc=$?
expect "stream --technique ftir" 0
grep '"id":1,' "$T/out" | grep -q '"technique":"ftir"' && grep '"id":2,' "$T/out" | grep -q '"technique":"ftir"' \
  && ok "stream --technique applies to file and arrays requests" || not_ok "stream --technique" "$(cut -c1-200 "$T/out")"
printf '{"id":3,"file":"%s"}\n' "$EX/core01/cod_9100.animl" | "$CALCSPEC" stream --technique ftir > "$T/out" 2>"$T/err"
grep -q '"id":3,.*"error":"the file says technique raman, --technique says ftir"' "$T/out" && ok "stream --technique against the file: an error reply" \
  || not_ok "stream --technique disagree" "$(cut -c1-200 "$T/out")"
run stream --axis bogus < /dev/null; expect "stream --axis bogus" 2 "--axis wants"

# errors that say what to do: window -> train --range, no technique -> --technique/--axis
printf '1000 1\n1001 2\n1002 3\n' > "$T/e_short.txt"
run classify --axis raman_shift "$T/e_short.txt"; expect "out of window suggests train --range" 1 "calcspec train --range A:B"
run classify "$T/e_short.txt"; expect "unknown technique suggests --technique/--axis" 1 "give --technique raman|ftir, --axis or -m MODEL"
