/* train_opts.c: the training options `train` and `cv` share: their long
 * options, parsing and checking one option, collecting them before the
 * technique is known, and turning them into cs_train_opts. */
#include "cli.h"
#include "jobs.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

const struct option cli_train_long[] = {
    {"output", required_argument, 0, 'o'},
    {"labels", required_argument, 0, 'l'},
    {"range", required_argument, 0, 'r'},
    {"step", required_argument, 0, 'S'},
    {"components", required_argument, 0, 'k'},
    {"preprocess", required_argument, 0, 'p'},
    {"pipeline", required_argument, 0, 'p'}, /* preprocess's name for it */
    {"shrinkage", required_argument, 0, 'L'},
    {"min-posterior", required_argument, 0, 'M'},
    {"subclasses", required_argument, 0, 'u'},
    {"folds", required_argument, 0, 'f'},
    {"by", required_argument, 0, 'b'},
    {"seed", required_argument, 0, 's'},
    {"jobs", required_argument, 0, 'J'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0}};

int cli_train_setup(const char *cmd, const cs_dataset *ds, int nopt,
                    const int *optc, char **optv, cs_train_opts *o,
                    char **steps) {
  *steps = NULL;
  *o = cs_train_opts_default(
      cs_spectrum_technique(cs_dataset_get(ds, 0)));
  o->threads = (size_t)cli_jobs(); /* same model for any count */
  const char *pipeline_file = NULL;
  int have_range = 0;
  for (int i = 0; i < nopt; i++)
    if (cli_train_option(optc[i], optv[i], o, &pipeline_file, &have_range))
      return cli_usage_error(cmd, "bad value '%s' for -%c", optv[i], optc[i]);
  if (pipeline_file) {
    const char *why;
    if (!(*steps = cli_slurp_why(pipeline_file, &why))) {
      cli_error("%s: cannot read: %s", pipeline_file, why);
      return CLI_DATA_ERROR;
    }
    o->preprocess = *steps;
  }
  return CLI_OK;
}

int cli_train_option(int c, const char *arg, cs_train_opts *o,
                     const char **pipeline_file, int *have_range) {
  double lo, hi;
  long k;
  switch (c) {
  case 'r':
    if (cli_parse_range(arg, &lo, &hi))
      return -1;
    o->lo = lo, o->hi = hi;
    *have_range = 1;
    return 0;
  case 'k':
    if (cli_parse_int(arg, 1, 64, &k))
      return -1;
    o->components = (size_t)k;
    return 0;
  case 'S':
    return cli_parse_double(arg, 0.01, 100, &o->step);
  case 'p':
    *pipeline_file = arg;
    return 0;
  case 'L':
    return strcmp(arg, "lw") == 0 ? (o->shrinkage = -1, 0)
                                  : cli_parse_double(arg, 0, 1, &o->shrinkage);
  case 'M':
    return cli_parse_double(arg, 0, 1, &o->min_posterior);
  case 'u':
    if (cli_parse_int(arg, 1, 8, &k))
      return -1;
    o->subclasses = (size_t)k;
    return 0;
  default:
    return -1;
  }
}

int cli_collect_train_option(const char *cmd, int c, char *arg, int *nopt,
                             int *optc, char **optv) {
  cs_train_opts probe = cs_train_opts_default(CS_TECH_RAMAN);
  const char *pf = NULL;
  int hr = 0;
  if (cli_train_option(c, arg, &probe, &pf, &hr))
    return cli_usage_error(cmd, "bad value '%s' for -%c", arg, c);
  if (*nopt == CLI_MAX_TRAIN_OPTS)
    return cli_usage_error(cmd, "too many options");
  optc[*nopt] = c;
  optv[(*nopt)++] = arg;
  return CLI_OK;
}
