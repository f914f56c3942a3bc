/* bench_baseline.c: microseconds per 1024-point spectrum for every baseline
 * method on one core, and the same spectra through a straightforward
 * scipy.sparse arPLS (tests/bench_baseline.py) when python3-scipy is there.
 * Run by `make bench`. */
#define _GNU_SOURCE
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calcspec.h"
#include "internal.h"

#define NPTS 1024
#define NSPEC 24

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Deterministic pseudo-random numbers (xorshift64*), Box-Muller normals. */
static unsigned long long rng = 88172645463325252ULL;
static double unif(void) {
  rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
  return (double)((rng * 2685821657736338717ULL) >> 11) * 0x1.0p-53;
}
static double normal(void) {
  double u = unif(), v = unif();
  return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* Spectra like ../shared/peer/input.csv: Lorentzian bands on an exponential
 * fluorescence background with shot noise, 400..1800 cm-1. */
static void make_spectra(double *x, double *y) {
  static const double centre[] = {960, 1070, 1450, 1660, 875};
  for (size_t i = 0; i < NPTS; i++)
    x[i] = 400 + 1400.0 * (double)i / (NPTS - 1);
  for (size_t s = 0; s < NSPEC; s++) {
    double amp = 2000 + 300 * (double)s, decay = 600 + 20 * (double)s;
    for (size_t i = 0; i < NPTS; i++) {
      double v = amp * exp(-(x[i] - 400) / decay) + 200;
      for (size_t k = 0; k < 5; k++) {
        double g = 4 + (double)k, h = 300.0 * (double)((s + k) % 4 + 1);
        double d = (x[i] - centre[k]) / g;
        v += h / (1 + d * d);
      }
      y[s * NPTS + i] = v + sqrt(v) * normal();
    }
  }
}

/* Time fits over all spectra until at least min_s seconds have passed. */
static double bench(const double *x, const double *y, const char *spec,
                    int lapack, double min_s) {
  cs_baseline_opts o;
  cs_error err;
  if (cs_baseline_opts_parse(spec, &o, &err) != CS_OK) {
    fprintf(stderr, "bench: %s: %s\n", spec, err.msg);
    exit(1);
  }
  double z[NPTS];
  long count = 0;
  double t0 = now(), t;
  do {
    for (size_t s = 0; s < NSPEC; s++, count++)
      if (csi_baseline_fit_solver(x, y + s * NPTS, NPTS, &o, z, lapack, &err) !=
          CS_OK) {
        fprintf(stderr, "bench: %s: %s\n", spec, err.msg);
        exit(1);
      }
  } while ((t = now() - t0) < min_s);
  return t / (double)count * 1e6;
}

/* The same fits through cs_baseline_fit_batch, `copies` copies of the
 * NSPEC spectra in one block, with the lane kernel `simd`. */
static double bench_batch(const double *x, const double *y, const char *spec,
                          size_t copies, csi_simd simd, double min_s) {
  cs_baseline_opts o;
  cs_error err;
  if (cs_baseline_opts_parse(spec, &o, &err) != CS_OK)
    exit(1);
  size_t cnt = NSPEC * copies;
  double *yb = malloc(cnt * NPTS * sizeof *yb), *zb = malloc(cnt * NPTS * sizeof *zb);
  if (!yb || !zb)
    exit(1);
  for (size_t c = 0; c < copies; c++)
    memcpy(yb + c * NSPEC * NPTS, y, NSPEC * NPTS * sizeof *y);
  long count = 0;
  csi_baseline_simd_force = simd;
  double t0 = now(), t;
  do {
    if (cs_baseline_fit_batch(x, yb, NPTS, cnt, &o, zb, &err) != CS_OK) {
      fprintf(stderr, "bench: %s: %s\n", spec, err.msg);
      exit(1);
    }
    count += (long)cnt;
  } while ((t = now() - t0) < min_s);
  csi_baseline_simd_force = CSI_SIMD_AUTO;
  free(yb), free(zb);
  return t / (double)count * 1e6;
}

int main(int argc, char **argv) {
  (void)argc;
  /* One core: OpenBLAS reads its thread count at load time, so re-run
   * ourselves with it set; pin to the first allowed CPU (python inherits). */
  const char *ob = getenv("OPENBLAS_NUM_THREADS");
  if (!ob || strcmp(ob, "1") != 0) {
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &set)) {
        CPU_ZERO(&set);
        CPU_SET(c, &set);
        sched_setaffinity(0, sizeof set, &set);
        break;
      }
  }
  static double x[NPTS], y[NSPEC * NPTS];
  make_spectra(x, y);

  static const char *const specs[] = {
      "asls:lam=1e6,p=0.01", "arpls:lam=1e5",         "airpls:lam=1e6",
      "modpoly:poly_order=5", "imodpoly:poly_order=5", "snip:max_half_window=40",
      "snip",
  };
  printf("bench_baseline: %d spectra x %d points, one core, OPENBLAS_NUM_THREADS=1\n",
         NSPEC, NPTS);
  printf("%-28s %12s\n", "method", "us/spectrum");
  double arpls_us = 0;
  for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
    double us = bench(x, y, specs[k], 0, 1.0);
    printf("%-28s %12.1f\n", specs[k], us);
    if (strcmp(specs[k], "arpls:lam=1e5") == 0)
      arpls_us = us;
    if (specs[k][0] == 'a') /* Whittaker: also the LAPACK reference solver */
      printf("%-28s %12.1f  (dpbtrf/dpbtrs)\n", specs[k],
             bench(x, y, specs[k], 1, 1.0));
  }

  /* Several spectra at once (one per vector lane), side by side with the
   * scalar solver in this run: blocks of 24 and of 192 spectra. */
  static const char *const wspecs[] = {"arpls:lam=1e5", "asls:lam=1e6,p=0.01",
                                       "airpls:lam=1e6"};
  printf("%-22s %8s %10s %10s %10s %10s\n", "batch (us/spectrum)", "scalar",
         "portable", "avx2", "avx512", "speed-up");
  double batch_arpls = 0;
  for (size_t k = 0; k < 3; k++)
    for (size_t copies = 1; copies <= 8; copies += 7) {
      double us[5] = {0}, best = 0;
      us[1] = bench(x, y, wspecs[k], 0, 0.5);
      for (csi_simd p = CSI_SIMD_PORTABLE; p <= CSI_SIMD_AVX512; p++)
        if (csi_baseline_simd_lanes(p)) {
          us[p] = bench_batch(x, y, wspecs[k], copies, p, 0.5);
          if (best == 0 || us[p] < best)
            best = us[p];
        }
      char label[64];
      snprintf(label, sizeof label, "%s x%zu", wspecs[k], NSPEC * copies);
      printf("%-22s %8.1f", label, us[1]);
      for (int p = 2; p <= 4; p++)
        if (us[p] > 0)
          printf(" %10.1f", us[p]);
        else
          printf(" %10s", "-");
      printf(" %9.1fx\n", us[1] / best);
      if (k == 0 && copies == 8)
        batch_arpls = best;
    }
  printf("arpls batch (best path, 192 spectra): %.1f us/spectrum (issue 15 "
         "target <= 20 us); %.1fx pybaselines' ~600 us\n", batch_arpls,
         600.0 / batch_arpls);

  /* pybaselines itself is not packaged in Debian; ../shared/peer/README.md
   * gives its arPLS time on the same machine: ~600 us per spectrum. */
  printf("arpls speed-up vs pybaselines 1.2.1 (~600 us, peer README): %.1fx "
         "(issue 4 target >= 20x)\n", 600.0 / arpls_us);

  /* The pyenv or venv "python3" may lack scipy while Debian's has it. */
  static const char *const pythons[] = {"python3", "/usr/bin/python3"};
  const char *py = NULL;
  char cmd[1200];
  for (size_t k = 0; k < 2 && !py; k++) {
    snprintf(cmd, sizeof cmd,
             "%s -c 'import numpy, scipy.sparse, scipy.special' >/dev/null "
             "2>&1",
             pythons[k]);
    if (system(cmd) == 0)
      py = pythons[k];
  }
  if (!py) {
    printf("python3-scipy not installed: skipped\n");
    return 0;
  }
  char csv[] = "/tmp/calcspec-bench-XXXXXX";
  int fd = mkstemp(csv);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    fprintf(stderr, "bench: cannot write a temporary file\n");
    return 1;
  }
  for (size_t s = 0; s < NSPEC; s++)
    for (size_t i = 0; i < NPTS; i++)
      fprintf(f, "%.17g%c", y[s * NPTS + i], i + 1 < NPTS ? ',' : '\n');
  fclose(f);
  /* The script sits next to this file's source. */
  char dir[512];
  snprintf(dir, sizeof dir, "%s", __FILE__);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  snprintf(cmd, sizeof cmd, "%s %s/bench_baseline.py %s 1e5 50 1e-3", py, dir,
           csv);
  FILE *p = popen(cmd, "r");
  double py_us = 0;
  char line[256];
  while (p && fgets(line, sizeof line, p)) {
    fputs(line, stdout);
    sscanf(line, "arpls_python_us %lf", &py_us);
  }
  int rc = p ? pclose(p) : -1;
  remove(csv);
  if (rc != 0 || py_us <= 0) {
    fprintf(stderr, "bench: %s failed\n", cmd);
    return 1;
  }
  printf("arpls speed-up vs python/scipy.sparse: %.1fx\n", py_us / arpls_us);
  return 0;
}
