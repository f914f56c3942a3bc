/* fuzz_calibration.c: carbonate calibration files (cs_calibration_parse,
 * `calcspec cores -c CAL`), on exactly the input bytes.  A calibration
 * that parses must format and parse back to the same text. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_calibration c, d;
  cs_error err;
  if (cs_calibration_parse((const char *)data, size, &c, &err)) {
    fuzz_check_error(&err);
    return 0;
  }
  char *t1 = NULL, *t2 = NULL;
  if (cs_calibration_format(&c, &t1, &err) ||
      cs_calibration_parse(t1, strlen(t1), &d, &err) ||
      cs_calibration_format(&d, &t2, &err) || strcmp(t1, t2))
    abort();
  cs_free(t1);
  cs_free(t2);
  return 0;
}
