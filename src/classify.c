/* classify.c: classification of a spectrum or of plain arrays with QC
 * (cs_classify_spectrum, cs_classify_arrays), the JSON form of the report,
 * and cs_free (include/calcspec.h "Integration: arrays, QC flags"). */
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t cs_report_size(void) { return sizeof(cs_report); }

cs_status cs_classify_spectrum(const cs_model *m, const cs_spectrum *s,
                               const cs_qc_opts *qo, cs_report *out,
                               cs_error *err) {
  memset(out, 0, sizeof *out);
  if (!m || !s)
    return csi_error(err, CS_ERR_ARG, "classify needs a model and a spectrum");
  cs_qc_opts def = cs_qc_opts_default();
  if (!qo)
    qo = &def;
  double lo, hi;
  cs_model_window(m, &lo, &hi);
  cs_technique t = cs_model_technique(m);
  out->technique = t;
  if (s->technique != CS_TECH_UNKNOWN && s->technique != t)
    return csi_error(err, CS_ERR_ARG, "%s spectrum, but this is a %s model",
                     cs_technique_name(s->technique), cs_technique_name(t));
  cs_status st = cs_qc_spectrum(s, lo, hi, qo, &out->qc, err);
  if (st)
    return st;
  cs_result *r = &out->result;
  if (!(out->qc.flags & CS_QC_OUT_OF_WINDOW)) {
    st = cs_model_classify(m, s, r, err);
    if (st && st != CS_ERR_RANGE) {
      memset(out, 0, sizeof *out);
      return st;
    }
    if (st) /* CS_ERR_RANGE: reported as out of window, not as an error */
      out->qc.flags |= CS_QC_OUT_OF_WINDOW;
  }
  if (out->qc.flags & CS_QC_OUT_OF_WINDOW) {
    memset(r, 0, sizeof *r);
    r->nclass = cs_model_class_count(m);
    csi_snprintf(r->label, sizeof r->label, "unknown");
    csi_snprintf(r->reason, sizeof r->reason,
             "does not cover the model window %g-%g cm^-1: spectrum covers "
             "%.6g-%.6g cm^-1", lo, hi, out->qc.x_lo, out->qc.x_hi);
  } else {
    out->classified = 1;
    /* no mineral: the fit needs almost nothing but tissue */
    double mineral = 0;
    for (size_t g = 0; g < r->nclass; g++)
      if (strcmp(cs_model_class_name(m, g), "tissue"))
        mineral += r->nnls[g];
    if (!strcmp(r->best, "tissue") || mineral < qo->min_mineral_frac)
      out->qc.flags |= CS_QC_NO_MINERAL;
  }
  out->qc.reacquire = (out->qc.flags & qo->reacquire_mask) != 0;
  return CS_OK;
}

cs_status cs_classify_arrays(const cs_model *m, const double *x,
                             const double *y, size_t n, cs_axis axis,
                             double laser_nm, const cs_qc_opts *qo,
                             cs_report *out, cs_error *err) {
  memset(out, 0, sizeof *out);
  if (!x || !y || !n)
    return csi_error(err, CS_ERR_ARG, "no points given");
  int ftir = axis == CS_AXIS_WAVENUMBER;
  if (!ftir && axis != CS_AXIS_RAMAN_SHIFT && axis != CS_AXIS_WAVELENGTH_NM)
    return csi_error(err, CS_ERR_ARG, "axis must be raman_shift, "
                     "wavelength_nm or wavenumber, not %s", cs_axis_name(axis));
  if (axis == CS_AXIS_WAVELENGTH_NM && !(isfinite(laser_nm) && laser_nm > 0))
    return csi_error(err, CS_ERR_ARG, "a wavelength axis needs the laser "
                     "wavelength (laser_nm)");
  cs_spectrum *s;
  cs_status st = cs_spectrum_new(x, y, n, axis,
                                 ftir ? CS_Q_ABSORBANCE : CS_Q_COUNTS, &s, err);
  if (st)
    return st;
  cs_spectrum_set_technique(s, ftir ? CS_TECH_FTIR : CS_TECH_RAMAN);
  if (isfinite(laser_nm))
    cs_spectrum_set_laser_nm(s, laser_nm);
  st = cs_spectrum_sort(s, err);
  if (!st)
    st = cs_classify_spectrum(m, s, qo, out, err);
  cs_spectrum_free(s);
  return st;
}

/* Comma-separated names of the set bits of f: names[i] when names is
 * given, else the QC flag name of bit i. */
static void flag_text(unsigned f, const char *const *names, int count,
                      char *buf, size_t cap) {
  buf[0] = '\0';
  for (int i = 0; i < count; i++)
    if (f & (1u << i)) {
      size_t k = strlen(buf);
      csi_snprintf(buf + k, cap - k, "%s%s", k ? "," : "",
                   names ? names[i] : cs_qc_flag_name(1u << i));
    }
}

/* A number, or null if it is not finite: results never hold NaN, and if
 * one ever did it must not pass for a measured 0. */
static json_t *real(double v) { return isfinite(v) ? json_real(v) : json_null(); }

cs_status cs_report_json(const cs_report *r, const cs_model *m, char **json,
                         cs_error *err) {
  static const char *const result_flags[] = {"t2", "q", "low_posterior",
                                             "disagree"};
  *json = NULL;
  if (!r || !m)
    return csi_error(err, CS_ERR_ARG, "report JSON needs a report and a model");
  const cs_result *res = &r->result;
  if (res->nclass > cs_model_class_count(m))
    return csi_error(err, CS_ERR_MODEL, "report has %zu classes, model %zu",
                     res->nclass, cs_model_class_count(m));
  json_t *o = json_object(), *post = json_object(), *nn = json_object(),
         *qc = json_object();
  char flags[96];
  if (!o || !post || !nn || !qc)
    goto nomem;
  json_object_set_new(o, "class", json_string(res->label));
  json_object_set_new(o, "subtype", json_string(res->subtype));
  json_object_set_new(o, "best", json_string(res->best));
  json_object_set_new(o, "technique", json_string(cs_technique_name(r->technique)));
  json_object_set_new(o, "classified", json_boolean(r->classified));
  for (size_t g = 0; g < res->nclass; g++) {
    json_object_set_new(post, cs_model_class_name(m, g), real(res->posterior[g]));
    json_object_set_new(nn, cs_model_class_name(m, g), real(res->nnls[g]));
  }
  json_object_set_new(o, "posterior", post);
  post = NULL;
  json_object_set_new(o, "t2", real(res->t2));
  json_object_set_new(o, "t2_limit", real(res->t2_limit));
  json_object_set_new(o, "q", real(res->q));
  json_object_set_new(o, "q_limit", real(res->q_limit));
  json_object_set_new(o, "nnls", nn);
  nn = NULL;
  json_object_set_new(o, "nnls_r2", real(res->nnls_r2));
  flag_text(res->flags, result_flags, 4, flags, sizeof flags);
  json_object_set_new(o, "flags", json_string(flags));
  json_object_set_new(o, "reason", json_string(res->reason));
  const cs_qc *q = &r->qc;
  flag_text(q->flags, NULL, CS_QC_NFLAGS, flags, sizeof flags);
  json_object_set_new(qc, "flags", json_string(flags));
  json_object_set_new(qc, "snr", real(q->snr));
  json_object_set_new(qc, "noise", real(q->noise));
  json_object_set_new(qc, "band_x", real(q->band_x));
  json_object_set_new(qc, "band_height", real(q->band_height));
  json_object_set_new(qc, "fluor_ratio", real(q->fluor_ratio));
  json_object_set_new(qc, "max_y", real(q->max_y));
  json_object_set_new(qc, "n_saturated", json_integer((json_int_t)q->n_saturated));
  json_object_set_new(qc, "spikes", json_integer((json_int_t)q->spikes));
  json_object_set_new(qc, "x_lo", real(q->x_lo));
  json_object_set_new(qc, "x_hi", real(q->x_hi));
  json_object_set_new(o, "qc", qc);
  qc = NULL;
  json_object_set_new(o, "reacquire", json_boolean(q->reacquire));
  *json = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
  json_decref(o);
  if (!*json)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  return CS_OK;
nomem:
  json_decref(o);
  json_decref(post);
  json_decref(nn);
  json_decref(qc);
  return csi_error(err, CS_ERR_NOMEM, "out of memory");
}

void cs_free(void *p) { free(p); }
