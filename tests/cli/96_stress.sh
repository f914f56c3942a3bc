# 96_stress.sh: the independent stress generator (tests/stressgen.c): it is
# deterministic, its truth table matches its files, its SNR is what it says,
# and the classifier meets floors on its easy conditions (SYNTHETIC data,
# never used for training; README "Independent evaluation").

SG="$T/stressgen"
if ! ${CC:-cc} -O2 -std=c11 -o "$SG" "$ROOT/tests/stressgen.c" -lm 2>"$T/sg.err"; then
  skip "stress generator" "no C compiler: $(head -c 200 "$T/sg.err")"
else
  # determinism: same seed, same bytes; another seed, other bytes
  "$SG" --class ha -n 4 --seed 11 --share 0.3:1 --fluor 1:30 --offset -4:4 -o "$T/a.csv" --truth "$T/ta.tsv"
  "$SG" --class ha -n 4 --seed 11 --share 0.3:1 --fluor 1:30 --offset -4:4 -o "$T/a.csv" --truth "$T/tb.tsv"
  cp "$T/a.csv" "$T/a1.csv"
  "$SG" --class ha -n 4 --seed 11 --share 0.3:1 --fluor 1:30 --offset -4:4 -o "$T/a.csv"
  cmp -s "$T/a.csv" "$T/a1.csv" && cmp -s "$T/ta.tsv" "$T/tb.tsv" \
    && ok "stressgen: same seed, same bytes (spectra and truth)" || not_ok "stressgen determinism"
  "$SG" --class ha -n 4 --seed 12 --share 0.3:1 -o "$T/b.csv"
  cmp -s "$T/a.csv" "$T/b.csv" && not_ok "stressgen: another seed gives the same file" \
    || ok "stressgen: another seed, other spectra"
  # spectrum k depends on (seed, k) only, not on how many are written
  "$SG" --class calcite -n 2 --seed 5 --snr 5:50 -o "$T/c2.csv"
  "$SG" --class calcite -n 5 --seed 5 --snr 5:50 -o "$T/c5.csv"
  if [ "$(grep -v '^#' "$T/c2.csv" | cut -d, -f1-3)" = "$(grep -v '^#' "$T/c5.csv" | cut -d, -f1-3 | sed '1s/.*/x,y1,y2/')" ]
  then ok "stressgen: spectrum k is the same whatever -n"; else not_ok "stressgen: spectra depend on -n"; fi
  # bad options are usage errors
  "$SG" --class nope -o "$T/x.csv" 2>/dev/null; [ $? -eq 2 ] && ok "stressgen: unknown class is exit 2" \
    || not_ok "stressgen: unknown class accepted"
  "$SG" --class ha --share 0 -o "$T/x.csv" 2>/dev/null; [ $? -eq 2 ] && ok "stressgen: share 0 refused" \
    || not_ok "stressgen: share 0 accepted"

  # truth table against what calcspec reads from the file
  rm -f "$T/tt.tsv"
  "$SG" --class oxalate -n 7 --seed 3 --laser 785 --core-size 3 -o "$T/ox.csv" --truth "$T/tt.tsv"
  run info "$T/ox.csv"; expect "calcspec reads the stress file" 0
  if python3 - "$T/out" "$T/tt.tsv" >"$T/py.err" 2>&1 <<'PY'
import sys
info = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
h, info = info[0], info[1:]
tr = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
th, tr = tr[0], tr[1:]
I = {k: h.index(k) for k in ("index", "sample_id", "core_id", "laser_nm", "points", "x_min", "x_max")}
T = {k: th.index(k) for k in th}
assert len(info) == len(tr) == 7, (len(info), len(tr))
for a, b in zip(info, tr):
    assert a[I["index"]] == b[T["index"]], (a, b)
    assert a[I["sample_id"]] == b[T["id"]], (a, b)
    assert a[I["core_id"]] == b[T["core_id"]], (a, b)
    assert float(a[I["laser_nm"]]) == float(b[T["laser"]]) == 785
    assert a[I["points"]] == "1024" and abs(float(a[I["x_min"]]) - 150) < 1e-3
    assert b[T["class"]] == "oxalate" and b[T["subtype"]] == ("COM" if float(b[T["com_frac"]]) >= 0.5 else "COD")
assert len({b[T["core_id"]] for b in tr}) == 3  # 7 spectra in cores of 3
PY
  then ok "truth table matches the file (ids, cores, laser, pixels, subtype)"
  else not_ok "truth table vs file" "$(head -c 400 "$T/py.err")"; fi

  # FTIR mode: absorbance on a wavenumber axis; ATR starts at 650
  "$SG" --atr --class ha -n 2 --seed 4 -o "$T/atr.csv" --truth "$T/ft.tsv"
  run info "$T/atr.csv"; expect "calcspec reads a stress FTIR (ATR) file" 0
  if awk -F'\t' 'NR > 1 && !($4 == "ftir" && $6 == "wavenumber" && $7 + 0 == 650 && $9 == "absorbance") { bad = 1 }
                 END { exit bad }' "$T/out" && [ "$(awk -F'\t' 'NR > 1 { print $20 }' "$T/ft.tsv" | sort -u)" = ftir_atr ]
  then ok "stress FTIR file: ftir, wavenumber 650-4000, absorbance; truth says ATR"
  else not_ok "stress FTIR file" "$(cat "$T/out")"; fi

  # --crop writes a partial window (a processed-RRUFF-like file)
  "$SG" --class ha -n 2 --seed 4 --crop 150:1250 -o "$T/crop.csv"
  run info "$T/crop.csv"
  if [ "$rc" -eq 0 ] && awk -F'\t' 'NR > 1 && !($7 + 0 == 200 && $8 + 0 > 1245 && $8 + 0 <= 1250) { bad = 1 } END { exit bad }' "$T/out"
  then ok "stressgen --crop 150:1250 writes 200-1250 (the 830 nm detector starts at 200)"
  else not_ok "stressgen --crop" "$(cat "$T/out" "$T/err")"; fi

  # SNR definition: replicates of one sample (only the noise differs); the
  # sd at the main band's pixel over its height is 1/SNR.  Noiseless run
  # without fluorescence finds the pixel; with fluorescence 3 the mean
  # there is 4 x the band height (share 1: no tissue).
  "$SG" --class ha -n 1 --seed 21 --snr 0 --fluor 0 --fixed-params -o "$T/nl.csv"
  "$SG" --class ha -n 500 --seed 21 --snr 15 --fluor 3 --spikes 0 --fixed-params -o "$T/rep.csv"
  if python3 - "$T/nl.csv" "$T/rep.csv" >"$T/py.err" 2>&1 <<'PY'
import sys, math
def load(p):
    rows = [l.strip().split(",") for l in open(p) if l[0].isdigit()]
    return [[float(v) for v in r] for r in rows]
nl, rep = load(sys.argv[1]), load(sys.argv[2])
p = max(range(len(nl)), key=lambda i: nl[i][1])
assert 955 < nl[p][0] < 968, nl[p][0]   # HA nu1 PO4
v = rep[p][1:]
m = sum(v) / len(v)
sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))
snr = (m / 4) / sd
print("measured SNR %.2f" % snr)
assert abs(snr - 15) < 1.2, snr
PY
  then ok "SNR = main band height / noise sd at its pixel ($(cat "$T/py.err"))"
  else not_ok "SNR definition" "$(head -c 400 "$T/py.err")"; fi

  # Floors the current default model meets on easy conditions: SNR 20,
  # mineral share 1, no offset, fluorescence 1x, 830 nm.  Measured 100 %
  # for every mineral class; the floor is 11 of 12.
  for c in cod com ha whitlockite calcite tissue; do
    "$SG" --class $c -n 12 --seed 96 --snr 20 -o "$T/easy_$c.csv" --truth "$T/easy.tsv"
  done
  run classify "$T"/easy_*.csv; expect "classify the easy stress set" 0
  if python3 - "$T/out" "$T/easy.tsv" >"$T/py.err" 2>&1 <<'PY'
import sys, os, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
h, rows = rows[0], rows[1:]
tr = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
th, tr = tr[0], tr[1:]
truth = {(r[th.index("file")], r[th.index("index")]): r for r in tr}
ok = collections.Counter(); n = collections.Counter(); bad = []
for r in rows:
    t = truth[(os.path.basename(r[h.index("file")]), r[h.index("index")])]
    g, got = t[th.index("gen_class")], r[h.index("class")]
    n[g] += 1
    if g == "tissue":
        if got not in ("tissue", "unknown"):
            bad.append("tissue called %s" % got)
    elif got == t[th.index("class")]:
        ok[g] += 1
fails = ["%s %d/12" % (g, ok[g]) for g in ("cod", "com", "ha", "whitlockite", "calcite") if ok[g] < 11]
assert sum(n.values()) == 72, n
assert not fails and not bad, (fails, bad)
print(", ".join("%s %d/12" % (g, ok[g]) for g in sorted(ok)))
PY
  then ok "easy stress set (SNR 20, share 1): every mineral class >= 11/12, tissue never a mineral ($(cat "$T/py.err"))"
  else not_ok "easy stress floors" "$(head -c 400 "$T/py.err")"; fi
fi
