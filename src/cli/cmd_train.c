/* cmd_train.c: `calcspec train`: fit a PCA/LDA model to labelled spectra. */
#include "cli.h"
#include "jobs.h"
#include "progress.h"

#include <errno.h>
#include <getopt.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static int help(void) {
  printf(
      "usage: calcspec train -o model.txt|- [--labels F] [--range A:B]\n"
      "                      [--components K] [OPTIONS] FILE|DIR...\n\n"
      "Fits a PCA + shrinkage-LDA model (one technique: Raman or FTIR).\n"
      "Each spectrum's class comes from --labels (CSV/TSV rows file,index,class;\n"
      "an empty or '*' index means every spectrum of the file), else from its\n"
      "'class' or 'truth.class' metadata, else from a class-named folder.\n\n"
      "  -o, --output FILE        model file to write (required; '-': standard\n"
      "                           output)\n"
      "  -l, --labels FILE        labels file\n"
      "  -r, --range A:B          model window in cm-1 (Raman 400:1800, FTIR 800:1800)\n"
      "      --step D             model axis spacing in cm-1 (2)\n"
      "  -k, --components K       PCA components (default: 99.9%% variance, <= 30)\n"
      "  -p, --pipeline FILE      pipeline steps between crop and resample, in\n"
      "                           pipeline text (see 'calcspec preprocess\n"
      "                           --print-pipeline'); default: README \"Classifier\";\n"
      "                           --preprocess FILE is the same\n"
      "  -L, --shrinkage X|lw     LDA shrinkage in [0,1] or Ledoit-Wolf (lw)\n"
      "  -M, --min-posterior X    below it a spectrum is 'unknown' (0.6)\n"
      "  -u, --subclasses N       mixture sub-classes per class, 1..8 (4;\n"
      "                           1 = plain LDA)\n"
      "      --jobs N             threads (default: every core this process may\n"
      "                           use, or CALCSPEC_JOBS); the model file is the\n"
      "                           same for every N\n");
  return CLI_OK;
}

/* cs_model_save, with "-" meaning standard output (the model is written
 * to a temporary file first: the library writes files atomically). */
static cs_status save(const cs_model *m, const char *out, cs_error *err) {
  if (!cli_is_stdio(out))
    return cs_model_save(m, out, err);
  const char *dir = getenv("TMPDIR");
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s/calcspec-model.XXXXXX", dir && *dir ? dir : "/tmp");
  int fd = mkstemp(tmp);
  if (fd < 0) {
    err->code = CS_ERR_IO;
    snprintf(err->msg, sizeof err->msg, "cannot create a temporary file: %s",
             strerror(errno));
    return CS_ERR_IO;
  }
  close(fd);
  cs_status st = cs_model_save(m, tmp, err);
  FILE *f = st ? NULL : fopen(tmp, "rb");
  if (!st && !f) {
    st = err->code = CS_ERR_IO;
    snprintf(err->msg, sizeof err->msg, "cannot read back: %s", strerror(errno));
  }
  if (f) {
    char buf[65536];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
      if (fwrite(buf, 1, k, stdout) != k)
        break;
    if (ferror(f) || fflush(stdout)) {
      st = err->code = CS_ERR_IO;
      snprintf(err->msg, sizeof err->msg, "cannot write: %s", strerror(errno));
    }
    fclose(f);
  }
  remove(tmp);
  return st;
}

int cmd_train(int argc, char **argv) {
  const char *out = NULL, *labels_path = NULL;
  int optc[CLI_MAX_TRAIN_OPTS], nopt = 0, c;
  char *optv[CLI_MAX_TRAIN_OPTS];
  while ((c = getopt_long(argc, argv, "o:l:r:k:p:L:M:u:h", cli_train_long,
                          NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'l': labels_path = optarg; break;
    case 'h': return help();
    case 'J':
      if (cli_jobs_option("train", optarg))
        return CLI_USAGE;
      break;
    case 'r': case 'S': case 'k': case 'p': case 'L': case 'M': case 'u':
      if (cli_collect_train_option("train", c, optarg, &nopt, optc, optv))
        return CLI_USAGE;
      break;
    default: return cli_bad_option("train", "o:l:r:k:p:L:M:u:h", cli_train_long, argc, argv);
    }
  }
  if (!out) /* never overwrite a ./model.txt nobody asked for */
    return cli_usage_error("train", "no output: give -o model.txt (or -o - "
                           "for standard output)");
  if (optind >= argc)
    return cli_usage_error("train", "no training files");
  int nbad = cli_stdin_once("train", "--labels ", labels_path, argv + optind,
                            argc - optind);
  if (nbad)
    return nbad;
  cs_dataset *ds;
  char **labels;
  if (cli_load_labelled(argv + optind, argc - optind, labels_path, &ds,
                        &labels, &nbad))
    return CLI_DATA_ERROR;
  size_t n = cs_dataset_count(ds);
  if (n == 0) {
    cli_error("train: no labelled spectra");
    cs_dataset_free(ds);
    cli_labels_free(labels, 0);
    return CLI_DATA_ERROR;
  }
  cs_train_opts o;
  char *steps;
  int rc = cli_train_setup("train", ds, nopt, optc, optv, &o, &steps);
  cs_model *m = NULL;
  cs_error err;
  cli_progress_lib_begin();
  if (rc == CLI_OK &&
      cs_model_train(ds, (const char *const *)labels, &o, &m, &err)) {
    cli_progress_lib_end();
    cli_error("train: %s", err.msg);
    rc = CLI_DATA_ERROR; /* options were checked above: the data are wrong */
  }
  cli_progress_lib_end();
  if (m && save(m, out, &err)) {
    cli_file_error(cli_is_stdio(out) ? "standard output" : out, &err);
    rc = CLI_DATA_ERROR;
  }
  if (m && rc == CLI_OK) {
    cli_note("trained %s model on %zu spectra, %zu classes, %zu components, "
             "window %g-%g cm-1: %s", cs_technique_name(cs_model_technique(m)),
             n, cs_model_class_count(m), cs_model_components(m), o.lo, o.hi,
             out);
  }
  cs_model_free(m);
  free(steps);
  cli_labels_free(labels, n);
  cs_dataset_free(ds);
  return rc != CLI_OK ? rc : nbad ? CLI_DATA_ERROR : CLI_OK;
}
