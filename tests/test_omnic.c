/* test_omnic.c: Thermo OMNIC .spa/.spg reader.  Synthetic files written
 * byte by byte here, then the real files in ../shared/formats/omnic_spa and
 * omnic_spg checked against values decoded by hand (FORMATS.md §9: header
 * npts/firstx/lastx, the first and last f32 of each data block). */
#include "testutil.h"

#include "bytewriter.h"

/* nspec header/data pairs (+ one history); xu/yu unit codes. */
static void make_spa(bw *w, int nspec, uint32_t xu, uint32_t yu) {
  memset(w, 0, sizeof *w);
  memcpy(w->b, "Spectral Data File", 18);
  strcpy((char *)w->b + 30, "synthetic OMNIC");
  size_t nent = 1 + 2 * (size_t)nspec;
  put16(w, 292, (unsigned)nspec);
  put16(w, 294, (unsigned)nent);
  put32(w, 296, 3786912000u); /* 2020-01-01T00:00:00 since 1899-12-31 */
  size_t o = 304 + 16 * nent, e = 304;
  const char *hist = "Collect Sample\r\n\t Final format:\tAbsorbance";
  w->b[e] = 27;
  put32(w, e + 2, (uint32_t)o);
  put32(w, e + 6, (uint32_t)strlen(hist) + 1);
  memcpy(w->b + o, hist, strlen(hist) + 1);
  o += strlen(hist) + 1;
  e += 16;
  for (int k = 0; k < nspec; k++) {
    w->b[e] = 2;
    put32(w, e + 2, (uint32_t)o);
    put32(w, e + 6, 140);
    put32(w, o + 4, 4);
    put32(w, o + 8, xu);
    put32(w, o + 12, yu);
    putf(w, o + 16, 4000.0f);
    putf(w, o + 20, 1000.0f);
    o += 140;
    e += 16;
    w->b[e] = 3;
    put32(w, e + 2, (uint32_t)o);
    put32(w, e + 6, 16);
    for (int i = 0; i < 4; i++)
      putf(w, o + 4 * (size_t)i, 0.25f * (float)i + (float)k);
    o += 16;
    e += 16;
  }
  w->n = o;
}

static const char *meta(const cs_spectrum *s, const char *k) {
  const char *v = cs_spectrum_meta(s, k);
  return v ? v : "(null)";
}

static void synthetic_spa_spg(void **state) {
  (void)state;
  bw w;
  make_spa(&w, 1, 1, 17);
  cs_dataset *ds = test_read_ok(test_write_tmp("a.spa", w.b, w.n), NULL);
  assert_int_equal(cs_dataset_count(ds), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 4, 4000, 1000, 0, 0.75);
  DBL_NEAR(cs_spectrum_x(s)[1], 3000, 1e-9);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVENUMBER);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_ABSORBANCE);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_FTIR);
  assert_string_equal(meta(s, CS_META_TITLE), "synthetic OMNIC");
  assert_string_equal(meta(s, CS_META_ACQUIRED), "2020-01-01T00:00:00");
  assert_non_null(strstr(meta(s, "omnic.history"), "Final format"));
  cs_dataset *ds2 = test_read_ok(test_write_tmp("noext", w.b, w.n), NULL);
  test_same_read(ds, ds2);
  cs_dataset_free(ds2);
  cs_dataset_free(ds);

  make_spa(&w, 3, 1, 16);
  ds = test_read_ok(test_write_tmp("g.spg", w.b, w.n), NULL);
  assert_int_equal(cs_dataset_count(ds), 3);
  test_expect_ends(cs_dataset_get(ds, 2), 4, 4000, 1000, 2, 2.75);
  assert_int_equal(cs_spectrum_quantity(cs_dataset_get(ds, 2)),
                   CS_Q_TRANSMITTANCE_PCT);
  cs_dataset_free(ds);
}

static void synthetic_refusals(void **state) {
  (void)state;
  bw w;
  cs_dataset *ds = NULL;
  cs_error err;
  make_spa(&w, 1, 2, 22); /* data points x volts: an interferogram */
  STATUS_EQ(cs_dataset_read(test_write_tmp("ig.spa", w.b, w.n), NULL, &ds,
                            &err),
            CS_ERR_UNSUPPORTED, &err);
  assert_non_null(strstr(err.msg, "interferogram"));
  make_spa(&w, 1, 1, 17);
  put32(&w, 304 + 16 + 2, 1u << 30); /* header offset outside the file */
  STATUS_EQ(cs_dataset_read(test_write_tmp("bad.spa", w.b, w.n), NULL, &ds,
                            &err),
            CS_ERR_MALFORMED, &err);
  make_spa(&w, 1, 1, 17);
  put32(&w, 304 + 32 + 6, 8); /* data block smaller than npts floats */
  STATUS_EQ(cs_dataset_read(test_write_tmp("short.spa", w.b, w.n), NULL, &ds,
                            &err),
            CS_ERR_MALFORMED, &err);
}

static void real_files(void **state) {
  (void)state;
  struct {
    const char *rel;
    size_t count, n;
    double x0, xn, y0, yn;
    cs_quantity q;
  } c[] = {
      {"formats/omnic_spa/spectre.SPA", 1, 3734, 3999.7060546875,
       400.1634521484375, 2.0195093154907227, 0.008811752311885357,
       CS_Q_ARBITRARY},
      {"formats/omnic_spa/2-BaSO4_0.SPA", 1, 11098, 6000.041015625,
       649.9039916992188, 2.281536340713501, 6.0, CS_Q_ABSORBANCE},
      {"formats/omnic_spa/7_CZ0-100_Pd_101.SPA", 1, 5549, 5999.71337890625,
       649.9207153320312, 1.5435667037963867, 2.091464042663574,
       CS_Q_ABSORBANCE},
      {"formats/omnic_spg/wodger.spg", 2, 5549, 5999.5556640625,
       649.903564453125, 2.0048975944519043, 1.8313528299331665,
       CS_Q_ABSORBANCE},
  };
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    SHARED_OR_SKIP(p, c[i].rel);
    cs_dataset *ds = test_read_ok(p, NULL);
    assert_int_equal(cs_dataset_count(ds), c[i].count);
    const cs_spectrum *s = cs_dataset_get(ds, c[i].count - 1);
    test_expect_ends(s, c[i].n, c[i].x0, c[i].xn, c[i].y0, c[i].yn);
    assert_int_equal(cs_spectrum_quantity(s), c[i].q);
    assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVENUMBER);
    cs_dataset_free(ds);
  }
  /* the first spectrum of the group */
  SHARED_OR_SKIP(g, "formats/omnic_spg/wodger.spg");
  cs_dataset *ds = test_read_ok(g, NULL);
  const double *y = cs_spectrum_y(cs_dataset_get(ds, 0));
  DBL_NEAR(y[0], 1.9831526279449463, 0);
  DBL_NEAR(y[5548], 1.7043344974517822, 0);
  cs_dataset_free(ds);
  SHARED_OR_SKIP(ig, "formats/omnic_spa/interfero.SPA");
  cs_error err;
  STATUS_EQ(cs_dataset_read(ig, NULL, &ds, &err), CS_ERR_UNSUPPORTED, &err);
  assert_non_null(strstr(err.msg, "interferogram"));
}

static void fuzz(const unsigned char *orig, size_t n, const char *label) {
  char cut[600];
  snprintf(cut, sizeof cut, "%s/cut", test_tmpdir());
  test_read_cuts(orig, n, cut, "omnic", label, 5, 1);
  test_read_flips(orig, n, cut, "omnic", label, 31337, 700, 1);
}

static void truncation_and_flips(void **state) {
  (void)state;
  bw w;
  make_spa(&w, 2, 1, 17);
  fuzz(w.b, w.n, "synthetic");
  const char *rel[] = {"formats/omnic_spa/spectre.SPA",
                       "formats/omnic_spg/wodger.spg"};
  test_fuzz_shared(rel, 2, fuzz);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(synthetic_spa_spg),
      cmocka_unit_test(synthetic_refusals),
      cmocka_unit_test(real_files),
      cmocka_unit_test(truncation_and_flips),
  };
  return cmocka_run_group_tests_name("omnic", tests, NULL, NULL);
}
