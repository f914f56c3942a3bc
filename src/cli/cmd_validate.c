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
      "      --min-kappa K     exit 3 when kappa < K\n"
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
 * call, n_* and p_* columns.  -1 when path is not such a table, -2 after
 * saying why it cannot be used: no expected_birefringent column, a row
 * without it, a value but yes/no, a bad or repeated core id (all were
 * taken: 'maybe' as no, a missing column as no, a repeated core twice,
 * a long id cut to 63 bytes). */
static int read_cores_tsv(const char *path, crow **out, size_t *n) {
  char *text = cli_slurp(path);
  *out = NULL;
  *n = 0;
  if (!text || strncmp(text, "core_id\t", 8)) {
    free(text);
    return -1;
  }
  char *cols[64], *next = strchr(text, '\n');
  if (next)
    *next++ = '\0';
  size_t hl = strlen(text);
  if (hl && text[hl - 1] == '\r')
    text[hl - 1] = '\0';
  int nc = split_tabs(text, cols, 64), ci = -1, ei = -1;
  for (int j = 0; j < nc; j++) {
    ci = ci < 0 && !strcmp(cols[j], "core_id") ? j : ci;
    ei = ei < 0 && !strcmp(cols[j], "expected_birefringent") ? j : ei;
  }
  int rc = 0;
  size_t cap = 0, line = 1;
  if (ei < 0) {
    cli_error("%s: a cores table without the column expected_birefringent", path);
    rc = -2;
  }
  for (char *l = next; l && !rc; l = next) {
    if ((next = strchr(l, '\n')))
      *next++ = '\0';
    line++;
    size_t len = strlen(l);
    if (len && l[len - 1] == '\r') /* CRLF */
      l[len - 1] = '\0';
    if (!*l)
      continue;
    if (*n == cap) {
      cap = cap ? 2 * cap : 16;
      crow *t = realloc(*out, cap * sizeof *t);
      if (!t) {
        cli_error("%s: out of memory", path);
        rc = -2;
        break;
      }
      *out = t;
    }
    crow *r = &(*out)[*n];
    memset(r, 0, sizeof *r);
    char *f[64];
    int nf = split_tabs(l, f, 64);
    cs_error err;
    if (nf <= ei || nf <= ci) {
      cli_error("%s: line %zu: %d fields, the header names %d", path, line,
                nf, nc);
      rc = -2;
    } else if (cs_core_id_check(f[ci], &err)) {
      cli_error("%s: line %zu: %s", path, line, err.msg);
      rc = -2;
    } else if (strcmp(f[ei], "yes") && strcmp(f[ei], "no")) {
      cli_error("%s: line %zu: expected_birefringent must be yes or no, got "
                "'%.40s'", path, line, f[ei]);
      rc = -2;
    }
    for (size_t i = 0; i < *n && !rc; i++)
      if (!strcmp((*out)[i].id, f[ci])) {
        cli_error("%s: line %zu: core '%s' listed again", path, line, f[ci]);
        rc = -2;
      }
    for (int j = 0; j < nf && j < nc && !rc; j++) {
      size_t used = strlen(r->evidence);
      if (j == ci)
        snprintf(r->id, sizeof r->id, "%s", f[j]);
      else if (j == ei)
        r->expected = !strcmp(f[j], "yes");
      else if (!strcmp(cols[j], "call") || !strncmp(cols[j], "n_", 2) ||
               !strncmp(cols[j], "p_", 2))
        snprintf(r->evidence + used, sizeof r->evidence - used, "%s%s=%s",
                 used ? " " : "", cols[j], f[j]);
    }
    if (!rc)
      (*n)++;
  }
  free(text);
  if (rc) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return rc;
}

/* Read and parse the findings file; CLI_OK or CLI_DATA_ERROR (reported). */
static int read_findings(const char *path, cs_finding **fr, size_t *nf) {
  const char *why;
  char *text = cli_slurp_why(path, &why);
  if (!text) {
    cli_error("%s: cannot read findings file: %s", path, why);
    return CLI_DATA_ERROR;
  }
  cs_error err;
  cs_status st = cs_findings_parse(text, strlen(text), fr, nf, &err);
  free(text);
  if (st) {
    cli_file_error(path, &err);
    return CLI_DATA_ERROR;
  }
  return CLI_OK;
}

/* The evidence column of a core computed from spectra: its call, the count
 * per class and the mean posteriors. */
static void core_evidence(const cs_core *k, char *ev, size_t cap) {
  size_t u = (size_t)snprintf(ev, cap, "call=%s", k->call);
  for (size_t g = 0; g < k->nclass && u < cap; g++)
    u += (size_t)snprintf(ev + u, cap - u, " n_%s=%zu", k->classes[g],
                          k->count[g]);
  if (u < cap)
    u += (size_t)snprintf(ev + u, cap - u, " n_unknown=%zu", k->unknown);
  for (size_t g = 0; g < k->nclass && u < cap; g++)
    u += (size_t)snprintf(ev + u, cap - u, " p_%s=%.3f", k->classes[g],
                          k->mean_posterior[g]);
}

/* The spectroscopy side: one cores table (the output of `cores`), or
 * spectra classified here.  -1 when the spectra cannot be processed. */
static int spectroscopy_rows(char **args, int nargs, const char *model,
                             crow **rows_out, size_t *nr, int *nbad) {
  crow *rows = NULL;
  struct stat st;
  *nr = 0;
  *rows_out = NULL;
  /* "-" or a FIFO is read once: it can only be a cores table */
  int stream = nargs == 1 && (cli_is_stdio(args[0]) ||
                              (stat(args[0], &st) == 0 &&
                               !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)));
  if (nargs == 1 && (stream || (stat(args[0], &st) == 0 &&
                                S_ISREG(st.st_mode)))) {
    int r = read_cores_tsv(args[0], &rows, nr);
    if (r == -2)
      return -1;
    if (r == 0) {
      *rows_out = rows;
      return 0;
    }
  }
  if (stream) {
    cli_error("%s: not a cores table (the TSV of 'calcspec cores')", args[0]);
    return -1;
  }
  cs_core *cores;
  size_t n;
  if (cli_cores_compute(args, nargs, model, "meta", NULL, NULL, &cores, &n,
                        nbad))
    return -1;
  rows = n ? calloc(n, sizeof *rows) : NULL;
  for (size_t i = 0; rows && i < n; i++) {
    snprintf(rows[i].id, sizeof rows[i].id, "%s", cores[i].id);
    rows[i].expected = cores[i].expected_birefringent;
    core_evidence(&cores[i], rows[i].evidence, sizeof rows[i].evidence);
  }
  *nr = rows ? n : 0;
  free(cores);
  *rows_out = rows;
  return 0;
}

/* Index of the row of core id, or nr. */
static size_t row_of(const crow *rows, size_t nr, const char *id) {
  size_t i = 0;
  while (i < nr && strcmp(rows[i].id, id))
    i++;
  return i;
}

/* The 2x2 table: t[0] expected and birefringent, t[1] expected and not,
 * t[2] not expected but birefringent, t[3] neither. */
static void count_2x2(const crow *rows, size_t nr, const cs_finding *fr,
                      size_t nf, size_t t[4]) {
  t[0] = t[1] = t[2] = t[3] = 0;
  for (size_t i = 0; i < nr; i++)
    for (size_t j = 0; j < nf; j++)
      if (!strcmp(rows[i].id, fr[j].core_id) &&
          fr[j].birefringent != CS_BIREF_UNKNOWN) {
        int pos = fr[j].birefringent == CS_BIREF_YES;
        t[rows[i].expected ? (pos ? 0 : 1) : (pos ? 2 : 3)]++;
      }
}

/* The table and the agreement statistics; rc, or the threshold or data
 * error exit code. */
static int print_agreement(const size_t t[4], double min_kappa, int rc) {
  size_t a = t[0], b = t[1], cc = t[2], d = t[3];
  printf("expected birefringent = oxalate present or calcite present "
         "(calcite is strongly birefringent and counts as expected-birefringent)\n\n");
  printf("spectroscopy/finding\tbirefringent\tnot_birefringent\n");
  printf("expected_birefringent\t%zu\t%zu\n", a, b);
  printf("not_expected\t%zu\t%zu\n\n", cc, d);
  cs_agreement ag;
  cs_error err;
  if (cs_agreement_2x2(a, b, cc, d, &ag, &err)) {
    cli_error("validate: %s", err.msg);
    return CLI_DATA_ERROR;
  }
  printf("cores_compared\t%zu\n", ag.n);
  printf("agreement\t%.4f\n", ag.observed);
  printf("chance_agreement\t%.4f\n", ag.expected);
  /* 0/0 statistics are empty fields (the library gives 0 there) */
  int kdef = ag.expected < 1;
  char r1[32], r2[32];
  if (kdef) {
    printf("kappa\t%.4f\n", ag.kappa);
    printf("kappa_95ci\t%.4f\t%.4f\t(kappa -+ 1.96 SE clipped to [-1, 1]; SE %.4f, Fleiss, Cohen & Everitt 1969)\n",
           ag.kappa_lo, ag.kappa_hi, ag.kappa_se);
  } else {
    printf("kappa\t\t(undefined: every core falls in one category of a rating, chance agreement 1)\n");
    printf("kappa_95ci\t\t\n");
  }
  printf("sensitivity\t%s\t(%zu/%zu birefringent cores expected birefringent)\n",
         a + cc ? cli_ratio_text(a, a + cc, 4, r1, sizeof r1) : "", a, a + cc);
  printf("specificity\t%s\t(%zu/%zu non-birefringent cores not expected)\n",
         b + d ? cli_ratio_text(d, b + d, 4, r2, sizeof r2) : "", d, b + d);
  if (min_kappa > -2 && !kdef) {
    cli_error("validate: kappa is undefined (every core in one category), "
              "so --min-kappa %g is not met", min_kappa);
    return CLI_BELOW_THRESHOLD;
  }
  if (ag.kappa < min_kappa) {
    cli_error("validate: kappa %.4f below --min-kappa %g",
            ag.kappa, min_kappa);
    return CLI_BELOW_THRESHOLD;
  }
  return rc;
}

/* Discordant cores, then cores found on one side only. */
static void print_lists(const crow *rows, size_t nr, const cs_finding *fr,
                        size_t nf) {
  printf("\ndiscordant\tcore_id\tfinding\texpected\tevidence\tnotes\n");
  for (size_t i = 0; i < nr; i++)
    for (size_t j = 0; j < nf; j++)
      if (!strcmp(rows[i].id, fr[j].core_id) && fr[j].birefringent != CS_BIREF_UNKNOWN &&
          rows[i].expected != (fr[j].birefringent == CS_BIREF_YES)) {
        printf("discordant\t%s\t%s\t%s\t%s\t", rows[i].id,
               fr[j].birefringent == CS_BIREF_YES ? "birefringent" : "not_birefringent",
               rows[i].expected ? "birefringent" : "not_birefringent",
               rows[i].evidence);
        cli_print_field(stdout, fr[j].notes); /* free text: a CR, an ESC */
        putchar('\n');
      }
  for (size_t j = 0; j < nf; j++) {
    if (row_of(rows, nr, fr[j].core_id) == nr)
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
  while ((c = getopt_long(argc, argv, "F:m:h", opts, NULL)) != -1) {
    switch (c) {
    case 'F': findings = optarg; break;
    case 'm': model = optarg; break;
    case 'k':
      if (cli_parse_double(optarg, -1, 1, &min_kappa))
        return cli_usage_error("validate", "--min-kappa must be a number in -1..1");
      break;
    case 'A': allow_missing = 1; break;
    case 'h': return help();
    default: return cli_bad_option("validate", "F:m:h", opts, argc, argv);
    }
  }
  if (!findings)
    return cli_usage_error("validate", "--findings FILE is required");
  if (optind >= argc)
    return cli_usage_error("validate", "no cores table or spectra");
  if ((c = cli_stdin_once("validate", "--findings ", findings, argv + optind,
                          argc - optind)))
    return c;
  cs_finding *fr;
  size_t nf;
  if (read_findings(findings, &fr, &nf))
    return CLI_DATA_ERROR;
  crow *rows;
  size_t nr;
  int nbad = 0;
  if (spectroscopy_rows(argv + optind, argc - optind, model, &rows, &nr,
                        &nbad)) {
    cs_free(fr);
    return CLI_DATA_ERROR;
  }
  /* findings cores without spectra */
  int missing_err = 0;
  for (size_t j = 0; j < nf; j++)
    if (row_of(rows, nr, fr[j].core_id) == nr && !allow_missing) {
      cli_error("%s: findings line %d: core '%s' is not among "
              "the spectra (use --allow-missing to list it instead)",
              findings, fr[j].line, fr[j].core_id);
      missing_err = 1;
    }
  if (missing_err) {
    cs_free(fr);
    free(rows);
    return CLI_DATA_ERROR;
  }
  size_t t[4];
  count_2x2(rows, nr, fr, nf, t);
  int rc = print_agreement(t, min_kappa, nbad ? CLI_DATA_ERROR : CLI_OK);
  print_lists(rows, nr, fr, nf);
  cs_free(fr);
  free(rows);
  return rc;
}
