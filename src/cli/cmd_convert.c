/* cmd_convert.c: `calcspec convert FILE -o OUT`: rewrite spectra as AnIML,
 * JCAMP-DX or CSV, optionally converting the axis/quantity on the way. */
#include "cli.h"

#include <getopt.h>
#include <math.h>
#include <string.h>

static int help(void) {
  printf(
      "usage: calcspec convert [OPTIONS] FILE -o OUT\n\n"
      "Writes every spectrum of FILE to OUT.  The output format comes from\n"
      "--to or OUT's extension (.animl, .jdx/.dx, .csv/.tsv/.txt).\n\n"
      "  -o, --output OUT     output file (required; - with --to: standard\n"
      "                       output).  FILE - is standard input.\n"
      "  -t, --to FMT         animl | jcamp | csv\n"
      "  -f, --format NAME    input reader (default: detect)\n"
      "      --raman-shift    convert a wavelength axis (nm) to Raman shift\n"
      "      --laser NM       excitation wavelength for --raman-shift (implies\n"
      "                       it); overrides the laser the file records\n"
      "  -a, --absorbance     convert %% transmittance to absorbance\n"
      "  -r, --range A:B      crop to A..B (after conversion)\n");
  return CLI_OK;
}

int cmd_convert(int argc, char **argv) {
  static const struct option opts[] = {
      {"output", required_argument, 0, 'o'}, {"to", required_argument, 0, 't'},
      {"format", required_argument, 0, 'f'}, {"raman-shift", no_argument, 0, 's'},
      {"laser", required_argument, 0, 'l'},  {"absorbance", no_argument, 0, 'a'},
      {"range", required_argument, 0, 'r'},  {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *out = NULL, *to = NULL, *format = NULL;
  int shift = 0, absorb = 0, crop = 0, c;
  double laser = NAN, lo = 0, hi = 0;
  while ((c = getopt_long(argc, argv, "o:t:f:ar:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 't': to = optarg; break;
    case 'f': format = optarg; break;
    case 's': shift = 1; break;
    case 'a': absorb = 1; break;
    case 'l':
      if (cli_parse_double(optarg, 100, 5000, &laser))
        return cli_usage_error("convert", "--laser wants nm in 100..5000, got '%s'", optarg);
      shift = 1;
      break;
    case 'r':
      if (cli_parse_range(optarg, &lo, &hi))
        return cli_usage_error("convert", "--range wants A:B with A < B, got '%s'", optarg);
      crop = 1;
      break;
    case 'h': return help();
    default: return cli_bad_option("convert", "o:t:f:ar:h", opts, argc, argv);
    }
  }
  if (!out)
    return cli_usage_error("convert", "no output file (-o OUT)");
  if (optind + 1 != argc)
    return cli_usage_error("convert", "exactly one input FILE is needed");
  if (cli_is_stdio(out) && !to)
    return cli_usage_error("convert", "-o - (standard output) needs --to FMT");
  if (to && !cli_format_known(to, 1))
    return cli_usage_error("convert", "cannot write format '%s'", to);
  if (!to && !cli_output_ext_known(out))
    return cli_usage_error("convert", "cannot tell the output format from "
                           "'%s' (.animl, .jdx, .csv, ...; or --to)", out);
  if (format && !cli_format_known(format, 0))
    return cli_usage_error("convert", "unknown format '%s'", format);
  const char *in = argv[optind];
  /* spectrum by spectrum: AnIML and JCAMP-DX output then stream, so
   * memory stays one spectrum's whatever the file (cs_writer) */
  cs_error err;
  cli_reader rd;
  cli_writer wr;
  if (cli_reader_open(in, format, NULL, &rd, &err)) {
    cli_file_error(in, &err);
    return CLI_DATA_ERROR;
  }
  if (cli_writer_open(out, to, &wr, &err)) {
    cli_reader_close(&rd);
    cli_file_error(out, &err);
    return err.code == CS_ERR_ARG ? CLI_USAGE : CLI_DATA_ERROR;
  }
  cs_status st = CS_OK;
  cs_spectrum *s = NULL;
  for (size_t i = 0; !st; i++) {
    if ((st = cli_reader_next(&rd, &s, &err))) {
      cli_file_error(in, &err);
      break;
    }
    if (!s)
      break;
    if (shift)
      st = cs_spectrum_to_raman_shift(s, laser, &err);
    if (!st && absorb)
      st = cs_spectrum_to_absorbance(s, &err);
    if (!st && crop)
      st = cs_spectrum_sort(s, &err);
    if (!st && crop)
      st = cs_spectrum_crop(s, lo, hi, &err);
    if (st)
      cli_error("%s: spectrum %zu: %s", in, i, err.msg);
    else if ((st = cs_writer_put(wr.w, s, &err)))
      cli_error("%s: spectrum %zu: %s", out, i, err.msg);
    cs_spectrum_free(s);
  }
  cli_reader_close(&rd);
  if (st) {
    cli_writer_abort(&wr);
    return CLI_DATA_ERROR;
  }
  if (cli_writer_close(&wr, &err)) {
    cli_file_error(out, &err);
    return err.code == CS_ERR_ARG ? CLI_USAGE : CLI_DATA_ERROR;
  }
  return CLI_OK;
}
