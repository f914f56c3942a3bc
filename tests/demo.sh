#!/bin/sh
# demo.sh: what `make demo` shows.  $1 = the calcspec binary.
set -u
bin=${1:-build/calcspec}
root=$(cd "$(dirname "$0")/.." && pwd)
echo "== calcspec formats"
"$bin" formats
if [ -d "$root/spectra/examples" ]; then
  echo
  echo "== calcspec info spectra/examples   (SYNTHETIC spectra made by calcspec simulate)"
  "$bin" info "$root/spectra/examples"
fi
