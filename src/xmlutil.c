/* xmlutil.c: libxml2 opened safely, plus small tree helpers.  The readers
 * never see a libxml2 error printed: messages go into cs_error. */
#include "xmlutil.h"

#include <libxml/xmlversion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void init_libxml(void) { xmlInitParser(); }

/* Errors without a parser context (encoding conversion, I/O) bypass
 * XML_PARSE_NOERROR and go to libxml2's generic handler, which prints to
 * stderr.  Both handlers are per thread: swap them in around the parse and
 * put the caller's back (the message still reaches xmlCtxtGetLastError). */
static void quiet_generic(void *ctx, const char *msg, ...) {
  (void)ctx;
  (void)msg;
}
#if LIBXML_VERSION >= 21200
static void quiet_structured(void *ctx, const xmlError *e) {
#else
static void quiet_structured(void *ctx, xmlErrorPtr e) {
#endif
  (void)ctx;
  (void)e;
}

/* Skip from p (at '<') past one markup construct that is not an element:
 * comment, PI, or DOCTYPE (with internal subset).  Returns the position after
 * it, or NULL when p starts an element or the construct is unterminated. */
static const char *skip_markup(const char *p, const char *end,
                               const char **doctype, const char **doctype_end) {
  if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
    for (const char *q = p + 4; q + 3 <= end; q++)
      if (memcmp(q, "-->", 3) == 0)
        return q + 3;
    return NULL;
  }
  if (end - p >= 2 && p[1] == '?') {
    for (const char *q = p + 2; q + 2 <= end; q++)
      if (q[0] == '?' && q[1] == '>')
        return q + 2;
    return NULL;
  }
  if (end - p >= 9 && memcmp(p, "<!DOCTYPE", 9) == 0) {
    int depth = 0; /* inside [...] internal subset */
    for (const char *q = p + 9; q < end; q++) {
      if (*q == '[')
        depth++;
      else if (*q == ']')
        depth--;
      else if (*q == '>' && depth <= 0) {
        *doctype = p;
        *doctype_end = q + 1;
        return q + 1;
      }
    }
    *doctype = p;
    *doctype_end = end;
    return NULL;
  }
  return NULL;
}

/* Locate the prolog's DOCTYPE (if any) before the root element. */
static void find_doctype(const char *buf, size_t len, const char **dt,
                         const char **dt_end) {
  const char *p = buf, *end = buf + len;
  *dt = *dt_end = NULL;
  while (p < end) {
    const char *lt = memchr(p, '<', (size_t)(end - p));
    if (!lt)
      return;
    const char *next = skip_markup(lt, end, dt, dt_end);
    if (!next)
      return; /* the root element, or an unterminated construct */
    p = next;
  }
}

static int contains(const char *p, const char *end, const char *needle) {
  size_t m = strlen(needle);
  for (; p + m <= end; p++)
    if (memcmp(p, needle, m) == 0)
      return 1;
  return 0;
}

cs_status csi_xml_parse(const char *buf, size_t len, int opts, xmlDocPtr *out,
                        cs_error *err) {
  *out = NULL;
  pthread_once(&init_once, init_libxml);
  if (len > (size_t)INT32_MAX)
    return csi_error(err, CS_ERR_UNSUPPORTED, "XML document larger than 2 GiB");
  const char *dt, *dt_end;
  find_doctype(buf, len, &dt, &dt_end);
  /* An external DTD alone is harmless (it is never loaded); entity
   * declarations are what expansion and external-entity attacks need. */
  if (dt && contains(dt, dt_end, "<!ENTITY"))
    return csi_error(err, CS_ERR_MALFORMED,
                     "XML document declares entities; refused (entity "
                     "expansion and external entities are not allowed)");
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (!ctxt)
    return csi_error(err, CS_ERR_NOMEM, "out of memory creating XML parser");
  int flags = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
              XML_PARSE_NOCDATA | opts;
  flags &= ~(XML_PARSE_NOENT | XML_PARSE_DTDLOAD | XML_PARSE_DTDATTR |
             XML_PARSE_DTDVALID | XML_PARSE_XINCLUDE | XML_PARSE_HUGE);
  xmlGenericErrorFunc old_fn = xmlGenericError;
  void *old_ctx = xmlGenericErrorContext;
  xmlStructuredErrorFunc old_sfn = xmlStructuredError;
  void *old_sctx = xmlStructuredErrorContext;
  xmlSetGenericErrorFunc(NULL, quiet_generic);
  xmlSetStructuredErrorFunc(NULL, quiet_structured);
  xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, flags);
  xmlSetGenericErrorFunc(old_ctx, old_fn);
  xmlSetStructuredErrorFunc(old_sctx, old_sfn);
  if (!doc || (!ctxt->wellFormed && !(opts & XML_PARSE_RECOVER))) {
    const xmlError *e = xmlCtxtGetLastError(ctxt);
    char msg[200] = "not well-formed";
    if (e && e->message) {
      snprintf(msg, sizeof msg, "%s", e->message);
      size_t m = strlen(msg);
      while (m && (msg[m - 1] == '\n' || msg[m - 1] == ' '))
        msg[--m] = '\0';
    }
    int line = e ? e->line : 0;
    if (doc)
      xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return csi_error(err, CS_ERR_MALFORMED, "XML error at line %d: %s", line,
                     msg);
  }
  xmlFreeParserCtxt(ctxt);
  if (!xmlDocGetRootElement(doc)) {
    xmlFreeDoc(doc);
    return csi_error(err, CS_ERR_MALFORMED, "XML document has no root element");
  }
  *out = doc;
  return CS_OK;
}

cs_status csi_xml_read_file(const char *path, int opts, xmlDocPtr *out,
                            cs_error *err) {
  char *buf;
  size_t len;
  *out = NULL;
  cs_status st = csi_read_file(path, CSI_MAX_FILE_BYTES, &buf, &len, err);
  if (st)
    return st;
  st = csi_xml_parse(buf, len, opts, out, err);
  free(buf);
  return st;
}

int csi_xml_is(const xmlNode *n, const char *name) {
  return n && n->type == XML_ELEMENT_NODE &&
         strcmp((const char *)n->name, name) == 0;
}

xmlNodePtr csi_xml_next(const xmlNode *n, const char *name) {
  for (xmlNodePtr c = n ? n->next : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && (!name || csi_xml_is(c, name)))
      return c;
  return NULL;
}

xmlNodePtr csi_xml_child(const xmlNode *parent, const char *name) {
  for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && (!name || csi_xml_is(c, name)))
      return c;
  return NULL;
}

char *csi_xml_attr(const xmlNode *n, const char *name) {
  xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
  if (!v)
    return NULL;
  char *s = csi_strdup((const char *)v);
  xmlFree(v);
  return s;
}

int csi_xml_attr_double(const xmlNode *n, const char *name, double *out) {
  char *v = csi_xml_attr(n, name);
  int rc = v ? csi_parse_double(v, out) : -1;
  free(v);
  return rc;
}

char *csi_xml_text(const xmlNode *n) {
  xmlChar *v = xmlNodeGetContent(n);
  char *s = csi_strdup(v ? (const char *)v : "");
  xmlFree(v);
  return s;
}

int csi_xml_sniff_root(const unsigned char *head, size_t n, const char *root) {
  const char *p = (const char *)csi_skip_bom_ws(head, &n);
  const char *end = p + n, *dt, *dt_end;
  while (p < end) {
    const char *lt = memchr(p, '<', (size_t)(end - p));
    if (!lt)
      return 0;
    const char *next = skip_markup(lt, end, &dt, &dt_end);
    if (next) {
      p = next;
      continue;
    }
    /* An element start: compare its local name. */
    const char *name = lt + 1, *q = name;
    while (q < end && *q != '>' && *q != '/' && *q != ' ' && *q != '\t' &&
           *q != '\r' && *q != '\n')
      q++;
    const char *colon = memchr(name, ':', (size_t)(q - name));
    if (colon)
      name = colon + 1;
    size_t m = strlen(root);
    return (size_t)(q - name) == m && memcmp(name, root, m) == 0;
  }
  return 0;
}

/* ---- streaming (xmlTextReader) ---- */

#include <libxml/xmlreader.h>

struct csi_xml_stream {
  xmlTextReaderPtr tr;
  FILE *f;
  int checked;    /* the prolog was checked for entity declarations */
  int refused;    /* ... and declares some */
  xmlDocPtr doc;  /* asked for to check the prolog: then the reader leaves
                   * the document (what is left of it) to us to free */
  int line;       /* of the first error libxml2 reported */
  char msg[200];  /* empty: none */
};

static int stream_input(void *ctx, char *buf, int len) {
  csi_xml_stream *xs = ctx;
  size_t n = fread(buf, 1, (size_t)len, xs->f);
  return n == 0 && ferror(xs->f) ? -1 : (int)n;
}

static int stream_close_input(void *ctx) {
  (void)ctx; /* the FILE is closed with the stream */
  return 0;
}

#if LIBXML_VERSION >= 21200
static void stream_error(void *ctx, const xmlError *e) {
#else
static void stream_error(void *ctx, xmlErrorPtr e) {
#endif
  csi_xml_stream *xs = ctx;
  if (xs->msg[0] || !e || e->level < XML_ERR_ERROR)
    return;
  snprintf(xs->msg, sizeof xs->msg, "%s", e->message ? e->message : "not well-formed");
  size_t m = strlen(xs->msg);
  while (m && (xs->msg[m - 1] == '\n' || xs->msg[m - 1] == ' '))
    xs->msg[--m] = '\0';
  xs->line = e->line;
}

cs_status csi_xml_stream_open(const char *path, csi_xml_stream **out,
                              cs_error *err) {
  *out = NULL;
  pthread_once(&init_once, init_libxml);
  csi_xml_stream *xs = calloc(1, sizeof *xs);
  if (!xs)
    return csi_error(err, CS_ERR_NOMEM, "out of memory");
  cs_status st = csi_open_regular(path, &xs->f, err);
  if (st) {
    free(xs);
    return st;
  }
  /* entity declarations in the prolog are refused before libxml2 sees
   * them (declares_entities checks again when the root element starts) */
  char head[65536];
  size_t nh = fread(head, 1, sizeof head, xs->f);
  const char *dt, *dt_end;
  find_doctype(head, nh, &dt, &dt_end);
  int ent = dt && contains(dt, dt_end, "<!ENTITY");
  if (ent || fseek(xs->f, 0, SEEK_SET)) {
    fclose(xs->f);
    free(xs);
    return ent ? csi_error(err, CS_ERR_MALFORMED,
                           "XML document declares entities; refused (entity "
                           "expansion and external entities are not allowed)")
               : csi_error(err, CS_ERR_IO, "cannot seek");
  }
  int flags = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
              XML_PARSE_NOCDATA;
  xs->tr = xmlReaderForIO(stream_input, stream_close_input, xs, NULL, NULL,
                          flags);
  if (!xs->tr) {
    fclose(xs->f);
    free(xs);
    return csi_error(err, CS_ERR_NOMEM, "out of memory creating XML parser");
  }
  xmlTextReaderSetStructuredErrorHandler(xs->tr, stream_error, xs);
  *out = xs;
  return CS_OK;
}

/* An internal subset with entity declarations, as csi_xml_parse refuses it
 * (checked once the prolog is parsed, before any content is). */
static int declares_entities(csi_xml_stream *xs) {
  xmlDocPtr doc = xs->doc = xmlTextReaderCurrentDoc(xs->tr);
  xmlDtdPtr dtd = doc ? doc->intSubset : NULL;
  if (!dtd)
    return 0;
  if (dtd->entities || dtd->pentities)
    return 1;
  for (xmlNodePtr c = dtd->children; c; c = c->next)
    if (c->type == XML_ENTITY_DECL)
      return 1;
  return 0;
}

/* libxml2's generic handler prints errors without a parser context: quiet
 * it around each step, as csi_xml_parse does. */
#define QUIET(expr)                                                            \
  do {                                                                         \
    xmlGenericErrorFunc old_fn = xmlGenericError;                              \
    void *old_ctx = xmlGenericErrorContext;                                    \
    xmlSetGenericErrorFunc(NULL, quiet_generic);                               \
    expr;                                                                      \
    xmlSetGenericErrorFunc(old_ctx, old_fn);                                   \
  } while (0)

static int stream_step(csi_xml_stream *xs, int next) {
  if (xs->refused)
    return -1;
  int rc;
  QUIET(rc = next ? xmlTextReaderNext(xs->tr) : xmlTextReaderRead(xs->tr));
  if (rc == 1 && !xs->checked &&
      xmlTextReaderNodeType(xs->tr) == XML_READER_TYPE_ELEMENT) {
    xs->checked = 1;
    if (declares_entities(xs)) {
      xs->refused = 1;
      return -1;
    }
  }
  if (rc < 0 && !xs->msg[0])
    snprintf(xs->msg, sizeof xs->msg, "not well-formed");
  return rc;
}

int csi_xml_stream_read(csi_xml_stream *xs) { return stream_step(xs, 0); }
int csi_xml_stream_next(csi_xml_stream *xs) { return stream_step(xs, 1); }

xmlNodePtr csi_xml_stream_expand(csi_xml_stream *xs) {
  xmlNodePtr n;
  QUIET(n = xmlTextReaderExpand(xs->tr));
  if (!n && !xs->msg[0])
    snprintf(xs->msg, sizeof xs->msg, "not well-formed");
  return n;
}

int csi_xml_stream_is_element(csi_xml_stream *xs) {
  return xmlTextReaderNodeType(xs->tr) == XML_READER_TYPE_ELEMENT;
}
int csi_xml_stream_depth(csi_xml_stream *xs) {
  return xmlTextReaderDepth(xs->tr);
}
const char *csi_xml_stream_name(csi_xml_stream *xs) {
  const xmlChar *n = xmlTextReaderConstLocalName(xs->tr);
  return n ? (const char *)n : "";
}
const char *csi_xml_stream_ns(csi_xml_stream *xs) {
  return (const char *)xmlTextReaderConstNamespaceUri(xs->tr);
}

char *csi_xml_stream_attr(csi_xml_stream *xs, const char *name) {
  xmlChar *v = xmlTextReaderGetAttribute(xs->tr, (const xmlChar *)name);
  if (!v)
    return NULL;
  char *s = csi_strdup((const char *)v);
  xmlFree(v);
  return s;
}

cs_status csi_xml_stream_error(csi_xml_stream *xs, cs_error *err) {
  if (xs->refused)
    return csi_error(err, CS_ERR_MALFORMED,
                     "XML document declares entities; refused (entity "
                     "expansion and external entities are not allowed)");
  return csi_error(err, CS_ERR_MALFORMED, "XML error at line %d: %s", xs->line,
                   xs->msg[0] ? xs->msg : "not well-formed");
}

void csi_xml_stream_close(csi_xml_stream *xs) {
  if (!xs)
    return;
  xmlFreeTextReader(xs->tr);
  if (xs->doc)
    xmlFreeDoc(xs->doc);
  fclose(xs->f);
  free(xs);
}

xmlChar *csi_xml_node_text(xmlDocPtr doc, xmlNodePtr node, int level,
                           size_t *len) {
  xmlBufferPtr b = xmlBufferCreate();
  xmlChar *text = NULL;
  *len = 0;
  if (!b)
    return NULL;
  QUIET({
    xmlOutputBufferPtr o = xmlOutputBufferCreateBuffer(b, NULL);
    if (o) {
      xmlNodeDumpOutput(o, doc, node, level, 1, "UTF-8");
      int bad = o->error != 0;
      if (xmlOutputBufferClose(o) >= 0 && !bad) {
        *len = (size_t)xmlBufferLength(b);
        text = xmlBufferDetach(b);
      }
    }
  });
  xmlBufferFree(b);
  if (!text)
    *len = 0;
  return text;
}
