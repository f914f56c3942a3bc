# 95_integration.sh: stream, watch, QC columns, exported symbols, Python.
# Expected classes come from the simulated files' ground truth (their
# names and truth.class metadata); SNR levels from `simulate --snr`.

LIBDIR=$(dirname "$CALCSPEC")
EX=$ROOT/spectra/examples
have_py() { command -v python3 >/dev/null 2>&1; }

# --- classify: QC columns appended, old positions kept
run classify "$EX/core01"; expect "classify with QC columns" 0
expect_out "QC columns at the end of the header" '	nnls_r2	flags	reason	qc_flags	snr	fluor_ratio	spikes	reacquire	mineral_snr	axis_offset	axis_ref	window$'
awk -F'\t' 'NR==1{for(i=1;i<=NF;i++)c[$i]=i} NR>1 && $1 ~ /tissue_/ {print $c["class"], $c["qc_flags"], $c["reacquire"]}' "$T/out" > "$T/tis"
grep -qx 'tissue no_mineral 1' "$T/tis" && ok "tissue spot: no_mineral, reacquire" || not_ok "tissue QC" "$(cat "$T/tis")"
run classify --qc min_snr=1000 "$EX/core01/cod_9100.animl"; expect "--qc raises the SNR bar" 0
expect_out "low_snr with min_snr=1000" '	low_snr	[0-9.]+	[0-9.]+	0	1	'
run classify --qc bogus=1 "$EX/core01"; expect "--qc with an unknown key" 2 "unknown QC option 'bogus'"

# --- exported symbols and SONAME of the shared library
so="$LIBDIR/libcalcspec.so.0"
if [ -f "$so" ] && command -v nm >/dev/null 2>&1; then
  bad=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDBRVW]/ {print $3}' | grep -v '^cs_' | head -n 3)
  n=$(nm -D --defined-only "$so" | grep -c ' cs_')
  [ -z "$bad" ] && [ "$n" -gt 50 ] && ok "libcalcspec.so exports only cs_ symbols ($n)" || not_ok "exports" "non-cs_: $bad; cs_: $n"
  nm -D --defined-only "$so" | grep -q ' cs_classify_arrays$' && ok "cs_classify_arrays exported" || not_ok "cs_classify_arrays not exported"
  if command -v readelf >/dev/null 2>&1; then
    readelf -d "$so" | grep -q 'SONAME.*\[libcalcspec\.so\.0\]' && ok "SONAME libcalcspec.so.0" || not_ok "SONAME" "$(readelf -d "$so" | grep SONAME)"
  else skip "SONAME" "no readelf"; fi
else
  skip "exported symbols" "no $so or nm"
fi

# --- stream
if have_py; then
  run -q convert "$EX/core02/hydroxyapatite_9200.animl" -o "$T/ha.csv"
  run -q simulate --class calcite -s 31 --snr 40 --fluorescence 10 --no-spikes -o "$T/cc.csv"
  python3 - "$T/ha.csv" "$T/cc.csv" "$EX/core01/cod_9100.animl" > "$T/req.jsonl" <<'PY'
import json, sys
def load(p):
    x, y = [], []
    for l in open(p):
        f = l.replace(",", " ").split()
        if l.startswith("#") or len(f) < 2: continue
        try: x.append(float(f[0])); y.append(float(f[1]))
        except ValueError: pass
    return x, y
x, y = load(sys.argv[1]); cx, cy = load(sys.argv[2])
print(json.dumps({"id": "a1", "x": x, "y": y, "axis": "raman_shift", "core": "C7"}))
print("{not json")
print(json.dumps({"id": 3, "x": x[:5], "y": y[:4]}))
print("")
print(json.dumps({"id": 4, "file": sys.argv[3]}))
print(json.dumps({"id": 5, "x": x, "y": y, "axis": "wavelength_nm"}))
print(json.dumps({"id": 6, "x": cx, "y": cy}))
print(json.dumps({"id": 7, "file": "/nonexistent/x.animl"}))
PY
  "$CALCSPEC" stream < "$T/req.jsonl" > "$T/out" 2> "$T/err"; rc=$?
  expect "stream exits 0 after bad requests" 0
  if python3 - "$T/out" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 7, len(r)                       # blank line skipped
assert [x["id"] for x in r] == ["a1", None, 3, 4, 5, 6, 7]
assert r[0]["class"] == "hydroxyapatite" and r[0]["core_id"] == "C7"
assert abs(sum(r[0]["posterior"].values()) - 1) < 1e-9
assert r[0]["qc"]["flags"] == [] and r[0]["reacquire"] is False
assert "invalid JSON" in r[1]["error"]
assert r[2]["error"] == "x has 5 points, y 4"
assert r[3]["class"] == "oxalate" and r[3]["subtype"] == "COD" and r[3]["count"] == 1
assert "laser_nm" in r[4]["error"]
assert r[5]["class"] == "calcite", r[5]
assert "error" in r[6] and r[6]["file"] == "/nonexistent/x.animl"
PY
  then ok "stream: one line per request, ids kept, errors inline"; else not_ok "stream results" "$(head -c 600 "$T/out")"; fi

  # the request parser (yajl events, README "stream"): malformed members
  {
    printf '%s\n' '{"id":"n1","x":[1,2,"3"],"y":[1,2,3]}'
    printf '%s\n' '{"id":"n2","x":[1,2,3],"x":[1,2,3],"y":[1,2,3]}'
    printf '%s\n' '{"id":"n3","core":"C1","core":"C2","x":[1],"y":[1]}'
    printf '%s\n' '[1,2,3]'
    printf '%s\n' '{"id":{"run":7,"spot":[1,2]},"x":[1,2,3],"y":[1,2]}'
    printf '%s\n' '{"id":"n6","x":[1,2,[3]],"y":[1,2,3]}'
    printf '%s\n' '{"id":"n7","y":[1,2,3]}'
    printf '%s\n' '{"id":"n8","x":[1,2,3],"y":[1,2,1e999]}'
    printf '%s\n' '{"id":"n9","x":[1,2,3],"y":[1,2,3]} trailing'
    printf '%s\n' '{"id":"n10","x":[1,2,3],"y":[1,2,3],"exposure_s":-1e999}'
    printf '%s\n' '{"id":123456789012345678901,"x":[1,2,3],"y":[1,2]}'
    printf '%s\n' "{\"id\":\"n12\",\"file\":\"$EX/core01/cod_9100.animl\\u0000.x\"}"
    printf '%s\n' "{\"id\":\"n13\",\"file\":\"$EX/core01/cod_9100.animl\",\"core_id\":\"C\\u00001\"}"
    printf '%s\n' "{\"id\":\"n14\",\"file\":\"$EX/core01/cod_9100.animl\",\"core_id\":\"$(printf '%0100d' 7)\"}"
    printf '%s\n' "{\"id\":\"n15\",\"file\":\"$EX/core01/cod_9100.animl\",\"core_id\":\"C\\t1\"}"
  } > "$T/bad.jsonl"
  "$CALCSPEC" stream < "$T/bad.jsonl" > "$T/out" 2> "$T/err"; rc=$?
  expect "stream survives malformed requests" 0
  if python3 - "$T/out" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
assert len(r) == 15, len(r)
e = [x.get("error", "") for x in r]
assert r[0]["id"] == "n1" and e[0] == '"x" must be an array of 1..1000000 finite numbers', e[0]
assert e[1] == 'duplicate key "x"', e[1]
assert e[2] == 'duplicate key "core"', e[2]
assert e[3] == "a request must be a JSON object", e[3]
assert r[4]["id"] == {"run": 7, "spot": [1, 2]} and e[4] == "x has 3 points, y 2", r[4]
assert e[5].startswith('"x" must be an array'), e[5]
assert e[6].startswith('"x" must be an array'), e[6]
assert e[7].startswith('"y" must be an array'), e[7]
assert e[8].startswith("invalid JSON"), e[8]
# a member beyond a double: said so (was "out of memory"); an integer id
# beyond 64 bits echoed as the nearest double (was 2^63 - 1)
assert e[9] == "number -1e999 is out of range", e[9]
assert r[10]["id"] == float(123456789012345678901) and e[10] == "x has 3 points, y 2", r[10]
# a NUL in a name: refused (the file before the NUL was read instead)
assert e[11] == '"file" and "format" must be strings (without \\u0000)', r[11]
assert e[12] == '"core_id" must be a string (without \\u0000)', r[12]
# core ids are bounded like cs_core's (63 bytes) and one TSV field: a
# 100-byte or tabbed id was taken (and echoed) as given
assert e[13].startswith("core id of 100 bytes (at most 63)") and r[13].get("core_id") is None, r[13]
assert e[14] == "core id has a control character (0x09) at byte 2", r[14]
PY
  then ok "stream: malformed members give precise error lines"; else not_ok "stream malformed" "$(head -c 900 "$T/out")"; fi

  # flushed at once: the answer arrives while stdin is still open
  rm -f "$T/fifo"; mkfifo "$T/fifo"
  timeout 20 "$CALCSPEC" stream < "$T/fifo" > "$T/sout" 2>/dev/null &
  spid=$!
  exec 3>"$T/fifo"
  sed -n 1p "$T/req.jsonl" >&3
  i=0; while [ $i -lt 100 ] && ! grep -q '"id":"a1"' "$T/sout" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
  grep -q '"id":"a1"' "$T/sout" && ok "stream answers before stdin closes" || not_ok "stream did not flush"
  exec 3>&-
  wait $spid; rc=$?
  [ $rc -eq 0 ] && ok "stream exits 0 at end of input" || not_ok "stream exit $rc"
else
  skip "stream tests" "no python3"
fi

# --- watch
W=$T/watch; mkdir -p "$W"
cp "$EX/core02/hydroxyapatite_9200.animl" "$W/first.animl"   # there before start
wait_for() { # wait_for FILE PATTERN COUNT: up to 10 s
  i=0; while [ $i -lt 200 ]; do
    n=$(grep -c -- "$2" "$1" 2>/dev/null); [ "${n:-0}" -ge "$3" ] && return 0
    sleep 0.05; i=$((i + 1)); done; return 1; }
timeout 30 "$CALCSPEC" watch -o "$T/res.jsonl" "$W" 2> "$T/werr" &
wpid=$!
if wait_for "$T/werr" "watching" 1; then
  cp "$EX/core01/cod_9101.animl" "$W/.part"; mv "$W/.part" "$W/moved.animl"  # IN_MOVED_TO
  head -c 3000 "$EX/core01/cod_9102.animl" > "$W/half.animl"                   # half-written
  printf 'hello\n' > "$W/notes.txt"
  wait_for "$T/res.jsonl" '"file"' 4 && ok "watch: results for 4 files" || not_ok "watch results" "$(cat "$T/res.jsonl" | cut -c1-120)"
  kill -TERM $wpid; wait $wpid; rc=$?
  [ $rc -eq 0 ] && ok "watch stops on SIGTERM with exit 0" || not_ok "watch exit $rc" "$(cat "$T/werr")"
  grep '"file":"first.animl"' "$T/res.jsonl" | grep -q '"class":"hydroxyapatite"' && ok "watch: file present at start classified" || not_ok "first.animl"
  grep '"file":"moved.animl"' "$T/res.jsonl" | grep -q '"class":"oxalate"' && ok "watch: renamed-in file classified" || not_ok "moved.animl"
  grep '"file":"half.animl"' "$T/res.jsonl" | grep -q '"error":' && ok "watch: half-written file gives an error record" || not_ok "half.animl"
  grep '"file":"notes.txt"' "$T/res.jsonl" | grep -q '"error":' && ok "watch: bad file gives an error record" || not_ok "notes.txt"
  grep -q '"file":".part"' "$T/res.jsonl" && not_ok "hidden temp file processed" || ok "watch: hidden files ignored"
  [ "$(wc -l < "$W/.calcspec-watch.state")" -eq 4 ] && ok "watch: state file lists 4 files" || not_ok "state" "$(cat "$W/.calcspec-watch.state")"
  # restart: nothing twice; a completed rewrite of half.animl counts as new
  timeout 30 "$CALCSPEC" watch -o "$T/res.jsonl" "$W" 2> "$T/werr" &
  wpid=$!
  if wait_for "$T/werr" "watching" 1; then
    cp "$EX/core01/cod_9102.animl" "$W/half.animl"
    cp "$EX/core04/$(ls "$EX/core04" | head -n 1)" "$W/late.animl"
    wait_for "$T/res.jsonl" '"file":"late.animl"' 1 && ok "watch after restart sees a new file" || not_ok "late.animl"
    wait_for "$T/res.jsonl" '"file":"half.animl".*"class"' 1 && ok "watch: the completed file is classified" || not_ok "half.animl rewrite"
    kill -INT $wpid; wait $wpid; rc=$?
    [ $rc -eq 0 ] && ok "watch stops on SIGINT with exit 0" || not_ok "watch exit $rc"
    dup=$(grep -o '"file":"[^"]*"' "$T/res.jsonl" | sort | uniq -d | grep -v half.animl)
    [ -z "$dup" ] && [ "$(grep -c '"file":"first.animl"' "$T/res.jsonl")" -eq 1 ] && ok "watch: no file processed twice across restarts" || not_ok "duplicates" "$(cut -c1-60 "$T/res.jsonl")"
  else
    kill $wpid 2>/dev/null; wait $wpid; not_ok "watch restart did not start" "$(cat "$T/werr")"
  fi
else
  kill $wpid 2>/dev/null; wait $wpid; not_ok "watch did not start" "$(cat "$T/werr")"
fi
# a torn last line (a crash mid-write) in the state and in the results gets
# its newline before the next append: the next record was glued onto it
# and lost (the state's: that file was done again after the next restart)
W2=$T/watch2; mkdir -p "$W2"
cp "$EX/core02/hydroxyapatite_9200.animl" "$W2/a.animl"
printf '{"name":"gone.animl","si' > "$W2/.calcspec-watch.state"
printf '{"file":"torn' > "$T/res2.jsonl"
timeout 30 "$CALCSPEC" watch -o "$T/res2.jsonl" "$W2" 2> "$T/werr2" &
wpid=$!
if wait_for "$W2/.calcspec-watch.state" '"name":"a.animl"' 1; then
  kill -TERM $wpid; wait $wpid
  tail -n 1 "$W2/.calcspec-watch.state" | grep -q '^{"name":"a.animl"' &&
    ok "watch: a torn state line is ended before the next record" ||
    not_ok "torn state line" "$(cat "$W2/.calcspec-watch.state")"
  tail -n 1 "$T/res2.jsonl" | grep -q '^{"file":"a.animl"' &&
    ok "watch: a torn results line is ended before the next result" ||
    not_ok "torn results line" "$(cut -c1-80 "$T/res2.jsonl")"
else
  kill $wpid 2>/dev/null; wait $wpid; not_ok "watch on a torn state did not record" "$(cat "$T/werr2")"
fi
run watch; expect "watch without a directory" 2
run watch "$T/nonexistent"; expect "watch a missing directory" 1 "not a directory"

# --- Python wrapper with Debian's python3 against the built library
if [ ! -x /usr/bin/python3 ]; then
  skip "python wrapper" "/usr/bin/python3 absent"
elif ldd "$so" 2>/dev/null | grep -q libasan; then
  skip "python wrapper" "sanitizer build (ASan cannot be loaded into python3)"
else
  run -q simulate --class ha -s 5 --snr 3 --fluorescence 10 --no-spikes -o "$T/low.csv"
  run -q simulate --class ha -s 6 --snr 40 --fluorescence 10 --no-spikes -o "$T/good.csv"
  run -q simulate --class tissue -s 7 --snr 40 --fluorescence 10 --no-spikes -o "$T/tis.csv"
  CALCSPEC_LIB="$so" PYTHONPATH="$ROOT/src/python" /usr/bin/python3 - "$T/ha.csv" "$EX/core04" > "$T/out" 2> "$T/err" <<'PY'
import os, sys, calcspec
import re
assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", calcspec.version())
x, y = [], []
for l in open(sys.argv[1]):
    f = l.replace(",", " ").split()
    if l.startswith("#") or len(f) < 2: continue
    try: x.append(float(f[0])); y.append(float(f[1]))
    except ValueError: pass
r = calcspec.classify(x, y)
assert r["class"] == "hydroxyapatite" and r["reacquire"] is False, r
# per-spectrum composition (issue 14): only when asked for
assert r["composition"] is None
c = calcspec.classify(x, y, composition=True)["composition"]
assert c["class"] == "hydroxyapatite" and 950 < c["nu1_pos"] < 970, c
assert c["carbonate_censored"] or c["carbonate_wt"] >= c["carbonate_lod"] > 0, c
assert 0 <= c["whitlockite_index"] <= 1, c
# wavelength axis: lambda = 1e7 / (1e7/785 - shift)
lam = [1e7 / (1e7 / 785.0 - s) for s in x]
r2 = calcspec.classify(lam, y, axis="wavelength_nm", laser_nm=785)
assert r2["class"] == "hydroxyapatite", r2
try:
    calcspec.classify(lam, y, axis="wavelength_nm"); raise SystemExit("no error")
except calcspec.Error as e:
    assert e.status == 6 and "laser" in str(e)
rows = [d for f in sorted(os.listdir(sys.argv[2])) for d in calcspec.classify_file(os.path.join(sys.argv[2], f))]
assert rows and all(d["core_id"] == "core04" for d in rows)
print("ok", len(rows))
PY
  rc=$?
  [ $rc -eq 0 ] && grep -q '^ok ' "$T/out" && ok "python wrapper: arrays, wavelength axis, errors, files" || not_ok "python wrapper" "$(cat "$T/err" | tail -n 5)"
  CALCSPEC_LIB="$so" PYTHONPATH="$ROOT/src/python" /usr/bin/python3 "$ROOT/src/python/acquire_example.py" "$T/low.csv,$T/good.csv" "$T/tis.csv" > "$T/out" 2> "$T/err"
  rc=$?; expect "acquisition loop example runs" 0
  expect_out "low SNR spot re-acquired with a longer exposure" '"spot": 1, "attempts": 2, "exposure_s": 2.0, "class": "hydroxyapatite".*"verdict": "ok"'
  expect_out "tissue spot: move the needle" '"spot": 2, "attempts": 1, .*"class": "tissue".*"qc_flags": "no_mineral", "verdict": "move needle"'
fi
