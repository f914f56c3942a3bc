/* io_opus.c: Bruker OPUS binary files (FTIR and FT-Raman).
 *
 * Layout (../shared/formats/FORMATS.md §10): magic 0A 0A FE FE, f64 version
 * @4, directory offset i32 @12, maximum entries @16, entry count @20.  A
 * directory entry is 12 bytes: block type u32, length in 4-byte words,
 * offset.  In the type, byte 0 holds the complex kind (bits 0-1), the
 * channel (bits 2-3: 1 sample, 2 reference, 3 ratio/other) and bit 4 for
 * "the data-status parameters of the data block with the same type without
 * that bit"; byte 1 is the data kind (0x04 single channel, 0x08
 * interferogram, 0x0C phase, 0x10 absorbance, 0x14 transmittance,
 * 0x18 Kubelka-Munk, 0x28 Raman, 0x2C emission, 0x30 reflectance).
 * Parameter blocks are records: 3-letter name + NUL, type i16 (0 int32,
 * 1 f64, 2-4 string), size i16 in 16-bit words, value; "END" closes them.
 * Byte 0 0x20 = instrument (LWN, RLW, INS), 0x30 acquisition (NSS, PLF),
 * 0xA0 sample (SNM).  Data status parameters give NPT, FXV, LXV, CSF, DXU.
 *
 * Every data block except interferograms and phase spectra becomes one
 * spectrum, named in metadata (opus.block = AB, ScSm, ScRf, RAM, ...).  A
 * file with interferograms or phases only is refused.  The whole file is
 * loaded (capped at CSI_MAX_FILE_BYTES) and every offset is checked.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 4096


typedef struct opus {
  const unsigned char *b;
  size_t n;
} opus;

typedef struct entry {
  uint32_t type;
  size_t off, len; /* bytes */
} entry;

/* One parameter's value: number or string (borrowed from the file). */
typedef struct param {
  int found, is_str;
  double num;
  const char *str;
  size_t slen;
} param;

/* Find parameter `name` in the parameter block e. */
static param find_param(const opus *o, const entry *e, const char *name) {
  param r = {0};
  size_t p = e->off, end = e->off + e->len;
  while (p + 8 <= end) {
    const unsigned char *q = o->b + p;
    if (!memcmp(q, "END", 3))
      break;
    int type = (int16_t)csi_le_u16(q + 4);
    size_t sz = 2 * (size_t)csi_le_u16(q + 6);
    if (sz > end - p - 8)
      break;
    if (!memcmp(q, name, 3) && q[3] == '\0') {
      r.found = 1;
      if (type == 0 && sz >= 4)
        r.num = (int32_t)csi_le_u32(q + 8);
      else if (type == 1 && sz >= 8)
        r.num = csi_le_f64(q + 8);
      else if (type >= 2 && type <= 4) {
        r.is_str = 1;
        r.str = (const char *)q + 8;
        r.slen = strnlen(r.str, sz);
      } else
        r.found = 0;
      return r;
    }
    p += 8 + sz;
  }
  return r;
}

static int param_num(const opus *o, const entry *e, const char *name,
                     double *v) {
  param p = find_param(o, e, name);
  if (!p.found || p.is_str || !isfinite(p.num))
    return -1;
  *v = p.num;
  return 0;
}

/* String parameter as sanitised UTF-8 (malloc'd), NULL when absent/empty. */
static char *param_str(const opus *o, const entry *e, const char *name) {
  if (!e)
    return NULL;
  param p = find_param(o, e, name);
  if (!p.found || !p.is_str)
    return NULL;
  return csi_field_text((const unsigned char *)p.str, p.slen);
}

/* OPUS x unit (DXU) -> a unit spelling for the shared unit map
 * (csi_axis_from_unit); NULL: no axis (e.g. LGW, MIN). */
static const char *dxu_unit(const char *u) {
  if (!u)
    return NULL;
  if (!strcmp(u, "WN"))
    return "1/cm"; /* shift or absolute by technique */
  if (!strcmp(u, "MI"))
    return "um";
  if (!strcmp(u, "NM"))
    return "nm";
  if (!strcmp(u, "PNT"))
    return "pixel";
  return NULL;
}

static const char *kind_name(unsigned kind, unsigned chan) {
  switch (kind) {
  case 0x04: return chan == 2 ? "ScRf" : chan == 1 ? "ScSm" : "Sc";
  case 0x08: return chan == 2 ? "IgRf" : "IgSm";
  case 0x0C: return chan == 2 ? "PhRf" : "PhSm";
  case 0x10: return "AB";
  case 0x14: return "TR";
  case 0x18: return "KM";
  case 0x28: return "RAM";
  case 0x2C: return "EMI";
  case 0x30: return "REFL";
  default: return NULL;
  }
}

static int sniff(const unsigned char *h, size_t n) {
  static const unsigned char magic[4] = {0x0A, 0x0A, 0xFE, 0xFE};
  return n >= 24 && !memcmp(h, magic, 4) ? 90 : 0;
}

/* The first entry whose type matches (byte 0 and byte 1). */
static const entry *find_type(const entry *e, size_t ne, uint32_t type) {
  for (size_t i = 0; i < ne; i++)
    if ((e[i].type & 0xffff) == type)
      return &e[i];
  return NULL;
}

static cs_status set_str(cs_spectrum *s, const char *key, char *v,
                         cs_error *err) {
  cs_status st = v ? cs_spectrum_set_meta(s, key, v, err) : CS_OK;
  free(v);
  return st;
}


static cs_status one_block(const opus *o, const entry *ents, size_t ne,
                           const entry *d, const entry *ps, cs_dataset *ds,
                           cs_error *err) {
  unsigned kind = (d->type >> 8) & 0xff, chan = (d->type >> 2) & 3;
  const char *name = kind_name(kind, chan);
  double npt, fxv, lxv, csf = 1;
  if (param_num(o, ps, "NPT", &npt) || param_num(o, ps, "FXV", &fxv) ||
      param_num(o, ps, "LXV", &lxv))
    return csi_error(err, CS_ERR_MALFORMED,
                     "%s block lacks NPT, FXV or LXV", name ? name : "data");
  if (!(npt >= 1 && npt <= (double)CSI_MAX_POINTS && npt == floor(npt)))
    return csi_error(err, CS_ERR_MALFORMED, "bad NPT %g", npt);
  size_t n = (size_t)npt;
  if (n > d->len / 4)
    return csi_error(err, CS_ERR_MALFORMED,
                     "%s block holds %zu values, NPT says %zu",
                     name ? name : "data", d->len / 4, n);
  if (param_num(o, ps, "CSF", &csf) || csf == 0)
    csf = 1; /* absent or 0: unscaled */
  char *dxu = param_str(o, ps, "DXU");
  /* Raman: a RAM block, or an acquisition with PLF=RAM. */
  const entry *acq = find_type(ents, ne, 0x30);
  char *plf = param_str(o, acq, "PLF");
  int raman = kind == 0x28 || (plf && !strcmp(plf, "RAM"));
  const char *spelling = dxu_unit(dxu);
  csi_axis_unit u =
      csi_axis_from_unit(spelling, raman ? CS_TECH_RAMAN : CS_TECH_FTIR);
  cs_spectrum *s = csi_spectrum_alloc(n);
  if (!s) {
    free(dxu);
    free(plf);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    s->x[i] = csi_even_x(fxv, lxv, i, n);
    s->y[i] = csi_le_f32(o->b + d->off + 4 * i) * csf;
  }
  cs_status st = csi_axis_unit_apply(&u, s->x, n, spelling, err);
  if (st) {
    cs_spectrum_free(s);
    free(dxu);
    free(plf);
    return st;
  }
  s->axis = u.axis;
  s->technique = raman ? CS_TECH_RAMAN : CS_TECH_FTIR;
  s->quantity = kind == 0x10 ? CS_Q_ABSORBANCE
                : kind == 0x30 ? CS_Q_REFLECTANCE
                               : CS_Q_ARBITRARY;
  if (kind == 0x14) { /* OPUS transmittance is a fraction */
    s->quantity = CS_Q_TRANSMITTANCE_PCT;
    for (size_t i = 0; i < n; i++)
      s->y[i] *= 100;
  }
  char code[16];
  csi_snprintf(code, sizeof code, "0x%04x", (unsigned)(d->type & 0xffff));
  st = cs_spectrum_set_meta(s, "opus.block", name ? name : code, err);
  if (!st && name)
    st = cs_spectrum_set_meta(
        s, "opus.spectrum_type",
        kind == 0x04   ? (chan == 2   ? "single_channel_reference"
                          : chan == 1 ? "single_channel_sample"
                                      : "single_channel")
        : kind == 0x10 ? "absorbance"
        : kind == 0x14 ? "transmittance"
        : kind == 0x28 ? "raman"
                       : name,
        err);
  if (!st && dxu)
    st = cs_spectrum_set_meta(s, "opus.x_unit", dxu, err);
  free(dxu);
  free(plf);
  const entry *ins = find_type(ents, ne, 0x20), *smp = find_type(ents, ne, 0xa0);
  double v;
  if (!st && ins && param_num(o, ins, "RLW", &v) == 0 && v > 1000 && v < 1e5) {
    s->laser_nm = 1e7 / v; /* Raman laser wavenumber */
    st = csi_meta_num(s, "opus.rlw", v, err);
  }
  if (!st && ins && param_num(o, ins, "LWN", &v) == 0)
    st = csi_meta_num(s, "opus.lwn", v, err); /* HeNe reference laser */
  /* scans: NSR for a reference channel, NSS for the sample */
  if (!st && acq &&
      (chan == 2 ? param_num(o, acq, "NSR", &v) : param_num(o, acq, "NSS", &v)) == 0 &&
      v >= 1 && v < 1e9)
    s->accumulations = (int)v;
  if (!st)
    st = set_str(s, CS_META_INSTRUMENT, param_str(o, ins, "INS"), err);
  if (!st)
    st = set_str(s, CS_META_TITLE, param_str(o, smp, "SNM"), err);
  if (!st)
    st = set_str(s, "opus.sample_form", param_str(o, smp, "SFM"), err);
  if (!st) {
    char *dat = param_str(o, ps, "DAT"), *tim = param_str(o, ps, "TIM");
    char *both = dat ? csi_strfmt("%s%s%s", dat, tim ? " " : "",
                                  tim ? tim : "")
                     : NULL;
    st = set_str(s, CS_META_ACQUIRED, both, err);
    free(dat);
    free(tim);
  }
  if (st) {
    cs_spectrum_free(s);
    return st;
  }
  return cs_dataset_push(ds, s, err);
}

static cs_status opus_parse(const opus *o, cs_dataset *ds, cs_error *err) {
  if (o->n < 24 || !sniff(o->b, o->n))
    return csi_error(err, CS_ERR_MALFORMED, "not an OPUS file");
  int32_t dir = (int32_t)csi_le_u32(o->b + 12);
  int32_t cnt = (int32_t)csi_le_u32(o->b + 20);
  if (dir < 24 || cnt < 1 || cnt > MAX_ENTRIES ||
      (size_t)dir > o->n || (size_t)cnt > (o->n - (size_t)dir) / 12)
    return csi_error(err, CS_ERR_MALFORMED,
                     "OPUS directory (%d entries at byte %d) is outside the "
                     "file",
                     (int)cnt, (int)dir);
  entry *e = malloc((size_t)cnt * sizeof *e);
  if (!e)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  size_t ne = 0;
  for (int32_t i = 0; i < cnt; i++) {
    const unsigned char *q = o->b + dir + 12 * i;
    uint32_t type = csi_le_u32(q), len = csi_le_u32(q + 4),
             off = csi_le_u32(q + 8);
    if (type == 0 && len == 0 && off == 0)
      continue; /* unused slot */
    if (off > o->n || len > (o->n - off) / 4) {
      free(e);
      return csi_error(err, CS_ERR_MALFORMED,
                       "OPUS block %d (type 0x%08x) lies outside the file",
                       (int)i, (unsigned)type);
    }
    e[ne++] = (entry){type, off, 4 * (size_t)len};
  }
  cs_status st = CS_OK;
  size_t skipped = 0;
  for (size_t i = 0; !st && i < ne; i++) {
    unsigned b0 = e[i].type & 0xff, kind = (e[i].type >> 8) & 0xff;
    /* data blocks: a data kind, no parameter bit, no text flag in byte 2 */
    if (kind == 0 || (b0 & 3) == 0 || (b0 & 0xf0) || (e[i].type >> 16) != 0)
      continue;
    if (kind == 0x08 || kind == 0x0C) {
      skipped++; /* interferogram, phase */
      continue;
    }
    const entry *ps = find_type(e, ne, (e[i].type & 0xffff) | 0x10);
    if (!ps) {
      st = csi_error(err, CS_ERR_MALFORMED,
                     "data block 0x%04x has no parameter block",
                     (unsigned)(e[i].type & 0xffff));
      break;
    }
    st = one_block(o, e, ne, &e[i], ps, ds, err);
  }
  free(e);
  if (!st && ds->n == 0 && skipped)
    st = csi_error(err, CS_ERR_UNSUPPORTED,
                   "OPUS file holds only interferograms or phase spectra; "
                   "calcspec reads computed spectra");
  return st;
}

static cs_status opus_bytes(const unsigned char *b, size_t n, cs_dataset *ds,
                            cs_error *err) {
  opus o = {b, n};
  return opus_parse(&o, ds, err);
}

static cs_status opus_read(const char *path, cs_dataset **out, cs_error *err) {
  return csi_read_bytes(path, opus_bytes, out, err);
}

const csi_reader csi_reader_opus = {
    "opus", "0",
    "Bruker OPUS: absorbance, transmittance, single-channel and Raman blocks",
    sniff, opus_read, NULL};
