/* classify.c: classification of a spectrum or of plain arrays with QC
 * (cs_classify_spectrum, cs_classify_arrays) and cs_free (include/calcspec.h
 * "Integration: arrays, QC flags"); the report's JSON is in report_json.c. */
#include "model.h"

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
  /* a chain of models (the embedded defaults): the widest window the
   * spectrum covers */
  if (out->qc.flags & CS_QC_OUT_OF_WINDOW) {
    for (const cs_model *a = m->alt; a; a = a->alt) {
      cs_qc q2;
      if (cs_qc_spectrum(s, a->lo, a->hi, qo, &q2, NULL))
        break;
      if (!(q2.flags & CS_QC_OUT_OF_WINDOW)) {
        out->qc = q2;
        m = a;
        lo = a->lo, hi = a->hi;
        break;
      }
    }
  }
  cs_result *r = &out->result;
  int have_ox = 0;
  if (!(out->qc.flags & CS_QC_OUT_OF_WINDOW)) {
    st = csi_model_classify(m, s, r, &out->composition, &have_ox, err);
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
  if (have_ox && out->classified)
    out->oxalate_key = csi_spectrum_key(s);
  else
    memset(&out->composition, 0, sizeof out->composition);
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

void cs_free(void *p) { free(p); }
