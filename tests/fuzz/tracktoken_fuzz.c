/*
 * tracktoken_fuzz - libFuzzer target over the tracking token decoder
 * (lib/global/tracking/tracktoken.h), the code that stands between the internet
 * and a redirect.
 *
 * Input: the token text. Invariants beyond "no crash, no leak, no
 * undefined behaviour": a token that decodes is canonical - encoding what
 * was decoded gives the input byte for byte (with one key, the newest is
 * the one that signed it); its kind is o, c or u; only a click carries a
 * URL. Inputs that are a genuine token with one character changed must
 * never decode (the seed corpus holds genuine tokens of this key, issued
 * for tracking host HOST: the tag covers the host, contract §15.5).
 *
 * FUZZ_SOURCES: lib/global/tracking/tracktoken.c lib/global/crypto.c lib/global/ids.c
 * FUZZ_SOURCES: lib/util/buf.c lib/util/codec.c lib/util/mymalloc.c lib/util/msg.c lib/util/timeutil.c
 * FUZZ_LIBS: -lcrypto
 */
#include "global/tracking/tracktoken.h"
#include "util/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEY "7:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define HOST "t.example.com" /* the seed corpus holds tokens issued for this host */

static struct track_keys *keys;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf s = BUF_INIT(TRACK_TOKEN_MAX), again = BUF_INIT(TRACK_TOKEN_MAX + 16);
    struct track_token t;
    char err[128];

    if (keys == NULL && (keys = tracktoken_keys_parse(KEY, err, sizeof(err))) == NULL)
        abort();
    if (tracktoken_decode(keys, HOST, (const char *)data, size, &t, &s) == 0) {
        if (t.kind != TRACK_OPEN && t.kind != TRACK_CLICK && t.kind != TRACK_UNSUB)
            abort();
        if ((t.kind == TRACK_CLICK) != (t.url != NULL && t.url_len > 0))
            abort();
        if (tracktoken_encode(keys, HOST, &t, &again) < 0 || again.len != size ||
            memcmp(again.data, data, size) != 0)
            abort();
    }
    buf_free(&s);
    buf_free(&again);
    return 0;
}
