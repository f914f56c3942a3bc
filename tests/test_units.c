/* test_units.c: the one unit map every reader uses (csi_axis_from_unit),
 * over the spellings vendors write, each with the axis kind and scale a
 * person reads off it. */
#include "testutil.h"

#include "internal.h"

#define R CS_AXIS_RAMAN_SHIFT
#define W CS_AXIS_WAVENUMBER
#define NM CS_AXIS_WAVELENGTH_NM
#define PX CS_AXIS_PIXEL
#define UNK CS_AXIS_UNKNOWN

typedef struct {
  const char *spelling;
  cs_axis in_raman, in_ftir; /* kind in a Raman file, in any other file */
  double factor;             /* to nm / cm^-1 (hc/e for inverse units) */
  int inverse;
} row;

static const row rows[] = {
    /* reciprocal centimetres: the technique decides shift vs absolute */
    {"1/cm", R, W, 1, 0},          {"1/CM", R, W, 1, 0},
    {"1 / cm", R, W, 1, 0},        {"cm-1", R, W, 1, 0},
    {"CM-1", R, W, 1, 0},          {"cm^-1", R, W, 1, 0},
    {"CM^-1", R, W, 1, 0},         {"cm\xE2\x81\xBB\xC2\xB9", R, W, 1, 0},
    {"Wavenumbers", R, W, 1, 0},   {"WAVENUMBER", R, W, 1, 0},
    {"Wavenumber (cm-1)", R, W, 1, 0},
    {"wavenumber [1/cm]", R, W, 1, 0},
    {"1/m", R, W, 0.01, 0},
    /* a Raman shift whatever the technique */
    {"Raman Shift", R, R, 1, 0},   {"RAMAN SHIFT", R, R, 1, 0},
    {"Raman shift (cm-1)", R, R, 1, 0},
    {"Raman Shift [cm^-1]", R, R, 1, 0},
    {"Raman Shifts", R, R, 1, 0},  {"rel. 1/cm", R, R, 1, 0},
    {"Relative Wavenumber", R, R, 1, 0},
    {"shift/cm-1", R, R, 1, 0},
    /* absolute whatever the technique */
    {"1/cm abs", W, W, 1, 0},      {"Absolute Wavenumber (cm-1)", W, W, 1, 0},
    /* wavelengths */
    {"nm", NM, NM, 1, 0},          {"NM", NM, NM, 1, 0},
    {"nanometers", NM, NM, 1, 0},  {"NANOMETERS", NM, NM, 1, 0},
    {"Nanometer", NM, NM, 1, 0},   {"nanometres", NM, NM, 1, 0},
    {"Wavelength", NM, NM, 1, 0},  {"Wavelengths", NM, NM, 1, 0},
    {"WAVELENGTH (NM)", NM, NM, 1, 0},
    {"Wavelength (nm)", NM, NM, 1, 0},
    {"wavelength [nm]", NM, NM, 1, 0},
    {"Wave [nm]", NM, NM, 1, 0},   {"Wave", NM, NM, 1, 0},
    {"lambda", NM, NM, 1, 0},      {"X (nm)", NM, NM, 1, 0},
    {"um", NM, NM, 1000, 0},       {"\xC2\xB5m", NM, NM, 1000, 0},
    {"\xCE\xBCm", NM, NM, 1000, 0},
    {"MICROMETERS", NM, NM, 1000, 0},
    {"MICRONS", NM, NM, 1000, 0},  {"micron", NM, NM, 1000, 0},
    {"WAVELENGTH (UM)", NM, NM, 1000, 0},
    {"Wavelength (\xC2\xB5m)", NM, NM, 1000, 0},
    {"Angstrom", NM, NM, 0.1, 0},
    /* photon energy */
    {"eV", NM, NM, CSI_HC_EV_NM, 1}, {"electronvolts", NM, NM, CSI_HC_EV_NM, 1},
    /* detector pixels */
    {"Pixel", PX, PX, 1, 0},       {"PIXELS", PX, PX, 1, 0},
    {"px", PX, PX, 1, 0},          {"Pixel #", PX, PX, 1, 0},
    {"pixel number", PX, PX, 1, 0},
    /* not axis units: left unknown (JCAMP refuses; CSV takes them as y) */
    {"", UNK, UNK, 1, 0},          {"ARBITRARY UNITS", UNK, UNK, 1, 0},
    {"Intensity", UNK, UNK, 1, 0}, {"Counts", UNK, UNK, 1, 0},
    {"SECONDS", UNK, UNK, 1, 0},   {"HZ", UNK, UNK, 1, 0},
    {"PPM", UNK, UNK, 1, 0},       {"M/Z", UNK, UNK, 1, 0},
    {"Absorbance (a.u.)", UNK, UNK, 1, 0},
    {"UNKNOWN", UNK, UNK, 1, 0},
};

static void every_spelling(void **state) {
  (void)state;
  size_t n = sizeof rows / sizeof *rows;
  assert_true(n >= 40);
  for (size_t i = 0; i < n; i++) {
    const row *r = &rows[i];
    csi_axis_unit ra = csi_axis_from_unit(r->spelling, CS_TECH_RAMAN);
    csi_axis_unit fa = csi_axis_from_unit(r->spelling, CS_TECH_FTIR);
    csi_axis_unit ua = csi_axis_from_unit(r->spelling, CS_TECH_UNKNOWN);
    if (ra.axis != r->in_raman || fa.axis != r->in_ftir ||
        ua.axis != r->in_ftir)
      fail_msg("'%s': axis %s/%s/%s, want %s/%s", r->spelling,
               cs_axis_name(ra.axis), cs_axis_name(fa.axis),
               cs_axis_name(ua.axis), cs_axis_name(r->in_raman),
               cs_axis_name(r->in_ftir));
    if (r->in_raman != UNK) {
      if (fa.factor != r->factor || fa.inverse != r->inverse)
        fail_msg("'%s': factor %g inverse %d, want %g %d", r->spelling,
                 fa.factor, fa.inverse, r->factor, r->inverse);
    }
  }
  assert_int_equal(csi_axis_from_unit(NULL, CS_TECH_RAMAN).axis, UNK);
}

/* A bare cm^-1 says so (by_technique) so that a reader can prefer a title
 * that names the shift (BWSpec: "Wavenumber" beside "Raman Shift"). */
static void technique_choice_is_marked(void **state) {
  (void)state;
  assert_true(csi_axis_from_unit("cm-1", CS_TECH_RAMAN).by_technique);
  assert_true(csi_axis_from_unit("Wavenumber", CS_TECH_RAMAN).by_technique);
  assert_false(csi_axis_from_unit("Raman Shift", CS_TECH_RAMAN).by_technique);
  assert_false(csi_axis_from_unit("nm", CS_TECH_RAMAN).by_technique);
}

static void apply_converts(void **state) {
  (void)state;
  cs_error err;
  double x[] = {1.5, 2.0};
  csi_axis_unit um = csi_axis_from_unit("MICRONS", CS_TECH_UNKNOWN);
  STATUS_EQ(csi_axis_unit_apply(&um, x, 2, "MICRONS", &err), CS_OK, &err);
  DBL_NEAR(x[0], 1500, 0);
  DBL_NEAR(x[1], 2000, 0);
  double e[] = {2.0, 0.0};
  csi_axis_unit ev = csi_axis_from_unit("eV", CS_TECH_UNKNOWN);
  STATUS_EQ(csi_axis_unit_apply(&ev, e, 1, "eV", &err), CS_OK, &err);
  DBL_NEAR(e[0], CSI_HC_EV_NM / 2.0, 1e-12);
  STATUS_EQ(csi_axis_unit_apply(&ev, e + 1, 1, "eV", &err), CS_ERR_MALFORMED,
            &err);
  assert_non_null(strstr(err.msg, "0 eV at point 0 is not positive"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_spelling),
      cmocka_unit_test(technique_choice_is_marked),
      cmocka_unit_test(apply_converts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
