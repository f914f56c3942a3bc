/* numparse.c: a locale-independent fast path for decimal numbers in text
 * (Clinger 1990): when the significand has at most 19 significant digits and
 * fits 2^53, and the decimal exponent is within +-22, both the significand and
 * 10^|e| are exact doubles and ONE multiplication or division gives the
 * correctly rounded result, i.e. exactly what strtod returns.  Everything else
 * (more digits, larger exponents, hex, inf/nan, malformed text) is left to
 * strtod by the caller.  On x86 a second exact path (x87_scale) takes up
 * to 19 digits and exponents within +-27, which covers %.17g output.
 * It exists because strtod_l is ~10x slower than the
 * rest of the CSV reader. */
#include "internal.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

/* Second fast path: x87 80-bit long double (64-bit significand, little
 * endian, significand in the low 8 bytes).  Elsewhere only Clinger's. */
#if LDBL_MANT_DIG == 64 && LDBL_MAX_EXP == 16384 && \
    (defined(__x86_64__) || defined(__i386__))
#define CSI_X87_PATH 1
/* 10^0 .. 10^27: 10^27 = 2^27 * 5^27 and 5^27 < 2^63, so each is exact. */
static const long double pow10_x87[28] = {
    1e0L,  1e1L,  1e2L,  1e3L,  1e4L,  1e5L,  1e6L,  1e7L,  1e8L,  1e9L,
    1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
    1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L};

/* m * 10^e (m < 2^64, |e| <= 27, m > 0) as the correctly rounded double, or
 * 1 when that cannot be decided cheaply.  m and 10^|e| are exact long
 * doubles, so ONE multiplication or division rounds the exact value x to r
 * with |r - x| <= 1/2 ulp of the 64-bit significand.  Rounding r to double
 * then equals rounding x, unless a double rounding boundary (a halfway point,
 * low 11 bits 0x400) lies between x and r; that can only happen when r's low
 * 11 bits are 0x400 itself (0x3ff and 0x401 leave it 1/2 ulp out of reach),
 * and we decline 0x3ff..0x401.  The result, 1e-27..1.9e46, is a normal
 * double, so no subnormal or overflow boundary comes into it. */
static int x87_scale(uint64_t m, int e, double *out) {
  long double r = (long double)m;
  if (e >= 0)
    r *= pow10_x87[e];
  else
    r /= pow10_x87[-e];
  uint64_t bits;
  memcpy(&bits, &r, sizeof bits); /* the explicit 64-bit significand */
  unsigned low = (unsigned)(bits & 0x7ff);
  if (low >= 0x3ff && low <= 0x401)
    return 1;
  *out = (double)r;
  return 0;
}
#endif

/* 10^0 .. 10^22: every one is exactly representable as a double. */
static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Eight digits at once (SWAR, as in simdjson and fast_float): the digit
 * loop is one chain of multiply-adds, ~4 cycles a digit; %.17g text has 17
 * digits a number.  1 when p[0..8) are all digits, their value in *v. */
/* The value of eight digit bytes already less '0' (first digit lowest). */
static uint64_t swar8(uint64_t w) {
  w = w * 10 + (w >> 8); /* pairs */
  w = ((w & UINT64_C(0x000000FF000000FF)) * (100 + (UINT64_C(1000000) << 32)) +
       ((w >> 16) & UINT64_C(0x000000FF000000FF)) * (1 + (UINT64_C(10000) << 32))) >> 32;
  return (uint32_t)w;
}

/* Nonzero in each byte of w that is not a digit.  A carry of the +6 can
 * only spoil bytes after the first non-digit, which callers ignore. */
static uint64_t non_digits(uint64_t w) {
  return ((w & UINT64_C(0xF0F0F0F0F0F0F0F0)) |
          (((w + UINT64_C(0x0606060606060606)) & UINT64_C(0xF0F0F0F0F0F0F0F0)) >> 4)) ^
         UINT64_C(0x3333333333333333);
}

static const uint64_t pow10_u64[9] = {1,      10,      100,      1000,     10000,
                                      100000, 1000000, 10000000, 100000000};
#define CSI_SWAR_DIGITS 1
#endif

/* Digits from *pp on into *m; returns how many.  Past 19 significant
 * digits m is garbage, and the caller declines. */
static size_t digit_run(const char **pp, const char *e, uint64_t *m) {
  const char *p = *pp, *p0 = p;
  uint64_t v = *m;
#ifdef CSI_SWAR_DIGITS
  /* eight bytes at a time while the text has them: a full word of digits,
   * or the k < 8 digits before the first non-digit, shifted up so that the
   * bytes below them read as leading zeros (no branch per digit) */
  while (e - p >= 8) {
    uint64_t w;
    memcpy(&w, p, sizeof w);
    uint64_t nd = non_digits(w);
    w -= UINT64_C(0x3030303030303030);
    if (!nd) {
      v = v * 100000000 + swar8(w), p += 8;
      continue;
    }
    unsigned k = (unsigned)__builtin_ctzll(nd) >> 3;
    if (k)
      v = v * pow10_u64[k] + swar8(w << (8 * (8 - k))), p += k;
    *m = v;
    *pp = p;
    return (size_t)(p - p0);
  }
#endif
  for (unsigned d; p < e && (d = (unsigned)(unsigned char)*p - '0') < 10; p++)
    v = v * 10 + d;
  *m = v;
  *pp = p;
  return (size_t)(p - p0);
}

int csi_parse_decimal(const char *p, size_t n, int comma, double *out) {
  const char *e = p + n;
  int neg = 0;
  if (p < e && (*p == '+' || *p == '-'))
    neg = *p++ == '-';
  uint64_t m = 0;
  size_t sig = 0;    /* significant digits taken into m */
  size_t digits = 0; /* all digits seen */
  int exp10 = 0;     /* decimal exponent of m */
  /* leading zeros are not significant */
  const char *z = p;
  while (p < e && *p == '0')
    p++;
  digits = (size_t)(p - z);
  size_t k = digit_run(&p, e, &m);
  digits += k, sig += k;
  if (p < e && (*p == '.' || (comma && *p == ','))) {
    p++;
    z = p;
    if (m == 0) /* 0.000123: zeros after the point, still not significant */
      while (p < e && *p == '0')
        p++;
    size_t zf = (size_t)(p - z);
    k = digit_run(&p, e, &m);
    digits += zf + k, sig += k;
    if (zf + k > 100000)
      return 1;
    exp10 = -(int)(zf + k);
  }
  if (sig > 19)
    return 1;
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
  else if (m <= (UINT64_C(1) << 53) && exp10 >= -22 && exp10 <= 22)
    v = exp10 > 0 ? (double)m * pow10_exact[exp10]
                  : (double)m / pow10_exact[-exp10];
#ifdef CSI_X87_PATH
  /* 17-digit text (%.17g, instrument exports) lands here. */
  else if (exp10 < -27 || exp10 > 27 || x87_scale(m, exp10, &v))
    return 1;
#else
  else
    return 1;
#endif
  *out = neg ? -v : v;
  return 0;
}

int cs_parse_number(const char *p, size_t n, double *out) {
  double v;
  if (!p || !out || n == 0)
    return -1;
  if (csi_parse_decimal(p, n, 0, &v) == 0) {
    *out = v;
    return 0;
  }
  /* strtod needs a terminated copy and would skip leading blanks. */
  if (isspace((unsigned char)p[0]))
    return -1;
  char small[128], *buf = n < sizeof small ? small : malloc(n + 1);
  if (!buf)
    return -1;
  memcpy(buf, p, n);
  buf[n] = '\0';
  char *end;
  v = csi_strtod(buf, &end);
  int bad = end != buf + n || !isfinite(v);
  if (buf != small)
    free(buf);
  if (bad)
    return -1;
  *out = v;
  return 0;
}
