/* io_spc.c: Thermo Galactic SPC (GRAMS) binary spectra.
 *
 * Layout (Galactic "SPC file format" spec; ../shared/formats/FORMATS.md §8):
 * new format (fversn 0x4B little-endian, 0x4C big-endian): a 512-byte
 * header (ftflgs @0, fexper @2, fexp @3, fnpts i32 @4, ffirst/flast f64
 * @8/@16, fnsub i32 @24, fxtype/fytype/fztype @28-30, fcmnt[130] @88,
 * flogoff u32 @248), then an f32 x array when TXVALS (and not TXYXYS), then
 * per subfile a 32-byte subheader (subflgs, subexp @1, subindx u16 @2,
 * subtime f32 @4, subnext @8, subnpts u32 @16) followed, for TXYXYS, by its
 * own f32 x and then the y values.  y is IEEE f32 when the exponent is 0x80,
 * else integers scaled by 2^(exp-32) (i32) or 2^(exp-16) (i16, TSPREC).
 * Old format (fversn 0x4D): a 256-byte header with f32 onpts/ofirst/olast
 * @4/8/12, oxtype/oytype @16/17, ocmnt @64 and the first subheader inside it
 * @224; its i32 y values are stored high 16-bit word first.
 * The log block (@flogoff: logsizd u32, logtxto u32 @8) holds ASCII
 * "key=value" lines; Renishaw writes the laser and exposure there.
 *
 * Interferograms (y type 1, x type 255) and non-optical data (mass spectra,
 * NMR, chromatograms) are refused as unsupported.  The whole file is loaded
 * (capped at CSI_MAX_FILE_BYTES); every size is checked against it.
 *
 * Also here: the "ole2" row, which only names OLE2 compound documents
 * (Shimadzu UVProbe writes its .spc as one) in a refusal.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TSPREC 0x01
#define TCGRAM 0x02
#define TMULTI 0x04
#define TXYXYS 0x40
#define TXVALS 0x80


typedef struct spc {
  const unsigned char *b;
  size_t n;
  int be; /* 0x4C: big-endian */
} spc;

static uint16_t u16(const spc *s, size_t off) {
  const unsigned char *p = s->b + off;
  return s->be ? (uint16_t)(p[0] << 8 | p[1]) : csi_le_u16(p);
}
static uint32_t u32(const spc *s, size_t off) {
  const unsigned char *p = s->b + off;
  return s->be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                     (uint32_t)p[2] << 8 | p[3]
               : csi_le_u32(p);
}
static double f32(const spc *s, size_t off) {
  uint32_t v = u32(s, off);
  float f;
  memcpy(&f, &v, 4);
  return f;
}
static double f64(const spc *s, size_t off) {
  uint64_t v;
  if (s->be) {
    v = 0;
    for (int i = 0; i < 8; i++)
      v = v << 8 | s->b[off + i];
  } else
    v = csi_le_u64(s->b + off);
  double d;
  memcpy(&d, &v, 8);
  return d;
}

/* Galactic x-type code -> a unit spelling for the shared unit map
 * (csi_axis_from_unit) and a name for spc.x_type; NULL unit: no axis. */
static const char *xtype_unit(int code, const char **name) {
  switch (code) {
  case 1: *name = "wavenumber_cm-1"; return "1/cm";
  case 2: *name = "micrometers"; return "um";
  case 3: *name = "nanometers"; return "nm";
  case 13: *name = "raman_shift_cm-1"; return "Raman shift";
  case 14: *name = "eV"; return "eV";
  case 16: *name = "diode_number"; return "pixel";
  case 17: *name = "channel"; return "pixel";
  case 22: *name = "data_points"; return "pixel";
  case 0: *name = "arbitrary"; return NULL;
  default: *name = NULL; return NULL;
  }
}

static cs_quantity quantity_from_ytype(int code, const char **name) {
  switch (code) {
  case 2: *name = "absorbance"; return CS_Q_ABSORBANCE;
  case 4: *name = "counts"; return CS_Q_COUNTS;
  case 11: *name = "percent"; return CS_Q_ARBITRARY;
  case 128: *name = "transmission"; return CS_Q_ARBITRARY;
  case 129: *name = "reflectance"; return CS_Q_REFLECTANCE;
  case 3: *name = "kubelka_munk"; return CS_Q_ARBITRARY;
  case 10: *name = "log(1/R)"; return CS_Q_ARBITRARY;
  case 12: *name = "intensity"; return CS_Q_ARBITRARY;
  case 0: *name = "arbitrary_intensity"; return CS_Q_ARBITRARY;
  default: *name = NULL; return CS_Q_ARBITRARY;
  }
}



/* First number in s, with the unit word right after it (or "") in unit. */
static int number_unit(const char *s, double *v, char *unit, size_t cap) {
  for (; *s; s++) {
    if ((*s >= '0' && *s <= '9') ||
        (*s == '-' && s[1] >= '0' && s[1] <= '9')) {
      char *end;
      *v = csi_strtod(s, &end);
      if (end == s || !isfinite(*v))
        return -1;
      while (*end == ' ')
        end++;
      size_t k = 0;
      while (k + 1 < cap && ((end[k] >= 'a' && end[k] <= 'z') ||
                             (end[k] >= 'A' && end[k] <= 'Z')))
        k++;
      memcpy(unit, end, k);
      unit[k] = '\0';
      return 0;
    }
  }
  return -1;
}

/* Log text "key=value" lines: keep each as spc.log.KEY and pick out the
 * laser, exposure and accumulations where Renishaw WiRE puts them
 * ("Laser=Laser: 785 nm edge", "Exposure_time=Time: 3000" in ms or
 * "Time: 10s", "Accumulations=Accumulations: 2"). */
static cs_status parse_log(const char *text, size_t len, cs_spectrum *t,
                           cs_error *err) {
  char *buf = csi_strndup(text, len);
  if (!buf)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = CS_OK;
  size_t kept = 0;
  for (char *line = buf, *next; line && !st; line = next) {
    next = strpbrk(line, "\r\n");
    if (next)
      *next++ = '\0';
    char *eq = strchr(line, '=');
    if (!eq)
      continue;
    *eq = '\0';
    char *k = csi_trim(line), *v = csi_trim(eq + 1);
    if (!*k || !*v || strlen(k) > 48 || kept >= 200)
      continue;
    int printable = 1;
    for (const char *q = k; *q; q++)
      if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f)
        printable = 0;
    if (!printable)
      continue;
    double num;
    char unit[8];
    if (!csi_strcasecmp(k, "Laser") &&
        !number_unit(v, &num, unit, sizeof unit) &&
        !csi_strcasecmp(unit, "nm") && num > 100 && num < 2000) {
      t->laser_nm = num;
      t->technique = CS_TECH_RAMAN;
    } else if (!csi_strcasecmp(k, "Exposure_time") &&
               !number_unit(v, &num, unit, sizeof unit) && num >= 0) {
      if (!*unit || !csi_strcasecmp(unit, "ms"))
        t->exposure_s = num / 1000;
      else if (!csi_strcasecmp(unit, "s"))
        t->exposure_s = num;
    } else if (!csi_strcasecmp(k, "Accumulations") &&
               !number_unit(v, &num, unit, sizeof unit) && num >= 1 &&
               num < 1e9 && num == floor(num)) {
      t->accumulations = (int)num;
    }
    char key[64];
    csi_snprintf(key, sizeof key, "spc.log.%s", k);
    char *val = csi_utf8_sanitize(v);
    st = val ? cs_spectrum_set_meta(t, key, val, err)
             : csi_error(err, CS_ERR_NOMEM, "out of memory");
    free(val);
    kept++;
  }
  free(buf);
  return st;
}

/* y value i of a subfile at off with exponent e (0x80 = float). */
static double y_at(const spc *s, size_t off, size_t i, int e, int prec16,
                   int old) {
  if (e == -128)
    return f32(s, off + 4 * i);
  if (prec16)
    return (int16_t)u16(s, off + 2 * i) * ldexp(1.0, e - 16);
  uint32_t v = u32(s, off + 4 * i);
  if (old) /* high word first */
    v = (uint32_t)u16(s, off + 4 * i) << 16 | u16(s, off + 4 * i + 2);
  return (int32_t)v * ldexp(1.0, e - 32);
}

/* Known x and y type codes: text never passes (its bytes are >= 0x20). */
static int known_types(int xt, int yt) {
  return (xt <= 30 || xt == 255) && (yt <= 26 || (yt >= 128 && yt <= 131));
}

static int sniff(const unsigned char *h, size_t n) {
  if (n < 256)
    return 0;
  if (!known_types(h[1] == 0x4D ? h[16] : n >= 512 ? h[28] : 0,
                   h[1] == 0x4D ? h[17] : n >= 512 ? h[29] : 0))
    return 0;
  spc s = {h, n, h[1] == 0x4C};
  if (h[1] == 0x4B || h[1] == 0x4C) {
    if (n < 512)
      return 0;
    int32_t npts = (int32_t)u32(&s, 4), nsub = (int32_t)u32(&s, 24);
    double a = f64(&s, 8), b = f64(&s, 16);
    if (!(h[0] & TXYXYS) && (npts <= 0 || (size_t)npts > CSI_MAX_POINTS))
      return 0;
    if (npts < 0 || nsub < 0 || !isfinite(a) || !isfinite(b))
      return 0;
    return 60;
  }
  if (h[1] == 0x4D) {
    double np = f32(&s, 4), a = f32(&s, 8), b = f32(&s, 12);
    if (!(np >= 1 && np <= (double)CSI_MAX_POINTS && np == floor(np)) ||
        !isfinite(a) || !isfinite(b))
      return 0;
    return 50;
  }
  return 0;
}

/* Per-spectrum work shared by both formats. */
typedef struct hdr {
  int flags, old, exp;
  size_t npts, nsub;
  double first, last;
  int xtype, ytype, ztype;
  size_t data; /* first subheader */
} hdr;

static cs_status make_template(const spc *s, const hdr *h, cs_spectrum *t,
                               csi_axis_unit *u, cs_error *err) {
  const char *xname, *yname;
  const char *unit = xtype_unit(h->xtype, &xname);
  t->quantity = quantity_from_ytype(h->ytype, &yname);
  int exper = h->old ? 0 : s->b[2];
  /* fexper 11 = Raman; 4 = FT-IR/FT-NIR/FT-Raman, 5 = NIR. */
  if (exper == 11 || h->xtype == 13)
    t->technique = CS_TECH_RAMAN;
  else if ((exper == 4 || exper == 5) && h->xtype == 1)
    t->technique = CS_TECH_FTIR;
  /* cm^-1 is a Raman shift in a Raman file, else absolute */
  *u = csi_axis_from_unit(unit, t->technique);
  t->axis = u->axis;
  cs_status st = CS_OK;
  char code[16];
  csi_snprintf(code, sizeof code, "%d", h->xtype);
  st = cs_spectrum_set_meta(t, "spc.x_type", xname ? xname : code, err);
  csi_snprintf(code, sizeof code, "%d", h->ytype);
  if (!st)
    st = cs_spectrum_set_meta(t, "spc.y_type", yname ? yname : code, err);
  if (!st)
    st = cs_spectrum_set_meta(t, "spc.version",
                              h->old ? "old (0x4D)"
                              : s->be ? "new big-endian (0x4C)"
                                      : "new (0x4B)",
                              err);
  if (!st && !h->old) {
    csi_snprintf(code, sizeof code, "%d", exper);
    st = cs_spectrum_set_meta(t, "spc.experiment", code, err);
  }
  char *cm = csi_field_text(s->b + (h->old ? 64 : 88), 130);
  if (!st && cm)
    st = cs_spectrum_set_meta(t, CS_META_TITLE, cm, err);
  free(cm);
  if (!st && !h->old) {
    char *src = csi_field_text(s->b + 45, 9);
    if (src)
      st = cs_spectrum_set_meta(t, CS_META_INSTRUMENT, src, err);
    free(src);
    /* fdate: minute 6 bits, hour 5, day 5, month 4, year 12 */
    uint32_t d = u32(s, 32);
    unsigned y = d >> 20, mo = (d >> 16) & 15, dy = (d >> 11) & 31,
             hr = (d >> 6) & 31, mi = d & 63;
    if (!st && y >= 1900 && mo >= 1 && mo <= 12 && dy >= 1 && hr < 24 &&
        mi < 60) {
      char date[32];
      csi_snprintf(date, sizeof date, "%04u-%02u-%02uT%02u:%02u", y, mo, dy,
                   hr, mi);
      st = cs_spectrum_set_meta(t, CS_META_ACQUIRED, date, err);
    }
    size_t logoff = u32(s, 248);
    if (!st && logoff >= 512 && logoff <= s->n - 64) {
      size_t logsz = u32(s, logoff), txto = u32(s, logoff + 8);
      if (logsz > s->n - logoff)
        logsz = s->n - logoff; /* writers round the size up */
      if (txto >= 64 && txto < logsz) {
        const char *txt = (const char *)s->b + logoff + txto;
        size_t len = logsz - txto;
        const char *nul = memchr(txt, '\0', len);
        if (nul)
          len = (size_t)(nul - txt);
        st = parse_log(txt, len, t, err);
      }
    }
  }
  return st;
}

static cs_status spc_parse(const spc *s, cs_dataset *ds, cs_error *err) {
  const unsigned char *b = s->b;
  hdr h = {0};
  h.flags = b[0];
  h.old = b[1] == 0x4D;
  if (b[1] != 0x4B && b[1] != 0x4C && b[1] != 0x4D)
    return csi_error(err, CS_ERR_MALFORMED, "not an SPC file (version 0x%02X)",
                     b[1]);
  if (h.old) {
    if (s->n < 256)
      return csi_error(err, CS_ERR_MALFORMED,
                       "file ends inside the 256-byte SPC header");
    double np = f32(s, 4);
    if (!(np >= 1 && np <= (double)CSI_MAX_POINTS && np == floor(np)))
      return csi_error(err, CS_ERR_MALFORMED, "bad point count in SPC header");
    h.npts = (size_t)np;
    h.first = f32(s, 8);
    h.last = f32(s, 12);
    h.xtype = b[16];
    h.ytype = b[17];
    h.exp = (int16_t)u16(s, 2);
    h.nsub = 0; /* unknown: read subfiles until the data ends */
    h.data = 224;
    if (h.flags & (TXVALS | TXYXYS))
      return csi_error(err, CS_ERR_UNSUPPORTED,
                       "old-format SPC with explicit x values");
  } else {
    if (s->n < 512)
      return csi_error(err, CS_ERR_MALFORMED,
                       "file ends inside the 512-byte SPC header");
    int32_t np = (int32_t)u32(s, 4), ns = (int32_t)u32(s, 24);
    h.exp = (int8_t)b[3];
    h.first = f64(s, 8);
    h.last = f64(s, 16);
    h.xtype = b[28];
    h.ytype = b[29];
    h.ztype = b[30];
    if (np < 0 || ns < 0)
      return csi_error(err, CS_ERR_MALFORMED, "negative count in SPC header");
    h.nsub = (h.flags & TMULTI) ? (size_t)ns : 1;
    if (h.nsub == 0)
      h.nsub = 1;
    if (h.nsub > CSI_MAX_SPECTRA)
      return csi_error(err, CS_ERR_UNSUPPORTED, "%zu subfiles", h.nsub);
    /* With TXYXYS, fnpts is the offset of the subfile directory. */
    h.npts = (h.flags & TXYXYS) ? 0 : (size_t)np;
    if (!(h.flags & TXYXYS) && (h.npts == 0 || h.npts > CSI_MAX_POINTS))
      return csi_error(err, CS_ERR_MALFORMED,
                       "bad point count %zu in SPC header", h.npts);
    h.data = 512;
  }
  if (h.ytype == 1 || h.xtype == 255 || (h.flags & TCGRAM && h.ytype == 1))
    return csi_error(err, CS_ERR_UNSUPPORTED,
                     "SPC interferogram: calcspec reads spectra, not "
                     "interferograms");
  /* x types that are no optical spectrum: times, m/z, ppm, Hz... */
  static const int non_optical[] = {4, 5, 6, 7, 8, 9, 10, 11, 12, 23, 24,
                                    25, 26, 30};
  for (size_t i = 0; i < sizeof non_optical / sizeof *non_optical; i++)
    if (h.xtype == non_optical[i])
      return csi_error(err, CS_ERR_UNSUPPORTED,
                       "SPC x axis type %d is not an optical spectrum "
                       "(time, frequency, m/z or ppm)",
                       h.xtype);

  cs_spectrum *t = csi_spectrum_alloc(0);
  if (!t)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  csi_axis_unit u;
  cs_status st = make_template(s, &h, t, &u, err);

  /* Common x: explicit array or even spacing. */
  double *xc = NULL;
  size_t pos = h.data;
  if (!st && !(h.flags & TXYXYS)) {
    xc = malloc(h.npts * sizeof *xc);
    if (!xc)
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    else if (h.flags & TXVALS) {
      if (h.npts > (s->n - pos) / 4)
        st = csi_error(err, CS_ERR_MALFORMED,
                       "file ends inside the SPC x array (%zu points)",
                       h.npts);
      for (size_t i = 0; !st && i < h.npts; i++)
        xc[i] = f32(s, pos + 4 * i);
      pos += 4 * h.npts;
    } else {
      if (!isfinite(h.first) || !isfinite(h.last))
        st = csi_error(err, CS_ERR_MALFORMED, "non-finite SPC x range");
      for (size_t i = 0; !st && i < h.npts; i++)
        xc[i] = csi_even_x(h.first, h.last, i, h.npts);
    }
    if (!st)
      st = csi_axis_unit_apply(&u, xc, h.npts, "eV", err);
  }
  if (!st && !h.old && !(h.flags & TXYXYS))
    st = csi_meta_num(t, "spc.points", (double)h.npts, err);

  for (size_t k = 0;
       !st && (h.old ? pos < s->n && (k == 0 || h.flags & TMULTI)
                     : k < h.nsub);
       k++) {
    if (h.old && k >= CSI_MAX_SPECTRA) {
      st = csi_error(err, CS_ERR_UNSUPPORTED, "too many subfiles");
      break;
    }
    if (s->n - pos < 32) {
      if (h.old && k > 0 && s->n - pos < 32)
        break; /* trailing padding after the last old-format subfile */
      st = csi_error(err, CS_ERR_MALFORMED,
                     "file ends inside subfile %zu's header", k);
      break;
    }
    size_t sh = pos;
    pos = h.old && k == 0 ? 256 : pos + 32;
    int e = (int8_t)b[sh + 1];
    /* A single-file spectrum's scaling is the header's fexp; multifiles
     * carry one per subfile. */
    if (!h.old && !(h.flags & TMULTI))
      e = h.exp;
    size_t np = h.npts;
    const double *x = xc;
    double *xo = NULL;
    if (h.flags & TXYXYS) {
      np = u32(s, sh + 16);
      if (np == 0 || np > CSI_MAX_POINTS) {
        st = csi_error(err, CS_ERR_MALFORMED,
                       "subfile %zu: bad point count %zu", k, np);
        break;
      }
      if (np > (s->n - pos) / 4) {
        st = csi_error(err, CS_ERR_MALFORMED,
                       "file ends inside subfile %zu's x array", k);
        break;
      }
      xo = malloc(np * sizeof *xo);
      if (!xo) {
        st = csi_error(err, CS_ERR_NOMEM, "out of memory");
        break;
      }
      for (size_t i = 0; i < np; i++)
        xo[i] = f32(s, pos + 4 * i);
      pos += 4 * np;
      x = xo;
      if ((st = csi_axis_unit_apply(&u, xo, np, "eV", err))) {
        free(xo);
        break;
      }
    }
    size_t bpp = (e != -128 && (h.flags & TSPREC)) ? 2 : 4;
    if (np > (s->n - pos) / bpp) {
      free(xo);
      st = csi_error(err, CS_ERR_MALFORMED,
                     "file ends inside subfile %zu's y data (%zu points)", k,
                     np);
      break;
    }
    cs_spectrum *sp = csi_spectrum_alloc(np);
    if (!sp) {
      free(xo);
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
      break;
    }
    memcpy(sp->x, x, np * sizeof *x);
    free(xo);
    for (size_t i = 0; i < np; i++)
      sp->y[i] = y_at(s, pos, i, e, bpp == 2, h.old);
    pos += bpp * np;
    st = csi_spectrum_copy_meta(sp, t, err);
    sp->axis = t->axis;
    sp->quantity = t->quantity;
    sp->technique = t->technique;
    sp->laser_nm = t->laser_nm;
    sp->exposure_s = t->exposure_s;
    sp->accumulations = t->accumulations;
    if (!st && (h.flags & TMULTI || h.old)) {
      double z = f32(s, sh + 4);
      if (isfinite(z))
        st = csi_meta_num(sp, "spc.z", z, err);
      if (!st)
        st = csi_meta_num(sp, "spc.subfile", (double)k, err);
    }
    if (st) {
      cs_spectrum_free(sp);
      break;
    }
    st = cs_dataset_push(ds, sp, err);
  }
  free(xc);
  cs_spectrum_free(t);
  return st;
}

static cs_status spc_bytes(const unsigned char *b, size_t n, cs_dataset *ds,
                           cs_error *err) {
  if (n < 2)
    return csi_error(err, CS_ERR_MALFORMED, "too short for an SPC file");
  spc s = {b, n, b[1] == 0x4C};
  return spc_parse(&s, ds, err);
}

static cs_status spc_read(const char *path, cs_dataset **out, cs_error *err) {
  return csi_read_bytes(path, spc_bytes, out, err);
}

const csi_reader csi_reader_spc = {
    "spc", "spc",
    "Thermo Galactic SPC (GRAMS): new 0x4B/0x4C and old 0x4D format",
    sniff, spc_read, NULL};

/* ---- OLE2 compound documents: named, not read ---- */

static int ole2_sniff(const unsigned char *h, size_t n) {
  static const unsigned char magic[8] = {0xD0, 0xCF, 0x11, 0xE0,
                                         0xA1, 0xB1, 0x1A, 0xE1};
  return n >= 8 && memcmp(h, magic, 8) == 0 ? 40 : 0;
}

const csi_reader csi_reader_ole2 = {
    "ole2", "",
    "an OLE2 compound document (e.g. Shimadzu UVProbe .spc, not Galactic "
    "SPC; export it as text)",
    ole2_sniff, NULL, NULL};
