/*
 * composition.c: what a mineral spectrum says beyond its class: carbonate
 * content of apatite (band fit + calibration), whitlockite index, COM/COD
 * fraction of oxalate, protein/mineral ratio; and carbonate calibrations.
 *
 * The Raman apatite shapes and the oxalate bands are fitted by variable
 * projection (ap_vp_fit, ox_fit); GSL's multifit_nlinear (band_fit_tol:
 * trust region, analytic Jacobian, Cholesky solver) is their reference and
 * the apatite fit's fallback.  Band shapes are pseudo-Voigt.
 */
#include "internal.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
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

/* ---- band fit with tied parameters ----
 * Bands are pseudo-Voigts whose position, FWHM, Lorentzian share and height
 * are taken from a shared vector of physical parameters P, so bands can
 * share a width, move with one axis shift or have tied heights.  Bounded
 * parameters are fitted through a logistic map, heights and the polynomial
 * baseline are linear (solved by linear least squares for the start). */

#define MAXP 32
#define MAXB 24
#define MAXBASE 3

typedef struct fpar {
  double lo, hi; /* bounds; lo == hi: unbounded (heights) */
  double start;  /* ignored for linear parameters (solved for) */
} fpar;

typedef struct fband {
  int ip, iw, ie, ig, ih; /* indices into P; ie < 0: eta fixed at eta0 */
  double off;             /* position = P[ip] + off */
  double hscale;          /* height = hscale * P[ih] */
  double eta0;
  double w0; /* iw < 0: the width is fixed at w0 */
} fband;
/* ig < 0: P[iw] is the FWHM and P[ie] (or eta0) the Lorentzian share.
 * ig >= 0: P[iw] is the intrinsic (Lorentzian) FWHM and P[ig] the
 * instrument (Gaussian) FWHM shared by the bands; the pseudo-Voigt width and
 * share follow Thompson, Cox & Hastings 1987 (J Appl Cryst 20:79), the
 * usual approximation of their convolution (bands.md 4: the observed band
 * is the intrinsic band convolved with the instrument line). */

typedef struct fitprob {
  const double *x, *y;
  size_t n;
  const fpar *par;
  size_t np; /* physical parameters (the baseline comes after) */
  const fband *b;
  size_t nb;
  int base_order; /* polynomial baseline order, 0..MAXBASE-1 */
  double xc, xh;  /* baseline variable u = (x - xc) / xh */
  /* Gaussian factors exp(-4 ln2 d^2) (nb x n, band-major) at theta gth,
   * kept by resid_f for resid_df: the trust-region driver asks for the
   * Jacobian at the point whose residual it has just computed, and exp()
   * is most of a fit's time.  Owned by band_fit; NULL: not kept. */
  double *gauss;
  double gth[MAXP + MAXBASE];
  int gauss_ok;
} fitprob;

typedef struct fitout {
  double P[MAXP];
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
static int bounded(const fpar *f) { return f->hi > f->lo; }

/* P and dP/dtheta from theta (first np entries). */
static void phys(const fitprob *p, const double *th, double *P, double *dP) {
  for (size_t k = 0; k < p->np; k++) {
    const fpar *f = &p->par[k];
    if (bounded(f)) {
      double s = sig(th[k]);
      P[k] = f->lo + (f->hi - f->lo) * s;
      dP[k] = (f->hi - f->lo) * s * (1 - s);
    } else {
      P[k] = th[k];
      dP[k] = 1;
    }
  }
}

typedef struct bandval {
  double pos, fw, eta, h;
  double fw_w, fw_g, eta_w, eta_g; /* d fw, d eta / d P[iw], P[ig] */
} bandval;

static bandval band_of(const fband *b, const double *P) {
  bandval v;
  v.pos = P[b->ip] + b->off;
  v.fw = b->iw >= 0 ? P[b->iw] : b->w0;
  v.eta = b->ie >= 0 ? P[b->ie] : b->eta0;
  v.h = b->hscale * P[b->ih];
  v.fw_w = 1;
  v.fw_g = v.eta_w = v.eta_g = 0;
  if (b->ig < 0)
    return v;
  /* TCH: f^5 = sum c_k fg^(5-k) fl^k, eta = 1.36603 q - 0.47719 q^2 +
   * 0.11116 q^3 with q = fl / f */
  static const double c[6] = {1, 2.69269, 2.42843, 4.47163, 0.07842, 1};
  double fl = v.fw, fg = P[b->ig], s = 0, s_l = 0, s_g = 0;
  double gp[6] = {1, fg, fg * fg, fg * fg * fg, fg * fg * fg * fg, 0};
  double lp[6] = {1, fl, fl * fl, fl * fl * fl, fl * fl * fl * fl, 0};
  gp[5] = gp[4] * fg;
  lp[5] = lp[4] * fl;
  for (int k = 0; k <= 5; k++) {
    s += c[k] * gp[5 - k] * lp[k];
    if (k > 0)
      s_l += c[k] * k * gp[5 - k] * lp[k - 1];
    if (k < 5)
      s_g += c[k] * (5 - k) * gp[4 - k] * lp[k];
  }
  double f = pow(s, 0.2), f_s = 0.2 * f / s;
  double q = fl / f, eq = 1.36603 - 2 * 0.47719 * q + 3 * 0.11116 * q * q;
  v.fw = f;
  v.fw_w = f_s * s_l;
  v.fw_g = f_s * s_g;
  v.eta = 1.36603 * q - 0.47719 * q * q + 0.11116 * q * q * q;
  v.eta_w = eq * (1 / f - fl / (f * f) * v.fw_w);
  v.eta_g = eq * (-fl / (f * f) * v.fw_g);
  return v;
}

/* Area of a pseudo-Voigt of height h, FWHM f, Lorentzian share eta. */
#define GAUSS_AREA 1.0644670194312262 /* sqrt(pi / (4 ln 2)) */
static double pv_area(double h, double f, double eta) {
  return h * f * (eta * PI_ / 2 + (1 - eta) * GAUSS_AREA);
}

/* exp(-4 ln2 d2), exactly: below -746 exp() underflows to +0 anyway, but
 * only after glibc's slow underflow path (far band tails are common). */
static double gauss_of(double d2) {
  double a = -4 * LN2_ * d2;
  return a < -746 ? 0 : exp(a);
}

static int resid_f(const gsl_vector *th, void *params, gsl_vector *f) {
  fitprob *p = params;
  size_t nt = p->np + (size_t)p->base_order + 1;
  double *gk = p->gauss;
  p->gauss_ok = 0;
  double P[MAXP], dP[MAXP];
  phys(p, th->data, P, dP);
  const double *base = th->data + p->np;
  bandval bv[MAXB];
  for (size_t k = 0; k < p->nb; k++)
    bv[k] = band_of(&p->b[k], P);
  for (size_t i = 0; i < p->n; i++) {
    double x = p->x[i], u = (x - p->xc) / p->xh, up = 1, v = 0;
    for (int j = 0; j <= p->base_order; j++, up *= u)
      v += base[j] * up;
    for (size_t k = 0; k < p->nb; k++) {
      bandval b = bv[k];
      double d = (x - b.pos) / b.fw, d2 = d * d, G = gauss_of(d2);
      if (gk)
        gk[k * p->n + i] = G;
      v += b.h * (b.eta / (1 + 4 * d2) + (1 - b.eta) * G);
    }
    f->data[i * f->stride] = v - p->y[i];
  }
  if (gk) {
    memcpy(p->gth, th->data, nt * sizeof *th->data);
    p->gauss_ok = th->stride == 1;
  }
  return GSL_SUCCESS;
}

/* Analytic Jacobian: derivatives in P, then the chain rule to theta. */
static int resid_df(const gsl_vector *th, void *params, gsl_matrix *J) {
  const fitprob *p = params;
  double P[MAXP], dP[MAXP], g[MAXP];
  size_t nt = p->np + (size_t)p->base_order + 1;
  /* the Gaussian factors of resid_f when they are for this very theta */
  const double *gk = p->gauss_ok && th->stride == 1 &&
                             !memcmp(p->gth, th->data, nt * sizeof *th->data)
                         ? p->gauss
                         : NULL;
  phys(p, th->data, P, dP);
  bandval bv[MAXB];
  for (size_t k = 0; k < p->nb; k++)
    bv[k] = band_of(&p->b[k], P);
  for (size_t i = 0; i < p->n; i++) {
    double x = p->x[i], u = (x - p->xc) / p->xh, up = 1;
    double *Ji = J->data + i * J->tda;
    memset(g, 0, p->np * sizeof *g);
    for (size_t k = 0; k < p->nb; k++) {
      const fband *fb = &p->b[k];
      bandval b = bv[k];
      double d = (x - b.pos) / b.fw, d2 = d * d;
      double L = 1 / (1 + 4 * d2), G = gk ? gk[k * p->n + i] : gauss_of(d2);
      /* d shape / d d */
      double gd = -8 * d * (b.eta * L * L + (1 - b.eta) * LN2_ * G);
      double m_f = b.h * gd * (-d / b.fw), m_e = b.h * (L - G);
      g[fb->ip] += b.h * gd * (-1 / b.fw);
      if (fb->iw >= 0)
        g[fb->iw] += m_f * b.fw_w + m_e * b.eta_w;
      if (fb->ig >= 0)
        g[fb->ig] += m_f * b.fw_g + m_e * b.eta_g;
      else if (fb->ie >= 0)
        g[fb->ie] += m_e;
      g[fb->ih] += fb->hscale * (b.eta * L + (1 - b.eta) * G);
    }
    for (size_t k = 0; k < p->np; k++)
      Ji[k] = g[k] * dP[k];
    for (int j = 0; j <= p->base_order; j++, up *= u)
      Ji[p->np + (size_t)j] = up;
  }
  return GSL_SUCCESS;
}

/* Start: bounded parameters at their start values, then heights and
 * baseline by linear least squares (the model is linear in them). */
static cs_status fit_start(const fitprob *p, double *th0, cs_error *err) {
  size_t nl = 0, col[MAXP];
  for (size_t k = 0; k < p->np; k++) {
    if (bounded(&p->par[k])) {
      th0[k] = logit_in(p->par[k].start, p->par[k].lo, p->par[k].hi);
    } else {
      th0[k] = 0;
      col[k] = nl++;
    }
  }
  size_t nc = nl + (size_t)p->base_order + 1;
  gsl_matrix *X = gsl_matrix_calloc(p->n, nc), *C = gsl_matrix_alloc(nc, nc);
  gsl_vector *c = gsl_vector_alloc(nc);
  gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(p->n, nc);
  cs_status st = CS_OK;
  if (!X || !C || !c || !w) {
    st = csi_error(err, CS_ERR_NOMEM, "band fit: out of memory");
    goto done;
  }
  double P[MAXP], dP[MAXP];
  phys(p, th0, P, dP);
  bandval bv[MAXB];
  for (size_t k = 0; k < p->nb; k++)
    bv[k] = band_of(&p->b[k], P);
  for (size_t i = 0; i < p->n; i++) {
    double x = p->x[i], u = (x - p->xc) / p->xh, up = 1;
    double *Xi = X->data + i * X->tda;
    for (size_t k = 0; k < p->nb; k++) {
      const fband *fb = &p->b[k];
      bandval b = bv[k];
      double d = (x - b.pos) / b.fw, d2 = d * d;
      double v = b.eta / (1 + 4 * d2) + (1 - b.eta) * gauss_of(d2);
      Xi[col[fb->ih]] += fb->hscale * v;
    }
    for (int j = 0; j <= p->base_order; j++, up *= u)
      Xi[nl + (size_t)j] = up;
  }
  gsl_vector_const_view yv = gsl_vector_const_view_array(p->y, p->n);
  double chi2;
  if (gsl_multifit_linear(X, &yv.vector, c, C, &chi2, w) != GSL_SUCCESS) {
    st = csi_error(err, CS_ERR_NUMERIC, "band fit: cannot start");
    goto done;
  }
  for (size_t k = 0; k < p->np; k++)
    if (!bounded(&p->par[k]))
      th0[k] = gsl_vector_get(c, col[k]);
  for (int j = 0; j <= p->base_order; j++)
    th0[p->np + (size_t)j] = gsl_vector_get(c, nl + (size_t)j);
done:
  gsl_matrix_free(X);
  gsl_matrix_free(C);
  gsl_vector_free(c);
  if (w)
    gsl_multifit_linear_free(w);
  return st;
}

/* Fit bands + baseline to (x, y), stopping on GSL's xtol = gtol = tol.
 * Covariance of the band areas by the delta method from s^2 (J'J)^-1. */
static cs_status band_fit_tol(fitprob *p, fitout *o, double tol,
                              cs_error *err) {
  pthread_once(&gsl_once, gsl_quiet);
  size_t np = p->np + (size_t)p->base_order + 1, n = p->n, nb = p->nb;
  memset(o, 0, sizeof *o);
  if (p->np > MAXP || nb > MAXB || p->base_order >= MAXBASE)
    return csi_error(err, CS_ERR_ARG, "band fit: model too large");
  for (size_t k = 0; k < nb; k++) /* heights must be linear parameters */
    if (bounded(&p->par[p->b[k].ih]))
      return csi_error(err, CS_ERR_ARG, "band fit: band %zu height is bounded", k);
  if (n < np + 5)
    return csi_error(err, CS_ERR_RANGE,
                     "band fit: %zu points in the window, need at least %zu",
                     n, np + 5);
  p->xc = 0.5 * (p->x[0] + p->x[n - 1]);
  p->xh = 0.5 * (p->x[n - 1] - p->x[0]);
  double th0[MAXP + MAXBASE];
  cs_status st = fit_start(p, th0, err);
  if (st)
    return st;

  gsl_multifit_nlinear_fdf fdf;
  memset(&fdf, 0, sizeof fdf);
  fdf.f = resid_f;
  fdf.df = resid_df;
  fdf.n = n;
  fdf.p = np;
  fdf.params = p;
  gsl_multifit_nlinear_parameters fp =
      gsl_multifit_nlinear_default_parameters();
  /* J'J is small (about 20 x 20): Cholesky is several times faster than
   * QR here, and the trust region keeps it regular */
  fp.solver = gsl_multifit_nlinear_solver_cholesky;
  gsl_multifit_nlinear_workspace *w =
      gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, n, np);
  gsl_matrix *cov = gsl_matrix_alloc(np, np);
  p->gauss = malloc(nb * n * sizeof *p->gauss);
  p->gauss_ok = 0;
  if (!w || !cov || !p->gauss) {
    st = csi_error(err, CS_ERR_NOMEM, "band fit: out of memory");
    goto done;
  }
  gsl_vector_view v0 = gsl_vector_view_array(th0, np);
  int info = 0;
  if (gsl_multifit_nlinear_init(&v0.vector, &fdf, w) != GSL_SUCCESS) {
    st = csi_error(err, CS_ERR_NUMERIC, "band fit: cannot start");
    goto done;
  }
  /* GSL_EMAXITER / GSL_ENOPROG still leave the best point found; accept it
   * when finite (the covariance then carries the doubt). */
  (void)gsl_multifit_nlinear_driver(tol < 1e-7 ? 5000 : 200, tol, tol, 0, NULL,
                                    NULL, &info, w);
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
  double dP[MAXP];
  phys(p, th->data, o->P, dP);
  /* G = d area / d theta (analytic; baseline columns are zero) */
  double G[MAXB][MAXP];
  for (size_t k = 0; k < nb; k++) {
    const fband *fb = &p->b[k];
    bandval b = band_of(fb, o->P);
    o->pos[k] = b.pos;
    o->fwhm[k] = b.fw;
    o->eta[k] = b.eta;
    o->height[k] = b.h;
    o->area[k] = pv_area(b.h, b.fw, b.eta);
    double sh = b.eta * PI_ / 2 + (1 - b.eta) * GAUSS_AREA;
    memset(G[k], 0, sizeof G[k]);
    double a_f = b.h * sh, a_e = b.h * b.fw * (PI_ / 2 - GAUSS_AREA);
    if (fb->iw >= 0)
      G[k][fb->iw] += a_f * b.fw_w + a_e * b.eta_w;
    if (fb->ig >= 0)
      G[k][fb->ig] += a_f * b.fw_g + a_e * b.eta_g;
    else if (fb->ie >= 0)
      G[k][fb->ie] += a_e;
    G[k][fb->ih] += fb->hscale * b.fw * sh;
    for (size_t j = 0; j < p->np; j++)
      G[k][j] *= dP[j];
  }
  for (size_t a = 0; a < nb; a++)
    for (size_t b = 0; b < nb; b++) {
      double c = 0;
      for (size_t i = 0; i < p->np; i++)
        for (size_t j = 0; j < p->np; j++)
          c += G[a][i] * gsl_matrix_get(cov, i, j) * G[b][j];
      o->cov_area[a * nb + b] = c * s2;
    }
  for (size_t k = 0; k < nb; k++)
    if (!isfinite(o->area[k]) || !isfinite(o->cov_area[k * nb + k])) {
      st = csi_error(err, CS_ERR_NUMERIC, "band fit: non-finite result");
      goto done;
    }
done:
  free(p->gauss);
  p->gauss = NULL;
  p->gauss_ok = 0;
  gsl_matrix_free(cov);
  if (w)
    gsl_multifit_nlinear_free(w);
  return st;
}

/* ---- Householder QR (variable projection, band areas) ---- */

/* v -= tau u (u'v), u = (1, a[j+1..n-1]) below row j. */
static void hh_reflect(const double *a, size_t n, size_t j, double tau,
                       double *v) {
  /* four partial sums: the dot product is otherwise one chain of
   * dependent additions, waiting on each other's latency; s0..s3 are
   * the lanes of two SSE2 vectors (each lane's sum in the order the
   * scalar loop had: the same bits, in half the instructions) */
  typedef double v2d __attribute__((vector_size(16)));
  v2d s01 = {v[j], 0}, s23 = {0, 0};
  size_t i = j + 1;
  for (; i + 4 <= n; i += 4) {
    v2d a0, a1, v0, v1;
    memcpy(&a0, a + i, sizeof a0);
    memcpy(&a1, a + i + 2, sizeof a1);
    memcpy(&v0, v + i, sizeof v0);
    memcpy(&v1, v + i + 2, sizeof v1);
    s01 += a0 * v0;
    s23 += a1 * v1;
  }
  double s0 = s01[0];
  for (; i < n; i++)
    s0 += a[i] * v[i];
  double s = ((s0 + s01[1]) + (s23[0] + s23[1])) * tau;
  v[j] -= s;
  v2d sv = {s, s};
  for (i = j + 1; i + 2 <= n; i += 2) {
    v2d ai, vi;
    memcpy(&ai, a + i, sizeof ai);
    memcpy(&vi, v + i, sizeof vi);
    vi -= sv * ai;
    memcpy(v + i, &vi, sizeof vi);
  }
  for (; i < n; i++)
    v[i] -= s * a[i];
}

/* hh_reflect on the nc columns V + k ld at once, each with hh_reflect's
 * operations in its order (the same bits): three columns per sweep share
 * the loads of u and keep six independent sums in flight where one
 * column's two wait on their own latency. */
#define HH_EACH3(S) S(0) S(1) S(2)
#define HH_EACH2(S) S(0) S(1)
#define HH_INIT(c) s01[c] = (v2d){v[c][j], 0}, s23[c] = (v2d){0, 0};
#define HH_DOT(c)                                                             \
  {                                                                           \
    v2d v0, v1;                                                               \
    memcpy(&v0, v[c] + i, sizeof v0);                                         \
    memcpy(&v1, v[c] + i + 2, sizeof v1);                                     \
    s01[c] += a0 * v0;                                                        \
    s23[c] += a1 * v1;                                                        \
  }
#define HH_SUM(c)                                                             \
  {                                                                           \
    double s0 = s01[c][0];                                                    \
    for (size_t l = i; l < n; l++)                                            \
      s0 += a[l] * v[c][l];                                                   \
    s[c] = ((s0 + s01[c][1]) + (s23[c][0] + s23[c][1])) * tau;                \
    v[c][j] -= s[c];                                                          \
  }
#define HH_UPD(c)                                                             \
  {                                                                           \
    v2d vi;                                                                   \
    memcpy(&vi, v[c] + i, sizeof vi);                                         \
    vi -= (v2d){s[c], s[c]} * ai;                                             \
    memcpy(v[c] + i, &vi, sizeof vi);                                         \
  }
#define HH_TAIL(c) v[c][i] -= s[c] * a[i];
#define HH_BODY(EACH)                                                         \
  {                                                                           \
    v2d s01[3], s23[3];                                                       \
    double s[3];                                                              \
    EACH(HH_INIT)                                                             \
    size_t i = j + 1;                                                         \
    for (; i + 4 <= n; i += 4) {                                              \
      v2d a0, a1;                                                             \
      memcpy(&a0, a + i, sizeof a0);                                          \
      memcpy(&a1, a + i + 2, sizeof a1);                                      \
      EACH(HH_DOT)                                                            \
    }                                                                         \
    EACH(HH_SUM)                                                              \
    for (i = j + 1; i + 2 <= n; i += 2) {                                     \
      v2d ai;                                                                 \
      memcpy(&ai, a + i, sizeof ai);                                          \
      EACH(HH_UPD)                                                            \
    }                                                                         \
    for (; i < n; i++) {                                                      \
      EACH(HH_TAIL)                                                           \
    }                                                                         \
  }
static void hh_reflect_cols(const double *a, size_t n, size_t j, double tau,
                            double *V, size_t ld, size_t nc) {
  typedef double v2d __attribute__((vector_size(16)));
  size_t k = 0;
  for (; k + 3 <= nc; k += 3) {
    double *v[3] = {V + k * ld, V + (k + 1) * ld, V + (k + 2) * ld};
    HH_BODY(HH_EACH3)
  }
  if (k + 2 == nc) {
    double *v[2] = {V + k * ld, V + (k + 1) * ld};
    HH_BODY(HH_EACH2)
  } else if (k < nc)
    hh_reflect(a, n, j, tau, V + k * ld);
}

/* Solve M h = r in place by Cholesky, M nf x nf symmetric with row stride
 * ld (the damped normal matrices of the two variable-projection fits);
 * -1 when M is not positive definite. */
static int chol_solve(double *M, int ld, int nf, double *r) {
#define M_(i, j) M[(size_t)(i) * (size_t)ld + (size_t)(j)]
  for (int j = 0; j < nf; j++) {
    double s = M_(j, j);
    for (int k = 0; k < j; k++)
      s -= M_(j, k) * M_(j, k);
    if (!(s > 0))
      return -1;
    M_(j, j) = sqrt(s);
    for (int i = j + 1; i < nf; i++) {
      double t = M_(i, j);
      for (int k = 0; k < j; k++)
        t -= M_(i, k) * M_(j, k);
      M_(i, j) = t / M_(j, j);
    }
  }
  for (int i = 0; i < nf; i++) {
    for (int k = 0; k < i; k++)
      r[i] -= M_(i, k) * r[k];
    r[i] /= M_(i, i);
  }
  for (int i = nf; i-- > 0;) {
    for (int k = i + 1; k < nf; k++)
      r[i] -= M_(k, i) * r[k];
    r[i] /= M_(i, i);
  }
  return 0;
#undef M_
}

/* Least squares on a QR from hh_qr (A n x m, column-major, tau): -1 when a
 * diagonal of R is under 1e-12 rmax or the result is not finite; else the
 * coefficients c (m) and the residual sum of squares *cost, t (n) holding
 * Q'y (y NULL: it holds it already). */
static int qr_lsq(const double *A, const double *tau, size_t n, size_t m,
                  double rmax, const double *y, double *t, double *c,
                  double *cost) {
  for (size_t j = 0; j < m; j++)
    if (!(fabs(A[j * n + j]) > 1e-12 * rmax))
      return -1;
  if (y) {
    memcpy(t, y, n * sizeof *t);
    for (size_t j = 0; j < m; j++)
      hh_reflect(A + j * n, n, j, tau[j], t);
  }
  for (size_t j = m; j-- > 0;) {
    double s = t[j];
    for (size_t k = j + 1; k < m; k++)
      s -= A[k * n + j] * c[k];
    c[j] = s / A[j * n + j];
  }
  *cost = 0;
  for (size_t i = m; i < n; i++)
    *cost += t[i] * t[i];
  return isfinite(*cost) ? 0 : -1;
}

/* The damping of the two variable-projection descents (Levenberg-
 * Marquardt, Nielsen 1999): after an accepted step with gain ratio rho it
 * shrinks by up to 3 and nu restarts; after a rejected or unusable one it
 * grows by nu, which doubles each time. */
static void vp_damp_accepted(double *lam, double *nu, double rho) {
  *lam *= fmax(1.0 / 3, 1 - pow(2 * rho - 1, 3));
  *nu = 2;
}

static void vp_damp_rejected(double *lam, double *nu) {
  *lam *= *nu;
  *nu *= 2;
}

/* One damped, bounded step of the two variable-projection descents over
 * nl <= VP_MAXNL parameters al in lo..hi, gradient g, curvatures H0 and H1
 * (nl x nl, row-major): on the free parameters (those not held by a bound
 * their gradient pushes against) solve (H + lam D) h = -g, D the diagonal
 * max(dmax, 1e-12 hmax), first with H0, then, when that is not positive
 * definite or its step promises no decrease, with H1.  The step clamped
 * into the box is tr = al + h; *step its largest move relative to the box,
 * *pred the decrease its model promises.  Returns the pass of *pred (0 or
 * 1; *pred <= 0 when neither decreases), or -1 when every parameter is
 * held by its bound. */
#define VP_MAXNL 8
static int vp_step(int nl, const double *H0, const double *H1,
                   const double *g, const double *al, const double *lo,
                   const double *hi, const double *dmax, double hmax,
                   double lam, double *tr, double *h, double *step,
                   double *pred) {
  int fr[VP_MAXNL], nf = 0, used = 0;
  for (int j = 0; j < nl; j++)
    if (!((al[j] <= lo[j] && g[j] > 0) || (al[j] >= hi[j] && g[j] < 0)))
      fr[nf++] = j;
  if (!nf)
    return -1;
  *step = *pred = 0;
  for (int pass = 0; pass < 2 && !(*pred > 0); pass++) {
    const double *Hp = pass ? H1 : H0;
    double M[VP_MAXNL * VP_MAXNL], r[VP_MAXNL];
    for (int a = 0; a < nf; a++) {
      for (int b = 0; b < nf; b++)
        M[a * nl + b] = Hp[fr[a] * nl + fr[b]];
      M[a * nl + a] += lam * fmax(dmax[fr[a]], 1e-12 * hmax);
      r[a] = -g[fr[a]];
    }
    if (chol_solve(M, nl, nf, r))
      continue;
    memset(h, 0, (size_t)nl * sizeof *h);
    for (int a = 0; a < nf; a++)
      h[fr[a]] = r[a];
    *step = *pred = 0;
    for (int j = 0; j < nl; j++) {
      double v = al[j] + h[j];
      tr[j] = v < lo[j] ? lo[j] : v > hi[j] ? hi[j] : v;
      h[j] = tr[j] - al[j];
      *step = fmax(*step, fabs(h[j]) / (hi[j] - lo[j]));
    }
    for (int j = 0; j < nl; j++) {
      double Hh = 0;
      for (int k = 0; k < nl; k++)
        Hh += Hp[j * nl + k] * h[k];
      *pred -= h[j] * (2 * g[j] + Hh);
    }
    used = pass;
  }
  return used;
}

/* The nl derivative columns D (n rows each, column-major) times Q' of a QR
 * from hh_qr with m columns; then, over the rows below m, the lower
 * triangle of G = D'D (nl x nl, row-major) and st = D't. */
static void qr_normal(const double *A, const double *tau, size_t n, size_t m,
                      double *D, int nl, const double *t, double *G,
                      double *st) {
  for (size_t j = 0; j < m; j++) /* column by column: the same bits */
    hh_reflect_cols(A + j * n, n, j, tau[j], D, n, (size_t)nl);
  memset(G, 0, (size_t)nl * (size_t)nl * sizeof *G);
  memset(st, 0, (size_t)nl * sizeof *st);
  for (size_t i = m; i < n; i++) { /* all sums in one pass */
    double v[VP_MAXNL];
    for (int k = 0; k < nl; k++) {
      v[k] = D[(size_t)k * n + i];
      st[k] += v[k] * t[i];
      for (int l = 0; l <= k; l++)
        G[k * nl + l] += v[k] * v[l];
    }
  }
}


/* Householder QR of columns j0..j1-1 of the column-major matrix A of n
 * rows (reflections of columns < j0 already applied to them): R above the
 * diagonal, the reflection vectors below, tau[j].  A zero column gets no
 * reflection (tau 0; R's diagonal 0: the pseudo-inverse drops it). */
static void hh_qr(double *A, size_t n, size_t j0, size_t j1, double *tau) {
  for (size_t j = j0; j < j1; j++) {
    double *a = A + j * n, nrm = 0;
    for (size_t i = j; i < n; i++)
      nrm += a[i] * a[i];
    nrm = sqrt(nrm);
    if (!(nrm > 0) || !isfinite(nrm)) {
      tau[j] = 0;
      continue;
    }
    double al0 = a[j], be = al0 > 0 ? -nrm : nrm;
    tau[j] = (be - al0) / be;
    double sc = 1 / (al0 - be);
    for (size_t i = j + 1; i < n; i++)
      a[i] *= sc;
    a[j] = be;
    hh_reflect_cols(a, n, j, tau[j], A + (j + 1) * n, n, j1 - j - 1);
  }
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
  /* spanned but sampled too coarsely: line_area needs points at both
   * ends and one between (with none it read before the window) */
  if (b - a < 3)
    return csi_error(err, CS_ERR_RANGE, "spectrum has %zu points in %g-%g cm^-1",
                     b - a, lo, hi);
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

/* The note as the file keeps it: one line, no control characters, no
 * leading or trailing blanks, truncated to fit -- so a note written and
 * read back is the same note. */
static void set_note(cs_calibration *c, const char *note) {
  csi_snprintf(c->note, sizeof c->note, "%s", note ? note : "");
  for (char *p = c->note; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = ' ';
  csi_trim(c->note);
}

/* Ordinary least squares y = m x + b for either kind (x wt% and y the
 * carbonate ratio, or x the whitlockite share and y the index). */
static cs_status line_fit(int kind, cs_technique t, const double *wt,
                          const double *ratio, size_t n, const char *note,
                          cs_calibration *out, cs_error *err) {
  const char *what = kind == CS_CAL_WHITLOCKITE ? "whitlockite share" : "carbonate content";
  const char *y = kind == CS_CAL_WHITLOCKITE ? "index" : "ratio";
  memset(out, 0, sizeof *out);
  /* the count first: with no standard read, the technique is not known */
  if (n < 3)
    return csi_error(err, CS_ERR_ARG,
                     "calibration: need at least 3 standards, got %zu", n);
  if (!wt || !ratio)
    return csi_error(err, CS_ERR_ARG, "calibration: no standards given");
  if (t != CS_TECH_RAMAN && t != CS_TECH_FTIR)
    return csi_error(err, CS_ERR_ARG, "calibration: technique must be raman or ftir");
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
                     "calibration: the standards all have the same %s", what);
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
                     "calibration: %s does not increase with %s (slope %g)", y, what, m);
  out->technique = t;
  out->m = m;
  out->b = b;
  out->se_m = sqrt(s2 / sxx);
  out->se_b = sqrt(s2 * (1.0 / (double)n + xm * xm / sxx));
  out->cov_mb = -xm * s2 / sxx;
  out->s_resid = sqrt(s2);
  /* finite standards near 1e308 overflow the sums of squares */
  if (!(isfinite(m) && isfinite(b) && isfinite(out->se_m) &&
        isfinite(out->se_b) && isfinite(out->cov_mb) && isfinite(out->s_resid))) {
    memset(out, 0, sizeof *out);
    return csi_error(err, CS_ERR_NUMERIC,
                     "calibration: the line through the standards is not finite "
                     "(%s values too large)", y);
  }
  out->n = n;
  out->wt_lo = lo;
  out->wt_hi = hi;
  out->kind = kind;
  set_note(out, note);
  return CS_OK;
}

cs_status cs_calibration_fit(cs_technique t, const double *wt,
                             const double *ratio, size_t n, const char *note,
                             cs_calibration *out, cs_error *err) {
  return line_fit(CS_CAL_CARBONATE, t, wt, ratio, n, note, out, err);
}

cs_status cs_calibration_fit_whitlockite(const double *share,
                                         const double *index, size_t n,
                                         const char *note, cs_calibration *out,
                                         cs_error *err) {
  for (size_t i = 0; share && i < n; i++)
    if (!(share[i] >= 0 && share[i] <= 1)) {
      memset(out, 0, sizeof *out);
      return csi_error(err, CS_ERR_ARG,
                       "calibration: mixture %zu: whitlockite share %g is not in 0..1",
                       i, share[i]);
    }
  return line_fit(CS_CAL_WHITLOCKITE, CS_TECH_RAMAN, share, index, n, note,
                  out, err);
}

/* Whitlockite share = (index - b) / m; the interval by the delta method as
 * for carbonate (apply_cal): the spectrum's index variance, the line's
 * (var b + s^2 var m + 2 s cov) and the mixtures' scatter, over m, with a
 * t quantile on n - 2 df. */
cs_status cs_composition_whitlockite_share(const cs_calibration *wcal,
                                           cs_composition *c, cs_error *err) {
  if (!wcal || wcal->kind != CS_CAL_WHITLOCKITE || !(wcal->m > 0))
    return csi_error(err, CS_ERR_ARG, "whitlockite share: not a whitlockite calibration");
  if (!c || !(c->valid & CS_COMP_WHITLOCKITE))
    return CS_OK;
  double sh = (c->whitlockite_index - wcal->b) / wcal->m;
  double v = c->whitlockite_se * c->whitlockite_se + wcal->se_b * wcal->se_b +
             sh * sh * wcal->se_m * wcal->se_m + 2 * sh * wcal->cov_mb +
             wcal->s_resid * wcal->s_resid;
  double sd = sqrt(v > 0 ? v : 0) / wcal->m;
  double q = wcal->n > 2 ? gsl_cdf_tdist_Pinv(0.975, (double)(wcal->n - 2)) : Z95;
  double lo = sh - q * sd, hi = sh + q * sd;
  c->whitlockite_share = sh < 0 ? 0 : sh > 1 ? 1 : sh;
  c->whitlockite_share_lo = lo < 0 ? 0 : lo > 1 ? 1 : lo;
  c->whitlockite_share_hi = hi < 0 ? 0 : hi > 1 ? 1 : hi;
  c->valid |= CS_COMP_WH_SHARE;
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
  int wh = c->kind == CS_CAL_WHITLOCKITE;
  csi_buf_printf(&b, "calcspec-calibration 1\nkind %s\ntechnique %s\n",
                 wh ? "whitlockite" : "carbonate", cs_technique_name(c->technique));
  csi_buf_printf(&b, "ratio %s\n", wh ? "whitlockite_index"
                                    : c->technique == CS_TECH_RAMAN
                                        ? "A1070/A960"
                                        : "A(nu3 CO3 1415+1455)/A(nu1nu3 PO4)");
  csi_buf_printf(&b, "m %s\nb %s\nse_m %s\nse_b %s\ncov_mb %s\ns_resid %s\n",
                 v[0], v[1], v[2], v[3], v[4], v[5]);
  csi_buf_printf(&b, "n %zu\n%s %s %s\nnote %s\n", c->n,
                 wh ? "range_share" : "range_wt", v[6], v[7], c->note);
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
      if (!strcmp(val, "whitlockite"))
        out->kind = CS_CAL_WHITLOCKITE;
      else if (strcmp(val, "carbonate"))
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
      if (!st) /* a negative or NaN n must not reach the cast */
        out->n = (size_t)d;
      seen |= N;
    } else if (!strcmp(l, "range_wt") || !strcmp(l, "range_share")) {
      char *sp = strchr(val, ' ');
      if (!sp)
        st = csi_error(err, CS_ERR_MODEL,
                       "calibration line %d: %s needs two numbers", line, l);
      else {
        *sp++ = '\0';
        st = cal_num(val, &out->wt_lo, line, err);
        if (!st)
          st = cal_num(sp, &out->wt_hi, line, err);
      }
      seen |= R;
    } else if (!strcmp(l, "note")) {
      set_note(out, val);
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

/* Kontoyannis 1997 (bands.md 2.3): 1462 COM, 1477 COD, a broad tissue CH2
 * band at ~1445 fitted alongside since its overlap must be removed. */
enum {
  X_COM_POS, X_COM_FW, X_COM_H, X_COD_POS, X_COD_FW, X_COD_H, X_CH2_POS,
  X_CH2_FW, X_CH2_H, NP_OXALATE
};
static const fpar oxalate_par[NP_OXALATE] = {
    [X_COM_POS] = {1455, 1468, 1462}, [X_COM_FW] = {3, 25, 9},
    [X_COM_H] = {0, 0, 0},
    [X_COD_POS] = {1470, 1484, 1477}, [X_COD_FW] = {3, 25, 9},
    [X_COD_H] = {0, 0, 0},
    [X_CH2_POS] = {1430, 1455, 1445}, [X_CH2_FW] = {15, 60, 30},
    [X_CH2_H] = {0, 0, 0},
};
enum { XB_COM, XB_COD, XB_CH2, NB_OXALATE };
static const fband oxalate_bands[NB_OXALATE] = {
    [XB_COM] = {.ip = X_COM_POS, .iw = X_COM_FW, .ie = -1, .ig = -1,
                .ih = X_COM_H, .hscale = 1, .eta0 = 0.6},
    [XB_COD] = {.ip = X_COD_POS, .iw = X_COD_FW, .ie = -1, .ig = -1,
                .ih = X_COD_H, .hscale = 1, .eta0 = 0.6},
    [XB_CH2] = {.ip = X_CH2_POS, .iw = X_CH2_FW, .ie = -1, .ig = -1,
                .ih = X_CH2_H, .hscale = 1, .eta0 = 0.7},
};

static int is_apatite(const char *cls) {
  return cls && (!strcmp(cls, "hydroxyapatite") || !strcmp(cls, "whitlockite") ||
                 !strcmp(cls, "apatite"));
}

/* ---- Raman apatite: the band model ----
 * One list of bands serves both stages of the measurement (README
 * "Composition of one spectrum"):
 * 1. shapes: a nonlinear fit (band_fit) of 900-1110 cm^-1 after an IModPoly
 *    baseline, on one spectrum or on the mean of a batch, gives the nu1
 *    position and width, the instrument width, the nu3 width and the axis
 *    offset of the tissue and nu3/CO3 bands;
 * 2. areas: with those shapes fixed, every spectrum's band heights (and a
 *    polynomial baseline per segment) are linear least squares over 860-1340
 *    (and 320-540 where covered), with their covariance; the spectrum's own
 *    axis offset is estimated first (a Gauss-Newton step on the derivative of
 *    the fitted model) and the spectrum resampled onto it.
 * Bands are grouped into components whose bands share one height with fixed
 * relative heights, so overlapping bands cannot trade area:
 * - HA nu1 PO4 ~960 (bands.md 1A, 958-964): own position p1 and width;
 * - whitlockite (RRUFF R070675, bands.md 0: 964-965 = 1.00, 921-922 = 0.08,
 *   405 = 0.14-0.24, 1089-1091 = 0.05-0.08; lower nu1 component ~950, 1A
 *   table): placed at their RRUFF separations from whitlockite's nu1
 *   (964.7) counted from the fitted nu1 ENVELOPE position p1, so they move
 *   with an axis offset.  p1 itself moves with composition (HA 958-964,
 *   whitlockite 964-975): the bands sit up to ~4 cm^-1 low in HA-rich and
 *   up to ~6 high in whitlockite-rich spectra, which the templates' widths
 *   (10-14 + instrument) mostly absorb (README "Whitlockite index", what
 *   limits it);
 * - HA nu3 1029, 1046 (free 1040-1048) and 1076 (height 0.5 x 1046, see
 *   Limitations) with one width; nu2 where 320-540 is covered, as two
 *   components: the narrow 432/448 doublet (bands.md 1A) and the broad
 *   hump RRUFF R050512 has instead (400-470, peaking at 427-429): with the
 *   doublet alone that hump's low side read as whitlockite's 405 once the
 *   wider segment's baseline no longer took it (RRUFF hydroxylapatite
 *   index 0.20), with the hump alone a narrow doublet was misfitted;
 * - nu1 CO3 (B type) at 1071 (1070-1072), intrinsic FWHM fixed at 20;
 * - tissue (bands.md 1A "Breast tissue background"): phenylalanine
 *   1004 + 1032; collagen backbone 939/920/876/856; fat C-C 1063/1080 tied to
 *   its CH2 twist 1302 and 1266; beta-carotene 1157 (+1005); amide III
 *   1245/1270.  The fat component is what keeps lipid out of nu1 CO3: its
 *   height is set by 1302, outside the carbonate band, so it needs a spectrum
 *   that reaches 1320 cm^-1.
 * Tissue, nu3 and CO3 bands move with one axis offset; relative heights
 * inside a component are bands.md's (their error moves the calibration). */
/* HA nu1 the other apatite bands are placed from (RRUFF R050512 960.7) */
#define HA_NU1 961.0
#define CO3_FWHM 20.0
/* Height of nu3 1076 per unit nu3 1046 height.  bands.md 1A gives both as
 * "w-m (5-15)"; the RRUFF hydroxylapatite (bands.md 0) shows 1042 as a
 * peak and 1076 below it, so less than 1 [D].  An error here mostly moves
 * the calibration intercept b. */
#define V3_1076_PER_1046 0.5

enum { /* components: one height each */
  C_NU1, C_WH, C_1029, C_1046, C_CO3, C_PHE, C_COL, C_FAT, C_CAR, C_AM3,
  C_NU2, C_NU2B, NCOMP
};
enum { A_NU1, A_SHIFT, A_1046 }; /* what a band position follows */
/* Shape parameters of stage 1 (physical), then one height per component
 * that stage 1 fits. */
enum {
  P_NU1_POS, P_NU1_FW, P_INSTR, P_SHIFT, P_V3_FW, P_1046_POS, P_H0
};
#define P_WIDTH_FIXED (-1)
typedef struct apband {
  int comp, anchor;
  double off;  /* position = anchor + off (A_SHIFT: nominal + offset) */
  int wpar;    /* width parameter, or P_WIDTH_FIXED with w0 */
  double w0, rel;
} apband;
/* The first band of a component is its anchor: a component is used only
 * where its anchor band is covered. */
static const apband ap_bands[] = {
    {C_NU1, A_NU1, 0, P_NU1_FW, 0, 1},
    {C_WH, A_NU1, 951 - 965, P_WIDTH_FIXED, 12, 0.10},
    {C_WH, A_NU1, 922 - 965, P_WIDTH_FIXED, 10, 0.08},
    {C_WH, A_NU1, 1090 - 965, P_WIDTH_FIXED, 14, 0.07},
    {C_WH, A_NU1, 405 - 965, P_WIDTH_FIXED, 12, 0.18},
    {C_1029, A_NU1, 1029 - HA_NU1, P_V3_FW, 0, 1},
    {C_1046, A_1046, 0, P_V3_FW, 0, 1},
    {C_1046, A_NU1, 1076 - HA_NU1, P_V3_FW, 0, V3_1076_PER_1046},
    {C_CO3, A_NU1, 1071 - HA_NU1, P_WIDTH_FIXED, CO3_FWHM, 1},
    {C_PHE, A_SHIFT, 1004, P_WIDTH_FIXED, 8, 1},
    {C_PHE, A_SHIFT, 1032, P_WIDTH_FIXED, 10, 0.30},
    {C_COL, A_SHIFT, 939, P_WIDTH_FIXED, 20, 1},
    {C_COL, A_SHIFT, 920, P_WIDTH_FIXED, 15, 0.71},
    {C_COL, A_SHIFT, 876, P_WIDTH_FIXED, 15, 0.86},
    {C_COL, A_SHIFT, 856, P_WIDTH_FIXED, 15, 1.14},
    {C_FAT, A_SHIFT, 1302, P_WIDTH_FIXED, 22, 1},
    {C_FAT, A_SHIFT, 1266, P_WIDTH_FIXED, 20, 0.50},
    {C_FAT, A_SHIFT, 1063, P_WIDTH_FIXED, 15, 0.36},
    {C_FAT, A_SHIFT, 1080, P_WIDTH_FIXED, 18, 0.29},
    {C_CAR, A_SHIFT, 1157, P_WIDTH_FIXED, 12, 1},
    {C_CAR, A_SHIFT, 1005, P_WIDTH_FIXED, 10, 0.29},
    {C_AM3, A_SHIFT, 1245, P_WIDTH_FIXED, 35, 1},
    {C_AM3, A_SHIFT, 1270, P_WIDTH_FIXED, 35, 0.89},
    {C_NU2, A_NU1, 432 - HA_NU1, P_WIDTH_FIXED, 12, 1},
    {C_NU2, A_NU1, 448 - HA_NU1, P_WIDTH_FIXED, 12, 0.6},
    {C_NU2B, A_NU1, 427 - HA_NU1, P_WIDTH_FIXED, 28, 1},
};
#define NAPB (sizeof ap_bands / sizeof ap_bands[0])
/* The whitlockite nu1 itself (964.7, RRUFF R070675), which the heights
 * of the other whitlockite bands are relative to.  It is NOT a column: the
 * nu1 envelope (HA + whitlockite) is one band, and the whitlockite amount
 * comes from its own bands beside it (see ap_measure). */
static const apband wh_nu1 = {C_WH, A_NU1, 0, P_WIDTH_FIXED, 9, 1};
/* Components of stage 1 (their anchors lie in 900-1110; carotene, amide
 * III and nu2 do not, fat's 1302 neither but its 1063/1080 must be there
 * for the shapes). */
static const int stage1_comp[] = {C_NU1, C_WH, C_1029, C_1046, C_CO3,
                                  C_PHE, C_COL, C_FAT};
#define NS1 (sizeof stage1_comp / sizeof stage1_comp[0])
/* Intrinsic widths: bands.md 1A (nu1 5-20, nu3 8-15) with margins;
 * instrument 4-10 (bands.md 4) with margins; axis offset +-8 (real
 * instruments drift 1-5, bands.md 4a); the nu1 envelope 944-980: HA
 * 958-964 to whitlockite 965-975 (bands.md 1A), plus that drift. */
static const fpar ap_shape_par[P_H0] = {
    [P_NU1_POS] = {944, 980, 960}, [P_NU1_FW] = {1, 30, 8},
    [P_INSTR] = {1, 16, 6},        [P_SHIFT] = {-8, 8, 0},
    [P_V3_FW] = {5, 20, 12},       [P_1046_POS] = {1040, 1048, 1044},
};

static int is_tissue_comp(int c) {
  return c == C_PHE || c == C_COL || c == C_FAT || c == C_CAR || c == C_AM3;
}

static fband ap_fband(const apband *a, int ih) {
  fband f;
  memset(&f, 0, sizeof f);
  f.ip = a->anchor == A_NU1 ? P_NU1_POS : a->anchor == A_1046 ? P_1046_POS
                                                               : P_SHIFT;
  f.off = a->off;
  f.iw = a->wpar;
  f.w0 = a->w0;
  f.ie = -1;
  f.ig = P_INSTR;
  f.ih = ih;
  f.hscale = a->rel;
  return f;
}

/* Height-1 pseudo-Voigt of band b at x given shape parameters P. */
static bandval ap_bandval(const apband *a, const double *P) {
  fband f = ap_fband(a, 0);
  double PP[P_H0 + 1];
  memcpy(PP, P, P_H0 * sizeof *PP);
  PP[P_H0] = 1;
  f.ih = P_H0;
  return band_of(&f, PP);
}
/* Height-1 pseudo-Voigt b at x, moved by dx. */
static double pv_at(const bandval *b, double dx, double x) {
  double d = (x - b->pos - dx) / b->fw, d2 = d * d;
  /* beyond 7 FWHM the Gaussian part (< 1e-60) is below the rounding of
   * the Lorentzian part (eta > 0.05 with the instrument's TCH): exp() was
   * most of a design's time */
  if (d2 > 50)
    return b->h * (b->eta / (1 + 4 * d2));
  return b->h * (b->eta / (1 + 4 * d2) + (1 - b->eta) * gauss_of(d2));
}
/* d/dx of pv_at(b, 0, x), analytic (a central difference of 0.1 cm^-1
 * before: the same to about 1e-5, at twice the exp() calls). */
static double pv_dx(const bandval *b, double x) {
  double iw = 1 / b->fw, d = (x - b->pos) * iw, d2 = d * d;
  double L = 1 / (1 + 4 * d2), G = d2 > 50 ? 0 : gauss_of(d2);
  return b->h * -8 * d * (b->eta * L * L + (1 - b->eta) * LN2_ * G) * iw;
}
static double ap_area(const apband *a, const double *P) {
  fband f = ap_fband(a, 0);
  double PP[P_H0 + 1];
  memcpy(PP, P, P_H0 * sizeof *PP);
  PP[P_H0] = 1;
  f.ih = P_H0;
  bandval b = band_of(&f, PP);
  return pv_area(b.h, b.fw, b.eta);
}

/* nu1 start from the data: the highest point of the nu1 range and its
 * width at half height (clamped into the bounds). */
static void nu1_start(const window *w, fpar *par) {
  size_t k = w->n;
  for (size_t i = 0; i < w->n; i++)
    if (w->x[i] >= par[P_NU1_POS].lo && w->x[i] <= par[P_NU1_POS].hi &&
        (k == w->n || w->y[i] > w->y[k]))
      k = i;
  if (k == w->n || !(w->y[k] > 0))
    return;
  size_t l = k, r = k;
  while (l > 0 && w->y[l] > 0.5 * w->y[k])
    l--;
  while (r + 1 < w->n && w->y[r] > 0.5 * w->y[k])
    r++;
  double fw = w->x[r] - w->x[l];
  par[P_NU1_POS].start = w->x[k];
  /* observed FWHM ~ intrinsic + instrument/2 for a Lorentzian convolved
   * with a Gaussian (TCH, roughly) */
  fw -= 0.5 * par[P_INSTR].start;
  par[P_NU1_FW].start = fw < 3 ? 3 : fw > 28 ? 28 : fw;
}

/* Stage 1 by variable projection (Golub & Pereyra 1973): the heights and
 * the baseline are linear, so for given shape parameters alpha (nu1
 * position and width, instrument width, axis offset, nu3 width, 1046
 * position) they are the linear least squares solution, and only the 6
 * alpha are searched; Levenberg-Marquardt on Kaufman's (1975) Jacobian of
 * the projected residual, -P_perp (dA/dalpha) c, with the bounds as a box
 * (a step is clipped to it; a parameter on a bound whose gradient points
 * outwards stays there).  Each evaluation is one pass over the bands and
 * one QR of the 10-column design.  GSL's trust region over all 16
 * parameters (band_fit, the reference) took about 48 iterations of 16 x
 * 16 and the logistic maps of the bounds; from the same start the two end
 * in the same minimum for most spectra (bench_composition). */
#define AP_NL P_H0          /* the shape parameters */
#define AP_NLIN (NS1 + 2)   /* component heights, then baseline 1 and u */
_Static_assert(AP_NL <= VP_MAXNL, "vp_step holds AP_NL parameters");
#define AP_TOL 1e-12

typedef struct apws {
  const double *x, *y;
  size_t n;
  double xc, xh;
  const fband *b; /* ih: P_H0 + component */
  size_t nb;
  double *A;  /* n x AP_NLIN design (column-major), then its QR */
  double *B;  /* n x 3 per band: d band / d position, width, instrument */
  double *D;  /* n x AP_NL: (dA / dalpha_j) c, then rotated by Q' */
  double *t;  /* Q'y */
  double tau[AP_NLIN];
  double c[AP_NLIN];
  double cost; /* |y - A c|^2 */
} apws;

/* Design, its QR, linear coefficients and cost at al; the band partials
 * into B.  -1: the design is (numerically) rank deficient. */
static int ap_eval(apws *w, const double *al) {
  size_t n = w->n;
  double P[P_H0 + NS1];
  memcpy(P, al, AP_NL * sizeof *P);
  for (size_t k = 0; k < NS1; k++)
    P[P_H0 + k] = 1;
  memset(w->A, 0, n * NS1 * sizeof *w->A);
  for (size_t k = 0; k < w->nb; k++) {
    const fband *fb = &w->b[k];
    bandval v = band_of(fb, P);
    double *a = w->A + (size_t)(fb->ih - P_H0) * n, *bp = w->B + 3 * k * n;
    double iw = 1 / v.fw, h = v.h, eta = v.eta;
    for (size_t i = 0; i < n; i++) {
      double d = (w->x[i] - v.pos) * iw, d2 = d * d;
      /* beyond 7 FWHM the Gaussian part (< 1e-60) is below the rounding
       * of the Lorentzian part (eta > 0.05 with the instrument's TCH) */
      double L = 1 / (1 + 4 * d2), G = d2 > 50 ? 0 : exp(-4 * LN2_ * d2);
      double gd = -8 * d * (eta * L * L + (1 - eta) * LN2_ * G);
      double m_f = h * gd * (-d * iw), m_e = h * (L - G);
      a[i] += h * (eta * L + (1 - eta) * G);
      bp[i] = -h * gd * iw;
      bp[n + i] = m_f * v.fw_w + m_e * v.eta_w;
      bp[2 * n + i] = m_f * v.fw_g + m_e * v.eta_g;
    }
  }
  double *b0 = w->A + NS1 * n, *b1 = b0 + n, ixh = 1 / w->xh;
  for (size_t i = 0; i < n; i++) {
    b0[i] = 1;
    b1[i] = (w->x[i] - w->xc) * ixh;
  }
  hh_qr(w->A, n, 0, AP_NLIN, w->tau);
  double rmax = 0;
  for (size_t j = 0; j < AP_NLIN; j++)
    rmax = fmax(rmax, fabs(w->A[j * n + j]));
  return qr_lsq(w->A, w->tau, n, AP_NLIN, rmax, w->y, w->t, w->c, &w->cost);
}

/* H = J'J and g = J'r (half the cost's gradient) of Kaufman's Jacobian at
 * the point of the last ap_eval. */
static void ap_grad(apws *w, double H[AP_NL][AP_NL], double *g) {
  size_t n = w->n;
  memset(w->D, 0, n * AP_NL * sizeof *w->D);
  for (size_t k = 0; k < w->nb; k++) {
    const fband *fb = &w->b[k];
    double ck = w->c[fb->ih - P_H0];
    const double *bp = w->B + 3 * k * n;
    int par[3] = {fb->ip, fb->iw, fb->ig};
    for (int q = 0; q < 3; q++) {
      if (par[q] < 0)
        continue;
      double *dj = w->D + (size_t)par[q] * n;
      for (size_t i = 0; i < n; i++)
        dj[i] += ck * bp[q * n + i];
    }
  }
  /* r = y - A c is Q (0, t) below the first AP_NLIN rows; d r / d alpha_j
   * = -Q (0, D_j) there */
  double G[AP_NL][AP_NL], st[AP_NL];
  qr_normal(w->A, w->tau, n, AP_NLIN, w->D, AP_NL, w->t, &G[0][0], st);
  for (int k = 0; k < AP_NL; k++) {
    g[k] = -st[k];
    for (int l = 0; l <= k; l++)
      H[k][l] = H[l][k] = G[k][l];
  }
}

/* Levenberg-Marquardt from al (updated to the optimum found) within the
 * box lo..hi; c and *cost there.  Returns the evaluations spent, or -1
 * when al itself cannot be evaluated. */
static int ap_descend(apws *w, const double *lo, const double *hi,
                      double *al, double *c, double *cost) {
  double tr[AP_NL], H[AP_NL][AP_NL], g[AP_NL], dmax[AP_NL] = {0};
  /* S: the residual's curvature, which Gauss-Newton's J'J leaves out, by
   * the structured secant update of Dennis, Gay & Welsch (1981, NL2SOL):
   * without it the descent converged only linearly (about 25 evaluations,
   * each gaining about half of what was left) */
  double S[AP_NL][AP_NL] = {{0}};
  if (ap_eval(w, al))
    return -1;
  *cost = w->cost;
  memcpy(c, w->c, sizeof w->c);
  ap_grad(w, H, g);
  double lam = -1, nu = 2;
  int it = 0;
  for (int stop = 0, tries = 0; !stop && it < 200 && tries < 400; tries++) {
    /* damping relative to the largest diagonal seen (More 1978), floored
     * so a parameter no band feels (a component of height 0) still gets a
     * bounded step */
    double hmax = 0;
    for (int j = 0; j < AP_NL; j++) {
      dmax[j] = fmax(dmax[j], H[j][j]);
      hmax = fmax(hmax, dmax[j]);
    }
    if (!(hmax > 0))
      break;
    if (lam < 0)
      lam = 1e-3;
    /* J'J + S where that, damped, is positive definite and its step goes
     * downhill on its model, else J'J alone */
    double h[AP_NL], step, pred, HS[AP_NL][AP_NL];
    for (int j = 0; j < AP_NL; j++)
      for (int k = 0; k < AP_NL; k++)
        HS[j][k] = H[j][k] + S[j][k];
    if (vp_step(AP_NL, &HS[0][0], &H[0][0], g, al, lo, hi, dmax, hmax, lam,
                tr, h, &step, &pred) < 0)
      break; /* every parameter held by its bound */
    if (!(pred > 0)) { /* no model decrease: damp more */
      if (!(lam < 1e30))
        break;
      vp_damp_rejected(&lam, &nu);
      continue;
    }
    it++;
    if (step > 0 && !ap_eval(w, tr) && w->cost < *cost) {
      double rho = (*cost - w->cost) / pred, gain = *cost - w->cost;
      memcpy(al, tr, sizeof tr);
      memcpy(c, w->c, sizeof w->c);
      *cost = w->cost;
      /* stop when a step gains under AP_TOL of the cost: the parameters
       * are then within about sqrt(AP_TOL n) ~ 1e-3 of their standard
       * errors of the optimum */
      if (gain < AP_TOL * *cost && pred < AP_TOL * *cost)
        break;
      double g0[AP_NL], H0h[AP_NL];
      for (int j = 0; j < AP_NL; j++) {
        g0[j] = g[j];
        H0h[j] = 0;
        for (int k = 0; k < AP_NL; k++)
          H0h[j] += H[j][k] * h[k];
      }
      ap_grad(w, H, g);
      /* y = change of the gradient, y# its part J'J does not explain;
       * S sized down first (its size was guessed), then made to satisfy
       * (J'J + S) h = y */
      double y[AP_NL], ys[AP_NL], yh = 0, ysh = 0, shh = 0;
      for (int j = 0; j < AP_NL; j++) {
        y[j] = g[j] - g0[j];
        ys[j] = y[j] - H0h[j];
        yh += y[j] * h[j];
        ysh += ys[j] * h[j];
        for (int k = 0; k < AP_NL; k++)
          shh += h[j] * S[j][k] * h[k];
      }
      if (yh > 0) {
        double tau = shh != 0 ? fmin(1, fabs(ysh / shh)) : 1, v[AP_NL], vh = 0;
        for (int j = 0; j < AP_NL; j++)
          for (int k = 0; k < AP_NL; k++)
            S[j][k] *= tau;
        for (int j = 0; j < AP_NL; j++) {
          v[j] = ys[j];
          for (int k = 0; k < AP_NL; k++)
            v[j] -= S[j][k] * h[k];
          vh += v[j] * h[j];
        }
        for (int j = 0; j < AP_NL; j++)
          for (int k = 0; k < AP_NL; k++)
            S[j][k] += (v[j] * y[k] + y[j] * v[k]) / yh -
                       vh * y[j] * y[k] / (yh * yh);
      }
      vp_damp_accepted(&lam, &nu, rho);
    } else {
      vp_damp_rejected(&lam, &nu);
      if (pred < 1e-14 * *cost) /* lost to rounding: at the optimum */
        stop = 1;
    }
    if (step < 1e-10)
      stop = 1;
  }
  return it;
}

/* Stage 1 by variable projection on window (x, y): the shape parameters
 * and the component heights into P (P_H0 + NS1), its R^2 and evaluations.
 * CS_ERR_NUMERIC when the design cannot be evaluated at the start. */
static cs_status ap_vp_fit(const double *x, const double *y, size_t n,
                           const fpar *par, const fband *fb, size_t nb,
                           double *P, double *r2, size_t *iters,
                           cs_error *err) {
  if (n < AP_NL + AP_NLIN + 5)
    return csi_error(err, CS_ERR_RANGE,
                     "band fit: %zu points in the window, need at least %d",
                     n, (int)(AP_NL + AP_NLIN + 5));
  apws w;
  memset(&w, 0, sizeof w);
  w.x = x;
  w.y = y;
  w.n = n;
  w.xc = 0.5 * (x[0] + x[n - 1]);
  w.xh = 0.5 * (x[n - 1] - x[0]);
  w.b = fb;
  w.nb = nb;
  double *buf = malloc(n * (AP_NLIN + 3 * nb + AP_NL + 1) * sizeof *buf);
  if (!buf)
    return csi_error(err, CS_ERR_NOMEM, "band fit: out of memory");
  w.A = buf;
  w.B = w.A + n * AP_NLIN;
  w.D = w.B + n * 3 * nb;
  w.t = w.D + n * AP_NL;
  double al[AP_NL], lo[AP_NL], hi[AP_NL], c[AP_NLIN], cost = 0;
  for (int j = 0; j < AP_NL; j++) {
    al[j] = par[j].start;
    lo[j] = par[j].lo;
    hi[j] = par[j].hi;
  }
  cs_status st = CS_OK;
  int it = ap_descend(&w, lo, hi, al, c, &cost);
  if (it < 0)
    st = csi_error(err, CS_ERR_NUMERIC, "band fit: cannot start");
  /* The axis offset moves only the tissue bands, the 1046 position only
   * nu3 1046: without tissue, or in whitlockite, they are nearly flat,
   * and the descent may park them on a bound in a local minimum that fits
   * noise.  Then the parameters on a bound start again from the template
   * (the others from where they are); the lower cost wins.  (A bound on
   * the nu3 width alone: a lower minimum 1 time in 60 on
   * bench_composition's spectra, not worth its evaluations.)  GSL's
   * logistic maps keep parameters off their bounds. */
  double al2[AP_NL], c2[AP_NLIN], cost2;
  int parked = !st && (al[P_SHIFT] <= lo[P_SHIFT] || al[P_SHIFT] >= hi[P_SHIFT] ||
                        al[P_1046_POS] <= lo[P_1046_POS] ||
                        al[P_1046_POS] >= hi[P_1046_POS]);
  memcpy(al2, al, sizeof al2);
  for (int j = 0; parked && j < AP_NL; j++)
    if (al[j] <= lo[j] || al[j] >= hi[j])
      al2[j] = par[j].start;
  int it2 = parked ? ap_descend(&w, lo, hi, al2, c2, &cost2) : -1;
  if (it2 >= 0) {
    it += it2;
    if (cost2 < cost) {
      memcpy(al, al2, sizeof al);
      memcpy(c, c2, sizeof c);
      cost = cost2;
    }
  }
  for (size_t k = 0; !st && k < AP_NLIN; k++)
    if (!isfinite(c[k]))
      st = csi_error(err, CS_ERR_NUMERIC, "band fit: non-finite result");
  if (!st) {
    memcpy(P, al, AP_NL * sizeof *P);
    memcpy(P + P_H0, c, NS1 * sizeof *P);
    double ym = 0, sst = 0;
    for (size_t i = 0; i < n; i++)
      ym += y[i] / (double)n;
    for (size_t i = 0; i < n; i++)
      sst += (y[i] - ym) * (y[i] - ym);
    *r2 = sst > 0 ? 1 - cost / sst : 0;
    *iters = (size_t)it;
  }
  free(buf);
  return st;
}

/* Stage 1 on spectrum s (ascending shift): shape parameters into P.
 * reference 0: variable projection (ap_vp_fit; GSL's band_fit from the
 * template start when ap_vp_fit fails with CS_ERR_NUMERIC: its design rank
 * deficient at the start, or a non-finite result); 1: GSL's band_fit over
 * all 16 parameters run to 1e-13 from the same start; 2: the same from
 * ap_vp_fit's optimum, ap_vp_fit's error when it has none
 * (csi_apatite_shapes). */
static cs_status ap_shapes_ref(const cs_spectrum *s, int reference, double *P,
                               double *r2, size_t *iters, cs_error *err) {
  window w;
  cs_status st = debaseline(s, 800, 1250, 900, 1110, &w, err);
  if (st)
    return st;
  fpar par[P_H0 + NS1];
  memcpy(par, ap_shape_par, sizeof ap_shape_par);
  for (size_t k = 0; k < NS1; k++)
    par[P_H0 + k] = (fpar){0, 0, 0};
  nu1_start(&w, par);
  fband fb[MAXB];
  size_t nb = 0;
  for (size_t i = 0; i < NAPB; i++)
    for (size_t k = 0; k < NS1; k++)
      if (ap_bands[i].comp == stage1_comp[k]) {
        double pos = ap_bands[i].anchor == A_NU1 ? 960 + ap_bands[i].off
                     : ap_bands[i].anchor == A_1046 ? 1044
                                                    : ap_bands[i].off;
        if (pos > 890 && pos < 1120 && nb < MAXB)
          fb[nb++] = ap_fband(&ap_bands[i], P_H0 + (int)k);
      }
  double Pf[P_H0 + NS1];
  cs_error e2;
  st = reference == 1 ? CS_ERR_NUMERIC
                      : ap_vp_fit(w.x, w.y, w.n, par, fb, nb, Pf, r2, iters, &e2);
  /* reference 2 without an optimum would silently be reference 1 */
  if (st == CS_ERR_NOMEM || st == CS_ERR_RANGE || (!st && !reference) ||
      (st && reference == 2)) {
    window_free(&w);
    if (st)
      return csi_error(err, st, "%s", e2.msg);
  } else {
    if (!st) /* reference 2: from ap_vp_fit's optimum */
      for (int j = 0; j < P_H0; j++)
        par[j].start = Pf[j];
    fitprob p = {w.x, w.y, w.n, par, P_H0 + NS1, fb, nb, 1, 0, 1, NULL, {0}, 0};
    fitout f;
    st = band_fit_tol(&p, &f, reference ? 1e-13 : 1e-7, err);
    window_free(&w);
    if (st)
      return st;
    memcpy(Pf, f.P, sizeof Pf);
    *r2 = f.r2;
    *iters = f.iterations;
  }
  /* the nu1 envelope (HA + whitlockite) must be there */
  if (!(Pf[P_H0 + 0] > 0))
    return csi_error(err, CS_ERR_NUMERIC, "no nu1 PO4 band at 960 cm^-1");
  memcpy(P, Pf, P_H0 * sizeof *P);
  return CS_OK;
}
static cs_status ap_shapes(const cs_spectrum *s, double *P, double *r2,
                           size_t *iters, cs_error *err) {
  return ap_shapes_ref(s, 0, P, r2, iters, err);
}

/* ---- stage 2: the linear design on one axis ---- */
#define NSEG 2
/* The low segment (nu2 PO4, whitlockite 405) with band-free margins on
 * both sides (320-390, 465-540), so that its quadratic baseline is held by
 * them and cannot trade with the bands: over 380-470 (0.6) the baseline
 * took part of whitlockite's 405 and HA's nu2, which moved the whitlockite
 * index with the axis offset (README "Whitlockite index", fifth round).
 * It is used when the spectrum starts by LOW_SEG_NEED (405 minus two
 * widths), from wherever it starts. */
#define LOW_SEG_LO 320.0
#define LOW_SEG_HI 540.0
#define LOW_SEG_NEED 382.0
#define BASE_ORDER_MAX 6
typedef struct apdesign {
  double P[P_H0];
  size_t n;         /* points used */
  size_t *idx;      /* their indices */
  int col[NCOMP];   /* column of each component, -1 when not used */
  size_t nbands_cols, m, mw; /* band columns, all columns, + nu1 width */
  double *X;        /* n x m (row major); then the nu1-width column */
  double *Q;        /* n x mw+1 (column major): X, then the d/dx column,
                       by Householder QR (hh_qr) */
  double tau[64];
  double *Ci;       /* m x m (X'X)^-1 */
  double *Ciw;      /* the same with the nu1-width column (mw = m + 1) */
  double *Cs;       /* the same with the d/dx column, m+1 x m+1 */
  double *Cm;       /* mw x mw (X'X)^-1 of the mineral, baseline and
                       nu1-width columns alone (tissue rows and columns
                       0): the whitlockite index where no tissue is
                       detected */
  size_t mm;        /* columns in that solve */
  double dunit_dw;  /* d(nu1 area at height 1) / d(intrinsic width) */
  double f_crit;    /* the F test's 95 % point for dropping them */
  double *deriv;    /* n: d model / d x of the fitted mean (bands only) */
  double *Rw;       /* 2 mw x mw scratch: QR's R, then pinv_r's R^-1 (on
                       the heap: 66 KB of stack was too much for small
                       thread stacks, e.g. musl's 128 KB) */
  double unit_area[NCOMP]; /* area of the component's reported band at
                              height 1 (nu1, whitlockite nu1, CO3, ...) */
  double wh922_per_unit;   /* whitlockite 922 area per unit height */
  int lipid;               /* fat component used (1302 covered) */
} apdesign;

static void ap_design_free(apdesign *d) {
  free(d->idx);
  free(d->X);
  free(d->Q);
  free(d->Ci);
  free(d->Ciw);
  free(d->Cs);
  free(d->Cm);
  free(d->deriv);
  free(d->Rw);
  memset(d, 0, sizeof *d);
}

/* (X'X)^-1 (k x k; pseudo-inverse, singular values below 1e-10 of the
 * largest dropped, as an SVD of X would) from the k x k upper triangular
 * R of X = QR (row-major): X and R have the same singular values and
 * right singular vectors, and R is small where X has hundreds of rows. */
static cs_status pinv_r(const double *R, size_t k, double *Ci, double *Ri,
                        cs_error *err) {
  /* R^-1 by back substitution first: when |R|_F |R^-1|_F < 1e10 (a bound
   * on R's condition number) no singular value is below 1e-10 of the
   * largest, the SVD would drop nothing, and (X'X)^-1 = R^-1 R^-T */
  {
    double nr = 0, ni = 0; /* Ri: k x k scratch */
    int ok = 1;
    for (size_t j = k; ok && j-- > 0;) {
      if (!(R[j * k + j] != 0)) {
        ok = 0;
        break;
      }
      Ri[j * k + j] = 1 / R[j * k + j];
      for (size_t i = j; i-- > 0;) {
        double t = 0;
        for (size_t l = i + 1; l <= j; l++)
          t += R[i * k + l] * Ri[l * k + j];
        Ri[i * k + j] = -t / R[i * k + i];
      }
    }
    for (size_t i = 0; ok && i < k; i++)
      for (size_t j = i; j < k; j++) {
        nr += R[i * k + j] * R[i * k + j];
        ni += Ri[i * k + j] * Ri[i * k + j];
      }
    if (ok && isfinite(ni) && nr * ni < 1e20) {
      for (size_t a = 0; a < k; a++)
        for (size_t b = a; b < k; b++) {
          double c = 0;
          for (size_t l = b; l < k; l++)
            c += Ri[a * k + l] * Ri[b * k + l];
          Ci[a * k + b] = Ci[b * k + a] = c;
        }
      return CS_OK;
    }
  }
  gsl_matrix *U = gsl_matrix_alloc(k, k), *V = gsl_matrix_alloc(k, k);
  gsl_vector *S = gsl_vector_alloc(k), *wk = gsl_vector_alloc(k);
  cs_status st = CS_OK;
  if (!U || !V || !S || !wk) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < k; i++)
    memcpy(U->data + i * U->tda, R + i * k, k * sizeof *R);
  if (gsl_linalg_SV_decomp(U, V, S, wk) != GSL_SUCCESS) {
    st = csi_error(err, CS_ERR_NUMERIC, "band areas: SVD failed");
    goto done;
  }
  double smax = gsl_vector_get(S, 0), inv2[65];
  for (size_t j = 0; j < k; j++) {
    double sj = gsl_vector_get(S, j);
    inv2[j] = sj > 1e-10 * smax ? 1 / (sj * sj) : 0;
  }
  const double *v = V->data;
  size_t tv = V->tda;
  for (size_t a = 0; a < k; a++)
    for (size_t b = 0; b <= a; b++) {
      double c = 0;
      for (size_t j = 0; j < k; j++)
        c += v[a * tv + j] * inv2[j] * v[b * tv + j];
      Ci[a * k + b] = Ci[b * k + a] = c;
    }
done:
  gsl_matrix_free(U);
  gsl_matrix_free(V);
  gsl_vector_free(S);
  gsl_vector_free(wk);
  return st;
}

/* Segments of s's axis the design uses: 860..(1340 or the end, >= 1112)
 * and 380..470 when covered.  Baseline: Legendre polynomials per segment
 * (order 5 on the long one, 2 on the short one): fluorescence is smooth.
 * Builds X (band, baseline and nu1-width columns) and Ci; ap_design_deriv
 * adds what needs the mean spectrum's heights.  The pseudo-inverses come
 * from one Householder QR of X (then an SVD of its small R), not from
 * SVDs of X: those were most of a one-spectrum measurement. */
static cs_status ap_design_build(const cs_spectrum *s, const double *P,
                                 apdesign *d, cs_error *err) {
  memset(d, 0, sizeof *d);
  memcpy(d->P, P, sizeof d->P);
  double seg[NSEG][2] = {{860, 1340}, {LOW_SEG_LO, LOW_SEG_HI}};
  int order[NSEG] = {5, 2}, use[NSEG] = {1, 1};
  size_t n = s->n;
  const double *x = s->x;
  if (x[0] > seg[0][0] + 2 || x[n - 1] < 1112)
    return csi_error(err, CS_ERR_RANGE, "spectrum does not cover 860-1112 cm^-1");
  if (x[n - 1] < seg[0][1])
    seg[0][1] = x[n - 1];
  if (x[0] > LOW_SEG_NEED)
    use[1] = 0;
  d->idx = malloc(n * sizeof *d->idx);
  if (!d->idx)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    for (int g = 0; g < NSEG; g++)
      if (use[g] && x[i] >= seg[g][0] && x[i] <= seg[g][1]) {
        d->idx[d->n++] = i;
        break;
      }
  /* components whose anchor band is inside a segment (5 cm^-1 margin) */
  size_t m = 0;
  for (int c = 0; c < NCOMP; c++) {
    d->col[c] = -1;
    for (size_t b = 0; b < NAPB; b++)
      if (ap_bands[b].comp == c) {
        double pos = ap_bands[b].anchor == A_NU1 ? P[P_NU1_POS] + ap_bands[b].off
                     : ap_bands[b].anchor == A_1046 ? P[P_1046_POS]
                                                    : ap_bands[b].off + P[P_SHIFT];
        for (int g = 0; g < NSEG; g++)
          if (use[g] && pos >= seg[g][0] + 5 && pos <= seg[g][1] - 5)
            d->col[c] = (int)m;
        if (d->col[c] >= 0)
          m++;
        break;
      }
  }
  d->lipid = d->col[C_FAT] >= 0;
  d->nbands_cols = m;
  for (int g = 0; g < NSEG; g++)
    if (use[g])
      m += (size_t)order[g] + 1;
  d->m = m;
  d->mw = m + 1;
  /* the callers' X'y holds mw + 1 values in 64 */
  if (d->mw + 1 > 64)
    return csi_error(err, CS_ERR_ARG, "band areas: too many columns");
  if (d->n < d->mw + 10)
    return csi_error(err, CS_ERR_RANGE, "band areas: %zu points, need %zu",
                     d->n, d->mw + 10);
  size_t nn = d->n, mw = d->mw;
  d->X = calloc(nn * mw, sizeof *d->X);
  d->Q = malloc(nn * (mw + 1) * sizeof *d->Q);
  d->Ci = malloc(m * m * sizeof *d->Ci);
  d->Rw = malloc(2 * mw * mw * sizeof *d->Rw);
  if (!d->X || !d->Q || !d->Ci || !d->Rw)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  /* d(shape)/d(intrinsic nu1 width) by central difference */
  double Pp[P_H0], Pm[P_H0];
  memcpy(Pp, P, sizeof Pp);
  memcpy(Pm, P, sizeof Pm);
  Pp[P_NU1_FW] += 0.05;
  Pm[P_NU1_FW] -= 0.05;
  bandval bv[NAPB], bvp, bvm;
  for (size_t b = 0; b < NAPB; b++)
    bv[b] = ap_bandval(&ap_bands[b], P);
  bvp = ap_bandval(&ap_bands[0], Pp);
  bvm = ap_bandval(&ap_bands[0], Pm);
  for (size_t r = 0; r < nn; r++) {
    double xi = x[d->idx[r]];
    double *row = d->X + r * mw;
    for (size_t b = 0; b < NAPB; b++) {
      int c = d->col[ap_bands[b].comp];
      if (c < 0)
        continue;
      row[c] += pv_at(&bv[b], 0, xi);
      if (ap_bands[b].comp == C_NU1)
        row[m] = (pv_at(&bvp, 0, xi) - pv_at(&bvm, 0, xi)) / 0.1;
    }
    size_t j = d->nbands_cols;
    for (int g = 0; g < NSEG; g++) {
      if (!use[g])
        continue;
      int in = xi >= seg[g][0] && xi <= seg[g][1];
      double u = (2 * xi - seg[g][0] - seg[g][1]) / (seg[g][1] - seg[g][0]);
      double p0 = 1, p1 = u;
      for (int k = 0; k <= order[g]; k++, j++) {
        double pk = k == 0 ? p0 : p1;
        row[j] = in ? pk : 0;
        if (k >= 1) { /* Legendre recurrence */
          double p2 = ((2 * k + 1) * u * p1 - k * p0) / (k + 1);
          p0 = p1;
          p1 = p2;
        }
      }
    }
    for (size_t a = 0; a < mw; a++)
      d->Q[a * nn + r] = row[a];
  }
  d->dunit_dw = (pv_area(bvp.h, bvp.fw, bvp.eta) - pv_area(bvm.h, bvm.fw, bvm.eta)) / 0.1;
  hh_qr(d->Q, nn, 0, m, d->tau);
  double *R = d->Rw;
  for (size_t a = 0; a < m; a++)
    for (size_t b = 0; b < m; b++)
      R[a * m + b] = b >= a ? d->Q[b * nn + a] : 0;
  return pinv_r(R, m, d->Ci, d->Rw + mw * mw, err);
}

/* The rest of the design of the mean spectrum, whose heights are hmean:
 * its derivative in x (the axis-offset column), Ciw, Cs, Cm, the unit
 * areas. */
static cs_status ap_design_deriv(apdesign *d, const double *hmean,
                                 const cs_spectrum *s, cs_error *err) {
  size_t nn = d->n, m = d->m, mw = d->mw;
  const double *x = s->x;
  const double *P = d->P;
  d->Ciw = malloc(mw * mw * sizeof *d->Ciw);
  d->Cs = malloc(mw * mw * sizeof *d->Cs);
  d->deriv = calloc(nn, sizeof *d->deriv);
  if (!d->Ciw || !d->Cs || !d->deriv)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  bandval bv[NAPB];
  for (size_t b = 0; b < NAPB; b++)
    bv[b] = ap_bandval(&ap_bands[b], P);
  double *dq = d->Q + (mw) * nn, dmax = 0;
  for (size_t r = 0; r < nn; r++) {
    double xi = x[d->idx[r]];
    /* derivative in x of the fitted mean model (bands only) */
    for (size_t b = 0; b < NAPB; b++) {
      double h = d->col[ap_bands[b].comp] >= 0 ? hmean[ap_bands[b].comp] : 0;
      if (h != 0)
        d->deriv[r] += h * pv_dx(&bv[b], xi);
    }
    dmax = fmax(dmax, fabs(d->deriv[r]));
  }
  /* The d/dx column is in y's units, the others near 1: scaled to a
   * largest |value| in [0.5, 1) so that the QR's sums of squares cannot
   * overflow (max|y| 1e140 did) and conditioning does not depend on y's
   * scale.  A power of 2, so the scaling and Cs's unscaling below are
   * exact. */
  int de = 0;
  if (dmax > 0 && isfinite(dmax))
    frexp(dmax, &de);
  for (size_t r = 0; r < nn; r++)
    dq[r] = ldexp(d->deriv[r], -de);
  /* the width and d/dx columns: the first m reflections, then their own */
  for (size_t j = 0; j < m; j++)
    hh_reflect_cols(d->Q + j * nn, nn, j, d->tau[j], d->Q + m * nn, nn,
                    mw + 1 - m);
  hh_qr(d->Q, nn, m, mw + 1, d->tau);
  double *R = d->Rw;
  for (size_t a = 0; a < mw; a++)
    for (size_t b = 0; b < mw; b++)
      R[a * mw + b] = b >= a ? d->Q[b * nn + a] : 0;
  cs_status st = pinv_r(R, mw, d->Ciw, d->Rw + mw * mw, err);
  /* main columns and d/dx: R's column m+1 with its rows m, m+1 folded
   * into one (the same X'X) */
  for (size_t a = 0; a < m; a++)
    R[a * mw + m] = d->Q[(mw) * nn + a];
  R[m * mw + m] = hypot(d->Q[(mw) * nn + m], d->Q[(mw) * nn + mw]);
  if (!st)
    st = pinv_r(R, mw, d->Cs, d->Rw + mw * mw, err);
  for (size_t a = 0; !st && a < mw; a++) { /* undo the column's scaling */
    d->Cs[a * mw + m] = ldexp(d->Cs[a * mw + m], -de);
    d->Cs[m * mw + a] = ldexp(d->Cs[m * mw + a], -de);
  }
  /* the same least squares without the tissue columns, for the
   * whitlockite index of a spectrum without tissue: there collagen's
   * 920/939 columns would only add noise to whitlockite's 922/951
   * (README "What limits the index") */
  int keep[65];
  size_t nk = 0;
  for (size_t a = 0; !st && a < mw; a++) {
    int tissue = 0;
    for (int q = 0; q < NCOMP; q++)
      if (d->col[q] == (int)a && is_tissue_comp(q))
        tissue = 1;
    if (!tissue)
      keep[nk++] = (int)a;
  }
  d->mm = nk;
  if (!st && nk < mw && d->n > mw) {
    /* from (X'X)^-1 of all columns (Ciw) by the Schur complement: the
     * inverse of the kept block is C_KK - C_KT C_TT^-1 C_TK (no second
     * SVD; T, the tissue columns, are at most 5) */
    size_t nt = mw - nk, it[64], q = 0;
    for (size_t a = 0, j = 0; a < mw; a++) {
      if (j < nk && keep[j] == (int)a)
        j++;
      else
        it[q++] = a;
    }
    gsl_matrix *T = gsl_matrix_alloc(nt, nt);
    gsl_permutation *pm = gsl_permutation_alloc(nt);
    gsl_matrix *Ti = gsl_matrix_alloc(nt, nt);
    d->Cm = calloc(mw * mw, sizeof *d->Cm);
    int sg;
    if (!T || !pm || !Ti || !d->Cm)
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    for (size_t a = 0; !st && a < nt; a++)
      for (size_t b = 0; b < nt; b++)
        gsl_matrix_set(T, a, b, d->Ciw[it[a] * mw + it[b]]);
    /* a singular tissue block: no tissue-free solve (the index then uses
     * the full one) */
    int ok = !st && gsl_linalg_LU_decomp(T, pm, &sg) == GSL_SUCCESS &&
             gsl_linalg_LU_invert(T, pm, Ti) == GSL_SUCCESS;
    for (size_t a = 0; ok && a < nk; a++)
      for (size_t b = 0; b < nk; b++) {
        size_t ka = (size_t)keep[a], kb = (size_t)keep[b];
        double v = d->Ciw[ka * mw + kb];
        for (size_t i = 0; i < nt; i++)
          for (size_t j = 0; j < nt; j++)
            v -= d->Ciw[ka * mw + it[i]] * gsl_matrix_get(Ti, i, j) *
                 d->Ciw[it[j] * mw + kb];
        d->Cm[ka * mw + kb] = v;
      }
    gsl_matrix_free(T);
    gsl_matrix_free(Ti);
    gsl_permutation_free(pm);
    if (ok)
      d->f_crit = gsl_cdf_fdist_Pinv(0.95, (double)nt, (double)(nn - mw));
    else {
      free(d->Cm);
      d->Cm = NULL;
    }
  }
  if (st)
    return st;
  for (int c = 0; c < NCOMP; c++)
    for (size_t b = 0; b < NAPB; b++)
      if (ap_bands[b].comp == c) {
        d->unit_area[c] = ap_area(&ap_bands[b], P);
        break;
      }
  d->unit_area[C_WH] = ap_area(&wh_nu1, P);
  /* ap_area counts the band's relative height already */
  d->wh922_per_unit = ap_area(&ap_bands[2], P);
  return CS_OK;
}

/* y on the design's points of spectrum s, shifted by dx (y(x + dx), linear
 * interpolation; ends held). */
static void ap_sample(const apdesign *d, const cs_spectrum *s, double dx,
                      double *y) {
  size_t nx = s->n;
  for (size_t r = 0; r < d->n; r++) {
    size_t i = d->idx[r];
    double xt = s->x[i] + dx;
    if (dx == 0) {
      y[r] = s->y[i];
      continue;
    }
    size_t j = i;
    while (j + 1 < nx && s->x[j + 1] < xt)
      j++;
    while (j > 0 && s->x[j] > xt)
      j--;
    if (j + 1 >= nx) {
      y[r] = s->y[nx - 1];
      continue;
    }
    double t = (xt - s->x[j]) / (s->x[j + 1] - s->x[j]);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    y[r] = s->y[j] + t * (s->y[j + 1] - s->y[j]);
  }
}

/* v[0..mw) = X'y over the main and nu1-width columns, and (deriv = 1)
 * v[mw] = deriv'y; returns y'y. */
static double ap_xty(const apdesign *d, const double *y, double *v,
                     int deriv) {
  size_t mw = d->mw;
  double yy = 0, vd = 0;
  memset(v, 0, (mw + 1) * sizeof *v);
  for (size_t r = 0; r < d->n; r++) {
    const double *row = d->X + r * mw;
    double yr = y[r];
    for (size_t a = 0; a < mw; a++)
      v[a] += row[a] * yr;
    yy += yr * yr;
    if (deriv)
      vd += d->deriv[r] * yr;
  }
  v[mw] = vd;
  return yy;
}
/* c = C v for the k x k matrix C. */
static void ap_mul(const double *C, size_t k, const double *v, double *c) {
  for (size_t a = 0; a < k; a++) {
    double t = 0;
    for (size_t b = 0; b < k; b++)
      t += C[a * k + b] * v[b];
    c[a] = t;
  }
}

/* Carbonate wt% with its interval and detection limit from ratio R
 * (variance var_r).  LOD = 3.29 sd of the wt% of a carbonate-free
 * spectrum (Currie 1968, alpha = beta = 0.05; the ICH Q2 "3.3 sigma / S"):
 * this spectrum's fit variance, the standards' scatter about the line and
 * the intercept's error, over m. */
static void apply_cal(const cs_calibration *cal, double r, double var_r,
                      cs_composition *o) {
  /* a slope within two standard errors of zero cannot turn R into wt% */
  if (cal->m < 2 * cal->se_m) {
    csi_snprintf(o->carbonate_reason, sizeof o->carbonate_reason,
             "calibration slope not significant (m %.3g, se %.3g): "
             "recalibrate with standards",
             cal->m, cal->se_m);
    return;
  }
  double wt = (r - cal->b) / cal->m;
  /* delta method on wt = (R - b)/m: the spectrum's fit variance, the
   * calibration line (var b + wt^2 var m + 2 wt cov) and the standards'
   * scatter about it (s_resid^2), all over m^2; a t quantile on the
   * standards' n - 2 degrees of freedom (the prediction interval of the
   * calibration line) */
  double vline = cal->se_b * cal->se_b + wt * wt * cal->se_m * cal->se_m +
                 2 * wt * cal->cov_mb;
  double v = var_r + vline + cal->s_resid * cal->s_resid;
  double sd = sqrt(v > 0 ? v : 0) / cal->m;
  double q = cal->n > 2 ? gsl_cdf_tdist_Pinv(0.975, (double)(cal->n - 2)) : Z95;
  double v0 = var_r + cal->se_b * cal->se_b + cal->s_resid * cal->s_resid;
  o->carbonate_raw = wt;
  o->carbonate_sd = sd;
  o->carbonate_lod = 3.29 * sqrt(v0) / cal->m;
  o->carbonate_lod_cal = 3.29 * cal->se_b / cal->m;
  o->valid |= CS_COMP_CARBONATE;
  if (wt < o->carbonate_lod) {
    /* censored: never a negative or sub-LOD number */
    o->carbonate_censored = 1;
    o->carbonate_wt = 0;
    o->carbonate_lo = 0;
    o->carbonate_hi = wt + q * sd > o->carbonate_lod ? wt + q * sd
                                                     : o->carbonate_lod;
  } else {
    o->carbonate_wt = wt;
    o->carbonate_lo = wt - q * sd > 0 ? wt - q * sd : 0;
    o->carbonate_hi = wt + q * sd;
  }
  if (wt > cal->wt_hi + 1)
    csi_snprintf(o->carbonate_reason, sizeof o->carbonate_reason,
             "outside the calibrated range %g-%g wt%%", cal->wt_lo, cal->wt_hi);
}

/* dst = fmt with one %s (a), truncated to cap. */
static void reason(char *dst, size_t cap, const char *fmt, const char *a) {
  csi_snprintf(dst, cap, fmt, a);
}

static void apatite_fail(cs_composition *o, const char *msg) {
  reason(o->carbonate_reason, sizeof o->carbonate_reason, "%.100s", msg);
  reason(o->whitlockite_reason, sizeof o->whitlockite_reason, "%.100s", msg);
  reason(o->protein_reason, sizeof o->protein_reason, "%.100s", msg);
}

/* Stage 2 for one (prepared) spectrum on design d: axis offset, areas,
 * ratios.  y is scratch of d->n values. */
static cs_status ap_measure(const apdesign *d, const double *hmean,
                            const cs_spectrum *s, const cs_calibration *cal,
                            double *y, cs_composition *o, cs_error *err) {
  double c[64], dx = 0;
  size_t m = d->m, i1 = (size_t)d->col[C_NU1], iw = (size_t)d->col[C_WH];
  double hm = hmean[C_NU1] + hmean[C_WH];
  /* the spectrum's axis offset against the fitted mean model: two
   * Gauss-Newton steps of y(x) = k M(x - dx) */
  /* per spectrum everything goes through X'y (one pass over the points)
   * and the small precomputed (X'X)^-1: c = (X'X)^-1 X'y */
  double v[64];
  for (int it = 0; it < 2; it++) {
    ap_sample(d, s, dx, y);
    ap_xty(d, y, v, 1);
    v[m] = v[d->mw];
    ap_mul(d->Cs, m + 1, v, c);
    double k = (c[i1] + c[iw]) / hm;
    if (!(k > 0) || !(hm > 0))
      break;
    double step = -c[m] / k;
    step = step > 3 ? 3 : step < -3 ? -3 : step;
    dx += step;
  }
  if (dx > 8 || dx < -8)
    dx = 0;
  ap_sample(d, s, dx, y);
  double yy = ap_xty(d, y, v, 0);
  ap_mul(d->Ci, m, v, c);
  double rss = yy;
  for (size_t a = 0; a < m; a++)
    rss -= c[a] * v[a];
  double s2 = (rss > 0 ? rss : 0) / (double)(d->n - m);
  double a1 = c[i1] * d->unit_area[C_NU1], aw = c[iw] * d->unit_area[C_WH];
  int ic = d->col[C_CO3];
  double ac = ic >= 0 ? c[ic] * d->unit_area[C_CO3] : 0;
  /* the tissue bands' offset means something only where they are there */
  int ip = d->col[C_PHE];
  if (ip >= 0 && c[ip] > 3 * sqrt(s2 * d->Ci[ip * m + ip])) {
    o->axis_offset = d->P[P_SHIFT] + dx;
    o->valid |= CS_COMP_AXIS;
  }
  if (!(a1 > 0)) {
    apatite_fail(o, "no nu1 PO4 band at 960 cm^-1");
    return CS_OK;
  }
  /* covariance of areas: s^2 (X'X)^-1 scaled by the unit areas */
#define CA(a, b, ua, ub) (s2 * d->Ci[(a) * m + (b)] * (ua) * (ub))
  double u1 = d->unit_area[C_NU1], uw = d->unit_area[C_WH],
         uc = d->unit_area[C_CO3];
  double v11 = CA(i1, i1, u1, u1), vww = CA(iw, iw, uw, uw),
         v1w = CA(i1, iw, u1, uw);
  /* nu1 position and FWHM of this spectrum: the fitted position moved by
   * its axis offset; the width by one Gauss-Newton step on the intrinsic
   * width */
  double cw[64];
  ap_mul(d->Ciw, d->mw, v, cw);
  double Pw[P_H0];
  memcpy(Pw, d->P, sizeof Pw);
  if (cw[i1] > 0) {
    double step = cw[m] / cw[i1];
    step = step > 5 ? 5 : step < -5 ? -5 : step;
    Pw[P_NU1_FW] += step;
    if (Pw[P_NU1_FW] < 0.5)
      Pw[P_NU1_FW] = 0.5;
  }
  fband f = ap_fband(&ap_bands[0], P_NU1_POS);
  f.hscale = 1;
  bandval bv = band_of(&f, Pw);
  o->nu1_pos = d->P[P_NU1_POS] + dx;
  o->nu1_fwhm = bv.fw;
  o->valid |= CS_COMP_NU1;
  /* R = Ac / Ap with Ap the whole nu1 PO4 envelope (HA + whitlockite):
   * one band, well determined whatever its split.  Delta method: var R =
   * (vc - 2 R cov(c, p) + R^2 vp) / Ap^2. */
  double ap = a1;
  if (ic >= 0) {
    double vp = v11;
    double vc = CA(ic, ic, uc, uc);
    double ccp = CA(i1, ic, u1, uc);
    double r = ac / ap;
    double var_r = (vc - 2 * r * ccp + r * r * vp) / (ap * ap);
    o->carbonate_ratio = r;
    o->carbonate_ratio_se = sqrt(var_r > 0 ? var_r : 0);
    if (cal)
      apply_cal(cal, r, var_r, o);
    else
      reason(o->carbonate_reason, sizeof o->carbonate_reason, "%s",
             "no calibration");
    if (!d->lipid && !o->carbonate_reason[0])
      reason(o->carbonate_reason, sizeof o->carbonate_reason, "%s",
             "spectrum ends before 1320 cm^-1: lipid 1063/1080 not separated");
  }
  /* whitlockite index: the whitlockite nu1 area implied by whitlockite's
   * own bands (922, 951, 1090, 405) over the nu1 envelope, with equal
   * cross sections per PO4 assumed (bands.md 2.4); delta method.  Two
   * things differ from the carbonate's solve (README "What limits the
   * index"):
   * - the envelope's width is free (the nu1-width column, as for nu1_fwhm
   *   above; its area follows it): a mixture's HA + whitlockite doublet is
   *   wider than the mean's one band, and that misfit would otherwise land
   *   on whitlockite's 951 (0.1 of its nu1: ten times the leverage);
   * - where no tissue is detected the tissue columns are dropped (d->Cm):
   *   there collagen's 920/939 only add noise to whitlockite's 922/951. */
  double cmw[65]; /* cw: the solve with the width column, above */
  const double *Cx = d->Ciw, *cx = cw;
  double rw = yy;
  for (size_t a = 0; a < d->mw; a++)
    rw -= cw[a] * v[a];
  size_t dfx = d->n - d->mw;
  if (d->Cm && rw > 0) {
    /* tissue is absent when dropping its columns does not worsen the fit
     * beyond chance: the nested-model F test at 5 % */
    ap_mul(d->Cm, d->mw, v, cmw);
    double rm = yy;
    for (size_t a = 0; a < d->mw; a++)
      rm -= cmw[a] * v[a];
    double F = ((rm - rw) / (double)(d->mw - d->mm)) / (rw / (double)dfx);
    if (F < d->f_crit && cmw[i1] > 0) {
      Cx = d->Cm;
      cx = cmw;
      rw = rm;
      dfx = d->n - d->mm;
    }
  }
  size_t mw = d->mw;
  double s2x = (rw > 0 ? rw : 0) / (double)dfx, h1 = cx[i1], hw = cx[iw],
         hwid = cx[m];
  double ai = h1 * u1 + hwid * d->dunit_dw, awi = hw * uw;
  /* a width term that takes most of the band (or more): the fixed-width
   * areas, as the gradient below grows as 1/ai^2 */
  if (!(ai > 0.25 * c[i1] * u1)) {
    ai = c[i1] * u1;
    awi = c[iw] * uw;
    hw = c[iw];
    Cx = NULL;
  }
  double wi = awi / ai, vi = 0;
  if (Cx) {
    size_t ix[3] = {i1, iw, m};
    double g[3] = {-awi * u1 / (ai * ai), uw / ai, -awi * d->dunit_dw / (ai * ai)};
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++)
        vi += g[a] * g[b] * s2x * Cx[ix[a] * mw + ix[b]];
  } else {
    double d1 = -aw / (ap * ap), dw = 1 / ap;
    vi = d1 * d1 * v11 + dw * dw * vww + 2 * d1 * dw * v1w;
  }
  vi = vi > 0 ? vi : 0;
  double r922 = (hw > 0 ? hw : 0) * d->wh922_per_unit / ai;
  if (ai > 0 && isfinite(wi) && isfinite(vi) && isfinite(r922)) {
    o->whitlockite_se = sqrt(vi);
    o->whitlockite_index = wi < 0 ? 0 : wi > 1 ? 1 : wi;
    o->band922_ratio = r922;
    o->valid |= CS_COMP_WHITLOCKITE;
  }
#undef CA
  /* protein/mineral: the CH2 deformation band (1450) over nu1 PO4 */
  window w2;
  cs_error e2;
  cs_status st = take_window(s, 1400, 1500, &w2, &e2);
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
  double aprot = line_area(&w2) * m2;
  window_free(&w2);
  o->protein_mineral = (aprot > 0 ? aprot : 0) / ap;
  o->valid |= CS_COMP_PROTEIN;
  return CS_OK;
}

/* Stage 1 on the mean of the k spectra s[] (same axis), then stage 2 on
 * each into o[]. */
static cs_status raman_apatite_group(cs_spectrum *const *s, size_t k,
                                     const cs_calibration *cal,
                                     cs_composition *const *o, cs_error *err) {
  cs_spectrum *mean;
  cs_error e2;
  cs_status st = cs_spectrum_copy(s[0], &mean, err);
  if (st)
    return st;
  for (size_t i = 1; i < k; i++)
    for (size_t j = 0; j < mean->n; j++)
      mean->y[j] += s[i]->y[j];
  for (size_t j = 0; j < mean->n; j++)
    mean->y[j] /= (double)k;
  double P[P_H0], r2 = 0;
  size_t iters = 0;
  st = ap_shapes(mean, P, &r2, &iters, &e2);
  apdesign d;
  memset(&d, 0, sizeof d);
  double hmean[NCOMP] = {0}, *y = NULL;
  if (!st)
    st = ap_design_build(mean, P, &d, &e2);
  if (!st) {
    /* the mean spectrum's heights give the model whose derivative is the
     * axis-offset column */
    double c[64], v[64];
    y = malloc(d.n * sizeof *y);
    if (!y)
      st = csi_error(&e2, CS_ERR_NOMEM, "out of memory");
    else {
      ap_sample(&d, mean, 0, y);
      ap_xty(&d, y, v, 0);
      ap_mul(d.Ci, d.m, v, c);
      for (int q = 0; q < NCOMP; q++)
        hmean[q] = d.col[q] >= 0 ? c[d.col[q]] : 0;
      st = ap_design_deriv(&d, hmean, mean, &e2);
    }
  }
  cs_spectrum_free(mean);
  if (st) {
    for (size_t i = 0; i < k; i++)
      apatite_fail(o[i], e2.msg);
    ap_design_free(&d);
    free(y);
    return st == CS_ERR_NOMEM ? csi_error(err, st, "%s", e2.msg) : CS_OK;
  }
  for (size_t i = 0; i < k && !st; i++) {
    o[i]->fit_r2 = r2;
    o[i]->fit_iterations = k == 1 ? iters : 0;
    st = ap_measure(&d, hmean, s[i], cal, y, o[i], err);
  }
  ap_design_free(&d);
  free(y);
  return st;
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

/* ---- oxalate: variable projection ----
 * The Kontoyannis model is linear in the three band heights and the
 * baseline (5 coefficients) and nonlinear only in the bands' positions and
 * widths (6).  For given positions and widths the linear part is solved by
 * least squares (Householder QR), so the search runs over the 6 nonlinear
 * parameters alone (variable projection, Golub & Pereyra 1973, SIAM J
 * Numer Anal 10:413) on the projected cost F = min_c |A c - y|^2, with its
 * exact gradient and Hessian (ox_hess): damped Newton, Gauss-Newton where
 * the Hessian is not positive definite, bounds on the parameters
 * themselves (a step is clipped to the box; a parameter on a bound whose
 * gradient points outwards stays there).  It stops when the last Newton
 * step gained under 1e-10 of the cost or no step can gain what rounding
 * can show: a minimum, which GSL run to 1e-13 from it does not leave
 * (test_oxalate_reference).  About 15 evaluations, one allocation; GSL's
 * trust region over all 11 parameters (band_fit) took about 44 iterations
 * and stopped on its 1e-7 tolerances.  From the same template start the
 * two reach the same minimum for most spectra; where a band is weak the
 * problem has several (README "Composition of one spectrum", Speed). */
#define OX_NL 6                  /* position, FWHM of COM, COD, CH2 */
#define OX_NLIN (NB_OXALATE + 2) /* heights, then baseline 1 and u */
_Static_assert(OX_NL <= VP_MAXNL, "vp_step holds OX_NL parameters");

typedef struct oxfit {
  double P[NP_OXALATE]; /* positions, widths and heights */
  double base[2];       /* baseline base[0] + base[1] u */
  double xc, xh;        /* u = (x - xc) / xh */
  double chi2, r2;
  size_t iterations; /* evaluations of the projected cost */
} oxfit;

typedef struct oxws {
  const double *x, *y;
  size_t n;
  double xc, xh;
  double *A;  /* n x OX_NLIN design (column-major), then its QR */
  double *D;  /* n x OX_NL: d band column / d nonlinear parameter */
  double *S;  /* n x 3 per band: d2 column / d pos2, d pos d fw, d fw2 */
  double *LG; /* n x 2 per band: its Lorentzian and Gaussian parts */
  double al[OX_NL]; /* the point of the last ox_eval */
  double *r;  /* residual A c - y */
  double *t;  /* Q'y (the column after A's) */
  double tau[OX_NLIN];
  double c[OX_NLIN]; /* linear coefficients */
  double cost;       /* |y - A c|^2 */
} oxws;

/* Nonlinear parameter j: band j / 2, its position (j even) or FWHM. */
static int ox_par(int j) {
  const fband *b = &oxalate_bands[j / 2];
  return j % 2 ? b->iw : b->ip;
}

typedef struct ox_kern_t {
  void (*bands)(oxws *w); /* band columns of A, their L and G parts */
  void (*deriv)(oxws *w); /* D and S from those */
  void (*gram)(oxws *w, double *G, double *st); /* qr_normal's sums */
} ox_kern_t;
#define OXSFX _base
#define OX_W 2
#include "ox_kern.h"
#undef OXSFX
#undef OX_W
static const ox_kern_t ox_kern_base = {ox_bands_base, ox_deriv_base,
                                       ox_gram_base};
int csi_oxalate_portable = 0;
#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_OX_AVX2 1
CSI_TARGET_BEGIN("avx2")
#define OXSFX _avx2
#define OX_W 4
#include "ox_kern.h"
#undef OXSFX
#undef OX_W
CSI_TARGET_END
static const ox_kern_t ox_kern_avx2 = {ox_bands_avx2, ox_deriv_avx2,
                                       ox_gram_avx2};
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF /* clang fuses a * b + c where it can */
#endif
CSI_TARGET_BEGIN("avx512f")
#define OXSFX _avx512
#define OX_W 8
#include "ox_kern.h"
#undef OXSFX
#undef OX_W
CSI_TARGET_END
static const ox_kern_t ox_kern_avx512 = {ox_bands_avx512, ox_deriv_avx512,
                                         ox_gram_avx512};
#endif
static const ox_kern_t *ox_kern(void) {
#ifdef HAVE_OX_AVX2
  unsigned cpu = csi_cpu_features();
  if (!csi_oxalate_portable) {
    if ((cpu & CSI_CPU_AVX512F) && csi_oxalate_portable != 2)
      return &ox_kern_avx512;
    if (cpu & CSI_CPU_AVX2)
      return &ox_kern_avx2;
  }
#endif
  return &ox_kern_base;
}

/* Design, derivatives, QR, linear coefficients and cost at alpha.
 * -1: the design is (numerically) rank deficient. */
static int ox_eval(oxws *w, const double *al) {
  size_t n = w->n;
  memcpy(w->al, al, sizeof w->al);
  ox_kern()->bands(w);
  double *b0 = w->A + (size_t)NB_OXALATE * n, *b1 = b0 + n, ixh = 1 / w->xh;
  for (size_t i = 0; i < n; i++) {
    b0[i] = 1;
    b1[i] = (w->x[i] - w->xc) * ixh;
  }
  memcpy(w->t, w->y, n * sizeof *w->t);
  double rmax = 0;
  for (size_t j = 0; j < OX_NLIN; j++) {
    /* four partial sums: one chain of additions waits on its latency */
    double *a = w->A + j * n, s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = j;
    for (; i + 4 <= n; i += 4) {
      s0 += a[i] * a[i], s1 += a[i + 1] * a[i + 1];
      s2 += a[i + 2] * a[i + 2], s3 += a[i + 3] * a[i + 3];
    }
    for (; i < n; i++)
      s0 += a[i] * a[i];
    double nrm = sqrt((s0 + s1) + (s2 + s3));
    if (!(nrm > 0) || !isfinite(nrm))
      return -1;
    double al0 = a[j], be = al0 > 0 ? -nrm : nrm;
    w->tau[j] = (be - al0) / be;
    double sc = 1 / (al0 - be);
    for (i = j + 1; i < n; i++)
      a[i] *= sc;
    a[j] = be;
    /* and to t = y, the column after A's: Q'y in the same sweeps */
    hh_reflect_cols(a, n, j, w->tau[j], a + n, n, OX_NLIN - j);
    if (nrm > rmax)
      rmax = nrm;
  }
  return qr_lsq(w->A, w->tau, n, OX_NLIN, rmax, NULL, w->t, w->c, &w->cost);
}

/* g (half the gradient of the cost F(alpha) = min_c |A c - y|^2) and H,
 * half its exact Hessian, at the point of the last ox_eval.  H is the
 * Schur complement of the full problem's Hessian over (alpha, c), J'J +
 * sum r_i (second derivatives of the model), in the linear coefficients;
 * with R from A = QR, for parameters k, l of bands b, b' with derivative
 * columns d_k, split in the rotated frame into u_k (rows < OX_NLIN) and
 * v_k (below), s_k = d_k'(y - A c) and z_b = R^-T e_b:
 *   H_kl = c_b c_b' v_k'v_l - s_k s_l z_b'z_b' + c_b s_l u_k'z_b'
 *          + c_b' s_k z_b'u_l + [b = b'] c_b sum_i r_i d2A_ib/dk dl.
 * The Gauss-Newton part alone (Golub & Pereyra's c c v'v + s s z'z)
 * misses the curvature of the residual, which is large here (noise on
 * narrow bands a few points wide): the steps overshoot and it converged
 * only linearly (about 50 iterations); Newton's converges in few.
 * HG: the Gauss-Newton part alone (positive semidefinite: the step far
 * from the optimum, where H is indefinite).  Uses up D. */
static void ox_hess(oxws *w, double H[OX_NL][OX_NL], double HG[OX_NL][OX_NL],
                    double *g) {
  size_t n = w->n;
  double s[OX_NL], z[NB_OXALATE][OX_NLIN], r2[NB_OXALATE][3];
  ox_kern()->deriv(w);
  for (int b = 0; b < NB_OXALATE; b++) { /* R'z = e_b */
    for (int j = 0; j < OX_NLIN; j++) {
      double v = j == b ? 1 : 0;
      for (int k = 0; k < j; k++)
        v -= w->A[(size_t)j * n + (size_t)k] * z[b][k];
      z[b][j] = v / w->A[(size_t)j * n + (size_t)j];
    }
  }
  /* r = Q (0, -t) */
  for (size_t i = 0; i < n; i++)
    w->r[i] = i < OX_NLIN ? 0 : -w->t[i];
  for (size_t j = OX_NLIN; j-- > 0;)
    hh_reflect(w->A + j * n, n, j, w->tau[j], w->r);
  /* the nine sums in one pass: each alone waits on its own latency */
  double *rs = &r2[0][0];
  const double *S = w->S;
  memset(r2, 0, sizeof r2);
  for (size_t i = 0; i < n; i++) {
    double ri = w->r[i];
    rs[0] += ri * S[i], rs[1] += ri * S[n + i], rs[2] += ri * S[2 * n + i];
    rs[3] += ri * S[3 * n + i], rs[4] += ri * S[4 * n + i];
    rs[5] += ri * S[5 * n + i], rs[6] += ri * S[6 * n + i];
    rs[7] += ri * S[7 * n + i], rs[8] += ri * S[8 * n + i];
  }
  double G[OX_NL][OX_NL], st[OX_NL];
  for (size_t j = 0; j < OX_NLIN; j++) /* qr_normal, sums in the kernel */
    hh_reflect_cols(w->A + j * n, n, j, w->tau[j], w->D, n, OX_NL);
  ox_kern()->gram(w, &G[0][0], st);
  for (int k = 0; k < OX_NL; k++) {
    s[k] = st[k];
    g[k] = -w->c[k / 2] * st[k];
  }
  for (int k = 0; k < OX_NL; k++) {
    const double *v = w->D + (size_t)k * n;
    int b = k / 2;
    double cb = w->c[b];
    for (int l = 0; l <= k; l++) {
      const double *u = w->D + (size_t)l * n;
      int b2 = l / 2;
      double cb2 = w->c[b2], vv = G[k][l], zz = 0, uz = 0, zu = 0;
      for (int j = 0; j < OX_NLIN; j++) {
        zz += z[b][j] * z[b2][j];
        uz += v[j] * z[b2][j];
        zu += z[b][j] * u[j];
      }
      double h = cb * cb2 * vv - s[k] * s[l] * zz + cb * s[l] * uz +
                 cb2 * s[k] * zu;
      if (b == b2) /* q: 0 pos pos, 1 pos fw, 2 fw fw */
        h += cb * r2[b][k % 2 + l % 2];
      H[k][l] = H[l][k] = h;
      HG[k][l] = HG[l][k] = cb * cb2 * vv + s[k] * s[l] * zz;
    }
  }
}

/* Damped Newton descent from al (updated to the optimum found); c and
 * *cost: the linear coefficients and cost there.  Returns the iterations
 * (evaluations) spent, or -1 when al itself cannot be evaluated. */
static int ox_descend(oxws *w, double *al, double *c, double *cost) {
  double lo[OX_NL], hi[OX_NL], tr[OX_NL];
  for (int j = 0; j < OX_NL; j++) {
    const fpar *f = &oxalate_par[ox_par(j)];
    lo[j] = f->lo;
    hi[j] = f->hi;
  }
  if (ox_eval(w, al))
    return -1;
  double H[OX_NL][OX_NL], HG[OX_NL][OX_NL], g[OX_NL];
  double dmax[OX_NL] = {0}, lam = -1, nu = 2;
  *cost = w->cost;
  memcpy(c, w->c, OX_NLIN * sizeof *c);
  ox_hess(w, H, HG, g);
  size_t it = 0;
  for (int stop = 0, tries = 0; !stop && it < 100 && tries < 300; tries++) {
    /* damping scaled by the largest Gauss-Newton diagonal seen (More
     * 1978), floored so a band of height 0 (flat in its position and
     * width) still gets a bounded step; far from the optimum H can be
     * indefinite, and the damping then grows until it is not */
    double hmax = 0;
    for (int j = 0; j < OX_NL; j++) {
      if (HG[j][j] > dmax[j])
        dmax[j] = HG[j][j];
      if (dmax[j] > hmax)
        hmax = dmax[j];
    }
    if (!(hmax > 0))
      break; /* no band left: nothing to move */
    /* lam is the damping relative to those diagonals; it starts small
     * (y is scaled to 1, so hmax is about 1e-5..1e-3): 0.1 hmax took the
     * fewest evaluations of 1e-6..1 hmax on SYNTHETIC spectra */
    if (lam < 0)
      lam = 0.1 * hmax;
    /* Newton where damped H is positive definite and its step goes
     * downhill on the model, else Gauss-Newton (always both) */
    double h[OX_NL], step, pred;
    int pass = vp_step(OX_NL, &H[0][0], &HG[0][0], g, al, lo, hi, dmax, hmax,
                       lam, tr, h, &step, &pred);
    if (pass < 0)
      break; /* every parameter held by its bound: a corner optimum */
    int newton = pass == 0;
    if (!(pred > 0)) { /* no model decrease: damp more */
      if (!(lam < 1e30)) /* a zero gradient, or no finite step left */
        break;
      vp_damp_rejected(&lam, &nu);
      continue;
    }
    it++;
    if (step > 0 && !ox_eval(w, tr) && w->cost < *cost) {
      double rho = (*cost - w->cost) / pred;
      memcpy(al, tr, sizeof tr);
      memcpy(c, w->c, OX_NLIN * sizeof *c);
      *cost = w->cost;
      ox_hess(w, H, HG, g);
      vp_damp_accepted(&lam, &nu, rho);
      /* after a nearly undamped Newton step that gained under 1e-10 of
       * the cost (parameters moved by about 1e-5 of their range), what is
       * left is of the order of its square (I1462/I1477 within 3e-7 of a
       * run to rounding on 400 SYNTHETIC spectra; 1e-14: otherwise) */
      if (pred < (newton && lam < 1e-2 ? 1e-10 : 1e-14) * *cost)
        stop = 1;
    } else {
      vp_damp_rejected(&lam, &nu);
      if (pred < 1e-14 * *cost) /* lost to rounding: at the optimum */
        stop = 1;
    }
    /* a step this small (taken or not) cannot change the result; the
     * rejected ones end here once rounding hides the last decrease */
    if (step < 1e-10)
      stop = 1;
  }
  return (int)it;
}

static cs_status ox_fit(const double *x, const double *y, size_t n,
                        oxfit *o, cs_error *err) {
  memset(o, 0, sizeof *o);
  if (n < OX_NL + OX_NLIN + 5)
    return csi_error(err, CS_ERR_RANGE,
                     "band fit: %zu points in the window, need at least %d",
                     n, OX_NL + OX_NLIN + 5);
  oxws w;
  memset(&w, 0, sizeof w);
  w.x = x;
  w.y = y;
  w.n = n;
  w.xc = 0.5 * (x[0] + x[n - 1]);
  w.xh = 0.5 * (x[n - 1] - x[0]);
  double *buf =
      malloc(n * (OX_NLIN + OX_NL + 5 * NB_OXALATE + 2) * sizeof *buf);
  if (!buf)
    return csi_error(err, CS_ERR_NOMEM, "band fit: out of memory");
  w.A = buf;
  w.t = buf + n * OX_NLIN; /* right after A: ox_eval reflects them together */
  w.D = w.t + n;
  w.S = w.D + n * OX_NL;
  w.LG = w.S + n * 3 * NB_OXALATE;
  w.r = w.LG + n * 2 * NB_OXALATE;
  double al[OX_NL], c[OX_NLIN], cost;
  for (int j = 0; j < OX_NL; j++)
    al[j] = oxalate_par[ox_par(j)].start;
  cs_status st = CS_OK;
  int it = ox_descend(&w, al, c, &cost);
  if (it < 0) {
    st = csi_error(err, CS_ERR_NUMERIC, "band fit: cannot start");
    goto done;
  }
  /* A band whose height went to about 0 is flat in its position and width,
   * and the descent may park it on a bound, where it can no longer find
   * the feature it would fit elsewhere: such a band starts again from the
   * template (the others from where they are); the lower cost wins. */
  for (int k = 0; k < NB_OXALATE; k++) {
    int parked = 0;
    for (int q = 0; q < 2; q++) {
      const fpar *f = &oxalate_par[ox_par(2 * k + q)];
      parked |= al[2 * k + q] <= f->lo || al[2 * k + q] >= f->hi;
    }
    if (!parked || !(fabs(c[k]) < 1e-3)) /* of the window's largest |y| */
      continue;
    double al2[OX_NL], c2[OX_NLIN], cost2;
    memcpy(al2, al, sizeof al2);
    for (int q = 0; q < 2; q++)
      al2[2 * k + q] = oxalate_par[ox_par(2 * k + q)].start;
    int it2 = ox_descend(&w, al2, c2, &cost2);
    if (it2 < 0)
      continue;
    it += it2;
    if (cost2 < cost) {
      memcpy(al, al2, sizeof al);
      memcpy(c, c2, sizeof c);
      cost = cost2;
    }
  }
  o->iterations = (size_t)it;
  for (int j = 0; j < OX_NL; j++)
    o->P[ox_par(j)] = al[j];
  for (int k = 0; k < NB_OXALATE; k++)
    o->P[oxalate_bands[k].ih] = c[k];
  o->base[0] = c[NB_OXALATE];
  o->base[1] = c[NB_OXALATE + 1];
  o->xc = w.xc;
  o->xh = w.xh;
  o->chi2 = cost;
  double ym = 0, sst = 0;
  for (size_t i = 0; i < n; i++)
    ym += y[i] / (double)n;
  for (size_t i = 0; i < n; i++)
    sst += (y[i] - ym) * (y[i] - ym);
  o->r2 = sst > 0 ? 1 - cost / sst : 0;
  for (int k = 0; k < OX_NLIN; k++)
    if (!isfinite(c[k]))
      st = csi_error(err, CS_ERR_NUMERIC, "band fit: non-finite result");
done:
  free(buf);
  return st;
}

/* COM fraction (Kontoyannis) of s into o; reference 1: band_fit to 1e-13
 * instead of ox_fit, 2: the same started from ox_fit's optimum (the tests'
 * yardsticks, csi_oxalate_com). */
static cs_status raman_oxalate(const cs_spectrum *s, cs_composition *o,
                               int reference, cs_error *err) {
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
  double h_com, h_cod;
  if (reference) { /* GSL over all 11 parameters, run to 1e-13 */
    fpar par[NP_OXALATE];
    memcpy(par, oxalate_par, sizeof par);
    if (reference == 2) { /* from ox_fit's optimum */
      oxfit g;
      st = ox_fit(w.x, w.y, w.n, &g, &e2);
      for (int k = 0; k < NP_OXALATE && !st; k++)
        par[k].start = g.P[k];
    }
    fitprob p = {w.x, w.y, w.n, par, NP_OXALATE, oxalate_bands,
                 NB_OXALATE, 1, 0, 1, NULL, {0}, 0};
    fitout f = {0};
    if (!st)
      st = band_fit_tol(&p, &f, 1e-13, &e2);
    o->fit_r2 = f.r2;
    o->fit_iterations = f.iterations;
    h_com = f.height[XB_COM];
    h_cod = f.height[XB_COD];
  } else {
    oxfit f;
    st = ox_fit(w.x, w.y, w.n, &f, &e2);
    o->fit_r2 = f.r2;
    o->fit_iterations = f.iterations;
    h_com = f.P[X_COM_H];
    h_cod = f.P[X_COD_H];
  }
  window_free(&w);
  if (st) {
    o->fit_r2 = 0;
    o->fit_iterations = 0;
    if (st == CS_ERR_NOMEM)
      return csi_error(err, st, "%.100s", e2.msg);
    reason(o->com_reason, sizeof o->com_reason, "%.100s", e2.msg);
    return CS_OK;
  }
  double i1462 = h_com > 0 ? h_com : 0, i1477 = h_cod;
  if (!(i1477 > 0) && i1462 > 0) {
    /* COM without COD: beyond the I_R = 8.27 of pure COM, clipped to 1
     * as a large I_R is */
    o->oxalate_ir = 0;
    o->com_frac = 1;
    o->valid |= CS_COMP_COM;
    reason(o->com_reason, sizeof o->com_reason, "%s",
           "no COD 1477 cm^-1 band: pure COM, clipped to 1");
    return CS_OK;
  }
  if (!(i1477 > 0)) {
    reason(o->com_reason, sizeof o->com_reason, "%s",
           "no COM 1462 or COD 1477 cm^-1 band: I1462/I1477 undefined");
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

cs_status csi_oxalate_com(const cs_spectrum *s, int reference,
                          cs_composition *o, cs_error *err) {
  memset(o, 0, sizeof *o);
  return raman_oxalate(s, o, reference, err);
}

/* An ascending Raman-shift (or wavenumber) copy of in, spikes removed
 * (Raman: they would be fitted as bands), into *out. */
static cs_status prepare(const cs_spectrum *in, cs_technique t,
                         cs_spectrum **out, cs_error *err) {
  cs_spectrum *s;
  *out = NULL;
  cs_status st = CS_OK;
  size_t n = in->n, a = 0, b = n;
  if (t == CS_TECH_RAMAN && in->axis == CS_AXIS_RAMAN_SHIFT && n > 1 &&
      in->x[0] < in->x[n - 1]) {
    /* the usual case: only the points of 300-1520 cm^-1 (as the crop
     * below) and no metadata, which nothing here reads; a batch keeps every
     * prepared spectrum until its group is measured */
    if (in->x[0] < 300 && in->x[n - 1] > 1520) {
      while (a < n && in->x[a] < 300)
        a++;
      while (b > a && in->x[b - 1] > 1520)
        b--;
    }
    if (!(s = csi_spectrum_alloc(b - a)))
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    memcpy(s->x, in->x + a, (b - a) * sizeof *s->x);
    memcpy(s->y, in->y + a, (b - a) * sizeof *s->y);
    csi_spectrum_copy_fields(s, in);
  } else if ((st = cs_spectrum_copy(in, &s, err)))
    return st;
  if (s->axis == CS_AXIS_WAVELENGTH_NM)
    st = cs_spectrum_to_raman_shift(s, NAN, err);
  if (!st && s->n > 1 && s->x[0] > s->x[s->n - 1])
    st = cs_spectrum_sort(s, err);
  if (!st && s->axis != CS_AXIS_RAMAN_SHIFT && s->axis != CS_AXIS_WAVENUMBER &&
      s->axis != CS_AXIS_UNKNOWN)
    st = csi_error(err, CS_ERR_UNSUPPORTED,
                   "composition: needs a Raman shift or wavenumber axis");
  /* Raman: only 300-1520 cm^-1 is ever used (apatite 320-1340 and the
   * 1400-1500 protein window, oxalate 1420-1500); cropping first makes
   * spike removal cheaper */
  if (!st && t == CS_TECH_RAMAN && s->n > 1 && s->x[0] < 300 &&
      s->x[s->n - 1] > 1520)
    st = cs_spectrum_crop(s, 300, 1520, err);
  if (!st && t == CS_TECH_RAMAN) {
    cs_spike_opts so = cs_spike_opts_default();
    size_t nrem;
    st = cs_spectrum_remove_spikes(s, &so, &nrem, err);
  }
  if (st)
    cs_spectrum_free(s);
  else
    *out = s;
  return st;
}

static cs_technique tech_of(const cs_spectrum *s) {
  cs_technique t = s->technique;
  if (t == CS_TECH_UNKNOWN)
    t = s->axis == CS_AXIS_WAVENUMBER ? CS_TECH_FTIR : CS_TECH_RAMAN;
  return t;
}

/* Everything but Raman apatite (measured in groups). */
static cs_status measure_other(const cs_spectrum *s, const char *cls,
                               const cs_calibration *cal, cs_composition *o,
                               cs_error *err) {
  cs_technique t = o->technique;
  const char *na = "class %s: not measured";
  cs_status st = CS_OK;
  if (is_apatite(cls)) {
    st = ftir_apatite(s, cal, o, err);
    reason(o->com_reason, sizeof o->com_reason, "%s",
           "COM/COD applies to oxalate only");
  } else if (!strcmp(cls, "oxalate")) {
    if (t == CS_TECH_RAMAN)
      st = raman_oxalate(s, o, 0, err);
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
  return st;
}

cs_status csi_apatite_shapes(const cs_spectrum *in, int reference,
                             double *P, double *r2, size_t *iters,
                             cs_error *err) {
  cs_spectrum *s;
  pthread_once(&gsl_once, gsl_quiet);
  cs_status st = prepare(in, CS_TECH_RAMAN, &s, err);
  if (st)
    return st;
  st = ap_shapes_ref(s, reference, P, r2, iters, err);
  cs_spectrum_free(s);
  return st;
}

static int same_axis(const cs_spectrum *a, const cs_spectrum *b) {
  return a->n == b->n && !memcmp(a->x, b->x, a->n * sizeof *a->x);
}

cs_status cs_composition_measure_batch(const cs_spectrum *const *in,
                                       const char *const *cls, size_t n,
                                       const cs_calibration *cal,
                                       cs_composition *out, cs_error *err) {
  pthread_once(&gsl_once, gsl_quiet);
  if (n && out)
    memset(out, 0, n * sizeof *out);
  if (n && (!in || !cls || !out))
    return csi_error(err, CS_ERR_ARG, "composition: no spectra or classes");
  for (size_t i = 0; i < n; i++) {
    if (!in[i] || !cls[i])
      return csi_error(err, CS_ERR_ARG, "composition: no spectrum or class");
    cs_technique t = tech_of(in[i]);
    if (cal && cal->kind != CS_CAL_CARBONATE)
      return csi_error(err, CS_ERR_ARG,
                       "composition: a whitlockite calibration is not a carbonate calibration");
    if (cal && cal->technique != t)
      return csi_error(err, CS_ERR_ARG,
                       "composition: %s calibration for a %s spectrum",
                       cs_technique_name(cal->technique), cs_technique_name(t));
  }
  cs_spectrum **s = calloc(n ? n : 1, sizeof *s);
  cs_composition **grp = malloc((n ? n : 1) * sizeof *grp);
  cs_spectrum **gs = malloc((n ? n : 1) * sizeof *gs);
  unsigned char *done = calloc(n ? n : 1, 1);
  cs_status st = CS_OK;
  if (!s || !grp || !gs || !done)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < n && !st; i++) {
    cs_composition *o = &out[i];
    csi_snprintf(o->cls, sizeof o->cls, "%s", cls[i]);
    o->technique = tech_of(in[i]);
    st = prepare(in[i], o->technique, &s[i], err);
    if (!st && !(o->technique == CS_TECH_RAMAN && is_apatite(cls[i]))) {
      st = measure_other(s[i], cls[i], cal, o, err);
      done[i] = 1;
    }
  }
  /* Raman apatite: one group per axis */
  for (size_t i = 0; i < n && !st; i++) {
    if (done[i])
      continue;
    size_t k = 0;
    for (size_t j = i; j < n; j++)
      if (!done[j] && same_axis(s[i], s[j])) {
        gs[k] = s[j];
        grp[k++] = &out[j];
        done[j] = 1;
        reason(out[j].com_reason, sizeof out[j].com_reason, "%s",
               "COM/COD applies to oxalate only");
      }
    st = raman_apatite_group(gs, k, cal, grp, err);
  }
  for (size_t i = 0; s && i < n; i++)
    cs_spectrum_free(s[i]);
  free(s);
  free(grp);
  free(gs);
  free(done);
  if (st && out)
    memset(out, 0, n * sizeof *out);
  return st;
}

cs_status cs_composition_measure(const cs_spectrum *in, const char *cls,
                                 const cs_calibration *cal, cs_composition *o,
                                 cs_error *err) {
  if (!o)
    return csi_error(err, CS_ERR_ARG, "composition: no output");
  if (!in || !cls) {
    memset(o, 0, sizeof *o);
    return csi_error(err, CS_ERR_ARG, "composition: no spectrum or class");
  }
  return cs_composition_measure_batch(&in, &cls, 1, cal, o, err);
}

cs_status cs_report_composition(cs_report *r, const cs_spectrum *s,
                                const cs_calibration *cal, cs_error *err) {
  if (!r || !s)
    return csi_error(err, CS_ERR_ARG, "composition: no report or spectrum");
  /* the oxalate measurement cs_classify_spectrum made of this spectrum for
   * its subtype: the same as measuring again (oxalate reads no
   * calibration), when the calibration passes the same checks */
  int reuse = r->oxalate_key && r->classified &&
              !strcmp(r->result.label, "oxalate") &&
              r->oxalate_key == csi_spectrum_key(s);
  cs_composition kept;
  if (reuse)
    kept = r->composition;
  memset(&r->composition, 0, sizeof r->composition);
  r->composition_measured = 0;
  cs_calibration def;
  cs_error e2;
  if (!cal && cs_calibration_default(r->technique, &def, &e2) == CS_OK)
    cal = &def;
  if (reuse && (!cal || (cal->kind == CS_CAL_CARBONATE &&
                         cal->technique == tech_of(s)))) {
    r->composition = kept;
    r->composition_measured = 1;
    return CS_OK;
  }
  r->oxalate_key = 0; /* composition no longer holds it */
  const char *cls = r->classified ? r->result.label : "unknown";
  cs_status st = cs_composition_measure(s, cls, cal, &r->composition, err);
  if (!st)
    r->composition_measured = 1;
  return st;
}

/* ---- the fit as curves (cs_composition_fit_curves) ----
 * Kept apart from the measurement: it calls the same steps in the same
 * order (prepare, stage 1, stage 2 of a one-spectrum group; or the
 * oxalate fit) and only evaluates the fitted model on the window. */

static cs_fit_curves *curves_alloc(size_t n, size_t ncomp) {
  size_t narr = 5 + ncomp; /* x y baseline sum resid + components */
  size_t head = (sizeof(cs_fit_curves) + 15) / 16 * 16;
  size_t names = ncomp * CS_FIT_NAME_MAX;
  cs_fit_curves *c = calloc(1, head + narr * n * sizeof(double) + names + 1);
  if (!c)
    return NULL;
  double *a = (double *)((char *)c + head);
  c->n = n;
  c->ncomp = ncomp;
  c->x = a;
  c->y = a + n;
  c->baseline = a + 2 * n;
  c->sum = a + 3 * n;
  c->resid = a + 4 * n;
  c->comp = a + 5 * n;
  c->names = (char(*)[CS_FIT_NAME_MAX])(a + narr * n);
  return c;
}

static const char *const ap_comp_name[NCOMP] = {
    [C_NU1] = "nu1 PO4", [C_WH] = "whitlockite", [C_1029] = "nu3 PO4 1029",
    [C_1046] = "nu3 PO4 1046/1076", [C_CO3] = "nu1 CO3 (B type)",
    [C_PHE] = "phenylalanine", [C_COL] = "collagen", [C_FAT] = "lipid",
    [C_CAR] = "carotene", [C_AM3] = "amide III", [C_NU2] = "nu2 PO4", [C_NU2B] = "nu2 PO4 (broad)"};

static cs_status apatite_curves(const cs_spectrum *s, cs_fit_curves **out,
                                cs_error *err) {
  double P[P_H0], r2 = 0, hmean[NCOMP] = {0}, c[64], v[64];
  size_t iters = 0;
  apdesign d;
  memset(&d, 0, sizeof d);
  double *y = NULL;
  /* as raman_apatite_group with k = 1 */
  cs_status st = ap_shapes(s, P, &r2, &iters, err);
  if (!st)
    st = ap_design_build(s, P, &d, err);
  if (!st && !(y = malloc(d.n * sizeof *y)))
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st) {
    ap_sample(&d, s, 0, y);
    ap_xty(&d, y, v, 0);
    ap_mul(d.Ci, d.m, v, c);
    for (int q = 0; q < NCOMP; q++)
      hmean[q] = d.col[q] >= 0 ? c[d.col[q]] : 0;
    st = ap_design_deriv(&d, hmean, s, err);
  }
  cs_composition o;
  memset(&o, 0, sizeof o);
  if (!st)
    st = ap_measure(&d, hmean, s, NULL, y, &o, err);
  if (!st && !(o.valid & CS_COMP_NU1))
    st = csi_error(err, CS_ERR_NUMERIC, "%s", o.carbonate_reason);
  if (st) {
    ap_design_free(&d);
    free(y);
    return st;
  }
  /* the spectrum's axis offset as ap_measure found it, then its areas */
  double dx = o.nu1_pos - d.P[P_NU1_POS];
  ap_sample(&d, s, dx, y);
  ap_xty(&d, y, v, 0);
  ap_mul(d.Ci, d.m, v, c);
  size_t ncomp = 0;
  for (int q = 0; q < NCOMP; q++)
    ncomp += d.col[q] >= 0;
  cs_fit_curves *fc = curves_alloc(d.n, ncomp);
  if (!fc) {
    ap_design_free(&d);
    free(y);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  size_t k = 0;
  for (int q = 0; q < NCOMP; q++) {
    if (d.col[q] < 0)
      continue;
    csi_snprintf(fc->names[k], CS_FIT_NAME_MAX, "%s", ap_comp_name[q]);
    for (size_t r = 0; r < d.n; r++)
      fc->comp[k * d.n + r] = c[d.col[q]] * d.X[r * d.mw + (size_t)d.col[q]];
    k++;
  }
  for (size_t r = 0; r < d.n; r++) {
    const double *row = d.X + r * d.mw;
    double b = 0, t = 0;
    for (size_t j = d.nbands_cols; j < d.m; j++)
      b += c[j] * row[j];
    for (size_t j = 0; j < d.nbands_cols; j++)
      t += c[j] * row[j];
    /* y(x + dx) was fitted on the design point x: on the spectrum's own
     * axis that is the point x + dx */
    fc->x[r] = s->x[d.idx[r]] + dx;
    fc->y[r] = y[r];
    fc->baseline[r] = b;
    fc->sum[r] = b + t;
    fc->resid[r] = y[r] - b - t;
  }
  ap_design_free(&d);
  free(y);
  *out = fc;
  return CS_OK;
}

static cs_status oxalate_curves(const cs_spectrum *s, cs_fit_curves **out,
                                cs_error *err) {
  window w;
  cs_status st = take_window(s, 1420, 1500, &w, err);
  if (st)
    return st;
  oxfit f;
  st = ox_fit(w.x, w.y, w.n, &f, err);
  /* take_window scaled y by the window's largest |y|: undo it */
  double scale = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->x[i] >= 1420 && s->x[i] <= 1500 && fabs(s->y[i]) > scale)
      scale = fabs(s->y[i]);
  if (!(scale > 0))
    scale = 1;
  cs_fit_curves *fc = st ? NULL : curves_alloc(w.n, NB_OXALATE);
  if (!st && !fc)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (st) {
    window_free(&w);
    return st;
  }
  static const char *const nm[NB_OXALATE] = {
      [XB_COM] = "COM 1462", [XB_COD] = "COD 1477", [XB_CH2] = "CH2 1445"};
  size_t n = w.n;
  for (size_t k = 0; k < NB_OXALATE; k++) {
    bandval b = band_of(&oxalate_bands[k], f.P);
    csi_snprintf(fc->names[k], CS_FIT_NAME_MAX, "%s", nm[k]);
    for (size_t i = 0; i < n; i++)
      fc->comp[k * n + i] = pv_at(&b, 0, w.x[i]) * scale;
  }
  for (size_t i = 0; i < n; i++) {
    double u = (w.x[i] - f.xc) / f.xh, t = 0;
    for (size_t k = 0; k < NB_OXALATE; k++)
      t += fc->comp[k * n + i];
    fc->x[i] = w.x[i];
    fc->y[i] = w.y[i] * scale;
    fc->baseline[i] = (f.base[0] + f.base[1] * u) * scale;
    fc->sum[i] = fc->baseline[i] + t;
    fc->resid[i] = fc->y[i] - fc->sum[i];
  }
  window_free(&w);
  *out = fc;
  return CS_OK;
}

cs_status cs_composition_fit_curves(const cs_spectrum *in, const char *cls,
                                    cs_fit_curves **out, cs_error *err) {
  if (out)
    *out = NULL;
  if (!in || !cls || !out)
    return csi_error(err, CS_ERR_ARG, "fit curves: no spectrum, class or output");
  pthread_once(&gsl_once, gsl_quiet);
  cs_technique t = tech_of(in);
  int ap = is_apatite(cls), ox = !strcmp(cls, "oxalate");
  if (t != CS_TECH_RAMAN || (!ap && !ox))
    return csi_error(err, CS_ERR_UNSUPPORTED,
                     "fit curves: no band fit for %s %s spectra",
                     cs_technique_name(t), cls);
  cs_spectrum *s;
  cs_status st = prepare(in, t, &s, err);
  if (st)
    return st;
  st = ap ? apatite_curves(s, out, err) : oxalate_curves(s, out, err);
  cs_spectrum_free(s);
  return st;
}
