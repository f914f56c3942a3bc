/* cmd_plot.c: `calcspec plot`: one spectrum as a picture (PNG, SVG, PDF). */
#include "figure.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int help(void) {
  printf(
      "usage: calcspec plot FILE [--index I] [-m model] [-c cal] [OPTIONS] -o OUT\n\n"
      "Draws one spectrum of FILE: the raw spectrum, the estimated baseline\n"
      "(the model's baseline step unless --baseline) and the corrected\n"
      "spectrum; for Raman apatite and oxalate the band fit of the composition\n"
      "(components, their sum and the residual); the class with its posterior\n"
      "probabilities as bars; QC flags and composition.  OUT is PNG, SVG or PDF, from its extension or --format.\n"
      "The plotted range is the model window when the spectrum covers it.\n\n"
      "  -o, --output OUT       picture to write (required)\n"
      "  -i, --index I          spectrum of FILE to draw (0-based, default 0)\n"
      "  -m, --model FILE       model (default: built-in for the technique)\n"
      "  -c, --calibration FILE carbonate calibration (default: built-in)\n"
      "      --format FMT       png, svg or pdf (default: OUT's extension)\n"
      "  -r, --range A:B        plot A..B (cm^-1)\n"
      "      --baseline SPEC    baseline to show, e.g. arpls:lam=1e5, or off\n"
      "      --no-raw           leave out the raw spectrum\n"
      "      --no-baseline      leave out the baseline\n"
      "      --no-corrected     leave out the corrected spectrum\n"
      "      --no-fit           leave out the band fit\n"
      "      --fit-table FILE   also write the band fit's curves as TSV (x, y,\n"
      "                         baseline, sum, residual, one column per component)\n"
      "      --no-class         leave out class, posteriors, QC, composition\n");
  return CLI_OK;
}

/* Draw f on a page of doc (w x h points). */
static void draw_page(cairo_t *cr, const fig_spec *f, const char *file,
                      size_t index, const cs_spectrum *s, unsigned what,
                      int fit, int facts, double W, double H) {
  const double fs = 10, m = 18;
  dr_set(cr, dr_hex(DR_OI_BLACK));
  dr_font(cr, 12, 1);
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  char title[600];
  snprintf(title, sizeof title, "%s  [spectrum %zu]", base, index);
  dr_text(cr, m, m + 10, 0, title);
  dr_font(cr, fs, 0);
  const char *core = cs_spectrum_meta(s, CS_META_CORE_ID);
  const char *sid = cs_spectrum_meta(s, CS_META_SAMPLE_ID);
  char sub[300];
  snprintf(sub, sizeof sub, "%s%s%s%s%s%s", cs_technique_name(cs_spectrum_technique(s)),
           core ? "  \u00b7  core " : "", core ? core : "", sid ? "  \u00b7  sample " : "",
           sid ? sid : "", f->synthetic ? "  \u00b7  SYNTHETIC spectrum" : "");
  dr_set(cr, dr_hex(0x555555));
  dr_text_fit(cr, m, m + 24, W - 2 * m, sub);
  double top = m + 32, bottom = H - m - 12;
  double colw = facts ? 215 : 0;
  double lw = W - 2 * m - (facts ? colw + 16 : 0);
  /* stacked panels: raw + baseline, corrected, composition window */
  unsigned upper = what & (FIG_RAW | FIG_BASELINE), lower = what & FIG_CORRECTED;
  if (!f->corr)
    lower = 0;
  double wts[3] = {upper ? 1.0 : 0, lower ? (upper ? 0.85 : 1.0) : 0, fit ? 1.45 : 0};
  double sum = wts[0] + wts[1] + wts[2], yy = top;
  if (upper) {
    double ph = (bottom - top) * wts[0] / sum;
    fig_draw_spectrum(cr, f, upper, m, yy, lw, ph, fs);
    yy += ph;
  }
  if (lower) {
    double ph = (bottom - top) * wts[1] / sum;
    fig_draw_spectrum(cr, f, lower, m, yy, lw, ph, fs);
    yy += ph;
  }
  if (fit)
    fig_draw_fit(cr, f, m, yy, lw, bottom - yy, fs);
  if (facts)
    fig_draw_facts(cr, f, W - m - colw, top + 2, colw, fs, 1);
  dr_set(cr, dr_hex(0x555555));
  dr_font(cr, 8.5, 0);
  dr_text(cr, m, H - m + 2, 0, DR_DISCLAIMER);
  dr_textf(cr, W - m, H - m + 2, 2, "calcspec %s", cs_version());
}

int cmd_plot(int argc, char **argv) {
  enum { O_BASE = 256, O_NORAW, O_NOBASE, O_NOCORR, O_NOFIT, O_NOCLASS, O_FITTAB };
  static const struct option opts[] = {
      {"output", required_argument, 0, 'o'}, {"index", required_argument, 0, 'i'},
      {"model", required_argument, 0, 'm'},  {"calibration", required_argument, 0, 'c'},
      {"format", required_argument, 0, 'f'}, {"range", required_argument, 0, 'r'},
      {"baseline", required_argument, 0, O_BASE}, {"no-raw", no_argument, 0, O_NORAW},
      {"no-baseline", no_argument, 0, O_NOBASE}, {"no-corrected", no_argument, 0, O_NOCORR},
      {"no-fit", no_argument, 0, O_NOFIT},   {"no-class", no_argument, 0, O_NOCLASS},
      {"fit-table", required_argument, 0, O_FITTAB},
      {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
  const char *out = NULL, *model = NULL, *cal = NULL, *fmt = NULL, *bl = NULL,
             *fittab = NULL;
  long index = 0;
  double lo = 0, hi = 0;
  unsigned what = FIG_RAW | FIG_BASELINE | FIG_CORRECTED;
  int fit = 1, facts = 1, c;
  while ((c = getopt_long(argc, argv, "o:i:m:c:r:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'i':
      if (cli_parse_int(optarg, 0, 100000000, &index))
        return cli_usage_error("plot", "--index must be a whole number >= 0");
      break;
    case 'm': model = optarg; break;
    case 'c': cal = optarg; break;
    case 'f': fmt = optarg; break;
    case 'r':
      if (cli_parse_range(optarg, &lo, &hi))
        return cli_usage_error("plot", "--range must be A:B with A < B");
      break;
    case O_BASE: bl = optarg; break;
    case O_NORAW: what &= ~(unsigned)FIG_RAW; break;
    case O_NOBASE: what &= ~(unsigned)FIG_BASELINE; break;
    case O_NOCORR: what &= ~(unsigned)FIG_CORRECTED; break;
    case O_NOFIT: fit = 0; break;
    case O_NOCLASS: facts = 0; break;
    case O_FITTAB: fittab = optarg; break;
    case 'h': return help();
    default: return cli_bad_option("plot", "o:i:m:c:r:h", opts, argc, argv);
    }
  }
  if (!out)
    return cli_usage_error("plot", "-o OUT is required");
  if (optind != argc - 1)
    return cli_usage_error("plot", optind >= argc ? "no input file" : "one input file only");
  dr_kind kind;
  if (dr_kind_of(out, fmt, &kind))
    return cli_usage_error("plot", fmt ? "--format must be png, svg or pdf"
                                       : "cannot tell the picture format from OUT's "
                                         "extension (.png, .svg, .pdf; or --format)");
  if (!what && !fit)
    return cli_usage_error("plot", "nothing left to draw");
  if (fittab && !fit)
    return cli_usage_error("plot", "--fit-table needs the band fit (not --no-fit)");
  if (bl && strcmp(bl, "off") && strcmp(bl, "none")) {
    cs_baseline_opts bo;
    cs_error e;
    if (cs_baseline_opts_parse(bl, &bo, &e))
      return cli_usage_error("plot", "--baseline: %s%s", e.msg,
                             cli_value_hint(e.msg, (char[96]){0}, 96));
  }
  const char *path = argv[optind];
  cs_dataset *ds;
  cs_error err;
  if (cli_dataset_read(path, NULL, NULL, &ds, &err)) {
    cli_file_error(path, &err);
    return CLI_DATA_ERROR;
  }
  if ((size_t)index >= cs_dataset_count(ds)) {
    fprintf(stderr, "calcspec: %s: no spectrum %ld (the file holds %zu)\n", path,
            index, cs_dataset_count(ds));
    cs_dataset_free(ds);
    return CLI_DATA_ERROR;
  }
  fig_ctx ctx;
  if (fig_ctx_open(&ctx, model, cal)) {
    cs_dataset_free(ds);
    return CLI_DATA_ERROR;
  }
  ctx.baseline = bl;
  ctx.want_fit = fit;
  ctx.want_corrected = what != 0;
  const cs_spectrum *s = cs_dataset_get(ds, (size_t)index);
  fig_spec f;
  int rc = CLI_OK;
  if (fig_analyse(&ctx, s, lo, hi, &f)) {
    fprintf(stderr, "calcspec: %s: out of memory\n", path);
    rc = CLI_DATA_ERROR;
  } else {
    if (what && lo < hi && !(f.hi > f.lo && f.lo < hi && f.hi > lo)) {
      fprintf(stderr, "calcspec: %s: spectrum %ld does not reach --range %g:%g\n",
              path, index, lo, hi);
      rc = CLI_DATA_ERROR;
    }
    if (!rc && fit && !f.fit && (!what || fittab)) {
      /* only the fit was asked for, and there is none */
      fprintf(stderr, "calcspec: %s: spectrum %ld: %s\n", path, index,
              f.fit_note[0] ? f.fit_note
                            : f.classified ? "no band fit for this class"
                                           : f.class_note);
      rc = CLI_DATA_ERROR;
    }
    if (!rc && fittab) {
      FILE *tf = fopen(fittab, "w");
      int bad = !tf || fig_fit_table(&f, tf);
      if (tf && fclose(tf))
        bad = 1;
      if (bad) {
        fprintf(stderr, "calcspec: %s: cannot write\n", fittab);
        rc = CLI_DATA_ERROR;
      }
    }
    dr_doc doc;
    char msg[256];
    int drawfit = fit && fig_can_draw_fit(&f);
    /* the band fit's panel and residual strip need their own room */
    double H = drawfit && what ? 800 : 600;
    if (!rc && dr_open(&doc, out, kind, 720, H, msg, sizeof msg) == 0) {
      draw_page(doc.cr, &f, path, (size_t)index, s, what, drawfit, facts, doc.w, doc.h);
      if (dr_close(&doc, msg, sizeof msg)) {
        fprintf(stderr, "calcspec: %s: %s\n", out, msg);
        rc = CLI_DATA_ERROR;
      }
    } else if (!rc) {
      fprintf(stderr, "calcspec: %s: %s\n", out, msg);
      rc = CLI_DATA_ERROR;
    }
    if (!rc && !f.classified)
      cli_note("%s: spectrum %ld %s", path, index, f.class_note);
    else if (!rc && fit && f.fit_note[0])
      cli_note("%s: spectrum %ld %s", path, index, f.fit_note);
    fig_spec_free(&f);
  }
  fig_ctx_free(&ctx);
  cs_dataset_free(ds);
  dr_shutdown();
  return rc;
}
