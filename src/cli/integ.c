/* integ.c: model choice and JSON result lines for stream, watch and
 * classify. */
#include "integ.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The default models load on first use, which stream --jobs may reach from
 * several threads at once. */
static pthread_mutex_t models_lock = PTHREAD_MUTEX_INITIALIZER;

int cli_models_open(cli_models *mm, const char *path) {
  memset(mm, 0, sizeof *mm);
  cs_error err;
  if (path && cs_model_load(path, &mm->given, &err)) {
    cli_file_error(path, &err);
    return -1;
  }
  return 0;
}

const cs_model *cli_models_for(cli_models *mm, const cs_spectrum *s,
                               cs_error *err) {
  if (mm->given)
    return mm->given;
  cs_technique t = cs_spectrum_technique(s);
  if (t == CS_TECH_UNKNOWN) {
    cs_axis a = cs_spectrum_axis(s);
    if (a == CS_AXIS_RAMAN_SHIFT || a == CS_AXIS_WAVELENGTH_NM)
      t = CS_TECH_RAMAN;
    else if (a == CS_AXIS_WAVENUMBER)
      t = CS_TECH_FTIR;
  }
  if (t != CS_TECH_RAMAN && t != CS_TECH_FTIR) {
    if (err) {
      err->code = CS_ERR_ARG;
      snprintf(err->msg, sizeof err->msg,
               "technique unknown (give --technique raman|ftir, --axis or -m "
               "MODEL)");
    }
    return NULL;
  }
  pthread_mutex_lock(&models_lock);
  const cs_model *m = mm->def[t] || !cs_model_default(t, &mm->def[t], err) ? mm->def[t] : NULL;
  pthread_mutex_unlock(&models_lock);
  return m;
}

cs_technique cli_override_technique(const cli_override *ov) {
  if (ov->technique)
    return ov->technique;
  if (ov->axis == CS_AXIS_WAVENUMBER)
    return CS_TECH_FTIR;
  if (ov->axis == CS_AXIS_RAMAN_SHIFT || ov->axis == CS_AXIS_WAVELENGTH_NM)
    return CS_TECH_RAMAN;
  return CS_TECH_UNKNOWN;
}

void cli_models_prepare(cli_models *mm, cs_technique t) {
  cs_error err;
  if (mm->given) {
    cs_model_prepare(mm->given, &err);
    return;
  }
  for (int k = CS_TECH_RAMAN; k <= CS_TECH_FTIR; k++) {
    if (t != CS_TECH_UNKNOWN && t != (cs_technique)k)
      continue;
    pthread_mutex_lock(&models_lock);
    if (!mm->def[k] && cs_model_default((cs_technique)k, &mm->def[k], &err))
      mm->def[k] = NULL;
    pthread_mutex_unlock(&models_lock);
    if (mm->def[k])
      cs_model_prepare(mm->def[k], &err);
  }
}

const char *cli_fix_hint(const char *msg) {
  if (strstr(msg, "does not cover the model window"))
    return " (for a spectrum of another range: calcspec train --range A:B, "
           "README \"Classifier\")";
  if (strstr(msg, "cm^-1 or nm axis") || strstr(msg, "axis unknown"))
    return " (give --axis raman_shift, wavelength_nm or wavenumber)";
  if (strstr(msg, "laser"))
    return " (a wavelength axis needs the laser: calcspec convert --laser NM)";
  return "";
}

void cli_models_free(cli_models *mm) {
  cs_model_free(mm->given);
  for (int t = 0; t < 3; t++)
    cs_model_free(mm->def[t]);
  memset(mm, 0, sizeof *mm);
}

char *cli_result_line(const json_t *id, const char *file, long long index,
                      long long count, const char *core_id,
                      const cs_report *r, const cs_model *m, cs_error *err) {
  cs_report_source src = {file, index, count, core_id};
  char *rep, *idtext = NULL, *line = NULL;
  if (cs_report_json_source(r, m, &src, &rep, err))
    return NULL;
  /* the request's id goes first; the report object follows its "{" */
  if (id && !(idtext = json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY |
                                           JSON_REAL_PRECISION(17))))
    goto done;
  size_t n = strlen(rep), k = idtext ? strlen(idtext) + 7 : 0;
  line = malloc(n + k + 2);
  if (!line)
    goto done;
  if (idtext)
    snprintf(line, k + 2, "{\"id\":%s,", idtext);
  else
    line[0] = '{';
  memcpy(line + (idtext ? k : 1), rep + 1, n); /* with rep's NUL */
  strcat(line, "\n");
done:
  if (!line && err) {
    err->code = CS_ERR_NOMEM;
    snprintf(err->msg, sizeof err->msg, "out of memory");
  }
  free(idtext);
  cs_free(rep);
  return line;
}

char *cli_error_line(const json_t *id, const char *file, long long index,
                     long long count, const char *core_id, const char *msg) {
  json_t *o = json_object();
  if (!o)
    return NULL;
  if (id)
    json_object_set(o, "id", (json_t *)id);
  json_object_set_new(o, "file", file ? json_string(file) : json_null());
  json_object_set_new(o, "index", index >= 0 ? json_integer(index) : json_null());
  json_object_set_new(o, "count", count >= 0 ? json_integer(count) : json_null());
  json_object_set_new(o, "core_id", core_id ? json_string(core_id) : json_null());
  json_object_set_new(o, "error", json_string(msg && *msg ? msg : "out of memory"));
  char *line = cli_json_line(o);
  json_decref(o);
  return line;
}

/* jansson writes reals at a fixed precision; the line's real numbers are
 * rewritten in their shortest round-trip form (cs_format_double), so every
 * JSON record calcspec writes has its numbers in one form.  main keeps
 * LC_NUMERIC "C", so strtod reads what jansson wrote. */
char *cli_json_line(const json_t *obj) {
  char *s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(17));
  if (!s)
    return NULL;
  size_t n = strlen(s), o = 0;
  char *line = malloc(n + 2); /* the shortest form is never longer */
  if (!line) {
    free(s);
    return NULL;
  }
  for (size_t i = 0; i < n;) {
    if (s[i] == '"') { /* a string, escapes included, as it is */
      size_t j = i + 1;
      while (j < n && s[j] != '"')
        j += s[j] == '\\' ? 2 : 1;
      j = j < n ? j + 1 : n;
      memcpy(line + o, s + i, j - i);
      o += j - i;
      i = j;
    } else if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
      size_t j = i + strspn(s + i, "+-0123456789.eE");
      char tok[64];
      if (j - i < sizeof tok && strcspn(s + i, ".eE") < j - i) {
        memcpy(tok, s + i, j - i);
        tok[j - i] = '\0';
        int k = cs_format_double(tok, sizeof tok, strtod(tok, NULL));
        if (k > 0 && (size_t)k <= j - i) {
          memcpy(line + o, tok, (size_t)k);
          o += (size_t)k;
          i = j;
          continue;
        }
      }
      memcpy(line + o, s + i, j - i);
      o += j - i;
      i = j;
    } else {
      line[o++] = s[i++];
    }
  }
  free(s);
  line[o++] = '\n';
  line[o] = '\0';
  return line;
}

int cli_qc_option(const char *cmd, const char *spec, cs_qc_opts *o) {
  cs_error err;
  if (cs_qc_opts_parse(spec, o, &err)) {
    cli_usage_error(cmd, "--qc: %s", err.msg);
    return -1;
  }
  return 0;
}
