/* cmd_stream.c: `calcspec stream`: JSON Lines requests on stdin, one JSON
 * result line per request on stdout, flushed at once. */
#include "integ.h"
#include "jobs.h"
#include "request.h"

#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
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
      "       [--technique T] [--axis A] [--max-line BYTES] [--jobs N]\n\n"
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
      "                    skipped without being stored\n"
      "      --jobs N      threads answering requests (default: every core\n"
      "                    this process may use, or CALCSPEC_JOBS); replies\n"
      "                    keep the order of the requests, each written as\n"
      "                    soon as it and every earlier one are ready.  A\n"
      "                    request that arrives when none is in flight and no\n"
      "                    more input waits is answered at once by the\n"
      "                    reading thread (no thread hand-off); a request\n"
      "                    sent while that one is being answered (a \"file\"\n"
      "                    request on a big file, say) then waits for it\n");
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
  if (jc && !cli_json_cstring(jc)) {
    snprintf(err.msg, sizeof err.msg, "\"core_id\" must be a string "
             "(without \\u0000)");
    goto done;
  }
  if (jc && cs_core_id_check(json_string_value(jc), &err))
    goto done; /* not echoed back: core is still NULL */
  core = jc ? json_string_value(jc) : NULL;
  const json_t *file = json_object_get(req, "file");
  if (file) {
    const json_t *jf = json_object_get(req, "format");
    const json_t *ji = json_object_get(req, "index");
    if (!cli_json_cstring(file) || (jf && !cli_json_cstring(jf))) {
      snprintf(err.msg, sizeof err.msg, "\"file\" and \"format\" must be "
               "strings (without \\u0000)");
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

/* A request line's length without its trailing CRs; 0 for a blank line
 * (only blanks, tabs and CRs), which gets no reply. */
static size_t request_len(const char *buf, size_t n) {
  while (n && buf[n - 1] == '\r')
    n--;
  size_t k = 0;
  while (k < n && (buf[k] == ' ' || buf[k] == '\t'))
    k++;
  return k == n ? 0 : n;
}

/* The reply to one line: 0 a reply in *line (malloc'd; NULL when out of
 * memory), 1 a blank line (no reply).  *bad is set for an error reply. */
static int reply(stream_ctx *c, char *buf, size_t n, int too_long, size_t max,
                 char **line, int *bad) {
  *line = NULL;
  *bad = 0;
  if (too_long) {
    char why[96];
    snprintf(why, sizeof why, "request line longer than %zu bytes "
             "(--max-line); skipped", max);
    *bad = 1;
    *line = cli_error_line(json_null(), NULL, -1, -1, NULL, why);
    return 0;
  }
  if (!(n = request_len(buf, n)))
    return 1;
  *bad = answer(c, buf, n, line) != 0;
  return 0;
}

/* Write a reply and flush it; -1 when the reader went away. */
static int put(char *line) {
  int bad = fputs(line, stdout) < 0;
  free(line);
  return bad || fflush(stdout) ? -1 : 0;
}

/* One thread: read, answer, write, one request at a time.  Returns
 * read_line's last result; *rc is set on a write or memory failure. */
static int serial(stream_ctx *c, line_reader *lr, size_t max,
                  unsigned long *nreq, unsigned long *nbad, int *rc) {
  int got, too_long, bad;
  char *line;
  while ((got = read_line(lr, max, &too_long)) > 0) {
    if (reply(c, lr->buf, lr->len, too_long, max, &line, &bad))
      continue;
    ++*nreq;
    *nbad += (unsigned long)bad;
    if (!line) {
      cli_error("stream: out of memory");
      *rc = CLI_DATA_ERROR;
      break;
    }
    if (put(line)) {
      *rc = CLI_DATA_ERROR; /* the reader went away */
      break;
    }
  }
  return got;
}

/* --jobs N: the main thread reads requests into a ring of slots, N workers
 * answer them, and a writer thread writes the replies in request order,
 * each as soon as it and all before it are done.  Memory is bounded: at
 * most 4 N requests and 2 x --max-line bytes of them in flight (a request
 * is always admitted when none is). */
enum { SLOT_FREE, SLOT_WAITING, SLOT_BUSY, SLOT_DONE };
typedef struct {
  int state, too_long, bad;
  char *req, *line;
  size_t len;
} slot;

typedef struct {
  stream_ctx *c;
  size_t max, nslot;
  slot *ring;
  unsigned long next_read, next_take, next_write, nbad_written;
  size_t inflight, budget; /* request bytes held; at most budget (but one) */
  int reading, failed; /* failed: stdout gone or out of memory */
  pthread_mutex_t mu;
  pthread_cond_t work, done, freed;
} pipe_ctx;

static void *pipe_worker(void *arg) {
  pipe_ctx *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (p->next_take == p->next_read && p->reading && !p->failed)
      pthread_cond_wait(&p->work, &p->mu);
    if (p->next_take == p->next_read || p->failed)
      break;
    slot *s = &p->ring[p->next_take++ % p->nslot];
    s->state = SLOT_BUSY;
    pthread_mutex_unlock(&p->mu);
    /* blank lines never reach the ring, so this always replies */
    reply(p->c, s->req, s->len, s->too_long, p->max, &s->line, &s->bad);
    pthread_mutex_lock(&p->mu);
    s->state = SLOT_DONE;
    pthread_cond_broadcast(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static void *pipe_writer(void *arg) {
  pipe_ctx *p = arg;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    /* the slot is looked up after each wake-up: the reader may have
     * answered a request itself meanwhile (answer_idle) */
    slot *s;
    while (s = &p->ring[p->next_write % p->nslot],
           !p->failed && (p->next_write < p->next_read ? s->state != SLOT_DONE
                                                       : p->reading))
      pthread_cond_wait(&p->done, &p->mu);
    if (p->next_write == p->next_read || p->failed)
      break;
    char *line = s->line;
    s->line = NULL;
    p->nbad_written += (unsigned long)s->bad;
    pthread_mutex_unlock(&p->mu);
    int bad = !line || put(line);
    if (!line)
      cli_error("stream: out of memory");
    pthread_mutex_lock(&p->mu);
    free(s->req);
    s->req = NULL;
    p->inflight -= s->len;
    s->state = SLOT_FREE;
    p->next_write++;
    if (bad)
      p->failed = 1;
    pthread_cond_broadcast(&p->freed);
    if (bad)
      pthread_cond_broadcast(&p->work);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* No more requests: wake the workers and the writer, let them drain what
 * is queued, and join them (wr NULL: no writer was started). */
static void pipe_stop(pipe_ctx *p, pthread_t *th, int nth, pthread_t *wr) {
  pthread_mutex_lock(&p->mu);
  p->reading = 0;
  pthread_cond_broadcast(&p->work);
  pthread_cond_broadcast(&p->done);
  pthread_mutex_unlock(&p->mu);
  for (int t = 0; t < nth; t++)
    pthread_join(th[t], NULL);
  if (wr)
    pthread_join(*wr, NULL);
}

/* Nothing more to read at the moment: no bytes buffered, none waiting on
 * fd 0 (a regular file always has some, or its end). */
static int input_idle(const line_reader *lr) {
  if (lr->ipos != lr->iend || lr->eof)
    return 0;
  struct pollfd pf = {0, POLLIN, 0};
  return poll(&pf, 1, 0) == 0;
}

/* A client that waits for each reply before it sends the next request
 * leaves the pipeline empty: the reader answers and writes that request
 * itself, as --jobs 1 does, instead of handing it to a worker and the
 * writer (two thread wake-ups, on other cores, per request: median 0.55
 * and p99 5 ms unpinned in bench_stream, 0.42 / 0.7 ms pinned).  1 when it
 * did (p->failed set when the reply could not be written), 0 when requests
 * are in flight or more input is waiting: then the workers take it.
 * Trade-off (documented in --help): a request arriving while this one is
 * answered waits for it, even on a free core.  Telling a cheap request
 * from a slow "file" one would need the JSON parsed here first. */
static int answer_idle(pipe_ctx *p, line_reader *lr, int too_long) {
  pthread_mutex_lock(&p->mu);
  int idle = !p->failed && p->next_write == p->next_read && input_idle(lr);
  pthread_mutex_unlock(&p->mu);
  if (!idle)
    return 0;
  /* nothing in flight: the writer is waiting, stdout is free */
  char *line;
  int bad;
  if (reply(p->c, lr->buf, lr->len, too_long, p->max, &line, &bad))
    return 1; /* a blank line: no reply, no slot */
  int failed = !line || put(line);
  if (!line)
    cli_error("stream: out of memory");
  pthread_mutex_lock(&p->mu);
  p->next_read++, p->next_take++, p->next_write++;
  p->nbad_written += (unsigned long)bad;
  if (failed) {
    p->failed = 1;
    pthread_cond_broadcast(&p->work);
  }
  pthread_mutex_unlock(&p->mu);
  return 1;
}

static int pipelined(stream_ctx *c, line_reader *lr, size_t max, int jobs,
                     unsigned long *nreq, unsigned long *nbad, int *rc) {
  pipe_ctx p = {.c = c, .max = max, .nslot = 4 * (size_t)jobs, .reading = 1,
                .budget = 2 * max};
  p.ring = calloc(p.nslot, sizeof *p.ring);
  pthread_t th[256], wr;
  int nth = 0, have_writer = 0, got = 1;
  if (!p.ring || pthread_mutex_init(&p.mu, NULL)) {
    free(p.ring);
    return serial(c, lr, max, nreq, nbad, rc);
  }
  pthread_cond_init(&p.work, NULL);
  pthread_cond_init(&p.done, NULL);
  pthread_cond_init(&p.freed, NULL);
  json_object_seed(0); /* jansson: seed its hash once, before threads */
  have_writer = pthread_create(&wr, NULL, pipe_writer, &p) == 0;
  for (int t = 0; have_writer && t < jobs && t < 256; t++)
    if (pthread_create(&th[nth], NULL, pipe_worker, &p) == 0)
      nth++;
  if (!have_writer || !nth) { /* no threads: answer here instead */
    pipe_stop(&p, th, nth, have_writer ? &wr : NULL);
    got = serial(c, lr, max, nreq, nbad, rc);
    goto out;
  }
  int too_long;
  while ((got = read_line(lr, max, &too_long)) > 0) {
    if (!too_long && !request_len(lr->buf, lr->len))
      continue; /* blank lines get no reply and take no slot */
    if (answer_idle(&p, lr, too_long)) {
      if (p.failed) {
        *rc = CLI_DATA_ERROR;
        break;
      }
      continue;
    }
    char *req = too_long ? NULL : malloc(lr->len + 1);
    pthread_mutex_lock(&p.mu);
    if (!too_long && !req)
      p.failed = 1, cli_error("stream: out of memory");
    slot *s = &p.ring[p.next_read % p.nslot];
    size_t len = too_long ? 0 : lr->len;
    while ((s->state != SLOT_FREE || (p.inflight && p.inflight + len > p.budget)) && !p.failed)
      pthread_cond_wait(&p.freed, &p.mu);
    if (p.failed) {
      pthread_mutex_unlock(&p.mu);
      free(req);
      *rc = CLI_DATA_ERROR;
      break;
    }
    if (req)
      memcpy(req, lr->buf, lr->len + 1);
    *s = (slot){SLOT_WAITING, too_long, 0, req, NULL, len};
    p.inflight += len;
    p.next_read++;
    pthread_cond_signal(&p.work);
    pthread_mutex_unlock(&p.mu);
  }
  pipe_stop(&p, th, nth, &wr);
  if (p.failed)
    *rc = CLI_DATA_ERROR;
  *nreq += p.next_write; /* the requests answered */
  *nbad += p.nbad_written;
out:
  for (size_t i = 0; i < p.nslot; i++) {
    free(p.ring[i].req);
    free(p.ring[i].line);
  }
  free(p.ring);
  pthread_cond_destroy(&p.work);
  pthread_cond_destroy(&p.done);
  pthread_cond_destroy(&p.freed);
  pthread_mutex_destroy(&p.mu);
  return got;
}

int cmd_stream(int argc, char **argv) {
  static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                       {"qc", required_argument, 0, 'Q'},
                                       {"max-line", required_argument, 0, 'L'},
                                       {"composition", no_argument, 0, 'C'},
                                       {"technique", required_argument, 0, 256},
                                       {"axis", required_argument, 0, 257},
                                       {"jobs", required_argument, 0, 258},
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
    case 258:
      if (cli_jobs_option("stream", optarg))
        return CLI_USAGE;
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
  /* the detection tables now, not in the first request's time */
  cli_models_prepare(&c.models, cli_override_technique(&c.ov));
  line_reader *lr = calloc(1, sizeof *lr);
  if (!lr) {
    cli_models_free(&c.models);
    cli_error("stream: out of memory");
    return CLI_DATA_ERROR;
  }
  unsigned long nreq = 0, nbad = 0;
  int rc = CLI_OK, got;
  int jobs = cli_jobs();
  if (jobs > 1)
    got = pipelined(&c, lr, (size_t)max_line, jobs, &nreq, &nbad, &rc);
  else
    got = serial(&c, lr, (size_t)max_line, &nreq, &nbad, &rc);
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
