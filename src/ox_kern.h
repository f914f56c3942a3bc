/* ox_kern.h: the per-point work of composition.c's oxalate fit (ox_eval,
 * ox_hess), OX_W points per GCC vector, included once per instruction set
 * by composition.c, which defines OXSFX (the name suffix) and OX_W (2, 4
 * or 8 doubles).  +, -, *, / round the same in a lane as in a scalar
 * register, and nothing here is fused into an FMA (GCC in C11 mode does
 * not contract; clang gets FP_CONTRACT off), so every path gives the same
 * bits (test_oxalate_reference); only exp is not glibc's (OX_VEXP3).  The last block of points overlaps the one before it (n >=
 * OX_W: ox_fit wants 16 points): the same values written again. */

#define OXC2(a, b) a##b
#define OXC(a, b) OXC2(a, b)
#define OXN(name) OXC(name, OXSFX)
#define ox_vd OXN(ox_vd_)
#define ox_vi OXN(ox_vi_)
typedef double ox_vd __attribute__((vector_size(OX_W * 8)));
typedef long long ox_vi __attribute__((vector_size(OX_W * 8)));

/* m ? a : b lane by lane (macros: a vector of 32 bytes passed to a
 * function compiled without AVX changes the ABI) */
#define OX_SEL(m, a, b) ((ox_vd)(((ox_vi)(a) & (m)) | ((ox_vi)(b) & ~(m))))

/* exp(x) for x in [-700, 0]: whit_batch_kern.h's vexp without FMA
 * (CSI_EXP_*, internal.h; 2^k one normal double); within ~1 ulp of
 * glibc's, whose scalar calls were a fifth of the fit.  OX_VEXP3 does the three bands' vectors side by side:
 * one Horner chain alone waits on its own latency. */
#define OX_EACH3(S) S(0) S(1) S(2)
#define OX_VEXP3(e)                                                           \
  do {                                                                        \
    const double sh_ = 0x1.8p52;                                              \
    ox_vd kd_[3], r_[3], p_[3];                                               \
    ox_vi k_[3];                                                              \
    for (int b_ = 0; b_ < 3; b_++) {                                          \
      kd_[b_] = e[b_] * CSI_EXP_INV_LN2 + sh_; /* round(x / ln2) */           \
      k_[b_] = (ox_vi)kd_[b_] - (ox_vi)((ox_vd){0} + sh_);                    \
      kd_[b_] -= sh_;                                                         \
      r_[b_] = (e[b_] - kd_[b_] * CSI_EXP_LN2_HI) - kd_[b_] * CSI_EXP_LN2_LO; \
      p_[b_] = (ox_vd){0} + CSI_EXP_C13;                                      \
    }                                                                         \
    CSI_EXP_TAYLOR(OX_H)                                                      \
    for (int b_ = 0; b_ < 3; b_++)                                            \
      e[b_] = p_[b_] * (ox_vd)((k_[b_] + 1023) << 52);                        \
  } while (0)
#define OX_H1(b) p_[b] = p_[b] * r_[b] + c_;
#define OX_H(c)                                                               \
  {                                                                           \
    const double c_ = c;                                                      \
    OX_EACH3(OX_H1)                                                           \
  }
_Static_assert(NB_OXALATE == 3, "OX_VEXP3 does three bands");

/* Points i..i+OX_W-1 for i = 0, OX_W, ..., the last block ending at n */
#define OX_BLOCKS(i, n)                                                       \
  for (size_t i = 0, e_ = 0; !e_; i += OX_W)                                  \
    if ((i + OX_W >= (n) ? (i = (n)-OX_W, e_ = 1) : 0), 1)

/* The band columns of A at w->al, their L and G kept for ox_deriv. */
static void OXN(ox_bands)(oxws *w) {
  size_t n = w->n;
  double pos[3], iw[3], eta[3];
  for (int k = 0; k < 3; k++) {
    pos[k] = w->al[2 * k];
    iw[k] = 1 / w->al[2 * k + 1];
    eta[k] = oxalate_bands[k].eta0;
  }
  OX_BLOCKS(i, n) {
    ox_vd x, d2[3], e[3];
    memcpy(&x, w->x + i, sizeof x);
    for (int k = 0; k < 3; k++) {
      ox_vd d = (x - pos[k]) * iw[k];
      d2[k] = d * d;
      e[k] = -4 * LN2_ * d2[k];
      /* beyond 7 FWHM the Gaussian part (< 1e-60) is below the rounding
       * of the Lorentzian part (> 1e-3): 0 there */
      e[k] = OX_SEL(e[k] < -140.0, (ox_vd){0} - 140.0, e[k]);
    }
    OX_VEXP3(e);
    for (int k = 0; k < 3; k++) {
      ox_vd L = 1.0 / (1.0 + 4.0 * d2[k]);
      ox_vd G = OX_SEL(d2[k] > 50.0, (ox_vd){0}, e[k]);
      ox_vd av = eta[k] * L + (1 - eta[k]) * G;
      double *Lk = w->LG + (size_t)(2 * k) * n;
      memcpy(w->A + (size_t)k * n + i, &av, sizeof av);
      memcpy(Lk + i, &L, sizeof L);
      memcpy(Lk + n + i, &G, sizeof G);
    }
  }
}

/* D and S of ox_hess at w->al, from ox_bands's L and G: only for the
 * points a step went to (10-25 % of evaluations are rejected). */
static void OXN(ox_deriv)(oxws *w) {
  size_t n = w->n;
  for (int k = 0; k < NB_OXALATE; k++) {
    double pos = w->al[2 * k], iw = 1 / w->al[2 * k + 1], iw2 = iw * iw;
    double eta = oxalate_bands[k].eta0;
    const double *Lk = w->LG + (size_t)(2 * k) * n, *Gk = Lk + n;
    double *dp = w->D + (size_t)(2 * k) * n, *dw = dp + n,
           *sp = w->S + (size_t)(3 * k) * n;
    OX_BLOCKS(i, n) {
      ox_vd x, L, G;
      memcpy(&x, w->x + i, sizeof x);
      memcpy(&L, Lk + i, sizeof L);
      memcpy(&G, Gk + i, sizeof G);
      ox_vd d = (x - pos) * iw, d2 = d * d;
      ox_vd gd = -8 * d * (eta * L * L + (1 - eta) * LN2_ * G);
      ox_vd gdd = -8 * eta * L * L * (1 - 16 * d2 * L) -
                  8 * LN2_ * (1 - eta) * G * (1 - 8 * LN2_ * d2);
      ox_vd v0 = -gd * iw, v1 = -gd * d * iw, v2 = gdd * iw2,
            v3 = (gdd * d + gd) * iw2, v4 = (gdd * d2 + 2 * gd * d) * iw2;
      memcpy(dp + i, &v0, sizeof v0);
      memcpy(dw + i, &v1, sizeof v1);
      memcpy(sp + i, &v2, sizeof v2);
      memcpy(sp + n + i, &v3, sizeof v3);
      memcpy(sp + 2 * n + i, &v4, sizeof v4);
    }
  }
}

/* qr_normal's sums for ox_hess, over the rows below OX_NLIN of the rotated
 * D: the lower triangle of G = D'D (OX_NL x OX_NL, row-major) and st =
 * D't.  The 27 dot products four at a time, each in four partial sums
 * (rows OX_NLIN + 4q + l in lane l of a 32-byte vector, two SSE2 registers
 * on the portable path; the leftover rows into lane 0; ((s0 + s1) + (s2 +
 * s3))): the same bits on both paths.  One product alone, or all of them
 * row by row in memory, waited on latency. */
typedef double OXN(ox_q_) __attribute__((vector_size(32)));
static void OXN(ox_gram)(oxws *w, double *G, double *st) {
  enum { NP = OX_NL * (OX_NL + 1) / 2 + OX_NL, NG = (NP + 3) / 4 * 4 };
  const double *p[NG], *q[NG];
  double *out[NG], dummy;
  size_t n = w->n, np = 0;
  for (int k = 0; k < OX_NL; k++) {
    const double *dk = w->D + (size_t)k * n;
    for (int l = 0; l <= k; l++) {
      p[np] = dk, q[np] = w->D + (size_t)l * n;
      out[np++] = G + k * OX_NL + l;
    }
    p[np] = dk, q[np] = w->t, out[np++] = st + k;
  }
  for (; np < NG; np++)
    p[np] = q[np] = w->t, out[np] = &dummy;
  for (size_t g = 0; g < NG; g += 4) {
    const double *p0 = p[g], *p1 = p[g + 1], *p2 = p[g + 2], *p3 = p[g + 3];
    const double *q0 = q[g], *q1 = q[g + 1], *q2 = q[g + 2], *q3 = q[g + 3];
    OXN(ox_q_) s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    size_t i = OX_NLIN;
    for (; i + 4 <= n; i += 4) { /* written out: a loop over c kept s[c] in memory */
#define OX_G(c)                                                               \
  {                                                                           \
    OXN(ox_q_) a, b;                                                          \
    memcpy(&a, p##c + i, sizeof a);                                           \
    memcpy(&b, q##c + i, sizeof b);                                           \
    s##c += a * b;                                                            \
  }
      OX_G(0) OX_G(1) OX_G(2) OX_G(3)
#undef OX_G
    }
    OXN(ox_q_) s[4] = {s0, s1, s2, s3};
    for (int c = 0; c < 4; c++) {
      double h = s[c][0];
      for (size_t l = i; l < n; l++)
        h += p[g + c][l] * q[g + c][l];
      *out[g + c] = (h + s[c][1]) + (s[c][2] + s[c][3]);
    }
  }
}

#undef OXC2
#undef OXC
#undef OXN
#undef ox_vd
#undef ox_vi
#undef OX_SEL
#undef OX_EACH3
#undef OX_VEXP3
#undef OX_H1
#undef OX_H
#undef OX_BLOCKS
