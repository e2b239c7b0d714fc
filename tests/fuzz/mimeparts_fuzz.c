/*
 * mimeparts_fuzz - libFuzzer target over the part walk of content checks
 * (lib/global/scan/mimeparts.h; the scan stage walks every SMTP
 * submission with it): any byte string as a submitted message.
 *
 * Invariants beyond "no crash, no leak, no undefined behaviour": the
 * return value is -1 or the number of callbacks; indexes run 1, 2, ...;
 * depth stays within MIMEPARTS_DEPTH + 1; the type is "x/y" in lower
 * case; a part that is not text/plain or text/html is an attachment; a
 * name is a string; every content byte can be read. A second walk that
 * stops at the first part makes exactly one callback when there is one.
 *
 * Seeds: tests/fuzz/corpus/mimeparts/ and the bounce corpus (FUZZ_SEEDS).
 *
 * FUZZ_SOURCES: lib/global/scan/mimeparts.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_parse.c lib/global/bounce/bounce_msg.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_scan.c lib/global/bounce/bounce_dsn.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_arf.c lib/global/bounce/bounce_json.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_text.c lib/global/bounce/bounce_formats.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_reason.c lib/global/bounce/bounce_reason_codes.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_reason_phrases.c lib/global/bounce/bounce_reason_phrases_policy.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_reason_rhost.c
 * FUZZ_SOURCES: lib/util/buf.c lib/util/mymalloc.c lib/util/msg.c lib/util/timeutil.c
 * FUZZ_LIBS: -ljansson
 * FUZZ_PKGS: gmime-3.0
 * FUZZ_SEEDS: ../shared/testdata/bounces
 */
#include "global/scan/mimeparts.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct state {
    int calls;
    unsigned sum;
};

static int each(const struct mimeparts_part *p, void *ctx)
{
    struct state *s = ctx;
    const char *slash = strchr(p->type, '/');

    if (p->index != ++s->calls || p->depth < 0 || p->depth > MIMEPARTS_DEPTH + 1)
        abort();
    if (slash == NULL || memchr(p->type, 0, sizeof(p->type)) == NULL)
        abort();
    for (const char *c = p->type; *c; c++)
        if (isupper((unsigned char)*c))
            abort();
    if (!p->attachment && strcmp(p->type, "text/plain") != 0 && strcmp(p->type, "text/html") != 0)
        abort();
    if (p->name)
        s->sum += (unsigned)strlen(p->name);
    if (p->data == NULL)
        abort();
    for (size_t i = 0; i < p->len; i++)
        s->sum += p->data[i];
    return 0;
}

static int first(const struct mimeparts_part *p, void *ctx)
{
    (void)p;
    (*(int *)ctx)++;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state s = {0, 0};
    struct mimeparts_info info;
    int n = mimeparts_walk((const char *)data, size, each, &s, &info), one = 0;

    if ((n < 0 && s.calls != 0) || (n >= 0 && n != s.calls) || info.deeper < 0)
        abort();
    int m = mimeparts_walk((const char *)data, size, first, &one, NULL);
    if ((n > 0 && (m != 1 || one != 1)) || (n == 0 && one != 0))
        abort();
    return 0;
}
