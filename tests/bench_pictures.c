/* bench_pictures.c: wall time of `calcspec report` on the six example cores
 * (30 spectra, 7 PDF pages; and as HTML), `calcspec plot` of one spectrum, and `calcspec
 * map` on the LabSpec XML map of ../shared (skipped when absent).  Each is
 * run 5 times as a child process; the best and the median are printed.  A
 * benchmark, not a test. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REPS 5

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Run argv (stdout/stderr to /dev/null) REPS times; print best and median. */
static int timed(const char *what, char *const argv[]) {
  double ms[REPS];
  for (int r = 0; r < REPS; r++) {
    fflush(stdout); /* else the child repeats what is buffered */
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
      return -1;
    if (pid == 0) {
      if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
        _exit(127);
      execv(argv[0], argv);
      _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      printf("  %-44s failed (exit %d)\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
      return -1;
    }
    ms[r] = 1e3 * (now() - t0);
  }
  qsort(ms, REPS, sizeof *ms, cmp);
  printf("  %-44s best %8.1f ms  median %8.1f ms\n", what, ms[0], ms[REPS / 2]);
  return 0;
}

int main(void) {
  const char *bin = getenv("CALCSPEC"), *shared = getenv("CALCSPEC_SHARED");
  if (!bin) {
    printf("bench_pictures: CALCSPEC not set (run through make bench)\n");
    return 0;
  }
  char tmp[] = "/tmp/calcspec-bench-pictures.XXXXXX";
  if (!mkdtemp(tmp))
    return 1;
  char pdf[128], html[128], png[128], mpng[128], findings[] = "spectra/examples/findings.csv";
  snprintf(pdf, sizeof pdf, "%s/report.pdf", tmp);
  snprintf(html, sizeof html, "%s/report.html", tmp);
  snprintf(png, sizeof png, "%s/plot.png", tmp);
  snprintf(mpng, sizeof mpng, "%s/map.png", tmp);
  printf("bench_pictures: wall time per command (child process, %d runs)\n", REPS);
  char *rep[] = {(char *)bin, "-q", "report", "--findings", findings,
                 "spectra/examples", "-o", pdf, NULL};
  int rc = timed("report, 6 example cores (30 spectra, PDF)", rep);
  char *reph[] = {(char *)bin, "-q", "report", "--findings", findings,
                  "spectra/examples", "-o", html, NULL};
  rc |= timed("report, same cores as HTML", reph);
  char *plot[] = {(char *)bin, "plot", "spectra/examples/core02/hydroxyapatite_9200.animl",
                  "-o", png, NULL};
  rc |= timed("plot, one apatite spectrum (PNG)", plot);
  char map[1024];
  struct stat st;
  snprintf(map, sizeof map, "%s/formats/horiba_labspec_xml/jobinyvon_test_map_x3-y2.xml",
           shared ? shared : "../shared");
  if (stat(map, &st) == 0) {
    char *m[] = {(char *)bin, "-q", "map", map, "-o", mpng, NULL};
    rc |= timed("map, LabSpec XML 3 x 2 map (class PNG)", m);
    char *mv[] = {(char *)bin, "map", "--value", "intensity", map, "-o", mpng, NULL};
    rc |= timed("map --value intensity, same map", mv);
  } else
    printf("  map: skipped, %s not found\n", map);
  remove(pdf);
  remove(html);
  remove(png);
  remove(mpng);
  rmdir(tmp);
  return rc ? 1 : 0;
}
