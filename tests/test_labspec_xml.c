/* test_labspec_xml.c: the HORIBA LabSpec 6 XML reader on the nine real
 * samples in ../shared/formats/horiba_labspec_xml and on hand-made broken
 * documents.  Expected values were read off the files' own text with a
 * small independent python3 (xml.etree) script, not from calcspec. */
#include "testutil.h"

#include <unistd.h>

#define DIR "formats/horiba_labspec_xml/"

typedef struct sample {
  const char *file;
  size_t nspec, npts;
  double x0, xlast; /* first/last x in file order, after unit handling */
  double y0, ylast; /* first y of the first row, last y of the last row */
  double laser, exposure;
  int acc;
  cs_axis axis;
  cs_quantity q;
  const char *title, *acquired;
} sample;

/* x for eV files is 1240/E nm and for "1/cm abs" 1e7/nu nm (see the reader
 * for why 1240); everything else is the file's text. */
static const sample samples[] = {
    {"jobinyvon_test_linescan.xml", 3, 34, 537.361, 522.574, 1614, 781, 632.817,
     1, 2, CS_AXIS_WAVELENGTH_NM, CS_Q_COUNTS_PER_S, "ev21738_1",
     "27.06.2022 16:36:48"},
    {"jobinyvon_test_map_x2-y2_rotated.xml", 6, 34, 771.797, 720.924, 28, -4,
     632.817, 2, 1, CS_AXIS_WAVELENGTH_NM, CS_Q_COUNTS_PER_S, "map_x5-y3",
     "19.08.2022 09:53:40"},
    {"jobinyvon_test_map_x3-y2.xml", 6, 34, 771.797, 720.924, 275.5, 108.5,
     632.817, 2, 1, CS_AXIS_WAVELENGTH_NM, CS_Q_COUNTS_PER_S, "map_x3-y2",
     "19.08.2022 09:30:34"},
    {"jobinyvon_test_spec.xml", 1, 34, 537.361, 522.574, 1496, 760, 632.817, 1,
     2, CS_AXIS_WAVELENGTH_NM, CS_Q_COUNTS_PER_S, "ev21738_1",
     "27.06.2022 16:26:24"},
    {"jobinyvon_test_spec_3s_abs-cm-1.xml", 1, 34, 1e7 / 12957.4, 1e7 / 13871.8,
     166.333, 86, 632.817, 3, 1, CS_AXIS_WAVELENGTH_NM, CS_Q_COUNTS_PER_S,
     "test_3s", "19.08.2022 09:20:51"},
    {"jobinyvon_test_spec_3s_cm-1.xml", 1, 34, 2844.97, 1930.57, 166.333, 86,
     632.817, 3, 1, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS_PER_S, "test_3s",
     "19.08.2022 09:20:51"},
    {"jobinyvon_test_spec_3s_counts.xml", 1, 34, 771.76, 720.888, 499, 258,
     632.817, 3, 1, CS_AXIS_WAVELENGTH_NM, CS_Q_COUNTS, "test_3s",
     "19.08.2022 09:20:51"},
    {"jobinyvon_test_spec_3s_eV.xml", 1, 34, 1240 / 1.60672, 1240 / 1.7201,
     166.333, 86, 632.817, 3, 1, CS_AXIS_WAVELENGTH_NM, CS_Q_COUNTS_PER_S,
     "test_3s", "19.08.2022 09:20:51"},
    {"jobinyvon_test_spec_range.xml", 1, 105, 720.924, 879.318, 238, 254.265,
     632.817, 1, 2, CS_AXIS_WAVELENGTH_NM, CS_Q_COUNTS_PER_S, "test_3s",
     "19.08.2022 09:24:10"},
};
#define NSAMPLES (sizeof samples / sizeof *samples)

static void test_real_files(void **state) {
  (void)state;
  for (size_t i = 0; i < NSAMPLES; i++) {
    const sample *e = &samples[i];
    char rel[256];
    snprintf(rel, sizeof rel, DIR "%s", e->file);
    SHARED_OR_SKIP(path, rel);
    cs_dataset *ds = test_read_detected(path, "labspec_xml");
    assert_int_equal(cs_dataset_count(ds), e->nspec);
    for (size_t k = 0; k < e->nspec; k++) {
      const cs_spectrum *s = cs_dataset_get(ds, k);
      assert_int_equal(cs_spectrum_n(s), e->npts);
      const double *x = cs_spectrum_x(s);
      DBL_NEAR(x[0], e->x0, 1e-9 * fabs(e->x0));
      DBL_NEAR(x[e->npts - 1], e->xlast, 1e-9 * fabs(e->xlast));
      assert_int_equal(cs_spectrum_axis(s), e->axis);
      assert_int_equal(cs_spectrum_quantity(s), e->q);
      assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
      DBL_NEAR(cs_spectrum_laser_nm(s), e->laser, 0);
      DBL_NEAR(cs_spectrum_exposure_s(s), e->exposure, 0);
      assert_int_equal(cs_spectrum_accumulations(s), e->acc);
      assert_string_equal(cs_spectrum_meta(s, CS_META_TITLE), e->title);
      assert_string_equal(cs_spectrum_meta(s, CS_META_ACQUIRED), e->acquired);
      assert_string_equal(cs_spectrum_meta(s, CS_META_INSTRUMENT),
                          "LabRAM HR Evol");
      assert_string_equal(cs_spectrum_meta(s, CS_META_SAMPLE_ID), "test");
      assert_int_equal(cs_spectrum_source_index(s), k);
    }
    DBL_NEAR(cs_spectrum_y(cs_dataset_get(ds, 0))[0], e->y0, 0);
    DBL_NEAR(cs_spectrum_y(cs_dataset_get(ds, e->nspec - 1))[e->npts - 1],
             e->ylast, 0);
    cs_dataset_free(ds);
  }
}

/* Map rows run through the first map axis fastest (as RosettaSciIO's
 * jobinyvon reader reshapes them): x3-y2 has X = -2 0 2, Y = -1 1. */
static void test_map_positions(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, DIR "jobinyvon_test_map_x3-y2.xml");
  cs_dataset *ds = test_read_ok(path, NULL);
  static const double want[6][2] = {{-2, -1}, {0, -1}, {2, -1},
                                    {-2, 1},  {0, 1},  {2, 1}};
  for (size_t k = 0; k < 6; k++) {
    const char *p = cs_spectrum_meta(cs_dataset_get(ds, k), CS_META_POSITION);
    assert_non_null(p);
    double x, y;
    assert_int_equal(sscanf(p, "%lf %lf", &x, &y), 2);
    DBL_NEAR(x, want[k][0], 0);
    DBL_NEAR(y, want[k][1], 0);
  }
  /* Second row of the matrix: its first value in the file is 295.5. */
  DBL_NEAR(cs_spectrum_y(cs_dataset_get(ds, 1))[0], 295.5, 0);
  cs_dataset_free(ds);
}

/* The line scan's first map axis is named Y (0 0.5 1), the second X (0). */
static void test_linescan_positions(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, DIR "jobinyvon_test_linescan.xml");
  cs_dataset *ds = test_read_ok(path, NULL);
  static const double ys[3] = {0, 0.5, 1};
  for (size_t k = 0; k < 3; k++) {
    double x, y;
    const char *p = cs_spectrum_meta(cs_dataset_get(ds, k), CS_META_POSITION);
    assert_non_null(p);
    assert_int_equal(sscanf(p, "%lf %lf", &x, &y), 2);
    DBL_NEAR(x, 0, 0);
    DBL_NEAR(y, ys[k], 0);
  }
  cs_dataset_free(ds);
}

/* A single spectrum carries the stage position from "X (um)"/"Y (um)". */
static void test_single_position(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, DIR "jobinyvon_test_spec_3s_cm-1.xml");
  cs_dataset *ds = test_read_ok(path, NULL);
  assert_string_equal(cs_spectrum_meta(cs_dataset_get(ds, 0), CS_META_POSITION),
                      "-1263.95 2849.4");
  assert_string_equal(
      cs_spectrum_meta(cs_dataset_get(ds, 0), "labspec.Grating"), "600 gr/mm");
  cs_dataset_free(ds);
}

/* The _3s_ files are one acquisition exported in four units.  Converted to
 * Raman shift with the file's own laser (632.817 nm) they must give the
 * cm-1 file's axis.  Tolerances: half a unit in the last printed digit of
 * both files (cm-1 values: 0.005).  nm printed to 6 significant digits at
 * 771 nm: 0.0005 nm = 1e7*0.0005/771.76^2 = 0.0084 cm-1 -> 0.014.  eV to 6
 * digits: 5e-6 eV = 5e-6*1e7/1240 = 0.040 cm-1 -> 0.046.  Absolute cm-1 to
 * one decimal: 0.05 -> 0.056. */
static void test_units_agree(void **state) {
  (void)state;
  SHARED_OR_SKIP(p_cm, DIR "jobinyvon_test_spec_3s_cm-1.xml");
  cs_dataset *ref = test_read_ok(p_cm, NULL);
  cs_spectrum *r = cs_dataset_get_mut(ref, 0);
  cs_error err, *e = &err;
  STATUS_EQ(cs_spectrum_sort(r, e), CS_OK, e);
  static const struct {
    const char *file;
    double tol;
  } other[] = {{"jobinyvon_test_spec_3s_counts.xml", 0.014},
               {"jobinyvon_test_spec_3s_eV.xml", 0.046},
               {"jobinyvon_test_spec_3s_abs-cm-1.xml", 0.056}};
  for (size_t i = 0; i < 3; i++) {
    char rel[256];
    snprintf(rel, sizeof rel, DIR "%s", other[i].file);
    SHARED_OR_SKIP(path, rel);
    cs_dataset *ds = test_read_ok(path, NULL);
    cs_spectrum *s = cs_dataset_get_mut(ds, 0);
    assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
    STATUS_EQ(cs_spectrum_to_raman_shift(s, NAN, e), CS_OK, e);
    assert_int_equal(cs_spectrum_n(s), cs_spectrum_n(r));
    for (size_t k = 0; k < cs_spectrum_n(s); k++)
      DBL_NEAR(cs_spectrum_x(s)[k], cs_spectrum_x(r)[k], other[i].tol);
    /* Counts = Cnt/sec x 3 s; Cnt/sec printed to 6 digits (166.333). */
    double scale = cs_spectrum_quantity(s) == CS_Q_COUNTS ? 3 : 1;
    for (size_t k = 0; k < cs_spectrum_n(s); k++)
      DBL_NEAR(cs_spectrum_y(s)[k], scale * cs_spectrum_y(r)[k], 0.002);
    cs_dataset_free(ds);
  }
  cs_dataset_free(ref);
}

/* jobinyvon_test_spec.xml reads as -3334..-2807 cm-1: not an axis bug.
 * The file's x is 522.574..537.361 nm with "Laser (nm)" 632.817, and its
 * own "Spectro (nm)" (the spectrometer's centre wavelength) is 530.0006:
 * the mid-point of that axis.  So the acquisition itself sat on the
 * anti-Stokes side of the laser (the _3s_ files, centred at 746.37 nm,
 * are Stokes and agree with the vendor's own cm-1 export: see
 * test_units_agree).  1e7/632.817 - 1e7/522.574 = -3333.7 cm-1 and
 * 1e7/632.817 - 1e7/537.361 = -2807.2 cm-1 by hand. */
static void test_anti_stokes_spec(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, DIR "jobinyvon_test_spec.xml");
  cs_dataset *ds = test_read_ok(path, NULL);
  cs_spectrum *s = cs_dataset_get_mut(ds, 0);
  const char *centre = cs_spectrum_meta(s, "labspec.Spectro (nm)");
  assert_non_null(centre);
  const double *x = cs_spectrum_x(s);
  size_t n = cs_spectrum_n(s);
  DBL_NEAR(0.5 * (x[0] + x[n - 1]), atof(centre), 0.05);
  cs_error err, *e = &err;
  STATUS_EQ(cs_spectrum_to_raman_shift(s, NAN, e), CS_OK, e);
  STATUS_EQ(cs_spectrum_sort(s, e), CS_OK, e);
  x = cs_spectrum_x(s);
  DBL_NEAR(x[0], 1e7 / 632.817 - 1e7 / 522.574, 0.01);
  DBL_NEAR(x[n - 1], 1e7 / 632.817 - 1e7 / 537.361, 0.01);
  cs_dataset_free(ds);
}

/* Same data and metadata whatever the file is called. */
static void test_name_independent(void **state) {
  (void)state;
  const char *dir = test_tmpdir();
  for (size_t i = 0; i < NSAMPLES; i++) {
    char rel[256], tmp[512];
    snprintf(rel, sizeof rel, DIR "%s", samples[i].file);
    SHARED_OR_SKIP(path, rel);
    snprintf(tmp, sizeof tmp, "%s/spectrum_%zu", dir, i);
    test_same_as_copy(path, tmp);
  }
}

static void test_truncated_and_flipped(void **state) {
  (void)state;
  const char *dir = test_tmpdir();
  char tmp[512];
  snprintf(tmp, sizeof tmp, "%s/broken", dir);
  unsigned rng = 12345;
  for (size_t i = 0; i < NSAMPLES; i++) {
    char rel[256], src[4096];
    snprintf(rel, sizeof rel, DIR "%s", samples[i].file);
    SHARED_OR_SKIP(path, rel);
    snprintf(src, sizeof src, "%s", path);
    size_t len;
    char *buf = (char *)test_slurp(src, &len);
    /* Truncations: many offsets through the file, and everything but the
     * closing tags.  Any cut inside the document is malformed XML. */
    test_cuts_malformed(src, len, tmp, "labspec_xml", samples[i].file, 0);
    /* Byte flips at pseudo-random places (fixed seed): OK where the damage
     * is in text that does not matter, else a refusal that says why. */
    test_flip_bits(buf, len, tmp, "labspec_xml", samples[i].file, &rng, 1);
    free(buf);
  }
  unlink(tmp);
}

static const char *write_doc(const char *name, const char *text) {
  static char path[512];
  const char *dir = test_tmpdir();
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

/* A hand-written minimal document; %s slots: spectral unit, axis values,
 * matrix Size, rows. */
static const char *mini(const char *unit, const char *xs, const char *msize,
                        const char *rows) {
  static char doc[4096];
  snprintf(doc, sizeof doc,
           "<?xml version=\"1.0\"?>\n<LSX_Data><LSX_Tree Format=\"9\" "
           "ID=\"0x69746164\" Size=\"1\">"
           "<LSX Format=\"9\" ID=\"0x7A74D9D6\" Size=\"1\">"
           "<LSX Format=\"9\" ID=\"0x7B697861\" Size=\"2\">"
           "<LSX Format=\"9\" ID=\"0x0\" Size=\"2\">"
           "<LSX Format=\"7\" ID=\"0x6D707974\">Intens</LSX>"
           "<LSX Format=\"7\" ID=\"0x7C696E75\">Cnt</LSX></LSX>"
           "<LSX Format=\"9\" ID=\"0x1\" Size=\"2\">"
           "<LSX Format=\"6\" ID=\"0x7D6CD4DB\" Size=\"3\">%s</LSX>"
           "<LSX Format=\"7\" ID=\"0x7C696E75\">%s</LSX></LSX>"
           "</LSX></LSX></LSX_Tree>"
           "<LSX_Matrix Format=\"6\" ID=\"0x7D6CD4DB\" Size=\"%s\">%s"
           "</LSX_Matrix></LSX_Data>\n",
           xs, unit, msize, rows);
  return doc;
}

static void expect_status(const char *doc, cs_status want, const char *msg) {
  const char *path = write_doc("mini.xml", doc);
  cs_error err;
  cs_dataset *ds = NULL;
  cs_status st = cs_dataset_read(path, NULL, &ds, &err);
  if (st != want)
    fail_msg("got %s (%s), want %s", cs_strerror(st), st ? err.msg : "",
             cs_strerror(want));
  if (msg && !strstr(err.msg, msg))
    fail_msg("message '%s' lacks '%s'", err.msg, msg);
  cs_dataset_free(ds);
}

#define ROW(v) "<LSX_Row Format=\"6\" Index=\"0\" Size=\"3\">" v "</LSX_Row>"

static void test_handmade(void **state) {
  (void)state;
  /* Well formed: counts, 1/cm. */
  const char *ok = mini("1/cm", "100 200 300", "3", ROW("1 2 3"));
  const char *path = write_doc("ok.xml", ok);
  cs_dataset *ds = test_read_ok(path, NULL);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_COUNTS);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  assert_true(isnan(cs_spectrum_laser_nm(s)));
  DBL_NEAR(cs_spectrum_y(s)[2], 3, 0);
  cs_dataset_free(ds);

  expect_status(mini("1/cm", "100 200 300", "3", ROW("1 2")), CS_ERR_MALFORMED,
                "Size says 3 values, found 2");
  expect_status(mini("1/cm", "100 200", "3", ROW("1 2 3")), CS_ERR_MALFORMED,
                "spectral axis");
  expect_status(mini("1/cm", "100 200 300", "6", ROW("1 2 3")),
                CS_ERR_MALFORMED, "<LSX_Matrix> Size");
  expect_status(mini("1/cm", "100 200 300", "3", ROW("1 nan 3")),
                CS_ERR_MALFORMED, "matrix row 0");
  expect_status(mini("1/cm", "100 200 300", "3", ROW("1 1e999 3")),
                CS_ERR_MALFORMED, "non-finite");
  expect_status(mini("1/cm", "100 2x0 300", "3", ROW("1 2 3")),
                CS_ERR_MALFORMED, "bad number");
  expect_status(mini("furlong", "100 200 300", "3", ROW("1 2 3")),
                CS_ERR_UNSUPPORTED, "'furlong'");
  expect_status(mini("eV", "1.6 0 1.7", "3", ROW("1 2 3")), CS_ERR_MALFORMED,
                "not positive");
  expect_status(mini("1/cm", "100 200 300", "3", ""), CS_ERR_MALFORMED,
                "no rows");
  /* Descending x stays in file order; non-monotonic x is refused. */
  expect_status(mini("nm", "700 600 650", "3", ROW("1 2 3")), CS_ERR_MALFORMED,
                "monotonic");
  /* An entity declaration is refused before parsing. */
  expect_status("<?xml version=\"1.0\"?><!DOCTYPE LSX_Data [<!ENTITY a "
                "\"aaaa\">]><LSX_Data>&a;</LSX_Data>",
                CS_ERR_MALFORMED, "entities");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_real_files),
      cmocka_unit_test(test_map_positions),
      cmocka_unit_test(test_linescan_positions),
      cmocka_unit_test(test_single_position),
      cmocka_unit_test(test_units_agree),
      cmocka_unit_test(test_anti_stokes_spec),
      cmocka_unit_test(test_name_independent),
      cmocka_unit_test(test_truncated_and_flipped),
      cmocka_unit_test(test_handmade),
  };
  return cmocka_run_group_tests_name("labspec_xml", tests, NULL, NULL);
}
