/* bench_smooth.c: microseconds per 1024-point spectrum for Savitzky-Golay
 * (FFTW), Gaussian smoothing, spike removal, normalisation and a whole
 * pipeline, on the peer input (../shared/peer/input.csv) or, without it, a
 * synthetic spectrum; then scipy.signal.savgol_filter on the same data when
 * python3 can import scipy. */
#define _POSIX_C_SOURCE 200809L
#include "calcspec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { N = 1024, ROWS = 24 };
static double X[N], Y[ROWS][N];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int load(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  static char line[65536];
  int row = -1;
  while (row < ROWS && fgets(line, sizeof line, f)) {
    char *p = strchr(line, ',');
    p = p ? strchr(p + 1, ',') : NULL;
    if (!p)
      break;
    p++;
    double *dst = row < 0 ? X : Y[row];
    for (int i = 0; i < N; i++) {
      char *end;
      dst[i] = strtod(p, &end);
      p = *end == ',' ? end + 1 : end;
    }
    row++;
  }
  fclose(f);
  return row == ROWS ? 0 : -1;
}

static void synth(void) {
  srand(1);
  for (int i = 0; i < N; i++)
    X[i] = 400 + 1400.0 * i / (N - 1);
  for (int r = 0; r < ROWS; r++)
    for (int i = 0; i < N; i++) {
      double u = (X[i] - 960) / 6;
      Y[r][i] = 2000 * exp(-X[i] / 700) + 500 / (1 + u * u) + rand() % 30;
    }
}

typedef int (*op_fn)(void *ctx, int row, double *buf);

static void bench(const char *name, op_fn fn, void *ctx) {
  double buf[N];
  int reps = 0;
  for (int r = 0; r < ROWS; r++) /* warm-up: plans, caches */
    if (fn(ctx, r, buf)) {
      printf("%-28s failed\n", name);
      return;
    }
  double t0 = now(), t;
  do {
    for (int r = 0; r < ROWS; r++)
      fn(ctx, r, buf);
    reps += ROWS;
  } while ((t = now() - t0) < 0.5);
  printf("%-28s %9.2f us/spectrum\n", name, 1e6 * t / reps);
}

static int op_smooth(void *ctx, int r, double *buf) {
  return cs_smoother_apply(ctx, X, Y[r], N, buf, NULL);
}
static int op_spikes(void *ctx, int r, double *buf) {
  memcpy(buf, Y[r], sizeof Y[r]);
  return cs_spikes_remove(buf, N, ctx, NULL, NULL, NULL);
}
static int op_norm(void *ctx, int r, double *buf) {
  memcpy(buf, Y[r], sizeof Y[r]);
  return cs_normalise(X, buf, N, ctx, NULL, NULL);
}
static cs_spectrum *SPEC[ROWS];
static int op_pipeline(void *ctx, int r, double *buf) {
  cs_spectrum *out;
  (void)buf;
  cs_status st = cs_pipeline_apply(ctx, SPEC[r], &out, NULL, NULL);
  cs_spectrum_free(out);
  return st;
}

static const char *py =
    "import sys, time\n"
    "import numpy as np\n"
    "from scipy.signal import savgol_filter\n"
    "p = sys.argv[1]\n"
    "try:\n"
    "    d = np.genfromtxt(p, delimiter=',', skip_header=1)[:, 2:]\n"
    "except OSError:\n"
    "    d = np.random.default_rng(1).normal(100, 10, (24, 1024))\n"
    "for r in d: savgol_filter(r, 11, 3)\n"
    "n = 0; t0 = time.perf_counter()\n"
    "while time.perf_counter() - t0 < 0.5:\n"
    "    for r in d: savgol_filter(r, 11, 3)\n"
    "    n += len(d)\n"
    "t = time.perf_counter() - t0\n"
    "print('%-28s %9.2f us/spectrum' % ('scipy savgol_filter 11/3', 1e6 * t / n))\n";

int main(void) {
  const char *root = getenv("CALCSPEC_SHARED");
  char path[4096];
  snprintf(path, sizeof path, "%s/peer/input.csv",
           root && *root ? root : "../shared");
  int have = load(path) == 0;
  if (!have)
    synth();
  printf("bench_smooth: %d spectra x %d points (%s)\n", ROWS, N,
         have ? "peer/input.csv" : "synthetic");
  const char *smooths[] = {"sg:11:3", "sg:25:4", "sg:11:3:1", "gauss:3"};
  for (int k = 0; k < 4; k++) {
    cs_smooth_opts o;
    cs_smoother *sm;
    char name[64];
    if (cs_smooth_opts_parse(smooths[k], &o, NULL) ||
        cs_smoother_new(&o, &sm, NULL))
      return 1;
    snprintf(name, sizeof name, "smooth %s (fftw)", smooths[k]);
    bench(name, op_smooth, sm);
    cs_smoother_free(sm);
  }
  cs_spike_opts so = cs_spike_opts_default();
  bench("spikes auto", op_spikes, &so);
  const char *norms[] = {"vector", "snv", "max"};
  for (int k = 0; k < 3; k++) {
    cs_norm_opts no;
    char name[64];
    if (cs_norm_opts_parse(norms[k], &no, NULL))
      return 1;
    snprintf(name, sizeof name, "normalise %s", norms[k]);
    bench(name, op_norm, &no);
  }
  for (int r = 0; r < ROWS; r++)
    if (cs_spectrum_new(X, Y[r], N, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &SPEC[r],
                        NULL))
      return 1;
  const char *pipes[] = {
      "crop 700:1800\nspikes 6:3\nsmooth sg:11:3\nnormalise snv\n"
      "resample 700:1800:1\n",
      "crop 700:1800\nspikes 6:3\nbaseline arpls:lam=1e5\nsmooth sg:11:3\n"
      "normalise vector\nresample 700:1800:1\n"};
  const char *pnames[] = {"pipeline (no baseline)", "pipeline (arpls)"};
  for (int k = 0; k < 2; k++) {
    cs_pipeline *p;
    cs_error err;
    if (cs_pipeline_parse(pipes[k], &p, &err)) {
      printf("%s: %s\n", pnames[k], err.msg);
      return 1;
    }
    bench(pnames[k], op_pipeline, p);
    cs_pipeline_free(p);
  }
  for (int r = 0; r < ROWS; r++)
    cs_spectrum_free(SPEC[r]);
  fflush(stdout);
  /* scipy for comparison: python3 from PATH, then the system one (Debian's
   * python3-scipy installs there) */
  const char *pys[] = {"python3", "/usr/bin/python3"};
  for (int k = 0; k < 2; k++) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s -c 'import scipy.signal' 2>/dev/null",
             pys[k]);
    if (system(cmd) != 0)
      continue;
    char tmpl[] = "/tmp/bench_smooth_XXXXXX";
    int fd = mkstemp(tmpl);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
      break;
    fputs(py, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s %s '%s'", pys[k], tmpl, path);
    if (system(cmd) != 0)
      printf("scipy comparison failed\n");
    remove(tmpl);
    return 0;
  }
  printf("scipy savgol_filter: skipped (python3 cannot import scipy; apt-get "
         "install python3-scipy)\n");
  return 0;
}
