/* qc.c: quality-control flags for acquisition loops (include/calcspec.h
 * "Integration: arrays, QC flags"); classification with QC is in
 * classify.c.
 *
 * QC looks at the raw spectrum inside the model window, before the model's
 * preprocessing, because saturation, noise and fluorescence are properties
 * of what the detector recorded. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QC_CAP 1e6 /* SNR and fluorescence ratio are capped here */

static const char *const flag_names[CS_QC_NFLAGS] = {
    "saturated", "low_snr", "fluorescence", "no_mineral", "spikes",
    "out_of_window"};

const char *cs_qc_flag_name(unsigned flag) {
  for (int i = 0; i < CS_QC_NFLAGS; i++)
    if (flag == 1u << i)
      return flag_names[i];
  return NULL;
}

cs_qc_opts cs_qc_opts_default(void) {
  cs_qc_opts o;
  memset(&o, 0, sizeof o);
  o.detector_max = 0; /* unknown: files may sum accumulations */
  o.flat_run = 3;
  o.min_snr = 10;          /* bands.md section 4: 1-s spectra SNR 10-50 */
  o.max_fluor_ratio = 100; /* bands.md section 4: F typically 1-100 x S */
  o.min_mineral_frac = 0.1;
  o.spike_threshold = 6; /* cs_spike_opts_default */
  o.reacquire_mask = ((1u << CS_QC_NFLAGS) - 1) & ~(unsigned)CS_QC_SPIKES;
  return o;
}

static cs_status check_opts(const cs_qc_opts *o, cs_error *err) {
  if (!(isfinite(o->detector_max) && o->detector_max >= 0))
    return csi_error(err, CS_ERR_ARG, "detector_max must be >= 0");
  if (o->flat_run < 0 || o->flat_run == 1 || o->flat_run > 1000)
    return csi_error(err, CS_ERR_ARG, "flat_run must be 0 (off) or 2..1000");
  if (!(isfinite(o->min_snr) && o->min_snr >= 0))
    return csi_error(err, CS_ERR_ARG, "min_snr must be >= 0");
  if (!(isfinite(o->max_fluor_ratio) && o->max_fluor_ratio > 0))
    return csi_error(err, CS_ERR_ARG, "max_fluor_ratio must be > 0");
  if (!(o->min_mineral_frac >= 0 && o->min_mineral_frac <= 1))
    return csi_error(err, CS_ERR_ARG, "min_mineral_frac must be in 0..1");
  if (!(isfinite(o->spike_threshold) && o->spike_threshold > 0))
    return csi_error(err, CS_ERR_ARG, "spike_threshold must be > 0");
  if (o->reacquire_mask >= 1u << CS_QC_NFLAGS)
    return csi_error(err, CS_ERR_ARG, "reacquire_mask has unknown bits");
  return CS_OK;
}

static cs_status parse_mask(const char *v, unsigned *mask, cs_error *err) {
  *mask = 0;
  if (!strcmp(v, "none"))
    return CS_OK;
  const char *p = v;
  while (*p) {
    size_t len = strcspn(p, "+");
    int found = 0;
    for (int i = 0; i < CS_QC_NFLAGS; i++)
      if (strlen(flag_names[i]) == len && !strncmp(p, flag_names[i], len)) {
        *mask |= 1u << i;
        found = 1;
      }
    if (!found)
      return csi_error(err, CS_ERR_ARG, "reacquire_mask: unknown flag '%.*s'",
                       (int)len, p);
    p += len;
    if (*p == '+')
      p++;
  }
  return CS_OK;
}

cs_status cs_qc_opts_parse(const char *spec, cs_qc_opts *out, cs_error *err) {
  if (!spec || !out)
    return csi_error(err, CS_ERR_ARG, "no QC options given");
  char *copy = csi_strdup(spec);
  if (!copy)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_qc_opts o = *out;
  cs_status st = CS_OK;
  for (char *item = copy, *next; item && !st; item = next) {
    next = strchr(item, ',');
    if (next)
      *next++ = '\0';
    char *eq = strchr(item, '=');
    if (!eq) {
      st = csi_error(err, CS_ERR_ARG, "QC option '%s' wants key=value", item);
      break;
    }
    *eq = '\0';
    const char *k = item, *v = eq + 1;
    double d;
    if (!strcmp(k, "reacquire_mask")) {
      st = parse_mask(v, &o.reacquire_mask, err);
      continue;
    }
    if (csi_parse_double(v, &d)) {
      st = csi_error(err, CS_ERR_ARG, "QC option %s: bad number '%s'", k, v);
      break;
    }
    if (!strcmp(k, "detector_max"))
      o.detector_max = d;
    else if (!strcmp(k, "flat_run")) {
      if (d != floor(d) || d < 0 || d > 1000) {
        st = csi_error(err, CS_ERR_ARG, "flat_run must be a whole number");
        break;
      }
      o.flat_run = (int)d;
    } else if (!strcmp(k, "min_snr"))
      o.min_snr = d;
    else if (!strcmp(k, "max_fluor_ratio"))
      o.max_fluor_ratio = d;
    else if (!strcmp(k, "min_mineral_frac"))
      o.min_mineral_frac = d;
    else if (!strcmp(k, "spike_threshold"))
      o.spike_threshold = d;
    else
      st = csi_error(err, CS_ERR_ARG, "unknown QC option '%s'", k);
  }
  free(copy);
  if (!st)
    st = check_opts(&o, err);
  if (!st)
    *out = o;
  return st;
}



/* 11-point cubic Savitzky-Golay smoothing weights (closed form for order
 * 2/3: (3(3m^2+3m-1) - 15 i^2) / ((2m+1)(4m^2+4m-3)), m = 5, i.e.
 * (89 - 5 i^2) / 429); the residual of white noise then has variance
 * sigma^2 (1 - c0) with c0 = 89/429. */
#define SG_HALF 5
static double sg_weight(int i) { return (89.0 - 5.0 * i * i) / 429.0; }

/* Smooth d into s (edges copied) and estimate the noise sigma from the
 * interior residual d - s. */
static cs_status smooth_noise(const double *d, size_t n, double *s,
                              double *sigma, cs_error *err) {
  size_t m = n - 2 * SG_HALF;
  double *r = malloc(m * sizeof *r);
  if (!r)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  memcpy(s, d, n * sizeof *s);
  double wk[2 * SG_HALF + 1];
  for (int k = -SG_HALF; k <= SG_HALF; k++)
    wk[k + SG_HALF] = sg_weight(k);
  /* four points per step in two 2-lane vectors (one SSE2 register each;
   * a 4-lane vector was kept on the stack without AVX), each point summed
   * from 0 in k order as the scalar loop below does (the same bits) */
  typedef double v2q __attribute__((vector_size(16)));
  size_t c = SG_HALF;
  for (; c + 3 + SG_HALF < n; c += 4) {
    v2q a0 = {0, 0}, a1 = {0, 0};
    for (int k = 0; k <= 2 * SG_HALF; k++) {
      v2q d0, d1, w = {wk[k], wk[k]};
      memcpy(&d0, d + c - SG_HALF + (size_t)k, sizeof d0);
      memcpy(&d1, d + c + 2 - SG_HALF + (size_t)k, sizeof d1);
      a0 += w * d0, a1 += w * d1;
    }
    v2q c0, c1;
    memcpy(&c0, d + c, sizeof c0);
    memcpy(&c1, d + c + 2, sizeof c1);
    memcpy(s + c, &a0, sizeof a0);
    memcpy(s + c + 2, &a1, sizeof a1);
    c0 -= a0, c1 -= a1;
    memcpy(r + c - SG_HALF, &c0, sizeof c0);
    memcpy(r + c + 2 - SG_HALF, &c1, sizeof c1);
  }
  for (; c + SG_HALF < n; c++) {
    double acc = 0;
    for (int k = 0; k <= 2 * SG_HALF; k++)
      acc += wk[k] * d[c - SG_HALF + (size_t)k];
    s[c] = acc;
    r[c - SG_HALF] = d[c] - acc;
  }
  double med = csi_median(r, m);
  for (size_t i = 0; i < m; i++)
    r[i] = fabs(r[i] - med);
  *sigma = 1.4826 * csi_median(r, m) / sqrt(1.0 - sg_weight(0));
  free(r);
  return CS_OK;
}

/* IModPoly, 5th order (bands.md section 4: the fluorescence background is
 * smooth, removed with a 5th-order modified polyfit), fitted to means of
 * DECIM adjacent points and interpolated back: the background is far
 * broader than DECIM points, and the fit costs DECIM times less. */
#define DECIM 4
static cs_status baseline(const double *x, const double *y, size_t n,
                          double *b, cs_error *err) {
  size_t m = n / DECIM;
  double *xm = malloc(3 * m * sizeof *xm);
  if (!xm)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  double *ym = xm + m, *bm = xm + 2 * m;
  for (size_t j = 0; j < m; j++) {
    xm[j] = ym[j] = 0;
    for (size_t k = 0; k < DECIM; k++)
      xm[j] += x[j * DECIM + k] / DECIM, ym[j] += y[j * DECIM + k] / DECIM;
  }
  cs_baseline_opts bo = cs_baseline_opts_default(CS_BASELINE_IMODPOLY);
  bo.poly_order = 5;
  cs_status st = cs_baseline_fit(xm, ym, m, &bo, bm, err);
  if (!st) /* linear between block centres, held flat beyond them */
    for (size_t i = 0, j = 0; i < n; i++) {
      while (j + 2 < m && x[i] > xm[j + 1])
        j++;
      double t = (x[i] - xm[j]) / (xm[j + 1] - xm[j]);
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      b[i] = bm[j] + t * (bm[j + 1] - bm[j]);
    }
  free(xm);
  return st;
}

static int is_ftir(const cs_spectrum *s) {
  return s->technique == CS_TECH_FTIR ||
         (s->technique == CS_TECH_UNKNOWN && s->axis == CS_AXIS_WAVENUMBER);
}

/* The measurements on the cropped, ascending copy c. */
static cs_status measure(const cs_spectrum *c, int ftir, const cs_qc_opts *o,
                         cs_qc *q, cs_error *err) {
  size_t n = c->n;
  if (n < 2 * SG_HALF + 5)
    return csi_error(err, CS_ERR_DIM, "only %zu points in the window, QC "
                     "needs %d", n, 2 * SG_HALF + 5);
  double *d = malloc(3 * n * sizeof *d);
  if (!d)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  double *s = d + n, *b = d + 2 * n;
  memcpy(d, c->y, n * sizeof *d);
  cs_spike_opts so = cs_spike_opts_default();
  so.threshold = o->spike_threshold;
  cs_status st = cs_spikes_remove(d, n, &so, NULL, &q->spikes, err);
  /* a constant record has no band and no noise: it is its own smooth and
   * baseline (the polynomial fit of a constant could mask every point as a
   * peak and fail, or leave rounding as a band of SNR QC_CAP) */
  size_t nd = 1;
  while (nd < n && d[nd] == d[0])
    nd++;
  double sigma = 0;
  if (!st && nd == n) {
    memcpy(s, d, n * sizeof *s);
    memcpy(b, d, n * sizeof *b);
  } else {
    if (!st)
      st = smooth_noise(d, n, s, &sigma, err);
    if (!st)
      st = baseline(c->x, d, n, b, err);
  }
  if (st) {
    free(d);
    return st;
  }
  /* main band: the largest smooth - baseline away from the edges */
  size_t top = SG_HALF;
  for (size_t i = SG_HALF; i + SG_HALF < n; i++)
    if (s[i] - b[i] > s[top] - b[top])
      top = i;
  double h = s[top] - b[top];
  q->noise = sigma;
  q->band_x = c->x[top];
  q->band_height = h > 0 ? h : 0;
  q->snr = sigma > 0 ? q->band_height / sigma : (h > 0 ? QC_CAP : 0);
  if (q->snr > QC_CAP)
    q->snr = QC_CAP;
  double mean_b = 0;
  for (size_t i = 0; i < n; i++)
    mean_b += b[i] / (double)n;
  if (!ftir && h > 0 && mean_b > 0)
    q->fluor_ratio = fmin(mean_b / h, QC_CAP);
  /* saturation: raw counts at the ADC limit ... */
  q->max_y = c->y[0];
  for (size_t i = 0; i < n; i++) {
    if (c->y[i] > q->max_y)
      q->max_y = c->y[i];
    if (o->detector_max > 0 && !ftir &&
        (c->quantity == CS_Q_COUNTS || c->quantity == CS_Q_ARBITRARY) &&
        c->y[i] >= o->detector_max)
      q->n_saturated++;
  }
  /* ... or a clipped top: flat_run equal points at the (despiked) maximum,
   * standing > 5 sigma above the median so a flat record is no peak */
  size_t imax = 0, run = 0, best_run = 0;
  for (size_t i = 1; i < n; i++)
    if (d[i] > d[imax])
      imax = i;
  double dm = d[imax], tol = 1e-12 * fabs(dm);
  for (size_t i = 0; i < n; i++) {
    run = fabs(d[i] - dm) <= tol ? run + 1 : 0;
    if (run > best_run)
      best_run = run;
  }
  /* the median only when there is a run to judge */
  int flat = o->flat_run >= 2 && best_run >= (size_t)o->flat_run;
  if (flat) {
    memcpy(s, d, n * sizeof *s);
    double med = csi_median(s, n);
    flat = dm - med > 5 * sigma && dm > med;
  }
  free(d);
  if (q->n_saturated || flat)
    q->flags |= CS_QC_SATURATED;
  if (q->snr < o->min_snr)
    q->flags |= CS_QC_LOW_SNR;
  if (q->fluor_ratio > o->max_fluor_ratio)
    q->flags |= CS_QC_FLUORESCENCE;
  if (q->spikes)
    q->flags |= CS_QC_SPIKES;
  return CS_OK;
}

cs_status cs_qc_spectrum(const cs_spectrum *s, double lo, double hi,
                         const cs_qc_opts *o, cs_qc *out, cs_error *err) {
  memset(out, 0, sizeof *out);
  cs_qc_opts def = cs_qc_opts_default();
  if (!o)
    o = &def;
  cs_status st = check_opts(o, err);
  if (st)
    return st;
  if (!s || !(isfinite(lo) && isfinite(hi) && lo < hi))
    return csi_error(err, CS_ERR_ARG, "QC needs a spectrum and a window lo < hi");
  if (s->axis != CS_AXIS_RAMAN_SHIFT && s->axis != CS_AXIS_WAVELENGTH_NM &&
      s->axis != CS_AXIS_WAVENUMBER)
    return csi_error(err, CS_ERR_UNSUPPORTED, "QC needs a cm^-1 or nm axis, "
                     "not %s", cs_axis_name(s->axis));
  int ftir = is_ftir(s);
  /* a copy of the points and the fields QC reads, without the metadata
   * (nothing below reads it; copying it was a fifth of QC's allocations) */
  cs_spectrum *c = csi_spectrum_alloc(s->n);
  if (!c)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  memcpy(c->x, s->x, s->n * sizeof *c->x);
  memcpy(c->y, s->y, s->n * sizeof *c->y);
  csi_spectrum_copy_fields(c, s);
  if (c->axis == CS_AXIS_WAVELENGTH_NM)
    st = cs_spectrum_to_raman_shift(c, NAN, err);
  if (!st)
    st = cs_spectrum_sort(c, err);
  if (st) {
    cs_spectrum_free(c);
    return st;
  }
  out->x_lo = c->x[0];
  out->x_hi = c->x[c->n - 1];
  /* the same coverage rule as the model's crop step */
  cs_error e2;
  st = cs_spectrum_crop(c, lo, hi, &e2);
  if (st == CS_ERR_RANGE) {
    out->flags = CS_QC_OUT_OF_WINDOW;
    st = CS_OK;
  } else if (st) {
    csi_error(err, st, "%s", e2.msg);
  } else {
    st = measure(c, ftir, o, out, err);
  }
  cs_spectrum_free(c);
  if (st) {
    memset(out, 0, sizeof *out);
    return st;
  }
  out->reacquire = (out->flags & o->reacquire_mask) != 0;
  return CS_OK;
}
