/* nnls.c: non-negative least squares, min |A x - b| subject to x >= 0, by
 * the active-set method of Lawson & Hanson (1974, "Solving Least Squares
 * Problems", ch. 23), on the normal equations: the gradient A'(b - A x) is
 * c - G x with c = A'b and G = A'A, and each sub-problem on the passive
 * set P is G_PP z = c_P, solved by Cholesky (by QR of A's columns when
 * they are nearly dependent).  A classifier's references
 * are few (n <= CS_MAX_CLASSES) and fixed, so G is made once per model
 * (csi_nnls_gram) and a spectrum costs n dot products of its m points;
 * the QR of the m x |P| columns per sub-problem that this replaced (dgels)
 * was most of the time.  G squares A's condition number, which for a few
 * class-mean spectra leaves the fractions within 1e-9 of the QR solution
 * (test_classifier_math); the residual norm is summed from the residual
 * itself, not from G. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void csi_nnls_gram(const double *a, size_t m, size_t n, double *g) {
  for (size_t j = 0; j < n; j++)
    for (size_t k = 0; k <= j; k++) {
      const double *aj = a + j * m, *ak = a + k * m;
      double s = 0;
      for (size_t i = 0; i < m; i++)
        s += aj[i] * ak[i];
      g[j * n + k] = g[k * n + j] = s;
    }
}

/* G_PP z_P = c_P by Cholesky (L: n x n scratch); z is 0 off P.  -1 when
 * G_PP is not positive definite (the columns in P are dependent). */
static int solve_passive(const double *g, const double *c, size_t n,
                         const unsigned char *passive, double *z, double *L) {
  size_t idx[CS_MAX_CLASSES], np = 0;
  double y[CS_MAX_CLASSES];
  for (size_t j = 0; j < n; j++)
    if (passive[j])
      idx[np++] = j;
  for (size_t i = 0; i < np; i++) {
    y[i] = c[idx[i]];
    for (size_t l = 0; l < np; l++)
      L[i * np + l] = g[idx[i] * n + idx[l]];
  }
  /* a pivot under 1e-6 of the largest: A_P's condition number is past
   * ~1e6, where G squares away too many digits; QR then */
  if (csi_cholesky(L, np, 1e-6, L))
    return -1;
  csi_cholesky_solve(L, np, y);
  memset(z, 0, n * sizeof *z);
  for (size_t i = 0; i < np; i++)
    z[idx[i]] = y[i];
  return 0;
}

/* The same sub-problem by QR of A's columns in P (csi_lstsq), for nearly
 * dependent references. */
static cs_status solve_passive_qr(const double *a, size_t m, size_t n,
                                  const double *b,
                                  const unsigned char *passive, double *z,
                                  cs_error *err) {
  size_t np = 0;
  for (size_t j = 0; j < n; j++)
    np += passive[j];
  double *work = malloc((np + 1) * m * sizeof *work), *rhs = work + np * m;
  if (!work)
    return csi_error(err, CS_ERR_NOMEM, "nnls: out of memory");
  for (size_t j = 0, q = 0; j < n; j++)
    if (passive[j])
      memcpy(work + (q++) * m, a + j * m, m * sizeof *work);
  memcpy(rhs, b, m * sizeof *rhs);
  cs_status st = csi_lstsq(m, np, work, rhs, err);
  for (size_t j = 0, q = 0; j < n && !st; j++)
    z[j] = passive[j] ? rhs[q++] : 0.0;
  free(work);
  return st;
}

cs_status csi_nnls(const double *a, const double *gram, size_t m, size_t n,
                   const double *b, double *x, double *rnorm, cs_error *err) {
  if (m < n || n == 0)
    return csi_error(err, CS_ERR_DIM, "nnls: %zu equations for %zu unknowns", m, n);
  if (n > CS_MAX_CLASSES)
    return csi_error(err, CS_ERR_DIM, "nnls: %zu unknowns, at most %d", n,
                     CS_MAX_CLASSES);
  double gbuf[CS_MAX_CLASSES * CS_MAX_CLASSES], L[CS_MAX_CLASSES * CS_MAX_CLASSES];
  double c[CS_MAX_CLASSES], z[CS_MAX_CLASSES];
  unsigned char passive[CS_MAX_CLASSES] = {0};
  if (!gram) {
    csi_nnls_gram(a, m, n, gbuf);
    gram = gbuf;
  }
  memset(x, 0, n * sizeof *x);
  /* c = A'b, four columns side by side so that their chains of additions
   * overlap; and the largest |a| (a NaN loses, as in fmax) */
  double anorm = 0;
  size_t j4 = 0;
  for (; j4 + 4 <= n; j4 += 4) {
    const double *a0 = a + j4 * m, *a1 = a0 + m, *a2 = a1 + m, *a3 = a2 + m;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < m; i++) {
      double bi = b[i];
      s0 += a0[i] * bi, s1 += a1[i] * bi, s2 += a2[i] * bi, s3 += a3[i] * bi;
    }
    c[j4] = s0, c[j4 + 1] = s1, c[j4 + 2] = s2, c[j4 + 3] = s3;
  }
  for (; j4 < n; j4++) {
    const double *aj = a + j4 * m;
    double sj = 0;
    for (size_t i = 0; i < m; i++)
      sj += aj[i] * b[i];
    c[j4] = sj;
  }
  double an[4] = {0, 0, 0, 0}; /* four running maxima: no single chain */
  size_t mn = m * n, k4 = 0;
  for (; k4 + 4 <= mn; k4 += 4)
    for (int l = 0; l < 4; l++) {
      double t = fabs(a[k4 + (size_t)l]);
      an[l] = an[l] > t || isnan(t) ? an[l] : t;
    }
  for (; k4 < mn; k4++) {
    double t = fabs(a[k4]);
    an[0] = an[0] > t || isnan(t) ? an[0] : t;
  }
  for (int l = 0; l < 4; l++)
    anorm = anorm > an[l] ? anorm : an[l];
  double tol = 10 * 2.2e-16 * anorm * (double)(m > n ? m : n);
  for (size_t outer = 0; outer < 3 * n + 10; outer++) {
    size_t jmax = n;
    double wmax = tol;
    for (size_t j = 0; j < n; j++) { /* gradient c - G x */
      double v = c[j];
      for (size_t k = 0; k < n; k++)
        v -= gram[j * n + k] * x[k];
      if (!passive[j] && v > wmax)
        wmax = v, jmax = j;
    }
    if (jmax == n)
      break; /* Kuhn-Tucker conditions hold */
    passive[jmax] = 1;
    for (size_t inner = 0; inner < 3 * n + 10; inner++) {
      cs_status st;
      if (solve_passive(gram, c, n, passive, z, L) &&
          (st = solve_passive_qr(a, m, n, b, passive, z, err)))
        return st;
      int feasible = 1;
      for (size_t j = 0; j < n; j++)
        if (passive[j] && z[j] <= 0)
          feasible = 0;
      if (feasible)
        break;
      double alpha = 1; /* step back to the first variable hitting zero */
      for (size_t j = 0; j < n; j++)
        if (passive[j] && z[j] <= 0 && x[j] - z[j] > 0)
          alpha = fmin(alpha, x[j] / (x[j] - z[j]));
      for (size_t j = 0; j < n; j++) {
        x[j] += alpha * (z[j] - x[j]);
        if (passive[j] && fabs(x[j]) <= tol)
          passive[j] = 0, x[j] = 0;
      }
    }
    for (size_t j = 0; j < n; j++)
      x[j] = passive[j] ? z[j] : 0.0;
  }
  if (rnorm) {
    double s = 0;
    for (size_t i = 0; i < m; i++) {
      double v = b[i];
      for (size_t j = 0; j < n; j++)
        v -= a[j * m + i] * x[j];
      s += v * v;
    }
    *rnorm = sqrt(s);
  }
  return CS_OK;
}
