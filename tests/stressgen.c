/* stressgen.c: an independent SYNTHETIC stress generator for calcspec.
 *
 * Writes Raman spectra of breast-calcification-like samples in the calcspec
 * CSV format (one shared x column, per-spectrum sample_id and core_id) and a
 * truth table.  It is deliberately NOT linked to libcalcspec and shares no
 * code, tables or constants with src/simulate.c, so that a model trained on
 * the simulator is judged on spectra it has never seen the like of.  Where
 * the two must agree (the literature band positions), the numbers here were
 * taken again from ../shared/domain/bands.md and carry their own jitter.
 *
 * What differs from src/simulate.c (see README "Independent evaluation"):
 *  - line shape: asymmetric pseudo-Voigt (Stancik & Brauns 2008, Vib Spectrosc
 *    47:66: width varies along the band with a logistic), Gaussian fraction
 *    drawn per spectrum 0..1, every width x U(0.7, 1.3), band positions and
 *    heights jittered; the instrument width adds in quadrature (bands.md
 *    "FWHM_obs = sqrt(FWHM_int^2 + FWHM_instr^2)");
 *  - tissue: five components of our own (collagen, lipid, protein/cytoplasm,
 *    nucleic acid, beta-carotene) plus water, mixed with random weights;
 *  - fluorescence: two broad Lorentzians in WAVELENGTH plus a quadratic, with
 *    its shot noise;
 *  - detector: Poisson photo-electrons (exact PTRS sampler), Gaussian read
 *    noise in electrons, a gain in e-/ADU, cosmic spikes 10-1000 sigma;
 *  - axis: pixels linear in wavelength (785 nm 1024 px, 830 nm 1340 px,
 *    1064 nm 512 px); the calibration error is an offset and a dispersion
 *    error in wavelength (so in cm^-1 it is not linear), pinned so that the
 *    reported axis at 1000 cm^-1 is off by exactly `offset`;
 *  - SNR: the height of the MINERAL's main band (not of the mixture), in
 *    photo-electrons, over the noise sd at that pixel (shot noise of
 *    everything there, mineral + tissue + fluorescence, plus read noise);
 *  - FTIR (--ftir, --atr): bone-like carbonated apatite in a protein
 *    matrix, transmission or diamond-ATR band distortions, atmospheric
 *    residuals, Gaussian noise (SNR = main band absorbance / noise sd).
 *
 * Deterministic: spectrum k of a run depends only on (seed, k) and the
 * options, through two PCG32 streams (O'Neill 2014) per spectrum.
 * Build: cc -O2 -std=c11 -o stressgen tests/stressgen.c -lm
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
#define NMAX 4096

/* ---------------------------------------------------------------- RNG */

typedef struct {
  uint64_t state, inc;
  int have;
  double spare;
} pcg;

static uint32_t pcg_next(pcg *r) {
  uint64_t old = r->state;
  r->state = old * 6364136223846793005ULL + r->inc;
  uint32_t xs = (uint32_t)(((old >> 18) ^ old) >> 27);
  uint32_t rot = (uint32_t)(old >> 59);
  return (xs >> rot) | (xs << ((-rot) & 31));
}

static void pcg_init(pcg *r, uint64_t seed, uint64_t stream) {
  r->state = 0;
  r->inc = (stream << 1) | 1u;
  r->have = 0;
  pcg_next(r);
  r->state += seed;
  pcg_next(r);
}

/* [0, 1) with 53 bits. */
static double unif(pcg *r) {
  uint64_t a = pcg_next(r) >> 5, b = pcg_next(r) >> 6;
  return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

static double unif_in(pcg *r, double lo, double hi) {
  return lo + (hi - lo) * unif(r);
}

/* Marsaglia polar method. */
static double gauss(pcg *r) {
  if (r->have) {
    r->have = 0;
    return r->spare;
  }
  double u, v, s;
  do {
    u = 2 * unif(r) - 1;
    v = 2 * unif(r) - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  double f = sqrt(-2 * log(s) / s);
  r->spare = v * f;
  r->have = 1;
  return u * f;
}

/* Poisson: inversion for small means, PTRS (Hoermann 1993, Insurance Math
 * Econ 12:39) otherwise; exact in both regimes. */
static double poisson(pcg *r, double mu) {
  if (!(mu > 0))
    return 0;
  if (mu < 10) {
    double p = exp(-mu), c = p, u = unif(r);
    int k = 0;
    while (u > c && k < 1000) {
      k++;
      p *= mu / k;
      c += p;
    }
    return k;
  }
  double smu = sqrt(mu), b = 0.931 + 2.53 * smu, a = -0.059 + 0.02483 * b;
  double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    double U = unif(r) - 0.5, V = unif(r), us = 0.5 - fabs(U);
    double k = floor((2 * a / us + b) * U + mu + 0.43);
    if (us >= 0.07 && V <= vr)
      return k;
    if (k < 0 || (us < 0.013 && V > us))
      continue;
    if (log(V) + log(inv_alpha) - log(a / (us * us) + b) <=
        -mu + k * log(mu) - lgamma(k + 1))
      return k;
  }
}

/* -------------------------------------------------------- band tables
 * {position cm^-1, intrinsic FWHM cm^-1, height relative to the material's
 * main band}.  Positions: ../shared/domain/bands.md section 1A (citations
 * there); heights from its intensity codes (vs 100, s 30-60, m 10-30, w
 * 5-10, vw < 5), NOT from the RRUFF files the simulator follows. */
typedef struct {
  double pos, fwhm, h;
} band;
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Weddellite COD: 1475-1477 vs, 910-912 s (30-60), 1629-1631 w-m,
 * 597/505-507 w-m (Kontoyannis 1997; Haka 2002; Frost 2004). */
static const band cod_b[] = {{1476.5, 7, 1.0}, {911, 6, 0.45}, {1630, 12, 0.12},
                             {597, 9, 0.08},   {506, 8, 0.25}, {869, 9, 0.05}};
/* Whewellite COM: 1462-1463 vs, 1490 s (40-60), 895-896 s (30-50),
 * 862-865 w, 595-597/502-505 w-m, 1629-1631 w-m, lattice 206/223 m
 * (Kontoyannis 1997; Frost & Weier 2004). */
static const band com_b[] = {{1462.5, 7, 1.0}, {1490, 7, 0.5},  {895.5, 6, 0.4},
                             {863, 9, 0.07},   {596, 9, 0.08},  {503.5, 8, 0.3},
                             {1630, 12, 0.12}, {206, 10, 0.15}, {223, 10, 0.12}};
/* Hydroxyapatite apart from nu1 PO4 / carbonate (built in apatite()):
 * nu2 430-450 m (15-25), nu4 580-614 m (10-20), nu3 1028-1030 /
 * 1040-1048 / 1075-1077 w-m (Penel 1998; Awonusi 2007). */
static const band ha_b[] = {{431, 11, 0.20}, {449, 11, 0.14},  {580, 9, 0.10},
                            {590, 9, 0.07},  {608, 9, 0.07},   {614, 9, 0.05},
                            {1029, 11, 0.05}, {1044, 13, 0.09}, {1076, 13, 0.06}};
/* Mg-whitlockite apart from nu1 (built in apatite()): HPO4 ~920-925 w,
 * ~405, 631, 549, 1089-1091 (Jolliff 2006; bands.md section 0 positions). */
static const band wht_b[] = {{922, 10, 0.09}, {405, 12, 0.18}, {631, 12, 0.07},
                             {549, 12, 0.05}, {1090, 14, 0.07}};
/* Calcite: 1085-1086 vs, 711-713 m (height drawn), 280-283 s, 154-156 m,
 * 1435-1437 and 1748-1750 vw (Buzgar & Apopei 2009). */
static const band cal_b[] = {{1085.5, 2.5, 1.0}, {281.5, 8, 0.35}, {155, 7, 0.25},
                             {1436, 10, 0.015}, {1749, 6, 0.02}};

/* Tissue components (Shafer-Peltier 2002 basis set; bands.md 1A tissue
 * table, plus nucleic-acid and protein side-chain bands [L]). */
static const band collagen_b[] = {
    {1667, 50, 0.70}, {1450, 30, 1.00}, {1248, 35, 0.45}, {1270, 30, 0.40},
    {1340, 25, 0.20}, {1003.4, 8, 0.35}, {1031, 10, 0.12}, {938, 20, 0.35},
    {920, 15, 0.30},  {876, 15, 0.35},  {855, 15, 0.45},  {815, 15, 0.15}};
static const band lipid_b[] = {
    {1745, 25, 0.25}, {1656, 30, 0.60}, {1440, 28, 1.00}, {1302, 22, 0.70},
    {1266, 20, 0.35}, {1063, 14, 0.30}, {1080, 18, 0.25}, {1130, 14, 0.25},
    {970, 20, 0.04},  {870, 20, 0.08}};
static const band protein_b[] = {
    {1660, 50, 0.80}, {1450, 30, 1.00}, {1003.4, 8, 0.50}, {1031, 10, 0.15},
    {1240, 40, 0.45}, {1320, 30, 0.30}, {1340, 25, 0.35}, {1127, 20, 0.15},
    {1585, 15, 0.15}, {1605, 12, 0.15}, {830, 15, 0.15}, {852, 15, 0.18},
    {760, 10, 0.15},  {644, 12, 0.10},  {621, 10, 0.08}};
static const band nucleic_b[] = {
    {785, 15, 1.00}, {1095, 20, 0.60}, {1340, 25, 0.60}, {1578, 20, 0.50},
    {1485, 20, 0.30}, {1250, 30, 0.30}, {670, 15, 0.20}, {728, 12, 0.30}};
static const band carotene_b[] = {{1525, 12, 1.00}, {1157, 12, 0.70}, {1005, 10, 0.25}};
static const band water_b[] = {{1640, 100, 1.00}};

/* Carbonate in apatite.  R = A(nu1 CO3 1070) / A(nu1 PO4) per wt% CO3:
 * bands.md 2.1 anchor "bone-like mineral (6-8 wt%) gives 0.1-0.3", i.e.
 * 0.2 at 7 wt% -> 0.029 per wt% (the Awonusi 2007 form R = m wt% + b with
 * b = 0 for the CO3 component alone).  nu4 CO3 715 visible above ~4 wt%
 * (Awonusi 2007): 0.004 per wt% [ours]. */
#define CO3_PER_WT 0.029
#define CO3_NU4_PER_WT 0.004
/* Mineral main band per unit volume relative to tissue's strongest band
 * (bands.md 4: HA nu1 "among the strongest Raman bands in breast"): 3 [ours]. */
#define XS_DEFAULT 3.0

/* ------------------------------------------------------------ options */

typedef struct {
  double lo, hi;
} range;

enum { C_TISSUE, C_COD, C_COM, C_OXALATE, C_HA, C_WHT, C_HAWH, C_CALCITE };
static const char *const cls_names[] = {"tissue", "cod", "com", "oxalate",
                                        "ha", "whitlockite", "hawh", "calcite"};

typedef struct {
  int cls, n, laser, core_size;
  uint64_t seed;
  range snr, share, fluor, offset, stretch, carb, wht, com, instr, eta, crop;
  double spikes, xs, read_e, gain;
  int noiseless, fixed, ftir, atr;
  const char *out, *truth, *id;
} opts;

typedef struct {
  double laser, lo, hi;
  int n;
} laser_cfg;
/* bands.md 4: 1340 x 20 um (PIXIS) and 1024 x 26 um (iDus) CCDs; 512 px
 * InGaAs for 1064 nm.  Ranges in Raman shift cm^-1 at the nominal axis. */
static const laser_cfg lasers[] = {
    {785, 150, 2000, 1024}, {830, 200, 2000, 1340}, {1064, 150, 1900, 512}};

/* ------------------------------------------------------------- shapes */

typedef struct {
  const double *t; /* true Raman shift of each pixel */
  int n;
  double instr, eta0, wscale;
  pcg *r;
} ctx;

/* Asymmetric pseudo-Voigt, unit height at pos when asym = 0. */
static double apv(double x, double pos, double fwhm, double eta, double asym) {
  double w = 2 * fwhm / (1 + exp(asym * (x - pos)));
  double d = (x - pos) / w;
  return eta / (1 + 4 * d * d) + (1 - eta) * exp(-4 * log(2.0) * d * d);
}

/* Bands are drawn out to REACH widths from their centre (put()), so their
 * area is integrated over the same span. */
#define REACH 80

static double apv_area(double pos, double fwhm, double eta, double asym) {
  double s = 0, step = fwhm / 8;
  for (int i = -8 * REACH; i <= 8 * REACH; i++)
    s += apv(pos + i * step, pos, fwhm, eta, asym);
  return s * step;
}

typedef struct {
  double pos, fwhm, eta, asym, h;
} drawn;

/* One band with its per-spectrum jitter; draws the same number of values
 * whatever the arguments so the stream layout is fixed. */
static drawn draw_band(ctx *c, band b, double scale, double pos_sd) {
  drawn d;
  double zp = gauss(c->r), zw = unif(c->r), ze = unif(c->r), za = unif(c->r);
  double zh = gauss(c->r);
  double wint = b.fwhm * (0.7 + 0.6 * zw) * c->wscale;
  d.pos = b.pos + pos_sd * zp;
  d.fwhm = sqrt(wint * wint + c->instr * c->instr);
  d.eta = c->eta0 + 0.2 * (ze - 0.5);
  d.eta = d.eta < 0 ? 0 : d.eta > 1 ? 1 : d.eta;
  d.asym = (za - 0.5) * 0.5 / d.fwhm;
  d.h = b.h * scale * exp(0.15 * zh);
  return d;
}

static void put(ctx *c, double *y, drawn d) {
  double reach = REACH * d.fwhm;
  for (int i = 0; i < c->n; i++)
    if (fabs(c->t[i] - d.pos) < reach)
      y[i] += d.h * apv(c->t[i], d.pos, d.fwhm, d.eta, d.asym);
}

static void put_table(ctx *c, double *y, const band *b, size_t nb, double scale,
                      double pos_sd) {
  for (size_t k = 0; k < nb; k++)
    put(c, y, draw_band(c, b[k], scale, pos_sd));
}

static int argmax(const double *y, int n) {
  int k = 0;
  for (int i = 1; i < n; i++)
    if (y[i] > y[k])
      k = i;
  return k;
}

/* Apatite: (1 - wht) HA with carbonate cwt + wht whitlockite, by volume,
 * with equal nu1 PO4 envelope AREA per unit volume for both phases (the
 * cross-section 1 assumption of bands.md 2.4). */
static void apatite(ctx *c, double *y, double cwt, double wht) {
  /* HA nu1: 962-964 stoichiometric, 958-961 biological (Penel 2003) and
   * ~1-4 cm^-1 over the CO3 range: 963.5 - 0.4 wt%; FWHM ~5 pure, growing
   * linearly with CO3 (Nelson & Williamson 1982) to bone-like 14 at 7 wt%
   * [numbers ours, within bands.md 2.1]. */
  double p1 = 963.5 - 0.4 * cwt + 0.5 * gauss(c->r);
  double w1i = (5.0 + 1.3 * cwt) * unif_in(c->r, 0.8, 1.2);
  double w1 = sqrt(w1i * w1i + c->instr * c->instr);
  double e1 = c->eta0, a1 = (unif(c->r) - 0.5) * 0.4 / w1;
  double area1 = apv_area(p1, w1, e1, a1);
  drawn nu1 = {p1, w1, e1, a1, (1 - wht)};
  put(c, y, nu1);
  /* B-type nu1 CO3 1070-1072, FWHM 15-25 (Awonusi 2007; Penel 1998). */
  double pc = 1070.5 + 0.7 * gauss(c->r);
  double wc = sqrt(pow(18 * unif_in(c->r, 0.75, 1.25), 2) + c->instr * c->instr);
  double ec = c->eta0, ac = (unif(c->r) - 0.5) * 0.3 / wc;
  double hc = CO3_PER_WT * cwt * area1 / apv_area(pc, wc, ec, ac);
  drawn co3 = {pc, wc, ec, ac, (1 - wht) * hc};
  put(c, y, co3);
  double w4 = sqrt(100 + c->instr * c->instr);
  drawn nu4 = {715, w4, c->eta0, 0, (1 - wht) * CO3_NU4_PER_WT * cwt * area1 /
                                        apv_area(715, w4, c->eta0, 0)};
  put(c, y, nu4);
  put_table(c, y, ha_b, COUNT(ha_b), 1 - wht, 0.8);
  /* Whitlockite nu1 ~965-975 (bands.md 1A; RRUFF 964-965) with its lower
   * component ~950 m (Jolliff 2006): main 964-971 here, lower 948-954. */
  double pw = unif_in(c->r, 964, 971), pl = unif_in(c->r, 948, 954);
  double ww = sqrt(pow(10 * unif_in(c->r, 0.7, 1.3), 2) + c->instr * c->instr);
  double wl = sqrt(pow(12 * unif_in(c->r, 0.7, 1.3), 2) + c->instr * c->instr);
  double rl = unif_in(c->r, 0.1, 0.3);
  double env = apv_area(pw, ww, c->eta0, 0) + rl * apv_area(pl, wl, c->eta0, 0);
  double hw = wht * area1 / env; /* equal envelope area per volume */
  drawn m1 = {pw, ww, c->eta0, 0, hw}, m2 = {pl, wl, c->eta0, 0, rl * hw};
  put(c, y, m1);
  put(c, y, m2);
  /* The rest of whitlockite relative to its main nu1 height. */
  put_table(c, y, wht_b, COUNT(wht_b), hw, 0.8);
}

/* ------------------------------------------------------------ parsing */

static int parse_range(const char *s, range *r) {
  char *end;
  errno = 0;
  r->lo = strtod(s, &end);
  if (end == s || errno)
    return -1;
  if (*end == ':') {
    const char *q = end + 1;
    r->hi = strtod(q, &end);
    if (end == q || errno)
      return -1;
  } else
    r->hi = r->lo;
  return *end || !isfinite(r->lo) || !isfinite(r->hi) || r->hi < r->lo ? -1 : 0;
}

static double pick(pcg *r, range g) {
  double u = unif(r); /* always drawn: fixed stream layout */
  return g.lo + (g.hi - g.lo) * u;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: stressgen --class C [options] -o OUT.csv [--truth truth.tsv]\n"
          "Independent SYNTHETIC Raman stress spectra (not calcspec's simulator).\n"
          "  --class C        tissue cod com oxalate ha whitlockite hawh calcite\n"
          "  -n N             spectra (20)      --seed S    seed (1)\n"
          "  --laser L        785 | 830 | 1064 (830)\n"
          "  --snr A[:B]      main mineral band height / noise sd (20); 0 = noiseless\n"
          "  --share A[:B]    mineral share of the probed volume (1)\n"
          "  --fluor A[:B]    fluorescence at the main band / its height (1)\n"
          "  --offset A[:B]   axis error at 1000 cm-1, reported - true (0)\n"
          "  --stretch A[:B]  relative dispersion error (0)\n"
          "  --carbonate A[:B] wt%% CO3 in apatite (0:10)\n"
          "  --wht A[:B]      whitlockite share of HA+whitlockite (ha 0:0.2,\n"
          "                   whitlockite 0.8:1, hawh 0:1)\n"
          "  --com A[:B]      COM mole fraction of oxalate (cod 0:0.2, com 0.8:1,\n"
          "                   oxalate 0:1)\n"
          "  --instr A[:B]    instrument FWHM cm-1 (4:10)\n"
          "  --gauss A[:B]    Gaussian share of the line shape, 0 = Lorentzian (0:1)\n"
          "  --spikes R       mean cosmic spikes per spectrum (0.05)\n"
          "  --xs X           mineral/tissue cross-section per volume (3)\n"
          "  --id PREFIX      id prefix (the output's base name)\n"
          "  --core-size K    spectra per core_id (5)\n"
          "  --truth FILE     append truth rows (header when the file is new)\n"
          "  --fixed-params   all spectra share spectrum 0's sample; only noise differs\n"
          "  --crop A:B       write only A..B cm-1 (e.g. a processed RRUFF-like file\n"
          "                   ending at 1250); spectra are made on the whole detector\n"
          "  --ftir | --atr   FTIR absorbance, transmission (400-4000) or diamond ATR\n"
          "                   (650-4000), 1.93 cm-1 steps; --snr = main band / noise sd\n");
}

/* ---------------------------------------------------------- one spectrum */

typedef struct {
  const char *cls, *subtype;
  double share, snr, fluor, offset, stretch, carb, wht, com, instr;
  int spikes;
} truth;

static int apatite_cls(int c) { return c == C_HA || c == C_WHT || c == C_HAWH; }
static int oxalate_cls(int c) { return c == C_COD || c == C_COM || c == C_OXALATE; }

/* Fills y (ADU) for Raman spectrum k on the nominal wavelength grid lam. */
static void make_one(const opts *o, const laser_cfg *L, const double *lam,
                     int k, double *y, truth *tr) {
  int n = L->n;
  pcg pr, nr;
  /* --fixed-params: every spectrum gets spectrum 0's sample and axis, only
   * the noise differs (replicates for checking the SNR definition). */
  pcg_init(&pr, o->seed, 4 * (uint64_t)(o->fixed ? 0 : k) + 1);
  pcg_init(&nr, o->seed ^ 0x5851f42d4c957f2dULL, 4 * (uint64_t)k + 3);
  static double t[NMAX], min[NMAX], tis[NMAX], fl[NMAX];

  /* Parameters, always drawn in this order. */
  tr->share = o->cls == C_TISSUE ? 0 : pick(&pr, o->share);
  tr->snr = pick(&pr, o->snr);
  tr->fluor = pick(&pr, o->fluor);
  tr->offset = pick(&pr, o->offset);
  tr->stretch = pick(&pr, o->stretch);
  tr->carb = pick(&pr, o->carb);
  tr->wht = pick(&pr, o->wht);
  tr->com = pick(&pr, o->com);
  tr->instr = pick(&pr, o->instr);
  double eta0 = 1 - pick(&pr, o->eta); /* Lorentzian fraction */
  double wscale = 1; /* per-band widths already vary +-30 % */
  if (!apatite_cls(o->cls))
    tr->carb = NAN, tr->wht = NAN;
  if (!oxalate_cls(o->cls))
    tr->com = NAN;
  tr->subtype = "none";
  switch (o->cls) {
  case C_TISSUE: tr->cls = "tissue"; break;
  case C_COD: case C_COM: case C_OXALATE:
    tr->cls = "oxalate";
    tr->subtype = tr->com >= 0.5 ? "COM" : "COD";
    break;
  case C_CALCITE: tr->cls = "calcite"; break;
  default: tr->cls = tr->wht >= 0.5 ? "whitlockite" : "hydroxyapatite"; break;
  }

  /* Axis: the pixel's true wavelength is its nominal one minus an error
   * A + B (u - u1000), A fixed so that shift(1000 nominal) is off by offset
   * exactly, B a dispersion (stretch) error across the chip. */
  double k0 = 1e7 / L->laser;
  double l1000 = 1e7 / (k0 - 1000);
  double A = l1000 - 1e7 / (k0 - 1000 + tr->offset);
  double lspan = lam[n - 1] - lam[0], u1000 = (l1000 - lam[0]) / lspan;
  for (int i = 0; i < n; i++) {
    double u = (lam[i] - lam[0]) / lspan;
    double lt = lam[i] - A - tr->stretch * lspan * (u - u1000);
    t[i] = k0 - 1e7 / lt;
  }
  ctx c = {t, n, tr->instr, eta0, wscale, &pr};

  /* Mineral, normalised to its main band height 1. */
  memset(min, 0, n * sizeof *min);
  int p = -1;
  if (o->cls != C_TISSUE) {
    if (oxalate_cls(o->cls)) {
      /* Kontoyannis 1997 (bands.md 2.3) as linear mixing per mole: COD
       * 1477 = 1, COM 1462 = 1.654 (x_COM = (I_R - 0.134)/(0.8 I_R + 1.52)
       * rearranged). */
      put_table(&c, min, cod_b, COUNT(cod_b), 1 - tr->com, 0.6);
      put_table(&c, min, com_b, COUNT(com_b), 1.654 * tr->com, 0.6);
    } else if (apatite_cls(o->cls)) {
      apatite(&c, min, tr->carb, tr->wht);
    } else {
      put_table(&c, min, cal_b, COUNT(cal_b), 1, 0.5);
      drawn d = draw_band(&c, (band){712, 4, 1}, unif_in(&pr, 0.06, 0.18), 0.5);
      put(&c, min, d);
    }
    p = argmax(min, n);
    double m = min[p];
    for (int i = 0; i < n; i++)
      min[i] /= m;
  }

  /* Tissue: random non-negative mixture of the components. */
  memset(tis, 0, n * sizeof *tis);
  double wcol = unif(&pr), wlip = unif(&pr), wpro = unif(&pr);
  double wnuc = 0.3 * unif(&pr), wcar = 0.5 * unif(&pr), wwat = 0.2 * unif(&pr);
  if (unif(&pr) < 0.3)
    wlip *= 0.1; /* lean, collagen-rich stroma */
  if (unif(&pr) < 0.3)
    wcol *= 0.1; /* fatty breast */
  put_table(&c, tis, collagen_b, COUNT(collagen_b), wcol, 1.2);
  put_table(&c, tis, lipid_b, COUNT(lipid_b), wlip, 1.2);
  put_table(&c, tis, protein_b, COUNT(protein_b), wpro, 1.2);
  put_table(&c, tis, nucleic_b, COUNT(nucleic_b), wnuc, 1.2);
  put_table(&c, tis, carotene_b, COUNT(carotene_b), wlip * wcar, 1.0);
  put_table(&c, tis, water_b, COUNT(water_b), wwat, 3);
  int tp = argmax(tis, n);
  double tm = tis[tp];
  for (int i = 0; i < n; i++)
    tis[i] /= tm;
  /* Tissue relative to the mineral's main band: (1 - share) / (share xs). */
  double kt;
  if (o->cls == C_TISSUE) {
    kt = 1;
    p = tp;
    memcpy(min, tis, n * sizeof *min); /* the "main band" is tissue's */
    memset(tis, 0, n * sizeof *tis);
  } else
    kt = (1 - tr->share) / (tr->share * o->xs);

  /* Fluorescence on the wavelength grid: two broad Lorentzians + a
   * quadratic, positive; then fl[p] = fluor (in units of the band). */
  double fa1 = unif_in(&pr, 0.2, 1), fa2 = unif_in(&pr, 0.2, 1);
  double fc1 = lam[0] + lspan * unif_in(&pr, -0.5, 1.5);
  double fc2 = lam[0] + lspan * unif_in(&pr, -0.5, 1.5);
  double fw1 = lspan * unif_in(&pr, 0.3, 1.5), fw2 = lspan * unif_in(&pr, 0.3, 1.5);
  double q0 = unif_in(&pr, 0, 0.3), q1 = unif_in(&pr, -0.2, 0.2),
         q2 = unif_in(&pr, -0.1, 0.1);
  double fmax = 0;
  for (int i = 0; i < n; i++) {
    double u = (lam[i] - lam[0]) / lspan;
    double d1 = (lam[i] - fc1) / fw1, d2 = (lam[i] - fc2) / fw2;
    fl[i] = fa1 / (1 + d1 * d1) + fa2 / (1 + d2 * d2) + q0 + q1 * u + q2 * u * u;
    if (fl[i] > fmax)
      fmax = fl[i];
  }
  for (int i = 0; i < n; i++)
    if (fl[i] < 0.05 * fmax)
      fl[i] = 0.05 * fmax;
  double fp = fl[p];
  for (int i = 0; i < n; i++)
    fl[i] *= tr->fluor / fp;

  /* Scale H (electrons) so that H / sqrt(H (1 + kt tis_p + fluor) + r^2)
   * equals the SNR. */
  double cfac = 1 + kt * tis[p] + tr->fluor, r2 = o->read_e * o->read_e;
  double s2 = tr->snr * tr->snr;
  double H = o->noiseless || tr->snr <= 0
                 ? 1000
                 : 0.5 * (s2 * cfac + sqrt(s2 * s2 * cfac * cfac + 4 * s2 * r2));
  if (o->noiseless || tr->snr <= 0)
    tr->snr = INFINITY;
  double sig_p = sqrt(H * cfac + r2);
  for (int i = 0; i < n; i++) {
    double mean = H * (min[i] + kt * tis[i] + fl[i]);
    double e = isinf(tr->snr) ? mean : poisson(&nr, mean) + o->read_e * gauss(&nr);
    y[i] = isinf(tr->snr) ? e / o->gain : nearbyint(e / o->gain);
  }
  tr->spikes = 0;
  if (!isinf(tr->snr) && o->spikes > 0) {
    tr->spikes = (int)poisson(&nr, o->spikes);
    for (int q = 0; q < tr->spikes; q++) {
      int at = (int)(unif(&nr) * n), w = 1 + (int)(unif(&nr) * 3);
      double amp = sig_p / o->gain * pow(10, unif_in(&nr, 1, 3));
      for (int j = 0; j < w && at + j < n; j++)
        y[at + j] += nearbyint(amp * pow(0.4, j));
    }
  }
}

/* --------------------------------------------------------------- FTIR
 * Absorbance bands from bands.md section 1B (citations there; heights from
 * its intensity codes, widths ours).  Bone-like carbonated apatite sits in
 * a protein (collagen) matrix; the rest of the probed volume is tissue. */
static const band f_com_b[] = {
    {1619, 45, 1.0},  {1316, 18, 0.8},  {948, 10, 0.06}, {885, 10, 0.06},
    {781, 12, 0.55},  {662, 15, 0.3},   {516, 15, 0.4},  {3488, 30, 0.25},
    {3429, 30, 0.25}, {3336, 30, 0.3},  {3257, 30, 0.3}, {3058, 30, 0.25}};
static const band f_cod_b[] = {{1643, 50, 1.0}, {1326, 20, 0.85}, {913, 10, 0.08},
                               {781, 12, 0.5},  {610, 15, 0.15},  {517, 15, 0.25},
                               {3470, 200, 0.35}, {3260, 200, 0.3}};
/* Apatite nu3 envelope 1030-1046 vs (~100 wide) + 1087-1092 s shoulder,
 * nu1 960-962 w-m, nu4 600-603 / 562-565 s, nu2 ~470 w (Berzina-Cimdina
 * 2012; Antonakos 2007). */
static const band f_ap_b[] = {{1032, 65, 1.0}, {1090, 35, 0.45}, {961, 12, 0.12},
                              {602, 16, 0.5},  {563, 16, 0.45},  {470, 15, 0.06}};
static const band f_wht_b[] = {{1122, 25, 0.4}, {1085, 30, 0.85}, {1043, 30, 1.0},
                               {1015, 28, 0.75}, {970, 12, 0.3},  {945, 12, 0.2},
                               {605, 16, 0.6},  {590, 14, 0.25},  {550, 16, 0.5},
                               {1190, 20, 0.07}, {920, 12, 0.07}};
static const band f_cal_b[] = {{1420, 100, 1.0}, {873, 7, 0.5}, {712, 5, 0.2},
                               {1797, 12, 0.03}, {2512, 40, 0.03}};
static const band f_protein_b[] = {
    {1655, 55, 1.0},  {1545, 50, 0.6},  {1452, 25, 0.2},  {1400, 30, 0.18},
    {1338, 15, 0.1},  {1280, 20, 0.1},  {1240, 35, 0.22}, {1204, 15, 0.07},
    {1082, 35, 0.1},  {3300, 250, 0.5}, {2930, 40, 0.15}, {2875, 30, 0.08}};
static const band f_lipid_b[] = {{1742, 22, 1.0}, {2850, 18, 0.8}, {2920, 25, 1.0},
                                 {2955, 15, 0.4}, {1465, 20, 0.3}, {1377, 15, 0.1},
                                 {1170, 30, 0.2}, {720, 10, 0.05}};
static const band f_water_b[] = {{1640, 80, 1.0}, {3400, 350, 1.5}};
/* Carbonate, B-type: nu3 doublet ~1415 + ~1455 with A(nu3 CO3) / A(nu1nu3
 * PO4) = (wt% - 0.0843) / 28.62 (Grunenwald 2014 as recalled in bands.md
 * 2.2 [U]) = 0.0349 per wt%; nu2 B 871 ~1 % of PO4 at bone levels (Rey
 * 1989; bands.md 1B) = 0.0017 per wt%, A-type 878 at 0.15 of it (Elliott
 * 1985: ~11 % of carbonate in A sites). */
#define F_CO3_NU3_PER_WT 0.0349
#define F_CO3_NU2_PER_WT 0.0017
#define F_XS 2.5 /* mineral main band per volume vs amide I [ours] */

/* FTIR spectrum k: absorbance on x (wavenumber).  ATR: depth of
 * penetration grows with wavelength (absorbance x 1000/nu), strong bands
 * shift down and tail to low wavenumber; transmission: scattering baseline
 * rising with nu^2.  Both: atmospheric CO2 / water vapour residuals and
 * Gaussian detector noise, sd = main mineral band height / SNR. */
static void make_ftir(const opts *o, const double *x, int n, int k, double *y,
                      truth *tr) {
  pcg pr, nr;
  pcg_init(&pr, o->seed, 4 * (uint64_t)(o->fixed ? 0 : k) + 1);
  pcg_init(&nr, o->seed ^ 0x5851f42d4c957f2dULL, 4 * (uint64_t)k + 3);
  static double t[NMAX], min[NMAX], tis[NMAX];
  tr->share = o->cls == C_TISSUE ? 0 : pick(&pr, o->share);
  tr->snr = pick(&pr, o->snr);
  tr->fluor = NAN;
  (void)pick(&pr, o->fluor);
  tr->offset = pick(&pr, o->offset);
  tr->stretch = pick(&pr, o->stretch);
  tr->carb = pick(&pr, o->carb);
  tr->wht = pick(&pr, o->wht);
  tr->com = pick(&pr, o->com);
  tr->instr = pick(&pr, o->instr);
  double eta0 = 1 - pick(&pr, o->eta);
  if (!apatite_cls(o->cls))
    tr->carb = NAN, tr->wht = NAN;
  if (!oxalate_cls(o->cls))
    tr->com = NAN;
  tr->subtype = "none";
  switch (o->cls) {
  case C_TISSUE: tr->cls = "tissue"; break;
  case C_COD: case C_COM: case C_OXALATE:
    tr->cls = "oxalate";
    tr->subtype = tr->com >= 0.5 ? "COM" : "COD";
    break;
  case C_CALCITE: tr->cls = "calcite"; break;
  default: tr->cls = tr->wht >= 0.5 ? "whitlockite" : "hydroxyapatite"; break;
  }
  /* reported = true + offset + stretch (true - 1000) */
  for (int i = 0; i < n; i++)
    t[i] = (x[i] - tr->offset + 1000 * tr->stretch) / (1 + tr->stretch);
  ctx c = {t, n, tr->instr, eta0, 1, &pr};
  memset(min, 0, n * sizeof *min);
  int p = -1;
  if (o->cls != C_TISSUE) {
    if (oxalate_cls(o->cls)) {
      put_table(&c, min, f_cod_b, COUNT(f_cod_b), 1 - tr->com, 1.0);
      put_table(&c, min, f_com_b, COUNT(f_com_b), tr->com, 1.0);
    } else if (apatite_cls(o->cls)) {
      double hp = 1 - tr->wht, oh = tr->carb < 8 ? 1 - tr->carb / 8 : 0;
      double apo4 = 0;
      for (size_t b = 0; b < 2; b++) { /* nu1nu3 PO4 envelope area */
        drawn d = draw_band(&c, f_ap_b[b], hp, 1.0);
        apo4 += apv_area(d.pos, d.fwhm, d.eta, d.asym) * d.h;
        put(&c, min, d);
      }
      put_table(&c, min, f_ap_b + 2, COUNT(f_ap_b) - 2, hp, 1.0);
      /* OH 630-633 / 3570-3572 fade with carbonation (bands.md 1B) */
      put_table(&c, min, (band[]){{632, 8, 0.06}, {3571, 8, 0.08}}, 2, hp * oh, 0.5);
      double a3 = F_CO3_NU3_PER_WT * tr->carb * apo4 / 2;
      double a2 = F_CO3_NU2_PER_WT * tr->carb * apo4;
      band co3[] = {{1415, 35, 1}, {1455, 35, 1}, {871, 9, 1}, {878, 8, 1}};
      double area[] = {a3, a3, a2 / 1.15, 0.15 * a2 / 1.15};
      for (int b = 0; b < 4; b++) {
        drawn d = draw_band(&c, co3[b], 1, 1.0);
        d.h = area[b] / apv_area(d.pos, d.fwhm, d.eta, d.asym);
        put(&c, min, d);
      }
      put_table(&c, min, f_wht_b, COUNT(f_wht_b), tr->wht, 1.0);
    } else
      put_table(&c, min, f_cal_b, COUNT(f_cal_b), 1, 1.0);
    p = argmax(min, n);
    double m = min[p];
    for (int i = 0; i < n; i++)
      min[i] /= m;
  }
  /* matrix / tissue: protein, some lipid; water in ATR of wet tissue */
  memset(tis, 0, n * sizeof *tis);
  double wp = unif_in(&pr, 0.4, 1), wl = unif(&pr) < 0.5 ? 0.1 * unif(&pr) : unif(&pr);
  double ww = o->atr ? 0.5 * unif(&pr) : 0.05 * unif(&pr);
  put_table(&c, tis, f_protein_b, COUNT(f_protein_b), wp, 2.0);
  put_table(&c, tis, f_lipid_b, COUNT(f_lipid_b), wl, 2.0);
  put_table(&c, tis, f_water_b, COUNT(f_water_b), ww, 3.0);
  int tp = argmax(tis, n);
  double tm = tis[tp];
  for (int i = 0; i < n; i++)
    tis[i] /= tm;
  double kt = 1;
  if (o->cls == C_TISSUE) {
    p = tp;
    memcpy(min, tis, n * sizeof *min);
    memset(tis, 0, n * sizeof *tis);
  } else
    kt = (1 - tr->share) / (tr->share * F_XS);
  double peak = unif_in(&pr, 0.2, 1.0); /* main band absorbance */
  /* ATR distortions: shift of strong bands and depth weighting */
  double atr_shift = unif_in(&pr, 2, 6);
  double b0 = unif_in(&pr, -0.02, 0.05), b1 = unif_in(&pr, -0.03, 0.03);
  double bs = unif_in(&pr, 0, 0.15), co2 = unif_in(&pr, -0.03, 0.03);
  double vap = unif_in(&pr, -0.01, 0.01);
  double sum[NMAX];
  for (int i = 0; i < n; i++)
    sum[i] = min[i] + kt * tis[i];
  if (o->atr) {
    /* a strong band's refractive-index dispersion drags it to lower nu:
     * shift the whole spectrum by atr_shift x its local strength [ours] */
    static double sh[NMAX];
    for (int i = 0; i < n; i++) {
      double d = atr_shift * sum[i];
      double xi = t[i] + d; /* sample where the band appears lower */
      int j = i;
      while (j + 1 < n && t[j + 1] < xi) j++;
      while (j > 0 && t[j] > xi) j--;
      double f = j + 1 < n ? (xi - t[j]) / (t[j + 1] - t[j]) : 0;
      f = f < 0 ? 0 : f > 1 ? 1 : f;
      sh[i] = j + 1 < n ? sum[j] + f * (sum[j + 1] - sum[j]) : sum[j];
    }
    for (int i = 0; i < n; i++)
      sum[i] = sh[i] * 1000 / x[i];
    double m = sum[p];
    for (int i = 0; i < n; i++)
      sum[i] /= m > 0 ? m : 1;
  }
  double sd = isinf(tr->snr) || tr->snr <= 0 ? 0 : peak / tr->snr;
  if (sd == 0)
    tr->snr = INFINITY;
  for (int i = 0; i < n; i++) {
    double u = (x[i] - x[0]) / (x[n - 1] - x[0]), w = x[i] / 4000;
    double v = peak * sum[i] + b0 + b1 * u + (o->atr ? 0 : bs * w * w);
    v += co2 * (exp(-0.5 * pow((x[i] - 2360) / 8, 2)) + 0.8 * exp(-0.5 * pow((x[i] - 2340) / 8, 2)));
    /* water vapour: a comb of sharp rotation lines 1400-1900 cm^-1 */
    double ph = fmod((x[i] - 1400) / 17.3, 1.0);
    if (x[i] > 1400 && x[i] < 1900)
      v += vap * exp(-0.5 * pow((ph - 0.5) * 17.3 / 1.2, 2));
    y[i] = v + sd * gauss(&nr);
  }
  tr->spikes = 0;
}

/* ---------------------------------------------------------------- main */

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

static void put_num(FILE *f, double v) {
  if (isnan(v))
    fputs("\tNA", f);
  else
    fprintf(f, "\t%.6g", v);
}

int main(int argc, char **argv) {
  opts o = {0};
  o.cls = -1, o.n = 20, o.laser = 830, o.core_size = 5, o.seed = 1;
  o.snr = (range){20, 20}, o.share = (range){1, 1}, o.fluor = (range){1, 1};
  o.offset = (range){0, 0}, o.stretch = (range){0, 0}, o.carb = (range){0, 10};
  o.wht = (range){-1, -1}, o.com = (range){-1, -1}, o.instr = (range){4, 10};
  o.eta = (range){0, 1}, o.crop = (range){-1e9, 1e9};
  o.spikes = 0.05, o.xs = XS_DEFAULT, o.read_e = 6, o.gain = 1.8;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    range *rg = NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(a, "--ftir") || !strcmp(a, "--atr")) {
      o.ftir = 1;
      o.atr = !strcmp(a, "--atr");
      continue;
    }
    if (!strcmp(a, "--fixed-params")) {
      o.fixed = 1;
      continue;
    }
    if (!v) {
      fprintf(stderr, "stressgen: %s needs a value\n", a);
      return 2;
    }
    i++;
    if (!strcmp(a, "--class")) {
      for (int c = 0; c < (int)COUNT(cls_names); c++)
        if (!strcmp(v, cls_names[c]))
          o.cls = c;
      if (!strcmp(v, "hydroxyapatite"))
        o.cls = C_HA;
      if (o.cls < 0) {
        fprintf(stderr, "stressgen: unknown class '%s'\n", v);
        return 2;
      }
      continue;
    }
    if (!strcmp(a, "-o")) { o.out = v; continue; }
    if (!strcmp(a, "--truth")) { o.truth = v; continue; }
    if (!strcmp(a, "--id")) { o.id = v; continue; }
    if (!strcmp(a, "-n") || !strcmp(a, "--laser") || !strcmp(a, "--core-size") ||
        !strcmp(a, "--seed")) {
      char *end;
      errno = 0;
      unsigned long long u = strtoull(v, &end, 10);
      if (end == v || *end || errno || *v == '-') {
        fprintf(stderr, "stressgen: bad value '%s' for %s\n", v, a);
        return 2;
      }
      if (!strcmp(a, "--seed"))
        o.seed = u;
      else if (u > 1000000) {
        fprintf(stderr, "stressgen: %s too large\n", a);
        return 2;
      } else if (!strcmp(a, "-n"))
        o.n = (int)u;
      else if (!strcmp(a, "--laser"))
        o.laser = (int)u;
      else
        o.core_size = (int)u;
      continue;
    }
    if (!strcmp(a, "--spikes") || !strcmp(a, "--xs")) {
      char *end;
      double d = strtod(v, &end);
      if (end == v || *end || !(d >= 0) || !isfinite(d)) {
        fprintf(stderr, "stressgen: bad value '%s' for %s\n", v, a);
        return 2;
      }
      *(!strcmp(a, "--spikes") ? &o.spikes : &o.xs) = d;
      continue;
    }
    if (!strcmp(a, "--snr")) rg = &o.snr;
    else if (!strcmp(a, "--share")) rg = &o.share;
    else if (!strcmp(a, "--fluor")) rg = &o.fluor;
    else if (!strcmp(a, "--offset")) rg = &o.offset;
    else if (!strcmp(a, "--stretch")) rg = &o.stretch;
    else if (!strcmp(a, "--carbonate")) rg = &o.carb;
    else if (!strcmp(a, "--wht")) rg = &o.wht;
    else if (!strcmp(a, "--com")) rg = &o.com;
    else if (!strcmp(a, "--instr")) rg = &o.instr;
    else if (!strcmp(a, "--gauss")) rg = &o.eta;
    else if (!strcmp(a, "--crop")) rg = &o.crop;
    else {
      fprintf(stderr, "stressgen: unknown option %s\n", a);
      usage(stderr);
      return 2;
    }
    if (parse_range(v, rg)) {
      fprintf(stderr, "stressgen: bad range '%s' for %s (A or A:B)\n", v, a);
      return 2;
    }
  }
  if (o.cls < 0 || !o.out || o.n < 1 || o.core_size < 1) {
    usage(stderr);
    return 2;
  }
  const laser_cfg *L = NULL;
  for (size_t k = 0; k < COUNT(lasers); k++)
    if ((int)lasers[k].laser == o.laser)
      L = &lasers[k];
  if (!L) {
    fprintf(stderr, "stressgen: laser %d not one of 785, 830, 1064\n", o.laser);
    return 2;
  }
  if (o.wht.lo < 0)
    o.wht = o.cls == C_WHT ? (range){0.8, 1} : o.cls == C_HAWH ? (range){0, 1}
                                                               : (range){0, 0.2};
  if (o.com.lo < 0)
    o.com = o.cls == C_COM ? (range){0.8, 1} : o.cls == C_OXALATE ? (range){0, 1}
                                                                  : (range){0, 0.2};
  if (o.share.lo <= 0 || o.share.hi > 1 || o.fluor.lo < 0 || o.snr.lo < 0 ||
      o.wht.hi > 1 || o.com.hi > 1 || o.instr.lo < 0 || o.eta.hi > 1 ||
      o.eta.lo < 0 || fabs(o.offset.lo) > 50 || fabs(o.offset.hi) > 50 ||
      fabs(o.stretch.lo) > 0.05 || fabs(o.stretch.hi) > 0.05 || o.carb.lo < 0) {
    fprintf(stderr, "stressgen: a parameter is out of range (share in (0,1], "
                    "shares/fractions in [0,1], |offset| <= 50, "
                    "|stretch| <= 0.05, others >= 0)\n");
    return 2;
  }
  char idbuf[256];
  if (!o.id) { /* the output's base name without its extension */
    snprintf(idbuf, sizeof idbuf, "%s", base_name(o.out));
    char *dot = strrchr(idbuf, '.');
    if (dot && dot != idbuf)
      *dot = 0;
  }
  const char *id = o.id ? o.id : idbuf;

  /* Nominal axis: pixels linear in wavelength between the range ends;
   * FTIR: linear in wavenumber (zero-filled 4 cm^-1 resolution). */
  int n = L->n;
  static double x[NMAX], lam[NMAX];
  double k0 = 1e7 / L->laser, l0 = 1e7 / (k0 - L->lo), l1 = 1e7 / (k0 - L->hi);
  if (o.ftir) {
    double lo = o.atr ? 650 : 400, step = 1.928497;
    n = (int)floor((4000 - lo) / step) + 1;
    for (int i = 0; i < n; i++)
      x[i] = lo + step * i;
  } else
    for (int i = 0; i < n; i++) {
      lam[i] = l0 + (l1 - l0) * i / (n - 1);
      x[i] = k0 - 1e7 / lam[i];
    }

  double *y = malloc((size_t)o.n * n * sizeof *y);
  truth *tr = malloc((size_t)o.n * sizeof *tr);
  if (!y || !tr) {
    fprintf(stderr, "stressgen: out of memory\n");
    return 1;
  }
  for (int k = 0; k < o.n; k++)
    if (o.ftir)
      make_ftir(&o, x, n, k, y + (size_t)k * n, &tr[k]);
    else
      make_one(&o, L, lam, k, y + (size_t)k * n, &tr[k]);

  FILE *f = fopen(o.out, "w");
  if (!f) {
    fprintf(stderr, "stressgen: %s: %s\n", o.out, strerror(errno));
    return 1;
  }
  fprintf(f, "# calcspec csv 1\n");
  if (o.n > 1)
    fprintf(f, "# calcspec spectra=%d\n", o.n);
  for (int k = 0; k < o.n; k++) {
    char pre[40];
    if (o.n > 1)
      snprintf(pre, sizeof pre, "# calcspec[%d] ", k);
    else
      snprintf(pre, sizeof pre, "# calcspec ");
    if (o.ftir)
      fprintf(f, "%saxis=wavenumber\n%squantity=absorbance\n%stechnique=ftir\n"
                 "%saccumulations=1\n%smeta.sampling=%s\n",
              pre, pre, pre, pre, pre, o.atr ? "ATR" : "transmission");
    else {
      fprintf(f, "%saxis=raman_shift\n%squantity=counts\n%stechnique=raman\n", pre,
              pre, pre);
      fprintf(f, "%slaser_nm=%d\n%sexposure_s=1\n%saccumulations=1\n", pre,
              o.laser, pre, pre);
    }
    fprintf(f, "%smeta.sample_id=%s_%04d\n", pre, id, k);
    fprintf(f, "%smeta.core_id=%s_c%03d\n", pre, id, k / o.core_size);
    fprintf(f, "%smeta.synthetic=stressgen (independent of calcspec simulate)\n", pre);
  }
  fputs("x", f);
  for (int k = 0; k < o.n; k++)
    fprintf(f, ",y%d", k + 1);
  fputc('\n', f);
  int kept = 0;
  for (int i = 0; i < n; i++)
    kept += x[i] >= o.crop.lo && x[i] <= o.crop.hi;
  if (kept < 2) {
    fprintf(stderr, "stressgen: --crop leaves fewer than 2 points\n");
    fclose(f);
    remove(o.out);
    return 2;
  }
  for (int i = 0; i < n; i++) {
    if (x[i] < o.crop.lo || x[i] > o.crop.hi)
      continue; /* after generation: SNR and fluor refer to the whole detector */
    fprintf(f, "%.4f", x[i]);
    for (int k = 0; k < o.n; k++)
      fprintf(f, ",%.10g", y[(size_t)k * n + i]);
    fputc('\n', f);
  }
  if (fclose(f)) {
    fprintf(stderr, "stressgen: %s: write failed\n", o.out);
    return 1;
  }

  if (o.truth) {
    FILE *t = fopen(o.truth, "a+");
    if (!t) {
      fprintf(stderr, "stressgen: %s: %s\n", o.truth, strerror(errno));
      return 1;
    }
    fseek(t, 0, SEEK_END);
    if (ftell(t) == 0)
      fputs("file\tindex\tid\tclass\tsubtype\tmineral_share\tsnr\tfluor\toffset"
            "\tlaser\tcarbonate_wt\twhitlockite_share\tcom_frac\tseed\tcore_id"
            "\tgen_class\tstretch\tinstr_fwhm\tspikes\ttechnique\n",
            t);
    for (int k = 0; k < o.n; k++) {
      fprintf(t, "%s\t%d\t%s_%04d\t%s\t%s", base_name(o.out), k, id, k,
              tr[k].cls, tr[k].subtype);
      put_num(t, tr[k].share);
      put_num(t, tr[k].snr);
      put_num(t, tr[k].fluor);
      put_num(t, tr[k].offset);
      if (o.ftir)
        fputs("\tNA", t);
      else
        fprintf(t, "\t%d", o.laser);
      put_num(t, tr[k].carb);
      put_num(t, tr[k].wht);
      put_num(t, tr[k].com);
      fprintf(t, "\t%llu\t%s_c%03d\t%s", (unsigned long long)o.seed, id,
              k / o.core_size, cls_names[o.cls]);
      put_num(t, tr[k].stretch);
      put_num(t, tr[k].instr);
      fprintf(t, "\t%d\t%s\n", tr[k].spikes,
              o.ftir ? (o.atr ? "ftir_atr" : "ftir_transmission") : "raman");
    }
    if (fclose(t)) {
      fprintf(stderr, "stressgen: %s: write failed\n", o.truth);
      return 1;
    }
  }
  free(y);
  free(tr);
  return 0;
}
