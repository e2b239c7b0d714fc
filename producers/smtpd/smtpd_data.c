/* smtpd_data - DATA/BDAT message text into a bounded buffer; see smtpd_data.h. */
#include "smtpd_data.h"

#include <string.h>

enum {
    S_BOL,   /* at the start of a line */
    S_DOT,   /* DATA: "." at the start of a line */
    S_DOTCR, /* DATA: ".\r" at the start of a line */
    S_MID,   /* inside a line */
    S_CR,    /* inside a line, after a CR not yet known to end it */
};

void smtpd_data_init(struct smtpd_data *d, struct buf *out, size_t limit, enum smtpd_data_mode mode)
{
    memset(d, 0, sizeof(*d));
    d->mode = mode;
    d->state = S_BOL;
    d->prev_crlf = 1; /* the DATA command line ended with CRLF */
    d->max_line = SMTPD_DATA_LINE_MAX;
    d->limit = limit;
    d->out = out;
    buf_free(out);
    buf_init(out, limit);
}

/* has8 - any byte >= 0x80 in p[0..n) */
static int has8(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    unsigned char acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= u[i];
    return (acc & 0x80) != 0;
}

/* emit - append to the message unless it is already too big */
static void emit(struct smtpd_data *d, const char *p, size_t n)
{
    if (d->too_big || n == 0)
        return;
    if (d->out->len + n > d->limit) {
        d->too_big = 1;
        buf_free(d->out); /* stop buffering: only count from now on */
        return;
    }
    if (!d->eightbit && has8(p, n))
        d->eightbit = 1;
    if (buf_append(d->out, p, n) < 0)
        d->too_big = 1;
}

static void grow_line(struct smtpd_data *d, size_t n)
{
    d->line_len += n;
    if (d->line_len > d->max_line)
        d->too_long_line = 1;
}

static void end_line(struct smtpd_data *d, int crlf)
{
    emit(d, "\r\n", 2);
    d->prev_crlf = crlf;
    d->line_len = 0;
    d->state = S_BOL;
}

size_t smtpd_data_feed(struct smtpd_data *d, const char *in, size_t len)
{
    size_t i = 0;

    while (i < len && !d->done) {
        switch (d->state) {
        case S_BOL:
            if (d->mode == SMTPD_DATA_DOT && in[i] == '.') {
                d->state = S_DOT;
                i++;
            } else {
                d->state = S_MID;
            }
            break;
        case S_DOT:
            if (in[i] == '\r') {
                d->state = S_DOTCR;
                i++;
            } else if (in[i] == '\n') {
                /* ".\n": not the end (bare LF); the line "." is text */
                d->bare_lf = 1;
                emit(d, ".", 1);
                grow_line(d, 1);
                end_line(d, 0);
                i++;
            } else {
                d->state = S_MID; /* the dot was stuffing: dropped */
            }
            break;
        case S_DOTCR:
            if (in[i] == '\n') {
                i++;
                if (d->prev_crlf) {
                    d->done = 1;
                    break;
                }
                emit(d, ".", 1);
                grow_line(d, 1);
                end_line(d, 1);
            } else {
                /* ".\r" then text: the dot was stuffing, the CR is pending */
                d->state = S_CR;
            }
            break;
        case S_MID: {
            const char *p = in + i;
            const char *nl = memchr(p, '\n', len - i);
            size_t span = nl ? (size_t)(nl - p) : len - i;
            size_t text = span;
            int cr = text > 0 && p[text - 1] == '\r';

            if (cr)
                text--;
            if (memchr(p, '\r', text)) /* a CR inside the line is bare */
                d->bare_cr = 1;
            emit(d, p, text);
            grow_line(d, text);
            i += span;
            if (nl) {
                i++;
                if (!cr)
                    d->bare_lf = 1;
                end_line(d, cr);
            } else if (cr) {
                d->state = S_CR;
            }
            break;
        }
        case S_CR:
            if (in[i] == '\n') {
                i++;
                end_line(d, 1);
            } else {
                d->bare_cr = 1;
                emit(d, "\r", 1); /* kept as text; the message is refused */
                grow_line(d, 1);
                d->state = S_MID;
            }
            break;
        }
    }
    d->received += i;
    return i;
}

void smtpd_data_finish(struct smtpd_data *d)
{
    if (d->state == S_CR) {
        d->bare_cr = 1;
        emit(d, "\r", 1);
        grow_line(d, 1);
        d->state = S_MID;
    }
    if (d->state == S_MID && d->line_len > 0)
        end_line(d, 1);
}

const char *smtpd_data_refusal(const struct smtpd_data *d)
{
    if (d->bare_lf)
        return "550 5.5.2 Error: bare <LF> received";
    if (d->bare_cr)
        return "550 5.5.2 Error: bare <CR> received";
    if (d->too_long_line)
        return "554 5.6.0 Message line too long";
    return NULL;
}
