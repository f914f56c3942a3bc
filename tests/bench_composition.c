/* bench_composition.c: microseconds per carbonate measurement (Raman: spike
 * removal, IModPoly baseline and the band fit of 900-1110 cm^-1; FTIR: band
 * areas) on simulated apatite, SNR 30. */
#include "calcspec.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(void) {
  for (int tech = 0; tech < 2; tech++) {
    cs_technique t = tech ? CS_TECH_FTIR : CS_TECH_RAMAN;
    cs_sim_opts o = cs_sim_opts_default(CS_SIM_HYDROXYAPATITE, t);
    o.seed = 55;
    cs_dataset *all = NULL;
    if (cs_dataset_new(&all, NULL)) {
      fprintf(stderr, "out of memory\n");
      exit(1);
    }
    cs_error e;
    for (int i = 0; i < 200; i++) {
      cs_dataset *ds;
      o.seed = 55 + (unsigned)i;
      if (cs_simulate(&o, &ds, &e)) {
        fprintf(stderr, "bench_composition: %s\n", e.msg);
        return 1;
      }
      cs_dataset_push(all, cs_dataset_take(ds, 0), &e);
      cs_dataset_free(ds);
    }
    cs_calibration cal;
    if (cs_calibration_default(t, &cal, &e))
      return 1;
    double t0 = now(), iters = 0;
    for (size_t i = 0; i < cs_dataset_count(all); i++) {
      cs_composition c;
      if (cs_composition_measure(cs_dataset_get(all, i), "hydroxyapatite", &cal, &c, &e))
        return 1;
      iters += (double)c.fit_iterations;
    }
    double us = (now() - t0) * 1e6 / (double)cs_dataset_count(all);
    printf("bench_composition: %s carbonate: %.0f us per spectrum (%zu spectra, "
           "%.1f fit iterations on average)\n",
           cs_technique_name(t), us, cs_dataset_count(all),
           iters / (double)cs_dataset_count(all));
    cs_dataset_free(all);
  }
  return 0;
}
