/* test_qc.c: QC flags, cs_classify_arrays / cs_classify_spectrum, reports.
 * Expected numbers come from how each test spectrum is built (band height,
 * noise sd, baseline level chosen here) or from the simulator's recorded
 * ground truth. */
#include "testutil.h"

#include "internal.h"

#include <jansson.h>
#include <pthread.h>
#include <string.h>

#define N 1101 /* 700..1800 cm^-1 in 1 cm^-1 steps */

/* baseline level + a Gaussian band (height h at 960, sd 4 cm^-1) + white
 * Gaussian noise of sd `noise` (fixed seed). */
static void build(double *x, double *y, double level, double h, double noise,
                  uint64_t seed) {
  csi_rng r;
  csi_rng_seed(&r, seed);
  for (int i = 0; i < N; i++) {
    x[i] = 700 + i;
    double d = (x[i] - 960) / 4;
    y[i] = level + h * exp(-0.5 * d * d) + noise * csi_rng_normal(&r);
  }
}

static cs_spectrum *spec(const double *x, const double *y, size_t n) {
  cs_spectrum *s;
  cs_error err;
  STATUS_EQ(cs_spectrum_new(x, y, n, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &s,
                            &err), CS_OK, &err);
  cs_spectrum_set_technique(s, CS_TECH_RAMAN);
  return s;
}

static void measures_snr_band_and_fluorescence(void **state) {
  (void)state;
  double x[N], y[N];
  build(x, y, 1000, 500, 10, 7); /* SNR 50, baseline / band = 2 */
  cs_spectrum *s = spec(x, y, N);
  cs_qc q;
  cs_error err;
  STATUS_EQ(cs_qc_spectrum(s, 700, 1800, NULL, &q, &err), CS_OK, &err);
  DBL_NEAR(q.noise, 10, 1.5);
  DBL_NEAR(q.snr, 50, 7.5);
  DBL_NEAR(q.band_x, 960, 1.0);
  DBL_NEAR(q.band_height, 500, 30);
  DBL_NEAR(q.fluor_ratio, 2, 0.2);
  DBL_NEAR(q.x_lo, 700, 0);
  DBL_NEAR(q.x_hi, 1800, 0);
  assert_int_equal(q.flags, 0);
  assert_int_equal(q.reacquire, 0);
  cs_spectrum_free(s);
}

static void flags_low_snr_and_fluorescence(void **state) {
  (void)state;
  double x[N], y[N];
  cs_qc q;
  cs_error err;
  build(x, y, 1000, 500, 100, 8); /* SNR 5 < 10 */
  cs_spectrum *s = spec(x, y, N);
  STATUS_EQ(cs_qc_spectrum(s, 700, 1800, NULL, &q, &err), CS_OK, &err);
  assert_true(q.flags & CS_QC_LOW_SNR);
  assert_true(q.reacquire);
  DBL_NEAR(q.snr, 5, 1.5);
  cs_spectrum_free(s);
  build(x, y, 1e6, 500, 10, 9); /* baseline / band = 2000 > 100 */
  s = spec(x, y, N);
  STATUS_EQ(cs_qc_spectrum(s, 700, 1800, NULL, &q, &err), CS_OK, &err);
  assert_true(q.flags & CS_QC_FLUORESCENCE);
  DBL_NEAR(q.fluor_ratio, 2000, 300);
  assert_false(q.flags & CS_QC_LOW_SNR);
  /* a higher threshold clears it; a mask without it clears reacquire */
  cs_qc_opts o = cs_qc_opts_default();
  o.max_fluor_ratio = 5000;
  STATUS_EQ(cs_qc_spectrum(s, 700, 1800, &o, &q, &err), CS_OK, &err);
  assert_int_equal(q.flags, 0);
  o = cs_qc_opts_default();
  o.reacquire_mask = CS_QC_LOW_SNR;
  STATUS_EQ(cs_qc_spectrum(s, 700, 1800, &o, &q, &err), CS_OK, &err);
  assert_true(q.flags & CS_QC_FLUORESCENCE);
  assert_false(q.reacquire);
  cs_spectrum_free(s);
}

static void flags_saturation(void **state) {
  (void)state;
  double x[N], y[N];
  cs_qc q;
  cs_error err;
  build(x, y, 1000, 5000, 10, 10);
  /* clip like a 12-bit ADC at 4095 counts: the band top goes flat */
  size_t clipped = 0;
  for (int i = 0; i < N; i++)
    if (y[i] >= 4095)
      y[i] = 4095, clipped++;
  assert_true(clipped >= 3);
  cs_spectrum *s = spec(x, y, N);
  STATUS_EQ(cs_qc_spectrum(s, 700, 1800, NULL, &q, &err), CS_OK, &err);
  assert_true(q.flags & CS_QC_SATURATED);
  assert_true(q.reacquire);
  assert_int_equal(q.n_saturated, 0); /* detector_max off by default */
  DBL_NEAR(q.max_y, 4095, 0);
  cs_qc_opts o = cs_qc_opts_default();
  o.detector_max = 4095;
  o.flat_run = 0;
  STATUS_EQ(cs_qc_spectrum(s, 700, 1800, &o, &q, &err), CS_OK, &err);
  assert_true(q.flags & CS_QC_SATURATED);
  assert_int_equal(q.n_saturated, clipped);
  cs_spectrum_free(s);
  /* the same band unclipped is not saturated */
  build(x, y, 1000, 5000, 10, 10);
  s = spec(x, y, N);
  STATUS_EQ(cs_qc_spectrum(s, 700, 1800, NULL, &q, &err), CS_OK, &err);
  assert_false(q.flags & CS_QC_SATURATED);
  cs_spectrum_free(s);
}

static void flags_spikes_and_window(void **state) {
  (void)state;
  double x[N], y[N];
  cs_qc q;
  cs_error err;
  build(x, y, 1000, 500, 10, 11);
  y[600] += 5000; /* one-pixel cosmic spike at 1300 cm^-1 */
  cs_spectrum *s = spec(x, y, N);
  STATUS_EQ(cs_qc_spectrum(s, 700, 1800, NULL, &q, &err), CS_OK, &err);
  assert_true(q.flags & CS_QC_SPIKES);
  assert_true(q.spikes >= 1);
  assert_false(q.reacquire); /* spikes alone do not ask for a new one */
  DBL_NEAR(q.band_x, 960, 1.0); /* the spike is not the main band */
  /* window 600..1800 is not covered by 700..1800 */
  STATUS_EQ(cs_qc_spectrum(s, 600, 1800, NULL, &q, &err), CS_OK, &err);
  assert_int_equal(q.flags, CS_QC_OUT_OF_WINDOW);
  assert_true(q.reacquire);
  DBL_NEAR(q.x_lo, 700, 0);
  STATUS_EQ(cs_qc_spectrum(s, 1800, 700, NULL, &q, &err), CS_ERR_ARG, &err);
  cs_spectrum_free(s);
}

static void parses_options(void **state) {
  (void)state;
  cs_qc_opts o = cs_qc_opts_default(), d = o;
  cs_error err;
  assert_true(d.reacquire_mask & CS_QC_SATURATED);
  assert_false(d.reacquire_mask & CS_QC_SPIKES);
  STATUS_EQ(cs_qc_opts_parse("min_snr=20,detector_max=65535,flat_run=4,"
                             "reacquire_mask=low_snr+saturated", &o, &err),
            CS_OK, &err);
  DBL_NEAR(o.min_snr, 20, 0);
  DBL_NEAR(o.detector_max, 65535, 0);
  assert_int_equal(o.flat_run, 4);
  assert_int_equal(o.reacquire_mask, CS_QC_LOW_SNR | CS_QC_SATURATED);
  cs_qc_opts before = o;
  STATUS_EQ(cs_qc_opts_parse("min_snr=5,bogus=1", &o, &err), CS_ERR_ARG, &err);
  assert_non_null(strstr(err.msg, "bogus"));
  STATUS_EQ(cs_qc_opts_parse("reacquire_mask=low_snr+nope", &o, &err),
            CS_ERR_ARG, &err);
  STATUS_EQ(cs_qc_opts_parse("min_snr=abc", &o, &err), CS_ERR_ARG, &err);
  STATUS_EQ(cs_qc_opts_parse("flat_run=1", &o, &err), CS_ERR_ARG, &err);
  assert_memory_equal(&o, &before, sizeof o); /* unchanged on failure */
  STATUS_EQ(cs_qc_opts_parse("reacquire_mask=none", &o, &err), CS_OK, &err);
  assert_int_equal(o.reacquire_mask, 0);
  assert_string_equal(cs_qc_flag_name(CS_QC_NO_MINERAL), "no_mineral");
  assert_null(cs_qc_flag_name(3));
  assert_int_equal(cs_report_size(), sizeof(cs_report));
}

/* One simulated spot (noise fixed by the seed) as arrays. */
static cs_spectrum *simulated(cs_sim_class c, unsigned long long seed,
                              int wavelength) {
  cs_sim_opts o = cs_sim_opts_default(c, CS_TECH_RAMAN);
  o.seed = seed;
  o.wavelength_axis = wavelength;
  o.spike_rate_per_min = 0;
  cs_dataset *ds;
  cs_error err;
  STATUS_EQ(cs_simulate(&o, &ds, &err), CS_OK, &err);
  cs_spectrum *s = cs_dataset_take(ds, 0);
  cs_dataset_free(ds);
  return s;
}

static void classifies_arrays_like_the_model(void **state) {
  (void)state;
  cs_model *m;
  cs_error err;
  STATUS_EQ(cs_model_default(CS_TECH_RAMAN, &m, &err), CS_OK, &err);
  cs_spectrum *s = simulated(CS_SIM_HYDROXYAPATITE, 4242, 0);
  assert_string_equal(cs_spectrum_meta(s, "truth.class"), "hydroxyapatite");
  cs_report rep;
  STATUS_EQ(cs_classify_arrays(m, cs_spectrum_x(s), cs_spectrum_y(s),
                               cs_spectrum_n(s), CS_AXIS_RAMAN_SHIFT, NAN,
                               NULL, &rep, &err), CS_OK, &err);
  assert_true(rep.classified);
  assert_int_equal(rep.technique, CS_TECH_RAMAN);
  assert_string_equal(rep.result.label, "hydroxyapatite");
  assert_false(rep.qc.flags & CS_QC_NO_MINERAL);
  /* the simulator records the SNR it built in (strongest band / noise) */
  double truth = atof(cs_spectrum_meta(s, "truth.snr"));
  DBL_NEAR(rep.qc.snr, truth, 0.3 * truth);
  /* same numbers as cs_model_classify on the spectrum */
  cs_result r;
  STATUS_EQ(cs_model_classify(m, s, &r, &err), CS_OK, &err);
  for (size_t g = 0; g < r.nclass; g++)
    DBL_NEAR(rep.result.posterior[g], r.posterior[g], 0);
  DBL_NEAR(rep.result.t2, r.t2, 0);
  /* JSON carries class and QC */
  char *json;
  STATUS_EQ(cs_report_json(&rep, m, &json, &err), CS_OK, &err);
  assert_non_null(strstr(json, "\"class\":\"hydroxyapatite\""));
  assert_non_null(strstr(json, "\"reacquire\":false"));
  assert_non_null(strstr(json, "\"qc\":{\"flags\":[]"));
  cs_free(json);
  cs_spectrum_free(s);
  /* tissue: no mineral, so re-acquire elsewhere */
  s = simulated(CS_SIM_TISSUE, 4343, 0);
  STATUS_EQ(cs_classify_spectrum(m, s, NULL, &rep, &err), CS_OK, &err);
  assert_true(rep.qc.flags & CS_QC_NO_MINERAL);
  assert_true(rep.qc.reacquire);
  cs_spectrum_free(s);
  cs_model_free(m);
}

static void wavelength_axis_and_errors(void **state) {
  (void)state;
  cs_model *m;
  cs_error err;
  STATUS_EQ(cs_model_default(CS_TECH_RAMAN, &m, &err), CS_OK, &err);
  cs_spectrum *s = simulated(CS_SIM_CALCITE, 77, 1);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  double laser = cs_spectrum_laser_nm(s);
  assert_true(laser > 700);
  const double *x = cs_spectrum_x(s), *y = cs_spectrum_y(s);
  size_t n = cs_spectrum_n(s);
  cs_report rep;
  STATUS_EQ(cs_classify_arrays(m, x, y, n, CS_AXIS_WAVELENGTH_NM, laser, NULL,
                               &rep, &err), CS_OK, &err);
  assert_string_equal(rep.result.label, "calcite");
  STATUS_EQ(cs_classify_arrays(m, x, y, n, CS_AXIS_WAVELENGTH_NM, NAN, NULL,
                               &rep, &err), CS_ERR_ARG, &err);
  assert_non_null(strstr(err.msg, "laser"));
  STATUS_EQ(cs_classify_arrays(m, x, y, 0, CS_AXIS_RAMAN_SHIFT, NAN, NULL,
                               &rep, &err), CS_ERR_ARG, &err);
  STATUS_EQ(cs_classify_arrays(m, x, y, n, CS_AXIS_PIXEL, NAN, NULL, &rep,
                               &err), CS_ERR_ARG, &err);
  double bad[3] = {800, NAN, 900}, yy[3] = {1, 2, 3};
  STATUS_EQ(cs_classify_arrays(m, bad, yy, 3, CS_AXIS_RAMAN_SHIFT, NAN, NULL,
                               &rep, &err), CS_ERR_ARG, &err);
  /* FTIR arrays with the Raman model: a technique error */
  double wx[N], wy[N];
  build(wx, wy, 0.1, 0.5, 0.01, 3);
  STATUS_EQ(cs_classify_arrays(m, wx, wy, N, CS_AXIS_WAVENUMBER, NAN, NULL,
                               &rep, &err), CS_ERR_ARG, &err);
  /* too short for the window: a report, not an error */
  STATUS_EQ(cs_classify_arrays(m, wx, wy, 400, CS_AXIS_RAMAN_SHIFT, NAN, NULL,
                               &rep, &err), CS_OK, &err);
  assert_false(rep.classified);
  assert_string_equal(rep.result.label, "unknown");
  assert_true(rep.qc.flags & CS_QC_OUT_OF_WINDOW);
  assert_true(rep.qc.reacquire);
  assert_non_null(strstr(rep.result.reason, "does not cover"));
  cs_spectrum_free(s);
  cs_model_free(m);
}

/* A constant spectrum is one error, whatever the constant, with either
 * model: through the pipeline 0.3 failed with "design matrix is rank
 * deficient", 65535 (a saturated detector) and FTIR 1e-3 were classified
 * (the latter with no reacquire flag). */
static void flat_spectra_refused(void **state) {
  (void)state;
  const double level[] = {0, 0.3, 7.77, 1e-3, 65535, 1e20};
  for (int ftir = 0; ftir < 2; ftir++) {
    cs_model *m;
    cs_error err;
    STATUS_EQ(cs_model_default(ftir ? CS_TECH_FTIR : CS_TECH_RAMAN, &m, &err),
              CS_OK, &err);
    double x[1001], y[1001];
    for (size_t v = 0; v < sizeof level / sizeof *level; v++) {
      for (size_t i = 0; i < 1001; i++)
        x[i] = ftir ? 400 + 3.6 * (double)i : 350 + 1.5 * (double)i,
        y[i] = level[v];
      cs_report rep;
      STATUS_EQ(cs_classify_arrays(m, x, y, 1001,
                                   ftir ? CS_AXIS_WAVENUMBER : CS_AXIS_RAMAN_SHIFT,
                                   NAN, NULL, &rep, &err), CS_ERR_NUMERIC, &err);
      assert_non_null(strstr(err.msg, "flat spectrum"));
    }
    /* flat in the window only: still flat */
    for (size_t i = 0; i < 1001; i++)
      y[i] = x[i] < 380 ? (double)i : 2.5;
    cs_report rep;
    STATUS_EQ(cs_classify_arrays(m, x, y, 1001,
                                 ftir ? CS_AXIS_WAVENUMBER : CS_AXIS_RAMAN_SHIFT,
                                 NAN, NULL, &rep, &err), CS_ERR_NUMERIC, &err);
    assert_non_null(strstr(err.msg, "flat spectrum (2.5 everywhere"));
    /* QC itself measures it: no band, no noise, SNR 0 */
    for (size_t v = 0; v < sizeof level / sizeof *level; v++) {
      for (size_t i = 0; i < 1001; i++)
        y[i] = level[v];
      cs_spectrum *s;
      STATUS_EQ(cs_spectrum_new(x, y, 1001,
                                ftir ? CS_AXIS_WAVENUMBER : CS_AXIS_RAMAN_SHIFT,
                                CS_Q_COUNTS, &s, &err), CS_OK, &err);
      cs_qc q;
      STATUS_EQ(cs_qc_spectrum(s, 800, 1800, NULL, &q, &err), CS_OK, &err);
      assert_true(q.snr == 0 && q.band_height == 0 && q.noise == 0);
      assert_true(q.flags & CS_QC_LOW_SNR);
      assert_true(q.reacquire);
      cs_spectrum_free(s);
    }
    cs_model_free(m);
  }
}

typedef struct {
  const cs_model *m;
  const cs_spectrum *s;
  cs_report rep;
  cs_status st;
} job;

static void *worker(void *arg) {
  job *j = arg;
  for (int k = 0; k < 20 && !j->st; k++)
    j->st = cs_classify_spectrum(j->m, j->s, NULL, &j->rep, NULL);
  return NULL;
}

static void shared_model_threads(void **state) {
  (void)state;
  cs_model *m;
  cs_error err;
  STATUS_EQ(cs_model_default(CS_TECH_RAMAN, &m, &err), CS_OK, &err);
  cs_spectrum *s[4] = {simulated(CS_SIM_COD, 1, 0),
                       simulated(CS_SIM_HYDROXYAPATITE, 2, 0),
                       simulated(CS_SIM_CALCITE, 3, 0),
                       simulated(CS_SIM_TISSUE, 4, 0)};
  cs_report serial[4];
  for (int i = 0; i < 4; i++)
    STATUS_EQ(cs_classify_spectrum(m, s[i], NULL, &serial[i], &err), CS_OK,
              &err);
  job jobs[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    jobs[i] = (job){m, s[i], {0}, CS_OK};
    assert_int_equal(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(jobs[i].st, CS_OK);
    assert_memory_equal(&jobs[i].rep, &serial[i], sizeof serial[i]);
    cs_spectrum_free(s[i]);
  }
  cs_model_free(m);
}

/* cs_report_json: flags as arrays, null for what was not computed, numbers
 * in their shortest round-trip form (a hand-made report, so the values are
 * known). */
static void report_json_form(void **state) {
  (void)state;
  cs_model *m;
  cs_error err;
  STATUS_EQ(cs_model_default(CS_TECH_RAMAN, &m, &err), CS_OK, &err);
  cs_report rep;
  memset(&rep, 0, sizeof rep);
  rep.classified = 1;
  rep.technique = CS_TECH_RAMAN;
  cs_result *r = &rep.result;
  r->nclass = cs_model_class_count(m);
  snprintf(r->label, sizeof r->label, "calcite");
  snprintf(r->best, sizeof r->best, "calcite");
  r->posterior[0] = 0.1;
  r->posterior[1] = 1.0 / 3;
  r->t2 = 1e-300;
  r->q = 123456789.0;
  r->flags = 1u | 8u; /* t2, disagree */
  rep.qc.flags = CS_QC_LOW_SNR;
  cs_report_source src = {"a \"b\".txt", 2, 5, NULL};
  char *json;
  STATUS_EQ(cs_report_json_source(&rep, m, &src, &json, &err), CS_OK, &err);
  json_error_t je;
  json_t *o = json_loads(json, 0, &je);
  assert_non_null(o);
  assert_string_equal(json_string_value(json_object_get(o, "file")), "a \"b\".txt");
  assert_int_equal(json_integer_value(json_object_get(o, "index")), 2);
  assert_true(json_is_null(json_object_get(o, "core_id")));
  assert_true(json_is_null(json_object_get(o, "composition")));
  assert_non_null(strstr(json, "\"flags\":[\"t2\",\"disagree\"]"));
  assert_non_null(strstr(json, "\"qc\":{\"flags\":[\"low_snr\"]"));
  /* 0.1 needs 1 digit, 1/3 needs 16 and reads back exactly */
  assert_non_null(strstr(json, ":0.1,"));
  assert_non_null(strstr(json, ":123456789,"));
  json_t *post = json_object_get(o, "posterior");
  assert_true(json_real_value(json_object_get(post, cs_model_class_name(m, 1))) == 1.0 / 3);
  assert_true(json_real_value(json_object_get(o, "t2")) == 1e-300);
  json_decref(o);
  cs_free(json);
  /* not classified: nulls, not zeros */
  rep.classified = 0;
  rep.qc.flags = CS_QC_OUT_OF_WINDOW;
  rep.qc.x_lo = 100;
  STATUS_EQ(cs_report_json(&rep, m, &json, &err), CS_OK, &err);
  o = json_loads(json, 0, &je);
  assert_non_null(o);
  assert_true(json_is_false(json_object_get(o, "classified")));
  assert_true(json_is_null(json_object_get(o, "file")));
  const char *nulls[] = {"t2", "q", "t2_limit", "nnls_r2", "best", "window_lo"};
  for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++)
    assert_true(json_is_null(json_object_get(o, nulls[i])));
  post = json_object_get(o, "posterior");
  assert_int_equal(json_object_size(post), cs_model_class_count(m));
  assert_true(json_is_null(json_object_get(post, cs_model_class_name(m, 0))));
  json_t *qc = json_object_get(o, "qc");
  assert_true(json_is_null(json_object_get(qc, "snr")));
  assert_true(json_number_value(json_object_get(qc, "x_lo")) == 100);
  json_decref(o);
  cs_free(json);
  cs_model_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(measures_snr_band_and_fluorescence),
      cmocka_unit_test(flags_low_snr_and_fluorescence),
      cmocka_unit_test(flags_saturation),
      cmocka_unit_test(flags_spikes_and_window),
      cmocka_unit_test(parses_options),
      cmocka_unit_test(classifies_arrays_like_the_model),
      cmocka_unit_test(wavelength_axis_and_errors),
      cmocka_unit_test(flat_spectra_refused),
      cmocka_unit_test(shared_model_threads),
      cmocka_unit_test(report_json_form),
  };
  return cmocka_run_group_tests_name("qc", tests, NULL, NULL);
}
