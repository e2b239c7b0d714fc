/*
 * bounce_fuzz - libFuzzer target over the bounce parser and classifier
 * (lib/global/bounce/bounce.h): any byte string as an inbound message.
 *
 * Invariants beyond "no crash, no leak, no undefined behaviour":
 * bounce_parse returns 0 or -1; on 0 the kind is one of enum bounce_kind,
 * 0 <= nrecs <= 1000 with recs set when there are records, every string
 * of the report and of every record ends inside its buffer, hard is -1, 0
 * or 1, a reply code is 0 or 200..599, a reply or an unknown message has
 * no records; bounce_report_free leaves an empty report.
 *
 * Seeds: tests/fuzz/corpus/bounce/ and the bounce corpus (FUZZ_SEEDS,
 * read in place, not copied into the tree).
 *
 * FUZZ_SOURCES: lib/global/bounce/bounce_parse.c lib/global/bounce/bounce_msg.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_scan.c lib/global/bounce/bounce_dsn.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_arf.c lib/global/bounce/bounce_json.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_text.c lib/global/bounce/bounce_formats.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_reason.c lib/global/bounce/bounce_reason_codes.c
 * FUZZ_SOURCES: lib/global/bounce/bounce_reason_phrases.c lib/global/bounce/bounce_reason_rhost.c
 * FUZZ_SOURCES: lib/util/buf.c lib/util/mymalloc.c lib/util/msg.c lib/util/timeutil.c
 * FUZZ_LIBS: -ljansson
 * FUZZ_PKGS: gmime-3.0
 * FUZZ_SEEDS: ../shared/testdata/bounces
 */
#include "global/bounce/bounce.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ENDS(f) (memchr((f), 0, sizeof(f)) != NULL)

static void check(const struct bounce_report *r)
{
    if (r->kind < BOUNCE_UNKNOWN || r->kind > BOUNCE_REPLY || r->nrecs < 0 || r->nrecs > 1000 ||
        (r->nrecs > 0 && r->recs == NULL))
        abort();
    if ((r->kind == BOUNCE_REPLY || r->kind == BOUNCE_UNKNOWN) && r->nrecs != 0)
        abort();
    if (!ENDS(r->mta) || !ENDS(r->orig_message_id) || !ENDS(r->orig_from) || !ENDS(r->orig_to) ||
        !ENDS(r->orig_return_path) || !ENDS(r->orig_subject) || !ENDS(r->arrival_date) ||
        !ENDS(r->source_ip) || !ENDS(r->orig_mail_from) || !ENDS(r->user_agent) || !ENDS(r->from) ||
        !ENDS(r->subject) || !ENDS(r->message_id))
        abort();
    for (int i = 0; i < r->nrecs; i++) {
        const struct bounce_rec *x = &r->recs[i];
        if (!ENDS(x->recipient) || !ENDS(x->action) || !ENDS(x->status) || !ENDS(x->reason) ||
            !ENDS(x->command) || !ENDS(x->rhost) || !ENDS(x->feedbacktype) || !ENDS(x->diagnostic))
            abort();
        if (x->hard < -1 || x->hard > 1 ||
            (x->replycode != 0 && (x->replycode < 200 || x->replycode > 599)))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bounce_report r;
    int rc = bounce_parse((const char *)data, size, &r);

    if (rc != 0 && rc != -1)
        abort();
    if (rc == 0)
        check(&r);
    bounce_report_free(&r);
    if (r.nrecs != 0 || r.recs != NULL)
        abort();
    return 0;
}
