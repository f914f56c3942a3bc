/* test_pipeline.c: the preprocessing chain: canonical text round trip,
 * strict parsing, and results checked by hand on inputs whose answer is
 * known (a straight line survives Savitzky-Golay and linear resampling
 * exactly). */
#include "testutil.h"

#include <locale.h>

static const char *canon =
    "crop 700:1800\n"
    "spikes 6:3\n"
    "baseline arpls:lam=100000,diff_order=2,max_iter=50,tol=0.001\n"
    "smooth sg:11:3\n"
    "normalise band:960:20\n"
    "resample 700:1800:0.5\n";

static void text_round_trip(void **state) {
  (void)state;
  cs_pipeline *p, *q;
  cs_error err;
  char *t1, *t2;
  STATUS_EQ(cs_pipeline_parse(canon, &p, &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_format(p, &t1, &err), CS_OK, &err);
  /* the baseline line is whatever the baseline API calls canonical; every
   * other line must come back verbatim */
  assert_non_null(strstr(t1, "crop 700:1800\nspikes 6:3\nbaseline arpls:"));
  assert_non_null(strstr(t1, "\nsmooth sg:11:3\nnormalise band:960:20\n"
                             "resample 700:1800:0.5\n"));
  STATUS_EQ(cs_pipeline_parse(t1, &q, &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_format(q, &t2, &err), CS_OK, &err);
  assert_string_equal(t1, t2);
  free(t1), free(t2);
  cs_pipeline_free(p);
  cs_pipeline_free(q);
  /* %.17g keeps every bit; cubic axis form */
  STATUS_EQ(cs_pipeline_new(&p, &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_set_crop(p, 0.1, 1.0 / 3, &err), CS_OK, &err);
  double ax[] = {0.1, 0.2, 0.30000000000000004};
  STATUS_EQ(cs_pipeline_set_axis(p, ax, 3, CS_INTERP_CUBIC, &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_format(p, &t1, &err), CS_OK, &err);
  assert_string_equal(t1, "crop 0.10000000000000001:0.33333333333333331\n"
                          "resample axis:0.10000000000000001,0.20000000000000001,"
                          "0.30000000000000004:cubic\n");
  STATUS_EQ(cs_pipeline_parse(t1, &q, &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_format(q, &t2, &err), CS_OK, &err);
  assert_string_equal(t1, t2);
  free(t1), free(t2);
  cs_pipeline_free(q);
  /* empty */
  cs_pipeline_clear(p);
  STATUS_EQ(cs_pipeline_format(p, &t1, &err), CS_OK, &err);
  assert_string_equal(t1, "");
  free(t1);
  cs_pipeline_free(p);
  cs_pipeline_free(NULL);
}

static void parse_errors(void **state) {
  (void)state;
  const char *bad[] = {
      "smooth sg:11:3\ncrop 700:1800\n", /* out of order */
      "crop 700:1800\ncrop 700:1800\n",  /* repeated */
      "frobnicate 1\n",                  /* unknown step */
      "crop\n",                          /* no spec */
      "crop 1800:700\n",                 /* A > B */
      "smooth sg:10:3\n",                /* even window */
      "normalise l2\n",
      "resample 700:1800\n",
      "resample axis:1,1\n", /* not ascending */
      "resample axis:1,x\n",
      "spikes off\n",
      "baseline nosuch\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    cs_pipeline *p = (cs_pipeline *)1;
    cs_error err;
    err.msg[0] = 0;
    STATUS_EQ(cs_pipeline_parse(bad[i], &p, &err), CS_ERR_ARG, &err);
    assert_null(p);
    assert_non_null(strstr(err.msg, "line"));
  }
}

/* y = 2 + 0.01 x on 600..1900 (step 1).  crop 700:1800 (keeps 699 and 1801
 * because a resample follows), sg:11:3 (exact on a line), max norm (divide
 * by y(1801) = 20.01), resample 700:1800:0.5 (linear interpolation is exact
 * on a line): y_out(x) = (2 + 0.01 x) / 20.01. */
static void apply_by_hand(void **state) {
  (void)state;
  enum { N = 1301 };
  double x[N], y[N];
  for (int i = 0; i < N; i++)
    x[i] = 600 + i, y[i] = 2 + 0.01 * x[i];
  cs_spectrum *in, *out;
  cs_error err;
  STATUS_EQ(cs_spectrum_new(x, y, N, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &in,
                            &err),
            CS_OK, &err);
  cs_pipeline *p;
  STATUS_EQ(cs_pipeline_parse("crop 700:1800\nsmooth sg:11:3\nnormalise max\n"
                              "resample 700:1800:0.5\n",
                              &p, &err),
            CS_OK, &err);
  assert_int_equal(cs_pipeline_max_points(p, in), N + 900);
  double *base = malloc(cs_pipeline_max_points(p, in) * sizeof *base);
  STATUS_EQ(cs_pipeline_apply(p, in, &out, base, &err), CS_OK, &err);
  assert_int_equal(cs_spectrum_n(out), 2201);
  const double *ox = cs_spectrum_x(out), *oy = cs_spectrum_y(out);
  for (size_t j = 0; j < 2201; j++) {
    DBL_NEAR(ox[j], 700 + 0.5 * (double)j, 1e-12);
    DBL_NEAR(oy[j], (2 + 0.01 * ox[j]) / 20.01, 1e-12);
    DBL_NEAR(base[j], 0, 0);
  }
  assert_int_equal(cs_spectrum_quantity(out), CS_Q_ARBITRARY);
  assert_string_equal(cs_spectrum_meta(out, "preprocessing"),
                      "crop 700:1800; smooth sg:11:3; normalise max; "
                      "resample 700:1800:0.5");
  cs_spectrum_free(out);
  /* the input is not changed */
  assert_int_equal(cs_spectrum_n(in), N);
  assert_true(cs_spectrum_y(in)[0] == y[0]);
  free(base);
  cs_pipeline_free(p);
  cs_spectrum_free(in);
}

/* corrected + baseline = input, for any baseline algorithm; and the parsed
 * copy of a pipeline gives bit-identical output (same processing at
 * classification time). */
static void baseline_out_and_identity(void **state) {
  (void)state;
  enum { N = 800 };
  double x[N], y[N];
  for (int i = 0; i < N; i++) {
    x[i] = 600 + 1.5 * i;
    double u = (x[i] - 960) / 6;
    y[i] = 1000 * exp(-x[i] / 900) + 300 / (1 + u * u) + (i * 7919 % 13);
  }
  cs_spectrum *in, *o1, *o2;
  cs_error err;
  STATUS_EQ(cs_spectrum_new(x, y, N, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &in,
                            &err),
            CS_OK, &err);
  cs_pipeline *p, *q;
  STATUS_EQ(cs_pipeline_new(&p, &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_set_step(p, "baseline", "arpls:lam=1e5", &err), CS_OK,
            &err);
  double base[N];
  STATUS_EQ(cs_pipeline_apply(p, in, &o1, base, &err), CS_OK, &err);
  for (int i = 0; i < N; i++)
    DBL_NEAR(cs_spectrum_y(o1)[i] + base[i], y[i], 1e-9 * fabs(y[i]));
  cs_spectrum_free(o1);
  STATUS_EQ(cs_pipeline_set_step(p, "smooth", "gauss:3", &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_set_step(p, "normalise", "band:960:25", &err), CS_OK,
            &err);
  STATUS_EQ(cs_pipeline_set_step(p, "spikes", "auto", &err), CS_OK, &err);
  char *t;
  STATUS_EQ(cs_pipeline_format(p, &t, &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_parse(t, &q, &err), CS_OK, &err);
  free(t);
  STATUS_EQ(cs_pipeline_apply(p, in, &o1, NULL, &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_apply(q, in, &o2, NULL, &err), CS_OK, &err);
  assert_int_equal(cs_spectrum_n(o1), cs_spectrum_n(o2));
  assert_memory_equal(cs_spectrum_y(o1), cs_spectrum_y(o2), N * sizeof(double));
  assert_string_equal(cs_spectrum_meta(o1, "spikes_removed"), "0");
  cs_spectrum_free(o1);
  cs_spectrum_free(o2);
  /* removing a step */
  STATUS_EQ(cs_pipeline_set_step(p, "normalise", "off", &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_format(p, &t, &err), CS_OK, &err);
  assert_null(strstr(t, "normalise"));
  free(t);
  cs_pipeline_free(p);
  cs_pipeline_free(q);
  cs_spectrum_free(in);
}

/* nm -> Raman shift and %T -> absorbance happen first: shift = 1e7/785 -
 * 1e7/lambda; A = 2 - log10(T). */
static void automatic_conversions(void **state) {
  (void)state;
  double nm[] = {800, 810, 820, 830}, t[] = {50, 10, 100, 1};
  cs_spectrum *in, *out;
  cs_error err;
  cs_pipeline *p;
  STATUS_EQ(cs_pipeline_new(&p, &err), CS_OK, &err);
  STATUS_EQ(cs_spectrum_new(nm, t, 4, CS_AXIS_WAVELENGTH_NM,
                            CS_Q_TRANSMITTANCE_PCT, &in, &err),
            CS_OK, &err);
  STATUS_EQ(cs_pipeline_apply(p, in, &out, NULL, &err), CS_ERR_ARG, &err);
  assert_null(out);
  cs_spectrum_set_laser_nm(in, 785);
  STATUS_EQ(cs_pipeline_apply(p, in, &out, NULL, &err), CS_OK, &err);
  assert_int_equal(cs_spectrum_axis(out), CS_AXIS_RAMAN_SHIFT);
  DBL_NEAR(cs_spectrum_x(out)[1], 1e7 / 785 - 1e7 / 810, 1e-9);
  DBL_NEAR(cs_spectrum_y(out)[1], 2 - log10(10.0), 1e-12);
  DBL_NEAR(cs_spectrum_y(out)[3], 2 - log10(1.0), 1e-12);
  assert_null(cs_spectrum_meta(out, "preprocessing"));
  cs_spectrum_free(out);
  cs_spectrum_free(in);
  cs_pipeline_free(p);
}

static void apply_errors(void **state) {
  (void)state;
  double x[50], y[50];
  for (int i = 0; i < 50; i++)
    x[i] = 900 + i, y[i] = 5;
  cs_spectrum *in, *out;
  cs_error err;
  STATUS_EQ(cs_spectrum_new(x, y, 50, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &in,
                            &err),
            CS_OK, &err);
  cs_pipeline *p;
  STATUS_EQ(cs_pipeline_parse("normalise band:930:10\n", &p, &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_apply(p, in, &out, NULL, &err), CS_ERR_NUMERIC, &err);
  assert_null(out);
  assert_non_null(strstr(err.msg, "normalise: "));
  cs_pipeline_free(p);
  STATUS_EQ(cs_pipeline_parse("crop 500:800\n", &p, &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_apply(p, in, &out, NULL, &err), CS_ERR_RANGE, &err);
  cs_pipeline_free(p);
  STATUS_EQ(cs_pipeline_parse("resample 800:1000:1\n", &p, &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_apply(p, in, &out, NULL, &err), CS_ERR_RANGE, &err);
  cs_pipeline_free(p);
  STATUS_EQ(cs_pipeline_parse("smooth sg:51:3\n", &p, &err), CS_OK, &err);
  STATUS_EQ(cs_pipeline_apply(p, in, &out, NULL, &err), CS_ERR_DIM, &err);
  cs_pipeline_free(p);
  cs_spectrum_free(in);
}

/* cs_pipeline_apply_batch gives each spectrum what cs_pipeline_apply
 * gives it (baselines within 1e-9: they share vector lanes), with its own
 * status and message; spectra of another length after cropping form their
 * own batch. */
static void apply_batch(void **state) {
  (void)state;
  enum { N = 900, K = 11 };
  cs_spectrum *in[K], *out[K];
  double *base[K];
  cs_status st[K];
  cs_error errs[K], err;
  unsigned long long seed = 7;
  for (int k = 0; k < K; k++) {
    double x[N], y[N];
    size_t n = k == 3 ? N - 100 : N; /* another length */
    double x0 = k == 7 ? 2000 : 600; /* outside the crop window: fails */
    for (size_t i = 0; i < n; i++) {
      x[i] = x0 + 1.3 * (double)i;
      double u = (x[i] - 960 - k) / (5 + k % 3);
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      double noise = (double)(seed >> 11) * 0x1.0p-53 - 0.5;
      y[i] = (800 + 90 * k) * exp(-x[i] / (700 + 40 * k)) +
             (150 + 20 * k) / (1 + u * u) + (1 + k % 4) * noise;
    }
    STATUS_EQ(cs_spectrum_new(x, y, n, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS,
                              &in[k], &err),
              CS_OK, &err);
    base[k] = k == 5 ? NULL : malloc(N * sizeof *base[k]);
  }
  cs_pipeline *p;
  STATUS_EQ(cs_pipeline_parse("crop 650:1600\nspikes auto\n"
                              "baseline arpls:lam=1e5\nsmooth gauss:3\n"
                              "normalise vector\n",
                              &p, &err),
            CS_OK, &err);
  assert_int_equal(cs_pipeline_apply_batch(p, (const cs_spectrum *const *)in,
                                           K, out, base, st, errs),
                   CS_ERR_RANGE);
  for (int k = 0; k < K; k++) {
    cs_spectrum *one;
    double b1[N];
    cs_status s1 = cs_pipeline_apply(p, in[k], &one, b1, &err);
    assert_int_equal(st[k], s1);
    if (s1) {
      assert_null(out[k]);
      assert_string_equal(errs[k].msg, err.msg);
      continue;
    }
    size_t n = cs_spectrum_n(one);
    assert_int_equal(cs_spectrum_n(out[k]), n);
    double ymax = 0, dy = 0, bmax = 0, db = 0;
    for (size_t i = 0; i < n; i++) {
      ymax = fmax(ymax, fabs(cs_spectrum_y(one)[i]));
      dy = fmax(dy, fabs(cs_spectrum_y(out[k])[i] - cs_spectrum_y(one)[i]));
      bmax = fmax(bmax, fabs(b1[i]));
      if (base[k])
        db = fmax(db, fabs(base[k][i] - b1[i]));
    }
    assert_true(dy <= 1e-9 * ymax);
    assert_true(db <= 1e-9 * bmax);
    assert_string_equal(cs_spectrum_meta(out[k], "preprocessing"),
                        cs_spectrum_meta(one, "preprocessing"));
    cs_spectrum_free(one);
    cs_spectrum_free(out[k]);
  }
  assert_int_equal(st[7], CS_ERR_RANGE);
  assert_int_equal(st[3], CS_OK);
  for (int k = 0; k < K; k++)
    cs_spectrum_free(in[k]), free(base[k]);
  cs_pipeline_free(p);
}

/* A decimal-comma numeric locale (de_DE), compiled into the test's own
 * directory with localedef; NULL when the system has no locale sources. */
static const char *comma_locale(void) {
  static char dir[300];
  snprintf(dir, sizeof dir, "%s", test_tmpdir());
  char cmd[700];
  snprintf(cmd, sizeof cmd,
           "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", dir);
  if (system(cmd) != 0)
    return NULL;
  setenv("LOCPATH", dir, 1);
  return setlocale(LC_NUMERIC, "de_DE.UTF-8");
}

/* The canonical text must print '.' whatever the caller's LC_NUMERIC, or
 * a model written under a German locale could not be read back. */
static void text_in_comma_locale(void **state) {
  (void)state;
  if (!comma_locale()) {
    print_message("skip: no de_DE locale can be built here\n");
    skip();
  }
  char probe[16];
  snprintf(probe, sizeof probe, "%.1f", 2.5);
  assert_string_equal(probe, "2,5"); /* the locale is really in force */
  const char *text = "crop 700.5:1800\nspikes 6.5:3\n"
                     "baseline asls:lam=1000000,p=0.015\n"
                     "smooth gauss:2.5\nnormalise band:960.5:20\n"
                     "resample 700.5:1799.5:0.5\n";
  cs_pipeline *p, *q;
  cs_error err;
  STATUS_EQ(cs_pipeline_parse(text, &p, &err), CS_OK, &err);
  char *out;
  STATUS_EQ(cs_pipeline_format(p, &out, &err), CS_OK, &err);
  setlocale(LC_NUMERIC, "C");
  /* (',' separates baseline options, so look at each number) */
  assert_non_null(strstr(out, "crop 700.5:1800"));
  assert_non_null(strstr(out, "spikes 6.5:3"));
  assert_non_null(strstr(out, "gauss:2.5"));
  assert_non_null(strstr(out, "band:960.5:20"));
  assert_non_null(strstr(out, "p=0.014999999999999999"));
  STATUS_EQ(cs_pipeline_parse(out, &q, &err), CS_OK, &err);
  char *again;
  STATUS_EQ(cs_pipeline_format(q, &again, &err), CS_OK, &err);
  assert_string_equal(out, again);
  free(out);
  free(again);
  cs_pipeline_free(p);
  cs_pipeline_free(q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(text_round_trip),
      cmocka_unit_test(parse_errors),
      cmocka_unit_test(apply_by_hand),
      cmocka_unit_test(baseline_out_and_identity),
      cmocka_unit_test(automatic_conversions),
      cmocka_unit_test(apply_errors),
      cmocka_unit_test(apply_batch),
      cmocka_unit_test(text_in_comma_locale),
  };
  return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
