/* io_jcamp.c: JCAMP-DX 4.24/5.x reader and writer (../shared/formats/
 * FORMATS.md §7; McDonald & Wilks, Appl. Spectrosc. 42 (1988) 151).
 *
 * A file is a sequence of blocks, ##TITLE= ... ##END=, possibly wrapped in a
 * LINK block.  Each block with ##XYDATA=(X++(Y..Y)) (ASDF: AFFN, PAC, SQZ,
 * DIF, DUP) or ##XYPOINTS=(XY..XY) becomes one spectrum.  Peak tables,
 * NTUPLES, RADATA and non-optical data (NMR, mass spectra) are skipped; a
 * file with nothing else is refused with CS_ERR_UNSUPPORTED.  The writer
 * emits AFFN (XY..XY) with %.17g plus ##$CALCSPEC labels that the reader
 * restores exactly. */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- labels ---- */

typedef struct label {
  char *name;  /* as written, trimmed ("DATA TYPE") */
  char *norm;  /* upper case without space - / _ ("DATATYPE") */
  char *value; /* trimmed; continuation lines joined with '\n' */
  size_t line; /* 1-based line of the label */
} label;

enum { SPEC_NONE, SPEC_XPP, SPEC_XY };

typedef struct block {
  label *lab;
  size_t nlab, caplab;
  size_t title_line;
  int spec;             /* SPEC_* of the first spectral table */
  size_t dfirst, dlast; /* its data lines [dfirst, dlast) (0-based) */
  size_t dline;         /* line of its ##XYDATA/##XYPOINTS label */
  int peaks;            /* a ##PEAK TABLE / PEAK ASSIGNMENTS was seen */
  char other[96];       /* first unsupported table, "" when none */
  int calcspec;         /* has ##$CALCSPEC labels (written by us) */
} block;

/* Label names compare ignoring case, spaces, dashes, slashes and underscores
 * (JCAMP-DX 4.24 §4.1; FORMATS.md §7). */
static char *normalize(const char *s, size_t n) {
  char *out = malloc(n + 1);
  size_t k = 0;
  if (!out)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isspace(c) || c == '-' || c == '/' || c == '_')
      continue;
    out[k++] = (char)toupper(c);
  }
  out[k] = '\0';
  return out;
}

static void block_clear(block *b) {
  for (size_t i = 0; i < b->nlab; i++) {
    free(b->lab[i].name);
    free(b->lab[i].norm);
    free(b->lab[i].value);
  }
  free(b->lab);
  memset(b, 0, sizeof *b);
}

static cs_status block_add(block *b, const char *name, size_t nlen,
                           const char *value, size_t line, cs_error *err) {
  if (b->nlab == b->caplab) {
    size_t ncap = b->caplab ? 2 * b->caplab : 32;
    label *l = realloc(b->lab, ncap * sizeof *l);
    if (!l)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    b->lab = l;
    b->caplab = ncap;
  }
  label *l = &b->lab[b->nlab];
  l->name = csi_strndup(name, nlen);
  l->norm = normalize(name, nlen);
  l->value = csi_strdup(value);
  l->line = line;
  if (!l->name || !l->norm || !l->value) {
    free(l->name);
    free(l->norm);
    free(l->value);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  csi_trim(l->name);
  b->nlab++;
  return CS_OK;
}

/* Last value of a label (JCAMP allows repeats; the last one wins). */
static const label *find(const block *b, const char *norm) {
  for (size_t i = b->nlab; i-- > 0;)
    if (strcmp(b->lab[i].norm, norm) == 0)
      return &b->lab[i];
  return NULL;
}

static const char *value_of(const block *b, const char *norm) {
  const label *l = find(b, norm);
  return l ? l->value : NULL;
}

/* Upper-cased copy with runs of blanks collapsed, for comparing unit and
 * data-type strings ("Transmission (%)" -> "TRANSMISSION (%)"). */
static void upper_words(const char *s, char *out, size_t cap) {
  size_t k = 0;
  int space = 0;
  for (; s && *s && k + 1 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (isspace(c)) {
      space = k > 0;
      continue;
    }
    if (space && k + 2 < cap)
      out[k++] = ' ';
    space = 0;
    out[k++] = (char)toupper(c);
  }
  out[k] = '\0';
}

/* A header number; with a decimal comma (Ocean Optics exports in some
 * locales write "176,36") when comma is set. */
static int parse_num(const char *s, int comma, double *out) {
  char buf[128];
  size_t n = strlen(s);
  if (n >= sizeof buf)
    return -1;
  memcpy(buf, s, n + 1);
  if (comma) {
    char *c = strchr(buf, ',');
    if (c)
      *c = '.';
  }
  return csi_parse_double(buf, out);
}

/* "176,36" style: digits, one comma, digits, no period. */
static int is_comma_decimal(const char *s) {
  const char *p = s;
  while (isspace((unsigned char)*p))
    p++;
  if (*p == '+' || *p == '-')
    p++;
  if (!isdigit((unsigned char)*p))
    return 0;
  while (isdigit((unsigned char)*p))
    p++;
  if (*p != ',' || !isdigit((unsigned char)p[1]))
    return 0;
  p++;
  while (isdigit((unsigned char)*p))
    p++;
  while (isspace((unsigned char)*p))
    p++;
  return *p == '\0';
}

static cs_status num_label(const block *b, const char *norm, int comma,
                           int *have, double *out, cs_error *err) {
  const label *l = find(b, norm);
  *have = 0;
  if (!l)
    return CS_OK;
  if (parse_num(l->value, comma, out))
    return csi_error(err, CS_ERR_MALFORMED,
                     "line %zu: ##%s value '%.40s' is not a number", l->line,
                     l->name, l->value);
  *have = 1;
  return CS_OK;
}

/* ---- ASDF (X++(Y..Y)) decoding ---- */

/* Value of an SQZ (@A-I a-i) or DIF (%J-R j-r) pseudo-digit, or -10. */
static int sqz_digit(int c) {
  if (c == '@')
    return 0;
  if (c >= 'A' && c <= 'I')
    return c - 'A' + 1;
  if (c >= 'a' && c <= 'i')
    return -(c - 'a' + 1);
  return -10;
}
static int dif_digit(int c) {
  if (c == '%')
    return 0;
  if (c >= 'J' && c <= 'R')
    return c - 'J' + 1;
  if (c >= 'j' && c <= 'r')
    return -(c - 'j' + 1);
  return -10;
}
static int dup_digit(int c) {
  if (c >= 'S' && c <= 'Z')
    return c - 'S' + 1;
  return c == 's' ? 9 : -10;
}

enum { T_ABS, T_DIF, T_DUP };

/* Parse one token at *pp (separators already skipped).  AFFN/PAC numbers may
 * carry an exponent only as E/e followed by a sign and a digit, since a bare
 * E is the SQZ digit +5. */
static cs_status next_token(const char **pp, int *kind, double *v, size_t line,
                            cs_error *err) {
  const char *p = *pp;
  char buf[80];
  size_t k = 0;
  int c = (unsigned char)*p, d;
  if (isdigit(c) || c == '.' || c == '+' || c == '-') {
    *kind = T_ABS;
    buf[k++] = (char)c;
    p++;
  } else if ((d = sqz_digit(c)) != -10 || (d = dif_digit(c)) != -10) {
    *kind = sqz_digit(c) != -10 ? T_ABS : T_DIF;
    if (d < 0)
      buf[k++] = '-';
    buf[k++] = (char)('0' + abs(d));
    p++;
  } else if ((d = dup_digit(c)) != -10) {
    unsigned long long cnt = (unsigned long long)d;
    p++;
    while (isdigit((unsigned char)*p)) {
      if (cnt > CSI_MAX_POINTS)
        return csi_error(err, CS_ERR_MALFORMED, "line %zu: DUP count too large",
                         line);
      cnt = cnt * 10 + (unsigned long long)(*p++ - '0');
    }
    *kind = T_DUP;
    *v = (double)cnt;
    *pp = p;
    return CS_OK;
  } else if (c == '?') {
    return csi_error(err, CS_ERR_MALFORMED,
                     "line %zu: missing value '?' is not supported", line);
  } else {
    return csi_error(err, CS_ERR_MALFORMED,
                     "line %zu: unexpected character '%c' (0x%02x) in data",
                     line, isprint(c) ? c : '?', (unsigned)c);
  }
  while (isdigit((unsigned char)*p) || *p == '.') {
    if (k + 1 >= sizeof buf - 8)
      return csi_error(err, CS_ERR_MALFORMED, "line %zu: number too long",
                       line);
    buf[k++] = *p++;
  }
  if (*kind == T_ABS && isdigit((unsigned char)buf[k - 1]) &&
      (*p == 'e' || *p == 'E') && (p[1] == '+' || p[1] == '-') &&
      isdigit((unsigned char)p[2])) {
    buf[k++] = *p++;
    buf[k++] = *p++;
    for (int i = 0; isdigit((unsigned char)*p); i++, p++) {
      if (i >= 4)
        return csi_error(err, CS_ERR_MALFORMED, "line %zu: exponent too long",
                         line);
      buf[k++] = *p;
    }
  }
  buf[k] = '\0';
  char *end;
  double x = csi_strtod(buf, &end);
  if (*end || end == buf || !isfinite(x))
    return csi_error(err, CS_ERR_MALFORMED, "line %zu: bad number '%s'", line,
                     buf);
  *v = x;
  *pp = p;
  return CS_OK;
}

static int is_sep(int c) {
  return c == ' ' || c == '\t' || c == ',' || c == ';' || c == '\v' ||
         c == '\f';
}

/* Abscissa check value of one line and the index of the point it names. */
typedef struct xcheck {
  double xraw;
  size_t index;
  size_t line;
} xcheck;

/* Decode (X++(Y..Y)) lines into raw ordinates y (at most limit) and the
 * per-line abscissa checks.  A line after one that ended in DIF form starts
 * with the previous ordinate again (the Y-check): it must match and is
 * dropped. */
static cs_status decode_xpp(char **lines, size_t first, size_t last,
                            size_t limit, csi_dvec *y, xcheck **xc, size_t *nxc,
                            cs_error *err) {
  int prev_dif = 0;
  *xc = NULL;
  *nxc = 0;
  size_t capxc = 0;
  for (size_t li = first; li < last; li++) {
    const char *p = lines[li];
    size_t lno = li + 1;
    while (is_sep((unsigned char)*p))
      p++;
    if (!*p)
      continue;
    int kind;
    double v, xraw;
    cs_status st = next_token(&p, &kind, &xraw, lno, err);
    if (st)
      return st;
    if (kind != T_ABS)
      return csi_error(err, CS_ERR_MALFORMED,
                       "line %zu: line does not start with an x value", lno);
    size_t start = y->n;
    int first_y = 1, checked = 0, mode = -1, have_cur = 0;
    double cur = 0, lastdif = 0;
    for (;;) {
      while (is_sep((unsigned char)*p))
        p++;
      if (!*p)
        break;
      st = next_token(&p, &kind, &v, lno, err);
      if (st)
        return st;
      if (kind == T_ABS) {
        if (first_y && prev_dif && y->n > 0) {
          double want = y->v[y->n - 1];
          if (fabs(v - want) > 1e-9 * fmax(1.0, fabs(want)))
            return csi_error(err, CS_ERR_MALFORMED,
                             "line %zu: DIF y-check %.17g does not match the "
                             "last ordinate %.17g of the previous line",
                             lno, v, want);
          checked = 1;
        } else {
          if (y->n >= limit)
            goto too_many;
          if (csi_dvec_push(y, v))
            return csi_error(err, CS_ERR_NOMEM, "out of memory");
        }
        cur = v;
        have_cur = 1;
        mode = T_ABS;
      } else if (kind == T_DIF) {
        if (!have_cur)
          return csi_error(err, CS_ERR_MALFORMED,
                           "line %zu: DIF value without an ordinate before "
                           "it on the line",
                           lno);
        cur += v;
        lastdif = v;
        if (y->n >= limit)
          goto too_many;
        if (csi_dvec_push(y, cur))
          return csi_error(err, CS_ERR_NOMEM, "out of memory");
        mode = T_DIF;
      } else {
        if (!have_cur)
          return csi_error(err, CS_ERR_MALFORMED,
                           "line %zu: DUP count without a value before it",
                           lno);
        if (v < 1)
          return csi_error(err, CS_ERR_MALFORMED, "line %zu: DUP count 0", lno);
        size_t reps = (size_t)v - 1;
        if (reps > limit - y->n)
          goto too_many;
        for (size_t r = 0; r < reps; r++) {
          if (mode == T_DIF)
            cur += lastdif;
          if (csi_dvec_push(y, cur))
            return csi_error(err, CS_ERR_NOMEM, "out of memory");
        }
      }
      first_y = 0;
    }
    prev_dif = mode == T_DIF;
    if (mode == -1)
      continue; /* x without ordinates: nothing to check it against */
    if (*nxc == capxc) {
      size_t ncap = capxc ? 2 * capxc : 64;
      xcheck *t = realloc(*xc, ncap * sizeof *t);
      if (!t)
        return csi_error(err, CS_ERR_NOMEM, "out of memory");
      *xc = t;
      capxc = ncap;
    }
    (*xc)[(*nxc)++] = (xcheck){xraw, checked ? start - 1 : start, lno};
  }
  return CS_OK;
too_many:
  return csi_error(err, CS_ERR_MALFORMED,
                   "more ordinates than ##NPOINTS=%zu (or the %zu-point "
                   "limit)",
                   limit, (size_t)CSI_MAX_POINTS);
}

/* Decode (XY..XY) lines: AFFN numbers separated by blanks, commas or
 * semicolons.  With comma set, a comma between two digits is a decimal
 * separator. */
static cs_status decode_xy(char **lines, size_t first, size_t last,
                           size_t limit, int comma, csi_dvec *xs, csi_dvec *ys,
                           cs_error *err) {
  size_t nval = 0;
  for (size_t li = first; li < last; li++) {
    const char *p = lines[li];
    size_t lno = li + 1;
    for (;;) {
      while (*p &&
             (is_sep((unsigned char)*p) &&
              !(comma && *p == ',' && p > lines[li] &&
                isdigit((unsigned char)p[-1]) && isdigit((unsigned char)p[1]))))
        p++;
      if (!*p)
        break;
      char buf[80];
      size_t k = 0;
      while (*p && !isspace((unsigned char)*p) && *p != ';' &&
             !(*p == ',' && !(comma && k > 0 && isdigit((unsigned char)p[1]) &&
                              isdigit((unsigned char)p[-1])))) {
        if (k + 1 >= sizeof buf)
          return csi_error(err, CS_ERR_MALFORMED, "line %zu: number too long",
                           lno);
        buf[k++] = *p == ',' ? '.' : *p;
        p++;
      }
      buf[k] = '\0';
      double v;
      if (strcmp(buf, "?") == 0)
        return csi_error(err, CS_ERR_MALFORMED,
                         "line %zu: missing value '?' is not supported", lno);
      /* not csi_parse_double: a subnormal (ERANGE) is still a value */
      char *end;
      v = csi_strtod(buf, &end);
      if (end == buf || *end || !isfinite(v))
        return csi_error(err, CS_ERR_MALFORMED,
                         "line %zu: bad number '%.40s' in (XY..XY) data", lno,
                         buf);
      if (nval / 2 >= limit)
        return csi_error(err, CS_ERR_MALFORMED,
                         "more points than ##NPOINTS=%zu (or the %zu-point "
                         "limit)",
                         limit, (size_t)CSI_MAX_POINTS);
      if (csi_dvec_push(nval % 2 ? ys : xs, v))
        return csi_error(err, CS_ERR_NOMEM, "out of memory");
      nval++;
    }
  }
  if (nval % 2)
    return csi_error(err, CS_ERR_MALFORMED,
                     "odd number of values (%zu) in (XY..XY) data", nval);
  return CS_OK;
}

/* ---- block -> spectrum ---- */

/* Percent-decoding of ##$CALCSPEC META text (see encode()). */
static char *pct_decode(const char *s, size_t n) {
  char *out = malloc(n + 1);
  size_t k = 0;
  if (!out)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '%') {
      out[k++] = s[i];
      continue;
    }
    if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
        !isxdigit((unsigned char)s[i + 2])) {
      free(out);
      return NULL;
    }
    char hex[3] = {s[i + 1], s[i + 2], 0};
    out[k++] = (char)strtol(hex, NULL, 16);
    i += 2;
  }
  out[k] = '\0';
  return out;
}

static cs_status restore_calcspec(cs_spectrum *s, const block *b,
                                  cs_error *err) {
  for (size_t i = 0; i < b->nlab; i++) {
    const label *l = &b->lab[i];
    if (strncmp(l->norm, "$CALCSPEC", 9) != 0)
      continue;
    const char *what = l->norm + 9, *v = l->value;
    double d;
    int bad = 0;
    if (!strcmp(what, "AXIS"))
      bad = cs_axis_from_name(v, &s->axis) != CS_OK;
    else if (!strcmp(what, "QUANTITY"))
      bad = cs_quantity_from_name(v, &s->quantity) != CS_OK;
    else if (!strcmp(what, "TECHNIQUE"))
      bad = cs_technique_from_name(v, &s->technique) != CS_OK;
    else if (!strcmp(what, "LASERNM"))
      bad = csi_parse_double(v, &d) || !((s->laser_nm = d) > 0);
    else if (!strcmp(what, "EXPOSURES"))
      bad = csi_parse_double(v, &d) || !((s->exposure_s = d) >= 0);
    else if (!strcmp(what, "ACCUMULATIONS"))
      bad = csi_parse_double(v, &d) || !csi_count_ok(d) ||
            !((s->accumulations = (int)d) > 0);
    else if (!strcmp(what, "META")) {
      const char *eq = strchr(v, '=');
      char *k = eq ? pct_decode(v, (size_t)(eq - v)) : NULL;
      char *val = eq ? pct_decode(eq + 1, strlen(eq + 1)) : NULL;
      cs_status st = CS_ERR_MALFORMED;
      if (k && val)
        st = cs_spectrum_set_meta(s, k, val, err);
      free(k);
      free(val);
      if (st == CS_ERR_NOMEM)
        return st;
      bad = st != CS_OK;
    }
    if (bad)
      return csi_error(err, CS_ERR_MALFORMED,
                       "line %zu: bad ##%s value '%.40s'", l->line, l->name, v);
  }
  return CS_OK;
}

/* Labels that only describe the encoding, or that go to typed fields. */
static int consumed(const char *norm) {
  static const char *const tab[] = {
      "TITLE",   "FIRSTX",  "LASTX",    "DELTAX",
      "XFACTOR", "YFACTOR", "NPOINTS",  "FIRSTY",
      "MAXX",    "MINX",    "MAXY",     "MINY",
      "DATE",    "TIME",    "LONGDATE", "SPECTROMETERDATASYSTEM",
      "BLOCKS",  ""};
  for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
    if (!strcmp(norm, tab[i]))
      return 1;
  return 0;
}

/* Vendor laser labels, e.g. ##$LASER WAVELENGTH=785 (no standard label
 * exists, FORMATS.md §7): a private label naming a laser or excitation with a
 * leading number in the nm range. */
static double vendor_laser(const block *b) {
  for (size_t i = 0; i < b->nlab; i++) {
    const char *n = b->lab[i].norm;
    if ((n[0] != '$' && n[0] != '.') ||
        (!strstr(n, "LASER") && !strstr(n, "EXCITATION")))
      continue;
    char *end;
    double v = csi_strtod(b->lab[i].value, &end);
    if (end != b->lab[i].value && isfinite(v) && v >= 100 && v <= 5000)
      return v;
  }
  return NAN;
}

/* Typed fields and text metadata of a foreign (not calcspec-written) block. */
static cs_status set_foreign_meta(cs_spectrum *s, const block *b,
                                  cs_error *err) {
  cs_status st;
  const char *v = value_of(b, "TITLE");
  if (v && *v && (st = cs_spectrum_set_meta(s, CS_META_TITLE, v, err)))
    return st;
  const char *date = value_of(b, "DATE"), *time = value_of(b, "TIME");
  const char *longdate = value_of(b, "LONGDATE");
  char *acq = NULL;
  if (longdate && *longdate)
    acq = csi_strdup(longdate);
  else if (date && *date && time && *time)
    acq = csi_strfmt("%s %s", date, time);
  else if (date && *date)
    acq = csi_strdup(date);
  if (acq) {
    st = cs_spectrum_set_meta(s, CS_META_ACQUIRED, acq, err);
    free(acq);
    if (st)
      return st;
  }
  v = value_of(b, "SPECTROMETERDATASYSTEM");
  if (v && *v && (st = cs_spectrum_set_meta(s, CS_META_INSTRUMENT, v, err)))
    return st;
  s->laser_nm = vendor_laser(b);
  /* ##.AVERAGES: number of scans averaged (JCAMP-DX 5 NMR/MS labels; Ocean
   * Optics uses it too). */
  double avg;
  v = value_of(b, ".AVERAGES");
  if (v && !csi_parse_double(v, &avg) && avg >= 1 && avg <= 1e9 &&
      avg == floor(avg))
    s->accumulations = (int)avg;
  /* Everything else as jcamp.LABEL; repeated labels are joined with "; ". */
  for (size_t i = 0; i < b->nlab; i++) {
    const label *l = &b->lab[i];
    if (consumed(l->norm) || !*l->value || !*l->name)
      continue;
    char *key = csi_strfmt("jcamp.%s", l->name);
    if (!key)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    for (char *c = key; *c; c++) /* keys must be printable */
      if (!isgraph((unsigned char)*c) && *c != ' ')
        *c = '_';
    const char *old = cs_spectrum_meta(s, key);
    char *val = NULL; /* a repeated label: values joined with "; " */
    if (!old)
      st = cs_spectrum_set_meta(s, key, l->value, err);
    else if (!(val = csi_strfmt("%s; %s", old, l->value)))
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    else
      st = cs_spectrum_set_meta(s, key, val, err);
    free(key);
    free(val);
    if (st)
      return st;
  }
  return CS_OK;
}

/* Outcome of one block that is not a spectrum. */
typedef struct tally {
  size_t peaks;     /* peak tables skipped */
  char reason[160]; /* first unsupported block */
} tally;

static void skip_block(tally *t, const char *fmt, const char *what,
                       size_t line) {
  char msg[160];
  csi_snprintf(msg, sizeof msg, fmt, what);
  csi_log(1, "jcamp: block at line %zu skipped: %s", line, msg);
  if (!t->reason[0])
    csi_snprintf(t->reason, sizeof t->reason, "%s", msg);
}

/* What a block's labels say before its data are decoded. */
typedef struct block_kind {
  cs_technique tech;
  cs_axis axis;
  double xunit; /* x multiplier to the axis unit (micrometres -> nm) */
  cs_quantity q;
  double yunit; /* 100 when a TRANSMITTANCE fraction becomes percent */
} block_kind;

/* Technique and x axis of a block, or 0 when the block is skipped (a peak
 * table, a block without data, NMR or mass spectra, x units outside the
 * shared unit map), with the reason tallied. */
static int classify_block(const block *b, tally *t, block_kind *k) {
  char dtype[96], xunits[64], dclass[64];
  upper_words(value_of(b, "DATATYPE"), dtype, sizeof dtype);
  upper_words(value_of(b, "XUNITS"), xunits, sizeof xunits);
  upper_words(value_of(b, "DATACLASS"), dclass, sizeof dclass);
  if (strstr(dtype, "PEAK") || strstr(dclass, "PEAK") ||
      (b->spec == SPEC_NONE && b->peaks)) {
    t->peaks++;
    csi_log(1, "jcamp: block at line %zu is a peak table, skipped",
            b->title_line);
    return 0;
  }
  if (b->spec == SPEC_NONE) {
    if (b->other[0])
      skip_block(t, "%s is not supported", b->other, b->title_line);
    return 0; /* LINK header or a block without data */
  }
  if (strstr(dtype, "NMR") || strstr(dtype, "MASS")) {
    skip_block(t, "data type '%s' is not an optical spectrum", dtype,
               b->title_line);
    return 0;
  }
  k->tech = CS_TECH_UNKNOWN;
  if (strstr(dtype, "RAMAN"))
    k->tech = CS_TECH_RAMAN;
  else if (strstr(dtype, "INFRARED") || strstr(dtype, "FTIR") ||
           strstr(dtype, "FT-IR"))
    k->tech = CS_TECH_FTIR;
  csi_axis_unit xu = csi_axis_from_unit(xunits, k->tech);
  k->axis = xu.axis;
  /* photon energies (inverse units) are no JCAMP optical x unit */
  if ((k->axis == CS_AXIS_UNKNOWN && xunits[0] &&
       strcmp(xunits, "ARBITRARY UNITS")) ||
      xu.inverse) {
    skip_block(t, "x units '%s' are not supported", xunits, b->title_line);
    return 0;
  }
  k->xunit = xu.factor; /* e.g. micrometres kept as wavelength: x * 1000 nm */
  return 1;
}

/* Quantity of ##YUNITS and the multiplier to calcspec's unit. */
static void y_quantity(const block *b, block_kind *k) {
  char yunits[64];
  upper_words(value_of(b, "YUNITS"), yunits, sizeof yunits);
  k->q = CS_Q_ARBITRARY;
  k->yunit = 1.0;
  if (strstr(yunits, "TRANSM")) {
    k->q = CS_Q_TRANSMITTANCE_PCT;
    /* JCAMP TRANSMITTANCE is a fraction; "%T" style units are percent. */
    if (!strchr(yunits, '%') && !strstr(yunits, "PERCENT"))
      k->yunit = 100.0;
  } else if (!strcmp(yunits, "%T"))
    k->q = CS_Q_TRANSMITTANCE_PCT;
  else if (strstr(yunits, "ABSORBANCE"))
    k->q = CS_Q_ABSORBANCE;
  else if (strstr(yunits, "REFLECTANCE"))
    k->q = CS_Q_REFLECTANCE;
  else if (!strcmp(yunits, "COUNTS PER SECOND") ||
           !strcmp(yunits, "COUNTS/S") || !strcmp(yunits, "CPS") ||
           !strcmp(yunits, "COUNTS/SEC"))
    k->q = CS_Q_COUNTS_PER_S;
  else if (!strcmp(yunits, "COUNTS"))
    k->q = CS_Q_COUNTS;
}

/* The numeric header labels a table needs. */
typedef struct block_nums {
  int comma;
  double firstx, lastx, xf, yf;
  int hfx, hlx, hnp;
  size_t limit; /* ##NPOINTS, or CSI_MAX_POINTS */
} block_nums;

static cs_status read_block_nums(const block *b, block_nums *h, cs_error *err) {
  /* Decimal commas: decided from the header numbers (OceanOptics_comma). */
  static const char *const numlabs[] = {"FIRSTX",  "LASTX", "FIRSTY", "XFACTOR",
                                        "YFACTOR", "MINY",  "MAXY"};
  h->comma = 0;
  for (size_t i = 0; i < sizeof numlabs / sizeof *numlabs; i++) {
    const char *v = value_of(b, numlabs[i]);
    h->comma |= v && is_comma_decimal(v);
  }
  double np = 0;
  int hxf, hyf;
  cs_status st;
  h->firstx = h->lastx = 0;
  h->xf = h->yf = 1;
  if ((st = num_label(b, "FIRSTX", h->comma, &h->hfx, &h->firstx, err)) ||
      (st = num_label(b, "LASTX", h->comma, &h->hlx, &h->lastx, err)) ||
      (st = num_label(b, "XFACTOR", h->comma, &hxf, &h->xf, err)) ||
      (st = num_label(b, "YFACTOR", h->comma, &hyf, &h->yf, err)) ||
      (st = num_label(b, "NPOINTS", h->comma, &h->hnp, &np, err)))
    return st;
  if (!hxf)
    h->xf = 1;
  if (!hyf)
    h->yf = 1;
  if (h->xf == 0 || h->yf == 0)
    return csi_error(err, CS_ERR_MALFORMED, "block at line %zu: zero %s",
                     b->title_line, h->xf == 0 ? "##XFACTOR" : "##YFACTOR");
  h->limit = CSI_MAX_POINTS;
  if (h->hnp) {
    if (np < 1 || np > (double)CSI_MAX_POINTS || np != floor(np))
      return csi_error(err, CS_ERR_MALFORMED,
                       "block at line %zu: bad ##NPOINTS=%.17g", b->title_line,
                       np);
    h->limit = (size_t)np;
  }
  return CS_OK;
}

/* x of an (X++(Y..Y)) table: even spacing from ##FIRSTX to ##LASTX, each
 * line's abscissa check within 1.5 points (writers round them). */
static cs_status xpp_abscissas(const block *b, const block_nums *h,
                               const xcheck *xc, size_t nxc, double *x,
                               size_t n, cs_error *err) {
  if (n > 1 && h->firstx == h->lastx)
    return csi_error(err, CS_ERR_MALFORMED,
                     "block at line %zu: ##FIRSTX equals ##LASTX for %zu "
                     "points",
                     b->title_line, n);
  double dx = n > 1 ? (h->lastx - h->firstx) / (double)(n - 1) : 0;
  for (size_t i = 0; i < n; i++)
    x[i] = i + 1 == n ? h->lastx : h->firstx + (double)i * dx;
  for (size_t i = 0; n > 1 && i < nxc; i++) {
    double got = xc[i].xraw * h->xf, want = h->firstx + (double)xc[i].index * dx;
    if (fabs(got - want) > 1.5 * fabs(dx) + 1e-9 * fabs(want))
      return csi_error(err, CS_ERR_MALFORMED,
                       "line %zu: abscissa check %.10g does not match x "
                       "%.10g of point %zu",
                       xc[i].line, got, want, xc[i].index);
  }
  return CS_OK;
}

/* Decode the block's table into a new spectrum of file-unit x and raw y. */
static cs_status decode_table(const block *b, char **lines,
                              const block_nums *h, cs_spectrum **out,
                              csi_dvec *ys, cs_error *err) {
  csi_dvec xs = {0};
  xcheck *xc = NULL;
  size_t nxc = 0;
  cs_status st;
  *out = NULL;
  if (b->spec == SPEC_XPP) {
    st = decode_xpp(lines, b->dfirst, b->dlast, h->limit, ys, &xc, &nxc, err);
    if (!st && (!h->hfx || !h->hlx))
      st = csi_error(err, CS_ERR_MALFORMED,
                     "block at line %zu: (X++(Y..Y)) data needs ##FIRSTX and "
                     "##LASTX",
                     b->title_line);
  } else {
    st = decode_xy(lines, b->dfirst, b->dlast, h->limit, h->comma, &xs, ys,
                   err);
  }
  size_t n = ys->n;
  if (!st && n == 0)
    st = csi_error(err, CS_ERR_MALFORMED, "line %zu: data table is empty",
                   b->dline);
  if (!st && h->hnp && n != h->limit)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "block at line %zu: ##NPOINTS=%zu but the data hold %zu "
                   "points",
                   b->title_line, h->limit, n);
  cs_spectrum *s = NULL;
  if (!st && !(s = csi_spectrum_alloc(n)))
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st && b->spec == SPEC_XPP)
    st = xpp_abscissas(b, h, xc, nxc, s->x, n, err);
  else if (!st)
    for (size_t i = 0; i < n; i++)
      s->x[i] = xs.v[i] * h->xf;
  free(xc);
  csi_dvec_free(&xs);
  if (st) {
    cs_spectrum_free(s);
    return st;
  }
  *out = s;
  return CS_OK;
}

/* Scale y by ##YFACTOR and the unit, x by the unit.  Many writers store
 * percent under TRANSMITTANCE (BRUKER1.JCM, pacdec1: values up to
 * 96..102); a fraction never exceeds 2 (200 %). */
static cs_status scale_values(const block *b, const block_nums *h,
                              block_kind *k, const csi_dvec *ys,
                              cs_spectrum *s, cs_error *err) {
  size_t n = ys->n;
  if (k->yunit == 100.0 && !b->calcspec) {
    for (size_t i = 0; i < n; i++)
      if (fabs(ys->v[i] * h->yf) > 2.0) {
        k->yunit = 1.0;
        csi_log(1,
                "jcamp: block at line %zu: TRANSMITTANCE values above 2 "
                "taken as percent",
                b->title_line);
        break;
      }
  }
  double ys_scale = h->yf * k->yunit; /* 0.01 * 100 == 1.0: exact round trip */
  for (size_t i = 0; i < n; i++) {
    s->y[i] = ys->v[i] * ys_scale;
    s->x[i] *= k->xunit;
    if (!isfinite(s->x[i]) || !isfinite(s->y[i]))
      return csi_error(err, CS_ERR_MALFORMED,
                       "block at line %zu: point %zu overflows after scaling",
                       b->title_line, i);
  }
  return CS_OK;
}

/* One block at its ##END: a spectrum pushed to ds, or skipped (tallied). */
static cs_status finish_block(block *b, char **lines, cs_dataset *ds, tally *t,
                              cs_error *err) {
  block_kind k;
  if (!classify_block(b, t, &k))
    return CS_OK;
  y_quantity(b, &k);
  block_nums h;
  cs_status st = read_block_nums(b, &h, err);
  if (st)
    return st;
  csi_dvec ys = {0};
  cs_spectrum *s = NULL;
  st = decode_table(b, lines, &h, &s, &ys, err);
  if (!st)
    st = scale_values(b, &h, &k, &ys, s, err);
  csi_dvec_free(&ys);
  if (!st) {
    s->axis = k.axis;
    s->quantity = k.q;
    s->technique = k.tech;
    st = b->calcspec ? restore_calcspec(s, b, err) : set_foreign_meta(s, b, err);
  }
  if (st) {
    cs_spectrum_free(s);
    return st;
  }
  return cs_dataset_push(ds, s, err);
}

/* ---- reader ---- */

static int sniff(const unsigned char *head, size_t n) {
  const unsigned char *p = csi_skip_bom_ws(head, &n);
  /* skip $$ comment lines */
  while (n >= 2 && p[0] == '$' && p[1] == '$') {
    const unsigned char *nl = memchr(p, '\n', n);
    if (!nl)
      return 0;
    n -= (size_t)(nl - p);
    p = csi_skip_bom_ws(nl, &n);
  }
  if (n < 8 || p[0] != '#' || p[1] != '#')
    return 0;
  const unsigned char *eq = memchr(p, '=', n < 40 ? n : 40);
  if (!eq)
    return 0;
  char *norm = normalize((const char *)p + 2, (size_t)(eq - p - 2));
  int title = norm && !strcmp(norm, "TITLE");
  free(norm);
  if (!title)
    return 0;
  /* ##JCAMP-DX= somewhere in the head, also spelled "## JCAMP-DX =" (HP
   * ChemStation LINK files): each "##" label is normalised. */
  for (const unsigned char *q = p;
       (q = csi_memcasemem(q, n - (size_t)(q - p), "##")); q += 2) {
    size_t rest = n - (size_t)(q - p);
    const unsigned char *e = memchr(q, '=', rest < 24 ? rest : 24);
    if (!e || memchr(q, '\n', (size_t)(e - q)))
      continue;
    char *nm = normalize((const char *)q + 2, (size_t)(e - q - 2));
    int ok = nm && !strcmp(nm, "JCAMPDX");
    free(nm);
    if (ok)
      return 90;
  }
  return 0;
}

/* Split buf into NUL-terminated lines (LF, CRLF or CR), dropping $$
 * comments. */
static char **split_lines(char *buf, size_t len, size_t *nlines) {
  size_t cap = 1;
  for (size_t i = 0; i < len; i++)
    cap += buf[i] == '\n' || buf[i] == '\r';
  char **lines = malloc(cap * sizeof *lines);
  if (!lines)
    return NULL;
  size_t n = 0;
  char *p = buf, *end = buf + len;
  while (p < end && n < cap) {
    char *q = p;
    while (q < end && *q != '\n' && *q != '\r')
      q++;
    char *next = q;
    if (q < end)
      next = q + 1 + (*q == '\r' && q + 1 < end && q[1] == '\n');
    *q = '\0';
    char *c = strstr(p, "$$");
    if (c)
      *c = '\0';
    lines[n++] = p;
    p = next;
  }
  *nlines = n;
  return lines;
}

static cs_status parse(char **lines, size_t nl, cs_dataset *ds, tally *t,
                       cs_error *err) {
  block b = {0};
  int open = 0, in_data = 0, in_ntuples = 0, link_open = 0;
  label *lastlab = NULL;
  cs_status st = CS_OK;
  for (size_t i = 0; i < nl && !st; i++) {
    char *p = lines[i];
    while (isspace((unsigned char)*p))
      p++;
    if (p[0] != '#' || p[1] != '#') {
      if (in_data) {
        if (b.spec != SPEC_NONE && b.dline && b.dlast == i)
          b.dlast = i + 1;
        continue;
      }
      if (!*p || in_ntuples)
        continue;
      if (!open || !lastlab)
        st = csi_error(err, CS_ERR_MALFORMED,
                       "line %zu: text outside a labelled record", i + 1);
      else { /* continuation of a multi-line value */
        char *v = csi_strfmt("%s%s%s", lastlab->value,
                             *lastlab->value ? "\n" : "", csi_trim(p));
        if (!v)
          st = csi_error(err, CS_ERR_NOMEM, "out of memory");
        free(lastlab->value);
        lastlab->value = v;
      }
      continue;
    }
    char *eq = strchr(p, '=');
    if (!eq) {
      st = csi_error(err, CS_ERR_MALFORMED, "line %zu: label without '='",
                     i + 1);
      break;
    }
    char *norm = normalize(p + 2, (size_t)(eq - p - 2));
    if (!norm) {
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
      break;
    }
    char *value = csi_trim(eq + 1);
    in_data = 0;
    lastlab = NULL;
    if (!strcmp(norm, "TITLE")) {
      if (open && (b.spec != SPEC_NONE || b.peaks || b.other[0]))
        st = csi_error(err, CS_ERR_MALFORMED,
                       "line %zu: ##TITLE before the ##END of the block at "
                       "line %zu",
                       i + 1, b.title_line);
      else {
        if (open) {
          char dt[32];
          upper_words(value_of(&b, "DATATYPE"), dt, sizeof dt);
          link_open |= !strcmp(dt, "LINK");
        }
        block_clear(&b);
        open = 1;
        in_ntuples = 0;
        b.title_line = i + 1;
      }
    } else if (!open) {
      if (!strcmp(norm, "END") && link_open)
        link_open = 0;
      else if (strcmp(norm, "END") != 0)
        st = csi_error(err, CS_ERR_MALFORMED,
                       "line %zu: label ##%.40s outside a block", i + 1, norm);
      free(norm);
      continue;
    } else if (!strcmp(norm, "END")) {
      st = finish_block(&b, lines, ds, t, err);
      block_clear(&b);
      open = 0;
      free(norm);
      continue;
    } else if (in_ntuples) {
      in_ntuples = strcmp(norm, "ENDNTUPLES") != 0;
      free(norm);
      continue;
    } else if (!strcmp(norm, "NTUPLES")) {
      in_ntuples = 1;
      if (!b.other[0])
        csi_snprintf(b.other, sizeof b.other, "##NTUPLES data");
      free(norm);
      continue;
    } else if (!strcmp(norm, "XYDATA") || !strcmp(norm, "XYPOINTS") ||
               !strcmp(norm, "PEAKTABLE") || !strcmp(norm, "PEAKASSIGNMENTS") ||
               !strcmp(norm, "RADATA") || !strcmp(norm, "DATATABLE")) {
      char vars[64];
      size_t k = 0;
      for (const char *q = value; *q && k + 1 < sizeof vars; q++)
        if (!isspace((unsigned char)*q))
          vars[k++] = (char)toupper((unsigned char)*q);
      vars[k] = '\0';
      in_data = 1;
      int kind = SPEC_NONE;
      if (!strcmp(norm, "XYDATA") && !strcmp(vars, "(X++(Y..Y))"))
        kind = SPEC_XPP;
      else if ((!strcmp(norm, "XYDATA") || !strcmp(norm, "XYPOINTS")) &&
               !strcmp(vars, "(XY..XY)"))
        kind = SPEC_XY;
      if (!strncmp(norm, "PEAK", 4))
        b.peaks = 1;
      else if (kind == SPEC_NONE) {
        if (!b.other[0])
          csi_snprintf(b.other, sizeof b.other, "##%s=%.40s", norm, value);
      } else if (b.spec != SPEC_NONE)
        st = csi_error(err, CS_ERR_MALFORMED,
                       "line %zu: second data table in the block at line %zu",
                       i + 1, b.title_line);
      else {
        b.spec = kind;
        b.dline = i + 1;
        b.dfirst = b.dlast = i + 1;
      }
      free(norm);
      continue;
    }
    if (!st && !strncmp(norm, "$CALCSPEC", 9))
      b.calcspec = 1;
    if (!st)
      st = block_add(&b, p + 2, (size_t)(eq - p - 2), value, i + 1, err);
    if (!st)
      lastlab = &b.lab[b.nlab - 1];
    free(norm);
  }
  if (!st && open)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "file ends inside the block at line %zu (no ##END)",
                   b.title_line);
  if (!st && link_open)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "file ends inside the LINK block (no final ##END)");
  block_clear(&b);
  return st;
}

/* Length without a trailing DOS end-of-file byte (0x1A, written by old
 * DOS/Windows programs after ##END=) and what follows it, when only blanks
 * and more 0x1A follow; a 0x1A inside the text stays and is refused as text
 * outside a record. */
static size_t strip_dos_eof(const char *buf, size_t len) {
  size_t k = len;
  while (k && (buf[k - 1] == 0x1A || isspace((unsigned char)buf[k - 1])))
    k--;
  const char *sub = memchr(buf + k, 0x1A, len - k);
  return sub ? k : len;
}

static cs_status read_jcamp(const char *path, cs_dataset **out, cs_error *err) {
  char *buf;
  size_t len, nl;
  *out = NULL;
  cs_status st = csi_read_file(path, CSI_MAX_FILE_BYTES, &buf, &len, err);
  if (st)
    return st;
  if (memchr(buf, '\0', len)) {
    free(buf);
    return csi_error(err, CS_ERR_MALFORMED, "NUL byte in a text format");
  }
  len = strip_dos_eof(buf, len);
  char **lines = split_lines(buf, len, &nl);
  cs_dataset *ds = csi_dataset_alloc();
  if (!lines || !ds) {
    free(lines);
    free(buf);
    cs_dataset_free(ds);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  tally t = {0};
  st = parse(lines, nl, ds, &t, err);
  free(lines);
  free(buf);
  if (!st && ds->n == 0) {
    if (t.reason[0])
      st = csi_error(err, CS_ERR_UNSUPPORTED, "no optical spectrum: %s",
                     t.reason);
    else if (t.peaks)
      st = csi_error(err, CS_ERR_UNSUPPORTED, "peak table only, no spectrum");
    else
      st = csi_error(err, CS_ERR_MALFORMED,
                     "no ##XYDATA or ##XYPOINTS data table");
  }
  if (st) {
    cs_dataset_free(ds);
    return st;
  }
  *out = ds;
  return CS_OK;
}

/* ---- writer ---- */

/* Percent-encode what JCAMP text cannot carry safely: '%', '$' (a "$$"
 * would start a comment), '=' (splits key from value), control and
 * non-ASCII bytes, and blanks at either end (the reader trims values). */
static void encode(csi_buf *o, const char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    int edge = (i == 0 || i + 1 == n) && isspace(c);
    if (c < 0x20 || c >= 0x7f || c == '%' || c == '$' || c == '=' || edge)
      csi_buf_printf(o, "%%%02X", c);
    else
      csi_buf_put(o, (const char *)&c, 1);
  }
}

/* Free text for standard labels: one line, ASCII, no "$$". */
static void plain(csi_buf *o, const char *s) {
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 || c >= 0x7f)
      c = c >= 0x80 ? '?' : ' ';
    if (c == '$' && s[1] == '$')
      c = ' ';
    csi_buf_put(o, (const char *)&c, 1);
  }
}

static void write_block(csi_buf *o, const cs_spectrum *s, size_t index,
                        size_t nblocks) {
  const char *title = cs_spectrum_meta(s, CS_META_TITLE);
  csi_buf_printf(o, "##TITLE=");
  if (title && *title)
    plain(o, title);
  else
    csi_buf_printf(o, "spectrum %zu", index + 1);
  const char *dtype = s->technique == CS_TECH_RAMAN    ? "RAMAN SPECTRUM"
                      : s->technique == CS_TECH_FTIR   ? "INFRARED SPECTRUM"
                      : s->axis == CS_AXIS_WAVENUMBER  ? "INFRARED SPECTRUM"
                      : s->axis == CS_AXIS_RAMAN_SHIFT ? "RAMAN SPECTRUM"
                                                       : "UNKNOWN SPECTRUM";
  const char *xu =
      s->axis == CS_AXIS_RAMAN_SHIFT || s->axis == CS_AXIS_WAVENUMBER ? "1/CM"
      : s->axis == CS_AXIS_WAVELENGTH_NM ? "NANOMETERS"
      : s->axis == CS_AXIS_PIXEL         ? "PIXELS"
                                         : "ARBITRARY UNITS";
  /* JCAMP TRANSMITTANCE is a fraction: YFACTOR=0.01 keeps the % numbers. */
  int pct = s->quantity == CS_Q_TRANSMITTANCE_PCT;
  const char *yu = pct                                ? "TRANSMITTANCE"
                   : s->quantity == CS_Q_ABSORBANCE   ? "ABSORBANCE"
                   : s->quantity == CS_Q_REFLECTANCE  ? "REFLECTANCE"
                   : s->quantity == CS_Q_COUNTS       ? "COUNTS"
                   : s->quantity == CS_Q_COUNTS_PER_S ? "COUNTS PER SECOND"
                                                      : "ARBITRARY UNITS";
  csi_buf_printf(o,
                 "\n##JCAMP-DX=5.01\n##DATA TYPE=%s\n##ORIGIN=calcspec %s\n"
                 "##OWNER=\n",
                 dtype, CS_VERSION);
  if (nblocks > 1)
    csi_buf_printf(o, "##BLOCK_ID=%zu\n", index + 1);
  csi_buf_printf(o,
                 "##$CALCSPEC AXIS=%s\n##$CALCSPEC QUANTITY=%s\n"
                 "##$CALCSPEC TECHNIQUE=%s\n",
                 cs_axis_name(s->axis), cs_quantity_name(s->quantity),
                 cs_technique_name(s->technique));
  if (isfinite(s->laser_nm))
    csi_buf_printf(o, "##$CALCSPEC LASER NM=%.17g\n", s->laser_nm);
  if (isfinite(s->exposure_s))
    csi_buf_printf(o, "##$CALCSPEC EXPOSURE S=%.17g\n", s->exposure_s);
  if (s->accumulations > 0)
    csi_buf_printf(o, "##$CALCSPEC ACCUMULATIONS=%d\n", s->accumulations);
  for (size_t i = 0; i < s->nmeta; i++) {
    csi_buf_printf(o, "##$CALCSPEC META=");
    encode(o, s->meta[i].key);
    csi_buf_put(o, "=", 1);
    encode(o, s->meta[i].value);
    csi_buf_put(o, "\n", 1);
  }
  csi_buf_printf(o,
                 "##XUNITS=%s\n##YUNITS=%s\n##XFACTOR=1\n##YFACTOR=%s\n"
                 "##FIRSTX=%.17g\n##LASTX=%.17g\n##NPOINTS=%zu\n"
                 "##FIRSTY=%.17g\n##XYPOINTS=(XY..XY)\n",
                 xu, yu, pct ? "0.01" : "1", s->x[0], s->x[s->n - 1], s->n,
                 pct ? s->y[0] * 0.01 : s->y[0]);
  for (size_t i = 0; i < s->n; i++)
    csi_buf_printf(o, "%.17g, %.17g\n", s->x[i], s->y[i]);
  csi_buf_printf(o, "##END=\n");
}

/* Writing streams (cs_writer): each block goes to the spool as it comes,
 * and finish writes the LINK head, which counts the blocks, the spool and
 * the LINK's end.  One spectrum is one plain block without BLOCK_ID, so
 * the first is held until a second one shows there will be a LINK. */
/* write_block's nblocks for a block of a LINK (it only asks "more than
 * one?"; the count goes into the LINK's head at finish) */
#define IN_LINK 2

typedef struct jcamp_writer {
  cs_spectrum *first; /* spectrum 0 until spectrum 1 comes */
} jcamp_writer;

static void *jcamp_wopen(void) { return calloc(1, sizeof(jcamp_writer)); }

static void jcamp_wfree(void *state) {
  jcamp_writer *j = state;
  if (j)
    cs_spectrum_free(j->first);
  free(j);
}

static cs_status put_block(csi_sink *out, const cs_spectrum *s, size_t i,
                           size_t nblocks, cs_error *err) {
  csi_buf o = {0};
  write_block(&o, s, i, nblocks);
  cs_status st = o.oom ? csi_error(err, CS_ERR_NOMEM, "out of memory")
                       : csi_sink_write(out, o.p, o.n, err);
  csi_buf_free(&o);
  return st;
}

static cs_status jcamp_wput(void *state, const cs_spectrum *s, size_t i,
                            csi_sink *spool, cs_error *err) {
  jcamp_writer *j = state;
  for (size_t k = 0; k < s->n; k++)
    if (!isfinite(s->x[k]) || !isfinite(s->y[k]))
      return csi_error(err, CS_ERR_ARG,
                       "spectrum %zu: non-finite value at point %zu", i, k);
  if (i == 0)
    return cs_spectrum_copy(s, &j->first, err);
  cs_status st = CS_OK;
  if (j->first) { /* a LINK after all */
    st = put_block(spool, j->first, 0, IN_LINK, err);
    cs_spectrum_free(j->first);
    j->first = NULL;
  }
  return st ? st : put_block(spool, s, i, IN_LINK, err);
}

static cs_status jcamp_wfinish(void *state, size_t n, FILE *spool,
                               csi_sink *out, cs_error *err) {
  jcamp_writer *j = state;
  if (n == 1)
    return put_block(out, j->first, 0, 1, err);
  csi_buf o = {0};
  csi_buf_printf(&o,
                 "##TITLE=calcspec dataset\n##JCAMP-DX=5.01\n"
                 "##DATA TYPE=LINK\n##BLOCKS=%zu\n##ORIGIN=calcspec %s\n"
                 "##OWNER=\n",
                 n, CS_VERSION);
  cs_status st = o.oom ? csi_error(err, CS_ERR_NOMEM, "out of memory")
                       : csi_sink_write(out, o.p, o.n, err);
  csi_buf_free(&o);
  if (!st)
    st = csi_spool_copy(spool, out, err);
  return st ? st : csi_sink_write(out, "##END=\n", 7, err);
}

const csi_wstream csi_wstream_jcamp = {jcamp_wopen, jcamp_wput, jcamp_wfinish,
                                       jcamp_wfree};

const csi_reader csi_reader_jcamp = {
    "jcamp",
    "jdx,dx,jcm,jcamp",
    "JCAMP-DX 4.24/5.x (XYDATA ASDF, XYPOINTS, LINK blocks)",
    sniff,
    read_jcamp,
    NULL};
