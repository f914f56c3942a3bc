/* figure.h: what `plot`, `report` and `map` draw about one spectrum: the
 * analysis (QC, class, composition, baseline) and the panels showing it. */
#ifndef CALCSPEC_CLI_FIGURE_H
#define CALCSPEC_CLI_FIGURE_H

#include "draw.h"
#include "integ.h"

#include <stdio.h>

/* Models (given or per-technique default) and carbonate calibrations (given
 * with -c for its technique, else the built-in one). */
typedef struct fig_ctx {
  cli_models models;
  cs_calibration cal[3]; /* by cs_technique */
  int have_cal[3];       /* 0 not tried, 1 loaded, -1 none */
  const char *baseline;  /* --baseline SPEC override, or NULL */
  int want_corrected;    /* compute raw/baseline/corrected arrays */
  int want_fit;          /* compute the band fit's curves (plot) */
} fig_ctx;
/* 0 ok; -1 after printing "calcspec: PATH: reason". */
int fig_ctx_open(fig_ctx *c, const char *model_path, const char *cal_path);
void fig_ctx_free(fig_ctx *c);

typedef struct fig_spec {
  /* plotted arrays on one axis (Raman shift / wavenumber when known) */
  cs_spectrum *raw;  /* converted, sorted, cropped to [lo, hi] */
  cs_spectrum *corr; /* despiked and baseline-corrected; NULL when failed */
  double *base;      /* baseline on corr's axis */
  double lo, hi;     /* plotted range */
  char base_note[160]; /* baseline method, or why there is none */
  /* classification */
  const cs_model *model;
  int classified;    /* 1: rep.result is a class; 0: see class_note */
  cs_report rep;
  char class_note[CS_ERROR_MSG_MAX];
  int have_comp;
  cs_composition comp;
  cs_fit_curves *fit;  /* band fit curves (want_fit, Raman apatite or
                          oxalate); NULL with fit_note saying why */
  char fit_note[200];
  int synthetic;
} fig_spec;

/* Analyse s.  range_lo < range_hi crops the plot to it, else the model
 * window when s covers it, else all of s.  Never fails as a whole: what
 * cannot be done is noted in the notes.  Returns -1 only when out of
 * memory. */
int fig_analyse(fig_ctx *c, const cs_spectrum *s, double range_lo,
                double range_hi, fig_spec *f);
void fig_spec_free(fig_spec *f);

/* What the spectrum panel shows. */
enum { FIG_RAW = 1, FIG_BASELINE = 2, FIG_CORRECTED = 4 };

/* Spectrum panel inside rectangle (x, y, w, h) including axis labels and a
 * legend (fs = font size). */
void fig_draw_spectrum(cairo_t *cr, const fig_spec *f, unsigned what,
                       double x, double y, double w, double h, double fs);
/* Composition window (Raman apatite 900-1120, oxalate 1420-1500 cm^-1):
 * the spectrum as fitted, the band fit's components above its baseline,
 * their sum, and the residual in a strip below.  fig_can_draw_fit returns 0
 * when there is nothing to show (no fit curves). */
int fig_can_draw_fit(const fig_spec *f);
void fig_draw_fit(cairo_t *cr, const fig_spec *f, double x, double y,
                  double w, double h, double fs);
/* Class, posterior bars, QC and composition text in a column; returns the
 * height used. */
double fig_draw_facts(cairo_t *cr, const fig_spec *f, double x, double y,
                      double w, double fs, int with_comp);
/* Posterior bars only; returns height used. */
double fig_draw_posteriors(cairo_t *cr, const char (*names)[CS_CLASS_NAME_MAX],
                           const double *p, size_t n, double x, double y,
                           double w, double fs);
/* Wrapped text, at most max_lines lines, first baseline at *y + fs;
 * advances *y by lh per line. */
void fig_wrap(cairo_t *cr, double x, double *y, double w, double lh, double fs,
              const char *s, int max_lines);

/* The fit curves as TSV (x, y, baseline, sum, residual, one column per
 * component) into out; 0 ok. */
int fig_fit_table(const fig_spec *f, FILE *out);

/* Short texts for tables and captions. */
void fig_qc_text(unsigned flags, char *buf, size_t cap);  /* "none" if 0 */
void fig_carbonate_text(const cs_composition *c, char *buf, size_t cap);
/* The label drawn for a result: class, "oxalate (COD)", or "unknown". */
void fig_class_text(const fig_spec *f, char *buf, size_t cap);

#endif
