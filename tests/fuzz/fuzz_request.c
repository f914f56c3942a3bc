/* fuzz_request.c: one `calcspec stream` request line (src/cli/request.c:
 * the yajl event parser and the spectrum built from "x"/"y"), on exactly
 * the input bytes. */
#include "fuzz.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cli_request rq;
  char msg[CS_ERROR_MSG_MAX];
  if (cli_request_parse(&rq, (const char *)data, size, msg, sizeof msg) == 0 &&
      !json_object_get(rq.obj, "file")) {
    cs_spectrum *s = NULL;
    cs_error err = {CS_OK, ""};
    if (cli_request_spectrum(&rq, &s, &err) == 0) {
      if (!s)
        abort();
      const double *y = cs_spectrum_y(s);
      for (size_t k = 0; k < cs_spectrum_n(s); k++)
        if (y[k] - y[k] != 0)
          abort();
    }
    cs_spectrum_free(s);
  }
  cli_request_free(&rq);
  return 0;
}
