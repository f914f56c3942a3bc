/* cmd_report.c: `calcspec report`: a PDF with a summary page (cores and the
 * birefringence comparison) and one page per biopsy core. */
#include "figure.h"
#include "progress.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int help(void) {
  printf(
      "usage: calcspec report [--findings F] [-m model] [-c cal] DIR|FILE... -o report.pdf|.html\n\n"
      "Classifies every spectrum, measures composition and writes a PDF (or,\n"
      "for OUT ending in .html, one self-contained HTML file with the same\n"
      "content, thumbnails inline as SVG):\n"
      "a summary page (one row per biopsy core and, with --findings, the\n"
      "birefringence comparison: 2x2 table, Cohen's kappa with its 95 %%\n"
      "interval, discordant cores with their evidence), then one page per\n"
      "core (call, posteriors, carbonate with interval or '< LOD', whitlockite\n"
      "index, QC flags, a thumbnail of each spectrum with its class).  Core of\n"
      "a spectrum: its core_id metadata, else its folder (as 'calcspec cores').\n"
      "Carbonate '< LOD (L)': below the limit of detection L wt%% (see\n"
      "'calcspec cores').  Text in the PDF is real text.\n\n"
      "  -o, --output FILE       report.pdf or report.html to write (required)\n"
      "  -F, --findings FILE     birefringence findings (core_id,birefringent[,notes])\n"
      "  -m, --model FILE        model (default: built-in for each technique)\n"
      "  -c, --calibration FILE  carbonate calibration (default: built-in)\n"
      "      --title TEXT        title of the summary page\n");
  return CLI_OK;
}

typedef struct {
  char *file;
  size_t index;
  fig_spec f;
} rspec;

typedef struct {
  char id[CS_CORE_ID_MAX];
  rspec *s;
  size_t n, cap;
  int have_sum;
  cs_core sum;
  const cs_finding *finding; /* NULL when the findings do not list it */
} rcore;

typedef struct {
  dr_doc doc;
  double y; /* cursor */
  int page;
  const char *title;
} pager;

static const double PW = 595.28, PH = 841.89, M = 42; /* A4, points */

static void footer(pager *p) {
  cairo_t *cr = p->doc.cr;
  dr_font(cr, 8.5, 0);
  dr_set(cr, dr_hex(0x555555));
  cairo_set_line_width(cr, 0.5);
  cairo_move_to(cr, M, PH - M + 4);
  cairo_line_to(cr, PW - M, PH - M + 4);
  cairo_stroke(cr);
  dr_text(cr, M, PH - M + 16, 0, DR_DISCLAIMER);
  dr_textf(cr, PW - M, PH - M + 16, 2, "page %d", p->page);
}

static void new_page(pager *p) {
  footer(p);
  dr_next_page(&p->doc);
  p->page++;
  p->y = M;
}

/* Room for h more points on this page, else a new page. */
static void need(pager *p, double h) {
  if (p->y + h > PH - M - 8)
    new_page(p);
}

static void section(pager *p, const char *s) {
  need(p, 40);
  cairo_t *cr = p->doc.cr;
  p->y += 10;
  dr_font(cr, 12.5, 1);
  dr_set(cr, dr_hex(DR_OI_BLACK));
  dr_text(cr, M, p->y + 12, 0, s);
  p->y += 20;
}

static void text_line(pager *p, double fs, int bold, dr_rgb c, const char *s) {
  need(p, fs * 1.5);
  dr_font(p->doc.cr, fs, bold);
  dr_set(p->doc.cr, c);
  dr_text_fit(p->doc.cr, M, p->y + fs, PW - 2 * M, s);
  p->y += fs * 1.45;
}

static void para(pager *p, double fs, const char *s) {
  need(p, fs * 3);
  dr_font(p->doc.cr, fs, 0);
  dr_set(p->doc.cr, dr_hex(DR_OI_BLACK));
  fig_wrap(p->doc.cr, M, &p->y, PW - 2 * M, fs * 1.35, fs, s, 6);
}

static const char *biref_name(cs_biref b) {
  return b == CS_BIREF_YES ? "birefringent" : b == CS_BIREF_NO ? "not birefringent" : "unknown";
}

static void carbonate_core_text(const cs_core *k, char *buf, size_t cap) {
  if (!k->n_carbonate)
    snprintf(buf, cap, "\u2013");
  else if (k->carbonate_censored)
    snprintf(buf, cap, "< LOD (%.1f)", k->carbonate_lod);
  else
    snprintf(buf, cap, "%.1f (%.1f\u2013%.1f)", k->carbonate_mean, k->carbonate_lo,
             k->carbonate_hi);
}

static void core_flags_text(unsigned f, char *buf, size_t cap) {
  snprintf(buf, cap, "%s%s%s", f & CS_CORE_TOO_FEW ? "too few spectra" : "",
           (f & CS_CORE_TOO_FEW) && (f & CS_CORE_MANY_UNKNOWN) ? ", " : "",
           f & CS_CORE_MANY_UNKNOWN ? "many unknown" : "");
}

/* "call oxalate; 4 oxalate, 1 tissue" */
static void evidence_text(const cs_core *k, char *buf, size_t cap) {
  size_t u = (size_t)snprintf(buf, cap, "call %s;", k->call);
  int any = 0;
  for (size_t g = 0; g < k->nclass && u < cap; g++)
    if (k->count[g]) {
      u += (size_t)snprintf(buf + u, cap - u, "%s %zu %s", any ? "," : "", k->count[g],
                            k->classes[g]);
      any = 1;
    }
  if (k->unknown && u < cap)
    u += (size_t)snprintf(buf + u, cap - u, "%s %zu unknown", any ? "," : "", k->unknown);
}

/* One table row: cells at column x positions (text cut to the column). */
static void row(pager *p, const double *cx, int nc, double fs, int bold,
                const char *const *cell, const dr_rgb *colour) {
  need(p, fs * 1.6);
  cairo_t *cr = p->doc.cr;
  dr_font(cr, fs, bold);
  for (int i = 0; i < nc; i++) {
    dr_set(cr, colour ? colour[i] : dr_hex(DR_OI_BLACK));
    double right = i + 1 < nc ? cx[i + 1] - 4 : PW - M;
    dr_text_fit(cr, cx[i], p->y + fs, right - cx[i], cell[i]);
  }
  p->y += fs * 1.55;
  cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
  cairo_set_line_width(cr, 0.4);
  cairo_move_to(cr, M, p->y - fs * 0.35);
  cairo_line_to(cr, PW - M, p->y - fs * 0.35);
  cairo_stroke(cr);
}


/* The birefringence 2x2 table of the cores that have a finding and a
 * summary: a expected & birefringent, b expected & not, c not expected &
 * birefringent, d neither (as cs_agreement_2x2 takes them). */
static void tally_2x2(const rcore *cores, size_t nc, size_t *a, size_t *b,
                      size_t *c, size_t *d) {
  *a = *b = *c = *d = 0;
  for (size_t i = 0; i < nc; i++) {
    const rcore *k = &cores[i];
    if (!k->finding || !k->have_sum || k->finding->birefringent == CS_BIREF_UNKNOWN)
      continue;
    int pos = k->finding->birefringent == CS_BIREF_YES, exp = k->sum.expected_birefringent;
    if (exp && pos) ++*a;
    else if (exp) ++*b;
    else if (pos) ++*c;
    else ++*d;
  }
}
static void summary_pages(pager *p, rcore *cores, size_t nc, size_t nspec,
                          const cs_finding *fr, size_t nf, const char *model_path,
                          const char *cal_path) {
  cairo_t *cr = p->doc.cr;
  dr_font(cr, 18, 1);
  dr_set(cr, dr_hex(DR_OI_BLACK));
  dr_text(cr, M, p->y + 18, 0, p->title);
  p->y += 30;
  char buf[1024];
  snprintf(buf, sizeof buf, "%zu spectra in %zu biopsy cores.  Model: %s.  Carbonate calibration: %s.",
           nspec, nc,
           model_path ? model_path : "built-in for each technique, trained on SYNTHETIC spectra",
           cal_path ? cal_path : "built-in, fitted on SYNTHETIC spectra (calibrate with standards)");
  para(p, 9.5, buf);
  p->y += 4;
  text_line(p, 10, 1, dr_hex(DR_OI_VERMILLION), DR_DISCLAIMER);

  section(p, "Cores");
  static const double cxr[8] = {0, 55, 100, 172, 247, 332, 422, 462};
  double cx[8];
  for (int i = 0; i < 8; i++)
    cx[i] = M + cxr[i];
  const char *hdr[8] = {"core", "spectra", "call", "expected", "finding", "carbonate wt%",
                        "whitl.", "flags"};
  row(p, cx, 8, 8.5, 1, hdr, NULL);
  for (size_t i = 0; i < nc; i++) {
    const rcore *k = &cores[i];
    char n[16], carb[64], wi[16], fl[64], fin[32];
    snprintf(n, sizeof n, "%zu", k->n);
    if (k->have_sum) {
      carbonate_core_text(&k->sum, carb, sizeof carb);
      if (k->sum.n_whitlockite)
        snprintf(wi, sizeof wi, "%.3f", k->sum.whitlockite_mean);
      else
        snprintf(wi, sizeof wi, "\u2013");
      core_flags_text(k->sum.flags, fl, sizeof fl);
    } else {
      snprintf(carb, sizeof carb, "\u2013");
      snprintf(wi, sizeof wi, "\u2013");
      snprintf(fl, sizeof fl, "no spectrum classified");
    }
    snprintf(fin, sizeof fin, "%s", k->finding ? biref_name(k->finding->birefringent) : "\u2013");
    const char *cell[8] = {k->id, n, k->have_sum ? k->sum.call : "\u2013",
                           k->have_sum ? (k->sum.expected_birefringent ? "birefringent" : "not biref.") : "\u2013",
                           fin, carb, wi, fl};
    dr_rgb col[8];
    for (int j = 0; j < 8; j++)
      col[j] = dr_hex(DR_OI_BLACK);
    if (k->finding && k->have_sum && k->finding->birefringent != CS_BIREF_UNKNOWN &&
        k->sum.expected_birefringent != (k->finding->birefringent == CS_BIREF_YES))
      col[4] = dr_hex(DR_OI_VERMILLION);
    row(p, cx, 8, 8.5, 0, cell, col);
  }
  para(p, 8, "call: oxalate / phosphate / mixed / none (+calcite); expected = expected "
             "birefringent (oxalate or calcite present); finding = the pathologist's "
             "polarised-light finding; carbonate: core mean with its 95 % interval, "
             "'< LOD (L)' when below the limit of detection L wt%; whitl. = mean whitlockite index.");

  section(p, "Birefringence comparison");
  if (!fr) {
    para(p, 9.5, "No findings given (--findings FILE): no comparison.");
    return;
  }
  size_t a, b, c, d;
  tally_2x2(cores, nc, &a, &b, &c, &d);
  para(p, 9, "Expected birefringent = oxalate present or calcite present (calcite is "
             "strongly birefringent and counts as expected-birefringent).");
  p->y += 4;
  /* the 2x2 table as a grid */
  need(p, 80);
  double x0 = M + 150, cw = 120, rh = 18, y0 = p->y;
  dr_font(cr, 9, 1);
  dr_set(cr, dr_hex(DR_OI_BLACK));
  dr_text(cr, x0 + cw, y0 + 10, 1, "pathologist's finding");
  dr_font(cr, 9, 0);
  dr_text(cr, x0 + cw / 2, y0 + 10 + rh, 1, "birefringent");
  dr_text(cr, x0 + 1.5 * cw, y0 + 10 + rh, 1, "not birefringent");
  dr_font(cr, 9, 1);
  dr_text(cr, x0 - 6, y0 + 2 * rh + 12, 2, "spectroscopy: expected");
  dr_text(cr, x0 - 6, y0 + 3 * rh + 12, 2, "spectroscopy: not expected");
  y0 += rh;
  size_t cell[4] = {a, b, c, d};
  dr_font(cr, 10, 0);
  for (int i = 0; i < 4; i++) {
    double cxx = x0 + (i % 2) * cw, cyy = y0 + rh + (i / 2) * rh;
    if (i == 1 || i == 2) {
      cairo_set_source_rgb(cr, 0.99, 0.93, 0.88);
      cairo_rectangle(cr, cxx, cyy, cw, rh);
      cairo_fill(cr);
    }
    dr_set(cr, dr_hex(DR_OI_BLACK));
    dr_textf(cr, cxx + cw / 2, cyy + 12.5, 1, "%zu", cell[i]);
  }
  cairo_set_line_width(cr, 0.6);
  for (int i = 0; i <= 2; i++) {
    cairo_move_to(cr, x0 + i * cw, y0 + rh);
    cairo_line_to(cr, x0 + i * cw, y0 + 3 * rh);
    cairo_move_to(cr, x0, y0 + rh + i * rh);
    cairo_line_to(cr, x0 + 2 * cw, y0 + rh + i * rh);
  }
  cairo_stroke(cr);
  p->y = y0 + 3 * rh + 10;
  dr_font(cr, 8, 0);
  dr_set(cr, dr_hex(0x555555));
  dr_text(cr, x0 + 2 * cw + 8, y0 + 2.2 * rh, 0, "shaded: discordant");
  dr_set(cr, dr_hex(DR_OI_BLACK));
  cs_agreement ag;
  cs_error err;
  if (cs_agreement_2x2(a, b, c, d, &ag, &err)) {
    snprintf(buf, sizeof buf, "No core has both spectra and a yes/no finding: %s.", err.msg);
    para(p, 9.5, buf);
  } else {
    char kt[128], sn[16], sp[16];
    snprintf(buf, sizeof buf, "Cohen's \u03ba%s", cli_kappa_text(&ag, 3, kt, sizeof kt));
    text_line(p, 11, 1, dr_hex(DR_OI_BLACK), buf);
    snprintf(buf, sizeof buf, "Interval \u03ba \u2213 1.96 SE, SE %.3f (large-sample, Fleiss, Cohen "
             "& Everitt 1969).  %zu cores compared; agreement %zu/%zu = %.3f (chance %.3f); "
             "sensitivity %s (%zu/%zu), specificity %s (%zu/%zu), finding as reference.",
             ag.kappa_se, ag.n, a + d, ag.n, ag.observed, ag.expected,
             cli_ratio_text(a, a + c, 3, sn, sizeof sn), a, a + c,
             cli_ratio_text(d, b + d, 3, sp, sizeof sp), d, b + d);
    para(p, 9.5, buf);
  }
  section(p, "Discordant cores");
  int any = 0;
  for (size_t i = 0; i < nc; i++) {
    const rcore *k = &cores[i];
    if (!k->finding || !k->have_sum || k->finding->birefringent == CS_BIREF_UNKNOWN ||
        k->sum.expected_birefringent == (k->finding->birefringent == CS_BIREF_YES))
      continue;
    char ev[512];
    evidence_text(&k->sum, ev, sizeof ev);
    snprintf(buf, sizeof buf, "%s: finding %s, spectroscopy expects %s", k->id,
             biref_name(k->finding->birefringent),
             k->sum.expected_birefringent ? "birefringent" : "not birefringent");
    text_line(p, 10, 1, dr_hex(DR_OI_VERMILLION), buf);
    snprintf(buf, sizeof buf, "Evidence: %s.%s%s", ev, k->finding->notes[0] ? "  Finding notes: " : "",
             k->finding->notes);
    para(p, 9, buf);
    p->y += 3;
    any = 1;
  }
  if (!any)
    para(p, 9.5, "None.");
  /* cores on one side only */
  for (size_t j = 0; j < nf; j++) {
    size_t i = 0;
    while (i < nc && strcmp(cores[i].id, fr[j].core_id))
      i++;
    if (i == nc) {
      snprintf(buf, sizeof buf, "Finding without spectra: core %s (findings line %d).",
               fr[j].core_id, fr[j].line);
      para(p, 9, buf);
    }
  }
  for (size_t i = 0; i < nc; i++)
    if (!cores[i].finding) {
      snprintf(buf, sizeof buf, "Spectra without a finding: core %s.", cores[i].id);
      para(p, 9, buf);
    }
}

/* A thumbnail's caption: the class, "p 0.97 · QC: none" after it, and a
 * composition or refusal line (empty when there is none).  One text for the
 * PDF, which draws it, and the HTML, which writes it as text. */
typedef struct {
  char cls[80], post[240], comp[600];
  int comp_warn; /* comp is the refusal note (drawn in vermillion) */
} caption;

static void caption_text(const fig_spec *f, caption *c) {
  fig_class_text(f, c->cls, sizeof c->cls);
  c->post[0] = c->comp[0] = '\0';
  c->comp_warn = 0;
  if (!f->classified) {
    snprintf(c->comp, sizeof c->comp, "%s", f->class_note);
    c->comp_warn = 1;
    return;
  }
  const cs_result *res = &f->rep.result;
  double pmax = 0;
  for (size_t g = 0; g < res->nclass; g++)
    pmax = fmax(pmax, res->posterior[g]);
  char q[200];
  fig_qc_text(f->rep.qc.flags, q, sizeof q);
  snprintf(c->post, sizeof c->post, "p %.2f  \u00b7  QC: %s", pmax, q);
  if (!f->have_comp)
    return;
  const cs_composition *k = &f->comp;
  char *b = c->comp;
  size_t cap = sizeof c->comp;
  if (k->valid & CS_COMP_CARBONATE) {
    char t[128];
    fig_carbonate_text(k, t, sizeof t);
    snprintf(b, cap, "carbonate %s", t);
  }
  if (k->valid & CS_COMP_WHITLOCKITE) {
    size_t u = strlen(b);
    snprintf(b + u, cap - u, "%swhitlockite index %.3f", u ? "; " : "", k->whitlockite_index);
  }
  if (k->valid & CS_COMP_COM) {
    size_t u = strlen(b);
    snprintf(b + u, cap - u, "%sCOM fraction %.2f", u ? "; " : "", k->com_frac);
  }
}

/* One thumbnail: corrected spectrum in the class colour; with captions, the
 * file, class and caption lines above it (the HTML report writes those as
 * text instead, which keeps its SVGs free of glyph outlines). */
static void thumbnail(cairo_t *cr, const rspec *r, double x, double y, double w,
                      double h, int captions) {
  const fig_spec *f = &r->f;
  double cap = 0;
  if (captions) {
    char buf[600];
    caption c;
    caption_text(f, &c);
    const char *base = strrchr(r->file, '/');
    base = base ? base + 1 : r->file;
    dr_font(cr, 8.5, 1);
    dr_set(cr, dr_hex(DR_OI_BLACK));
    snprintf(buf, sizeof buf, "%s [%zu]", base, r->index);
    dr_text_fit(cr, x, y + 9, w, buf);
    dr_font(cr, 8.5, 1);
    dr_set(cr, f->classified ? dr_class_colour(f->rep.result.label) : dr_hex(DR_GREY));
    double cw = dr_text(cr, x, y + 21, 0, c.cls);
    dr_font(cr, 8, 0);
    dr_set(cr, dr_hex(DR_OI_BLACK));
    if (c.post[0]) {
      snprintf(buf, sizeof buf, "  %s", c.post);
      dr_text_fit(cr, x + cw, y + 21, w - cw, buf);
    }
    cap = 26;
    if (c.comp[0]) {
      dr_set(cr, c.comp_warn ? dr_hex(DR_OI_VERMILLION) : dr_hex(DR_OI_BLACK));
      dr_text_fit(cr, x, y + 32, w, c.comp);
      cap = 37;
    }
  }
  const cs_spectrum *s = f->corr ? f->corr : f->raw;
  if (!s)
    return;
  int ftir = cs_spectrum_axis(s) == CS_AXIS_WAVENUMBER;
  dr_axes a = {x + 4, y + cap, w - 8, h - cap - 16, ftir ? f->hi : f->lo,
               ftir ? f->lo : f->hi, 0, 1};
  dr_auto_y(cs_spectrum_y(s), cs_spectrum_n(s), cs_spectrum_x(s), f->lo, f->hi, &a.y0, &a.y1);
  cairo_set_line_width(cr, 0.5);
  cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
  cairo_rectangle(cr, a.px, a.py, a.pw, a.ph);
  cairo_stroke(cr);
  /* x ticks only: the shape matters here, not the counts */
  double first, step;
  int dec, n = dr_ticks(fmin(a.x0, a.x1), fmax(a.x0, a.x1), 4, &first, &step, &dec);
  dr_font(cr, 7, 0);
  dr_set(cr, dr_hex(0x555555));
  for (int i = 0; i < n; i++) {
    double t = first + i * step, px = dr_ax_x(&a, t);
    cairo_move_to(cr, px, a.py + a.ph);
    cairo_line_to(cr, px, a.py + a.ph + 3);
    cairo_stroke(cr);
    dr_textf(cr, px, a.py + a.ph + 10, 1, "%.*f", dec, t);
  }
  dr_text(cr, a.px + a.pw, a.py + a.ph + 10, 2, "cm\u207b\u00b9");
  dr_curve(cr, &a, cs_spectrum_x(s), cs_spectrum_y(s), cs_spectrum_n(s),
           f->classified ? dr_class_colour(f->rep.result.label) : dr_hex(DR_GREY), 0.8, 0);
}

static void core_pages(pager *p, const rcore *k) {
  new_page(p);
  cairo_t *cr = p->doc.cr;
  char buf[1024];
  dr_font(cr, 16, 1);
  dr_set(cr, dr_hex(DR_OI_BLACK));
  dr_textf(cr, M, p->y + 16, 0, "Biopsy core %s", k->id);
  p->y += 26;
  if (k->have_sum) {
    const cs_core *s = &k->sum;
    snprintf(buf, sizeof buf, "Call: %s  \u00b7  expected birefringent: %s", s->call,
             s->expected_birefringent ? "yes" : "no");
    text_line(p, 11, 1, dr_hex(DR_OI_BLACK), buf);
  } else
    text_line(p, 11, 1, dr_hex(DR_OI_VERMILLION), "No spectrum of this core could be classified.");
  if (k->finding) {
    int disc = k->have_sum && k->finding->birefringent != CS_BIREF_UNKNOWN &&
               k->sum.expected_birefringent != (k->finding->birefringent == CS_BIREF_YES);
    snprintf(buf, sizeof buf, "Pathologist (polarised light): %s%s",
             biref_name(k->finding->birefringent),
             k->finding->birefringent == CS_BIREF_UNKNOWN ? "" : disc ? "  \u2014  DISCORDANT" : "  \u2014  concordant");
    text_line(p, 10, 0, disc ? dr_hex(DR_OI_VERMILLION) : dr_hex(DR_OI_BLACK), buf);
    if (k->finding->notes[0]) {
      snprintf(buf, sizeof buf, "Finding notes: %s", k->finding->notes);
      para(p, 9, buf);
    }
  }
  if (k->have_sum) {
    const cs_core *s = &k->sum;
    double ytop = p->y + 6;
    /* left: counts; right: mean posteriors */
    double yy = ytop;
    dr_font(cr, 10, 1);
    dr_set(cr, dr_hex(DR_OI_BLACK));
    dr_textf(cr, M, yy + 10, 0, "Spectra: %zu", s->n);
    yy += 15;
    dr_font(cr, 9, 0);
    for (size_t g = 0; g <= s->nclass; g++) {
      const char *name = g < s->nclass ? s->classes[g] : "unknown";
      size_t cnt = g < s->nclass ? s->count[g] : s->unknown;
      dr_set(cr, dr_class_colour(name));
      cairo_rectangle(cr, M, yy + 2, 8, 8);
      cairo_fill(cr);
      dr_set(cr, dr_hex(DR_OI_BLACK));
      dr_textf(cr, M + 13, yy + 9.5, 0, "%s: %zu", name, cnt);
      yy += 12.5;
    }
    char carb[128];
    carbonate_core_text(s, carb, sizeof carb);
    yy += 3;
    if (s->n_carbonate)
      dr_textf(cr, M, yy + 9, 0, "Carbonate: %s wt%% (%zu spectra)", carb, s->n_carbonate);
    else
      dr_text(cr, M, yy + 9, 0, "Carbonate: no apatite spectrum");
    yy += 12.5;
    if (s->n_whitlockite)
      dr_textf(cr, M, yy + 9, 0, "Whitlockite index: %.3f (mean of %zu)", s->whitlockite_mean,
               s->n_whitlockite);
    else
      dr_text(cr, M, yy + 9, 0, "Whitlockite index: \u2013");
    yy += 12.5;
    char fl[64];
    core_flags_text(s->flags, fl, sizeof fl);
    dr_textf(cr, M, yy + 9, 0, "Core flags: %s", fl[0] ? fl : "none");
    yy += 12.5;
    double xr = M + 250, yr = ytop;
    dr_font(cr, 10, 1);
    dr_text(cr, xr, yr + 10, 0, "Mean posterior probability");
    yr += 15;
    yr += fig_draw_posteriors(cr, (const char(*)[CS_CLASS_NAME_MAX])s->classes,
                              s->mean_posterior, s->nclass, xr, yr, PW - M - xr, 9);
    p->y = fmax(yy, yr) + 6;
  }
  section(p, "Spectra");
  const double tw = (PW - 2 * M - 16) / 2, th = 118;
  for (size_t i = 0; i < k->n; i++) {
    if (i % 2 == 0) {
      if (p->y + th > PH - M - 8) {
        new_page(p);
        dr_font(cr, 11, 1);
        dr_set(cr, dr_hex(DR_OI_BLACK));
        dr_textf(cr, M, p->y + 11, 0, "Biopsy core %s (continued)", k->id);
        p->y += 20;
      }
    }
    thumbnail(cr, &k->s[i], M + (i % 2) * (tw + 16), p->y, tw, th, 1);
    if (i % 2 == 1 || i + 1 == k->n)
      p->y += th + 6;
  }
}

/* ---- the same report as one HTML file ----
 * Self-contained: styles inline, each thumbnail an SVG data URI (an <img>
 * is its own document, so the glyph ids cairo writes into every SVG cannot
 * collide as they would inline). */

static void h_esc(FILE *o, const char *s) {
  for (; *s; s++)
    switch (*s) {
    case '&': fputs("&amp;", o); break;
    case '<': fputs("&lt;", o); break;
    case '>': fputs("&gt;", o); break;
    case '"': fputs("&quot;", o); break;
    default: fputc(*s, o);
    }
}

static void h_colour(FILE *o, dr_rgb c) {
  fprintf(o, "#%02x%02x%02x", (int)lround(c.r * 255), (int)lround(c.g * 255),
          (int)lround(c.b * 255));
}

typedef struct {
  unsigned char *p;
  size_t n, cap;
} membuf;

static cairo_status_t mem_write(void *cl, const unsigned char *d, unsigned len) {
  membuf *m = cl;
  if (m->n + len > m->cap) {
    size_t nc = (m->n + len) * 2;
    unsigned char *t = realloc(m->p, nc);
    if (!t)
      return CAIRO_STATUS_NO_MEMORY;
    m->p = t;
    m->cap = nc;
  }
  memcpy(m->p + m->n, d, len);
  m->n += len;
  return CAIRO_STATUS_SUCCESS;
}

static void base64(FILE *o, const unsigned char *p, size_t n) {
  static const char t[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                 (i + 2 < n ? p[i + 2] : 0);
    fputc(t[v >> 18 & 63], o);
    fputc(t[v >> 12 & 63], o);
    fputc(i + 1 < n ? t[v >> 6 & 63] : '=', o);
    fputc(i + 2 < n ? t[v & 63] : '=', o);
  }
}

/* The PDF's thumbnail of r as an <img> with an SVG data URI; 0 ok. */
static int h_thumbnail(FILE *o, const rspec *r, double w, double h) {
  membuf m = {0};
  cairo_surface_t *s = cairo_svg_surface_create_for_stream(mem_write, &m, w, h);
  cairo_t *cr = cairo_create(s);
  thumbnail(cr, r, 0, 0, w, h, 0);
  cairo_destroy(cr);
  cairo_surface_finish(s);
  int bad = cairo_surface_status(s) != CAIRO_STATUS_SUCCESS;
  cairo_surface_destroy(s);
  if (!bad) {
    fprintf(o, "<img width=\"%.0f\" height=\"%.0f\" alt=\"spectrum\" src=\"data:image/svg+xml;base64,", w, h);
    base64(o, m.p, m.n);
    fputs("\">", o);
  }
  free(m.p);
  return bad ? -1 : 0;
}

static void h_posteriors(FILE *o, const char (*names)[CS_CLASS_NAME_MAX], const double *p,
                         size_t n) {
  fputs("<table class=\"post\">\n", o);
  for (size_t g = 0; g < n; g++) {
    fputs("<tr><td>", o);
    h_esc(o, names[g]);
    fprintf(o, "</td><td class=\"bar\"><span style=\"width:%.1f%%;background:", 100 * p[g]);
    h_colour(o, dr_class_colour(names[g]));
    fprintf(o, "\"></span></td><td>%.2f</td></tr>\n", p[g]);
  }
  fputs("</table>\n", o);
}

static int is_discordant(const rcore *k) {
  return k->finding && k->have_sum && k->finding->birefringent != CS_BIREF_UNKNOWN &&
         k->sum.expected_birefringent != (k->finding->birefringent == CS_BIREF_YES);
}

static void h_summary(FILE *o, const rcore *cores, size_t nc, size_t nspec,
                      const cs_finding *fr, size_t nf, const char *model_path,
                      const char *cal_path) {
  fprintf(o, "<section class=\"page\">\n<p>%zu spectra in %zu biopsy cores.  Model: ", nspec, nc);
  h_esc(o, model_path ? model_path : "built-in for each technique, trained on SYNTHETIC spectra");
  fputs(".  Carbonate calibration: ", o);
  h_esc(o, cal_path ? cal_path : "built-in, fitted on SYNTHETIC spectra (calibrate with standards)");
  fputs(".</p>\n<h2>Cores</h2>\n<table class=\"cores\">\n<tr><th>core</th><th>spectra</th>"
        "<th>call</th><th>expected</th><th>finding</th><th>carbonate wt%</th>"
        "<th>whitl.</th><th>flags</th></tr>\n", o);
  for (size_t i = 0; i < nc; i++) {
    const rcore *k = &cores[i];
    char carb[64] = "\u2013", wi[16] = "\u2013", fl[64] = "no spectrum classified";
    if (k->have_sum) {
      carbonate_core_text(&k->sum, carb, sizeof carb);
      if (k->sum.n_whitlockite)
        snprintf(wi, sizeof wi, "%.3f", k->sum.whitlockite_mean);
      core_flags_text(k->sum.flags, fl, sizeof fl);
    }
    fputs("<tr><td><a href=\"#core-", o);
    h_esc(o, k->id);
    fputs("\">", o);
    h_esc(o, k->id);
    fprintf(o, "</a></td><td>%zu</td><td>", k->n);
    h_esc(o, k->have_sum ? k->sum.call : "\u2013");
    fprintf(o, "</td><td>%s</td><td%s>%s</td><td>",
            k->have_sum ? (k->sum.expected_birefringent ? "birefringent" : "not biref.") : "\u2013",
            is_discordant(k) ? " class=\"disc\"" : "",
            k->finding ? biref_name(k->finding->birefringent) : "\u2013");
    h_esc(o, carb);
    fprintf(o, "</td><td>%s</td><td>", wi);
    h_esc(o, fl);
    fputs("</td></tr>\n", o);
  }
  fputs("</table>\n<p class=\"note\">call: oxalate / phosphate / mixed / none (+calcite); "
        "expected = expected birefringent (oxalate or calcite present); finding = the "
        "pathologist's polarised-light finding; carbonate: core mean with its 95 % interval, "
        "'&lt; LOD (L)' when below the limit of detection L wt%; whitl. = mean whitlockite "
        "index.</p>\n<h2>Birefringence comparison</h2>\n", o);
  if (!fr) {
    fputs("<p>No findings given (--findings FILE): no comparison.</p>\n</section>\n", o);
    return;
  }
  size_t a, b, c, d;
  tally_2x2(cores, nc, &a, &b, &c, &d);
  fprintf(o, "<p>Expected birefringent = oxalate present or calcite present (calcite is "
             "strongly birefringent and counts as expected-birefringent).</p>\n"
             "<table class=\"two\">\n<tr><th></th><th colspan=\"2\">pathologist's finding</th></tr>\n"
             "<tr><th></th><th>birefringent</th><th>not birefringent</th></tr>\n"
             "<tr><th>spectroscopy: expected</th><td>%zu</td><td class=\"disc\">%zu</td></tr>\n"
             "<tr><th>spectroscopy: not expected</th><td class=\"disc\">%zu</td><td>%zu</td></tr>\n"
             "</table>\n<p class=\"note\">shaded: discordant</p>\n", a, b, c, d);
  cs_agreement ag;
  cs_error err;
  if (cs_agreement_2x2(a, b, c, d, &ag, &err)) {
    fputs("<p>No core has both spectra and a yes/no finding: ", o);
    h_esc(o, err.msg);
    fputs(".</p>\n", o);
  } else {
    char kt[128], sn[16], sp[16];
    fprintf(o, "<p class=\"kappa\">Cohen's \u03ba%s</p>\n",
            cli_kappa_text(&ag, 3, kt, sizeof kt));
    fprintf(o, "<p>Interval \u03ba \u2213 1.96 SE, SE %.3f (large-sample, Fleiss, Cohen "
               "&amp; Everitt 1969).  %zu cores compared; agreement %zu/%zu = %.3f (chance %.3f); "
               "sensitivity %s (%zu/%zu), specificity %s (%zu/%zu), finding as reference.</p>\n",
            ag.kappa_se, ag.n, a + d, ag.n, ag.observed, ag.expected,
            cli_ratio_text(a, a + c, 3, sn, sizeof sn), a, a + c,
            cli_ratio_text(d, b + d, 3, sp, sizeof sp), d, b + d);
  }
  fputs("<h2>Discordant cores</h2>\n", o);
  int any = 0;
  for (size_t i = 0; i < nc; i++) {
    const rcore *k = &cores[i];
    if (!is_discordant(k))
      continue;
    char ev[512];
    evidence_text(&k->sum, ev, sizeof ev);
    fputs("<p class=\"disc-core\">", o);
    h_esc(o, k->id);
    fprintf(o, ": finding %s, spectroscopy expects %s</p>\n<p>Evidence: ",
            biref_name(k->finding->birefringent),
            k->sum.expected_birefringent ? "birefringent" : "not birefringent");
    h_esc(o, ev);
    fputs(".", o);
    if (k->finding->notes[0]) {
      fputs("  Finding notes: ", o);
      h_esc(o, k->finding->notes);
    }
    fputs("</p>\n", o);
    any = 1;
  }
  if (!any)
    fputs("<p>None.</p>\n", o);
  for (size_t j = 0; j < nf; j++) {
    size_t i = 0;
    while (i < nc && strcmp(cores[i].id, fr[j].core_id))
      i++;
    if (i == nc) {
      fputs("<p>Finding without spectra: core ", o);
      h_esc(o, fr[j].core_id);
      fprintf(o, " (findings line %d).</p>\n", fr[j].line);
    }
  }
  for (size_t i = 0; i < nc; i++)
    if (!cores[i].finding) {
      fputs("<p>Spectra without a finding: core ", o);
      h_esc(o, cores[i].id);
      fputs(".</p>\n", o);
    }
  fputs("</section>\n", o);
}

static int h_core(FILE *o, const rcore *k) {
  char buf[1024];
  fputs("<section class=\"page\" id=\"core-", o);
  h_esc(o, k->id);
  fputs("\">\n<h2>Biopsy core ", o);
  h_esc(o, k->id);
  fputs("</h2>\n", o);
  if (k->have_sum) {
    fputs("<p class=\"call\">Call: ", o);
    h_esc(o, k->sum.call);
    fprintf(o, "  \u00b7  expected birefringent: %s</p>\n",
            k->sum.expected_birefringent ? "yes" : "no");
  } else
    fputs("<p class=\"disc\">No spectrum of this core could be classified.</p>\n", o);
  if (k->finding) {
    int disc = is_discordant(k);
    fprintf(o, "<p%s>Pathologist (polarised light): %s%s</p>\n", disc ? " class=\"disc\"" : "",
            biref_name(k->finding->birefringent),
            k->finding->birefringent == CS_BIREF_UNKNOWN ? ""
            : disc                                       ? "  \u2014  DISCORDANT"
                                                         : "  \u2014  concordant");
    if (k->finding->notes[0]) {
      fputs("<p>Finding notes: ", o);
      h_esc(o, k->finding->notes);
      fputs("</p>\n", o);
    }
  }
  if (k->have_sum) {
    const cs_core *s = &k->sum;
    fprintf(o, "<div class=\"cols\"><div><p><b>Spectra: %zu</b></p>\n<ul class=\"counts\">\n", s->n);
    for (size_t g = 0; g <= s->nclass; g++) {
      const char *name = g < s->nclass ? s->classes[g] : "unknown";
      fputs("<li><span class=\"sw\" style=\"background:", o);
      h_colour(o, dr_class_colour(name));
      fputs("\"></span>", o);
      h_esc(o, name);
      fprintf(o, ": %zu</li>\n", g < s->nclass ? s->count[g] : s->unknown);
    }
    fputs("</ul>\n", o);
    char carb[128], fl[64];
    carbonate_core_text(s, carb, sizeof carb);
    if (s->n_carbonate)
      snprintf(buf, sizeof buf, "Carbonate: %s wt%% (%zu spectra)", carb, s->n_carbonate);
    else
      snprintf(buf, sizeof buf, "Carbonate: no apatite spectrum");
    fputs("<p>", o);
    h_esc(o, buf);
    if (s->n_whitlockite)
      fprintf(o, "<br>Whitlockite index: %.3f (mean of %zu)", s->whitlockite_mean,
              s->n_whitlockite);
    else
      fputs("<br>Whitlockite index: \u2013", o);
    core_flags_text(s->flags, fl, sizeof fl);
    fprintf(o, "<br>Core flags: %s</p></div>\n<div><p><b>Mean posterior probability</b></p>\n",
            fl[0] ? fl : "none");
    h_posteriors(o, (const char(*)[CS_CLASS_NAME_MAX])s->classes, s->mean_posterior, s->nclass);
    fputs("</div></div>\n", o);
  }
  fputs("<h3>Spectra</h3>\n<div class=\"thumbs\">\n", o);
  for (size_t i = 0; i < k->n; i++) {
    const rspec *r = &k->s[i];
    const char *base = strrchr(r->file, '/');
    caption c;
    caption_text(&r->f, &c);
    fputs("<figure><figcaption>", o);
    h_esc(o, base ? base + 1 : r->file);
    fprintf(o, " [%zu]<br><b style=\"color:", r->index);
    h_colour(o, r->f.classified ? dr_class_colour(r->f.rep.result.label) : dr_hex(DR_GREY));
    fputs("\">", o);
    h_esc(o, c.cls);
    fputs("</b> ", o);
    h_esc(o, c.post);
    if (c.comp[0]) {
      fputs(c.comp_warn ? "<br><span class=\"disc\">" : "<br><span>", o);
      h_esc(o, c.comp);
      fputs("</span>", o);
    }
    fputs("</figcaption>", o);
    if (h_thumbnail(o, r, 250, 90))
      return -1;
    fputs("</figure>\n", o);
  }
  fprintf(o, "</div>\n<p class=\"disclaimer\">%s</p>\n</section>\n", DR_DISCLAIMER);
  return 0;
}

/* The HTML report into out (temporary name, renamed when complete); 0 ok,
 * -1 after a message. */
static int write_html(const char *out, const char *title, const rcore *cores, size_t nc,
                      size_t nspec, const cs_finding *fr, size_t nf, const char *model_path,
                      const char *cal_path) {
  size_t L = strlen(out) + 32;
  char *tmp = malloc(L);
  if (!tmp) {
    fprintf(stderr, "calcspec: %s: out of memory\n", out);
    return -1;
  }
  snprintf(tmp, L, "%s.tmp%ld", out, (long)getpid());
  FILE *o = fopen(tmp, "w");
  if (!o) {
    fprintf(stderr, "calcspec: %s: cannot write\n", out);
    free(tmp);
    return -1;
  }
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", o);
  h_esc(o, title);
  fputs("</title>\n<style>\n"
        "body{font-family:\"DejaVu Sans\",sans-serif;max-width:52em;margin:1em auto 4em;"
        "padding:0 1em;color:#000;font-size:11pt}\n"
        "h1{font-size:18pt}h2{font-size:14pt;margin-top:1.4em}\n"
        ".page{border-top:1px solid #ccc;padding-top:.5em}\n"
        "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;"
        "border-bottom:1px solid #ddd;font-size:10pt}\n"
        ".disc{color:#D55E00}.two td.disc{background:#fdede0;color:#000}"
        ".disc-core{color:#D55E00;font-weight:bold}\n"
        ".kappa{font-weight:bold;font-size:12pt}.note{font-size:9pt;color:#555}\n"
        ".post td.bar{width:14em}.post td.bar span{display:inline-block;height:.8em}\n"
        ".cols{display:flex;gap:3em}.counts{list-style:none;padding:0}\n"
        ".sw{display:inline-block;width:.7em;height:.7em;margin-right:.4em}\n"
        ".thumbs{display:flex;flex-wrap:wrap;gap:.5em 1em}figure{margin:0}"
        "figcaption{font-size:9pt}\n"
        ".disclaimer{color:#D55E00;font-weight:bold}\n"
        "footer{position:fixed;bottom:0;left:0;right:0;background:#fff;"
        "border-top:1px solid #ccc;padding:.3em 1em;font-size:9pt;color:#555}\n"
        "</style>\n</head>\n<body>\n<h1>", o);
  h_esc(o, title);
  fprintf(o, "</h1>\n<p class=\"disclaimer\">%s</p>\n", DR_DISCLAIMER);
  h_summary(o, cores, nc, nspec, fr, nf, model_path, cal_path);
  int bad = 0;
  for (size_t g = 0; g < nc && !bad; g++)
    bad = h_core(o, &cores[g]);
  fprintf(o, "<footer>%s  \u00b7  calcspec %s</footer>\n</body>\n</html>\n", DR_DISCLAIMER,
          cs_version());
  if (ferror(o))
    bad = 1;
  if (fclose(o))
    bad = 1;
  if (bad)
    remove(tmp);
  else if (cli_install_output(tmp, out)) /* removes tmp */
    bad = 1;
  if (bad)
    fprintf(stderr, "calcspec: %s: cannot write\n", out);
  free(tmp);
  return bad ? -1 : 0;
}

/* Core of spectrum s from file path: core_id, else the folder name. */
static void core_of(const cs_spectrum *s, const char *path, char *out, size_t cap) {
  const char *c = cs_spectrum_meta(s, CS_META_CORE_ID);
  if (c && *c) {
    snprintf(out, cap, "%s", c);
    return;
  }
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  char *d = dirname(buf);
  char *b = strrchr(d, '/');
  snprintf(out, cap, "%s", b ? b + 1 : d);
}

/* Posteriors of r (model m) in the order of classes[nclass]. */
static void remap(cs_result *r, const cs_model *m, const char (*classes)[CS_CLASS_NAME_MAX],
                  size_t nclass) {
  double p[CS_MAX_CLASSES] = {0};
  for (size_t g = 0; g < nclass; g++)
    for (size_t h = 0; h < cs_model_class_count(m); h++)
      if (!strcmp(cs_model_class_name(m, h), classes[g]))
        p[g] = r->posterior[h];
  memcpy(r->posterior, p, sizeof p);
  r->nclass = nclass;
}

int cmd_report(int argc, char **argv) {
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"findings", required_argument, 0, 'F'},
                                       {"model", required_argument, 0, 'm'},
                                       {"calibration", required_argument, 0, 'c'},
                                       {"title", required_argument, 0, 'T'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *out = NULL, *findings = NULL, *model = NULL, *cal = NULL;
  const char *title = "calcspec biopsy report";
  int c;
  while ((c = getopt_long(argc, argv, "o:F:m:c:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'F': findings = optarg; break;
    case 'm': model = optarg; break;
    case 'c': cal = optarg; break;
    case 'T': title = optarg; break;
    case 'h': return help();
    default: return cli_bad_option("report", "o:F:m:c:h", opts, argc, argv);
    }
  }
  if (!out)
    return cli_usage_error("report", "-o report.pdf is required");
  dr_kind kind;
  size_t ol = strlen(out);
  int html = ol > 5 && (!strcasecmp(out + ol - 5, ".html") || !strcasecmp(out + ol - 4, ".htm"));
  if (!html && (dr_kind_of(out, NULL, &kind) || kind != DR_PDF))
    return cli_usage_error("report", "the report is a PDF or HTML: OUT must end in .pdf or .html");
  if (optind >= argc)
    return cli_usage_error("report", "no input files");
  if ((c = cli_stdin_once("report", "--findings ", findings, argv + optind,
                          argc - optind)))
    return c;
  cs_finding *fr = NULL;
  size_t nf = 0;
  cs_error err;
  if (findings) {
    const char *why;
    char *text = cli_slurp_why(findings, &why);
    if (!text) { /* why, as validate says it */
      cli_error("%s: cannot read findings file: %s", findings,
                why ? why : "out of memory");
      return CLI_DATA_ERROR;
    }
    cs_status st = cs_findings_parse(text, strlen(text), &fr, &nf, &err);
    free(text);
    if (st) {
      cli_file_error(findings, &err);
      return CLI_DATA_ERROR;
    }
  }
  fig_ctx ctx;
  if (fig_ctx_open(&ctx, model, cal)) {
    free(fr);
    return CLI_DATA_ERROR;
  }
  int nbad = 0;
  cli_files files = {0};
  cli_files_expand(&files, argv + optind, argc - optind, &nbad);
  rcore *cores = NULL;
  size_t nc = 0, capc = 0, nspec = 0;
  int oom = 0;
  cli_progress prog;
  cli_progress_start(&prog, "report", "files", files.n);
  for (size_t i = 0; i < files.n && !oom; i++, cli_progress_step(&prog)) {
    cs_dataset *ds;
    if (cli_dataset_read(files.path[i], NULL, NULL, &ds, &err)) {
      cli_file_error(files.path[i], &err);
      nbad++;
      continue;
    }
    for (size_t j = 0; j < cs_dataset_count(ds) && !oom; j++) {
      const cs_spectrum *s = cs_dataset_get(ds, j);
      char id[256]; /* a folder name, or core_id (checked when set) */
      core_of(s, files.path[i], id, sizeof id);
      if (cs_core_id_check(id, &err)) {
        cli_file_error(files.path[i], &err);
        nbad++;
        continue;
      }
      size_t g = 0;
      while (g < nc && strcmp(cores[g].id, id))
        g++;
      if (g == nc) {
        if (nc == capc) {
          size_t nn = capc ? 2 * capc : 8;
          rcore *t = realloc(cores, nn * sizeof *t);
          if (!t) {
            oom = 1;
            break;
          }
          cores = t;
          capc = nn;
        }
        memset(&cores[nc], 0, sizeof cores[nc]);
        memcpy(cores[nc].id, id, strlen(id) + 1); /* checked: fits */
        nc++;
      }
      rcore *k = &cores[g];
      if (k->n == k->cap) {
        size_t nn = k->cap ? 2 * k->cap : 8;
        rspec *t = realloc(k->s, nn * sizeof *t);
        if (!t) {
          oom = 1;
          break;
        }
        k->s = t;
        k->cap = nn;
      }
      rspec *r = &k->s[k->n];
      r->file = strdup(files.path[i]);
      r->index = j;
      if (!r->file || fig_analyse(&ctx, s, 0, 0, &r->f)) {
        free(r->file);
        oom = 1;
        break;
      }
      /* thumbnails need only the corrected spectrum (or the raw one) */
      if (r->f.corr) {
        cs_spectrum_free(r->f.raw);
        r->f.raw = NULL;
      }
      free(r->f.base);
      r->f.base = NULL;
      if (!r->f.classified) {
        fprintf(stderr, "calcspec: %s: spectrum %zu: %s\n", files.path[i], j, r->f.class_note);
        nbad++;
      }
      k->n++;
      nspec++;
    }
    cs_dataset_free(ds);
  }
  cli_progress_end(&prog);
  cli_files_free(&files);
  int rc = nbad ? CLI_DATA_ERROR : CLI_OK;
  if (oom) {
    fprintf(stderr, "calcspec: report: out of memory\n");
    rc = CLI_DATA_ERROR;
  }
  /* core summaries (classified spectra only) */
  for (size_t g = 0; g < nc && !oom; g++) {
    rcore *k = &cores[g];
    for (size_t j = 0; j < nf; j++)
      if (!strcmp(fr[j].core_id, k->id))
        k->finding = &fr[j];
    cs_result *res = calloc(k->n, sizeof *res);
    cs_composition *comp = calloc(k->n, sizeof *comp);
    char classes[CS_MAX_CLASSES][CS_CLASS_NAME_MAX];
    size_t ncl = 0, m = 0;
    for (size_t i = 0; res && comp && i < k->n; i++) {
      fig_spec *f = &k->s[i].f;
      if (!f->classified)
        continue;
      if (!ncl) {
        ncl = cs_model_class_count(f->model);
        for (size_t h = 0; h < ncl; h++)
          snprintf(classes[h], CS_CLASS_NAME_MAX, "%s", cs_model_class_name(f->model, h));
      }
      res[m] = f->rep.result;
      remap(&res[m], f->model, (const char(*)[CS_CLASS_NAME_MAX])classes, ncl);
      if (f->have_comp)
        comp[m] = f->comp;
      m++;
    }
    if (m && cs_core_summarize(k->id, res, comp, m, (const char(*)[CS_CLASS_NAME_MAX])classes,
                               ncl, NULL, &k->sum, &err) == CS_OK)
      k->have_sum = 1;
    else if (m) {
      fprintf(stderr, "calcspec: core %s: %s\n", k->id, err.msg);
      rc = CLI_DATA_ERROR;
    }
    free(res);
    free(comp);
  }
  if (!nc && !oom) {
    fprintf(stderr, "calcspec: report: no spectra\n");
    rc = CLI_DATA_ERROR;
  }
  if (nc && !oom && html) {
    if (write_html(out, title, cores, nc, nspec, fr, nf, model, cal))
      rc = CLI_DATA_ERROR;
    else
      cli_note("%s: %zu cores, %zu spectra", out, nc, nspec);
  } else if (nc && !oom) {
    pager p = {.page = 1, .y = M, .title = title};
    char msg[256];
    if (dr_open(&p.doc, out, DR_PDF, PW, PH, msg, sizeof msg)) {
      fprintf(stderr, "calcspec: %s: %s\n", out, msg);
      rc = CLI_DATA_ERROR;
    } else {
      cairo_pdf_surface_set_metadata(p.doc.surf, CAIRO_PDF_METADATA_TITLE, title);
      summary_pages(&p, cores, nc, nspec, fr, nf, model, cal);
      for (size_t g = 0; g < nc; g++)
        core_pages(&p, &cores[g]);
      footer(&p);
      if (dr_close(&p.doc, msg, sizeof msg)) {
        fprintf(stderr, "calcspec: %s: %s\n", out, msg);
        rc = CLI_DATA_ERROR;
      } else
        cli_note("%s: %d pages, %zu cores, %zu spectra", out, p.page, nc, nspec);
    }
  }
  for (size_t g = 0; g < nc; g++) {
    for (size_t i = 0; i < cores[g].n; i++) {
      free(cores[g].s[i].file);
      fig_spec_free(&cores[g].s[i].f);
    }
    free(cores[g].s);
  }
  free(cores);
  free(fr);
  fig_ctx_free(&ctx);
  dr_shutdown();
  return rc;
}
