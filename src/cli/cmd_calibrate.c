/* cmd_calibrate.c: `calcspec calibrate carbonate|whitlockite STANDARDS...`. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int help(void) {
  printf(
      "usage: calcspec calibrate carbonate [-o cal.txt] [-l labels.csv]\n"
      "                                    [--note TEXT] STANDARD...\n\n"
      "Fits R = m * wt%% + b by least squares (standard errors of m and b)\n"
      "to standards of known carbonate content: wt%% from each spectrum's\n"
      "metadata truth.carbonate_wt or carbonate_wt, or a labels file of\n"
      "'file,wt' lines.  R: Raman A(~1070)/A(960) from the band fit; FTIR\n"
      "A(nu3 CO3)/A(nu1nu3 PO4).  Writes the calibration file (stdout\n"
      "without -o); use it with 'calcspec cores -c'.\n\n"
      "  -o, --output FILE   calibration file to write\n"
      "  -l, --labels FILE   file,wt lines (instead of metadata)\n"
      "      --note TEXT     provenance recorded in the file\n\n"
      "usage: calcspec calibrate whitlockite [-o cal.txt] [-l labels.csv]\n"
      "                                      [--note TEXT] MIXTURE...\n\n"
      "Fits index = m * share + b to Raman spectra of HA/whitlockite powder\n"
      "mixtures of known whitlockite share of the phosphate (0..1): from\n"
      "metadata truth.whitlockite_share, whitlockite_share or\n"
      "truth.whitlockite_frac (calcspec simulate), or 'file,share'\n"
      "lines in the labels file.  Use it with 'calcspec cores -w' (column\n"
      "whitlockite_share).\n");
  return CLI_OK;
}

/* One labels line: file (path or base name) and its value. */
typedef struct {
  char *file;
  double v;
  size_t line;
} cal_label;

static void labels_free(cal_label *l, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(l[i].file);
  free(l);
}

/* Parse the labels text (read once, so it may come from standard input or
 * a FIFO): file,value lines (or tab), '#' comments and blank lines skipped,
 * a first row whose value is no number is a header.  A value out of
 * 0..hi, a line without one or a file listed twice is an error naming the
 * line (such lines were skipped, and the spectrum's metadata silently used
 * instead).  -1 after saying why. */
static int parse_labels(const char *path, char *text, double hi,
                        cal_label **out, size_t *nout) {
  cal_label *v = NULL;
  size_t n = 0, cap = 0, line = 0;
  int rc = 0, header = 1;
  for (char *l = text, *next; l && !rc; l = next) {
    if ((next = strchr(l, '\n')))
      *next++ = '\0';
    line++;
    size_t k = strlen(l);
    while (k && (l[k - 1] == '\r' || l[k - 1] == ' '))
      l[--k] = '\0'; /* CRLF files, as read_manifest does */
    if (!k || *l == '#')
      continue;
    char *sep = strchr(l, ',') ? strchr(l, ',') : strchr(l, '\t');
    double w = 0;
    int bad = !sep || sep == l || cli_parse_double(sep + 1, 0, hi, &w);
    if (bad && header && sep && sep != l) {
      header = 0;
      continue;
    }
    header = 0;
    if (bad) {
      cli_error("%s: line %zu: want file,value with the value in 0..%g, got "
                "'%.60s'", path, line, hi, l);
      rc = -1;
      break;
    }
    *sep = '\0';
    for (size_t i = 0; i < n && !rc; i++)
      if (!strcmp(v[i].file, l)) {
        cli_error("%s: line %zu: '%s' listed again (first on line %zu)", path,
                  line, l, v[i].line);
        rc = -1;
      }
    if (rc)
      break;
    if (n == cap) {
      size_t ncap = cap ? 2 * cap : 32;
      cal_label *t = realloc(v, ncap * sizeof *t);
      if (!t) {
        rc = -1;
        cli_error("%s: out of memory", path);
        break;
      }
      v = t;
      cap = ncap;
    }
    if (!(v[n].file = strdup(l))) {
      rc = -1;
      cli_error("%s: out of memory", path);
      break;
    }
    v[n].v = w;
    v[n++].line = line;
  }
  if (rc) {
    labels_free(v, n);
    return -1;
  }
  *out = v;
  *nout = n;
  return 0;
}

/* The value for path: the row naming it, else the row naming its base
 * name; -1 when none. */
static int label_wt(const cal_label *lab, size_t n, const char *path,
                    double *wt) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < n; i++) {
      const char *lb = strrchr(lab[i].file, '/');
      if (pass ? !strcmp(lb ? lb + 1 : lab[i].file, b)
               : !strcmp(lab[i].file, path)) {
        *wt = lab[i].v;
        return 0;
      }
    }
  return -1;
}

/* Append (w, r) to the growing arrays wt and ratio; -1 when out of memory
 * (both arrays stay valid for the caller to free). */
static int push_pair(double **wt, double **ratio, size_t *n, size_t *cap,
                     double w, double r) {
  if (*n == *cap) {
    size_t ncap = *cap ? 2 * *cap : 64;
    double *a = realloc(*wt, ncap * sizeof *a);
    if (!a)
      return -1;
    *wt = a;
    double *b = realloc(*ratio, ncap * sizeof *b);
    if (!b)
      return -1;
    *ratio = b;
    *cap = ncap;
  }
  (*wt)[*n] = w;
  (*ratio)[*n] = r;
  (*n)++;
  return 0;
}

int cmd_calibrate(int argc, char **argv) {
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"labels", required_argument, 0, 'l'},
                                       {"note", required_argument, 0, 'N'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *out = NULL, *labels = NULL,
             *note = "user calibration: standards of known carbonate";
  int c;
  while ((c = getopt_long(argc, argv, "o:l:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'l': labels = optarg; break;
    case 'N': note = optarg; break;
    case 'h': return help();
    default: return cli_bad_option("calibrate", "o:l:h", opts, argc, argv);
    }
  }
  if (optind >= argc ||
      (strcmp(argv[optind], "carbonate") && strcmp(argv[optind], "whitlockite")))
    return cli_usage_error("calibrate", "calibrate 'carbonate' or 'whitlockite'");
  int wh = !strcmp(argv[optind], "whitlockite");
  if (wh && !strcmp(note, "user calibration: standards of known carbonate"))
    note = "user calibration: HA/whitlockite mixtures of known share";
  optind++;
  if (optind >= argc)
    return cli_usage_error("calibrate", "no standards");
  if ((c = cli_stdin_once("calibrate", "-l ", labels, argv + optind,
                          argc - optind)))
    return c;
  cal_label *lab = NULL;
  size_t nlab = 0;
  if (labels) {
    const char *why;
    char *text = cli_slurp_why(labels, &why);
    if (!text) {
      cli_error("%s: cannot read labels: %s", labels, why ? why : "out of memory");
      return CLI_DATA_ERROR;
    }
    int bad = parse_labels(labels, text, wh ? 1 : 100, &lab, &nlab);
    free(text);
    if (bad)
      return CLI_DATA_ERROR;
  }
  int nbad = 0;
  cli_files files = {0};
  cli_files_expand(&files, argv + optind, argc - optind, &nbad);
  double *wt = NULL, *ratio = NULL;
  size_t n = 0, cap = 0;
  cs_technique tech = CS_TECH_UNKNOWN;
  cs_error err;
  for (size_t i = 0; i < files.n; i++) {
    cs_dataset *ds;
    if (cli_dataset_read(files.path[i], NULL, NULL, &ds, &err)) {
      cli_file_error(files.path[i], &err);
      nbad++;
      continue;
    }
    for (size_t k = 0; k < cs_dataset_count(ds); k++) {
      const cs_spectrum *s = cs_dataset_get(ds, k);
      double w;
      const char *key = wh ? "whitlockite_share" : "carbonate_wt";
      char tkey[40];
      snprintf(tkey, sizeof tkey, "truth.%s", key);
      const char *m = cs_spectrum_meta(s, tkey);
      if (!m)
        m = cs_spectrum_meta(s, key);
      if (!m && wh) /* the name calcspec simulate writes */
        m = cs_spectrum_meta(s, "truth.whitlockite_frac");
      if (label_wt(lab, nlab, files.path[i], &w) &&
          (!m || cli_parse_double(m, 0, wh ? 1 : 100, &w))) {
        cli_error("%s: spectrum %zu: no known %s "
                "(%s, %s or --labels)", files.path[i], k,
                wh ? "whitlockite share" : "carbonate", tkey, key);
        nbad++;
        continue;
      }
      cs_technique t = cs_spectrum_technique(s);
      if (t == CS_TECH_UNKNOWN)
        t = cs_spectrum_axis(s) == CS_AXIS_WAVENUMBER ? CS_TECH_FTIR : CS_TECH_RAMAN;
      if (tech == CS_TECH_UNKNOWN)
        tech = t;
      if (t != tech) {
        cli_error("%s: spectrum %zu: %s among %s standards",
                files.path[i], k, cs_technique_name(t), cs_technique_name(tech));
        nbad++;
        continue;
      }
      cs_composition comp;
      int fail = cs_composition_measure(s, "hydroxyapatite", NULL, &comp, &err) != CS_OK;
      const char *why = fail ? err.msg : NULL;
      if (!fail && (wh ? !(comp.valid & CS_COMP_WHITLOCKITE) : comp.carbonate_ratio == 0)) {
        fail = 1;
        why = wh ? comp.whitlockite_reason : comp.carbonate_reason;
        if (!why[0])
          why = wh ? "no whitlockite index" : "no carbonate ratio";
      }
      if (fail) {
        cli_error("%s: spectrum %zu: %s", files.path[i], k, why);
        nbad++;
        continue;
      }
      if (push_pair(&wt, &ratio, &n, &cap, w,
                    wh ? comp.whitlockite_index : comp.carbonate_ratio)) {
        cli_error("calibrate: out of memory");
        cs_dataset_free(ds);
        cli_files_free(&files);
        free(wt);
        free(ratio);
        labels_free(lab, nlab);
        return CLI_DATA_ERROR;
      }
    }
    cs_dataset_free(ds);
  }
  cli_files_free(&files);
  labels_free(lab, nlab);
  cs_calibration cal;
  int rc = nbad ? CLI_DATA_ERROR : CLI_OK;
  if (wh && tech != CS_TECH_RAMAN && tech != CS_TECH_UNKNOWN) {
    cli_error("calibrate: the whitlockite index is a Raman measure");
    rc = CLI_DATA_ERROR;
  } else if (wh ? cs_calibration_fit_whitlockite(wt, ratio, n, note, &cal, &err)
                : cs_calibration_fit(tech, wt, ratio, n, note, &cal, &err)) {
    cli_error("calibrate: %s", err.msg);
    rc = CLI_DATA_ERROR;
  } else if (out) {
    if (cs_calibration_save(&cal, out, &err)) {
      cli_file_error(out, &err);
      rc = CLI_DATA_ERROR;
    }
  } else {
    char *t;
    if (!cs_calibration_format(&cal, &t, &err)) {
      fputs(t, stdout);
      cs_free(t);
    }
  }
  free(wt);
  free(ratio);
  return rc;
}
