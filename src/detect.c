/* detect.c: "is there mineral signal in this spectrum?", measured against
 * the spectrum's own noise, and the tissue-free mineral features of the
 * classifier (README "Classifier").
 *
 * Everything works on a Raman spectrum on the model axis (lo + step * j,
 * j < p) before baseline removal or normalisation, so counts keep their
 * noise scale.  Per spectrum:
 *
 *  1. Axis offset: a local least-squares fit of the phenylalanine ring band
 *     (1003.4 cm^-1, bands.md 1A tissue) over a grid of offsets; when the
 *     band is significant the row is re-interpolated onto the corrected
 *     axis.  Without tissue, the best oxalate or calcite template's shift
 *     (crystals whose bands do not move with composition) is reported.
 *  2. Nuisance projection: the row minus its least-squares fit by a smooth
 *     baseline (Legendre polynomials, one degree per ~120 cm^-1, as narrow as
 *     fluorescence gets) and a tissue basis (each breast-tissue band of
 *     bands.md 1A at two widths and its first derivative, so band shape,
 *     width and small position errors are absorbed).  The basis is
 *     orthonormal (Gram-Schmidt, twice), built once per model axis.
 *  3. Detection: every mineral template (the class's diagnostic bands at
 *     their relative heights, several shifts and two widths) is also
 *     projected off the nuisance basis; its amplitude is <r, e> for unit
 *     r.  The standard error uses a local robust noise (MAD of the
 *     residual after the best template, in blocks of 64 points), so tissue
 *     the basis does not explain inflates the noise there instead of
 *     looking like mineral.  mineral_snr = amplitude / standard error of
 *     the best template.
 *  4. Features: the nuisance residual divided by the best amplitude,
 *     floored at the detection threshold's amplitude (tissue-only rows stay
 *     noise-sized).
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#define PHE_MAX_OFFSET 7.0
#define PHE_MIN_T 8.0  /* reference band t needed to trust the offset */
#define MIN_T_OFFSET 10.0 /* mineral template t needed for a mineral offset */
/* Tissue basis error, share of the local tissue signal: the basis has one
 * shape per band (one column only next to a main mineral band), while real
 * bands vary in width by +-30 % and from Gaussian to Lorentzian, which a
 * fixed shape misfits by several % of the band height.  0.08 is the
 * smallest value at which the training tissue's 99.5th percentile of
 * mineral_snr (train.c learn_threshold) is at the 6.5 sigma floor for the
 * full-window model (0.02 gave 8.2 sigma and missed minerals at SNR 5). */
#define TISSUE_MODEL_ERR 0.08
#define TISSUE_REACH 5 /* points either side for the local tissue signal */
#define BLOCK 64       /* points per local noise block */
#define LN2 0.69314718055994530942
#define NOFF 57 /* axis offsets -7..7 step 0.25 (tissue_offset) */
#define NREF 4  /* reference bands of tissue_offset */
/* Apatite spacing statistic (apatite_split): HA and whitlockite nu1 differ
 * by 3-6 cm^-1, less than an uncorrected axis drift (bands.md 0, 4a), but
 * the spacings from nu1 to each phase's own weak bands do not depend on the
 * axis.  nu1 is searched over APA_LO..APA_HI; the columns are built on a
 * grid of nu1 positions APA_STEP apart. */
#define APA_LO 944.0
#define APA_HI 986.0
#define APA_STEP 1.0
#define APA_N 43 /* (APA_HI - APA_LO) / APA_STEP + 1 */
/* columns: HA weak bands, whitlockite weak bands, carbonate nu1 CO3, and
 * nu1 itself at three widths and as a derivative (its shape, and what the
 * nuisance projection leaks of it into its neighbourhood) */
#define APA_COLS 7
/* points this close to nu1 are left out of the fit: its core, whose width
 * and asymmetry change with carbonate */
#define APA_NEAR 6.0
#define APA_MIN_T 5.0 /* HA or whitlockite template t needed */

typedef struct tband {
  double pos, fwhm, height;
} tband;

/* Mineral templates: the diagnostic bands of each class (bands.md 1A and
 * the RRUFF spectra of section 0), FWHM including a typical instrument
 * width.  Class names are the classifier's. */
typedef struct tmpl {
  const char *cls;
  int absolute; /* band positions fixed by the crystal: usable for offsets */
  const tband *b;
  size_t nb;
} tmpl;

static const tband m_cod[] = {{1476, 10, 1.0}, {910, 9, 0.6}, {505, 11, 0.4},
                              {597, 12, 0.08}};
static const tband m_com[] = {{1463, 10, 0.5}, {1490, 10, 0.42},
                              {896, 9, 0.92},  {503, 10, 1.0},
                              {865, 12, 0.08}};
static const tband m_ha[] = {{961, 10, 1.0},  {432, 14, 0.16}, {448, 14, 0.10},
                             {580, 12, 0.10}, {591, 12, 0.06}, {1046, 16, 0.07},
                             {1029, 14, 0.04}, {1076, 16, 0.05}};
static const tband m_wht[] = {{965, 11, 1.0}, {951, 14, 0.10}, {922, 12, 0.08},
                              {405, 14, 0.18}, {631, 14, 0.09}, {549, 14, 0.05},
                              {1090, 16, 0.07}};
static const tband m_cal[] = {{1086, 7, 1.0}, {712, 8, 0.07}, {281, 10, 0.3}};

#define N_(a) (sizeof(a) / sizeof((a)[0]))
static const tmpl templates[] = {
    {"oxalate", 1, m_cod, N_(m_cod)},
    {"oxalate", 1, m_com, N_(m_com)},
    {"hydroxyapatite", 0, m_ha, N_(m_ha)},
    {"whitlockite", 0, m_wht, N_(m_wht)},
    {"calcite", 1, m_cal, N_(m_cal)},
};
#define NTMPL N_(templates)

/* Breast-tissue bands (bands.md 1A "Breast tissue background"; Shafer-Peltier
 * 2002, Frank 1995, Movasaghi 2007): protein/collagen, lipid, carotenoid,
 * nucleic acid and water, FWHM with instrument. */
static const tband tissue[] = {
    {540, 16, 1},  {621, 10, 1},  {643, 12, 1},  {720, 12, 1},  {759, 12, 1},
    {815, 16, 1},  {828, 12, 1},  {853, 16, 1},  {876, 16, 1},  {920, 16, 1},
    {939, 22, 1},  {1004, 9, 1},  {1032, 11, 1}, {1063, 16, 1}, {1080, 19, 1},
    {1127, 16, 1}, {1157, 12, 1}, {1174, 12, 1}, {1207, 13, 1}, {1245, 35, 1},
    {1270, 35, 1}, {1302, 22, 1}, {1340, 25, 1}, {1440, 30, 1}, {1450, 30, 1},
    {1525, 12, 1}, {1552, 16, 1}, {1585, 12, 1}, {1605, 12, 1}, {1615, 12, 1},
    {1640, 90, 1}, {1656, 30, 1}, {1667, 50, 1}, {1745, 25, 1},
    /* nucleic acids (Movasaghi 2007): O-P-O 785, PO2- 1095, purines
     * 1485/1578, 670/728 */
    {670, 16, 1},  {728, 13, 1},  {785, 16, 1},  {1095, 20, 1},
    {1485, 20, 1}, {1578, 20, 1},
};

/* Tissue band forms: widths relative to the table's; the last is the
 * first derivative (position errors). */
static const double tforms[] = {1.0, 1.0, 1.7, 1.0};
static const int tform_kind[] = {0, 2, 0, 1}; /* pV, Lorentzian, pV, d/dx */
static const double shifts[] = {-6, -4, -2, 0, 2, 4, 6};
static const double widths[] = {1.0, 1.6};
#define MAXT (NTMPL * N_(shifts) * N_(widths)) /* template rows, at most */

struct csi_detector {
  double lo, step;
  size_t p, m, mpoly, nt;
  double *q;       /* m columns of p: orthonormal nuisance basis */
  double *r;       /* nt rows of p: unit residualised templates */
  double *r2;      /* nt rows of p: r squared (the templates' variances) */
  int *tid;        /* template table index of each row */
  unsigned char *mask; /* feature points: near a mineral band */
  double *tshift;  /* shift of each row */
  /* apatite spacing columns (apatite_split): APA_COLS rows of p per nu1
   * grid position, residualised against q; NULL when the window does not
   * hold the nu1 range */
  double *apa;
  /* reference bands of tissue_offset, which depend only on the axis:
   * per band its span j0..j1, the band profile at every offset and the
   * row-independent part of the normal equations (same sums, same order,
   * as computing them per spectrum: results are bit-identical) */
  struct reftab {
    size_t j0, n; /* n == 0: band not covered */
    double *prof; /* NOFF rows of n: pv at each offset */
    double ata[NOFF][4][4];
  } ref[NREF];
};

/* Pseudo-Voigt (eta 0.5) of unit height; with deriv, its x-derivative
 * times fwhm / 2 (unitless scale). */
static double pv(double x, double pos, double fwhm, int deriv) {
  double d = 2 * (x - pos) / fwhm, l = 1 / (1 + d * d), g = exp(-LN2 * d * d);
  if (deriv == 2)
    return l;
  if (!deriv)
    return 0.5 * l + 0.5 * g;
  return 0.5 * (2 * d * l * l) + 0.5 * (2 * LN2 * d * g);
}
#undef LN2

/* Orthonormalise column v (length p) against the first m columns of q and
 * append it; returns 1 when it was kept (not in their span). */
static int gs_append(double *q, size_t p, size_t m, double *v) {
  double n0 = 0;
  for (size_t j = 0; j < p; j++)
    n0 += v[j] * v[j];
  if (!(n0 > 0))
    return 0;
  for (int pass = 0; pass < 2; pass++)
    for (size_t a = 0; a < m; a++) {
      double dot = 0;
      const double *qa = q + a * p;
      for (size_t j = 0; j < p; j++)
        dot += qa[j] * v[j];
      for (size_t j = 0; j < p; j++)
        v[j] -= dot * qa[j];
    }
  double n1 = 0;
  for (size_t j = 0; j < p; j++)
    n1 += v[j] * v[j];
  if (!(n1 > 1e-8 * n0))
    return 0;
  n1 = sqrt(n1);
  for (size_t j = 0; j < p; j++)
    q[m * p + j] = v[j] / n1;
  return 1;
}

void csi_detector_free(csi_detector *d) {
  if (!d)
    return;
  free(d->q), free(d->r), free(d->r2), free(d->tid), free(d->tshift), free(d->mask);
  free(d->apa);
  for (size_t b = 0; b < NREF; b++)
    free(d->ref[b].prof);
  free(d);
}

/* Is tissue band t within reach of a main (height >= 0.3) mineral band? */
static int near_mineral(const tband *t) {
  for (size_t k = 0; k < NTMPL; k++)
    for (size_t b = 0; b < templates[k].nb; b++) {
      const tband *m = &templates[k].b[b];
      if (m->height >= 0.3 && fabs(m->pos - t->pos) < 1.5 * t->fwhm + 10)
        return 1;
    }
  return 0;
}

/* Does the template have a band inside the window (with margin)? */
static int tmpl_in(const tmpl *t, double lo, double hi) {
  for (size_t k = 0; k < t->nb; k++)
    if (t->b[k].pos - 10 >= lo && t->b[k].pos + 10 <= hi &&
        t->b[k].height >= 0.3)
      return 1;
  return 0;
}

static cs_status ref_tables(csi_detector *d, cs_error *err);

/* The apatite spacing columns for every nu1 grid position: the weak bands
 * of m_ha and m_wht at their spacings from the template's nu1 (its first
 * band, left out; whitlockite's lower nu1 component 14 cm^-1 below, a
 * doublet HA does not have, stays in), B-type carbonate nu1 CO3 (1070, FWHM 20, Awonusi
 * 2007) at its spacing from HA nu1, which overlaps HA nu3 and whitlockite's
 * 1090, and nu1 itself (FWHM 7, 12, 18 and the derivative).  Each column is
 * residualised against the nuisance basis like the spectrum. */
static cs_status apa_tables(csi_detector *d, double *v, cs_error *err) {
  size_t p = d->p;
  double hi = d->lo + d->step * (double)(p - 1);
  if (d->lo > APA_LO - 25 || hi < APA_HI + 25)
    return CS_OK;
  if (!(d->apa = malloc((size_t)APA_N * APA_COLS * p * sizeof *d->apa)))
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  static const tband co3[] = {{1070, 20, 1.0}};
  static const tband nu1w[] = {{961, 7, 1}, {961, 12, 1}, {961, 18, 1}};
  const tband *tb[APA_COLS] = {m_ha, m_wht, co3, nu1w, nu1w + 1, nu1w + 2,
                               nu1w + 1};
  const size_t nb[APA_COLS] = {N_(m_ha), N_(m_wht), 1, 1, 1, 1, 1};
  /* spacings from nu1: whitlockite's from m_wht's nu1, the rest from HA's */
  const double ref[APA_COLS] = {m_ha[0].pos, m_wht[0].pos, m_ha[0].pos,
                                961, 961, 961, 961};
  for (size_t g = 0; g < APA_N; g++) {
    double nu1 = APA_LO + APA_STEP * (double)g;
    for (size_t c = 0; c < APA_COLS; c++) {
      int weak = c < 2; /* the phases' own bands, without nu1 */
      for (size_t j = 0; j < p; j++) {
        double x = d->lo + d->step * (double)j, y = 0;
        for (size_t b = 0; b < nb[c]; b++) {
          double pos = tb[c][b].pos - ref[c];
          if (weak && pos == 0)
            continue;
          y += tb[c][b].height * pv(x, nu1 + pos, tb[c][b].fwhm, c == 6);
        }
        v[j] = y;
      }
      for (size_t a = 0; a < d->m; a++) {
        double dot = 0;
        for (size_t j = 0; j < p; j++)
          dot += d->q[a * p + j] * v[j];
        for (size_t j = 0; j < p; j++)
          v[j] -= dot * d->q[a * p + j];
      }
      memcpy(d->apa + (g * APA_COLS + c) * p, v, p * sizeof *v);
    }
  }
  return CS_OK;
}

cs_status csi_detector_check(cs_technique tech, double lo, double step,
                             size_t p, cs_error *err) {
  if (tech != CS_TECH_RAMAN)
    return csi_error(err, CS_ERR_ARG, "mineral detection is for Raman");
  if (p < 32 || !(step > 0))
    return csi_error(err, CS_ERR_ARG, "detector window too small");
  double hi = lo + step * (double)(p - 1);
  for (size_t k = 0; k < NTMPL; k++)
    if (tmpl_in(&templates[k], lo, hi))
      return CS_OK;
  return csi_error(err, CS_ERR_ARG, "window %g-%g cm^-1 holds no diagnostic "
                   "mineral band", lo, hi);
}

cs_status csi_detector_new(cs_technique tech, double lo, double step, size_t p,
                           csi_detector **out, cs_error *err) {
  *out = NULL;
  cs_status st0 = csi_detector_check(tech, lo, step, p, err);
  if (st0)
    return st0;
  double hi = lo + step * (double)(p - 1), span = hi - lo;
  size_t deg = (size_t)(span / 120);
  deg = deg < 2 ? 2 : deg > 14 ? 14 : deg;
  size_t maxm = deg + 1 + N_(tforms) * N_(tissue);
  size_t maxt = MAXT;
  csi_detector *d = calloc(1, sizeof *d);
  double *v = malloc(p * sizeof *v);
  if (!d || !v || !(d->q = malloc(maxm * p * sizeof *d->q)) ||
      !(d->r = malloc(maxt * p * sizeof *d->r)) ||
      !(d->tid = malloc(maxt * sizeof *d->tid)) ||
      !(d->tshift = malloc(maxt * sizeof *d->tshift)) ||
      !(d->mask = calloc(p, 1))) {
    free(v);
    csi_detector_free(d);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  d->lo = lo, d->step = step, d->p = p;
  /* Legendre polynomials P0..Pdeg on [-1, 1] */
  for (size_t k = 0; k <= deg; k++) {
    for (size_t j = 0; j < p; j++) {
      double u = 2 * (double)j / (double)(p - 1) - 1, p0 = 1, p1 = u;
      if (k == 0)
        v[j] = 1;
      else {
        for (size_t n = 2; n <= k; n++) {
          double p2 = ((2 * (double)n - 1) * u * p1 - ((double)n - 1) * p0) /
                      (double)n;
          p0 = p1, p1 = p2;
        }
        v[j] = p1;
      }
    }
    d->m += (size_t)gs_append(d->q, p, d->m, v);
  }
  d->mpoly = d->m;
  for (size_t b = 0; b < N_(tissue); b++) {
    const tband *t = &tissue[b];
    if (t->pos + t->fwhm < lo || t->pos - t->fwhm > hi)
      continue;
    /* a tissue band close to a main mineral band gets one column only:
     * extra widths and a derivative there would absorb the mineral */
    size_t nforms = near_mineral(t) ? 1 : N_(tforms);
    for (size_t form = 0; form < nforms; form++) {
      double w = tforms[form] * t->fwhm;
      for (size_t j = 0; j < p; j++)
        v[j] = pv(lo + step * (double)j, t->pos, w, tform_kind[form]);
      d->m += (size_t)gs_append(d->q, p, d->m, v);
    }
  }
  for (size_t k = 0; k < NTMPL; k++) {
    if (!tmpl_in(&templates[k], lo, hi))
      continue;
    /* features: windows around every band of the template, wide enough
     * for the shifts and the broader widths */
    for (size_t b = 0; b < templates[k].nb; b++)
      for (size_t j = 0; j < p; j++) {
        double x = lo + step * (double)j;
        if (fabs(x - templates[k].b[b].pos) <= 8 + 1.5 * templates[k].b[b].fwhm)
          d->mask[j] = 1;
      }
    for (size_t s = 0; s < N_(shifts); s++)
      for (size_t w = 0; w < N_(widths); w++) {
        for (size_t j = 0; j < p; j++) {
          double x = lo + step * (double)j, y = 0;
          for (size_t b = 0; b < templates[k].nb; b++) {
            const tband *t = &templates[k].b[b];
            y += t->height * pv(x, t->pos + shifts[s], t->fwhm * widths[w], 0);
          }
          v[j] = y;
        }
        double n0 = 0;
        for (size_t j = 0; j < p; j++)
          n0 += v[j] * v[j];
        /* residualise against the nuisance basis, then normalise */
        for (size_t a = 0; a < d->m; a++) {
          double dot = 0;
          for (size_t j = 0; j < p; j++)
            dot += d->q[a * p + j] * v[j];
          for (size_t j = 0; j < p; j++)
            v[j] -= dot * d->q[a * p + j];
        }
        double nn = 0;
        for (size_t j = 0; j < p; j++)
          nn += v[j] * v[j];
        if (!(nn > 1e-12))
          continue;
        nn = sqrt(nn);
        if (getenv("CS_DEBUG_DET") && shifts[s] == 0)
          fprintf(stderr, "template %zu width %g kept %.3f\n", k, widths[w], nn / sqrt(n0));
        for (size_t j = 0; j < p; j++)
          d->r[d->nt * p + j] = v[j] / nn;
        d->tid[d->nt] = (int)k;
        d->tshift[d->nt] = shifts[s];
        d->nt++;
      }
  }
  cs_status sta = apa_tables(d, v, err);
  free(v);
  if (sta) {
    csi_detector_free(d);
    return sta;
  }
  if (d->nt && !(d->r2 = malloc(d->nt * p * sizeof *d->r2))) {
    csi_detector_free(d);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  for (size_t k = 0; k < d->nt * p; k++)
    d->r2[k] = d->r[k] * d->r[k];
  if (!d->nt) {
    csi_detector_free(d);
    return csi_error(err, CS_ERR_ARG, "window %g-%g cm^-1 holds no diagnostic "
                     "mineral band", lo, hi);
  }
  cs_status st = ref_tables(d, err);
  if (st) {
    csi_detector_free(d);
    return st;
  }
  *out = d;
  return CS_OK;
}

/* Axis offset from isolated tissue reference bands: phenylalanine
 * 1003.4 (bands.md 1A; the brief's internal standard), the carotenoid
 * 1157/1525 and the lipid ester C=O 1745 cm^-1.  Each band: a local fit
 * (quadratic + band) at offsets -7..7 in 0.25 steps; the residuals of the
 * bands that are significant (t >= 5) are summed in units of their own
 * noise, the least sum wins, refined by a parabola.  Returns the combined
 * t (root sum of squares; 0 when nothing is covered); *phe_t gets
 * phenylalanine's own. */
typedef struct refband {
  double pos, fwhm, half;
} refband;
static const refband refs[] = {
    {1003.4, 9, 23}, {1157, 12, 26}, {1525, 12, 26}, {1745, 25, 45}};

/* The axis-only part of ref_fit for every reference band: span, band
 * profiles and normal matrices (d->ref; CS_ERR_NOMEM when out of memory). */
static cs_status ref_tables(csi_detector *d, cs_error *err) {
  double hi = d->lo + d->step * (double)(d->p - 1);
  for (size_t b = 0; b < NREF; b++) {
    const refband *rb = &refs[b];
    struct reftab *t = &d->ref[b];
    t->n = 0;
    if (rb->pos - rb->half - PHE_MAX_OFFSET < d->lo ||
        rb->pos + rb->half + PHE_MAX_OFFSET > hi)
      continue;
    size_t j0 = (size_t)ceil((rb->pos - rb->half - d->lo) / d->step);
    size_t j1 = (size_t)floor((rb->pos + rb->half - d->lo) / d->step);
    size_t n = j1 - j0 + 1;
    if (n < 10)
      continue;
    if (!(t->prof = malloc(NOFF * n * sizeof *t->prof)))
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    t->j0 = j0, t->n = n;
    for (int io = 0; io < NOFF; io++) {
      double off = -PHE_MAX_OFFSET + 0.25 * io, *pr = t->prof + (size_t)io * n;
      double (*a)[4] = t->ata[io];
      memset(a, 0, sizeof t->ata[io]);
      for (size_t j = j0; j <= j1; j++) {
        double x = d->lo + d->step * (double)j, u = (x - rb->pos) / rb->half;
        double f[4] = {1, u, u * u, pv(x, rb->pos + off, rb->fwhm, 0)};
        pr[j - j0] = f[3];
        for (int r = 0; r < 4; r++)
          for (int c = 0; c < 4; c++)
            a[r][c] += f[r] * f[c];
      }
    }
  }
  return CS_OK;
}

/* rss[NOFF] and the band t at each offset for reference band b; returns
 * 0 when the band is not covered. */
static int ref_fit(const csi_detector *d, const double *row, size_t b,
                   double *rss, double *tval) {
  const refband *rb = &refs[b];
  const struct reftab *t = &d->ref[b];
  if (!t->n)
    return 0;
  size_t j0 = t->j0, j1 = t->j0 + t->n - 1, n = t->n;
  /* the row's part of the normal equations does not depend on the offset
   * but for its band column */
  double aty[3] = {0, 0, 0};
  for (size_t j = j0; j <= j1; j++) {
    double x = d->lo + d->step * (double)j, u = (x - rb->pos) / rb->half;
    aty[0] += 1 * row[j], aty[1] += u * row[j], aty[2] += u * u * row[j];
  }
  for (int io = 0; io < NOFF; io++) {
    const double *pr = t->prof + (size_t)io * n;
    /* normal equations of row on [1, u, u^2, band], 4 x 4 by Gauss-Jordan
     * with the unit vector e3 alongside for (A^-1)_33 */
    double a[4][6];
    double a3y = 0;
    for (size_t j = j0; j <= j1; j++)
      a3y += pr[j - j0] * row[j];
    for (int r = 0; r < 4; r++) {
      for (int c = 0; c < 4; c++)
        a[r][c] = t->ata[io][r][c];
      a[r][4] = r < 3 ? aty[r] : a3y;
      a[r][5] = r == 3;
    }
    int ok = 1;
    for (int c = 0; c < 4 && ok; c++) {
      int piv = c;
      for (int r = c + 1; r < 4; r++)
        if (fabs(a[r][c]) > fabs(a[piv][c]))
          piv = r;
      if (!(fabs(a[piv][c]) > 1e-12)) {
        ok = 0;
        break;
      }
      for (int k = 0; k < 6; k++) {
        double tmp = a[c][k];
        a[c][k] = a[piv][k], a[piv][k] = tmp;
      }
      for (int r = 0; r < 4; r++)
        if (r != c) {
          double fct = a[r][c] / a[c][c];
          for (int k = c; k < 6; k++)
            a[r][k] -= fct * a[c][k];
        }
    }
    if (!ok)
      return 0;
    double coef[4];
    for (int c = 0; c < 4; c++)
      coef[c] = a[c][4] / a[c][c];
    double inv33 = a[3][5] / a[3][3], r2 = 0;
    for (size_t j = j0; j <= j1; j++) {
      double x = d->lo + d->step * (double)j, u = (x - rb->pos) / rb->half;
      double fit = coef[0] + coef[1] * u + coef[2] * u * u +
                   coef[3] * pr[j - j0];
      r2 += (row[j] - fit) * (row[j] - fit);
    }
    double s2 = r2 / (double)(n - 4);
    rss[io] = r2;
    tval[io] = inv33 > 0 && s2 > 0 ? coef[3] / sqrt(s2 * inv33) : 0;
  }
  return 1;
}

static double tissue_offset(const csi_detector *d, const double *row,
                            double *offset, double *phe_t) {
  double sum[NOFF] = {0}, rss[NOFF], tv[NOFF], t2 = 0;
  int used = 0;
  *offset = 0, *phe_t = 0;
  for (size_t b = 0; b < NREF; b++) {
    if (!ref_fit(d, row, b, rss, tv))
      continue;
    int ib = 0;
    for (int io = 1; io < NOFF; io++)
      if (rss[io] < rss[ib])
        ib = io;
    if (b == 0)
      *phe_t = tv[ib] > 0 ? tv[ib] : 0;
    if (!(tv[ib] >= 5) || !(rss[ib] > 0))
      continue;
    for (int io = 0; io < NOFF; io++) /* in units of the band's noise */
      sum[io] += rss[io] / rss[ib];
    t2 += tv[ib] * tv[ib];
    used++;
  }
  if (!used)
    return 0;
  int ib = 0;
  for (int io = 1; io < NOFF; io++)
    if (sum[io] < sum[ib])
      ib = io;
  if (ib == 0 || ib + 1 == NOFF) /* at the edge: not a minimum */
    return 0;
  double off = -PHE_MAX_OFFSET + 0.25 * ib;
  double y0 = sum[ib - 1], y1 = sum[ib], y2 = sum[ib + 1], den = y0 - 2 * y1 + y2;
  if (den > 0)
    off += 0.25 * 0.5 * (y0 - y2) / den;
  *offset = off;
  return sqrt(t2);
}

/* Re-interpolate row so that a band at reported x appears at x - off. */
static void shift_row(double *row, double *tmp, size_t p, double off,
                      double step) {
  double s = off / step;
  for (size_t j = 0; j < p; j++) {
    double u = (double)j + s;
    if (u <= 0)
      tmp[j] = row[0];
    else if (u >= (double)(p - 1))
      tmp[j] = row[p - 1];
    else {
      size_t i = (size_t)u;
      double w = u - (double)i;
      tmp[j] = (1 - w) * row[i] + w * row[i + 1];
    }
  }
  memcpy(row, tmp, p * sizeof *row);
}


/* Position of the phosphate nu1 band in the nuisance residual e: the
 * centre, on a 0.25 cm^-1 grid over APA_LO..APA_HI, of the Gaussian (FWHM
 * 10, a typical nu1 width with instrument) that correlates best with e,
 * refined by a parabola through the best three.  0 when nothing
 * correlates positively. */
static int nu1_position(const csi_detector *d, const double *e, double *pos) {
  enum { NX = (int)((APA_HI - APA_LO) / 0.25) + 1 };
  size_t bi = 0;
  double c[NX], bc = -INFINITY;
  double s = 10 / (2 * sqrt(2 * 0.69314718055994530942)); /* FWHM -> sd */
  size_t j0 = (size_t)((APA_LO - 15 - d->lo) / d->step);
  size_t j1 = (size_t)((APA_HI + 15 - d->lo) / d->step);
  for (size_t i = 0; i < NX; i++) {
    double x0 = APA_LO + 0.25 * (double)i, a = 0;
    for (size_t j = j0; j <= j1 && j < d->p; j++) {
      double u = (d->lo + d->step * (double)j - x0) / s;
      a += exp(-0.5 * u * u) * e[j];
    }
    c[i] = a;
    if (a > bc)
      bc = a, bi = i;
  }
  double x = APA_LO + 0.25 * (double)bi;
  if (bi > 0 && bi + 1 < NX) {
    double den = c[bi - 1] - 2 * c[bi] + c[bi + 1];
    if (den < 0)
      x += 0.25 * 0.5 * (c[bi - 1] - c[bi + 1]) / den;
  }
  *pos = x;
  return bc > 0;
}

/* The apatite spacing statistic: weighted least squares (weights 1/sig^2,
 * points within APA_NEAR of nu1 left out) of e on the apatite columns at
 * the measured nu1; z = (a_wht - a_ha) / its standard error.  Positive:
 * whitlockite's weak bands, negative: HA's.  0 when the window or the fit
 * does not allow it. */
static int apatite_split(const csi_detector *d, const double *e,
                         const double *sig, double *nu1, double *z) {
  *z = 0, *nu1 = 0;
  if (!d->apa || !nu1_position(d, e, nu1))
    return 0;
  double gi = (*nu1 - APA_LO) / APA_STEP;
  size_t g = gi <= 0 ? 0 : gi >= APA_N - 1 ? APA_N - 1 : (size_t)(gi + 0.5);
  const double *col = d->apa + g * APA_COLS * d->p;
  double a[APA_COLS][APA_COLS] = {{0}}, b[APA_COLS] = {0};
  for (size_t j = 0; j < d->p; j++) {
    double x = d->lo + d->step * (double)j;
    if (fabs(x - *nu1) < APA_NEAR || !(sig[j] > 0))
      continue;
    double w = 1 / (sig[j] * sig[j]);
    for (int r = 0; r < APA_COLS; r++) {
      double cr = col[(size_t)r * d->p + j] * w;
      for (int c = 0; c <= r; c++)
        a[r][c] += cr * col[(size_t)c * d->p + j];
      b[r] += cr * e[j];
    }
  }
  /* Cholesky of the normal matrix A = L L'; for the contrast
   * c = (-1, 1, 0, ...), c'A^-1 b = (L^-1 c).(L^-1 b) and its variance
   * c'A^-1 c = |L^-1 c|^2 */
  double l[APA_COLS][APA_COLS] = {{0}};
  for (int r = 0; r < APA_COLS; r++)
    for (int c = 0; c <= r; c++) {
      double sum = a[r][c];
      for (int k = 0; k < c; k++)
        sum -= l[r][k] * l[c][k];
      if (r == c) {
        if (!(sum > 1e-12 * a[r][r]))
          return 0;
        l[r][r] = sqrt(sum);
      } else
        l[r][c] = sum / l[c][c];
    }
  double yb[APA_COLS], yc[APA_COLS], con[APA_COLS] = {-1, 1};
  for (int r = 0; r < APA_COLS; r++) {
    double sb = b[r], sc = con[r];
    for (int k = 0; k < r; k++)
      sb -= l[r][k] * yb[k], sc -= l[r][k] * yc[k];
    yb[r] = sb / l[r][r], yc[r] = sc / l[r][r];
  }
  double num = 0, var = 0;
  for (int r = 0; r < APA_COLS; r++)
    num += yc[r] * yb[r], var += yc[r] * yc[r];
  if (!(var > 0))
    return 0;
  *z = num / sqrt(var);
  return isfinite(*z);
}

/* Local robust noise: 1.4826 MAD of v in blocks of BLOCK points (the last
 * block takes the remainder), spread to every point. */
static void local_sigma(const double *v, size_t p, double *sig, double *tmp) {
  for (size_t b0 = 0; b0 < p; b0 += BLOCK) {
    size_t b1 = b0 + BLOCK <= p ? b0 + BLOCK : p;
    if (p - b1 < BLOCK / 2)
      b1 = p;
    size_t n = b1 - b0;
    memcpy(tmp, v + b0, n * sizeof *tmp);
    /* csi_median selects the same middle values a full sort would */
    double med = csi_median(tmp, n);
    for (size_t j = 0; j < n; j++)
      tmp[j] = fabs(v[b0 + j] - med);
    double mad = csi_median(tmp, n);
    for (size_t j = b0; j < b1; j++)
      sig[j] = 1.4826 * mad;
    if (b1 == p)
      break;
  }
}

/* Dot products of the per-spectrum projections, in eight independent
 * partial sums (two 4-lane GCC vectors; plain SSE2 on x86-64, no FMA since
 * C11 mode does not contract): several times the speed of one serial sum,
 * and the same bits on every machine.  The sum order differs from a
 * serial loop by rounding only (relative 1e-16 per product). */
typedef double v4d __attribute__((vector_size(32)));
static double dot8(const double *a, const double *b, size_t n) {
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
 * spill the sixteen SSE registers); each sum keeps dot8's partial-sum
 * order (the same bits). */
static void dot8x4(const double *const a[4], const double *b, size_t n,
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

/* e -= c[i] q_i, and with S2 s2 += c[i] q_i, for the four columns
 * q_i = q + i p, in column order per point: the same operations as one
 * column at a time, two points per SSE2 vector with e and s2 in registers
 * (e and s2 may alias as far as the compiler knows, so it would not
 * vectorise the plain loop). */
typedef double v2d __attribute__((vector_size(16)));
#define UPDATE4(NAME, S2)                                                      \
  static void NAME(double *e, double *s2, const double *q, size_t p,           \
                   const double *c) {                                          \
    const double *q0 = q, *q1 = q + p, *q2 = q + 2 * p, *q3 = q + 3 * p;       \
    v2d c0 = {c[0], c[0]}, c1 = {c[1], c[1]}, c2 = {c[2], c[2]},              \
        c3 = {c[3], c[3]};                                                     \
    size_t j = 0;                                                              \
    for (; j + 2 <= p; j += 2) {                                               \
      v2d ev, sv = {0, 0}, a0, a1, a2, a3;                                     \
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
UPDATE4(update4_e, 0)
UPDATE4(update4_es, 1)
#undef UPDATE4

/* The nuisance projection, vector path: every coefficient is the dot of
 * its column with the row itself (classical Gram-Schmidt; the basis is
 * orthonormal, so this equals the sequential projection up to rounding),
 * which lets four columns share one pass over the row and the updates of e
 * and s2 share one pass over each column.  e = row - Q c, s2 += tissue
 * columns' part, both accumulated in column order. */
static void project_vec(const csi_detector *d, const double *row, double *e,
                        double *s2, double *c) {
  size_t p = d->p, m = d->m, a = 0;
  for (; a + 4 <= m; a += 4) {
    const double *qa[4] = {d->q + a * p, d->q + (a + 1) * p,
                           d->q + (a + 2) * p, d->q + (a + 3) * p};
    dot8x4(qa, row, p, c + a);
  }
  for (; a < m; a++)
    c[a] = dot8(d->q + a * p, row, p);
  memcpy(e, row, p * sizeof *e);
  memset(s2, 0, p * sizeof *s2);
  for (a = 0; a < m;) {
    /* four columns on the same side of mpoly per pass, else one */
    size_t end = a < d->mpoly ? d->mpoly : m;
    const double *qa = d->q + a * p;
    if (end - a >= 4) {
      if (a < d->mpoly)
        update4_e(e, s2, qa, p, c + a);
      else
        update4_es(e, s2, qa, p, c + a);
      a += 4;
      continue;
    }
    for (size_t j = 0; j < p; j++) {
      double t = c[a] * qa[j];
      e[j] -= t;
      if (a >= d->mpoly)
        s2[j] += t;
    }
    a++;
  }
}

int csi_detect_serial_sums = 0;

/* One serial sum in point order, for the tests (see internal.h). */
static double dot_serial(const double *a, const double *b, size_t n) {
  double s = 0;
  for (size_t j = 0; j < n; j++)
    s += a[j] * b[j];
  return s;
}

cs_status csi_detect(const csi_detector *d, double *row, double threshold,
                     csi_detection *out, double *feat, cs_error *err) {
  double (*dotf)(const double *, const double *, size_t) =
      csi_detect_serial_sums ? dot_serial : dot8;
  size_t p = d->p;
  memset(out, 0, sizeof *out);
  double ymin = row[0], ymax = row[0];
  for (size_t j = 1; j < p; j++)
    ymin = row[j] < ymin ? row[j] : ymin, ymax = row[j] > ymax ? row[j] : ymax;
  if (!(ymax > ymin))
    return csi_error(err, CS_ERR_NUMERIC, "flat spectrum (%g everywhere in "
                     "the window): no signal to classify", ymin);
  double *e = malloc((6 * p + d->m) * sizeof *e);
  if (!e)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  double *sig = e + p, *tmp = e + 2 * p, *s2 = e + 3 * p, *scr = e + 4 * p;
  double *coef = e + 6 * p; /* nuisance coefficients (vector path) */
  double off, tref = tissue_offset(d, row, &off, &out->phe_t);
  out->ref_t = tref;
  if (tref >= PHE_MIN_T) {
    shift_row(row, tmp, p, off, d->step);
    out->offset = off;
    out->offset_source = CSI_OFFSET_TISSUE;
  }
  /* nuisance residual; s2 gets the tissue part of the fit (orthogonal to
   * the baseline polynomials) */
  if (csi_detect_serial_sums) { /* the reference: sequential projection */
    memcpy(e, row, p * sizeof *e);
    memset(s2, 0, p * sizeof *s2);
    for (size_t a = 0; a < d->m; a++) {
      const double *qa = d->q + a * p;
      double dot = dotf(qa, e, p);
      for (size_t j = 0; j < p; j++)
        e[j] -= dot * qa[j];
      if (a >= d->mpoly)
        for (size_t j = 0; j < p; j++)
          s2[j] += dot * qa[j];
    }
  } else
    project_vec(d, row, e, s2, coef);
  /* model error: a fixed share of the local tissue signal (its largest
   * magnitude within +-TISSUE_REACH points) */
  for (size_t j = 0; j < p; j++) {
    size_t a = j > TISSUE_REACH ? j - TISSUE_REACH : 0;
    size_t b = j + TISSUE_REACH < p ? j + TISSUE_REACH : p - 1;
    double mx = 0;
    for (size_t k = a; k <= b; k++)
      mx = fabs(s2[k]) > mx ? fabs(s2[k]) : mx;
    scr[j] = TISSUE_MODEL_ERR * mx;
  }
  memcpy(s2, scr, p * sizeof *s2); /* s2: model error per point */
  /* pass 1: noise from first differences (bands barely move it), best
   * template by amplitude over its standard error */
  for (size_t j = 0; j + 1 < p; j++)
    tmp[j] = (e[j + 1] - e[j]) / sqrt(2.0);
  tmp[p - 1] = tmp[p - 2];
  local_sigma(tmp, p, sig, scr);
  double *sig2 = e + 5 * p; /* free until pass 2 */
  for (size_t j = 0; j < p; j++) {
    sig[j] = sqrt(sig[j] * sig[j] + s2[j] * s2[j]);
    sig2[j] = sig[j] * sig[j];
  }
  double *merr = s2;
  size_t best = 0;
  double bt = -INFINITY, ba = 0;
  /* after a phenylalanine correction only the residual calibration error
   * and the carbonate shift of apatite remain: fewer shifts to look at */
  double maxshift = out->offset_source == CSI_OFFSET_TISSUE ? 4 : 6;
  /* the templates' amplitudes and variances, four templates per pass over
   * e and sig2 on the vector path (the same bits as one at a time) */
  double amp[MAXT], var[MAXT];
  size_t act[MAXT], nact = 0;
  for (size_t k = 0; k < d->nt; k++)
    if (!(fabs(d->tshift[k]) > maxshift))
      act[nact++] = k;
  size_t i4 = 0;
  if (!csi_detect_serial_sums)
    for (; i4 + 4 <= nact; i4 += 4) {
      const double *ra[4], *r2a[4];
      double a4[4], v4[4];
      for (int i = 0; i < 4; i++)
        ra[i] = d->r + act[i4 + i] * p, r2a[i] = d->r2 + act[i4 + i] * p;
      dot8x4(ra, e, p, a4);
      dot8x4(r2a, sig2, p, v4);
      for (int i = 0; i < 4; i++)
        amp[i4 + i] = a4[i], var[i4 + i] = v4[i];
    }
  for (; i4 < nact; i4++)
    amp[i4] = dotf(d->r + act[i4] * p, e, p),
    var[i4] = dotf(d->r2 + act[i4] * p, sig2, p);
  for (size_t i = 0; i < nact; i++) {
    size_t k = act[i];
    double a = amp[i], v = var[i];
    double t = v > 0 ? a / sqrt(v) : 0;
    if (d->tid[k] < CSI_NTEMPLATES && t > out->tmpl_t[d->tid[k]])
      out->tmpl_t[d->tid[k]] = t;
    if (t > bt)
      bt = t, best = k, ba = a;
  }
  /* pass 2: the residual after the best template, whose local spread
   * includes what the nuisance basis failed to explain */
  const double *r = d->r + best * p;
  for (size_t j = 0; j < p; j++)
    tmp[j] = e[j] - (ba > 0 ? ba : 0) * r[j];
  for (size_t j = 0; j < p; j++) /* reuse tmp's slot after local_sigma */
    scr[j] = merr[j];
  double *loc = merr;
  local_sigma(tmp, p, loc, e + 5 * p);
  for (size_t j = 0; j < p; j++) {
    double s = sqrt(loc[j] * loc[j] + scr[j] * scr[j]);
    if (s > sig[j])
      sig[j] = s;
  }
  double v = 0;
  for (size_t j = 0; j < p; j++)
    v += r[j] * r[j] * sig[j] * sig[j];
  double se = v > 0 ? sqrt(v) : 0;
  out->snr = se > 0 ? ba / se : 0;
  if (!isfinite(out->snr))
    out->snr = 0;
  out->amplitude = ba;
  out->cls = templates[d->tid[best]].cls;
  if (out->tmpl_t[2] >= APA_MIN_T || out->tmpl_t[3] >= APA_MIN_T)
    out->apa_ok = apatite_split(d, e, sig, &out->nu1, &out->apa_z);
  out->shift = d->tshift[best];
  if (out->offset_source == CSI_OFFSET_NONE &&
      templates[d->tid[best]].absolute && out->snr >= MIN_T_OFFSET) {
    out->offset = out->shift;
    out->offset_source = CSI_OFFSET_MINERAL;
  }
  if (feat) {
    /* unit norm over the feature windows: tissue-only rows become noise
     * spread thinly over every direction instead of dominating the PCA */
    double scale = 0;
    (void)threshold;
    for (size_t j = 0; j < p; j++)
      if (d->mask[j])
        scale += e[j] * e[j];
    scale = sqrt(scale);
    if (!(scale > 0))
      scale = 1;
    for (size_t j = 0; j < p; j++)
      feat[j] = d->mask[j] ? e[j] / scale : 0;
  }
  free(e);
  return CS_OK;
}
