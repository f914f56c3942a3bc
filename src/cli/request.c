/* request.c: one `calcspec stream` request line, parsed with yajl's
 * event interface (split from cmd_stream.c so that tests/fuzz can reach
 * the parser). */
#include "request.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

/* A request parsed with yajl's event interface.  jansson's tree parser
 * takes ~0.8 ms on a 1024-point request (one json_t per number; measured
 * with bench_stream), more than classifying it; here the "x" and "y"
 * arrays go straight into double arrays (~0.25 ms), and every other member
 * becomes a jansson value in `obj`, so the rest of the code is unchanged
 * (replies come from report_json.c; jansson prints only the echoed id). */
typedef cli_request request;

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

/* Append d to "x" (t 0) or "y" (t 1); 0 when the array is full or memory
 * is out (r->err says which only for memory). */
static int push_xy(request *r, int t, double d) {
  if (r->n[t] == r->cap[t]) {
    if (r->cap[t] >= CLI_REQUEST_MAX_POINTS)
      return 0;
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

/* A number member other than x/y (len < 64 bytes of checked JSON number
 * syntax) as jansson holds it: JSON's integer/real distinction kept (an
 * integer beyond 64 bits as the nearest double: strtoll's clamp echoed
 * another id); NULL for a non-finite value (1e999), which json_real
 * refuses too. */
static json_t *member_number(const char *s, size_t len) {
  char tok[64], *end;
  memcpy(tok, s, len);
  tok[len] = '\0';
  if (!strpbrk(tok, ".eE")) {
    errno = 0;
    long long i = strtoll(tok, &end, 10);
    if (!*end && errno != ERANGE)
      return json_integer((json_int_t)i);
  }
  double d;
  return cs_parse_number(s, len, &d) ? NULL : json_real(d);
}

static int on_number(void *ctx, const char *s, size_t len) {
  request *r = ctx;
  if (len >= 64)
    return fail(r, "number too long");
  if (in_xy(r)) {
    /* yajl has checked the JSON number syntax; this is strtod's double,
     * mostly without strtod (~20 % of `stream` before). */
    double d;
    return cs_parse_number(s, len, &d) ? fail(r, "") : push_xy(r, r->target, d);
  }
  json_t *v = member_number(s, len);
  double d;
  if (!v && cs_parse_number(s, len, &d)) { /* not place()'s "out of memory" */
    char m[100];
    snprintf(m, sizeof m, "number %.*s is out of range", (int)len, s);
    return fail(r, m);
  }
  return place(r, v);
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

/* The fast path: a request of scalar members and flat "x"/"y" number
 * arrays, the shape acquisition scripts send, scanned directly (yajl's
 * events cost ~35 ns a number: 70-90 us of a 1024-point request).
 * Anything else -- nesting, escapes, non-ASCII text, a syntax error, a
 * duplicate key -- returns 0, and the caller starts again with yajl, so
 * values and messages do not depend on the path. */
static const char *skip_ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

static int digit(const char *p, const char *e) {
  return p < e && *p >= '0' && *p <= '9';
}

/* End of the JSON number at p (grammar checked), or NULL. */
static const char *number_end(const char *p, const char *e) {
  p += p < e && *p == '-';
  if (!digit(p, e))
    return NULL;
  if (*p++ != '0')
    while (digit(p, e))
      p++;
  if (p < e && *p == '.') {
    if (!digit(++p, e))
      return NULL;
    while (digit(p, e))
      p++;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    p += p < e && (*p == '+' || *p == '-');
    if (!digit(p, e))
      return NULL;
    while (digit(p, e))
      p++;
  }
  return p;
}

/* End of the plain string whose opening quote is at p (printable ASCII, no
 * escapes), or NULL. */
static const char *string_end(const char *p, const char *e) {
  for (p++; p < e && *p != '"'; p++)
    if (*p < 0x20 || *p > 0x7e || *p == '\\')
      return NULL;
  return p < e ? p + 1 : NULL;
}

static const char *literal(const char *p, const char *e, const char *w) {
  size_t n = strlen(w);
  return (size_t)(e - p) >= n && !memcmp(p, w, n) ? p + n : NULL;
}

static int fast_parse(request *r, const char *p, size_t len) {
  const char *e = p + len, *q;
  p = skip_ws(p, e);
  if (p == e || *p++ != '{')
    return 0;
  for (int first = 1;; first = 0) {
    p = skip_ws(p, e);
    if (first && p < e && *p == '}')
      break;
    if (p == e || *p != '"' || !(q = string_end(p, e)) ||
        (size_t)(q - p - 2) >= sizeof r->key)
      return 0;
    memcpy(r->key, p + 1, (size_t)(q - p - 2));
    r->key[q - p - 2] = '\0';
    p = skip_ws(q, e);
    if (p == e || *p++ != ':')
      return 0;
    p = skip_ws(p, e);
    if (p == e)
      return 0;
    int xy = !strcmp(r->key, "x") ? 0 : !strcmp(r->key, "y") ? 1 : -1;
    if (xy >= 0 ? r->seen[xy] : json_object_get(r->obj, r->key) != NULL)
      return 0;
    if (xy >= 0) {
      if (*p++ != '[')
        return 0;
      r->seen[xy] = 1;
      p = skip_ws(p, e);
      if (p < e && *p == ']')
        p++;
      else
        for (;;) {
          double d;
          if (!(q = number_end(p, e)) || q - p >= 64 ||
              cs_parse_number(p, (size_t)(q - p), &d) || !push_xy(r, xy, d))
            return 0;
          p = skip_ws(q, e);
          if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            continue;
          }
          if (p == e || *p++ != ']')
            return 0;
          break;
        }
    } else {
      json_t *v = NULL;
      if (*p == '"') {
        if ((q = string_end(p, e)))
          v = json_stringn(p + 1, (size_t)(q - p - 2));
      } else if (*p == '-' || digit(p, e)) {
        if ((q = number_end(p, e)) && q - p < 64)
          v = member_number(p, (size_t)(q - p));
      } else if ((q = literal(p, e, "true"))) {
        v = json_true();
      } else if ((q = literal(p, e, "false"))) {
        v = json_false();
      } else if ((q = literal(p, e, "null"))) {
        v = json_null();
      }
      if (!v || json_object_set_new(r->obj, r->key, v))
        return 0;
      p = q;
    }
    p = skip_ws(p, e);
    if (p < e && *p == ',') {
      p++;
      continue;
    }
    if (p == e || *p++ != '}')
      return 0;
    break;
  }
  /* a literal or number must end at a delimiter: "truex" is not JSON */
  r->done = 1;
  return skip_ws(p, e) == e;
}

int cli_json_cstring(const json_t *v) {
  return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

/* Tests: 0 sends every request through yajl (the reference path). */
int cli_request_fast = 1;

static void request_init(request *r) {
  memset(r, 0, sizeof *r);
  r->target = -1;
  r->obj = json_object();
}

void cli_request_free(cli_request *r) {
  json_decref(r->obj);
  free(r->v[0]);
  free(r->v[1]);
  for (int i = 0; i < r->sp; i++) {
    json_decref(r->stack[i]);
    free(r->skey[i]);
  }
}

int cli_request_parse(cli_request *r, const char *text, size_t len, char *msg,
                      size_t cap) {
  request_init(r);
  if (r->obj && cli_request_fast) {
    if (fast_parse(r, text, len))
      return 0;
    cli_request_free(r);
    request_init(r);
  }
  yajl_handle h = r->obj ? yajl_alloc(&request_events, NULL, r) : NULL;
  if (!h) {
    snprintf(msg, cap, "out of memory");
    return -1;
  }
  yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
  int at_end = 0; /* the text ended inside a value */
  if (st == yajl_status_ok) {
    st = yajl_complete_parse(h);
    at_end = 1;
  }
  int rc = 0;
  if (st == yajl_status_client_canceled) {
    rc = -1;
    if (r->err[0])
      snprintf(msg, cap, "%s", r->err);
    else
      snprintf(msg, cap, "\"%s\" must be an array of 1..%d finite numbers",
               r->target == 1 ? "y" : "x", CLI_REQUEST_MAX_POINTS);
  } else if (st != yajl_status_ok) {
    /* a syntax error, reported where it is: the cause, not a consequence
     * such as a missing member */
    rc = -1;
    if (at_end) {
      snprintf(msg, cap, "invalid JSON at byte %zu: the line ends inside "
               "the request (truncated?)", len);
    } else {
      size_t off = yajl_get_bytes_consumed(h);
      unsigned char *e = yajl_get_error(h, 0, (const unsigned char *)text, len);
      const char *why = e ? (const char *)e : "syntax error";
      if (!strncmp(why, "parse error: ", 13))
        why += 13;
      snprintf(msg, cap, "invalid JSON at byte %zu: %s", off, why);
      size_t m = strlen(msg);
      while (m && (msg[m - 1] == '\n' || msg[m - 1] == ' '))
        msg[--m] = '\0';
      yajl_free_error(h, e);
    }
  } else if (!r->done) {
    rc = -1;
    snprintf(msg, cap, "a request must be a JSON object");
  }
  yajl_free(h);
  return rc;
}

int cli_request_spectrum(const cli_request *rq, cs_spectrum **out,
                         cs_error *err) {
  const json_t *req = rq->obj;
  *out = NULL;
  for (int t = 0; t < 2; t++)
    if (!rq->seen[t] || rq->n[t] == 0) {
      snprintf(err->msg, sizeof err->msg, "\"%s\" must be an array of "
               "1..%d numbers", t ? "y" : "x", CLI_REQUEST_MAX_POINTS);
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
  } else if (ja && (!cli_json_cstring(ja) ||
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

