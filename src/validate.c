/* validate.c: birefringence findings and agreement statistics. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define Z95 1.959963984540054

cs_status cs_agreement_2x2(size_t a, size_t b, size_t c, size_t d,
                           cs_agreement *o, cs_error *err) {
  memset(o, 0, sizeof *o);
  size_t n = a + b + c + d;
  if (n == 0)
    return csi_error(err, CS_ERR_ARG, "agreement: no cores with both ratings");
  double N = (double)n;
  /* p[i][j]: spectroscopy i, finding j (0 = positive, 1 = negative) */
  double p[2][2] = {{a / N, b / N}, {c / N, d / N}};
  double r[2] = {p[0][0] + p[0][1], p[1][0] + p[1][1]}; /* row margins */
  double k[2] = {p[0][0] + p[1][0], p[0][1] + p[1][1]}; /* column margins */
  double po = p[0][0] + p[1][1], pe = r[0] * k[0] + r[1] * k[1];
  o->a = a;
  o->b = b;
  o->c = c;
  o->d = d;
  o->n = n;
  o->observed = po;
  o->expected = pe;
  if (pe < 1) {
    o->kappa = (po - pe) / (1 - pe);
    /* Fleiss, Cohen & Everitt (1969) large-sample variance:
     * [sum_i p_ii ((1-pe) - (p_i. + p_.i)(1-po))^2
     *  + (1-po)^2 sum_{i!=j} p_ij (p_.i + p_j.)^2
     *  - (po pe - 2 pe + po)^2] / (n (1-pe)^4) */
    double s = 0;
    for (int i = 0; i < 2; i++) {
      double t = (1 - pe) - (r[i] + k[i]) * (1 - po);
      s += p[i][i] * t * t;
    }
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++)
        if (i != j)
          s += (1 - po) * (1 - po) * p[i][j] * (k[i] + r[j]) * (k[i] + r[j]);
    double u = po * pe - 2 * pe + po;
    s -= u * u;
    double v = s / (N * pow(1 - pe, 4));
    o->kappa_se = sqrt(v > 0 ? v : 0);
  }
  /* kappa lies in [-1, 1]; with few cores the normal interval does not */
  o->kappa_lo = fmax(-1, o->kappa - Z95 * o->kappa_se);
  o->kappa_hi = fmin(1, o->kappa + Z95 * o->kappa_se);
  o->sensitivity = a + c ? (double)a / (double)(a + c) : 0;
  o->specificity = b + d ? (double)d / (double)(b + d) : 0;
  return CS_OK;
}

static int parse_biref(const char *v, cs_biref *out) {
  static const char *const yes[] = {"yes", "y", "true", "1"};
  static const char *const no[] = {"no", "n", "false", "0"};
  for (int i = 0; i < 4; i++) {
    if (!csi_strcasecmp(v, yes[i])) {
      *out = CS_BIREF_YES;
      return 0;
    }
    if (!csi_strcasecmp(v, no[i])) {
      *out = CS_BIREF_NO;
      return 0;
    }
  }
  if (!csi_strcasecmp(v, "unknown") || !csi_strcasecmp(v, "na") || !*v) {
    *out = CS_BIREF_UNKNOWN;
    return *v ? 0 : -1;
  }
  return -1;
}

cs_status cs_findings_parse(const char *text, size_t len, cs_finding **rows,
                            size_t *nrows, cs_error *err) {
  *rows = NULL;
  *nrows = 0;
  char *buf = csi_strndup(text, len);
  if (!buf)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_finding *v = NULL;
  size_t n = 0, cap = 0;
  cs_status st = CS_OK;
  int line = 0;
  char *p = buf;
  while (p && *p != '\0' && !st) {
    char *nl = strchr(p, '\n');
    if (nl)
      *nl = '\0';
    line++;
    char *l = csi_trim(p);
    p = nl ? nl + 1 : NULL;
    if (!*l || *l == '#')
      continue;
    char sep = strchr(l, '\t') ? '\t' : ',';
    char *f[3];
    int nf = csi_split(l, sep, f, 2);
    /* csi_split gives max + 1 when there are more fields: the rest is notes */
    char *notes = NULL;
    if (nf > 2) {
      notes = f[1] + strlen(f[1]) + 1;
      nf = 2;
    }
    if (nf < 2) {
      st = csi_error(err, CS_ERR_MALFORMED,
                     "findings line %d: expected core_id%cbirefringent[%cnotes]",
                     line, sep, sep);
      break;
    }
    char *id = csi_trim(f[0]), *val = csi_trim(f[1]);
    if (!csi_strcasecmp(id, "core_id") && n == 0)
      continue; /* header */
    cs_error e;
    if (cs_core_id_check(id, &e)) {
      st = csi_error(err, CS_ERR_MALFORMED, "findings line %d: %s", line,
                     e.msg);
      break;
    }
    cs_biref b;
    if (parse_biref(val, &b)) {
      st = csi_error(err, CS_ERR_MALFORMED,
                     "findings line %d: birefringent must be yes, no or "
                     "unknown, got '%.40s'",
                     line, val);
      break;
    }
    for (size_t i = 0; i < n; i++)
      if (!strcmp(v[i].core_id, id)) {
        st = csi_error(err, CS_ERR_MALFORMED,
                       "findings line %d: core '%s' listed again (first on "
                       "line %d)",
                       line, id, v[i].line);
        break;
      }
    if (st)
      break;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      cs_finding *t = nc <= CSI_MAX_SPECTRA ? realloc(v, nc * sizeof *t) : NULL;
      if (!t) {
        st = csi_error(err, CS_ERR_NOMEM, "findings: out of memory");
        break;
      }
      v = t;
      cap = nc;
    }
    memset(&v[n], 0, sizeof v[n]);
    csi_snprintf(v[n].core_id, sizeof v[n].core_id, "%s", id);
    v[n].birefringent = b;
    csi_snprintf(v[n].notes, sizeof v[n].notes, "%s", notes ? csi_trim(notes) : "");
    v[n].line = line;
    n++;
  }
  free(buf);
  if (!st && n == 0)
    st = csi_error(err, CS_ERR_MALFORMED, "findings: no rows");
  if (st) {
    free(v);
    return st;
  }
  *rows = v;
  *nrows = n;
  return CS_OK;
}
