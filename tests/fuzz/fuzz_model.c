/* fuzz_model.c: the model file parser, cs_model_load_text, on exactly the
 * input bytes (not NUL-terminated: the API says it need not be, and ASan
 * catches any read past len).  A model that loads classifies one
 * spectrum. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_model *m = NULL;
  cs_error err;
  if (cs_model_load_text((const char *)data, size, &m, &err)) {
    if (m)
      abort();
    fuzz_check_error(&err);
    return 0;
  }
  double x[700], y[700];
  for (int i = 0; i < 700; i++) {
    x[i] = 300 + 2.0 * i;
    y[i] = 100 + 50 * (i % 37 == 0) + 0.01 * i;
  }
  cs_report rep;
  if (cs_classify_arrays(m, x, y, 700, CS_AXIS_RAMAN_SHIFT, 785, NULL, &rep,
                         &err))
    fuzz_check_error(&err);
  cs_model_free(m);
  return 0;
}
