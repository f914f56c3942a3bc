/* cmd_stream.c: `calcspec stream`: JSON Lines requests on stdin, one JSON
 * result line per request on stdout, flushed at once. */
#include "integ.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POINTS 1000000 /* per request; a detector has a few thousand */

static int help(void) {
  printf(
      "usage: calcspec stream [-m model.txt] [--qc SPEC]\n\n"
      "Reads one JSON request per line on stdin and writes one JSON result\n"
      "line per request on stdout, flushed at once:\n"
      "  {\"id\":1, \"x\":[...], \"y\":[...], \"axis\":\"raman_shift\", "
      "\"laser_nm\":785, \"core\":\"C1\"}\n"
      "  {\"id\":2, \"file\":\"path\", \"index\":0, \"format\":\"animl\"}\n"
      "axis: raman_shift (default), wavelength_nm (needs laser_nm) or\n"
      "wavenumber (FTIR).  The result has the request's id, core, file,\n"
      "index and count (spectra in the file), then the keys of\n"
      "`calcspec classify --json` with \"qc\" and \"reacquire\".  A bad\n"
      "request gets {\"id\":..., \"error\":\"message\"} and the stream goes\n"
      "on.  Exit status 0 at the end of input.\n\n"
      "  -m, --model FILE  model file (default: the built-in model of the\n"
      "                    spectrum's technique)\n"
      "      --qc SPEC     QC thresholds, e.g. min_snr=20,detector_max=262143\n");
  return CLI_OK;
}

typedef struct {
  cli_models models;
  cs_qc_opts qc;
} stream_ctx;

/* A JSON array of numbers into a malloc'd double array. */
static int numbers(const json_t *a, const char *key, double **out, size_t *n,
                   cs_error *err) {
  *out = NULL;
  if (!json_is_array(a) || json_array_size(a) == 0 ||
      json_array_size(a) > MAX_POINTS) {
    snprintf(err->msg, sizeof err->msg, "\"%s\" must be an array of 1..%d "
             "numbers", key, MAX_POINTS);
    return -1;
  }
  *n = json_array_size(a);
  double *v = malloc(*n * sizeof *v);
  if (!v) {
    snprintf(err->msg, sizeof err->msg, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < *n; i++) {
    const json_t *e = json_array_get(a, i);
    if (!json_is_number(e) || !isfinite(json_number_value(e))) {
      snprintf(err->msg, sizeof err->msg, "\"%s\"[%zu] is not a finite "
               "number", key, i);
      free(v);
      return -1;
    }
    v[i] = json_number_value(e);
  }
  *out = v;
  return 0;
}

/* Build the spectrum of an arrays request. */
static int from_arrays(const json_t *req, cs_spectrum **out, cs_error *err) {
  double *x = NULL, *y = NULL;
  size_t nx = 0, ny = 0;
  *out = NULL;
  if (numbers(json_object_get(req, "x"), "x", &x, &nx, err) ||
      numbers(json_object_get(req, "y"), "y", &y, &ny, err)) {
    free(x);
    return -1;
  }
  int rc = -1;
  cs_axis axis = CS_AXIS_RAMAN_SHIFT;
  const json_t *ja = json_object_get(req, "axis");
  const json_t *jl = json_object_get(req, "laser_nm");
  double laser = NAN;
  if (nx != ny) {
    snprintf(err->msg, sizeof err->msg, "x has %zu points, y %zu", nx, ny);
  } else if (ja && (!json_is_string(ja) ||
                    cs_axis_from_name(json_string_value(ja), &axis) ||
                    (axis != CS_AXIS_RAMAN_SHIFT &&
                     axis != CS_AXIS_WAVELENGTH_NM &&
                     axis != CS_AXIS_WAVENUMBER))) {
    snprintf(err->msg, sizeof err->msg, "\"axis\" must be \"raman_shift\", "
             "\"wavelength_nm\" or \"wavenumber\"");
  } else if (jl && !json_is_null(jl) &&
             (!json_is_number(jl) || !(json_number_value(jl) > 0))) {
    snprintf(err->msg, sizeof err->msg, "\"laser_nm\" must be a positive "
             "number");
  } else if (axis == CS_AXIS_WAVELENGTH_NM && !json_is_number(jl)) {
    snprintf(err->msg, sizeof err->msg, "a wavelength_nm axis needs "
             "\"laser_nm\"");
  } else {
    int ftir = axis == CS_AXIS_WAVENUMBER;
    if (json_is_number(jl))
      laser = json_number_value(jl);
    if (!cs_spectrum_new(x, y, nx, axis, ftir ? CS_Q_ABSORBANCE : CS_Q_COUNTS,
                         out, err)) {
      cs_spectrum_set_technique(*out, ftir ? CS_TECH_FTIR : CS_TECH_RAMAN);
      if (isfinite(laser))
        cs_spectrum_set_laser_nm(*out, laser);
      if (cs_spectrum_sort(*out, err)) {
        cs_spectrum_free(*out);
        *out = NULL;
      } else {
        rc = 0;
      }
    }
  }
  free(x);
  free(y);
  return rc;
}

/* Answer one request line into *line (malloc'd).  Returns 0, or -1 for a
 * bad request (the line then holds the error record). */
static int answer(stream_ctx *c, const char *text, size_t len, char **line) {
  json_error_t jerr;
  cs_error err = {CS_OK, ""};
  json_t *req = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  json_t *out = json_object();
  cs_dataset *ds = NULL;
  cs_spectrum *own = NULL;
  const cs_spectrum *s = NULL;
  int rc = -1;
  *line = NULL;
  if (!out)
    goto done;
  const json_t *id = req ? json_object_get(req, "id") : NULL;
  json_object_set_new(out, "id", id ? json_incref((json_t *)id) : json_null());
  if (!req) {
    snprintf(err.msg, sizeof err.msg, "invalid JSON: %s", jerr.text);
    goto done;
  }
  if (!json_is_object(req)) {
    snprintf(err.msg, sizeof err.msg, "a request must be a JSON object");
    goto done;
  }
  const json_t *core = json_object_get(req, "core");
  if (core)
    json_object_set(out, "core", (json_t *)core);
  const json_t *file = json_object_get(req, "file");
  if (file) {
    const json_t *jf = json_object_get(req, "format");
    const json_t *ji = json_object_get(req, "index");
    if (!json_is_string(file) || (jf && !json_is_string(jf))) {
      snprintf(err.msg, sizeof err.msg, "\"file\" and \"format\" must be "
               "strings");
      goto done;
    }
    json_int_t index = ji ? (json_is_integer(ji) ? json_integer_value(ji) : -1)
                          : 0;
    json_object_set(out, "file", (json_t *)file);
    if (cs_dataset_read(json_string_value(file),
                        jf ? json_string_value(jf) : NULL, &ds, &err))
      goto done;
    size_t count = cs_dataset_count(ds);
    json_object_set_new(out, "count", json_integer((json_int_t)count));
    if (index < 0 || (size_t)index >= count) {
      snprintf(err.msg, sizeof err.msg, "\"index\" must be an integer "
               "0..%zu", count - 1);
      goto done;
    }
    json_object_set_new(out, "index", json_integer(index));
    s = cs_dataset_get(ds, (size_t)index);
  } else {
    if (from_arrays(req, &own, &err))
      goto done;
    s = own;
  }
  const cs_model *m = cli_models_for(&c->models, s, &err);
  cs_report rep;
  if (!m || cs_classify_spectrum(m, s, &c->qc, &rep, &err) ||
      cli_report_merge(out, &rep, m, &err))
    goto done;
  rc = 0;
done:
  if (rc && out) {
    /* keep id (and core/file) and say what went wrong */
    json_t *e = json_object();
    if (e) {
      json_object_set(e, "id", json_object_get(out, "id"));
      if (json_object_get(out, "core"))
        json_object_set(e, "core", json_object_get(out, "core"));
      if (json_object_get(out, "file"))
        json_object_set(e, "file", json_object_get(out, "file"));
      json_object_set_new(e, "error", json_string(err.msg[0] ? err.msg
                                                  : "out of memory"));
    }
    json_decref(out);
    out = e;
  }
  if (out)
    *line = cli_json_line(out);
  json_decref(out);
  json_decref(req);
  cs_dataset_free(ds);
  cs_spectrum_free(own);
  return rc;
}

int cmd_stream(int argc, char **argv) {
  static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                       {"qc", required_argument, 0, 'Q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *model_path = NULL;
  stream_ctx c;
  c.qc = cs_qc_opts_default();
  int opt;
  while ((opt = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
    switch (opt) {
    case 'm': model_path = optarg; break;
    case 'Q':
      if (cli_qc_option("stream", optarg, &c.qc))
        return CLI_USAGE;
      break;
    case 'h': return help();
    default: return cli_usage_error("stream", "unknown option");
    }
  }
  if (optind < argc)
    return cli_usage_error("stream", "unexpected argument '%s' (requests "
                           "come on stdin)", argv[optind]);
  if (cli_models_open(&c.models, model_path))
    return CLI_DATA_ERROR;
  char *buf = NULL;
  size_t cap = 0;
  ssize_t len;
  unsigned long nreq = 0, nbad = 0;
  int rc = CLI_OK;
  while ((len = getline(&buf, &cap, stdin)) >= 0) {
    size_t n = (size_t)len;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
      n--;
    size_t k = 0;
    while (k < n && (buf[k] == ' ' || buf[k] == '\t'))
      k++;
    if (k == n)
      continue; /* blank line */
    char *line;
    nreq++;
    if (answer(&c, buf, n, &line))
      nbad++;
    if (!line) {
      fprintf(stderr, "calcspec: stream: out of memory\n");
      rc = CLI_DATA_ERROR;
      break;
    }
    fputs(line, stdout);
    free(line);
    if (fflush(stdout)) {
      rc = CLI_DATA_ERROR; /* the reader went away */
      break;
    }
  }
  free(buf);
  cli_models_free(&c.models);
  cli_note("stream: %lu requests, %lu errors", nreq, nbad);
  return rc;
}
