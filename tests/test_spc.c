/* test_spc.c: Galactic SPC reader.  Synthetic files written byte by byte
 * here (every variant, so a clone without ../shared tests the reader), then
 * the real files in ../shared/formats checked against their vendor text
 * exports or values decoded by hand from the header (FORMATS.md §8). */
#include "testutil.h"

#define EP(e) (e)

/* ---- a tiny byte writer ---- */
typedef struct bw {
  unsigned char b[65536];
  size_t n;
  int be;
} bw;
static void at_u8(bw *w, size_t off, unsigned v) {
  w->b[off] = (unsigned char)v;
  if (off + 1 > w->n)
    w->n = off + 1;
}
static void at_u16(bw *w, size_t off, unsigned v) {
  for (int i = 0; i < 2; i++)
    at_u8(w, off + (size_t)(w->be ? 1 - i : i), (v >> (8 * i)) & 255);
}
static void at_u32(bw *w, size_t off, uint32_t v) {
  for (int i = 0; i < 4; i++)
    at_u8(w, off + (size_t)(w->be ? 3 - i : i), (v >> (8 * i)) & 255);
}
static void at_f32(bw *w, size_t off, float f) {
  uint32_t v;
  memcpy(&v, &f, 4);
  at_u32(w, off, v);
}
static void at_f64(bw *w, size_t off, double d) {
  uint64_t v;
  memcpy(&v, &d, 8);
  for (int i = 0; i < 8; i++)
    at_u8(w, off + (size_t)(w->be ? 7 - i : i), (unsigned)(v >> (8 * i)) & 255);
}
static void at_str(bw *w, size_t off, const char *s) {
  for (size_t i = 0; s[i]; i++)
    at_u8(w, off + i, (unsigned char)s[i]);
}

/* New-format header: flags, exponent, npts, first, last, nsub, x/y type. */
static void new_hdr(bw *w, int be, unsigned flags, int exp, uint32_t npts,
                    double first, double last, uint32_t nsub, int xt, int yt) {
  memset(w, 0, sizeof *w);
  w->be = be;
  at_u8(w, 0, flags);
  at_u8(w, 1, be ? 0x4C : 0x4B);
  at_u8(w, 3, (unsigned)(exp & 255));
  at_u32(w, 4, npts);
  at_f64(w, 8, first);
  at_f64(w, 16, last);
  at_u32(w, 24, nsub);
  at_u8(w, 28, (unsigned)xt);
  at_u8(w, 29, (unsigned)yt);
  at_str(w, 88, "synthetic SPC");
  w->n = 512;
}

static cs_dataset *read_bytes(const bw *w, const char *name) {
  return test_read_ok(test_write_tmp(name, w->b, w->n), NULL);
}

static const char *meta(const cs_spectrum *s, const char *k) {
  const char *v = cs_spectrum_meta(s, k);
  return v ? v : "(null)";
}

/* Y-only, even x, IEEE float y, log block with Renishaw-style settings. */
static void synthetic_float_even_log(void **state) {
  (void)state;
  bw w;
  new_hdr(&w, 0, 0, -128, 4, 1000.0, 100.0, 1, 13, 4);
  at_u8(&w, 2, 11); /* Raman */
  float y[4] = {1.5f, 2.5f, -3.25f, 4e6f};
  for (int i = 0; i < 4; i++)
    at_f32(&w, 512 + 32 + 4 * i, y[i]);
  size_t log = 512 + 32 + 16;
  const char *txt = "Laser=Laser: 785 nm edge\r\nExposure_time=Time: 2500\r\n"
                    "Accumulations=Accumulations: 3\r\nOperator=Raman\r\n";
  at_u32(&w, log, (uint32_t)(64 + strlen(txt) + 1));
  at_u32(&w, log + 8, 64);
  at_str(&w, log + 64, txt);
  at_u8(&w, log + 64 + strlen(txt), 0);
  at_u32(&w, 248, (uint32_t)log);
  cs_dataset *ds = read_bytes(&w, "float.spc");
  assert_int_equal(cs_dataset_count(ds), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 4, 1000.0, 100.0, 1.5, 4e6);
  DBL_NEAR(cs_spectrum_x(s)[1], 700.0, 1e-12);
  DBL_NEAR(cs_spectrum_y(s)[2], -3.25, 0);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_COUNTS);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  DBL_NEAR(cs_spectrum_laser_nm(s), 785, 0);
  DBL_NEAR(cs_spectrum_exposure_s(s), 2.5, 1e-15);
  assert_int_equal(cs_spectrum_accumulations(s), 3);
  assert_string_equal(meta(s, "spc.log.Operator"), "Raman");
  assert_string_equal(meta(s, CS_META_TITLE), "synthetic SPC");
  /* The same bytes under a name without extension read identically. */
  cs_dataset *ds2 = read_bytes(&w, "noext");
  test_same_read(ds, ds2);
  cs_dataset_free(ds2);
  /* "Time: 10s" is in seconds */
  at_str(&w, log + 64, "Exposure_time=Time: 10s\r\n");
  at_u8(&w, log + 64 + 25, 0);
  ds2 = read_bytes(&w, "s.spc");
  DBL_NEAR(cs_spectrum_exposure_s(cs_dataset_get(ds2, 0)), 10, 0);
  cs_dataset_free(ds2);
  cs_dataset_free(ds);
}

/* Integer y scaled by 2^(exp-32) (i32) and 2^(exp-16) (i16, TSPREC), in
 * both byte orders, with an explicit x array (TXVALS). */
static void synthetic_integer_scaling(void **state) {
  (void)state;
  for (int be = 0; be < 2; be++)
    for (int prec16 = 0; prec16 < 2; prec16++) {
      bw w;
      new_hdr(&w, be, 0x80u | (prec16 ? 1u : 0u), 3, 3, 0, 0, 1, 1, 2);
      float x[3] = {400.0f, 410.5f, 430.25f};
      for (int i = 0; i < 3; i++)
        at_f32(&w, 512 + 4 * i, x[i]);
      size_t d = 512 + 12 + 32;
      int32_t raw[3] = {-1000, 20000, 32767};
      for (int i = 0; i < 3; i++) {
        if (prec16)
          at_u16(&w, d + 2 * i, (unsigned)(uint16_t)(int16_t)raw[i]);
        else
          at_u32(&w, d + 4 * i, (uint32_t)(raw[i] * 65536));
      }
      cs_dataset *ds = read_bytes(&w, "int.spc");
      const cs_spectrum *s = cs_dataset_get(ds, 0);
      /* i16: raw * 2^(3-16); i32 of raw*65536: the same values */
      test_expect_ends(s, 3, 400.0, 430.25, -1000 / 8192.0, 32767 / 8192.0);
      DBL_NEAR(cs_spectrum_y(s)[1], 20000 / 8192.0, 0);
      assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVENUMBER);
      assert_int_equal(cs_spectrum_quantity(s), CS_Q_ABSORBANCE);
      assert_string_equal(meta(s, "spc.version"),
                          be ? "new big-endian (0x4C)" : "new (0x4B)");
      cs_dataset_free(ds);
    }
}

/* Multifile with per-subfile x (TXYXYS | TMULTI | TXVALS), float y, and a
 * multifile with a common even x and per-subfile exponents and z. */
static void synthetic_multifile(void **state) {
  (void)state;
  bw w;
  new_hdr(&w, 0, 0x80u | 0x40u | 0x04u, -128, 0, 0, 0, 2, 3, 0);
  size_t p = 512;
  for (int k = 0; k < 2; k++) {
    uint32_t np = (uint32_t)(3 + k);
    at_u8(&w, p + 1, 0x80);
    at_u32(&w, p + 16, np);
    p += 32;
    for (uint32_t i = 0; i < np; i++)
      at_f32(&w, p + 4 * i, 500.0f + 10.0f * (float)i + (float)k);
    p += 4 * np;
    for (uint32_t i = 0; i < np; i++)
      at_f32(&w, p + 4 * i, (float)(100 * k + i));
    p += 4 * np;
  }
  cs_dataset *ds = read_bytes(&w, "xyxy.spc");
  assert_int_equal(cs_dataset_count(ds), 2);
  test_expect_ends(cs_dataset_get(ds, 0), 3, 500, 520, 0, 2);
  test_expect_ends(cs_dataset_get(ds, 1), 4, 501, 531, 100, 103);
  assert_int_equal(cs_spectrum_axis(cs_dataset_get(ds, 1)),
                   CS_AXIS_WAVELENGTH_NM);
  cs_dataset_free(ds);

  new_hdr(&w, 0, 0x04u, 0, 2, 100, 200, 3, 13, 4);
  p = 512;
  for (int k = 0; k < 3; k++) {
    at_u8(&w, p + 1, (unsigned)(32 + k)); /* 2^k scaling */
    at_f32(&w, p + 4, 0.5f * (float)k);   /* z, e.g. time */
    p += 32;
    at_u32(&w, p, 7);
    at_u32(&w, p + 4, (uint32_t)-5);
    p += 8;
  }
  ds = read_bytes(&w, "multi.spc");
  assert_int_equal(cs_dataset_count(ds), 3);
  for (size_t k = 0; k < 3; k++) {
    const cs_spectrum *s = cs_dataset_get(ds, k);
    test_expect_ends(s, 2, 100, 200, 7.0 * (1 << k), -5.0 * (1 << k));
    char z[16];
    snprintf(z, sizeof z, "%g", 0.5 * (double)k);
    assert_string_equal(meta(s, "spc.z"), z);
  }
  cs_dataset_free(ds);
}

/* Old format 0x4D: f32 header fields, first subheader inside the 256-byte
 * header, i32 y stored high word first. */
static void synthetic_old_format(void **state) {
  (void)state;
  bw w;
  memset(&w, 0, sizeof w);
  at_u8(&w, 0, 0x04);
  at_u8(&w, 1, 0x4D);
  at_f32(&w, 4, 3);
  at_f32(&w, 8, 200);
  at_f32(&w, 12, 300);
  at_u8(&w, 16, 3);
  at_u8(&w, 17, 2);
  size_t p = 224;
  int32_t v[3] = {0x00012345, -0x20000, 0x7fff0001};
  for (int k = 0; k < 2; k++) {
    at_u8(&w, p + 1, (unsigned)(16 + k));
    p = k == 0 ? 256 : p + 32;
    for (int i = 0; i < 3; i++) {
      uint32_t u = (uint32_t)v[i];
      at_u16(&w, p + 4 * (size_t)i, u >> 16);
      at_u16(&w, p + 4 * (size_t)i + 2, u & 0xffff);
    }
    p += 12;
  }
  cs_dataset *ds = read_bytes(&w, "old.spc");
  assert_int_equal(cs_dataset_count(ds), 2);
  for (int k = 0; k < 2; k++) {
    double sc = ldexp(1.0, 16 + k - 32);
    test_expect_ends(cs_dataset_get(ds, (size_t)k), 3, 200, 300, v[0] * sc,
                     v[2] * sc);
    DBL_NEAR(cs_spectrum_y(cs_dataset_get(ds, (size_t)k))[1], v[1] * sc, 0);
  }
  assert_string_equal(meta(cs_dataset_get(ds, 0), "spc.version"),
                      "old (0x4D)");
  cs_dataset_free(ds);
}

/* Interferograms, non-optical axes, OLE2 documents: named refusals. */
static void refusals(void **state) {
  (void)state;
  bw w;
  cs_dataset *ds = NULL;
  cs_error err;
  new_hdr(&w, 0, 0, -128, 2, 0, 1, 1, 1, 1);
  w.n = 512 + 32 + 8;
  STATUS_EQ(cs_dataset_read(test_write_tmp("ig", w.b, w.n), NULL, &ds, &err),
            CS_ERR_UNSUPPORTED, &err);
  assert_non_null(strstr(err.msg, "interferogram"));
  new_hdr(&w, 0, 0, -128, 2, 0, 1, 1, 9, 0); /* m/z */
  w.n = 512 + 32 + 8;
  STATUS_EQ(cs_dataset_read(test_write_tmp("ms", w.b, w.n), NULL, &ds, &err),
            CS_ERR_UNSUPPORTED, &err);
  assert_non_null(strstr(err.msg, "not an optical spectrum"));
  /* Text whose second byte is 'K' (0x4B) is not taken for SPC. */
  char txt[800] = "OK,value\n";
  while (strlen(txt) < 700)
    strcat(txt, "1000.5,20.25\n");
  const char *name = NULL;
  cs_status sst = cs_format_sniff(test_write_text("ok.txt", txt), &name, &err);
  assert_true(sst != CS_OK || strcmp(name, "spc") != 0);
  unsigned char ole[600] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1};
  STATUS_EQ(cs_dataset_read(test_write_tmp("x.spc", ole, sizeof ole), NULL,
                            &ds, &err),
            CS_ERR_UNSUPPORTED, &err);
  assert_non_null(strstr(err.msg, "OLE2 compound document"));
  assert_non_null(strstr(err.msg, "not supported"));
  assert_null(ds);
}

/* ---- real files ---- */

/* Two-column text export: count, first and last pairs (header lines that do
 * not start with a number are skipped). */
static size_t read_export(const char *path, double *x0, double *y0,
                          double *xn, double *yn) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[512];
  size_t n = 0;
  while (fgets(line, sizeof line, f)) {
    double a, b;
    if (sscanf(line, "%lf %lf", &a, &b) != 2)
      continue;
    if (n++ == 0) {
      *x0 = a;
      *y0 = b;
    }
    *xn = a;
    *yn = b;
  }
  fclose(f);
  return n;
}

static void check_against_export(const char *spc_rel, const char *txt_rel,
                                 double xtol, double ytol) {
  const char *p = shared_path(txt_rel);
  if (!p) {
    skip();
    return;
  }
  double x0, y0, xn, yn;
  size_t n = read_export(p, &x0, &y0, &xn, &yn);
  p = shared_path(spc_rel);
  if (!p) {
    skip();
    return;
  }
  cs_dataset *ds = test_read_ok(p, NULL);
  assert_int_equal(cs_dataset_count(ds), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_n(s), n);
  const double *x = cs_spectrum_x(s), *y = cs_spectrum_y(s);
  DBL_NEAR(x[0], x0, xtol);
  DBL_NEAR(x[n - 1], xn, xtol);
  DBL_NEAR(y[0], y0, ytol);
  DBL_NEAR(y[n - 1], yn, ytol);
  cs_dataset_free(ds);
}

static void craic_matches_export(void **state) {
  (void)state;
  check_against_export("formats/spc/CRAIC.spc", "formats/spc/CRAIC.txt",
                       0.005, 0.00005);
}

/* Renishaw WiRE SPC exports against the WiRE text exports of the same
 * measurement (the txt x list is the true, uneven one; the SPC stores the
 * ends and even spacing, so only the ends are compared), plus the laser and
 * exposure from the log block (file names: 785 nm 1 x 3 s, 532 nm 2 x
 * 10 s). */
static void renishaw_spc_matches_export(void **state) {
  (void)state;
  check_against_export("formats/renishaw_wdf/nCal_Qontor785_z005H12_100_1x3s.spc",
                       "formats/renishaw_wdf/nCal_Qontor785_z005H12_100_1x3s.txt",
                       5e-6, 5e-6);
  check_against_export("formats/renishaw_wxd/PST_Reflex532_Z050_010_10000msx2.spc",
                       "formats/renishaw_wxd/PST_Reflex532_Z050_010_10000msx2.txt",
                       0.006, 0.0006); /* txt has 2-3 decimals */
  SHARED_OR_SKIP(p, "formats/renishaw_wxd/PST_Reflex532_Z050_010_10000msx2.spc");
  cs_dataset *ds = test_read_ok(p, NULL);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  DBL_NEAR(cs_spectrum_laser_nm(s), 532, 0);
  DBL_NEAR(cs_spectrum_exposure_s(s), 10, 0);
  assert_int_equal(cs_spectrum_accumulations(s), 2);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  cs_dataset_free(ds);
  SHARED_OR_SKIP(q, "formats/renishaw_wdf/nCal_Qontor785_z005H12_100_1x3s.spc");
  ds = test_read_ok(q, NULL);
  s = cs_dataset_get(ds, 0);
  DBL_NEAR(cs_spectrum_laser_nm(s), 785, 0);
  DBL_NEAR(cs_spectrum_exposure_s(s), 3, 0);
  assert_int_equal(cs_spectrum_accumulations(s), 1);
  cs_dataset_free(ds);
}

/* Values decoded by hand from the headers and first/last data words
 * (FORMATS.md §8 layout; a Python struct probe). */
static void hand_decoded_files(void **state) {
  (void)state;
  struct {
    const char *rel;
    size_t n, count;
    double x0, xn, y0, yn;
    cs_axis axis;
  } c[] = {
      {"formats/spc/BENZENE.SPC", 1842, 1, 449.4299621582031, 4000.5,
       0.10155998170375824, 0.015135996043682098, CS_AXIS_WAVENUMBER},
      {"formats/spc/HOLMIUM.SPC", 901, 1, 250, 700, 1.166299819946289,
       0.06309986114501953, CS_AXIS_WAVELENGTH_NM},
      {"formats/spc/KKSAM.SPC", 751, 1, 3600, 600, 3.9099996089935303,
       4.339999198913574, CS_AXIS_WAVENUMBER},
      {"formats/spc/Witec_PST_alpha532.spc", 1600, 1, -37.8856086730957,
       3731.93212890625, 1011, 1095, CS_AXIS_RAMAN_SHIFT},
      {"formats/bwtek/PST10_iR532_Probe_100_3000msx7.spc", 3808, 1, 175, 3982,
       6891.93505859375, 689.0595092773438, CS_AXIS_RAMAN_SHIFT},
      {"formats/spc/Witec_timeseries3x.spc", 1024, 3, 28.67039680480957,
       3891.320068359375, 625, 620, CS_AXIS_RAMAN_SHIFT},
      {"formats/spc/DEMO_3D.SPC", 171, 32, 200, 800, 0, 0,
       CS_AXIS_WAVELENGTH_NM},
      {"formats/spc/OceanOptics.spc", 3648, 1, 176.36041259765625,
       893.6943359375, 0, 119.4251708984375, CS_AXIS_WAVELENGTH_NM},
      {"formats/spc/TOLUENE.SPC", 801, 1, 3700, 500, 0.003985985182225704,
       0.06845822930335999, CS_AXIS_WAVENUMBER},
      /* explicit x, integer y with exponent -1 */
      {"formats/spc/XYTRACE.SPC", 3469, 1, 317.2349853515625, 870.333984375,
       0, 0, CS_AXIS_WAVELENGTH_NM},
      /* sciformats' synthetic edge cases: byte order, i16/i32 y, explicit
       * x, XYXY with and without a subfile directory */
      {"formats/spc/synthetic_sciformats/new_format_be.spc", 3, 1, 4000, 400,
       10, 30, CS_AXIS_WAVENUMBER},
      {"formats/spc/synthetic_sciformats/new_format_le.spc", 3, 1, 4000, 400,
       10, 30, CS_AXIS_WAVENUMBER},
      {"formats/spc/synthetic_sciformats/new_format_le_4d.spc", 3, 1, 4000,
       400, 10, 30, CS_AXIS_WAVENUMBER},
      {"formats/spc/synthetic_sciformats/new_format_le_i16_y.spc", 3, 1, 4000,
       400, 22, 62, CS_AXIS_WAVENUMBER},
      {"formats/spc/synthetic_sciformats/new_format_le_i32_y.spc", 3, 1, 4000,
       400, 22, 62, CS_AXIS_WAVENUMBER},
      {"formats/spc/synthetic_sciformats/new_format_le_txvals.spc", 3, 1, 1, 3,
       10, 30, CS_AXIS_WAVENUMBER},
      {"formats/spc/synthetic_sciformats/new_format_le_txyxys.spc", 3, 1, 1, 3,
       10, 30, CS_AXIS_WAVENUMBER},
      {"formats/spc/synthetic_sciformats/new_format_le_dir.spc", 3, 1, 1, 3,
       10, 30, CS_AXIS_WAVENUMBER},
  };
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    const char *p = shared_path(c[i].rel);
    if (!p) {
      skip();
      return;
    }
    cs_dataset *ds = test_read_ok(p, NULL);
    assert_int_equal(cs_dataset_count(ds), c[i].count);
    /* the last subfile for multifiles */
    const cs_spectrum *s = cs_dataset_get(ds, c[i].count - 1);
    if (c[i].count == 32) { /* DEMO_3D: check the first subfile */
      s = cs_dataset_get(ds, 0);
      assert_int_equal(cs_spectrum_n(s), c[i].n);
      DBL_NEAR(cs_spectrum_x(s)[0], c[i].x0, 0);
    } else {
      const double *x = cs_spectrum_x(s), *y = cs_spectrum_y(s);
      size_t n = cs_spectrum_n(s);
      assert_int_equal(n, c[i].n);
      DBL_NEAR(x[0], c[i].x0, 1e-9);
      DBL_NEAR(x[n - 1], c[i].xn, 1e-9);
      DBL_NEAR(y[0], c[i].y0, 0);
      DBL_NEAR(y[n - 1], c[i].yn, 0);
    }
    assert_int_equal(cs_spectrum_axis(s), c[i].axis);
    cs_dataset_free(ds);
  }
  /* XYTRACE: word 1000 of the y data is 1683627, times 2^(-1-32) */
  SHARED_OR_SKIP(xy, "formats/spc/XYTRACE.SPC");
  cs_dataset *xds = test_read_ok(xy, NULL);
  DBL_NEAR(cs_spectrum_y(cs_dataset_get(xds, 0))[1000], 1683627 * 0x1p-33, 0);
  cs_dataset_free(xds);
  /* time series: z of the third subfile is 2 (decoded subtime) */
  SHARED_OR_SKIP(p, "formats/spc/Witec_timeseries3x.spc");
  cs_dataset *ds = test_read_ok(p, NULL);
  assert_string_equal(meta(cs_dataset_get(ds, 2), "spc.z"), "2");
  cs_dataset_free(ds);
}

static void real_refusals(void **state) {
  (void)state;
  struct {
    const char *rel, *want;
  } c[] = {{"formats/spc/IG_MULTI.SPC", "interferogram"},
           {"formats/spc/DRUG_SAMPLE.SPC", "not an optical spectrum"},
           {"formats/spc/Shimadzu_UV-2600_labeled_DNA.spc", "OLE2"}};
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    SHARED_OR_SKIP(p, c[i].rel);
    cs_dataset *ds = NULL;
    cs_error err;
    STATUS_EQ(cs_dataset_read(p, NULL, &ds, &err), CS_ERR_UNSUPPORTED, &err);
    assert_non_null(strstr(err.msg, c[i].want));
  }
  /* sciformats' broken files: a header without its subfile, 4 bytes */
  const char *bad[] = {"formats/spc/synthetic_sciformats/new_format_le_corrupt.spc",
                       "formats/spc/synthetic_sciformats/invalid.spc"};
  for (size_t i = 0; i < 2; i++) {
    SHARED_OR_SKIP(p, bad[i]);
    cs_dataset *ds = NULL;
    cs_error err;
    STATUS_EQ(cs_dataset_read(p, NULL, &ds, &err), CS_ERR_MALFORMED, &err);
  }
}

/* ---- robustness ---- */

static void fuzz_file(const unsigned char *orig, size_t n, const char *dir,
                      const char *label) {
  char cut[600];
  snprintf(cut, sizeof cut, "%s/cut.spc", dir);
  for (size_t k = 0; k < 24; k++) {
    size_t len = k < 12 ? k * n / 12 : n - 1 - (k - 12) * 7 % (n - 1);
    if (len >= n)
      continue;
    FILE *f = fopen(cut, "wb");
    fwrite(orig, 1, len, f);
    fclose(f);
    cs_dataset *ds = (cs_dataset *)1;
    cs_error err;
    cs_status st = cs_dataset_read(cut, "spc", &ds, &err);
    /* A cut inside a trailing log block still leaves every spectrum. */
    if (st == CS_OK)
      cs_dataset_free(ds);
    else if (st != CS_ERR_MALFORMED && st != CS_ERR_UNSUPPORTED)
      fail_msg("%s cut at %zu: %s (%s)", label, len, cs_strerror(st), err.msg);
  }
  test_read_flips(orig, n, cut, "spc", label, 777, 600, 0);
}

static void truncation_and_flips(void **state) {
  (void)state;
  const char *dir = test_tmpdir();
  bw w;
  new_hdr(&w, 0, 0x80u | 0x40u | 0x04u, -128, 0, 0, 0, 2, 13, 4);
  size_t p = 512;
  for (int k = 0; k < 2; k++) {
    at_u8(&w, p + 1, 0x80);
    at_u32(&w, p + 16, 5);
    p += 32;
    for (int i = 0; i < 5; i++)
      at_f32(&w, p + 4 * (size_t)i, 100.0f * (float)(i + 1));
    p += 20;
    for (int i = 0; i < 5; i++)
      at_f32(&w, p + 4 * (size_t)i, (float)i);
    p += 20;
  }
  fuzz_file(w.b, w.n, dir, "synthetic xyxy");
  const char *rel[] = {"formats/spc/DEMO_3D.SPC", "formats/spc/XYTRACE.SPC",
                       "formats/spc/Witec_timeseries3x.spc",
                       "formats/renishaw_wdf/nCal_Qontor785_z005H12_100_1x3s.spc",
                       "formats/spc/DRUG_SAMPLE.SPC"};
  for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
    const char *path = shared_path(rel[i]);
    if (!path)
      continue;
    size_t n;
    unsigned char *b = test_slurp(path, &n);
    fuzz_file(b, n, dir, rel[i]);
    free(b);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(synthetic_float_even_log),
      cmocka_unit_test(synthetic_integer_scaling),
      cmocka_unit_test(synthetic_multifile),
      cmocka_unit_test(synthetic_old_format),
      cmocka_unit_test(refusals),
      cmocka_unit_test(craic_matches_export),
      cmocka_unit_test(renishaw_spc_matches_export),
      cmocka_unit_test(hand_decoded_files),
      cmocka_unit_test(real_refusals),
      cmocka_unit_test(truncation_and_flips),
  };
  return cmocka_run_group_tests_name("spc", tests, NULL, NULL);
}
