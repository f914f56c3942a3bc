/* cmd_cores.c: `calcspec cores`: one row per biopsy core. */
#include "cli.h"

#include <jansson.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

static int help(void) {
  printf(
      "usage: calcspec cores [-m model.txt] [-c calibration.txt] [--json]\n"
      "                      [--core-from meta|dir|manifest FILE] FILE|DIR...\n\n"
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
      "the core's apatite spectra with a Student-t 95 %% interval; default\n"
      "calibration fitted on SYNTHETIC spectra: calibrate with standards.\n\n"
      "  -m, --model FILE        model file (default: built-in)\n"
      "  -c, --calibration FILE  carbonate calibration (default: built-in)\n"
      "      --core-from HOW     meta, dir or manifest FILE\n"
      "  -j, --json              JSON Lines instead of TSV\n"
      "      --technique T       raman | ftir, when the file does not say (ftir:\n"
      "                          the FTIR model without -m)\n"
      "      --axis A            raman_shift | wavelength_nm | wavenumber, when\n"
      "                          the file does not say\n"
      "  FILE '-' is standard input.\n");
  return CLI_OK;
}

typedef struct {
  char *path;
  char *core;
} mrow;

static char *manifest_core(mrow *m, size_t n, const char *path) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(m[i].path, path))
      return m[i].core;
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  for (size_t i = 0; i < n; i++) {
    const char *mb = strrchr(m[i].path, '/');
    if (!strcmp(mb ? mb + 1 : m[i].path, b))
      return m[i].core;
  }
  return NULL;
}

static int read_manifest(const char *path, mrow **out, size_t *n) {
  const char *why;
  char *text = cli_slurp_why(path, &why);
  *out = NULL;
  *n = 0;
  if (!text) {
    cli_error("%s: cannot read manifest: %s", path, why);
    return -1;
  }
  size_t cap = 0;
  int line = 0;
  char *save = NULL;
  for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    line++;
    size_t len = strlen(l);
    while (len && (l[len - 1] == '\r' || l[len - 1] == ' '))
      l[--len] = '\0';
    if (!len || l[0] == '#' || !strncmp(l, "file", 4))
      continue;
    char *sep = strchr(l, '\t') ? strchr(l, '\t') : strchr(l, ',');
    if (!sep || sep == l || !sep[1]) {
      cli_error("%s: line %d: expected file,core_id", path, line);
      free(text);
      return -1;
    }
    *sep = '\0';
    if (*n == cap) {
      cap = cap ? 2 * cap : 16;
      mrow *t = realloc(*out, cap * sizeof *t);
      if (!t)
        break;
      *out = t;
    }
    (*out)[*n].path = strdup(l);
    (*out)[*n].core = strdup(sep + 1);
    (*n)++;
  }
  free(text);
  return 0;
}

typedef struct {
  char id[CS_CORE_ID_MAX];
  cs_result *r;
  cs_composition *c;
  size_t n, cap;
} group;

/* --technique / --axis of `calcspec cores` (validate passes none) */
static cli_override cores_ov;

int cli_cores_compute(char **args, int nargs, const char *model_path,
                      const char *how, const char *manifest_path,
                      const char *cal_path, cs_core **cores_out,
                      size_t *ncores, int *nbad) {
  *cores_out = NULL;
  *ncores = 0;
  cs_error err;
  cs_model *m = NULL;
  if (model_path ? cs_model_load(model_path, &m, &err)
                 : cs_model_default(cores_ov.technique == CS_TECH_FTIR
                                        ? CS_TECH_FTIR
                                        : CS_TECH_RAMAN,
                                    &m, &err)) {
    cli_file_error(model_path ? model_path : "model", &err);
    return -1;
  }
  cs_technique tech = cs_model_technique(m);
  cs_calibration cal;
  int have_cal = 1;
  if (cal_path ? cs_calibration_load(cal_path, &cal, &err)
               : cs_calibration_default(tech, &cal, &err)) {
    if (cal_path) {
      cli_file_error(cal_path, &err);
      cs_model_free(m);
      return -1;
    }
    have_cal = 0;
  }
  mrow *man = NULL;
  size_t nman = 0;
  if (!strcmp(how, "manifest") && read_manifest(manifest_path, &man, &nman)) {
    cs_model_free(m);
    return -1;
  }
  char classes[CS_MAX_CLASSES][CS_CLASS_NAME_MAX];
  size_t nclass = cs_model_class_count(m);
  for (size_t g = 0; g < nclass; g++)
    snprintf(classes[g], CS_CLASS_NAME_MAX, "%s", cs_model_class_name(m, g));
  group *gr = NULL;
  size_t ng = 0, capg = 0;
  cli_files files = {0};
  cli_files_expand(&files, args, nargs, nbad);
  for (size_t i = 0; i < files.n; i++) {
    cs_dataset *ds;
    if (cli_dataset_read(files.path[i], NULL, &cores_ov, &ds, &err)) {
      cli_file_error(files.path[i], &err);
      (*nbad)++;
      continue;
    }
    for (size_t k = 0; k < cs_dataset_count(ds); k++) {
      const cs_spectrum *s = cs_dataset_get(ds, k);
      const char *core = NULL;
      char dirbuf[4096];
      if (!strcmp(how, "manifest")) {
        core = manifest_core(man, nman, files.path[i]);
        if (!core) {
          cli_error("%s: not in the manifest", files.path[i]);
          (*nbad)++;
          break;
        }
      } else if (!strcmp(how, "meta"))
        core = cs_spectrum_meta(s, CS_META_CORE_ID);
      if (!core) { /* dir, or meta without core_id */
        snprintf(dirbuf, sizeof dirbuf, "%s", files.path[i]);
        char *d = dirname(dirbuf);
        char *b = strrchr(d, '/');
        core = b ? b + 1 : d;
      }
      if (strlen(core) >= CS_CORE_ID_MAX) {
        cli_error("%s: core id too long", files.path[i]);
        (*nbad)++;
        continue;
      }
      cs_result r;
      if (cs_model_classify(m, s, &r, &err)) {
        cli_error("%s: spectrum %zu: %s", files.path[i], k, err.msg);
        (*nbad)++;
        continue;
      }
      cs_composition c;
      if (cs_composition_measure(s, r.label, have_cal ? &cal : NULL, &c, &err)) {
        cli_error("%s: spectrum %zu: %s", files.path[i], k, err.msg);
        (*nbad)++;
        continue;
      }
      size_t g = 0;
      while (g < ng && strcmp(gr[g].id, core))
        g++;
      if (g == ng) {
        if (ng == capg) {
          size_t ncap = capg ? 2 * capg : 8;
          group *t = realloc(gr, ncap * sizeof *t);
          if (!t) {
            cli_error("%s: out of memory", files.path[i]);
            (*nbad)++;
            continue;
          }
          gr = t;
          capg = ncap;
        }
        memset(&gr[ng], 0, sizeof gr[ng]);
        snprintf(gr[ng].id, CS_CORE_ID_MAX, "%s", core);
        ng++;
      }
      group *G = &gr[g];
      if (G->n == G->cap) {
        size_t ncap = G->cap ? 2 * G->cap : 8;
        cs_result *tr = realloc(G->r, ncap * sizeof *tr);
        if (tr)
          G->r = tr;
        cs_composition *tc = tr ? realloc(G->c, ncap * sizeof *tc) : NULL;
        if (tc)
          G->c = tc;
        if (!tr || !tc) {
          cli_error("%s: out of memory", files.path[i]);
          (*nbad)++;
          continue;
        }
        G->cap = ncap;
      }
      G->r[G->n] = r;
      G->c[G->n] = c;
      G->n++;
    }
    cs_dataset_free(ds);
  }
  cli_files_free(&files);
  cs_core *cores = ng ? calloc(ng, sizeof *cores) : NULL;
  size_t nc = 0;
  for (size_t g = 0; g < ng; g++) {
    if (cores && cs_core_summarize(gr[g].id, gr[g].r, gr[g].c, gr[g].n,
                                   (const char(*)[CS_CLASS_NAME_MAX])classes,
                                   nclass, NULL, &cores[nc], &err) == CS_OK)
      nc++;
    else {
      cli_error("core %s: %s", gr[g].id,
              cores ? err.msg : "out of memory");
      (*nbad)++;
    }
    free(gr[g].r);
    free(gr[g].c);
  }
  free(gr);
  for (size_t i = 0; i < nman; i++) {
    free(man[i].path);
    free(man[i].core);
  }
  free(man);
  cs_model_free(m);
  *cores_out = cores;
  *ncores = nc;
  return 0;
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
                                       {"json", no_argument, 0, 'j'},
                                       {"technique", required_argument, 0, 256},
                                       {"axis", required_argument, 0, 257},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *model = NULL, *cal = NULL, *how = "meta", *manifest = NULL;
  int json = 0, c;
  while ((c = getopt_long(argc, argv, "m:c:jh", opts, NULL)) != -1) {
    switch (c) {
    case 'm': model = optarg; break;
    case 'c': cal = optarg; break;
    case 'j': json = 1; break;
    case 'F': how = optarg; break;
    case 256:
    case 257:
      if (cli_override_option("cores", c == 256 ? "technique" : "axis",
                              optarg, &cores_ov))
        return CLI_USAGE;
      break;
    case 'h': return help();
    default: return cli_usage_error("cores", "unknown option");
    }
  }
  if (!strcmp(how, "manifest")) {
    if (optind >= argc)
      return cli_usage_error("cores", "--core-from manifest needs a FILE");
    manifest = argv[optind++];
  } else if (strcmp(how, "meta") && strcmp(how, "dir"))
    return cli_usage_error("cores", "--core-from must be meta, dir or manifest FILE");
  if (optind >= argc)
    return cli_usage_error("cores", "no input files");
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
      char *line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
      if (line)
        puts(line);
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
             "\tcarbonate_lod\tcarbonate_censored\n");
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
    putchar('\n');
  }
  free(cores);
  return nbad ? CLI_DATA_ERROR : CLI_OK;
}
