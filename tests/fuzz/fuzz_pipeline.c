/* fuzz_pipeline.c: pipeline text (cs_pipeline_parse, which parses every
 * step's options: spikes, baseline, smooth, normalise, crop, resample).  A
 * pipeline that parses must format to text that parses to the same text
 * (the round trip models rely on), and is applied to a small spectrum. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) /* pipeline texts are a few lines */
    return 0;
  char *text = fuzz_cstr(data, size);
  cs_pipeline *p = NULL, *q = NULL;
  cs_error err;
  if (cs_pipeline_parse(text, &p, &err)) {
    if (p)
      abort();
    fuzz_check_error(&err);
    free(text);
    return 0;
  }
  free(text);
  char *t1 = NULL, *t2 = NULL;
  if (cs_pipeline_format(p, &t1, &err) || cs_pipeline_parse(t1, &q, &err) ||
      cs_pipeline_format(q, &t2, &err) || strcmp(t1, t2))
    abort(); /* the canonical text must read back identically */
  double x[256], y[256];
  for (int i = 0; i < 256; i++) {
    x[i] = 600 + 4.0 * i;
    y[i] = 1000 + 800.0 / (1 + (x[i] - 960) * (x[i] - 960) / 25) + i;
  }
  cs_spectrum *s = NULL, *out = NULL;
  if (cs_spectrum_new(x, y, 256, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &s, &err))
    abort();
  if (cs_pipeline_apply(p, s, &out, NULL, &err) == CS_OK) {
    size_t n = cs_spectrum_n(out);
    const double *oy = cs_spectrum_y(out);
    for (size_t k = 0; k < n; k++)
      if (oy[k] - oy[k] != 0)
        abort(); /* never NaN/Inf out of the pipeline */
  } else {
    fuzz_check_error(&err);
  }
  cs_spectrum_free(out);
  cs_spectrum_free(s);
  free(t1);
  free(t2);
  cs_pipeline_free(p);
  cs_pipeline_free(q);
  return 0;
}
