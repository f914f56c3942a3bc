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
  xmlDocPtr doc;
  cs_status st = csi_xml_parse(p, strlen(p), 0, &doc, err);
  if (st) {
    csi_error_prefix(err, "InfoSerialized");
    return st;
  }
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

/* The document's metadata as a template spectrum (no points): Raman,
 * counts or arbitrary, record time, title, and what InfoSerialized says
 * (instrument models, exposure, accumulations; in->laser_nm for later). */
static cs_status document_template(const xmlNode *doc, size_t di, ctx *c,
                                   cs_spectrum *t, info *in, cs_error *err) {
  cs_status st = CS_OK;
  char *enc = csi_xml_attr(doc, "Encoding");
  if (enc && csi_strcasecmp(enc, "Ascii") != 0)
    st = csi_error(err, CS_ERR_UNSUPPORTED,
                   "document %zu: Encoding '%.20s' is not handled (Ascii is)",
                   di, enc);
  free(enc);
  if (st)
    return st;
  t->technique = CS_TECH_RAMAN;
  char *s = csi_xml_attr(doc, "DataLabel");
  t->quantity =
      s && csi_strcasecmp(s, "Counts") == 0 ? CS_Q_COUNTS : CS_Q_ARBITRARY;
  free(s);
  char *rec = csi_xml_attr(doc, "RecordTime");
  if (rec && *rec)
    st = cs_spectrum_set_meta(t, "trivista.record_time", rec, err);
  free(rec);
  if (!st && c->title)
    st = cs_spectrum_set_meta(t, CS_META_TITLE, c->title, err);
  char *infotext = st ? NULL : csi_xml_attr(doc, "InfoSerialized");
  if (infotext)
    st = read_info(infotext, t, in, err);
  free(infotext);
  if (!st && in->models.oom)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st && in->models.n) {
    csi_buf_put(&in->models, "", 1);
    st = in->models.oom
             ? csi_error(err, CS_ERR_NOMEM, "out of memory")
             : cs_spectrum_set_meta(t, CS_META_INSTRUMENT, in->models.p, err);
  }
  if (!st && isfinite(in->exposure_ms) && in->exposure_ms >= 0)
    t->exposure_s = in->exposure_ms / 1000;
  if (!st && isfinite(in->accumulations) && in->accumulations >= 1 &&
      in->accumulations <= 1e9 && in->accumulations == floor(in->accumulations))
    t->accumulations = (int)in->accumulations;
  return st;
}

/* x axis into c->x: the first ValueArray calibration of <xDim>, in a
 * wavelength unit of the shared map (TriVista writes "Nanometer"), and the
 * laser from its LaserWave (0 = none set) or InfoSerialized. */
static cs_status read_x_axis(const xmlNode *doc, size_t di, ctx *c,
                             cs_spectrum *t, const info *in, cs_error *err) {
  cs_status st = CS_OK;
  xmlNodePtr xdim = csi_xml_child(doc, "xDim");
  xmlNodePtr cal = csi_xml_child(xdim, "Calibration");
  c->x.n = 0;
  if (!cal)
    return csi_error(err, CS_ERR_MALFORMED,
                     "document %zu: no <xDim> calibration", di);
  char *type = csi_xml_attr(cal, "Type");
  if (!type || strcmp(type, "ValueArray") != 0)
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
    if (csi_xml_attr_double(cal, "LaserWave", &lw) == 0 && lw > 0)
      t->laser_nm = lw;
    else if (isfinite(in->laser_nm) && in->laser_nm > 0)
      t->laser_nm = in->laser_nm;
  }
  return st;
}

/* A frame's TimeStamp (.NET ticks) as ISO time in stamp and seconds since
 * the first frame (*t0) in rel; both "" when not recorded (0, line scans). */
static cs_status frame_times(const xmlNode *f, size_t fi, uint64_t *t0,
                             char *stamp, size_t scap, char *rel, size_t rcap,
                             cs_error *err) {
  uint64_t ticks = 0;
  cs_status st = CS_OK;
  stamp[0] = rel[0] = '\0';
  char *ts = csi_xml_attr(f, "TimeStamp");
  if (ts && parse_ticks(ts, &ticks) != 0)
    st = csi_error(err, CS_ERR_MALFORMED, "frame %zu: bad TimeStamp '%.24s'",
                   fi, ts);
  free(ts);
  if (!st && ticks) {
    if (ticks_iso(ticks, stamp, scap) != 0)
      st = csi_error(err, CS_ERR_MALFORMED, "frame %zu: TimeStamp out of range",
                     fi);
    if (!*t0)
      *t0 = ticks;
    if (ticks >= *t0)
      csi_snprintf(rel, rcap, "%" PRIu64 ".%07" PRIu64,
                   (uint64_t)((ticks - *t0) / 10000000U),
                   (uint64_t)((ticks - *t0) % 10000000U));
  }
  return st;
}

/* One <Frame>: xDim x yDim values, one spectrum per row (yDim > 1 for
 * an image frame), each a copy of the template with frame/row/time. */
static cs_status read_frame(const xmlNode *f, size_t fi, ctx *c,
                            const cs_spectrum *t, uint64_t *t0,
                            cs_error *err) {
  size_t fx, fy = 1;
  if (attr_count(f, "xDim", (double)CSI_MAX_POINTS, &fx) != 0 || fx != c->x.n)
    return csi_error(err, CS_ERR_MALFORMED,
                     "frame %zu: xDim missing or not the calibration's %zu "
                     "points",
                     fi, c->x.n);
  if (xmlHasProp(f, (const xmlChar *)"yDim") &&
      (attr_count(f, "yDim", (double)CSI_MAX_SPECTRA, &fy) != 0 || fy < 1))
    return csi_error(err, CS_ERR_MALFORMED, "frame %zu: bad yDim", fi);
  char *text = csi_xml_text(f);
  char what[32];
  csi_snprintf(what, sizeof what, "frame %zu", fi);
  c->y.n = 0;
  cs_status st = text ? parse_list(text, ';', &c->y, what, err)
                      : csi_error(err, CS_ERR_NOMEM, "out of memory");
  free(text);
  if (!st && c->y.n != fx * fy)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "frame %zu holds %zu values, xDim x yDim = %zu x %zu", fi,
                   c->y.n, fx, fy);
  char stamp[48], rel[48];
  if (!st)
    st = frame_times(f, fi, t0, stamp, sizeof stamp, rel, sizeof rel, err);
  const char *rec = cs_spectrum_meta(t, "trivista.record_time");
  for (size_t r = 0; r < fy && !st; r++) {
    cs_spectrum *sp = csi_spectrum_alloc(fx);
    if (!sp)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
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
      st = cs_spectrum_set_meta(sp, CS_META_ACQUIRED, *stamp ? stamp : rec,
                                err);
    if (!st && *rel)
      st = cs_spectrum_set_meta(sp, "trivista.frame_time_s", rel, err);
    if (st) {
      cs_spectrum_free(sp);
      return st;
    }
    st = cs_dataset_push(c->ds, sp, err);
  }
  return st;
}

/* One <Document>: template metadata, x axis, then every frame. */
static cs_status read_document(const xmlNode *doc, size_t di, ctx *c,
                               cs_error *err) {
  cs_spectrum *t = csi_spectrum_alloc(0);
  info in = {NAN, NAN, NAN, {0}};
  if (!t)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = document_template(doc, di, c, t, &in, err);
  if (!st)
    st = read_x_axis(doc, di, c, t, &in, err);
  xmlNodePtr data = st ? NULL : csi_xml_child(doc, "Data");
  if (!st && !data)
    st = csi_error(err, CS_ERR_MALFORMED, "document %zu: no <Data>", di);
  uint64_t t0 = 0;
  size_t fi = 0;
  for (xmlNodePtr f = st ? NULL : csi_xml_child(data, "Frame"); f && !st;
       f = csi_xml_next(f, "Frame"), fi++)
    st = read_frame(f, fi, c, t, &t0, err);
  if (!st && fi == 0)
    st = csi_error(err, CS_ERR_MALFORMED, "document %zu: <Data> has no <Frame>",
                   di);
  csi_buf_free(&in.models);
  cs_spectrum_free(t);
  return st;
}

static cs_status read_tvf(const char *path, cs_dataset **out, cs_error *err) {
  *out = NULL;
  xmlDocPtr doc;
  cs_status rs = csi_xml_read_file(path, 0, &doc, err);
  if (rs)
    return rs;
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

/* ---- streaming: one <Frame> at a time ----
 * The pull parser passes over <Hardware> and the rest, reads <XmlMain>'s
 * Filename and each <Document>'s attributes without expanding it (a shallow
 * copy, read by document_template above), expands its <xDim> (small: read
 * with read_x_axis) and then each <Frame> of <Data> in turn, read with
 * read_frame and freed as the parser moves on: one frame's spectra are
 * held (yDim of them; 1 for a spectrum, time series or line scan).  Errors
 * after the first spectrum come after the spectra before them.  TriVista
 * writes <xDim> before <Data>; a <Data> before its document's <xDim> is
 * read whole (read_tvf), as the DOM reader reads it, skipping the spectra
 * already handed out. */

typedef struct {
  csi_xml_stream *xs;
  char *path, *title;
  ctx c;
  int skip; /* move past the current subtree, not into it */
  int root_seen, docs_seen, in_docs, in_doc, in_data;
  /* the current document: index, shallow copy, template, settings */
  size_t di, fi;
  int spectra, xdim_seen, data_seen;
  xmlDocPtr hold; /* owns dnode */
  xmlNodePtr dnode;
  cs_spectrum *t;
  info in;
  uint64_t t0;
  size_t pos, handed; /* c.ds items handed out; spectra handed in all */
  cs_dataset *whole;  /* the DOM reading, after a layout fallback */
} tvf_stream;

static void doc_end(tvf_stream *ts) {
  xmlFreeDoc(ts->hold);
  ts->hold = NULL;
  ts->dnode = NULL;
  cs_spectrum_free(ts->t);
  ts->t = NULL;
  csi_buf_free(&ts->in.models);
  ts->in_doc = ts->in_data = 0;
}

static void tvf_stream_close(void *state) {
  tvf_stream *ts = state;
  if (!ts)
    return;
  doc_end(ts);
  csi_xml_stream_close(ts->xs);
  cs_dataset_free(ts->c.ds);
  csi_dvec_free(&ts->c.x);
  csi_dvec_free(&ts->c.y);
  cs_dataset_free(ts->whole);
  free(ts->title);
  free(ts->path);
  free(ts);
}

static cs_status tvf_stream_open(const char *path, void **state,
                                 cs_error *err) {
  *state = NULL;
  tvf_stream *ts = calloc(1, sizeof *ts);
  if (!ts)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = CS_OK;
  if (!(ts->path = csi_strdup(path)) || !(ts->c.ds = csi_dataset_alloc()))
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st)
    st = csi_xml_stream_open(path, &ts->xs, err);
  if (st) {
    tvf_stream_close(ts);
    return st;
  }
  *state = ts;
  return CS_OK;
}

static size_t tvf_stream_held(const void *state) {
  const tvf_stream *ts = state;
  return ts->whole ? ts->whole->n - ts->pos : ts->c.ds->n - ts->pos;
}

/* Known only after a whole reading: frames are counted as they come. */
static size_t tvf_stream_count(const void *state) {
  const tvf_stream *ts = state;
  return ts->whole ? ts->whole->n : 0;
}

/* The next spectrum queued in ds (NULL when none), handed out. */
static cs_spectrum *pop(tvf_stream *ts, cs_dataset *ds) {
  if (ts->pos >= ds->n)
    return NULL;
  cs_spectrum *s = ds->items[ts->pos];
  ds->items[ts->pos++] = NULL;
  ts->handed++;
  return s;
}

/* The document's attributes document_template and the walk read, copied
 * onto a childless <Document> (its <xDim> is added when it comes). */
static const char *const doc_attrs[] = {"DocType", "Encoding", "DataLabel",
                                        "RecordTime", "InfoSerialized"};

static cs_status doc_begin(tvf_stream *ts, cs_error *err) {
  ts->hold = xmlNewDoc((const xmlChar *)"1.0");
  ts->dnode = ts->hold ? xmlNewDocNode(ts->hold, NULL,
                                       (const xmlChar *)"Document", NULL)
                       : NULL;
  if (!ts->dnode)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  xmlDocSetRootElement(ts->hold, ts->dnode);
  for (size_t i = 0; i < sizeof doc_attrs / sizeof *doc_attrs; i++) {
    char *v = csi_xml_stream_attr(ts->xs, doc_attrs[i]);
    int bad = v && !xmlNewProp(ts->dnode, (const xmlChar *)doc_attrs[i],
                               (const xmlChar *)v);
    free(v);
    if (bad)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  char *type = csi_xml_attr(ts->dnode, "DocType");
  ts->spectra = !type || strcmp(type, "Spectra") == 0;
  free(type);
  ts->in_doc = 1;
  ts->xdim_seen = ts->data_seen = 0;
  ts->fi = 0;
  ts->t0 = 0;
  if (!ts->spectra)
    return CS_OK;
  ts->in = (info){NAN, NAN, NAN, {0}};
  if (!(ts->t = csi_spectrum_alloc(0)))
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  return document_template(ts->dnode, ts->di, &ts->c, ts->t, &ts->in, err);
}

/* A spectra document ended: what read_document says after its frames. */
static cs_status doc_finish(tvf_stream *ts, cs_error *err) {
  cs_status st = CS_OK;
  if (ts->spectra && !ts->xdim_seen) /* its "no <xDim> calibration" */
    st = read_x_axis(ts->dnode, ts->di, &ts->c, ts->t, &ts->in, err);
  else if (ts->spectra && !ts->data_seen)
    st = csi_error(err, CS_ERR_MALFORMED, "document %zu: no <Data>", ts->di);
  else if (ts->spectra && ts->fi == 0)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "document %zu: <Data> has no <Frame>", ts->di);
  doc_end(ts);
  ts->di++;
  return st;
}

static cs_status tvf_stream_next(void *state, cs_spectrum **out,
                                 cs_error *err) {
  tvf_stream *ts = state;
  *out = NULL;
  if (ts->whole) {
    *out = pop(ts, ts->whole);
    return CS_OK;
  }
  if ((*out = pop(ts, ts->c.ds)))
    return CS_OK;
  ts->c.ds->n = 0; /* all handed out (NULLed): reuse */
  ts->pos = 0;
  csi_xml_stream *xs = ts->xs;
  for (;;) {
    int rc = ts->skip ? csi_xml_stream_next(xs) : csi_xml_stream_read(xs);
    ts->skip = 0;
    if (rc < 0)
      return csi_xml_stream_error(xs, err);
    int depth = rc ? csi_xml_stream_depth(xs) : 0;
    if (ts->in_data && (rc == 0 || depth <= 3))
      ts->in_data = 0;
    if (ts->in_doc && (rc == 0 || depth <= 2)) {
      cs_status st = doc_finish(ts, err);
      if (st)
        return st;
    }
    if (ts->in_docs && (rc == 0 || depth <= 1))
      ts->in_docs = 0;
    if (rc == 0) {
      if (!ts->root_seen)
        return csi_error(err, CS_ERR_MALFORMED,
                         "XML document has no root element");
      if (!ts->docs_seen)
        return csi_error(err, CS_ERR_MALFORMED, "no <Documents> element");
      return CS_OK;
    }
    if (!csi_xml_stream_is_element(xs))
      continue;
    const char *name = csi_xml_stream_name(xs);
    if (depth == 0) {
      ts->root_seen = 1;
      if (strcmp(name, "XmlMain"))
        return csi_error(err, CS_ERR_MALFORMED,
                         "root element is not <XmlMain>");
      char *fname = csi_xml_stream_attr(xs, "Filename");
      if (fname && *fname && !(ts->title = title_from(fname))) {
        free(fname);
        return csi_error(err, CS_ERR_NOMEM, "out of memory");
      }
      free(fname);
      ts->c.title = ts->title && *ts->title ? ts->title : NULL;
      continue; /* into it */
    }
    ts->skip = 1; /* every element is read or passed over whole, but ... */
    if (depth == 1 && !strcmp(name, "Documents") && !ts->docs_seen) {
      ts->docs_seen = ts->in_docs = 1;
      ts->skip = 0; /* ... the documents, */
    } else if (depth == 2 && ts->in_docs && !strcmp(name, "Document")) {
      cs_status st = doc_begin(ts, err);
      if (st)
        return st;
      ts->skip = !ts->spectra; /* ... a spectra document, */
    } else if (depth == 3 && ts->in_doc && !strcmp(name, "xDim") &&
               !ts->xdim_seen) {
      xmlNodePtr x = csi_xml_stream_expand(xs);
      xmlNodePtr copy = x ? xmlDocCopyNode(x, ts->hold, 1) : NULL;
      if (!x)
        return csi_xml_stream_error(xs, err);
      if (!copy || !xmlAddChild(ts->dnode, copy)) {
        xmlFreeNode(copy);
        return csi_error(err, CS_ERR_NOMEM, "out of memory");
      }
      ts->xdim_seen = 1;
      cs_status st = read_x_axis(ts->dnode, ts->di, &ts->c, ts->t, &ts->in,
                                 err);
      if (st)
        return st;
    } else if (depth == 3 && ts->in_doc && !strcmp(name, "Data") &&
               !ts->data_seen) {
      ts->data_seen = 1;
      if (!ts->xdim_seen) { /* not as TriVista writes it: read whole */
        cs_status st = read_tvf(ts->path, &ts->whole, err);
        if (st)
          return st;
        ts->pos = ts->handed;
        if (ts->pos > ts->whole->n)
          ts->pos = ts->whole->n;
        return tvf_stream_next(ts, out, err);
      }
      ts->in_data = 1;
      ts->skip = 0; /* ... and its <Data>, read frame by frame */
    } else if (depth == 4 && ts->in_data && !strcmp(name, "Frame")) {
      xmlNodePtr f = csi_xml_stream_expand(xs);
      if (!f)
        return csi_xml_stream_error(xs, err);
      cs_status st = read_frame(f, ts->fi++, &ts->c, ts->t, &ts->t0, err);
      *out = pop(ts, ts->c.ds);
      if (st) {
        cs_spectrum_free(*out);
        *out = NULL;
        return st;
      }
      return CS_OK;
    }
  }
}

const csi_stream csi_stream_trivista = {tvf_stream_open, tvf_stream_next,
                                        tvf_stream_close, tvf_stream_held,
                                        tvf_stream_count};
