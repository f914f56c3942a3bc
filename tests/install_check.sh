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
cc -std=c11 -Wall -Wextra -o "$stage/example" "$here/example_api.c" \
  $(PKG_CONFIG_PATH="$stage/usr/lib/pkgconfig" pkg-config --cflags --libs calcspec)
LD_LIBRARY_PATH="$stage/usr/lib" "$stage/example" >"$stage/out"
grep -q '^calcspec 0\.' "$stage/out"
"$stage/usr/bin/calcspec" --version >/dev/null
make -C "$here/.." --no-print-directory uninstall PREFIX="$stage/usr" >/dev/null
test ! -e "$stage/usr/lib/libcalcspec.so"
echo "install check: ok (header, shared library, calcspec.pc, man page, uninstall)"
