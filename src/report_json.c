/* report_json.c: the one JSON form of a classification report
 * (cs_report_json, cs_report_json_source), used by `calcspec classify
 * --json`, `stream`, `watch` and the Python package.  Written by hand
 * rather than with jansson so that numbers come out in their shortest
 * round-trip form (csi_fmt_shortest); jansson only knows a fixed
 * precision. */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A JSON object writer on a csi_buf: commas between members are added
 * here so that the member list below reads as a plain list. */
typedef struct {
  csi_buf b;
  int first; /* no member yet in the innermost open object */
} jw;

static void put(jw *w, const char *s) { csi_buf_put(&w->b, s, strlen(s)); }

static void str(jw *w, const char *s) {
  /* keys, names and most texts are printable ASCII without '"' or '\\':
   * written as they are, what the loop below would write, without the
   * sanitised copy (a malloc per key was a third of this writer's time) */
  size_t n = 0;
  if (!s)
    s = "";
  while (s[n] >= 0x20 && s[n] < 0x7f && s[n] != '"' && s[n] != '\\')
    n++;
  if (!s[n]) {
    put(w, "\"");
    csi_buf_put(&w->b, s, n);
    put(w, "\"");
    return;
  }
  char *clean = csi_utf8_sanitize(s);
  if (!clean) {
    w->b.oom = 1;
    return;
  }
  put(w, "\"");
  for (const unsigned char *p = (const unsigned char *)clean; *p; p++) {
    if (*p == '"' || *p == '\\') {
      char e[3] = {'\\', (char)*p, 0};
      put(w, e);
    } else if (*p < 0x20) {
      csi_buf_printf(&w->b, "\\u%04x", *p);
    } else {
      csi_buf_put(&w->b, (const char *)p, 1);
    }
  }
  put(w, "\"");
  free(clean);
}

static void key(jw *w, const char *k) {
  if (!w->first)
    put(w, ",");
  w->first = 0;
  str(w, k);
  put(w, ":");
}

static void open_obj(jw *w, const char *k) {
  if (k)
    key(w, k);
  put(w, "{");
  w->first = 1;
}

static void close_obj(jw *w) {
  put(w, "}");
  w->first = 0;
}

/* A number, or null when it was not computed (ok == 0) or is not finite:
 * results never hold NaN, and if one ever did it must not pass for a
 * measured value. */
static void num(jw *w, const char *k, int ok, double v) {
  key(w, k);
  if (ok && isfinite(v)) {
    char t[40];
    csi_fmt_shortest(t, sizeof t, v);
    put(w, t);
  } else {
    put(w, "null");
  }
}

static void count(jw *w, const char *k, int ok, long long v) {
  key(w, k);
  if (ok && v >= 0)
    csi_buf_printf(&w->b, "%lld", v);
  else
    put(w, "null");
}

static void text(jw *w, const char *k, const char *v) {
  key(w, k);
  if (v)
    str(w, v);
  else
    put(w, "null");
}

static void boolean(jw *w, const char *k, int v) {
  key(w, k);
  put(w, v ? "true" : "false");
}

/* The names of the set bits of f as an array: names[i] when names is
 * given, else the QC flag name of bit i. */
static void flags(jw *w, const char *k, unsigned f, const char *const *names,
                  int n) {
  key(w, k);
  put(w, "[");
  int any = 0;
  for (int i = 0; i < n; i++)
    if (f & (1u << i)) {
      if (any++)
        put(w, ",");
      str(w, names ? names[i] : cs_qc_flag_name(1u << i));
    }
  put(w, "]");
}

/* The composition of one spectrum (cs_report_composition).  Every value
 * the library measures per spectrum goes here; an empty value is null and
 * its reason says why.  New composition fields are added in this one
 * place. */
static void composition(jw *w, const cs_composition *c) {
  unsigned v = c->valid;
  int carb = (v & CS_COMP_CARBONATE) != 0, nu1 = (v & CS_COMP_NU1) != 0,
      wh = (v & CS_COMP_WHITLOCKITE) != 0, com = (v & CS_COMP_COM) != 0;
  open_obj(w, "composition");
  text(w, "class", c->cls);
  num(w, "carbonate_wt", carb && !c->carbonate_censored, c->carbonate_wt);
  num(w, "carbonate_lo", carb, c->carbonate_lo);
  num(w, "carbonate_hi", carb, c->carbonate_hi);
  num(w, "carbonate_lod", carb, c->carbonate_lod);
  boolean(w, "carbonate_censored", carb && c->carbonate_censored);
  num(w, "carbonate_ratio", carb || c->carbonate_ratio != 0, c->carbonate_ratio);
  num(w, "nu1_pos", nu1, c->nu1_pos);
  num(w, "nu1_fwhm", nu1, c->nu1_fwhm);
  num(w, "axis_offset", (v & CS_COMP_AXIS) != 0, c->axis_offset);
  num(w, "whitlockite_index", wh, c->whitlockite_index);
  num(w, "whitlockite_se", wh, c->whitlockite_se);
  num(w, "band922_ratio", wh, c->band922_ratio);
  /* set only where a whitlockite powder-mixture calibration was applied
   * (cs_composition_whitlockite_share) */
  int wsh = (v & CS_COMP_WH_SHARE) != 0;
  num(w, "whitlockite_share", wsh, c->whitlockite_share);
  num(w, "whitlockite_share_lo", wsh, c->whitlockite_share_lo);
  num(w, "whitlockite_share_hi", wsh, c->whitlockite_share_hi);
  num(w, "com_frac", com, c->com_frac);
  /* no COD band (pure COM, com_frac 1): I1462/I1477 has no value and the
   * struct holds 0, which would read as pure COD */
  num(w, "oxalate_ir", com && !(c->oxalate_ir == 0 && c->com_frac == 1),
      c->oxalate_ir);
  num(w, "protein_mineral", (v & CS_COMP_PROTEIN) != 0, c->protein_mineral);
  open_obj(w, "reasons");
  text(w, "carbonate", c->carbonate_reason);
  text(w, "whitlockite", c->whitlockite_reason);
  text(w, "com", c->com_reason);
  text(w, "protein", c->protein_reason);
  close_obj(w);
  close_obj(w);
}

cs_status cs_report_json_source(const cs_report *r, const cs_model *m,
                                const cs_report_source *src, char **json,
                                cs_error *err) {
  static const char *const result_flags[] = {"t2", "q", "low_posterior",
                                             "disagree", "unexplained"};
  *json = NULL;
  if (!r || !m)
    return csi_error(err, CS_ERR_ARG, "report JSON needs a report and a model");
  const cs_result *res = &r->result;
  if (res->nclass > cs_model_class_count(m))
    return csi_error(err, CS_ERR_MODEL, "report has %zu classes, model %zu",
                     res->nclass, cs_model_class_count(m));
  int cl = r->classified != 0, det = cl && res->detected;
  const cs_qc *q = &r->qc;
  /* out of window: QC measured only the range */
  int qm = !(q->flags & CS_QC_OUT_OF_WINDOW);
  jw w = {{0}, 1};
  open_obj(&w, NULL);
  text(&w, "file", src ? src->file : NULL);
  count(&w, "index", src != NULL, src ? src->index : -1);
  count(&w, "count", src != NULL, src ? src->count : -1);
  text(&w, "core_id", src ? src->core_id : NULL);
  text(&w, "technique", cs_technique_name(r->technique));
  boolean(&w, "classified", cl);
  text(&w, "class", res->label[0] ? res->label : "unknown");
  text(&w, "subtype", res->subtype);
  text(&w, "best", cl ? res->best : NULL);
  open_obj(&w, "posterior");
  for (size_t g = 0; g < res->nclass; g++)
    num(&w, cs_model_class_name(m, g), cl, res->posterior[g]);
  close_obj(&w);
  num(&w, "t2", cl, res->t2);
  num(&w, "t2_limit", cl, res->t2_limit);
  num(&w, "q", cl, res->q);
  num(&w, "q_limit", cl, res->q_limit);
  open_obj(&w, "nnls");
  for (size_t g = 0; g < res->nclass; g++)
    num(&w, cs_model_class_name(m, g), cl, res->nnls[g]);
  close_obj(&w);
  num(&w, "nnls_r2", cl, res->nnls_r2);
  flags(&w, "flags", res->flags, result_flags, 5);
  text(&w, "reason", res->reason);
  num(&w, "mineral_snr", det, res->mineral_snr);
  num(&w, "axis_offset", det, res->axis_offset);
  text(&w, "axis_ref", det ? res->axis_ref : NULL);
  num(&w, "window_lo", cl, res->window_lo);
  num(&w, "window_hi", cl, res->window_hi);
  open_obj(&w, "qc");
  flags(&w, "flags", q->flags, NULL, CS_QC_NFLAGS);
  num(&w, "snr", qm, q->snr);
  num(&w, "noise", qm, q->noise);
  num(&w, "band_x", qm, q->band_x);
  num(&w, "band_height", qm, q->band_height);
  num(&w, "fluor_ratio", qm, q->fluor_ratio);
  num(&w, "max_y", qm, q->max_y);
  count(&w, "n_saturated", qm, (long long)q->n_saturated);
  count(&w, "spikes", qm, (long long)q->spikes);
  num(&w, "x_lo", 1, q->x_lo);
  num(&w, "x_hi", 1, q->x_hi);
  close_obj(&w);
  boolean(&w, "reacquire", q->reacquire);
  if (r->composition_measured) {
    composition(&w, &r->composition);
  } else {
    key(&w, "composition");
    put(&w, "null");
  }
  close_obj(&w);
  if (w.b.oom || !w.b.p) {
    csi_buf_free(&w.b);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  *json = w.b.p;
  return CS_OK;
}

cs_status cs_report_json(const cs_report *r, const cs_model *m, char **json,
                         cs_error *err) {
  return cs_report_json_source(r, m, NULL, json, err);
}
