/* test_procspec.c: the Ocean Insight ProcSpec reader against the real files
 * in ../shared/formats/ocean_procspec.  Expected values were read from the
 * files' own ps_N.xml with python3 (zipfile + xml.etree, milliTime converted
 * with datetime) and from the SpectraSuite text export BB_PF21_4.txt. */
#include "testutil.h"

#include "internal.h"

#define DIR "formats/ocean_procspec/"

static cs_dataset *read_ok(const char *path, const char *format) {
  cs_dataset *ds = test_read_ok(path, format);
  assert_int_equal(cs_dataset_count(ds), 1);
  return ds;
}

static void assert_meta(const cs_spectrum *s, const char *key,
                        const char *want) {
  const char *got = cs_spectrum_meta(s, key);
  if (!got || strcmp(got, want) != 0)
    fail_msg("meta %s = '%s', want '%s'", key, got ? got : "(unset)", want);
}

typedef struct expect {
  const char *file;
  size_t n;
  double x0, x1, y0, y1;
  double exposure_s;
  int accumulations;
  cs_quantity q;
  const char *instrument, *acquired, *entry;
} expect;

static void check(const expect *e, const char *format) {
  SHARED_OR_SKIP(path, e->file);
  cs_dataset *ds = read_ok(path, format);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  size_t n = cs_spectrum_n(s);
  assert_int_equal(n, e->n);
  const double *x = cs_spectrum_x(s), *y = cs_spectrum_y(s);
  DBL_NEAR(x[0], e->x0, 1e-9);
  DBL_NEAR(x[n - 1], e->x1, 1e-9);
  DBL_NEAR(y[0], e->y0, 1e-9);
  DBL_NEAR(y[n - 1], e->y1, 1e-9);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  assert_int_equal(cs_spectrum_quantity(s), e->q);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_UNKNOWN);
  assert_true(isnan(cs_spectrum_laser_nm(s))); /* laserWavelength 0.0 */
  DBL_NEAR(cs_spectrum_exposure_s(s), e->exposure_s, 1e-12);
  assert_int_equal(cs_spectrum_accumulations(s), e->accumulations);
  assert_meta(s, CS_META_INSTRUMENT, e->instrument);
  assert_meta(s, CS_META_ACQUIRED, e->acquired);
  assert_meta(s, "procspec.entry", e->entry);
  assert_meta(s, "procspec.signature", format ? "not checked" : "sha512-ok");
  cs_dataset_free(ds);
}

static const expect linux_e = {DIR "OceanOptics_Linux.ProcSpec",
                               3648,
                               176.3604183,
                               893.6943397004063,
                               0.0,
                               125.07433102081265,
                               0.2,
                               5,
                               CS_Q_TRANSMITTANCE_PCT,
                               "USB4000 USB4C00008",
                               "2016-03-16T13:18:31.936Z",
                               "ps_0.xml"};
static const expect windows_e = {DIR "OceanOptics_Windows.ProcSpec",
                                 2048,
                                 190.939253,
                                 888.2335352456057,
                                 282.8571428571289,
                                 40.05032131664623,
                                 0.06,
                                 15,
                                 CS_Q_TRANSMITTANCE_PCT,
                                 "JazUSB JAZA2982",
                                 "2015-12-04T10:29:14.221Z",
                                 "ps_291.xml"};
static const expect white_e = {DIR "whiteref.ProcSpec",
                               3648,
                               176.3604183,
                               893.6943397004063,
                               0.0,
                               97.29425028184893,
                               0.5,
                               5,
                               CS_Q_REFLECTANCE,
                               "USB4000 USB4C00008",
                               "2018-08-02T15:56:19.360Z",
                               "ps_13.xml"};
static const expect bb_e = {DIR "BB_PF21_4.ProcSpec",
                            3648,
                            176.3604183,
                            893.6943397004063,
                            0.0,
                            26.475849731663697,
                            0.01,
                            40,
                            CS_Q_TRANSMITTANCE_PCT,
                            "USB4000 USB4C00008",
                            "2006-06-23T09:39:09.312Z",
                            "ps_47.xml"};
/* ps_56.xml was edited after signing (renamed <pixelValue>, raw MacRoman
 * bytes): readable only without the signature check. */
static const expect bad_e = {DIR "OceanOptics_badencode.ProcSpec",
                             2048,
                             179.25249,
                             882.6895148634126,
                             -1381.781781781803,
                             -271.64970772894645,
                             0.02,
                             100,
                             CS_Q_REFLECTANCE,
                             "USB2000Plus USB2+H06330",
                             "2016-12-02T20:39:12.080Z",
                             "ps_56.xml"};

static void test_linux(void **state) {
  (void)state;
  check(&linux_e, NULL);
}
static void test_windows(void **state) {
  (void)state;
  check(&windows_e, NULL);
}
static void test_whiteref(void **state) {
  (void)state;
  check(&white_e, NULL);
}
static void test_bb(void **state) {
  (void)state;
  check(&bb_e, NULL);
}
static void test_badencode_unverified(void **state) {
  (void)state;
  check(&bad_e, "procspec_unverified");
}

static void test_badencode_signature(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, DIR "OceanOptics_badencode.ProcSpec");
  cs_error err;
  cs_dataset *ds = (cs_dataset *)1;
  STATUS_EQ(cs_dataset_read(path, NULL, &ds, &err), CS_ERR_MALFORMED, &err);
  assert_null(ds);
  assert_non_null(strstr(err.msg, "signature mismatch: ps_56.xml"));
}

static void test_tampered(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, DIR "tampered_procspec.zip");
  cs_error err;
  const char *name;
  STATUS_EQ(cs_format_detect(path, &name, &err), CS_OK, &err);
  assert_string_equal(name, "procspec"); /* by content: the .zip name */
  cs_dataset *ds = (cs_dataset *)1;
  STATUS_EQ(cs_dataset_read(path, NULL, &ds, &err), CS_ERR_MALFORMED, &err);
  assert_null(ds);
  assert_non_null(
      strstr(err.msg, "signature mismatch: ps_13.xml was modified"));
  assert_null(strstr(err.msg, path)); /* no path in library messages */
  /* Without the check it reads.  The diff against whiteref's ps_13.xml is
   * one raw source pixel (3389.388 -> 3398.388) and a final newline, so the
   * processed reflectance equals whiteref's. */
  char tpath[4096];
  snprintf(tpath, sizeof tpath, "%s", path);
  ds = read_ok(tpath, "procspec_unverified");
  SHARED_OR_SKIP(wpath, DIR "whiteref.ProcSpec");
  cs_dataset *w = read_ok(wpath, NULL);
  const cs_spectrum *a = cs_dataset_get(ds, 0), *b = cs_dataset_get(w, 0);
  assert_int_equal(cs_spectrum_n(a), 3648);
  assert_int_equal(cs_spectrum_n(b), 3648);
  assert_memory_equal(cs_spectrum_y(a), cs_spectrum_y(b),
                      3648 * sizeof(double));
  cs_dataset_free(w);
  cs_dataset_free(ds);
}

/* Every wavelength and value of BB_PF21_4.ProcSpec agrees with the
 * SpectraSuite export to the export's printed precision (half a unit in the
 * last printed digit). */
static double half_ulp(const char *tok) {
  const char *dot = strchr(tok, '.');
  int d = dot ? (int)strcspn(dot + 1, "eE \t\r\n") : 0;
  return 0.5 * pow(10.0, -d) + 1e-9;
}

static void test_bb_against_txt(void **state) {
  (void)state;
  SHARED_OR_SKIP(p1, DIR "BB_PF21_4.ProcSpec");
  char pspath[4096];
  snprintf(pspath, sizeof pspath, "%s", p1);
  SHARED_OR_SKIP(txt, DIR "BB_PF21_4.txt");
  FILE *f = fopen(txt, "r");
  assert_non_null(f);
  cs_dataset *ds = read_ok(pspath, NULL);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  const double *x = cs_spectrum_x(s), *y = cs_spectrum_y(s);
  size_t n = cs_spectrum_n(s), i = 0;
  char line[256], a[64], b[64];
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "%63s %63s", a, b) != 2)
      continue;
    assert_true(i < n);
    DBL_NEAR(x[i], strtod(a, NULL), half_ulp(a));
    DBL_NEAR(y[i], strtod(b, NULL), half_ulp(b));
    i++;
  }
  fclose(f);
  assert_int_equal(i, n);
  cs_dataset_free(ds);
}

/* Copy a shared file to dir/name; returns the new path (static buffer). */
static const char *copy_to(const char *src, const char *dir, const char *name,
                           size_t keep) {
  static char dst[4096];
  snprintf(dst, sizeof dst, "%s/%s", dir, name);
  FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
  assert_non_null(in);
  assert_non_null(out);
  char buf[8192];
  size_t k, total = 0;
  while ((k = fread(buf, 1, sizeof buf, in)) > 0 && total < keep) {
    if (k > keep - total)
      k = keep - total;
    fwrite(buf, 1, k, out);
    total += k;
  }
  fclose(in);
  fclose(out);
  return dst;
}

static void test_same_under_other_name(void **state) {
  (void)state;
  SHARED_OR_SKIP(src, DIR "whiteref.ProcSpec");
  char orig[4096];
  snprintf(orig, sizeof orig, "%s", src);
  const char *dir = test_tmpdir();
  cs_dataset *a = read_ok(orig, NULL);
  const char *names[] = {"spectrum.dat", "noext", "x.gaml"};
  for (size_t k = 0; k < 3; k++) {
    const char *p = copy_to(orig, dir, names[k], (size_t)-1);
    cs_dataset *b = read_ok(p, NULL);
    const cs_spectrum *sa = cs_dataset_get(a, 0), *sb = cs_dataset_get(b, 0);
    assert_int_equal(cs_spectrum_n(sa), cs_spectrum_n(sb));
    assert_memory_equal(cs_spectrum_x(sa), cs_spectrum_x(sb),
                        cs_spectrum_n(sa) * sizeof(double));
    assert_memory_equal(cs_spectrum_y(sa), cs_spectrum_y(sb),
                        cs_spectrum_n(sa) * sizeof(double));
    assert_int_equal(cs_spectrum_meta_count(sa), cs_spectrum_meta_count(sb));
    for (size_t i = 0; i < cs_spectrum_meta_count(sa); i++) {
      const char *k1, *v1, *k2, *v2;
      cs_spectrum_meta_at(sa, i, &k1, &v1);
      cs_spectrum_meta_at(sb, i, &k2, &v2);
      assert_string_equal(k1, k2);
      if (strcmp(k1, CS_META_SOURCE_FILE) != 0)
        assert_string_equal(v1, v2);
    }
    cs_dataset_free(b);
  }
  cs_dataset_free(a);
}

static size_t file_size(const char *p) {
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  return (size_t)st.st_size;
}

/* Truncated copies: every prefix we try fails cleanly (a zip needs its end
 * record), never crashes. */
static void test_truncated(void **state) {
  (void)state;
  SHARED_OR_SKIP(src, DIR "OceanOptics_Windows.ProcSpec");
  char orig[4096];
  snprintf(orig, sizeof orig, "%s", src);
  size_t size = file_size(orig);
  const char *dir = test_tmpdir();
  size_t cuts[] = {1,        4,        30,         100,       1000,
                   size / 3, size / 2, size - 100, size - 23, size - 1};
  for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
    const char *p = copy_to(orig, dir, "cut.ProcSpec", cuts[k]);
    cs_error err;
    cs_dataset *ds = (cs_dataset *)1;
    cs_status st = cs_dataset_read(p, "procspec", &ds, &err);
    if (st != CS_ERR_MALFORMED)
      fail_msg("cut at %zu: %s (%s)", cuts[k], cs_strerror(st),
               st ? err.msg : "");
    assert_null(ds);
    assert_true(strlen(err.msg) > 0);
  }
}

/* Flip bytes all over the archive: OK or MALFORMED, nothing else. */
static void test_byte_flips(void **state) {
  (void)state;
  SHARED_OR_SKIP(src, DIR "OceanOptics_Windows.ProcSpec");
  char orig[4096];
  snprintf(orig, sizeof orig, "%s", src);
  char *data;
  size_t len;
  assert_int_equal(csi_read_file(orig, 1 << 24, &data, &len, NULL), CS_OK);
  const char *dir = test_tmpdir();
  char path[4096];
  snprintf(path, sizeof path, "%s/flip.ProcSpec", dir);
  unsigned seed = 12345;
  int nok = 0, nbad = 0;
  for (int k = 0; k < 60; k++) {
    seed = seed * 1103515245u + 12345u;
    size_t off = k < 10 ? (size_t)k * 7 : (seed >> 8) % len;
    if (k >= 50)
      off = len - 1 - (size_t)(k - 50) * 5; /* central directory, end record */
    data[off] ^= 0x5A;
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    data[off] ^= 0x5A;
    cs_error err;
    cs_dataset *ds = NULL;
    cs_status st = cs_dataset_read(path, "procspec", &ds, &err);
    if (st == CS_OK) {
      nok++;
      cs_dataset_free(ds);
    } else if (st == CS_ERR_MALFORMED) {
      nbad++;
      assert_null(ds);
    } else {
      fail_msg("flip at %zu: %s (%s)", off, cs_strerror(st), err.msg);
    }
  }
  assert_true(nbad > 0); /* most flips break the CRC, inflate or signature */
  free(data);
}

static void test_not_a_zip(void **state) {
  (void)state;
  const char *dir = test_tmpdir();
  char path[4096];
  snprintf(path, sizeof path, "%s/fake.ProcSpec", dir);
  FILE *f = fopen(path, "wb");
  fputs("PK\003\004 this is not really a zip, ps_0.xml OOISignatures.xml", f);
  fclose(f);
  cs_error err;
  const char *name;
  STATUS_EQ(cs_format_detect(path, &name, &err), CS_OK, &err);
  assert_string_equal(name, "procspec");
  cs_dataset *ds;
  STATUS_EQ(cs_dataset_read(path, NULL, &ds, &err), CS_ERR_MALFORMED, &err);
  assert_non_null(strstr(err.msg, "zip"));
}

static void test_sniff(void **state) {
  (void)state;
  const csi_reader *r = &csi_reader_procspec;
  assert_int_equal(r->sniff((const unsigned char *)"<GAML>", 6), 0);
  static const unsigned char other[] =
      "PK\003\004\024\000\000\000\010\000\000\000\000\000\000\000\000\000\000"
      "\000\000\000\000\000\000\000\011\000\000\000readme.md";
  assert_int_equal(r->sniff(other, sizeof other - 1), 0);
  static const unsigned char ps[] =
      "PK\003\004\024\000\000\000\010\000\000\000\000\000\000\000\000\000\000"
      "\000\000\000\000\000\000\000\011\000\000\000ps_17.xml";
  assert_true(r->sniff(ps, sizeof ps - 1) > 50);
  assert_null(csi_reader_procspec_unverified.sniff);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_linux),
      cmocka_unit_test(test_windows),
      cmocka_unit_test(test_whiteref),
      cmocka_unit_test(test_bb),
      cmocka_unit_test(test_badencode_unverified),
      cmocka_unit_test(test_badencode_signature),
      cmocka_unit_test(test_tampered),
      cmocka_unit_test(test_bb_against_txt),
      cmocka_unit_test(test_same_under_other_name),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_byte_flips),
      cmocka_unit_test(test_not_a_zip),
      cmocka_unit_test(test_sniff),
  };
  return cmocka_run_group_tests_name("procspec", tests, NULL, NULL);
}
