# 46_json.sh: one JSON form for classify --json, stream and watch (issue 17):
# the same keys in the same order, flags as arrays, null for what was not
# computed, numbers in shortest round-trip form.  Example cores are SYNTHETIC.
EX=$ROOT/spectra/examples
F=$EX/core01/cod_9100.animl
if ! command -v python3 >/dev/null 2>&1; then
  skip "JSON key comparison" "python3 absent"
else
  run classify --json "$F"; expect "classify --json" 0
  cp "$T/out" "$T/j_classify"
  printf '{"id":"r1","file":"%s"}\n' "$F" | "$CALCSPEC" stream > "$T/j_stream" 2>/dev/null
  WJ=$T/wjson; mkdir -p "$WJ"; cp "$F" "$WJ/"
  timeout 30 "$CALCSPEC" watch -o "$T/j_watch" "$WJ" 2> "$T/wjerr" &
  wjpid=$!
  i=0; while [ $i -lt 200 ] && ! grep -q '"class"' "$T/j_watch" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
  kill -TERM $wjpid 2>/dev/null; wait $wjpid
  # out of window: classify exits 1 but still writes the record
  printf '1000 1\n1001 2\n1002 3\n' > "$T/short.txt"
  run classify --json --axis raman_shift "$T/short.txt"; expect "classify --json, out of window: exit 1" 1 "does not cover"
  cp "$T/out" "$T/j_short"
  run classify --json --composition "$F"; cp "$T/out" "$T/j_comp"
  if python3 - "$T/j_classify" "$T/j_stream" "$T/j_watch" "$T/j_short" "$T/j_comp" > "$T/pyout" 2>&1 <<'PY'
import json, sys
def one(p):
    rows = [json.loads(l, object_pairs_hook=lambda kv: kv) for l in open(p) if l.strip()]
    assert len(rows) == 1, (p, len(rows))
    return rows[0]
c, s, w, short, comp = (one(p) for p in sys.argv[1:6])
keys = lambda kv: [k for k, _ in kv]
assert keys(s)[0] == "id" and dict(s)["id"] == "r1", keys(s)
assert keys(c) == keys(s)[1:] == keys(w), (keys(c), keys(s), keys(w))
assert keys(c) == keys(short) == keys(comp), (keys(short), keys(comp))
c, s, w, short = dict(c), dict(s), dict(w), dict(short)
assert keys(c["qc"]) == keys(s["qc"]) == keys(w["qc"])
assert c["core_id"] == "core01" == s["core_id"] == w["core_id"]
assert c["file"].endswith("cod_9100.animl") and w["file"] == "cod_9100.animl"
assert c["index"] == 0 and c["count"] == 1 and c["classified"] is True
for r in (c, s, w):
    assert isinstance(r["flags"], list) and isinstance(dict(r["qc"])["flags"], list)
    assert r["composition"] is None
# the same numbers from all three
for k in ("t2", "q", "nnls_r2", "mineral_snr"):
    assert c[k] == s[k] == w[k], k
# not computed: null, never 0
assert short["classified"] is False and short["class"] == "unknown"
assert short["t2"] is None and short["q"] is None and short["best"] is None
assert all(v is None for _, v in short["posterior"]), short["posterior"]
q = dict(short["qc"])
assert q["flags"] == ["out_of_window"] and q["snr"] is None and q["x_lo"] == 1000
assert dict(comp)["composition"] is not None
print("ok")
PY
  then ok "classify/stream/watch: same keys and order, flags arrays, nulls"
  else not_ok "JSON keys" "$(tail -n 3 "$T/pyout")" "$(head -c 300 "$T/j_watch")"; fi
  # shortest round trip: no 17-digit tails such as 0.10000000000000001
  if grep -Eq '[0-9]\.[0-9]*000000000[0-9]|[0-9]\.[0-9]*999999999[0-9]' "$T/j_classify"; then
    not_ok "numbers in shortest form" "$(grep -Eo '[0-9.]*(0000000000|9999999999)[0-9]*' "$T/j_classify" | head -3)"
  else ok "numbers in shortest round-trip form"; fi
  grep -q '"window_lo":380,' "$T/j_classify" && ok "integral values print as integers" || not_ok "window_lo" "$(head -c 300 "$T/j_classify")"
  # cores --json and info --json write their numbers in the same form: each
  # real has as many significant digits as the shortest text that reads
  # back (Python's repr is that shortest form), and none is cut to a fixed
  # precision (as jansson's JSON_REAL_PRECISION(6) did)
  run cores --json "$EX"; cp "$T/out" "$T/j_cores"
  run info --json "$EX"; cp "$T/out" "$T/j_info"
  if python3 - "$T/j_cores" "$T/j_info" "$T/j_classify" > "$T/pyshort" 2>&1 <<'PY'
import json, re, sys
def sig(t):
    m = re.match(r"-?([0-9.]+)", t).group(1).replace(".", "")
    return m.strip("0") or "0"
n, longest = 0, {}
for p in sys.argv[1:]:
    for line in open(p):
        def chk(t):
            global n
            n += 1
            assert sig(t) == sig(repr(float(t))), (p, t, repr(float(t)))
            longest[p] = max(longest.get(p, 0), len(sig(t)))
            return float(t)
        json.loads(line, parse_float=chk)
assert n > 50, n
# not cut to a fixed precision: the core means carry their full digits
assert longest[sys.argv[1]] > 10, longest
print("ok", n)
PY
  then ok "cores/info --json: numbers in shortest round-trip form ($(cat "$T/pyshort"))"
  else not_ok "cores/info --json numbers" "$(tail -n 2 "$T/pyshort")"; fi
fi
