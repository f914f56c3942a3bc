/* draw.c: cairo helpers shared by plot, report and map (see draw.h). */
#include "draw.h"
#include "cli.h"

#include "calcspec.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <fontconfig/fontconfig.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

dr_rgb dr_hex(unsigned v) {
  dr_rgb c = {((v >> 16) & 255) / 255.0, ((v >> 8) & 255) / 255.0,
              (v & 255) / 255.0};
  return c;
}

void dr_set(cairo_t *cr, dr_rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

dr_rgb dr_class_colour(const char *cls) {
  static const struct {
    const char *name;
    unsigned rgb;
  } fixed[] = {{"oxalate", DR_OI_VERMILLION}, {"hydroxyapatite", DR_OI_BLUE},
               {"whitlockite", DR_OI_PURPLE},  {"calcite", DR_OI_ORANGE},
               {"tissue", DR_OI_GREEN},        {"unknown", DR_GREY}};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    if (!strcmp(cls, fixed[i].name))
      return dr_hex(fixed[i].rgb);
  static const unsigned rest[] = {DR_OI_SKY, DR_OI_YELLOW, DR_OI_BLACK};
  unsigned h = 5381;
  for (const char *p = cls; *p; p++)
    h = h * 33 + (unsigned char)*p;
  return dr_hex(rest[h % 3]);
}

dr_rgb dr_viridis(double t) {
  /* viridis at 11 even stops (matplotlib's colormap, as in viridisLite) */
  static const unsigned stop[11] = {0x440154, 0x482576, 0x414487, 0x35608D,
                                    0x2A788E, 0x21908C, 0x22A884, 0x43BF71,
                                    0x7AD151, 0xBBDF27, 0xFDE725};
  if (!(t > 0))
    t = 0;
  if (t > 1)
    t = 1;
  double u = t * 10;
  int i = (int)u;
  if (i >= 10)
    i = 9;
  double f = u - i;
  dr_rgb a = dr_hex(stop[i]), b = dr_hex(stop[i + 1]);
  dr_rgb c = {a.r + f * (b.r - a.r), a.g + f * (b.g - a.g),
              a.b + f * (b.b - a.b)};
  return c;
}

int dr_kind_of(const char *path, const char *fmt, dr_kind *out) {
  const char *e = fmt;
  if (!e) {
    e = strrchr(path, '.');
    if (!e || strchr(e, '/'))
      return -1;
    e++;
  }
  if (!strcasecmp(e, "png"))
    *out = DR_PNG;
  else if (!strcasecmp(e, "svg"))
    *out = DR_SVG;
  else if (!strcasecmp(e, "pdf"))
    *out = DR_PDF;
  else
    return -1;
  return 0;
}

static void doc_free(dr_doc *d) {
  if (d->cr)
    cairo_destroy(d->cr);
  if (d->surf)
    cairo_surface_destroy(d->surf);
  free(d->path);
  free(d->tmp);
  memset(d, 0, sizeof *d);
}

static void white_page(dr_doc *d) {
  cairo_save(d->cr);
  cairo_set_source_rgb(d->cr, 1, 1, 1);
  cairo_paint(d->cr);
  cairo_restore(d->cr);
}

int dr_open(dr_doc *d, const char *path, dr_kind kind, double w, double h,
            char *msg, size_t cap) {
  memset(d, 0, sizeof *d);
  d->kind = kind;
  d->w = w;
  d->h = h;
  d->path = strdup(path);
  d->tmp = malloc(strlen(path) + 32);
  if (!d->path || !d->tmp) {
    snprintf(msg, cap, "out of memory");
    doc_free(d);
    return -1;
  }
  snprintf(d->tmp, strlen(path) + 32, "%s.tmp%ld", path, (long)getpid());
  if (kind == DR_PNG)
    d->surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
                                         (int)ceil(w * DR_PNG_SCALE),
                                         (int)ceil(h * DR_PNG_SCALE));
  else if (kind == DR_SVG)
    d->surf = cairo_svg_surface_create(d->tmp, w, h);
  else
    d->surf = cairo_pdf_surface_create(d->tmp, w, h);
  if (cairo_surface_status(d->surf) != CAIRO_STATUS_SUCCESS) {
    snprintf(msg, cap, "cannot create picture: %s",
             cairo_status_to_string(cairo_surface_status(d->surf)));
    cairo_surface_destroy(d->surf);
    d->surf = NULL;
    remove(d->tmp);
    doc_free(d);
    return -1;
  }
  if (kind == DR_PDF)
    cairo_pdf_surface_set_metadata(d->surf, CAIRO_PDF_METADATA_CREATOR,
                                   "calcspec " CS_VERSION);
  d->cr = cairo_create(d->surf);
  if (kind == DR_PNG)
    cairo_scale(d->cr, DR_PNG_SCALE, DR_PNG_SCALE);
  white_page(d);
  d->pages = 1;
  return 0;
}

void dr_next_page(dr_doc *d) {
  cairo_show_page(d->cr);
  white_page(d);
  d->pages++;
}

int dr_close(dr_doc *d, char *msg, size_t cap) {
  cairo_status_t st = cairo_status(d->cr);
  cairo_destroy(d->cr);
  d->cr = NULL;
  if (st == CAIRO_STATUS_SUCCESS && d->kind == DR_PNG)
    st = cairo_surface_write_to_png(d->surf, d->tmp);
  cairo_surface_finish(d->surf);
  if (st == CAIRO_STATUS_SUCCESS)
    st = cairo_surface_status(d->surf);
  if (st != CAIRO_STATUS_SUCCESS) {
    snprintf(msg, cap, "cannot write picture: %s", cairo_status_to_string(st));
    remove(d->tmp);
    doc_free(d);
    return -1;
  }
  if (cli_install_output(d->tmp, d->path)) {
    snprintf(msg, cap, "cannot write picture: %s",
             errno == ENXIO ? "a FIFO with no reader" : strerror(errno));
    doc_free(d);
    return -1;
  }
  doc_free(d);
  return 0;
}

void dr_abort(dr_doc *d) {
  if (d->cr)
    cairo_destroy(d->cr);
  d->cr = NULL;
  if (d->surf)
    cairo_surface_finish(d->surf);
  if (d->tmp)
    remove(d->tmp);
  doc_free(d);
}

void dr_shutdown(void) {
  cairo_debug_reset_static_data();
  FcFini();
}

void dr_font(cairo_t *cr, double size, int bold) {
  cairo_select_font_face(cr, DR_FONT, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
}

double dr_text_width(cairo_t *cr, const char *s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s, &e);
  return e.x_advance;
}

double dr_text(cairo_t *cr, double x, double y, int align, const char *s) {
  double w = dr_text_width(cr, s);
  cairo_move_to(cr, align == 0 ? x : align == 1 ? x - w / 2 : x - w, y);
  cairo_show_text(cr, s);
  return w;
}

double dr_textf(cairo_t *cr, double x, double y, int align, const char *fmt,
                ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return dr_text(cr, x, y, align, buf);
}

double dr_text_fit(cairo_t *cr, double x, double y, double max_w,
                   const char *s) {
  if (dr_text_width(cr, s) <= max_w)
    return dr_text(cr, x, y, 0, s);
  char buf[512];
  size_t n = strlen(s);
  if (n > sizeof buf - 4)
    n = sizeof buf - 4;
  while (n > 0) {
    /* cut on a UTF-8 character boundary */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
      n--;
    snprintf(buf, sizeof buf, "%.*s...", (int)n, s);
    if (dr_text_width(cr, buf) <= max_w)
      break;
    n--;
  }
  return dr_text(cr, x, y, 0, n ? buf : "...");
}

double dr_nice(double x, int round) {
  if (!(x > 0) || !isfinite(x))
    return 1;
  double e = floor(log10(x)), f = x / pow(10, e), nf;
  if (round)
    nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  else
    nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nf * pow(10, e);
}

int dr_ticks(double lo, double hi, int want, double *first, double *step,
             int *decimals) {
  if (!(hi > lo) || !isfinite(lo) || !isfinite(hi) || want < 1)
    return 0;
  double range = dr_nice(hi - lo, 0);
  double d = dr_nice(range / want, 1);
  double f = ceil(lo / d - 1e-9) * d;
  int n = 0;
  for (double t = f; t <= hi + d * 1e-9 && n < 100; t = f + (++n) * d)
    ;
  int dec = (int)-floor(log10(d) + 1e-9);
  *first = f;
  *step = d;
  *decimals = dec > 0 ? dec : 0;
  return n;
}

double dr_ax_x(const dr_axes *a, double x) {
  return a->px + (x - a->x0) / (a->x1 - a->x0) * a->pw;
}

double dr_ax_y(const dr_axes *a, double y) {
  return a->py + a->ph - (y - a->y0) / (a->y1 - a->y0) * a->ph;
}

void dr_auto_y(const double *y, size_t n, const double *x, double xlo,
               double xhi, double *y0, double *y1) {
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if ((!x || (x[i] >= xlo && x[i] <= xhi)) && isfinite(y[i])) {
      if (y[i] < lo)
        lo = y[i];
      if (y[i] > hi)
        hi = y[i];
    }
  if (!isfinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo <= 1e-12 * (fabs(hi) + fabs(lo)) || hi == lo) {
    double p = fabs(hi) > 0 ? fabs(hi) * 0.1 : 1;
    lo -= p;
    hi += p;
  }
  double pad = 0.05 * (hi - lo);
  *y0 = lo - pad;
  *y1 = hi + pad;
}

/* U+2070.. superscript digits and minus, for "x10^k" and "cm^-1". */
static void superscript(int k, char *buf, size_t cap) {
  static const char *const sup[10] = {"\u2070", "\u00b9", "\u00b2", "\u00b3",
                                      "\u2074", "\u2075", "\u2076", "\u2077",
                                      "\u2078", "\u2079"};
  char digits[16];
  snprintf(digits, sizeof digits, "%d", k < 0 ? -k : k);
  size_t u = (size_t)snprintf(buf, cap, "%s", k < 0 ? "\u207b" : "");
  for (char *p = digits; *p && u < cap; p++)
    u += (size_t)snprintf(buf + u, cap - u, "%s", sup[*p - '0']);
}

void dr_axes_draw(cairo_t *cr, const dr_axes *a, const char *xlabel,
                  const char *ylabel, double fs) {
  cairo_save(cr);
  cairo_set_line_width(cr, 0.8);
  dr_set(cr, dr_hex(DR_OI_BLACK));
  cairo_rectangle(cr, a->px, a->py, a->pw, a->ph);
  cairo_stroke(cr);
  dr_font(cr, fs, 0);
  double first, step;
  int dec;
  double xlo = fmin(a->x0, a->x1), xhi = fmax(a->x0, a->x1);
  /* fewer ticks until the labels have room */
  int want = a->pw > 300 ? 8 : a->pw > 150 ? 5 : 3, n;
  for (;; want--) {
    n = dr_ticks(xlo, xhi, want, &first, &step, &dec);
    char l1[64], l2[64];
    snprintf(l1, sizeof l1, "%.*f", dec, first);
    snprintf(l2, sizeof l2, "%.*f", dec, first + (n - 1) * step);
    double lw = fmax(dr_text_width(cr, l1), dr_text_width(cr, l2)) + 0.8 * fs;
    if (want <= 1 || n < 2 || fabs(dr_ax_x(a, first + step) - dr_ax_x(a, first)) >= lw)
      break;
  }
  for (int i = 0; i < n; i++) {
    double t = first + i * step, px = dr_ax_x(a, t);
    cairo_move_to(cr, px, a->py + a->ph);
    cairo_line_to(cr, px, a->py + a->ph + 4);
    cairo_stroke(cr);
    dr_textf(cr, px, a->py + a->ph + 5 + fs, 1, "%.*f", dec, fabs(t) < step * 1e-6 ? 0.0 : t);
  }
  if (xlabel)
    dr_text(cr, a->px + a->pw / 2, a->py + a->ph + 8 + 2.2 * fs, 1, xlabel);
  /* y: scale large or tiny numbers by 10^k so labels stay short */
  double big = fmax(fabs(a->y0), fabs(a->y1));
  int k = 0;
  if (big >= 1e5 || (big > 0 && big < 1e-2))
    k = (int)floor(log10(big) / 3) * 3;
  double sc = pow(10, -k);
  for (want = a->ph > 200 ? 6 : a->ph > 100 ? 4 : 3;; want--) {
    n = dr_ticks(a->y0 * sc, a->y1 * sc, want, &first, &step, &dec);
    if (want <= 1 || n < 2 || a->ph * step / ((a->y1 - a->y0) * sc) >= 1.6 * fs)
      break;
  }
  double maxw = 0;
  for (int i = 0; i < n; i++) {
    double t = first + i * step, py = dr_ax_y(a, t / sc);
    cairo_move_to(cr, a->px, py);
    cairo_line_to(cr, a->px - 4, py);
    cairo_stroke(cr);
    double w = dr_textf(cr, a->px - 6, py + fs * 0.35, 2, "%.*f", dec,
                        fabs(t) < step * 1e-6 ? 0.0 : t);
    if (w > maxw)
      maxw = w;
  }
  if (ylabel) {
    char lab[256], sup[32];
    if (k) {
      superscript(k, sup, sizeof sup);
      snprintf(lab, sizeof lab, "%s (\u00d710%s)", ylabel, sup);
    } else
      snprintf(lab, sizeof lab, "%s", ylabel);
    cairo_save(cr);
    cairo_translate(cr, a->px - 10 - maxw - 0.4 * fs, a->py + a->ph / 2);
    cairo_rotate(cr, -1.5707963267948966); /* -90 degrees */
    dr_text(cr, 0, 0, 1, lab);
    cairo_restore(cr);
  }
  cairo_restore(cr);
}

void dr_curve(cairo_t *cr, const dr_axes *a, const double *x, const double *y,
              size_t n, dr_rgb c, double lw, double dash) {
  cairo_save(cr);
  cairo_rectangle(cr, a->px, a->py, a->pw, a->ph);
  cairo_clip(cr);
  dr_set(cr, c);
  cairo_set_line_width(cr, lw);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  if (dash > 0) {
    double d[2] = {dash, dash * 0.6};
    cairo_set_dash(cr, d, 2, 0);
  }
  double xlo = fmin(a->x0, a->x1), xhi = fmax(a->x0, a->x1);
  int pen = 0;
  for (size_t i = 0; i < n; i++) {
    /* keep one point beyond each edge so the line reaches the frame */
    int inside = x[i] >= xlo && x[i] <= xhi;
    int near = inside || (i + 1 < n && x[i + 1] >= xlo && x[i + 1] <= xhi) ||
               (i > 0 && x[i - 1] >= xlo && x[i - 1] <= xhi);
    if (!near || !isfinite(y[i])) {
      pen = 0;
      continue;
    }
    if (pen)
      cairo_line_to(cr, dr_ax_x(a, x[i]), dr_ax_y(a, y[i]));
    else
      cairo_move_to(cr, dr_ax_x(a, x[i]), dr_ax_y(a, y[i]));
    pen = 1;
  }
  cairo_stroke(cr);
  cairo_restore(cr);
}

const char *dr_axis_label(int ax) {
  switch ((cs_axis)ax) {
  case CS_AXIS_RAMAN_SHIFT: return "Raman shift / cm\u207b\u00b9";
  case CS_AXIS_WAVENUMBER: return "Wavenumber / cm\u207b\u00b9";
  case CS_AXIS_WAVELENGTH_NM: return "Wavelength / nm";
  case CS_AXIS_PIXEL: return "Detector pixel";
  default: return "x";
  }
}

const char *dr_quantity_label(int q) {
  switch ((cs_quantity)q) {
  case CS_Q_COUNTS: return "Intensity / counts";
  case CS_Q_COUNTS_PER_S: return "Intensity / counts s\u207b\u00b9";
  case CS_Q_ABSORBANCE: return "Absorbance";
  case CS_Q_TRANSMITTANCE_PCT: return "Transmittance / %";
  case CS_Q_REFLECTANCE: return "Reflectance";
  default: return "Intensity / a.u.";
  }
}
