/* draw.h: the drawing pieces of `calcspec plot`, `report` and `map` (cairo;
 * PNG, SVG and PDF from the same code).  Coordinates are in points (1/72
 * inch); a PNG is rendered at DR_PNG_SCALE pixels per point. */
#ifndef CALCSPEC_CLI_DRAW_H
#define CALCSPEC_CLI_DRAW_H

#include <cairo.h>
#include <stddef.h>

#define DR_PNG_SCALE 1.5
#define DR_FONT "DejaVu Sans"
#define DR_DISCLAIMER "calcspec reports composition; it does not diagnose."

typedef struct dr_rgb {
  double r, g, b;
} dr_rgb;

/* Okabe & Ito (2008) colour-blind-safe palette. */
enum {
  DR_OI_BLACK = 0x000000,
  DR_OI_ORANGE = 0xE69F00,
  DR_OI_SKY = 0x56B4E9,
  DR_OI_GREEN = 0x009E73,
  DR_OI_YELLOW = 0xF0E442,
  DR_OI_BLUE = 0x0072B2,
  DR_OI_VERMILLION = 0xD55E00,
  DR_OI_PURPLE = 0xCC79A7,
  DR_GREY = 0x999999,
  DR_LIGHT = 0xDDDDDD
};
dr_rgb dr_hex(unsigned rgb);
/* One fixed colour per class name (oxalate vermillion, hydroxyapatite blue,
 * whitlockite purple, calcite orange, tissue green, unknown grey; other
 * names get the remaining palette colours by a hash). */
dr_rgb dr_class_colour(const char *cls);
/* viridis at t in [0, 1] (clamped). */
dr_rgb dr_viridis(double t);
void dr_set(cairo_t *cr, dr_rgb c);

typedef enum dr_kind { DR_PNG, DR_SVG, DR_PDF } dr_kind;
/* Kind from a format name ("png", "svg", "pdf") or, with fmt NULL, from
 * path's extension.  0 ok, -1 when neither says. */
int dr_kind_of(const char *path, const char *fmt, dr_kind *out);

/* An open picture.  The file is written under a temporary name and renamed
 * on dr_close, so nobody sees a half-written picture. */
typedef struct dr_doc {
  dr_kind kind;
  cairo_surface_t *surf;
  cairo_t *cr;
  double w, h; /* page size in points */
  char *path, *tmp;
  int pages;
} dr_doc;
/* 0 ok; -1 with msg set. */
int dr_open(dr_doc *d, const char *path, dr_kind kind, double w, double h,
            char *msg, size_t cap);
/* Start the next page (PDF; other kinds only ever have one). */
void dr_next_page(dr_doc *d);
/* Finish and rename into place.  0 ok; -1 with msg set (nothing left
 * behind). */
int dr_close(dr_doc *d, char *msg, size_t cap);
/* Give up: free everything, remove the temporary file. */
void dr_abort(dr_doc *d);

/* Text: align 0 left, 1 centre, 2 right; y is the baseline.  Returns the
 * advance width. */
void dr_font(cairo_t *cr, double size, int bold);
double dr_text(cairo_t *cr, double x, double y, int align, const char *s);
double dr_textf(cairo_t *cr, double x, double y, int align, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
double dr_text_width(cairo_t *cr, const char *s);
/* Text cut with "..." to fit max_w; returns the width drawn. */
double dr_text_fit(cairo_t *cr, double x, double y, double max_w,
                   const char *s);

/* "Nice numbers" ticks (Heckbert, Graphics Gems 1990): a step of 1, 2 or 5
 * times a power of ten giving about `want` intervals over [lo, hi]; first =
 * the first multiple of step >= lo; decimals to print them with.  Returns
 * the number of ticks in [lo, hi] (0 when the range is empty). */
int dr_ticks(double lo, double hi, int want, double *first, double *step,
             int *decimals);
/* Heckbert's nice number: x rounded (round = 1) or raised to 1, 2, 5 x
 * 10^k. */
double dr_nice(double x, int round);

/* A data panel: the rectangle (px, py, pw, ph) shows x0..x1 by y0..y1
 * (x1 < x0 for a reversed axis, as FTIR wavenumber plots run). */
typedef struct dr_axes {
  double px, py, pw, ph;
  double x0, x1, y0, y1;
} dr_axes;
double dr_ax_x(const dr_axes *a, double x);
double dr_ax_y(const dr_axes *a, double y);
/* y limits from data (padded by 5 %, finite, non-empty). */
void dr_auto_y(const double *y, size_t n, const double *x, double xlo,
               double xhi, double *y0, double *y1);
/* Frame, ticks, tick labels (fs points) and axis labels (may be NULL).
 * Large or tiny y values get a x10^k factor in the y label. */
void dr_axes_draw(cairo_t *cr, const dr_axes *a, const char *xlabel,
                  const char *ylabel, double fs);
/* A polyline of the points inside the panel (clipped). dash 0 solid, else
 * the dash length. */
void dr_curve(cairo_t *cr, const dr_axes *a, const double *x, const double *y,
              size_t n, dr_rgb c, double lw, double dash);

/* Axis label for a spectrum axis / quantity (static UTF-8). */
const char *dr_axis_label(int cs_axis_value);
const char *dr_quantity_label(int cs_quantity_value);

#endif
