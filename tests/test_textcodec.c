/* test_textcodec.c: the fast text decoders of the I/O path against simple
 * references: the table base64 decoder against the per-character decoder it
 * replaced (kept here verbatim as the reference), and the Clinger fast path
 * for decimal numbers against strtod, bit for bit. */
#include "testutil.h"

#include "internal.h"

#include <ctype.h>
#include <float.h>

/* Mirrors the condition for numparse.c's x87 path. */
#if LDBL_MANT_DIG == 64 && LDBL_MAX_EXP == 16384 && \
    (defined(__x86_64__) || defined(__i386__))
#define X87_PATH 1
#else
#define X87_PATH 0
#endif

/* ---- base64 ---- */

static int ref_b64val(unsigned char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+' || c == '-')
    return 62;
  if (c == '/' || c == '_')
    return 63;
  return -1;
}

/* The decoder before the table version: -1 on an invalid character. */
static int ref_base64_decode(const char *in, size_t len, unsigned char *o,
                             size_t *outlen) {
  size_t n = 0;
  unsigned acc = 0;
  int bits = 0, pad = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)in[i];
    if (isspace(c))
      continue;
    if (c == '=') {
      pad++;
      continue;
    }
    int v = ref_b64val(c);
    if (v < 0 || pad)
      return -1;
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      o[n++] = (unsigned char)(acc >> bits);
    }
  }
  *outlen = n;
  return 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void) { /* xorshift64*: a fixed, portable sequence */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717u;
}

/* Decode `text` with both decoders; they must agree on success/failure and,
 * on success, on every byte. */
static void b64_agree(const char *text, size_t len) {
  unsigned char *ref = malloc(len / 4 * 3 + 3), *got = NULL;
  assert_non_null(ref);
  size_t nref = 0, ngot = 0;
  int rc = ref_base64_decode(text, len, ref, &nref);
  cs_error err;
  cs_status st = csi_base64_decode(text, len, &got, &ngot, &err);
  if (rc) {
    assert_int_equal(st, CS_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "invalid base64 character"));
  } else {
    STATUS_EQ(st, CS_OK, &err);
    assert_int_equal(ngot, nref);
    if (nref)
      assert_memory_equal(got, ref, nref);
    free(got);
  }
  free(ref);
}

static void test_base64_random(void **state) {
  (void)state;
  static const char ws[] = " \t\n\r\v\f";
  for (int trial = 0; trial < 3000; trial++) {
    size_t nraw = (size_t)(rnd() % 700);
    unsigned char *raw = malloc(nraw + 1);
    assert_non_null(raw);
    for (size_t i = 0; i < nraw; i++)
      raw[i] = (unsigned char)rnd();
    char *b = csi_base64_encode(raw, nraw);
    assert_non_null(b);
    size_t n = strlen(b);
    /* insert white space: line breaks every 64/76 columns, or random runs */
    char *t = malloc(4 * n + 16);
    assert_non_null(t);
    size_t m = 0;
    int mode = trial % 4;
    for (size_t i = 0; i < n; i++) {
      if (mode == 1 && i && i % 76 == 0)
        t[m++] = '\n';
      if (mode == 2 && i && i % 64 == 0) {
        t[m++] = '\r';
        t[m++] = '\n';
      }
      if (mode == 3 && rnd() % 7 == 0)
        for (int k = (int)(rnd() % 3); k >= 0; k--)
          t[m++] = ws[rnd() % 6];
      char c = b[i];
      if (trial % 5 == 0 && c == '+')
        c = '-'; /* URL-safe alphabet */
      if (trial % 5 == 0 && c == '/')
        c = '_';
      t[m++] = c;
    }
    if (trial % 3 == 0)
      t[m++] = '\n';
    b64_agree(t, m);
    /* the decoded bytes are the original */
    unsigned char *out;
    size_t nout;
    cs_error err;
    STATUS_EQ(csi_base64_decode(t, m, &out, &nout, &err), CS_OK, &err);
    assert_int_equal(nout, nraw);
    if (nraw)
      assert_memory_equal(out, raw, nraw);
    free(out);
    /* corruptions: a random byte replaced, a '=' moved inside, truncation */
    if (m) {
      size_t at = (size_t)(rnd() % m);
      char save = t[at];
      t[at] = (char)(rnd() % 256);
      b64_agree(t, m);
      t[at] = '=';
      b64_agree(t, m);
      t[at] = save;
      b64_agree(t, at);
    }
    free(t);
    free(b);
    free(raw);
  }
}

static void test_base64_edges(void **state) {
  (void)state;
  const char *cases[] = {"", "=", "====", " \n ", "QQ", "QQ==", "QQ==\n",
                         "QQ= =", "QQ==QQ", "QUJD", "QUJ", "Q", "QU JD",
                         "Q\nU\nJ\nD", "QUJD====", "QUJD\x80", "QU\0D",
                         "QUJD\xff\xfe", "-_-_", "+/+/", "QUJD=\t"};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    b64_agree(cases[i], i == 16 ? 4 : strlen(cases[i]));
}

/* ---- decimal numbers ---- */

/* The fast path either declines (1) or gives exactly strtod's double, with
 * the sign of zero.  Returns 1 when the fast path took the number. */
static int dec_agree(const char *text, int comma) {
  double got = 12345.0;
  size_t n = strlen(text);
  int rc = csi_parse_decimal(text, n, comma, &got);
  if (rc) {
    assert_int_equal(rc, 1);
    assert_true(got == 12345.0); /* *out untouched */
    return 0;
  }
  char buf[128];
  assert_true(n < sizeof buf);
  memcpy(buf, text, n + 1);
  if (comma)
    for (char *c = buf; *c; c++)
      if (*c == ',')
        *c = '.';
  char *end;
  double ref = csi_strtod(buf, &end);
  if (*end != '\0' || memcmp(&got, &ref, sizeof got) != 0) {
    fail_msg("'%s': fast %.17g, strtod %.17g (stopped at '%s')", text, got,
             ref, end);
  }
  return 1;
}

static void test_decimal_edges(void **state) {
  (void)state;
  /* taken by the fast path */
  const char *fast[] = {"0", "-0", "+0", "0.0", "-0.0e5", "0e-400", "000",
                        "1", "-1", "+1", "1.", ".5", "-.5e-3", "5.e2",
                        "1e22", "1e-22", "-1E+22", "123456789012345678",
                        "9007199254740992", "9007199254740993",
                        "9999999999999999999", "1844674407370955161",
                        "0.1", "0.2", "0.3", "4.9e-5",
                        "9007199254740991e22",
                        "9007199254740991e-22", "000123.4500", "1e+05",
                        "0.000000000000000000001", "1234.5678", "-0.000123",
                        "6.02214076e22", "1.602176634e-12"};
  for (size_t i = 0; i < sizeof fast / sizeof *fast; i++)
    if (!dec_agree(fast[i], 0))
      fail_msg("'%s' should take the fast path", fast[i]);
  /* left to strtod (declined), whatever strtod then makes of them */
  const char *slow[] = {"", "+", "-", ".", "e5", "1e", "1e+", "1e28",
                        "1e-28", "12345678901234567890",
                        "1.0000000000000000000", "inf", "-inf", "nan",
                        "0x1p3", " 1", "1 ", "1,5", "1.5.2", "--1", "1e5x",
                        "1e1000000000", "1.5e-400", "1.7976931348623157e308",
                        "4.9e-324", "0.0000000000000000000000000001",
                        /* x87 path: exactly halfway (1e23 = 5^23 2^23 and
                         * 5^23 has 54 bits), 2^53 + 1 */
                        "1e23", "9007199254740993000e-3", "900719925474099300e-2"};
  for (size_t i = 0; i < sizeof slow / sizeof *slow; i++)
    if (dec_agree(slow[i], 0))
      fail_msg("'%s' should be declined", slow[i]);
  /* beyond Clinger (> 2^53 or |e| > 22): the x87 path where there is one */
  const char *x87[] = {"3e23", "1e-23", "9007199254740993e1",
                       "1.7976931348623157", "2.2250738585072014e-8",
                       "0.0000000000000000000000001", "1234.5678901234567",
                       "-0.12345678901234568", "9999999999999999999e27",
                       "1e-27", "8.5e-26", "9007199254740993001e-3"};
  for (size_t i = 0; i < sizeof x87 / sizeof *x87; i++) {
    int taken = dec_agree(x87[i], 0);
#if X87_PATH
    /* the last one is 1.02 long double ulps above halfway: declined */
    if (taken != (i + 1 < sizeof x87 / sizeof *x87))
      fail_msg("'%s': fast path %s", x87[i], taken ? "taken" : "declined");
#else
    (void)taken;
#endif
  }
  /* decimal comma: ',' is the point, '.' still is */
  assert_true(dec_agree("532,02", 1));
  assert_true(dec_agree("-0,5e3", 1));
  assert_true(dec_agree("532.02", 1));
  assert_false(dec_agree("1,5,2", 1));
  assert_false(dec_agree("1,5.2", 1));
}

/* Millions of random decimals of every shape: 1-20 significant digits,
 * a point anywhere, exponents -30..30, signs, leading/trailing zeros, and
 * printf %.Ng of random doubles.  Every one the fast path takes must equal
 * strtod bit for bit; all short %.15g numbers in range must be taken. */
static void test_decimal_random(void **state) {
  (void)state;
  size_t taken = 0, total = 0;
  char s[96];
  for (int trial = 0; trial < 2000000; trial++) {
    uint64_t r = rnd();
    if (trial % 2 == 0) {
      int nd = 1 + (int)(r % 20), pt = (int)((r >> 8) % (unsigned)(nd + 2));
      size_t k = 0;
      if ((r >> 16) & 1)
        s[k++] = (r >> 17) & 1 ? '-' : '+';
      int lead0 = (int)((r >> 18) % 4);
      for (int i = 0; i < lead0; i++)
        s[k++] = '0';
      for (int i = 0; i < nd; i++) {
        if (i == pt)
          s[k++] = '.';
        s[k++] = (char)('0' + rnd() % 10);
      }
      if (pt == nd)
        s[k++] = '.';
      if ((r >> 20) % 3 == 0) {
        int x = (int)((r >> 24) % 61) - 30;
        k += (size_t)snprintf(s + k, sizeof s - k, "%s%d",
                              (r >> 30) & 1 ? "e" : "E", x);
      }
      s[k] = '\0';
    } else {
      double mant = (double)(r >> 11) / 9007199254740992.0;
      int ex = (int)((r & 0x7ff) % 41) - 20;
      double v = mant * pow(10.0, ex) * ((r >> 63) ? -1 : 1);
      int prec = 1 + (int)(rnd() % 17);
      snprintf(s, sizeof s, "%.*g", prec, v);
      if (prec <= 15 && fabs(v) >= 1e-5 && fabs(v) < 1e7) {
        /* <= 15 digits < 2^53 and a small exponent: must be fast */
        if (!dec_agree(s, 0))
          fail_msg("'%s' should take the fast path", s);
        taken++;
        total++;
        continue;
      }
    }
    taken += (size_t)dec_agree(s, 0);
    total++;
  }
  /* the fast path is the common case, not a formality */
  assert_true(taken > total / 2);
}

/* Random doubles in 1e-3..1e6 printed as %.17g, %.15g and the shortest
 * text that reads back: what calcspec and instruments write.  All must
 * agree with strtod; with the x87 path nearly all are taken (it declines
 * the 3 in 2048 that land next to a rounding boundary). */
static void test_decimal_printed(void **state) {
  (void)state;
  size_t taken = 0, total = 0;
  char s[64];
  for (int trial = 0; trial < 400000; trial++) {
    double v = exp(log(1e-3) + (log(1e6) - log(1e-3)) *
                                   ((double)(rnd() >> 11) / 9007199254740992.0));
    if (trial & 1)
      v = -v;
    snprintf(s, sizeof s, "%.17g", v);
    taken += (size_t)dec_agree(s, 0);
    snprintf(s, sizeof s, "%.15g", v);
    taken += (size_t)dec_agree(s, 0);
    for (int prec = 1; prec <= 17; prec++) {
      snprintf(s, sizeof s, "%.*g", prec, v);
      if (strtod(s, NULL) == v)
        break;
    }
    taken += (size_t)dec_agree(s, 0);
    total += 3;
  }
  if (X87_PATH)
    assert_true(taken > total - total / 100);
}

/* The hard cases for the x87 path: decimals within a few units of the 19th
 * digit of a halfway point between two doubles (or of a double itself).
 * The halfway point h is exact in long double; its 19-digit rounding,
 * nudged by -2..+2 in the last digit, with the point moved by a random
 * exponent, must still give strtod's double. */
static void test_decimal_halfway(void **state) {
  (void)state;
  size_t taken = 0;
  char s[96], t[96];
  for (int trial = 0; trial < 600000; trial++) {
    uint64_t r = rnd();
    double mant = 1.0 + (double)(r >> 12) / 4503599627370496.0;
    int ex = (int)(rnd() % 120) - 60;
    double d = ldexp(mant, ex);
    long double h = (long double)d;
    if (trial % 4 != 3) /* halfway to the next double; else d itself */
      h += (long double)(nextafter(d, INFINITY) - d) / 2;
    /* 19 significant digits: d.ddd...e[+-]x */
    snprintf(s, sizeof s, "%.18Le", h);
    char *e = strchr(s, 'e');
    int x = atoi(e + 1) - 18;
    /* digits only, as an integer significand */
    size_t k = 0;
    for (char *c = s; c < e; c++)
      if (*c >= '0' && *c <= '9')
        t[k++] = *c;
    t[k] = '\0';
    uint64_t m = strtoull(t, NULL, 10);
    m += (uint64_t)((int)(rnd() % 5) - 2);
    if (m < 1000000000000000000ULL || m > 9999999999999999999ULL)
      continue;
    snprintf(t, sizeof t, "%llu", (unsigned long long)m);
    /* put the point somewhere inside, keep the value */
    int pt = (int)(rnd() % 20);
    k = 0;
    if (rnd() & 1)
      s[k++] = '-';
    for (int i = 0; i < 19; i++) {
      if (i == pt)
        s[k++] = '.';
      s[k++] = t[i];
    }
    snprintf(s + k, sizeof s - k, "e%d", x + (19 - pt) * (pt < 19));
    taken += (size_t)dec_agree(s, 0);
  }
  /* not all declined: the exponents within +-27 are mostly taken */
  assert_true(taken > 0);
}

static void test_parse_number(void **state) {
  (void)state;
  double v = 7;
  const char *bad[] = {"", " 1", "1 ", "\t1", "inf", "-nan", "1e999",
                       "-1e400", "1x", "--1", "1,5", ".", "e1", "+"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (cs_parse_number(bad[i], strlen(bad[i]), &v) != -1 || v != 7)
      fail_msg("'%s' should not be a number", bad[i]);
  assert_int_equal(cs_parse_number("12", 1, &v), 0); /* n, not the NUL */
  assert_true(v == 1.0);
  assert_int_equal(cs_parse_number("1\0" "2", 3, &v), -1);
  const char *good[] = {"-0", "0", "4.9e-324", "1e-400", "1.7976931348623157e308",
                        "0x1p3", "12345678901234567890123", "1e23",
                        "1234.5678901234567", "-2.5e-7", "1e308"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    double ref = strtod(good[i], NULL);
    assert_int_equal(cs_parse_number(good[i], strlen(good[i]), &v), 0);
    assert_memory_equal(&v, &ref, sizeof v);
  }
  /* longer than the stack copy */
  char big[400];
  memset(big, '0', sizeof big);
  big[0] = '0';
  big[1] = '.';
  big[sizeof big - 2] = '7';
  big[sizeof big - 1] = '\0';
  assert_int_equal(cs_parse_number(big, strlen(big), &v), 0);
  double ref = strtod(big, NULL);
  assert_memory_equal(&v, &ref, sizeof v);
  assert_int_equal(cs_parse_number(big, strlen(big) - 1, &v), 0); /* "0.000" */
  assert_true(v == 0 && !signbit(v));
}

/* ---- shortest text of a double ---- */

/* The rule csi_fmt_shortest follows, as it was written before its shortcuts:
 * the first of %.15g, %.16g, %.17g that strtod reads back. */
static void ref_shortest(char *buf, size_t cap, double v) {
  for (int p = 15; p <= 17; p++) {
    snprintf(buf, cap, "%.*g", p, v);
    if (p == 17 || strtod(buf, NULL) == v)
      break;
  }
}

static void shortest_agrees(double v) {
  char got[64], want[64];
  int n = csi_fmt_shortest(got, sizeof got, v);
  ref_shortest(want, sizeof want, v);
  if (strcmp(got, want) || n != (int)strlen(want))
    fail_msg("%a: '%s' (%d), reference '%s'", v, got, n, want);
}

/* Byte for byte the reference's text on random bit patterns, integers,
 * short decimals, powers of ten and their neighbours (the 1e15..1e17 ones
 * change %g's notation between 15 and 17 digits), zeros and non-finite
 * values; a too-small buffer truncates as snprintf does. */
static void test_shortest(void **state) {
  (void)state;
  const double special[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, DBL_MIN,
                            DBL_MAX, 4.9e-324, 0.1, 0.3, 1.0 / 3, 400, 1800,
                            123456789012345.0, 999999999999999.0,
                            9999999999999998.0, 1e15, 1e16, 1e17, 1.5e16,
                            -2.5e15, 1e-4, 1e-5, 0.0001234, 8389275,
                            /* digits beyond 15 or 16 exactly 5 then 0
                             * (halfway in the 17-digit text), carries */
                            1234567890123450.0, 1234567890123455.0,
                            -12345678901234550.0, 999999999999999.5,
                            9999999999999995.0, 0.000099999999999999995,
                            99999999999999990.0};
  for (size_t i = 0; i < sizeof special / sizeof *special; i++)
    shortest_agrees(special[i]);
  for (int e = -320; e <= 308; e++) {
    double p = pow(10, e);
    for (int k = -3; k <= 3; k++) {
      double v = p;
      for (int j = 0; j < (k < 0 ? -k : k); j++)
        v = nextafter(v, k < 0 ? 0 : INFINITY);
      shortest_agrees(v);
      shortest_agrees(-v * 7);
    }
  }
  for (int trial = 0; trial < 300000; trial++) {
    uint64_t r = rnd(), bits = rnd();
    double v;
    switch (trial % 4) {
    case 0: /* any finite double */
      memcpy(&v, &bits, sizeof v);
      if (!isfinite(v))
        continue;
      break;
    case 1: /* integers, up to 2^62 */
      v = (double)(int64_t)(bits >> (r % 64 | 2));
      break;
    case 2: /* short decimals: k / 10^j */
      v = (double)(bits % 100000000) / pow(10, (double)(r % 25));
      break;
    default: /* a computed value near 10^e, e in -8..20 */
      v = ((double)(bits >> 11) / 9007199254740992.0 + 0.5) *
          pow(10, (double)(r % 29) - 8);
    }
    shortest_agrees(v);
  }
  char small[6];
  int n = csi_fmt_shortest(small, sizeof small, 1234567.0);
  assert_int_equal(n, 7);
  assert_string_equal(small, "12345");
  n = csi_fmt_shortest(small, sizeof small, 0.1);
  assert_int_equal(n, 3);
  assert_string_equal(small, "0.1");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_base64_random),
      cmocka_unit_test(test_base64_edges),
      cmocka_unit_test(test_decimal_edges),
      cmocka_unit_test(test_decimal_random),
      cmocka_unit_test(test_decimal_printed),
      cmocka_unit_test(test_decimal_halfway),
      cmocka_unit_test(test_parse_number),
      cmocka_unit_test(test_shortest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
