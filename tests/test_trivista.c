/* test_trivista.c: the TriVista .tvf reader on the six real samples in
 * ../shared/formats/trivista_tvf and on hand-made documents.  Expected
 * values were read off the files' text (ValueArray, Frame text, the
 * unescaped InfoSerialized, .NET ticks via python datetime) with a small
 * independent python3 script, not from calcspec. */
#include "testutil.h"

#include <unistd.h>

#define DIR "formats/trivista_tvf/"

typedef struct sample {
  const char *file;
  size_t nspec, npts;
  double x0, xlast, y0, ylast; /* y0: first frame, ylast: last frame */
  double laser, exposure;
  int acc;
  const char *title, *instrument;
  const char *acq_first; /* frame 0's time stamp, to the microsecond */
} sample;

static const sample samples[] = {
    {"linescan.tvf", 21, 97, 910.310424804688, 914.129028320313, 448, 488, NAN,
     1, 1, "spec crop", "SP-2-750i", NULL},
    {"spec_1s_1acc_1frame_average.tvf", 1, 1024, 794.220731002166,
     835.667585594099, 27732, 45818, NAN, 1, 1, "Testspectrum", "SP-2-750i",
     "2022-06-14T13:34:27.453013"},
    {"spec_3s_1acc_2frames_average.tvf", 2, 1024, 933.846926945036,
     966.019543674424, 49868, 65197, 790, 3, 1, "spec_pl_3s_2frames",
     "SP-2-750i", "2022-10-21T10:39:58.909624"},
    {"spec_3s_2acc_1frame_no_average.tvf", 1, 1024, 933.846926945036,
     966.019543674424, 100456, 130732, 790, 3, 2, "spec_pl_3s_2acc",
     "SP-2-750i", "2022-10-21T10:17:46.548417"},
    {"spec_multiple_spectrometers.tvf", 1, 1024, 811.67392287426,
     828.27698610405, 41291, 62333, NAN, 1, 1, "spec_triple-add",
     "SP-2-500i + SP-2-500i + SP-2-750i", "2022-06-27T17:55:55.294969"},
    {"spec_timeseries_2x1s_delta3s.tvf", 2, 1024, 933.846923828125,
     966.01953125, 27381, 45803, 790, 1, 2, "time-series_2x1s_delta3s",
     "SP-2-750i", "2022-10-21T10:38:59.739239"},
};
#define NSAMPLES (sizeof samples / sizeof *samples)

static void test_real_files(void **state) {
  (void)state;
  for (size_t i = 0; i < NSAMPLES; i++) {
    const sample *e = &samples[i];
    char rel[256];
    snprintf(rel, sizeof rel, DIR "%s", e->file);
    SHARED_OR_SKIP(path, rel);
    cs_dataset *ds = test_read_detected(path, "trivista");
    assert_int_equal(cs_dataset_count(ds), e->nspec);
    for (size_t k = 0; k < e->nspec; k++) {
      const cs_spectrum *s = cs_dataset_get(ds, k);
      assert_int_equal(cs_spectrum_n(s), e->npts);
      DBL_NEAR(cs_spectrum_x(s)[0], e->x0, 0);
      DBL_NEAR(cs_spectrum_x(s)[e->npts - 1], e->xlast, 0);
      assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
      assert_int_equal(cs_spectrum_quantity(s), CS_Q_COUNTS);
      assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
      if (isnan(e->laser))
        assert_true(isnan(cs_spectrum_laser_nm(s)));
      else
        DBL_NEAR(cs_spectrum_laser_nm(s), e->laser, 0);
      DBL_NEAR(cs_spectrum_exposure_s(s), e->exposure, 0);
      assert_int_equal(cs_spectrum_accumulations(s), e->acc);
      assert_string_equal(cs_spectrum_meta(s, CS_META_TITLE), e->title);
      assert_string_equal(cs_spectrum_meta(s, CS_META_INSTRUMENT),
                          e->instrument);
      char num[32];
      snprintf(num, sizeof num, "%zu", k);
      assert_string_equal(cs_spectrum_meta(s, "trivista.frame"), num);
    }
    DBL_NEAR(cs_spectrum_y(cs_dataset_get(ds, 0))[0], e->y0, 0);
    DBL_NEAR(cs_spectrum_y(cs_dataset_get(ds, e->nspec - 1))[e->npts - 1],
             e->ylast, 0);
    const char *acq = cs_spectrum_meta(cs_dataset_get(ds, 0), CS_META_ACQUIRED);
    assert_non_null(acq);
    if (e->acq_first) /* ours has 100 ns digits, python's stops at 1 us */
      assert_int_equal(strncmp(acq, e->acq_first, strlen(e->acq_first)), 0);
    cs_dataset_free(ds);
  }
}

/* Line-scan frames carry TimeStamp="0": acquired falls back to the
 * document's RecordTime, and there is no frame time. */
static void test_linescan_times(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, DIR "linescan.tvf");
  cs_dataset *ds = test_read_ok(path, NULL);
  const cs_spectrum *s = cs_dataset_get(ds, 20);
  assert_string_equal(cs_spectrum_meta(s, CS_META_ACQUIRED),
                      "09/29/2016 12:51:30.867");
  assert_null(cs_spectrum_meta(s, "trivista.frame_time_s"));
  assert_string_equal(cs_spectrum_meta(s, "trivista.X-Axis.Points"), "21");
  cs_dataset_free(ds);
}

/* Time series: frame 1 is 638019455437834711 - 638019455397392397 ticks
 * = 4.0442314 s after frame 0 (1 s exposure + 3 s delay + overhead). */
static void test_timeseries(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, DIR "spec_timeseries_2x1s_delta3s.tvf");
  cs_dataset *ds = test_read_ok(path, NULL);
  assert_string_equal(
      cs_spectrum_meta(cs_dataset_get(ds, 0), "trivista.frame_time_s"),
      "0.0000000");
  assert_string_equal(
      cs_spectrum_meta(cs_dataset_get(ds, 1), "trivista.frame_time_s"),
      "4.0442314");
  assert_string_equal(cs_spectrum_meta(cs_dataset_get(ds, 1), CS_META_ACQUIRED),
                      "2022-10-21T10:39:03.7834711");
  assert_string_equal(
      cs_spectrum_meta(cs_dataset_get(ds, 1), "trivista.Experiment.Delay"),
      "3 sec");
  /* Averaged half-counts survive: the file's 6th value of frame 0 is
   * 47371.5. */
  DBL_NEAR(cs_spectrum_y(cs_dataset_get(ds, 0))[5], 47371.5, 0);
  cs_dataset_free(ds);
}

static void test_name_independent(void **state) {
  (void)state;
  const char *dir = test_tmpdir();
  for (size_t i = 0; i < NSAMPLES; i++) {
    char rel[256], tmp[512];
    snprintf(rel, sizeof rel, DIR "%s", samples[i].file);
    SHARED_OR_SKIP(path, rel);
    snprintf(tmp, sizeof tmp, "%s/data_%zu", dir, i);
    test_same_as_copy(path, tmp);
  }
}

static void test_truncated_and_flipped(void **state) {
  (void)state;
  const char *dir = test_tmpdir();
  char tmp[512];
  snprintf(tmp, sizeof tmp, "%s/broken", dir);
  unsigned rng = 777;
  for (size_t i = 0; i < NSAMPLES; i++) {
    char rel[256], src[4096];
    snprintf(rel, sizeof rel, DIR "%s", samples[i].file);
    SHARED_OR_SKIP(path, rel);
    snprintf(src, sizeof src, "%s", path);
    size_t len;
    char *buf = (char *)test_slurp(src, &len);
    test_cuts_malformed(src, len, tmp, "trivista", samples[i].file, 1);
    /* UNSUPPORTED: the flip hit a unit, type or encoding name. */
    test_flip_bits(buf, len, tmp, "trivista", samples[i].file, &rng, 0);
    free(buf);
  }
  unlink(tmp);
}

static const char *write_doc(const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/mini.tvf", test_tmpdir());
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

/* A hand-written document: calibration ValueArray, frame attributes and
 * text, and the (already escaped) InfoSerialized text. */
static const char *mini(const char *valuearray, const char *frames,
                        const char *info) {
  static char doc[8192];
  snprintf(doc, sizeof doc,
           "\xEF\xBB\xBF<!--TriVista-File. test-->\r\n"
           "<XmlMain Version=\"1.0.1\" Filename=\"C:\\x\\hand made.tvf\">"
           "<Documents Count=\"1\"><Document DataLabel=\"Counts\" "
           "DocType=\"Spectra\" RecordTime=\"01/02/2020 03:04:05.006\" "
           "Encoding=\"Ascii\" InfoSerialized=\"%s\">"
           "<xDim Length=\"3\"><Calibration Unit=\"Nanometer\" "
           "Type=\"ValueArray\" LaserWave=\"785.000\" ValueArray=\"%s\"/>"
           "</xDim><Data DataType=\"Double\">%s</Data></Document>"
           "</Documents></XmlMain>",
           info, valuearray, frames);
  return doc;
}

#define INFO                                                                   \
  "&lt;?xml version=&quot;1.0&quot; "                                          \
  "encoding=&quot;utf-16&quot;?&gt;&#xD;&#xA;"                                 \
  "&lt;Info&gt;&lt;Groups&gt;&lt;Group&gt;&lt;Name&gt;Detector&lt;/Name&gt;"   \
  "&lt;Items&gt;&lt;Item&gt;&lt;Name&gt;Exposure_Time_(ms)&lt;/Name&gt;"       \
  "&lt;Value&gt;250&lt;/Value&gt;&lt;/Item&gt;&lt;/Items&gt;&lt;/Group&gt;"    \
  "&lt;/Groups&gt;&lt;/Info&gt;"

static void expect_status(const char *doc, cs_status want, const char *msg) {
  const char *path = write_doc(doc);
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

static void test_handmade(void **state) {
  (void)state;
  /* yDim = 2: one frame, two detector rows -> two spectra. */
  const char *path = write_doc(
      mini("3|500|501|502",
           "<Frame xDim=\"3\" yDim=\"2\" TimeStamp=\"0\">1;2;3;4;5;6.5</Frame>",
           INFO));
  cs_dataset *ds = test_read_ok(path, NULL);
  assert_int_equal(cs_dataset_count(ds), 2);
  const cs_spectrum *s = cs_dataset_get(ds, 1);
  DBL_NEAR(cs_spectrum_y(s)[2], 6.5, 0);
  DBL_NEAR(cs_spectrum_x(s)[0], 500, 0);
  DBL_NEAR(cs_spectrum_laser_nm(s), 785, 0);
  DBL_NEAR(cs_spectrum_exposure_s(s), 0.25, 0);
  assert_string_equal(cs_spectrum_meta(s, "trivista.row"), "1");
  assert_string_equal(cs_spectrum_meta(s, CS_META_TITLE), "hand made");
  assert_string_equal(cs_spectrum_meta(s, CS_META_ACQUIRED),
                      "01/02/2020 03:04:05.006");
  cs_dataset_free(ds);

  const char *f1 = "<Frame xDim=\"3\" yDim=\"1\">1;2;3</Frame>";
  expect_status(mini("4|500|501|502", f1, ""), CS_ERR_MALFORMED,
                "ValueArray count 4");
  expect_status(mini("3|500|501|502|503", f1, ""), CS_ERR_MALFORMED,
                "ValueArray count");
  expect_status(mini("3|500|x|502", f1, ""), CS_ERR_MALFORMED, "bad number");
  expect_status(
      mini("3|500|501|502", "<Frame xDim=\"3\" yDim=\"1\">1;2</Frame>", ""),
      CS_ERR_MALFORMED, "frame 0 holds 2 values");
  expect_status(
      mini("3|500|501|502", "<Frame xDim=\"3\" yDim=\"1\">1;;3</Frame>", ""),
      CS_ERR_MALFORMED, "frame 0");
  expect_status(
      mini("3|500|501|502", "<Frame xDim=\"3\" yDim=\"1\">1;inf;3</Frame>", ""),
      CS_ERR_MALFORMED, "non-finite");
  expect_status(mini("3|500|501|502",
                     "<Frame xDim=\"99999999999\" yDim=\"1\">1;2;3</Frame>",
                     ""),
                CS_ERR_MALFORMED, "xDim");
  expect_status(mini("3|500|501|502",
                     "<Frame xDim=\"3\" yDim=\"1\" "
                     "TimeStamp=\"99999999999999999999\">1;2;3</Frame>",
                     ""),
                CS_ERR_MALFORMED, "TimeStamp");
  expect_status(mini("3|500|501|502", "", ""), CS_ERR_MALFORMED, "no <Frame>");
  /* InfoSerialized that is not XML, or that declares entities. */
  expect_status(mini("3|500|501|502", f1, "&lt;Info&gt;&lt;Groups&gt;"),
                CS_ERR_MALFORMED, "InfoSerialized");
  expect_status(mini("3|500|501|502", f1,
                     "&lt;!DOCTYPE Info [&lt;!ENTITY a &quot;aa&quot;&gt;]&gt;"
                     "&lt;Info&gt;&amp;a;&lt;/Info&gt;"),
                CS_ERR_MALFORMED, "entities");
}

/* XmlMain without the TriVista comment is still recognised by content
 * (with a lower score, as XmlMain alone is a generic name). */
static void test_sniff(void **state) {
  (void)state;
  const char *doc =
      mini("3|500|501|502", "<Frame xDim=\"3\" yDim=\"1\">1;2;3</Frame>", "");
  const char *bare = strstr(doc, "<XmlMain");
  const char *path = write_doc(bare);
  const char *fmt;
  cs_error err, *ep = &err;
  STATUS_EQ(cs_format_detect(path, &fmt, ep), CS_OK, ep);
  assert_string_equal(fmt, "trivista");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_real_files),
      cmocka_unit_test(test_linescan_times),
      cmocka_unit_test(test_timeseries),
      cmocka_unit_test(test_name_independent),
      cmocka_unit_test(test_truncated_and_flipped),
      cmocka_unit_test(test_handmade),
      cmocka_unit_test(test_sniff),
  };
  return cmocka_run_group_tests_name("trivista", tests, NULL, NULL);
}
