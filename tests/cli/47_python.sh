# 47_python.sh: the numpy-first Python package (issue 17) tested as a user
# gets it: `make install PREFIX=$tmp`, then Debian's /usr/bin/python3 with
# PYTHONPATH on the installed copy (it finds the installed library by
# itself).  Example cores and simulated spectra are SYNTHETIC; expected
# classes are their ground truth.
EX=$ROOT/spectra/examples
if [ ! -x /usr/bin/python3 ]; then
  skip "python package" "/usr/bin/python3 absent"
elif ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  skip "python package" "python3-numpy absent (Debian: apt-get install python3-numpy)"
elif [ "$(cd "$(dirname "$CALCSPEC")" && pwd)" != "$ROOT/build" ]; then
  skip "python package" "CALCSPEC is not the default build (sanitizer build: ASan cannot be loaded into python3)"
elif ! make -C "$ROOT" --no-print-directory install PREFIX="$T/inst" >"$T/inst.log" 2>&1; then
  not_ok "make install PREFIX=tmp" "$(tail -n 3 "$T/inst.log")"
else
  ok "make install PREFIX=tmp"
  PYV=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  PP=$T/inst/lib/python$PYV/dist-packages
  [ -f "$PP/calcspec/__init__.py" ] && ok "package installed under lib/python$PYV/dist-packages" || not_ok "package location" "$(ls -R "$T/inst/lib" | head)"
  run -q simulate --class ha -s 21 -n 3 --snr 40 --fluorescence 10 --whitlockite-frac 0:0 --no-spikes -o "$T/py_ha.csv"
  run -q simulate --class calcite -s 22 --snr 40 --fluorescence 10 --no-spikes -o "$T/py_cc.csv"
  printf '1000 1\n1001 2\n' > "$T/py_short.txt"
  # run from / so that the source tree is not on the path
  (cd / && env -u CALCSPEC_LIB PYTHONPATH="$PP" /usr/bin/python3 - "$EX" "$T" > "$T/py.out" 2>&1) <<'PY'
import os, sys, math
import numpy as np
import calcspec
ex, t = sys.argv[1], sys.argv[2]
assert calcspec.__file__.startswith(t), calcspec.__file__   # the installed copy
# read a vendor file: numpy arrays and metadata
s = calcspec.read(os.path.join(ex, "core01", "cod_9100.animl"))
assert len(s) == 1 and isinstance(s[0].x, np.ndarray) and s[0].x.dtype == np.float64
assert s[0].x.shape == s[0].y.shape == (1024,), s[0].x.shape
assert s[0].meta["core_id"] == "core01" and s[0].technique == "raman" and s[0].axis == "raman_shift"
# a missing file: FileNotFoundError (builtin and calcspec.Error) with the path
missing = os.path.join(t, "nope.animl")
for f in (calcspec.read, calcspec.Model, calcspec.classify_file):
    try:
        f(missing); raise SystemExit("no error from %s" % f.__name__)
    except FileNotFoundError as e:
        assert isinstance(e, calcspec.Error) and e.filename == missing and missing in str(e), e
# a malformed file: calcspec.Error naming the path
bad = os.path.join(t, "bad.animl"); open(bad, "w").write("<AnIML><oops")
try:
    calcspec.read(bad); raise SystemExit("no error")
except calcspec.Error as e:
    assert str(e).startswith(bad + ": "), e
# predict_proba on a 2-D batch of 3 spectra -> (3, n_classes)
ha = calcspec.read(os.path.join(t, "py_ha.csv"))
assert len(ha) == 3
x = ha[0].x
Y = np.vstack([h.y for h in ha])
m = calcspec.Model(technique="raman").prepare()
assert m.classes[:2] == ("oxalate", "hydroxyapatite"), m.classes
P = m.predict_proba(x, Y)
assert P.shape == (3, len(m.classes)), P.shape
assert np.allclose(P.sum(axis=1), 1)
assert list(m.predict(x, Y)) == ["hydroxyapatite"] * 3
# the same posteriors as the JSON report (the struct is read in place)
d = m.analyse(x, Y[1])
assert d["class"] == "hydroxyapatite" and d["classified"] is True
assert all(P[1, i] == d["posterior"][c] for i, c in enumerate(m.classes))
assert d["composition"]["class"] == "hydroxyapatite" and 950 < d["composition"]["nu1_pos"] < 970
assert isinstance(d["flags"], list) and isinstance(d["qc"]["flags"], list)
# one spectrum as a 1-D array; a Spectrum object for analyse
assert m.predict_proba(x, Y[0]).shape == (1, len(m.classes))
assert m.analyse(ha[2])["class"] == "hydroxyapatite"
# non-contiguous and float32 input is converted, not refused
assert np.allclose(m.predict_proba(x.astype(np.float32), np.asfortranarray(Y.astype(np.float32))), P, atol=1e-3)
# Model() holds both techniques: the axis must be said
try:
    calcspec.Model().predict_proba(x, Y); raise SystemExit("no error")
except calcspec.InvalidArgument as e:
    assert "axis" in str(e) and isinstance(e, ValueError)
assert calcspec.Model().predict(x, Y, axis="raman_shift")[0] == "hydroxyapatite"
# an FTIR model refuses a Raman axis
try:
    calcspec.Model(technique="ftir").predict(x, Y, axis="raman_shift"); raise SystemExit("no error")
except calcspec.Error as e:
    assert "ftir" in str(e)
# shape errors
try:
    m.predict_proba(x[:10], Y); raise SystemExit("no error")
except calcspec.InvalidArgument as e:
    assert "shape" in str(e)
# out of window: NaN row, "unknown" label
xs = np.array([1000.0, 1001, 1002]); ys = np.array([1.0, 2, 3])
assert np.isnan(m.predict_proba(xs, ys)).all() and m.predict(xs, ys)[0] == "unknown"
# headerless x y text: axis/technique given where the file does not say
sh = calcspec.read(os.path.join(t, "py_short.txt"), axis="raman_shift")
assert sh[0].axis == "raman_shift" and sh[0].technique == "raman"
try:
    calcspec.read(os.path.join(ex, "core01", "cod_9100.animl"), technique="ftir"); raise SystemExit("no error")
except calcspec.Error as e:
    assert "raman" in str(e)
# preprocessing and baselines with pybaselines' parameter names
cc = calcspec.read(os.path.join(t, "py_cc.csv"))[0]
b, params = calcspec.arpls(cc.y, lam=1e5)
assert b.shape == cc.y.shape and params["method"].startswith("arpls:lam=100000")
b2, _ = calcspec.baseline(cc.y, "asls", lam=1e6, p=0.01)
assert b2.shape == cc.y.shape and np.all(np.isfinite(b2))
try:
    calcspec.asls(cc.y, lamda=1e5); raise SystemExit("no error")
except calcspec.InvalidArgument as e:
    assert "lamda" in str(e)
pp = calcspec.preprocess(cc.x, cc.y, crop=(400, 1800), baseline={"method": "arpls", "lam": 1e5},
                         normalise="max")
assert 400 <= pp.x[0] and pp.x[-1] <= 1800 and abs(pp.y.max() - 1) < 1e-9, (pp.x[0], pp.y.max())
assert pp.baseline.shape == pp.x.shape and "preprocessing" in pp.meta
# the same baseline as the pipeline's (corrected = y - baseline)
pb = calcspec.preprocess(cc, baseline="arpls:lam=1e5")
ref, _ = calcspec.arpls(cc.y, lam=1e5, x_data=cc.x)
assert np.allclose(pb.baseline, ref, rtol=1e-9, atol=1e-9)
# the interface before 0.2 keeps working: lists in, dicts out
r = calcspec.classify(list(x), list(Y[0]))
assert r["class"] == "hydroxyapatite" and r["composition"] is None
rows = calcspec.classify_file(os.path.join(ex, "core01", "cod_9100.animl"))
assert rows[0]["core_id"] == "core01" and rows[0]["file"].endswith("cod_9100.animl") and rows[0]["count"] == 1
# write: read()'s spectra back as they were, a generator streamed, refusals
# leave nothing behind
calcspec.write(os.path.join(t, "py_w.animl"), s)
w = calcspec.read(os.path.join(t, "py_w.animl"))
assert len(w) == len(s) and np.array_equal(w[0].x, s[0].x) and np.array_equal(w[0].y, s[0].y)
assert w[0].meta["sample_id"] == s[0].meta["sample_id"] and w[0].technique == s[0].technique
gen = (calcspec.Spectrum(np.arange(400.0, 410.0), np.arange(10.0) + k, meta={"spot": str(k)},
                         technique="raman", axis="raman_shift", quantity="counts", laser_nm=785)
       for k in range(4))
calcspec.write(os.path.join(t, "py_w.jdx"), gen)
w = calcspec.read(os.path.join(t, "py_w.jdx"))
assert [x.meta["spot"] for x in w] == ["0", "1", "2", "3"] and w[3].y[0] == 3 and w[0].laser_nm == 785
for bad in ([s[0], "not a spectrum"], []):
    try:
        calcspec.write(os.path.join(t, "py_bad.animl"), bad); raise SystemExit("no error")
    except calcspec.Error:
        pass
assert not [f for f in os.listdir(t) if f.startswith("py_bad")]
# a NUL in a path or a step spec is refused: C reads up to it (a smoothing
# spec "sg:11:3\0x" was taken as sg:11:3; a path as "no such file")
for f in (lambda: calcspec.read(os.path.join(ex, "core01", "cod_9100.animl") + "\0x"),
          lambda: calcspec.preprocess(cc.x, cc.y, smooth="sg:11:3\0x")):
    try:
        f(); raise SystemExit("no error for a NUL")
    except calcspec.InvalidArgument as e:
        assert "NUL byte" in str(e), e
print("ok")
PY
  rc=$?
  [ $rc -eq 0 ] && grep -qx ok "$T/py.out" && ok "python: read, write, predict_proba (3, n_classes), analyse, errors, preprocess, baselines" || not_ok "python package" "$(tail -n 6 "$T/py.out")"
  # a spectrum that is not classified (out of the model window) has
  # "composition": null from classify --json --composition, and the same from
  # Python with composition=True (it was an object of reasons there)
  run classify --json --composition --axis raman_shift "$T/py_short.txt"
  (cd / && env -u CALCSPEC_LIB PYTHONPATH="$PP" /usr/bin/python3 - "$T/out" > "$T/py2.out" 2>&1) <<'PY'
import json, sys
import calcspec
cli = json.loads(open(sys.argv[1]).readline())
assert cli["classified"] is False and cli["composition"] is None, cli["composition"]
r = calcspec.classify([1000, 1001], [1, 2], composition=True)
a = calcspec.Model(technique="raman").analyse([1000, 1001], [1, 2])
for d in (r, a):
    assert d["classified"] is False and d["composition"] is None, d["composition"]
print("ok")
PY
  grep -qx ok "$T/py2.out" && ok "python: an unclassified spectrum's composition is null, as in classify --json" \
    || not_ok "python unclassified composition" "$(tail -n 3 "$T/py2.out")"
  # pip installs the package offline (in-tree build backend, no index)
  if /usr/bin/python3 -m pip --version >/dev/null 2>&1; then
    if /usr/bin/python3 -m pip install --no-index --no-deps --quiet --target "$T/pip" "$ROOT/src/python" >"$T/pip.log" 2>&1 \
       && [ -f "$T/pip/calcspec/__init__.py" ] && ls "$T/pip"/calcspec-*.dist-info/RECORD >/dev/null 2>&1; then
      ok "pip install ./src/python works offline"
    else not_ok "pip install ./src/python" "$(tail -n 4 "$T/pip.log")"; fi
  else
    skip "pip install ./src/python" "python3 -m pip absent"
  fi
  (cd / && PYTHONPATH="$PP" /usr/bin/python3 "$T/inst/share/calcspec/examples/acquire_example.py" --help) > "$T/out" 2>&1
  rc=$?; expect "acquire_example.py --help exits 0" 0
  expect_out "acquire_example.py --help prints its usage" '^usage: acquire_example.py'
fi
