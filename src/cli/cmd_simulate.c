/* cmd_simulate.c: `calcspec simulate`: write seeded synthetic spectra with
 * their ground truth in metadata (see cs_simulate in calcspec.h). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int help(void) {
  printf(
      "usage: calcspec simulate --class C [OPTIONS] -o OUT\n\n"
      "Writes N simulated spots (SYNTHETIC data) with their ground truth in\n"
      "metadata (truth.class, truth.carbonate_wt, truth.snr, truth.seed, ...).\n"
      "Spot i uses seed S+i, so any spot can be regenerated alone.  Options\n"
      "marked A[:B] take one value or a range drawn uniformly per spot.\n\n"
      "      --class C            tissue | cod | com | hydroxyapatite (ha) |\n"
      "                           whitlockite | calcite\n"
      "  -n, --count N            spots to simulate (default 1)\n"
      "  -s, --seed S             first seed (default 1)\n"
      "      --technique T        raman (default) | ftir\n"
      "      --snr A[:B]          strongest band height / noise sd (default 30;\n"
      "                           0 = noiseless)\n"
      "      --laser NM           excitation wavelength (default 785)\n"
      "      --pixels N           detector pixels (default 1024)\n"
      "      --range A:B          window in cm^-1 (Raman 300:1900, FTIR 800:1800)\n"
      "      --wavelength         Raman x axis in nm instead of Raman shift\n"
      "      --frames K           frames per spot (photobleaching; default 1)\n"
      "      --mineral-frac A[:B] mineral share of the probed volume (default 1)\n"
      "      --carbonate A[:B]    apatite CO3 wt%% (default 0:10)\n"
      "      --com-frac A[:B]     COM mole fraction of oxalate\n"
      "                           (cod 0:0.3, com 0.7:1)\n"
      "      --whitlockite-frac A[:B]  whitlockite share of phosphate\n"
      "                           (ha 0:0.2, whitlockite 0.7:1)\n"
      "      --fluorescence A[:B] fluorescence / strongest band (default 1:100)\n"
      "      --width A[:B]        instrument FWHM cm^-1 (Raman 4:10, FTIR 4)\n"
      "      --no-calib-error     no axis shift/stretch error\n"
      "      --shift A[:B]        axis offset, reported - true cm^-1 (Raman\n"
      "                           -2:2, FTIR -0.5:0.5)\n"
      "      --stretch A[:B]      relative axis scale error (Raman\n"
      "                           -0.002:0.002)\n"
      "      --lorentz A[:B]      Lorentzian fraction of every band, 0\n"
      "                           Gaussian..1 (default: from the widths)\n"
      "      --band-width A[:B]   factor on every band's own width (1)\n"
      "      --ha-nu1 A[:B]       Raman nu1 of carbonate-free HA, cm^-1 (962)\n"
      "      --wht-nu1 A[:B]      Raman main nu1 of whitlockite, cm^-1 (965)\n"
      "      --wht-lower A[:B]    whitlockite lower nu1 (951) height, share\n"
      "                           of the main band (0.1)\n"
      "      --bio-apatite A[:B]  FTIR: share of the apatite bands from poorly\n"
      "                           crystalline bone-like apatite (0)\n"
      "      --atr A[:B]          FTIR: diamond ATR sampling, strongest band\n"
      "                           pulled lower by A..B cm^-1 (0: transmission)\n"
      "      --no-spikes          no cosmic-ray spikes\n"
      "      --core ID            set core_id metadata on every spectrum\n"
      "  -o, --output OUT         output file (all spots), or an existing\n"
      "                           directory (one file per spot: CLASS_SEED.EXT)\n"
      "      --to FMT             output format (default: from OUT, or animl)\n");
  return CLI_OK;
}

/* "A" or "A:B" with A <= B, each within [lo, hi]. */
static int parse_span(const char *s, double lo, double hi, cs_sim_range *r) {
  const char *colon = strchr(s, ':');
  if (!colon) {
    if (cli_parse_double(s, lo, hi, &r->lo))
      return -1;
    r->hi = r->lo;
    return 0;
  }
  char a[64];
  size_t n = (size_t)(colon - s);
  if (n == 0 || n >= sizeof a)
    return -1;
  memcpy(a, s, n);
  a[n] = '\0';
  if (cli_parse_double(a, lo, hi, &r->lo) ||
      cli_parse_double(colon + 1, lo, hi, &r->hi) || r->lo > r->hi)
    return -1;
  return 0;
}

enum {
  O_SNR = 256, O_LASER, O_PIXELS, O_RANGE, O_WAVELENGTH, O_FRAMES, O_MINERAL,
  O_CARBONATE, O_COM, O_WHT, O_FLUOR, O_WIDTH, O_NOCAL, O_NOSPIKES, O_CORE, O_TO,
  O_SHIFT, O_STRETCH, O_LORENTZ, O_BWIDTH, O_HANU1, O_WHTNU1, O_WHTLOW, O_BIO, O_ATR
};

typedef struct span_opt {
  int set;
  cs_sim_range r;
} span_opt;

/* The command line, parsed. */
typedef struct sim_args {
  const char *cls_name, *out, *to, *core;
  cs_technique tech;
  cs_sim_class cls;
  long count, pixels, frames;
  double seed, laser, rlo, rhi;
  int wavelength, nocal, nospikes;
  span_opt snr, mineral, carb, com, wht, fluor, width, shift, stretch, lorentz,
      bwidth, hanu1, whtnu1, whtlow, bio, atr;
} sim_args;

/* Parse options into a; -1 to go on, else the exit code (help, usage). */
static int parse_args(int argc, char **argv, sim_args *a) {
  static const struct option opts[] = {
      {"class", required_argument, 0, 'c'},
      {"count", required_argument, 0, 'n'},
      {"seed", required_argument, 0, 's'},
      {"technique", required_argument, 0, 't'},
      {"output", required_argument, 0, 'o'},
      {"snr", required_argument, 0, O_SNR},
      {"laser", required_argument, 0, O_LASER},
      {"pixels", required_argument, 0, O_PIXELS},
      {"range", required_argument, 0, O_RANGE},
      {"wavelength", no_argument, 0, O_WAVELENGTH},
      {"frames", required_argument, 0, O_FRAMES},
      {"mineral-frac", required_argument, 0, O_MINERAL},
      {"carbonate", required_argument, 0, O_CARBONATE},
      {"com-frac", required_argument, 0, O_COM},
      {"whitlockite-frac", required_argument, 0, O_WHT},
      {"fluorescence", required_argument, 0, O_FLUOR},
      {"width", required_argument, 0, O_WIDTH},
      {"no-calib-error", no_argument, 0, O_NOCAL},
      {"no-spikes", no_argument, 0, O_NOSPIKES},
      {"core", required_argument, 0, O_CORE},
      {"to", required_argument, 0, O_TO},
      {"shift", required_argument, 0, O_SHIFT},
      {"stretch", required_argument, 0, O_STRETCH},
      {"lorentz", required_argument, 0, O_LORENTZ},
      {"band-width", required_argument, 0, O_BWIDTH},
      {"ha-nu1", required_argument, 0, O_HANU1},
      {"wht-nu1", required_argument, 0, O_WHTNU1},
      {"wht-lower", required_argument, 0, O_WHTLOW},
      {"bio-apatite", required_argument, 0, O_BIO},
      {"atr", required_argument, 0, O_ATR},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  memset(a, 0, sizeof *a);
  a->tech = CS_TECH_RAMAN;
  a->count = 1, a->pixels = -1, a->frames = 1;
  a->seed = 1, a->laser = NAN, a->rlo = NAN, a->rhi = NAN;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "n:s:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c': a->cls_name = optarg; break;
    case 'n':
      if (cli_parse_int(optarg, 1, 1000000, &a->count))
        return cli_usage_error("simulate", "--count wants 1..1000000, got '%s'", optarg);
      break;
    case 's':
      /* Integers up to 2^53 survive the double round trip exactly. */
      if (cli_parse_double(optarg, 0, 9007199254740992.0, &a->seed) ||
          a->seed != floor(a->seed))
        return cli_usage_error("simulate", "--seed wants an integer 0..2^53, got '%s'", optarg);
      break;
    case 't':
      if (cs_technique_from_name(optarg, &a->tech) || a->tech == CS_TECH_UNKNOWN)
        return cli_usage_error("simulate", "--technique wants raman or ftir, got '%s'", optarg);
      break;
    case 'o': a->out = optarg; break;
    case O_SNR:
      if (parse_span(optarg, 0, 1e6, &a->snr.r) ||
          (a->snr.r.lo == 0 && a->snr.r.hi != 0))
        return cli_usage_error("simulate", "--snr wants A[:B] > 0 or 0 (noiseless), got '%s'", optarg);
      a->snr.set = 1;
      break;
    case O_LASER:
      if (cli_parse_double(optarg, 200, 1500, &a->laser))
        return cli_usage_error("simulate", "--laser wants nm in 200..1500, got '%s'", optarg);
      break;
    case O_PIXELS:
      if (cli_parse_int(optarg, 16, 8192, &a->pixels))
        return cli_usage_error("simulate", "--pixels wants 16..8192, got '%s'", optarg);
      break;
    case O_RANGE:
      if (cli_parse_range(optarg, &a->rlo, &a->rhi))
        return cli_usage_error("simulate", "--range wants A:B with A < B, got '%s'", optarg);
      break;
    case O_WAVELENGTH: a->wavelength = 1; break;
    case O_FRAMES:
      if (cli_parse_int(optarg, 1, 100000, &a->frames))
        return cli_usage_error("simulate", "--frames wants 1..100000, got '%s'", optarg);
      break;
#define SPAN(opt, var, lo, hi, name)                                           \
  case opt:                                                                    \
    if (parse_span(optarg, lo, hi, &a->var.r))                                 \
      return cli_usage_error("simulate", "--" name " wants A[:B] in %g..%g, got '%s'", \
                             (double)(lo), (double)(hi), optarg);              \
    a->var.set = 1;                                                            \
    break;
      SPAN(O_MINERAL, mineral, 0, 1, "mineral-frac")
      SPAN(O_CARBONATE, carb, 0, 15, "carbonate")
      SPAN(O_COM, com, 0, 1, "com-frac")
      SPAN(O_WHT, wht, 0, 1, "whitlockite-frac")
      SPAN(O_FLUOR, fluor, 0, 1e4, "fluorescence")
      SPAN(O_WIDTH, width, 0.5, 50, "width")
      SPAN(O_SHIFT, shift, -50, 50, "shift")
      SPAN(O_STRETCH, stretch, -0.05, 0.05, "stretch")
      SPAN(O_LORENTZ, lorentz, 0, 1, "lorentz")
      SPAN(O_BWIDTH, bwidth, 0.2, 5, "band-width")
      SPAN(O_HANU1, hanu1, 950, 970, "ha-nu1")
      SPAN(O_WHTNU1, whtnu1, 955, 985, "wht-nu1")
      SPAN(O_WHTLOW, whtlow, 0, 1, "wht-lower")
      SPAN(O_BIO, bio, 0, 1, "bio-apatite")
      SPAN(O_ATR, atr, 0, 20, "atr")
#undef SPAN
    case O_NOCAL: a->nocal = 1; break;
    case O_NOSPIKES: a->nospikes = 1; break;
    case O_CORE: a->core = optarg; break;
    case O_TO: a->to = optarg; break;
    case 'h': return help();
    default: return cli_bad_option("simulate", "n:s:o:h", opts, argc, argv);
    }
  }
  if (optind != argc)
    return cli_usage_error("simulate", "unexpected argument '%s'", argv[optind]);
  if (!a->cls_name)
    return cli_usage_error("simulate", "no class (--class C)");
  if (cs_sim_class_from_name(a->cls_name, &a->cls))
    return cli_usage_error("simulate", "unknown class '%s'%s (known: tissue, "
                           "cod, com, hydroxyapatite (ha), whitlockite, "
                           "calcite)", a->cls_name,
                           cli_word_hint(a->cls_name, (char[96]){0}, 96));
  if (!a->out)
    return cli_usage_error("simulate", "no output (-o OUT)");
  if (a->to && !cli_format_known(a->to, 1))
    return cli_usage_error("simulate", "cannot write format '%s'", a->to);
  cs_error e;
  if (a->core && cs_core_id_check(a->core, &e))
    return cli_usage_error("simulate", "--core: %s", e.msg);
  return -1;
}

/* The library's simulate messages carry their own "simulate: "; the CLI
 * adds the command name itself. */
static const char *bare(const char *msg) {
  return strncmp(msg, "simulate: ", 10) ? msg : msg + 10;
}

/* The simulator options of a (defaults of its class and technique, then
 * what the command line set); -1 to go on, else the usage exit code. */
static int sim_opts(const sim_args *a, cs_sim_opts *o) {
  *o = cs_sim_opts_default(a->cls, a->tech);
  if (a->snr.set) o->snr = a->snr.r;
  if (a->mineral.set) o->mineral_frac = a->mineral.r;
  if (a->carb.set) o->carbonate_wt = a->carb.r;
  if (a->com.set) o->com_frac = a->com.r;
  if (a->wht.set) o->whitlockite_frac = a->wht.r;
  if (a->fluor.set) o->fluor_ratio = a->fluor.r;
  if (a->width.set) o->instr_fwhm_cm1 = a->width.r;
  if (!isnan(a->laser)) o->laser_nm = a->laser;
  if (a->pixels > 0) o->pixels = (int)a->pixels;
  if (!isnan(a->rlo)) {
    o->lo_cm1 = a->rlo;
    o->hi_cm1 = a->rhi;
  }
  o->wavelength_axis = a->wavelength;
  o->frames = (int)a->frames;
  if (a->nocal) {
    o->shift_cm1.lo = o->shift_cm1.hi = 0;
    o->stretch.lo = o->stretch.hi = 0;
  }
  if (a->nospikes) o->spike_rate_per_min = 0;
  if (a->shift.set) o->shift_cm1 = a->shift.r;
  if (a->stretch.set) o->stretch = a->stretch.r;
  if (a->lorentz.set) o->lorentz = a->lorentz.r;
  if (a->bwidth.set) o->width_scale = a->bwidth.r;
  if (a->hanu1.set) o->ha_nu1_cm1 = a->hanu1.r;
  if (a->whtnu1.set) o->wht_nu1_cm1 = a->whtnu1.r;
  if (a->whtlow.set) o->wht_lower = a->whtlow.r;
  if (a->bio.set) o->bio_apatite = a->bio.r;
  if (a->atr.set) o->atr_shift_cm1 = a->atr.r;
  cs_error err;
  if (cs_sim_opts_check(o, &err))
    return cli_usage_error("simulate", "%s", bare(err.msg));
  return -1;
}

/* Simulate a->count spots from seed a->seed on and write them: one file
 * per spot into the directory a->out, or all into the file a->out. */
static int write_spots(const sim_args *a, cs_sim_opts *o) {
  struct stat st;
  int to_dir = stat(a->out, &st) == 0 && S_ISDIR(st.st_mode);
  const char *fmt = a->to ? a->to : "animl";
  if (!to_dir && !a->to) {
    /* Let the extension choose when it names a writable format. */
    const char *base = strrchr(a->out, '/'), *dot;
    dot = strrchr(base ? base + 1 : a->out, '.'); /* not runs.v2/spots */
    fmt = dot && dot[1] ? NULL : "animl";
    if (!fmt && !cli_output_ext_known(a->out)) /* before any work */
      return cli_usage_error("simulate", "cannot tell the output format from "
                             "'%s' (.animl, .jdx, .csv, ...; or --to)", a->out);
  }
  cs_error err;
  /* into one file spot by spot: AnIML and JCAMP-DX stream (cs_writer) */
  cs_writer *all = NULL;
  if (!to_dir && cs_writer_open(a->out, fmt, &all, &err)) {
    cli_file_error(a->out, &err);
    return err.code == CS_ERR_ARG ? CLI_USAGE : CLI_DATA_ERROR;
  }
  int rc = CLI_OK;
  for (long i = 0; i < a->count && rc == CLI_OK; i++) {
    o->seed = (unsigned long long)a->seed + (unsigned long long)i;
    cs_dataset *ds;
    if (cs_simulate(o, &ds, &err)) {
      cli_error("simulate: seed %llu: %s", o->seed, bare(err.msg));
      rc = CLI_DATA_ERROR;
      break;
    }
    for (size_t k = 0; a->core && k < cs_dataset_count(ds); k++)
      if (cs_spectrum_set_meta(cs_dataset_get_mut(ds, k), CS_META_CORE_ID,
                               a->core, &err)) {
        cli_error("simulate: %s", err.msg);
        rc = CLI_DATA_ERROR;
      }
    if (rc == CLI_OK && to_dir) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s_%llu.%s", a->out,
               cs_sim_class_name(a->cls), o->seed,
               !strcmp(fmt, "jcamp") ? "jdx" : fmt);
      if (cs_dataset_write(ds, path, fmt, &err)) {
        cli_file_error(path, &err);
        rc = err.code == CS_ERR_ARG ? CLI_USAGE : CLI_DATA_ERROR;
      }
    }
    for (size_t k = 0; rc == CLI_OK && all && k < cs_dataset_count(ds); k++)
      if (cs_writer_put(all, cs_dataset_get(ds, k), &err)) {
        cli_file_error(a->out, &err);
        rc = CLI_DATA_ERROR;
      }
    cs_dataset_free(ds);
  }
  if (all && rc != CLI_OK)
    cs_writer_abort(all);
  else if (all && cs_writer_close(all, &err)) {
    cli_file_error(a->out, &err);
    rc = err.code == CS_ERR_ARG ? CLI_USAGE : CLI_DATA_ERROR;
  }
  return rc;
}

int cmd_simulate(int argc, char **argv) {
  sim_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc >= 0)
    return rc;
  cs_sim_opts o;
  if ((rc = sim_opts(&a, &o)) >= 0)
    return rc;
  return write_spots(&a, &o);
}
