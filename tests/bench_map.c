/* bench_map.c: a Raman map generated on the fly and pushed through
 * classification (QC, PCA/LDA, NNLS) and composition, as a mapping run
 * would be: CALCSPEC_MAP_N pixels (default 10^6) of 1024 points on
 * CALCSPEC_MAP_THREADS threads (default 2), in blocks of 256 pixels.
 * Each pixel is one of 240
 * noiseless SYNTHETIC spots (cs_simulate: 40 per class, minerals at 20-100 %
 * of the volume) with fresh shot noise, so nothing is stored but one result
 * byte and one carbonate value per pixel.  Prints time, us per pixel and
 * peak RSS.  A benchmark, not a test. */
#define _POSIX_C_SOURCE 200809L
#include "calcspec.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define POOL_PER_CLASS 40
#define POOL (POOL_PER_CLASS * CS_SIM__COUNT)

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
  const cs_model *m;
  const double *x;          /* shared axis, n points */
  const double *pool;       /* POOL x n noiseless spectra */
  const cs_calibration *cal; /* built-in (SYNTHETIC) carbonate calibration */
  size_t n, npix, nthreads, t;
  unsigned char *cls;       /* per pixel: index into the model's classes, 255 unknown/error */
  float *carbonate;         /* per pixel, NAN when not measured */
  size_t errors;
} job;

/* xorshift64* and a Box-Muller pair: cheap, per thread, reproducible */
static uint64_t next(uint64_t *s) {
  *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
  return *s * 2685821657736338717ULL;
}
static double normal(uint64_t *s) {
  double u = ((double)(next(s) >> 11) + 0.5) / 9007199254740992.0;
  double v = ((double)(next(s) >> 11) + 0.5) / 9007199254740992.0;
  return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* Each thread takes blocks of BLOCK consecutive pixels: classification
 * per pixel, then the block's composition in one
 * cs_composition_measure_batch (the apatite pixels share one band-shape
 * fit, each gets its own areas: the path calcspec.h gives for maps). */
#define BLOCK 256

static void *run(void *arg) {
  job *j = arg;
  size_t nclass = cs_model_class_count(j->m);
  double *y = malloc(j->n * sizeof *y);
  cs_spectrum **s = calloc(BLOCK, sizeof *s);
  const char **lab = calloc(BLOCK, sizeof *lab);
  cs_report *r = calloc(BLOCK, sizeof *r);
  cs_composition *c = calloc(BLOCK, sizeof *c);
  size_t idx[BLOCK];
  uint64_t rng = 0x9E3779B97F4A7C15ULL * (j->t + 1);
  if (!y || !s || !lab || !r || !c) {
    j->errors++;
    goto out;
  }
  for (size_t b0 = j->t * BLOCK; b0 < j->npix; b0 += j->nthreads * BLOCK) {
    size_t nb = j->npix - b0 < BLOCK ? j->npix - b0 : BLOCK, nm = 0;
    for (size_t k = 0; k < nb; k++) {
      size_t i = b0 + k;
      const double *src = j->pool + (i * 7919 % POOL) * j->n;
      for (size_t q = 0; q < j->n; q++)
        y[q] = src[q] + sqrt(src[q] > 1 ? src[q] : 1) * normal(&rng);
      cs_error err;
      cs_spectrum *sp = NULL;
      j->cls[i] = 255;
      j->carbonate[i] = NAN;
      if (cs_spectrum_new(j->x, y, j->n, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &sp, &err)) {
        j->errors++;
        continue;
      }
      cs_spectrum_set_laser_nm(sp, 785);
      cs_spectrum_set_technique(sp, CS_TECH_RAMAN);
      if (cs_classify_spectrum(j->m, sp, NULL, &r[nm], &err)) {
        j->errors++;
        cs_spectrum_free(sp);
        continue;
      }
      if (r[nm].classified)
        for (size_t g = 0; g < nclass; g++)
          if (!strcmp(r[nm].result.label, cs_model_class_name(j->m, g)))
            j->cls[i] = (unsigned char)g;
      s[nm] = sp;
      lab[nm] = r[nm].classified ? r[nm].result.label : "unknown";
      idx[nm] = i;
      nm++;
    }
    cs_error err;
    if (nm && cs_composition_measure_batch((const cs_spectrum *const *)s, lab, nm, j->cal, c, &err))
      j->errors++;
    else
      for (size_t k = 0; k < nm; k++)
        if (c[k].valid & CS_COMP_CARBONATE)
          j->carbonate[idx[k]] = (float)c[k].carbonate_wt;
    for (size_t k = 0; k < nm; k++)
      cs_spectrum_free(s[k]), s[k] = NULL;
  }
out:
  free(y), free(s), free(lab), free(r), free(c);
  return NULL;
}

int main(void) {
  const char *e = getenv("CALCSPEC_MAP_N");
  size_t npix = e ? strtoul(e, NULL, 10) : 1000000;
  e = getenv("CALCSPEC_MAP_THREADS");
  size_t nth = e ? strtoul(e, NULL, 10) : 2;
  if (npix < 1 || nth < 1 || nth > 64) {
    fprintf(stderr, "bench_map: CALCSPEC_MAP_N >= 1, CALCSPEC_MAP_THREADS 1..64\n");
    return 2;
  }
  cs_error err;
  cs_model *m;
  if (cs_model_default(CS_TECH_RAMAN, &m, &err)) {
    fprintf(stderr, "bench_map: %s\n", err.msg);
    return 1;
  }
  /* the pool: noiseless spots on one 1024-pixel axis (no axis error, so
   * every spot shares the axis, as the pixels of one map do) */
  double *pool = NULL, *x = NULL;
  size_t n = 0;
  for (int c = 0; c < CS_SIM__COUNT; c++)
    for (int k = 0; k < POOL_PER_CLASS; k++) {
      cs_sim_opts o = cs_sim_opts_default((cs_sim_class)c, CS_TECH_RAMAN);
      o.seed = 7000 + (unsigned long long)(c * POOL_PER_CLASS + k);
      o.snr = (cs_sim_range){0, 0};
      o.shift_cm1 = (cs_sim_range){0, 0};
      o.stretch = (cs_sim_range){0, 0};
      o.fluor_ratio = (cs_sim_range){1, 10};
      if (c != CS_SIM_TISSUE)
        o.mineral_frac = (cs_sim_range){0.2, 1};
      cs_dataset *ds;
      if (cs_simulate(&o, &ds, &err)) {
        fprintf(stderr, "bench_map: %s\n", err.msg);
        return 1;
      }
      const cs_spectrum *s = cs_dataset_get(ds, 0);
      if (!pool) {
        n = cs_spectrum_n(s);
        pool = malloc(POOL * n * sizeof *pool);
        x = malloc(n * sizeof *x);
        if (!pool || !x)
          return 1;
        memcpy(x, cs_spectrum_x(s), n * sizeof *x);
      }
      /* scale so the strongest band is about 400 counts: SNR ~20 */
      const double *y = cs_spectrum_y(s);
      double *dst = pool + (size_t)(c * POOL_PER_CLASS + k) * n;
      for (size_t i = 0; i < n; i++)
        dst[i] = 0.4 * y[i];
      cs_dataset_free(ds);
    }
  cs_calibration cal;
  if (cs_calibration_default(CS_TECH_RAMAN, &cal, &err)) {
    fprintf(stderr, "bench_map: %s\n", err.msg);
    return 1;
  }
  unsigned char *cls = malloc(npix);
  float *carb = malloc(npix * sizeof *carb);
  job *jobs = calloc(nth, sizeof *jobs);
  pthread_t *th = calloc(nth, sizeof *th);
  if (!cls || !carb || !jobs || !th)
    return 1;
  printf("bench_map: %zu pixels x %zu points (SYNTHETIC, generated on the fly), "
         "classify + composition on %zu threads\n", npix, n, nth);
  double t0 = now();
  for (size_t t = 0; t < nth; t++) {
    jobs[t] = (job){m, x, pool, &cal, n, npix, nth, t, cls, carb, 0};
    if (pthread_create(&th[t], NULL, run, &jobs[t])) {
      fprintf(stderr, "bench_map: cannot start a thread\n");
      return 1;
    }
  }
  size_t errors = 0;
  for (size_t t = 0; t < nth; t++) {
    pthread_join(th[t], NULL);
    errors += jobs[t].errors;
  }
  double dt = now() - t0;
  size_t count[256] = {0}, ncarb = 0;
  for (size_t i = 0; i < npix; i++) {
    count[cls[i]]++;
    ncarb += !isnan(carb[i]);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("  %.1f s, %.1f us per pixel (wall x threads / pixels: %.1f us), peak RSS %.0f MB\n",
         dt, 1e6 * dt / (double)npix, 1e6 * dt * (double)nth / (double)npix,
         (double)ru.ru_maxrss / 1024.0);
  printf("  classes:");
  for (size_t g = 0; g < cs_model_class_count(m); g++)
    printf(" %s %zu", cs_model_class_name(m, g), count[g]);
  printf(", unknown %zu; carbonate measured on %zu; errors %zu\n", count[255], ncarb, errors);
  if (npix >= 1000000)
    printf("  goal (issue 15): < 60 s and < 200 MB for 10^6 pixels on 2 cores: %s\n",
           dt < 60 && ru.ru_maxrss < 200 * 1024 ? "met" : "NOT met");
  free(cls), free(carb), free(jobs), free(th), free(pool), free(x);
  cs_model_free(m);
  return errors ? 1 : 0;
}
