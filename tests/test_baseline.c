/* test_baseline.c: baseline estimation.  Parity with pybaselines 1.2.1 on
 * the peer golden files (../shared/peer), synthetic spectra with a known
 * baseline, option parsing/formatting, bad input. */
#include "testutil.h"

#include "internal.h"

#include <float.h>
#include <pthread.h>

/* ---- the peer CSV layout: "label,id,v1,...,vN" per line ---- */

typedef struct table {
  size_t rows, cols;
  double *v; /* rows x cols, row 0 = x when read from input.csv */
} table;

static int read_table(const char *path, table *t) {
  char *buf;
  size_t len;
  cs_error err;
  if (csi_read_file(path, CSI_MAX_FILE_BYTES, &buf, &len, &err) != CS_OK)
    return -1;
  csi_dvec d = {0};
  size_t rows = 0, cols = 0, c = 0;
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
    char *p = strchr(line, ','); /* skip label and id */
    p = p ? strchr(p + 1, ',') : NULL;
    c = 0;
    while (p && *p == ',') {
      char *end;
      double v = csi_strtod(p + 1, &end);
      if (end == p + 1)
        break;
      csi_dvec_push(&d, v);
      c++;
      p = end;
    }
    if (rows && c != cols)
      fail_msg("%s: row %zu has %zu values, want %zu", path, rows, c, cols);
    cols = c;
    rows++;
  }
  free(buf);
  t->rows = rows;
  t->cols = cols;
  t->v = d.v;
  return rows > 1 && cols > 0 ? 0 : -1;
}

typedef struct golden {
  const char *file, *spec;
} golden;

/* Peer calls from ../shared/peer/README.md; every other option is the
 * pybaselines default. */
static const golden goldens[] = {
    {"peer/asls_lam1e6_p0.01.csv", "asls:lam=1e6,p=0.01"},
    {"peer/arpls_lam1e5.csv", "arpls:lam=1e5"},
    {"peer/airpls_lam1e6.csv", "airpls:lam=1e6"},
    {"peer/modpoly_order5.csv", "modpoly:poly_order=5"},
    {"peer/imodpoly_order5.csv", "imodpoly:poly_order=5"},
    {"peer/snip_hw40.csv", "snip:max_half_window=40"},
};

/* Max over spectra of max|ours - peer| / max|peer|. */
static double parity(const table *in, const table *gold, const char *spec,
                     int lapack) {
  cs_baseline_opts o;
  cs_error err, *e = &err;
  STATUS_EQ(cs_baseline_opts_parse(spec, &o, e), CS_OK, e);
  size_t n = in->cols;
  double *z = malloc(n * sizeof *z), worst = 0;
  assert_non_null(z);
  const double *x = in->v;
  /* lapack 2: all spectra through the batch entry point at once */
  double *zb = NULL;
  if (lapack == 2) {
    zb = malloc((in->rows - 1) * n * sizeof *zb);
    assert_non_null(zb);
    STATUS_EQ(cs_baseline_fit_batch(x, in->v + n, n, in->rows - 1, &o, zb, e),
              CS_OK, e);
  }
  for (size_t r = 1; r < in->rows; r++) {
    const double *y = in->v + r * n, *g = gold->v + r * n;
    if (zb)
      memcpy(z, zb + (r - 1) * n, n * sizeof *z);
    else
      STATUS_EQ(csi_baseline_fit_solver(x, y, n, &o, z, lapack, e), CS_OK, e);
    double dmax = 0, gmax = 0;
    for (size_t i = 0; i < n; i++) {
      dmax = fmax(dmax, fabs(z[i] - g[i]));
      gmax = fmax(gmax, fabs(g[i]));
    }
    worst = fmax(worst, dmax / gmax);
  }
  free(z);
  free(zb);
  return worst;
}

static void peer_parity(void **state) {
  (void)state;
  SHARED_OR_SKIP(inpath, "peer/input.csv");
  table in;
  assert_int_equal(read_table(inpath, &in), 0);
  assert_int_equal(in.cols, 1024); /* README: 1024 x values */
  assert_int_equal(in.rows, 25);   /* x row + 24 spectra */
  for (size_t k = 0; k < sizeof goldens / sizeof goldens[0]; k++) {
    const char *gp = shared_path(goldens[k].file);
    assert_non_null(gp);
    table g;
    assert_int_equal(read_table(gp, &g), 0);
    assert_int_equal(g.cols, in.cols);
    assert_int_equal(g.rows, in.rows); /* same x header row */
    double e = parity(&in, &g, goldens[k].spec, 0);
    print_message("parity %-26s rel err %.3g\n", goldens[k].spec, e);
    if (!(e <= 1e-6))
      fail_msg("%s: relative error %.3g > 1e-6", goldens[k].spec, e);
    if (strncmp(goldens[k].spec, "a", 1) == 0) { /* Whittaker: LAPACK too */
      double el = parity(&in, &g, goldens[k].spec, 1);
      print_message("parity %-26s rel err %.3g (dpbtrf/dpbtrs)\n",
                    goldens[k].spec, el);
      if (!(el <= 1e-6))
        fail_msg("%s (lapack): relative error %.3g > 1e-6", goldens[k].spec,
                 el);
      /* and through the batch path, on every lane kernel this CPU runs */
      for (csi_simd p = CSI_SIMD_PORTABLE; p <= CSI_SIMD_AVX512; p++) {
        if (!csi_baseline_simd_lanes(p))
          continue;
        csi_baseline_simd_force = p;
        double eb = parity(&in, &g, goldens[k].spec, 2);
        csi_baseline_simd_force = CSI_SIMD_AUTO;
        print_message("parity %-26s rel err %.3g (batch, %d lanes)\n",
                      goldens[k].spec, eb, csi_baseline_simd_lanes(p));
        if (!(eb <= 1e-6))
          fail_msg("%s (batch, %d lanes): relative error %.3g > 1e-6",
                   goldens[k].spec, csi_baseline_simd_lanes(p), eb);
      }
    }
    free(g.v);
  }
  free(in.v);
}


/* ---- synthetic spectra with a known baseline ---- */

#define NS 1024

/* Seeded normal noise (xorshift64* + Box-Muller), the same on every run. */
static double noise(unsigned long long *s) {
  double u[2];
  for (int k = 0; k < 2; k++) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    u[k] = ((double)((*s * 2685821657736338717ULL) >> 11) + 0.5) * 0x1.0p-53;
  }
  return sqrt(-2 * log(u[0])) * cos(6.283185307179586 * u[1]);
}

/* Convex quadratic baseline on 400..1800 cm-1 plus three Lorentzian bands
 * (heights 200, 80, 60; half widths 5, 6, 8 cm-1) and noise of sd 1. */
static void synth(double *x, double *y, double *truth) {
  unsigned long long seed = 20240611;
  for (size_t i = 0; i < NS; i++) {
    x[i] = 400 + 1400.0 * (double)i / (NS - 1);
    double t = (x[i] - 1100) / 700;
    truth[i] = 100 + 50 * t + 30 * t * t;
    double d1 = (x[i] - 960) / 5, d2 = (x[i] - 1070) / 6,
           d3 = (x[i] - 1450) / 8;
    y[i] = truth[i] + 200 / (1 + d1 * d1) + 80 / (1 + d2 * d2) +
           60 / (1 + d3 * d3) + noise(&seed);
  }
}

static void known_baseline(void **state) {
  (void)state;
  static double x[NS], y[NS], truth[NS], z[NS];
  synth(x, y, truth);
  /* Tolerance: max |baseline - truth| within 3% of the tallest band (200),
   * i.e. 6 counts or 6 noise sd, for every method (pybaselines defaults;
   * poly_order 2 for the quadratic, SNIP half window ~ band width). */
  static const char *const specs[] = {
      "asls:lam=1e6,p=0.01",  "arpls:lam=1e5",        "airpls:lam=1e6",
      "modpoly:poly_order=2", "imodpoly:poly_order=2", "snip:max_half_window=40",
  };
  cs_error err, *e = &err;
  for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
    cs_baseline_opts o;
    STATUS_EQ(cs_baseline_opts_parse(specs[k], &o, e), CS_OK, e);
    STATUS_EQ(cs_baseline_fit(x, y, NS, &o, z, e), CS_OK, e);
    double worst = 0;
    for (size_t i = 0; i < NS; i++)
      worst = fmax(worst, fabs(z[i] - truth[i]));
    print_message("synthetic %-24s max |baseline - truth| = %.3g\n", specs[k],
                  worst);
    if (!(worst <= 6.0))
      fail_msg("%s: baseline off by %g (> 6)", specs[k], worst);
  }
}

/* Data on the baseline model itself comes back unchanged: a line for the
 * second-order Whittaker penalty (D2 of a line is 0) and SNIP (the mean of
 * two neighbours of a line lies on it; the pads extend it exactly), a
 * quadratic for diff_order 3, a constant for 1, a quintic for poly_order 5. */
static void exact_models(void **state) {
  (void)state;
  static double x[NS], y[NS], z[NS];
  cs_error err, *e = &err;
  for (size_t i = 0; i < NS; i++)
    x[i] = 400 + 1400.0 * (double)i / (NS - 1);
  struct {
    const char *spec;
    int degree;
  } cases[] = {
      {"asls", 1},          {"arpls", 1},          {"airpls", 1},
      {"asls:diff_order=3,lam=1e3", 2}, {"arpls:diff_order=1", 0},
      {"modpoly:poly_order=5", 5}, {"imodpoly:poly_order=5", 5},
      {"snip:max_half_window=40", 1}, {"snip:max_half_window=20,filter_order=8", 1},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    for (size_t i = 0; i < NS; i++) {
      double t = (double)i / (NS - 1), v = 50;
      for (int d = 1; d <= cases[k].degree; d++)
        v += 10.0 / d * pow(t - 0.3, d);
      y[i] = v;
    }
    cs_baseline_opts o;
    STATUS_EQ(cs_baseline_opts_parse(cases[k].spec, &o, e), CS_OK, e);
    for (int lapack = 0; lapack < 2; lapack++) {
      STATUS_EQ(csi_baseline_fit_solver(x, y, NS, &o, z, lapack, e), CS_OK, e);
      for (size_t i = 0; i < NS; i++)
        if (!(fabs(z[i] - y[i]) <= 1e-7 * 50))
          fail_msg("%s: z[%zu] = %.17g, want %.17g", cases[k].spec, i, z[i],
                   y[i]);
    }
  }
}

/* The hand-written band solvers against dpbtrf/dpbtrs and a known solution:
 * A = tridiag/pentadiag SPD, x = 1..n, b = A x computed here densely. */
static void band_solvers(void **state) {
  (void)state;
  for (int kd = 1; kd <= 3; kd++) {
    enum { N = 9 };
    double A[N][N] = {{0}}, b[N], ab1[N * 4], ab2[N * 4], b1[N], b2[N];
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++)
        if (abs(i - j) <= kd)
          A[i][j] = i == j ? 10.0 + i : 1.0 / (1 + abs(i - j)) - 0.05 * (i + j);
    for (int i = 0; i < N; i++) {
      b[i] = 0;
      for (int j = 0; j < N; j++)
        b[i] += A[i][j] * (j + 1);
    }
    size_t ld = (size_t)kd + 1;
    for (size_t j = 0; j < N; j++)
      for (size_t s = 0; s < ld; s++)
        ab1[s + j * ld] = ab2[s + j * ld] = j + s < N ? A[j + s][j] : 0;
    memcpy(b1, b, sizeof b);
    memcpy(b2, b, sizeof b);
    cs_error err, *e = &err;
    STATUS_EQ(csi_pb_solve(N, kd, ab1, b1, e), CS_OK, e);
    STATUS_EQ(csi_pb_solve_small(N, kd, ab2, b2, e), CS_OK, e);
    for (int i = 0; i < N; i++) {
      DBL_NEAR(b1[i], i + 1, 1e-12);
      DBL_NEAR(b2[i], i + 1, 1e-12);
    }
  }
  /* not positive definite */
  double ab[6] = {1, 2, 0, 1, 0, 0}, bb[3] = {1, 1, 1};
  cs_error err, *e = &err;
  STATUS_EQ(csi_pb_solve_small(3, 1, ab, bb, e), CS_ERR_NUMERIC, e);
  double ab3[6] = {1, 2, 0, 1, 0, 0}, bb3[3] = {1, 1, 1};
  STATUS_EQ(csi_pb_solve(3, 1, ab3, bb3, e), CS_ERR_NUMERIC, e);
}

/* max_i |(A z - rhs)_i| / (max row sum |A| * max |z| + max |rhs|) for the
 * kd = 2 lower band ab. */
static double band_backward_error(const double *ab, size_t n, const double *z,
                                  const double *rhs) {
  double rmax = 0, amax = 0, zmax = 0, bmax = 0;
  for (size_t i = 0; i < n; i++) {
    double s = ab[3 * i] * z[i] - rhs[i], a = fabs(ab[3 * i]);
    for (size_t k = 1; k <= 2; k++) {
      if (i + k < n)
        s += ab[3 * i + k] * z[i + k], a += fabs(ab[3 * i + k]);
      if (i >= k)
        s += ab[3 * (i - k) + k] * z[i - k], a += fabs(ab[3 * (i - k) + k]);
    }
    rmax = fmax(rmax, fabs(s));
    amax = fmax(amax, a);
    zmax = fmax(zmax, fabs(z[i]));
    bmax = fmax(bmax, fabs(rhs[i]));
  }
  return rmax / (amax * zmax + bmax);
}

/* The two-chain kd = 2 solver against dpbtrf/dpbtrs on Whittaker systems
 * (W + lam D2'D2) of every size around its switch-over and block-size
 * remainders, with weights down to 1e-148 (what arPLS can produce), and a
 * known solution x = 1 + sin(i) built densely here. */
static void split_solver(void **state) {
  (void)state;
  static const size_t sizes[] = {5, 15, 16, 17, 18, 19, 64, 65, 100, 257, 1024, 1031};
  static const double lams[] = {1e-2, 1, 1e5, 1e9};
  unsigned long long seed = 7;
  cs_error err, *e = &err;
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
    for (size_t li = 0; li < sizeof lams / sizeof lams[0]; li++) {
      size_t n = sizes[si];
      double lam = lams[li];
      double *ab = malloc(3 * n * sizeof *ab), *ab2 = malloc(3 * n * sizeof *ab2);
      double *b = malloc(n * sizeof *b), *b2 = malloc(n * sizeof *b2);
      double *x = malloc(n * sizeof *x);
      assert_true(ab && ab2 && b && b2 && x);
      /* D2'D2 band: rows of D2 are (1, -2, 1) at columns r, r+1, r+2 */
      memset(ab, 0, 3 * n * sizeof *ab);
      for (size_t r = 0; r + 2 < n; r++) {
        static const double c[3] = {1, -2, 1};
        for (int p = 0; p < 3; p++)
          for (int q = 0; q <= p; q++)
            ab[3 * (r + (size_t)q) + (size_t)(p - q)] += lam * c[p] * c[q];
      }
      for (size_t i = 0; i < n; i++) {
        double u = fabs(noise(&seed));
        ab[3 * i] += i % 7 == 3 ? 1.6e-148 : u / (1 + u);
        x[i] = 1 + sin((double)i);
      }
      for (size_t i = 0; i < n; i++) { /* b = A x from the band */
        double s = ab[3 * i] * x[i];
        for (size_t k = 1; k <= 2; k++) {
          if (i + k < n)
            s += ab[3 * i + k] * x[i + k];
          if (i >= k)
            s += ab[3 * (i - k) + k] * x[i - k];
        }
        b[i] = s;
      }
      memcpy(ab2, ab, 3 * n * sizeof *ab);
      memcpy(b2, b, n * sizeof *b);
      STATUS_EQ(csi_penta_solve_split(n, ab, b, e), CS_OK, e);
      /* Both solvers are backward stable, so compare normwise backward
       * errors |A z - rhs| / (|A| |z| + |rhs|) (max norms, A from ab2
       * before LAPACK overwrites it); with lam up to 1e9 the condition
       * number reaches ~1e9 n^4, so forward errors are only checked where
       * the system is well conditioned. */
      double be_split = band_backward_error(ab2, n, b, b2);
      STATUS_EQ(csi_pb_solve(n, 2, ab2, b2, e), CS_OK, e);
      if (!(be_split <= 64 * DBL_EPSILON))
        fail_msg("n=%zu lam=%g: split solver backward error %.3g", n, lam,
                 be_split);
      if (lam <= 1)
        for (size_t i = 0; i < n; i++) {
          DBL_NEAR(b[i], x[i], 1e-9);
          DBL_NEAR(b2[i], x[i], 1e-9);
        }
      free(ab), free(ab2), free(b), free(b2), free(x);
    }
  /* not positive definite: a negative diagonal entry in the bottom half */
  enum { N = 200 };
  static double ab[3 * N], b[N];
  for (size_t i = 0; i < N; i++) {
    ab[3 * i] = i == 120 ? -1 : 4;
    ab[3 * i + 1] = 1;
    ab[3 * i + 2] = 0.5;
    b[i] = 1;
  }
  STATUS_EQ(csi_penta_solve_split(N, ab, b, e), CS_ERR_NUMERIC, e);
  assert_non_null(strstr(err.msg, "not positive definite"));
}

/* ---- options ---- */

static void opts_round_trip(void **state) {
  (void)state;
  cs_error err, *e = &err;
  char buf[512];
  for (int m = CS_BASELINE_NONE; m <= CS_BASELINE_SNIP; m++) {
    cs_baseline_opts o = cs_baseline_opts_default((cs_baseline_method)m), back;
    STATUS_EQ(cs_baseline_opts_format(&o, buf, sizeof buf, e), CS_OK, e);
    STATUS_EQ(cs_baseline_opts_parse(buf, &back, e), CS_OK, e);
    assert_memory_equal(&o, &back, sizeof o);
  }
  /* pybaselines 1.2.1 defaults, written out by hand */
  cs_baseline_opts o = cs_baseline_opts_default(CS_BASELINE_ARPLS);
  STATUS_EQ(cs_baseline_opts_format(&o, buf, sizeof buf, e), CS_OK, e);
  assert_string_equal(buf, "arpls:lam=100000,diff_order=2,max_iter=50,tol=0.001");
  o = cs_baseline_opts_default(CS_BASELINE_IMODPOLY);
  STATUS_EQ(cs_baseline_opts_format(&o, buf, sizeof buf, e), CS_OK, e);
  assert_string_equal(buf, "imodpoly:max_iter=250,tol=0.001,poly_order=2,"
                           "num_std=1,use_original=0,mask_initial_peaks=1");
  o = cs_baseline_opts_default(CS_BASELINE_ASLS);
  assert_true(o.lam == 1e6 && o.p == 0.01);
  o = cs_baseline_opts_default(CS_BASELINE_SNIP);
  assert_true(o.filter_order == 2 && o.max_half_window == 0 && !o.decreasing);
  /* awkward numbers survive exactly */
  cs_baseline_opts a, b2;
  STATUS_EQ(cs_baseline_opts_parse(
                " asls : lam = 1.2345678901234567e5 , p=0.1, tol=1e-300 ", &a,
                e),
            CS_OK, e);
  assert_true(a.lam == 1.2345678901234567e5 && a.p == 0.1 && a.tol == 1e-300);
  STATUS_EQ(cs_baseline_opts_format(&a, buf, sizeof buf, e), CS_OK, e);
  STATUS_EQ(cs_baseline_opts_parse(buf, &b2, e), CS_OK, e);
  assert_memory_equal(&a, &b2, sizeof a);
  STATUS_EQ(cs_baseline_opts_parse("snip:decreasing=true,smooth_half_window=3,"
                                   "filter_order=6,max_half_window=7",
                                   &a, e),
            CS_OK, e);
  assert_true(a.decreasing == 1 && a.smooth_half_window == 3 &&
              a.filter_order == 6 && a.max_half_window == 7);
  /* too small a buffer */
  STATUS_EQ(cs_baseline_opts_format(&a, buf, 8, e), CS_ERR_ARG, e);
  assert_non_null(strstr(err.msg, "does not fit"));
  cs_baseline_method m;
  STATUS_EQ(cs_baseline_method_from_name("imodpoly", &m), CS_OK, e);
  assert_int_equal(m, CS_BASELINE_IMODPOLY);
  assert_null(cs_baseline_method_name((cs_baseline_method)99));
}

/* Every listed key is accepted by some method and a misspelt one is not:
 * the list the CLI's suggestions come from is the parser's own. */
static void key_names(void **state) {
  (void)state;
  size_t n = 0, lam = 0;
  for (; cs_baseline_key_name(n); n++) {
    const char *k = cs_baseline_key_name(n);
    lam += strcmp(k, "lam") == 0;
    int accepted = 0;
    for (int m = 0; cs_baseline_method_name((cs_baseline_method)m); m++) {
      char spec[96];
      cs_baseline_opts o;
      cs_error e;
      /* 1 is a valid value for every numeric and boolean key of its method */
      snprintf(spec, sizeof spec, "%s:%s=1", cs_baseline_method_name((cs_baseline_method)m), k);
      accepted += cs_baseline_opts_parse(spec, &o, &e) == CS_OK ||
                  !strstr(e.msg, "unknown option");
    }
    assert_true(accepted > 0);
  }
  assert_true(n >= 10);
  assert_int_equal(lam, 1);
  assert_null(cs_baseline_key_name(n + 1));
}

static void opts_bad(void **state) {
  (void)state;
  static const struct {
    const char *spec, *msg;
  } bad[] = {
      {"nosuch", "unknown baseline method 'nosuch'"},
      {"arpls:p=0.5", "option 'p' does not apply"},
      {"arpls:frob=1", "unknown option 'frob'"},
      {"arpls:lam", "expected key=value"},
      {"arpls:lam=abc", "bad number value 'abc' for lam"},
      {"arpls:lam=inf", "bad number"},
      {"arpls:lam=-1", "lam must be > 0 and <= 1e+12"},
      {"arpls:lam=0", "lam must be > 0"},
      {"arpls:lam=1e13", "lam must be > 0 and <= 1e+12, got 1e+13"},
      {"arpls:max_iter=10001", "max_iter must be 0..10000"},
      {"asls:p=1.5", "p must be between 0 and 1"},
      {"asls:p=0", "p must be between 0 and 1"},
      {"arpls:max_iter=1.5", "bad integer"},
      {"arpls:max_iter=-1", "max_iter must be"},
      {"arpls:diff_order=0", "diff_order must be 1..3"},
      {"arpls:tol=-1", "tol must be"},
      {"modpoly:poly_order=21", "poly_order must be 0..20"},
      {"imodpoly:num_std=-1", "num_std must be"},
      {"modpoly:use_original=2", "bad boolean"},
      {"snip:filter_order=3", "filter_order must be 2, 4, 6 or 8"},
      {"snip:max_half_window=-2", "max_half_window must be >= 0"},
      {"snip:smooth_half_window=-1", "smooth_half_window must be >= 0"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    cs_baseline_opts o = cs_baseline_opts_default(CS_BASELINE_ASLS), keep = o;
    cs_error err;
    cs_status st = cs_baseline_opts_parse(bad[k].spec, &o, &err);
    if (st != CS_ERR_ARG)
      fail_msg("%s -> %s, want invalid argument", bad[k].spec,
               cs_strerror(st));
    if (!strstr(err.msg, bad[k].msg))
      fail_msg("%s: message '%s' lacks '%s'", bad[k].spec, err.msg,
               bad[k].msg);
    assert_memory_equal(&o, &keep, sizeof o); /* untouched on failure */
  }
  /* check() on hand-built options, and sizes */
  cs_baseline_opts o = cs_baseline_opts_default(CS_BASELINE_ARPLS);
  cs_error err, *e = &err;
  o.lam = NAN;
  STATUS_EQ(cs_baseline_opts_check(&o, 100, e), CS_ERR_ARG, e);
  o = cs_baseline_opts_default(CS_BASELINE_ARPLS);
  STATUS_EQ(cs_baseline_opts_check(&o, 2, e), CS_ERR_ARG, e);
  assert_non_null(strstr(err.msg, "more than diff_order=2 points"));
  o.method = (cs_baseline_method)42;
  STATUS_EQ(cs_baseline_opts_check(&o, 100, e), CS_ERR_ARG, e);
  STATUS_EQ(cs_baseline_opts_check(NULL, 100, e), CS_ERR_ARG, e);
  o = cs_baseline_opts_default(CS_BASELINE_MODPOLY);
  o.poly_order = 5;
  STATUS_EQ(cs_baseline_opts_check(&o, 5, e), CS_ERR_ARG, e);
}

/* ---- input checks ---- */

static void bad_input(void **state) {
  (void)state;
  double x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8] = {1, 2, 3, 4, 5, 6, 7, 8}, z[8];
  cs_baseline_opts o = cs_baseline_opts_default(CS_BASELINE_MODPOLY);
  cs_error err, *e = &err;
  y[3] = NAN;
  STATUS_EQ(cs_baseline_fit(x, y, 8, &o, z, e), CS_ERR_ARG, e);
  assert_non_null(strstr(err.msg, "y[3] is not finite"));
  y[3] = INFINITY;
  STATUS_EQ(cs_baseline_fit(NULL, y, 8, &o, z, e), CS_ERR_ARG, e);
  y[3] = 4;
  x[5] = INFINITY;
  STATUS_EQ(cs_baseline_fit(x, y, 8, &o, z, e), CS_ERR_ARG, e);
  assert_non_null(strstr(err.msg, "x[5] is not finite"));
  x[5] = 4; /* not monotonic */
  STATUS_EQ(cs_baseline_fit(x, y, 8, &o, z, e), CS_ERR_ARG, e);
  assert_non_null(strstr(err.msg, "not strictly monotonic"));
  x[5] = 6;
  STATUS_EQ(cs_baseline_fit(x, y, 8, &o, y, e), CS_ERR_ARG, e); /* aliasing */
  STATUS_EQ(cs_baseline_fit(x, y, 0, &o, z, e), CS_ERR_ARG, e);
  /* overflow inside the method is caught, not returned as Inf */
  double big[8];
  for (int i = 0; i < 8; i++)
    big[i] = (i % 2 ? 1 : -1) * 1e307;
  o = cs_baseline_opts_default(CS_BASELINE_ASLS);
  o.lam = 1e12; /* the largest allowed */
  cs_status st = cs_baseline_fit(NULL, big, 8, &o, z, e);
  assert_true(st == CS_ERR_NUMERIC || st == CS_OK);
  if (st == CS_OK)
    for (int i = 0; i < 8; i++)
      assert_true(isfinite(z[i]));
  o = cs_baseline_opts_default(CS_BASELINE_NONE);
  STATUS_EQ(cs_baseline_fit(x, y, 8, &o, z, e), CS_OK, e);
  for (int i = 0; i < 8; i++)
    assert_true(z[i] == 0.0);
}

/* Descending x and x = NULL give the polynomial fits of ascending x. */
static void x_handling(void **state) {
  (void)state;
  static double x[NS], xr[NS], xi[NS], y[NS], yr[NS], truth[NS], z[NS], zr[NS],
      zi[NS];
  synth(x, y, truth);
  for (size_t i = 0; i < NS; i++) {
    xr[i] = x[NS - 1 - i];
    yr[i] = y[NS - 1 - i];
    xi[i] = (double)i;
  }
  cs_baseline_opts o;
  cs_error err, *e = &err;
  STATUS_EQ(cs_baseline_opts_parse("imodpoly:poly_order=4", &o, e), CS_OK, e);
  STATUS_EQ(cs_baseline_fit(x, y, NS, &o, z, e), CS_OK, e);
  STATUS_EQ(cs_baseline_fit(xr, yr, NS, &o, zr, e), CS_OK, e);
  for (size_t i = 0; i < NS; i++)
    DBL_NEAR(zr[NS - 1 - i], z[i], 1e-9 * 300);
  /* uniform x: same as no x (both map onto [-1, 1]) */
  STATUS_EQ(cs_baseline_fit(xi, y, NS, &o, z, e), CS_OK, e);
  STATUS_EQ(cs_baseline_fit(NULL, y, NS, &o, zi, e), CS_OK, e);
  for (size_t i = 0; i < NS; i++)
    DBL_NEAR(zi[i], z[i], 1e-9 * 300);
}

/* Reentrancy: the same fits on four threads at once give the serial
 * results bit for bit. */
typedef struct job {
  const double *x, *y;
  const char *spec;
  double z[NS];
  cs_status st;
} job;

static void *run_job(void *arg) {
  job *j = arg;
  cs_baseline_opts o;
  j->st = cs_baseline_opts_parse(j->spec, &o, NULL);
  for (int r = 0; r < 5 && j->st == CS_OK; r++)
    j->st = cs_baseline_fit(j->x, j->y, NS, &o, j->z, NULL);
  return NULL;
}

static void threads(void **state) {
  (void)state;
  static double x[NS], y[NS], truth[NS];
  synth(x, y, truth);
  static const char *const specs[] = {"arpls", "airpls", "imodpoly:poly_order=3",
                                      "snip"};
  static job jobs[4], serial;
  pthread_t th[4];
  for (int k = 0; k < 4; k++) {
    jobs[k] = (job){.x = x, .y = y, .spec = specs[k]};
    assert_int_equal(pthread_create(&th[k], NULL, run_job, &jobs[k]), 0);
  }
  for (int k = 0; k < 4; k++)
    assert_int_equal(pthread_join(th[k], NULL), 0);
  for (int k = 0; k < 4; k++) {
    serial = (job){.x = x, .y = y, .spec = specs[k]};
    run_job(&serial);
    assert_int_equal(jobs[k].st, CS_OK);
    assert_memory_equal(jobs[k].z, serial.z, sizeof serial.z);
  }
}

/* ---- several spectra at once (csi_baseline_fit_many's lanes) ---- */

#define NB 13 /* not a multiple of 2, 4 or 8 lanes */

/* NB spectra unlike each other (baseline slope and curvature, band
 * heights, noise level, offset and scale) so that the reweighting stops
 * after different numbers of iterations. */
static void batch_spectra(double *x, double *y) {
  unsigned long long seed = 977;
  for (size_t i = 0; i < NS; i++)
    x[i] = 400 + 1400.0 * (double)i / (NS - 1);
  for (size_t k = 0; k < NB; k++) {
    double a = 50 + 40.0 * (double)k, c = 0.3 * (double)(k % 5);
    double h = 20.0 * (double)(k % 4 + 1), sd = 0.2 + 0.4 * (double)(k % 3);
    double scale = k % 2 ? 1e3 : 1;
    for (size_t i = 0; i < NS; i++) {
      double t = (x[i] - 1100) / 700;
      double v = a + 30 * t * (double)((int)k - 6) + a * c * t * t;
      for (int b = 0; b < 3; b++) {
        double d = (x[i] - (700 + 350.0 * b + 7.0 * (double)k)) / (4 + b);
        v += h * (b + 1) / (1 + d * d);
      }
      y[k * NS + i] = scale * (v + sd * noise(&seed));
    }
  }
}

/* Solves the scalar arPLS/airPLS/AsLS loop makes for y: the smallest
 * max_iter + 1 whose result equals that of max_iter = 50. */
static int solves(const double *x, const double *y, const char *spec) {
  cs_baseline_opts o;
  STATUS_EQ(cs_baseline_opts_parse(spec, &o, NULL), CS_OK, NULL);
  static double full[NS], z[NS];
  STATUS_EQ(cs_baseline_fit(x, y, NS, &o, full, NULL), CS_OK, NULL);
  for (o.max_iter = 0; o.max_iter < 50; o.max_iter++) {
    STATUS_EQ(cs_baseline_fit(x, y, NS, &o, z, NULL), CS_OK, NULL);
    if (memcmp(z, full, sizeof z) == 0)
      break;
  }
  return o.max_iter + 1;
}

static void batch_lanes(void **state) {
  (void)state;
  static double x[NS], y[NB * NS], zs[NB * NS], zb[NB * NS];
  batch_spectra(x, y);
  static const char *const specs[] = {
      "asls:lam=1e6,p=0.01", "arpls:lam=1e5", "airpls:lam=1e6",
      "arpls:lam=1e3,tol=1e-6", "arpls:lam=1e5,max_iter=3", "asls:lam=1e4,max_iter=2",
      "airpls:lam=1e4,tol=1e-6"};
  /* the lanes really converge at different iterations */
  int lo = 99, hi = 0;
  for (size_t k = 0; k < NB; k++) {
    int c = solves(x, y + k * NS, "arpls:lam=1e5");
    lo = c < lo ? c : lo, hi = c > hi ? c : hi;
  }
  print_message("arpls solves per spectrum: %d..%d\n", lo, hi);
  assert_true(hi >= lo + 2);
  lo = 99, hi = 0;
  for (size_t k = 0; k < NB; k++) {
    int c = solves(x, y + k * NS, "airpls:lam=1e4,tol=1e-6");
    lo = c < lo ? c : lo, hi = c > hi ? c : hi;
  }
  print_message("airpls (tol 1e-6) solves per spectrum: %d..%d\n", lo, hi);
  assert_true(lo >= 3); /* its weights come from the lanes' exp */
  int tested = 0;
  for (size_t sp = 0; sp < sizeof specs / sizeof specs[0]; sp++) {
    cs_baseline_opts o;
    cs_error err, *e = &err;
    STATUS_EQ(cs_baseline_opts_parse(specs[sp], &o, e), CS_OK, e);
    int osc[NB];
    double noise_lapack = 0; /* the scalar solvers' own disagreement */
    for (size_t k = 0; k < NB; k++) {
      STATUS_EQ(cs_baseline_fit(x, y + k * NS, NS, &o, zs + k * NS, e), CS_OK,
                e);
      osc[k] = solves(x, y + k * NS, specs[sp]) > 50;
      STATUS_EQ(csi_baseline_fit_solver(x, y + k * NS, NS, &o, zb, 1, e), CS_OK,
                e);
      double dmax = 0, zmax = 0;
      for (size_t i = 0; i < NS; i++) {
        dmax = fmax(dmax, fabs(zb[i] - zs[k * NS + i]));
        zmax = fmax(zmax, fabs(zs[k * NS + i]));
      }
      if (!osc[k])
        noise_lapack = fmax(noise_lapack, dmax / zmax);
    }
    /* 1e-9, except for airPLS, whose weights exp(t |r| / |sum r-|) span
     * hundreds of orders of magnitude: there the two scalar solvers
     * (split LDL^T, LAPACK dpbtrf) already differ by more, and the lanes
     * must stay within twice that. */
    double bound = o.method == CS_BASELINE_AIRPLS
                       ? fmax(1e-9, 2 * noise_lapack) : 1e-9;
    for (csi_simd p = CSI_SIMD_SCALAR; p <= CSI_SIMD_AVX512; p++) {
      if (p != CSI_SIMD_SCALAR && !csi_baseline_simd_lanes(p))
        continue;
      for (size_t cnt = 1; cnt <= NB; cnt += cnt < 3 ? 1 : NB - 3) {
        csi_baseline_simd_force = p;
        memset(zb, 0, sizeof zb);
        cs_status st = cs_baseline_fit_batch(x, y, NS, cnt, &o, zb, e);
        csi_baseline_simd_force = CSI_SIMD_AUTO;
        STATUS_EQ(st, CS_OK, e);
        double worst = 0, worst_osc = 0;
        for (size_t k = 0; k < cnt; k++) {
          double dmax = 0, zmax = 0;
          for (size_t i = 0; i < NS; i++) {
            dmax = fmax(dmax, fabs(zb[k * NS + i] - zs[k * NS + i]));
            zmax = fmax(zmax, fabs(zs[k * NS + i]));
          }
          if (osc[k])
            worst_osc = fmax(worst_osc, dmax / zmax);
          else
            worst = fmax(worst, dmax / zmax);
        }
        /* A spectrum whose weights still oscillate after 50 iterations
         * amplifies the exp's last-bit differences; pybaselines parity
         * (1e-6) is the bound there. */
        if (!(worst_osc <= 1e-6))
          fail_msg("%s, path %d, %zu spectra: rel diff %.3g > 1e-6 on a "
                   "spectrum that does not converge", specs[sp], (int)p, cnt,
                   worst_osc);
        if (!(worst <= bound))
          fail_msg("%s, path %d, %zu spectra: rel diff %.3g > %.3g",
                   specs[sp], (int)p, cnt, worst, bound);
        /* AsLS has no exp: the lanes do the scalar operations exactly */
        if (o.method == CS_BASELINE_ASLS)
          assert_memory_equal(zb, zs, cnt * NS * sizeof *zb);
        if (cnt == NB)
          print_message("batch %-26s path %d: rel diff %.3g (%.3g on spectra "
                        "that do not converge; scalar vs LAPACK %.3g)\n",
                        specs[sp], (int)p, worst, worst_osc, noise_lapack);
        tested++;
      }
    }
  }
  assert_true(tested >= 7 * 3 * 2);
}

/* A bad spectrum in the block fails alone, with its index; the others are
 * fitted as they would be on their own.  Short spectra and other methods
 * go through the scalar solver with the same results. */
static void batch_errors(void **state) {
  (void)state;
  static double x[NS], y[NB * NS], zs[NS], zb[NB * NS];
  batch_spectra(x, y);
  y[5 * NS + 17] = NAN;
  cs_baseline_opts o = cs_baseline_opts_default(CS_BASELINE_ASLS);
  cs_error err;
  assert_int_equal(cs_baseline_fit_batch(x, y, NS, NB, &o, zb, &err),
                   CS_ERR_ARG);
  assert_non_null(strstr(err.msg, "spectrum 5: "));
  assert_non_null(strstr(err.msg, "not finite"));
  for (size_t k = 0; k < NB; k++) { /* AsLS: the lanes give the scalar bits */
    if (k == 5)
      continue;
    STATUS_EQ(cs_baseline_fit(x, y + k * NS, NS, &o, zs, &err), CS_OK, &err);
    assert_memory_equal(zb + k * NS, zs, sizeof zs);
  }
  assert_int_equal(cs_baseline_fit_batch(x, y, NS, NB, &o, y, &err),
                   CS_ERR_ARG); /* output over the input */
  /* 10 points (below the split solver's size) and SNIP: scalar, exact */
  static const char *const specs[] = {"arpls", "snip:max_half_window=3",
                                      "imodpoly:poly_order=2"};
  double ys[4 * 10], zz[4 * 10], z1[10];
  for (size_t i = 0; i < 40; i++)
    ys[i] = 10 + sin(0.7 * (double)i) + 0.01 * (double)(i * i % 7);
  for (size_t sp = 0; sp < 3; sp++) {
    STATUS_EQ(cs_baseline_opts_parse(specs[sp], &o, &err), CS_OK, &err);
    STATUS_EQ(cs_baseline_fit_batch(NULL, ys, 10, 4, &o, zz, &err), CS_OK,
              &err);
    for (size_t k = 0; k < 4; k++) {
      STATUS_EQ(cs_baseline_fit(NULL, ys + 10 * k, 10, &o, z1, &err), CS_OK,
                &err);
      assert_memory_equal(zz + 10 * k, z1, sizeof z1);
    }
  }
  o = cs_baseline_opts_default(CS_BASELINE_ARPLS);
  o.lam = -1;
  assert_int_equal(cs_baseline_fit_batch(x, y, NS, 2, &o, zb, &err),
                   CS_ERR_ARG);
  o.lam = 1e5;
  STATUS_EQ(cs_baseline_fit_batch(x, y, NS, 0, &o, zb, &err), CS_OK, &err);
}

/* ModPoly/IModPoly solve their normal equations in a Legendre basis and
 * hand ill-conditioned ones to QR: too few points left by the peak mask is
 * still "rank deficient", and a high order gives the QR fit of the same
 * polynomials (powers of x, as pybaselines builds them). */
static void poly_conditioning(void **state) {
  (void)state;
  cs_baseline_opts o;
  cs_error err;
  double x[1000], y[1000], z[1000];
  for (int i = 0; i < 10; i++)
    x[i] = 400 + 10 * i, y[i] = i == 4 ? 900 : 100 + i;
  STATUS_EQ(cs_baseline_opts_parse("imodpoly:poly_order=8", &o, &err), CS_OK, &err);
  assert_int_equal(cs_baseline_fit(x, y, 10, &o, z, &err), CS_ERR_NUMERIC);
  assert_non_null(strstr(err.msg, "rank deficient"));
  /* order 20 on 1000 points against V pinv(V) y with V the powers */
  enum { N = 1000, K = 21 };
  double *v = malloc(2 * N * K * sizeof *v), *pinv = v + N * K;
  assert_non_null(v);
  for (int i = 0; i < N; i++) {
    x[i] = 300 + 1.5 * i;
    y[i] = 1000 + 300 * sin(i * 0.01) + 50 * exp(-(i - 500.0) * (i - 500.0) / 50);
    double xs = -1 + 2.0 * i / (N - 1), p = 1;
    for (int j = 0; j < K; j++, p *= xs)
      v[i + j * N] = p;
  }
  STATUS_EQ(csi_pinv_full_rank(v, N, K, pinv, &err), CS_OK, &err);
  STATUS_EQ(cs_baseline_opts_parse("modpoly:poly_order=20,max_iter=0", &o, &err), CS_OK, &err);
  STATUS_EQ(cs_baseline_fit(x, y, N, &o, z, &err), CS_OK, &err);
  double worst = 0;
  for (int i = 0; i < N; i++) {
    double zr = 0;
    for (int j = 0; j < K; j++) {
      double c = 0;
      for (int q = 0; q < N; q++)
        c += pinv[j + q * K] * y[q];
      zr += v[i + j * N] * c;
    }
    worst = fmax(worst, fabs(z[i] - zr) / fabs(zr));
  }
  print_message("modpoly order 20 vs QR: max relative difference %.3g\n", worst);
  assert_true(worst < 1e-7);
  free(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(peer_parity),    cmocka_unit_test(known_baseline),
      cmocka_unit_test(exact_models),   cmocka_unit_test(band_solvers),
      cmocka_unit_test(split_solver),
      cmocka_unit_test(opts_round_trip), cmocka_unit_test(opts_bad),
      cmocka_unit_test(key_names),
      cmocka_unit_test(bad_input),      cmocka_unit_test(x_handling),
      cmocka_unit_test(threads),
      cmocka_unit_test(poly_conditioning),
      cmocka_unit_test(batch_lanes),    cmocka_unit_test(batch_errors),
  };
  return cmocka_run_group_tests_name("baseline", tests, NULL, NULL);
}
