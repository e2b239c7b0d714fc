/*
 * rest_preview - the Trace & Recover part of GET /email/v2/messages/{id}
 * (contract §16.2, txmail addition): for an address whose built message
 * is kept in trace_store and not expired, the answer carries
 *
 *   "traceRecover": {"storedUntil": "<ISO ts>", "preview": "<text>"}
 *
 * (null otherwise). The preview is the message's readable text
 * (bounce_msg_text: the text/plain parts decoded to UTF-8, else the HTML
 * parts' text with tags dropped), white space around it and carriage
 * returns removed, cut after
 * REST_PREVIEW_CHARS characters - code points, never inside a UTF-8
 * sequence; a byte that is not UTF-8 becomes U+FFFD.
 */
#include "producers/rest/rest_preview.h"
#include "global/bounce/bounce.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <string.h>

/* seq_len - the length of the UTF-8 sequence at s[0..len), 0 when it is not one */
static size_t seq_len(const unsigned char *s, size_t len)
{
    size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;

    if (n == 0 || n > len || !codec_utf8_valid((const char *)s, n))
        return 0;
    return n;
}

size_t rest_preview_cut(const char *s, size_t len, size_t nchars, struct buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, count = 0;

    while (i < len && count < nchars) {
        size_t n = seq_len(u + i, len - i);
        if (n == 0) {
            buf_append(out, "\xef\xbf\xbd", 3);
            n = 1;
        } else if (u[i] == '\r' || u[i] == 0) {
            i++;
            continue;
        } else {
            buf_append(out, s + i, n);
        }
        i += n;
        count++;
    }
    return count;
}

json_t *rest_preview_text(const char *raw, size_t len)
{
    size_t tlen;
    char *text = bounce_msg_text(raw, len, &tlen);
    struct buf b = BUF_INIT(REST_PREVIEW_CHARS * 4 + 1);
    json_t *out;

    if (text) {
        const char *t = text;
        /* without the white space around it (parts end with blank lines) */
        while (tlen > 0 && strchr(" \t\r\n", t[tlen - 1]))
            tlen--;
        while (tlen > 0 && strchr(" \t\r\n", *t))
            t++, tlen--;
        rest_preview_cut(t, tlen, REST_PREVIEW_CHARS, &b);
    }
    out = json_stringn(b.data ? b.data : "", b.len);
    buf_free(&b);
    xfree(text);
    return out ? out : json_string("");
}
