/* whit_batch_kern.h: the Whittaker (AsLS, arPLS, airPLS) solver for KW
 * spectra at once, one per vector lane, included once per instruction set
 * by baseline.c, which defines KSFX (the name suffix) and KW (lanes;
 * 2, 4 or 8 doubles per GCC vector).
 *
 * Every lane does the operations of the scalar code in baseline.c and
 * linalg.c (csi_penta_solve_split, fit_whittaker) in the same order: the
 * two elimination chains, the 2 x 2 separator, the even/odd partial sums of
 * the weight passes.  +, -, *, / and sqrt round the same in a lane as in a
 * scalar register and C11 mode does not contract a * b + c into an FMA, so
 * AsLS's lanes give the scalar bits.  arPLS and airPLS differ in the last
 * bits: exp here is a vector polynomial (within 1 ulp of glibc's), the
 * negative residuals are summed in the back substitution's order and
 * arPLS's convergence sums by FMA (tested to 1e-9 against the scalar
 * solver, tests/test_baseline.c).  Finished lanes are
 * refilled with the next spectrum, so lanes converging at different
 * iterations cost no idle solves until the queue runs dry. */

#define KCAT2(a, b) a##b
#define KCAT(a, b) KCAT2(a, b)
#define KN(name) KCAT(name, KSFX)
#define KVD KN(vd_)
#define KVI KN(vi_)

/* KFMA(a, b, c) = a b + c (one rounding where the path has FMA), KMAX /
 * KMIN: max/min of two lanes without NaNs; baseline.c may define them per
 * instruction set, else plain C. */
#ifndef KFMA
#define KFMA(a, b, c) ((a) * (b) + (c))
#endif
#ifndef KMAX
#define KMAX(a, b) KN(sel)((a) < (b), (b), (a))
#define KMIN(a, b) KN(sel)((a) > (b), (b), (a))
#endif

typedef double KVD __attribute__((vector_size(KW * 8)));
typedef long long KVI __attribute__((vector_size(KW * 8)));

static inline KVD KN(bc)(double s) { return (KVD){0} + s; }

/* m ? a : b lane by lane (m: all ones or zero per lane) */
static inline KVD KN(sel)(KVI m, KVD a, KVD b) {
  return (KVD)(((KVI)a & m) | ((KVI)b & ~m));
}

/* 1.0 where m is set, +0.0 elsewhere: (double)(comparison) per lane */
static inline KVD KN(ind)(KVI m) { return (KVD)(m & (KVI)KN(bc)(1.0)); }

/* exp(x) for x in [-40, 710]: x = k ln2 + r, |r| <= ln2/2 (Cody-Waite with
 * fdlibm's split of ln2), exp(r) by its degree-13 Taylor polynomial
 * (truncation < 5e-18 relative), times 2^k as two exact powers of two so
 * that k up to 1024 stays in range.  Measured within 1 ulp of glibc.
 * vexp_red: r, k (as a double kd and an integer k); vexp_pow2: p 2^k.
 * Where the path defines them, KROUND (round to nearest even) and KSCALE
 * (p 2^kd) do these in one instruction each, with the same results: the
 * shifter rounds the same way, and both scalings are exact. */
static inline KVD KN(vexp_red)(KVD x, KVD *kd, KVI *k) {
#ifdef KROUND
  *kd = KROUND(x * CSI_EXP_INV_LN2);
  *k = (KVI){0};
#else
  const double shifter = 0x1.8p52;
  *kd = x * CSI_EXP_INV_LN2 + shifter; /* round(x / ln2) */
  *k = (KVI)*kd - (KVI)KN(bc)(shifter);
  *kd -= shifter;
#endif
  return (x - *kd * CSI_EXP_LN2_HI) - *kd * CSI_EXP_LN2_LO;
}
static inline KVD KN(vexp_pow2)(KVD p, KVD kd, KVI k) {
#ifdef KSCALE
  (void)k;
  return KSCALE(p, kd);
#else
  (void)kd;
  KVI k1 = k >> 1, k2 = k - k1;
  KVD s1 = (KVD)((k1 + 1023) << 52), s2 = (KVD)((k2 + 1023) << 52);
  return p * s1 * s2;
#endif
}
static inline KVD KN(vexp)(KVD x) {
  KVD kd;
  KVI k;
  KVD r = KN(vexp_red)(x, &kd, &k), p = KN(bc)(CSI_EXP_C13);
#define KH(c) p = KFMA(p, r, KN(bc)(c));
  CSI_EXP_TAYLOR(KH)
#undef KH
  return KN(vexp_pow2)(p, kd, k);
}
/* exp of x[0..KU-1] in place, the same operations as vexp: one vector's
 * 13-deep Horner chain (~100 cycles) overflows the out-of-order window
 * before the next vector's starts; KU chains written side by side keep the
 * FP units busy (eight where there are 32 registers).  Only for x in [-38,
 * 340] (arPLS): there 2^k is one normal double, and p 2^k equals vexp's p
 * 2^k1 2^k2.  KEACHU writes a statement out for j = 0..KU-1 (GCC -O2 keeps
 * a j loop, and the vectors in memory). */
#if KW == 8
#define KU 8
#define KEACHU(S) S(0) S(1) S(2) S(3) S(4) S(5) S(6) S(7)
#else
#define KU 4
#define KEACHU(S) S(0) S(1) S(2) S(3)
#endif
/* one Horner step p = p r + c of every chain (both exp variants below) */
#define KF(j) p##j = KFMA(p##j, r##j, c_);
#define KH(c)                                                                 \
  {                                                                           \
    KVD c_ = KN(bc)(c);                                                       \
    KEACHU(KF)                                                                \
  }
#ifdef KPERM
/* The KPERM path (AVX-512: a 16-entry lookup is one permute of two
 * registers): x = (16 k + j) ln2/16 + r, |r| <= ln2/32, exp(x) = 2^k T[j]
 * (1 + tail[j]) exp(r), T[j] = 2^(j/16) rounded, tail[j] its relative
 * error, exp(r) - 1 by its degree-7 Taylor polynomial (truncation < 2e-18
 * relative), the last step s + s tmp one FMA, as in ARM's
 * optimized-routines exp.  13 multiply-adds instead of 20.  Max error
 * against glibc's exp over 1e7 arguments in [-38, 340]: 1 ulp (measured).
 * z = x 16/ln2 + 1.5 2^52 holds k, j in its low bits; the table's bits
 * have j 2^48 taken off, so adding (z << 48) puts k in the exponent. */
static const KVI KN(exp_tb)[2] = {
    {0x3ff0000000000000LL, 0x3fefb5586cf9890fLL, 0x3fef72b83c7d517bLL,
     0x3fef387a6e756238LL, 0x3fef06fe0a31b715LL, 0x3feedea64c123422LL,
     0x3feebfdad5362a27LL, 0x3feeab07dd485429LL},
    {0x3feea09e667f3bcdLL, 0x3feea11473eb0187LL, 0x3feeace5422aa0dbLL,
     0x3feec49182a3f090LL, 0x3feee89f995ad3adLL, 0x3fef199bdd85529cLL,
     0x3fef5818dcfba487LL, 0x3fefa4afa2a490daLL}};
static const KVD KN(exp_tl)[2] = {
    {0x0.0p+0, 0x1.79aa65d837b6dp-54, -0x1.01b15eaa59348p-55,
     0x1.68efde3a8a894p-54, 0x1.34d754db0abb6p-55, 0x1.59f48a72a4c6dp-55,
     0x1.690cebb7aafb0p-56, 0x1.063e1e21c5409p-54},
    {-0x1.3b3efbf5e2228p-54, -0x1.b32dcb94da51dp-56, 0x1.db72fc1f0eab4p-55,
     0x1.1affc2b91ce27p-56, 0x1.c1a7792cb3387p-55, 0x1.36eae30af0cb3p-56,
     0x1.4a385a63d07a7p-56, -0x1.ff7128fd391f0p-55}};
static inline void KN(vexpu)(KVD *x) {
  const KVD shift = KN(bc)(0x1.8p52);
#define KR(j)                                                                 \
  KVD z##j = KFMA(x[j], KN(bc)(0x1.71547652b82fep4), shift);                 \
  KVD kd##j = z##j - shift;                                                   \
  KVD r##j = KFMA(kd##j, KN(bc)(-0x1.62e42fefa0000p-5), x[j]);                \
  r##j = KFMA(kd##j, KN(bc)(-0x1.cf79abc9e3b3ap-44), r##j);                   \
  KVD p##j = KN(bc)(1.0 / 5040);
  KEACHU(KR)
#undef KR
  KH(1.0 / 720) KH(1.0 / 120) KH(1.0 / 24) KH(1.0 / 6) KH(0.5)
#define KP(j)                                                                 \
  {                                                                           \
    KVI zi = (KVI)z##j;                                                       \
    KVD tl = KPERM(KN(exp_tl)[0], zi, KN(exp_tl)[1]);                         \
    KVD sc = (KVD)((KVI)KPERM((KVD)KN(exp_tb)[0], zi, (KVD)KN(exp_tb)[1]) +   \
                   (zi << 48));                                               \
    KVD tmp = KFMA(r##j * r##j, p##j, r##j + tl);                             \
    x[j] = KFMA(sc, tmp, sc);                                                 \
  }
  KEACHU(KP)
#undef KP
}
#else
static inline void KN(vexpu)(KVD *x) {
#define KR(j)                                                                 \
  KVD kd##j, p##j = KN(bc)(CSI_EXP_C13);                                       \
  KVI k##j;                                                                   \
  KVD r##j = KN(vexp_red)(x[j], &kd##j, &k##j);
  KEACHU(KR)
#undef KR
  CSI_EXP_TAYLOR(KH)
#ifdef KSCALE
#define KP(j) x[j] = KSCALE(p##j, kd##j), (void)k##j;
#else
#define KP(j) x[j] = p##j * (KVD)((k##j + 1023) << 52), (void)kd##j;
#endif
  KEACHU(KP)
#undef KP
}
#endif
#undef KH
#undef KF

/* Lanes ls[0..nl-1] of the KW-interleaved arrays (n rows): lane ls[q]'s
 * baseline from B into dst[q] (unless NULL), its next spectrum src[q]
 * (NULL: zeros) into Y, weights 1.  One pass for all the lanes: each row is
 * a cache line of its own, missed once, not thrice per lane.  Returns the
 * lanes (bit q) whose baseline has a non-finite value (checked here, not in
 * a pass of its own). */
static unsigned KN(lane_swap)(const KVD *B, KVD *Y, KVD *Wt, size_t n, int nl,
                              const int *ls, double *const *dst,
                              const double *const *src) {
  unsigned bad = 0;
  for (size_t i = 0; i < n; i++)
    for (int q = 0; q < nl; q++) {
      int l = ls[q];
      if (dst[q]) {
        dst[q][i] = B[i][l];
        if (!(fabs(dst[q][i]) <= DBL_MAX))
          bad |= 1u << q;
      }
      Y[i][l] = src[q] ? src[q][i] : 0.0;
      Wt[i][l] = 1.0;
    }
  return bad;
}

/* One LDL^T step of a chain (linalg.c CHAIN_STEP, lane by lane): diag =
 * A(i,i), a1/a2 the chain's next off-diagonal entries, row i's (1/d, L1,
 * L2) into F[3i..3i+2], u over B[i]. */
typedef struct {
  KVD inv1, ee1, e1, l1p, l2p, l2pp, qp, qpp, u1, u2;
} KN(chain);

#define KSTEP(S, i, diag, a1, a2)                                             \
  do {                                                                        \
    KVD d_ = ((diag) - (S).qpp) - (S).ee1 * (S).inv1;                         \
    bad |= ~((d_ > 0.0) & (d_ <= DBL_MAX));                                   \
    KVD inv_ = 1.0 / d_;                                                      \
    KVD e_ = (a1) - (S).l2p * (S).e1;                                         \
    KVD l1_ = e_ * inv_, l2_ = (a2) * inv_;                                   \
    KVD u_ = Wt[i] * Y[i] - (S).l1p * (S).u1 - (S).l2pp * (S).u2;             \
    F[3 * (i)] = inv_, F[3 * (i) + 1] = l1_, F[3 * (i) + 2] = l2_;            \
    B[i] = u_;                                                                \
    (S).qpp = (S).qp, (S).qp = (a2) * l2_;                                    \
    (S).inv1 = inv_, (S).ee1 = e_ * e_, (S).e1 = e_;                          \
    (S).l2pp = (S).l2p, (S).l2p = l2_, (S).l1p = l1_;                         \
    (S).u2 = (S).u1, (S).u1 = u_;                                             \
  } while (0)

/* KNEG(i, c, s): c += 1, s += r where r = Y[i] - B[i] < 0. */
#define KNEG(i, c, s)                                                         \
  do {                                                                        \
    KVD r_ = Y[i] - B[i], m_ = KN(ind)(r_ < 0.0);                             \
    (c) += m_, (s) += m_ * r_;                                                \
  } while (0)
#define KBACK(i, z1, z2, c, s)                                                \
  do {                                                                        \
    KVD z_ = B[i] * F[3 * (i)] - F[3 * (i) + 1] * (z1) - F[3 * (i) + 2] * (z2); \
    B[i] = z_;                                                                \
    (z2) = (z1), (z1) = z_;                                                   \
    if (neg)                                                                  \
      KNEG(i, c, s);                                                          \
  } while (0)

/* (W + P) z = W y for every lane, P = pen (the lower band, pen[3j + s] =
 * P(j+s, j)), diagonal W = Wt; z into B (W y is formed as the chains reach
 * each row: one pass less over memory), F the factor.  Unless neg is NULL,
 * the count and sum of the negative residuals y - z into neg[0], neg[1]
 * as the back substitution writes z (arPLS, airPLS: a pass less).  Returns
 * the lanes whose matrix was not positive definite. */
static KVI KN(solve)(size_t n, const double *pen, const KVD *Wt,
                     const KVD *Y, KVD *B, KVD *F, KVD *neg) {
  size_t m = (n - 1) / 2, mb = n - m - 2, s = m;
  KN(chain) t, u;
  memset(&t, 0, sizeof t);
  memset(&u, 0, sizeof u);
  KVI bad = {0};
  for (size_t i = 0; i < mb; i++) {
    size_t j = i, k = n - 1 - i; /* top row j, bottom row k */
    KSTEP(t, j, pen[3 * j] + Wt[j], pen[3 * j + 1], pen[3 * j + 2]);
    KSTEP(u, k, pen[3 * k] + Wt[k], pen[3 * (k - 1) + 1],
          pen[3 * (k - 2) + 2]);
  }
  for (size_t j = mb; j < m; j++)
    KSTEP(t, j, pen[3 * j] + Wt[j], pen[3 * j + 1], pen[3 * j + 2]);
  size_t ta = m - 2, tb = m - 1, ua = s + 3, ub = s + 2;
  KVD dta = 1.0 / F[3 * ta], dtb = 1.0 / F[3 * tb];
  KVD dua = 1.0 / F[3 * ua], dub = 1.0 / F[3 * ub];
  KVD t0a = F[3 * ta + 2], t0b = F[3 * tb + 1], t1b = F[3 * tb + 2];
  KVD b1a = F[3 * ua + 2], b1b = F[3 * ub + 1], b0b = F[3 * ub + 2];
  KVD as0 = pen[3 * s] + Wt[s], as1 = pen[3 * s + 3] + Wt[s + 1];
  KVD m00 = as0 - dta * t0a * t0a - dtb * t0b * t0b - dub * b0b * b0b;
  KVD m10 = pen[3 * s + 1] - dtb * t1b * t0b - dub * b1b * b0b;
  KVD m11 = as1 - dtb * t1b * t1b - dua * b1a * b1a - dub * b1b * b1b;
  KVD r0 = Wt[s] * Y[s] - t0a * B[ta] - t0b * B[tb] - b0b * B[ub];
  KVD r1 = Wt[s + 1] * Y[s + 1] - t1b * B[tb] - b1a * B[ua] - b1b * B[ub];
  KVD det = m00 * m11 - m10 * m10;
  bad |= ~((m00 > 0.0) & (det > 0.0) & (det <= DBL_MAX));
  KVD l = m10 / m00, d1 = m11 - l * m10;
  KVD x1 = (r1 - l * r0) / d1, x0 = (r0 - m10 * x1) / m00;
  B[s] = x0;
  B[s + 1] = x1;
  KVD tz1 = x0, tz2 = x1, uz1 = x1, uz2 = x0;
  KVD c0 = KN(bc)(0.0), c1 = c0, s0 = c0, s1 = c0;
  if (neg) {
    KNEG(s, c0, s0);
    KNEG(s + 1, c1, s1);
  }
  size_t j = tb, k = ub;
  for (size_t i = mb; i < m; i++, j--)
    KBACK(j, tz1, tz2, c0, s0);
  for (size_t i = 0; i < mb; i++, j--, k++) {
    KBACK(j, tz1, tz2, c0, s0);
    KBACK(k, uz1, uz2, c1, s1);
  }
  if (neg)
    neg[0] = c0 + c1, neg[1] = s0 + s1;
  return bad;
}

#undef KSTEP
#undef KBACK
#undef KNEG

/* Run the queue of bj->count spectra through KW lanes. */
static cs_status KN(run)(csi_whit_batch *bj) {
  size_t n = bj->n;
  const cs_baseline_opts *o = bj->o;
  size_t bytes = n * sizeof(KVD);
  KVD *Y = aligned_alloc(sizeof(KVD), bytes), *B = aligned_alloc(sizeof(KVD), bytes);
  KVD *Wt = aligned_alloc(sizeof(KVD), bytes); /* updated in place */
  KVD *F = aligned_alloc(sizeof(KVD), 3 * bytes);
  if (!Y || !B || !Wt || !F) {
    free(Y), free(B), free(Wt), free(F);
    return CS_ERR_NOMEM;
  }
  int method = o->method;
  size_t next = 0, spec[KW] = {0};
  int it[KW], active[KW];
  double yl1[KW];
  /* Take the next queued spectrum into lane l, or park the lane (y = 0,
   * w = 1: a harmless system that stays finite); the swaps of one
   * iteration in one pass (KSWAP). */
  int nl = 0, ls[KW];
  size_t was[KW]; /* the spectrum a lane held */
  double *dl[KW];
  const double *sl[KW];
  for (int l = 0; l < KW; l++)
    active[l] = 0;
#define KFILL(l, dst)                                                         \
  do {                                                                        \
    dl[nl] = (dst); /* before spec[l] moves on */                             \
    was[nl] = spec[l], ls[nl] = l, sl[nl] = NULL;                              \
    active[l] = next < bj->count;                                             \
    if (active[l]) {                                                          \
      spec[l] = next++, it[l] = 1, sl[nl] = bj->y[spec[l]];                   \
      double a_ = 0;                                                          \
      for (size_t i_ = 0; method == CS_BASELINE_AIRPLS && i_ < n; i_++)      \
        a_ += fabs(sl[nl][i_]);                                               \
      yl1[l] = a_;                                                            \
    }                                                                         \
    nl++;                                                                     \
  } while (0)
#define KSWAP()                                                               \
  do {                                                                        \
    unsigned bad_ = KN(lane_swap)(B, Y, Wt, n, nl, ls, dl, sl);               \
    for (int q_ = 0; q_ < nl; q_++)                                           \
      if (bad_ >> q_ & 1)                                                     \
        bj->fallback[was[q_]] = 1; /* the scalar solver reports it */          \
    nl = 0;                                                                   \
  } while (0)
  for (int l = 0; l < KW; l++)
    KFILL(l, NULL);
  KSWAP();
  size_t npair = n & ~(size_t)1;
  const double log_max = log(DBL_MAX), cap = nextafter(log_max, 0);
  for (;;) {
    int any = 0;
    for (int l = 0; l < KW; l++)
      any |= active[l];
    if (!any)
      break;
    KVD neg[2];
    KVI bad = KN(solve)(n, bj->pen, Wt, Y, B, F,
                        method == CS_BASELINE_ASLS ? NULL : neg);
    int done[KW];
    for (int l = 0; l < KW; l++) {
      done[l] = 0;
      if (active[l] && bad[l]) { /* the scalar solver reports it */
        bj->fallback[spec[l]] = 1;
        done[l] = 2;
      }
    }
    KVD calc = KN(bc)(0.0);
    if (method == CS_BASELINE_ASLS) {
      KVD n0 = KN(bc)(0.0), n1 = n0, d0 = n0, d1 = n0;
      KVD vp = KN(bc)(o->p), vq = KN(bc)(1 - o->p);
      for (size_t i = 0; i < n; i++) {
        KVD a = KN(sel)(Y[i] - B[i] > 0.0, vp, vq);
        KVD dw = a - Wt[i], sq = Wt[i] * Wt[i];
        Wt[i] = a;
        if (i & 1) /* even points into n0/d0, odd into n1/d1 */
          n1 += dw * dw, d1 += sq;
        else
          n0 += dw * dw, d0 += sq;
      }
      KVD num = n0 + n1, den = d0 + d1;
      for (int l = 0; l < KW; l++)
        calc[l] = sqrt(num[l]) / fmax(sqrt(den[l]), DBL_MIN);
    } else {
      KVD nneg = neg[0], sum = neg[1];
      /* lanes with fewer than two negative residuals stop here (scalar:
       * break before the weights); their weights below are dummies */
      KVD va = KN(bc)(0.0), vb = va;
      for (int l = 0; l < KW; l++) {
        if (active[l] && !done[l] && nneg[l] < 2)
          done[l] = 1;
        if (!active[l] || done[l])
          sum[l] = -1.0, nneg[l] = 2.0; /* finite dummies */
      }
      if (method == CS_BASELINE_ARPLS) {
        KVD mean = sum / nneg, q0 = KN(bc)(0.0), q1 = q0;
        for (size_t i = 0; i < npair; i += 2) {
          KVD r0 = Y[i] - B[i], r1 = Y[i + 1] - B[i + 1];
          KVD e0 = r0 - mean, e1 = r1 - mean;
          q0 += KN(ind)(r0 < 0.0) * (e0 * e0);
          q1 += KN(ind)(r1 < 0.0) * (e1 * e1);
        }
        if (n & 1) {
          KVD r0 = Y[n - 1] - B[n - 1], e0 = r0 - mean;
          q0 += KN(ind)(r0 < 0.0) * (e0 * e0);
        }
        KVD qs = q0 + q1;
        for (int l = 0; l < KW; l++) {
          double sd = sqrt(qs[l] / (nneg[l] - 1));
          if (sd == 0)
            sd = DBL_MIN;
          va[l] = 2.0 / sd, vb[l] = 2 * sd - mean[l];
          if (!active[l] || done[l])
            va[l] = 0, vb[l] = 0;
        }
        KVD n0 = KN(bc)(0.0), n1 = n0, d0 = n0, d1 = n0;
        KVD lo = KN(bc)(-38.0), hi = KN(bc)(ARPLS_T_MAX);
        /* even points into n0/d0, odd into n1/d1, as the scalar loop */
#define KWEIGHT(i, nn, dd)                                                    \
  do {                                                                        \
    KVD tt = va * ((Y[i] - B[i]) - vb);                                       \
    tt = KMIN(KMAX(tt, lo), hi);                                              \
    KVD a = 1.0 / (1.0 + KN(vexp)(tt));                                       \
    KVD w0 = Wt[i];                                                           \
    Wt[i] = a;                                                                \
    nn += (a - w0) * (a - w0), dd += w0 * w0;                                 \
  } while (0)
        size_t nu = n - n % KU;
        for (size_t i = 0; i < nu; i += KU) { /* KWEIGHT, KU exps at once */
          KVD e[KU];
#define KT(j) e[j] = KMIN(KMAX(va * ((Y[i + j] - B[i + j]) - vb), lo), hi);
          KEACHU(KT)
#undef KT
          KN(vexpu)(e);
          /* even points into n0/d0, odd into n1/d1, in order */
#define KA(j)                                                                 \
  KVD a##j = 1.0 / (1.0 + e[j]), w##j = Wt[i + j];                            \
  Wt[i + j] = a##j;                                                           \
  KVD dw##j = a##j - w##j;                                                    \
  *((j) & 1 ? &n1 : &n0) = KFMA(dw##j, dw##j, *((j) & 1 ? &n1 : &n0));        \
  *((j) & 1 ? &d1 : &d0) = KFMA(w##j, w##j, *((j) & 1 ? &d1 : &d0));
          KEACHU(KA)
#undef KA
        }
        for (size_t i = nu; i < npair; i += 2) {
          KWEIGHT(i, n0, d0);
          KWEIGHT(i + 1, n1, d1);
        }
        if (n & 1)
          KWEIGHT(n - 1, n0, d0);
#undef KWEIGHT
        KVD num = n0 + n1, den = d0 + d1;
        for (int l = 0; l < KW; l++)
          calc[l] = sqrt(num[l]) / fmax(sqrt(den[l]), DBL_MIN);
      } else { /* airPLS */
        for (int l = 0; l < KW; l++) {
          double t = it[l] < 50 ? it[l] : 50;
          va[l] = t / sum[l];
          calc[l] = yl1[l] > 0 ? fabs(sum[l]) / yl1[l] : 0;
        }
        KVD zero = KN(bc)(0.0), vcap = KN(bc)(cap);
        for (size_t i = 0; i < n; i++) {
          KVD r = Y[i] - B[i];
          KVD inner = va * r;
          inner = KMIN(KMAX(inner, zero), vcap);
          Wt[i] = KN(sel)(r < 0.0, KN(vexp)(inner), zero);
        }
      }
    }
    for (int l = 0; l < KW; l++)
      if (active[l] && !done[l] &&
          (calc[l] < o->tol || it[l] == o->max_iter + 1))
        done[l] = 1;
    for (int l = 0; l < KW; l++) {
      if (!active[l]) /* parked: weights 1 again (y stays 0) */
        ls[nl] = l, dl[nl] = NULL, sl[nl] = NULL, was[nl++] = 0;
      else if (done[l])
        KFILL(l, done[l] == 1 ? bj->z[spec[l]] : NULL);
      else
        it[l]++;
    }
    if (nl)
      KSWAP();
  }
#undef KFILL
#undef KSWAP
  free(Y), free(B), free(Wt), free(F);
  return CS_OK;
}

#undef KVD
#undef KVI
#undef KFMA
#undef KMAX
#undef KMIN
#undef KROUND
#undef KSCALE
#undef KPERM
#undef KU
#undef KEACHU
