/* linalg.c: the only file that calls LAPACK (via LAPACKE).  Small wrappers
 * that turn LAPACK's info codes into cs_status and keep workspaces local, so
 * every function is reentrant. */
#include "internal.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

cs_status csi_pb_solve(size_t n, int kd, double *ab, double *b,
                       cs_error *err) {
  if (n == 0 || n > INT_MAX || kd < 0 || (size_t)kd >= n)
    return csi_error(err, CS_ERR_DIM, "banded solve: bad size n=%zu kd=%d", n,
                     kd);
  lapack_int N = (lapack_int)n, KD = kd, info;
  info = LAPACKE_dpbtrf_work(LAPACK_COL_MAJOR, 'L', N, KD, ab, KD + 1);
  if (info != 0)
    return csi_error(err, CS_ERR_NUMERIC,
                     "dpbtrf: info=%d (system not positive definite)",
                     (int)info);
  info = LAPACKE_dpbtrs_work(LAPACK_COL_MAJOR, 'L', N, KD, 1, ab, KD + 1, b,
                             N);
  if (info != 0)
    return csi_error(err, CS_ERR_NUMERIC, "dpbtrs: info=%d", (int)info);
  return CS_OK;
}

/* kd = 2 (second-order Whittaker): an LDL^T band factorisation written
 * out: one division per row and none in the two triangular solves, which
 * keeps the loop-carried dependency chains short.  ab ends up holding
 * (1/D(j), L(j+1,j), L(j+2,j)) per column. */
static cs_status penta_solve(size_t n, double *ab, double *b, cs_error *err) {
  /* from the previous columns: D(j-1), D(j-2), L(j,j-1), L(j,j-2),
   * L(j+1,j-1) */
  double d1 = 0, d2 = 0, l1p = 0, l2pp = 0, l2p = 0;
  for (size_t j = 0; j < n; j++) {
    double *c = ab + 3 * j;
    double d = c[0] - l1p * l1p * d1 - l2pp * l2pp * d2;
    if (!(d > 0) || !isfinite(d))
      return csi_error(err, CS_ERR_NUMERIC,
                       "band factorisation: pivot %zu is %g (system not "
                       "positive definite)",
                       j, d);
    double inv = 1.0 / d;
    /* entries past the matrix's end are not referenced (LAPACK rule) */
    double l1 = j + 1 < n ? (c[1] - l2p * l1p * d1) * inv : 0;
    double l2 = j + 2 < n ? c[2] * inv : 0;
    c[0] = inv;
    c[1] = l1;
    c[2] = l2;
    d2 = d1;
    d1 = d;
    l2pp = l2p;
    l1p = l1;
    l2p = l2;
  }
  /* L u = b (unit diagonal) */
  double u1 = 0, u2 = 0; /* u[j-1], u[j-2] */
  double a1 = 0, a2 = 0; /* L(j,j-1), L(j,j-2) */
  for (size_t j = 0; j < n; j++) {
    const double *c = ab + 3 * j;
    double u = b[j] - a1 * u1 - a2 * u2;
    b[j] = u;
    u2 = u1;
    u1 = u;
    a2 = j >= 1 ? ab[3 * (j - 1) + 2] : 0; /* L(j+1,j-1) */
    a1 = c[1];                             /* L(j+1,j) */
  }
  /* L^T x = D^-1 u */
  double x1 = 0, x2 = 0; /* x[j+1], x[j+2] */
  for (size_t j = n; j-- > 0;) {
    const double *c = ab + 3 * j;
    double x = b[j] * c[0] - c[1] * x1 - c[2] * x2;
    b[j] = x;
    x2 = x1;
    x1 = x;
  }
  return CS_OK;
}

/* Band Cholesky without LAPACK's per-column BLAS calls: for the tiny
 * bandwidths of Whittaker systems (kd <= 3) dpbtf2 spends most of its time in
 * call overhead.  Same storage and result as csi_pb_solve (the tests compare
 * the two). */
cs_status csi_pb_solve_small(size_t n, int kd, double *ab, double *b,
                             cs_error *err) {
  if (n == 0 || kd < 0 || kd > 3 || (size_t)kd >= n)
    return csi_error(err, CS_ERR_DIM, "banded solve: bad size n=%zu kd=%d", n,
                     kd);
  if (kd == 2)
    return penta_solve(n, ab, b, err);
  size_t ld = (size_t)kd + 1;
  /* Left-looking factorisation: column j of L from the kd previous ones. */
  for (size_t j = 0; j < n; j++) {
    double *cj = ab + j * ld;
    size_t k0 = j > (size_t)kd ? j - (size_t)kd : 0;
    for (size_t k = k0; k < j; k++) {
      const double *ck = ab + k * ld; /* ck[i-k] = L(i,k) */
      double ljk = ck[j - k];
      size_t iend = k + (size_t)kd; /* last row stored in column k */
      if (iend > n - 1)
        iend = n - 1;
      for (size_t i = j; i <= iend; i++)
        cj[i - j] -= ck[i - k] * ljk;
    }
    double d = cj[0];
    if (!(d > 0) || !isfinite(d))
      return csi_error(err, CS_ERR_NUMERIC,
                       "band cholesky: pivot %zu is %g (system not positive "
                       "definite)",
                       j, d);
    d = sqrt(d);
    cj[0] = d;
    size_t m = n - 1 - j < (size_t)kd ? n - 1 - j : (size_t)kd;
    for (size_t i = 1; i <= m; i++)
      cj[i] /= d;
  }
  /* L z = b */
  for (size_t j = 0; j < n; j++) {
    const double *cj = ab + j * ld;
    b[j] /= cj[0];
    size_t m = n - 1 - j < (size_t)kd ? n - 1 - j : (size_t)kd;
    for (size_t i = 1; i <= m; i++)
      b[j + i] -= cj[i] * b[j];
  }
  /* L^T x = z */
  for (size_t j = n; j-- > 0;) {
    const double *cj = ab + j * ld;
    size_t m = n - 1 - j < (size_t)kd ? n - 1 - j : (size_t)kd;
    double s = b[j];
    for (size_t i = 1; i <= m; i++)
      s -= cj[i] * b[j + i];
    b[j] = s / cj[0];
  }
  return CS_OK;
}

cs_status csi_pinv_full_rank(const double *a, size_t m, size_t k,
                             double *pinv, cs_error *err) {
  if (k == 0 || m < k || m > INT_MAX)
    return csi_error(err, CS_ERR_DIM,
                     "least squares: %zu rows for %zu unknowns", m, k);
  double *qr = malloc(m * k * sizeof *qr);
  double *tau = malloc(k * sizeof *tau);
  double *qt = malloc(k * m * sizeof *qt);
  cs_status st = CS_OK;
  if (!qr || !tau || !qt) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory for a %zu x %zu QR", m, k);
    goto done;
  }
  memcpy(qr, a, m * k * sizeof *qr);
  lapack_int M = (lapack_int)m, K = (lapack_int)k, info;
  info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, M, K, qr, M, tau);
  if (info != 0) {
    st = csi_error(err, info < 0 ? CS_ERR_ARG : CS_ERR_NUMERIC,
                   "dgeqrf: info=%d", (int)info);
    goto done;
  }
  /* Rank check on R's diagonal, like a pseudo-inverse cut-off. */
  double rmax = 0;
  for (size_t j = 0; j < k; j++)
    rmax = fmax(rmax, fabs(qr[j + j * m]));
  for (size_t j = 0; j < k; j++)
    if (!(fabs(qr[j + j * m]) > rmax * (double)m * DBL_EPSILON)) {
      st = csi_error(err, CS_ERR_NUMERIC,
                     "least squares: design matrix is rank deficient "
                     "(column %zu of %zu)",
                     j + 1, k);
      goto done;
    }
  /* Keep R before dorgqr overwrites it with Q. */
  double *r = calloc(k * k, sizeof *r);
  if (!r) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory for a %zu x %zu QR", m, k);
    goto done;
  }
  for (size_t j = 0; j < k; j++)
    for (size_t i = 0; i <= j; i++)
      r[i + j * k] = qr[i + j * m];
  info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, M, K, K, qr, M, tau);
  if (info != 0) {
    free(r);
    st = csi_error(err, CS_ERR_NUMERIC, "dorgqr: info=%d", (int)info);
    goto done;
  }
  /* pinv = R^-1 Q^T: solve R X = Q^T (k x m). */
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < k; j++)
      qt[j + i * k] = qr[i + j * m];
  info = LAPACKE_dtrtrs(LAPACK_COL_MAJOR, 'U', 'N', 'N', K, M, r, K, qt, K);
  free(r);
  if (info != 0) {
    st = csi_error(err, CS_ERR_NUMERIC, "dtrtrs: info=%d", (int)info);
    goto done;
  }
  memcpy(pinv, qt, k * m * sizeof *pinv);
done:
  free(qr);
  free(tau);
  free(qt);
  return st;
}

/* ---- classifier: thin SVD (PCA), generalised symmetric eigenproblem
 * (LDA), least squares (NNLS sub-problems) ---- */

cs_status csi_svd_thin(size_t m, size_t n, double *a, double *s, double *vt,
                       cs_error *err) {
  if (m == 0 || n == 0 || m > INT_MAX || n > INT_MAX)
    return csi_error(err, CS_ERR_DIM, "svd: bad size %zu x %zu", m, n);
  size_t k = m < n ? m : n;
  double *u = malloc(m * k * sizeof *u);
  if (!u)
    return csi_error(err, CS_ERR_NOMEM, "svd: out of memory (%zu x %zu)", m, k);
  lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', (lapack_int)m,
                                   (lapack_int)n, a, (lapack_int)m, s, u,
                                   (lapack_int)m, vt, (lapack_int)k);
  free(u);
  if (info < 0)
    return csi_error(err, CS_ERR_NOMEM, "dgesdd: info=%d (workspace)", (int)info);
  if (info > 0)
    return csi_error(err, CS_ERR_NUMERIC, "dgesdd: info=%d (no convergence)",
                     (int)info);
  return CS_OK;
}

cs_status csi_sygv(size_t n, double *a, double *b, double *w, cs_error *err) {
  if (n == 0 || n > INT_MAX)
    return csi_error(err, CS_ERR_DIM, "sygv: bad size %zu", n);
  lapack_int info = LAPACKE_dsygvd(LAPACK_COL_MAJOR, 1, 'V', 'L', (lapack_int)n,
                                   a, (lapack_int)n, b, (lapack_int)n, w);
  if (info < 0)
    return csi_error(err, CS_ERR_NOMEM, "dsygvd: info=%d", (int)info);
  if (info > 0)
    return csi_error(err, CS_ERR_NUMERIC,
                     "dsygvd: info=%d (within-class covariance not positive "
                     "definite)", (int)info);
  return CS_OK;
}

cs_status csi_lstsq(size_t m, size_t n, double *a, double *b, cs_error *err) {
  if (m == 0 || n == 0 || m < n || m > INT_MAX)
    return csi_error(err, CS_ERR_DIM, "lstsq: bad size %zu x %zu", m, n);
  lapack_int info = LAPACKE_dgels(LAPACK_COL_MAJOR, 'N', (lapack_int)m,
                                  (lapack_int)n, 1, a, (lapack_int)m, b,
                                  (lapack_int)m);
  if (info < 0)
    return csi_error(err, CS_ERR_NOMEM, "dgels: info=%d", (int)info);
  if (info > 0)
    return csi_error(err, CS_ERR_NUMERIC, "dgels: info=%d (rank deficient)",
                     (int)info);
  return CS_OK;
}
