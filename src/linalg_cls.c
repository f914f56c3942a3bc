/* (merged into linalg.c) LAPACK wrappers for the classifier: thin SVD
 * (dgesdd), the symmetric-definite generalised eigenproblem (dsygvd) and
 * linear least squares (dgels). */
#include "internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

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
