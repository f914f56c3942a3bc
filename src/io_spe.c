/* io_spe.c: Princeton Instruments / Teledyne LightField SPE files.
 *
 * SPE 3.0 (../shared/formats/FORMATS.md §1): a 4100-byte legacy header, the
 * frames, then an XML footer whose offset is a u64 at byte 678.  Geometry,
 * pixel format and calibration come from the footer only (the legacy fields
 * are zero in multi-ROI files).  Frames are streamed one at a time: a large
 * kinetic series never sits in memory as raw bytes.
 *
 * Legacy WinSpec 2.x (version < 3, no footer): data right after the header,
 * x from the header's calibration polynomial.  Header offsets follow the
 * WinSpec 2.5 header listing (as in hyperSpec R/read.spe.R and
 * kshmirko/SPEScec princeton/spespec.py): xdim u16 @42, datatype i16 @108,
 * ydim u16 @656, NumFrames i32 @1446, version f32 @1992, WinView_id u32
 * @2996, x calibration block @3000 (polynom_unit @3100, polynom_order @3101,
 * polynom_coeff f64[6] @3263, laser_position f64 @3311).
 */
#include "xmlutil.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define HDR_BYTES 4100
#define OFF_EXP_SEC 10
#define OFF_DATE 20
#define OFF_XDIM 42
#define OFF_CENTER_NM 72
#define OFF_DATATYPE 108
#define OFF_TIME_LOCAL 172
#define OFF_YDIM 656
#define OFF_FOOTER 678
#define OFF_ACCUM 668
#define OFF_NFRAMES 1446
#define OFF_NROI 1510
#define OFF_VERSION 1992
#define OFF_WINVIEW_ID 2996
#define OFF_XCAL_VALID 3098
#define OFF_XCAL_POLY_UNIT 3100
#define OFF_XCAL_POLY_ORDER 3101
#define OFF_XCAL_COEFF 3263
#define OFF_XCAL_LASER 3311
#define WINVIEW_ID 0x01234567u
/* Footers seen are 16-41 KB (FORMATS.md §1); 16 MiB is generous. */
#define MAX_FOOTER ((uint64_t)16 << 20)

typedef enum pix { PIX_F32, PIX_I32, PIX_I16, PIX_U16, PIX_U32 } pix;
static const size_t pix_bytes[] = {4, 4, 2, 2, 4};

static double pix_value(const unsigned char *p, pix f) {
  switch (f) {
  case PIX_F32: return csi_le_f32(p);
  case PIX_I32: return (double)(int32_t)csi_le_u32(p);
  case PIX_I16: return (double)(int16_t)csi_le_u16(p);
  case PIX_U16: return (double)csi_le_u16(p);
  case PIX_U32: return (double)csi_le_u32(p);
  }
  return NAN;
}

/* Legacy header datatype code (FORMATS.md §1) -> pixel format. */
static int legacy_pix(int code, pix *out) {
  switch (code) {
  case 0: *out = PIX_F32; return 0;
  case 1: *out = PIX_I32; return 0;
  case 2: *out = PIX_I16; return 0;
  case 3: *out = PIX_U16; return 0;
  case 8: *out = PIX_U32; return 0;
  default: return -1;
  }
}

static int mul_ok(size_t a, size_t b, size_t *out) {
  if (a && b > SIZE_MAX / a)
    return 0;
  *out = a * b;
  return 1;
}

/* ---- sniff ---- */

static int sniff(const unsigned char *head, size_t n) {
  if (n < OFF_WINVIEW_ID + 4)
    return 0;
  /* No magic string: the score needs several fields to agree. */
  int id = csi_le_u32(head + OFF_WINVIEW_ID) == WINVIEW_ID;
  double ver = csi_le_f32(head + OFF_VERSION);
  if (ver >= 3.0 && ver < 4.0) {
    uint64_t foot = csi_le_u64(head + OFF_FOOTER);
    if (foot < HDR_BYTES)
      return 0;
    return id ? 60 : 40;
  }
  pix p;
  if (id && ver > 0 && ver < 3.0 && csi_le_u16(head + OFF_XDIM) > 0 &&
      csi_le_u16(head + OFF_YDIM) > 0 &&
      legacy_pix((int16_t)csi_le_u16(head + OFF_DATATYPE), &p) == 0)
    return 60;
  return 0;
}

/* ---- shared helpers ---- */

/* A header float as the decimal it was typed as (7 significant digits, the
 * precision of f32): 0.2f reads 0.2, not 0.200000003. */
static double f32_decimal(const unsigned char *p) {
  double v = csi_le_f32(p);
  char buf[32];
  if (!isfinite(v))
    return v;
  csi_snprintf(buf, sizeof buf, "%.7g", v);
  return csi_strtod(buf, NULL);
}

/* Set key=value on the template; value NULL or empty is skipped. */
static cs_status put(cs_spectrum *t, const char *key, const char *value,
                     cs_error *err) {
  if (!value || !*value)
    return CS_OK;
  return cs_spectrum_set_meta(t, key, value, err);
}

static cs_status put_num(cs_spectrum *t, const char *key, double v,
                         cs_error *err) {
  char buf[40];
  csi_snprintf(buf, sizeof buf, "%.17g", v);
  return cs_spectrum_set_meta(t, key, buf, err);
}

static cs_status put_size(cs_spectrum *t, const char *key, size_t v,
                          cs_error *err) {
  char buf[32];
  csi_snprintf(buf, sizeof buf, "%zu", v);
  return cs_spectrum_set_meta(t, key, buf, err);
}

/* Read exactly n bytes at offset off. */
static cs_status read_at(FILE *f, off_t off, unsigned char *buf, size_t n,
                         const char *what, cs_error *err) {
  if (fseeko(f, off, SEEK_SET) != 0)
    return csi_error(err, CS_ERR_IO, "cannot seek to %s: %s", what,
                     strerror(errno));
  size_t got = fread(buf, 1, n, f);
  if (got != n) {
    if (ferror(f))
      return csi_error(err, CS_ERR_IO, "cannot read %s: %s", what,
                       strerror(errno));
    return csi_error(err, CS_ERR_MALFORMED,
                     "file ends inside %s (%zu of %zu bytes)", what, got, n);
  }
  return CS_OK;
}

/* One spectrum of n pixels from raw bytes; x copied.  Rejects non-finite
 * pixel values here, with their position, rather than in io.c. */
static cs_status emit(cs_dataset *ds, const cs_spectrum *tmpl, const double *x,
                      const unsigned char *raw, size_t n, pix f, size_t frame,
                      size_t roi, size_t row, int v3, cs_error *err) {
  cs_spectrum *s = csi_spectrum_alloc(n);
  if (!s)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  memcpy(s->x, x, n * sizeof *x);
  size_t bpp = pix_bytes[f];
  for (size_t i = 0; i < n; i++) {
    s->y[i] = pix_value(raw + i * bpp, f);
    if (!isfinite(s->y[i])) {
      cs_spectrum_free(s);
      return csi_error(err, CS_ERR_MALFORMED,
                       "non-finite pixel value in frame %zu, region %zu, row "
                       "%zu, pixel %zu",
                       frame, roi, row, i);
    }
  }
  cs_status st = csi_spectrum_copy_meta(s, tmpl, err);
  if (!st)
    st = put_size(s, "spe.frame", frame, err);
  if (!st && v3)
    st = put_size(s, "spe.roi", roi, err);
  if (!st)
    st = put_size(s, "spe.row", row, err);
  if (st) {
    cs_spectrum_free(s);
    return st;
  }
  return cs_dataset_push(ds, s, err);
}

/* ---- SPE 3.0 ---- */

typedef struct roi {
  size_t width, height;
  size_t offset; /* bytes from the frame start */
  double *x;     /* width values */
} roi;

/* Whole attribute as a non-negative integer: 0 ok, -1 missing or bad. */
static int attr_size(const xmlNode *n, const char *name, size_t *out) {
  char *v = csi_xml_attr(n, name);
  if (!v)
    return -1;
  const char *p = v;
  while (*p == ' ')
    p++;
  size_t r = 0;
  int digits = 0;
  for (; *p >= '0' && *p <= '9'; p++, digits++) {
    if (r > (SIZE_MAX - 9) / 10) {
      free(v);
      return -1;
    }
    r = r * 10 + (size_t)(*p - '0');
  }
  while (*p == ' ')
    p++;
  int ok = digits > 0 && *p == '\0';
  free(v);
  if (!ok)
    return -1;
  *out = r;
  return 0;
}

/* Element child by local name and an attribute value (NULL: any). */
static xmlNodePtr child_with(const xmlNode *parent, const char *name,
                             const char *attr, const char *value) {
  for (xmlNodePtr c = csi_xml_child(parent, name); c;
       c = csi_xml_next(c, name)) {
    if (!attr)
      return c;
    char *v = csi_xml_attr(c, attr);
    int eq = v && strcmp(v, value) == 0;
    free(v);
    if (eq)
      return c;
  }
  return NULL;
}

/* Follow "A/B/C" from n, taking the first matching child at each step. */
static xmlNodePtr path(const xmlNode *n, const char *p) {
  char name[64];
  const xmlNode *cur = n;
  while (cur && *p) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    if (len >= sizeof name)
      return NULL;
    memcpy(name, p, len);
    name[len] = '\0';
    cur = csi_xml_child(cur, name);
    p += len + (slash ? 1 : 0);
  }
  return (xmlNodePtr)cur;
}

/* Text of the element at path under n parsed as a finite double. */
static int path_double(const xmlNode *n, const char *p, double *out) {
  xmlNodePtr e = path(n, p);
  if (!e)
    return -1;
  char *t = csi_xml_text(e);
  int rc = t ? csi_parse_double(t, out) : -1;
  free(t);
  return rc;
}

/* Does the comma-separated id list contain id? */
static int id_in(const char *list, const char *id) {
  size_t m = strlen(id);
  for (const char *p = list; p && *p;) {
    while (*p == ' ')
      p++;
    const char *q = strchr(p, ',');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    while (len && p[len - 1] == ' ')
      len--;
    if (len == m && memcmp(p, id, m) == 0)
      return 1;
    p = q ? q + 1 : NULL;
  }
  return 0;
}

/* Calibration element of the given kind whose id is listed in `ids`. */
static xmlNodePtr calib_for(const xmlNode *cals, const char *kind,
                            const char *ids) {
  if (!cals || !ids)
    return NULL;
  for (xmlNodePtr c = csi_xml_child(cals, kind); c; c = csi_xml_next(c, kind)) {
    char *id = csi_xml_attr(c, "id");
    int hit = id && id_in(ids, id);
    free(id);
    if (hit)
      return c;
  }
  return NULL;
}

/* Parse the nm list of a WavelengthMapping: <Wavelength> "w,w,w" or
 * <WavelengthError> "w,e w,e" (FORMATS.md §1). */
static cs_status parse_wavelengths(const xmlNode *map, csi_dvec *wl,
                                   cs_error *err) {
  xmlNodePtr e = csi_xml_child(map, "Wavelength");
  int pairs = 0;
  if (!e) {
    e = csi_xml_child(map, "WavelengthError");
    pairs = 1;
  }
  if (!e)
    return csi_error(err, CS_ERR_MALFORMED,
                     "<WavelengthMapping> has no <Wavelength> list");
  char *t = csi_xml_text(e);
  if (!t)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = CS_OK;
  char *p = t;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ',')
      p++;
    if (!*p)
      break;
    char *end;
    errno = 0;
    double v = csi_strtod(p, &end);
    if (end == p || errno == ERANGE || !isfinite(v)) {
      st = csi_error(err, CS_ERR_MALFORMED,
                     "bad number in the wavelength calibration at value %zu",
                     wl->n);
      break;
    }
    p = end;
    if (pairs) { /* skip the ",error" half */
      if (*p != ',') {
        st = csi_error(err, CS_ERR_MALFORMED,
                       "<WavelengthError> value %zu is not a 'wl,err' pair",
                       wl->n);
        break;
      }
      p++;
      (void)csi_strtod(p, &end);
      if (end == p) {
        st = csi_error(err, CS_ERR_MALFORMED,
                       "<WavelengthError> value %zu is not a 'wl,err' pair",
                       wl->n);
        break;
      }
      p = end;
    }
    if (csi_dvec_push(wl, v)) {
      st = csi_error(err, CS_ERR_NOMEM,
                     "out of memory reading the wavelength calibration");
      break;
    }
  }
  free(t);
  if (!st && wl->n == 0)
    st = csi_error(err, CS_ERR_MALFORMED, "wavelength calibration is empty");
  return st;
}

/* Per-frame metadata fields we record (FORMATS.md §1 MetaFormat). */
typedef struct meta_field {
  size_t offset, bytes; /* within the metadata gap */
  const char *key;      /* NULL: skipped */
  double scale;         /* value * scale is stored */
} meta_field;

typedef struct v3_info {
  pix fmt;
  size_t count, size, stride, meta_bytes;
  size_t nroi;
  roi *rois;
  size_t nmeta;
  meta_field meta[16];
} v3_info;

static void v3_free(v3_info *v) {
  for (size_t i = 0; i < v->nroi; i++)
    free(v->rois[i].x);
  free(v->rois);
}

static cs_status parse_meta_format(const xmlNode *root, const xmlNode *frame,
                                   v3_info *v, cs_error *err) {
  char *want = csi_xml_attr(frame, "metaFormat");
  if (!want)
    return CS_OK;
  xmlNodePtr mf = csi_xml_child(root, "MetaFormat");
  xmlNodePtr mb = mf ? child_with(mf, "MetaBlock", "id", want) : NULL;
  free(want);
  if (!mb)
    return csi_error(err, CS_ERR_MALFORMED,
                     "frame refers to a <MetaBlock> that is missing");
  size_t off = 0;
  for (xmlNodePtr c = csi_xml_child(mb, NULL); c; c = csi_xml_next(c, NULL)) {
    size_t bits = 64;
    if (xmlHasProp(c, (const xmlChar *)"bitDepth") &&
        attr_size(c, "bitDepth", &bits))
      return csi_error(err, CS_ERR_MALFORMED, "bad bitDepth in <%s>",
                       (const char *)c->name);
    if (bits == 0 || bits > 64 || bits % 8)
      return csi_error(err, CS_ERR_MALFORMED,
                       "unsupported bitDepth %zu in <%s>", bits,
                       (const char *)c->name);
    if (v->nmeta == sizeof v->meta / sizeof v->meta[0])
      return csi_error(err, CS_ERR_UNSUPPORTED,
                       "more than %zu per-frame metadata fields",
                       sizeof v->meta / sizeof v->meta[0]);
    meta_field *m = &v->meta[v->nmeta++];
    *m = (meta_field){off, bits / 8, NULL, 1.0};
    if (bits == 64 && csi_xml_is(c, "TimeStamp")) {
      char *ev = csi_xml_attr(c, "event");
      size_t res = 0;
      /* resolution = ticks per second */
      if (ev && !attr_size(c, "resolution", &res) && res > 0) {
        if (!strcmp(ev, "ExposureStarted"))
          m->key = "spe.exposure_started_s";
        else if (!strcmp(ev, "ExposureEnded"))
          m->key = "spe.exposure_ended_s";
        m->scale = 1.0 / (double)res;
      }
      free(ev);
    } else if (bits == 64 && csi_xml_is(c, "FrameTrackingNumber")) {
      m->key = "spe.frame_tracking_number";
    }
    off += bits / 8;
  }
  v->meta_bytes = off;
  return CS_OK;
}

static cs_status parse_regions(const xmlNode *frame, const xmlNode *cals,
                               const csi_dvec *wl, v3_info *v, cs_error *err) {
  size_t n = 0;
  for (xmlNodePtr r = child_with(frame, "DataBlock", "type", "Region"); r;
       r = csi_xml_next(r, "DataBlock"))
    n++;
  if (n == 0)
    return csi_error(err, CS_ERR_MALFORMED, "frame has no region");
  if (n > 4096)
    return csi_error(err, CS_ERR_UNSUPPORTED, "%zu regions of interest", n);
  v->rois = calloc(n, sizeof *v->rois);
  if (!v->rois)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  size_t off = 0, bpp = pix_bytes[v->fmt];
  for (xmlNodePtr r = csi_xml_child(frame, "DataBlock"); r;
       r = csi_xml_next(r, "DataBlock")) {
    char *type = csi_xml_attr(r, "type");
    int is_region = type && !strcmp(type, "Region");
    free(type);
    if (!is_region)
      continue;
    size_t k = v->nroi;
    roi *ro = &v->rois[k];
    v->nroi++;
    size_t rsize, rstride, bytes;
    if (attr_size(r, "width", &ro->width) ||
        attr_size(r, "height", &ro->height) || ro->width == 0 ||
        ro->height == 0)
      return csi_error(err, CS_ERR_MALFORMED,
                       "region %zu lacks a valid width and height", k);
    if (ro->width > CSI_MAX_POINTS)
      return csi_error(err, CS_ERR_UNSUPPORTED,
                       "region %zu is %zu pixels wide", k, ro->width);
    if (!mul_ok(ro->width, ro->height, &bytes) || !mul_ok(bytes, bpp, &bytes))
      return csi_error(err, CS_ERR_MALFORMED, "region %zu is too large", k);
    if (attr_size(r, "size", &rsize))
      rsize = bytes;
    if (attr_size(r, "stride", &rstride))
      rstride = rsize;
    if (rsize != bytes || rstride < rsize)
      return csi_error(err, CS_ERR_MALFORMED,
                       "region %zu: size %zu does not match %zu x %zu pixels "
                       "of %zu bytes (stride %zu)",
                       k, rsize, ro->width, ro->height, bpp, rstride);
    if (rstride > v->size || off > v->size - rstride)
      return csi_error(err, CS_ERR_MALFORMED,
                       "regions exceed the frame size of %zu bytes", v->size);
    ro->offset = off;
    off += rstride;

    /* x: the wavelength of each (binned) column, or the sensor column. */
    ro->x = malloc(ro->width * sizeof *ro->x);
    if (!ro->x)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    char *ids = csi_xml_attr(r, "calibrations");
    xmlNodePtr sm = calib_for(cals, "SensorMapping", ids);
    free(ids);
    size_t x0 = 0, xbin = 1;
    if (sm) {
      if (attr_size(sm, "x", &x0) ||
          (xmlHasProp(sm, (const xmlChar *)"xBinning") &&
           attr_size(sm, "xBinning", &xbin)) ||
          xbin == 0)
        return csi_error(err, CS_ERR_MALFORMED,
                         "bad <SensorMapping> for region %zu", k);
    } else if (wl->n && v->nroi > 1) {
      return csi_error(err, CS_ERR_MALFORMED,
                       "region %zu has no <SensorMapping>; cannot place it on "
                       "the wavelength calibration",
                       k);
    }
    size_t span;
    if (!mul_ok(ro->width, xbin, &span) || x0 > SIZE_MAX - span)
      return csi_error(err, CS_ERR_MALFORMED,
                       "<SensorMapping> of region %zu is out of range", k);
    if (wl->n && x0 + span > wl->n)
      return csi_error(err, CS_ERR_MALFORMED,
                       "region %zu covers sensor columns %zu..%zu but the "
                       "wavelength calibration has %zu values",
                       k, x0, x0 + span - 1, wl->n);
    for (size_t i = 0; i < ro->width; i++) {
      /* Binned pixel: average of its columns (FORMATS.md §1). */
      double sum = 0;
      for (size_t b = 0; b < xbin; b++) {
        size_t col = x0 + i * xbin + b;
        sum += wl->n ? wl->v[col] : (double)col;
      }
      ro->x[i] = sum / (double)xbin;
    }
  }
  return CS_OK;
}

/* Footer -> geometry, calibration and the metadata template. */
static cs_status parse_footer(xmlDocPtr doc, uint64_t foot_off, v3_info *v,
                              cs_spectrum *t, cs_error *err) {
  xmlNodePtr root = xmlDocGetRootElement(doc);
  if (!csi_xml_is(root, "SpeFormat"))
    return csi_error(err, CS_ERR_MALFORMED,
                     "XML footer root is <%s>, not <SpeFormat>",
                     (const char *)root->name);
  xmlNodePtr df = csi_xml_child(root, "DataFormat");
  xmlNodePtr frame = df ? child_with(df, "DataBlock", "type", "Frame") : NULL;
  if (!frame)
    return csi_error(err, CS_ERR_MALFORMED,
                     "footer has no <DataBlock type=\"Frame\">");
  char *pf = csi_xml_attr(frame, "pixelFormat");
  /* The three pixel formats of the SPE 3.0 format (FORMATS.md §1). */
  if (pf && !strcmp(pf, "MonochromeUnsigned16"))
    v->fmt = PIX_U16;
  else if (pf && !strcmp(pf, "MonochromeUnsigned32"))
    v->fmt = PIX_U32;
  else if (pf && !strcmp(pf, "MonochromeFloating32"))
    v->fmt = PIX_F32;
  else {
    cs_status st = csi_error(err, CS_ERR_MALFORMED, "unknown pixel format '%s'",
                             pf ? pf : "(missing)");
    free(pf);
    return st;
  }
  cs_status st = put(t, "spe.pixel_format", pf, err);
  free(pf);
  if (st)
    return st;
  if (attr_size(frame, "count", &v->count) || v->count == 0)
    return csi_error(err, CS_ERR_MALFORMED, "bad frame count");
  if (attr_size(frame, "size", &v->size) || v->size == 0)
    return csi_error(err, CS_ERR_MALFORMED, "bad frame size");
  if (attr_size(frame, "stride", &v->stride))
    v->stride = v->size;
  if (v->stride < v->size)
    return csi_error(err, CS_ERR_MALFORMED,
                     "frame stride %zu is smaller than the frame size %zu",
                     v->stride, v->size);
  /* The frames must end where the footer starts, or before. */
  if ((uint64_t)v->count > (foot_off - HDR_BYTES) / v->stride)
    return csi_error(err, CS_ERR_MALFORMED,
                     "%zu frames of %zu bytes do not fit before the footer at "
                     "byte %llu",
                     v->count, v->stride, (unsigned long long)foot_off);
  if ((st = parse_meta_format(root, frame, v, err)))
    return st;
  if (v->meta_bytes > v->stride - v->size)
    return csi_error(err, CS_ERR_MALFORMED,
                     "per-frame metadata (%zu bytes) does not fit between "
                     "frame size %zu and stride %zu",
                     v->meta_bytes, v->size, v->stride);

  xmlNodePtr cals = csi_xml_child(root, "Calibrations");
  char *fcal = csi_xml_attr(frame, "calibrations");
  xmlNodePtr map = calib_for(cals, "WavelengthMapping", fcal);
  free(fcal);
  if (!map && cals) /* files without the id link: the only mapping */
    map = csi_xml_child(cals, "WavelengthMapping");
  csi_dvec wl = {0};
  if (map)
    st = parse_wavelengths(map, &wl, err);
  if (!st)
    st = parse_regions(frame, cals, &wl, v, err);
  csi_dvec_free(&wl);
  if (st)
    return st;
  size_t rows = 0;
  for (size_t i = 0; i < v->nroi; i++)
    rows += v->rois[i].height; /* each <= size, so no overflow */
  if (rows > CSI_MAX_SPECTRA / v->count)
    return csi_error(err, CS_ERR_UNSUPPORTED,
                     "%zu frames x %zu rows exceed the %zu spectra limit",
                     v->count, rows, CSI_MAX_SPECTRA);

  t->axis = map ? CS_AXIS_WAVELENGTH_NM : CS_AXIS_PIXEL;
  t->quantity = CS_Q_COUNTS;
  st = put(t, "spe.calibration", map ? "wavelength_mapping" : "none", err);
  double laser;
  if (!st && map && csi_xml_attr_double(map, "laserLine", &laser) == 0 &&
      laser > 0) {
    /* laserLine is the only trusted laser; the CSV-export setting
     * <WavelengthLaserLine relevance="False"> is a default (532 even in the
     * 785 nm file), so it is ignored. */
    t->laser_nm = laser;
    t->technique = CS_TECH_RAMAN;
  }
  if (st)
    return st;

  /* Acquisition settings from the first data history (FORMATS.md §1). */
  xmlNodePtr origin = path(root, "DataHistories/DataHistory/Origin");
  xmlNodePtr exp = origin ? csi_xml_child(origin, "Experiment") : NULL;
  if (origin) {
    char *created = csi_xml_attr(origin, "created");
    char *sw = csi_xml_attr(origin, "software");
    char *swv = csi_xml_attr(origin, "softwareVersion");
    st = put(t, CS_META_ACQUIRED, created, err);
    if (!st && sw) {
      char *s = csi_strfmt("%s%s%s", sw, swv ? " " : "", swv ? swv : "");
      st = s ? put(t, "spe.software", s, err)
             : csi_error(err, CS_ERR_NOMEM, "out of memory");
      free(s);
    }
    free(created);
    free(sw);
    free(swv);
    if (st)
      return st;
  }
  if (exp) {
    double ms, nm;
    if (path_double(exp, "Devices/Cameras/Camera/ShutterTiming/ExposureTime",
                    &ms) == 0 &&
        ms >= 0)
      t->exposure_s = ms / 1000.0; /* ExposureTime is in ms */
    if (path_double(exp,
                    "Devices/Spectrometers/Spectrometer/Grating/"
                    "CenterWavelength",
                    &nm) == 0 &&
        (st = put_num(t, "spe.center_wavelength_nm", nm, err)))
      return st;
    /* Frames combined on line times frames combined afterwards. */
    double acc = 0, post;
    if (path_double(exp,
                    "Devices/Cameras/Camera/Experiment/OnlineProcessing/"
                    "FrameCombination/FramesCombined",
                    &acc) != 0)
      acc = 0;
    for (xmlNodePtr h = path(root, "DataHistories/DataHistory"); h;
         h = csi_xml_next(h, "DataHistory"))
      for (xmlNodePtr dm = csi_xml_child(h, "DataModified"); dm;
           dm = csi_xml_next(dm, "DataModified")) {
        xmlNodePtr fc = csi_xml_child(dm, "FrameCombination");
        if (fc && csi_xml_attr_double(fc, "framesCombined", &post) == 0 &&
            post >= 1)
          acc = (acc >= 1 ? acc : 1) * post;
      }
    if (acc >= 1 && acc <= INT_MAX && acc == floor(acc))
      t->accumulations = (int)acc;

    xmlNodePtr cam = path(exp, "System/Cameras/Camera");
    xmlNodePtr spec = path(exp, "System/Spectrometers/Spectrometer");
    xmlNodePtr las = path(exp, "System/Lasers/Laser");
    char *cm = cam ? csi_xml_attr(cam, "model") : NULL;
    char *sp = spec ? csi_xml_attr(spec, "model") : NULL;
    char *lm = las ? csi_xml_attr(las, "model") : NULL;
    char *inst = NULL;
    if (cm && sp)
      inst = csi_strfmt("%s on %s", cm, sp);
    else if (cm || sp)
      inst = csi_strdup(cm ? cm : sp);
    st = put(t, CS_META_INSTRUMENT, inst, err);
    if (!st)
      st = put(t, "spe.camera", cm, err);
    if (!st)
      st = put(t, "spe.spectrometer", sp, err);
    if (!st)
      st = put(t, "spe.laser_model", lm, err);
    free(cm);
    free(sp);
    free(lm);
    free(inst);
    if (st)
      return st;
  }
  return CS_OK;
}

static cs_status read_v3(FILE *f, uint64_t fsize, const unsigned char *hdr,
                         cs_dataset *ds, cs_error *err) {
  uint64_t foot = csi_le_u64(hdr + OFF_FOOTER);
  if (foot < HDR_BYTES || foot >= fsize)
    return csi_error(err, CS_ERR_MALFORMED,
                     "XML footer offset %llu is outside the file (%llu bytes)",
                     (unsigned long long)foot, (unsigned long long)fsize);
  if (fsize - foot > MAX_FOOTER)
    return csi_error(err, CS_ERR_UNSUPPORTED,
                     "XML footer of %llu bytes exceeds the 16 MiB limit",
                     (unsigned long long)(fsize - foot));
  size_t flen = (size_t)(fsize - foot);
  char *xml = malloc(flen + 1);
  if (!xml)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = read_at(f, (off_t)foot, (unsigned char *)xml, flen,
                         "the XML footer", err);
  if (st) {
    free(xml);
    return st;
  }
  xml[flen] = '\0';
  xmlDocPtr doc = csi_xml_parse(xml, flen, 0, err);
  free(xml);
  if (!doc) {
    csi_error_prefix(err, "SPE 3.0 footer");
    return err ? err->code : CS_ERR_MALFORMED;
  }
  v3_info v = {0};
  cs_spectrum *t = csi_spectrum_alloc(0);
  if (!t) {
    xmlFreeDoc(doc);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  st = parse_footer(doc, foot, &v, t, err);
  xmlFreeDoc(doc);
  if (!st)
    st = put(t, "spe.version", "3.0", err);

  /* Stream: one frame (pixels + its metadata) in memory at a time. */
  size_t need = v.size + v.meta_bytes;
  unsigned char *buf = st ? NULL : malloc(need);
  if (!st && !buf)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory for a %zu-byte frame",
                   need);
  for (size_t fr = 0; !st && fr < v.count; fr++) {
    char what[48];
    csi_snprintf(what, sizeof what, "frame %zu", fr);
    st = read_at(f, (off_t)(HDR_BYTES + (uint64_t)fr * v.stride), buf, need,
                 what, err);
    /* Per-frame metadata after the pixels (FORMATS.md §1). */
    for (size_t m = 0; !st && m < v.nmeta; m++) {
      const meta_field *mf = &v.meta[m];
      if (!mf->key)
        continue;
      double val =
          (double)(int64_t)csi_le_u64(buf + v.size + mf->offset) * mf->scale;
      st = put_num(t, mf->key, val, err);
    }
    for (size_t r = 0; !st && r < v.nroi; r++) {
      const roi *ro = &v.rois[r];
      size_t rowbytes = ro->width * pix_bytes[v.fmt];
      for (size_t y = 0; !st && y < ro->height; y++)
        st = emit(ds, t, ro->x, buf + ro->offset + y * rowbytes, ro->width,
                  v.fmt, fr, r, y, 1, err);
    }
  }
  free(buf);
  cs_spectrum_free(t);
  v3_free(&v);
  return st;
}

/* ---- legacy WinSpec 2.x ---- */

/* "15Mar2017" + "182836" -> "2017-03-15T18:28:36"; 0 ok. */
static int legacy_date(const unsigned char *hdr, char *out, size_t cap) {
  static const char *const mon[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                    "jul", "aug", "sep", "oct", "nov", "dec"};
  char d[11], tm[8];
  memcpy(d, hdr + OFF_DATE, 10);
  d[10] = '\0';
  memcpy(tm, hdr + OFF_TIME_LOCAL, 7);
  tm[7] = '\0';
  if (strlen(d) != 9)
    return -1;
  int m = -1;
  for (int i = 0; i < 12; i++)
    if (csi_strncasecmp(d + 2, mon[i], 3) == 0)
      m = i + 1;
  for (int i = 0; i < 9; i++)
    if ((i < 2 || i > 4) && (d[i] < '0' || d[i] > '9'))
      return -1;
  if (m < 0)
    return -1;
  int ok_time = strlen(tm) == 6;
  for (int i = 0; ok_time && i < 6; i++)
    ok_time = tm[i] >= '0' && tm[i] <= '9';
  if (ok_time)
    csi_snprintf(out, cap, "%.4s-%02d-%.2sT%.2s:%.2s:%.2s", d + 5, m, d, tm,
             tm + 2, tm + 4);
  else
    csi_snprintf(out, cap, "%.4s-%02d-%.2s", d + 5, m, d);
  return 0;
}

static cs_status read_v2(FILE *f, uint64_t fsize, const unsigned char *hdr,
                         double ver, cs_dataset *ds, cs_error *err) {
  pix fmt;
  int code = (int16_t)csi_le_u16(hdr + OFF_DATATYPE);
  if (legacy_pix(code, &fmt))
    return csi_error(err, CS_ERR_MALFORMED,
                     "SPE 2.x (WinSpec) file: unknown datatype %d", code);
  size_t xdim = csi_le_u16(hdr + OFF_XDIM), ydim = csi_le_u16(hdr + OFF_YDIM);
  int32_t nframes = (int32_t)csi_le_u32(hdr + OFF_NFRAMES);
  int16_t nroi = (int16_t)csi_le_u16(hdr + OFF_NROI);
  if (xdim == 0 || ydim == 0 || nframes <= 0)
    return csi_error(err, CS_ERR_MALFORMED,
                     "SPE 2.x (WinSpec) file: bad geometry %zu x %zu x %d "
                     "frames",
                     xdim, ydim, (int)nframes);
  if (nroi > 1)
    return csi_error(err, CS_ERR_UNSUPPORTED,
                     "SPE 2.x (WinSpec) file: %d regions of interest", nroi);
  size_t bpp = pix_bytes[fmt], frame = xdim * ydim * bpp; /* < 2^35 */
  if ((uint64_t)nframes > (fsize - HDR_BYTES) / frame)
    return csi_error(err, CS_ERR_MALFORMED,
                     "SPE 2.x (WinSpec) file: %d frames of %zu bytes need "
                     "more than the %llu bytes after the header",
                     (int)nframes, frame,
                     (unsigned long long)(fsize - HDR_BYTES));
  if ((size_t)nframes > CSI_MAX_SPECTRA / ydim)
    return csi_error(err, CS_ERR_UNSUPPORTED, "too many spectra");

  cs_spectrum *t = csi_spectrum_alloc(0);
  double *x = malloc(xdim * sizeof *x);
  unsigned char *buf = malloc(frame);
  cs_status st = CS_OK;
  if (!t || !x || !buf)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");

  /* x: calibration polynomial at 1-based pixel numbers (WinSpec numbers
   * pixels from 1: the files' calib_value[0] equals the polynomial at
   * pixel_position[0] = 1).  Units per hyperSpec's table: 4 nm, 5 cm^-1
   * (absolute), 6 Raman shift; anything else leaves a pixel axis. */
  int valid = hdr[OFF_XCAL_VALID] != 0;
  int unit = hdr[OFF_XCAL_POLY_UNIT], order = hdr[OFF_XCAL_POLY_ORDER];
  double c[6];
  for (int k = 0; k < 6; k++)
    c[k] = csi_le_f64(hdr + OFF_XCAL_COEFF + 8 * k);
  cs_axis axis = CS_AXIS_PIXEL;
  if (valid && order >= 1 && order <= 5 && (unit >= 4 && unit <= 6))
    axis = unit == 4   ? CS_AXIS_WAVELENGTH_NM
           : unit == 5 ? CS_AXIS_WAVENUMBER
                       : CS_AXIS_RAMAN_SHIFT;
  for (size_t i = 0; !st && i < xdim; i++) {
    double p = (double)(i + 1), v = 0;
    if (axis == CS_AXIS_PIXEL)
      v = p;
    else
      for (int k = order; k >= 0; k--)
        v = v * p + c[k];
    if (!isfinite(v))
      st = csi_error(err, CS_ERR_MALFORMED,
                     "SPE 2.x (WinSpec) file: calibration polynomial gives a "
                     "non-finite x at pixel %zu",
                     i + 1);
    x[i] = v;
  }
  if (!st) {
    t->axis = axis;
    t->quantity = CS_Q_COUNTS;
    double laser = csi_le_f64(hdr + OFF_XCAL_LASER);
    /* laser_position holds nm in WinSpec files (636.3 in
     * Testfile_Single_SPE2.SPE); hyperSpec treats < 10 as unset. */
    if (isfinite(laser) && laser >= 10 && laser < 1e5) {
      t->laser_nm = laser;
      t->technique = CS_TECH_RAMAN;
    }
    double exp_s = f32_decimal(hdr + OFF_EXP_SEC);
    if (isfinite(exp_s) && exp_s >= 0)
      t->exposure_s = exp_s;
    int32_t acc = (int32_t)csi_le_u32(hdr + OFF_ACCUM);
    if (acc >= 1)
      t->accumulations = acc;
    char date[32], vs[16];
    if (legacy_date(hdr, date, sizeof date) == 0)
      st = put(t, CS_META_ACQUIRED, date, err);
    csi_snprintf(vs, sizeof vs, "%.3g", ver);
    if (!st)
      st = put(t, "spe.version", vs, err);
    double center = f32_decimal(hdr + OFF_CENTER_NM);
    if (!st && isfinite(center) && center > 0)
      st = put_num(t, "spe.center_wavelength_nm", center, err);
    if (!st)
      st = put(t, "spe.calibration",
               axis == CS_AXIS_PIXEL ? "none" : "polynomial", err);
  }
  for (size_t fr = 0; !st && fr < (size_t)nframes; fr++) {
    char what[48];
    csi_snprintf(what, sizeof what, "frame %zu", fr);
    st = read_at(f, (off_t)(HDR_BYTES + (uint64_t)fr * frame), buf, frame,
                 what, err);
    for (size_t y = 0; !st && y < ydim; y++)
      st = emit(ds, t, x, buf + y * xdim * bpp, xdim, fmt, fr, 0, y, 0, err);
  }
  cs_spectrum_free(t);
  free(x);
  free(buf);
  return st;
}

/* ---- entry point ---- */

static cs_status spe_read(const char *path, cs_dataset **out, cs_error *err) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return csi_error(err, CS_ERR_IO, "cannot open: %s", strerror(errno));
  cs_status st = CS_OK;
  unsigned char hdr[HDR_BYTES];
  off_t end = -1;
  if (fseeko(f, 0, SEEK_END) != 0 || (end = ftello(f)) < 0)
    st = csi_error(err, CS_ERR_IO, "cannot determine the file size: %s",
                   strerror(errno));
  else if (end < HDR_BYTES)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "%lld bytes is too short for the 4100-byte SPE header",
                   (long long)end);
  if (!st)
    st = read_at(f, 0, hdr, HDR_BYTES, "the SPE header", err);
  cs_dataset *ds = NULL;
  if (!st && !(ds = csi_dataset_alloc()))
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st) {
    double ver = csi_le_f32(hdr + OFF_VERSION);
    if (!isfinite(ver) || ver <= 0 || ver >= 100)
      st = csi_error(err, CS_ERR_MALFORMED,
                     "SPE header version field is not a version number");
    else if (ver >= 3.0)
      st = read_v3(f, (uint64_t)end, hdr, ds, err);
    else
      st = read_v2(f, (uint64_t)end, hdr, ver, ds, err);
  }
  fclose(f);
  if (st) {
    cs_dataset_free(ds);
    return st;
  }
  *out = ds;
  return CS_OK;
}

const csi_reader csi_reader_spe = {
    "spe", "spe",
    "Princeton Instruments / LightField SPE 3.0 and WinSpec SPE 2.x",
    sniff, spe_read, NULL};
