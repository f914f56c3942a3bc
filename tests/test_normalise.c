/* test_normalise.c: normalisation, checked against values computed by hand
 * (stated next to each check). */
#include "testutil.h"

static void simple_norms(void **state) {
  (void)state;
  double x[] = {1, 2, 3, 4}, y[4], f;
  cs_error err;
  cs_norm_opts o = cs_norm_opts_default(CS_NORM_VECTOR);
  /* |(3,4,0,0)| = 5 */
  memcpy(y, (double[]){3, 4, 0, 0}, sizeof y);
  STATUS_EQ(cs_normalise(x, y, 4, &o, &f, &err), CS_OK, &err);
  DBL_NEAR(f, 5, 1e-15);
  DBL_NEAR(y[0], 0.6, 1e-15);
  DBL_NEAR(y[1], 0.8, 1e-15);
  /* trapezoid of (1,3,3,1) at unit spacing: 2 + 3 + 2 = 7 */
  o = cs_norm_opts_default(CS_NORM_AREA);
  memcpy(y, (double[]){1, 3, 3, 1}, sizeof y);
  STATUS_EQ(cs_normalise(x, y, 4, &o, &f, &err), CS_OK, &err);
  DBL_NEAR(f, 7, 1e-15);
  DBL_NEAR(y[1], 3.0 / 7, 1e-15);
  /* descending x gives the same area */
  double xd[] = {4, 3, 2, 1};
  memcpy(y, (double[]){1, 3, 3, 1}, sizeof y);
  STATUS_EQ(cs_normalise(xd, y, 4, &o, &f, &err), CS_OK, &err);
  DBL_NEAR(f, 7, 1e-15);
  o = cs_norm_opts_default(CS_NORM_MAX);
  memcpy(y, (double[]){1, 3, 8, 1}, sizeof y);
  STATUS_EQ(cs_normalise(x, y, 4, &o, &f, &err), CS_OK, &err);
  DBL_NEAR(f, 8, 0);
  DBL_NEAR(y[2], 1, 0);
  /* SNV of (1,2,3,4): mean 2.5, sample sd sqrt(5/3) */
  o = cs_norm_opts_default(CS_NORM_SNV);
  memcpy(y, (double[]){1, 2, 3, 4}, sizeof y);
  STATUS_EQ(cs_normalise(x, y, 4, &o, &f, &err), CS_OK, &err);
  DBL_NEAR(f, sqrt(5.0 / 3), 1e-15);
  DBL_NEAR(y[0], -1.5 / sqrt(5.0 / 3), 1e-15);
  DBL_NEAR(y[3], 1.5 / sqrt(5.0 / 3), 1e-15);
}

static void degenerate_norms(void **state) {
  (void)state;
  double x[] = {1, 2, 3, 4}, y[4] = {0, 0, 0, 0}, keep[4];
  cs_error err;
  const cs_norm_method m[] = {CS_NORM_VECTOR, CS_NORM_AREA, CS_NORM_MAX,
                              CS_NORM_SNV};
  for (int k = 0; k < 4; k++) {
    cs_norm_opts o = cs_norm_opts_default(m[k]);
    STATUS_EQ(cs_normalise(x, y, 4, &o, NULL, &err), CS_ERR_NUMERIC, &err);
    assert_non_null(strstr(err.msg, "cannot normalise"));
  }
  /* negative area / max, constant SNV */
  double neg[4] = {-1, -2, -3, -1}, flat[4] = {5, 5, 5, 5};
  memcpy(keep, neg, sizeof keep);
  cs_norm_opts o = cs_norm_opts_default(CS_NORM_AREA);
  STATUS_EQ(cs_normalise(x, neg, 4, &o, NULL, &err), CS_ERR_NUMERIC, &err);
  assert_memory_equal(neg, keep, sizeof keep); /* unchanged on error */
  o = cs_norm_opts_default(CS_NORM_MAX);
  STATUS_EQ(cs_normalise(x, neg, 4, &o, NULL, &err), CS_ERR_NUMERIC, &err);
  o = cs_norm_opts_default(CS_NORM_SNV);
  STATUS_EQ(cs_normalise(x, flat, 4, &o, NULL, &err), CS_ERR_NUMERIC, &err);
  /* a positive norm so small that dividing overflows: an error, no Inf */
  double tiny[4] = {1e-310, -1e300, 0, 0};
  o = cs_norm_opts_default(CS_NORM_MAX);
  STATUS_EQ(cs_normalise(x, tiny, 4, &o, NULL, &err), CS_ERR_NUMERIC, &err);
  assert_true(tiny[1] == -1e300);
}

/* A triangle band on a sloped line: window 950..970 (points every 1), line
 * y = 100 + 2 (x - 950), triangle of height 50 centred at 960 with half
 * base 5.  Height 50; area 0.5 * 10 * 50 = 250 (the trapezoid rule is exact
 * for a piecewise-linear band with kinks on grid points). */
static void band_norm(void **state) {
  (void)state;
  enum { N = 61 };
  double x[N], y[N], z[N], f;
  for (int i = 0; i < N; i++) {
    x[i] = 930 + i;
    double tri = fmax(0, 50 - 10 * fabs(x[i] - 960));
    y[i] = 100 + 2 * (x[i] - 950) + tri;
  }
  cs_error err;
  cs_norm_opts o;
  STATUS_EQ(cs_norm_opts_parse("band:960:10", &o, &err), CS_OK, &err);
  memcpy(z, y, sizeof z);
  STATUS_EQ(cs_normalise(x, z, N, &o, &f, &err), CS_OK, &err);
  DBL_NEAR(f, 250, 1e-9);
  DBL_NEAR(z[30], y[30] / 250, 1e-12);
  STATUS_EQ(cs_norm_opts_parse("band:960:10:height", &o, &err), CS_OK, &err);
  memcpy(z, y, sizeof z);
  STATUS_EQ(cs_normalise(x, z, N, &o, &f, &err), CS_OK, &err);
  DBL_NEAR(f, 50, 1e-9);
  /* window ends between grid points: 950.5..969.5, line through the
   * interpolated ends is still the sloped line, so the same answers */
  STATUS_EQ(cs_norm_opts_parse("band:960:9.5", &o, &err), CS_OK, &err);
  memcpy(z, y, sizeof z);
  STATUS_EQ(cs_normalise(x, z, N, &o, &f, &err), CS_OK, &err);
  DBL_NEAR(f, 250, 1e-9);
  /* outside the spectrum */
  STATUS_EQ(cs_norm_opts_parse("band:1004:20", &o, &err), CS_OK, &err);
  STATUS_EQ(cs_normalise(x, z, N, &o, &f, &err), CS_ERR_RANGE, &err);
  /* no band (flat): zero area */
  for (int i = 0; i < N; i++)
    z[i] = 7;
  STATUS_EQ(cs_norm_opts_parse("band:960:10", &o, &err), CS_OK, &err);
  STATUS_EQ(cs_normalise(x, z, N, &o, &f, &err), CS_ERR_NUMERIC, &err);
  /* too few points in the window */
  double xs[] = {900, 950, 970, 1000}, ys[] = {1, 2, 3, 4};
  STATUS_EQ(cs_normalise(xs, ys, 4, &o, &f, &err), CS_ERR_RANGE, &err);
}

static void opts_round_trip(void **state) {
  (void)state;
  const char *good[][2] = {{"vector", "vector"},
                           {"area", "area"},
                           {"max", "max"},
                           {"snv", "snv"},
                           {"none", "none"},
                           {"band:960:20", "band:960:20"},
                           {"band:1004:7.5:area", "band:1004:7.5"},
                           {"band:960:20:height", "band:960:20:height"},
                           {"band:0.1:1", "band:0.10000000000000001:1"}};
  cs_norm_opts o;
  cs_error err;
  char buf[64];
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    STATUS_EQ(cs_norm_opts_parse(good[i][0], &o, &err), CS_OK, &err);
    STATUS_EQ(cs_norm_opts_format(&o, buf, sizeof buf, &err), CS_OK, &err);
    assert_string_equal(buf, good[i][1]);
  }
  const char *bad[] = {"", "l2", "band", "band:960", "band:960:0",
                       "band:960:-5", "band:x:5", "band:960:5:peak",
                       "vector:1", "band:960:5:area:1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    STATUS_EQ(cs_norm_opts_parse(bad[i], &o, &err), CS_ERR_ARG, &err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(simple_norms),
      cmocka_unit_test(degenerate_norms),
      cmocka_unit_test(band_norm),
      cmocka_unit_test(opts_round_trip),
  };
  return cmocka_run_group_tests_name("normalise", tests, NULL, NULL);
}
