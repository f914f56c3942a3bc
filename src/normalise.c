/* normalise.c: divide a spectrum by one number: vector length, area, maximum,
 * SNV, or the area/height of a named band above a local straight line. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"none", "vector", "area", "max", "snv",
                                    "band"};

cs_norm_opts cs_norm_opts_default(cs_norm_method m) {
  /* 960 cm-1: HA nu1 PO4, the strongest calcification band
   * (src/bands.md 1A); +-20 covers its 10-20 cm-1 FWHM */
  cs_norm_opts o = {m, 960.0, 20.0, 0};
  return o;
}

static cs_status check(const cs_norm_opts *o, cs_error *err) {
  if (!o || (unsigned)o->method > CS_NORM_BAND)
    return csi_error(err, CS_ERR_ARG, "unknown normalisation method");
  if (o->method == CS_NORM_BAND &&
      !(isfinite(o->band_x) && isfinite(o->half_width) && o->half_width > 0))
    return csi_error(err, CS_ERR_ARG,
                     "band normalisation needs a finite centre and a positive "
                     "half width, got %g +- %g",
                     o->band_x, o->half_width);
  return CS_OK;
}

cs_status cs_norm_opts_parse(const char *spec, cs_norm_opts *out,
                             cs_error *err) {
  if (!spec || !out)
    return csi_error(err, CS_ERR_ARG, "no normalisation spec");
  char buf[128], *f[5];
  if (strlen(spec) >= sizeof buf)
    return csi_error(err, CS_ERR_ARG, "normalisation spec too long");
  strcpy(buf, spec);
  int nf = csi_split(buf, ':', f, 4);
  for (int m = 0; m <= CS_NORM_BAND; m++) {
    if (strcmp(f[0], names[m]) != 0)
      continue;
    cs_norm_opts o = cs_norm_opts_default((cs_norm_method)m);
    if (m != CS_NORM_BAND && nf == 1) {
      *out = o;
      return CS_OK;
    }
    if (m == CS_NORM_BAND && (nf == 3 || nf == 4) &&
        !csi_parse_double(f[1], &o.band_x) &&
        !csi_parse_double(f[2], &o.half_width) &&
        (nf == 3 || !strcmp(f[3], "area") || !strcmp(f[3], "height"))) {
      o.band_height = nf == 4 && !strcmp(f[3], "height");
      cs_status st = check(&o, err);
      if (!st)
        *out = o;
      return st;
    }
    break;
  }
  return csi_error(err, CS_ERR_ARG,
                   "unknown normalisation '%s' (want none, vector, area, max, "
                   "snv or band:CENTRE:HALFWIDTH[:area|:height])",
                   spec);
}

cs_status cs_norm_opts_format(const cs_norm_opts *o, char *buf, size_t cap,
                              cs_error *err) {
  cs_status st = check(o, err);
  if (st)
    return st;
  int n = o->method == CS_NORM_BAND
              ? csi_snprintf(buf, cap, "band:%.17g:%.17g%s", o->band_x,
                         o->half_width, o->band_height ? ":height" : "")
              : csi_snprintf(buf, cap, "%s", names[o->method]);
  if (n < 0 || (size_t)n >= cap)
    return csi_error(err, CS_ERR_ARG, "buffer too small for normalisation");
  return CS_OK;
}

/* y at t by linear interpolation over ascending-by-index or descending x
 * (t inside the range). */
static double interp(const double *x, const double *y, size_t n, double t) {
  int up = x[n - 1] > x[0];
  size_t k = 0;
  while (k + 2 < n && (up ? x[k + 1] < t : x[k + 1] > t))
    k++;
  double u = (t - x[k]) / (x[k + 1] - x[k]);
  return y[k] + u * (y[k + 1] - y[k]);
}

static cs_status band_norm(const double *x, const double *y, size_t n,
                           const cs_norm_opts *o, double *out, cs_error *err) {
  double lo = o->band_x - o->half_width, hi = o->band_x + o->half_width;
  double xmin = fmin(x[0], x[n - 1]), xmax = fmax(x[0], x[n - 1]);
  if (n < 3 || lo < xmin || hi > xmax)
    return csi_error(err, CS_ERR_RANGE,
                     "band window %.6g to %.6g is not inside the spectrum "
                     "(%.6g to %.6g)",
                     lo, hi, xmin, xmax);
  double ylo = interp(x, y, n, lo), yhi = interp(x, y, n, hi);
  /* walk the points inside (lo, hi) in ascending x; the band sits on the
   * line joining (lo, ylo) and (hi, yhi), so the excess is 0 at both ends */
  int up = x[n - 1] > x[0];
  double height = -INFINITY, area = 0, px = lo, pe = 0;
  size_t inside = 0;
  for (size_t j = 0; j < n; j++) {
    size_t i = up ? j : n - 1 - j;
    if (!(x[i] > lo && x[i] < hi))
      continue;
    double e = y[i] - (ylo + (yhi - ylo) * (x[i] - lo) / (hi - lo));
    height = fmax(height, e);
    area += 0.5 * (pe + e) * (x[i] - px);
    px = x[i], pe = e;
    inside++;
  }
  area += 0.5 * pe * (hi - px);
  if (inside < 3)
    return csi_error(err, CS_ERR_RANGE,
                     "band window %.6g to %.6g holds %zu points, need 3", lo,
                     hi, inside);
  *out = o->band_height ? height : area;
  return CS_OK;
}

cs_status cs_normalise(const double *x, double *y, size_t n,
                       const cs_norm_opts *o, double *factor, cs_error *err) {
  cs_status st = check(o, err);
  if (st)
    return st;
  if (!y || n == 0)
    return csi_error(err, CS_ERR_ARG, "normalisation needs a non-empty spectrum");
  if ((o->method == CS_NORM_AREA || o->method == CS_NORM_BAND) && !x)
    return csi_error(err, CS_ERR_ARG, "%s normalisation needs x",
                     names[o->method]);
  double f = 1, mean = 0;
  const char *what = names[o->method];
  switch (o->method) {
  case CS_NORM_NONE:
    break;
  case CS_NORM_VECTOR: {
    double big = 0, s = 0; /* scaled sum of squares: no overflow */
    for (size_t i = 0; i < n; i++)
      big = fmax(big, fabs(y[i]));
    for (size_t i = 0; big > 0 && i < n; i++)
      s += (y[i] / big) * (y[i] / big);
    f = big * sqrt(s);
    break;
  }
  case CS_NORM_AREA:
    f = 0;
    for (size_t i = 0; i + 1 < n; i++)
      f += 0.5 * (y[i] + y[i + 1]) * fabs(x[i + 1] - x[i]);
    if (n < 2)
      return csi_error(err, CS_ERR_NUMERIC, "area of a single point is zero");
    break;
  case CS_NORM_MAX:
    f = -INFINITY;
    for (size_t i = 0; i < n; i++)
      f = fmax(f, y[i]);
    break;
  case CS_NORM_SNV: {
    if (n < 2)
      return csi_error(err, CS_ERR_NUMERIC,
                       "snv needs at least two points");
    for (size_t i = 0; i < n; i++)
      mean += y[i] / (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
      ss += (y[i] - mean) * (y[i] - mean);
    f = sqrt(ss / (double)(n - 1));
    what = "standard deviation";
    break;
  }
  case CS_NORM_BAND:
    if ((st = band_norm(x, y, n, o, &f, err)))
      return st;
    what = o->band_height ? "band height" : "band area";
    break;
  }
  if (!(isfinite(f) && f > 0))
    return csi_error(err, CS_ERR_NUMERIC,
                     "cannot normalise: %s is %.6g (must be positive)", what,
                     f);
  for (size_t i = 0; i < n; i++)
    if (!isfinite((y[i] - mean) / f))
      return csi_error(err, CS_ERR_NUMERIC,
                       "cannot normalise: %s %.6g is too small", what, f);
  for (size_t i = 0; i < n; i++)
    y[i] = (y[i] - mean) / f;
  if (factor)
    *factor = f;
  return CS_OK;
}
