/* fuzz_request.c: one `calcspec stream` request line (src/cli/request.c:
 * the yajl event parser and the spectrum built from "x"/"y"), on exactly
 * the input bytes; the direct scan checked against yajl on each input. */
#include "fuzz.h"
#include "request.h"

/* The direct scan and yajl give the same request or the same message. */
static void same_as_yajl(const cli_request *a, int rca, const char *msga,
                         const uint8_t *data, size_t size) {
  cli_request b;
  char msgb[CS_ERROR_MSG_MAX];
  cli_request_fast = 0;
  int rcb = cli_request_parse(&b, (const char *)data, size, msgb, sizeof msgb);
  cli_request_fast = 1;
  if (rca != rcb || (rca && strcmp(msga, msgb)))
    abort();
  if (!rca) {
    if (!json_equal(a->obj, b.obj))
      abort();
    for (int t = 0; t < 2; t++)
      if (a->seen[t] != b.seen[t] || a->n[t] != b.n[t] ||
          (a->n[t] && memcmp(a->v[t], b.v[t], a->n[t] * sizeof *a->v[t])))
        abort();
  }
  cli_request_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cli_request rq;
  char msg[CS_ERROR_MSG_MAX];
  int rc = cli_request_parse(&rq, (const char *)data, size, msg, sizeof msg);
  same_as_yajl(&rq, rc, msg, data, size);
  if (rc == 0 && !json_object_get(rq.obj, "file")) {
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
