/*
 * internal.h: struct definitions and csi_ helpers shared across src/.
 * Never installed.
 */
#ifndef CALCSPEC_INTERNAL_H
#define CALCSPEC_INTERNAL_H

#include "calcspec.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define CSI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CSI_PRINTF(a, b)
#endif

/* Upper bound on a file any reader loads whole; larger files are refused
 * rather than risk exhausting memory (SPE streams and is not bound by it). */
#define CSI_MAX_FILE_BYTES ((size_t)512 << 20)
/* Upper bound on points in one spectrum and spectra in one file. */
#define CSI_MAX_POINTS ((size_t)1 << 24)
#define CSI_MAX_SPECTRA ((size_t)1 << 22)

typedef struct csi_kv {
  char *key;
  char *value;
} csi_kv;

struct cs_spectrum {
  size_t n;
  double *x, *y;
  cs_axis axis;
  cs_quantity quantity;
  cs_technique technique;
  double laser_nm;   /* NaN unknown */
  double exposure_s; /* NaN unknown */
  int accumulations; /* 0 unknown */
  size_t source_index;
  size_t nmeta, capmeta;
  csi_kv *meta;
};

struct cs_dataset {
  size_t n, cap;
  cs_spectrum **items;
};

/* ---- error.c ---- */
/* Set err (if non-NULL) to code and a printf-style message; returns code so
 * callers can `return csi_error(err, CS_ERR_X, "...")`. */
cs_status csi_error(cs_error *err, cs_status code, const char *fmt, ...)
    CSI_PRINTF(3, 4);
/* Prefix an existing message: "prefix: old message". */
void csi_error_prefix(cs_error *err, const char *fmt, ...) CSI_PRINTF(2, 3);
/* Report progress through the application's hook (cs_set_progress_fn). */
void csi_progress(const char *what, size_t done, size_t total);
void csi_log(int level, const char *fmt, ...) CSI_PRINTF(2, 3);

/* ---- spectrum.c ---- */
/* Allocate a spectrum of n points with uninitialised x/y (n may be 0 only
 * transiently inside readers). NULL on OOM. */
cs_spectrum *csi_spectrum_alloc(size_t n);
/* A 64-bit fingerprint of a spectrum's points and the fields a measurement
 * reads (n, axis, quantity, technique, laser, exposure, accumulations);
 * never 0. */
unsigned long long csi_spectrum_key(const cs_spectrum *s);
/* Copy the fixed fields (axis, quantity, technique, laser, exposure,
 * accumulations, source index) from src to dst: no points, no key/value
 * metadata. */
void csi_spectrum_copy_fields(cs_spectrum *dst, const cs_spectrum *src);
/* Copy all metadata (not data) from src to dst. */
cs_status csi_spectrum_copy_meta(cs_spectrum *dst, const cs_spectrum *src,
                                 cs_error *err);
/* An empty dataset, NULL on OOM: for readers and the simulator, which
 * report the error themselves (cs_dataset_new is the public form). */
cs_dataset *csi_dataset_alloc(void);
/* Check x strictly monotonic and x/y finite; CS_ERR_MALFORMED otherwise. */
cs_status csi_spectrum_check(const cs_spectrum *s, cs_error *err);

/* ---- util.c ---- */
/* One task of csi_parallel_for: item i on worker w (< the thread count, for
 * per-worker scratch); a nonzero status sets err. */
typedef cs_status (*csi_task)(void *ctx, size_t w, size_t i, cs_error *err);
#define CSI_MAX_THREADS 256
/* task(ctx, w, i) for every i < n on up to `threads` threads, the calling
 * thread one of them (threads <= 1: in order, on the caller).  Returns the
 * status and message of the lowest i that failed -- what a serial loop
 * would return -- once every started task has finished; items after a
 * failure may not run.  progress_what (may be NULL): csi_progress after
 * each finished item, never from two threads at once. */
cs_status csi_parallel_for(size_t n, size_t threads, csi_task task, void *ctx,
                           const char *progress_what, cs_error *err);
/* Workers for n items on `threads` threads: 1..min(threads, n,
 * CSI_MAX_THREADS) (1 when n is 0), the count of per-worker scratch to
 * allocate for csi_parallel_for. */
static inline size_t csi_workers(size_t threads, size_t n) {
  size_t w = threads < 1 ? 1 : threads;
  w = w > n ? n : w;
  w = w > CSI_MAX_THREADS ? CSI_MAX_THREADS : w;
  return w < 1 ? 1 : w;
}
/* Locale-independent strtod (C locale regardless of the process locale). */
double csi_strtod(const char *s, char **end);
/* Parse a whole string as a finite double (leading/trailing blanks allowed);
 * 0 on success, -1 otherwise. */
int csi_parse_double(const char *s, double *out);
/* An accumulation count a file may state: a whole number in 1..1e9, so
 * that (int)v is defined (0 otherwise, NaN included). */
int csi_count_ok(double v);
/* Like csi_strtod but accepts a decimal comma ("532,02") too. */
double csi_strtod_comma(const char *s, char **end);

/* ---- numparse.c ---- */
/* Fast path for a whole decimal number p[0..n) ([+-]digits[.digits][e[+-]
 * digits], with `comma` also ',' as the point): 0 and *out set to exactly
 * what strtod gives when it has <= 19 significant digits and a small
 * exponent (Clinger); 1 (*out untouched) otherwise, and the caller falls
 * back to csi_strtod, which decides validity too.  Locale-independent. */
int csi_parse_decimal(const char *p, size_t n, int comma, double *out);
char *csi_strdup(const char *s);
char *csi_strndup(const char *s, size_t n);
char *csi_strfmt(const char *fmt, ...) CSI_PRINTF(1, 2);
int csi_strcasecmp(const char *a, const char *b);
int csi_strncasecmp(const char *a, const char *b, size_t n);
/* Trim ASCII whitespace in place; returns s. */
char *csi_trim(char *s);
/* Open path for reading only when it is a regular file: a FIFO, device,
 * socket or directory is refused with CS_ERR_IO ("not a regular file (a
 * FIFO)") without blocking.  Every file the library reads is opened or
 * checked through these. */
cs_status csi_open_regular(const char *path, FILE **out, cs_error *err);
cs_status csi_check_regular(const char *path, cs_error *err);
/* Read a whole file (at most max bytes, else CS_ERR_UNSUPPORTED).  Adds a NUL
 * after the data.  *buf is malloc'd and owned by the caller. */
cs_status csi_read_file(const char *path, size_t max, char **buf, size_t *len,
                        cs_error *err);
/* Read up to cap bytes from the start of path into head. */
cs_status csi_read_head(const char *path, unsigned char *head, size_t cap,
                        size_t *len, cs_error *err);
/* Lower-case extension of path without the dot ("" when none); static
 * buffer-free: writes into ext (size cap). */
void csi_path_ext(const char *path, char *ext, size_t cap);
/* snprintf in the C locale whatever the process locale (numbers always
 * print with '.'); every formatted number the library writes goes through
 * these, csi_buf_printf or csi_strfmt. */
int csi_snprintf(char *buf, size_t cap, const char *fmt, ...) CSI_PRINTF(3, 4);
int csi_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);
/* %.17g in the C locale whatever the process locale; returns snprintf's
 * result. */
int csi_fmt_double(char *buf, size_t cap, double v);
/* The shortest of %.15g, %.16g, %.17g (C locale) that strtod reads back
 * as the same double: JSON output.  Model files keep %.17g. */
int csi_fmt_shortest(char *buf, size_t cap, double v);
/* Copy of s as valid UTF-8 without XML-forbidden control characters: bytes
 * that are not UTF-8 are taken as Latin-1.  malloc'd, caller frees. */
char *csi_utf8_sanitize(const char *s);
/* Helpers of the binary readers (SPC, WDF, OPUS, OMNIC).  A fixed-size text
 * field of a binary header, up to its NUL, control bytes blanked, trimmed,
 * as valid UTF-8: malloc'd, caller frees; NULL when empty or out of
 * memory. */
char *csi_field_text(const unsigned char *p, size_t cap);
/* Point i of n evenly spaced from a to b, exact at both ends. */
double csi_even_x(double a, double b, size_t i, size_t n);
/* Numeric metadata value written as %.17g in the C locale. */
cs_status csi_meta_num(cs_spectrum *s, const char *key, double v,
                       cs_error *err);
/* Base64 decode (whitespace ignored).  *out malloc'd, caller frees. */
cs_status csi_base64_decode(const char *in, size_t len, unsigned char **out,
                            size_t *outlen, cs_error *err);
/* Base64 encode to a NUL-terminated malloc'd string (no line breaks). */
char *csi_base64_encode(const unsigned char *in, size_t len);
/* The vector exps of whit_batch_kern.h and ox_kern.h: x = k ln2 + r,
 * |r| <= ln2/2 (Cody-Waite with fdlibm's split of ln2), exp(r) by its
 * degree-13 Taylor polynomial in Horner's scheme from p = CSI_EXP_C13, each
 * H(c) one step p = p r + c (1/12! first). */
#define CSI_EXP_INV_LN2 0x1.71547652b82fep0
#define CSI_EXP_LN2_HI 6.93147180369123816490e-01
#define CSI_EXP_LN2_LO 1.90821492927058770002e-10
#define CSI_EXP_C13 (1.0 / 6227020800.0)
#define CSI_EXP_TAYLOR(H)                                                      \
  H(1.0 / 479001600.0) H(1.0 / 39916800.0) H(1.0 / 3628800.0)                 \
  H(1.0 / 362880.0) H(1.0 / 40320.0) H(1.0 / 5040.0) H(1.0 / 720.0)           \
  H(1.0 / 120.0) H(1.0 / 24.0) H(1.0 / 6.0) H(0.5) H(1.0) H(1.0)
/* The CPU's vector features (CSI_CPU_* bits), read once for the whole
 * library: __builtin_cpu_init writes libgcc's global record, which must not
 * happen from several threads at once.  0 but on x86-64 GCC/clang. */
enum { CSI_CPU_AVX2 = 1, CSI_CPU_FMA = 2, CSI_CPU_AVX512F = 4 };
unsigned csi_cpu_features(void);
/* The functions between CSI_TARGET_BEGIN("avx2") and CSI_TARGET_END are
 * compiled for that instruction set: GCC takes it from a pragma region,
 * clang (the fuzz build) from an attribute it applies to every function of
 * the region. */
#define CSI_PRAGMA(x) _Pragma(#x)
#ifdef __clang__
#define CSI_TARGET_BEGIN(t)                                                    \
  CSI_PRAGMA(clang attribute push(__attribute__((target(t))), apply_to = function))
#define CSI_TARGET_END CSI_PRAGMA(clang attribute pop)
#else
#define CSI_TARGET_BEGIN(t) CSI_PRAGMA(GCC push_options) CSI_PRAGMA(GCC target(t))
#define CSI_TARGET_END CSI_PRAGMA(GCC pop_options)
#endif
/* Median of v[0..n) (n >= 1) by selection, expected O(n).  v is left as it
 * was unless there is no memory for two copies (n > 1024), when it is
 * reordered.  With a NaN in v: what 0.5's in-place selection gave (NaN when
 * a NaN is picked as pivot), on a copy. */
double csi_median(double *v, size_t n);
/* Tests: 1 forces csi_median's portable partition instead of the AVX-512
 * one the CPU may offer (both give the same value). */
extern int csi_median_portable;
/* Growable double array. */
typedef struct csi_dvec {
  double *v;
  size_t n, cap;
} csi_dvec;
int csi_dvec_push(csi_dvec *d, double x); /* 0 ok, -1 OOM or too large */
void csi_dvec_free(csi_dvec *d);
/* Growable byte buffer for writers. */
typedef struct csi_buf {
  char *p;
  size_t n, cap;
  int oom;
} csi_buf;
void csi_buf_printf(csi_buf *b, const char *fmt, ...) CSI_PRINTF(2, 3);
void csi_buf_put(csi_buf *b, const char *s, size_t n);
void csi_buf_free(csi_buf *b);
/* Write buf to path atomically (temp file + rename). */
cs_status csi_write_atomic(const char *path, const char *data, size_t n,
                           cs_error *err);
/* An output file written in pieces: to a temporary name beside path (a
 * symlink's target), renamed by commit (readers never see half a file);
 * an existing device or FIFO is written in place.  abort (also after a failed commit's
 * cleanup) removes the temporary file. */
typedef struct csi_sink {
  FILE *f;
  char *path, *tmp; /* NULL when written in place */
} csi_sink;
cs_status csi_sink_open(csi_sink *k, const char *path, cs_error *err);
cs_status csi_sink_write(csi_sink *k, const void *p, size_t n, cs_error *err);
cs_status csi_sink_commit(csi_sink *k, cs_error *err);
void csi_sink_abort(csi_sink *k);
/* A scratch file for a writer's parts of the output path (w+b, already
 * unlinked), or NULL with errno. */
FILE *csi_spool_open(const char *path);
/* Little-endian decoding helpers. */
double csi_le_f32(const unsigned char *p);
double csi_le_f64(const unsigned char *p);
uint16_t csi_le_u16(const unsigned char *p);
uint32_t csi_le_u32(const unsigned char *p);
uint64_t csi_le_u64(const unsigned char *p);
/* Find needle (case-insensitive ASCII) in hay[0..n). NULL if absent. */
const unsigned char *csi_memcasemem(const unsigned char *hay, size_t n,
                                    const char *needle);
/* Split s in place at every sep into at most max fields f[]; returns the
 * number of fields, or max + 1 when there are more. */
int csi_split(char *s, char sep, char **f, int max);
/* Sniff helper for readers: skip a UTF-8 BOM and leading whitespace. */
const unsigned char *csi_skip_bom_ws(const unsigned char *p, size_t *n);

/* ---- axis.c: unit spellings ----
 * One map from the unit or axis-title spellings vendors write ("1/CM",
 * "cm-1", "Raman Shift", "WAVELENGTH (NM)", "Wave [nm]", "µm", "eV",
 * "Pixels" ...) to an axis kind, for every reader.  A bare reciprocal
 * centimetre is a Raman shift when tech is CS_TECH_RAMAN and an absolute
 * wavenumber otherwise.  Values become the axis' unit (nm, cm^-1, pixel) as
 * factor * v, or factor / v when inverse (photon energies). */
#define CSI_HC_EV_NM 1239.84198 /* hc/e in eV nm */
typedef struct csi_axis_unit {
  cs_axis axis; /* CS_AXIS_UNKNOWN: not a spelling in the map */
  double factor;
  int inverse;
  int by_technique; /* the spelling said cm^-1 only; tech chose the kind */
} csi_axis_unit;
csi_axis_unit csi_axis_from_unit(const char *unit, cs_technique tech);
/* Convert x[0..n) in place; an inverse unit needs positive values (the
 * message names unit and point). */
cs_status csi_axis_unit_apply(const csi_axis_unit *u, double *x, size_t n,
                              const char *unit, cs_error *err);

/* ---- readers (io.c and io_*.c) ----
 * A reader fills in one row of the table in readers.def.  sniff() scores the
 * first bytes of a file from 0 (not mine) to 100 (certainly mine).  read()
 * returns a dataset the caller owns; io.c adds source file, format and index
 * metadata afterwards.  write() is NULL for read-only formats. */
typedef struct csi_reader {
  const char *name;
  const char *extensions; /* comma-separated, lowercase, no dots */
  const char *description;
  int (*sniff)(const unsigned char *head, size_t n);
  cs_status (*read)(const char *path, cs_dataset **out, cs_error *err);
  cs_status (*write)(const cs_dataset *ds, const char *path, cs_error *err);
} csi_reader;

/* A format written spectrum by spectrum (cs_writer; io.c's table names
 * them, and their write() is NULL): put() writes
 * spectrum i's part of the file into the spool (a sink written in place),
 * finish() the whole file
 * (its head, which may depend on all n spectra, then the spool copied with
 * csi_spool_copy, then its tail) into out.  state: open()'s, NULL when out
 * of memory; free() releases it. */
typedef struct csi_wstream {
  void *(*open)(void);
  cs_status (*put)(void *state, const cs_spectrum *s, size_t i,
                   csi_sink *spool, cs_error *err);
  cs_status (*finish)(void *state, size_t n, FILE *spool, csi_sink *out,
                      cs_error *err);
  void (*free)(void *state);
} csi_wstream;
extern const csi_wstream csi_wstream_animl, csi_wstream_jcamp;
/* The spool from its start into out. */
cs_status csi_spool_copy(FILE *spool, csi_sink *out, cs_error *err);

/* Streaming, for the rows readers.def also names with CS_STREAM (the others
 * are read whole by cs_reader_open and handed out one by one).  open()
 * prepares *state for path; next() gives the next spectrum (the caller owns
 * it) or, at the end, CS_OK with *out NULL; close() frees the state (NULL
 * allowed); held() counts the spectra decoded and not yet handed out.  A
 * streaming reader holds a bounded part of the file (one experiment step,
 * block of columns or spectrum) at a time. */
typedef struct csi_stream {
  cs_status (*open)(const char *path, void **state, cs_error *err);
  cs_status (*next)(void *state, cs_spectrum **out, cs_error *err);
  void (*close)(void *state);
  size_t (*held)(const void *state);
  size_t (*count)(const void *state); /* spectra in the file, 0 unknown;
                                       * may be NULL */
} csi_stream;

/* A binary reader's read(): path read whole (csi_read_file, at most
 * CSI_MAX_FILE_BYTES), its bytes handed to parse to fill a new dataset; *out
 * gets the dataset, or NULL on failure. */
typedef cs_status (*csi_bytes_parse)(const unsigned char *b, size_t n,
                                     cs_dataset *ds, cs_error *err);
cs_status csi_read_bytes(const char *path, csi_bytes_parse parse,
                         cs_dataset **out, cs_error *err);

#define CS_READER(n) extern const csi_reader csi_reader_##n;
#define CS_STREAM(n) extern const csi_stream csi_stream_##n;
#include "readers.def"
#undef CS_READER
#undef CS_STREAM

/* ---- classifier: linalg.c, pca.c, lda.c, nnls.c (model.h: the model) ---- */
/* Thin SVD of the m x n column-major a (destroyed): s[min(m,n)] singular
 * values (descending), vt[min(m,n) x n] right singular vectors. */
cs_status csi_svd_thin(size_t m, size_t n, double *a, double *s, double *vt,
                       cs_error *err);
/* A x = lambda B x for symmetric A, positive definite B (n x n, column-major,
 * lower triangles used): eigenvalues ascending in w, B-orthonormal
 * eigenvectors in the columns of a; b is overwritten. */
cs_status csi_sygv(size_t n, double *a, double *b, double *w, cs_error *err);
/* Least squares min |A x - b| for the full-rank m x n (m >= n) column-major
 * a (destroyed); the solution is in b[0..n). */
cs_status csi_lstsq(size_t m, size_t n, double *a, double *b, cs_error *err);

typedef struct csi_pca {
  size_t p, k;       /* points per spectrum, components kept */
  double *mean;      /* p */
  double *loadings;  /* k rows of p: loading c at loadings + c*p */
  double *eigval;    /* k score variances */
  double explained;  /* fraction of total variance kept */
} csi_pca;
/* PCA of x (n spectra x p points, column-major: point j of spectrum i at
 * x[j*n + i]).  k_req > 0 keeps that many components (capped at the rank),
 * else the fewest that explain evr of the variance; never more than k_max
 * (0 = no cap). */
cs_status csi_pca_fit(const double *x, size_t n, size_t p, size_t k_req,
                      double evr, size_t k_max, csi_pca *out, cs_error *err);
/* Scores t[k] of one spectrum x[p]; Hotelling T^2 and Q residual (either
 * may be NULL). */
void csi_pca_project(const csi_pca *m, const double *x, double *t, double *t2,
                     double *q);
void csi_pca_free(csi_pca *m);

typedef struct csi_lda {
  size_t k, d, c;    /* score dims, discriminant dims, classes */
  double *dir;       /* d directions of length k */
  double *centroids; /* c x d */
  double shrinkage;  /* lambda used */
} csi_lda;
/* LDA on scores t (n x k column-major) with labels 0..c-1; shrinkage < 0
 * estimates lambda by Ledoit-Wolf. */
cs_status csi_lda_fit(const double *t, size_t n, size_t k, const int *label,
                      size_t c, double shrinkage, csi_lda *out, cs_error *err);
/* Posteriors post[c] of scores t; d2[c] (may be NULL) receives the squared
 * distance to each class centroid in the discriminant space. */
void csi_lda_posteriors(const csi_lda *m, const double *log_prior,
                        const double *t, double *post, double *d2);
void csi_lda_free(csi_lda *m);
/* The model text compiled into the library for technique t (generated at
 * build time from the generated build/gen/reference; see the Makefile), or NULL. */
/* The i-th embedded default model text of technique t (widest window
 * first), or NULL past the last. */
const char *csi_default_model(cs_technique t, size_t i, size_t *len);
/* min |A x - b|, x >= 0 (Lawson-Hanson); a is m x n column-major, n <=
 * CS_MAX_CLASSES; gram: A'A from csi_nnls_gram (n x n), or NULL to make it
 * here. */
cs_status csi_nnls(const double *a, const double *gram, size_t m, size_t n,
                   const double *b, double *x, double *rnorm, cs_error *err);
void csi_nnls_gram(const double *a, size_t m, size_t n, double *g);


/* ---- linalg.c (the only file that calls LAPACK) ---- */
/* Cholesky L L' of the k x k symmetric matrix g (row-major; its lower
 * triangle is read) into L (row-major lower triangle; may be g).  Returns
 * 0, or the 1-based column whose pivot is not above rel times the largest
 * pivot (the matrix is, to rel, not positive definite: for a Gram matrix
 * V'V, V's columns are dependent).  For the few unknowns of a normal
 * equation, where a LAPACK call costs more than the arithmetic. */
size_t csi_cholesky(const double *g, size_t k, double rel, double *L);
/* b := (L L')^-1 b with L from csi_cholesky. */
void csi_cholesky_solve(const double *L, size_t k, double *b);
/* Once per process, before the first LAPACK/BLAS call (every linalg.c
 * entry calls it): OpenBLAS to one thread unless OPENBLAS_NUM_THREADS is
 * set (calcspec's matrices are small; its own threads do the parallel
 * work). */
void csi_blas_init(void);
/* Solve A x = b in place for a symmetric positive-definite band matrix of
 * order n with kd sub-diagonals in LAPACK lower band storage,
 * ab[(i - j) + j * (kd + 1)] = A(i, j) for j <= i <= j + kd (column major).
 * ab is overwritten by a factorisation.  CS_ERR_NUMERIC when A is not
 * positive definite.  csi_pb_solve uses dpbtrf/dpbtrs; csi_pb_solve_small is
 * a faster hand-written band Cholesky/LDL^T for kd <= 3 with the same
 * contract (the tests check both against each other and the peer). */
cs_status csi_pb_solve(size_t n, int kd, double *ab, double *b, cs_error *err);
cs_status csi_pb_solve_small(size_t n, int kd, double *ab, double *b,
                             cs_error *err);
/* kd = 2 only, same storage and result as csi_pb_solve_small but as two
 * interleaved elimination chains (top down and bottom up, meeting at a
 * 2-row separator), about twice as fast on out-of-order cores.  Below
 * CSI_PENTA_SPLIT_MIN rows it is the single-chain solver. */
#define CSI_PENTA_SPLIT_MIN 16
cs_status csi_penta_solve_split(size_t n, double *ab, double *b,
                                cs_error *err);

/* Pseudo-inverse of a full-rank m x k matrix a (m >= k, column major) via QR
 * (dgeqrf/dorgqr/dtrtrs): pinv is k x m, column major (pinv[j + i * k]).
 * CS_ERR_NUMERIC when a is rank deficient. */
cs_status csi_pinv_full_rank(const double *a, size_t m, size_t k,
                             double *pinv, cs_error *err);

/* ---- baseline.c ---- */
/* cs_baseline_fit with a choice of banded solver for the Whittaker methods
 * (lapack != 0: dpbtrf/dpbtrs, else csi_pb_solve_small); for tests. */
cs_status csi_baseline_fit_solver(const double *x, const double *y, size_t n,
                                  const cs_baseline_opts *o, double *baseline,
                                  int lapack, cs_error *err);
/* Baselines of count spectra of n points (x[k] may be NULL, x itself too)
 * into the caller's z[k].  AsLS, arPLS and airPLS with diff_order 2 run
 * several spectra at once, one per vector lane (whit_batch_kern.h), with
 * the scalar solver's arithmetic; other methods, and any spectrum the lanes
 * cannot finish, go through csi_baseline_fit_solver.  st_each[k] and
 * err_each[k] (either may be NULL) get each spectrum's outcome; the return
 * value is the first failure, its message prefixed "spectrum k: ". */
cs_status csi_baseline_fit_many(const double *const *x,
                                const double *const *y, size_t n,
                                size_t count, const cs_baseline_opts *o,
                                double *const *z, cs_status *st_each,
                                cs_error *err_each, cs_error *err);
/* Which lane kernel csi_baseline_fit_many uses: AUTO picks the widest the
 * CPU runs; the others force a path (tests, benchmarks).  A forced path the
 * CPU lacks, and SCALAR, mean one spectrum at a time. */
typedef enum {
  CSI_SIMD_AUTO,
  CSI_SIMD_SCALAR,
  CSI_SIMD_PORTABLE, /* 2 lanes, plain GCC vectors (SSE2 on x86-64) */
  CSI_SIMD_AVX2,     /* 4 lanes */
  CSI_SIMD_AVX512    /* 8 lanes */
} csi_simd;
extern csi_simd csi_baseline_simd_force;
/* Lanes of path s on this CPU (AUTO: the one it picks), 0 when absent. */
int csi_baseline_simd_lanes(csi_simd s);
/* ---- smooth.c ----
 * FFTW's planner is not thread-safe: every fftw_plan_* / fftw_destroy_plan
 * (and fftw_malloc/fftw_free, to be safe) in the library runs between these
 * two calls.  fftw_execute needs no lock. */
void csi_fftw_lock(void);
void csi_fftw_unlock(void);
/* ---- rng.c ----
 * Self-contained PRNG so simulated spectra and cross-validation folds are
 * identical on every machine: xoshiro256** (Blackman & Vigna 2018) seeded
 * through splitmix64. */
typedef struct csi_rng {
  uint64_t s[4];
} csi_rng;
void csi_rng_seed(csi_rng *r, uint64_t seed);
uint64_t csi_rng_next(csi_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double csi_rng_uniform(csi_rng *r);
/* Standard normal (Box-Muller, one value per call). */
double csi_rng_normal(csi_rng *r);
/* Poisson(mean): exact (Knuth) below 30, rounded normal approximation
 * above. */
double csi_rng_poisson(csi_rng *r, double mean);

/* ---- composition.c ---- */
/* The carbonate calibration text compiled in for technique t (generated at
 * build time from spectra/calibration; see the Makefile), or NULL. */
const char *csi_default_calibration(cs_technique t, size_t *len);
/* The Kontoyannis COM fraction of s (ascending Raman shift, covering
 * 1420-1500 cm^-1) into o (zeroed first: com_frac, oxalate_ir, fit_r2,
 * fit_iterations, com_reason and CS_COMP_COM in valid), as
 * cs_composition_measure computes it; reference 1: by the general GSL band
 * fit over all 11 parameters run to 1e-13 instead, from the same start;
 * reference 2: the same GSL fit started from the fast fit's optimum (it
 * stays there when that is a minimum).  The yardsticks the tests hold the
 * fast fit to.  CS_ERR_NOMEM only; fit failures are reasons. */
cs_status csi_oxalate_com(const cs_spectrum *s, int reference,
                          cs_composition *o, cs_error *err);
/* Stage 1 of the Raman apatite measurement (README "Composition of one
 * spectrum") on the Raman spectrum s: the 6 shape parameters (nu1 position
 * and intrinsic FWHM, instrument FWHM, axis offset, nu3 FWHM, nu3 1046
 * position) into P[0..5], the window's R^2 and the fit's iterations, as
 * cs_composition_measure computes them (variable projection); reference 1:
 * by GSL's band fit over all 16 parameters run to 1e-13 from the same
 * start, 2: the same from the fast fit's optimum (the fast fit's error,
 * e.g. CS_ERR_NUMERIC, when it fails).  Reference 0 falls back to GSL
 * from the start when the fast fit fails with CS_ERR_NUMERIC.  The
 * yardsticks the tests and bench_composition hold the fast fit to. */
#define CSI_AP_SHAPES 6
cs_status csi_apatite_shapes(const cs_spectrum *s, int reference, double *P,
                             double *r2, size_t *iters, cs_error *err);


/* Mineral detection and tissue-free features (detect.c). */
typedef struct csi_detector csi_detector;
/* Default detection threshold in sigma (README "Classifier"). */
#define CSI_DETECT_SIGMA 6.5
/* The grey zone below the detection threshold: mineral there only when
 * spread_t >= CSI_SPREAD_T (model.c csi_model_decide) */
#define CSI_GREY_SIGMA 4.5
#define CSI_SPREAD_T 2.0
enum { CSI_OFFSET_NONE, CSI_OFFSET_TISSUE, CSI_OFFSET_MINERAL };
typedef struct csi_detection {
  double snr;       /* best mineral template amplitude / its standard error */
  double amplitude; /* that amplitude (row units x sqrt(points)) */
  const char *cls;  /* class of the best template */
  double shift;     /* its shift, cm^-1 */
  double offset;    /* axis offset applied or estimated, cm^-1 */
  int offset_source; /* CSI_OFFSET_* */
  double phe_t;     /* phenylalanine band t statistic */
  double ref_t;     /* combined t of the tissue reference bands */
  /* best pass-1 t of each template (detect.c order: COD, COM, HA,
   * whitlockite, calcite) */
#define CSI_NTEMPLATES 5
  double tmpl_t[CSI_NTEMPLATES];
  /* apatite spacing statistic (detect.c apatite_split): nonzero apa_ok
   * when computed; nu1 the measured PO4 nu1 position (cm^-1, on the row's
   * axis); apa_z > 0 whitlockite's weak bands, < 0 HA's, in standard
   * errors */
  int apa_ok;
  double nu1, apa_z;
  /* Raman, snr in [CSI_GREY_SIGMA, threshold): t of the best template's
   * bands away from its dominant band (detect.c spread_t); else 0 */
  double spread_t;
  /* unexplained-band statistic (detect.c unexplained), per class group
   * (0 oxalate, 1 hydroxyapatite/whitlockite, 2 calcite): the strongest
   * significant band of the residual after the group's templates, over
   * the group's own main band (ub_ratio), where (ub_pos, cm^-1) and its t;
   * ub_ok when computed (Raman) */
#define CSI_UB_GROUPS 3
  int ub_ok;
  double ub_ratio[CSI_UB_GROUPS], ub_pos[CSI_UB_GROUPS], ub_t[CSI_UB_GROUPS];
  /* detected without the tissue columns at main mineral bands: the
   * spectrum has no tissue signature elsewhere (detect.c
   * no_tissue_signature) */
  int bare;
  /* noise variance (median of the local first-difference noise, squared)
   * and the tissue columns' fit energy beyond noise in units of it */
  double noise_var, tissue_excess;
  size_t tissue_cols;
  size_t row;                /* the best template row (detector's own) */
  double phe_amp, phe_se;    /* phenylalanine band height and its SE */
} csi_detection;
/* A detector for a Raman model axis lo + step * j, j < p. */
cs_status csi_detector_new(cs_technique tech, double lo, double step, size_t p,
                           csi_detector **out, cs_error *err);
void csi_detector_free(csi_detector *d);
/* The detector in *slot: built by csi_detector_new on the first call, under
 * lock, then immutable; later calls (any thread) take no lock.  The slot
 * owns it. */
cs_status csi_detector_once(csi_detector *_Atomic *slot, pthread_mutex_t *lock,
                            cs_technique tech, double lo, double step,
                            size_t p, const csi_detector **out, cs_error *err);
/* The argument and window checks of csi_detector_new without building the
 * basis (same errors; a window that passes them can still fail to build
 * when every template lies in the nuisance span). */
/* Builds d's bare detector now (else built on first need); CS_OK when d has
 * none. */
cs_status csi_detector_prepare(const csi_detector *d, cs_error *err);
cs_status csi_detector_check(cs_technique tech, double lo, double step,
                             size_t p, cs_error *err);
/* Detect mineral in row (raw counts on the axis; corrected in place for a
 * phenylalanine axis offset).  feat (p, may be NULL) receives the
 * nuisance residual over its norm in the feature windows.  Raman:
 * out->spread_t is computed when CSI_GREY_SIGMA <= snr < threshold. */
cs_status csi_detect(const csi_detector *d, double *row, double threshold,
                     csi_detection *out, double *feat, cs_error *err);
/* Nonzero: csi_detect sums its dot products serially, in point order,
 * instead of in eight vector partial sums, and projects the nuisance basis
 * off one column at a time (modified Gram-Schmidt) instead of from the
 * row's coefficients (classical, four columns per pass).  For the tests,
 * which check that both agree to 1e-9; not thread-safe to change while
 * detecting. */
extern int csi_detect_serial_sums;
/* Tests: 1 forces the portable (SSE2) kernels of csi_detect instead of the
 * AVX2 ones the CPU may offer (both give the same bits). */
extern int csi_detect_portable;
/* Tests: 1 forces the portable (SSE2) kernels of the oxalate fit, 2 the
 * AVX2 ones, instead of the best the CPU offers (AVX-512; all give the same
 * bits). */
extern int csi_oxalate_portable;

#endif /* CALCSPEC_INTERNAL_H */
