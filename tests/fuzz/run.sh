#!/bin/sh
# run.sh FUZZDIR SECONDS TARGET...: run each libFuzzer target for SECONDS
# (nice'd), on its working corpus FUZZDIR/work/TARGET (kept between runs)
# seeded from FUZZDIR/corpus/TARGET.  Prints one line of figures per target
# and fails when any target found a crash, leak, timeout or sanitizer
# report (the input is kept as FUZZDIR/findings/TARGET-*).
dir=$1 secs=$2
shift 2
mkdir -p "$dir/findings" "$dir/logs"
bad=""
printf '%-22s %10s %8s %8s %8s %7s %s\n' target execs exec/s cov ft corpus result
for t in "$@"; do
  mkdir -p "$dir/work/$t" "$dir/corpus/$t"
  log=$dir/logs/$t.log
  # -timeout: one input may not take 60 s (wall clock: generous, as a busy
  # machine slows everything); -rss_limit_mb: nor 2.5 GB;
  # -close_fd_mask=3: the CLI parsers' messages would only slow the run;
  # -seed: FUZZ_SEED (0 = random; CI fixes it so a smoke run can be repeated)
  TMPDIR=${TMPDIR:-/tmp} nice "$dir/bin/$t" -max_total_time="$secs" -timeout=60 \
    -seed="${FUZZ_SEED:-0}" \
    -rss_limit_mb=2560 -close_fd_mask=3 -print_final_stats=1 \
    -artifact_prefix="$dir/findings/$t-" "$dir/work/$t" "$dir/corpus/$t" \
    >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(printf '%s' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(printf '%s' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corp=$(printf '%s' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
  if [ $rc -eq 0 ]; then res=ok; else res="FAILED (rc $rc, see $log)"; bad="$bad $t"; fi
  printf '%-22s %10s %8s %8s %8s %7s %s\n' "$t" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$res"
  [ $rc -eq 0 ] || grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5
done
if [ -n "$bad" ]; then
  echo "fuzz: findings in:$bad" >&2
  exit 1
fi
echo "fuzz: $# targets, ${secs} s each, no finding"
