# 95_cores.sh: cores, validate and calibrate from the command line.
# Expected values come from spectra/README.md (simulated content of each
# core) and spectra/examples/findings.csv (2 deliberately discordant cores).
EX=$ROOT/spectra/examples
run cores "$EX"; expect "cores on the example cores" 0
expect_out "header" '^core_id	n_spectra	call	expected_birefringent	n_oxalate'
expect_out "core01 (simulated COD) calls oxalate, expected birefringent" '^core01	5	oxalate	yes	'
expect_out "core02 (simulated HA) calls phosphate, not birefringent" '^core02	5	phosphate	no	'
expect_out "core04 (simulated calcite) counts as expected-birefringent" '^core04	5	calcite	yes	'
cp "$T/out" "$T/cores.tsv"
run cores --json "$EX/core01"; expect "cores --json" 0
python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; assert len(r)==1 and r[0]["core_id"]=="core01" and r[0]["counts"]["oxalate"]>=1' "$T/out" 2>/dev/null \
  && ok "--json row parses" || not_ok "--json row" "$(head -c 300 "$T/out")"
run cores --core-from dir "$EX/core02"; expect "--core-from dir" 0
expect_out "folder name is the core" '^core02	5	'
printf 'file,core_id\ncod_9100.animl,X1\ncod_9101.animl,X1\ncod_9102.animl,X2\ncod_9103.animl,X2\ntissue_9150.animl,X2\n' > "$T/man.csv"
run cores --core-from manifest "$T/man.csv" "$EX/core01"; expect "--core-from manifest" 0
expect_out "manifest core X1 has 2 spectra" '^X1	2	'
run cores --core-from bogus "$EX"; expect "bad --core-from" 2
# manifests: a file listed twice (two cores) is refused, the line numbers
# count blank lines, and only a first row "file,..." is a header (every row
# starting "file" was skipped: file01.animl was "not in the manifest")
printf 'file,core_id\ncod_9100.animl,A\ncod_9100.animl,B\n' > "$T/man2.csv"
run cores --core-from manifest:"$T/man2.csv" "$EX/core01/cod_9100.animl"
expect "manifest: a file listed twice" 1 "man2.csv: line 3: 'cod_9100.animl' listed again (first on line 2)"
printf 'file,core_id\n\n\ncod_9100.animl,\n' > "$T/man3.csv"
run cores --core-from manifest:"$T/man3.csv" "$EX/core01/cod_9100.animl"
expect "manifest: the line number counts blank lines" 1 "man3.csv: line 4: expected file,core_id"
mkdir -p "$T/fdir"; cp "$EX/core01/cod_9100.animl" "$T/fdir/file01.animl"
printf 'file01.animl,Z\n' > "$T/man4.csv"
run cores --core-from manifest:"$T/man4.csv" "$T/fdir"; expect "manifest: a row file01.animl is a row" 0
expect_out "file01.animl in core Z" '^Z	1	'

# core ids: at most 63 bytes (CS_CORE_ID_MAX, as cs_core and the findings
# file), no control character; a 5000-byte or tabbed core_id was taken and
# split classify/cores TSV rows
run simulate --class ha --core "$(printf '%064d' 1)" -o "$T/long.animl"
expect "simulate --core of 64 bytes: usage" 2 "^calcspec: simulate: --core: core id of 64 bytes (at most 63)"
run simulate --class ha --core "$(printf '%063d' 1)" -o "$T/c63.animl"; expect "a 63-byte core id is taken" 0
long=$(printf '%05000d' 1)
sed "s|<S>$(printf '%063d' 1)</S>|<S>$long</S>|" "$T/c63.animl" > "$T/long.animl"
sed "s|<S>$(printf '%063d' 1)</S>|<S>C\tX</S>|" "$T/c63.animl" > "$T/tab.animl"
run classify "$T/long.animl" "$T/c63.animl"
expect "classify: a 5000-byte core_id in a file is a data error" 1 "long.animl: .*core id of 5000 bytes (at most 63)"
expect_prefixed_errors "5000-byte core_id: one prefixed line"
[ "$(wc -l < "$T/out")" -eq 2 ] && ok "the batch goes on (header + 1 row)" ||
  not_ok "batch after a long core_id" "$(cut -c1-80 "$T/out")"
run cores "$T/tab.animl"; expect "cores: a tab in core_id is a data error" 1 "tab.animl: .*core id has a control character (0x09)"
[ "$(wc -l < "$T/out")" -le 1 ] && ok "no split TSV row" || not_ok "no split TSV row" "$(cut -c1-80 "$T/out")"
printf 'core_id,birefringent\n%s,yes\n' "$(printf '%064d' 1)" > "$T/longf.csv"
run validate --findings "$T/longf.csv" "$T/cores.tsv"
expect "findings: a 64-byte core id names line and limit" 1 "findings line 2: core id of 64 bytes (at most 63)"

# validate: 4 concordant + 2 discordant of 6 -> 2x2 = [[2,1],[1,2]]:
# po = 4/6, pe = 0.5, kappa = (2/3 - 1/2)/(1/2) = 1/3 (hand-computed)
run validate --findings "$EX/findings.csv" "$T/cores.tsv"; expect "validate from a cores table" 0
expect_out "kappa 1/3" '^kappa	0\.3333$'
expect_out "agreement 4/6" '^agreement	0\.6667$'
expect_out "calcite stated" 'calcite is strongly birefringent'
expect_out "core05 discordant" '^discordant	core05	birefringent	not_birefringent	.*call=phosphate'
expect_out "core06 discordant" '^discordant	core06	not_birefringent	birefringent	.*call=oxalate'
run validate --findings "$EX/findings.csv" --min-kappa 0.5 "$T/cores.tsv"; expect "--min-kappa above kappa exits 3" 3 "below --min-kappa"
# a cores table that cannot be trusted is refused naming the line: a value
# but yes/no ('maybe' counted as no), a core twice (counted twice), no
# expected_birefringent column (every core taken as not expected)
printf 'core01,yes\n' > "$T/f1.csv"
{ head -n 1 "$T/cores.tsv"; printf 'core01\t5\toxalate\tmaybe\n'; } > "$T/ct_maybe.tsv"
run validate --findings "$T/f1.csv" "$T/ct_maybe.tsv"
expect "cores table: expected_birefringent 'maybe'" 1 "ct_maybe.tsv: line 2: expected_birefringent must be yes or no, got 'maybe'"
{ head -n 2 "$T/cores.tsv"; sed -n 2p "$T/cores.tsv"; } > "$T/ct_twice.tsv"
run validate --findings "$T/f1.csv" "$T/ct_twice.tsv"
expect "cores table: a core twice" 1 "ct_twice.tsv: line 3: core 'core01' listed again"
printf 'core_id\tn_spectra\tcall\ncore01\t5\toxalate\n' > "$T/ct_nocol.tsv"
run validate --findings "$T/f1.csv" "$T/ct_nocol.tsv"
expect "cores table without expected_birefringent" 1 "ct_nocol.tsv: a cores table without the column expected_birefringent"
sed 's/$/\r/' "$T/cores.tsv" > "$T/ct_crlf.tsv"
run validate --findings "$EX/findings.csv" "$T/ct_crlf.tsv"; expect "a CRLF cores table reads as the same" 0
expect_out "CRLF table: kappa 1/3" '^kappa	0\.3333$'
run validate --findings - - </dev/null
expect "validate: findings and cores table both on stdin" 2 "cannot both be standard input"
# the same for the other side files; train/cv --labels - reads standard
# input (it was "-: cannot open labels file: No such file or directory")
run cores --core-from manifest:- - </dev/null
expect "cores: manifest and input both on stdin" 2 "manifest:- and the input '-' cannot both be standard input"
run calibrate carbonate -l - - </dev/null
expect "calibrate: labels and input both on stdin" 2 "-l - and the input '-' cannot both be standard input"
run report --findings - - -o "$T/r.pdf" </dev/null
expect "report: findings and input both on stdin" 2 "--findings - and the input '-' cannot both be standard input"
run train --labels - - -o "$T/m.txt" </dev/null
expect "train: labels and input both on stdin" 2 "--labels - and the input '-' cannot both be standard input"
printf 'cod_9100.animl,*,oxalate\ncod_9101.animl,*,oxalate\nhydroxyapatite_9200.animl,*,hydroxyapatite\nhydroxyapatite_9201.animl,*,hydroxyapatite\n' |
  "$CALCSPEC" train --labels - "$EX/core01" "$EX/core02" -o "$T/m_stdin.txt" >"$T/out" 2>"$T/err"; rc=$?
expect "train --labels - reads the labels from standard input" 0 "trained raman model on 4 spectra, 2 classes"
# every compared core in one category: kappa and the 0/0 specificity are
# undefined, printed empty (they were 0.0000, CI 0 to 0), and --min-kappa
# is not met
printf 'core01,yes\n' > "$T/one.csv"
run validate --findings "$T/one.csv" --allow-missing "$T/cores.tsv"; expect "validate on one concordant core" 0
expect_out "kappa undefined, empty" '^kappa		\(undefined: every core falls in one category'
expect_out "specificity 0/0 empty" '^specificity		\(0/0 '
expect_out "sensitivity 1/1" '^sensitivity	1\.0000	\(1/1 '
run validate --findings "$T/one.csv" --allow-missing --min-kappa -1 "$T/cores.tsv"
expect "--min-kappa with kappa undefined exits 3" 3 "kappa is undefined (every core in one category), so --min-kappa -1 is not met"
run validate --findings "$EX/findings.csv" --min-kappa 0.2 "$EX"; expect "validate from spectra, kappa above 0.2" 0
printf 'core_id,birefringent\ncore01,yes\ncore02,perhaps\n' > "$T/f1.csv"
run validate --findings "$T/f1.csv" "$T/cores.tsv"; expect "bad yes/no value names the line" 1 "findings line 3: birefringent must be yes, no or unknown, got 'perhaps'"
printf 'core_id,birefringent\ncore01,yes\ncore01,no\n' > "$T/f2.csv"
run validate --findings "$T/f2.csv" "$T/cores.tsv"; expect "duplicate core names both lines" 1 "findings line 3: core 'core01' listed again (first on line 2)"
printf 'core_id,birefringent\ncore01\n' > "$T/f3.csv"
run validate --findings "$T/f3.csv" "$T/cores.tsv"; expect "missing column names the line" 1 "findings line 2: expected core_id,birefringent"
printf 'core_id,birefringent\ncore01,yes\ncore99,no\ncore02,no\n' > "$T/f4.csv"
run validate --findings "$T/f4.csv" "$T/cores.tsv"; expect "unknown core id names the line" 1 "findings line 3: core 'core99' is not among the spectra"
run validate --findings "$T/f4.csv" --allow-missing "$T/cores.tsv"; expect "--allow-missing lists it" 0
expect_out "listed as missing spectra" '^missing_spectra	core99	\(findings line 3\)'
expect_out "cores without findings listed" '^missing_finding	core03'
run validate "$T/cores.tsv"; expect "validate without --findings" 2

# calibrate: FTIR standards with known truth.carbonate_wt
run simulate --class hydroxyapatite --technique ftir -n 12 --seed 4242 --carbonate 0:10 --whitlockite-frac 0:0 --snr 200:200 -o "$T/std.animl"
run calibrate carbonate -o "$T/cal.txt" "$T/std.animl"; expect "calibrate carbonate (FTIR)" 0
head -n 1 "$T/cal.txt" | grep -qx 'calcspec-calibration 1' && ok "calibration file version line" || not_ok "calibration version"
grep -q '^technique ftir$' "$T/cal.txt" && ok "calibration records the technique" || not_ok "technique line"
run calibrate carbonate "$EX/core01"; expect "standards without known carbonate" 1 "no known carbonate"
run calibrate oxalate x; expect "unknown calibration kind" 2
# calibrate whitlockite: simulated HA/whitlockite mixtures (truth.whitlockite_frac),
# applied with cores -w; refused as a carbonate calibration (-c)
run simulate --class whitlockite -n 12 --seed 7770 --whitlockite-frac 0:1 --snr 60 -o "$T/mix.animl"
run calibrate whitlockite -o "$T/wcal.txt" "$T/mix.animl"; expect "calibrate whitlockite" 0
grep -q '^kind whitlockite$' "$T/wcal.txt" && ok "whitlockite calibration kind line" || not_ok "kind line"
mkdir -p "$T/w5"
run simulate --class whitlockite -n 5 --seed 9000 --whitlockite-frac 0.5 --snr 40 --core w5 -o "$T/w5"
run cores -w "$T/wcal.txt" "$T/w5"; expect "cores -w" 0
awk -F'\t' 'NR==1{for(i=1;i<=NF;i++)h[$i]=i; next} {print $h["whitlockite_share"]}' "$T/out" > "$T/ws.txt"
awk '{exit !($1 >= 0.25 && $1 <= 0.75)}' "$T/ws.txt" && ok "core whitlockite share near 0.5" || not_ok "whitlockite share" "$(cat "$T/ws.txt")"
run cores -c "$T/wcal.txt" "$T/w5"; expect "whitlockite calibration given as -c" 1 "give it with -w"
run cores -w "$T/cal.txt" "$T/w5"; expect "carbonate calibration given as -w" 1 "not a whitlockite calibration"
run calibrate whitlockite "$EX/core01"; expect "mixtures without known share" 1 "no known whitlockite share"
run calibrate whitlockite "$T/std.animl"; expect "FTIR mixtures refused" 1 "Raman measure"
# carbonate-free apatite: the core's carbonate is "<LOD", never a negative
# number; a 10 wt% core is a number (issue 14)
mkdir -p "$T/cf" "$T/c10"
run simulate --class hydroxyapatite -n 4 --seed 5150 --carbonate 0 --whitlockite-frac 0:0 --snr 30 --core cf -o "$T/cf"; expect "simulate carbonate-free core" 0
run cores "$T/cf"; expect "cores on a carbonate-free core" 0
awk -F'\t' 'NR==1{for(i=1;i<=NF;i++)h[$i]=i; next} {print $h["carbonate_wt"], $h["carbonate_lo"], $h["carbonate_censored"]}' "$T/out" > "$T/cf.txt"
grep -q '^<[0-9.]* 0.00 yes$' "$T/cf.txt" && ok "carbonate-free core: <LOD, lo 0, censored" || not_ok "carbonate-free core" "$(cat "$T/cf.txt")"
run simulate --class hydroxyapatite -n 4 --seed 5160 --carbonate 10 --whitlockite-frac 0:0 --snr 30 --core c10 -o "$T/c10"; expect "simulate 10 wt% core" 0
run cores "$T/c10"; expect "cores on a 10 wt% core" 0
awk -F'\t' 'NR==1{for(i=1;i<=NF;i++)h[$i]=i; next} {print $h["carbonate_wt"], $h["carbonate_censored"]}' "$T/out" > "$T/c10.txt"
awk '$2 == "no" && $1 + 0 > 6 && $1 + 0 < 14 {f=1} END {exit !f}' "$T/c10.txt" && ok "10 wt% core: a number near 10" || not_ok "10 wt% core" "$(cat "$T/c10.txt")"
