/* test_errors.c: every status has a message; the error object behaves. */
#include "testutil.h"

#include "internal.h"

static void every_status_has_a_message(void **state) {
  (void)state;
  for (int c = 0; c < CS_ERR__COUNT; c++) {
    const char *m = cs_strerror((cs_status)c);
    assert_non_null(m);
    assert_string_not_equal(m, "unknown error");
    for (int d = 0; d < c; d++) /* messages are distinct */
      assert_string_not_equal(m, cs_strerror((cs_status)d));
  }
  assert_string_equal(cs_strerror(CS_ERR__COUNT), "unknown error");
  assert_string_equal(cs_strerror((cs_status)-1), "unknown error");
}

static void error_object(void **state) {
  (void)state;
  cs_error err;
  cs_error_clear(&err);
  assert_int_equal(err.code, CS_OK);
  assert_string_equal(err.msg, "");
  assert_int_equal(csi_error(&err, CS_ERR_RANGE, "covers %d to %d", 1, 2),
                   CS_ERR_RANGE);
  assert_string_equal(err.msg, "covers 1 to 2");
  csi_error_prefix(&err, "spectrum %d", 3);
  assert_string_equal(err.msg, "spectrum 3: covers 1 to 2");
  /* NULL error objects are allowed everywhere */
  assert_int_equal(csi_error(NULL, CS_ERR_IO, "x"), CS_ERR_IO);
  cs_error_clear(NULL);
  /* long messages are truncated, not overflowed */
  char big[2000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  csi_error(&err, CS_ERR_IO, "%s", big);
  assert_int_equal(strlen(err.msg), CS_ERROR_MSG_MAX - 1);
}

static void version(void **state) {
  (void)state;
  assert_string_equal(cs_version(), CS_VERSION);
}

static int nlog;
static void count_log(int level, const char *msg, void *user) {
  (void)level;
  (void)msg;
  *(int *)user += 1;
}

static void log_hook(void **state) {
  (void)state;
  csi_log(0, "silent by default");
  cs_set_log_fn(count_log, &nlog);
  csi_log(0, "one");
  cs_set_log_fn(NULL, NULL);
  csi_log(0, "silent again");
  assert_int_equal(nlog, 1);
}

/* Messages are one printable line: control characters escaped, UTF-8
 * kept, invalid bytes as \xNN, cut at a character boundary. */
static void escaped_messages(void **state) {
  (void)state;
  char out[64];
  cs_escape_message("a\nb\tc\rd\x1b[2Je\x7f", out, sizeof out);
  assert_string_equal(out, "a\\nb\\tc\\rd\\e[2Je\\x7f");
  /* UTF-8 text is kept; a C1 control (U+009B, CSI) and a lone byte are not */
  cs_escape_message("\xc3\xa9 \xe2\x82\xac \xc2\x9b \xff\x80", out, sizeof out);
  assert_string_equal(out, "\xc3\xa9 \xe2\x82\xac \\u009b \\xff\\x80");
  /* cut before an escape or a multi-byte character that does not fit */
  assert_int_equal(cs_escape_message("abc\n", out, 5), 3);
  assert_string_equal(out, "abc");
  assert_int_equal(cs_escape_message("ab\xe2\x82\xac", out, 5), 2);
  assert_int_equal(cs_escape_message(NULL, out, sizeof out), 0);
  /* the library's setter escapes whatever a file put in the message, also
   * when an argument points into the message itself */
  cs_error err;
  csi_error(&err, CS_ERR_MALFORMED, "value '%s'", "1\n2\x1b]0;x\x07");
  assert_string_equal(err.msg, "value '1\\n2\\e]0;x\\x07'");
  csi_error(&err, CS_ERR_MALFORMED, "line 3: %s", err.msg);
  assert_string_equal(err.msg, "line 3: value '1\\n2\\e]0;x\\x07'");
  csi_error_prefix(&err, "file\n%s", "x");
  assert_null(strchr(err.msg, '\n'));
  assert_non_null(strstr(err.msg, "file\\nx: line 3"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_status_has_a_message),
      cmocka_unit_test(error_object),
      cmocka_unit_test(version),
      cmocka_unit_test(log_hook),
      cmocka_unit_test(escaped_messages),
  };
  return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
