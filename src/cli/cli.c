/* cli.c: helpers shared by the subcommands: messages, strict number parsing,
 * expanding FILE|DIR arguments. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
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

static void walk(cli_files *f, const char *dir, int *nbad, int depth) {
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
          walk(f, p, nbad, depth + 1);
      } else if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
        /* in a directory, only files whose content a reader recognises:
         * READMEs, findings tables and notes are passed over */
        const char *fmt;
        cs_error err;
        if (cs_format_sniff(p, &fmt, &err) == CS_OK)
          push(f, p, 1);
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
  for (int i = 0; i < nargs; i++) {
    struct stat st;
    if (stat(args[i], &st) != 0) {
      cli_error("%s: %s", args[i], strerror(errno));
      (*nbad)++;
    } else if (S_ISDIR(st.st_mode)) {
      walk(f, args[i], nbad, 0);
    } else if (push(f, args[i], 0)) {
      cli_error("%s: out of memory", args[i]);
      (*nbad)++;
    }
  }
}

void cli_files_free(cli_files *f) {
  for (size_t i = 0; i < f->n; i++)
    free(f->path[i]);
  free(f->path);
  free(f->from_dir);
  memset(f, 0, sizeof *f);
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

char *cli_slurp_why(const char *path, const char **why) {
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
