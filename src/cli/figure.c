/* figure.c: analysis and panels of one spectrum (see figure.h). */
#include "figure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fig_ctx_open(fig_ctx *c, const char *model_path, const char *cal_path) {
  memset(c, 0, sizeof *c);
  c->want_corrected = 1;
  if (cli_models_open(&c->models, model_path))
    return -1;
  if (cal_path) {
    cs_calibration cal;
    cs_error err;
    if (cs_calibration_load(cal_path, &cal, &err)) {
      cli_file_error(cal_path, &err);
      cli_models_free(&c->models);
      return -1;
    }
    if (cal.technique == CS_TECH_RAMAN || cal.technique == CS_TECH_FTIR) {
      c->cal[cal.technique] = cal;
      c->have_cal[cal.technique] = 1;
    }
  }
  return 0;
}

void fig_ctx_free(fig_ctx *c) { cli_models_free(&c->models); }

static const cs_calibration *calibration_for(fig_ctx *c, cs_technique t) {
  if (t != CS_TECH_RAMAN && t != CS_TECH_FTIR)
    return NULL;
  if (!c->have_cal[t])
    c->have_cal[t] = cs_calibration_default(t, &c->cal[t], NULL) ? -1 : 1;
  return c->have_cal[t] > 0 ? &c->cal[t] : NULL;
}

void fig_spec_free(fig_spec *f) {
  cs_spectrum_free(f->raw);
  cs_spectrum_free(f->corr);
  free(f->base);
  cs_free(f->fit);
  memset(f, 0, sizeof *f);
}

/* The line "NAME SPEC" of pipeline text, copied into buf; 0 when found. */
static int pipeline_step(const char *text, const char *name, char *buf,
                         size_t cap) {
  size_t nl = strlen(name);
  for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (!strncmp(l, name, nl) && l[nl] == ' ') {
      const char *e = strchr(l, '\n');
      size_t n = e ? (size_t)(e - l - nl - 1) : strlen(l + nl + 1);
      snprintf(buf, cap, "%.*s", (int)n, l + nl + 1);
      return 0;
    }
  return -1;
}

/* Raw (converted, sorted, cropped) and, with a baseline, the corrected
 * spectrum and its baseline. */
static void make_arrays(fig_ctx *c, const cs_spectrum *s, double rlo,
                        double rhi, fig_spec *f) {
  cs_error err;
  cs_pipeline *p = NULL;
  cs_spectrum *conv = NULL;
  /* 1: convert and sort only, to learn the axis range */
  if (cs_pipeline_new(&p, &err) || cs_pipeline_apply(p, s, &conv, NULL, &err)) {
    snprintf(f->base_note, sizeof f->base_note, "no baseline: %.140s", err.msg);
    cs_pipeline_free(p);
    cs_spectrum_copy(s, &f->raw, NULL);
    if (f->raw) {
      const double *x = cs_spectrum_x(f->raw);
      size_t n = cs_spectrum_n(f->raw);
      f->lo = fmin(x[0], x[n - 1]);
      f->hi = fmax(x[0], x[n - 1]);
    }
    return;
  }
  const double *x = cs_spectrum_x(conv);
  size_t n = cs_spectrum_n(conv);
  double dlo = x[0], dhi = x[n - 1];
  double lo = dlo, hi = dhi;
  if (rlo < rhi) {
    lo = fmax(rlo, dlo);
    hi = fmin(rhi, dhi);
  } else if (f->model) {
    double wlo, whi;
    cs_model_window(f->model, &wlo, &whi);
    if (wlo >= dlo && whi <= dhi) {
      lo = wlo;
      hi = whi;
    }
  }
  if (!(hi > lo)) {
    lo = dlo;
    hi = dhi;
  }
  f->lo = lo;
  f->hi = hi;
  if (!(lo == dlo && hi == dhi) && cs_pipeline_set_crop(p, lo, hi, NULL) == CS_OK) {
    cs_spectrum *cr = NULL;
    if (cs_pipeline_apply(p, s, &cr, NULL, NULL) == CS_OK) {
      cs_spectrum_free(conv);
      conv = cr;
    }
  }
  f->raw = conv;
  /* 2: the baseline the model uses (or --baseline), after its spikes step */
  char spec[512] = "", spikes[64] = "";
  const char *mp = f->model ? cs_model_pipeline(f->model) : "";
  if (c->baseline)
    snprintf(spec, sizeof spec, "%s", c->baseline);
  else if (pipeline_step(mp, "baseline", spec, sizeof spec))
    snprintf(spec, sizeof spec, "%s",
             cs_spectrum_technique(conv) == CS_TECH_FTIR ? "arpls" : "imodpoly:poly_order=5");
  pipeline_step(mp, "spikes", spikes, sizeof spikes);
  if (!strcmp(spec, "off") || !strcmp(spec, "none")) {
    snprintf(f->base_note, sizeof f->base_note, "no baseline (--baseline off)");
    cs_pipeline_free(p);
    return;
  }
  if ((spikes[0] && cs_pipeline_set_step(p, "spikes", spikes, &err)) ||
      cs_pipeline_set_step(p, "baseline", spec, &err)) {
    snprintf(f->base_note, sizeof f->base_note, "no baseline: %.140s", err.msg);
    cs_pipeline_free(p);
    return;
  }
  size_t m = cs_pipeline_max_points(p, s);
  f->base = calloc(m ? m : 1, sizeof *f->base);
  if (!f->base || cs_pipeline_apply(p, s, &f->corr, f->base, &err)) {
    snprintf(f->base_note, sizeof f->base_note, "no baseline: %.140s",
             f->base ? err.msg : "out of memory");
    free(f->base);
    f->base = NULL;
  } else {
    char *colon = strchr(spec, ':');
    snprintf(f->base_note, sizeof f->base_note, "baseline (%.*s%s)",
             colon ? (int)(colon - spec) : (int)strlen(spec), spec,
             c->baseline ? "" : ", as the model");
  }
  cs_pipeline_free(p);
}

int fig_analyse(fig_ctx *c, const cs_spectrum *s, double range_lo,
                double range_hi, fig_spec *f) {
  memset(f, 0, sizeof *f);
  cs_error err;
  const char *syn = cs_spectrum_meta(s, "synthetic");
  f->synthetic = syn && !strcmp(syn, "yes");
  f->model = cli_models_for(&c->models, s, &err);
  if (!f->model)
    snprintf(f->class_note, sizeof f->class_note, "not classified: %.480s", err.msg);
  else if (cs_classify_spectrum(f->model, s, NULL, &f->rep, &err))
    snprintf(f->class_note, sizeof f->class_note, "not classified: %.480s", err.msg);
  else if (!f->rep.classified)
    snprintf(f->class_note, sizeof f->class_note, "not classified: %.480s",
             f->rep.result.reason[0] ? f->rep.result.reason
                                     : "outside the model window");
  else {
    f->classified = 1;
    const cs_calibration *cal = calibration_for(c, cs_model_technique(f->model));
    if (cs_composition_measure(s, f->rep.result.label, cal, &f->comp, &err) == CS_OK)
      f->have_comp = 1;
    /* classes without a band fit (tissue, calcite, FTIR) say nothing */
    if (c->want_fit &&
        cs_composition_fit_curves(s, f->rep.result.label, &f->fit, &err) &&
        err.code != CS_ERR_UNSUPPORTED)
      snprintf(f->fit_note, sizeof f->fit_note, "no band fit: %.180s", err.msg);
  }
  if (c->want_corrected)
    make_arrays(c, s, range_lo, range_hi, f);
  return 0;
}

void fig_qc_text(unsigned flags, char *buf, size_t cap) {
  buf[0] = '\0';
  for (unsigned b = 0; b < CS_QC_NFLAGS; b++)
    if (flags & (1u << b)) {
      size_t n = strlen(buf);
      snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", cs_qc_flag_name(1u << b));
    }
  if (!buf[0])
    snprintf(buf, cap, "none");
}

void fig_carbonate_text(const cs_composition *c, char *buf, size_t cap) {
  if (!(c->valid & CS_COMP_CARBONATE))
    snprintf(buf, cap, "n/a");
  else if (c->carbonate_censored) /* below the library's limit of detection */
    snprintf(buf, cap, "< LOD (%.1f wt%%)", c->carbonate_lod);
  else
    snprintf(buf, cap, "%.1f wt%% (95 %% CI %.1f\u2013%.1f)", c->carbonate_wt,
             c->carbonate_lo, c->carbonate_hi);
}

void fig_class_text(const fig_spec *f, char *buf, size_t cap) {
  if (!f->classified)
    snprintf(buf, cap, "not classified");
  else if (f->rep.result.subtype[0])
    snprintf(buf, cap, "%s (%s)", f->rep.result.label, f->rep.result.subtype);
  else
    snprintf(buf, cap, "%s", f->rep.result.label);
}

static void legend_entry(cairo_t *cr, double x, double y, dr_rgb c,
                         double dash, const char *label, double fs) {
  cairo_save(cr);
  dr_set(cr, c);
  cairo_set_line_width(cr, 2);
  if (dash > 0) {
    double d[2] = {dash, dash * 0.6};
    cairo_set_dash(cr, d, 2, 0);
  }
  cairo_move_to(cr, x, y - fs * 0.35);
  cairo_line_to(cr, x + 22, y - fs * 0.35);
  cairo_stroke(cr);
  cairo_restore(cr);
  dr_set(cr, dr_hex(DR_OI_BLACK));
  dr_text(cr, x + 28, y, 0, label);
}

/* "Corrected / counts" etc. */
static const char *corr_label(const cs_spectrum *r) {
  switch (cs_spectrum_quantity(r)) {
  case CS_Q_COUNTS: return "Corrected / counts";
  case CS_Q_COUNTS_PER_S: return "Corrected / counts s\u207b\u00b9";
  case CS_Q_ABSORBANCE: return "Corrected absorbance";
  default: return "Corrected / a.u.";
  }
}

void fig_draw_spectrum(cairo_t *cr, const fig_spec *f, unsigned what,
                       double x, double y, double w, double h, double fs) {
  if (!f->raw)
    return;
  const cs_spectrum *r = f->raw;
  int ftir = cs_spectrum_axis(r) == CS_AXIS_WAVENUMBER;
  if (!f->corr)
    what &= FIG_RAW;
  dr_font(cr, fs, 0);
  double lab_w = dr_text_width(cr, "-00000.0") + 2.2 * fs;
  /* legend row above the panel, so it never hides a band */
  double leg = what ? 1.6 * fs : 0;
  dr_axes a = {x + lab_w, y + leg + 2, w - lab_w - 6, h - leg - 2.6 * fs - 14,
               ftir ? f->hi : f->lo, ftir ? f->lo : f->hi, 0, 1};
  double y0 = INFINITY, y1 = -INFINITY, t0, t1;
  if (what & FIG_RAW) {
    dr_auto_y(cs_spectrum_y(r), cs_spectrum_n(r), cs_spectrum_x(r), f->lo, f->hi, &t0, &t1);
    y0 = fmin(y0, t0);
    y1 = fmax(y1, t1);
  }
  if (what & FIG_CORRECTED) {
    dr_auto_y(cs_spectrum_y(f->corr), cs_spectrum_n(f->corr), cs_spectrum_x(f->corr), f->lo, f->hi, &t0, &t1);
    y0 = fmin(y0, t0);
    y1 = fmax(y1, t1);
  }
  if (f->base && (what & FIG_BASELINE)) {
    dr_auto_y(f->base, cs_spectrum_n(f->corr), cs_spectrum_x(f->corr), f->lo, f->hi, &t0, &t1);
    y0 = fmin(y0, t0);
    y1 = fmax(y1, t1);
  }
  if (!isfinite(y0)) {
    y0 = 0;
    y1 = 1;
  }
  a.y0 = y0;
  a.y1 = y1;
  dr_axes_draw(cr, &a, dr_axis_label(cs_spectrum_axis(r)),
               what == FIG_CORRECTED ? corr_label(r) : dr_quantity_label(cs_spectrum_quantity(r)), fs);
  if ((what & FIG_CORRECTED) && a.y0 < 0 && a.y1 > 0) {
    static const double zero[2] = {0, 0};
    double zx[2] = {f->lo, f->hi};
    dr_curve(cr, &a, zx, zero, 2, dr_hex(DR_LIGHT), 0.6, 0);
  }
  if (what & FIG_RAW)
    dr_curve(cr, &a, cs_spectrum_x(r), cs_spectrum_y(r), cs_spectrum_n(r),
             dr_hex(DR_OI_BLACK), 0.9, 0);
  if (f->base && (what & FIG_BASELINE))
    dr_curve(cr, &a, cs_spectrum_x(f->corr), f->base, cs_spectrum_n(f->corr),
             dr_hex(DR_OI_ORANGE), 1.6, 6);
  if (what & FIG_CORRECTED)
    dr_curve(cr, &a, cs_spectrum_x(f->corr), cs_spectrum_y(f->corr),
             cs_spectrum_n(f->corr), dr_hex(DR_OI_BLUE), 1.0, 0);
  double lx = a.px;
  dr_font(cr, fs, 0);
  if (what & FIG_RAW) {
    legend_entry(cr, lx, y + fs, dr_hex(DR_OI_BLACK), 0, "raw", fs);
    lx += 28 + dr_text_width(cr, "raw") + 16;
  }
  if (what & FIG_BASELINE) {
    legend_entry(cr, lx, y + fs, dr_hex(DR_OI_ORANGE), 6, f->base_note, fs);
    lx += 28 + dr_text_width(cr, f->base_note) + 16;
  }
  if (what & FIG_CORRECTED)
    legend_entry(cr, lx, y + fs, dr_hex(DR_OI_BLUE), 0,
                 "corrected (raw \u2212 baseline, despiked)", fs);
  if (!f->corr && f->base_note[0]) {
    dr_set(cr, dr_hex(DR_OI_VERMILLION));
    dr_text_fit(cr, lx, y + fs, a.px + a.pw - lx, f->base_note);
  }
}

int fig_can_draw_fit(const fig_spec *f) { return f->fit != NULL; }

/* Text on a white box so that a curve under it does not hide it; the
 * colour in effect is kept for the text. */
static void boxed_text(cairo_t *cr, double x, double y, double fs, const char *s) {
  cairo_pattern_t *col = cairo_pattern_reference(cairo_get_source(cr));
  double w = dr_text_width(cr, s);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_rectangle(cr, x - 2, y - fs, w + 4, fs * 1.3);
  cairo_fill(cr);
  cairo_set_source(cr, col);
  cairo_pattern_destroy(col);
  dr_text(cr, x, y, 0, s);
}

static int is_oxalate_fit(const cs_fit_curves *c) {
  return c->ncomp && !strncmp(c->names[0], "COM", 3);
}

/* Colour of a fit component: the minerals by their class colours where
 * they have one, tissue bands all orange (one legend entry). */
static dr_rgb comp_colour(const char *name, int *group) {
  static const struct {
    const char *prefix;
    unsigned rgb;
    int group;
  } t[] = {{"nu1 PO4", DR_OI_BLUE, 0},      {"whitlockite", DR_OI_PURPLE, 1},
           {"nu3 PO4", DR_OI_SKY, 2},       {"nu2 PO4", DR_OI_SKY, 2},
           {"nu1 CO3", DR_OI_GREEN, 3},     {"COM", DR_OI_VERMILLION, 5},
           {"COD", DR_OI_BLUE, 6}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (!strncmp(name, t[i].prefix, strlen(t[i].prefix))) {
      *group = t[i].group;
      return dr_hex(t[i].rgb);
    }
  *group = 4; /* tissue: phenylalanine, collagen, lipid, carotene, amide III, CH2 */
  return dr_hex(DR_OI_ORANGE);
}

static const char *group_label(int g) {
  static const char *const l[] = {"\u03bd\u2081 PO\u2084", "whitlockite",
                                  "\u03bd\u2083/\u03bd\u2082 PO\u2084",
                                  "\u03bd\u2081 CO\u2083 (B type)", "tissue bands",
                                  "COM 1462", "COD 1477"};
  return g >= 0 && g < 7 ? l[g] : "";
}

/* Legend entry drawn at (*x, y), wrapping to the next row (row height rh)
 * when it would pass xmax; advances *x. */
static void legend_flow(cairo_t *cr, double *x, double *y, double x0,
                        double xmax, double rh, dr_rgb c, double dash,
                        const char *label, double fs) {
  double w = 28 + dr_text_width(cr, label) + fs;
  if (*x + w > xmax && *x > x0) {
    *x = x0;
    *y += rh;
  }
  legend_entry(cr, *x, *y, c, dash, label, fs);
  *x += w;
}

void fig_draw_fit(cairo_t *cr, const fig_spec *f, double x, double y, double w,
                  double h, double fs) {
  const cs_fit_curves *c = f->fit;
  const cs_composition *comp = &f->comp;
  int ox = is_oxalate_fit(c);
  double lo = ox ? 1420 : 900, hi = ox ? 1500 : 1120;
  size_t n = c->n;
  dr_font(cr, fs, 0);
  double lab_w = dr_text_width(cr, "-00000.0") + 2.2 * fs;
  double px = x + lab_w, pw = w - lab_w - 6;
  /* title, then a legend that wraps, then the fit panel and the residual
   * strip under it */
  dr_font(cr, fs, 1);
  dr_set(cr, dr_hex(DR_OI_BLACK));
  dr_text(cr, px, y + fs,
          0, ox ? "Band fit: COM 1462 / COD 1477 cm\u207b\u00b9 (Kontoyannis)"
                : "Band fit: \u03bd\u2081 PO\u2084 and carbonate (composition window)");
  dr_font(cr, fs * 0.9, 0);
  double lx = px, ly = y + 2.4 * fs, rh = 1.35 * fs;
  legend_flow(cr, &lx, &ly, px, px + pw, rh, dr_hex(DR_GREY), 0,
              "spectrum − fit baseline", fs * 0.9);
  legend_flow(cr, &lx, &ly, px, px + pw, rh, dr_hex(DR_OI_BLACK), 0, "fit (sum)", fs * 0.9);
  int shown[8] = {0};
  for (size_t k = 0; k < c->ncomp; k++) {
    int g;
    dr_rgb col = comp_colour(c->names[k], &g);
    if (shown[g])
      continue;
    shown[g] = 1;
    legend_flow(cr, &lx, &ly, px, px + pw, rh, col, 0, group_label(g), fs * 0.9);
  }
  double top = ly + 0.8 * fs, avail = y + h - top - 2.6 * fs - 10;
  double mh = avail * 0.7, gap = fs + 12, rhs = avail - mh - gap;
  dr_axes a = {px, top, pw, mh, lo, hi, 0, 1};
  /* everything above the fit's own baseline, so the bands are what the
   * panel shows (the fluorescence under them can be 100 times larger) */
  double *t = malloc(2 * (n ? n : 1) * sizeof *t), *d = t ? t + n : NULL;
  if (!t)
    return;
  for (size_t i = 0; i < n; i++)
    d[i] = c->y[i] - c->baseline[i];
  dr_auto_y(d, n, c->x, lo, hi, &a.y0, &a.y1);
  dr_axes_draw(cr, &a, NULL, "Counts above the fit baseline", fs);
  double zx[2] = {lo, hi}, zy[2] = {0, 0};
  dr_curve(cr, &a, zx, zy, 2, dr_hex(DR_LIGHT), 1.0, 0);
  dr_curve(cr, &a, c->x, d, n, dr_hex(DR_GREY), 1.0, 0);
  for (size_t k = 0; k < c->ncomp; k++) {
    int g;
    dr_rgb col = comp_colour(c->names[k], &g);
    dr_curve(cr, &a, c->x, c->comp + k * n, n, col, g == 4 ? 1.0 : 1.6, 0);
  }
  for (size_t i = 0; i < n; i++)
    t[i] = c->sum[i] - c->baseline[i];
  dr_curve(cr, &a, c->x, t, n, dr_hex(DR_OI_BLACK), 1.0, 0);
  if (!ox && (comp->valid & CS_COMP_NU1)) {
    char lab[96];
    snprintf(lab, sizeof lab, "\u03bd\u2081 %.1f cm\u207b\u00b9, FWHM %.1f", comp->nu1_pos,
             comp->nu1_fwhm);
    cairo_save(cr);
    cairo_rectangle(cr, a.px, a.py, a.pw, a.ph);
    cairo_clip(cr);
    dr_font(cr, fs * 0.9, 0);
    dr_set(cr, dr_hex(DR_OI_BLUE));
    boxed_text(cr, dr_ax_x(&a, comp->nu1_pos + comp->nu1_fwhm) + 4, a.py + 1.2 * fs,
               fs * 0.9, lab);
    cairo_restore(cr);
  }
  /* residual strip: its own scale, symmetric about 0 */
  dr_axes r = {px, top + mh + gap, pw, rhs, lo, hi, -1, 1};
  double m = 0;
  for (size_t i = 0; i < n; i++)
    if (c->x[i] >= lo && c->x[i] <= hi && isfinite(c->resid[i]))
      m = fmax(m, fabs(c->resid[i]));
  if (m > 0) {
    r.y0 = -1.1 * m;
    r.y1 = 1.1 * m;
  }
  if (rhs > 2 * fs) {
    dr_axes_draw(cr, &r, dr_axis_label(CS_AXIS_RAMAN_SHIFT), "Residual", fs);
    dr_curve(cr, &r, zx, zy, 2, dr_hex(DR_LIGHT), 1.0, 0);
    dr_curve(cr, &r, c->x, c->resid, n, dr_hex(DR_OI_BLACK), 0.8, 0);
  }
  free(t);
}

int fig_fit_table(const fig_spec *f, FILE *out) {
  const cs_fit_curves *c = f->fit;
  if (!c)
    return -1;
  fprintf(out, "x\ty\tbaseline\tsum\tresidual");
  for (size_t k = 0; k < c->ncomp; k++)
    fprintf(out, "\t%s", c->names[k]);
  fputc('\n', out);
  for (size_t i = 0; i < c->n; i++) {
    fprintf(out, "%.10g\t%.10g\t%.10g\t%.10g\t%.10g", c->x[i], c->y[i], c->baseline[i],
            c->sum[i], c->resid[i]);
    for (size_t k = 0; k < c->ncomp; k++)
      fprintf(out, "\t%.10g", c->comp[k * c->n + i]);
    fputc('\n', out);
  }
  return ferror(out) ? -1 : 0;
}

double fig_draw_posteriors(cairo_t *cr, const char (*names)[CS_CLASS_NAME_MAX],
                           const double *p, size_t n, double x, double y,
                           double w, double fs) {
  dr_font(cr, fs, 0);
  double namew = 0;
  for (size_t g = 0; g < n; g++)
    namew = fmax(namew, dr_text_width(cr, names[g]));
  double valw = dr_text_width(cr, "0.00") + 4;
  double bw = w - namew - valw - 10, row = fs * 1.45;
  for (size_t g = 0; g < n; g++) {
    double ry = y + g * row;
    const char *name = names[g];
    dr_set(cr, dr_hex(DR_OI_BLACK));
    dr_text(cr, x + namew, ry + fs, 2, name);
    cairo_set_source_rgb(cr, 0.93, 0.93, 0.93);
    cairo_rectangle(cr, x + namew + 5, ry + 0.15 * fs, bw, fs);
    cairo_fill(cr);
    double v = p[g] < 0 ? 0 : p[g] > 1 ? 1 : p[g];
    dr_set(cr, dr_class_colour(name));
    cairo_rectangle(cr, x + namew + 5, ry + 0.15 * fs, bw * v, fs);
    cairo_fill(cr);
    dr_set(cr, dr_hex(DR_OI_BLACK));
    dr_textf(cr, x + w, ry + fs, 2, "%.2f", p[g]);
  }
  return n * row;
}

/* Wrapped text, at most max_lines lines, first baseline at *y + fs;
 * advances *y by lh per line. */
void fig_wrap(cairo_t *cr, double x, double *y, double w, double lh, double fs,
              const char *s, int max_lines) {
  char line[512];
  const char *p = s;
  int lines = 0;
  while (*p && lines < max_lines) {
    size_t best = 0, n = 0;
    while (p[n]) {
      size_t m = n;
      while (p[m] && p[m] != ' ')
        m++;
      snprintf(line, sizeof line, "%.*s", (int)m, p);
      if (dr_text_width(cr, line) > w && best)
        break;
      best = m;
      n = m;
      if (!p[n])
        break;
      n++;
    }
    if (lines == max_lines - 1 && p[best])
      dr_text_fit(cr, x, *y + fs, w, p);
    else {
      snprintf(line, sizeof line, "%.*s", (int)best, p);
      dr_text_fit(cr, x, *y + fs, w, line);
    }
    p += best;
    while (*p == ' ')
      p++;
    *y += lh;
    lines++;
  }
}

static void heading(cairo_t *cr, double x, double *y, double fs, const char *s) {
  *y += 0.5 * fs;
  dr_set(cr, dr_hex(DR_OI_BLACK));
  dr_font(cr, fs, 1);
  dr_text(cr, x, *y + fs, 0, s);
  *y += 1.5 * fs;
  dr_font(cr, fs * 0.9, 0);
}

double fig_draw_facts(cairo_t *cr, const fig_spec *f, double x, double y,
                      double w, double fs, int with_comp) {
  double y0 = y, lh = fs * 1.3, sfs = fs * 0.9;
  char buf[700];
  const cs_result *r = &f->rep.result;
  heading(cr, x, &y, fs, "Class");
  fig_class_text(f, buf, sizeof buf);
  dr_font(cr, fs * 1.4, 1);
  dr_set(cr, f->classified ? dr_class_colour(r->label) : dr_hex(DR_GREY));
  dr_text_fit(cr, x, y + fs * 1.3, w, buf);
  y += fs * 1.8;
  dr_font(cr, sfs, 0);
  dr_set(cr, dr_hex(DR_OI_BLACK));
  if (!f->classified)
    fig_wrap(cr, x, &y, w, lh, sfs, f->class_note, 4);
  else if (!strcmp(r->label, "unknown")) {
    snprintf(buf, sizeof buf, "most probable: %s; %s", r->best, r->reason);
    fig_wrap(cr, x, &y, w, lh, sfs, buf, 3);
  }
  if (f->classified && f->model) {
    heading(cr, x, &y, fs, "Posterior probability");
    char names[CS_MAX_CLASSES][CS_CLASS_NAME_MAX];
    for (size_t g = 0; g < r->nclass; g++)
      snprintf(names[g], CS_CLASS_NAME_MAX, "%s", cs_model_class_name(f->model, g));
    y += fig_draw_posteriors(cr, (const char(*)[CS_CLASS_NAME_MAX])names, r->posterior,
                             r->nclass, x, y, w, sfs);
    dr_font(cr, fs * 0.85, 0);
    dr_set(cr, dr_hex(DR_OI_BLACK));
    dr_textf(cr, x, y + sfs, 0, "T\u00b2 %.3g (limit %.3g), Q %.3g (limit %.3g)", r->t2,
             r->t2_limit, r->q, r->q_limit);
    y += lh;
  }
  if (f->model && (f->classified || f->rep.qc.flags)) {
    const cs_qc *q = &f->rep.qc;
    heading(cr, x, &y, fs, "Quality control");
    fig_qc_text(q->flags, buf, sizeof buf);
    dr_set(cr, q->flags & ~(unsigned)CS_QC_SPIKES ? dr_hex(DR_OI_VERMILLION)
                                                  : dr_hex(DR_OI_BLACK));
    char line[800];
    snprintf(line, sizeof line, "flags: %s", buf);
    fig_wrap(cr, x, &y, w, lh, sfs, line, 2);
    dr_set(cr, dr_hex(DR_OI_BLACK));
    if (cs_model_technique(f->model) == CS_TECH_RAMAN)
      dr_textf(cr, x, y + sfs, 0, "SNR %.1f, fluorescence %.2g\u00d7, spikes %zu", q->snr,
               q->fluor_ratio, q->spikes);
    else /* fluorescence is a Raman measure */
      dr_textf(cr, x, y + sfs, 0, "SNR %.1f", q->snr);
    y += lh;
    dr_textf(cr, x, y + sfs, 0, "re-acquire: %s", q->reacquire ? "yes" : "no");
    y += lh;
  }
  if (with_comp && f->have_comp) {
    const cs_composition *c = &f->comp;
    heading(cr, x, &y, fs, "Composition");
    int any = 0;
    if (c->valid & CS_COMP_CARBONATE || c->carbonate_reason[0]) {
      char t[256];
      fig_carbonate_text(c, t, sizeof t);
      snprintf(buf, sizeof buf, "carbonate: %s%s%s", t,
               c->carbonate_reason[0] ? "; " : "", c->carbonate_reason);
      fig_wrap(cr, x, &y, w, lh, sfs, buf, 3);
      any = 1;
    }
    if (c->valid & CS_COMP_WHITLOCKITE) {
      dr_textf(cr, x, y + sfs, 0, "whitlockite index %.3f \u00b1 %.3f",
               c->whitlockite_index, c->whitlockite_se);
      y += lh;
      any = 1;
    }
    if (c->valid & CS_COMP_NU1) {
      dr_textf(cr, x, y + sfs, 0, "\u03bd\u2081 PO\u2084 %.1f cm\u207b\u00b9, FWHM %.1f",
               c->nu1_pos, c->nu1_fwhm);
      y += lh;
      any = 1;
    }
    if (c->valid & CS_COMP_COM) {
      dr_textf(cr, x, y + sfs, 0, "COM fraction %.2f", c->com_frac);
      y += lh;
      any = 1;
    }
    if (c->valid & CS_COMP_PROTEIN) {
      dr_textf(cr, x, y + sfs, 0, "protein/mineral %.3g", c->protein_mineral);
      y += lh;
      any = 1;
    }
    if (!any) {
      dr_text(cr, x, y + sfs, 0, "nothing measured for this class");
      y += lh;
    }
  }
  return y - y0;
}
