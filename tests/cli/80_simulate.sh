# 80_simulate.sh: `calcspec simulate` options, output and the byte-identical
# regeneration of spectra/.

run simulate --help; expect "simulate --help exits 0" 0
expect_out "simulate --help prints usage" '^usage: calcspec simulate'
run simulate -o "$T/s.animl"; expect "simulate without --class exits 2" 2 "no class"
run simulate --class granite -o "$T/s.animl"; expect "simulate unknown class exits 2" 2 "unknown class 'granite'"
run simulate --class ha; expect "simulate without -o exits 2" 2 "no output"
run simulate --class ha --snr 5:1 -o "$T/s.animl"; expect "simulate --snr needs A<=B" 2 "--snr"
run simulate --class ha --snr 0:5 -o "$T/s.animl"; expect "simulate --snr 0:5 is refused" 2 "--snr"
run simulate --class ha --carbonate 20 -o "$T/s.animl"; expect "simulate --carbonate bound" 2 "--carbonate"
run simulate --class ha --seed 1.5 -o "$T/s.animl"; expect "simulate --seed must be an integer" 2 "--seed"
run simulate --class ha --range 300:99999 -o "$T/s.animl"; expect "simulate window beyond the laser line" 2 "does not fit"
run simulate --class ha -t uv -o "$T/s.animl"; expect "simulate --technique strict" 2 "--technique"
run simulate --class ha extra -o "$T/s.animl"; expect "simulate rejects stray arguments" 2 "unexpected argument"

# Three spots into one file; truth read back through info --json.
run simulate --class cod -n 3 --seed 7 --com-frac 0 --core C9 -o "$T/s.animl"
expect "simulate -n 3 writes a file" 0
run info "$T/s.animl"; expect "simulated file reads back" 0
expect_out "three spectra" "s.animl	2	animl	raman	1024	raman_shift	300	1900	counts	785"
run info --json "$T/s.animl"
expect_out "truth class recorded" '"truth.class":"oxalate"'
expect_out "truth subtype recorded" '"truth.subtype":"COD"'
expect_out "seeds are consecutive" '"truth.seed":"9"'
expect_out "core id recorded" '"core_id":"C9"'
expect_out "synthetic flag" '"synthetic":"yes"'

# Same seed, same bytes; another seed, other bytes.
run simulate --class ha --seed 5 -o "$T/a.animl"; run simulate --class ha --seed 5 -o "$T/b.animl"
run simulate --class ha --seed 6 -o "$T/c.animl"
if cmp -s "$T/a.animl" "$T/b.animl"; then ok "same seed gives identical files"
else not_ok "same seed gives identical files"; fi
if cmp -s "$T/a.animl" "$T/c.animl"; then not_ok "another seed gives another file"
else ok "another seed gives another file"; fi

# FTIR: 800..1800 cm^-1 in 2 cm^-1 steps = 501 points of absorbance.
run simulate --class calcite -t ftir -o "$T/f.animl"; expect "simulate ftir" 0
run info "$T/f.animl"
expect_out "ftir grid" "f.animl	0	animl	ftir	501	wavenumber	800	1800	absorbance"
# Wavelength axis at 830 nm: 300 and 1900 cm^-1 are 1e7/(1e7/830 - s) nm
# = 851.1947493 and 985.3971269, stored at float precision: 851.1947632 and
# 985.3971558 (python3: numpy.float32).
run simulate --class ha --laser 830 --wavelength --pixels 1340 -o "$T/w.animl"
run info "$T/w.animl"
expect_out "wavelength axis 851.19..985.40 nm" "w.animl	0	animl	raman	1340	wavelength_nm	851.194763[0-9]*	985.397155[0-9]*	counts	830"
# Frames: one file per spot in a directory.
mkdir -p "$T/dir"
run simulate --class tissue -n 2 --seed 3 --frames 4 -o "$T/dir"
expect "simulate into a directory" 0
if [ -f "$T/dir/tissue_3.animl" ] && [ -f "$T/dir/tissue_4.animl" ]; then ok "one file per spot"
else not_ok "one file per spot" "$(ls "$T/dir")"; fi
run info "$T/dir/tissue_4.animl"
expect_out "four frames per spot" "tissue_4.animl	3	animl"

# spectra/ regenerates byte-identically.
if [ ! -f "$ROOT/spectra/generate.sh" ] || [ ! -d "$ROOT/spectra/reference" ]; then
  skip "spectra/ regenerates byte-identically" "spectra/ not generated yet"
else
  if sh "$ROOT/spectra/generate.sh" "$CALCSPEC" "$T/regen" >"$T/regen.log" 2>&1; then
    bad=$(cd "$ROOT/spectra" && find reference examples -type f | sort | while read -r f; do
      cmp -s "$f" "$T/regen/$f" || echo "$f"; done)
    n1=$(cd "$ROOT/spectra" && find reference examples -type f | wc -l)
    n2=$(cd "$T/regen" && find reference examples -type f | wc -l)
    if [ -z "$bad" ] && [ "$n1" -eq "$n2" ]; then ok "spectra/ regenerates byte-identically"
    else not_ok "spectra/ regenerates byte-identically" "differ: $bad" "files $n1 vs $n2"; fi
  else
    not_ok "spectra/ regenerates byte-identically" "$(head -c 300 "$T/regen.log")"
  fi
fi
