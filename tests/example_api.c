/* example_api.c: the smallest program using the installed libcalcspec.
 * Built by tests/install_check.sh with `pkg-config --cflags --libs calcspec`. */
#include <calcspec.h>
#include <math.h>
#include <stdio.h>

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
  return 0;
}
