# 96_pictures.sh: plot, report and map, checked as pictures: PNGs decoded
# (tests/pngprobe.py), SVG parsed, PDF text extracted with pdftotext.
EX=$ROOT/spectra/examples
PROBE="python3 $ROOT/tests/pngprobe.py"
HA=$EX/core02/hydroxyapatite_9200.animl
COD=$EX/core01/cod_9100.animl

# --- plot -------------------------------------------------------------------
run plot "$HA" -o "$T/ha.png"; expect "plot apatite to PNG" 0
size=$($PROBE size "$T/ha.png")
[ "$size" = "1080 1200" ] && ok "plot PNG is 1080 x 1200 px (720 x 800 pt at 1.5 px/pt, with the band fit)" \
  || not_ok "plot PNG size" "got '$size'"
ink=$($PROBE ink "$T/ha.png")
awk -v i="$ink" 'BEGIN { exit !(i > 0.03 && i < 0.6) }' && ok "plot PNG is not blank ($ink ink)" \
  || not_ok "plot PNG ink" "share of non-white pixels $ink"
# Okabe-Ito: raw black, baseline orange, corrected, the apatite class and the
# nu1 PO4 component blue, the nu3 PO4 components sky blue, the carbonate
# component green
$PROBE count "$T/ha.png" E69F00 0072B2 56B4E9 009E73 > "$T/counts"
if awk '$2 < 50 { bad = 1 } END { exit bad }' "$T/counts"; then ok "curve, legend and marker colours present"
else not_ok "curve, legend and marker colours present" "$(tr '\n' ' ' < "$T/counts")"; fi

# The corrected curve alone over 400..1800: its highest point is the
# nu1 PO4 band the composition fit puts at ~962 cm^-1 (composition: 961.7).
run plot "$HA" --no-raw --no-baseline --no-fit --no-class --range 400:1800 -o "$T/corr.png"
expect "plot --no-raw --no-baseline --no-fit --no-class" 0
set -- $($PROBE frame "$T/corr.png")
L=$1 Tp=$2 R=$3 B=$4
set -- $($PROBE top "$T/corr.png" 0072B2 $((L + 2)) $((R - 2)) $((Tp + 2)) $((B - 2)))
peak=$(awk -v x="$1" -v l="$L" -v r="$R" 'BEGIN { printf "%.1f", 400 + (x - l) / (r - l) * 1400 }')
awk -v p="$peak" 'BEGIN { exit !(p > 955 && p < 968) }' && ok "highest corrected pixel at $peak cm^-1 (nu1 PO4)" \
  || not_ok "highest corrected pixel at nu1 PO4" "at $peak cm^-1 (frame $L..$R, top pixel $*)"
ink=$($PROBE count "$T/corr.png" E69F00 | cut -d' ' -f2)
[ "$ink" -eq 0 ] && ok "--no-baseline leaves the orange baseline out" || not_ok "--no-baseline" "$ink orange pixels"

run plot "$COD" -o "$T/cod.png"; expect "plot oxalate" 0
n=$($PROBE count "$T/cod.png" D55E00 | cut -d' ' -f2)
[ "$n" -gt 300 ] && ok "oxalate class label and posterior bar in vermillion ($n px)" \
  || not_ok "oxalate colour" "$n vermillion pixels"

# The band fit alone.  Oxalate: the COD 1477 component's highest pixel is
# where the fit table (--fit-table) puts its maximum, on the panel's x range
# 1420..1500 and y range (spectrum minus the fit baseline, padded 5 %).
run plot "$COD" --no-raw --no-baseline --no-corrected --no-class \
  --fit-table "$T/codfit.tsv" -o "$T/codfit.png"
expect "plot: the band fit alone, with --fit-table" 0
set -- $($PROBE frame "$T/codfit.png"); L=$1 R=$3
set -- $($PROBE hlines "$T/codfit.png"); Tp=$1 B=$2
want=$(awk -F'\t' -v L="$L" -v R="$R" -v T="$Tp" -v B="$B" '
  NR == 1 { for (i = 1; i <= NF; i++) if ($i == "COD 1477") c = i; next }
  $1 >= 1420 && $1 <= 1500 { d = $2 - $3; if (!n || d < lo) lo = d; if (!n || d > hi) hi = d; n++
                             if ($c > m) { m = $c; mx = $1 } }
  END { pad = 0.05 * (hi - lo); y0 = lo - pad; y1 = hi + pad
        printf "%.1f %.1f %.2f", L + (mx - 1420) / 80 * (R - L), B - (m - y0) / (y1 - y0) * (B - T), mx }' "$T/codfit.tsv")
set -- $want; wx=$1 wy=$2 wpos=$3
set -- $($PROBE top "$T/codfit.png" 0072B2 $((L + 2)) $((R - 2)) $((Tp + 2)) $((B - 2)))
awk -v x="$1" -v y="$2" -v wx="$wx" -v wy="$wy" -v p="$wpos" 'BEGIN {
  exit !(x != "none" && (x - wx) ^ 2 < 25 && (y - wy) ^ 2 < 25 && p > 1470 && p < 1484) }' \
  && ok "COD 1477 component drawn at ($1, $2) px, table says ($wx, $wy) (peak $wpos cm^-1)" \
  || not_ok "COD 1477 component pixels" "top blue pixel '$*', table says ($wx, $wy), peak $wpos, frame $L $Tp $R $B"
# The curves are the fit behind the composition: COM/COD height ratio of the
# table's components is the I1462/I1477 classify --composition reports
# (oxalate_ir; its COM fraction is that through Kontoyannis 1997, clipped to
# 0..1, so this COD spectrum's I_R below pure COD's 0.134 reads 0), and
# y - sum is the residual.
run classify --composition --json "$COD"
frac=$(python3 -c 'import json,sys; c = json.loads(open(sys.argv[1]).readline())["composition"]; print(c["com_frac"], c["oxalate_ir"])' "$T/out")
set -- $frac; frac=$1 ir_c=$2
awk -F'\t' -v f="$frac" -v ir_f="$ir_c" '
  NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "COM 1462") a = i; if ($i == "COD 1477") b = i }; next }
  { if ($a > ma) ma = $a; if ($b > mb) mb = $b; e = $2 - $4 - $5; if (e * e > 1e-6 * ($2 * $2 + 1)) bad = 1 }
  END { ir = ma / mb; x = (ir - 0.134) / (0.8 * ir + 1.52); x = x < 0 ? 0 : x > 1 ? 1 : x
        printf "%.4f %.4f\n", ir, ir_f; exit !(!bad && (ir / ir_f - 1) ^ 2 < 0.05 ^ 2 && (x - f) ^ 2 < 0.02 ^ 2) }' "$T/codfit.tsv" > "$T/ir" \
  && ok "fit table COM/COD heights $(cat "$T/ir" | cut -d' ' -f1) match com_frac $frac (I_R $(cut -d' ' -f2 "$T/ir"))" \
  || not_ok "fit table matches com_frac" "table I_R, classify's I_R: $(cat "$T/ir")"
# Apatite: the CO3 / nu1 PO4 component areas give classify's carbonate
# ratio (the window 860-1340 cuts the Lorentzian tails: a few per cent),
# and the nu1 component peaks at its nu1 position.
run plot "$HA" --no-raw --no-baseline --no-corrected --no-class --fit-table "$T/hafit.tsv" -o "$T/hafit.svg"
expect "plot: apatite band fit to SVG" 0
run classify --composition --json "$HA"
set -- $(python3 -c 'import json,sys; c=json.loads(open(sys.argv[1]).readline())["composition"]; print(c["carbonate_ratio"], c["nu1_pos"])' "$T/out")
awk -F'\t' -v r="$1" -v p="$2" '
  NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "nu1 PO4") a = i; if ($i == "nu1 CO3 (B type)") b = i }; next }
  $1 >= 860 { if (px) { aa += ($a + pa) / 2 * ($1 - px); ab += ($b + pb) / 2 * ($1 - px) }
              px = $1; pa = $a; pb = $b; if ($a > m) { m = $a; mx = $1 } }
  END { printf "%.4f %.1f\n", ab / aa, mx; exit !((ab / aa / r - 1) ^ 2 < 0.1 ^ 2 && (mx - p) ^ 2 < 4) }' \
  "$T/hafit.tsv" > "$T/cr" \
  && ok "apatite fit table: CO3/nu1 area $(cut -d' ' -f1 "$T/cr") vs carbonate_ratio $1; nu1 peak $(cut -d' ' -f2 "$T/cr") vs $2" \
  || not_ok "apatite fit table vs composition" "table $(cat "$T/cr"), classify $*"
run plot "$EX/core04/calcite_9400.animl" --no-raw --no-baseline --no-corrected -o "$T/x.png"
expect "plot: the band fit alone for a class without one is a data error" 1 "band fit"

run plot "$HA" -o "$T/ha.svg"; expect "plot to SVG" 0
python3 - "$T/ha.svg" > "$T/svg.txt" 2>&1 <<'EOF'
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
assert r.tag.endswith("svg"), r.tag
assert r.get("width") == "720pt" and r.get("height") == "800pt", (r.get("width"), r.get("height"))
paths = [e for e in r.iter() if e.tag.endswith("path")]
assert len(paths) > 50, len(paths)
print(len(paths))
EOF
[ $? -eq 0 ] && ok "SVG parses: 720 x 800 pt, $(cat "$T/svg.txt") paths" || not_ok "SVG parses" "$(tail -n 2 "$T/svg.txt")"

run plot "$HA" -o "$T/ha.pdf"; expect "plot to PDF" 0
if command -v pdftotext >/dev/null 2>&1; then
  pdftotext "$T/ha.pdf" "$T/ha.txt"
  miss=""
  for w in "Raman shift / cm" "hydroxyapatite" "Posterior probability" "Quality control" \
           "does not diagnose" "400" "1800" "carbonate"; do
    grep -q -- "$w" "$T/ha.txt" || miss="$miss '$w'"
  done
  [ -z "$miss" ] && ok "plot PDF text: axis label, class, ticks, disclaimer" || not_ok "plot PDF text" "missing$miss"
else
  skip "plot PDF text" "pdftotext not installed (Debian poppler-utils)"
fi
# "nice numbers" ticks: steps of 1, 2 or 5 x 10^k, only inside the range
if command -v pdftotext >/dev/null 2>&1; then
  for r in "400:1800=400 600 800 1000 1200 1400 1600 1800" "903:1017=920 940 960 980 1000"; do
    run plot "$HA" --no-raw --no-baseline --no-fit --no-class --range "${r%%=*}" -o "$T/tick.pdf"
    got=$(pdftotext -layout "$T/tick.pdf" - | grep -E '^[ 0-9]+$' | tr -s ' ' | sed 's/^ //' | grep ' ' | tail -n 1)
    [ "$got" = "${r#*=}" ] && ok "x ticks for --range ${r%%=*}: $got" || not_ok "x ticks for --range ${r%%=*}" "got '$got'"
  done
fi
run plot "$HA" -o "$T/x.gif"; expect "plot: unknown picture extension is a usage error" 2 "extension"
run plot "$HA" --format tiff -o "$T/x.png"; expect "plot: bad --format" 2
run plot --index 3 "$HA" -o "$T/x.png"; expect "plot: --index beyond the file" 1 "no spectrum 3 (the file holds 1)"
[ ! -e "$T/x.png" ] && ok "no picture left behind on error" || not_ok "no picture left behind on error"
run plot "$HA" --baseline bogus -o "$T/x.png"; expect "plot: bad --baseline" 2 "baseline"

# --- report -----------------------------------------------------------------
run report --findings "$EX/findings.csv" "$EX" -o "$T/report.pdf"; expect "report on the example cores" 0
if command -v pdftotext >/dev/null 2>&1 && command -v pdfinfo >/dev/null 2>&1; then
  pages=$(pdfinfo "$T/report.pdf" | sed -n 's/^Pages: *//p')
  [ "$pages" = 7 ] && ok "report: summary page + 6 core pages" || not_ok "report pages" "got $pages"
  pdftotext -layout "$T/report.pdf" "$T/report.txt"
  miss=""
  for w in core01 core02 core03 core04 core05 core06 "Cohen's κ = 0.333" "95 % CI" \
           oxalate hydroxyapatite whitlockite calcite tissue "Discordant cores" \
           "core05: finding birefringent, spectroscopy expects not birefringent" \
           "core06: finding not birefringent, spectroscopy expects birefringent" "< LOD"; do
    grep -q -- "$w" "$T/report.txt" || miss="$miss '$w'"
  done
  [ -z "$miss" ] && ok "report text: cores, kappa, classes, discordant cores, < LOD" || not_ok "report text" "missing$miss"
  n=$(grep -c "calcspec reports composition; it does not diagnose" "$T/report.txt")
  # the summary page says it twice (heading and footer)
  [ "$n" -ge "$pages" ] && ok "disclaimer on every page ($n times on $pages pages)" || not_ok "disclaimer on every page" "$n times on $pages pages"
  for p in $(seq 1 "$pages"); do
    pdftotext -f "$p" -l "$p" "$T/report.pdf" - | grep -q "does not diagnose" || echo "$p"
  done > "$T/nodisc"
  [ ! -s "$T/nodisc" ] && ok "each page carries the disclaimer" || not_ok "each page carries the disclaimer" "pages $(cat "$T/nodisc")"
  pdftotext -f 3 -l 3 "$T/report.pdf" - > "$T/p3.txt"
  grep -q "Biopsy core core02" "$T/p3.txt" && grep -q "Call: phosphate" "$T/p3.txt" \
    && grep -q "hydroxyapatite_9200.animl" "$T/p3.txt" \
    && ok "core02 page: call and spectrum thumbnails" || not_ok "core02 page" "$(head -c 300 "$T/p3.txt")"
else
  skip "report PDF text" "pdftotext/pdfinfo not installed (Debian poppler-utils)"
fi
# The same report as one self-contained HTML file, parsed with Python's
# html.parser: text, tables, and 30 thumbnails as SVG data URIs that parse.
run report --findings "$EX/findings.csv" "$EX" -o "$T/report.html"; expect "report to HTML" 0
python3 - "$T/report.html" > "$T/html.txt" 2>&1 <<'PYEOF'
import base64, sys, xml.etree.ElementTree as ET
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.text = []; self.imgs = []; self.ext = []; self.sections = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img": self.imgs.append(a.get("src", ""))
        if tag == "section": self.sections += 1
        for k in ("src", "href"):
            v = a.get(k)
            if v and not (v.startswith("data:") or v.startswith("#")): self.ext.append(v)
        if tag in ("link", "script"): self.ext.append(tag)
    def handle_data(self, d): self.text.append(d)
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
t = " ".join(p.text)
miss = [w for w in ["core01", "core02", "core03", "core04", "core05", "core06",
                    "Cohen's \u03ba = 0.333", "95 % CI", "oxalate", "hydroxyapatite", "whitlockite",
                    "calcite", "tissue", "Discordant cores",
                    "core05: finding birefringent, spectroscopy expects not birefringent",
                    "core06: finding not birefringent, spectroscopy expects birefringent",
                    "< LOD", "cod_9100.animl"] if w not in t]
assert not miss, "missing %r" % miss
assert not p.ext, "external references %r" % p.ext[:3]
assert p.sections == 7, "sections %d" % p.sections
n = t.count("calcspec reports composition; it does not diagnose")
assert n >= 8, "disclaimer %d times" % n  # top, each core, footer
assert len(p.imgs) == 30, len(p.imgs)
for src in p.imgs:
    head, b = src.split(",", 1)
    assert head == "data:image/svg+xml;base64", head
    r = ET.fromstring(base64.b64decode(b))
    assert r.tag.endswith("svg") and len([e for e in r.iter() if e.tag.endswith("path")]) > 3
print(len(p.imgs), n)
PYEOF
[ $? -eq 0 ] && ok "HTML report: cores, kappa, classes, discordant cores, 7 sections, $(cut -d' ' -f1 "$T/html.txt") inline SVG thumbnails, no external references" \
  || not_ok "HTML report" "$(tail -n 3 "$T/html.txt")"
run report "$EX/core01" -o "$T/r1.pdf"; expect "report without findings" 0
run report --findings "$T/nosuch.csv" "$EX/core01" -o "$T/r0.pdf"
expect "report: an unreadable findings file says why" 1 "nosuch.csv: cannot read findings file: No such file or directory"
if command -v pdftotext >/dev/null 2>&1; then
  pdftotext "$T/r1.pdf" - | grep -q "No findings given" && ok "report says there is no comparison" \
    || not_ok "report without findings says so"
fi
run report "$EX" -o "$T/r.png"; expect "report must be a PDF" 2 "PDF"
printf 'core_id,birefringent\ncore01,perhaps\n' > "$T/badf.csv"
run report --findings "$T/badf.csv" "$EX" -o "$T/r2.pdf"; expect "report: bad findings names the line" 1 "line 2"

# --- map --------------------------------------------------------------------
# A SYNTHETIC 3 x 2 map in the LabSpec map layout (x y then the spectrum per
# row), 5 um steps, classes placed at known positions.
# (HA without whitlockite: the mineral-feature classifier is unsure of HA
# spot 12 with 0-0.2 whitlockite, posterior 0.51; this test is about the
# map, README "Limitations" about HA vs whitlockite)
for c in cod hydroxyapatite tissue; do
  w=""; [ $c = hydroxyapatite ] && w="--whitlockite-frac 0"
  # shellcheck disable=SC2086
  "$CALCSPEC" simulate --class $c -n 2 --seed 11 --fluorescence 1:2 $w -o "$T/sim_$c.csv" 2>/dev/null
done
python3 - "$T" > "$T/map.txt" <<'EOF'
import sys
t = sys.argv[1]
def load(c):
    rows = [l.strip().split(",") for l in open(f"{t}/sim_{c}.csv") if not l.startswith("#")][1:]
    return [r[0] for r in rows], [[r[1] for r in rows], [r[2] for r in rows]]
grid = [((0, 0), "cod", 0), ((5, 0), "hydroxyapatite", 0), ((10, 0), "tissue", 0),
        ((0, 5), "hydroxyapatite", 1), ((5, 5), "tissue", 1), ((10, 5), "cod", 1)]
print("#Acq. time (s)=1\n#Laser=785")
print("\t\t" + "\t".join(load("cod")[0]))
for (x, y), c, k in grid:
    print(f"{x}\t{y}\t" + "\t".join(load(c)[1][k]))
EOF
run map "$T/map.txt" --table "$T/map.tsv" -o "$T/map.png"; expect "map of a synthetic 3 x 2 map" 0
cut -f2-6 "$T/map.tsv" | tail -n +2 > "$T/cells"
printf '0\t0\t0\t0\toxalate\n5\t0\t1\t0\thydroxyapatite\n10\t0\t2\t0\ttissue\n0\t5\t0\t1\thydroxyapatite\n5\t5\t1\t1\ttissue\n10\t5\t2\t1\toxalate\n' > "$T/cells.want"
cmp -s "$T/cells" "$T/cells.want" && ok "map table: positions, grid cells and classes" \
  || not_ok "map table" "$(cat "$T/cells")"
# each cell's centre in the image has its class colour (y runs up)
set -- $($PROBE bbox "$T/map.png" 780 D55E00 0072B2 009E73)
L=$1 Tp=$2 R=$3 B=$4
bad=""
while IFS='	' read -r x y col row cls; do
  case $cls in oxalate) want=D55E00 ;; hydroxyapatite) want=0072B2 ;; *) want=009E73 ;; esac
  px=$(( L + (2 * col + 1) * (R - L + 1) / 6 ))
  py=$(( B - (2 * row + 1) * (B - Tp + 1) / 4 ))
  got=$($PROBE pixel "$T/map.png" $px $py)
  [ "$got" = "$want" ] || bad="$bad ($x,$y)=$got want $want"
done < "$T/cells"
[ -z "$bad" ] && ok "map pixels at known positions have their class colours" || not_ok "map pixel colours" "$bad"
legend=$($PROBE count "$T/map.png" CC79A7 E69F00 | awk '$2 > 100 { n++ } END { print n + 0 }')
[ "$legend" = 2 ] && ok "legend lists the absent classes too (whitlockite, calcite swatches)" \
  || not_ok "map legend swatches" "$legend of 2"
run map --value p_hydroxyapatite "$T/map.txt" -o "$T/mapv.png"; expect "map --value p_hydroxyapatite" 0
n=$($PROBE count "$T/mapv.png" FDE725 440154)
echo "$n" | awk '$2 < 1000 { bad = 1 } END { exit bad }' && ok "value map: viridis ends present (p 1 yellow, p 0 purple)" \
  || not_ok "value map viridis" "$(echo $n)"
run map --value bogus "$T/map.txt" -o "$T/x.png"; expect "map: unknown --value" 2 "unknown --value"
run map "$HA" -o "$T/x.png"; expect "map: a single spectrum without positions" 1 "not a map"
# a stage position of +-1e308 um overflowed the grid's span (one garbage
# column, or cairo's "invalid matrix"): refused by name and spectrum
awk -F'\t' -v OFS='\t' 'NR == 4 { $1 = "1e308" } NR == 5 { $1 = "-1e308" } 1' \
  "$T/map.txt" > "$T/map_far.txt"
run map --value intensity "$T/map_far.txt" --table "$T/far.tsv" -o "$T/far.png"
expect "map: a position of 1e308 um is refused" 1 \
  "map_far.txt: spectrum 0: stage position 1e+308, 0 um is beyond"
expect_prefixed_errors "map: far position, one prefixed line"

if have_shared; then
  LS=$SHARED/formats/horiba_labspec_xml/jobinyvon_test_map_x3-y2.xml
  run map --value intensity --table "$T/ls.tsv" "$LS" -o "$T/ls.png"; expect "map: LabSpec XML map (real file)" 0
  n=$(tail -n +2 "$T/ls.tsv" | wc -l)
  grid=$(tail -n +2 "$T/ls.tsv" | cut -f2-5 | tr '\t\n' ',,')
  [ "$n" = 6 ] && [ "$grid" = "-2,-1,0,0,0,-1,1,0,2,-1,2,0,-2,1,0,1,0,1,1,1,2,1,2,1," ] \
    && ok "LabSpec map: 6 pixels on a 3 x 2 grid from position_um" || not_ok "LabSpec map grid" "$grid"
  run map "$LS" -o "$T/ls2.png"; expect "map: LabSpec class map when no spectrum covers the model window" 0
  TV=$SHARED/formats/trivista_tvf/linescan.tvf
  run map --value intensity --table "$T/tv.tsv" "$TV" -o "$T/tv.svg"; expect "map: TriVista line scan to SVG" 0
  first=$(sed -n 2p "$T/tv.tsv" | cut -f2,3) last=$(tail -n 1 "$T/tv.tsv" | cut -f2,3)
  [ "$first" = "-10	0" ] && [ "$last" = "10	0" ] && ok "TriVista line scan: 21 positions -10..10 um" \
    || not_ok "TriVista positions" "first '$first' last '$last'"
  WD=$SHARED/formats/renishaw_wdf/renishaw_test_map.wdf
  run map --value intensity --table "$T/wdf.tsv" "$WD" -o "$T/wdf.pdf"; expect "map: Renishaw WDF map to PDF" 0
  grid=$(tail -n +2 "$T/wdf.tsv" | cut -f2,3 | tr '\t\n' ',;')
  [ "$grid" = "-100,-100;0,-100;100,-100;-100,0;0,0;100,0;-100,100;0,100;100,100;" ] \
    && ok "WDF map: 3 x 3 pixels 100 um apart" || not_ok "WDF map grid" "$grid"
else
  skip "map on the LabSpec, TriVista and WDF maps" "../shared not found (set CALCSPEC_SHARED)"
fi

# --- progress ---------------------------------------------------------------
run classify "$EX"; cp "$T/out" "$T/plain.tsv"
grep -q "files/s\|/s, ETA\|/s, done" "$T/err" && not_ok "no progress when stderr is not a terminal" "$(head -c 200 "$T/err")" \
  || ok "no progress when stderr is not a terminal"
run --progress classify "$EX"; expect "--progress classify" 0 '^calcspec: classify: 30/30 files, [0-9.]*/s, done$'
cmp -s "$T/out" "$T/plain.tsv" && ok "--progress leaves stdout unchanged" || not_ok "--progress leaves stdout unchanged"
run -q --progress report "$EX" -o "$T/rp.pdf"; expect "--progress forces it past -q (report)" 0 '^calcspec: report: 30/30 files'
run --progress map "$T/map.txt" -o "$T/m.png"; expect "--progress map counts spectra" 0 '^calcspec: map: 6/6 spectra'

# --- Python: plot, report and map by file path (they run the calcspec command)
pyso="$(dirname "$CALCSPEC")/libcalcspec.so.0"
if [ ! -x /usr/bin/python3 ]; then
  skip "python plot/report/map" "/usr/bin/python3 absent"
elif ldd "$pyso" 2>/dev/null | grep -q libasan; then
  skip "python plot/report/map" "sanitizer build (ASan cannot be loaded into python3)"
else
  CALCSPEC_LIB="$pyso" PYTHONPATH="$ROOT/src/python" /usr/bin/python3 - "$T" "$HA" "$EX" > "$T/py.out" 2>&1 <<'PY'
import os, re, subprocess, sys, calcspec
t, ha, ex = sys.argv[1:4]
calcspec.plot(ha, t + "/py.png", range=(800, 1200), baseline="arpls:lam=1e5")
assert open(t + "/py.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
calcspec.report(ex, t + "/py.pdf", findings=ex + "/findings.csv", title="Python report")
pages = subprocess.run(["pdfinfo", t + "/py.pdf"], capture_output=True, text=True).stdout
assert re.search(r"^Pages:\s+7$", pages, re.M), pages
calcspec.map(t + "/map.txt", t + "/pymap.png", value="intensity", table=t + "/pymap.tsv")
assert len(open(t + "/pymap.tsv").read().splitlines()) == 7
try:
    calcspec.plot(ha, t + "/bad.png", index=5)
    raise SystemExit("no error for a missing spectrum")
except calcspec.Error as e:
    assert e.status == 1 and "no spectrum 5" in str(e), (e.status, str(e))
print("ok", sorted(n for n in ("plot", "report", "map") if n in calcspec.__all__))
PY
  grep -q "^ok \['map', 'plot', 'report'\]" "$T/py.out" && ok "python: calcspec.plot/report/map write pictures, errors raise calcspec.Error" \
    || not_ok "python plot/report/map" "$(tail -n 3 "$T/py.out")"
fi
