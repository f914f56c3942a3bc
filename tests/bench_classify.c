/* bench_classify.c: classification throughput (one core, 1024-point Raman
 * spectra, preprocessing included) with the embedded model, and training
 * time for 10,000 simulated spectra.  A benchmark, not a test. */
#define _POSIX_C_SOURCE 200809L
#include "calcspec.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static cs_dataset *simulate(size_t per_class, unsigned long long seed) {
  cs_dataset *all = NULL;
  if (cs_dataset_new(&all, NULL)) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  cs_error err;
  for (int c = 0; c < CS_SIM__COUNT; c++)
    for (size_t i = 0; i < per_class; i++) {
      cs_sim_opts o = cs_sim_opts_default((cs_sim_class)c, CS_TECH_RAMAN);
      o.seed = seed + (unsigned long long)c * 100000 + i;
      cs_dataset *one;
      if (cs_simulate(&o, &one, &err)) {
        fprintf(stderr, "bench_classify: %s\n", err.msg);
        exit(1);
      }
      while (cs_dataset_count(one))
        cs_dataset_push(all, cs_dataset_take(one, 0), &err);
      cs_dataset_free(one);
    }
  return all;
}

int main(void) {
  cs_error err;
  cs_model *m;
  if (cs_model_default(CS_TECH_RAMAN, &m, &err)) {
    fprintf(stderr, "bench_classify: %s\n", err.msg);
    return 1;
  }
  printf("bench_classify: one core, 1024-point Raman spectra, preprocessing "
         "included\n");
  cs_dataset *ds = simulate(100, 1);
  size_t n = cs_dataset_count(ds);
  double t0 = now();
  for (int rep = 0; rep < 3; rep++)
    for (size_t i = 0; i < n; i++) {
      cs_result r;
      if (cs_model_classify(m, cs_dataset_get(ds, i), &r, &err)) {
        fprintf(stderr, "bench_classify: %s\n", err.msg);
        return 1;
      }
    }
  double dt = (now() - t0) / (3.0 * (double)n);
  printf("  classify (embedded model)       %8.0f spectra/s  (%.0f us each)\n",
         1.0 / dt, dt * 1e6);
  cs_dataset_free(ds);
  t0 = now();
  ds = simulate(1667, 7); /* 6 generator classes: 10,002 spectra */
  double tsim = now() - t0;
  cs_train_opts o = cs_train_opts_default(CS_TECH_RAMAN);
  t0 = now();
  cs_model *big;
  if (cs_model_train(ds, NULL, &o, &big, &err)) {
    fprintf(stderr, "bench_classify: %s\n", err.msg);
    return 1;
  }
  printf("  train on %zu spectra          %8.2f s  (simulating them took "
         "%.2f s)\n", cs_dataset_count(ds), now() - t0, tsim);
  cs_model_free(big);
  cs_dataset_free(ds);
  cs_model_free(m);
  return 0;
}
