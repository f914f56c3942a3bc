/* pca.c: principal components of the preprocessed training matrix by thin
 * SVD (dgesdd through linalg.c), and projection with Hotelling T^2 and the Q
 * residual used to reject spectra unlike the training set. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

cs_status csi_pca_fit(const double *x, size_t n, size_t p, size_t k_req,
                      double evr, size_t k_max, csi_pca *out, cs_error *err) {
  memset(out, 0, sizeof *out);
  if (n < 2 || p < 2)
    return csi_error(err, CS_ERR_DIM, "pca: need at least 2 spectra of 2 points");
  size_t r = n < p ? n : p;
  double *a = malloc(n * p * sizeof *a), *s = malloc(r * sizeof *s);
  double *vt = malloc(r * p * sizeof *vt);
  out->mean = calloc(p, sizeof *out->mean);
  if (!a || !s || !vt || !out->mean) {
    free(a), free(s), free(vt), free(out->mean);
    out->mean = NULL;
    return csi_error(err, CS_ERR_NOMEM, "pca: out of memory");
  }
  for (size_t j = 0; j < p; j++) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
      m += x[j * n + i];
    m /= (double)n;
    out->mean[j] = m;
    for (size_t i = 0; i < n; i++)
      a[j * n + i] = x[j * n + i] - m;
  }
  cs_status st = csi_svd_thin(n, p, a, s, vt, err);
  free(a);
  if (st) {
    free(s), free(vt), free(out->mean);
    out->mean = NULL;
    return st;
  }
  double total = 0;
  for (size_t i = 0; i < r; i++)
    total += s[i] * s[i];
  /* Components beyond numerical rank carry no variance: never keep them. */
  size_t rank = 0;
  while (rank < r && rank < n - 1 && s[rank] > s[0] * 1e-10)
    rank++;
  size_t k = k_req;
  if (k == 0) {
    double cum = 0;
    while (k < rank && (k == 0 || cum < evr * total))
      cum += s[k] * s[k], k++;
  }
  if (k > rank)
    k = rank;
  if (k_max && k > k_max)
    k = k_max;
  if (k == 0) {
    free(s), free(vt), free(out->mean);
    out->mean = NULL;
    return csi_error(err, CS_ERR_NUMERIC,
                     "pca: training spectra do not vary (rank 0)");
  }
  out->loadings = malloc(p * k * sizeof *out->loadings);
  out->eigval = malloc(k * sizeof *out->eigval);
  if (!out->loadings || !out->eigval) {
    free(s), free(vt);
    csi_pca_free(out);
    return csi_error(err, CS_ERR_NOMEM, "pca: out of memory");
  }
  double kept = 0;
  for (size_t c = 0; c < k; c++) {
    out->eigval[c] = s[c] * s[c] / (double)(n - 1);
    kept += s[c] * s[c];
    for (size_t j = 0; j < p; j++) /* row c of VT = loading c */
      out->loadings[c * p + j] = vt[j * r + c];
  }
  out->explained = total > 0 ? kept / total : 0;
  out->p = p;
  out->k = k;
  free(s), free(vt);
  return CS_OK;
}

void csi_pca_project(const csi_pca *m, const double *x, double *t, double *t2,
                     double *q) {
  double ss = 0, st = 0, h = 0;
  for (size_t j = 0; j < m->p; j++) {
    double d = x[j] - m->mean[j];
    ss += d * d;
  }
  /* scores eight (then four, two) components per pass, each summed in point
   * order (the same bits as one at a time; the dependency chains overlap) */
  size_t c = 0, p = m->p;
  for (; c + 8 <= m->k; c += 8) {
    const double *l0 = m->loadings + c * p;
    double v0 = 0, v1 = 0, v2 = 0, v3 = 0, v4 = 0, v5 = 0, v6 = 0, v7 = 0;
    for (size_t j = 0; j < p; j++) {
      double d = x[j] - m->mean[j];
      const double *l = l0 + j;
      v0 += d * l[0], v1 += d * l[p], v2 += d * l[2 * p], v3 += d * l[3 * p];
      v4 += d * l[4 * p], v5 += d * l[5 * p], v6 += d * l[6 * p];
      v7 += d * l[7 * p];
    }
    t[c] = v0, t[c + 1] = v1, t[c + 2] = v2, t[c + 3] = v3;
    t[c + 4] = v4, t[c + 5] = v5, t[c + 6] = v6, t[c + 7] = v7;
  }
  for (; c + 4 <= m->k; c += 4) {
    const double *l0 = m->loadings + c * p, *l1 = l0 + p, *l2 = l1 + p,
                 *l3 = l2 + p;
    double v0 = 0, v1 = 0, v2 = 0, v3 = 0;
    for (size_t j = 0; j < p; j++) {
      double d = x[j] - m->mean[j];
      v0 += d * l0[j], v1 += d * l1[j], v2 += d * l2[j], v3 += d * l3[j];
    }
    t[c] = v0, t[c + 1] = v1, t[c + 2] = v2, t[c + 3] = v3;
  }
  for (; c + 2 <= m->k; c += 2) {
    const double *l0 = m->loadings + c * p, *l1 = l0 + p;
    double v0 = 0, v1 = 0;
    for (size_t j = 0; j < p; j++) {
      double d = x[j] - m->mean[j];
      v0 += d * l0[j], v1 += d * l1[j];
    }
    t[c] = v0, t[c + 1] = v1;
  }
  for (; c < m->k; c++) {
    const double *l = m->loadings + c * p;
    double v = 0;
    for (size_t j = 0; j < p; j++)
      v += (x[j] - m->mean[j]) * l[j];
    t[c] = v;
  }
  for (c = 0; c < m->k; c++) {
    double v = t[c];
    st += v * v;
    h += v * v / m->eigval[c];
  }
  if (t2)
    *t2 = h;
  if (q) /* loadings are orthonormal: residual = |x-mean|^2 - |t|^2 */
    *q = ss - st > 0 ? ss - st : 0;
}

void csi_pca_free(csi_pca *m) {
  free(m->mean);
  free(m->loadings);
  free(m->eigval);
  memset(m, 0, sizeof *m);
}
