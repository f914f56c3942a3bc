/* test_textcodec.c: the fast text decoders of the I/O path against simple
 * references: the table base64 decoder against the per-character decoder it
 * replaced (kept here verbatim as the reference). */
#include "testutil.h"

#include "internal.h"

#include <ctype.h>

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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_base64_random),
      cmocka_unit_test(test_base64_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
