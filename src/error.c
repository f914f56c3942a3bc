/* error.c: status messages, the error object and the log hook. */
#include "internal.h"

#include <string.h>

/* Indexed by cs_status; test_errors.c checks every code has an entry. */
static const char *const messages[CS_ERR__COUNT] = {
    [CS_OK] = "no error",
    [CS_ERR_NOMEM] = "out of memory",
    [CS_ERR_IO] = "input/output error",
    [CS_ERR_FORMAT_UNKNOWN] = "unknown file format",
    [CS_ERR_MALFORMED] = "malformed file",
    [CS_ERR_UNSUPPORTED] = "unsupported",
    [CS_ERR_ARG] = "invalid argument",
    [CS_ERR_DIM] = "dimension mismatch",
    [CS_ERR_RANGE] = "out of range",
    [CS_ERR_NUMERIC] = "numerical failure",
    [CS_ERR_MODEL] = "invalid model",
};

const char *cs_version(void) { return CS_VERSION; }

const char *cs_strerror(cs_status code) {
  if ((int)code < 0 || code >= CS_ERR__COUNT || !messages[code])
    return "unknown error";
  return messages[code];
}

void cs_error_clear(cs_error *err) {
  if (!err)
    return;
  err->code = CS_OK;
  err->msg[0] = '\0';
}

/* Bytes that may not reach a terminal or a log line as they are: C0
 * controls, DEL, and (decoded) C1 controls, which some terminals take as
 * CSI. */
static int is_control(unsigned cp) {
  return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes) and its code
 * point, or 0 when the bytes are not UTF-8. */
static size_t utf8_seq(const unsigned char *p, size_t n, unsigned *cp) {
  size_t len;
  unsigned v, min;
  if (p[0] < 0x80) {
    *cp = p[0];
    return 1;
  } else if ((p[0] & 0xe0) == 0xc0) {
    len = 2, v = p[0] & 0x1fu, min = 0x80;
  } else if ((p[0] & 0xf0) == 0xe0) {
    len = 3, v = p[0] & 0x0fu, min = 0x800;
  } else if ((p[0] & 0xf8) == 0xf0) {
    len = 4, v = p[0] & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    v = v << 6 | (p[i] & 0x3fu);
  }
  if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
    return 0;
  *cp = v;
  return len;
}

size_t cs_escape_message(const char *in, char *out, size_t cap) {
  if (!out || cap == 0)
    return 0;
  const unsigned char *p = (const unsigned char *)(in ? in : "");
  size_t n = strlen((const char *)p), o = 0;
  for (size_t i = 0; i < n;) {
    char esc[16];
    unsigned cp;
    size_t len = utf8_seq(p + i, n - i, &cp), elen;
    if (len && !is_control(cp)) { /* printable: copied as it is */
      if (o + len >= cap)
        break;
      memcpy(out + o, p + i, len);
      o += len;
      i += len;
      continue;
    }
    if (len == 0) /* not UTF-8: one byte as \xNN */
      len = 1, cp = p[i];
    if (cp == '\n')
      elen = (size_t)snprintf(esc, sizeof esc, "\\n");
    else if (cp == '\r')
      elen = (size_t)snprintf(esc, sizeof esc, "\\r");
    else if (cp == '\t')
      elen = (size_t)snprintf(esc, sizeof esc, "\\t");
    else if (cp == 0x1b)
      elen = (size_t)snprintf(esc, sizeof esc, "\\e");
    else if (len == 1)
      elen = (size_t)snprintf(esc, sizeof esc, "\\x%02x", cp);
    else /* a C1 control written in UTF-8 */
      elen = (size_t)snprintf(esc, sizeof esc, "\\u%04x", cp);
    if (o + elen >= cap)
      break;
    memcpy(out + o, esc, elen);
    o += elen;
    i += len;
  }
  out[o] = '\0';
  return o;
}

/* Every message the library sets passes here: one printable line. */
static void set_msg(cs_error *err, const char *raw) {
  cs_escape_message(raw, err->msg, sizeof err->msg);
}

cs_status csi_error(cs_error *err, cs_status code, const char *fmt, ...) {
  if (!err)
    return code;
  err->code = code;
  if (!fmt) {
    set_msg(err, cs_strerror(code));
    return code;
  }
  /* formatted apart: the arguments may point into err->msg */
  char raw[CS_ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  csi_vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  set_msg(err, raw);
  return code;
}

void csi_error_prefix(cs_error *err, const char *fmt, ...) {
  if (!err)
    return;
  char old[CS_ERROR_MSG_MAX];
  memcpy(old, err->msg, sizeof old);
  va_list ap;
  va_start(ap, fmt);
  int n = csi_vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  size_t used = n < 0 ? 0 : (size_t)n;
  if (used + 2 < sizeof err->msg) {
    memcpy(err->msg + used, ": ", 3);
    used += 2;
    size_t room = sizeof err->msg - used - 1, len = strlen(old);
    memcpy(err->msg + used, old, len < room ? len : room);
    err->msg[used + (len < room ? len : room)] = '\0';
  }
  char raw[CS_ERROR_MSG_MAX];
  memcpy(raw, err->msg, sizeof raw);
  set_msg(err, raw);
}

/* Set once by the application before threads start (documented). */
static cs_log_fn log_fn;
static void *log_user;

void cs_set_log_fn(cs_log_fn fn, void *user) {
  log_fn = fn;
  log_user = user;
}

static cs_progress_fn progress_fn;
static void *progress_user;

void cs_set_progress_fn(cs_progress_fn fn, void *user) {
  progress_fn = fn;
  progress_user = user;
}

void csi_progress(const char *what, size_t done, size_t total) {
  if (progress_fn)
    progress_fn(what, done, total, progress_user);
}

void csi_log(int level, const char *fmt, ...) {
  if (!log_fn)
    return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  log_fn(level, buf, log_user);
}
