/* io_labspec_xml.c: HORIBA LabSpec 6 XML export ("LSX", root <LSX_Data>).
 *
 * Element names carry no meaning here: every node is <LSX Format=F ID=H>,
 * and what it is follows from the hashed ID plus the Format type code
 * (../shared/formats/FORMATS.md section 5).  The spectral axis and any map
 * axes sit in the "axis" container; intensities are the <LSX_Row>s of
 * <LSX_Matrix>, one row per spectrum (maps and line scans: one per pixel,
 * x fastest). */
#include "xmlutil.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Format type codes (FORMATS.md section 5). */
enum { F_INT = 4, F_FLOAT = 5, F_ARRAY = 6, F_STR = 7, F_USTR = 8, F_NODE = 9 };

/* Hashed IDs, the same in every sample (FORMATS.md section 5). */
#define ID_NAME 0x6D707974UL     /* name/type: "Intens", "Spectr", "X"... */
#define ID_UNIT 0x7C696E75UL     /* unit: "Cnt/sec", "1/cm", "nm", "eV" */
#define ID_ARRAY 0x7D6CD4DBUL    /* numeric array */
#define ID_LABEL 0x6D6D616EUL    /* parameter label */
#define ID_DISPLAY 0x7D6C61DBUL  /* parameter value as displayed */
#define ID_NUMERIC 0x8736F70UL   /* parameter numeric value */
#define ID_AXES 0x7B697861UL     /* container of the axes */
#define ID_PARAMS 0x6C62D4D9UL   /* container of the parameter groups */
#define ID_TITLE 0x6C7469D9UL    /* document name (direct child of the tree) */
#define ID_ROTATION 0x6C676EC6UL /* rotated map: child 0x0 = angle (rad) */

/* LabSpec converts wavelength to photon energy with E = 1240/lambda, not
 * with hc/e = 1239.84198 eV nm: in the _3s_eV and _3s_counts samples,
 * E * lambda spans 1239.996..1240.004 over all 34 points, and with 1240 the
 * eV file converts to the cm-1 file's shifts within their print rounding
 * (with 1239.84198 they are 1.7 cm-1 off). */
#define LABSPEC_EV_NM 1240.0

#define MAX_DEPTH 64

static int scan_id(const xmlNode *n, unsigned long *id) {
  char *v = csi_xml_attr(n, "ID");
  if (!v)
    return -1;
  char *end;
  *id = strtoul(v, &end, 16);
  int ok = end != v && *end == '\0';
  free(v);
  return ok ? 0 : -1;
}

static int has_id(const xmlNode *n, unsigned long id) {
  unsigned long v;
  return n && n->type == XML_ELEMENT_NODE && scan_id(n, &v) == 0 && v == id;
}

static int format_of(const xmlNode *n) {
  char *v = csi_xml_attr(n, "Format");
  int f = v ? atoi(v) : -1;
  free(v);
  return f;
}

static xmlNodePtr child_by_id(const xmlNode *parent, unsigned long id) {
  for (xmlNodePtr c = csi_xml_child(parent, NULL); c; c = csi_xml_next(c, NULL))
    if (has_id(c, id))
      return c;
  return NULL;
}

/* First descendant (depth-first, document order) with this ID. */
static xmlNodePtr find_id(const xmlNode *n, unsigned long id, int depth) {
  if (depth > MAX_DEPTH)
    return NULL;
  for (xmlNodePtr c = csi_xml_child(n, NULL); c; c = csi_xml_next(c, NULL)) {
    if (has_id(c, id))
      return c;
    xmlNodePtr r = find_id(c, id, depth + 1);
    if (r)
      return r;
  }
  return NULL;
}

/* Trimmed text of the child with this ID (malloc'd), or NULL. */
static char *child_text(const xmlNode *parent, unsigned long id) {
  xmlNodePtr c = child_by_id(parent, id);
  return c ? csi_trim(csi_xml_text(c)) : NULL;
}

/* Parse whitespace-separated finite numbers.  Memory grows with the data
 * actually present, never with a count the file claims. */
static cs_status parse_array(const char *text, csi_dvec *out, const char *what,
                             cs_error *err) {
  const char *p = text;
  for (;;) {
    while (isspace((unsigned char)*p))
      p++;
    if (!*p)
      return CS_OK;
    char *end;
    double v = csi_strtod(p, &end);
    if (end == p || (*end && !isspace((unsigned char)*end)))
      return csi_error(err, CS_ERR_MALFORMED, "%s: bad number near '%.20s'",
                       what, p);
    if (!isfinite(v))
      return csi_error(err, CS_ERR_MALFORMED, "%s: non-finite value '%.20s'",
                       what, p);
    if (csi_dvec_push(out, v))
      return csi_error(err, CS_ERR_NOMEM, "%s: too many values", what);
    p = end;
  }
}

/* A Format=6 node's values; its Size attribute, when present, must match. */
static cs_status read_array(const xmlNode *n, csi_dvec *out, const char *what,
                            cs_error *err) {
  char *text = csi_xml_text(n);
  if (!text)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = parse_array(text, out, what, err);
  free(text);
  if (st)
    return st;
  double size;
  if (csi_xml_attr_double(n, "Size", &size) == 0 && size != (double)out->n)
    return csi_error(err, CS_ERR_MALFORMED,
                     "%s: Size says %.0f values, found %zu", what, size,
                     out->n);
  return CS_OK;
}

/* One axis of the axis container: its array (Format 6), name and unit. */
typedef struct axis_info {
  csi_dvec v;
  char *name, *unit;
  int present;
} axis_info;

static void axis_free(axis_info *a) {
  csi_dvec_free(&a->v);
  free(a->name);
  free(a->unit);
}

static cs_status read_axis(const xmlNode *axes, unsigned long which,
                           axis_info *a, const char *what, cs_error *err) {
  xmlNodePtr n = child_by_id(axes, which);
  if (!n)
    return CS_OK;
  a->present = 1;
  a->name = child_text(n, ID_NAME);
  a->unit = child_text(n, ID_UNIT);
  for (xmlNodePtr c = csi_xml_child(n, NULL); c; c = csi_xml_next(c, NULL))
    if (has_id(c, ID_ARRAY) && format_of(c) == F_ARRAY)
      return read_array(c, &a->v, what, err);
  return CS_OK;
}

/* Metadata keys must be printable ASCII: "labspec." + label, with the
 * UTF-8 degree and micro signs spelt out and other bytes replaced. */
static char *vendor_key(const char *label) {
  csi_buf b = {0};
  csi_buf_put(&b, "labspec.", 8);
  for (const unsigned char *p = (const unsigned char *)label; *p; p++) {
    if (p[0] == 0xC2 && p[1] == 0xB0) {
      csi_buf_put(&b, "deg", 3);
      p++;
    } else if (p[0] == 0xC2 && p[1] == 0xB5) {
      csi_buf_put(&b, "u", 1);
      p++;
    } else if (*p >= 0x20 && *p < 0x7F) {
      csi_buf_put(&b, (const char *)p, 1);
    } else if (*p >= 0x80 || *p == '\t') {
      csi_buf_put(&b, "_", 1);
    }
  }
  csi_buf_put(&b, "", 1);
  if (b.oom) {
    csi_buf_free(&b);
    return NULL;
  }
  return b.p;
}

/* What the parameter groups say, collected into the template spectrum. */
typedef struct params {
  double stage_x, stage_y; /* "X (um)", "Y (um)" numeric, NaN if absent */
} params;

static int parse_num(const char *s, double *out) {
  return s && csi_parse_double(s, out) == 0 ? 0 : -1;
}

static cs_status one_param(const xmlNode *n, cs_spectrum *t, params *pm,
                           cs_error *err) {
  char *label = child_text(n, ID_LABEL);
  if (!label || !*label) {
    free(label);
    return CS_OK;
  }
  char *disp = child_text(n, ID_DISPLAY);
  char *num = child_text(n, ID_NUMERIC);
  cs_status st = CS_OK;
  double v;
  const char *key = NULL;
  if (strcmp(label, "Laser (nm)") == 0) {
    /* The display value is rounded ("633 "); the numeric one is exact. */
    if ((parse_num(num, &v) == 0 || parse_num(disp, &v) == 0) && v > 0)
      t->laser_nm = v;
  } else if (strcmp(label, "Acq. time (s)") == 0) {
    if (parse_num(disp, &v) == 0 && v >= 0)
      t->exposure_s = v;
  } else if (strcmp(label, "Accumulations") == 0) {
    if (parse_num(disp, &v) == 0 && v >= 1 && v <= 1e9 && v == floor(v))
      t->accumulations = (int)v;
  } else if (strcmp(label, "X (\xC2\xB5m)") == 0) {
    if (parse_num(num, &v) == 0 || parse_num(disp, &v) == 0)
      pm->stage_x = v;
  } else if (strcmp(label, "Y (\xC2\xB5m)") == 0) {
    if (parse_num(num, &v) == 0 || parse_num(disp, &v) == 0)
      pm->stage_y = v;
  } else if (strcmp(label, "Title") == 0) {
    key = CS_META_TITLE;
  } else if (strcmp(label, "Sample") == 0) {
    key = CS_META_SAMPLE_ID;
  } else if (strcmp(label, "Instrument") == 0) {
    key = CS_META_INSTRUMENT;
  } else if (strcmp(label, "Acquired") == 0) {
    key = CS_META_ACQUIRED;
  }
  const char *val = disp ? disp : num;
  if (val && *val) {
    /* Parameters without a well-known key keep their own name. */
    char *vk = key ? NULL : vendor_key(label);
    if (!key && !vk)
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    else
      st = cs_spectrum_set_meta(t, key ? key : vk, val, err);
    free(vk);
  }
  free(label);
  free(disp);
  free(num);
  return st;
}

/* Walk the parameter groups: every container with a label child is one
 * label/value pair. */
static cs_status walk_params(const xmlNode *n, cs_spectrum *t, params *pm,
                             int depth, cs_error *err) {
  if (depth > MAX_DEPTH)
    return csi_error(err, CS_ERR_MALFORMED, "parameters nested too deeply");
  for (xmlNodePtr c = csi_xml_child(n, NULL); c; c = csi_xml_next(c, NULL)) {
    if (format_of(c) != F_NODE)
      continue;
    cs_status st = child_by_id(c, ID_LABEL)
                       ? one_param(c, t, pm, err)
                       : walk_params(c, t, pm, depth + 1, err);
    if (st)
      return st;
  }
  return CS_OK;
}

/* Spectral axis: unit -> axis kind through the shared unit map; LabSpec is
 * a Raman program, so "1/cm" is a shift.  eV and absolute cm-1 become
 * wavelengths so that every non-shift file ends up on one axis kind. */
static cs_status spectral_axis(axis_info *a, cs_spectrum *t, cs_error *err) {
  const char *u = a->unit ? a->unit : "";
  csi_axis_unit au = csi_axis_from_unit(u, CS_TECH_RAMAN);
  if (au.axis == CS_AXIS_UNKNOWN)
    return csi_error(err, CS_ERR_UNSUPPORTED,
                     "spectral axis unit '%.40s' is not handled (1/cm, "
                     "1/cm abs, nm, eV are)",
                     u);
  if (au.axis == CS_AXIS_WAVENUMBER) /* absolute: nm = 1e7 / nu */
    au = (csi_axis_unit){CS_AXIS_WAVELENGTH_NM, 1e7, 1, 0};
  if (au.inverse && au.factor == CSI_HC_EV_NM)
    au.factor = LABSPEC_EV_NM;
  cs_status st = csi_axis_unit_apply(&au, a->v.v, a->v.n, u, err);
  if (st)
    return st;
  t->axis = au.axis;
  return CS_OK;
}

/* Scale to micrometres for a map axis unit, 0 if unknown. */
static double um_scale(const char *unit) {
  if (!unit)
    return 0;
  if (strcmp(unit, "\xC2\xB5m") == 0 || strcmp(unit, "um") == 0)
    return 1;
  if (strcmp(unit, "mm") == 0)
    return 1000;
  if (strcmp(unit, "nm") == 0)
    return 1e-3;
  return 0;
}

/* Shortest of %.15g/%.17g that reads back exactly ("2849.4", not
 * "2849.4000000000001"). */
static void fmt_num(char *buf, size_t cap, double v) {
  csi_snprintf(buf, cap, "%.15g", v);
  if (csi_strtod(buf, NULL) != v)
    csi_snprintf(buf, cap, "%.17g", v);
}

static cs_status set_position(cs_spectrum *s, double x, double y,
                              cs_error *err) {
  char a[32], b[32], buf[72];
  fmt_num(a, sizeof a, x);
  fmt_num(b, sizeof b, y);
  csi_snprintf(buf, sizeof buf, "%s %s", a, b);
  return cs_spectrum_set_meta(s, CS_META_POSITION, buf, err);
}

typedef struct ctx {
  axis_info ax[4]; /* 0 intensity, 1 spectral, 2 and 3 map axes */
  csi_dvec row;
  cs_spectrum *tmpl;
  params pm;
  /* map geometry, from the tree: rows run through the first map axis
   * fastest */
  size_t n2, n3, npts;
  int mapped, swap;
  double s2, s3;
} ctx;

static cs_status ctx_init(ctx *c, cs_error *err) {
  *c = (ctx){0};
  c->pm = (params){NAN, NAN};
  c->tmpl = csi_spectrum_alloc(0);
  return c->tmpl ? CS_OK : csi_error(err, CS_ERR_NOMEM, "out of memory");
}

static void ctx_free(ctx *c) {
  for (int i = 0; i < 4; i++)
    axis_free(&c->ax[i]);
  csi_dvec_free(&c->row);
  cs_spectrum_free(c->tmpl);
}

/* Everything <LSX_Tree> says: axes, parameters, map geometry, into c. */
static cs_status read_tree(const xmlNode *tree, ctx *c, cs_error *err) {
  xmlNodePtr axes = find_id(tree, ID_AXES, 0);
  if (!axes)
    return csi_error(err, CS_ERR_MALFORMED, "no axis container (ID 0x%lX)",
                     ID_AXES);
  static const char *const what[] = {"intensity axis", "spectral axis",
                                     "first map axis", "second map axis"};
  for (unsigned long i = 0; i < 4; i++) {
    cs_status st = read_axis(axes, i, &c->ax[i], what[i], err);
    if (st)
      return st;
  }
  axis_info *sp = &c->ax[1];
  if (!sp->present || sp->v.n == 0)
    return csi_error(err, CS_ERR_MALFORMED, "no spectral axis values");

  cs_spectrum *t = c->tmpl;
  t->technique = CS_TECH_RAMAN;
  cs_status st = spectral_axis(sp, t, err);
  if (st)
    return st;
  const char *iu = c->ax[0].unit ? c->ax[0].unit : "";
  t->quantity = strcmp(iu, "Cnt/sec") == 0 ? CS_Q_COUNTS_PER_S
                : strcmp(iu, "Cnt") == 0   ? CS_Q_COUNTS
                                           : CS_Q_ARBITRARY;
  if (sp->unit &&
      (st = cs_spectrum_set_meta(t, "labspec.x_unit", sp->unit, err)))
    return st;
  if (c->ax[0].unit &&
      (st = cs_spectrum_set_meta(t, "labspec.y_unit", c->ax[0].unit, err)))
    return st;

  xmlNodePtr pnode = child_by_id(tree, ID_PARAMS);
  if (pnode && (st = walk_params(pnode, t, &c->pm, 0, err)))
    return st;
  if (!cs_spectrum_meta(t, CS_META_TITLE)) {
    char *title = child_text(tree, ID_TITLE);
    if (title && *title)
      st = cs_spectrum_set_meta(t, CS_META_TITLE, title, err);
    free(title);
    if (st)
      return st;
  }
  xmlNodePtr rot = child_by_id(tree, ID_ROTATION);
  if (rot) {
    char *a = child_text(rot, 0);
    double v;
    if (parse_num(a, &v) == 0)
      st = cs_spectrum_set_meta(t, "labspec.rotation_rad", a, err);
    free(a);
    if (st)
      return st;
  }

  c->n2 = c->ax[2].v.n ? c->ax[2].v.n : 1;
  c->n3 = c->ax[3].v.n ? c->ax[3].v.n : 1;
  c->mapped = c->ax[2].v.n > 0 || c->ax[3].v.n > 0;
  /* Which map axis is X: by its name ("X", "XA"...), else the first. */
  c->swap = c->ax[2].name && c->ax[2].name[0] == 'Y' &&
            (!c->ax[3].name || c->ax[3].name[0] != 'Y');
  c->s2 = c->ax[2].v.n ? um_scale(c->ax[2].unit) : 1;
  c->s3 = c->ax[3].v.n ? um_scale(c->ax[3].unit) : 1;
  c->npts = sp->v.n;
  return CS_OK;
}

/* The matrix's row count against the map axes and its Size attribute
 * (has_size: Size was given, as msize). */
static cs_status check_rows(const ctx *c, size_t nrows, int has_size,
                            double msize, cs_error *err) {
  if (nrows == 0)
    return csi_error(err, CS_ERR_MALFORMED, "<LSX_Matrix> has no rows");
  if (c->mapped && nrows != c->n2 * c->n3)
    return csi_error(err, CS_ERR_MALFORMED,
                     "<LSX_Matrix> has %zu rows but the map axes give %zu x "
                     "%zu positions",
                     nrows, c->n2, c->n3);
  if (has_size && msize != (double)nrows * (double)c->npts)
    return csi_error(err, CS_ERR_MALFORMED,
                     "<LSX_Matrix> Size says %.0f values, rows hold %zu x %zu",
                     msize, nrows, c->npts);
  return CS_OK;
}

/* Matrix row k (element r) as a spectrum with the template's metadata and
 * its map position. */
static cs_status read_row(ctx *c, const xmlNode *r, size_t k,
                          cs_spectrum **out, cs_error *err) {
  *out = NULL;
  char what_row[48];
  csi_snprintf(what_row, sizeof what_row, "matrix row %zu", k);
  if (!csi_xml_is(r, "LSX_Row"))
    return csi_error(err, CS_ERR_MALFORMED, "%s is <%s>, not <LSX_Row>",
                     what_row, (const char *)r->name);
  double index;
  if (csi_xml_attr_double(r, "Index", &index) == 0 && index != (double)k)
    return csi_error(err, CS_ERR_MALFORMED, "%s has Index %.0f", what_row,
                     index);
  c->row.n = 0;
  cs_status st = read_array(r, &c->row, what_row, err);
  if (st)
    return st;
  size_t npts = c->npts;
  if (c->row.n != npts)
    return csi_error(err, CS_ERR_MALFORMED,
                     "%s has %zu values, the spectral axis %zu", what_row,
                     c->row.n, npts);
  cs_spectrum *s = csi_spectrum_alloc(npts);
  if (!s)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  memcpy(s->x, c->ax[1].v.v, npts * sizeof *s->x);
  memcpy(s->y, c->row.v, npts * sizeof *s->y);
  st = csi_spectrum_copy_meta(s, c->tmpl, err);
  if (!st && c->mapped && c->s2 > 0 && c->s3 > 0) {
    double a2 = c->ax[2].v.n ? c->ax[2].v.v[k % c->n2] * c->s2 : 0;
    double a3 = c->ax[3].v.n ? c->ax[3].v.v[k / c->n2] * c->s3 : 0;
    st = c->swap ? set_position(s, a3, a2, err) : set_position(s, a2, a3, err);
  } else if (!st && !c->mapped && isfinite(c->pm.stage_x) &&
             isfinite(c->pm.stage_y)) {
    st = set_position(s, c->pm.stage_x, c->pm.stage_y, err);
  }
  if (st) {
    cs_spectrum_free(s);
    return st;
  }
  *out = s;
  return CS_OK;
}

static cs_status read_doc(xmlDocPtr doc, ctx *c, cs_dataset *ds,
                          cs_error *err) {
  xmlNodePtr root = xmlDocGetRootElement(doc);
  if (!csi_xml_is(root, "LSX_Data"))
    return csi_error(err, CS_ERR_MALFORMED, "root element is not <LSX_Data>");
  xmlNodePtr tree = csi_xml_child(root, "LSX_Tree");
  xmlNodePtr matrix = csi_xml_child(root, "LSX_Matrix");
  if (!tree || !matrix)
    return csi_error(err, CS_ERR_MALFORMED, "no <%s> element",
                     tree ? "LSX_Matrix" : "LSX_Tree");
  cs_status st = read_tree(tree, c, err);
  if (st)
    return st;
  size_t nrows = 0;
  for (xmlNodePtr r = csi_xml_child(matrix, NULL); r; r = csi_xml_next(r, NULL))
    nrows++;
  double msize;
  int has_size = csi_xml_attr_double(matrix, "Size", &msize) == 0;
  if ((st = check_rows(c, nrows, has_size, msize, err)))
    return st;
  size_t k = 0;
  for (xmlNodePtr r = csi_xml_child(matrix, NULL); r;
       r = csi_xml_next(r, NULL), k++) {
    cs_spectrum *s;
    if ((st = read_row(c, r, k, &s, err)) || (st = cs_dataset_push(ds, s, err)))
      return st;
  }
  return CS_OK;
}

static cs_status read_lsx(const char *path, cs_dataset **out, cs_error *err) {
  *out = NULL;
  xmlDocPtr doc;
  cs_status rs = csi_xml_read_file(path, 0, &doc, err);
  if (rs)
    return rs;
  ctx c;
  cs_dataset *ds = csi_dataset_alloc();
  cs_status st = ctx_init(&c, err);
  if (!st)
    st = ds ? read_doc(doc, &c, ds, err)
            : csi_error(err, CS_ERR_NOMEM, "out of memory");
  ctx_free(&c);
  xmlFreeDoc(doc);
  if (st) {
    cs_dataset_free(ds);
    return st;
  }
  *out = ds;
  return CS_OK;
}

/* ---- streaming: one <LSX_Row> at a time ----
 * The pull parser expands <LSX_Tree> (axes and parameters: small) and read
 * with read_tree above, then each row of <LSX_Matrix> in turn, read with
 * read_row and freed as the parser moves on: one spectrum is held.  The row
 * count is checked against the map axes and Size as the rows come (too
 * many: at the first extra one; too few: at the end of the matrix), so a
 * bad count is reported after the rows before it.  LabSpec writes the tree
 * first; a matrix before its tree is read whole (read_lsx), as the DOM
 * reader reads it. */

typedef struct {
  csi_xml_stream *xs;
  char *path;
  ctx c;
  int skip;      /* move past the current subtree, not into it */
  int root_seen, tree_seen, matrix_seen, in_matrix;
  int has_size;  /* the matrix's Size attribute, as msize */
  double msize;
  size_t k;      /* rows read */
  cs_dataset *whole; /* matrix before tree: the DOM reading, handed out */
  size_t pos;
} lsx_stream;

static void stream_close(void *state) {
  lsx_stream *ls = state;
  if (!ls)
    return;
  csi_xml_stream_close(ls->xs);
  ctx_free(&ls->c);
  cs_dataset_free(ls->whole);
  free(ls->path);
  free(ls);
}

static cs_status stream_open(const char *path, void **state, cs_error *err) {
  *state = NULL;
  lsx_stream *ls = calloc(1, sizeof *ls);
  if (!ls)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = ctx_init(&ls->c, err);
  if (!st && !(ls->path = csi_strdup(path)))
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st)
    st = csi_xml_stream_open(path, &ls->xs, err);
  if (st) {
    stream_close(ls);
    return st;
  }
  *state = ls;
  return CS_OK;
}

static size_t stream_held(const void *state) {
  const lsx_stream *ls = state;
  return ls->whole ? ls->whole->n - ls->pos : 0;
}

/* Known once the tree is read (a map: its pixels; else the matrix's Size
 * over the points), which cs_reader's first spectrum has done. */
static size_t stream_count(const void *state) {
  const lsx_stream *ls = state;
  if (ls->whole)
    return ls->whole->n;
  if (!ls->tree_seen)
    return 0;
  if (ls->c.mapped)
    return ls->c.n2 * ls->c.n3;
  double n = ls->has_size ? ls->msize / (double)ls->c.npts : 0;
  return n >= 1 && n == floor(n) && n < 1e15 ? (size_t)n : 0;
}

static cs_status stream_next(void *state, cs_spectrum **out, cs_error *err) {
  lsx_stream *ls = state;
  *out = NULL;
  if (ls->whole) {
    if (ls->pos < ls->whole->n) {
      *out = ls->whole->items[ls->pos];
      ls->whole->items[ls->pos++] = NULL; /* handed out */
    }
    return CS_OK;
  }
  csi_xml_stream *xs = ls->xs;
  for (;;) {
    int rc = ls->skip ? csi_xml_stream_next(xs) : csi_xml_stream_read(xs);
    ls->skip = 0;
    if (rc < 0)
      return csi_xml_stream_error(xs, err);
    int depth = rc ? csi_xml_stream_depth(xs) : 0;
    if (ls->in_matrix && (rc == 0 || depth <= 1)) { /* the matrix ended */
      ls->in_matrix = 0;
      cs_status st = check_rows(&ls->c, ls->k, ls->has_size, ls->msize, err);
      if (st)
        return st;
    }
    if (rc == 0) {
      if (!ls->root_seen)
        return csi_error(err, CS_ERR_MALFORMED,
                         "XML document has no root element");
      if (!ls->tree_seen || !ls->matrix_seen)
        return csi_error(err, CS_ERR_MALFORMED, "no <%s> element",
                         ls->tree_seen ? "LSX_Matrix" : "LSX_Tree");
      return CS_OK;
    }
    if (!csi_xml_stream_is_element(xs))
      continue;
    const char *name = csi_xml_stream_name(xs);
    if (depth == 0) {
      ls->root_seen = 1;
      if (strcmp(name, "LSX_Data"))
        return csi_error(err, CS_ERR_MALFORMED,
                         "root element is not <LSX_Data>");
      continue; /* into it */
    }
    ls->skip = 1; /* every element is read or passed over whole ... */
    if (depth == 1 && !strcmp(name, "LSX_Tree") && !ls->tree_seen) {
      xmlNodePtr tree = csi_xml_stream_expand(xs);
      if (!tree)
        return csi_xml_stream_error(xs, err);
      ls->tree_seen = 1;
      cs_status st = read_tree(tree, &ls->c, err);
      if (st)
        return st;
    } else if (depth == 1 && !strcmp(name, "LSX_Matrix") && !ls->matrix_seen) {
      ls->matrix_seen = 1;
      if (!ls->tree_seen) { /* not as LabSpec writes it: read whole */
        cs_status st = read_lsx(ls->path, &ls->whole, err);
        if (st)
          return st;
        return stream_next(ls, out, err);
      }
      char *size = csi_xml_stream_attr(xs, "Size");
      ls->has_size = size && csi_parse_double(size, &ls->msize) == 0;
      free(size);
      ls->in_matrix = 1;
      ls->skip = 0; /* ... except the matrix, read row by row */
      size_t want = ls->c.n2 * ls->c.n3;
      if (ls->c.mapped && ls->has_size &&
          ls->msize != (double)want * (double)ls->c.npts)
        return check_rows(&ls->c, want, 1, ls->msize, err);
    } else if (depth == 2 && ls->in_matrix) {
      size_t k = ls->k++;
      /* more rows than the map or Size allows: refused at the first extra */
      if ((ls->c.mapped && k >= ls->c.n2 * ls->c.n3) ||
          (ls->has_size && (double)(k + 1) * (double)ls->c.npts > ls->msize))
        return check_rows(&ls->c, k + 1, ls->has_size, ls->msize, err);
      xmlNodePtr r = csi_xml_stream_expand(xs);
      if (!r)
        return csi_xml_stream_error(xs, err);
      return read_row(&ls->c, r, k, out, err);
    }
  }
}

static int sniff(const unsigned char *head, size_t n) {
  if (!csi_xml_sniff_root(head, n, "LSX_Data"))
    return 0;
  return csi_memcasemem(head, n, "<LSX_Tree") ? 100 : 90;
}

const csi_reader csi_reader_labspec_xml = {
    "labspec_xml",
    "xml",
    "HORIBA LabSpec 6 XML export (LSX_Data): spectra, line scans, maps",
    sniff,
    read_lsx,
    NULL};

const csi_stream csi_stream_labspec_xml = {stream_open, stream_next,
                                           stream_close, stream_held,
                                           stream_count};
