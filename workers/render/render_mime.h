/*
 * render_mime - MIME entities (contract §8.3): text parts in their
 * charset and transfer encoding, attachments, multipart containers, and
 * the structure of a message body.
 *
 * An "entity" is its header fields (Content-*), an empty line and its
 * body, with CRLF line ends and no line over 998 octets. Entity bodies
 * never end in the CRLF that precedes the next boundary: the container
 * writes it. Boundaries contain "=_", which cannot occur in base64 or
 * quoted-printable text; a 7bit part that contains "=_" is written
 * quoted-printable instead, so a boundary never appears inside a part.
 */
#ifndef RENDER_MIME_H
#define RENDER_MIME_H

#include "util/buf.h"

#include <stddef.h>

struct mime_text {
    const char *text; /* UTF-8 */
    size_t len;
    const char *charset; /* NULL: UTF-8 */
    const char *cte;     /* NULL (txmail's choice), "base64", "quoted-printable" */
    const char *subtype; /* "plain" or "html" */
};

struct mime_attachment {
    const char *name;         /* UTF-8 file name */
    const char *content_type; /* type/subtype as requested */
    const char *content_id;   /* or NULL */
    const char *data;         /* base64 (CR, LF, SP, TAB tolerated) */
    size_t len;
};

/* the parts of one message body, ready to be assembled */
struct mime_spec {
    const struct buf *plain;      /* text/plain entity, or NULL */
    const struct buf *html;       /* text/html entity, or NULL */
    const struct buf *const *inl; /* inline entities (multipart/related with html) */
    size_t ninl;
    const struct buf *const *att; /* attachment entities (multipart/mixed) */
    size_t natt;
    const char *seed; /* boundaries derive from it (same seed, same bytes) */
};

/* render_mime_text_entity - a text part; -1 with err (charset, size) */
int render_mime_text_entity(struct buf *out, const struct mime_text *t, char *err, size_t errsz);
/*
 * render_mime_text_max - an upper bound of the size of t's entity when nothing
 * but size can make render_mime_text_entity() fail (UTF-8, no conversion), else
 * SIZE_MAX. Into a buffer whose maximum is at least that, it cannot fail.
 */
size_t render_mime_text_max(const struct mime_text *t);
/* render_mime_attachment_entity - an attachment (inline_part: Content-Disposition inline) */
int render_mime_attachment_entity(struct buf *out, const struct mime_attachment *a, int inline_part,
                                  char *err, size_t errsz);
/*
 * render_mime_build - the message's top entity from spec into out; *body_off is
 * where its body starts (after the empty line). -1 with err.
 */
int render_mime_build(struct buf *out, const struct mime_spec *spec, size_t *body_off, char *err,
                      size_t errsz);

/* render_mime_qp_encode - quoted-msg_printable (RFC 2045 §6.7); binary: CR and LF are data too */
int render_mime_qp_encode(struct buf *out, const unsigned char *s, size_t len, int binary);
/* render_mime_b64_lines - base64 in lines of 76, CRLF between lines, none after the last */
int render_mime_b64_lines(struct buf *out, const void *data, size_t len);
/* render_mime_b64_reline - base64 text re-cut into lines of 76 in one pass; -1 when not valid base64 */
int render_mime_b64_reline(struct buf *out, const char *in, size_t len);
/* render_mime_crlf - text with every line end (LF, CR, CRLF) as CRLF, appended to out */
int render_mime_crlf(struct buf *out, const char *s, size_t len);

#endif
