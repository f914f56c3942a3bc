#!/bin/sh
# eval_classifier.sh [CALCSPEC] [MODEL]: accuracy of `calcspec classify` on
# fresh SYNTHETIC test sets (seeds the reference library never uses), 40
# spots per generator class, scored against truth.class ("unknown" counts
# as wrong).  Prints one line per SNR / mineral-fraction setting.
bin=${1:-build/calcspec}
model=${2:-}
command -v python3 >/dev/null || { echo "eval_classifier: python3 needed"; exit 1; }
one() { # SNR MINERAL_FRACTION
  d=$(mktemp -d "${TMPDIR:-/tmp}/calcspec-eval.XXXXXX")
  i=0
  for c in tissue cod com hydroxyapatite whitlockite calcite; do
    i=$((i + 1))
    mf="--mineral-frac $2"
    [ $c = tissue ] && mf=""
    # shellcheck disable=SC2086
    "$bin" -q simulate --class $c -n 40 --seed $((77000 + i * 1000)) --snr "$1" $mf -o "$d/$c.animl"
  done
  "$bin" classify ${model:+-m "$model"} "$d"/*.animl > "$d/out.tsv"
  for f in "$d"/*.animl; do "$bin" info --json "$f"; done > "$d/truth.jsonl"
  python3 - "$d/out.tsv" "$d/truth.jsonl" "$1" "$2" <<'PY'
import sys, json, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
truth = [json.loads(l)["meta"]["truth.class"] for l in open(sys.argv[2])]
assert len(rows) == len(truth)
right = sum(r[4] == t for r, t in zip(rows, truth))
unknown = sum(r[4] == "unknown" for r in rows)
wrong = collections.Counter((t, r[4]) for r, t in zip(rows, truth) if r[4] not in (t, "unknown"))
tissue_as_mineral = sum(t == "tissue" and r[4] not in ("tissue", "unknown") for r, t in zip(rows, truth))
print("SNR %-4s mineral %-5s accuracy %5.1f %%  unknown %3d  tissue->mineral %d  confusions %s"
      % (sys.argv[3], sys.argv[4], 100.0 * right / len(rows), unknown, tissue_as_mineral,
         ", ".join("%s->%s %d" % (a, b, n) for (a, b), n in sorted(wrong.items())) or "none"))
PY
  rm -rf "$d"
}
for snr in 5 10 20 50; do one $snr 1; done
for mf in 0.05 0.2; do one 20 $mf; done
