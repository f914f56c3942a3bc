"""calcspec: Raman/FTIR spectra of breast microcalcifications from Python.

numpy-first bindings of libcalcspec (ctypes; arrays are passed by buffer,
never converted element by element):

    import calcspec
    for s in calcspec.read("scan.spc"):          # vendor files, "-" = stdin
        print(s.x.shape, s.technique, s.meta.get("core_id"))
    m = calcspec.Model(technique="raman")        # the built-in model
    m.classes                                    # ('oxalate', ...)
    P = m.predict_proba(x, Y)                    # Y (n, points) -> (n, classes)
    labels = m.predict(x, Y)                     # ('hydroxyapatite', ...)
    d = m.analyse(x, y)                          # dict: README "JSON results"
    xb, yb = calcspec.preprocess(x, y, baseline={"method": "arpls", "lam": 1e5})
    base, params = calcspec.arpls(y, lam=1e5)    # pybaselines' names

Every error is a calcspec.Error (.status is the library's cs_status);
missing files raise calcspec.FileNotFoundError (also a builtin
FileNotFoundError, with the path), bad arguments calcspec.InvalidArgument
(also a ValueError).  numpy (Debian python3-numpy) is needed for read,
Model.predict*, preprocess and the baselines; classify/classify_file and
the pictures work without it.  The library is found through
$CALCSPEC_LIB, the LIBDIR recorded by `make install`, then the system
loader ("libcalcspec.so.0").  Models are safe to share between threads.
"""
import builtins
import contextlib
import ctypes
import errno as _errno
import json
import math
import os

_LIBDIR = None  # set by `make install`
_BINDIR = None  # set by `make install`

try:
    import numpy as _np
except ImportError:  # the plain functions still work
    _np = None

__all__ = ["Error", "FileNotFoundError", "InvalidArgument", "Spectrum",
           "Model", "read", "write", "preprocess", "baseline", "asls", "arpls",
           "airpls", "modpoly", "imodpoly", "snip", "classify",
           "classify_file", "version", "plot", "report", "map"]

_AXES = {"raman_shift": 1, "wavenumber": 2, "wavelength_nm": 3}
_AXIS_NAMES = {0: "unknown", 1: "raman_shift", 2: "wavenumber",
               3: "wavelength_nm", 4: "pixel"}
_TECH = {"raman": 1, "ftir": 2}
_TECH_NAMES = {0: "unknown", 1: "raman", 2: "ftir"}
_QUANTITY = {"raman": 1, "ftir": 3}  # counts, absorbance
_CS_ERR_IO, _CS_ERR_ARG = 2, 6
_MAX_CLASSES, _NAME_MAX = 16, 32


class Error(Exception):
    """A libcalcspec failure: .status is the cs_status code (-1 for the
    calcspec command's failures, whose exit code is .status there)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class FileNotFoundError(Error, builtins.FileNotFoundError):
    """A file that does not exist; .filename is its path."""

    def __init__(self, path, message=None):
        builtins.FileNotFoundError.__init__(
            self, _errno.ENOENT, message or "no such file", os.fspath(path))
        self.status = _CS_ERR_IO

    def __str__(self):
        return "%s: %s" % (self.filename, self.strerror)


class InvalidArgument(Error, ValueError):
    """An argument the library or the wrapper refuses."""


class _CsError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("msg", ctypes.c_char * 512)]


# The head of cs_report (include/calcspec.h), read in place: predict_proba
# takes the posteriors from here instead of going through JSON.
class _Result(ctypes.Structure):
    _fields_ = [("label", ctypes.c_char * _NAME_MAX),
                ("best", ctypes.c_char * _NAME_MAX),
                ("subtype", ctypes.c_char * 8),
                ("nclass", ctypes.c_size_t),
                ("posterior", ctypes.c_double * _MAX_CLASSES),
                ("nnls", ctypes.c_double * _MAX_CLASSES),
                ("nnls_r2", ctypes.c_double),
                ("t2", ctypes.c_double), ("t2_limit", ctypes.c_double),
                ("q", ctypes.c_double), ("q_limit", ctypes.c_double),
                ("flags", ctypes.c_uint),
                ("reason", ctypes.c_char * 160)]


class _ReportHead(ctypes.Structure):
    _fields_ = [("classified", ctypes.c_int), ("technique", ctypes.c_int),
                ("result", _Result)]


class _BaselineOpts(ctypes.Structure):
    _fields_ = [("method", ctypes.c_int), ("lam", ctypes.c_double),
                ("p", ctypes.c_double), ("diff_order", ctypes.c_int),
                ("max_iter", ctypes.c_int), ("tol", ctypes.c_double),
                ("poly_order", ctypes.c_int), ("max_half_window", ctypes.c_int),
                ("num_std", ctypes.c_double), ("use_original", ctypes.c_int),
                ("mask_initial_peaks", ctypes.c_int),
                ("decreasing", ctypes.c_int),
                ("smooth_half_window", ctypes.c_int),
                ("filter_order", ctypes.c_int)]


class _ReportSource(ctypes.Structure):
    _fields_ = [("file", ctypes.c_char_p), ("index", ctypes.c_longlong),
                ("count", ctypes.c_longlong), ("core_id", ctypes.c_char_p)]


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
_V = ctypes.c_void_p  # a double array, passed as its buffer address
_E = ctypes.POINTER(_CsError)
_S = ctypes.c_size_t
_I = ctypes.c_int
for _name, _res, _args in [
    ("cs_version", ctypes.c_char_p, []),
    ("cs_report_size", _S, []),
    ("cs_model_default", _I, [_I, ctypes.POINTER(_P), _E]),
    ("cs_model_load", _I, [ctypes.c_char_p, ctypes.POINTER(_P), _E]),
    ("cs_model_free", None, [_P]),
    ("cs_model_prepare", _I, [_P, _E]),
    ("cs_model_technique", _I, [_P]),
    ("cs_model_class_count", _S, [_P]),
    ("cs_model_class_name", ctypes.c_char_p, [_P, _S]),
    ("cs_classify_arrays", _I, [_P, _V, _V, _S, _I, ctypes.c_double, _P, _P, _E]),
    ("cs_classify_spectrum", _I, [_P, _P, _P, _P, _E]),
    ("cs_report_json", _I, [_P, _P, ctypes.POINTER(_P), _E]),
    ("cs_report_json_source", _I,
     [_P, _P, ctypes.POINTER(_ReportSource), ctypes.POINTER(_P), _E]),
    ("cs_report_composition", _I, [_P, _P, _P, _E]),
    ("cs_free", None, [_P]),
    ("cs_dataset_read", _I, [ctypes.c_char_p, ctypes.c_char_p,
                             ctypes.POINTER(_P), _E]),
    ("cs_dataset_free", None, [_P]),
    ("cs_dataset_count", _S, [_P]),
    ("cs_dataset_get", _P, [_P, _S]),
    ("cs_spectrum_new", _I, [_V, _V, _S, _I, _I, ctypes.POINTER(_P), _E]),
    ("cs_spectrum_free", None, [_P]),
    ("cs_spectrum_n", _S, [_P]),
    ("cs_spectrum_x", _P, [_P]),
    ("cs_spectrum_y", _P, [_P]),
    ("cs_spectrum_axis", _I, [_P]),
    ("cs_spectrum_quantity", _I, [_P]),
    ("cs_spectrum_technique", _I, [_P]),
    ("cs_spectrum_set_axis", None, [_P, _I]),
    ("cs_spectrum_set_quantity", None, [_P, _I]),
    ("cs_spectrum_set_technique", None, [_P, _I]),
    ("cs_spectrum_laser_nm", ctypes.c_double, [_P]),
    ("cs_spectrum_set_laser_nm", None, [_P, ctypes.c_double]),
    ("cs_spectrum_source_index", _S, [_P]),
    ("cs_spectrum_sort", _I, [_P, _E]),
    ("cs_spectrum_meta", ctypes.c_char_p, [_P, ctypes.c_char_p]),
    ("cs_spectrum_set_meta", _I, [_P, ctypes.c_char_p, ctypes.c_char_p, _E]),
    ("cs_spectrum_meta_count", _S, [_P]),
    ("cs_spectrum_meta_at", None, [_P, _S, ctypes.POINTER(ctypes.c_char_p),
                                   ctypes.POINTER(ctypes.c_char_p)]),
    ("cs_quantity_name", ctypes.c_char_p, [_I]),
    ("cs_axis_from_name", _I, [ctypes.c_char_p, ctypes.POINTER(_I)]),
    ("cs_quantity_from_name", _I, [ctypes.c_char_p, ctypes.POINTER(_I)]),
    ("cs_technique_from_name", _I, [ctypes.c_char_p, ctypes.POINTER(_I)]),
    ("cs_writer_open", _I, [ctypes.c_char_p, ctypes.c_char_p,
                            ctypes.POINTER(_P), _E]),
    ("cs_writer_put", _I, [_P, _P, _E]),
    ("cs_writer_close", _I, [_P, _E]),
    ("cs_writer_abort", None, [_P]),
    ("cs_baseline_opts_parse", _I, [ctypes.c_char_p,
                                    ctypes.POINTER(_BaselineOpts), _E]),
    ("cs_baseline_fit", _I, [_V, _V, _S, ctypes.POINTER(_BaselineOpts), _V, _E]),
    ("cs_pipeline_new", _I, [ctypes.POINTER(_P), _E]),
    ("cs_pipeline_free", None, [_P]),
    ("cs_pipeline_set_step", _I, [_P, ctypes.c_char_p, ctypes.c_char_p, _E]),
    ("cs_pipeline_parse", _I, [ctypes.c_char_p, ctypes.POINTER(_P), _E]),
    ("cs_pipeline_max_points", _S, [_P, _P]),
    ("cs_pipeline_apply", _I, [_P, _P, ctypes.POINTER(_P), _V, _E]),
]:
    _f = getattr(_lib, _name)
    _f.restype = _res
    _f.argtypes = _args

_REPORT_SIZE = _lib.cs_report_size()
if ctypes.sizeof(_ReportHead) > _REPORT_SIZE:  # a header/library mismatch
    raise ImportError("libcalcspec's cs_report is smaller than this wrapper "
                      "expects: wrapper and library versions differ")


def version():
    """The library's version string, e.g. "0.7.0"."""
    return _lib.cs_version().decode()


def _raise(status, err, path=None):
    msg = err.msg.decode(errors="replace")
    if path is not None:
        msg = "%s: %s" % (os.fsdecode(path), msg)
    if status == _CS_ERR_ARG:
        raise InvalidArgument(status, msg)
    raise Error(status, msg)


def _check(status, err, path=None):
    if status:
        _raise(status, err, path)


def _c(s, what, path=False):
    """s as bytes for the library; a NUL inside is refused (C would read
    the string only up to it: "a\\0b" opened the file "a")."""
    b = os.fsencode(s) if path else (s if isinstance(s, bytes) else s.encode())
    if b"\0" in b:
        raise InvalidArgument(_CS_ERR_ARG, "%s %r holds a NUL byte" % (what, s))
    return b


def _need_numpy(what):
    if _np is None:
        raise Error(-1, "%s needs numpy (Debian: apt-get install "
                        "python3-numpy)" % what)


def _vec(v, what):
    """v as a contiguous float64 1-D array (no copy when it already is)."""
    a = _np.ascontiguousarray(v, dtype=_np.float64)
    if a.ndim != 1 or a.shape[0] == 0:
        raise InvalidArgument(_CS_ERR_ARG, "%s must be a non-empty 1-D array, "
                              "got shape %s" % (what, a.shape))
    return a


def _axis_code(axis):
    if axis not in _AXES:
        raise InvalidArgument(_CS_ERR_ARG, "axis must be one of %s, not %r"
                              % (", ".join(sorted(_AXES)), axis))
    return _AXES[axis]


class Spectrum:
    """One spectrum: x and y (numpy float64 arrays), meta (dict of the
    file's metadata), technique ("raman", "ftir", "unknown"), axis
    ("raman_shift", "wavenumber", "wavelength_nm", "pixel", "unknown"),
    quantity, laser_nm (None when unknown), file and index (position in
    the file).  preprocess() adds .baseline."""

    __slots__ = ("x", "y", "meta", "technique", "axis", "quantity",
                 "laser_nm", "file", "index", "baseline")

    def __init__(self, x, y, meta=None, technique="unknown", axis="unknown",
                 quantity="arbitrary", laser_nm=None, file=None, index=0):
        self.x, self.y = x, y
        self.meta = dict(meta or {})
        self.technique, self.axis, self.quantity = technique, axis, quantity
        self.laser_nm, self.file, self.index = laser_nm, file, index
        self.baseline = None

    def __len__(self):
        return len(self.x)

    def __repr__(self):
        return "<calcspec.Spectrum %s %s %d points%s>" % (
            self.technique, self.axis, len(self.x),
            " from %s[%d]" % (self.file, self.index) if self.file else "")


def _from_handle(s, file=None):
    n = _lib.cs_spectrum_n(s)
    x = _np.ctypeslib.as_array(ctypes.cast(_lib.cs_spectrum_x(s),
                               ctypes.POINTER(ctypes.c_double)), (n,)).copy()
    y = _np.ctypeslib.as_array(ctypes.cast(_lib.cs_spectrum_y(s),
                               ctypes.POINTER(ctypes.c_double)), (n,)).copy()
    meta = {}
    k, v = ctypes.c_char_p(), ctypes.c_char_p()
    for i in range(_lib.cs_spectrum_meta_count(s)):
        _lib.cs_spectrum_meta_at(s, i, ctypes.byref(k), ctypes.byref(v))
        meta[k.value.decode(errors="replace")] = v.value.decode(errors="replace")
    laser = _lib.cs_spectrum_laser_nm(s)
    return Spectrum(x, y, meta, _TECH_NAMES.get(_lib.cs_spectrum_technique(s), "unknown"),
                    _AXIS_NAMES.get(_lib.cs_spectrum_axis(s), "unknown"),
                    _lib.cs_quantity_name(_lib.cs_spectrum_quantity(s)).decode(),
                    None if math.isnan(laser) else laser, file,
                    _lib.cs_spectrum_source_index(s))


def _override(sp, technique, axis, path):
    """--technique/--axis of the command line: fill in what the file does
    not say; a file that says otherwise is an error."""
    if technique is not None:
        if technique not in _TECH:
            raise InvalidArgument(_CS_ERR_ARG, "technique must be 'raman' "
                                  "or 'ftir', not %r" % (technique,))
        if sp.technique not in ("unknown", technique):
            raise Error(_CS_ERR_ARG, "%s: the file says %s, not %s"
                        % (path, sp.technique, technique))
    if axis is not None:
        _axis_code(axis)
        if sp.axis not in ("unknown", "pixel", axis):
            raise Error(_CS_ERR_ARG, "%s: the file's axis is %s, not %s"
                        % (path, sp.axis, axis))
        sp.axis = axis
        if sp.technique == "unknown":
            sp.technique = "ftir" if axis == "wavenumber" else "raman"
    if technique is not None:
        sp.technique = technique
        if sp.axis == "unknown":
            sp.axis = "wavenumber" if technique == "ftir" else "raman_shift"


@contextlib.contextmanager
def _open_dataset(path, format=None):
    """The cs_dataset handle of a file, freed on leaving the block; a missing
    file raises calcspec.FileNotFoundError, a bad one Error."""
    p = _c(path, "path", True)
    if not os.path.exists(p):
        raise FileNotFoundError(path)
    ds = _P()
    err = _CsError()
    _check(_lib.cs_dataset_read(p, _c(format, "format") if format else None,
                                ctypes.byref(ds), ctypes.byref(err)), err, path)
    try:
        yield ds
    finally:
        _lib.cs_dataset_free(ds)


def read(path, format=None, technique=None, axis=None):
    """Every spectrum of a file (any format `calcspec formats` lists; "-"
    is not supported here, pass a path) as a list of Spectrum.  technique
    ("raman"/"ftir") and axis ("raman_shift"/"wavelength_nm"/"wavenumber")
    apply where the file does not say (a headerless x y text file), as
    the command line's --technique/--axis; a file that says otherwise
    raises Error.  A missing file raises calcspec.FileNotFoundError."""
    _need_numpy("calcspec.read")
    with _open_dataset(path, format) as ds:
        out = [_from_handle(_lib.cs_dataset_get(ds, i), os.fsdecode(path))
               for i in range(_lib.cs_dataset_count(ds))]
    for sp in out:
        _override(sp, technique, axis, os.fsdecode(path))
    return out


def _code(fn, name, what):
    c = ctypes.c_int()
    if fn(str(name).encode(), ctypes.byref(c)) != 0:
        raise InvalidArgument(_CS_ERR_ARG, "unknown %s %r" % (what, name))
    return c.value


def _handle_of(sp, err):
    """A cs_spectrum handle holding Spectrum sp (caller frees)."""
    if not isinstance(sp, Spectrum):
        raise InvalidArgument(_CS_ERR_ARG, "write() takes calcspec.Spectrum "
                              "objects, not %s" % type(sp).__name__)
    x, y = _vec(sp.x, "x"), _vec(sp.y, "y")
    if len(x) != len(y):
        raise InvalidArgument(_CS_ERR_ARG, "x and y differ in length (%d, %d)"
                              % (len(x), len(y)))
    s = _P()
    _check(_lib.cs_spectrum_new(
        x.ctypes.data, y.ctypes.data, len(x),
        _code(_lib.cs_axis_from_name, sp.axis, "axis"),
        _code(_lib.cs_quantity_from_name, sp.quantity, "quantity"),
        ctypes.byref(s), ctypes.byref(err)), err)
    try:
        _lib.cs_spectrum_set_technique(
            s, _code(_lib.cs_technique_from_name, sp.technique, "technique"))
        if sp.laser_nm is not None:
            _lib.cs_spectrum_set_laser_nm(s, float(sp.laser_nm))
        for k, v in sp.meta.items():
            _check(_lib.cs_spectrum_set_meta(s, str(k).encode(),
                                             str(v).encode(), ctypes.byref(err)), err)
    except BaseException:
        _lib.cs_spectrum_free(s)
        raise
    return s


def write(path, spectra, format=None):
    """Write spectra (an iterable of Spectrum, e.g. read()'s, or a
    generator of them) to path in format ("animl", "jcamp", "csv"; None:
    by path's extension) one at a time (cs_writer): AnIML and JCAMP-DX keep
    one spectrum in memory, so a long acquisition can be written as it
    runs.  Nothing appears at path unless every spectrum was written; a
    failure raises Error (InvalidArgument for a bad Spectrum)."""
    _need_numpy("calcspec.write")
    w = _P()
    err = _CsError()
    _check(_lib.cs_writer_open(os.fsencode(path), format.encode() if format else None,
                               ctypes.byref(w), ctypes.byref(err)), err, path)
    try:
        for sp in spectra:
            s = _handle_of(sp, err)
            try:
                _check(_lib.cs_writer_put(w, s, ctypes.byref(err)), err, path)
            finally:
                _lib.cs_spectrum_free(s)
    except BaseException:
        _lib.cs_writer_abort(w)
        raise
    _check(_lib.cs_writer_close(w, ctypes.byref(err)), err, path)


def _new_spectrum(x, y, axis, technique, laser_nm, err):
    """A cs_spectrum handle for arrays x, y (caller frees)."""
    s = _P()
    t = technique or ("ftir" if axis == "wavenumber" else "raman")
    _check(_lib.cs_spectrum_new(x.ctypes.data, y.ctypes.data, len(x),
                                _axis_code(axis), _QUANTITY.get(t, 0),
                                ctypes.byref(s), ctypes.byref(err)), err)
    _lib.cs_spectrum_set_technique(s, _TECH.get(t, 0))
    if laser_nm is not None:
        _lib.cs_spectrum_set_laser_nm(s, float(laser_nm))
    st = _lib.cs_spectrum_sort(s, ctypes.byref(err))
    if st:
        _lib.cs_spectrum_free(s)
        _raise(st, err)
    return s


def _xy(x, y):
    """(x, y, axis, technique, laser_nm) from arrays or a Spectrum."""
    if isinstance(x, Spectrum):
        sp = x
        return (_vec(sp.x, "x"), _vec(sp.y, "y"), sp.axis,
                None if sp.technique == "unknown" else sp.technique, sp.laser_nm)
    return _vec(x, "x"), _vec(y, "y"), None, None, None


class Model:
    """A classifier.  Model(path) loads a file from `calcspec train`;
    Model(technique="raman"|"ftir") is the built-in model of that
    technique; Model() holds both and picks by the axis given to each call
    (axis= is then required: an FTIR spectrum is never scored by the
    Raman model by default).  Thread-safe."""

    def __init__(self, path=None, technique=None):
        self._h = {}
        err = _CsError()
        # Model("raman") / Model("ftir"): the signature before 0.2
        if path in _TECH and technique is None and not os.path.exists(path):
            path, technique = None, path
        if technique is not None and technique not in _TECH:
            raise InvalidArgument(_CS_ERR_ARG, "technique must be 'raman' or "
                                  "'ftir', not %r" % (technique,))
        if path is not None:
            p = _c(path, "path", True)
            if not os.path.exists(p):
                raise FileNotFoundError(path)
            h = _P()
            _check(_lib.cs_model_load(p, ctypes.byref(h), ctypes.byref(err)),
                   err, path)
            t = _TECH_NAMES[_lib.cs_model_technique(h)]
            self._h[t] = h
            if technique is not None and technique != t:
                raise InvalidArgument(_CS_ERR_ARG, "%s: a %s model, not %s"
                                      % (os.fsdecode(path), t, technique))
            self.technique = t
        else:
            for t in ([technique] if technique else ["raman", "ftir"]):
                h = _P()
                _check(_lib.cs_model_default(_TECH[t], ctypes.byref(h),
                                             ctypes.byref(err)), err)
                self._h[t] = h
            self.technique = technique
        names = {t: tuple(_lib.cs_model_class_name(h, i).decode()
                          for i in range(_lib.cs_model_class_count(h)))
                 for t, h in self._h.items()}
        self._classes = names

    def __del__(self):
        for h in getattr(self, "_h", {}).values():
            _lib.cs_model_free(h)
        self._h = {}

    def __repr__(self):
        return "<calcspec.Model %s %s>" % (self.technique or "raman+ftir",
                                           list(self.classes))

    def prepare(self):
        """Build now what the first classification would build (the
        detection tables, tens of ms per technique), for a server whose
        first request must be as fast as the others.  Optional; returns
        the model."""
        err = _CsError()
        for h in self._h.values():
            _check(_lib.cs_model_prepare(h, ctypes.byref(err)), err)
        return self

    @property
    def classes(self):
        """The class names in column order of predict_proba."""
        c = set(self._classes.values())
        if len(c) != 1:
            raise Error(_CS_ERR_ARG, "the Raman and FTIR models have "
                        "different classes: use Model(technique=...)")
        return next(iter(c))

    def _pick(self, axis, technique=None):
        """(model handle, technique, axis code) for a call."""
        if axis is None:
            t = technique or self.technique
            if t is None:
                raise InvalidArgument(_CS_ERR_ARG, "give axis= ('raman_shift', "
                                      "'wavelength_nm' or 'wavenumber'): this "
                                      "Model() holds both techniques")
            axis = "wavenumber" if t == "ftir" else "raman_shift"
        code = _axis_code(axis)
        t = "ftir" if axis == "wavenumber" else "raman"
        if t not in self._h:
            raise InvalidArgument(_CS_ERR_ARG, "axis %s is %s, but this is a "
                                  "%s model" % (axis, t, self.technique))
        return self._h[t], t, code

    def _rows(self, x, Y):
        x = _vec(x, "x")
        Y = _np.ascontiguousarray(Y, dtype=_np.float64)
        if Y.ndim == 1:
            Y = Y.reshape(1, -1)
        if Y.ndim != 2 or Y.shape[1] != x.shape[0]:
            raise InvalidArgument(_CS_ERR_ARG, "Y must be (points,) or "
                                  "(spectra, points) with points = len(x) = "
                                  "%d, got shape %s" % (x.shape[0], Y.shape))
        return x, Y

    def predict_proba(self, x, Y, axis=None, laser_nm=None):
        """Posterior probabilities, an ndarray (n_spectra, n_classes) in the
        order of .classes, for spectra Y (one per row, or one 1-D spectrum)
        on the common axis x.  A spectrum that cannot be classified (it
        misses the model window) gets a row of NaN."""
        _need_numpy("Model.predict_proba")
        h, t, code = self._pick(axis)
        x, Y = self._rows(x, Y)
        k = len(self._classes[t])
        out = _np.empty((Y.shape[0], k))
        rep = ctypes.create_string_buffer(_REPORT_SIZE)
        head = _ReportHead.from_buffer(rep)
        err = _CsError()
        laser = math.nan if laser_nm is None else float(laser_nm)
        n, xp, yp, step = x.shape[0], x.ctypes.data, Y.ctypes.data, Y.strides[0]
        f = _lib.cs_classify_arrays
        for i in range(Y.shape[0]):
            st = f(h, xp, yp + i * step, n, code, laser, None, rep, err)
            if st:
                _raise(st, err)
            out[i] = head.result.posterior[:k] if head.classified else math.nan
        return out

    def predict(self, x, Y, axis=None, laser_nm=None):
        """Class labels (an ndarray of str, one per spectrum), with the
        reject options: "unknown" when T2/Q or the posterior say the
        spectrum is none of the classes, or it misses the model window."""
        _need_numpy("Model.predict")
        h, t, code = self._pick(axis)
        x, Y = self._rows(x, Y)
        out = []
        rep = ctypes.create_string_buffer(_REPORT_SIZE)
        head = _ReportHead.from_buffer(rep)
        err = _CsError()
        laser = math.nan if laser_nm is None else float(laser_nm)
        n, xp, yp, step = x.shape[0], x.ctypes.data, Y.ctypes.data, Y.strides[0]
        for i in range(Y.shape[0]):
            st = _lib.cs_classify_arrays(h, xp, yp + i * step, n, code, laser,
                                         None, rep, err)
            if st:
                _raise(st, err)
            out.append(head.result.label.decode())
        return _np.array(out)

    def analyse(self, x, y=None, axis=None, laser_nm=None, composition=True):
        """Everything about one spectrum (arrays x, y, or a Spectrum) as a
        dict with the keys of `calcspec classify --json` (README "JSON
        results"): class, posterior, QC, detection and, with composition
        (default), the spectrum's composition (carbonate with interval and
        LOD, nu1, whitlockite index, COM fraction, protein/mineral;
        built-in SYNTHETIC calibration)."""
        _need_numpy("Model.analyse")
        x, y, sp_axis, sp_tech, sp_laser = _xy(x, y)
        if len(x) != len(y):
            raise InvalidArgument(_CS_ERR_ARG, "x has %d points, y %d"
                                  % (len(x), len(y)))
        h, t, code = self._pick(axis or sp_axis, sp_tech)
        src = None
        if isinstance(laser_nm, type(None)):
            laser_nm = sp_laser
        err = _CsError()
        axis_name = _AXIS_NAMES[code]
        s = _new_spectrum(x, y, axis_name, t, laser_nm, err)
        try:
            rep = ctypes.create_string_buffer(_REPORT_SIZE)
            _check(_lib.cs_classify_spectrum(h, s, None, rep, err), err)
            if composition and _ReportHead.from_buffer(rep).classified:
                _check(_lib.cs_report_composition(rep, s, None, err), err)
            return _report(rep, h, src)
        finally:
            _lib.cs_spectrum_free(s)


def _report(rep, h, src=None):
    out = _P()
    err = _CsError()
    _check(_lib.cs_report_json_source(rep, h, ctypes.byref(src) if src else None,
                                      ctypes.byref(out), ctypes.byref(err)), err)
    try:
        return json.loads(ctypes.string_at(out.value).decode())
    finally:
        _lib.cs_free(out)


# --- preprocessing -------------------------------------------------------

_BASELINE_KEYS = ("lam", "p", "diff_order", "max_iter", "tol", "poly_order",
                  "max_half_window", "num_std", "use_original",
                  "mask_initial_peaks", "decreasing", "smooth_half_window",
                  "filter_order")


def _baseline_spec(method, params):
    bad = [k for k in params if k not in _BASELINE_KEYS]
    if bad:
        raise InvalidArgument(_CS_ERR_ARG, "unknown baseline parameter %r "
                              "(known: %s)" % (bad[0], ", ".join(_BASELINE_KEYS)))
    kv = ["%s=%s" % (k, int(v) if isinstance(v, bool) else repr(float(v))
                     if isinstance(v, float) else v)
          for k, v in params.items() if v is not None]
    return method + (":" + ",".join(kv) if kv else "")


def _as_spec(step, v):
    """A pipeline step given as text, a dict (baseline: {"method": ...,
    pybaselines keys}) or a tuple (crop/resample bounds)."""
    if isinstance(v, str):
        return v
    if step == "baseline" and isinstance(v, dict):
        d = dict(v)
        if "method" not in d:
            raise InvalidArgument(_CS_ERR_ARG, "baseline dict needs 'method'")
        return _baseline_spec(d.pop("method"), d)
    if isinstance(v, (tuple, list)):
        return ":".join(repr(float(a)) if isinstance(a, float) else str(a)
                        for a in v)
    raise InvalidArgument(_CS_ERR_ARG, "%s: give a spec string such as the "
                          "command line's, not %r" % (step, v))


def preprocess(x, y=None, axis=None, laser_nm=None, crop=None, spikes=None,
               baseline=None, smooth=None, normalise=None, resample=None,
               pipeline=None):
    """Run the preprocessing chain of `calcspec preprocess` on one spectrum
    (arrays x, y on `axis`, default raman_shift; or a Spectrum) and return
    a Spectrum with .baseline (the estimated baseline on the output axis).
    Steps run in the fixed order crop, spikes, baseline, smooth,
    normalise, resample; each takes the command line's spec text, e.g.
    crop=(400, 1800), spikes="auto", baseline="arpls:lam=1e5" or
    baseline={"method": "arpls", "lam": 1e5} (pybaselines' parameter
    names), smooth="sg:11:3", normalise="vector", resample=(400, 1800, 1).
    pipeline: the text of a pipeline file (or a model's pipeline)."""
    _need_numpy("calcspec.preprocess")
    x, y, sp_axis, sp_tech, sp_laser = _xy(x, y)
    if len(x) != len(y):
        raise InvalidArgument(_CS_ERR_ARG, "x has %d points, y %d"
                              % (len(x), len(y)))
    axis = axis or (sp_axis if sp_axis not in (None, "unknown") else "raman_shift")
    err = _CsError()
    p = _P()
    if pipeline is not None:
        _check(_lib.cs_pipeline_parse(_c(pipeline, "pipeline"), ctypes.byref(p),
                                      ctypes.byref(err)), err)
    else:
        _check(_lib.cs_pipeline_new(ctypes.byref(p), ctypes.byref(err)), err)
    s = out = _P()
    try:
        for name, v in (("crop", crop), ("spikes", spikes),
                        ("baseline", baseline), ("smooth", smooth),
                        ("normalise", normalise), ("resample", resample)):
            if v is not None:
                _check(_lib.cs_pipeline_set_step(p, name.encode(),
                                                 _c(_as_spec(name, v), name),
                                                 ctypes.byref(err)), err)
        s = _new_spectrum(x, y, axis, sp_tech,
                          laser_nm if laser_nm is not None else sp_laser, err)
        base = _np.zeros(max(_lib.cs_pipeline_max_points(p, s), 1))
        out = _P()
        _check(_lib.cs_pipeline_apply(p, s, ctypes.byref(out), base.ctypes.data,
                                      ctypes.byref(err)), err)
        r = _from_handle(out)
        r.baseline = base[:len(r.x)].copy()
        return r
    finally:
        _lib.cs_spectrum_free(out)
        _lib.cs_spectrum_free(s)
        _lib.cs_pipeline_free(p)


def baseline(data, method="arpls", x_data=None, **params):
    """The baseline of data (1-D) by `method` ("asls", "arpls", "airpls",
    "modpoly", "imodpoly", "snip") with pybaselines' parameter names and
    defaults (lam, p, diff_order, max_iter, tol, poly_order, num_std,
    use_original, mask_initial_peaks, max_half_window, decreasing,
    smooth_half_window, filter_order).  Returns (baseline, params) as
    pybaselines does; params["method"] is the canonical spec."""
    _need_numpy("calcspec.baseline")
    y = _vec(data, "data")
    x = None
    if x_data is not None:
        x = _vec(x_data, "x_data")
        if len(x) != len(y):
            raise InvalidArgument(_CS_ERR_ARG, "x_data has %d points, data %d"
                                  % (len(x), len(y)))
    spec = _baseline_spec(method, params)
    o = _BaselineOpts()
    err = _CsError()
    _check(_lib.cs_baseline_opts_parse(_c(spec, "baseline"), ctypes.byref(o),
                                       ctypes.byref(err)), err)
    out = _np.empty_like(y)
    _check(_lib.cs_baseline_fit(x.ctypes.data if x is not None else None,
                                y.ctypes.data, len(y), ctypes.byref(o),
                                out.ctypes.data, ctypes.byref(err)), err)
    return out, {"method": spec}


def _method(name):
    def f(data, x_data=None, **params):
        return baseline(data, name, x_data=x_data, **params)
    f.__name__ = name
    f.__doc__ = ("pybaselines-style %s: %s(data, x_data=None, **params) -> "
                 "(baseline, params); see calcspec.baseline." % (name, name))
    return f


asls, arpls, airpls = _method("asls"), _method("arpls"), _method("airpls")
modpoly, imodpoly, snip = _method("modpoly"), _method("imodpoly"), _method("snip")


# --- the interface before 0.2 (dicts; no numpy needed) ---------------------

def _buffers(x, y):
    """x, y as double buffers (numpy arrays when numpy is there, else
    array('d'), which converts in C)."""
    if _np is not None:
        x, y = _vec(x, "x"), _vec(y, "y")
        n = len(x)
        if n != len(y):
            raise InvalidArgument(_CS_ERR_ARG, "x has %d points, y %d" % (n, len(y)))
        return x, y, n, x.ctypes.data, y.ctypes.data
    import array
    xa, ya = array.array("d", x), array.array("d", y)
    n = len(xa)
    if n != len(ya) or n == 0:
        raise InvalidArgument(_CS_ERR_ARG, "x has %d points, y %d" % (n, len(ya)))
    return xa, ya, n, xa.buffer_info()[0], ya.buffer_info()[0]


_default_models = {}


def _default(technique):
    if technique not in _default_models:
        _default_models[technique] = Model(technique=technique)
    return _default_models[technique]


def _handle(model, technique):
    if model is None:
        model = _default(technique)
    elif not isinstance(model, Model):
        model = Model(path=model)
    if technique not in model._h:
        raise InvalidArgument(_CS_ERR_ARG, "a %s spectrum, but this is a %s "
                              "model" % (technique, model.technique))
    return model._h[technique]


def classify(x, y, axis="raman_shift", laser_nm=None, model=None,
             composition=False):
    """Classify one spectrum given as two sequences of numbers (or numpy
    arrays) on `axis`: "raman_shift" (cm^-1, the default), "wavelength_nm"
    (needs laser_nm) or "wavenumber" (FTIR absorbance).  model: a Model, a
    model file path, or None for the built-in model of the axis's
    technique.  Returns the dict of `calcspec classify --json` (README
    "JSON results"); composition=True fills "composition" (else None, and
    None for a spectrum that was not classified, as in classify --json)."""
    code = _axis_code(axis)
    t = "ftir" if axis == "wavenumber" else "raman"
    h = _handle(model, t)
    xa, ya, n, xp, yp = _buffers(x, y)
    laser = math.nan if laser_nm is None else float(laser_nm)
    rep = ctypes.create_string_buffer(_REPORT_SIZE)
    err = _CsError()
    if not composition:
        _check(_lib.cs_classify_arrays(h, xp, yp, n, code, laser, None, rep,
                                       ctypes.byref(err)), err)
        return _report(rep, h)
    s = _P()
    _check(_lib.cs_spectrum_new(xp, yp, n, code, _QUANTITY[t], ctypes.byref(s),
                                ctypes.byref(err)), err)
    try:
        _lib.cs_spectrum_set_technique(s, _TECH[t])
        if not math.isnan(laser):
            _lib.cs_spectrum_set_laser_nm(s, laser)
        _check(_lib.cs_spectrum_sort(s, ctypes.byref(err)), err)
        _check(_lib.cs_classify_spectrum(h, s, None, rep, ctypes.byref(err)), err)
        # not classified: composition stays null, as in classify --json
        if _ReportHead.from_buffer(rep).classified:
            _check(_lib.cs_report_composition(rep, s, None, ctypes.byref(err)), err)
        return _report(rep, h)
    finally:
        _lib.cs_spectrum_free(s)


def classify_file(path, model=None, format=None, composition=False):
    """Classify every spectrum in a file: a list of dicts as classify(),
    with "file", "index", "count" and "core_id" filled in."""
    p = _c(path, "path", True)
    err = _CsError()
    with _open_dataset(path, format) as ds:
        out = []
        count = _lib.cs_dataset_count(ds)
        for i in range(count):
            s = _lib.cs_dataset_get(ds, i)
            ftir = (_lib.cs_spectrum_technique(s) == _TECH["ftir"] or
                    _lib.cs_spectrum_axis(s) == _AXES["wavenumber"])
            h = _handle(model, "ftir" if ftir else "raman")
            rep = ctypes.create_string_buffer(_REPORT_SIZE)
            _check(_lib.cs_classify_spectrum(h, s, None, rep,
                                             ctypes.byref(err)), err, path)
            if composition and _ReportHead.from_buffer(rep).classified:
                _check(_lib.cs_report_composition(rep, s, None,
                                                  ctypes.byref(err)), err, path)
            src = _ReportSource(p, i, count, _lib.cs_spectrum_meta(s, b"core_id"))
            out.append(_report(rep, h, src))
        return out


# --- pictures (README "Pictures: plot, report, map") ---------------------
# The drawing lives in the calcspec command (cairo), not in libcalcspec, so
# these run the command, found through $CALCSPEC, the bin directory recorded
# by `make install`, then PATH.  Long options only: they are stable.

def _command():
    if os.environ.get("CALCSPEC"):
        return os.environ["CALCSPEC"]
    if _BINDIR and os.path.exists(os.path.join(_BINDIR, "calcspec")):
        return os.path.join(_BINDIR, "calcspec")
    return "calcspec"


def _run(args):
    import subprocess
    for a in args:  # subprocess says only "embedded null byte", a ValueError
        _c(a if isinstance(a, (str, bytes, os.PathLike)) else str(a), "argument", True)
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
    args = ["plot", path, "--index", int(index), "--output", out]
    if model:
        args += ["--model", model]
    if calibration:
        args += ["--calibration", calibration]
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
    """Write the biopsy report for files or folders `paths` (a path or a
    list), as `calcspec report`: a PDF, or one self-contained HTML file when
    `out` ends in .html.  Raises Error when a spectrum fails (the report is
    still written for the rest, as the command does)."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    args = ["report", "--output", out]
    if findings:
        args += ["--findings", findings]
    if model:
        args += ["--model", model]
    if calibration:
        args += ["--calibration", calibration]
    if title:
        args += ["--title", title]
    _run(args + list(paths))


def map(path, out, value=None, table=None, model=None, calibration=None):
    """Draw a map or line scan as an image of classes, or of `value`
    ("carbonate", "intensity", "p_hydroxyapatite", ...), as `calcspec map`;
    table = a TSV path for one row per pixel."""
    args = ["map", path, "--output", out]
    if value:
        args += ["--value", value]
    if table:
        args += ["--table", table]
    if model:
        args += ["--model", model]
    if calibration:
        args += ["--calibration", calibration]
    _run(args)
