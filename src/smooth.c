/* smooth.c: Savitzky-Golay (with derivatives) and Gaussian smoothing as
 * FFT convolutions through FFTW (r2c/c2r).  A cs_smoother owns its plans,
 * buffers and coefficients; plan creation is serialised process-wide. */
#include "internal.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The one piece of process-wide state: FFTW's planner is not re-entrant. */
static pthread_mutex_t fftw_mu = PTHREAD_MUTEX_INITIALIZER;

void csi_fftw_lock(void) { pthread_mutex_lock(&fftw_mu); }
void csi_fftw_unlock(void) { pthread_mutex_unlock(&fftw_mu); }

/* 501: wider than any useful smoothing of a ~1000-point spectrum, and the
 * edge weights (window^2 numbers, ~order^2 work each) build in < 0.3 s;
 * 4095 took 10 s and 134 MB just to parse. */
#define SG_MAX_WINDOW 501
#define SG_MAX_ORDER 12
#define GAUSS_TRUNCATE 4.0 /* scipy.ndimage.gaussian_filter1d default */
#define NCACHE 4           /* plan sets kept per smoother (distinct lengths) */

/* ---- options ---- */

cs_smooth_opts cs_smooth_opts_default(cs_smooth_method m) {
  cs_smooth_opts o = {m, 11, 3, 0, 2.0};
  return o;
}

static cs_status check_opts(const cs_smooth_opts *o, cs_error *err) {
  switch (o->method) {
  case CS_SMOOTH_NONE:
    return CS_OK;
  case CS_SMOOTH_SG:
    if (o->window < 1 || o->window > SG_MAX_WINDOW || o->window % 2 == 0)
      return csi_error(err, CS_ERR_ARG,
                       "savitzky-golay window must be odd, 1..%d, got %d",
                       SG_MAX_WINDOW, o->window);
    if (o->order < 0 || o->order >= o->window || o->order > SG_MAX_ORDER)
      return csi_error(err, CS_ERR_ARG,
                       "savitzky-golay order must be 0..%d and below the "
                       "window %d, got %d",
                       SG_MAX_ORDER, o->window, o->order);
    if (o->deriv < 0 || o->deriv > 2 || o->deriv > o->order)
      return csi_error(err, CS_ERR_ARG,
                       "savitzky-golay derivative must be 0, 1 or 2 and at "
                       "most the order %d, got %d",
                       o->order, o->deriv);
    return CS_OK;
  case CS_SMOOTH_GAUSS:
    if (!(isfinite(o->sigma) && o->sigma > 0))
      return csi_error(err, CS_ERR_ARG,
                       "gaussian sigma must be a positive number, got %g",
                       o->sigma);
    return CS_OK;
  }
  return csi_error(err, CS_ERR_ARG, "unknown smoothing method %d",
                   (int)o->method);
}

/* Parse a whole decimal integer field. */
static int parse_int_field(const char *s, int *out) {
  char *end;
  if (!*s)
    return -1;
  long v = strtol(s, &end, 10);
  if (*end || v < -1000000 || v > 1000000)
    return -1;
  *out = (int)v;
  return 0;
}

cs_status cs_smooth_opts_parse(const char *spec, cs_smooth_opts *out,
                               cs_error *err) {
  if (!spec || !out)
    return csi_error(err, CS_ERR_ARG, "no smoothing spec");
  char buf[128];
  if (strlen(spec) >= sizeof buf)
    return csi_error(err, CS_ERR_ARG, "smoothing spec too long");
  strcpy(buf, spec);
  char *f[5];
  int nf = csi_split(buf, ':', f, 5);
  cs_smooth_opts o;
  if (nf == 1 && !strcmp(f[0], "none")) {
    o = cs_smooth_opts_default(CS_SMOOTH_NONE);
  } else if (!strcmp(f[0], "sg") && (nf == 3 || nf == 4)) {
    o = cs_smooth_opts_default(CS_SMOOTH_SG);
    if (parse_int_field(f[1], &o.window) || parse_int_field(f[2], &o.order) ||
        (nf == 4 && parse_int_field(f[3], &o.deriv)))
      return csi_error(err, CS_ERR_ARG,
                       "savitzky-golay wants sg:WINDOW:ORDER[:DERIV] with "
                       "integers, got '%s'",
                       spec);
  } else if (!strcmp(f[0], "gauss") && nf == 2) {
    o = cs_smooth_opts_default(CS_SMOOTH_GAUSS);
    if (csi_parse_double(f[1], &o.sigma))
      return csi_error(err, CS_ERR_ARG, "gaussian wants gauss:SIGMA, got '%s'",
                       spec);
  } else {
    return csi_error(err, CS_ERR_ARG,
                     "unknown smoothing '%s' (want none, sg:W:O[:D] or "
                     "gauss:SIGMA)",
                     spec);
  }
  cs_status st = check_opts(&o, err);
  if (!st)
    *out = o;
  return st;
}

cs_status cs_smooth_opts_format(const cs_smooth_opts *o, char *buf,
                                size_t cap, cs_error *err) {
  cs_status st = check_opts(o, err);
  if (st)
    return st;
  int n;
  if (o->method == CS_SMOOTH_SG)
    n = o->deriv ? csi_snprintf(buf, cap, "sg:%d:%d:%d", o->window, o->order,
                            o->deriv)
                 : csi_snprintf(buf, cap, "sg:%d:%d", o->window, o->order);
  else if (o->method == CS_SMOOTH_GAUSS)
    n = csi_snprintf(buf, cap, "gauss:%.17g", o->sigma);
  else
    n = csi_snprintf(buf, cap, "none");
  if (n < 0 || (size_t)n >= cap)
    return csi_error(err, CS_ERR_ARG, "buffer too small for smoothing spec");
  return CS_OK;
}

/* ---- least-squares polynomial weights ---- */

/* Weights w[0..m) such that sum_j w[j] y[j] is the d-th derivative at t0 of
 * the degree-k least-squares polynomial through (t[j], y[j]).  Positions are
 * centred and scaled to [-1, 1] for conditioning, and the Vandermonde matrix
 * is factored A = QR by modified Gram-Schmidt with one reorthogonalisation,
 * so no normal equations (and no LAPACK) are needed: w = Q R^-T e, where e
 * holds the d-th derivatives of the basis at t0.  0 ok, -1 singular/OOM. */
static int lsq_weights(const double *t, size_t m, int k, int d, double t0,
                       double *w) {
  size_t K = (size_t)k + 1;
  double c = 0, s = 0;
  for (size_t j = 0; j < m; j++)
    c += t[j];
  c /= (double)m;
  for (size_t j = 0; j < m; j++)
    s = fmax(s, fabs(t[j] - c));
  if (s == 0)
    s = 1;
  double *q = malloc(m * K * sizeof *q), *r = calloc(K * K, sizeof *r);
  double *e = calloc(K, sizeof *e);
  if (!q || !r || !e) {
    free(q), free(r), free(e);
    return -1;
  }
  for (size_t p = 0; p < K; p++) {
    double *v = q + p * m; /* column p */
    for (size_t j = 0; j < m; j++)
      v[j] = pow((t[j] - c) / s, (double)p);
    for (int pass = 0; pass < 2; pass++)
      for (size_t qq = 0; qq < p; qq++) {
        const double *u = q + qq * m;
        double dot = 0;
        for (size_t j = 0; j < m; j++)
          dot += u[j] * v[j];
        r[qq * K + p] += dot;
        for (size_t j = 0; j < m; j++)
          v[j] -= dot * u[j];
      }
    double nrm = 0;
    for (size_t j = 0; j < m; j++)
      nrm += v[j] * v[j];
    nrm = sqrt(nrm);
    if (!(nrm > 1e-12 * sqrt((double)m))) {
      free(q), free(r), free(e);
      return -1;
    }
    r[p * K + p] = nrm;
    for (size_t j = 0; j < m; j++)
      v[j] /= nrm;
  }
  /* e_p = d^d/dt^d ((t - c)/s)^p at t0 */
  double u0 = (t0 - c) / s;
  for (size_t p = (size_t)d; p < K; p++) {
    double f = 1;
    for (size_t i = 0; i < (size_t)d; i++)
      f *= (double)(p - i);
    e[p] = f * pow(u0, (double)(p - (size_t)d)) / pow(s, (double)d);
  }
  /* forward substitution R^T z = e (z overwrites e) */
  for (size_t p = 0; p < K; p++) {
    double acc = e[p];
    for (size_t i = 0; i < p; i++)
      acc -= r[i * K + p] * e[i];
    e[p] = acc / r[p * K + p];
  }
  for (size_t j = 0; j < m; j++) {
    double acc = 0;
    for (size_t p = 0; p < K; p++)
      acc += q[p * m + j] * e[p];
    w[j] = acc;
  }
  free(q), free(r), free(e);
  return 0;
}

/* ---- the smoother ---- */

typedef struct plan_set {
  size_t len; /* FFT length; 0 = unused slot */
  double *buf;          /* len reals */
  fftw_complex *spec;   /* len/2+1 */
  fftw_complex *khat;   /* kernel spectrum */
  double kkey;          /* kernel identity (Gaussian sigma in pixels) */
  fftw_plan fwd, inv;
  unsigned long stamp;
} plan_set;

struct cs_smoother {
  cs_smooth_opts o;
  int h;        /* SG half window */
  double *coef; /* SG central weights, window entries */
  double *edge; /* SG: h rows of window weights for the left edge, then h
                   rows for the right edge */
  plan_set ps[NCACHE];
  unsigned long clock;
  double *tmp; /* scratch: padded Gaussian input or SG edge values */
  size_t tmpcap;
};

static void plan_set_clear(plan_set *p) {
  csi_fftw_lock();
  if (p->fwd)
    fftw_destroy_plan(p->fwd);
  if (p->inv)
    fftw_destroy_plan(p->inv);
  fftw_free(p->buf);
  fftw_free(p->spec);
  fftw_free(p->khat);
  csi_fftw_unlock();
  memset(p, 0, sizeof *p);
}

void cs_smoother_free(cs_smoother *sm) {
  if (!sm)
    return;
  for (int i = 0; i < NCACHE; i++)
    plan_set_clear(&sm->ps[i]);
  free(sm->coef);
  free(sm->edge);
  free(sm->tmp);
  free(sm);
}

cs_status cs_smoother_new(const cs_smooth_opts *o, cs_smoother **out,
                          cs_error *err) {
  *out = NULL;
  if (!o)
    return csi_error(err, CS_ERR_ARG, "no smoothing options");
  cs_status st = check_opts(o, err);
  if (st)
    return st;
  cs_smoother *sm = calloc(1, sizeof *sm);
  if (!sm)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  sm->o = *o;
  if (o->method == CS_SMOOTH_SG) {
    size_t w = (size_t)o->window, h = w / 2;
    sm->h = (int)h;
    double *t = calloc(w, sizeof *t);
    sm->coef = malloc(w * sizeof *sm->coef);
    sm->edge = malloc((h ? 2 * h : 1) * w * sizeof *sm->edge);
    if (!t || !sm->coef || !sm->edge) {
      free(t);
      cs_smoother_free(sm);
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    }
    int bad = 0;
    /* centre: positions -h..h evaluated at 0 (scipy savgol_coeffs) */
    for (size_t j = 0; j < w; j++)
      t[j] = (double)j - (double)h;
    bad |= lsq_weights(t, w, o->order, o->deriv, 0.0, sm->coef);
    /* edges: the polynomial fitted to the first/last window, evaluated at
     * the first/last h points (scipy's mode='interp') */
    for (size_t j = 0; j < w; j++)
      t[j] = (double)j;
    for (size_t i = 0; i < h && !bad; i++) {
      bad |= lsq_weights(t, w, o->order, o->deriv, (double)i, sm->edge + i * w);
      bad |= lsq_weights(t, w, o->order, o->deriv, (double)(w - h + i),
                         sm->edge + (h + i) * w);
    }
    free(t);
    if (bad) {
      cs_smoother_free(sm);
      return csi_error(err, CS_ERR_NUMERIC,
                       "savitzky-golay coefficients for window %d order %d "
                       "could not be computed",
                       o->window, o->order);
    }
  }
  *out = sm;
  return CS_OK;
}

/* Smallest length >= n whose only prime factors are 2, 3, 5 and 7 (fast for
 * FFTW). */
static size_t good_len(size_t n) {
  for (size_t m = n ? n : 1;; m++) {
    size_t r = m;
    static const size_t pr[] = {2, 3, 5, 7};
    for (int i = 0; i < 4; i++)
      while (r % pr[i] == 0)
        r /= pr[i];
    if (r == 1)
      return m;
  }
}

/* The plan set for FFT length len, creating it (and evicting the least
 * recently used one) when needed.  NULL on OOM or planner failure. */
static plan_set *get_plans(cs_smoother *sm, size_t len) {
  plan_set *victim = &sm->ps[0];
  for (int i = 0; i < NCACHE; i++) {
    if (sm->ps[i].len == len) {
      sm->ps[i].stamp = ++sm->clock;
      return &sm->ps[i];
    }
    if (sm->ps[i].stamp < victim->stamp)
      victim = &sm->ps[i];
  }
  plan_set_clear(victim);
  plan_set *p = victim;
  size_t nc = len / 2 + 1;
  csi_fftw_lock();
  p->buf = fftw_malloc(len * sizeof *p->buf);
  p->spec = fftw_malloc(nc * sizeof *p->spec);
  p->khat = fftw_malloc(nc * sizeof *p->khat);
  if (p->buf && p->spec && p->khat) {
    /* FFTW_ESTIMATE leaves the arrays alone and plans in microseconds */
    p->fwd = fftw_plan_dft_r2c_1d((int)len, p->buf, p->spec, FFTW_ESTIMATE);
    p->inv = fftw_plan_dft_c2r_1d((int)len, p->spec, p->buf, FFTW_ESTIMATE);
  }
  csi_fftw_unlock();
  if (!p->fwd || !p->inv) {
    plan_set_clear(p);
    return NULL;
  }
  p->len = len;
  p->kkey = NAN;
  p->stamp = ++sm->clock;
  return p;
}

/* Load kernel k[0..w) (already reversed for convolution) into p->khat. */
static void load_kernel(plan_set *p, const double *k, size_t w, double key) {
  memset(p->buf, 0, p->len * sizeof *p->buf);
  memcpy(p->buf, k, w * sizeof *k);
  fftw_execute(p->fwd);
  memcpy(p->khat, p->spec, (p->len / 2 + 1) * sizeof *p->khat);
  p->kkey = key;
}

/* Linear convolution of sig[0..n) with the loaded kernel; p->buf[m] holds
 * result index m for m in [w-1, n) (valid because len >= n). */
static void convolve(plan_set *p, const double *sig, size_t n) {
  memset(p->buf, 0, p->len * sizeof *p->buf);
  memcpy(p->buf, sig, n * sizeof *sig);
  fftw_execute(p->fwd);
  size_t nc = p->len / 2 + 1;
  double scale = 1.0 / (double)p->len;
  for (size_t i = 0; i < nc; i++) {
    double a = p->spec[i][0], b = p->spec[i][1];
    double c = p->khat[i][0], d = p->khat[i][1];
    p->spec[i][0] = (a * c - b * d) * scale;
    p->spec[i][1] = (a * d + b * c) * scale;
  }
  fftw_execute(p->inv);
}

static int ensure_tmp(cs_smoother *sm, size_t n) {
  if (sm->tmpcap >= n)
    return 0;
  double *t = realloc(sm->tmp, n * sizeof *t);
  if (!t)
    return -1;
  sm->tmp = t;
  sm->tmpcap = n;
  return 0;
}

/* scipy.ndimage 'reflect' (half-sample symmetric) index into [0, n). */
static size_t reflect(long i, size_t n) {
  long p = 2 * (long)n;
  long k = i % p;
  if (k < 0)
    k += p;
  return k < (long)n ? (size_t)k : (size_t)(p - 1 - k);
}

static cs_status apply_sg(cs_smoother *sm, double delta, const double *y,
                          size_t n, double *out, cs_error *err) {
  size_t w = (size_t)sm->o.window, h = (size_t)sm->h;
  if (n < w)
    return csi_error(err, CS_ERR_DIM,
                     "savitzky-golay window %zu is longer than the spectrum "
                     "(%zu points)",
                     w, n);
  double scale = sm->o.deriv ? pow(delta, -(double)sm->o.deriv) : 1.0;
  if (ensure_tmp(sm, 2 * h + 1))
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  /* edges first, so that out may alias y */
  for (size_t i = 0; i < h; i++) {
    double a = 0, b = 0;
    const double *wl = sm->edge + i * w, *wr = sm->edge + (h + i) * w;
    for (size_t j = 0; j < w; j++) {
      a += wl[j] * y[j];
      b += wr[j] * y[n - w + j];
    }
    sm->tmp[i] = a * scale;
    sm->tmp[h + i] = b * scale;
  }
  plan_set *p = get_plans(sm, good_len(n));
  if (!p)
    return csi_error(err, CS_ERR_NOMEM, "out of memory (fftw plan)");
  if (p->kkey != 0.0) { /* SG kernels do not depend on spacing: key 0 */
    double *k = malloc(w * sizeof *k);
    if (!k)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    for (size_t j = 0; j < w; j++)
      k[j] = sm->coef[w - 1 - j]; /* correlation -> convolution */
    load_kernel(p, k, w, 0.0);
    free(k);
  }
  convolve(p, y, n);
  for (size_t i = h; i + h < n; i++)
    out[i] = p->buf[i + h] * scale;
  for (size_t i = 0; i < h; i++) {
    out[i] = sm->tmp[i];
    out[n - h + i] = sm->tmp[h + i];
  }
  return CS_OK;
}

static cs_status apply_gauss(cs_smoother *sm, double delta, const double *y,
                             size_t n, double *out, cs_error *err) {
  double sp = sm->o.sigma / fabs(delta); /* sigma in pixels */
  double rr = floor(GAUSS_TRUNCATE * sp + 0.5);
  if (!(rr < (double)n))
    return csi_error(err, CS_ERR_ARG,
                     "gaussian sigma %g spans more than the spectrum (%zu "
                     "points, spacing %g)",
                     sm->o.sigma, n, fabs(delta));
  size_t r = (size_t)rr, w = 2 * r + 1, np = n + 2 * r;
  if (r == 0) {
    memmove(out, y, n * sizeof *y);
    return CS_OK;
  }
  if (ensure_tmp(sm, np))
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < np; i++)
    sm->tmp[i] = y[reflect((long)i - (long)r, n)];
  plan_set *p = get_plans(sm, good_len(np));
  if (!p)
    return csi_error(err, CS_ERR_NOMEM, "out of memory (fftw plan)");
  if (p->kkey != sp) {
    double *k = malloc(w * sizeof *k), sum = 0;
    if (!k)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    for (size_t j = 0; j < w; j++) {
      double u = ((double)j - (double)r) / sp;
      sum += k[j] = exp(-0.5 * u * u);
    }
    for (size_t j = 0; j < w; j++)
      k[j] /= sum; /* symmetric: no reversal needed */
    load_kernel(p, k, w, sp);
    free(k);
  }
  convolve(p, sm->tmp, np);
  for (size_t i = 0; i < n; i++)
    out[i] = p->buf[i + 2 * r];
  return CS_OK;
}

cs_status cs_smoother_apply(cs_smoother *sm, const double *x, const double *y,
                            size_t n, double *out, cs_error *err) {
  if (!sm || !y || !out || n == 0)
    return csi_error(err, CS_ERR_ARG, "smoothing needs a non-empty spectrum");
  if (n > CSI_MAX_POINTS)
    return csi_error(err, CS_ERR_ARG, "too many points (%zu)", n);
  double delta = 1.0;
  if (x && n > 1)
    delta = (x[n - 1] - x[0]) / (double)(n - 1);
  if (!(isfinite(delta) && delta != 0))
    return csi_error(err, CS_ERR_ARG, "x spacing is zero or not finite");
  cs_status st;
  switch (sm->o.method) {
  case CS_SMOOTH_SG:
    st = apply_sg(sm, delta, y, n, out, err);
    break;
  case CS_SMOOTH_GAUSS:
    st = apply_gauss(sm, delta, y, n, out, err);
    break;
  default:
    memmove(out, y, n * sizeof *y);
    return CS_OK;
  }
  /* finite values near 1e308 overflow in the weighted sums */
  for (size_t i = 0; i < n && !st; i++)
    if (!isfinite(out[i]))
      st = csi_error(err, CS_ERR_NUMERIC, "the value at point %zu is "
                     "not finite (data too large)", i);
  return st;
}
