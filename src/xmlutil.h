/* xmlutil.h: libxml2 helpers for the XML readers (internal). */
#ifndef CALCSPEC_XMLUTIL_H
#define CALCSPEC_XMLUTIL_H

#include "internal.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

/* Parse an in-memory document safely: no network, no DTD loading, no entity
 * substitution; documents that declare entities are refused before parsing
 * (billion laughs, external entities).  `opts` adds XML_PARSE_* flags (e.g.
 * XML_PARSE_RECOVER).  On CS_OK *out is the document, which the caller
 * frees with xmlFreeDoc; otherwise *out is NULL and err says why
 * (CS_ERR_MALFORMED, CS_ERR_UNSUPPORTED for > 2 GiB, CS_ERR_NOMEM). */
cs_status csi_xml_parse(const char *buf, size_t len, int opts, xmlDocPtr *out,
                        cs_error *err);
/* Read a file (at most CSI_MAX_FILE_BYTES) and parse it as above; the
 * status is csi_read_file's (CS_ERR_IO ...) or csi_xml_parse's. */
cs_status csi_xml_read_file(const char *path, int opts, xmlDocPtr *out,
                            cs_error *err);

/* A pull parser over a file (libxml2's xmlTextReader) with the same safety
 * as csi_xml_parse: no network, no DTD loading, no entity substitution, a
 * document declaring entities refused (csi_xml_stream_read fails on it), the
 * bytes read as they are (no decompression), libxml2's messages kept for
 * the cs_error instead of printed.  For readers that walk a large document
 * one subtree at a time (csi_xml_stream_expand, then _next past it). */
typedef struct csi_xml_stream csi_xml_stream;
cs_status csi_xml_stream_open(const char *path, csi_xml_stream **out,
                              cs_error *err);
/* xmlTextReaderRead / xmlTextReaderNext: 1 on a node, 0 at the end, -1 on
 * error (csi_xml_stream_error says which). */
int csi_xml_stream_read(csi_xml_stream *xs);
int csi_xml_stream_next(csi_xml_stream *xs);
/* The current element with its whole subtree (valid until the stream moves
 * on), NULL on error. */
xmlNodePtr csi_xml_stream_expand(csi_xml_stream *xs);
/* The current node: element? depth, local name, namespace URI (borrowed). */
int csi_xml_stream_is_element(csi_xml_stream *xs);
int csi_xml_stream_depth(csi_xml_stream *xs);
const char *csi_xml_stream_name(csi_xml_stream *xs);
const char *csi_xml_stream_ns(csi_xml_stream *xs);
/* The current element's attribute (malloc'd copy, caller frees with free)
 * or NULL, as csi_xml_attr; no need to expand the element. */
char *csi_xml_stream_attr(csi_xml_stream *xs, const char *name);
/* The failure as a cs_error: CS_ERR_MALFORMED "XML error at line N: ...",
 * as csi_xml_parse says it. */
cs_status csi_xml_stream_error(csi_xml_stream *xs, cs_error *err);
void csi_xml_stream_close(csi_xml_stream *xs);

/* node, at depth level of doc, as the whole document's indented UTF-8
 * dump (xmlDocDumpFormatMemoryEnc) writes it, without the line's leading
 * indent and end: *len bytes the caller frees with xmlFree, or NULL when
 * out of memory (libxml2's messages are not printed). */
xmlChar *csi_xml_node_text(xmlDocPtr doc, xmlNodePtr node, int level,
                           size_t *len);
/* Local element name (namespace prefix ignored) equals name? */
int csi_xml_is(const xmlNode *n, const char *name);
/* First element child named name (NULL name: any element), or NULL. */
xmlNodePtr csi_xml_child(const xmlNode *parent, const char *name);
/* Next element sibling after n named name (NULL name: any element). */
xmlNodePtr csi_xml_next(const xmlNode *n, const char *name);
/* Attribute value (malloc'd copy, caller frees with free) or NULL. */
char *csi_xml_attr(const xmlNode *n, const char *name);
/* Attribute parsed as a finite double: 0 ok, -1 missing or not a number. */
int csi_xml_attr_double(const xmlNode *n, const char *name, double *out);
/* Text content of n and its descendants (malloc'd, caller frees), never NULL
 * unless out of memory. */
char *csi_xml_text(const xmlNode *n);

/* Sniff helper: local name of the first element in head (skipping BOM, XML
 * declaration, comments, processing instructions and DOCTYPE) equals root?
 * Case-sensitive, prefix ignored. */
int csi_xml_sniff_root(const unsigned char *head, size_t n, const char *root);

#endif
