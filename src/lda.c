/* lda.c: linear discriminant analysis on PCA scores.  The within-class
 * covariance is shrunk towards a scaled identity (Ledoit & Wolf 2004, or a
 * fixed lambda) and the discriminant directions solve the symmetric-definite
 * generalised eigenproblem S_b v = mu S_w v (dsygvd via linalg.c), normalised
 * so that v' S_w v = 1.  In that space every class shares the identity
 * covariance, so posteriors follow from Euclidean distances to the class
 * centroids plus log priors: classical LDA, at full rank d = C - 1. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Ledoit-Wolf shrinkage intensity for the centred n x k matrix z
 * (column-major), as in Ledoit & Wolf (2004), J. Multivar. Anal. 88:365
 * (the estimator sklearn.covariance.ledoit_wolf_shrinkage implements). */
static double ledoit_wolf(const double *z, size_t n, size_t k) {
  double *cov = calloc(k * k, sizeof *cov);
  if (!cov)
    return 0.1;
  for (size_t a = 0; a < k; a++)
    for (size_t b = 0; b <= a; b++) {
      double v = 0;
      for (size_t i = 0; i < n; i++)
        v += z[a * n + i] * z[b * n + i];
      cov[a * k + b] = cov[b * k + a] = v / (double)n;
    }
  double mu = 0;
  for (size_t a = 0; a < k; a++)
    mu += cov[a * k + a];
  mu /= (double)k;
  double delta = 0, beta = 0;
  for (size_t a = 0; a < k; a++)
    for (size_t b = 0; b < k; b++) {
      double d = cov[a * k + b] - (a == b ? mu : 0);
      delta += d * d;
    }
  delta /= (double)k;
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    for (size_t a = 0; a < k; a++)
      for (size_t b = 0; b < k; b++) {
        double d = z[a * n + i] * z[b * n + i] - cov[a * k + b];
        s += d * d;
      }
    beta += s;
  }
  beta /= (double)k * (double)n * (double)n;
  free(cov);
  if (beta > delta)
    beta = delta;
  return delta > 0 ? beta / delta : 0;
}

cs_status csi_lda_fit(const double *t, size_t n, size_t k, const int *label,
                      size_t c, double shrinkage, csi_lda *out,
                      cs_error *err) {
  memset(out, 0, sizeof *out);
  if (c < 2)
    return csi_error(err, CS_ERR_ARG, "lda: need at least 2 classes");
  if (n <= c)
    return csi_error(err, CS_ERR_ARG, "lda: need more spectra than classes");
  size_t *cnt = calloc(c, sizeof *cnt);
  double *means = calloc(c * k, sizeof *means), *gm = calloc(k, sizeof *gm);
  double *z = malloc(n * k * sizeof *z), *sw = calloc(k * k, sizeof *sw);
  double *sb = calloc(k * k, sizeof *sb), *w = malloc(k * sizeof *w);
  cs_status st = CS_OK;
  if (!cnt || !means || !gm || !z || !sw || !sb || !w) {
    st = csi_error(err, CS_ERR_NOMEM, "lda: out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    if (label[i] < 0 || (size_t)label[i] >= c) {
      st = csi_error(err, CS_ERR_ARG, "lda: label %d out of range", label[i]);
      goto done;
    }
    cnt[label[i]]++;
    for (size_t a = 0; a < k; a++)
      means[(size_t)label[i] * k + a] += t[a * n + i];
  }
  for (size_t g = 0; g < c; g++) {
    if (cnt[g] < 2) {
      st = csi_error(err, CS_ERR_ARG,
                     "lda: class %zu has %zu spectra (need at least 2)", g,
                     cnt[g]);
      goto done;
    }
    for (size_t a = 0; a < k; a++)
      means[g * k + a] /= (double)cnt[g];
  }
  for (size_t a = 0; a < k; a++) {
    for (size_t i = 0; i < n; i++)
      gm[a] += t[a * n + i];
    gm[a] /= (double)n;
  }
  for (size_t i = 0; i < n; i++) /* class-centred scores */
    for (size_t a = 0; a < k; a++)
      z[a * n + i] = t[a * n + i] - means[(size_t)label[i] * k + a];
  for (size_t a = 0; a < k; a++)
    for (size_t b = 0; b <= a; b++) {
      double v = 0;
      for (size_t i = 0; i < n; i++)
        v += z[a * n + i] * z[b * n + i];
      sw[b * k + a] = sw[a * k + b] = v / (double)(n - c);
      double u = 0;
      for (size_t g = 0; g < c; g++)
        u += (double)cnt[g] * (means[g * k + a] - gm[a]) *
             (means[g * k + b] - gm[b]);
      sb[b * k + a] = sb[a * k + b] = u / (double)n;
    }
  double lambda = shrinkage >= 0 ? shrinkage : ledoit_wolf(z, n, k);
  double mu = 0;
  for (size_t a = 0; a < k; a++)
    mu += sw[a * k + a];
  mu /= (double)k;
  for (size_t a = 0; a < k; a++)
    for (size_t b = 0; b < k; b++)
      sw[a * k + b] = (1 - lambda) * sw[a * k + b] + (a == b ? lambda * mu : 0);
  st = csi_sygv(k, sb, sw, w, err);
  if (st)
    goto done;
  size_t d = c - 1 < k ? c - 1 : k;
  out->dir = malloc(k * d * sizeof *out->dir);
  out->centroids = malloc(c * d * sizeof *out->centroids);
  if (!out->dir || !out->centroids) {
    st = csi_error(err, CS_ERR_NOMEM, "lda: out of memory");
    goto done;
  }
  for (size_t j = 0; j < d; j++) /* largest eigenvalues are last */
    memcpy(out->dir + j * k, sb + (k - 1 - j) * k, k * sizeof *out->dir);
  for (size_t g = 0; g < c; g++)
    for (size_t j = 0; j < d; j++) {
      double v = 0;
      for (size_t a = 0; a < k; a++)
        v += out->dir[j * k + a] * means[g * k + a];
      out->centroids[g * d + j] = v;
    }
  out->k = k;
  out->d = d;
  out->c = c;
  out->shrinkage = lambda;
done:
  if (st)
    csi_lda_free(out);
  free(cnt), free(means), free(gm), free(z), free(sw), free(sb), free(w);
  return st;
}

void csi_lda_posteriors(const csi_lda *m, const double *log_prior,
                        const double *t, double *post, double *d2) {
  double best = -INFINITY, zs[64];
  /* the projection does not depend on the class: once, not per class (d
   * <= the PCA components, at most 64 for csi_model_score) */
  int once = m->d <= 64;
  for (size_t j = 0; once && j < m->d; j++) {
    double z = 0;
    for (size_t a = 0; a < m->k; a++)
      z += m->dir[j * m->k + a] * t[a];
    zs[j] = z;
  }
  for (size_t g = 0; g < m->c; g++) {
    double dist = 0;
    for (size_t j = 0; j < m->d; j++) {
      double z = 0;
      if (once)
        z = zs[j];
      else
        for (size_t a = 0; a < m->k; a++)
          z += m->dir[j * m->k + a] * t[a];
      double e = z - m->centroids[g * m->d + j];
      dist += e * e;
    }
    if (d2)
      d2[g] = dist;
    post[g] = -0.5 * dist + log_prior[g];
    if (post[g] > best)
      best = post[g];
  }
  double sum = 0; /* softmax, shifted by the largest term: no overflow */
  for (size_t g = 0; g < m->c; g++)
    sum += post[g] = exp(post[g] - best);
  for (size_t g = 0; g < m->c; g++)
    post[g] /= sum;
}

void csi_lda_free(csi_lda *m) {
  free(m->dir);
  free(m->centroids);
  memset(m, 0, sizeof *m);
}
