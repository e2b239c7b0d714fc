/*
 * smtpd_mime - reading a submitted message (CRLF line ends, as
 * smtpd_data stores it): the header fields of the message and of its
 * MIME entities, structured values (RFC 2045 parameters with RFC 2231
 * extensions, RFC 2047 encoded words), and the file
 * names of every attachment for the forbidden-extension rule (contract
 * §4.7). Every function treats the message as hostile: bounded depth,
 * bounded counts, no reads outside the given range.
 */
#ifndef TX_SMTPD_MIME_H
#define TX_SMTPD_MIME_H

#include "util/buf.h"

#include <jansson.h>
#include <stddef.h>

#define SMTPD_MIME_FIELDS_MAX 1000 /* header fields of the message */
#define SMTPD_MIME_DEPTH_MAX 32    /* nested multiparts / messages */
#define SMTPD_MIME_PARTS_MAX 10000 /* entities in one message */

struct smtpd_field {
    const char *name; /* points into the message */
    size_t name_len;
    const char *value; /* after the colon, folds included, without the final CRLF */
    size_t value_len;
    size_t off, len; /* the whole field with its final CRLF */
};

struct smtpd_fields {
    struct smtpd_field *f;
    int n, cap;
    size_t body_off; /* first octet of the body (after the blank line) */
};

/*
 * smtpd_mime_fields - split the header section of msg[0..len) into
 * fields (at most max). The section ends at the blank line, or at the
 * first line that is neither a field nor a continuation (then that line
 * starts the body). Lenient, for the MIME entities inside a message: the
 * message's own header is read by smtpd_msghdr_parse, which refuses
 * what this would read differently from other parsers. Returns 0, or -1 when there are more than max fields.
 * Ownership: out->f is new (smtpd_mime_fields_free).
 */
int smtpd_mime_fields(const char *msg, size_t len, struct smtpd_fields *out, int max);
void smtpd_mime_fields_free(struct smtpd_fields *f);
/* smtpd_mime_field_is - the field's name equals name (case-insensitive) */
int smtpd_mime_field_is(const struct smtpd_field *f, const char *name);

/* smtpd_mime_unfold - value without folding CRLFs and outer white space, appended to out */
void smtpd_mime_unfold(const char *v, size_t n, struct buf *out);
/* smtpd_mime_strip_comments - value without RFC 5322 comments (outside quoted strings) */
void smtpd_mime_strip_comments(const char *v, size_t n, struct buf *out);
/*
 * smtpd_mime_decode2047 - decode RFC 2047 encoded words into UTF-8
 * (white space between adjacent encoded words dropped; malformed words
 * kept literally). Appends to out.
 */
void smtpd_mime_decode2047(const char *in, size_t len, struct buf *out);
/*
 * smtpd_mime_param - parameter name of a Content-Type/Content-Disposition
 * value (unfolded), RFC 2231 continuations and charsets decoded, RFC 2047
 * words in plain values decoded; UTF-8 appended to out. 0 found, -1 not.
 */
int smtpd_mime_param(const char *v, size_t n, const char *name, struct buf *out);
/* smtpd_mime_type - "type/subtype" of a Content-Type value, lowercase ("" if none) */
void smtpd_mime_type(const char *v, size_t n, char *out, size_t outsz);

/* smtpd_mime_name_forbidden - file name's last extension (trailing dots and blanks ignored) is listed */
int smtpd_mime_name_forbidden(json_t *settings, const char *name, size_t len);

enum smtpd_mime_walk {
    SMTPD_MIME_OK = 0,
    SMTPD_MIME_FORBIDDEN = 1, /* name holds the attachment's file name */
    SMTPD_MIME_COMPLEX = 2,   /* nesting or part count over the bounds */
};
/*
 * smtpd_mime_attachments - walk every entity of msg[0..len) (multipart
 * parts, attached messages) and check each Content-Disposition filename
 * and Content-Type name against the account's forbiddenExtensions.
 */
enum smtpd_mime_walk smtpd_mime_attachments(const char *msg, size_t len, json_t *settings,
                                            struct buf *name);

#endif
