/*
 * tracklinks_fuzz - libFuzzer target over the HTML link rewriter and open
 * pixel (lib/global/tracking/tracklinks.h), which reads customer HTML.
 *
 * Input: the HTML. Invariants beyond "no crash, no leak, no undefined
 * behaviour": with both switches off the copy is the input byte for byte;
 * with the pixel only it is the input with the pixel element inserted at
 * one place; every planned URL is an absolute http(s) URL; with links,
 * every rewritten href holds a token that decodes to this copy's
 * indexes.
 *
 * FUZZ_SOURCES: lib/global/tracking/tracklinks.c lib/global/tracking/tracktoken.c lib/global/crypto.c lib/global/ids.c
 * FUZZ_SOURCES: lib/util/buf.c lib/util/codec.c lib/util/mymalloc.c lib/util/msg.c lib/util/timeutil.c
 * FUZZ_LIBS: -lcrypto
 */
#include "global/tracking/tracklinks.h"
#include "util/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY "1:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define BASE "https://t.example.com"

static struct track_keys *keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *html = (const char *)data;
    struct tracklinks_copy c;
    struct buf out = BUF_INIT(8 << 20), s = BUF_INIT(TRACK_TOKEN_MAX);
    char err[128];

    if (keys == NULL && (keys = tracktoken_keys_parse(KEY, err, sizeof(err))) == NULL)
        abort();
    memset(&c, 0, sizeof(c));
    c.base = BASE;
    c.keys = keys;
    c.block = 3;
    c.addr = 4;
    c.expiry = 2000000000;
    struct tracklinks_plan *p = tracklinks_scan(html, size, NULL, 0, BASE);

    /* off: unchanged */
    if (tracklinks_emit(p, &c, &out) < 0 || out.len != size ||
        memcmp(out.data ? out.data : "", html, size))
        abort();
    for (int i = 0; i < tracklinks_links(p); i++) {
        const char *u = tracklinks_url(p, i);
        if (strncasecmp(u, "http://", 7) != 0 && strncasecmp(u, "https://", 8) != 0)
            abort();
    }
    /* the pixel alone: the input with the pixel inserted at one place */
    struct buf px = BUF_INIT(4096);
    if (tracklinks_pixel(&c, &px) < 0)
        abort();
    buf_reset(&out);
    c.open = 1;
    if (tracklinks_emit(p, &c, &out) < 0 || out.len != size + px.len)
        abort();
    size_t i = 0;
    while (i < size && out.data[i] == html[i])
        i++;
    /* the first difference is the pixel (or the input went on identically) */
    while (i > 0 && memcmp(out.data + i, px.data, px.len) != 0)
        i--;
    if (memcmp(out.data + i, px.data, px.len) != 0 || memcmp(out.data, html, i) != 0 ||
        memcmp(out.data + i + px.len, html + i, size - i) != 0)
        abort();
    buf_free(&px);
    /* links: every rewritten href holds a token of this copy */
    buf_reset(&out);
    c.open = 0;
    c.links = 1;
    if (tracklinks_emit(p, &c, &out) < 0)
        abort();
    const char *q = out.data ? out.data : "";
    size_t olen = out.len, rewritten = 0;
    while ((q = memmem(q, olen - (size_t)(q - out.data), "\"" BASE "/t/c/", strlen(BASE) + 6)) !=
           NULL) {
        const char *tok = q + strlen(BASE) + 6,
                   *e = memchr(tok, '"', olen - (size_t)(tok - out.data));
        struct track_token t;
        q = tok;
        if (e == NULL)
            continue;
        if (tracktoken_decode(keys, "t.example.com", tok, (size_t)(e - tok), &t, &s) == 0) {
            if (t.kind != TRACK_CLICK || t.block != 3 || t.addr != 4)
                abort();
            rewritten++;
        }
    }
    if (rewritten < (size_t)tracklinks_links(p))
        abort();
    tracklinks_plan_free(p);
    buf_free(&out);
    buf_free(&s);
    return 0;
}
