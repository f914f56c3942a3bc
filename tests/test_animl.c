/* test_animl.c: the AnIML reader against the real documents in
 * ../shared/formats/animl (expectations read off the files' own text),
 * synthetic documents for every value-set form, the writer's exact round
 * trip, the XML attack files, and robustness against truncation and
 * corruption. */
#include "testutil.h"

#include "internal.h"

#include <locale.h>
#include <unistd.h>

/* ---- real files ---- */

static void strict_plate_reader(void **state) {
  (void)state;
  SHARED_OR_SKIP(p, "formats/animl/pyAnIML_strict.animl");
  cs_dataset *ds = test_read_ok(p, NULL);
  assert_int_equal(cs_dataset_count(ds), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  /* AutoIncrementedValueSet StartValue 0, Increment 1, SeriesSet length 4,
   * the independent Series sits beside the SeriesSet */
  assert_int_equal(cs_spectrum_n(s), 4);
  DBL_NEAR(cs_spectrum_x(s)[0], 0, 0);
  DBL_NEAR(cs_spectrum_x(s)[3], 3, 0);
  DBL_NEAR(cs_spectrum_y(s)[0], 0.0996, 1e-15);
  DBL_NEAR(cs_spectrum_y(s)[3], 0.1395, 1e-15);
  assert_string_equal(cs_spectrum_meta(s, CS_META_SAMPLE_ID), "plate_0");
  assert_string_equal(cs_spectrum_meta(s, CS_META_FORMAT), "animl");
  cs_dataset_free(ds);
}

static void sloppy_no_namespace(void **state) {
  (void)state;
  /* no namespace, "SeriesType" and "independet" misspelt; no length */
  SHARED_OR_SKIP(p, "formats/animl/pyAnIML_example_nonamespace.animl");
  cs_dataset *ds = test_read_ok(p, NULL);
  assert_int_equal(cs_dataset_count(ds), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_n(s), 3);
  DBL_NEAR(cs_spectrum_x(s)[0], 20.2, 1e-12);
  DBL_NEAR(cs_spectrum_x(s)[2], 53.6, 1e-12);
  DBL_NEAR(cs_spectrum_y(s)[0], 1.2, 1e-12);
  DBL_NEAR(cs_spectrum_y(s)[2], 5.6, 1e-12);
  assert_string_equal(cs_spectrum_meta(s, CS_META_SAMPLE_ID), "S1");
  assert_string_equal(cs_spectrum_meta(s, CS_META_INSTRUMENT), "Cool device");
  cs_dataset_free(ds);
}

static void real_life_plate_reader(void **state) {
  (void)state;
  SHARED_OR_SKIP(p, "formats/animl/pyAnIML_real_life.animl");
  cs_dataset *ds = test_read_ok(p, NULL);
  /* 2 steps x 1 spectral series (Value): "Measurement Delay" is a
   * per-well time, not a second spectrum (issue 16); the Boolean and String
   * series are annotations */
  assert_int_equal(cs_dataset_count(ds), 2);
  const double first[] = {0.0996, 0.0957};
  const double last[] = {0.0489, 0.0441};
  for (size_t i = 0; i < 2; i++) {
    const cs_spectrum *s = cs_dataset_get(ds, i);
    assert_int_equal(cs_spectrum_n(s), 96);
    DBL_NEAR(cs_spectrum_x(s)[95], 95, 0);
    DBL_NEAR(cs_spectrum_y(s)[0], first[i], 1e-12);
    DBL_NEAR(cs_spectrum_y(s)[95], last[i], 1e-12);
    assert_string_equal(cs_spectrum_meta(s, "animl.series"), "Value");
    assert_string_equal(cs_spectrum_meta(s, CS_META_INSTRUMENT), "Varioskan LUX");
    assert_string_equal(cs_spectrum_meta(s, CS_META_ACQUIRED), "2020-06-22T11:38:00");
    assert_int_equal(cs_spectrum_source_index(s), i);
  }
  cs_dataset_free(ds);
}

static void mass_spectra_refused(void **state) {
  (void)state;
  /* OpenChrom's synthetic MS document: m/z lists are random, not an axis */
  SHARED_OR_SKIP(p, "formats/animl/MS_STRICT.animl");
  cs_dataset *ds;
  cs_error err;
  STATUS_EQ(cs_dataset_read(p, NULL, &ds, &err), CS_ERR_UNSUPPORTED, &err);
  assert_null(ds);
  assert_non_null(strstr(err.msg, "not monotonic"));
}

/* ---- synthetic documents ---- */

static const char *head =
    "<?xml version=\"1.0\"?>\n<AnIML xmlns=\"urn:org:astm:animl:schema:core:"
    "draft:0.90\" version=\"0.90\"><ExperimentStepSet>";
static const char *tail = "</ExperimentStepSet></AnIML>\n";

static cs_status read_doc(const char *body, cs_dataset **ds, cs_error *err) {
  char *doc = csi_strfmt("%s%s%s", head, body, tail);
  const char *p = test_write_text("doc.animl", doc);
  free(doc);
  return cs_dataset_read(p, NULL, ds, err);
}

static void encoded_and_units(void **state) {
  (void)state;
  /* x: Float32 LE 500, 501, 502 (unit nm); y: Int32 7, -2, 100000; the
   * laser is given in um.  Encodings from python's struct.pack('<3f', ...)
   * and struct.pack('<3i', ...) through base64. */
  const char *body =
      "<ExperimentStep name=\"r\" experimentStepID=\"a\">"
      "<Technique name=\"Raman Spectrum\" uri=\"x\"/>"
      "<Method><Category name=\"Setup\"><Parameter name=\"Laser Wavelength\" "
      "parameterType=\"Float64\"><D>0.785</D><Unit label=\"um\"/></Parameter>"
      "<Parameter name=\"Exposure Time\" parameterType=\"Int32\"><I>250</I>"
      "<Unit label=\"ms\"/></Parameter></Category></Method>"
      "<Result><SeriesSet name=\"S\" length=\"3\">"
      "<Series name=\"Wavelength\" seriesID=\"x\" seriesType=\"Float32\" "
      "dependency=\"independent\"><EncodedValueSet>AAD6QwCA+kMAAPtD"
      "</EncodedValueSet><Unit label=\"nm\"><SIUnit factor=\"1e-9\">m</SIUnit>"
      "</Unit></Series>"
      "<Series name=\"Intensity\" seriesID=\"y\" seriesType=\"Int32\" "
      "dependency=\"dependent\"><EncodedValueSet>BwAAAP7///+ghgEA"
      "</EncodedValueSet><Unit label=\"counts\"/></Series>"
      "</SeriesSet></Result></ExperimentStep>";
  cs_dataset *ds;
  cs_error err;
  STATUS_EQ(read_doc(body, &ds, &err), CS_OK, &err);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_COUNTS);
  DBL_NEAR(cs_spectrum_x(s)[0], 500, 1e-9);
  DBL_NEAR(cs_spectrum_x(s)[2], 502, 1e-9);
  DBL_NEAR(cs_spectrum_y(s)[1], -2, 0);
  DBL_NEAR(cs_spectrum_y(s)[2], 100000, 0);
  DBL_NEAR(cs_spectrum_laser_nm(s), 785, 1e-9);
  DBL_NEAR(cs_spectrum_exposure_s(s), 0.25, 1e-15);
  cs_dataset_free(ds);
}

/* Sample names come from the SampleSet by id (a sorted lookup since a
 * linear one made a file of n samples O(n^2)): out of order, a repeated id
 * (the first one counts), a sample without a name, a reference to none. */
static void sample_names_by_id(void **state) {
  (void)state;
  const char *step =
      "<ExperimentStep name=\"%s\" experimentStepID=\"%s\"><Infrastructure>"
      "<SampleReferenceSet><SampleReference sampleID=\"%s\" role=\"x\" "
      "samplePurpose=\"y\"/></SampleReferenceSet></Infrastructure>"
      "<Technique name=\"Raman Spectrum\" uri=\"x\"/><Result>"
      "<SeriesSet name=\"S\" length=\"2\"><Series name=\"Raman Shift\" "
      "seriesID=\"x\" seriesType=\"Float64\" dependency=\"independent\">"
      "<IndividualValueSet><D>100</D><D>101</D></IndividualValueSet>"
      "<Unit label=\"1/cm\"/></Series><Series name=\"Intensity\" seriesID=\"y\" "
      "seriesType=\"Float64\" dependency=\"dependent\"><IndividualValueSet>"
      "<D>1</D><D>2</D></IndividualValueSet></Series></SeriesSet></Result>"
      "</ExperimentStep>";
  const char *refs[] = {"s1", "s2", "s0", "s9"};
  const char *want[] = {"first", "second", NULL, NULL};
  char *steps = csi_strdup("");
  for (int i = 0; i < 4; i++) {
    char id[8];
    snprintf(id, sizeof id, "e%d", i);
    char *one = csi_strfmt(step, id, id, refs[i]);
    char *both = csi_strfmt("%s%s", steps, one);
    free(one);
    free(steps);
    steps = both;
  }
  char *doc = csi_strfmt(
      "<?xml version=\"1.0\"?>\n<AnIML xmlns=\"urn:org:astm:animl:schema:core:"
      "draft:0.90\" version=\"0.90\"><SampleSet>"
      "<Sample sampleID=\"s2\" name=\"second\"/><Sample sampleID=\"s1\" "
      "name=\"first\"/><Sample sampleID=\"s2\" name=\"dup\"/>"
      "<Sample sampleID=\"s0\"/></SampleSet><ExperimentStepSet>%s"
      "</ExperimentStepSet></AnIML>\n", steps);
  free(steps);
  const char *p = test_write_text("samples.animl", doc);
  free(doc);
  cs_dataset *ds = test_read_ok(p, NULL);
  assert_int_equal(cs_dataset_count(ds), 4);
  for (size_t i = 0; i < 4; i++) {
    const cs_spectrum *s = cs_dataset_get(ds, i);
    assert_string_equal(cs_spectrum_meta(s, CS_META_SAMPLE_ID), refs[i]);
    const char *nm = cs_spectrum_meta(s, "animl.sample_name");
    if (want[i])
      assert_string_equal(nm, want[i]);
    else
      assert_null(nm);
  }
  cs_dataset_free(ds);
}

/* Only the dependent spectral series become spectra: a delay, a time (by
 * name or by unit) or a temperature series beside the signal does not. */
static void only_spectral_series(void **state) {
  (void)state;
  const char *body =
      "<ExperimentStep name=\"uv\" experimentStepID=\"a\">"
      "<Technique name=\"UV-Vis\" uri=\"x\"/>"
      "<Result><SeriesSet name=\"S\" length=\"3\">"
      "<Series name=\"Wavelength\" seriesID=\"x\" seriesType=\"Float64\" "
      "dependency=\"independent\"><IndividualValueSet><D>400</D><D>410</D>"
      "<D>420</D></IndividualValueSet><Unit label=\"nm\"/></Series>"
      "<Series name=\"Absorbance\" seriesID=\"y\" seriesType=\"Float64\" "
      "dependency=\"dependent\"><IndividualValueSet><D>0.1</D><D>0.2</D>"
      "<D>0.3</D></IndividualValueSet></Series>"
      "<Series name=\"Measurement Delay\" seriesID=\"d\" seriesType=\"Float32\" "
      "dependency=\"dependent\"><IndividualValueSet><F>0.26</F><F>0.92</F>"
      "<F>1.58</F></IndividualValueSet></Series>"
      "<Series name=\"Read\" seriesID=\"t\" seriesType=\"Float32\" "
      "dependency=\"dependent\"><IndividualValueSet><F>1</F><F>2</F>"
      "<F>3</F></IndividualValueSet><Unit label=\"ms\"/></Series>"
      "<Series name=\"Well Temperature\" seriesID=\"k\" seriesType=\"Float32\" "
      "dependency=\"dependent\"><IndividualValueSet><F>37</F><F>37</F>"
      "<F>37</F></IndividualValueSet></Series>"
      "<Series name=\"Reference\" seriesID=\"r\" seriesType=\"Float64\" "
      "dependency=\"dependent\"><IndividualValueSet><D>1</D><D>1.5</D>"
      "<D>2</D></IndividualValueSet></Series>"
      "</SeriesSet></Result></ExperimentStep>";
  cs_dataset *ds;
  cs_error err;
  STATUS_EQ(read_doc(body, &ds, &err), CS_OK, &err);
  assert_int_equal(cs_dataset_count(ds), 2);
  const cs_spectrum *a = cs_dataset_get(ds, 0), *r = cs_dataset_get(ds, 1);
  assert_string_equal(cs_spectrum_meta(a, "animl.series"), "Absorbance");
  assert_int_equal(cs_spectrum_quantity(a), CS_Q_ABSORBANCE);
  test_expect_ends(a, 3, 400, 420, 0.1, 0.3);
  assert_string_equal(cs_spectrum_meta(r, "animl.series"), "Reference");
  cs_dataset_free(ds);
}

static void auto_increment_and_transmittance(void **state) {
  (void)state;
  /* Wavenumber 400, 402, 404 by auto-increment; transmittance given as a
   * fraction (no % unit) becomes percent. */
  const char *body =
      "<ExperimentStep name=\"ir\" experimentStepID=\"a\">"
      "<Technique name=\"IR\" uri=\"x\"/><Result><SeriesSet name=\"S\" "
      "length=\"3\"><Series name=\"Wavenumber\" seriesID=\"x\" "
      "seriesType=\"Float64\" dependency=\"independent\">"
      "<AutoIncrementedValueSet><StartValue><D>400</D></StartValue>"
      "<Increment><D>2</D></Increment></AutoIncrementedValueSet>"
      "<Unit label=\"1/cm\"><SIUnit exponent=\"-1\" factor=\"1e-2\">m</SIUnit>"
      "</Unit></Series><Series name=\"Transmittance\" seriesID=\"y\" "
      "seriesType=\"Float64\" dependency=\"dependent\"><IndividualValueSet>"
      "<D>0.5</D><D>0.25</D><D>1</D></IndividualValueSet></Series>"
      "</SeriesSet></Result></ExperimentStep>";
  cs_dataset *ds;
  cs_error err;
  STATUS_EQ(read_doc(body, &ds, &err), CS_OK, &err);
  cs_spectrum *s = cs_dataset_get_mut(ds, 0);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVENUMBER);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_FTIR);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_TRANSMITTANCE_PCT);
  DBL_NEAR(cs_spectrum_x(s)[2], 404, 0);
  DBL_NEAR(cs_spectrum_y(s)[0], 50, 1e-12);
  STATUS_EQ(cs_spectrum_to_absorbance(s, &err), CS_OK, &err);
  DBL_NEAR(cs_spectrum_y(s)[1], 2 - log10(25.0), 1e-12);
  cs_dataset_free(ds);
}

/* An SIUnit exponent is an integer: metres to the power 1.5 are no
 * wavelength, and 1e10 into an int was undefined behaviour. */
static void siunit_exponent_not_integer(void **state) {
  (void)state;
  const char *exps[] = {"1", "1.5", "1e10", "-1e10"};
  for (size_t k = 0; k < 4; k++) {
    char *body = csi_strfmt(
        "<ExperimentStep name=\"r\" experimentStepID=\"a\">"
        "<Technique name=\"Raman Spectrum\" uri=\"x\"/>"
        "<Result><SeriesSet name=\"S\" length=\"2\"><Series name=\"X\" "
        "seriesID=\"x\" seriesType=\"Float64\" dependency=\"independent\">"
        "<IndividualValueSet><D>500</D><D>501</D></IndividualValueSet>"
        "<Unit><SIUnit factor=\"1e-9\" exponent=\"%s\">m</SIUnit></Unit>"
        "</Series><Series name=\"Intensity\" seriesID=\"y\" "
        "seriesType=\"Float64\" dependency=\"dependent\">"
        "<IndividualValueSet><D>1</D><D>2</D></IndividualValueSet></Series>"
        "</SeriesSet></Result></ExperimentStep>",
        exps[k]);
    cs_dataset *ds;
    cs_error err;
    cs_status st = read_doc(body, &ds, &err);
    free(body);
    if (k == 0) {
      STATUS_EQ(st, CS_OK, &err);
      assert_int_equal(cs_spectrum_axis(cs_dataset_get(ds, 0)),
                       CS_AXIS_WAVELENGTH_NM);
    } else if (st == CS_OK) {
      assert_int_not_equal(cs_spectrum_axis(cs_dataset_get(ds, 0)),
                           CS_AXIS_WAVELENGTH_NM);
    }
    cs_dataset_free(ds);
  }
}

/* calcspec's own Category: an accumulation count that is no integer in
 * [1, 1e9] is ignored, as in the other readers (1e10 into an int was
 * undefined behaviour; found by read_animl). */
static void calcspec_accumulations_out_of_range(void **state) {
  (void)state;
  const char *vals[] = {"1e10", "-3e9", "2.5", "7"};
  for (size_t k = 0; k < 4; k++) {
    char *body = csi_strfmt(
        "<ExperimentStep name=\"r\" experimentStepID=\"a\">"
        "<Technique name=\"Raman Spectrum\" uri=\"x\"/><Method>"
        "<Category name=\"calcspec\"><Parameter name=\"accumulations\" "
        "parameterType=\"Int32\"><I>%s</I></Parameter></Category></Method>"
        "<Result><SeriesSet name=\"S\" length=\"2\"><Series name=\"Raman "
        "Shift\" seriesID=\"x\" seriesType=\"Float64\" "
        "dependency=\"independent\"><IndividualValueSet><D>500</D><D>501</D>"
        "</IndividualValueSet></Series><Series name=\"Intensity\" "
        "seriesID=\"y\" seriesType=\"Float64\" dependency=\"dependent\">"
        "<IndividualValueSet><D>1</D><D>2</D></IndividualValueSet></Series>"
        "</SeriesSet></Result></ExperimentStep>",
        vals[k]);
    cs_dataset *ds;
    cs_error err;
    STATUS_EQ(read_doc(body, &ds, &err), CS_OK, &err);
    free(body);
    assert_int_equal(cs_spectrum_accumulations(cs_dataset_get(ds, 0)),
                     k == 3 ? 7 : 0);
    cs_dataset_free(ds);
  }
}

static void bad_documents(void **state) {
  (void)state;
  struct {
    const char *body, *want;
    cs_status code;
  } cases[] = {
      {"<ExperimentStep name=\"a\" experimentStepID=\"a\"><Result><SeriesSet "
       "name=\"S\" length=\"2\"><Series name=\"x\" seriesID=\"x\" seriesType="
       "\"Float64\" dependency=\"independent\"><IndividualValueSet><D>1</D>"
       "<D>2</D><D>3</D></IndividualValueSet></Series><Series name=\"y\" "
       "seriesID=\"y\" seriesType=\"Float64\" dependency=\"dependent\">"
       "<IndividualValueSet><D>1</D><D>2</D></IndividualValueSet></Series>"
       "</SeriesSet></Result></ExperimentStep>",
       "3 x values but 2 y values", CS_ERR_MALFORMED},
      {"<ExperimentStep name=\"a\" experimentStepID=\"a\"><Result><SeriesSet "
       "name=\"S\" length=\"1\"><Series name=\"y\" seriesID=\"y\" seriesType="
       "\"Float64\" dependency=\"dependent\"><IndividualValueSet><D>1.2.3</D>"
       "</IndividualValueSet></Series></SeriesSet></Result></ExperimentStep>",
       "bad number", CS_ERR_MALFORMED},
      {"<ExperimentStep name=\"a\" experimentStepID=\"a\"><Result><SeriesSet "
       "name=\"S\" length=\"1\"><Series name=\"y\" seriesID=\"y\" seriesType="
       "\"Float64\" dependency=\"dependent\"><EncodedValueSet>AAAA"
       "</EncodedValueSet></Series></SeriesSet></Result></ExperimentStep>",
       "not a whole number", CS_ERR_MALFORMED},
      {"<ExperimentStep name=\"a\" experimentStepID=\"a\"><Result><SeriesSet "
       "name=\"S\" length=\"1\"><Series name=\"y\" seriesID=\"y\" seriesType="
       "\"Float64\" dependency=\"dependent\"><EncodedValueSet>AAAAAAAA+H8="
       "</EncodedValueSet></Series></SeriesSet></Result></ExperimentStep>",
       "non-finite", CS_ERR_MALFORMED}, /* NaN as LE f64 */
      {"", "no numeric series", CS_ERR_MALFORMED},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cs_dataset *ds;
    cs_error err;
    STATUS_EQ(read_doc(cases[i].body, &ds, &err), cases[i].code, &err);
    if (!strstr(err.msg, cases[i].want))
      fail_msg("case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].want);
  }
}

static void xml_attacks_refused(void **state) {
  (void)state;
  const char *laughs =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE AnIML [\n"
      " <!ENTITY lol \"lol\">\n"
      " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
      " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
      " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
      "]>\n<AnIML><ExperimentStepSet>&lol3;</ExperimentStepSet></AnIML>\n";
  const char *xxe =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE AnIML [ <!ENTITY xxe SYSTEM "
      "\"file:///etc/passwd\"> ]>\n<AnIML><ExperimentStepSet><ExperimentStep "
      "name=\"&xxe;\" experimentStepID=\"a\"/></ExperimentStepSet></AnIML>\n";
  const char *docs[] = {laughs, xxe};
  for (int i = 0; i < 2; i++) {
    cs_dataset *ds;
    cs_error err;
    const char *p = test_write_text("attack.animl", docs[i]);
    STATUS_EQ(cs_dataset_read(p, NULL, &ds, &err), CS_ERR_MALFORMED, &err);
    assert_non_null(strstr(err.msg, "entities"));
  }
}

/* ---- writer ---- */

static cs_dataset *sample_dataset(void) {
  cs_dataset *ds = NULL;
  STATUS_EQ(cs_dataset_new(&ds, NULL), CS_OK, NULL);
  cs_error err;
  for (int k = 0; k < 3; k++) {
    double x[50], y[50];
    for (int i = 0; i < 50; i++) {
      x[i] = 200.0 + i * 3.3 + k * 1e-13;
      y[i] = sin(i * 0.1 + k) * 1e5 + 1.0 / 3.0;
    }
    cs_spectrum *s;
    STATUS_EQ(cs_spectrum_new(x, y, 50, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &s,
                              &err), CS_OK, &err);
    cs_spectrum_set_technique(s, CS_TECH_RAMAN);
    cs_spectrum_set_laser_nm(s, 785.0 + k / 7.0);
    cs_spectrum_set_exposure_s(s, 0.1 * (k + 1));
    cs_spectrum_set_accumulations(s, k + 2);
    cs_spectrum_set_meta(s, CS_META_SAMPLE_ID, k < 2 ? "core A <1>" : "B&C", &err);
    cs_spectrum_set_meta(s, CS_META_CORE_ID, "C-7", &err);
    cs_spectrum_set_meta(s, "truth.class", "hydroxyapatite", &err);
    cs_spectrum_set_meta(s, "note", "multi\nline \"quoted\" \xC2\xB5m", &err);
    cs_dataset_push(ds, s, &err);
  }
  return ds;
}

static void write_read_round_trip(void **state) {
  (void)state;
  cs_dataset *ds = sample_dataset(), *back;
  cs_error err;
  char path[512];
  snprintf(path, sizeof path, "%s/rt.animl", test_tmpdir());
  STATUS_EQ(cs_dataset_write(ds, path, NULL, &err), CS_OK, &err);
  /* one Sample per distinct id, in order of first appearance */
  size_t len;
  char *txt = (char *)test_slurp(path, &len);
  char *set = strstr(txt, "<SampleSet>"), *end = set ? strstr(set, "</SampleSet>") : NULL;
  assert_non_null(end);
  *end = '\0';
  char *sa = strstr(set, "<Sample sampleID=\"core A &lt;1&gt;\"");
  char *sb = strstr(set, "<Sample sampleID=\"B&amp;C\"");
  assert_true(sa && sb && sa < sb);
  assert_null(strstr(sa + 1, "<Sample sampleID=\"core A"));
  free(txt);
  STATUS_EQ(cs_dataset_read(path, NULL, &back, &err), CS_OK, &err);
  assert_int_equal(cs_dataset_count(back), 3);
  for (size_t k = 0; k < 3; k++) {
    const cs_spectrum *a = cs_dataset_get(ds, k), *b = cs_dataset_get(back, k);
    assert_int_equal(cs_spectrum_n(b), 50);
    assert_memory_equal(cs_spectrum_x(a), cs_spectrum_x(b), 50 * sizeof(double));
    assert_memory_equal(cs_spectrum_y(a), cs_spectrum_y(b), 50 * sizeof(double));
    assert_int_equal(cs_spectrum_axis(b), CS_AXIS_RAMAN_SHIFT);
    assert_int_equal(cs_spectrum_quantity(b), CS_Q_COUNTS);
    assert_int_equal(cs_spectrum_technique(b), CS_TECH_RAMAN);
    assert_true(cs_spectrum_laser_nm(a) == cs_spectrum_laser_nm(b));
    assert_true(cs_spectrum_exposure_s(a) == cs_spectrum_exposure_s(b));
    assert_int_equal(cs_spectrum_accumulations(b), (int)k + 2);
    for (size_t m = 0; m < cs_spectrum_meta_count(a); m++) {
      const char *key, *v;
      cs_spectrum_meta_at(a, m, &key, &v);
      const char *got = cs_spectrum_meta(b, key);
      if (!got || strcmp(got, v))
        fail_msg("meta %s: '%s' != '%s'", key, got ? got : "(null)", v);
    }
  }
  cs_dataset_free(back);
  /* refusing unknown output formats */
  STATUS_EQ(cs_dataset_write(ds, path, "nosuch", &err), CS_ERR_ARG, &err);
  snprintf(path, sizeof path, "%s/out.unknownext", test_tmpdir());
  STATUS_EQ(cs_dataset_write(ds, path, NULL, &err), CS_ERR_ARG, &err);
  cs_dataset_free(ds);
}

static void write_is_locale_independent(void **state) {
  (void)state;
  /* A German numeric locale must not turn 0.5 into "0,5" in files. */
  const char *loc = setlocale(LC_NUMERIC, "de_DE.UTF-8");
  if (!loc)
    loc = setlocale(LC_NUMERIC, "C.UTF-8"); /* still exercises the path */
  cs_dataset *ds = sample_dataset(), *back;
  cs_error err;
  char path[512];
  snprintf(path, sizeof path, "%s/loc.animl", test_tmpdir());
  STATUS_EQ(cs_dataset_write(ds, path, "animl", &err), CS_OK, &err);
  STATUS_EQ(cs_dataset_read(path, NULL, &back, &err), CS_OK, &err);
  assert_true(cs_spectrum_laser_nm(cs_dataset_get(back, 1)) == 785.0 + 1 / 7.0);
  setlocale(LC_NUMERIC, "C");
  cs_dataset_free(ds);
  cs_dataset_free(back);
}

static void latin1_metadata_becomes_utf8(void **state) {
  (void)state;
  cs_dataset *ds = sample_dataset(), *back;
  cs_error err;
  cs_spectrum_set_meta(cs_dataset_get_mut(ds, 0), "temp", "20 \xB0" "C", &err);
  char path[512];
  snprintf(path, sizeof path, "%s/l1.animl", test_tmpdir());
  STATUS_EQ(cs_dataset_write(ds, path, NULL, &err), CS_OK, &err);
  STATUS_EQ(cs_dataset_read(path, NULL, &back, &err), CS_OK, &err);
  assert_string_equal(cs_spectrum_meta(cs_dataset_get(back, 0), "temp"),
                      "20 \xC2\xB0" "C");
  cs_dataset_free(ds);
  cs_dataset_free(back);
  /* U+FFFE and U+FFFF are valid UTF-8 but not XML characters: written as
   * U+FFFD, so the file reads back (it was "not proper UTF-8") */
  ds = sample_dataset();
  cs_spectrum_set_meta(cs_dataset_get_mut(ds, 0), CS_META_SAMPLE_ID,
                       "a\xEF\xBF\xBE" "b\xEF\xBF\xBF", &err);
  STATUS_EQ(cs_dataset_write(ds, path, NULL, &err), CS_OK, &err);
  STATUS_EQ(cs_dataset_read(path, NULL, &back, &err), CS_OK, &err);
  assert_string_equal(cs_spectrum_meta(cs_dataset_get(back, 0), CS_META_SAMPLE_ID),
                      "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  cs_dataset_free(ds);
  cs_dataset_free(back);
}

/* ---- robustness ---- */

static void truncate_and_flip(const char *src) {
  char *buf;
  size_t len;
  cs_error err;
  STATUS_EQ(csi_read_file(src, 1 << 24, &buf, &len, &err), CS_OK, &err);
  char path[512];
  snprintf(path, sizeof path, "%s/cut", test_tmpdir());
  unsigned seed = 12345;
  for (int k = 0; k < 24; k++) {
    size_t cut = k < 12 ? len * (size_t)(k + 1) / 13 : len;
    char *copy = malloc(cut + 1);
    memcpy(copy, buf, cut);
    if (k >= 12) /* flip a few bytes at seeded positions */
      for (int f = 0; f < 4; f++) {
        seed = seed * 1103515245u + 12345u;
        copy[(seed >> 8) % cut] ^= (char)(1 + (seed & 0x7F));
      }
    FILE *fp = fopen(path, "wb");
    fwrite(copy, 1, cut, fp);
    fclose(fp);
    free(copy);
    cs_dataset *ds;
    cs_status st = cs_dataset_read(path, "animl", &ds, &err);
    if (st == CS_OK)
      cs_dataset_free(ds);
    else if (st != CS_ERR_MALFORMED && st != CS_ERR_UNSUPPORTED)
      fail_msg("%s cut at %zu: unexpected %s (%s)", src, cut, cs_strerror(st),
               err.msg);
    else
      assert_true(err.msg[0] != '\0');
  }
  free(buf);
}

static void robustness(void **state) {
  (void)state;
  cs_dataset *ds = sample_dataset();
  cs_error err;
  char path[512];
  snprintf(path, sizeof path, "%s/mine.animl", test_tmpdir());
  STATUS_EQ(cs_dataset_write(ds, path, NULL, &err), CS_OK, &err);
  cs_dataset_free(ds);
  truncate_and_flip(path);
  const char *names[] = {"pyAnIML_strict.animl", "pyAnIML_real_life.animl",
                         "pyAnIML_example_nonamespace.animl"};
  for (size_t i = 0; i < 3; i++) {
    char rel[256];
    snprintf(rel, sizeof rel, "formats/animl/%s", names[i]);
    const char *p = shared_path(rel);
    if (p) {
      char copy[4096];
      snprintf(copy, sizeof copy, "%s", p);
      truncate_and_flip(copy);
    }
  }
}

static void content_not_name(void **state) {
  (void)state;
  cs_dataset *ds = sample_dataset();
  cs_error err;
  char a[512], b[512];
  const char *dir = test_tmpdir();
  snprintf(a, sizeof a, "%s/x.animl", dir);
  snprintf(b, sizeof b, "%s/noext", dir);
  STATUS_EQ(cs_dataset_write(ds, a, NULL, &err), CS_OK, &err);
  cs_dataset_free(ds);
  char *buf;
  size_t len;
  STATUS_EQ(csi_read_file(a, 1 << 24, &buf, &len, &err), CS_OK, &err);
  STATUS_EQ(csi_write_atomic(b, buf, len, &err), CS_OK, &err);
  free(buf);
  const char *name;
  STATUS_EQ(cs_format_detect(b, &name, &err), CS_OK, &err);
  assert_string_equal(name, "animl");
  cs_dataset *d1 = test_read_ok(a, NULL), *d2 = test_read_ok(b, NULL);
  assert_int_equal(cs_dataset_count(d1), cs_dataset_count(d2));
  assert_memory_equal(cs_spectrum_y(cs_dataset_get(d1, 2)),
                      cs_spectrum_y(cs_dataset_get(d2, 2)), 50 * sizeof(double));
  cs_dataset_free(d1);
  cs_dataset_free(d2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(strict_plate_reader),
      cmocka_unit_test(sloppy_no_namespace),
      cmocka_unit_test(real_life_plate_reader),
      cmocka_unit_test(only_spectral_series),
      cmocka_unit_test(mass_spectra_refused),
      cmocka_unit_test(encoded_and_units),
      cmocka_unit_test(sample_names_by_id),
      cmocka_unit_test(auto_increment_and_transmittance),
      cmocka_unit_test(calcspec_accumulations_out_of_range),
      cmocka_unit_test(siunit_exponent_not_integer),
      cmocka_unit_test(bad_documents),
      cmocka_unit_test(xml_attacks_refused),
      cmocka_unit_test(write_read_round_trip),
      cmocka_unit_test(write_is_locale_independent),
      cmocka_unit_test(latin1_metadata_becomes_utf8),
      cmocka_unit_test(robustness),
      cmocka_unit_test(content_not_name),
  };
  return cmocka_run_group_tests_name("animl", tests, NULL, NULL);
}
