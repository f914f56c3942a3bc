/* nnls.c: non-negative least squares, min |A x - b| subject to x >= 0, by
 * the active-set method of Lawson & Hanson (1974, "Solving Least Squares
 * Problems", ch. 23); the unconstrained sub-problems on the passive set are
 * solved by QR (dgels via linalg.c). */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Least squares on the columns flagged in `passive`: z gets the solution
 * (0 elsewhere). */
static cs_status solve_passive(const double *a, size_t m, size_t n,
                               const double *b, const unsigned char *passive,
                               double *z, double *work, double *rhs,
                               cs_error *err) {
  size_t np = 0;
  for (size_t j = 0; j < n; j++)
    if (passive[j])
      memcpy(work + (np++) * m, a + j * m, m * sizeof *work);
  memcpy(rhs, b, m * sizeof *rhs);
  cs_status st = csi_lstsq(m, np, work, rhs, err);
  if (st)
    return st;
  for (size_t j = 0, q = 0; j < n; j++)
    z[j] = passive[j] ? rhs[q++] : 0.0;
  return CS_OK;
}

cs_status csi_nnls(const double *a, size_t m, size_t n, const double *b,
                   double *x, double *rnorm, cs_error *err) {
  if (m < n || n == 0)
    return csi_error(err, CS_ERR_DIM, "nnls: %zu equations for %zu unknowns", m, n);
  unsigned char *passive = calloc(n, 1);
  double *w = malloc(n * sizeof *w), *z = malloc(n * sizeof *z);
  double *r = malloc(m * sizeof *r), *work = malloc(m * n * sizeof *work);
  double *rhs = malloc(m * sizeof *rhs);
  cs_status st = CS_OK;
  if (!passive || !w || !z || !r || !work || !rhs) {
    st = csi_error(err, CS_ERR_NOMEM, "nnls: out of memory");
    goto done;
  }
  memset(x, 0, n * sizeof *x);
  /* the largest |a| (a NaN loses, as in fmax), in four running maxima:
   * one chain of compares was the slowest loop here; the maximum of a set
   * does not depend on the order */
  double an[4] = {0, 0, 0, 0};
  size_t mn = m * n, i4 = 0;
  for (; i4 + 4 <= mn; i4 += 4)
    for (int l = 0; l < 4; l++) {
      double t = fabs(a[i4 + (size_t)l]);
      an[l] = an[l] > t || isnan(t) ? an[l] : t;
    }
  for (; i4 < mn; i4++) {
    double t = fabs(a[i4]);
    an[0] = an[0] > t || isnan(t) ? an[0] : t;
  }
  double anorm = an[0];
  for (int l = 1; l < 4; l++)
    anorm = anorm > an[l] ? anorm : an[l];
  double tol = 10 * 2.2e-16 * anorm * (double)(m > n ? m : n);
  for (size_t outer = 0; outer < 3 * n + 10; outer++) {
    for (size_t i = 0; i < m; i++) { /* r = b - A x */
      double v = b[i];
      for (size_t j = 0; j < n; j++)
        v -= a[j * m + i] * x[j];
      r[i] = v;
    }
    size_t jmax = n;
    double wmax = tol;
    /* gradient w = A' r: each w[j] summed over i in order, four columns
     * side by side in registers so that their dependency chains overlap
     * (w[] in memory chained every add through a store and a load) */
    size_t j4 = 0;
    for (; j4 + 4 <= n; j4 += 4) {
      const double *a0 = a + j4 * m, *a1 = a0 + m, *a2 = a1 + m, *a3 = a2 + m;
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (size_t i = 0; i < m; i++) {
        double ri = r[i];
        s0 += a0[i] * ri, s1 += a1[i] * ri, s2 += a2[i] * ri, s3 += a3[i] * ri;
      }
      w[j4] = s0, w[j4 + 1] = s1, w[j4 + 2] = s2, w[j4 + 3] = s3;
    }
    for (; j4 < n; j4++) {
      const double *aj = a + j4 * m;
      double sj = 0;
      for (size_t i = 0; i < m; i++)
        sj += aj[i] * r[i];
      w[j4] = sj;
    }
    for (size_t j = 0; j < n; j++)
      if (!passive[j] && w[j] > wmax)
        wmax = w[j], jmax = j;
    if (jmax == n)
      break; /* Kuhn-Tucker conditions hold */
    passive[jmax] = 1;
    for (size_t inner = 0; inner < 3 * n + 10; inner++) {
      st = solve_passive(a, m, n, b, passive, z, work, rhs, err);
      if (st)
        goto done;
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
done:
  free(passive), free(w), free(z), free(r), free(work), free(rhs);
  return st;
}
