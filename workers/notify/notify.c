/*
 * NAME
 *   txmail-notify - post webhooks (contract §11)
 * SYNOPSIS
 *   txmail-notify [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   Consumes the events of txmail.events (queue notify_queue, default
 *   events.notify) and its own retries (notify_retry_queue on
 *   txmail.work, default "notify"), and posts each event of the
 *   contract's catalogue (§11.6; the intake record and anything else are
 *   skipped) to the job's endpoint (job.notification: the endPoint object
 *   of §4.11 with its password encrypted under the master key), else the
 *   account's default endpoint (account.notify_url, notify_headers,
 *   notify_user, notify_password), else nowhere. An account's settings
 *   may list the event types it wants (notifyEventTypes: "TYPE" or
 *   "TYPE.SUBTYPE"; null = all).
 *
 *   Batching: a POST carries the notifications of one job (so of one
 *   endpoint), at most notify_batch_max, collected for at most
 *   notify_batch_wait; body = top-level meta of job and account plus the
 *   flat notifications array (§11.4), each element exactly as
 *   event_notification() builds it. Events that carry only their
 *   recipient id (tracking) are completed from the message row first.
 *
 *   Endpoint host names are resolved through dns_servers when it is set
 *   (c-ares, /etc/hosts first; notify_dns.c), else by libcurl's resolver.
 *   Every connection's address is checked against notify_deny_networks and
 *   notify_allow_networks when the socket is opened (so the address
 *   checked is the address connected to, whatever a name resolved to
 *   before); a denied one fails the attempt ("connect error: address
 *   denied by policy ...") and the POST takes the retry path like any
 *   failed POST, so it is dead-lettered after notify_max_age.
 *
 *   Delivery (notify_http.c): libcurl multi; notify_endpoint_concurrency
 *   POSTs per endpoint and notify_concurrency in all; notify_timeout per
 *   POST; TLS verified (notify_ca_file adds a CA), redirects not followed;
 *   headers Content-Type, User-Agent txmail/<version>, X-Txmail-Signature
 *   (t=<unix>,v1=<HMAC-SHA256(secret, t "." body)>, a second v1 with the
 *   previous secret during a rotation), Basic authentication, then the
 *   custom headers that do not collide with these. Any 2xx acks every
 *   notification of the POST. Anything else: the same body goes through
 *   the delay tiers (notify_retry.c) after notify_retry_schedule (the last
 *   delay repeats) and is posted again with a fresh signature; after
 *   notify_max_age from its first attempt the notifications are written
 *   to webhook_delivery (state dead, attempts, first/last attempt, last
 *   result "HTTP <status>" | "timeout" | "connect error: <reason>").
 *   Deliveries are acked only after the POST succeeded, the retry publish
 *   was confirmed or the dead letter was written: nothing is lost, and a
 *   redelivery posts the same notifications (same tags) again.
 *
 *   Events that carry only their recipient id wait notify_orphan_wait in
 *   hand for their message row (the recorder writes it); still missing,
 *   they go through the same delay tiers ("webhook-event" envelopes,
 *   notify_retry.c) and are looked at again each time they come back, so a
 *   lagging recorder delays them but never loses them; after
 *   notify_max_age from their arrival they go to txmail.dead ("notify: no
 *   message row for this recipient id after Ns"). Without a job row after
 *   notify_orphan_wait an event goes to the account's default endpoint.
 *
 *   Malformed events are logged and skipped (txmail-recorder dead-letters
 *   them); malformed retry envelopes go to txmail.dead. OAuth 2.0 client
 *   credentials for default endpoints are not implemented.
 *   Logs one line per notification and outcome, keyed by recipient id.
 * CONSUMES
 *   notify_queue (events.notify, bound to txmail.events): events;
 *   notify_retry_queue (txmail.work, key notify): notifications to retry.
 * PUBLISHES
 *   txmail.retry / txmail.work: notifications again after a failed POST
 *   (notify_retry_schedule); txmail.dead: what failed for notify_max_age
 *   and malformed retry envelopes.
 * WRITES
 *   webhook_delivery; reads job, message, account.
 * PARAMETERS
 *   notify_queue (events.notify)        events consumed
 *   notify_retry_queue (notify)         retries (txmail.work)
 *   notify_batch_max (100)              notifications per POST, 1-1000
 *   notify_batch_wait (1s)              longest wait to fill a POST
 *   notify_timeout (10s)                one POST, connect to answer
 *   notify_retry_schedule (10s,20s,40s,80s,160s,320s,640s,1280s,2560s,1h)
 *   notify_max_age (24h)                retry this long after the first try
 *   notify_endpoint_concurrency (4)     POSTs in flight per endpoint
 *   notify_concurrency (256)            POSTs in flight in all
 *   notify_queue_wait (5s)              a POST waiting longer for a slot is
 *                                       parked in the delay tiers
 *   notify_prefetch (5000)              deliveries in hand per queue
 *   notify_cache_ttl (30s)              job and account rows cached
 *   notify_orphan_wait (30s)            wait for a missing job/message row, then
 *                                       (message row) through the delay tiers
 *   notify_ca_file ()                   extra CA certificates (PEM)
 *   notify_deny_networks (default)      networks no POST may connect to; "default"
 *                                       is lib/global/access/netpolicy.h's list (loopback,
 *                                       0/8, RFC 1918, 100.64/10, link-local, ULA,
 *                                       multicast, reserved; their IPv6 forms);
 *                                       more may follow ("default, 192.0.2.0/24");
 *                                       "" allows every address
 *   notify_allow_networks ()            networks allowed even when denied (the
 *                                       test stack: "127.0.0.0/8, ::1")
 *   notify_proxy ()                     HTTP proxy; empty: none (environment ignored).
 *                                       Not subject to the policy (the operator's);
 *                                       the endpoint is resolved by notify, checked,
 *                                       and tunnelled to by address (CONNECT)
 *   notify_stop_timeout (30s)           SIGTERM: longest wait to finish
 *   and the shared parameters of txconf.h (master_key_file decrypts the
 *   endpoint passwords and webhook secrets; dns_servers).
 * METRICS
 *   txmail_notify_posts_total{outcome=sent|failed|parked|dead},
 *   txmail_notify_notifications_total{outcome}, txmail_latency_seconds (POST).
 */
#include "notify.h"
#include "global/runtime/batchloop.h"
#include "global/crypto.h"
#include "global/runtime/delaytier.h"
#include "global/event.h"
#include "global/eventfill.h"
#include "global/metrics.h"
#include "global/access/netpolicy.h"
#include "global/txconf.h"
#include "util/fifo.h"
#include "util/hash.h"
#include "util/jsonget.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct notify_conf notify_conf;
struct netpolicy *nf_policy;

static struct cfg_param notify_params[] = {
    {"notify_retry_queue", CFG_STR, &notify_conf.retry_queue, WEBHOOK_RETRY_QUEUE, 0, 0, 0,
     "retry queue on txmail.work", 0, 0},
    {"notify_batch_max", CFG_INT, &notify_conf.batch_max, "100", 1, 1000, 0,
     "notifications per POST", 0, 0},
    {"notify_batch_wait", CFG_TIME, &notify_conf.batch_wait, "1s", 0, 1000, 0,
     "longest wait to fill a POST", 0, 0},
    {"notify_timeout", CFG_TIME, &notify_conf.timeout, "10s", 100, 120000, 0, "one POST", 0, 0},
    {"notify_retry_schedule", CFG_STR, &notify_conf.schedule,
     "10s,20s,40s,80s,160s,320s,640s,1280s,2560s,1h", 0, 0, 0, "retry delays; the last repeats", 0,
     0},
    {"notify_max_age", CFG_TIME, &notify_conf.max_age, "24h", 1000, 45LL * 86400000, 0,
     "retry this long after the first try", 0, 0},
    {"notify_endpoint_concurrency", CFG_INT, &notify_conf.endpoint_concurrency, "4", 1, 1000, 0,
     "POSTs in flight per endpoint", 0, 0},
    {"notify_concurrency", CFG_INT, &notify_conf.concurrency, "256", 1, 10000, 0,
     "POSTs in flight in all", 0, 0},
    {"notify_queue_wait", CFG_TIME, &notify_conf.queue_wait, "5s", 100, 600000, 0,
     "park a POST that waited this long for a slot", 0, 0},
    {"notify_cache_ttl", CFG_TIME, &notify_conf.cache_ttl, "30s", 0, 3600000, 0,
     "job and account rows cached", 0, 0},
    {"notify_orphan_wait", CFG_TIME, &notify_conf.orphan_wait, "30s", 0, 3600000, 0,
     "wait for a missing job or message row (then: delay tiers)", 0, 0},
    {"notify_ca_file", CFG_STR, &notify_conf.ca_file, "", 0, 0, 0, "extra CA certificates", 0, 0},
    {"notify_deny_networks", CFG_STR, &notify_conf.deny, "default", 0, 0, 0,
     "networks no POST may connect to (\"default\": loopback, private, link-local, ...)", 0, 0},
    {"notify_allow_networks", CFG_STR, &notify_conf.allow, "", 0, 0, 0,
     "networks a POST may connect to even when denied (e.g. a test stack's loopback)", 0, 0},
    {"notify_proxy", CFG_STR, &notify_conf.proxy, "", 0, 0, 0,
     "HTTP proxy for POSTs (empty: none, the environment is ignored)", 0, 0},
    {0},
};

#define NF_BATCH_BUCKETS 4096
#define NF_PENDING_RETRY_MS 1000
#define NF_DB_BACKOFF_MAX_MS 5000

/* an event waiting for its job/account/message context */
struct pending {
    struct mq_delivery dlv;
    unsigned epoch;
    json_t *ev;
    int64_t arrived_mono, tried_mono;
    int64_t first_ms; /* wall clock of its first arrival (parkings keep it) */
    int waits;        /* times parked for a missing message row */
    struct pending *next;
};

/* a POST being filled: one job, one endpoint */
struct batch {
    struct nf_post *p;
    json_t *meta, *items;
    int64_t opened_mono;
    struct batch *hnext; /* hash chain */
    struct batch *next;  /* open: flush order */
};

static struct fifo pend = FIFO_INIT(struct pending, next);
static struct batch *bhash[NF_BATCH_BUCKETS];
static struct fifo open_batches = FIFO_INIT(struct batch, next);
static int batched; /* deliveries in open batches */
static int64_t db_retry_at, db_backoff;

/* ---- batches ------------------------------------------------------------ */

static unsigned bucket(const char *s)
{
    return hash_fnv1a_str(s) % NF_BATCH_BUCKETS;
}

static struct batch *batch_find(const char *job_id)
{
    for (struct batch *b = bhash[bucket(job_id)]; b; b = b->hnext)
        if (strcmp(b->p->job_id, job_id) == 0)
            return b;
    return NULL;
}

static void batch_unlink(struct batch *b)
{
    struct batch **pp = &bhash[bucket(b->p->job_id)];

    while (*pp != b)
        pp = &(*pp)->hnext;
    *pp = b->hnext;
    fifo_remove(&open_batches, b);
}

static struct batch *batch_open(const struct nf_job *job, const struct nf_account *acct,
                                const struct webhook_endpoint *ep)
{
    struct batch *b = xcalloc(1, sizeof(*b));
    unsigned h = bucket(job->id);

    b->p = xcalloc(1, sizeof(*b->p));
    b->p->account_id = acct->id;
    snprintf(b->p->job_id, sizeof(b->p->job_id), "%s", job->id);
    webhook_endpoint_copy(&b->p->ep, ep);
    b->p->rids = json_array();
    b->p->tags = json_array();
    b->meta = notify_sign_meta(job, acct);
    b->items = json_array();
    b->opened_mono = timeutil_mono_ms();
    b->hnext = bhash[h];
    bhash[h] = b;
    fifo_push(&open_batches, b);
    return b;
}

/* batch_flush - close the batch: its POST goes to the endpoint's queue */
static void batch_flush(struct batch *b)
{
    struct nf_post *p = b->p;

    batch_unlink(b);
    p->body = webhook_body(b->meta, b->items, &p->len);
    if (p->body == NULL)
        msg_panic("cannot encode a webhook body");
    batched -= p->ndlv;
    json_decref(b->meta);
    json_decref(b->items);
    xfree(b);
    notify_http_submit(p);
}

static void batch_drop(struct batch *b)
{
    batch_unlink(b);
    batched -= b->p->ndlv;
    notify_http_post_free(b->p);
    json_decref(b->meta);
    json_decref(b->items);
    xfree(b);
}

/* ---- events ------------------------------------------------------------- */

static void pending_free(struct pending *pe)
{
    json_decref(pe->ev);
    mq_delivery_free(&pe->dlv);
    xfree(pe);
}

static void skip(struct pending *pe, const char *outcome, const char *why)
{
    msg_info("%s: tag=%.16s status=%s%s%s%s", jsonget_str(pe->ev, "rid"),
             jsonget_str(pe->ev, "tag"), outcome, why ? " (" : "", why ? why : "", why ? ")" : "");
    metrics_count("txmail_notify_notifications_total", "outcome", outcome, 1);
    batchloop_ack(pe->epoch, pe->dlv.tag);
    pending_free(pe);
}

enum resolved { RES_DONE, RES_WAIT, RES_DBDOWN, RES_PARK };

/*
 * resolve - find the context of an event and add it to its job's batch.
 * Ownership: steals pe unless RES_WAIT / RES_DBDOWN / RES_PARK (an event
 * without its message row after notify_orphan_wait: the caller parks it
 * in the delay tiers, or dead-letters it past notify_max_age).
 */
static enum resolved resolve(struct pending *pe, int64_t now, int stopping)
{
    json_t *ev = pe->ev, *n;
    struct nf_job *job = NULL, fallback;
    struct nf_account *acct = NULL;
    const struct webhook_endpoint *ep;
    struct batch *b;
    long long account;
    int waited = now - pe->arrived_mono >= notify_conf.orphan_wait;
    enum tx_code rc;

    if (eventfill_needed(ev)) {
        rc = eventfill_from_message(batchloop_db(), ev);
        if (rc == TX_RETRY_DB)
            return RES_DBDOWN;
        if (rc == TX_RETRY_NOT_READY &&
            (json_integer_value(json_object_get(ev, "account")) <= 0 ||
             json_integer_value(json_object_get(ev, "received")) <= 0)) {
            if (!waited || stopping)
                return RES_WAIT;
            return RES_PARK; /* the recorder lags: never dropped */
        }
    }
    account = json_integer_value(json_object_get(ev, "account"));
    rc = notify_ctx_job_get(jsonget_str(ev, "job"), &job);
    if (rc == TX_RETRY_DB)
        return RES_DBDOWN;
    if (rc == TX_RETRY_NOT_READY) {
        if (!waited || stopping)
            return RES_WAIT;
        /* no acceptance record (expired?): the account's endpoint, meta from the event */
        memset(&fallback, 0, sizeof(fallback));
        snprintf(fallback.id, sizeof(fallback.id), "%s", jsonget_str(ev, "job"));
        fallback.account_id = account;
        fallback.received_ms = json_integer_value(json_object_get(ev, "received"));
        job = &fallback;
    } else if (job->account_id != account) {
        msg_warn("%s: event names account %lld, its job belongs to %lld: the job wins",
                 jsonget_str(ev, "rid"), account, job->account_id);
    }
    rc = notify_ctx_account_get(job->account_id, &acct);
    if (rc == TX_RETRY_DB)
        return RES_DBDOWN;
    if (rc != TX_OK) {
        skip(pe, "dropped", "no such account");
        return RES_DONE;
    }
    if (!notify_ctx_type_wanted(acct, jsonget_str(ev, "type"), jsonget_str(ev, "subType"))) {
        skip(pe, "filtered", NULL);
        return RES_DONE;
    }
    ep = job->ep.url ? &job->ep : acct->def.url ? &acct->def : NULL;
    if (ep == NULL) {
        skip(pe, "noendpoint", NULL);
        return RES_DONE;
    }
    n = event_notification(ev);
    if (n == NULL) {
        skip(pe, "skipped", NULL);
        return RES_DONE;
    }
    b = batch_find(job->id);
    if (b == NULL)
        b = batch_open(job, acct, ep);
    json_array_append_new(b->items, n);
    json_array_append_new(b->p->rids, json_string(jsonget_str(ev, "rid")));
    json_array_append_new(b->p->tags, json_string(jsonget_str(ev, "tag")));
    notify_http_post_add_dlv(b->p, pe->epoch, pe->dlv.tag);
    batched++;
    pending_free(pe);
    if ((long long)json_array_size(b->items) >= notify_conf.batch_max)
        batch_flush(b);
    return RES_DONE;
}

/*
 * park - events still without their message row: through the delay tiers
 * (confirmed before the acks), or to txmail.dead past notify_max_age
 */
static void park(struct pending *list)
{
    struct mqpub_msg m[64];
    char *bodies[64];
    struct pending *batch[64];
    int n = 0;
    int64_t now = timeutil_now_ms();

    while (list || n) {
        if (list && n < 64) {
            struct pending *pe = list;
            list = pe->next;
            if (now - pe->first_ms >= notify_conf.max_age) {
                char why[200];
                char *body = json_dumps(pe->ev, JSON_COMPACT);
                snprintf(why, sizeof(why), "no message row for this recipient id after %llds",
                         (long long)((now - pe->first_ms) / 1000));
                if (body == NULL)
                    msg_panic("cannot encode an event");
                batchloop_dead(body, strlen(body), why);
                free(body);
                skip(pe, "dead", why);
                continue;
            }
            size_t len;
            const char *tier;
            int64_t delay = notify_retry_delay(pe->waits + 1);
            if (notify_retry_event_envelope(pe->ev, pe->first_ms, pe->waits + 1, delay, &bodies[n],
                                            &len, &tier) < 0)
                msg_panic("cannot encode a webhook-event envelope");
            m[n] = (struct mqpub_msg){
                MQ_EXCHANGE_RETRY, tier, notify_conf.retry_queue, NULL, bodies[n], len, NULL};
            batch[n++] = pe;
            continue;
        }
        batchloop_publish(m, n);
        for (int i = 0; i < n; i++) {
            char why[120];
            free(bodies[i]);
            snprintf(why, sizeof(why), "no message row for this recipient id yet; retry in %llds",
                     (long long)(notify_retry_delay(batch[i]->waits + 1) / 1000));
            skip(batch[i], "deferred", why);
        }
        n = 0;
    }
}

static void resolve_all(int64_t now, int stopping)
{
    struct pending *list = fifo_take(&pend, 0, NULL), *parked = NULL;
    int dbdown = now < db_retry_at;

    while (list) {
        struct pending *pe = list;
        list = pe->next;
        pe->next = NULL;
        if (!dbdown &&
            (stopping || pe->tried_mono == 0 || now - pe->tried_mono >= NF_PENDING_RETRY_MS)) {
            enum resolved r = resolve(pe, now, stopping);
            if (r == RES_DONE)
                continue;
            if (r == RES_PARK) {
                pe->next = parked;
                parked = pe;
                continue;
            }
            pe->tried_mono = now;
            if (r == RES_DBDOWN) {
                dbdown = 1;
                db_backoff = db_backoff ? db_backoff * 2 : 100;
                if (db_backoff > NF_DB_BACKOFF_MAX_MS)
                    db_backoff = NF_DB_BACKOFF_MAX_MS;
                db_retry_at = now + db_backoff;
                if (db_backoff == 100)
                    msg_warn("database unavailable: events wait for their context");
            }
        }
        fifo_push(&pend, pe);
    }
    if (!dbdown)
        db_backoff = 0;
    park(parked);
}

/* ---- loop callbacks ----------------------------------------------------- */

/*
 * pending_add - delivery d (its content moves into the record) with its
 * event waits on the pending list for its job's delivery record
 */
static void pending_add(const struct mq_delivery *d, unsigned epoch, json_t *ev, int64_t first_ms,
                        int waits, int64_t arrived_mono)
{
    struct pending *pe = xcalloc(1, sizeof(*pe));

    pe->dlv = *d;
    pe->epoch = epoch;
    pe->ev = ev;
    pe->first_ms = first_ms;
    pe->waits = waits;
    pe->arrived_mono = arrived_mono;
    fifo_push(&pend, pe);
}

/* drop - ack delivery d and free it with its event (NULL: none) */
static void drop(struct mq_delivery *d, unsigned epoch, json_t *ev)
{
    json_decref(ev);
    batchloop_ack(epoch, d->tag);
    mq_delivery_free(d);
}

/* take_event - a parked event back from the tiers: on to the next tier, or looked at again */
static void take_event(struct mq_delivery *d, unsigned epoch, json_t *ev, int64_t first_ms,
                       int waits, int64_t due)
{
    int64_t now = timeutil_now_ms();
    char err[200];

    if (delaytier_left(due, now) > 0) {
        char *body;
        size_t len;
        const char *tier;
        if (notify_retry_event_envelope(ev, first_ms, waits, due - now, &body, &len, &tier) < 0)
            msg_panic("cannot encode a webhook-event envelope");
        struct mqpub_msg m = {
            MQ_EXCHANGE_RETRY, tier, notify_conf.retry_queue, NULL, body, len, NULL};
        batchloop_publish(&m, 1);
        free(body);
        drop(d, epoch, ev);
        return;
    }
    if (eventfill_check(ev, err, sizeof(err)) < 0) {
        msg_warn("retry delivery %llu: status=dead-letter (%s)", (unsigned long long)d->tag, err);
        batchloop_dead(d->body, d->len, err);
        drop(d, epoch, ev);
        return;
    }
    /* it waited in the tiers: one more look, then parked again */
    pending_add(d, epoch, ev, first_ms, waits, timeutil_mono_ms() - notify_conf.orphan_wait);
}

static void take_retry(struct mq_delivery *d, unsigned epoch)
{
    char err[200];
    int64_t due = 0, now = timeutil_now_ms(), first_ms = 0;
    json_t *ev = NULL;
    int waits = 0, k = notify_retry_event_decode(d->body, d->len, &ev, &first_ms, &waits, &due, err,
                                                 sizeof(err));
    struct nf_post *p;

    if (k == 0) {
        take_event(d, epoch, ev, first_ms, waits, due);
        return;
    }
    p = k < 0 ? NULL : notify_retry_decode(d->body, d->len, &due, err, sizeof(err));

    if (p == NULL) {
        msg_warn("retry delivery %llu: status=dead-letter (%s)", (unsigned long long)d->tag, err);
        batchloop_dead(d->body, d->len, err);
        drop(d, epoch, NULL);
        return;
    }
    mq_delivery_free(d);
    notify_http_post_add_dlv(p, epoch, d->tag);
    if (delaytier_left(due, now) > 0) {
        /* a long delay is a chain of tiers: on to the next one */
        char *body;
        size_t len;
        const char *tier;
        if (notify_retry_envelope(p, due - now, &body, &len, &tier) < 0)
            msg_panic("cannot encode a webhook retry envelope");
        struct mqpub_msg m = {
            MQ_EXCHANGE_RETRY, tier, notify_conf.retry_queue, NULL, body, len, NULL};
        batchloop_publish(&m, 1);
        free(body);
        batchloop_ack(epoch, p->dlvs[0].tag);
        notify_http_post_free(p);
        return;
    }
    notify_http_submit(p);
}

static void on_deliver(struct mq_delivery *d, unsigned epoch, void *arg)
{
    json_t *ev;
    char err[200];

    (void)arg;
    if (strcmp(d->exchange, MQ_EXCHANGE_WORK) == 0) {
        take_retry(d, epoch);
        return;
    }
    ev = json_loadb(d->body, d->len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(ev) ||
        !event_is_notifiable(jsonget_str(ev, "phase"), jsonget_str(ev, "type"))) {
        /* the intake record, other programs' internal events: not notifications */
        if (!json_is_object(ev))
            msg_warn("delivery %llu: not a JSON object; skipped", (unsigned long long)d->tag);
        drop(d, epoch, ev);
        return;
    }
    if (eventfill_check(ev, err, sizeof(err)) < 0) {
        msg_warn("delivery %llu: malformed event skipped (%s)", (unsigned long long)d->tag, err);
        metrics_count("txmail_notify_notifications_total", "outcome", "malformed", 1);
        drop(d, epoch, ev);
        return;
    }
    pending_add(d, epoch, ev, timeutil_now_ms(), 0, timeutil_mono_ms());
}

static int on_busy(void *arg)
{
    (void)arg;
    return (batchloop_stopping() ? 0 : (int)fifo_count(&pend)) + batched + notify_http_busy();
}

static int64_t on_work(int64_t budget, int stopping, void *arg)
{
    int64_t now = timeutil_mono_ms(), wait = 1000;
    int mode, running;
    struct batch *b;

    (void)arg;
    resolve_all(now, stopping);
    while ((b = fifo_peek(&open_batches)) != NULL &&
           (stopping || now - b->opened_mono >= notify_conf.batch_wait))
        batch_flush(b);
    mode = stopping                                        ? NF_RUN_STOPPING
           : on_busy(NULL) >= notify_conf.prefetch * 3 / 4 ? NF_RUN_PRESSURE
                                                           : NF_RUN_NORMAL;
    running = notify_http_run(budget, mode);
    if (running)
        return 0;
    if ((b = fifo_peek(&open_batches)) != NULL)
        wait = notify_conf.batch_wait - (now - b->opened_mono);
    if (fifo_count(&pend)) {
        int64_t w = db_retry_at > now ? db_retry_at - now : 100;
        if (w < wait)
            wait = w;
    }
    if (notify_http_busy() && wait > 100)
        wait = 100;
    return wait < 0 ? 0 : wait;
}

static void on_lost(void *arg)
{
    (void)arg;
    struct pending *pe;
    struct batch *b;

    while ((pe = fifo_pop(&pend)) != NULL)
        pending_free(pe);
    while ((b = fifo_peek(&open_batches)) != NULL)
        batch_drop(b);
    notify_http_lost();
}

int main(int argc, char **argv)
{
    struct batchloop_conf bc;
    struct batchloop_ops ops = {on_deliver, on_work, on_lost, on_busy, NULL};
    char err[200];

    /* notify_queue, notify_prefetch, notify_stop_timeout: the runtime's */
    struct cfg_param *table = batchloop_table("notify", notify_params, "events.notify", "5000", 10,
                                              "deliveries in hand per queue", "30s");
    txconf_init(argc, argv, "notify", table, NULL, NULL);
    notify_conf.prefetch = batchloop_p.prefetch;
    if (notify_retry_schedule_parse(notify_conf.schedule) < 0)
        msg_fatal("notify_retry_schedule: expected delays of at least 1s, e.g. \"10s,20s,1h\"");
    if (*txconf.master_key && crypto_set_master_key(txconf.master_key) < 0)
        msg_fatal("master_key_file: expected 64 hex digits");
    if (!crypto_have_master_key())
        msg_warn("no master key: webhook secrets and endpoint passwords cannot be decrypted");
    nf_policy = netpolicy_create(notify_conf.deny, notify_conf.allow, err, sizeof(err));
    if (nf_policy == NULL)
        msg_fatal("notify_deny_networks, notify_allow_networks: %s", err);
    if (*notify_conf.ca_file && access(notify_conf.ca_file, R_OK) != 0)
        msg_fatal("notify_ca_file %s: %m", notify_conf.ca_file);
    notify_ctx_init();
    notify_http_init();
    memset(&bc, 0, sizeof(bc));
    bc.name = "notify";
    bc.queues[0] = batchloop_p.queue;
    bc.queues[1] = notify_conf.retry_queue;
    bc.prefetch = (int)notify_conf.prefetch;
    bc.split = 1;
    bc.db = 1;
    bc.stop_timeout_ms = batchloop_p.stop_timeout_ms;
    batchloop_run(&bc, &ops, NULL);
    notify_http_done();
    netpolicy_free(nf_policy);
    batchloop_table_free(table);
    return 0;
}
