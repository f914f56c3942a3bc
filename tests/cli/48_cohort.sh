# A cohort over many processes (issue 15; README "Performance"): GNU
# parallel (-k keeps input order) and a Slurm job array (task i takes lines
# i*K+1 .. (i+1)*K of the sorted file list) split the files; the parts,
# concatenated in order without their repeated header line, equal one run.
find "$ROOT/spectra/examples" -name '*.animl' | LC_ALL=C sort > "$T/c_list"
# shellcheck disable=SC2046
"$CALCSPEC" classify --jobs 1 $(cat "$T/c_list") > "$T/c_one.tsv" 2>"$T/err" \
  || not_ok "cohort: one run" "$(cat "$T/err")"
c_n=$(wc -l < "$T/c_list")
if command -v parallel >/dev/null 2>&1; then
  parallel --will-cite -k -j 2 "$CALCSPEC" classify --jobs 1 {} < "$T/c_list" \
    2>"$T/err" | awk 'NR == 1 || !/^file\t/' > "$T/c_par.tsv"
  [ "$c_n" -ge 10 ] && cmp -s "$T/c_one.tsv" "$T/c_par.tsv" \
    && ok "cohort: GNU parallel -k over $c_n files equals one run" \
    || not_ok "cohort: GNU parallel" "$(cmp "$T/c_one.tsv" "$T/c_par.tsv" 2>&1)" "$(cat "$T/err")"
else
  skip "cohort: GNU parallel" "parallel not installed (Debian package parallel)"
fi
# the Slurm array script of the README, run here as 4 tasks one after the other
c_tasks=4
for c_i in 0 1 2 3; do
  SLURM_ARRAY_TASK_ID=$c_i SLURM_ARRAY_TASK_COUNT=$c_tasks CALCSPEC=$CALCSPEC \
    LIST="$T/c_list" OUT="$T/c_part" sh -c '
    n=$(wc -l < "$LIST"); k=$(( (n + SLURM_ARRAY_TASK_COUNT - 1) / SLURM_ARRAY_TASK_COUNT ))
    sed -n "$((SLURM_ARRAY_TASK_ID * k + 1)),$(((SLURM_ARRAY_TASK_ID + 1) * k))p" "$LIST" |
      xargs -r "$CALCSPEC" classify --jobs "${SLURM_CPUS_PER_TASK:-1}" \
      > "$OUT.$SLURM_ARRAY_TASK_ID.tsv"'
done
{ head -n 1 "$T/c_part.0.tsv"
  for c_i in 0 1 2 3; do tail -n +2 "$T/c_part.$c_i.tsv"; done; } > "$T/c_slurm.tsv"
cmp -s "$T/c_one.tsv" "$T/c_slurm.tsv" \
  && ok "cohort: a 4-task Slurm array (emulated) equals one run" \
  || not_ok "cohort: Slurm array" "$(cmp "$T/c_one.tsv" "$T/c_slurm.tsv" 2>&1)"
