/* detect_kern.h: the inner loops of csi_detect (detect.c), included once
 * per instruction set: detect.c defines KSFX (the name suffix) and KVW (the
 * doubles per vector of the element-wise updates) and compiles the second
 * copy under CSI_TARGET_BEGIN("avx2") (internal.h).
 *
 * Every sum keeps the same order of operations in both copies: the dot
 * products in eight partial sums (two 4-lane GCC vectors: two SSE2
 * registers each on plain x86-64, one AVX2 register each), combined in
 * one fixed order; the updates element by element.  There is no FMA: C11
 * mode does not contract a * b + c, and "avx2" does not enable FMA
 * instructions.  So both copies give the same bits (test_detect compares
 * them), and the AVX2 one only does the work in fewer instructions. */

#define KCAT2(a, b) a##b
#define KCAT(a, b) KCAT2(a, b)
#define KN(name) KCAT(name, KSFX)

/* sum a[j] b[j] in eight partial sums */
static double KN(dot8)(const double *a, const double *b, size_t n) {
  v4d s0 = {0, 0, 0, 0}, s1 = {0, 0, 0, 0};
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    v4d a0, a1, b0, b1;
    memcpy(&a0, a + j, sizeof a0), memcpy(&a1, a + j + 4, sizeof a1);
    memcpy(&b0, b + j, sizeof b0), memcpy(&b1, b + j + 4, sizeof b1);
    s0 += a0 * b0, s1 += a1 * b1;
  }
  double s = ((s0[0] + s1[0]) + (s0[1] + s1[1])) +
             ((s0[2] + s1[2]) + (s0[3] + s1[3]));
  for (; j < n; j++)
    s += a[j] * b[j];
  return s;
}

/* dot8(a[i], b, n) for four vectors a[i], two per pass over b (more would
 * spill the sixteen SSE registers); each sum keeps dot8's order. */
static void KN(dot8x4)(const double *const a[4], const double *b, size_t n,
                       double out[4]) {
  for (int h = 0; h < 4; h += 2) {
    const double *x = a[h], *y = a[h + 1];
    v4d s0 = {0, 0, 0, 0}, s1 = s0, t0 = s0, t1 = s0;
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
      v4d b0, b1, x0, x1, y0, y1;
      memcpy(&b0, b + j, sizeof b0), memcpy(&b1, b + j + 4, sizeof b1);
      memcpy(&x0, x + j, sizeof x0), memcpy(&x1, x + j + 4, sizeof x1);
      memcpy(&y0, y + j, sizeof y0), memcpy(&y1, y + j + 4, sizeof y1);
      s0 += x0 * b0, s1 += x1 * b1, t0 += y0 * b0, t1 += y1 * b1;
    }
    double sx = ((s0[0] + s1[0]) + (s0[1] + s1[1])) +
                ((s0[2] + s1[2]) + (s0[3] + s1[3]));
    double sy = ((t0[0] + t1[0]) + (t0[1] + t1[1])) +
                ((t0[2] + t1[2]) + (t0[3] + t1[3]));
    for (size_t k = j; k < n; k++)
      sx += x[k] * b[k], sy += y[k] * b[k];
    out[h] = sx, out[h + 1] = sy;
  }
}

/* A template's amplitude and variance in one pass over its row r:
 * amp = dot8(r, e), var = dot8(r .* r, sig2), r .* r formed on the fly
 * (the same product, rounded once, that a stored r^2 would hold). */
static void KN(tmpl_amp_var)(const double *r, const double *e,
                             const double *sig2, size_t n, double *amp,
                             double *var) {
  v4d s0 = {0, 0, 0, 0}, s1 = s0, t0 = s0, t1 = s0;
  size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    v4d r0, r1, e0, e1, g0, g1;
    memcpy(&r0, r + j, sizeof r0), memcpy(&r1, r + j + 4, sizeof r1);
    memcpy(&e0, e + j, sizeof e0), memcpy(&e1, e + j + 4, sizeof e1);
    memcpy(&g0, sig2 + j, sizeof g0), memcpy(&g1, sig2 + j + 4, sizeof g1);
    s0 += r0 * e0, s1 += r1 * e1;
    t0 += (r0 * r0) * g0, t1 += (r1 * r1) * g1;
  }
  double sa = ((s0[0] + s1[0]) + (s0[1] + s1[1])) +
              ((s0[2] + s1[2]) + (s0[3] + s1[3]));
  double sv = ((t0[0] + t1[0]) + (t0[1] + t1[1])) +
              ((t0[2] + t1[2]) + (t0[3] + t1[3]));
  for (; j < n; j++)
    sa += r[j] * e[j], sv += (r[j] * r[j]) * sig2[j];
  *amp = sa, *var = sv;
}

/* e -= c[i] q_i, and with S2 s2 += c[i] q_i, for the four columns
 * q_i = q + i p, in column order per point: the same operations as one
 * column at a time, KVW points per vector with e and s2 in registers (e
 * and s2 may alias as far as the compiler knows, so it would not vectorise
 * the plain loop). */
typedef double KN(vu) __attribute__((vector_size(8 * KVW)));
#define UPDATE4(NAME, S2)                                                      \
  static void NAME(double *e, double *s2, const double *q, size_t p,           \
                   const double *c) {                                          \
    const double *q0 = q, *q1 = q + p, *q2 = q + 2 * p, *q3 = q + 3 * p;       \
    KN(vu) c0, c1, c2, c3;                                                     \
    for (int l = 0; l < KVW; l++)                                              \
      c0[l] = c[0], c1[l] = c[1], c2[l] = c[2], c3[l] = c[3];                  \
    size_t j = 0;                                                              \
    for (; j + KVW <= p; j += KVW) {                                           \
      KN(vu) ev, sv, a0, a1, a2, a3;                                           \
      memcpy(&ev, e + j, sizeof ev);                                           \
      memcpy(&a0, q0 + j, sizeof a0), memcpy(&a1, q1 + j, sizeof a1);          \
      memcpy(&a2, q2 + j, sizeof a2), memcpy(&a3, q3 + j, sizeof a3);          \
      a0 *= c0, a1 *= c1, a2 *= c2, a3 *= c3;                                  \
      ev -= a0, ev -= a1, ev -= a2, ev -= a3;                                  \
      memcpy(e + j, &ev, sizeof ev);                                           \
      if (S2) {                                                                \
        memcpy(&sv, s2 + j, sizeof sv);                                        \
        sv += a0, sv += a1, sv += a2, sv += a3;                                \
        memcpy(s2 + j, &sv, sizeof sv);                                        \
      }                                                                        \
    }                                                                          \
    for (; j < p; j++)                                                         \
      for (int i = 0; i < 4; i++) {                                            \
        double t = c[i] * q[(size_t)i * p + j];                                \
        e[j] -= t;                                                             \
        if (S2)                                                                \
          s2[j] += t;                                                          \
      }                                                                        \
  }
UPDATE4(KN(update4_e), 0)
UPDATE4(KN(update4_es), 1)
#undef UPDATE4

/* rss[NOFF], the band t, its amplitude amp and standard error se
 * (INFINITY when undefined) at each offset for reference band b; returns
 * 0 when the band is not covered.  Its 4-lane vectors are
 * element-wise, so both copies give the same bits; without AVX they lived
 * on the stack. */
static int KN(ref_fit)(const csi_detector *d, const double *row, size_t b,
                         double *rss, double *tval, double *amp,
                         double *se) {
  const struct reftab *t = &d->ref[b];
  if (!t->n)
    return 0;
  size_t j0 = t->j0, j1 = t->j0 + t->n - 1, n = t->n;
  /* the row's part of the normal equations does not depend on the offset
   * but for its band column */
  double aty[3] = {0, 0, 0};
  const double *uu = t->u; /* the same values as (x - pos) / half here */
  for (size_t j = j0; j <= j1; j++) {
    double u = uu[j - j0];
    aty[0] += 1 * row[j], aty[1] += u * row[j], aty[2] += u * u * row[j];
  }
  if (t->singular)
    return 0;
  /* Per offset, every sum in point order as a direct loop would take it;
   * the offsets side by side (point outer, offset inner, four per vector,
   * element-wise), so the NOFF dependency chains overlap instead of
   * waiting for each other. */
  v4o a3v[NOFFV], r2v[NOFFV], cv[4][NOFFV];
  double a3y[4 * NOFFV], r2[4 * NOFFV], coef[4][4 * NOFFV];
  memset(a3v, 0, sizeof a3v);
  memset(r2v, 0, sizeof r2v);
  for (size_t j = j0; j <= j1; j++) {
    const double *pj = t->proft + (j - j0) * 4 * NOFFV;
    v4o y = {row[j], row[j], row[j], row[j]};
    for (int g = 0; g < NOFFV; g++) {
      v4o pv4;
      memcpy(&pv4, pj + 4 * g, sizeof pv4);
      a3v[g] += pv4 * y;
    }
  }
  memcpy(a3y, a3v, sizeof a3y);
  memset(coef, 0, sizeof coef);
  for (int io = 0; io < NOFF; io++) {
    /* the right-hand side through the recorded elimination */
    double b4[4] = {aty[0], aty[1], aty[2], a3y[io]};
    for (int c = 0; c < 4; c++) {
      int piv = t->piv[io][c];
      double tmp = b4[c];
      b4[c] = b4[piv], b4[piv] = tmp;
      for (int r = 0; r < 4; r++)
        if (r != c)
          b4[r] -= t->fct[io][c][r] * b4[c];
    }
    for (int c = 0; c < 4; c++)
      coef[c][io] = b4[c] / t->diag[io][c];
  }
  memcpy(cv, coef, sizeof cv);
  for (size_t j = j0; j <= j1; j++) {
    const double *pj = t->proft + (j - j0) * 4 * NOFFV;
    double uj = uu[j - j0];
    v4o u = {uj, uj, uj, uj}, y = {row[j], row[j], row[j], row[j]};
    for (int g = 0; g < NOFFV; g++) {
      v4o pv4;
      memcpy(&pv4, pj + 4 * g, sizeof pv4);
      v4o fit = cv[0][g] + cv[1][g] * u + cv[2][g] * u * u + cv[3][g] * pv4;
      r2v[g] += (y - fit) * (y - fit);
    }
  }
  memcpy(r2, r2v, sizeof r2);
  for (int io = 0; io < NOFF; io++) {
    double s2 = r2[io] / (double)(n - 4), inv33 = t->inv33[io];
    rss[io] = r2[io];
    tval[io] = inv33 > 0 && s2 > 0 ? coef[3][io] / sqrt(s2 * inv33) : 0;
    amp[io] = coef[3][io];
    se[io] = inv33 > 0 && s2 > 0 ? sqrt(s2 * inv33) : INFINITY;
  }
  return 1;
}

/* resid_cols (detect.c) for sixteen columns v[0..15]: copied point-major
 * into scr (16 p), so that lane c of the four vectors is column c; per
 * basis column a, the dot of each column with q_a summed in j order and
 * the update v -= dot q_a element by element, as the scalar loop.  The
 * update for a and the dot for a + 1 share one pass (the dot at point j
 * reads the point just updated, as the scalar loop's next pass would). */
static void KN(resid16)(const double *q, size_t p, size_t m,
                        double *const *v, double *scr) {
  for (size_t j = 0; j < p; j++)
    for (int c = 0; c < 16; c++)
      scr[j * 16 + (size_t)c] = v[c][j];
  v4d z = {0, 0, 0, 0}, d0 = z, d1 = z, d2 = z, d3 = z;
  for (size_t a = 0; a <= m; a++) {
    const double *qu = a ? q + (a - 1) * p : NULL, *qd = a < m ? q + a * p : NULL;
    v4d u0 = d0, u1 = d1, u2 = d2, u3 = d3;
    d0 = z, d1 = z, d2 = z, d3 = z;
    for (size_t j = 0; j < p; j++) {
      double *sj = scr + j * 16;
      v4d x0, x1, x2, x3;
      memcpy(&x0, sj, sizeof x0), memcpy(&x1, sj + 4, sizeof x1);
      memcpy(&x2, sj + 8, sizeof x2), memcpy(&x3, sj + 12, sizeof x3);
      if (qu) {
        double t = qu[j];
        v4d tv = {t, t, t, t};
        x0 -= u0 * tv, x1 -= u1 * tv, x2 -= u2 * tv, x3 -= u3 * tv;
        memcpy(sj, &x0, sizeof x0), memcpy(sj + 4, &x1, sizeof x1);
        memcpy(sj + 8, &x2, sizeof x2), memcpy(sj + 12, &x3, sizeof x3);
      }
      if (qd) {
        double t = qd[j];
        v4d tv = {t, t, t, t};
        d0 += tv * x0, d1 += tv * x1, d2 += tv * x2, d3 += tv * x3;
      }
    }
  }
  for (size_t j = 0; j < p; j++)
    for (int c = 0; c < 16; c++)
      v[c][j] = scr[j * 16 + (size_t)c];
}

/* apatite_split's normal equations (detect.c) from its point-major table
 * t (eight lanes a point: the APA_COLS columns, then zeros): with
 * w = 1 / sig^2 at the points it keeps, a[r * 8 + c] = sum cr col_c and
 * b[r] = sum cr e over j in order, cr = col_r w, rows in lanes, each
 * product and sum as the scalar loop forms it (lanes c > r are not used). */
static void KN(apa_normal)(const double *t, const double *e, const double *sig,
                           size_t p, double lo, double step, double nu1,
                           double *a, double *b) {
  v4d z = {0, 0, 0, 0}, a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a4h = z,
      a5 = z, a5h = z, a6 = z, a6h = z, bl = z, bh = z;
  for (size_t j = 0; j < p; j++) {
    double x = lo + step * (double)j;
    if (fabs(x - nu1) < APA_NEAR || !(sig[j] > 0))
      continue;
    double w = 1 / (sig[j] * sig[j]);
    v4d cl, ch, rl, rh;
    memcpy(&cl, t + j * 8, sizeof cl), memcpy(&ch, t + j * 8 + 4, sizeof ch);
    rl = cl * w, rh = ch * w;
    a0 += rl[0] * cl, a1 += rl[1] * cl, a2 += rl[2] * cl, a3 += rl[3] * cl;
    a4 += rh[0] * cl, a4h += rh[0] * ch;
    a5 += rh[1] * cl, a5h += rh[1] * ch;
    a6 += rh[2] * cl, a6h += rh[2] * ch;
    bl += rl * e[j], bh += rh * e[j];
  }
  v4d lo4[7] = {a0, a1, a2, a3, a4, a5, a6}, hi4[3] = {a4h, a5h, a6h};
  for (int r = 0; r < 7; r++) {
    memcpy(a + r * 8, &lo4[r], sizeof lo4[r]);
    memcpy(a + r * 8 + 4, r < 4 ? &z : &hi4[r - 4], sizeof z);
  }
  memcpy(b, &bl, sizeof bl), memcpy(b + 4, &bh, sizeof bh);
}

static const detect_kern KN(kern) = {KN(dot8), KN(dot8x4), KN(tmpl_amp_var),
                                     KN(update4_e), KN(update4_es),
                                     KN(ref_fit), KN(resid16),
                                     KN(apa_normal)};

#undef KN
#undef KCAT
#undef KCAT2
