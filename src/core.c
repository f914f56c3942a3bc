/* core.c: per-biopsy-core summaries of classified spectra (rule in
 * calcspec.h, cs_core_summarize). */
#include "internal.h"

#include <math.h>
#include <string.h>

cs_core_opts cs_core_opts_default(void) {
  cs_core_opts o = {3, 0.5};
  return o;
}

cs_status cs_core_id_check(const char *id, cs_error *err) {
  if (!id || !*id)
    return csi_error(err, CS_ERR_MALFORMED, "empty core id");
  size_t n = strlen(id);
  if (n >= CS_CORE_ID_MAX)
    return csi_error(err, CS_ERR_MALFORMED,
                     "core id of %zu bytes (at most %d): '%.20s...'", n,
                     CS_CORE_ID_MAX - 1, id);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f)
      return csi_error(err, CS_ERR_MALFORMED,
                       "core id has a control character (0x%02x) at byte %zu",
                       (unsigned)(unsigned char)id[i], i + 1);
  return CS_OK;
}

cs_status cs_core_summarize(const char *id, const cs_result *r,
                            const cs_composition *comp, size_t n,
                            const char classes[][CS_CLASS_NAME_MAX],
                            size_t nclass, const cs_core_opts *o,
                            cs_core *out, cs_error *err) {
  memset(out, 0, sizeof *out);
  cs_core_opts def = cs_core_opts_default();
  if (!o)
    o = &def;
  if (!id || !r || n == 0)
    return csi_error(err, CS_ERR_ARG, "core: no spectra");
  if (strlen(id) >= CS_CORE_ID_MAX)
    return csi_error(err, CS_ERR_ARG, "core id longer than %d characters",
                     CS_CORE_ID_MAX - 1);
  if (nclass == 0 || nclass > CS_MAX_CLASSES)
    return csi_error(err, CS_ERR_ARG, "core: %zu classes", nclass);
  csi_snprintf(out->id, sizeof out->id, "%s", id);
  out->n = n;
  out->nclass = nclass;
  for (size_t g = 0; g < nclass; g++)
    csi_snprintf(out->classes[g], CS_CLASS_NAME_MAX, "%s", classes[g]);
  double wsum = 0;
  const cs_composition *one = NULL;
  for (size_t i = 0; i < n; i++) {
    for (size_t g = 0; g < nclass && g < r[i].nclass; g++)
      out->mean_posterior[g] += r[i].posterior[g] / (double)n;
    if (!strcmp(r[i].label, "unknown")) {
      out->unknown++;
    } else {
      for (size_t g = 0; g < nclass; g++)
        if (!strcmp(r[i].label, classes[g]))
          out->count[g]++;
      if (!strcmp(r[i].label, "oxalate"))
        out->oxalate = 1;
      else if (!strcmp(r[i].label, "hydroxyapatite") ||
               !strcmp(r[i].label, "whitlockite"))
        out->phosphate = 1;
      else if (!strcmp(r[i].label, "calcite"))
        out->calcite = 1;
    }
    if (comp && (comp[i].valid & CS_COMP_CARBONATE)) {
      out->n_carbonate++;
      one = &comp[i];
    }
    if (comp && (comp[i].valid & CS_COMP_WH_SHARE)) {
      out->n_wh_share++;
      out->whitlockite_share_mean += comp[i].whitlockite_share;
    }
    if (comp && (comp[i].valid & CS_COMP_WHITLOCKITE)) {
      out->n_whitlockite++;
      wsum += comp[i].whitlockite_index;
    }
  }
  out->expected_birefringent = out->oxalate || out->calcite;
  const char *base = out->oxalate && out->phosphate ? "mixed"
                     : out->oxalate                 ? "oxalate"
                     : out->phosphate               ? "phosphate"
                                                    : "none";
  if (out->calcite)
    csi_snprintf(out->call, sizeof out->call, "%s",
             !strcmp(base, "none") ? "calcite" : base);
  else
    csi_snprintf(out->call, sizeof out->call, "%s", base);
  if (out->calcite && strcmp(base, "none"))
    csi_snprintf(out->call, sizeof out->call, "%s+calcite", base);
  /* Carbonate: the mean of the spectra's UNCENSORED estimates
   * (carbonate_raw), which is unbiased where a mean of censored values (or
   * of values with "< LOD" replaced by LOD/2) is not; censoring is then
   * applied once, to the mean, against the mean's own LOD.  The interval is
   * that of the mean carbonate of the measured spectra: each spectrum's
   * error (its fit, the standards' scatter about the line) is independent
   * and averages down, the calibration line's (intercept and slope) is
   * shared and does not (its sd is carbonate_lod_cal / 3.29 at 0 wt%).
   * Real differences between the spots (heterogeneity) are not error of
   * that mean; they are in carbonate_spread.  (The earlier Student-t
   * interval over the spread of the spots covered the spots' mean 100 % of
   * the time on the stress generator, whose spots differ.) */
  size_t k = out->n_carbonate;
  if (k == 1) {
    out->carbonate_mean = one->carbonate_wt;
    out->carbonate_lo = one->carbonate_lo;
    out->carbonate_hi = one->carbonate_hi;
    out->carbonate_lod = one->carbonate_lod;
    out->carbonate_censored = one->carbonate_censored;
  } else if (k > 1) {
    double sum = 0, sum2 = 0, lod2 = 0, cal = 0, own = 0;
    for (size_t i = 0; i < n; i++)
      if (comp[i].valid & CS_COMP_CARBONATE) {
        double v = comp[i].carbonate_raw, c = comp[i].carbonate_lod_cal / 3.29;
        double sd = comp[i].carbonate_sd;
        sum += v;
        sum2 += v * v;
        lod2 += comp[i].carbonate_lod * comp[i].carbonate_lod / (3.29 * 3.29) -
                c * c;
        cal += c * c;
        own += sd * sd - c * c > 0 ? sd * sd - c * c : 0;
      }
    double m = sum / (double)k, cal2 = cal / (double)k;
    double var = (sum2 - (double)k * m * m) / (double)(k - 1);
    out->carbonate_spread = sqrt(var > 0 ? var : 0);
    double half = 1.959963984540054 * sqrt(own / ((double)k * (double)k) + cal2);
    double l2 = lod2 / (double)k / (double)k + cal2;
    out->carbonate_lod = 3.29 * sqrt(l2 > 0 ? l2 : 0);
    if (m < out->carbonate_lod) {
      out->carbonate_censored = 1;
      out->carbonate_mean = 0;
      out->carbonate_lo = 0;
      out->carbonate_hi = m + half > out->carbonate_lod ? m + half
                                                        : out->carbonate_lod;
    } else {
      out->carbonate_mean = m;
      out->carbonate_lo = m - half > 0 ? m - half : 0;
      out->carbonate_hi = m + half;
    }
  }
  if (out->n_whitlockite)
    out->whitlockite_mean = wsum / (double)out->n_whitlockite;
  if (out->n_wh_share)
    out->whitlockite_share_mean /= (double)out->n_wh_share;
  if (n < o->min_spectra)
    out->flags |= CS_CORE_TOO_FEW;
  if ((double)out->unknown > o->max_unknown * (double)n)
    out->flags |= CS_CORE_MANY_UNKNOWN;
  return CS_OK;
}
