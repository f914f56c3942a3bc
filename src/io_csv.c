/* io_csv.c: delimited-text spectra.  Reads plain x/y and x/y1/y2... tables,
 * HORIBA LabSpec exports and maps (FORMATS.md §5b), B&W Tek BWSpec, Ocean
 * SpectraSuite/OceanView/Jaz and RRUFF text (FORMATS.md §12, §13), and
 * calcspec's own CSV, which it also writes (`# calcspec key=value` header
 * lines, then x,y1,...; %.17g so every double round-trips exactly). */
#define _DEFAULT_SOURCE /* madvise, MAP_ANONYMOUS (the streaming reader) */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define OWN_MAGIC "# calcspec csv"
#define OWN_VERSION 1

enum sep { SEP_WS, SEP_TAB, SEP_SEMI, SEP_COMMA };
static const char sep_chars[] = {' ', '\t', ';', ','};

typedef struct span {
  const char *p;
  size_t n;
} span;

/* ---- small text helpers ---- */

static int blank(char c) { return c == ' ' || c == '\t'; }

static span trim(span s) {
  while (s.n && (blank(*s.p) || *s.p == '\r' || *s.p == '\n'))
    s.p++, s.n--;
  while (s.n && (blank(s.p[s.n - 1]) || s.p[s.n - 1] == '\r'))
    s.n--;
  return s;
}

static int starts(span s, const char *lit) {
  size_t k = strlen(lit);
  return s.n >= k && memcmp(s.p, lit, k) == 0;
}

/* An Ocean section marker, ">>>>>Begin Spectral Data<<<<<": recognised by
 * its shape, not its words, since OceanView and SpectraSuite translate them
 * (">>>>>Beginn Spektraldaten<<<<<", ">>>>>Fin des données<<<<<"). */
static int ocean_marker(span t) {
  size_t k = 5;
  return t.n > 2 * k && starts(t, ">>>>>") && !memcmp(t.p + t.n - k, "<<<<<", k);
}

/* Split text into lines at \n, \r\n or a lone \r (old Mac exports). */
static span *split_lines(const char *buf, size_t len, size_t *nout) {
  size_t cap = 1;
  for (size_t i = 0; i < len; i++)
    cap += buf[i] == '\n' || buf[i] == '\r';
  span *v = malloc(cap * sizeof *v);
  if (!v)
    return NULL;
  size_t n = 0, start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && buf[i] != '\n' && buf[i] != '\r')
      continue;
    if (i == len && start == len)
      break;
    v[n++] = (span){buf + start, i - start};
    if (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
      i++;
    start = i + 1;
  }
  *nout = n;
  return v;
}

/* Field iterator over one line.  Blanks around fields are dropped, as are
 * the quotes of a "quoted" field; a separator at the very end of the line
 * (BWSpec writes `...;0,0000;`) does not start another field. */
typedef struct fit {
  const char *p, *end;
  enum sep sep;
  int done, any;
} fit;

static fit fit_start(span l, enum sep sep) {
  /* Keep leading tabs in a tab table: LabSpec map axis rows start empty. */
  while (l.n && (l.p[0] == ' ' || l.p[0] == '\r' ||
                 (sep != SEP_TAB && l.p[0] == '\t')))
    l.p++, l.n--;
  while (l.n && (blank(l.p[l.n - 1]) || l.p[l.n - 1] == '\r'))
    l.n--;
  return (fit){l.p, l.p + l.n, sep, l.n == 0, 0};
}

/* How many of the eight bytes at q come before the first '"' or c (8:
 * none).  A zero byte of the XORs: (v - 0x01..) & ~v & 0x80.. marks the
 * first one exactly (the borrow can only mark bytes after it), so its
 * lowest bit gives the place in little-endian order. */
static size_t plain_run8(const char *q, char c) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
  uint64_t w, a, b;
  memcpy(&w, q, sizeof w);
  a = w ^ (ones * (unsigned char)c), b = w ^ (ones * (unsigned char)'"');
  uint64_t m = (((a - ones) & ~a) | ((b - ones) & ~b)) & high;
  return m ? (size_t)__builtin_ctzll(m) / 8 : 8;
#else
  size_t i = 0;
  while (i < 8 && q[i] != c && q[i] != '"')
    i++;
  return i;
#endif
}

static int fit_next(fit *it, span *f) {
  if (it->done)
    return 0;
  if (it->sep == SEP_WS) {
    while (it->p < it->end && blank(*it->p))
      it->p++;
    if (it->p == it->end) {
      it->done = 1;
      return 0;
    }
    const char *q = it->p;
    while (q < it->end && !blank(*q))
      q++;
    *f = (span){it->p, (size_t)(q - it->p)};
    it->p = q;
    return 1;
  }
  char c = sep_chars[it->sep];
  int inq = 0;
  const char *q = it->p;
  for (; q < it->end; q++) {
    /* outside quotes, eight bytes a step to the next quote or separator
     * (the bytes before it are neither), then that byte as before */
    while (!inq && it->end - q >= 8) {
      size_t r = plain_run8(q, c);
      q += r;
      if (r < 8)
        break;
    }
    if (q == it->end)
      break;
    if (*q == '"')
      inq = !inq;
    else if (*q == c && !inq)
      break;
  }
  span s = {it->p, (size_t)(q - it->p)};
  if (q == it->end) {
    it->done = 1;
    if (it->any && s.n == 0)
      return 0; /* trailing separator */
  } else {
    it->p = q + 1;
  }
  it->any = 1;
  s = trim(s);
  if (s.n >= 2 && s.p[0] == '"' && s.p[s.n - 1] == '"')
    s.p++, s.n -= 2;
  *f = s;
  return 1;
}

static size_t count_fields(span l, enum sep sep) {
  fit it = fit_start(l, sep);
  span f;
  size_t n = 0;
  while (fit_next(&it, &f))
    n++;
  return n;
}

/* Parse one cell as a finite double; with `comma` a decimal comma is read
 * as a point (B&W Tek: `532,02`). */
static int parse_num(span f, int comma, double *out) {
  char buf[128];
  if (f.n == 0 || f.n >= sizeof buf)
    return -1;
  /* Most cells are short decimals: exact without strtod (numparse.c). */
  if (csi_parse_decimal(f.p, f.n, comma, out) == 0)
    return 0;
  memcpy(buf, f.p, f.n);
  buf[f.n] = '\0';
  if (comma)
    for (size_t i = 0; i < f.n; i++)
      if (buf[i] == ',')
        buf[i] = '.';
  /* Not csi_parse_double: subnormals (ERANGE on underflow) are data too. */
  char *end;
  double v = csi_strtod(buf, &end);
  if (end == buf || *end || !isfinite(v) || isspace((unsigned char)buf[0]))
    return -1;
  *out = v;
  return 0;
}

/* Does the line look like a data row: at least two numbers and nothing but
 * numbers or empty cells?  Picks the separator: tab, then ';', then ','
 * (or blanks with decimal commas when ',' does not split into numbers). */
static int numeric_row(span l, enum sep *sepp, int *commap) {
  enum sep sep = memchr(l.p, '\t', l.n)  ? SEP_TAB
                 : memchr(l.p, ';', l.n) ? SEP_SEMI
                 : memchr(l.p, ',', l.n) ? SEP_COMMA
                                         : SEP_WS;
  for (;;) {
    int comma = sep != SEP_COMMA && memchr(l.p, ',', l.n) != NULL;
    fit it = fit_start(l, sep);
    span f;
    size_t nums = 0, bad = 0;
    double v;
    while (fit_next(&it, &f)) {
      if (f.n == 0)
        continue;
      if (parse_num(f, comma, &v) == 0)
        nums++;
      else
        bad++;
    }
    if (nums >= 2 && !bad) {
      *sepp = sep;
      *commap = comma;
      return 1;
    }
    if (sep != SEP_COMMA)
      return 0;
    sep = SEP_WS; /* "532,02 1234,5" */
  }
}

/* ---- encodings ---- */

static int valid_utf8(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = p[i];
    size_t k;
    if (c < 0x80)
      k = 0;
    else if (c >= 0xC2 && c <= 0xDF)
      k = 1;
    else if (c >= 0xE0 && c <= 0xEF)
      k = 2;
    else if (c >= 0xF0 && c <= 0xF4)
      k = 3;
    else
      return 0;
    if (k > n - i - 1)
      return 0;
    for (size_t j = 1; j <= k; j++)
      if ((p[i + j] & 0xC0) != 0x80)
        return 0;
    i += k + 1;
  }
  return 1;
}

/* Next code point of s (Latin-1 bytes, or UTF-8); advances *i. */
static unsigned next_cp(span s, size_t *i, int latin1) {
  unsigned c = (unsigned char)s.p[(*i)++];
  if (latin1 || c < 0x80)
    return c;
  size_t k = (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : 3;
  unsigned cp = c & (0x3F >> k);
  for (size_t j = 0; j < k && *i < s.n; j++)
    cp = cp << 6 | ((unsigned char)s.p[(*i)++] & 0x3F);
  return cp;
}

static void put_utf8(csi_buf *b, unsigned cp) {
  char u[4];
  if (cp < 0x80) {
    u[0] = (char)cp;
    csi_buf_put(b, u, 1);
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | cp >> 6);
    u[1] = (char)(0x80 | (cp & 0x3F));
    csi_buf_put(b, u, 2);
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | cp >> 12);
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    csi_buf_put(b, u, 3);
  } else {
    u[0] = (char)(0xF0 | cp >> 18);
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    csi_buf_put(b, u, 4);
  }
}

/* Metadata keys must be printable ASCII: spell out the few non-ASCII
 * characters vendor keys use (LabSpec `(\xB0C)`, `(cm-\xB9)`, `(\xB5m)`). */
static char *ascii_key(span s, int latin1) {
  csi_buf b = {0};
  for (size_t i = 0; i < s.n;) {
    unsigned cp = next_cp(s, &i, latin1);
    const char *r = NULL;
    char one[2] = {0, 0};
    if (cp >= 0x20 && cp < 0x7F)
      one[0] = (char)cp, r = one;
    else if (cp == 0xB0 || cp == 0xBA)
      r = "deg";
    else if (cp == 0xB5 || cp == 0x3BC)
      r = "u";
    else if (cp == 0xB9 || cp == 0x2071)
      r = "1";
    else if (cp == 0xB2 || cp == 0xB3)
      one[0] = (char)('2' + (cp == 0xB3)), r = one;
    else if (cp >= 0x2074 && cp <= 0x2079)
      one[0] = (char)('4' + (cp - 0x2074)), r = one;
    else if (cp == 0x2070)
      r = "0";
    else if (cp == 0x207B || cp == 0x2212)
      r = "-";
    else if (cp == 0xC5 || cp == 0x212B)
      r = "A";
    else
      r = cp < 0x20 || cp == 0x7F ? " " : "_";
    csi_buf_put(&b, r, strlen(r));
  }
  csi_buf_put(&b, "", 0);
  if (b.oom || !b.p) {
    csi_buf_free(&b);
    return NULL;
  }
  return b.p;
}

/* Values become UTF-8 (Latin-1 transcoded); RRUFF's `&#183;` character
 * references are decoded (FORMATS.md §12); other RRUFF markup (`_3_`
 * subscripts, `^2+^`) is kept as written. */
static char *utf8_value(span s, int latin1, int entities) {
  csi_buf b = {0};
  for (size_t i = 0; i < s.n;) {
    if (entities && s.p[i] == '&' && i + 3 < s.n && s.p[i + 1] == '#') {
      size_t j = i + 2;
      unsigned cp = 0;
      while (j < s.n && j < i + 9 && isdigit((unsigned char)s.p[j]))
        cp = cp * 10 + (unsigned)(s.p[j++] - '0');
      if (j < s.n && s.p[j] == ';' && j > i + 2 && cp >= 0x20 &&
          cp < 0x110000 && (cp < 0xD800 || cp > 0xDFFF)) {
        put_utf8(&b, cp);
        i = j + 1;
        continue;
      }
    }
    if (latin1) {
      put_utf8(&b, (unsigned char)s.p[i++]);
    } else {
      csi_buf_put(&b, s.p + i, 1);
      i++;
    }
  }
  csi_buf_put(&b, "", 0);
  if (b.oom || !b.p) {
    csi_buf_free(&b);
    return NULL;
  }
  return b.p;
}

/* ---- header pairs ---- */

typedef struct pairs {
  csi_kv *v;
  size_t n, cap;
} pairs;

static void pairs_free(pairs *p) {
  for (size_t i = 0; i < p->n; i++) {
    free(p->v[i].key);
    free(p->v[i].value);
  }
  free(p->v);
}

static int pairs_push(pairs *p, char *k, char *v) {
  if (k && v && p->n == p->cap) {
    size_t ncap = p->cap ? p->cap * 2 : 32;
    csi_kv *nv = realloc(p->v, ncap * sizeof *nv);
    if (nv) {
      p->v = nv;
      p->cap = ncap;
    }
  }
  if (!k || !v || p->n == p->cap) {
    free(k);
    free(v);
    return -1;
  }
  p->v[p->n++] = (csi_kv){k, v};
  return 0;
}

/* ---- header keys ---- */

/* Split a header key into a lower-case base name and a unit: a trailing
 * "(...)" ("Acq. time (s)", "intigration times(ms)") or a "_ms" style
 * suffix ("Exposure_ms").  '_' reads as a blank so "laser_wavelength"
 * matches "laser wavelength". */
static void key_parts(const char *key, char *base, size_t bcap, char *unit,
                      size_t ucap) {
  static const char *const suffixes[] = {"s", "sec", "ms", "us", "usec", "nm",
                                         NULL};
  size_t n = strlen(key), cut = n;
  unit[0] = '\0';
  while (cut && key[cut - 1] == ' ')
    cut--;
  if (cut && key[cut - 1] == ')') {
    size_t open = cut - 1;
    while (open && key[open] != '(')
      open--;
    if (key[open] == '(') {
      size_t k = 0;
      for (size_t i = open + 1; i + 1 < cut && k + 1 < ucap; i++)
        if (key[i] != ' ')
          unit[k++] = (char)tolower((unsigned char)key[i]);
      unit[k] = '\0';
      cut = open;
    }
  } else {
    const char *us = NULL;
    for (size_t i = 0; i < cut; i++)
      if (key[i] == '_')
        us = key + i;
    for (size_t j = 0; us && suffixes[j]; j++)
      if ((size_t)(key + cut - us - 1) == strlen(suffixes[j]) &&
          csi_strncasecmp(us + 1, suffixes[j], strlen(suffixes[j])) == 0) {
        csi_snprintf(unit, ucap, "%s", suffixes[j]);
        cut = (size_t)(us - key);
        break;
      }
  }
  while (cut && key[cut - 1] == ' ')
    cut--;
  size_t k = 0;
  for (size_t i = 0; i < cut && k + 1 < bcap; i++)
    base[k++] = key[i] == '_' ? ' ' : (char)tolower((unsigned char)key[i]);
  base[k] = '\0';
}

static int in_list(const char *s, const char *const *list) {
  for (; *list; list++)
    if (!strcmp(s, *list))
      return 1;
  return 0;
}

static const char *const laser_keys[] = {
    "laser", "laser wavelength", "laserwavelength", "wl",
    "excitation wavelength", NULL};
static const char *const exposure_keys[] = {
    "acq. time",          "acq time",          "acquisition time",
    "integration time",   "integration times", "intigration times",
    "exposure",           "exposure time",     NULL};
static const char *const accum_keys[] = {
    "accumulations", "accumulation",     "average number",
    "averages",      "spectra averaged", "scans to average", NULL};
static const char *const instrument_keys[] = {"instrument", "spectrometer",
                                              "spectrometers", NULL};
static const char *const acquired_keys[] = {"acquired", "time stamp",
                                            "timestamp", "acquisition date",
                                            NULL};

/* Leading number of a header value ("532nm_Edge", "784,82",
 * "20000 (USB4A00428)"). */
static int lead_num(const char *v, double *out) {
  char *end;
  double d = csi_strtod_comma(v, &end);
  if (end == v || !isfinite(d))
    return -1;
  *out = d;
  return 0;
}

static int lower_has(const char *lower, const char *lit) {
  return strstr(lower, lit) != NULL;
}

static char *lower_dup(const char *s) {
  char *d = csi_strdup(s);
  for (char *p = d; p && *p; p++)
    *p = (char)tolower((unsigned char)*p);
  return d;
}


static cs_quantity quantity_from_name(const char *lower) {
  if (!strcmp(lower, "a") || !strcmp(lower, "abs") ||
      lower_has(lower, "absorbance"))
    return CS_Q_ABSORBANCE;
  if (lower_has(lower, "%t") || lower_has(lower, "transmittance"))
    return CS_Q_TRANSMITTANCE_PCT;
  if (lower_has(lower, "reflectance"))
    return CS_Q_REFLECTANCE;
  if (lower_has(lower, "counts/s") || lower_has(lower, "cnt/s") ||
      !strcmp(lower, "cps"))
    return CS_Q_COUNTS_PER_S;
  if (lower_has(lower, "counts") || !strcmp(lower, "cnt"))
    return CS_Q_COUNTS;
  return CS_Q_ARBITRARY;
}

/* ---- the reader ---- */

#define NONE ((size_t)-1)

typedef struct ctx {
  const char *buf;
  size_t len;
  span *lines;
  size_t nlines;
  int latin1, own, labspec, rruff, bwtek, ocean;
  size_t header_end; /* header lines are [0, header_end) */
  size_t first;      /* first data row */
  size_t stop;       /* one past the table */
  size_t hdr;        /* column-title line or NONE */
  size_t units;      /* AvaSoft-style unit row under the titles, or NONE */
  enum sep sep;
  int comma;
  size_t ncols;
  pairs kv;
  /* what the header says */
  int raman;          /* a laser or a Raman-only format */
  cs_axis axis_hint;  /* LabSpec AxisUnit[1], Ocean "XAxis mode" */
  cs_quantity q_hint; /* LabSpec AxisUnit[0] */
  /* own format: one prototype spectrum (metadata only) per y column */
  cs_spectrum **proto;
  size_t nproto;
  span *f; /* fields of the current row */
  size_t fcap;
  /* the streaming reader's mapping: pages passed are released every few
   * lines of a whole-table scan (NULL: the file is in memory) */
  void *mapped;
  size_t mapped_len;
} ctx;

/* Release the mapped pages as a whole-table scan passes them (see
 * csv_stream): touching one byte maps the page cache's whole folio, so
 * without it the file piles up in the process's RSS.  Each release walks
 * the whole mapping and flushes the TLB, so it is done once per
 * RELEASE_BYTES of file passed (when line i starts in another
 * RELEASE_BYTES chunk than line i - 1), not per line: RSS stays within a
 * few chunks, and a file smaller than one chunk is never released. */
#define RELEASE_BYTES ((size_t)16 << 20)
static size_t chunk_of(const ctx *c, size_t i) {
  return (size_t)(c->lines[i].p - (const char *)c->mapped) / RELEASE_BYTES;
}
static void passed(const ctx *c, size_t i) {
  if (c->mapped && i > 0 && i < c->nlines && chunk_of(c, i) != chunk_of(c, i - 1))
    madvise(c->mapped, c->mapped_len, MADV_DONTNEED);
}

static size_t next_nonblank(const ctx *c, size_t i) {
  for (; i < c->nlines; i++)
    if (trim(c->lines[i]).n)
      return i;
  return NONE;
}

static int row_fields(ctx *c, span l, size_t *n) {
  fit it = fit_start(l, c->sep);
  span f;
  size_t k = 0;
  while (fit_next(&it, &f)) {
    if (k == c->fcap) {
      size_t ncap = c->fcap ? c->fcap * 2 : 64;
      span *nf = realloc(c->f, ncap * sizeof *nf);
      if (!nf)
        return -1;
      c->f = nf;
      c->fcap = ncap;
    }
    c->f[k++] = f;
  }
  *n = k;
  return 0;
}

/* The fields of line i into c->f: exactly want of them, else the error. */
static cs_status row_split(ctx *c, size_t i, size_t want, cs_error *err) {
  size_t n;
  if (row_fields(c, c->lines[i], &n))
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (n != want)
    return csi_error(err, CS_ERR_MALFORMED,
                     "line %zu: %zu columns, expected %zu", i + 1, n, want);
  return CS_OK;
}

/* Column titles: same count as the data columns, none empty, not all
 * numbers (BWSpec "Pixel;Wavelength;...", bone FTIR "cm-1,A"). */
static int is_title_row(ctx *c, size_t i) {
  size_t n;
  if (row_fields(c, c->lines[i], &n) || n != c->ncols)
    return 0;
  int words = 0;
  double v;
  for (size_t j = 0; j < n; j++) {
    if (!c->f[j].n)
      return 0;
    words += parse_num(c->f[j], c->comma, &v) != 0;
  }
  return words > 0;
}

static cs_status bad_cell(ctx *c, size_t line, size_t col, span f,
                          cs_error *err);

/* What row i says: its field count matches the table, how many fields are
 * numbers, whether every field is bracketed ("[nm]", AvaSoft's unit row),
 * and whether its first field names an axis through the unit map. */
typedef struct {
  int fits, numbers, bracketed, x_axis;
} row_look;

static row_look look_at(ctx *c, size_t i) {
  row_look r = {0, 0, 1, 0};
  size_t n;
  double v;
  if (i == NONE || row_fields(c, c->lines[i], &n) || n != c->ncols)
    return r;
  r.fits = 1;
  for (size_t j = 0; j < n; j++) {
    span f = trim(c->f[j]);
    r.numbers += parse_num(c->f[j], c->comma, &v) == 0;
    r.bracketed &= f.n >= 2 && ((f.p[0] == '[' && f.p[f.n - 1] == ']') ||
                                (f.p[0] == '(' && f.p[f.n - 1] == ')'));
  }
  char *x = csi_strndup(c->f[0].p, c->f[0].n);
  r.x_axis = x && csi_axis_from_unit(x, CS_TECH_UNKNOWN).axis != CS_AXIS_UNKNOWN;
  free(x);
  return r;
}

/* Column titles: the title-shaped row right before the data (prev).  With
 * a row of words above it (prev2), prev is a unit row when bracketed
 * (AvaSoft "Wave;Sample" over "[nm];[counts]") or when both name an axis
 * ("Wavelength" over "nm").  A row before the data that starts with a
 * number, or holds numbers under a row of titles, or fails to name the
 * axis its titles name, is a malformed first data row: refused by line
 * rather than dropped (issue 12). */
static cs_status choose_titles(ctx *c, size_t prev, size_t prev2,
                               cs_error *err) {
  if (prev == NONE || !is_title_row(c, prev))
    return CS_OK;
  row_look p = look_at(c, prev);
  row_look p2 = prev2 != NONE && prev2 + 1 == prev ? look_at(c, prev2)
                                                   : (row_look){0, 0, 0, 0};
  int titled2 = p2.fits && !p2.numbers && is_title_row(c, prev2);
  if (titled2 && (p.bracketed || (p.x_axis && p2.x_axis))) {
    c->hdr = prev2;
    c->units = prev;
    return CS_OK;
  }
  if (prev + 1 != c->first)
    return CS_OK;
  double v;
  size_t n;
  if (row_fields(c, c->lines[prev], &n))
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  int starts_numeric = parse_num(c->f[0], c->comma, &v) == 0;
  if (starts_numeric || (titled2 && (p.numbers || (p2.x_axis && !p.x_axis)))) {
    for (size_t j = 0; j < n; j++)
      if (parse_num(c->f[j], c->comma, &v))
        return bad_cell(c, prev + 1, j, c->f[j], err);
  }
  c->hdr = prev;
  return CS_OK;
}

static cs_status find_table(ctx *c, cs_error *err) {
  size_t prev = NONE, prev2 = NONE;
  c->hdr = c->units = NONE;
  for (size_t i = 0; i < c->nlines; i++) {
    span t = trim(c->lines[i]);
    if (!t.n)
      continue;
    if (t.p[0] == '#') {
      if (starts(t, "##END"))
        break;
      continue;
    }
    if (ocean_marker(t)) {
      /* Ocean: ">>>>>Begin Processed Spectral Data<<<<<" (FORMATS.md §12):
       * the first marker opens the data, the next one closes it. */
      c->ocean = 1;
      c->header_end = i;
      size_t j = next_nonblank(c, i + 1);
      if (j == NONE)
        return csi_error(err, CS_ERR_MALFORMED,
                         "no data after the begin-spectral-data marker");
      if (!numeric_row(c->lines[j], &c->sep, &c->comma)) {
        c->hdr = j;
        j = next_nonblank(c, j + 1);
        if (j == NONE || !numeric_row(c->lines[j], &c->sep, &c->comma))
          return csi_error(err, CS_ERR_MALFORMED,
                           "line %zu: expected numbers after the column titles",
                           j == NONE ? c->hdr + 2 : j + 1);
      }
      c->first = j;
      break;
    }
    if (numeric_row(c->lines[i], &c->sep, &c->comma)) {
      c->first = c->header_end = i;
      break;
    }
    prev2 = prev;
    prev = i;
  }
  if (c->header_end == NONE)
    return csi_error(err, CS_ERR_MALFORMED,
                     "no table of numbers found (not a text spectrum)");
  c->stop = c->nlines;
  for (size_t i = c->first + 1; i < c->nlines; i++) {
    passed(c, i);
    span t = trim(c->lines[i]);
    if (starts(t, "##END") || (c->ocean && ocean_marker(t))) {
      c->stop = i;
      break;
    }
  }
  /* A comma anywhere in a tab/';'/blank table is a decimal comma. */
  if (c->sep != SEP_COMMA) {
    c->comma = 0;
    for (size_t i = c->first; i < c->stop && !c->comma; i++) {
      passed(c, i);
      c->comma = memchr(c->lines[i].p, ',', c->lines[i].n) != NULL;
    }
  }
  c->ncols = count_fields(c->lines[c->first], c->sep);
  if (c->hdr != NONE) {
    if (!is_title_row(c, c->hdr))
      return csi_error(err, CS_ERR_MALFORMED,
                       "line %zu: %zu column titles for %zu data columns",
                       c->hdr + 1, count_fields(c->lines[c->hdr], c->sep),
                       c->ncols);
  } else {
    return choose_titles(c, prev, prev2, err);
  }
  return CS_OK;
}

static cs_status header_pairs(ctx *c, cs_error *err) {
  for (size_t i = 0; i < c->header_end; i++) {
    span t = trim(c->lines[i]), k, v;
    if (!t.n || i == c->hdr || i == c->units)
      continue;
    /* keep a trailing separator: "Tags<TAB>" is a key with an empty value */
    t.n = (size_t)(c->lines[i].p + c->lines[i].n - t.p);
    int entities = 0;
    if (starts(t, "##")) { /* RRUFF ##KEY=value */
      const char *eq = memchr(t.p, '=', t.n);
      if (!eq)
        continue;
      k = (span){t.p + 2, (size_t)(eq - t.p - 2)};
      v = (span){eq + 1, (size_t)(t.p + t.n - eq - 1)};
      entities = c->rruff;
    } else if (t.p[0] == '#') { /* LabSpec #Key=\tvalue */
      const char *eq = memchr(t.p, '=', t.n);
      if (c->own || !eq)
        continue;
      c->labspec = 1;
      k = (span){t.p + 1, (size_t)(eq - t.p - 1)};
      v = (span){eq + 1, (size_t)(t.p + t.n - eq - 1)};
    } else {
      /* key;value (BWSpec), key,value, key<TAB>value, Key: value (Ocean):
       * the earliest of those separators splits. */
      const char *cut = NULL;
      for (const char *p = ";\t,:"; *p; p++) {
        const char *q = memchr(t.p, *p, t.n);
        if (q && (!cut || q < cut))
          cut = q;
      }
      if (!cut || c->own)
        continue;
      k = (span){t.p, (size_t)(cut - t.p)};
      v = (span){cut + 1, (size_t)(t.p + t.n - cut - 1)};
    }
    k = trim(k);
    v = trim(v);
    if (!k.n || (entities && k.n == 3 && !memcmp(k.p, "END", 3)))
      continue;
    if (pairs_push(&c->kv, ascii_key(k, c->latin1),
                   utf8_value(v, c->latin1, entities)))
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  return CS_OK;
}

/* Set a metadata key, adding ".2", ".3"... when the header repeats it
 * (LabSpec writes "#Range=" twice). */
static cs_status set_unique(cs_spectrum *s, const char *key, const char *v,
                            cs_error *err) {
  if (!cs_spectrum_meta(s, key))
    return cs_spectrum_set_meta(s, key, v, err);
  for (unsigned i = 2;; i++) {
    char *k = csi_strfmt("%s.%u", key, i);
    if (!k)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    if (!cs_spectrum_meta(s, k)) {
      cs_status st = cs_spectrum_set_meta(s, k, v, err);
      free(k);
      return st;
    }
    free(k);
  }
}

/* Turn header pairs into the prototype's numbers and well-known keys;
 * everything else becomes "text.KEY". */
static cs_status map_pairs(ctx *c, cs_spectrum *proto, cs_error *err) {
  char base[128], unit[32];
  int have_acquired = 0;
  for (size_t i = 0; i < c->kv.n; i++) {
    key_parts(c->kv.v[i].key, base, sizeof base, unit, sizeof unit);
    have_acquired |= in_list(base, acquired_keys);
  }
  for (size_t i = 0; i < c->kv.n; i++) {
    const char *key = c->kv.v[i].key, *v = c->kv.v[i].value;
    const char *well = NULL;
    double num;
    key_parts(key, base, sizeof base, unit, sizeof unit);
    if (c->labspec && !strncmp(base, "laser", 5) && strlen(base) == 5)
      c->raman = 1; /* LabSpec "#Laser=" */
    if (*v && in_list(base, laser_keys) && (!*unit || !strcmp(unit, "nm")) &&
        !lead_num(v, &num) && num >= 100 && num <= 3000) {
      proto->laser_nm = num;
      c->raman = 1;
      continue;
    }
    double scale = !strcmp(unit, "s") || !strcmp(unit, "sec") ? 1
                   : !strcmp(unit, "ms")                      ? 1e-3
                   : !strcmp(unit, "us") || !strcmp(unit, "usec") ? 1e-6
                                                                  : 0;
    if (*v && scale > 0 && in_list(base, exposure_keys) &&
        !lead_num(v, &num) && num > 0) {
      proto->exposure_s = num * scale;
      continue;
    }
    if (*v && in_list(base, accum_keys) && !lead_num(v, &num) &&
        csi_count_ok(num)) {
      proto->accumulations = (int)num;
      continue;
    }
    if (in_list(base, instrument_keys) || (c->bwtek && !strcmp(base, "title")))
      well = CS_META_INSTRUMENT; /* BWSpec "title;BWS415-532S" */
    else if (in_list(base, acquired_keys) ||
             (!have_acquired && !strcmp(base, "date")))
      well = CS_META_ACQUIRED;
    else if (!strcmp(base, "title") || !strcmp(base, "name") ||
             (c->rruff && !strcmp(base, "names")))
      well = CS_META_TITLE;
    else if (!strcmp(base, "sample") || !strcmp(base, "sample id") ||
             (c->rruff && !strcmp(base, "rruffid")))
      well = CS_META_SAMPLE_ID;
    if (well && *v && !cs_spectrum_meta(proto, well)) {
      cs_status st = cs_spectrum_set_meta(proto, well, v, err);
      if (st)
        return st;
      continue;
    }
    /* Hints that stay visible as text too. */
    char *lv = lower_dup(v);
    if (!lv)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    if (c->labspec && !strcmp(base, "axisunit[0]"))
      c->q_hint = lower_has(lv, "/s") ? CS_Q_COUNTS_PER_S
                  : !strcmp(lv, "cnt") ? CS_Q_COUNTS
                                       : c->q_hint;
    if (c->labspec && !strcmp(base, "axisunit[1]"))
      c->axis_hint = csi_axis_from_unit(lv, CS_TECH_RAMAN).axis;
    if (c->ocean && !strcmp(base, "xaxis mode"))
      c->axis_hint = csi_axis_from_unit(lv, c->raman ? CS_TECH_RAMAN
                                                     : CS_TECH_UNKNOWN).axis;
    free(lv);
    char *tk = csi_strfmt("text.%s", key);
    if (!tk)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    cs_status st = set_unique(proto, tk, v, err);
    free(tk);
    if (st)
      return st;
  }
  return CS_OK;
}

/* ---- calcspec's own header ---- */

static int hexval(char ch) {
  return ch >= '0' && ch <= '9'   ? ch - '0'
         : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                  : -1;
}

/* Undo the writer's escapes (\\, \=, \xHH).  With key set, stop at the
 * first unescaped '=' and report where it is in *used. */
static char *unescape(span s, int key, size_t *used) {
  csi_buf b = {0};
  size_t i = 0;
  for (; i < s.n; i++) {
    char ch = s.p[i];
    if (key && ch == '=')
      break;
    if (ch != '\\') {
      csi_buf_put(&b, &ch, 1);
      continue;
    }
    if (i + 1 < s.n && (s.p[i + 1] == '\\' || s.p[i + 1] == '=')) {
      csi_buf_put(&b, s.p + ++i, 1);
      continue;
    }
    int hi = i + 3 < s.n && s.p[i + 1] == 'x' ? hexval(s.p[i + 2]) : -1;
    int lo = hi >= 0 ? hexval(s.p[i + 3]) : -1;
    if (lo < 0 || (hi == 0 && lo == 0)) { /* no NUL inside a C string */
      csi_buf_free(&b);
      return NULL;
    }
    char byte = (char)(hi << 4 | lo);
    csi_buf_put(&b, &byte, 1);
    i += 3;
  }
  if (key && i == s.n) {
    csi_buf_free(&b);
    return NULL;
  }
  csi_buf_put(&b, "", 0);
  if (b.oom) {
    csi_buf_free(&b);
    return NULL;
  }
  *used = i;
  return b.p;
}

static cs_status own_alloc(ctx *c, size_t n, cs_error *err) {
  c->proto = calloc(n, sizeof *c->proto);
  if (!c->proto)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  c->nproto = n;
  for (size_t i = 0; i < n; i++)
    if (!(c->proto[i] = csi_spectrum_alloc(0)))
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
  return CS_OK;
}

static cs_status own_line(ctx *c, size_t lineno, span t, cs_error *err) {
  size_t idx = 0;
  t.p += 10, t.n -= 10; /* "# calcspec" */
  if (t.n && t.p[0] == '[') {
    char *end;
    char num[24];
    size_t k = 0;
    while (k + 1 < t.n && k < sizeof num - 1 && t.p[k + 1] != ']')
      num[k] = t.p[k + 1], k++;
    num[k] = '\0';
    unsigned long long v = strtoull(num, &end, 10);
    if (!k || *end || k + 1 >= t.n || t.p[k + 1] != ']' || v >= c->nproto)
      return csi_error(err, CS_ERR_MALFORMED,
                       "line %zu: bad spectrum index in calcspec header",
                       lineno);
    idx = (size_t)v;
    t.p += k + 2, t.n -= k + 2;
  }
  if (!t.n || t.p[0] != ' ')
    return csi_error(err, CS_ERR_MALFORMED, "line %zu: bad calcspec header",
                     lineno);
  t.p++, t.n--;
  const char *eq = memchr(t.p, '=', t.n);
  if (!eq)
    return csi_error(err, CS_ERR_MALFORMED,
                     "line %zu: calcspec header line without '='", lineno);
  span k = {t.p, (size_t)(eq - t.p)}, v = {eq + 1, t.n - k.n - 1};
  char val[64];
  csi_snprintf(val, sizeof val, "%.*s", (int)(v.n < 63 ? v.n : 63), v.p);
  if (k.n == 7 && !memcmp(k.p, "spectra", 7)) {
    char *end;
    unsigned long long n = strtoull(val, &end, 10);
    if (c->proto || *end || !n || n > CSI_MAX_SPECTRA || n > c->len / 4)
      return csi_error(err, CS_ERR_MALFORMED,
                       "line %zu: bad or repeated spectra count", lineno);
    return own_alloc(c, (size_t)n, err);
  }
  if (!c->proto) {
    cs_status st = own_alloc(c, 1, err);
    if (st)
      return st;
  }
  if (idx >= c->nproto)
    return csi_error(err, CS_ERR_MALFORMED,
                     "line %zu: spectrum index out of range", lineno);
  cs_spectrum *s = c->proto[idx];
  int bad = 0;
  double d;
  if (k.n == 4 && !memcmp(k.p, "axis", 4))
    bad = cs_axis_from_name(val, &s->axis) != CS_OK;
  else if (k.n == 8 && !memcmp(k.p, "quantity", 8))
    bad = cs_quantity_from_name(val, &s->quantity) != CS_OK;
  else if (k.n == 9 && !memcmp(k.p, "technique", 9))
    bad = cs_technique_from_name(val, &s->technique) != CS_OK;
  else if (k.n == 8 && !memcmp(k.p, "laser_nm", 8))
    bad = csi_parse_double(val, &d) || !(s->laser_nm = d, 1);
  else if (k.n == 10 && !memcmp(k.p, "exposure_s", 10))
    bad = csi_parse_double(val, &d) || !(s->exposure_s = d, 1);
  else if (k.n == 13 && !memcmp(k.p, "accumulations", 13)) {
    char *end;
    long a = strtol(val, &end, 10);
    bad = !*val || *end || a < 0 || a > 1000000000;
    s->accumulations = bad ? 0 : (int)a;
  } else if (k.n > 5 && !memcmp(k.p, "meta.", 5)) {
    span rest = {t.p + 5, t.n - 5};
    size_t used;
    char *key = unescape(rest, 1, &used), *value = NULL;
    if (key)
      value = unescape((span){rest.p + used + 1, rest.n - used - 1}, 0, &used);
    cs_status st = CS_OK;
    if (!key || !value)
      st = csi_error(err, CS_ERR_MALFORMED,
                     "line %zu: bad escape in calcspec metadata", lineno);
    else if ((st = cs_spectrum_set_meta(s, key, value, err)) == CS_ERR_ARG)
      st = csi_error(err, CS_ERR_MALFORMED, "line %zu: %s", lineno, err->msg);
    free(key);
    free(value);
    return st;
  } else
    return csi_error(err, CS_ERR_MALFORMED,
                     "line %zu: unknown calcspec header key '%.*s'", lineno,
                     (int)(k.n < 40 ? k.n : 40), k.p);
  if (bad)
    return csi_error(err, CS_ERR_MALFORMED,
                     "line %zu: bad value '%s' for calcspec '%.*s'", lineno,
                     val, (int)k.n, k.p);
  return CS_OK;
}

static cs_status own_header(ctx *c, cs_error *err) {
  span t = trim(c->lines[0]);
  char ver[16];
  csi_snprintf(ver, sizeof ver, "%.*s", (int)(t.n - strlen(OWN_MAGIC) < 15
                                              ? t.n - strlen(OWN_MAGIC)
                                              : 15),
           t.p + strlen(OWN_MAGIC));
  double v;
  if (csi_parse_double(ver, &v) || v != OWN_VERSION)
    return csi_error(err, CS_ERR_UNSUPPORTED,
                     "calcspec csv version '%s' (this build reads %d)",
                     csi_trim(ver), OWN_VERSION);
  for (size_t i = 1; i < c->header_end; i++) {
    span l = c->lines[i];
    if (starts(l, "# calcspec")) {
      cs_status st = own_line(c, i + 1, l, err);
      if (st)
        return st;
    }
  }
  if (!c->proto)
    return own_alloc(c, 1, err);
  return CS_OK;
}

/* ---- building spectra ---- */

static cs_status bad_cell(ctx *c, size_t line, size_t col, span f,
                          cs_error *err) {
  (void)c;
  if (!f.n)
    return csi_error(err, CS_ERR_MALFORMED, "line %zu: column %zu is empty",
                     line, col + 1);
  return csi_error(err, CS_ERR_MALFORMED,
                   "line %zu: column %zu: '%.*s' is not a finite number", line,
                   col + 1, (int)(f.n < 24 ? f.n : 24), f.p);
}

/* Row i of a map: k coordinates (kept as written, in the position
 * metadata) and the npts values over x, after the prototype's metadata;
 * given spectra came before it. */
static cs_status map_row(ctx *c, size_t i, size_t k, const double *x,
                         size_t npts, size_t given, const cs_spectrum *proto,
                         cs_spectrum **out, cs_error *err) {
  *out = NULL;
  cs_status st = row_split(c, i, c->ncols, err);
  if (st)
    return st;
  if (given >= CSI_MAX_SPECTRA)
    return csi_error(err, CS_ERR_UNSUPPORTED, "more than %zu spectra",
                     (size_t)CSI_MAX_SPECTRA);
  cs_spectrum *s = csi_spectrum_alloc(npts);
  if (!s)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  memcpy(s->x, x, npts * sizeof *x);
  double v;
  for (size_t j = 0; j < c->ncols && !st; j++)
    if (parse_num(c->f[j], c->comma, j < k ? &v : &s->y[j - k]))
      st = bad_cell(c, i + 1, j, c->f[j], err);
  if (!st)
    st = csi_spectrum_copy_meta(s, proto, err);
  if (!st) {
    /* Keep the coordinates as the file wrote them. */
    csi_buf b = {0};
    for (size_t j = 0; j < k; j++) {
      if (j)
        csi_buf_put(&b, " ", 1);
      csi_buf_put(&b, c->f[j].p, c->f[j].n);
    }
    csi_buf_put(&b, "", 0);
    if (b.oom)
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    else
      st = cs_spectrum_set_meta(
          s, k == 2 ? CS_META_POSITION : "text.coordinates", b.p, err);
    csi_buf_free(&b);
  }
  if (st) {
    cs_spectrum_free(s);
    return st;
  }
  *out = s;
  return CS_OK;
}

/* LabSpec map: the first row is the x axis after k empty cells; every
 * further row is k coordinates and one spectrum (FORMATS.md §5b). */
static cs_status read_map(ctx *c, size_t k, const cs_spectrum *proto,
                          cs_dataset *ds, cs_error *err) {
  size_t n, npts = c->ncols - k;
  if (row_fields(c, c->lines[c->first], &n))
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  double *x = malloc(npts * sizeof *x);
  if (!x)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = CS_OK;
  for (size_t j = 0; j < npts && !st; j++)
    if (parse_num(c->f[k + j], c->comma, &x[j]))
      st = bad_cell(c, c->first + 1, k + j, c->f[k + j], err);
  for (size_t i = c->first + 1; i < c->stop && !st; i++) {
    span t = trim(c->lines[i]);
    if (!t.n || t.p[0] == '#')
      continue;
    cs_spectrum *s;
    if ((st = map_row(c, i, k, x, npts, ds->n, proto, &s, err)))
      break;
    st = cs_dataset_push(ds, s, err);
  }
  free(x);
  if (!st && ds->n == 0)
    st = csi_error(err, CS_ERR_MALFORMED, "map has an x axis row but no spectra");
  return st;
}

/* Preference of a column title as the x axis, 0 best, 5 not an axis. */
static int x_rank(const csi_axis_unit *u) {
  switch (u->axis) {
  case CS_AXIS_RAMAN_SHIFT: return u->by_technique ? 1 : 0;
  case CS_AXIS_WAVENUMBER: return 2;
  case CS_AXIS_WAVELENGTH_NM: return 3;
  case CS_AXIS_PIXEL: return 4;
  default: return 5;
  }
}

/* The table's columns as read_columns sees them. */
typedef struct {
  size_t nc, xcol, ny;
  size_t *ycol;       /* [ny] columns that become spectra */
  char **name;        /* [nc] lower-case ASCII titles (+ units), or NULLs */
  span *title;        /* [nc] the title fields as written, or NULL */
  csi_axis_unit *ax;  /* [nc] what each title says about the x axis */
  csi_dvec xs, *ys;   /* x values, [ny] y values */
} columns;

static void columns_free(columns *k) {
  for (size_t j = 0; k->name && j < k->nc; j++)
    free(k->name[j]);
  for (size_t j = 0; k->ys && j < k->nc; j++)
    csi_dvec_free(&k->ys[j]);
  free(k->name);
  free(k->title);
  free(k->ys);
  free(k->ax);
  free(k->ycol);
  csi_dvec_free(&k->xs);
}

/* Lower-case titles of the header row, each followed by its field of the
 * unit row when there is one ("wave [nm]"), and what they say about x. */
static cs_status title_names(ctx *c, columns *k, cs_error *err) {
  size_t n;
  for (int pass = 0; pass < 2; pass++) {
    size_t line = pass ? c->units : c->hdr;
    if (line == NONE)
      continue;
    if (row_fields(c, c->lines[line], &n) || n != k->nc)
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    /* kept for text.column: splitting the row again per spectrum was
     * quadratic in the number of columns */
    if (!pass && !(k->title = malloc(n * sizeof *k->title)))
      return csi_error(err, CS_ERR_NOMEM, "out of memory");
    if (!pass)
      memcpy(k->title, c->f, n * sizeof *k->title);
    for (size_t j = 0; j < k->nc; j++) {
      char *a = ascii_key(c->f[j], c->latin1);
      char *l = a ? lower_dup(a) : NULL;
      char *joined = pass && l ? csi_strfmt("%s %s", k->name[j], l) : l;
      if (pass && joined) {
        free(l);
        free(k->name[j]);
      }
      k->name[j] = joined;
      free(a);
      if (!joined)
        return csi_error(err, CS_ERR_NOMEM, "out of memory");
    }
  }
  for (size_t j = 0; j < k->nc; j++)
    k->ax[j] = csi_axis_from_unit(k->name[j], c->raman ? CS_TECH_RAMAN
                                                       : CS_TECH_UNKNOWN);
  return CS_OK;
}

/* x and y columns from the titles: x is a Raman shift before wavenumber,
 * wavelength, pixel (BWSpec has all four, its "Wavenumber" absolute beside
 * "Raman Shift": a title that says shift beats a cm^-1 the technique made
 * one), else the first column; y is every non-axis column, BWSpec's
 * dark-subtracted signal(s) only (FORMATS.md §12). */
static void choose_columns(columns *k) {
  int best = 5;
  for (size_t j = 0; j < k->nc; j++) {
    int rank = x_rank(&k->ax[j]);
    if (rank < best)
      best = rank, k->xcol = j;
  }
  for (size_t j = 0; j < k->nc; j++)
    if (!strncmp(k->name[j], "dark subtracted", 15))
      k->ycol[k->ny++] = j;
  for (size_t j = 0, bw = k->ny > 0; j < k->nc && !bw; j++)
    if (j != k->xcol && k->ax[j].axis == CS_AXIS_UNKNOWN)
      k->ycol[k->ny++] = j;
  if (!k->ny && k->nc == 2)
    k->ycol[k->ny++] = 1 - k->xcol;
}

/* Line i of the table: its fields in c->f and its x pushed onto k->xs;
 * *kept is 0 for a blank or comment line and a BWSpec pixel without x. */
static cs_status row_x(ctx *c, columns *k, size_t i, int *kept,
                       cs_error *err) {
  span t = trim(c->lines[i]);
  double v;
  *kept = 0;
  if (!t.n || t.p[0] == '#')
    return CS_OK;
  cs_status st = row_split(c, i, k->nc, err);
  if (st)
    return st;
  if (!c->f[k->xcol].n && !c->own)
    return CS_OK; /* BWSpec pixels outside the calibrated range */
  if (parse_num(c->f[k->xcol], c->comma, &v))
    return bad_cell(c, i + 1, k->xcol, c->f[k->xcol], err);
  if (csi_dvec_push(&k->xs, v))
    return csi_error(err, CS_ERR_UNSUPPORTED, "too many points");
  *kept = 1;
  return CS_OK;
}

/* The numbers of the chosen columns, row by row; a bad cell names its line
 * and column. */
static cs_status read_rows(ctx *c, columns *k, cs_error *err) {
  for (size_t i = c->first; i < c->stop; i++) {
    int kept;
    cs_status st = row_x(c, k, i, &kept, err);
    if (st)
      return st;
    if (!kept)
      continue;
    for (size_t j = 0; j < k->ny; j++) {
      size_t col = k->ycol[j];
      double v;
      if (parse_num(c->f[col], c->comma, &v))
        return bad_cell(c, i + 1, col, c->f[col], err);
      if (csi_dvec_push(&k->ys[j], v))
        return csi_error(err, CS_ERR_UNSUPPORTED, "too many points");
    }
  }
  if (!k->xs.n)
    return csi_error(err, CS_ERR_MALFORMED, "the x column holds no values");
  return CS_OK;
}

/* Spectrum j of the table: the prototype's metadata, then what the column
 * titles say (axis, quantity, technique, the column's own title). */
static cs_status column_spectrum(ctx *c, const columns *k, size_t j,
                                 const cs_spectrum *proto, cs_axis axis,
                                 cs_spectrum **out, cs_error *err) {
  size_t np = k->xs.n;
  cs_spectrum *s = csi_spectrum_alloc(np);
  if (!s)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  memcpy(s->x, k->xs.v, np * sizeof *s->x);
  memcpy(s->y, k->ys[j].v, np * sizeof *s->y);
  cs_status st = csi_spectrum_copy_meta(s, c->own ? c->proto[j] : proto, err);
  if (!st && !c->own) {
    s->axis = axis;
    cs_quantity q = k->name[0] ? quantity_from_name(k->name[k->ycol[j]]) : 0;
    if (q != CS_Q_ARBITRARY)
      s->quantity = q;
    if (c->raman || axis == CS_AXIS_RAMAN_SHIFT)
      s->technique = CS_TECH_RAMAN;
    else if (axis == CS_AXIS_WAVENUMBER &&
             (s->quantity == CS_Q_ABSORBANCE ||
              s->quantity == CS_Q_TRANSMITTANCE_PCT))
      s->technique = CS_TECH_FTIR;
  }
  if (!st && k->name[0]) {
    char *col = utf8_value(k->title[k->ycol[j]], c->latin1, 0);
    if (!col)
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    if (!st)
      st = cs_spectrum_set_meta(s, "text.column", col, err);
    free(col);
  }
  if (st) {
    cs_spectrum_free(s);
    return st;
  }
  *out = s;
  return CS_OK;
}

/* Columns: one x column, one spectrum per chosen y column. */
static cs_status read_columns(ctx *c, const cs_spectrum *proto,
                              cs_dataset *ds, cs_error *err) {
  columns k = {.nc = c->ncols};
  k.ycol = calloc(k.nc, sizeof *k.ycol);
  k.name = calloc(k.nc, sizeof *k.name);
  k.ax = calloc(k.nc, sizeof *k.ax);
  k.ys = calloc(k.nc, sizeof *k.ys);
  cs_status st = CS_OK;
  if (!k.ycol || !k.name || !k.ax || !k.ys)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  else if (c->hdr != NONE && !c->own) {
    if (!(st = title_names(c, &k, err)))
      choose_columns(&k);
  } else {
    for (size_t j = 1; j < k.nc; j++)
      k.ycol[k.ny++] = j;
  }
  if (!st && c->own && k.ny != c->nproto)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "calcspec header describes %zu spectra but the table has "
                   "%zu y columns",
                   c->nproto, k.ny);
  if (!st && !k.ny)
    st = csi_error(err, CS_ERR_UNSUPPORTED,
                   k.nc == 1 ? "one column of numbers: no x axis"
                             : "no intensity column among the column titles");
  if (!st)
    st = read_rows(c, &k, err);
  cs_axis axis = proto->axis;
  if (!st && !c->own && k.name[0] && k.ax[k.xcol].axis != CS_AXIS_UNKNOWN) {
    axis = k.ax[k.xcol].axis; /* "Wavelength (µm)" -> nm */
    st = csi_axis_unit_apply(&k.ax[k.xcol], k.xs.v, k.xs.n, k.name[k.xcol],
                             err);
  }
  for (size_t j = 0; j < k.ny && !st; j++) {
    cs_spectrum *s = NULL;
    if (!(st = column_spectrum(c, &k, j, proto, axis, &s, err)))
      st = cs_dataset_push(ds, s, err);
  }
  columns_free(&k);
  return st;
}

/* Text with NUL bytes: UTF-16 (Windows "Unicode" exports) says so and how
 * to convert it, anything else is binary. */
static cs_status nul_error(const ctx *c, cs_error *err) {
  const unsigned char *b = (const unsigned char *)c->buf;
  if (c->len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF)))
    return csi_error(err, CS_ERR_UNSUPPORTED,
                     "UTF-16 text (byte order mark %02X %02X); text spectra are "
                     "read as UTF-8: convert it, e.g. iconv -f UTF-16 -t UTF-8",
                     b[0], b[1]);
  return csi_error(err, CS_ERR_MALFORMED,
                   "binary data (NUL bytes) in a text spectrum");
}

/* Header, table and the prototype spectrum (the metadata every spectrum
 * gets): everything before the spectra.  *protop is the caller's, also on
 * failure.  c->lines may have been split already (the streaming reader). */
static cs_status prepare(ctx *c, cs_spectrum **protop, cs_error *err) {
  cs_status st;
  *protop = NULL;
  if (!c->lines && memchr(c->buf, '\0', c->len))
    return nul_error(c, err);
  if (!c->lines && !(c->lines = split_lines(c->buf, c->len, &c->nlines)))
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  c->own = c->nlines && starts(trim(c->lines[0]), OWN_MAGIC);
  for (size_t i = 0; i < c->nlines && i < 400; i++) {
    span t = trim(c->lines[i]);
    c->rruff |= starts(t, "##NAMES=") || starts(t, "##RRUFFID=");
    c->bwtek |= i == 0 && starts(t, "File Version;BW");
  }
  c->raman = c->rruff || c->bwtek;
  if ((st = find_table(c, err)))
    return st;
  /* Vendor header bytes are UTF-8 or else Latin-1 (LabSpec). */
  c->latin1 = !valid_utf8((const unsigned char *)c->buf,
                          (size_t)(c->lines[c->first].p - c->buf));
  cs_spectrum *proto = *protop = csi_spectrum_alloc(0);
  if (!proto)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (c->own)
    st = own_header(c, err);
  else if (!(st = header_pairs(c, err)))
    st = map_pairs(c, proto, err);
  if (!st && !c->own) {
    /* Axis when no column title names it (see README): Ocean "XAxis
     * mode" or wavelength; LabSpec AxisUnit or Raman shift with a laser;
     * RRUFF Raman shift; otherwise unknown. */
    if (c->ocean)
      proto->axis = c->axis_hint ? c->axis_hint : CS_AXIS_WAVELENGTH_NM;
    else if (c->labspec && c->axis_hint)
      proto->axis = c->axis_hint;
    else if ((c->labspec && c->raman) || c->rruff)
      proto->axis = CS_AXIS_RAMAN_SHIFT;
    proto->quantity = c->q_hint;
    if (c->raman || proto->axis == CS_AXIS_RAMAN_SHIFT)
      proto->technique = CS_TECH_RAMAN;
  }
  return st;
}

static cs_status parse(ctx *c, cs_dataset **out, cs_error *err) {
  cs_spectrum *proto;
  cs_status st = prepare(c, &proto, err);
  if (st) {
    cs_spectrum_free(proto);
    return st;
  }
  cs_dataset *ds = csi_dataset_alloc();
  if (!st && !ds)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  size_t k = 0;
  if (!st && !c->own && c->hdr == NONE) {
    size_t n;
    if (row_fields(c, c->lines[c->first], &n))
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    while (!st && k < n && !c->f[k].n)
      k++;
  }
  if (!st && k)
    st = read_map(c, k, proto, ds, err);
  else if (!st)
    st = read_columns(c, proto, ds, err);
  cs_spectrum_free(proto);
  if (st) {
    cs_dataset_free(ds);
    return st;
  }
  *out = ds;
  return CS_OK;
}

static cs_status csv_read(const char *path, cs_dataset **out, cs_error *err) {
  char *buf;
  size_t len;
  *out = NULL;
  cs_status st = csi_read_file(path, CSI_MAX_FILE_BYTES, &buf, &len, err);
  if (st)
    return st;
  ctx c = {0};
  c.buf = buf;
  c.len = len;
  c.header_end = NONE;
  /* a UTF-8 BOM (bone FTIR exports) is not part of the first key */
  if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
    c.buf += 3, c.len -= 3;
  st = parse(&c, out, err);
  for (size_t i = 0; i < c.nproto; i++)
    cs_spectrum_free(c.proto[i]);
  free(c.proto);
  pairs_free(&c.kv);
  free(c.f);
  free(c.lines);
  free(buf);
  return st;
}

/* ---- sniffing ---- */

static int line_starts(const unsigned char *p, size_t n, const char *lit) {
  size_t k = strlen(lit);
  for (size_t i = 0; i + k <= n; i++)
    if ((i == 0 || p[i - 1] == '\n' || p[i - 1] == '\r') &&
        !memcmp(p + i, lit, k))
      return 1;
  return 0;
}

/* A whole line of the head is an Ocean section marker. */
static int ocean_marked(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (i && p[i - 1] != '\n' && p[i - 1] != '\r')
      continue;
    size_t e = i;
    while (e < n && p[e] != '\n' && p[e] != '\r')
      e++;
    if (e < n && ocean_marker(trim((span){(const char *)p + i, e - i})))
      return 1;
    i = e;
  }
  return 0;
}

/* Content only: recognised headers score 50-60; otherwise at most 20 for
 * lines of numbers with one consistent separator.  Never XML or JCAMP. */
static int csv_sniff(const unsigned char *head, size_t n) {
  size_t full = n;
  const unsigned char *p = csi_skip_bom_ws(head, &n);
  if (!n || p[0] == '<' || memchr(p, '\0', n))
    return 0;
  if (csi_memcasemem(p, n, "##JCAMP") || csi_memcasemem(p, n, "##TITLE=") ||
      csi_memcasemem(p, n, "##XYDATA"))
    return 0;
  span all = {(const char *)p, n};
  if (starts(all, OWN_MAGIC))
    return 60;
  if (line_starts(p, n, "##NAMES=") || line_starts(p, n, "##RRUFFID=") ||
      line_starts(p, n, "#Acq. time") || starts(all, "File Version;BW") ||
      ocean_marked(p, n))
    return 50;
  /* Complete lines only, unless the whole file fits in the head. */
  size_t usable = n;
  if (full == 4096)
    while (usable && p[usable - 1] != '\n' && p[usable - 1] != '\r')
      usable--;
  size_t nl;
  span *lines = split_lines((const char *)p, usable, &nl);
  if (!lines)
    return 0;
  int score = 0;
  size_t rows = 0, ncols = 0, before = 0;
  enum sep sep0 = SEP_WS;
  for (size_t i = 0; i < nl && rows < 6; i++) {
    span t = trim(lines[i]);
    enum sep sep;
    int comma;
    if (!t.n || t.p[0] == '#')
      continue;
    if (!numeric_row(lines[i], &sep, &comma)) {
      if (rows)
        break; /* words after numbers: not a plain table */
      before++;
      continue;
    }
    size_t nc = count_fields(lines[i], sep);
    if (rows && (sep != sep0 || nc != ncols)) {
      rows = 0;
      break;
    }
    sep0 = sep, ncols = nc, rows++;
  }
  if (rows >= 3 || (rows >= 2 && usable == n && full < 4096))
    score = before ? 15 : 20;
  free(lines);
  return score;
}

/* ---- writer ---- */

static void put_escaped(csi_buf *b, const char *s, int key) {
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '\\' || (key && ch == '='))
      csi_buf_printf(b, "\\%c", ch);
    else if (ch < 0x20 || ch == 0x7F || (key && ch >= 0x80))
      csi_buf_printf(b, "\\x%02X", ch);
    else
      csi_buf_put(b, (const char *)&ch, 1);
  }
}

static void put_header(csi_buf *b, const cs_spectrum *s, size_t i, int many) {
  char pre[48];
  if (many)
    csi_snprintf(pre, sizeof pre, "# calcspec[%zu] ", i);
  else
    csi_snprintf(pre, sizeof pre, "# calcspec ");
  csi_buf_printf(b, "%saxis=%s\n", pre, cs_axis_name(s->axis));
  csi_buf_printf(b, "%squantity=%s\n", pre, cs_quantity_name(s->quantity));
  csi_buf_printf(b, "%stechnique=%s\n", pre, cs_technique_name(s->technique));
  if (isfinite(s->laser_nm))
    csi_buf_printf(b, "%slaser_nm=%.17g\n", pre, s->laser_nm);
  if (isfinite(s->exposure_s))
    csi_buf_printf(b, "%sexposure_s=%.17g\n", pre, s->exposure_s);
  if (s->accumulations)
    csi_buf_printf(b, "%saccumulations=%d\n", pre, s->accumulations);
  for (size_t k = 0; k < s->nmeta; k++) {
    csi_buf_printf(b, "%smeta.", pre);
    put_escaped(b, s->meta[k].key, 1);
    csi_buf_put(b, "=", 1);
    put_escaped(b, s->meta[k].value, 0);
    csi_buf_put(b, "\n", 1);
  }
}

/* One shared x column: every spectrum must have exactly spectrum 0's x
 * values (bit for bit); otherwise refuse rather than resample silently. */
static cs_status csv_write(const cs_dataset *ds, const char *path,
                           cs_error *err) {
  const cs_spectrum *s0 = ds->items[0];
  for (size_t i = 1; i < ds->n; i++) {
    const cs_spectrum *s = ds->items[i];
    if (s->n != s0->n || memcmp(s->x, s0->x, s0->n * sizeof *s0->x))
      return csi_error(err, CS_ERR_UNSUPPORTED,
                       "csv holds one x column shared by all spectra, but "
                       "spectrum %zu has other x values than spectrum 0 "
                       "(write one file per spectrum or resample first)",
                       i);
  }
  for (size_t i = 0; i < ds->n; i++) {
    const cs_spectrum *s = ds->items[i];
    for (size_t j = 0; j < s->n; j++)
      if (!isfinite(s->x[j]) || !isfinite(s->y[j]))
        return csi_error(err, CS_ERR_ARG,
                         "spectrum %zu: non-finite value at point %zu", i, j);
  }
  char ext[16];
  csi_path_ext(path, ext, sizeof ext);
  char sep = !strcmp(ext, "tsv") ? '\t' : ',';
  int many = ds->n > 1;
  csi_buf b = {0};
  csi_buf_printf(&b, "%s %d\n", OWN_MAGIC, OWN_VERSION);
  if (many)
    csi_buf_printf(&b, "# calcspec spectra=%zu\n", ds->n);
  for (size_t i = 0; i < ds->n; i++)
    put_header(&b, ds->items[i], i, many);
  csi_buf_put(&b, "x", 1);
  for (size_t i = 0; i < ds->n; i++)
    if (many)
      csi_buf_printf(&b, "%cy%zu", sep, i + 1);
    else
      csi_buf_printf(&b, "%cy", sep);
  csi_buf_put(&b, "\n", 1);
  for (size_t j = 0; j < s0->n && !b.oom; j++) {
    csi_buf_printf(&b, "%.17g", s0->x[j]);
    for (size_t i = 0; i < ds->n; i++)
      csi_buf_printf(&b, "%c%.17g", sep, ds->items[i]->y[j]);
    csi_buf_put(&b, "\n", 1);
  }
  if (b.oom) {
    csi_buf_free(&b);
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  cs_status st = csi_write_atomic(path, b.p, b.n, err);
  csi_buf_free(&b);
  return st;
}

/* ---- streaming ----
 * The file is mapped, not read into memory; the header and table are found
 * as above.  A map (one spectrum per row) is handed out row by row.  A table
 * of spectra in columns is handed out a block of BLOCK_COLS columns at a
 * time: a first pass checks every row's column count and reads the x
 * column (so those errors come before any spectrum, as in csv_read); then
 * each block continues every row's field cursor from where the previous
 * block stopped, so the file is scanned once in all.  Pages of the mapping
 * already used are released (MADV_DONTNEED), so memory holds one block of
 * spectra and the pages of one block of cells, however large the file.
 * Cells that are not numbers in a y column are reported when their block
 * is reached, after the spectra before it. */

#define BLOCK_COLS 256

typedef struct csv_stream {
  ctx c;
  char *map;           /* the file, plus a zero page after it */
  size_t maplen;
  cs_spectrum *proto;
  size_t k;            /* map: coordinate columns (0: a column table) */
  double *x;           /* map: the x axis row */
  size_t npts;
  size_t line;         /* map: next line to read */
  size_t nmap;         /* map: its rows of spectra */
  columns cols;        /* table: titles, chosen columns, x values */
  cs_axis axis;
  size_t *rows;        /* table: data lines whose x was read */
  fit *it;             /* ... and their field cursors */
  size_t *at;          /* ... fields already passed */
  size_t nrows;
  size_t j0;           /* next y column (index into cols.ycol) */
  cs_dataset *block;   /* spectra decoded, handed out from pos */
  size_t pos, given;
} csv_stream;

static void release_pages(csv_stream *z) {
  /* as passed(): a file within one chunk is never released (each release
   * made the next block fault every page of it in again) */
  if (z->map && z->maplen > RELEASE_BYTES)
    madvise(z->map, z->maplen, MADV_DONTNEED);
}

static void csv_stream_close(void *state) {
  csv_stream *z = state;
  if (!z)
    return;
  for (size_t i = 0; i < z->c.nproto; i++)
    cs_spectrum_free(z->c.proto[i]);
  free(z->c.proto);
  pairs_free(&z->c.kv);
  free(z->c.f);
  free(z->c.lines);
  cs_spectrum_free(z->proto);
  free(z->x);
  columns_free(&z->cols);
  free(z->rows);
  free(z->it);
  free(z->at);
  cs_dataset_free(z->block);
  if (z->map)
    munmap(z->map, z->maplen);
  free(z);
}

/* Map path read-only with a zero page after its bytes (the parser may look
 * one byte past the end, as it may with csi_read_file's NUL). */
static cs_status map_file(const char *path, csv_stream *z, cs_error *err) {
  FILE *f;
  cs_status st = csi_open_regular(path, &f, err);
  if (st)
    return st;
  struct stat sb;
  if (fstat(fileno(f), &sb)) {
    fclose(f);
    return csi_error(err, CS_ERR_IO, "cannot stat: %s", strerror(errno));
  }
  size_t len = (size_t)sb.st_size;
  long pg = sysconf(_SC_PAGESIZE);
  size_t page = pg > 0 ? (size_t)pg : 4096;
  z->maplen = (len / page + 1) * page;
  void *m = mmap(NULL, z->maplen, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m != MAP_FAILED && len &&
      mmap(m, len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fileno(f), 0) == MAP_FAILED) {
    munmap(m, z->maplen);
    m = MAP_FAILED;
  }
  fclose(f);
  if (m == MAP_FAILED)
    return csi_error(err, CS_ERR_IO, "cannot map the file: %s", strerror(errno));
  z->map = z->c.mapped = m;
  z->c.mapped_len = z->maplen;
  z->c.buf = m;
  z->c.len = len;
  return CS_OK;
}

/* The first pass over a column table: csv_read's read_rows, but keeping
 * each row's cursor instead of its y values. */
static cs_status scan_rows(csv_stream *z, cs_error *err) {
  ctx *c = &z->c;
  columns *k = &z->cols;
  size_t cap = 0;
  for (size_t i = c->first; i < c->stop; i++) {
    int kept;
    cs_status st = row_x(c, k, i, &kept, err);
    if (st)
      return st;
    if (!kept)
      continue;
    if (z->nrows == cap) {
      cap = cap ? 2 * cap : 1024;
      size_t *nr = realloc(z->rows, cap * sizeof *nr);
      if (nr)
        z->rows = nr;
      if (!nr)
        return csi_error(err, CS_ERR_NOMEM, "out of memory");
    }
    z->rows[z->nrows++] = i;
    passed(c, z->nrows);
  }
  if (!k->xs.n)
    return csi_error(err, CS_ERR_MALFORMED, "the x column holds no values");
  z->it = malloc(z->nrows * sizeof *z->it);
  z->at = calloc(z->nrows, sizeof *z->at);
  if (!z->it || !z->at)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  for (size_t r = 0; r < z->nrows; r++) {
    z->it[r] = fit_start(c->lines[z->rows[r]], c->sep);
    passed(c, r);
  }
  return CS_OK;
}

/* read_columns up to its rows: titles, chosen columns, x. */
static cs_status columns_begin(csv_stream *z, cs_error *err) {
  ctx *c = &z->c;
  columns *k = &z->cols;
  k->nc = c->ncols;
  k->ycol = calloc(k->nc, sizeof *k->ycol);
  k->name = calloc(k->nc, sizeof *k->name);
  k->ax = calloc(k->nc, sizeof *k->ax);
  k->ys = calloc(k->nc, sizeof *k->ys);
  cs_status st = CS_OK;
  if (!k->ycol || !k->name || !k->ax || !k->ys)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  else if (c->hdr != NONE && !c->own) {
    if (!(st = title_names(c, k, err)))
      choose_columns(k);
  } else {
    for (size_t j = 1; j < k->nc; j++)
      k->ycol[k->ny++] = j;
  }
  if (!st && c->own && k->ny != c->nproto)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "calcspec header describes %zu spectra but the table has "
                   "%zu y columns",
                   c->nproto, k->ny);
  if (!st && !k->ny)
    st = csi_error(err, CS_ERR_UNSUPPORTED,
                   k->nc == 1 ? "one column of numbers: no x axis"
                              : "no intensity column among the column titles");
  if (!st)
    st = scan_rows(z, err);
  z->axis = z->proto->axis;
  if (!st && !c->own && k->name[0] && k->ax[k->xcol].axis != CS_AXIS_UNKNOWN) {
    z->axis = k->ax[k->xcol].axis;
    st = csi_axis_unit_apply(&k->ax[k->xcol], k->xs.v, k->xs.n,
                             k->name[k->xcol], err);
  }
  return st;
}

/* The next block of y columns into z->block. */
static cs_status columns_block(csv_stream *z, cs_error *err) {
  ctx *c = &z->c;
  columns *k = &z->cols;
  size_t j1 = z->j0 + BLOCK_COLS < k->ny ? z->j0 + BLOCK_COLS : k->ny;
  cs_status st = CS_OK;
  for (size_t j = z->j0; j < j1 && !st; j++) {
    k->ys[j].n = 0;
    k->ys[j].v = malloc(k->xs.n * sizeof *k->ys[j].v);
    k->ys[j].cap = k->xs.n;
    if (!k->ys[j].v)
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  }
  for (size_t r = 0; r < z->nrows && !st; r++) {
    passed(c, r); /* see passed() */
    for (size_t j = z->j0; j < j1 && !st; j++) {
      size_t col = k->ycol[j];
      span f = {0};
      while (z->at[r] <= col && fit_next(&z->it[r], &f))
        z->at[r]++;
      double v;
      if (parse_num(f, c->comma, &v))
        st = bad_cell(c, z->rows[r] + 1, col, f, err);
      else
        k->ys[j].v[k->ys[j].n++] = v;
    }
  }
  release_pages(z);
  for (size_t j = z->j0; j < j1 && !st; j++) {
    cs_spectrum *s = NULL;
    if (!(st = column_spectrum(c, k, j, z->proto, z->axis, &s, err)))
      st = cs_dataset_push(z->block, s, err);
  }
  for (size_t j = z->j0; j < j1; j++)
    csi_dvec_free(&k->ys[j]);
  z->j0 = j1;
  return st;
}

/* The next row of a map into z->block; nothing at the end. */
static cs_status map_block(csv_stream *z, cs_error *err) {
  ctx *c = &z->c;
  size_t k = z->k;
  for (; z->line < c->stop; z->line++) {
    span t = trim(c->lines[z->line]);
    if (t.n && t.p[0] != '#')
      break;
  }
  if (z->line >= c->stop)
    return CS_OK;
  size_t i = z->line++;
  cs_spectrum *s;
  cs_status st = map_row(c, i, k, z->x, z->npts, z->given, z->proto, &s, err);
  if (st)
    return st;
  passed(c, i); /* rate-limited, unlike release_pages */
  return cs_dataset_push(z->block, s, err);
}

/* parse's NUL check and split_lines, releasing the pages as they are
 * passed (a first touch of every page must not keep the file resident). */
static cs_status scan_file(csv_stream *z, cs_error *err) {
  ctx *c = &z->c;
  const size_t step = (size_t)1 << 20;
  const char *b = c->buf;
  size_t cap = 1;
  int cr = 0; /* any '\r' */
  for (size_t o = 0; o < c->len; o += step) {
    size_t e = c->len - o < step ? c->len : o + step;
    if (memchr(b + o, '\0', e - o))
      return nul_error(c, err);
    /* line ends counted by memchr: the byte loop ran at ~400 MB/s */
    for (const char *q = b + o, *qe = b + e; (q = memchr(q, '\n', (size_t)(qe - q)));
         q++)
      cap++;
    for (const char *q = b + o, *qe = b + e; (q = memchr(q, '\r', (size_t)(qe - q)));
         q++)
      cap++, cr = 1;
    if (e % RELEASE_BYTES < step && e >= RELEASE_BYTES)
      release_pages(z);
  }
  span *v = c->lines = malloc(cap * sizeof *v);
  if (!v)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  size_t n = 0, start = 0, mark = 0;
  for (size_t i = 0; i <= c->len; i++) { /* as split_lines */
    if (i < c->len && b[i] != '\n' && b[i] != '\r') {
      if (cr)
        continue;
      /* without '\r' the next line end is the next '\n' */
      const char *q = memchr(b + i, '\n', c->len - i);
      i = q ? (size_t)(q - b) : c->len;
    }
    if (i == c->len && start == c->len)
      break;
    v[n++] = (span){b + start, i - start};
    if (i + 1 < c->len && b[i] == '\r' && b[i + 1] == '\n')
      i++;
    start = i + 1;
    if (i - mark > RELEASE_BYTES) {
      release_pages(z);
      mark = i;
    }
  }
  c->nlines = n;
  release_pages(z);
  return CS_OK;
}

static cs_status csv_stream_open(const char *path, void **state, cs_error *err) {
  *state = NULL;
  csv_stream *z = calloc(1, sizeof *z);
  if (!z)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  z->c.header_end = NONE;
  cs_status st = map_file(path, z, err);
  ctx *c = &z->c;
  if (!st && c->len >= 3 && !memcmp(c->buf, "\xEF\xBB\xBF", 3))
    c->buf += 3, c->len -= 3;
  if (!st && !(z->block = csi_dataset_alloc()))
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st)
    st = scan_file(z, err);
  if (!st)
    st = prepare(c, &z->proto, err);
  if (!st && !c->own && c->hdr == NONE) {
    size_t n;
    if (row_fields(c, c->lines[c->first], &n))
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    while (!st && z->k < n && !c->f[z->k].n)
      z->k++;
  }
  if (!st && z->k) { /* a map: its x axis row */
    size_t n;
    z->npts = c->ncols - z->k;
    if (row_fields(c, c->lines[c->first], &n))
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    if (!st && !(z->x = malloc(z->npts * sizeof *z->x)))
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    for (size_t j = 0; j < z->npts && !st; j++)
      if (parse_num(c->f[z->k + j], c->comma, &z->x[j]))
        st = bad_cell(c, c->first + 1, z->k + j, c->f[z->k + j], err);
    z->line = c->first + 1;
    for (size_t i = z->line; i < c->stop && !st; i++) { /* the count */
      span t = trim(c->lines[i]);
      z->nmap += t.n && t.p[0] != '#';
      passed(c, i);
    }
  } else if (!st) {
    st = columns_begin(z, err);
  }
  release_pages(z);
  if (st) {
    csv_stream_close(z);
    return st;
  }
  *state = z;
  return CS_OK;
}

static cs_status csv_stream_next(void *state, cs_spectrum **out, cs_error *err) {
  csv_stream *z = state;
  *out = NULL;
  if (z->pos == z->block->n) {
    for (size_t i = 0; i < z->block->n; i++)
      cs_spectrum_free(z->block->items[i]); /* NULL: handed out */
    z->block->n = z->pos = 0;
    cs_status st = z->k ? map_block(z, err)
                        : z->j0 < z->cols.ny ? columns_block(z, err) : CS_OK;
    if (st)
      return st;
    if (!z->block->n)
      return z->given || !z->k ? CS_OK
                               : csi_error(err, CS_ERR_MALFORMED,
                                           "map has an x axis row but no spectra");
  }
  *out = z->block->items[z->pos];
  z->block->items[z->pos++] = NULL;
  z->given++;
  return CS_OK;
}

static size_t csv_stream_held(const void *state) {
  const csv_stream *z = state;
  return z->block->n - z->pos;
}

static size_t csv_stream_count(const void *state) {
  const csv_stream *z = state;
  return z->k ? z->nmap : z->cols.ny;
}

const csi_stream csi_stream_csv = {csv_stream_open, csv_stream_next,
                                   csv_stream_close, csv_stream_held,
                                   csv_stream_count};

const csi_reader csi_reader_csv = {
    "csv", "csv,tsv,txt,dat,asc,jaz",
    "delimited text: x/y columns, LabSpec, RRUFF, B&W Tek, Ocean exports",
    csv_sniff, csv_read, csv_write};
