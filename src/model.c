/* model.c: the PCA/LDA classifier: training, classification with reject
 * options and an NNLS second opinion, and the plain-text model file.
 *
 * A model is immutable once built.  Preprocessing needs a cs_pipeline, which
 * owns a smoother and so serves one thread at a time: the model keeps a small
 * pool of parsed pipelines behind a mutex, so concurrent classifications with
 * one shared model neither block on each other nor rebuild FFTW plans. */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define POOL_MAX 8
#define MAX_SUB 128      /* LDA groups: sub-classes of all classes */
#define MAX_PER_CLASS 8  /* sub-classes of one class */
#define MIN_SUB_SIZE 10  /* spectra per sub-class, at least */

struct cs_model {
  cs_technique technique;
  char *pipeline_text; /* canonical, includes crop and resample */
  double lo, hi, step;
  size_t p;            /* points on the model axis */
  size_t c;            /* classes */
  char names[CS_MAX_CLASSES][CS_CLASS_NAME_MAX];
  double log_prior[CS_MAX_CLASSES];
  size_t n_train[CS_MAX_CLASSES];
  csi_pca pca;
  csi_lda lda; /* over the ns sub-classes */
  size_t ns;   /* mixture sub-classes (LDA groups), >= c */
  int sub_class[MAX_SUB];  /* class of each sub-class */
  double sub_logw[MAX_SUB]; /* log share of its class's training spectra */
  double t2_limit, q_limit, min_posterior;
  double noise_floor; /* median p sigma^2 of the training spectra */
  double *refs; /* c x p pure-component references (class means) */
  /* training summary, kept for the record */
  size_t n_spectra;
  double train_accuracy;
  /* pipeline pool */
  pthread_mutex_t lock;
  cs_pipeline *pool[POOL_MAX];
  size_t npool;
};

/* Preferred output order of the known classes; others follow by name. */
static const char *const known_order[] = {"oxalate", "hydroxyapatite",
                                          "whitlockite", "calcite", "tissue"};

static int class_rank(const char *name) {
  for (size_t i = 0; i < sizeof known_order / sizeof *known_order; i++)
    if (!strcmp(name, known_order[i]))
      return (int)i;
  return 100;
}

static int valid_class_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n >= CS_CLASS_NAME_MAX || !strcmp(s, "unknown"))
    return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
      return 0;
  return 1;
}

cs_train_opts cs_train_opts_default(cs_technique t) {
  cs_train_opts o;
  memset(&o, 0, sizeof o);
  o.lo = t == CS_TECH_FTIR ? 800 : 400;
  o.hi = 1800;
  o.step = 2;
  o.preprocess = NULL;
  o.components = 0;
  o.explained = 0.999;
  o.max_components = 30;
  o.shrinkage = -1;
  o.limit_quantile = 0.99;
  o.limit_scale = 3;
  o.min_posterior = 0.6;
  o.equal_priors = 1;
  o.subclasses = 4;
  return o;
}

/* Default preprocessing between crop and resample (README "Classifier"):
 * Raman: cosmic spikes, the IModPoly baseline of biological Raman (Zhao
 * 2007; 5th order as Lieber & Mahadevan-Jansen 2003) and SNV; FTIR: a
 * gentle arPLS for baseline drift, then SNV.  No smoothing: its window is
 * in pixels, so it would broaden bands by an amount that depends on the
 * instrument's pixel pitch (17 cm^-1 on the library, 5 on RRUFF 532 nm
 * data), and the PCA projection already removes the noise. */
static const char *default_steps(cs_technique t) {
  return t == CS_TECH_FTIR ? "baseline arpls:lam=1e5\nnormalise snv\n"
                           : "spikes 6:3\nbaseline imodpoly:poly_order=5\n"
                             "normalise snv\n";
}

static cs_status build_pipeline(cs_technique t, const cs_train_opts *o,
                                char **text, cs_error *err) {
  cs_pipeline *p;
  cs_status st = cs_pipeline_parse(o->preprocess ? o->preprocess
                                                 : default_steps(t),
                                   &p, err);
  if (st) {
    csi_error_prefix(err, "preprocessing steps");
    return st;
  }
  st = cs_pipeline_set_crop(p, o->lo, o->hi, err);
  if (!st)
    st = cs_pipeline_set_resample(p, o->lo, o->hi, o->step, CS_INTERP_LINEAR,
                                  err);
  if (!st)
    st = cs_pipeline_format(p, text, err);
  cs_pipeline_free(p);
  return st;
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

static void release(const cs_model *cm, cs_pipeline *p) {
  cs_model *m = (cs_model *)cm;
  pthread_mutex_lock(&m->lock);
  if (m->npool < POOL_MAX) {
    m->pool[m->npool++] = p;
    p = NULL;
  }
  pthread_mutex_unlock(&m->lock);
  cs_pipeline_free(p);
}

static cs_model *model_alloc(void) {
  cs_model *m = calloc(1, sizeof *m);
  if (m && pthread_mutex_init(&m->lock, NULL)) {
    free(m);
    return NULL;
  }
  return m;
}

void cs_model_free(cs_model *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->npool; i++)
    cs_pipeline_free(m->pool[i]);
  pthread_mutex_destroy(&m->lock);
  free(m->pipeline_text);
  csi_pca_free(&m->pca);
  csi_lda_free(&m->lda);
  free(m->refs);
  free(m);
}

/* Preprocess one spectrum onto the model axis: row[p]. */
static cs_status preprocess(const cs_model *m, cs_pipeline *pl,
                            const cs_spectrum *s, double *row, cs_error *err) {
  if (s->technique != CS_TECH_UNKNOWN && s->technique != m->technique)
    return csi_error(err, CS_ERR_ARG, "%s spectrum, but this is a %s model",
                     cs_technique_name(s->technique),
                     cs_technique_name(m->technique));
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
 * 910-912 cm^-1 (../shared/domain/bands.md 1A).  The two overlap once
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

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Empirical quantile (linear between order statistics); sorts v. */
static double quantile(double *v, size_t n, double q) {
  qsort(v, n, sizeof *v, cmp_double);
  double pos = q * (double)(n - 1);
  size_t i = (size_t)pos;
  if (i + 1 >= n)
    return v[n - 1];
  return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

/* Noise variance of a preprocessed row from the second differences
 * (variance 6 sigma^2 for white noise), robust to bands through the median
 * absolute deviation. */
static double noise_var(const double *row, size_t p) {
  double *d = malloc(p * sizeof *d);
  if (!d || p < 5) {
    free(d);
    return 0;
  }
  size_t n = 0;
  for (size_t j = 1; j + 1 < p; j++)
    d[n++] = fabs(row[j - 1] - 2 * row[j] + row[j + 1]);
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
  double v = noise_var(row, p) * (double)p;
  if (v < noise_floor)
    v = noise_floor;
  return q / (v > 1e-300 ? v : 1e-300);
}

/* Score a preprocessed row. */
static cs_status score(const cs_model *m, const double *row, cs_result *r,
                       cs_error *err) {
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
  cs_status st = csi_nnls(m->refs, m->p, m->c, row, frac, &rn, err);
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

cs_status cs_model_classify(const cs_model *m, const cs_spectrum *s,
                            cs_result *r, cs_error *err) {
  memset(r, 0, sizeof *r);
  double *row = malloc(m->p * sizeof *row);
  if (!row)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_pipeline *pl = acquire(m, err);
  cs_status st = pl ? preprocess(m, pl, s, row, err) : CS_ERR_MODEL;
  if (pl)
    release(m, pl);
  if (!st)
    st = score(m, row, r, err);
  free(row);
  return st;
}

static const char *label_of(const cs_spectrum *s) {
  const char *c = cs_spectrum_meta(s, "class");
  return c ? c : cs_spectrum_meta(s, "truth.class");
}

static int cmp_class(const void *a, const void *b) {
  const char *x = a, *y = b;
  int rx = class_rank(x), ry = class_rank(y);
  return rx != ry ? rx - ry : strcmp(x, y);
}

/* Classes of the training labels in output order; label[i] gets the
 * index.  CS_ERR_ARG for missing or invalid names. */
static cs_status map_classes(const cs_dataset *ds, const char *const *labels,
                             char names[][CS_CLASS_NAME_MAX], size_t *nc,
                             int *label, cs_error *err) {
  size_t n = ds->n, c = 0;
  for (size_t i = 0; i < n; i++) {
    const char *l = labels ? labels[i] : label_of(ds->items[i]);
    if (!l)
      return csi_error(err, CS_ERR_ARG, "spectrum %zu has no class label", i);
    if (!valid_class_name(l))
      return csi_error(err, CS_ERR_ARG, "spectrum %zu: invalid class name '%s'",
                       i, l);
    size_t g = 0;
    while (g < c && strcmp(names[g], l))
      g++;
    if (g == c) {
      if (c == CS_MAX_CLASSES)
        return csi_error(err, CS_ERR_ARG, "more than %d classes",
                         CS_MAX_CLASSES);
      csi_snprintf(names[c++], CS_CLASS_NAME_MAX, "%s", l);
    }
  }
  qsort(names, c, CS_CLASS_NAME_MAX, cmp_class);
  for (size_t i = 0; i < n; i++) {
    const char *l = labels ? labels[i] : label_of(ds->items[i]);
    for (size_t g = 0; g < c; g++)
      if (!strcmp(names[g], l))
        label[i] = (int)g;
  }
  *nc = c;
  return CS_OK;
}

/* Check options and the technique shared by every spectrum. */
static cs_status check_training(const cs_dataset *ds, const cs_train_opts *o,
                                cs_technique *tech, cs_error *err) {
  size_t n = ds ? ds->n : 0;
  if (n < 4)
    return csi_error(err, CS_ERR_ARG, "need at least 4 training spectra, got %zu", n);
  if (!(o->lo < o->hi) || !(o->step > 0) || (o->hi - o->lo) / o->step > 65536)
    return csi_error(err, CS_ERR_ARG, "bad model window %g:%g step %g", o->lo,
                     o->hi, o->step);
  if (!(o->explained > 0 && o->explained <= 1) || o->limit_quantile <= 0 ||
      o->limit_quantile > 1 || o->limit_scale <= 0 || o->min_posterior < 0 ||
      o->min_posterior > 1 || o->shrinkage > 1 || o->subclasses < 1 ||
      o->subclasses > MAX_PER_CLASS)
    return csi_error(err, CS_ERR_ARG, "training option out of range");
  *tech = ds->items[0]->technique;
  for (size_t i = 0; i < n; i++)
    if (ds->items[i]->technique != *tech)
      return csi_error(err, CS_ERR_ARG,
                       "spectrum %zu is %s but spectrum 0 is %s: train Raman "
                       "and FTIR models separately", i,
                       cs_technique_name(ds->items[i]->technique),
                       cs_technique_name(*tech));
  if (*tech == CS_TECH_UNKNOWN)
    return csi_error(err, CS_ERR_ARG, "technique of the training spectra is "
                     "unknown (Raman or FTIR needed)");
  return CS_OK;
}

/* Preprocess every spectrum of ds with the pipeline text into x (n x p,
 * column-major, malloc'd). */
static cs_status prep_matrix(const cs_dataset *ds, const char *text,
                             double **xout, size_t *pout, cs_error *err) {
  cs_pipeline *pl;
  size_t n = ds->n, p = 0;
  double *x = NULL;
  *xout = NULL;
  cs_status st = cs_pipeline_parse(text, &pl, err);
  for (size_t i = 0; i < n && !st; i++) {
    cs_spectrum *pre;
    if ((st = cs_pipeline_apply(pl, ds->items[i], &pre, NULL, err))) {
      csi_error_prefix(err, "training spectrum %zu", i);
      break;
    }
    if (i == 0) {
      p = pre->n;
      if (!(x = malloc(n * p * sizeof *x)))
        st = csi_error(err, CS_ERR_NOMEM, "out of memory (%zu x %zu)", n, p);
    } else if (pre->n != p) {
      st = csi_error(err, CS_ERR_DIM, "training spectrum %zu: %zu points, "
                     "expected %zu", i, pre->n, p);
    }
    for (size_t j = 0; !st && j < p; j++)
      x[j * n + i] = pre->y[j];
    cs_spectrum_free(pre);
  }
  if (!st && p < 2)
    st = csi_error(err, CS_ERR_DIM, "the model window holds %zu points", p);
  cs_pipeline_free(pl);
  if (st) {
    free(x);
    return st;
  }
  *xout = x;
  *pout = p;
  return CS_OK;
}

static double dist2(const double *t, size_t n, size_t k, size_t i,
                    const double *c) {
  double d = 0;
  for (size_t a = 0; a < k; a++)
    d += (t[a * n + i] - c[a]) * (t[a * n + i] - c[a]);
  return d;
}

/* k-means (Lloyd) of the nm spectra idx[] of one class in the PCA score
 * space t (n x k), started from r equal-count slices along the class's
 * leading axis, so the result is deterministic.  Clusters smaller than
 * MIN_SUB_SIZE are dissolved into the others.  cl[i] gets the cluster of
 * idx[i]; returns the number of clusters (>= 1).  cen and u are scratch
 * (r*k and nm + k doubles), ord nm size_t. */
static size_t kmeans(const double *t, size_t n, size_t k, const size_t *idx,
                     size_t nm, size_t r, int *cl, double *cen, double *u,
                     size_t *ord) {
  double *v = u + nm, mean[64] = {0};
  for (size_t i = 0; i < nm; i++)
    for (size_t a = 0; a < k; a++)
      mean[a] += t[a * n + idx[i]] / (double)nm;
  /* leading within-class axis by power iteration, from the spectrum
   * farthest from the class mean */
  size_t far = 0;
  for (size_t i = 1; i < nm; i++)
    if (dist2(t, n, k, idx[i], mean) > dist2(t, n, k, idx[far], mean))
      far = i;
  for (size_t a = 0; a < k; a++)
    v[a] = t[a * n + idx[far]] - mean[a];
  for (int it = 0; it < 100; it++) {
    double w[64] = {0}, norm = 0;
    for (size_t i = 0; i < nm; i++) {
      double z = 0;
      for (size_t a = 0; a < k; a++)
        z += (t[a * n + idx[i]] - mean[a]) * v[a];
      for (size_t a = 0; a < k; a++)
        w[a] += z * (t[a * n + idx[i]] - mean[a]);
    }
    for (size_t a = 0; a < k; a++)
      norm += w[a] * w[a];
    if (!(norm > 0))
      break;
    for (size_t a = 0; a < k; a++)
      v[a] = w[a] / sqrt(norm);
  }
  for (size_t i = 0; i < nm; i++) {
    u[i] = 0;
    for (size_t a = 0; a < k; a++)
      u[i] += (t[a * n + idx[i]] - mean[a]) * v[a];
  }
  /* order by the projection (insertion sort: one class, a few hundred) */
  for (size_t i = 0; i < nm; i++) {
    size_t j = i;
    for (; j > 0 && u[ord[j - 1]] > u[i]; j--)
      ord[j] = ord[j - 1];
    ord[j] = i;
  }
  for (size_t j = 0; j < nm; j++)
    cl[ord[j]] = (int)(j * r / nm);
  for (;;) {
    for (int it = 0; it < 200; it++) {
      size_t cnt[MAX_PER_CLASS] = {0};
      memset(cen, 0, r * k * sizeof *cen);
      for (size_t i = 0; i < nm; i++) {
        cnt[cl[i]]++;
        for (size_t a = 0; a < k; a++)
          cen[(size_t)cl[i] * k + a] += t[a * n + idx[i]];
      }
      for (size_t c = 0; c < r; c++)
        for (size_t a = 0; a < k; a++)
          cen[c * k + a] /= cnt[c] ? (double)cnt[c] : 1;
      int moved = 0;
      for (size_t i = 0; i < nm; i++) {
        size_t b = (size_t)cl[i];
        double db = cnt[b] ? dist2(t, n, k, idx[i], cen + b * k) : INFINITY;
        for (size_t c = 0; c < r; c++) {
          double d = cnt[c] ? dist2(t, n, k, idx[i], cen + c * k) : INFINITY;
          if (d < db)
            db = d, b = c;
        }
        moved |= b != (size_t)cl[i];
        cl[i] = (int)b;
      }
      if (!moved)
        break;
    }
    size_t cnt[MAX_PER_CLASS] = {0}, small = r;
    for (size_t i = 0; i < nm; i++)
      cnt[cl[i]]++;
    for (size_t c = 0; c < r; c++)
      if (cnt[c] < MIN_SUB_SIZE && (small == r || cnt[c] < cnt[small]))
        small = c;
    if (small == r || r == 1)
      return r;
    /* dissolve the smallest cluster: its spectra go to the nearest other
     * centre, the later clusters move down one index */
    for (size_t i = 0; i < nm; i++) {
      if ((size_t)cl[i] == small) {
        size_t b = small;
        double db = INFINITY;
        for (size_t c = 0; c < r; c++) {
          double d = dist2(t, n, k, idx[i], cen + c * k);
          if (c != small && cnt[c] && d < db)
            db = d, b = c;
        }
        cl[i] = (int)b;
      }
    }
    for (size_t i = 0; i < nm; i++)
      cl[i] -= (size_t)cl[i] > small;
    memmove(cen + small * k, cen + (small + 1) * k,
            (r - small - 1) * k * sizeof *cen);
    r--;
  }
}

/* Mixture sub-classes (Hastie & Tibshirani 1996, J. R. Stat. Soc. B
 * 58:155, with k-means in place of EM): a class whose spectra run from a
 * trace of mineral in tissue to pure mineral, at any SNR, is no single
 * Gaussian, and one pooled covariance stretched along that range calls
 * small mineral shares tissue.  Each class gets up to `per_class`
 * sub-classes, at most one per 2 * MIN_SUB_SIZE spectra; sub[i] receives
 * the sub-class of spectrum i and m->ns, sub_class, sub_logw are set. */
static cs_status find_subclasses(cs_model *m, const double *t, size_t n,
                                 size_t k, const int *label, size_t per_class,
                                 int *sub, cs_error *err) {
  size_t *idx = malloc(n * sizeof *idx), *ord = malloc(n * sizeof *ord);
  int *cl = malloc(n * sizeof *cl);
  double *cen = malloc(MAX_PER_CLASS * k * sizeof *cen);
  double *u = malloc((n + k) * sizeof *u);
  cs_status st = CS_OK;
  if (!idx || !ord || !cl || !cen || !u) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  m->ns = 0;
  for (size_t g = 0; g < m->c; g++) {
    size_t nm = 0;
    for (size_t i = 0; i < n; i++)
      if ((size_t)label[i] == g)
        idx[nm++] = i;
    size_t r = nm / (2 * MIN_SUB_SIZE);
    if (r > per_class)
      r = per_class;
    if (r < 1)
      r = 1;
    r = kmeans(t, n, k, idx, nm, r, cl, cen, u, ord);
    for (size_t c = 0; c < r; c++) {
      size_t cnt = 0;
      for (size_t i = 0; i < nm; i++)
        if ((size_t)cl[i] == c)
          sub[idx[i]] = (int)m->ns, cnt++;
      m->sub_class[m->ns] = (int)g;
      m->sub_logw[m->ns] = log((double)cnt / (double)nm);
      m->ns++;
    }
  }
done:
  free(idx), free(ord), free(cl), free(cen), free(u);
  return st;
}

/* Fit PCA, LDA, limits and references on the n rows of x (column-major,
 * leading dimension ld) selected by `use` (NULL = all).  m must have
 * technique, window, pipeline, classes and names set. */
static cs_status fit(cs_model *m, const double *x, size_t ld, size_t p,
                     const int *label_all, const unsigned char *use,
                     const cs_train_opts *o, cs_error *err) {
  size_t n = 0;
  for (size_t i = 0; i < ld; i++)
    n += !use || use[i];
  m->p = p;
  double *xs = malloc(n * p * sizeof *xs), *row = malloc(p * sizeof *row);
  int *label = malloc(n * sizeof *label), *sub = malloc(n * sizeof *sub);
  double *t = NULL, *t2v = malloc(n * sizeof *t2v), *qv = malloc(n * sizeof *qv);
  double *noise = malloc(n * sizeof *noise);
  m->refs = calloc(m->c * p, sizeof *m->refs);
  cs_status st = CS_OK;
  if (!xs || !row || !label || !sub || !t2v || !qv || !noise || !m->refs) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  memset(m->n_train, 0, sizeof m->n_train);
  for (size_t i = 0, r = 0; i < ld; i++) {
    if (use && !use[i])
      continue;
    for (size_t j = 0; j < p; j++)
      xs[j * n + r] = x[j * ld + i];
    label[r] = label_all[i];
    m->n_train[label[r]]++;
    r++;
  }
  for (size_t g = 0; g < m->c; g++) {
    if (m->n_train[g] < 2) {
      st = csi_error(err, CS_ERR_ARG, "class '%s' has %zu training spectra "
                     "(need at least 2)", m->names[g], m->n_train[g]);
      goto done;
    }
    m->log_prior[g] = o->equal_priors ? -log((double)m->c)
                                      : log((double)m->n_train[g] / (double)n);
  }
  size_t kcap = o->components ? o->components : o->max_components;
  if (kcap == 0 || kcap > 64)
    kcap = 64;
  /* Chosen by variance, keep at most one component per 5 training spectra:
   * with nearly as many components as spectra the training residuals vanish
   * and the reject limits learnt from them would refuse everything new. */
  if (!o->components && kcap > n / 5)
    kcap = n / 5 > 2 ? n / 5 : 2;
  st = csi_pca_fit(xs, n, p, o->components, o->explained, kcap, &m->pca, err);
  if (st)
    goto done;
  size_t k = m->pca.k;
  if (!(t = malloc(n * k * sizeof *t))) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  double tk[64];
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < p; j++)
      row[j] = xs[j * n + i];
    csi_pca_project(&m->pca, row, tk, &t2v[i], &qv[i]);
    noise[i] = noise_var(row, p) * (double)p;
    for (size_t a = 0; a < k; a++)
      t[a * n + i] = tk[a];
    for (size_t j = 0; j < p; j++)
      m->refs[(size_t)label[i] * p + j] += row[j] / (double)m->n_train[label[i]];
  }
  if ((st = find_subclasses(m, t, n, k, label, o->subclasses, sub, err)) ||
      (st = csi_lda_fit(t, n, k, sub, m->ns, o->shrinkage, &m->lda, err)))
    goto done;
  for (size_t i = 0; i < n; i++) /* the raw Q of each spectrum, relative */
    qv[i] /= noise[i];         /* to its noise, before the floor exists */
  {
    double *tmp = malloc(n * sizeof *tmp);
    if (!tmp) {
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
      goto done;
    }
    memcpy(tmp, noise, n * sizeof *tmp);
    m->noise_floor = quantile(tmp, n, 0.5);
    free(tmp);
    for (size_t i = 0; i < n; i++) /* apply the floor as score() will */
      qv[i] = qv[i] * noise[i] / (noise[i] > m->noise_floor ? noise[i]
                                                            : m->noise_floor);
  }
  m->t2_limit = o->limit_scale * quantile(t2v, n, o->limit_quantile);
  m->q_limit = o->limit_scale * quantile(qv, n, o->limit_quantile);
  m->min_posterior = o->min_posterior;
  m->n_spectra = n;
  size_t right = 0;
  for (size_t i = 0; i < n; i++) {
    cs_result r;
    for (size_t j = 0; j < p; j++)
      row[j] = xs[j * n + i];
    if ((st = score(m, row, &r, err)))
      goto done;
    right += !strcmp(r.label, m->names[label[i]]);
  }
  m->train_accuracy = (double)right / (double)n;
done:
  free(xs), free(row), free(label), free(sub), free(t), free(t2v), free(qv), free(noise);
  return st;
}

/* A model with everything but the fitted parts. */
static cs_status model_shell(const cs_dataset *ds, const char *const *labels,
                             const cs_train_opts *o, cs_model **out,
                             int *label, cs_error *err) {
  cs_technique tech = CS_TECH_UNKNOWN;
  cs_status st = check_training(ds, o, &tech, err);
  if (st)
    return st;
  cs_model *m = model_alloc();
  if (!m)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  m->technique = tech;
  m->lo = o->lo;
  m->hi = o->hi;
  m->step = o->step;
  st = map_classes(ds, labels, m->names, &m->c, label, err);
  if (!st && m->c < 2)
    st = csi_error(err, CS_ERR_ARG, "need at least 2 classes, got '%s' only",
                   m->names[0]);
  if (!st)
    st = build_pipeline(tech, o, &m->pipeline_text, err);
  if (st) {
    cs_model_free(m);
    return st;
  }
  *out = m;
  return CS_OK;
}

cs_status cs_model_train(const cs_dataset *ds, const char *const *labels,
                         const cs_train_opts *o, cs_model **out,
                         cs_error *err) {
  *out = NULL;
  cs_model *m = NULL;
  int *label = malloc((ds && ds->n ? ds->n : 1) * sizeof *label);
  double *x = NULL;
  size_t p;
  if (!label)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = model_shell(ds, labels, o, &m, label, err);
  if (!st)
    st = prep_matrix(ds, m->pipeline_text, &x, &p, err);
  if (!st)
    st = fit(m, x, ds->n, p, label, NULL, o, err);
  free(label);
  free(x);
  if (st) {
    cs_model_free(m);
    return st;
  }
  *out = m;
  return CS_OK;
}

cs_status cs_model_crossval(const cs_dataset *ds, const char *const *labels,
                            const char *const *groups, size_t folds,
                            const cs_train_opts *o, cs_result *results,
                            char classes[][CS_CLASS_NAME_MAX], size_t *nclass,
                            cs_error *err) {
  size_t n = ds ? ds->n : 0;
  cs_model *shell = NULL;
  int *label = malloc((n ? n : 1) * sizeof *label);
  size_t *gid = malloc((n ? n : 1) * sizeof *gid), ngroups = 0;
  unsigned char *use = malloc(n ? n : 1);
  double *x = NULL, *row = NULL;
  size_t p = 0;
  cs_status st = CS_OK;
  if (!label || !gid || !use) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  if ((st = model_shell(ds, labels, o, &shell, label, err)) ||
      (st = prep_matrix(ds, shell->pipeline_text, &x, &p, err)))
    goto done;
  /* groups: each distinct name is one unit that never straddles folds */
  for (size_t i = 0; i < n; i++) {
    size_t g = 0;
    if (groups)
      while (g < i && strcmp(groups[g], groups[i]))
        g++;
    else
      g = i;
    gid[i] = g < i ? gid[g] : ngroups++;
  }
  size_t nf = folds ? folds : ngroups;
  if (nf < 2 || nf > ngroups) {
    st = csi_error(err, CS_ERR_ARG, "%zu folds for %zu groups", nf, ngroups);
    goto done;
  }
  /* fold of each group: a seeded shuffle, so folds mix the classes */
  size_t *fold = malloc(ngroups * sizeof *fold);
  if (!fold) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (size_t g = 0; g < ngroups; g++)
    fold[g] = g;
  csi_rng rng;
  csi_rng_seed(&rng, 20261121);
  for (size_t g = ngroups; g > 1; g--) {
    size_t j = (size_t)(csi_rng_uniform(&rng) * (double)g);
    size_t tmp = fold[g - 1];
    fold[g - 1] = fold[j];
    fold[j] = tmp;
  }
  for (size_t g = 0; g < ngroups; g++)
    fold[g] %= nf;
  row = malloc(p * sizeof *row);
  for (size_t f = 0; f < nf && !st && row; f++) {
    cs_model *m = model_alloc();
    if (!m) {
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
      break;
    }
    m->technique = shell->technique;
    m->lo = shell->lo, m->hi = shell->hi, m->step = shell->step;
    m->c = shell->c;
    memcpy(m->names, shell->names, sizeof m->names);
    size_t held = 0;
    for (size_t i = 0; i < n; i++) {
      use[i] = fold[gid[i]] != f;
      held += !use[i];
    }
    if (held && !(st = fit(m, x, n, p, label, use, o, err))) {
      for (size_t i = 0; i < n && !st; i++) {
        if (use[i])
          continue;
        for (size_t j = 0; j < p; j++)
          row[j] = x[j * n + i];
        st = score(m, row, &results[i], err);
      }
    }
    if (st)
      csi_error_prefix(err, "fold %zu of %zu", f + 1, nf);
    cs_model_free(m);
  }
  if (!row && !st)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  free(fold);
  if (!st) {
    memcpy(classes, shell->names, shell->c * sizeof shell->names[0]);
    *nclass = shell->c;
  }
done:
  cs_model_free(shell);
  free(label), free(gid), free(use), free(x), free(row);
  return st;
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

/* ---- text file ---- */

#define MODEL_MAGIC "calcspec-model 1"

/* FNV-1a 64-bit: detects accidental edits and truncation (not an
 * authentication code). */
static uint64_t fnv1a(const char *p, size_t n) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ull;
  }
  return h;
}

static void put_row(csi_buf *b, const char *key, const char *name,
                    const double *v, size_t n) {
  csi_buf_printf(b, "%s", key);
  if (name)
    csi_buf_printf(b, " %s", name);
  for (size_t i = 0; i < n; i++)
    csi_buf_printf(b, " %.17g", v[i]);
  csi_buf_put(b, "\n", 1);
}

static cs_status model_text(const cs_model *m, csi_buf *b, cs_error *err) {
  csi_buf_printf(b, MODEL_MAGIC "\n");
  csi_buf_printf(b, "technique %s\n", cs_technique_name(m->technique));
  csi_buf_printf(b, "window %.17g %.17g %.17g\n", m->lo, m->hi, m->step);
  csi_buf_printf(b, "points %zu\n", m->p);
  size_t lines = 0;
  for (const char *q = m->pipeline_text; *q; q++)
    lines += *q == '\n';
  csi_buf_printf(b, "pipeline %zu\n%s", lines, m->pipeline_text);
  csi_buf_printf(b, "classes %zu", m->c);
  for (size_t g = 0; g < m->c; g++)
    csi_buf_printf(b, " %s", m->names[g]);
  csi_buf_printf(b, "\nlog_priors");
  for (size_t g = 0; g < m->c; g++)
    csi_buf_printf(b, " %.17g", m->log_prior[g]);
  csi_buf_printf(b, "\ntrained");
  for (size_t g = 0; g < m->c; g++)
    csi_buf_printf(b, " %zu", m->n_train[g]);
  csi_buf_printf(b, "\ntraining_accuracy %.17g\n", m->train_accuracy);
  csi_buf_printf(b, "components %zu\nexplained %.17g\n", m->pca.k,
                 m->pca.explained);
  put_row(b, "mean", NULL, m->pca.mean, m->p);
  put_row(b, "eigenvalues", NULL, m->pca.eigval, m->pca.k);
  for (size_t a = 0; a < m->pca.k; a++)
    put_row(b, "loading", NULL, m->pca.loadings + a * m->p, m->p);
  /* Sub-classes: written only when some class has more than one, so a
   * plain-LDA model reads as before (one centroid per class). */
  if (m->ns != m->c) {
    csi_buf_printf(b, "subclasses %zu\n", m->ns);
    put_row(b, "subclass_log_weights", NULL, m->sub_logw, m->ns);
  }
  csi_buf_printf(b, "lda_dims %zu\nshrinkage %.17g\n", m->lda.d,
                 m->lda.shrinkage);
  for (size_t j = 0; j < m->lda.d; j++)
    put_row(b, "lda_direction", NULL, m->lda.dir + j * m->pca.k, m->pca.k);
  for (size_t s = 0; s < m->ns; s++)
    put_row(b, "centroid", m->names[m->sub_class[s]],
            m->lda.centroids + s * m->lda.d, m->lda.d);
  csi_buf_printf(b, "t2_limit %.17g\nq_limit %.17g\nmin_posterior %.17g\n",
                 m->t2_limit, m->q_limit, m->min_posterior);
  csi_buf_printf(b, "noise_floor %.17g\n", m->noise_floor);

  for (size_t g = 0; g < m->c; g++)
    put_row(b, "reference", m->names[g], m->refs + g * m->p, m->p);
  if (b->oom)
    return csi_error(err, CS_ERR_NOMEM, "out of memory writing the model");
  csi_buf_printf(b, "checksum fnv1a64 %016llx\n",
                 (unsigned long long)fnv1a(b->p, b->n));
  return b->oom ? csi_error(err, CS_ERR_NOMEM, "out of memory") : CS_OK;
}

cs_status cs_model_save(const cs_model *m, const char *path, cs_error *err) {
  csi_buf b = {0};
  cs_status st = model_text(m, &b, err);
  if (!st)
    st = csi_write_atomic(path, b.p, b.n, err);
  csi_buf_free(&b);
  return st;
}

/* Reading: a cursor over lines. */
typedef struct {
  const char *p, *end;
  size_t line;
} cursor;

/* Next line into buf (malloc'd, NUL-terminated, without '\n'). */
static char *next_line(cursor *c) {
  if (c->p >= c->end)
    return NULL;
  const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
  const char *e = nl ? nl : c->end;
  char *s = csi_strndup(c->p, (size_t)(e - c->p));
  c->p = nl ? nl + 1 : c->end;
  c->line++;
  return s;
}

/* Parse exactly n doubles from s into v; 0 ok. */
static int parse_doubles(const char *s, double *v, size_t n) {
  char *end;
  for (size_t i = 0; i < n; i++) {
    while (*s == ' ')
      s++;
    v[i] = csi_strtod(s, &end);
    if (end == s || !isfinite(v[i]))
      return -1;
    s = end;
  }
  while (*s == ' ')
    s++;
  return *s ? -1 : 0;
}

#define BAD(...)                                                               \
  do {                                                                         \
    st = csi_error(err, CS_ERR_MODEL, __VA_ARGS__);                            \
    goto fail;                                                                 \
  } while (0)

static const char *after(const char *line, const char *key) {
  size_t n = strlen(key);
  if (strncmp(line, key, n) || (line[n] != ' ' && line[n] != '\0'))
    return NULL;
  return line + n + (line[n] == ' ');
}

cs_status cs_model_load_text(const char *text, size_t len, cs_model **out,
                             cs_error *err) {
  *out = NULL;
  cs_status st = CS_OK;
  cs_model *m = model_alloc();
  char *line = NULL;
  csi_buf pipe = {0};
  if (!m)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  /* checksum first: the last line covers every byte before it */
  const char *ck = NULL;
  for (const char *q = text + len; q > text; q--)
    if (q - text >= 9 && !memcmp(q - 9, "checksum ", 9) &&
        (q - 9 == text || q[-10] == '\n')) {
      ck = q - 9;
      break;
    }
  if (!ck)
    BAD("no checksum line (truncated or not a calcspec model)");
  {
    unsigned long long want;
    if (sscanf(ck, "checksum fnv1a64 %llx", &want) != 1)
      BAD("malformed checksum line");
    if (fnv1a(text, (size_t)(ck - text)) != want)
      BAD("checksum mismatch: the model file was modified or damaged");
  }
  cursor c = {text, ck, 0};
  line = next_line(&c);
  if (!line || strcmp(line, MODEL_MAGIC)) {
    if (line && !strncmp(line, "calcspec-model ", 15))
      BAD("model version '%s' is not supported (this calcspec reads "
          "version 1)", line + 15);
    BAD("not a calcspec model (first line must be '" MODEL_MAGIC "')");
  }
  size_t loadings = 0, dirs = 0, cents = 0, refs = 0;
  int have[16] = {0};
  unsigned char cent_seen[MAX_SUB] = {0}, ref_seen[CS_MAX_CLASSES] = {0};
  while (free(line), (line = next_line(&c))) {
    const char *v;
    if (!*line)
      continue;
    if ((v = after(line, "technique"))) {
      if (cs_technique_from_name(v, &m->technique) ||
          m->technique == CS_TECH_UNKNOWN)
        BAD("line %zu: bad technique '%s'", c.line, v);
      have[0] = 1;
    } else if ((v = after(line, "window"))) {
      double w[3];
      if (parse_doubles(v, w, 3) || !(w[0] < w[1]) || !(w[2] > 0))
        BAD("line %zu: bad window", c.line);
      m->lo = w[0], m->hi = w[1], m->step = w[2];
      have[1] = 1;
    } else if ((v = after(line, "points"))) {
      double d;
      if (parse_doubles(v, &d, 1) || d < 2 || d > 65536 || d != floor(d))
        BAD("line %zu: bad point count", c.line);
      m->p = (size_t)d;
      have[2] = 1;
    } else if ((v = after(line, "pipeline"))) {
      double d;
      if (parse_doubles(v, &d, 1) || d < 0 || d > 64)
        BAD("line %zu: bad pipeline line count", c.line);
      for (size_t i = 0; i < (size_t)d; i++) {
        char *pl = next_line(&c);
        if (!pl)
          BAD("pipeline cut short");
        csi_buf_printf(&pipe, "%s\n", pl);
        free(pl);
      }
      m->pipeline_text = csi_strdup(pipe.p ? pipe.p : "");
      have[3] = 1;
    } else if ((v = after(line, "classes"))) {
      char *copy = csi_strdup(v), *save = NULL;
      char *tok = strtok_r(copy, " ", &save);
      double d;
      if (!tok || csi_parse_double(tok, &d) || d < 2 || d > CS_MAX_CLASSES) {
        free(copy);
        BAD("line %zu: bad class count", c.line);
      }
      m->c = (size_t)d;
      for (size_t g = 0; g < m->c; g++) {
        tok = strtok_r(NULL, " ", &save);
        if (!tok || !valid_class_name(tok)) {
          free(copy);
          BAD("line %zu: bad class name", c.line);
        }
        csi_snprintf(m->names[g], CS_CLASS_NAME_MAX, "%s", tok);
      }
      free(copy);
      have[4] = 1;
    } else if ((v = after(line, "log_priors"))) {
      if (!have[4] || parse_doubles(v, m->log_prior, m->c))
        BAD("line %zu: bad priors", c.line);
      have[5] = 1;
    } else if ((v = after(line, "trained"))) {
      double d[CS_MAX_CLASSES];
      if (!have[4] || parse_doubles(v, d, m->c))
        BAD("line %zu: bad training counts", c.line);
      for (size_t g = 0; g < m->c; g++)
        m->n_train[g] = (size_t)d[g], m->n_spectra += (size_t)d[g];
    } else if ((v = after(line, "training_accuracy"))) {
      if (parse_doubles(v, &m->train_accuracy, 1))
        BAD("line %zu: bad training accuracy", c.line);
    } else if ((v = after(line, "components"))) {
      double d;
      if (!have[2] || parse_doubles(v, &d, 1) || d < 1 || d > 64)
        BAD("line %zu: bad component count", c.line);
      m->pca.k = (size_t)d;
      m->pca.p = m->p;
      m->pca.mean = malloc(m->p * sizeof(double));
      m->pca.eigval = malloc(m->pca.k * sizeof(double));
      m->pca.loadings = malloc(m->pca.k * m->p * sizeof(double));
      if (!m->pca.mean || !m->pca.eigval || !m->pca.loadings)
        BAD("out of memory");
      have[6] = 1;
    } else if ((v = after(line, "explained"))) {
      if (parse_doubles(v, &m->pca.explained, 1))
        BAD("line %zu: bad explained variance", c.line);
    } else if ((v = after(line, "mean"))) {
      if (!have[6] || parse_doubles(v, m->pca.mean, m->p))
        BAD("line %zu: mean needs %zu numbers", c.line, m->p);
      have[7] = 1;
    } else if ((v = after(line, "eigenvalues"))) {
      if (!have[6] || parse_doubles(v, m->pca.eigval, m->pca.k))
        BAD("line %zu: bad eigenvalues", c.line);
      for (size_t a = 0; a < m->pca.k; a++)
        if (!(m->pca.eigval[a] > 0))
          BAD("line %zu: eigenvalues must be positive", c.line);
      have[8] = 1;
    } else if ((v = after(line, "loading"))) {
      if (!have[6] || loadings >= m->pca.k ||
          parse_doubles(v, m->pca.loadings + loadings * m->p, m->p))
        BAD("line %zu: bad loading", c.line);
      loadings++;
    } else if ((v = after(line, "subclasses"))) {
      double d;
      if (!have[4] || have[9] || have[14] || parse_doubles(v, &d, 1) ||
          d < (double)m->c || d > MAX_SUB || d != floor(d))
        BAD("line %zu: bad sub-class count (after classes, before lda_dims)",
            c.line);
      m->ns = (size_t)d;
      have[14] = 1;
    } else if ((v = after(line, "subclass_log_weights"))) {
      if (!have[14] || have[15] || parse_doubles(v, m->sub_logw, m->ns))
        BAD("line %zu: bad sub-class weights", c.line);
      for (size_t s = 0; s < m->ns; s++)
        if (!(m->sub_logw[s] <= 0))
          BAD("line %zu: sub-class log weights must be <= 0", c.line);
      have[15] = 1;
    } else if ((v = after(line, "lda_dims"))) {
      double d;
      if (!have[14])
        m->ns = m->c; /* one centroid per class */
      if (!have[4] || !have[6] || parse_doubles(v, &d, 1) || d < 1 ||
          d > (double)(m->ns - 1) || d > (double)m->pca.k)
        BAD("line %zu: bad LDA dimension", c.line);
      m->lda.d = (size_t)d, m->lda.k = m->pca.k, m->lda.c = m->ns;
      m->lda.dir = malloc(m->lda.d * m->lda.k * sizeof(double));
      m->lda.centroids = malloc(m->lda.c * m->lda.d * sizeof(double));
      m->refs = malloc(m->c * m->p * sizeof(double));
      if (!m->lda.dir || !m->lda.centroids || !m->refs)
        BAD("out of memory");
      have[9] = 1;
    } else if ((v = after(line, "shrinkage"))) {
      if (parse_doubles(v, &m->lda.shrinkage, 1))
        BAD("line %zu: bad shrinkage", c.line);
    } else if ((v = after(line, "lda_direction"))) {
      if (!have[9] || dirs >= m->lda.d ||
          parse_doubles(v, m->lda.dir + dirs * m->lda.k, m->lda.k))
        BAD("line %zu: bad LDA direction", c.line);
      dirs++;
    } else if ((v = after(line, "centroid")) || (v = after(line, "reference"))) {
      int is_ref = line[0] == 'r';
      const char *sp = strchr(v, ' ');
      size_t g = 0;
      if (!have[9] || !sp)
        BAD("line %zu: bad %s", c.line, is_ref ? "reference" : "centroid");
      while (g < m->c && (strlen(m->names[g]) != (size_t)(sp - v) ||
                          strncmp(m->names[g], v, (size_t)(sp - v))))
        g++;
      if (g == m->c)
        BAD("line %zu: unknown class", c.line);
      /* with sub-classes, centroids come in sub-class order and name their
       * class; without, one per class in any order.  Each slot once. */
      size_t slot = is_ref || !have[14] ? g : cents;
      unsigned char *seen = is_ref ? ref_seen : cent_seen;
      if (slot >= (is_ref ? m->c : m->ns) || seen[slot])
        BAD("line %zu: extra %s", c.line, is_ref ? "reference" : "centroid");
      seen[slot] = 1;
      if (is_ref ? parse_doubles(sp, m->refs + g * m->p, m->p)
                 : parse_doubles(sp, m->lda.centroids + slot * m->lda.d,
                                 m->lda.d))
        BAD("line %zu: bad numbers", c.line);
      if (is_ref) {
        refs++;
      } else {
        m->sub_class[slot] = (int)g;
        cents++;
      }
    } else if ((v = after(line, "t2_limit"))) {
      if (parse_doubles(v, &m->t2_limit, 1))
        BAD("line %zu: bad T2 limit", c.line);
      have[10] = 1;
    } else if ((v = after(line, "q_limit"))) {
      if (parse_doubles(v, &m->q_limit, 1))
        BAD("line %zu: bad Q limit", c.line);
      have[11] = 1;
    } else if ((v = after(line, "noise_floor"))) {
      if (parse_doubles(v, &m->noise_floor, 1) || !(m->noise_floor > 0))
        BAD("line %zu: bad noise floor", c.line);
      have[13] = 1;
    } else if ((v = after(line, "min_posterior"))) {
      if (parse_doubles(v, &m->min_posterior, 1))
        BAD("line %zu: bad min_posterior", c.line);
      have[12] = 1;
    } else {
      char key[40];
      csi_snprintf(key, sizeof key, "%s", line);
      char *sp = strchr(key, ' ');
      if (sp)
        *sp = '\0';
      BAD("line %zu: unknown key '%s'", c.line, key);
    }
  }
  if (!have[0] || !have[1] || !have[2] || !have[3] || !have[4] || !have[6] ||
      !have[7] || !have[8] || !have[9] || !have[10] || !have[11] || !have[12] ||
      !have[13])
    BAD("incomplete model (a required key is missing)");
  if (have[14] != have[15])
    BAD("incomplete model (subclasses and subclass_log_weights go together)");
  if (loadings != m->pca.k || dirs != m->lda.d || cents != m->ns ||
      refs != m->c)
    BAD("incomplete model (%zu/%zu loadings, %zu/%zu directions, %zu/%zu "
        "centroids, %zu/%zu references)", loadings, m->pca.k, dirs, m->lda.d,
        cents, m->ns, refs, m->c);
  {
    unsigned char used[CS_MAX_CLASSES] = {0};
    for (size_t s = 0; s < m->ns; s++)
      used[m->sub_class[s]] = 1;
    for (size_t g = 0; g < m->c; g++)
      if (!used[g])
        BAD("class '%s' has no centroid", m->names[g]);
  }
  if (!have[5])
    for (size_t g = 0; g < m->c; g++)
      m->log_prior[g] = -log((double)m->c);
  {
    cs_pipeline *pl;
    if (cs_pipeline_parse(m->pipeline_text, &pl, err)) {
      st = CS_ERR_MODEL;
      csi_error_prefix(err, "model pipeline");
      if (err)
        err->code = CS_ERR_MODEL;
      goto fail;
    }
    release(m, pl);
  }
  free(line);
  csi_buf_free(&pipe);
  *out = m;
  return CS_OK;
fail:
  free(line);
  csi_buf_free(&pipe);
  cs_model_free(m);
  return st;
}

cs_status cs_model_load(const char *path, cs_model **out, cs_error *err) {
  char *buf;
  size_t len;
  *out = NULL;
  cs_status st = csi_read_file(path, 256u << 20, &buf, &len, err);
  if (st)
    return st;
  st = cs_model_load_text(buf, len, out, err);
  free(buf);
  return st;
}

cs_status cs_model_default(cs_technique t, cs_model **out, cs_error *err) {
  size_t len;
  const char *text = csi_default_model(t, &len);
  *out = NULL;
  if (!text || !len)
    return csi_error(err, CS_ERR_MODEL, "no default %s model is built into "
                     "this library (give a model file)", cs_technique_name(t));
  return cs_model_load_text(text, len, out, err);
}
