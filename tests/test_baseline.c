/* test_baseline.c: baseline estimation.  Parity with pybaselines 1.2.1 on
 * the peer golden files (../shared/peer), synthetic spectra with a known
 * baseline, option parsing/formatting, bad input. */
#include "testutil.h"

#include "internal.h"

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
  cs_error err;
  STATUS_EQ(cs_baseline_opts_parse(spec, &o, &err), CS_OK, &err);
  size_t n = in->cols;
  double *z = malloc(n * sizeof *z), worst = 0;
  assert_non_null(z);
  const double *x = in->v;
  for (size_t r = 1; r < in->rows; r++) {
    const double *y = in->v + r * n, *g = gold->v + r * n;
    STATUS_EQ(csi_baseline_fit_solver(x, y, n, &o, z, lapack, &err), CS_OK,
              &err);
    double dmax = 0, gmax = 0;
    for (size_t i = 0; i < n; i++) {
      dmax = fmax(dmax, fabs(z[i] - g[i]));
      gmax = fmax(gmax, fabs(g[i]));
    }
    worst = fmax(worst, dmax / gmax);
  }
  free(z);
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
    }
    free(g.v);
  }
  free(in.v);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(peer_parity),
  };
  return cmocka_run_group_tests_name("baseline", tests, NULL, NULL);
}
