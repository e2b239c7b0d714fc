/*
 * render_header - writing RFC 5322 header fields: folding at 78 columns
 * (never past 998), RFC 2047 encoded-words, mailbox lists with display
 * names, RFC 2231 parameters, the Date format.
 *
 * Every function appends complete "Name: value CRLF" fields (or, for
 * parameters, pieces of one) to a bounded buffer and returns -1 when the
 * buffer's maximum is reached or the value cannot be written (the error
 * text then says why). Text is UTF-8; header text never carries a bare
 * CR or LF (they become spaces), so a value can never inject a field.
 */
#ifndef RENDER_HEADER_H
#define RENDER_HEADER_H

#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

#define HEADER_FOLD 78 /* preferred line length (RFC 5322 §2.1.1) */
#define HEADER_LINE_MAX 998

/* a field being written: tracks the current line's length for folding */
struct header_w {
    struct buf *b;
    size_t col;     /* octets on the current line */
    size_t min_col; /* no fold before this column (just after "Name:") */
    int bad;        /* a line would pass 998 octets */
};

struct header_mailbox {
    const char *display; /* UTF-8, "" or NULL for none */
    const char *addr;    /* bare local@domain (UTF-8 local part allowed) */
};

/* render_header_begin - start "Name:" */
void render_header_begin(struct header_w *w, struct buf *b, const char *name);
/*
 * render_header_put - append ws (may be empty) + token; folds before ws when the
 * line would pass 78 columns (a token without ws is never folded).
 */
void render_header_put(struct header_w *w, const char *ws, size_t wslen, const char *tok,
                       size_t toklen);
/* render_header_end - CRLF; -1 when the buffer overflowed or a line passed 998 octets */
int render_header_end(struct header_w *w);

/*
 * render_header_encoded_words - text as RFC 2047 encoded-words of at most 75
 * characters, each preceded by ws (the first by first_ws), in charset
 * (NULL: UTF-8) with encoding 'B' or 'Q'. Words end on character
 * boundaries. -1 with err when a character cannot be represented in
 * charset or the charset is unknown.
 */
int render_header_encoded_words(struct header_w *w, const char *first_ws, const char *text,
                                size_t len, const char *charset, int enc, char *err, size_t errsz);

/*
 * render_header_unstructured - "Name: text" (Subject, xHeaders). Plain ASCII
 * text is folded at its white space; text with non-ASCII or control
 * characters, with "=?", or with a word too long for a line is written as
 * encoded-words. force: 'B' or 'Q' to always encode (the request's
 * contentTransferEncoding), 0 to decide. charset NULL: UTF-8.
 */
int render_header_unstructured(struct buf *b, const char *name, const char *text, size_t len,
                               const char *charset, int force, char *err, size_t errsz);

/* render_header_mailboxes - "Name: a <x@y>, ..." folded between mailboxes; n > 0 */
int render_header_mailboxes(struct buf *b, const char *name, const struct header_mailbox *mb,
                            size_t n, char *err, size_t errsz);

/*
 * render_header_param - "; attr=value" on a field being written: a quoted
 * string for short printable ASCII, else RFC 2231 (attr*=UTF-8''...,
 * with attr*0*=, attr*1*= continuations when long).
 */
void render_header_param(struct header_w *w, const char *attr, const char *value, size_t len);

/* render_header_date - RFC 5322 date-time (UTC, "+0000") into out (>= 32 bytes) */
char *render_header_date(char *out, size_t outsz, int64_t ms);

/* render_header_text_clean - 1 when s has no CR, LF or NUL (safe inside a field) */
int render_header_text_clean(const char *s, size_t len);

#endif
