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
#include <sys/stat.h>

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

#endif
