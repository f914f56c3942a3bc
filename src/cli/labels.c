/* labels.c: loading labelled training spectra for `train` and `cv`. */
#include "cli.h"
#include "progress.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  char *file, *cls;
  long index; /* -1 = every spectrum of the file */
  size_t line;
  int used; /* matched a spectrum */
} label_row;

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t' || *s == '"')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
               s[n - 1] == '\n' || s[n - 1] == '"'))
    s[--n] = '\0';
  return s;
}

static const char *base(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* Read "file,index,class" rows (comma, tab or semicolon; a header row and
 * '#' comments are skipped; index empty or '*' = all spectra). */
static void rows_free(label_row *rows, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(rows[i].file);
    free(rows[i].cls);
  }
  free(rows);
}

/* Append one row (copying file and cls); -1 when out of memory. */
static int rows_push(label_row **rows, size_t *n, size_t *cap,
                     const char *file, const char *cls, long index,
                     size_t line) {
  if (*n == *cap) {
    size_t ncap = *cap ? *cap * 2 : 64;
    label_row *r = realloc(*rows, ncap * sizeof *r);
    if (!r)
      return -1;
    *rows = r;
    *cap = ncap;
  }
  char *f = strdup(file), *c = strdup(cls);
  if (!f || !c) {
    free(f);
    free(c);
    return -1;
  }
  label_row *row = &(*rows)[(*n)++];
  row->file = f;
  row->cls = c;
  row->index = index;
  row->line = line;
  row->used = 0;
  return 0;
}

static int cmp_row(const void *a, const void *b) {
  const label_row *x = *(label_row *const *)a, *y = *(label_row *const *)b;
  int c = strcmp(x->file, y->file);
  return c ? c : x->line < y->line ? -1 : x->line > y->line;
}

/* A spectrum given two classes (the same file and index, or '*' and an
 * index, with different classes; the first row won): -1 after saying so.
 * Sorted by file, so the check is n log n for cohort-sized files. */
static int conflicts(const char *path, label_row *rows, size_t n) {
  label_row **v = malloc((n ? n : 1) * sizeof *v);
  if (!v) {
    cli_error("%s: out of memory", path);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    v[i] = &rows[i];
  qsort(v, n, sizeof *v, cmp_row);
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++)
    for (size_t j = i + 1; j < n && !rc && !strcmp(v[i]->file, v[j]->file); j++)
      if ((v[i]->index < 0 || v[j]->index < 0 || v[i]->index == v[j]->index) &&
          strcmp(v[i]->cls, v[j]->cls)) {
        cli_error("%s: line %zu: '%s' labelled '%s', but line %zu says '%s'",
                  path, v[j]->line, v[j]->file, v[j]->cls, v[i]->line,
                  v[i]->cls);
        rc = -1;
      }
  free(v);
  return rc;
}

static int read_labels(const char *path, label_row **out, size_t *nout) {
  *out = NULL;
  *nout = 0;
  const char *why;
  int in = cli_is_stdio(path); /* "-", as calibrate -l takes it */
  FILE *f = in ? stdin : cli_fopen_regular(path, &why);
  if (!f) {
    cli_error("%s: cannot open labels file: %s", path, why);
    return -1;
  }
  char line[4096];
  label_row *rows = NULL;
  size_t n = 0, cap = 0, lineno = 0;
  int rc = 0;
  while (!rc && fgets(line, sizeof line, f)) {
    lineno++;
    if (!strchr(line, '\n') && !feof(f)) { /* never split into rows */
      cli_error("%s: line %zu: longer than %zu bytes", path, lineno,
                sizeof line - 2);
      rc = -1;
      break;
    }
    char *s = trim(line);
    if (!*s || *s == '#')
      continue;
    char *fields[3];
    int nf = 0;
    for (char *p = s; nf < 3;) {
      fields[nf++] = p;
      size_t k = strcspn(p, ",\t;");
      if (!p[k])
        break;
      p[k] = '\0';
      p += k + 1;
    }
    if (nf != 3) {
      cli_error("%s: line %zu: want file,index,class", path,
              lineno);
      rc = -1;
      break;
    }
    char *idx = trim(fields[1]);
    long index = -1;
    if (*idx && strcmp(idx, "*") && cli_parse_int(idx, 0, 1L << 30, &index)) {
      if (lineno == 1)
        continue; /* a header row */
      cli_error("%s: line %zu: bad index '%s'", path, lineno,
              idx);
      rc = -1;
      break;
    }
    char *file = trim(fields[0]), *cls = trim(fields[2]);
    if (!*file || !*cls) { /* found by the labels fuzz target */
      cli_error("%s: line %zu: empty %s", path, lineno,
                *file ? "class" : "file name");
      rc = -1;
      break;
    }
    cs_error err;
    if (cs_class_name_check(cls, &err)) { /* said here, with the line */
      cli_error("%s: line %zu: %s", path, lineno, err.msg);
      rc = -1;
      break;
    }
    if (rows_push(&rows, &n, &cap, file, cls, index, lineno)) {
      cli_error("%s: out of memory", path);
      rc = -1;
    }
  }
  if (!in)
    fclose(f);
  if (!rc)
    rc = conflicts(path, rows, n);
  if (rc) {
    rows_free(rows, n);
    return -1;
  }
  *out = rows;
  *nout = n;
  return 0;
}

/* Class of spectrum k of file path: the labels file (matched by path, then
 * by base name), else metadata "class"/"truth.class", else the name of the
 * folder holding the file when it is one of the known classes. */
static const char *class_for(label_row *rows, size_t nrows,
                             const char *path, size_t k, const cs_spectrum *s,
                             char *folder, size_t cap) {
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < nrows; i++) {
      int match = pass == 0 ? !strcmp(rows[i].file, path)
                            : !strcmp(base(rows[i].file), base(path));
      if (match && (rows[i].index < 0 || (size_t)rows[i].index == k)) {
        rows[i].used = 1;
        return rows[i].cls;
      }
    }
  if (nrows)
    return NULL; /* with a labels file, unlisted spectra are not used */
  const char *m = cs_spectrum_meta(s, "class");
  if (!m)
    m = cs_spectrum_meta(s, "truth.class");
  if (m)
    return m;
  const char *slash = strrchr(path, '/');
  if (!slash)
    return NULL;
  const char *start = slash;
  while (start > path && start[-1] != '/')
    start--;
  snprintf(folder, cap, "%.*s", (int)(slash - start), start);
  static const char *const known[] = {"oxalate", "hydroxyapatite",
                                      "whitlockite", "calcite", "tissue"};
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (!strcmp(folder, known[i]))
      return folder;
  return NULL;
}

int cli_load_labelled(char **args, int nargs, const char *labels_path,
                      cs_dataset **ds_out, char ***labels_out, int *nbad) {
  label_row *rows = NULL;
  size_t nrows = 0;
  if (labels_path && read_labels(labels_path, &rows, &nrows))
    return -1;
  cli_files files = {0};
  cli_files_expand(&files, args, nargs, nbad);
  cs_dataset *ds = NULL;
  char **labels = NULL;
  size_t cap = 0, unlabelled = 0;
  int rc = cs_dataset_new(&ds, NULL) ? -1 : 0;
  cli_progress prog;
  cli_progress_start(&prog, cli_progress_cmd, "files", files.n);
  for (size_t i = 0; i < files.n && !rc; i++, cli_progress_step(&prog)) {
    cs_error err;
    cs_dataset *one;
    if (cli_dataset_read(files.path[i], NULL, NULL, &one, &err)) {
      cli_file_error(files.path[i], &err);
      (*nbad)++;
      continue;
    }
    size_t k = 0;
    while (cs_dataset_count(one)) {
      cs_spectrum *s = cs_dataset_take(one, 0);
      char folder[256];
      const char *cls = class_for(rows, nrows, files.path[i], k, s, folder,
                                  sizeof folder);
      k++;
      if (cls && !nrows && cs_class_name_check(cls, &err)) {
        /* a class from metadata or a folder: named with its file */
        cli_error("%s: spectrum %zu: %s", files.path[i], k - 1, err.msg);
        (*nbad)++;
        cs_spectrum_free(s);
        continue;
      }
      if (!cls) {
        /* the first few by name, then one count: an unlabelled folder
         * of hundreds of files is one mistake, not hundreds */
        if (!nrows && ++unlabelled <= 3)
          cli_error("%s: spectrum %zu has no class (use "
                  "--labels, class metadata or a class-named folder)",
                  files.path[i], k - 1);
        if (!nrows)
          (*nbad)++;
        cs_spectrum_free(s);
        continue;
      }
      size_t n = cs_dataset_count(ds);
      if (n == cap) {
        cap = cap ? cap * 2 : 256;
        char **l = realloc(labels, cap * sizeof *l);
        if (!l) {
          cs_spectrum_free(s);
          rc = -1;
          break;
        }
        labels = l;
      }
      labels[n] = strdup(cls);
      if (!labels[n] || cs_dataset_push(ds, s, &err)) {
        free(labels[n]);
        rc = -1;
        break;
      }
    }
    cs_dataset_free(one);
  }
  cli_progress_end(&prog);
  if (unlabelled > 3)
    cli_error("%zu more spectra have no class (%zu in all)", unlabelled - 3,
              unlabelled);
  /* a row that labels nothing is likely a misspelt name, whose file then
   * went unused: say so (a note; a labels file may cover more data) */
  size_t unused = 0, first = 0;
  for (size_t i = nrows; i-- > 0;)
    if (!rows[i].used)
      unused++, first = i;
  if (unused && !rc)
    cli_note("%s: %zu row%s label%s no spectrum of the input (first: line "
             "%zu, '%s')", labels_path, unused, unused > 1 ? "s" : "",
             unused > 1 ? "" : "s", rows[first].line, rows[first].file);
  cli_files_free(&files);
  rows_free(rows, nrows);
  if (rc) {
    cli_labels_free(labels, ds ? cs_dataset_count(ds) : 0);
    cs_dataset_free(ds);
    return -1;
  }
  *ds_out = ds;
  *labels_out = labels;
  return 0;
}

void cli_labels_free(char **labels, size_t n) {
  for (size_t i = 0; labels && i < n; i++)
    free(labels[i]);
  free(labels);
}
