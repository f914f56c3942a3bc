# 96_composition.sh: per-spectrum composition from classify and stream
# (issue 14).  SYNTHETIC spectra from the simulator.
run -q simulate --class hydroxyapatite -n 3 --seed 5200 --carbonate 8 --whitlockite-frac 0:0 --snr 40 -o "$T/ha8.csv"; expect "simulate apatite" 0
run classify --composition "$T/ha8.csv"; expect "classify --composition" 0
expect_out "composition columns after the detection columns" '	mineral_snr	axis_offset	axis_ref	window	carbonate_wt	carbonate_lo	carbonate_hi	carbonate_lod	carbonate_censored	nu1_pos	nu1_fwhm	whitlockite_index	com_frac	protein_mineral$'
awk -F'\t' 'NR==1{for(i=1;i<=NF;i++)h[$i]=i; next} $h["class"]=="hydroxyapatite" && $h["carbonate_censored"]=="no" && $h["carbonate_wt"]+0>2 && $h["carbonate_wt"]+0<14 && $h["nu1_pos"]+0>955 {n++} END{exit n<2}' "$T/out" \
  && ok "classify --composition: 8 wt% apatite reads 2-14 wt%, nu1 set" || not_ok "classify --composition values" "$(cut -f5,28- "$T/out")"
run classify "$T/ha8.csv"; expect "classify without --composition" 0
if grep -q carbonate_wt "$T/out"; then not_ok "no composition columns unless asked" "$(head -1 "$T/out")"; else ok "no composition columns unless asked"; fi
run classify --json --composition "$T/ha8.csv"; expect "classify --json --composition" 0
expect_out "JSON has composition with the LOD" '"composition":{.*"carbonate_lod":'
run classify --calibration "$T/none.txt" "$T/ha8.csv"; expect "--calibration without --composition" 2
# a carbonate-free spectrum: "<LOD" in TSV, null + censored in JSON
run -q simulate --class hydroxyapatite -n 1 --seed 5210 --carbonate 0 --whitlockite-frac 0:0 --snr 30 -o "$T/ha0.csv"; expect "simulate carbonate-free" 0
run classify --composition "$T/ha0.csv"; expect "classify carbonate-free" 0
awk -F'\t' 'NR==1{for(i=1;i<=NF;i++)h[$i]=i; next} {print $h["carbonate_wt"], $h["carbonate_lo"], $h["carbonate_censored"]}' "$T/out" > "$T/c0.txt"
grep -q '^<[0-9.]* 0.00 yes$' "$T/c0.txt" && ok "carbonate-free spectrum: <LOD" || not_ok "carbonate-free spectrum" "$(cat "$T/c0.txt")"
run classify --json --composition "$T/ha0.csv"; expect "classify --json carbonate-free" 0
expect_out "JSON: censored, carbonate_wt null" '"carbonate_wt":null.*"carbonate_censored":true'
# stream
printf '{"id":7,"file":"%s","index":0}\n' "$T/ha8.csv" > "$T/req.jsonl"
"$CALCSPEC" stream --composition < "$T/req.jsonl" > "$T/out" 2> "$T/err"; rc=$?; expect "stream --composition" 0
expect_out "stream reply has composition" '"id":7.*"composition":{.*"whitlockite_index":'
"$CALCSPEC" stream < "$T/req.jsonl" > "$T/out" 2> "$T/err"; rc=$?; expect "stream without --composition" 0
if grep -q '"composition":null}$' "$T/out"; then ok "stream: composition null unless asked"; else not_ok "stream: composition null unless asked" "$(cat "$T/out")"; fi
# pure COM (no COD band): com_frac 1 and I_R = I1462/I1477 undefined, so
# oxalate_ir is null, not 0 (I_R 0 is pure COD by Kontoyannis 1997)
run -q simulate --class com -n 1 --seed 771 --com-frac 1 --snr 100 -o "$T/com1.csv"; expect "simulate pure COM" 0
run classify --json --composition "$T/com1.csv"; expect "classify --json pure COM" 0
python3 -c 'import json,sys; c=json.loads(open(sys.argv[1]).readline())["composition"]; sys.exit(not (c["com_frac"] == 1 and c["oxalate_ir"] is None and "no COD" in c["reasons"]["com"]))' "$T/out" \
  && ok "pure COM: com_frac 1, oxalate_ir null" || not_ok "pure COM oxalate_ir" "$(grep -o '"com_frac.*' "$T/out" | head -c 300)"
