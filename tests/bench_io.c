/* bench_io.c: reading and writing speed of calcspec's own AnIML files and of
 * the real files in ../shared (if present).  A benchmark, not a test. */
#define _POSIX_C_SOURCE 200809L
#include "calcspec.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* MB/s of csi_base64_decode on 16 MB of base64 text wrapped at 76 columns
 * (as AnIML writers commonly do), input bytes per second. */
static void bench_base64(void) {
  size_t nraw = 12u << 20;
  unsigned char *raw = malloc(nraw);
  if (!raw)
    return;
  unsigned x = 12345;
  for (size_t i = 0; i < nraw; i++)
    raw[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 16);
  char *b64 = csi_base64_encode(raw, nraw);
  size_t n = b64 ? strlen(b64) : 0;
  char *wrapped = b64 ? malloc(n + n / 76 + 2) : NULL;
  if (!wrapped) {
    free(raw);
    free(b64);
    return;
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    wrapped[m++] = b64[i];
    if (i % 76 == 75)
      wrapped[m++] = '\n';
  }
  wrapped[m] = '\0';
  const char *what[2] = {"base64 decode, one line", "base64 decode, 76-col lines"};
  const char *text[2] = {b64, wrapped};
  size_t len[2] = {n, m};
  for (int k = 0; k < 2; k++) {
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
      unsigned char *out;
      size_t nout;
      cs_error err;
      double t0 = now();
      if (csi_base64_decode(text[k], len[k], &out, &nout, &err))
        break;
      double dt = now() - t0;
      best = dt < best ? dt : best;
      if (nout != nraw || memcmp(out, raw, nraw))
        printf("  base64 round trip FAILED\n");
      free(out);
    }
    printf("  %-34s %9.1f MB/s (best of 5, %.1f MB of text)\n", what[k],
           len[k] / best / 1e6, len[k] / 1e6);
  }
  free(raw);
  free(b64);
  free(wrapped);
}

/* MB/s of the number parser alone on cells of three kinds: counts
 * ("1234567"), %.6g and %.17g: csi_strtod (strtod_l, the old path) against
 * the CSV reader's path, csi_parse_decimal with strtod as the fallback. */
static void bench_numbers(void) {
  enum { N = 1 << 20 };
  const char *kind[3] = {"counts", "%.6g", "%.17g"};
  char *text = malloc((size_t)N * 26);
  size_t *off = malloc((N + 1) * sizeof *off);
  if (!text || !off) {
    free(text);
    free(off);
    return;
  }
  for (int k = 0; k < 3; k++) {
    unsigned x = 99;
    size_t m = 0;
    for (int i = 0; i < N; i++) {
      x = x * 1103515245u + 12345u;
      double v = (x >> 4) / 1000.0;
      off[i] = m;
      m += (size_t)(k == 0   ? sprintf(text + m, "%u", x >> 8)
                    : k == 1 ? sprintf(text + m, "%.6g", v)
                             : sprintf(text + m, "%.17g", v));
      text[m++] = '\0';
    }
    off[N] = m;
    double best[2] = {1e30, 1e30}, sum[2] = {0, 0};
    for (int r = 0; r < 3; r++)
      for (int w = 0; w < 2; w++) {
        double t0 = now(), acc = 0;
        for (int i = 0; i < N; i++) {
          const char *p = text + off[i];
          double v;
          if (w == 0 || csi_parse_decimal(p, off[i + 1] - off[i] - 1, 0, &v))
            v = csi_strtod(p, NULL);
          acc += v;
        }
        double dt = now() - t0;
        best[w] = dt < best[w] ? dt : best[w];
        sum[w] = acc;
      }
    if (sum[0] != sum[1])
      printf("  number parser DISAGREES with strtod on %s\n", kind[k]);
    printf("  parse numbers %-6s strtod %6.1f MB/s, fast path %6.1f MB/s\n",
           kind[k], m / best[0] / 1e6, m / best[1] / 1e6);
  }
  free(text);
  free(off);
}

/* MB/s of reading a CSV matrix (x + 500 spectra of 1024 points, %.17g-like
 * numbers with 6-17 significant digits and counts), file bytes per second;
 * the number parser dominates. */
static void bench_csv(const char *dir) {
  char path[512];
  snprintf(path, sizeof path, "%s/matrix.csv", dir);
  FILE *f = fopen(path, "w");
  if (!f)
    return;
  unsigned x = 777;
  fputs("x", f);
  for (int k = 0; k < 500; k++)
    fprintf(f, ",y%d", k + 1);
  fputc('\n', f);
  for (int i = 0; i < 1024; i++) {
    fprintf(f, "%.17g", 300 + i * (1600.0 / 1023));
    for (int k = 0; k < 500; k++) {
      x = x * 1103515245u + 12345u;
      double v = 1000 + (x >> 8) / 4096.0;
      if (k % 3 == 0)
        fprintf(f, ",%.0f", v);
      else if (k % 3 == 1)
        fprintf(f, ",%.6g", v);
      else
        fprintf(f, ",%.17g", v);
    }
    fputc('\n', f);
  }
  long bytes = ftell(f);
  fclose(f);
  double best = 1e30;
  for (int r = 0; r < 3; r++) {
    cs_dataset *ds;
    cs_error err;
    double t0 = now();
    if (cs_dataset_read(path, "csv", &ds, &err)) {
      printf("  %-34s skipped: %s\n", "read CSV matrix", err.msg);
      remove(path);
      return;
    }
    double dt = now() - t0;
    best = dt < best ? dt : best;
    cs_dataset_free(ds);
  }
  printf("  %-34s %9.1f MB/s (best of 3, %.1f MB, 500 x 1024)\n",
         "read CSV matrix", bytes / best / 1e6, bytes / 1e6);
  remove(path);
}

int main(void) {
  const char *shared = getenv("CALCSPEC_SHARED");
  char dir[] = "/tmp/calcspec-bench-XXXXXX", path[512];
  if (!mkdtemp(dir))
    return 1;
  printf("bench_io: file reading/writing (median of repeated runs is not "
         "taken; mean over reps)\n");
  /* 100 spectra of 1340 points: a modest map */
  bench_base64();
  bench_numbers();
  bench_csv(dir);
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
