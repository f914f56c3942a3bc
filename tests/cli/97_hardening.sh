# 97_hardening.sh: inputs that must not hang, flood or spoof: FIFOs and
# devices in place of files, slow pipeline specs, stream lines that are
# too long or truncated, control characters in messages.
# run_t: run, under a timeout (124 = it hung)
run_t() { timeout 20 "$CALCSPEC" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
fifo=$T/fifo
rm -f "$fifo"
if mkfifo "$fifo" 2>/dev/null; then
  # a FIFO is read as a stream (issue 17, tests/cli/45_pipes.sh); one with
  # no writer is one error line after CALCSPEC_INPUT_TIMEOUT, never a hang
  export CALCSPEC_INPUT_TIMEOUT=1
  run_t info "$fifo"
  expect "info FIFO without a writer: one error after the timeout" 1 "calcspec: $fifo: no data within the timeout"
  run_t info --format spe "$fifo"
  expect "info --format spe FIFO without a writer: error after the timeout" 1 "no data within the timeout"
  run_t classify -m "$fifo" "$ROOT/spectra/examples/core01/cod_9100.animl"
  expect "classify -m FIFO: refused" 1 "calcspec: $fifo: not a regular file (a FIFO)"
  run_t preprocess --pipeline "$fifo" "$ROOT/spectra/examples/core01/cod_9100.animl" -o "$T/p.csv"
  expect "preprocess --pipeline FIFO without a writer: error after the timeout" 2 "no data within the timeout"
  run_t validate --findings "$fifo" "$ROOT/spectra/examples"
  expect "validate --findings FIFO without a writer: error after the timeout" 1 "no data within the timeout"
  unset CALCSPEC_INPUT_TIMEOUT
  printf '%s\n' "{\"id\":1,\"file\":\"$fifo\"}" \
    "{\"id\":2,\"file\":\"$ROOT/spectra/examples/core01/cod_9100.animl\"}" |
    timeout 20 "$CALCSPEC" stream >"$T/out" 2>"$T/err"
  rc=$?
  if [ $rc -eq 0 ] && grep -q '"id":1,.*"error":"not a regular file (a FIFO)"' "$T/out" &&
    grep -q '"id":2,.*"class":' "$T/out"; then
    ok "stream: a FIFO file request is refused and the next request is answered"
  else
    not_ok "stream: FIFO request" "rc $rc" "out: $(head -c 300 "$T/out")"
  fi
else
  skip "FIFO inputs" "mkfifo failed"
fi
run_t info /dev/zero
expect "info /dev/zero: a character device is refused, not read" 1 "not a regular file (a character device)"

# pipeline parameters are bounded: this once took 10 s and 142 MB to parse
start=$(date +%s)
run_t preprocess --smooth sg:4095:12 --print-pipeline
end=$(date +%s)
expect "preprocess --smooth sg:4095:12: refused with the limit" 2 "window must be odd, 1..501, got 4095"
if [ $((end - start)) -le 3 ]; then ok "sg:4095:12 refused within 3 s"
else not_ok "sg:4095:12 refused within 3 s" "took $((end - start)) s"; fi
printf 'smooth sg:4095:12\n' >"$T/slow.pipeline"
run_t preprocess --pipeline "$T/slow.pipeline" "$ROOT/spectra/examples/core01/cod_9100.animl" -o "$T/p.csv"
expect "--pipeline FILE with sg:4095:12: refused naming the line" 2 "slow.pipeline: line 1: savitzky-golay window"
run preprocess --resample 0:1e6:0.001 --print-pipeline
expect "resample to 1e9 points: refused" 2 "at most 1000000 points"
run preprocess --baseline arpls:lam=1e300 --print-pipeline
expect "baseline lam=1e300: refused" 2 "lam must be > 0 and <= 1e+12"
run preprocess --baseline arpls:max_iter=1000000 --print-pipeline
expect "baseline max_iter=1e6: refused" 2 "max_iter must be 0..10000"

# stream: precise JSON errors and a line-length limit, the stream going on
printf '%s\n' '{"id":1,"x":[1,2,3' '{"id":2,"x":[1,2],"y":[1,2]} junk' \
  '{"id":3,"x":[1,,2],"y":[1,2]}' \
  "{\"id\":4,\"file\":\"$ROOT/spectra/examples/core01/cod_9100.animl\"}" |
  "$CALCSPEC" stream >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] &&
  grep -q '"id":1,.*"error":"invalid JSON at byte 18: the line ends inside the request (truncated?)"' "$T/out" &&
  grep -q '"id":2,.*"error":"invalid JSON at byte [0-9]*: trailing garbage' "$T/out" &&
  grep -q '"id":3,.*"error":"invalid JSON at byte [0-9]*: ' "$T/out" &&
  grep -q '"id":4,.*"class":' "$T/out"; then
  ok "stream: truncated and invalid JSON lines say so, with the byte offset; the stream goes on"
else
  not_ok "stream: JSON syntax errors" "rc $rc" "out: $(head -c 400 "$T/out")"
fi
# finite counts whose differences overflow (+-1.7e308 alternating): an error
# line, and the next request is answered (the medians once looped on them)
awk 'BEGIN { printf "{\"id\":1,\"x\":["; for (i = 0; i < 1000; i++) printf "%s%g", i ? "," : "", 400 + 1.2 * i;
  printf "],\"y\":["; for (i = 0; i < 1000; i++) printf "%s%s", i ? "," : "", i % 2 ? "1.7e308" : "-1.7e308";
  print "]}" }' >"$T/huge.jsonl"
echo "{\"id\":2,\"file\":\"$ROOT/spectra/examples/core01/cod_9100.animl\"}" >>"$T/huge.jsonl"
timeout 60 "$CALCSPEC" stream <"$T/huge.jsonl" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q '"id":1,.*"error":' "$T/out" && grep -q '"id":2,.*"class":' "$T/out"; then
  ok "stream: a request of +-1.7e308 gets an error line and the stream goes on"
else
  not_ok "stream: overflowing request" "rc $rc" "out: $(head -c 300 "$T/out")"
fi
{
  printf '{"id":1,"x":['
  i=0
  while [ $i -lt 300 ]; do printf '1000,1001,1002,1003,1004,'; i=$((i + 1)); done
  printf '1],"y":[1]}\n'
  printf '%s\n' "{\"id\":2,\"file\":\"$ROOT/spectra/examples/core01/cod_9100.animl\"}"
} | "$CALCSPEC" stream --max-line 4096 >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] &&
  grep -q '^{"id":null,"file":null,"index":null,"count":null,"core_id":null,"error":"request line longer than 4096 bytes (--max-line); skipped"}$' "$T/out" &&
  grep -q '"id":2,.*"class":' "$T/out"; then
  ok "stream --max-line: a longer line gets an error reply and the stream goes on"
else
  not_ok "stream --max-line" "rc $rc" "out: $(head -c 400 "$T/out")"
fi
run stream --max-line 10 </dev/null
expect "stream --max-line below 1 KiB: usage error" 2 "--max-line wants 1024..1073741824"

# messages: control characters in names and values are escaped
esc=$(printf '\033')
run info "$T/no${esc}[2Jsuch
file"
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && ! grep -q "$esc" "$T/err" &&
  grep -q 'no\\e\[2Jsuch\\nfile' "$T/err"; then
  ok "a file name with ESC and a newline is printed escaped, on one line"
else
  not_ok "escaped file name" "rc $rc" "stderr: $(od -c "$T/err" | head -n 3)"
fi
run preprocess --smooth "sg:${esc}[31m" --print-pipeline
if [ "$rc" -eq 2 ] && ! grep -q "$esc" "$T/err"; then
  ok "an option value with ESC is escaped in the usage message"
else
  not_ok "escaped option value" "rc $rc" "stderr: $(od -c "$T/err" | head -n 3)"
fi
# TSV on stdout: a file name with a tab and a newline (classify), findings
# notes with CR and ESC (validate) stay one field on one line
mkdir -p "$T/tsv"
cp "$ROOT/spectra/examples/core01/cod_9100.animl" "$T/tsv/a	b
c.animl"
run classify "$T/tsv"
if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 2 ] &&
  [ "$(awk -F'\t' 'NR == 1 { h = NF } NR == 2 { print NF == h }' "$T/out")" = 1 ]; then
  ok "classify TSV: a tab and a newline in a file name stay in one field"
else
  not_ok "classify TSV file name" "rc $rc" "$(head -c 200 "$T/out" | od -c | head -n 4)"
fi
"$CALCSPEC" cores "$ROOT/spectra/examples/core01" >"$T/c1.tsv" 2>/dev/null
printf 'core01,no,x%s[31mred\rZ\n' "$esc" >"$T/fn.csv"
run validate --findings "$T/fn.csv" "$T/c1.tsv"
if grep -q '^discordant	core01	' "$T/out" && ! grep -q "$esc" "$T/out" && ! grep -q "$(printf '\r')" "$T/out"; then
  ok "validate TSV: CR and ESC in findings notes become spaces"
else
  not_ok "validate TSV notes" "rc $rc" "$(grep core01 "$T/out" | od -c | tail -n 4)"
fi

# labels files (found by the labels fuzz target): an empty class is refused;
# a bad row after good ones is refused without leaking them (make asan
# fails a leak with exit 23)
printf 'cod_9100.animl,0,\n' >"$T/labels.csv"
run train --labels "$T/labels.csv" "$ROOT/spectra/examples/core01" -o "$T/m.txt"
expect "train --labels: an empty class is refused naming the line" 1 "labels.csv: line 1: empty class"
printf 'cod_9100.animl,0,oxalate\nx.animl,y,calcite\n' >"$T/labels.csv"
run train --labels "$T/labels.csv" "$ROOT/spectra/examples/core01" -o "$T/m.txt"
expect "train --labels: a bad row after a good one is refused" 1 "labels.csv: line 2: bad index 'y'"
# a class name a model cannot hold is refused at its line, saying why (it
# was "train: spectrum 4: invalid class name", no file, no reason), and a
# spectrum given two classes is refused (the first row silently won)
printf 'cod_9100.animl,*,oxalate\ncod_9101.animl,*,%0100d\n' 7 >"$T/labels.csv"
run train --labels "$T/labels.csv" "$ROOT/spectra/examples/core01" -o "$T/m.txt"
expect "train --labels: a 100-character class names line and limit" 1 \
  "labels.csv: line 2: class name '00000000000000000000...' of 100 characters (at most 31)"
printf 'cod_9100.animl,*,unknown\n' >"$T/labels.csv"
run train --labels "$T/labels.csv" "$ROOT/spectra/examples/core01" -o "$T/m.txt"
expect "train --labels: 'unknown' is not a class" 1 "labels.csv: line 1: class name 'unknown' is the reject label"
printf 'cod_9100.animl,*,oxalate\ncod_9101.animl,,oxalate\ncod_9100.animl,0,tissue\n' >"$T/labels.csv"
run train --labels "$T/labels.csv" "$ROOT/spectra/examples/core01" -o "$T/m.txt"
expect "train --labels: one spectrum, two classes" 1 \
  "labels.csv: line 3: 'cod_9100.animl' labelled 'tissue', but line 1 says 'oxalate'"
# a labels row that matches no input (a misspelt name: that file then went
# unused, silently) is noted with its line
printf 'cod_9100.animl,*,oxalate\ncod_9101.ANIML,*,oxalate\nhydroxyapatite_9200.animl,*,hydroxyapatite\nhydroxyapatite_9201.animl,*,hydroxyapatite\ncod_9102.animl,*,oxalate\n' >"$T/labels.csv"
run train --labels "$T/labels.csv" "$ROOT/spectra/examples/core01" "$ROOT/spectra/examples/core02" -o "$T/m.txt"
expect "train --labels: a row matching no input is noted" 0 "labels.csv: 1 row labels no spectrum of the input (first: line 2, 'cod_9101.ANIML')"
mkdir -p "$T/badcls"
cp "$ROOT/spectra/examples/core01/cod_9100.animl" "$ROOT/spectra/examples/core02/hydroxyapatite_9200.animl" "$T/badcls/"
sed 's|<S>oxalate</S>|<S>ox alate</S>|' "$ROOT/spectra/examples/core01/cod_9101.animl" >"$T/badcls/bad.animl"
run cv "$T/badcls"
expect "cv: a class from metadata that no model can hold names the file" 1 \
  "badcls/bad.animl: spectrum 0: class name 'ox alate': only letters, digits, _ and -"

# symbolic links back up a folder tree: each folder is walked once (two
# such links once took 2^32 walks; one counted every file 33 times)
mkdir -p "$T/loop/in"
cp "$ROOT/spectra/examples/core01/cod_9100.animl" "$T/loop/in/"
if ln -s . "$T/loop/in/a" 2>/dev/null && ln -s .. "$T/loop/in/b"; then
  run_t info "$T/loop"
  expect "info on a folder with links to itself and its parent: finishes" 0
  n=$(grep -c 'cod_9100.animl' "$T/out")
  [ "$n" -eq 1 ] && ok "a folder reached again through a link is walked once" ||
    not_ok "folder walked once" "cod_9100.animl listed $n times"
else
  skip "symbolic link loops" "ln -s failed"
fi

# one file reached through two links, or a path and a link, is one file
# (the first name kept): a batch counted it twice
mkdir -p "$T/dup/x"
cp "$ROOT/spectra/examples/core01/cod_9100.animl" "$T/dup/x/"
if ln -s x/cod_9100.animl "$T/dup/l1.animl" 2>/dev/null &&
   ln -s x/cod_9100.animl "$T/dup/l2.animl"; then
  run info "$T/dup"
  expect "info on a folder with two links to one file" 0
  n=$(grep -c 'sim-cod-9100-0' "$T/out")
  [ "$n" -eq 1 ] && ok "a file behind two links is listed once" ||
    not_ok "a file behind two links is listed once" "listed $n times"
  run info "$T/dup/x/cod_9100.animl" "$T/dup/l2.animl"
  expect_out "a path then a link to it: the first name kept" "^$T/dup/x/cod_9100.animl"
  n=$(grep -c 'l2.animl' "$T/out")
  [ "$n" -eq 0 ] && ok "a path then a link to it: listed once" ||
    not_ok "a path then a link to it: listed once" "link listed $n times"
else
  skip "links to one file" "ln -s failed"
fi

# an existing FIFO as the output is written into, never replaced by a
# regular file (as root, -o /dev/full was replaced and the run exit 0);
# with no reader it is an error at once
rm -f "$T/out.csv" "$T/out.png"
if mkfifo "$T/out.csv" "$T/out.png" 2>/dev/null; then
  run_t convert "$ROOT/spectra/examples/core01/cod_9100.animl" -o "$T/out.csv"
  expect "convert -o FIFO with no reader: an error at once" 1 "out.csv: cannot write: a FIFO with no reader"
  run_t plot "$ROOT/spectra/examples/core01/cod_9100.animl" -o "$T/out.png"
  expect "plot -o FIFO with no reader: an error at once" 1 "out.png: cannot write picture: a FIFO with no reader"
  exec 4<>"$T/out.csv" # a reader (and writer: no end of file) for the FIFO
  run_t convert "$ROOT/spectra/examples/core01/cod_9100.animl" -o "$T/out.csv"
  exec 4>&-
  expect "convert -o FIFO with a reader: written" 0
  [ -p "$T/out.csv" ] && [ -p "$T/out.png" ] && ok "the output FIFOs are still FIFOs" ||
    not_ok "output FIFOs replaced" "$(ls -l "$T/out.csv" "$T/out.png")"
else
  skip "FIFO outputs" "mkfifo failed"
fi

# a file known (by its size) to be over the 512 MiB limit of the formats
# read whole is refused before it is read: 2 s and 512 MiB of memory before
if ldd "$CALCSPEC" 2>/dev/null | grep -q libasan; then
  skip "over-limit file refused unread" "AddressSanitizer build (RSS)"
elif [ -x /usr/bin/time ] && truncate -s 1G "$T/huge.jdx" 2>/dev/null; then
  /usr/bin/time -f '%M' -o "$T/rss" "$CALCSPEC" info --format jcamp "$T/huge.jdx" >"$T/out" 2>"$T/err"
  rc=$?
  kb=$(tail -n 1 "$T/rss")
  expect "info on a 1 GiB JCAMP-DX: refused by size" 1 "huge.jdx: file larger than 512 MiB"
  [ "$kb" -lt 100000 ] && ok "the over-limit file is refused at $kb kB RSS" ||
    not_ok "over-limit file read before refusal" "$kb kB RSS"
  rm -f "$T/huge.jdx"
else
  skip "over-limit file refused unread" "no /usr/bin/time or sparse files"
fi

# output lost to a full device is an error (classify, info, cores and
# formats exited 0 with their rows gone)
if [ -c /dev/full ]; then
  for c in "classify $ROOT/spectra/examples/core01/cod_9100.animl" \
    "info $ROOT/spectra/examples/core01/cod_9100.animl" "formats"; do
    # shellcheck disable=SC2086
    timeout 20 "$CALCSPEC" $c >/dev/full 2>"$T/err"
    rc=$?
    expect "${c%% *} > /dev/full: an error" 1 "^calcspec: -: writing standard output: "
  done
else
  skip "output to a full device" "no /dev/full"
fi
