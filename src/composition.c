/*
 * composition.c: what a mineral spectrum says beyond its class: carbonate
 * content of apatite (band fit + calibration), whitlockite index, COM/COD
 * fraction of oxalate, protein/mineral ratio; and carbonate calibrations.
 *
 * Band fits use GSL's multifit_nlinear (trust region, Levenberg-Marquardt
 * step, finite-difference Jacobian).  Band shapes are pseudo-Voigt.
 */
#include "internal.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PI_ 3.14159265358979323846
#define LN2_ 0.69314718055994530942
/* 95 % two-sided normal quantile. */
#define Z95 1.959963984540054

/* GSL's default error handler aborts; the library must not.  Turned off once
 * for the process (documented in calcspec.h). */
static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;
static void gsl_quiet(void) { gsl_set_error_handler_off(); }

/* ---- generic band fit ---- */

#define MAXB 10

typedef struct bandspec {
  double pos_lo, pos_hi; /* position bounds, cm^-1 */
  double fw_lo, fw_hi;   /* FWHM bounds, cm^-1 */
  double pos0, fw0;      /* start values */
  int free_eta;          /* 1: Lorentzian share fitted, else eta0 */
  double eta0;
} bandspec;

typedef struct fitprob {
  const double *x, *y;
  size_t n;
  const bandspec *b;
  size_t nb;
  int base_order; /* polynomial baseline order */
  double xc, xh;  /* baseline variable u = (x - xc) / xh */
} fitprob;

typedef struct fitout {
  double pos[MAXB], fwhm[MAXB], eta[MAXB], height[MAXB], area[MAXB];
  double cov_area[MAXB * MAXB]; /* nb x nb */
  double r2;                    /* variance explained */
  size_t iterations;
} fitout;

static double sig(double u) { return 1 / (1 + exp(-u)); }
static double logit_in(double v, double lo, double hi) {
  double t = (v - lo) / (hi - lo);
  if (t < 0.02)
    t = 0.02;
  if (t > 0.98)
    t = 0.98;
  return log(t / (1 - t));
}

/* Parameter layout: per band pos, fwhm, height, [eta]; then baseline. */
static size_t nparams(const fitprob *p) {
  size_t k = 0;
  for (size_t i = 0; i < p->nb; i++)
    k += 3 + (p->b[i].free_eta ? 1 : 0);
  return k + (size_t)p->base_order + 1;
}

static void unpack(const fitprob *p, const double *th, double *pos,
                   double *fw, double *eta, double *h, const double **base) {
  size_t k = 0;
  for (size_t i = 0; i < p->nb; i++) {
    const bandspec *b = &p->b[i];
    pos[i] = b->pos_lo + (b->pos_hi - b->pos_lo) * sig(th[k++]);
    fw[i] = b->fw_lo + (b->fw_hi - b->fw_lo) * sig(th[k++]);
    h[i] = th[k++];
    eta[i] = b->free_eta ? sig(th[k++]) : b->eta0;
  }
  *base = th + k;
}

/* Area of a pseudo-Voigt of height h, FWHM f, Lorentzian share eta. */
static double pv_area(double h, double f, double eta) {
  return h * f * (eta * PI_ / 2 + (1 - eta) * sqrt(PI_ / (4 * LN2_)));
}

static double model_at(const fitprob *p, const double *pos, const double *fw,
                       const double *eta, const double *h, const double *base,
                       double x) {
  double v = 0, u = (x - p->xc) / p->xh, up = 1;
  for (int j = 0; j <= p->base_order; j++, up *= u)
    v += base[j] * up;
  for (size_t i = 0; i < p->nb; i++) {
    double d = (x - pos[i]) / fw[i];
    v += h[i] * (eta[i] / (1 + 4 * d * d) +
                 (1 - eta[i]) * exp(-4 * LN2_ * d * d));
  }
  return v;
}

static int resid_f(const gsl_vector *th, void *params, gsl_vector *f) {
  const fitprob *p = params;
  double pos[MAXB], fw[MAXB], eta[MAXB], h[MAXB];
  const double *base;
  unpack(p, th->data, pos, fw, eta, h, &base);
  for (size_t i = 0; i < p->n; i++)
    gsl_vector_set(f, i,
                   model_at(p, pos, fw, eta, h, base, p->x[i]) - p->y[i]);
  return GSL_SUCCESS;
}

static void areas_of(const fitprob *p, const double *th, double *a) {
  double pos[MAXB], fw[MAXB], eta[MAXB], h[MAXB];
  const double *base;
  unpack(p, th, pos, fw, eta, h, &base);
  for (size_t i = 0; i < p->nb; i++)
    a[i] = pv_area(h[i], fw[i], eta[i]);
}

/* Fit bands + baseline to (x, y); start heights from the data.  Covariance
 * of the band areas by the delta method from (J'J)^-1 s^2. */
static cs_status band_fit(fitprob *p, fitout *o, cs_error *err) {
  pthread_once(&gsl_once, gsl_quiet);
  size_t np = nparams(p), n = p->n;
  if (n < np + 5)
    return csi_error(err, CS_ERR_RANGE,
                     "band fit: %zu points in the window, need at least %zu",
                     n, np + 5);
  p->xc = 0.5 * (p->x[0] + p->x[n - 1]);
  p->xh = 0.5 * (p->x[n - 1] - p->x[0]);
  double *th0 = calloc(np, sizeof *th0);
  if (!th0)
    return csi_error(err, CS_ERR_NOMEM, "band fit: out of memory");
  /* start: straight line through the window ends, heights above it */
  size_t e = n / 20 + 1;
  double yl = 0, yr = 0;
  for (size_t i = 0; i < e; i++) {
    yl += p->y[i] / (double)e;
    yr += p->y[n - 1 - i] / (double)e;
  }
  size_t k = 0;
  for (size_t i = 0; i < p->nb; i++) {
    const bandspec *b = &p->b[i];
    th0[k++] = logit_in(b->pos0, b->pos_lo, b->pos_hi);
    th0[k++] = logit_in(b->fw0, b->fw_lo, b->fw_hi);
    double hmax = 0;
    for (size_t j = 0; j < n; j++)
      if (fabs(p->x[j] - b->pos0) <= 0.5 * b->fw0) {
        double line = yl + (yr - yl) * (p->x[j] - p->x[0]) /
                               (p->x[n - 1] - p->x[0]);
        if (p->y[j] - line > hmax)
          hmax = p->y[j] - line;
      }
    th0[k++] = 0.5 * hmax;
    if (b->free_eta)
      th0[k++] = 0;
  }
  th0[k] = 0.5 * (yl + yr);
  if (p->base_order >= 1)
    th0[k + 1] = 0.5 * (yr - yl);

  gsl_multifit_nlinear_fdf fdf;
  memset(&fdf, 0, sizeof fdf);
  fdf.f = resid_f;
  fdf.df = NULL; /* finite differences */
  fdf.n = n;
  fdf.p = np;
  fdf.params = p;
  gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
  gsl_multifit_nlinear_workspace *w =
      gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, n, np);
  gsl_matrix *cov = gsl_matrix_alloc(np, np);
  cs_status st = CS_OK;
  if (!w || !cov) {
    st = csi_error(err, CS_ERR_NOMEM, "band fit: out of memory");
    goto done;
  }
  gsl_vector_view v0 = gsl_vector_view_array(th0, np);
  int info = 0;
  if (gsl_multifit_nlinear_init(&v0.vector, &fdf, w) != GSL_SUCCESS) {
    st = csi_error(err, CS_ERR_NUMERIC, "band fit: cannot start");
    goto done;
  }
  int gs = gsl_multifit_nlinear_driver(200, 1e-10, 1e-10, 1e-10, NULL, NULL,
                                       &info, w);
  /* GSL_EMAXITER / GSL_ENOPROG still leave the best point found; accept it
   * when finite (the covariance then carries the doubt). */
  (void)gs;
  const gsl_vector *th = gsl_multifit_nlinear_position(w);
  const gsl_vector *f = gsl_multifit_nlinear_residual(w);
  gsl_matrix *J = gsl_multifit_nlinear_jac(w);
  double chi2;
  gsl_blas_ddot(f, f, &chi2);
  if (!isfinite(chi2)) {
    st = csi_error(err, CS_ERR_NUMERIC, "band fit: did not converge");
    goto done;
  }
  gsl_multifit_nlinear_covar(J, 1e-10, cov);
  double s2 = chi2 / (double)(n - np);
  double ym = 0, sst = 0;
  for (size_t i = 0; i < n; i++)
    ym += p->y[i] / (double)n;
  for (size_t i = 0; i < n; i++)
    sst += (p->y[i] - ym) * (p->y[i] - ym);
  o->r2 = sst > 0 ? 1 - chi2 / sst : 0;
  o->iterations = gsl_multifit_nlinear_niter(w);
  const double *base;
  unpack(p, th->data, o->pos, o->fwhm, o->eta, o->height, &base);
  areas_of(p, th->data, o->area);
  /* G = d area / d theta by central differences */
  double G[MAXB][64];
  double *tt = malloc(np * sizeof *tt);
  if (np > 64 || !tt) {
    free(tt);
    st = csi_error(err, CS_ERR_NOMEM, "band fit: out of memory");
    goto done;
  }
  memcpy(tt, th->data, np * sizeof *tt);
  for (size_t j = 0; j < np; j++) {
    double hstep = 1e-6 * (fabs(tt[j]) + 1e-3), ap[MAXB], am[MAXB];
    double keep = tt[j];
    tt[j] = keep + hstep;
    areas_of(p, tt, ap);
    tt[j] = keep - hstep;
    areas_of(p, tt, am);
    tt[j] = keep;
    for (size_t i = 0; i < p->nb; i++)
      G[i][j] = (ap[i] - am[i]) / (2 * hstep);
  }
  free(tt);
  for (size_t a = 0; a < p->nb; a++)
    for (size_t b = 0; b < p->nb; b++) {
      double c = 0;
      for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < np; j++)
          c += G[a][i] * gsl_matrix_get(cov, i, j) * G[b][j];
      o->cov_area[a * p->nb + b] = c * s2;
    }
  for (size_t i = 0; i < p->nb; i++)
    if (!isfinite(o->area[i]) || !isfinite(o->cov_area[i * p->nb + i])) {
      st = csi_error(err, CS_ERR_NUMERIC, "band fit: non-finite result");
      goto done;
    }
done:
  gsl_matrix_free(cov);
  if (w)
    gsl_multifit_nlinear_free(w);
  free(th0);
  return st;
}

/* ---- spectrum windows ---- */

typedef struct window {
  double *x, *y;
  size_t n;
} window;

/* Copy of the points of s with lo <= x <= hi (x ascending), scaled so the
 * largest |y| is 1 (conditioning; ratios do not care).  CS_ERR_RANGE when s
 * does not reach both ends to within 2 cm^-1. */
static cs_status take_window(const cs_spectrum *s, double lo, double hi,
                             window *w, cs_error *err) {
  size_t n = s->n;
  memset(w, 0, sizeof *w);
  if (n < 2 || s->x[0] > lo + 2 || s->x[n - 1] < hi - 2)
    return csi_error(err, CS_ERR_RANGE,
                     "spectrum does not cover %g-%g cm^-1", lo, hi);
  size_t a = 0;
  while (a < n && s->x[a] < lo)
    a++;
  size_t b = a;
  while (b < n && s->x[b] <= hi)
    b++;
  w->n = b - a;
  w->x = malloc((w->n + 1) * sizeof *w->x);
  w->y = malloc((w->n + 1) * sizeof *w->y);
  if (!w->x || !w->y) {
    free(w->x);
    free(w->y);
    memset(w, 0, sizeof *w);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  double m = 0;
  for (size_t i = 0; i < w->n; i++) {
    w->x[i] = s->x[a + i];
    w->y[i] = s->y[a + i];
    if (fabs(w->y[i]) > m)
      m = fabs(w->y[i]);
  }
  if (m > 0)
    for (size_t i = 0; i < w->n; i++)
      w->y[i] /= m;
  return CS_OK;
}

/* Fluorescence under the 900-1110 cluster is too curved for a low-order
 * polynomial inside the window alone: estimate it over a wider context
 * (lo..hi) with IModPoly (Zhao 2007, the classifier's Raman baseline),
 * subtract, then take the fit window (a linear term stays in the fit). */
static cs_status debaseline(const cs_spectrum *s, double lo, double hi,
                            double wlo, double whi, window *w, cs_error *err) {
  cs_spectrum *c;
  memset(w, 0, sizeof *w);
  cs_status st = cs_spectrum_copy(s, &c, err);
  if (st)
    return st;
  if (c->x[0] > lo)
    lo = c->x[0];
  if (c->x[c->n - 1] < hi)
    hi = c->x[c->n - 1];
  if (!(hi - lo > whi - wlo) || lo > wlo + 2 || hi < whi - 2) {
    cs_spectrum_free(c);
    return csi_error(err, CS_ERR_RANGE, "spectrum does not cover %g-%g cm^-1",
                     wlo, whi);
  }
  st = cs_spectrum_crop(c, lo, hi, err);
  double *bl = st ? NULL : malloc(c->n * sizeof *bl);
  if (!st && !bl)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st) {
    cs_baseline_opts o = cs_baseline_opts_default(CS_BASELINE_IMODPOLY);
    o.poly_order = 3;
    st = cs_baseline_fit(c->x, c->y, c->n, &o, bl, err);
  }
  if (!st) {
    for (size_t i = 0; i < c->n; i++)
      c->y[i] -= bl[i];
    st = take_window(c, wlo, whi, w, err);
  }
  free(bl);
  cs_spectrum_free(c);
  return st;
}

static void window_free(window *w) {
  free(w->x);
  free(w->y);
}

/* Area above the straight line joining the mean of the first and last 3
 * points, trapezoid rule (FTIR bands, Raman 1450 protein band). */
static double line_area(const window *w) {
  size_t n = w->n, e = n < 6 ? 1 : 3;
  double xl = 0, yl = 0, xr = 0, yr = 0;
  for (size_t i = 0; i < e; i++) {
    xl += w->x[i] / (double)e;
    yl += w->y[i] / (double)e;
    xr += w->x[n - 1 - i] / (double)e;
    yr += w->y[n - 1 - i] / (double)e;
  }
  double a = 0;
  for (size_t i = 1; i < n; i++) {
    double b0 = yl + (yr - yl) * (w->x[i - 1] - xl) / (xr - xl);
    double b1 = yl + (yr - yl) * (w->x[i] - xl) / (xr - xl);
    a += 0.5 * (w->y[i - 1] - b0 + w->y[i] - b1) * (w->x[i] - w->x[i - 1]);
  }
  return a;
}

/* ---- calibration ---- */

cs_status cs_calibration_fit(cs_technique t, const double *wt,
                             const double *ratio, size_t n, const char *note,
                             cs_calibration *out, cs_error *err) {
  memset(out, 0, sizeof *out);
  if (t != CS_TECH_RAMAN && t != CS_TECH_FTIR)
    return csi_error(err, CS_ERR_ARG, "calibration: technique must be raman or ftir");
  if (n < 3)
    return csi_error(err, CS_ERR_ARG,
                     "calibration: need at least 3 standards, got %zu", n);
  double xm = 0, ym = 0, lo = wt[0], hi = wt[0];
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(wt[i]) || !isfinite(ratio[i]))
      return csi_error(err, CS_ERR_ARG, "calibration: standard %zu is not finite", i);
    xm += wt[i] / (double)n;
    ym += ratio[i] / (double)n;
    lo = wt[i] < lo ? wt[i] : lo;
    hi = wt[i] > hi ? wt[i] : hi;
  }
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < n; i++) {
    sxx += (wt[i] - xm) * (wt[i] - xm);
    sxy += (wt[i] - xm) * (ratio[i] - ym);
  }
  if (!(sxx > 0))
    return csi_error(err, CS_ERR_ARG,
                     "calibration: the standards all have the same carbonate content");
  double m = sxy / sxx, b = ym - m * xm, sse = 0;
  for (size_t i = 0; i < n; i++) {
    double r = ratio[i] - (b + m * wt[i]);
    sse += r * r;
  }
  /* ordinary least squares: s^2 = SSE/(n-2), var m = s^2/Sxx,
   * var b = s^2 (1/n + xm^2/Sxx), cov(m, b) = -xm s^2/Sxx */
  double s2 = sse / (double)(n - 2);
  if (!(m > 0))
    return csi_error(err, CS_ERR_NUMERIC,
                     "calibration: ratio does not increase with carbonate (slope %g)", m);
  out->technique = t;
  out->m = m;
  out->b = b;
  out->se_m = sqrt(s2 / sxx);
  out->se_b = sqrt(s2 * (1.0 / (double)n + xm * xm / sxx));
  out->cov_mb = -xm * s2 / sxx;
  out->s_resid = sqrt(s2);
  out->n = n;
  out->wt_lo = lo;
  out->wt_hi = hi;
  snprintf(out->note, sizeof out->note, "%s", note ? note : "");
  for (char *c = out->note; *c; c++)
    if (*c == '\n' || *c == '\r')
      *c = ' ';
  return CS_OK;
}

cs_status cs_calibration_format(const cs_calibration *c, char **text,
                                cs_error *err) {
  csi_buf b = {0};
  char v[8][40];
  double vals[8] = {c->m, c->b, c->se_m, c->se_b, c->cov_mb, c->s_resid,
                    c->wt_lo, c->wt_hi};
  for (int i = 0; i < 8; i++)
    csi_fmt_double(v[i], sizeof v[i], vals[i]);
  csi_buf_printf(&b, "calcspec-calibration 1\nkind carbonate\ntechnique %s\n",
                 cs_technique_name(c->technique));
  csi_buf_printf(&b, "ratio %s\n", c->technique == CS_TECH_RAMAN
                                       ? "A1070/A960"
                                       : "A(nu3 CO3 1415+1455)/A(nu1nu3 PO4)");
  csi_buf_printf(&b, "m %s\nb %s\nse_m %s\nse_b %s\ncov_mb %s\ns_resid %s\n",
                 v[0], v[1], v[2], v[3], v[4], v[5]);
  csi_buf_printf(&b, "n %zu\nrange_wt %s %s\nnote %s\n", c->n, v[6], v[7],
                 c->note);
  if (b.oom) {
    csi_buf_free(&b);
    *text = NULL;
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  *text = b.p;
  return CS_OK;
}

cs_status cs_calibration_save(const cs_calibration *c, const char *path,
                              cs_error *err) {
  char *text;
  cs_status st = cs_calibration_format(c, &text, err);
  if (st)
    return st;
  st = csi_write_atomic(path, text, strlen(text), err);
  free(text);
  return st;
}

static cs_status cal_num(const char *v, double *out, int line, cs_error *err) {
  if (csi_parse_double(v, out))
    return csi_error(err, CS_ERR_MODEL, "calibration line %d: bad number '%s'",
                     line, v);
  return CS_OK;
}

cs_status cs_calibration_parse(const char *text, size_t len,
                               cs_calibration *out, cs_error *err) {
  memset(out, 0, sizeof *out);
  char *buf = csi_strndup(text, len);
  if (!buf)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = CS_OK;
  int line = 0, seen = 0;
  enum { M = 1, B = 2, SEM = 4, SEB = 8, COV = 16, S = 32, N = 64, R = 128,
         T = 256 };
  char *save = NULL;
  for (char *l = strtok_r(buf, "\n", &save); l && !st;
       l = strtok_r(NULL, "\n", &save)) {
    line++;
    csi_trim(l);
    if (line == 1) {
      if (strcmp(l, "calcspec-calibration 1"))
        st = csi_error(err, CS_ERR_MODEL,
                       "not a calcspec calibration file (version line '%.40s')", l);
      continue;
    }
    if (!*l || *l == '#')
      continue;
    char *val = strchr(l, ' ');
    if (val)
      *val++ = '\0';
    else
      val = l + strlen(l);
    val = csi_trim(val);
    if (!strcmp(l, "kind")) {
      if (strcmp(val, "carbonate"))
        st = csi_error(err, CS_ERR_MODEL, "calibration line %d: unknown kind '%s'",
                       line, val);
    } else if (!strcmp(l, "technique")) {
      if (cs_technique_from_name(val, &out->technique) ||
          out->technique == CS_TECH_UNKNOWN)
        st = csi_error(err, CS_ERR_MODEL,
                       "calibration line %d: unknown technique '%s'", line, val);
      seen |= T;
    } else if (!strcmp(l, "ratio")) {
      /* descriptive */
    } else if (!strcmp(l, "m")) {
      st = cal_num(val, &out->m, line, err);
      seen |= M;
    } else if (!strcmp(l, "b")) {
      st = cal_num(val, &out->b, line, err);
      seen |= B;
    } else if (!strcmp(l, "se_m")) {
      st = cal_num(val, &out->se_m, line, err);
      seen |= SEM;
    } else if (!strcmp(l, "se_b")) {
      st = cal_num(val, &out->se_b, line, err);
      seen |= SEB;
    } else if (!strcmp(l, "cov_mb")) {
      st = cal_num(val, &out->cov_mb, line, err);
      seen |= COV;
    } else if (!strcmp(l, "s_resid")) {
      st = cal_num(val, &out->s_resid, line, err);
      seen |= S;
    } else if (!strcmp(l, "n")) {
      double d;
      st = cal_num(val, &d, line, err);
      if (!st && (d < 3 || d != floor(d) || d > 1e9))
        st = csi_error(err, CS_ERR_MODEL, "calibration line %d: bad n", line);
      out->n = (size_t)d;
      seen |= N;
    } else if (!strcmp(l, "range_wt")) {
      char *sp = strchr(val, ' ');
      if (!sp)
        st = csi_error(err, CS_ERR_MODEL,
                       "calibration line %d: range_wt needs two numbers", line);
      else {
        *sp++ = '\0';
        st = cal_num(val, &out->wt_lo, line, err);
        if (!st)
          st = cal_num(sp, &out->wt_hi, line, err);
      }
      seen |= R;
    } else if (!strcmp(l, "note")) {
      snprintf(out->note, sizeof out->note, "%s", val);
    } else {
      st = csi_error(err, CS_ERR_MODEL, "calibration line %d: unknown key '%s'",
                     line, l);
    }
  }
  free(buf);
  if (!st && line == 0)
    st = csi_error(err, CS_ERR_MODEL, "empty calibration file");
  if (!st && seen != (M | B | SEM | SEB | COV | S | N | R | T))
    st = csi_error(err, CS_ERR_MODEL,
                   "calibration incomplete: needs technique, m, b, se_m, se_b, "
                   "cov_mb, s_resid, n, range_wt");
  if (!st && !(out->m > 0 && out->se_m >= 0 && out->se_b >= 0 &&
               out->s_resid >= 0 && out->wt_lo <= out->wt_hi))
    st = csi_error(err, CS_ERR_MODEL,
                   "calibration values out of range (m must be > 0, errors >= 0)");
  if (st)
    memset(out, 0, sizeof *out);
  return st;
}

cs_status cs_calibration_load(const char *path, cs_calibration *out,
                              cs_error *err) {
  char *buf;
  size_t len;
  memset(out, 0, sizeof *out);
  cs_status st = csi_read_file(path, 1 << 20, &buf, &len, err);
  if (st)
    return st;
  st = cs_calibration_parse(buf, len, out, err);
  free(buf);
  return st;
}

cs_status cs_calibration_default(cs_technique t, cs_calibration *out,
                                 cs_error *err) {
  size_t len;
  const char *text = csi_default_calibration(t, &len);
  if (!text || !len) {
    memset(out, 0, sizeof *out);
    return csi_error(err, CS_ERR_UNSUPPORTED,
                     "no built-in carbonate calibration for %s",
                     cs_technique_name(t));
  }
  return cs_calibration_parse(text, len, out, err);
}

/* ---- measurements ---- */

/* Raman 900-1110 cm^-1 model (bands.md 1A HA table; 2.1; 2.4): nu1 PO4
 * ~960, whitlockite nu1 above it, 922 whitlockite, 1004 phenylalanine
 * (tissue), nu3 PO4 ~1030 and ~1045, and one composite band at ~1070: nu1
 * CO3 1070 with nu3 PO4 1076 under it (bands.md 2.1: this is why the
 * calibration intercept b is not zero). */
enum { B_NU1, B_WH, B_922, B_PHE, B_1030, B_1045, B_1070, NB_RAMAN };
static const bandspec raman_bands[NB_RAMAN] = {
    {948, 966, 2, 30, 960, 8, 1, 0.5},   /* nu1 PO4 (HA 958-964) */
    {963, 976, 4, 25, 968, 9, 0, 0.6},   /* whitlockite nu1 (965-970) */
    {915, 929, 4, 25, 922, 10, 0, 0.6},  /* whitlockite 922 */
    {998, 1010, 3, 20, 1004, 8, 0, 0.6}, /* phenylalanine (tissue) */
    {1024, 1034, 8, 25, 1029, 14, 0, 0.6},
    {1040, 1051, 8, 25, 1046, 16, 0, 0.6},
    {1064, 1080, 10, 35, 1072, 20, 1, 0.5},
};

/* Kontoyannis 1997 (bands.md 2.3): 1462 COM, 1477 COD, a broad tissue CH2
 * band at ~1445 fitted alongside since its overlap must be removed. */
static const bandspec oxalate_bands[3] = {
    {1455, 1468, 3, 25, 1462, 9, 0, 0.6},
    {1470, 1484, 3, 25, 1477, 9, 0, 0.6},
    {1430, 1455, 15, 60, 1445, 30, 0, 0.7},
};

static int is_apatite(const char *cls) {
  return cls && (!strcmp(cls, "hydroxyapatite") || !strcmp(cls, "whitlockite") ||
                 !strcmp(cls, "apatite"));
}

/* Carbonate wt% and its 95 % interval from ratio R (variance var_r). */
static void apply_cal(const cs_calibration *cal, double r, double var_r,
                      cs_composition *o) {
  /* a slope within two standard errors of zero cannot turn R into wt% */
  if (cal->m < 2 * cal->se_m) {
    snprintf(o->carbonate_reason, sizeof o->carbonate_reason,
             "calibration slope not significant (m %.3g, se %.3g): "
             "recalibrate with standards",
             cal->m, cal->se_m);
    return;
  }
  double wt = (r - cal->b) / cal->m;
  /* delta method on wt = (R - b)/m: the spectrum's fit variance, the
   * calibration line (var b + wt^2 var m + 2 wt cov) and the standards'
   * scatter about it (s_resid^2), all over m^2 */
  double v = var_r + cal->se_b * cal->se_b + wt * wt * cal->se_m * cal->se_m +
             2 * wt * cal->cov_mb + cal->s_resid * cal->s_resid;
  double sd = sqrt(v > 0 ? v : 0) / cal->m;
  o->carbonate_wt = wt;
  o->carbonate_lo = wt - Z95 * sd;
  o->carbonate_hi = wt + Z95 * sd;
  o->valid |= CS_COMP_CARBONATE;
  if (wt < cal->wt_lo - 1 || wt > cal->wt_hi + 1)
    snprintf(o->carbonate_reason, sizeof o->carbonate_reason,
             "outside the calibrated range %g-%g wt%%", cal->wt_lo, cal->wt_hi);
}

/* dst = fmt with one %s (a), truncated to cap. */
static void reason(char *dst, size_t cap, const char *fmt, const char *a) {
  snprintf(dst, cap, fmt, a);
}

static cs_status raman_apatite(const cs_spectrum *s, const cs_calibration *cal,
                               cs_composition *o, cs_error *err) {
  window w;
  cs_error e2;
  cs_status st = debaseline(s, 800, 1250, 900, 1110, &w, &e2);
  if (st) {
    reason(o->carbonate_reason, sizeof o->carbonate_reason, "%.100s", e2.msg);
    reason(o->whitlockite_reason, sizeof o->whitlockite_reason, "%.100s", e2.msg);
    reason(o->protein_reason, sizeof o->protein_reason, "%.100s", e2.msg);
    return st == CS_ERR_NOMEM ? csi_error(err, st, "%s", e2.msg) : CS_OK;
  }
  fitprob p = {w.x, w.y, w.n, raman_bands, NB_RAMAN, 1, 0, 1};
  fitout f;
  st = band_fit(&p, &f, &e2);
  window_free(&w);
  if (st) {
    reason(o->carbonate_reason, sizeof o->carbonate_reason, "%.100s", e2.msg);
    reason(o->whitlockite_reason, sizeof o->whitlockite_reason, "%.100s", e2.msg);
    reason(o->protein_reason, sizeof o->protein_reason, "%.100s", e2.msg);
    return st == CS_ERR_NOMEM ? csi_error(err, st, "%s", e2.msg) : CS_OK;
  }
  size_t nb = NB_RAMAN;
  double a1 = f.area[B_NU1], ac = f.area[B_1070], aw = f.area[B_WH];
  o->fit_r2 = f.r2;
  o->fit_iterations = f.iterations;
  if (!(a1 > 0) || f.height[B_NU1] <= 0) {
    const char *m = "no nu1 PO4 band at 960 cm^-1";
    reason(o->carbonate_reason, sizeof o->carbonate_reason, "%s", m);
    reason(o->whitlockite_reason, sizeof o->whitlockite_reason, "%s", m);
    reason(o->protein_reason, sizeof o->protein_reason, "%s", m);
    return CS_OK;
  }
  o->nu1_pos = f.pos[B_NU1];
  o->nu1_fwhm = f.fwhm[B_NU1];
  o->valid |= CS_COMP_NU1;
  /* R = Ac/A1: var R = R^2 (vc/Ac^2 + v1/A1^2 - 2 c/(Ac A1)) */
  double v1 = f.cov_area[B_NU1 * nb + B_NU1], vc = f.cov_area[B_1070 * nb + B_1070];
  double c1c = f.cov_area[B_NU1 * nb + B_1070];
  double r = ac / a1;
  double var_r = vc / (a1 * a1) + r * r * v1 / (a1 * a1) - 2 * r * c1c / (a1 * a1);
  o->carbonate_ratio = r;
  o->carbonate_ratio_se = sqrt(var_r > 0 ? var_r : 0);
  if (cal)
    apply_cal(cal, r, var_r, o);
  else
    reason(o->carbonate_reason, sizeof o->carbonate_reason, "%s",
           "no calibration");
  /* whitlockite index A970/(A960+A970) (bands.md 2.4: relative cross
   * sections unknown, taken as 1); delta method for its error */
  double sum = a1 + aw;
  if (sum > 0) {
    double wi = aw / sum, d1 = -aw / (sum * sum), dw = a1 / (sum * sum);
    double vw = f.cov_area[B_WH * nb + B_WH], c1w = f.cov_area[B_NU1 * nb + B_WH];
    double vi = d1 * d1 * v1 + dw * dw * vw + 2 * d1 * dw * c1w;
    o->whitlockite_index = wi < 0 ? 0 : wi > 1 ? 1 : wi;
    o->whitlockite_se = sqrt(vi > 0 ? vi : 0);
    o->band922_ratio = f.area[B_922] / a1;
    o->valid |= CS_COMP_WHITLOCKITE;
  }
  /* protein/mineral: the CH2 deformation band (1450) over nu1 PO4; both
   * areas in the same scaled units */
  window w2;
  double scale_nu1 = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->x[i] >= 900 && s->x[i] <= 1110 && fabs(s->y[i]) > scale_nu1)
      scale_nu1 = fabs(s->y[i]);
  st = take_window(s, 1400, 1500, &w2, &e2);
  if (st == CS_ERR_NOMEM)
    return csi_error(err, st, "%.100s", e2.msg);
  if (st) {
    reason(o->protein_reason, sizeof o->protein_reason, "%.100s", e2.msg);
    return CS_OK;
  }
  double m2 = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->x[i] >= 1400 && s->x[i] <= 1500 && fabs(s->y[i]) > m2)
      m2 = fabs(s->y[i]);
  double ap = line_area(&w2) * m2;
  window_free(&w2);
  o->protein_mineral = (ap > 0 ? ap : 0) / (a1 * scale_nu1);
  o->valid |= CS_COMP_PROTEIN;
  return CS_OK;
}

static cs_status ftir_apatite(const cs_spectrum *s, const cs_calibration *cal,
                              cs_composition *o, cs_error *err) {
  /* areas above local straight lines: nu1nu3 PO4 900-1200, nu2 CO3
   * 850-890, nu3 CO3 1380-1500 (bands.md 2.2, Grunenwald 2014 windows) */
  static const double win[3][2] = {{900, 1200}, {850, 890}, {1380, 1500}};
  double a[3];
  for (int k = 0; k < 3; k++) {
    window w;
    cs_error e2;
    cs_status st = take_window(s, win[k][0], win[k][1], &w, &e2);
    if (st == CS_ERR_NOMEM)
      return csi_error(err, st, "%.100s", e2.msg);
    if (st) {
      reason(o->carbonate_reason, sizeof o->carbonate_reason, "%.100s", e2.msg);
      reason(o->protein_reason, sizeof o->protein_reason, "%.100s", e2.msg);
      return CS_OK;
    }
    double m = 0;
    for (size_t i = 0; i < w.n; i++)
      m = fabs(w.y[i]) > m ? fabs(w.y[i]) : m;
    /* take_window scaled by the window's max |y|; undo it */
    double ymax = 0;
    for (size_t i = 0; i < s->n; i++)
      if (s->x[i] >= win[k][0] && s->x[i] <= win[k][1] && fabs(s->y[i]) > ymax)
        ymax = fabs(s->y[i]);
    a[k] = line_area(&w) * ymax;
    (void)m;
    window_free(&w);
  }
  if (!(a[0] > 0)) {
    reason(o->carbonate_reason, sizeof o->carbonate_reason, "%s",
           "no nu1nu3 PO4 absorption at 900-1200 cm^-1");
    reason(o->protein_reason, sizeof o->protein_reason, "%s",
           "no nu1nu3 PO4 absorption at 900-1200 cm^-1");
    return CS_OK;
  }
  o->carbonate_ratio = a[2] / a[0];
  o->ftir_nu2_ratio = a[1] / a[0];
  o->carbonate_ratio_se = 0;
  if (cal)
    apply_cal(cal, o->carbonate_ratio, 0, o);
  else
    reason(o->carbonate_reason, sizeof o->carbonate_reason, "%s",
           "no calibration");
  reason(o->whitlockite_reason, sizeof o->whitlockite_reason, "%s",
         "whitlockite index is a Raman measure");
  /* protein/mineral: amide I 1600-1700 over nu1nu3 PO4 (Baker 2010) */
  window w;
  cs_error e2;
  cs_status st = take_window(s, 1600, 1700, &w, &e2);
  if (st == CS_ERR_NOMEM)
    return csi_error(err, st, "%.100s", e2.msg);
  if (st) {
    reason(o->protein_reason, sizeof o->protein_reason, "%.100s", e2.msg);
    return CS_OK;
  }
  double ymax = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->x[i] >= 1600 && s->x[i] <= 1700 && fabs(s->y[i]) > ymax)
      ymax = fabs(s->y[i]);
  double am = line_area(&w) * ymax;
  window_free(&w);
  o->protein_mineral = (am > 0 ? am : 0) / a[0];
  o->valid |= CS_COMP_PROTEIN;
  return CS_OK;
}

static cs_status raman_oxalate(const cs_spectrum *s, cs_composition *o,
                               cs_error *err) {
  window w;
  cs_error e2;
  /* Kontoyannis only where the spectrum covers 1440-1500 (bands.md 2.3) */
  cs_status st = take_window(s, 1420, 1500, &w, &e2);
  if (st) {
    if (st == CS_ERR_NOMEM)
      return csi_error(err, st, "%.100s", e2.msg);
    reason(o->com_reason, sizeof o->com_reason, "%.100s", e2.msg);
    return CS_OK;
  }
  fitprob p = {w.x, w.y, w.n, oxalate_bands, 3, 1, 0, 1};
  fitout f;
  st = band_fit(&p, &f, &e2);
  window_free(&w);
  if (st) {
    if (st == CS_ERR_NOMEM)
      return csi_error(err, st, "%.100s", e2.msg);
    reason(o->com_reason, sizeof o->com_reason, "%.100s", e2.msg);
    return CS_OK;
  }
  o->fit_r2 = f.r2;
  o->fit_iterations = f.iterations;
  double i1462 = f.height[0] > 0 ? f.height[0] : 0, i1477 = f.height[1];
  if (!(i1477 > 0)) {
    reason(o->com_reason, sizeof o->com_reason, "%s",
           "no COD 1477 cm^-1 band: I1462/I1477 undefined");
    return CS_OK;
  }
  /* Kontoyannis 1997: x_COM = (I_R - 0.134) / (0.8 I_R + 1.52), valid for
   * I_R 0.134 (pure COD) .. 8.27 (pure COM) (bands.md 2.3); clipped */
  double ir = i1462 / i1477;
  double x = (ir - 0.134) / (0.8 * ir + 1.52);
  o->oxalate_ir = ir;
  o->com_frac = x < 0 ? 0 : x > 1 ? 1 : x;
  o->valid |= CS_COMP_COM;
  if (ir > 8.27)
    reason(o->com_reason, sizeof o->com_reason, "%s",
           "I1462/I1477 above 8.27 (pure COM): clipped to 1");
  return CS_OK;
}

cs_status cs_composition_measure(const cs_spectrum *in, const char *cls,
                                 const cs_calibration *cal, cs_composition *o,
                                 cs_error *err) {
  memset(o, 0, sizeof *o);
  if (!in || !cls)
    return csi_error(err, CS_ERR_ARG, "composition: no spectrum or class");
  snprintf(o->cls, sizeof o->cls, "%s", cls);
  cs_technique t = in->technique;
  if (t == CS_TECH_UNKNOWN)
    t = in->axis == CS_AXIS_WAVENUMBER ? CS_TECH_FTIR : CS_TECH_RAMAN;
  o->technique = t;
  if (cal && cal->technique != t)
    return csi_error(err, CS_ERR_ARG,
                     "composition: %s calibration for a %s spectrum",
                     cs_technique_name(cal->technique), cs_technique_name(t));
  /* work on an ascending Raman-shift (or wavenumber) copy */
  cs_spectrum *s;
  cs_status st = cs_spectrum_copy(in, &s, err);
  if (st)
    return st;
  if (s->axis == CS_AXIS_WAVELENGTH_NM)
    st = cs_spectrum_to_raman_shift(s, NAN, err);
  if (!st && s->n > 1 && s->x[0] > s->x[s->n - 1])
    st = cs_spectrum_sort(s, err);
  if (!st && s->axis != CS_AXIS_RAMAN_SHIFT && s->axis != CS_AXIS_WAVENUMBER &&
      s->axis != CS_AXIS_UNKNOWN)
    st = csi_error(err, CS_ERR_UNSUPPORTED,
                   "composition: needs a Raman shift or wavenumber axis");
  if (!st && t == CS_TECH_RAMAN) {
    /* cosmic spikes would be fitted as bands */
    cs_spike_opts so = cs_spike_opts_default();
    size_t nrem;
    st = cs_spectrum_remove_spikes(s, &so, &nrem, err);
  }
  const char *na = "class %s: not measured";
  if (!st) {
    if (is_apatite(cls)) {
      st = t == CS_TECH_FTIR ? ftir_apatite(s, cal, o, err)
                             : raman_apatite(s, cal, o, err);
      reason(o->com_reason, sizeof o->com_reason, "%s",
             "COM/COD applies to oxalate only");
    } else if (!strcmp(cls, "oxalate")) {
      if (t == CS_TECH_RAMAN)
        st = raman_oxalate(s, o, err);
      else
        reason(o->com_reason, sizeof o->com_reason, "%s",
               "COM/COD (Kontoyannis 1997) is a Raman measure");
      reason(o->carbonate_reason, sizeof o->carbonate_reason, "%s",
             "carbonate applies to apatite only");
      reason(o->whitlockite_reason, sizeof o->whitlockite_reason, "%s",
             "whitlockite index applies to apatite only");
      reason(o->protein_reason, sizeof o->protein_reason, "%s",
             "protein/mineral is defined against nu1 PO4 (apatite only)");
    } else {
      reason(o->carbonate_reason, sizeof o->carbonate_reason, na, cls);
      reason(o->whitlockite_reason, sizeof o->whitlockite_reason, na, cls);
      reason(o->com_reason, sizeof o->com_reason, na, cls);
      reason(o->protein_reason, sizeof o->protein_reason, na, cls);
    }
  }
  cs_spectrum_free(s);
  if (st)
    memset(o, 0, sizeof *o);
  return st;
}
