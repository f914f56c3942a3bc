/* io_trivista.c: S&I / Teledyne TriVista .tvf files (root <XmlMain> after a
 * "TriVista-File" comment; ../shared/formats/FORMATS.md section 6).
 *
 * Each <Document DocType="Spectra"> has an x calibration (<xDim>
 * <Calibration ValueArray="N|v1|...|vN">) and <Data> with one <Frame> per
 * accumulation/frame/time step/line-scan point, values ';'-separated.  A
 * frame with yDim > 1 holds yDim detector rows, each its own spectrum.  The
 * acquisition settings (exposure, accumulations, laser) live in the
 * InfoSerialized attribute: a second XML document, escaped into the
 * attribute text, that is parsed on its own. */
#include "xmlutil.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GROUP_DEPTH 16

/* Printable-ASCII metadata key "trivista.<path>.<name>". */
static char *vendor_key(const char *path, const char *name) {
  csi_buf b = {0};
  csi_buf_printf(&b, "trivista.%s.%s", path, name);
  if (b.oom) {
    csi_buf_free(&b);
    return NULL;
  }
  for (char *p = b.p; *p; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
      *p = '_';
  return b.p;
}

/* Set key, or append "; value" when a repeated group already set it (one
 * Spectrometer group per stage of a triple spectrometer). */
static cs_status add_meta(cs_spectrum *t, const char *key, const char *value,
                          cs_error *err) {
  const char *old = cs_spectrum_meta(t, key);
  if (!old)
    return cs_spectrum_set_meta(t, key, value, err);
  char *v = csi_strfmt("%s; %s", old, value);
  if (!v)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = cs_spectrum_set_meta(t, key, v, err);
  free(v);
  return st;
}

/* Settings read from InfoSerialized. */
typedef struct info {
  double exposure_ms, accumulations, laser_nm;
  csi_buf models; /* spectrometer models, " + "-joined */
} info;

static char *child_text(const xmlNode *n, const char *name) {
  xmlNodePtr c = csi_xml_child(n, name);
  return c ? csi_trim(csi_xml_text(c)) : NULL;
}

static void note_item(info *in, const char *path, const char *name,
                      const char *value) {
  double v;
  if (csi_parse_double(value, &v) != 0)
    v = NAN;
  if (strcmp(path, "Detector") == 0) {
    if (strcmp(name, "Exposure_Time_(ms)") == 0)
      in->exposure_ms = v;
    else if (strcmp(name, "No_of_Accumulations") == 0)
      in->accumulations = v;
  } else if (strcmp(path, "Calibration") == 0 &&
             strcmp(name, "Laser_Wavelength") == 0) {
    in->laser_nm = v;
  } else if (strcmp(path, "Spectrometers.Spectrometer") == 0 &&
             strcmp(name, "Model") == 0 && *value) {
    csi_buf_printf(&in->models, "%s%s", in->models.n ? " + " : "", value);
  }
}

/* <Groups><Group><Name/><Items><Item><Name/><Value/>...</Items><Groups/>. */
static cs_status walk_groups(const xmlNode *groups, const char *prefix,
                             int depth, cs_spectrum *t, info *in,
                             cs_error *err) {
  if (depth > MAX_GROUP_DEPTH)
    return csi_error(err, CS_ERR_MALFORMED,
                     "InfoSerialized: groups nested too deeply");
  cs_status st = CS_OK;
  for (xmlNodePtr g = csi_xml_child(groups, "Group"); g && !st;
       g = csi_xml_next(g, "Group")) {
    char *gname = child_text(g, "Name");
    char *path = gname ? (*prefix ? csi_strfmt("%s.%s", prefix, gname)
                                  : csi_strdup(gname))
                       : NULL;
    free(gname);
    if (!path)
      return csi_error(err, CS_ERR_MALFORMED,
                       "InfoSerialized: <Group> without <Name>");
    xmlNodePtr items = csi_xml_child(g, "Items");
    for (xmlNodePtr it = csi_xml_child(items, "Item"); it && !st;
         it = csi_xml_next(it, "Item")) {
      char *name = child_text(it, "Name"), *value = child_text(it, "Value");
      if (name && *name && value && *value) {
        note_item(in, path, name, value);
        char *key = vendor_key(path, name);
        st = key ? add_meta(t, key, value, err)
                 : csi_error(err, CS_ERR_NOMEM, "out of memory");
        free(key);
      }
      free(name);
      free(value);
    }
    xmlNodePtr sub = csi_xml_child(g, "Groups");
    if (!st && sub)
      st = walk_groups(sub, path, depth + 1, t, in, err);
    free(path);
  }
  return st;
}

/* The attribute text is a whole XML document declared as UTF-16, but it
 * reached us as UTF-8 text: drop the declaration and parse the rest. */
static cs_status read_info(const char *text, cs_spectrum *t, info *in,
                           cs_error *err) {
  const char *p = text;
  while (isspace((unsigned char)*p))
    p++;
  if (strncmp(p, "<?xml", 5) == 0) {
    const char *q = strstr(p, "?>");
    if (!q)
      return csi_error(err, CS_ERR_MALFORMED,
                       "InfoSerialized: unterminated XML declaration");
    p = q + 2;
  }
  while (isspace((unsigned char)*p))
    p++;
  if (!*p)
    return CS_OK;
  xmlDocPtr doc = csi_xml_parse(p, strlen(p), 0, err);
  if (!doc) {
    csi_error_prefix(err, "InfoSerialized");
    return err ? err->code : CS_ERR_MALFORMED;
  }
  cs_status st = CS_OK;
  xmlNodePtr root = xmlDocGetRootElement(doc);
  if (!csi_xml_is(root, "Info"))
    st = csi_error(err, CS_ERR_MALFORMED,
                   "InfoSerialized: root element is not <Info>");
  else if (csi_xml_child(root, "Groups"))
    st = walk_groups(csi_xml_child(root, "Groups"), "", 0, t, in, err);
  xmlFreeDoc(doc);
  return st;
}

/* Parse separator-separated finite numbers; memory follows the data, not a
 * count the file claims. */
static cs_status parse_list(const char *text, char sep, csi_dvec *out,
                            const char *what, cs_error *err) {
  const char *p = text;
  while (isspace((unsigned char)*p))
    p++;
  if (!*p)
    return CS_OK;
  for (;;) {
    char *end;
    double v = csi_strtod(p, &end);
    if (end == p)
      return csi_error(err, CS_ERR_MALFORMED, "%s: bad number near '%.20s'",
                       what, p);
    if (!isfinite(v))
      return csi_error(err, CS_ERR_MALFORMED, "%s: non-finite value '%.20s'",
                       what, p);
    if (csi_dvec_push(out, v))
      return csi_error(err, CS_ERR_NOMEM, "%s: too many values", what);
    p = end;
    while (isspace((unsigned char)*p))
      p++;
    if (!*p)
      return CS_OK;
    if (*p != sep)
      return csi_error(err, CS_ERR_MALFORMED, "%s: expected '%c' near '%.20s'",
                       what, sep, p);
    p++;
    while (isspace((unsigned char)*p))
      p++;
    if (!*p) /* a trailing separator */
      return CS_OK;
  }
}

/* Whole attribute as a non-negative integer (at most max). */
static int attr_count(const xmlNode *n, const char *name, double max,
                      size_t *out) {
  double v;
  if (csi_xml_attr_double(n, name, &v) != 0 || v < 0 || v > max ||
      v != floor(v))
    return -1;
  *out = (size_t)v;
  return 0;
}

/* ValueArray="N|v1|...|vN": the count must match the values present. */
static cs_status read_calibration(const xmlNode *cal, csi_dvec *x,
                                  cs_error *err) {
  char *va = csi_xml_attr(cal, "ValueArray");
  if (!va)
    return csi_error(err, CS_ERR_MALFORMED,
                     "x calibration has no ValueArray attribute");
  cs_status st = parse_list(va, '|', x, "x calibration ValueArray", err);
  free(va);
  if (st)
    return st;
  if (x->n < 2 || x->v[0] != floor(x->v[0]) || x->v[0] != (double)(x->n - 1))
    return csi_error(err, CS_ERR_MALFORMED,
                     "x calibration ValueArray count %g does not match its "
                     "%zu values",
                     x->n ? x->v[0] : 0.0, x->n ? x->n - 1 : 0);
  memmove(x->v, x->v + 1, (x->n - 1) * sizeof *x->v);
  x->n--;
  return CS_OK;
}

/* .NET DateTime ticks (100 ns since 0001-01-01) as ISO 8601 local time,
 * the clock the instrument PC kept (no zone in the file). */
static int ticks_iso(uint64_t ticks, char *buf, size_t cap) {
  const uint64_t max = 3155378975999999999ULL; /* 9999-12-31T23:59:59.9999999 */
  if (ticks > max)
    return -1;
  uint64_t secs = ticks / 10000000ULL, frac = ticks % 10000000ULL;
  /* Civil date from days since 0001-01-01 (proleptic Gregorian), shifted to
   * days since 0000-03-01 as in H. Hinnant's days_from_civil inverse. */
  int64_t z = (int64_t)(secs / 86400) + 306;
  int64_t era = z / 146097, doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2)
    y++;
  uint64_t sod = secs % 86400;
  csi_snprintf(buf, cap,
           "%04" PRId64 "-%02" PRId64 "-%02" PRId64 "T%02u:%02u:%02u.%07u", y,
           m, d, (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60),
           (unsigned)(sod % 60), (unsigned)frac);
  return 0;
}

static int parse_ticks(const char *s, uint64_t *out) {
  if (!s || !isdigit((unsigned char)*s))
    return -1;
  uint64_t v = 0;
  for (; *s; s++) {
    if (!isdigit((unsigned char)*s) || v > (UINT64_MAX - 9) / 10)
      return -1;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return 0;
}

/* Title from XmlMain Filename="C:\...\name.tvf": the base name, no
 * extension (the path is the instrument PC's, not ours). */
static char *title_from(const char *fname) {
  const char *b = fname;
  for (const char *p = fname; *p; p++)
    if (*p == '\\' || *p == '/')
      b = p + 1;
  const char *dot = strrchr(b, '.');
  return csi_strndup(b, dot && dot != b ? (size_t)(dot - b) : strlen(b));
}

typedef struct ctx {
  csi_dvec x, y;
  cs_dataset *ds;
  const char *title; /* may be NULL */
} ctx;

static cs_status read_document(const xmlNode *doc, size_t di, ctx *c,
                               cs_error *err) {
  cs_status st = CS_OK;
  char *enc = csi_xml_attr(doc, "Encoding");
  if (enc && csi_strcasecmp(enc, "Ascii") != 0) {
    st = csi_error(err, CS_ERR_UNSUPPORTED,
                   "document %zu: Encoding '%.20s' is not handled (Ascii is)",
                   di, enc);
    free(enc);
    return st;
  }
  free(enc);

  cs_spectrum *t = csi_spectrum_alloc(0);
  info in = {NAN, NAN, NAN, {0}};
  if (!t)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  t->technique = CS_TECH_RAMAN;
  char *s = csi_xml_attr(doc, "DataLabel");
  t->quantity =
      s && csi_strcasecmp(s, "Counts") == 0 ? CS_Q_COUNTS : CS_Q_ARBITRARY;
  free(s);
  char *rec = csi_xml_attr(doc, "RecordTime");
  if (rec && *rec)
    st = cs_spectrum_set_meta(t, "trivista.record_time", rec, err);
  if (!st && c->title)
    st = cs_spectrum_set_meta(t, CS_META_TITLE, c->title, err);
  char *infotext = st ? NULL : csi_xml_attr(doc, "InfoSerialized");
  if (infotext)
    st = read_info(infotext, t, &in, err);
  free(infotext);
  if (!st && in.models.oom)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st && in.models.n) {
    csi_buf_put(&in.models, "", 1);
    st = in.models.oom
             ? csi_error(err, CS_ERR_NOMEM, "out of memory")
             : cs_spectrum_set_meta(t, CS_META_INSTRUMENT, in.models.p, err);
  }
  if (!st && isfinite(in.exposure_ms) && in.exposure_ms >= 0)
    t->exposure_s = in.exposure_ms / 1000;
  if (!st && isfinite(in.accumulations) && in.accumulations >= 1 &&
      in.accumulations <= 1e9 && in.accumulations == floor(in.accumulations))
    t->accumulations = (int)in.accumulations;

  /* x axis: the first ValueArray calibration of <xDim>. */
  xmlNodePtr xdim = csi_xml_child(doc, "xDim");
  xmlNodePtr cal = csi_xml_child(xdim, "Calibration");
  c->x.n = 0;
  if (!st && !cal)
    st = csi_error(err, CS_ERR_MALFORMED, "document %zu: no <xDim> calibration",
                   di);
  char *type = st ? NULL : csi_xml_attr(cal, "Type");
  if (!st && (!type || strcmp(type, "ValueArray") != 0))
    st = csi_error(err, CS_ERR_UNSUPPORTED,
                   "document %zu: calibration type '%.20s' is not handled "
                   "(ValueArray is)",
                   di, type ? type : "");
  free(type);
  char *unit = st ? NULL : csi_xml_attr(cal, "Unit");
  csi_axis_unit au = csi_axis_from_unit(unit, CS_TECH_RAMAN);
  if (!st && (au.axis != CS_AXIS_WAVELENGTH_NM || au.inverse))
    st = csi_error(err, CS_ERR_UNSUPPORTED,
                   "document %zu: calibration unit '%.20s' is not handled "
                   "(Nanometer is)",
                   di, unit ? unit : "");
  t->axis = CS_AXIS_WAVELENGTH_NM;
  if (!st)
    st = read_calibration(cal, &c->x, err);
  if (!st)
    st = csi_axis_unit_apply(&au, c->x.v, c->x.n, unit, err);
  free(unit);
  size_t len;
  if (!st && attr_count(xdim, "Length", (double)CSI_MAX_POINTS, &len) == 0 &&
      len != c->x.n)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "document %zu: <xDim> Length %zu but the calibration has "
                   "%zu values",
                   di, len, c->x.n);
  double lw;
  if (!st) {
    /* LaserWave="0.000" means no laser was set. */
    if (csi_xml_attr_double(cal, "LaserWave", &lw) == 0 && lw > 0)
      t->laser_nm = lw;
    else if (isfinite(in.laser_nm) && in.laser_nm > 0)
      t->laser_nm = in.laser_nm;
  }

  xmlNodePtr data = st ? NULL : csi_xml_child(doc, "Data");
  if (!st && !data)
    st = csi_error(err, CS_ERR_MALFORMED, "document %zu: no <Data>", di);
  uint64_t t0 = 0;
  size_t fi = 0;
  for (xmlNodePtr f = st ? NULL : csi_xml_child(data, "Frame"); f && !st;
       f = csi_xml_next(f, "Frame"), fi++) {
    size_t fx, fy = 1;
    if (attr_count(f, "xDim", (double)CSI_MAX_POINTS, &fx) != 0 ||
        fx != c->x.n) {
      st = csi_error(err, CS_ERR_MALFORMED,
                     "frame %zu: xDim missing or not the calibration's %zu "
                     "points",
                     fi, c->x.n);
      break;
    }
    if (xmlHasProp(f, (const xmlChar *)"yDim") &&
        (attr_count(f, "yDim", (double)CSI_MAX_SPECTRA, &fy) != 0 || fy < 1)) {
      st = csi_error(err, CS_ERR_MALFORMED, "frame %zu: bad yDim", fi);
      break;
    }
    char *text = csi_xml_text(f);
    char what[32];
    csi_snprintf(what, sizeof what, "frame %zu", fi);
    c->y.n = 0;
    st = text ? parse_list(text, ';', &c->y, what, err)
              : csi_error(err, CS_ERR_NOMEM, "out of memory");
    free(text);
    if (!st && c->y.n != fx * fy)
      st = csi_error(err, CS_ERR_MALFORMED,
                     "frame %zu holds %zu values, xDim x yDim = %zu x %zu", fi,
                     c->y.n, fx, fy);
    char stamp[48] = "", rel[48] = "";
    uint64_t ticks = 0;
    char *ts = st ? NULL : csi_xml_attr(f, "TimeStamp");
    if (ts && parse_ticks(ts, &ticks) != 0)
      st = csi_error(err, CS_ERR_MALFORMED, "frame %zu: bad TimeStamp '%.24s'",
                     fi, ts);
    free(ts);
    /* TimeStamp 0 (line scans) means "not recorded". */
    if (!st && ticks) {
      if (ticks_iso(ticks, stamp, sizeof stamp) != 0)
        st = csi_error(err, CS_ERR_MALFORMED,
                       "frame %zu: TimeStamp out of range", fi);
      if (!t0)
        t0 = ticks;
      if (ticks >= t0)
        csi_snprintf(rel, sizeof rel, "%" PRIu64 ".%07" PRIu64,
                 (uint64_t)((ticks - t0) / 10000000U),
                 (uint64_t)((ticks - t0) % 10000000U));
    }
    for (size_t r = 0; r < fy && !st; r++) {
      cs_spectrum *sp = csi_spectrum_alloc(fx);
      if (!sp) {
        st = csi_error(err, CS_ERR_NOMEM, "out of memory");
        break;
      }
      memcpy(sp->x, c->x.v, fx * sizeof *sp->x);
      memcpy(sp->y, c->y.v + r * fx, fx * sizeof *sp->y);
      char num[32];
      csi_snprintf(num, sizeof num, "%zu", fi);
      st = csi_spectrum_copy_meta(sp, t, err);
      if (!st)
        st = cs_spectrum_set_meta(sp, "trivista.frame", num, err);
      if (!st && fy > 1) {
        csi_snprintf(num, sizeof num, "%zu", r);
        st = cs_spectrum_set_meta(sp, "trivista.row", num, err);
      }
      if (!st)
        st = cs_spectrum_set_meta(sp, CS_META_ACQUIRED,
                                  *stamp        ? stamp
                                  : rec && *rec ? rec
                                                : NULL,
                                  err);
      if (!st && *rel)
        st = cs_spectrum_set_meta(sp, "trivista.frame_time_s", rel, err);
      if (st) {
        cs_spectrum_free(sp);
        break;
      }
      st = cs_dataset_push(c->ds, sp, err);
    }
  }
  if (!st && fi == 0)
    st = csi_error(err, CS_ERR_MALFORMED, "document %zu: <Data> has no <Frame>",
                   di);
  free(rec);
  csi_buf_free(&in.models);
  cs_spectrum_free(t);
  return st;
}

static cs_status read_tvf(const char *path, cs_dataset **out, cs_error *err) {
  *out = NULL;
  cs_error local;
  xmlDocPtr doc = csi_xml_read_file(path, 0, err ? err : &local);
  if (!doc)
    return err ? err->code : local.code;
  ctx c = {{0}, {0}, csi_dataset_alloc(), NULL};
  char *title = NULL;
  cs_status st = CS_OK;
  xmlNodePtr root = xmlDocGetRootElement(doc);
  if (!c.ds)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  else if (!csi_xml_is(root, "XmlMain"))
    st = csi_error(err, CS_ERR_MALFORMED, "root element is not <XmlMain>");
  if (!st) {
    char *fname = csi_xml_attr(root, "Filename");
    if (fname && *fname)
      title = title_from(fname);
    free(fname);
    c.title = title && *title ? title : NULL;
  }
  xmlNodePtr docs = st ? NULL : csi_xml_child(root, "Documents");
  if (!st && !docs)
    st = csi_error(err, CS_ERR_MALFORMED, "no <Documents> element");
  size_t di = 0;
  for (xmlNodePtr d = st ? NULL : csi_xml_child(docs, "Document"); d && !st;
       d = csi_xml_next(d, "Document"), di++) {
    char *type = csi_xml_attr(d, "DocType");
    int spectra = !type || strcmp(type, "Spectra") == 0;
    free(type);
    if (spectra)
      st = read_document(d, di, &c, err);
  }
  free(title);
  csi_dvec_free(&c.x);
  csi_dvec_free(&c.y);
  xmlFreeDoc(doc);
  if (st) {
    cs_dataset_free(c.ds);
    return st;
  }
  *out = c.ds;
  return CS_OK;
}

/* Root <XmlMain> is a generic name: the "TriVista-File" comment that
 * precedes it is what makes the file certain. */
static int sniff(const unsigned char *head, size_t n) {
  if (!csi_xml_sniff_root(head, n, "XmlMain"))
    return 0;
  return csi_memcasemem(head, n, "<!--TriVista-File") ? 100 : 40;
}

const csi_reader csi_reader_trivista = {
    "trivista",
    "tvf",
    "TriVista .tvf (S&I / Teledyne): spectra, frames, "
    "time series, line scans",
    sniff,
    read_tvf,
    NULL};
