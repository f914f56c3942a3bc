/* test_opus.c: Bruker OPUS reader.  Synthetic OPUS files written byte by
 * byte here, then the real files in ../shared/formats/bruker_opus checked
 * against values decoded by hand (parameter blocks NPT/FXV/LXV, the data
 * words at both ends; MNY of the ScRf block equals its last value). */
#include "testutil.h"

#include "bytewriter.h"

/* Parameter records appended at w->n; returns the byte count. */
typedef struct prm {
  const char *name;
  int type; /* 0 int, 1 double, 2 string */
  double num;
  const char *str;
} prm;
static size_t params(bw *w, size_t at, const prm *p, size_t np) {
  size_t o = at;
  for (size_t i = 0; i < np; i++) {
    memcpy(w->b + o, p[i].name, 3);
    w->b[o + 3] = 0;
    put16(w, o + 4, (unsigned)p[i].type);
    if (p[i].type == 0) {
      put16(w, o + 6, 2);
      put32(w, o + 8, (uint32_t)(int32_t)p[i].num);
      o += 12;
    } else if (p[i].type == 1) {
      put16(w, o + 6, 4);
      putd(w, o + 8, p[i].num);
      o += 16;
    } else {
      size_t len = strlen(p[i].str) + 1, words = (len + 1) / 2;
      words += words % 2; /* keep 4-byte alignment */
      put16(w, o + 6, (unsigned)words);
      memset(w->b + o + 8, 0, 2 * words);
      memcpy(w->b + o + 8, p[i].str, len - 1);
      o += 8 + 2 * words;
    }
  }
  memcpy(w->b + o, "END\0", 4);
  put32(w, o + 4, 0);
  o += 8;
  if (o > w->n)
    w->n = o;
  return o - at;
}

typedef struct blockspec {
  uint32_t type;
  size_t off, bytes;
} blockspec;

/* Build: header, directory of nb entries at 24, blocks after it. */
static void opus_file(bw *w, uint32_t data_type, const float *y, size_t n,
                      double fxv, double lxv, double csf, const char *dxu,
                      const char *plf, int with_ig) {
  memset(w, 0, sizeof *w);
  const unsigned char magic[4] = {0x0A, 0x0A, 0xFE, 0xFE};
  memcpy(w->b, magic, 4);
  putd(w, 4, 920622.0);
  size_t nb = with_ig ? 7 : 5;
  put32(w, 12, 24);
  put32(w, 16, 40);
  put32(w, 20, (uint32_t)nb);
  size_t o = 24 + 12 * 40;
  blockspec b[8];
  size_t k = 0;
  /* data */
  b[k] = (blockspec){data_type, o, 4 * n};
  for (size_t i = 0; i < n; i++)
    putf(w, o + 4 * i, y[i]);
  o += 4 * n;
  k++;
  prm dp[] = {{"DPF", 0, 1, 0}, {"NPT", 0, (double)n, 0}, {"FXV", 1, fxv, 0},
              {"LXV", 1, lxv, 0}, {"CSF", 1, csf, 0}, {"DXU", 2, 0, dxu},
              {"DAT", 2, 0, "01/02/2024"}, {"TIM", 2, 0, "10:11:12.000"}};
  size_t len = params(w, o, dp, 8);
  b[k++] = (blockspec){data_type | 0x10, o, len};
  o += len;
  prm ip[] = {{"LWN", 1, 15798.0, 0}, {"RLW", 1, 9394.9, 0},
              {"INS", 2, 0, "SYNTH 1"}};
  len = params(w, o, ip, 3);
  b[k++] = (blockspec){0x20, o, len};
  o += len;
  prm ap[] = {{"NSS", 0, 64, 0}, {"PLF", 2, 0, plf}};
  len = params(w, o, ap, 2);
  b[k++] = (blockspec){0x30, o, len};
  o += len;
  prm sp[] = {{"SNM", 2, 0, "synthetic sample"}};
  len = params(w, o, sp, 1);
  b[k++] = (blockspec){0xa0, o, len};
  o += len;
  if (with_ig) {
    b[k] = (blockspec){0x0807, o, 4 * n};
    for (size_t i = 0; i < n; i++)
      putf(w, o + 4 * i, 1.0f);
    o += 4 * n;
    k++;
    len = params(w, o, dp, 6);
    b[k++] = (blockspec){0x0817, o, len};
    o += len;
  }
  for (size_t i = 0; i < k; i++) {
    put32(w, 24 + 12 * i, b[i].type);
    put32(w, 24 + 12 * i + 4, (uint32_t)((b[i].bytes + 3) / 4));
    put32(w, 24 + 12 * i + 8, (uint32_t)b[i].off);
  }
  w->n = o;
}

static const char *meta(const cs_spectrum *s, const char *k) {
  const char *v = cs_spectrum_meta(s, k);
  return v ? v : "(null)";
}

static void synthetic_absorbance(void **state) {
  (void)state;
  bw w;
  float y[5] = {0.5f, 1.0f, 1.5f, 2.0f, 0.25f};
  opus_file(&w, 0x100f, y, 5, 4000, 400, 2.0, "WN", "AB", 1);
  cs_dataset *ds = test_read_ok(test_write_tmp("a.0", w.b, w.n), NULL);
  assert_int_equal(cs_dataset_count(ds), 1); /* the interferogram skipped */
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 5, 4000, 400, 1.0, 0.5); /* y * CSF 2 */
  DBL_NEAR(cs_spectrum_x(s)[1], 3100, 1e-9);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVENUMBER);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_ABSORBANCE);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_FTIR);
  assert_int_equal(cs_spectrum_accumulations(s), 64);
  assert_string_equal(meta(s, "opus.block"), "AB");
  assert_string_equal(meta(s, "opus.spectrum_type"), "absorbance");
  assert_string_equal(meta(s, CS_META_TITLE), "synthetic sample");
  assert_string_equal(meta(s, CS_META_INSTRUMENT), "SYNTH 1");
  assert_string_equal(meta(s, CS_META_ACQUIRED), "01/02/2024 10:11:12.000");
  assert_string_equal(meta(s, "opus.lwn"), "15798");
  cs_dataset *ds2 = test_read_ok(test_write_tmp("noext", w.b, w.n), NULL);
  test_same_read(ds, ds2);
  cs_dataset_free(ds2);
  cs_dataset_free(ds);
}

static void synthetic_kinds(void **state) {
  (void)state;
  bw w;
  float y[3] = {0.5f, 0.25f, 0.125f};
  /* transmittance fraction -> % */
  opus_file(&w, 0x140f, y, 3, 400, 4000, 1.0, "WN", "TR", 0);
  cs_dataset *ds = test_read_ok(test_write_tmp("t.0", w.b, w.n), NULL);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 3, 400, 4000, 50, 12.5);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_TRANSMITTANCE_PCT);
  cs_dataset_free(ds);
  /* single channel sample, reference */
  opus_file(&w, 0x0407, y, 3, 400, 4000, 0, "WN", "AB", 0);
  ds = test_read_ok(test_write_tmp("sc.0", w.b, w.n), NULL);
  s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 3, 400, 4000, 0.5, 0.125); /* CSF 0: unscaled */
  assert_string_equal(meta(s, "opus.block"), "ScSm");
  assert_string_equal(meta(s, "opus.spectrum_type"), "single_channel_sample");
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_ARBITRARY);
  cs_dataset_free(ds);
  opus_file(&w, 0x040b, y, 3, 400, 4000, 1, "WN", "AB", 0);
  ds = test_read_ok(test_write_tmp("rf.0", w.b, w.n), NULL);
  assert_string_equal(meta(cs_dataset_get(ds, 0), "opus.block"), "ScRf");
  cs_dataset_free(ds);
  /* FT-Raman: Raman shift, laser from RLW */
  opus_file(&w, 0x280f, y, 3, 3000, 100, 1, "WN", "RAM", 0);
  ds = test_read_ok(test_write_tmp("r.0", w.b, w.n), NULL);
  s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  DBL_NEAR(cs_spectrum_laser_nm(s), 1e7 / 9394.9, 1e-9);
  cs_dataset_free(ds);
  /* interferogram only: refused by name */
  opus_file(&w, 0x0807, y, 3, 0, 2, 1, "PNT", "AB", 0);
  cs_dataset *none = NULL;
  cs_error err;
  STATUS_EQ(cs_dataset_read(test_write_tmp("ig.0", w.b, w.n), NULL, &none,
                            &err),
            CS_ERR_UNSUPPORTED, &err);
  assert_non_null(strstr(err.msg, "interferogram"));
  /* NPT larger than the data block */
  opus_file(&w, 0x100f, y, 3, 0, 2, 1, "WN", "AB", 0);
  put32(&w, 24 + 4, 2); /* data block: 2 words for NPT 3 */
  STATUS_EQ(cs_dataset_read(test_write_tmp("short.0", w.b, w.n), NULL, &none,
                            &err),
            CS_ERR_MALFORMED, &err);
}

/* Values decoded by hand from the real files. */
static void real_files(void **state) {
  (void)state;
  SHARED_OR_SKIP(p, "formats/bruker_opus/test.0000");
  cs_dataset *ds = test_read_ok(p, NULL);
  /* ScSm (0x0407), AB (0x100f), ScRf (0x040b); IgSm/IgRf/PhSm skipped */
  assert_int_equal(cs_dataset_count(ds), 3);
  const cs_spectrum *sc = cs_dataset_get(ds, 0), *ab = cs_dataset_get(ds, 1),
                    *rf = cs_dataset_get(ds, 2);
  assert_string_equal(meta(sc, "opus.block"), "ScSm");
  assert_string_equal(meta(ab, "opus.block"), "AB");
  assert_string_equal(meta(rf, "opus.block"), "ScRf");
  test_expect_ends(sc, 2567, 3998.3449384537757, 699.3889538645833,
                   0.022514835000038147, 0.0007354443660005927);
  test_expect_ends(ab, 2567, 3998.3449384537757, 699.3889538645833,
                   0.000459045433672145, 0.6324249505996704);
  test_expect_ends(rf, 2573, 4003.4875042910153, 696.817670945964,
                   0.022409215569496155, 0.00278554973192513);
  assert_int_equal(cs_spectrum_quantity(ab), CS_Q_ABSORBANCE);
  assert_int_equal(cs_spectrum_axis(ab), CS_AXIS_WAVENUMBER);
  assert_int_equal(cs_spectrum_accumulations(ab), 32);
  assert_string_equal(meta(ab, CS_META_INSTRUMENT), "VERTEX 80V");
  cs_dataset_free(ds);

  SHARED_OR_SKIP(r, "formats/bruker_opus/test_opus.0");
  ds = test_read_ok(r, NULL);
  assert_int_equal(cs_dataset_count(ds), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 4096, 4000.6609666878658, 51.892564645935636,
                   0.0023146735038608313, 0.02616027370095253);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  /* FORMATS.md: RLW 9394.9 cm-1 => 1064.4 nm */
  DBL_NEAR(cs_spectrum_laser_nm(s), 1064.4, 0.05);
  assert_int_equal(cs_spectrum_accumulations(s), 50);
  cs_dataset_free(ds);

  SHARED_OR_SKIP(b, "formats/bruker_opus/background.0");
  ds = test_read_ok(b, NULL);
  assert_int_equal(cs_dataset_count(ds), 1);
  s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 4096, 5264.701775874023, 0, 0.012416654266417027,
                   0.012608351185917854);
  assert_string_equal(meta(s, "opus.spectrum_type"),
                      "single_channel_reference");
  cs_dataset_free(ds);
}

static void fuzz(const unsigned char *orig, size_t n, const char *label) {
  char cut[600];
  snprintf(cut, sizeof cut, "%s/cut", test_tmpdir());
  test_read_cuts(orig, n, cut, "opus", label, 5, 1);
  test_read_flips(orig, n, cut, "opus", label, 99, 600, 1);
}

static void truncation_and_flips(void **state) {
  (void)state;
  bw w;
  float y[6] = {1, 2, 3, 4, 5, 6};
  opus_file(&w, 0x100f, y, 6, 4000, 400, 1, "WN", "AB", 1);
  fuzz(w.b, w.n, "synthetic");
  const char *rel[] = {"formats/bruker_opus/test.0000",
                       "formats/bruker_opus/test_opus.0"};
  test_fuzz_shared(rel, 2, fuzz);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(synthetic_absorbance),
      cmocka_unit_test(synthetic_kinds),
      cmocka_unit_test(real_files),
      cmocka_unit_test(truncation_and_flips),
  };
  return cmocka_run_group_tests_name("opus", tests, NULL, NULL);
}
