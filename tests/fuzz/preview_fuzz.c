/*
 * preview_fuzz - libFuzzer target over the Trace & Recover preview of
 * txmail-rest (producers/rest/rest_preview.h): any byte string as a kept
 * message, through bounce_msg_text (GMime, loose) and the UTF-8 cut.
 *
 * Invariants beyond "no crash, no leak, no undefined behaviour": the
 * preview is a JSON string of valid UTF-8 with at most 1,000 code points
 * and no carriage return; rest_preview_cut never writes more characters
 * than asked and its output is valid UTF-8 whatever the input.
 *
 * Seeds: tests/fuzz/corpus/preview/ and the bounce corpus (messages).
 *
 * FUZZ_SOURCES: producers/rest/rest_preview.c lib/global/bounce/bounce_msgtext.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_parse.c lib/global/bounce/bounce_msg.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_scan.c lib/global/bounce/bounce_dsn.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_arf.c lib/global/bounce/bounce_json.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_text.c lib/global/bounce/bounce_formats.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_reason.c lib/global/bounce/bounce_reason_codes.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_reason_phrases.c lib/global/bounce/bounce_reason_phrases_policy.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_reason_rhost.c
 * FUZZ_SOURCES: lib/util/buf.c lib/util/codec.c lib/util/mymalloc.c lib/util/msg.c lib/util/timeutil.c
 * FUZZ_LIBS: -ljansson
 * FUZZ_PKGS: gmime-3.0
 * FUZZ_SEEDS: ../shared/testdata/bounces
 */
#include "producers/rest/rest_preview.h"
#include "util/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = rest_preview_text((const char *)data, size);
    const char *s = json_string_value(j);
    struct buf b = BUF_INIT(64 * 4 + 1);

    if (s == NULL || !codec_utf8_valid(s, strlen(s)) ||
        codec_utf8_count(s, strlen(s)) > REST_PREVIEW_CHARS || strchr(s, '\r'))
        abort();
    json_decref(j);
    size_t n = rest_preview_cut((const char *)data, size, 64, &b);
    if (n > 64 || (b.len && !codec_utf8_valid(b.data, b.len)))
        abort();
    buf_free(&b);
    return 0;
}
