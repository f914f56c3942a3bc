#!/bin/sh
# install_check.sh: `make install` into a staging prefix, then build and run
# tests/example_api.c against the installed header, library and calcspec.pc.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
stage=$(mktemp -d "${TMPDIR:-/tmp}/calcspec-install.XXXXXX")
trap 'rm -rf "$stage"' EXIT
make -C "$here/.." --no-print-directory install PREFIX="$stage/usr" >/dev/null
PKG_CONFIG_PATH="$stage/usr/lib/pkgconfig" pkg-config --exists calcspec
test -f "$stage/usr/share/man/man1/calcspec.1"
# the man page's EXAMPLES and FILES point into this install
grep -q "$stage/usr/share/calcspec/examples/core01" "$stage/usr/share/man/man1/calcspec.1"
# data as plain files (README "Install")
for f in README.md models/model_ftir.txt models/model_raman_400-1800.txt \
  calibration/carbonate_raman.txt examples/findings.csv examples/acquire_example.py; do
  test -f "$stage/usr/share/calcspec/$f"
done
# the installed model file and example core work together
"$stage/usr/bin/calcspec" classify -m "$stage/usr/share/calcspec/models/model_raman_400-1800.txt" \
  "$stage/usr/share/calcspec/examples/core01/cod_9100.animl" | grep -q '	oxalate	COD	'
cc -std=c11 -Wall -Wextra -o "$stage/example" "$here/example_api.c" \
  $(PKG_CONFIG_PATH="$stage/usr/lib/pkgconfig" pkg-config --cflags --libs calcspec)
LD_LIBRARY_PATH="$stage/usr/lib" "$stage/example" </dev/null >"$stage/out"
grep -q '^calcspec 0\.' "$stage/out"
"$stage/usr/bin/calcspec" --version >/dev/null
# classify with the embedded model through the installed library: a
# simulated hydroxyapatite spot (its ground truth) as x/counts arrays
"$stage/usr/bin/calcspec" -q simulate --class ha -s 11 --snr 40 --fluorescence 10 \
  --no-spikes -o "$stage/ha.csv"
LD_LIBRARY_PATH="$stage/usr/lib" "$stage/example" <"$stage/ha.csv" >"$stage/out"
grep -q '^class hydroxyapatite snr [0-9.]* reacquire 0$' "$stage/out"
# the Python wrapper finds the installed library by itself
if [ -x /usr/bin/python3 ]; then
  pyv=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  PYTHONPATH="$stage/usr/lib/python$pyv/dist-packages" /usr/bin/python3 -c '
import calcspec, sys
x, y = [], []
for l in open(sys.argv[1]):
    f = l.replace(",", " ").split()
    if l.startswith("#") or len(f) < 2: continue
    try: x.append(float(f[0])); y.append(float(f[1]))
    except ValueError: pass
assert calcspec.classify(x, y)["class"] == "hydroxyapatite"' "$stage/ha.csv"
else
  echo "install check: /usr/bin/python3 absent, Python wrapper not checked"
fi
make -C "$here/.." --no-print-directory uninstall PREFIX="$stage/usr" >/dev/null
test ! -e "$stage/usr/lib/libcalcspec.so"
test ! -e "$stage/usr/share/calcspec"
! ls "$stage"/usr/lib/python*/dist-packages/calcspec/__init__.py 2>/dev/null
echo "install check: ok (header, shared library, calcspec.pc, man page, data files, classify via the installed library, Python wrapper, uninstall)"
