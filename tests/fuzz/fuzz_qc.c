/* fuzz_qc.c: QC option text (cs_qc_opts_parse, `--qc SPEC`). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *spec = fuzz_cstr(data, size);
  cs_qc_opts o = cs_qc_opts_default(), keep = o;
  cs_error err;
  if (cs_qc_opts_parse(spec, &o, &err)) {
    fuzz_check_error(&err);
    if (memcmp(&o, &keep, sizeof o))
      abort(); /* changed only on success */
  }
  free(spec);
  return 0;
}
