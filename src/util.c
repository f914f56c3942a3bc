/* util.c: small helpers shared by readers and writers: C-locale numbers,
 * strings, whole-file reads, base64, growable buffers, atomic writes. */
#define _GNU_SOURCE
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

double csi_strtod(const char *s, char **end) {
  pthread_once(&c_locale_once, make_c_locale);
  if (c_locale)
    return strtod_l(s, end, c_locale);
  return strtod(s, end); /* newlocale failed: only under memory exhaustion */
}

int csi_count_ok(double v) { return v >= 1 && v <= 1e9 && v == floor(v); }

int csi_parse_double(const char *s, double *out) {
  char *end;
  if (!s)
    return -1;
  while (isspace((unsigned char)*s))
    s++;
  if (!*s)
    return -1;
  errno = 0;
  double v = csi_strtod(s, &end);
  if (end == s || errno == ERANGE || !isfinite(v))
    return -1;
  while (isspace((unsigned char)*end))
    end++;
  if (*end)
    return -1;
  *out = v;
  return 0;
}

double csi_strtod_comma(const char *s, char **end) {
  char buf[64];
  size_t i = 0;
  const char *start = s;
  while (isspace((unsigned char)*start))
    start++;
  /* Copy a plausible number character by character, turning the first ','
   * into '.', so buf[k] corresponds to start[k]. */
  int seen_sep = 0;
  for (const char *p = start; *p && i + 1 < sizeof buf; p++) {
    char c = *p;
    if (isdigit((unsigned char)c) || c == '+' || c == '-' || c == 'e' ||
        c == 'E')
      buf[i++] = c;
    else if ((c == ',' || c == '.') && !seen_sep) {
      buf[i++] = '.';
      seen_sep = 1;
    } else
      break;
  }
  buf[i] = '\0';
  char *e;
  double v = csi_strtod(buf, &e);
  if (end)
    *end = (char *)(e == buf ? s : start + (e - buf));
  return v;
}

char *csi_strdup(const char *s) { return s ? csi_strndup(s, strlen(s)) : NULL; }

char *csi_strndup(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (!p)
    return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static locale_t c_numeric(void);
static void restore_locale(locale_t old);

char *csi_strfmt(const char *fmt, ...) {
  va_list ap, ap2;
  locale_t old = c_numeric();
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *p = len < 0 ? NULL : malloc((size_t)len + 1);
  if (p)
    vsnprintf(p, (size_t)len + 1, fmt, ap2);
  va_end(ap2);
  restore_locale(old);
  return p;
}

int csi_strcasecmp(const char *a, const char *b) {
  for (;; a++, b++) {
    int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
    if (ca != cb || !ca)
      return ca - cb;
  }
}

int csi_strncasecmp(const char *a, const char *b, size_t n) {
  for (; n; n--, a++, b++) {
    int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
    if (ca != cb || !ca)
      return ca - cb;
  }
  return 0;
}

char *csi_trim(char *s) {
  char *p = s;
  while (isspace((unsigned char)*p))
    p++;
  size_t n = strlen(p);
  while (n && isspace((unsigned char)p[n - 1]))
    n--;
  memmove(s, p, n);
  s[n] = '\0';
  return s;
}

/* What a path names when it is not a regular file. */
static const char *file_kind(mode_t m) {
  return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" :
         S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" :
         S_ISSOCK(m) ? "a socket" : "not a regular file";
}

cs_status csi_open_regular(const char *path, FILE **out, cs_error *err) {
  *out = NULL;
  /* O_NONBLOCK: opening a FIFO with no writer must not wait; it is
   * refused below before anything is read. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return csi_error(err, CS_ERR_IO, "cannot open: %s", strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return csi_error(err, CS_ERR_IO, "cannot open: %s", strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    if (S_ISDIR(st.st_mode))
      return csi_error(err, CS_ERR_IO, "is a directory");
    return csi_error(err, CS_ERR_IO, "not a regular file (%s)",
                     file_kind(st.st_mode));
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0)
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  FILE *f = fdopen(fd, "rb");
  if (!f) {
    close(fd);
    return csi_error(err, CS_ERR_NOMEM, "cannot open: out of memory");
  }
  *out = f;
  return CS_OK;
}

cs_status csi_check_regular(const char *path, cs_error *err) {
  FILE *f;
  cs_status st = csi_open_regular(path, &f, err);
  if (f)
    fclose(f);
  return st;
}

cs_status csi_read_file(const char *path, size_t max, char **buf, size_t *len,
                        cs_error *err) {
  *buf = NULL;
  *len = 0;
  FILE *f;
  cs_status ost = csi_open_regular(path, &f, err);
  if (ost)
    return ost;
  /* known too large: refused before reading max bytes of it (a 2 GiB
   * file cost 2 s and 512 MiB of memory to refuse) */
  struct stat sb;
  if (fstat(fileno(f), &sb) == 0 && sb.st_size > 0 &&
      (uint64_t)sb.st_size > max) {
    fclose(f);
    return csi_error(err, CS_ERR_UNSUPPORTED, "file larger than %zu MiB",
                     max >> 20);
  }
  size_t cap = 1 << 16, n = 0;
  char *p = malloc(cap + 1);
  if (!p) {
    fclose(f);
    return csi_error(err, CS_ERR_NOMEM, "out of memory reading file");
  }
  for (;;) {
    if (n == cap) {
      if (cap >= max) {
        free(p);
        fclose(f);
        return csi_error(err, CS_ERR_UNSUPPORTED,
                         "file larger than %zu MiB", max >> 20);
      }
      size_t ncap = cap * 2 > max ? max : cap * 2;
      char *q = realloc(p, ncap + 1);
      if (!q) {
        free(p);
        fclose(f);
        return csi_error(err, CS_ERR_NOMEM, "out of memory reading file");
      }
      p = q;
      cap = ncap;
    }
    size_t got = fread(p + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(p);
    return csi_error(err, CS_ERR_IO, "read error");
  }
  p[n] = '\0';
  *buf = p;
  *len = n;
  return CS_OK;
}

cs_status csi_read_head(const char *path, unsigned char *head, size_t cap,
                        size_t *len, cs_error *err) {
  *len = 0;
  FILE *f;
  cs_status ost = csi_open_regular(path, &f, err);
  if (ost)
    return ost;
  *len = fread(head, 1, cap, f);
  int bad = ferror(f);
  fclose(f);
  if (bad)
    return csi_error(err, CS_ERR_IO, "read error");
  return CS_OK;
}

void csi_path_ext(const char *path, char *ext, size_t cap) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  const char *dot = strrchr(base, '.');
  size_t i = 0;
  if (dot && dot != base)
    for (dot++; *dot && i + 1 < cap; dot++)
      ext[i++] = (char)tolower((unsigned char)*dot);
  ext[i] = '\0';
}

/* Decoding table: 1 + the 6-bit value for the standard and the URL-safe
 * alphabets ('-' '_' as '+' '/'), B64_SPACE for C-locale white space,
 * B64_PAD for '=', 0 for everything else. */
enum { B64_SPACE = 65, B64_PAD = 66 };
static const unsigned char b64tab[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,
    ['G'] = 7,  ['H'] = 8,  ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12,
    ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
    ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
    ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
    ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
    ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
    ['8'] = 61, ['9'] = 62, ['+'] = 63, ['-'] = 63, ['/'] = 64, ['_'] = 64,
    [' '] = B64_SPACE, ['\t'] = B64_SPACE, ['\n'] = B64_SPACE,
    ['\v'] = B64_SPACE, ['\f'] = B64_SPACE, ['\r'] = B64_SPACE,
    ['='] = B64_PAD};

/* Table decoder: whole quadruples of alphabet characters go four at a time
 * (3 bytes out, no per-bit bookkeeping); white space, padding and errors take
 * the one-character path, which keeps the old semantics exactly (white space
 * anywhere skipped, '=' only followed by '=' or white space, leftover bits
 * dropped).  ~30 MB/s before (isspace + branches per character). */
cs_status csi_base64_decode(const char *in, size_t len, unsigned char **out,
                            size_t *outlen, cs_error *err) {
  const unsigned char *u = (const unsigned char *)in;
  unsigned char *o = malloc(len / 4 * 3 + 3);
  if (!o)
    return csi_error(err, CS_ERR_NOMEM, "out of memory decoding base64");
  size_t n = 0, i = 0;
  unsigned acc = 0;
  int bits = 0, pad = 0;
  while (i < len) {
    if (bits == 0 && !pad) {
      while (i + 4 <= len) {
        unsigned a = b64tab[u[i]] - 1u, b = b64tab[u[i + 1]] - 1u,
                 c = b64tab[u[i + 2]] - 1u, d = b64tab[u[i + 3]] - 1u;
        if ((a | b | c | d) > 63u) /* 0 wraps to UINT_MAX; 64, 65 too big */
          break;
        unsigned v = a << 18 | b << 12 | c << 6 | d;
        o[n] = (unsigned char)(v >> 16);
        o[n + 1] = (unsigned char)(v >> 8);
        o[n + 2] = (unsigned char)v;
        n += 3;
        i += 4;
      }
      if (i >= len)
        break;
    }
    unsigned char c = u[i++];
    unsigned t = b64tab[c];
    if (t == B64_SPACE)
      continue;
    if (t == B64_PAD) {
      pad++;
      continue;
    }
    if (t == 0 || pad) {
      free(o);
      return csi_error(err, CS_ERR_MALFORMED, "invalid base64 character 0x%02x",
                       c);
    }
    acc = (acc << 6) | (t - 1);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      o[n++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1; /* keep acc small; only the low bits matter */
    }
  }
  *out = o;
  *outlen = n;
  return CS_OK;
}

char *csi_base64_encode(const unsigned char *in, size_t len) {
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *o = malloc((len + 2) / 3 * 4 + 1);
  if (!o)
    return NULL;
  size_t j = 0;
  for (size_t i = 0; i < len; i += 3) {
    unsigned v = (unsigned)in[i] << 16;
    if (i + 1 < len)
      v |= (unsigned)in[i + 1] << 8;
    if (i + 2 < len)
      v |= in[i + 2];
    o[j++] = tab[(v >> 18) & 63];
    o[j++] = tab[(v >> 12) & 63];
    o[j++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
    o[j++] = i + 2 < len ? tab[v & 63] : '=';
  }
  o[j] = '\0';
  return o;
}

int csi_dvec_push(csi_dvec *d, double x) {
  if (d->n == d->cap) {
    if (d->cap >= CSI_MAX_POINTS)
      return -1;
    size_t ncap = d->cap ? d->cap * 2 : 256;
    double *v = realloc(d->v, ncap * sizeof *v);
    if (!v)
      return -1;
    d->v = v;
    d->cap = ncap;
  }
  d->v[d->n++] = x;
  return 0;
}

void csi_dvec_free(csi_dvec *d) {
  free(d->v);
  d->v = NULL;
  d->n = d->cap = 0;
}

void csi_buf_put(csi_buf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->n + n + 1 > b->cap) {
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < b->n + n + 1)
      ncap *= 2;
    char *p = realloc(b->p, ncap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = ncap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

/* Writers format numbers with %g: switch this thread to the C locale so a
 * caller's LC_NUMERIC (e.g. de_DE's decimal comma) never leaks into files. */
static locale_t c_numeric(void) {
  pthread_once(&c_locale_once, make_c_locale);
  return c_locale ? uselocale(c_locale) : (locale_t)0;
}
static void restore_locale(locale_t old) {
  if (old)
    uselocale(old);
}

void csi_buf_printf(csi_buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  locale_t old = c_numeric();
  va_start(ap, fmt);
  int len = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  restore_locale(old);
  if (len < 0) {
    b->oom = 1;
    return;
  }
  if ((size_t)len < sizeof small) {
    csi_buf_put(b, small, (size_t)len);
    return;
  }
  char *big = malloc((size_t)len + 1);
  if (!big) {
    b->oom = 1;
    return;
  }
  old = c_numeric();
  va_start(ap, fmt);
  vsnprintf(big, (size_t)len + 1, fmt, ap);
  va_end(ap);
  restore_locale(old);
  csi_buf_put(b, big, (size_t)len);
  free(big);
}

void csi_buf_free(csi_buf *b) {
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
}

/* An existing device or FIFO (/dev/null, a pipe) is written in place:
 * renaming a temporary file over it would replace the node itself.
 * O_NONBLOCK: a FIFO with no reader is an error, not a wait. */
static cs_status open_in_place(const char *path, FILE **out, cs_error *err) {
  int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return csi_error(err, CS_ERR_IO, "cannot write: %s", errno == ENXIO
                     ? "a FIFO with no reader" : strerror(errno));
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0)
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  if (!(*out = fdopen(fd, "wb"))) {
    int e = errno;
    close(fd);
    return csi_error(err, CS_ERR_IO, "cannot write: %s", strerror(e));
  }
  return CS_OK;
}

/* A new file path.what.PID (then .1, .2, ... while taken) opened with
 * mode, its name in *name.  O_EXCL: never an existing file, nor what a
 * symlink planted at that predictable name points to, and two writers of
 * one path in a process get two files.  NULL with errno on failure. */
static FILE *create_beside(const char *path, const char *what,
                           const char *mode, char **name) {
  for (int i = 0; i < 100; i++) {
    char *t = i ? csi_strfmt("%s.%s.%ld.%d", path, what, (long)getpid(), i)
                : csi_strfmt("%s.%s.%ld", path, what, (long)getpid());
    if (!t) {
      errno = ENOMEM;
      return NULL;
    }
    int fd = open(t, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    FILE *f = fd < 0 ? NULL : fdopen(fd, mode);
    if (f) {
      *name = t;
      return f;
    }
    int e = errno;
    if (fd >= 0) {
      close(fd);
      remove(t);
    }
    free(t);
    if (e != EEXIST) {
      errno = e;
      return NULL;
    }
  }
  errno = EEXIST;
  return NULL;
}

/* Where an output named path goes: a symlink is followed to what it names
 * (renaming a new file over the link would replace the link, and with
 * -o /dev/stdout the system's own link); malloc'd, NULL when out of
 * memory. */
static char *output_target(const char *path) {
  struct stat sb;
  char *real = lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)
                   ? realpath(path, NULL)
                   : NULL;
  return real ? real : csi_strdup(path);
}

cs_status csi_sink_open(csi_sink *k, const char *path, cs_error *err) {
  struct stat sb;
  memset(k, 0, sizeof *k);
  if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
    return open_in_place(path, &k->f, err);
  if (!(k->path = output_target(path)))
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  path = k->path;
  if (!(k->f = create_beside(path, "tmp", "wb", &k->tmp))) {
    cs_status st = errno == ENOMEM
                       ? csi_error(err, CS_ERR_NOMEM, "out of memory")
                       : csi_error(err, CS_ERR_IO, "cannot create: %s",
                                   strerror(errno));
    csi_sink_abort(k);
    return st;
  }
  return CS_OK;
}

cs_status csi_sink_write(csi_sink *k, const void *p, size_t n, cs_error *err) {
  if (n && fwrite(p, 1, n, k->f) != n)
    return csi_error(err, CS_ERR_IO, "cannot write: %s", strerror(errno));
  return CS_OK;
}

cs_status csi_sink_commit(csi_sink *k, cs_error *err) {
  int e = fflush(k->f) != 0 ? errno : 0;
  if (fclose(k->f) != 0 && !e)
    e = errno;
  k->f = NULL;
  if (!e && k->tmp && rename(k->tmp, k->path) != 0)
    e = errno;
  if (!e) { /* renamed (or written in place): nothing to remove */
    free(k->tmp);
    k->tmp = NULL;
  }
  cs_status st = e ? csi_error(err, CS_ERR_IO, "cannot write: %s", strerror(e))
                   : CS_OK;
  csi_sink_abort(k);
  return st;
}

void csi_sink_abort(csi_sink *k) {
  if (k->f)
    fclose(k->f);
  if (k->tmp)
    remove(k->tmp);
  free(k->tmp);
  free(k->path);
  memset(k, 0, sizeof *k);
}

FILE *csi_spool_open(const char *path) {
  /* beside the output, whose file system takes the output (the spool and
   * the output both exist while the writer closes), unless the output is
   * a device or FIFO: then TMPDIR; unlinked at once, so nothing is left
   * behind however the process ends */
  struct stat sb;
  FILE *f = NULL;
  char *name = NULL, *target = NULL;
  if (stat(path, &sb) != 0 || S_ISREG(sb.st_mode)) {
    if ((target = output_target(path)) &&
        (f = create_beside(target, "spool", "w+b", &name)))
      remove(name);
  } else {
    const char *dir = getenv("TMPDIR");
    if ((name = csi_strfmt("%s/calcspec-spool-XXXXXX", dir && *dir ? dir : "/tmp"))) {
      int fd = mkstemp(name);
      if (fd >= 0 && !(f = fdopen(fd, "w+b")))
        close(fd);
      if (fd >= 0)
        remove(name);
    }
  }
  free(name);
  free(target);
  return f;
}

cs_status csi_write_atomic(const char *path, const char *data, size_t n,
                           cs_error *err) {
  csi_sink k;
  cs_status st = csi_sink_open(&k, path, err);
  if (!st && (st = csi_sink_write(&k, data, n, err)))
    csi_sink_abort(&k);
  return st ? st : csi_sink_commit(&k, err);
}

double csi_le_f32(const unsigned char *p) {
  uint32_t u = csi_le_u32(p);
  float f;
  memcpy(&f, &u, 4);
  return f;
}

double csi_le_f64(const unsigned char *p) {
  uint64_t u = csi_le_u64(p);
  double d;
  memcpy(&d, &u, 8);
  return d;
}

uint16_t csi_le_u16(const unsigned char *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t csi_le_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

uint64_t csi_le_u64(const unsigned char *p) {
  return (uint64_t)csi_le_u32(p) | (uint64_t)csi_le_u32(p + 4) << 32;
}

const unsigned char *csi_memcasemem(const unsigned char *hay, size_t n,
                                    const char *needle) {
  size_t m = strlen(needle);
  if (m == 0 || m > n)
    return m == 0 ? hay : NULL;
  for (size_t i = 0; i + m <= n; i++)
    if (csi_strncasecmp((const char *)hay + i, needle, m) == 0)
      return hay + i;
  return NULL;
}

const unsigned char *csi_skip_bom_ws(const unsigned char *p, size_t *n) {
  if (*n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
    p += 3;
    *n -= 3;
  }
  while (*n && isspace(*p)) {
    p++;
    (*n)--;
  }
  return p;
}

int csi_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap) {
  locale_t old = c_numeric();
  int n = vsnprintf(buf, cap, fmt, ap);
  restore_locale(old);
  return n;
}

int csi_snprintf(char *buf, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = csi_vsnprintf(buf, cap, fmt, ap);
  va_end(ap);
  return n;
}

int csi_fmt_double(char *buf, size_t cap, double v) {
  locale_t old = c_numeric();
  int n = snprintf(buf, cap, "%.17g", v);
  restore_locale(old);
  return n;
}

/* 1 when t, the %.17g text of a finite double, has at most 15 significant
 * digits and a decimal exponent other than 15 and 16: then it is also the
 * %.15g text.  The value rounded to 17 digits is then a 15-digit number
 * within half a 17-digit unit of the double, so it is the double rounded
 * to 15 digits too; %g drops trailing zeros either way and picks the same
 * notation unless the exponent is 15 or 16 (e-notation for %.15g only). */
static int short_as_15(const char *t) {
  const char *m = t + (*t == '-'), *e = m, *point = NULL;
  for (; *e && *e != 'e'; e++)
    if (*e == '.')
      point = e;
    else if (*e < '0' || *e > '9')
      return 0; /* inf, nan */
  if (!point)
    point = e;
  const char *first = m, *last = NULL; /* first and last non-zero digit */
  while (first < e && (*first == '0' || *first == '.'))
    first++;
  if (first == e)
    return 1; /* 0 or -0 */
  for (const char *q = first; q < e; q++)
    if (*q != '0' && *q != '.')
      last = q;
  long sig = last - first + 1 - (first < point && point < last);
  long x = *e == 'e'       ? strtol(e + 1, NULL, 10)
           : first < point ? point - first - 1
                           : -(first - point);
  return sig <= 15 && x != 15 && x != 16;
}

/* The %.*g text (precision p < 17) of the double whose %.17g text is t,
 * into out, from t's digits rounded to p: the double rounded to p digits,
 * unless t's digits beyond p are exactly 5 then zeros (the double may lie
 * on either side of that halfway point; then -1).  A halfway point is a
 * 17-digit number, so were the double on its other side than t, it would
 * be nearer to the double than t, the nearest 17-digit number.  Written
 * as %g writes: e-notation when the exponent X is < -4 or >= p, trailing
 * zeros and a bare point dropped, at least two exponent digits. */
static int round_g(const char *t, int p, char *out) {
  const char *m = t + (*t == '-'), *q;
  char d[20];
  int nd = 0, x = 0, point = -1;
  for (q = m; *q && *q != 'e'; q++) {
    if (*q == '.') {
      point = nd;
      continue;
    }
    if (*q < '0' || *q > '9')
      return -1; /* inf, nan */
    if (nd == 0 && *q == '0') { /* leading zeros: 0.00123 */
      if (point >= 0)
        x--;
      continue;
    }
    if (nd == 17)
      return -1;
    d[nd++] = *q;
  }
  if (nd == 0)
    return -1; /* zero: the caller's %.15g */
  if (*q == 'e')
    x = (int)strtol(q + 1, NULL, 10);
  else if (point < 0)
    x = nd - 1; /* an integer: all its digits are in the text */
  else if (point > 0)
    x = point - 1;
  else
    x -= 1; /* 0.00123: x counted the zeros after the point */
  while (nd < 17)
    d[nd++] = '0';
  /* round to p digits */
  int up = d[p] > '5';
  if (d[p] == '5') {
    int rest = 0;
    for (int i = p + 1; i < 17; i++)
      rest |= d[i] != '0';
    if (!rest)
      return -1;
    up = 1;
  }
  if (up) {
    int i = p - 1;
    while (i >= 0 && d[i] == '9')
      d[i--] = '0';
    if (i < 0) {
      d[0] = '1';
      x++;
    } else {
      d[i]++;
    }
  }
  int n = p;
  while (n > 1 && d[n - 1] == '0')
    n--;
  char *o = out;
  if (*t == '-')
    *o++ = '-';
  if (x < -4 || x >= p) {
    *o++ = d[0];
    if (n > 1) {
      *o++ = '.';
      memcpy(o, d + 1, (size_t)n - 1);
      o += n - 1;
    }
    o += sprintf(o, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
  } else if (x < 0) {
    *o++ = '0';
    *o++ = '.';
    for (int i = -1; i > x; i--)
      *o++ = '0';
    memcpy(o, d, (size_t)n);
    o += n;
  } else {
    for (int i = 0; i <= x; i++)
      *o++ = i < n ? d[i] : '0';
    if (n > x + 1) {
      *o++ = '.';
      memcpy(o, d + x + 1, (size_t)(n - x - 1));
      o += n - x - 1;
    }
  }
  *o = '\0';
  return (int)(o - out);
}

int csi_fmt_shortest(char *buf, size_t cap, double v) {
  locale_t old = c_numeric();
  char t17[40], tp[48];
  int n = snprintf(t17, sizeof t17, "%.17g", v);
  /* integers, window bounds, short decimals: %.17g is %.15g, which reads
   * back (a third of a report's numbers) */
  if (n > 0 && (size_t)n < sizeof t17 && short_as_15(t17)) {
    restore_locale(old);
    return snprintf(buf, cap, "%s", t17);
  }
  /* %.17g always reads back exactly; the first shorter form that does is
   * kept (strtod is correctly rounded in glibc; csi_parse_decimal gives
   * strtod's double whenever it takes the text, cheaper).  The shorter
   * forms come from the %.17g digits (round_g), one snprintf in all. */
  for (int p = 15; p <= 17; p++) {
    if (p == 17) {
      n = snprintf(buf, cap, "%s", t17);
      break;
    }
    int k = n > 0 && (size_t)n < sizeof t17 ? round_g(t17, p, tp) : -1;
    if (k < 0)
      k = snprintf(tp, sizeof tp, "%.*g", p, v);
    double back;
    if (csi_parse_decimal(tp, (size_t)k, 0, &back))
      back = strtod(tp, NULL);
    if (back == v) {
      n = snprintf(buf, cap, "%s", tp);
      break;
    }
  }
  restore_locale(old);
  return n;
}

int cs_format_double(char *buf, size_t cap, double v) {
  return csi_fmt_shortest(buf, cap, v);
}

/* Length of a valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n) {
  if (p[0] < 0x80)
    return 1;
  size_t len = p[0] >= 0xF0 && p[0] <= 0xF4   ? 4
               : p[0] >= 0xE0                 ? 3
               : p[0] >= 0xC2 && p[0] <= 0xDF ? 2
                                              : 0;
  if (!len || len > n)
    return 0;
  for (size_t i = 1; i < len; i++)
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  if (len == 3 && ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0)))
    return 0; /* overlong or surrogate */
  if (len == 4 && ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90)))
    return 0;
  return len;
}

char *csi_utf8_sanitize(const char *s) {
  size_t n = strlen(s);
  char *o = malloc(2 * n + 1), *q = o;
  if (!o)
    return NULL;
  const unsigned char *p = (const unsigned char *)s;
  while (n) {
    size_t len = utf8_len(p, n);
    if (len == 1 && p[0] < 0x20 && p[0] != '\t' && p[0] != '\n' && p[0] != '\r') {
      *q++ = ' '; /* control characters are not allowed in XML 1.0 */
    } else if (len == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] >= 0xBE) {
      memcpy(q, "\xEF\xBF\xBD", 3); /* U+FFFE/FFFF are not XML characters */
      q += 3;
    } else if (len) {
      memcpy(q, p, len);
      q += len;
    } else { /* vendor text in Latin-1: map the byte to its code point */
      *q++ = (char)(0xC0 | (p[0] >> 6));
      *q++ = (char)(0x80 | (p[0] & 0x3F));
      len = 1;
    }
    p += len;
    n -= len;
  }
  *q = '\0';
  return o;
}

/* k-th smallest of v[0..n); reorders v so that v[0..k) <= v[k] <= v[k+1..n).
 * Quickselect with a branchless Lomuto partition and a second pass that
 * splits off the elements equal to the pivot, so runs of equal values
 * (flat or quantised data) cannot make it quadratic.  Only the fallback of
 * csi_median when it has no memory for the copies below. */
static double select_k(double *v, size_t n, size_t k) {
  size_t lo = 0, hi = n; /* the k-th is in v[lo..hi) */
  while (hi - lo > 1) {
    /* median of three as pivot */
    double a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi - 1], pivot;
    if (a < b)
      pivot = b < c ? b : (a < c ? c : a);
    else
      pivot = a < c ? a : (b < c ? c : b);
    size_t s = lo; /* v[lo..s) < pivot */
    for (size_t i = lo; i < hi; i++) {
      double t = v[i];
      v[i] = v[s];
      v[s] = t;
      s += t < pivot;
    }
    if (k < s) {
      hi = s;
      continue;
    }
    size_t e = s; /* v[s..e) == pivot */
    for (size_t i = s; i < hi; i++) {
      double t = v[i];
      v[i] = v[e];
      v[e] = t;
      e += !(pivot < t);
    }
    if (k < e)
      return pivot;
    lo = e;
  }
  return v[k];
}

/* One partition pass from src[lo..hi) into dst[lo..hi): the points below p
 * (le: not above p) to the front, the others to the back; returns where the
 * back part starts.  Out of place, so no pass waits on its own stores (the
 * in-place swap loop above did, through memory). */
typedef size_t part_fn(const double *src, double *dst, size_t lo, size_t hi,
                       double p, int le);

static size_t part_scalar(const double *src, double *dst, size_t lo,
                          size_t hi, double p, int le) {
  size_t a = lo, b = hi; /* b - a == hi - i: both stores land in [a, b) */
  for (size_t i = lo; i < hi; i++) {
    double t = src[i];
    dst[a] = t;
    dst[b - 1] = t;
    int f = le ? !(p < t) : t < p;
    a += (size_t)f;
    b -= (size_t)!f;
  }
  return a;
}

#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_PART_AVX512 1
#include <immintrin.h>
/* Mask m of the points that go to the front (bit l: lane l) -> lane order
 * that puts those lanes first and the others after, each in order. */
static uint8_t part_lut[256][8];

/* Eight points a step: one permutation puts the front points in the low
 * lanes and the others in the high lanes; masked stores write each group
 * at its end of dst.  The last < 8 points: both groups at once, in order,
 * into what is left of [a, b). */
__attribute__((target("avx512f"))) static size_t
part_avx512(const double *src, double *dst, size_t lo, size_t hi, double p,
            int le) {
  __m512d vp = _mm512_set1_pd(p);
  size_t a = lo, b = hi, i = lo;
  for (; i + 8 <= hi; i += 8) {
    __m512d x = _mm512_loadu_pd(src + i);
    __mmask8 m = le ? _mm512_cmp_pd_mask(x, vp, _CMP_LE_OQ)
                    : _mm512_cmp_pd_mask(x, vp, _CMP_LT_OQ);
    __m512i ix = _mm512_cvtepu8_epi64(
        _mm_loadl_epi64((const __m128i *)part_lut[m]));
    __m512d y = _mm512_permutexvar_pd(ix, x);
    unsigned nf = (unsigned)__builtin_popcount(m);
    _mm512_mask_storeu_pd(dst + a, (__mmask8)((1u << nf) - 1), y);
    _mm512_mask_storeu_pd(dst + b - 8, (__mmask8)(0xFFu << nf), y);
    a += nf;
    b -= 8 - nf;
  }
  if (i < hi) {
    __mmask8 t = (__mmask8)((1u << (hi - i)) - 1);
    __m512d x = _mm512_maskz_loadu_pd(t, src + i);
    __mmask8 m = (le ? _mm512_cmp_pd_mask(x, vp, _CMP_LE_OQ)
                     : _mm512_cmp_pd_mask(x, vp, _CMP_LT_OQ)) & t;
    __m512i ix = _mm512_cvtepu8_epi64(
        _mm_loadl_epi64((const __m128i *)part_lut[m]));
    _mm512_mask_storeu_pd(dst + a, t, _mm512_permutexvar_pd(ix, x));
    a += (unsigned)__builtin_popcount(m);
  }
  return a;
}

/* The last r <= 8 points v[0..r): each one's rank among them (ties by
 * position), from one compare per point against all eight lanes, instead
 * of a pass per halving; *at and *at1 get the positions of ranks kk and
 * kk - 1 (when kk > 0). */
__attribute__((target("avx512f"))) static void
pick_avx512(const double *v, size_t r, size_t kk, size_t *at, size_t *at1) {
  __mmask8 t = (__mmask8)((1u << r) - 1);
  __m512d x = _mm512_maskz_loadu_pd(t, v);
  __m512i cnt = _mm512_setzero_si512(), one = _mm512_set1_epi64(1);
  for (unsigned i = 0; i < r; i++) {
    __m512d b = _mm512_set1_pd(v[i]); /* counts for the lanes above it */
    __mmask8 m = _mm512_cmp_pd_mask(b, x, _CMP_LT_OQ) |
                 (_mm512_cmp_pd_mask(b, x, _CMP_EQ_OQ) & (__mmask8)(0xFEu << i));
    cnt = _mm512_mask_add_epi64(cnt, m, cnt, one);
  }
  __mmask8 h = _mm512_cmpeq_epi64_mask(cnt, _mm512_set1_epi64((long long)kk));
  *at = (size_t)__builtin_ctz(h & t);
  if (kk) {
    h = _mm512_cmpeq_epi64_mask(cnt, _mm512_set1_epi64((long long)kk - 1));
    *at1 = (size_t)__builtin_ctz(h & t);
  }
}

static pthread_once_t sel_once = PTHREAD_ONCE_INIT;
static void probe_sel(void) {
  for (int m = 0; m < 256; m++) {
    int j = 0;
    for (int f = 1; f >= 0; f--)
      for (int l = 0; l < 8; l++)
        if ((m >> l & 1) == f)
          part_lut[m][j++] = (uint8_t)l;
  }
}
#endif

int csi_median_portable = 0;

static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static unsigned cpu_features;
static void probe_cpu(void) {
#if defined(__GNUC__) && defined(__x86_64__)
  __builtin_cpu_init();
  cpu_features = (__builtin_cpu_supports("avx2") ? CSI_CPU_AVX2 : 0u) |
                 (__builtin_cpu_supports("fma") ? CSI_CPU_FMA : 0u) |
                 (__builtin_cpu_supports("avx512f") ? CSI_CPU_AVX512F : 0u);
#endif
}

unsigned csi_cpu_features(void) {
  pthread_once(&cpu_once, probe_cpu);
  return cpu_features;
}

static inline double med3(double a, double b, double c) {
  double mn = a < b ? a : b, mx = a < b ? b : a;
  mx = mx < c ? mx : c;
  return mn < mx ? mx : mn;
}

/* The k-th smallest of v[0..n), v unchanged: quickselect that partitions
 * from v into a, then back and forth between a and b (each n long).  With
 * prev, also the (k-1)-th (k >= 1), the largest point ranked below. */
static double select_copy(const double *v, size_t n, size_t k, double *prev,
                          double *a, double *b) {
  part_fn *part = part_scalar;
  void (*pick)(const double *, size_t, size_t, size_t *, size_t *) = NULL;
#ifdef HAVE_PART_AVX512
  pthread_once(&sel_once, probe_sel);
  if ((csi_cpu_features() & CSI_CPU_AVX512F) && !csi_median_portable)
    part = part_avx512, pick = pick_avx512;
#endif
  const double *src = v, *low = NULL; /* low[llo..lhi): last part dropped */
  size_t lo = 0, hi = n, llo = 0, lhi = 0;
  double x;
  for (;;) {
    if (hi - lo == 1) {
      x = src[lo];
      break;
    }
    if (pick && hi - lo <= 8) {
      size_t at = 0, at1 = 0;
      pick(src + lo, hi - lo, k - lo, &at, &at1);
      x = src[lo + at];
      if (prev && k > lo) /* the (k-1)-th is among them */
        *prev = src[lo + at1], prev = NULL;
      break;
    }
    /* median of three (of three medians of three on long ranges) as
     * pivot, by min and max: no branch to mispredict */
    size_t w = hi - lo, q = w / 8;
    double p = w >= 128 ? med3(med3(src[lo], src[lo + q], src[lo + 2 * q]),
                               med3(src[lo + 3 * q], src[lo + w / 2],
                                    src[hi - 1 - 3 * q]),
                               med3(src[hi - 1 - 2 * q], src[hi - 1 - q],
                                    src[hi - 1]))
                        : med3(src[lo], src[lo + w / 2], src[hi - 1]);
    size_t s = part(src, a, lo, hi, p, 0); /* a[lo..s) < p <= a[s..hi) */
    if (k < s || s > lo) {
      /* k above s: everything below it dropped (selects, not branches) */
      int up = k >= s;
      low = up ? a : low, llo = up ? lo : llo, lhi = up ? s : lhi;
      lo = up ? s : lo, hi = up ? hi : s;
    } else {
      /* nothing below p: split off the points equal to it, so runs of
       * equal values (flat or quantised data) cannot make it quadratic */
      size_t e = part(a, b, lo, hi, p, 1); /* b[lo..e) == p */
      if (k < e) {
        x = p;
        if (prev && k > lo) /* the (k-1)-th equals p too */
          *prev = p, prev = NULL;
        break;
      }
      low = b, llo = lo, lhi = e, lo = e;
      src = b; /* a is free again */
      continue;
    }
    src = a;
    double *t = a;
    a = b, b = t;
  }
  if (prev) { /* k >= 1 and no equal point below: the top of what dropped */
    double m = low[llo];
    for (size_t i = llo + 1; i < lhi; i++)
      m = low[i] > m ? low[i] : m;
    *prev = m;
  }
  return x;
}

#define MEDIAN_STACK 1024
double csi_median(double *v, size_t n) {
  double sa[MEDIAN_STACK], sb[MEDIAN_STACK], *heap = NULL;
  double *a = sa, *b = sb, lo = 0, hi;
  if (n > MEDIAN_STACK && (heap = malloc(2 * n * sizeof *heap)))
    a = heap, b = heap + n;
  /* a NaN is unordered: the vector partitions' compares would not
   * agree with the scalar ones (and need not end), so such data takes the
   * in-place selection of 0.5, on a copy, and gives what 0.5 gave */
  int nan = 0;
  for (size_t i = 0; i < n; i++)
    nan |= v[i] != v[i];
  if (!nan && (n <= MEDIAN_STACK || heap)) {
    hi = select_copy(v, n, n / 2, n % 2 ? NULL : &lo, a, b);
  } else {
    double *w = v; /* no memory for a copy: in place */
    if (n <= MEDIAN_STACK || heap)
      w = memcpy(a, v, n * sizeof *v);
    hi = select_k(w, n, n / 2);
    lo = w[0]; /* largest of the lower half */
    for (size_t i = 1; i < n / 2; i++)
      lo = w[i] > lo ? w[i] : lo;
  }
  free(heap);
  return n % 2 ? hi : 0.5 * (lo + hi);
}

int csi_split(char *s, char sep, char **f, int max) {
  int n = 0;
  for (;;) {
    char *p = strchr(s, sep);
    if (n == max)
      return max + 1;
    f[n++] = s;
    if (!p)
      return n;
    *p = '\0';
    s = p + 1;
  }
}

char *csi_field_text(const unsigned char *p, size_t cap) {
  size_t len = 0;
  while (len < cap && p[len])
    len++;
  char *raw = csi_strndup((const char *)p, len);
  if (!raw)
    return NULL;
  for (char *q = raw; *q; q++)
    if ((unsigned char)*q < 0x20)
      *q = ' ';
  csi_trim(raw);
  char *s = *raw ? csi_utf8_sanitize(raw) : NULL;
  free(raw);
  return s;
}

double csi_even_x(double a, double b, size_t i, size_t n) {
  if (n < 2)
    return a;
  double t = (double)i / (double)(n - 1);
  return a * (1 - t) + b * t;
}

cs_status csi_meta_num(cs_spectrum *s, const char *key, double v,
                       cs_error *err) {
  char buf[40];
  csi_snprintf(buf, sizeof buf, "%.17g", v);
  return cs_spectrum_set_meta(s, key, buf, err);
}

/* ---- a parallel loop for the library's long batch work (training) ---- */

typedef struct {
  pthread_mutex_t mu;
  size_t n, next, done, fail_i;
  cs_status fail_st;
  cs_error fail_err;
  csi_task task;
  void *ctx;
  const char *what;
} par_loop;

static void par_run(par_loop *p, size_t w) {
  for (;;) {
    pthread_mutex_lock(&p->mu);
    /* nothing after a known failure starts: its result would be dropped */
    size_t i = p->next < p->n && p->next < p->fail_i ? p->next++ : p->n;
    pthread_mutex_unlock(&p->mu);
    if (i == p->n)
      return;
    cs_error e = {CS_OK, ""};
    cs_status st = p->task(p->ctx, w, i, &e);
    pthread_mutex_lock(&p->mu);
    if (st && i < p->fail_i) {
      p->fail_i = i;
      p->fail_st = st;
      p->fail_err = e;
    } else if (!st && p->what) {
      csi_progress(p->what, ++p->done, p->n); /* serialised by the lock */
    }
    pthread_mutex_unlock(&p->mu);
  }
}

typedef struct {
  par_loop *p;
  size_t w;
} par_arg;

static void *par_worker(void *arg) {
  par_arg *a = arg;
  par_run(a->p, a->w);
  return NULL;
}

cs_status csi_parallel_for(size_t n, size_t threads, csi_task task, void *ctx,
                           const char *progress_what, cs_error *err) {
  par_loop p = {.n = n, .fail_i = SIZE_MAX, .task = task, .ctx = ctx,
                .what = progress_what};
  if (threads > n)
    threads = n;
  if (threads > CSI_MAX_THREADS)
    threads = CSI_MAX_THREADS;
  if (pthread_mutex_init(&p.mu, NULL))
    return csi_error(err, CS_ERR_NOMEM, "cannot create a mutex");
  pthread_t th[CSI_MAX_THREADS];
  par_arg args[CSI_MAX_THREADS];
  size_t started = 0;
  /* worker 0 is the calling thread; a thread that cannot be created only
   * means fewer workers, never another result */
  for (size_t t = 1; t < threads; t++) {
    args[started] = (par_arg){&p, t};
    if (pthread_create(&th[started], NULL, par_worker, &args[started]))
      break;
    started++;
  }
  par_run(&p, 0);
  for (size_t t = 0; t < started; t++)
    pthread_join(th[t], NULL);
  pthread_mutex_destroy(&p.mu);
  if (p.fail_i < n) {
    if (err)
      *err = p.fail_err;
    return p.fail_st;
  }
  return CS_OK;
}
