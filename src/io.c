/* io.c: the reader table and cs_dataset_read/write: explicit format, else
 * content sniffing, else extension (libsndfile's order). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* NULL-terminated so the table may be empty while readers are added. */
static const csi_reader *const readers[] = {
#define CS_READER(n) &csi_reader_##n,
#define CS_STREAM(n)
#include "readers.def"
#undef CS_READER
#undef CS_STREAM
    NULL};
static const size_t NREADERS = sizeof readers / sizeof readers[0] - 1;

static const struct {
  const csi_reader *r;
  const csi_stream *s;
} streams[] = {
#define CS_READER(n)
#define CS_STREAM(n) {&csi_reader_##n, &csi_stream_##n},
#include "readers.def"
#undef CS_READER
#undef CS_STREAM
    {NULL, NULL}};

static const csi_stream *stream_of(const csi_reader *r) {
  for (size_t i = 0; streams[i].r; i++)
    if (streams[i].r == r)
      return streams[i].s;
  return NULL;
}

/* the formats written spectrum by spectrum (cs_writer) */
static const struct {
  const csi_reader *r;
  const csi_wstream *w;
} wstreams[] = {{&csi_reader_animl, &csi_wstream_animl},
                {&csi_reader_jcamp, &csi_wstream_jcamp},
                {NULL, NULL}};

static const csi_wstream *wstream_of(const csi_reader *r) {
  for (size_t i = 0; wstreams[i].r; i++)
    if (wstreams[i].r == r)
      return wstreams[i].w;
  return NULL;
}

#define SNIFF_BYTES 4096

size_t cs_format_count(void) { return NREADERS; }

cs_status cs_format_get(size_t i, cs_format_info *out) {
  if (i >= NREADERS)
    return CS_ERR_ARG;
  const csi_reader *r = readers[i];
  *out = (cs_format_info){r->name, r->extensions, r->description,
                          r->read != NULL, r->write || wstream_of(r)};
  return CS_OK;
}

static const csi_reader *by_name(const char *name) {
  for (size_t i = 0; i < NREADERS; i++)
    if (csi_strcasecmp(readers[i]->name, name) == 0)
      return readers[i];
  return NULL;
}

/* Is ext one of the comma-separated entries in list? */
static int ext_in(const char *list, const char *ext) {
  size_t n = strlen(ext);
  if (!n)
    return 0;
  for (const char *p = list; *p;) {
    const char *q = strchr(p, ',');
    size_t len = q ? (size_t)(q - p) : strlen(p);
    if (len == n && csi_strncasecmp(p, ext, n) == 0)
      return 1;
    if (!q)
      break;
    p = q + 1;
  }
  return 0;
}

static cs_status detect(const char *path, const csi_reader **out,
                        int by_extension, cs_error *err) {
  unsigned char head[SNIFF_BYTES];
  size_t n;
  *out = NULL;
  cs_status st = csi_read_head(path, head, sizeof head, &n, err);
  if (st)
    return st;
  if (n == 0)
    return csi_error(err, CS_ERR_MALFORMED, "empty file");
  int best = 0;
  for (size_t i = 0; i < NREADERS; i++) {
    int score = readers[i]->sniff ? readers[i]->sniff(head, n) : 0;
    if (score > best) {
      best = score;
      *out = readers[i];
    }
  }
  if (*out)
    return CS_OK;
  if (!by_extension)
    return csi_error(err, CS_ERR_FORMAT_UNKNOWN,
                     "no reader recognises the content of this file");
  char ext[16];
  csi_path_ext(path, ext, sizeof ext);
  for (size_t i = 0; i < NREADERS; i++)
    if (ext_in(readers[i]->extensions, ext)) {
      *out = readers[i];
      return CS_OK;
    }
  return csi_error(err, CS_ERR_FORMAT_UNKNOWN,
                   "no reader recognises this file (see 'calcspec formats')");
}

cs_status cs_format_detect(const char *path, const char **name, cs_error *err) {
  const csi_reader *r;
  *name = NULL;
  cs_status st = detect(path, &r, 1, err);
  if (st == CS_OK)
    *name = r->name;
  return st;
}

cs_status cs_format_sniff(const char *path, const char **name, cs_error *err) {
  const csi_reader *r;
  *name = NULL;
  cs_status st = detect(path, &r, 0, err);
  if (st == CS_OK)
    *name = r->name;
  return st;
}

/* The reader for path: by name, else detected.  Rows without read() name a
 * format only to refuse it ("WITec WIP is not supported"). */
static cs_status pick(const char *path, const char *format,
                      const csi_reader **out, cs_error *err) {
  const csi_reader *r;
  *out = NULL;
  if (!path)
    return csi_error(err, CS_ERR_ARG, "no file name");
  /* before any reader opens it (SPE and ProcSpec open it themselves) */
  cs_status rst = csi_check_regular(path, err);
  if (rst)
    return rst;
  if (format) {
    if (!(r = by_name(format)) || (!r->read && !r->sniff))
      return csi_error(err, CS_ERR_ARG, "unknown input format '%s'", format);
  } else {
    cs_status st = detect(path, &r, 1, err);
    if (st)
      return st;
  }
  if (!r->read)
    return csi_error(err, CS_ERR_UNSUPPORTED, "%s is not supported",
                     r->description);
  *out = r;
  return CS_OK;
}

/* A reader's private trouble is the file's fault unless it says otherwise:
 * keep the detail, normalise the code. */
static cs_status normalise(cs_status st, cs_error *err) {
  if (st != CS_ERR_IO && st != CS_ERR_NOMEM && st != CS_ERR_UNSUPPORTED &&
      st != CS_ERR_MALFORMED && st != CS_ERR_ARG)
    st = CS_ERR_MALFORMED;
  if (err)
    err->code = st;
  return st;
}

struct cs_reader {
  const csi_reader *r;
  const csi_stream *s; /* NULL: read whole */
  char *path;
  void *state;      /* streaming: the row's state */
  cs_dataset *ds;   /* whole: the file's spectra, handed out from pos */
  size_t pos;
  size_t index;     /* spectra handed out so far */
  size_t peak;
  cs_status failed; /* sticky error */
};

/* Backstop for every reader: finite values, monotonic axis; then the
 * source file, format and index every spectrum carries. */
static cs_status finish(cs_reader *rd, cs_spectrum *s, int prefix,
                        cs_error *err) {
  cs_status st = csi_spectrum_check(s, err);
  if (!st)
    st = cs_spectrum_set_meta(s, CS_META_SOURCE_FILE, rd->path, err);
  if (!st)
    st = cs_spectrum_set_meta(s, CS_META_FORMAT, rd->r->name, err);
  if (st) {
    if (prefix)
      csi_error_prefix(err, "spectrum %zu", rd->index);
    return st;
  }
  s->source_index = rd->index;
  return CS_OK;
}

void cs_reader_close(cs_reader *rd) {
  if (!rd)
    return;
  if (rd->state && rd->s)
    rd->s->close(rd->state);
  cs_dataset_free(rd->ds);
  free(rd->path);
  free(rd);
}

cs_status cs_reader_open(const char *path, const char *format,
                         const cs_reader_opts *opts, cs_reader **out,
                         cs_error *err) {
  const csi_reader *r;
  *out = NULL;
  cs_status st = pick(path, format, &r, err);
  if (st)
    return st;
  cs_reader *rd = calloc(1, sizeof *rd);
  if (!rd || !(rd->path = csi_strdup(path))) {
    free(rd);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  rd->r = r;
  if (!(opts && opts->whole))
    rd->s = stream_of(r);
  if (rd->s) {
    st = rd->s->open(path, &rd->state, err);
  } else {
    st = r->read(path, &rd->ds, err);
    if (!st && (!rd->ds || rd->ds->n == 0))
      st = csi_error(err, CS_ERR_MALFORMED, "%s file holds no spectrum",
                     r->name);
    if (!st)
      rd->peak = rd->ds->n;
  }
  if (st) {
    cs_reader_close(rd);
    return normalise(st, err);
  }
  *out = rd;
  return CS_OK;
}

cs_status cs_reader_next(cs_reader *rd, cs_spectrum **out, cs_error *err) {
  *out = NULL;
  if (!rd)
    return csi_error(err, CS_ERR_ARG, "no reader");
  if (rd->failed)
    return csi_error(err, rd->failed, "the file could not be read further");
  cs_spectrum *s = NULL;
  cs_status st;
  int prefix;
  if (rd->ds) {
    if (rd->pos == rd->ds->n)
      return CS_OK;
    s = rd->ds->items[rd->pos];
    rd->ds->items[rd->pos++] = NULL; /* handed out */
    prefix = rd->ds->n > 1;
    st = CS_OK;
  } else {
    st = rd->s->next(rd->state, &s, err);
    {
      size_t h = rd->s->held(rd->state) + (s != NULL);
      if (h > rd->peak)
        rd->peak = h;
    }
    if (st) {
      cs_spectrum_free(s);
      rd->failed = normalise(st, err);
      return rd->failed;
    }
    if (!s) {
      if (rd->index == 0)
        return rd->failed = csi_error(err, CS_ERR_MALFORMED,
                                      "%s file holds no spectrum", rd->r->name);
      return CS_OK;
    }
    prefix = 1;
  }
  st = finish(rd, s, prefix, err);
  if (st) {
    cs_spectrum_free(s);
    rd->failed = st;
    return st;
  }
  rd->index++;
  *out = s;
  return CS_OK;
}

const char *cs_reader_format(const cs_reader *rd) {
  return rd ? rd->r->name : NULL;
}

int cs_reader_streaming(const cs_reader *rd) { return rd && rd->s; }

size_t cs_reader_peak_held(const cs_reader *rd) { return rd ? rd->peak : 0; }

size_t cs_reader_count(const cs_reader *rd) {
  if (!rd)
    return 0;
  if (rd->ds)
    return rd->ds->n;
  return rd->s->count ? rd->s->count(rd->state) : 0;
}

cs_status cs_dataset_read(const char *path, const char *format,
                          cs_dataset **out, cs_error *err) {
  cs_reader *rd;
  *out = NULL;
  cs_status st = cs_reader_open(path, format, NULL, &rd, err);
  if (st)
    return st;
  cs_dataset *ds = csi_dataset_alloc();
  if (!ds) {
    cs_reader_close(rd);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  for (;;) {
    cs_spectrum *s;
    st = cs_reader_next(rd, &s, err);
    if (st || !s)
      break;
    if ((st = cs_dataset_push(ds, s, err))) /* push frees s on failure */
      break;
  }
  cs_reader_close(rd);
  if (st) {
    cs_dataset_free(ds);
    return st;
  }
  *out = ds;
  return CS_OK;
}

cs_status csi_read_bytes(const char *path, csi_bytes_parse parse,
                         cs_dataset **out, cs_error *err) {
  char *buf;
  size_t len;
  *out = NULL;
  cs_status st = csi_read_file(path, CSI_MAX_FILE_BYTES, &buf, &len, err);
  if (st)
    return st;
  cs_dataset *ds = csi_dataset_alloc();
  st = ds ? parse((const unsigned char *)buf, len, ds, err)
          : csi_error(err, CS_ERR_NOMEM, "out of memory");
  free(buf);
  if (st) {
    cs_dataset_free(ds);
    return st;
  }
  *out = ds;
  return CS_OK;
}

/* The writer of format (a name), else of path's extension. */
static cs_status writer_of(const char *path, const char *format,
                           const csi_reader **out, cs_error *err) {
  const csi_reader *w = NULL;
  if (format) {
    if (!(w = by_name(format)) || (!w->write && !wstream_of(w)))
      return csi_error(err, CS_ERR_ARG, "cannot write format '%s'", format);
  } else {
    char ext[16];
    csi_path_ext(path, ext, sizeof ext);
    for (size_t i = 0; i < NREADERS && !w; i++)
      if ((readers[i]->write || wstream_of(readers[i])) &&
          ext_in(readers[i]->extensions, ext))
        w = readers[i];
    if (!w)
      return csi_error(err, CS_ERR_ARG,
                       "cannot tell the output format from '.%s' (use --to)",
                       ext);
  }
  *out = w;
  return CS_OK;
}

struct cs_writer {
  const csi_reader *fmt;
  char *path;
  /* streaming formats: the spool of the spectra's parts (written in place);
   * the output is created only by close, so a run that dies leaves nothing
   * behind */
  const csi_wstream *ws;
  void *state;
  csi_sink spool;
  /* the others: copies of the spectra, written whole by close */
  cs_dataset *ds;
  size_t n;
  cs_status failed; /* a put's status: close writes nothing */
};

/* A writer of format fmt to path. */
static cs_status writer_new(const char *path, const csi_reader *fmt,
                            cs_writer **w, cs_error *err) {
  cs_writer *o = calloc(1, sizeof *o);
  if (!o || !(o->path = csi_strdup(path))) {
    free(o);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  o->fmt = fmt;
  o->ws = wstream_of(fmt);
  /* the spool beside the output also tells now, not after the work, that
   * its directory cannot be written (csv has nothing to spool: only that) */
  cs_status st = CS_OK;
  FILE *spool = csi_spool_open(path);
  if (!spool)
    st = csi_error(err, CS_ERR_IO, "cannot create: %s", strerror(errno));
  else if (!o->ws)
    fclose(spool);
  else
    o->spool.f = spool;
  if (!st && (o->ws ? !(o->state = o->ws->open())
                    : !(o->ds = csi_dataset_alloc())))
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (st) {
    cs_writer_abort(o);
    return st;
  }
  *w = o;
  return CS_OK;
}

cs_status cs_writer_open(const char *path, const char *format, cs_writer **w,
                         cs_error *err) {
  const csi_reader *fmt;
  *w = NULL;
  if (!path)
    return csi_error(err, CS_ERR_ARG, "nothing to write");
  cs_status st = writer_of(path, format, &fmt, err);
  return st ? st : writer_new(path, fmt, w, err);
}

static cs_status earlier_failure(const cs_writer *w, cs_error *err) {
  return csi_error(err, w->failed, "an earlier spectrum could not be written");
}

cs_status cs_writer_put(cs_writer *w, const cs_spectrum *s, cs_error *err) {
  if (!w || !s)
    return csi_error(err, CS_ERR_ARG, "nothing to write");
  if (w->failed)
    return earlier_failure(w, err);
  cs_status st;
  if (w->ws)
    st = w->ws->put(w->state, s, w->n, &w->spool, err);
  else {
    cs_spectrum *c;
    st = cs_spectrum_copy(s, &c, err);
    if (!st)
      st = cs_dataset_push(w->ds, c, err); /* frees c on failure */
  }
  if (st)
    w->failed = st;
  else
    w->n++;
  return st;
}

int cs_writer_streaming(const cs_writer *w) { return w && w->ws; }

cs_status cs_writer_close(cs_writer *w, cs_error *err) {
  cs_status st;
  if (!w)
    return csi_error(err, CS_ERR_ARG, "nothing to write");
  if (w->failed)
    st = earlier_failure(w, err);
  else if (w->n == 0)
    st = csi_error(err, CS_ERR_ARG, "no spectra to write");
  else if (w->ws) {
    csi_sink out;
    if (!(st = csi_sink_open(&out, w->path, err))) {
      st = w->ws->finish(w->state, w->n, w->spool.f, &out, err);
      if (st)
        csi_sink_abort(&out);
      else
        st = csi_sink_commit(&out, err); /* closes it either way */
    }
  } else
    st = w->fmt->write(w->ds, w->path, err);
  cs_writer_abort(w);
  return st;
}

void cs_writer_abort(cs_writer *w) {
  if (!w)
    return;
  if (w->ws && w->state)
    w->ws->free(w->state);
  csi_sink_abort(&w->spool); /* in place: only closes it */
  cs_dataset_free(w->ds);
  free(w->path);
  free(w);
}

cs_status csi_spool_copy(FILE *spool, csi_sink *out, cs_error *err) {
  char buf[1 << 16];
  size_t n;
  if (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0)
    return csi_error(err, CS_ERR_IO, "scratch file: %s", strerror(errno));
  while ((n = fread(buf, 1, sizeof buf, spool)) > 0) {
    cs_status st = csi_sink_write(out, buf, n, err);
    if (st)
      return st;
  }
  return ferror(spool) ? csi_error(err, CS_ERR_IO, "scratch file: %s",
                                   strerror(errno))
                       : CS_OK;
}

cs_status cs_dataset_write(const cs_dataset *ds, const char *path,
                           const char *format, cs_error *err) {
  const csi_reader *fmt;
  if (!ds || !path)
    return csi_error(err, CS_ERR_ARG, "nothing to write");
  if (ds->n == 0)
    return csi_error(err, CS_ERR_ARG, "dataset is empty");
  cs_status st = writer_of(path, format, &fmt, err);
  if (st || !wstream_of(fmt))
    return st ? st : fmt->write(ds, path, err);
  cs_writer *w;
  if ((st = writer_new(path, fmt, &w, err)))
    return st;
  for (size_t i = 0; i < ds->n && !st; i++)
    st = cs_writer_put(w, ds->items[i], err);
  if (st) {
    cs_writer_abort(w);
    return st;
  }
  return cs_writer_close(w, err);
}
