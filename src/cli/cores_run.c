/* cores_run.c: classify and measure every spectrum of some files and
 * summarise them per biopsy core (cs_core_summarize) for `cores` and
 * `validate`; the core of a spectrum comes from its metadata, its folder or
 * a manifest file. */
#include "cli.h"
#include "jobs.h"
#include "progress.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *path;
  char *core;
  int line;
} mrow;

static const char *manifest_core(const mrow *m, size_t n, const char *path) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(m[i].path, path))
      return m[i].core;
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  for (size_t i = 0; i < n; i++) {
    const char *mb = strrchr(m[i].path, '/');
    if (!strcmp(mb ? mb + 1 : m[i].path, b))
      return m[i].core;
  }
  return NULL;
}

static void manifest_free(mrow *m, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(m[i].path);
    free(m[i].core);
  }
  free(m);
}

/* Rows "file,core_id" (or tab-separated); '#' comments, blank lines and a
 * header (a first row whose file is "file") skipped; a file listed twice is
 * an error (which core would it be?).  -1 after printing why. */
static int read_manifest(const char *path, mrow **out, size_t *n) {
  const char *why;
  char *text = cli_slurp_why(path, &why);
  *out = NULL;
  *n = 0;
  if (!text) {
    cli_error("%s: cannot read manifest: %s", path, why);
    return -1;
  }
  mrow *rows = NULL;
  size_t nrows = 0, cap = 0;
  int line = 0, rc = 0, oom = 0;
  int header = 1; /* a header may come before the first row */
  for (char *l = text, *next; l && !rc; l = next) {
    /* line by line, blank ones counted (strtok skipped them: the line
     * numbers said were off) */
    if ((next = strchr(l, '\n')))
      *next++ = '\0';
    line++;
    size_t len = strlen(l);
    while (len && (l[len - 1] == '\r' || l[len - 1] == ' '))
      l[--len] = '\0';
    if (!len || l[0] == '#')
      continue;
    char *sep = strchr(l, '\t') ? strchr(l, '\t') : strchr(l, ',');
    if (header && sep && sep - l == 4 && !strncmp(l, "file", 4)) {
      header = 0; /* not every row starting "file": file01.animl is one */
      continue;
    }
    header = 0;
    if (!sep || sep == l || !sep[1]) {
      cli_error("%s: line %d: expected file,core_id", path,
              line);
      rc = -1;
      break;
    }
    *sep = '\0';
    for (size_t i = 0; i < nrows && !rc; i++)
      if (!strcmp(rows[i].path, l)) {
        cli_error("%s: line %d: '%s' listed again (first on line %d)", path,
                  line, l, rows[i].line);
        rc = -1;
      }
    if (rc)
      break;
    if (nrows == cap) {
      size_t ncap = cap ? 2 * cap : 16;
      mrow *t = realloc(rows, ncap * sizeof *t);
      if (!t) {
        rc = oom = -1;
        break;
      }
      rows = t;
      cap = ncap;
    }
    rows[nrows].path = strdup(l);
    rows[nrows].core = strdup(sep + 1);
    rows[nrows].line = line;
    nrows++; /* counted before the check so manifest_free frees both */
    if (!rows[nrows - 1].path || !rows[nrows - 1].core)
      rc = oom = -1;
  }
  free(text);
  if (rc) {
    if (oom)
      cli_error("%s: out of memory", path);
    manifest_free(rows, nrows);
    return -1;
  }
  *out = rows;
  *n = nrows;
  return 0;
}

typedef struct {
  char id[CS_CORE_ID_MAX];
  cs_result *r;
  cs_composition *c;
  cs_spectrum **s; /* copies, measured together in summarise() */
  size_t n, cap;
} group;

typedef struct {
  group *g;
  size_t n, cap;
} groups;

/* The core of spectrum s of file path, by `how`; NULL when a manifest does
 * not list the file.  buf (cap bytes) may hold the result. */
static const char *core_of(const char *how, const mrow *man, size_t nman,
                           const char *path, const cs_spectrum *s, char *buf,
                           size_t cap) {
  const char *core = NULL;
  if (!strcmp(how, "manifest"))
    return manifest_core(man, nman, path);
  if (!strcmp(how, "meta"))
    core = cs_spectrum_meta(s, CS_META_CORE_ID);
  if (!core) { /* dir, or meta without core_id: the file's folder name */
    snprintf(buf, cap, "%s", path);
    char *d = dirname(buf);
    char *b = strrchr(d, '/');
    core = b ? b + 1 : d;
  }
  return core;
}

/* Append one result and its spectrum (s, owned by the group from here on,
 * freed on failure) to the group of core (created when new).  -1 when out
 * of memory. */
static int group_add(groups *gs, const char *core, const cs_result *r,
                     cs_spectrum *s) {
  size_t g = 0;
  while (g < gs->n && strcmp(gs->g[g].id, core))
    g++;
  if (g == gs->n) {
    if (gs->n == gs->cap) {
      size_t ncap = gs->cap ? 2 * gs->cap : 8;
      group *t = realloc(gs->g, ncap * sizeof *t);
      if (!t) {
        cs_spectrum_free(s);
        return -1;
      }
      gs->g = t;
      gs->cap = ncap;
    }
    memset(&gs->g[g], 0, sizeof gs->g[g]);
    snprintf(gs->g[g].id, CS_CORE_ID_MAX, "%s", core);
    gs->n++;
  }
  group *G = &gs->g[g];
  if (G->n == G->cap) {
    size_t ncap = G->cap ? 2 * G->cap : 8;
    cs_result *tr = realloc(G->r, ncap * sizeof *tr);
    if (tr)
      G->r = tr;
    cs_composition *tc = tr ? realloc(G->c, ncap * sizeof *tc) : NULL;
    if (tc)
      G->c = tc;
    cs_spectrum **ts = tc ? realloc(G->s, ncap * sizeof *ts) : NULL;
    if (ts)
      G->s = ts;
    if (!ts) {
      cs_spectrum_free(s);
      return -1;
    }
    G->cap = ncap;
  }
  G->r[G->n] = *r;
  G->s[G->n] = s;
  G->n++;
  return 0;
}

typedef struct {
  cs_model *m;               /* NULL until the first spectrum without -m */
  const cs_calibration *cal; /* NULL: none */
  cs_calibration own_cal;    /* the default of the model's technique */
  int cal_given;             /* -c */
  const char *how;
  const mrow *man;
  size_t nman;
} run_ctx;

/* Without -m: the built-in model of the first spectrum's technique (from
 * its axis when the file does not say; --technique first), and the
 * default calibration of that technique unless -c gave one.  A later
 * spectrum of the other technique is then an error naming both. */
static cs_status first_model(run_ctx *rc, const cs_spectrum *s,
                             cs_error *err) {
  cs_technique t = cli_cores_override.technique;
  if (t == CS_TECH_UNKNOWN)
    t = cs_spectrum_technique(s);
  if (t == CS_TECH_UNKNOWN) {
    cs_axis a = cs_spectrum_axis(s);
    t = a == CS_AXIS_WAVENUMBER ? CS_TECH_FTIR
        : a == CS_AXIS_RAMAN_SHIFT || a == CS_AXIS_WAVELENGTH_NM ? CS_TECH_RAMAN
                                                                 : CS_TECH_UNKNOWN;
  }
  if (t == CS_TECH_UNKNOWN) {
    err->code = CS_ERR_ARG;
    snprintf(err->msg, sizeof err->msg, "technique unknown (give --technique "
             "or -m MODEL)");
    return CS_ERR_ARG;
  }
  cs_status st = cs_model_default(t, &rc->m, err);
  if (!st && !rc->cal_given)
    rc->cal = cs_calibration_default(t, &rc->own_cal, NULL) ? NULL : &rc->own_cal;
  return st;
}

/* One spectrum's classification, on a worker thread (--jobs). */
typedef struct {
  cs_result r;
  cs_error err;
  cs_status st;
} cslot;

typedef struct {
  const cs_model *m;
  const cs_dataset *ds;
  size_t k0;
  cslot *sl;
} cblock;

static void classify_slot(void *arg, size_t i) {
  cblock *b = arg;
  cslot *c = &b->sl[i];
  c->st = cs_model_classify(b->m, cs_dataset_get(b->ds, b->k0 + i), &c->r,
                            &c->err);
}

#define CBLOCK 256 /* spectra classified in parallel at a time */

/* Classify and measure every spectrum of one file into gs; failures are
 * reported and counted in *nbad.  The spectra are classified in blocks on
 * cli_jobs() threads, then taken in input order, so the result does not
 * depend on the number of jobs. */
static void run_file(run_ctx *rc, const char *path, groups *gs,
                     int *nbad) {
  cs_error err;
  cs_dataset *ds;
  if (cli_dataset_read(path, NULL, &cli_cores_override, &ds, &err)) {
    cli_file_error(path, &err);
    (*nbad)++;
    return;
  }
  size_t count = cs_dataset_count(ds);
  cslot *sl = malloc(CBLOCK * sizeof *sl);
  if (!sl) {
    cli_error("%s: out of memory", path);
    (*nbad)++;
    cs_dataset_free(ds);
    return;
  }
  /* without -m: the model of the first spectrum's technique */
  if (!rc->m && count && first_model(rc, cs_dataset_get(ds, 0), &err)) {
    cli_error("%s: %s", path, err.msg);
    (*nbad)++;
    free(sl);
    cs_dataset_free(ds);
    return;
  }
  cblock b = {rc->m, ds, 0, sl};
  int jobs = cli_jobs(), stop = 0;
  for (size_t k0 = 0; k0 < count && !stop; k0 += CBLOCK) {
    size_t nb = count - k0 < CBLOCK ? count - k0 : CBLOCK;
    b.k0 = k0;
    cli_parallel_for(jobs, nb, classify_slot, &b);
    for (size_t i = 0; i < nb; i++) {
      size_t k = k0 + i;
      const cs_spectrum *s = cs_dataset_get(ds, k);
      char dirbuf[4096];
      const char *core = core_of(rc->how, rc->man, rc->nman, path, s, dirbuf,
                                 sizeof dirbuf);
      if (!core) {
        cli_error("%s: not in the manifest", path);
        (*nbad)++;
        stop = 1;
        break;
      }
      if (cs_core_id_check(core, &err)) {
        cli_error("%s: %s", path, err.msg);
        (*nbad)++;
        continue;
      }
      cs_spectrum *copy;
      /* composition is measured per core in summarise(), as one batch: the
       * core's apatite spectra share one band-shape fit (README) */
      if (sl[i].st || cs_spectrum_copy(s, &copy, &err)) {
        cli_error("%s: spectrum %zu: %s", path, k,
                  sl[i].st ? sl[i].err.msg : err.msg);
        (*nbad)++;
        continue;
      }
      if (group_add(gs, core, &sl[i].r, copy)) {
        cli_error("%s: out of memory", path);
        (*nbad)++;
      }
    }
  }
  free(sl);
  cs_dataset_free(ds);
}

/* Composition of each group as one batch (cs_composition_measure_batch),
 * then one cs_core per group (malloc'd into *cores); frees the groups. */
static void summarise(const cs_model *m, const cs_calibration *cal,
                      groups *gs, cs_core **cores_out, size_t *ncores,
                      int *nbad) {
  char classes[CS_MAX_CLASSES][CS_CLASS_NAME_MAX];
  size_t nclass = cs_model_class_count(m);
  for (size_t g = 0; g < nclass; g++)
    snprintf(classes[g], CS_CLASS_NAME_MAX, "%s", cs_model_class_name(m, g));
  cs_core *cores = gs->n ? calloc(gs->n, sizeof *cores) : NULL;
  size_t nc = 0;
  cs_error err;
  for (size_t g = 0; g < gs->n; g++) {
    group *G = &gs->g[g];
    const char **lab = malloc(G->n * sizeof *lab);
    for (size_t q = 0; lab && q < G->n; q++)
      lab[q] = G->r[q].label;
    if (!lab || cs_composition_measure_batch((const cs_spectrum *const *)G->s,
                                             lab, G->n, cal, G->c, &err)) {
      cli_error("core %s: %s", G->id, lab ? err.msg : "out of memory");
      (*nbad)++;
      memset(G->c, 0, G->n * sizeof *G->c);
    }
    free(lab);
    for (size_t q = 0; cli_cores_wcal && q < G->n; q++)
      cs_composition_whitlockite_share(cli_cores_wcal, &G->c[q], &err);
    for (size_t q = 0; q < G->n; q++)
      cs_spectrum_free(G->s[q]);
    free(G->s);
    if (cores && cs_core_summarize(G->id, G->r, G->c, G->n,
                                   (const char(*)[CS_CLASS_NAME_MAX])classes,
                                   nclass, NULL, &cores[nc], &err) == CS_OK)
      nc++;
    else {
      cli_error("core %s: %s", G->id,
              cores ? err.msg : "out of memory");
      (*nbad)++;
    }
    free(G->r);
    free(G->c);
  }
  free(gs->g);
  *cores_out = cores;
  *ncores = nc;
}

cli_override cli_cores_override;
const cs_calibration *cli_cores_wcal;

int cli_cores_compute(char **args, int nargs, const char *model_path,
                      const char *how, const char *manifest_path,
                      const char *cal_path, cs_core **cores_out,
                      size_t *ncores, int *nbad) {
  *cores_out = NULL;
  *ncores = 0;
  cs_error err;
  cs_model *m = NULL;
  /* without -m the model is chosen by the first spectrum (first_model) */
  if (model_path && cs_model_load(model_path, &m, &err)) {
    cli_file_error(model_path, &err);
    return -1;
  }
  cs_calibration cal;
  int have_cal = 1;
  if (cal_path ? cs_calibration_load(cal_path, &cal, &err)
               : !m || cs_calibration_default(cs_model_technique(m), &cal, &err)) {
    if (cal_path) {
      cli_file_error(cal_path, &err);
      cs_model_free(m);
      return -1;
    }
    have_cal = 0;
  }
  if (have_cal && cal.kind != CS_CAL_CARBONATE) {
    cli_error("%s: a whitlockite calibration: give it with -w", cal_path);
    cs_model_free(m);
    return -1;
  }
  mrow *man = NULL;
  size_t nman = 0;
  if (!strcmp(how, "manifest") && read_manifest(manifest_path, &man, &nman)) {
    cs_model_free(m);
    return -1;
  }
  run_ctx rc = {m, have_cal ? &cal : NULL, {0}, cal_path != NULL, how, man, nman};
  groups gs = {0};
  cli_files files = {0};
  cli_files_expand(&files, args, nargs, nbad);
  cli_progress prog;
  /* the command's name: `cores`, or `validate` reading spectra */
  cli_progress_start(&prog, cli_progress_cmd, "files", files.n);
  for (size_t i = 0; i < files.n; i++, cli_progress_step(&prog))
    run_file(&rc, files.path[i], &gs, nbad);
  cli_progress_end(&prog);
  cli_files_free(&files);
  if (rc.m)
    summarise(rc.m, rc.cal, &gs, cores_out, ncores, nbad);
  manifest_free(man, nman);
  cs_model_free(rc.m);
  return 0;
}
