/* progress.h: "N/M files, R files/s, ETA" on stderr for long batches. */
#ifndef CALCSPEC_CLI_PROGRESS_H
#define CALCSPEC_CLI_PROGRESS_H

#include <stddef.h>

/* Set by main.c: 1 = --progress (always), 0 = when stderr is a terminal
 * and not -q. */
extern int cli_progress_forced;

typedef struct cli_progress {
  const char *what; /* "classify" */
  const char *unit; /* "files", "spectra" */
  size_t total, done;
  double t0, last;
  int on, tty, shown;
} cli_progress;

/* Start counting `total` units ("files", "spectra") for command `what`
 * (static strings); total 0: not known (a file read as a stream). */
void cli_progress_start(cli_progress *p, const char *what, const char *unit,
                        size_t total);
/* One more unit done; prints at most a few times a second. */
void cli_progress_step(cli_progress *p);
/* Final line (forced, not a terminal) or clear the terminal line. */
void cli_progress_end(cli_progress *p);

/* The command name main.c ran ("train"), for the pieces below. */
extern const char *cli_progress_cmd;
/* Show the library's progress (cs_set_progress_fn: spectra preprocessed,
 * folds) as the command's, one counter per unit, until
 * cli_progress_lib_end. */
void cli_progress_lib_begin(void);
void cli_progress_lib_end(void);

#endif
