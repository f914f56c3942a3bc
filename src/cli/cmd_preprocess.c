/* cmd_preprocess.c: `calcspec preprocess [OPTIONS] FILE... -o OUT`: run the
 * preprocessing pipeline over every spectrum and write the results (and,
 * with --keep-baseline, the estimated baselines) to one file. */
#include "cli.h"
#include "jobs.h"
#include "progress.h"

#include <pthread.h>

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int help(void) {
  printf(
      "usage: calcspec preprocess [OPTIONS] FILE... -o OUT\n\n"
      "Preprocesses every spectrum of every FILE (or directory) and writes\n"
      "them all to OUT, in the format of --to or OUT's extension (.animl,\n"
      ".jdx/.dx, .csv/.tsv/.txt).  Steps run in this order; each is off\n"
      "unless given:\n\n"
      "  -r, --range A:B        crop to A..B\n"
      "  -S, --spikes SPEC      cosmic-spike removal: auto | off | Z[:WIDTH]\n"
      "                         (modified z-score threshold, default 6:3)\n"
      "  -b, --baseline SPEC    baseline subtraction, e.g. arpls:lam=1e5,\n"
      "                         asls, airpls, modpoly:poly_order=5, snip\n"
      "      --smooth SPEC      sg:WINDOW:ORDER[:DERIV] | gauss:SIGMA\n"
      "      --norm SPEC        vector | area | max | snv |\n"
      "                         band:CENTRE:HALFWIDTH[:area|:height]\n"
      "  -R, --resample SPEC    A:B:STEP[:cubic] onto an even axis\n"
      "  -p, --pipeline FILE    read the steps from a pipeline file (one\n"
      "                         'STEP SPEC' per line); options above override\n"
      "  -P, --print-pipeline   print the canonical pipeline text and exit\n\n"
      "  -o, --output OUT       output file (required; - with --to: standard\n"
      "                         output).  FILE - is standard input.\n"
      "  -t, --to FMT           animl | jcamp | csv\n"
      "  -f, --format NAME      input reader (default: detect)\n"
      "      --laser NM         excitation wavelength for spectra on a\n"
      "                         wavelength axis that do not record one\n"
      "      --keep-baseline    also write each estimated baseline, as an\n"
      "                         extra spectrum with metadata role=baseline\n"
      "      --jobs N           threads (default: every core this process may\n"
      "                         use, or CALCSPEC_JOBS); the output is the\n"
      "                         same for every N\n\n"
      "Wavelength axes become Raman shift and %% transmittance becomes\n"
      "absorbance before the first step.  A file or spectrum that fails is\n"
      "reported as 'calcspec: FILE: reason' and skipped; the exit status is\n"
      "then 1.\n");
  return CLI_OK;
}

typedef struct {
  const char *name;
  const char *spec;
} step_opt;

/* The pipelines of the worker threads: one per job (a pipeline owns a
 * smoother and serves one thread at a time), handed out under a lock. */
typedef struct {
  pthread_mutex_t mu;
  cs_pipeline **free_pl;
  size_t nfree;
} pl_pool;

#define PBLOCK 256   /* spectra processed in parallel at a time */
#define PCHUNK_MAX 256 /* spectra per cs_pipeline_apply_batch call */

/* One spectrum's result (--jobs): computed on a worker, pushed in input
 * order by the main thread. */
typedef struct {
  cs_spectrum *out, *bs;
  cs_status st;
  cs_error err;
} pslot;

typedef struct {
  cs_spectrum **in; /* the block's spectra */
  size_t chunk, nb;
  pslot *sl;
  pl_pool *pool;
  int keep;
} pblock;

/* Spectra [c chunk, (c+1) chunk) of the block through one pipeline at once
 * (cs_pipeline_apply_batch: their baselines share vector lanes). */
static void process_chunk(void *arg, size_t c) {
  pblock *b = arg;
  size_t i0 = c * b->chunk, m = b->nb - i0 < b->chunk ? b->nb - i0 : b->chunk;
  const cs_spectrum *in[PCHUNK_MAX];
  cs_spectrum *out[PCHUNK_MAX];
  double *base[PCHUNK_MAX];
  cs_status st[PCHUNK_MAX];
  cs_error err[PCHUNK_MAX];
  pthread_mutex_lock(&b->pool->mu);
  cs_pipeline *p = b->pool->free_pl[--b->pool->nfree];
  pthread_mutex_unlock(&b->pool->mu);
  for (size_t i = 0; i < m; i++) {
    in[i] = b->in[i0 + i];
    size_t cap = cs_pipeline_max_points(p, in[i]);
    base[i] = b->keep ? malloc((cap ? cap : 1) * sizeof *base[i]) : NULL;
    err[i].msg[0] = '\0';
  }
  cs_pipeline_apply_batch(p, in, m, out, base, st, err);
  pthread_mutex_lock(&b->pool->mu);
  b->pool->free_pl[b->pool->nfree++] = p;
  pthread_mutex_unlock(&b->pool->mu);
  for (size_t i = 0; i < m; i++) {
    pslot *o = &b->sl[i0 + i];
    o->out = out[i], o->bs = NULL;
    cs_error e = err[i];
    cs_status s1 = st[i];
    if (!s1 && b->keep && !base[i]) {
      s1 = CS_ERR_NOMEM;
      snprintf(e.msg, sizeof e.msg, "out of memory");
    }
    if (!s1 && b->keep) {
      s1 = cs_spectrum_copy(o->out, &o->bs, &e);
      if (!s1)
        s1 = cs_spectrum_set_y(o->bs, base[i], cs_spectrum_n(o->out), &e);
      if (!s1)
        s1 = cs_spectrum_set_meta(o->bs, "role", "baseline", &e);
      if (!s1) /* the spike record belongs to the corrected spectrum */
        s1 = cs_spectrum_set_meta(o->bs, "spikes_removed", NULL, &e);
      if (!s1)
        s1 = cs_spectrum_set_meta(o->bs, "spike_x", NULL, &e);
    }
    free(base[i]);
    o->st = s1;
    o->err = e;
  }
}


/* Output of process_file: the writer, spectra put, and whether a put
 * failed (the writer then refuses everything: stop). */
typedef struct {
  cli_writer w;
  size_t nput;
  int failed;
} pout;

static int put_out(pout *o, const char *out, cs_spectrum *s) {
  cs_error err;
  if (!s || o->failed)
    return 0;
  if (cs_writer_put(o->w.w, s, &err)) {
    cli_file_error(out, &err);
    o->failed = 1;
    return 1;
  }
  o->nput++;
  return 0;
}

/* Process one input file, read spectrum by spectrum, PBLOCK at a time on
 * cli_jobs() threads, into the writer in input order; returns the number
 * of failures.  A file that breaks part-way keeps the spectra before the
 * break (as classify does) and counts as a failure. */
static int process_file(const char *path, const char *format, double laser,
                        pl_pool *pool, int jobs, int keep, pout *po,
                        const char *out) {
  cs_error err;
  cli_reader rd;
  if (cli_reader_open(path, format, NULL, &rd, &err)) {
    cli_file_error(path, &err);
    return 1;
  }
  int nbad = 0;
  pslot *sl = malloc(PBLOCK * sizeof *sl);
  cs_spectrum **blk = malloc(PBLOCK * sizeof *blk);
  if (!sl || !blk) {
    cli_error("%s: out of memory", path);
    free(sl);
    free(blk);
    cli_reader_close(&rd);
    return 1;
  }
  pblock b = {blk, 0, 0, sl, pool, keep};
  int end = 0;
  for (size_t k0 = 0; !end && !po->failed; k0 += PBLOCK) {
    size_t nb = 0;
    while (nb < PBLOCK) {
      cs_spectrum *s;
      if (cli_reader_next(&rd, &s, &err)) {
        cli_file_error(path, &err);
        nbad++;
        end = 1;
        break;
      }
      if (!s) {
        end = 1;
        break;
      }
      if (isfinite(laser) && !isfinite(cs_spectrum_laser_nm(s)))
        cs_spectrum_set_laser_nm(s, laser);
      blk[nb++] = s;
    }
    if (!nb)
      break;
    /* one chunk per job: the widest batches that keep every job busy */
    b.nb = nb, b.chunk = (nb + (size_t)jobs - 1) / (size_t)jobs;
    cli_parallel_for(jobs, (nb + b.chunk - 1) / b.chunk, process_chunk, &b);
    for (size_t i = 0; i < nb; i++) {
      pslot *o = &sl[i];
      if (o->st) {
        cli_error("%s: spectrum %zu: %s", path, k0 + i,
                  o->err.msg[0] ? o->err.msg : cs_strerror(o->st));
        nbad++;
      } else {
        nbad += put_out(po, out, o->out);
        nbad += put_out(po, out, o->bs);
      }
      cs_spectrum_free(o->out);
      cs_spectrum_free(o->bs);
      cs_spectrum_free(blk[i]);
    }
  }
  free(sl);
  free(blk);
  cli_reader_close(&rd);
  return nbad;
}

int cmd_preprocess(int argc, char **argv) {
  static const struct option opts[] = {
      {"output", required_argument, 0, 'o'},
      {"to", required_argument, 0, 't'},
      {"format", required_argument, 0, 'f'},
      {"laser", required_argument, 0, 'l'},
      {"range", required_argument, 0, 'r'},
      {"spikes", required_argument, 0, 'S'},
      {"baseline", required_argument, 0, 'b'},
      {"smooth", required_argument, 0, 's'},
      {"norm", required_argument, 0, 'n'},
      {"resample", required_argument, 0, 'R'},
      {"pipeline", required_argument, 0, 'p'},
      {"print-pipeline", no_argument, 0, 'P'},
      {"keep-baseline", no_argument, 0, 'k'},
      {"jobs", required_argument, 0, 'J'},
      {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  const char *out = NULL, *to = NULL, *format = NULL, *pfile = NULL;
  double laser = NAN;
  int keep = 0, print = 0, c, nsteps = 0;
  step_opt steps[8];
  while ((c = getopt_long(argc, argv, "o:t:f:r:S:b:R:p:Ph", opts,
                          NULL)) != -1) {
    const char *name = NULL;
    switch (c) {
    case 'o': out = optarg; break;
    case 't': to = optarg; break;
    case 'f': format = optarg; break;
    case 'p': pfile = optarg; break;
    case 'P': print = 1; break;
    case 'k': keep = 1; break;
    case 'J':
      if (cli_jobs_option("preprocess", optarg))
        return CLI_USAGE;
      break;
    case 'l':
      if (cli_parse_double(optarg, 100, 5000, &laser))
        return cli_usage_error("preprocess",
                               "--laser wants nm in 100..5000, got '%s'",
                               optarg);
      break;
    case 'r': name = "crop"; break;
    case 'S': name = "spikes"; break;
    case 'b': name = "baseline"; break;
    case 's': name = "smooth"; break;
    case 'n': name = "normalise"; break;
    case 'R': name = "resample"; break;
    case 'h': return help();
    default: return cli_bad_option("preprocess", "o:t:f:r:S:b:R:p:Ph", opts, argc, argv);
    }
    if (name && nsteps < 8)
      steps[nsteps++] = (step_opt){name, optarg};
  }
  cs_error err;
  cs_pipeline *p = NULL;
  if (pfile) {
    const char *why;
    char *text = cli_slurp_why(pfile, &why);
    if (!text) {
      cli_error("%s: cannot read pipeline file: %s", pfile, why);
      cli_error_hint("preprocess"); /* a usage error, as the others */
      return CLI_USAGE;
    }
    cs_status st = cs_pipeline_parse(text, &p, &err);
    free(text);
    if (st) {
      cli_error("%s: %s", pfile, err.msg);
      cli_error_hint("preprocess");
      return CLI_USAGE;
    }
  } else if (cs_pipeline_new(&p, &err)) {
    cli_file_error("preprocess", &err);
    return CLI_DATA_ERROR;
  }
  static const char *const optname[] = {"crop", "--range", "spikes", "--spikes",
                                        "baseline", "--baseline", "smooth",
                                        "--smooth", "normalise", "--norm",
                                        "resample", "--resample"};
  for (int i = 0; i < nsteps; i++)
    if (cs_pipeline_set_step(p, steps[i].name, steps[i].spec, &err)) {
      const char *o = steps[i].name;
      for (size_t k = 0; k < sizeof optname / sizeof *optname; k += 2)
        if (!strcmp(optname[k], steps[i].name))
          o = optname[k + 1];
      cs_pipeline_free(p);
      char hint[96];
      return cli_usage_error("preprocess", "%s: %s%s", o, err.msg,
                             cli_value_hint(err.msg, hint, sizeof hint));
    }
  if (print) {
    char *text;
    if (cs_pipeline_format(p, &text, &err)) {
      cs_pipeline_free(p);
      cli_file_error("preprocess", &err);
      return CLI_DATA_ERROR;
    }
    fputs(text, stdout);
    cs_free(text);
    cs_pipeline_free(p);
    return CLI_OK;
  }
  int rc = CLI_OK;
  if (!out)
    rc = cli_usage_error("preprocess", "no output file (-o OUT)");
  else if (optind >= argc)
    rc = cli_usage_error("preprocess", "no input files");
  if (rc == CLI_OK && cli_is_stdio(out) && !to)
    rc = cli_usage_error("preprocess", "-o - (standard output) needs --to FMT");
  if (rc == CLI_OK && to && !cli_format_known(to, 1))
    rc = cli_usage_error("preprocess", "cannot write format '%s'", to);
  if (rc == CLI_OK && !to && !cli_output_ext_known(out))
    rc = cli_usage_error("preprocess", "cannot tell the output format from "
                         "'%s' (.animl, .jdx, .csv, ...; or --to)", out);
  if (rc == CLI_OK && format && !cli_format_known(format, 0))
    rc = cli_usage_error("preprocess", "unknown format '%s'", format);
  if (rc != CLI_OK) {
    cs_pipeline_free(p);
    return rc;
  }
  /* spectrum by spectrum into the output: AnIML and JCAMP-DX stream
   * (cs_writer), so memory stays a block's whatever the files */
  pout po = {0};
  if (cli_writer_open(out, to, &po.w, &err)) {
    cli_file_error(out, &err);
    cs_pipeline_free(p);
    return err.code == CS_ERR_ARG ? CLI_USAGE : CLI_DATA_ERROR;
  }
  cli_files files = {0};
  int nbad = 0;
  cli_files_expand(&files, argv + optind, argc - optind, &nbad);
  /* one pipeline per job, copies of p through its text form (which
   * cs_pipeline_parse turns back into an identical pipeline) */
  int jobs = cli_jobs();
  pl_pool pool = {.free_pl = calloc((size_t)jobs, sizeof(cs_pipeline *))};
  if (!pool.free_pl || pthread_mutex_init(&pool.mu, NULL)) {
    cli_error("preprocess: out of memory");
    free(pool.free_pl);
    cli_writer_abort(&po.w);
    cli_files_free(&files);
    cs_pipeline_free(p);
    return CLI_DATA_ERROR;
  }
  pool.free_pl[pool.nfree++] = p;
  char *ptext = NULL;
  if (jobs > 1 && !cs_pipeline_format(p, &ptext, &err))
    while (pool.nfree < (size_t)jobs &&
           !cs_pipeline_parse(ptext, &pool.free_pl[pool.nfree], NULL))
      pool.nfree++;
  cs_free(ptext);
  jobs = (int)pool.nfree; /* fewer when a copy failed */
  cli_progress prog;
  cli_progress_start(&prog, "preprocess", "files", files.n);
  for (size_t i = 0; !po.failed && i < files.n; i++, cli_progress_step(&prog))
    nbad += process_file(files.path[i], format, laser, &pool, jobs, keep, &po,
                         out);
  cli_progress_end(&prog);
  for (size_t i = 0; i < pool.nfree; i++) /* p is freed below */
    if (pool.free_pl[i] != p)
      cs_pipeline_free(pool.free_pl[i]);
  free(pool.free_pl);
  pthread_mutex_destroy(&pool.mu);
  if (po.failed) {
    cli_writer_abort(&po.w);
  } else if (po.nput == 0) {
    cli_writer_abort(&po.w);
    cli_error("%s: nothing to write (no spectrum was "
                    "processed)", out);
    nbad++;
  } else if (cli_writer_close(&po.w, &err)) {
    cli_file_error(out, &err);
    rc = err.code == CS_ERR_ARG ? CLI_USAGE : CLI_DATA_ERROR;
  }
  cli_files_free(&files);
  cs_pipeline_free(p);
  if (rc == CLI_OK && nbad)
    rc = CLI_DATA_ERROR;
  return rc;
}
