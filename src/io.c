/* io.c: the reader table and cs_dataset_read/write: explicit format, else
 * content sniffing, else extension (libsndfile's order). */
#include "internal.h"

#include <string.h>

/* NULL-terminated so the table may be empty while readers are added. */
static const csi_reader *const readers[] = {
#define CS_READER(n) &csi_reader_##n,
#include "readers.def"
#undef CS_READER
    NULL};
static const size_t NREADERS = sizeof readers / sizeof readers[0] - 1;

#define SNIFF_BYTES 4096

size_t cs_format_count(void) { return NREADERS; }

cs_status cs_format_get(size_t i, cs_format_info *out) {
  if (i >= NREADERS)
    return CS_ERR_ARG;
  const csi_reader *r = readers[i];
  *out = (cs_format_info){r->name, r->extensions, r->description,
                          r->read != NULL, r->write != NULL};
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

cs_status cs_dataset_read(const char *path, const char *format,
                          cs_dataset **out, cs_error *err) {
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
    if (!r->read)
      return csi_error(err, CS_ERR_UNSUPPORTED, "%s is not supported",
                       r->description);
  } else {
    cs_status st = detect(path, &r, 1, err);
    if (st)
      return st;
    /* A row without read() recognises a format only to name it in the
     * refusal ("WITec WIP is not supported") instead of "no reader
     * recognises this file". */
    if (!r->read)
      return csi_error(err, CS_ERR_UNSUPPORTED, "%s is not supported",
                       r->description);
  }
  cs_dataset *ds = NULL;
  cs_status st = r->read(path, &ds, err);
  if (st) {
    cs_dataset_free(ds);
    /* A reader's private trouble is the file's fault unless it says
     * otherwise: keep the detail, normalise the code. */
    if (st != CS_ERR_IO && st != CS_ERR_NOMEM && st != CS_ERR_UNSUPPORTED &&
        st != CS_ERR_MALFORMED && st != CS_ERR_ARG)
      st = CS_ERR_MALFORMED;
    if (err)
      err->code = st;
    return st;
  }
  if (!ds || ds->n == 0) {
    cs_dataset_free(ds);
    return csi_error(err, CS_ERR_MALFORMED, "%s file holds no spectrum",
                     r->name);
  }
  /* Backstop for every reader: finite values, monotonic axis. */
  for (size_t i = 0; i < ds->n; i++) {
    cs_spectrum *s = ds->items[i];
    st = csi_spectrum_check(s, err);
    if (!st)
      st = cs_spectrum_set_meta(s, CS_META_SOURCE_FILE, path, err);
    if (!st)
      st = cs_spectrum_set_meta(s, CS_META_FORMAT, r->name, err);
    if (st) {
      if (ds->n > 1)
        csi_error_prefix(err, "spectrum %zu", i);
      cs_dataset_free(ds);
      return st;
    }
    s->source_index = i;
  }
  *out = ds;
  return CS_OK;
}

cs_status cs_dataset_write(const cs_dataset *ds, const char *path,
                           const char *format, cs_error *err) {
  const csi_reader *w = NULL;
  if (!ds || !path)
    return csi_error(err, CS_ERR_ARG, "nothing to write");
  if (ds->n == 0)
    return csi_error(err, CS_ERR_ARG, "dataset is empty");
  if (format) {
    if (!(w = by_name(format)) || !w->write)
      return csi_error(err, CS_ERR_ARG, "cannot write format '%s'", format);
  } else {
    char ext[16];
    csi_path_ext(path, ext, sizeof ext);
    for (size_t i = 0; i < NREADERS && !w; i++)
      if (readers[i]->write && ext_in(readers[i]->extensions, ext))
        w = readers[i];
    if (!w)
      return csi_error(err, CS_ERR_ARG,
                       "cannot tell the output format from '.%s' (use --to)",
                       ext);
  }
  return w->write(ds, path, err);
}
