/* axis.c: axis operations: sort, nm -> Raman shift, %T -> absorbance,
 * cropping and resampling (linear, natural cubic spline). */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_ascending(const cs_spectrum *s) {
  for (size_t i = 1; i < s->n; i++)
    if (!(s->x[i] > s->x[i - 1]))
      return 0;
  return 1;
}

typedef struct {
  double x, y;
} pt;

static int cmp_pt(const void *a, const void *b) {
  double xa = ((const pt *)a)->x, xb = ((const pt *)b)->x;
  return (xa > xb) - (xa < xb);
}

cs_status cs_spectrum_sort(cs_spectrum *s, cs_error *err) {
  if (is_ascending(s))
    return CS_OK;
  int descending = 1;
  for (size_t i = 1; i < s->n && descending; i++)
    descending = s->x[i] < s->x[i - 1];
  if (descending) { /* the common case (FTIR, nm->shift): just reverse */
    for (size_t i = 0, j = s->n - 1; i < j; i++, j--) {
      double t = s->x[i];
      s->x[i] = s->x[j];
      s->x[j] = t;
      t = s->y[i];
      s->y[i] = s->y[j];
      s->y[j] = t;
    }
    return CS_OK;
  }
  pt *p = malloc(s->n * sizeof *p);
  if (!p)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < s->n; i++)
    p[i] = (pt){s->x[i], s->y[i]};
  qsort(p, s->n, sizeof *p, cmp_pt);
  for (size_t i = 0; i < s->n; i++) {
    if (i && p[i].x == p[i - 1].x) {
      double dup = p[i].x;
      free(p);
      return csi_error(err, CS_ERR_MALFORMED, "two points share x = %.10g",
                       dup);
    }
    s->x[i] = p[i].x;
    s->y[i] = p[i].y;
  }
  free(p);
  return CS_OK;
}

cs_status cs_spectrum_to_raman_shift(cs_spectrum *s, double laser_nm,
                                     cs_error *err) {
  if (s->axis == CS_AXIS_RAMAN_SHIFT)
    return CS_OK;
  if (s->axis != CS_AXIS_WAVELENGTH_NM)
    return csi_error(err, CS_ERR_UNSUPPORTED,
                     "cannot convert a %s axis to Raman shift",
                     cs_axis_name(s->axis));
  double laser = isfinite(laser_nm) && laser_nm > 0 ? laser_nm : s->laser_nm;
  if (!(isfinite(laser) && laser > 0))
    return csi_error(err, CS_ERR_ARG,
                     "wavelength axis needs the excitation wavelength to give "
                     "Raman shift, and none is known (give --laser NM)");
  for (size_t i = 0; i < s->n; i++)
    if (!(s->x[i] > 0))
      return csi_error(err, CS_ERR_MALFORMED,
                       "non-positive wavelength %.6g nm at point %zu", s->x[i],
                       i);
  double k = 1e7 / laser;
  for (size_t i = 0; i < s->n; i++)
    s->x[i] = k - 1e7 / s->x[i];
  s->axis = CS_AXIS_RAMAN_SHIFT;
  s->laser_nm = laser;
  if (s->technique == CS_TECH_UNKNOWN)
    s->technique = CS_TECH_RAMAN;
  return cs_spectrum_sort(s, err);
}

cs_status cs_spectrum_to_absorbance(cs_spectrum *s, cs_error *err) {
  if (s->quantity == CS_Q_ABSORBANCE)
    return CS_OK;
  if (s->quantity != CS_Q_TRANSMITTANCE_PCT)
    return csi_error(err, CS_ERR_UNSUPPORTED,
                     "cannot convert %s to absorbance",
                     cs_quantity_name(s->quantity));
  for (size_t i = 0; i < s->n; i++)
    if (!(s->y[i] > 0))
      return csi_error(err, CS_ERR_NUMERIC,
                       "transmittance %.6g%% at x = %.6g: absorbance undefined",
                       s->y[i], s->x[i]);
  for (size_t i = 0; i < s->n; i++)
    s->y[i] = 2.0 - log10(s->y[i]);
  s->quantity = CS_Q_ABSORBANCE;
  return CS_OK;
}

/* Median spacing would be more robust, but the mean is enough for a
 * tolerance and needs no allocation. */
static double mean_step(const cs_spectrum *s) {
  return s->n > 1 ? (s->x[s->n - 1] - s->x[0]) / (double)(s->n - 1) : 0.0;
}

cs_status cs_spectrum_crop(cs_spectrum *s, double lo, double hi, cs_error *err) {
  if (!(isfinite(lo) && isfinite(hi) && lo < hi))
    return csi_error(err, CS_ERR_ARG, "invalid range %g:%g", lo, hi);
  if (!is_ascending(s))
    return csi_error(err, CS_ERR_ARG, "crop needs an ascending x axis");
  double tol = mean_step(s);
  if (lo < s->x[0] - tol || hi > s->x[s->n - 1] + tol)
    return csi_error(err, CS_ERR_RANGE,
                     "spectrum covers %.6g to %.6g, requested %.6g to %.6g",
                     s->x[0], s->x[s->n - 1], lo, hi);
  size_t a = 0, b = s->n;
  while (a < s->n && s->x[a] < lo)
    a++;
  while (b > a && s->x[b - 1] > hi)
    b--;
  if (b == a)
    return csi_error(err, CS_ERR_RANGE, "no point inside %.6g to %.6g", lo, hi);
  memmove(s->x, s->x + a, (b - a) * sizeof *s->x);
  memmove(s->y, s->y + a, (b - a) * sizeof *s->y);
  s->n = b - a;
  return CS_OK;
}

/* Second derivatives of the natural cubic spline through (x, y): the
 * tridiagonal system solved by the Thomas algorithm (diagonally dominant,
 * so no pivoting is needed). */
static int spline_m(const double *x, const double *y, size_t n, double *m) {
  m[0] = m[n - 1] = 0.0;
  if (n < 3)
    return 0;
  double *c = malloc(n * sizeof *c);
  if (!c)
    return -1;
  c[0] = 0.0;
  for (size_t i = 1; i + 1 < n; i++) {
    double h0 = x[i] - x[i - 1], h1 = x[i + 1] - x[i];
    double rhs = 6.0 * ((y[i + 1] - y[i]) / h1 - (y[i] - y[i - 1]) / h0);
    double diag = 2.0 * (h0 + h1) - h0 * c[i - 1];
    c[i] = h1 / diag;
    m[i] = (rhs - h0 * m[i - 1]) / diag;
  }
  for (size_t i = n - 2; i >= 1; i--)
    m[i] -= c[i] * m[i + 1];
  free(c);
  return 0;
}

cs_status cs_spectrum_resample(const cs_spectrum *s, const double *x_new,
                               size_t m, cs_interp method, cs_spectrum **out,
                               cs_error *err) {
  *out = NULL;
  if (!x_new || m == 0)
    return csi_error(err, CS_ERR_ARG, "resample: empty target axis");
  if (method != CS_INTERP_LINEAR && method != CS_INTERP_CUBIC)
    return csi_error(err, CS_ERR_ARG, "resample: unknown method %d",
                     (int)method);
  if (!is_ascending(s))
    return csi_error(err, CS_ERR_ARG, "resample needs an ascending x axis");
  for (size_t j = 0; j < m; j++)
    if (!isfinite(x_new[j]) || (j && !(x_new[j] > x_new[j - 1])))
      return csi_error(err, CS_ERR_ARG,
                       "resample: target axis not strictly ascending at %zu", j);
  /* Allow rounding-level overshoot only: no extrapolation. */
  double span = s->x[s->n - 1] - s->x[0];
  double eps = 1e-9 * (span > 0 ? span : 1.0);
  if (x_new[0] < s->x[0] - eps || x_new[m - 1] > s->x[s->n - 1] + eps)
    return csi_error(err, CS_ERR_RANGE,
                     "spectrum covers %.6g to %.6g, target axis needs %.6g to "
                     "%.6g",
                     s->x[0], s->x[s->n - 1], x_new[0], x_new[m - 1]);
  cs_spectrum *r = csi_spectrum_alloc(m);
  double *d2 = NULL;
  if (!r)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (method == CS_INTERP_CUBIC &&
      (!(d2 = malloc(s->n * sizeof *d2)) || spline_m(s->x, s->y, s->n, d2))) {
    free(d2);
    cs_spectrum_free(r);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  size_t k = 0; /* interval [x[k], x[k+1]] holding x_new[j]; x_new ascends */
  for (size_t j = 0; j < m; j++) {
    double t = x_new[j];
    r->x[j] = t;
    if (s->n == 1) {
      r->y[j] = s->y[0];
      continue;
    }
    while (k + 2 < s->n && t > s->x[k + 1])
      k++;
    double h = s->x[k + 1] - s->x[k];
    double a = (s->x[k + 1] - t) / h, b = (t - s->x[k]) / h;
    double v = a * s->y[k] + b * s->y[k + 1];
    if (d2)
      v += ((a * a * a - a) * d2[k] + (b * b * b - b) * d2[k + 1]) * h * h / 6.0;
    r->y[j] = v;
  }
  free(d2);
  cs_status st = csi_spectrum_copy_meta(r, s, err);
  if (st) {
    cs_spectrum_free(r);
    return st;
  }
  *out = r;
  return CS_OK;
}
