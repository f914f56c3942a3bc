/* progress.c: progress of long batches on stderr (see progress.h).  Never
 * on stdout, which carries the results. */
#include "progress.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cli_progress_forced = 0;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void cli_progress_start(cli_progress *p, const char *what, const char *unit,
                        size_t total) {
  p->what = what;
  p->unit = unit;
  p->total = total;
  p->done = 0;
  p->t0 = p->last = now();
  p->tty = isatty(STDERR_FILENO);
  p->on = cli_progress_forced || (p->tty && cli_verbosity >= 0);
  p->shown = 0;
}

static void show(cli_progress *p, double t, int final) {
  double el = t - p->t0, rate = el > 0 ? (double)p->done / el : 0;
  char eta[32] = "";
  if (!final && rate > 0 && p->done < p->total) {
    long s = (long)((double)(p->total - p->done) / rate + 0.5);
    snprintf(eta, sizeof eta, ", ETA %ld:%02ld", s / 60, s % 60);
  }
  /* on a terminal the line is rewritten in place ("\r", erase to end);
   * otherwise one full line per update */
  char total[32] = ""; /* unknown (0) while a stream is read */
  if (p->total || !p->done)
    snprintf(total, sizeof total, "/%zu", p->total);
  fprintf(stderr, "%scalcspec: %s: %zu%s %s, %.1f/s%s%s", p->tty ? "\r\033[K" : "",
          p->what, p->done, total, p->unit, rate, final ? ", done" : eta,
          p->tty ? "\r" : "\n");
  fflush(stderr);
  p->shown = 1;
}

void cli_progress_step(cli_progress *p) {
  p->done++;
  if (!p->on)
    return;
  double t = now();
  /* terminal: 4 updates a second; a log file: one line every 5 s */
  if (t - p->last >= (p->tty ? 0.25 : 5.0)) {
    p->last = t;
    show(p, t, 0);
  }
}

void cli_progress_end(cli_progress *p) {
  if (!p->on)
    return;
  if (p->tty) {
    if (p->shown)
      fputs("\r\033[K", stderr);
  } else
    show(p, now(), 1);
  fflush(stderr);
}

const char *cli_progress_cmd = "calcspec";

/* one counter per unit the library reports ("spectra", then "folds") */
static cli_progress lib_p;
static const char *lib_unit;

static void lib_hook(const char *what, size_t done, size_t total, void *user) {
  (void)user;
  if (!lib_unit || strcmp(lib_unit, what)) {
    if (lib_unit)
      cli_progress_end(&lib_p);
    cli_progress_start(&lib_p, cli_progress_cmd, what, total);
    lib_unit = what;
  }
  lib_p.total = total;
  lib_p.done = done ? done - 1 : 0;
  cli_progress_step(&lib_p);
}

void cli_progress_lib_begin(void) {
  lib_unit = NULL;
  cs_set_progress_fn(lib_hook, NULL);
}

void cli_progress_lib_end(void) {
  cs_set_progress_fn(NULL, NULL);
  if (lib_unit)
    cli_progress_end(&lib_p);
  lib_unit = NULL;
}
