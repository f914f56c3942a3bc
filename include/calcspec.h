/*
 * calcspec.h: the one public header of libcalcspec.
 *
 * calcspec reads Raman and FTIR spectra of breast microcalcifications from
 * the files spectrometers write and says what the calcification is made of.
 * This header is the manual: it is ordered by pipeline stage and every
 * function says who owns what.
 *
 * Conventions used throughout:
 *  - Every fallible function returns a cs_status; results leave through
 *    pointer arguments.  The last argument `cs_error *err` may be NULL; when
 *    given, it receives the code and a one-line, lowercase message.
 *  - `*_new`, `*_read`, `*_copy`, `*_load`, `*_train` return objects the
 *    caller owns through `*out`; free them with the matching `*_free`
 *    (cs_spectrum_free, cs_dataset_free, cs_pipeline_free, cs_smoother_free,
 *    cs_model_free), which accepts NULL.  On failure `*out` is set to NULL
 *    and there is nothing to free.
 *  - Plain memory the library allocates for the caller (strings and arrays:
 *    cs_pipeline_format, cs_report_json, cs_calibration_format,
 *    cs_findings_parse) is released with cs_free(), which accepts NULL.
 *    This is the one way: a binding or a program linked against another C
 *    runtime must not pass it to its own free().
 *  - Getters returning `const T *` borrow: the pointer stays valid until the
 *    owner is freed or changed.
 *  - The library never prints, exits or aborts, and keeps no pointer to a
 *    caller's input.
 *  - Unknown numeric metadata is NaN; results never contain NaN or Inf.
 *  - "bands.md §N" cites src/bands.md in the source tree: the band
 *    positions, widths, calibrations and instrument facts the library
 *    assumes, with their literature references.
 */
#ifndef CALCSPEC_H
#define CALCSPEC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(CS_STATIC)
#define CS_EXPORT __attribute__((visibility("default")))
#else
#define CS_EXPORT
#endif

/** ## Version */

#define CS_VERSION_MAJOR 0
#define CS_VERSION_MINOR 7
#define CS_VERSION_PATCH 0
#define CS_VERSION "0.7.0"

/** The library's version string ("MAJOR.MINOR.PATCH"); static, never NULL.
 * Compare with CS_VERSION to detect a header/library mismatch. */
CS_EXPORT const char *cs_version(void);

/** ## Numbers in text */

/** Read p[0..n) (not NUL-terminated; no leading or trailing blanks) as one
 * decimal number, C locale whatever the process locale, giving exactly the
 * double that strtod gives (bit for bit, sign of zero included), mostly
 * without calling it.  0 and *out set on success; -1 (*out untouched) when
 * the text is not entirely a number or its value is not finite (overflow,
 * inf, nan).  Underflow to a subnormal or zero is a value, as with strtod.
 * Thread-safe; allocates only for text over 127 bytes (-1 if that fails). */
CS_EXPORT int cs_parse_number(const char *p, size_t n, double *out);

/** ## Errors
 *
 * Codes are stable across the 0.x/1.x series: new codes are only appended.
 */
typedef enum cs_status {
  CS_OK = 0,
  CS_ERR_NOMEM,          /* out of memory */
  CS_ERR_IO,             /* cannot open, read or write a file */
  CS_ERR_FORMAT_UNKNOWN, /* no reader recognises the file */
  CS_ERR_MALFORMED,      /* the file claims a format but breaks it */
  CS_ERR_UNSUPPORTED,    /* valid input that calcspec does not handle */
  CS_ERR_ARG,            /* invalid argument or option */
  CS_ERR_DIM,            /* array sizes or axes do not fit together */
  CS_ERR_RANGE,          /* a spectrum does not cover the requested range */
  CS_ERR_NUMERIC,        /* a numerical method failed (singular, no convergence) */
  CS_ERR_MODEL,          /* a model file is invalid or does not fit the data */
  CS_ERR__COUNT
} cs_status;

#define CS_ERROR_MSG_MAX 512

/** Optional error detail.  Caller-allocated (usually on the stack). */
typedef struct cs_error {
  cs_status code;
  char msg[CS_ERROR_MSG_MAX];
} cs_error;

/** Short static description of a status code; never NULL (unknown codes get
 * "unknown error"). */
CS_EXPORT const char *cs_strerror(cs_status code);

/** Set `err->code = CS_OK` and clear the message.  `err` may be NULL. */
CS_EXPORT void cs_error_clear(cs_error *err);

/** Copy `in` (NUL-terminated; NULL reads as "") into out[cap] as one
 * printable line: newline, CR, tab and ESC become the two-character escapes
 * \n \r \t \e, other control characters (C0, DEL) and bytes that are not
 * UTF-8 become \xNN, C1 controls written in UTF-8 \uNNNN; everything else
 * is copied.  Cut at a character boundary to fit; always NUL-terminated
 * when cap > 0.  Returns the length written.  Every message the library
 * puts in a cs_error has passed through it, and the calcspec tool prints
 * every message through it, so a file cannot break a log line or send
 * escape sequences to a terminal. */
CS_EXPORT size_t cs_escape_message(const char *in, char *out, size_t cap);

/** Log hook for progress and diagnostics.  The library is silent unless a
 * function is installed.  `level`: 0 = info, 1 = debug.  Process-wide; set it
 * once before starting threads.  Pass NULL to silence again. */
typedef void (*cs_log_fn)(int level, const char *msg, void *user);
CS_EXPORT void cs_set_log_fn(cs_log_fn fn, void *user);

/** Progress hook for long library work: cs_model_train and
 * cs_model_crossval call it after each spectrum they preprocess (`what` =
 * "spectra") and cs_model_crossval after each fold ("folds"): `done` of
 * `total` units finished.  `what` is a static string.  Process-wide like
 * the log hook: set it once before starting threads; NULL silences.  With
 * cs_train_opts.threads > 1 it may be called from a library worker thread,
 * one call at a time (never two at once). */
typedef void (*cs_progress_fn)(const char *what, size_t done, size_t total,
                               void *user);
CS_EXPORT void cs_set_progress_fn(cs_progress_fn fn, void *user);

/** ## Spectra
 *
 * A cs_spectrum holds n points (x strictly monotonic after reading), what
 * the axis and the values mean, and metadata.  Opaque: use the accessors.
 */
typedef struct cs_spectrum cs_spectrum;

typedef enum cs_axis {
  CS_AXIS_UNKNOWN = 0,
  CS_AXIS_RAMAN_SHIFT,   /* Raman shift, cm^-1 */
  CS_AXIS_WAVENUMBER,    /* absolute wavenumber, cm^-1 (FTIR) */
  CS_AXIS_WAVELENGTH_NM, /* wavelength, nm */
  CS_AXIS_PIXEL          /* detector pixel index */
} cs_axis;

typedef enum cs_quantity {
  CS_Q_ARBITRARY = 0,
  CS_Q_COUNTS,
  CS_Q_COUNTS_PER_S,
  CS_Q_ABSORBANCE,
  CS_Q_TRANSMITTANCE_PCT,
  CS_Q_REFLECTANCE
} cs_quantity;

typedef enum cs_technique {
  CS_TECH_UNKNOWN = 0,
  CS_TECH_RAMAN,
  CS_TECH_FTIR
} cs_technique;

/** Stable lowercase names ("raman_shift", "counts", "ftir", ...) used in
 * output, model files and calcspec's own AnIML; static, never NULL. */
CS_EXPORT const char *cs_axis_name(cs_axis a);
CS_EXPORT const char *cs_quantity_name(cs_quantity q);
CS_EXPORT const char *cs_technique_name(cs_technique t);
/** Inverse lookups: CS_OK and the value, or CS_ERR_ARG for an unknown name. */
CS_EXPORT cs_status cs_axis_from_name(const char *name, cs_axis *out);
CS_EXPORT cs_status cs_quantity_from_name(const char *name, cs_quantity *out);
CS_EXPORT cs_status cs_technique_from_name(const char *name, cs_technique *out);

/** Create a spectrum from n >= 1 points.  x and y are copied (the caller keeps
 * its arrays).  x need not be sorted; call cs_spectrum_sort() if needed.
 * Non-finite x or y gives CS_ERR_ARG.  The caller owns *out
 * (cs_spectrum_free). */
CS_EXPORT cs_status cs_spectrum_new(const double *x, const double *y, size_t n,
                                    cs_axis axis, cs_quantity quantity,
                                    cs_spectrum **out, cs_error *err);
/** Deep copy, metadata included.  The caller owns *out. */
CS_EXPORT cs_status cs_spectrum_copy(const cs_spectrum *s, cs_spectrum **out,
                                     cs_error *err);
/** Free a spectrum and everything it owns.  NULL is fine. */
CS_EXPORT void cs_spectrum_free(cs_spectrum *s);

/** Borrowed views of the data (valid until s is changed or freed). */
CS_EXPORT size_t cs_spectrum_n(const cs_spectrum *s);
CS_EXPORT const double *cs_spectrum_x(const cs_spectrum *s);
CS_EXPORT const double *cs_spectrum_y(const cs_spectrum *s);
/** Replace y in place with n new values (same length; copied). */
CS_EXPORT cs_status cs_spectrum_set_y(cs_spectrum *s, const double *y, size_t n,
                                      cs_error *err);

/** What the axis, the values and the technique are.  The setters only
 * relabel: no value is converted (cs_spectrum_to_raman_shift and
 * cs_spectrum_to_absorbance convert). */
CS_EXPORT cs_axis cs_spectrum_axis(const cs_spectrum *s);
CS_EXPORT cs_quantity cs_spectrum_quantity(const cs_spectrum *s);
CS_EXPORT cs_technique cs_spectrum_technique(const cs_spectrum *s);
CS_EXPORT void cs_spectrum_set_axis(cs_spectrum *s, cs_axis a);
CS_EXPORT void cs_spectrum_set_quantity(cs_spectrum *s, cs_quantity q);
CS_EXPORT void cs_spectrum_set_technique(cs_spectrum *s, cs_technique t);

/** Numeric metadata: excitation wavelength (nm), exposure per accumulation
 * (s), number of accumulations; NaN (or 0 for accumulations) when unknown.
 * The setters store the value as given (NaN or 0 marks it unknown). */
CS_EXPORT double cs_spectrum_laser_nm(const cs_spectrum *s);
CS_EXPORT double cs_spectrum_exposure_s(const cs_spectrum *s);
CS_EXPORT int cs_spectrum_accumulations(const cs_spectrum *s);
CS_EXPORT void cs_spectrum_set_laser_nm(cs_spectrum *s, double nm);
CS_EXPORT void cs_spectrum_set_exposure_s(cs_spectrum *s, double seconds);
CS_EXPORT void cs_spectrum_set_accumulations(cs_spectrum *s, int n);
/** Index of this spectrum within its source file (0-based). */
CS_EXPORT size_t cs_spectrum_source_index(const cs_spectrum *s);
CS_EXPORT void cs_spectrum_set_source_index(cs_spectrum *s, size_t index);

/** Text metadata is an ordered list of key/value pairs.  Well-known keys: */
#define CS_META_SAMPLE_ID "sample_id"
#define CS_META_CORE_ID "core_id"
#define CS_META_SPECTRUM_ID "spectrum_id"
#define CS_META_TITLE "title"
#define CS_META_INSTRUMENT "instrument"
#define CS_META_ACQUIRED "acquired"       /* acquisition time, as the file gives it */
#define CS_META_SOURCE_FILE "source_file" /* set by cs_dataset_read */
#define CS_META_FORMAT "format"           /* reader name, set by cs_dataset_read */
#define CS_META_POSITION "position_um"    /* map/line-scan stage position "x y" */

/** Value for `key`, or NULL when unset.  Borrowed. */
CS_EXPORT const char *cs_spectrum_meta(const cs_spectrum *s, const char *key);
/** Set (copying key and value) or, with value NULL, remove a key.  Keys are
 * non-empty and printable.  A non-empty core_id must pass cs_core_id_check
 * (CS_ERR_MALFORMED otherwise). */
CS_EXPORT cs_status cs_spectrum_set_meta(cs_spectrum *s, const char *key,
                                         const char *value, cs_error *err);
/** Iterate: number of pairs, and the i-th pair (borrowed). */
CS_EXPORT size_t cs_spectrum_meta_count(const cs_spectrum *s);
CS_EXPORT void cs_spectrum_meta_at(const cs_spectrum *s, size_t i,
                                   const char **key, const char **value);

/** ## Datasets
 *
 * A file may hold many spectra (maps, line scans, frames, multi-block files):
 * readers return a cs_dataset, an ordered list that owns its spectra.
 */
typedef struct cs_dataset cs_dataset;

/** An empty dataset into *out; CS_ERR_NOMEM when out of memory.  The caller
 * owns *out (cs_dataset_free). */
CS_EXPORT cs_status cs_dataset_new(cs_dataset **out, cs_error *err);
/** Free the dataset and every spectrum in it.  NULL is fine. */
CS_EXPORT void cs_dataset_free(cs_dataset *ds);
/** Number of spectra in the dataset. */
CS_EXPORT size_t cs_dataset_count(const cs_dataset *ds);
/** The i-th spectrum, borrowed (NULL when i is out of range).  The mutable
 * variant lets callers change it in place; the dataset still owns it. */
CS_EXPORT const cs_spectrum *cs_dataset_get(const cs_dataset *ds, size_t i);
CS_EXPORT cs_spectrum *cs_dataset_get_mut(cs_dataset *ds, size_t i);
/** Append s; the dataset takes ownership (also on failure, when s is
 * freed). */
CS_EXPORT cs_status cs_dataset_push(cs_dataset *ds, cs_spectrum *s,
                                    cs_error *err);
/** Detach the i-th spectrum; the caller owns the result, later spectra move
 * down by one.  NULL when i is out of range. */
CS_EXPORT cs_spectrum *cs_dataset_take(cs_dataset *ds, size_t i);

/** ## Axis operations
 *
 * All operate in place on one spectrum unless they return a new one.
 */

/** Sort points into ascending x (descending files become ascending).  Fails
 * with CS_ERR_MALFORMED when two points share an x value. */
CS_EXPORT cs_status cs_spectrum_sort(cs_spectrum *s, cs_error *err);

/** Convert a wavelength axis (nm) to Raman shift (cm^-1):
 *   shift = 1e7/laser_nm - 1e7/lambda_nm.
 * `laser_nm` overrides the spectrum's own laser when finite (pass NaN to use
 * the metadata).  CS_ERR_ARG when no laser wavelength is known; a Raman-shift
 * axis is left unchanged; other axes give CS_ERR_UNSUPPORTED.  The result is
 * sorted ascending. */
CS_EXPORT cs_status cs_spectrum_to_raman_shift(cs_spectrum *s, double laser_nm,
                                               cs_error *err);

/** Convert % transmittance to absorbance, A = 2 - log10(T%).  Points with
 * T <= 0 give CS_ERR_NUMERIC (absorbance undefined).  Absorbance input is
 * left unchanged; other quantities give CS_ERR_UNSUPPORTED. */
CS_EXPORT cs_status cs_spectrum_to_absorbance(cs_spectrum *s, cs_error *err);

/** Keep the points with lo <= x <= hi (x ascending required).  The spectrum
 * must cover [lo, hi] to within one point spacing, else CS_ERR_RANGE with both
 * ranges in the message. */
CS_EXPORT cs_status cs_spectrum_crop(cs_spectrum *s, double lo, double hi,
                                     cs_error *err);

typedef enum cs_interp {
  CS_INTERP_LINEAR = 0,
  CS_INTERP_CUBIC /* natural cubic spline */
} cs_interp;

/** Resample s onto the m ascending points `x_new` (copied), giving a new
 * spectrum with s's metadata.  Every x_new must lie inside s's range
 * (CS_ERR_RANGE otherwise; no extrapolation).  s must be ascending.  The
 * caller owns *out. */
CS_EXPORT cs_status cs_spectrum_resample(const cs_spectrum *s,
                                         const double *x_new, size_t m,
                                         cs_interp method, cs_spectrum **out,
                                         cs_error *err);

/** ## Reading and writing files
 *
 * Readers are chosen by an explicit format name, else by content (the first
 * 4 KiB), else by file extension; CS_ERR_FORMAT_UNKNOWN otherwise.  Error
 * messages describe the problem, not the path (the caller knows the path).
 */

/** Read every spectrum in `path`.  `format` is a reader name (see
 * cs_format_count) or NULL to detect.  Each spectrum gets CS_META_SOURCE_FILE,
 * CS_META_FORMAT and its source index.  The caller owns *out. */
CS_EXPORT cs_status cs_dataset_read(const char *path, const char *format,
                                    cs_dataset **out, cs_error *err);

/** ## Reading a file one spectrum at a time
 *
 * A cs_reader hands out the spectra of one file in file order, each with the
 * same data and metadata cs_dataset_read would give it.  Formats whose
 * reader streams (cs_reader_streaming: AnIML, text tables and maps, Renishaw
 * WDF, LabSpec 6 XML) hold a bounded part of the file at a time (one
 * experiment step, one block of 256 columns or one map row, one spectrum,
 * one matrix row), so memory stays flat
 * however large the file; every other format is read whole on open and
 * handed out one by one.
 *
 * A file that breaks its format part-way is reported by the cs_reader_next
 * call that reaches the break, after the spectra before it were handed out
 * (cs_dataset_read, built on this, still fails as a whole). */
typedef struct cs_reader cs_reader;

/** Options of cs_reader_open; NULL means all zero. */
typedef struct cs_reader_opts {
  int whole; /* nonzero: read the whole file on open even when the format
              * streams (the reference the streaming readers are tested
              * against) */
} cs_reader_opts;

/** Open `path` for reading spectrum by spectrum.  `format` is a reader name
 * or NULL to detect, as for cs_dataset_read.  Errors of detection, of the
 * file's header and, for formats read whole, of the whole file are reported
 * here.  The caller owns *rd (cs_reader_close). */
CS_EXPORT cs_status cs_reader_open(const char *path, const char *format,
                                   const cs_reader_opts *opts, cs_reader **rd,
                                   cs_error *err);

/** The next spectrum into *out, which the caller owns (cs_spectrum_free);
 * at the end of the file CS_OK with *out NULL.  A file without any spectrum
 * gives CS_ERR_MALFORMED on the first call.  After an error the reader is
 * spent: further calls repeat the error's code. */
CS_EXPORT cs_status cs_reader_next(cs_reader *rd, cs_spectrum **out,
                                   cs_error *err);

/** Name of the reader in use (static string, e.g. "animl"). */
CS_EXPORT const char *cs_reader_format(const cs_reader *rd);

/** 1 when rd streams (holds a bounded part of the file), 0 when the file
 * was read whole on open. */
CS_EXPORT int cs_reader_streaming(const cs_reader *rd);

/** The most spectra rd has held in memory at once so far (decoded and not
 * yet handed out): the whole file for a reader that does not stream, a
 * bound independent of the file's length for one that does. */
CS_EXPORT size_t cs_reader_peak_held(const cs_reader *rd);

/** The number of spectra in the file when it is known before the end (a
 * format read whole, a streaming format whose header says it), else 0. */
CS_EXPORT size_t cs_reader_count(const cs_reader *rd);

/** Close rd and free everything it holds; NULL is allowed.  Spectra already
 * handed out stay the caller's. */
CS_EXPORT void cs_reader_close(cs_reader *rd);

/** Write all spectra of ds to `path` in `format` ("animl", "jcamp", "csv"),
 * or, with format NULL, the format implied by the extension (.animl,
 * .jdx/.dx, .csv/.tsv/.txt).  The file is written to a temporary name and
 * renamed, so readers never see a half-written file. */
CS_EXPORT cs_status cs_dataset_write(const cs_dataset *ds, const char *path,
                                     const char *format, cs_error *err);

/** A file written spectrum by spectrum, for more spectra than fit in memory
 * (maps, `calcspec convert`).  AnIML and JCAMP-DX stream: each spectrum's
 * part of the file is written when it is put (to a scratch file beside
 * `path`, already unlinked), and the file is assembled by cs_writer_close
 * (their heads name every sample or the count of blocks), so memory stays
 * that of one spectrum; csv, whose rows hold every spectrum, keeps a copy
 * of each and writes at close.  The output is the same as cs_dataset_write
 * of the same spectra, and like it appears only when complete (temporary
 * name, renamed at close; an existing device or FIFO is written in
 * place). */
typedef struct cs_writer cs_writer;

/** Open `path` for writing in `format`, or the format of its extension
 * (format NULL), as cs_dataset_write.  The caller owns *w: cs_writer_close
 * or cs_writer_abort. */
CS_EXPORT cs_status cs_writer_open(const char *path, const char *format,
                                   cs_writer **w, cs_error *err);

/** Append s (still the caller's).  After a failed put the writer only
 * refuses: close writes nothing. */
CS_EXPORT cs_status cs_writer_put(cs_writer *w, const cs_spectrum *s,
                                  cs_error *err);

/** 1 when w writes as it goes (memory of one spectrum), 0 when it keeps
 * the spectra until close. */
CS_EXPORT int cs_writer_streaming(const cs_writer *w);

/** Finish the file and free w (also on failure, when nothing is left at
 * `path`).  No spectra put is an error. */
CS_EXPORT cs_status cs_writer_close(cs_writer *w, cs_error *err);

/** Free w and discard what was written; NULL is allowed. */
CS_EXPORT void cs_writer_abort(cs_writer *w);

/** Name of the reader that would be used for path (static string).  Same
 * resolution as cs_dataset_read with format NULL. */
CS_EXPORT cs_status cs_format_detect(const char *path, const char **name,
                                     cs_error *err);

/** Like cs_format_detect but by content only (no extension fallback):
 * CS_ERR_FORMAT_UNKNOWN when no reader recognises the bytes.  Directory
 * walks use it to pass over files that are not spectra. */
CS_EXPORT cs_status cs_format_sniff(const char *path, const char **name,
                                    cs_error *err);

/** Description of one file format (all strings static). */
typedef struct cs_format_info {
  const char *name;        /* e.g. "animl" */
  const char *extensions;  /* comma-separated, lowercase, e.g. "animl,xml" */
  const char *description; /* one line */
  int can_read;
  int can_write;
} cs_format_info;

/** Number of known formats, and the i-th (CS_ERR_ARG when out of range). */
CS_EXPORT size_t cs_format_count(void);
CS_EXPORT cs_status cs_format_get(size_t i, cs_format_info *out);

/** ## Preprocessing: baselines
 *
 * Baseline estimation with the algorithms and defaults of pybaselines 1.2.1
 * (outputs agree with it to 1e-6 relative on the peer test set).  The
 * baseline is returned, not subtracted: corrected = y - baseline.
 */
typedef enum cs_baseline_method {
  CS_BASELINE_NONE = 0, /* baseline = 0 */
  CS_BASELINE_ASLS,     /* asymmetric least squares (Eilers & Boelens 2005) */
  CS_BASELINE_ARPLS,    /* asymmetrically reweighted PLS (Baek 2015) */
  CS_BASELINE_AIRPLS,   /* adaptive iteratively reweighted PLS (Zhang 2010) */
  CS_BASELINE_MODPOLY,  /* modified polyfit (Lieber & Mahadevan-Jansen 2003) */
  CS_BASELINE_IMODPOLY, /* improved modified polyfit (Zhao 2007) */
  CS_BASELINE_SNIP      /* statistics-sensitive non-linear clipping */
} cs_baseline_method;

/** Options.  Plain data: start from cs_baseline_opts_default() and change
 * what you need; fields a method does not use are ignored. */
typedef struct cs_baseline_opts {
  cs_baseline_method method;
  double lam;      /* Whittaker smoothness (asls, arpls, airpls), 0..1e12 */
  double p;        /* asls asymmetry, 0 < p < 1 */
  int diff_order;  /* Whittaker difference order, 1..3 */
  int max_iter;    /* reweighting iterations, 0..10000 (modpoly counts fits) */
  double tol;      /* convergence tolerance, > 0 */
  int poly_order;  /* modpoly/imodpoly polynomial order, 0..20 */
  int max_half_window;   /* SNIP: largest half window, >= 1 (0 = auto) */
  double num_std;        /* imodpoly: standard deviations of the residual */
  int use_original;      /* modpoly/imodpoly: clip against original y */
  int mask_initial_peaks;/* modpoly/imodpoly: drop y > fit + std first */
  int decreasing;        /* SNIP: half window from large to small */
  int smooth_half_window;/* SNIP: moving-average half window, 0 = none */
  int filter_order;      /* SNIP: 2, 4, 6 or 8 */
} cs_baseline_opts;

/** Defaults of pybaselines 1.2.1 for method m (asls: lam 1e6, p 0.01; arpls:
 * lam 1e5; airpls: lam 1e6; all three diff_order 2, max_iter 50, tol 1e-3;
 * modpoly/imodpoly: poly_order 2, tol 1e-3, max_iter 250, imodpoly masks
 * initial peaks with num_std 1; snip: filter_order 2, increasing windows,
 * no smoothing, max_half_window auto). */
CS_EXPORT cs_baseline_opts cs_baseline_opts_default(cs_baseline_method m);

/** Check o for a spectrum of n points (n = 0: skip size checks).  CS_ERR_ARG
 * with a message naming the bad option. */
CS_EXPORT cs_status cs_baseline_opts_check(const cs_baseline_opts *o, size_t n,
                                           cs_error *err);

/** Parse "method[:key=value,...]", e.g. "arpls:lam=1e5,max_iter=50", into
 * *out (method defaults first, then the given keys; C-locale numbers).
 * Keys are the field names above.  CS_ERR_ARG for an unknown method or key,
 * a malformed number or a value the method rejects; *out is then unchanged.
 * Method names: cs_baseline_method_name(). */
CS_EXPORT cs_status cs_baseline_opts_parse(const char *spec,
                                           cs_baseline_opts *out,
                                           cs_error *err);

/** The i-th option key cs_baseline_opts_parse accepts ("lam", "p", ...;
 * static), NULL past the last: for listing them and for suggestions. */
CS_EXPORT const char *cs_baseline_key_name(size_t i);

/** Canonical text form of o that cs_baseline_opts_parse reads back to
 * identical opts: "method:key=value,..." with every field the method uses,
 * numbers as %.17g in the C locale.  Writes at most cap bytes including the
 * NUL into buf; CS_ERR_ARG when it does not fit. */
CS_EXPORT cs_status cs_baseline_opts_format(const cs_baseline_opts *o,
                                            char *buf, size_t cap,
                                            cs_error *err);

/** Stable lowercase method name ("asls", "arpls", ...; "none"); static,
 * NULL for an unknown value.  Inverse: CS_ERR_ARG for an unknown name. */
CS_EXPORT const char *cs_baseline_method_name(cs_baseline_method m);
CS_EXPORT cs_status cs_baseline_method_from_name(const char *name,
                                                 cs_baseline_method *out);

/** Estimate the baseline of y (n points; x ascending, or NULL for index
 * spacing 0..n-1 -- only the polynomial methods use x) into the caller's
 * baseline[n] (may not alias y).  Non-finite x or y gives CS_ERR_ARG, bad
 * options CS_ERR_ARG, a failed factorisation CS_ERR_NUMERIC; baseline is
 * then unspecified.  Reentrant: allocates its own workspace per call. */
CS_EXPORT cs_status cs_baseline_fit(const double *x, const double *y, size_t n,
                                    const cs_baseline_opts *o, double *baseline,
                                    cs_error *err);

/** Baselines of count spectra on one axis at once: y is count x n, row
 * major (spectrum k at y + k n); the caller owns baseline (same shape, may
 * not overlap y) and x (NULL or n points, shared by all).  Each row gets
 * what cs_baseline_fit gives for it (AsLS, arPLS and airPLS solve several
 * spectra per vector lane, equal to it within 1e-9 relative).  Returns
 * the first failing spectrum's status, its message prefixed "spectrum k: ";
 * the other rows are still fitted. */
CS_EXPORT cs_status cs_baseline_fit_batch(const double *x, const double *y,
                                          size_t n, size_t count,
                                          const cs_baseline_opts *o,
                                          double *baseline, cs_error *err);

/** ## Cosmic-spike removal
 *
 * Cosmic rays leave positive spikes 1-3 pixels wide (../shared/domain/
 * bands.md §4).  Single-spectrum removal follows Whitaker & Hayes (2018):
 * a point is suspect when the modified z-score of the first difference,
 *   z = 0.6745 (d - median(d)) / MAD(d),
 * exceeds `threshold` on a rise and again on a fall at most `max_width`
 * pixels later.  A shape test then keeps real bands: a spike's neighbours
 * sit on the local background, a band's neighbours carry its wings (more
 * than a quarter of the peak height).  Spike points are replaced by linear
 * interpolation between the nearest non-spike neighbours.
 */
typedef struct cs_spike_opts {
  double threshold; /* modified z-score of the first difference; default 6 */
  int max_width;    /* widest spike in pixels; default 3 */
} cs_spike_opts;

/** Defaults (threshold 6, max_width 3). */
CS_EXPORT cs_spike_opts cs_spike_opts_default(void);
/** Parse "auto" (defaults), "Z" or "Z:W" (threshold, max width).  CS_ERR_ARG
 * with a message on anything else. */
CS_EXPORT cs_status cs_spike_opts_parse(const char *spec, cs_spike_opts *out,
                                        cs_error *err);
/** Canonical text "Z:W" (%.17g) into buf (cap bytes, NUL-terminated);
 * CS_ERR_ARG when it does not fit. */
CS_EXPORT cs_status cs_spike_opts_format(const cs_spike_opts *o, char *buf,
                                         size_t cap, cs_error *err);

/** Remove spikes from y[0..n) in place.  `where` (n entries, may be NULL)
 * receives 1 for replaced points and 0 elsewhere; *nremoved (may be NULL)
 * the number of replaced points.  n < 5 leaves y unchanged. */
CS_EXPORT cs_status cs_spikes_remove(double *y, size_t n,
                                     const cs_spike_opts *o,
                                     unsigned char *where, size_t *nremoved,
                                     cs_error *err);

/** Same on a spectrum, recording the result in its metadata:
 * "spikes_removed" = number of replaced points and, when there are any,
 * "spike_x" = their x positions (space-separated, %.10g). */
CS_EXPORT cs_status cs_spectrum_remove_spikes(cs_spectrum *s,
                                              const cs_spike_opts *o,
                                              size_t *nremoved, cs_error *err);

/** Multi-frame removal for m >= 2 spectra of the same spot (frames or
 * accumulations) on the same x axis: a point is a spike when it exceeds the
 * median of the frames at that pixel by more than `o->threshold` robust
 * standard deviations (1.4826 MAD across frames, floored by the median of
 * that over all pixels); it is replaced by the median of the other frames.
 * `max_width` is not used.  Every frame gets "spikes_removed" (and
 * "spike_x") metadata.  Frames with different lengths or axes give
 * CS_ERR_DIM. */
CS_EXPORT cs_status cs_spikes_remove_frames(cs_spectrum *const *frames,
                                            size_t m, const cs_spike_opts *o,
                                            size_t *nremoved, cs_error *err);

/** ## Smoothing and derivatives
 *
 * Savitzky-Golay filters of any odd window and order (and their first and
 * second derivatives) and Gaussian smoothing, computed as FFT convolutions
 * with FFTW.  Savitzky-Golay edges follow scipy.signal.savgol_filter's
 * mode='interp': the first and last window/2 points come from the
 * polynomial fitted to the first and last window.  Gaussian smoothing uses
 * scipy.ndimage.gaussian_filter1d's kernel (truncated at 4 sigma) and its
 * default 'reflect' edges.  Both assume (near-)even x spacing; the mean
 * spacing converts sigma (x units) to pixels and scales derivatives.
 */
typedef enum cs_smooth_method {
  CS_SMOOTH_NONE = 0,
  CS_SMOOTH_SG,   /* Savitzky-Golay */
  CS_SMOOTH_GAUSS /* Gaussian */
} cs_smooth_method;

typedef struct cs_smooth_opts {
  cs_smooth_method method;
  int window; /* SG: odd number of points, 1..501; default 11 */
  int order;  /* SG: polynomial order, < window, <= 12; default 3 */
  int deriv;  /* SG: 0 smooth, 1 or 2 derivative (per x unit); <= order */
  double sigma; /* Gauss: standard deviation in x units (cm^-1); default 2 */
} cs_smooth_opts;

/** Defaults for method m (SG 11/3/0, Gauss sigma 2). */
CS_EXPORT cs_smooth_opts cs_smooth_opts_default(cs_smooth_method m);
/** Parse "none", "sg:W:O", "sg:W:O:D" or "gauss:SIGMA"; CS_ERR_ARG with a
 * message when invalid. */
CS_EXPORT cs_status cs_smooth_opts_parse(const char *spec, cs_smooth_opts *out,
                                         cs_error *err);
/** Canonical text ("sg:11:3", "sg:11:3:1", "gauss:2", "none") into buf. */
CS_EXPORT cs_status cs_smooth_opts_format(const cs_smooth_opts *o, char *buf,
                                          size_t cap, cs_error *err);

/** A smoother owns its FFTW plans, fftw_malloc buffers and filter
 * coefficients; plans are made once per signal length and reused.  One
 * smoother must not be used by two threads at once, but any number of
 * smoothers may run in parallel (plan creation is serialised inside the
 * library). */
typedef struct cs_smoother cs_smoother;

/** Check the options and build a smoother; the caller owns *out
 * (cs_smoother_free). */
CS_EXPORT cs_status cs_smoother_new(const cs_smooth_opts *o, cs_smoother **out,
                                    cs_error *err);
/** Free the smoother, its plans and buffers.  NULL is fine. */
CS_EXPORT void cs_smoother_free(cs_smoother *sm);
/** Smooth y[0..n) into out[0..n) (out may equal y).  x (may be NULL: unit
 * spacing) gives the spacing for sigma and derivatives.  SG needs n >=
 * window (CS_ERR_DIM); a Gaussian kernel wider than the spectrum gives
 * CS_ERR_ARG. */
CS_EXPORT cs_status cs_smoother_apply(cs_smoother *sm, const double *x,
                                      const double *y, size_t n, double *out,
                                      cs_error *err);

/** ## Normalisation
 *
 * Divides y by one positive number.  A zero, negative or non-finite norm
 * gives CS_ERR_NUMERIC (never NaN).
 */
typedef enum cs_norm_method {
  CS_NORM_NONE = 0,
  CS_NORM_VECTOR, /* Euclidean length sqrt(sum y^2) */
  CS_NORM_AREA,   /* trapezoid integral of y over x (must be > 0) */
  CS_NORM_MAX,    /* largest y (must be > 0) */
  CS_NORM_SNV,    /* (y - mean) / sample standard deviation */
  CS_NORM_BAND    /* area or height of one band above a local line */
} cs_norm_method;

typedef struct cs_norm_opts {
  cs_norm_method method;
  double band_x;     /* BAND: band centre (x units), e.g. 960 */
  double half_width; /* BAND: window band_x +- half_width; default 20 */
  int band_height;   /* BAND: 1 = peak height, 0 = area (default) */
} cs_norm_opts;

/** Defaults for method m (BAND: 960 +- 20, area). */
CS_EXPORT cs_norm_opts cs_norm_opts_default(cs_norm_method m);
/** Parse "none", "vector", "area", "max", "snv" or "band:C:W" with an
 * optional ":area" or ":height"; CS_ERR_ARG when invalid. */
CS_EXPORT cs_status cs_norm_opts_parse(const char *spec, cs_norm_opts *out,
                                       cs_error *err);
/** Canonical text ("vector", "band:960:20", "band:960:20:height"). */
CS_EXPORT cs_status cs_norm_opts_format(const cs_norm_opts *o, char *buf,
                                        size_t cap, cs_error *err);
/** Normalise y[0..n) in place (x ascending or descending; needed by AREA
 * and BAND).  For BAND the window [band_x - half_width, band_x +
 * half_width] must lie inside x (CS_ERR_RANGE) and hold >= 3 points; the
 * band sits on the straight line joining the (interpolated) y at the window
 * ends, and its height (largest y above that line) or area (trapezoid
 * integral above it) is the divisor.  SNV subtracts the mean first.
 * *factor (may be NULL) receives the divisor.  On error y is unchanged. */
CS_EXPORT cs_status cs_normalise(const double *x, double *y, size_t n,
                                 const cs_norm_opts *o, double *factor,
                                 cs_error *err);

/** ## Preprocessing pipeline
 *
 * A cs_pipeline is an ordered chain of at most one step of each kind, always
 * applied in this order:
 *
 *   crop -> spikes -> baseline -> smooth -> normalise -> resample
 *
 * Before the first step a wavelength axis (nm) is converted to Raman shift
 * (the spectrum's laser wavelength is needed) and % transmittance to
 * absorbance, and x is sorted ascending.  The chain has a canonical text
 * form, one step per line "NAME SPEC" with the same SPEC syntax as the CLI
 * options and numbers as %.17g in the C locale:
 *
 *   crop 700:1800
 *   spikes 6:3
 *   baseline arpls:lam=100000,...
 *   smooth sg:11:3
 *   normalise band:960:20
 *   resample 700:1800:1            (or resample axis:X1,X2,...; ":cubic"
 *                                   may follow either)
 *
 * cs_pipeline_parse(cs_pipeline_format(p)) gives an identical pipeline, so a
 * model can record exactly how its training spectra were processed and
 * process new spectra the same way.  When a resample step follows, crop
 * keeps the nearest point beyond each end so the resampled axis can reach
 * A and B without extrapolation.
 */
typedef struct cs_pipeline cs_pipeline;

/** An empty pipeline (applying it only converts and sorts).  The caller owns
 * *out (cs_pipeline_free). */
CS_EXPORT cs_status cs_pipeline_new(cs_pipeline **out, cs_error *err);
/** Free the pipeline and the smoother it owns.  NULL is fine. */
CS_EXPORT void cs_pipeline_free(cs_pipeline *p);

/** Set (replace) or, with a NULL options pointer, remove one step.  Options
 * are copied and checked (CS_ERR_ARG). */
CS_EXPORT cs_status cs_pipeline_set_crop(cs_pipeline *p, double lo, double hi,
                                         cs_error *err);
CS_EXPORT cs_status cs_pipeline_set_spikes(cs_pipeline *p,
                                           const cs_spike_opts *o,
                                           cs_error *err);
CS_EXPORT cs_status cs_pipeline_set_baseline(cs_pipeline *p,
                                             const cs_baseline_opts *o,
                                             cs_error *err);
CS_EXPORT cs_status cs_pipeline_set_smooth(cs_pipeline *p,
                                           const cs_smooth_opts *o,
                                           cs_error *err);
CS_EXPORT cs_status cs_pipeline_set_normalise(cs_pipeline *p,
                                              const cs_norm_opts *o,
                                              cs_error *err);
/** Limits on every numeric parameter (CS_ERR_ARG beyond them, so that no
 * pipeline text can ask for minutes of work or gigabytes): crop, band and
 * resample bounds finite; spikes threshold > 0, width 1..64; baseline lam
 * (0, 1e12], p (0, 1), diff_order 1..3, max_iter 0..10000, poly_order
 * 0..20, tol and num_std finite >= 0, filter_order 2/4/6/8; SG window odd
 * 1..501, order 0..12 and < window, deriv 0..2; Gaussian sigma > 0 and
 * at most the spectrum's span (checked when applied); resample at most
 * 1,000,000 points. */
/** Resample onto lo, lo + step, ... <= hi (the last point is hi when
 * (hi - lo) / step is whole to 1e-9). */
CS_EXPORT cs_status cs_pipeline_set_resample(cs_pipeline *p, double lo,
                                             double hi, double step,
                                             cs_interp method, cs_error *err);
/** Resample onto m strictly ascending points x (copied). */
CS_EXPORT cs_status cs_pipeline_set_axis(cs_pipeline *p, const double *x,
                                         size_t m, cs_interp method,
                                         cs_error *err);
/** Remove every step. */
CS_EXPORT void cs_pipeline_clear(cs_pipeline *p);
/** Set one step from its text: name "crop", "spikes", "baseline", "smooth",
 * "normalise" or "resample" and the SPEC of the step line.  "off" (or
 * "none") as SPEC removes the step. */
CS_EXPORT cs_status cs_pipeline_set_step(cs_pipeline *p, const char *name,
                                         const char *spec, cs_error *err);

/** Canonical text (lines ending in '\n'; "" for an empty pipeline) into
 * *text, which the caller releases with cs_free(). */
CS_EXPORT cs_status cs_pipeline_format(const cs_pipeline *p, char **text,
                                       cs_error *err);
/** Parse canonical text (steps in the order above, each at most once;
 * blank lines ignored).  CS_ERR_ARG naming the line on any error.  The
 * caller owns *out. */
CS_EXPORT cs_status cs_pipeline_parse(const char *text, cs_pipeline **out,
                                      cs_error *err);

/** Upper bound on the points cs_pipeline_apply can give for `in`: the size
 * to allocate for baseline_out. */
CS_EXPORT size_t cs_pipeline_max_points(const cs_pipeline *p,
                                        const cs_spectrum *in);

/** Apply the chain to a copy of `in` (unchanged); the caller owns *out.
 * The output carries in's metadata plus "preprocessing" (the canonical text
 * with "; " between steps) and, with a spikes step, "spikes_removed"; after
 * normalisation its quantity is "arbitrary".  baseline_out (may be NULL;
 * room for cs_pipeline_max_points values) receives the estimated baseline
 * on the output axis, divided by the same normalisation factor (zeros
 * without a baseline step).  Uses the pipeline's smoother: one pipeline per
 * thread. */
CS_EXPORT cs_status cs_pipeline_apply(cs_pipeline *p, const cs_spectrum *in,
                                      cs_spectrum **out, double *baseline_out,
                                      cs_error *err);

/** cs_pipeline_apply over count spectra at once: out[k], st[k] and (if
 * err is not NULL) err[k] are what cs_pipeline_apply gives for in[k]; the
 * caller owns each out[k].  baseline_out may be NULL, and so may any
 * baseline_out[k]; otherwise as in cs_pipeline_apply.  Spectra with the
 * same number of points after cropping share one cs_baseline_fit_batch
 * (several per vector lane): within 1e-9 relative of one by one.  Returns
 * CS_OK when every spectrum succeeded, else the first failure's status
 * (CS_ERR_ARG without touching anything for a NULL p, in, out or st). */
CS_EXPORT cs_status cs_pipeline_apply_batch(cs_pipeline *p,
                                            const cs_spectrum *const *in,
                                            size_t count, cs_spectrum **out,
                                            double *const *baseline_out,
                                            cs_status *st, cs_error *err);
/** ## Simulation
 *
 * A documented, seeded simulator of Raman and FTIR spectra of breast
 * calcifications and tissue (band tables from src/bands.md).
 * Output is identical on every machine for a given seed: the generator is
 * self-contained (splitmix64 + xoshiro256**), Raman counts are integers and
 * FTIR absorbances are rounded to 1e-6.  Every spectrum records its ground
 * truth in text metadata: truth.class, truth.subtype, truth.carbonate_wt,
 * truth.whitlockite_frac, truth.com_frac, truth.mineral_frac, truth.snr,
 * truth.seed, synthetic=yes (and more truth.* keys; "na" = not applicable).
 */
typedef enum cs_sim_class {
  CS_SIM_TISSUE = 0,     /* breast tissue only (class "tissue") */
  CS_SIM_COD,            /* weddellite-rich oxalate (class "oxalate") */
  CS_SIM_COM,            /* whewellite-rich oxalate (class "oxalate") */
  CS_SIM_HYDROXYAPATITE, /* carbonated HA (class "hydroxyapatite") */
  CS_SIM_WHITLOCKITE,    /* Mg-whitlockite (class "whitlockite") */
  CS_SIM_CALCITE,        /* calcite (class "calcite") */
  CS_SIM__COUNT
} cs_sim_class;

/** Generator names "tissue", "cod", "com", "hydroxyapatite", "whitlockite",
 * "calcite" (static, never NULL), and the inverse (also accepts "ha",
 * "oxalate" = cod); CS_ERR_ARG for an unknown name. */
CS_EXPORT const char *cs_sim_class_name(cs_sim_class c);
CS_EXPORT cs_status cs_sim_class_from_name(const char *name, cs_sim_class *out);

/** A parameter drawn uniformly from [lo, hi] for each simulated spot;
 * lo == hi fixes it. */
typedef struct cs_sim_range {
  double lo, hi;
} cs_sim_range;

/** Simulator options.  Plain data: start from cs_sim_opts_default(). */
typedef struct cs_sim_opts {
  cs_sim_class cls;
  cs_technique technique; /* CS_TECH_RAMAN or CS_TECH_FTIR */
  unsigned long long seed;
  int frames;             /* >= 1 frames of the same spot (photobleaching) */
  /* SNR = height of the strongest band above the background / noise sd at
   * that point (Raman: sqrt(S + F + read^2) in counts; FTIR: sd of the
   * absorbance noise).  {0, 0} = noiseless (no noise, no spikes; Raman
   * strongest band = 1000 counts). */
  cs_sim_range snr;
  cs_sim_range mineral_frac;     /* mineral share of the probed volume, 0..1 */
  cs_sim_range carbonate_wt;     /* apatite CO3, wt %, 0..15 */
  cs_sim_range com_frac;         /* COM mole fraction of the oxalate, 0..1 */
  cs_sim_range whitlockite_frac; /* whitlockite share of the phosphate, 0..1 */
  cs_sim_range instr_fwhm_cm1;   /* instrument line width (Gaussian FWHM) */
  cs_sim_range shift_cm1;        /* axis calibration error: offset */
  cs_sim_range stretch;          /* axis calibration error: relative scale */
  double band_jitter;            /* relative sd of band heights (0 = none) */
  cs_sim_range lorentz;          /* Lorentzian fraction of every band shape,
                                    0 (Gaussian)..1; {-1, -1} (default) =
                                    Thompson-Cox-Hastings from the widths */
  cs_sim_range width_scale;      /* factor on every band's own width (1) */
  cs_sim_range ha_nu1_cm1;       /* Raman nu1 PO4 of carbonate-free HA
                                    (962; carbonate lowers it) */
  cs_sim_range wht_nu1_cm1;      /* Raman main nu1 of whitlockite (965) */
  cs_sim_range wht_lower;        /* height of whitlockite's lower nu1
                                    component (951), share of the main (0.1) */
  cs_sim_range bio_apatite;      /* FTIR: share of the apatite PO4 bands from
                                    poorly crystalline bone-like apatite
                                    (sub-bands 1020-1145 cm^-1), 0..1 (0) */
  /* Raman only */
  double laser_nm;               /* excitation, e.g. 785 or 830 */
  int pixels;                    /* detector pixels, 16..8192 */
  double lo_cm1, hi_cm1;         /* Raman shift window of the detector */
  int wavelength_axis;           /* 1: x is the wavelength (nm) of each pixel */
  cs_sim_range fluor_ratio;      /* fluorescence / strongest Raman band, >= 0 */
  cs_sim_range bleach_keep;      /* fluorescence left after long exposure */
  cs_sim_range bleach_tau_s;     /* photobleaching time constant, s */
  cs_sim_range exposure_s;       /* per frame; drives spikes and bleaching */
  double read_noise;             /* detector read noise, counts rms */
  double spike_rate_per_min;     /* cosmic-ray events per minute (0 = none) */
  /* FTIR only: x runs lo_cm1..hi_cm1 (wavenumber) in steps of step_cm1 */
  double step_cm1;
  cs_sim_range peak_absorbance;  /* height of the strongest band */
  /* FTIR sampling: {0, 0} (default) transmission; > 0 diamond ATR, each
   * band pulled lower by up to this many cm^-1 in proportion to its
   * strength (anomalous dispersion, which also skews it) and the
   * absorbance weighted by the penetration depth, x 1000/nu */
  cs_sim_range atr_shift_cm1;
} cs_sim_opts;

/** Defaults for one class and technique (documented in README "Simulator"):
 * Raman 785 nm, 1024 px over 300..1900 cm^-1, SNR 30, mineral 100 %,
 * fluorescence 1..100x, instrument 4..10 cm^-1, shift -2..2 cm^-1, stretch
 * +-0.2 %; FTIR 800..1800 cm^-1 in 2 cm^-1 steps, 4 cm^-1 resolution. */
CS_EXPORT cs_sim_opts cs_sim_opts_default(cs_sim_class cls, cs_technique tech);

/** Check opts (ranges ordered and within bounds); CS_ERR_ARG with the
 * offending option named otherwise. */
CS_EXPORT cs_status cs_sim_opts_check(const cs_sim_opts *opts, cs_error *err);

/** Simulate one spot: a dataset of opts->frames spectra that share their
 * composition and differ in noise, spikes and (Raman) photobleaching.  The
 * same opts give the same output.  The caller owns *out (cs_dataset_free). */
CS_EXPORT cs_status cs_simulate(const cs_sim_opts *opts, cs_dataset **out,
                                cs_error *err);

/** ## Classification
 *
 * PCA + LDA on preprocessed spectra (see README "Classifier").  A cs_model
 * holds the preprocessing pipeline its training spectra went through, the
 * model axis, PCA mean/loadings, shrinkage-LDA discriminants, reject
 * thresholds (Hotelling T^2 and Q residual) and pure-component references
 * for an NNLS second opinion.  A model is immutable after training or
 * loading and may be shared by any number of threads.
 */
typedef struct cs_model cs_model;

#define CS_MAX_CLASSES 16
#define CS_CLASS_NAME_MAX 32
/** A class name a model can hold: 1..CS_CLASS_NAME_MAX-1 of A-Z a-z 0-9 _ -,
 * not "unknown" (the reject label).  CS_ERR_ARG saying which rule it breaks. */
CS_EXPORT cs_status cs_class_name_check(const char *name, cs_error *err);

/** Result flags (bit mask). */
enum {
  CS_FLAG_T2 = 1 << 0,         /* Hotelling T^2 beyond the model's limit */
  CS_FLAG_Q = 1 << 1,          /* residual Q beyond the model's limit */
  CS_FLAG_LOW_POSTERIOR = 1 << 2, /* best posterior below min_posterior */
  CS_FLAG_DISAGREE = 1 << 3,   /* the NNLS winner differs from the LDA class */
  CS_FLAG_UNEXPLAINED = 1 << 4 /* a band the class cannot explain (Raman) */
};

/** Training options.  Plain data: start from cs_train_opts_default(). */
typedef struct cs_train_opts {
  double lo, hi;        /* model window, cm^-1 (default Raman 400..1800,
                           FTIR 800..1800) */
  double step;          /* model axis spacing, cm^-1 (default 2) */
  const char *preprocess; /* pipeline steps other than crop and resample, in
                           pipeline text ("spikes 6:3\nbaseline ...");
                           NULL = the default for the technique */
  size_t components;    /* PCA components; 0 = by explained variance */
  double explained;     /* variance to explain when components = 0
                           (default 0.999) */
  size_t max_components; /* cap when chosen by variance (default 30) */
  double shrinkage;     /* LDA shrinkage in [0, 1]; < 0 = Ledoit-Wolf */
  double limit_quantile; /* T^2/Q limits: this quantile of the training
                            values (default 0.99) ... */
  double limit_scale;   /* ... times this factor (default 3) */
  double min_posterior; /* below it the result is "unknown" (default 0.6) */
  int equal_priors;     /* 1 (default): equal priors; 0: class frequencies */
  size_t subclasses;    /* mixture sub-classes per class, found by k-means
                           in the PCA space (default 4, at most one per 20
                           training spectra); 1 = plain LDA */
  int features;         /* CS_FEATURES_*: what the PCA/LDA sees (default
                           Raman: CS_FEATURES_MINERAL; FTIR: SPECTRUM) */
  double detect_sigma;  /* mineral detection threshold in sigma (default
                           see README "Classifier"); Raman mineral
                           features and FTIR models detect */
  size_t threads;       /* threads for preprocessing, features and cv folds
                           (default 1: the calling thread; at most 256); the
                           model and the cv results are the same for every
                           value.  Each concurrent cv fold holds its own copy
                           of the training matrix: memory grows with it */
} cs_train_opts;

/** What the classifier's PCA/LDA sees.  SPECTRUM: the preprocessed
 * spectrum.  MINERAL (Raman): the raw spectrum after a fitted smooth
 * baseline and breast-tissue basis are projected out, scaled by the
 * fitted mineral amplitude; a detection statistic (mineral_snr) decides
 * tissue vs mineral. */
enum { CS_FEATURES_SPECTRUM = 0, CS_FEATURES_MINERAL = 1 };

/** Defaults for a technique (CS_TECH_RAMAN or CS_TECH_FTIR). */
CS_EXPORT cs_train_opts cs_train_opts_default(cs_technique t);

/** Train on every spectrum of ds.  labels[i] names the class of spectrum i
 * (any name of [A-Za-z0-9_-], at most CS_CLASS_NAME_MAX-1 characters); with
 * labels NULL the class comes from each spectrum's "class" or "truth.class"
 * metadata.  All spectra must share one technique and cover the window.
 * Needs >= 2 classes with >= 2 spectra each.  The caller owns *out
 * (cs_model_free). */
CS_EXPORT cs_status cs_model_train(const cs_dataset *ds,
                                   const char *const *labels,
                                   const cs_train_opts *opts, cs_model **out,
                                   cs_error *err);
/** Free a model and its pool of pipelines.  NULL is fine.  No other thread
 * may still be classifying with it. */
CS_EXPORT void cs_model_free(cs_model *m);

/** Save as plain text (version line "calcspec-model 1", %.17g numbers in the
 * C locale, a closing SHA-256 checksum of the content: integrity against
 * damage and edits, not authenticity; see README "Classifier"). */
CS_EXPORT cs_status cs_model_save(const cs_model *m, const char *path,
                                  cs_error *err);
/** Load a model file; unknown or repeated keys, arrays that do not match
 * their dimensions, a wrong version, text after the checksum line or a
 * checksum mismatch give CS_ERR_MODEL with the reason.  Files closing with
 * the older FNV-1a checksum load too.  The caller owns *out. */
CS_EXPORT cs_status cs_model_load(const char *path, cs_model **out,
                                  cs_error *err);
/** Same from text in memory (len bytes, need not be NUL-terminated). */
CS_EXPORT cs_status cs_model_load_text(const char *text, size_t len,
                                       cs_model **out, cs_error *err);
/** The model compiled into the library for a technique (trained at build
 * time on the SYNTHETIC library the build generates).  For Raman it is a
 * chain of models for standard windows (400-1800, 700-1800, 400-1200,
 * 850-1100 cm^-1): cs_model_classify and cs_classify_spectrum use the
 * widest window the spectrum covers (cs_result window_lo/hi say which);
 * cs_model_window, cs_model_save and the other facts are the first
 * model's.  The caller owns *out. */
CS_EXPORT cs_status cs_model_default(cs_technique t, cs_model **out,
                                     cs_error *err);

/** Build now what m otherwise builds on its first classification (the
 * detection tables: tens of ms), so that a server's first request is as
 * fast as the others.  The narrower-window models of a default model's chain
 * are still built when a spectrum first needs them.  Optional; thread-safe;
 * m stays the caller's.  `calcspec stream` and `watch` call it at start. */
CS_EXPORT cs_status cs_model_prepare(const cs_model *m, cs_error *err);

/** Facts about a model (borrowed strings, valid while m lives): its
 * technique; the number of classes and the name of class i (NULL when i is
 * out of range), in the order of cs_result's arrays; the model window
 * lo..hi in cm^-1; the number of PCA components kept. */
CS_EXPORT cs_technique cs_model_technique(const cs_model *m);
CS_EXPORT size_t cs_model_class_count(const cs_model *m);
CS_EXPORT const char *cs_model_class_name(const cs_model *m, size_t i);
CS_EXPORT void cs_model_window(const cs_model *m, double *lo, double *hi);
CS_EXPORT size_t cs_model_components(const cs_model *m);
/** The canonical pipeline text the model applies (borrowed). */
CS_EXPORT const char *cs_model_pipeline(const cs_model *m);

/** One classification.  Posteriors and NNLS fractions are in model class
 * order (cs_model_class_name). */
typedef struct cs_result {
  char label[CS_CLASS_NAME_MAX]; /* class, or "unknown" */
  char best[CS_CLASS_NAME_MAX];  /* LDA's most probable class, always set */
  char subtype[8];               /* "COD"/"COM" for oxalate, else "" */
  size_t nclass;
  double posterior[CS_MAX_CLASSES];
  double nnls[CS_MAX_CLASSES];   /* NNLS fractions, summing to 1 */
  double nnls_r2;                /* variance explained by the NNLS fit */
  double t2, t2_limit;           /* Hotelling T^2 in the PCA space */
  double q, q_limit;             /* residual beyond noise, see README */
  unsigned flags;                /* CS_FLAG_* */
  char reason[160];              /* why "unknown", or "" */
  /* Mineral detection (Raman models with CS_FEATURES_MINERAL and FTIR
   * models that carry a detect_sigma; else detected = 0):
   * mineral_snr is the best mineral template's amplitude over its standard
   * error against the spectrum's own noise; axis_offset the wavenumber
   * offset estimated from internal references (cm^-1, reported minus
   * true), axis_ref what it came from ("phenylalanine", "mineral" or ""). */
  int detected;                  /* 1 when the fields below are set */
  double mineral_snr, detect_sigma;
  double axis_offset;
  char axis_ref[16];
  double window_lo, window_hi;   /* the model window used, cm^-1 */
} cs_result;

/** Cross-validation: the spectra are preprocessed once; for each fold a
 * model is trained on the other folds and classifies the held-out spectra
 * into results[i] (n = cs_dataset_count(ds) entries).  groups[i] (may be
 * NULL: every spectrum its own group) names a unit such as a biopsy core
 * that never straddles training and test.  folds = 0 leaves one group out
 * at a time; otherwise groups are dealt into `folds` folds by a fixed-seed
 * shuffle.  The class names (model order) go to classes[*nclass]. */
CS_EXPORT cs_status cs_model_crossval(const cs_dataset *ds,
                                      const char *const *labels,
                                      const char *const *groups, size_t folds,
                                      const cs_train_opts *opts,
                                      cs_result *results,
                                      char classes[][CS_CLASS_NAME_MAX],
                                      size_t *nclass, cs_error *err);

/** Preprocess s with the model's pipeline and classify it.  A spectrum
 * whose technique differs from the model's, or that does not cover the
 * model window, gives CS_ERR_RANGE / CS_ERR_ARG with a message (a
 * per-spectrum error, not "unknown").  Thread-safe for one shared model. */
CS_EXPORT cs_status cs_model_classify(const cs_model *m, const cs_spectrum *s,
                                      cs_result *r, cs_error *err);

/** ## Integration: arrays, QC flags
 *
 * What an acquisition script needs: classify a spectrum given as two arrays
 * and get, besides the class, quality-control flags that say at once
 * whether to re-acquire.  QC works on the raw spectrum (before the model's
 * preprocessing) inside the model window:
 *
 *  - noise: sigma from the residual of a Savitzky-Golay smooth (11 points,
 *    cubic) of the despiked spectrum, 1.4826 MAD / sqrt(1 - c0) with c0 =
 *    89/429 the filter's centre weight (so white noise gives its own sd);
 *  - baseline: IModPoly, 5th order (the fluorescence model of
 *    src/bands.md section 4, Lieber & Mahadevan-Jansen 2003);
 *  - main band: the largest value of smooth - baseline in the window; SNR =
 *    its height / sigma; fluorescence ratio = mean baseline / band height.
 *
 * Everything here is reentrant; one cs_model may be shared by any number of
 * threads (see cs_model_classify).
 */

/** QC flags (bit mask, cs_qc.flags). */
enum {
  CS_QC_SATURATED = 1 << 0,     /* counts at detector_max or a flat
                                   (clipped) top */
  CS_QC_LOW_SNR = 1 << 1,       /* main band SNR below min_snr */
  CS_QC_FLUORESCENCE = 1 << 2,  /* baseline / band above max_fluor_ratio */
  CS_QC_NO_MINERAL = 1 << 3,    /* no mineral class in the fit (see below) */
  CS_QC_SPIKES = 1 << 4,        /* cosmic spikes were removed */
  CS_QC_OUT_OF_WINDOW = 1 << 5  /* x does not cover the model window */
};
#define CS_QC_NFLAGS 6

/** Stable lowercase name of one flag bit ("saturated", "low_snr",
 * "fluorescence", "no_mineral", "spikes", "out_of_window"); NULL for
 * anything else. */
CS_EXPORT const char *cs_qc_flag_name(unsigned flag);

/** QC thresholds.  Plain data: start from cs_qc_opts_default(). */
typedef struct cs_qc_opts {
  double detector_max;   /* counts at which the detector saturates (65535
                            for a 16-bit ADC); checked for counts and
                            arbitrary units; default 0 = off, because files
                            may hold sums of accumulations */
  int flat_run;          /* >= this many equal points at the window's
                            maximum, > 5 sigma above its median, = clipped
                            (default 3; 0 = off) */
  double min_snr;        /* below: low_snr (default 10, the low end of the
                            10-50 of 1-s tissue spectra, bands.md s4) */
  double max_fluor_ratio; /* above: fluorescence (default 100, the top of
                            the typical 1-100x, bands.md s4); Raman only */
  double min_mineral_frac; /* no_mineral when the NNLS fractions of the
                            model's non-"tissue" classes sum below this
                            (default 0.1), or when LDA's best is "tissue" */
  double spike_threshold; /* spike detection, as cs_spike_opts (6) */
  unsigned reacquire_mask; /* flags that set reacquire (default all but
                            CS_QC_SPIKES) */
} cs_qc_opts;

/** Defaults as documented on each field. */
CS_EXPORT cs_qc_opts cs_qc_opts_default(void);
/** Parse "key=value,..." (keys are the field names; reacquire_mask takes
 * flag names joined by '+', or "none") on top of *out, which is changed
 * only on success; CS_ERR_ARG naming the bad key or value. */
CS_EXPORT cs_status cs_qc_opts_parse(const char *spec, cs_qc_opts *out,
                                     cs_error *err);

/** QC measurements of one spectrum.  All numbers finite (0 when not
 * applicable, e.g. fluorescence of an FTIR spectrum). */
typedef struct cs_qc {
  unsigned flags;        /* CS_QC_* */
  int reacquire;         /* flags & reacquire_mask != 0 */
  double snr;            /* main band height / noise sigma */
  double noise;          /* sigma, y units */
  double band_x;         /* main band position, x units (cm^-1) */
  double band_height;    /* above the baseline, y units */
  double fluor_ratio;    /* mean baseline / band height (Raman) */
  double max_y;          /* largest raw value */
  size_t n_saturated;    /* points at or above detector_max */
  size_t spikes;         /* spike points removed */
  double x_lo, x_hi;     /* range the spectrum covers (cm^-1) */
} cs_qc;

/** QC of s against window [lo, hi] (cm^-1; a model's cs_model_window, or
 * for no model 700..1800 Raman / 800..1800 FTIR).  A wavelength axis is
 * converted with the spectrum's laser (CS_ERR_ARG without one).  When s
 * does not cover the window to within one point spacing, only
 * out_of_window and the range are set.  no_mineral needs a classification
 * and is left to cs_classify_spectrum. */
CS_EXPORT cs_status cs_qc_spectrum(const cs_spectrum *s, double lo, double hi,
                                   const cs_qc_opts *o, cs_qc *out,
                                   cs_error *err);

/** Which values of a cs_composition are set (bit mask). */
enum {
  CS_COMP_CARBONATE = 1 << 0,   /* carbonate_wt and its interval */
  CS_COMP_NU1 = 1 << 1,         /* nu1_pos, nu1_fwhm (Raman) */
  CS_COMP_WHITLOCKITE = 1 << 2, /* whitlockite_index, band922_ratio */
  CS_COMP_COM = 1 << 3,         /* com_frac, oxalate_ir */
  CS_COMP_PROTEIN = 1 << 4,     /* protein_mineral */
  CS_COMP_AXIS = 1 << 5,        /* axis_offset (phenylalanine present) */
  CS_COMP_WH_SHARE = 1 << 6     /* whitlockite_share (powder-mixture
                                   calibration applied) */
};

/** Composition of one spectrum.  A value is meaningful only when its bit is
 * in `valid` (else it is 0 and the matching *_reason says why). */
typedef struct cs_composition {
  char cls[CS_CLASS_NAME_MAX]; /* the class it was measured as */
  cs_technique technique;
  unsigned valid;               /* CS_COMP_* */
  double carbonate_ratio;       /* R (set with CS_COMP_CARBONATE, or when
                                   measured without a calibration) */
  double carbonate_ratio_se;    /* from the fit covariance (Raman) */
  double ftir_nu2_ratio;        /* FTIR: nu2 CO3 871 / nu1nu3 PO4 area */
  double carbonate_wt;          /* (R - b) / m; 0 when censored */
  double carbonate_lo, carbonate_hi; /* 95 % interval (censored: 0 and the
                                   upper bound) */
  double nu1_pos, nu1_fwhm;     /* fitted nu1 PO4 band, cm^-1 */
  double whitlockite_index;     /* A970 / (A960 + A970), 0..1 */
  double whitlockite_se;
  double band922_ratio;         /* A922 / A960 */
  double com_frac;              /* Kontoyannis 1997 COM mole fraction, 0..1 */
  double oxalate_ir;            /* I1462 / I1477; 0 with com_frac 1 when
                                   there is no COD band (undefined: JSON
                                   null) */
  double protein_mineral;       /* Raman A(1450 CH2)/A(960); FTIR amide I /
                                   nu1nu3 PO4 */
  double fit_r2;                /* variance explained by the band fit */
  size_t fit_iterations;
  char carbonate_reason[128];   /* why carbonate is empty, or a warning */
  char whitlockite_reason[128];
  char com_reason[128];
  char protein_reason[128];
  /* Limit of detection (README "Composition of one spectrum"): LOD =
   * 3.29 sd of the wt% estimate of a carbonate-free spectrum (this
   * spectrum's fit variance, the standards' scatter and the intercept's
   * error).  Below it carbonate_censored is 1 and carbonate_wt is not a
   * result: report "< carbonate_lod".  carbonate_raw is the uncensored
   * estimate (may be negative), kept only so that means over spectra stay
   * unbiased (cs_core_summarize); carbonate_lod_cal is the intercept's share
   * of the LOD, common to every spectrum measured with the calibration. */
  double carbonate_lod;
  int carbonate_censored;
  double carbonate_raw;
  double carbonate_sd;          /* sd of carbonate_raw, wt% */
  double carbonate_lod_cal;
  /* Raman apatite with tissue: the spectrum's axis offset, cm^-1, from
   * the tissue bands (phenylalanine 1004 the strongest); set
   * (CS_COMP_AXIS) only when the phenylalanine band is above 3 sd. */
  double axis_offset;
  /* Whitlockite share of the phosphate from the index through a user
   * powder-mixture calibration (cs_composition_whitlockite_share; set with
   * CS_COMP_WH_SHARE), clamped to 0..1, with its 95 % prediction interval. */
  double whitlockite_share, whitlockite_share_lo, whitlockite_share_hi;
} cs_composition;

/** A classification with QC.  Caller-allocated plain data; fields are only
 * ever appended (composition joins in a later minor version), so bindings
 * that allocate it without this header use cs_report_size(). */
typedef struct cs_report {
  int classified;        /* 0: not classified (out_of_window); result then
                            has label "unknown" and the reason */
  cs_technique technique; /* of the model used */
  cs_result result;
  cs_qc qc;
  /* appended in 0.2: set by cs_report_composition (composition_measured 0
   * before; composition may then already hold the oxalate measurement that
   * cs_classify_spectrum made for a Raman oxalate subtype, see below) */
  int composition_measured;
  cs_composition composition;
  /* appended in 0.3, internal: a fingerprint of the spectrum whose
   * measurement as "oxalate" cs_classify_spectrum left in composition (its
   * subtype's Kontoyannis fit), so that cs_report_composition of the same
   * spectrum reuses it instead of fitting again; 0: none */
  unsigned long long oxalate_key;
} cs_report;

/** sizeof(cs_report) in this library build. */
CS_EXPORT size_t cs_report_size(void);

/** QC + classification of s with model m (which must not be NULL: use
 * cs_model_default for the embedded one).  qo may be NULL (defaults).  A
 * spectrum that misses the model window is not an error here: CS_OK with
 * classified = 0, CS_QC_OUT_OF_WINDOW and reacquire set.  Other problems
 * (technique mismatch, no laser for a wavelength axis, numerical failure)
 * return their status.  Thread-safe for one shared model. */
CS_EXPORT cs_status cs_classify_spectrum(const cs_model *m,
                                         const cs_spectrum *s,
                                         const cs_qc_opts *qo, cs_report *out,
                                         cs_error *err);

/** Convenience for acquisition scripts: the same from n points of x and y
 * (copied; any order; finite) on axis CS_AXIS_RAMAN_SHIFT,
 * CS_AXIS_WAVELENGTH_NM (laser_nm needed, else NaN) or CS_AXIS_WAVENUMBER
 * (FTIR).  y is taken as counts for Raman axes, absorbance for wavenumber.
 * Equivalent to cs_spectrum_new + cs_classify_spectrum. */
CS_EXPORT cs_status cs_classify_arrays(const cs_model *m, const double *x,
                                       const double *y, size_t n, cs_axis axis,
                                       double laser_nm, const cs_qc_opts *qo,
                                       cs_report *out, cs_error *err);

/** Where a report's spectrum came from, for cs_report_json_source: the
 * file name as given, the spectrum's 0-based index in it and the number of
 * spectra in the file, and its core id.  NULL strings are written as null. */
typedef struct cs_report_source {
  const char *file;
  long long index, count; /* negative: null */
  const char *core_id;
} cs_report_source;

/** The report as one JSON object (no newline).  This is the one JSON form
 * of a result: `calcspec classify --json`, `stream`, `watch` and the Python
 * package all write it (README "JSON results").  Keys, in this order:
 * "file", "index", "count", "core_id" (from src; null without it),
 * "technique", "classified" (bool), "class", "subtype", "best",
 * "posterior" {class: p}, "t2", "t2_limit", "q", "q_limit",
 * "nnls" {class: f}, "nnls_r2", "flags" [array of "t2", "q",
 * "low_posterior", "disagree"], "reason", "mineral_snr", "axis_offset",
 * "axis_ref", "window_lo", "window_hi", "qc" {"flags" [QC flag names],
 * "snr", "noise", "band_x", "band_height", "fluor_ratio", "max_y",
 * "n_saturated", "spikes", "x_lo", "x_hi"}, "reacquire" (bool),
 * "composition": null unless composition_measured, else {"class",
 * "carbonate_wt" (null when censored), "carbonate_lo", "carbonate_hi",
 * "carbonate_lod", "carbonate_censored" (bool), "carbonate_ratio",
 * "nu1_pos", "nu1_fwhm", "axis_offset", "whitlockite_index",
 * "whitlockite_se", "band922_ratio", "whitlockite_share", "whitlockite_share_lo",
 * "whitlockite_share_hi" (null unless CS_COMP_WH_SHARE), "com_frac", "oxalate_ir",
 * "protein_mineral", "reasons" {"carbonate", "whitlockite", "com",
 * "protein"}}.  A value that was not computed is null, never 0: a report
 * with classified = 0 has null posteriors, nnls, t2, q, limits, window
 * and best, and its QC only the range; mineral_snr, axis_offset and
 * axis_ref are null without detection.  Numbers are in their shortest
 * round-trip form (the shortest of %.15g, %.16g, %.17g that reads back as
 * the same double; C locale).  m is the model that produced r (class
 * names); src may be NULL.  Release *json with cs_free(). */
CS_EXPORT cs_status cs_report_json_source(const cs_report *r,
                                          const cs_model *m,
                                          const cs_report_source *src,
                                          char **json, cs_error *err);
/** cs_report_json_source(r, m, NULL, json, err). */
CS_EXPORT cs_status cs_report_json(const cs_report *r, const cs_model *m,
                                   char **json, cs_error *err);

/** v as the shortest decimal text that reads back as the same double (the
 * shortest of %.15g, %.16g, %.17g that does; C locale whatever the
 * process locale), the form of every number in the JSON records.  Writes
 * at most cap bytes into buf (32 always suffice); returns the length, as
 * snprintf. */
CS_EXPORT int cs_format_double(char *buf, size_t cap, double v);

/** Release plain memory the library allocated for the caller (see the
 * conventions at the top: strings and arrays, not objects with their own
 * *_free).  NULL is fine. */
CS_EXPORT void cs_free(void *p);

/** ## Composition, cores and validation
 *
 * What a classified mineral spectrum says beyond its class (README
 * "Composition"), per-core summaries of many spectra, and agreement of the
 * core calls with the pathologist's polarised-light (birefringence)
 * findings.  Band fits use GSL multifit_nlinear; the first fit turns GSL's
 * abort-on-error handler off for the process (gsl_set_error_handler_off)
 * so that the library never aborts.
 */

/** A linear carbonate calibration R = m * wt% + b, where R is the band-area
 * ratio of the technique (Raman: composite ~1070 band over nu1 PO4 ~960;
 * FTIR: nu3 CO3 1415+1455 over nu1nu3 PO4), with the ordinary least-squares
 * standard errors of the standards it was fitted on.  Plain data. */
typedef struct cs_calibration {
  cs_technique technique;
  double m, b;          /* slope (per wt%) and intercept */
  double se_m, se_b;    /* their standard errors */
  double cov_mb;        /* covariance of m and b */
  double s_resid;       /* residual sd of R about the line */
  size_t n;             /* standards used */
  double wt_lo, wt_hi;  /* carbonate range of the standards, wt% */
  char note[256];       /* provenance, one line */
  /* appended: what the line calibrates.  CS_CAL_CARBONATE: R = m wt% + b
   * (wt_lo/hi the standards' wt%).  CS_CAL_WHITLOCKITE: whitlockite index
   * = m share + b on HA/whitlockite powder mixtures of known whitlockite
   * share of the phosphate (wt_lo/hi the standards' shares, 0..1). */
  int kind;
} cs_calibration;
enum { CS_CAL_CARBONATE = 0, CS_CAL_WHITLOCKITE = 1 };

/** Fit R = m wt + b to n >= 3 standards (wt[i] known carbonate, ratio[i]
 * its measured R, see cs_composition.carbonate_ratio).  `note` (may be NULL)
 * is copied into the calibration.  CS_ERR_ARG for fewer than 3 standards or
 * one carbonate level, CS_ERR_NUMERIC when the slope is not positive. */
CS_EXPORT cs_status cs_calibration_fit(cs_technique t, const double *wt,
                                       const double *ratio, size_t n,
                                       const char *note, cs_calibration *out,
                                       cs_error *err);
/** The same for the whitlockite index (kind CS_CAL_WHITLOCKITE, Raman):
 * index[i] = m share[i] + b on n >= 3 powder mixtures of known whitlockite
 * share of the phosphate (0..1; bands.md 2.4).  Errors as above. */
CS_EXPORT cs_status cs_calibration_fit_whitlockite(const double *share,
                                                   const double *index,
                                                   size_t n, const char *note,
                                                   cs_calibration *out,
                                                   cs_error *err);
/** Text form ("calcspec-calibration 1", one "key value" per line, %.17g in
 * the C locale) into *text, which the caller releases with cs_free(). */
CS_EXPORT cs_status cs_calibration_format(const cs_calibration *c,
                                          char **text, cs_error *err);
/** Write the text form atomically. */
CS_EXPORT cs_status cs_calibration_save(const cs_calibration *c,
                                        const char *path, cs_error *err);
/** Parse the text form (len bytes); CS_ERR_MODEL naming the line on any
 * error (unknown key, bad number, missing key, m <= 0). */
CS_EXPORT cs_status cs_calibration_parse(const char *text, size_t len,
                                         cs_calibration *out, cs_error *err);
/** Read a file written by cs_calibration_save (at most 1 MB) and parse it
 * as above; an unreadable file gives CS_ERR_IO. */
CS_EXPORT cs_status cs_calibration_load(const char *path, cs_calibration *out,
                                        cs_error *err);
/** The calibration compiled into the library for a technique: fitted on
 * SYNTHETIC spectra from the simulator (spectra/calibration/README.md), a
 * placeholder until you calibrate with standards. */
CS_EXPORT cs_status cs_calibration_default(cs_technique t, cs_calibration *out,
                                           cs_error *err);


/** Whitlockite share from c's whitlockite index through a whitlockite
 * calibration wcal (kind CS_CAL_WHITLOCKITE): share = (index - b) / m
 * clamped to 0..1, with a 95 % prediction interval (the spectrum's index
 * error, the line's and the mixtures' scatter about it, t quantile on
 * n - 2 df).  Sets CS_COMP_WH_SHARE; nothing when c has no whitlockite
 * index.  CS_ERR_ARG when wcal is not a whitlockite calibration. */
CS_EXPORT cs_status cs_composition_whitlockite_share(const cs_calibration *wcal,
                                                     cs_composition *c,
                                                     cs_error *err);

/** Measure s as class `cls` (normally cs_result.label of the classifier):
 * "hydroxyapatite"/"whitlockite" get carbonate (with cal, which may be NULL:
 * then only the ratio), nu1, whitlockite index and protein/mineral;
 * "oxalate" gets the COM fraction (Raman, when s covers 1420-1500 cm^-1);
 * other classes get nothing but reasons.  A spectrum that does not cover a
 * window is not an error: the value is empty with the reason.  CS_ERR_ARG
 * when cal's technique differs from the spectrum's. */
CS_EXPORT cs_status cs_composition_measure(const cs_spectrum *s,
                                           const char *cls,
                                           const cs_calibration *cal,
                                           cs_composition *out, cs_error *err);
/** Measure n spectra (cls[i] their classes) at once.  Raman apatite
 * spectra that share an axis share one nonlinear band-shape fit, made on
 * their mean spectrum; each spectrum then gets its axis offset and its band
 * areas with their covariance by linear least squares (README "Speed").
 * Other spectra are measured as by cs_composition_measure, which is this
 * function with n = 1.  out[n] is filled for every spectrum; CS_ERR_ARG when
 * cal's technique differs from a spectrum's (nothing is measured then). */
CS_EXPORT cs_status cs_composition_measure_batch(const cs_spectrum *const *s,
                                                 const char *const *cls,
                                                 size_t n,
                                                 const cs_calibration *cal,
                                                 cs_composition *out,
                                                 cs_error *err);
/** Composition of s measured as the report's class (README "Composition
 * of one spectrum"): carbonate with interval and LOD, nu1 position and
 * FWHM, whitlockite index, COM fraction, protein/mineral, into
 * r->composition (composition_measured = 1).  cal NULL: the built-in
 * (SYNTHETIC) calibration of r->technique.  A spectrum that was not
 * classified, or whose class has no composition, gets reasons, not an
 * error.  A Raman apatite spectrum costs one band-shape fit (about 4 ms);
 * for many spectra of one core or map use cs_composition_measure_batch. */
CS_EXPORT cs_status cs_report_composition(cs_report *r, const cs_spectrum *s,
                                          const cs_calibration *cal,
                                          cs_error *err);

/** The band fit behind a composition, as curves to draw (README "plot").
 * One block: release it with cs_free(); its arrays live inside it.  All
 * arrays have n points on the Raman shift axis (cm^-1, ascending). */
#define CS_FIT_NAME_MAX 32
typedef struct cs_fit_curves {
  size_t n;          /* points of the fit window */
  size_t ncomp;      /* components (bands with tied heights) */
  double *x;         /* n: Raman shift, cm^-1 */
  double *y;         /* n: the spectrum as fitted (spikes removed) */
  double *baseline;  /* n: the fitted baseline */
  double *comp;      /* ncomp x n: component k at point i is
                        comp[k * n + i], above the baseline */
  double *sum;       /* n: baseline + every component */
  double *resid;     /* n: y - sum */
  char (*names)[CS_FIT_NAME_MAX]; /* ncomp names ("nu1 PO4", "COM 1462") */
} cs_fit_curves;

/** The fit that cs_composition_measure makes for s as class `cls`, as
 * curves.  Raman "hydroxyapatite"/"whitlockite": the band-area fit (README
 * "Composition of one spectrum") on 860-1340 cm^-1, plus 380-470 cm^-1
 * when s covers it (x ascends with a gap between the two); components
 * "nu1 PO4", "whitlockite", "nu3 PO4 1029", "nu3 PO4 1046/1076", "nu1 CO3
 * (B type)", the tissue bands and "nu2 PO4", each only when its band lies
 * in the window.  Raman "oxalate": 1420-1500 cm^-1, "COM 1462", "COD
 * 1477" and "CH2 1445".  The same fit is computed again (same steps, same
 * data), not a different one.  CS_ERR_UNSUPPORTED for other classes and
 * for FTIR (band areas, no band fit); the fit's errors otherwise
 * (CS_ERR_RANGE when s does not cover the window).  *out is NULL on
 * failure. */
CS_EXPORT cs_status cs_composition_fit_curves(const cs_spectrum *s,
                                              const char *cls,
                                              cs_fit_curves **out,
                                              cs_error *err);


/** Per-core summary of classified spectra.  Rule (README "calcspec cores"):
 * a spectrum counts as a confident call when its label is not "unknown";
 * oxalate (type I) present = at least one confident oxalate spectrum;
 * phosphate (type II) present = at least one confident hydroxyapatite or
 * whitlockite spectrum; call = "mixed" when both, else "oxalate",
 * "phosphate" or "none", with "+calcite" appended when a confident calcite
 * spectrum is present.  Expected birefringent = oxalate or calcite present
 * (calcite is strongly birefringent too, bands.md section 3). */
#define CS_CORE_ID_MAX 64
enum {
  CS_CORE_TOO_FEW = 1 << 0,     /* fewer spectra than min_spectra */
  CS_CORE_MANY_UNKNOWN = 1 << 1 /* unknown share above max_unknown */
};
typedef struct cs_core_opts {
  size_t min_spectra; /* default 3 */
  double max_unknown; /* default 0.5 */
} cs_core_opts;
/** The defaults noted above. */
CS_EXPORT cs_core_opts cs_core_opts_default(void);
/** A core id fit for grouping and for TSV/JSON output: 1..CS_CORE_ID_MAX-1
 * bytes, no control character (tab, newline...).  CS_ERR_MALFORMED saying
 * which rule it breaks; longer ids are refused, not cut (two cut ids could
 * merge two cores). */
CS_EXPORT cs_status cs_core_id_check(const char *id, cs_error *err);

typedef struct cs_core {
  char id[CS_CORE_ID_MAX];
  size_t n;                          /* spectra */
  size_t nclass;                     /* model classes */
  char classes[CS_MAX_CLASSES][CS_CLASS_NAME_MAX];
  size_t count[CS_MAX_CLASSES];      /* confident calls per class */
  size_t unknown;                    /* "unknown" calls */
  double mean_posterior[CS_MAX_CLASSES]; /* over all spectra */
  int oxalate, phosphate, calcite;   /* present (0/1) */
  int expected_birefringent;         /* oxalate || calcite */
  char call[32];
  size_t n_carbonate;                /* spectra with a carbonate value */
  double carbonate_mean, carbonate_lo, carbonate_hi; /* 95 % CI of the mean
                                        of the spectra's uncensored values
                                        (their own errors averaged, the
                                        calibration line's shared; one
                                        spectrum: its own interval).
                                        Censored: mean 0, lo 0, hi the
                                        upper bound */
  double carbonate_lod;              /* LOD of the mean (README) */
  int carbonate_censored;            /* mean below carbonate_lod */
  size_t n_whitlockite;
  double whitlockite_mean;           /* mean whitlockite index */
  unsigned flags;                    /* CS_CORE_* */
  /* appended: mean whitlockite share over the spectra that have one
   * (CS_COMP_WH_SHARE), 0 when n_wh_share is 0 */
  size_t n_wh_share;
  double whitlockite_share_mean;
  /* appended: sd of the spectra's uncensored carbonate over the core (the
   * spots' heterogeneity plus their measurement error), wt%; 0 for one */
  double carbonate_spread;
} cs_core;

/** Summarise the n spectra of one core: r[i] their classifications
 * (class names in r order: classes[nclass]), comp[i] their composition (may
 * be NULL).  CS_ERR_ARG for n = 0, an id longer than CS_CORE_ID_MAX-1 or
 * more than CS_MAX_CLASSES classes. */
CS_EXPORT cs_status cs_core_summarize(const char *id, const cs_result *r,
                                      const cs_composition *comp, size_t n,
                                      const char classes[][CS_CLASS_NAME_MAX],
                                      size_t nclass, const cs_core_opts *o,
                                      cs_core *out, cs_error *err);

/** Birefringence findings: one row per core. */
typedef enum cs_biref { CS_BIREF_NO = 0, CS_BIREF_YES, CS_BIREF_UNKNOWN } cs_biref;
typedef struct cs_finding {
  char core_id[CS_CORE_ID_MAX];
  cs_biref birefringent;
  char notes[256];
  int line; /* line in the file */
} cs_finding;

/** Parse a findings table (CSV or TSV, len bytes): "core_id,birefringent"
 * plus optional notes (the rest of the line), an optional header line
 * starting "core_id", '#' comments and blank lines ignored.  yes/no/unknown
 * (also y/n/true/false/1/0, any case).  CS_ERR_MALFORMED naming the line
 * for a missing column, an empty or over-long core id, a bad value or a
 * core listed twice.  *n rows in *rows, which the caller releases with
 * cs_free(). */
CS_EXPORT cs_status cs_findings_parse(const char *text, size_t len,
                                      cs_finding **rows, size_t *n,
                                      cs_error *err);

/** Agreement of two binary ratings on the same cores (2x2 table):
 * a = both positive, b = spectroscopy positive and finding negative,
 * c = spectroscopy negative and finding positive, d = both negative. */
typedef struct cs_agreement {
  size_t a, b, c, d, n;
  double observed;        /* (a + d) / n */
  double expected;        /* chance agreement */
  double kappa;           /* Cohen's kappa; 0 when expected = 1 */
  double kappa_se;        /* large-sample SE (Fleiss, Cohen & Everitt 1969) */
  double kappa_lo, kappa_hi; /* kappa -+ 1.96 SE, clipped to [-1, 1] */
  double sensitivity;     /* a / (a + c): finding as reference; 0 if none */
  double specificity;     /* d / (b + d) */
} cs_agreement;
/** Fill out from the table; CS_ERR_ARG when n = 0. */
CS_EXPORT cs_status cs_agreement_2x2(size_t a, size_t b, size_t c, size_t d,
                                     cs_agreement *out, cs_error *err);

#ifdef __cplusplus
}
#endif
#endif /* CALCSPEC_H */
