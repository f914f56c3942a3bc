/* eval_composition.c: accuracy of the composition measures on SYNTHETIC
 * spectra of the project simulator (README "Composition, biopsy cores and
 * birefringence validation"): carbonate calibrated on pure-HA standards and
 * evaluated on other spectra by SNR and mineral share (per spectrum and per
 * core of 5), the whitlockite index against the whitlockite share (with
 * axis offsets), the COM fraction with tissue.  Not a test: prints tables.
 * Build: make build/bench/eval_composition; run: build/bench/eval_composition
 * [carbonate|whitlockite|com|all] [N per cell], or
 * build/bench/eval_composition stress STD.csv STD_TRUTH.tsv EVAL.csv EVAL_TRUTH.tsv
 * on tests/stressgen.c output (tests/eval_composition_stress.sh). */
#include "calcspec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cs_spectrum *sim1(cs_sim_opts *o, cs_error *e) {
  cs_dataset *ds;
  if (cs_simulate(o, &ds, e)) {
    fprintf(stderr, "eval: %s\n", e->msg);
    exit(1);
  }
  cs_spectrum *s = cs_dataset_take(ds, 0);
  cs_dataset_free(ds);
  return s;
}

static double truth(const cs_spectrum *s, const char *key) {
  const char *v = cs_spectrum_meta(s, key);
  return v ? atof(v) : NAN;
}

typedef struct acc {
  double n, se, sb, sx, sy, sxx, sxy, syy, cover;
} acc;
static void acc_add(acc *a, double t, double est, int cov) {
  a->n++;
  a->se += fabs(est - t);
  a->sb += est - t;
  a->sx += t;
  a->sy += est;
  a->sxx += t * t;
  a->sxy += t * est;
  a->syy += est * est;
  a->cover += cov;
}
static void acc_print(const char *lab, const acc *a) {
  double n = a->n, mx = a->sx / n, my = a->sy / n;
  double cxy = a->sxy / n - mx * my, vx = a->sxx / n - mx * mx,
         vy = a->syy / n - my * my;
  double slope = cxy / vx, r = vx > 0 && vy > 0 ? cxy / sqrt(vx * vy) : NAN;
  printf("%-28s n %4.0f  MAE %6.3f  bias %+6.3f  slope %5.3f  r %5.3f  cover %5.1f %%\n",
         lab, n, a->se / n, a->sb / n, slope, r, 100 * a->cover / n);
}

/* Carbonate: calibrate on 24 pure-HA standards at SNR 50, then evaluate
 * cells of mineral share x SNR, N materials each measured at 5 spots. */
static void carbonate(int N) {
  cs_error e;
  double wt[24], r[24];
  for (int i = 0; i < 24; i++) {
    cs_sim_opts o = cs_sim_opts_default(CS_SIM_HYDROXYAPATITE, CS_TECH_RAMAN);
    o.carbonate_wt.lo = 0;
    o.carbonate_wt.hi = 10;
    o.whitlockite_frac.lo = o.whitlockite_frac.hi = 0;
    o.snr.lo = o.snr.hi = 50;
    o.seed = 900000 + (unsigned)i;
    cs_spectrum *s = sim1(&o, &e);
    cs_composition c;
    if (cs_composition_measure(s, "hydroxyapatite", NULL, &c, &e))
      exit(1);
    wt[i] = truth(s, "truth.carbonate_wt");
    r[i] = c.carbonate_ratio;
    cs_spectrum_free(s);
  }
  cs_calibration cal;
  if (cs_calibration_fit(CS_TECH_RAMAN, wt, r, 24, "eval", &cal, &e)) {
    fprintf(stderr, "eval: %s\n", e.msg);
    exit(1);
  }
  printf("calibration on 24 pure-HA standards (SNR 50): m %.4f b %.4f s_resid %.4f\n",
         cal.m, cal.b, cal.s_resid);
  const double share[3] = {0.3, 0.6, 1.0}, snr[3] = {5, 20, 50};
  acc tot_share[3];
  memset(tot_share, 0, sizeof tot_share);
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) {
      acc sp, co;
      memset(&sp, 0, sizeof sp);
      memset(&co, 0, sizeof co);
      int censored = 0;
      for (int k = 0; k < N; k++) {
        cs_sim_opts o = cs_sim_opts_default(CS_SIM_HYDROXYAPATITE, CS_TECH_RAMAN);
        double w = 10.0 * (k + 0.5) / N;
        o.carbonate_wt.lo = o.carbonate_wt.hi = w;
        o.whitlockite_frac.lo = o.whitlockite_frac.hi = 0;
        o.mineral_frac.lo = o.mineral_frac.hi = share[a];
        o.snr.lo = o.snr.hi = snr[b];
        const cs_spectrum *sp5[5];
        cs_spectrum *own[5];
        const char *cls[5];
        cs_composition c[5];
        cs_result rr[5];
        for (int j = 0; j < 5; j++) {
          o.seed = 100000 * (unsigned)(a * 3 + b + 1) + 10 * (unsigned)k + (unsigned)j;
          own[j] = sim1(&o, &e);
          sp5[j] = own[j];
          cls[j] = "hydroxyapatite";
          memset(&rr[j], 0, sizeof rr[j]);
          snprintf(rr[j].label, sizeof rr[j].label, "hydroxyapatite");
        }
        for (int j = 0; j < 5; j++) {
          if (cs_composition_measure(sp5[j], "hydroxyapatite", &cal, &c[j], &e)) {
            fprintf(stderr, "eval: %s\n", e.msg);
            exit(1);
          }
          if (!(c[j].valid & CS_COMP_CARBONATE))
            continue;
          censored += c[j].carbonate_censored;
          double est = c[j].carbonate_censored ? 0 : c[j].carbonate_wt;
          acc_add(&sp, w, est, c[j].carbonate_lo <= w && w <= c[j].carbonate_hi);
          acc_add(&tot_share[a], w, c[j].carbonate_raw, 0);
        }
        /* the core of 5, measured as one batch */
        if (cs_composition_measure_batch(sp5, cls, 5, &cal, c, &e)) {
          fprintf(stderr, "eval: %s\n", e.msg);
          exit(1);
        }
        const char names[1][CS_CLASS_NAME_MAX] = {"hydroxyapatite"};
        cs_core core;
        if (cs_core_summarize("c", rr, c, 5, names, 1, NULL, &core, &e) == CS_OK &&
            core.n_carbonate) {
          double est = core.carbonate_censored ? 0 : core.carbonate_mean;
          acc_add(&co, w, est, core.carbonate_lo <= w && w <= core.carbonate_hi);
        }
        for (int j = 0; j < 5; j++)
          cs_spectrum_free(own[j]);
      }
      char lab[64];
      snprintf(lab, sizeof lab, "share %.1f SNR %2.0f spectrum", share[a], snr[b]);
      acc_print(lab, &sp);
      printf("%28s censored %d\n", "", censored);
      snprintf(lab, sizeof lab, "share %.1f SNR %2.0f core of 5", share[a], snr[b]);
      acc_print(lab, &co);
    }
  for (int a = 0; a < 3; a++) {
    char lab[64];
    snprintf(lab, sizeof lab, "share %.1f raw, all SNR", share[a]);
    acc_print(lab, &tot_share[a]);
  }
}

/* Whitlockite index vs the simulator's whitlockite share of the phosphate. */
static void whitlockite(int N) {
  cs_error e;
  const double snr[2] = {20, 50}, shift[3] = {-4, 0, 4}, share[2] = {1.0, 0.6};
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++)
      for (int d = 0; d < 3; d++) {
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, mae = 0;
        for (int k = 0; k < N; k++) {
          cs_sim_opts o = cs_sim_opts_default(CS_SIM_WHITLOCKITE, CS_TECH_RAMAN);
          double f = (k + 0.5) / N;
          o.whitlockite_frac.lo = o.whitlockite_frac.hi = f;
          o.snr.lo = o.snr.hi = snr[b];
          o.mineral_frac.lo = o.mineral_frac.hi = share[a];
          o.shift_cm1.lo = o.shift_cm1.hi = shift[d];
          o.seed = 500000 + 1000 * (unsigned)(a * 6 + b * 3 + d) + (unsigned)k;
          cs_spectrum *s = sim1(&o, &e);
          cs_composition c;
          if (cs_composition_measure(s, "whitlockite", NULL, &c, &e))
            exit(1);
          double wi = c.whitlockite_index;
          sx += f;
          sy += wi;
          sxx += f * f;
          syy += wi * wi;
          sxy += f * wi;
          mae += fabs(wi - f);
          cs_spectrum_free(s);
        }
        double n = N, cxy = sxy / n - sx * sy / (n * n),
               vx = sxx / n - sx * sx / (n * n), vy = syy / n - sy * sy / (n * n);
        printf("whitlockite share %.1f SNR %2.0f shift %+2.0f: r %.3f  MAE %.3f  slope %.3f\n",
               share[a], snr[b], shift[d], cxy / sqrt(vx * vy), mae / n, cxy / vx);
      }
}

/* COM fraction (Kontoyannis) with tissue under 1440-1500. */
static void com(int N) {
  cs_error e;
  const double share[3] = {0.3, 0.6, 1.0};
  for (int a = 0; a < 3; a++) {
    double mae = 0, bias = 0;
    int n = 0;
    for (int k = 0; k < N; k++) {
      cs_sim_opts o = cs_sim_opts_default(CS_SIM_COM, CS_TECH_RAMAN);
      double f = (k + 0.5) / N;
      o.com_frac.lo = o.com_frac.hi = f;
      o.snr.lo = o.snr.hi = 30;
      o.mineral_frac.lo = o.mineral_frac.hi = share[a];
      o.seed = 700000 + 1000 * (unsigned)a + (unsigned)k;
      cs_spectrum *s = sim1(&o, &e);
      cs_composition c;
      if (cs_composition_measure(s, "oxalate", NULL, &c, &e))
        exit(1);
      if (c.valid & CS_COMP_COM) {
        mae += fabs(c.com_frac - f);
        bias += c.com_frac - f;
        n++;
      }
      cs_spectrum_free(s);
    }
    printf("COM fraction, mineral share %.1f SNR 30: n %d  MAE %.3f  bias %+.3f\n",
           share[a], n, mae / n, bias / n);
  }
}


/* ---- stressgen files (tests/stressgen.c, an independent generator) ----
 * truth TSV columns: file index id class subtype mineral_share snr fluor
 * offset laser carbonate_wt whitlockite_share com_frac seed core_id ... */
typedef struct trow {
  double share, snr, offset, carb, wht, com;
  char core[64];
} trow;
static trow *read_truth(const char *path, size_t *n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    exit(1);
  }
  char line[4096];
  trow *t = NULL;
  size_t cap = 0;
  *n = 0;
  if (!fgets(line, sizeof line, f))
    exit(1);
  while (fgets(line, sizeof line, f)) {
    char *fld[32];
    int k = 0;
    for (char *p = strtok(line, "\t\n"); p && k < 32; p = strtok(NULL, "\t\n"))
      fld[k++] = p;
    if (k < 15)
      continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 256;
      t = realloc(t, cap * sizeof *t);
    }
    trow *r = &t[(*n)++];
    r->share = atof(fld[5]);
    r->snr = atof(fld[6]);
    r->offset = atof(fld[8]);
    r->carb = strcmp(fld[10], "NA") ? atof(fld[10]) : NAN;
    r->wht = strcmp(fld[11], "NA") ? atof(fld[11]) : NAN;
    r->com = strcmp(fld[12], "NA") ? atof(fld[12]) : NAN;
    snprintf(r->core, sizeof r->core, "%s", fld[14]);
  }
  fclose(f);
  return t;
}

static void stress(const char *std_csv, const char *std_truth,
                   const char *ev_csv, const char *ev_truth) {
  cs_error e;
  cs_dataset *sd, *ed;
  size_t ns, ne;
  if (cs_dataset_read(std_csv, NULL, &sd, &e) || cs_dataset_read(ev_csv, NULL, &ed, &e)) {
    fprintf(stderr, "eval: %s\n", e.msg);
    exit(1);
  }
  trow *ts = read_truth(std_truth, &ns), *te = read_truth(ev_truth, &ne);
  double *wt = malloc(ns * sizeof *wt), *r = malloc(ns * sizeof *r);
  size_t k = 0;
  for (size_t i = 0; i < ns && i < cs_dataset_count(sd); i++) {
    cs_composition c;
    if (cs_composition_measure(cs_dataset_get(sd, i), "hydroxyapatite", NULL, &c, &e))
      exit(1);
    if (c.carbonate_ratio == 0 && !(c.valid & CS_COMP_NU1))
      continue;
    wt[k] = ts[i].carb;
    r[k++] = c.carbonate_ratio;
  }
  cs_calibration cal;
  if (cs_calibration_fit(CS_TECH_RAMAN, wt, r, k, "stress", &cal, &e)) {
    fprintf(stderr, "eval: %s\n", e.msg);
    exit(1);
  }
  printf("calibration on %zu stressgen pure-HA standards: m %.4f b %.4f s_resid %.4f\n",
         k, cal.m, cal.b, cal.s_resid);
  size_t n = cs_dataset_count(ed) < ne ? cs_dataset_count(ed) : ne;
  /* per spectrum, grouped by (share, snr) as they occur */
  double keys[64][2];
  acc sp[64], co[64], raw[64];
  int nk = 0;
  memset(sp, 0, sizeof sp);
  memset(co, 0, sizeof co);
  memset(raw, 0, sizeof raw);
  cs_composition *c = calloc(n, sizeof *c);
  const cs_spectrum **spx = malloc(n * sizeof *spx);
  const char **cls = malloc(n * sizeof *cls);
  for (size_t i = 0; i < n; i++) {
    if (cs_composition_measure(cs_dataset_get(ed, i), "hydroxyapatite", &cal, &c[i], &e))
      exit(1);
    int g = 0;
    while (g < nk && !(keys[g][0] == te[i].share && keys[g][1] == te[i].snr))
      g++;
    if (g == nk && nk < 64) {
      keys[nk][0] = te[i].share;
      keys[nk][1] = te[i].snr;
      nk++;
    }
    if (!(c[i].valid & CS_COMP_CARBONATE) || isnan(te[i].carb))
      continue;
    double w = te[i].carb;
    acc_add(&sp[g], w, c[i].carbonate_censored ? 0 : c[i].carbonate_wt,
            c[i].carbonate_lo <= w && w <= c[i].carbonate_hi);
    acc_add(&raw[g], w, c[i].carbonate_raw, 0);
  }
  /* cores: consecutive spectra with one core_id, measured as one batch */
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && !strcmp(te[j].core, te[i].core))
      j++;
    for (size_t q = i; q < j; q++) {
      spx[q - i] = cs_dataset_get(ed, q);
      cls[q - i] = "hydroxyapatite";
    }
    cs_composition cc[64];
    cs_result rr[64];
    size_t m = j - i > 64 ? 64 : j - i;
    if (cs_composition_measure_batch(spx, cls, m, &cal, cc, &e))
      exit(1);
    for (size_t q = 0; q < m; q++) {
      memset(&rr[q], 0, sizeof rr[q]);
      snprintf(rr[q].label, sizeof rr[q].label, "hydroxyapatite");
    }
    const char names[1][CS_CLASS_NAME_MAX] = {"hydroxyapatite"};
    cs_core core;
    /* the core's truth: the mean of its spectra's carbonate */
    double w = 0;
    for (size_t q = i; q < j; q++)
      w += te[q].carb / (double)(j - i);
    int g = 0;
    while (g < nk && !(keys[g][0] == te[i].share && keys[g][1] == te[i].snr))
      g++;
    if (!isnan(w) && cs_core_summarize("c", rr, cc, m, names, 1, NULL, &core, &e) == CS_OK &&
        core.n_carbonate)
      acc_add(&co[g], w, core.carbonate_censored ? 0 : core.carbonate_mean,
              core.carbonate_lo <= w && w <= core.carbonate_hi);
    i = j;
  }
  for (int g = 0; g < nk; g++) {
    char lab[64];
    if (!raw[g].n)
      continue;
    snprintf(lab, sizeof lab, "share %.1f SNR %2.0f reported", keys[g][0], keys[g][1]);
    acc_print(lab, &sp[g]);
    snprintf(lab, sizeof lab, "share %.1f SNR %2.0f raw", keys[g][0], keys[g][1]);
    acc_print(lab, &raw[g]);
    snprintf(lab, sizeof lab, "share %.1f SNR %2.0f core", keys[g][0], keys[g][1]);
    acc_print(lab, &co[g]);
  }
  /* COM fraction (Kontoyannis) where the truth has it: oxalate spectra,
   * tissue under 1440-1500 at mineral share < 1; by share */
  {
    double shs[8];
    acc ca[8];
    int nsh = 0, nfail = 0;
    memset(ca, 0, sizeof ca);
    for (size_t i = 0; i < n; i++) {
      if (isnan(te[i].com))
        continue;
      cs_composition cx;
      if (cs_composition_measure(cs_dataset_get(ed, i), "oxalate", NULL, &cx, &e))
        exit(1);
      int g = 0;
      while (g < nsh && shs[g] != te[i].share)
        g++;
      if (g == nsh && nsh < 8)
        shs[nsh++] = te[i].share;
      if (g == 8)
        continue;
      if (!(cx.valid & CS_COMP_COM)) {
        nfail++;
        continue;
      }
      acc_add(&ca[g], te[i].com, cx.com_frac, 0);
    }
    for (int g = 0; g < nsh; g++) {
      char lab[64];
      snprintf(lab, sizeof lab, "COM fraction share %.2f", shs[g]);
      acc_print(lab, &ca[g]);
    }
    if (nfail)
      printf("COM fraction not measured on %d spectra\n", nfail);
  }
  /* whitlockite index and COM fraction where the truth has them */
  double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, mae = 0, nw = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(te[i].wht) && (c[i].valid & CS_COMP_WHITLOCKITE)) {
      double f = te[i].wht, wi = c[i].whitlockite_index;
      sx += f; sy += wi; sxx += f * f; syy += wi * wi; sxy += f * wi;
      mae += fabs(wi - f);
      nw++;
      if (getenv("EVAL_DUMP"))
        printf("W\t%g\t%g\t%g\t%g\t%g\t%g\t%g\n", f, wi, c[i].whitlockite_se,
               c[i].nu1_pos, c[i].nu1_fwhm, c[i].band922_ratio, te[i].carb);
    }
  if (nw > 2) {
    double cxy = sxy / nw - sx * sy / (nw * nw), vx = sxx / nw - sx * sx / (nw * nw),
           vy = syy / nw - sy * sy / (nw * nw);
    printf("whitlockite index vs share: n %.0f r %.3f MAE %.3f\n", nw,
           cxy / sqrt(vx * vy), mae / nw);
  }
}

/* Whitlockite: calibrate the index on powder-mixture standards (STD, HA +
 * whitlockite of known share) with cs_calibration_fit_whitlockite, then
 * the share of other mixtures (EV): raw index and calibrated share, per
 * spectrum and per core of 5 (consecutive core_id). */
static void stress_wh(const char *std_csv, const char *std_truth,
                      const char *ev_csv, const char *ev_truth) {
  cs_error e;
  cs_dataset *sd, *ed;
  size_t ns, ne;
  if (cs_dataset_read(std_csv, NULL, &sd, &e) || cs_dataset_read(ev_csv, NULL, &ed, &e)) {
    fprintf(stderr, "eval: %s\n", e.msg);
    exit(1);
  }
  trow *ts = read_truth(std_truth, &ns), *te = read_truth(ev_truth, &ne);
  double *sh = malloc(ns * sizeof *sh), *ix = malloc(ns * sizeof *ix);
  size_t k = 0;
  for (size_t i = 0; i < ns && i < cs_dataset_count(sd); i++) {
    cs_composition c;
    if (cs_composition_measure(cs_dataset_get(sd, i), "hydroxyapatite", NULL, &c, &e))
      exit(1);
    if (!(c.valid & CS_COMP_WHITLOCKITE))
      continue;
    sh[k] = ts[i].wht;
    ix[k++] = c.whitlockite_index;
  }
  cs_calibration wc;
  if (cs_calibration_fit_whitlockite(sh, ix, k, "stress", &wc, &e)) {
    fprintf(stderr, "eval: %s\n", e.msg);
    exit(1);
  }
  printf("whitlockite calibration on %zu mixtures: index = %.3f share %+.3f, s_resid %.3f\n",
         k, wc.m, wc.b, wc.s_resid);
  size_t n = cs_dataset_count(ed) < ne ? cs_dataset_count(ed) : ne;
  acc raw, cal, core_raw, core_cal;
  memset(&raw, 0, sizeof raw);
  memset(&cal, 0, sizeof cal);
  memset(&core_raw, 0, sizeof core_raw);
  memset(&core_cal, 0, sizeof core_cal);
  double r_ix[3] = {0, 0, 0}, r_sh[3] = {0, 0, 0}, sxx = 0, sx = 0, nn = 0;
  /* index by true share, 10 bins of 0.1: is the relation linear, and how
   * wide is it (the diagnosis of README "Whitlockite index") */
  double bn[10] = {0}, bs[10] = {0}, bss[10] = {0};
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && !strcmp(te[j].core, te[i].core))
      j++;
    double tw = 0, mi = 0, ms = 0;
    size_t m = 0;
    for (size_t q = i; q < j; q++) {
      cs_composition c;
      if (cs_composition_measure(cs_dataset_get(ed, q), "hydroxyapatite", NULL, &c, &e))
        exit(1);
      if (!(c.valid & CS_COMP_WHITLOCKITE) || isnan(te[q].wht))
        continue;
      cs_composition_whitlockite_share(&wc, &c, &e);
      double f = te[q].wht;
      int bi = (int)(f * 10);
      bi = bi < 0 ? 0 : bi > 9 ? 9 : bi;
      bn[bi]++;
      bs[bi] += c.whitlockite_index;
      bss[bi] += c.whitlockite_index * c.whitlockite_index;
      acc_add(&raw, f, c.whitlockite_index, 0);
      acc_add(&cal, f, c.whitlockite_share,
              c.whitlockite_share_lo <= f && f <= c.whitlockite_share_hi);
      r_ix[0] += f * c.whitlockite_index;
      r_ix[1] += c.whitlockite_index;
      r_ix[2] += c.whitlockite_index * c.whitlockite_index;
      r_sh[0] += f * c.whitlockite_share;
      r_sh[1] += c.whitlockite_share;
      r_sh[2] += c.whitlockite_share * c.whitlockite_share;
      sx += f;
      sxx += f * f;
      nn++;
      tw += f;
      mi += c.whitlockite_index;
      ms += c.whitlockite_share;
      m++;
    }
    if (m) {
      acc_add(&core_raw, tw / (double)m, mi / (double)m, 0);
      acc_add(&core_cal, tw / (double)m, ms / (double)m, 0);
    }
    i = j;
  }
  double vx = sxx / nn - sx * sx / (nn * nn);
  double ri = (r_ix[0] / nn - sx * r_ix[1] / (nn * nn)) /
              sqrt(vx * (r_ix[2] / nn - r_ix[1] * r_ix[1] / (nn * nn)));
  double rs = (r_sh[0] / nn - sx * r_sh[1] / (nn * nn)) /
              sqrt(vx * (r_sh[2] / nn - r_sh[1] * r_sh[1] / (nn * nn)));
  printf("r index %.3f, r share %.3f\n", ri, rs);
  printf("index by share bin (mean sd n):");
  for (int b = 0; b < 10; b++) {
    double mb = bn[b] > 0 ? bs[b] / bn[b] : NAN;
    double vb = bn[b] > 1 ? (bss[b] - bn[b] * mb * mb) / (bn[b] - 1) : 0;
    printf(" %.2f: %.2f %.2f %.0f;", 0.1 * b + 0.05, mb, sqrt(vb > 0 ? vb : 0), bn[b]);
  }
  printf("\n");
  acc_print("index, spectrum", &raw);
  acc_print("share (calibrated), spectrum", &cal);
  acc_print("index, core of 5", &core_raw);
  acc_print("share, core of 5", &core_cal);
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "all";
  int N = argc > 2 ? atoi(argv[2]) : 40;
  if (N < 2)
    N = 2;
  if (!strcmp(what, "stress") && argc == 6) {
    printf("SYNTHETIC: tests/stressgen.c (independent generator)\n");
    stress(argv[2], argv[3], argv[4], argv[5]);
    return 0;
  }
  if (!strcmp(what, "stresswh") && argc == 6) {
    printf("SYNTHETIC: tests/stressgen.c (independent generator)\n");
    stress_wh(argv[2], argv[3], argv[4], argv[5]);
    return 0;
  }
  printf("SYNTHETIC: project simulator (calcspec simulate), not real spectra\n");
  if (!strcmp(what, "carbonate") || !strcmp(what, "all"))
    carbonate(N);
  if (!strcmp(what, "whitlockite") || !strcmp(what, "all"))
    whitlockite(N);
  if (!strcmp(what, "com") || !strcmp(what, "all"))
    com(N);
  return 0;
}
