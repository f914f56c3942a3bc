/* cli.c: helpers shared by the subcommands: messages, strict number parsing,
 * expanding FILE|DIR arguments. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_verbosity = 0;

/* The one printer of every message on stderr: "calcspec: " and the
 * message as one escaped line (cs_escape_message), whatever file names,
 * option values or file contents it quotes. */
static void vmessage(const char *fmt, va_list ap) {
  char raw[2048], line[4096];
  vsnprintf(raw, sizeof raw, fmt, ap);
  cs_escape_message(raw, line, sizeof line);
  fprintf(stderr, "calcspec: %s\n", line);
}

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap);
  va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  char raw[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  cli_error("%s: %s", cmd, raw);
  cli_error_hint(cmd);
  return CLI_USAGE;
}

void cli_error_hint(const char *cmd) {
  char line[256];
  cs_escape_message(cmd, line, sizeof line);
  fprintf(stderr, "see 'calcspec%s%s --help'\n", *line ? " " : "", line);
}

void cli_file_error(const char *path, const cs_error *err) {
  cli_error("%s: %s", path, err->msg[0] ? err->msg : cs_strerror(err->code));
}

void cli_note(const char *fmt, ...) {
  if (cli_verbosity < 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vmessage(fmt, ap);
  va_end(ap);
}

int cli_parse_double(const char *s, double lo, double hi, double *out) {
  char *end;
  if (!s || !*s)
    return -1;
  errno = 0;
  double v = strtod(s, &end); /* LC_NUMERIC is "C" (main.c) */
  if (*end || errno || !isfinite(v) || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

int cli_parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  if (!s || !*s)
    return -1;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (*end || errno || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

int cli_parse_range(const char *s, double *lo, double *hi) {
  const char *colon = s ? strchr(s, ':') : NULL;
  if (!colon)
    return -1;
  char a[64];
  size_t n = (size_t)(colon - s);
  if (n == 0 || n >= sizeof a)
    return -1;
  memcpy(a, s, n);
  a[n] = '\0';
  if (cli_parse_double(a, -1e9, 1e9, lo) ||
      cli_parse_double(colon + 1, -1e9, 1e9, hi) || !(*lo < *hi))
    return -1;
  return 0;
}

static int push(cli_files *f, const char *path, int from_dir) {
  if (f->n == f->cap) {
    size_t ncap = f->cap ? f->cap * 2 : 16;
    char **p = realloc(f->path, ncap * sizeof *p);
    if (!p)
      return -1;
    f->path = p;
    int *d = realloc(f->from_dir, ncap * sizeof *d);
    if (!d)
      return -1;
    f->from_dir = d;
    f->cap = ncap;
  }
  char *copy = strdup(path);
  if (!copy)
    return -1;
  f->path[f->n] = copy;
  f->from_dir[f->n] = from_dir;
  f->n++;
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files and folders by device and inode.  A folder entered again (a
 * symbolic link back up the tree) would be walked to the depth limit (every
 * file counted again at each level; two such links, 2^32 walks); a file
 * reached again (two links, a path and a link) would be counted twice. */
typedef struct {
  struct node { dev_t dev; ino_t ino; int used; } *v; /* open addressing */
  size_t n, cap; /* cap 0 or a power of 2, at most half full */
} node_set;

static size_t node_slot(const node_set *s, dev_t dev, ino_t ino) {
  unsigned long long h = ((unsigned long long)ino ^
                          (unsigned long long)dev << 40) *
                         0x9E3779B97F4A7C15ull;
  size_t i = (size_t)(h >> 20) & (s->cap - 1);
  while (s->v[i].used && !(s->v[i].dev == dev && s->v[i].ino == ino))
    i = (i + 1) & (s->cap - 1);
  return i;
}

/* 1 when st's node was met already (a note at -v), or cannot be recorded
 * (said so); else records it.  Hashed: a folder of 100,000 files. */
static int seen_node(node_set *s, const struct stat *st, const char *path,
                     int *nbad) {
  if (2 * (s->n + 1) > s->cap) {
    node_set t = {calloc(s->cap ? 2 * s->cap : 64, sizeof *t.v), s->n,
                  s->cap ? 2 * s->cap : 64};
    if (!t.v) {
      cli_error("%s: out of memory", path);
      (*nbad)++;
      return 1;
    }
    for (size_t i = 0; i < s->cap; i++)
      if (s->v[i].used)
        t.v[node_slot(&t, s->v[i].dev, s->v[i].ino)] = s->v[i];
    free(s->v);
    *s = t;
  }
  size_t i = node_slot(s, st->st_dev, st->st_ino);
  if (s->v[i].used) {
    if (cli_verbosity > 0)
      cli_note("%s: skipped (a %s already met)", path,
               S_ISDIR(st->st_mode) ? "folder" : "file");
    return 1;
  }
  s->v[i].dev = st->st_dev;
  s->v[i].ino = st->st_ino;
  s->v[i].used = 1;
  s->n++;
  return 0;
}

static void walk(cli_files *f, const char *dir, int *nbad, int depth,
                 node_set *seen) {
  struct stat dst;
  if (stat(dir, &dst) == 0 && seen_node(seen, &dst, dir, nbad))
    return; /* a failed stat: opendir says why */
  DIR *d = opendir(dir);
  if (!d) {
    cli_error("%s: %s", dir, strerror(errno));
    (*nbad)++;
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int oom = 0;
  struct dirent *e;
  while (!oom && (e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 32;
      char **p = realloc(names, ncap * sizeof *p);
      if (!p) {
        oom = 1;
        break;
      }
      names = p;
      cap = ncap;
    }
    char *name = strdup(e->d_name);
    if (name)
      names[n++] = name;
    else
      oom = 1;
  }
  closedir(d);
  if (oom) { /* the entries read so far are still walked */
    cli_error("%s: out of memory listing the folder", dir);
    (*nbad)++;
  }
  if (n)
    qsort(names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(dir) + strlen(names[i]) + 2;
    char *p = malloc(len);
    if (p) {
      snprintf(p, len, "%s%s%s", dir,
               dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
      struct stat st;
      if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (depth < 32)
          walk(f, p, nbad, depth + 1, seen);
      } else if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
        /* in a directory, only files whose content a reader recognises:
         * READMEs, findings tables and notes are passed over */
        const char *fmt;
        cs_error err;
        if (cs_format_sniff(p, &fmt, &err) == CS_OK) {
          if (!seen_node(seen, &st, p, nbad) && push(f, p, 1)) {
            cli_error("%s: out of memory", p);
            (*nbad)++;
          }
        }
        else if (cli_verbosity > 0)
          cli_note("%s: skipped (not a spectrum file)", p);
      }
      free(p);
    } else {
      cli_error("%s: out of memory", dir);
      (*nbad)++;
    }
    free(names[i]);
  }
  free(names);
}

void cli_files_expand(cli_files *f, char **args, int nargs, int *nbad) {
  node_set seen = {NULL, 0, 0}; /* over all arguments: the first name wins */
  for (int i = 0; i < nargs; i++) {
    struct stat st;
    if (cli_is_stdio(args[i])) { /* standard input, read when its turn comes */
      if (push(f, args[i], 0)) {
        cli_error("%s: out of memory", args[i]);
        (*nbad)++;
      }
    } else if (stat(args[i], &st) != 0) {
      cli_error("%s: %s", args[i], strerror(errno));
      (*nbad)++;
    } else if (S_ISDIR(st.st_mode)) {
      walk(f, args[i], nbad, 0, &seen);
    } else if (S_ISREG(st.st_mode) && seen_node(&seen, &st, args[i], nbad)) {
      continue;
    } else if (push(f, args[i], 0)) {
      cli_error("%s: out of memory", args[i]);
      (*nbad)++;
    }
  }
  free(seen.v);
}

void cli_files_free(cli_files *f) {
  for (size_t i = 0; i < f->n; i++)
    free(f->path[i]);
  free(f->path);
  free(f->from_dir);
  memset(f, 0, sizeof *f);
}

const char *cli_ratio_text(size_t num, size_t den, int prec, char *buf,
                           size_t cap) {
  if (!den)
    snprintf(buf, cap, "n/a");
  else
    snprintf(buf, cap, "%.*f", prec, (double)num / (double)den);
  return buf;
}

const char *cli_kappa_text(const cs_agreement *ag, int prec, char *buf,
                           size_t cap) {
  if (ag->expected < 1)
    snprintf(buf, cap, " = %.*f (95 %% CI %.*f to %.*f)", prec, ag->kappa,
             prec, ag->kappa_lo, prec, ag->kappa_hi);
  else
    snprintf(buf, cap, " undefined: every core falls in one category of a "
             "rating (chance agreement 1)");
  return buf;
}

int cli_stdin_once(const char *cmd, const char *opt, const char *side,
                   char **args, int nargs) {
  for (int i = 0; side && cli_is_stdio(side) && i < nargs; i++)
    if (cli_is_stdio(args[i]))
      return cli_usage_error(cmd, "%s%s and the input '%s' cannot both be "
                             "standard input", opt, side, args[i]);
  return 0;
}

void cli_print_field(FILE *out, const char *v) {
  for (; *v; v++)
    putc((unsigned char)*v < 0x20 || *v == 0x7f ? ' ' : *v, out);
}

void cli_print_num(FILE *out, double v) {
  if (isfinite(v))
    fprintf(out, "%.10g", v);
}

FILE *cli_fopen_regular(const char *path, const char **why) {
  /* O_NONBLOCK so that a FIFO without a writer cannot hang the open */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  struct stat st;
  const char *w = NULL;
  if (fd < 0 || fstat(fd, &st))
    w = strerror(errno);
  else if (S_ISDIR(st.st_mode))
    w = "is a directory";
  else if (!S_ISREG(st.st_mode))
    w = S_ISFIFO(st.st_mode) ? "not a regular file (a FIFO)"
        : S_ISCHR(st.st_mode) ? "not a regular file (a character device)"
        : "not a regular file";
  FILE *f = NULL;
  if (!w) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
      fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (!(f = fdopen(fd, "rb")))
      w = strerror(errno);
  }
  if (!f && fd >= 0)
    close(fd);
  if (why)
    *why = w;
  return f;
}

static int open_stream(const char *path, int *fd, int *timeout_ms,
                       const char **why);
static int drain(int fd, int timeout_ms, size_t max,
                 int (*sink)(void *, const char *, size_t), void *ctx,
                 const char **why);
typedef struct {
  char *p;
  size_t n, cap;
} membuf;
static int sink_mem(void *ctx, const char *p, size_t n);

char *cli_slurp_why(const char *path, const char **why) {
  int sfd, tmo;
  const char *w = NULL;
  int k = open_stream(path, &sfd, &tmo, &w);
  if (why)
    *why = w;
  if (k < 0)
    return NULL;
  if (k > 0) { /* "-" or a FIFO: read once, to its end */
    membuf m = {0};
    int rc = drain(sfd, tmo, (size_t)1 << 20, sink_mem, &m, &w);
    if (sfd != 0)
      close(sfd);
    if (!rc && !m.p)
      m.p = malloc(1);
    if (rc || !m.p) {
      free(m.p);
      if (why)
        *why = rc ? w : "out of memory";
      return NULL;
    }
    m.p[m.n] = '\0';
    return m.p;
  }
  FILE *f = cli_fopen_regular(path, why);
  if (!f)
    return NULL;
  size_t cap = 4096, n = 0;
  char *p = malloc(cap);
  while (p) {
    n += fread(p + n, 1, cap - n - 1, f);
    if (n < cap - 1)
      break;
    if (cap > (1u << 20)) { /* a pipeline text is a few lines: refuse, */
      free(p);              /* never cut it short */
      p = NULL;
      if (why)
        *why = "larger than 1 MiB";
      break;
    }
    char *q = realloc(p, cap *= 2);
    if (!q)
      free(p);
    p = q;
  }
  if (!p && why && !*why)
    *why = "out of memory";
  fclose(f);
  if (p)
    p[n] = '\0';
  return p;
}

char *cli_slurp(const char *path) { return cli_slurp_why(path, NULL); }

int cli_format_known(const char *name, int write) {
  for (size_t i = 0; name && i < cs_format_count(); i++) {
    cs_format_info fi;
    cs_format_get(i, &fi);
    if (!strcmp(fi.name, name) && (write ? fi.can_write : fi.can_read))
      return 1;
  }
  return 0;
}

int cli_output_ext_known(const char *path) {
  const char *base = strrchr(path, '/'), *dot;
  base = base ? base + 1 : path;
  if (!(dot = strrchr(base, '.')) || dot == base || !*++dot)
    return 0;
  size_t n = strlen(dot);
  for (size_t i = 0; i < cs_format_count(); i++) {
    cs_format_info fi;
    cs_format_get(i, &fi);
    for (const char *e = fi.extensions; fi.can_write && e && *e;) {
      size_t len = strcspn(e, ",");
      if (len == n && !strncasecmp(e, dot, n))
        return 1;
      e += len + (e[len] == ',');
    }
  }
  return 0;
}

/* ---- "-", pipes, FIFOs and character devices as input or output ----
 * The readers take a path and may open it twice (sniff, then read), which
 * loses data from a stream.  So a stream is read once, whole, into a private
 * temporary file (unlinked at once; read back through /proc/self/fd/N), and
 * the readers get that regular file.  Messages keep the user's name. */

#define CLI_STREAM_MAX ((size_t)512 << 20) /* the library's file limit */

int cli_is_stdio(const char *path) { return path && !strcmp(path, "-"); }

int cli_install_output(const char *tmp, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    int rc = rename(tmp, path), e = errno;
    if (rc)
      remove(tmp);
    errno = e;
    return rc ? -1 : 0;
  }
  int in = open(tmp, O_RDONLY | O_CLOEXEC);
  int out = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  int e = in < 0 || out < 0 ? errno : 0;
  int fl = out >= 0 ? fcntl(out, F_GETFL) : -1;
  if (fl >= 0)
    fcntl(out, F_SETFL, fl & ~O_NONBLOCK);
  char buf[65536];
  ssize_t n;
  while (!e && (n = read(in, buf, sizeof buf)) != 0) {
    if (n < 0) {
      e = errno == EINTR ? 0 : errno;
      continue;
    }
    for (ssize_t off = 0; !e && off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w > 0)
        off += w;
      else if (w < 0 && errno != EINTR)
        e = errno;
    }
  }
  if (in >= 0)
    close(in);
  if (out >= 0 && close(out) != 0 && !e)
    e = errno;
  remove(tmp);
  errno = e;
  return e ? -1 : 0;
}

/* Seconds a named FIFO or device may stay silent (CALCSPEC_INPUT_TIMEOUT,
 * default 10; 0 waits for ever).  Standard input is never timed out: its
 * writer exists by construction and may be slow (cores | validate -). */
static int stream_timeout_ms(void) {
  const char *e = getenv("CALCSPEC_INPUT_TIMEOUT");
  long v;
  if (e && *e && !cli_parse_int(e, 0, 86400, &v))
    return v ? (int)(v * 1000) : -1;
  return 10000;
}

/* Open path as a stream: 1 and *fd when it is "-" or a FIFO; 0 when it is something else (a regular file: the
 * normal path reads it); -1 with *why on failure. */
static int open_stream(const char *path, int *fd, int *timeout_ms,
                       const char **why) {
  struct stat st, in;
  *timeout_ms = -1;
  if (cli_is_stdio(path)) {
    if (isatty(0)) {
      *why = "standard input is a terminal (pipe or redirect a file into it)";
      return -1;
    }
    *fd = 0;
    return 1;
  }
  /* only a FIFO (or pipe, as /dev/stdin) is a stream: a character device
   * such as /dev/zero never ends and is left to the readers' refusal */
  if (stat(path, &st) != 0 || !S_ISFIFO(st.st_mode))
    return 0;
  /* O_NONBLOCK: a FIFO without a writer must not hang the open */
  int f = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (f < 0 || fstat(f, &st) != 0) {
    *why = strerror(errno);
    if (f >= 0)
      close(f);
    return -1;
  }
  /* /dev/stdin and /dev/fd/0 are standard input: no timeout either */
  if (!(fstat(0, &in) == 0 && in.st_dev == st.st_dev && in.st_ino == st.st_ino))
    *timeout_ms = stream_timeout_ms();
  *fd = f;
  return 1;
}

/* Read fd to its end, at most max bytes, handing each chunk to sink (which
 * returns 0 ok).  0 ok, -1 with *why. */
static int drain(int fd, int timeout_ms, size_t max,
                 int (*sink)(void *, const char *, size_t), void *ctx,
                 const char **why) {
  char buf[65536];
  size_t total = 0;
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      *why = strerror(errno);
      return -1;
    }
    if (r == 0) {
      *why = total ? "input stalled (no data within the timeout, "
                     "CALCSPEC_INPUT_TIMEOUT)"
                   : "no data within the timeout (no writer? "
                     "CALCSPEC_INPUT_TIMEOUT)";
      return -1;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n < 0) {
      *why = strerror(errno);
      return -1;
    }
    if (n == 0)
      return 0;
    if ((total += (size_t)n) > max) {
      *why = max >= CLI_STREAM_MAX ? "stream larger than 512 MiB"
                                   : "larger than 1 MiB";
      return -1;
    }
    if (sink(ctx, buf, (size_t)n)) {
      *why = strerror(errno);
      return -1;
    }
  }
}

static int sink_fd(void *ctx, const char *p, size_t n) {
  int fd = *(int *)ctx;
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int sink_mem(void *ctx, const char *p, size_t n) {
  membuf *m = ctx;
  if (m->n + n + 1 > m->cap) {
    size_t cap = m->cap ? m->cap : 4096;
    while (cap < m->n + n + 1)
      cap *= 2;
    char *q = realloc(m->p, cap);
    if (!q) {
      errno = ENOMEM;
      return -1;
    }
    m->p = q;
    m->cap = cap;
  }
  memcpy(m->p + m->n, p, n);
  m->n += n;
  return 0;
}

static const char *tmpdir(void) {
  const char *t = getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

/* Spooled streams by user name: a second read of "-" or of a FIFO in the
 * same run gets the same content, not an empty or hanging stream. */
static struct spool {
  char *name;
  char path[PATH_MAX];
} spools[64];
static size_t nspools;

/* A regular file holding the content of path (itself when it is not a
 * stream).  0 ok; -1 with *why. */
static int input_path(const char *path, const char **real, const char **why) {
  *real = path;
  for (size_t i = 0; i < nspools; i++)
    if (!strcmp(spools[i].name, path)) {
      *real = spools[i].path;
      return 0;
    }
  int in, tmo;
  int k = open_stream(path, &in, &tmo, why);
  if (k <= 0)
    return k;
  if (nspools == sizeof spools / sizeof spools[0]) {
    *why = "too many streams in one run";
    goto fail_in;
  }
  struct spool *s = &spools[nspools];
  char tmpl[PATH_MAX];
  snprintf(tmpl, sizeof tmpl, "%s/calcspec-in-XXXXXX", tmpdir());
  int fd = mkstemp(tmpl);
  if (fd < 0) {
    *why = "cannot create a temporary file (TMPDIR)";
    goto fail_in;
  }
  int rc = drain(in, tmo, CLI_STREAM_MAX, sink_fd, &fd, why);
  if (in != 0)
    close(in);
  /* unlinked at once: nothing is left behind whatever happens next; the
   * readers reopen it through /proc/self/fd/N */
  snprintf(s->path, sizeof s->path, "/proc/self/fd/%d", fd);
  if (rc == 0 && access(s->path, R_OK) == 0) {
    unlink(tmpl);
  } else if (rc == 0) { /* no /proc: keep the name (removed at exit) */
    snprintf(s->path, sizeof s->path, "%s", tmpl);
    close(fd);
  } else {
    unlink(tmpl);
    close(fd);
    return -1;
  }
  if (!(s->name = strdup(path))) {
    *why = "out of memory";
    return -1;
  }
  nspools++;
  *real = s->path;
  return 0;
fail_in:
  if (in != 0)
    close(in);
  return -1;
}

static void remove_named_spools(void) {
  for (size_t i = 0; i < nspools; i++)
    if (strncmp(spools[i].path, "/proc/", 6))
      unlink(spools[i].path);
}

cs_status cli_dataset_read(const char *path, const char *format,
                           const cli_override *ov, cs_dataset **out,
                           cs_error *err) {
  const char *real, *why = NULL;
  static int registered;
  *out = NULL;
  if (!registered && atexit(remove_named_spools) == 0)
    registered = 1;
  if (input_path(path, &real, &why)) {
    snprintf(err->msg, sizeof err->msg, "%s", why);
    err->code = CS_ERR_IO;
    return CS_ERR_IO;
  }
  cs_status st = cs_dataset_read(real, format, out, err);
  for (size_t i = 0; !st && i < cs_dataset_count(*out); i++) {
    cs_spectrum *s = cs_dataset_get_mut(*out, i);
    if (real != path)
      st = cs_spectrum_set_meta(s, CS_META_SOURCE_FILE, path, err);
    if (!st && ov)
      st = cli_override_apply(ov, s, err);
    if (st && cs_dataset_count(*out) > 1) {
      char m[sizeof err->msg];
      snprintf(m, sizeof m, "spectrum %zu: %.400s", i, err->msg);
      memcpy(err->msg, m, sizeof m);
    }
  }
  if (st) {
    cs_dataset_free(*out);
    *out = NULL;
  }
  return st;
}

/* Read the next spectrum into r->ahead (or the error into ahead_st/err). */
static void read_ahead(cli_reader *r) {
  cs_spectrum *s = NULL;
  cs_status st = cs_reader_next(r->rd, &s, &r->ahead_err);
  if (!st && s) {
    if (r->spooled)
      st = cs_spectrum_set_meta(s, CS_META_SOURCE_FILE, r->path, &r->ahead_err);
    if (!st)
      st = cli_override_apply(&r->ov, s, &r->ahead_err);
    /* cli_dataset_read names the spectrum of these when the file holds
     * more than one */
    r->apply_failed = st != CS_OK;
    r->ahead_index = cs_spectrum_source_index(s);
  }
  if (st) {
    cs_spectrum_free(s);
    s = NULL;
  }
  r->ahead = s;
  r->ahead_st = st;
}

cs_status cli_reader_open(const char *path, const char *format,
                          const cli_override *ov, cli_reader *r,
                          cs_error *err) {
  const char *real, *why = NULL;
  static int registered;
  memset(r, 0, sizeof *r);
  if (!registered && atexit(remove_named_spools) == 0)
    registered = 1;
  if (input_path(path, &real, &why)) {
    snprintf(err->msg, sizeof err->msg, "%s", why);
    err->code = CS_ERR_IO;
    return CS_ERR_IO;
  }
  cs_status st = cs_reader_open(real, format, NULL, &r->rd, err);
  if (st)
    return st;
  r->path = path;
  r->spooled = real != path;
  if (ov)
    r->ov = *ov;
  read_ahead(r);
  if (r->ahead_st) { /* the first spectrum: an error of the whole file */
    cs_spectrum *second = NULL;
    cs_error e2;
    if (r->apply_failed && !cs_reader_next(r->rd, &second, &e2) && second) {
      char m[sizeof err->msg];
      snprintf(m, sizeof m, "spectrum 0: %.400s", r->ahead_err.msg);
      memcpy(r->ahead_err.msg, m, sizeof m);
    }
    cs_spectrum_free(second);
    *err = r->ahead_err;
    cli_reader_close(r);
    return err->code;
  }
  return CS_OK;
}

cs_status cli_reader_next(cli_reader *r, cs_spectrum **out, cs_error *err) {
  *out = NULL;
  if (r->ahead_st) {
    *err = r->ahead_err;
    if (r->apply_failed) {
      char m[sizeof err->msg];
      snprintf(m, sizeof m, "spectrum %zu: %.400s", r->ahead_index, err->msg);
      memcpy(err->msg, m, sizeof m);
    }
    return err->code;
  }
  if (!r->ahead)
    return CS_OK;
  cs_spectrum *s = r->ahead;
  read_ahead(r);
  *out = s;
  return CS_OK;
}

size_t cli_reader_count(const cli_reader *r) { return cs_reader_count(r->rd); }

void cli_reader_close(cli_reader *r) {
  cs_spectrum_free(r->ahead);
  cs_reader_close(r->rd);
  memset(r, 0, sizeof *r);
}

FILE *cli_spool_open(void) {
  char tmpl[PATH_MAX];
  snprintf(tmpl, sizeof tmpl, "%s/calcspec-spool-XXXXXX", tmpdir());
  int fd = mkstemp(tmpl);
  if (fd < 0)
    return NULL;
  unlink(tmpl);
  FILE *f = fdopen(fd, "w+");
  if (!f)
    close(fd);
  return f;
}

int cli_spool_flush(FILE *spool, long long count) {
  static const char key[] = "\"count\":null";
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int rc = fflush(spool) || fseek(spool, 0, SEEK_SET) ? -1 : 0;
  while (!rc && (n = getline(&line, &cap, spool)) > 0) {
    char *k = strstr(line, key);
    if (k) {
      fwrite(line, 1, (size_t)(k - line), stdout);
      printf("\"count\":%lld", count);
      fputs(k + sizeof key - 1, stdout);
    } else {
      fwrite(line, 1, (size_t)n, stdout);
    }
  }
  free(line);
  if (ferror(spool) || fseek(spool, 0, SEEK_SET) || ftruncate(fileno(spool), 0))
    rc = -1;
  return rc;
}

/* A temporary directory for output bound for stdout: dir, and file in it. */
static cs_status stdout_tmp(char *dir, size_t ndir, char *file, size_t nfile,
                            const char *format, cs_error *err) {
  if (!format) {
    snprintf(err->msg, sizeof err->msg,
             "writing to standard output needs the format (--to)");
    return err->code = CS_ERR_ARG;
  }
  snprintf(dir, ndir, "%s/calcspec-out-XXXXXX", tmpdir());
  if (!mkdtemp(dir)) {
    snprintf(err->msg, sizeof err->msg,
             "cannot create a temporary directory (TMPDIR): %s",
             strerror(errno));
    return err->code = CS_ERR_IO;
  }
  snprintf(file, nfile, "%s/out", dir);
  return CS_OK;
}

/* file to stdout (when ok), then file and dir removed */
static cs_status stdout_copy(const char *dir, const char *file, cs_status st,
                             cs_error *err) {
  if (!st) {
    FILE *f = fopen(file, "rb");
    char buf[65536];
    size_t n;
    if (!f)
      st = CS_ERR_IO;
    while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
      if (fwrite(buf, 1, n, stdout) != n) {
        st = CS_ERR_IO;
        break;
      }
    if (f)
      fclose(f);
    if (fflush(stdout))
      st = CS_ERR_IO;
    if (st) {
      snprintf(err->msg, sizeof err->msg, "writing standard output: %s",
               strerror(errno));
      err->code = st;
    }
  }
  unlink(file);
  rmdir(dir);
  return st;
}

cs_status cli_dataset_write(const cs_dataset *ds, const char *path,
                            const char *format, cs_error *err) {
  if (!cli_is_stdio(path))
    return cs_dataset_write(ds, path, format, err);
  char dir[PATH_MAX], file[PATH_MAX + 16];
  cs_status st = stdout_tmp(dir, sizeof dir, file, sizeof file, format, err);
  if (st)
    return st;
  return stdout_copy(dir, file, cs_dataset_write(ds, file, format, err), err);
}

cs_status cli_writer_open(const char *path, const char *format, cli_writer *w,
                          cs_error *err) {
  memset(w, 0, sizeof *w);
  if ((w->to_stdout = cli_is_stdio(path))) {
    cs_status st = stdout_tmp(w->dir, sizeof w->dir, w->file, sizeof w->file,
                              format, err);
    if (st)
      return st;
    path = w->file;
  }
  cs_status st = cs_writer_open(path, format, &w->w, err);
  if (st && w->to_stdout)
    rmdir(w->dir);
  return st;
}

cs_status cli_writer_close(cli_writer *w, cs_error *err) {
  cs_status st = cs_writer_close(w->w, err);
  w->w = NULL;
  return w->to_stdout ? stdout_copy(w->dir, w->file, st, err) : st;
}

void cli_writer_abort(cli_writer *w) {
  cs_writer_abort(w->w);
  w->w = NULL;
  if (w->to_stdout) {
    unlink(w->file);
    rmdir(w->dir);
  }
}

int cli_override_option(const char *cmd, const char *name, const char *arg,
                        cli_override *ov) {
  char hint[96];
  if (!strcmp(name, "technique")) {
    cs_technique t;
    if (cs_technique_from_name(arg, &t) || t == CS_TECH_UNKNOWN ||
        (t != CS_TECH_RAMAN && t != CS_TECH_FTIR))
      return cli_usage_error(cmd, "--technique wants raman or ftir, got '%s'%s",
                             arg, cli_word_hint(arg, hint, sizeof hint));
    ov->technique = t;
    return 0;
  }
  cs_axis a;
  if (cs_axis_from_name(arg, &a) ||
      (a != CS_AXIS_RAMAN_SHIFT && a != CS_AXIS_WAVELENGTH_NM &&
       a != CS_AXIS_WAVENUMBER))
    return cli_usage_error(
        cmd, "--axis wants raman_shift, wavelength_nm or wavenumber, got '%s'%s",
        arg, cli_word_hint(arg, hint, sizeof hint));
  ov->axis = a;
  return 0;
}

cs_status cli_override_apply(const cli_override *ov, cs_spectrum *s,
                             cs_error *err) {
  cs_axis a = cs_spectrum_axis(s);
  if (ov->axis != CS_AXIS_UNKNOWN) {
    if (a == CS_AXIS_UNKNOWN)
      cs_spectrum_set_axis(s, ov->axis);
    else if (a != ov->axis) {
      snprintf(err->msg, sizeof err->msg,
               "the file says axis %s, --axis says %s", cs_axis_name(a),
               cs_axis_name(ov->axis));
      return err->code = CS_ERR_ARG;
    }
  }
  cs_technique t = cs_spectrum_technique(s);
  if (ov->technique != CS_TECH_UNKNOWN) {
    if (t == CS_TECH_UNKNOWN)
      cs_spectrum_set_technique(s, ov->technique);
    else if (t != ov->technique) {
      snprintf(err->msg, sizeof err->msg,
               "the file says technique %s, --technique says %s",
               cs_technique_name(t), cs_technique_name(ov->technique));
      return err->code = CS_ERR_ARG;
    }
    /* a file with neither: the technique's usual axis */
    if (a == CS_AXIS_UNKNOWN && ov->axis == CS_AXIS_UNKNOWN)
      cs_spectrum_set_axis(s, ov->technique == CS_TECH_FTIR
                                  ? CS_AXIS_WAVENUMBER
                                  : CS_AXIS_RAMAN_SHIFT);
  } else if (t == CS_TECH_UNKNOWN && ov->axis != CS_AXIS_UNKNOWN) {
    /* an axis in cm^-1 shift or nm is Raman; absolute wavenumber is FTIR */
    cs_spectrum_set_technique(s, ov->axis == CS_AXIS_WAVENUMBER
                                     ? CS_TECH_FTIR
                                     : CS_TECH_RAMAN);
  }
  return CS_OK;
}

/* Edit distance (Levenshtein) of two short words, capped at 99. */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63)
    return 99;
  size_t row[64];
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      if (up + 1 < best)
        best = up + 1;
      diag = up;
      row[j] = best;
    }
  }
  return row[lb];
}

const char *cli_did_you_mean(const char *word, const char *const *cands,
                             size_t n) {
  const char *best = NULL;
  size_t bd = 99, wl = strlen(word);
  /* a typo: one edit in a short word, two (a swap) from five letters,
   * a third of the letters in long ones */
  size_t limit = wl < 5 ? 1 : wl / 3 > 2 ? wl / 3 : 2;
  for (size_t i = 0; i < n; i++) {
    if (!cands[i] || !*cands[i])
      continue;
    size_t d = edit_distance(word, cands[i]);
    if (d < bd) {
      bd = d;
      best = cands[i];
    }
  }
  if (best && bd <= limit)
    return best;
  /* or the start of exactly one candidate */
  const char *pre = NULL;
  for (size_t i = 0; wl && i < n; i++)
    if (cands[i] && !strncmp(cands[i], word, wl)) {
      if (pre)
        return NULL;
      pre = cands[i];
    }
  return pre;
}

int cli_bad_option(const char *cmd, const char *optstring,
                   const struct option *opts, int argc, char **argv) {
  const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
  /* A long option of a shared table that this command does not take
   * (train's --folds, cv's --output): getopt accepted it and consumed its
   * argument, so name the option, not the argument. */
  if (!optopt && (arg[0] != '-' || arg[1] != '-') && optind >= 2 &&
      optind <= argc && !strncmp(argv[optind - 2], "--", 2) &&
      !strchr(argv[optind - 2], '='))
    arg = argv[optind - 2];
  if (!strncmp(arg, "--", 2)) {
    char name[64];
    size_t k = strcspn(arg + 2, "=");
    snprintf(name, sizeof name, "%.*s", (int)(k < 63 ? k : 63), arg + 2);
    if (optopt) /* a known long option without its argument */
      return cli_usage_error(cmd, "option '--%s' needs an argument", name);
    const char *names[128];
    size_t n = 0;
    for (size_t i = 0; opts[i].name && n < 128; i++)
      names[n++] = opts[i].name;
    size_t matches = 0;
    const char *full = name;
    for (size_t i = 0; i < n; i++)
      if (!strncmp(names[i], name, strlen(name)))
        matches++, full = names[i];
    if (matches == 1) /* getopt took it: in the table, not this command's */
      return cli_usage_error(cmd, "unknown option '--%s'", full);
    if (matches > 1)
      return cli_usage_error(cmd, "option '--%s' is ambiguous", name);
    const char *s = cli_did_you_mean(name, names, n);
    if (s)
      return cli_usage_error(cmd, "unknown option '--%s' (did you mean "
                             "'--%s'?)", name, s);
    return cli_usage_error(cmd, "unknown option '--%s'", name);
  }
  const char *p = optopt ? strchr(optstring, optopt) : NULL;
  if (p && p[1] == ':')
    return cli_usage_error(cmd, "option '-%c' needs an argument", optopt);
  if (optopt > 32 && optopt < 127)
    return cli_usage_error(cmd, "unknown option '-%c'", optopt);
  return cli_usage_error(cmd, "unknown option '%s'", arg);
}

/* The words a value may be, for cli_value_hint, besides the baseline
 * methods and keys (the library's own lists): smoothing and normalisation
 * names, simulator classes, techniques and axes. */
static const char *const known_values[] = {
    "sg", "gauss", "vector", "area", "max", "snv", "band", "auto", "off",
    "tissue", "cod", "com", "hydroxyapatite", "ha", "whitlockite", "calcite",
    "oxalate", "raman", "ftir", "raman_shift", "wavelength_nm", "wavenumber"};
#define NKNOWN (sizeof known_values / sizeof *known_values)

const char *cli_value_hint(const char *msg, char *buf, size_t cap) {
  buf[0] = '\0';
  /* the last 'quoted' word of the message is the one that was refused */
  const char *end = strrchr(msg, '\''), *start = NULL;
  for (const char *p = end ? end - 1 : NULL; p && p >= msg; p--)
    if (*p == '\'') {
      start = p + 1;
      break;
    }
  if (!start || end - start <= 0 || end - start >= 64)
    return buf;
  char word[64];
  snprintf(word, sizeof word, "%.*s", (int)(end - start), start);
  return cli_word_hint(word, buf, cap);
}

const char *cli_word_hint(const char *word, char *buf, size_t cap) {
  buf[0] = '\0';
  const char *words[NKNOWN + 64];
  size_t n = 0;
  for (int m = 0; cs_baseline_method_name((cs_baseline_method)m) && n < 32; m++)
    words[n++] = cs_baseline_method_name((cs_baseline_method)m);
  for (size_t k = 0; cs_baseline_key_name(k) && n < 64; k++)
    words[n++] = cs_baseline_key_name(k);
  for (size_t k = 0; k < NKNOWN; k++)
    words[n++] = known_values[k];
  const char *s = cli_did_you_mean(word, words, n);
  if (s && strcmp(s, word))
    snprintf(buf, cap, " (did you mean '%s'?)", s);
  return buf;
}
