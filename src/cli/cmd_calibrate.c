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

/* The value for path in the labels text (file,value lines; the file by its
 * path or its base name); -1 when there is none.  The text was read once,
 * so labels can come from standard input or a FIFO. */
static int label_wt(const char *labels, const char *path, double *wt) {
  if (!labels)
    return -1;
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  for (const char *l = labels; *l;) {
    const char *e = strchr(l, '\n');
    size_t len = e ? (size_t)(e - l) : strlen(l);
    char line[4096];
    if (len < sizeof line) {
      size_t k = len;
      memcpy(line, l, k);
      while (k && (line[k - 1] == '\r' || line[k - 1] == ' '))
        k--; /* CRLF files, as read_manifest does */
      line[k] = '\0';
      char *sep = strchr(line, ',') ? strchr(line, ',') : strchr(line, '\t');
      if (sep) {
        *sep = '\0';
        const char *lb = strrchr(line, '/');
        if ((!strcmp(line, path) || !strcmp(lb ? lb + 1 : line, b)) &&
            !cli_parse_double(sep + 1, 0, 100, wt))
          return 0;
      }
    }
    l += len + (e != NULL);
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
  char *lab = NULL;
  if (labels) {
    const char *why;
    if (!(lab = cli_slurp_why(labels, &why))) {
      cli_error("%s: cannot read labels: %s", labels, why ? why : "out of memory");
      return CLI_DATA_ERROR;
    }
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
      if (label_wt(lab, files.path[i], &w) &&
          (!m || cli_parse_double(m, 0, wh ? 1 : 100, &w))) {
        cli_error("%s: spectrum %zu: no known %s "
                "(%s, %s or --labels)", files.path[i], k,
                wh ? "whitlockite share" : "carbonate", tkey, key);
        nbad++;
        continue;
      }
      if (wh && w > 1) {
        cli_error("%s: spectrum %zu: whitlockite share %g is not in 0..1",
                  files.path[i], k, w);
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
        free(lab);
        return CLI_DATA_ERROR;
      }
    }
    cs_dataset_free(ds);
  }
  cli_files_free(&files);
  free(lab);
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
