/* io_procspec.c: Ocean Insight (Ocean Optics) SpectraSuite/OceanView
 * .ProcSpec files (../shared/formats/FORMATS.md section 2).
 *
 * A ProcSpec is a zip holding ps_N.xml (an XStream dump of a Java
 * ProcessedSpectrum; N varies), OOISignatures.xml (SHA-512 of ps_N.xml) and
 * OOIVersion.txt.  The spectrum is the processedPixels of the last processing
 * certificate against the channel wavelengths (nm).  The "procspec" reader
 * refuses a ps_N.xml whose SHA-512 does not match its signature; the
 * "procspec_unverified" reader (explicit --format only) skips that check for
 * files edited on purpose. */
#include "xmlutil.h"

#include <nettle/sha2.h>
#include <zip.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Zip-bomb guards: ps_N.xml is ~0.8 MB for 3648 px (FORMATS.md section 2),
 * so 64 MiB per entry and 128 MiB in all leave ample room. */
#define PS_MAX_ENTRY ((zip_uint64_t)64 << 20)
#define PS_MAX_TOTAL ((zip_uint64_t)128 << 20)
#define PS_MAX_ENTRIES 4096
/* XStream references never chain in practice; bound them anyway (cycles). */
#define PS_MAX_HOPS 16

/* ---- sniffing ---- */

/* Does [p, p+n) hold "ps_<digits>.xml"? */
static int find_ps_name(const unsigned char *p, size_t n) {
  for (size_t i = 0; i + 3 <= n; i++) {
    if (memcmp(p + i, "ps_", 3) != 0)
      continue;
    size_t j = i + 3;
    while (j < n && p[j] >= '0' && p[j] <= '9')
      j++;
    if (j > i + 3 && j + 4 <= n && memcmp(p + j, ".xml", 4) == 0)
      return 1;
  }
  return 0;
}

static int sniff(const unsigned char *head, size_t n) {
  if (n < 30 || memcmp(head, "PK\3\4", 4) != 0)
    return 0;
  /* The local headers of the first entries are in the first 4 KiB; the
   * signature file or a ps_N.xml entry name marks a ProcSpec. */
  static const char sig[] = "OOISignatures.xml";
  for (size_t i = 0; i + sizeof sig - 1 <= n; i++)
    if (memcmp(head + i, sig, sizeof sig - 1) == 0)
      return 95;
  return find_ps_name(head, n) ? 90 : 0;
}

/* ---- zip access ---- */

static const char *base_name(const char *name) {
  const char *s = strrchr(name, '/');
  return s ? s + 1 : name;
}

static int is_ps_name(const char *base) {
  size_t n = strlen(base), i = 3;
  if (n < 8 || strncmp(base, "ps_", 3) != 0 || strcmp(base + n - 4, ".xml"))
    return 0;
  for (; i < n - 4; i++)
    if (base[i] < '0' || base[i] > '9')
      return 0;
  return i > 3;
}

static cs_status zip_fail(cs_error *err, zip_error_t *ze, const char *what,
                          const char *name) {
  int sys = zip_error_code_system(ze);
  cs_status code = (zip_error_code_zip(ze) == ZIP_ER_MEMORY) ? CS_ERR_NOMEM
                   : (zip_error_code_zip(ze) == ZIP_ER_READ && sys)
                       ? CS_ERR_IO
                       : CS_ERR_MALFORMED;
  return csi_error(err, code, "%s%s%s: %s", what, name ? " " : "",
                   name ? name : "", zip_error_strerror(ze));
}

/* Read entry idx whole (NUL-terminated), at most PS_MAX_ENTRY bytes and
 * *budget in all.  The stored size is checked before allocating, and the
 * data must end exactly there (libzip checks the CRC at the end). */
static cs_status read_entry(zip_t *za, zip_uint64_t idx, zip_uint64_t *budget,
                            char **out, size_t *len, cs_error *err) {
  zip_stat_t st;
  *out = NULL;
  *len = 0;
  zip_stat_init(&st);
  const char *name = zip_get_name(za, idx, 0);
  if (!name)
    name = "?";
  if (zip_stat_index(za, idx, 0, &st) != 0)
    return zip_fail(err, zip_get_error(za), "cannot stat", name);
  if (!(st.valid & ZIP_STAT_SIZE))
    return csi_error(err, CS_ERR_MALFORMED, "%s: uncompressed size unknown",
                     name);
  if (st.size > PS_MAX_ENTRY || st.size > *budget)
    return csi_error(err, CS_ERR_MALFORMED,
                     "%s: uncompressed size %llu bytes exceeds the %llu MiB "
                     "limit (not a spectrum, or a zip bomb)",
                     name, (unsigned long long)st.size,
                     (unsigned long long)((st.size > PS_MAX_ENTRY ? PS_MAX_ENTRY
                                                                  : *budget) >>
                                          20));
  size_t size = (size_t)st.size;
  char *buf = malloc(size + 2);
  if (!buf)
    return csi_error(err, CS_ERR_NOMEM, "out of memory reading %s", name);
  zip_file_t *zf = zip_fopen_index(za, idx, 0);
  if (!zf) {
    free(buf);
    return zip_fail(err, zip_get_error(za), "cannot open", name);
  }
  size_t got = 0;
  for (;;) {
    /* Ask for one byte more than declared to catch a lying size. */
    zip_int64_t r = zip_fread(zf, buf + got, size + 1 - got);
    if (r < 0) {
      cs_status st2 =
          zip_fail(err, zip_file_get_error(zf), "cannot read", name);
      zip_fclose(zf);
      free(buf);
      return st2;
    }
    if (r == 0)
      break;
    got += (size_t)r;
    if (got > size)
      break;
  }
  zip_fclose(zf);
  if (got != size) {
    free(buf);
    return csi_error(err, CS_ERR_MALFORMED,
                     "%s: holds %s data than its stated size %zu", name,
                     got > size ? "more" : "less", size);
  }
  buf[size] = '\0';
  *budget -= st.size;
  *out = buf;
  *len = size;
  return CS_OK;
}

/* ---- signature ---- */

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* hashValue is hex bytes separated by blanks ("14 3d 08 ..."); accept
 * one- or two-digit tokens and contiguous hex.  0 ok, -1 malformed. */
static int parse_hash(const char *s, unsigned char *out, size_t want) {
  size_t n = 0;
  while (*s) {
    if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
      s++;
      continue;
    }
    int hi = hexval((unsigned char)s[0]);
    if (hi < 0 || n >= want)
      return -1;
    int lo = s[1] ? hexval((unsigned char)s[1]) : -1;
    if (lo < 0) {
      out[n++] = (unsigned char)hi;
      s++;
    } else {
      out[n++] = (unsigned char)(hi * 16 + lo);
      s += 2;
    }
  }
  return n == want ? 0 : -1;
}

/* Check data (entry `base`) against its entry in OOISignatures.xml. */
static cs_status verify(const char *sigxml, size_t siglen, const char *base,
                        const char *data, size_t len, cs_error *err) {
  cs_error e2;
  xmlDocPtr doc = csi_xml_parse(sigxml, siglen, 0, &e2);
  if (!doc)
    return csi_error(err, CS_ERR_MALFORMED, "OOISignatures.xml: %s", e2.msg);
  cs_status st = CS_OK;
  xmlNodePtr found = NULL;
  for (xmlNodePtr s = csi_xml_child(xmlDocGetRootElement(doc), NULL); s;
       s = csi_xml_next(s, NULL)) {
    char *fn = csi_xml_text(csi_xml_child(s, "fileName"));
    int hit = fn && strcmp(csi_trim(fn), base) == 0;
    free(fn);
    if (hit) {
      found = s;
      break;
    }
  }
  char *alg = NULL, *hex = NULL;
  unsigned char want[SHA512_DIGEST_SIZE], got[SHA512_DIGEST_SIZE];
  if (!found) {
    st = csi_error(err, CS_ERR_MALFORMED,
                   "OOISignatures.xml has no signature for %s", base);
    goto done;
  }
  alg = csi_xml_text(csi_xml_child(found, "hashAlgorithm"));
  hex = csi_xml_text(csi_xml_child(found, "hashValue"));
  if (!alg || !hex) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  csi_trim(alg);
  if (csi_strcasecmp(alg, "SHA-512") != 0) {
    st = csi_error(err, CS_ERR_UNSUPPORTED,
                   "signature of %s uses '%.40s', only SHA-512 is supported",
                   base, alg);
    goto done;
  }
  if (parse_hash(hex, want, sizeof want) != 0) {
    st = csi_error(err, CS_ERR_MALFORMED,
                   "signature of %s is not a 64-byte hex SHA-512 value", base);
    goto done;
  }
  struct sha512_ctx ctx;
  sha512_init(&ctx);
  sha512_update(&ctx, len, (const uint8_t *)data);
  sha512_digest(&ctx, sizeof got, got);
  if (memcmp(want, got, sizeof got) != 0)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "signature mismatch: %s was modified after it was written "
                   "(SHA-512 differs from OOISignatures.xml; format "
                   "'procspec_unverified' reads it anyway)",
                   base);
done:
  free(alg);
  free(hex);
  xmlFreeDoc(doc);
  return st;
}

/* ---- encoding repair ---- */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t n) {
  unsigned c = p[0];
  size_t k;
  unsigned min;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    k = 2, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF)
    k = 3, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4)
    k = 4, min = 0x10000;
  else
    return 0;
  if (k > n)
    return 0;
  unsigned cp = c & (0x7F >> k);
  for (size_t i = 1; i < k; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return k;
}

static int bad_ctrl(unsigned char c) {
  return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

/* Does an XML declaration name an encoding other than UTF-8? */
static int declares_other_encoding(const char *in, size_t n) {
  if (n < 5 || memcmp(in, "<?xml", 5) != 0)
    return 0;
  const char *end = in + n, *q = in + 5;
  while (q + 1 < end && !(q[0] == '?' && q[1] == '>'))
    q++;
  const unsigned char *e =
      csi_memcasemem((const unsigned char *)in, (size_t)(q - in), "encoding");
  if (!e)
    return 0;
  return !csi_memcasemem(e, (size_t)((const unsigned char *)q - e), "utf-8");
}

/* SpectraSuite writes its Java default charset without declaring it: real
 * files carry Latin-1/cp1252 0xA0 (grouping separator) or MacRoman bytes and
 * a stray 0x01 in firmware strings, all in text we do not use
 * (FORMATS.md section 2).  Rather than XML_PARSE_RECOVER, which can silently
 * drop or truncate content, each byte that is not valid UTF-8 is read as
 * Latin-1 and each control character XML forbids becomes U+FFFD; the parse
 * itself stays strict, so real damage (truncation, broken tags, bad numbers)
 * is still reported.  Returns a new buffer (caller frees) or NULL on OOM. */
static char *repair_utf8(const char *in, size_t n, size_t *outlen) {
  const unsigned char *p = (const unsigned char *)in;
  if (declares_other_encoding(in, n)) {
    char *copy = csi_strndup(in, n); /* libxml2 decodes what is declared */
    *outlen = copy ? n : 0;
    return copy;
  }
  size_t extra = 0;
  for (size_t i = 0; i < n;) {
    size_t k = utf8_len(p + i, n - i);
    if (k == 0) {
      extra += 1; /* one byte becomes two */
      i++;
    } else {
      if (k == 1 && bad_ctrl(p[i]))
        extra += 2; /* one byte becomes three */
      i += k;
    }
  }
  char *out = malloc(n + extra + 1);
  if (!out)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    size_t k = utf8_len(p + i, n - i);
    if (k == 0) {
      out[o++] = (char)(0xC0 | (p[i] >> 6));
      out[o++] = (char)(0x80 | (p[i] & 0x3F));
      i++;
    } else if (k == 1 && bad_ctrl(p[i])) {
      memcpy(out + o, "\xEF\xBF\xBD", 3);
      o += 3;
      i++;
    } else {
      memcpy(out + o, p + i, k);
      o += k;
      i += k;
    }
  }
  out[o] = '\0';
  *outlen = o;
  return out;
}

/* ---- XStream tree ---- */

/* Follow XStream's reference="relative/or/absolute/path[k]" (1-based k)
 * until an element without one; NULL when the path leads nowhere. */
static xmlNodePtr resolve(xmlNodePtr n) {
  for (int hop = 0; n && hop < PS_MAX_HOPS; hop++) {
    char *ref = csi_xml_attr(n, "reference");
    if (!ref)
      return n;
    xmlNodePtr cur = n;
    char *save = NULL, *seg;
    if (ref[0] == '/')
      cur = (xmlNodePtr)n->doc; /* absolute: from the document node */
    for (seg = strtok_r(ref, "/", &save); seg && cur;
         seg = strtok_r(NULL, "/", &save)) {
      if (strcmp(seg, ".") == 0)
        continue;
      if (strcmp(seg, "..") == 0) {
        cur = cur->parent;
        if (cur && cur->type != XML_ELEMENT_NODE)
          cur = NULL;
        continue;
      }
      long k = 1;
      char *br = strchr(seg, '[');
      if (br) {
        char *end;
        k = strtol(br + 1, &end, 10);
        if (end == br + 1 || strcmp(end, "]") != 0 || k < 1 || k > 1000000) {
          cur = NULL;
          break;
        }
        *br = '\0';
      }
      xmlNodePtr c = csi_xml_child(cur, seg);
      while (c && --k > 0)
        c = csi_xml_next(c, seg);
      cur = c;
    }
    free(ref);
    n = cur;
  }
  return NULL;
}

/* The last element child of parent, or NULL. */
static xmlNodePtr last_child(xmlNodePtr parent) {
  xmlNodePtr last = NULL;
  for (xmlNodePtr c = csi_xml_child(parent, NULL); c; c = csi_xml_next(c, NULL))
    last = c;
  return last;
}

/* Text of child `name` of n (trimmed, malloc'd), or NULL when absent. */
static char *child_text(xmlNodePtr n, const char *name) {
  xmlNodePtr c = resolve(csi_xml_child(n, name));
  if (!c)
    return NULL;
  char *t = csi_xml_text(c);
  return t ? csi_trim(t) : NULL;
}

static int child_double(xmlNodePtr n, const char *name, double *out) {
  char *t = child_text(n, name);
  int rc = t ? csi_parse_double(t, out) : -1;
  free(t);
  return rc;
}

/* The <double> children of list as numbers.  v is malloc'd (caller frees). */
static cs_status doubles(xmlNodePtr list, const char *what, double **v,
                         size_t *n, cs_error *err) {
  size_t cnt = 0;
  *v = NULL;
  *n = 0;
  for (xmlNodePtr c = csi_xml_child(list, "double"); c;
       c = csi_xml_next(c, "double"))
    cnt++;
  if (cnt == 0)
    return csi_error(err, CS_ERR_MALFORMED, "%s holds no <double> values",
                     what);
  if (cnt > CSI_MAX_POINTS)
    return csi_error(err, CS_ERR_UNSUPPORTED, "%s has %zu values, too many",
                     what, cnt);
  double *a = malloc(cnt * sizeof *a);
  if (!a)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  size_t i = 0;
  for (xmlNodePtr c = csi_xml_child(list, "double"); c;
       c = csi_xml_next(c, "double"), i++) {
    char *t = csi_xml_text(c);
    if (!t || csi_parse_double(t, &a[i]) != 0) {
      cs_status st =
          t ? csi_error(err, CS_ERR_MALFORMED,
                        "%s value %zu is not a finite number: '%.40s'", what,
                        i + 1, csi_trim(t))
            : csi_error(err, CS_ERR_NOMEM, "out of memory");
      free(t);
      free(a);
      return st;
    }
    free(t);
  }
  *v = a;
  *n = cnt;
  return CS_OK;
}

/* Short Java class name: text after the last '.'. */
static const char *short_class(const char *cls) {
  const char *d = strrchr(cls, '.');
  return d ? d + 1 : cls;
}

/* Quantity from the yUnits descriptor class (SpectraSuite unitdescriptors). */
static cs_quantity quantity_of(const char *cls) {
  static const struct {
    const char *name;
    cs_quantity q;
  } map[] = {{"CountsIntensityDescriptor", CS_Q_COUNTS},
             {"TransmissionIntensityDescriptor", CS_Q_TRANSMITTANCE_PCT},
             {"ReflectionIntensityDescriptor", CS_Q_REFLECTANCE},
             {"AbsorbanceIntensityDescriptor", CS_Q_ABSORBANCE}};
  if (!cls)
    return CS_Q_ARBITRARY;
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    if (strcmp(short_class(cls), map[i].name) == 0)
      return map[i].q;
  return CS_Q_ARBITRARY;
}

/* Java epoch milliseconds -> "YYYY-MM-DDTHH:MM:SS.mmmZ" (proleptic
 * Gregorian, UTC).  0 ok, -1 outside years 1970..9999. */
static int iso_from_ms(double ms, char *buf, size_t cap) {
  if (!(ms >= 0 && ms < 253402300800000.0))
    return -1;
  long long t = (long long)ms;
  long long days = t / 86400000LL, rem = t % 86400000LL;
  /* civil_from_days (H. Hinnant's algorithm), days since 1970-01-01. */
  long long z = days + 719468, era = z / 146097;
  long long doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  long long m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  csi_snprintf(buf, cap, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", y, m,
           d, rem / 3600000, rem / 60000 % 60, rem / 1000 % 60, rem % 1000);
  return 0;
}

static cs_status meta(cs_spectrum *s, const char *k, const char *v,
                      cs_error *err) {
  return v && *v ? cs_spectrum_set_meta(s, k, v, err) : CS_OK;
}

/* Build one spectrum from a parsed ps_N.xml. */
static cs_status build(xmlDocPtr doc, const char *entry, int verified,
                       const char *orig_name, cs_spectrum **out,
                       cs_error *err) {
  *out = NULL;
  xmlNodePtr root = xmlDocGetRootElement(doc);
  const char *rn = (const char *)root->name;
  size_t rl = strlen(rn);
  if (rl < 17 || strcmp(rn + rl - 17, "ProcessedSpectrum") != 0)
    return csi_error(err, CS_ERR_MALFORMED,
                     "%s: root element <%.60s> is not a ProcessedSpectrum",
                     entry, rn);
  xmlNodePtr src = csi_xml_child(csi_xml_child(root, "sourceSpectra"), NULL);
  xmlNodePtr cert = last_child(csi_xml_child(root, "certificates"));
  if (!cert)
    return csi_error(err, CS_ERR_MALFORMED,
                     "%s: no processing certificate (ProcessedSpectrum/"
                     "certificates is missing or empty)",
                     entry);
  xmlNodePtr ppix_el = csi_xml_child(cert, "processedPixels");
  xmlNodePtr ppix = resolve(ppix_el);
  if (!ppix)
    return csi_error(err, CS_ERR_MALFORMED,
                     "%s: the last certificate's processedPixels is %s", entry,
                     ppix_el ? "an unresolvable reference" : "missing");
  xmlNodePtr pwl_el = csi_xml_child(cert, "processedWavelengths");
  xmlNodePtr pwl = pwl_el ? resolve(pwl_el)
                          : resolve(csi_xml_child(src, "channelWavelengths"));
  if (!pwl)
    return csi_error(err, CS_ERR_MALFORMED, "%s: wavelengths are %s", entry,
                     pwl_el ? "an unresolvable reference" : "missing");
  double *x = NULL, *y = NULL;
  size_t nx, ny;
  cs_status st = doubles(pwl, "wavelengths", &x, &nx, err);
  if (!st)
    st = doubles(ppix, "processedPixels", &y, &ny, err);
  if (!st && nx != ny)
    st = csi_error(err, CS_ERR_MALFORMED,
                   "%s: %zu processed pixels but %zu wavelengths", entry, ny,
                   nx);
  cs_spectrum *s = NULL;
  if (!st && !(s = csi_spectrum_alloc(nx)))
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (st) {
    free(x);
    free(y);
    return st;
  }
  memcpy(s->x, x, nx * sizeof *x);
  memcpy(s->y, y, nx * sizeof *y);
  free(x);
  free(y);
  s->axis = CS_AXIS_WAVELENGTH_NM;

  /* The yUnits element carries class= even when it is a reference. */
  xmlNodePtr yu = csi_xml_child(cert, "yUnits");
  char *ycls = yu ? csi_xml_attr(yu, "class") : NULL;
  if (!ycls && yu && (yu = resolve(yu)))
    ycls = csi_xml_attr(yu, "class");
  s->quantity = quantity_of(ycls);

  double v;
  if (src && child_double(src, "laserWavelength", &v) == 0 && v > 0) {
    s->laser_nm = v; /* 0.0 means no laser (not a Raman setup) */
    s->technique = CS_TECH_RAMAN;
  }
  if (src && child_double(src, "integrationTime", &v) == 0 && v > 0)
    s->exposure_s = v * 1e-6; /* microseconds */
  if (src && child_double(src, "scansToAverage", &v) == 0 && v >= 1 &&
      v <= 1e9 && v == floor(v))
    s->accumulations = (int)v;

  char *serial = src ? child_text(src, "spectrometerSerialNumber") : NULL;
  char *cls = src ? child_text(src, "spectrometerClass") : NULL;
  char *fw = src ? child_text(src, "spectrometerFirmwareVersion") : NULL;
  char *user = src ? child_text(src, "userName") : NULL;
  char *boxcar = src ? child_text(src, "boxcarWidth") : NULL;
  const char *model = cls && *cls ? short_class(cls) : NULL;
  char *instrument = NULL;
  if (model && serial && *serial)
    instrument = csi_strfmt("%s %s", model, serial);
  char iso[96] = "";
  xmlNodePtr acq = src ? resolve(csi_xml_child(src, "acquisitionTime")) : NULL;
  if (acq && child_double(acq, "milliTime", &v) == 0)
    iso_from_ms(v, iso, sizeof iso);
  /* The processing chain, e.g. "NullPreProcessor>ReflectionCoreProcessor". */
  csi_buf chain = {0};
  for (xmlNodePtr c = csi_xml_child(csi_xml_child(root, "certificates"), NULL);
       c; c = csi_xml_next(c, NULL)) {
    char *cz = child_text(c, "clazz");
    if (cz && *cz)
      csi_buf_printf(&chain, "%s%s", chain.n ? ">" : "", short_class(cz));
    free(cz);
  }

  st = meta(s, CS_META_INSTRUMENT,
            instrument ? instrument : (serial ? serial : model), err);
  if (!st)
    st = meta(s, CS_META_ACQUIRED, iso, err);
  if (!st)
    st = meta(s, "procspec.entry", entry, err);
  if (!st)
    st = meta(s, "procspec.signature", verified ? "sha512-ok" : "not checked",
              err);
  if (!st)
    st = meta(s, "procspec.original_name", orig_name, err);
  if (!st)
    st = meta(s, "procspec.serial", serial, err);
  if (!st)
    st = meta(s, "procspec.model", model, err);
  if (!st)
    st = meta(s, "procspec.firmware", fw, err);
  if (!st)
    st = meta(s, "procspec.user", user, err);
  if (!st)
    st = meta(s, "procspec.boxcar_width", boxcar, err);
  if (!st)
    st = meta(s, "procspec.y_units", ycls ? short_class(ycls) : NULL, err);
  if (!st && chain.oom)
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
  if (!st && chain.n)
    st = meta(s, "procspec.processing", chain.p, err);
  csi_buf_free(&chain);
  free(serial);
  free(cls);
  free(fw);
  free(user);
  free(boxcar);
  free(instrument);
  free(ycls);
  if (st) {
    cs_spectrum_free(s);
    return st;
  }
  *out = s;
  return CS_OK;
}

/* "Ocean Optics [NAME.ProcSpec] (date)" -> NAME.ProcSpec in buf. */
static void original_name(zip_t *za, char *buf, size_t cap) {
  int len = 0;
  const char *c = zip_get_archive_comment(za, &len, ZIP_FL_ENC_RAW);
  buf[0] = '\0';
  if (!c || len <= 0)
    return;
  const char *end = c + len;
  const char *lb = memchr(c, '[', (size_t)len);
  const char *rb = lb ? memchr(lb, ']', (size_t)(end - lb)) : NULL;
  if (!lb || !rb || (size_t)(rb - lb - 1) >= cap)
    return;
  for (const char *p = lb + 1; p < rb; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7E)
      return; /* keep metadata plain ASCII */
  memcpy(buf, lb + 1, (size_t)(rb - lb - 1));
  buf[rb - lb - 1] = '\0';
}

static cs_status read_any(const char *path, int check, cs_dataset **out,
                          cs_error *err) {
  *out = NULL;
  int zerr = 0;
  zip_t *za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
  if (!za) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, zerr);
    cs_status st =
        (zerr == ZIP_ER_OPEN || zerr == ZIP_ER_READ || zerr == ZIP_ER_NOENT)
            ? csi_error(err, CS_ERR_IO, "cannot open zip: %s",
                        zip_error_strerror(&ze))
        : zerr == ZIP_ER_MEMORY
            ? csi_error(err, CS_ERR_NOMEM, "out of memory opening zip")
            : csi_error(err, CS_ERR_MALFORMED, "not a valid zip archive: %s",
                        zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return st;
  }
  cs_status st = CS_OK;
  zip_int64_t ne = zip_get_num_entries(za, 0);
  zip_int64_t sig = -1;
  zip_uint64_t budget = PS_MAX_TOTAL;
  char *sigxml = NULL, orig[256];
  size_t siglen = 0, nps = 0;
  cs_dataset *ds = NULL;
  if (ne < 0 || ne > PS_MAX_ENTRIES) {
    st = csi_error(err, CS_ERR_MALFORMED, "zip archive has %lld entries",
                   (long long)ne);
    goto done;
  }
  for (zip_int64_t i = 0; i < ne; i++) {
    const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
    if (name && strcmp(base_name(name), "OOISignatures.xml") == 0 && sig < 0)
      sig = i;
    if (name && is_ps_name(base_name(name)))
      nps++;
  }
  if (nps == 0) {
    st = csi_error(err, CS_ERR_MALFORMED,
                   "zip archive holds no ps_N.xml spectrum entry");
    goto done;
  }
  if (check && sig < 0) {
    st = csi_error(err, CS_ERR_MALFORMED,
                   "no OOISignatures.xml to verify the spectrum against "
                   "(format 'procspec_unverified' reads it anyway)");
    goto done;
  }
  if (check &&
      (st = read_entry(za, (zip_uint64_t)sig, &budget, &sigxml, &siglen, err)))
    goto done;
  original_name(za, orig, sizeof orig);
  if (!(ds = csi_dataset_alloc())) {
    st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    goto done;
  }
  for (zip_int64_t i = 0; i < ne && !st; i++) {
    const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
    if (!name || !is_ps_name(base_name(name)))
      continue;
    const char *base = base_name(name);
    char *data = NULL, *fixed = NULL;
    size_t len = 0, flen = 0;
    xmlDocPtr doc = NULL;
    cs_spectrum *s = NULL;
    st = read_entry(za, (zip_uint64_t)i, &budget, &data, &len, err);
    if (!st && check)
      st = verify(sigxml, siglen, base, data, len, err);
    if (!st && !(fixed = repair_utf8(data, len, &flen)))
      st = csi_error(err, CS_ERR_NOMEM, "out of memory");
    free(data);
    if (!st) {
      cs_error e2;
      if (!(doc = csi_xml_parse(fixed, flen, 0, &e2)))
        st = csi_error(err, e2.code, "%s: %s", base, e2.msg);
    }
    free(fixed);
    if (!st)
      st = build(doc, base, check, orig, &s, err);
    if (doc)
      xmlFreeDoc(doc);
    if (!st)
      st = cs_dataset_push(ds, s, err);
  }
done:
  free(sigxml);
  zip_discard(za);
  if (st) {
    cs_dataset_free(ds);
    return st;
  }
  *out = ds;
  return CS_OK;
}

static cs_status read_verified(const char *path, cs_dataset **out,
                               cs_error *err) {
  return read_any(path, 1, out, err);
}

static cs_status read_unverified(const char *path, cs_dataset **out,
                                 cs_error *err) {
  return read_any(path, 0, out, err);
}

const csi_reader csi_reader_procspec = {
    "procspec",
    "procspec",
    "Ocean Insight/Ocean Optics SpectraSuite ProcSpec (zip, SHA-512 checked)",
    sniff,
    read_verified,
    NULL};

/* Never chosen by sniffing or extension: only by an explicit format name. */
const csi_reader csi_reader_procspec_unverified = {
    "procspec_unverified",
    "",
    "ProcSpec without the signature check (for files edited on purpose)",
    NULL,
    read_unverified,
    NULL};
