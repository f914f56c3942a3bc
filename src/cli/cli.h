/* cli.h: shared pieces of the calcspec command-line tool. */
#ifndef CALCSPEC_CLI_H
#define CALCSPEC_CLI_H

#include "calcspec.h"

#include <stddef.h>
#include <stdio.h>
#include <getopt.h>

/* Exit codes (README "Exit codes"). */
enum { CLI_OK = 0, CLI_DATA_ERROR = 1, CLI_USAGE = 2, CLI_BELOW_THRESHOLD = 3 };

/* Global verbosity: -1 quiet, 0 normal, 1 verbose (-v). */
extern int cli_verbosity;

/* Print "calcspec: CMD: message" plus a pointer to --help; returns
 * CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print "calcspec: message" on stderr as one line with control characters
 * escaped (cs_escape_message): every message of the tool goes through it. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The candidate closest to word (a typo: edit distance at most a third
 * of its length), or the one candidate it is a prefix of; NULL if none. */
const char *cli_did_you_mean(const char *word, const char *const *cands,
                             size_t n);
/* " (did you mean 'arpls'?)" for the last 'quoted' word of an error
 * message when it is a typo of a known option value (baseline methods and
 * keys, smoothing/normalisation names, classes, techniques, axes); else "".
 * Written into buf, which is returned. */
const char *cli_value_hint(const char *msg, char *buf, size_t cap);
/* The same for a bare word. */
const char *cli_word_hint(const char *word, char *buf, size_t cap);
/* After getopt_long returned '?' (opterr is 0, main.c): one usage line,
 * "unknown option '--jsn' (did you mean '--json'?)" or "option '-m' needs
 * an argument", and the --help pointer.  Returns CLI_USAGE. */
int cli_bad_option(const char *cmd, const char *optstring,
                   const struct option *opts, int argc, char **argv);
/* Print "see 'calcspec CMD --help'" (CMD "" for the global help). */
void cli_error_hint(const char *cmd);
/* Print "calcspec: FILE: message" for a failed file. */
void cli_file_error(const char *path, const cs_error *err);
/* Print a note on stderr unless quiet. */
void cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict numeric option parsing: the whole string must be a number within
 * [lo, hi].  0 ok, -1 otherwise. */
int cli_parse_double(const char *s, double lo, double hi, double *out);
int cli_parse_int(const char *s, long lo, long hi, long *out);
/* "A:B" with A < B. */
int cli_parse_range(const char *s, double *lo, double *hi);

/* Expand FILE|DIR arguments into a sorted list of regular files (directories
 * are walked recursively; hidden entries and files whose content no reader
 * recognises are skipped).  `from_dir[i]` tells
 * whether the file came from a directory walk.  Returns 0, or -1 after
 * printing an error for a path that does not exist (the caller counts it as
 * a data error and goes on with the rest: *nbad is incremented). */
typedef struct cli_files {
  char **path;
  int *from_dir;
  size_t n, cap;
} cli_files;
void cli_files_expand(cli_files *f, char **args, int nargs, int *nbad);
void cli_files_free(cli_files *f);

/* Is name a format calcspec can read (write = 0) or write (write = 1)? */
int cli_format_known(const char *name, int write);
/* 1 when the extension of output path names a format calcspec writes (as
 * cs_dataset_write picks one without --to), so that a bad -o is a usage
 * error before any work. */
int cli_output_ext_known(const char *path);

/* Print a double for TSV: %.10g, empty when NaN. */
void cli_print_num(FILE *out, double v);
/* num/den as "%.*f", or "n/a" for 0/0 (the library's agreement gives 0
 * there); and Cohen's kappa "= K (95 % CI L to H)" or " undefined ..."
 * when chance agreement is 1 (every core in one category of a rating). */
const char *cli_ratio_text(size_t num, size_t den, int prec, char *buf,
                           size_t cap);
const char *cli_kappa_text(const cs_agreement *ag, int prec, char *buf,
                           size_t cap);

/* Print a text for one TSV field: control characters (tab, CR, LF, ESC...)
 * become spaces. */
void cli_print_field(FILE *out, const char *v);

/* labels.c: read FILE|DIR args into one dataset with a class label per
 * spectrum (labels file, else "class"/"truth.class" metadata, else a
 * class-named folder).  Unreadable files are reported and counted in
 * *nbad.  0 ok. */
int cli_load_labelled(char **args, int nargs, const char *labels_path,
                      cs_dataset **ds, char ***labels, int *nbad);
void cli_labels_free(char **labels, size_t n);
/* train_opts.c: the training options of train and cv: -r/--range,
 * -k/--components, -S/--step, -P/--preprocess FILE, -L/--shrinkage,
 * -M/--min-posterior, -u/--subclasses.
 * 0 ok, -1 bad value. */
int cli_train_option(int c, const char *arg, cs_train_opts *o,
                     const char **pipeline_file, int *have_range);
/* Check a training option's value now (usage error, exit 2, before any
 * file is read) and keep it for cli_train_setup. */
#define CLI_MAX_TRAIN_OPTS 32
int cli_collect_train_option(const char *cmd, int c, char *arg, int *nopt,
                             int *optc, char **optv);
/* The long options of train and cv, and turning the collected training
 * options (optc/optv pairs) into cs_train_opts after the data are loaded
 * (defaults depend on the technique).  *steps must be freed. */
extern const struct option cli_train_long[];
int cli_train_setup(const char *cmd, const cs_dataset *ds, int nopt,
                    const int *optc, char **optv, cs_train_opts *o,
                    char **steps);
/* Read a whole small text file (pipeline steps, findings, manifests; at
 * most 1 MiB); malloc'd or NULL.  "-", a pipe or a FIFO is read to its end
 * (with cli_dataset_read's timeout); other non-regular files are refused.  cli_slurp_why also says why it failed
 * (*why: a static string). */
char *cli_slurp(const char *path);
char *cli_slurp_why(const char *path, const char **why);
/* fopen(path, "rb") for a regular file only (never blocks on a FIFO);
 * NULL with *why (may be NULL) saying why. */
FILE *cli_fopen_regular(const char *path, const char **why);

/* "-" names standard input (or output, for -o). */
int cli_is_stdio(const char *path);
/* Standard input is read once: when the side file of option opt (labels,
 * findings, manifest; NULL: none) and one of the inputs are both "-", a
 * usage error of cmd (its exit code), else 0. */
int cli_stdin_once(const char *cmd, const char *opt, const char *side,
                   char **args, int nargs);

/* Put the finished temporary file tmp at path: renamed over it, or copied
 * into it when path is an existing device or FIFO (a rename would replace
 * the node; a FIFO with no reader fails with ENXIO, never waits).  tmp is
 * removed either way.  0 ok, else -1 with errno set. */
int cli_install_output(const char *tmp, const char *path);
/* --technique / --axis (classify, cores, info, stream): applied to a
 * spectrum whose file does not say; a file that says otherwise is an error.
 * Zero-initialise (CS_TECH_UNKNOWN / CS_AXIS_UNKNOWN: not given). */
typedef struct cli_override {
  cs_technique technique;
  cs_axis axis;
} cli_override;
/* Parse --technique (name "technique") or --axis (name "axis"): 0, or a
 * usage error printed and CLI_USAGE. */
int cli_override_option(const char *cmd, const char *name, const char *arg,
                        cli_override *ov);
cs_status cli_override_apply(const cli_override *ov, cs_spectrum *s,
                             cs_error *err);
/* cs_dataset_read for the CLI: "-" is standard input, and a pipe or FIFO is
 * read once, whole (at most 512 MiB; a named FIFO
 * silent for CALCSPEC_INPUT_TIMEOUT seconds, default 10, is an
 * error), into an unlinked temporary file under $TMPDIR that the readers
 * read; the spectra's source_file stays the user's name.  ov may be NULL. */
cs_status cli_dataset_read(const char *path, const char *format,
                           const cli_override *ov, cs_dataset **out,
                           cs_error *err);
/* cs_reader for the CLI, with cli_dataset_read's handling of "-", pipes
 * and FIFOs, source_file and ov (may be NULL): spectra one by one, so a
 * large file is never held whole when its format streams.  One spectrum is
 * read ahead, so an error message says "spectrum N: " exactly when
 * cli_dataset_read would (the file holds more than one).  cli_reader_next
 * gives CS_OK with *out NULL at the end; the caller owns *out. */
typedef struct cli_reader {
  cs_reader *rd;
  const char *path;      /* the user's name */
  int spooled;           /* read through a temporary copy */
  cli_override ov;
  cs_spectrum *ahead;    /* read ahead; NULL at the end or on error */
  cs_status ahead_st;    /* the read ahead failed: its status ... */
  cs_error ahead_err;    /* ... and message */
  int apply_failed;      /* ... in source_file or ov, for spectrum: */
  size_t ahead_index;
} cli_reader;
cs_status cli_reader_open(const char *path, const char *format,
                          const cli_override *ov, cli_reader *r,
                          cs_error *err);
cs_status cli_reader_next(cli_reader *r, cs_spectrum **out, cs_error *err);
/* cs_reader_count: spectra in the file when known before its end, else 0. */
size_t cli_reader_count(const cli_reader *r);
void cli_reader_close(cli_reader *r);

/* JSON records name the number of spectra in their file ("count"), which a
 * stream knows only at its end: the records go to a spool file (unlinked
 * temporary file under $TMPDIR; NULL on failure) written with "count":null,
 * and cli_spool_flush copies them to stdout with the count filled in (its
 * first "count":null on each line, which is the record's own key: a string
 * cannot hold an unescaped quote) and empties the spool.  0 ok, -1 on a
 * write error. */
FILE *cli_spool_open(void);
int cli_spool_flush(FILE *spool, long long count);

/* cs_dataset_write, with "-" meaning standard output (format required). */
cs_status cli_dataset_write(const cs_dataset *ds, const char *path,
                            const char *format, cs_error *err);
/* cs_writer, with "-" meaning standard output (format required; the file
 * is written to a temporary directory and copied out at close, so a
 * failure leaves stdout empty).  close and abort free everything. */
typedef struct cli_writer {
  cs_writer *w;
  int to_stdout;
  char dir[4096], file[4112];
} cli_writer;
cs_status cli_writer_open(const char *path, const char *format, cli_writer *w,
                          cs_error *err);
cs_status cli_writer_close(cli_writer *w, cs_error *err);
void cli_writer_abort(cli_writer *w);

/* --technique / --axis of `calcspec cores` for cli_cores_compute (zero:
 * none, as for validate). */
extern cli_override cli_cores_override;
/* `calcspec cores -w`: whitlockite calibration applied to every apatite
 * spectrum (NULL: none). */
extern const cs_calibration *cli_cores_wcal;
/* cores_run.c: classify and measure every spectrum of args, group by core
 * (how: "meta", "dir" or "manifest" with manifest_path) and summarise.
 * *cores is malloc'd (free()).  Unreadable files count in *nbad.  0 ok. */
int cli_cores_compute(char **args, int nargs, const char *model_path,
                      const char *how, const char *manifest_path,
                      const char *cal_path, cs_core **cores, size_t *ncores,
                      int *nbad);

/* Subcommand entry points (one file each, listed in commands.def). */
#define CLI_COMMAND(name, summary) int cmd_##name(int argc, char **argv);
#include "commands.def"
#undef CLI_COMMAND

#endif
