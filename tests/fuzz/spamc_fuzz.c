/*
 * spamc_fuzz - libFuzzer target over the parser of spamd's answer
 * (lib/global/spamc/spamc.h): any byte string as the answer to REPORT.
 *
 * Invariants beyond "no crash, no leak, no undefined behaviour":
 * spamc_reply_parse returns 0 or -1; -1 leaves a reason in err; on 0 the
 * scores are finite and within SPAMC_SCORE_LIMIT, 0 <= nrules <=
 * SPAMC_RULES_MAX, every name is a non-empty run of [A-Za-z0-9_] and
 * every name and description is printable ASCII ending inside its field.
 *
 * FUZZ_SOURCES: lib/global/spamc/spamc_reply.c
 */
#include "global/spamc/spamc.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void printable(const char *s, size_t sz, int name)
{
    const char *end = memchr(s, 0, sz);

    if (end == NULL || (name && end == s))
        abort();
    for (; s < end; s++)
        if (*s < 0x20 || *s >= 0x7f ||
            (name && !(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                       (*s >= '0' && *s <= '9'))))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct spamc_result r;
    char err[200];
    int rc;

    err[0] = 0;
    rc = spamc_reply_parse((const char *)data, size, &r, err, sizeof(err));
    if (rc == -1) {
        if (err[0] == 0)
            abort();
        return 0;
    }
    if (rc != 0 || !isfinite(r.score) || !isfinite(r.required) ||
        fabs(r.score) > SPAMC_SCORE_LIMIT || fabs(r.required) > SPAMC_SCORE_LIMIT || r.nrules < 0 ||
        r.nrules > SPAMC_RULES_MAX || r.rules_dropped < 0 ||
        (r.rules_dropped > 0 && r.nrules != SPAMC_RULES_MAX))
        abort();
    for (int i = 0; i < r.nrules; i++) {
        if (!isfinite(r.rules[i].score) || fabs(r.rules[i].score) > SPAMC_SCORE_LIMIT)
            abort();
        printable(r.rules[i].name, sizeof(r.rules[i].name), 1);
        printable(r.rules[i].description, sizeof(r.rules[i].description), 0);
    }
    return 0;
}
