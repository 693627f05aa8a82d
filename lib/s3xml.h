/*
 * s3xml: S3's XML replies read with libexpat, not by string search.
 *
 * A reply is seen as a list of (path, text) pairs, one per element at its
 * end: path is the element names from the root joined by '/'
 * ("Error/Code", "ListMultipartUploadsResult/Upload/Key"), text its
 * character data.  Namespaces are not expanded: S3 uses a default one.
 */
#ifndef PGBAK_S3XML_H
#define PGBAK_S3XML_H

#include <stddef.h>

typedef void s3xml_fn(void *ctx, const char *path, const char *text);

/* Call fn for every element of doc[0..len), in document order of their ends.
 * 0, or -1 when doc is not well-formed XML (or nests too deep). */
int s3xml_parse(const char *doc, size_t len, s3xml_fn *fn, void *ctx);

/* The same, fed piece by piece (a reply streamed from the network): feed
 * returns 0, or -1 once the input is not well-formed XML; last is 1 for
 * the final piece (n may be 0), which checks that the document ended. */
struct s3xml;
struct s3xml *s3xml_new(s3xml_fn *fn, void *ctx);
int s3xml_feed(struct s3xml *x, const char *p, size_t n, int last);
void s3xml_free(struct s3xml *x);

/* Copy the text of the first element at path into out (cap bytes, cut to
 * fit).  1 found, 0 not there, -1 not XML. */
int s3xml_get(const char *doc, size_t len, const char *path, char *out, size_t cap);

/* Copy the name of doc's root element into out (cap bytes, cut to fit):
 * what kind of reply it is.  1 when doc is well-formed XML, -1 not. */
int s3xml_root(const char *doc, size_t len, char *out, size_t cap);

/* Escape & < > " ' for element text; malloc'd. */
char *s3xml_escape(const char *s);

#endif
