/* cmd_stream.c: `calcspec stream`: JSON Lines requests on stdin, one JSON
 * result line per request on stdout, flushed at once. */
#include "integ.h"
#include "request.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Default --max-line: two arrays of CLI_REQUEST_MAX_POINTS numbers at up to
 * ~32 bytes each fit; a longer line is refused, never buffered whole. */
#define DEFAULT_MAX_LINE (64L << 20)

static int help(void) {
  printf(
      "usage: calcspec stream [-m model.txt] [--qc SPEC] [--composition]\n"
      "       [--technique T] [--axis A] [--max-line BYTES]\n\n"
      "Reads one JSON request per line on stdin and writes one JSON result\n"
      "line per request on stdout, flushed at once:\n"
      "  {\"id\":1, \"x\":[...], \"y\":[...], \"axis\":\"raman_shift\", "
      "\"laser_nm\":785, \"core_id\":\"C1\"}\n"
      "  {\"id\":2, \"file\":\"path\", \"index\":0, \"format\":\"animl\"}\n"
      "axis: raman_shift (default), wavelength_nm (needs laser_nm) or\n"
      "wavenumber (FTIR); \"core_id\" (or \"core\") names the core.  The\n"
      "result is the request's id, then the keys of `calcspec classify\n"
      "--json` (README \"JSON results\"): file, index, count, core_id, class,\n"
      "posterior, ..., qc, reacquire, composition.  A bad request gets\n"
      "{\"id\":..., \"file\", \"index\", \"count\", \"core_id\", \"error\"} and\n"
      "the stream goes on.  Exit status 0 at the end of input.\n\n"
      "  -m, --model FILE  model file (default: the built-in model of the\n"
      "                    spectrum's technique)\n"
      "      --qc SPEC     QC thresholds, e.g. min_snr=20,detector_max=262143\n"
      "      --composition  add each spectrum's \"composition\" (carbonate with\n"
      "                    interval and LOD, nu1, whitlockite index, COM\n"
      "                    fraction, protein/mineral; built-in SYNTHETIC\n"
      "                    calibration) as in classify --json --composition\n"
      "      --technique T raman | ftir: a file request's technique when the\n"
      "                    file does not say (an error when it says\n"
      "                    otherwise); an arrays request without \"axis\"\n"
      "                    gets the technique's axis\n"
      "      --axis A      raman_shift | wavelength_nm | wavenumber, the same\n"
      "                    way\n"
      "      --max-line BYTES  longest request line (default 64 MiB, 1 KiB..\n"
      "                    1 GiB); a longer line gets an error reply and is\n"
      "                    skipped without being stored\n");
  return CLI_OK;
}

typedef struct {
  cli_models models;
  cs_qc_opts qc;
  int composition; /* --composition */
  cli_override ov; /* --technique / --axis */
} stream_ctx;

/* Answer one request line into *line (malloc'd).  Returns 0, or -1 for a
 * bad request (the line then holds the error record). */
static int answer(stream_ctx *c, const char *text, size_t len, char **line) {
  cs_error err = {CS_OK, ""};
  cli_request rq;
  int parsed = cli_request_parse(&rq, text, len, err.msg, sizeof err.msg) == 0;
  const json_t *req = rq.obj;
  cs_dataset *ds = NULL;
  cs_spectrum *own = NULL;
  const cs_spectrum *s = NULL;
  const char *fname = NULL, *core = NULL;
  long long index = -1, count = -1;
  int rc = -1;
  *line = NULL;
  const json_t *id = req ? json_object_get(req, "id") : NULL;
  if (!id)
    id = json_null();
  if (!parsed)
    goto done;
  /* "core_id" (or the older "core"): the spectrum's core */
  const json_t *jc = json_object_get(req, "core_id");
  const json_t *jc_old = json_object_get(req, "core");
  if (jc && jc_old) {
    snprintf(err.msg, sizeof err.msg, "give \"core_id\" or \"core\", not both");
    goto done;
  }
  if (!jc)
    jc = jc_old;
  if (jc && !json_is_string(jc)) {
    snprintf(err.msg, sizeof err.msg, "\"core_id\" must be a string");
    goto done;
  }
  core = jc ? json_string_value(jc) : NULL;
  const json_t *file = json_object_get(req, "file");
  if (file) {
    const json_t *jf = json_object_get(req, "format");
    const json_t *ji = json_object_get(req, "index");
    if (!json_is_string(file) || (jf && !json_is_string(jf))) {
      snprintf(err.msg, sizeof err.msg, "\"file\" and \"format\" must be "
               "strings");
      goto done;
    }
    fname = json_string_value(file);
    json_int_t ix = ji ? (json_is_integer(ji) ? json_integer_value(ji) : -1) : 0;
    if (cs_dataset_read(fname, jf ? json_string_value(jf) : NULL, &ds, &err))
      goto done;
    count = (long long)cs_dataset_count(ds);
    if (ix < 0 || ix >= count) {
      snprintf(err.msg, sizeof err.msg, "\"index\" must be an integer "
               "0..%lld", count - 1);
      goto done;
    }
    index = ix;
    s = cs_dataset_get(ds, (size_t)index);
    if (!core)
      core = cs_spectrum_meta(s, CS_META_CORE_ID);
    if (c->ov.technique || c->ov.axis) {
      if (cs_spectrum_copy(s, &own, &err) || cli_override_apply(&c->ov, own, &err))
        goto done;
      s = own;
    }
  } else {
    /* an arrays request without "axis": --axis, or --technique's axis */
    if (!json_object_get(req, "axis") && (c->ov.axis || c->ov.technique)) {
      cs_axis a = c->ov.axis ? c->ov.axis
                  : c->ov.technique == CS_TECH_FTIR ? CS_AXIS_WAVENUMBER
                                                    : CS_AXIS_RAMAN_SHIFT;
      json_object_set_new(rq.obj, "axis", json_string(cs_axis_name(a)));
    }
    if (cli_request_spectrum(&rq, &own, &err) ||
        cli_override_apply(&c->ov, own, &err))
      goto done;
    s = own;
  }
  const cs_model *m = cli_models_for(&c->models, s, &err);
  cs_report rep;
  if (!m || cs_classify_spectrum(m, s, &c->qc, &rep, &err) ||
      (c->composition && rep.classified &&
       cs_report_composition(&rep, s, NULL, &err)))
    goto done;
  if ((*line = cli_result_line(id, fname, index, count, core, &rep, m, &err)))
    rc = 0;
done:
  if (rc) /* keep id (and file/core) and say what went wrong */
    *line = cli_error_line(id, fname, index, count, core, err.msg);
  cli_request_free(&rq);
  cs_dataset_free(ds);
  cs_spectrum_free(own);
  return rc;
}

/* Lines of fd 0 read in blocks, at most max bytes kept per line: a longer
 * line is drained to its newline without being stored. */
typedef struct {
  char *buf;         /* the current line (NUL-terminated) */
  size_t len, cap;
  char in[1 << 16];  /* bytes read but not yet consumed */
  size_t ipos, iend;
  int eof;
} line_reader;

/* 1 a line (lr->len bytes, without '\n'; *too_long set when it exceeded
 * max and was dropped), 0 end of input, -1 read error or out of memory. */
static int read_line(line_reader *lr, size_t max, int *too_long) {
  lr->len = 0;
  *too_long = 0;
  int any = 0;
  for (;;) {
    if (lr->ipos == lr->iend) {
      if (lr->eof)
        break;
      ssize_t got = read(0, lr->in, sizeof lr->in);
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        return -1;
      if (got == 0) {
        lr->eof = 1;
        break;
      }
      lr->ipos = 0, lr->iend = (size_t)got;
    }
    any = 1;
    const char *p = lr->in + lr->ipos;
    size_t avail = lr->iend - lr->ipos;
    const char *nl = memchr(p, '\n', avail);
    size_t take = nl ? (size_t)(nl - p) : avail;
    if (!*too_long && lr->len + take > max) {
      *too_long = 1; /* drop what is stored, keep draining */
      lr->len = 0;
    }
    if (!*too_long) {
      if (lr->len + take + 1 > lr->cap) {
        size_t nc = lr->cap ? lr->cap : 4096;
        while (nc < lr->len + take + 1)
          nc *= 2;
        char *nb = realloc(lr->buf, nc);
        if (!nb)
          return -1;
        lr->buf = nb, lr->cap = nc;
      }
      memcpy(lr->buf + lr->len, p, take);
      lr->len += take;
    }
    lr->ipos += take + (nl != NULL);
    if (nl)
      break;
  }
  if (!any)
    return 0;
  if (lr->buf)
    lr->buf[lr->len] = '\0';
  return 1;
}

int cmd_stream(int argc, char **argv) {
  static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                       {"qc", required_argument, 0, 'Q'},
                                       {"max-line", required_argument, 0, 'L'},
                                       {"composition", no_argument, 0, 'C'},
                                       {"technique", required_argument, 0, 256},
                                       {"axis", required_argument, 0, 257},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *model_path = NULL;
  long max_line = DEFAULT_MAX_LINE;
  stream_ctx c;
  c.qc = cs_qc_opts_default();
  c.composition = 0;
  memset(&c.ov, 0, sizeof c.ov);
  int opt;
  while ((opt = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
    switch (opt) {
    case 'm': model_path = optarg; break;
    case 'C': c.composition = 1; break;
    case 256:
    case 257:
      if (cli_override_option("stream", opt == 256 ? "technique" : "axis",
                              optarg, &c.ov))
        return CLI_USAGE;
      break;
    case 'Q':
      if (cli_qc_option("stream", optarg, &c.qc))
        return CLI_USAGE;
      break;
    case 'L':
      if (cli_parse_int(optarg, 1L << 10, 1L << 30, &max_line))
        return cli_usage_error("stream", "--max-line wants 1024..1073741824 "
                               "bytes, got '%s'", optarg);
      break;
    case 'h': return help();
    default: return cli_bad_option("stream", "m:h", opts, argc, argv);
    }
  }
  if (optind < argc)
    return cli_usage_error("stream", "unexpected argument '%s' (requests "
                           "come on stdin)", argv[optind]);
  if (cli_models_open(&c.models, model_path))
    return CLI_DATA_ERROR;
  line_reader *lr = calloc(1, sizeof *lr);
  if (!lr) {
    cli_models_free(&c.models);
    cli_error("stream: out of memory");
    return CLI_DATA_ERROR;
  }
  unsigned long nreq = 0, nbad = 0;
  int rc = CLI_OK, got, too_long;
  while ((got = read_line(lr, (size_t)max_line, &too_long)) > 0) {
    char *buf = lr->buf, *line = NULL;
    size_t n = lr->len;
    if (too_long) {
      nreq++;
      nbad++;
      char why[96];
      snprintf(why, sizeof why, "request line longer than %ld bytes "
               "(--max-line); skipped", max_line);
      line = cli_error_line(json_null(), NULL, -1, -1, NULL, why);
    } else {
      while (n && buf[n - 1] == '\r')
        n--;
      size_t k = 0;
      while (k < n && (buf[k] == ' ' || buf[k] == '\t'))
        k++;
      if (k == n)
        continue; /* blank line */
      nreq++;
      if (answer(&c, buf, n, &line))
        nbad++;
    }
    if (!line) {
      cli_error("stream: out of memory");
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
  if (got < 0) {
    cli_error("stream: cannot read the input: %s",
              errno ? strerror(errno) : "out of memory");
    rc = CLI_DATA_ERROR;
  }
  free(lr->buf);
  free(lr);
  cli_models_free(&c.models);
  cli_note("stream: %lu requests, %lu errors", nreq, nbad);
  return rc;
}
