/*
 * notify_retry - a failed POST goes through the broker's delay tiers as a
 * "webhook" envelope (docs/ENVELOPES.md) and comes back to the retry
 * queue (notify_retry_queue on txmail.work); after notify_max_age from
 * its first attempt its notifications are dead-lettered into
 * webhook_delivery.
 *
 *   The envelope's format is lib/global/manage/webhook.h's (the dead-letter
 *   redelivery queues the same envelope).
 *
 * An event whose message row is still missing after notify_orphan_wait
 * (the recorder lags) takes the same tiers as a "webhook-event" envelope
 * and is looked at again when it comes back; after notify_max_age from
 * its arrival it goes to txmail.dead (notify.c).
 *
 *   envelope: type "webhook-event", job, slip [<retry queue>],
 *             attempt = waits so far, created = first arrival, due
 *   data:     {"firstSeen": ms, "waits": n}
 *   raw:      the event, as it was on txmail.events
 */
#include "notify.h"
#include "global/runtime/delaytier.h"
#include "global/envelope.h"
#include "util/jsonget.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct delaytier_schedule schedule;

int notify_retry_schedule_parse(const char *spec)
{
    return delaytier_parse(&schedule, spec);
}

int64_t notify_retry_delay(int attempts)
{
    return delaytier_delay(&schedule, attempts - 1);
}

int notify_retry_envelope(const struct nf_post *p, int64_t delay_ms, char **out, size_t *len,
                          const char **tier)
{
    struct webhook_retry w;

    memset(&w, 0, sizeof(w));
    w.account_id = p->account_id;
    snprintf(w.job_id, sizeof(w.job_id), "%s", p->job_id);
    w.ep = p->ep; /* borrowed */
    w.tags = p->tags;
    w.rids = p->rids;
    w.first_ms = p->first_ms;
    w.attempts = p->attempts;
    snprintf(w.last_result, sizeof(w.last_result), "%s", p->last_result);
    w.body = p->body;
    w.len = p->len;
    return webhook_retry_encode(&w, notify_conf.retry_queue, delay_ms, out, len, tier);
}

int notify_retry_event_envelope(json_t *ev, int64_t first_ms, int waits, int64_t delay_ms,
                                char **out, size_t *len, const char **tier)
{
    struct envelope e;
    int64_t tier_ms;
    char *raw = json_dumps(ev, JSON_COMPACT);
    const char *job = json_string_value(json_object_get(ev, "job"));
    int rc;

    if (raw == NULL)
        return -1;
    envelope_init(&e, "webhook-event");
    snprintf(e.job_id, sizeof(e.job_id), "%s", job ? job : "");
    e.account_id = json_integer_value(json_object_get(ev, "account"));
    if (envelope_push_stage(&e, notify_conf.retry_queue) < 0) {
        envelope_free(&e);
        free(raw);
        return -1;
    }
    e.attempt = waits;
    e.created_ms = first_ms;
    e.due_ms = timeutil_now_ms() + delay_ms;
    json_object_set_new(e.data, "firstSeen", json_integer(first_ms));
    json_object_set_new(e.data, "waits", json_integer(waits));
    envelope_take_raw(&e, raw, strlen(raw));
    rc = envelope_encode(&e, out, len);
    envelope_free(&e);
    *tier = delaytier_for(delay_ms, &tier_ms);
    return rc;
}

int notify_retry_event_decode(const void *body, size_t len, json_t **ev, int64_t *first_ms,
                              int *waits, int64_t *due_ms, char *err, size_t errsz)
{
    struct envelope e;
    json_t *fs, *w;

    if (envelope_decode(&e, body, len, err, errsz) < 0)
        return -1;
    if (strcmp(e.type, "webhook-event") != 0) {
        envelope_free(&e);
        return 1;
    }
    fs = json_object_get(e.data, "firstSeen");
    w = json_object_get(e.data, "waits");
    *ev = json_loadb(e.raw, e.raw_len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_integer(fs) || !json_is_integer(w) || !json_is_object(*ev)) {
        snprintf(err, errsz, "not a webhook-event retry envelope");
        json_decref(*ev);
        *ev = NULL;
        envelope_free(&e);
        return -1;
    }
    *first_ms = json_integer_value(fs);
    *waits = (int)json_integer_value(w);
    *due_ms = e.due_ms;
    envelope_free(&e);
    return 0;
}

struct nf_post *notify_retry_decode(const void *body, size_t len, int64_t *due_ms, char *err,
                                    size_t errsz)
{
    struct webhook_retry w;
    struct nf_post *p;

    if (webhook_retry_decode(&w, body, len, err, errsz) < 0)
        return NULL;
    p = xcalloc(1, sizeof(*p));
    p->account_id = w.account_id;
    snprintf(p->job_id, sizeof(p->job_id), "%s", w.job_id);
    p->ep = w.ep; /* the members move into p */
    p->body = w.body;
    p->len = w.len;
    p->tags = w.tags;
    p->rids = w.rids;
    p->first_ms = w.first_ms;
    p->attempts = w.attempts;
    snprintf(p->last_result, sizeof(p->last_result), "%s", w.last_result);
    *due_ms = w.due_ms;
    return p;
}

struct deadarg {
    const struct nf_post *p;
    json_t *items;
};

static enum tx_code dead_rows(struct db *db, void *arg)
{
    struct deadarg *a = arg;
    const struct nf_post *p = a->p;
    char first[80], last[80], url[1001];
    size_t i;
    json_t *n;

    timeutil_sql(first, sizeof(first), p->first_ms ? p->first_ms : timeutil_now_ms());
    timeutil_sql(last, sizeof(last), timeutil_now_ms());
    snprintf(url, sizeof(url), "%s", p->ep.url);
    json_array_foreach (a->items, i, n) {
        const char *tag = json_string_value(json_object_get(json_object_get(n, "meta"), "tag"));
        const char *rid = json_string_value(
            json_object_get(json_object_get(json_object_get(n, "meta"), "mail"), "id"));
        char *text;
        enum tx_code rc;

        if (tag == NULL || strlen(tag) != 64 || rid == NULL || strlen(rid) > 54)
            continue;
        text = json_dumps(n, JSON_COMPACT);
        rc = db_exec(db,
                     "INSERT INTO webhook_delivery (account_id, tag, job_id, rid, url, state, "
                     "attempts, first_attempt_at, last_attempt_at, last_result, notification, "
                     "created_at) VALUES (?, ?, ?, ?, ?, 'dead', ?, ?, ?, ?, ?, ?) "
                     "ON DUPLICATE KEY UPDATE url = VALUES(url), state = 'dead', "
                     "attempts = VALUES(attempts), first_attempt_at = VALUES(first_attempt_at), "
                     "last_attempt_at = VALUES(last_attempt_at), "
                     "last_result = VALUES(last_result), notification = VALUES(notification)",
                     "issssisssss", p->account_id, tag, p->job_id, rid, url, (long long)p->attempts,
                     first, last, p->last_result, text, last);
        free(text);
        if (rc != TX_OK)
            return rc == TX_REJECT_INPUT ? TX_RETRY_DB : rc;
    }
    return TX_OK;
}

enum tx_code notify_retry_dead_write(struct db *db, const struct nf_post *p)
{
    json_t *doc = json_loadb(p->body, p->len, 0, NULL);
    struct deadarg a = {p, json_object_get(doc, "notifications")};
    enum tx_code rc = TX_OK;

    if (json_is_array(a.items))
        rc = db_tx_run(db, 3, dead_rows, &a);
    else
        msg_warn("%s: dead letter without a readable body; nothing to record", p->job_id);
    json_decref(doc);
    return rc;
}
