/* preprocess.c: the preprocessing pipeline: a fixed-order chain (crop,
 * spikes, baseline, smooth, normalise, resample) with a canonical text form
 * that parses back identically. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A resampled axis holds at most a million points (a detector has a few
 * thousand): a typo such as 0:1e6:0.001 is refused, not allocated. */
#define PIPE_MAX_POINTS ((size_t)1000000)

enum { ST_CROP, ST_SPIKES, ST_BASELINE, ST_SMOOTH, ST_NORM, ST_RESAMPLE, NSTEPS };
static const char *const step_names[NSTEPS] = {
    "crop", "spikes", "baseline", "smooth", "normalise", "resample"};

struct cs_pipeline {
  int has[NSTEPS];
  double lo, hi;
  cs_spike_opts spikes;
  cs_baseline_opts baseline;
  cs_smooth_opts smooth;
  cs_smoother *sm; /* built lazily for the smooth step */
  cs_norm_opts norm;
  /* resample: a grid (axis == NULL) or an explicit axis */
  double rlo, rhi, rstep;
  double *axis;
  size_t naxis;
  cs_interp interp;
  /* the "preprocessing" metadata text cs_pipeline_apply writes, made on
   * first use; every setter drops it */
  char *text;
};

static void touch(cs_pipeline *p) {
  if (!p) /* the setter reports the missing pipeline */
    return;
  free(p->text);
  p->text = NULL;
}

cs_status cs_pipeline_new(cs_pipeline **out, cs_error *err) {
  *out = calloc(1, sizeof **out);
  return *out ? CS_OK : csi_error(err, CS_ERR_NOMEM, "out of memory");
}

static void drop_resample(cs_pipeline *p) {
  touch(p);
  free(p->axis);
  p->axis = NULL;
  p->naxis = 0;
  p->has[ST_RESAMPLE] = 0;
}

void cs_pipeline_clear(cs_pipeline *p) {
  if (!p)
    return;
  touch(p);
  cs_smoother_free(p->sm);
  p->sm = NULL;
  drop_resample(p);
  memset(p->has, 0, sizeof p->has);
}

void cs_pipeline_free(cs_pipeline *p) {
  if (!p)
    return;
  cs_pipeline_clear(p);
  free(p);
}

cs_status cs_pipeline_set_crop(cs_pipeline *p, double lo, double hi,
                               cs_error *err) {
  touch(p);
  if (!(isfinite(lo) && isfinite(hi) && lo < hi))
    return csi_error(err, CS_ERR_ARG, "crop wants A:B with A < B, got %g:%g",
                     lo, hi);
  p->lo = lo, p->hi = hi, p->has[ST_CROP] = 1;
  return CS_OK;
}

cs_status cs_pipeline_set_spikes(cs_pipeline *p, const cs_spike_opts *o,
                                 cs_error *err) {
  touch(p);
  char buf[64];
  if (!o) {
    p->has[ST_SPIKES] = 0;
    return CS_OK;
  }
  cs_status st = cs_spike_opts_format(o, buf, sizeof buf, err); /* checks */
  if (!st)
    p->spikes = *o, p->has[ST_SPIKES] = 1;
  return st;
}

cs_status cs_pipeline_set_baseline(cs_pipeline *p, const cs_baseline_opts *o,
                                   cs_error *err) {
  touch(p);
  if (!o || o->method == CS_BASELINE_NONE) {
    p->has[ST_BASELINE] = 0;
    return CS_OK;
  }
  cs_status st = cs_baseline_opts_check(o, 0, err);
  if (!st)
    p->baseline = *o, p->has[ST_BASELINE] = 1;
  return st;
}

cs_status cs_pipeline_set_smooth(cs_pipeline *p, const cs_smooth_opts *o,
                                 cs_error *err) {
  touch(p);
  cs_smoother *sm = NULL;
  if (o && o->method != CS_SMOOTH_NONE) {
    cs_status st = cs_smoother_new(o, &sm, err);
    if (st)
      return st;
  }
  cs_smoother_free(p->sm);
  p->sm = sm;
  p->has[ST_SMOOTH] = sm != NULL;
  if (sm)
    p->smooth = *o;
  return CS_OK;
}

cs_status cs_pipeline_set_normalise(cs_pipeline *p, const cs_norm_opts *o,
                                    cs_error *err) {
  touch(p);
  char buf[128];
  if (!o || o->method == CS_NORM_NONE) {
    p->has[ST_NORM] = 0;
    return CS_OK;
  }
  cs_status st = cs_norm_opts_format(o, buf, sizeof buf, err); /* checks */
  if (!st)
    p->norm = *o, p->has[ST_NORM] = 1;
  return st;
}

/* Points of the grid lo, lo + step, ... <= hi; 0 when invalid. */
static size_t grid_len(double lo, double hi, double step) {
  if (!(isfinite(lo) && isfinite(hi) && isfinite(step) && lo < hi &&
        step > 0))
    return 0;
  double m = floor((hi - lo) / step + 1e-9) + 1;
  return m <= (double)PIPE_MAX_POINTS ? (size_t)m : 0;
}

cs_status cs_pipeline_set_resample(cs_pipeline *p, double lo, double hi,
                                   double step, cs_interp method,
                                   cs_error *err) {
  touch(p);
  if (method != CS_INTERP_LINEAR && method != CS_INTERP_CUBIC)
    return csi_error(err, CS_ERR_ARG, "unknown interpolation %d", (int)method);
  if (grid_len(lo, hi, step) < 2)
    return csi_error(err, CS_ERR_ARG,
                     "resample wants A:B:STEP with A < B, 0 < STEP <= B - A "
                     "and at most %zu points, got %g:%g:%g",
                     PIPE_MAX_POINTS, lo, hi, step);
  drop_resample(p);
  p->rlo = lo, p->rhi = hi, p->rstep = step, p->interp = method;
  p->has[ST_RESAMPLE] = 1;
  return CS_OK;
}

cs_status cs_pipeline_set_axis(cs_pipeline *p, const double *x, size_t m,
                               cs_interp method, cs_error *err) {
  touch(p);
  if (method != CS_INTERP_LINEAR && method != CS_INTERP_CUBIC)
    return csi_error(err, CS_ERR_ARG, "unknown interpolation %d", (int)method);
  if (!x || m == 0 || m > PIPE_MAX_POINTS)
    return csi_error(err, CS_ERR_ARG, "resample axis needs 1..%zu points",
                     PIPE_MAX_POINTS);
  for (size_t i = 0; i < m; i++)
    if (!isfinite(x[i]) || (i && !(x[i] > x[i - 1])))
      return csi_error(err, CS_ERR_ARG,
                       "resample axis is not strictly ascending at point %zu",
                       i);
  double *c = malloc(m * sizeof *c);
  if (!c)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  memcpy(c, x, m * sizeof *c);
  drop_resample(p);
  p->axis = c, p->naxis = m, p->interp = method;
  p->has[ST_RESAMPLE] = 1;
  return CS_OK;
}

/* ---- text ---- */

static cs_status parse_resample(cs_pipeline *p, const char *spec,
                                cs_error *err) {
  size_t len = strlen(spec);
  char *buf = malloc(len + 1);
  if (!buf)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  memcpy(buf, spec, len + 1);
  cs_interp method = CS_INTERP_LINEAR;
  char *last = strrchr(buf, ':');
  if (last && (!strcmp(last + 1, "cubic") || !strcmp(last + 1, "linear"))) {
    method = !strcmp(last + 1, "cubic") ? CS_INTERP_CUBIC : CS_INTERP_LINEAR;
    *last = '\0';
  }
  cs_status st;
  if (!strncmp(buf, "axis:", 5)) {
    csi_dvec v = {0};
    char *s = buf + 5;
    st = CS_OK;
    for (;;) {
      char *comma = strchr(s, ',');
      if (comma)
        *comma = '\0';
      double d;
      if (csi_parse_double(s, &d) || csi_dvec_push(&v, d)) {
        st = csi_error(err, CS_ERR_ARG, "resample axis: bad number '%.40s'", s);
        break;
      }
      if (!comma)
        break;
      s = comma + 1;
    }
    if (!st)
      st = cs_pipeline_set_axis(p, v.v, v.n, method, err);
    csi_dvec_free(&v);
  } else {
    char *f[4];
    double a, b, c;
    if (csi_split(buf, ':', f, 3) != 3 || csi_parse_double(f[0], &a) ||
        csi_parse_double(f[1], &b) || csi_parse_double(f[2], &c))
      st = csi_error(err, CS_ERR_ARG,
                     "resample wants A:B:STEP[:cubic] or axis:X1,X2,..., got "
                     "'%.60s'",
                     spec);
    else
      st = cs_pipeline_set_resample(p, a, b, c, method, err);
  }
  free(buf);
  return st;
}

static int step_index(const char *name) {
  for (int i = 0; i < NSTEPS; i++)
    if (!strcmp(name, step_names[i]))
      return i;
  return -1;
}

cs_status cs_pipeline_set_step(cs_pipeline *p, const char *name,
                               const char *spec, cs_error *err) {
  touch(p);
  int k = name ? step_index(name) : -1;
  if (k < 0)
    return csi_error(err, CS_ERR_ARG, "unknown preprocessing step '%s'",
                     name ? name : "");
  if (!spec || !strcmp(spec, "off") || !strcmp(spec, "none")) {
    if (k == ST_SMOOTH)
      return cs_pipeline_set_smooth(p, NULL, err);
    if (k == ST_RESAMPLE)
      drop_resample(p);
    p->has[k] = 0;
    return CS_OK;
  }
  cs_status st;
  switch (k) {
  case ST_CROP: {
    char buf[128], *f[3];
    double a, b;
    if (strlen(spec) >= sizeof buf)
      return csi_error(err, CS_ERR_ARG, "crop spec too long");
    strcpy(buf, spec);
    if (csi_split(buf, ':', f, 2) != 2 || csi_parse_double(f[0], &a) ||
        csi_parse_double(f[1], &b))
      return csi_error(err, CS_ERR_ARG, "crop wants A:B, got '%s'", spec);
    return cs_pipeline_set_crop(p, a, b, err);
  }
  case ST_SPIKES: {
    cs_spike_opts o;
    if ((st = cs_spike_opts_parse(spec, &o, err)))
      return st;
    return cs_pipeline_set_spikes(p, &o, err);
  }
  case ST_BASELINE: {
    cs_baseline_opts o;
    if ((st = cs_baseline_opts_parse(spec, &o, err)))
      return st;
    return cs_pipeline_set_baseline(p, &o, err);
  }
  case ST_SMOOTH: {
    cs_smooth_opts o;
    if ((st = cs_smooth_opts_parse(spec, &o, err)))
      return st;
    return cs_pipeline_set_smooth(p, &o, err);
  }
  case ST_NORM: {
    cs_norm_opts o;
    if ((st = cs_norm_opts_parse(spec, &o, err)))
      return st;
    return cs_pipeline_set_normalise(p, &o, err);
  }
  default:
    return parse_resample(p, spec, err);
  }
}

/* Append "name spec" + sep for every step. */
static cs_status format_steps(const cs_pipeline *p, csi_buf *b,
                              const char *sep, cs_error *err) {
  char spec[1024];
  cs_status st = CS_OK;
  for (int k = 0; k < NSTEPS && !st; k++) {
    if (!p->has[k])
      continue;
    switch (k) {
    case ST_CROP:
      csi_snprintf(spec, sizeof spec, "%.17g:%.17g", p->lo, p->hi);
      break;
    case ST_SPIKES:
      st = cs_spike_opts_format(&p->spikes, spec, sizeof spec, err);
      break;
    case ST_BASELINE:
      st = cs_baseline_opts_format(&p->baseline, spec, sizeof spec, err);
      break;
    case ST_SMOOTH:
      st = cs_smooth_opts_format(&p->smooth, spec, sizeof spec, err);
      break;
    case ST_NORM:
      st = cs_norm_opts_format(&p->norm, spec, sizeof spec, err);
      break;
    default:
      break;
    }
    if (st)
      break;
    csi_buf_printf(b, "%s ", step_names[k]);
    if (k != ST_RESAMPLE) {
      csi_buf_printf(b, "%s", spec);
    } else if (!p->axis) {
      csi_buf_printf(b, "%.17g:%.17g:%.17g", p->rlo, p->rhi, p->rstep);
    } else {
      csi_buf_printf(b, "axis:");
      for (size_t i = 0; i < p->naxis; i++)
        csi_buf_printf(b, "%s%.17g", i ? "," : "", p->axis[i]);
    }
    if (k == ST_RESAMPLE && p->interp == CS_INTERP_CUBIC)
      csi_buf_printf(b, ":cubic");
    csi_buf_printf(b, "%s", sep);
  }
  return st;
}

static cs_status format_with(const cs_pipeline *p, const char *sep,
                             char **text, cs_error *err) {
  *text = NULL;
  csi_buf b = {0};
  csi_buf_put(&b, "", 0);
  cs_status st = format_steps(p, &b, sep, err);
  if (!st && (b.oom || !b.p))
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (st) {
    csi_buf_free(&b);
    return st;
  }
  *text = b.p;
  return CS_OK;
}

cs_status cs_pipeline_format(const cs_pipeline *p, char **text,
                             cs_error *err) {
  return format_with(p, "\n", text, err);
}

cs_status cs_pipeline_parse(const char *text, cs_pipeline **out,
                            cs_error *err) {
  *out = NULL;
  if (!text)
    return csi_error(err, CS_ERR_ARG, "no pipeline text");
  cs_pipeline *p;
  cs_status st = cs_pipeline_new(&p, err);
  if (st)
    return st;
  char *copy = csi_strdup(text);
  if (!copy) {
    cs_pipeline_free(p);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  int last = -1, lineno = 0;
  for (char *line = copy, *next; line && !st; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    lineno++;
    csi_trim(line);
    if (!*line)
      continue;
    char *sp = strchr(line, ' ');
    if (!sp) {
      st = csi_error(err, CS_ERR_ARG, "line %d: want 'STEP SPEC', got '%.60s'",
                     lineno, line);
      break;
    }
    *sp = '\0';
    const char *spec = csi_trim(sp + 1);
    int k = step_index(line);
    if (k < 0) {
      st = csi_error(err, CS_ERR_ARG, "line %d: unknown step '%.40s'", lineno,
                     line);
    } else if (k <= last) {
      st = csi_error(err, CS_ERR_ARG,
                     "line %d: step '%s' repeated or out of order (order is "
                     "crop, spikes, baseline, smooth, normalise, resample)",
                     lineno, line);
    } else if (!strcmp(spec, "off") || !strcmp(spec, "none")) {
      st = csi_error(err, CS_ERR_ARG, "line %d: step '%s' has no settings",
                     lineno, line);
    } else if ((st = cs_pipeline_set_step(p, line, spec, err))) {
      csi_error_prefix(err, "line %d", lineno);
    }
    last = k;
  }
  free(copy);
  if (st) {
    cs_pipeline_free(p);
    return st;
  }
  *out = p;
  return CS_OK;
}

size_t cs_pipeline_max_points(const cs_pipeline *p, const cs_spectrum *in) {
  size_t n = in ? in->n : 0, m = 0;
  if (p && p->has[ST_RESAMPLE])
    m = p->axis ? p->naxis : grid_len(p->rlo, p->rhi, p->rstep);
  return m > n ? m : n;
}

/* ---- apply ---- */

/* Crop; with a resample step following, keep one point beyond each end. */
static cs_status crop(const cs_pipeline *p, cs_spectrum *s, cs_error *err) {
  double lo = p->lo, hi = p->hi;
  if (p->has[ST_RESAMPLE]) {
    size_t a = 0, b = s->n;
    while (a < s->n && s->x[a] < lo)
      a++;
    while (b > 0 && s->x[b - 1] > hi)
      b--;
    if (a > 0 && a < s->n)
      lo = s->x[a - 1];
    if (b < s->n && b > 0)
      hi = s->x[b];
  }
  return cs_spectrum_crop(s, lo, hi, err);
}

static cs_status resample(const cs_pipeline *p, cs_spectrum **s, double *base,
                          cs_error *err) {
  size_t m = p->axis ? p->naxis : grid_len(p->rlo, p->rhi, p->rstep);
  double *x = p->axis;
  if (!x) {
    if (!(x = malloc(m * sizeof *x)))
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    for (size_t j = 0; j < m; j++)
      x[j] = p->rlo + (double)j * p->rstep;
  }
  cs_spectrum *r = NULL, *b = NULL, *rb = NULL;
  cs_status st = cs_spectrum_resample(*s, x, m, p->interp, &r, err);
  if (!st && base) {
    st = cs_spectrum_new((*s)->x, base, (*s)->n, (*s)->axis, (*s)->quantity,
                         &b, err);
    if (!st)
      st = cs_spectrum_resample(b, x, m, p->interp, &rb, err);
    if (!st)
      memcpy(base, rb->y, m * sizeof *base);
  }
  if (x != p->axis)
    free(x);
  cs_spectrum_free(b);
  cs_spectrum_free(rb);
  if (st) {
    cs_spectrum_free(r);
    return st;
  }
  cs_spectrum_free(*s);
  *s = r;
  return CS_OK;
}

/* The steps before the baseline: automatic conversions, sort, crop,
 * spikes.  *s is a new spectrum (NULL on failure). */
static cs_status apply_pre(const cs_pipeline *p, const cs_spectrum *in,
                           cs_spectrum **s, cs_error *err) {
  cs_status st = cs_spectrum_copy(in, s, err);
  /* automatic conversions first (see the header) */
  if (!st && (*s)->axis == CS_AXIS_WAVELENGTH_NM)
    st = cs_spectrum_to_raman_shift(*s, NAN, err);
  if (!st && (*s)->quantity == CS_Q_TRANSMITTANCE_PCT)
    st = cs_spectrum_to_absorbance(*s, err);
  if (!st)
    st = cs_spectrum_sort(*s, err);
  if (!st && p->has[ST_CROP] && (st = crop(p, *s, err)))
    csi_error_prefix(err, "crop");
  if (!st && p->has[ST_SPIKES] &&
      (st = cs_spectrum_remove_spikes(*s, &p->spikes, NULL, err)))
    csi_error_prefix(err, "spikes");
  if (st) {
    cs_spectrum_free(*s);
    *s = NULL;
  }
  return st;
}

/* The steps after the baseline fit (base: the baseline, or zeros without
 * one): subtract, smooth, normalise, resample, the record.  Frees s on
 * failure; base holds the baseline as processed on success. */
static cs_status apply_post(cs_pipeline *p, cs_spectrum **sp, double *base,
                            int want_base, cs_error *err) {
  cs_spectrum *s = *sp;
  char *text = NULL;
  cs_status st = CS_OK;
  if (p->has[ST_BASELINE])
    for (size_t i = 0; i < s->n; i++)
      s->y[i] -= base[i];
  if (!st && p->has[ST_SMOOTH] &&
      (st = cs_smoother_apply(p->sm, s->x, s->y, s->n, s->y, err)))
    csi_error_prefix(err, "smooth");
  if (!st && p->has[ST_NORM]) {
    double f = 1;
    if ((st = cs_normalise(s->x, s->y, s->n, &p->norm, &f, err)))
      csi_error_prefix(err, "normalise");
    for (size_t i = 0; !st && i < s->n; i++)
      base[i] /= f;
    s->quantity = CS_Q_ARBITRARY;
  }
  if (!st && p->has[ST_RESAMPLE] &&
      (st = resample(p, &s, want_base ? base : NULL, err)))
    csi_error_prefix(err, "resample");
  *sp = s;
  if (!st && !p->text && !(st = format_with(p, "; ", &text, err))) {
    size_t len = strlen(text); /* drop the trailing separator */
    if (len >= 2)
      text[len - 2] = '\0';
    p->text = text;
    text = NULL;
  }
  if (!st)
    st = cs_spectrum_set_meta(s, "preprocessing", *p->text ? p->text : NULL,
                              err);
  for (size_t i = 0; !st && i < s->n; i++)
    if (!isfinite(s->y[i]) || !isfinite(base[i]))
      st = csi_error(err, CS_ERR_NUMERIC,
                     "preprocessing gave a non-finite value at x = %.10g",
                     s->x[i]);
  free(text);
  if (st) {
    cs_spectrum_free(s);
    *sp = NULL;
  }
  return st;
}

cs_status cs_pipeline_apply(cs_pipeline *p, const cs_spectrum *in,
                            cs_spectrum **out, double *baseline_out,
                            cs_error *err) {
  *out = NULL;
  if (!p || !in)
    return csi_error(err, CS_ERR_ARG, "no pipeline or spectrum");
  size_t cap = cs_pipeline_max_points(p, in);
  cs_spectrum *s = NULL;
  double *base = calloc(cap ? cap : 1, sizeof *base);
  if (!base)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = apply_pre(p, in, &s, err);
  if (!st && p->has[ST_BASELINE] &&
      (st = cs_baseline_fit(s->x, s->y, s->n, &p->baseline, base, err))) {
    csi_error_prefix(err, "baseline");
    cs_spectrum_free(s);
  }
  if (!st)
    st = apply_post(p, &s, base, baseline_out != NULL, err);
  if (!st && baseline_out)
    memcpy(baseline_out, base, s->n * sizeof *base);
  free(base);
  if (!st)
    *out = s;
  return st;
}

cs_status cs_pipeline_apply_batch(cs_pipeline *p, const cs_spectrum *const *in,
                                  size_t count, cs_spectrum **out,
                                  double *const *baseline_out,
                                  cs_status *st_each, cs_error *err_each) {
  if (!p || (count && (!in || !out || !st_each)))
    return CS_ERR_ARG;
  cs_spectrum **s = calloc(count ? count : 1, sizeof *s);
  double **base = calloc(count ? count : 1, sizeof *base);
  const double **xs = malloc((count ? count : 1) * sizeof *xs);
  const double **ys = malloc((count ? count : 1) * sizeof *ys);
  double **zs = malloc((count ? count : 1) * sizeof *zs);
  size_t *idx = malloc((count ? count : 1) * sizeof *idx);
  cs_status *gst = malloc((count ? count : 1) * sizeof *gst);
  cs_error *gerr = malloc((count ? count : 1) * sizeof *gerr);
  unsigned char *taken = calloc(count ? count : 1, 1);
  cs_status first = CS_OK;
  int nomem =
      !s || !base || !xs || !ys || !zs || !idx || !gst || !gerr || !taken;
  for (size_t k = 0; k < count; k++) {
    cs_error e1, *e = err_each ? &err_each[k] : &e1;
    out[k] = NULL;
    st_each[k] = CS_OK;
    if (!in[k])
      st_each[k] = csi_error(e, CS_ERR_ARG, "no pipeline or spectrum");
    else if (nomem ||
             !(base[k] = calloc(cs_pipeline_max_points(p, in[k]) + 1,
                                sizeof *base[k])))
      st_each[k] = csi_error(e, CS_ERR_NOMEM, "out of memory");
    else
      st_each[k] = apply_pre(p, in[k], &s[k], e);
  }
  /* The baselines, one batch per number of points (usually one). */
  if (!nomem && p->has[ST_BASELINE])
    for (size_t k = 0; k < count; k++) {
      if (st_each[k] || taken[k])
        continue; /* failed, or fitted with an earlier group */
      size_t n = s[k]->n, m = 0;
      for (size_t j = k; j < count; j++)
        if (!st_each[j] && !taken[j] && s[j]->n == n) {
          xs[m] = s[j]->x, ys[m] = s[j]->y, zs[m] = base[j], idx[m++] = j;
          taken[j] = 1;
        }
      csi_baseline_fit_many(xs, ys, n, m, &p->baseline, zs, gst, gerr, NULL);
      for (size_t q = 0; q < m; q++) {
        size_t j = idx[q];
        if (!gst[q])
          continue;
        st_each[j] = gst[q];
        if (err_each) {
          err_each[j] = gerr[q];
          csi_error_prefix(&err_each[j], "baseline");
        }
        cs_spectrum_free(s[j]);
        s[j] = NULL;
      }
    }
  for (size_t k = 0; k < count; k++) {
    cs_error e1, *e = err_each ? &err_each[k] : &e1;
    if (!st_each[k])
      st_each[k] = apply_post(p, &s[k], base[k],
                              baseline_out && baseline_out[k], e);
    if (!st_each[k]) {
      if (baseline_out && baseline_out[k])
        memcpy(baseline_out[k], base[k], s[k]->n * sizeof *base[k]);
      out[k] = s[k];
    }
    if (st_each[k] && !first)
      first = st_each[k];
    if (base)
      free(base[k]);
  }
  free(s), free(base), free(xs), free(ys), free(zs), free(idx), free(gst);
  free(gerr), free(taken);
  return first;
}
