/* cmd_map.c: `calcspec map`: a file holding a map (stage positions in the
 * metadata) as an image of classes or of one measured value. */
#include "figure.h"
#include "progress.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int help(void) {
  printf(
      "usage: calcspec map FILE [--value NAME] [-m model] [-c cal] [--table OUT.tsv] -o OUT\n\n"
      "Draws the spectra of a map or line scan at their stage positions: each\n"
      "pixel is one spectrum, coloured by its class (legend with counts), or\n"
      "with --value by a measured value (viridis colour bar).  Axes and a scale\n"
      "bar are in micrometres.  Positions come from the position_um metadata\n"
      "(LabSpec XML maps, CSV maps); TriVista line/area scans give their stage\n"
      "axis (From/Step/Points, taken as mm).  OUT is PNG, SVG or PDF.\n\n"
      "Values: carbonate (wt%%; none below the LOD), whitlockite_index, com_frac, protein_mineral,\n"
      "mineral_snr (QC SNR of the main band), fluorescence (QC baseline/band),\n"
      "intensity (mean raw value; needs no model), p_CLASS (posterior of a\n"
      "class, e.g. p_hydroxyapatite).  Pixels without a value are grey.\n\n"
      "  -o, --output OUT       picture to write (required)\n"
      "  -V, --value NAME       colour by this value instead of the class\n"
      "      --table FILE       also write one TSV row per pixel\n"
      "  -m, --model FILE       model (default: built-in for the technique)\n"
      "  -c, --calibration FILE carbonate calibration (default: built-in)\n"
      "      --format FMT       png, svg or pdf (default: OUT's extension)\n");
  return CLI_OK;
}

/* What is kept of one spectrum: the file is read as a stream, the spectra
 * are dropped once analysed, so a pixel stays small; its texts (best class,
 * why not classified) are indices into one table of distinct strings. */
typedef struct {
  double x, y;  /* um */
  int col, row;
  int cls;      /* index into the class list, -1 not classified */
  double value; /* NaN when none */
  double pbest;
  unsigned qc;
  unsigned best, note; /* strtab indices */
} pixel;

/* Distinct strings, each stored once (hash table over the array). */
typedef struct {
  char **s;
  size_t n, cap;
  unsigned *slot; /* index + 1, 0 empty */
  size_t nslot;
} strtab;

static size_t str_hash(const char *s) {
  size_t h = 1469598103934665603u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

/* The index of s (added when new); -1 when out of memory. */
static long strtab_add(strtab *t, const char *s) {
  if (2 * (t->n + 1) > t->nslot) {
    size_t ns = t->nslot ? 2 * t->nslot : 64;
    unsigned *sl = calloc(ns, sizeof *sl);
    if (!sl)
      return -1;
    for (size_t i = 0; i < t->n; i++) {
      size_t h = str_hash(t->s[i]) & (ns - 1);
      while (sl[h])
        h = (h + 1) & (ns - 1);
      sl[h] = (unsigned)i + 1;
    }
    free(t->slot);
    t->slot = sl;
    t->nslot = ns;
  }
  size_t h = str_hash(s) & (t->nslot - 1);
  for (; t->slot[h]; h = (h + 1) & (t->nslot - 1))
    if (!strcmp(t->s[t->slot[h] - 1], s))
      return (long)t->slot[h] - 1;
  if (t->n == t->cap) {
    size_t nc = t->cap ? 2 * t->cap : 16;
    char **ns = realloc(t->s, nc * sizeof *ns);
    if (!ns)
      return -1;
    t->s = ns;
    t->cap = nc;
  }
  if (!(t->s[t->n] = strdup(s)))
    return -1;
  t->slot[h] = (unsigned)t->n + 1;
  return (long)t->n++;
}

static void strtab_free(strtab *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->s[i]);
  free(t->s);
  free(t->slot);
}

static const char *const value_names[] = {"carbonate",   "whitlockite_index", "com_frac",
                                          "protein_mineral", "mineral_snr", "fluorescence",
                                          "intensity"};
#define NVALUES (sizeof value_names / sizeof value_names[0])

static int value_known(const char *v) {
  if (!strncmp(v, "p_", 2) && v[2])
    return 1;
  for (size_t i = 0; i < NVALUES; i++)
    if (!strcmp(v, value_names[i]))
      return 1;
  return 0;
}

static const char *value_label(const char *v) {
  if (!strcmp(v, "carbonate")) return "carbonate / wt%";
  if (!strcmp(v, "whitlockite_index")) return "whitlockite index";
  if (!strcmp(v, "com_frac")) return "COM fraction";
  if (!strcmp(v, "protein_mineral")) return "protein/mineral ratio";
  if (!strcmp(v, "mineral_snr")) return "main band SNR";
  if (!strcmp(v, "fluorescence")) return "fluorescence / band";
  if (!strcmp(v, "intensity")) return "mean raw intensity";
  return v;
}

static double num_meta(const cs_spectrum *s, const char *key) {
  const char *v = cs_spectrum_meta(s, key);
  char *end;
  if (!v)
    return NAN;
  double d = strtod(v, &end);
  return end != v && isfinite(d) ? d : NAN;
}

/* Beyond a kilometre a position is not a stage's: the grid's span and
 * steps would overflow (+-1e308 drew one garbage column). */
#define POS_MAX_UM 1e9

static int position_um(const cs_spectrum *s, size_t i, double *x, double *y);

/* Stage position of spectrum i in um.  0 ok, -1 none, -2 beyond
 * POS_MAX_UM. */
static int position(const cs_spectrum *s, size_t i, double *x, double *y) {
  int r = position_um(s, i, x, y);
  return r ? r : fabs(*x) <= POS_MAX_UM && fabs(*y) <= POS_MAX_UM ? 0 : -2;
}

static int position_um(const cs_spectrum *s, size_t i, double *x, double *y) {
  const char *p = cs_spectrum_meta(s, CS_META_POSITION);
  if (p) {
    char *e1, *e2;
    *x = strtod(p, &e1);
    *y = strtod(e1, &e2);
    if (e1 != p && e2 != e1 && isfinite(*x) && isfinite(*y))
      return 0;
    return -1;
  }
  /* TriVista scans: an arithmetic stage axis per direction; the spectra
   * run along X first.  Stage units are taken as mm. */
  double fx = num_meta(s, "trivista.X-Axis.From"), sx = num_meta(s, "trivista.X-Axis.Step"),
         nx = num_meta(s, "trivista.X-Axis.Points");
  double fy = num_meta(s, "trivista.Y-Axis.From"), sy = num_meta(s, "trivista.Y-Axis.Step");
  if (isfinite(fx) && isfinite(sx) && nx >= 1) {
    size_t n = (size_t)nx;
    *x = (fx + sx * (double)(i % n)) * 1000;
    *y = isfinite(fy) && isfinite(sy) ? (fy + sy * (double)(i / n)) * 1000 : 0;
    return 0;
  }
  if (isfinite(fy) && isfinite(sy)) {
    *x = 0;
    *y = (fy + sy * (double)i) * 1000;
    return 0;
  }
  return -1;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Distinct sorted values of v[n] (tolerance tol) into u; returns count. */
static size_t distinct(double *v, size_t n, double tol, double *u) {
  qsort(v, n, sizeof *v, cmp_double);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!m || v[i] - u[m - 1] > tol)
      u[m++] = v[i];
  return m;
}

static int nearest(const double *u, size_t m, double v) {
  size_t best = 0;
  for (size_t i = 1; i < m; i++)
    if (fabs(u[i] - v) < fabs(u[best] - v))
      best = i;
  return (int)best;
}

/* The value NAME of one analysed spectrum, or NaN. */
static double value_of(const char *name, const fig_spec *f, const cs_spectrum *s) {
  const cs_composition *c = &f->comp;
  if (!strcmp(name, "intensity")) {
    const double *y = cs_spectrum_y(s);
    size_t n = cs_spectrum_n(s);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
      sum += y[i];
    return n ? sum / (double)n : NAN;
  }
  if (!f->classified)
    return NAN;
  if (!strcmp(name, "mineral_snr"))
    return f->rep.qc.snr;
  if (!strcmp(name, "fluorescence"))
    return f->rep.qc.fluor_ratio;
  if (!strncmp(name, "p_", 2)) {
    for (size_t g = 0; g < cs_model_class_count(f->model); g++)
      if (!strcmp(cs_model_class_name(f->model, g), name + 2))
        return f->rep.result.posterior[g];
    return NAN;
  }
  if (!f->have_comp)
    return NAN;
  if (!strcmp(name, "carbonate"))
    /* below the limit of detection there is no number to show */
    return (c->valid & CS_COMP_CARBONATE) && !c->carbonate_censored ? c->carbonate_wt : NAN;
  if (!strcmp(name, "whitlockite_index"))
    return c->valid & CS_COMP_WHITLOCKITE ? c->whitlockite_index : NAN;
  if (!strcmp(name, "com_frac"))
    return c->valid & CS_COMP_COM ? c->com_frac : NAN;
  if (!strcmp(name, "protein_mineral"))
    return c->valid & CS_COMP_PROTEIN ? c->protein_mineral : NAN;
  return NAN;
}

/* Grey with a diagonal hatch: "no value". */
static void nodata_fill(cairo_t *cr, double x, double y, double w, double h) {
  cairo_save(cr);
  cairo_rectangle(cr, x, y, w, h);
  cairo_clip(cr);
  dr_set(cr, dr_hex(DR_LIGHT));
  cairo_paint(cr);
  cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
  cairo_set_line_width(cr, 0.6);
  for (double t = -h; t < w; t += 5) {
    cairo_move_to(cr, x + t, y + h);
    cairo_line_to(cr, x + t + h, y);
  }
  cairo_stroke(cr);
  cairo_restore(cr);
}

int cmd_map(int argc, char **argv) {
  static const struct option opts[] = {
      {"output", required_argument, 0, 'o'}, {"value", required_argument, 0, 'V'},
      {"table", required_argument, 0, 't'},  {"model", required_argument, 0, 'm'},
      {"calibration", required_argument, 0, 'c'}, {"format", required_argument, 0, 'f'},
      {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
  const char *out = NULL, *value = NULL, *table = NULL, *model = NULL, *cal = NULL,
             *fmt = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "o:V:m:c:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'V': value = optarg; break;
    case 't': table = optarg; break;
    case 'm': model = optarg; break;
    case 'c': cal = optarg; break;
    case 'f': fmt = optarg; break;
    case 'h': return help();
    default: return cli_bad_option("map", "o:V:m:c:h", opts, argc, argv);
    }
  }
  if (!out)
    return cli_usage_error("map", "-o OUT is required");
  if (optind != argc - 1)
    return cli_usage_error("map", optind >= argc ? "no input file" : "one input file only");
  dr_kind kind;
  if (dr_kind_of(out, fmt, &kind))
    return cli_usage_error("map", fmt ? "--format must be png, svg or pdf"
                                      : "cannot tell the picture format from OUT's "
                                        "extension (.png, .svg, .pdf; or --format)");
  if (value && !value_known(value))
    return cli_usage_error("map", "unknown --value '%s' (see calcspec map --help)", value);
  const char *path = argv[optind];
  cs_error err;
  cli_reader rd;
  if (cli_reader_open(path, NULL, NULL, &rd, &err)) {
    cli_file_error(path, &err);
    return CLI_DATA_ERROR;
  }
  fig_ctx ctx;
  if (fig_ctx_open(&ctx, model, cal)) {
    cli_reader_close(&rd);
    return CLI_DATA_ERROR;
  }
  ctx.want_corrected = 0;
  size_t n = 0, cap = 0;
  pixel *px = NULL;
  double *xs = NULL, *ys = NULL, *ux = NULL, *uy = NULL;
  strtab names = {0};
  int rc = CLI_OK;
  if (strtab_add(&names, "") != 0) /* index 0: no text */
    rc = CLI_DATA_ERROR;
  /* classes in first-seen model order, plus counts */
  char classes[CS_MAX_CLASSES + 1][CS_CLASS_NAME_MAX];
  size_t ncls = 0, count[CS_MAX_CLASSES + 2] = {0}, nclassified = 0;
  const cs_model *first_model = NULL;
  double vmin = INFINITY, vmax = -INFINITY;
  cli_progress prog;
  cli_progress_start(&prog, "map", "spectra", cli_reader_count(&rd));
  for (; !rc; cli_progress_step(&prog)) {
    cs_spectrum *s;
    if (cli_reader_next(&rd, &s, &err)) {
      cli_file_error(path, &err);
      rc = CLI_DATA_ERROR;
      break;
    }
    if (!s)
      break;
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      pixel *np = realloc(px, cap * sizeof *np);
      if (np)
        px = np;
      if (!np) {
        cs_spectrum_free(s);
        fprintf(stderr, "calcspec: %s: out of memory\n", path);
        rc = CLI_DATA_ERROR;
        break;
      }
    }
    size_t i = n++;
    pixel *p = &px[i];
    memset(p, 0, sizeof *p);
    int pos = position(s, i, &p->x, &p->y);
    if (pos) {
      cs_spectrum_free(s);
      if (pos == -1)
        fprintf(stderr, "calcspec: %s: spectrum %zu has no stage position "
                "(position_um): not a map\n", path, i);
      else
        fprintf(stderr, "calcspec: %s: spectrum %zu: stage position %g, %g um "
                "is beyond +-%g um\n", path, i, p->x, p->y, POS_MAX_UM);
      rc = CLI_DATA_ERROR;
      break;
    }
    fig_spec f;
    fig_analyse(&ctx, s, 0, 0, &f);
    p->cls = -1;
    p->value = NAN;
    long best = 0, note = 0;
    if (f.classified) {
      nclassified++;
      if (!first_model) {
        first_model = f.model;
        for (size_t g = 0; g < cs_model_class_count(f.model) && g < CS_MAX_CLASSES; g++)
          snprintf(classes[ncls++], CS_CLASS_NAME_MAX, "%s", cs_model_class_name(f.model, g));
        snprintf(classes[ncls++], CS_CLASS_NAME_MAX, "unknown");
      }
      for (size_t g = 0; g < ncls; g++)
        if (!strcmp(classes[g], f.rep.result.label))
          p->cls = (int)g;
      best = strtab_add(&names, f.rep.result.best);
      for (size_t g = 0; g < f.rep.result.nclass; g++)
        p->pbest = fmax(p->pbest, f.rep.result.posterior[g]);
      p->qc = f.rep.qc.flags;
    } else {
      char t[151];
      snprintf(t, sizeof t, "%.150s", f.class_note);
      note = strtab_add(&names, t);
    }
    if (best < 0 || note < 0) {
      fprintf(stderr, "calcspec: %s: out of memory\n", path);
      rc = CLI_DATA_ERROR;
    }
    p->best = (unsigned)best;
    p->note = (unsigned)note;
    if (p->cls >= 0)
      count[p->cls]++;
    else
      count[CS_MAX_CLASSES + 1]++;
    if (value) {
      p->value = value_of(value, &f, s);
      if (isfinite(p->value)) {
        vmin = fmin(vmin, p->value);
        vmax = fmax(vmax, p->value);
      }
    }
    fig_spec_free(&f);
    cs_spectrum_free(s);
  }
  cli_reader_close(&rd);
  if (!rc) {
    xs = malloc(n * sizeof *xs), ys = malloc(n * sizeof *ys);
    ux = malloc(n * sizeof *ux), uy = malloc(n * sizeof *uy);
    if (!xs || !ys || !ux || !uy) {
      fprintf(stderr, "calcspec: %s: out of memory\n", path);
      rc = CLI_DATA_ERROR;
    }
  }
  if (rc) {
    cli_progress_end(&prog);
    fig_ctx_free(&ctx);
    free(px), free(xs), free(ys), free(ux), free(uy);
    strtab_free(&names);
    return rc;
  }
  cli_progress_end(&prog);
  if (!value && !nclassified)
    cli_note("%s: no spectrum could be classified (%s); try --value intensity", path,
             names.s[px[0].note]);
  /* the grid */
  double xr = 0, yr = 0;
  for (size_t i = 0; i < n; i++) {
    xs[i] = px[i].x;
    ys[i] = px[i].y;
  }
  {
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
      lo = fmin(lo, xs[i]), hi = fmax(hi, xs[i]);
    xr = hi - lo;
    lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
      lo = fmin(lo, ys[i]), hi = fmax(hi, ys[i]);
    yr = hi - lo;
  }
  double tol = 1e-6 * fmax(fmax(xr, yr), 1e-9);
  size_t ncol = distinct(xs, n, tol, ux), nrow = distinct(ys, n, tol, uy);
  double dx = INFINITY, dy = INFINITY;
  for (size_t i = 1; i < ncol; i++)
    dx = fmin(dx, ux[i] - ux[i - 1]);
  for (size_t i = 1; i < nrow; i++)
    dy = fmin(dy, uy[i] - uy[i - 1]);
  if (!isfinite(dx))
    dx = isfinite(dy) ? dy : 1;
  if (!isfinite(dy))
    dy = dx;
  for (size_t i = 0; i < n; i++) {
    px[i].col = nearest(ux, ncol, px[i].x);
    px[i].row = nearest(uy, nrow, px[i].y);
  }
  /* the picture: map area left, legend or colour bar right */
  const double W = 720, m = 18;
  double ax0 = ux[0] - dx / 2, ax1 = ux[ncol - 1] + dx / 2;
  double ay0 = uy[0] - dy / 2, ay1 = uy[nrow - 1] + dy / 2;
  double areaw = 440, areah = 420;
  double sc = fmin(areaw / (ax1 - ax0), areah / (ay1 - ay0)); /* pt per um */
  dr_axes a = {70, 60, (ax1 - ax0) * sc, (ay1 - ay0) * sc, ax0, ax1, ay0, ay1};
  /* page height: the map with its scale bar, or the legend, whichever is taller */
  double legend_h = value ? 320 : 30 + 20.0 * (ncls + 1);
  double H = fmax(a.py + a.ph + 90, 70 + legend_h + 40);
  dr_doc doc;
  char msg[256];
  if (dr_open(&doc, out, kind, W, H, msg, sizeof msg)) {
    fprintf(stderr, "calcspec: %s: %s\n", out, msg);
    rc = CLI_DATA_ERROR;
  } else {
    cairo_t *cr = doc.cr;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    dr_set(cr, dr_hex(DR_OI_BLACK));
    dr_font(cr, 12, 1);
    dr_textf(cr, m, m + 10, 0, "%s: %s", base, value ? value_label(value) : "class");
    dr_font(cr, 9.5, 0);
    dr_set(cr, dr_hex(0x555555));
    dr_textf(cr, m, m + 24, 0, "%zu spectra on a %zu \u00d7 %zu grid, step %.3g \u00d7 %.3g \u00b5m",
             n, ncol, nrow, dx, dy);
    for (size_t i = 0; i < n; i++) {
      const pixel *p = &px[i];
      double x0 = dr_ax_x(&a, p->x - dx / 2), y0 = dr_ax_y(&a, p->y + dy / 2);
      double w = dx * sc, h = dy * sc;
      int has = value ? isfinite(p->value) : p->cls >= 0;
      if (!has) {
        nodata_fill(cr, x0, y0, w, h);
        continue;
      }
      dr_rgb col = value ? dr_viridis(vmax > vmin ? (p->value - vmin) / (vmax - vmin) : 0.5)
                         : dr_class_colour(classes[p->cls]);
      dr_set(cr, col);
      /* a hair larger, so anti-aliasing leaves no seams between pixels */
      cairo_rectangle(cr, x0 - 0.05, y0 - 0.05, w + 0.1, h + 0.1);
      cairo_fill(cr);
    }
    dr_axes_draw(cr, &a, "x / \u00b5m", "y / \u00b5m", 9.5);
    /* scale bar: a nice length near a quarter of the map width */
    double len = dr_nice((ax1 - ax0) / 4, 1);
    double sbx = a.px, sby = a.py + a.ph + 46;
    cairo_set_line_width(cr, 3);
    dr_set(cr, dr_hex(DR_OI_BLACK));
    cairo_move_to(cr, sbx, sby);
    cairo_line_to(cr, sbx + len * sc, sby);
    cairo_stroke(cr);
    dr_font(cr, 9.5, 0);
    dr_textf(cr, sbx + len * sc + 6, sby + 3.5, 0, "%g \u00b5m", len);
    /* legend / colour bar */
    double lx = 540, ly = 70;
    if (!value) {
      dr_font(cr, 10, 1);
      dr_set(cr, dr_hex(DR_OI_BLACK));
      dr_text(cr, lx, ly, 0, "class (spectra)");
      ly += 8;
      dr_font(cr, 9.5, 0);
      for (size_t g = 0; g < ncls; g++) {
        dr_set(cr, dr_class_colour(classes[g]));
        cairo_rectangle(cr, lx, ly, 14, 14);
        cairo_fill(cr);
        dr_set(cr, dr_hex(DR_OI_BLACK));
        dr_textf(cr, lx + 20, ly + 11, 0, "%s (%zu)", classes[g], count[g]);
        ly += 20;
      }
      if (count[CS_MAX_CLASSES + 1]) {
        nodata_fill(cr, lx, ly, 14, 14);
        dr_set(cr, dr_hex(DR_OI_BLACK));
        dr_textf(cr, lx + 20, ly + 11, 0, "not classified (%zu)", count[CS_MAX_CLASSES + 1]);
        ly += 20;
      }
    } else {
      dr_font(cr, 10, 1);
      dr_set(cr, dr_hex(DR_OI_BLACK));
      dr_text(cr, lx, ly, 0, value_label(value));
      ly += 10;
      double bh = 260, bw = 18;
      size_t nnone = 0;
      for (size_t i = 0; i < n; i++)
        nnone += !isfinite(px[i].value);
      if (vmin <= vmax) {
        /* one gradient, not 256 thin boxes: their anti-aliased edges
         * showed as stripes */
        cairo_pattern_t *g = cairo_pattern_create_linear(0, ly + bh, 0, ly);
        for (int k = 0; k <= 32; k++) {
          dr_rgb vc = dr_viridis(k / 32.0);
          cairo_pattern_add_color_stop_rgb(g, k / 32.0, vc.r, vc.g, vc.b);
        }
        cairo_set_source(cr, g);
        cairo_rectangle(cr, lx, ly, bw, bh);
        cairo_fill(cr);
        cairo_pattern_destroy(g);
        double lo = vmin, hi = vmax;
        if (!(hi > lo)) {
          lo -= 0.5;
          hi += 0.5;
        }
        dr_axes ca = {lx, ly, bw, bh, 0, 1, lo, hi};
        cairo_set_line_width(cr, 0.8);
        dr_set(cr, dr_hex(DR_OI_BLACK));
        cairo_rectangle(cr, lx, ly, bw, bh);
        cairo_stroke(cr);
        double first, step;
        int dec, nt = dr_ticks(lo, hi, 6, &first, &step, &dec);
        dr_font(cr, 9, 0);
        for (int k = 0; k < nt; k++) {
          double t = first + k * step, py = dr_ax_y(&ca, t);
          cairo_move_to(cr, lx + bw, py);
          cairo_line_to(cr, lx + bw + 4, py);
          cairo_stroke(cr);
          dr_textf(cr, lx + bw + 7, py + 3.2, 0, "%.*f", dec, t);
        }
        ly += bh + 16;
      }
      if (nnone) {
        nodata_fill(cr, lx, ly, 14, 14);
        dr_set(cr, dr_hex(DR_OI_BLACK));
        dr_font(cr, 9.5, 0);
        dr_textf(cr, lx + 20, ly + 11, 0, "no value (%zu)", nnone);
      }
    }
    dr_set(cr, dr_hex(0x555555));
    dr_font(cr, 8.5, 0);
    dr_text(cr, m, H - m + 2, 0, DR_DISCLAIMER);
    dr_textf(cr, W - m, H - m + 2, 2, "calcspec %s", cs_version());
    if (dr_close(&doc, msg, sizeof msg)) {
      fprintf(stderr, "calcspec: %s: %s\n", out, msg);
      rc = CLI_DATA_ERROR;
    }
  }
  if (table) {
    FILE *t = fopen(table, "w");
    if (!t) {
      fprintf(stderr, "calcspec: %s: cannot write table\n", table);
      rc = CLI_DATA_ERROR;
    } else {
      fprintf(t, "index\tx_um\ty_um\tcol\trow\tclass\tbest\tp_best\t%s\tqc_flags\tnote\n",
              value ? value : "value");
      for (size_t i = 0; i < n; i++) {
        const pixel *p = &px[i];
        char q[200];
        fig_qc_text(p->qc, q, sizeof q);
        fprintf(t, "%zu\t%.10g\t%.10g\t%d\t%d\t%s\t%s\t", i, p->x, p->y, p->col, p->row,
                p->cls >= 0 ? classes[p->cls] : "", names.s[p->best]);
        if (p->cls >= 0)
          fprintf(t, "%.4f", p->pbest);
        putc('\t', t);
        if (isfinite(p->value))
          fprintf(t, "%.10g", p->value);
        fprintf(t, "\t%s\t%s\n", p->cls >= 0 ? q : "", names.s[p->note]);
      }
      if (fclose(t)) {
        fprintf(stderr, "calcspec: %s: cannot write table\n", table);
        rc = CLI_DATA_ERROR;
      }
    }
  }
  fig_ctx_free(&ctx);
  free(px), free(xs), free(ys), free(ux), free(uy);
  strtab_free(&names);
  dr_shutdown();
  return rc;
}
