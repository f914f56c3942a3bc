/* io_gaml.c: Thermo Galactic GAML 1.20 (../shared/formats/FORMATS.md
 * section 3).
 *
 * GAML/experiment/trace/Xdata/Ydata: every Ydata becomes one spectrum against
 * the values of the Xdata that holds it.  <values> are base64 little-endian
 * ("INTEL") FLOAT32 or FLOAT64 arrays whose numvalues must match the decoded
 * size.  <parameter> elements at every level become "gaml.NAME" metadata
 * (inner levels override outer ones). */
#include "xmlutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int sniff(const unsigned char *head, size_t n) {
  return csi_xml_sniff_root(head, n, "GAML") ? 100 : 0;
}

/* Decode one <values> element into a new array (caller frees). */
static cs_status decode_values(xmlNodePtr v, const char *what, double **out,
                               size_t *n, cs_error *err) {
  *out = NULL;
  *n = 0;
  if (!v)
    return csi_error(err, CS_ERR_MALFORMED, "%s has no <values>", what);
  char *fmt = csi_xml_attr(v, "format");
  char *order = csi_xml_attr(v, "byteorder");
  char *nv = csi_xml_attr(v, "numvalues");
  char *text = NULL;
  unsigned char *raw = NULL;
  size_t rawlen = 0, width = 0;
  long long want = -1;
  cs_status st = CS_OK;
  if (!fmt)
    st = csi_error(err, CS_ERR_MALFORMED, "%s <values> has no format", what);
  else if (strcmp(fmt, "FLOAT32") == 0)
    width = 4;
  else if (strcmp(fmt, "FLOAT64") == 0)
    width = 8;
  else
    st = csi_error(err, CS_ERR_UNSUPPORTED,
                   "%s <values> format '%.20s' is not supported (FLOAT32, "
                   "FLOAT64)",
                   what, fmt);
  if (!st && order && strcmp(order, "INTEL") != 0)
    st = csi_error(err, CS_ERR_UNSUPPORTED,
                   "%s <values> byteorder '%.20s' is not supported (INTEL)",
                   what, order);
  if (!st && nv) {
    char *end;
    want = strtoll(nv, &end, 10);
    while (*end == ' ')
      end++;
    if (end == nv || *end || want < 0)
      st = csi_error(err, CS_ERR_MALFORMED,
                     "%s <values> numvalues '%.20s' is not a count", what, nv);
  }
  if (!st && !(text = csi_xml_text(v)))
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st) {
    st = csi_base64_decode(text, strlen(text), &raw, &rawlen, err);
    if (st)
      csi_error_prefix(err, "%s <values>", what);
  }
  if (!st && rawlen % width != 0)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "%s <values> decode to %zu bytes, not a whole number of "
                   "%s",
                   what, rawlen, fmt);
  size_t cnt = width ? rawlen / width : 0;
  if (!st && want >= 0 && (unsigned long long)want != cnt)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "%s <values> numvalues=%lld but the data hold %zu", what,
                   want, cnt);
  if (!st && cnt == 0)
    st = csi_error(err, CS_ERR_MALFORMED, "%s <values> are empty", what);
  if (!st && cnt > CSI_MAX_POINTS)
    st = csi_error(err, CS_ERR_UNSUPPORTED, "%s has %zu values, too many", what,
                   cnt);
  double *a = NULL;
  if (!st && !(a = malloc(cnt * sizeof *a)))
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t i = 0; !st && i < cnt; i++) {
    a[i] = width == 4 ? csi_le_f32(raw + 4 * i) : csi_le_f64(raw + 8 * i);
    if (!isfinite(a[i]))
      st = csi_error(err, CS_ERR_MALFORMED,
                     "%s value %zu is not a finite number", what, i + 1);
  }
  free(fmt);
  free(order);
  free(nv);
  free(text);
  free(raw);
  if (st) {
    free(a);
    return st;
  }
  *out = a;
  *n = cnt;
  return CS_OK;
}

/* Metadata keys must be printable ASCII: other bytes become '_'. */
static cs_status set_param(cs_spectrum *s, xmlNodePtr p, cs_error *err) {
  char *name = csi_xml_attr(p, "name");
  if (!name || !*name) {
    free(name);
    return CS_OK;
  }
  char *key = csi_strfmt("gaml.%s", name);
  char *val = csi_xml_text(p);
  free(name);
  cs_status st = CS_OK;
  if (!key || !val)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  else {
    for (char *k = key; *k; k++)
      if ((unsigned char)*k < 0x20 || (unsigned char)*k > 0x7E)
        *k = '_';
    st = cs_spectrum_set_meta(s, key, csi_trim(val), err);
  }
  free(key);
  free(val);
  return st;
}

/* All <parameter> children of n. */
static cs_status set_params(cs_spectrum *s, xmlNodePtr n, cs_error *err) {
  cs_status st = CS_OK;
  for (xmlNodePtr p = csi_xml_child(n, "parameter"); p && !st;
       p = csi_xml_next(p, "parameter"))
    st = set_param(s, p, err);
  return st;
}

/* Value of the <parameter name=NAME> child of n (malloc'd) or NULL. */
static char *param(xmlNodePtr n, const char *name) {
  for (xmlNodePtr p = csi_xml_child(n, "parameter"); p;
       p = csi_xml_next(p, "parameter")) {
    char *nm = csi_xml_attr(p, "name");
    int hit = nm && strcmp(nm, name) == 0;
    free(nm);
    if (hit) {
      char *t = csi_xml_text(p);
      return t ? csi_trim(t) : NULL;
    }
  }
  return NULL;
}

/* A numeric parameter looked up from the innermost level outwards. */
static int param_double(xmlNodePtr *levels, size_t nlev, const char *name,
                        double *out) {
  for (size_t i = nlev; i-- > 0;) {
    char *t = param(levels[i], name);
    if (t) {
      int rc = csi_parse_double(t, out);
      free(t);
      return rc;
    }
  }
  return -1;
}

static cs_technique technique_of(const char *t) {
  return t && csi_strcasecmp(t, "IR") == 0      ? CS_TECH_FTIR
         : t && csi_strcasecmp(t, "RAMAN") == 0 ? CS_TECH_RAMAN
                                                : CS_TECH_UNKNOWN;
}

static cs_quantity quantity_of(const char *u) {
  static const struct {
    const char *name;
    cs_quantity q;
  } map[] = {{"ABSORBANCE", CS_Q_ABSORBANCE},
             {"TRANSMISSIONPERCENT", CS_Q_TRANSMITTANCE_PCT},
             {"REFLECTANCE", CS_Q_REFLECTANCE},
             {"PERCENTREFLECTANCE", CS_Q_REFLECTANCE},
             {"COUNTS", CS_Q_COUNTS}};
  for (size_t i = 0; u && i < sizeof map / sizeof *map; i++)
    if (csi_strcasecmp(u, map[i].name) == 0)
      return map[i].q;
  return CS_Q_ARBITRARY;
}

/* Build the spectrum of one Ydata.  levels = GAML, experiment, trace, Xdata,
 * Ydata (for parameters); x/nx are the Xdata values in file units. */
static cs_status build(xmlNodePtr *levels, const double *x, size_t nx,
                       const char *where, cs_spectrum **out, cs_error *err) {
  xmlNodePtr exp = levels[1], trace = levels[2], xd = levels[3], yd = levels[4];
  *out = NULL;
  double *y = NULL;
  size_t ny;
  cs_status st =
      decode_values(csi_xml_child(yd, "values"), where, &y, &ny, err);
  if (st)
    return st;
  if (ny != nx) {
    free(y);
    return csi_error(err, CS_ERR_MALFORMED,
                     "%s has %zu values but its Xdata has %zu", where, ny, nx);
  }
  cs_spectrum *s = csi_spectrum_alloc(nx);
  if (!s) {
    free(y);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  if (nx) /* memcpy from NULL is undefined even for 0 bytes */
    memcpy(s->y, y, nx * sizeof *y);
  free(y);

  char *tech = csi_xml_attr(trace, "technique");
  char *xu = csi_xml_attr(xd, "units");
  char *yu = csi_xml_attr(yd, "units");
  s->technique = technique_of(tech);
  s->quantity = quantity_of(yu);
  s->axis = CS_AXIS_UNKNOWN;
  if (nx)
    memcpy(s->x, x, nx * sizeof *x);
  csi_axis_unit u = csi_axis_from_unit(xu, s->technique);
  if (u.axis == CS_AXIS_WAVELENGTH_NM && !u.inverse && u.factor != 1 &&
      s->technique == CS_TECH_FTIR) {
    /* IR spectra in µm become wavenumbers (1e4/µm); others stay
     * wavelengths (1e3 nm/µm). */
    double k = 1e7 / u.factor;
    for (size_t i = 0; i < nx && !st; i++) {
      if (!(x[i] > 0))
        st = csi_error(err, CS_ERR_MALFORMED,
                       "%s: wavelength %g %s cannot become a wavenumber",
                       where, x[i], xu);
      else
        s->x[i] = k / x[i];
    }
    s->axis = CS_AXIS_WAVENUMBER;
  } else if (u.axis != CS_AXIS_UNKNOWN) {
    st = csi_axis_unit_apply(&u, s->x, nx, xu, err);
    if (st)
      csi_error_prefix(err, "%s", where);
    s->axis = u.axis;
  }

  /* OMNIC stores the Raman laser as RamanFreq in cm^-1 (FORMATS.md section
   * 3: laser = 1e7/RamanFreq nm); LaserFreq is the interferometer's HeNe
   * reference, not the excitation. */
  double v;
  if (param_double(levels, 5, "RamanFreq", &v) == 0 && v > 0)
    s->laser_nm = 1e7 / v;
  if (param_double(levels, 5, "NumScans", &v) == 0 && csi_count_ok(v))
    s->accumulations = (int)v;

  /* OMNIC names the bench (spectrometer model) in BenchID_type. */
  char *bench = NULL;
  for (size_t i = 5; i-- > 0 && !bench;)
    bench = param(levels[i], "BenchID_type");
  char *date = csi_xml_text(csi_xml_child(exp, "collectdate"));
  char *ename = csi_xml_attr(exp, "name");
  char *tname = csi_xml_attr(trace, "name");
  char *gname = csi_xml_attr(levels[0], "name");
  char *ylabel = csi_xml_attr(yd, "label");
  char *title = NULL;
  if (tname && *tname && ename && *ename && strcmp(tname, ename) != 0)
    title = csi_strfmt("%s: %s", ename, tname);
  const char *t1 = title ? title : (tname && *tname ? tname : ename);
  for (size_t i = 0; i < 5 && !st; i++)
    st = set_params(s, levels[i], err);
  struct {
    const char *k, *v;
  } kv[] = {{CS_META_TITLE, t1},
            {CS_META_ACQUIRED, date ? csi_trim(date) : NULL},
            {CS_META_INSTRUMENT, bench},
            {"gaml.name", gname},
            {"gaml.experiment", ename},
            {"gaml.trace", tname},
            {"gaml.technique", tech},
            {"gaml.xunits", xu},
            {"gaml.yunits", yu},
            {"gaml.ylabel", ylabel}};
  for (size_t i = 0; i < sizeof kv / sizeof *kv && !st; i++)
    if (kv[i].v && *kv[i].v)
      st = cs_spectrum_set_meta(s, kv[i].k, kv[i].v, err);
  /* Coordinates (e.g. the excitation wavelength of an emission scan). */
  xmlNodePtr co = csi_xml_child(trace, "coordinates");
  if (!st && co) {
    double *c = NULL;
    size_t nc = 0;
    st =
        decode_values(csi_xml_child(co, "values"), "coordinates", &c, &nc, err);
    csi_buf b = {0};
    for (size_t i = 0; !st && i < nc; i++)
      csi_buf_printf(&b, "%s%.17g", i ? " " : "", c[i]);
    char *cu = csi_xml_attr(co, "units");
    if (!st && b.oom)
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    if (!st && b.n)
      st = cs_spectrum_set_meta(s, "gaml.coordinates", b.p, err);
    if (!st && cu && *cu)
      st = cs_spectrum_set_meta(s, "gaml.coordinates_units", cu, err);
    free(cu);
    csi_buf_free(&b);
    free(c);
  }
  free(tech);
  free(xu);
  free(yu);
  free(date);
  free(ename);
  free(tname);
  free(gname);
  free(ylabel);
  free(title);
  free(bench);
  if (st) {
    cs_spectrum_free(s);
    return st;
  }
  *out = s;
  return CS_OK;
}

/* Why a trace/Xdata is not an optical spectrum, like the JCAMP reader's
 * refusals (data type NMR or MASS, x units outside the unit map): NMR,
 * mass spectra and chromatograms by technique, or an x axis in time, m/z,
 * ppm or frequency.  Fills why and returns 1, else 0. */
static int not_optical(const xmlNode *trace, const xmlNode *xd, char *why,
                       size_t cap) {
  static const char *const techs[] = {"NMR", "MS", "CHROM", NULL};
  static const char *const xunits[] = {
      "SECONDS", "MINUTES",  "HOURS",     "DAYS",      "MASSCHARGERATIO",
      "PPM",     "HERTZ",    "KILOHERTZ", "MEGAHERTZ", NULL};
  char *tech = csi_xml_attr(trace, "technique");
  char *xu = csi_xml_attr(xd, "units");
  why[0] = '\0';
  for (size_t i = 0; tech && techs[i] && !why[0]; i++)
    if (!csi_strcasecmp(tech, techs[i]))
      csi_snprintf(why, cap, "technique '%.20s' is not an optical spectrum",
                   tech);
  for (size_t i = 0; xu && xunits[i] && !why[0]; i++)
    if (!csi_strcasecmp(xu, xunits[i]))
      csi_snprintf(why, cap, "x units '%.20s' are not supported", xu);
  free(tech);
  free(xu);
  return why[0] != '\0';
}

static cs_status read_gaml(const char *path, cs_dataset **out, cs_error *err) {
  *out = NULL;
  xmlDocPtr doc;
  cs_status st = csi_xml_read_file(path, 0, &doc, err);
  if (st)
    return st;
  xmlNodePtr root = xmlDocGetRootElement(doc);
  cs_dataset *ds = NULL;
  if (!csi_xml_is(root, "GAML")) {
    st = csi_error(err, CS_ERR_MALFORMED, "root element is <%.60s>, not <GAML>",
                   (const char *)root->name);
    goto done;
  }
  if (!(ds = csi_dataset_alloc())) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  size_t ie = 0;
  char reason[96] = ""; /* first trace refused as not optical */
  for (xmlNodePtr e = csi_xml_child(root, "experiment"); e && !st;
       e = csi_xml_next(e, "experiment"), ie++) {
    size_t it = 0;
    for (xmlNodePtr t = csi_xml_child(e, "trace"); t && !st;
         t = csi_xml_next(t, "trace"), it++) {
      size_t ix = 0;
      for (xmlNodePtr xd = csi_xml_child(t, "Xdata"); xd && !st;
           xd = csi_xml_next(xd, "Xdata"), ix++) {
        char where[96], why[96];
        csi_snprintf(where, sizeof where, "experiment %zu trace %zu Xdata %zu",
                 ie + 1, it + 1, ix + 1);
        if (not_optical(t, xd, why, sizeof why)) {
          csi_log(1, "gaml: %s skipped: %s", where, why);
          if (!reason[0])
            csi_snprintf(reason, sizeof reason, "%s", why);
          continue;
        }
        double *x = NULL;
        size_t nx = 0;
        st = decode_values(csi_xml_child(xd, "values"), where, &x, &nx, err);
        size_t iy = 0;
        for (xmlNodePtr yd = csi_xml_child(xd, "Ydata"); yd && !st;
             yd = csi_xml_next(yd, "Ydata"), iy++) {
          csi_snprintf(where, sizeof where,
                   "experiment %zu trace %zu Xdata %zu Ydata %zu", ie + 1,
                   it + 1, ix + 1, iy + 1);
          xmlNodePtr levels[5] = {root, e, t, xd, yd};
          cs_spectrum *s = NULL;
          st = build(levels, x, nx, where, &s, err);
          if (!st && ds->n >= CSI_MAX_SPECTRA) {
            cs_spectrum_free(s);
            st = csi_error(err, CS_ERR_UNSUPPORTED, "too many spectra");
          }
          if (!st)
            st = cs_dataset_push(ds, s, err);
        }
        free(x);
      }
    }
  }
  if (!st && ds->n == 0 && reason[0])
    st = csi_error(err, CS_ERR_UNSUPPORTED, "no optical spectrum: %s", reason);
  else if (!st && ds->n == 0)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "GAML file has no experiment/trace/Xdata/Ydata spectrum");
done:
  xmlFreeDoc(doc);
  if (st) {
    cs_dataset_free(ds);
    return st;
  }
  *out = ds;
  return CS_OK;
}

const csi_reader csi_reader_gaml = {
    "gaml",
    "gaml",
    "Thermo Galactic GAML 1.20 XML (base64 FLOAT32/FLOAT64 traces)",
    sniff,
    read_gaml,
    NULL};
