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
