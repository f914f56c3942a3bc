/* cmd_info.c: `calcspec info FILE...`: one row per spectrum. */
#include "integ.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *meta_or_empty(const cs_spectrum *s, const char *key) {
  const char *v = cs_spectrum_meta(s, key);
  return v ? v : "";
}

/* TSV fields must not contain tabs or newlines. */
static void print_field(const char *v) { cli_print_field(stdout, v); }

static const char *const tsv_header =
    "file\tindex\tformat\ttechnique\tpoints\taxis\tx_min\tx_max\tquantity\t"
    "laser_nm\texposure_s\taccumulations\tsample_id\tcore_id\tspectrum_id\t"
    "title";

static void print_tsv(const char *path, const cs_spectrum *s) {
  const double *x = cs_spectrum_x(s);
  size_t n = cs_spectrum_n(s);
  double lo = x[0] < x[n - 1] ? x[0] : x[n - 1];
  double hi = x[0] < x[n - 1] ? x[n - 1] : x[0];
  print_field(path);
  printf("\t%zu\t%s\t%s\t%zu\t%s\t", cs_spectrum_source_index(s),
         meta_or_empty(s, CS_META_FORMAT),
         cs_technique_name(cs_spectrum_technique(s)), n,
         cs_axis_name(cs_spectrum_axis(s)));
  cli_print_num(stdout, lo);
  putchar('\t');
  cli_print_num(stdout, hi);
  printf("\t%s\t", cs_quantity_name(cs_spectrum_quantity(s)));
  cli_print_num(stdout, cs_spectrum_laser_nm(s));
  putchar('\t');
  cli_print_num(stdout, cs_spectrum_exposure_s(s));
  putchar('\t');
  if (cs_spectrum_accumulations(s))
    printf("%d", cs_spectrum_accumulations(s));
  const char *keys[] = {CS_META_SAMPLE_ID, CS_META_CORE_ID,
                        CS_META_SPECTRUM_ID, CS_META_TITLE};
  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
    putchar('\t');
    print_field(meta_or_empty(s, keys[k]));
  }
  putchar('\n');
}

static json_t *num_or_null(double v) {
  return isfinite(v) ? json_real(v) : json_null();
}

static void print_json(const char *path, const cs_spectrum *s) {
  const double *x = cs_spectrum_x(s);
  size_t n = cs_spectrum_n(s);
  json_t *o = json_object(), *meta = json_object();
  json_object_set_new(o, "file", json_string(path));
  json_object_set_new(o, "index", json_integer((json_int_t)cs_spectrum_source_index(s)));
  json_object_set_new(o, "format", json_string(meta_or_empty(s, CS_META_FORMAT)));
  json_object_set_new(o, "technique", json_string(cs_technique_name(cs_spectrum_technique(s))));
  json_object_set_new(o, "points", json_integer((json_int_t)n));
  json_object_set_new(o, "axis", json_string(cs_axis_name(cs_spectrum_axis(s))));
  json_object_set_new(o, "x_min", num_or_null(fmin(x[0], x[n - 1])));
  json_object_set_new(o, "x_max", num_or_null(fmax(x[0], x[n - 1])));
  json_object_set_new(o, "quantity", json_string(cs_quantity_name(cs_spectrum_quantity(s))));
  json_object_set_new(o, "laser_nm", num_or_null(cs_spectrum_laser_nm(s)));
  json_object_set_new(o, "exposure_s", num_or_null(cs_spectrum_exposure_s(s)));
  int acc = cs_spectrum_accumulations(s);
  json_object_set_new(o, "accumulations", acc ? json_integer(acc) : json_null());
  for (size_t i = 0; i < cs_spectrum_meta_count(s); i++) {
    const char *k, *v;
    cs_spectrum_meta_at(s, i, &k, &v);
    /* json_string refuses invalid UTF-8 (Latin-1 vendor text): keep the
     * record valid by dropping such a value rather than the line. */
    json_t *js = json_string(v);
    json_object_set_new(meta, k, js ? js : json_null());
  }
  json_object_set_new(o, "meta", meta);
  char *line = cli_json_line(o);
  if (line) {
    fputs(line, stdout);
    free(line);
  }
  json_decref(o);
}

static int help(void) {
  printf("usage: calcspec info [--json] [--format NAME] FILE|DIR...\n\n"
         "One row per spectrum: %s\n"
         "(TSV with a header line; --json writes JSON Lines with all "
         "metadata).\nDirectories are walked; files there that no reader "
         "recognises are skipped.\n\n"
         "  -j, --json         JSON Lines instead of TSV\n"
         "      --technique T  raman | ftir, when the file does not say\n"
         "      --axis A       raman_shift | wavelength_nm | wavenumber, when\n"
         "                     the file does not say\n"
         "  FILE '-' is standard input.\n"
         "  -f, --format NAME  read with this reader (see 'calcspec "
         "formats')\n",
         tsv_header);
  return CLI_OK;
}

int cmd_info(int argc, char **argv) {
  static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                       {"format", required_argument, 0, 'f'},
                                       {"technique", required_argument, 0, 256},
                                       {"axis", required_argument, 0, 257},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int json = 0, c;
  const char *format = NULL;
  cli_override ov = {0};
  while ((c = getopt_long(argc, argv, "jf:h", opts, NULL)) != -1) {
    switch (c) {
    case 'j': json = 1; break;
    case 'f': format = optarg; break;
    case 256:
    case 257:
      if (cli_override_option("info", c == 256 ? "technique" : "axis", optarg,
                              &ov))
        return CLI_USAGE;
      break;
    case 'h': return help();
    default: return cli_bad_option("info", "jf:h", opts, argc, argv);
    }
  }
  if (optind >= argc)
    return cli_usage_error("info", "no input files");
  if (format && !cli_format_known(format, 0))
    return cli_usage_error("info", "unknown format '%s'", format);
  int nbad = 0;
  cli_files files = {0};
  cli_files_expand(&files, argv + optind, argc - optind, &nbad);
  if (!json)
    puts(tsv_header);
  for (size_t i = 0; i < files.n; i++) {
    cs_error err;
    cli_reader rd; /* spectrum by spectrum: a large file is not held whole */
    if (cli_reader_open(files.path[i], format, &ov, &rd, &err)) {
      cli_file_error(files.path[i], &err);
      nbad++;
      continue;
    }
    cs_spectrum *s;
    cs_status st;
    while (!(st = cli_reader_next(&rd, &s, &err)) && s) {
      if (json)
        print_json(files.path[i], s);
      else
        print_tsv(files.path[i], s);
      cs_spectrum_free(s);
    }
    if (st) { /* a file that breaks part-way, after its first spectra */
      cli_file_error(files.path[i], &err);
      nbad++;
    }
    cli_reader_close(&rd);
    fflush(stdout);
  }
  cli_files_free(&files);
  return nbad ? CLI_DATA_ERROR : CLI_OK;
}
