/* spectrum.c: cs_spectrum and cs_dataset: construction, accessors, metadata
 * and the enum <-> name tables. */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ---- */

static const char *const axis_names[] = {"unknown", "raman_shift", "wavenumber",
                                         "wavelength_nm", "pixel"};
static const char *const quantity_names[] = {
    "arbitrary", "counts", "counts_per_s", "absorbance", "transmittance_pct",
    "reflectance"};
static const char *const technique_names[] = {"unknown", "raman", "ftir"};

#define NAMES_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *tab, size_t n, int v) {
  return v >= 0 && (size_t)v < n ? tab[v] : tab[0];
}

static cs_status from_name(const char *const *tab, size_t n, const char *name,
                           int *out) {
  for (size_t i = 0; name && i < n; i++)
    if (csi_strcasecmp(tab[i], name) == 0) {
      *out = (int)i;
      return CS_OK;
    }
  return CS_ERR_ARG;
}

const char *cs_axis_name(cs_axis a) {
  return name_of(axis_names, NAMES_LEN(axis_names), (int)a);
}
const char *cs_quantity_name(cs_quantity q) {
  return name_of(quantity_names, NAMES_LEN(quantity_names), (int)q);
}
const char *cs_technique_name(cs_technique t) {
  return name_of(technique_names, NAMES_LEN(technique_names), (int)t);
}

cs_status cs_axis_from_name(const char *name, cs_axis *out) {
  int v;
  cs_status st = from_name(axis_names, NAMES_LEN(axis_names), name, &v);
  if (st == CS_OK)
    *out = (cs_axis)v;
  return st;
}
cs_status cs_quantity_from_name(const char *name, cs_quantity *out) {
  int v;
  cs_status st = from_name(quantity_names, NAMES_LEN(quantity_names), name, &v);
  if (st == CS_OK)
    *out = (cs_quantity)v;
  return st;
}
cs_status cs_technique_from_name(const char *name, cs_technique *out) {
  int v;
  cs_status st =
      from_name(technique_names, NAMES_LEN(technique_names), name, &v);
  if (st == CS_OK)
    *out = (cs_technique)v;
  return st;
}

/* ---- spectrum ---- */

cs_spectrum *csi_spectrum_alloc(size_t n) {
  cs_spectrum *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  size_t m = n ? n : 1;
  s->x = malloc(m * sizeof *s->x);
  s->y = malloc(m * sizeof *s->y);
  if (!s->x || !s->y) {
    free(s->x);
    free(s->y);
    free(s);
    return NULL;
  }
  s->n = n;
  s->laser_nm = NAN;
  s->exposure_s = NAN;
  return s;
}

cs_status cs_spectrum_new(const double *x, const double *y, size_t n,
                          cs_axis axis, cs_quantity quantity, cs_spectrum **out,
                          cs_error *err) {
  *out = NULL;
  if (!x || !y || n == 0)
    return csi_error(err, CS_ERR_ARG, "a spectrum needs at least one point");
  if (n > CSI_MAX_POINTS)
    return csi_error(err, CS_ERR_ARG, "too many points (%zu)", n);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]) || !isfinite(y[i]))
      return csi_error(err, CS_ERR_ARG, "non-finite value at point %zu", i);
  cs_spectrum *s = csi_spectrum_alloc(n);
  if (!s)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  memcpy(s->x, x, n * sizeof *x);
  memcpy(s->y, y, n * sizeof *y);
  s->axis = axis;
  s->quantity = quantity;
  *out = s;
  return CS_OK;
}

static void free_meta(cs_spectrum *s) {
  for (size_t i = 0; i < s->nmeta; i++) {
    free(s->meta[i].key);
    free(s->meta[i].value);
  }
  free(s->meta);
  s->meta = NULL;
  s->nmeta = s->capmeta = 0;
}

void cs_spectrum_free(cs_spectrum *s) {
  if (!s)
    return;
  free_meta(s);
  free(s->x);
  free(s->y);
  free(s);
}

/* Four 64-bit lanes (FNV-style multiply, xor-shift), so the chain of
 * multiplies does not serialise the pass; bytes past the last 32 and the
 * lanes are folded in at the end. */
static unsigned long long key_mix(unsigned long long h, const void *p,
                                  size_t n) {
  const unsigned char *b = p;
  const unsigned long long P = 0x100000001b3ULL;
  unsigned long long l[4] = {h, h ^ 1, h ^ 2, h ^ 3};
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int k = 0; k < 4; k++) {
      unsigned long long w;
      memcpy(&w, b + i + 8 * (size_t)k, 8);
      l[k] = (l[k] ^ w) * P;
      l[k] ^= l[k] >> 29;
    }
  for (; i < n; i++)
    l[0] = (l[0] ^ b[i]) * P;
  for (int k = 1; k < 4; k++)
    l[0] = ((l[0] ^ l[k]) * P) ^ (l[0] >> 31);
  return l[0];
}

unsigned long long csi_spectrum_key(const cs_spectrum *s) {
  unsigned long long h = 0xcbf29ce484222325ULL;
  int e[4] = {(int)s->axis, (int)s->quantity, (int)s->technique,
              s->accumulations};
  h = key_mix(h, &s->n, sizeof s->n);
  h = key_mix(h, e, sizeof e);
  h = key_mix(h, &s->laser_nm, sizeof s->laser_nm);
  h = key_mix(h, &s->exposure_s, sizeof s->exposure_s);
  h = key_mix(h, s->x, s->n * sizeof *s->x);
  h = key_mix(h, s->y, s->n * sizeof *s->y);
  return h ? h : 1;
}

/* Append key = value (copies) where the list has room for one more. */
static cs_status meta_append(cs_spectrum *s, const char *key,
                             const char *value, cs_error *err) {
  char *k = csi_strdup(key), *v = csi_strdup(value);
  if (!k || !v) {
    free(k);
    free(v);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  s->meta[s->nmeta].key = k;
  s->meta[s->nmeta].value = v;
  s->nmeta++;
  return CS_OK;
}

void csi_spectrum_copy_fields(cs_spectrum *dst, const cs_spectrum *src) {
  dst->axis = src->axis;
  dst->quantity = src->quantity;
  dst->technique = src->technique;
  dst->laser_nm = src->laser_nm;
  dst->exposure_s = src->exposure_s;
  dst->accumulations = src->accumulations;
  dst->source_index = src->source_index;
}

cs_status csi_spectrum_copy_meta(cs_spectrum *dst, const cs_spectrum *src,
                                 cs_error *err) {
  csi_spectrum_copy_fields(dst, src);
  if (!dst->nmeta && src->nmeta) {
    /* into an empty list (every copy): src's keys are already checked and
     * distinct, so no per-key search; the same entries in the same order */
    size_t cap = dst->capmeta ? dst->capmeta : 8;
    while (cap < src->nmeta)
      cap *= 2;
    if (cap != dst->capmeta) {
      csi_kv *m = realloc(dst->meta, cap * sizeof *m);
      if (!m)
        return csi_error(err, CS_ERR_NOMEM, "out of memory");
      dst->meta = m;
      dst->capmeta = cap;
    }
    for (size_t i = 0; i < src->nmeta; i++) {
      cs_status st = meta_append(dst, src->meta[i].key, src->meta[i].value, err);
      if (st)
        return st;
    }
    return CS_OK;
  }
  for (size_t i = 0; i < src->nmeta; i++) {
    cs_status st =
        cs_spectrum_set_meta(dst, src->meta[i].key, src->meta[i].value, err);
    if (st)
      return st;
  }
  return CS_OK;
}

cs_status cs_spectrum_copy(const cs_spectrum *s, cs_spectrum **out,
                           cs_error *err) {
  *out = NULL;
  cs_spectrum *c = csi_spectrum_alloc(s->n);
  if (!c)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  memcpy(c->x, s->x, s->n * sizeof *c->x);
  memcpy(c->y, s->y, s->n * sizeof *c->y);
  cs_status st = csi_spectrum_copy_meta(c, s, err);
  if (st) {
    cs_spectrum_free(c);
    return st;
  }
  *out = c;
  return CS_OK;
}

cs_status csi_spectrum_check(const cs_spectrum *s, cs_error *err) {
  if (s->n == 0)
    return csi_error(err, CS_ERR_MALFORMED, "spectrum has no points");
  for (size_t i = 0; i < s->n; i++)
    if (!isfinite(s->x[i]) || !isfinite(s->y[i]))
      return csi_error(err, CS_ERR_MALFORMED,
                       "non-finite value at point %zu of %zu", i, s->n);
  if (s->n > 1) {
    int up = s->x[1] > s->x[0];
    for (size_t i = 1; i < s->n; i++)
      if (up ? !(s->x[i] > s->x[i - 1]) : !(s->x[i] < s->x[i - 1]))
        return csi_error(err, CS_ERR_MALFORMED,
                         "x axis is not strictly monotonic at point %zu "
                         "(%.6g after %.6g)",
                         i, s->x[i], s->x[i - 1]);
  }
  return CS_OK;
}

size_t cs_spectrum_n(const cs_spectrum *s) { return s->n; }
const double *cs_spectrum_x(const cs_spectrum *s) { return s->x; }
const double *cs_spectrum_y(const cs_spectrum *s) { return s->y; }

cs_status cs_spectrum_set_y(cs_spectrum *s, const double *y, size_t n,
                            cs_error *err) {
  if (n != s->n)
    return csi_error(err, CS_ERR_DIM, "set_y: %zu values for %zu points", n,
                     s->n);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(y[i]))
      return csi_error(err, CS_ERR_ARG, "non-finite value at point %zu", i);
  memmove(s->y, y, n * sizeof *y);
  return CS_OK;
}

cs_axis cs_spectrum_axis(const cs_spectrum *s) { return s->axis; }
cs_quantity cs_spectrum_quantity(const cs_spectrum *s) { return s->quantity; }
cs_technique cs_spectrum_technique(const cs_spectrum *s) { return s->technique; }
void cs_spectrum_set_axis(cs_spectrum *s, cs_axis a) { s->axis = a; }
void cs_spectrum_set_quantity(cs_spectrum *s, cs_quantity q) { s->quantity = q; }
void cs_spectrum_set_technique(cs_spectrum *s, cs_technique t) {
  s->technique = t;
}
double cs_spectrum_laser_nm(const cs_spectrum *s) { return s->laser_nm; }
double cs_spectrum_exposure_s(const cs_spectrum *s) { return s->exposure_s; }
int cs_spectrum_accumulations(const cs_spectrum *s) { return s->accumulations; }
/* Non-finite or non-positive values mean "unknown". */
void cs_spectrum_set_laser_nm(cs_spectrum *s, double nm) {
  s->laser_nm = isfinite(nm) && nm > 0 ? nm : NAN;
}
void cs_spectrum_set_exposure_s(cs_spectrum *s, double sec) {
  s->exposure_s = isfinite(sec) && sec >= 0 ? sec : NAN;
}
void cs_spectrum_set_accumulations(cs_spectrum *s, int n) {
  s->accumulations = n > 0 ? n : 0;
}
size_t cs_spectrum_source_index(const cs_spectrum *s) { return s->source_index; }
void cs_spectrum_set_source_index(cs_spectrum *s, size_t i) {
  s->source_index = i;
}

const char *cs_spectrum_meta(const cs_spectrum *s, const char *key) {
  for (size_t i = 0; key && i < s->nmeta; i++)
    if (strcmp(s->meta[i].key, key) == 0)
      return s->meta[i].value;
  return NULL;
}

cs_status cs_spectrum_set_meta(cs_spectrum *s, const char *key,
                               const char *value, cs_error *err) {
  if (!key || !*key)
    return csi_error(err, CS_ERR_ARG, "empty metadata key");
  for (const char *p = key; *p; p++)
    if (!isgraph((unsigned char)*p) && *p != ' ')
      return csi_error(err, CS_ERR_ARG, "metadata key has a control character");
  /* core ids group spectra and are TSV fields: bounded, one line */
  if (value && *value && !strcmp(key, CS_META_CORE_ID)) {
    cs_status st = cs_core_id_check(value, err);
    if (st)
      return st;
  }
  for (size_t i = 0; i < s->nmeta; i++) {
    if (strcmp(s->meta[i].key, key) != 0)
      continue;
    if (!value) {
      free(s->meta[i].key);
      free(s->meta[i].value);
      memmove(s->meta + i, s->meta + i + 1,
              (s->nmeta - i - 1) * sizeof *s->meta);
      s->nmeta--;
      return CS_OK;
    }
    char *v = csi_strdup(value);
    if (!v)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    free(s->meta[i].value);
    s->meta[i].value = v;
    return CS_OK;
  }
  if (!value)
    return CS_OK;
  if (s->nmeta == s->capmeta) {
    size_t ncap = s->capmeta ? s->capmeta * 2 : 8;
    csi_kv *m = realloc(s->meta, ncap * sizeof *m);
    if (!m)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    s->meta = m;
    s->capmeta = ncap;
  }
  return meta_append(s, key, value, err);
}

size_t cs_spectrum_meta_count(const cs_spectrum *s) { return s->nmeta; }

void cs_spectrum_meta_at(const cs_spectrum *s, size_t i, const char **key,
                         const char **value) {
  if (i >= s->nmeta) {
    *key = *value = NULL;
    return;
  }
  *key = s->meta[i].key;
  *value = s->meta[i].value;
}

/* ---- dataset ---- */

cs_dataset *csi_dataset_alloc(void) { return calloc(1, sizeof(cs_dataset)); }

cs_status cs_dataset_new(cs_dataset **out, cs_error *err) {
  if (!out)
    return csi_error(err, CS_ERR_ARG, "no output dataset");
  if (!(*out = csi_dataset_alloc()))
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  return CS_OK;
}

void cs_dataset_free(cs_dataset *ds) {
  if (!ds)
    return;
  for (size_t i = 0; i < ds->n; i++)
    cs_spectrum_free(ds->items[i]);
  free(ds->items);
  free(ds);
}

size_t cs_dataset_count(const cs_dataset *ds) { return ds->n; }

const cs_spectrum *cs_dataset_get(const cs_dataset *ds, size_t i) {
  return i < ds->n ? ds->items[i] : NULL;
}

cs_spectrum *cs_dataset_get_mut(cs_dataset *ds, size_t i) {
  return i < ds->n ? ds->items[i] : NULL;
}

cs_status cs_dataset_push(cs_dataset *ds, cs_spectrum *s, cs_error *err) {
  if (!s)
    return csi_error(err, CS_ERR_ARG, "cannot add a NULL spectrum");
  if (ds->n >= CSI_MAX_SPECTRA) {
    cs_spectrum_free(s);
    return csi_error(err, CS_ERR_UNSUPPORTED, "more than %zu spectra",
                     CSI_MAX_SPECTRA);
  }
  if (ds->n == ds->cap) {
    size_t ncap = ds->cap ? ds->cap * 2 : 4;
    cs_spectrum **it = realloc(ds->items, ncap * sizeof *it);
    if (!it) {
      cs_spectrum_free(s);
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    }
    ds->items = it;
    ds->cap = ncap;
  }
  ds->items[ds->n++] = s;
  return CS_OK;
}

cs_spectrum *cs_dataset_take(cs_dataset *ds, size_t i) {
  if (i >= ds->n)
    return NULL;
  cs_spectrum *s = ds->items[i];
  memmove(ds->items + i, ds->items + i + 1, (ds->n - i - 1) * sizeof *ds->items);
  ds->n--;
  return s;
}
