/* train.c: training the PCA/LDA classifier (mixture sub-classes by
 * k-means, reject limits, pure-component references) and grouped
 * cross-validation. */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Preferred output order of the known classes; others follow by name. */
static const char *const known_order[] = {"oxalate", "hydroxyapatite",
                                          "whitlockite", "calcite", "tissue"};

static int class_rank(const char *name) {
  for (size_t i = 0; i < sizeof known_order / sizeof *known_order; i++)
    if (!strcmp(name, known_order[i]))
      return (int)i;
  return 100;
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
  o.features = t == CS_TECH_RAMAN ? CS_FEATURES_MINERAL : CS_FEATURES_SPECTRUM;
  o.detect_sigma = CSI_DETECT_SIGMA;
  o.threads = 1;
  return o;
}

/* Default preprocessing between crop and resample (README "Classifier"):
 * Raman: cosmic spikes, the IModPoly baseline of biological Raman (Zhao
 * 2007; 5th order as Lieber & Mahadevan-Jansen 2003) and SNV; FTIR: a
 * gentle arPLS for baseline drift, then SNV.  No smoothing: its window is
 * in pixels, so it would broaden bands by an amount that depends on the
 * instrument's pixel pitch (17 cm^-1 on the library, 5 on RRUFF 532 nm
 * data), and the PCA projection already removes the noise. */
static const char *default_steps(cs_technique t, int features) {
  if (features == CS_FEATURES_MINERAL) /* the counts, for detection */
    return "spikes 6:3\n";
  return t == CS_TECH_FTIR ? "baseline arpls:lam=1e5\nnormalise snv\n"
                           : "spikes 6:3\nbaseline imodpoly:poly_order=5\n"
                             "normalise snv\n";
}

static cs_status build_pipeline(cs_technique t, const cs_train_opts *o,
                                int features, char **text, cs_error *err) {
  cs_pipeline *p;
  cs_status st = cs_pipeline_parse(o->preprocess ? o->preprocess
                                                 : default_steps(t, features),
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
    cs_error e;
    if (cs_class_name_check(l, &e))
      return csi_error(err, CS_ERR_ARG, "spectrum %zu: %s", i, e.msg);
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
 * column-major, malloc'd) on `threads` threads, each with its own pipeline
 * (a pipeline owns FFTW plans and scratch).  Spectrum 0, done first, fixes
 * p; csi_parallel_for makes the error the one a serial loop would stop at. */
typedef struct {
  const cs_dataset *ds;
  cs_pipeline **pl; /* one per worker */
  cs_spectrum *first; /* spectrum 0 preprocessed */
  double *x;
  size_t n, p;
} prep_ctx;

static cs_status prep_one(void *ctx, size_t w, size_t i, cs_error *err) {
  prep_ctx *c = ctx;
  cs_spectrum *pre = c->first;
  cs_status st = CS_OK;
  if (i && (st = cs_pipeline_apply(c->pl[w], c->ds->items[i], &pre, NULL, err))) {
    csi_error_prefix(err, "training spectrum %zu", i);
    return st;
  }
  if (pre->n != c->p)
    st = csi_error(err, CS_ERR_DIM, "training spectrum %zu: %zu points, "
                   "expected %zu", i, pre->n, c->p);
  for (size_t j = 0; !st && j < c->p; j++)
    c->x[j * c->n + i] = pre->y[j];
  if (i)
    cs_spectrum_free(pre);
  return st;
}

static cs_status prep_matrix(const cs_dataset *ds, const char *text,
                             size_t threads, double **xout, size_t *pout,
                             cs_error *err) {
  size_t n = ds->n, nw = csi_workers(threads, n);
  prep_ctx c = {ds, calloc(nw ? nw : 1, sizeof(cs_pipeline *)), NULL, NULL, n, 0};
  *xout = NULL;
  cs_status st = c.pl ? CS_OK : csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t w = 0; w < nw && !st; w++)
    st = cs_pipeline_parse(text, &c.pl[w], err);
  if (!st && n) {
    if ((st = cs_pipeline_apply(c.pl[0], ds->items[0], &c.first, NULL, err)))
      csi_error_prefix(err, "training spectrum 0");
    else if (!(c.x = malloc(n * c.first->n * sizeof *c.x)))
      st = csi_error(err, CS_ERR_NOMEM, "out of memory (%zu x %zu)", n, c.first->n);
    else
      c.p = c.first->n;
  }
  if (!st)
    st = csi_parallel_for(n, nw, prep_one, &c, "spectra", err);
  if (!st && c.p < 2)
    st = csi_error(err, CS_ERR_DIM, "the model window holds %zu points", c.p);
  cs_spectrum_free(c.first);
  for (size_t w = 0; c.pl && w < nw; w++)
    cs_pipeline_free(c.pl[w]);
  free(c.pl);
  if (st) {
    free(c.x);
    return st;
  }
  *xout = c.x;
  *pout = c.p;
  return CS_OK;
}

/* Replace each row of x (n x p, column-major) by the model's features;
 * det[i] (may be NULL) gets each detection.  On `threads` threads: the
 * rows are independent and the model's detector is shared read-only. */
typedef struct {
  const cs_model *m;
  double *x, **row; /* row: p scratch per worker */
  size_t n, p;
  csi_detection *det;
} feat_ctx;

static cs_status feat_one(void *ctx, size_t w, size_t i, cs_error *err) {
  feat_ctx *c = ctx;
  double *row = c->row[w];
  csi_detection d;
  for (size_t j = 0; j < c->p; j++)
    row[j] = c->x[j * c->n + i];
  cs_status st = csi_model_features(c->m, row, &d, err);
  if (st) {
    csi_error_prefix(err, "training spectrum %zu", i);
    return st;
  }
  for (size_t j = 0; j < c->p; j++)
    c->x[j * c->n + i] = row[j];
  if (c->det)
    c->det[i] = d;
  return CS_OK;
}

static cs_status prep_features(const cs_model *m, double *x, size_t n,
                               size_t p, size_t threads, csi_detection *det,
                               cs_error *err) {
  if (!csi_model_detects(m)) {
    if (det)
      memset(det, 0, n * sizeof *det);
    return CS_OK;
  }
  size_t nw = csi_workers(threads, n);
  if (!nw)
    return CS_OK;
  feat_ctx c = {m, x, calloc(nw, sizeof(double *)), n, p, det};
  cs_status st = c.row ? CS_OK : CS_ERR_NOMEM;
  for (size_t w = 0; w < nw && !st; w++)
    if (!(c.row[w] = malloc(p * sizeof(double))))
      st = CS_ERR_NOMEM;
  if (st)
    st = csi_error(err, st, "out of memory");
  else
    st = csi_parallel_for(n, nw, feat_one, &c, NULL, err);
  for (size_t w = 0; c.row && w < nw; w++)
    free(c.row[w]);
  free(c.row);
  return st;
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
/* The detection threshold: the option's sigma, raised to the 99.5th
 * percentile of mineral_snr over the tissue-only training spectra, so the
 * training tissue (every shape, width, offset and fluorescence the library
 * spans) is called a mineral at most 0.5 % of the time. */
static void learn_threshold(cs_model *m, const csi_detection *det,
                            const int *label, const unsigned char *use,
                            size_t n, const cs_train_opts *o) {
  if (!csi_model_detects(m)) /* no detection (an FTIR window without a band) */
    return;
  m->detect_sigma = o->detect_sigma > 0 ? o->detect_sigma : CSI_DETECT_SIGMA;
  if (!csi_model_detects(m) || !det)
    return;
  size_t tg = m->c, k = 0;
  for (size_t g = 0; g < m->c; g++)
    if (!strcmp(m->names[g], "tissue"))
      tg = g;
  double *v = malloc((n ? n : 1) * sizeof *v);
  if (!v || tg == m->c) {
    free(v);
    return;
  }
  for (size_t i = 0; i < n; i++)
    if ((!use || use[i]) && (size_t)label[i] == tg)
      v[k++] = det[i].snr;
  if (k >= 20) {
    double q = quantile(v, k, 0.995);
    if (q > m->detect_sigma)
      m->detect_sigma = q;
  }
  free(v);
}

static cs_status fit(cs_model *m, const double *x, size_t ld, size_t p,
                     const int *label_all, const unsigned char *use,
                     const csi_detection *det, const cs_train_opts *o,
                     cs_error *err) {
  learn_threshold(m, det, label_all, use, ld, o);
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
    noise[i] = csi_model_noise_var(row, p) * (double)p;
    for (size_t a = 0; a < k; a++)
      t[a * n + i] = tk[a];
    for (size_t j = 0; j < p; j++)
      m->refs[(size_t)label[i] * p + j] += row[j] / (double)m->n_train[label[i]];
  }
  if ((st = csi_model_refs_gram(m, err)) ||
      (st = find_subclasses(m, t, n, k, label, o->subclasses, sub, err)) ||
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
    for (size_t i = 0; i < n; i++) /* apply the floor as scoring will */
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
    if ((st = csi_model_score(m, row, &r, err)))
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
  cs_model *m = csi_model_alloc();
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
  /* mineral features are for Raman; FTIR keeps the spectrum */
  m->features = tech == CS_TECH_RAMAN ? o->features : CS_FEATURES_SPECTRUM;
  m->detect_sigma = o->detect_sigma > 0 ? o->detect_sigma : CSI_DETECT_SIGMA;
  /* FTIR: detection against the protein matrix when the window holds a
   * diagnostic band (README "Classifier"); Raman spectrum features: none */
  if (m->features == CS_FEATURES_SPECTRUM &&
      (tech != CS_TECH_FTIR ||
       csi_detector_check(tech, m->lo, m->step,
                          (size_t)floor((m->hi - m->lo) / m->step + 1e-9) + 1,
                          NULL)))
    m->detect_sigma = 0;
  if (!st)
    st = build_pipeline(tech, o, m->features, &m->pipeline_text, err);
  if (!st)
    st = csi_model_detector(m, err);
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
    st = prep_matrix(ds, m->pipeline_text, o->threads, &x, &p, err);
  csi_detection *det = malloc((ds && ds->n ? ds->n : 1) * sizeof *det);
  if (!st && !det)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st)
    st = prep_features(m, x, ds->n, p, o->threads, det, err);
  if (!st)
    st = fit(m, x, ds->n, p, label, NULL, det, o, err);
  free(det);
  free(label);
  free(x);
  if (st) {
    cs_model_free(m);
    return st;
  }
  *out = m;
  return CS_OK;
}

/* One cross-validation fold: fit on the other folds, score the held-out
 * spectra into their own results[i] (so folds can run on any thread). */
typedef struct {
  const cs_model *shell;
  const double *x;
  size_t n, p;
  const int *label;
  const size_t *gid, *fold;
  size_t nf;
  const csi_detection *det;
  const cs_train_opts *o;
  cs_result *results;
  double **row;        /* p scratch per worker */
  unsigned char **use; /* n flags per worker */
} fold_ctx;

static cs_status fold_one(void *ctx, size_t w, size_t f, cs_error *err) {
  fold_ctx *c = ctx;
  const cs_model *shell = c->shell;
  size_t n = c->n, p = c->p;
  double *row = c->row[w];
  unsigned char *use = c->use[w];
  cs_model *m = csi_model_alloc();
  if (!m)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  m->technique = shell->technique;
  m->lo = shell->lo, m->hi = shell->hi, m->step = shell->step;
  m->c = shell->c;
  m->features = shell->features;
  m->detect_sigma = shell->detect_sigma;
  memcpy(m->names, shell->names, sizeof m->names);
  size_t held = 0;
  for (size_t i = 0; i < n; i++) {
    use[i] = c->fold[c->gid[i]] != f;
    held += !use[i];
  }
  cs_status st = CS_OK;
  if (held && !(st = fit(m, c->x, n, p, c->label, use, c->det, c->o, err))) {
    for (size_t i = 0; i < n && !st; i++) {
      if (use[i])
        continue;
      for (size_t j = 0; j < p; j++)
        row[j] = c->x[j * n + i];
      st = csi_model_score(m, row, &c->results[i], err);
      if (!st)
        csi_model_decide(m, &c->det[i], row, &c->results[i]);
    }
  }
  if (st)
    csi_error_prefix(err, "fold %zu of %zu", f + 1, c->nf);
  cs_model_free(m);
  return st;
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
  double *x = NULL;
  csi_detection *det = malloc((n ? n : 1) * sizeof *det);
  size_t p = 0;
  cs_status st = CS_OK;
  if (!label || !gid || !det) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  if ((st = model_shell(ds, labels, o, &shell, label, err)) ||
      (st = prep_matrix(ds, shell->pipeline_text, o->threads, &x, &p, err)) ||
      (st = prep_features(shell, x, n, p, o->threads, det, err)))
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
    st = ngroups < 2
             ? csi_error(err, CS_ERR_ARG, "cross-validation needs at least 2 "
                         "groups (cores, spots or files), got %zu", ngroups)
             : csi_error(err, CS_ERR_ARG, "%zu folds need as many groups "
                         "(cores, spots or files), got %zu: use %zu folds or "
                         "fewer", nf, ngroups, ngroups);
    goto done;
  }
  size_t nw = csi_workers(o->threads, nf);
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
  fold_ctx fc = {shell, x, n, p, label, gid, fold, nf, det, o, results,
                 calloc(nw ? nw : 1, sizeof(double *)),
                 calloc(nw ? nw : 1, sizeof(unsigned char *))};
  st = fc.row && fc.use ? CS_OK : CS_ERR_NOMEM;
  for (size_t w = 0; w < nw && !st; w++)
    if (!(fc.row[w] = malloc(p * sizeof(double))) || !(fc.use[w] = malloc(n)))
      st = CS_ERR_NOMEM;
  if (st)
    st = csi_error(err, st, "out of memory");
  else
    st = csi_parallel_for(nf, nw, fold_one, &fc, "folds", err);
  for (size_t w = 0; w < nw; w++) {
    if (fc.row)
      free(fc.row[w]);
    if (fc.use)
      free(fc.use[w]);
  }
  free(fc.row);
  free(fc.use);
  free(fold);
  if (!st) {
    memcpy(classes, shell->names, shell->c * sizeof shell->names[0]);
    *nclass = shell->c;
  }
done:
  cs_model_free(shell);
  free(label), free(gid), free(x), free(det);
  return st;
}
