/* cmd_watch.c: `calcspec watch DIR`: classify each spectrum file when the
 * spectrometer software finishes writing it (inotify IN_CLOSE_WRITE /
 * IN_MOVED_TO), append JSON result lines, remember what was done in a state
 * file so a restart never processes a file twice. */
#include "integ.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_NAME ".calcspec-watch.state"

static int help(void) {
  printf(
      "usage: calcspec watch [-o results.jsonl] [--state FILE] [-m model.txt]\n"
      "                      [--qc SPEC] [--composition] [-f FORMAT] DIR\n\n"
      "Classifies every spectrum file that appears in DIR (not its\n"
      "subdirectories) once the writer closes it or renames it into DIR,\n"
      "and files already there that were not done before.  Each spectrum\n"
      "gives one JSON line, the same keys as `calcspec classify --json`\n"
      "(README \"JSON results\"); a file that cannot be read gives\n"
      "{\"file\":..., ..., \"error\":...}.  Lines are appended with one write each (O_APPEND).\n"
      "Hidden files (.name) are ignored, so writers can rename temporary\n"
      "files into place.  SIGINT or SIGTERM stop it (exit 0).\n\n"
      "  -o, --output FILE  append results here (default: stdout)\n"
      "      --state FILE   files done, one JSON line each (name, size,\n"
      "                     mtime): default DIR/" STATE_NAME "\n"
      "                     a file is done again only when it changes\n"
      "  -m, --model FILE   model file (default: built-in per technique)\n"
      "      --qc SPEC      QC thresholds (see calcspec stream)\n"
      "  -f, --format NAME  input reader\n"
      "      --composition  add each spectrum's \"composition\" (as classify\n"
      "                     --json --composition; built-in SYNTHETIC\n"
      "                     calibration)\n");
  return CLI_OK;
}

static volatile sig_atomic_t stop_signal;
static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig) {
  int saved = errno;
  stop_signal = sig;
  if (sig_pipe[1] >= 0 && write(sig_pipe[1], "x", 1) < 0) {
    /* the pipe is full: a wake-up is already pending */
  }
  errno = saved;
}

typedef struct {
  const char *dir;
  const char *format;
  int out_fd, state_fd;
  struct stat out_st, state_st; /* to skip our own files in DIR */
  int out_is_file;
  cli_models models;
  cs_qc_opts qc;
  int composition; /* --composition */
  char **done; /* "size mtime_ns name" keys */
  size_t ndone, capdone;
  unsigned long nfiles, nbad;
} watcher;

static char *file_key(const char *name, const struct stat *st) {
  long long ns = (long long)st->st_mtim.tv_sec * 1000000000LL +
                 st->st_mtim.tv_nsec;
  size_t n = strlen(name) + 64;
  char *k = malloc(n);
  if (k)
    snprintf(k, n, "%lld %lld %s", (long long)st->st_size, ns, name);
  return k;
}

static int is_done(const watcher *w, const char *key) {
  for (size_t i = w->ndone; i-- > 0;)
    if (!strcmp(w->done[i], key))
      return 1;
  return 0;
}

static int remember(watcher *w, char *key) {
  if (w->ndone == w->capdone) {
    size_t cap = w->capdone ? 2 * w->capdone : 64;
    char **d = realloc(w->done, cap * sizeof *d);
    if (!d)
      return -1;
    w->done = d;
    w->capdone = cap;
  }
  w->done[w->ndone++] = key;
  return 0;
}

/* One write() of a whole line: with O_APPEND concurrent readers and writers
 * never see it interleaved. */
static int put_line(int fd, const char *line) {
  size_t n = strlen(line);
  while (n) {
    ssize_t k = write(fd, line, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return -1;
    line += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Write one result line (taken over; NULL: out of memory). */
static int emit(watcher *w, char *line) {
  int rc = line ? put_line(w->out_fd, line) : -1;
  free(line);
  if (rc)
    cli_error("watch: cannot write a result: %s",
            strerror(errno));
  return rc;
}

/* A regular file that ends in a torn line (a crash mid-write) gets its
 * newline before we append: the next line glued onto the torn one was
 * lost too (the state's record, so that file was done again; a result
 * line, so readers met one bad line of two). */
static int end_torn_line(int fd, const char *path) {
  struct stat st;
  char c = '\n';
  if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size == 0)
    return 0;
  int rfd = open(path, O_RDONLY | O_CLOEXEC);
  if (rfd < 0 || pread(rfd, &c, 1, st.st_size - 1) != 1)
    c = '\n'; /* unreadable: leave it */
  if (rfd >= 0)
    close(rfd);
  return c == '\n' ? 0 : put_line(fd, "\n");
}

static int load_state(watcher *w, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return errno == ENOENT ? 0 : -1;
  char *buf = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&buf, &cap, f)) > 0) {
    json_t *o = json_loadb(buf, (size_t)len, 0, NULL);
    const char *name = json_string_value(json_object_get(o, "name"));
    json_t *sz = json_object_get(o, "size"), *mt = json_object_get(o, "mtime_ns");
    if (name && json_is_integer(sz) && json_is_integer(mt)) {
      size_t n = strlen(name) + 64;
      char *k = malloc(n);
      if (k) {
        snprintf(k, n, "%lld %lld %s", (long long)json_integer_value(sz),
                 (long long)json_integer_value(mt), name);
        if (remember(w, k))
          free(k);
      }
    } /* a torn last line (crash mid-write) is ignored */
    json_decref(o);
  }
  free(buf);
  fclose(f);
  return 0;
}

static int same_file(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Classify DIR/name unless it was done already. */
static void process(watcher *w, const char *name) {
  if (name[0] == '.' || !name[0])
    return;
  size_t plen = strlen(w->dir) + strlen(name) + 2;
  char *path = malloc(plen);
  if (!path)
    return;
  snprintf(path, plen, "%s/%s", w->dir, name);
  struct stat st;
  char *key = NULL;
  if (stat(path, &st) || !S_ISREG(st.st_mode) ||
      (w->out_is_file && same_file(&st, &w->out_st)) ||
      same_file(&st, &w->state_st) || !(key = file_key(name, &st)) ||
      is_done(w, key)) {
    free(key);
    free(path);
    return;
  }
  cs_error err;
  cs_dataset *ds = NULL;
  w->nfiles++;
  if (cs_dataset_read(path, w->format, &ds, &err)) {
    emit(w, cli_error_line(NULL, name, -1, -1, NULL, err.msg));
    w->nbad++;
    if (cli_verbosity >= 0)
      cli_file_error(path, &err);
  } else {
    size_t count = cs_dataset_count(ds);
    for (size_t i = 0; i < count; i++) {
      const cs_spectrum *s = cs_dataset_get(ds, i);
      const char *core = cs_spectrum_meta(s, CS_META_CORE_ID);
      const cs_model *m = cli_models_for(&w->models, s, &err);
      cs_report rep;
      char *line = NULL;
      if (!m || cs_classify_spectrum(m, s, &w->qc, &rep, &err) ||
          (w->composition && rep.classified &&
           cs_report_composition(&rep, s, NULL, &err)) ||
          !(line = cli_result_line(NULL, name, (long long)i, (long long)count,
                                   core, &rep, m, &err))) {
        line = cli_error_line(NULL, name, (long long)i, (long long)count, core,
                              err.msg);
        w->nbad++;
      }
      emit(w, line);
    }
    cs_dataset_free(ds);
  }
  /* record it after its results: a crash in between repeats one file
   * rather than losing it */
  json_t *rec = json_object();
  long long ns = (long long)st.st_mtim.tv_sec * 1000000000LL +
                 st.st_mtim.tv_nsec;
  json_object_set_new(rec, "name", json_string(name));
  json_object_set_new(rec, "size", json_integer((json_int_t)st.st_size));
  json_object_set_new(rec, "mtime_ns", json_integer((json_int_t)ns));
  char *line = cli_json_line(rec);
  json_decref(rec);
  if (!line || put_line(w->state_fd, line))
    cli_error("watch: cannot write the state file: %s",
            strerror(errno));
  free(line);
  if (remember(w, key))
    free(key);
  free(path);
}

/* Files already in DIR, in name order. */
static int scan(watcher *w) {
  struct dirent **names;
  int n = scandir(w->dir, &names, NULL, alphasort);
  if (n < 0)
    return -1;
  for (int i = 0; i < n; i++) {
    if (!stop_signal)
      process(w, names[i]->d_name);
    free(names[i]);
  }
  free(names);
  return 0;
}

static int run(watcher *w) {
  int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0 || inotify_add_watch(fd, w->dir, IN_CLOSE_WRITE | IN_MOVED_TO |
                                                  IN_ONLYDIR) < 0) {
    cli_error("%s: cannot watch: %s", w->dir,
            strerror(errno));
    if (fd >= 0)
      close(fd);
    return CLI_DATA_ERROR;
  }
  /* watch first, then scan: nothing written in between is missed, and the
   * state keeps the overlap from being done twice */
  if (scan(w)) {
    cli_error("%s: %s", w->dir, strerror(errno));
    close(fd);
    return CLI_DATA_ERROR;
  }
  cli_note("watch: watching %s", w->dir);
  int rc = CLI_OK;
  char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
  while (!stop_signal) {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {sig_pipe[0], POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      rc = CLI_DATA_ERROR;
      break;
    }
    if (stop_signal)
      break;
    if (!(p[0].revents & POLLIN))
      continue;
    ssize_t len = read(fd, buf, sizeof buf);
    if (len <= 0)
      continue;
    for (char *q = buf; q < buf + len;) {
      const struct inotify_event *ev = (const struct inotify_event *)q;
      q += sizeof *ev + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        scan(w); /* events were lost: look at everything */
      } else if (ev->mask & IN_IGNORED) {
        cli_error("%s: directory went away", w->dir);
        stop_signal = -1;
        rc = CLI_DATA_ERROR;
        break;
      } else if (ev->len && !(ev->mask & IN_ISDIR) && !stop_signal) {
        process(w, ev->name);
      }
    }
  }
  close(fd);
  return rc;
}

int cmd_watch(int argc, char **argv) {
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"state", required_argument, 0, 'S'},
                                       {"model", required_argument, 0, 'm'},
                                       {"qc", required_argument, 0, 'Q'},
                                       {"format", required_argument, 0, 'f'},
                                       {"composition", no_argument, 0, 'C'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  watcher w;
  memset(&w, 0, sizeof w);
  w.qc = cs_qc_opts_default();
  w.out_fd = 1;
  w.state_fd = -1;
  const char *out = NULL, *state = NULL, *model = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "o:m:f:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'S': state = optarg; break;
    case 'm': model = optarg; break;
    case 'f': w.format = optarg; break;
    case 'C': w.composition = 1; break;
    case 'Q':
      if (cli_qc_option("watch", optarg, &w.qc))
        return CLI_USAGE;
      break;
    case 'h': return help();
    default: return cli_bad_option("watch", "o:m:f:h", opts, argc, argv);
    }
  }
  if (argc - optind != 1)
    return cli_usage_error("watch", "give exactly one directory");
  w.dir = argv[optind];
  struct stat st;
  if (stat(w.dir, &st) || !S_ISDIR(st.st_mode)) {
    cli_error("%s: not a directory", w.dir);
    return CLI_DATA_ERROR;
  }
  char *state_path = NULL;
  if (!state) {
    size_t n = strlen(w.dir) + sizeof STATE_NAME + 1;
    state_path = malloc(n);
    if (!state_path)
      return CLI_DATA_ERROR;
    snprintf(state_path, n, "%s/%s", w.dir, STATE_NAME);
    state = state_path;
  }
  int rc = CLI_DATA_ERROR;
  if (cli_models_open(&w.models, model))
    goto out;
  cli_models_prepare(&w.models, CS_TECH_UNKNOWN); /* not in the first file's time */
  if (load_state(&w, state)) {
    cli_error("%s: cannot read: %s", state, strerror(errno));
    goto out;
  }
  w.state_fd = open(state, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (w.state_fd < 0 || fstat(w.state_fd, &w.state_st) ||
      end_torn_line(w.state_fd, state)) {
    cli_error("%s: %s", state, strerror(errno));
    goto out;
  }
  if (out) {
    w.out_fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (w.out_fd < 0 || fstat(w.out_fd, &w.out_st) ||
        end_torn_line(w.out_fd, out)) {
      cli_error("%s: %s", out, strerror(errno));
      goto out;
    }
    w.out_is_file = 1;
  }
  if (pipe(sig_pipe)) {
    cli_error("watch: %s", strerror(errno));
    goto out;
  }
  fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK);
  fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  rc = run(&w);
  cli_note("watch: %lu files, %lu errors", w.nfiles, w.nbad);
out:
  if (sig_pipe[0] >= 0) {
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
  }
  if (w.out_is_file && w.out_fd >= 0)
    close(w.out_fd);
  if (w.state_fd >= 0)
    close(w.state_fd);
  for (size_t i = 0; i < w.ndone; i++)
    free(w.done[i]);
  free(w.done);
  cli_models_free(&w.models);
  free(state_path);
  return rc;
}
