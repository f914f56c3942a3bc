/* linalg.c: the only file that calls LAPACK (via LAPACKE).  Small wrappers
 * that turn LAPACK's info codes into cs_status and keep workspaces local, so
 * every function is reentrant. */
#include "internal.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
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

/* ---- kd = 2 with independent elimination chains ----
 * Each LDL^T step waits for the previous pivot's division, so one chain
 * leaves most of the core idle.  Split the rows into NLANE blocks separated
 * by 2-row separators (bandwidth 2, so two rows decouple the blocks);
 * blocks 0, 2, .. are eliminated top down, 1, 3, .. bottom up, all in one
 * interleaved loop, each towards the separator it shares with its partner
 * (E).  A block that also touches a separator where it starts (T) carries
 * the two "spike" columns L^-1 A(B,T).  What is left is the Schur
 * complement on the separators (2 (NLANE - 1) unknowns, SPD), solved
 * densely; then every block is back-substituted, again interleaved.  This
 * is block Gaussian elimination of an SPD matrix in another order: stable
 * without pivoting, same solution as dpbtrf/dpbtrs up to rounding. */
#define NLANE 4 /* the loops below spell out four lanes */
#define NSEP (NLANE - 1)
#define NRED (2 * NSEP)

typedef struct lane {
  size_t g0, m;   /* first row in elimination order, rows in the block */
  ptrdiff_t s;    /* +1 top down, -1 bottom up */
  ptrdiff_t o1, o2; /* ab offsets of A(i, i+1), A(i, i+2) from 3 g */
  int tsep, esep; /* separator indices (tsep -1: none) */
  double t20, t10, t11; /* A(0,-2), A(0,-1), A(1,-1): T rows -2, -1 */
} lane;

/* A(p, q) for |p - q| <= 2 from lower band storage. */
static double band_at(const double *ab, size_t p, size_t q) {
  return p > q ? ab[3 * q + (p - q)] : ab[3 * p + (q - p)];
}

/* One elimination step of a lane: the state of the two previous rows in,
 * the new row's factors stored at g (ab: 1/d, L(next, g), L(next2, g); b: u;
 * with a T separator wk: the spike row times 1/d). */
typedef struct lstate {
  double *c, *bp, *wp; /* the next row's ab column, b and wk entries */
  double t20, t10, t11;
  double inv1, ee1, e1, l1p, l2p, l2pp, qp, qpp, u1, u2;
  double v01, v02, v11, v12, s00, s01, s11, f0, f1;
} lstate;

#define LANE_STEP(S, DIR, HAS_T, i, bad)                                       \
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
    if (HAS_T) {                                                               \
      double r0_ = (i) == 0 ? (S).t20 : 0;                                     \
      double r1_ = (i) == 0 ? (S).t10 : (i) == 1 ? (S).t11 : 0;                \
      double v0_ = r0_ - (S).l1p * (S).v01 - (S).l2pp * (S).v02;               \
      double v1_ = r1_ - (S).l1p * (S).v11 - (S).l2pp * (S).v12;               \
      double w0_ = v0_ * inv_, w1_ = v1_ * inv_;                               \
      (S).s00 += w0_ * v0_;                                                    \
      (S).s01 += w0_ * v1_;                                                    \
      (S).s11 += w1_ * v1_;                                                    \
      (S).f0 += w0_ * u_;                                                      \
      (S).f1 += w1_ * u_;                                                      \
      (S).wp[0] = w0_;                                                         \
      (S).wp[1] = w1_;                                                         \
      (S).wp += 2 * (DIR);                                                     \
      (S).v02 = (S).v01, (S).v01 = v0_, (S).v12 = (S).v11, (S).v11 = v1_;      \
    }                                                                          \
    (S).qpp = (S).qp, (S).qp = a2_ * l2_;                                      \
    (S).inv1 = inv_, (S).ee1 = e_ * e_, (S).e1 = e_;                           \
    (S).l2pp = (S).l2p, (S).l2p = l2_, (S).l1p = l1_;                          \
    (S).u2 = (S).u1, (S).u1 = u_;                                              \
    (S).c += 3 * (DIR);                                                        \
    (S).bp += (DIR);                                                           \
  } while (0)

static lstate lane_start(const lane *L, double *ab, double *b, double *wk) {
  lstate S;
  memset(&S, 0, sizeof S);
  S.c = ab + 3 * L->g0;
  S.bp = b + L->g0;
  S.wp = wk + 2 * L->g0;
  S.t20 = L->t20, S.t10 = L->t10, S.t11 = L->t11;
  return S;
}

/* Back substitution of one row, walking the lane backwards: z(i) from
 * z(i+1), z(i+2) (Z) and the T values. */
typedef struct bstate {
  const double *c, *wp;
  double *bp;
  double z1, z2, xt0, xt1;
} bstate;

#define LANE_BACK(B, DIR, HAS_T)                                               \
  do {                                                                         \
    double z_ = *(B).bp * (B).c[0] - (B).c[1] * (B).z1 - (B).c[2] * (B).z2;     \
    if (HAS_T)                                                                 \
      z_ -= (B).wp[0] * (B).xt0 + (B).wp[1] * (B).xt1;                         \
    *(B).bp = z_;                                                              \
    (B).z2 = (B).z1, (B).z1 = z_;                                              \
    (B).c -= 3 * (DIR), (B).bp -= (DIR);                                       \
    if (HAS_T)                                                                 \
      (B).wp -= 2 * (DIR);                                                     \
  } while (0)

/* Dense Cholesky solve of the k x k SPD system (lower triangle of a, column
 * major) in place; -1 when a pivot is not positive. */
static int chol_solve(size_t k, double *a, double *x) {
  for (size_t j = 0; j < k; j++) {
    double d = a[j + j * k];
    for (size_t p = 0; p < j; p++)
      d -= a[j + p * k] * a[j + p * k];
    if (!(d > 0 && d <= DBL_MAX))
      return -1;
    d = sqrt(d);
    a[j + j * k] = d;
    for (size_t i = j + 1; i < k; i++) {
      double v = a[i + j * k];
      for (size_t p = 0; p < j; p++)
        v -= a[i + p * k] * a[j + p * k];
      a[i + j * k] = v / d;
    }
  }
  for (size_t j = 0; j < k; j++) {
    for (size_t p = 0; p < j; p++)
      x[j] -= a[j + p * k] * x[p];
    x[j] /= a[j + j * k];
  }
  for (size_t j = k; j-- > 0;) {
    for (size_t i = j + 1; i < k; i++)
      x[j] -= a[i + j * k] * x[i];
    x[j] /= a[j + j * k];
  }
  return 0;
}

/* Reduced-system index of global row r (a separator row). */
static size_t red_index(const size_t *sep, int j, size_t r) {
  return 2 * (size_t)j + (r - sep[j]);
}

static void red_add(double *M, size_t p, size_t q, double v) {
  if (p < q) {
    size_t t = p;
    p = q, q = t;
  }
  M[p + q * NRED] += v;
}

cs_status csi_penta_solve_split(size_t n, double *ab, double *b, double *wk,
                                cs_error *err) {
  if (n < CSI_PENTA_SPLIT_MIN)
    return penta_solve(n, ab, b, err);
  lane ln[NLANE];
  size_t sep[NSEP];
  size_t rows = n - 2 * NSEP, base = rows / NLANE, extra = rows % NLANE;
  size_t pos = 0, mmax = 0;
  for (int k = 0; k < NLANE; k++) {
    lane *L = &ln[k];
    L->m = base + ((size_t)k < extra);
    size_t first = pos, last = pos + L->m - 1;
    pos += L->m;
    if (k < NSEP) {
      sep[k] = pos;
      pos += 2;
    }
    if (L->m > mmax)
      mmax = L->m;
    if (k % 2 == 0) { /* top down: E after the block, T before it */
      L->g0 = first, L->s = 1, L->o1 = 1, L->o2 = 2;
      L->esep = k < NSEP ? k : -1;
      L->tsep = k > 0 ? k - 1 : -1;
    } else { /* bottom up: E before, T after */
      L->g0 = last, L->s = -1, L->o1 = -2, L->o2 = -4;
      L->esep = k - 1;
      L->tsep = k < NSEP ? k : -1;
    }
    L->t20 = L->t10 = L->t11 = 0;
  }
  for (int k = 0; k < NLANE; k++) { /* read T couplings before any write */
    lane *L = &ln[k];
    if (L->tsep < 0)
      continue;
    size_t r0 = L->g0, r1 = (size_t)((ptrdiff_t)r0 + L->s);
    size_t tm1 = (size_t)((ptrdiff_t)r0 - L->s),
           tm2 = (size_t)((ptrdiff_t)r0 - 2 * L->s);
    L->t20 = band_at(ab, r0, tm2);
    L->t10 = band_at(ab, r0, tm1);
    L->t11 = band_at(ab, r1, tm1);
  }
  double M[NRED * NRED] = {0}, rhs[NRED];
  for (int j = 0; j < NSEP; j++) {
    size_t r = sep[j];
    M[2 * j + 2 * j * NRED] = ab[3 * r];
    M[2 * j + 1 + 2 * j * NRED] = ab[3 * r + 1];
    M[2 * j + 1 + (2 * j + 1) * NRED] = ab[3 * r + 3];
    rhs[2 * j] = b[r];
    rhs[2 * j + 1] = b[r + 1];
  }
  /* The four chains interleave in one loop body; their states are plain
   * locals so they stay in registers, and each lane's direction and spike
   * are compile-time constants (lanes 1 and 2 touch two separators). */
  lstate s0 = lane_start(&ln[0], ab, b, wk), s1 = lane_start(&ln[1], ab, b, wk),
         s2 = lane_start(&ln[2], ab, b, wk), s3 = lane_start(&ln[3], ab, b, wk);
  double *bad = NULL;
  size_t mmin = mmax - (extra != 0);
  for (size_t i = 0; i < mmin; i++) {
    LANE_STEP(s0, 1, 0, i, bad);
    LANE_STEP(s1, -1, 1, i, bad);
    LANE_STEP(s2, 1, 1, i, bad);
    LANE_STEP(s3, -1, 0, i, bad);
  }
  if (ln[0].m > mmin)
    LANE_STEP(s0, 1, 0, mmin, bad);
  if (ln[1].m > mmin)
    LANE_STEP(s1, -1, 1, mmin, bad);
  if (ln[2].m > mmin)
    LANE_STEP(s2, 1, 1, mmin, bad);
  if (ln[3].m > mmin)
    LANE_STEP(s3, -1, 0, mmin, bad);
  const lstate st[NLANE] = {s0, s1, s2, s3};
  if (bad)
    return csi_error(err, CS_ERR_NUMERIC,
                     "band factorisation: pivot %zu is not positive (system "
                     "not positive definite)",
                     (size_t)(bad - ab) / 3);
  /* Schur complement on the separators. */
  for (int k = 0; k < NLANE; k++) {
    const lane *L = &ln[k];
    const lstate *S = &st[k];
    size_t gA = (size_t)((ptrdiff_t)L->g0 + L->s * (ptrdiff_t)(L->m - 2));
    size_t gB = (size_t)((ptrdiff_t)L->g0 + L->s * (ptrdiff_t)(L->m - 1));
    size_t e0r = (size_t)((ptrdiff_t)gB + L->s), e1r = (size_t)((ptrdiff_t)gB + 2 * L->s);
    size_t E0 = red_index(sep, L->esep, e0r), E1 = red_index(sep, L->esep, e1r);
    double dA = 1.0 / ab[3 * gA], dB = 1.0 / ab[3 * gB];
    double la = ab[3 * gA + 2], lb0 = ab[3 * gB + 1], lb1 = ab[3 * gB + 2];
    red_add(M, E0, E0, -(dA * la * la + dB * lb0 * lb0));
    red_add(M, E1, E0, -dB * lb1 * lb0);
    red_add(M, E1, E1, -dB * lb1 * lb1);
    rhs[E0] -= la * b[gA] + lb0 * b[gB];
    rhs[E1] -= lb1 * b[gB];
    if (L->tsep >= 0) {
      size_t tr0 = (size_t)((ptrdiff_t)L->g0 - 2 * L->s),
             tr1 = (size_t)((ptrdiff_t)L->g0 - L->s);
      size_t T0 = red_index(sep, L->tsep, tr0), T1 = red_index(sep, L->tsep, tr1);
      red_add(M, T0, T0, -S->s00);
      red_add(M, T1, T0, -S->s01);
      red_add(M, T1, T1, -S->s11);
      rhs[T0] -= S->f0;
      rhs[T1] -= S->f1;
      /* V(k, t) = wk * d */
      double vA0 = wk[2 * gA] * dA, vA1 = wk[2 * gA + 1] * dA;
      double vB0 = wk[2 * gB] * dB, vB1 = wk[2 * gB + 1] * dB;
      red_add(M, E0, T0, -(la * vA0 + lb0 * vB0));
      red_add(M, E0, T1, -(la * vA1 + lb0 * vB1));
      red_add(M, E1, T0, -lb1 * vB0);
      red_add(M, E1, T1, -lb1 * vB1);
    }
  }
  if (chol_solve(NRED, M, rhs) != 0)
    return csi_error(err, CS_ERR_NUMERIC,
                     "band factorisation: separator system not positive "
                     "definite");
  for (int j = 0; j < NSEP; j++) {
    b[sep[j]] = rhs[2 * j];
    b[sep[j] + 1] = rhs[2 * j + 1];
  }
  /* Back substitution, interleaved; z(m), z(m+1) are the E values. */
  bstate bs[NLANE];
  for (int k = 0; k < NLANE; k++) {
    const lane *L = &ln[k];
    bstate *B = &bs[k];
    size_t gB = (size_t)((ptrdiff_t)L->g0 + L->s * (ptrdiff_t)(L->m - 1));
    B->c = ab + 3 * gB;
    B->bp = b + gB;
    B->wp = wk + 2 * gB;
    B->z1 = b[(size_t)((ptrdiff_t)gB + L->s)];
    B->z2 = b[(size_t)((ptrdiff_t)gB + 2 * L->s)];
    B->xt0 = B->xt1 = 0;
    if (L->tsep >= 0) {
      B->xt0 = b[(size_t)((ptrdiff_t)L->g0 - 2 * L->s)];
      B->xt1 = b[(size_t)((ptrdiff_t)L->g0 - L->s)];
    }
  }
  bstate b0 = bs[0], b1 = bs[1], b2 = bs[2], b3 = bs[3];
  if (ln[0].m > mmin)
    LANE_BACK(b0, 1, 0);
  if (ln[1].m > mmin)
    LANE_BACK(b1, -1, 1);
  if (ln[2].m > mmin)
    LANE_BACK(b2, 1, 1);
  if (ln[3].m > mmin)
    LANE_BACK(b3, -1, 0);
  for (size_t i = 0; i < mmin; i++) {
    LANE_BACK(b0, 1, 0);
    LANE_BACK(b1, -1, 1);
    LANE_BACK(b2, 1, 1);
    LANE_BACK(b3, -1, 0);
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
