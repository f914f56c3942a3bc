/* test_csv.c: the delimited-text reader and calcspec's CSV writer.
 * Conformance expectations (point counts, first/last x and y) were read from
 * each file's own text with a few lines of Python (split the lines, take the
 * columns the README names); they are not calcspec output. */
#include "testutil.h"

#include "internal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---- */

static cs_dataset *read_text(const char *name, const char *text) {
  const char *p = test_write_tmp(name, text, strlen(text));
  cs_dataset *ds;
  cs_error err;
  STATUS_EQ(cs_dataset_read(p, "csv", &ds, &err), CS_OK, &err);
  return ds;
}

static cs_status read_status_n(const char *text, size_t n, cs_error *err) {
  const char *p = test_write_tmp("bad.csv", text, n);
  cs_dataset *ds = (cs_dataset *)1;
  cs_status st = cs_dataset_read(p, "csv", &ds, err);
  if (st) {
    assert_null(ds);
    assert_true(strlen(err->msg) > 0);
  }
  cs_dataset_free(ds);
  return st;
}

static cs_status read_status(const char *text, cs_error *err) {
  return read_status_n(text, strlen(text), err);
}

/* ---- conformance: every sample file ---- */

typedef struct conf {
  const char *rel;
  size_t nspec, n;
  double x0, xn, y0, yn; /* first/last x; first/last y of spectrum 0 */
} conf;

static const conf conform[] = {
    {"formats/csv/IR.CSV", 1, 3736, 399.1926, 4000.605, -0.09079, -0.09079},
    {"formats/other_txt/PST02_Zolix785_Probe_070_190ms.txt", 1, 2095, -241.82188966676, 3245.8072956866135, 0.0, 0.0},
    {"formats/horiba_labspec/PST10_iR785_OP01_8000msx8.txt", 1, 1024, 168.216, 3281.89, 2152.87, 1024.38},
    {"formats/horiba_labspec_txt/532nm-191216-Si_200mu.txt", 1, 1024, 46.6417, 1754.52, 37.0, 19.0},
    {"formats/horiba_labspec_txt/LiNbWO6-0-H.txt", 1, 1024, 12.5879, 1726.52, 204.469, 147.901},
    {"formats/horiba_labspec_txt/SMC1-Initial_RT.txt", 1, 1024, 12.5534, 1726.5, 821.0, 643.0},
    {"formats/horiba_labspec_txt/lasertest1.txt", 3, 1024, 83.7234, 1786.15, -4.05818, 12.3297}, /* map: y of the first row */
    {"formats/bwtek/PST02_iRPlus785_Z050_075_3200ms.txt", 1, 1743, -42.14, 3000.64, 12.0, 36.0},
    {"formats/bwtek/PST10_iR532_Probe_100_3000msx7.txt", 1, 1801, 145.99, 4010.28, 5655.2857, 655.4286},
    {"formats/other_txt/PST_532nm_EZI860.txt", 3, 2048, -1108.7552434383913, 4744.7110501634315, 1011.0, 1335.0},
    {"formats/other_txt/polystyrene_aritficially_worsened.tsv", 1, 2290, 100.0, 2389.0, 4.53, -0.0},
    {"formats/ocean_txt/OOusb4000.txt", 1, 3648, 178.65, 888.37, 0.0, -12.792},
    {"formats/ocean_txt/OceanView.txt", 1, 2389, 187.92, 2116.5, 18.995, 4.6991},
    {"formats/ocean_txt/jazspec.jaz", 4, 2048, 190.8535, 886.439331, 0.0, 1193.673218},
    {"minerals/bone_tissue_ftir/1228M1.csv", 1, 1201, 2000.0, 800.0, 0.0699, 0.1958},
    {"minerals/bone_tissue_ftir/1228M2.csv", 1, 1201, 2000.0, 800.0, 0.0488, 0.2282},
    {"minerals/bone_tissue_ftir/1228M3.csv", 1, 1201, 2000.0, 800.0, 0.0187, 0.1831},
    {"minerals/bone_tissue_ftir/656F1.csv", 1, 1201, 2000.0, 800.0, 0.0222, 0.2355},
    {"minerals/bone_tissue_ftir/656F2.csv", 1, 1201, 2000.0, 800.0, 0.026, 0.2664},
    {"minerals/bone_tissue_ftir/656F3.csv", 1, 1201, 2000.0, 800.0, 0.0216, 0.2493},
    {"minerals/collagen/ramanbiolib_collagen_example.csv", 1, 1351, 450.0, 1800.0, 0.034074625524620615, 0.05912556961098459},
};

static void conformance(void **state) {
  (void)state;
  SHARED_OR_SKIP(root, "formats");
  (void)root;
  for (size_t i = 0; i < sizeof conform / sizeof *conform; i++) {
    const conf *c = &conform[i];
    const char *p = shared_path(c->rel);
    assert_non_null(p);
    cs_dataset *ds;
    cs_error err;
    cs_status st = cs_dataset_read(p, "csv", &ds, &err);
    if (st)
      fail_msg("%s: %s", c->rel, err.msg);
    if (cs_dataset_count(ds) != c->nspec)
      fail_msg("%s: %zu spectra, want %zu", c->rel, cs_dataset_count(ds),
               c->nspec);
    print_message("  %s: %zu x %zu points\n", c->rel, c->nspec, c->n);
    test_expect_ends(cs_dataset_get(ds, 0), c->n, c->x0, c->xn, c->y0, c->yn);
    cs_dataset_free(ds);
  }
}

typedef struct rruff {
  const char *rel, *name, *id;
  size_t n;
  double x0, xn, y1, ynm1; /* first/last x; second and last-but-one y */
} rruff;

static const rruff rruffs[] = {
    {"minerals/aragonite/Aragonite__R040078__Raman__532__0__unoriented__Raman_Data_Processed__15664.txt", "Aragonite", "R040078", 2434, 124.4572, 1297.447, 13.34219, 3.55957},
    {"minerals/brushite/Brushite__R070554__Raman__532__0__unoriented__Raman_Data_Processed__22917.txt", "Brushite", "R070554", 2429, 135.1555, 1305.735, 3.608398, 43.82812},
    {"minerals/brushite/Brushite__R070554__Raman__785__0__unoriented__Raman_Data_Processed__22919.txt", "Brushite", "R070554", 2323, 162.9936, 1282.469, 1.337891, 13.0769},
    {"minerals/calcite/Calcite__R040070__Raman__532__0__unoriented__Raman_Data_Processed__15330.txt", "Calcite", "R040070", 2406, 128.7962, 1288.286, 6.90332, 14.53418},
    {"minerals/calcite/Calcite__R040070__Raman__785__0__unoriented__Raman_Data_Processed__15334.txt", "Calcite", "R040070", 2347, 131.7538, 1262.799, 0.001282, 2.072174},
    {"minerals/chlorapatite/Chlorapatite__R060192__Raman__780__0__unoriented__Raman_Data_Processed__31943.txt", "Chlorapatite", "R060192", 2434, 113.108, 1286.098, 0.082203001, 0.880434},
    {"minerals/dolomite/Dolomite__R040030__Raman__532__0__unoriented__Raman_Data_Processed__26339.txt", "Dolomite", "R040030", 2410, 126.1902, 1287.609, 0.470551, 1.715149},
    {"minerals/fluorapatite/Fluorapatite__R040098__Raman__532__0__unoriented__Raman_Data_Processed__15709.txt", "Fluorapatite", "R040098", 2321, 178.9366, 1297.447, 30.76758, 0.53125},
    {"minerals/fluorapatite/Fluorapatite__R050122__Raman__514__0__unoriented__Raman_Data_Processed__10116.txt", "Fluorapatite", "R050122", 899, 100.34, 1267.233, 1.55, 0.109},
    {"minerals/fluorapatite/Fluorapatite__R050122__Raman__532__0__unoriented__Raman_Data_Processed__27114.txt", "Fluorapatite", "R050122", 2400, 135.7706, 1292.368, 103.8486, 15.48828},
    {"minerals/fluorapatite/Fluorapatite__R050122__Raman__780__0__unoriented__Raman_Data_Processed__27110.txt", "Fluorapatite", "R050122", 2291, 114.3488, 1218.395, 13.76477, 0.626953},
    {"minerals/hydroxylapatite/Hydroxylapatite__R050512__Raman__780__0__unoriented__Raman_Data_Processed__32092.txt", "Hydroxylapatite", "R050512", 2439, 110.6974, 1286.098, 1.069153, 0.161621},
    {"minerals/merrillite/Merrillite__R150063__Raman__532__0__unoriented__Raman_Data_Processed__38366.txt", "Merrillite", "R150063", 2515, 89.7832, 1301.825, 0.601837, 0.454163},
    {"minerals/merrillite/Merrillite__R150063__Raman__780__0__unoriented__Raman_Data_Processed__38371.txt", "Merrillite", "R150063", 2106, 90.5957, 1105.451, 7.066603, 0.577713},
    {"minerals/struvite/Struvite__R050511__Raman__785__0__unoriented__Raman_Data_Processed__13286.txt", "Struvite", "R050511", 2282, 166.847, 1266.555, 8.006836, 8.740234},
    {"minerals/struvite/Struvite__R050540__Raman__532__0__unoriented__Raman_Data_Processed__32257.txt", "Struvite", "R050540", 2402, 145.8874, 1303.449, 27.17578, 0.484375},
    {"minerals/struvite/Struvite__R050540__Raman__780__0__unoriented__Raman_Data_Processed__32259.txt", "Struvite", "R050540", 2476, 92.85907, 1286.098, 14.0166, 0.861572},
    {"minerals/weddellite/Weddellite__R050242__Raman__780__0__unoriented__Raman_Data_Processed__28102.txt", "Weddellite", "R050242", 2189, 231.2031, 1286.074, 4.681152, 1.258057},
    {"minerals/whewellite/Whewellite__R050240__Raman__514__0__unoriented__Raman_Data_Processed__10644.txt", "Whewellite", "R050240", 1148, 52.866, 1523.813, 70.847, 188.005},
    {"minerals/whewellite/Whewellite__R050240__Raman__532__0__unoriented__Raman_Data_Processed__24364.txt", "Whewellite", "R050240", 2368, 151.4649, 1292.635, 128.957, 0.570313},
    {"minerals/whewellite/Whewellite__R050240__Raman__780__0__unoriented__Raman_Data_Processed__24366.txt", "Whewellite", "R050240", 2358, 142.665, 1279.014, 1.304688, 22.8125},
    {"minerals/whitlockite/Whitlockite__R070675__Raman__532__0__unoriented__Raman_Data_Processed__24426.txt", "Whitlockite", "R070675", 2411, 117.7167, 1279.618, 9.670776, 23.57776},
    {"minerals/whitlockite/Whitlockite__R070675__Raman__780__0__unoriented__Raman_Data_Processed__24424.txt", "Whitlockite", "R070675", 2359, 124.3446, 1261.176, 2.714355, 4.816162},
};

static void rruff_minerals(void **state) {
  (void)state;
  SHARED_OR_SKIP(root, "minerals");
  (void)root;
  for (size_t i = 0; i < sizeof rruffs / sizeof *rruffs; i++) {
    const rruff *r = &rruffs[i];
    const char *p = shared_path(r->rel);
    assert_non_null(p);
    cs_dataset *ds;
    cs_error err;
    const char *fmt;
    /* detected by content: the ##NAMES=/##RRUFFID= header */
    STATUS_EQ(cs_format_detect(p, &fmt, &err), CS_OK, &err);
    assert_string_equal(fmt, "csv");
    STATUS_EQ(cs_dataset_read(p, NULL, &ds, &err), CS_OK, &err);
    assert_int_equal(cs_dataset_count(ds), 1);
    const cs_spectrum *s = cs_dataset_get(ds, 0);
    size_t n = cs_spectrum_n(s);
    assert_int_equal(n, r->n);
    DBL_NEAR(cs_spectrum_x(s)[0], r->x0, 0);
    DBL_NEAR(cs_spectrum_x(s)[n - 1], r->xn, 0);
    DBL_NEAR(cs_spectrum_y(s)[1], r->y1, 0);
    DBL_NEAR(cs_spectrum_y(s)[n - 2], r->ynm1, 0);
    assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
    assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
    /* the laser is only in the file name: never taken from there */
    assert_true(isnan(cs_spectrum_laser_nm(s)));
    assert_string_equal(cs_spectrum_meta(s, CS_META_TITLE), r->name);
    assert_string_equal(cs_spectrum_meta(s, CS_META_SAMPLE_ID), r->id);
    assert_non_null(cs_spectrum_meta(s, "text.IDEAL CHEMISTRY"));
    cs_dataset_free(ds);
  }
}

/* ---- header metadata of real files (values read from their headers) ---- */

static cs_dataset *read_shared(const char *rel) {
  const char *p = shared_path(rel);
  if (!p)
    return NULL;
  cs_dataset *ds;
  cs_error err;
  STATUS_EQ(cs_dataset_read(p, "csv", &ds, &err), CS_OK, &err);
  return ds;
}

#define META_EQ(s, key, want)                                                  \
  do {                                                                         \
    const char *v_ = cs_spectrum_meta((s), (key));                             \
    if (!v_ || strcmp(v_, (want)))                                             \
      fail_msg("meta %s = '%s', want '%s'", (key), v_ ? v_ : "(unset)",        \
               (want));                                                        \
  } while (0)

static void labspec_header(void **state) {
  (void)state;
  cs_dataset *ds = read_shared("formats/horiba_labspec_txt/SMC1-Initial_RT.txt");
  if (!ds)
    skip();
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  /* #Laser=\t532nm_Edge, #Acq. time (s)=\t120, #Accumulations=\t2 */
  DBL_NEAR(cs_spectrum_laser_nm(s), 532, 0);
  DBL_NEAR(cs_spectrum_exposure_s(s), 120, 0);
  assert_int_equal(cs_spectrum_accumulations(s), 2);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  META_EQ(s, CS_META_INSTRUMENT, "LabRAM HR Evol");
  META_EQ(s, CS_META_TITLE, "D_1");
  META_EQ(s, CS_META_ACQUIRED, "14.02.2019 10:03:18");
  /* Latin-1 key bytes: "#Detector temperature (\xB0C)=", "#X (\xB5m)=" */
  META_EQ(s, "text.Detector temperature (degC)", "-60.1");
  META_EQ(s, "text.X (um)", "-1.8");
  META_EQ(s, "text.Spectro (cm-1)", "909.972");
  /* "#Range=" appears twice */
  META_EQ(s, "text.Range", "Off");
  META_EQ(s, "text.Range.2", "Visible");
  cs_dataset_free(ds);

  /* the header-less twin of the .l6s: no hint, so no axis */
  ds = read_shared("formats/horiba_labspec/PST10_iR785_OP01_8000msx8.txt");
  assert_int_equal(cs_spectrum_axis(cs_dataset_get(ds, 0)), CS_AXIS_UNKNOWN);
  assert_true(isnan(cs_spectrum_laser_nm(cs_dataset_get(ds, 0))));
  cs_dataset_free(ds);
}

static void labspec_map(void **state) {
  (void)state;
  cs_dataset *ds = read_shared("formats/horiba_labspec_txt/lasertest1.txt");
  if (!ds)
    skip();
  assert_int_equal(cs_dataset_count(ds), 3);
  for (size_t i = 0; i < 3; i++) {
    const cs_spectrum *s = cs_dataset_get(ds, i);
    char want[8];
    snprintf(want, sizeof want, "%zu", i + 1);
    META_EQ(s, "text.coordinates", want); /* one row label: AxisType[2]=Points */
    DBL_NEAR(cs_spectrum_laser_nm(s), 532, 0); /* "#Laser (nm)=\t532 " */
    DBL_NEAR(cs_spectrum_exposure_s(s), 60, 0);
    assert_int_equal(cs_spectrum_accumulations(s), 2);
    assert_int_equal(cs_spectrum_quantity(s), CS_Q_COUNTS); /* AxisUnit[0]=Cnt */
    assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
    assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  }
  DBL_NEAR(cs_spectrum_y(cs_dataset_get(ds, 2))[0], -12.8195, 0);
  DBL_NEAR(cs_spectrum_y(cs_dataset_get(ds, 1))[0], 342.509, 0);
  cs_dataset_free(ds);
}

static void bwtek_header(void **state) {
  (void)state;
  cs_dataset *ds = read_shared("formats/bwtek/PST10_iR532_Probe_100_3000msx7.txt");
  if (!ds)
    skip();
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  DBL_NEAR(cs_spectrum_laser_nm(s), 532.02, 0);   /* laser_wavelength;532,02 */
  DBL_NEAR(cs_spectrum_exposure_s(s), 3.0, 1e-15); /* intigration times(ms);3000 */
  assert_int_equal(cs_spectrum_accumulations(s), 7); /* average number;7 */
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  META_EQ(s, CS_META_INSTRUMENT, "BWS415-532S");
  META_EQ(s, CS_META_ACQUIRED, "2022-01-21 11:52:01");
  META_EQ(s, "text.column", "Dark Subtracted #1");
  META_EQ(s, "text.coefs_a0", "526,750302440931");
  cs_dataset_free(ds);
}

static void ocean_headers(void **state) {
  (void)state;
  cs_dataset *ds = read_shared("formats/ocean_txt/OOusb4000.txt");
  if (!ds)
    skip();
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  DBL_NEAR(cs_spectrum_exposure_s(s), 0.02, 1e-15); /* 20000 usec */
  assert_int_equal(cs_spectrum_accumulations(s), 50);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_UNKNOWN);
  META_EQ(s, CS_META_INSTRUMENT, "USB4A00428");
  META_EQ(s, CS_META_ACQUIRED, "Mon Jan 14 17:36:35 GMT 2008");
  cs_dataset_free(ds);

  ds = read_shared("formats/ocean_txt/OceanView.txt");
  s = cs_dataset_get(ds, 0);
  DBL_NEAR(cs_spectrum_exposure_s(s), 0.02, 1e-15); /* 2.000000E-2 sec */
  assert_int_equal(cs_spectrum_accumulations(s), 10);
  META_EQ(s, CS_META_INSTRUMENT, "USB2+H09794");
  cs_dataset_free(ds);

  /* Jaz: columns W D R S P, one spectrum per y column */
  ds = read_shared("formats/ocean_txt/jazspec.jaz");
  const char *cols[] = {"D", "R", "S", "P"};
  for (size_t i = 0; i < 4; i++)
    META_EQ(cs_dataset_get(ds, i), "text.column", cols[i]);
  s = cs_dataset_get(ds, 3);
  DBL_NEAR(cs_spectrum_y(s)[2], -18.181818, 0);
  DBL_NEAR(cs_spectrum_y(s)[cs_spectrum_n(s) - 1], 13.679238, 0);
  DBL_NEAR(cs_spectrum_exposure_s(s), 0.024, 1e-15);
  cs_dataset_free(ds);
}

static void other_headers(void **state) {
  (void)state;
  cs_dataset *ds = read_shared("formats/other_txt/PST_532nm_EZI860.txt");
  if (!ds)
    skip();
  const char *cols[] = {"Raw_Data", "Background_Data", "Processed_Data"};
  for (size_t i = 0; i < 3; i++) {
    const cs_spectrum *s = cs_dataset_get(ds, i);
    META_EQ(s, "text.column", cols[i]);
    DBL_NEAR(cs_spectrum_laser_nm(s), 532, 0); /* wl,532nm */
    assert_int_equal(cs_spectrum_accumulations(s), 10);
    assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
    META_EQ(s, CS_META_TITLE, "PST_532nm_EZI860");
    META_EQ(s, CS_META_ACQUIRED, "2022-07-19 16:13:53");
    META_EQ(s, "text.integ_time", "15000"); /* no unit given: kept as text */
  }
  const cs_spectrum *p = cs_dataset_get(ds, 2);
  DBL_NEAR(cs_spectrum_y(p)[0], -5, 0);
  DBL_NEAR(cs_spectrum_y(p)[2047], 18, 0);
  cs_dataset_free(ds);

  ds = read_shared("formats/other_txt/polystyrene_aritficially_worsened.tsv");
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  DBL_NEAR(cs_spectrum_laser_nm(s), 785, 0);
  DBL_NEAR(cs_spectrum_exposure_s(s), 0.111, 1e-15); /* Exposure_ms 111 */
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_UNKNOWN); /* no axis named */
  META_EQ(s, "text.RepetitionCount", "5");
  META_EQ(s, "text.Tags", "");
  cs_dataset_free(ds);

  ds = read_shared("minerals/bone_tissue_ftir/1228M1.csv");
  s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVENUMBER); /* "cm-1" */
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_ABSORBANCE); /* "A" */
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_FTIR);
  cs_dataset_free(ds);

  ds = read_shared("formats/csv/IR.CSV");
  assert_int_equal(cs_spectrum_axis(cs_dataset_get(ds, 0)), CS_AXIS_UNKNOWN);
  cs_dataset_free(ds);
}

static void not_spectra(void **state) {
  (void)state;
  SHARED_OR_SKIP(note, "minerals/LICENSE_rruff_note.txt");
  cs_dataset *ds;
  cs_error err;
  /* prose, no table of numbers */
  STATUS_EQ(cs_dataset_read(note, "csv", &ds, &err), CS_ERR_MALFORMED, &err);
  assert_non_null(strstr(err.msg, "no table of numbers"));
  /* a binary SPC forced through the text reader */
  const char *spc = shared_path("formats/bwtek/PST10_iR532_Probe_100_3000msx7.spc");
  assert_non_null(spc);
  STATUS_EQ(cs_dataset_read(spc, "csv", &ds, &err), CS_ERR_MALFORMED, &err);
}

/* ---- synthetic files: separators, decimals, headers ---- */

static void check2(cs_dataset *ds, double x0, double y0, double x2,
                   double y2) {
  assert_int_equal(cs_dataset_count(ds), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_n(s), 3);
  DBL_NEAR(cs_spectrum_x(s)[0], x0, 0);
  DBL_NEAR(cs_spectrum_y(s)[0], y0, 0);
  DBL_NEAR(cs_spectrum_x(s)[2], x2, 0);
  DBL_NEAR(cs_spectrum_y(s)[2], y2, 0);
  cs_dataset_free(ds);
}

static void separators(void **state) {
  (void)state;
  check2(read_text("a.csv", "100.5,1\n101.5,2\n102.5,3e2\n"), 100.5, 1, 102.5,
         300);
  check2(read_text("b.csv", "100.5;1\r\n101.5;2\r\n102.5;3\r\n"), 100.5, 1,
         102.5, 3);
  check2(read_text("c.txt", "100.5\t-1\n101.5\t2\n102.5\t3.25\n"), 100.5, -1,
         102.5, 3.25);
  check2(read_text("d.dat", "  100.5   1\n  101.5   2\n  102.5   3\n"), 100.5,
         1, 102.5, 3);
  /* decimal commas with ';', tab or blanks between columns */
  check2(read_text("e.csv", "532,02;1,5\n533,02;2,5\n534,02;-3,5\n"), 532.02,
         1.5, 534.02, -3.5);
  check2(read_text("f.txt", "532,02\t1,5\n533,02\t2,5\n534,02\t3,5\n"), 532.02,
         1.5, 534.02, 3.5);
  check2(read_text("g.txt", "532,02 1,5\n533,02 2,5\n534,02 3,5\n"), 532.02,
         1.5, 534.02, 3.5);
  /* old Mac line ends, blank lines, a final line without newline */
  check2(read_text("h.txt", "1 2\r\r3 4\r5 6"), 1, 2, 5, 6);
  /* quoted titles, ", " after values (RRUFF style) */
  check2(read_text("i.csv", "\"Raman Shift\",\"Intensity\"\n1, 2\n3, 4\n5, 6\n"),
         1, 2, 5, 6);
}

static void titles_and_matrix(void **state) {
  (void)state;
  cs_dataset *ds = read_text(
      "m.csv", "Wavelength (nm),sample A,sample B\n500,1,10\n501,2,20\n");
  assert_int_equal(cs_dataset_count(ds), 2);
  const cs_spectrum *a = cs_dataset_get(ds, 0), *b = cs_dataset_get(ds, 1);
  META_EQ(a, "text.column", "sample A");
  META_EQ(b, "text.column", "sample B");
  assert_int_equal(cs_spectrum_axis(a), CS_AXIS_WAVELENGTH_NM);
  DBL_NEAR(cs_spectrum_y(b)[1], 20, 0);
  cs_dataset_free(ds);

  /* x named after the y columns: Raman shift wins, axis columns are no
   * spectra; blank x cells skip the row (BWSpec's uncalibrated pixels) */
  ds = read_text("n.csv", "Pixel;Wavelength;Raman Shift;Counts;\n"
                          "0;;;5;\n1;500,5;100,25;7;\n2;501,5;101,5;9;\n");
  assert_int_equal(cs_dataset_count(ds), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_n(s), 2);
  DBL_NEAR(cs_spectrum_x(s)[0], 100.25, 0);
  DBL_NEAR(cs_spectrum_y(s)[1], 9, 0);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_COUNTS);
  assert_int_equal(cs_spectrum_technique(s), CS_TECH_RAMAN);
  cs_dataset_free(ds);

  /* a bare cm-1 is a Raman shift once a laser is known */
  ds = read_text("o.csv", "laser wavelength (nm),785\ncm-1,I\n1,2\n3,4\n");
  assert_int_equal(cs_spectrum_axis(cs_dataset_get(ds, 0)),
                   CS_AXIS_RAMAN_SHIFT);
  DBL_NEAR(cs_spectrum_laser_nm(cs_dataset_get(ds, 0)), 785, 0);
  cs_dataset_free(ds);
}

static void latin1_and_rruff_markup(void **state) {
  (void)state;
  cs_dataset *ds = read_text(
      "l.txt", "#Detector temperature (\xB0" "C)=\t-60\n#Remark=\tna\xEFve\n"
               "#Laser=\t633nm\n10\t1\n20\t2\n");
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  META_EQ(s, "text.Detector temperature (degC)", "-60");
  META_EQ(s, "text.Remark", "na\xC3\xAFve"); /* Latin-1 -> UTF-8 */
  DBL_NEAR(cs_spectrum_laser_nm(s), 633, 0);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_RAMAN_SHIFT);
  cs_dataset_free(ds);

  ds = read_text("r.txt", "##NAMES=Brushite\n##IDEAL CHEMISTRY=Ca(PO_3_OH)"
                          "&#183;2H_2_O\n##LASER_WAVELENGTH=785\n"
                          "100.5, 0.0000000E+00\n101, 2.5\n##END=\n\n");
  s = cs_dataset_get(ds, 0);
  META_EQ(s, "text.IDEAL CHEMISTRY", "Ca(PO_3_OH)\xC2\xB7" "2H_2_O");
  DBL_NEAR(cs_spectrum_laser_nm(s), 785, 0);
  META_EQ(s, CS_META_TITLE, "Brushite");
  assert_int_equal(cs_spectrum_n(s), 2);
  cs_dataset_free(ds);
}

static void map_positions(void **state) {
  (void)state;
  cs_dataset *ds = read_text("map.txt", "#Laser=\t532nm_Edge\n"
                                        "\t\t100\t200\t300\n"
                                        "-1.5\t2\t1\t2\t3\n"
                                        "0\t2\t4\t5\t6\n");
  assert_int_equal(cs_dataset_count(ds), 2);
  META_EQ(cs_dataset_get(ds, 0), CS_META_POSITION, "-1.5 2");
  META_EQ(cs_dataset_get(ds, 1), CS_META_POSITION, "0 2");
  DBL_NEAR(cs_spectrum_y(cs_dataset_get(ds, 1))[2], 6, 0);
  DBL_NEAR(cs_spectrum_x(cs_dataset_get(ds, 1))[2], 300, 0);
  cs_dataset_free(ds);
}

static void malformed(void **state) {
  (void)state;
  cs_error err;
  assert_int_equal(read_status("1,2\n3,4\n5\n", &err), CS_ERR_MALFORMED);
  assert_non_null(strstr(err.msg, "line 3"));
  assert_int_equal(read_status("1,2\n3,x\n", &err), CS_ERR_MALFORMED);
  assert_non_null(strstr(err.msg, "'x'"));
  assert_int_equal(read_status("1,2\n3,nan\n", &err), CS_ERR_MALFORMED);
  assert_int_equal(read_status("1,2\n3,\n", &err), CS_ERR_MALFORMED);
  assert_int_equal(read_status("1,2\n3,1e999\n", &err), CS_ERR_MALFORMED);
  assert_int_equal(read_status("hello\nworld\n", &err), CS_ERR_MALFORMED);
  assert_int_equal(read_status_n("1,2\n1\0,3\n", 9, &err), CS_ERR_MALFORMED);
  assert_int_equal(read_status("1,2\n2,3\n1,4\n", &err), CS_ERR_MALFORMED);
  /* one number per line: no x axis */
  assert_int_equal(read_status("a\n1\n2\n3\n", &err), CS_ERR_MALFORMED);
  assert_int_equal(read_status("Pixel,Wavelength\n1,2\n2,3\n", &err), CS_OK);
  assert_int_equal(read_status("# calcspec csv 7\nx,y\n1,2\n", &err),
                   CS_ERR_UNSUPPORTED);
  assert_int_equal(read_status("# calcspec csv 1\n# calcspec spectra=2\n"
                               "x,y1\n1,2\n",
                               &err),
                   CS_ERR_MALFORMED);
  assert_int_equal(read_status("# calcspec csv 1\n# calcspec axis=sideways\n"
                               "x,y\n1,2\n",
                               &err),
                   CS_ERR_MALFORMED);
  assert_int_equal(read_status("# calcspec csv 1\n# calcspec meta.a=b\\q\n"
                               "x,y\n1,2\n",
                               &err),
                   CS_ERR_MALFORMED);
  assert_int_equal(read_status("# calcspec csv 1\n# calcspec spectra=1\n"
                               "# calcspec[5] axis=pixel\nx,y\n1,2\n",
                               &err),
                   CS_ERR_MALFORMED);
}

/* ---- writer: bit-exact round trips ---- */

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next_u64(void) { /* xorshift64 */
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* A finite double from random bits (any exponent, subnormals too). */
static double rand_double(void) {
  for (;;) {
    uint64_t u = next_u64();
    double d;
    memcpy(&d, &u, sizeof d);
    if (isfinite(d))
      return d;
  }
}

static cs_spectrum *random_spectrum(const double *x, size_t n) {
  double *y = malloc(n * sizeof *y);
  for (size_t i = 0; i < n; i++)
    y[i] = rand_double();
  y[0] = -0.0;
  if (n > 2)
    y[1] = 1.0 / 3.0, y[2] = 4.9406564584124654e-324;
  cs_spectrum *s;
  cs_error err;
  STATUS_EQ(cs_spectrum_new(x, y, n, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS_PER_S,
                            &s, &err),
            CS_OK, &err);
  free(y);
  return s;
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
  assert_true((isnan(la) && isnan(lb)) || !memcmp(&la, &lb, sizeof la));
  double ea = cs_spectrum_exposure_s(a), eb = cs_spectrum_exposure_s(b);
  assert_true((isnan(ea) && isnan(eb)) || !memcmp(&ea, &eb, sizeof ea));
  assert_int_equal(cs_spectrum_accumulations(a), cs_spectrum_accumulations(b));
  /* every text pair, in order; cs_dataset_read adds source_file/format */
  size_t nb = 0;
  for (size_t i = 0; i < cs_spectrum_meta_count(b); i++) {
    const char *k, *v;
    cs_spectrum_meta_at(b, i, &k, &v);
    if (strcmp(k, CS_META_SOURCE_FILE) && strcmp(k, CS_META_FORMAT))
      nb++;
  }
  assert_int_equal(cs_spectrum_meta_count(a), nb);
  for (size_t i = 0; i < cs_spectrum_meta_count(a); i++) {
    const char *k, *v;
    cs_spectrum_meta_at(a, i, &k, &v);
    const char *w = cs_spectrum_meta(b, k);
    if (!w || strcmp(v, w))
      fail_msg("meta '%s': '%s' came back as '%s'", k, v, w ? w : "(unset)");
  }
}

static void round_trip_file(cs_dataset *ds, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
  cs_error err;
  STATUS_EQ(cs_dataset_write(ds, path, NULL, &err), CS_OK, &err);
  const char *fmt;
  STATUS_EQ(cs_format_detect(path, &fmt, &err), CS_OK, &err);
  assert_string_equal(fmt, "csv");
  cs_dataset *back;
  STATUS_EQ(cs_dataset_read(path, NULL, &back, &err), CS_OK, &err);
  assert_int_equal(cs_dataset_count(back), cs_dataset_count(ds));
  for (size_t i = 0; i < cs_dataset_count(ds); i++)
    same_spectrum(cs_dataset_get(ds, i), cs_dataset_get(back, i));
  cs_dataset_free(back);
}

/* Writing to an existing FIFO (or device) goes into it: the temporary
 * file renamed over it replaced the FIFO with a regular file (as root,
 * `-o /dev/full` replaced /dev/full and reported success).  With no
 * reader it is an error at once, not a wait. */
static void write_into_fifo(void **state) {
  (void)state;
  char path[512];
  snprintf(path, sizeof path, "%s/out.fifo", test_tmpdir());
  unlink(path);
  if (mkfifo(path, 0600) != 0)
    skip();
  double x[3] = {1, 2, 3}, y[3] = {4, 5, 6};
  cs_dataset *ds = NULL;
  cs_error err;
  cs_spectrum *s;
  STATUS_EQ(cs_dataset_new(&ds, &err), CS_OK, &err);
  STATUS_EQ(cs_spectrum_new(x, y, 3, CS_AXIS_RAMAN_SHIFT, CS_Q_COUNTS, &s,
                            &err), CS_OK, &err);
  STATUS_EQ(cs_dataset_push(ds, s, &err), CS_OK, &err);
  STATUS_EQ(cs_dataset_write(ds, path, "csv", &err), CS_ERR_IO, &err);
  assert_non_null(strstr(err.msg, "no reader"));
  int rd = open(path, O_RDONLY | O_NONBLOCK);
  assert_true(rd >= 0);
  STATUS_EQ(cs_dataset_write(ds, path, "csv", &err), CS_OK, &err);
  char buf[4096];
  ssize_t got = read(rd, buf, sizeof buf - 1);
  close(rd);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_true(S_ISFIFO(st.st_mode));
  assert_true(got > 0);
  buf[got] = '\0';
  assert_non_null(strstr(buf, "3,6"));
  unlink(path);
  cs_dataset_free(ds);
}

static void round_trip(void **state) {
  (void)state;
  enum { N = 200 };
  double x[N];
  for (size_t i = 0; i < N; i++)
    x[i] = 100 + 0.1 * (double)i + 1e-13 * (double)(i % 7);
  cs_dataset *ds = NULL;
  STATUS_EQ(cs_dataset_new(&ds, NULL), CS_OK, NULL);
  cs_error err;
  cs_spectrum *s = random_spectrum(x, N);
  cs_spectrum_set_laser_nm(s, 532.02);
  cs_spectrum_set_exposure_s(s, 0.1 + 0.2);
  cs_spectrum_set_accumulations(s, 7);
  cs_spectrum_set_technique(s, CS_TECH_RAMAN);
  STATUS_EQ(cs_spectrum_set_meta(s, CS_META_TITLE, "two\nlines\r\tand \\ tab",
                                 &err),
            CS_OK, &err);
  STATUS_EQ(cs_spectrum_set_meta(s, "k=e\\y #1", " =spaces= ", &err), CS_OK,
            &err);
  STATUS_EQ(cs_spectrum_set_meta(s, "text.Detector temperature (degC)",
                                 "-60 \xC2\xB0" "C", &err),
            CS_OK, &err);
  STATUS_EQ(cs_spectrum_set_meta(s, "empty", "", &err), CS_OK, &err);
  STATUS_EQ(cs_dataset_push(ds, s, &err), CS_OK, &err);
  round_trip_file(ds, "one.csv");
  round_trip_file(ds, "one.tsv");

  /* three spectra on one axis: x,y1,y2,y3 with per-spectrum headers */
  for (int k = 0; k < 2; k++) {
    s = random_spectrum(x, N);
    cs_spectrum_set_axis(s, k ? CS_AXIS_PIXEL : CS_AXIS_WAVELENGTH_NM);
    cs_spectrum_set_quantity(s, k ? CS_Q_ABSORBANCE : CS_Q_REFLECTANCE);
    STATUS_EQ(cs_spectrum_set_meta(s, CS_META_POSITION, k ? "1 2" : "3 4",
                                   &err),
              CS_OK, &err);
    STATUS_EQ(cs_dataset_push(ds, s, &err), CS_OK, &err);
  }
  round_trip_file(ds, "three.csv");

  /* different axes: refused with a clear message */
  double x2[N];
  memcpy(x2, x, sizeof x);
  x2[N - 1] += 1e-9;
  STATUS_EQ(cs_dataset_push(ds, random_spectrum(x2, N), &err), CS_OK, &err);
  char path[512];
  snprintf(path, sizeof path, "%s/four.csv", test_tmpdir());
  STATUS_EQ(cs_dataset_write(ds, path, "csv", &err), CS_ERR_UNSUPPORTED, &err);
  assert_non_null(strstr(err.msg, "spectrum 3"));
  assert_int_equal(access(path, F_OK), -1);
  cs_dataset_free(ds);
}

static void round_trip_real(void **state) {
  (void)state;
  cs_dataset *ds =
      read_shared("formats/horiba_labspec_txt/SMC1-Initial_RT.txt");
  if (!ds)
    skip();
  /* source_file/format are rewritten by cs_dataset_read: drop them */
  cs_spectrum *s = cs_dataset_get_mut(ds, 0);
  cs_error err;
  STATUS_EQ(cs_spectrum_set_meta(s, CS_META_SOURCE_FILE, NULL, &err), CS_OK,
            &err);
  STATUS_EQ(cs_spectrum_set_meta(s, CS_META_FORMAT, NULL, &err), CS_OK, &err);
  round_trip_file(ds, "smc1.csv");
  cs_dataset_free(ds);
}

/* ---- sniffing ---- */

static int sniff_str(const char *s) {
  return csi_reader_csv.sniff((const unsigned char *)s, strlen(s));
}

static void sniffing(void **state) {
  (void)state;
  int plain = sniff_str("1.0,2\n2.0,3\n3.0,4\n4.0,5\n");
  assert_true(plain > 0 && plain <= 20);
  int hdr = sniff_str("key;value\n1;2\n2;3\n3;4\n");
  assert_true(hdr > 0 && hdr <= 20);
  assert_int_equal(sniff_str("<?xml version=\"1.0\"?><AnIML/>\n"), 0);
  assert_int_equal(sniff_str("##TITLE=x\n##JCAMP-DX=4.24\n##XYDATA=(X++(Y..Y))"
                             "\n1 2 3\n2 3 4\n3 4 5\n"),
                   0);
  assert_int_equal(sniff_str("hello world\nnot numbers\n"), 0);
  assert_int_equal(sniff_str("1,2\n3;4\n5\t6\n"), 0);
  int own = sniff_str("# calcspec csv 1\nx,y\n1,2\n");
  int labspec = sniff_str("#Acq. time (s)=\t1\n#Laser=\t532nm\n1\t2\n");
  int rr = sniff_str("##NAMES=Calcite\n##RRUFFID=R040070\n1, 2\n");
  int bw = sniff_str("File Version;BWSpec4.11_1\nDate;2021\n");
  int ocean = sniff_str("Jaz Data File\n>>>>>Begin Processed Spectral Data"
                        "<<<<<\n1\t2\n");
  assert_true(own > 20 && own <= 60);
  assert_true(labspec > 20 && labspec <= 60);
  assert_true(rr > 20 && rr <= 60);
  assert_true(bw > 20 && bw <= 60);
  assert_true(ocean > 20 && ocean <= 60);
}

/* Same bytes under other names: same reader, same result. */
static void name_independent(void **state) {
  (void)state;
  const char *text = "#Laser=\t785nm\n#Acq. time (s)=\t2\n100\t1\n200\t2\n";
  const char *names[] = {"a.txt", "Calcite__R1__Raman__532__x.txt", "b.dat",
                         "noext"};
  for (size_t i = 0; i < 4; i++) {
    const char *p = test_write_tmp(names[i], text, strlen(text));
    const char *fmt;
    cs_error err;
    cs_dataset *ds;
    STATUS_EQ(cs_format_detect(p, &fmt, &err), CS_OK, &err);
    assert_string_equal(fmt, "csv");
    STATUS_EQ(cs_dataset_read(p, NULL, &ds, &err), CS_OK, &err);
    DBL_NEAR(cs_spectrum_laser_nm(cs_dataset_get(ds, 0)), 785, 0);
    DBL_NEAR(cs_spectrum_exposure_s(cs_dataset_get(ds, 0)), 2, 0);
    cs_dataset_free(ds);
  }
}

/* ---- robustness: truncation and bit flips never crash ---- */

static void mangle_file(const char *src, size_t len, size_t step, int flips) {
  char *buf = malloc(len);
  for (size_t cut = 0; cut < len; cut += step) {
    memcpy(buf, src, len);
    size_t n = flips ? len : cut;
    if (flips)
      for (int k = 0; k < flips; k++)
        buf[next_u64() % len] ^= (char)(1u << (next_u64() % 8));
    const char *p = test_write_tmp("mangled.txt", buf, n);
    cs_dataset *ds = (cs_dataset *)1;
    cs_error err;
    cs_status st = cs_dataset_read(p, "csv", &ds, &err);
    if (st == CS_OK) {
      for (size_t i = 0; i < cs_dataset_count(ds); i++)
        assert_true(cs_spectrum_n(cs_dataset_get(ds, i)) >= 1);
    } else {
      assert_null(ds);
      assert_true(st == CS_ERR_MALFORMED || st == CS_ERR_UNSUPPORTED);
      assert_true(strlen(err.msg) > 0);
    }
    cs_dataset_free(ds);
  }
  free(buf);
}

static void robustness(void **state) {
  (void)state;
  const char *own = "# calcspec csv 1\n# calcspec spectra=2\n"
                    "# calcspec[0] axis=raman_shift\n"
                    "# calcspec[1] meta.a\\=b=c\\x0Ad\n"
                    "x,y1,y2\n1,2,3\n2,3,4\n3,4,5\n";
  mangle_file(own, strlen(own), 1, 0);
  mangle_file(own, strlen(own), 1, 2);
  const char *rels[] = {"formats/horiba_labspec_txt/lasertest1.txt",
                        "formats/bwtek/PST02_iRPlus785_Z050_075_3200ms.txt",
                        "formats/ocean_txt/jazspec.jaz"};
  for (size_t i = 0; i < 3; i++) {
    const char *p = shared_path(rels[i]);
    if (!p)
      continue;
    char *buf;
    size_t len;
    cs_error err;
    STATUS_EQ(csi_read_file(p, 1 << 20, &buf, &len, &err), CS_OK, &err);
    mangle_file(buf, len, len / 40 + 1, 0); /* 40 truncations */
    mangle_file(buf, len, len / 25 + 1, 3); /* 25 x 3 bit flips */
    free(buf);
  }
}

/* ---- issue 16/12: text edge cases met in real files ---- */

/* OceanView and SpectraSuite translate their section markers; the marker's
 * shape, not its words, opens and closes the data. */
static void ocean_translated_markers(void **state) {
  (void)state;
  const char *de =
      "Daten aus probe.txt Knoten\nIntegrationszeit (sec): 1.0E-1\n"
      ">>>>>Beginn der verarbeiteten Spektraldaten<<<<<\n"
      "500.0\t10\n500.5\t11\n501.0\t12\n"
      ">>>>>Ende der verarbeiteten Spektraldaten<<<<<\n"
      "Nachtrag: 1\t2\n";
  cs_dataset *ds = read_text("de.txt", de);
  assert_int_equal(cs_dataset_count(ds), 1);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 3, 500, 501, 10, 12);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  cs_dataset_free(ds);
  /* detected as a text spectrum by content, without the reader forced */
  const char *p = test_write_text("de_noext", de);
  ds = test_read_ok(p, NULL);
  assert_int_equal(cs_spectrum_n(cs_dataset_get(ds, 0)), 3);
  cs_dataset_free(ds);

  /* the real OceanView export with its marker translated reads the same */
  const char *real = shared_path("formats/ocean_txt/OOusb4000.txt");
  if (!real)
    return;
  FILE *f = fopen(real, "rb");
  assert_non_null(f);
  static char buf[1 << 20], out[(1 << 20) + 256];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *b = strstr(buf, ">>>>>Begin Processed Spectral Data<<<<<");
  const char *e = strstr(buf, ">>>>>End Processed Spectral Data<<<<<");
  assert_true(b && e && b < e);
  snprintf(out, sizeof out, "%.*s>>>>>Début des données spectrales<<<<<%.*s"
           ">>>>>Fin des données spectrales<<<<<%s",
           (int)(b - buf), buf, (int)(e - b - 39), b + 39, e + 37);
  cs_dataset *fr = test_read_ok(test_write_text("fr.txt", out), NULL);
  cs_dataset *en = test_read_ok(real, NULL);
  test_same_read(en, fr);
  cs_dataset_free(fr);
  cs_dataset_free(en);
}

/* AvaSoft: "Wave" titles over a "[nm]" unit row (blank line before the
 * data), or "Wave [nm]" in one title: the axis is nm, the unit row no
 * key/value header and no spectrum. */
static void avasoft_wave_nm(void **state) {
  (void)state;
  cs_dataset *ds = read_text(
      "ava.txt",
      "Integration time: 100,00 ms\nAverage: 1 scans\n"
      "Data measured with spectrometer name: 0912015U1\n"
      "Wave   ;Sample   ;Dark     \n[nm]   ;[counts] ;[counts] \n\n"
      " 200,095;   1283,333;   1218,667\n"
      " 200,691;   1281,000;   1219,000\n");
  assert_int_equal(cs_dataset_count(ds), 2);
  const cs_spectrum *s = cs_dataset_get(ds, 0);
  test_expect_ends(s, 2, 200.095, 200.691, 1283.333, 1281);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  assert_int_equal(cs_spectrum_quantity(s), CS_Q_COUNTS);
  META_EQ(s, "text.column", "Sample");
  META_EQ(cs_dataset_get(ds, 1), "text.column", "Dark");
  assert_null(cs_spectrum_meta(s, "text.[nm]"));
  cs_dataset_free(ds);

  ds = read_text("ava1.csv", "Wave [nm];Sample [counts]\n400,5;10\n401,0;11\n");
  s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  test_expect_ends(s, 2, 400.5, 401, 10, 11);
  cs_dataset_free(ds);

  /* units without brackets under titles that name the axis */
  ds = read_text("u.csv", "Wavelength,Intensity\nnm,counts\n2,3\n3,4\n");
  s = cs_dataset_get(ds, 0);
  assert_int_equal(cs_spectrum_axis(s), CS_AXIS_WAVELENGTH_NM);
  test_expect_ends(s, 2, 2, 3, 3, 4);
  cs_dataset_free(ds);
}

/* Issue 12: a malformed first data row is an error naming its line, not a
 * title row that turns the file into fewer points; one title row above
 * numbers stays a title row. */
static void malformed_first_row(void **state) {
  (void)state;
  cs_error err;
  STATUS_EQ(read_status("x,y\n1,abc\n2,3\n", &err), CS_ERR_MALFORMED, &err);
  assert_non_null(strstr(err.msg, "line 2: column 2: 'abc'"));
  STATUS_EQ(read_status("Wavelength,Intensity\nfoo,bar\n2,3\n", &err),
            CS_ERR_MALFORMED, &err);
  assert_non_null(strstr(err.msg, "line 2: column 1: 'foo'"));
  STATUS_EQ(read_status("100,abc\n200,2\n300,3\n", &err), CS_ERR_MALFORMED,
            &err);
  assert_non_null(strstr(err.msg, "line 1: column 2: 'abc'"));
  STATUS_EQ(read_status("Raman shift;Counts\n100;n/a\n200;2\n", &err),
            CS_ERR_MALFORMED, &err);
  assert_non_null(strstr(err.msg, "line 2:"));
  /* a header line and one title row are fine */
  cs_dataset *ds = read_text("t.csv", "Title,My sample\nx,y\n1,2\n3,4\n");
  test_expect_ends(cs_dataset_get(ds, 0), 2, 1, 3, 2, 4);
  META_EQ(cs_dataset_get(ds, 0), "text.column", "y");
  cs_dataset_free(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(conformance),     cmocka_unit_test(rruff_minerals),
      cmocka_unit_test(labspec_header),  cmocka_unit_test(labspec_map),
      cmocka_unit_test(bwtek_header),    cmocka_unit_test(ocean_headers),
      cmocka_unit_test(other_headers),   cmocka_unit_test(not_spectra),
      cmocka_unit_test(separators),      cmocka_unit_test(titles_and_matrix),
      cmocka_unit_test(latin1_and_rruff_markup),
      cmocka_unit_test(map_positions),   cmocka_unit_test(malformed),
      cmocka_unit_test(round_trip),      cmocka_unit_test(round_trip_real),
      cmocka_unit_test(sniffing),        cmocka_unit_test(name_independent),
      cmocka_unit_test(robustness),
      cmocka_unit_test(ocean_translated_markers),
      cmocka_unit_test(avasoft_wave_nm),
      cmocka_unit_test(malformed_first_row),
      cmocka_unit_test(write_into_fifo),
  };
  return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
