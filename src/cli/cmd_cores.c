/* cmd_cores.c: `calcspec cores`: one row per biopsy core. */
#include "integ.h"
#include "jobs.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int help(void) {
  printf(
      "usage: calcspec cores [-m model.txt] [-c calibration.txt] [--json]\n"
      "                      [-w whitlockite-calibration.txt]\n"
      "                      [--core-from meta|dir|manifest:FILE] FILE|DIR...\n\n"
      "Classifies every spectrum, measures composition (carbonate etc.) of\n"
      "the apatite spectra and summarises per biopsy core.  Core of a\n"
      "spectrum: its core_id metadata (meta, default; falls back to the\n"
      "folder), the folder holding the file (dir), or a manifest file of\n"
      "'file,core_id' lines (manifest).  TSV columns:\n"
      "  core_id n_spectra call expected_birefringent n_CLASS... n_unknown\n"
      "  p_CLASS... carbonate_n carbonate_wt carbonate_lo carbonate_hi\n"
      "  whitlockite_index flags carbonate_lod carbonate_censored\n"
      "call: oxalate / phosphate / mixed (both) / none, '+calcite' when\n"
      "calcite is present; a spectrum counts when its class is not unknown.\n"
      "expected_birefringent = oxalate or calcite present.  flags: too_few\n"
      "(< 3 spectra), many_unknown (> half unknown).  carbonate: mean over\n"
      "the core's apatite spectra with a 95 %% interval for that mean; default\n"
      "calibration fitted on SYNTHETIC spectra: calibrate with standards.\n\n"
      "  -m, --model FILE        model file (default: built-in)\n"
      "  -c, --calibration FILE  carbonate calibration (default: built-in)\n"
      "  -w, --whitlockite-cal FILE  whitlockite calibration from\n"
      "                          'calcspec calibrate whitlockite': adds the\n"
      "                          column whitlockite_share (core mean)\n"
      "      --core-from HOW     meta, dir or manifest:FILE\n"
      "  -j, --json              JSON Lines instead of TSV\n"
      "      --technique T       raman | ftir, when the file does not say (ftir:\n"
      "                          the FTIR model without -m)\n"
      "      --axis A            raman_shift | wavelength_nm | wavenumber, when\n"
      "                          the file does not say\n"
      "      --jobs N            threads (default: every core this process\n"
      "                          may use, or CALCSPEC_JOBS); the output is\n"
      "                          the same for every N\n"
      "  FILE '-' is standard input.\n");
  return CLI_OK;
}

static void flag_text(unsigned f, char *buf, size_t cap) {
  snprintf(buf, cap, "%s%s%s", f & CS_CORE_TOO_FEW ? "too_few" : "",
           (f & CS_CORE_TOO_FEW) && (f & CS_CORE_MANY_UNKNOWN) ? "," : "",
           f & CS_CORE_MANY_UNKNOWN ? "many_unknown" : "");
}

int cmd_cores(int argc, char **argv) {
  static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                       {"calibration", required_argument, 0, 'c'},
                                       {"core-from", required_argument, 0, 'F'},
                                       {"whitlockite-cal", required_argument, 0, 'w'},
                                       {"json", no_argument, 0, 'j'},
                                       {"technique", required_argument, 0, 256},
                                       {"axis", required_argument, 0, 257},
                                       {"jobs", required_argument, 0, 258},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *model = NULL, *cal = NULL, *how = "meta", *manifest = NULL,
             *wcal_path = NULL;
  int json = 0, c;
  while ((c = getopt_long(argc, argv, "m:c:w:jh", opts, NULL)) != -1) {
    switch (c) {
    case 'm': model = optarg; break;
    case 'c': cal = optarg; break;
    case 'w': wcal_path = optarg; break;
    case 'j': json = 1; break;
    case 'F': how = optarg; break;
    case 256:
    case 257:
      if (cli_override_option("cores", c == 256 ? "technique" : "axis",
                              optarg, &cli_cores_override))
        return CLI_USAGE;
      break;
    case 258:
      if (cli_jobs_option("cores", optarg))
        return CLI_USAGE;
      break;
    case 'h': return help();
    default: return cli_bad_option("cores", "m:c:w:jh", opts, argc, argv);
    }
  }
  if (!strncmp(how, "manifest:", 9) || !strncmp(how, "manifest=", 9)) {
    manifest = how + 9;
    how = "manifest";
    if (!*manifest)
      return cli_usage_error("cores", "--core-from manifest:FILE needs a FILE");
  } else if (!strcmp(how, "manifest")) {
    /* the older form takes the next argument; a directory or the last
     * argument there is the input, not the manifest */
    struct stat st;
    if (optind + 1 >= argc || (!stat(argv[optind], &st) && S_ISDIR(st.st_mode)))
      return cli_usage_error("cores", "--core-from manifest needs the manifest "
                             "FILE before the inputs; write --core-from "
                             "manifest:FILE");
    manifest = argv[optind++];
  } else if (strcmp(how, "meta") && strcmp(how, "dir")) {
    static const char *const hows[] = {"meta", "dir", "manifest"};
    const char *s = cli_did_you_mean(how, hows, 3);
    return cli_usage_error("cores", "--core-from must be meta, dir or "
                           "manifest:FILE, not '%s'%s%s%s", how,
                           s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
  }
  if (optind >= argc)
    return cli_usage_error("cores", "no input files");
  int u = cli_stdin_once("cores", "--core-from manifest:", manifest,
                         argv + optind, argc - optind);
  if (u)
    return u;
  cs_calibration wcal;
  if (wcal_path) {
    cs_error werr;
    if (cs_calibration_load(wcal_path, &wcal, &werr)) {
      cli_file_error(wcal_path, &werr);
      return CLI_DATA_ERROR;
    }
    if (wcal.kind != CS_CAL_WHITLOCKITE) {
      cli_error("%s: not a whitlockite calibration (calcspec calibrate whitlockite)",
                wcal_path);
      return CLI_DATA_ERROR;
    }
    cli_cores_wcal = &wcal;
  }
  int nbad = 0;
  cs_core *cores;
  size_t n;
  if (cli_cores_compute(argv + optind, argc - optind, model, how, manifest, cal,
                        &cores, &n, &nbad))
    return CLI_DATA_ERROR;
  for (size_t i = 0; i < n; i++) {
    const cs_core *k = &cores[i];
    char flags[40];
    flag_text(k->flags, flags, sizeof flags);
    if (json) {
      json_t *o = json_object(), *cnt = json_object(), *post = json_object();
      json_object_set_new(o, "core_id", json_string(k->id));
      json_object_set_new(o, "n_spectra", json_integer((json_int_t)k->n));
      json_object_set_new(o, "call", json_string(k->call));
      json_object_set_new(o, "expected_birefringent", json_boolean(k->expected_birefringent));
      for (size_t g = 0; g < k->nclass; g++) {
        json_object_set_new(cnt, k->classes[g], json_integer((json_int_t)k->count[g]));
        json_object_set_new(post, k->classes[g], json_real(k->mean_posterior[g]));
      }
      json_object_set_new(cnt, "unknown", json_integer((json_int_t)k->unknown));
      json_object_set_new(o, "counts", cnt);
      json_object_set_new(o, "mean_posterior", post);
      json_object_set_new(o, "carbonate_n", json_integer((json_int_t)k->n_carbonate));
      json_object_set_new(o, "carbonate_wt", k->n_carbonate && !k->carbonate_censored ? json_real(k->carbonate_mean) : json_null());
      json_object_set_new(o, "carbonate_lod", k->n_carbonate ? json_real(k->carbonate_lod) : json_null());
      json_object_set_new(o, "carbonate_censored", json_boolean(k->n_carbonate && k->carbonate_censored));
      json_object_set_new(o, "carbonate_lo", k->n_carbonate ? json_real(k->carbonate_lo) : json_null());
      json_object_set_new(o, "carbonate_hi", k->n_carbonate ? json_real(k->carbonate_hi) : json_null());
      json_object_set_new(o, "whitlockite_index", k->n_whitlockite ? json_real(k->whitlockite_mean) : json_null());
      json_object_set_new(o, "flags", json_string(flags));
      if (wcal_path)
        json_object_set_new(o, "whitlockite_share", k->n_wh_share ? json_real(k->whitlockite_share_mean) : json_null());
      char *line = cli_json_line(o);
      if (line)
        fputs(line, stdout);
      free(line);
      json_decref(o);
      continue;
    }
    if (i == 0) {
      printf("core_id\tn_spectra\tcall\texpected_birefringent");
      for (size_t g = 0; g < k->nclass; g++)
        printf("\tn_%s", k->classes[g]);
      printf("\tn_unknown");
      for (size_t g = 0; g < k->nclass; g++)
        printf("\tp_%s", k->classes[g]);
      printf("\tcarbonate_n\tcarbonate_wt\tcarbonate_lo\tcarbonate_hi\twhitlockite_index\tflags"
             "\tcarbonate_lod\tcarbonate_censored%s\n",
             wcal_path ? "\twhitlockite_share" : "");
    }
    printf("%s\t%zu\t%s\t%s", k->id, k->n, k->call,
           k->expected_birefringent ? "yes" : "no");
    for (size_t g = 0; g < k->nclass; g++)
      printf("\t%zu", k->count[g]);
    printf("\t%zu", k->unknown);
    for (size_t g = 0; g < k->nclass; g++)
      printf("\t%.4f", k->mean_posterior[g]);
    printf("\t%zu\t", k->n_carbonate);
    /* below the limit of detection: "<LOD", never a number below it */
    if (k->n_carbonate && k->carbonate_censored)
      printf("<%.2f\t%.2f\t%.2f", k->carbonate_lod, k->carbonate_lo, k->carbonate_hi);
    else if (k->n_carbonate)
      printf("%.2f\t%.2f\t%.2f", k->carbonate_mean, k->carbonate_lo, k->carbonate_hi);
    else
      printf("\t\t");
    putchar('\t');
    if (k->n_whitlockite)
      printf("%.3f", k->whitlockite_mean);
    printf("\t%s\t", flags);
    if (k->n_carbonate)
      printf("%.2f\t%s", k->carbonate_lod, k->carbonate_censored ? "yes" : "no");
    else
      putchar('\t');
    if (wcal_path && k->n_wh_share)
      printf("\t%.3f", k->whitlockite_share_mean);
    else if (wcal_path)
      putchar('\t');
    putchar('\n');
  }
  free(cores);
  return nbad ? CLI_DATA_ERROR : CLI_OK;
}
