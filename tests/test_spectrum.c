/* test_spectrum.c: the spectrum model, datasets, metadata and axis
 * operations, checked against values computed by hand. */
#include "testutil.h"

#include "internal.h"

static cs_spectrum *make(const double *x, const double *y, size_t n,
                         cs_axis axis) {
  cs_spectrum *s;
  cs_error err;
  STATUS_EQ(cs_spectrum_new(x, y, n, axis, CS_Q_COUNTS, &s, &err), CS_OK, &err);
  return s;
}

static void new_copy_free(void **state) {
  (void)state;
  double x[] = {1, 2, 3}, y[] = {4, 5, 6};
  cs_spectrum *s = make(x, y, 3, CS_AXIS_RAMAN_SHIFT), *c;
  x[0] = 99; /* the spectrum keeps its own copy */
  assert_true(cs_spectrum_x(s)[0] == 1.0);
  assert_true(isnan(cs_spectrum_laser_nm(s)));
  assert_true(isnan(cs_spectrum_exposure_s(s)));
  cs_spectrum_set_laser_nm(s, 785.0);
  cs_spectrum_set_laser_nm(s, -3); /* nonsense means unknown */
  assert_true(isnan(cs_spectrum_laser_nm(s)));
  cs_spectrum_set_laser_nm(s, 785.0);
  cs_error err;
  STATUS_EQ(cs_spectrum_set_meta(s, CS_META_SAMPLE_ID, "S1", &err), CS_OK, &err);
  STATUS_EQ(cs_spectrum_copy(s, &c, &err), CS_OK, &err);
  assert_string_equal(cs_spectrum_meta(c, CS_META_SAMPLE_ID), "S1");
  assert_true(cs_spectrum_laser_nm(c) == 785.0);
  assert_true(cs_spectrum_y(c)[2] == 6.0);
  cs_spectrum_free(s);
  cs_spectrum_free(c);
  cs_spectrum_free(NULL);
}

static void new_rejects_bad_input(void **state) {
  (void)state;
  double x[] = {1, NAN}, y[] = {1, 2};
  cs_spectrum *s = (cs_spectrum *)1;
  cs_error err;
  STATUS_EQ(cs_spectrum_new(x, y, 2, CS_AXIS_PIXEL, CS_Q_COUNTS, &s, &err),
            CS_ERR_ARG, &err);
  assert_null(s);
  STATUS_EQ(cs_spectrum_new(x, y, 0, CS_AXIS_PIXEL, CS_Q_COUNTS, &s, &err),
            CS_ERR_ARG, &err);
}

static void metadata(void **state) {
  (void)state;
  double x[] = {1}, y[] = {1};
  cs_spectrum *s = make(x, y, 1, CS_AXIS_PIXEL);
  cs_error err;
  STATUS_EQ(cs_spectrum_set_meta(s, "a", "1", &err), CS_OK, &err);
  STATUS_EQ(cs_spectrum_set_meta(s, "b", "2", &err), CS_OK, &err);
  STATUS_EQ(cs_spectrum_set_meta(s, "a", "3", &err), CS_OK, &err);
  assert_int_equal(cs_spectrum_meta_count(s), 2);
  const char *k, *v;
  cs_spectrum_meta_at(s, 0, &k, &v);
  assert_string_equal(k, "a");
  assert_string_equal(v, "3");
  STATUS_EQ(cs_spectrum_set_meta(s, "a", NULL, &err), CS_OK, &err);
  assert_null(cs_spectrum_meta(s, "a"));
  assert_int_equal(cs_spectrum_meta_count(s), 1);
  STATUS_EQ(cs_spectrum_set_meta(s, "", "x", &err), CS_ERR_ARG, &err);
  STATUS_EQ(cs_spectrum_set_meta(s, "bad\nkey", "x", &err), CS_ERR_ARG, &err);
  cs_spectrum_free(s);
}

static void dataset(void **state) {
  (void)state;
  double x[] = {1}, y[] = {1};
  cs_error err;
  STATUS_EQ(cs_dataset_new(NULL, &err), CS_ERR_ARG, &err);
  cs_dataset *ds = NULL;
  STATUS_EQ(cs_dataset_new(&ds, &err), CS_OK, &err);
  assert_non_null(ds);
  assert_int_equal(cs_dataset_count(ds), 0);
  for (int i = 0; i < 10; i++) {
    cs_spectrum *s = make(x, y, 1, CS_AXIS_PIXEL);
    cs_spectrum_set_source_index(s, (size_t)i);
    STATUS_EQ(cs_dataset_push(ds, s, &err), CS_OK, &err);
  }
  assert_int_equal(cs_dataset_count(ds), 10);
  assert_null(cs_dataset_get(ds, 10));
  cs_spectrum *t = cs_dataset_take(ds, 3);
  assert_int_equal(cs_spectrum_source_index(t), 3);
  assert_int_equal(cs_spectrum_source_index(cs_dataset_get(ds, 3)), 4);
  assert_int_equal(cs_dataset_count(ds), 9);
  cs_spectrum_free(t);
  cs_dataset_free(ds);
  cs_dataset_free(NULL);
}

static void sort_and_duplicates(void **state) {
  (void)state;
  double x[] = {5, 4, 3, 2, 1}, y[] = {50, 40, 30, 20, 10};
  cs_spectrum *s = make(x, y, 5, CS_AXIS_RAMAN_SHIFT);
  cs_error err;
  STATUS_EQ(cs_spectrum_sort(s, &err), CS_OK, &err);
  for (int i = 0; i < 5; i++) {
    assert_true(cs_spectrum_x(s)[i] == i + 1);
    assert_true(cs_spectrum_y(s)[i] == 10.0 * (i + 1));
  }
  cs_spectrum_free(s);
  double xm[] = {3, 1, 2}, ym[] = {30, 10, 20};
  s = make(xm, ym, 3, CS_AXIS_RAMAN_SHIFT);
  STATUS_EQ(cs_spectrum_sort(s, &err), CS_OK, &err);
  assert_true(cs_spectrum_y(s)[0] == 10 && cs_spectrum_y(s)[2] == 30);
  cs_spectrum_free(s);
  double xd[] = {3, 1, 3}, yd[] = {1, 2, 3};
  s = make(xd, yd, 3, CS_AXIS_RAMAN_SHIFT);
  STATUS_EQ(cs_spectrum_sort(s, &err), CS_ERR_MALFORMED, &err);
  cs_spectrum_free(s);
}

static void raman_shift(void **state) {
  (void)state;
  /* 785 nm laser: 1e7/785 - 1e7/850 = 974.155... cm-1 (by hand) */
  double x[] = {800, 850, 900}, y[] = {1, 2, 3};
  cs_spectrum *s = make(x, y, 3, CS_AXIS_WAVELENGTH_NM);
  cs_error err;
  STATUS_EQ(cs_spectrum_to_raman_shift(s, NAN, &err), CS_ERR_ARG, &err);
  assert_non_null(strstr(err.msg, "excitation wavelength"));
  cs_spectrum_set_laser_nm(s, 785);
  STATUS_EQ(cs_spectrum_to_raman_shift(s, NAN, &err), CS_OK, &err);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  DBL_NEAR(cs_spectrum_x(s)[1], 1e7 / 785.0 - 1e7 / 850.0, 1e-9);
  DBL_NEAR(cs_spectrum_x(s)[0], 238.8535, 1e-3); /* 12738.8535 - 12500 */
  DBL_NEAR(cs_spectrum_x(s)[2], 1627.7424, 1e-3); /* 12738.8535 - 11111.1111 */
  STATUS_EQ(cs_spectrum_to_raman_shift(s, NAN, &err), CS_OK, &err); /* no-op */
  cs_spectrum_free(s);
  s = make(x, y, 3, CS_AXIS_PIXEL);
  STATUS_EQ(cs_spectrum_to_raman_shift(s, 785, &err), CS_ERR_UNSUPPORTED, &err);
  cs_spectrum_free(s);
  /* a finite wavelength or laser whose shift is not finite: an error, the
   * spectrum unchanged (1e-302 nm gave x = -inf and CS_OK) */
  double xt[] = {1e-302, 500, 600};
  s = make(xt, y, 3, CS_AXIS_WAVELENGTH_NM);
  STATUS_EQ(cs_spectrum_to_raman_shift(s, 785, &err), CS_ERR_NUMERIC, &err);
  assert_non_null(strstr(err.msg, "no finite Raman shift"));
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  assert_true(cs_spectrum_x(s)[0] == 1e-302);
  STATUS_EQ(cs_spectrum_to_raman_shift(s, 1e-310, &err), CS_ERR_NUMERIC, &err);
  cs_spectrum_free(s);
}

static void absorbance(void **state) {
  (void)state;
  double x[] = {1, 2, 3}, y[] = {100, 10, 1};
  cs_spectrum *s = make(x, y, 3, CS_AXIS_WAVENUMBER);
  cs_error err;
  STATUS_EQ(cs_spectrum_to_absorbance(s, &err), CS_ERR_UNSUPPORTED, &err);
  cs_spectrum_set_quantity(s, CS_Q_TRANSMITTANCE_PCT);
  STATUS_EQ(cs_spectrum_to_absorbance(s, &err), CS_OK, &err);
  DBL_NEAR(cs_spectrum_y(s)[0], 0.0, 1e-15);
  DBL_NEAR(cs_spectrum_y(s)[1], 1.0, 1e-15);
  DBL_NEAR(cs_spectrum_y(s)[2], 2.0, 1e-15);
  cs_spectrum_free(s);
  double z[] = {50, 0, 20};
  s = make(x, z, 3, CS_AXIS_WAVENUMBER);
  cs_spectrum_set_quantity(s, CS_Q_TRANSMITTANCE_PCT);
  STATUS_EQ(cs_spectrum_to_absorbance(s, &err), CS_ERR_NUMERIC, &err);
  assert_true(cs_spectrum_y(s)[0] == 50); /* unchanged on failure */
  cs_spectrum_free(s);
}

static void crop(void **state) {
  (void)state;
  double x[11], y[11];
  for (int i = 0; i < 11; i++)
    x[i] = 100 + 10 * i, y[i] = i;
  cs_spectrum *s = make(x, y, 11, CS_AXIS_RAMAN_SHIFT);
  cs_error err;
  STATUS_EQ(cs_spectrum_crop(s, 50, 150, &err), CS_ERR_RANGE, &err);
  assert_non_null(strstr(err.msg, "covers 100 to 200"));
  STATUS_EQ(cs_spectrum_crop(s, 120, 150, &err), CS_OK, &err);
  assert_int_equal(cs_spectrum_n(s), 4);
  assert_true(cs_spectrum_x(s)[0] == 120 && cs_spectrum_x(s)[3] == 150);
  STATUS_EQ(cs_spectrum_crop(s, 150, 120, &err), CS_ERR_ARG, &err);
  cs_spectrum_free(s);
}

static void resample(void **state) {
  (void)state;
  /* y = x^3 - 2x sampled at 0..10: linear interpolation is exact at nodes
   * and halfway it is the chord; the natural spline reproduces a straight
   * line exactly and a cubic closely away from the ends. */
  double x[11], y[11], line[11];
  for (int i = 0; i < 11; i++) {
    x[i] = i;
    y[i] = (double)i * i * i - 2.0 * i;
    line[i] = 3.0 * i + 1.0;
  }
  cs_spectrum *s = make(x, y, 11, CS_AXIS_RAMAN_SHIFT), *r;
  cs_error err;
  double t[] = {0, 0.5, 4.5, 10};
  STATUS_EQ(cs_spectrum_resample(s, t, 4, CS_INTERP_LINEAR, &r, &err), CS_OK, &err);
  DBL_NEAR(cs_spectrum_y(r)[1], (0.0 + (1 - 2)) / 2, 1e-12);
  DBL_NEAR(cs_spectrum_y(r)[2], ((64 - 8) + (125 - 10)) / 2.0, 1e-12);
  DBL_NEAR(cs_spectrum_y(r)[3], 980, 1e-12);
  cs_spectrum_free(r);
  STATUS_EQ(cs_spectrum_resample(s, t, 4, CS_INTERP_CUBIC, &r, &err), CS_OK, &err);
  DBL_NEAR(cs_spectrum_y(r)[2], 4.5 * 4.5 * 4.5 - 9.0, 0.05);
  DBL_NEAR(cs_spectrum_y(r)[3], 980, 1e-9);
  cs_spectrum_free(r);
  cs_spectrum_free(s);
  s = make(x, line, 11, CS_AXIS_RAMAN_SHIFT);
  double u[] = {0.25, 3.3, 9.99};
  STATUS_EQ(cs_spectrum_resample(s, u, 3, CS_INTERP_CUBIC, &r, &err), CS_OK, &err);
  for (int j = 0; j < 3; j++)
    DBL_NEAR(cs_spectrum_y(r)[j], 3 * u[j] + 1, 1e-12);
  cs_spectrum_free(r);
  double out[] = {-1, 5};
  STATUS_EQ(cs_spectrum_resample(s, out, 2, CS_INTERP_LINEAR, &r, &err),
            CS_ERR_RANGE, &err);
  assert_null(r);
  double unsorted[] = {5, 1};
  STATUS_EQ(cs_spectrum_resample(s, unsorted, 2, CS_INTERP_LINEAR, &r, &err),
            CS_ERR_ARG, &err);
  cs_spectrum_free(s);
  /* the spline through +-1.7e308 overflows: an error, not CS_OK with
   * non-finite values */
  double xa[8], ya[8], ta[] = {0.5, 2.5, 4.5};
  for (size_t i = 0; i < 8; i++)
    xa[i] = (double)i, ya[i] = i % 2 ? 1.7e308 : -1.7e308;
  s = make(xa, ya, 8, CS_AXIS_RAMAN_SHIFT);
  STATUS_EQ(cs_spectrum_resample(s, ta, 3, CS_INTERP_CUBIC, &r, &err),
            CS_ERR_NUMERIC, &err);
  assert_null(r);
  STATUS_EQ(cs_spectrum_resample(s, ta, 3, CS_INTERP_LINEAR, &r, &err), CS_OK,
            &err);
  cs_spectrum_free(r);
  cs_spectrum_free(s);
}

static void names(void **state) {
  (void)state;
  cs_axis a;
  cs_quantity q;
  cs_technique t;
  for (int i = CS_AXIS_UNKNOWN; i <= CS_AXIS_PIXEL; i++) {
    assert_int_equal(cs_axis_from_name(cs_axis_name((cs_axis)i), &a), CS_OK);
    assert_int_equal(a, i);
  }
  for (int i = CS_Q_ARBITRARY; i <= CS_Q_REFLECTANCE; i++) {
    assert_int_equal(cs_quantity_from_name(cs_quantity_name((cs_quantity)i), &q), CS_OK);
    assert_int_equal(q, i);
  }
  for (int i = CS_TECH_UNKNOWN; i <= CS_TECH_FTIR; i++) {
    assert_int_equal(cs_technique_from_name(cs_technique_name((cs_technique)i), &t), CS_OK);
    assert_int_equal(t, i);
  }
  assert_int_equal(cs_axis_from_name("furlongs", &a), CS_ERR_ARG);
}

static void c_locale_numbers(void **state) {
  (void)state;
  double v;
  assert_int_equal(csi_parse_double(" 1.5e3 ", &v), 0);
  assert_true(v == 1500);
  assert_int_equal(csi_parse_double("1,5", &v), -1);
  assert_int_equal(csi_parse_double("nan", &v), -1);
  char *end;
  v = csi_strtod_comma("532,02;x", &end);
  DBL_NEAR(v, 532.02, 1e-12);
  assert_int_equal(*end, ';');
  unsigned char *out;
  size_t n;
  cs_error err;
  const char *b64 = "AAAAAAAA8D8=\n"; /* 1.0 as LE f64 */
  STATUS_EQ(csi_base64_decode(b64, strlen(b64), &out, &n, &err), CS_OK, &err);
  assert_int_equal(n, 8);
  assert_true(csi_le_f64(out) == 1.0);
  char *enc = csi_base64_encode(out, n);
  assert_string_equal(enc, "AAAAAAAA8D8=");
  free(enc);
  free(out);
  STATUS_EQ(csi_base64_decode("AA*A", 4, &out, &n, &err), CS_ERR_MALFORMED, &err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(new_copy_free),   cmocka_unit_test(new_rejects_bad_input),
      cmocka_unit_test(metadata),        cmocka_unit_test(dataset),
      cmocka_unit_test(sort_and_duplicates), cmocka_unit_test(raman_shift),
      cmocka_unit_test(absorbance),      cmocka_unit_test(crop),
      cmocka_unit_test(resample),        cmocka_unit_test(names),
      cmocka_unit_test(c_locale_numbers),
  };
  return cmocka_run_group_tests_name("spectrum", tests, NULL, NULL);
}
