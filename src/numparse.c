/* numparse.c: a locale-independent fast path for decimal numbers in text
 * (Clinger 1990): when the significand has at most 19 significant digits and
 * fits 2^53, and the decimal exponent is within +-22, both the significand and
 * 10^|e| are exact doubles and ONE multiplication or division gives the
 * correctly rounded result, i.e. exactly what strtod returns.  Everything else
 * (more digits, larger exponents, hex, inf/nan, malformed text) is left to
 * strtod by the caller.  It exists because strtod_l is ~10x slower than the
 * rest of the CSV reader. */
#include "internal.h"

#include <stdint.h>

/* 10^0 .. 10^22: every one is exactly representable as a double. */
static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int csi_parse_decimal(const char *p, size_t n, int comma, double *out) {
  const char *e = p + n;
  int neg = 0;
  if (p < e && (*p == '+' || *p == '-'))
    neg = *p++ == '-';
  uint64_t m = 0;
  int sig = 0;      /* significant digits taken into m */
  int digits = 0;   /* all digits seen */
  int exp10 = 0;    /* decimal exponent of m */
  int point = 0;
  for (; p < e; p++) {
    unsigned d = (unsigned)(unsigned char)*p - '0';
    if (d < 10) {
      digits++;
      if (point)
        exp10--;
      if (m == 0 && d == 0)
        continue; /* leading zeros are not significant */
      if (++sig > 19)
        return 1;
      m = m * 10 + d;
    } else if (!point && (*p == '.' || (comma && *p == ','))) {
      point = 1;
    } else {
      break;
    }
  }
  if (!digits)
    return 1;
  if (p < e) {
    if (*p != 'e' && *p != 'E')
      return 1;
    p++;
    int eneg = 0;
    if (p < e && (*p == '+' || *p == '-'))
      eneg = *p++ == '-';
    if (p == e)
      return 1;
    int x = 0;
    for (; p < e; p++) {
      unsigned d = (unsigned)(unsigned char)*p - '0';
      if (d >= 10 || x > 100000)
        return 1; /* trailing junk, or an exponent strtod must judge */
      x = x * 10 + (int)d;
    }
    exp10 += eneg ? -x : x;
  }
  double v;
  if (m == 0)
    v = 0.0; /* "0", "0.000e7": strtod gives +-0 whatever the exponent */
  else if (exp10 == 0)
    v = (double)m; /* one correctly rounded conversion, even above 2^53 */
  else if (m > (UINT64_C(1) << 53) || exp10 < -22 || exp10 > 22)
    return 1;
  else if (exp10 > 0)
    v = (double)m * pow10_exact[exp10];
  else
    v = (double)m / pow10_exact[-exp10];
  *out = neg ? -v : v;
  return 0;
}
