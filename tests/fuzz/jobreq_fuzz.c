/*
 * jobreq_fuzz - libFuzzer target over the JobRequest syntax check, parser
 * and validator of txmail-rest (producers/rest/rest_jobreq.h), called
 * directly, without network: the account, its sender domains and its
 * suppression list are stubs. The input's length picks one of four
 * account/installation variants (features on or off, stages present or
 * not), so every branch of the configuration checks is reachable.
 *
 * Invariants checked beyond "no crash, no leak, no undefined behaviour":
 * an accepted job has its data, answer content and a slip; a rejection
 * has a status, a subType and a description; the encoded job with its
 * large values moved to raw segments (rest_jobreq_build_rawify) stays encodable;
 * the input taken as the text of a string value: when the syntax check
 * accepts it, jansson does too and rest_jobreq_syntax_unescape() decodes it to the
 * same bytes (long strings bypass jansson that way).
 *
 * FUZZ_SOURCES: producers/rest/rest_jobreq.c producers/rest/rest_jobreq_walk.c
 * FUZZ_SOURCES: producers/rest/rest_jobreq_syntax.c producers/rest/rest_jobreq_text.c
 * FUZZ_SOURCES: producers/rest/rest_jobreq_attach.c producers/rest/rest_jobreq_rcpt.c
 * FUZZ_SOURCES: producers/rest/rest_jobreq_mail.c producers/rest/rest_jobreq_job.c
 * FUZZ_SOURCES: producers/rest/rest_jobreq_notify.c producers/rest/rest_jobreq_build.c
 * FUZZ_SOURCES: lib/global/account.c lib/global/addr.c lib/global/ids.c lib/global/xheader.c
 * FUZZ_SOURCES: lib/global/template/template_parse.c lib/global/template/template_value.c lib/global/template/template_render.c
 * FUZZ_SOURCES: lib/global/template/template_lex.c lib/global/template/template_expr.c
 * FUZZ_SOURCES: lib/util/buf.c lib/util/codec.c lib/util/mymalloc.c lib/util/msg.c lib/util/timeutil.c
 * FUZZ_SOURCES: lib/global/intake/slip.c lib/global/intake/suppress.c lib/global/db.c lib/global/txcode.c
 * FUZZ_SOURCES: lib/util/ttlcache.c lib/util/hash.c lib/global/runtime/mq.c
 * FUZZ_LIBS: -ljansson -lidn2
 * FUZZ_PKGS: libmariadb librabbitmq
 */
#include "producers/rest/rest_jobreq.h"
#include "global/account.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const settings_text[4] = {
    "{\"features\":{\"tracking\":true,\"templates\":true,\"antivirus\":true,\"secureDocument\":"
    "true,"
    "\"traceRecover\":true,\"spamCheck\":true,\"messageSigning\":true},"
    "\"forbiddenRecipients\":[\"admin\"],\"forbiddenSenders\":[\"noreply\"]}",
    "{\"features\":{\"tracking\":false,\"templates\":false},\"limits\":{\"addresses\":5}}",
    "{\"features\":{\"secureDocument\":true,\"antivirus\":true},\"defaults\":{\"antivirus\":true,"
    "\"secureDocument\":true,\"spamThreshold\":\"x\"},\"forbiddenExtensions\":[\"pdf\"]}",
    "{}",
};
static const char *const stages[4] = {
    "scan,securezip,render,spamcheck,smime,deliver",
    "render,deliver",
    "scan,render,deliver",
    "render,deliver",
};

static enum tx_code sender_domain(void *arg, const char *domain, struct jobreq_sender *out)
{
    (void)arg;
    if (strcmp(domain, "retry.test") == 0)
        return TX_RETRY_DB;
    if (strcmp(domain, "example.com") != 0 && strcmp(domain, "relay.test") != 0)
        return TX_REJECT_POLICY;
    memset(out, 0, sizeof(*out));
    out->id = 1;
    snprintf(out->domain, sizeof(out->domain), "%s", domain);
    out->relay = domain[0] == 'r';
    return TX_OK;
}

static enum tx_code suppression(void *arg, struct suppress_query *q, size_t n)
{
    (void)arg;
    for (size_t i = 0; i < n; i++) {
        if (q[i].addr[0] == 'b' || q[i].addr[0] == 'm') {
            q[i].hit = 1;
            snprintf(q[i].entry.type, sizeof(q[i].entry.type), "%s",
                     q[i].addr[0] == 'b' ? "PREVIOUSLY_BOUNCED" : "MANUAL");
            q[i].entry.created_ms = 1746871200000LL; /* 2025-05-10T10:00:00.000Z */
            snprintf(q[i].entry.reason, sizeof(q[i].entry.reason), "reason \"%s\"", q[i].addr);
        }
        if (strcmp(q[i].addr, "retry@example.org") == 0)
            return TX_RETRY_DB;
    }
    return TX_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* as_string - data as a string value: syntax check, jansson and rest_jobreq_syntax_unescape agree */
static void as_string(const uint8_t *data, size_t size)
{
    char *doc = malloc(size + 8), *dec = malloc(size + 1), msg[256];
    struct jobreq_span sp[2];
    size_t n = 0;

    memcpy(doc, "{\"a\":\"", 6);
    memcpy(doc + 6, data, size);
    memcpy(doc + 6 + size, "\"}", 2);
    /* only when the whole input is the value (no '"' closing it early) */
    if (rest_jobreq_syntax_spans(doc, size + 8, msg, sizeof(msg), 0, sp, 2, &n) == 0 && n == 1 &&
        sp[0].start == 6 && sp[0].end == 6 + size) {
        json_t *j = json_loadb(doc, size + 8, 0, NULL), *s = json_object_get(j, "a");
        n = rest_jobreq_syntax_unescape((const char *)data, size, dec);
        if (!json_is_string(s) || json_string_length(s) != n ||
            memcmp(json_string_value(s), dec, n) != 0)
            abort();
        json_decref(j);
    }
    free(doc);
    free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *settings[4];
    struct jobreq_result res;
    int v = (int)(size % 4);

    if (settings[v] == NULL)
        settings[v] = account_settings(settings_text[v]);
    struct jobreq_env env = {settings[v],
                             7,
                             "fuzz",
                             "4711",
                             v ? NULL : "Tenant",
                             stages[v],
                             "0192f3a4-5b6c-7d8e-9f00-112233445566",
                             1747212950817LL,
                             sender_domain,
                             suppression,
                             NULL};
    as_string(data, size);
    int rc = rest_jobreq_run((const char *)data, size, &env, &res);
    if (rc == 0) {
        if (res.http != 200 || res.data == NULL || res.content == NULL || res.slip[0] == 0)
            abort();
        char *text = json_dumps(res.data, JSON_COMPACT);
        char *answer = json_dumps(res.content, JSON_COMPACT);
        struct buf raw = BUF_INIT((size_t)64 << 20);
        if (text == NULL || answer == NULL)
            abort(); /* the job must always be encodable for the broker */
        if (rest_jobreq_build_rawify(&res, res.data, &raw) < 0)
            abort(); /* every large value has its raw segment */
        char *after = json_dumps(res.data, JSON_COMPACT);
        if (after == NULL)
            abort();
        free(after);
        buf_free(&raw);
        free(text);
        free(answer);
    } else if (res.http < 400 || res.subtype == NULL || res.description[0] == 0 || res.data) {
        abort();
    }
    rest_jobreq_result_free(&res);
    return 0;
}
