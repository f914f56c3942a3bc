/* model.c: classification with the PCA/LDA model: preprocessing onto the
 * model axis, posteriors, reject options and an NNLS second opinion.
 * Training is in train.c, the model file in model_io.c.
 *
 * A model is immutable once built.  Preprocessing needs a cs_pipeline, which
 * owns a smoother and so serves one thread at a time: the model keeps a small
 * pool of parsed pipelines behind a mutex, so concurrent classifications with
 * one shared model neither block on each other nor rebuild FFTW plans. */
#include "model.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int csi_model_class_name_ok(const char *s) {
  return cs_class_name_check(s, NULL) == CS_OK;
}

cs_status cs_class_name_check(const char *s, cs_error *err) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0)
    return csi_error(err, CS_ERR_ARG, "empty class name");
  if (n >= CS_CLASS_NAME_MAX)
    return csi_error(err, CS_ERR_ARG,
                     "class name '%.20s...' of %zu characters (at most %d)", s,
                     n, CS_CLASS_NAME_MAX - 1);
  if (!strcmp(s, "unknown"))
    return csi_error(err, CS_ERR_ARG,
                     "class name 'unknown' is the reject label, not a class");
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
      return csi_error(err, CS_ERR_ARG,
                       "class name '%s': only letters, digits, _ and - "
                       "(character %zu)", s, i + 1);
  return CS_OK;
}

static cs_pipeline *acquire(const cs_model *cm, cs_error *err) {
  cs_model *m = (cs_model *)cm; /* the pool is the only mutable part */
  cs_pipeline *p = NULL;
  pthread_mutex_lock(&m->lock);
  if (m->npool)
    p = m->pool[--m->npool];
  pthread_mutex_unlock(&m->lock);
  if (!p && cs_pipeline_parse(m->pipeline_text, &p, err))
    return NULL;
  return p;
}

void csi_model_release(const cs_model *cm, cs_pipeline *p) {
  cs_model *m = (cs_model *)cm;
  pthread_mutex_lock(&m->lock);
  if (m->npool < POOL_MAX) {
    m->pool[m->npool++] = p;
    p = NULL;
  }
  pthread_mutex_unlock(&m->lock);
  cs_pipeline_free(p);
}

cs_model *csi_model_alloc(void) {
  cs_model *m = calloc(1, sizeof *m);
  if (m && pthread_mutex_init(&m->lock, NULL)) {
    free(m);
    return NULL;
  }
  if (m && pthread_mutex_init(&m->det_lock, NULL)) {
    pthread_mutex_destroy(&m->lock);
    free(m);
    return NULL;
  }
  if (m)
    atomic_init(&m->det, NULL);
  return m;
}

void cs_model_free(cs_model *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->npool; i++)
    cs_pipeline_free(m->pool[i]);
  pthread_mutex_destroy(&m->lock);
  pthread_mutex_destroy(&m->det_lock);
  free(m->pipeline_text);
  csi_pca_free(&m->pca);
  csi_lda_free(&m->lda);
  free(m->refs);
  free(m->refs_gram);
  csi_detector_free(m->det);
  cs_model_free(m->alt);
  free(m);
}

cs_status csi_model_refs_gram(cs_model *m, cs_error *err) {
  free(m->refs_gram);
  m->refs_gram = malloc(m->c * m->c * sizeof *m->refs_gram);
  if (!m->refs_gram)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  csi_nnls_gram(m->refs, m->p, m->c, m->refs_gram);
  return CS_OK;
}

cs_status csi_model_detector(cs_model *m, cs_error *err) {
  if (!csi_model_detects(m))
    return CS_OK;
  size_t p = (size_t)floor((m->hi - m->lo) / m->step + 1e-9) + 1;
  csi_detector_free(atomic_exchange(&m->det, NULL));
  if (m->p && m->p != p)
    return csi_error(err, CS_ERR_MODEL, "model axis has %zu points, window "
                     "%g-%g step %g gives %zu", m->p, m->lo, m->hi, m->step, p);
  m->p = p;
  /* the cheap checks now, so a bad window still fails at load time */
  return csi_detector_check(m->technique, m->lo, m->step, p, err);
}

cs_status csi_model_get_detector(const cs_model *cm, const csi_detector **out,
                                 cs_error *err) {
  cs_model *m = (cs_model *)cm; /* det is built once, then immutable */
  return csi_detector_once(&m->det, &m->det_lock, m->technique, m->lo,
                           m->step, m->p, out, err);
}

cs_status cs_model_prepare(const cs_model *m, cs_error *err) {
  if (!m)
    return csi_error(err, CS_ERR_ARG, "no model");
  const csi_detector *d;
  if (!csi_model_detects(m))
    return CS_OK;
  cs_status st = csi_model_get_detector(m, &d, err);
  return st ? st : csi_detector_prepare(d, err);
}

cs_status csi_model_features(const cs_model *m, double *row,
                             csi_detection *det, cs_error *err) {
  memset(det, 0, sizeof *det);
  if (!csi_model_detects(m))
    return CS_OK;
  const csi_detector *d;
  cs_status st = csi_model_get_detector(m, &d, err);
  if (st)
    return st;
  double *feat = malloc(m->p * sizeof *feat);
  if (!feat)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (m->features == CS_FEATURES_MINERAL) {
    st = csi_detect(d, row, m->detect_sigma, det, feat, err);
    if (!st)
      memcpy(row, feat, m->p * sizeof *row);
  } else { /* FTIR: detection on a copy, the features stay the spectrum */
    memcpy(feat, row, m->p * sizeof *feat);
    st = csi_detect(d, feat, m->detect_sigma, det, NULL, err);
  }
  free(feat);
  return st;
}

static const char *oxalate_subtype(const cs_model *m, const double *row);

/* HA vs whitlockite (README "Classifier", step 7).  Their nu1 bands are
 * 3-6 cm^-1 apart (bands.md 0), less than an uncorrected axis drift and
 * not much more than what a tissue-referenced correction leaves (its
 * error, and carbonate moving HA's nu1 by up to 4 cm^-1), so the LDA's
 * HA/whitlockite odds, which rest mostly on the absolute nu1 position,
 * are capped at APA_LDA_CAP (log-odds; 95 %) and the spacing statistic of
 * detect.c (z, in standard errors of whitlockite's minus HA's weak-band
 * amplitude at the measured nu1, which drift does not change) is added at
 * APA_Z_WEIGHT log-odds per standard error.  2 is the Gaussian
 * log-likelihood ratio slope (mu_wht - mu_ha) / sigma^2 of z measured on
 * our simulator's HA and whitlockite (share 0.3-1, drift +-5 cm^-1): 1.5,
 * 2.2, 2.9 and 1.9 at SNR 5, 10, 20 and 50, with the midpoint at z = 0 to
 * -0.5.  The pair's total posterior is kept.  Returns 1 when it changed
 * the posteriors. */
#define APA_LDA_CAP 3.0
#define APA_Z_WEIGHT 2.0
static int apatite_split(const cs_model *m, const csi_detection *det,
                         double *post) {
  if (!det->apa_ok)
    return 0;
  size_t h = m->c, w = m->c;
  for (size_t g = 0; g < m->c; g++) {
    if (!strcmp(m->names[g], "hydroxyapatite"))
      h = g;
    if (!strcmp(m->names[g], "whitlockite"))
      w = g;
  }
  double pair = h < m->c && w < m->c ? post[h] + post[w] : 0;
  if (!(pair > 0))
    return 0;
  double lo = log((post[w] + 1e-300) / (post[h] + 1e-300));
  lo = lo > APA_LDA_CAP ? APA_LDA_CAP : lo < -APA_LDA_CAP ? -APA_LDA_CAP : lo;
  lo += APA_Z_WEIGHT * det->apa_z;
  double pw = 1 / (1 + exp(-lo));
  post[w] = pair * pw, post[h] = pair * (1 - pw);
  return 1;
}

/* The grey zone (README "Classifier"): below detect_sigma but at least
 * CSI_GREY_SIGMA, a spectrum is mineral when the best template's bands
 * away from its dominant band are there too (csi_detection.spread_t). */
static int grey_mineral(const csi_detection *det) {
  return det->snr >= CSI_GREY_SIGMA && det->spread_t >= CSI_SPREAD_T;
}

/* Rejection of the unfamiliar (README "Classifier"): a detected spectrum
 * is unknown when its residual holds a significant band (detect.c
 * unexplained) at least UB_RATIO times as strong as the main band of the
 * chosen class's own templates: its strongest band is not that class's.
 * Returns the class group (csi_detection ub_*) when that holds, else -1. */
#define UB_RATIO 2.0
static int unexplained_group(const char *cls, const csi_detection *det) {
  int g = !strcmp(cls, "oxalate")          ? 0
          : !strcmp(cls, "hydroxyapatite") ? 1
          : !strcmp(cls, "whitlockite")    ? 1
          : !strcmp(cls, "calcite")        ? 2
                                           : -1;
  if (!det->ub_ok || g < 0 || !(det->ub_ratio[g] >= UB_RATIO))
    return -1;
  return g;
}

/* The detection rule (README "Classifier"): a spectrum whose mineral
 * signal is below detect_sigma is tissue unless grey_mineral; one at or
 * above it, or grey_mineral, is never tissue: the LDA posteriors are
 * renormalised over the mineral classes.  T^2/Q rejections stand either
 * way. */
void csi_model_decide(const cs_model *m, const csi_detection *det,
                      const double *row, cs_result *r) {
  r->window_lo = m->lo, r->window_hi = m->hi;
  if (!csi_model_detects(m))
    return;
  r->detected = 1;
  r->mineral_snr = det->snr;
  r->detect_sigma = m->detect_sigma;
  r->axis_offset = det->offset;
  csi_snprintf(r->axis_ref, sizeof r->axis_ref, "%s",
               det->offset_source == CSI_OFFSET_TISSUE ? "tissue"
               : det->offset_source == CSI_OFFSET_MINERAL     ? "mineral"
                                                              : "");
  size_t tg = m->c;
  for (size_t g = 0; g < m->c; g++)
    if (!strcmp(m->names[g], "tissue"))
      tg = g;
  if (tg == m->c)
    return;
  unsigned rej = r->flags & (CS_FLAG_T2 | CS_FLAG_Q);
  size_t best = tg;
  int ub = -1;
  if (det->snr < m->detect_sigma && !grey_mineral(det)) {
    r->flags &= ~(unsigned)CS_FLAG_LOW_POSTERIOR;
  } else {
    double sum = 0;
    for (size_t g = 0; g < m->c; g++)
      if (g != tg)
        sum += r->posterior[g];
    best = tg == 0 ? 1 : 0;
    for (size_t g = 0; g < m->c; g++) {
      if (g == tg)
        continue;
      r->posterior[g] = sum > 0 ? r->posterior[g] / sum : 1.0 / (double)(m->c - 1);
      if (r->posterior[g] > r->posterior[best])
        best = g;
    }
    r->posterior[tg] = 0;
    if (apatite_split(m, det, r->posterior))
      for (size_t g = 0; g < m->c; g++)
        if (g != tg && r->posterior[g] > r->posterior[best])
          best = g;
    r->flags &= ~(unsigned)CS_FLAG_LOW_POSTERIOR;
    if (r->posterior[best] < m->min_posterior)
      r->flags |= CS_FLAG_LOW_POSTERIOR;
    ub = unexplained_group(m->names[best], det);
    if (ub >= 0)
      r->flags |= CS_FLAG_UNEXPLAINED;
  }
  csi_snprintf(r->best, sizeof r->best, "%s", m->names[best]);
  /* the reason text is rebuilt from the final flags */
  char *why = r->reason;
  size_t room = sizeof r->reason;
  why[0] = '\0';
  if (rej & CS_FLAG_T2) {
    int k = csi_snprintf(why, room, "T2 %.3g > limit %.3g", r->t2, r->t2_limit);
    why += k, room -= (size_t)k;
  }
  if (rej & CS_FLAG_Q) {
    int k = csi_snprintf(why, room, "%sQ %.3g > limit %.3g",
                         why == r->reason ? "" : "; ", r->q, r->q_limit);
    why += k, room -= (size_t)k;
  }
  if (r->flags & CS_FLAG_LOW_POSTERIOR) {
    int k = csi_snprintf(why, room, "%sposterior %.3f < %.3g",
                         why == r->reason ? "" : "; ", r->posterior[best],
                         m->min_posterior);
    if (k > 0 && (size_t)k >= room) /* truncated: stay on the NUL */
      k = (int)room - 1;
    why += k, room -= (size_t)k;
  }
  if (ub >= 0)
    csi_snprintf(why, room, "%sband at %.0f cm^-1 unexplained by %s (t %.3g, "
                 "%.2f x its main band)", why == r->reason ? "" : "; ",
                 det->ub_pos[ub], m->names[best], det->ub_t[ub],
                 det->ub_ratio[ub]);
  if (r->flags & (CS_FLAG_T2 | CS_FLAG_Q | CS_FLAG_LOW_POSTERIOR |
                  CS_FLAG_UNEXPLAINED))
    csi_snprintf(r->label, sizeof r->label, "unknown");
  else
    csi_snprintf(r->label, sizeof r->label, "%s", m->names[best]);
  /* subtype: the better of the COD and COM templates (whole band sets,
   * 1476 vs 1463/1490 and 910 vs 896), which tissue bands do not bias */
  if (m->features != CS_FEATURES_MINERAL) /* FTIR: as csi_model_score */
    csi_snprintf(r->subtype, sizeof r->subtype, "%s",
                 strcmp(r->best, "oxalate") ? "" : oxalate_subtype(m, row));
  else
    csi_snprintf(r->subtype, sizeof r->subtype, "%s",
                 strcmp(r->best, "oxalate")           ? ""
                 : det->tmpl_t[1] > det->tmpl_t[0]    ? "COM"
                                                      : "COD");
}

/* Preprocess one spectrum onto the model axis: row[p]. */
static cs_status preprocess(const cs_model *m, cs_pipeline *pl,
                            const cs_spectrum *s, double *row, cs_error *err) {
  if (s->technique != CS_TECH_UNKNOWN && s->technique != m->technique)
    return csi_error(err, CS_ERR_ARG, "%s spectrum, but this is a %s model",
                     cs_technique_name(s->technique),
                     cs_technique_name(m->technique));
  /* A constant spectrum (in the window when the axis is the model's) is
   * refused here: through the pipeline it failed in a baseline fit
   * ("rank deficient"), or came out classified with rounding noise as its
   * signal, depending on the constant. */
  int win = s->axis == (m->technique == CS_TECH_FTIR ? CS_AXIS_WAVENUMBER
                                                     : CS_AXIS_RAMAN_SHIFT);
  double y0 = 0;
  size_t k = 0, i = 0;
  for (; i < s->n; i++) {
    if (win && !(s->x[i] >= m->lo && s->x[i] <= m->hi))
      continue;
    if (k++ == 0)
      y0 = s->y[i];
    else if (s->y[i] != y0)
      break;
  }
  if (i == s->n && k > 1)
    return csi_error(err, CS_ERR_NUMERIC, "flat spectrum (%g everywhere in "
                     "the window): no signal to classify", y0);
  cs_spectrum *out = NULL;
  cs_status st = cs_pipeline_apply(pl, s, &out, NULL, err);
  if (st == CS_ERR_RANGE)
    csi_error_prefix(err, "does not cover the model window %g-%g cm^-1",
                     m->lo, m->hi);
  if (st)
    return st;
  if (out->n != m->p) {
    cs_spectrum_free(out);
    return csi_error(err, CS_ERR_DIM, "preprocessing gave %zu points, model "
                     "axis has %zu", out->n, m->p);
  }
  memcpy(row, out->y, m->p * sizeof *row);
  cs_spectrum_free(out);
  return CS_OK;
}

/* COD vs COM from the oxalate nu(C-C) band: whewellite 895-896, weddellite
 * 910-912 cm^-1 (src/bands.md 1A).  The two overlap once
 * broadened, so the intensity-weighted centre of 886-921 cm^-1 above its
 * minimum decides, split halfway at 903.5. */
static const char *oxalate_subtype(const cs_model *m, const double *row) {
  double lo = INFINITY, sw = 0, swx = 0;
  for (size_t j = 0; j < m->p; j++) {
    double x = m->lo + m->step * (double)j;
    if (x >= 886 && x <= 921 && row[j] < lo)
      lo = row[j];
  }
  if (!isfinite(lo))
    return "";
  for (size_t j = 0; j < m->p; j++) {
    double x = m->lo + m->step * (double)j;
    if (x >= 886 && x <= 921)
      sw += row[j] - lo, swx += (row[j] - lo) * x;
  }
  if (!(sw > 0))
    return "";
  return swx / sw < 903.5 ? "COM" : "COD";
}

/* Noise variance of a preprocessed row from the second differences
 * (variance 6 sigma^2 for white noise), robust to bands through the median
 * absolute deviation. */
double csi_model_noise_var(const double *row, size_t p) {
  double *d = malloc(p * sizeof *d);
  if (!d || p < 5) {
    free(d);
    return 0;
  }
  size_t n = 0;
  /* points exactly 0 are outside the feature windows of a mineral-feature
   * row (detect.c): they carry no noise */
  for (size_t j = 1; j + 1 < p; j++)
    if (row[j - 1] != 0 && row[j] != 0 && row[j + 1] != 0)
      d[n++] = fabs(row[j - 1] - 2 * row[j] + row[j + 1]);
  if (n < 3) {
    free(d);
    return 0;
  }
  double med = csi_median(d, n);
  free(d);
  double sigma = 1.4826 * med / sqrt(6.0);
  return sigma * sigma;
}

/* The residual statistic compared with the limit: Q over the residual that
 * noise alone leaves, p sigma^2, floored at the training spectra's median
 * of it.  Noisy but otherwise familiar spectra are not rejected for their
 * noise, and very clean spectra (processed references) are judged against
 * the typical training noise instead of their own tiny one. */
static double q_stat(double q, double noise_floor, const double *row,
                     size_t p) {
  double v = csi_model_noise_var(row, p) * (double)p;
  if (v < noise_floor)
    v = noise_floor;
  v += csi_model_shape_var(row, p);
  return q / (v > 1e-300 ? v : 1e-300);
}

/* Residual that a familiar spectrum may leave by shape alone: band
 * positions a few cm^-1 and widths tens of % apart between instruments,
 * sampling modes (ATR vs transmission) and our simulator leave a residual
 * of several % of the signal, which is no reason to call a clean spectrum
 * unfamiliar (issue 13: clean spectra of known classes were rejected by Q
 * at high SNR while noisy ones passed).  CSI_Q_SHAPE_ERR of the row's
 * root-sum-square, squared.  Added when scoring only: the limit is learnt
 * on spectra of the model's own simulator, which have no such error, so
 * it measures the noise and this term the shapes training cannot show. */
double csi_model_shape_var(const double *row, size_t p) {
  double ss = 0;
  for (size_t j = 0; j < p; j++)
    ss += row[j] * row[j];
  return CSI_Q_SHAPE_ERR * CSI_Q_SHAPE_ERR * ss;
}

/* Score a preprocessed row. */
cs_status csi_model_score(const cs_model *m, const double *row,
                          cs_result *r, cs_error *err) {
  double t[64];
  if (m->pca.k > sizeof t / sizeof *t)
    return csi_error(err, CS_ERR_MODEL, "too many components (%zu)", m->pca.k);
  memset(r, 0, sizeof *r);
  r->nclass = m->c;
  csi_pca_project(&m->pca, row, t, &r->t2, &r->q);
  r->q = q_stat(r->q, m->noise_floor, row, m->p);
  r->t2_limit = m->t2_limit;
  r->q_limit = m->q_limit;
  /* A class's posterior is the sum over its sub-classes, each weighted by
   * its share of the class (the mixture of Hastie & Tibshirani 1996). */
  double lp[MAX_SUB], ps[MAX_SUB];
  for (size_t s = 0; s < m->ns; s++)
    lp[s] = m->log_prior[m->sub_class[s]] + m->sub_logw[s];
  csi_lda_posteriors(&m->lda, lp, t, ps, NULL);
  for (size_t s = 0; s < m->ns; s++)
    r->posterior[m->sub_class[s]] += ps[s];
  size_t best = 0;
  for (size_t g = 1; g < m->c; g++)
    if (r->posterior[g] > r->posterior[best])
      best = g;
  csi_snprintf(r->best, sizeof r->best, "%s", m->names[best]);
  /* NNLS second opinion on the pure-component references */
  double frac[CS_MAX_CLASSES], rn;
  cs_status st = csi_nnls(m->refs, m->refs_gram, m->p, m->c, row, frac, &rn, err);
  if (st)
    return st;
  double sum = 0, ss = 0, mean = 0;
  for (size_t g = 0; g < m->c; g++)
    sum += frac[g];
  for (size_t j = 0; j < m->p; j++)
    mean += row[j];
  mean /= (double)m->p;
  for (size_t j = 0; j < m->p; j++)
    ss += (row[j] - mean) * (row[j] - mean);
  size_t nbest = 0;
  for (size_t g = 0; g < m->c; g++) {
    r->nnls[g] = sum > 0 ? frac[g] / sum : 0;
    if (r->nnls[g] > r->nnls[nbest])
      nbest = g;
  }
  r->nnls_r2 = ss > 0 ? 1 - rn * rn / ss : 0;
  if (sum > 0 && nbest != best)
    r->flags |= CS_FLAG_DISAGREE;
  /* reject options */
  char *why = r->reason;
  size_t room = sizeof r->reason;
  if (r->t2 > m->t2_limit) {
    r->flags |= CS_FLAG_T2;
    int k = csi_snprintf(why, room, "T2 %.3g > limit %.3g", r->t2, m->t2_limit);
    why += k, room -= (size_t)k;
  }
  if (r->q > m->q_limit) {
    r->flags |= CS_FLAG_Q;
    int k = csi_snprintf(why, room, "%sQ %.3g > limit %.3g",
                     why == r->reason ? "" : "; ", r->q, m->q_limit);
    why += k, room -= (size_t)k;
  }
  if (r->posterior[best] < m->min_posterior) {
    r->flags |= CS_FLAG_LOW_POSTERIOR;
    csi_snprintf(why, room, "%sposterior %.3f < %.3g", why == r->reason ? "" : "; ",
             r->posterior[best], m->min_posterior);
  }
  if (r->flags & (CS_FLAG_T2 | CS_FLAG_Q | CS_FLAG_LOW_POSTERIOR))
    csi_snprintf(r->label, sizeof r->label, "unknown");
  else
    csi_snprintf(r->label, sizeof r->label, "%s", m->names[best]);
  if (!strcmp(r->best, "oxalate"))
    csi_snprintf(r->subtype, sizeof r->subtype, "%s", oxalate_subtype(m, row));
  for (size_t g = 0; g < m->c; g++)
    if (!isfinite(r->posterior[g]) || !isfinite(r->nnls[g]))
      return csi_error(err, CS_ERR_NUMERIC, "non-finite classifier output");
  if (!isfinite(r->t2) || !isfinite(r->q))
    return csi_error(err, CS_ERR_NUMERIC, "non-finite T2 or Q");
  return CS_OK;
}

/* COD vs COM, where the spectrum covers 1420-1500 cm^-1: the side of 0.5
 * of the Kontoyannis COM fraction (composition.c, bands.md 2.3), so the
 * subtype always agrees with the com_frac that --composition reports.  Its
 * fit carries the tissue CH2 band at ~1445, which the template t values
 * (and the nu(C-C) centroid) do not: tissue there pulled COD towards COM.
 * The template subtype stays where the fit cannot be made. */
static void oxalate_subtype_kontoyannis(const cs_model *m, const cs_spectrum *s,
                                        cs_result *r, cs_composition *ox,
                                        int *have_ox) {
  if (m->technique != CS_TECH_RAMAN || strcmp(r->best, "oxalate"))
    return;
  cs_composition c0, *c = ox ? ox : &c0;
  cs_error e2;
  if (cs_composition_measure(s, "oxalate", NULL, c, &e2) != CS_OK)
    return;
  if (have_ox) /* kept for cs_report_composition (classify.c) */
    *have_ox = 1;
  if ((c->valid & CS_COMP_COM) && isfinite(c->com_frac))
    csi_snprintf(r->subtype, sizeof r->subtype, "%s", c->com_frac >= 0.5 ? "COM" : "COD");
}

static cs_status classify_one(const cs_model *m, const cs_spectrum *s,
                              cs_result *r, cs_composition *ox, int *have_ox,
                              cs_error *err) {
  memset(r, 0, sizeof *r);
  if (have_ox)
    *have_ox = 0;
  double *row = malloc(m->p * sizeof *row);
  if (!row)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_pipeline *pl = acquire(m, err);
  cs_status st = pl ? preprocess(m, pl, s, row, err) : CS_ERR_MODEL;
  if (pl)
    csi_model_release(m, pl);
  csi_detection det;
  if (!st)
    st = csi_model_features(m, row, &det, err);
  if (!st)
    st = csi_model_score(m, row, r, err);
  if (!st)
    csi_model_decide(m, &det, row, r);
  free(row);
  if (!st)
    oxalate_subtype_kontoyannis(m, s, r, ox, have_ox);
  return st;
}

/* A chain of models (embedded defaults): the first whose window the
 * spectrum covers; the error of the first model when none does. */
cs_status csi_model_classify(const cs_model *m, const cs_spectrum *s,
                             cs_result *r, cs_composition *ox, int *have_ox,
                             cs_error *err) {
  cs_status st = classify_one(m, s, r, ox, have_ox, err);
  if (st != CS_ERR_RANGE)
    return st;
  for (const cs_model *a = m->alt; a; a = a->alt) {
    cs_error e2;
    if (!classify_one(a, s, r, ox, have_ox, &e2))
      return CS_OK;
  }
  memset(r, 0, sizeof *r);
  if (have_ox)
    *have_ox = 0;
  return st;
}

cs_status cs_model_classify(const cs_model *m, const cs_spectrum *s,
                            cs_result *r, cs_error *err) {
  return csi_model_classify(m, s, r, NULL, NULL, err);
}


/* ---- accessors ---- */

cs_technique cs_model_technique(const cs_model *m) { return m->technique; }
size_t cs_model_class_count(const cs_model *m) { return m->c; }
const char *cs_model_class_name(const cs_model *m, size_t i) {
  return i < m->c ? m->names[i] : NULL;
}
void cs_model_window(const cs_model *m, double *lo, double *hi) {
  *lo = m->lo;
  *hi = m->hi;
}
size_t cs_model_components(const cs_model *m) { return m->pca.k; }
const char *cs_model_pipeline(const cs_model *m) { return m->pipeline_text; }
