/* bench_io.c: reading and writing speed of calcspec's own AnIML files and of
 * the real files in ../shared (if present).  A benchmark, not a test. */
#define _POSIX_C_SOURCE 200809L
#include "calcspec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void time_read(const char *label, const char *path, int reps) {
  cs_error err;
  double t0 = now();
  size_t n = 0;
  for (int r = 0; r < reps; r++) {
    cs_dataset *ds;
    if (cs_dataset_read(path, NULL, &ds, &err)) {
      printf("  %-34s skipped: %s\n", label, err.msg);
      return;
    }
    n = cs_dataset_count(ds);
    cs_dataset_free(ds);
  }
  double dt = (now() - t0) / reps;
  printf("  %-34s %9.1f us per file (%zu spectra)\n", label, dt * 1e6, n);
}

int main(void) {
  const char *shared = getenv("CALCSPEC_SHARED");
  char dir[] = "/tmp/calcspec-bench-XXXXXX", path[512];
  if (!mkdtemp(dir))
    return 1;
  printf("bench_io: file reading/writing (median of repeated runs is not "
         "taken; mean over reps)\n");
  /* 100 spectra of 1340 points: a modest map */
  cs_dataset *ds = NULL;
  if (cs_dataset_new(&ds, NULL)) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  cs_error err;
  for (int k = 0; k < 100; k++) {
    double x[1340], y[1340];
    for (int i = 0; i < 1340; i++) {
      x[i] = 200 + i * 1.2;
      y[i] = 1000 * exp(-pow((x[i] - 960) / 8, 2)) + k;
    }
    cs_spectrum *s;
    cs_spectrum_new(x, y, 1340, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &s, &err);
    cs_dataset_push(ds, s, &err);
  }
  snprintf(path, sizeof path, "%s/map.animl", dir);
  double t0 = now();
  for (int r = 0; r < 10; r++)
    cs_dataset_write(ds, path, NULL, &err);
  printf("  %-34s %9.1f us per file (100 x 1340 points)\n", "write AnIML",
         (now() - t0) / 10 * 1e6);
  time_read("read AnIML (100 x 1340 points)", path, 10);
  cs_dataset_free(ds);
  remove(path);
  if (shared) {
    const char *files[] = {"formats/animl/pyAnIML_real_life.animl",
                           "formats/jcamp_dx/sqzdupd1.jdx",
                           "formats/horiba_labspec_xml/jobinyvon_test_map_x3-y2.xml",
                           "formats/spe/spe_format_3.0.SPE",
                           "formats/ocean_procspec/OceanOptics_Linux.ProcSpec",
                           "formats/gaml/TN_OMNIC_FTIR.gaml",
                           "formats/csv/IR.CSV"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
      snprintf(path, sizeof path, "%s/%s", shared, files[i]);
      const char *base = files[i];
      for (const char *p = files[i]; *p; p++)
        if (*p == '/')
          base = p + 1;
      char label[64];
      snprintf(label, sizeof label, "read %s", base);
      time_read(label, path, 20);
    }
  }
  rmdir(dir);
  return 0;
}
