/* test_spikes.c: cosmic-spike removal.  Spikes are injected into synthetic
 * spectra (so their positions and the clean values are known); narrow real
 * bands (calcite 1086 cm-1, src/bands.md 1A: FWHM ~1-3
 * cm-1 intrinsic) must survive, synthetic and in the RRUFF calcite files. */
#include "testutil.h"

/* Box-Muller normal deviate from a seeded LCG (reproducible). */
static unsigned long lcg = 1;
static double unif(void) {
  lcg = lcg * 6364136223846793005UL + 1442695040888963407UL;
  return ((double)(lcg >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void) {
  return sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif());
}

static double lorentz(double x, double c, double fwhm, double a) {
  double u = (x - c) / (0.5 * fwhm);
  return a / (1 + u * u);
}

/* Tissue-like spectrum at `step` cm-1 per pixel from 700 cm-1: sloped
 * background, HA 960 (FWHM 12), phenylalanine 1004 (FWHM 8), calcite 1086
 * (FWHM 3), shot-like noise. */
static size_t synth(double step, double *x, double *clean, double *y,
                    size_t cap) {
  size_t n = 0;
  for (double v = 700; v <= 1800 && n < cap; v += step, n++) {
    x[n] = v;
    clean[n] = 500 + 0.2 * (v - 700) + lorentz(v, 960, 12, 800) +
               lorentz(v, 1004, 8, 200) + lorentz(v, 1086.3, 3, 1500);
    y[n] = clean[n] + sqrt(clean[n]) * gauss();
  }
  return n;
}

static void injected_spikes_removed_bands_kept(void **state) {
  (void)state;
  const double steps[] = {1.0, 1.4, 2.0 / 1.5};
  for (int s = 0; s < 3; s++) {
    enum { CAP = 1200 };
    double x[CAP], clean[CAP], y[CAP];
    unsigned char where[CAP];
    lcg = 42 + (unsigned long)s;
    size_t n = synth(steps[s], x, clean, y, CAP);
    /* widths 1, 2, 3 pixels, on background, near a band, at an edge */
    struct {
      size_t at, w;
      double amp;
    } sp[] = {{100, 1, 3000}, {400, 2, 900}, {650, 3, 5000}, {n - 2, 1, 800},
              {1, 2, 2000}};
    int nsp = sizeof sp / sizeof sp[0];
    for (int k = 0; k < nsp; k++)
      for (size_t i = 0; i < sp[k].w; i++)
        y[sp[k].at + i] += sp[k].amp * (i == 1 ? 0.6 : 1.0);
    cs_spike_opts o = cs_spike_opts_default();
    size_t removed;
    cs_error err;
    STATUS_EQ(cs_spikes_remove(y, n, &o, where, &removed, &err), CS_OK, &err);
    size_t want = 0;
    for (int k = 0; k < nsp; k++) {
      want += sp[k].w;
      for (size_t i = 0; i < sp[k].w; i++) {
        size_t j = sp[k].at + i;
        if (!where[j])
          fail_msg("step %g: spike pixel %zu (x %g) not removed", steps[s], j,
                   x[j]);
        /* replaced value is back near the clean signal (5 sigma) */
        DBL_NEAR(y[j], clean[j], 5 * sqrt(clean[j]) + 1);
      }
    }
    assert_int_equal(removed, want);
    for (size_t i = 0; i < n; i++)
      if (fabs(x[i] - 1086.3) < 10 || fabs(x[i] - 960) < 20 ||
          fabs(x[i] - 1004) < 15)
        if (where[i])
          fail_msg("step %g: band point x %g replaced", steps[s], x[i]);
  }
}

static void clean_spectra_untouched(void **state) {
  (void)state;
  enum { CAP = 1200 };
  double x[CAP], clean[CAP], y[CAP], y0[CAP];
  /* 1.0-1.5 cm-1 per pixel: calcite FWHM 3 cm-1 spans >= 2 pixels */
  for (unsigned long seed = 1; seed <= 200; seed++) {
    lcg = seed * 7919;
    size_t n = synth(1.0 + 0.05 * (double)(seed % 11), x, clean, y, CAP);
    memcpy(y0, y, n * sizeof *y);
    size_t removed = 99;
    cs_spike_opts o = cs_spike_opts_default();
    assert_int_equal(cs_spikes_remove(y, n, &o, NULL, &removed, NULL), CS_OK);
    assert_int_equal(removed, 0);
    assert_memory_equal(y, y0, n * sizeof *y);
  }
}

/* Minimal reader for RRUFF processed text: "##" header lines, then
 * "x, y" rows. */
static size_t read_rruff(const char *path, double *x, double *y, size_t cap) {
  FILE *f = fopen(path, "r");
  char line[256];
  size_t n = 0;
  assert_non_null(f);
  while (fgets(line, sizeof line, f) && n < cap) {
    if (line[0] == '#')
      continue;
    char *end;
    double a = strtod(line, &end);
    if (end == line || *end != ',')
      continue;
    x[n] = a;
    y[n++] = strtod(end + 1, NULL);
  }
  fclose(f);
  return n;
}

static void rruff_calcite_kept(void **state) {
  (void)state;
  const char *files[] = {
      "minerals/calcite/"
      "Calcite__R040070__Raman__532__0__unoriented__Raman_Data_Processed__15330.txt",
      "minerals/calcite/"
      "Calcite__R040070__Raman__785__0__unoriented__Raman_Data_Processed__15334.txt"};
  for (int k = 0; k < 2; k++) {
    SHARED_OR_SKIP(path, files[k]);
    enum { CAP = 4000 };
    double *x = malloc(CAP * sizeof *x), *y = malloc(CAP * sizeof *y);
    double *y0 = malloc(CAP * sizeof *y0);
    size_t n = read_rruff(path, x, y, CAP);
    assert_true(n > 2000);
    memcpy(y0, y, n * sizeof *y);
    cs_spectrum *s;
    cs_error err;
    STATUS_EQ(cs_spectrum_new(x, y, n, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &s,
                              &err),
              CS_OK, &err);
    size_t removed;
    cs_spike_opts o = cs_spike_opts_default();
    STATUS_EQ(cs_spectrum_remove_spikes(s, &o, &removed, &err), CS_OK, &err);
    const double *ys = cs_spectrum_y(s);
    for (size_t i = 0; i < n; i++) /* calcite 712 and 1086 (bands.md §1) */
      if (fabs(x[i] - 1086) < 12 || fabs(x[i] - 712) < 12)
        if (ys[i] != y0[i])
          fail_msg("%s: band point %g changed", files[k], x[i]);
    assert_non_null(cs_spectrum_meta(s, "spikes_removed"));
    char num[32];
    snprintf(num, sizeof num, "%zu", removed);
    assert_string_equal(cs_spectrum_meta(s, "spikes_removed"), num);
    print_message("%s: %zu points replaced\n", files[k] + 17, removed);
    cs_spectrum_free(s);
    free(x), free(y), free(y0);
  }
}

static void spectrum_metadata(void **state) {
  (void)state;
  double x[40], y[40];
  for (int i = 0; i < 40; i++)
    x[i] = 800 + 2 * i, y[i] = 100 + (i % 3);
  y[17] += 5000;
  cs_spectrum *s;
  cs_error err;
  STATUS_EQ(cs_spectrum_new(x, y, 40, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &s,
                            &err),
            CS_OK, &err);
  size_t removed;
  cs_spike_opts o = cs_spike_opts_default();
  STATUS_EQ(cs_spectrum_remove_spikes(s, &o, &removed, &err), CS_OK, &err);
  assert_int_equal(removed, 1);
  assert_string_equal(cs_spectrum_meta(s, "spikes_removed"), "1");
  assert_string_equal(cs_spectrum_meta(s, "spike_x"), "834");
  /* interpolated from pixels 16 (101) and 18 (100) */
  DBL_NEAR(cs_spectrum_y(s)[17], 100.5, 1e-12);
  cs_spectrum_free(s);
}

static void frames_median(void **state) {
  (void)state;
  enum { M = 5, N = 500 };
  cs_spectrum *fr[M];
  double x[N], clean[N], y[N];
  cs_error err;
  for (int f = 0; f < M; f++) {
    lcg = 100 + (unsigned long)f;
    for (int i = 0; i < N; i++) {
      x[i] = 900 + 0.5 * i;
      clean[i] = 300 + lorentz(x[i], 1086, 2, 3000); /* 4-pixel FWHM */
      y[i] = clean[i] + sqrt(clean[i]) * gauss();
    }
    if (f == 1)
      y[50] += 4000, y[51] += 2000;
    if (f == 3)
      y[372] += 1000; /* right on the calcite band */
    STATUS_EQ(cs_spectrum_new(x, y, N, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &fr[f],
                              &err),
              CS_OK, &err);
  }
  size_t removed;
  cs_spike_opts o = cs_spike_opts_default();
  STATUS_EQ(cs_spikes_remove_frames(fr, M, &o, &removed, &err), CS_OK, &err);
  assert_int_equal(removed, 3);
  assert_string_equal(cs_spectrum_meta(fr[1], "spikes_removed"), "2");
  assert_string_equal(cs_spectrum_meta(fr[1], "spike_x"), "925 925.5");
  assert_string_equal(cs_spectrum_meta(fr[3], "spike_x"), "1086");
  assert_string_equal(cs_spectrum_meta(fr[0], "spikes_removed"), "0");
  DBL_NEAR(cs_spectrum_y(fr[1])[50], 300, 5 * sqrt(300));
  DBL_NEAR(cs_spectrum_y(fr[3])[372], 3300, 5 * sqrt(3300));
  /* too few frames, different lengths */
  STATUS_EQ(cs_spikes_remove_frames(fr, 2, &o, NULL, &err), CS_ERR_ARG, &err);
  cs_spectrum *short_s;
  STATUS_EQ(cs_spectrum_new(x, y, N - 1, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS,
                            &short_s, &err),
            CS_OK, &err);
  cs_spectrum *mix[3] = {fr[0], fr[2], short_s};
  STATUS_EQ(cs_spikes_remove_frames(mix, 3, &o, NULL, &err), CS_ERR_DIM, &err);
  cs_spectrum_free(short_s);
  for (int f = 0; f < M; f++)
    cs_spectrum_free(fr[f]);
}

static void opts(void **state) {
  (void)state;
  cs_spike_opts o;
  cs_error err;
  char buf[64];
  STATUS_EQ(cs_spike_opts_parse("auto", &o, &err), CS_OK, &err);
  STATUS_EQ(cs_spike_opts_format(&o, buf, sizeof buf, &err), CS_OK, &err);
  assert_string_equal(buf, "6:3");
  STATUS_EQ(cs_spike_opts_parse("8.5:2", &o, &err), CS_OK, &err);
  assert_true(o.threshold == 8.5 && o.max_width == 2);
  STATUS_EQ(cs_spike_opts_parse("7", &o, &err), CS_OK, &err);
  assert_true(o.threshold == 7 && o.max_width == 3);
  const char *bad[] = {"", "x", "0", "-3", "6:0", "6:", "6:2:1", "6:2x", "inf"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    STATUS_EQ(cs_spike_opts_parse(bad[i], &o, &err), CS_ERR_ARG, &err);
}

/* Finite counts whose differences overflow (+-1.7e308 alternating:
 * y[k+1] - y[k] is inf, and inf - inf NaN inside) end with a status, as in
 * 0.5; the median's vector path once looped on them. */
static void overflowing_differences_end(void **state) {
  (void)state;
  double y[100];
  for (int i = 0; i < 100; i++)
    y[i] = i % 2 ? 1.7e308 : -1.7e308;
  cs_spike_opts o = cs_spike_opts_default();
  size_t nr = 0;
  cs_status st = cs_spikes_remove(y, 100, &o, NULL, &nr, NULL);
  assert_true(st == CS_OK || st == CS_ERR_NUMERIC);
}

/* A largest-double spike on flat (MAD 0) counts: the fallback scale, a
 * mean absolute step, once summed the two 1.7e308 steps to inf, so every
 * z-score was 0 and the spike stayed. */
static void huge_spike_on_flat_removed(void **state) {
  (void)state;
  double y[200];
  for (int i = 0; i < 200; i++)
    y[i] = 100;
  y[100] = 1.7e308;
  cs_spike_opts o = cs_spike_opts_default();
  size_t nr = 0;
  assert_int_equal(cs_spikes_remove(y, 200, &o, NULL, &nr, NULL), CS_OK);
  assert_int_equal(nr, 1);
  assert_true(y[100] == 100);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(injected_spikes_removed_bands_kept),
      cmocka_unit_test(clean_spectra_untouched),
      cmocka_unit_test(rruff_calcite_kept),
      cmocka_unit_test(overflowing_differences_end),
      cmocka_unit_test(huge_spike_on_flat_removed),
      cmocka_unit_test(spectrum_metadata),
      cmocka_unit_test(frames_median),
      cmocka_unit_test(opts),
  };
  return cmocka_run_group_tests_name("spikes", tests, NULL, NULL);
}
