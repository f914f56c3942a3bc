/* cmd_validate.c: `calcspec validate`: core calls vs birefringence. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int help(void) {
  printf(
      "usage: calcspec validate --findings FILE [-m model] [--min-kappa K]\n"
      "                         [--allow-missing] CORES_TSV|DIR...\n\n"
      "Compares each core's spectroscopic call with the pathologist's\n"
      "polarised-light finding (FILE: CSV/TSV core_id,birefringent[,notes],\n"
      "birefringent = yes/no/unknown).  Expected birefringent = oxalate\n"
      "present OR calcite present (calcite is strongly birefringent too and\n"
      "counts as expected-birefringent).  Input: the TSV of 'calcspec cores'\n"
      "or spectra (FILE|DIR, summarised as 'calcspec cores' does).\n"
      "Prints the 2x2 table, agreement, Cohen's kappa with a 95 %% interval\n"
      "(kappa -+ 1.96 SE, large-sample SE of Fleiss, Cohen & Everitt 1969),\n"
      "sensitivity/specificity of spectroscopy with the finding as reference,\n"
      "the discordant cores with their spectral evidence and the cores\n"
      "missing on either side.  A findings core without spectra is an error\n"
      "naming its line unless --allow-missing.\n\n"
      "  -F, --findings FILE   findings table (required)\n"
      "  -m, --model FILE      model for spectra input\n"
      "  -k, --min-kappa K     exit 3 when kappa < K\n"
      "      --allow-missing   list findings cores without spectra, no error\n");
  return CLI_OK;
}

/* Split s in place at tabs (empty fields kept); returns the count. */
static int split_tabs(char *s, char **f, int max) {
  int n = 0;
  while (n < max) {
    f[n++] = s;
    char *t = strchr(s, '\t');
    if (!t)
      break;
    *t = '\0';
    s = t + 1;
  }
  return n;
}

typedef struct {
  char id[CS_CORE_ID_MAX];
  int expected;
  char evidence[512];
} crow;

/* Rows from a cores TSV: core_id, expected_birefringent, evidence from the
 * call, n_* and p_* columns.  -1 when path is not such a table. */
static int read_cores_tsv(const char *path, crow **out, size_t *n) {
  char *text = cli_slurp(path);
  *out = NULL;
  *n = 0;
  if (!text || strncmp(text, "core_id\t", 8)) {
    free(text);
    return -1;
  }
  char *save = NULL, *hdr = strtok_r(text, "\n", &save);
  char *cols[64];
  int nc = 0;
  for (char *s2 = NULL, *t = strtok_r(hdr, "\t", &s2); t && nc < 64;
       t = strtok_r(NULL, "\t", &s2))
    cols[nc++] = t;
  size_t cap = 0;
  for (char *l = strtok_r(NULL, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    if (*n == cap) {
      cap = cap ? 2 * cap : 16;
      crow *t = realloc(*out, cap * sizeof *t);
      if (!t)
        break;
      *out = t;
    }
    crow *r = &(*out)[*n];
    memset(r, 0, sizeof *r);
    char *f[64];
    int nf = split_tabs(l, f, 64);
    for (int j = 0; j < nf && j < nc; j++) {
      size_t used = strlen(r->evidence);
      if (!strcmp(cols[j], "core_id"))
        snprintf(r->id, sizeof r->id, "%s", f[j]);
      else if (!strcmp(cols[j], "expected_birefringent"))
        r->expected = !strcmp(f[j], "yes");
      else if (!strcmp(cols[j], "call") || !strncmp(cols[j], "n_", 2) ||
               !strncmp(cols[j], "p_", 2))
        snprintf(r->evidence + used, sizeof r->evidence - used, "%s%s=%s",
                 used ? " " : "", cols[j], f[j]);
    }
    if (r->id[0])
      (*n)++;
  }
  free(text);
  return 0;
}

int cmd_validate(int argc, char **argv) {
  static const struct option opts[] = {{"findings", required_argument, 0, 'F'},
                                       {"model", required_argument, 0, 'm'},
                                       {"min-kappa", required_argument, 0, 'k'},
                                       {"allow-missing", no_argument, 0, 'A'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *findings = NULL, *model = NULL;
  double min_kappa = -2;
  int allow_missing = 0, c;
  while ((c = getopt_long(argc, argv, "F:m:k:h", opts, NULL)) != -1) {
    switch (c) {
    case 'F': findings = optarg; break;
    case 'm': model = optarg; break;
    case 'k':
      if (cli_parse_double(optarg, -1, 1, &min_kappa))
        return cli_usage_error("validate", "--min-kappa must be a number in -1..1");
      break;
    case 'A': allow_missing = 1; break;
    case 'h': return help();
    default: return cli_usage_error("validate", "unknown option");
    }
  }
  if (!findings)
    return cli_usage_error("validate", "--findings FILE is required");
  if (optind >= argc)
    return cli_usage_error("validate", "no cores table or spectra");
  const char *why;
  char *text = cli_slurp_why(findings, &why);
  if (!text) {
    cli_error("%s: cannot read findings file: %s", findings, why);
    return CLI_DATA_ERROR;
  }
  cs_finding *fr;
  size_t nf;
  cs_error err;
  if (cs_findings_parse(text, strlen(text), &fr, &nf, &err)) {
    free(text);
    cli_file_error(findings, &err);
    return CLI_DATA_ERROR;
  }
  free(text);
  /* spectroscopy side */
  crow *rows = NULL;
  size_t nr = 0;
  int nbad = 0;
  struct stat st;
  /* "-" or a FIFO is read once: it can only be a cores table */
  int stream = argc - optind == 1 &&
               (cli_is_stdio(argv[optind]) ||
                (stat(argv[optind], &st) == 0 && !S_ISREG(st.st_mode) &&
                 !S_ISDIR(st.st_mode)));
  if (argc - optind == 1 && (stream || (stat(argv[optind], &st) == 0 &&
                                        S_ISREG(st.st_mode))) &&
      read_cores_tsv(argv[optind], &rows, &nr) == 0) {
    /* a cores table */
  } else if (stream) {
    cli_error("%s: not a cores table (the TSV of 'calcspec cores')",
              argv[optind]);
    free(fr);
    return CLI_DATA_ERROR;
  } else {
    cs_core *cores;
    size_t n;
    if (cli_cores_compute(argv + optind, argc - optind, model, "meta", NULL,
                          NULL, &cores, &n, &nbad)) {
      free(fr);
      return CLI_DATA_ERROR;
    }
    rows = n ? calloc(n, sizeof *rows) : NULL;
    for (size_t i = 0; rows && i < n; i++) {
      const cs_core *k = &cores[i];
      snprintf(rows[i].id, sizeof rows[i].id, "%s", k->id);
      rows[i].expected = k->expected_birefringent;
      size_t u = 0;
      u += (size_t)snprintf(rows[i].evidence, sizeof rows[i].evidence, "call=%s", k->call);
      for (size_t g = 0; g < k->nclass && u < sizeof rows[i].evidence; g++)
        u += (size_t)snprintf(rows[i].evidence + u, sizeof rows[i].evidence - u,
                              " n_%s=%zu", k->classes[g], k->count[g]);
      if (u < sizeof rows[i].evidence)
        u += (size_t)snprintf(rows[i].evidence + u, sizeof rows[i].evidence - u,
                              " n_unknown=%zu", k->unknown);
      for (size_t g = 0; g < k->nclass && u < sizeof rows[i].evidence; g++)
        u += (size_t)snprintf(rows[i].evidence + u, sizeof rows[i].evidence - u,
                              " p_%s=%.3f", k->classes[g], k->mean_posterior[g]);
    }
    nr = rows ? n : 0;
    free(cores);
  }
  /* findings cores without spectra */
  int missing_err = 0;
  for (size_t j = 0; j < nf; j++) {
    size_t i = 0;
    while (i < nr && strcmp(rows[i].id, fr[j].core_id))
      i++;
    if (i == nr && !allow_missing) {
      cli_error("%s: findings line %d: core '%s' is not among "
              "the spectra (use --allow-missing to list it instead)",
              findings, fr[j].line, fr[j].core_id);
      missing_err = 1;
    }
  }
  if (missing_err) {
    free(fr);
    free(rows);
    return CLI_DATA_ERROR;
  }
  size_t a = 0, b = 0, cc = 0, d = 0;
  for (size_t i = 0; i < nr; i++)
    for (size_t j = 0; j < nf; j++)
      if (!strcmp(rows[i].id, fr[j].core_id) && fr[j].birefringent != CS_BIREF_UNKNOWN) {
        int pos = fr[j].birefringent == CS_BIREF_YES;
        if (rows[i].expected && pos) a++;
        else if (rows[i].expected) b++;
        else if (pos) cc++;
        else d++;
      }
  printf("expected birefringent = oxalate present or calcite present "
         "(calcite is strongly birefringent and counts as expected-birefringent)\n\n");
  printf("spectroscopy/finding\tbirefringent\tnot_birefringent\n");
  printf("expected_birefringent\t%zu\t%zu\n", a, b);
  printf("not_expected\t%zu\t%zu\n\n", cc, d);
  cs_agreement ag;
  int rc = nbad ? CLI_DATA_ERROR : CLI_OK;
  if (cs_agreement_2x2(a, b, cc, d, &ag, &err)) {
    cli_error("validate: %s", err.msg);
    rc = CLI_DATA_ERROR;
  } else {
    printf("cores_compared\t%zu\n", ag.n);
    printf("agreement\t%.4f\n", ag.observed);
    printf("chance_agreement\t%.4f\n", ag.expected);
    printf("kappa\t%.4f\n", ag.kappa);
    printf("kappa_95ci\t%.4f\t%.4f\t(kappa -+ 1.96 SE; SE %.4f, Fleiss, Cohen & Everitt 1969)\n",
           ag.kappa_lo, ag.kappa_hi, ag.kappa_se);
    printf("sensitivity\t%.4f\t(%zu/%zu birefringent cores expected birefringent)\n",
           ag.sensitivity, a, a + cc);
    printf("specificity\t%.4f\t(%zu/%zu non-birefringent cores not expected)\n",
           ag.specificity, d, b + d);
    if (ag.kappa < min_kappa) {
      cli_error("validate: kappa %.4f below --min-kappa %g",
              ag.kappa, min_kappa);
      rc = CLI_BELOW_THRESHOLD;
    }
  }
  printf("\ndiscordant\tcore_id\tfinding\texpected\tevidence\tnotes\n");
  for (size_t i = 0; i < nr; i++)
    for (size_t j = 0; j < nf; j++)
      if (!strcmp(rows[i].id, fr[j].core_id) && fr[j].birefringent != CS_BIREF_UNKNOWN &&
          rows[i].expected != (fr[j].birefringent == CS_BIREF_YES))
        printf("discordant\t%s\t%s\t%s\t%s\t%s\n", rows[i].id,
               fr[j].birefringent == CS_BIREF_YES ? "birefringent" : "not_birefringent",
               rows[i].expected ? "birefringent" : "not_birefringent",
               rows[i].evidence, fr[j].notes);
  for (size_t j = 0; j < nf; j++) {
    size_t i = 0;
    while (i < nr && strcmp(rows[i].id, fr[j].core_id))
      i++;
    if (i == nr)
      printf("missing_spectra\t%s\t(findings line %d)\n", fr[j].core_id, fr[j].line);
    else if (fr[j].birefringent == CS_BIREF_UNKNOWN)
      printf("finding_unknown\t%s\t(findings line %d)\n", fr[j].core_id, fr[j].line);
  }
  for (size_t i = 0; i < nr; i++) {
    size_t j = 0;
    while (j < nf && strcmp(rows[i].id, fr[j].core_id))
      j++;
    if (j == nf)
      printf("missing_finding\t%s\n", rows[i].id);
  }
  free(fr);
  free(rows);
  return rc;
}
