/* simulate.c: the seeded spectrum simulator behind `calcspec simulate` and
 * spectra/.  Band tables come from src/bands.md (section named
 * per table); intensities of the minerals follow the real RRUFF spectra of
 * bands.md section 0 where it has them, so the simulated relative heights
 * can be checked against ../shared/minerals.
 *
 * Model of one Raman frame, per detector pixel i:
 *   counts_i = Poisson(S * R(t_i) + F_i) + N(0, read^2) [+ spikes]
 * R is the Raman spectrum (strongest band 1 at pixel p), t_i the true Raman
 * shift of the pixel (the reported axis carries the calibration error), F
 * the smooth fluorescence with F_p = r * S.  S is chosen so that
 *   SNR = S / sqrt(S + F_p + read^2)
 * equals the requested value (bands.md section 4, SNR row).  FTIR frames are
 * absorbance = bands + baseline drift + N(0, (peak / SNR)^2).
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* C11 <math.h> need not define these. */
#define PI_ 3.14159265358979323846
#define LN2_ 0.69314718055994530942

/* ---- band tables ----
 * pos cm^-1, intrinsic FWHM cm^-1 (Lorentzian part), height relative to the
 * strongest band of the material.  Bands flagged fixed are not jittered
 * (they carry the truth: reference heights and the carbonate ratio). */
typedef struct band {
  double pos, fwhm, height;
} band;

#define N_(a) (sizeof(a) / sizeof((a)[0]))

/* Weddellite COD, Raman.  Positions: bands.md 1A COD table (1476 Kontoyannis
 * 1997; 910-912 Haka 2002; 597/505 Frost 2004; 1630 Frost 2004).  Heights
 * below 1300: RRUFF R050242 (section 0: 505 = 0.66 x 910, 592 = 0.13,
 * 869 = 0.10); 910 vs 1476 "s (~30-60)" of 1A. */
static const band r_cod[] = {
    {1476, 8, 1.00}, {910, 7, 0.60},  {505, 9, 0.40},
    {597, 10, 0.08}, {869, 10, 0.06}, {1630, 14, 0.10},
};
/* Whewellite COM, Raman: RRUFF R050240 514 nm (section 0: 503 = 1.00,
 * 896 = 0.92, 1465 = 0.46, 1492 = 0.39, 865 = 0.07); positions 1463/1490
 * (Kontoyannis 1997, Frost & Weier 2004), 597 and 1630 w (1A COM table). */
static const band r_com[] = {
    {1463, 8, 0.50}, {1490, 8, 0.42}, {896, 7, 0.92},  {503, 8, 1.00},
    {597, 10, 0.05}, {865, 10, 0.08}, {1630, 14, 0.08},
};
#define COM_1463_HEIGHT 0.50
/* Per mole, COM's 1462 band is 1.654x COD's 1477 band and COD gives 0.134
 * of its 1477 height at 1462: Kontoyannis 1997 x_COM = (I_R - 0.134) /
 * (0.8 I_R + 1.52) rearranges to I_R = (0.134 (1-x) + 1.654 x) / ((1-x) +
 * 0.2 x) (bands.md 2.3; the rearrangement is ours [D]). */
#define COM_PER_MOLE (1.654 / COM_1463_HEIGHT)

/* Hydroxyapatite, Raman, apart from nu1 PO4 and the carbonate bands (built
 * in hydroxyapatite()).  bands.md 1A HA table: nu2 432/448 (Penel 1998),
 * nu4 580-614 (Penel 1998), nu3 1028-1030/1040-1048/1076 (Penel 1998;
 * Awonusi 2007).  Heights: RRUFF R050512 (section 0: 429 = 0.18,
 * 584 = 0.12 of 961); nu3 "w-m (5-15)". */
static const band r_ha_rest[] = {
    {432, 12, 0.16}, {448, 12, 0.10}, {580, 10, 0.10},  {591, 10, 0.06},
    {608, 10, 0.05}, {614, 10, 0.04}, {1029, 12, 0.04}, {1046, 14, 0.07},
    {1076, 14, 0.05},
};
/* nu1 PO4 of stoichiometric HA at 962-964 (Penel 2003), biological 958-961;
 * "~1-4 cm^-1 total shift over the physiological CO3 range" [U] and FWHM
 * "~5-7 for pure HA, +0.5-1 per wt% CO3" [U] (bands.md 2.1): */
#define HA_NU1_POS0 962.0 /* default of cs_sim_opts.ha_nu1_cm1 */
#define HA_NU1_SHIFT_PER_WT 0.3
#define HA_NU1_FWHM0 6.0
#define HA_NU1_FWHM_PER_WT 0.8
/* Simulator's carbonate calibration: A(nu1 CO3 1071) / A(nu1 PO4) = 0.025
 * per wt% CO3 [D], inside the bands.md 2.1 anchor (bone 6-8 wt% gives
 * 0.1-0.3, slope 0.015-0.04).  Position 1070-1072, FWHM 15-25 (Awonusi
 * 2007; Penel 1998).  nu4 CO3 715 "vw, visible above ~4 wt%" (Awonusi
 * 2007): 0.003 per wt% [D]. */
#define CO3_AREA_PER_WT 0.025
#define CO3_NU1_POS 1071.0
#define CO3_NU1_FWHM 20.0
#define CO3_NU4_AREA_PER_WT 0.003

/* Mg-whitlockite, Raman: RRUFF R070675 (section 0: 964-965 = 1.00,
 * 921-922 = 0.08, 405 = 0.14-0.24, 631 = 0.09, 549 = 0.05, 1089-1091 =
 * 0.05-0.08); lower nu1 component ~950-960 m (Jolliff 2006 [U], 1A
 * whitlockite table), kept weak as in the RRUFF file. */
static const band r_wht[] = {
    {965, 9, 1.00},   {951, 12, 0.10}, {922, 10, 0.08}, {405, 12, 0.18},
    {631, 12, 0.09},  {549, 12, 0.05}, {1090, 14, 0.07},
};
/* Calcite, Raman: 1086 and 712 (Buzgar & Apopei 2009; RRUFF R040070:
 * 712 = 0.06-0.08), 281 s, 1436/1749 vw (Buzgar & Apopei 2009).  Intrinsic
 * width 1-3 for crystals, broader in biogenic material (1A calcite). */
static const band r_cal[] = {
    {1086, 3, 1.00}, {712, 5, 0.07}, {281, 8, 0.30}, {1436, 10, 0.01},
    {1749, 6, 0.02},
};
/* Breast tissue components, Raman (bands.md 1A "Breast tissue background",
 * Shafer-Peltier 2002; Frank 1995): collagen/protein, fat, beta-carotene,
 * water. */
static const band r_collagen[] = {
    {1667, 50, 0.80}, {1450, 30, 1.00}, {1245, 35, 0.45}, {1270, 35, 0.40},
    {1004, 8, 0.50},  {1032, 10, 0.15}, {939, 20, 0.35},  {920, 15, 0.25},
    {876, 15, 0.30},  {856, 15, 0.40},  {815, 15, 0.15},
};
static const band r_fat[] = {
    {1745, 25, 0.25}, {1656, 30, 0.60}, {1440, 30, 1.00}, {1302, 22, 0.70},
    {1266, 20, 0.35}, {1063, 15, 0.25}, {1080, 18, 0.20},
};
static const band r_carotene[] = {
    {1157, 12, 0.70}, {1525, 12, 1.00}, {1005, 10, 0.20},
};
static const band r_water[] = {{1640, 90, 1.00}};

/* FTIR (bands.md 1B).  COM: 1618-1622 vs, 1315-1317 ~80, 948/885 w, 780-782
 * s, 662 m, 515 m-s, five sharp OH bands 3488-3058 (urinary-stone IR
 * literature; White 2023). */
static const band f_com[] = {
    {1620, 50, 1.00}, {1316, 20, 0.80}, {948, 10, 0.08},  {885, 10, 0.08},
    {781, 12, 0.60},  {663, 15, 0.30},  {516, 15, 0.40},  {3488, 30, 0.30},
    {3429, 30, 0.30}, {3336, 30, 0.35}, {3257, 30, 0.35}, {3058, 30, 0.30},
};
/* COD: 1640-1645 vs, 1324-1328 vs, 912-915 w, 780-782 s, 610/517 w-m,
 * broad zeolitic water 3470 + 3260. */
static const band f_cod[] = {
    {1643, 50, 1.00}, {1326, 20, 0.85}, {913, 10, 0.10},   {781, 12, 0.55},
    {610, 15, 0.20},  {517, 15, 0.30},  {3470, 200, 0.35}, {3260, 200, 0.30},
};
/* HA (Berzina-Cimdina 2012; Antonakos 2007): nu3 1030-1046 vs (envelope
 * ~100 wide), 1087-1092 shoulder, nu1 960-962 w-m, nu4 600-603/562-565 s,
 * nu2 ~470 w.  OH bands 630-633 and 3570-3572 are built in
 * hydroxyapatite() because carbonation removes them. */
static const band f_ha_rest[] = {
    {1035, 60, 1.00}, {1090, 30, 0.55}, {961, 10, 0.15},
    {602, 18, 0.60},  {563, 18, 0.55},  {470, 15, 0.08},
};
/* Poorly crystalline biological apatite (bone), FTIR: the nu1nu3 PO4
 * envelope as resolved by second-derivative and curve-fitting studies of
 * bone (Gadaleta SJ et al. 1996, Calcif Tissue Int 58:9; Paschalis EP et
 * al. 1996, Calcif Tissue Int 59:480 [L]): 1020 non-stoichiometric and
 * 1030 stoichiometric apatite, 1060/1075, 1096, and 1110-1145 HPO4 /
 * non-apatitic phosphate, which give bone its wide high-wavenumber
 * shoulder; nu1 961 broadened; a low-wavenumber wing at 1000 as ATR
 * sampling gives the strong PO4 band (Aufort 2018, bands.md 1B: shapes
 * depend on sampling mode); heights ours [D].  The 1000 wing and the
 * heights were chosen after looking at the real bone FTIR files of
 * ../shared (README "Measured accuracy"), so those are not blind. */
static const band f_bio_ap[] = {
    {1000, 40, 0.45}, {1020, 40, 0.85}, {1032, 35, 1.00}, {1060, 35, 0.75},
    {1075, 30, 0.55}, {1096, 35, 0.60}, {1112, 30, 0.50}, {1128, 30, 0.35},
    {1145, 30, 0.20}, {961, 20, 0.15},  {602, 20, 0.55},  {563, 20, 0.55},
    {470, 15, 0.08},
};
/* Carbonated apatite, FTIR: nu2 B 870-873 (Rey 1989; Fleet 2009; "area ~1%
 * of nu1nu3 PO4"), nu3 B doublet ~1415 + ~1455 (Madupalli 2017; "area
 * ~10-20% of PO4").  Per wt%: nu2 0.0025, nu3 0.03 of the PO4 area [D]
 * (6 wt% gives 1.5 % and 18 %, and the Grunenwald 2014 recalled anchor,
 * bands.md 2.2, of ~0.2 at 6 wt%). */
#define FTIR_CO3_NU2_PER_WT 0.0025
#define FTIR_CO3_NU3_PER_WT 0.03
/* Whitlockite / beta-TCP, FTIR (Capitelli 2021 [U positions]; Stahli 2016
 * HPO4 [U]). */
static const band f_wht[] = {
    {1120, 25, 0.35}, {1085, 35, 0.80}, {1043, 35, 1.00}, {1015, 30, 0.70},
    {970, 12, 0.35},  {945, 12, 0.25},  {605, 18, 0.55},  {590, 15, 0.30},
    {550, 18, 0.45},  {1190, 20, 0.08}, {920, 12, 0.08},
};
/* Calcite, FTIR: nu3 1400-1430 vs broad, nu2 872-876 sharp s, nu4 712 m,
 * 1795-1800 and 2512 w (bands.md 1B calcite). */
static const band f_cal[] = {
    {1420, 90, 1.00}, {873, 8, 0.45}, {712, 6, 0.15}, {1797, 10, 0.04},
    {2512, 30, 0.04},
};
/* Breast tissue, FTIR (bands.md 1B tissue table): protein and lipid. */
static const band f_protein[] = {
    {1655, 50, 1.00}, {1545, 45, 0.65}, {1455, 25, 0.25}, {1400, 30, 0.20},
    {1338, 15, 0.10}, {1280, 20, 0.10}, {1240, 30, 0.20}, {1204, 15, 0.08},
    {1082, 30, 0.12}, {3300, 250, 0.60},
};
static const band f_water[] = {{1640, 75, 0.8}};
static const band f_lipid[] = {
    {1742, 20, 1.00}, {2850, 15, 0.70}, {2920, 25, 1.00},
    {2955, 15, 0.50}, {1465, 20, 0.30},
};

/* Mineral strongest band per unit volume relative to tissue's strongest
 * band: the HA nu1 band is "among the strongest Raman bands in breast"
 * (bands.md 4) [D: 4x]; phosphate IR absorption likewise [D: 2x]. */
#define RAMAN_MINERAL_XS 4.0
#define FTIR_MINERAL_XS 2.0
/* Sea-level muon flux gives ~2 events/min on a 2.1 cm^2 chip (bands.md 4,
 * cosmic rays); spikes 1-3 pixels wide, positive. */
#define SPIKE_RATE_PER_MIN 2.0

/* ---- line shape ----
 * Pseudo-Voigt with the Thompson-Cox-Hastings (1987, J Appl Cryst 20:79)
 * width and mixing: Lorentzian = intrinsic band, Gaussian = instrument. */
typedef struct shape {
  double f, eta;
} shape;

static shape tch(double fl, double fg) {
  double f = pow(pow(fg, 5) + 2.69269 * pow(fg, 4) * fl +
                     2.42843 * pow(fg, 3) * fl * fl +
                     4.47163 * fg * fg * pow(fl, 3) + 0.07842 * fg * pow(fl, 4) +
                     pow(fl, 5),
                 0.2);
  double q = fl / f;
  shape s = {f, 1.36603 * q - 0.47719 * q * q + 0.11116 * q * q * q};
  return s;
}

/* Area of a unit-height pseudo-Voigt. */
static double pv_area(shape s) {
  return s.f * (s.eta * PI_ / 2 + (1 - s.eta) * sqrt(PI_ / (4 * LN2_)));
}

/* Band shape of one spectrum: the physical Thompson-Cox-Hastings mixing
 * by default; a forced Lorentzian fraction eta in [0, 1] and a scale of
 * every band's own width when the options ask for them (training library
 * that spans other instruments' and generators' shapes). */
typedef struct ctx {
  const double *t; /* true Raman shift / wavenumber of each point */
  size_t n;
  double instr;  /* instrument FWHM */
  double jitter; /* relative sd of band heights */
  csi_rng *rng;  /* parameter stream */
  double eta;    /* forced Lorentzian fraction, or < 0: TCH */
  double wscale; /* band width scale (1 = table widths) */
  double ha_nu1, wht_nu1, wht_lower; /* phosphate nu1 of this spot */
  double bio;    /* FTIR: bone-like share of the apatite bands */
  double atr;    /* FTIR: ATR band pull, cm^-1 (0: transmission) */
} ctx;

static void add_band(const ctx *c, double *y, double pos, double fwhm,
                     double height) {
  shape s = tch(fwhm * c->wscale, c->instr);
  if (c->eta >= 0)
    s.eta = c->eta;
  for (size_t i = 0; i < c->n; i++) {
    double d = (c->t[i] - pos) / s.f;
    y[i] += height * (s.eta / (1 + 4 * d * d) +
                      (1 - s.eta) * exp(-4 * LN2_ * d * d));
  }
}



static void add_table(const ctx *c, double *y, const band *b, size_t nb,
                      double scale) {
  for (size_t k = 0; k < nb; k++) {
    double h = b[k].height * scale;
    /* Drawn even when jitter is 0 so the stream does not depend on it. */
    double z = csi_rng_normal(c->rng);
    h *= exp(c->jitter * z);
    add_band(c, y, b[k].pos, b[k].fwhm, h);
  }
}

static double max_of(const double *y, size_t n, size_t *at) {
  size_t k = 0;
  for (size_t i = 1; i < n; i++)
    if (y[i] > y[k])
      k = i;
  if (at)
    *at = k;
  return y[k];
}

static void normalise(double *y, size_t n) {
  double m = max_of(y, n, NULL);
  if (m > 0)
    for (size_t i = 0; i < n; i++)
      y[i] /= m;
}

/* Apatite with carbonate cwt (wt%), not normalised. */
static void hydroxyapatite(const ctx *c, double *y, int ftir, double cwt) {
  if (!ftir) {
    double pos = c->ha_nu1 - HA_NU1_SHIFT_PER_WT * cwt;
    double fw = HA_NU1_FWHM0 + HA_NU1_FWHM_PER_WT * cwt;
    add_band(c, y, pos, fw, 1.0);
    double a1 = pv_area(tch(fw, c->instr));
    shape s3 = tch(CO3_NU1_FWHM, c->instr);
    add_band(c, y, CO3_NU1_POS, CO3_NU1_FWHM,
             CO3_AREA_PER_WT * cwt * a1 / pv_area(s3));
    shape s4 = tch(10, c->instr);
    add_band(c, y, 715, 10, CO3_NU4_AREA_PER_WT * cwt * a1 / pv_area(s4));
    add_table(c, y, r_ha_rest, N_(r_ha_rest), 1.0);
    return;
  }
  /* tables drawn only when used, so the default stream is unchanged */
  if (c->bio > 0)
    add_table(c, y, f_bio_ap, N_(f_bio_ap), c->bio);
  if (c->bio < 1)
    add_table(c, y, f_ha_rest, N_(f_ha_rest), 1 - c->bio);
  /* OH libration and stretch fade with carbonation (bands.md 1B). */
  double oh = cwt < 12 ? 1 - cwt / 12 : 0;
  add_band(c, y, 632, 10, 0.08 * oh);
  add_band(c, y, 3571, 8, 0.10 * oh);
  /* Carbonate relative to the nu1nu3 PO4 envelope area (1035 band). */
  double apo4 = pv_area(tch(60, c->instr)) + 0.55 * pv_area(tch(30, c->instr));
  double a2 = FTIR_CO3_NU2_PER_WT * cwt * apo4, a3 = FTIR_CO3_NU3_PER_WT * cwt * apo4;
  add_band(c, y, 872, 10, a2 / pv_area(tch(10, c->instr)));
  add_band(c, y, 1415, 35, 0.5 * a3 / pv_area(tch(35, c->instr)));
  add_band(c, y, 1455, 35, 0.5 * a3 / pv_area(tch(35, c->instr)));
}

/* ---- options ---- */

static const char *const class_names[CS_SIM__COUNT] = {
    "tissue", "cod", "com", "hydroxyapatite", "whitlockite", "calcite"};

const char *cs_sim_class_name(cs_sim_class c) {
  return (int)c >= 0 && c < CS_SIM__COUNT ? class_names[c] : "unknown";
}

cs_status cs_sim_class_from_name(const char *name, cs_sim_class *out) {
  if (!name)
    return CS_ERR_ARG;
  for (int i = 0; i < CS_SIM__COUNT; i++)
    if (!csi_strcasecmp(name, class_names[i])) {
      *out = (cs_sim_class)i;
      return CS_OK;
    }
  if (!csi_strcasecmp(name, "ha")) {
    *out = CS_SIM_HYDROXYAPATITE;
    return CS_OK;
  }
  if (!csi_strcasecmp(name, "oxalate")) {
    *out = CS_SIM_COD;
    return CS_OK;
  }
  return CS_ERR_ARG;
}

static cs_sim_range rng_of(double lo, double hi) {
  cs_sim_range r = {lo, hi};
  return r;
}

cs_sim_opts cs_sim_opts_default(cs_sim_class cls, cs_technique tech) {
  cs_sim_opts o;
  memset(&o, 0, sizeof o);
  o.cls = cls;
  o.technique = tech == CS_TECH_FTIR ? CS_TECH_FTIR : CS_TECH_RAMAN;
  o.seed = 1;
  o.frames = 1;
  o.snr = rng_of(30, 30);
  o.mineral_frac = rng_of(1, 1);
  /* Physiological range of the issue (0-10 wt%). */
  o.carbonate_wt = rng_of(0, 10);
  o.com_frac = cls == CS_SIM_COM ? rng_of(0.7, 1) : rng_of(0, 0.3);
  o.whitlockite_frac = cls == CS_SIM_WHITLOCKITE ? rng_of(0.7, 1) : rng_of(0, 0.2);
  o.band_jitter = 0.1;
  o.lorentz = rng_of(-1, -1); /* physical TCH shapes */
  o.width_scale = rng_of(1, 1);
  o.ha_nu1_cm1 = rng_of(HA_NU1_POS0, HA_NU1_POS0);
  o.wht_nu1_cm1 = rng_of(965, 965);
  o.wht_lower = rng_of(0.10, 0.10);
  o.bio_apatite = rng_of(0, 0);
  o.atr_shift_cm1 = rng_of(0, 0);
  o.laser_nm = 785;
  o.pixels = 1024;
  if (o.technique == CS_TECH_RAMAN) {
    /* bands.md 4: resolution 4-10 cm^-1; wavenumber drift; fluorescence
     * 1-100x the strongest band; bleaching over seconds to minutes [L]. */
    o.instr_fwhm_cm1 = rng_of(4, 10);
    o.shift_cm1 = rng_of(-2, 2);
    o.stretch = rng_of(-0.002, 0.002);
    o.lo_cm1 = 300;
    o.hi_cm1 = 1900;
  } else {
    /* FTIR axes are laser-referenced: tiny calibration error [D]. */
    o.instr_fwhm_cm1 = rng_of(4, 4);
    o.shift_cm1 = rng_of(-0.5, 0.5);
    o.stretch = rng_of(0, 0);
    o.lo_cm1 = 800;
    o.hi_cm1 = 1800;
  }
  o.fluor_ratio = rng_of(1, 100);
  o.bleach_keep = rng_of(0.3, 0.8);
  o.bleach_tau_s = rng_of(5, 60);
  o.exposure_s = rng_of(1, 10);
  o.read_noise = 5;      /* cooled deep-depletion CCD, e- rms [U] */
  o.spike_rate_per_min = SPIKE_RATE_PER_MIN;
  o.step_cm1 = 2;        /* 4 cm^-1 resolution, 2x zero filling */
  o.peak_absorbance = rng_of(0.3, 1.0);
  return o;
}

static cs_status check_range(cs_error *err, const char *name, cs_sim_range r,
                             double lo, double hi) {
  if (!isfinite(r.lo) || !isfinite(r.hi) || r.lo > r.hi || r.lo < lo ||
      r.hi > hi)
    return csi_error(err, CS_ERR_ARG,
                     "simulate: %s must be a range within %g..%g, got %g..%g",
                     name, lo, hi, r.lo, r.hi);
  return CS_OK;
}

static cs_status check_num(cs_error *err, const char *name, double v, double lo,
                           double hi) {
  if (!isfinite(v) || v < lo || v > hi)
    return csi_error(err, CS_ERR_ARG, "simulate: %s must be in %g..%g, got %g",
                     name, lo, hi, v);
  return CS_OK;
}

cs_status cs_sim_opts_check(const cs_sim_opts *o, cs_error *err) {
  cs_status st;
  if (!o)
    return csi_error(err, CS_ERR_ARG, "simulate: no options");
  if ((int)o->cls < 0 || o->cls >= CS_SIM__COUNT)
    return csi_error(err, CS_ERR_ARG, "simulate: unknown class %d", (int)o->cls);
  if (o->technique != CS_TECH_RAMAN && o->technique != CS_TECH_FTIR)
    return csi_error(err, CS_ERR_ARG, "simulate: technique must be raman or ftir");
  if (o->frames < 1 || o->frames > 100000)
    return csi_error(err, CS_ERR_ARG, "simulate: frames must be in 1..100000, got %d",
                     o->frames);
  if ((st = check_range(err, "snr", o->snr, 0, 1e6)) ||
      (st = check_range(err, "mineral fraction", o->mineral_frac, 0, 1)) ||
      (st = check_range(err, "carbonate wt%", o->carbonate_wt, 0, 15)) ||
      (st = check_range(err, "com fraction", o->com_frac, 0, 1)) ||
      (st = check_range(err, "whitlockite fraction", o->whitlockite_frac, 0, 1)) ||
      (st = check_range(err, "instrument fwhm", o->instr_fwhm_cm1, 0.5, 50)) ||
      (st = check_range(err, "shift", o->shift_cm1, -50, 50)) ||
      (st = check_range(err, "stretch", o->stretch, -0.05, 0.05)) ||
      (st = check_num(err, "band jitter", o->band_jitter, 0, 1)) ||
      (st = check_range(err, "band width scale", o->width_scale, 0.2, 5)) ||
      (st = check_range(err, "HA nu1", o->ha_nu1_cm1, 950, 970)) ||
      (st = check_range(err, "whitlockite nu1", o->wht_nu1_cm1, 955, 985)) ||
      (st = check_range(err, "whitlockite lower nu1", o->wht_lower, 0, 1)) ||
      (st = check_range(err, "bone-like apatite share", o->bio_apatite, 0, 1)) ||
      (st = check_range(err, "ATR shift", o->atr_shift_cm1, 0, 20)))
    return st;
  if (!(o->lorentz.lo == -1 && o->lorentz.hi == -1) &&
      (st = check_range(err, "lorentzian fraction", o->lorentz, 0, 1)))
    return st;
  if (o->snr.lo == 0 && o->snr.hi != 0)
    return csi_error(err, CS_ERR_ARG,
                     "simulate: snr range must be > 0, or exactly 0 for noiseless");
  if (!isfinite(o->lo_cm1) || !isfinite(o->hi_cm1) || !(o->lo_cm1 < o->hi_cm1))
    return csi_error(err, CS_ERR_ARG, "simulate: window needs lo < hi, got %g..%g",
                     o->lo_cm1, o->hi_cm1);
  if (o->technique == CS_TECH_RAMAN) {
    if ((st = check_num(err, "laser wavelength", o->laser_nm, 200, 1500)) ||
        (st = check_range(err, "fluorescence ratio", o->fluor_ratio, 0, 1e4)) ||
        (st = check_range(err, "bleach keep", o->bleach_keep, 0, 1)) ||
        (st = check_range(err, "bleach tau", o->bleach_tau_s, 0.01, 1e6)) ||
        (st = check_range(err, "exposure", o->exposure_s, 1e-3, 1e4)) ||
        (st = check_num(err, "read noise", o->read_noise, 0, 1e4)) ||
        (st = check_num(err, "spike rate", o->spike_rate_per_min, 0, 1e4)))
      return st;
    if (o->pixels < 16 || o->pixels > 8192)
      return csi_error(err, CS_ERR_ARG, "simulate: pixels must be in 16..8192, got %d",
                       o->pixels);
    /* The Stokes window must map to positive wavelengths. */
    if (o->lo_cm1 < -2000 || o->hi_cm1 > 0.9e7 / o->laser_nm)
      return csi_error(err, CS_ERR_ARG,
                       "simulate: raman window %g..%g cm^-1 does not fit a %g nm laser",
                       o->lo_cm1, o->hi_cm1, o->laser_nm);
  } else {
    if ((st = check_num(err, "step", o->step_cm1, 0.05, 100)) ||
        (st = check_range(err, "peak absorbance", o->peak_absorbance, 1e-4, 10)))
      return st;
    if (o->lo_cm1 < 10 || o->hi_cm1 > 15000)
      return csi_error(err, CS_ERR_ARG,
                       "simulate: ftir window must lie within 10..15000 cm^-1");
    if ((o->hi_cm1 - o->lo_cm1) / o->step_cm1 > 1e6)
      return csi_error(err, CS_ERR_ARG, "simulate: ftir grid too large");
  }
  return CS_OK;
}

/* ---- simulation ---- */

static double draw(csi_rng *r, cs_sim_range g) {
  return g.lo + (g.hi - g.lo) * csi_rng_uniform(r);
}

typedef struct truth {
  const char *cls, *subtype;
  double mineral, carbonate, com, wht, snr, fluor, shift, stretch, instr;
  double exposure;
} truth;

static cs_status set_num(cs_spectrum *s, const char *key, double v, int apply,
                         cs_error *err) {
  char buf[64];
  if (!apply)
    csi_snprintf(buf, sizeof buf, "na");
  else if (isinf(v))
    csi_snprintf(buf, sizeof buf, "inf");
  else
    csi_snprintf(buf, sizeof buf, "%.17g", v);
  return cs_spectrum_set_meta(s, key, buf, err);
}

static cs_status set_truth(cs_spectrum *s, const cs_sim_opts *o,
                           const truth *tr, int frame, int nspikes,
                           cs_error *err) {
  char buf[64];
  int ox = o->cls == CS_SIM_COD || o->cls == CS_SIM_COM;
  int ap = o->cls == CS_SIM_HYDROXYAPATITE || o->cls == CS_SIM_WHITLOCKITE;
  int raman = o->technique == CS_TECH_RAMAN;
  cs_status st;
  csi_snprintf(buf, sizeof buf, "sim-%s-%llu", cs_sim_class_name(o->cls), o->seed);
  if ((st = cs_spectrum_set_meta(s, CS_META_SAMPLE_ID, buf, err)))
    return st;
  csi_snprintf(buf, sizeof buf, "sim-%s-%llu-%d", cs_sim_class_name(o->cls), o->seed,
           frame);
  if ((st = cs_spectrum_set_meta(s, CS_META_SPECTRUM_ID, buf, err)) ||
      (st = cs_spectrum_set_meta(s, CS_META_TITLE, "synthetic spectrum", err)) ||
      (st = cs_spectrum_set_meta(s, CS_META_INSTRUMENT,
                                 "calcspec simulate " CS_VERSION, err)) ||
      (st = cs_spectrum_set_meta(s, "synthetic", "yes", err)) ||
      (st = cs_spectrum_set_meta(s, "truth.class", tr->cls, err)) ||
      (st = cs_spectrum_set_meta(s, "truth.subtype", tr->subtype, err)) ||
      (st = set_num(s, "truth.mineral_frac", tr->mineral, 1, err)) ||
      (st = set_num(s, "truth.carbonate_wt", tr->carbonate, ap, err)) ||
      (st = set_num(s, "truth.whitlockite_frac", tr->wht, ap, err)) ||
      (st = set_num(s, "truth.com_frac", tr->com, ox, err)) ||
      (st = set_num(s, "truth.snr", tr->snr, 1, err)))
    return st;
  csi_snprintf(buf, sizeof buf, "%llu", o->seed);
  if ((st = cs_spectrum_set_meta(s, "truth.seed", buf, err)))
    return st;
  csi_snprintf(buf, sizeof buf, "%d", frame);
  if ((st = cs_spectrum_set_meta(s, "truth.frame", buf, err)) ||
      (st = set_num(s, "truth.fluor_ratio", tr->fluor, raman, err)) ||
      (st = set_num(s, "truth.shift_cm1", tr->shift, 1, err)) ||
      (st = set_num(s, "truth.stretch", tr->stretch, 1, err)) ||
      (st = set_num(s, "truth.instr_fwhm_cm1", tr->instr, 1, err)))
    return st;
  csi_snprintf(buf, sizeof buf, "%d", nspikes);
  return cs_spectrum_set_meta(s, "truth.spikes", buf, err);
}

/* Mineral and tissue spectra on the true axis; returns the mixture
 * normalised to strongest band 1. Draws from c->rng in a fixed order. */
static void compose(const ctx *c, const cs_sim_opts *o, truth *tr, double *mix,
                    double *work) {
  int ftir = o->technique == CS_TECH_FTIR;
  size_t n = c->n;
  memset(mix, 0, n * sizeof *mix);
  if (tr->mineral > 0) {
    memset(work, 0, n * sizeof *work);
    switch (o->cls) {
    case CS_SIM_COD:
    case CS_SIM_COM:
      if (ftir) {
        add_table(c, work, f_cod, N_(f_cod), 1 - tr->com);
        add_table(c, work, f_com, N_(f_com), tr->com);
      } else {
        add_table(c, work, r_cod, N_(r_cod), 1 - tr->com);
        add_table(c, work, r_com, N_(r_com), COM_PER_MOLE * tr->com);
      }
      break;
    case CS_SIM_HYDROXYAPATITE:
    case CS_SIM_WHITLOCKITE: {
      /* Both phases normalised to strongest band 1 per unit volume [D]. */
      double *ha = calloc(n, sizeof *ha);
      if (ha) {
        hydroxyapatite(c, ha, ftir, tr->carbonate);
        normalise(ha, n);
        for (size_t i = 0; i < n; i++)
          work[i] = (1 - tr->wht) * ha[i];
        memset(ha, 0, n * sizeof *ha);
        if (ftir)
          add_table(c, ha, f_wht, N_(f_wht), 1.0);
        else {
          /* main nu1 and its lower component from the options (bands.md
           * 1A: main ~965-975, lower ~950-960 "m"; RRUFF 964-965 with a
           * weak lower one) */
          band w[N_(r_wht)];
          memcpy(w, r_wht, sizeof w);
          w[0].pos = c->wht_nu1;
          w[1].height = c->wht_lower;
          add_table(c, ha, w, N_(w), 1.0);
        }
        normalise(ha, n);
        for (size_t i = 0; i < n; i++)
          work[i] += tr->wht * ha[i];
        free(ha);
      }
      break;
    }
    case CS_SIM_CALCITE:
      add_table(c, work, ftir ? f_cal : r_cal, ftir ? N_(f_cal) : N_(r_cal), 1.0);
      break;
    default:
      break;
    }
    normalise(work, n);
    double xs = ftir ? FTIR_MINERAL_XS : RAMAN_MINERAL_XS;
    for (size_t i = 0; i < n; i++)
      mix[i] = tr->mineral * xs * work[i];
  }
  /* Tissue: fat share 0..1, collagen the rest, beta-carotene lives in fat,
   * some water (bands.md 1A; breast is fatty). Always drawn so the stream
   * does not depend on the mineral fraction. */
  double fat = csi_rng_uniform(c->rng), car = 0.4 * csi_rng_uniform(c->rng);
  double water = 0.05 + 0.25 * csi_rng_uniform(c->rng);
  memset(work, 0, n * sizeof *work);
  if (ftir) {
    add_table(c, work, f_protein, N_(f_protein), 1 - fat);
    add_table(c, work, f_lipid, N_(f_lipid), fat);
    if (c->atr > 0) /* ATR probes wet tissue: water bending 1640 */
      add_table(c, work, f_water, N_(f_water), 2 * water);
  } else {
    add_table(c, work, r_collagen, N_(r_collagen), 1 - fat);
    add_table(c, work, r_fat, N_(r_fat), fat);
    add_table(c, work, r_carotene, N_(r_carotene), fat * car);
    add_table(c, work, r_water, N_(r_water), water);
  }
  if (tr->mineral < 1) {
    normalise(work, n);
    for (size_t i = 0; i < n; i++)
      mix[i] += (1 - tr->mineral) * work[i];
  }
  normalise(mix, n);
}

static cs_status make_spectrum(const cs_sim_opts *o, const double *x,
                               const double *y, size_t n, cs_spectrum **out,
                               cs_error *err) {
  cs_axis ax = o->technique == CS_TECH_FTIR ? CS_AXIS_WAVENUMBER
               : o->wavelength_axis         ? CS_AXIS_WAVELENGTH_NM
                                            : CS_AXIS_RAMAN_SHIFT;
  cs_quantity q = o->technique == CS_TECH_FTIR ? CS_Q_ABSORBANCE : CS_Q_COUNTS;
  cs_status st = cs_spectrum_new(x, y, n, ax, q, out, err);
  if (st)
    return st;
  cs_spectrum_set_technique(*out, o->technique);
  return CS_OK;
}

/* Draws of one run that are not part of the truth metadata: bleaching,
 * FTIR peak height and the shape of the Raman fluorescence background. */
typedef struct extra {
  double keep, tau, peak_abs;
  double fc1, fc2, fh, fu0, fw;
  int noiseless;
} extra;

/* Parameters of one run from the parameter stream, always drawn in this
 * order (the spectra of a seed depend on it). */
static void draw_run(const cs_sim_opts *o, csi_rng *prng, truth *tr,
                     extra *e) {
  memset(tr, 0, sizeof *tr);
  tr->mineral = o->cls == CS_SIM_TISSUE ? 0 : draw(prng, o->mineral_frac);
  tr->carbonate = draw(prng, o->carbonate_wt);
  tr->com = draw(prng, o->com_frac);
  tr->wht = draw(prng, o->whitlockite_frac);
  tr->snr = draw(prng, o->snr);
  tr->instr = draw(prng, o->instr_fwhm_cm1);
  tr->shift = draw(prng, o->shift_cm1);
  tr->stretch = draw(prng, o->stretch);
  tr->fluor = draw(prng, o->fluor_ratio);
  e->keep = draw(prng, o->bleach_keep);
  e->tau = draw(prng, o->bleach_tau_s);
  tr->exposure = draw(prng, o->exposure_s);
  e->peak_abs = draw(prng, o->peak_absorbance);
  e->fc1 = -1.5 + 2.0 * csi_rng_uniform(prng);
  e->fc2 = -0.5 + csi_rng_uniform(prng);
  e->fh = csi_rng_uniform(prng);
  e->fu0 = csi_rng_uniform(prng);
  e->fw = 0.3 + 0.5 * csi_rng_uniform(prng);
  switch (o->cls) {
  case CS_SIM_TISSUE:
    tr->cls = "tissue";
    tr->subtype = "none";
    break;
  case CS_SIM_COD:
  case CS_SIM_COM:
    tr->cls = "oxalate";
    tr->subtype = tr->com >= 0.5 ? "COM" : "COD";
    break;
  case CS_SIM_HYDROXYAPATITE:
  case CS_SIM_WHITLOCKITE:
    tr->cls = tr->wht >= 0.5 ? "whitlockite" : "hydroxyapatite";
    tr->subtype = "none";
    break;
  default:
    tr->cls = "calcite";
    tr->subtype = "none";
    break;
  }
  e->noiseless = tr->snr == 0;
  if (e->noiseless)
    tr->snr = INFINITY;
}

/* Axis.  Raman: pixels linear in wavelength (grating dispersion) between
 * the window ends; the reported shift x of pixel i is computed from its
 * nominal wavelength nm, the true shift t carries the calibration error
 * reported = true + shift + stretch * (true - 1000). */
static void make_axis(const cs_sim_opts *o, int ftir, size_t n,
                      const truth *tr, double *x, double *nm, double *t) {
  if (!ftir) {
    double k0 = 1e7 / o->laser_nm;
    double l0 = 1e7 / (k0 - o->lo_cm1), l1 = 1e7 / (k0 - o->hi_cm1);
    for (size_t i = 0; i < n; i++) {
      /* Rounded to float precision (1e-4 cm^-1 here, far below any
       * physical meaning) so files store the axis as exact Float32. */
      double lambda = l0 + (l1 - l0) * (double)i / (double)(n - 1);
      x[i] = (float)(k0 - 1e7 / lambda);
      nm[i] = (float)lambda;
    }
  } else {
    for (size_t i = 0; i < n; i++)
      x[i] = o->lo_cm1 + o->step_cm1 * (double)i;
  }
  for (size_t i = 0; i < n; i++)
    t[i] = (x[i] - tr->shift + 1000 * tr->stretch) / (1 + tr->stretch);
}

/* Wrap one frame y[n] as a spectrum with its truth and append it to ds. */
static cs_status push_frame(const cs_sim_opts *o, const truth *tr,
                            const double *x, const double *y, size_t n,
                            int frame, int nspikes, cs_dataset *ds,
                            cs_error *err) {
  cs_spectrum *s;
  cs_status st = make_spectrum(o, x, y, n, &s, err);
  if (st)
    return st;
  if (o->technique != CS_TECH_FTIR) {
    cs_spectrum_set_laser_nm(s, o->laser_nm);
    cs_spectrum_set_exposure_s(s, tr->exposure);
  }
  cs_spectrum_set_accumulations(s, 1);
  cs_spectrum_set_source_index(s, (size_t)frame);
  if ((st = set_truth(s, o, tr, frame, nspikes, err))) {
    cs_spectrum_free(s);
    return st;
  }
  return cs_dataset_push(ds, s, err); /* frees s on failure */
}

/* Raman frames: Poisson counts of signal plus a bleaching fluorescence
 * background, read noise and cosmic spikes, from the noise stream. */
static cs_status raman_frames(const cs_sim_opts *o, const truth *tr,
                              const extra *e, const double *x,
                              const double *nm, const double *mix, size_t n,
                              double *bg, double *y, csi_rng *nrng,
                              cs_dataset *ds, cs_error *err) {
  size_t p;
  max_of(mix, n, &p);
  double s2 = tr->snr * tr->snr, rn2 = o->read_noise * o->read_noise;
  double S = e->noiseless ? 1000.0
                          : 0.5 * (s2 * (1 + tr->fluor) +
                                   sqrt(s2 * s2 * (1 + tr->fluor) * (1 + tr->fluor) +
                                        4 * s2 * rn2));
  /* Smooth fluorescence: exponential-quadratic trend plus one broad hump
   * (no feature narrower than ~100-200 cm^-1, bands.md 1A). */
  double span = x[n - 1] - x[0];
  for (size_t i = 0; i < n; i++) {
    double u = (x[i] - x[0]) / span, d = (u - e->fu0) / e->fw;
    bg[i] = exp(e->fc1 * u + e->fc2 * u * u) + e->fh * exp(-0.5 * d * d);
  }
  double fscale = tr->fluor * S / bg[p];
  for (int k = 0; k < o->frames; k++) {
    double b = e->keep + (1 - e->keep) * exp(-k * tr->exposure / e->tau);
    double sigp = sqrt(S + fscale * bg[p] * b + rn2);
    int nsp = 0;
    for (size_t i = 0; i < n; i++) {
      double mean = S * mix[i] + fscale * b * bg[i];
      y[i] = e->noiseless ? mean
                          : nearbyint(csi_rng_poisson(nrng, mean) +
                                      o->read_noise * csi_rng_normal(nrng));
    }
    if (!e->noiseless && o->spike_rate_per_min > 0) {
      nsp = (int)csi_rng_poisson(nrng, o->spike_rate_per_min * tr->exposure / 60);
      double top = fmax(65535.0, 2 * max_of(y, n, NULL));
      for (int q = 0; q < nsp; q++) {
        size_t at = (size_t)(csi_rng_uniform(nrng) * (double)n);
        int w = 1 + (int)(csi_rng_uniform(nrng) * 3);
        double a = 10 * sigp * pow(top / (10 * sigp), csi_rng_uniform(nrng));
        for (int j = 0; j < w && at + (size_t)j < n; j++)
          y[at + (size_t)j] += nearbyint(a * pow(0.5, j));
      }
    }
    cs_status st = push_frame(o, tr, o->wavelength_axis ? nm : x, y, n, k,
                              nsp, ds, err);
    if (st)
      return st;
  }
  return CS_OK;
}

/* Diamond ATR sampling of a composed FTIR absorbance mix (max 1) on the
 * true wavenumbers t: every point takes the value from shift * mix higher
 * up, so strong bands move lower by up to `shift` cm^-1 and lean towards
 * their low side as anomalous dispersion makes them (bands.md 1B: shapes
 * depend on sampling mode), then the penetration depth, proportional to
 * the wavelength, weights it by 1000/nu; normalised to max 1 again. */
static void atr_sampling(const double *t, double *mix, double *work, size_t n,
                         double shift) {
  if (n < 2) /* nothing to pull bands across */
    return;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    double u = t[i] + shift * mix[i];
    while (k + 2 < n && t[k + 1] < u)
      k++;
    while (k > 0 && t[k] > u)
      k--;
    double w = t[k + 1] > t[k] ? (u - t[k]) / (t[k + 1] - t[k]) : 0;
    w = w < 0 ? 0 : w > 1 ? 1 : w;
    work[i] = ((1 - w) * mix[k] + w * mix[k + 1]) * 1000 / t[i];
  }
  memcpy(mix, work, n * sizeof *mix);
  normalise(mix, n);
}

/* FTIR frames: absorbance plus a new baseline drift per frame (parameter
 * stream) and Gaussian noise (noise stream). */
static cs_status ftir_frames(const cs_sim_opts *o, const truth *tr,
                             const extra *e, const double *x,
                             const double *mix, size_t n, double *y,
                             csi_rng *prng, csi_rng *nrng, cs_dataset *ds,
                             cs_error *err) {
  double span = x[n - 1] - x[0];
  for (int k = 0; k < o->frames; k++) {
    /* Baseline drift: offset, slope, curvature and a scatter-like term
     * growing with wavenumber; new for every frame. */
    double b0 = 0.05 * csi_rng_uniform(prng);
    double b1 = -0.05 + 0.1 * csi_rng_uniform(prng);
    double b2 = -0.03 + 0.06 * csi_rng_uniform(prng);
    double bs = 0.02 * csi_rng_uniform(prng);
    double sigma = e->noiseless ? 0 : e->peak_abs / tr->snr;
    for (size_t i = 0; i < n; i++) {
      double u = (x[i] - x[0]) / span, w = x[i] / 1000;
      double v = e->peak_abs * mix[i] + b0 + b1 * u + b2 * u * u + bs * w * w;
      if (!e->noiseless)
        v = nearbyint((v + sigma * csi_rng_normal(nrng)) * 1e6) / 1e6;
      y[i] = v;
    }
    cs_status st = push_frame(o, tr, x, y, n, k, 0, ds, err);
    if (st)
      return st;
  }
  return CS_OK;
}

cs_status cs_simulate(const cs_sim_opts *o, cs_dataset **out, cs_error *err) {
  cs_status st;
  if (!out)
    return csi_error(err, CS_ERR_ARG, "simulate: no output");
  *out = NULL;
  if ((st = cs_sim_opts_check(o, err)))
    return st;
  int ftir = o->technique == CS_TECH_FTIR;
  size_t n = ftir ? (size_t)floor((o->hi_cm1 - o->lo_cm1) / o->step_cm1 + 1e-9) + 1
                  : (size_t)o->pixels;
  csi_rng prng, nrng;
  /* Separate streams: composition/shape vs noise, so a noiseless run has
   * the noisy run's composition, axis and shapes (its Raman scale is fixed
   * at S = 1000 counts since there is no SNR to set it). */
  csi_rng_seed(&prng, o->seed);
  csi_rng_seed(&nrng, o->seed ^ 0x6a09e667f3bcc909ULL);

  double *x = malloc(n * sizeof *x), *t = malloc(n * sizeof *t);
  double *nm = malloc(n * sizeof *nm), *mix = malloc(n * sizeof *mix);
  double *work = malloc(n * sizeof *work), *bg = malloc(n * sizeof *bg);
  double *y = malloc(n * sizeof *y);
  cs_dataset *ds = csi_dataset_alloc();
  if (!x || !t || !nm || !mix || !work || !bg || !y || !ds) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  truth tr;
  extra e;
  draw_run(o, &prng, &tr, &e);
  make_axis(o, ftir, n, &tr, x, nm, t);
  /* Shape options draw from their own stream, so the default output
   * (and spectra/examples) stays byte-identical. */
  csi_rng xrng;
  csi_rng_seed(&xrng, o->seed ^ 0xbb67ae8584caa73bULL);
  double eta = o->lorentz.lo < 0 ? -1 : draw(&xrng, o->lorentz);
  double wscale = draw(&xrng, o->width_scale);
  ctx c = {t, n, tr.instr, o->band_jitter, &prng, eta, wscale > 0 ? wscale : 1,
           draw(&xrng, o->ha_nu1_cm1), draw(&xrng, o->wht_nu1_cm1),
           draw(&xrng, o->wht_lower), draw(&xrng, o->bio_apatite), 0};
  c.atr = ftir ? draw(&xrng, o->atr_shift_cm1) : 0; /* last: streams stay */
  compose(&c, o, &tr, mix, work);
  if (c.atr > 0)
    atr_sampling(t, mix, work, n, c.atr);
  st = ftir ? ftir_frames(o, &tr, &e, x, mix, n, y, &prng, &nrng, ds, err)
            : raman_frames(o, &tr, &e, x, nm, mix, n, bg, y, &nrng, ds, err);
  if (!st) {
    *out = ds;
    ds = NULL;
  }
done:
  cs_dataset_free(ds);
  free(x);
  free(t);
  free(nm);
  free(mix);
  free(work);
  free(bg);
  free(y);
  return st;
}
