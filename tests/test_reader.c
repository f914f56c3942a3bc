/* test_reader.c: the spectrum-by-spectrum reader (cs_reader_*): the
 * streaming AnIML reader gives exactly what the DOM reader gives on every
 * AnIML file in spectra/ and ../shared/formats/animl and on documents the
 * test writes itself (LabSpec XML and TriVista likewise, on ../shared/formats
 * and a map / line scan the test writes); formats that do not stream are handed out one by one;
 * errors part-way; and memory stays flat (peak spectra held, peak RSS) on a
 * generated file of moderate size, so losing the streaming fails here. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "testutil.h"

#include "internal.h"

#include <ftw.h>
#include <math.h>
#include <sys/resource.h>
#include <unistd.h> /* unlink */

/* Every spectrum of path through a cs_reader (whole or streaming) into a
 * dataset; the status of the first failure, with what came before it. */
static cs_status read_all(const char *path, const char *fmt, int whole,
                          cs_dataset **out, int *streamed, size_t *peak,
                          cs_error *err) {
  cs_reader_opts o = {whole};
  cs_reader *rd;
  *out = NULL;
  cs_status st = cs_reader_open(path, fmt, &o, &rd, err);
  if (st)
    return st;
  assert_int_equal(cs_dataset_new(out, NULL), CS_OK);
  cs_spectrum *s;
  while (!(st = cs_reader_next(rd, &s, err)) && s)
    assert_int_equal(cs_dataset_push(*out, s, NULL), CS_OK);
  if (streamed)
    *streamed = cs_reader_streaming(rd);
  if (peak)
    *peak = cs_reader_peak_held(rd);
  cs_reader_close(rd);
  return st;
}

/* Everything a spectrum carries, compared exactly. */
static void same_spectra(const cs_dataset *a, const cs_dataset *b) {
  test_same_read(a, b);
  for (size_t k = 0; k < cs_dataset_count(a); k++) {
    const cs_spectrum *sa = cs_dataset_get(a, k), *sb = cs_dataset_get(b, k);
    assert_int_equal(cs_spectrum_axis(sa), cs_spectrum_axis(sb));
    assert_int_equal(cs_spectrum_quantity(sa), cs_spectrum_quantity(sb));
    assert_int_equal(cs_spectrum_technique(sa), cs_spectrum_technique(sb));
    assert_int_equal(cs_spectrum_accumulations(sa),
                     cs_spectrum_accumulations(sb));
    assert_int_equal(cs_spectrum_source_index(sa), k);
    assert_int_equal(cs_spectrum_source_index(sb), k);
    double la = cs_spectrum_laser_nm(sa), lb = cs_spectrum_laser_nm(sb);
    double ea = cs_spectrum_exposure_s(sa), eb = cs_spectrum_exposure_s(sb);
    assert_true(la == lb || (isnan(la) && isnan(lb)));
    assert_true(ea == eb || (isnan(ea) && isnan(eb)));
    assert_string_equal(cs_spectrum_meta(sa, CS_META_SOURCE_FILE),
                        cs_spectrum_meta(sb, CS_META_SOURCE_FILE));
  }
}

/* The streaming and the DOM reading of path agree: same spectra, or the
 * same refusal (code).  Returns the number of spectra. */
static size_t agree_as(const char *path, const char *fmt) {
  cs_dataset *whole = NULL, *streamed = NULL;
  cs_error e1, e2;
  int is_stream = 0;
  cs_status s1 = read_all(path, fmt, 1, &whole, NULL, NULL, &e1);
  cs_status s2 = read_all(path, fmt, 0, &streamed, &is_stream, NULL, &e2);
  if (s1 != s2)
    fail_msg("%s: DOM %s (%s), stream %s (%s)", path, cs_strerror(s1), e1.msg,
             cs_strerror(s2), e2.msg);
  size_t n = 0;
  if (!s1) {
    assert_true(is_stream);
    same_spectra(whole, streamed);
    n = cs_dataset_count(whole);
  }
  cs_dataset_free(whole);
  cs_dataset_free(streamed);
  return n;
}

/* path read through the stream, holding at most peak spectra at once. */
static cs_dataset *read_streamed(const char *path, size_t peak) {
  cs_dataset *ds;
  cs_error e;
  int streamed = 0;
  size_t held = 0;
  STATUS_EQ(read_all(path, NULL, 0, &ds, &streamed, &held, &e), CS_OK, &e);
  assert_true(streamed);
  assert_int_equal(held, peak);
  return ds;
}

static size_t agree(const char *path) { return agree_as(path, "animl"); }

static size_t nfiles, nspectra;

static int visit(const char *path, const struct stat *sb, int type,
                 struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  size_t n = strlen(path);
  if (type == FTW_F && n > 6 && !strcmp(path + n - 6, ".animl")) {
    nspectra += agree(path);
    nfiles++;
  }
  return 0;
}

static void project_files_agree(void **state) {
  (void)state;
  nfiles = nspectra = 0;
  assert_int_equal(nftw("spectra", visit, 16, FTW_PHYS), 0);
  assert_true(nfiles >= 10); /* spectra/reference and spectra/examples */
  assert_true(nspectra >= nfiles);
}

static void shared_files_agree(void **state) {
  (void)state;
  SHARED_OR_SKIP(dir, "formats/animl");
  nfiles = nspectra = 0;
  assert_int_equal(nftw(dir, visit, 16, FTW_PHYS), 0);
  assert_true(nfiles >= 4);
}

/* Every text file the csv reader takes (by content or extension) in
 * ../shared/formats and spectra/. */
static int visit_csv(const char *path, const struct stat *sb, int type,
                     struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  const char *fmt;
  if (type == FTW_F && cs_format_detect(path, &fmt, NULL) == CS_OK &&
      !strcmp(fmt, "csv")) {
    nspectra += agree_as(path, "csv");
    nfiles++;
  }
  return 0;
}

static void csv_files_agree(void **state) {
  (void)state;
  nfiles = nspectra = 0;
  assert_int_equal(nftw("spectra", visit_csv, 16, FTW_PHYS), 0);
  const char *dir = shared_path("formats");
  if (dir)
    assert_int_equal(nftw(dir, visit_csv, 16, FTW_PHYS), 0);
  print_message("%zu csv files, %zu spectra: stream == whole\n", nfiles,
                nspectra);
  assert_true(nfiles >= 1);
}

/* Tables the test writes: spectra in more columns than one block, a map
 * (one spectrum per row), BWSpec-style skipped rows, a bad cell in a late
 * column (reported after the first blocks), a short row (before any). */
static void csv_tables_agree(void **state) {
  (void)state;
  csi_buf b = {0};
  csi_buf_printf(&b, "shift");
  for (int j = 0; j < 600; j++)
    csi_buf_printf(&b, ",s%d", j);
  csi_buf_printf(&b, "\n");
  for (int i = 0; i < 50; i++) {
    csi_buf_printf(&b, "%d", 100 + 3 * i);
    for (int j = 0; j < 600; j++)
      csi_buf_printf(&b, ",%d.%d", i * j, j % 10);
    csi_buf_printf(&b, "\n");
  }
  csi_buf_put(&b, "", 0);
  const char *p = test_write_text("wide.csv", b.p);
  assert_int_equal(agree_as(p, NULL), 600);
  cs_reader *rd;
  cs_error e;
  STATUS_EQ(cs_reader_open(p, NULL, NULL, &rd, &e), CS_OK, &e);
  assert_true(cs_reader_streaming(rd));
  assert_int_equal(cs_reader_count(rd), 600);
  cs_spectrum *s;
  size_t n = 0;
  while (!cs_reader_next(rd, &s, &e) && s) {
    char title[16];
    snprintf(title, sizeof title, "s%zu", n);
    assert_string_equal(cs_spectrum_meta(s, "text.column"), title);
    assert_int_equal(cs_spectrum_n(s), 50);
    DBL_NEAR(cs_spectrum_y(s)[49], 49.0 * (double)n + (double)(n % 10) / 10, 1e-9);
    cs_spectrum_free(s);
    n++;
  }
  assert_int_equal(n, 600);
  assert_true(cs_reader_peak_held(rd) <= 256);
  cs_reader_close(rd);
  /* a bad cell in column 500: blocks before it come out, then the error */
  char *bad = strdup(b.p);
  char *row = strstr(bad, "\n103,");
  char *cell = row;
  for (int j = 0; j < 500; j++)
    cell = strchr(cell + 1, ',');
  cell[1] = 'x';
  p = test_write_text("bad.csv", bad);
  STATUS_EQ(cs_reader_open(p, NULL, NULL, &rd, &e), CS_OK, &e);
  n = 0;
  cs_status st;
  while (!(st = cs_reader_next(rd, &s, &e)) && s) {
    cs_spectrum_free(s);
    n++;
  }
  assert_int_equal(st, CS_ERR_MALFORMED);
  assert_int_equal(n, 256);
  assert_non_null(strstr(e.msg, "line 3: column 501"));
  cs_reader_close(rd);
  assert_int_equal(agree_as(p, NULL), 0);
  /* a short row: refused on open, as csv_read refuses it */
  *strstr(bad, "\n106,") = '\0';
  strcat(bad, "\n1,2\n");
  p = test_write_text("short.csv", bad);
  assert_int_equal(cs_reader_open(p, NULL, NULL, &rd, &e), CS_ERR_MALFORMED);
  assert_null(rd);
  free(bad);
  csi_buf_free(&b);
  /* a LabSpec-style map: x axis row after two empty cells, then x y and
   * the spectrum per row */
  p = test_write_text("map.txt", "\t\t100\t200\t300\n"
                                 "0\t0\t1\t2\t3\n"
                                 "\n"
                                 "5\t0\t4\t5\t6\n"
                                 "0\t5\t7\t8\t9\n");
  assert_int_equal(agree_as(p, NULL), 3);
  cs_dataset *ds = test_read_ok(p, NULL);
  assert_string_equal(cs_spectrum_meta(cs_dataset_get(ds, 1), CS_META_POSITION),
                      "5 0");
  test_expect_ends(cs_dataset_get(ds, 2), 3, 100, 300, 7, 9);
  cs_dataset_free(ds);
}

/* A document exercising what the walk must get right: a SampleSet looked up
 * by the steps, a step with two spectra and an annotation series, nested
 * steps inheriting Method parameters, pyAnIML's independent series beside
 * the SeriesSet, a step without spectra, and sets after the steps. */
static const char *const handmade =
    "<?xml version=\"1.0\"?>\n"
    "<AnIML xmlns=\"urn:org:astm:animl:schema:core:draft:0.90\" "
    "version=\"0.90\">\n"
    "<SampleSet><Sample sampleID=\"s1\" name=\"first sample\"/>"
    "<Sample sampleID=\"s2\" name=\"second\"/></SampleSet>\n"
    "<ExperimentStepSet>\n"
    " <ExperimentStep name=\"two\" experimentStepID=\"a\">"
    "  <Technique name=\"Raman Spectrum\" uri=\"x\"/>"
    "  <Infrastructure><SampleReferenceSet><SampleReference sampleID=\"s2\" "
    "role=\"r\" samplePurpose=\"p\"/></SampleReferenceSet>"
    "<Timestamp>2024-01-02</Timestamp></Infrastructure>"
    "  <Method><Device><Manufacturer>Acme</Manufacturer><Name>R1</Name>"
    "</Device><Category name=\"p\"><Parameter name=\"Laser wavelength\" "
    "parameterType=\"Float64\"><D>785</D></Parameter></Category></Method>"
    "  <Result name=\"r\"><SeriesSet name=\"set\" length=\"3\">"
    "   <Series name=\"Raman Shift\" seriesID=\"x\" seriesType=\"Float64\" "
    "dependency=\"independent\"><IndividualValueSet><D>100</D><D>200</D>"
    "<D>300</D></IndividualValueSet><Unit label=\"1/cm\"/></Series>"
    "   <Series name=\"Intensity\" seriesID=\"y\" seriesType=\"Float64\" "
    "dependency=\"dependent\"><IndividualValueSet><D>1</D><D>2</D><D>3</D>"
    "</IndividualValueSet></Series>"
    "   <Series name=\"Dark\" seriesID=\"y2\" seriesType=\"Float32\" "
    "dependency=\"dependent\"><IndividualValueSet><F>4</F><F>5</F><F>6</F>"
    "</IndividualValueSet></Series>"
    "   <Series name=\"Measurement Delay\" seriesID=\"t\" seriesType=\"Float64\" "
    "dependency=\"dependent\"><IndividualValueSet><D>1</D><D>1</D><D>1</D>"
    "</IndividualValueSet><Unit label=\"s\"/></Series>"
    "  </SeriesSet></Result>"
    "  <Result name=\"nested\"><ExperimentStepSet><ExperimentStep name=\"in\" "
    "experimentStepID=\"b\"><Method><Category name=\"q\"><Parameter "
    "name=\"Exposure time\" parameterType=\"Float64\"><D>250</D><Unit "
    "label=\"ms\"/></Parameter></Category></Method><Result name=\"r2\">"
    "<Series name=\"X\" seriesID=\"x3\" seriesType=\"Int32\" "
    "dependency=\"independet\"><AutoIncrementedValueSet><StartValue><I>5</I>"
    "</StartValue><Increment><I>2</I></Increment></AutoIncrementedValueSet>"
    "</Series><SeriesSet name=\"s\" length=\"2\"><Series name=\"Counts\" "
    "seriesID=\"y3\" SeriesType=\"Int32\" dependency=\"dependent\">"
    "<IndividualValueSet><I>7</I><I>8</I></IndividualValueSet></Series>"
    "</SeriesSet></Result></ExperimentStep></ExperimentStepSet></Result>"
    " </ExperimentStep>\n"
    " <ExperimentStep name=\"empty\" experimentStepID=\"c\"><Result "
    "name=\"none\"/></ExperimentStep>\n"
    " <ExperimentStep name=\"last\" experimentStepID=\"d\">"
    "<Infrastructure><SampleReferenceSet><SampleReference sampleID=\"s1\" "
    "role=\"r\" samplePurpose=\"p\"/></SampleReferenceSet></Infrastructure>"
    "<Result name=\"r\"><SeriesSet name=\"set\" length=\"2\">"
    "<Series name=\"Absorbance\" seriesID=\"y4\" seriesType=\"Float64\" "
    "dependency=\"dependent\"><EncodedValueSet>AAAAAAAA8D8AAAAAAAAAQA=="
    "</EncodedValueSet></Series></SeriesSet></Result></ExperimentStep>\n"
    "</ExperimentStepSet>\n"
    "<AuditTrailEntrySet/>\n"
    "</AnIML>\n";

static void handmade_agrees(void **state) {
  (void)state;
  const char *p = test_write_text("hand.animl", handmade);
  assert_int_equal(agree(p), 4);
  cs_dataset *ds = test_read_ok(p, NULL);
  /* the streaming reading, checked against the document itself */
  const cs_spectrum *s = cs_dataset_get(ds, 1);
  test_expect_ends(s, 3, 100, 300, 4, 6);
  assert_string_equal(cs_spectrum_meta(s, "animl.sample_name"), "second");
  assert_string_equal(cs_spectrum_meta(s, CS_META_INSTRUMENT), "Acme R1");
  DBL_NEAR(cs_spectrum_laser_nm(s), 785, 0);
  s = cs_dataset_get(ds, 2); /* nested: inherits the laser, own exposure */
  test_expect_ends(s, 2, 5, 7, 7, 8);
  DBL_NEAR(cs_spectrum_laser_nm(s), 785, 0);
  DBL_NEAR(cs_spectrum_exposure_s(s), 0.25, 1e-15);
  s = cs_dataset_get(ds, 3);
  test_expect_ends(s, 2, 0, 1, 1, 2);
  assert_string_equal(cs_spectrum_meta(s, "animl.sample_name"), "first sample");
  assert_int_equal(cs_spectrum_source_index(s), 3);
  cs_dataset_free(ds);
}

/* Refusals: the same code either way, and a break part-way reported after
 * the spectra before it. */
static void refusals_agree(void **state) {
  (void)state;
  static const char *const docs[] = {
      "<AnIML xmlns=\"urn:other\"><ExperimentStepSet/></AnIML>",
      "<AnIML><ExperimentStepSet/></AnIML>",
      "<?xml version=\"1.0\"?><!DOCTYPE AnIML [<!ENTITY a \"b\">]><AnIML/>",
      "<AnIML><ExperimentStepSet><ExperimentStep><Result><SeriesSet>"
      "<Series seriesType=\"String\"/></SeriesSet></Result></ExperimentStep>"
      "</ExperimentStepSet></AnIML>",
  };
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
    const char *p = test_write_text("bad.animl", docs[i]);
    assert_int_equal(agree(p), 0);
    cs_dataset *ds = NULL;
    cs_error e;
    assert_int_not_equal(cs_dataset_read(p, "animl", &ds, &e), CS_OK);
    assert_null(ds);
  }
}

/* A document cut off part-way: the spectra before the cut come out, then
 * the error, which sticks; cs_dataset_read fails as a whole. */
static const char *write_big(size_t nspec, size_t npts);

static void break_part_way(void **state) {
  (void)state;
  const char *big = write_big(60, 2048);
  size_t n;
  unsigned char *b = test_slurp(big, &n);
  /* cut inside spectrum 50: 0..49 are whole (the parser reads ahead a
   * little, so the error may come a few spectra early) */
  const char *at = strstr((const char *)b, "<ExperimentStep name=\"s50\"");
  assert_non_null(at);
  const char *p = test_write_tmp("cut.animl", b, (size_t)(at - (char *)b) + 100);
  free(b);
  cs_reader *rd;
  cs_error e;
  assert_int_equal(cs_reader_open(p, NULL, NULL, &rd, &e), CS_OK);
  cs_spectrum *s;
  size_t k = 0;
  cs_status st;
  while (!(st = cs_reader_next(rd, &s, &e)) && s) {
    cs_spectrum_free(s);
    k++;
  }
  assert_int_equal(st, CS_ERR_MALFORMED);
  assert_null(s);
  if (!(k >= 40 && k <= 50))
    fail_msg("%zu spectra before the error (%s)", k, e.msg);
  assert_non_null(strstr(e.msg, "XML error"));
  assert_int_equal(cs_reader_next(rd, &s, &e), CS_ERR_MALFORMED); /* sticky */
  cs_reader_close(rd);
  cs_dataset *ds = NULL;
  assert_int_equal(cs_dataset_read(p, NULL, &ds, &e), CS_ERR_MALFORMED);
  assert_null(ds);
}

/* A format that does not stream is read whole and handed out one by one,
 * the same as cs_dataset_read. */
static void whole_fallback(void **state) {
  (void)state;
  const char *p = test_write_text(
      "m.csv", "shift,a,b,c\n100,1,2,3\n200,4,5,6\n300,7,8,9\n");
  cs_dataset *a = test_read_ok(p, NULL), *b;
  int streamed = -1;
  size_t peak;
  cs_error e;
  STATUS_EQ(read_all(p, NULL, 0, &b, &streamed, &peak, &e), CS_OK, &e);
  same_spectra(a, b);
  assert_int_equal(cs_dataset_count(b), 3);
  cs_dataset_free(a);
  cs_dataset_free(b);
  assert_int_equal(streamed, 1); /* csv streams: "whole" forced below */
  cs_reader_opts whole = {1};
  cs_reader *rd;
  assert_int_equal(cs_reader_open(p, NULL, &whole, &rd, &e), CS_OK);
  assert_string_equal(cs_reader_format(rd), "csv");
  assert_false(cs_reader_streaming(rd));
  assert_int_equal(cs_reader_count(rd), 3);
  cs_reader_close(rd);
  /* JCAMP-DX does not stream: read whole on open */
  p = test_write_text("one.jdx", "##TITLE=t\n##JCAMP-DX=4.24\n"
                                 "##DATA TYPE=RAMAN SPECTRUM\n##XUNITS=1/CM\n"
                                 "##YUNITS=ARBITRARY UNITS\n##FIRSTX=100\n"
                                 "##LASTX=300\n##NPOINTS=3\n##XFACTOR=1\n"
                                 "##YFACTOR=1\n##XYDATA=(X++(Y..Y))\n"
                                 "100 1 2 3\n##END=\n");
  STATUS_EQ(read_all(p, NULL, 0, &b, &streamed, &peak, &e), CS_OK, &e);
  assert_int_equal(streamed, 0);
  assert_int_equal(peak, 1);
  assert_int_equal(cs_dataset_count(b), 1);
  test_expect_ends(cs_dataset_get(b, 0), 3, 100, 300, 1, 3);
  cs_dataset_free(b);
  assert_int_equal(cs_reader_open("/nonexistent/x.csv", NULL, NULL, &rd, &e),
                   CS_ERR_IO);
  assert_null(rd);
  cs_reader_close(NULL);
}

/* Write an AnIML document of nspec spectra of npts Float64 points the way
 * calcspec writes them, piece by piece (the test itself stays small). */
static const char *write_big(size_t nspec, size_t npts) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/big.animl", test_tmpdir());
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  double *x = malloc(npts * sizeof *x), *y = malloc(npts * sizeof *y);
  assert_non_null(x);
  assert_non_null(y);
  for (size_t i = 0; i < npts; i++)
    x[i] = 200.0 + 0.7 * (double)i;
  char *bx = csi_base64_encode((const unsigned char *)x, npts * sizeof *x);
  assert_non_null(bx);
  fprintf(f, "<?xml version=\"1.0\"?>\n<AnIML xmlns=\"" 
             "urn:org:astm:animl:schema:core:draft:0.90\" version=\"0.90\">\n"
             "<ExperimentStepSet>\n");
  for (size_t k = 0; k < nspec; k++) {
    for (size_t i = 0; i < npts; i++)
      y[i] = sin(0.01 * (double)(i * (k + 1))) + (double)k;
    char *by = csi_base64_encode((const unsigned char *)y, npts * sizeof *y);
    assert_non_null(by);
    fprintf(f, "<ExperimentStep name=\"s%zu\" experimentStepID=\"e%zu\">"
               "<Technique name=\"Raman Spectrum\" uri=\"u\"/><Result "
               "name=\"Spectrum\"><SeriesSet name=\"Spectrum\" length=\"%zu\">"
               "<Series name=\"Raman Shift\" seriesID=\"x%zu\" seriesType="
               "\"Float64\" dependency=\"independent\"><EncodedValueSet>%s"
               "</EncodedValueSet><Unit label=\"1/cm\"/></Series><Series "
               "name=\"Intensity\" seriesID=\"y%zu\" seriesType=\"Float64\" "
               "dependency=\"dependent\"><EncodedValueSet>%s</EncodedValueSet>"
               "</Series></SeriesSet></Result></ExperimentStep>\n",
            k, k, npts, k, bx, k, by);
    free(by);
  }
  fprintf(f, "</ExperimentStepSet>\n</AnIML>\n");
  assert_int_equal(fclose(f), 0);
  free(bx);
  free(x);
  free(y);
  return path;
}

static long peak_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* A spectrum of n points with sample id sid and a metadata value that
 * needs escaping. */
static cs_spectrum *writer_spectrum(size_t n, int k, const char *sid) {
  double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
  assert_true(x && y);
  for (size_t i = 0; i < n; i++) {
    x[i] = 200.0 + (double)i * 1.7;
    y[i] = 1000.0 / 3.0 * sin(0.01 * (double)i + k);
  }
  cs_spectrum *s;
  cs_error e;
  STATUS_EQ(cs_spectrum_new(x, y, n, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &s, &e),
            CS_OK, &e);
  free(x);
  free(y);
  cs_spectrum_set_technique(s, CS_TECH_RAMAN);
  if (sid)
    STATUS_EQ(cs_spectrum_set_meta(s, CS_META_SAMPLE_ID, sid, &e), CS_OK, &e);
  STATUS_EQ(cs_spectrum_set_meta(s, "note", "a<b & \"c\"\n\xC2\xB5m", &e), CS_OK, &e);
  return s;
}

static int exists(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0;
}

/* cs_writer gives the bytes cs_dataset_write gives (AnIML: samples in order
 * of first appearance, ids that need escaping; JCAMP: one plain block, or a
 * LINK of several; csv: kept whole), and nothing is at the path before
 * close, or after an abort, an empty close or a failed put. */
static void writer_matches_dataset_write(void **state) {
  (void)state;
  const char *ids[] = {"b&<1>", NULL, "a", "b&<1>", "c", "a"};
  const char *fmts[] = {"animl", "jcamp", "csv"};
  for (size_t f = 0; f < 3; f++)
    for (size_t n = 1; n <= 6; n += 5) {
      char pw[600], pd[600];
      snprintf(pw, sizeof pw, "%s/w%zu.%s", test_tmpdir(), n, fmts[f]);
      snprintf(pd, sizeof pd, "%s/d%zu.%s", test_tmpdir(), n, fmts[f]);
      cs_dataset *ds;
      cs_writer *w;
      cs_error e;
      STATUS_EQ(cs_dataset_new(&ds, &e), CS_OK, &e);
      STATUS_EQ(cs_writer_open(pw, fmts[f], &w, &e), CS_OK, &e);
      assert_int_equal(cs_writer_streaming(w), f < 2);
      for (size_t k = 0; k < n; k++) {
        cs_spectrum *s = writer_spectrum(40, (int)k, ids[k]);
        STATUS_EQ(cs_writer_put(w, s, &e), CS_OK, &e);
        STATUS_EQ(cs_dataset_push(ds, s, &e), CS_OK, &e);
      }
      assert_false(exists(pw));
      STATUS_EQ(cs_writer_close(w, &e), CS_OK, &e);
      STATUS_EQ(cs_dataset_write(ds, pd, fmts[f], &e), CS_OK, &e);
      size_t na, nb;
      unsigned char *a = test_slurp(pw, &na), *b = test_slurp(pd, &nb);
      assert_int_equal(na, nb);
      assert_memory_equal(a, b, na);
      if (f == 0 && n == 6) { /* b, a, c: each once, in order of first use */
        const char *t = (const char *)a, *end = strstr(t, "</SampleSet>");
        const char *sb = strstr(t, "<Sample sampleID=\"b&amp;&lt;1&gt;\"");
        const char *sa = strstr(t, "<Sample sampleID=\"a\""),
                   *sc = strstr(t, "<Sample sampleID=\"c\"");
        assert_true(sb && sa && sc && end && sb < sa && sa < sc && sc < end);
        assert_null(strstr(sb + 1, "<Sample sampleID=\"b"));
        assert_null(strstr(sa + 1, "<Sample sampleID=\"a\""));
      }
      if (f == 1)
        assert_true((strstr((const char *)a, "##BLOCKS=6") != NULL) == (n == 6));
      free(a);
      free(b);
      cs_dataset *back = test_read_ok(pw, NULL);
      assert_int_equal(cs_dataset_count(back), n);
      assert_string_equal(cs_spectrum_meta(cs_dataset_get(back, 0), "note"),
                          "a<b & \"c\"\n\xC2\xB5m");
      cs_dataset_free(back);
      cs_dataset_free(ds);
      /* abort, and close with nothing put, leave nothing */
      snprintf(pw, sizeof pw, "%s/gone.%s", test_tmpdir(), fmts[f]);
      STATUS_EQ(cs_writer_open(pw, fmts[f], &w, &e), CS_OK, &e);
      cs_spectrum *s = writer_spectrum(40, 0, "x");
      STATUS_EQ(cs_writer_put(w, s, &e), CS_OK, &e);
      cs_writer_abort(w);
      STATUS_EQ(cs_writer_open(pw, fmts[f], &w, &e), CS_OK, &e);
      STATUS_EQ(cs_writer_close(w, &e), CS_ERR_ARG, &e);
      assert_false(exists(pw));
      /* a spectrum the format cannot hold: that put fails, then close */
      STATUS_EQ(cs_writer_open(pw, fmts[f], &w, &e), CS_OK, &e);
      STATUS_EQ(cs_writer_put(w, s, &e), CS_OK, &e);
      s->y[3] = NAN;
      cs_status st = cs_writer_put(w, s, &e); /* csv finds it at close */
      cs_spectrum_free(s);
      if (st) {
        assert_non_null(strstr(e.msg, "spectrum 1: non-finite value at point 3"));
        assert_int_not_equal(cs_writer_close(w, &e), CS_OK);
      } else if ((st = cs_writer_close(w, &e)))
        assert_non_null(strstr(e.msg, "spectrum 1: non-finite value at point 3"));
      assert_int_equal(st != CS_OK, f > 0); /* AnIML holds NaN */
      assert_int_equal(exists(pw), f == 0);
    }
  /* no scratch or temporary files left beside the outputs */
  char cmd[700];
  snprintf(cmd, sizeof cmd, "ls %s | grep -q 'tmp\\|spool'", test_tmpdir());
  assert_int_not_equal(system(cmd), 0);
}

/* Two writers of one path in one process: each writes its own temporary
 * file (they shared path.tmp.PID, so the first renamed a mix of both into
 * place and the second failed with ENOENT); the last close wins. */
static void writers_of_one_path(void **state) {
  (void)state;
  char p[600];
  snprintf(p, sizeof p, "%s/twice.jdx", test_tmpdir());
  cs_writer *a, *b;
  cs_error e;
  STATUS_EQ(cs_writer_open(p, NULL, &a, &e), CS_OK, &e);
  STATUS_EQ(cs_writer_open(p, NULL, &b, &e), CS_OK, &e);
  for (int k = 0; k < 3; k++) {
    cs_spectrum *s = writer_spectrum(300, k, "x");
    STATUS_EQ(cs_writer_put(a, s, &e), CS_OK, &e);
    if (k)
      STATUS_EQ(cs_writer_put(b, s, &e), CS_OK, &e);
    cs_spectrum_free(s);
  }
  STATUS_EQ(cs_writer_close(a, &e), CS_OK, &e);
  cs_dataset *back = test_read_ok(p, NULL);
  assert_int_equal(cs_dataset_count(back), 3);
  cs_dataset_free(back);
  STATUS_EQ(cs_writer_close(b, &e), CS_OK, &e);
  back = test_read_ok(p, NULL);
  assert_int_equal(cs_dataset_count(back), 2);
  cs_dataset_free(back);
  remove(p);
}

/* Non-ASCII text in attributes (sample ids, step names) is written as
 * UTF-8, as 0.6.1's whole-document dump wrote it, not as character
 * references: the per-step dump escapes them unless the scratch document
 * names its encoding. */
static void writer_keeps_utf8_attributes(void **state) {
  (void)state;
  char p[600];
  snprintf(p, sizeof p, "%s/utf8.animl", test_tmpdir());
  cs_spectrum *s = writer_spectrum(8, 0, "core \xC2\xB5 \xF0\x9F\x98\x80");
  cs_error e;
  STATUS_EQ(cs_spectrum_set_meta(s, CS_META_SPECTRUM_ID, "sp\xC3\xA9", &e), CS_OK, &e);
  cs_dataset *ds;
  STATUS_EQ(cs_dataset_new(&ds, &e), CS_OK, &e);
  STATUS_EQ(cs_dataset_push(ds, s, &e), CS_OK, &e);
  STATUS_EQ(cs_dataset_write(ds, p, NULL, &e), CS_OK, &e);
  size_t n;
  char *t = (char *)test_slurp(p, &n);
  assert_non_null(strstr(t, "<Sample sampleID=\"core \xC2\xB5 \xF0\x9F\x98\x80\""));
  assert_non_null(strstr(t, "<ExperimentStep name=\"sp\xC3\xA9\""));
  assert_null(strstr(t, "&#x"));
  free(t);
  cs_dataset_free(ds);
  remove(p);
}

/* 2000 spectra of 2048 points written as AnIML (~91 MB): the writer holds
 * one step, where the whole document (the tree, then its text) took
 * several times the file. */
static void writer_memory_flat(void **state) {
  (void)state;
  const size_t nspec = 2000;
  char p[600];
  snprintf(p, sizeof p, "%s/wbig.animl", test_tmpdir());
  cs_spectrum *s = writer_spectrum(2048, 1, "core");
  int reset = test_reset_peak();
  long before = test_peak_kb();
  cs_writer *w;
  cs_error e;
  STATUS_EQ(cs_writer_open(p, NULL, &w, &e), CS_OK, &e);
  for (size_t k = 0; k < nspec; k++)
    STATUS_EQ(cs_writer_put(w, s, &e), CS_OK, &e);
  STATUS_EQ(cs_writer_close(w, &e), CS_OK, &e);
  long grew = test_peak_kb() - before;
  cs_spectrum_free(s);
  struct stat sb;
  assert_int_equal(stat(p, &sb), 0);
  assert_true(sb.st_size > 40 * 1000 * 1000);
#if defined(__SANITIZE_ADDRESS__)
  (void)grew, (void)reset; /* the sanitizer's shadow memory makes RSS meaningless */
#else
  print_message("AnIML writer: %lld bytes, peak RSS grew %ld kB%s\n",
                (long long)sb.st_size, grew, reset ? "" : " (lifetime peak)");
  if (!getenv("CALCSPEC_NO_RSS_CHECK")) /* e.g. under valgrind */
    if (grew > 16 * 1024)
      fail_msg("peak RSS grew by %ld kB writing a %lld-byte file", grew,
               (long long)sb.st_size);
#endif
  remove(p);
}

/* ~40 MB of AnIML (1200 spectra of 2048 points): the stream holds one
 * spectrum at a time and the process's peak RSS grows by far less than the
 * file (the DOM reader holds the file, its tree and every spectrum: some
 * 200 MB).  Either check fails if cs_dataset_read-style whole reading comes
 * back. */
static void memory_stays_flat(void **state) {
  (void)state;
  const size_t nspec = 1200, npts = 2048;
  const char *p = write_big(nspec, npts);
  long before = peak_rss_kb();
  cs_reader *rd;
  cs_error e;
  STATUS_EQ(cs_reader_open(p, NULL, NULL, &rd, &e), CS_OK, &e);
  assert_true(cs_reader_streaming(rd));
  cs_spectrum *s;
  size_t n = 0;
  double sum = 0;
  while (!cs_reader_next(rd, &s, &e) && s) {
    assert_int_equal(cs_spectrum_n(s), npts);
    assert_int_equal(cs_spectrum_source_index(s), n);
    sum += cs_spectrum_y(s)[0];
    cs_spectrum_free(s);
    n++;
  }
  assert_int_equal(n, nspec);
  DBL_NEAR(sum, (double)nspec * (double)(nspec - 1) / 2, 1e-6);
  assert_int_equal(cs_reader_peak_held(rd), 1);
  cs_reader_close(rd);
  long grew = peak_rss_kb() - before;
#if defined(__SANITIZE_ADDRESS__)
  (void)grew; /* the sanitizer's shadow memory makes RSS meaningless */
#else
  if (!getenv("CALCSPEC_NO_RSS_CHECK")) /* e.g. under valgrind */
    assert_true(grew < 24 * 1024);
#endif
  /* the whole reading holds every spectrum */
  cs_reader_opts whole = {1};
  STATUS_EQ(cs_reader_open(p, NULL, &whole, &rd, &e), CS_OK, &e);
  assert_false(cs_reader_streaming(rd));
  assert_int_equal(cs_reader_peak_held(rd), nspec);
  cs_reader_close(rd);
}


/* ---- LabSpec 6 XML: streamed row by row ---- */

/* What visit_cuts looks for and the name its cut copies take. */
static const char *cut_fmt, *cut_name;

/* A file that detects as cut_fmt, whole and cut off at a third and two
 * thirds: stream == DOM (spectra or code). */
static int visit_cuts(const char *path, const struct stat *sb, int type,
                      struct FTW *ftw) {
  (void)ftw;
  const char *fmt;
  if (type != FTW_F || cs_format_detect(path, &fmt, NULL) != CS_OK ||
      strcmp(fmt, cut_fmt))
    return 0;
  nspectra += agree_as(path, cut_fmt);
  nfiles++;
  size_t n;
  unsigned char *b = test_slurp(path, &n);
  for (int part = 1; part <= 2; part++) {
    const char *cut = test_write_tmp(cut_name, b, n * (size_t)part / 3);
    assert_int_equal(agree_as(cut, cut_fmt), 0);
  }
  free(b);
  assert_true((size_t)sb->st_size == n);
  return 0;
}

/* visit_cuts over every file below dir, counted in nfiles and nspectra. */
static void walk_cuts(const char *dir, const char *fmt, const char *name,
                      const char *what) {
  cut_fmt = fmt;
  cut_name = name;
  nfiles = nspectra = 0;
  assert_int_equal(nftw(dir, visit_cuts, 16, FTW_PHYS), 0);
  print_message("%zu %s files, %zu spectra: stream == whole\n", nfiles, what,
                nspectra);
}

/* Every file in ../shared/formats that detects as LabSpec XML. */
static void labspec_files_agree(void **state) {
  (void)state;
  SHARED_OR_SKIP(dir, "formats");
  walk_cuts(dir, "labspec_xml", "cut.xml", "LabSpec XML");
  assert_true(nfiles >= 9); /* horiba_labspec_xml: spectra, line, maps */
  assert_true(nspectra > nfiles);
}

/* write_lsx's matrix: the opening tag, rows of npts synthetic values. */
static void put_lsx_matrix(FILE *f, const char *matrix, size_t rows,
                           size_t npts) {
  fputs(matrix, f);
  for (size_t k = 0; k < rows; k++) {
    fprintf(f, "<LSX_Row Format=\"6\" Index=\"%zu\" Size=\"%zu\">", k, npts);
    for (size_t i = 0; i < npts; i++)
      fprintf(f, "%zu ", (k * 7 + i * 3) % 1000 + k);
    fprintf(f, "</LSX_Row>\n");
  }
  fprintf(f, "</LSX_Matrix>\n");
}

/* A LabSpec-style map as LabSpec 6 writes it (IDs of FORMATS.md section 5;
 * synthetic values): nx x ny pixels of npts points, x on map axis 0x2 in
 * um, y on 0x3, laser and title among the parameters.  tree_first 0 puts
 * the matrix before the tree; nrows < 0 writes nx*ny rows, else that many;
 * msize < 0 writes the right Size. */
static const char *write_lsx(const char *name, size_t nx, size_t ny,
                             size_t npts, int tree_first, long nrows,
                             double msize) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  size_t rows = nrows < 0 ? nx * ny : (size_t)nrows;
  if (msize < 0)
    msize = (double)(nx * ny * npts);
  char matrix[96];
  snprintf(matrix, sizeof matrix,
           "<LSX_Matrix Format=\"6\" ID=\"0x7D6CD4DB\" Size=\"%.0f\">\n",
           msize);
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LSX_Data>\n");
  if (!tree_first) { /* rows come below; only the opening tag here */
    put_lsx_matrix(f, matrix, rows, npts);
  }
  fprintf(f, "<LSX_Tree Format=\"9\" ID=\"0x69746164\" Size=\"3\">"
             "<LSX Format=\"8\" ID=\"0x6C7469D9\">synthetic map</LSX>"
             "<LSX Format=\"9\" ID=\"0x7A74D9D6\" Size=\"1\">"
             "<LSX Format=\"9\" ID=\"0x7B697861\" Size=\"4\">"
             "<LSX Format=\"9\" ID=\"0x0\" Size=\"2\">"
             "<LSX Format=\"7\" ID=\"0x6D707974\">Intens</LSX>"
             "<LSX Format=\"7\" ID=\"0x7C696E75\">Cnt/sec</LSX></LSX>"
             "<LSX Format=\"9\" ID=\"0x1\" Size=\"3\">"
             "<LSX Format=\"6\" ID=\"0x7D6CD4DB\" Size=\"%zu\">",
          npts);
  for (size_t i = 0; i < npts; i++)
    fprintf(f, "%.1f ", 200.0 + 0.5 * (double)i);
  fprintf(f, "</LSX><LSX Format=\"7\" ID=\"0x6D707974\">Spectr</LSX>"
             "<LSX Format=\"7\" ID=\"0x7C696E75\">1/cm</LSX></LSX>");
  static const char *const axn[] = {"X", "Y"};
  for (int a = 0; a < 2; a++) {
    size_t na = a ? ny : nx;
    fprintf(f, "<LSX Format=\"9\" ID=\"0x%d\" Size=\"3\"><LSX Format=\"6\" "
               "ID=\"0x7D6CD4DB\" Size=\"%zu\">", a + 2, na);
    for (size_t i = 0; i < na; i++)
      fprintf(f, "%g ", (a ? -10.0 : 5.0) + (a ? 2.5 : 1.5) * (double)i);
    fprintf(f, "</LSX><LSX Format=\"7\" ID=\"0x6D707974\">%s</LSX>"
               "<LSX Format=\"7\" ID=\"0x7C696E75\">\xC2\xB5m</LSX></LSX>",
            axn[a]);
  }
  fprintf(f, "</LSX></LSX>"
             "<LSX Format=\"9\" ID=\"0x6C62D4D9\" Size=\"2\">"
             "<LSX Format=\"9\" ID=\"0x1\" Size=\"3\">"
             "<LSX Format=\"7\" ID=\"0x6D6D616E\">Laser (nm)</LSX>"
             "<LSX Format=\"7\" ID=\"0x7D6C61DB\">633 </LSX>"
             "<LSX Format=\"5\" ID=\"0x8736F70\">632.817</LSX></LSX>"
             "<LSX Format=\"9\" ID=\"0x2\" Size=\"2\">"
             "<LSX Format=\"7\" ID=\"0x6D6D616E\">Acq. time (s)</LSX>"
             "<LSX Format=\"7\" ID=\"0x7D6C61DB\">0.5</LSX></LSX>"
             "</LSX></LSX_Tree>\n");
  if (tree_first) {
    put_lsx_matrix(f, matrix, rows, npts);
  }
  fprintf(f, "</LSX_Data>\n");
  assert_int_equal(fclose(f), 0);
  return path;
}

/* The map the test writes: stream == DOM, and both as the document says
 * (positions x fastest, values, laser, exposure, title); tree after the
 * matrix reads the same; bad row counts and Size refused either way, the
 * stream after the rows before the fault. */
static void labspec_map_agrees(void **state) {
  (void)state;
  const char *p = write_lsx("map.xml", 3, 2, 5, 1, -1, -1);
  assert_int_equal(agree_as(p, NULL), 6);
  cs_dataset *ds = test_read_ok(p, NULL);
  for (size_t k = 0; k < 6; k++) {
    const cs_spectrum *s = cs_dataset_get(ds, k);
    char pos[64];
    snprintf(pos, sizeof pos, "%g %g", 5.0 + 1.5 * (double)(k % 3),
             -10.0 + 2.5 * (double)(k / 3));
    assert_string_equal(cs_spectrum_meta(s, CS_META_POSITION), pos);
    test_expect_ends(s, 5, 200, 202, (double)((k * 7) % 1000 + k),
                     (double)((k * 7 + 12) % 1000 + k));
    DBL_NEAR(cs_spectrum_laser_nm(s), 632.817, 0);
    DBL_NEAR(cs_spectrum_exposure_s(s), 0.5, 0);
    assert_int_equal(cs_spectrum_quantity(s), CS_Q_COUNTS_PER_S);
    assert_string_equal(cs_spectrum_meta(s, CS_META_TITLE), "synthetic map");
  }
  cs_dataset_free(read_streamed(p, 1));
  cs_error e;
  /* no map axes: two spectra, counted from the matrix's Size once read */
  const char *q = write_lsx("two.xml", 0, 0, 5, 1, 2, 10);
  assert_int_equal(agree_as(q, NULL), 2);
  cs_reader *rd;
  STATUS_EQ(cs_reader_open(q, NULL, NULL, &rd, &e), CS_OK, &e);
  cs_spectrum *one;
  STATUS_EQ(cs_reader_next(rd, &one, &e), CS_OK, &e);
  assert_null(cs_spectrum_meta(one, CS_META_POSITION));
  assert_int_equal(cs_reader_count(rd), 2);
  cs_spectrum_free(one);
  cs_reader_close(rd);
  /* the matrix first: read whole behind the stream, same spectra */
  q = write_lsx("late.xml", 3, 2, 5, 0, -1, -1);
  assert_int_equal(agree_as(q, NULL), 6);
  cs_dataset *late = test_read_ok(q, NULL);
  for (size_t k = 0; k < 6; k++)
    assert_string_equal(
        cs_spectrum_meta(cs_dataset_get(late, k), CS_META_POSITION),
        cs_spectrum_meta(cs_dataset_get(ds, k), CS_META_POSITION));
  cs_dataset_free(late);
  cs_dataset_free(ds);
  /* refusals: 7 rows or 5 rows for 3 x 2 (Size right), Size off, no rows;
   * the stream hands out the rows before the fault */
  static const struct {
    long rows;
    double msize;
    size_t before;
  } bad[] = {{7, 30, 6}, {5, 30, 5}, {6, 31, 0}, {0, 30, 0}, {-1, 40, 0}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    for (int tf = 0; tf <= 1; tf++) {
      q = write_lsx("bad.xml", 3, 2, 5, tf, bad[i].rows, bad[i].msize);
      assert_int_equal(agree_as(q, NULL), 0);
      if (!tf)
        continue;
      STATUS_EQ(cs_reader_open(q, NULL, NULL, &rd, &e), CS_OK, &e);
      cs_spectrum *s;
      size_t n = 0;
      cs_status st;
      while (!(st = cs_reader_next(rd, &s, &e)) && s) {
        cs_spectrum_free(s);
        n++;
      }
      assert_int_equal(st, CS_ERR_MALFORMED);
      if (n != bad[i].before || !strstr(e.msg, "LSX_Matrix"))
        fail_msg("case %zu: %zu spectra before '%s'", i, n, e.msg);
      cs_reader_close(rd);
    }
  }
  /* the XML safety of the DOM reader: entities refused, root checked */
  static const char *const docs[] = {
      "<?xml version=\"1.0\"?><!DOCTYPE LSX_Data [<!ENTITY a \"aaaa\">]>"
      "<LSX_Data>&a;</LSX_Data>",
      "<?xml version=\"1.0\"?><!DOCTYPE LSX_Data SYSTEM "
      "\"http://example.invalid/x.dtd\"><LSX_Data><LSX_Tree/></LSX_Data>",
      "<LSX_Data><LSX_Tree/></LSX_Data>",
      "<LSX_Data><LSX_Matrix/></LSX_Data>",
  };
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
    q = test_write_text("doc.xml", docs[i]);
    assert_int_equal(agree_as(q, "labspec_xml"), 0);
  }
}

/* The synthetic ~14 MB document at path streams as fmt: nspec spectra of
 * npts points (y[0] as write_lsx/write_tvf put it; cs_reader_count equal to
 * count at every step unless count is 0), one held at a time, and the peak
 * RSS grows by less than 12 MB. */
static void stream_flat(const char *path, const char *fmt, size_t nspec,
                        size_t npts, size_t count, const char *what,
                        const char *noun) {
  long before = peak_rss_kb();
  cs_reader *rd;
  cs_error e;
  STATUS_EQ(cs_reader_open(path, NULL, NULL, &rd, &e), CS_OK, &e);
  assert_string_equal(cs_reader_format(rd), fmt);
  assert_true(cs_reader_streaming(rd));
  cs_spectrum *s;
  size_t n = 0;
  cs_status st;
  while (!(st = cs_reader_next(rd, &s, &e)) && s) {
    assert_int_equal(cs_spectrum_n(s), npts);
    assert_int_equal(cs_spectrum_source_index(s), n);
    DBL_NEAR(cs_spectrum_y(s)[0], (double)((n * 7) % 1000 + n), 0);
    if (count)
      assert_int_equal(cs_reader_count(rd), count);
    cs_spectrum_free(s);
    n++;
  }
  STATUS_EQ(st, CS_OK, &e);
  assert_int_equal(n, nspec);
  assert_int_equal(cs_reader_peak_held(rd), 1);
  cs_reader_close(rd);
  long grew = peak_rss_kb() - before;
  print_message("%s, %zu spectra streamed: peak RSS %ld kB, +%ld kB\n", what,
                n, before, grew);
#if defined(__SANITIZE_ADDRESS__)
  (void)grew;
#else
  if (!getenv("CALCSPEC_NO_RSS_CHECK"))
    if (grew >= 12 * 1024)
      fail_msg("peak RSS grew by %ld kB streaming a 14 MB %s", grew, noun);
#endif
}

/* A 60 x 50 map of 1024 points (~14 MB of text, synthetic): the stream
 * holds one spectrum and peak RSS grows by far less than the file (the DOM
 * reading holds the text, its tree and all 3000 spectra: ~90 MB).  Runs
 * before memory_stays_flat, whose whole reading raises the peak. */
static void labspec_memory_flat(void **state) {
  (void)state;
  const size_t nx = 60, ny = 50, npts = 1024;
  const char *p = write_lsx("bigmap.xml", nx, ny, npts, 1, -1, -1);
  /* the count comes from the map axes, before the rows are read */
  stream_flat(p, "labspec_xml", nx * ny, npts, nx * ny, "LabSpec map", "map");
  unlink(p);
}

/* ---- TriVista .tvf: streamed frame by frame ---- */

/* Every file in ../shared/formats that detects as TriVista. */
static void trivista_files_agree(void **state) {
  (void)state;
  SHARED_OR_SKIP(dir, "formats");
  walk_cuts(dir, "trivista", "cut.tvf", "TriVista");
  assert_true(nfiles >= 6); /* trivista_tvf: spectra, frames, line scan */
  assert_true(nspectra > nfiles);
}

/* A TriVista line scan as TriVista writes it (FORMATS.md section 6;
 * synthetic values): a Hardware block to pass over, a non-spectra document,
 * then a spectra document of nframes frames of npts points (ydim rows
 * each), InfoSerialized escaped in its attribute.  data_first puts <Data>
 * before <xDim>. */
static const char *write_tvf(const char *name, size_t nframes, size_t npts,
                             size_t ydim, int data_first) {
  static char path[4096];
  snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fprintf(f, "<!--TriVista-File. synthetic -->\n"
             "<XmlMain Version=\"1.0.1\" Filename=\"C:\\scans\\synthetic "
             "scan.tvf\">\n<Hardware><Spectrometers Count=\"1\">"
             "<Spectrometer Model=\"X\"/></Spectrometers></Hardware>\n"
             "<Documents Count=\"2\">\n"
             "<Document DocType=\"Image\"><Data><Frame>1;2</Frame></Data>"
             "</Document>\n"
             "<Document Version=\"2\" DataLabel=\"Counts\" "
             "DocType=\"Spectra\" RecordTime=\"09/29/2016 12:51:30.867\" "
             "Encoding=\"Ascii\" InfoSerialized=\"&lt;?xml version=&quot;1.0"
             "&quot; encoding=&quot;utf-16&quot;?&gt;&#xD;&#xA;&lt;Info&gt;"
             "&lt;Groups&gt;&lt;Group&gt;&lt;Name&gt;Detector&lt;/Name&gt;"
             "&lt;Items&gt;&lt;Item&gt;&lt;Name&gt;Exposure_Time_(ms)&lt;/Name"
             "&gt;&lt;Value&gt;1500&lt;/Value&gt;&lt;/Item&gt;&lt;Item&gt;"
             "&lt;Name&gt;No_of_Accumulations&lt;/Name&gt;&lt;Value&gt;3&lt;"
             "/Value&gt;&lt;/Item&gt;&lt;/Items&gt;&lt;/Group&gt;&lt;/Groups"
             "&gt;&lt;/Info&gt;\">\n");
  for (int pass = 0; pass < 2; pass++) {
    if (pass == data_first) {
      fprintf(f, "<xDim Length=\"%zu\"><Calibration Unit=\"Nanometer\" "
                 "Type=\"ValueArray\" LaserWave=\"532.1\" ValueArray=\"%zu",
              npts, npts);
      for (size_t i = 0; i < npts; i++)
        fprintf(f, "|%.3f", 540.0 + 0.25 * (double)i);
      fprintf(f, "\"/></xDim>\n<yDim Length=\"%zu\"/>\n", ydim);
    } else {
      fprintf(f, "<Data>\n");
      for (size_t k = 0; k < nframes; k++) {
        fprintf(f, "<Frame xDim=\"%zu\" yDim=\"%zu\" TimeStamp=\"%llu\">",
                npts, ydim, 636107418908670000ULL + 30000000ULL * k);
        for (size_t i = 0; i < npts * ydim; i++)
          fprintf(f, "%s%zu", i ? ";" : "", (k * 7 + i * 3) % 1000 + k);
        fprintf(f, "</Frame>\n");
      }
      fprintf(f, "</Data>\n");
    }
  }
  fprintf(f, "</Document>\n</Documents>\n</XmlMain>\n");
  assert_int_equal(fclose(f), 0);
  return path;
}

/* The scan the test writes: stream == DOM and as the document says (values,
 * laser, exposure, accumulations, title, frame numbers); image frames
 * (yDim 2) hold one frame's two spectra; <Data> before <xDim> reads the
 * same, whole; refusals and the XML safety as the DOM reader. */
static void trivista_scan_agrees(void **state) {
  (void)state;
  const char *p = write_tvf("scan.tvf", 5, 6, 1, 0);
  assert_int_equal(agree_as(p, NULL), 5);
  cs_dataset *ds = test_read_ok(p, NULL);
  for (size_t k = 0; k < 5; k++) {
    const cs_spectrum *s = cs_dataset_get(ds, k);
    test_expect_ends(s, 6, 540, 541.25, (double)((k * 7) % 1000 + k),
                     (double)((k * 7 + 15) % 1000 + k));
    DBL_NEAR(cs_spectrum_laser_nm(s), 532.1, 0);
    DBL_NEAR(cs_spectrum_exposure_s(s), 1.5, 0);
    assert_int_equal(cs_spectrum_accumulations(s), 3);
    assert_string_equal(cs_spectrum_meta(s, CS_META_TITLE), "synthetic scan");
    char num[16];
    snprintf(num, sizeof num, "%zu", k);
    assert_string_equal(cs_spectrum_meta(s, "trivista.frame"), num);
    snprintf(num, sizeof num, "%zu.0000000", 3 * k); /* 3 s apart */
    assert_string_equal(cs_spectrum_meta(s, "trivista.frame_time_s"), num);
  }
  cs_dataset_free(read_streamed(p, 1));
  /* image frames: two rows a frame, both held at once */
  const char *q = write_tvf("image.tvf", 3, 4, 2, 0);
  assert_int_equal(agree_as(q, NULL), 6);
  cs_dataset *ds2 = read_streamed(q, 2);
  assert_string_equal(cs_spectrum_meta(cs_dataset_get(ds2, 5), "trivista.row"),
                      "1");
  cs_dataset_free(ds2);
  /* <Data> before <xDim>: read whole behind the stream, same spectra */
  q = write_tvf("late.tvf", 5, 6, 1, 1);
  assert_int_equal(agree_as(q, NULL), 5);
  cs_dataset *late = test_read_ok(q, NULL);
  test_same_read(ds, late);
  cs_dataset_free(late);
  cs_dataset_free(ds);
  /* refusals either way: no frames, no xDim, bad values, root, entities */
  static const char *const docs[] = {
      "<XmlMain><Documents><Document><xDim><Calibration Unit=\"Nanometer\" "
      "Type=\"ValueArray\" ValueArray=\"2|1|2\"/></xDim><Data/></Document>"
      "</Documents></XmlMain>",
      "<XmlMain><Documents><Document><Data><Frame xDim=\"2\">1;2</Frame>"
      "</Data></Document></Documents></XmlMain>",
      "<XmlMain><Documents><Document><xDim><Calibration Unit=\"Nanometer\" "
      "Type=\"ValueArray\" ValueArray=\"2|1|2\"/></xDim><Data><Frame "
      "xDim=\"2\">1;2</Frame><Frame xDim=\"2\">1;x</Frame></Data></Document>"
      "</Documents></XmlMain>",
      "<XmlMain><Documents><Document/></Documents></XmlMain>",
      "<XmlMain/>",
      "<XmlMin><Documents/></XmlMin>",
      "<?xml version=\"1.0\"?><!DOCTYPE XmlMain [<!ENTITY a \"aaaa\">]>"
      "<XmlMain>&a;</XmlMain>",
      "<?xml version=\"1.0\"?><!DOCTYPE XmlMain SYSTEM "
      "\"http://example.invalid/x.dtd\"><XmlMain><Documents/></XmlMain>",
  };
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
    q = test_write_text("doc.tvf", docs[i]);
    assert_int_equal(agree_as(q, "trivista"), 0);
    /* and for the same reason: the stream's refusal is the DOM's */
    cs_dataset *a, *b;
    cs_error e1, e2;
    assert_int_not_equal(read_all(q, "trivista", 1, &a, NULL, NULL, &e1),
                         CS_OK);
    assert_int_not_equal(read_all(q, "trivista", 0, &b, NULL, NULL, &e2),
                         CS_OK);
    if (strcmp(e1.msg, e2.msg))
      fail_msg("doc %zu: DOM '%s', stream '%s'", i, e1.msg, e2.msg);
    cs_dataset_free(a);
    cs_dataset_free(b);
  }
}

/* 3000 frames of 1024 points (~14 MB of text, synthetic): the stream holds
 * one spectrum and peak RSS grows by far less than the file (the DOM
 * reading holds the text, its tree and all spectra). */
static void trivista_memory_flat(void **state) {
  (void)state;
  const size_t nframes = 3000, npts = 1024;
  const char *p = write_tvf("bigscan.tvf", nframes, npts, 1, 0);
  stream_flat(p, "trivista", nframes, npts, 0, "TriVista scan", "scan");
  unlink(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(project_files_agree), cmocka_unit_test(shared_files_agree),
      cmocka_unit_test(handmade_agrees),     cmocka_unit_test(refusals_agree),
      cmocka_unit_test(break_part_way),
      cmocka_unit_test(whole_fallback),      cmocka_unit_test(csv_files_agree),
      cmocka_unit_test(csv_tables_agree),    cmocka_unit_test(labspec_files_agree),
      cmocka_unit_test(labspec_map_agrees),  cmocka_unit_test(labspec_memory_flat),
      cmocka_unit_test(trivista_files_agree), cmocka_unit_test(trivista_scan_agrees),
      cmocka_unit_test(trivista_memory_flat),
      cmocka_unit_test(memory_stays_flat),
      cmocka_unit_test(writer_matches_dataset_write),
      cmocka_unit_test(writer_memory_flat),
      cmocka_unit_test(writer_keeps_utf8_attributes),
      cmocka_unit_test(writers_of_one_path),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
