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

cs_status csi_error(cs_error *err, cs_status code, const char *fmt, ...) {
  if (!err)
    return code;
  err->code = code;
  if (!fmt) {
    snprintf(err->msg, sizeof err->msg, "%s", cs_strerror(code));
    return code;
  }
  va_list ap;
  va_start(ap, fmt);
  csi_vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
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
}

/* Set once by the application before threads start (documented). */
static cs_log_fn log_fn;
static void *log_user;

void cs_set_log_fn(cs_log_fn fn, void *user) {
  log_fn = fn;
  log_user = user;
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
