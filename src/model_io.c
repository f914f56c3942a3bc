/* model_io.c: the plain-text model file (cs_model_save, cs_model_load*,
 * cs_model_default).
 *
 * One table of keys drives both the writer and the reader, so they cannot
 * drift: each row names a key, whether it is required, how many lines of
 * it a model has, which keys must come before it (they give the dimensions
 * its numbers are checked against), its parser and its writer.  The
 * reader takes every key at most as often as the table says, so a
 * dimension never changes after the arrays it sizes were allocated.
 *
 * A model file is untrusted input: the closing SHA-256 checksum detects
 * damage and accidental edits (integrity), but anyone can recompute it, so
 * it says nothing about who wrote the file (no authenticity). */
#include "model.h"

#include <math.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_MAGIC "calcspec-model 1"
#define MAX_PIPELINE_LINES 64
#define MAX_POINTS 65536
#define MAX_COMPONENTS 64

/* ---- integrity ---- */

static void sha256_hex(const char *p, size_t n,
                       char hex[2 * SHA256_DIGEST_SIZE + 1]) {
  struct sha256_ctx ctx;
  uint8_t d[SHA256_DIGEST_SIZE];
  sha256_init(&ctx);
  sha256_update(&ctx, n, (const uint8_t *)p);
  sha256_digest(&ctx, sizeof d, d);
  for (size_t i = 0; i < sizeof d; i++)
    csi_snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* FNV-1a 64-bit: the checksum of model files written before SHA-256; still
 * accepted so that those files load as before. */
static uint64_t fnv1a(const char *p, size_t n) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 1099511628211ull;
  }
  return h;
}

/* ---- the key table ---- */

enum {
  K_TECHNIQUE, K_WINDOW, K_POINTS, K_PIPELINE, K_CLASSES, K_LOG_PRIORS,
  K_TRAINED, K_TRAINING_ACCURACY, K_COMPONENTS, K_EXPLAINED, K_MEAN,
  K_EIGENVALUES, K_LOADING, K_SUBCLASSES, K_SUBCLASS_LOG_WEIGHTS, K_LDA_DIMS,
  K_SHRINKAGE, K_LDA_DIRECTION, K_CENTROID, K_T2_LIMIT, K_Q_LIMIT,
  K_MIN_POSTERIOR, K_NOISE_FLOOR, K_FEATURES, K_DETECT_SIGMA, K_REFERENCE,
  K__COUNT
};
#define B(k) (1u << (k))

/* Reading: a cursor over the lines before the checksum line. */
typedef struct cursor {
  const char *p, *end;
  size_t line;
} cursor;

typedef struct loader {
  cs_model *m;
  cursor c;
  size_t seen[K__COUNT];  /* lines of each key read so far */
  size_t first[K__COUNT]; /* line of its first occurrence */
  unsigned char cent_seen[MAX_SUB], ref_seen[CS_MAX_CLASSES];
  cs_error *err;
} loader;

typedef struct mkey {
  const char *name;
  int required;
  size_t (*count)(const cs_model *m); /* lines in a model; NULL: one */
  unsigned needs;  /* keys that must come earlier */
  unsigned before; /* keys that must not have come yet */
  /* v is the rest of the line after "name "; the array it fills has the
   * size count() and the needed keys fixed. */
  cs_status (*parse)(loader *ld, const struct mkey *k, const char *v);
  void (*write)(const cs_model *m, const struct mkey *k, csi_buf *b);
  double *(*field)(cs_model *m); /* scalar keys: their double */
  int positive; /* scalar keys: must be > 0 */
} mkey;

#define BAD(ld, ...) csi_error((ld)->err, CS_ERR_MODEL, __VA_ARGS__)

/* Parse exactly n doubles from the NUL-terminated s into v; 0 ok. */
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

/* One integer in [lo, hi]; 0 ok. */
static int parse_count(const char *s, double lo, double hi, size_t *out) {
  double d;
  if (parse_doubles(s, &d, 1) || d < lo || d > hi || d != floor(d))
    return -1;
  *out = (size_t)d;
  return 0;
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

static size_t count_loadings(const cs_model *m) { return m->pca.k; }
static size_t count_directions(const cs_model *m) { return m->lda.d; }
static size_t count_centroids(const cs_model *m) { return m->ns; }
static size_t count_references(const cs_model *m) { return m->c; }

/* scalars: one finite double at k->off */
static cs_status parse_scalar(loader *ld, const mkey *k, const char *v) {
  double *d = k->field(ld->m);
  if (parse_doubles(v, d, 1) || (k->positive && !(*d > 0)))
    return BAD(ld, "line %zu: bad %s", ld->c.line, k->name);
  return CS_OK;
}
static void write_scalar(const cs_model *m, const mkey *k, csi_buf *b) {
  csi_buf_printf(b, "%s %.17g\n", k->name, *k->field((cs_model *)m));
}

static cs_status parse_technique(loader *ld, const mkey *k, const char *v) {
  (void)k;
  if (cs_technique_from_name(v, &ld->m->technique) ||
      ld->m->technique == CS_TECH_UNKNOWN)
    return BAD(ld, "line %zu: bad technique '%.40s'", ld->c.line, v);
  return CS_OK;
}
static void write_technique(const cs_model *m, const mkey *k, csi_buf *b) {
  csi_buf_printf(b, "%s %s\n", k->name, cs_technique_name(m->technique));
}

static cs_status parse_window(loader *ld, const mkey *k, const char *v) {
  (void)k;
  double w[3];
  if (parse_doubles(v, w, 3) || !(w[0] < w[1]) || !(w[2] > 0))
    return BAD(ld, "line %zu: bad window", ld->c.line);
  ld->m->lo = w[0], ld->m->hi = w[1], ld->m->step = w[2];
  return CS_OK;
}
static void write_window(const cs_model *m, const mkey *k, csi_buf *b) {
  csi_buf_printf(b, "%s %.17g %.17g %.17g\n", k->name, m->lo, m->hi, m->step);
}

static cs_status parse_points(loader *ld, const mkey *k, const char *v) {
  (void)k;
  if (parse_count(v, 2, MAX_POINTS, &ld->m->p))
    return BAD(ld, "line %zu: bad point count", ld->c.line);
  return CS_OK;
}
static void write_points(const cs_model *m, const mkey *k, csi_buf *b) {
  csi_buf_printf(b, "%s %zu\n", k->name, m->p);
}

/* Next line without its '\n' (not NUL-terminated): [*s, *s + *n). */
static int next_line(cursor *c, const char **s, size_t *n) {
  if (c->p >= c->end)
    return 0;
  const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
  const char *e = nl ? nl : c->end;
  *s = c->p;
  *n = (size_t)(e - c->p);
  c->p = nl ? nl + 1 : c->end;
  c->line++;
  return 1;
}

/* "pipeline N" and the N lines of the pipeline that follow it. */
static cs_status parse_pipeline(loader *ld, const mkey *k, const char *v) {
  (void)k;
  size_t lines;
  if (parse_count(v, 0, MAX_PIPELINE_LINES, &lines))
    return BAD(ld, "line %zu: bad pipeline line count", ld->c.line);
  csi_buf pipe = {0};
  for (size_t i = 0; i < lines; i++) {
    const char *s;
    size_t n;
    if (!next_line(&ld->c, &s, &n)) {
      csi_buf_free(&pipe);
      return BAD(ld, "pipeline cut short");
    }
    csi_buf_put(&pipe, s, n);
    csi_buf_put(&pipe, "\n", 1);
  }
  csi_buf_put(&pipe, "", 1); /* the NUL */
  if (pipe.oom) {
    csi_buf_free(&pipe);
    return csi_error(ld->err, CS_ERR_NOMEM, "out of memory");
  }
  ld->m->pipeline_text = pipe.p; /* the buffer becomes the text */
  return CS_OK;
}
static void write_pipeline(const cs_model *m, const mkey *k, csi_buf *b) {
  size_t lines = 0;
  for (const char *q = m->pipeline_text; *q; q++)
    lines += *q == '\n';
  csi_buf_printf(b, "%s %zu\n%s", k->name, lines, m->pipeline_text);
}

static cs_status parse_classes(loader *ld, const mkey *k, const char *v) {
  (void)k;
  cs_model *m = ld->m;
  char *copy = csi_strdup(v), *save = NULL;
  if (!copy)
    return csi_error(ld->err, CS_ERR_NOMEM, "out of memory");
  char *tok = strtok_r(copy, " ", &save);
  cs_status st = CS_OK;
  if (!tok || parse_count(tok, 2, CS_MAX_CLASSES, &m->c)) {
    st = BAD(ld, "line %zu: bad class count", ld->c.line);
    goto done;
  }
  for (size_t g = 0; g < m->c; g++) {
    tok = strtok_r(NULL, " ", &save);
    if (!tok || !csi_model_class_name_ok(tok)) {
      st = BAD(ld, "line %zu: bad class name", ld->c.line);
      goto done;
    }
    for (size_t h = 0; h < g; h++)
      if (!strcmp(m->names[h], tok)) {
        st = BAD(ld, "line %zu: class '%s' named twice", ld->c.line, tok);
        goto done;
      }
    csi_snprintf(m->names[g], CS_CLASS_NAME_MAX, "%s", tok);
  }
  if (strtok_r(NULL, " ", &save))
    st = BAD(ld, "line %zu: more class names than %zu", ld->c.line, m->c);
done:
  free(copy);
  return st;
}
static void write_classes(const cs_model *m, const mkey *k, csi_buf *b) {
  csi_buf_printf(b, "%s %zu", k->name, m->c);
  for (size_t g = 0; g < m->c; g++)
    csi_buf_printf(b, " %s", m->names[g]);
  csi_buf_put(b, "\n", 1);
}

static cs_status parse_log_priors(loader *ld, const mkey *k, const char *v) {
  (void)k;
  if (parse_doubles(v, ld->m->log_prior, ld->m->c))
    return BAD(ld, "line %zu: bad priors", ld->c.line);
  return CS_OK;
}
static void write_log_priors(const cs_model *m, const mkey *k, csi_buf *b) {
  put_row(b, k->name, NULL, m->log_prior, m->c);
}

static cs_status parse_trained(loader *ld, const mkey *k, const char *v) {
  (void)k;
  double d[CS_MAX_CLASSES];
  cs_model *m = ld->m;
  if (parse_doubles(v, d, m->c))
    return BAD(ld, "line %zu: bad training counts", ld->c.line);
  m->n_spectra = 0;
  for (size_t g = 0; g < m->c; g++) {
    if (d[g] < 0 || d[g] > 1e15 || d[g] != floor(d[g]))
      return BAD(ld, "line %zu: bad training counts", ld->c.line);
    m->n_train[g] = (size_t)d[g], m->n_spectra += (size_t)d[g];
  }
  return CS_OK;
}
static void write_trained(const cs_model *m, const mkey *k, csi_buf *b) {
  csi_buf_printf(b, "%s", k->name);
  for (size_t g = 0; g < m->c; g++)
    csi_buf_printf(b, " %zu", m->n_train[g]);
  csi_buf_put(b, "\n", 1);
}

static cs_status parse_components(loader *ld, const mkey *k, const char *v) {
  (void)k;
  cs_model *m = ld->m;
  if (parse_count(v, 1, MAX_COMPONENTS, &m->pca.k))
    return BAD(ld, "line %zu: bad component count", ld->c.line);
  m->pca.p = m->p;
  m->pca.mean = malloc(m->p * sizeof(double));
  m->pca.eigval = malloc(m->pca.k * sizeof(double));
  m->pca.loadings = malloc(m->pca.k * m->p * sizeof(double));
  if (!m->pca.mean || !m->pca.eigval || !m->pca.loadings)
    return csi_error(ld->err, CS_ERR_NOMEM, "out of memory");
  return CS_OK;
}
static void write_components(const cs_model *m, const mkey *k, csi_buf *b) {
  csi_buf_printf(b, "%s %zu\n", k->name, m->pca.k);
}

static cs_status parse_mean(loader *ld, const mkey *k, const char *v) {
  (void)k;
  if (parse_doubles(v, ld->m->pca.mean, ld->m->p))
    return BAD(ld, "line %zu: mean needs %zu numbers", ld->c.line, ld->m->p);
  return CS_OK;
}
static void write_mean(const cs_model *m, const mkey *k, csi_buf *b) {
  put_row(b, k->name, NULL, m->pca.mean, m->p);
}

static cs_status parse_eigenvalues(loader *ld, const mkey *k, const char *v) {
  (void)k;
  cs_model *m = ld->m;
  if (parse_doubles(v, m->pca.eigval, m->pca.k))
    return BAD(ld, "line %zu: bad eigenvalues", ld->c.line);
  for (size_t a = 0; a < m->pca.k; a++)
    if (!(m->pca.eigval[a] > 0))
      return BAD(ld, "line %zu: eigenvalues must be positive", ld->c.line);
  return CS_OK;
}
static void write_eigenvalues(const cs_model *m, const mkey *k, csi_buf *b) {
  put_row(b, k->name, NULL, m->pca.eigval, m->pca.k);
}

static cs_status parse_loading(loader *ld, const mkey *k, const char *v) {
  (void)k;
  cs_model *m = ld->m;
  if (parse_doubles(v, m->pca.loadings + ld->seen[K_LOADING] * m->p, m->p))
    return BAD(ld, "line %zu: bad loading", ld->c.line);
  return CS_OK;
}
static void write_loading(const cs_model *m, const mkey *k, csi_buf *b) {
  for (size_t a = 0; a < m->pca.k; a++)
    put_row(b, k->name, NULL, m->pca.loadings + a * m->p, m->p);
}

static cs_status parse_subclasses(loader *ld, const mkey *k, const char *v) {
  (void)k;
  if (parse_count(v, (double)ld->m->c, MAX_SUB, &ld->m->ns))
    return BAD(ld, "line %zu: bad sub-class count", ld->c.line);
  return CS_OK;
}
/* Sub-classes: written only when some class has more than one, so a
 * plain-LDA model reads as before (one centroid per class). */
static void write_subclasses(const cs_model *m, const mkey *k, csi_buf *b) {
  if (m->ns != m->c)
    csi_buf_printf(b, "%s %zu\n", k->name, m->ns);
}

static cs_status parse_subclass_weights(loader *ld, const mkey *k,
                                        const char *v) {
  (void)k;
  cs_model *m = ld->m;
  if (parse_doubles(v, m->sub_logw, m->ns))
    return BAD(ld, "line %zu: bad sub-class weights", ld->c.line);
  for (size_t s = 0; s < m->ns; s++)
    if (!(m->sub_logw[s] <= 0))
      return BAD(ld, "line %zu: sub-class log weights must be <= 0",
                 ld->c.line);
  return CS_OK;
}
static void write_subclass_weights(const cs_model *m, const mkey *k,
                                   csi_buf *b) {
  if (m->ns != m->c)
    put_row(b, k->name, NULL, m->sub_logw, m->ns);
}

static cs_status parse_lda_dims(loader *ld, const mkey *k, const char *v) {
  (void)k;
  cs_model *m = ld->m;
  if (!ld->seen[K_SUBCLASSES])
    m->ns = m->c; /* one centroid per class */
  double hi = (double)(m->ns - 1 < m->pca.k ? m->ns - 1 : m->pca.k);
  if (parse_count(v, 1, hi, &m->lda.d))
    return BAD(ld, "line %zu: bad LDA dimension", ld->c.line);
  m->lda.k = m->pca.k, m->lda.c = m->ns;
  m->lda.dir = malloc(m->lda.d * m->lda.k * sizeof(double));
  m->lda.centroids = malloc(m->lda.c * m->lda.d * sizeof(double));
  if (!m->lda.dir || !m->lda.centroids)
    return csi_error(ld->err, CS_ERR_NOMEM, "out of memory");
  return CS_OK;
}
static void write_lda_dims(const cs_model *m, const mkey *k, csi_buf *b) {
  csi_buf_printf(b, "%s %zu\n", k->name, m->lda.d);
}

static cs_status parse_lda_direction(loader *ld, const mkey *k,
                                     const char *v) {
  (void)k;
  cs_model *m = ld->m;
  if (parse_doubles(v, m->lda.dir + ld->seen[K_LDA_DIRECTION] * m->lda.k,
                    m->lda.k))
    return BAD(ld, "line %zu: bad LDA direction", ld->c.line);
  return CS_OK;
}
static void write_lda_direction(const cs_model *m, const mkey *k,
                                csi_buf *b) {
  for (size_t j = 0; j < m->lda.d; j++)
    put_row(b, k->name, NULL, m->lda.dir + j * m->pca.k, m->pca.k);
}

/* "centroid NAME ..." / "reference NAME ...": the class of NAME; *rest
 * points after it. */
static cs_status named_class(loader *ld, const mkey *k, const char *v,
                             size_t *g, const char **rest) {
  const char *sp = strchr(v, ' ');
  if (!sp)
    return BAD(ld, "line %zu: bad %s", ld->c.line, k->name);
  size_t n = (size_t)(sp - v);
  for (*g = 0; *g < ld->m->c; (*g)++)
    if (strlen(ld->m->names[*g]) == n && !strncmp(ld->m->names[*g], v, n)) {
      *rest = sp;
      return CS_OK;
    }
  return BAD(ld, "line %zu: unknown class", ld->c.line);
}

/* With sub-classes, centroids come in sub-class order and name their
 * class; without, one per class in any order.  Each slot once. */
static cs_status parse_centroid(loader *ld, const mkey *k, const char *v) {
  cs_model *m = ld->m;
  size_t g;
  const char *rest;
  cs_status st = named_class(ld, k, v, &g, &rest);
  if (st)
    return st;
  size_t slot = ld->seen[K_SUBCLASSES] ? ld->seen[K_CENTROID] : g;
  if (slot >= m->ns || ld->cent_seen[slot])
    return BAD(ld, "line %zu: extra centroid", ld->c.line);
  ld->cent_seen[slot] = 1;
  if (parse_doubles(rest, m->lda.centroids + slot * m->lda.d, m->lda.d))
    return BAD(ld, "line %zu: bad numbers", ld->c.line);
  m->sub_class[slot] = (int)g;
  return CS_OK;
}
static void write_centroid(const cs_model *m, const mkey *k, csi_buf *b) {
  for (size_t s = 0; s < m->ns; s++)
    put_row(b, k->name, m->names[m->sub_class[s]],
            m->lda.centroids + s * m->lda.d, m->lda.d);
}

static cs_status parse_reference(loader *ld, const mkey *k, const char *v) {
  cs_model *m = ld->m;
  size_t g;
  const char *rest;
  cs_status st = named_class(ld, k, v, &g, &rest);
  if (st)
    return st;
  if (ld->ref_seen[g])
    return BAD(ld, "line %zu: extra reference", ld->c.line);
  ld->ref_seen[g] = 1;
  if (!m->refs && !(m->refs = malloc(m->c * m->p * sizeof(double))))
    return csi_error(ld->err, CS_ERR_NOMEM, "out of memory");
  if (parse_doubles(rest, m->refs + g * m->p, m->p))
    return BAD(ld, "line %zu: bad numbers", ld->c.line);
  return CS_OK;
}
static void write_reference(const cs_model *m, const mkey *k, csi_buf *b) {
  for (size_t g = 0; g < m->c; g++)
    put_row(b, k->name, m->names[g], m->refs + g * m->p, m->p);
}

/* "features mineral" (README "Classifier"): written only for mineral
 * features, so spectrum models read as before. */
static cs_status parse_features(loader *ld, const mkey *k, const char *v) {
  (void)k;
  if (!strcmp(v, "mineral"))
    ld->m->features = CS_FEATURES_MINERAL;
  else if (!strcmp(v, "spectrum"))
    ld->m->features = CS_FEATURES_SPECTRUM;
  else
    return BAD(ld, "line %zu: unknown features '%.40s'", ld->c.line, v);
  return CS_OK;
}
static void write_features(const cs_model *m, const mkey *k, csi_buf *b) {
  if (m->features == CS_FEATURES_MINERAL)
    csi_buf_printf(b, "%s mineral\n", k->name);
  else if (csi_model_detects(m)) /* FTIR with detection: detect_sigma follows */
    csi_buf_printf(b, "%s spectrum\n", k->name);
}
static void write_detect_sigma(const cs_model *m, const mkey *k, csi_buf *b) {
  if (csi_model_detects(m))
    csi_buf_printf(b, "%s %.17g\n", k->name, m->detect_sigma);
}

#define FIELD(fn, member)                                                      \
  static double *fn(cs_model *m) { return &m->member; }
FIELD(f_train_accuracy, train_accuracy)
FIELD(f_explained, pca.explained)
FIELD(f_shrinkage, lda.shrinkage)
FIELD(f_t2_limit, t2_limit)
FIELD(f_q_limit, q_limit)
FIELD(f_min_posterior, min_posterior)
FIELD(f_noise_floor, noise_floor)
FIELD(f_detect_sigma, detect_sigma)
#define SCALAR(name, req, field, pos)                                          \
  {name, req, NULL, 0, 0, parse_scalar, write_scalar, f_##field, pos}

/* Table order is the order the writer writes. */
static const mkey keys[K__COUNT] = {
    [K_TECHNIQUE] = {"technique", 1, NULL, 0, 0, parse_technique,
                     write_technique, NULL, 0},
    [K_WINDOW] = {"window", 1, NULL, 0, 0, parse_window, write_window, NULL, 0},
    [K_POINTS] = {"points", 1, NULL, 0, 0, parse_points, write_points, NULL, 0},
    [K_PIPELINE] = {"pipeline", 1, NULL, 0, 0, parse_pipeline, write_pipeline,
                    NULL, 0},
    [K_CLASSES] = {"classes", 1, NULL, 0, 0, parse_classes, write_classes, NULL,
                   0},
    [K_LOG_PRIORS] = {"log_priors", 0, NULL, B(K_CLASSES), 0,
                      parse_log_priors, write_log_priors, NULL, 0},
    [K_TRAINED] = {"trained", 0, NULL, B(K_CLASSES), 0, parse_trained,
                   write_trained, NULL, 0},
    [K_TRAINING_ACCURACY] = SCALAR("training_accuracy", 0, train_accuracy, 0),
    [K_COMPONENTS] = {"components", 1, NULL, B(K_POINTS), 0,
                      parse_components, write_components, NULL, 0},
    [K_EXPLAINED] = SCALAR("explained", 0, explained, 0),
    [K_MEAN] = {"mean", 1, NULL, B(K_COMPONENTS), 0, parse_mean, write_mean,
                NULL, 0},
    [K_EIGENVALUES] = {"eigenvalues", 1, NULL, B(K_COMPONENTS), 0,
                       parse_eigenvalues, write_eigenvalues, NULL, 0},
    [K_LOADING] = {"loading", 1, count_loadings, B(K_COMPONENTS), 0,
                   parse_loading, write_loading, NULL, 0},
    [K_SUBCLASSES] = {"subclasses", 0, NULL, B(K_CLASSES), B(K_LDA_DIMS),
                      parse_subclasses, write_subclasses, NULL, 0},
    [K_SUBCLASS_LOG_WEIGHTS] = {"subclass_log_weights", 0, NULL,
                                B(K_SUBCLASSES), 0, parse_subclass_weights,
                                write_subclass_weights, NULL, 0},
    [K_LDA_DIMS] = {"lda_dims", 1, NULL, B(K_CLASSES) | B(K_COMPONENTS), 0,
                    parse_lda_dims, write_lda_dims, NULL, 0},
    [K_SHRINKAGE] = SCALAR("shrinkage", 0, shrinkage, 0),
    [K_LDA_DIRECTION] = {"lda_direction", 1, count_directions, B(K_LDA_DIMS),
                         0, parse_lda_direction, write_lda_direction, NULL, 0},
    [K_CENTROID] = {"centroid", 1, count_centroids, B(K_LDA_DIMS), 0,
                    parse_centroid, write_centroid, NULL, 0},
    [K_T2_LIMIT] = SCALAR("t2_limit", 1, t2_limit, 0),
    [K_Q_LIMIT] = SCALAR("q_limit", 1, q_limit, 0),
    [K_MIN_POSTERIOR] = SCALAR("min_posterior", 1, min_posterior, 0),
    [K_NOISE_FLOOR] = SCALAR("noise_floor", 1, noise_floor, 1),
    [K_FEATURES] = {"features", 0, NULL, B(K_TECHNIQUE), 0, parse_features,
                    write_features, NULL, 0},
    [K_DETECT_SIGMA] = {"detect_sigma", 0, NULL, B(K_FEATURES), 0,
                        parse_scalar, write_detect_sigma, f_detect_sigma, 1},
    [K_REFERENCE] = {"reference", 1, count_references,
                     B(K_CLASSES) | B(K_POINTS), 0, parse_reference,
                     write_reference, NULL, 0},
};

/* ---- writing ---- */

static cs_status model_text(const cs_model *m, csi_buf *b, cs_error *err) {
  csi_buf_printf(b, MODEL_MAGIC "\n");
  for (size_t i = 0; i < K__COUNT; i++)
    keys[i].write(m, &keys[i], b);
  if (b->oom)
    return csi_error(err, CS_ERR_NOMEM, "out of memory writing the model");
  char hex[2 * SHA256_DIGEST_SIZE + 1];
  sha256_hex(b->p, b->n, hex);
  csi_buf_printf(b, "checksum sha256 %s\n", hex);
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

/* ---- reading ---- */

static int is_hex(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
          (s[i] >= 'A' && s[i] <= 'F')))
      return 0;
  return 1;
}

/* The checksum line is the last line (one final '\n' allowed) and covers
 * every byte before it: "checksum sha256 HEX64", or "checksum fnv1a64
 * HEX16" in files written before SHA-256.  *body_len gets the length of
 * the text before it. */
static cs_status check_integrity(const char *text, size_t len,
                                 size_t *body_len, cs_error *err) {
  size_t end = len && text[len - 1] == '\n' ? len - 1 : len;
  size_t start = end;
  while (start > 0 && text[start - 1] != '\n')
    start--;
  const char *ln = text + start;
  size_t n = end - start;
  static const char pre[] = "checksum ";
  if (n < sizeof pre - 1 || memcmp(ln, pre, sizeof pre - 1)) {
    /* a checksum line further up means text was appended after it */
    for (size_t i = start; i > 0; i--)
      if ((i == 1 || text[i - 2] == '\n') && len - (i - 1) >= sizeof pre - 1 &&
          !memcmp(text + i - 1, pre, sizeof pre - 1))
        return csi_error(err, CS_ERR_MODEL, "text after the checksum line");
    return csi_error(err, CS_ERR_MODEL,
                     "no checksum line (truncated or not a calcspec model)");
  }
  static const char sha[] = "checksum sha256 ", fnv[] = "checksum fnv1a64 ";
  if (n == sizeof sha - 1 + 64 && !memcmp(ln, sha, sizeof sha - 1) &&
      is_hex(ln + sizeof sha - 1, 64)) {
    char hex[2 * SHA256_DIGEST_SIZE + 1];
    sha256_hex(text, start, hex);
    if (csi_strncasecmp(hex, ln + sizeof sha - 1, 64))
      return csi_error(err, CS_ERR_MODEL, "checksum mismatch: the model file "
                       "was modified or damaged");
  } else if (n == sizeof fnv - 1 + 16 && !memcmp(ln, fnv, sizeof fnv - 1) &&
             is_hex(ln + sizeof fnv - 1, 16)) {
    char want[17];
    memcpy(want, ln + sizeof fnv - 1, 16);
    want[16] = '\0';
    if (fnv1a(text, start) != strtoull(want, NULL, 16))
      return csi_error(err, CS_ERR_MODEL, "checksum mismatch: the model file "
                       "was modified or damaged");
  } else {
    return csi_error(err, CS_ERR_MODEL, "malformed checksum line");
  }
  *body_len = start;
  return CS_OK;
}

/* The table row of the key that starts the line [s, s + n); NULL when the
 * key is unknown. */
static const mkey *lookup(const char *s, size_t n) {
  const char *sp = memchr(s, ' ', n);
  size_t kn = sp ? (size_t)(sp - s) : n;
  for (size_t i = 0; i < K__COUNT; i++)
    if (strlen(keys[i].name) == kn && !memcmp(keys[i].name, s, kn))
      return &keys[i];
  return NULL;
}

/* One "key values" line through its table row: order and repeat checks,
 * then the parser. */
static cs_status read_key(loader *ld, const char *s, size_t n) {
  const mkey *k = lookup(s, n);
  if (!k) {
    const char *sp = memchr(s, ' ', n);
    int kn = (int)(sp ? (size_t)(sp - s) : n);
    return BAD(ld, "line %zu: unknown key '%.*s'", ld->c.line,
               kn > 40 ? 40 : kn, s);
  }
  size_t i = (size_t)(k - keys);
  for (size_t j = 0; j < K__COUNT; j++) {
    if ((k->needs & B(j)) && !ld->seen[j])
      return BAD(ld, "line %zu: '%s' must come after '%s'", ld->c.line,
                 k->name, keys[j].name);
    if ((k->before & B(j)) && ld->seen[j])
      return BAD(ld, "line %zu: '%s' must come before '%s'", ld->c.line,
                 k->name, keys[j].name);
  }
  size_t limit = k->count ? k->count(ld->m) : 1;
  if (ld->seen[i] >= limit) {
    if (limit == 1 && !k->count)
      return BAD(ld, "line %zu: repeated key '%s' (first on line %zu)",
                 ld->c.line, k->name, ld->first[i]);
    return BAD(ld, "line %zu: more than %zu '%s' lines", ld->c.line, limit,
               k->name);
  }
  if (!ld->seen[i])
    ld->first[i] = ld->c.line;
  size_t kn = strlen(k->name);
  char *v = csi_strndup(s + kn + (n > kn), n - kn - (n > kn));
  if (!v)
    return csi_error(ld->err, CS_ERR_NOMEM, "out of memory");
  cs_status st = k->parse(ld, k, v);
  free(v);
  if (!st)
    ld->seen[i]++;
  return st;
}

/* After the last line: every required key as often as the model says, and
 * the parts that go together. */
static cs_status check_complete(loader *ld) {
  cs_model *m = ld->m;
  for (size_t i = 0; i < K__COUNT; i++) {
    const mkey *k = &keys[i];
    if (k->required && !ld->seen[i])
      return BAD(ld, "incomplete model (required key '%s' is missing)",
                 k->name);
  }
  if (ld->seen[K_SUBCLASSES] != ld->seen[K_SUBCLASS_LOG_WEIGHTS])
    return BAD(ld, "incomplete model (subclasses and subclass_log_weights go "
               "together)");
  if (ld->seen[K_LOADING] != m->pca.k ||
      ld->seen[K_LDA_DIRECTION] != m->lda.d ||
      ld->seen[K_CENTROID] != m->ns || ld->seen[K_REFERENCE] != m->c)
    return BAD(ld, "incomplete model (%zu/%zu loadings, %zu/%zu directions, "
               "%zu/%zu centroids, %zu/%zu references)", ld->seen[K_LOADING],
               m->pca.k, ld->seen[K_LDA_DIRECTION], m->lda.d,
               ld->seen[K_CENTROID], m->ns, ld->seen[K_REFERENCE], m->c);
  unsigned char used[CS_MAX_CLASSES] = {0};
  for (size_t s = 0; s < m->ns; s++)
    used[m->sub_class[s]] = 1;
  for (size_t g = 0; g < m->c; g++)
    if (!used[g])
      return BAD(ld, "class '%s' has no centroid", m->names[g]);
  if (!ld->seen[K_LOG_PRIORS])
    for (size_t g = 0; g < m->c; g++)
      m->log_prior[g] = -log((double)m->c);
  if (m->features == CS_FEATURES_MINERAL) {
    if (m->technique != CS_TECH_RAMAN)
      return BAD(ld, "mineral features need a Raman model");
    if (!ld->seen[K_DETECT_SIGMA])
      m->detect_sigma = CSI_DETECT_SIGMA;
  }
  if (m->features == CS_FEATURES_SPECTRUM && m->technique != CS_TECH_FTIR)
    m->detect_sigma = 0; /* Raman spectrum features: no detection */
  if (csi_model_refs_gram(m, ld->err))
    return CS_ERR_NOMEM;
  if (csi_model_detects(m)) {
    cs_status st = csi_model_detector(m, ld->err);
    if (st) {
      csi_error_prefix(ld->err, "model detector");
      if (ld->err)
        ld->err->code = CS_ERR_MODEL;
      return CS_ERR_MODEL;
    }
  }
  return CS_OK;
}

cs_status cs_model_load_text(const char *text, size_t len, cs_model **out,
                             cs_error *err) {
  if (!out)
    return csi_error(err, CS_ERR_ARG, "no output model");
  *out = NULL;
  if (!text)
    return csi_error(err, CS_ERR_ARG, "no model text");
  if (memchr(text, '\0', len))
    return csi_error(err, CS_ERR_MODEL, "NUL byte in the model text (not a "
                     "calcspec model)");
  size_t body = 0;
  cs_status st = check_integrity(text, len, &body, err);
  if (st)
    return st;
  loader ld;
  memset(&ld, 0, sizeof ld);
  ld.err = err;
  ld.c.p = text, ld.c.end = text + body;
  if (!(ld.m = csi_model_alloc()))
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  const char *s;
  size_t n;
  static const char magic[] = MODEL_MAGIC, family[] = "calcspec-model ";
  if (!next_line(&ld.c, &s, &n) || n != sizeof magic - 1 ||
      memcmp(s, magic, n)) {
    if (next_line(&(cursor){text, text + body, 0}, &s, &n) &&
        n > sizeof family - 1 && !memcmp(s, family, sizeof family - 1))
      st = BAD(&ld, "model version '%.*s' is not supported (this calcspec "
               "reads version 1)", (int)(n - (sizeof family - 1) > 20
                                             ? 20 : n - (sizeof family - 1)),
               s + sizeof family - 1);
    else
      st = BAD(&ld, "not a calcspec model (first line must be '" MODEL_MAGIC
               "')");
  }
  while (!st && next_line(&ld.c, &s, &n))
    if (n)
      st = read_key(&ld, s, n);
  if (!st)
    st = check_complete(&ld);
  if (!st) {
    cs_pipeline *pl;
    if (cs_pipeline_parse(ld.m->pipeline_text, &pl, err)) {
      st = CS_ERR_MODEL;
      csi_error_prefix(err, "model pipeline");
      if (err)
        err->code = CS_ERR_MODEL;
    } else {
      csi_model_release(ld.m, pl); /* the pool's first pipeline */
    }
  }
  if (st) {
    cs_model_free(ld.m);
    return st;
  }
  *out = ld.m;
  return CS_OK;
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

/* The embedded models of a technique form a chain, widest window first:
 * a spectrum that does not cover one window is classified with the next
 * (README "Classifier", partial windows). */
cs_status cs_model_default(cs_technique t, cs_model **out, cs_error *err) {
  size_t len;
  const char *text = csi_default_model(t, 0, &len);
  *out = NULL;
  if (!text || !len)
    return csi_error(err, CS_ERR_MODEL, "no default %s model is built into "
                     "this library (give a model file)", cs_technique_name(t));
  cs_status st = cs_model_load_text(text, len, out, err);
  cs_model *last = *out;
  for (size_t i = 1; !st && (text = csi_default_model(t, i, &len)); i++) {
    st = cs_model_load_text(text, len, &last->alt, err);
    if (!st)
      last = last->alt;
  }
  if (st) {
    cs_model_free(*out);
    *out = NULL;
  }
  return st;
}
