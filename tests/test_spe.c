/* test_spe.c: the SPE reader against the real files in ../shared/formats/spe
 * (values from the files' own bytes and text, the SPE_Handler export
 * Result_Single_SPE3.txt and FORMATS.md §1) and against synthetic files
 * built here, whose every value is known by construction. */
#include "testutil.h"

#include <stdint.h>

/* ---- small helpers (independent of the reader) ---- */

static void spit(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(p, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static uint16_t u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static uint64_t u64(const unsigned char *p) {
  return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32;
}
static double f64(const unsigned char *p) {
  uint64_t u = u64(p);
  double d;
  memcpy(&d, &u, 8);
  return d;
}
static float f32(const unsigned char *p) {
  uint32_t u = u32(p);
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static void put16(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}
static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

/* The XML footer of a whole SPE 3.0 file in memory (offset u64 @678,
 * FORMATS.md §1); NUL-terminated by test_slurp(). */
static char *footer_of(unsigned char *file) {
  return (char *)file + u64(file + 678);
}

/* The i-th number of the <Wavelength xml:space=...> list in footer text
 * (strtod directly on the bytes; the footer is plain ASCII). */
static double wavelength_at(const char *footer, size_t i) {
  const char *p = strstr(footer, "<Wavelength xml:space");
  assert_non_null(p);
  p = strchr(p, '>') + 1;
  for (size_t k = 0; k < i; k++) {
    p = strchr(p, ',');
    assert_non_null(p);
    p++;
  }
  return strtod(p, NULL);
}

/* STATUS_EQ's `errp ? ... : ""` warns (-Waddress) on a plain &err. */
static cs_error *EP(cs_error *e) { return e; }

static const char *meta(const cs_spectrum *s, const char *k) {
  const char *v = cs_spectrum_meta(s, k);
  if (!v)
    fail_msg("metadata key '%s' missing", k);
  return v;
}

/* ---- real files ---- */

/* Result_Single_SPE3.txt is SPE_Handler's text export of the same file: its
 * header values and all 512 rows must agree. */
static void single_spe3_matches_result_txt(void **state) {
  (void)state;
  SHARED_OR_SKIP(spe_path, "formats/spe/Testfile_Single_SPE3.spe");
  char spe[4096];
  snprintf(spe, sizeof spe, "%s", spe_path);
  SHARED_OR_SKIP(txt_path, "formats/spe/Result_Single_SPE3.txt");
  size_t n;
  char *txt = (char *)test_slurp(txt_path, &n);
  cs_dataset *ds = test_read_ok(spe, NULL);

  int width = -1, frames = -1;
  double exposure_ms = NAN, laser = NAN, center = NAN;
  char date[32] = "", tod[32] = "";
  char *line = txt, *next;
  size_t row = 0;
  int in_data = 0;
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  for (; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next)
      *next++ = '\0';
    sscanf(line, "Frame width: %d", &width);
    sscanf(line, "Number of frames: %d", &frames);
    sscanf(line, "Exposure (ms): %lf", &exposure_ms);
    sscanf(line, "Laser Wavelength (nm): %lf", &laser);
    sscanf(line, "Central Wavelength (nm): %lf", &center);
    sscanf(line, "Date collected: %31s", date);
    sscanf(line, "Time collected (hhmmss): %31s", tod);
    if (!strncmp(line, "Wavelength\t", 11)) {
      in_data = 1;
      continue;
    }
    double wl, y;
    if (in_data && sscanf(line, "%lf\t%lf", &wl, &y) == 2) {
      assert_true(row < cs_spectrum_n(s));
      DBL_NEAR(cs_spectrum_x(s)[row], wl, 1e-9);
      DBL_NEAR(cs_spectrum_y(s)[row], y, 0.05 + 1e-6); /* txt has 1 decimal */
      row++;
    }
  }
  assert_int_equal(row, 512);
  assert_int_equal(width, 512);
  assert_int_equal(cs_spectrum_n(s), (size_t)width);
  assert_int_equal(cs_dataset_count(ds), (size_t)frames);
  DBL_NEAR(cs_spectrum_exposure_s(s) * 1000.0, exposure_ms, 1e-9);
  DBL_NEAR(atof(meta(s, "spe.center_wavelength_nm")), center, 1e-12);
  char want[64];
  snprintf(want, sizeof want, "%sT%s", date, tod);
  assert_int_equal(strncmp(meta(s, CS_META_ACQUIRED), want, strlen(want)), 0);
  /* The txt's 532 nm is the CSV-export default <WavelengthLaserLine
   * relevance="False"> (FORMATS.md §1; the 785 nm file carries the same
   * 532): the reader must not take it as the laser. */
  DBL_NEAR(laser, 532, 0);
  assert_true(isnan(cs_spectrum_laser_nm(s)));
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_UNKNOWN);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  /* 5 frames averaged after acquisition (DataModified framesCombined). */
  assert_int_equal(cs_spectrum_accumulations(s), 5);
  assert_string_equal(meta(s, CS_META_INSTRUMENT),
                      "ProEM+: 512B eXcelon on SP-2-500i");
  assert_string_equal(meta(s, "spe.pixel_format"), "MonochromeFloating32");
  cs_dataset_free(ds);
  free(txt);
}

/* FORMATS.md §1: silicon maximum at 520.8 cm^-1 with laserLine 531.988. */
static void s0n_silicon_peak(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, "formats/spe/S0N_50x.spe");
  cs_dataset *ds = test_read_ok(path, NULL);
  assert_int_equal(cs_dataset_count(ds), 1);
  cs_spectrum *s = cs_dataset_get_mut(ds, 0);
  assert_int_equal(cs_spectrum_n(s), 1340);
  DBL_NEAR(cs_spectrum_laser_nm(s), 531.988, 0);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  assert_string_equal(meta(s, "spe.pixel_format"), "MonochromeUnsigned32");
  DBL_NEAR(cs_spectrum_exposure_s(s), 30.0, 1e-9); /* FORMATS.md: 30 s */
  assert_int_equal(cs_spectrum_accumulations(s), 6); /* FramesCombined 6 */
  cs_error err;
  STATUS_EQ(cs_spectrum_to_raman_shift(s, NAN, &err), CS_OK, EP(&err));
  const double *x = cs_spectrum_x(s), *y = cs_spectrum_y(s);
  size_t best = 0;
  for (size_t i = 1; i < cs_spectrum_n(s); i++)
    if (y[i] > y[best])
      best = i;
  DBL_NEAR(x[best], 520.8, 0.6); /* one pixel is ~0.58 cm^-1 here */
  cs_dataset_free(ds);
}

/* spe_format_3.0.SPE: x = the companion footer's Wavelength list, y = the
 * f32 pixels at byte 4100, laser from laserLine. */
static void spe_format_30_footer(void **state) {
  (void)state;
  SHARED_OR_SKIP(xml_path, "formats/spe/spe_format_3.0.SPE_metadata.xml");
  size_t nx, nf;
  unsigned char *xml = test_slurp(xml_path, &nx);
  SHARED_OR_SKIP(path, "formats/spe/spe_format_3.0.SPE");
  unsigned char *file = test_slurp(path, &nf);
  /* the companion is exactly the file's footer */
  assert_int_equal(u64(file + 678) + nx, nf);
  assert_memory_equal(file + u64(file + 678), xml, nx);
  cs_dataset *ds = test_read_ok(path, NULL);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_n(s), 1340);
  for (size_t i = 0; i < 1340; i += 111) {
    DBL_NEAR(cs_spectrum_x(s)[i], wavelength_at((char *)xml, i), 0);
    DBL_NEAR(cs_spectrum_y(s)[i], f32(file + 4100 + 4 * i), 0);
  }
  DBL_NEAR(cs_spectrum_x(s)[1339], wavelength_at((char *)xml, 1339), 0);
  DBL_NEAR(cs_spectrum_laser_nm(s), 785, 0);
  DBL_NEAR(cs_spectrum_exposure_s(s), 4.0, 0);
  assert_string_equal(meta(s, "spe.laser_model"), "FERGIE: Laser 785");
  assert_string_equal(meta(s, CS_META_INSTRUMENT),
                      "PIXIS: 100BR eXcelon on LS-785");
  assert_string_equal(meta(s, "spe.frame"), "0");
  assert_string_equal(meta(s, "spe.roi"), "0");
  assert_string_equal(meta(s, "spe.row"), "0");
  cs_dataset_free(ds);
  free(xml);
  free(file);
}

/* 5 frames x 3 ROIs (1340x1, 524x66, 592x90), stride 178424 > size 178408
 * with ExposureStarted + FrameTrackingNumber after each frame. */
static void multiple_rois(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, "formats/spe/test_multiple_rois.spe");
  size_t nf;
  unsigned char *file = test_slurp(path, &nf);
  cs_dataset *ds = test_read_ok(path, NULL);
  const size_t per_frame = 1 + 66 + 90, stride = 178424, size = 178408;
  assert_int_equal(cs_dataset_count(ds), 5 * per_frame);
  for (size_t fr = 0; fr < 5; fr++) {
    const unsigned char *fb = file + 4100 + fr * stride;
    /* ROI 0: sensor x 0; ROI 1: x 763; ROI 2: x 53 (SensorMapping). */
    const cs_spectrum *s0 = cs_dataset_get(ds, fr * per_frame);
    const cs_spectrum *s1 = cs_dataset_get(ds, fr * per_frame + 1 + 65);
    const cs_spectrum *s2 = cs_dataset_get(ds, fr * per_frame + 67 + 5);
    assert_int_equal(cs_spectrum_n(s0), 1340);
    assert_int_equal(cs_spectrum_n(s1), 524);
    assert_int_equal(cs_spectrum_n(s2), 592);
    DBL_NEAR(cs_spectrum_x(s0)[0], wavelength_at(footer_of(file), 0), 0);
    DBL_NEAR(cs_spectrum_x(s1)[0], wavelength_at(footer_of(file), 763), 0);
    DBL_NEAR(cs_spectrum_x(s1)[523], wavelength_at(footer_of(file), 763 + 523), 0);
    DBL_NEAR(cs_spectrum_x(s2)[10], wavelength_at(footer_of(file), 53 + 10), 0);
    /* y: ROI 1 row 65 and ROI 2 row 5, read from the raw u16 bytes */
    for (size_t i = 0; i < 524; i += 37)
      DBL_NEAR(cs_spectrum_y(s1)[i], u16(fb + 2680 + (65 * 524 + i) * 2), 0);
    for (size_t i = 0; i < 592; i += 41)
      DBL_NEAR(cs_spectrum_y(s2)[i],
               u16(fb + 2680 + 69168 + (5 * 592 + i) * 2), 0);
    DBL_NEAR(cs_spectrum_y(s0)[700], u16(fb + 700 * 2), 0);
    char want[32];
    snprintf(want, sizeof want, "%zu", fr);
    assert_string_equal(meta(s1, "spe.frame"), want);
    assert_string_equal(meta(s1, "spe.roi"), "1");
    assert_string_equal(meta(s1, "spe.row"), "65");
    assert_string_equal(meta(s2, "spe.roi"), "2");
    assert_string_equal(meta(s2, "spe.row"), "5");
    /* metadata gap: i64 ticks (resolution 1000000) then i64 tracking no. */
    DBL_NEAR(atof(meta(s2, "spe.exposure_started_s")),
             (double)u64(fb + size) / 1e6, 1e-12);
    snprintf(want, sizeof want, "%llu", (unsigned long long)u64(fb + size + 8));
    assert_string_equal(meta(s2, "spe.frame_tracking_number"), want);
  }
  DBL_NEAR(cs_spectrum_exposure_s(cs_dataset_get(ds, 0)), 0.1, 1e-12);
  cs_dataset_free(ds);
  free(file);
}

/* WinSpec 2.x: x from the header polynomial at 1-based pixels must equal the
 * file's own calibration pairs (pixel 1 and 1340 -> calib_value[0], [2]). */
static void legacy_v2(void **state) {
  (void)state;
  SHARED_OR_SKIP(path, "formats/spe/file_v2.spe");
  size_t nf;
  unsigned char *file = test_slurp(path, &nf);
  assert_true(f64(file + 3103) == 1.0 && f64(file + 3103 + 16) == 1340.0);
  cs_dataset *ds = test_read_ok(path, NULL);
  assert_int_equal(cs_dataset_count(ds), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_n(s), 1340);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  DBL_NEAR(cs_spectrum_x(s)[0], f64(file + 3183), 1e-9);
  DBL_NEAR(cs_spectrum_x(s)[1339], f64(file + 3183 + 16), 1e-9);
  for (size_t i = 0; i < 1340; i += 97) /* datatype 1 = i32 */
    DBL_NEAR(cs_spectrum_y(s)[i], (double)(int32_t)u32(file + 4100 + 4 * i),
             0);
  assert_true(isnan(cs_spectrum_laser_nm(s))); /* laser_position 0 */
  DBL_NEAR(cs_spectrum_exposure_s(s), 0.2, 1e-12);
  assert_int_equal(cs_spectrum_accumulations(s), 10);
  /* date "09Oct2020" @20, time "170155" @172 */
  assert_string_equal(meta(s, CS_META_ACQUIRED), "2020-10-09T17:01:55");
  cs_dataset_free(ds);
  free(file);

  SHARED_OR_SKIP(p2, "formats/spe/Testfile_Single_SPE2.SPE");
  file = test_slurp(p2, &nf);
  ds = test_read_ok(p2, NULL);
  assert_int_equal(cs_dataset_count(ds), 35); /* FORMATS.md: 35 frames */
  s = cs_dataset_get(ds, 34);
  DBL_NEAR(cs_spectrum_x(s)[0], f64(file + 3183), 1e-9);
  DBL_NEAR(cs_spectrum_x(s)[1339], f64(file + 3183 + 16), 1e-9);
  for (size_t i = 0; i < 1340; i += 89) /* datatype 3 = u16 */
    DBL_NEAR(cs_spectrum_y(s)[i], u16(file + 4100 + (34 * 1340 + i) * 2), 0);
  DBL_NEAR(cs_spectrum_laser_nm(s), f64(file + 3311), 0); /* 636.3 */
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  assert_string_equal(meta(s, "spe.frame"), "34");
  cs_dataset_free(ds);
  free(file);
}

/* ---- synthetic files ---- */

/* Build an SPE 3.0 file: nframes x (ROI0 4x1 at sensor x 1, ROI1 3x2 at
 * sensor x 2 with xBinning 2), u16 pixel value = 1000*frame + 100*roi +
 * 10*row + col, metadata (ExposureStarted ticks at 1 kHz = 250*frame + 7,
 * FrameTrackingNumber = frame + 1), then `pad` unused bytes per frame.
 * Wavelength list: 500, 501, ..., 509 nm.  Returns the file size. */
static size_t make_spe3(const char *path, size_t nframes, size_t pad,
                        int sparse) {
  const size_t size = (4 * 1 + 3 * 2) * 2, meta_b = 16;
  const size_t stride = size + meta_b + pad;
  char footer[4096];
  int fl = snprintf(
      footer, sizeof footer,
      "<SpeFormat version=\"3.0\" "
      "xmlns=\"http://www.princetoninstruments.com/spe/2009\"><DataFormat>"
      "<DataBlock type=\"Frame\" count=\"%zu\" "
      "pixelFormat=\"MonochromeUnsigned16\" size=\"%zu\" stride=\"%zu\" "
      "metaFormat=\"1\" calibrations=\"1\">"
      "<DataBlock type=\"Region\" calibrations=\"2,3\" count=\"1\" "
      "width=\"4\" height=\"1\" size=\"8\" stride=\"8\" />"
      "<DataBlock type=\"Region\" calibrations=\"2,4\" count=\"1\" "
      "width=\"3\" height=\"2\" size=\"12\" stride=\"12\" />"
      "</DataBlock></DataFormat><MetaFormat><MetaBlock id=\"1\">"
      "<TimeStamp event=\"ExposureStarted\" type=\"Int64\" bitDepth=\"64\" "
      "resolution=\"1000\" />"
      "<FrameTrackingNumber type=\"Int64\" bitDepth=\"64\" />"
      "</MetaBlock></MetaFormat><Calibrations>"
      "<WavelengthMapping id=\"1\" laserLine=\"785.5\"><Wavelength "
      "xml:space=\"preserve\">500,501,502,503,504,505,506,507,508,509"
      "</Wavelength></WavelengthMapping>"
      "<SensorInformation id=\"2\" width=\"10\" height=\"4\" />"
      "<SensorMapping id=\"3\" x=\"1\" y=\"0\" width=\"4\" height=\"4\" "
      "xBinning=\"1\" yBinning=\"4\" />"
      "<SensorMapping id=\"4\" x=\"2\" y=\"1\" width=\"6\" height=\"2\" "
      "xBinning=\"2\" yBinning=\"1\" />"
      "</Calibrations><DataHistories><DataHistory><Origin "
      "created=\"2024-05-06T07:08:09\" software=\"LightField\" "
      "softwareVersion=\"6.0\"><Experiment "
      "xmlns=\"http://www.princetoninstruments.com/experiment/2009\">"
      "<System><Spectrometers><Spectrometer model=\"SPEC-1\"/>"
      "</Spectrometers><Cameras><Camera model=\"CAM-1\"/></Cameras>"
      "</System><Devices><Cameras><Camera><ShutterTiming><ExposureTime "
      "type=\"Double\">250</ExposureTime></ShutterTiming><Experiment>"
      "<OnlineProcessing><FrameCombination><FramesCombined>3"
      "</FramesCombined></FrameCombination></OnlineProcessing></Experiment>"
      "</Camera></Cameras></Devices></Experiment></Origin></DataHistory>"
      "</DataHistories></SpeFormat>",
      nframes, size, stride);
  assert_true(fl > 0 && (size_t)fl < sizeof footer);
  size_t foot_off = 4100 + nframes * stride;
  unsigned char hdr[4100] = {0};
  put64(hdr + 678, foot_off);
  float ver = 3.0f;
  memcpy(hdr + 1992, &ver, 4);
  put32(hdr + 2996, 0x01234567u);
  put16(hdr + 108, 3);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(hdr, 1, 4100, f), 4100);
  unsigned char *fr = calloc(1, stride);
  assert_non_null(fr);
  for (size_t k = 0; k < nframes; k++) {
    unsigned char *p = fr;
    for (size_t c = 0; c < 4; c++, p += 2)
      put16(p, (unsigned)(1000 * k + c) & 0xffff);
    for (size_t r = 0; r < 2; r++)
      for (size_t c = 0; c < 3; c++, p += 2)
        put16(p, (unsigned)(1000 * k + 100 + 10 * r + c) & 0xffff);
    put64(fr + size, 250 * k + 7);
    put64(fr + size + 8, k + 1);
    if (sparse) { /* leave the padding as a hole */
      assert_int_equal(fseek(f, (long)(4100 + k * stride), SEEK_SET), 0);
      assert_int_equal(fwrite(fr, 1, size + meta_b, f), size + meta_b);
    } else {
      assert_int_equal(fwrite(fr, 1, stride, f), stride);
    }
  }
  free(fr);
  assert_int_equal(fseek(f, (long)foot_off, SEEK_SET), 0);
  assert_int_equal(fwrite(footer, 1, (size_t)fl, f), (size_t)fl);
  assert_int_equal(fclose(f), 0);
  return foot_off + (size_t)fl;
}

static void synthetic_stride_rois_binning(void **state) {
  (void)state;
  char path[512];
  snprintf(path, sizeof path, "%s/syn.spe", test_tmpdir());
  make_spe3(path, 2, 8, 0);
  cs_dataset *ds = test_read_ok(path, NULL);
  assert_int_equal(cs_dataset_count(ds), 2 * 3);
  for (size_t k = 0; k < 2; k++) {
    const cs_spectrum *r0 = cs_dataset_get(ds, 3 * k);
    assert_int_equal(cs_spectrum_n(r0), 4);
    for (size_t c = 0; c < 4; c++) {
      DBL_NEAR(cs_spectrum_x(r0)[c], 501.0 + (double)c, 0); /* x offset 1 */
      DBL_NEAR(cs_spectrum_y(r0)[c], 1000.0 * (double)k + (double)c, 0);
    }
    for (size_t r = 0; r < 2; r++) {
      const cs_spectrum *s = cs_dataset_get(ds, 3 * k + 1 + r);
      assert_int_equal(cs_spectrum_n(s), 3);
      /* binned pairs (2,3) (4,5) (6,7) -> 502.5, 504.5, 506.5 */
      for (size_t c = 0; c < 3; c++) {
        DBL_NEAR(cs_spectrum_x(s)[c], 502.5 + 2.0 * (double)c, 1e-12);
        DBL_NEAR(cs_spectrum_y(s)[c],
                 1000.0 * (double)k + 100 + 10.0 * (double)r + (double)c, 0);
      }
      char want[32];
      snprintf(want, sizeof want, "%zu", k);
      assert_string_equal(meta(s, "spe.frame"), want);
      assert_string_equal(meta(s, "spe.roi"), "1");
      snprintf(want, sizeof want, "%zu", r);
      assert_string_equal(meta(s, "spe.row"), want);
      DBL_NEAR(atof(meta(s, "spe.exposure_started_s")),
               (250.0 * (double)k + 7) / 1000.0, 1e-15);
      snprintf(want, sizeof want, "%zu", k + 1);
      assert_string_equal(meta(s, "spe.frame_tracking_number"), want);
      DBL_NEAR(cs_spectrum_laser_nm(s), 785.5, 0);
      assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
      DBL_NEAR(cs_spectrum_exposure_s(s), 0.25, 0);
      assert_int_equal(cs_spectrum_accumulations(s), 3);
      assert_string_equal(meta(s, CS_META_INSTRUMENT), "CAM-1 on SPEC-1");
      assert_string_equal(meta(s, CS_META_ACQUIRED), "2024-05-06T07:08:09");
    }
  }
  cs_dataset_free(ds);
}

/* Detection uses content only: the same bytes under other names (and no
 * extension) are still SPE, and read identically. */
static void sniff_ignores_name(void **state) {
  (void)state;
  const char *dir = test_tmpdir();
  char a[512], b[512], c[512];
  snprintf(a, sizeof a, "%s/a.spe", dir);
  snprintf(b, sizeof b, "%s/b.txt", dir);
  snprintf(c, sizeof c, "%s/noext", dir);
  make_spe3(a, 2, 0, 0);
  size_t n;
  unsigned char *bytes = test_slurp(a, &n);
  spit(b, bytes, n);
  spit(c, bytes, n);
  free(bytes);
  const char *paths[] = {a, b, c};
  for (int i = 0; i < 3; i++) {
    const char *name = NULL;
    cs_error err;
    STATUS_EQ(cs_format_detect(paths[i], &name, &err), CS_OK, EP(&err));
    assert_string_equal(name, "spe");
    cs_dataset *ds = test_read_ok(paths[i], NULL);
    assert_int_equal(cs_dataset_count(ds), 6);
    DBL_NEAR(cs_spectrum_y(cs_dataset_get(ds, 5))[2], 1112, 0);
    cs_dataset_free(ds);
  }
  /* a text file named .spe is not claimed by content */
  char t[512];
  snprintf(t, sizeof t, "%s/text.spe", dir);
  char junk[5000];
  memset(junk, 'a', sizeof junk);
  spit(t, junk, sizeof junk);
  cs_dataset *ds = NULL;
  cs_error err;
  assert_int_not_equal(cs_dataset_read(t, NULL, &ds, &err), CS_OK);
  assert_null(ds);
}

/* Header claims that do not fit the file are refused with a message. */
static void inconsistent_headers(void **state) {
  (void)state;
  char path[512];
  snprintf(path, sizeof path, "%s/bad.spe", test_tmpdir());
  size_t n = make_spe3(path, 3, 0, 0);
  unsigned char *good = test_slurp(path, &n), *b = malloc(n + 1);
  assert_non_null(b);
  b[n] = 0;
  cs_dataset *ds;
  cs_error err;
  struct {
    const char *what, *from, *to, *msg;
  } cases[] = {
      {"frame count beyond the footer", "count=\"3\"", "count=\"4\"",
       "do not fit before the footer"},
      {"unknown pixel format", "MonochromeUnsigned16", "MonochromeUnsigned17",
       "unknown pixel format"},
      {"region size mismatch", "width=\"4\" height=\"1\" size=\"8\"",
       "width=\"5\" height=\"1\" size=\"8\"", "does not match"},
      {"mapping beyond the calibration", "x=\"2\" y=\"1\"", "x=\"5\" y=\"1\"",
       "wavelength calibration has 10 values"},
      {"metadata larger than the gap", "stride=\"36\"", "stride=\"30\"",
       "does not fit between"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    memcpy(b, good, n);
    char *p = strstr(footer_of(b), cases[i].from);
    assert_non_null(p);
    assert_int_equal(strlen(cases[i].from), strlen(cases[i].to));
    memcpy(p, cases[i].to, strlen(cases[i].to));
    spit(path, b, n);
    ds = (cs_dataset *)1;
    STATUS_EQ(cs_dataset_read(path, "spe", &ds, &err), CS_ERR_MALFORMED, EP(&err));
    assert_null(ds);
    if (!strstr(err.msg, cases[i].msg))
      fail_msg("%s: message '%s' lacks '%s'", cases[i].what, err.msg,
               cases[i].msg);
  }
  /* footer offset past the end of the file */
  memcpy(b, good, n);
  put64(b + 678, n + 10);
  spit(path, b, n);
  STATUS_EQ(cs_dataset_read(path, "spe", &ds, &err), CS_ERR_MALFORMED, EP(&err));
  assert_non_null(strstr(err.msg, "outside the file"));
  free(good);
  free(b);
}

/* A NaN pixel in a Floating32 file is refused where it is found. */
static void nan_pixel_rejected(void **state) {
  (void)state;
  SHARED_OR_SKIP(src, "formats/spe/spe_format_3.0.SPE");
  size_t n;
  unsigned char *b = test_slurp(src, &n);
  put32(b + 4100 + 4 * 17, 0x7fc00000u); /* quiet NaN at pixel 17 */
  char path[512];
  snprintf(path, sizeof path, "%s/nan.spe", test_tmpdir());
  spit(path, b, n);
  cs_dataset *ds;
  cs_error err;
  STATUS_EQ(cs_dataset_read(path, NULL, &ds, &err), CS_ERR_MALFORMED, EP(&err));
  assert_non_null(strstr(err.msg, "non-finite pixel value"));
  assert_non_null(strstr(err.msg, "pixel 17"));
  free(b);
}

/* Truncation anywhere and single-byte corruption never crash; they give
 * CS_ERR_MALFORMED (truncation always) or, for harmless flips, CS_OK. */
static void truncation_and_flips(void **state) {
  (void)state;
  const char *dir = test_tmpdir();
  char syn[512], cut[600];
  snprintf(syn, sizeof syn, "%s/syn.spe", dir);
  snprintf(cut, sizeof cut, "%s/cut.spe", dir);
  make_spe3(syn, 3, 4, 0);
  const char *rel[] = {"formats/spe/Testfile_Single_SPE3.spe",
                       "formats/spe/S0N_50x.spe",
                       "formats/spe/spe_format_3.0.SPE",
                       "formats/spe/file_v2.spe"};
  char paths[5][4096];
  size_t np = 0;
  snprintf(paths[np++], sizeof paths[0], "%s", syn);
  for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
    const char *p = shared_path(rel[i]);
    if (p)
      snprintf(paths[np++], sizeof paths[0], "%s", p);
  }
  uint32_t rng = 12345;
  for (size_t fi = 0; fi < np; fi++) {
    size_t n;
    unsigned char *orig = test_slurp(paths[fi], &n), *b = malloc(n);
    assert_non_null(b);
    size_t foot = u64(orig + 678);
    size_t cuts[] = {0, 1, 100, 678, 1992, 2999, 4099, 4100, 4101,
                     (n + 4100) / 2, foot, foot + 1, foot + 200, n - 10, n - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
      if (cuts[k] >= n)
        continue;
      spit(cut, orig, cuts[k]);
      cs_dataset *ds = (cs_dataset *)1;
      cs_error err;
      cs_status st = cs_dataset_read(cut, "spe", &ds, &err);
      if (st != CS_ERR_MALFORMED)
        fail_msg("%s cut at %zu: %s (%s)", paths[fi], cuts[k], cs_strerror(st),
                 err.msg);
      assert_null(ds);
      assert_true(err.msg[0] != '\0');
    }
    for (int t = 0; t < 300; t++) {
      memcpy(b, orig, n);
      rng = rng * 1103515245u + 12345u;
      size_t pos = (rng >> 8) % n;
      /* bias towards the header and the footer, where the structure is */
      if (t % 3 == 0)
        pos = pos % 4100;
      else if (t % 3 == 1 && foot > 4100 && foot < n)
        pos = foot + pos % (n - foot);
      rng = rng * 1103515245u + 12345u;
      b[pos] ^= (unsigned char)(1 + (rng >> 16) % 255);
      spit(cut, b, n);
      cs_dataset *ds = NULL;
      cs_error err;
      cs_status st = cs_dataset_read(cut, "spe", &ds, &err);
      /* WinSpec files with several ROIs are refused as unsupported: a flip
       * of NumROI (@1510) may legitimately ask for that. */
      int v2_roi = st == CS_ERR_UNSUPPORTED && pos >= 1510 && pos < 1512 &&
                   strstr(err.msg, "regions of interest");
      if (st != CS_OK && st != CS_ERR_MALFORMED && !v2_roi)
        fail_msg("%s flip at %zu: %s (%s)", paths[fi], pos, cs_strerror(st),
                 err.msg);
      cs_dataset_free(ds);
    }
    free(orig);
    free(b);
  }
}

/* 2000 frames of 20 pixel bytes, each followed by 64 KiB of padding: the
 * file is ~131 MB (sparse on disk) while the spectra need ~3 MB.  Reading it
 * whole would raise the peak RSS by the file size; streaming must not. */
static void large_file_bounded_memory(void **state) {
  (void)state;
  char path[512];
  snprintf(path, sizeof path, "%s/big.spe", test_tmpdir());
  const size_t nframes = 2000;
  size_t n = make_spe3(path, nframes, 65536, 1);
  assert_true(n > 130u * 1000 * 1000);
  /* after a reset the high-water mark is the current RSS */
  int reset = test_reset_peak();
  long before = test_peak_kb();
  cs_dataset *ds = test_read_ok(path, NULL);
  long grown_kb = test_peak_kb() - before;
  print_message("large SPE: %zu bytes, %zu spectra, peak RSS grew %ld kB%s\n",
                n, cs_dataset_count(ds), grown_kb,
                reset ? "" : " (lifetime peak)");
  assert_int_equal(cs_dataset_count(ds), 3 * nframes);
  const cs_spectrum *last = cs_dataset_get(ds, 3 * nframes - 1);
  /* frame 1999, roi 1, row 1, col 2: 1000*1999 + 112 mod 2^16 */
  DBL_NEAR(cs_spectrum_y(last)[2], (double)((1000u * 1999u + 112u) & 0xffffu),
           0);
  assert_string_equal(meta(last, "spe.frame"), "1999");
  cs_dataset_free(ds);
  if (grown_kb * 1024 > (long)(n / 4))
    fail_msg("peak RSS grew by %ld kB reading a %zu-byte file", grown_kb, n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      /* first, while the process is small */
      cmocka_unit_test(large_file_bounded_memory),
      cmocka_unit_test(single_spe3_matches_result_txt),
      cmocka_unit_test(s0n_silicon_peak),
      cmocka_unit_test(spe_format_30_footer),
      cmocka_unit_test(multiple_rois),
      cmocka_unit_test(legacy_v2),
      cmocka_unit_test(synthetic_stride_rois_binning),
      cmocka_unit_test(sniff_ignores_name),
      cmocka_unit_test(inconsistent_headers),
      cmocka_unit_test(nan_pixel_rejected),
      cmocka_unit_test(truncation_and_flips),
  };
  return cmocka_run_group_tests_name("spe", tests, NULL, NULL);
}
