/* testutil.h: helpers for the cmocka unit tests. */
#ifndef CALCSPEC_TESTUTIL_H
#define CALCSPEC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calcspec.h"

/* |got - want| <= tol, with a readable failure message. */
#define DBL_NEAR(got, want, tol)                                               \
  do {                                                                         \
    double g_ = (got), w_ = (want), t_ = (tol);                                \
    if (!(fabs(g_ - w_) <= t_))                                                \
      fail_msg("%s = %.17g, want %.17g (tol %g)", #got, g_, w_, t_);           \
  } while (0)

static inline const char *err_msg_(const cs_error *e) { return e ? e->msg : ""; }

/* Status equals, printing the error message when it does not. */
#define STATUS_EQ(call, want, errp)                                            \
  do {                                                                         \
    cs_status s_ = (call);                                                     \
    if (s_ != (want))                                                          \
      fail_msg("%s -> %s (%s), want %s", #call, cs_strerror(s_),               \
               err_msg_(errp), cs_strerror(want));                             \
  } while (0)

/* Path of a file in ../shared, or NULL (after printing why) when the
 * reference folder is absent; callers then skip().  Returns a static buffer
 * overwritten by the next call. */
static inline const char *shared_path(const char *rel) {
  static char buf[4096];
  const char *root = getenv("CALCSPEC_SHARED");
  if (!root || !*root)
    root = "../shared";
  snprintf(buf, sizeof buf, "%s/%s", root, rel);
  struct stat st;
  if (stat(buf, &st) != 0) {
    print_message("skip: %s not found (../shared reference data absent)\n",
                  buf);
    return NULL;
  }
  return buf;
}

#define SHARED_OR_SKIP(var, rel)                                               \
  const char *var = shared_path(rel);                                          \
  if (!var) {                                                                  \
    skip();                                                                    \
    return;                                                                    \
  }

/* A fresh temporary directory for a test (removed by the test runner's
 * TMPDIR cleanup); returns a static buffer. */
static inline const char *test_tmpdir(void) {
  static char dir[256];
  const char *base = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/calcspec-test-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(dir))
    fail_msg("mkdtemp failed");
  return dir;
}

/* Write n bytes of data to NAME in a fresh temporary directory; returns the
 * path (a static buffer, one per test file, overwritten by the next call). */
static inline const char *test_write_tmp(const char *name, const void *data,
                                         size_t n) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
  return path;
}

/* The same for a NUL-terminated text (written without the NUL). */
static inline const char *test_write_text(const char *name, const char *text) {
  return test_write_tmp(name, text, strlen(text));
}

/* Copy the first len bytes of from to to (fewer if from is shorter);
 * 0 ok, -1 on an I/O error. */
static inline int test_copy_file(const char *from, const char *to, size_t len) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  int rc = -1;
  if (in && out) {
    char buf[8192];
    size_t n, left = len;
    rc = 0;
    while (left &&
           (n = fread(buf, 1, left < sizeof buf ? left : sizeof buf, in)) > 0) {
      if (fwrite(buf, 1, n, out) != n)
        rc = -1;
      left -= n;
    }
  }
  if (in)
    fclose(in);
  if (out && fclose(out))
    rc = -1;
  return rc;
}

/* The whole of path in a malloc'd buffer, NUL-terminated, failing the test
 * otherwise; *n is its length. */
static inline unsigned char *test_slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)len + 1);
  assert_non_null(b);
  assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  b[len] = 0; /* text files can be parsed in place */
  *n = (size_t)len;
  return b;
}

/* b[0..n) written to path, then read with reader: the status, *ds and err
 * as cs_dataset_read left them. */
static inline cs_status test_write_read(const char *path, const void *b,
                                        size_t n, const char *reader,
                                        cs_dataset **ds, cs_error *err) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, n, f), n);
  fclose(f);
  *ds = NULL;
  return cs_dataset_read(path, reader, ds, err);
}

/* 300 single-byte flips of orig[0..n), each written to cut and read with
 * reader: a read may succeed or be refused as malformed/unsupported, never
 * anything else.  On the flips with t % 2 == head_parity the position is
 * kept inside the first head bytes (the binary headers).  seed fixes the
 * sequence (an LCG, so every run flips the same bytes). */
static inline void test_read_flips(const unsigned char *orig, size_t n,
                                   const char *cut, const char *reader,
                                   const char *label, uint32_t seed,
                                   size_t head, int head_parity) {
  unsigned char *b = malloc(n);
  assert_non_null(b);
  uint32_t rng = seed;
  for (int t = 0; t < 300; t++) {
    memcpy(b, orig, n);
    rng = rng * 1103515245u + 12345u;
    size_t pos = (rng >> 8) % n;
    if (t % 2 == head_parity)
      pos %= n < head ? n : head;
    rng = rng * 1103515245u + 12345u;
    b[pos] ^= (unsigned char)(1 + (rng >> 16) % 255);
    cs_dataset *ds;
    cs_error err;
    cs_status st = test_write_read(cut, b, n, reader, &ds, &err);
    if (st != CS_OK && st != CS_ERR_MALFORMED && st != CS_ERR_UNSUPPORTED)
      fail_msg("%s flip at %zu: %s (%s)", label, pos, cs_strerror(st),
               err.msg);
    cs_dataset_free(ds);
  }
  free(b);
}

/* Twenty prefixes of orig[0..n) (length k*n/20 + (k%3)*step), each written
 * to cut and read with reader: a read may succeed or be refused as malformed
 * (or unsupported, when unsupported_ok), never anything else. */
static inline void test_read_cuts(const unsigned char *orig, size_t n,
                                  const char *cut, const char *reader,
                                  const char *label, size_t step,
                                  int unsupported_ok) {
  for (size_t k = 0; k < 20; k++) {
    size_t len = k * n / 20 + (k % 3) * step;
    if (len >= n)
      continue;
    cs_dataset *ds;
    cs_error err;
    cs_status st = test_write_read(cut, orig, len, reader, &ds, &err);
    if (st == CS_OK) /* a cut after the blocks that are read */
      cs_dataset_free(ds);
    else if (st != CS_ERR_MALFORMED &&
             !(unsupported_ok && st == CS_ERR_UNSUPPORTED))
      fail_msg("%s cut at %zu: %s (%s)", label, len, cs_strerror(st), err.msg);
  }
}

/* fuzz(bytes, n, rel) on each of the nrel shared files that are present. */
static inline void test_fuzz_shared(const char *const *rel, size_t nrel,
                                    void (*fuzz)(const unsigned char *, size_t,
                                                 const char *)) {
  for (size_t i = 0; i < nrel; i++) {
    const char *p = shared_path(rel[i]);
    if (!p)
      continue;
    size_t n;
    unsigned char *b = test_slurp(p, &n);
    fuzz(b, n, rel[i]);
    free(b);
  }
}

/* Reset the high-water mark test_peak_kb reads to the current RSS, if the
 * kernel allows (/proc/self/clear_refs "5"); 1 when it did, else
 * test_peak_kb stays the lifetime peak. */
static inline int test_reset_peak(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (!f)
    return 0;
  int ok = fputs("5", f) >= 0;
  return fclose(f) == 0 && ok;
}

/* Peak resident set of this process in kB (VmHWM, else the rusage peak). */
static inline long test_peak_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
      break;
  if (f)
    fclose(f);
  if (kb < 0) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    kb = ru.ru_maxrss;
  }
  return kb;
}

/* Read path (with reader fmt, NULL = detect), failing the test otherwise. */
static inline cs_dataset *test_read_ok(const char *path, const char *fmt) {
  cs_error err;
  cs_dataset *ds = NULL;
  STATUS_EQ(cs_dataset_read(path, fmt, &ds, &err), CS_OK, &err);
  assert_non_null(ds);
  return ds;
}

/* path is detected as format fmt and reads (detected) without error. */
static inline cs_dataset *test_read_detected(const char *path,
                                             const char *fmt) {
  const char *got;
  cs_error err, *ep = &err;
  STATUS_EQ(cs_format_detect(path, &got, ep), CS_OK, ep);
  assert_string_equal(got, fmt);
  return test_read_ok(path, NULL);
}

/* 24 prefixes (k/25 of len bytes) of the file src, each copied to tmp and
 * read with reader: every one is malformed (XML cut short), with no dataset
 * and, when need_msg, a message. */
static inline void test_cuts_malformed(const char *src, size_t len,
                                       const char *tmp, const char *reader,
                                       const char *label, int need_msg) {
  for (size_t k = 1; k <= 24; k++) {
    size_t cut = len * k / 25;
    assert_int_equal(test_copy_file(src, tmp, cut), 0);
    cs_error err;
    cs_dataset *ds = NULL;
    cs_status st = cs_dataset_read(tmp, reader, &ds, &err);
    if (st != CS_ERR_MALFORMED)
      fail_msg("%s cut at %zu: %s", label, cut, cs_strerror(st));
    assert_null(ds);
    if (need_msg)
      assert_true(err.msg[0] != '\0');
  }
}

/* 60 copies of buf[0..len) with one bit flipped at a pseudo-random place
 * (*rng: an LCG, carried from file to file), each written to tmp and read
 * with reader: read, or refused as malformed or unsupported (a flip in a
 * unit, type or encoding name), never anything else; when strict, a refusal
 * leaves no dataset and says why. */
static inline void test_flip_bits(const char *buf, size_t len, const char *tmp,
                                  const char *reader, const char *label,
                                  unsigned *rng, int strict) {
  char *mod = malloc(len);
  assert_non_null(mod);
  for (int k = 0; k < 60; k++) {
    *rng = *rng * 1103515245u + 12345u;
    size_t at = (*rng >> 8) % len;
    memcpy(mod, buf, len);
    mod[at] = (char)(mod[at] ^ (1 << (*rng >> 4 & 7)));
    FILE *o = fopen(tmp, "wb");
    assert_non_null(o);
    assert_int_equal(fwrite(mod, 1, len, o), len);
    fclose(o);
    cs_error err;
    cs_dataset *ds = NULL;
    cs_status st = cs_dataset_read(tmp, reader, &ds, &err);
    if (st != CS_OK && st != CS_ERR_MALFORMED && st != CS_ERR_UNSUPPORTED)
      fail_msg("%s flip at %zu: %s (%s)", label, at, cs_strerror(st),
               err.msg);
    if (strict && st != CS_OK) {
      assert_null(ds);
      assert_true(err.msg[0] != '\0');
    }
    cs_dataset_free(ds);
  }
  free(mod);
}

/* Two readings of the same bytes (under different file names) are
 * identical: data bit for bit, every metadata pair in order, except the
 * source file name. */
static inline void test_same_read(const cs_dataset *a, const cs_dataset *b) {
  assert_int_equal(cs_dataset_count(a), cs_dataset_count(b));
  for (size_t k = 0; k < cs_dataset_count(a); k++) {
    const cs_spectrum *sa = cs_dataset_get(a, k), *sb = cs_dataset_get(b, k);
    size_t n = cs_spectrum_n(sa);
    assert_int_equal(n, cs_spectrum_n(sb));
    assert_memory_equal(cs_spectrum_x(sa), cs_spectrum_x(sb),
                        n * sizeof(double));
    assert_memory_equal(cs_spectrum_y(sa), cs_spectrum_y(sb),
                        n * sizeof(double));
    assert_int_equal(cs_spectrum_meta_count(sa), cs_spectrum_meta_count(sb));
    for (size_t m = 0; m < cs_spectrum_meta_count(sa); m++) {
      const char *ka, *va, *kb, *vb;
      cs_spectrum_meta_at(sa, m, &ka, &va);
      cs_spectrum_meta_at(sb, m, &kb, &vb);
      assert_string_equal(ka, kb);
      if (strcmp(ka, CS_META_SOURCE_FILE) != 0)
        assert_string_equal(va, vb);
    }
  }
}

/* The file at path and a copy of it at tmp read the same (test_same_read);
 * the copy is removed. */
static inline void test_same_as_copy(const char *path, const char *tmp) {
  char src[4096];
  snprintf(src, sizeof src, "%s", path); /* path may be shared_path's buffer */
  assert_int_equal(test_copy_file(src, tmp, (size_t)-1), 0);
  cs_dataset *a = test_read_ok(src, NULL), *b = test_read_ok(tmp, NULL);
  test_same_read(a, b);
  cs_dataset_free(a);
  cs_dataset_free(b);
  unlink(tmp);
}

/* s has n points and these first/last x and y values, exactly. */
static inline void test_expect_ends(const cs_spectrum *s, size_t n, double x0,
                                    double xn, double y0, double yn) {
  assert_int_equal(cs_spectrum_n(s), n);
  const double *x = cs_spectrum_x(s), *y = cs_spectrum_y(s);
  DBL_NEAR(x[0], x0, 0);
  DBL_NEAR(x[n - 1], xn, 0);
  DBL_NEAR(y[0], y0, 0);
  DBL_NEAR(y[n - 1], yn, 0);
}

#endif
