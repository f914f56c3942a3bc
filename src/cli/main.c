/* main.c: calcspec command table, global options and exit codes. */
#include "cli.h"
#include "progress.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
#define CLI_COMMAND(name, summary) {#name, cmd_##name, summary},
#include "commands.def"
#undef CLI_COMMAND
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out) {
  fprintf(out,
          "usage: calcspec [-q|-v] [--progress] COMMAND [OPTIONS] [ARGS]\n"
          "       calcspec --help | --version\n\n"
          "Reads Raman and FTIR spectra of breast microcalcifications.\n\n"
          "commands:\n");
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n'calcspec COMMAND --help' describes one command.\n"
               "--progress: count, rate and ETA on stderr for classify, cores,\n"
               "validate, train, cv, preprocess, report and map (shown by default\n"
               "when stderr is a terminal; -q hides it there).\n"
               "exit status: 0 ok, 1 data error, 2 usage error, 3 validate --min-kappa\n"
               "not met\n");
}

static void log_to_stderr(int level, const char *msg, void *user) {
  (void)user;
  if (level <= cli_verbosity)
    cli_error("%s", msg);
}

/* Output lost to a full disk or a closed descriptor is a failure: without
 * this, `classify DIR > out.tsv` on a full disk exited 0 with nothing in
 * out.tsv.  A command that failed has said why already. */
static int close_stdout(int rc) {
  int e = fflush(stdout) ? errno : 0;
  if ((e || ferror(stdout)) && (rc == CLI_OK || rc == CLI_BELOW_THRESHOLD)) {
    cli_error("-: writing standard output: %s", e ? strerror(e) : "write error");
    return CLI_DATA_ERROR;
  }
  return rc;
}

int main(int argc, char **argv) {
  /* Numbers are always read and written in the C locale; text in the
   * user's. */
  setlocale(LC_ALL, "");
  setlocale(LC_NUMERIC, "C");
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return CLI_OK;
    } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
      printf("calcspec %s\n", cs_version());
      return CLI_OK;
    } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
      cli_verbosity = -1;
    } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
      cli_verbosity = 1;
    } else if (!strcmp(a, "--progress")) {
      cli_progress_forced = 1;
    } else {
      cli_error("unknown option '%s' (options before COMMAND: -q, -v, "
                "--progress, --help, --version)", a);
      cli_error_hint("");
      return CLI_USAGE;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return CLI_USAGE;
  }
  cs_set_log_fn(log_to_stderr, NULL);
  /* getopt's own messages off: cli_bad_option says it in one line */
  opterr = 0;
  for (size_t c = 0; c < NCOMMANDS; c++)
    if (!strcmp(argv[i], commands[c].name)) {
      cli_progress_cmd = commands[c].name;
      return close_stdout(commands[c].fn(argc - i, argv + i));
    }
  const char *names[NCOMMANDS];
  for (size_t c = 0; c < NCOMMANDS; c++)
    names[c] = commands[c].name;
  const char *s = cli_did_you_mean(argv[i], names, NCOMMANDS);
  if (s)
    cli_error("unknown command '%s' (did you mean '%s'?)", argv[i], s);
  else
    cli_error("unknown command '%s'", argv[i]);
  cli_error_hint("");
  return CLI_USAGE;
}
