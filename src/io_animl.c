/* io_animl.c: ASTM AnIML 0.90 reader and writer (FORMATS.md section 4).
 *
 * Reading: every numeric dependent Series of every Result/SeriesSet (also in
 * nested ExperimentSteps) is one spectrum, against the SeriesSet's
 * independent Series (or, as pyAnIML writes it, an independent Series beside
 * the SeriesSet in the Result; or the point index).  Values come from
 * IndividualValueSet, EncodedValueSet (base64, little-endian) and
 * AutoIncrementedValueSet.  Axis kind, quantity and technique come from series
 * names, units and the Technique; laser/exposure from Method parameters.
 *
 * Writing: one ExperimentStep per spectrum, EncodedValueSets (Float32 when
 * every value is exactly a float, else Float64: always exact),
 * and a Method Category "calcspec" that restores every field on reading. */
#include "xmlutil.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ANIML_NS "urn:org:astm:animl:schema:core:draft:0.90"

static int sniff(const unsigned char *head, size_t n) {
  if (csi_xml_sniff_root(head, n, "AnIML"))
    return csi_memcasemem(head, n, ANIML_NS) ? 100 : 80;
  return 0;
}

/* ---- reading ---- */

/* Context inherited down nested ExperimentSteps. */
typedef struct {
  const char *sample_id;   /* borrowed from the document */
  const char *sample_name;
  cs_technique technique;
  double laser_nm, exposure_s;
  int accumulations;
  char *acquired, *instrument, *step_name; /* owned copies */
  xmlNodePtr calcspec;     /* Method/Category name="calcspec", if any */
} step_ctx;

typedef struct {
  char *id, *name;
  size_t ord; /* place in the SampleSet: the first of equal ids wins */
} sample_ref;

typedef struct {
  cs_dataset *ds;
  size_t total_points; /* bound on memory across the file (the DOM reader)
                        * or one experiment step (the streaming one) */
  sample_ref *samples; /* the first SampleSet's sampleID -> name, sorted */
  size_t nsamples, samples_cap;
} reader;

static int contains_ci(const char *hay, const char *needle) {
  return hay && csi_memcasemem((const unsigned char *)hay, strlen(hay), needle);
}

/* Unit of a Series/Parameter: label and the scale of its SIUnit to the SI
 * base (factor), exponent and base name. */
typedef struct {
  char *label;
  double factor;
  int exponent;
  char *base;
} unit_info;

static void unit_free(unit_info *u) {
  free(u->label);
  free(u->base);
}

static unit_info unit_of(const xmlNode *n) {
  unit_info u = {NULL, 1.0, 1, NULL};
  xmlNodePtr un = csi_xml_child(n, "Unit");
  if (!un)
    return u;
  u.label = csi_xml_attr(un, "label");
  xmlNodePtr si = csi_xml_child(un, "SIUnit");
  if (si) {
    double v;
    if (csi_xml_attr_double(si, "factor", &v) == 0 && v != 0)
      u.factor = v;
    if (csi_xml_attr_double(si, "exponent", &v) == 0) /* 0: none we use */
      u.exponent = v == floor(v) && fabs(v) <= 100 ? (int)v : 0;
    u.base = csi_xml_text(si);
    if (u.base)
      csi_trim(u.base);
  }
  return u;
}

/* Multiplier to nm for a length unit (label through the shared unit map,
 * else its SIUnit), or 0. */
static double to_nm(const unit_info *u);

/* Axis of an SIUnit written without a label we know: m^-1 or m with its
 * factor (factor 1e-2 per metre is per centimetre). */
static csi_axis_unit si_axis(const unit_info *u, cs_technique tech) {
  csi_axis_unit a = {CS_AXIS_UNKNOWN, 1.0, 0, 0};
  if (!u->base || strcmp(u->base, "m"))
    return a;
  if (u->exponent == -1) {
    a = csi_axis_from_unit("1/cm", tech);
    a.factor = u->factor / 1e-2;
  } else if (u->exponent == 1) {
    a.axis = CS_AXIS_WAVELENGTH_NM;
    a.factor = u->factor / 1e-9;
  }
  return a;
}

static double to_nm(const unit_info *u) {
  csi_axis_unit a = csi_axis_from_unit(u->label, CS_TECH_UNKNOWN);
  if (a.axis == CS_AXIS_UNKNOWN || a.inverse)
    a = si_axis(u, CS_TECH_UNKNOWN);
  return a.axis == CS_AXIS_WAVELENGTH_NM && !a.inverse ? a.factor : 0;
}

/* Multiplier to seconds for a time unit, or 0. */
static double to_s(const unit_info *u) {
  if (u->label) {
    if (!strcmp(u->label, "s"))
      return 1.0;
    if (!strcmp(u->label, "ms"))
      return 1e-3;
    if (!strcmp(u->label, "us") || !strcmp(u->label, "\xC2\xB5s"))
      return 1e-6;
    if (!strcmp(u->label, "min"))
      return 60.0;
  }
  if (u->base && !strcmp(u->base, "s") && u->exponent == 1)
    return u->factor;
  return 0;
}

/* The numeric value of a Parameter (<F>, <D>, <I>, <L>); 0 ok. */
static int param_number(const xmlNode *p, double *out) {
  for (xmlNodePtr c = csi_xml_child(p, NULL); c; c = csi_xml_next(c, NULL)) {
    if (csi_xml_is(c, "F") || csi_xml_is(c, "D") || csi_xml_is(c, "I") ||
        csi_xml_is(c, "L")) {
      char *t = csi_xml_text(c);
      int rc = t ? csi_parse_double(t, out) : -1;
      free(t);
      return rc;
    }
  }
  return -1;
}

/* The string value of a Parameter (<S>), malloc'd, or NULL. */
static char *param_string(const xmlNode *p) {
  xmlNodePtr s = csi_xml_child(p, "S");
  return s ? csi_xml_text(s) : NULL;
}

/* Pick laser, exposure and accumulations out of free-form Method parameters
 * (no standard names exist; FORMATS.md section 4). */
static void scan_parameters(const xmlNode *n, step_ctx *c, int depth) {
  if (depth > 16)
    return;
  for (xmlNodePtr k = csi_xml_child(n, NULL); k; k = csi_xml_next(k, NULL)) {
    if (csi_xml_is(k, "Category")) {
      scan_parameters(k, c, depth + 1);
      continue;
    }
    if (!csi_xml_is(k, "Parameter"))
      continue;
    char *name = csi_xml_attr(k, "name");
    double v;
    if (name && param_number(k, &v) == 0) {
      unit_info u = unit_of(k);
      if ((contains_ci(name, "laser") || contains_ci(name, "excitation")) &&
          !contains_ci(name, "power")) {
        double f = u.label || u.base ? to_nm(&u) : 1.0;
        if (f > 0 && v * f > 100 && v * f < 5000)
          c->laser_nm = v * f;
      } else if (contains_ci(name, "exposure") ||
                 contains_ci(name, "integration time")) {
        double f = u.label || u.base ? to_s(&u) : 1.0;
        if (f > 0 && v >= 0)
          c->exposure_s = v * f;
      } else if (contains_ci(name, "accumulation") && v >= 1 && v < 1e9 &&
                 v == floor(v)) {
        c->accumulations = (int)v;
      }
      unit_free(&u);
    }
    free(name);
  }
}

static int is_numeric_type(const char *t) {
  return t && (!strcmp(t, "Float32") || !strcmp(t, "Float64") ||
               !strcmp(t, "Int32") || !strcmp(t, "Int64"));
}

/* Series type, tolerating the misspelt attribute of some writers
 * (pyAnIML's "SeriesType"); when absent, guess from the first value. */
static char *series_type(const xmlNode *s) {
  char *t = csi_xml_attr(s, "seriesType");
  if (!t)
    t = csi_xml_attr(s, "SeriesType");
  if (t)
    return t;
  xmlNodePtr ivs = csi_xml_child(s, "IndividualValueSet");
  xmlNodePtr v = ivs ? csi_xml_child(ivs, NULL) : NULL;
  if (csi_xml_is(v, "F"))
    return csi_strdup("Float32");
  if (csi_xml_is(v, "D"))
    return csi_strdup("Float64");
  if (csi_xml_is(v, "I"))
    return csi_strdup("Int32");
  if (csi_xml_is(v, "L"))
    return csi_strdup("Int64");
  return NULL;
}

static int is_independent(const xmlNode *s) {
  char *d = csi_xml_attr(s, "dependency");
  /* "independet" (sic) occurs in the wild */
  int r = d && !csi_strncasecmp(d, "indep", 5);
  free(d);
  return r;
}

/* Values of a Series.  `length` is the SeriesSet length (0 unknown), used for
 * AutoIncrementedValueSet without endIndex.  Returns CS_OK and fills v. */
static cs_status series_values(reader *r, const xmlNode *s, size_t length,
                               csi_dvec *v, cs_error *err) {
  char *type = series_type(s);
  cs_status st = CS_OK;
  if (!is_numeric_type(type)) {
    st = csi_error(err, CS_ERR_UNSUPPORTED, "series type '%s' is not numeric",
                   type ? type : "?");
    goto done;
  }
  /* 0 Float32, 1 Float64, 2 Int32, 3 Int64: decided once, not per value */
  int kind = !strcmp(type, "Float32") ? 0 : !strcmp(type, "Float64") ? 1
             : !strcmp(type, "Int32") ? 2 : 3;
  size_t width = kind == 0 || kind == 2 ? 4 : 8;
  for (xmlNodePtr vs = csi_xml_child(s, NULL); vs && !st;
       vs = csi_xml_next(vs, NULL)) {
    double start;
    /* startIndex must continue where the previous value set ended: sparse
     * series are not spectra. */
    if (csi_xml_attr_double(vs, "startIndex", &start) == 0 &&
        start != (double)v->n &&
        (csi_xml_is(vs, "IndividualValueSet") ||
         csi_xml_is(vs, "EncodedValueSet"))) {
      st = csi_error(err, CS_ERR_UNSUPPORTED,
                     "series '%s' has non-contiguous value sets (startIndex)",
                     (const char *)s->name);
      break;
    }
    if (csi_xml_is(vs, "IndividualValueSet")) {
      for (xmlNodePtr e = csi_xml_child(vs, NULL); e; e = csi_xml_next(e, NULL)) {
        char *t = csi_xml_text(e);
        double x;
        if (!t || csi_parse_double(t, &x)) {
          st = csi_error(err, CS_ERR_MALFORMED, "bad number '%.40s' in <%s>",
                         t ? t : "", (const char *)e->name);
          free(t);
          break;
        }
        free(t);
        if (csi_dvec_push(v, x)) {
          st = csi_error(err, CS_ERR_NOMEM, "too many values");
          break;
        }
      }
    } else if (csi_xml_is(vs, "EncodedValueSet")) {
      char *t = csi_xml_text(vs);
      unsigned char *bytes = NULL;
      size_t nb = 0;
      if (!t) {
        st = csi_error(err, CS_ERR_NOMEM, "out of memory");
        break;
      }
      st = csi_base64_decode(t, strlen(t), &bytes, &nb, err);
      free(t);
      if (st)
        break;
      if (nb % width) {
        free(bytes);
        st = csi_error(err, CS_ERR_MALFORMED,
                       "EncodedValueSet of %zu bytes is not a whole number of "
                       "%zu-byte %s values", nb, width, type);
        break;
      }
      for (size_t i = 0; i < nb && !st; i += width) {
        double x = kind == 0   ? csi_le_f32(bytes + i)
                   : kind == 1 ? csi_le_f64(bytes + i)
                   : kind == 2 ? (double)(int32_t)csi_le_u32(bytes + i)
                               : (double)(int64_t)csi_le_u64(bytes + i);
        if (!isfinite(x))
          st = csi_error(err, CS_ERR_MALFORMED,
                         "non-finite value at index %zu of series '%s'", v->n,
                         (const char *)s->name);
        else if (csi_dvec_push(v, x))
          st = csi_error(err, CS_ERR_NOMEM, "too many values");
      }
      free(bytes);
    } else if (csi_xml_is(vs, "AutoIncrementedValueSet")) {
      double x0, dx, end;
      xmlNodePtr sv = csi_xml_child(vs, "StartValue");
      xmlNodePtr inc = csi_xml_child(vs, "Increment");
      if (!sv || !inc || param_number(sv, &x0) || param_number(inc, &dx)) {
        st = csi_error(err, CS_ERR_MALFORMED,
                       "AutoIncrementedValueSet needs numeric StartValue and "
                       "Increment");
        break;
      }
      size_t first = 0, count = length;
      if (csi_xml_attr_double(vs, "startIndex", &start) == 0 && start >= 0)
        first = (size_t)start;
      if (csi_xml_attr_double(vs, "endIndex", &end) == 0 && end >= (double)first &&
          end < (double)CSI_MAX_POINTS)
        count = (size_t)end - first + 1;
      else if (length > first)
        count = length - first;
      if (count == 0 || count > CSI_MAX_POINTS) {
        st = csi_error(err, CS_ERR_MALFORMED,
                       "AutoIncrementedValueSet without a usable length");
        break;
      }
      for (size_t i = 0; i < count && !st; i++)
        if (csi_dvec_push(v, x0 + dx * (double)i))
          st = csi_error(err, CS_ERR_NOMEM, "too many values");
    }
  }
  if (!st && v->n == 0)
    st = csi_error(err, CS_ERR_MALFORMED, "series '%s' has no values",
                   (const char *)s->name);
  if (!st) {
    r->total_points += v->n;
    if (r->total_points > 16 * CSI_MAX_POINTS)
      st = csi_error(err, CS_ERR_UNSUPPORTED, "file holds too many points");
  }
done:
  free(type);
  return st;
}

/* Axis of the independent series: its Unit label, else its SIUnit, else
 * its name ("Raman Shift", "Wavelength") through the shared unit map; a
 * name that says Raman shift wins over the label. */
static void axis_from_series(const xmlNode *s, cs_technique tech, cs_axis *axis,
                             double *scale) {
  char *name = csi_xml_attr(s, "name");
  unit_info u = unit_of(s);
  csi_axis_unit a = csi_axis_from_unit(u.label, tech);
  if (a.axis == CS_AXIS_UNKNOWN || a.inverse)
    a = si_axis(&u, tech);
  csi_axis_unit n = csi_axis_from_unit(name, tech);
  int per_cm = a.axis == CS_AXIS_RAMAN_SHIFT || a.axis == CS_AXIS_WAVENUMBER;
  if (n.axis == CS_AXIS_RAMAN_SHIFT)
    a = (csi_axis_unit){CS_AXIS_RAMAN_SHIFT, per_cm ? a.factor : 1.0, 0, 0};
  else if (a.axis == CS_AXIS_UNKNOWN && !n.inverse)
    a = (csi_axis_unit){n.axis, 1.0, 0, 0}; /* a name gives no scale */
  *axis = a.axis;
  *scale = a.factor;
  unit_free(&u);
  free(name);
}

static cs_quantity quantity_from_series(const xmlNode *s, double *scale) {
  char *name = csi_xml_attr(s, "name");
  unit_info u = unit_of(s);
  cs_quantity q = CS_Q_ARBITRARY;
  *scale = 1.0;
  if (contains_ci(name, "absorbance"))
    q = CS_Q_ABSORBANCE;
  else if (contains_ci(name, "transmittance") || contains_ci(name, "transmission")) {
    q = CS_Q_TRANSMITTANCE_PCT;
    if (!(u.label && strchr(u.label, '%')))
      *scale = 100.0; /* fraction -> percent */
  } else if (contains_ci(name, "reflectance"))
    q = CS_Q_REFLECTANCE;
  else if (u.label && (contains_ci(u.label, "counts/s") ||
                       contains_ci(u.label, "cps")))
    q = CS_Q_COUNTS_PER_S;
  else if (contains_ci(name, "count") || (u.label && contains_ci(u.label, "count")))
    q = CS_Q_COUNTS;
  unit_free(&u);
  free(name);
  return q;
}

/* Apply a calcspec Category (written by us) over what was inferred. */
static cs_status apply_calcspec(const xmlNode *cat, cs_spectrum *s,
                                cs_error *err) {
  for (xmlNodePtr p = csi_xml_child(cat, NULL); p; p = csi_xml_next(p, NULL)) {
    if (csi_xml_is(p, "Category")) {
      char *cname = csi_xml_attr(p, "name");
      int is_meta = cname && !strcmp(cname, "metadata");
      free(cname);
      if (!is_meta)
        continue;
      for (xmlNodePtr m = csi_xml_child(p, "Parameter"); m;
           m = csi_xml_next(m, "Parameter")) {
        char *k = csi_xml_attr(m, "name"), *v = param_string(m);
        cs_status st = k && v ? cs_spectrum_set_meta(s, k, v, err) : CS_OK;
        free(k);
        free(v);
        if (st)
          return st;
      }
      continue;
    }
    if (!csi_xml_is(p, "Parameter"))
      continue;
    char *name = csi_xml_attr(p, "name"), *sv = param_string(p);
    double v;
    int num = param_number(p, &v) == 0;
    if (name && sv && !strcmp(name, "axis"))
      cs_axis_from_name(sv, &s->axis);
    else if (name && sv && !strcmp(name, "quantity"))
      cs_quantity_from_name(sv, &s->quantity);
    else if (name && sv && !strcmp(name, "technique"))
      cs_technique_from_name(sv, &s->technique);
    else if (name && num && !strcmp(name, "laser_nm"))
      cs_spectrum_set_laser_nm(s, v);
    else if (name && num && !strcmp(name, "exposure_s"))
      cs_spectrum_set_exposure_s(s, v);
    else if (name && num && !strcmp(name, "accumulations") && csi_count_ok(v))
      cs_spectrum_set_accumulations(s, (int)v);
    free(name);
    free(sv);
  }
  return CS_OK;
}

static cs_status set_meta_if(cs_spectrum *s, const char *k, const char *v,
                             cs_error *err) {
  return v && *v ? cs_spectrum_set_meta(s, k, v, err) : CS_OK;
}

/* One spectrum from an independent (may be NULL) and a dependent series. */
static cs_status make_spectrum(reader *r, const step_ctx *c,
                               const xmlNode *indep, const xmlNode *dep,
                               size_t length, const char *set_name,
                               cs_error *err) {
  csi_dvec x = {0}, y = {0};
  cs_status st = series_values(r, dep, length, &y, err);
  cs_axis axis = CS_AXIS_UNKNOWN;
  double xscale = 1.0, yscale = 1.0;
  if (!st && indep) {
    st = series_values(r, indep, y.n, &x, err);
    axis_from_series(indep, c->technique, &axis, &xscale);
  }
  if (!st && !indep) { /* no independent series: the point index */
    for (size_t i = 0; i < y.n && !st; i++)
      if (csi_dvec_push(&x, (double)i))
        st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    axis = CS_AXIS_PIXEL;
  }
  if (!st && x.n != y.n)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "series set '%s': %zu x values but %zu y values",
                   set_name ? set_name : "", x.n, y.n);
  /* A declared length that both series contradict alike is a writer's slip
   * (OpenChrom's MS_STRICT.animl: 306 declared, 96 stored): the data agree
   * with each other, so trust them. */
  if (!st && length && y.n != length)
    csi_log(1, "animl: series set '%s' declares length %zu but holds %zu",
            set_name ? set_name : "", length, y.n);
  /* Spectra have a monotonic axis; e.g. a mass spectrum's scattered m/z
   * list is valid AnIML but not a spectrum calcspec can use. */
  for (size_t i = 2; !st && i < x.n; i++)
    if ((x.v[i] - x.v[i - 1]) * (x.v[1] - x.v[0]) <= 0) {
      char *xn = csi_xml_attr(indep, "name");
      st = csi_error(err, CS_ERR_UNSUPPORTED,
                     "independent series '%s' is not monotonic (at index %zu), "
                     "so it is not a spectrum axis", xn ? xn : "?", i);
      free(xn);
    }
  if (!st && x.n > 1 && x.v[1] == x.v[0])
    st = csi_error(err, CS_ERR_UNSUPPORTED, "independent series repeats its "
                   "first value, so it is not a spectrum axis");
  cs_spectrum *s = NULL;
  if (!st) {
    cs_quantity q = quantity_from_series(dep, &yscale);
    for (size_t i = 0; i < x.n; i++) {
      x.v[i] *= xscale;
      y.v[i] *= yscale;
    }
    st = cs_spectrum_new(x.v, y.v, x.n, axis, q, &s, err);
    if (st == CS_ERR_ARG)
      st = CS_ERR_MALFORMED;
  }
  csi_dvec_free(&x);
  csi_dvec_free(&y);
  if (st)
    return st;
  s->technique = c->technique;
  if (s->technique == CS_TECH_UNKNOWN && axis == CS_AXIS_RAMAN_SHIFT)
    s->technique = CS_TECH_RAMAN;
  s->laser_nm = c->laser_nm;
  s->exposure_s = c->exposure_s;
  s->accumulations = c->accumulations;
  char *dep_name = csi_xml_attr(dep, "name");
  st = set_meta_if(s, CS_META_SAMPLE_ID, c->sample_id, err);
  if (!st)
    st = set_meta_if(s, CS_META_TITLE, c->step_name, err);
  if (!st)
    st = set_meta_if(s, "animl.sample_name", c->sample_name, err);
  if (!st)
    st = set_meta_if(s, "animl.series", dep_name, err);
  if (!st)
    st = set_meta_if(s, CS_META_ACQUIRED, c->acquired, err);
  if (!st)
    st = set_meta_if(s, CS_META_INSTRUMENT, c->instrument, err);
  free(dep_name);
  if (!st && c->calcspec) {
    /* our own file: drop the inferred animl.* keys, restore exactly */
    cs_spectrum_set_meta(s, "animl.series", NULL, err);
    cs_spectrum_set_meta(s, "animl.sample_name", NULL, err);
    cs_spectrum_set_meta(s, CS_META_TITLE, NULL, err);
    st = apply_calcspec(c->calcspec, s, err);
  }
  if (st) {
    cs_spectrum_free(s);
    return st;
  }
  return cs_dataset_push(r->ds, s, err);
}

/* Is a dependent series a spectral signal?  Instruments store per-point
 * bookkeeping beside it: a Varioskan plate read (pyAnIML real_life) has
 * "Measurement Delay" in s next to the absorbance "Value".  A series with
 * a time unit, or named for a time, delay or temperature, is such an
 * annotation, not a second spectrum. */
static int is_spectral(const xmlNode *s) {
  static const char *const not_signal[] = {"delay", "time", "duration",
                                           "temperature", "elapsed", NULL};
  char *name = csi_xml_attr(s, "name");
  unit_info u = unit_of(s);
  int spectral = !(u.label || u.base) || to_s(&u) == 0;
  for (size_t i = 0; spectral && not_signal[i]; i++)
    spectral = !contains_ci(name, not_signal[i]);
  unit_free(&u);
  free(name);
  return spectral;
}

static cs_status read_series_set(reader *r, const step_ctx *c,
                                 const xmlNode *set, const xmlNode *result,
                                 cs_error *err) {
  double len_d = 0;
  size_t length = 0;
  if (csi_xml_attr_double(set, "length", &len_d) == 0) {
    if (len_d < 0 || len_d > (double)CSI_MAX_POINTS)
      return csi_error(err, CS_ERR_MALFORMED, "series set length %g", len_d);
    length = (size_t)len_d;
  }
  char *set_name = csi_xml_attr(set, "name");
  xmlNodePtr indep = NULL;
  for (xmlNodePtr s = csi_xml_child(set, "Series"); s && !indep;
       s = csi_xml_next(s, "Series"))
    if (is_independent(s))
      indep = s;
  /* pyAnIML puts the independent series beside the SeriesSet */
  for (xmlNodePtr s = csi_xml_child(result, "Series"); s && !indep;
       s = csi_xml_next(s, "Series"))
    if (is_independent(s))
      indep = s;
  if (indep) {
    char *t = series_type(indep);
    if (!is_numeric_type(t))
      indep = NULL; /* e.g. DateTime or String x: fall back to the index */
    free(t);
  }
  cs_status st = CS_OK;
  for (xmlNodePtr s = csi_xml_child(set, "Series"); s && !st;
       s = csi_xml_next(s, "Series")) {
    if (s == indep || is_independent(s))
      continue;
    char *t = series_type(s);
    int numeric = is_numeric_type(t);
    free(t);
    if (!numeric)
      continue; /* String/Boolean/PNG series are annotations, not spectra */
    if (!is_spectral(s)) {
      char *dn = csi_xml_attr(s, "name");
      csi_log(1, "animl: series '%s' of set '%s' is a per-point annotation, "
              "not a spectrum", dn ? dn : "", set_name ? set_name : "");
      free(dn);
      continue;
    }
    st = make_spectrum(r, c, indep, s, length, set_name, err);
    if (st)
      csi_error_prefix(err, "series set '%s'", set_name ? set_name : "");
  }
  free(set_name);
  return st;
}

static cs_status read_step_set(reader *r, const xmlNode *set,
                               const step_ctx *parent, int depth,
                               cs_error *err);

static char *join_device(const xmlNode *dev) {
  xmlNodePtr man = csi_xml_child(dev, "Manufacturer");
  xmlNodePtr name = csi_xml_child(dev, "Name");
  char *m = man ? csi_xml_text(man) : NULL, *n = name ? csi_xml_text(name) : NULL;
  char *r = m && n ? csi_strfmt("%s %s", csi_trim(m), csi_trim(n))
                   : csi_strdup(n ? csi_trim(n) : m ? csi_trim(m) : NULL);
  free(m);
  free(n);
  return r;
}

/* Sample ids, then their place: ids in byte order, the first of equal
 * ids first (the lower-bound search of sample_name_of lands on it). */
static int sample_cmp(const void *a, const void *b) {
  const sample_ref *x = a, *y = b;
  int c = strcmp(x->id, y->id);
  return c ? c : (x->ord > y->ord) - (x->ord < y->ord);
}

/* Copy the sample names of a SampleSet (the document's first), sorted by
 * id: every series looks its sample up, and a linear search made reading
 * a file of n spectra, each its own sample, O(n^2). */
static cs_status load_samples(reader *r, const xmlNode *ss, cs_error *err) {
  for (xmlNodePtr s = csi_xml_child(ss, "Sample"); s;
       s = csi_xml_next(s, "Sample")) {
    xmlChar *sid = xmlGetProp(s, (const xmlChar *)"sampleID");
    if (!sid)
      continue;
    xmlAttrPtr a = xmlHasProp(s, (const xmlChar *)"name");
    const char *name = a && a->children ? (const char *)a->children->content
                                        : NULL;
    if (r->nsamples == r->samples_cap) {
      size_t cap = r->samples_cap ? 2 * r->samples_cap : 16;
      sample_ref *ns = realloc(r->samples, cap * sizeof *ns);
      if (!ns) {
        xmlFree(sid);
        return csi_error(err, CS_ERR_NOMEM, "out of memory");
      }
      r->samples = ns, r->samples_cap = cap;
    }
    char *id = csi_strdup((const char *)sid);
    char *nm = name ? csi_strdup(name) : NULL;
    xmlFree(sid);
    if (!id || (name && !nm)) {
      free(id);
      free(nm);
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    }
    r->samples[r->nsamples] = (sample_ref){id, nm, r->nsamples};
    r->nsamples++;
  }
  if (r->nsamples > 1)
    qsort(r->samples, r->nsamples, sizeof *r->samples, sample_cmp);
  return CS_OK;
}

static void free_samples(reader *r) {
  for (size_t i = 0; i < r->nsamples; i++) {
    free(r->samples[i].id);
    free(r->samples[i].name);
  }
  free(r->samples);
  r->samples = NULL;
  r->nsamples = r->samples_cap = 0;
}

static const char *sample_name_of(const reader *r, const char *id) {
  size_t lo = 0, hi = r->nsamples; /* the first sample whose id >= id */
  while (id && lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(r->samples[mid].id, id) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return id && lo < r->nsamples && !strcmp(r->samples[lo].id, id)
             ? r->samples[lo].name
             : NULL;
}

static cs_status read_step(reader *r, const xmlNode *step,
                           const step_ctx *parent, int depth, cs_error *err) {
  step_ctx c = *parent;
  c.acquired = csi_strdup(parent->acquired);
  c.instrument = csi_strdup(parent->instrument);
  c.step_name = csi_xml_attr(step, "name");
  xmlNodePtr tech = csi_xml_child(step, "Technique");
  if (tech) {
    char *tn = csi_xml_attr(tech, "name");
    if (contains_ci(tn, "raman"))
      c.technique = CS_TECH_RAMAN;
    else if (contains_ci(tn, "infrared") || contains_ci(tn, "IR ") ||
             contains_ci(tn, "FTIR") || (tn && !strcmp(tn, "IR")))
      c.technique = CS_TECH_FTIR;
    free(tn);
  }
  xmlNodePtr infra = csi_xml_child(step, "Infrastructure");
  xmlNodePtr refs = csi_xml_child(infra, "SampleReferenceSet");
  xmlNodePtr ref = csi_xml_child(refs, "SampleReference");
  if (ref) {
    xmlAttrPtr a = xmlHasProp(ref, (const xmlChar *)"sampleID");
    if (a && a->children)
      c.sample_id = (const char *)a->children->content;
    c.sample_name = sample_name_of(r, c.sample_id);
  }
  xmlNodePtr ts = csi_xml_child(infra, "Timestamp");
  if (ts) {
    free(c.acquired);
    c.acquired = csi_xml_text(ts);
    if (c.acquired)
      csi_trim(c.acquired);
  }
  xmlNodePtr method = csi_xml_child(step, "Method");
  xmlNodePtr dev = csi_xml_child(method, "Device");
  if (dev) {
    free(c.instrument);
    c.instrument = join_device(dev);
  }
  scan_parameters(method, &c, 0);
  c.calcspec = NULL;
  for (xmlNodePtr cat = csi_xml_child(method, "Category"); cat;
       cat = csi_xml_next(cat, "Category")) {
    char *cn = csi_xml_attr(cat, "name");
    if (cn && !strcmp(cn, "calcspec"))
      c.calcspec = cat;
    free(cn);
  }
  cs_status st = CS_OK;
  for (xmlNodePtr res = csi_xml_child(step, "Result"); res && !st;
       res = csi_xml_next(res, "Result")) {
    for (xmlNodePtr set = csi_xml_child(res, "SeriesSet"); set && !st;
         set = csi_xml_next(set, "SeriesSet"))
      st = read_series_set(r, &c, set, res, err);
    for (xmlNodePtr sub = csi_xml_child(res, "ExperimentStepSet"); sub && !st;
         sub = csi_xml_next(sub, "ExperimentStepSet"))
      st = read_step_set(r, sub, &c, depth + 1, err);
  }
  if (st && c.step_name)
    csi_error_prefix(err, "experiment step '%s'", c.step_name);
  free(c.acquired);
  free(c.instrument);
  free(c.step_name);
  return st;
}

static cs_status read_step_set(reader *r, const xmlNode *set,
                               const step_ctx *parent, int depth,
                               cs_error *err) {
  if (depth > 16)
    return csi_error(err, CS_ERR_UNSUPPORTED, "experiment steps nested too deeply");
  cs_status st = CS_OK;
  for (xmlNodePtr step = csi_xml_child(set, "ExperimentStep"); step && !st;
       step = csi_xml_next(step, "ExperimentStep"))
    st = read_step(r, step, parent, depth, err);
  return st;
}

static cs_status animl_read(const char *path, cs_dataset **out, cs_error *err) {
  *out = NULL;
  xmlDocPtr doc;
  cs_status st = csi_xml_read_file(path, 0, &doc, err);
  if (st)
    return st;
  xmlNodePtr root = xmlDocGetRootElement(doc);
  if (!csi_xml_is(root, "AnIML")) {
    st = csi_error(err, CS_ERR_MALFORMED, "root element is <%s>, not <AnIML>",
                   (const char *)root->name);
  } else if (root->ns && root->ns->href &&
             strcmp((const char *)root->ns->href, ANIML_NS)) {
    st = csi_error(err, CS_ERR_UNSUPPORTED, "AnIML namespace '%s' (expected %s)",
                   (const char *)root->ns->href, ANIML_NS);
  }
  reader r = {csi_dataset_alloc(), 0, NULL, 0, 0};
  if (!st && !r.ds)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st)
    st = load_samples(&r, csi_xml_child(root, "SampleSet"), err);
  step_ctx top = {NULL, NULL, CS_TECH_UNKNOWN, NAN, NAN, 0,
                  NULL, NULL, NULL, NULL};
  if (!st)
    for (xmlNodePtr set = csi_xml_child(root, "ExperimentStepSet"); set && !st;
         set = csi_xml_next(set, "ExperimentStepSet"))
      st = read_step_set(&r, set, &top, 0, err);
  if (!st && cs_dataset_count(r.ds) == 0)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "no numeric series in any experiment step result");
  xmlFreeDoc(doc);
  free_samples(&r);
  if (st) {
    cs_dataset_free(r.ds);
    return st;
  }
  *out = r.ds;
  return CS_OK;
}

/* ---- streaming: one top-level ExperimentStep at a time ----
 * The pull parser walks the document; the SampleSet and each ExperimentStep
 * of a top-level ExperimentStepSet are expanded into a small tree, read with
 * the same code as the DOM reader above, and freed as the parser moves on,
 * so the spectra of one step are what is held.  The SampleSet must come
 * before the steps, as the schema orders it (a later one is not seen). */

typedef struct {
  csi_xml_stream *xs;
  reader r;
  size_t pos;      /* next of r.ds to hand out */
  size_t given;    /* spectra handed out */
  int skip;        /* move past the current subtree, not into it */
  int root_seen, in_steps, have_samples, done;
} animl_stream;

static void stream_close(void *state) {
  animl_stream *as = state;
  if (!as)
    return;
  csi_xml_stream_close(as->xs);
  cs_dataset_free(as->r.ds);
  free_samples(&as->r);
  free(as);
}

static cs_status stream_open(const char *path, void **state, cs_error *err) {
  *state = NULL;
  animl_stream *as = calloc(1, sizeof *as);
  if (!as || !(as->r.ds = csi_dataset_alloc())) {
    free(as);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  cs_status st = csi_xml_stream_open(path, &as->xs, err);
  if (st) {
    stream_close(as);
    return st;
  }
  *state = as;
  return CS_OK;
}

static size_t stream_held(const void *state) {
  const animl_stream *as = state;
  return as->r.ds->n - as->pos;
}

/* Parse on to the next ExperimentStep and read it into r.ds (it may hold no
 * spectrum); CS_OK with as->done set at the end of the document. */
static cs_status stream_step(animl_stream *as, cs_error *err) {
  static const step_ctx top = {NULL, NULL, CS_TECH_UNKNOWN, NAN, NAN, 0,
                               NULL, NULL, NULL, NULL};
  csi_xml_stream *xs = as->xs;
  for (;;) {
    int rc = as->skip ? csi_xml_stream_next(xs) : csi_xml_stream_read(xs);
    as->skip = 0;
    if (rc < 0)
      return csi_xml_stream_error(xs, err);
    if (rc == 0) {
      as->done = 1;
      return as->root_seen ? CS_OK
                           : csi_error(err, CS_ERR_MALFORMED,
                                       "XML document has no root element");
    }
    if (!csi_xml_stream_is_element(xs))
      continue;
    int depth = csi_xml_stream_depth(xs);
    const char *name = csi_xml_stream_name(xs);
    if (depth == 0) {
      const char *ns = csi_xml_stream_ns(xs);
      as->root_seen = 1;
      if (strcmp(name, "AnIML"))
        return csi_error(err, CS_ERR_MALFORMED,
                         "root element is <%s>, not <AnIML>", name);
      if (ns && strcmp(ns, ANIML_NS))
        return csi_error(err, CS_ERR_UNSUPPORTED,
                         "AnIML namespace '%s' (expected %s)", ns, ANIML_NS);
      continue;
    }
    if (depth == 1) {
      as->in_steps = !strcmp(name, "ExperimentStepSet");
      if (as->in_steps)
        continue; /* into it */
      as->skip = 1;
      if (!strcmp(name, "SampleSet") && !as->have_samples) {
        xmlNodePtr ss = csi_xml_stream_expand(xs);
        if (!ss)
          return csi_xml_stream_error(xs, err);
        as->have_samples = 1;
        cs_status st = load_samples(&as->r, ss, err);
        if (st)
          return st;
      }
      continue;
    }
    as->skip = 1; /* every deeper element is read or passed over whole */
    if (depth == 2 && as->in_steps && !strcmp(name, "ExperimentStep")) {
      xmlNodePtr step = csi_xml_stream_expand(xs);
      if (!step)
        return csi_xml_stream_error(xs, err);
      as->r.total_points = 0;
      return read_step(&as->r, step, &top, 0, err);
    }
  }
}

static cs_status stream_next(void *state, cs_spectrum **out, cs_error *err) {
  animl_stream *as = state;
  *out = NULL;
  while (as->pos == as->r.ds->n) {
    for (size_t i = 0; i < as->r.ds->n; i++)
      cs_spectrum_free(as->r.ds->items[i]); /* NULL: handed out */
    as->r.ds->n = as->pos = 0;
    if (as->done)
      return as->given ? CS_OK
                       : csi_error(err, CS_ERR_MALFORMED, "no numeric series "
                                   "in any experiment step result");
    cs_status st = stream_step(as, err);
    if (st)
      return st;
  }
  *out = as->r.ds->items[as->pos];
  as->r.ds->items[as->pos++] = NULL;
  as->given++;
  return CS_OK;
}

/* ---- writing ---- */

static xmlNodePtr add(xmlNodePtr parent, const char *name, const char *text) {
  return xmlNewChild(parent, NULL, (const xmlChar *)name,
                     (const xmlChar *)text); /* text is escaped by libxml2 */
}

static void attr(xmlNodePtr n, const char *name, const char *value) {
  xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)value);
}

/* Text nodes must be valid UTF-8 (vendor metadata may be Latin-1). */
static xmlNodePtr add_text(xmlNodePtr parent, const char *name, const char *text) {
  char *clean = csi_utf8_sanitize(text);
  if (!clean)
    return NULL;
  xmlNodePtr n = xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);
  if (n)
    xmlNodeAddContent(n, (const xmlChar *)clean);
  free(clean);
  return n;
}

static void param_str(xmlNodePtr cat, const char *name, const char *value) {
  char *clean = csi_utf8_sanitize(name);
  xmlNodePtr p = xmlNewChild(cat, NULL, (const xmlChar *)"Parameter", NULL);
  if (clean && p) {
    attr(p, "name", clean);
    attr(p, "parameterType", "String");
    add_text(p, "S", value);
  }
  free(clean);
}

static void param_num(xmlNodePtr cat, const char *name, const char *type,
                      const char *elem, double v, const char *unit) {
  char buf[40];
  csi_fmt_double(buf, sizeof buf, v);
  xmlNodePtr p = xmlNewChild(cat, NULL, (const xmlChar *)"Parameter", NULL);
  attr(p, "name", name);
  attr(p, "parameterType", type);
  add(p, elem, buf);
  if (unit) {
    xmlNodePtr u = add(p, "Unit", NULL);
    attr(u, "label", unit);
    xmlNodePtr si = add(u, "SIUnit", !strcmp(unit, "s") ? "s" : "m");
    if (!strcmp(unit, "nm"))
      attr(si, "factor", "1e-9");
  }
}

/* Can every value be stored as Float32 without change?  Then the file
 * halves (detector counts and float-rounded axes are). */
static int float_exact(const double *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((double)(float)v[i] != v[i])
      return 0;
  return 1;
}

/* Little-endian base64 of v[0..n) as Float32 (f32 != 0) or Float64. */
static char *encode_values(const double *v, size_t n, int f32) {
  size_t w = f32 ? 4 : 8;
  unsigned char *b = malloc(n * w + 1);
  if (!b)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    uint64_t u;
    if (f32) {
      float f = (float)v[i];
      uint32_t u32;
      memcpy(&u32, &f, 4);
      u = u32;
    } else {
      memcpy(&u, &v[i], 8);
    }
    for (size_t k = 0; k < w; k++)
      b[i * w + k] = (unsigned char)(u >> (8 * k));
  }
  char *s = csi_base64_encode(b, n * w);
  free(b);
  return s;
}

static const char *x_series_name(cs_axis a) {
  switch (a) {
  case CS_AXIS_RAMAN_SHIFT: return "Raman Shift";
  case CS_AXIS_WAVENUMBER: return "Wavenumber";
  case CS_AXIS_WAVELENGTH_NM: return "Wavelength";
  case CS_AXIS_PIXEL: return "Pixel";
  default: return "X";
  }
}

static const char *y_series_name(cs_quantity q) {
  switch (q) {
  case CS_Q_ABSORBANCE: return "Absorbance";
  case CS_Q_TRANSMITTANCE_PCT: return "Transmittance";
  case CS_Q_REFLECTANCE: return "Reflectance";
  default: return "Intensity";
  }
}

static int add_series(xmlNodePtr set, const char *name, const char *id,
                      const char *dep, const double *v, size_t n, cs_axis axis,
                      cs_quantity q, int is_x) {
  xmlNodePtr s = add(set, "Series", NULL);
  int f32 = float_exact(v, n);
  attr(s, "name", name);
  attr(s, "seriesID", id);
  attr(s, "seriesType", f32 ? "Float32" : "Float64");
  attr(s, "dependency", dep);
  attr(s, "plotScale", "linear");
  char *b64 = encode_values(v, n, f32);
  if (!b64)
    return -1;
  add(s, "EncodedValueSet", b64);
  free(b64);
  if (is_x && (axis == CS_AXIS_RAMAN_SHIFT || axis == CS_AXIS_WAVENUMBER)) {
    xmlNodePtr u = add(s, "Unit", NULL);
    attr(u, "label", "1/cm");
    xmlNodePtr si = add(u, "SIUnit", "m");
    attr(si, "exponent", "-1");
    attr(si, "factor", "1e-2");
  } else if (is_x && axis == CS_AXIS_WAVELENGTH_NM) {
    xmlNodePtr u = add(s, "Unit", NULL);
    attr(u, "label", "nm");
    attr(add(u, "SIUnit", "m"), "factor", "1e-9");
  } else if (!is_x && q == CS_Q_TRANSMITTANCE_PCT) {
    attr(add(s, "Unit", NULL), "label", "%");
  } else if (!is_x && (q == CS_Q_COUNTS || q == CS_Q_COUNTS_PER_S)) {
    attr(add(s, "Unit", NULL), "label", q == CS_Q_COUNTS ? "counts" : "counts/s");
  }
  return 0;
}

static const char *technique_label(cs_technique t) {
  return t == CS_TECH_RAMAN  ? "Raman Spectrum"
         : t == CS_TECH_FTIR ? "Infrared Spectrum"
                             : "Spectrum";
}

static int write_step(xmlNodePtr steps, const cs_spectrum *s, size_t i) {
  char id[32];
  csi_snprintf(id, sizeof id, "step%zu", i);
  xmlNodePtr step = add(steps, "ExperimentStep", NULL);
  const char *title = cs_spectrum_meta(s, CS_META_SPECTRUM_ID);
  char fallback[48];
  csi_snprintf(fallback, sizeof fallback, "spectrum %zu", i);
  char *name = csi_utf8_sanitize(title ? title : fallback);
  attr(step, "name", name ? name : fallback);
  free(name);
  attr(step, "experimentStepID", id);
  xmlNodePtr tech = add(step, "Technique", NULL);
  attr(tech, "name", technique_label(s->technique));
  attr(tech, "uri", "https://calcspec.invalid/technique/spectrum");
  const char *sample = cs_spectrum_meta(s, CS_META_SAMPLE_ID);
  const char *acq = cs_spectrum_meta(s, CS_META_ACQUIRED);
  if (sample || acq) {
    xmlNodePtr infra = add(step, "Infrastructure", NULL);
    if (sample) {
      char *clean = csi_utf8_sanitize(sample);
      xmlNodePtr ref = add(add(infra, "SampleReferenceSet", NULL),
                           "SampleReference", NULL);
      attr(ref, "sampleID", clean ? clean : "?");
      attr(ref, "role", "test-sample");
      attr(ref, "samplePurpose", "consumed");
      free(clean);
    }
    if (acq) /* free text in our model: kept exactly in the metadata too */
      add_text(infra, "Timestamp", acq);
  }
  xmlNodePtr method = add(step, "Method", NULL);
  xmlNodePtr cat = add(method, "Category", NULL);
  attr(cat, "name", "calcspec");
  param_str(cat, "technique", cs_technique_name(s->technique));
  param_str(cat, "axis", cs_axis_name(s->axis));
  param_str(cat, "quantity", cs_quantity_name(s->quantity));
  if (isfinite(s->laser_nm))
    param_num(cat, "laser_nm", "Float64", "D", s->laser_nm, "nm");
  if (isfinite(s->exposure_s))
    param_num(cat, "exposure_s", "Float64", "D", s->exposure_s, "s");
  if (s->accumulations)
    param_num(cat, "accumulations", "Int32", "I", s->accumulations, NULL);
  xmlNodePtr meta = add(cat, "Category", NULL);
  attr(meta, "name", "metadata");
  for (size_t k = 0; k < s->nmeta; k++)
    param_str(meta, s->meta[k].key, s->meta[k].value);
  xmlNodePtr res = add(step, "Result", NULL);
  attr(res, "name", "Spectrum");
  xmlNodePtr set = add(res, "SeriesSet", NULL);
  char len[32];
  csi_snprintf(len, sizeof len, "%zu", s->n);
  attr(set, "name", "Spectrum");
  attr(set, "length", len);
  char xid[40], yid[40];
  csi_snprintf(xid, sizeof xid, "x%zu", i);
  csi_snprintf(yid, sizeof yid, "y%zu", i);
  if (add_series(set, x_series_name(s->axis), xid, "independent", s->x, s->n,
                 s->axis, s->quantity, 1) ||
      add_series(set, y_series_name(s->quantity), yid, "dependent", s->y, s->n,
                 s->axis, s->quantity, 0))
    return -1;
  return 0;
}

/* Writing streams: each spectrum's ExperimentStep is built as a small tree
 * (write_step), serialised into the spool and freed, so memory is one
 * step's (the whole document of 20,000 spectra took 2 GB).  finish writes
 * the head, the SampleSet (its Samples must come first, and they are only
 * all known at the end), the spool and the tail.  The bytes are those of
 * the whole tree dumped with xmlDocDumpFormatMemoryEnc, as before. */
#define ANIML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
  "<AnIML xmlns=\"" ANIML_NS "\" version=\"0.90\">\n"
#define ANIML_STEPS "  <ExperimentStepSet>\n"
#define ANIML_TAIL "  </ExperimentStepSet>\n</AnIML>\n"

typedef struct animl_writer {
  xmlDocPtr doc;      /* scratch, owns the step being written */
  xmlNodePtr steps;   /* its ExperimentStepSet */
  sample_ref *ids;    /* each spectrum's sample id (ord: its index) */
  size_t nid, cap;
} animl_writer;

static void animl_wfree(void *state) {
  animl_writer *a = state;
  if (!a)
    return;
  for (size_t i = 0; i < a->nid; i++)
    free(a->ids[i].id);
  free(a->ids);
  xmlFreeDoc(a->doc);
  free(a);
}

static void *animl_wopen(void) {
  animl_writer *a = calloc(1, sizeof *a);
  if (!a || !(a->doc = xmlNewDoc((const xmlChar *)"1.0"))) {
    free(a);
    return NULL;
  }
  /* as the whole-document dump sets it: attributes keep UTF-8 as is */
  a->doc->encoding = xmlStrdup((const xmlChar *)"UTF-8");
  xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *)"AnIML");
  xmlDocSetRootElement(a->doc, root);
  if (!root || !(a->steps = add(root, "ExperimentStepSet", NULL))) {
    animl_wfree(a);
    return NULL;
  }
  return a;
}

/* node, at depth level of the document, on its own line into out */
static cs_status dump_node(xmlDocPtr doc, xmlNodePtr node, int level,
                           csi_sink *out, cs_error *err) {
  size_t n;
  xmlChar *t = csi_xml_node_text(doc, node, level, &n);
  if (!t)
    return csi_error(err, CS_ERR_NOMEM, "out of memory writing AnIML");
  static const char pad[] = "    "; /* depth 2 at most: a step */
  level = level > 2 ? 2 : level;
  cs_status st = csi_sink_write(out, pad, 2 * (size_t)level, err);
  if (!st)
    st = csi_sink_write(out, t, n, err);
  if (!st)
    st = csi_sink_write(out, "\n", 1, err);
  xmlFree(t);
  return st;
}

static cs_status animl_wput(void *state, const cs_spectrum *s, size_t i,
                            csi_sink *spool, cs_error *err) {
  animl_writer *a = state;
  const char *id = cs_spectrum_meta(s, CS_META_SAMPLE_ID);
  if (id) {
    if (a->nid == a->cap) {
      size_t cap = a->cap ? 2 * a->cap : 64;
      sample_ref *n = realloc(a->ids, cap * sizeof *n);
      if (!n)
        return csi_error(err, CS_ERR_NOMEM, "out of memory");
      a->ids = n, a->cap = cap;
    }
    if (!(a->ids[a->nid].id = csi_strdup(id)))
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    a->ids[a->nid].name = NULL;
    a->ids[a->nid++].ord = i;
  }
  int bad = write_step(a->steps, s, i);
  xmlNodePtr step = a->steps->last;
  cs_status st = bad || !step
                     ? csi_error(err, CS_ERR_NOMEM, "out of memory writing AnIML")
                     : dump_node(a->doc, step, 2, spool, err);
  if (step) {
    xmlUnlinkNode(step);
    xmlFreeNode(step);
  }
  return st;
}

static int ord_cmp(const void *x, const void *y) {
  size_t a = ((const sample_ref *)x)->ord, b = ((const sample_ref *)y)->ord;
  return (a > b) - (a < b);
}

static cs_status animl_wfinish(void *state, size_t n, FILE *spool,
                               csi_sink *out, cs_error *err) {
  animl_writer *a = state;
  (void)n;
  cs_status st = csi_sink_write(out, ANIML_HEAD, strlen(ANIML_HEAD), err);
  if (!st && a->nid) {
    /* one Sample per distinct id, in order of first appearance: sorted by
     * id (then index) to keep each id's first, then back in index order */
    qsort(a->ids, a->nid, sizeof *a->ids, sample_cmp);
    size_t k = 0;
    for (size_t i = 0; i < a->nid; i++)
      if (k == 0 || strcmp(a->ids[k - 1].id, a->ids[i].id) != 0)
        a->ids[k++] = a->ids[i];
      else
        free(a->ids[i].id);
    a->nid = k;
    qsort(a->ids, k, sizeof *a->ids, ord_cmp);
    xmlNodePtr set = xmlNewDocNode(a->doc, NULL, (const xmlChar *)"SampleSet", NULL);
    for (size_t i = 0; set && i < k; i++) {
      char *clean = csi_utf8_sanitize(a->ids[i].id);
      xmlNodePtr smp = add(set, "Sample", NULL);
      attr(smp, "sampleID", clean ? clean : "?");
      attr(smp, "name", clean ? clean : "?");
      free(clean);
    }
    st = set ? dump_node(a->doc, set, 1, out, err)
             : csi_error(err, CS_ERR_NOMEM, "out of memory writing AnIML");
    xmlFreeNode(set);
  }
  if (!st)
    st = csi_sink_write(out, ANIML_STEPS, strlen(ANIML_STEPS), err);
  if (!st)
    st = csi_spool_copy(spool, out, err);
  if (!st)
    st = csi_sink_write(out, ANIML_TAIL, strlen(ANIML_TAIL), err);
  return st;
}

const csi_wstream csi_wstream_animl = {animl_wopen, animl_wput,
                                       animl_wfinish, animl_wfree};

const csi_reader csi_reader_animl = {
    "animl", "animl,xml",
    "ASTM AnIML 0.90 XML (calcspec's own spectra are written in it)", sniff,
    animl_read, NULL};

const csi_stream csi_stream_animl = {stream_open, stream_next, stream_close,
                                     stream_held, NULL};
