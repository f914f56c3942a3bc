/* example_api.c: the smallest program using the installed libcalcspec.
 * Built by tests/install_check.sh with `pkg-config --cflags --libs calcspec`:
 * converts an axis, then classifies a spectrum given as arrays with the
 * model built into the library and prints class and QC. */
#include <calcspec.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* A spectrum as an acquisition script holds it: x (cm^-1) and counts.
 * Here read as two columns from stdin (e.g. `calcspec convert F -o -.csv`). */
static size_t read_xy(double **x, double **y) {
  size_t n = 0, cap = 0;
  char line[256];
  *x = *y = NULL;
  while (fgets(line, sizeof line, stdin)) {
    double a, b;
    if (line[0] == '#' || sscanf(line, "%lf%*[ ,\t]%lf", &a, &b) != 2)
      continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 1024;
      *x = realloc(*x, cap * sizeof **x);
      *y = realloc(*y, cap * sizeof **y);
      if (!*x || !*y)
        exit(1);
    }
    (*x)[n] = a, (*y)[n++] = b;
  }
  return n;
}

int main(void) {
  double x[] = {800, 850, 900}, y[] = {1, 5, 2};
  cs_spectrum *s;
  cs_error err;
  printf("calcspec %s\n", cs_version());
  if (cs_spectrum_new(x, y, 3, CS_AXIS_WAVELENGTH_NM, CS_Q_COUNTS, &s, &err)) {
    fprintf(stderr, "example: %s\n", err.msg);
    return 1;
  }
  if (cs_spectrum_to_raman_shift(s, 785.0, &err)) {
    fprintf(stderr, "example: %s\n", err.msg);
    cs_spectrum_free(s);
    return 1;
  }
  printf("peak at %.1f cm-1\n", cs_spectrum_x(s)[1]);
  cs_spectrum_free(s);

  double *sx, *sy;
  size_t n = read_xy(&sx, &sy);
  if (n == 0)
    return 0; /* no spectrum on stdin */
  cs_model *m;
  cs_report rep;
  if (cs_model_default(CS_TECH_RAMAN, &m, &err) ||
      cs_classify_arrays(m, sx, sy, n, CS_AXIS_RAMAN_SHIFT, NAN, NULL, &rep,
                         &err)) {
    fprintf(stderr, "example: %s\n", err.msg);
    return 1;
  }
  printf("class %s snr %.1f reacquire %d\n", rep.result.label, rep.qc.snr,
         rep.qc.reacquire);
  char *json;
  if (!cs_report_json(&rep, m, &json, &err)) {
    printf("%s\n", json);
    cs_free(json);
  }
  cs_model_free(m);
  free(sx);
  free(sy);
  return 0;
}
