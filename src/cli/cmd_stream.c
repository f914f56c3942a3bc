/* cmd_stream.c: `calcspec stream`: JSON Lines requests on stdin, one JSON
 * result line per request on stdout, flushed at once. */
#include "integ.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

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

/* A request parsed with yajl's event interface.  jansson's tree parser
 * takes ~0.8 ms on a 1024-point request (one json_t per number; measured
 * with bench_stream), more than classifying it; here the "x" and "y"
 * arrays go straight into double arrays (~0.25 ms), and every other member
 * becomes a jansson value in `obj`, so the rest of the code (and the
 * output, written with jansson) is unchanged. */
typedef struct {
  json_t *obj;         /* the request's members other than x and y */
  double *v[2];        /* x, y */
  size_t n[2], cap[2];
  int seen[2];
  int depth;           /* 0 before the request object, 1 inside it */
  int target;          /* -1, or 0/1 while inside the x/y array */
  int done;            /* the request object has closed */
  char key[128];       /* current member of the request object */
  json_t *stack[32];   /* containers of a nested member being built */
  char *skey[32];      /* pending key in each object container */
  int sp;
  char err[200];
} request;

static int fail(request *r, const char *msg) {
  if (!r->err[0])
    snprintf(r->err, sizeof r->err, "%s", msg);
  return 0; /* yajl: stop parsing */
}

/* Place a finished value: a member of the request, or inside the nested
 * container being built. */
static int place(request *r, json_t *v) {
  if (!v)
    return fail(r, "out of memory");
  if (r->depth != 1 || r->done) {
    json_decref(v);
    return fail(r, "a request must be a JSON object");
  }
  if (r->sp == 0) {
    if (json_object_get(r->obj, r->key)) {
      json_decref(v);
      char m[200];
      snprintf(m, sizeof m, "duplicate key \"%.100s\"", r->key);
      return fail(r, m);
    }
    return json_object_set_new(r->obj, r->key, v) ? fail(r, "out of memory") : 1;
  }
  json_t *top = r->stack[r->sp - 1];
  int bad = json_is_array(top) ? json_array_append_new(top, v)
                               : json_object_set_new(top, r->skey[r->sp - 1], v);
  return bad ? fail(r, "out of memory") : 1;
}

static int in_xy(request *r) { return r->target >= 0; }

static int on_null(void *ctx) {
  request *r = ctx;
  return in_xy(r) ? fail(r, "") : place(r, json_null());
}

static int on_bool(void *ctx, int b) {
  request *r = ctx;
  return in_xy(r) ? fail(r, "") : place(r, json_boolean(b));
}

static int on_number(void *ctx, const char *s, size_t len) {
  request *r = ctx;
  char tok[64];
  if (len >= sizeof tok)
    return fail(r, "number too long");
  memcpy(tok, s, len);
  tok[len] = '\0';
  char *end;
  double d = strtod(tok, &end); /* LC_NUMERIC is "C" (main.c) */
  if (in_xy(r)) {
    int t = r->target;
    if (!isfinite(d))
      return fail(r, "");
    if (r->n[t] == r->cap[t]) {
      if (r->cap[t] >= MAX_POINTS)
        return fail(r, "");
      size_t nc = r->cap[t] ? 2 * r->cap[t] : 1024;
      double *nv = realloc(r->v[t], nc * sizeof *nv);
      if (!nv)
        return fail(r, "out of memory");
      r->v[t] = nv;
      r->cap[t] = nc;
    }
    r->v[t][r->n[t]++] = d;
    return 1;
  }
  /* other members keep JSON's integer/real distinction for jansson */
  if (!strpbrk(tok, ".eE")) {
    long long i = strtoll(tok, &end, 10);
    if (!*end)
      return place(r, json_integer((json_int_t)i));
  }
  return place(r, json_real(d));
}

static int on_string(void *ctx, const unsigned char *s, size_t len) {
  request *r = ctx;
  return in_xy(r) ? fail(r, "") : place(r, json_stringn((const char *)s, len));
}

static int on_map_key(void *ctx, const unsigned char *s, size_t len) {
  request *r = ctx;
  if (r->sp == 0) { /* a member of the request */
    if (len >= sizeof r->key)
      return fail(r, "key too long");
    memcpy(r->key, s, len);
    r->key[len] = '\0';
    return 1;
  }
  free(r->skey[r->sp - 1]);
  r->skey[r->sp - 1] = strndup((const char *)s, len);
  return r->skey[r->sp - 1] ? 1 : fail(r, "out of memory");
}

static int open_container(request *r, json_t *c) {
  if (!c)
    return fail(r, "out of memory");
  if (r->sp == (int)(sizeof r->stack / sizeof *r->stack)) {
    json_decref(c);
    return fail(r, "nested too deeply");
  }
  r->skey[r->sp] = NULL;
  r->stack[r->sp++] = c;
  return 1;
}

static int close_container(request *r) {
  json_t *c = r->stack[--r->sp];
  free(r->skey[r->sp]);
  r->skey[r->sp] = NULL;
  return place(r, c);
}

static int on_start_map(void *ctx) {
  request *r = ctx;
  if (in_xy(r))
    return fail(r, "");
  if (r->depth == 0 && !r->done) {
    r->depth = 1;
    return 1;
  }
  return open_container(r, json_object());
}

static int on_end_map(void *ctx) {
  request *r = ctx;
  if (r->sp)
    return close_container(r);
  r->depth = 0;
  r->done = 1;
  return 1;
}

static int on_start_array(void *ctx) {
  request *r = ctx;
  if (in_xy(r))
    return fail(r, "");
  if (r->depth == 0)
    return fail(r, "a request must be a JSON object");
  if (r->sp == 0 && (!strcmp(r->key, "x") || !strcmp(r->key, "y"))) {
    int t = r->key[0] == 'y';
    if (r->seen[t])
      return fail(r, t ? "duplicate key \"y\"" : "duplicate key \"x\"");
    r->seen[t] = 1;
    r->target = t;
    return 1;
  }
  return open_container(r, json_array());
}

static int on_end_array(void *ctx) {
  request *r = ctx;
  if (in_xy(r)) {
    r->target = -1;
    return 1;
  }
  return close_container(r);
}

static const yajl_callbacks request_events = {
    on_null, on_bool, NULL, NULL, on_number, on_string, on_start_map,
    on_map_key, on_end_map, on_start_array, on_end_array};

static void request_free(request *r) {
  json_decref(r->obj);
  free(r->v[0]);
  free(r->v[1]);
  for (int i = 0; i < r->sp; i++) {
    json_decref(r->stack[i]);
    free(r->skey[i]);
  }
}

/* Parse one line.  0 ok; -1 with the message in msg. */
static int request_parse(request *r, const char *text, size_t len, char *msg,
                         size_t cap) {
  memset(r, 0, sizeof *r);
  r->target = -1;
  r->obj = json_object();
  yajl_handle h = r->obj ? yajl_alloc(&request_events, NULL, r) : NULL;
  if (!h) {
    snprintf(msg, cap, "out of memory");
    return -1;
  }
  yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
  if (st == yajl_status_ok)
    st = yajl_complete_parse(h);
  int rc = 0;
  if (st != yajl_status_ok || !r->done) {
    rc = -1;
    if (r->err[0]) {
      snprintf(msg, cap, "%s", r->err);
    } else if (in_xy(r) || st == yajl_status_client_canceled) {
      snprintf(msg, cap, "\"%s\" must be an array of 1..%d finite numbers",
               r->target == 1 ? "y" : "x", MAX_POINTS);
    } else if (st == yajl_status_ok) {
      snprintf(msg, cap, "a request must be a JSON object");
    } else {
      unsigned char *e = yajl_get_error(h, 0, (const unsigned char *)text, len);
      snprintf(msg, cap, "invalid JSON: %s", e ? (const char *)e : "?");
      size_t m = strlen(msg);
      while (m && (msg[m - 1] == '\n' || msg[m - 1] == ' '))
        msg[--m] = '\0';
      yajl_free_error(h, e);
    }
  }
  yajl_free(h);
  return rc;
}

/* Build the spectrum of an arrays request. */
static int from_arrays(const request *rq, cs_spectrum **out, cs_error *err) {
  const json_t *req = rq->obj;
  *out = NULL;
  for (int t = 0; t < 2; t++)
    if (!rq->seen[t] || rq->n[t] == 0) {
      snprintf(err->msg, sizeof err->msg, "\"%s\" must be an array of "
               "1..%d numbers", t ? "y" : "x", MAX_POINTS);
      return -1;
    }
  const double *x = rq->v[0], *y = rq->v[1];
  size_t nx = rq->n[0], ny = rq->n[1];
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
  return rc;
}

/* Answer one request line into *line (malloc'd).  Returns 0, or -1 for a
 * bad request (the line then holds the error record). */
static int answer(stream_ctx *c, const char *text, size_t len, char **line) {
  cs_error err = {CS_OK, ""};
  request rq;
  int parsed = request_parse(&rq, text, len, err.msg, sizeof err.msg) == 0;
  const json_t *req = rq.obj;
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
  if (!parsed)
    goto done;
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
    if (from_arrays(&rq, &own, &err))
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
  request_free(&rq);
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
