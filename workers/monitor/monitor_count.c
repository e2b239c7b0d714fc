/*
 * monitor_count - what one delivery of events.monitor counts, and the
 * per-batch aggregation of the counts.
 *
 * The counters (contract §11.6 → §12.4), each bucketed by the UTC minute
 * of the event's ts:
 *
 *   accepted              intake record (key intake.job): one per recipient
 *                         id of the job, at the job's acceptance (received)
 *   delivered             DELIVERED (any subType)
 *   deferred              DEFERRED (SOFT_BOUNCE, THROTTLED)
 *   bounced.HARD_BOUNCE   BOUNCED/HARD_BOUNCE (DELIVER, and POST_PROCESS: an
 *                         asynchronous bounce of a delivered message,
 *                         txmail-bounce)
 *   bounced.SOFT_BOUNCE   BOUNCED/SOFT_BOUNCE (retries exhausted; or
 *                         asynchronous, as above)
 *   dropped.<subType>     DROPPED, by subType (PRE_PROCESS, PROCESS and
 *                         DELIVER drops alike)
 *   opened, clicked, unsubscribed   OPENED, CLICKED, UNSUBSCRIBED
 *   complaints            FEEDBACK_LOOP/COMPLAINT
 *
 * Every other event of the catalogue (STARTED, PROCESSED,
 * TRACE_RECOVER_STORE, SPAM_SCORE_CHECK, TRACE_RECOVER, REPLY) counts nothing,
 * and so do internal events of other programs outside the catalogue. The JSON is
 * hostile: checked with eventfill_check like every consumer of
 * txmail.events.
 */
#include "monitor.h"
#include "global/event.h"
#include "global/eventfill.h"
#include "global/ids.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MONITOR_MAX_BODY (16 << 20)
#define MS_MIN 946684800000LL  /* 2000-01-01 */
#define MS_MAX 7258118400000LL /* 2200-01-01 */

static void malformed(struct monitor_hit *h, const char *why)
{
    h->kind = MONITOR_MALFORMED;
    snprintf(h->why, sizeof(h->why), "%s", why);
}

static int64_t minute_of(int64_t ms)
{
    return ms - ms % 60000;
}

/* classify_intake - the intake record: accepted += recipients */
static void classify_intake(json_t *doc, struct monitor_hit *h)
{
    const char *job = json_string_value(json_object_get(doc, "job"));
    json_t *recv = json_object_get(doc, "received");
    json_t *rcpts = json_object_get(doc, "recipients");
    struct uuid u;

    if (job == NULL || strlen(job) != 36 || ids_uuid_parse(&u, job) < 0)
        return malformed(h, "intake: missing or malformed job");
    if (json_integer_value(json_object_get(doc, "account")) <= 0)
        return malformed(h, "intake: missing account");
    if (!json_is_integer(recv) || json_integer_value(recv) < MS_MIN ||
        json_integer_value(recv) >= MS_MAX)
        return malformed(h, "intake: missing or malformed received");
    if (!json_is_array(rcpts))
        return malformed(h, "intake: missing recipients");
    if (json_array_size(rcpts) == 0) {
        h->kind = MONITOR_IGNORE;
        return;
    }
    h->kind = MONITOR_COUNT;
    h->account = json_integer_value(json_object_get(doc, "account"));
    snprintf(h->job, sizeof(h->job), "%s", job);
    h->minute_ms = minute_of(json_integer_value(recv));
    snprintf(h->counter, sizeof(h->counter), "accepted");
    h->n = (long long)json_array_size(rcpts);
    snprintf(h->key, sizeof(h->key), "i:%s", job);
}

/* counter_of - the counter of type/subType into out; 0 when it counts nothing */
static int counter_of(const char *type, const char *sub, char *out, size_t outsz)
{
    static const struct {
        const char *type, *sub, *counter; /* sub NULL: any */
    } map[] = {
        {"DELIVERED", NULL, "delivered"},
        {"DEFERRED", NULL, "deferred"},
        {"BOUNCED", "HARD_BOUNCE", "bounced.HARD_BOUNCE"},
        {"BOUNCED", "SOFT_BOUNCE", "bounced.SOFT_BOUNCE"},
        {"OPENED", NULL, "opened"},
        {"CLICKED", NULL, "clicked"},
        {"UNSUBSCRIBED", NULL, "unsubscribed"},
        {"FEEDBACK_LOOP", "COMPLAINT", "complaints"},
    };

    if (strcmp(type, "DROPPED") == 0) {
        snprintf(out, outsz, "dropped.%s", sub); /* sub: at most 32 of [A-Z0-9_] */
        return 1;
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(type, map[i].type) == 0 &&
            (map[i].sub == NULL || strcmp(sub, map[i].sub) == 0)) {
            snprintf(out, outsz, "%s", map[i].counter);
            return 1;
        }
    return 0;
}

/* classify_event - an event of the catalogue (§11.6) */
static void classify_event(json_t *doc, struct monitor_hit *h)
{
    char err[128];
    json_t *acct = json_object_get(doc, "account");
    int64_t ts;

    if (eventfill_check(doc, err, sizeof(err)) < 0)
        return malformed(h, err);
    ts = json_integer_value(json_object_get(doc, "ts_ms"));
    if (ts < MS_MIN || ts >= MS_MAX)
        return malformed(h, "ts out of range");
    if (acct != NULL && !json_is_null(acct) &&
        (!json_is_integer(acct) || json_integer_value(acct) < 0))
        return malformed(h, "malformed account");
    if (!counter_of(json_string_value(json_object_get(doc, "type")),
                    json_string_value(json_object_get(doc, "subType")), h->counter,
                    sizeof(h->counter))) {
        h->kind = MONITOR_IGNORE;
        return;
    }
    h->kind = MONITOR_COUNT;
    h->account = json_integer_value(acct);
    snprintf(h->job, sizeof(h->job), "%s", json_string_value(json_object_get(doc, "job")));
    h->minute_ms = minute_of(ts);
    h->n = 1;
    snprintf(h->key, sizeof(h->key), "e:%s", json_string_value(json_object_get(doc, "tag")));
}

void monitor_count_classify(const void *body, size_t len, struct monitor_hit *h)
{
    json_t *doc = NULL;
    json_error_t jerr;
    const char *type;

    memset(h, 0, sizeof(*h));
    if (len > MONITOR_MAX_BODY)
        return malformed(h, "oversized message");
    doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(doc)) {
        malformed(h, "not a JSON object");
        goto out;
    }
    type = json_string_value(json_object_get(doc, "type"));
    if (type && strcmp(type, "INTAKE") == 0)
        classify_intake(doc, h);
    else if (event_is_notifiable(json_string_value(json_object_get(doc, "phase")), type))
        classify_event(doc, h);
    else
        h->kind = MONITOR_IGNORE; /* other programs' internal events are not ours */
out:
    json_decref(doc);
}

static int agg_cmp(const void *pa, const void *pb)
{
    const struct monitor_agg *a = pa, *b = pb;

    if (a->account != b->account)
        return a->account < b->account ? -1 : 1;
    if (a->minute_ms != b->minute_ms)
        return a->minute_ms < b->minute_ms ? -1 : 1;
    return strcmp(a->counter, b->counter);
}

size_t monitor_count_merge(struct monitor_agg *a, size_t n)
{
    size_t out = 0;

    if (n == 0)
        return 0;
    qsort(a, n, sizeof(*a), agg_cmp);
    for (size_t i = 1; i < n; i++) {
        if (agg_cmp(&a[out], &a[i]) == 0)
            a[out].n += a[i].n;
        else
            a[++out] = a[i];
    }
    return out + 1;
}
