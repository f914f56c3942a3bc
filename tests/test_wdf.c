/* test_wdf.c: Renishaw WiRE .wdf reader.  Synthetic files written byte by
 * byte here (single spectrum, map with ORGN/WMAP, image refusal, sparse
 * large file), then the real files in ../shared/formats/renishaw_wdf checked
 * against the WiRE text export and values decoded by hand (FORMATS.md §11).
 * Also the .wxd and WITec .wip named refusals. */
#include "testutil.h"


typedef struct bw {
  unsigned char *b;
  size_t n, cap;
} bw;
static void grow(bw *w, size_t need) {
  if (need > w->cap) {
    size_t c = w->cap ? w->cap : 4096;
    while (c < need)
      c *= 2;
    w->b = realloc(w->b, c);
    assert_non_null(w->b);
    memset(w->b + w->cap, 0, c - w->cap);
    w->cap = c;
  }
  if (need > w->n)
    w->n = need;
}
static void put32(bw *w, size_t off, uint32_t v) {
  grow(w, off + 4);
  for (int i = 0; i < 4; i++)
    w->b[off + (size_t)i] = (unsigned char)(v >> (8 * i));
}
static void put64(bw *w, size_t off, uint64_t v) {
  grow(w, off + 8);
  for (int i = 0; i < 8; i++)
    w->b[off + (size_t)i] = (unsigned char)(v >> (8 * i));
}
static void putf(bw *w, size_t off, float f) {
  uint32_t v;
  memcpy(&v, &f, 4);
  put32(w, off, v);
}
static void putd(bw *w, size_t off, double d) {
  uint64_t v;
  memcpy(&v, &d, 8);
  put64(w, off, v);
}
static void putstr(bw *w, size_t off, const char *s) {
  grow(w, off + strlen(s));
  memcpy(w->b + off, s, strlen(s));
}
/* Block header at the end of the buffer; returns the payload offset. */
static size_t block(bw *w, const char *id, size_t payload) {
  size_t off = w->n;
  putstr(w, off, id);
  put32(w, off + 4, 0);
  put64(w, off + 8, 16 + payload);
  grow(w, off + 16 + payload);
  return off + 16;
}

/* A map of nx x ny spectra of np points: x list in Raman shift, y = 10*i+j,
 * ORGN X/Y in um and Time, WMAP geometry. */
static void make_map(bw *w, uint32_t np, uint32_t nx, uint32_t ny,
                     uint32_t ylc) {
  memset(w, 0, sizeof *w);
  uint32_t ns = nx * ny;
  size_t h = block(w, "WDF1", 512 - 16) - 16;
  put32(w, h + 60, np);
  put64(w, h + 64, ns);
  put64(w, h + 72, ns);
  put32(w, h + 80, 2);   /* accumulations */
  put32(w, h + 84, ylc); /* ylistcount */
  put32(w, h + 132, ns > 1 ? 3 : 1);
  putf(w, h + 156, 12738.6f); /* 785 nm */
  putstr(w, h + 240, "synthetic WDF map");
  size_t d = block(w, "DATA", 4 * (size_t)np * ns * ylc);
  for (uint32_t i = 0; i < ns; i++)
    for (uint32_t j = 0; j < np; j++)
      putf(w, d + 4 * ((size_t)i * np + j), (float)(10 * i + j));
  size_t x = block(w, "XLST", 8 + 4 * (size_t)np);
  put32(w, x, 1);
  put32(w, x + 4, 1); /* Raman shift */
  for (uint32_t j = 0; j < np; j++)
    putf(w, x + 8 + 4 * j, 1800.0f - 2.5f * (float)j);
  size_t per = 24 + 8 * (size_t)ns;
  size_t o = block(w, "ORGN", 4 + 3 * per);
  put32(w, o, 3);
  const char *lab[] = {"X", "Y", "Time"};
  uint32_t type[] = {0x80000003u, 0x80000004u, 11};
  uint32_t unit[] = {5, 5, 24};
  for (int k = 0; k < 3; k++) {
    size_t p = o + 4 + (size_t)k * per;
    put32(w, p, type[k]);
    put32(w, p + 4, unit[k]);
    putstr(w, p + 8, lab[k]);
    for (uint32_t i = 0; i < ns; i++) {
      if (k == 0)
        putd(w, p + 24 + 8 * i, 5.0 + 2.0 * (i % nx));
      else if (k == 1)
        putd(w, p + 24 + 8 * i, -3.0 + 4.0 * (i / nx));
      else /* 2021-01-01T00:00:00Z + 1.5 s per spectrum */
        put64(w, p + 24 + 8 * i,
              132539328000000000ull + 15000000ull * (uint64_t)i);
    }
  }
  size_t m = block(w, "WMAP", 48);
  putf(w, m + 8, 5);
  putf(w, m + 12, -3);
  putf(w, m + 20, 2);
  putf(w, m + 24, 4);
  put32(w, m + 32, nx);
  put32(w, m + 36, ny);
  put32(w, m + 40, 1);
  /* WXDM property set: an array item, a nested set holding the int32
   * exposure (ms) of key 0x8001, then the key's name. */
  size_t ps = block(w, "WXDM", 8 + 16 + 8 + 12 + 4 + 13);
  putstr(w, ps, "PSET");
  put32(w, ps + 4, 16 + 8 + 12 + 4 + 13);
  size_t q = ps + 8;
  putstr(w, q, "i");
  w->b[q + 1] = 0x80; /* array of 2 int32 */
  w->b[q + 2] = 0x05;
  w->b[q + 3] = 0x80;
  put32(w, q + 4, 2);
  put32(w, q + 8, 7);
  put32(w, q + 12, 9);
  q += 16;
  w->b[q] = 'p';
  w->b[q + 1] = 0;
  w->b[q + 2] = 0x03;
  w->b[q + 3] = 0x80;
  put32(w, q + 4, 8);
  q += 8;
  w->b[q] = 'i';
  w->b[q + 1] = 0;
  w->b[q + 2] = 0x01;
  w->b[q + 3] = 0x80;
  put32(w, q + 4, 2500);
  q += 8;
  w->b[q] = 'k';
  w->b[q + 1] = 0;
  w->b[q + 2] = 0x01;
  w->b[q + 3] = 0x80;
  put32(w, q + 4, 13);
  putstr(w, q + 8, "Exposure Time");
  block(w, "TEXT", 5);
}

static const char *meta(const cs_spectrum *s, const char *k) {
  const char *v = cs_spectrum_meta(s, k);
  return v ? v : "(null)";
}

static void synthetic_map(void **state) {
  (void)state;
  bw w;
  make_map(&w, 5, 3, 2, 1);
  cs_dataset *ds = test_read_ok(test_write_tmp("map.wdf", w.b, w.n), NULL);
  assert_int_equal(cs_dataset_count(ds), 6);
  for (size_t i = 0; i < 6; i++) {
    const cs_spectrum *s = cs_dataset_get(ds, i);
    test_expect_ends(s, 5, 1800, 1790, 10.0 * (double)i, 10.0 * (double)i + 4);
    char pos[64];
    snprintf(pos, sizeof pos, "%g %g", 5.0 + 2.0 * (double)(i % 3),
             -3.0 + 4.0 * (double)(i / 3));
    assert_string_equal(meta(s, CS_META_POSITION), pos);
    assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
    assert_int_equal(cs_spectrum_accumulations(s), 2);
    DBL_NEAR(cs_spectrum_laser_nm(s), 1e7 / 12738.6f, 1e-9);
    DBL_NEAR(cs_spectrum_exposure_s(s), 2.5, 0);
  }
  const cs_spectrum *last = cs_dataset_get(ds, 5);
  assert_string_equal(meta(last, CS_META_ACQUIRED), "2021-01-01T00:00:07Z");
  assert_string_equal(meta(last, "wdf.time_s"), "7.5");
  assert_string_equal(meta(last, "wdf.map_size"), "3 2 1");
  assert_string_equal(meta(last, "wdf.measurement"), "map");
  assert_string_equal(meta(last, CS_META_TITLE), "synthetic WDF map");
  /* no extension: identical */
  cs_dataset *ds2 = test_read_ok(test_write_tmp("noext", w.b, w.n), NULL);
  test_same_read(ds, ds2);
  cs_dataset_free(ds2);
  cs_dataset_free(ds);
  /* a compressed (flag 0x40) item in place of the array item (same 16
   * bytes: header, u32 length 8, u32 uncompressed size, 4 bytes of zlib
   * stream) is skipped by its length: the exposure after it is read (as
   * in sp.wdf, where the compressed item is WiRE's measurement script) */
  unsigned char *pset = NULL;
  for (size_t i = 0; i + 4 <= w.n && !pset; i++)
    if (!memcmp(w.b + i, "PSET", 4))
      pset = w.b + i;
  assert_non_null(pset);
  unsigned char keep[16];
  memcpy(keep, pset + 8, 16);
  static const unsigned char z[16] = {'u', 0x40, 0xec, 0x03, 8, 0, 0, 0,
                                      100, 0, 0, 0, 0x78, 0x9c, 0x63, 0x60};
  memcpy(pset + 8, z, 16);
  ds = test_read_ok(test_write_tmp("z.wdf", w.b, w.n), NULL);
  DBL_NEAR(cs_spectrum_exposure_s(cs_dataset_get(ds, 0)), 2.5, 0);
  cs_dataset_free(ds);
  /* its length beyond the set: the walk stops, no exposure, no error */
  pset[12] = 0xff;
  ds = test_read_ok(test_write_tmp("z2.wdf", w.b, w.n), NULL);
  assert_true(isnan(cs_spectrum_exposure_s(cs_dataset_get(ds, 0))));
  cs_dataset_free(ds);
  memcpy(pset + 8, keep, 16);
  /* x in eV (WiRE unit 4) goes through the shared unit map: nm = hc/e/E */
  unsigned char *xl = NULL;
  for (size_t i = 0; i + 4 <= w.n && !xl; i++)
    if (!memcmp(w.b + i, "XLST", 4))
      xl = w.b + i;
  assert_non_null(xl);
  xl[20] = 4;
  ds = test_read_ok(test_write_tmp("ev.wdf", w.b, w.n), NULL);
  assert_int_equal(cs_spectrum_axis(cs_dataset_get(ds, 0)),
                   CS_AXIS_WAVELENGTH_NM);
  DBL_NEAR(cs_spectrum_x(cs_dataset_get(ds, 0))[0], 1239.84198 / 1800.0,
           1e-12);
  cs_dataset_free(ds);
  xl[20] = 1;
  /* an interrupted map (ncollected 4 of 6) gives the 4 collected spectra */
  put64(&w, 72, 4);
  ds = test_read_ok(test_write_tmp("part.wdf", w.b, w.n), NULL);
  assert_int_equal(cs_dataset_count(ds), 4);
  cs_dataset_free(ds);
  free(w.b);
}

static void synthetic_refusals(void **state) {
  (void)state;
  bw w;
  make_map(&w, 4, 1, 1, 3); /* each spectrum an image of 3 rows */
  cs_dataset *ds = NULL;
  cs_error err;
  STATUS_EQ(cs_dataset_read(test_write_tmp("img.wdf", w.b, w.n), NULL, &ds,
                            &err),
            CS_ERR_UNSUPPORTED, &err);
  assert_non_null(strstr(err.msg, "image"));
  free(w.b);
  const char wxd[] = "#WXD0000000000000000000000000000000000000000000.\n#";
  STATUS_EQ(cs_dataset_read(test_write_text("a.wxd", wxd), NULL, &ds, &err),
            CS_ERR_UNSUPPORTED, &err);
  assert_non_null(strstr(err.msg, "Renishaw WiRE .wxd"));
  assert_non_null(strstr(err.msg, "not supported"));
  unsigned char wip[64] = "WIT_PRCT\r\0\0\0WITec Project";
  STATUS_EQ(cs_dataset_read(test_write_tmp("x", wip, sizeof wip), NULL, &ds,
                            &err),
            CS_ERR_UNSUPPORTED, &err);
  assert_non_null(strstr(err.msg, "WITec Project .wip"));
  assert_non_null(strstr(err.msg, "not supported"));
  STATUS_EQ(cs_dataset_read(test_write_tmp("y", wip, sizeof wip), "witec_wip",
                            &ds, &err),
            CS_ERR_UNSUPPORTED, &err);
}

/* nCal_Qontor785: the WiRE text export lists the same 1021 (x, y) pairs;
 * every pair agrees to the export's 6 decimals. */
static void ncal_matches_export(void **state) {
  (void)state;
  SHARED_OR_SKIP(txt, "formats/renishaw_wdf/nCal_Qontor785_z005H12_100_1x3s.txt");
  FILE *f = fopen(txt, "r");
  assert_non_null(f);
  double *ex = malloc(4096 * sizeof *ex), *ey = malloc(4096 * sizeof *ey);
  size_t n = 0;
  char line[256];
  while (fgets(line, sizeof line, f) && n < 4096)
    if (sscanf(line, "%lf %lf", &ex[n], &ey[n]) == 2)
      n++;
  fclose(f);
  SHARED_OR_SKIP(p, "formats/renishaw_wdf/nCal_Qontor785_z005H12_100_1x3s.wdf");
  cs_dataset *ds = test_read_ok(p, NULL);
  assert_int_equal(cs_dataset_count(ds), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_n(s), n);
  for (size_t i = 0; i < n; i++) {
    DBL_NEAR(cs_spectrum_x(s)[i], ex[i], 5e-6);
    DBL_NEAR(cs_spectrum_y(s)[i], ey[i], 5e-6);
  }
  /* FORMATS.md: 12738.6 cm-1 = 785.0 nm; the file name says 1 accumulation */
  DBL_NEAR(cs_spectrum_laser_nm(s), 785.0, 0.05);
  assert_int_equal(cs_spectrum_accumulations(s), 1);
  /* WXDM "Exposure Time" 3000 ms; the SPC export's log says "Time: 3000" */
  DBL_NEAR(cs_spectrum_exposure_s(s), 3.0, 0);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  free(ex);
  free(ey);
  cs_dataset_free(ds);
}

/* Decoded by hand (a Python struct probe of the blocks): counts, x ends,
 * laser, map positions and depth steps. */
static void real_files_hand_decoded(void **state) {
  (void)state;
  SHARED_OR_SKIP(map, "formats/renishaw_wdf/renishaw_test_map.wdf");
  cs_dataset *ds = test_read_ok(map, NULL);
  assert_int_equal(cs_dataset_count(ds), 9);
  /* WMAP: start (-100, -100) um, step 100 um, 3 x 3; ORGN X/Y agree */
  for (size_t i = 0; i < 9; i++) {
    const cs_spectrum *s = cs_dataset_get(ds, i);
    char pos[64];
    snprintf(pos, sizeof pos, "%g %g", -100.0 + 100.0 * (double)(i % 3),
             -100.0 + 100.0 * (double)(i / 3));
    assert_string_equal(meta(s, CS_META_POSITION), pos);
    assert_int_equal(cs_spectrum_n(s), 47);
    assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
    DBL_NEAR(cs_spectrum_x(s)[0], 350.67730712890625, 0);
    DBL_NEAR(cs_spectrum_x(s)[46], 346.7727966308594, 0);
    DBL_NEAR(cs_spectrum_laser_nm(s), 325.0, 0.01);
    assert_int_equal(cs_spectrum_accumulations(s), 4);
  }
  assert_string_equal(meta(cs_dataset_get(ds, 0), "wdf.map_size"), "3 3 1");
  cs_dataset_free(ds);

  SHARED_OR_SKIP(depth, "formats/renishaw_wdf/depth.wdf");
  ds = test_read_ok(depth, NULL);
  assert_int_equal(cs_dataset_count(ds), 40);
  for (size_t i = 0; i < 40; i++) {
    char z[32];
    snprintf(z, sizeof z, "%g", -10.0 + 0.5 * (double)i);
    assert_string_equal(meta(cs_dataset_get(ds, i), "wdf.z_um"), z);
  }
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_n(s), 1015);
  DBL_NEAR(cs_spectrum_x(s)[0], 2787.782958984375, 0);
  DBL_NEAR(cs_spectrum_x(s)[1014], 1226.6053466796875, 0);
  DBL_NEAR(cs_spectrum_laser_nm(s), 532.25, 0.01);
  assert_string_equal(meta(s, "wdf.measurement"), "series");
  /* WXDM: "Exposure Time" 100 ms after a zlib-compressed item (the
   * measurement VBScript), decoded by hand */
  DBL_NEAR(cs_spectrum_exposure_s(s), 0.1, 0);
  cs_dataset_free(ds);

  struct {
    const char *rel;
    size_t count, n;
    double x0, xn;
  } c[] = {{"formats/renishaw_wdf/sp.wdf", 1, 1015, 2787.514404296875,
            1226.2752685546875},
           {"formats/renishaw_wdf/renishaw_test_spectrum.wdf", 1, 36,
            328.98077392578125, 326.0163269042969},
           {"formats/renishaw_wdf/undefined.wdf", 2, 1015, 2742.587890625,
            1170.947265625}};
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    SHARED_OR_SKIP(p, c[i].rel);
    ds = test_read_ok(p, NULL);
    assert_int_equal(cs_dataset_count(ds), c[i].count);
    s = cs_dataset_get(ds, c[i].count - 1);
    assert_int_equal(cs_spectrum_n(s), c[i].n);
    DBL_NEAR(cs_spectrum_x(s)[0], c[i].x0, 0);
    DBL_NEAR(cs_spectrum_x(s)[c[i].n - 1], c[i].xn, 0);
    /* sp.wdf: "Exposure Time" 10000 ms after the compressed item, and
     * 532.25 nm (WDF1 @156, 18788.16 cm^-1), decoded by hand;
     * undefined.wdf has no WXDM block and laser 0 in its header */
    if (i == 0) {
      DBL_NEAR(cs_spectrum_exposure_s(s), 10.0, 0);
      DBL_NEAR(cs_spectrum_laser_nm(s), 532.25, 0.01);
    } else if (i == 2) {
      assert_true(isnan(cs_spectrum_exposure_s(s)));
      assert_true(isnan(cs_spectrum_laser_nm(s)));
    }
    cs_dataset_free(ds);
  }
}

static void real_refusals(void **state) {
  (void)state;
  struct {
    const char *rel, *want;
  } c[] = {{"formats/renishaw_wxd/PST_Reflex532_Z050_010_10000msx2.wxd",
            "Renishaw WiRE .wxd"},
           {"formats/witec_wip/Si-data.WIP", "WITec Project .wip"}};
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    SHARED_OR_SKIP(p, c[i].rel);
    cs_dataset *ds = NULL;
    cs_error err;
    STATUS_EQ(cs_dataset_read(p, NULL, &ds, &err), CS_ERR_UNSUPPORTED, &err);
    assert_non_null(strstr(err.msg, c[i].want));
  }
}

static void fuzz(const unsigned char *orig, size_t n, const char *label) {
  char cut[600];
  snprintf(cut, sizeof cut, "%s/cut", test_tmpdir());
  test_read_cuts(orig, n, cut, "wdf", label, 7, 0);
  test_read_flips(orig, n, cut, "wdf", label, 4242, 600, 1);
}

static void truncation_and_flips(void **state) {
  (void)state;
  bw w;
  make_map(&w, 7, 2, 2, 1);
  fuzz(w.b, w.n, "synthetic map");
  free(w.b);
  const char *rel[] = {"formats/renishaw_wdf/renishaw_test_map.wdf",
                       "formats/renishaw_wdf/depth.wdf"};
  test_fuzz_shared(rel, 2, fuzz);
}

/* A map followed by a 200 MB (sparse) block the reader skips: the file is
 * never loaded whole, so the peak RSS grows by far less than its size. */
static void large_file_bounded_memory(void **state) {
  (void)state;
  bw w;
  make_map(&w, 8, 4, 4, 1);
  char path[600];
  snprintf(path, sizeof path, "%s/big.wdf", test_tmpdir());
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(w.b, 1, w.n, f), w.n);
  const uint64_t pad = (uint64_t)200 << 20;
  unsigned char bh[16] = "WXDM";
  for (int i = 0; i < 8; i++)
    bh[8 + i] = (unsigned char)((pad + 16) >> (8 * i));
  fwrite(bh, 1, 16, f);
  assert_int_equal(fseeko(f, (off_t)pad - 1, SEEK_CUR), 0);
  fputc(0, f);
  fclose(f);
  long before = test_peak_kb();
  cs_dataset *ds = test_read_ok(path, NULL);
  long grown = test_peak_kb() - before;
  print_message("large WDF: %llu bytes, peak RSS grew %ld kB\n",
                (unsigned long long)(pad + w.n), grown);
  assert_int_equal(cs_dataset_count(ds), 16);
  cs_dataset_free(ds);
  free(w.b);
  if (grown > 50 * 1024)
    fail_msg("peak RSS grew by %ld kB", grown);
}

/* The map as a stream: one spectrum read from DATA at a time, the count
 * known from the header, and exactly the spectra of the whole reading. */
static void map_streams(void **state) {
  (void)state;
  bw w;
  make_map(&w, 64, 30, 20, 1);
  const char *p = test_write_tmp("stream.wdf", w.b, w.n);
  free(w.b);
  cs_dataset *whole = test_read_ok(p, NULL), *streamed;
  cs_reader *rd;
  cs_error e;
  STATUS_EQ(cs_reader_open(p, NULL, NULL, &rd, &e), CS_OK, &e);
  assert_true(cs_reader_streaming(rd));
  assert_string_equal(cs_reader_format(rd), "wdf");
  assert_int_equal(cs_reader_count(rd), 600);
  assert_int_equal(cs_dataset_new(&streamed, NULL), CS_OK);
  cs_spectrum *s;
  while (!cs_reader_next(rd, &s, &e) && s)
    assert_int_equal(cs_dataset_push(streamed, s, NULL), CS_OK);
  assert_int_equal(cs_reader_peak_held(rd), 1);
  cs_reader_close(rd);
  assert_int_equal(cs_dataset_count(streamed), 600);
  test_same_read(whole, streamed);
  for (size_t i = 0; i < 600; i++)
    assert_int_equal(cs_spectrum_source_index(cs_dataset_get(streamed, i)), i);
  cs_dataset_free(whole);
  cs_dataset_free(streamed);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(map_streams),
      cmocka_unit_test(large_file_bounded_memory),
      cmocka_unit_test(synthetic_map),
      cmocka_unit_test(synthetic_refusals),
      cmocka_unit_test(ncal_matches_export),
      cmocka_unit_test(real_files_hand_decoded),
      cmocka_unit_test(real_refusals),
      cmocka_unit_test(truncation_and_flips),
  };
  return cmocka_run_group_tests_name("wdf", tests, NULL, NULL);
}
