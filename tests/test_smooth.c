/* test_smooth.c: Savitzky-Golay and Gaussian smoothing through FFTW.
 * Expected values come from the peer's scipy output (../shared/peer),
 * polynomial exactness (a least-squares fit of order k reproduces any
 * polynomial of degree <= k and its derivatives), the classic tabulated
 * Savitzky-Golay coefficients, and a direct-sum Gaussian written here. */
#include "testutil.h"

#include <pthread.h>

#define NPEER 24
#define NPTS 1024

/* Parse a peer CSV: first row label,id,x...; then label,id,y... rows.
 * Returns the number of data rows (<= maxrows) or -1. */
static int read_peer(const char *path, double *x, double (*y)[NPTS],
                     int maxrows) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  static char line[65536];
  int row = -1;
  while (fgets(line, sizeof line, f) && row < maxrows) {
    char *p = line;
    for (int k = 0; k < 2; k++) { /* skip label, id */
      p = strchr(p, ',');
      if (!p)
        break;
      p++;
    }
    if (!p)
      break;
    double *dst = row < 0 ? x : y[row];
    for (int i = 0; i < NPTS; i++) {
      char *end;
      dst[i] = strtod(p, &end);
      if (end == p) {
        fclose(f);
        return -1;
      }
      p = *end == ',' ? end + 1 : end;
    }
    row++;
  }
  fclose(f);
  return row;
}

static double (*peer_in)[NPTS], (*peer_sg)[NPTS];
static double peer_x[NPTS], peer_x2[NPTS];

static cs_smoother *make(const char *spec) {
  cs_smooth_opts o;
  cs_smoother *sm;
  cs_error err;
  STATUS_EQ(cs_smooth_opts_parse(spec, &o, &err), CS_OK, &err);
  STATUS_EQ(cs_smoother_new(&o, &sm, &err), CS_OK, &err);
  return sm;
}

/* scipy.signal.savgol_filter(y, 11, 3) from the peer, printed with 10
 * significant digits, so the comparison is relative at 1e-9. */
static void sg_peer_parity(void **state) {
  (void)state;
  SHARED_OR_SKIP(in, "peer/input.csv");
  peer_in = calloc(NPEER, sizeof *peer_in);
  peer_sg = calloc(NPEER, sizeof *peer_sg);
  assert_int_equal(read_peer(in, peer_x, peer_in, NPEER), NPEER);
  SHARED_OR_SKIP(sg, "peer/savgol_w11_o3.csv");
  assert_int_equal(read_peer(sg, peer_x2, peer_sg, NPEER), NPEER);
  cs_smoother *sm = make("sg:11:3");
  double out[NPTS], worst = 0;
  cs_error err;
  for (int r = 0; r < NPEER; r++) {
    STATUS_EQ(cs_smoother_apply(sm, peer_x, peer_in[r], NPTS, out, &err),
              CS_OK, &err);
    for (int i = 0; i < NPTS; i++) {
      double rel = fabs(out[i] - peer_sg[r][i]) / fabs(peer_sg[r][i]);
      if (rel > worst)
        worst = rel;
    }
  }
  print_message("sg 11/3 vs scipy: worst relative difference %.3g\n", worst);
  assert_true(worst <= 1e-9);
  /* in place gives the same */
  double y[NPTS];
  memcpy(y, peer_in[0], sizeof y);
  STATUS_EQ(cs_smoother_apply(sm, NULL, y, NPTS, y, &err), CS_OK, &err);
  for (int i = 0; i < NPTS; i++)
    DBL_NEAR(y[i], peer_sg[0][i], 1e-9 * fabs(peer_sg[0][i]));
  cs_smoother_free(sm);
}

/* Interior impulse response = the tabulated 5-point quadratic weights
 * (-3, 12, 17, 12, -3)/35 (Savitzky & Golay 1964, table I). */
static void sg_classic_coefficients(void **state) {
  (void)state;
  double y[21] = {0}, out[21];
  y[10] = 1;
  cs_smoother *sm = make("sg:5:2");
  cs_error err;
  STATUS_EQ(cs_smoother_apply(sm, NULL, y, 21, out, &err), CS_OK, &err);
  const double want[5] = {-3 / 35., 12 / 35., 17 / 35., 12 / 35., -3 / 35.};
  for (int j = 0; j < 5; j++)
    DBL_NEAR(out[8 + j], want[j], 1e-14);
  DBL_NEAR(out[5], 0, 1e-14);
  DBL_NEAR(out[15], 0, 1e-14);
  cs_smoother_free(sm);
}

/* A cubic is reproduced exactly by SG of order >= 3, edges included, and so
 * are its first and second derivatives (per x unit, spacing 0.5). */
static void sg_polynomial_exact(void **state) {
  (void)state;
  enum { N = 64 };
  double x[N], y[N], out[N];
  for (int i = 0; i < N; i++) {
    x[i] = 100 + 0.5 * i;
    double t = x[i] - 110;
    y[i] = 2 - 0.5 * t + 0.03 * t * t - 0.002 * t * t * t;
  }
  cs_error err;
  const char *specs[] = {"sg:11:3", "sg:11:3:1", "sg:11:3:2", "sg:7:4:1",
                         "sg:21:5:2"};
  for (int k = 0; k < 5; k++) {
    cs_smoother *sm = make(specs[k]);
    STATUS_EQ(cs_smoother_apply(sm, x, y, N, out, &err), CS_OK, &err);
    for (int i = 0; i < N; i++) {
      double t = x[i] - 110, want;
      int d = k == 0 ? 0 : (k == 1 || k == 3) ? 1 : 2;
      if (d == 0)
        want = y[i];
      else if (d == 1)
        want = -0.5 + 0.06 * t - 0.006 * t * t;
      else
        want = 0.06 - 0.012 * t;
      DBL_NEAR(out[i], want, 1e-9);
    }
    cs_smoother_free(sm);
  }
  /* descending x: the derivative is still per x unit */
  double xr[N], yr[N];
  for (int i = 0; i < N; i++)
    xr[i] = x[N - 1 - i], yr[i] = y[N - 1 - i];
  cs_smoother *sm = make("sg:11:3:1");
  STATUS_EQ(cs_smoother_apply(sm, xr, yr, N, out, &err), CS_OK, &err);
  double t = xr[5] - 110;
  DBL_NEAR(out[5], -0.5 + 0.06 * t - 0.006 * t * t, 1e-9);
  cs_smoother_free(sm);
}

/* Direct-sum reference: scipy.ndimage.gaussian_filter1d's definition
 * (kernel exp(-k^2 / 2 s^2), radius round(4 s), normalised; 'reflect'
 * edges d c b a | a b c d). */
static void gauss_direct(const double *y, size_t n, double sp, double *out) {
  long r = (long)(4 * sp + 0.5);
  double sum = 0;
  for (long k = -r; k <= r; k++)
    sum += exp(-0.5 * (k / sp) * (k / sp));
  for (long i = 0; i < (long)n; i++) {
    double acc = 0;
    for (long k = -r; k <= r; k++) {
      long j = i + k;
      while (j < 0 || j >= (long)n)
        j = j < 0 ? -j - 1 : 2 * (long)n - 1 - j;
      acc += exp(-0.5 * (k / sp) * (k / sp)) / sum * y[j];
    }
    out[i] = acc;
  }
}

static void gauss_matches_direct_sum(void **state) {
  (void)state;
  enum { N = 300 };
  double x[N], y[N], out[N], ref[N];
  srand(7);
  for (int i = 0; i < N; i++) {
    x[i] = 700 + 1.5 * i; /* 1.5 cm-1 per pixel */
    y[i] = 100 * exp(-0.5 * pow((x[i] - 960) / 4, 2)) + rand() % 10;
  }
  cs_smoother *sm = make("gauss:3"); /* 3 cm-1 = 2 pixels */
  cs_error err;
  STATUS_EQ(cs_smoother_apply(sm, x, y, N, out, &err), CS_OK, &err);
  gauss_direct(y, N, 2.0, ref);
  for (int i = 0; i < N; i++)
    DBL_NEAR(out[i], ref[i], 1e-10);
  /* a constant stays constant, edges included */
  for (int i = 0; i < N; i++)
    y[i] = 42;
  STATUS_EQ(cs_smoother_apply(sm, x, y, N, out, &err), CS_OK, &err);
  for (int i = 0; i < N; i++)
    DBL_NEAR(out[i], 42, 1e-11);
  /* a kernel wider than the spectrum is refused */
  STATUS_EQ(cs_smoother_apply(sm, x, y, 5, out, &err), CS_ERR_ARG, &err);
  cs_smoother_free(sm);
}

/* Different lengths reuse or replace cached plans and stay correct. */
static void plan_cache_lengths(void **state) {
  (void)state;
  cs_smoother *sm = make("gauss:1.5");
  cs_error err;
  for (int round = 0; round < 3; round++)
    for (size_t n = 40; n < 400; n += 37) {
      double y[400], out[400], ref[400];
      for (size_t i = 0; i < n; i++)
        y[i] = sin(0.1 * (double)i) + (double)(i % 5);
      STATUS_EQ(cs_smoother_apply(sm, NULL, y, n, out, &err), CS_OK, &err);
      gauss_direct(y, n, 1.5, ref);
      for (size_t i = 0; i < n; i++)
        DBL_NEAR(out[i], ref[i], 1e-10);
    }
  cs_smoother_free(sm);
}

/* Finite data near 1e308 overflows in the weighted sums: an error, not
 * CS_OK with NaN/Inf out (590 of 600 SG and all Gaussian values were). */
static void overflow_is_an_error(void **state) {
  (void)state;
  const char *spec[] = {"sg:11:3", "gauss:2", "sg:11:3:2"};
  double y[200], out[200];
  for (size_t i = 0; i < 200; i++)
    y[i] = i % 2 ? 1.7e308 : -1.7e308;
  for (size_t k = 0; k < 3; k++) {
    cs_smoother *sm = make(spec[k]);
    cs_error err;
    STATUS_EQ(cs_smoother_apply(sm, NULL, y, 200, out, &err), CS_ERR_NUMERIC,
              &err);
    assert_non_null(strstr(err.msg, "not finite"));
    cs_smoother_free(sm);
  }
}

static void opts_parse_format(void **state) {
  (void)state;
  cs_smooth_opts o;
  cs_error err;
  char buf[64];
  const char *good[][2] = {{"sg:11:3", "sg:11:3"},     {"sg:11:3:0", "sg:11:3"},
                           {"sg:9:4:2", "sg:9:4:2"},   {"gauss:2.5", "gauss:2.5"},
                           {"none", "none"},           {"gauss:0.1", "gauss:0.10000000000000001"}};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    STATUS_EQ(cs_smooth_opts_parse(good[i][0], &o, &err), CS_OK, &err);
    STATUS_EQ(cs_smooth_opts_format(&o, buf, sizeof buf, &err), CS_OK, &err);
    assert_string_equal(buf, good[i][1]);
  }
  const char *bad[] = {"sg:10:3", "sg:11:11", "sg:11:3:3", "sg:11", "sg:a:3",
                       "gauss:-1", "gauss:nan", "gauss:", "box:3", "", "sg:11:3:1:1",
                       "sg:5:1:2"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err.msg[0] = 0;
    STATUS_EQ(cs_smooth_opts_parse(bad[i], &o, &err), CS_ERR_ARG, &err);
    assert_true(err.msg[0] != 0);
  }
  STATUS_EQ(cs_smooth_opts_format(&(cs_smooth_opts){CS_SMOOTH_GAUSS, 0, 0, 0, 2},
                                  buf, 4, &err),
            CS_ERR_ARG, &err);
  cs_smoother *sm;
  o = cs_smooth_opts_default(CS_SMOOTH_SG);
  o.window = 8;
  STATUS_EQ(cs_smoother_new(&o, &sm, &err), CS_ERR_ARG, &err);
  assert_null(sm);
  sm = make("sg:11:3");
  double y[5] = {1, 2, 3, 4, 5};
  STATUS_EQ(cs_smoother_apply(sm, NULL, y, 5, y, &err), CS_ERR_DIM, &err);
  cs_smoother_free(sm);
  cs_smoother_free(NULL);
}

/* Several threads, each with its own smoother, over several lengths (so
 * plans are created concurrently): results equal the single-thread ones. */
enum { NTHREADS = 6, NREP = 20 };
static double thr_ref[2][NPEER][NPTS];

typedef struct {
  int fail;
} thr_arg;

static void *thr_main(void *p) {
  thr_arg *a = p;
  cs_smoother *sg = make("sg:15:4"), *ga = make("gauss:4");
  double out[NPTS];
  for (int rep = 0; rep < NREP; rep++)
    for (int r = 0; r < NPEER; r++) {
      size_t n = NPTS - (size_t)(rep % 4) * 100; /* 4 lengths */
      for (int k = 0; k < 2; k++) {
        cs_smoother *sm = k ? ga : sg;
        if (cs_smoother_apply(sm, peer_x, peer_in[r], n, out, NULL)) {
          a->fail++;
          continue;
        }
        if (n == NPTS)
          for (size_t i = 0; i < n; i++)
            if (out[i] != thr_ref[k][r][i])
              a->fail++;
      }
    }
  cs_smoother_free(sg);
  cs_smoother_free(ga);
  return NULL;
}

static void threads_match_single(void **state) {
  (void)state;
  if (!peer_in || peer_in[0][0] == 0.0) {
    skip();
    return;
  }
  cs_smoother *sg = make("sg:15:4"), *ga = make("gauss:4");
  for (int r = 0; r < NPEER; r++) {
    assert_int_equal(cs_smoother_apply(sg, peer_x, peer_in[r], NPTS, thr_ref[0][r], NULL), CS_OK);
    assert_int_equal(cs_smoother_apply(ga, peer_x, peer_in[r], NPTS, thr_ref[1][r], NULL), CS_OK);
  }
  cs_smoother_free(sg);
  cs_smoother_free(ga);
  pthread_t th[NTHREADS];
  thr_arg args[NTHREADS] = {{0}};
  for (int i = 0; i < NTHREADS; i++)
    assert_int_equal(pthread_create(&th[i], NULL, thr_main, &args[i]), 0);
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(args[i].fail, 0);
  }
}

static int teardown(void **state) {
  (void)state;
  free(peer_in);
  free(peer_sg);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sg_peer_parity),
      cmocka_unit_test(sg_classic_coefficients),
      cmocka_unit_test(sg_polynomial_exact),
      cmocka_unit_test(gauss_matches_direct_sum),
      cmocka_unit_test(plan_cache_lengths),
      cmocka_unit_test(opts_parse_format),
      cmocka_unit_test(overflow_is_an_error),
      cmocka_unit_test(threads_match_single),
  };
  return cmocka_run_group_tests_name("smooth", tests, NULL, teardown);
}
