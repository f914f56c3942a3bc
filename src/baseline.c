/* baseline.c: baseline estimation (Whittaker, polynomial and SNIP families)
 * with pybaselines 1.2.1 algorithms and defaults, plus option handling. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[] = {
    [CS_BASELINE_NONE] = "none",       [CS_BASELINE_ASLS] = "asls",
    [CS_BASELINE_ARPLS] = "arpls",     [CS_BASELINE_AIRPLS] = "airpls",
    [CS_BASELINE_MODPOLY] = "modpoly", [CS_BASELINE_IMODPOLY] = "imodpoly",
    [CS_BASELINE_SNIP] = "snip",
};
#define NMETHODS (sizeof method_names / sizeof method_names[0])

const char *cs_baseline_method_name(cs_baseline_method m) {
  if ((unsigned)m >= NMETHODS)
    return NULL;
  return method_names[m];
}

cs_status cs_baseline_method_from_name(const char *name,
                                       cs_baseline_method *out) {
  for (size_t i = 0; name && i < NMETHODS; i++)
    if (strcmp(name, method_names[i]) == 0) {
      *out = (cs_baseline_method)i;
      return CS_OK;
    }
  return CS_ERR_ARG;
}

cs_baseline_opts cs_baseline_opts_default(cs_baseline_method m) {
  /* Values from the pybaselines 1.2.1 signatures (see
   * ../shared/peer/README.md for the ones the golden files rely on). */
  cs_baseline_opts o;
  memset(&o, 0, sizeof o);
  o.method = m;
  o.lam = m == CS_BASELINE_ARPLS ? 1e5 : 1e6;
  o.p = 1e-2;
  o.diff_order = 2;
  o.max_iter = (m == CS_BASELINE_MODPOLY || m == CS_BASELINE_IMODPOLY) ? 250 : 50;
  o.tol = 1e-3;
  o.poly_order = 2;
  o.max_half_window = 0; /* auto */
  o.num_std = 1.0;
  o.use_original = 0;
  o.mask_initial_peaks = m == CS_BASELINE_IMODPOLY;
  o.decreasing = 0;
  o.smooth_half_window = 0;
  o.filter_order = 2;
  return o;
}

/* Skeleton: the algorithms follow in the next commits. */
cs_status cs_baseline_opts_check(const cs_baseline_opts *o, size_t n,
                                 cs_error *err) {
  (void)n;
  if (!o || (unsigned)o->method >= NMETHODS)
    return csi_error(err, CS_ERR_ARG, "unknown baseline method");
  return CS_OK;
}

cs_status cs_baseline_opts_parse(const char *spec, cs_baseline_opts *out,
                                 cs_error *err) {
  (void)spec;
  (void)out;
  return csi_error(err, CS_ERR_UNSUPPORTED, "baseline option parsing not yet available");
}

cs_status cs_baseline_opts_format(const cs_baseline_opts *o, char *buf,
                                  size_t cap, cs_error *err) {
  (void)o;
  (void)buf;
  (void)cap;
  return csi_error(err, CS_ERR_UNSUPPORTED, "baseline option formatting not yet available");
}

cs_status cs_baseline_fit(const double *x, const double *y, size_t n,
                          const cs_baseline_opts *o, double *baseline,
                          cs_error *err) {
  (void)x;
  (void)y;
  cs_status st = cs_baseline_opts_check(o, n, err);
  if (st != CS_OK)
    return st;
  if (o->method == CS_BASELINE_NONE) {
    memset(baseline, 0, n * sizeof *baseline);
    return CS_OK;
  }
  return csi_error(err, CS_ERR_UNSUPPORTED, "baseline method %s not yet available",
                   cs_baseline_method_name(o->method));
}
