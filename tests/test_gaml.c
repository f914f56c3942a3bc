/* test_gaml.c: the Thermo GAML reader against the real files in
 * ../shared/formats/gaml and small hand-written documents.  Expected values
 * of the real files were decoded with python3 (base64 + struct '<f'/'<d');
 * the synthetic base64 strings were made with python3 from the listed
 * numbers. */
#include "testutil.h"

#include "internal.h"

#define DIR "formats/gaml/"

static cs_dataset *read_ok(const char *path, size_t count) {
  cs_dataset *ds = test_read_ok(path, NULL);
  assert_int_equal(cs_dataset_count(ds), count);
  return ds;
}

static void assert_meta(const cs_spectrum *s, const char *key,
                        const char *want) {
  const char *got = cs_spectrum_meta(s, key);
  if (!got || strcmp(got, want) != 0)
    fail_msg("meta %s = '%s', want '%s'", key, got ? got : "(unset)", want);
}

static void test_omnic_ftir(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, DIR "TN_OMNIC_FTIR.gaml");
  cs_dataset *ds = read_ok(path, 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  /* FLOAT32 values are exact in double: compare exactly. */
  test_expect_ends(s, 1868, 3999.703125, 399.2538146972656, 0.07696206122636795,
       0.03650220111012459);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_FTIR);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVENUMBER);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_ABSORBANCE);
  assert_true(isnan(cs_spectrum_laser_nm(s))); /* LaserFreq is the HeNe */
  assert_int_equal(cs_spectrum_accumulations(s), 32); /* NumScans */
  assert_meta(s, CS_META_INSTRUMENT, "Protege 460");
  assert_meta(s, "gaml.DetectorID_type", "DTGS KBr");
  assert_meta(s, "gaml.NumPoints", "1868");
  assert_meta(s, "gaml.converter_name", "NIC_OMNC");
  assert_meta(s, "gaml.xunits", "WAVENUMBER");
  assert_meta(s, CS_META_TITLE, "Polystyrene measured as a film: Sample");
  assert_null(cs_spectrum_meta(s, CS_META_ACQUIRED)); /* no collectdate */
  cs_dataset_free(ds);
}

static void test_helios_mixed_widths(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, DIR "TS_Helios.gaml");
  cs_dataset *ds = read_ok(path, 2);
  const cs_spectrum *a = cs_dataset_get(ds, 0), *t = cs_dataset_get(ds, 1);
  test_expect_ends(a, 201, 400.0, 600.0, 0.04075202421142832, 0.036181956902219925);
  test_expect_ends(t, 201, 400.0, 600.0, 91.04329681396484, 92.00640106201172);
  assert_int_equal(cs_spectrum_axis(a), CS_AXIS_WAVELENGTH_NM);
  assert_int_equal(cs_spectrum_quantity(a), CS_Q_ABSORBANCE);
  assert_int_equal(cs_spectrum_quantity(t), CS_Q_TRANSMITTANCE_PCT);
  assert_int_equal(cs_spectrum_technique(a), CS_TECH_UNKNOWN); /* UVVIS */
  assert_meta(a, CS_META_ACQUIRED, "1997-06-12T17:49:52Z");
  assert_meta(t, CS_META_ACQUIRED, "1997-06-12T17:49:52Z");
  assert_meta(a, "gaml.trace", "UNICAM UV2 (ABS)");
  assert_meta(t, "gaml.trace", "UNICAM UV2 (%TRANS)");
  assert_meta(a, "gaml.instrumentType", "HELIOS");
  cs_dataset_free(ds);
}

static void test_fluor_coordinates(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, DIR "TS_AB2_FLSCAN.gaml");
  cs_dataset *ds = read_ok(path, 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 301, 375.0, 675.0, 0.28384724259376526, 0.03807615116238594);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_ARBITRARY); /* UNKNOWN */
  assert_meta(s, "gaml.coordinates", "351");
  assert_meta(s, "gaml.coordinates_units", "NANOMETERS");
  assert_meta(s, CS_META_ACQUIRED, "1992-08-13T18:43:10Z");
  assert_meta(s, "gaml.MaxY", "53.951843"); /* a Ydata-level parameter */
  cs_dataset_free(ds);
}

static void test_sciformats(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, DIR "sciformats_sample_file.gaml");
  /* Its traces are a chromatogram (Xdata in MINUTES) and mass spectra
   * (MASSCHARGERATIO): refused like JCAMP's x units and data types
   * (issue 16), with the first reason named. */
  cs_error err;
  cs_dataset *ds = (cs_dataset *)1;
  STATUS_EQ(cs_dataset_read(path, NULL, &ds, &err), CS_ERR_UNSUPPORTED, &err);
  assert_null(ds);
  assert_string_equal(err.msg,
                      "no optical spectrum: x units 'MINUTES' are not supported");
}

/* ---- synthetic documents ---- */

#define DOC(tech, xunits, xfmt, xn, xb64, yunits, yfmt, yn, yb64, extra)       \
  "<?xml version=\"1.0\"?>\n<GAML version=\"1.20\" name=\"t\">\n"              \
  "<experiment name=\"e\"><trace name=\"tr\" technique=\"" tech "\">" extra    \
  "<Xdata units=\"" xunits "\"><values byteorder=\"INTEL\" format=\"" xfmt     \
  "\" numvalues=\"" xn "\">" xb64 "</values>"                                  \
  "<Ydata units=\"" yunits "\"><values byteorder=\"INTEL\" format=\"" yfmt     \
  "\" numvalues=\"" yn "\">" yb64 "</values></Ydata></Xdata></trace>"          \
  "</experiment></GAML>\n"

/* x = 3000, 2000, 1000, 200 (FLOAT32); y = 1.5, 2.5, 3.5, 4.5 (FLOAT64) */
#define RX "AIA7RQAA+kQAAHpEAABIQw=="
#define RY "AAAAAAAA+D8AAAAAAAAEQAAAAAAAAAxAAAAAAAAAEkA="

static void test_raman_omnic(void **state) {
  (void)state;
  const char *p = test_write_text(
      "raman.xml", DOC("RAMAN", "WAVENUMBER", "FLOAT32", "4", RX, "UNKNOWN",
                       "FLOAT64", "4", RY,
                       "<parameter name=\"RamanFreq\">9395.000000</parameter>"
                       "<parameter name=\"LaserFreq\">15798.2</parameter>"));
  cs_dataset *ds = read_ok(p, 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 4, 3000.0, 200.0, 1.5, 4.5);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  DBL_NEAR(cs_spectrum_laser_nm(s), 1064.39595529537, 1e-9); /* 1e7/9395 */
  cs_dataset_free(ds);
}

/* x = 2.5, 5, 10 µm (FLOAT64); y = 0.25, 0.5, 0.75 (FLOAT32) */
#define MX "AAAAAAAABEAAAAAAAAAUQAAAAAAAACRA"
#define MY "AACAPgAAAD8AAEA/"

static void test_microns(void **state) {
  (void)state;
  const char *p =
      test_write_text("ir.gaml", DOC("IR", "MICRONS", "FLOAT64", "3", MX,
                               "TRANSMISSIONPERCENT", "FLOAT32", "3", MY, ""));
  cs_dataset *ds = read_ok(p, 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 3, 4000.0, 1000.0, 0.25, 0.75); /* 1e4/2.5, 1e4/10 cm^-1 */
  DBL_NEAR(cs_spectrum_x(s)[1], 2000.0, 1e-9);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVENUMBER);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_TRANSMITTANCE_PCT);
  cs_dataset_free(ds);
  p = test_write_text("uv.gaml", DOC("UVVIS", "MICRONS", "FLOAT64", "3", MX,
                               "ABSORBANCE", "FLOAT32", "3", MY, ""));
  ds = read_ok(p, 1);
  s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 3, 2500.0, 10000.0, 0.25, 0.75); /* nm */
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  cs_dataset_free(ds);
}

static void expect_fail(const char *doc, cs_status want, const char *needle) {
  const char *p = test_write_text("bad.gaml", doc);
  cs_error err;
  cs_dataset *ds = (cs_dataset *)1;
  STATUS_EQ(cs_dataset_read(p, NULL, &ds, &err), want, &err);
  assert_null(ds);
  if (needle && !strstr(err.msg, needle))
    fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_errors(void **state) {
  (void)state;
  /* numvalues disagrees with the decoded size */
  expect_fail(DOC("IR", "WAVENUMBER", "FLOAT32", "5", RX, "ABSORBANCE",
                  "FLOAT64", "4", RY, ""),
              CS_ERR_MALFORMED, "numvalues=5 but the data hold 4");
  /* x and y lengths differ */
  expect_fail(DOC("IR", "WAVENUMBER", "FLOAT32", "4", RX, "ABSORBANCE",
                  "FLOAT32", "3", MY, ""),
              CS_ERR_MALFORMED, "has 3 values but its Xdata has 4");
  /* a NaN inside the data (0x7fc00000) */
  expect_fail(DOC("IR", "MICRONS", "FLOAT64", "3", MX, "ABSORBANCE", "FLOAT32",
                  "3", "AACAPgAAwH8AAEA/", ""),
              CS_ERR_MALFORMED, "value 2 is not a finite number");
  /* bad base64, unknown width, 6 bytes of FLOAT32 */
  expect_fail(DOC("IR", "WAVENUMBER", "FLOAT32", "4", "AIA7RQ*A", "ABSORBANCE",
                  "FLOAT64", "4", RY, ""),
              CS_ERR_MALFORMED, "base64");
  expect_fail(DOC("IR", "WAVENUMBER", "INT16", "4", RX, "ABSORBANCE", "FLOAT64",
                  "4", RY, ""),
              CS_ERR_UNSUPPORTED, "INT16");
  expect_fail(DOC("IR", "WAVENUMBER", "FLOAT32", "1", "AAAAAAAA", "ABSORBANCE",
                  "FLOAT64", "4", RY, ""),
              CS_ERR_MALFORMED, "not a whole number");
  /* no spectrum at all */
  expect_fail("<GAML version=\"1.20\"><experiment/></GAML>", CS_ERR_MALFORMED,
              "no experiment/trace/Xdata/Ydata");
  /* truncated XML */
  expect_fail("<GAML version=\"1.20\"><experiment><trace>", CS_ERR_MALFORMED,
              "XML");
}

/* NMR, mass spectra and chromatograms are refused like their JCAMP
 * equivalents, by technique or by x units; an optical trace beside them is
 * still read. */
static void test_not_optical(void **state) {
  (void)state;
  expect_fail(DOC("NMR", "PPM", "FLOAT32", "4", RX, "UNKNOWN", "FLOAT64", "4",
                  RY, ""),
              CS_ERR_UNSUPPORTED,
              "no optical spectrum: technique 'NMR' is not an optical spectrum");
  expect_fail(DOC("CHROM", "UNKNOWN", "FLOAT32", "4", RX, "UNKNOWN", "FLOAT64",
                  "4", RY, ""),
              CS_ERR_UNSUPPORTED, "technique 'CHROM' is not an optical");
  expect_fail(DOC("MS", "MASSCHARGERATIO", "FLOAT32", "4", RX, "UNKNOWN",
                  "FLOAT64", "4", RY, ""),
              CS_ERR_UNSUPPORTED, "technique 'MS'");
  expect_fail(DOC("UNKNOWN", "SECONDS", "FLOAT32", "4", RX, "UNKNOWN",
                  "FLOAT64", "4", RY, ""),
              CS_ERR_UNSUPPORTED, "x units 'SECONDS' are not supported");
  expect_fail(DOC("UNKNOWN", "HERTZ", "FLOAT32", "4", RX, "UNKNOWN",
                  "FLOAT64", "4", RY, ""),
              CS_ERR_UNSUPPORTED, "x units 'HERTZ'");
  /* an IR trace and a chromatogram in one file: the IR trace is read */
  const char *two =
      "<?xml version=\"1.0\"?>\n<GAML version=\"1.20\" name=\"t\">\n"
      "<experiment name=\"e\"><trace name=\"gc\" technique=\"CHROM\">"
      "<Xdata units=\"MINUTES\"><values byteorder=\"INTEL\" format=\"FLOAT32\""
      " numvalues=\"4\">" RX "</values><Ydata units=\"UNKNOWN\"><values "
      "byteorder=\"INTEL\" format=\"FLOAT64\" numvalues=\"4\">" RY
      "</values></Ydata></Xdata></trace>"
      "<trace name=\"ir\" technique=\"IR\"><Xdata units=\"WAVENUMBER\">"
      "<values byteorder=\"INTEL\" format=\"FLOAT32\" numvalues=\"4\">" RX
      "</values><Ydata units=\"ABSORBANCE\"><values byteorder=\"INTEL\" "
      "format=\"FLOAT64\" numvalues=\"4\">" RY "</values></Ydata></Xdata>"
      "</trace></experiment></GAML>\n";
  cs_dataset *ds = read_ok(test_write_text("two.gaml", two), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 4, 3000.0, 200.0, 1.5, 4.5);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVENUMBER);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_FTIR);
  cs_dataset_free(ds);
}

static void test_truncation_and_flips(void **state) {
  (void)state;
  SHARED_OR_SKIP(src, DIR "TS_Helios.gaml");
  char *data;
  size_t len;
  assert_int_equal(csi_read_file(src, 1 << 24, &data, &len, NULL), CS_OK);
  char path[4096];
  snprintf(path, sizeof path, "%s/t.gaml", test_tmpdir());
  int nbad = 0;
  for (int k = 0; k < 80; k++) {
    size_t cut = len, off = (size_t)-1;
    if (k < 40)
      cut = 1 + (size_t)k * (len - 3) / 39; /* up to len - 2: drops ">\n" */
    else
      off = 50 + (size_t)(k - 40) * (len - 60) / 39;
    if (off != (size_t)-1)
      data[off] ^= 0x21;
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, cut, f);
    fclose(f);
    if (off != (size_t)-1)
      data[off] ^= 0x21;
    cs_error err;
    cs_dataset *ds = NULL;
    cs_status st = cs_dataset_read(path, "gaml", &ds, &err);
    if (st == CS_OK)
      cs_dataset_free(ds);
    else if (st == CS_ERR_MALFORMED ||
             (st == CS_ERR_UNSUPPORTED && off != (size_t)-1))
      nbad++; /* a flipped format/byteorder name is unsupported, fine */
    else
      fail_msg("k=%d cut=%zu off=%zu: %s (%s)", k, cut, off, cs_strerror(st),
               err.msg);
    if (k < 40 && st == CS_OK)
      fail_msg("prefix of %zu bytes read as a whole document", cut);
  }
  assert_true(nbad >= 40);
  free(data);
}

static void test_sniff(void **state) {
  (void)state;
  int (*sn)(const unsigned char *, size_t) = csi_reader_gaml.sniff;
  const char *a = "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- c -->\n<GAML "
                  "version=\"1.20\">";
  assert_int_equal(sn((const unsigned char *)a, strlen(a)), 100);
  const char *b = "<AnIML><GAML/></AnIML>";
  assert_int_equal(sn((const unsigned char *)b, strlen(b)), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_omnic_ftir),
      cmocka_unit_test(test_helios_mixed_widths),
      cmocka_unit_test(test_fluor_coordinates),
      cmocka_unit_test(test_sciformats),
      cmocka_unit_test(test_raman_omnic),
      cmocka_unit_test(test_microns),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_not_optical),
      cmocka_unit_test(test_truncation_and_flips),
      cmocka_unit_test(test_sniff),
  };
  return cmocka_run_group_tests_name("gaml", tests, NULL, NULL);
}
