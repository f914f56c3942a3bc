/* fuzz_read.c: one reader forced by name, FUZZ_READER (a string macro set
 * by the Makefile for every CS_READER line of src/readers.def, so a reader
 * added there is fuzzed too); "" means content sniffing, as
 * `calcspec info FILE` does.  Checks: no crash or sanitizer report; on
 * failure no dataset and a one-line message; on success finite values. */
#include "fuzz.h"

#ifndef FUZZ_READER
#error "build with -DFUZZ_READER='\"name\"' (see the Makefile's fuzz target)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(0, data, size);
  cs_dataset *ds = NULL;
  cs_error err;
  cs_status st = cs_dataset_read(path, *FUZZ_READER ? FUZZ_READER : NULL, &ds,
                                 &err);
  if (st) {
    if (ds)
      abort();
    fuzz_check_error(&err);
  } else {
    fuzz_check_dataset(ds);
  }
  cs_dataset_free(ds);
  return 0;
}
