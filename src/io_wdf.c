/* io_wdf.c: Renishaw WiRE .wdf files (single spectra, series, maps).
 *
 * A .wdf is a chain of blocks, each starting with a 16-byte header: a
 * 4-character id, a u32 uid and a u64 size that includes the header
 * (../shared/formats/FORMATS.md §11).  Used here:
 *  - WDF1 (first, 512 bytes): npoints u32 @60, nspectra u64 @64,
 *    ncollected u64 @72, accumulations u32 @80, ylistcount u32 @84,
 *    scan type u32 @128, measurement type u32 @132 (1 single, 2 series,
 *    3 map), laser wavenumber f32 @156, title[160] @240;
 *  - DATA: nspectra x npoints f32, back to back;
 *  - XLST / YLST: list type u32, unit u32, then f32 values;
 *  - ORGN: u32 count, then per origin type u32 (bit 31: primary), unit u32,
 *    label[16] and one 8-byte value per collected spectrum (f64; Time is a
 *    Windows FILETIME in 100 ns ticks since 1601);
 *  - WMAP: flags, unused, start x/y/z f32, step x/y/z f32, counts x/y/z u32.
 *  - WXDM: a property set ("PSET", u32 size, then items: type char, flag
 *    byte, u16 key, value; 'k' items name a key, 'p' items nest a set).
 *    Only the int32 "Exposure Time" (ms) is taken from it.  Items flagged
 *    0x40 are zlib-compressed: u32 length, then that many bytes (u32
 *    uncompressed size and a zlib stream).  In the files seen (sp.wdf,
 *    depth.wdf) such an item is the measurement's VBScript, and "Exposure
 *    Time" follows it, so compressed items are skipped by their length,
 *    not inflated.
 *
 * Spectra are read from the DATA block one at a time (a large map never sits
 * in memory as raw bytes); every size and offset is checked against the
 * file size first.  Files whose spectra are images (YLST of several rows)
 * are refused.
 *
 * Also here: the "renishaw_wxd" row, which only names WiRE 2 .wxd files
 * (their streams are compressed) in a refusal.
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define HDR 16
#define WDF1_BYTES 512
/* ORGN with more origins than this is not a WiRE file seen anywhere. */
#define MAX_ORIGINS 64

typedef struct blk {
  uint64_t off, size; /* size includes the header */
  int found;
} blk;

/* List type and unit codes (WiRE's WdfDataType / WdfDataUnits). */
enum { LT_SPATIAL_X = 3, LT_SPATIAL_Y = 4, LT_SPATIAL_Z = 5, LT_TIME = 11 };

/* WiRE unit code -> a unit spelling for the shared unit map
 * (csi_axis_from_unit) and a name for wdf.x_unit; NULL: no axis. */
static const char *wire_unit(uint32_t unit, const char **name) {
  switch (unit) {
  case 1: *name = "raman_shift_cm-1"; return "Raman shift";
  case 2: *name = "wavenumber_cm-1"; return "absolute wavenumber";
  case 3: *name = "nm"; return "nm";
  case 4: *name = "eV"; return "eV";
  case 5: *name = "um"; return "um";
  case 16: *name = "pixels"; return "pixel";
  case 0: *name = "arbitrary"; return NULL;
  default: *name = NULL; return NULL;
  }
}

/* Factor from a WiRE length unit to micrometres; 0 when not a length. */
static double to_um(uint32_t unit) {
  switch (unit) {
  case 5: return 1;      /* micron */
  case 8: return 1e3;    /* millimetre */
  case 9: return 1e6;    /* metre */
  case 3: return 1e-3;   /* nanometre */
  default: return 0;
  }
}

static cs_status read_at(FILE *f, uint64_t off, void *buf, size_t n,
                         const char *what, cs_error *err) {
  if (fseeko(f, (off_t)off, SEEK_SET) != 0)
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



/* FILETIME (100 ns ticks since 1601-01-01 UTC) -> ISO 8601 UTC; 0 ok. */
static int filetime_iso(uint64_t ft, char *out, size_t cap) {
  const uint64_t epoch = 116444736000000000ull; /* 1970 in FILETIME */
  if (ft < epoch || ft > epoch + 4102444800ull * 10000000ull) /* < 2100 */
    return -1;
  int64_t secs = (int64_t)((ft - epoch) / 10000000ull);
  int64_t days = secs / 86400, rem = secs % 86400;
  /* civil-from-days (Howard Hinnant's algorithm) */
  int64_t z = days + 719468, era = z / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2)
    y++;
  csi_snprintf(out, cap, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
               (long long)y, (long long)m, (long long)d,
               (long long)(rem / 3600), (long long)(rem / 60 % 60),
               (long long)(rem % 60));
  return 0;
}

typedef struct origin {
  uint32_t type, unit;
  char label[17];
  uint64_t data; /* file offset of the first value */
} origin;

static int sniff(const unsigned char *h, size_t n) {
  if (n < 16 || memcmp(h, "WDF1", 4) != 0)
    return 0;
  return csi_le_u64(h + 8) == WDF1_BYTES ? 90 : 60;
}

/* ---- WXDM property set: the exposure time ---- */

#define MAX_PSET ((uint64_t)64 << 20)

static size_t pset_fixed(unsigned char t) {
  switch (t) {
  case '?': case 'c': return 1;
  case 's': return 2;
  case 'i': case 'r': return 4;
  case 'w': case 'q': case 't': return 8;
  default: return 0;
  }
}

/* Walk items in p[0..n).  want_name: find the key named `name` (into *key);
 * else find the first int32 value of *key (into *val).  1 found, 0 not,
 * -1 on anything not understood (the walk stops). */
static int pset_walk(const unsigned char *p, size_t n, int depth,
                     const char *name, int want_name, unsigned *key,
                     int32_t *val) {
  size_t i = 0;
  if (depth > 16)
    return -1;
  while (n - i >= 4) {
    unsigned char t = p[i], fl = p[i + 1];
    unsigned k = csi_le_u16(p + i + 2);
    i += 4;
    size_t fx = pset_fixed(t);
    if (fl == 0x40) { /* compressed: skip by its length */
      if (n - i < 4)
        return -1;
      size_t len = csi_le_u32(p + i);
      i += 4;
      if (len > n - i)
        return -1;
      i += len;
      continue;
    }
    if (fl != 0 && fl != 0x80)
      return -1; /* unknown */
    if (fl == 0x80) { /* array: u32 count, then values */
      if (!fx || n - i < 4)
        return -1;
      uint64_t cnt = csi_le_u32(p + i);
      i += 4;
      if (cnt > (n - i) / fx)
        return -1;
      i += (size_t)cnt * fx;
      continue;
    }
    if (fx) {
      if (n - i < fx)
        return -1;
      if (!want_name && t == 'i' && k == *key) {
        *val = (int32_t)csi_le_u32(p + i);
        return 1;
      }
      i += fx;
    } else if (t == 'u' || t == 'k' || t == 'b' || t == 'p') {
      if (n - i < 4)
        return -1;
      size_t len = csi_le_u32(p + i);
      i += 4;
      if (len > n - i)
        return -1;
      if (want_name && t == 'k' && len == strlen(name) &&
          !memcmp(p + i, name, len)) {
        *key = k;
        return 1;
      }
      if (t == 'p') {
        int r = pset_walk(p + i, len, depth + 1, name, want_name, key, val);
        if (r)
          return r;
      }
      i += len;
    } else
      return -1;
  }
  return 0;
}

typedef struct wdf {
  FILE *f;
  uint64_t fsize;
  unsigned char h[WDF1_BYTES];
  size_t npts, nspec;
  blk data, xlst, ylst, orgn, wmap, wxdm;
} wdf;

static cs_status find_blocks(wdf *w, cs_error *err) {
  uint64_t off = 0;
  for (size_t k = 0; off < w->fsize; k++) {
    unsigned char bh[HDR];
    if (w->fsize - off < HDR)
      break; /* trailing bytes shorter than a header: ignored */
    cs_status st = read_at(w->f, off, bh, HDR, "a block header", err);
    if (st)
      return st;
    uint64_t size = csi_le_u64(bh + 8);
    if (size < HDR || size > w->fsize - off)
      return csi_error(err, CS_ERR_MALFORMED,
                       "block %zu ('%.4s' at byte %llu) claims %llu bytes, "
                       "beyond the end of the file",
                       k, (const char *)bh, (unsigned long long)off,
                       (unsigned long long)size);
    blk *b = NULL;
    if (!memcmp(bh, "DATA", 4))
      b = &w->data;
    else if (!memcmp(bh, "XLST", 4))
      b = &w->xlst;
    else if (!memcmp(bh, "YLST", 4))
      b = &w->ylst;
    else if (!memcmp(bh, "ORGN", 4))
      b = &w->orgn;
    else if (!memcmp(bh, "WMAP", 4))
      b = &w->wmap;
    else if (!memcmp(bh, "WXDM", 4))
      b = &w->wxdm;
    if (b && !b->found)
      *b = (blk){off, size, 1};
    off += size;
  }
  return CS_OK;
}

static cs_status read_xlist(wdf *w, double *x, cs_spectrum *t, cs_error *err) {
  if (!w->xlst.found)
    return csi_error(err, CS_ERR_MALFORMED, "WDF file has no XLST block");
  if (w->xlst.size < HDR + 8 ||
      (w->xlst.size - HDR - 8) / 4 < (uint64_t)w->npts)
    return csi_error(err, CS_ERR_MALFORMED,
                     "XLST block holds fewer than the %zu x values", w->npts);
  unsigned char tu[8];
  cs_status st = read_at(w->f, w->xlst.off + HDR, tu, 8, "the XLST block", err);
  unsigned char *raw = st ? NULL : malloc(4 * w->npts);
  if (!st && !raw)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st)
    st = read_at(w->f, w->xlst.off + HDR + 8, raw, 4 * w->npts,
                 "the XLST values", err);
  for (size_t i = 0; !st && i < w->npts; i++)
    x[i] = csi_le_f32(raw + 4 * i);
  free(raw);
  if (st)
    return st;
  const char *uname;
  uint32_t unit = csi_le_u32(tu + 4);
  const char *spelling = wire_unit(unit, &uname);
  csi_axis_unit u = csi_axis_from_unit(spelling, t->technique);
  if ((st = csi_axis_unit_apply(&u, x, w->npts, spelling, err)))
    return st;
  t->axis = u.axis;
  char code[16];
  csi_snprintf(code, sizeof code, "%u", (unsigned)unit);
  return cs_spectrum_set_meta(t, "wdf.x_unit", uname ? uname : code, err);
}

/* Origins (ORGN): map positions, depth, time. */
static cs_status read_origins(wdf *w, origin *o, size_t *no, cs_error *err) {
  *no = 0;
  if (!w->orgn.found || w->orgn.size < HDR + 4)
    return CS_OK;
  unsigned char c[4];
  cs_status st = read_at(w->f, w->orgn.off + HDR, c, 4, "the ORGN block", err);
  if (st)
    return st;
  uint32_t n = csi_le_u32(c);
  if (n > MAX_ORIGINS)
    return csi_error(err, CS_ERR_MALFORMED, "ORGN block claims %u origins",
                     (unsigned)n);
  uint64_t per = 24 + 8 * (uint64_t)w->nspec, off = w->orgn.off + HDR + 4;
  if (n && (w->orgn.size - HDR - 4) / n < per)
    return csi_error(err, CS_ERR_MALFORMED,
                     "ORGN block is too small for %u origins of %zu spectra",
                     (unsigned)n, w->nspec);
  for (uint32_t k = 0; k < n; k++, off += per) {
    unsigned char oh[24];
    if ((st = read_at(w->f, off, oh, 24, "an ORGN origin", err)))
      return st;
    o[k].type = csi_le_u32(oh) & 0x7fffffffu;
    o[k].unit = csi_le_u32(oh + 4);
    memcpy(o[k].label, oh + 8, 16);
    o[k].label[16] = '\0';
    for (char *p = o[k].label; *p; p++)
      if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
        *p = '_';
    o[k].data = off + 24;
  }
  *no = n;
  return CS_OK;
}

static cs_status header_meta(wdf *w, cs_spectrum *t, cs_error *err) {
  const unsigned char *h = w->h;
  double lwn = csi_le_f32(h + 156);
  if (isfinite(lwn) && lwn > 1000 && lwn < 1e5) { /* 100 nm .. 10 um */
    t->laser_nm = 1e7 / lwn;
    t->technique = CS_TECH_RAMAN;
  }
  uint32_t acc = csi_le_u32(h + 80);
  if (acc >= 1 && acc < 1000000)
    t->accumulations = (int)acc;
  t->quantity = CS_Q_COUNTS; /* WiRE stores detector counts */
  uint32_t mtype = csi_le_u32(h + 132), scan = csi_le_u32(h + 128);
  static const char *const mnames[] = {"unspecified", "single", "series",
                                       "map"};
  cs_status st = cs_spectrum_set_meta(
      t, "wdf.measurement", mtype < 4 ? mnames[mtype] : "other", err);
  char buf[32];
  csi_snprintf(buf, sizeof buf, "%u", (unsigned)scan);
  if (!st)
    st = cs_spectrum_set_meta(t, "wdf.scan_type", buf, err);
  if (!st && isfinite(lwn) && lwn > 0)
    st = csi_meta_num(t, "wdf.laser_wavenumber", lwn, err);
  char *title = csi_field_text(h + 240, 160);
  if (!st && title)
    st = cs_spectrum_set_meta(t, CS_META_TITLE, title, err);
  free(title);
  char *user = csi_field_text(h + 208, 32);
  if (!st && user)
    st = cs_spectrum_set_meta(t, "wdf.user", user, err);
  free(user);
  char *app = csi_field_text(h + 96, 24);
  if (!st && app)
    st = cs_spectrum_set_meta(t, "wdf.application", app, err);
  free(app);
  return st;
}

static cs_status map_meta(wdf *w, cs_spectrum *t, cs_error *err) {
  if (!w->wmap.found || w->wmap.size < HDR + 48)
    return CS_OK;
  unsigned char m[48];
  cs_status st = read_at(w->f, w->wmap.off + HDR, m, 48, "the WMAP block", err);
  if (st)
    return st;
  char buf[160];
  csi_snprintf(buf, sizeof buf, "%u %u %u", (unsigned)csi_le_u32(m + 32),
               (unsigned)csi_le_u32(m + 36), (unsigned)csi_le_u32(m + 40));
  st = cs_spectrum_set_meta(t, "wdf.map_size", buf, err);
  double v[6];
  for (int i = 0; i < 6; i++)
    v[i] = csi_le_f32(m + 8 + 4 * i);
  if (!st && isfinite(v[0]) && isfinite(v[1]) && isfinite(v[3]) &&
      isfinite(v[4])) {
    csi_snprintf(buf, sizeof buf, "%.9g %.9g", v[0], v[1]);
    st = cs_spectrum_set_meta(t, "wdf.map_start_um", buf, err);
    csi_snprintf(buf, sizeof buf, "%.9g %.9g", v[3], v[4]);
    if (!st)
      st = cs_spectrum_set_meta(t, "wdf.map_step_um", buf, err);
  }
  return st;
}

/* Exposure from the WXDM property set, when it is there and readable. */
static cs_status wxdm_exposure(wdf *w, cs_spectrum *t, cs_error *err) {
  if (!w->wxdm.found || w->wxdm.size < HDR + 8 ||
      w->wxdm.size - HDR > MAX_PSET)
    return CS_OK;
  size_t n = (size_t)(w->wxdm.size - HDR);
  unsigned char *b = malloc(n);
  if (!b)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = read_at(w->f, w->wxdm.off + HDR, b, n, "the WXDM block", err);
  if (!st && !memcmp(b, "PSET", 4)) {
    size_t len = csi_le_u32(b + 4);
    if (len > n - 8)
      len = n - 8;
    unsigned key = 0;
    int32_t ms = 0;
    if (pset_walk(b + 8, len, 0, "Exposure Time", 1, &key, &ms) == 1 &&
        pset_walk(b + 8, len, 0, NULL, 0, &key, &ms) == 1 && ms >= 0)
      t->exposure_s = ms / 1000.0;
  }
  free(b);
  return st;
}

/* Per-spectrum origins: position_um "x y", wdf.z_um, acquired, and the time
 * since the first spectrum. */
static cs_status origin_meta(wdf *w, const origin *o, size_t no, size_t i,
                             uint64_t t0, cs_spectrum *s, cs_error *err) {
  double x = NAN, y = NAN;
  cs_status st = CS_OK;
  for (size_t k = 0; k < no && !st; k++) {
    unsigned char v[8];
    if ((st = read_at(w->f, o[k].data + 8 * (uint64_t)i, v, 8,
                      "an ORGN value", err)))
      break;
    if (o[k].type == LT_TIME) {
      uint64_t ft = csi_le_u64(v);
      char iso[40];
      if (filetime_iso(ft, iso, sizeof iso) == 0)
        st = cs_spectrum_set_meta(s, CS_META_ACQUIRED, iso, err);
      if (!st && ft >= t0 && t0)
        st = csi_meta_num(s, "wdf.time_s", (double)(ft - t0) / 1e7, err);
      continue;
    }
    double d = csi_le_f64(v), f = to_um(o[k].unit);
    if (!isfinite(d))
      continue;
    if (o[k].type == LT_SPATIAL_X && f > 0)
      x = d * f;
    else if (o[k].type == LT_SPATIAL_Y && f > 0)
      y = d * f;
    else if (o[k].type == LT_SPATIAL_Z && f > 0)
      st = csi_meta_num(s, "wdf.z_um", d * f, err);
    else if (o[k].type != 16 && o[k].type != 17 && o[k].label[0]) {
      /* other origins (checksum 16 and flags 17 skipped) by their label */
      char key[40];
      csi_snprintf(key, sizeof key, "wdf.origin.%s", o[k].label);
      st = csi_meta_num(s, key, d, err);
    }
  }
  if (!st && isfinite(x) && isfinite(y)) {
    char buf[64];
    csi_snprintf(buf, sizeof buf, "%.9g %.9g", x, y);
    st = cs_spectrum_set_meta(s, CS_META_POSITION, buf, err);
  } else if (!st && isfinite(x)) {
    st = csi_meta_num(s, "wdf.x_um", x, err);
  } else if (!st && isfinite(y)) {
    st = csi_meta_num(s, "wdf.y_um", y, err);
  }
  return st;
}

/* A WDF file being read: the header's metadata (a template spectrum), the
 * x axis and the origins, then spectrum after spectrum from DATA. */
typedef struct wdf_state {
  wdf w;
  cs_spectrum *t;      /* template: metadata every spectrum gets */
  double *x;
  unsigned char *raw;  /* one spectrum's float32 values */
  origin o[MAX_ORIGINS];
  size_t no;
  uint64_t t0;
  size_t next;         /* spectra read */
} wdf_state;

static void wdf_state_free(wdf_state *z) {
  if (z->w.f)
    fclose(z->w.f);
  cs_spectrum_free(z->t);
  free(z->x);
  free(z->raw);
  free(z);
}

/* Everything before the spectra: headers, sizes, axis, origins. */
static cs_status wdf_prepare(wdf_state *z, cs_error *err) {
  wdf *w = &z->w;
  cs_status st = read_at(w->f, 0, w->h, WDF1_BYTES, "the WDF1 header", err);
  if (st)
    return st;
  if (memcmp(w->h, "WDF1", 4) != 0)
    return csi_error(err, CS_ERR_MALFORMED, "no WDF1 header");
  uint32_t npts = csi_le_u32(w->h + 60);
  uint64_t nspec = csi_le_u64(w->h + 64), ncol = csi_le_u64(w->h + 72);
  uint32_t ylc = csi_le_u32(w->h + 84);
  if (npts == 0 || npts > CSI_MAX_POINTS)
    return csi_error(err, CS_ERR_MALFORMED, "bad point count %u",
                     (unsigned)npts);
  /* An interrupted map has collected fewer spectra than planned. */
  if (ncol < nspec)
    nspec = ncol;
  if (nspec == 0)
    return csi_error(err, CS_ERR_MALFORMED, "WDF file holds no collected "
                                            "spectrum");
  if (nspec > CSI_MAX_SPECTRA)
    return csi_error(err, CS_ERR_UNSUPPORTED, "%llu spectra",
                     (unsigned long long)nspec);
  w->npts = npts;
  w->nspec = (size_t)nspec;
  if ((st = find_blocks(w, err)))
    return st;
  if (!w->data.found)
    return csi_error(err, CS_ERR_MALFORMED, "WDF file has no DATA block");
  uint64_t need = (uint64_t)w->npts * w->nspec * 4;
  if (ylc > 1 && (w->data.size - HDR) / ylc >= need)
    return csi_error(err, CS_ERR_UNSUPPORTED,
                     "WDF image data (%u rows per spectrum) is not supported",
                     (unsigned)ylc);
  if (w->data.size - HDR < need)
    return csi_error(err, CS_ERR_MALFORMED,
                     "DATA block holds %llu bytes, %zu spectra of %zu points "
                     "need %llu",
                     (unsigned long long)(w->data.size - HDR), w->nspec,
                     w->npts, (unsigned long long)need);

  cs_spectrum *t = z->t = csi_spectrum_alloc(0);
  double *x = z->x = malloc(w->npts * sizeof *x);
  z->raw = malloc(4 * w->npts);
  origin *o = z->o;
  size_t no = 0;
  if (!t || !x || !z->raw)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st)
    st = header_meta(w, t, err);
  if (!st)
    st = read_xlist(w, x, t, err);
  if (!st)
    st = map_meta(w, t, err);
  if (!st)
    st = wxdm_exposure(w, t, err);
  if (!st)
    st = read_origins(w, o, &no, err);
  uint64_t t0 = 0;
  for (size_t k = 0; !st && k < no; k++)
    if (o[k].type == LT_TIME) {
      unsigned char v[8];
      if (!(st = read_at(w->f, o[k].data, v, 8, "an ORGN value", err)))
        t0 = csi_le_u64(v);
    }
  z->no = no;
  z->t0 = t0;
  return st;
}

/* Spectrum i of DATA (read by its offset) with its metadata. */
static cs_status wdf_spectrum(wdf_state *z, size_t i, cs_spectrum **out,
                              cs_error *err) {
  wdf *w = &z->w;
  const cs_spectrum *t = z->t;
  unsigned char *raw = z->raw;
  *out = NULL;
  char what[48];
  csi_snprintf(what, sizeof what, "spectrum %zu", i);
  cs_status st = read_at(w->f, w->data.off + HDR + (uint64_t)i * 4 * w->npts,
                         raw, 4 * w->npts, what, err);
  cs_spectrum *s = st ? NULL : csi_spectrum_alloc(w->npts);
  if (!st && !s)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (st)
    return st;
  memcpy(s->x, z->x, w->npts * sizeof *s->x);
  for (size_t j = 0; j < w->npts; j++)
    s->y[j] = csi_le_f32(raw + 4 * j);
  s->axis = t->axis;
  s->quantity = t->quantity;
  s->technique = t->technique;
  s->laser_nm = t->laser_nm;
  s->accumulations = t->accumulations;
  s->exposure_s = t->exposure_s;
  st = csi_spectrum_copy_meta(s, t, err);
  if (!st)
    st = origin_meta(w, z->o, z->no, i, z->t0, s, err);
  if (st) {
    cs_spectrum_free(s);
    return st;
  }
  *out = s;
  return CS_OK;
}

/* Open path and read its headers into a new state. */
static cs_status wdf_begin(const char *path, wdf_state **out, cs_error *err) {
  *out = NULL;
  wdf_state *z = calloc(1, sizeof *z);
  if (!z)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  wdf *w = &z->w;
  w->f = fopen(path, "rb");
  if (!w->f) {
    free(z);
    return csi_error(err, CS_ERR_IO, "cannot open: %s", strerror(errno));
  }
  cs_status st = CS_OK;
  off_t end = -1;
  if (fseeko(w->f, 0, SEEK_END) != 0 || (end = ftello(w->f)) < 0)
    st = csi_error(err, CS_ERR_IO, "cannot determine the file size: %s",
                   strerror(errno));
  else if (end < WDF1_BYTES)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "%lld bytes is too short for the 512-byte WDF1 header",
                   (long long)end);
  w->fsize = (uint64_t)end;
  if (!st)
    st = wdf_prepare(z, err);
  if (st) {
    wdf_state_free(z);
    return st;
  }
  *out = z;
  return CS_OK;
}

static cs_status wdf_read(const char *path, cs_dataset **out, cs_error *err) {
  *out = NULL;
  wdf_state *z;
  cs_status st = wdf_begin(path, &z, err);
  if (st)
    return st;
  cs_dataset *ds = csi_dataset_alloc();
  if (!ds)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t i = 0; !st && i < z->w.nspec; i++) {
    cs_spectrum *s;
    if (!(st = wdf_spectrum(z, i, &s, err)))
      st = cs_dataset_push(ds, s, err);
  }
  wdf_state_free(z);
  if (st) {
    cs_dataset_free(ds);
    return st;
  }
  *out = ds;
  return CS_OK;
}

/* Streaming: one spectrum read from DATA per call; a map of any size holds
 * one spectrum. */
static cs_status stream_open(const char *path, void **state, cs_error *err) {
  wdf_state *z;
  cs_status st = wdf_begin(path, &z, err);
  *state = st ? NULL : z;
  return st;
}

static cs_status stream_next(void *state, cs_spectrum **out, cs_error *err) {
  wdf_state *z = state;
  *out = NULL;
  if (z->next == z->w.nspec)
    return CS_OK;
  cs_status st = wdf_spectrum(z, z->next, out, err);
  if (!st)
    z->next++;
  return st;
}

static void stream_close(void *state) {
  if (state)
    wdf_state_free(state);
}

static size_t stream_held(const void *state) {
  (void)state;
  return 0;
}

static size_t stream_count(const void *state) {
  return ((const wdf_state *)state)->w.nspec;
}

const csi_stream csi_stream_wdf = {stream_open, stream_next, stream_close,
                                   stream_held, stream_count};

const csi_reader csi_reader_wdf = {
    "wdf", "wdf",
    "Renishaw WiRE .wdf: single spectra, series (depth, time) and maps",
    sniff, wdf_read, NULL};

/* ---- WiRE 2 .wxd: named, not read ---- */

static int wxd_sniff(const unsigned char *h, size_t n) {
  return n >= 8 && memcmp(h, "#WXD000", 7) == 0 ? 80 : 0;
}

const csi_reader csi_reader_renishaw_wxd = {
    "renishaw_wxd", "",
    "Renishaw WiRE .wxd (its data streams are compressed; export the "
    "spectrum from WiRE as .wdf, .spc or text)",
    wxd_sniff, NULL, NULL};
