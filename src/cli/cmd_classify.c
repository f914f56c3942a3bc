/* cmd_classify.c: `calcspec classify`: one row per spectrum. */
#include "integ.h"
#include "jobs.h"
#include "progress.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int help(void) {
  printf(
      "usage: calcspec classify [-m model.txt] [--json] [--composition [-c CAL]]\n"
      "       FILE|DIR...\n\n"
      "Classifies every spectrum with the model (default: the model built\n"
      "into calcspec for the spectrum's technique, trained on the SYNTHETIC\n"
      "library the build generates (build/gen/reference)).  TSV columns:\n"
      "  file index core_id technique class subtype best p_CLASS... t2 t2_limit\n"
      "  q q_limit nnls_CLASS... nnls_r2 flags reason qc_flags snr\n"
      "  fluor_ratio spikes reacquire mineral_snr axis_offset axis_ref window\n"
      "mineral_snr: the mineral signal in sigma of the spectrum's own noise\n"
      "(below the model's threshold the spectrum is tissue, at or above it\n"
      "never tissue); axis_offset: wavenumber offset (cm^-1) estimated from\n"
      "tissue reference bands or the mineral's own bands (axis_ref says\n"
      "which); window: the model window used, lo:hi cm^-1.\n"
      "class is 'unknown' when T2 or Q exceed the model's limits or the best\n"
      "posterior is too low, or (Raman) when a band as strong as the class's\n"
      "own main band is one its bands cannot explain (reason says which).\n"
      "flags: t2, q, low_posterior, unexplained, disagree (the NNLS fit\n"
      "prefers another class).  qc_flags: saturated,\n"
      "low_snr, fluorescence, no_mineral, spikes; reacquire 1 when one of\n"
      "them (but spikes) calls for a new acquisition (see calcspec stream).\n\n"
      "  -m, --model FILE   model file from 'calcspec train'\n"
      "  -j, --json         JSON Lines instead of TSV\n"
      "  -f, --format NAME  input reader\n"
      "      --technique T  raman | ftir, when the file does not say\n"
      "      --axis A       raman_shift | wavelength_nm | wavenumber, when\n"
      "                     the file does not say\n"
      "  FILE '-' is standard input.\n"
      "      --qc SPEC      QC thresholds, e.g. min_snr=20,detector_max=65535\n"
      "      --composition  also measure each spectrum's composition as its\n"
      "                     class (README \"Composition of one spectrum\"): TSV\n"
      "                     columns carbonate_wt (\"<LOD\" below the limit of\n"
      "                     detection) carbonate_lo carbonate_hi carbonate_lod\n"
      "                     carbonate_censored nu1_pos nu1_fwhm\n"
      "                     whitlockite_index com_frac protein_mineral after\n"
      "                     the others; JSON key \"composition\"\n"
      "  -c, --calibration FILE  carbonate calibration for --composition\n"
      "                     (default: built-in, fitted on SYNTHETIC spectra)\n"
      "      --jobs N       threads (default: every core this process may\n"
      "                     use, or CALCSPEC_JOBS); the output is the same\n"
      "                     for every N\n");
  return CLI_OK;
}

static void flag_text(unsigned f, char *buf, size_t cap) {
  static const char *const names[] = {"t2", "q", "low_posterior", "disagree",
                                      "unexplained"};
  buf[0] = '\0';
  for (int i = 0; i < 5; i++)
    if (f & (1u << i)) {
      size_t n = strlen(buf);
      snprintf(buf + n, cap - n, "%s%s", n ? "," : "", names[i]);
    }
}

/* The value for class name in r (model m), or NaN. */
static double value_for(const cs_model *m, const double *v, const char *name) {
  for (size_t g = 0; g < cs_model_class_count(m); g++)
    if (!strcmp(cs_model_class_name(m, g), name))
      return v[g];
  return NAN;
}

typedef struct {
  const cs_model *header; /* class columns */
  int json;
  int composition;        /* --composition columns / key */
} printer;

static void print_tsv_header(const printer *p) {
  const cs_model *m = p->header;
  printf("file\tindex\tcore_id\ttechnique\tclass\tsubtype\tbest");
  for (size_t g = 0; g < cs_model_class_count(m); g++)
    printf("\tp_%s", cs_model_class_name(m, g));
  printf("\tt2\tt2_limit\tq\tq_limit");
  for (size_t g = 0; g < cs_model_class_count(m); g++)
    printf("\tnnls_%s", cs_model_class_name(m, g));
  printf("\tnnls_r2\tflags\treason\tqc_flags\tsnr\tfluor_ratio\tspikes"
         "\treacquire\tmineral_snr\taxis_offset\taxis_ref\twindow");
  if (p->composition)
    printf("\tcarbonate_wt\tcarbonate_lo\tcarbonate_hi\tcarbonate_lod"
           "\tcarbonate_censored\tnu1_pos\tnu1_fwhm\twhitlockite_index"
           "\tcom_frac\tprotein_mineral");
  putchar('\n');
}

static void print_row(const printer *p, const char *file,
                      const cs_spectrum *s, const cs_model *m,
                      const cs_report *rep) {
  /* TSV; --json goes through cli_result_line */
  const cs_result *r = &rep->result;
  char qcf[96] = "";
  for (unsigned b = 1; b < 1u << CS_QC_NFLAGS; b <<= 1)
    if (rep->qc.flags & b) {
      size_t n = strlen(qcf);
      snprintf(qcf + n, sizeof qcf - n, "%s%s", n ? "," : "",
               cs_qc_flag_name(b));
    }
  const char *core = cs_spectrum_meta(s, CS_META_CORE_ID);
  char flags[64];
  flag_text(r->flags, flags, sizeof flags);
  const cs_model *h = p->header;
  cli_print_field(stdout, file); /* a name may hold a tab or newline */
  printf("\t%zu\t%s\t%s\t%s\t%s\t%s", cs_spectrum_source_index(s),
         core ? core : "", cs_technique_name(cs_model_technique(m)), r->label,
         r->subtype, r->best);
  for (size_t g = 0; g < cs_model_class_count(h); g++) {
    putchar('\t');
    double v = value_for(m, r->posterior, cs_model_class_name(h, g));
    if (isfinite(v))
      printf("%.4f", v);
  }
  printf("\t%.4g\t%.4g\t%.4g\t%.4g", r->t2, r->t2_limit, r->q, r->q_limit);
  for (size_t g = 0; g < cs_model_class_count(h); g++) {
    putchar('\t');
    double v = value_for(m, r->nnls, cs_model_class_name(h, g));
    if (isfinite(v))
      printf("%.4f", v);
  }
  printf("\t%.4f\t%s\t%s\t%s\t%.4g\t%.4g\t%zu\t%d", r->nnls_r2, flags,
         r->reason, qcf, rep->qc.snr, rep->qc.fluor_ratio, rep->qc.spikes,
         rep->qc.reacquire);
  if (r->detected)
    printf("\t%.4g\t%.3g\t%s", r->mineral_snr, r->axis_offset, r->axis_ref);
  else
    printf("\t\t\t");
  printf("\t%g:%g", r->window_lo, r->window_hi);
  if (p->composition) {
    const cs_composition *c = &rep->composition;
    if (c->valid & CS_COMP_CARBONATE) {
      if (c->carbonate_censored)
        printf("\t<%.2f", c->carbonate_lod);
      else
        printf("\t%.2f", c->carbonate_wt);
      printf("\t%.2f\t%.2f\t%.2f\t%s", c->carbonate_lo, c->carbonate_hi,
             c->carbonate_lod, c->carbonate_censored ? "yes" : "no");
    } else
      printf("\t\t\t\t\t");
    if (c->valid & CS_COMP_NU1)
      printf("\t%.2f\t%.2f", c->nu1_pos, c->nu1_fwhm);
    else
      printf("\t\t");
    putchar('\t');
    if (c->valid & CS_COMP_WHITLOCKITE)
      printf("%.3f", c->whitlockite_index);
    putchar('\t');
    if (c->valid & CS_COMP_COM)
      printf("%.3f", c->com_frac);
    putchar('\t');
    if (c->valid & CS_COMP_PROTEIN)
      printf("%.4g", c->protein_mineral);
  }
  putchar('\n');
}

/* One spectrum's work, done on a worker thread (--jobs); printed later in
 * input order by the main thread. */
typedef struct {
  const cs_model *m;   /* NULL: no model (err says why, set by the caller) */
  cs_report rep;
  cs_error err;
  const char *why;     /* NULL: ok; else the per-spectrum error text */
  cs_status cst;       /* cs_classify_spectrum's status */
  int unclassified;    /* classification failed or was refused */
} slot;

typedef struct {
  cs_spectrum **sp;    /* the block's spectra */
  slot *sl;
  const cs_qc_opts *qc;
  int comp;
  const cs_calibration *cal;
} block;

static void classify_slot(void *arg, size_t i) {
  block *b = arg;
  slot *sl = &b->sl[i];
  if (!sl->m)
    return;
  const cs_spectrum *s = b->sp[i];
  cs_status cst = cs_classify_spectrum(sl->m, s, b->qc, &sl->rep, &sl->err);
  sl->cst = cst;
  if (cst || !sl->rep.classified) {
    sl->unclassified = 1;
    /* out of window stays a per-spectrum error here; on failure the
     * report is zeroed, so the reason is in err */
    sl->why = cst ? sl->err.msg : sl->rep.result.reason;
    return;
  }
  /* a calibration of another technique than the spectrum's is a
   * per-spectrum error (CS_ERR_ARG) */
  if (b->comp && cs_report_composition(&sl->rep, s, b->cal, &sl->err))
    sl->why = sl->err.msg;
}

/* spectra per block: enough to keep the threads busy, few enough that the
 * reports stay small; a file is read a block at a time (cli_reader), so a
 * file whose format streams is never held whole */
#define BLOCK 256

int cmd_classify(int argc, char **argv) {
  static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                       {"json", no_argument, 0, 'j'},
                                       {"format", required_argument, 0, 'f'},
                                       {"qc", required_argument, 0, 'Q'},
                                       {"composition", no_argument, 0, 'C'},
                                       {"calibration", required_argument, 0, 'c'},
                                       {"technique", required_argument, 0, 256},
                                       {"axis", required_argument, 0, 257},
                                       {"jobs", required_argument, 0, 258},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *model_path = NULL, *format = NULL, *cal_path = NULL;
  int json = 0, c, comp = 0;
  cs_qc_opts qc = cs_qc_opts_default();
  cli_override ov = {0};
  while ((c = getopt_long(argc, argv, "m:jf:c:h", opts, NULL)) != -1) {
    switch (c) {
    case 'm': model_path = optarg; break;
    case 'j': json = 1; break;
    case 'C': comp = 1; break;
    case 'c': cal_path = optarg; break;
    case 'f': format = optarg; break;
    case 'Q':
      if (cli_qc_option("classify", optarg, &qc))
        return CLI_USAGE;
      break;
    case 256:
    case 257:
      if (cli_override_option("classify", c == 256 ? "technique" : "axis", optarg,
                              &ov))
        return CLI_USAGE;
      break;
    case 258:
      if (cli_jobs_option("classify", optarg))
        return CLI_USAGE;
      break;
    case 'h': return help();
    default: return cli_bad_option("classify", "m:jf:c:h", opts, argc, argv);
    }
  }
  if (optind >= argc)
    return cli_usage_error("classify", "no input files");
  if (format && !cli_format_known(format, 0))
    return cli_usage_error("classify", "unknown format '%s'", format);
  if (cal_path && !comp)
    return cli_usage_error("classify", "--calibration needs --composition");
  cs_error err;
  cs_calibration cal;
  if (cal_path && cs_calibration_load(cal_path, &cal, &err)) {
    cli_file_error(cal_path, &err);
    return CLI_DATA_ERROR;
  }
  cli_models mm;
  if (cli_models_open(&mm, model_path))
    return CLI_DATA_ERROR;
  /* the TSV header names the classes of the given or the Raman model */
  if (!mm.given &&
      cs_model_default(CS_TECH_RAMAN, &mm.def[CS_TECH_RAMAN], &err)) {
    cli_error("classify: %s", err.msg);
    return CLI_DATA_ERROR;
  }
  printer pr = {mm.given ? mm.given : mm.def[CS_TECH_RAMAN], json, comp};
  if (!json)
    print_tsv_header(&pr);
  int nbad = 0;
  cli_files files = {0};
  cli_files_expand(&files, argv + optind, argc - optind, &nbad);
  int jobs = cli_jobs();
  slot *sl = malloc(BLOCK * sizeof *sl);
  cs_spectrum **sp = calloc(BLOCK, sizeof *sp);
  /* JSON records carry the file's spectrum count, known at its end */
  FILE *spool = json ? cli_spool_open() : NULL;
  if (!sl || !sp || (json && !spool)) {
    cli_error("classify: %s", json && !spool ? "cannot create a temporary "
              "file (TMPDIR)" : "out of memory");
    free(sl);
    free(sp);
    if (spool)
      fclose(spool);
    cli_files_free(&files);
    cli_models_free(&mm);
    return CLI_DATA_ERROR;
  }
  FILE *out = json ? spool : stdout;
  cli_progress prog;
  cli_progress_start(&prog, "classify", "files", files.n);
  for (size_t i = 0; i < files.n; i++, cli_progress_step(&prog)) {
    cli_reader cr;
    if (cli_reader_open(files.path[i], format, &ov, &cr, &err)) {
      cli_file_error(files.path[i], &err);
      nbad++;
      continue;
    }
    block b = {sp, sl, &qc, comp, cal_path ? &cal : NULL};
    cs_status rst = CS_OK;
    size_t k0 = 0, nb = 0;
    for (int end = 0; !end; k0 += nb) {
      for (nb = 0; nb < BLOCK; nb++)
        if ((rst = cli_reader_next(&cr, &sp[nb], &err)) || !sp[nb]) {
          end = 1;
          break;
        }
      /* models are looked up (and the defaults loaded) here, not on the
       * workers */
      for (size_t k = 0; k < nb; k++) {
        sl[k].why = NULL;
        sl[k].unclassified = 0;
        sl[k].m = cli_models_for(&mm, sp[k], &sl[k].err);
        if (!sl[k].m)
          sl[k].why = sl[k].err.msg;
      }
      cli_parallel_for(jobs, nb, classify_slot, &b);
      for (size_t k = 0; k < nb; k++) {
        const cs_spectrum *s = sp[k];
        const char *core = cs_spectrum_meta(s, CS_META_CORE_ID);
        long long idx = (long long)(k0 + k);
        if (sl[k].why) {
          cli_error("%s: spectrum %lld: %s%s", files.path[i], idx, sl[k].why,
                    cli_fix_hint(sl[k].why));
          nbad++;
          /* JSON gets the record of a spectrum that was not classified too
           * (classified false, or the error) */
          if (json && sl[k].unclassified) {
            char *line = sl[k].cst ? NULL
                                   : cli_result_line(NULL, files.path[i], idx, -1,
                                                     core, &sl[k].rep, sl[k].m, &err);
            if (!line)
              line = cli_error_line(NULL, files.path[i], idx, -1, core, sl[k].why);
            if (line)
              fputs(line, out);
            free(line);
          }
          continue;
        }
        if (json) {
          char *line = cli_result_line(NULL, files.path[i], idx, -1, core,
                                       &sl[k].rep, sl[k].m, &err);
          if (!line) {
            cli_error("%s: spectrum %lld: %s", files.path[i], idx, err.msg);
            nbad++;
            continue;
          }
          fputs(line, out);
          free(line);
        } else {
          print_row(&pr, files.path[i], s, sl[k].m, &sl[k].rep);
        }
      }
      for (size_t k = 0; k < nb; k++) {
        cs_spectrum_free(sp[k]);
        sp[k] = NULL;
      }
    }
    cli_reader_close(&cr);
    /* a file that breaks part-way: its spectra before the break are
     * reported, then the error */
    if (rst) {
      cli_file_error(files.path[i], &err);
      nbad++;
    }
    if (json && cli_spool_flush(spool, (long long)k0)) {
      cli_error("classify: writing the temporary file (TMPDIR) failed");
      nbad++;
    }
    fflush(stdout);
  }
  cli_progress_end(&prog);
  if (spool)
    fclose(spool);
  free(sp);
  free(sl);
  cli_files_free(&files);
  cli_models_free(&mm);
  return nbad ? CLI_DATA_ERROR : CLI_OK;
}
