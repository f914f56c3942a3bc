/* fuzz_findings.c: pathologists' findings tables (cs_findings_parse, used
 * by `calcspec validate --findings`), on exactly the input bytes. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_finding *rows = NULL;
  size_t n = 0;
  cs_error err;
  if (cs_findings_parse((const char *)data, size, &rows, &n, &err)) {
    fuzz_check_error(&err);
  } else {
    for (size_t i = 0; i < n; i++)
      if (!rows[i].core_id[0] || strlen(rows[i].core_id) >= CS_CORE_ID_MAX)
        abort();
  }
  free(rows);
  return 0;
}
