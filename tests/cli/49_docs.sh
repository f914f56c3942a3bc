# 49_docs.sh: the man page keeps up with the command (issue 17): every
# classify TSV column is named in it, and it has EXAMPLES, ENVIRONMENT and
# FILES sections whose commands exist.  Example cores are SYNTHETIC.
MAN=$ROOT/src/cli/calcspec.1
run classify --composition "$ROOT/spectra/examples/core01/cod_9100.animl"; expect "classify --composition header" 0
missing=""
for col in $(head -n 1 "$T/out"); do
  case $col in p_*|nnls_*) [ "$col" = nnls_r2 ] || col=${col%%_*}_CLASS ;; esac
  grep -q -- "$col" "$MAN" || missing="$missing $col"
done
[ -z "$missing" ] && ok "man page names every classify column" || not_ok "man page lacks classify columns" "$missing"
for sec in EXAMPLES ENVIRONMENT FILES; do
  grep -q "^\.SH $sec" "$MAN" && ok "man page has $sec" || not_ok "man page lacks $sec"
done
# every command the EXAMPLES section runs is a calcspec command
bad=""
for c in $(sed -n '/^\.SH EXAMPLES/,/^\.SH FILES/p' "$MAN" | grep -o '^calcspec [a-z]*' | cut -d' ' -f2 | sort -u); do
  "$CALCSPEC" "$c" --help >/dev/null 2>&1 || bad="$bad $c"
done
[ -z "$bad" ] && ok "man page EXAMPLES use existing commands" || not_ok "unknown commands in EXAMPLES" "$bad"
# the environment variables it documents are the ones the code reads
for v in CALCSPEC_INPUT_TIMEOUT TMPDIR; do
  grep -rq "getenv(\"$v\")" "$ROOT/src" && grep -q "^\.B $v" "$MAN" && ok "man page ENVIRONMENT: $v" || not_ok "ENVIRONMENT $v"
done
# README "JSON results" lists the composition keys classify --json writes,
# in their order (the calibrated whitlockite share keys were missing)
run classify --json --composition "$ROOT/spectra/examples/core01/cod_9100.animl"
if python3 - "$ROOT/README.md" "$T/out" > "$T/pyout" 2>&1 <<'PY'
import json, re, sys
row = [l for l in open(sys.argv[1], encoding="utf-8") if l.startswith("| `composition` |")][0]
doc = re.search(r"composition: `\{(.*?), reasons: \{(.*?)\}\}`", row)
comp = json.loads(open(sys.argv[2]).readline(), object_pairs_hook=lambda kv: kv)
comp = dict(comp)["composition"]
keys = [k for k, _ in comp]
assert doc.group(1).split(", ") == keys[:-1], (doc.group(1), keys)
assert doc.group(2).split(", ") == [k for k, _ in dict(comp)["reasons"]]
print("ok")
PY
then ok "README lists the composition keys of classify --json"
else not_ok "README composition keys" "$(tail -n 2 "$T/pyout")"; fi
