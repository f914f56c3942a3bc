/* spikes.c: cosmic-spike removal, single spectrum (Whitaker & Hayes 2018
 * modified z-score of the first difference plus a shape test) and
 * multi-frame (median across frames of the same spot). */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SIDE 5          /* background points each side of a candidate */
#define WING_FRAC 0.25  /* neighbour above this share of the edge: a band */
#define MAX_WIDTH 64

cs_spike_opts cs_spike_opts_default(void) {
  /* Whitaker & Hayes suggest 3.5 for outliers in general; 6 leaves noise
   * alone at 1024 points (a 6-sigma noise jump is ~1e-9 likely). */
  cs_spike_opts o = {6.0, 3};
  return o;
}

static cs_status check(const cs_spike_opts *o, cs_error *err) {
  if (!o)
    return csi_error(err, CS_ERR_ARG, "no spike options");
  if (!(isfinite(o->threshold) && o->threshold > 0))
    return csi_error(err, CS_ERR_ARG,
                     "spike threshold must be a positive number, got %g",
                     o->threshold);
  if (o->max_width < 1 || o->max_width > MAX_WIDTH)
    return csi_error(err, CS_ERR_ARG, "spike width must be 1..%d, got %d",
                     MAX_WIDTH, o->max_width);
  return CS_OK;
}

cs_status cs_spike_opts_parse(const char *spec, cs_spike_opts *out,
                              cs_error *err) {
  if (!spec || !out)
    return csi_error(err, CS_ERR_ARG, "no spike spec");
  cs_spike_opts o = cs_spike_opts_default();
  if (strcmp(spec, "auto") != 0) {
    char buf[128], *f[3];
    if (strlen(spec) >= sizeof buf)
      return csi_error(err, CS_ERR_ARG, "spike spec too long");
    strcpy(buf, spec);
    int nf = csi_split(buf, ':', f, 2);
    char *end = NULL;
    long w = 0;
    if (nf == 2)
      w = strtol(f[1], &end, 10);
    if (nf > 2 || csi_parse_double(f[0], &o.threshold) ||
        (nf == 2 && (!*f[1] || *end || w < 1 || w > MAX_WIDTH)))
      return csi_error(err, CS_ERR_ARG,
                       "spikes wants auto, Z or Z:WIDTH, got '%s'", spec);
    o.max_width = (int)w ? (int)w : o.max_width;
  }
  cs_status st = check(&o, err);
  if (!st)
    *out = o;
  return st;
}

cs_status cs_spike_opts_format(const cs_spike_opts *o, char *buf, size_t cap,
                               cs_error *err) {
  cs_status st = check(o, err);
  if (st)
    return st;
  int n = csi_snprintf(buf, cap, "%.17g:%d", o->threshold, o->max_width);
  if (n < 0 || (size_t)n >= cap)
    return csi_error(err, CS_ERR_ARG, "buffer too small for spike spec");
  return CS_OK;
}

/* Median of y over [lo, hi] (clipped to [0, n)), and the window centre;
 * 0 when the window is empty. */
static int side_level(const double *y, size_t n, long lo, long hi,
                      double *tmp, double *level, double *centre) {
  if (lo < 0)
    lo = 0;
  if (hi > (long)n - 1)
    hi = (long)n - 1;
  if (hi < lo)
    return 0;
  size_t m = 0;
  for (long i = lo; i <= hi; i++)
    tmp[m++] = y[i];
  *level = csi_median(tmp, m);
  *centre = 0.5 * (double)(lo + hi);
  return 1;
}

/* Shape test for candidate pixels a..b: a spike stands alone on the local
 * background; a real band's neighbours carry its wings. */
static int is_spike(const double *y, size_t n, long a, long b) {
  double tmp[SIDE], bl = 0, cl = 0, br = 0, cr = 0;
  int hl = side_level(y, n, a - 1 - SIDE, a - 2, tmp, &bl, &cl);
  int hr = side_level(y, n, b + 2, b + 1 + SIDE, tmp, &br, &cr);
  if (!hl && !hr)
    return 0;
  if (!hl)
    bl = br, cl = cr - 1;
  if (!hr)
    br = bl, cr = cl + 1;
#define BASE(i) (bl + (br - bl) * ((double)(i) - cl) / (cr - cl))
  double h = -INFINITY;
  for (long i = a; i <= b; i++)
    h = fmax(h, y[i] - BASE(i));
  if (!(h > 0))
    return 0;
  /* each outside neighbour against the group pixel next to it: a band's
   * flanks decay gradually, a spike ends abruptly */
  if (a > 0 && !(y[a - 1] - BASE(a - 1) < WING_FRAC * (y[a] - BASE(a))))
    return 0;
  if (b + 1 < (long)n && !(y[b + 1] - BASE(b + 1) < WING_FRAC * (y[b] - BASE(b))))
    return 0;
#undef BASE
  return 1;
}

/* Replace marked points by linear interpolation (in index) between the
 * nearest unmarked neighbours. */
static void fill(double *y, size_t n, const unsigned char *mark) {
  size_t i = 0;
  while (i < n) {
    if (!mark[i]) {
      i++;
      continue;
    }
    size_t j = i;
    while (j < n && mark[j])
      j++;
    /* run [i, j) */
    int hl = i > 0, hr = j < n;
    double yl = hl ? y[i - 1] : 0, yr = hr ? y[j] : 0;
    for (size_t k = i; k < j; k++) {
      if (hl && hr)
        y[k] = yl + (yr - yl) * (double)(k - i + 1) / (double)(j - i + 1);
      else if (hl || hr)
        y[k] = hl ? yl : yr;
    }
    i = j;
  }
}

cs_status cs_spikes_remove(double *y, size_t n, const cs_spike_opts *o,
                           unsigned char *where, size_t *nremoved,
                           cs_error *err) {
  cs_status st = check(o, err);
  if (st)
    return st;
  if (nremoved)
    *nremoved = 0;
  if (where)
    memset(where, 0, n);
  if (n < 5)
    return CS_OK;
  size_t nd = n - 1;
  double *d = malloc(2 * nd * sizeof *d + n);
  if (!d)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  double *tmp = d + nd;
  unsigned char *mark = (unsigned char *)(tmp + nd);
  memset(mark, 0, n);
  for (size_t k = 0; k < nd; k++)
    tmp[k] = d[k] = y[k + 1] - y[k];
  double med = csi_median(tmp, nd);
  for (size_t k = 0; k < nd; k++)
    tmp[k] = fabs(d[k] - med);
  /* modified z-score: 0.6745 (d - med) / MAD; with MAD = 0 (quantised
   * flat data) fall back on 1.2533 x mean absolute deviation, summed as
   * shares so two 1e308 steps do not make it inf (and every Z 0) */
  double scale = csi_median(tmp, nd) / 0.6745;
  if (!(scale > 0)) {
    double mean = 0;
    for (size_t k = 0; k < nd; k++)
      mean += tmp[k] / (double)nd;
    scale = 1.253314 * mean;
  }
  size_t removed = 0;
  if (scale > 0) {
    long w = o->max_width, last = (long)nd - 1;
    double thr = o->threshold;
#define Z(k) ((d[k] - med) / scale)
    for (long k = 0; k <= last;) {
      long a = -1, b = -1;
      if (Z(k) > thr) { /* rise into pixel k+1: the first fall that leaves a
                           lone spike (a decaying 2-3 pixel spike falls
                           twice) */
        for (long k2 = k + 1; k2 <= last && k2 <= k + w && a < 0; k2++)
          if (Z(k2) < -thr && is_spike(y, n, k + 1, k2))
            a = k + 1, b = k2;
        if (a < 0 && last - k < w && is_spike(y, n, k + 1, (long)n - 1))
          a = k + 1, b = (long)n - 1; /* spike on the last pixels */
      } else if (Z(k) < -thr && k < w) { /* spike on the first pixels */
        int rise = 0;
        for (long j = 0; j < k; j++)
          rise |= Z(j) > thr;
        if (!rise && is_spike(y, n, 0, k))
          a = 0, b = k;
      }
#undef Z
      if (a >= 0) {
        for (long i = a; i <= b; i++)
          mark[i] = 1;
        removed += (size_t)(b - a + 1);
        k = b + 1;
      } else {
        k++;
      }
    }
  }
  fill(y, n, mark);
  if (where)
    memcpy(where, mark, n);
  if (nremoved)
    *nremoved = removed;
  free(d);
  return CS_OK;
}

/* Record the count and x positions of replaced points. */
static cs_status record(cs_spectrum *s, const unsigned char *mark,
                        size_t count, cs_error *err) {
  char num[32];
  csi_snprintf(num, sizeof num, "%zu", count);
  cs_status st = cs_spectrum_set_meta(s, "spikes_removed", num, err);
  if (st || !count)
    return st ? st : cs_spectrum_set_meta(s, "spike_x", NULL, err);
  csi_buf b = {0};
  for (size_t i = 0; i < s->n; i++)
    if (mark[i])
      csi_buf_printf(&b, "%s%.10g", b.n ? " " : "", s->x[i]);
  if (b.oom || !b.p) {
    csi_buf_free(&b);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  st = cs_spectrum_set_meta(s, "spike_x", b.p, err);
  csi_buf_free(&b);
  return st;
}

cs_status cs_spectrum_remove_spikes(cs_spectrum *s, const cs_spike_opts *o,
                                    size_t *nremoved, cs_error *err) {
  if (nremoved)
    *nremoved = 0;
  if (!s)
    return csi_error(err, CS_ERR_ARG, "no spectrum");
  unsigned char *mark = malloc(s->n ? s->n : 1);
  double *y = malloc((s->n ? s->n : 1) * sizeof *y);
  if (!mark || !y) {
    free(mark), free(y);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  memcpy(y, s->y, s->n * sizeof *y);
  size_t count = 0;
  cs_status st = cs_spikes_remove(y, s->n, o, mark, &count, err);
  if (!st)
    st = record(s, mark, count, err);
  if (!st) { /* only touch the data once the metadata is in */
    memcpy(s->y, y, s->n * sizeof *y);
    if (nremoved)
      *nremoved = count;
  }
  free(mark), free(y);
  return st;
}

cs_status cs_spikes_remove_frames(cs_spectrum *const *frames, size_t m,
                                  const cs_spike_opts *o, size_t *nremoved,
                                  cs_error *err) {
  if (nremoved)
    *nremoved = 0;
  cs_status st = check(o, err);
  if (st)
    return st;
  if (!frames || m < 3)
    return csi_error(err, CS_ERR_ARG,
                     "multi-frame spike removal needs at least 3 frames, got "
                     "%zu",
                     frames ? m : 0);
  size_t n = frames[0]->n;
  const double *x0 = frames[0]->x;
  double tol = n > 1 ? 1e-6 * fabs(x0[n - 1] - x0[0]) / (double)(n - 1) : 0;
  for (size_t f = 1; f < m; f++) {
    if (frames[f]->n != n)
      return csi_error(err, CS_ERR_DIM,
                       "frame %zu has %zu points, frame 0 has %zu", f,
                       frames[f]->n, n);
    for (size_t i = 0; i < n; i++)
      if (fabs(frames[f]->x[i] - x0[i]) > tol)
        return csi_error(err, CS_ERR_DIM,
                         "frame %zu differs from frame 0 at x = %.10g", f,
                         x0[i]);
  }
  double *med = malloc(n * sizeof *med), *sig = malloc(n * sizeof *sig);
  double *v = malloc(m * sizeof *v), *tmp = malloc(n * sizeof *tmp);
  unsigned char *mark = calloc(m * n, 1);
  if (!med || !sig || !v || !tmp || !mark) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    for (size_t f = 0; f < m; f++)
      v[f] = frames[f]->y[i];
    med[i] = csi_median(v, m);
    for (size_t f = 0; f < m; f++)
      v[f] = fabs(frames[f]->y[i] - med[i]);
    sig[i] = 1.4826 * csi_median(v, m);
  }
  /* floor: the typical spread, so a pixel where frames happen to agree
   * does not make every small difference a spike */
  memcpy(tmp, sig, n * sizeof *tmp);
  double floor_sig = csi_median(tmp, n);
  if (!(floor_sig > 0)) {
    floor_sig = 0;
    for (size_t i = 0; i < n; i++)
      floor_sig += sig[i] / (double)n;
  }
  size_t total = 0;
  if (floor_sig > 0)
    for (size_t f = 0; f < m; f++)
      for (size_t i = 0; i < n; i++) {
        double s = fmax(sig[i], floor_sig);
        if (frames[f]->y[i] - med[i] > o->threshold * s) {
          mark[f * n + i] = 1;
          total++;
        }
      }
  for (size_t f = 0; f < m && !st; f++) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
      count += mark[f * n + i];
    st = record(frames[f], mark + f * n, count, err);
  }
  /* replace by the median of the frames not spiked at that pixel */
  for (size_t f = 0; f < m && !st; f++)
    for (size_t i = 0; i < n; i++)
      if (mark[f * n + i]) {
        size_t k = 0;
        for (size_t g = 0; g < m; g++)
          if (g != f && !mark[g * n + i])
            v[k++] = frames[g]->y[i];
        frames[f]->y[i] = k ? csi_median(v, k) : med[i];
      }
  if (!st && nremoved)
    *nremoved = total;
done:
  free(med), free(sig), free(v), free(tmp), free(mark);
  return st;
}
