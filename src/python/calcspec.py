"""calcspec.py: classify spectra from Python through libcalcspec (ctypes).

Pure standard library (python3-numpy optional: any sequence of numbers,
including numpy arrays, works).  The library is found, in order, through
$CALCSPEC_LIB, the LIBDIR recorded by `make install`, and the system's
loader ("libcalcspec.so.0").

    import calcspec
    r = calcspec.classify(x, y, axis="raman_shift")
    if r["reacquire"]: ...            # QC says: acquire again
    print(r["class"], r["posterior"][r["class"]] if r["classified"] else "")

Every function raises calcspec.Error (with .status and the library's
message) on failure.  Models are safe to share between threads.
"""
import ctypes
import json
import math
import os

_LIBDIR = None  # set by `make install`

__all__ = ["Error", "Model", "classify", "classify_file", "version"]

_AXES = {"raman_shift": 1, "wavenumber": 2, "wavelength_nm": 3}
_TECH = {"raman": 1, "ftir": 2}


class Error(Exception):
    """A libcalcspec failure: .status is the cs_status code."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class _CsError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("msg", ctypes.c_char * 512)]


def _load():
    names = []
    if os.environ.get("CALCSPEC_LIB"):
        names.append(os.environ["CALCSPEC_LIB"])
    if _LIBDIR:
        names.append(os.path.join(_LIBDIR, "libcalcspec.so.0"))
    names.append("libcalcspec.so.0")
    last = None
    for n in names:
        try:
            return ctypes.CDLL(n)
        except OSError as e:
            last = e
    raise OSError("cannot load libcalcspec (set CALCSPEC_LIB): %s" % last)


_lib = _load()
_P = ctypes.c_void_p
_D = ctypes.POINTER(ctypes.c_double)
_E = ctypes.POINTER(_CsError)
for _name, _res, _args in [
    ("cs_version", ctypes.c_char_p, []),
    ("cs_report_size", ctypes.c_size_t, []),
    ("cs_model_default", ctypes.c_int, [ctypes.c_int, ctypes.POINTER(_P), _E]),
    ("cs_model_load", ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(_P), _E]),
    ("cs_model_free", None, [_P]),
    ("cs_classify_arrays", ctypes.c_int,
     [_P, _D, _D, ctypes.c_size_t, ctypes.c_int, ctypes.c_double, _P, _P, _E]),
    ("cs_classify_spectrum", ctypes.c_int, [_P, _P, _P, _P, _E]),
    ("cs_report_json", ctypes.c_int, [_P, _P, ctypes.POINTER(_P), _E]),
    ("cs_free", None, [_P]),
    ("cs_dataset_read", ctypes.c_int,
     [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(_P), _E]),
    ("cs_dataset_free", None, [_P]),
    ("cs_dataset_count", ctypes.c_size_t, [_P]),
    ("cs_dataset_get", _P, [_P, ctypes.c_size_t]),
    ("cs_spectrum_technique", ctypes.c_int, [_P]),
    ("cs_spectrum_axis", ctypes.c_int, [_P]),
    ("cs_spectrum_meta", ctypes.c_char_p, [_P, ctypes.c_char_p]),
    ("cs_spectrum_new", ctypes.c_int,
     [_D, _D, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.POINTER(_P), _E]),
    ("cs_spectrum_set_technique", None, [_P, ctypes.c_int]),
    ("cs_spectrum_set_laser_nm", None, [_P, ctypes.c_double]),
    ("cs_spectrum_sort", ctypes.c_int, [_P, _E]),
    ("cs_spectrum_free", None, [_P]),
    ("cs_report_composition", ctypes.c_int, [_P, _P, _P, _E]),
]:
    _f = getattr(_lib, _name)
    _f.restype = _res
    _f.argtypes = _args



def version():
    """The library's version string, e.g. "0.1.0"."""
    return _lib.cs_version().decode()


def _check(status, err):
    if status:
        raise Error(status, err.msg.decode(errors="replace"))


class Model:
    """A classifier: Model() / Model("raman") is the built-in Raman model,
    Model("ftir") the FTIR one, Model(path=...) a file from calcspec train."""

    def __init__(self, technique="raman", path=None):
        self._h = _P()
        err = _CsError()
        if path is not None:
            st = _lib.cs_model_load(os.fsencode(path), ctypes.byref(self._h),
                                    ctypes.byref(err))
        else:
            if technique not in _TECH:
                raise ValueError("technique must be 'raman' or 'ftir'")
            st = _lib.cs_model_default(_TECH[technique], ctypes.byref(self._h),
                                       ctypes.byref(err))
        _check(st, err)

    def __del__(self):
        if getattr(self, "_h", None):
            _lib.cs_model_free(self._h)
            self._h = None

    def _report(self, rep):
        out = _P()
        err = _CsError()
        _check(_lib.cs_report_json(rep, self._h, ctypes.byref(out),
                                   ctypes.byref(err)), err)
        try:
            return json.loads(ctypes.string_at(out.value).decode())
        finally:
            _lib.cs_free(out)


_default_models = {}


def _default(technique):
    if technique not in _default_models:
        _default_models[technique] = Model(technique)
    return _default_models[technique]


def classify(x, y, axis="raman_shift", laser_nm=None, model=None,
             composition=False):
    """Classify one spectrum given as two sequences of numbers.

    axis: "raman_shift" (cm^-1), "wavelength_nm" (needs laser_nm) or
    "wavenumber" (FTIR absorbance).  model: a Model, a model file path, or
    None for the built-in model of the technique.  Returns the dict of
    `calcspec stream`: class, subtype, best, classified, posterior, t2, q,
    nnls, flags, reason, qc {flags, snr, fluor_ratio, ...}, reacquire.
    composition=True adds "composition": carbonate_wt (None when below the
    limit of detection: see carbonate_censored, carbonate_lod),
    carbonate_lo/hi, nu1_pos, nu1_fwhm, whitlockite_index, com_frac,
    protein_mineral, axis_offset, reasons (built-in SYNTHETIC calibration;
    README "Composition of one spectrum")."""
    if axis not in _AXES:
        raise ValueError("axis must be one of %s" % ", ".join(sorted(_AXES)))
    n = len(x)
    if n != len(y) or n == 0:
        raise ValueError("x and y need the same, non-zero length")
    if model is None:
        model = _default("ftir" if axis == "wavenumber" else "raman")
    elif not isinstance(model, Model):
        model = Model(path=model)
    xa = (ctypes.c_double * n)(*[float(v) for v in x])
    ya = (ctypes.c_double * n)(*[float(v) for v in y])
    laser = math.nan if laser_nm is None else float(laser_nm)
    rep = ctypes.create_string_buffer(_lib.cs_report_size())
    err = _CsError()
    if not composition:
        _check(_lib.cs_classify_arrays(model._h, xa, ya, n, _AXES[axis], laser,
                                       None, rep, ctypes.byref(err)), err)
        return model._report(rep)
    # as cs_classify_arrays does, but keeping the spectrum for composition
    ftir = axis == "wavenumber"
    s = _P()
    _check(_lib.cs_spectrum_new(xa, ya, n, _AXES[axis], 3 if ftir else 1,
                                ctypes.byref(s), ctypes.byref(err)), err)
    try:
        _lib.cs_spectrum_set_technique(s, _TECH["ftir" if ftir else "raman"])
        if not math.isnan(laser):
            _lib.cs_spectrum_set_laser_nm(s, laser)
        _check(_lib.cs_spectrum_sort(s, ctypes.byref(err)), err)
        _check(_lib.cs_classify_spectrum(model._h, s, None, rep,
                                         ctypes.byref(err)), err)
        _check(_lib.cs_report_composition(rep, s, None, ctypes.byref(err)), err)
        return model._report(rep)
    finally:
        _lib.cs_spectrum_free(s)


def classify_file(path, model=None, format=None, composition=False):
    """Classify every spectrum in a file: a list of dicts as classify(), each
    with "index" and "core" (core_id metadata or None); composition=True
    adds "composition" as in classify()."""
    ds = _P()
    err = _CsError()
    _check(_lib.cs_dataset_read(os.fsencode(path),
                                format.encode() if format else None,
                                ctypes.byref(ds), ctypes.byref(err)), err)
    try:
        out = []
        for i in range(_lib.cs_dataset_count(ds)):
            s = _lib.cs_dataset_get(ds, i)
            m = model
            if m is None:
                ftir = (_lib.cs_spectrum_technique(s) == 2 or
                        _lib.cs_spectrum_axis(s) == _AXES["wavenumber"])
                m = _default("ftir" if ftir else "raman")
            elif not isinstance(m, Model):
                m = model = Model(path=m)
            rep = ctypes.create_string_buffer(_lib.cs_report_size())
            _check(_lib.cs_classify_spectrum(m._h, s, None, rep,
                                             ctypes.byref(err)), err)
            if composition:
                _check(_lib.cs_report_composition(rep, s, None,
                                                  ctypes.byref(err)), err)
            d = {"index": i}
            core = _lib.cs_spectrum_meta(s, b"core_id")
            d["core"] = core.decode() if core else None
            d.update(m._report(rep))
            out.append(d)
        return out
    finally:
        _lib.cs_dataset_free(ds)


# Pictures (README "Pictures: plot, report, map").  The drawing lives in the
# calcspec command (cairo), not in libcalcspec, so these run the command.
# It is found through $CALCSPEC, the bin directory recorded by `make
# install`, and then PATH.
_BINDIR = None  # set by `make install`


def _command():
    if os.environ.get("CALCSPEC"):
        return os.environ["CALCSPEC"]
    if _BINDIR and os.path.exists(os.path.join(_BINDIR, "calcspec")):
        return os.path.join(_BINDIR, "calcspec")
    return "calcspec"


def _run(args):
    import subprocess
    try:
        p = subprocess.run([_command(), "-q"] + [str(a) for a in args],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as e:
        raise Error(-1, "cannot run calcspec (set CALCSPEC): %s" % e)
    if p.returncode != 0:
        lines = p.stderr.decode(errors="replace").strip().splitlines()
        raise Error(p.returncode, lines[0] if lines else "calcspec failed")


def plot(path, out, index=0, model=None, calibration=None, baseline=None,
         range=None, raw=True, corrected=True, fit=True, classes=True,
         fit_table=None):
    """Draw spectrum `index` of the file `path` to `out` (.png, .svg or .pdf):
    raw, baseline, corrected, the band fit of the composition, class and
    posteriors (as `calcspec plot`).  range = (lo, hi) in cm^-1; baseline = a
    spec such as "arpls:lam=1e5" or "off"; fit_table = a path for the band
    fit's curves as TSV.  Raises Error (status = exit code)."""
    args = ["plot", path, "--index", int(index), "-o", out]
    if model:
        args += ["-m", model]
    if calibration:
        args += ["-c", calibration]
    if baseline:
        args += ["--baseline", baseline]
    if range:
        args += ["--range", "%r:%r" % (float(range[0]), float(range[1]))]
    args += [f for f, keep in (("--no-raw", raw), ("--no-corrected", corrected),
                               ("--no-fit", fit), ("--no-class", classes)) if not keep]
    if fit_table:
        args += ["--fit-table", fit_table]
    _run(args)


def report(paths, out, findings=None, model=None, calibration=None, title=None):
    """Write the biopsy report PDF for files or folders `paths` (a path or a
    list), as `calcspec report`.  Raises Error when a spectrum fails (the
    PDF is still written for the rest, as the command does)."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    args = ["report", "-o", out]
    if findings:
        args += ["--findings", findings]
    if model:
        args += ["-m", model]
    if calibration:
        args += ["-c", calibration]
    if title:
        args += ["--title", title]
    _run(args + list(paths))


def map(path, out, value=None, table=None, model=None, calibration=None):
    """Draw a map or line scan as an image of classes, or of `value`
    ("carbonate", "intensity", "p_hydroxyapatite", ...), as `calcspec map`;
    table = a TSV path for one row per pixel."""
    args = ["map", path, "-o", out]
    if value:
        args += ["--value", value]
    if table:
        args += ["--table", table]
    if model:
        args += ["-m", model]
    if calibration:
        args += ["-c", calibration]
    _run(args)


__all__ += ["plot", "report", "map"]
