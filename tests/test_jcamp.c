/* test_jcamp.c: JCAMP-DX reader and writer.
 *
 * Conformance: every file in ../shared/formats/jcamp_dx is listed below
 * with its expected outcome.  Point counts and first/last x come from the
 * files' own ##NPOINTS/##FIRSTX/##LASTX labels (times XFACTOR for
 * XYPOINTS); first y is the file's first ordinate (equal to ##FIRSTY where
 * the writer got that label right), last y and the y of files whose FIRSTY
 * label is stale were decoded independently by tests/jcamp_ref.py (a small
 * regex-based Python decoder, not calcspec).  Synthetic ASDF lines were
 * encoded by hand; their decoded values are written next to them. */
#include "testutil.h"

#include "internal.h"

#include <dirent.h>

/* ---- helpers ---- */

static cs_status read_text(const char *text, cs_dataset **ds, cs_error *err) {
  const char *p = test_write_tmp("t.jdx", text, strlen(text));
  return cs_dataset_read(p, "jcamp", ds, err);
}

/* Header for a synthetic (X++(Y..Y)) block of 8 points at x = 1..8. */
#define HDR8                                                                   \
  "##TITLE=synthetic\n##JCAMP-DX=4.24\n##DATA TYPE=INFRARED SPECTRUM\n"        \
  "##XUNITS=1/CM\n##YUNITS=ABSORBANCE\n##XFACTOR=1\n##YFACTOR=1\n"             \
  "##FIRSTX=1\n##LASTX=8\n##NPOINTS=8\n##XYDATA=(X++(Y..Y))\n"

/* Read text and compare with the 8 expected ordinates at x = 1..8. */
static void expect8(const char *text, const double *want) {
  cs_dataset *ds;
  cs_error err;
  STATUS_EQ(read_text(text, &ds, &err), CS_OK, &err);
  assert_int_equal(cs_dataset_count(ds), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_n(s), 8);
  for (size_t i = 0; i < 8; i++) {
    DBL_NEAR(cs_spectrum_x(s)[i], (double)(i + 1), 1e-12);
    DBL_NEAR(cs_spectrum_y(s)[i], want[i], 1e-12);
  }
  cs_dataset_free(ds);
}

static void expect_status(const char *text, cs_status want, const char *msg) {
  cs_dataset *ds;
  cs_error err;
  STATUS_EQ(read_text(text, &ds, &err), want, &err);
  assert_null(ds);
  if (msg && !strstr(err.msg, msg))
    fail_msg("message '%s' lacks '%s'", err.msg, msg);
}

/* ---- synthetic ASDF forms ---- */

/* y = 1000 1000 1000 1020 1040 1060 1050 1050 in every form. */
static const double Y8[] = {1000, 1000, 1000, 1020, 1040, 1060, 1050, 1050};

static void asdf_affn(void **state) {
  (void)state;
  expect8(HDR8 "1 1000 1000 1000 1020\n5 1040 1060 1050 1050\n##END=\n", Y8);
  /* comma separators and a $$ comment on a data line */
  expect8(HDR8 "1,1000,1000,1000,1020 $$ first line\n"
               "5, 1040, 1060, 1050, 1050\n##END=\n",
          Y8);
}

static void asdf_pac(void **state) {
  (void)state;
  expect8(HDR8 "1+1000+1000+1000+1020\n5+1040+1060+1050+1050\n##END=\n", Y8);
}

static void asdf_sqz(void **state) {
  (void)state;
  expect8(HDR8 "1A000A000A000A020\n5A040A060A050A050\n##END=\n", Y8);
}

static void asdf_dif(void **state) {
  (void)state;
  /* line 1 ends in DIF form, so line 2 starts at x=4 with the Y-check
   * A020 (= 1020, dropped); K0 = +20, j0 = -10, % = 0 */
  expect8(HDR8 "1A000%%K0\n4A020K0K0j0%\n##END=\n", Y8);
}

static void asdf_dup(void **state) {
  (void)state;
  /* SQZ + DUP: U = 3 occurrences, T = 2 */
  expect8(HDR8 "1A000UA020\n5A040A060A050T\n##END=\n", Y8);
  /* DIF + DUP: %T = two zero steps, K0U = three +20 steps; line 2 begins
   * with the Y-check of point 5 (x=5) */
  expect8(HDR8 "1A000%TK0T\n5A040K0j0%\n##END=\n", Y8);
  /* the same on one line, followed by a final Y-check line */
  expect8(HDR8 "1A000%TK0Uj0%\n8A050\n##END=\n", Y8);
}

static void asdf_negative(void **state) {
  (void)state;
  /* y = -5 -12 3 0 -5 -12 3 0: SQZ e=-5, a2=-12, C=3, @=0; DIF p=-7, J5=+15,
   * l=-3, n=-5 */
  static const double want[] = {-5, -12, 3, 0, -5, -12, 3, 0};
  expect8(HDR8 "1ea2C@\n5ea2C@\n##END=\n", want);
  expect8(HDR8 "1epJ5lnpJ5l\n8@\n##END=\n", want);
  /* AFFN with exponents and decimals */
  static const double w2[] = {-5, -12, 3, 0, -0.5, 1.25e3, 3, 0};
  expect8(HDR8 "1 -5.0 -1.2E+01 3 0\n5 -0.5 1.25e+3 +3.0 -0\n##END=\n", w2);
}

static void factors_and_xcheck(void **state) {
  (void)state;
  cs_dataset *ds;
  cs_error err;
  /* XFACTOR 0.5: line abscissas 2 and 8 mean x = 1 and 4; YFACTOR 0.001 */
  const char *t = "##TITLE=f\n##JCAMP-DX=4.24\n##XUNITS=1/CM\n"
                  "##YUNITS=ABSORBANCE\n##XFACTOR=0.5\n##YFACTOR=0.001\n"
                  "##FIRSTX=1\n##LASTX=8\n##NPOINTS=8\n"
                  "##XYDATA=(X++(Y..Y))\n2A000%%K0\n8A020K0K0j0%\n##END=\n";
  STATUS_EQ(read_text(t, &ds, &err), CS_OK, &err);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  for (size_t i = 0; i < 8; i++)
    DBL_NEAR(cs_spectrum_y(s)[i], Y8[i] * 0.001, 1e-12);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVENUMBER);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_ABSORBANCE);
  cs_dataset_free(ds);
  /* descending axis kept in file order */
  t = "##TITLE=d\n##JCAMP-DX=4.24\n##FIRSTX=400\n##LASTX=100\n##NPOINTS=4\n"
      "##XYDATA=(X++(Y..Y))\n400 1 2 3 4\n##END=\n";
  STATUS_EQ(read_text(t, &ds, &err), CS_OK, &err);
  s = cs_dataset_get(ds, 0);
  DBL_NEAR(cs_spectrum_x(s)[1], 300, 1e-12);
  DBL_NEAR(cs_spectrum_x(s)[3], 100, 0);
  cs_dataset_free(ds);
}

static void malformed_data(void **state) {
  (void)state;
  /* Y-check 1021 where the last ordinate was 1020 */
  expect_status(HDR8 "1A000%%K0\n4A021K0K0j0%\n##END=\n", CS_ERR_MALFORMED,
                "y-check");
  /* 7 points for NPOINTS=8, and 9 */
  expect_status(HDR8 "1A000A000A000A020\n5A040A060A050\n##END=\n",
                CS_ERR_MALFORMED, "NPOINTS");
  expect_status(HDR8 "1A000A000A000A020\n5A040A060A050A050A050\n##END=\n",
                CS_ERR_MALFORMED, "NPOINTS");
  /* abscissa check 7 where point 4 has x = 5 */
  expect_status(HDR8 "1A000A000A000A020\n7A040A060A050A050\n##END=\n",
                CS_ERR_MALFORMED, "abscissa");
  /* DIF and DUP with nothing before them, bad characters, '?' */
  expect_status(HDR8 "1J0\n##END=\n", CS_ERR_MALFORMED, "DIF");
  expect_status(HDR8 "1T\n##END=\n", CS_ERR_MALFORMED, "DUP");
  expect_status(HDR8 "1A000A000A000A020\n5A04#A060A050A050\n##END=\n",
                CS_ERR_MALFORMED, "unexpected character");
  expect_status(HDR8 "1 1 2 3 ?\n5 1 2 3 4\n##END=\n", CS_ERR_MALFORMED, "?");
  /* a DUP count far beyond NPOINTS is refused before expanding */
  expect_status(HDR8 "1A000Z99999999999\n##END=\n", CS_ERR_MALFORMED, NULL);
  /* missing ##END, missing FIRSTX, value overflow */
  expect_status(HDR8 "1 1000 1000 1000 1020\n5 1040 1060 1050 1050\n",
                CS_ERR_MALFORMED, "##END");
  expect_status("##TITLE=x\n##JCAMP-DX=4.24\n##LASTX=8\n##NPOINTS=2\n"
                "##XYDATA=(X++(Y..Y))\n1 1 2\n##END=\n",
                CS_ERR_MALFORMED, "FIRSTX");
  expect_status("##TITLE=x\n##JCAMP-DX=4.24\n##YFACTOR=1e300\n"
                "##XYPOINTS=(XY..XY)\n1, 1e300\n##END=\n",
                CS_ERR_MALFORMED, "overflow");
  expect_status("##TITLE=x\n##JCAMP-DX=4.24\n##XYPOINTS=(XY..XY)\n1, 2, 3\n"
                "##END=\n",
                CS_ERR_MALFORMED, "odd");
  expect_status("##TITLE=x\n##JCAMP-DX=4.24\n##NPOINTS=abc\n"
                "##XYPOINTS=(XY..XY)\n1, 2\n##END=\n",
                CS_ERR_MALFORMED, "NPOINTS");
}

static void xypoints_and_labels(void **state) {
  (void)state;
  cs_dataset *ds;
  cs_error err;
  /* labels in odd spelling, decimal commas, vendor labels, comments */
  const char *t = "$$ leading comment line\n"
                  "##Title= raman test $$ trailing comment\n"
                  "##jcamp-dx= 5.01\n"
                  "##Data_Type= RAMAN SPECTRUM\n"
                  "##x units= 1/cm\n"
                  "##Y-UNITS= COUNTS\n"
                  "##LONG DATE= 2024/01/02 03:04:05\n"
                  "##DATE= 24/01/02\n"
                  "##spectrometer/data system= Test Raman 1\n"
                  "##OWNER= lab\n"
                  "##$LASER WAVELENGTH= 785.0 nm\n"
                  "##$Vendor Thing= a\n"
                  "  b\n"
                  "##.AVERAGES= 4\n"
                  "##XFACTOR= 0,5\n"
                  "##FIRSTX= 100,5\n"
                  "##NPOINTS= 3\n"
                  "##XYPOINTS= (XY..XY)\n"
                  "201, 10,25; 202,5, 11\n"
                  "204, 12,75\n"
                  "##END=\n";
  STATUS_EQ(read_text(t, &ds, &err), CS_OK, &err);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_n(s), 3);
  static const double wx[] = {100.5, 101.25, 102}, wy[] = {10.25, 11, 12.75};
  for (size_t i = 0; i < 3; i++) {
    DBL_NEAR(cs_spectrum_x(s)[i], wx[i], 1e-12);
    DBL_NEAR(cs_spectrum_y(s)[i], wy[i], 1e-12);
  }
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_COUNTS);
  DBL_NEAR(cs_spectrum_laser_nm(s), 785.0, 0);
  assert_int_equal(cs_spectrum_accumulations(s), 4);
  assert_string_equal(cs_spectrum_meta(s, CS_META_TITLE), "raman test");
  assert_string_equal(cs_spectrum_meta(s, CS_META_ACQUIRED),
                      "2024/01/02 03:04:05");
  assert_string_equal(cs_spectrum_meta(s, CS_META_INSTRUMENT), "Test Raman 1");
  assert_string_equal(cs_spectrum_meta(s, "jcamp.OWNER"), "lab");
  assert_string_equal(cs_spectrum_meta(s, "jcamp.$LASER WAVELENGTH"),
                      "785.0 nm");
  assert_string_equal(cs_spectrum_meta(s, "jcamp.$Vendor Thing"), "a\nb");
  assert_string_equal(cs_spectrum_meta(s, "jcamp.jcamp-dx"), "5.01");
  cs_dataset_free(ds);

  /* micrometres become nm; TRANSMITTANCE fractions become percent */
  t = "##TITLE=um\n##JCAMP-DX=4.24\n##DATA TYPE=INFRARED SPECTRUM\n"
      "##XUNITS=MICROMETERS\n##YUNITS=TRANSMITTANCE\n"
      "##XYPOINTS=(XY..XY)\n2.5 0.5\n10 0.25\n##END=\n";
  STATUS_EQ(read_text(t, &ds, &err), CS_OK, &err);
  s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_TRANSMITTANCE_PCT);
  DBL_NEAR(cs_spectrum_x(s)[0], 2500, 1e-9);
  DBL_NEAR(cs_spectrum_x(s)[1], 10000, 1e-9);
  DBL_NEAR(cs_spectrum_y(s)[0], 50, 1e-12);
  DBL_NEAR(cs_spectrum_y(s)[1], 25, 1e-12);
  cs_dataset_free(ds);

  /* %T is already percent */
  t = "##TITLE=pt\n##JCAMP-DX=4.24\n##XUNITS=NANOMETERS\n##YUNITS=%T\n"
      "##XYPOINTS=(XY..XY)\n500 50\n501 60\n##END=\n";
  STATUS_EQ(read_text(t, &ds, &err), CS_OK, &err);
  s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  DBL_NEAR(cs_spectrum_y(s)[1], 60, 0);
  cs_dataset_free(ds);
}

static void refused_blocks(void **state) {
  (void)state;
  expect_status("##TITLE=p\n##JCAMP-DX=4.24\n##DATA TYPE=INFRARED SPECTRUM\n"
                "##PEAK TABLE=(XY..XY)\n100,1 200,2\n##END=\n",
                CS_ERR_UNSUPPORTED, "peak table only, no spectrum");
  expect_status("##TITLE=n\n##JCAMP-DX=4.24\n##DATA TYPE=NMR SPECTRUM\n"
                "##XUNITS=HZ\n##XYPOINTS=(XY..XY)\n1 2\n##END=\n",
                CS_ERR_UNSUPPORTED, "NMR SPECTRUM");
  expect_status("##TITLE=n\n##JCAMP-DX=4.24\n##DATA TYPE=CHROMATOGRAM\n"
                "##XUNITS=SECONDS\n##XYPOINTS=(XY..XY)\n1 2\n##END=\n",
                CS_ERR_UNSUPPORTED, "SECONDS");
  expect_status("##TITLE=n\n##JCAMP-DX=4.24\n##END=\n", CS_ERR_MALFORMED,
                "no ##XYDATA");
  /* a peak table after the spectrum in the same block is ignored */
  cs_dataset *ds;
  cs_error err;
  STATUS_EQ(read_text("##TITLE=x\n##JCAMP-DX=4.24\n##XYPOINTS=(XY..XY)\n"
                      "1 2\n3 4\n##PEAK TABLE=(XY..XY)\n3,4\n##END=\n",
                      &ds, &err),
            CS_OK, &err);
  assert_int_equal(cs_spectrum_n(cs_dataset_get(ds, 0)), 2);
  cs_dataset_free(ds);
}

static void sniffing(void **state) {
  (void)state;
  const char *name = NULL;
  cs_error err;
  /* by content whatever the name */
  const char *jdx = "\xEF\xBB\xBF$$ c\n  ##TITLE= t\n##JCAMP-DX= 4.24\n"
                    "##XYPOINTS=(XY..XY)\n1 2\n##END=\n";
  const char *p = test_write_tmp("notes.txt", jdx, strlen(jdx));
  STATUS_EQ(cs_format_detect(p, &name, &err), CS_OK, &err);
  assert_string_equal(name, "jcamp");
  /* RRUFF text files start with ##NAMES= and are not JCAMP */
  const char *rruff = "##NAMES=Whewellite\n##RRUFFID=R050526\n"
                      "##JCAMP-DX=no\n100, 2\n##END=\n";
  unsigned char head[128];
  memcpy(head, rruff, strlen(rruff));
  assert_int_equal(csi_reader_jcamp.sniff(head, strlen(rruff)), 0);
  const char *nojc = "##TITLE=x\n##XYPOINTS=(XY..XY)\n1 2\n##END=\n";
  memcpy(head, nojc, strlen(nojc));
  assert_int_equal(csi_reader_jcamp.sniff(head, strlen(nojc)), 0);
  memcpy(head, jdx, strlen(jdx));
  assert_int_equal(csi_reader_jcamp.sniff(head, strlen(jdx)), 90);
}

/* ---- round trip ---- */

static cs_spectrum *mk(const double *x, const double *y, size_t n, cs_axis a,
                       cs_quantity q, cs_technique t) {
  cs_spectrum *s;
  cs_error err;
  STATUS_EQ(cs_spectrum_new(x, y, n, a, q, &s, &err), CS_OK, &err);
  cs_spectrum_set_technique(s, t);
  return s;
}

static int io_key(const char *k) {
  return !strcmp(k, CS_META_SOURCE_FILE) || !strcmp(k, CS_META_FORMAT);
}

static void same_spectrum(const cs_spectrum *a, const cs_spectrum *b) {
  assert_int_equal(cs_spectrum_n(a), cs_spectrum_n(b));
  size_t n = cs_spectrum_n(a);
  assert_memory_equal(cs_spectrum_x(a), cs_spectrum_x(b), n * sizeof(double));
  assert_memory_equal(cs_spectrum_y(a), cs_spectrum_y(b), n * sizeof(double));
  assert_int_equal(cs_spectrum_axis(a), cs_spectrum_axis(b));
  assert_int_equal(cs_spectrum_quantity(a), cs_spectrum_quantity(b));
  assert_int_equal(cs_spectrum_technique(a), cs_spectrum_technique(b));
  double la = cs_spectrum_laser_nm(a), lb = cs_spectrum_laser_nm(b);
  assert_true(la == lb || (isnan(la) && isnan(lb)));
  double ea = cs_spectrum_exposure_s(a), eb = cs_spectrum_exposure_s(b);
  assert_true(ea == eb || (isnan(ea) && isnan(eb)));
  assert_int_equal(cs_spectrum_accumulations(a), cs_spectrum_accumulations(b));
  /* every pair, in order, except source_file/format, which reading sets */
  size_t i = 0, j = 0, na = cs_spectrum_meta_count(a),
         nb = cs_spectrum_meta_count(b);
  for (;;) {
    const char *k = NULL, *v = NULL, *k2 = NULL, *v2 = NULL;
    while (i < na && (cs_spectrum_meta_at(a, i, &k, &v), io_key(k)))
      i++;
    while (j < nb && (cs_spectrum_meta_at(b, j, &k2, &v2), io_key(k2)))
      j++;
    if (i == na || j == nb)
      break;
    assert_string_equal(k, k2);
    assert_string_equal(v, v2);
    i++, j++;
  }
  assert_int_equal(i, na);
  assert_int_equal(j, nb);
}

static void round_trip(void **state) {
  (void)state;
  cs_error err;
  cs_dataset *ds = NULL;
  STATUS_EQ(cs_dataset_new(&ds, NULL), CS_OK, NULL);
  enum { N = 257 };
  double x[N], y[N];
  /* awkward doubles: thirds, tiny and huge magnitudes, negative zero */
  for (size_t i = 0; i < N; i++) {
    x[i] = 100.0 + (double)i / 3.0;
    y[i] = sin((double)i) * 1e5 / 7.0;
  }
  y[1] = -0.0;
  y[2] = 1e-300;
  y[3] = 5e-324; /* subnormal */
  y[4] = -1.7976931348623157e308;
  cs_spectrum *a = mk(x, y, N, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, CS_TECH_RAMAN);
  cs_spectrum_set_laser_nm(a, 785.0000000000001);
  cs_spectrum_set_exposure_s(a, 0.1);
  cs_spectrum_set_accumulations(a, 12);
  STATUS_EQ(
      cs_spectrum_set_meta(a, CS_META_TITLE, "first $$ not a comment", &err),
      CS_OK, &err);
  STATUS_EQ(cs_spectrum_set_meta(a, CS_META_SAMPLE_ID, "  S-1 = 50%\n\t", &err),
            CS_OK, &err);
  STATUS_EQ(cs_spectrum_set_meta(a, "key=with=equals", "##END=", &err), CS_OK,
            &err);
  STATUS_EQ(cs_spectrum_set_meta(a, "unicode", "Ca\xc2\xb2\xe2\x81\xba", &err),
            CS_OK, &err);
  STATUS_EQ(cs_spectrum_set_meta(a, "empty", "", &err), CS_OK, &err);
  STATUS_EQ(cs_dataset_push(ds, a, &err), CS_OK, &err);
  /* descending wavenumbers, % transmittance above 200 % (no heuristic for
   * calcspec's own files) */
  double x2[] = {4000, 3000.5, 1000.25}, y2[] = {250.5, 99.999999999999, 0.01};
  STATUS_EQ(cs_dataset_push(ds,
                            mk(x2, y2, 3, CS_AXIS_WAVENUMBER,
                               CS_Q_TRANSMITTANCE_PCT, CS_TECH_FTIR),
                            &err),
            CS_OK, &err);
  double x3[] = {1, 2}, y3[] = {3, 4};
  static const cs_axis axes[] = {CS_AXIS_WAVELENGTH_NM, CS_AXIS_PIXEL,
                                 CS_AXIS_UNKNOWN};
  static const cs_quantity qs[] = {CS_Q_ABSORBANCE, CS_Q_REFLECTANCE,
                                   CS_Q_COUNTS_PER_S, CS_Q_ARBITRARY};
  for (size_t i = 0; i < 4; i++)
    STATUS_EQ(cs_dataset_push(
                  ds, mk(x3, y3, 2, axes[i % 3], qs[i], CS_TECH_UNKNOWN), &err),
              CS_OK, &err);
  double x4[] = {7}, y4[] = {8};
  STATUS_EQ(cs_dataset_push(
                ds,
                mk(x4, y4, 1, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, CS_TECH_RAMAN),
                &err),
            CS_OK, &err);

  char path[512];
  snprintf(path, sizeof path, "%s/rt.jdx", test_tmpdir());
  STATUS_EQ(cs_dataset_write(ds, path, NULL, &err), CS_OK, &err);
  cs_dataset *back;
  STATUS_EQ(cs_dataset_read(path, NULL, &back, &err), CS_OK, &err);
  assert_int_equal(cs_dataset_count(back), cs_dataset_count(ds));
  for (size_t i = 0; i < cs_dataset_count(ds); i++)
    same_spectrum(cs_dataset_get(ds, i), cs_dataset_get(back, i));
  assert_string_equal(cs_spectrum_meta(cs_dataset_get(back, 0), CS_META_FORMAT),
                      "jcamp");
  /* second generation: a read file (with source_file/format) written again */
  STATUS_EQ(cs_dataset_write(back, path, "jcamp", &err), CS_OK, &err);
  cs_dataset *back2;
  STATUS_EQ(cs_dataset_read(path, NULL, &back2, &err), CS_OK, &err);
  for (size_t i = 0; i < cs_dataset_count(ds); i++)
    same_spectrum(cs_dataset_get(back, i), cs_dataset_get(back2, i));
  cs_dataset_free(back2);

  /* a single spectrum is one plain block, no LINK */
  cs_dataset *one = NULL;
  STATUS_EQ(cs_dataset_new(&one, NULL), CS_OK, NULL);
  STATUS_EQ(cs_dataset_push(one, cs_dataset_take(back, 1), &err), CS_OK, &err);
  STATUS_EQ(cs_dataset_write(one, path, NULL, &err), CS_OK, &err);
  char *text;
  size_t len;
  STATUS_EQ(csi_read_file(path, 1 << 20, &text, &len, &err), CS_OK, &err);
  assert_null(strstr(text, "LINK"));
  assert_non_null(strstr(text, "##JCAMP-DX=5.01\n"));
  assert_non_null(strstr(text, "##XYPOINTS=(XY..XY)\n"));
  /* JCAMP TRANSMITTANCE is a fraction: 250.5 % is stored with YFACTOR 0.01 */
  assert_non_null(strstr(text, "##YUNITS=TRANSMITTANCE\n##XFACTOR=1\n"
                               "##YFACTOR=0.01\n"));
  assert_non_null(strstr(text, "\n4000, 250.5\n"));
  free(text);
  cs_dataset_free(one);
  cs_dataset_free(back);
  cs_dataset_free(ds);
}

/* ---- conformance with the real files ---- */

typedef struct expect_spec {
  size_t n;
  double x0, x1, y0, y1;
} expect_spec;

typedef struct expect_file {
  const char *name;
  cs_status status;
  const char *msg; /* substring of the error message */
  size_t count;
  cs_technique tech;
  cs_axis axis;
  cs_quantity q;
  expect_spec s[5];
} expect_file;

/* T% files: JCAMP TRANSMITTANCE fractions are x100; BRUKER1 and pacdec1
 * store percent under that label (values up to 96 and 102) and stay as
 * they are. */
static const expect_file files[] = {
    {"BRUKER1.JCM",
     CS_OK,
     NULL,
     1,
     CS_TECH_FTIR,
     CS_AXIS_WAVENUMBER,
     CS_Q_TRANSMITTANCE_PCT,
     {{3735, 4000.655017, 400.1619262, 91.064453125, 57.6416015625}}},
    {"LABCALC.DX",
     CS_OK,
     NULL,
     1,
     CS_TECH_FTIR,
     CS_AXIS_WAVENUMBER,
     CS_Q_TRANSMITTANCE_PCT,
     {{3435, 249.741, 3699.742, 97.1056130006592, 93.34924312467839}}},
    {"OceanOptics_comma.jdx",
     CS_OK,
     NULL,
     3,
     CS_TECH_UNKNOWN,
     CS_AXIS_WAVELENGTH_NM,
     CS_Q_TRANSMITTANCE_PCT,
     {{3648, 176.36, 893.69, 32822.795, 2497.293},
      {3648, 176.36, 893.69, 32822.795, 1984.482},
      {3648, 176.36, 893.69, 32822.795, 2397.762}}},
    {"OceanOptics_period.jdx",
     CS_OK,
     NULL,
     3,
     CS_TECH_UNKNOWN,
     CS_AXIS_WAVELENGTH_NM,
     CS_Q_TRANSMITTANCE_PCT,
     {{3648, 176.36, 893.69, 32822.795, 3834.617},
      {3648, 176.36, 893.69, 32822.795, 2972.422},
      {3648, 176.36, 893.69, 32822.795, 3473.765}}},
    {"PE1800.DX",
     CS_OK,
     NULL,
     1,
     CS_TECH_FTIR,
     CS_AXIS_WAVENUMBER,
     CS_Q_TRANSMITTANCE_PCT,
     {{3301, 4000, 700, 101.60, 101.24}}},
    /* the last line "31999@" is a DIF Y-check of 0 after the ordinate
     * 26506: the file contradicts itself */
    {"SPECFILE.DX", CS_ERR_MALFORMED, "y-check", 0, 0, 0, 0, {{0}}},
    {"TESTSPEC.DX", CS_ERR_UNSUPPORTED, "NMR SPECTRUM", 0, 0, 0, 0, {{0}}},
    {"compound.jdx",
     CS_OK,
     NULL,
     5,
     CS_TECH_FTIR,
     CS_AXIS_WAVENUMBER,
     CS_Q_TRANSMITTANCE_PCT,
     {{1976, 4400, 450, 4.67, 35.28},
      {1976, 4400, 450, 5.54, 43.96},
      {3951, 4400, 450, 56.07, 65.64},
      {1976, 4400, 450, 37.8, 36.89},
      {3951, 4400, 450, 53.85, 72.28}}},
    {"example_compound_file.jdx",
     CS_OK,
     NULL,
     2,
     CS_TECH_FTIR,
     CS_AXIS_WAVENUMBER,
     CS_Q_ABSORBANCE,
     {{2074, 11995.21, 3999.691, 0.032112, 0.52175},
      {2074, 11995.21, 3999.691, 0.193928, 1.173816}}},
    {"isopropanol_ASDF.jdx",
     CS_OK,
     NULL,
     1,
     CS_TECH_FTIR,
     CS_AXIS_WAVENUMBER,
     CS_Q_ABSORBANCE,
     {{9541, 400.1963, 5000.042, 0.030051909924651322, 0.0018746938138251299}}},
    {"jtpolys.jdx",
     CS_OK,
     NULL,
     1,
     CS_TECH_FTIR,
     CS_AXIS_WAVENUMBER,
     CS_Q_TRANSMITTANCE_PCT,
     {{1844, 447.484259, 4002.28378, 98.16334962780516, 98.66095948154641}}},
    /* same spectrum as jtpolys, but its YFACTOR has a stray digit
     * (2.3884e-9 for 2.384e-9) */
    {"jtpolysd.jdx",
     CS_OK,
     NULL,
     1,
     CS_TECH_FTIR,
     CS_AXIS_WAVENUMBER,
     CS_Q_TRANSMITTANCE_PCT,
     {{1844, 447.484259, 4002.284, 98.33762491278052, 98.83611820315464}}},
    {"pacdec1.jdx",
     CS_OK,
     NULL,
     1,
     CS_TECH_FTIR,
     CS_AXIS_WAVENUMBER,
     CS_Q_TRANSMITTANCE_PCT,
     {{3301, 4000, 700, 101.60, 101.24}}},
    {"pktab1.jdx",
     CS_ERR_UNSUPPORTED,
     "peak table only, no spectrum",
     0,
     0,
     0,
     0,
     {{0}}},
    {"scientific_notation_example.jdx",
     CS_OK,
     NULL,
     1,
     CS_TECH_FTIR,
     CS_AXIS_WAVENUMBER,
     CS_Q_ABSORBANCE,
     {{1867, 399.361384615384, 3999.40169230769, 0.069749, 0.010971}}},
    /* IR XYDATA and RAMAN XYPOINTS blocks; RADATA, NTUPLES and peak
     * blocks skipped.  The second block is checked separately below. */
    {"sciformats_CompoundFile.jdx",
     CS_OK,
     NULL,
     2,
     CS_TECH_FTIR,
     CS_AXIS_WAVENUMBER,
     CS_Q_ABSORBANCE,
     {{2, 450, 451, 10, 11}, {4, 900, 922, 100, 210}}},
    {"sqzdupd1.jdx",
     CS_OK,
     NULL,
     1,
     CS_TECH_FTIR,
     CS_AXIS_WAVENUMBER,
     CS_Q_TRANSMITTANCE_PCT,
     {{18669, 5000.0323, 499.95502, 98.28702575370001, 126.5022320346}}},
    {"tannic_acid.jdx",
     CS_OK,
     NULL,
     1,
     CS_TECH_RAMAN,
     CS_AXIS_RAMAN_SHIFT,
     CS_Q_ARBITRARY,
     {{1949, 100.595, 2854.713, 42.644, 4.667}}},
};
#define NFILES (sizeof files / sizeof *files)

static double tol(double v) { return 1e-9 * fmax(1.0, fabs(v)); }

static void conformance(void **state) {
  (void)state;
  SHARED_OR_SKIP(dir, "formats/jcamp_dx");
  char root[4096];
  snprintf(root, sizeof root, "%s", dir);
  /* every file in the folder must be listed above */
  DIR *d = opendir(root);
  assert_non_null(d);
  struct dirent *e;
  size_t seen = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    size_t k = 0;
    while (k < NFILES && strcmp(files[k].name, e->d_name))
      k++;
    if (k == NFILES)
      fail_msg("%s/%s has no expectation in test_jcamp.c", root, e->d_name);
    seen++;
  }
  closedir(d);
  assert_int_equal(seen, NFILES);
  for (size_t k = 0; k < NFILES; k++) {
    const expect_file *f = &files[k];
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", root, f->name);
    const char *fmt = NULL;
    cs_error err;
    STATUS_EQ(cs_format_detect(path, &fmt, &err), CS_OK, &err);
    assert_string_equal(fmt, "jcamp");
    cs_dataset *ds;
    cs_status st = cs_dataset_read(path, NULL, &ds, &err);
    if (st != f->status)
      fail_msg("%s: %s (%s), want %s", f->name, cs_strerror(st),
               st ? err.msg : "", cs_strerror(f->status));
    if (st) {
      if (!strstr(err.msg, f->msg))
        fail_msg("%s: message '%s' lacks '%s'", f->name, err.msg, f->msg);
      continue;
    }
    if (cs_dataset_count(ds) != f->count)
      fail_msg("%s: %zu spectra, want %zu", f->name, cs_dataset_count(ds),
               f->count);
    for (size_t i = 0; i < f->count; i++) {
      const cs_spectrum *s = cs_dataset_get(ds, i);
      const expect_spec *w = &f->s[i];
      size_t n = cs_spectrum_n(s);
      const double *x = cs_spectrum_x(s), *y = cs_spectrum_y(s);
      if (n != w->n)
        fail_msg("%s[%zu]: %zu points, want %zu", f->name, i, n, w->n);
      if (fabs(x[0] - w->x0) > tol(w->x0) ||
          fabs(x[n - 1] - w->x1) > tol(w->x1) ||
          fabs(y[0] - w->y0) > tol(w->y0) ||
          fabs(y[n - 1] - w->y1) > tol(w->y1))
        fail_msg("%s[%zu]: x %.17g..%.17g y %.17g..%.17g, want x "
                 "%.17g..%.17g y %.17g..%.17g",
                 f->name, i, x[0], x[n - 1], y[0], y[n - 1], w->x0, w->x1,
                 w->y0, w->y1);
      cs_technique t = i == 1 && !strcmp(f->name, "sciformats_CompoundFile.jdx")
                           ? CS_TECH_RAMAN
                           : f->tech;
      assert_int_equal(cs_spectrum_technique(s), t);
      assert_int_equal(cs_spectrum_axis(s),
                       t == CS_TECH_RAMAN ? CS_AXIS_RAMAN_SHIFT : f->axis);
      assert_int_equal(cs_spectrum_quantity(s), f->q);
    }
    cs_dataset_free(ds);
  }
}

/* Metadata from the files' own header text. */
static void conformance_meta(void **state) {
  (void)state;
  SHARED_OR_SKIP(p, "formats/jcamp_dx/tannic_acid.jdx");
  cs_dataset *ds;
  cs_error err;
  STATUS_EQ(cs_dataset_read(p, NULL, &ds, &err), CS_OK, &err);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_string_equal(cs_spectrum_meta(s, CS_META_TITLE), "tannic acid");
  assert_string_equal(cs_spectrum_meta(s, CS_META_INSTRUMENT),
                      "Ocean Optics R2000");
  assert_string_equal(cs_spectrum_meta(s, CS_META_ACQUIRED),
                      "2000/10/04 14:47");
  assert_string_equal(cs_spectrum_meta(s, "jcamp.OWNER"),
                      "Augustana College (SD), Chemistry Dept");
  assert_true(isnan(cs_spectrum_laser_nm(s))); /* no laser label in it */
  cs_dataset_free(ds);

  SHARED_OR_SKIP(q, "formats/jcamp_dx/OceanOptics_comma.jdx");
  STATUS_EQ(cs_dataset_read(q, NULL, &ds, &err), CS_OK, &err);
  s = cs_dataset_get(ds, 1);
  assert_string_equal(cs_spectrum_meta(s, CS_META_TITLE),
                      "SPECTRASUITE EXPORTED SPECTRA: DARK SPECTRUM");
  assert_int_equal(cs_spectrum_accumulations(s), 5); /* ##.AVERAGES= 5 */
  assert_string_equal(
      cs_spectrum_meta(s, "jcamp.DATA PROCESSING"),
      "DARK:Yes REFERENCE:Yes; BOXCAR:0 ELECTRICAL DARK: false");
  /* line 3683 of the file: 177,02, 1483,549 is the 4th point */
  DBL_NEAR(cs_spectrum_x(s)[3], 177.02, 1e-9);
  DBL_NEAR(cs_spectrum_y(s)[3], 1483.549, 1e-9);
  cs_dataset_free(ds);

  SHARED_OR_SKIP(r, "formats/jcamp_dx/BRUKER1.JCM");
  STATUS_EQ(cs_dataset_read(r, NULL, &ds, &err), CS_OK, &err);
  s = cs_dataset_get(ds, 0);
  assert_string_equal(cs_spectrum_meta(s, CS_META_TITLE), "CCH-4");
  assert_string_equal(cs_spectrum_meta(s, CS_META_ACQUIRED),
                      "81/ 1/ 3 10:40:41");
  assert_string_equal(cs_spectrum_meta(s, CS_META_INSTRUMENT),
                      "BRUKER IFS-113V");
  cs_dataset_free(ds);
}

/* The comma and period Ocean Optics exports hold the same numbers where
 * both files agree on the header (x axis, first y). */
static void comma_equals_period(void **state) {
  (void)state;
  SHARED_OR_SKIP(pc, "formats/jcamp_dx/OceanOptics_comma.jdx");
  char c[4096];
  snprintf(c, sizeof c, "%s", pc);
  SHARED_OR_SKIP(pp, "formats/jcamp_dx/OceanOptics_period.jdx");
  cs_dataset *a, *b;
  cs_error err;
  STATUS_EQ(cs_dataset_read(c, NULL, &a, &err), CS_OK, &err);
  STATUS_EQ(cs_dataset_read(pp, NULL, &b, &err), CS_OK, &err);
  const cs_spectrum *sa = cs_dataset_get(a, 0), *sb = cs_dataset_get(b, 0);
  assert_memory_equal(cs_spectrum_x(sa), cs_spectrum_x(sb),
                      cs_spectrum_n(sa) * sizeof(double));
  cs_dataset_free(a);
  cs_dataset_free(b);
}

/* TESTSPEC.DX is refused as NMR, but its 16384-point DIF/DUP data with
 * Y-checks is a good decoder test: relabel it (x in nm, data type unknown)
 * and read it.  NPOINTS, FIRSTX, LASTX and FIRSTY=2254931 come from its
 * header; the exact first/last ordinates from tests/jcamp_ref.py. */
static void testspec_relabelled(void **state) {
  (void)state;
  SHARED_OR_SKIP(p, "formats/jcamp_dx/TESTSPEC.DX");
  char *text;
  size_t len;
  cs_error err;
  STATUS_EQ(csi_read_file(p, 1 << 24, &text, &len, &err), CS_OK, &err);
  char *dt = strstr(text, "NMR SPECTRUM"), *xu = strstr(text, "XUNITS=HZ");
  assert_non_null(dt);
  assert_non_null(xu);
  memcpy(dt, "IR  SPECTRUM", 12);
  memcpy(xu, "XUNITS=NM", 9);
  const char *q = test_write_tmp("testspec.dx", text, len);
  free(text);
  cs_dataset *ds;
  STATUS_EQ(cs_dataset_read(q, NULL, &ds, &err), CS_OK, &err);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_n(s), 16384);
  DBL_NEAR(cs_spectrum_x(s)[0], 24038.50, 1e-9);
  DBL_NEAR(cs_spectrum_x(s)[16383], 0, 0);
  DBL_NEAR(cs_spectrum_y(s)[0], 2254931, 0.5);
  DBL_NEAR(cs_spectrum_y(s)[0], 2254931.40228, 1e-3);
  DBL_NEAR(cs_spectrum_y(s)[16383], 1513177.6515300001, 1e-3);
  cs_dataset_free(ds);
}

/* ---- robustness: truncation and byte flips never crash ---- */

/* n bytes of a damaged file written to name and read as JCAMP: read, or
 * refused as malformed or unsupported, never anything else (the failure
 * names label, what and at).  Returns the status. */
static cs_status read_damaged(const char *name, const char *b, size_t n,
                              const char *label, const char *what, size_t at) {
  const char *q = test_write_tmp(name, b, n);
  cs_dataset *ds;
  cs_error err;
  cs_status st = cs_dataset_read(q, "jcamp", &ds, &err);
  if (st != CS_OK && st != CS_ERR_MALFORMED && st != CS_ERR_UNSUPPORTED)
    fail_msg("%s %s %zu: %s (%s)", label, what, at, cs_strerror(st), err.msg);
  cs_dataset_free(ds);
  return st;
}

static void damaged(void **state) {
  (void)state;
  SHARED_OR_SKIP(dir, "formats/jcamp_dx");
  char root[4096];
  snprintf(root, sizeof root, "%s", dir);
  uint64_t rng = 0x9E3779B97F4A7C15u;
  for (size_t k = 0; k < NFILES; k++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", root, files[k].name);
    char *text;
    size_t len;
    cs_error err;
    STATUS_EQ(csi_read_file(path, 1 << 24, &text, &len, &err), CS_OK, &err);
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    /* truncation at 12 offsets, including 1 byte short of the end */
    for (size_t t = 0; t < 12; t++) {
      size_t cut = t == 11 ? len - 1 : len * t / 11;
      cs_status st =
          read_damaged("trunc.jdx", text, cut, files[k].name, "cut at", cut);
      /* cut inside the data, a file that read fine must not read fine */
      if (files[k].status == CS_OK && t >= 2 && t <= 10 && st == CS_OK)
        fail_msg("%s cut at %zu of %zu still reads", files[k].name, cut, len);
    }
    /* 40 copies with 1..8 random bytes replaced */
    for (size_t t = 0; t < 40; t++) {
      memcpy(copy, text, len);
      rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
      size_t nflip = 1 + rng % 8;
      for (size_t f = 0; f < nflip; f++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        copy[rng % len] = (char)(rng >> 24);
      }
      read_damaged("flip.jdx", copy, len, files[k].name, "flip", t);
    }
    free(copy);
    free(text);
  }
}

/* Issue 16: text-reader edge cases met in real files. */

/* Old DOS programs end the file with 0x1A after ##END=; a 0x1A before the
 * end is still not JCAMP text. */
static void dos_eof_byte(void **state) {
  (void)state;
  const char *body = "##TITLE= dos\n##JCAMP-DX= 4.24\n"
                     "##DATA TYPE= INFRARED SPECTRUM\n##XUNITS= 1/CM\n"
                     "##YUNITS= ABSORBANCE\n##XYPOINTS= (XY..XY)\n"
                     "100, 1\n200, 2\n300, 3\n##END=\r\n";
  char buf[512];
  snprintf(buf, sizeof buf, "%s\x1a", body);
  cs_dataset *ds = test_read_ok(test_write_text("dos.dx", buf), NULL);
  assert_int_equal(cs_dataset_count(ds), 1);
  test_expect_ends(cs_dataset_get(ds, 0), 3, 100, 300, 1, 3);
  cs_dataset_free(ds);
  snprintf(buf, sizeof buf, "%s\x1a\x1a\r\n", body); /* padded record */
  ds = test_read_ok(test_write_text("dos2.dx", buf), NULL);
  assert_int_equal(cs_dataset_count(ds), 1);
  cs_dataset_free(ds);
  snprintf(buf, sizeof buf, "%s\x1a trailing text\n", body);
  cs_error err;
  STATUS_EQ(cs_dataset_read(test_write_text("dos3.dx", buf), "jcamp", &ds,
                            &err),
            CS_ERR_MALFORMED, &err);
}

/* HP ChemStation LINK files write labels with blanks: "## END = $$ ..."
 * (JCAMP-DX 4.24 §4.1 lets label names carry blanks). The blocks still
 * split, and the file is still recognised as JCAMP without a name. */
static void spaced_labels_link(void **state) {
  (void)state;
  const char *text =
      "## TITLE = ChemStation link\n## JCAMP-DX = 4.24\n"
      "## DATA TYPE = LINK\n## BLOCKS = 2\n"
      "## TITLE = ir part\n## JCAMP-DX = 4.24\n"
      "## DATA TYPE = INFRARED SPECTRUM\n## XUNITS = 1/CM\n"
      "## YUNITS = ABSORBANCE\n## XY POINTS = (XY..XY)\n"
      "100, 1\n200, 2\n300, 3\n## END = $$ ir part\n"
      "## TITLE = uv part\n## JCAMP-DX = 4.24\n"
      "## DATA TYPE = UV/VIS SPECTRUM\n## XUNITS = WAVELENGTH (NM)\n"
      "## YUNITS = ABSORBANCE\n## XY POINTS = (XY..XY)\n"
      "400, 0.5\n500, 0.25\n## END = $$ uv part\n"
      "## END = $$ ChemStation link\n";
  cs_dataset *ds = test_read_ok(test_write_text("chemstation", text), NULL);
  assert_int_equal(cs_dataset_count(ds), 2);
  const cs_spectrum *ir = cs_dataset_get(ds, 0), *uv = cs_dataset_get(ds, 1);
  assert_string_equal(cs_spectrum_meta(ir, CS_META_FORMAT), "jcamp");
  test_expect_ends(ir, 3, 100, 300, 1, 3);
  assert_int_equal(cs_spectrum_axis(ir), CS_AXIS_WAVENUMBER);
  test_expect_ends(uv, 2, 400, 500, 0.5, 0.25);
  assert_int_equal(cs_spectrum_axis(uv), CS_AXIS_WAVELENGTH_NM);
  cs_dataset_free(ds);
}

/* NIST UV/VIS JCAMP files: ##XUNITS=WAVELENGTH (NM), also in micrometres. */
static void nist_wavelength_units(void **state) {
  (void)state;
  const char *fmt = "##TITLE= nist uv\n##JCAMP-DX= 4.24\n"
                    "##DATA TYPE= UV/VIS SPECTRUM\n##XUNITS= %s\n"
                    "##YUNITS= ABSORBANCE\n##XYPOINTS= (XY..XY)\n"
                    "%s\n##END=\n";
  char buf[512];
  snprintf(buf, sizeof buf, fmt, "WAVELENGTH (NM)", "250, 0.1\n260, 0.2");
  cs_dataset *ds = test_read_ok(test_write_text("nist.jdx", buf), NULL);
  assert_int_equal(cs_spectrum_axis(cs_dataset_get(ds, 0)),
                   CS_AXIS_WAVELENGTH_NM);
  test_expect_ends(cs_dataset_get(ds, 0), 2, 250, 260, 0.1, 0.2);
  cs_dataset_free(ds);
  snprintf(buf, sizeof buf, fmt, "WAVELENGTH (UM)", "0.25, 0.1\n0.5, 0.2");
  ds = test_read_ok(test_write_text("nist_um.jdx", buf), NULL);
  test_expect_ends(cs_dataset_get(ds, 0), 2, 250, 500, 0.1, 0.2);
  cs_dataset_free(ds);
  /* a unit outside the map is still refused by name */
  snprintf(buf, sizeof buf, fmt, "SECONDS", "1, 0.1\n2, 0.2");
  cs_error err;
  STATUS_EQ(cs_dataset_read(test_write_text("t.jdx", buf), NULL, &ds, &err),
            CS_ERR_UNSUPPORTED, &err);
  assert_non_null(strstr(err.msg, "x units 'SECONDS' are not supported"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(asdf_affn),
      cmocka_unit_test(asdf_pac),
      cmocka_unit_test(asdf_sqz),
      cmocka_unit_test(asdf_dif),
      cmocka_unit_test(asdf_dup),
      cmocka_unit_test(asdf_negative),
      cmocka_unit_test(factors_and_xcheck),
      cmocka_unit_test(malformed_data),
      cmocka_unit_test(xypoints_and_labels),
      cmocka_unit_test(refused_blocks),
      cmocka_unit_test(sniffing),
      cmocka_unit_test(round_trip),
      cmocka_unit_test(conformance),
      cmocka_unit_test(conformance_meta),
      cmocka_unit_test(comma_equals_period),
      cmocka_unit_test(testspec_relabelled),
      cmocka_unit_test(damaged),
      cmocka_unit_test(dos_eof_byte),
      cmocka_unit_test(spaced_labels_link),
      cmocka_unit_test(nist_wavelength_units),
  };
  return cmocka_run_group_tests_name("jcamp", tests, NULL, NULL);
}
