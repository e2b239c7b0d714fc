/*
 * deliver_dot - the DATA-phase writer transform (RFC 5321 §4.5.2):
 * a line starting with '.' gets one more '.', a bare LF becomes CRLF,
 * and the end of data is "CRLF.CRLF". Works on spans between line ends
 * (memchr + memcpy), so a 200 KB message costs a few copies of its lines
 * into the socket buffer, never a byte-by-byte loop or a second copy of
 * the whole message.
 */
#include "workers/deliver/deliver.h"

#include <string.h>

void dotstuff_init(struct dotstuff *d)
{
    d->bol = 1;
    d->cr = 0;
}

size_t dotstuff_run(struct dotstuff *d, const char *in, size_t inlen, char *out,
                    size_t outcap, size_t *used)
{
    size_t i = 0, o = 0;

    while (i < inlen && outcap - o >= 2) {
        if (d->bol && in[i] == '.') {
            out[o++] = '.';
            out[o++] = '.';
            i++;
            d->bol = 0;
            d->cr = 0;
            continue;
        }
        const char *lf = memchr(in + i, '\n', inlen - i);
        size_t span = lf ? (size_t)(lf - (in + i)) : inlen - i;
        if (span > 0) {
            size_t n = span < outcap - o ? span : outcap - o;
            memcpy(out + o, in + i, n);
            o += n;
            i += n;
            d->bol = 0;
            d->cr = in[i - 1] == '\r';
            if (n < span)
                break;
        }
        if (lf == NULL)
            continue;
        /* at the LF */
        if (outcap - o < (d->cr ? 1u : 2u))
            break;
        if (!d->cr)
            out[o++] = '\r';
        out[o++] = '\n';
        i++;
        d->bol = 1;
        d->cr = 0;
    }
    *used = i;
    return o;
}

size_t dotstuff_end(struct dotstuff *d, char *out)
{
    size_t o = 0;

    if (!d->bol) {
        if (!d->cr)
            out[o++] = '\r';
        out[o++] = '\n';
    }
    memcpy(out + o, ".\r\n", 3);
    o += 3;
    d->bol = 1;
    d->cr = 0;
    return o;
}
