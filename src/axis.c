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
  for (size_t i = 0; i < s->n; i++) /* before changing anything */
    if (!isfinite(k - 1e7 / s->x[i]))
      return csi_error(err, CS_ERR_NUMERIC, "wavelength %.6g nm at point %zu "
                       "with a laser of %.6g nm gives no finite Raman shift",
                       s->x[i], i, laser);
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
  cs_status st = CS_OK;
  for (size_t j = 0; j < m && !st; j++) /* the spline of values near 1e308 */
    if (!isfinite(r->y[j]))
      st = csi_error(err, CS_ERR_NUMERIC, "the interpolated value at "
                     "x = %.6g is not finite (values too large)", r->x[j]);
  if (!st)
    st = csi_spectrum_copy_meta(r, s, err);
  if (st) {
    cs_spectrum_free(r);
    return st;
  }
  *out = r;
  return CS_OK;
}

/* ---- unit and axis-title spellings -> axis kind ----
 * One table for every reader (README "Axis units").  Spellings are compared
 * after norm_unit(): ASCII lower case, micro signs as 'u', superscript minus
 * one as "-1", and without blanks, so "1 / CM", "cm⁻¹" and "CM-1" meet. */

enum { PER_CM_TECH = -1 }; /* bare cm^-1: the technique decides */

typedef struct {
  const char *spelling;
  int axis; /* cs_axis, or PER_CM_TECH */
  double factor;
  int inverse;
} unit_row;

static const unit_row unit_table[] = {
    /* reciprocal centimetres, shift or absolute by technique */
    {"1/cm", PER_CM_TECH, 1, 0},
    {"cm-1", PER_CM_TECH, 1, 0},
    {"cm^-1", PER_CM_TECH, 1, 0},
    {"cm^(-1)", PER_CM_TECH, 1, 0},
    {"cm**-1", PER_CM_TECH, 1, 0},
    {"/cm", PER_CM_TECH, 1, 0},
    {"wavenumber", PER_CM_TECH, 1, 0},
    {"wavenumbers", PER_CM_TECH, 1, 0},
    {"kayser", PER_CM_TECH, 1, 0},
    {"1/m", PER_CM_TECH, 0.01, 0},
    {"m-1", PER_CM_TECH, 0.01, 0},
    /* explicitly a Raman shift */
    {"ramanshift", CS_AXIS_RAMAN_SHIFT, 1, 0},
    {"ramanshifts", CS_AXIS_RAMAN_SHIFT, 1, 0},
    {"shift", CS_AXIS_RAMAN_SHIFT, 1, 0},
    {"rel.1/cm", CS_AXIS_RAMAN_SHIFT, 1, 0},
    {"rel1/cm", CS_AXIS_RAMAN_SHIFT, 1, 0},
    {"relativewavenumber", CS_AXIS_RAMAN_SHIFT, 1, 0},
    {"relativewavenumbers", CS_AXIS_RAMAN_SHIFT, 1, 0},
    /* explicitly absolute (LabSpec writes "1/cm abs") */
    {"1/cmabs", CS_AXIS_WAVENUMBER, 1, 0},
    {"abs1/cm", CS_AXIS_WAVENUMBER, 1, 0},
    {"absolutewavenumber", CS_AXIS_WAVENUMBER, 1, 0},
    {"absolutewavenumbers", CS_AXIS_WAVENUMBER, 1, 0},
    /* wavelengths, in nm */
    {"nm", CS_AXIS_WAVELENGTH_NM, 1, 0},
    {"nanometer", CS_AXIS_WAVELENGTH_NM, 1, 0},
    {"nanometers", CS_AXIS_WAVELENGTH_NM, 1, 0},
    {"nanometre", CS_AXIS_WAVELENGTH_NM, 1, 0},
    {"nanometres", CS_AXIS_WAVELENGTH_NM, 1, 0},
    {"wavelength", CS_AXIS_WAVELENGTH_NM, 1, 0},
    {"wavelengths", CS_AXIS_WAVELENGTH_NM, 1, 0},
    {"lambda", CS_AXIS_WAVELENGTH_NM, 1, 0},
    {"wave", CS_AXIS_WAVELENGTH_NM, 1, 0}, /* AvaSoft's x column, in nm */
    {"um", CS_AXIS_WAVELENGTH_NM, 1e3, 0},
    {"micrometer", CS_AXIS_WAVELENGTH_NM, 1e3, 0},
    {"micrometers", CS_AXIS_WAVELENGTH_NM, 1e3, 0},
    {"micrometre", CS_AXIS_WAVELENGTH_NM, 1e3, 0},
    {"micrometres", CS_AXIS_WAVELENGTH_NM, 1e3, 0},
    {"micron", CS_AXIS_WAVELENGTH_NM, 1e3, 0},
    {"microns", CS_AXIS_WAVELENGTH_NM, 1e3, 0},
    {"angstrom", CS_AXIS_WAVELENGTH_NM, 0.1, 0},
    {"angstroms", CS_AXIS_WAVELENGTH_NM, 0.1, 0},
    /* photon energy: wavelength = hc/e / E */
    {"ev", CS_AXIS_WAVELENGTH_NM, CSI_HC_EV_NM, 1},
    {"electronvolt", CS_AXIS_WAVELENGTH_NM, CSI_HC_EV_NM, 1},
    {"electronvolts", CS_AXIS_WAVELENGTH_NM, CSI_HC_EV_NM, 1},
    /* detector pixels */
    {"pixel", CS_AXIS_PIXEL, 1, 0},
    {"pixels", CS_AXIS_PIXEL, 1, 0},
    {"px", CS_AXIS_PIXEL, 1, 0},
    {"pixelnumber", CS_AXIS_PIXEL, 1, 0},
};

/* Lower-case s[0..n) into out without blanks or underscores. */
static void norm_unit(const char *s, size_t n, char *out, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < n && s[i] && k + 3 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xB5) ||
        (c == 0xCE && i + 1 < n && (unsigned char)s[i + 1] == 0xBC)) {
      out[k++] = 'u'; /* micro sign, Greek mu */
      i++;
    } else if (c == 0xE2 && i + 4 < n && !memcmp(s + i + 1, "\x81\xBB\xC2\xB9", 4)) {
      out[k++] = '-'; /* superscript minus one */
      out[k++] = '1';
      i += 4;
    } else if (c == 0xC3 && i + 1 < n && (unsigned char)s[i + 1] == 0x85) {
      out[k++] = 'a'; /* Å */
      i++;
    } else if (c == ' ' || c == '\t' || c == '_' || c == '\r' || c == '\n')
      continue;
    else
      out[k++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  out[k] = '\0';
}

static const unit_row *lookup_unit(const char *norm) {
  for (size_t i = 0; i < sizeof unit_table / sizeof *unit_table; i++)
    if (!strcmp(norm, unit_table[i].spelling))
      return &unit_table[i];
  return NULL;
}

/* What the words of an axis title say ("Raman Shift", "Wavelength",
 * "Pixel #"), as a row; NULL when they say nothing. */
static const unit_row *title_words(const char *norm) {
  static const unit_row shift = {"", CS_AXIS_RAMAN_SHIFT, 1, 0},
                        absolute = {"", CS_AXIS_WAVENUMBER, 1, 0},
                        per_cm = {"", PER_CM_TECH, 1, 0},
                        nm = {"", CS_AXIS_WAVELENGTH_NM, 1, 0},
                        pixel = {"", CS_AXIS_PIXEL, 1, 0};
  if (strstr(norm, "raman") || strstr(norm, "shift"))
    return &shift;
  if (strstr(norm, "wavenumber"))
    return strstr(norm, "abs") ? &absolute : &per_cm;
  if (strstr(norm, "wavelength") || strstr(norm, "lambda"))
    return &nm;
  if (strstr(norm, "pixel"))
    return &pixel;
  if (strstr(norm, "cm-1") || strstr(norm, "cm^-1") || strstr(norm, "1/cm"))
    return &per_cm;
  return NULL;
}

static csi_axis_unit from_row(const unit_row *r, cs_technique tech) {
  csi_axis_unit u = {CS_AXIS_UNKNOWN, 1.0, 0, 0};
  if (!r)
    return u;
  u.by_technique = r->axis == PER_CM_TECH;
  u.axis = r->axis != PER_CM_TECH  ? (cs_axis)r->axis
           : tech == CS_TECH_RAMAN ? CS_AXIS_RAMAN_SHIFT
                                   : CS_AXIS_WAVENUMBER;
  u.factor = r->factor;
  u.inverse = r->inverse;
  return u;
}

csi_axis_unit csi_axis_from_unit(const char *unit, cs_technique tech) {
  char all[128];
  if (!unit)
    return from_row(NULL, tech);
  size_t n = strlen(unit);
  while (n && (unit[n - 1] == ' ' || unit[n - 1] == '\t'))
    n--;
  norm_unit(unit, n, all, sizeof all);
  const unit_row *r = lookup_unit(all);
  if (r)
    return from_row(r, tech);
  /* "Name (unit)" / "Name [unit]": the unit decides, the name tells a
   * shift or an absolute wavenumber from a bare cm^-1. */
  char close = n ? unit[n - 1] : 0;
  char open = close == ')' ? '(' : close == ']' ? '[' : 0;
  const char *o = open ? memchr(unit, open, n) : NULL;
  if (o) {
    char name[128], inner[64];
    norm_unit(o + 1, (size_t)(unit + n - 1 - (o + 1)), inner, sizeof inner);
    norm_unit(unit, (size_t)(o - unit), name, sizeof name);
    const unit_row *ur = lookup_unit(inner), *nr = title_words(name);
    if (ur && ur->axis == PER_CM_TECH && nr &&
        (nr->axis == CS_AXIS_RAMAN_SHIFT || nr->axis == CS_AXIS_WAVENUMBER))
      return from_row(nr, tech);
    if (ur)
      return from_row(ur, tech);
  }
  return from_row(title_words(all), tech);
}

cs_status csi_axis_unit_apply(const csi_axis_unit *u, double *x, size_t n,
                              const char *unit, cs_error *err) {
  for (size_t i = 0; i < n; i++) {
    if (u->inverse && !(x[i] > 0))
      return csi_error(err, CS_ERR_MALFORMED,
                       "spectral axis value %g %s at point %zu is not positive", x[i],
                       unit ? unit : "", i);
    x[i] = u->inverse ? u->factor / x[i] : u->factor * x[i];
  }
  return CS_OK;
}
