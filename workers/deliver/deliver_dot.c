/*
 * deliver_dot - the DATA-phase writer transform (RFC 5321 §4.5.2, §2.3.8):
 * every line end leaves as CRLF - a bare CR and a bare LF each become
 * CRLF, as a sender must never transmit them alone - and only then a line
 * starting with '.' gets one more '.'; the end of data is "CRLF.CRLF".
 * Normalising before stuffing is what makes SMTP smuggling impossible on
 * output: "<CR>.<CR>", "<LF>.<LF>", "<CR><LF>.<CR>" and their mixes leave
 * as an ordinary line "..", so no receiver, however lenient about line
 * ends, can see an end of data before ours (Postfix
 * smtpd_forbid_bare_newline is the receiving side of the same rule).
 *
 * Works on spans between line ends (memchr + memcpy), so a 200 KB message
 * costs a few copies of its lines into the socket buffer, never a
 * byte-by-byte loop or a second copy of the whole message. A CR is
 * written as CRLF at once; an LF right after it (possibly in the next
 * call) completes that CRLF and is dropped, so no lookahead is needed
 * across input pieces.
 */
#include "workers/deliver/deliver.h"

#include <string.h>

void deliver_dot_init(struct dotstuff *d)
{
    d->bol = 1;
    d->cr = 0;
}

#define UNKNOWN ((size_t)-1)

/* next_eol - the first CR or LF of in[i..len), or len; cr_at and lf_at cache the searches */
static size_t next_eol(const char *in, size_t i, size_t len, size_t *cr_at, size_t *lf_at)
{
    if (*cr_at == UNKNOWN || *cr_at < i) {
        const char *p = memchr(in + i, '\r', len - i);
        *cr_at = p ? (size_t)(p - in) : len;
    }
    if (*lf_at == UNKNOWN || *lf_at < i) {
        const char *p = memchr(in + i, '\n', len - i);
        *lf_at = p ? (size_t)(p - in) : len;
    }
    return *cr_at < *lf_at ? *cr_at : *lf_at;
}

size_t deliver_dot_run(struct dotstuff *d, const char *in, size_t inlen, char *out, size_t outcap,
                       size_t *used)
{
    size_t i = 0, o = 0;
    size_t cr_at = UNKNOWN, lf_at = UNKNOWN; /* the next CR / LF, searched lazily */

    while (i < inlen) {
        if (d->cr && in[i] == '\n') {
            /* the LF of a CRLF whose CR was written as CRLF */
            i++;
            d->cr = 0;
            continue;
        }
        d->cr = 0;
        if (outcap - o < 2)
            break;
        if (in[i] == '\r' || in[i] == '\n') {
            d->cr = in[i] == '\r';
            out[o++] = '\r';
            out[o++] = '\n';
            i++;
            d->bol = 1;
            continue;
        }
        if (d->bol && in[i] == '.') {
            out[o++] = '.';
            out[o++] = '.';
            i++;
            d->bol = 0;
            continue;
        }
        size_t end = next_eol(in, i, inlen, &cr_at, &lf_at);
        size_t n = end - i < outcap - o ? end - i : outcap - o;
        memcpy(out + o, in + i, n);
        o += n;
        i += n;
        d->bol = 0;
    }
    *used = i;
    return o;
}

size_t deliver_dot_end(struct dotstuff *d, char *out)
{
    size_t o = 0;

    if (!d->bol) {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    memcpy(out + o, ".\r\n", 3);
    o += 3;
    d->bol = 1;
    d->cr = 0;
    return o;
}
