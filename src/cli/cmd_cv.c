/* cmd_cv.c: `calcspec cv`: cross-validated confusion matrix. */
#include "cli.h"
#include "jobs.h"
#include "progress.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int help(void) {
  printf(
      "usage: calcspec cv [--folds K | --by core] [--labels F] [training options]\n"
      "                   FILE|DIR...\n\n"
      "Cross-validates the classifier: each fold's model is trained without\n"
      "the held-out spectra.  Spectra of one group never sit on both sides:\n"
      "the group is the core (core_id), else the spot (sample_id), else the\n"
      "file.  --by core leaves one group out at a time; --folds K (default 5)\n"
      "deals the groups into K folds.  Prints the confusion matrix (rows =\n"
      "true class, columns = prediction incl. unknown), then per class\n"
      "sensitivity and specificity, accuracy and the unknown rate.\n"
      "Training options as for 'calcspec train' (-r --step -k -p -L -M -u\n"
      "--jobs; folds run in parallel, the result is the same for every N).\n");
  return CLI_OK;
}

static const char *group_of(const cs_spectrum *s) {
  const char *g = cs_spectrum_meta(s, CS_META_CORE_ID);
  if (!g)
    g = cs_spectrum_meta(s, CS_META_SAMPLE_ID);
  if (!g)
    g = cs_spectrum_meta(s, CS_META_SOURCE_FILE);
  return g ? g : "";
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* --by core: say when there are no core ids (spots or files are the
 * groups then), and refuse a class that sits in one group only (leaving
 * it out trains without it), naming the class and the group, before the
 * minutes of cross-validation. */
static int check_by_core(const cs_dataset *ds, char **labels,
                         const char **groups, size_t n) {
  size_t with_core = 0;
  for (size_t i = 0; i < n; i++)
    with_core += cs_spectrum_meta(cs_dataset_get(ds, i), CS_META_CORE_ID) != NULL;
  if (!with_core) {
    /* spots (sample_id) or files stand in for cores: say so, and how many
     * folds that makes, before the minutes it may take */
    const char **g = malloc(n * sizeof *g);
    size_t ng = 0;
    if (g) {
      memcpy(g, groups, n * sizeof *g);
      qsort(g, n, sizeof *g, cmp_str);
      for (size_t i = 0; i < n; i++)
        ng += i == 0 || strcmp(g[i], g[i - 1]);
      free(g);
    }
    cli_note("cv: --by core: none of the %zu spectra has a core id (core_id "
             "metadata); leaving out one spot (sample_id) or file at a time: "
             "%zu folds (--folds K for fewer)", n, ng);
  } else if (with_core < n)
    cli_note("cv: --by core: %zu of %zu spectra have no core id; they are "
             "grouped by sample id or file", n - with_core, n);
  /* per class: its first group, and whether another group has it */
  enum { MAXC = 64 };
  const char *cls[MAXC], *first[MAXC];
  int multi[MAXC];
  size_t nc = 0;
  for (size_t i = 0; i < n; i++) {
    size_t c = 0;
    while (c < nc && strcmp(cls[c], labels[i]))
      c++;
    if (c == nc) {
      if (nc == MAXC)
        return CLI_OK; /* too many classes: training will say so */
      cls[nc] = labels[i], first[nc] = groups[i], multi[nc++] = 0;
    } else if (!multi[c] && strcmp(first[c], groups[i])) {
      multi[c] = 1;
    }
  }
  for (size_t c = 0; c < nc; c++)
    if (!multi[c]) {
      cli_error("cv: --by core: class '%s' occurs in one core only ('%s'): "
                "leaving that core out leaves no '%s' to train on; add cores "
                "or use --folds K", cls[c], first[c], cls[c]);
      return CLI_DATA_ERROR;
    }
  return CLI_OK;
}

int cmd_cv(int argc, char **argv) {
  const char *labels_path = NULL;
  long folds = 5;
  int optc[CLI_MAX_TRAIN_OPTS], nopt = 0, c;
  char *optv[CLI_MAX_TRAIN_OPTS];
  while ((c = getopt_long(argc, argv, "l:r:k:p:L:M:u:h", cli_train_long,
                          NULL)) != -1) {
    switch (c) {
    case 'l': labels_path = optarg; break;
    case 'f':
      if (cli_parse_int(optarg, 2, 1000, &folds))
        return cli_usage_error("cv", "--folds wants 2..1000, got '%s'", optarg);
      break;
    case 'b':
      if (strcmp(optarg, "core"))
        return cli_usage_error("cv", "--by takes 'core'");
      folds = 0;
      break;
    case 'h': return help();
    case 'J':
      if (cli_jobs_option("cv", optarg))
        return CLI_USAGE;
      break;
    case 'r': case 'S': case 'k': case 'p': case 'L': case 'M': case 'u':
      if (cli_collect_train_option("cv", c, optarg, &nopt, optc, optv))
        return CLI_USAGE;
      break;
    default: return cli_bad_option("cv", "l:r:k:p:L:M:u:h", cli_train_long, argc, argv);
    }
  }
  if (optind >= argc)
    return cli_usage_error("cv", "no input files");
  int nbad = cli_stdin_once("cv", "--labels ", labels_path, argv + optind,
                            argc - optind);
  if (nbad)
    return nbad;
  cs_dataset *ds;
  char **labels;
  if (cli_load_labelled(argv + optind, argc - optind, labels_path, &ds,
                        &labels, &nbad))
    return CLI_DATA_ERROR;
  size_t n = cs_dataset_count(ds);
  int rc = CLI_OK;
  cs_train_opts o;
  char *steps = NULL;
  const char **groups = malloc((n ? n : 1) * sizeof *groups);
  cs_result *res = calloc(n ? n : 1, sizeof *res);
  char classes[CS_MAX_CLASSES][CS_CLASS_NAME_MAX];
  size_t nc = 0;
  cs_error err;
  if (!groups || !res) {
    rc = CLI_DATA_ERROR;
    goto done;
  }
  if (n == 0) {
    cli_error("cv: no labelled spectra");
    rc = CLI_DATA_ERROR;
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    groups[i] = group_of(cs_dataset_get(ds, i));
  if (!folds && (rc = check_by_core(ds, labels, groups, n)))
    goto done;
  if ((rc = cli_train_setup("cv", ds, nopt, optc, optv, &o, &steps)))
    goto done;
  cli_progress_lib_begin();
  cs_status cst = cs_model_crossval(ds, (const char *const *)labels, groups,
                                    (size_t)folds, &o, res, classes, &nc, &err);
  cli_progress_lib_end();
  if (cst) {
    cli_error("cv: %s", err.msg);
    rc = CLI_DATA_ERROR;
    goto done;
  }
  /* confusion: rows true class, columns predicted class or unknown */
  size_t conf[CS_MAX_CLASSES][CS_MAX_CLASSES + 1];
  memset(conf, 0, sizeof conf);
  size_t right = 0, unknown = 0;
  for (size_t i = 0; i < n; i++) {
    size_t t = 0, pcol = nc;
    while (t < nc && strcmp(classes[t], labels[i]))
      t++;
    for (size_t g = 0; g < nc; g++)
      if (!strcmp(classes[g], res[i].label))
        pcol = g;
    conf[t][pcol]++;
    right += pcol == t;
    unknown += pcol == nc;
  }
  printf("# cross-validation: %zu spectra, %s\n", n,
         folds ? "group k-fold" : "leave one group (core) out");
  printf("true\\predicted");
  for (size_t g = 0; g < nc; g++)
    printf("\t%s", classes[g]);
  printf("\tunknown\n");
  for (size_t t = 0; t < nc; t++) {
    printf("%s", classes[t]);
    for (size_t g = 0; g <= nc; g++)
      printf("\t%zu", conf[t][g]);
    putchar('\n');
  }
  printf("\nclass\tn\tsensitivity\tspecificity\n");
  for (size_t t = 0; t < nc; t++) {
    size_t tp = conf[t][t], pos = 0, fp = 0, neg = 0;
    for (size_t g = 0; g <= nc; g++)
      pos += conf[t][g];
    for (size_t u = 0; u < nc; u++)
      if (u != t) {
        for (size_t g = 0; g <= nc; g++)
          neg += conf[u][g];
        fp += conf[u][t];
      }
    printf("%s\t%zu\t%.4f\t%.4f\n", classes[t], pos,
           pos ? (double)tp / (double)pos : 0.0,
           neg ? 1.0 - (double)fp / (double)neg : 1.0);
  }
  printf("\naccuracy\t%.4f\t(%zu of %zu; unknown counts as wrong)\n",
         (double)right / (double)n, right, n);
  printf("unknown\t%.4f\t(%zu)\n", (double)unknown / (double)n, unknown);
done:
  free(groups);
  free(res);
  free(steps);
  cli_labels_free(labels, n);
  cs_dataset_free(ds);
  return rc != CLI_OK ? rc : nbad ? CLI_DATA_ERROR : CLI_OK;
}
