/* test_classifier_math.c: NNLS against scipy.optimize.nnls (scipy 1.10.1,
 * values pasted from its output), PCA on data of known rank and variance,
 * LDA posteriors on separated classes; csi_median (the robust noise of
 * QC, spikes and detection) against a full sort; OpenBLAS left at one
 * thread by the first LAPACK call (linalg.c). */
#include "testutil.h"

#include "internal.h"

#include <stdlib.h>

/* OpenBLAS's own calls, weak: another BLAS has none (then skipped). */
extern int openblas_get_num_threads(void) __attribute__((weak));
extern void openblas_set_num_threads(int) __attribute__((weak));

static void blas_single_thread(void **state) {
  (void)state;
  const char *v = getenv("OPENBLAS_NUM_THREADS");
  if (!openblas_get_num_threads || (v && *v)) {
    print_message("skipped: not OpenBLAS, or OPENBLAS_NUM_THREADS is set\n");
    skip();
  }
  /* what OpenBLAS would use on a multi-core machine; the first linalg.c
   * call must bring it back to one */
  openblas_set_num_threads(4);
  assert_int_equal(openblas_get_num_threads(), 4);
  double a[4] = {1, 2, 3, 4}, b[2] = {1, 1};
  cs_error err;
  STATUS_EQ(csi_lstsq(2, 2, a, b, &err), CS_OK, &err);
  assert_int_equal(openblas_get_num_threads(), 1);
}

static void nnls_matches_scipy(void **state) {
  (void)state;
  /* A (5 x 3) row by row, stored column-major below */
  const double rows[5][3] = {{1, 0.5, 0.2}, {0.3, 1, 0.1}, {0.2, 0.4, 1},
                             {0.9, 0.1, 0.3}, {0.1, 0.2, 0.8}};
  double a[15], x[3], r;
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 3; j++)
      a[j * 5 + i] = rows[i][j];
  const double b[5] = {1.0, -0.5, 0.7, 1.2, 0.1};
  cs_error err;
  STATUS_EQ(csi_nnls(a, NULL, 5, 3, b, x, &r, &err), CS_OK, &err);
  /* scipy: array([0.94187103, 0., 0.3119891]), rnorm 0.9101880713121581 */
  DBL_NEAR(x[0], 0.94187103, 1e-8);
  DBL_NEAR(x[1], 0.0, 0);
  DBL_NEAR(x[2], 0.3119891, 1e-7);
  DBL_NEAR(r, 0.9101880713121581, 1e-12);
  /* an exact non-negative mixture is recovered */
  double b2[5];
  for (int i = 0; i < 5; i++)
    b2[i] = 0.2 * rows[i][0] + 0.7 * rows[i][2];
  STATUS_EQ(csi_nnls(a, NULL, 5, 3, b2, x, &r, &err), CS_OK, &err);
  DBL_NEAR(x[0], 0.2, 1e-12);
  DBL_NEAR(x[1], 0.0, 1e-12);
  DBL_NEAR(x[2], 0.7, 1e-12);
  DBL_NEAR(r, 0, 1e-12);
  /* nearly dependent references (the third = the first + 3e-7 of noise)
   * and a mixture that needs both (0.5 and 1.5): the normal equations
   * lose too much there, and QR of the columns takes over */
  double a3[15], b3[5], nz[5] = {1, -1, 0, 0, 0};
  memcpy(a3, a, sizeof a3);
  for (int i = 0; i < 5; i++)
    a3[10 + i] = a3[i] + 3e-7 * nz[i];
  for (int i = 0; i < 5; i++)
    b3[i] = 0.5 * a3[i] + 1.5 * a3[10 + i];
  STATUS_EQ(csi_nnls(a3, NULL, 5, 3, b3, x, &r, &err), CS_OK, &err);
  DBL_NEAR(x[0], 0.5, 1e-5);
  DBL_NEAR(x[1], 0.0, 1e-9);
  DBL_NEAR(x[2], 1.5, 1e-5);
  assert_true(r < 1e-12);
}

static void pca_known_structure(void **state) {
  (void)state;
  /* 40 spectra of 6 points: mean m + a_i u + b_i v with orthonormal u, v
   * and zero-mean coefficients of variance 4 and 1: two components, score
   * variances 4 and 1 (n-1 denominator), no residual. */
  enum { N = 40, P = 6 };
  const double u[P] = {0.5, 0.5, 0.5, 0.5, 0, 0};
  const double v[P] = {0.5, -0.5, 0.5, -0.5, 0, 0};
  const double m[P] = {1, 2, 3, 4, 5, 6};
  double x[N * P], ca[N], cb[N];
  for (int i = 0; i < N; i++) {
    ca[i] = (i % 2 ? 1 : -1) * 2.0 * sqrt((N - 1.0) / N);
    cb[i] = ((i / 2) % 2 ? 1 : -1) * sqrt((N - 1.0) / N);
  }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < P; j++)
      x[j * N + i] = m[j] + ca[i] * u[j] + cb[i] * v[j];
  csi_pca pca;
  cs_error err;
  STATUS_EQ(csi_pca_fit(x, N, P, 0, 0.999, 0, &pca, &err), CS_OK, &err);
  assert_int_equal(pca.k, 2);
  DBL_NEAR(pca.eigval[0], 4.0, 1e-10);
  DBL_NEAR(pca.eigval[1], 1.0, 1e-10);
  DBL_NEAR(pca.explained, 1.0, 1e-12);
  for (int j = 0; j < P; j++)
    DBL_NEAR(pca.mean[j], m[j], 1e-12);
  /* a new point off the plane: Q is its squared distance, T^2 its
   * Mahalanobis norm in the plane */
  double y[P], t[2], t2, q;
  for (int j = 0; j < P; j++)
    y[j] = m[j] + 2 * u[j] + 1 * v[j];
  y[4] += 3; /* off-plane by 3 */
  csi_pca_project(&pca, y, t, &t2, &q);
  DBL_NEAR(q, 9.0, 1e-10);
  DBL_NEAR(t2, 2 * 2 / 4.0 + 1 * 1 / 1.0, 1e-10);
  csi_pca_free(&pca);
}

static void lda_separated_classes(void **state) {
  (void)state;
  /* three classes in 2-D scores, centres (0,0), (10,0), (0,10), small
   * deterministic scatter: each centre is classified to its class with
   * posterior ~1, and the midpoint of two is shared equally (equal priors). */
  enum { PER = 20, C = 3, N = PER * C, K = 2 };
  const double cx[C] = {0, 10, 0}, cy[C] = {0, 0, 10};
  double t[N * K];
  int label[N];
  for (int g = 0; g < C; g++)
    for (int i = 0; i < PER; i++) {
      int n = g * PER + i;
      label[n] = g;
      t[0 * N + n] = cx[g] + cos(i * 1.3) * 0.8;
      t[1 * N + n] = cy[g] + sin(i * 0.7) * 0.8;
    }
  csi_lda lda;
  cs_error err;
  STATUS_EQ(csi_lda_fit(t, N, K, label, C, 0.0, &lda, &err), CS_OK, &err);
  assert_int_equal(lda.d, 2);
  double lp[C] = {log(1.0 / 3), log(1.0 / 3), log(1.0 / 3)}, post[C];
  for (int g = 0; g < C; g++) {
    double p[K] = {cx[g], cy[g]};
    csi_lda_posteriors(&lda, lp, p, post, NULL);
    assert_true(post[g] > 0.999);
    DBL_NEAR(post[0] + post[1] + post[2], 1.0, 1e-12);
  }
  double mid[K] = {5, 5}; /* equidistant from classes 1 and 2 */
  csi_lda_posteriors(&lda, lp, mid, post, NULL);
  DBL_NEAR(post[1], post[2], 0.05);
  csi_lda_free(&lda);
  /* Ledoit-Wolf shrinkage lies in [0, 1] */
  STATUS_EQ(csi_lda_fit(t, N, K, label, C, -1, &lda, &err), CS_OK, &err);
  assert_true(lda.shrinkage >= 0 && lda.shrinkage <= 1);
  csi_lda_free(&lda);
  /* a class with one spectrum is refused */
  label[0] = 2;
  for (int i = 1; i < PER; i++)
    label[i] = 1;
  label[N - 1] = 0;
  STATUS_EQ(csi_lda_fit(t, N, K, label, C, 0.0, &lda, &err), CS_ERR_ARG, &err);
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* csi_median equals the middle of a sorted copy (mean of the two middle
 * values for even n) on noise, on quantised data full of ties, on sorted,
 * reversed, constant, organ-pipe, sawtooth and two-valued input, and on
 * noise with far outliers, for every n from 1 to 300 and some up to 2100
 * (past the 1024 points it copies on the stack), on the portable and the
 * CPU's partition; the input is left as it was. */
static void median_equals_sort(void **state) {
  (void)state;
  enum { NMAX = 2100, KINDS = 9 };
  double *v = malloc(3 * NMAX * sizeof *v), *w = v + NMAX, *u = v + 2 * NMAX;
  assert_non_null(v);
  unsigned long long r = 12345;
  for (int portable = 0; portable < 2; portable++) {
    csi_median_portable = portable;
    for (size_t n = 1; n <= NMAX; n += n < 300 ? 1 : n < 1100 ? 97 : 331)
      for (int kind = 0; kind < KINDS; kind++) {
        for (size_t i = 0; i < n; i++) {
          r = r * 6364136223846793005ULL + 1442695040888963407ULL;
          double x = (double)(r >> 11) / 9007199254740992.0 - 0.5;
          double d = (double)i;
          v[i] = kind == 0   ? x
                 : kind == 1 ? floor(x * 6) /* a handful of distinct values */
                 : kind == 2 ? d
                 : kind == 3 ? -d
                 : kind == 4 ? 7.0
                 : kind == 5 ? fmin(d, (double)n - d) /* organ pipe */
                 : kind == 6 ? (double)(i % 7) - 3 /* sawtooth */
                 : kind == 7 ? (x < 0 ? -1.0 : 2.0)
                             : (x < -0.45 ? 1e6 * x : x); /* outliers */
        }
        memcpy(w, v, n * sizeof *w);
        memcpy(u, v, n * sizeof *u);
        qsort(w, n, sizeof *w, cmp_dbl);
        double want = n % 2 ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2]);
        double got = csi_median(u, n);
        if (got != want)
          fail_msg("n %zu kind %d portable %d: median %.17g, sorted %.17g", n,
                   kind, portable, got, want);
        assert_memory_equal(u, v, n * sizeof *u);
      }
  }
  csi_median_portable = 0;
  free(v);
}

/* Data with NaN or infinities: the selection ends (the vector compares
 * treat NaN otherwise than the scalar ones, and once looped), both paths
 * give the same bits, the input is left as it was, and without a NaN the
 * value is the sorted middle (infinities order as they should). */
static void median_nonfinite(void **state) {
  (void)state;
  enum { NMAX = 1500 };
  double *v = malloc(3 * NMAX * sizeof *v), *w = v + NMAX, *u = v + 2 * NMAX;
  assert_non_null(v);
  static const size_t sizes[] = {1, 2, 3, 5, 8, 9, 16, 17, 64, 100, 129, 1000, 1500};
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
    for (int kind = 0; kind < 5; kind++) {
      size_t n = sizes[si];
      for (size_t i = 0; i < n; i++) {
        double d = (double)((i * 7919) % 101) - 50;
        v[i] = kind == 0   ? NAN
               : kind == 1 ? (i % 2 ? NAN : d)
               : kind == 2 ? (i == n / 3 ? NAN : d)
               : kind == 3 ? (i % 3 == 0 ? INFINITY : i % 3 == 1 ? -INFINITY : d)
                           : (i % 2 ? 1.7e308 : -1.7e308) * (i % 4 < 2 ? 1 : -1);
      }
      double got[2];
      for (int portable = 0; portable < 2; portable++) {
        csi_median_portable = portable;
        memcpy(u, v, n * sizeof *u);
        got[portable] = csi_median(u, n);
        assert_memory_equal(u, v, n * sizeof *u);
      }
      csi_median_portable = 0;
      assert_memory_equal(&got[0], &got[1], sizeof got[0]);
      if (kind >= 3) {
        memcpy(w, v, n * sizeof *w);
        qsort(w, n, sizeof *w, cmp_dbl);
        double want = n % 2 ? w[n / 2] : 0.5 * (w[n / 2 - 1] + w[n / 2]);
        assert_true(got[0] == want || (isnan(got[0]) && isnan(want)));
      }
    }
  free(v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(blas_single_thread), /* first: before any LAPACK */
      cmocka_unit_test(nnls_matches_scipy),
      cmocka_unit_test(median_equals_sort),
      cmocka_unit_test(median_nonfinite),
      cmocka_unit_test(pca_known_structure),
      cmocka_unit_test(lda_separated_classes),
  };
  return cmocka_run_group_tests_name("classifier_math", tests, NULL, NULL);
}
