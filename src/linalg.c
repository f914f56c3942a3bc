/* linalg.c: the only file that calls LAPACK (via LAPACKE).  Small wrappers
 * that turn LAPACK's info codes into cs_status and keep workspaces local, so
 * every function is reentrant.
 *
 * BLAS threads: calcspec's matrices are small (at most a few hundred
 * columns), and its own threads (--jobs) do the parallel work; OpenBLAS's
 * worker threads only spin and yield on them (on the 2-core VM classify
 * took twice the CPU time of OPENBLAS_NUM_THREADS=1, a third of it in the
 * kernel).  So the first LAPACK call sets OpenBLAS to one thread, unless
 * the user chose a number in OPENBLAS_NUM_THREADS (README "Performance").
 *
 * NaN checks: the hot paths (least squares of NNLS, the pseudo-inverse of
 * the polynomial baselines) go through the LAPACKE_*_work interface, which
 * skips LAPACKE's NaN scan of every input matrix; their inputs are finite
 * (readers and pipeline reject NaN/Inf, CS_ERR_NUMERIC is returned for
 * non-finite results) and LAPACK propagates a NaN rather than failing on
 * it.  Same routines, same workspace sizes: the same bits as LAPACKE's
 * high-level calls. */
#include "internal.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <lapacke.h>

/* OpenBLAS's own call; weak so that another BLAS links too (then nothing
 * is set). */
extern void openblas_set_num_threads(int) __attribute__((weak));

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_single_thread(void) {
  const char *v = getenv("OPENBLAS_NUM_THREADS");
  if (v && *v)
    return; /* the user's choice */
  if (openblas_set_num_threads)
    openblas_set_num_threads(1);
}

void csi_blas_init(void) { pthread_once(&blas_once, blas_single_thread); }

/* Workspace of a LAPACK call: the optimal size from its query, on the
 * stack when small (no malloc per NNLS step), else on the heap. */
#define WORK_STACK 1024
static double *work_get(double query, double *stack, lapack_int *lwork) {
  double q = query < 1 ? 1 : query;
  if (!(q <= (double)INT_MAX))
    return NULL;
  *lwork = (lapack_int)q;
  if ((size_t)*lwork <= WORK_STACK)
    return stack;
  return malloc((size_t)*lwork * sizeof(double));
}
static void work_put(double *w, double *stack) {
  if (w != stack)
    free(w);
}

cs_status csi_pb_solve(size_t n, int kd, double *ab, double *b,
                       cs_error *err) {
  if (n == 0 || n > INT_MAX || kd < 0 || (size_t)kd >= n)
    return csi_error(err, CS_ERR_DIM, "banded solve: bad size n=%zu kd=%d", n,
                     kd);
  csi_blas_init();
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

/* ---- kd = 2 with two elimination chains ----
 * Each LDL^T step waits for the previous pivot's division, so a single
 * chain leaves most of the core idle.  Here rows [0, m) are eliminated top
 * down and rows [m + 2, n) bottom up, interleaved in one loop, each towards
 * the 2-row separator S = {m, m+1} (bandwidth 2, so those two rows decouple
 * the halves).  What remains is the 2 x 2 Schur complement on S; then both
 * halves are back-substituted outwards, again interleaved.  This is block
 * Gaussian elimination of an SPD matrix in another order: stable without
 * pivoting, the same solution as dpbtrf/dpbtrs up to rounding.  (Four
 * chains, with spikes for the two inner blocks, measured slower here: the
 * extra state no longer fits in the registers.) */

/* Elimination state of a chain: the previous two rows' values. */
typedef struct chain {
  double *c, *bp; /* the next row's ab column and b entry */
  double inv1;    /* 1 / d(i-1) */
  double ee1, e1; /* e(i-1)^2, e(i-1) = L(i, i-1) d(i-1) */
  double l1p;     /* L(i, i-1) */
  double l2p;     /* L(i+1, i-1) */
  double l2pp;    /* L(i, i-2) */
  double qp, qpp; /* A(i+1, i-1)^2 / d(i-1), A(i, i-2)^2 / d(i-2) */
  double u1, u2;  /* forward-substituted b of rows i-1, i-2 */
} chain;

/* One LDL^T step of a chain walking in direction DIR (+1 down, -1 up):
 * d = A(i,i) - A(i,i-2)^2/d(i-2) - e(i-1)^2/d(i-1), with the division for
 * 1/d the only long-latency link between steps.  Stores (1/d, L(i+1,i),
 * L(i+2,i)) over the row's ab column, in chain order, and u over b. */
#define CHAIN_STEP(S, DIR, bad)                                                \
  do {                                                                         \
    double *c_ = (S).c;                                                        \
    double a1_ = c_[(DIR) > 0 ? 1 : -2], a2_ = c_[(DIR) > 0 ? 2 : -4];         \
    double d_ = (c_[0] - (S).qpp) - (S).ee1 * (S).inv1;                        \
    if (!(d_ > 0 && d_ <= DBL_MAX) && (bad) == NULL)                           \
      (bad) = c_;                                                              \
    double inv_ = 1.0 / d_;                                                    \
    double e_ = a1_ - (S).l2p * (S).e1;                                        \
    double l1_ = e_ * inv_, l2_ = a2_ * inv_;                                  \
    double u_ = *(S).bp - (S).l1p * (S).u1 - (S).l2pp * (S).u2;                \
    c_[0] = inv_;                                                              \
    c_[1] = l1_;                                                               \
    c_[2] = l2_;                                                               \
    *(S).bp = u_;                                                              \
    (S).qpp = (S).qp, (S).qp = a2_ * l2_;                                      \
    (S).inv1 = inv_, (S).ee1 = e_ * e_, (S).e1 = e_;                           \
    (S).l2pp = (S).l2p, (S).l2p = l2_, (S).l1p = l1_;                          \
    (S).u2 = (S).u1, (S).u1 = u_;                                              \
    (S).c += 3 * (DIR), (S).bp += (DIR);                                       \
  } while (0)

/* Back substitution of one row, the chain walked backwards: z(i) =
 * u(i)/d(i) - L(i+1,i) z(i+1) - L(i+2,i) z(i+2), z1/z2 = z(i+1), z(i+2). */
typedef struct bchain {
  const double *c;
  double *bp;
  double z1, z2;
} bchain;

#define CHAIN_BACK(B, DIR)                                                     \
  do {                                                                         \
    double z_ = *(B).bp * (B).c[0] - (B).c[1] * (B).z1 - (B).c[2] * (B).z2;     \
    *(B).bp = z_;                                                              \
    (B).z2 = (B).z1, (B).z1 = z_;                                              \
    (B).c -= 3 * (DIR), (B).bp -= (DIR);                                       \
  } while (0)

cs_status csi_penta_solve_split(size_t n, double *ab, double *b,
                                cs_error *err) {
  if (n < CSI_PENTA_SPLIT_MIN)
    return penta_solve(n, ab, b, err);
  /* top: rows [0, m), S = {m, m+1}, bottom: rows [m+2, n), m >= n - m - 2 */
  size_t m = (n - 1) / 2, mb = n - m - 2, s = m;
  chain t, u;
  memset(&t, 0, sizeof t);
  memset(&u, 0, sizeof u);
  t.c = ab, t.bp = b;
  u.c = ab + 3 * (n - 1), u.bp = b + (n - 1);
  double *bad = NULL;
  for (size_t i = 0; i < mb; i++) {
    CHAIN_STEP(t, 1, bad);
    CHAIN_STEP(u, -1, bad);
  }
  for (size_t i = mb; i < m; i++) /* at most one more row on top */
    CHAIN_STEP(t, 1, bad);
  if (bad)
    return csi_error(err, CS_ERR_NUMERIC,
                     "band factorisation: pivot %zu is not positive (system "
                     "not positive definite)",
                     (size_t)(bad - ab) / 3);
  /* Schur complement on S: A(S,S) - sum over the two rows next to S on each
   * side of d(k) L(S,k) L(S,k)^T, and the right-hand side likewise. */
  size_t ta = m - 2, tb = m - 1, ua = s + 3, ub = s + 2; /* ua, ub: bottom */
  double dta = 1.0 / ab[3 * ta], dtb = 1.0 / ab[3 * tb];
  double dua = 1.0 / ab[3 * ua], dub = 1.0 / ab[3 * ub];
  /* top: L(s, ta) = ab[3ta+2], L(s, tb) = ab[3tb+1], L(s+1, tb) = ab[3tb+2];
   * bottom (chain order reversed): L(s+1, ua) = ab[3ua+2], L(s+1, ub) =
   * ab[3ub+1], L(s, ub) = ab[3ub+2] */
  double t0a = ab[3 * ta + 2], t0b = ab[3 * tb + 1], t1b = ab[3 * tb + 2];
  double b1a = ab[3 * ua + 2], b1b = ab[3 * ub + 1], b0b = ab[3 * ub + 2];
  double m00 = ab[3 * s] - dta * t0a * t0a - dtb * t0b * t0b - dub * b0b * b0b;
  double m10 = ab[3 * s + 1] - dtb * t1b * t0b - dub * b1b * b0b;
  double m11 = ab[3 * s + 3] - dtb * t1b * t1b - dua * b1a * b1a -
               dub * b1b * b1b;
  double r0 = b[s] - t0a * b[ta] - t0b * b[tb] - b0b * b[ub];
  double r1 = b[s + 1] - t1b * b[tb] - b1a * b[ua] - b1b * b[ub];
  double det = m00 * m11 - m10 * m10;
  if (!(m00 > 0 && det > 0 && det <= DBL_MAX))
    return csi_error(err, CS_ERR_NUMERIC,
                     "band factorisation: separator block not positive "
                     "definite");
  /* 2 x 2 LDL^T solve of the separator block */
  double l = m10 / m00, d1 = m11 - l * m10;
  double x1 = (r1 - l * r0) / d1, x0 = (r0 - m10 * x1) / m00;
  b[s] = x0;
  b[s + 1] = x1;
  /* Back substitution outwards from S. */
  bchain bt = {ab + 3 * tb, b + tb, x0, x1};
  bchain bu = {ab + 3 * ub, b + ub, x1, x0};
  for (size_t i = mb; i < m; i++)
    CHAIN_BACK(bt, 1);
  for (size_t i = 0; i < mb; i++) {
    CHAIN_BACK(bt, 1);
    CHAIN_BACK(bu, -1);
  }
  return CS_OK;
}

size_t csi_cholesky(const double *g, size_t k, double rel, double *L) {
  double dmax = 0;
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j <= i; j++) {
      double s = g[i * k + j];
      for (size_t l = 0; l < j; l++)
        s -= L[i * k + l] * L[j * k + l];
      if (i > j) {
        L[i * k + j] = s / L[j * k + j];
        continue;
      }
      if (!(s > 0))
        return i + 1;
      L[i * k + i] = sqrt(s);
      dmax = L[i * k + i] > dmax ? L[i * k + i] : dmax;
    }
  for (size_t i = 0; i < k; i++)
    if (!(L[i * k + i] > rel * dmax))
      return i + 1;
  return 0;
}

void csi_cholesky_solve(const double *L, size_t k, double *b) {
  for (size_t i = 0; i < k; i++) { /* L y = b */
    double s = b[i];
    for (size_t l = 0; l < i; l++)
      s -= L[i * k + l] * b[l];
    b[i] = s / L[i * k + i];
  }
  for (size_t i = k; i-- > 0;) { /* L' x = y */
    double s = b[i];
    for (size_t l = i + 1; l < k; l++)
      s -= L[l * k + i] * b[l];
    b[i] = s / L[i * k + i];
  }
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
  csi_blas_init();
  lapack_int M = (lapack_int)m, K = (lapack_int)k, info, lwork;
  double wq = 0, wstack[WORK_STACK], *work;
  info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, M, K, qr, M, tau, &wq, -1);
  if (info == 0) {
    if (!(work = work_get(wq, wstack, &lwork))) {
      st = csi_error(err, CS_ERR_NOMEM, "out of memory for a %zu x %zu QR", m,
                     k);
      goto done;
    }
    info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, M, K, qr, M, tau, work,
                               lwork);
    work_put(work, wstack);
  }
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
  info = LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, M, K, K, qr, M, tau, &wq, -1);
  if (info == 0) {
    if (!(work = work_get(wq, wstack, &lwork))) {
      free(r);
      st = csi_error(err, CS_ERR_NOMEM, "out of memory for a %zu x %zu QR", m,
                     k);
      goto done;
    }
    info = LAPACKE_dorgqr_work(LAPACK_COL_MAJOR, M, K, K, qr, M, tau, work,
                               lwork);
    work_put(work, wstack);
  }
  if (info != 0) {
    free(r);
    st = csi_error(err, CS_ERR_NUMERIC, "dorgqr: info=%d", (int)info);
    goto done;
  }
  /* pinv = R^-1 Q^T: solve R X = Q^T (k x m). */
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < k; j++)
      qt[j + i * k] = qr[i + j * m];
  info = LAPACKE_dtrtrs_work(LAPACK_COL_MAJOR, 'U', 'N', 'N', K, M, r, K, qt,
                             K);
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
 * (LDA), least squares ---- */

cs_status csi_svd_thin(size_t m, size_t n, double *a, double *s, double *vt,
                       cs_error *err) {
  if (m == 0 || n == 0 || m > INT_MAX || n > INT_MAX)
    return csi_error(err, CS_ERR_DIM, "svd: bad size %zu x %zu", m, n);
  csi_blas_init();
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
  csi_blas_init();
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

/* dgels for m >= n and one right-hand side is: the max-abs norms of A and
 * b (dlange, which calls a NaN test per element), a rescaling only when a
 * norm lies outside [2^-970, 2^970] (or A is zero), then dgeqrf, dormqr
 * (Q^T b) and dtrtrs.  When both norms are well inside that range, the
 * three calls below are what dgels would make; with n <= 16 columns both
 * factorisations take their unblocked paths (LAPACK's block size is 32), so
 * the workspace size does not matter either: the same bits without the
 * norm scans.  Anything else goes to dgels itself. */
#define LSTSQ_DIRECT_MAX 16
static int in_plain_range(const double *v, size_t n, int zero_ok) {
  double mx = 0;
  for (size_t i = 0; i < n; i++) {
    double t = fabs(v[i]);
    if (!(t <= 1e200)) /* also NaN */
      return 0;
    mx = t > mx ? t : mx;
  }
  return mx >= 1e-200 || (zero_ok && mx == 0);
}

static cs_status lstsq_qr(lapack_int M, lapack_int N, double *a, double *b,
                          cs_error *err) {
  double tau[LSTSQ_DIRECT_MAX], wstack[WORK_STACK], wq = 0, *work;
  lapack_int lwork;
  lapack_int info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, M, N, a, M, tau,
                                        &wq, -1);
  if (info == 0) {
    if (!(work = work_get(wq, wstack, &lwork)))
      return csi_error(err, CS_ERR_NOMEM, "lstsq: out of memory");
    info = LAPACKE_dgeqrf_work(LAPACK_COL_MAJOR, M, N, a, M, tau, work, lwork);
    work_put(work, wstack);
  }
  if (info == 0)
    info = LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'L', 'T', M, 1, N, a, M, tau,
                               b, M, &wq, -1);
  if (info == 0) {
    if (!(work = work_get(wq, wstack, &lwork)))
      return csi_error(err, CS_ERR_NOMEM, "lstsq: out of memory");
    info = LAPACKE_dormqr_work(LAPACK_COL_MAJOR, 'L', 'T', M, 1, N, a, M, tau,
                               b, M, work, lwork);
    work_put(work, wstack);
  }
  if (info == 0)
    info = LAPACKE_dtrtrs_work(LAPACK_COL_MAJOR, 'U', 'N', 'N', N, 1, a, M, b,
                               M);
  if (info < 0)
    return csi_error(err, CS_ERR_NOMEM, "dgels: info=%d", (int)info);
  if (info > 0)
    return csi_error(err, CS_ERR_NUMERIC, "dgels: info=%d (rank deficient)",
                     (int)info);
  return CS_OK;
}

cs_status csi_lstsq(size_t m, size_t n, double *a, double *b, cs_error *err) {
  if (m == 0 || n == 0 || m < n || m > INT_MAX)
    return csi_error(err, CS_ERR_DIM, "lstsq: bad size %zu x %zu", m, n);
  csi_blas_init();
  lapack_int M = (lapack_int)m, N = (lapack_int)n, lwork;
  double wq = 0, wstack[WORK_STACK], *work;
  lapack_int info;
  if (n <= LSTSQ_DIRECT_MAX && in_plain_range(a, m * n, 0) &&
      in_plain_range(b, m, 1))
    return lstsq_qr(M, N, a, b, err);
  info = LAPACKE_dgels_work(LAPACK_COL_MAJOR, 'N', M, N, 1, a, M, b, M, &wq,
                            -1);
  if (info == 0) {
    if (!(work = work_get(wq, wstack, &lwork)))
      return csi_error(err, CS_ERR_NOMEM, "lstsq: out of memory");
    info = LAPACKE_dgels_work(LAPACK_COL_MAJOR, 'N', M, N, 1, a, M, b, M, work,
                              lwork);
    work_put(work, wstack);
  }
  if (info < 0)
    return csi_error(err, CS_ERR_NOMEM, "dgels: info=%d", (int)info);
  if (info > 0)
    return csi_error(err, CS_ERR_NUMERIC, "dgels: info=%d (rank deficient)",
                     (int)info);
  return CS_OK;
}
