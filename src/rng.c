/* rng.c: the library's own PRNG, xoshiro256** (Blackman & Vigna 2018)
 * seeded through splitmix64, so simulated spectra (simulate.c) and
 * cross-validation folds (train.c) are identical on every machine. */
#include "internal.h"

#include <math.h>

/* C11 <math.h> need not define M_PI. */
#define PI_ 3.14159265358979323846

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void csi_rng_seed(csi_rng *r, uint64_t seed) {
  uint64_t x = seed;
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t csi_rng_next(csi_rng *r) {
  uint64_t *s = r->s;
  uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

double csi_rng_uniform(csi_rng *r) {
  return (double)(csi_rng_next(r) >> 11) * 0x1.0p-53;
}

double csi_rng_normal(csi_rng *r) {
  double u1 = ((double)(csi_rng_next(r) >> 11) + 1.0) * 0x1.0p-53; /* (0,1] */
  double u2 = csi_rng_uniform(r);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * PI_ * u2);
}

double csi_rng_poisson(csi_rng *r, double mean) {
  if (!(mean > 0))
    return 0;
  if (mean < 30) {
    double limit = exp(-mean), p = 1.0;
    int k = -1;
    do {
      k++;
      p *= csi_rng_uniform(r);
    } while (p > limit);
    return k;
  }
  double v = nearbyint(mean + sqrt(mean) * csi_rng_normal(r));
  return v < 0 ? 0 : v;
}
