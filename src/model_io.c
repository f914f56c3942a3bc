/* model_io.c: the plain-text model file (cs_model_save, cs_model_load*,
 * cs_model_default). */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
  /* written only for mineral features, so spectrum models read as before */
  if (m->features == CS_FEATURES_MINERAL)
    csi_buf_printf(b, "features mineral\ndetect_sigma %.17g\n",
                   m->detect_sigma);

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
  cs_model *m = csi_model_alloc();
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
        if (!tok || !csi_model_class_name_ok(tok)) {
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
    } else if ((v = after(line, "features"))) {
      if (strcmp(v, "mineral") && strcmp(v, "spectrum"))
        BAD("line %zu: unknown features '%s'", c.line, v);
      m->features = !strcmp(v, "mineral") ? CS_FEATURES_MINERAL
                                          : CS_FEATURES_SPECTRUM;
    } else if ((v = after(line, "detect_sigma"))) {
      if (parse_doubles(v, &m->detect_sigma, 1) || !(m->detect_sigma > 0))
        BAD("line %zu: bad detect_sigma", c.line);
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
  if (m->features == CS_FEATURES_MINERAL) {
    if (m->technique != CS_TECH_RAMAN)
      BAD("mineral features need a Raman model");
    if (!(m->detect_sigma > 0))
      m->detect_sigma = CSI_DETECT_SIGMA;
    if ((st = csi_model_detector(m, err))) {
      csi_error_prefix(err, "model detector");
      if (err)
        err->code = CS_ERR_MODEL;
      st = CS_ERR_MODEL;
      goto fail;
    }
  }
  {
    cs_pipeline *pl;
    if (cs_pipeline_parse(m->pipeline_text, &pl, err)) {
      st = CS_ERR_MODEL;
      csi_error_prefix(err, "model pipeline");
      if (err)
        err->code = CS_ERR_MODEL;
      goto fail;
    }
    csi_model_release(m, pl);
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
