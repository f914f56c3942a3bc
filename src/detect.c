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
#include <stdint.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PHE_MAX_OFFSET 7.0
#define PHE_MIN_T 8.0  /* reference band t needed to trust the offset */
#define MIN_T_OFFSET 10.0 /* mineral template t needed for a mineral offset */
/* Tissue basis error, share of the local tissue signal: the basis has one
 * shape per band (one column only next to a main mineral band), while real
 * bands vary in width by +-30 % and from Gaussian to Lorentzian, which a
 * fixed shape misfits by several % of the band height.  0.08 was the
 * smallest value at which the training tissue's 99.5th percentile of
 * mineral_snr (train.c learn_threshold) is at the 6.5 sigma floor for the
 * full-window model (0.02 gave 8.2 sigma and missed minerals at SNR 5).
 * Tissue of another shape than the simulator's needs more: the stress
 * generator's tissue at SNR 50 was called a mineral 7 times in 200 at
 * 0.08, twice at 0.10 and never at 0.12, which lost faint calcite (README
 * "Classifier"; this choice looked at stress tissue, so that generator's
 * tissue false-alarm figure is not blind). */
#define TISSUE_MODEL_ERR 0.10
#define TISSUE_REACH 5 /* points either side for the local tissue signal */
#define BLOCK 64       /* points per local noise block */
#define LN2 0.69314718055994530942
#define NOFF 57 /* axis offsets -7..7 step 0.25 (tissue_offset) */
#define NOFFV 15 /* NOFF in 4-vectors, rounded up */
/* four offsets side by side (element-wise only: the same bits as scalars) */
typedef double v4o __attribute__((vector_size(32)));
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
/* Unexplained-band scan (README "Classifier", rejection): a band kernel of
 * FWHM UB_FWHM (a typical mineral band with instrument, as nu1_position)
 * made zero-mean over +-UB_HALF cm^-1, so that what is left of a smooth
 * baseline or of a broad tissue misfit in the residual does not count. */
#define UB_FWHM 10.0
#define UB_HALF 20.0
#define UB_HALF_MAX 64 /* kernel half-width in points, at most */
/* No tissue signature (no_tissue_signature): chi-square standard
 * deviations of noise the tissue columns may take; phenylalanine's upper
 * bound over the mineral band; and the looser chi-square bound on the
 * full basis's columns away from mineral bands below which the bare
 * detection is tried at all (it costs a second detection) */
#define BARE_CHI2 3.0
#define BARE_PHE 0.1
#define BARE_PRE 15.0
#define NU1_NX 169 /* nu1_position's trial positions, APA_LO..APA_HI step 0.25 */
#define NU1_NX8 176 /* NU1_NX rounded up to eight */
/* Prior on the tissue bands beside a main mineral band (near_prior): each
 * has height ~ N(0, (NEAR_PRIOR * H)^2), H the largest height of the rest
 * of the fitted tissue.  Those bands (lipid C-C 1063/1080, nucleic acid
 * 1095, CH2 1440-1485, collagen 876-939) are no taller than the tallest
 * tissue band (CH2 1440 or amide I) in breast tissue, bands.md 1A. */
#define NEAR_PRIOR 0.3
#define NUMAX 32 /* near-band columns at most (9 in the 400-1800 window) */
/* Lipid =C-H out-of-plane bend of unsaturated chains, ~970 cm^-1 (FWHM
 * ~20; Movasaghi 2007) [L]: weak (a few % of CH2 1440 in fat), not in the
 * tissue basis because a column there would take whitlockite nu1 965 out
 * of the features too.  It is model error instead: a band of height
 * LIPID970 * H (H as for the near prior) whose overlap with each template
 * row adds (LIPID970 H <r, b970>)^2 to that row's variance, so the
 * detection threshold rises with the tissue, not with the noise (README
 * "Classifier", tissue false alarms). */
#define LIPID970_POS 970.0
#define LIPID970_FWHM 20.0
#define LIPID970 0.03
/* spread_t: bands this far from the template's dominant band, cm^-1 */
#define SPREAD_SEP 60.0
/* ... whose heights (root sum of squares) are at least this share of the
 * dominant band's: a check with power (oxalate; not calcite, whose other
 * bands are 7 % of nu1 here, nor the apatites, about 25 %) */
#define SPREAD_MIN_SHARE 0.5

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

/* FTIR (absorbance) templates, bands.md 1B: COD 1643/1326/913, COM
 * 1620/1316/948/885, HA nu3 1035 + 1090 shoulder + nu1 961, the broad
 * bone-apatite nu1nu3 envelope (Gadaleta 1996, Paschalis 1996),
 * whitlockite nu3 1015-1120 + 970/945, calcite nu3 1420 + nu2 873.
 * The strong oxalate C=O bands sit on amide I, so the sharp 1316-1326
 * band and the phosphate envelope carry most of the detection. */
static const tband f_cod[] = {{1643, 50, 1.0}, {1326, 20, 0.85}, {913, 10, 0.10}};
static const tband f_com[] = {{1620, 50, 1.0}, {1316, 20, 0.80},
                              {948, 10, 0.08}, {885, 10, 0.08}};
static const tband f_ha[] = {{1035, 60, 1.0}, {1090, 30, 0.55}, {961, 10, 0.15}};
static const tband f_bio[] = {{1020, 40, 0.85}, {1032, 35, 1.0}, {1060, 35, 0.75},
                              {1096, 35, 0.60}, {1120, 30, 0.45}, {961, 20, 0.15}};
static const tband f_wht[] = {{1043, 35, 1.0}, {1085, 35, 0.80}, {1015, 30, 0.70},
                              {1120, 25, 0.35}, {970, 12, 0.35}, {945, 12, 0.25}};
static const tband f_cal[] = {{1420, 90, 1.0}, {873, 8, 0.45}, {1797, 10, 0.04}};
static const tmpl ftemplates[] = {
    {"oxalate", 0, f_cod, N_(f_cod)},
    {"oxalate", 0, f_com, N_(f_com)},
    {"hydroxyapatite", 0, f_ha, N_(f_ha)},
    {"whitlockite", 0, f_wht, N_(f_wht)},
    {"calcite", 0, f_cal, N_(f_cal)},
    {"hydroxyapatite", 0, f_bio, N_(f_bio)},
};
#define NFTMPL N_(ftemplates)

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

/* Breast tissue, FTIR (bands.md 1B tissue table): protein amide I with
 * its beta-sheet and turn components, amide II, CH2/CH3 bending, COO-,
 * amide III, collagen and glycogen C-O, phospholipid PO2-, lipid ester
 * C=O and C-O, water. */
static const tband ftissue[] = {
    {1655, 50, 1}, {1630, 30, 1}, {1685, 25, 1}, {1545, 45, 1}, {1515, 20, 1},
    {1455, 25, 1}, {1400, 30, 1}, {1338, 15, 1}, {1310, 25, 1}, {1280, 20, 1},
    {1240, 30, 1}, {1204, 15, 1}, {1170, 25, 1}, {1082, 30, 1}, {1030, 25, 1},
    {1742, 20, 1}, {1465, 20, 1}, {1120, 25, 1}, {925, 30, 1},  {855, 30, 1},
    {1640, 75, 1}, /* water bending: ATR of wet tissue */
};

/* Tissue band forms: widths relative to the table's; the last is the
 * first derivative (position errors). */
static const double tforms[] = {1.0, 1.0, 1.7, 1.0};
static const int tform_kind[] = {0, 2, 0, 1}; /* pV, Lorentzian, pV, d/dx */
static const double shifts[] = {-6, -4, -2, 0, 2, 4, 6};
static const double widths[] = {1.0, 1.6};
#define MAXT (NFTMPL * N_(shifts) * N_(widths)) /* template rows, at most */

struct csi_detector {
  int ftir;             /* FTIR tables, weighted statistic, no axis refs */
  const tmpl *tp;       /* mineral templates of the technique */
  size_t ntp;
  double lo, step;
  size_t p, m, mpoly, nt;
  double *q;       /* m columns of p: orthonormal nuisance basis */
  /* Raman: the last nu columns (from m0) span the tissue bands beside a
   * main mineral band, which get a prior instead of a free amplitude
   * (near_prior); rr (nu x nu) is R R' of those bands at unit height in
   * these columns' coordinates, rho (NUMAX per template row) the
   * template's part there over its residual norm.  FTIR: nu = 0. */
  size_t m0, nu;
  double *rr, *rho, *lev;
  double *r;       /* nt rows of p: unit residualised templates */
  int *tid;        /* template table index of each row */
  unsigned char *mask; /* feature points: near a mineral band */
  double *tshift;  /* shift of each row */
  double *twidth;  /* width factor of each row */
  double *lip;     /* Raman: <row, lipid 970 band of unit height> */
  double *tleak;   /* share of each row's template the nuisance basis
                    * takes: 1 - |residual|^2 / |template|^2 */
  double *tn0;     /* |template|^2 of each row (main band height 1) */
  unsigned char *atmin; /* per basis column: a tissue column at a main
                         * mineral band (near_mineral) */
  /* unexplained-band scan (unexplained): each template row's bands one
   * by one, residualised against q and of unit norm (zero when the basis
   * takes them whole): nb[k] columns of p from bcol + boff[k] * p; and
   * the scan kernel's taps */
  double *bcol, *kcol; /* kcol: the scan kernel's response to each */
  size_t *boff, *nb;
  /* their Gram matrices: gram + goff[k * nt + l] holds the nb[k] x nb[l]
   * dot products of row k's band columns with row l's, for rows of the
   * same unexplained-band group (SIZE_MAX otherwise) */
  double *gram;
  size_t *goff;
  double kern[2 * UB_HALF_MAX + 1];
  size_t khalf;
  /* the same axis without the tissue columns at main mineral bands, for
   * spectra without tissue signature (no_tissue_signature): built on
   * first need (get_bare), under bare_lock; never for FTIR nor in the
   * bare detector itself (can_bare 0) */
  int can_bare;
  _Atomic(struct csi_detector *) bare;
  pthread_mutex_t bare_lock;
  /* apatite spacing columns (apatite_split), residualised against q, per
   * nu1 grid position p points of eight lanes (the APA_COLS columns, then
   * zeros); NULL when the window does not hold the nu1 range */
  double *apa;
  /* nu1_position's Gaussian weights, which depend only on the axis: NU1_NX
   * rows of nu1_n, for j = nu1_j0.. (NULL with apa) */
  double *nu1g;
  size_t nu1_j0, nu1_n;
  /* reference bands of tissue_offset, which depend only on the axis:
   * per band its span j0..j1, the band profile at every offset and the
   * row-independent part of the normal equations (same sums, same order,
   * as computing them per spectrum: results are bit-identical) */
  struct reftab {
    size_t j0, n; /* n == 0: band not covered */
    double *prof; /* NOFF rows of n: pv at each offset */
    double *u;    /* n: (x - pos) / half, the quadratic's variable */
    double *proft; /* n rows of 4 NOFFV: prof transposed, zero padded */
    double ata[NOFF][4][4];
    /* the Gauss-Jordan elimination of ata, which does not depend on the
     * row: pivot rows, multipliers [c][r], final pivots, (A^-1)_33; the
     * row's right-hand side then goes through the same operations */
    int singular; /* some offset's system is singular: band unusable */
    int piv[NOFF][4];
    double fct[NOFF][4][4], diag[NOFF][4], inv33[NOFF];
  } ref[NREF];
};

/* Pseudo-Voigt (eta 0.5) of unit height; with deriv, its x-derivative
 * times fwhm / 2 (unitless scale). */
static double pv(double x, double pos, double fwhm, int deriv) {
  double d = 2 * (x - pos) / fwhm, l = 1 / (1 + d * d);
  /* exp underflows to +0 below -745.2 anyway; glibc's slow path for it
   * cost a tenth of the detector's build */
  double g = LN2 * d * d < 746 ? exp(-LN2 * d * d) : 0;
  if (deriv == 2)
    return l;
  if (!deriv)
    return 0.5 * l + 0.5 * g;
  return 0.5 * (2 * d * l * l) + 0.5 * (2 * LN2 * d * g);
}
#undef LN2

/* The inner loops (dot products, template scan, projection updates) are
 * in detect_kern.h, compiled twice: portable (SSE2 on x86-64) and for
 * AVX2, chosen at run time.  Both give the same bits (see there). */
typedef double v4d __attribute__((vector_size(32)));
/* two lanes: one SSE2 register (a v4d outside the AVX2 kernels lives on
 * the stack) */
typedef double v2d __attribute__((vector_size(16)));
typedef struct detect_kern {
  double (*dot8)(const double *, const double *, size_t);
  void (*dot8x4)(const double *const[4], const double *, size_t, double[4]);
  void (*tmpl_amp_var)(const double *, const double *, const double *, size_t,
                       double *, double *);
  void (*update4_e)(double *, double *, const double *, size_t,
                    const double *);
  void (*update4_es)(double *, double *, const double *, size_t,
                     const double *);
  int (*ref_fit)(const csi_detector *, const double *, size_t, double *,
                 double *, double *, double *);
  void (*resid16)(const double *, size_t, size_t, double *const *, double *);
  void (*apa_normal)(const double *, const double *, const double *, size_t,
                     double, double, double, double *, double *);
} detect_kern;

#define KSFX _base
#define KVW 2
#include "detect_kern.h"
#undef KSFX
#undef KVW
#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_KERN_AVX2 1
CSI_TARGET_BEGIN("avx2")
#define KSFX _avx2
#define KVW 4
#include "detect_kern.h"
#undef KSFX
#undef KVW
CSI_TARGET_END
#endif

int csi_detect_portable = 0;

static const detect_kern *kernels(void) {
#ifdef HAVE_KERN_AVX2
  if (!csi_detect_portable && (csi_cpu_features() & CSI_CPU_AVX2))
    return &kern_avx2;
#endif
  return &kern_base;
}

/* Orthonormalise column v (length p) against the first m columns of q and
 * append it; returns 1 when it was kept (not in their span).  Two passes
 * of modified Gram-Schmidt: per basis column the dot product in j order,
 * then the update.  Each update shares its pass over v with the next dot
 * product (or the final norm), which reads each point just after its
 * update, as a separate pass would: the same bits, half the passes. */
static int gs_append(double *q, size_t p, size_t m, double *v) {
  double n0 = 0;
  for (size_t j = 0; j < p; j++)
    n0 += v[j] * v[j];
  if (!(n0 > 0))
    return 0;
  double dot = 0, n1 = 0;
  if (m) {
    for (size_t j = 0; j < p; j++)
      dot += q[j] * v[j];
    for (size_t s = 1; s <= 2 * m; s++) { /* q_0..q_m-1 twice, then norm */
      const double *qu = q + ((s - 1) % m) * p;
      double next = 0;
      if (s < 2 * m) {
        const double *qd = q + (s % m) * p;
        for (size_t j = 0; j < p; j++) {
          v[j] -= dot * qu[j];
          next += qd[j] * v[j];
        }
      } else {
        for (size_t j = 0; j < p; j++) {
          v[j] -= dot * qu[j];
          next += v[j] * v[j];
        }
      }
      dot = next;
    }
    n1 = dot;
  } else {
    for (size_t j = 0; j < p; j++)
      n1 += v[j] * v[j];
  }
  if (!(n1 > 1e-8 * n0))
    return 0;
  n1 = sqrt(n1);
  for (size_t j = 0; j < p; j++)
    q[m * p + j] = v[j] / n1;
  return 1;
}

/* Residualise the nv columns v[i] (length p) against the first m columns of
 * q, each exactly as a one-column loop would (per basis column: the dot
 * product summed in j order, then the update), so the same bits (the
 * detector's build, once per model axis).  Sixteen columns at a time go
 * through the kernels' resid16 (sixteen independent sums in four vectors);
 * the rest, or all of them without memory for its scratch, four at a time
 * in scalars, which keeps four sums in flight instead of one latency-bound
 * chain. */
static void resid_cols(const double *q, size_t p, size_t m, double *const *v,
                       size_t nv) {
  size_t i = 0;
  if (nv >= 16) {
    const detect_kern *k = kernels();
    double *scr = malloc(16 * p * sizeof *scr);
    for (; scr && i + 16 <= nv; i += 16)
      k->resid16(q, p, m, v + i, scr);
    free(scr);
  }
  for (; i + 4 <= nv; i += 4) {
    double *v0 = v[i], *v1 = v[i + 1], *v2 = v[i + 2], *v3 = v[i + 3];
    for (size_t a = 0; a < m; a++) {
      const double *qa = q + a * p;
      double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
      for (size_t j = 0; j < p; j++) {
        double t = qa[j];
        d0 += t * v0[j], d1 += t * v1[j], d2 += t * v2[j], d3 += t * v3[j];
      }
      for (size_t j = 0; j < p; j++) {
        double t = qa[j];
        v0[j] -= d0 * t, v1[j] -= d1 * t, v2[j] -= d2 * t, v3[j] -= d3 * t;
      }
    }
  }
  for (; i < nv; i++)
    for (size_t a = 0; a < m; a++) {
      const double *qa = q + a * p;
      double dot = 0;
      for (size_t j = 0; j < p; j++)
        dot += qa[j] * v[i][j];
      for (size_t j = 0; j < p; j++)
        v[i][j] -= dot * qa[j];
    }
}

void csi_detector_free(csi_detector *d) {
  if (!d)
    return;
  free(d->q), free(d->r), free(d->tid), free(d->tshift), free(d->twidth);
  free(d->mask);
  free(d->apa), free(d->nu1g);
  free(d->rho), free(d->rr), free(d->lev);
  free(d->tleak), free(d->tn0), free(d->atmin), free(d->lip);
  free(d->bcol), free(d->kcol), free(d->boff), free(d->nb), free(d->gram), free(d->goff);
  if (d->can_bare) {
    csi_detector_free(atomic_load(&d->bare));
    pthread_mutex_destroy(&d->bare_lock);
  }
  for (size_t b = 0; b < NREF; b++)
    free(d->ref[b].prof), free(d->ref[b].u), free(d->ref[b].proft);
  free(d);
}

/* Is tissue band t within reach of a main (height >= 0.3) mineral band of
 * the templates tp[ntp]? */
static int near_mineral(const tband *t, const tmpl *tp, size_t ntp) {
  for (size_t k = 0; k < ntp; k++)
    for (size_t b = 0; b < tp[k].nb; b++) {
      const tband *m = &tp[k].b[b];
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
static cs_status apa_tables(csi_detector *d, cs_error *err) {
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
  /* nu1_position's weights: the Gaussian (FWHM 10) at each trial nu1 */
  double sd = 10 / (2 * sqrt(2 * 0.69314718055994530942)); /* FWHM -> sd */
  size_t j0 = (size_t)((APA_LO - 15 - d->lo) / d->step);
  size_t j1 = (size_t)((APA_HI + 15 - d->lo) / d->step);
  d->nu1_j0 = j0;
  d->nu1_n = j1 < p ? j1 - j0 + 1 : p - j0;
  /* interleaved by four trial positions (point-major within each group of
   * four; the positions past NU1_NX are zeros), see nu1_position */
  if (!(d->nu1g = calloc(NU1_NX8 * d->nu1_n, sizeof *d->nu1g)))
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t i = 0; i < NU1_NX; i++) {
    double x0 = APA_LO + 0.25 * (double)i;
    for (size_t j = j0; j < j0 + d->nu1_n; j++) {
      double u = (d->lo + d->step * (double)j - x0) / sd;
      d->nu1g[(i / 4 * d->nu1_n + (j - j0)) * 4 + i % 4] = exp(-0.5 * u * u);
    }
  }
  /* the columns straight into their places, residualised sixteen at a time */
  double *cols[16];
  size_t ncol = 0;
  for (size_t g = 0; g < APA_N; g++) {
    double nu1 = APA_LO + APA_STEP * (double)g;
    for (size_t c = 0; c < APA_COLS; c++) {
      int weak = c < 2; /* the phases' own bands, without nu1 */
      double *col = d->apa + (g * APA_COLS + c) * p;
      for (size_t j = 0; j < p; j++) {
        double x = d->lo + d->step * (double)j, y = 0;
        for (size_t b = 0; b < nb[c]; b++) {
          double pos = tb[c][b].pos - ref[c];
          if (weak && pos == 0)
            continue;
          y += tb[c][b].height * pv(x, nu1 + pos, tb[c][b].fwhm, c == 6);
        }
        col[j] = y;
      }
      cols[ncol++] = col;
      if (ncol == 16) {
        resid_cols(d->q, p, d->m, cols, ncol);
        ncol = 0;
      }
    }
  }
  resid_cols(d->q, p, d->m, cols, ncol);
  /* point-major, eight lanes a point, for the kernels' apa_normal */
  double *t = calloc((size_t)APA_N * 8 * p, sizeof *t);
  if (!t)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t g = 0; g < APA_N; g++)
    for (size_t c = 0; c < APA_COLS; c++)
      for (size_t j = 0; j < p; j++)
        t[(g * p + j) * 8 + c] = d->apa[(g * APA_COLS + c) * p + j];
  free(d->apa);
  d->apa = t;
  return CS_OK;
}

cs_status csi_detector_check(cs_technique tech, double lo, double step,
                             size_t p, cs_error *err) {
  if (tech != CS_TECH_RAMAN && tech != CS_TECH_FTIR)
    return csi_error(err, CS_ERR_ARG, "mineral detection is for Raman or FTIR");
  if (p < 32 || !(step > 0))
    return csi_error(err, CS_ERR_ARG, "detector window too small");
  double hi = lo + step * (double)(p - 1);
  const tmpl *tp = tech == CS_TECH_FTIR ? ftemplates : templates;
  size_t ntp = tech == CS_TECH_FTIR ? NFTMPL : NTMPL;
  for (size_t k = 0; k < ntp; k++)
    if (tmpl_in(&tp[k], lo, hi))
      return CS_OK;
  return csi_error(err, CS_ERR_ARG, "window %g-%g cm^-1 holds no diagnostic "
                   "mineral band", lo, hi);
}

/* unexplained-band groups of the templates (COD, COM, HA, whitlockite,
 * calcite): oxalate, the apatites, calcite */
static const int ub_group[CSI_NTEMPLATES] = {0, 0, 1, 1, 2};

/* out[j] = sum_i kern[i] v[j - khalf + i] where the kernel fits, else 0 */
static void kern_apply(const double *kern, size_t khalf,
                       const double *restrict v, size_t p,
                       double *restrict out) {
  /* two lanes: one SSE2 register (four-lane vectors outside the AVX2
   * kernels went through the stack at every step) */
  typedef double v2k __attribute__((vector_size(16)));
  memset(out, 0, p * sizeof *out);
  if (p <= 2 * khalf)
    return;
  /* the kernel is symmetric (kern[khalf + i] == kern[khalf - i]); eight
   * points at a time (element-wise, so the same bits as scalars) */
  size_t n = p - 2 * khalf, j = 0;
  double *restrict o = out + khalf;
  const double *restrict c = v + khalf;
  for (; j + 8 <= n; j += 8) {
    v2k a[4], x, y;
    for (int h = 0; h < 4; h++) {
      memcpy(&x, c + j + 2 * h, sizeof x);
      a[h] = kern[khalf] * x;
    }
    for (size_t i = 1; i <= khalf; i++)
      for (int h = 0; h < 4; h++) {
        memcpy(&x, c + j + 2 * h - i, sizeof x);
        memcpy(&y, c + j + 2 * h + i, sizeof y);
        a[h] += kern[khalf + i] * (x + y);
      }
    memcpy(o + j, a, sizeof a);
  }
  for (; j < n; j++) {
    double acc = kern[khalf] * c[j];
    for (size_t i = 1; i <= khalf; i++)
      acc += kern[khalf + i] * (c[j - i] + c[j + i]);
    o[j] = acc;
  }
}

static cs_status detector_build(cs_technique tech, double lo, double step,
                                size_t p, int bare, csi_detector **out,
                                cs_error *err);
static cs_status ub_tables(csi_detector *d, const tmpl *tp, cs_error *err);

cs_status csi_detector_new(cs_technique tech, double lo, double step, size_t p,
                           csi_detector **out, cs_error *err) {
  cs_status st = detector_build(tech, lo, step, p, 0, out, err);
  if (st || tech == CS_TECH_FTIR)
    return st;
  if (pthread_mutex_init(&(*out)->bare_lock, NULL)) {
    csi_detector_free(*out);
    *out = NULL;
    return csi_error(err, CS_ERR_NOMEM, "out of resources for a mutex");
  }
  atomic_init(&(*out)->bare, NULL);
  (*out)->can_bare = 1;
  return CS_OK;
}

/* *slot built by detector_build (bare or not) on first need under lock:
 * a double-checked load, so later callers take no lock. */
static cs_status detector_once(csi_detector *_Atomic *slot,
                               pthread_mutex_t *lock, cs_technique tech,
                               double lo, double step, size_t p, int bare,
                               const csi_detector **out, cs_error *err) {
  csi_detector *d = atomic_load_explicit(slot, memory_order_acquire);
  cs_status st = CS_OK;
  if (!d) {
    pthread_mutex_lock(lock);
    d = atomic_load_explicit(slot, memory_order_relaxed);
    if (!d) {
      st = bare ? detector_build(tech, lo, step, p, 1, &d, err)
                : csi_detector_new(tech, lo, step, p, &d, err);
      if (!st)
        atomic_store_explicit(slot, d, memory_order_release);
    }
    pthread_mutex_unlock(lock);
  }
  *out = d;
  return st;
}

cs_status csi_detector_once(csi_detector *_Atomic *slot, pthread_mutex_t *lock,
                            cs_technique tech, double lo, double step,
                            size_t p, const csi_detector **out, cs_error *err) {
  return detector_once(slot, lock, tech, lo, step, p, 0, out, err);
}

/* The bare detector of d, built on first need (then immutable, like d). */
static cs_status get_bare(const csi_detector *cd, const csi_detector **out,
                          cs_error *err) {
  csi_detector *d = (csi_detector *)cd; /* bare is its only mutable part */
  return detector_once(&d->bare, &d->bare_lock, CS_TECH_RAMAN, d->lo, d->step,
                       d->p, 1, out, err);
}

cs_status csi_detector_prepare(const csi_detector *d, cs_error *err) {
  const csi_detector *bd;
  return d->can_bare ? get_bare(d, &bd, err) : CS_OK;
}

/* bare: without the tissue columns at main mineral bands */
static cs_status detector_build(cs_technique tech, double lo, double step,
                                size_t p, int bare, csi_detector **out,
                                cs_error *err) {
  *out = NULL;
  cs_status st0 = csi_detector_check(tech, lo, step, p, err);
  if (st0)
    return st0;
  double hi = lo + step * (double)(p - 1), span = hi - lo;
  size_t deg = (size_t)(span / 120);
  deg = deg < 2 ? 2 : deg > 14 ? 14 : deg;
  int ftir = tech == CS_TECH_FTIR;
  const tmpl *tp = ftir ? ftemplates : templates;
  size_t ntp = ftir ? NFTMPL : NTMPL;
  const tband *tis = ftir ? ftissue : tissue;
  size_t ntis = ftir ? N_(ftissue) : N_(tissue);
  size_t maxm = deg + 1 + N_(tforms) * ntis;
  size_t maxt = MAXT;
  csi_detector *d = calloc(1, sizeof *d);
  double *v = malloc(p * sizeof *v);
  if (!d || !v || !(d->q = malloc(maxm * p * sizeof *d->q)) ||
      !(d->r = malloc(maxt * p * sizeof *d->r)) ||
      !(d->tid = malloc(maxt * sizeof *d->tid)) ||
      !(d->tshift = malloc(maxt * sizeof *d->tshift)) ||
      !(d->twidth = malloc(maxt * sizeof *d->twidth)) ||
      !(d->rho = calloc(maxt * NUMAX, sizeof *d->rho)) ||
      !(d->tleak = malloc(maxt * sizeof *d->tleak)) ||
      !(d->lip = calloc(maxt, sizeof *d->lip)) ||
      !(d->tn0 = malloc(maxt * sizeof *d->tn0)) ||
      !(d->atmin = calloc(maxm, 1)) ||
      !(d->mask = calloc(p, 1))) {
    free(v);
    csi_detector_free(d);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  d->lo = lo, d->step = step, d->p = p;
  d->ftir = ftir, d->tp = tp, d->ntp = ntp;
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
  /* Raman: the tissue bands beside a main mineral band go last, so that
   * they span the last nu columns of q (the prior of near_prior); FTIR
   * keeps the table order.  pass 0: the others, pass 1: those. */
  for (int pass = 0; pass < (ftir ? 1 : 2); pass++) {
    if (pass == 1)
      d->m0 = d->m;
    for (size_t b = 0; b < ntis; b++) {
      const tband *t = &tis[b];
      if (t->pos + t->fwhm < lo || t->pos - t->fwhm > hi)
        continue;
      int near = near_mineral(t, tp, ntp);
      if (!ftir && near != pass)
        continue;
      if (near && bare) /* the bare detector: no columns there */
        continue;
      /* a tissue band close to a main mineral band gets one column only:
       * extra widths and a derivative there would absorb the mineral */
      size_t nforms = near ? 1 : N_(tforms);
      /* FTIR amide I/II and water keep every form there too: ATR sampling
       * shifts and skews these strong broad bands (amide I under COD 1643
       * and COM 1620), so a fixed shape passes for oxalate; the sharp
       * 1316-1326 band and the phosphate envelope still tell the mineral */
      if (ftir && t->pos > 1500)
        nforms = N_(tforms);
      for (size_t form = 0; form < nforms; form++) {
        double w = tforms[form] * t->fwhm;
        for (size_t j = 0; j < p; j++)
          v[j] = pv(lo + step * (double)j, t->pos, w, tform_kind[form]);
        d->atmin[d->m] = (unsigned char)near;
        d->m += (size_t)gs_append(d->q, p, d->m, v);
      }
    }
  }
  if (ftir)
    d->m0 = d->m;
  d->nu = d->m - d->m0;
  if (d->nu > NUMAX) /* no prior: every column free, as before */
    d->nu = 0, d->m0 = d->m;
  if (d->nu && !(d->lev = calloc(p, sizeof *d->lev))) {
    free(v);
    csi_detector_free(d);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  /* sqrt of the leverage of the far tissue columns at each point: the
   * noise of their fit there is sigma times this */
  for (size_t j = 0; d->nu && j < p; j++) {
    double l = 0;
    for (size_t a = d->mpoly; a < d->m0; a++)
      l += d->q[a * p + j] * d->q[a * p + j];
    d->lev[j] = sqrt(l);
  }
  if (d->nu && !(d->rr = calloc(d->nu * d->nu, sizeof *d->rr)) ) {
    free(v);
    csi_detector_free(d);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  /* R R' of the unit-height near bands in the coordinates of the last nu
   * columns: R[a][b] = <q_(m0+a), band b> (q_(m0+a) is orthogonal to the
   * first m0 columns, so the band's part there does not count) */
  for (size_t b = 0; d->nu && b < ntis; b++) {
    const tband *t = &tis[b];
    if (t->pos + t->fwhm < lo || t->pos - t->fwhm > hi ||
        !near_mineral(t, tp, ntp))
      continue;
    double rb[NUMAX];
    for (size_t j = 0; j < p; j++)
      v[j] = pv(lo + step * (double)j, t->pos, t->fwhm, tform_kind[0]);
    for (size_t a = 0; a < d->nu; a++) {
      const double *qa = d->q + (d->m0 + a) * p;
      double dot = 0;
      for (size_t j = 0; j < p; j++)
        dot += qa[j] * v[j];
      rb[a] = dot;
    }
    for (size_t a = 0; a < d->nu; a++)
      for (size_t c = 0; c < d->nu; c++)
        d->rr[a * d->nu + c] += rb[a] * rb[c];
  }
  double *cols[MAXT];
  size_t nc = 0;
  for (size_t k = 0; k < ntp; k++) {
    if (!tmpl_in(&tp[k], lo, hi))
      continue;
    /* features: windows around every band of the template, wide enough
     * for the shifts and the broader widths */
    for (size_t b = 0; b < tp[k].nb; b++)
      for (size_t j = 0; j < p; j++) {
        double x = lo + step * (double)j;
        if (fabs(x - tp[k].b[b].pos) <= 8 + 1.5 * tp[k].b[b].fwhm)
          d->mask[j] = 1;
      }
    for (size_t s = 0; s < N_(shifts); s++)
      for (size_t w = 0; w < N_(widths); w++) {
        /* FTIR axes are laser-referenced (a fraction of a cm^-1) and ATR
         * sampling only pulls bands lower: no templates shifted upwards
         * (each one a chance for tissue misfit to pass for mineral) */
        if (ftir && shifts[s] > 0)
          continue;
        /* built in row nc of r, residualised and normalised below */
        double *col = d->r + nc * p;
        for (size_t j = 0; j < p; j++) {
          double x = lo + step * (double)j, y = 0;
          for (size_t b = 0; b < tp[k].nb; b++) {
            const tband *t = &tp[k].b[b];
            y += t->height * pv(x, t->pos + shifts[s], t->fwhm * widths[w], 0);
          }
          col[j] = y;
        }
        cols[nc] = col;
        d->tid[nc] = (int)k;
        d->tshift[nc] = shifts[s];
        d->twidth[nc] = widths[w];
        /* |template|^2 before residualisation (for tleak below) */
        double n0 = 0;
        for (size_t j = 0; j < p; j++)
          n0 += col[j] * col[j];
        d->tn0[nc] = n0;
        /* the template's part in the near-band columns (rho, divided by
         * the residual norm below) */
        for (size_t a = 0; a < d->nu; a++) {
          const double *qa = d->q + (d->m0 + a) * p;
          double dot = 0;
          for (size_t j = 0; j < p; j++)
            dot += qa[j] * col[j];
          d->rho[nc * NUMAX + a] = dot;
        }
        nc++;
      }
  }
  /* residualise against the nuisance basis (four rows at a time, the same
   * bits as one by one), then normalise; rows of no length are dropped */
  resid_cols(d->q, p, d->m, cols, nc);
  for (size_t j = 0; j < p; j++) /* the lipid 970 band (Raman), unit height */
    v[j] = ftir ? 0 : pv(lo + step * (double)j, LIPID970_POS, LIPID970_FWHM, 0);
  for (size_t i = 0; i < nc; i++) {
    const double *col = cols[i];
    double nn = 0;
    for (size_t j = 0; j < p; j++)
      nn += col[j] * col[j];
    if (!(nn > 1e-12))
      continue;
    nn = sqrt(nn);
    for (size_t j = 0; j < p; j++) /* row nt <= i: in place */
      d->r[d->nt * p + j] = col[j] / nn;
    for (size_t a = 0; a < d->nu; a++) /* row nt <= i: in place */
      d->rho[d->nt * NUMAX + a] = d->rho[i * NUMAX + a] / nn;
    d->tid[d->nt] = d->tid[i];
    d->tshift[d->nt] = d->tshift[i];
    d->twidth[d->nt] = d->twidth[i];
    d->tleak[d->nt] = d->tn0[i] > 0 ? 1 - nn * nn / d->tn0[i] : 0;
    double lb = 0;
    for (size_t j = 0; j < p; j++)
      lb += d->r[d->nt * p + j] * v[j];
    d->lip[d->nt] = lb;
    d->tn0[d->nt] = d->tn0[i];
    d->nt++;
  }
  cs_status sta = d->ftir ? CS_OK : apa_tables(d, err); /* Raman apatite bands */
  /* the unexplained-band kernel (Raman): a Gaussian of FWHM UB_FWHM minus
   * its mean over +-UB_HALF; and every template row's bands one by one */
  size_t kh = (size_t)(UB_HALF / step + 0.5);
  if (!sta && !d->ftir && kh >= 2 && kh <= UB_HALF_MAX && 2 * kh + 1 < p) {
    double sd = UB_FWHM / (2 * sqrt(2 * 0.69314718055994530942)), mean = 0;
    for (size_t i = 0; i <= 2 * kh; i++) {
      double u = ((double)i - (double)kh) * step / sd;
      d->kern[i] = exp(-0.5 * u * u);
      mean += d->kern[i];
    }
    mean /= (double)(2 * kh + 1);
    for (size_t i = 0; i <= 2 * kh; i++)
      d->kern[i] -= mean;
    for (size_t i = 1; i <= kh; i++) /* exactly symmetric */
      d->kern[kh - i] = d->kern[kh + i];
    d->khalf = kh;
    sta = ub_tables(d, tp, err);
  }
  free(v);
  if (sta) {
    csi_detector_free(d);
    return sta;
  }
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

/* Normal equations of [1, u, u^2, band] at offset io, 4 x 4 by
 * Gauss-Jordan with partial pivoting, the unit vector e3 alongside for
 * (A^-1)_33: everything but the right-hand side, recorded in t. */
static void ref_elim(struct reftab *t, int io) {
  double a[4][5];
  for (int r = 0; r < 4; r++) {
    for (int c = 0; c < 4; c++)
      a[r][c] = t->ata[io][r][c];
    a[r][4] = r == 3;
  }
  for (int c = 0; c < 4; c++) {
    int piv = c;
    for (int r = c + 1; r < 4; r++)
      if (fabs(a[r][c]) > fabs(a[piv][c]))
        piv = r;
    if (!(fabs(a[piv][c]) > 1e-12)) {
      t->singular = 1;
      return;
    }
    for (int k = 0; k < 5; k++) {
      double tmp = a[c][k];
      a[c][k] = a[piv][k], a[piv][k] = tmp;
    }
    t->piv[io][c] = piv;
    for (int r = 0; r < 4; r++)
      if (r != c) {
        double fct = a[r][c] / a[c][c];
        t->fct[io][c][r] = fct;
        for (int k = c; k < 5; k++)
          a[r][k] -= fct * a[c][k];
      }
  }
  for (int c = 0; c < 4; c++)
    t->diag[io][c] = a[c][c];
  t->inv33[io] = a[3][4] / a[3][3];
}

/* The axis-only part of ref_fit for every reference band: span, band
 * profiles, normal matrices and their elimination (d->ref; CS_ERR_NOMEM
 * when out of memory). */
static cs_status ref_tables(csi_detector *d, cs_error *err) {
  double hi = d->lo + d->step * (double)(d->p - 1);
  for (size_t b = 0; b < NREF; b++) {
    const refband *rb = &refs[b];
    struct reftab *t = &d->ref[b];
    t->n = 0;
    if (d->ftir || /* Raman reference bands */
        rb->pos - rb->half - PHE_MAX_OFFSET < d->lo ||
        rb->pos + rb->half + PHE_MAX_OFFSET > hi)
      continue;
    size_t j0 = (size_t)ceil((rb->pos - rb->half - d->lo) / d->step);
    size_t j1 = (size_t)floor((rb->pos + rb->half - d->lo) / d->step);
    size_t n = j1 - j0 + 1;
    if (n < 10)
      continue;
    if (!(t->prof = malloc(NOFF * n * sizeof *t->prof)) ||
        !(t->u = malloc(n * sizeof *t->u)) ||
        !(t->proft = calloc(4 * NOFFV * n, sizeof *t->proft)))
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    t->j0 = j0, t->n = n;
    for (size_t j = j0; j <= j1; j++)
      t->u[j - j0] = (d->lo + d->step * (double)j - rb->pos) / rb->half;
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
      ref_elim(t, io);
      for (size_t j = 0; j < n; j++)
        t->proft[j * 4 * NOFFV + (size_t)io] = pr[j];
    }
  }
  return CS_OK;
}

static double tissue_offset(const detect_kern *k, const csi_detector *d,
                            const double *row, double *offset, double *phe_t,
                            double *phe_amp, double *phe_se) {
  double sum[NOFF] = {0}, rss[NOFF], tv[NOFF], amp[NOFF], se[NOFF], t2 = 0;
  int used = 0;
  *offset = 0, *phe_t = 0, *phe_amp = 0, *phe_se = INFINITY;
  for (size_t b = 0; b < NREF; b++) {
    if (!k->ref_fit(d, row, b, rss, tv, amp, se))
      continue;
    int ib = 0;
    for (int io = 1; io < NOFF; io++)
      if (rss[io] < rss[ib])
        ib = io;
    if (b == 0)
      *phe_t = tv[ib] > 0 ? tv[ib] : 0, *phe_amp = amp[ib], *phe_se = se[ib];
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
  size_t bi = 0, n = d->nu1_n;
  double c[NU1_NX8], bc = -INFINITY;
  const double *ej = e + d->nu1_j0;
  /* eight trial positions a pass, each summed in point order as one at a
   * time would (the same bits; the eight sums do not wait on each other) */
  for (size_t i = 0; i < NU1_NX8; i += 8) {
    const double *w0 = d->nu1g + i * n, *w1 = w0 + 4 * n;
    v2d a0 = {0, 0}, a1 = a0, a2 = a0, a3 = a0, x0, x1, x2, x3;
    for (size_t j = 0; j < n; j++) {
      memcpy(&x0, w0 + 4 * j, sizeof x0), memcpy(&x1, w0 + 4 * j + 2, sizeof x1);
      memcpy(&x2, w1 + 4 * j, sizeof x2), memcpy(&x3, w1 + 4 * j + 2, sizeof x3);
      a0 += x0 * ej[j], a1 += x1 * ej[j], a2 += x2 * ej[j], a3 += x3 * ej[j];
    }
    memcpy(c + i, &a0, sizeof a0), memcpy(c + i + 2, &a1, sizeof a1);
    memcpy(c + i + 4, &a2, sizeof a2), memcpy(c + i + 6, &a3, sizeof a3);
  }
  for (size_t i = 0; i < NU1_NX; i++)
    if (c[i] > bc)
      bc = c[i], bi = i;
  double x = APA_LO + 0.25 * (double)bi;
  if (bi > 0 && bi + 1 < NU1_NX) {
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
  _Static_assert(APA_COLS == 7, "apa_normal holds seven columns");
  double a[APA_COLS][8], b[8];
  kernels()->apa_normal(d->apa + g * 8 * d->p, e, sig, d->p, d->lo, d->step,
                        *nu1, a[0], b);
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


/* The unexplained-band tables of detector d (templates tp): every
 * template row's bands one by one, residualised against the nuisance
 * basis and of unit norm, and their Gram matrices within each group. */
static cs_status ub_tables(csi_detector *d, const tmpl *tp, cs_error *err) {
  const detect_kern *kn = kernels();
  size_t p = d->p;
  cs_status sta = CS_OK;
  double *dots = malloc((d->m ? d->m : 1) * sizeof *dots);
  if (!dots)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  size_t nbt = 0;
  for (size_t k = 0; k < d->nt; k++)
    nbt += tp[d->tid[k]].nb;
  if (!(d->boff = malloc((d->nt ? d->nt : 1) * sizeof *d->boff)) ||
      !(d->nb = malloc((d->nt ? d->nt : 1) * sizeof *d->nb)) ||
      !(d->bcol = malloc((nbt ? nbt : 1) * p * sizeof *d->bcol)) ||
      !(d->kcol = malloc((nbt ? nbt : 1) * p * sizeof *d->kcol)))
    sta = csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t k = 0, o = 0; !sta && k < d->nt; k++) {
    const tmpl *tk = &tp[d->tid[k]];
    d->boff[k] = o, d->nb[k] = tk->nb;
    for (size_t b = 0; b < tk->nb; b++, o++) {
      double *c = d->bcol + o * p, nn = 0;
      for (size_t j = 0; j < p; j++)
        c[j] = pv(d->lo + d->step * (double)j, tk->b[b].pos + d->tshift[k],
                  tk->b[b].fwhm * d->twidth[k], 0);
      /* c - Q Q'c (Q orthonormal), the dots four columns at a time */
      size_t a = 0;
      for (; a + 4 <= d->m; a += 4) {
        const double *qa[4] = {d->q + a * p, d->q + (a + 1) * p,
                               d->q + (a + 2) * p, d->q + (a + 3) * p};
        kn->dot8x4(qa, c, p, dots + a);
      }
      for (; a < d->m; a++)
        dots[a] = kn->dot8(d->q + a * p, c, p);
      /* in column order per point, four columns a pass: the plain loop's
       * bits, not its scalar speed (most of the detector's build) */
      for (a = 0; a + 4 <= d->m; a += 4)
        kn->update4_e(c, NULL, d->q + a * p, p, dots + a);
      for (; a < d->m; a++)
        for (size_t j = 0; j < p; j++)
          c[j] -= dots[a] * d->q[a * p + j];
      for (size_t j = 0; j < p; j++)
        nn += c[j] * c[j];
      nn = nn > 1e-12 ? 1 / sqrt(nn) : 0;
      for (size_t j = 0; j < p; j++)
        c[j] *= nn;
      kern_apply(d->kern, d->khalf, c, p, d->kcol + o * p);
    }
  }
  size_t ng = 0;
  if (!sta && !(d->goff = malloc((d->nt ? d->nt * d->nt : 1) * sizeof *d->goff)))
    sta = csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t k = 0; !sta && k < d->nt; k++)
    for (size_t l = 0; l < d->nt; l++) {
      int same = ub_group[d->tid[k]] == ub_group[d->tid[l]] &&
                 (k == l || d->tid[k] != d->tid[l]);
      d->goff[k * d->nt + l] = same ? ng : SIZE_MAX;
      ng += same ? d->nb[k] * d->nb[l] : 0;
    }
  if (!sta && !(d->gram = malloc((ng ? ng : 1) * sizeof *d->gram)))
    sta = csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t k = 0; !sta && k < d->nt; k++)
    for (size_t l = 0; l < d->nt; l++) {
      size_t o = d->goff[k * d->nt + l];
      if (o == SIZE_MAX)
        continue;
      for (size_t b = 0; b < d->nb[k]; b++)
        for (size_t c = 0; c < d->nb[l]; c++) {
          const double *x = d->bcol + (d->boff[k] + b) * p;
          const double *y = d->bcol + (d->boff[l] + c) * p;
          d->gram[o + b * d->nb[l] + c] = kn->dot8(x, y, p);
        }
    }
  free(dots);
  return sta;
}


/* The nuisance projection, vector path: every coefficient is the dot of
 * its column with the row itself (classical Gram-Schmidt; the basis is
 * orthonormal, so this equals the sequential projection up to rounding),
 * which lets four columns share one pass over the row and the updates of e
 * and s2 share one pass over each column.  e = row - Q c, s2 += tissue
 * columns' part, both accumulated in column order. */
static void project_vec(const detect_kern *k, const csi_detector *d,
                        const double *row, double *e, double *s2, double *c) {
  size_t p = d->p, m = d->m, a = 0;
  for (; a + 4 <= m; a += 4) {
    const double *qa[4] = {d->q + a * p, d->q + (a + 1) * p,
                           d->q + (a + 2) * p, d->q + (a + 3) * p};
    k->dot8x4(qa, row, p, c + a);
  }
  for (; a < m; a++)
    c[a] = k->dot8(d->q + a * p, row, p);
  memcpy(e, row, p * sizeof *e);
  memset(s2, 0, p * sizeof *s2);
  for (a = 0; a < m;) {
    /* four columns on the same side of mpoly per pass, else one */
    size_t end = a < d->mpoly ? d->mpoly : m;
    const double *qa = d->q + a * p;
    if (end - a >= 4) {
      if (a < d->mpoly)
        k->update4_e(e, s2, qa, p, c + a);
      else
        k->update4_es(e, s2, qa, p, c + a);
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

/* out[j] = max |v[k]| over k within TISSUE_REACH of j (0 for none larger):
 * van Herk / Gil-Werman, block prefix and suffix maxima g and h over
 * blocks of the window's width, two comparisons a point instead of one
 * per window point.  A maximum is exact, so this is the plain loop's
 * value. */
static void window_absmax(const double *v, size_t p, double *out, double *g,
                          double *h) {
  const size_t w = 2 * TISSUE_REACH + 1;
  for (size_t b0 = 0; b0 < p; b0 += w) {
    size_t b1 = b0 + w < p ? b0 + w : p;
    double m = 0;
    for (size_t k = b0; k < b1; k++)
      g[k] = m = fabs(v[k]) > m ? fabs(v[k]) : m;
    m = 0;
    for (size_t k = b1; k-- > b0;)
      h[k] = m = fabs(v[k]) > m ? fabs(v[k]) : m;
  }
  for (size_t j = 0; j < p; j++) {
    size_t a = j > TISSUE_REACH ? j - TISSUE_REACH : 0;
    size_t b = j + TISSUE_REACH < p ? j + TISSUE_REACH : p - 1;
    double mx = 0;
    if (a / w == b / w && b - a + 1 < w) { /* part of one block: an edge */
      for (size_t k = a; k <= b; k++)
        mx = fabs(v[k]) > mx ? fabs(v[k]) : mx;
    } else {
      mx = h[a] > g[b] ? h[a] : g[b];
    }
    out[j] = mx;
  }
}

/* The running maximum m = v > m ? v : m from m = 0, in four chains that
 * do not wait on each other, then joined the same way.  Exact: only a
 * value above +0 replaces it, equal ones are the same bits, a NaN never
 * does, so the order does not matter. */
#define MAX0_STEP(m, v) ((v) > (m) ? (v) : (m))
static double max0_join(const double m[4]) {
  double r = m[0];
  for (int i = 1; i < 4; i++)
    r = MAX0_STEP(r, m[i]);
  return r;
}

/* K = U' diag(s2) U + tau2 R R' over the near-band columns U (the last
 * nu of q), Cholesky factor in place (lower); 0 when not positive
 * definite.  diag: only the diagonal of U' diag(s2) U (pass 1, to choose
 * the template; where the noise is flat it is the whole of it, U being
 * orthonormal).  dotf: the dot product of csi_detect; tmp: p scratch. */
static int near_cov(const csi_detector *d,
                    double (*dotf)(const double *, const double *, size_t),
                    const double *s2, double tau2, double *k, double *tmp,
                    int diag) {
  size_t nu = d->nu, p = d->p;
  for (size_t a = 0; a < nu; a++) {
    const double *qa = d->q + (d->m0 + a) * p;
    size_t j = 0;
    for (; j + 4 <= p; j += 4) { /* element-wise: the scalar loop's bits */
      v2d x0, x1, y0, y1; /* (a v4d here went through the stack) */
      memcpy(&x0, qa + j, sizeof x0), memcpy(&x1, qa + j + 2, sizeof x1);
      memcpy(&y0, s2 + j, sizeof y0), memcpy(&y1, s2 + j + 2, sizeof y1);
      x0 *= y0, x1 *= y1;
      memcpy(tmp + j, &x0, sizeof x0), memcpy(tmp + j + 2, &x1, sizeof x1);
    }
    for (; j < p; j++)
      tmp[j] = qa[j] * s2[j];
    for (size_t b = 0; b <= a; b++)
      k[a * nu + b] = (diag && b < a ? 0 : dotf(tmp, d->q + (d->m0 + b) * p, p)) +
                      tau2 * d->rr[a * nu + b];
  }
  for (size_t r = 0; r < nu; r++)
    for (size_t c = 0; c <= r; c++) {
      double sum = k[r * nu + c];
      for (size_t i = 0; i < c; i++)
        sum -= k[r * nu + i] * k[c * nu + i];
      if (r == c) {
        if (!(sum > 0))
          return 0;
        k[r * nu + r] = sqrt(sum);
      } else
        k[r * nu + c] = sum / k[c * nu + c];
    }
  return 1;
}

/* y = L^-1 b for the Cholesky factor l (lower, nu x nu). */
static void near_fwd(const double *l, size_t nu, const double *b, double *y) {
  for (size_t r = 0; r < nu; r++) {
    double sum = b[r];
    for (size_t i = 0; i < r; i++)
      sum -= l[r * nu + i] * y[i];
    y[r] = sum / l[r * nu + r];
  }
}

/* The near-prior statistic of template row k (README "Classifier", "What
 * limits Raman at band SNR 5"): the filter w = r + U beta, beta = sb K^-1
 * rho, is the generalised least-squares one when the noise is sb per
 * point; r's amplitude amp and variance sb; z = L^-1 uh, uh the row's
 * near-band coefficients.  t = <w, e0> / its standard error under "tissue
 * only", e0 the residual before the near columns; *num and *var get
 * <w, e0> and its variance.  With x (nu, may be NULL) x gets K^-1 rho.
 * The cross term r' diag(s2) U beta is left out (0 where the noise is flat
 * over the band). */
static double near_t(const csi_detector *d, const double *l, size_t k,
                     double amp, double sb, const double *z, double *x,
                     double *num, double *var) {
  size_t nu = d->nu;
  double y[NUMAX], g = 0, xu = 0;
  near_fwd(l, nu, d->rho + k * NUMAX, y);
  for (size_t r = 0; r < nu; r++) /* rho' K^-1 rho and rho' K^-1 uh */
    g += y[r] * y[r], xu += y[r] * z[r];
  for (size_t r = nu; x && r-- > 0;) {
    double sum = y[r];
    for (size_t i = r + 1; i < nu; i++)
      sum -= l[i * nu + r] * x[i];
    x[r] = sum / l[r * nu + r];
  }
  *var = sb + sb * sb * g;
  *num = amp + sb * xu;
  return *var > 0 ? *num / sqrt(*var) : 0;
}

/* near_t (x NULL) for the four rows k[0..3], each in a lane of its own:
 * the same operations as near_t row by row (the same bits), with the four
 * triangular solves' dependency chains side by side instead of in turn.
 * t, num, var: four each. */
static void near_t4(const csi_detector *d, const double *l, const size_t *k,
                    const double *amp, const double *sb, const double *z,
                    double *t, double *num, double *var) {
  size_t nu = d->nu;
  const double *r0 = d->rho + k[0] * NUMAX, *r1 = d->rho + k[1] * NUMAX,
               *r2 = d->rho + k[2] * NUMAX, *r3 = d->rho + k[3] * NUMAX;
  v2d y0[NUMAX], y1[NUMAX], g0 = {0, 0}, g1 = g0, u0 = g0, u1 = g0;
  for (size_t r = 0; r < nu; r++) {
    v2d s0 = {r0[r], r1[r]}, s1 = {r2[r], r3[r]};
    for (size_t i = 0; i < r; i++) {
      double c = l[r * nu + i];
      s0 -= c * y0[i], s1 -= c * y1[i];
    }
    double dg = l[r * nu + r];
    y0[r] = s0 / dg, y1[r] = s1 / dg;
  }
  for (size_t r = 0; r < nu; r++) {
    g0 += y0[r] * y0[r], u0 += y0[r] * z[r];
    g1 += y1[r] * y1[r], u1 += y1[r] * z[r];
  }
  double g[4] = {g0[0], g0[1], g1[0], g1[1]};
  double xu[4] = {u0[0], u0[1], u1[0], u1[1]};
  for (int q = 0; q < 4; q++) {
    var[q] = sb[q] + sb[q] * sb[q] * g[q];
    num[q] = amp[q] + sb[q] * xu[q];
    t[q] = var[q] > 0 ? num[q] / sqrt(var[q]) : 0;
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

/* sum (r[j] r[j]) w[j] in point order */
static double dot_sq_serial(const double *r, const double *w, size_t n) {
  double s = 0;
  for (size_t j = 0; j < n; j++)
    s += (r[j] * r[j]) * w[j];
  return s;
}

/* The grey-zone check (csi_detection.spread_t): the t statistic of the
 * best template's bands away from the band that carries most of its
 * amplitude.  Tissue misfit that passes for mineral sits in one place
 * (mostly the CH2 band under the oxalate 1463-1490 bands), a mineral has
 * its weaker bands too.  e is the nuisance residual, sig the final noise.
 * 0 when the template has no such bands of useful height. */
static double spread_t(const csi_detector *d, size_t best, const double *e,
                       const double *sig) {
  const tmpl *tp = &d->tp[d->tid[best]];
  size_t p = d->p, bd = tp->nb;
  double sh = d->tshift[best], wf = d->twidth[best], amax = -INFINITY;
  for (size_t b = 0; b < tp->nb; b++) {
    const tband *t = &tp->b[b];
    if (t->pos + sh < d->lo || t->pos + sh > d->lo + d->step * (double)(p - 1))
      continue;
    double a = 0;
    for (size_t j = 0; j < p; j++)
      a += pv(d->lo + d->step * (double)j, t->pos + sh, t->fwhm * wf, 0) * e[j];
    a *= t->height;
    if (a > amax)
      amax = a, bd = b;
  }
  if (bd == tp->nb)
    return 0;
  double hh = 0; /* the check bands' heights, relative to the dominant's */
  for (size_t b = 0; b < tp->nb; b++)
    if (fabs(tp->b[b].pos - tp->b[bd].pos) > SPREAD_SEP)
      hh += tp->b[b].height * tp->b[b].height;
  if (!(sqrt(hh) >= SPREAD_MIN_SHARE * tp->b[bd].height))
    return 0;
  double *c = calloc(p, sizeof *c);
  if (!c)
    return 0;
  int any = 0;
  for (size_t b = 0; b < tp->nb; b++) {
    const tband *t = &tp->b[b];
    if (!(fabs(t->pos - tp->b[bd].pos) > SPREAD_SEP))
      continue;
    any = 1;
    for (size_t j = 0; j < p; j++)
      c[j] += t->height *
              pv(d->lo + d->step * (double)j, t->pos + sh, t->fwhm * wf, 0);
  }
  double num = 0, var = 0;
  if (any) {
    for (size_t a = 0; a < d->m; a++) { /* off the nuisance span */
      const double *qa = d->q + a * p;
      double dot = 0;
      for (size_t j = 0; j < p; j++)
        dot += qa[j] * c[j];
      for (size_t j = 0; j < p; j++)
        c[j] -= dot * qa[j];
    }
    for (size_t j = 0; j < p; j++)
      num += c[j] * e[j], var += c[j] * c[j] * sig[j] * sig[j];
  }
  free(c);
  return var > 0 ? num / sqrt(var) : 0;
}

/* The unexplained-band statistic (README "Classifier", rejection), per
 * class group (oxalate: COD + COM; apatite: HA + whitlockite, sister
 * phases that share bands; calcite).  Every band of the group's best
 * template rows (at that row's shift and width) is a column of its own,
 * fitted to the residual e by non-negative least squares: relative band
 * heights vary with the laser, the instrument response and orientation,
 * so only a band where the class has none is unexplained.  The band
 * kernel then scans what is left against the local noise sig:
 * t(x) = (K u)(x) / sqrt((K^2 sig^2)(x)).  Among the points with t at
 * least UB_MIN_T, the largest (K u)(x) over the largest kernel response
 * of the fit (the class's strongest band, in the same units) is ub_ratio:
 * at 1 a band the class cannot explain is as strong as its own main band.
 * ke, kv and kf are scratch arrays of p. */
#define UB_MIN_T 6.5
#define UB_MAXCOL 16
static void unexplained(const csi_detector *d, const double *e,
                        const double *sig, const size_t *trow, double *ke,
                        double *kv, double *kf, csi_detection *out) {
  const detect_kern *kn = kernels();
  size_t p = d->p, kh = d->khalf;
  kern_apply(d->kern, kh, e, p, ke);
  double k2[2 * UB_HALF_MAX + 1];
  for (size_t i = 0; i <= 2 * kh; i++)
    k2[i] = d->kern[i] * d->kern[i];
  for (size_t j = 0; j < p; j++)
    kf[j] = sig[j] * sig[j];
  kern_apply(k2, kh, kf, p, kv);
  for (size_t j = 0; j < p; j++) /* kv: 1 / the scan's standard error */
    kv[j] = kv[j] > 0 ? 1 / sqrt(kv[j]) : 0;
  for (int g = 0; g < CSI_UB_GROUPS; g++) {
    const double *col[UB_MAXCOL], *kc[UB_MAXCOL];
    size_t n = 0, rk[2], nr = 0;
    for (size_t k = 0; k < CSI_NTEMPLATES; k++)
      if (ub_group[k] == g && trow[k] < d->nt && nr < 2)
        rk[nr++] = trow[k];
    for (size_t i = 0; i < nr; i++)
      for (size_t b = 0; b < d->nb[rk[i]] && n < UB_MAXCOL; b++)
        kc[n] = d->kcol + (d->boff[rk[i]] + b) * p,
        col[n++] = d->bcol + (d->boff[rk[i]] + b) * p;
    out->ub_ratio[g] = 0, out->ub_pos[g] = 0, out->ub_t[g] = 0;
    if (!n || n != (nr ? d->nb[rk[0]] : 0) + (nr > 1 ? d->nb[rk[1]] : 0))
      continue;
    /* NNLS by projected coordinate descent on the normal equations (the
     * Gram matrix tabulated per pair of rows) */
    double gm[UB_MAXCOL][UB_MAXCOL], bv[UB_MAXCOL], a[UB_MAXCOL];
    for (size_t i = 0; i < n; i++)
      bv[i] = kn->dot8(col[i], e, p), a[i] = 0;
    for (size_t x = 0, i0 = 0; x < nr; i0 += d->nb[rk[x]], x++)
      for (size_t y = 0, l0 = 0; y < nr; l0 += d->nb[rk[y]], y++) {
        const double *gb = d->gram + d->goff[rk[x] * d->nt + rk[y]];
        for (size_t b = 0; b < d->nb[rk[x]]; b++)
          for (size_t c = 0; c < d->nb[rk[y]]; c++)
            gm[i0 + b][l0 + c] = gb[b * d->nb[rk[y]] + c];
      }
    /* nz: the nonzero a[l], in l order.  A zero a[l] takes +-0 off r,
     * which can only change the sign of a zero r, and a zero r gives
     * a[i] = 0 either way: skipping them gives the same bits */
    unsigned nz = 0;
    for (int sweep = 0; sweep < 60; sweep++) {
      double change = 0, size = 0;
      for (size_t i = 0; i < n; i++) {
        if (!(gm[i][i] > 1e-12))
          continue;
        double r = bv[i];
        for (unsigned m = nz & ~(1u << i); m; m &= m - 1) {
          size_t l = (size_t)__builtin_ctz(m);
          r -= gm[i][l] * a[l];
        }
        double ai = r / gm[i][i];
        ai = ai > 0 ? ai : 0;
        change += fabs(ai - a[i]), size += ai;
        a[i] = ai;
        nz = ai > 0 ? nz | 1u << i : nz & ~(1u << i);
      }
      if (!(change > 1e-6 * size)) /* converged (or all zero) */
        break;
    }
    /* the fit's kernel response */
    double fmax = 0, *fr = kf, fm[4] = {0, 0, 0, 0};
    size_t act[UB_MAXCOL], na = 0;
    for (size_t i = 0; i < n; i++)
      if (a[i] > 0)
        act[na++] = i;
    /* fr = sum of a[i] kc[i] over the columns in order, four points at a
     * time held in a register across the columns (element-wise from 0:
     * the bits of adding one column at a time to a zeroed fr) */
    size_t pt = 0;
    for (; pt + 4 <= p; pt += 4) {
      v2d x0 = {0, 0}, x1 = x0, y0, y1;
      for (size_t q = 0; q < na; q++) {
        memcpy(&y0, kc[act[q]] + pt, sizeof y0);
        memcpy(&y1, kc[act[q]] + pt + 2, sizeof y1);
        x0 += a[act[q]] * y0, x1 += a[act[q]] * y1;
      }
      memcpy(fr + pt, &x0, sizeof x0), memcpy(fr + pt + 2, &x1, sizeof x1);
      fm[0] = MAX0_STEP(fm[0], x0[0]), fm[1] = MAX0_STEP(fm[1], x0[1]);
      fm[2] = MAX0_STEP(fm[2], x1[0]), fm[3] = MAX0_STEP(fm[3], x1[1]);
    }
    for (; pt < p; pt++) {
      double x = 0;
      for (size_t q = 0; q < na; q++)
        x += a[act[q]] * kc[act[q]][pt];
      fr[pt] = x;
      fm[0] = MAX0_STEP(fm[0], x);
    }
    fmax = max0_join(fm);
    if (!(fmax > 0))
      continue;
    for (size_t j = kh; j + kh < p; j++) {
      double u = ke[j] - fr[j], t = u * kv[j];
      if (t >= UB_MIN_T && u / fmax > out->ub_ratio[g])
        out->ub_ratio[g] = u / fmax, out->ub_t[g] = t,
        out->ub_pos[g] = d->lo + d->step * (double)j;
    }
  }
  out->ub_ok = 1;
}

/* No tissue signature (README "Classifier", detection step 4), judged on
 * the bare detection o (without the tissue columns at main mineral
 * bands), with d the bare detector.  Either of:
 *  - what the remaining tissue columns fit (phenylalanine, collagen, amide,
 *    CH2 twist, lipid ester, carotenoid: tissue never comes without
 *    them), less what the detected mineral template itself puts into
 *    them, is within BARE_CHI2 standard deviations of the chi-square that
 *    noise alone gives;
 *  - no reference band of tissue_offset reached t 5, and phenylalanine
 *    (1003.4 cm^-1, in every protein-bearing tissue), at its upper bound
 *    (amplitude + 3 standard errors), is under BARE_PHE of the mineral
 *    band's height: a strong sharp band whose tails and minor bands the
 *    tissue columns take, as a clean reference spectrum's.
 * Then a tissue band fitted where a mineral band lies has nothing to back
 * it. */
static int no_tissue_signature(const csi_detector *d, const csi_detection *o,
                               size_t best) {
  if (o->noise_var > 0 && o->tissue_cols &&
      o->tissue_excess <= BARE_CHI2 * sqrt(2 * (double)o->tissue_cols))
    return 1;
  double nn2 = 1 - d->tleak[best]; /* |residualised template|^2 / |v|^2 */
  if (!d->ref[0].n || o->ref_t > 0 || !(nn2 > 0) || !isfinite(o->phe_se))
    return 0;
  /* the main band's height: amplitude over the residualised template norm
   * (the template's main band has height 1) */
  double h = o->amplitude / sqrt(nn2 * d->tn0[best]);
  double phe = (o->phe_amp > 0 ? o->phe_amp : 0) + 3 * o->phe_se;
  return phe <= BARE_PHE * h;
}

cs_status csi_detect(const csi_detector *d, double *row, double threshold,
                     csi_detection *out, double *feat, cs_error *err) {
  const detect_kern *kern = kernels();
  double (*dotf)(const double *, const double *, size_t) =
      csi_detect_serial_sums ? dot_serial : kern->dot8;
  size_t p = d->p;
  memset(out, 0, sizeof *out);
  double ymin = row[0], ymax = row[0];
  for (size_t j = 1; j < p; j++)
    ymin = row[j] < ymin ? row[j] : ymin, ymax = row[j] > ymax ? row[j] : ymax;
  if (!(ymax > ymin))
    return csi_error(err, CS_ERR_NUMERIC, "flat spectrum (%g everywhere in "
                     "the window): no signal to classify", ymin);
  double *e = malloc((8 * p + d->m) * sizeof *e);
  if (!e)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  double *sig = e + p, *tmp = e + 2 * p, *s2 = e + 3 * p, *scr = e + 4 * p;
  double *coef = e + 6 * p; /* nuisance coefficients (vector path) */
  double off, tref = tissue_offset(kern, d, row, &off, &out->phe_t,
                                    &out->phe_amp, &out->phe_se);
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
      coef[a] = dot;
      for (size_t j = 0; j < p; j++)
        e[j] -= dot * qa[j];
      if (a >= d->mpoly)
        for (size_t j = 0; j < p; j++)
          s2[j] += dot * qa[j];
    }
  } else
    project_vec(kern, d, row, e, s2, coef);
  /* the tallest band the row can hold above its smooth baseline (for the
   * bare detection's precondition) */
  double hm[4] = {0, 0, 0, 0};
  for (size_t j = 0; j < p; j++)
    hm[j % 4] = MAX0_STEP(hm[j % 4], e[j] + s2[j]);
  double hub = max0_join(hm);
  /* near prior: H, the largest height of the tissue fit without the
   * near-band columns (nb, their part of the fit) */
  double *nb = e + 7 * p + d->m, tau2 = 0, lip2 = 0;
  const double *uh = coef + d->m0;
  if (d->nu) {
    /* nb = s2 less the columns, two at a time as (uh q0 + uh q1); four
     * points held in registers over all the columns (element-wise: the
     * bits of one pass over nb per pair) */
    const double *qn = d->q + d->m0 * p;
    size_t j = 0, nu = d->nu;
    for (; j + 4 <= p; j += 4) {
      v2d x0, x1, y0, y1, z0, z1;
      memcpy(&x0, s2 + j, sizeof x0), memcpy(&x1, s2 + j + 2, sizeof x1);
      size_t a = 0;
      for (; a + 2 <= nu; a += 2) {
        const double *q0 = qn + a * p + j, *q1 = q0 + p;
        memcpy(&y0, q0, sizeof y0), memcpy(&y1, q0 + 2, sizeof y1);
        memcpy(&z0, q1, sizeof z0), memcpy(&z1, q1 + 2, sizeof z1);
        x0 -= uh[a] * y0 + uh[a + 1] * z0, x1 -= uh[a] * y1 + uh[a + 1] * z1;
      }
      for (; a < nu; a++) {
        memcpy(&y0, qn + a * p + j, sizeof y0);
        memcpy(&y1, qn + a * p + j + 2, sizeof y1);
        x0 -= uh[a] * y0, x1 -= uh[a] * y1;
      }
      memcpy(nb + j, &x0, sizeof x0), memcpy(nb + j + 2, &x1, sizeof x1);
    }
    for (; j < p; j++) {
      double x = s2[j];
      size_t a = 0;
      for (; a + 2 <= nu; a += 2)
        x -= uh[a] * qn[a * p + j] + uh[a + 1] * qn[(a + 1) * p + j];
      for (; a < nu; a++)
        x -= uh[a] * qn[a * p + j];
      nb[j] = x;
    }
  }
  /* model error: a fixed share of the local tissue signal (its largest
   * magnitude within +-TISSUE_REACH points) */
  window_absmax(s2, p, scr, tmp, e + 5 * p);
  for (size_t j = 0; j < p; j++)
    scr[j] *= TISSUE_MODEL_ERR;
  memcpy(s2, scr, p * sizeof *s2); /* s2: model error per point */
  /* pass 1: noise from first differences (bands barely move it), best
   * template by amplitude over its standard error */
  for (size_t j = 0; j + 1 < p; j++)
    tmp[j] = (e[j + 1] - e[j]) / sqrt(2.0);
  tmp[p - 1] = tmp[p - 2];
  local_sigma(tmp, p, sig, scr);
  if (d->nu) {
    /* H: the largest height of the far tissue fit beyond what noise alone
     * would give it (3 of its standard errors, sig sqrt(leverage)) */
    double hm4[4] = {0, 0, 0, 0};
    for (size_t j = 0; j < p; j++) {
      double x = fabs(nb[j]) - 3 * sig[j] * d->lev[j];
      hm4[j % 4] = MAX0_STEP(hm4[j % 4], x);
    }
    double h = max0_join(hm4);
    tau2 = NEAR_PRIOR * NEAR_PRIOR * h * h;
    lip2 = LIPID970 * LIPID970 * h * h;
  }
  double *sig2 = e + 5 * p; /* free until pass 2 */
  /* the tissue columns' fit energy beyond what noise alone gives them
   * (their coefficients have the noise variance), for no_tissue_signature;
   * the noise: the median of the blocks' first-difference noise */
  size_t nblk = 0;
  for (size_t b0 = 0; b0 < p; b0 += BLOCK)
    sig2[nblk++] = sig[b0];
  double nsd = csi_median(sig2, nblk), et = 0, efar = 0;
  size_t nfar = 0;
  for (size_t a = d->mpoly; a < d->m; a++) {
    et += coef[a] * coef[a];
    if (!d->atmin[a])
      efar += coef[a] * coef[a], nfar++;
  }
  out->noise_var = nsd * nsd;
  out->tissue_cols = d->m - d->mpoly;
  out->tissue_excess = nsd > 0 ? et / out->noise_var - (double)out->tissue_cols : 0;
  /* may the bare detection find no tissue signature?  The tissue columns
   * away from mineral bands within BARE_PRE chi-square standard deviations
   * of noise here, or the phenylalanine test possible with the tallest
   * band */
  int try_bare =
      nsd > 0 && ((efar / out->noise_var - (double)nfar <=
                   BARE_PRE * sqrt(2 * (double)nfar)) ||
                  (d->ref[0].n && tref == 0 && isfinite(out->phe_se) &&
                   (out->phe_amp > 0 ? out->phe_amp : 0) + 3 * out->phe_se <=
                       BARE_PHE * hub));
  /* FTIR: inverse-variance weights (sig2 holds 1 / sigma^2, ew the
   * weighted residual), so that the amide I region, where the tissue model
   * error dominates, does not drown the sharp oxalate and phosphate bands
   * beside it; Raman keeps the plain matched filter */
  double *ew = e + 6 * p + d->m;
  for (size_t j = 0; j < p; j++) {
    sig[j] = sqrt(sig[j] * sig[j] + s2[j] * s2[j]);
    sig2[j] = sig[j] * sig[j];
    if (d->ftir) {
      sig2[j] = sig2[j] > 0 ? 1 / sig2[j] : 0;
      ew[j] = e[j] * sig2[j];
    }
  }
  const double *eu = d->ftir ? ew : e;
  double *merr = s2;
  size_t best = 0;
  double bt = -INFINITY, ba = 0;
  /* after a phenylalanine correction only the residual calibration error
   * and the carbonate shift of apatite remain: fewer shifts to look at */
  double maxshift = out->offset_source == CSI_OFFSET_TISSUE ? 4 : 6;
  /* the templates' amplitudes and variances, one pass over each template
   * row on the vector path (the same bits as two dot products) */
  double amp[MAXT], var[MAXT];
  size_t act[MAXT], nact = 0;
  for (size_t k = 0; k < d->nt; k++)
    if (!(fabs(d->tshift[k]) > maxshift))
      act[nact++] = k;
  for (size_t i = 0; i < nact; i++) {
    const double *rk = d->r + act[i] * p;
    if (csi_detect_serial_sums)
      amp[i] = dot_serial(rk, eu, p), var[i] = dot_sq_serial(rk, sig2, p);
    else
      kern->tmpl_amp_var(rk, eu, sig2, p, &amp[i], &var[i]);
  }
  size_t trow[CSI_NTEMPLATES]; /* best row of each template */
  for (size_t k = 0; k < CSI_NTEMPLATES; k++)
    trow[k] = d->nt;
  double kl[NUMAX * NUMAX], kx[NUMAX], kz[NUMAX], nn, nv;
  int prior = d->nu && near_cov(d, dotf, sig2, tau2, kl, tmp, 1);
  double pt[MAXT], pn[MAXT], pv4[MAXT]; /* near_t per active row */
  if (prior) {
    near_fwd(kl, d->nu, uh, kz);
    size_t i = 0;
    for (; i + 4 <= nact; i += 4)
      near_t4(d, kl, act + i, amp + i, var + i, kz, pt + i, pn + i, pv4 + i);
    for (; i < nact; i++)
      pt[i] = near_t(d, kl, act[i], amp[i], var[i], kz, NULL, &pn[i], &pv4[i]);
  }
  for (size_t i = 0; i < nact; i++) {
    size_t k = act[i];
    double a = amp[i], v = var[i];
    double xl = lip2 * d->lip[k] * d->lip[k]; /* lipid 970 model error */
    if (prior)
      nn = pn[i], nv = pv4[i];
    double t = prior ? pt[i] : v > 0 ? a / sqrt(v) : 0;
    if (xl > 0)
      t = prior ? (nv + xl > 0 ? nn / sqrt(nv + xl) : 0)
                : (v + xl > 0 ? a / sqrt(v + xl) : 0);
    if (d->ftir) /* weighted: a / v is the amplitude */
      a = v > 0 ? a / v : 0;
    if (d->tid[k] < CSI_NTEMPLATES && t > out->tmpl_t[d->tid[k]])
      out->tmpl_t[d->tid[k]] = t, trow[d->tid[k]] = k;
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
  if (d->ftir) { /* weighted: t = sum(w r e) / sqrt(sum(w r^2)) */
    double num = 0;
    for (size_t j = 0; j < p; j++)
      if (sig[j] > 0) {
        double w = 1 / (sig[j] * sig[j]);
        num += w * r[j] * e[j], v += w * r[j] * r[j];
      }
    ba = v > 0 ? num / v : 0;
    out->snr = v > 0 ? num / sqrt(v) : 0;
  } else {
    for (size_t j = 0; j < p; j++)
      v += r[j] * r[j] * sig[j] * sig[j];
    double xl = lip2 * d->lip[best] * d->lip[best];
    double se = v + xl > 0 ? sqrt(v + xl) : 0;
    out->snr = se > 0 ? ba / se : 0;
    for (size_t j = 0; prior && j < p; j++)
      scr[j] = sig[j] * sig[j];
    if (prior && near_cov(d, dotf, scr, tau2, kl, tmp, 0)) {
      /* the near-prior statistic with the final noise, and the cross
       * term 2 r' diag(sig^2) U beta in its variance */
      double num, vn, cross = 0, beta[NUMAX];
      near_fwd(kl, d->nu, uh, kz);
      near_t(d, kl, best, ba, v, kz, kx, &num, &vn);
      /* ub = U beta, summed from 0 over the columns in order, four points
       * in registers at a time, and the cross term in point order (the
       * bits of building ub in memory one column a pass, then the sum) */
      const double *qn = d->q + d->m0 * p;
      size_t j = 0, nu = d->nu;
      for (size_t a = 0; a < nu; a++)
        beta[a] = v * kx[a];
      for (; j + 4 <= p; j += 4) {
        v2d u0 = {0, 0}, u1 = u0, y0, y1;
        for (size_t a = 0; a < nu; a++) {
          memcpy(&y0, qn + a * p + j, sizeof y0);
          memcpy(&y1, qn + a * p + j + 2, sizeof y1);
          u0 += beta[a] * y0, u1 += beta[a] * y1;
        }
        cross += r[j] * scr[j] * u0[0], cross += r[j + 1] * scr[j + 1] * u0[1];
        cross += r[j + 2] * scr[j + 2] * u1[0];
        cross += r[j + 3] * scr[j + 3] * u1[1];
      }
      for (; j < p; j++) {
        double u = 0;
        for (size_t a = 0; a < nu; a++)
          u += beta[a] * qn[a * p + j];
        cross += r[j] * scr[j] * u;
      }
      vn += 2 * cross + xl;
      out->snr = vn > 0 ? num / sqrt(vn) : 0;
    }
  }
  if (!isfinite(out->snr))
    out->snr = 0;
  if (!d->ftir && out->snr >= CSI_GREY_SIGMA && out->snr < threshold)
    out->spread_t = spread_t(d, best, e, sig);
  out->amplitude = ba;
  out->row = best;
  out->cls = d->tp[d->tid[best]].cls;
  /* what the best template itself puts into the nuisance columns, in
   * units of the noise variance: (ba / |r_res|)^2 |P v|^2 with unit r,
   * i.e. ba^2 leak / (1 - leak) */
  if (out->noise_var > 0 && d->tleak[best] < 1)
    out->tissue_excess -= ba * ba * d->tleak[best] / (1 - d->tleak[best]) /
                          out->noise_var;
  if (!d->ftir && (out->tmpl_t[2] >= APA_MIN_T || out->tmpl_t[3] >= APA_MIN_T))
    out->apa_ok = apatite_split(d, e, sig, &out->nu1, &out->apa_z);
  out->shift = d->tshift[best];
  if (out->offset_source == CSI_OFFSET_NONE &&
      d->tp[d->tid[best]].absolute && out->snr >= MIN_T_OFFSET) {
    out->offset = out->shift;
    out->offset_source = CSI_OFFSET_MINERAL;
  }
  /* Raman, detected (below the threshold the spectrum is tissue and the
   * statistic unused): scratch tmp, s2 and scr are free here */
  if (d->bcol && out->snr >= threshold)
    unexplained(d, e, sig, trow, tmp, s2, scr, out);
  const csi_detector *bd = NULL;
  if (d->can_bare && out->snr < threshold && try_bare) {
    /* no tissue signature but where a mineral band lies: detect again
     * without the tissue columns there (on a copy of the row), and keep
     * that detection when it detects.  The features stay those of this
     * basis, which the LDA was trained on. */
    csi_detection o2;
    double *row2 = malloc(p * sizeof *row2);
    cs_status st2 = CS_OK;
    if (!row2)
      st2 = csi_error(err, CS_ERR_NOMEM, "out of memory");
    else {
      memcpy(row2, row, p * sizeof *row2);
      st2 = get_bare(d, &bd, err);
      if (!st2)
        st2 = csi_detect(bd, row2, threshold, &o2, NULL, err);
    }
    free(row2);
    if (st2) {
      free(e);
      return st2;
    }
    if (o2.snr >= threshold && no_tissue_signature(bd, &o2, o2.row)) {
      *out = o2;
      out->bare = 1;
    }
  }
  if (feat) {
    /* unit norm over the feature windows: tissue-only rows become noise
     * spread thinly over every direction instead of dominating the PCA */
    double scale = 0;
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
