/* integ.h: pieces shared by `calcspec stream`, `watch` and `classify`:
 * model choice per spectrum and JSON result lines. */
#ifndef CALCSPEC_CLI_INTEG_H
#define CALCSPEC_CLI_INTEG_H

#include "cli.h"

#include <jansson.h>

/* A model file given with -m, else the embedded default of each technique,
 * loaded on first use. */
typedef struct cli_models {
  cs_model *given;
  cs_model *def[3]; /* indexed by cs_technique */
} cli_models;

/* Load the -m model (path may be NULL).  0 ok; -1 after printing
 * "calcspec: PATH: message". */
int cli_models_open(cli_models *mm, const char *path);
/* The model for s: the given one, else the default for s's technique
 * (from its axis when unknown).  NULL with err set when there is none.
 * Thread-safe. */
const cs_model *cli_models_for(cli_models *mm, const cs_spectrum *s,
                               cs_error *err);
void cli_models_free(cli_models *mm);
/* The technique --technique / --axis imply (CS_TECH_UNKNOWN: none). */
cs_technique cli_override_technique(const cli_override *ov);
/* Load and cs_model_prepare now what requests would otherwise build on
 * first use: the given model, else the default of technique t (both when t
 * is CS_TECH_UNKNOWN).  Failures are left for the requests to report. */
void cli_models_prepare(cli_models *mm, cs_technique t);

/* What to do about a per-spectrum error message, as " (...)" to append
 * (window: train --range; axis: --axis; laser: convert --laser), or "". */
const char *cli_fix_hint(const char *msg);

/* One JSON result line ending in '\n' (malloc'd): "id" first when id is
 * given (stream echoes the request's), then the keys of
 * cs_report_json_source with file/index/count/core_id (NULL or negative:
 * null).  NULL with err set on failure.  Every result of classify --json,
 * stream and watch is written here, so their keys are the same. */
char *cli_result_line(const json_t *id, const char *file, long long index,
                      long long count, const char *core_id,
                      const cs_report *r, const cs_model *m, cs_error *err);
/* The error record with the same leading keys: {"id"?, "file", "index",
 * "count", "core_id", "error"}.  NULL when out of memory. */
char *cli_error_line(const json_t *id, const char *file, long long index,
                     long long count, const char *core_id, const char *msg);

/* obj as one compact line ending in '\n' (malloc'd; NULL when out of
 * memory).  Numbers keep 17 significant digits. */
char *cli_json_line(const json_t *obj);

/* Parse a --qc SPEC on top of *o.  0 ok; -1 after a usage message. */
int cli_qc_option(const char *cmd, const char *spec, cs_qc_opts *o);

#endif
