/* io_omnic.c: Thermo OMNIC .spa (one spectrum) and .spg (a group).
 *
 * Layout (../shared/formats/FORMATS.md §9): "Spectral Data File" at 0, the
 * title as a C string at 30, the number of spectra u16 @292, the number of
 * directory entries u16 @294, the acquisition time u32 @296 (seconds since
 * 1899-12-31), then a directory of 16-byte entries from 304: key u8 @+0,
 * offset u32 @+2, size u32 @+6.  Key 2 is a spectrum header (npts u32 @+4,
 * x unit @+8, y unit @+12, first x f32 @+16, last x f32 @+20; x evenly
 * spaced), key 3 the f32 y values of the header before it, key 27 the
 * history text.  An .spg repeats header/data pairs; both read the same way.
 *
 * Interferograms (x in data points, y in volts) are refused: calcspec reads
 * computed spectra, and the transform is OMNIC's job.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "Spectral Data File"
#define DIR_OFF 304
#define MAX_HISTORY 8192


typedef struct omnic {
  const unsigned char *b;
  size_t n;
} omnic;

static int sniff(const unsigned char *h, size_t n) {
  return n >= 18 && !memcmp(h, MAGIC, 18) ? 90 : 0;
}

/* OMNIC x unit code -> a unit spelling for the shared unit map
 * (csi_axis_from_unit) and a name for omnic.x_unit; NULL: no axis. */
static const char *x_unit(uint32_t code, const char **name) {
  switch (code) {
  case 1: *name = "cm-1"; return "absolute wavenumber";
  case 2: *name = "data_points"; return "pixel";
  case 3: *name = "nm"; return "nm";
  case 4: *name = "um"; return "um";
  case 32: *name = "raman_shift_cm-1"; return "Raman shift";
  default: *name = NULL; return NULL;
  }
}

static cs_quantity y_quantity(uint32_t code, const char **name) {
  switch (code) {
  case 17: *name = "absorbance"; return CS_Q_ABSORBANCE;
  case 16: *name = "transmittance_pct"; return CS_Q_TRANSMITTANCE_PCT;
  case 15: *name = "single_beam"; return CS_Q_ARBITRARY;
  case 11: *name = "reflectance_pct"; return CS_Q_ARBITRARY;
  case 12: *name = "log(1/R)"; return CS_Q_ARBITRARY;
  case 22: *name = "volts"; return CS_Q_ARBITRARY;
  case 31: *name = "kubelka_munk"; return CS_Q_ARBITRARY;
  default: *name = NULL; return CS_Q_ARBITRARY;
  }
}


static cs_status set_owned(cs_spectrum *s, const char *key, char *v,
                           cs_error *err) {
  cs_status st = v ? cs_spectrum_set_meta(s, key, v, err) : CS_OK;
  free(v);
  return st;
}

static cs_status omnic_parse(const omnic *o, cs_dataset *ds, cs_error *err) {
  if (o->n < DIR_OFF || memcmp(o->b, MAGIC, 18) != 0)
    return csi_error(err, CS_ERR_MALFORMED,
                     "too short for an OMNIC header (%zu bytes)", o->n);
  size_t nent = csi_le_u16(o->b + 294);
  if (nent > (o->n - DIR_OFF) / 16)
    return csi_error(err, CS_ERR_MALFORMED,
                     "OMNIC directory of %zu entries runs past the end of "
                     "the file",
                     nent);
  char acquired[32] = "";
  uint32_t t = csi_le_u32(o->b + 296);
  if (t) {
    /* 1899-12-31 is 25568 days before 1970-01-01 */
    int64_t secs = (int64_t)t - 25568LL * 86400;
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
      y++;
    csi_snprintf(acquired, sizeof acquired,
                 "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", (long long)y,
                 (long long)m, (long long)d, (long long)(rem / 3600),
                 (long long)(rem / 60 % 60), (long long)(rem % 60));
  }
  char *title = csi_field_text(o->b + 30, 256);
  const unsigned char *hdr = NULL; /* pending key-2 header */
  char *history = NULL;
  int interferogram = 0;
  cs_status st = CS_OK;
  for (size_t i = 0; !st && i < nent; i++) {
    const unsigned char *e = o->b + DIR_OFF + 16 * i;
    unsigned key = e[0];
    size_t off = csi_le_u32(e + 2), size = csi_le_u32(e + 6);
    if (off > o->n || size > o->n - off) {
      st = csi_error(err, CS_ERR_MALFORMED,
                     "OMNIC block %zu (key %u) lies outside the file", i, key);
      break;
    }
    if (key == 2) {
      if (size < 24) {
        st = csi_error(err, CS_ERR_MALFORMED,
                       "OMNIC spectrum header %zu is %zu bytes", i, size);
        break;
      }
      hdr = o->b + off;
    } else if (key == 27 && !history) {
      history = csi_field_text(o->b + off, size < MAX_HISTORY ? size : MAX_HISTORY);
    } else if (key == 3) {
      if (!hdr) {
        st = csi_error(err, CS_ERR_MALFORMED,
                       "OMNIC data block %zu has no spectrum header", i);
        break;
      }
      size_t n = csi_le_u32(hdr + 4);
      uint32_t xu = csi_le_u32(hdr + 8), yu = csi_le_u32(hdr + 12);
      double fx = csi_le_f32(hdr + 16), lx = csi_le_f32(hdr + 20);
      const char *xn, *yn;
      const char *spelling = x_unit(xu, &xn);
      csi_axis_unit u = csi_axis_from_unit(spelling, CS_TECH_UNKNOWN);
      cs_axis axis = u.axis;
      cs_quantity q = y_quantity(yu, &yn);
      hdr = NULL;
      if (xu == 2 || yu == 22) {
        interferogram = 1;
        continue;
      }
      if (n == 0 || n > CSI_MAX_POINTS || n > size / 4) {
        st = csi_error(err, CS_ERR_MALFORMED,
                       "OMNIC spectrum of %zu points in a %zu-byte block", n,
                       size);
        break;
      }
      if (!isfinite(fx) || !isfinite(lx)) {
        st = csi_error(err, CS_ERR_MALFORMED, "non-finite OMNIC x range");
        break;
      }
      cs_spectrum *s = csi_spectrum_alloc(n);
      if (!s) {
        st = csi_error(err, CS_ERR_NOMEM, "out of memory");
        break;
      }
      for (size_t j = 0; j < n; j++) {
        s->x[j] = csi_even_x(fx, lx, j, n);
        s->y[j] = csi_le_f32(o->b + off + 4 * j);
      }
      if ((st = csi_axis_unit_apply(&u, s->x, n, spelling, err))) {
        cs_spectrum_free(s);
        break;
      }
      s->axis = axis;
      s->quantity = q;
      s->technique = axis == CS_AXIS_RAMAN_SHIFT ? CS_TECH_RAMAN
                     : axis == CS_AXIS_WAVENUMBER ? CS_TECH_FTIR
                                                  : CS_TECH_UNKNOWN;
      char code[16];
      csi_snprintf(code, sizeof code, "%u", (unsigned)yu);
      st = cs_spectrum_set_meta(s, "omnic.y_unit", yn ? yn : code, err);
      csi_snprintf(code, sizeof code, "%u", (unsigned)xu);
      if (!st)
        st = cs_spectrum_set_meta(s, "omnic.x_unit", xn ? xn : code, err);
      if (!st && title)
        st = cs_spectrum_set_meta(s, CS_META_TITLE, title, err);
      if (!st && acquired[0])
        st = cs_spectrum_set_meta(s, CS_META_ACQUIRED, acquired, err);
      if (!st && history)
        st = set_owned(s, "omnic.history", csi_strdup(history), err);
      if (st) {
        cs_spectrum_free(s);
        break;
      }
      st = cs_dataset_push(ds, s, err);
      free(history);
      history = NULL;
    }
  }
  free(title);
  free(history);
  if (!st && ds->n == 0)
    st = interferogram
             ? csi_error(err, CS_ERR_UNSUPPORTED,
                         "OMNIC interferogram: calcspec reads spectra, not "
                         "interferograms (compute the spectrum in OMNIC)")
             : csi_error(err, CS_ERR_MALFORMED,
                         "OMNIC file has no spectrum data block");
  return st;
}

static cs_status omnic_bytes(const unsigned char *b, size_t n, cs_dataset *ds,
                             cs_error *err) {
  omnic o = {b, n};
  return omnic_parse(&o, ds, err);
}

static cs_status omnic_read(const char *path, cs_dataset **out,
                            cs_error *err) {
  return csi_read_bytes(path, omnic_bytes, out, err);
}

const csi_reader csi_reader_omnic = {
    "omnic", "spa,spg",
    "Thermo OMNIC .spa spectra and .spg spectral groups", sniff, omnic_read,
    NULL};
