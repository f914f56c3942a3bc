/* baseline.c: baseline estimation (Whittaker, polynomial and SNIP families)
 * with pybaselines 1.2.1 algorithms and defaults, plus option handling. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[] = {
    [CS_BASELINE_NONE] = "none",       [CS_BASELINE_ASLS] = "asls",
    [CS_BASELINE_ARPLS] = "arpls",     [CS_BASELINE_AIRPLS] = "airpls",
    [CS_BASELINE_MODPOLY] = "modpoly", [CS_BASELINE_IMODPOLY] = "imodpoly",
    [CS_BASELINE_SNIP] = "snip",
};
#define NMETHODS (sizeof method_names / sizeof method_names[0])

const char *cs_baseline_method_name(cs_baseline_method m) {
  if ((unsigned)m >= NMETHODS)
    return NULL;
  return method_names[m];
}

cs_status cs_baseline_method_from_name(const char *name,
                                       cs_baseline_method *out) {
  for (size_t i = 0; name && i < NMETHODS; i++)
    if (strcmp(name, method_names[i]) == 0) {
      *out = (cs_baseline_method)i;
      return CS_OK;
    }
  return CS_ERR_ARG;
}

cs_baseline_opts cs_baseline_opts_default(cs_baseline_method m) {
  /* Values from the pybaselines 1.2.1 signatures (see
   * ../shared/peer/README.md for the ones the golden files rely on). */
  cs_baseline_opts o;
  memset(&o, 0, sizeof o);
  o.method = m;
  o.lam = m == CS_BASELINE_ARPLS ? 1e5 : 1e6;
  o.p = 1e-2;
  o.diff_order = 2;
  o.max_iter = (m == CS_BASELINE_MODPOLY || m == CS_BASELINE_IMODPOLY) ? 250 : 50;
  o.tol = 1e-3;
  o.poly_order = 2;
  o.max_half_window = 0; /* auto */
  o.num_std = 1.0;
  o.use_original = 0;
  o.mask_initial_peaks = m == CS_BASELINE_IMODPOLY;
  o.decreasing = 0;
  o.smooth_half_window = 0;
  o.filter_order = 2;
  return o;
}

/* ---- options: one table row per field ---- */

enum { T_DBL, T_INT, T_BOOL };
#define M_(m) (1u << (m))
#define M_WHIT (M_(CS_BASELINE_ASLS) | M_(CS_BASELINE_ARPLS) | M_(CS_BASELINE_AIRPLS))
#define M_POLY (M_(CS_BASELINE_MODPOLY) | M_(CS_BASELINE_IMODPOLY))
#define M_SNIP M_(CS_BASELINE_SNIP)

typedef struct field {
  const char *name;
  int type;
  size_t off;
  unsigned methods; /* bit set of methods that use the field */
} field;

#define F_(name, type, methods)                                                \
  { #name, type, offsetof(cs_baseline_opts, name), methods }
static const field fields[] = {
    F_(lam, T_DBL, M_WHIT),
    F_(p, T_DBL, M_(CS_BASELINE_ASLS)),
    F_(diff_order, T_INT, M_WHIT),
    F_(max_iter, T_INT, M_WHIT | M_POLY),
    F_(tol, T_DBL, M_WHIT | M_POLY),
    F_(poly_order, T_INT, M_POLY),
    F_(num_std, T_DBL, M_(CS_BASELINE_IMODPOLY)),
    F_(use_original, T_BOOL, M_POLY),
    F_(mask_initial_peaks, T_BOOL, M_POLY),
    F_(max_half_window, T_INT, M_SNIP),
    F_(decreasing, T_BOOL, M_SNIP),
    F_(smooth_half_window, T_INT, M_SNIP),
    F_(filter_order, T_INT, M_SNIP),
};
#define NFIELDS (sizeof fields / sizeof fields[0])

const char *cs_baseline_key_name(size_t i) {
  return i < NFIELDS ? fields[i].name : NULL;
}

static int uses(const cs_baseline_opts *o, const char *name) {
  for (size_t i = 0; i < NFIELDS; i++)
    if (strcmp(fields[i].name, name) == 0)
      return (fields[i].methods & M_(o->method)) != 0;
  return 0;
}

/* Limits keep every loop and allocation bounded; they are far beyond what
 * baseline work on spectra needs. */
#define MAX_ITER_LIMIT 10000 /* ~0.2 s per 1024-point spectrum at worst */
#define MAX_LAM 1e12 /* far above any useful smoothness (1e2..1e9) */
#define MAX_POLY_ORDER 20
#define MAX_DIFF_ORDER 3

cs_status cs_baseline_opts_check(const cs_baseline_opts *o, size_t n,
                                 cs_error *err) {
  if (!o)
    return csi_error(err, CS_ERR_ARG, "baseline options are NULL");
  const char *m = cs_baseline_method_name(o->method);
  if (!m)
    return csi_error(err, CS_ERR_ARG, "unknown baseline method %d",
                     (int)o->method);
  if (uses(o, "lam") && !(o->lam > 0 && o->lam <= MAX_LAM))
    return csi_error(err, CS_ERR_ARG, "%s: lam must be > 0 and <= %g, got %g",
                     m, MAX_LAM, o->lam);
  if (uses(o, "p") && !(o->p > 0 && o->p < 1))
    return csi_error(err, CS_ERR_ARG, "%s: p must be between 0 and 1, got %g",
                     m, o->p);
  if (uses(o, "diff_order") &&
      (o->diff_order < 1 || o->diff_order > MAX_DIFF_ORDER))
    return csi_error(err, CS_ERR_ARG, "%s: diff_order must be 1..%d, got %d", m,
                     MAX_DIFF_ORDER, o->diff_order);
  if (uses(o, "max_iter") && (o->max_iter < 0 || o->max_iter > MAX_ITER_LIMIT))
    return csi_error(err, CS_ERR_ARG, "%s: max_iter must be 0..%d, got %d", m,
                     MAX_ITER_LIMIT, o->max_iter);
  if (uses(o, "tol") && !(isfinite(o->tol) && o->tol >= 0))
    return csi_error(err, CS_ERR_ARG, "%s: tol must be finite and >= 0, got %g",
                     m, o->tol);
  if (uses(o, "poly_order") &&
      (o->poly_order < 0 || o->poly_order > MAX_POLY_ORDER))
    return csi_error(err, CS_ERR_ARG, "%s: poly_order must be 0..%d, got %d", m,
                     MAX_POLY_ORDER, o->poly_order);
  if (uses(o, "num_std") && !(isfinite(o->num_std) && o->num_std >= 0))
    return csi_error(err, CS_ERR_ARG,
                     "%s: num_std must be finite and >= 0, got %g", m,
                     o->num_std);
  static const char *const bools[] = {"use_original", "mask_initial_peaks",
                                      "decreasing"};
  const int bvals[] = {o->use_original, o->mask_initial_peaks, o->decreasing};
  for (size_t i = 0; i < 3; i++)
    if (uses(o, bools[i]) && bvals[i] != 0 && bvals[i] != 1)
      return csi_error(err, CS_ERR_ARG, "%s: %s must be 0 or 1, got %d", m,
                       bools[i], bvals[i]);
  if (uses(o, "max_half_window") &&
      (o->max_half_window < 0 || (size_t)o->max_half_window > CSI_MAX_POINTS))
    return csi_error(err, CS_ERR_ARG,
                     "%s: max_half_window must be >= 0 (0 = auto), got %d", m,
                     o->max_half_window);
  if (uses(o, "smooth_half_window") &&
      (o->smooth_half_window < 0 ||
       (size_t)o->smooth_half_window > CSI_MAX_POINTS))
    return csi_error(err, CS_ERR_ARG,
                     "%s: smooth_half_window must be >= 0, got %d", m,
                     o->smooth_half_window);
  if (uses(o, "filter_order") && o->filter_order != 2 &&
      o->filter_order != 4 && o->filter_order != 6 && o->filter_order != 8)
    return csi_error(err, CS_ERR_ARG,
                     "%s: filter_order must be 2, 4, 6 or 8, got %d", m,
                     o->filter_order);
  if (n == 0)
    return CS_OK;
  if (n > CSI_MAX_POINTS || n > INT_MAX)
    return csi_error(err, CS_ERR_ARG, "%s: %zu points is too many", m, n);
  if (uses(o, "diff_order") && n <= (size_t)o->diff_order)
    return csi_error(err, CS_ERR_ARG,
                     "%s: needs more than diff_order=%d points, got %zu", m,
                     o->diff_order, n);
  if (uses(o, "poly_order") && n <= (size_t)o->poly_order)
    return csi_error(err, CS_ERR_ARG,
                     "%s: needs more than poly_order=%d points, got %zu", m,
                     o->poly_order, n);
  if (o->method == CS_BASELINE_SNIP && n < 3)
    return csi_error(err, CS_ERR_ARG, "snip: needs at least 3 points, got %zu",
                     n);
  return CS_OK;
}

static int parse_int(const char *s, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end || errno == ERANGE || v < INT_MIN || v > INT_MAX)
    return -1;
  *out = (int)v;
  return 0;
}

static int parse_bool(const char *s, int *out) {
  if (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes")) {
    *out = 1;
    return 0;
  }
  if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "no")) {
    *out = 0;
    return 0;
  }
  return -1;
}

/* Longest spec accepted; options are short, this only bounds the copy. */
#define SPEC_MAX 1024

cs_status cs_baseline_opts_parse(const char *spec, cs_baseline_opts *out,
                                 cs_error *err) {
  if (!spec || !out)
    return csi_error(err, CS_ERR_ARG, "baseline spec is NULL");
  size_t len = strlen(spec);
  if (len >= SPEC_MAX)
    return csi_error(err, CS_ERR_ARG, "baseline spec longer than %d characters",
                     SPEC_MAX - 1);
  char buf[SPEC_MAX];
  memcpy(buf, spec, len + 1);
  char *colon = strchr(buf, ':');
  if (colon)
    *colon = '\0';
  char *name = csi_trim(buf);
  cs_baseline_method m;
  if (cs_baseline_method_from_name(name, &m) != CS_OK)
    return csi_error(err, CS_ERR_ARG,
                     "unknown baseline method '%s' (known: none, asls, arpls, "
                     "airpls, modpoly, imodpoly, snip)",
                     name);
  cs_baseline_opts o = cs_baseline_opts_default(m);
  char *rest = colon ? colon + 1 : NULL;
  while (rest) {
    char *item = rest;
    char *comma = strchr(item, ',');
    rest = comma ? comma + 1 : NULL;
    if (comma)
      *comma = '\0';
    char *eq = strchr(item, '=');
    if (!eq)
      return csi_error(err, CS_ERR_ARG, "%s: expected key=value, got '%s'",
                       name, csi_trim(item));
    *eq = '\0';
    char *key = csi_trim(item), *val = csi_trim(eq + 1);
    const field *f = NULL;
    for (size_t i = 0; i < NFIELDS; i++)
      if (!strcmp(fields[i].name, key))
        f = &fields[i];
    if (!f)
      return csi_error(err, CS_ERR_ARG, "%s: unknown option '%s'", name, key);
    if (!(f->methods & M_(m)))
      return csi_error(err, CS_ERR_ARG, "%s: option '%s' does not apply", name,
                       key);
    void *dst = (char *)&o + f->off;
    int bad;
    if (f->type == T_DBL)
      bad = csi_parse_double(val, (double *)dst);
    else if (f->type == T_INT)
      bad = parse_int(val, (int *)dst);
    else
      bad = parse_bool(val, (int *)dst);
    if (bad)
      return csi_error(err, CS_ERR_ARG, "%s: bad %s value '%s' for %s", name,
                       f->type == T_DBL   ? "number"
                       : f->type == T_INT ? "integer"
                                          : "boolean",
                       val, key);
  }
  cs_status st = cs_baseline_opts_check(&o, 0, err);
  if (st != CS_OK)
    return st;
  *out = o;
  return CS_OK;
}

cs_status cs_baseline_opts_format(const cs_baseline_opts *o, char *buf,
                                  size_t cap, cs_error *err) {
  cs_status st = cs_baseline_opts_check(o, 0, err);
  if (st != CS_OK)
    return st;
  if (!buf || cap == 0)
    return csi_error(err, CS_ERR_ARG, "no buffer for the baseline spec");
  size_t used = 0; /* csi_snprintf prints '.' whatever the locale */
  int ok = 1;
  int k = csi_snprintf(buf, cap, "%s", cs_baseline_method_name(o->method));
  if (k < 0 || (size_t)k >= cap)
    ok = 0;
  else
    used = (size_t)k;
  char sep = ':';
  for (size_t i = 0; ok && i < NFIELDS; i++) {
    const field *f = &fields[i];
    if (!(f->methods & M_(o->method)))
      continue;
    const void *src = (const char *)o + f->off;
    if (f->type == T_DBL)
      k = csi_snprintf(buf + used, cap - used, "%c%s=%.17g", sep, f->name,
                   *(const double *)src);
    else
      k = csi_snprintf(buf + used, cap - used, "%c%s=%d", sep, f->name,
                   *(const int *)src);
    if (k < 0 || (size_t)k >= cap - used)
      ok = 0;
    else
      used += (size_t)k;
    sep = ',';
  }
  if (!ok) {
    buf[0] = '\0';
    return csi_error(err, CS_ERR_ARG,
                     "baseline spec does not fit in %zu bytes", cap);
  }
  return CS_OK;
}

/* ---- shared numerics ---- */

/* pybaselines' guard against dividing by zero (utils._MIN_FLOAT, the
 * smallest normal double). */
#define MIN_FLOAT DBL_MIN

/* pybaselines.utils.relative_difference: ||new - old||_2 / max(||old||_2,
 * MIN_FLOAT). */
static double rel_diff(const double *old, const double *new_, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    double d = new_[i] - old[i];
    num += d * d;
    den += old[i] * old[i];
  }
  return sqrt(num) / fmax(sqrt(den), MIN_FLOAT);
}

/* rel_diff from its two sums of squares. */
static double rel_diff_sums(double num, double den) {
  return sqrt(num) / fmax(sqrt(den), MIN_FLOAT);
}

/* arPLS weight (Baek 2015 eq. 9) of residual r: 1 / (1 + exp(2 (r - (2 sd
 * - mean)) / sd)) with scale = 2 / sd, shift = 2 sd - mean.  Below -38,
 * exp < 2^-53 and the weight rounds to exactly 1 anyway.  Above ARPLS_T_MAX
 * the weight would fall below 1.6e-148; keeping it there (not smaller) keeps
 * w^2 and every later product out of the subnormal range, where each
 * operation costs a microcode assist of ~100 cycles; the baseline moves by
 * < 1e-140 relative. */
#define ARPLS_T_MAX 340.0
static inline double arpls_weight(double r, double scale, double shift) {
  double t = scale * (r - shift);
  t = t < -38.0 ? -38.0 : t > ARPLS_T_MAX ? ARPLS_T_MAX : t;
  return 1.0 / (1.0 + exp(t));
}

/* Population standard deviation (numpy's default ddof=0), two-pass. */
static double std_pop(const double *a, const double *b, size_t n) {
  double mean = 0;
  for (size_t i = 0; i < n; i++)
    mean += a[i] - b[i];
  mean /= (double)n;
  double ss = 0;
  for (size_t i = 0; i < n; i++) {
    double d = a[i] - b[i] - mean;
    ss += d * d;
  }
  return sqrt(ss / (double)n);
}

/* ---- Whittaker smoothing family: (W + lam D'D) z = W y ---- */


/* Lower band of lam * D'D (d-th order differences) into pen[(i-j) + j*(d+1)],
 * zero outside the matrix.  (D'D)(i, i+s) = sum over rows r of D that touch
 * both columns of c[i-r] * c[i+s-r], c = the d-th difference stencil. */
static void penalty_band(size_t n, int d, double lam, double *pen) {
  double c[MAX_DIFF_ORDER + 1] = {1};
  for (int k = 0; k < d; k++) { /* difference of the previous stencil */
    for (int m = k + 1; m > 0; m--)
      c[m] = c[m - 1] - c[m];
    c[0] = -c[0];
  }
  size_t ld = (size_t)d + 1, rows = n - (size_t)d; /* D is rows x n */
  for (size_t j = 0; j < n; j++)
    for (int s = 0; s <= d; s++) {
      double v = 0;
      size_t i = j + (size_t)s;
      if (i < n)
        for (int m = 0; m + s <= d; m++) { /* row r = j - m touches j and i */
          if ((size_t)m > j)
            break;
          size_t r = j - (size_t)m;
          if (r < rows)
            v += c[m] * c[m + s];
        }
      pen[(size_t)s + j * ld] = lam * v;
    }
}

typedef struct whit {
  size_t n;
  int d, lapack;
  const double *pen;
  double *ab;
} whit;

/* z = (W + P)^-1 W y for the current weights. */
static cs_status whit_solve(whit *ws, const double *y, const double *w,
                            double *z, cs_error *err) {
  size_t n = ws->n, ld = (size_t)ws->d + 1;
  memcpy(ws->ab, ws->pen, n * ld * sizeof *ws->ab);
  for (size_t j = 0; j < n; j++) {
    ws->ab[j * ld] += w[j];
    z[j] = w[j] * y[j];
  }
  if (ws->lapack)
    return csi_pb_solve(n, ws->d, ws->ab, z, err);
  if (ws->d == 2)
    return csi_penta_solve_split(n, ws->ab, z, err);
  return csi_pb_solve_small(n, ws->d, ws->ab, z, err);
}

/* The loops follow pybaselines 1.2.1 whittaker.asls/arpls/airpls: solve, new
 * weights, stop when the relative change is below tol, at most max_iter + 1
 * solves; the baseline is that of the last solve. */
static cs_status fit_whittaker(const double *y, size_t n,
                               const cs_baseline_opts *o, double *z, int lapack,
                               cs_error *err) {
  size_t ld = (size_t)o->diff_order + 1;
  double *pen = malloc(n * ld * sizeof *pen);
  double *ab = malloc(n * ld * sizeof *ab);
  double *w = malloc(n * sizeof *w), *wn = malloc(n * sizeof *wn);
  cs_status st = CS_OK;
  if (!pen || !ab || !w || !wn) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory for a %zu-point baseline",
                   n);
    goto done;
  }
  penalty_band(n, o->diff_order, o->lam, pen);
  whit ws = {n, o->diff_order, lapack, pen, ab};
  for (size_t i = 0; i < n; i++)
    w[i] = 1.0;
  double y_l1 = 0;
  for (size_t i = 0; i < n; i++)
    y_l1 += fabs(y[i]);
  for (int it = 1; it <= o->max_iter + 1; it++) {
    if ((st = whit_solve(&ws, y, w, z, err)) != CS_OK)
      goto done;
    /* The loops below avoid branches on the residual's sign (random for
     * noisy data, so mispredicted half the time), keep two partial sums
     * (even and odd points) in locals to halve the add-latency chains, and
     * fold the relative change of the weights into the weights pass. */
    double calc;
    size_t npair = n & ~(size_t)1;
    if (o->method == CS_BASELINE_ASLS) {
      double n0 = 0, n1 = 0, d0 = 0, d1 = 0;
      for (size_t i = 0; i < n; i++) {
        wn[i] = y[i] - z[i] > 0 ? o->p : 1 - o->p;
        double dw = wn[i] - w[i], sq = w[i] * w[i];
        if (i & 1)
          n1 += dw * dw, d1 += sq;
        else
          n0 += dw * dw, d0 += sq;
      }
      calc = rel_diff_sums(n0 + n1, d0 + d1);
    } else {
      /* arpls and airpls stop early when fewer than two points lie below
       * the baseline (pybaselines _weighting: exit_early). */
      double c0 = 0, c1 = 0, s0 = 0, s1 = 0;
      for (size_t i = 0; i < npair; i += 2) {
        double r0 = y[i] - z[i], r1 = y[i + 1] - z[i + 1];
        double m0 = r0 < 0, m1 = r1 < 0;
        c0 += m0, c1 += m1;
        s0 += m0 * r0, s1 += m1 * r1;
      }
      if (n & 1) {
        double r0 = y[n - 1] - z[n - 1], m0 = r0 < 0;
        c0 += m0, s0 += m0 * r0;
      }
      double nneg = c0 + c1, sum = s0 + s1;
      if (nneg < 2)
        break;
      if (o->method == CS_BASELINE_ARPLS) {
        /* Baek 2015 eq. 9: logistic in the residual, scaled by the mean and
         * sample std (ddof=1) of the negative residuals. */
        double mean = sum / nneg, q0 = 0, q1 = 0;
        for (size_t i = 0; i < npair; i += 2) {
          double r0 = y[i] - z[i], r1 = y[i + 1] - z[i + 1];
          double e0 = r0 - mean, e1 = r1 - mean;
          q0 += (double)(r0 < 0) * (e0 * e0);
          q1 += (double)(r1 < 0) * (e1 * e1);
        }
        if (n & 1) {
          double r0 = y[n - 1] - z[n - 1], e0 = r0 - mean;
          q0 += (double)(r0 < 0) * (e0 * e0);
        }
        double sd = sqrt((q0 + q1) / (nneg - 1));
        if (sd == 0)
          sd = MIN_FLOAT;
        double scale = 2.0 / sd, shift = 2 * sd - mean;
        double n0 = 0, n1 = 0, d0 = 0, d1 = 0;
        for (size_t i = 0; i < npair; i += 2) {
          double a0 = arpls_weight(y[i] - z[i], scale, shift);
          double a1 = arpls_weight(y[i + 1] - z[i + 1], scale, shift);
          double w0 = w[i], w1 = w[i + 1];
          wn[i] = a0, wn[i + 1] = a1;
          n0 += (a0 - w0) * (a0 - w0), n1 += (a1 - w1) * (a1 - w1);
          d0 += w0 * w0, d1 += w1 * w1;
        }
        if (n & 1) {
          double a0 = arpls_weight(y[n - 1] - z[n - 1], scale, shift);
          double w0 = w[n - 1];
          wn[n - 1] = a0;
          n0 += (a0 - w0) * (a0 - w0), d0 += w0 * w0;
        }
        calc = rel_diff_sums(n0 + n1, d0 + d1);
      } else {
        /* Zhang 2010 with the author's corrected eq. 9: w = exp(t |r| /
         * |sum r-|) below the baseline, 0 above; t capped at 50 and the
         * exponent clipped below log(DBL_MAX) as pybaselines does. */
        double t = it < 50 ? it : 50;
        double log_max = log(DBL_MAX);
        double cap = nextafter(log_max, 0), ts = t / sum;
        for (size_t i = 0; i < n; i++) {
          double r = y[i] - z[i];
          if (r < 0) { /* a branch: exp for every point costs more */
            double inner = ts * r;
            inner = inner < 0 ? 0 : inner > cap ? cap : inner;
            wn[i] = exp(inner);
          } else
            wn[i] = 0;
        }
        calc = y_l1 > 0 ? fabs(sum) / y_l1 : 0;
      }
    }
    if (calc < o->tol)
      break;
    double *tmp = w;
    w = wn;
    wn = tmp;
  }
done:
  free(pen);
  free(ab);
  free(w);
  free(wn);
  return st;
}

/* ---- polynomial family: ModPoly and IModPoly ---- */

/* How one weighted fit is solved: L, the Cholesky factor of V'WV, or,
 * where that is ill-conditioned, pinv (k x n), the QR pseudo-inverse of
 * sqrt(W) V as before 0.6. */
typedef struct {
  double L[(MAX_POLY_ORDER + 1) * (MAX_POLY_ORDER + 1)];
  double *pinv; /* NULL: L */
} polysolve;

/* z = V coef with coef the weighted least-squares fit of y (W = diag(sw),
 * 0/1 here: the pseudo-inverse of sqrt(W) V applied to sqrt(W) y). */
static void poly_fit(const polysolve *ps, const double *v, const double *sw,
                     const double *y, size_t n, size_t k, double *z) {
  double coef[MAX_POLY_ORDER + 1] = {0};
  if (k == 6 && !ps->pinv) { /* order 5 (QC's fluorescence baseline) */
    const double *v1 = v + n, *v2 = v + 2 * n, *v3 = v + 3 * n,
                 *v4 = v + 4 * n, *v5 = v + 5 * n;
    double c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0;
    for (size_t i = 0; i < n; i++) {
      double t = sw[i] * y[i];
      c0 += v[i] * t, c1 += v1[i] * t, c2 += v2[i] * t;
      c3 += v3[i] * t, c4 += v4[i] * t, c5 += v5[i] * t;
    }
    coef[0] = c0, coef[1] = c1, coef[2] = c2;
    coef[3] = c3, coef[4] = c4, coef[5] = c5;
    csi_cholesky_solve(ps->L, k, coef);
    c0 = coef[0], c1 = coef[1], c2 = coef[2];
    c3 = coef[3], c4 = coef[4], c5 = coef[5];
    for (size_t i = 0; i < n; i++) {
      double a = v[i] * c0;
      a += v1[i] * c1;
      a += v2[i] * c2;
      a += v3[i] * c3;
      a += v4[i] * c4;
      a += v5[i] * c5;
      z[i] = a;
    }
    return;
  }
  if (ps->pinv) {
    for (size_t i = 0; i < n; i++) {
      double t = sw[i] * y[i];
      const double *pc = ps->pinv + i * k;
      for (size_t j = 0; j < k; j++)
        coef[j] += pc[j] * t;
    }
  } else {
    for (size_t j = 0; j < k; j++) {
      const double *vc = v + j * n;
      double c = 0;
      for (size_t i = 0; i < n; i++)
        c += vc[i] * (sw[i] * y[i]);
      coef[j] = c;
    }
    csi_cholesky_solve(ps->L, k, coef);
  }
  for (size_t i = 0; i < n; i++)
    z[i] = v[i] * coef[0];
  for (size_t j = 1; j < k; j++) {
    const double *vc = v + j * n;
    double c = coef[j];
    for (size_t i = 0; i < n; i++)
      z[i] += vc[i] * c;
  }
}

/* Set ps up for the weights sw.  V holds Legendre polynomials of x on
 * [-1, 1] (the same fitted baseline as pybaselines' powers, which span the
 * same space), so V'WV is well conditioned and its Cholesky factor, k x k,
 * replaces a QR of the n x k design.  A pivot under 1e-6 of the largest
 * (points clustered by the mask, too few points) sends the fit to the QR
 * pseudo-inverse, which also decides rank deficiency as before 0.6. */
static cs_status poly_setup(const double *v, const double *sw, size_t n,
                            size_t k, polysolve *ps, cs_error *err) {
  double *L = ps->L;
  if (k == 6) { /* order 5 (QC): row a's six sums side by side in one pass,
                 * each in i order (the same bits, no waiting on one sum) */
    const double *v1 = v + n, *v2 = v + 2 * n, *v3 = v + 3 * n,
                 *v4 = v + 4 * n, *v5 = v + 5 * n;
    for (size_t a = 0; a < k; a++) {
      const double *va = v + a * n;
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0;
      for (size_t i = 0; i < n; i++) {
        double t = va[i] * sw[i];
        s0 += t * v[i], s1 += t * v1[i], s2 += t * v2[i];
        s3 += t * v3[i], s4 += t * v4[i], s5 += t * v5[i];
      }
      double s[6] = {s0, s1, s2, s3, s4, s5};
      for (size_t b = 0; b <= a; b++)
        L[a * k + b] = L[b * k + a] = s[b];
    }
  } else
  for (size_t a = 0; a < k; a++)
    for (size_t b = 0; b <= a; b++) {
      const double *va = v + a * n, *vb = v + b * n;
      double s = 0;
      for (size_t i = 0; i < n; i++)
        s += va[i] * sw[i] * vb[i];
      L[a * k + b] = L[b * k + a] = s;
    }
  free(ps->pinv);
  ps->pinv = NULL;
  if (!csi_cholesky(L, k, 1e-6, L))
    return CS_OK;
  double *a = malloc(2 * n * k * sizeof *a);
  if (!a)
    return csi_error(err, CS_ERR_NOMEM, "out of memory for a %zu-point "
                     "baseline", n);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < k; j++)
      a[i + j * n] = sw[i] * v[i + j * n];
  cs_status st = csi_pinv_full_rank(a, n, k, a + n * k, err);
  if (st) {
    free(a);
    return st;
  }
  memmove(a, a + n * k, n * k * sizeof *a);
  ps->pinv = a;
  return CS_OK;
}

/* fmin(x, y) as glibc computes it on x86-64 (minsd: x < y ? x : y, so y
 * for equal values and zeros of either sign; a NaN loses), inline instead
 * of a libm call per point. */
static inline double min_x86(double x, double y) {
  /* written without a branch (minsd, then a NaN y gives x): whether a point
   * is clipped is a coin toss on noisy data, and the mispredicted branch
   * was most of this loop's time */
  double m = x < y ? x : y;
  return y != y ? x : m;
}

/* pybaselines 1.2.1 polynomial.modpoly/imodpoly.  x is mapped onto [-1, 1]
 * (numpy mapdomain) before building the design matrix; every fit is
 * baseline = V coef with coef = pinv(sqrt(w) V) (sqrt(w) y) (poly_setup: by
 * the normal equations of a Legendre basis of the same polynomials). */
static cs_status fit_poly(const double *x, const double *y0, size_t n,
                          const cs_baseline_opts *o, double *z, cs_error *err) {
  size_t k = (size_t)o->poly_order + 1;
  polysolve ps;
  ps.pinv = NULL;
  double *v = malloc((k + 3) * n * sizeof *v); /* V, then y, w, old fit */
  if (!v)
    return csi_error(err, CS_ERR_NOMEM, "out of memory for a %zu-point "
                     "baseline", n);
  double *yy = v + k * n, *sw = yy + n, *zold = sw + n;
  cs_status st = CS_OK;
  double lo = x ? fmin(x[0], x[n - 1]) : 0;
  double hi = x ? fmax(x[0], x[n - 1]) : 0;
  double off = (hi * -1.0 - lo * 1.0) / (hi - lo), scl = 2.0 / (hi - lo);
  double step = n > 1 ? 2.0 / (double)(n - 1) : 0;
  for (size_t i = 0; i < n; i++) {
    /* Without x pybaselines uses np.linspace(-1, 1, n). */
    double xs = x ? off + scl * x[i] : (i + 1 == n ? 1.0 : (double)i * step - 1);
    double p0 = 1, p1 = xs; /* Legendre: (j+1) P_j+1 = (2j+1) x P_j - j P_j-1 */
    v[i] = 1;
    for (size_t j = 1; j < k; j++) {
      v[i + j * n] = p1;
      double p2 = ((double)(2 * j + 1) * xs * p1 - (double)j * p0) / (double)(j + 1);
      p0 = p1, p1 = p2;
    }
  }
  memcpy(yy, y0, n * sizeof *yy);
  for (size_t i = 0; i < n; i++)
    sw[i] = 1.0;
  if ((st = poly_setup(v, sw, n, k, &ps, err)) != CS_OK)
    goto done;
  poly_fit(&ps, v, sw, yy, n, k, z);
  double dev = std_pop(yy, z, n);
  if (o->mask_initial_peaks) {
    /* Zhao 2007: drop points above the first fit + one std (pybaselines
     * uses the plain std here for modpoly and imodpoly alike). */
    for (size_t i = 0; i < n; i++)
      if (z[i] + dev < yy[i])
        sw[i] = 0;
    if ((st = poly_setup(v, sw, n, k, &ps, err)) != CS_OK) {
      csi_error_prefix(err, "after masking peaks"); /* fit prefixes the name */
      goto done;
    }
  }
  int imod = o->method == CS_BASELINE_IMODPOLY;
  for (int it = 0; it < o->max_iter; it++) {
    const double *src = o->use_original ? y0 : yy;
    double calc;
    if (imod) {
      /* Zhao 2007: clip at baseline + num_std * std of the residual; stop
       * when that std settles (relative to the new one). */
      for (size_t i = 0; i < n; i++)
        yy[i] = min_x86(src[i], z[i] + o->num_std * dev);
      poly_fit(&ps, v, sw, yy, n, k, z);
      double nd = std_pop(yy, z, n);
      calc = fabs(dev - nd) / fmax(fabs(nd), MIN_FLOAT);
      if (calc < o->tol)
        break;
      dev = nd;
    } else {
      /* Lieber 2003: clip at the baseline; stop when it settles. */
      memcpy(zold, z, n * sizeof *z);
      for (size_t i = 0; i < n; i++)
        yy[i] = min_x86(src[i], z[i]);
      poly_fit(&ps, v, sw, yy, n, k, z);
      calc = rel_diff(zold, z, n);
      if (calc < o->tol)
        break;
    }
  }
done:
  free(v);
  free(ps.pinv);
  return st;
}

/* ---- SNIP ---- */

/* Index into a[0..n) under scipy.ndimage's 'reflect' mode (d c b a | a b c d
 * | d c b a), for any j. */
static size_t reflect(ptrdiff_t j, size_t n) {
  ptrdiff_t p = 2 * (ptrdiff_t)n;
  j %= p;
  if (j < 0)
    j += p;
  return (size_t)(j < (ptrdiff_t)n ? j : p - 1 - j);
}

/* out[j] = min (or max) of in[j-h..j+h], reflect mode, with a monotonic
 * deque (O(n)).  dq holds n + 2h indices. */
static void minmax_filter(const double *in, size_t n, size_t h, int want_max,
                          double *out, size_t *dq) {
  size_t head = 0, tail = 0, w = 2 * h + 1;
  for (size_t e = 0; e < n + 2 * h; e++) { /* e: index into the extension */
    double v = in[reflect((ptrdiff_t)e - (ptrdiff_t)h, n)];
    while (tail > head) {
      double u = in[reflect((ptrdiff_t)dq[tail - 1] - (ptrdiff_t)h, n)];
      if (want_max ? u <= v : u >= v)
        tail--;
      else
        break;
    }
    dq[tail++] = e;
    if (dq[head] + w <= e)
      head++;
    if (e + 1 >= w)
      out[e + 1 - w] = in[reflect((ptrdiff_t)dq[head] - (ptrdiff_t)h, n)];
  }
}

/* Grey opening (erosion then dilation, flat window 2h+1) as
 * scipy.ndimage.grey_opening. */
static void grey_opening(const double *y, size_t n, size_t h, double *tmp,
                         double *out, size_t *dq) {
  minmax_filter(y, n, h, 0, tmp, dq);
  minmax_filter(tmp, n, h, 1, out, dq);
}

/* pybaselines.utils.optimize_window with its defaults (increment 1, 3 hits,
 * window_tol 1e-6, half windows 1 .. (n-1)/2): the first half window after
 * which the morphological opening stops changing.  The default for SNIP's
 * max_half_window. */
static cs_status optimize_window(const double *y, size_t n, size_t *out,
                                 cs_error *err) {
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  double *t = malloc(n * sizeof *t);
  size_t *dq = malloc(2 * n * sizeof *dq);
  if (!a || !b || !t || !dq) {
    free(a), free(b), free(t), free(dq);
    return csi_error(err, CS_ERR_NOMEM, "out of memory for a %zu-point window",
                     n);
  }
  size_t max_hw = (n - 1) / 2, hw = 1, best = 1;
  int hits = 0;
  grey_opening(y, n, 1, t, a, dq);
  for (size_t h = 2; h < max_hw; h++) {
    hw = h;
    grey_opening(y, n, h, t, b, dq);
    if (rel_diff(a, b, n) < 1e-6) {
      if (hits == 0)
        best = h - 1;
      if (++hits >= 3) {
        hw = best;
        break;
      }
    } else
      hits = 0;
    double *sw = a;
    a = b;
    b = sw;
  }
  free(a), free(b), free(t), free(dq);
  *out = hw < 1 ? 1 : hw;
  return CS_OK;
}

/* pybaselines 1.2.1 smooth.snip (Ryan 1988; Morhac 1997, 2008): pad both
 * ends by linear extrapolation of the outer max_half_window points
 * (utils.pad_edges 'extrapolate'), then for each half window i replace every
 * point by the smaller of itself and the order-2..8 clipping filter of its
 * neighbours at distance i. */
static cs_status fit_snip(const double *y, size_t n, const cs_baseline_opts *o,
                          double *z, cs_error *err) {
  size_t h = 1;
  cs_status st;
  if (o->max_half_window > 0)
    h = (size_t)o->max_half_window;
  else if ((st = optimize_window(y, n, &h, err)) != CS_OK)
    return st;
  if (h > (n - 1) / 2) /* pybaselines warns and caps */
    h = (n - 1) / 2;
  size_t N = n + 2 * h, s = (size_t)o->smooth_half_window;
  double *b = malloc(N * sizeof *b), *f = malloc(N * sizeof *f);
  double *sm = s ? malloc(N * sizeof *sm) : NULL;
  if (!b || !f || (s && !sm)) {
    free(b), free(f), free(sm);
    return csi_error(err, CS_ERR_NOMEM, "out of memory for a %zu-point baseline",
                     n);
  }
  /* Linear least-squares lines through the first and last h points (index
   * as abscissa), extrapolated over the pads. */
  for (int side = 0; side < 2; side++) {
    size_t i0 = side ? n - h : 0;
    double mx = 0, my = 0, sxy = 0, sxx = 0;
    for (size_t i = 0; i < h; i++)
      mx += (double)(i0 + i), my += y[i0 + i];
    mx /= (double)h, my /= (double)h;
    for (size_t i = 0; i < h; i++) {
      double dx = (double)(i0 + i) - mx;
      sxy += dx * (y[i0 + i] - my);
      sxx += dx * dx;
    }
    double slope = sxx > 0 ? sxy / sxx : 0;
    for (size_t i = 0; i < h; i++) {
      double xi = side ? (double)(n + i) : (double)i - (double)h;
      b[side ? h + n + i : i] = my + slope * (xi - mx);
    }
  }
  memcpy(b + h, y, n * sizeof *y);
  for (size_t step = 1; step <= h; step++) {
    size_t i = o->decreasing ? h + 1 - step : step;
    for (size_t j = i; j < N - i; j++) {
      double fl = (b[j - i] + b[j + i]) / 2;
      if (o->filter_order > 2) {
        size_t q = i / 2;
        double g = (-(b[j - i] + b[j + i]) + 4 * (b[j - q] + b[j + q])) / 6;
        fl = fmax(fl, g);
      }
      if (o->filter_order > 4) {
        size_t q2 = 2 * i / 3, q1 = i / 3;
        double g = (b[j - i] + b[j + i] - 6 * (b[j - q2] + b[j + q2]) +
                    15 * (b[j - q1] + b[j + q1])) /
                   20;
        fl = fmax(fl, g);
      }
      if (o->filter_order > 6) {
        size_t q3 = 3 * i / 4, q2 = i / 2, q1 = i / 4;
        double g = (-(b[j - i] + b[j + i]) + 8 * (b[j - q3] + b[j + q3]) -
                    28 * (b[j - q2] + b[j + q2]) + 56 * (b[j - q1] + b[j + q1])) /
                   70;
        fl = fmax(fl, g);
      }
      f[j] = fl;
    }
    if (s) {
      /* scipy.ndimage.uniform_filter1d(b, 2s+1), reflect mode, running sum */
      double acc = 0;
      for (ptrdiff_t k = -(ptrdiff_t)s; k <= (ptrdiff_t)s; k++)
        acc += b[reflect(k, N)];
      for (size_t j = 0; j < N; j++) {
        sm[j] = acc / (double)(2 * s + 1);
        acc += b[reflect((ptrdiff_t)(j + s + 1), N)] -
               b[reflect((ptrdiff_t)j - (ptrdiff_t)s, N)];
      }
    }
    for (size_t j = i; j < N - i; j++)
      b[j] = b[j] > f[j] ? f[j] : (s ? sm[j] : b[j]);
  }
  memcpy(z, b + h, n * sizeof *z);
  free(b), free(f), free(sm);
  return CS_OK;
}

/* ---- entry points ---- */

/* The arrays' checks shared by the single and batch entry points. */
static cs_status check_xy(const double *x, const double *y, size_t n,
                          const double *baseline, cs_error *err) {
  if (n == 0 || !y || !baseline)
    return csi_error(err, CS_ERR_ARG, "baseline: empty or NULL arrays");
  if (baseline == y || baseline == x)
    return csi_error(err, CS_ERR_ARG,
                     "baseline: output must not overlap the input");
  for (size_t i = 0; i < n; i++)
    if (!isfinite(y[i]))
      return csi_error(err, CS_ERR_ARG, "baseline: y[%zu] is not finite", i);
  if (x) {
    for (size_t i = 0; i < n; i++)
      if (!isfinite(x[i]))
        return csi_error(err, CS_ERR_ARG, "baseline: x[%zu] is not finite", i);
    int dir = n > 1 && x[1] < x[0] ? -1 : 1;
    for (size_t i = 1; i < n; i++)
      if (!(dir > 0 ? x[i] > x[i - 1] : x[i] < x[i - 1]))
        return csi_error(err, CS_ERR_ARG,
                         "baseline: x is not strictly monotonic at x[%zu]", i);
  }
  return CS_OK;
}

cs_status csi_baseline_fit_solver(const double *x, const double *y, size_t n,
                                  const cs_baseline_opts *o, double *baseline,
                                  int lapack, cs_error *err) {
  cs_status st = cs_baseline_opts_check(o, n, err);
  if (st != CS_OK)
    return st;
  if (n == 0) /* check_xy refuses it; said here, GCC sees n > 0 below */
    return check_xy(x, y, n, baseline, err);
  if ((st = check_xy(x, y, n, baseline, err)) != CS_OK)
    return st;
  switch (o->method) {
  case CS_BASELINE_NONE:
    memset(baseline, 0, n * sizeof *baseline);
    break;
  case CS_BASELINE_ASLS:
  case CS_BASELINE_ARPLS:
  case CS_BASELINE_AIRPLS:
    st = fit_whittaker(y, n, o, baseline, lapack, err);
    break;
  case CS_BASELINE_MODPOLY:
  case CS_BASELINE_IMODPOLY:
    st = fit_poly(x, y, n, o, baseline, err);
    break;
  case CS_BASELINE_SNIP:
    st = fit_snip(y, n, o, baseline, err);
    break;
  }
  if (st != CS_OK) {
    csi_error_prefix(err, "%s", cs_baseline_method_name(o->method));
    return st;
  }
  for (size_t i = 0; i < n; i++)
    if (!isfinite(baseline[i]))
      return csi_error(err, CS_ERR_NUMERIC,
                       "%s: baseline is not finite at point %zu (data too "
                       "large or ill-conditioned)",
                       cs_baseline_method_name(o->method), i);
  return CS_OK;
}

cs_status cs_baseline_fit(const double *x, const double *y, size_t n,
                          const cs_baseline_opts *o, double *baseline,
                          cs_error *err) {
  return csi_baseline_fit_solver(x, y, n, o, baseline, 0, err);
}

/* ---- several spectra at once: the Whittaker family in vector lanes ---- */

/* One batch job for the lane kernels (whit_batch_kern.h). */
typedef struct csi_whit_batch {
  size_t n, count;
  const cs_baseline_opts *o;
  const double *pen;       /* lam D'D, penalty_band's layout (d = 2) */
  const double *const *y;  /* count spectra */
  double *const *z;        /* their baselines */
  unsigned char *fallback; /* set: not positive definite, left to scalar */
} csi_whit_batch;

#define KSFX _w2
#define KW 2
#include "whit_batch_kern.h"
#undef KSFX
#undef KW
#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_WHIT_AVX 1
#include <immintrin.h>
/* clang (the fuzz build) would fuse a * b + c in these regions on its own
 * (GCC does not in ISO C mode): the lanes must do the scalar solver's
 * arithmetic, FMA only where KFMA asks for it */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
CSI_TARGET_BEGIN("avx2,fma")
#define KSFX _avx2
#define KW 4
#define KFMA(a, b, c) ((KVD)_mm256_fmadd_pd((__m256d)(a), (__m256d)(b), (__m256d)(c)))
#define KMAX(a, b) ((KVD)_mm256_max_pd((__m256d)(a), (__m256d)(b)))
#define KMIN(a, b) ((KVD)_mm256_min_pd((__m256d)(a), (__m256d)(b)))
#include "whit_batch_kern.h"
#undef KSFX
#undef KW
CSI_TARGET_END
CSI_TARGET_BEGIN("avx512f")
#define KSFX _avx512
#define KW 8
#define KFMA(a, b, c) ((KVD)_mm512_fmadd_pd((__m512d)(a), (__m512d)(b), (__m512d)(c)))
#define KMAX(a, b) ((KVD)_mm512_max_pd((__m512d)(a), (__m512d)(b)))
#define KMIN(a, b) ((KVD)_mm512_min_pd((__m512d)(a), (__m512d)(b)))
#define KROUND(a) ((KVD)_mm512_roundscale_pd((__m512d)(a), _MM_FROUND_TO_NEAREST_INT))
#define KSCALE(p, k) ((KVD)_mm512_scalef_pd((__m512d)(p), (__m512d)(k)))
#define KPERM(a, i, b) ((KVD)_mm512_permutex2var_pd((__m512d)(a), (__m512i)(i), (__m512d)(b)))
#include "whit_batch_kern.h"
#undef KSFX
#undef KW
CSI_TARGET_END
#endif

csi_simd csi_baseline_simd_force = CSI_SIMD_AUTO;

int csi_baseline_simd_lanes(csi_simd s) {
#ifdef HAVE_WHIT_AVX
  unsigned cpu = csi_cpu_features();
  int have_avx2 = (cpu & (CSI_CPU_AVX2 | CSI_CPU_FMA)) == (CSI_CPU_AVX2 | CSI_CPU_FMA);
  int have_avx512 = (cpu & CSI_CPU_AVX512F) != 0;
  if (s == CSI_SIMD_AUTO)
    s = have_avx512 ? CSI_SIMD_AVX512 : have_avx2 ? CSI_SIMD_AVX2
                                                  : CSI_SIMD_PORTABLE;
  if (s == CSI_SIMD_AVX512)
    return have_avx512 ? 8 : 0;
  if (s == CSI_SIMD_AVX2)
    return have_avx2 ? 4 : 0;
#else
  if (s == CSI_SIMD_AUTO)
    s = CSI_SIMD_PORTABLE;
#endif
  return s == CSI_SIMD_PORTABLE ? 2 : 0;
}

/* The kernel for the forced or best path; NULL: scalar. */
static cs_status (*batch_kernel(void))(csi_whit_batch *) {
  int lanes = csi_baseline_simd_lanes(csi_baseline_simd_force);
#ifdef HAVE_WHIT_AVX
  if (lanes == 8)
    return run_avx512;
  if (lanes == 4)
    return run_avx2;
#endif
  return lanes == 2 ? run_w2 : NULL;
}

cs_status csi_baseline_fit_many(const double *const *x,
                                const double *const *y, size_t n,
                                size_t count, const cs_baseline_opts *o,
                                double *const *z, cs_status *st_each,
                                cs_error *err_each, cs_error *err) {
  cs_status st = cs_baseline_opts_check(o, n, err);
  if (st != CS_OK)
    return st;
  if (count > 0 && (!y || !z))
    return csi_error(err, CS_ERR_ARG, "baseline: NULL spectrum arrays");
  cs_status (*kern)(csi_whit_batch *) = batch_kernel();
  int is_whit = o->method == CS_BASELINE_ASLS ||
             o->method == CS_BASELINE_ARPLS || o->method == CS_BASELINE_AIRPLS;
  /* The lanes follow csi_penta_solve_split, which is the scalar path for
   * diff_order 2 from CSI_PENTA_SPLIT_MIN points on. */
  int lanes = kern && is_whit && o->diff_order == 2 &&
              n >= CSI_PENTA_SPLIT_MIN && count >= 2;
  const double **qy = NULL;
  double **qz = NULL, *pen = NULL;
  size_t *qk = NULL, nq = 0;
  unsigned char *fb = NULL, *queued = NULL;
  if (lanes) {
    qy = malloc(count * sizeof *qy), qz = malloc(count * sizeof *qz);
    qk = malloc(count * sizeof *qk), fb = calloc(count, 1);
    queued = calloc(count, 1), pen = malloc(3 * n * sizeof *pen);
    if (!qy || !qz || !qk || !fb || !queued || !pen) {
      st = csi_error(err, CS_ERR_NOMEM, "out of memory for %zu baselines",
                     count);
      goto done;
    }
    /* an axis shared by the spectra (cs_baseline_fit_batch) is checked
     * once: two passes over it cost as much as a spectrum's y check */
    const double *xok = NULL;
    for (size_t k = 0; k < count; k++) {
      const double *xk = x ? x[k] : NULL;
      if (xk && xk == xok && z[k] == xk)
        continue; /* the overlap check_xy would refuse */
      if (check_xy(xk == xok ? NULL : xk, y[k], n, z[k], NULL) != CS_OK)
        continue;
      xok = xk;
      qy[nq] = y[k], qz[nq] = z[k], qk[nq] = k, queued[k] = 1, nq++;
    }
    penalty_band(n, 2, o->lam, pen);
    csi_whit_batch bj = {n, nq, o, pen, qy, qz, fb};
    if ((st = kern(&bj)) != CS_OK) {
      st = csi_error(err, st, "out of memory for %zu baselines", count);
      goto done;
    }
    for (size_t q = 0; q < nq; q++)
      if (fb[q]) /* not positive definite, or not finite */
        queued[qk[q]] = 0;
  }
  /* Everything not solved in lanes, and the failures (for their exact
   * message), through the scalar solver. */
  for (size_t k = 0; k < count; k++) {
    cs_error e1;
    cs_status s1 = CS_OK;
    if (!queued || !queued[k]) {
      s1 = csi_baseline_fit_solver(x ? x[k] : NULL, y[k], n, o, z[k], 0, &e1);
      if (s1 != CS_OK && err_each)
        err_each[k] = e1;
    }
    if (st_each)
      st_each[k] = s1;
    if (s1 != CS_OK && st == CS_OK)
      st = csi_error(err, s1, "spectrum %zu: %s", k, e1.msg);
  }
done:
  free(qy), free(qz), free(qk), free(fb), free(queued), free(pen);
  return st;
}

cs_status cs_baseline_fit_batch(const double *x, const double *y, size_t n,
                                size_t count, const cs_baseline_opts *o,
                                double *baseline, cs_error *err) {
  if (count == 0)
    return cs_baseline_opts_check(o, n, err);
  if (!y || !baseline || n == 0)
    return csi_error(err, CS_ERR_ARG, "baseline: empty or NULL arrays");
  if (count > SIZE_MAX / n)
    return csi_error(err, CS_ERR_ARG, "baseline: %zu x %zu is too large",
                     count, n);
  if (baseline < y + n * count && y < baseline + n * count)
    return csi_error(err, CS_ERR_ARG,
                     "baseline: output must not overlap the input");
  const double **ys = malloc(count * sizeof *ys), **xs = NULL;
  double **zs = malloc(count * sizeof *zs);
  if (x)
    xs = malloc(count * sizeof *xs);
  cs_status st;
  if (!ys || !zs || (x && !xs))
    st = csi_error(err, CS_ERR_NOMEM, "out of memory for %zu baselines",
                   count);
  else {
    for (size_t k = 0; k < count; k++) {
      ys[k] = y + k * n, zs[k] = baseline + k * n;
      if (xs)
        xs[k] = x;
    }
    st = csi_baseline_fit_many(xs, ys, n, count, o, zs, NULL, NULL, err);
  }
  free(ys), free(zs), free(xs);
  return st;
}
