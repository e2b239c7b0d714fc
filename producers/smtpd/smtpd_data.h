/*
 * smtpd_data - the message text of DATA and BDAT, streamed into a
 * bounded buffer (no libevent here: bytes in, message out).
 *
 * The stored message has CRLF line ends. With DATA, dot-stuffing is
 * undone and the end is ONLY a line "." that is terminated by CRLF and
 * follows a line terminated by CRLF ("\r\n.\r\n", RFC 5321 4.1.1.4);
 * "\n.\n", "\r.\r" and their mixtures never end the data.
 *
 * Bare line ends (RFC 5321 2.3.8): a LF not preceded by CR sets bare_lf,
 * a CR not followed by LF sets bare_cr; the caller refuses such a
 * message after the end of the data (as Postfix does with
 * smtpd_forbid_bare_newline), so SMTP smuggling text never reaches a
 * receiver. Only to keep the buffer consistent, a bare LF is stored as
 * CRLF and a bare CR as it is.
 *
 * Limits: a line longer than max_line octets (without its end) sets
 * too_long_line; a message that would grow past limit sets too_big and
 * its buffer is released, the rest is only counted: the caller answers
 * after the end of the data, never buffering more than limit.
 */
#ifndef TX_SMTPD_DATA_H
#define TX_SMTPD_DATA_H

#include "util/buf.h"

#include <stddef.h>

#define SMTPD_DATA_LINE_MAX 998

enum smtpd_data_mode { SMTPD_DATA_DOT, SMTPD_DATA_CHUNK };

struct smtpd_data {
    enum smtpd_data_mode mode;
    int state;       /* where in a line the stream is */
    int prev_crlf;   /* the previous line ended with CRLF */
    size_t line_len; /* octets of the current line so far */
    size_t max_line;
    size_t limit;
    size_t received; /* octets consumed from the wire */
    int too_long_line;
    int too_big;
    int eightbit;    /* a byte >= 0x80 was seen */
    int bare_lf;     /* a LF without CR before it was seen */
    int bare_cr;     /* a CR without LF after it was seen */
    int done;        /* DATA: the final dot was seen */
    struct buf *out; /* borrowed */
};

/* smtpd_data_init - start a message into out (emptied; its max is set to limit) */
void smtpd_data_init(struct smtpd_data *d, struct buf *out, size_t limit,
                     enum smtpd_data_mode mode);
/*
 * smtpd_data_feed - consume in[0..len). Returns the octets consumed: all
 * of them, or fewer when the final dot of DATA ended the message (the
 * rest belongs to the next command).
 */
size_t smtpd_data_feed(struct smtpd_data *d, const char *in, size_t len);
/*
 * smtpd_data_refusal - the reply refusing a complete message for its
 * text (bare CR or LF, a line over max_line), or NULL when the text is
 * acceptable. The size limit is the caller's (it answers 552 first).
 */
const char *smtpd_data_refusal(const struct smtpd_data *d);
/* smtpd_data_finish - BDAT LAST: complete a last line without its end (a CR there is bare) */
void smtpd_data_finish(struct smtpd_data *d);

#endif
