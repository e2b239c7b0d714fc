/*
 * notify_retry - a failed POST goes through the broker's delay tiers as a
 * "webhook" envelope (docs/ENVELOPES.md) and comes back to the retry
 * queue (notify_retry_queue on txmail.work); after notify_max_age from
 * its first attempt its notifications are dead-lettered into
 * webhook_delivery.
 *
 *   envelope: type "webhook", job, account, slip [<retry queue>],
 *             attempt = attempts made, created = first attempt,
 *             due = when to try again (tiers chain through it)
 *   data:     {"url", "headers", "auth": {"user", "password" (encrypted)},
 *              "jobId", "accountId", "tags": [...], "rids": [...],
 *              "firstAttempt": ms (0: never tried), "attempts": n,
 *              "lastResult": "HTTP 500" | "timeout" | "connect error: ..."}
 *   raw:      the POST body, byte for byte (retries send it unchanged)
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
    struct envelope e;
    int64_t tier_ms, now = timeutil_now_ms();
    json_t *auth = json_null();
    int rc;

    envelope_init(&e, "webhook");
    snprintf(e.job_id, sizeof(e.job_id), "%s", p->job_id);
    e.account_id = p->account_id;
    if (envelope_push_stage(&e, notify_conf.retry_queue) < 0) {
        envelope_free(&e);
        return -1;
    }
    e.attempt = p->attempts;
    e.created_ms = p->first_ms ? p->first_ms : now;
    e.due_ms = now + delay_ms;
    if (p->ep.user) {
        auth = json_object();
        json_object_set_new(auth, "user", json_string(p->ep.user));
        json_object_set_new(auth, "password",
                            p->ep.password ? json_string(p->ep.password) : json_null());
    }
    json_object_set_new(e.data, "url", json_string(p->ep.url));
    json_object_set_new(e.data, "headers",
                        p->ep.headers ? json_incref(p->ep.headers) : json_null());
    json_object_set_new(e.data, "auth", auth);
    json_object_set_new(e.data, "jobId", json_string(p->job_id));
    json_object_set_new(e.data, "accountId", json_integer(p->account_id));
    json_object_set_new(e.data, "tags", json_incref(p->tags));
    json_object_set_new(e.data, "rids", json_incref(p->rids));
    json_object_set_new(e.data, "firstAttempt", json_integer(p->first_ms));
    json_object_set_new(e.data, "attempts", json_integer(p->attempts));
    json_object_set_new(e.data, "lastResult", json_string(p->last_result));
    envelope_set_raw(&e, p->body, p->len);
    rc = envelope_encode(&e, out, len);
    envelope_free(&e);
    *tier = delaytier_for(delay_ms, &tier_ms);
    return rc;
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
    struct envelope e;
    struct nf_post *p;
    json_t *d, *auth, *h, *tags, *rids;
    char origin[400];

    if (envelope_decode(&e, body, len, err, errsz) < 0)
        return NULL;
    d = e.data;
    auth = json_object_get(d, "auth");
    h = json_object_get(d, "headers");
    tags = json_object_get(d, "tags");
    rids = json_object_get(d, "rids");
    if (strcmp(e.type, "webhook") != 0 || !jsonget_str(d, "url") ||
        notify_sign_origin(origin, sizeof(origin), jsonget_str(d, "url")) < 0 ||
        !json_is_array(tags) || !json_is_array(rids) ||
        json_array_size(tags) != json_array_size(rids) ||
        !(h == NULL || json_is_null(h) || json_is_object(h)) ||
        !(auth == NULL || json_is_null(auth) ||
          (json_is_object(auth) && jsonget_str(auth, "user"))) ||
        !json_is_integer(json_object_get(d, "firstAttempt")) ||
        !json_is_integer(json_object_get(d, "attempts")) || e.raw_len == 0 ||
        strlen(e.job_id) > 36) {
        snprintf(err, errsz, "not a webhook retry envelope");
        envelope_free(&e);
        return NULL;
    }
    p = xcalloc(1, sizeof(*p));
    p->account_id = e.account_id;
    snprintf(p->job_id, sizeof(p->job_id), "%s", e.job_id);
    p->ep.url = xstrdup(jsonget_str(d, "url"));
    p->ep.headers = json_is_object(h) ? json_incref(h) : NULL;
    if (json_is_object(auth)) {
        p->ep.user = xstrdup(jsonget_str(auth, "user"));
        p->ep.password =
            jsonget_str(auth, "password") ? xstrdup(jsonget_str(auth, "password")) : NULL;
    }
    p->body = xmemdup(e.raw, e.raw_len + 1);
    p->body[e.raw_len] = 0;
    p->len = e.raw_len;
    p->tags = json_incref(tags);
    p->rids = json_incref(rids);
    p->first_ms = json_integer_value(json_object_get(d, "firstAttempt"));
    p->attempts = (int)json_integer_value(json_object_get(d, "attempts"));
    snprintf(p->last_result, sizeof(p->last_result), "%s",
             jsonget_str(d, "lastResult") ? jsonget_str(d, "lastResult") : "");
    *due_ms = e.due_ms;
    envelope_free(&e);
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
