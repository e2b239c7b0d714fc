/*
 * track_events - the events of tracking requests, published to
 * txmail.events by one publisher thread.
 *
 * The HTTP threads build the event (JSON, routing key) and queue it; the
 * publisher takes up to track_event_batch events at a time, publishes
 * them and waits for the broker's confirms once per batch, so requests
 * are batched across connections. What the HTTP answer waits for:
 *
 *   opens and clicks  nothing: the event is queued and the answer goes
 *                     out at once. If the broker is unreachable the
 *                     queue holds up to track_event_queue events and is
 *                     published when it comes back; past that, new open
 *                     and click events are dropped and counted
 *                     (txmail_track_events_total{outcome="dropped"}) -
 *                     a lost open or click is tolerable, a pixel or a
 *                     redirect that hangs is not.
 *   unsubscribes      the broker's confirm (up to
 *                     track_unsubscribe_timeout): the answer is 200 only
 *                     once the event is durable, else 503 so the sender
 *                     of the POST tries again (RFC 8058 clients do; the
 *                     repeated event has the same tag, eventKey "1").
 *
 * A batch that was not confirmed is published again after reconnecting
 * (at least once: the recorder and notify de-duplicate by tag; OPENED and
 * CLICKED carry their request time as eventKey, fixed before queuing).
 */
#include "global/event.h"
#include "global/runtime/evbatch.h"
#include "global/metrics.h"
#include "global/runtime/mqpub.h"
#include "global/txconf.h"
#include "producers/track/track.h"
#include "util/fifo.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

struct waiter {
    int done, ok;
    int refs; /* the HTTP thread and the queued item */
};

struct item {
    char *body;
    size_t len;
    char key[48];
    struct waiter *w;
    struct item *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER; /* items queued, or stop */
static pthread_cond_t done = PTHREAD_COND_INITIALIZER; /* a batch finished */
static struct fifo pending = FIFO_INIT(struct item, next);
static long queued; /* items in the queue + the batch in hand */
static int stopping, stopped, connected;
static int64_t stop_deadline;
static pthread_t thread;

static void waiter_release(struct waiter *w)
{
    /* lock held */
    if (w && --w->refs == 0)
        xfree(w);
}

static void item_free(struct item *it)
{
    xfree(it->body);
    xfree(it);
}

/* build - the broker form of the event of h (contract §11.6, §11.7) */
static struct item *build(const struct track_hit *h)
{
    struct tx_event ev;
    char rid[RID_STR_LEN + 1], job[UUID_STR_LEN + 1], ts[32];
    json_t *content = json_object(), *tracking = json_object(), *x = NULL;
    struct item *it = xcalloc(1, sizeof(*it));
    char *ua = track_client_clean_text(h->user_agent, 512);

    tracktoken_rid(rid, h->tok);
    ids_uuid_format(job, &h->tok->job);
    timeutil_iso8601(ts, sizeof(ts), h->ts_ms);
    if (h->tok->kind == TRACK_CLICK)
        json_object_set_new(tracking, "url", json_stringn(h->tok->url, h->tok->url_len));
    json_object_set_new(tracking, "userAgent", json_string(ua));
    json_object_set_new(tracking, "ip", json_string(h->ip));
    json_object_set_new(tracking, "ts", json_string(ts));
    json_object_set_new(tracking, "automated", json_boolean(h->automated));
    json_object_set_new(content, "tracking", tracking);
    event_init(&ev);
    ev.rid = rid;
    ev.job_id = job;
    ev.account_id = 0; /* not in the token: completed from the message row */
    ev.received_ms = 0;
    ev.phase = "POST_PROCESS";
    ev.state = "POST_DELIVERY";
    ev.type = h->type;
    ev.subtype = "OK";
    ev.ts_ms = h->ts_ms;
    ev.event_key = strcmp(h->type, "UNSUBSCRIBED") == 0 ? "1" : ts;
    ev.content = content;
    if (strcmp(h->type, "UNSUBSCRIBED") == 0) {
        /* the address ("") is completed from the message row, like the account */
        x = json_pack("{s:{s:s,s:s,s:n,s:s}}", "suppress", "address", "", "type", "UNSUBSCRIBED",
                      "lifetime_s", "reason", "UNSUBSCRIBED");
        ev.extra = x;
    }
    json_t *doc = event_json(&ev);
    it->body = json_dumps(doc, JSON_COMPACT);
    it->len = it->body ? strlen(it->body) : 0;
    event_routing_key(it->key, sizeof(it->key), &ev);
    json_decref(doc);
    json_decref(content);
    json_decref(x);
    xfree(ua);
    if (it->body == NULL) {
        xfree(it);
        return NULL;
    }
    return it;
}

enum track_push track_events_push(const struct track_hit *h, int64_t wait_ms)
{
    struct item *it = build(h);
    struct waiter *w = NULL;
    enum track_push rc;

    if (it == NULL) {
        msg_warn("cannot encode a tracking event");
        return TRACK_FULL;
    }
    pthread_mutex_lock(&lock);
    if (queued >= track_conf.event_queue || stopped) {
        pthread_mutex_unlock(&lock);
        item_free(it);
        metrics_count("txmail_track_events_total", "outcome", "dropped", 1);
        return TRACK_FULL;
    }
    if (wait_ms > 0) {
        w = xcalloc(1, sizeof(*w));
        w->refs = 2;
        it->w = w;
    }
    fifo_push(&pending, it);
    queued++;
    pthread_cond_signal(&work);
    if (w == NULL) {
        pthread_mutex_unlock(&lock);
        return TRACK_QUEUED;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!w->done && pthread_cond_timedwait(&done, &lock, &until) != ETIMEDOUT)
        ;
    rc = w->done && w->ok ? TRACK_CONFIRMED : TRACK_TIMEOUT;
    waiter_release(w);
    pthread_mutex_unlock(&lock);
    return rc;
}

int track_events_connected(void)
{
    pthread_mutex_lock(&lock);
    int c = connected;
    pthread_mutex_unlock(&lock);
    return c;
}

long track_events_queued(void)
{
    pthread_mutex_lock(&lock);
    long n = queued;
    pthread_mutex_unlock(&lock);
    return n;
}

static void set_connected(int c)
{
    pthread_mutex_lock(&lock);
    connected = c;
    pthread_mutex_unlock(&lock);
    metrics_gauge("txmail_track_broker_connected", c);
}

/*
 * publish_batch - publish every item of batch and wait for the confirms
 * (mqpub.h's bounded policy). Events of the same routing key go out
 * together, up to track_events_per_message in one message (evbatch.h):
 * the broker's cost is per message, and a click is a few hundred bytes.
 */
static enum tx_code publish_batch(struct mqpub *pub, struct item *batch)
{
    enum tx_code rc;
    int n = 0, nmsg = 0;

    for (struct item *it = batch; it; it = it->next)
        n++;
    struct item **left = xcalloc((size_t)n + 1, sizeof(*left));
    struct mqpub_msg *m = xcalloc((size_t)n + 1, sizeof(*m));
    n = 0;
    for (struct item *it = batch; it; it = it->next)
        left[n++] = it;
    for (int i = 0; i < n; i++) {
        if (left[i] == NULL)
            continue;
        const char *key = left[i]->key;
        char *body = xmemdup(left[i]->body, left[i]->len + 1);
        size_t len = left[i]->len;
        int parts = 1;
        left[i] = NULL;
        for (int j = i + 1; j < n && parts < track_conf.events_per_message; j++) {
            if (left[j] == NULL || strcmp(left[j]->key, key) != 0)
                continue;
            evbatch_join(&body, &len, &parts, left[j]->body, left[j]->len, 1);
            left[j] = NULL;
        }
        m[nmsg++] = (struct mqpub_msg){MQ_EXCHANGE_EVENTS, key, NULL, NULL, body, len, NULL};
    }
    rc = mqpub_send(pub, m, nmsg, (int)track_conf.confirm_timeout_ms);
    for (int i = 0; i < nmsg; i++)
        xfree((void *)m[i].body);
    xfree(m);
    xfree(left);
    return rc;
}

/* take_batch - wait up to a second for events; the next batch into *batch. 1: stop now */
static int take_batch(struct item **batch)
{
    int stop_now;

    pthread_mutex_lock(&lock);
    if (*batch == NULL) {
        while (fifo_peek(&pending) == NULL && !stopping) {
            struct timespec t;
            clock_gettime(CLOCK_REALTIME, &t);
            t.tv_sec += 1;
            pthread_cond_timedwait(&work, &lock, &t);
            if (fifo_peek(&pending) == NULL && !stopping)
                break; /* idle second: serve heartbeats */
        }
        *batch = fifo_take(&pending, (size_t)track_conf.event_batch, NULL);
    }
    stop_now = stopping && (*batch == NULL || timeutil_mono_ms() > stop_deadline);
    pthread_mutex_unlock(&lock);
    return stop_now;
}

/* batch_done - the batch is confirmed: answer its waiters, free it */
static void batch_done(struct item *batch)
{
    pthread_mutex_lock(&lock);
    while (batch) {
        struct item *it = batch;
        batch = it->next;
        if (it->w) {
            it->w->done = 1;
            it->w->ok = 1;
            waiter_release(it->w);
        }
        item_free(it);
        queued--;
    }
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&lock);
}

/* drop_all - stopping: what could not be published before the stop deadline is lost; say so */
static void drop_all(struct item *batch)
{
    struct item *it;
    long lost = 0;

    pthread_mutex_lock(&lock);
    while ((it = batch ? batch : fifo_pop(&pending)) != NULL) {
        if (it == batch)
            batch = it->next;
        if (it->w) {
            it->w->done = 1;
            waiter_release(it->w);
        }
        item_free(it);
        lost++;
    }
    queued = 0;
    stopped = 1;
    pthread_cond_broadcast(&done);
    pthread_mutex_unlock(&lock);
    if (lost)
        msg_warn("stopping: %ld tracking events could not be published", lost);
}

static void *publisher(void *arg)
{
    char *url = txconf_broker_url();
    struct mqpub *pub = mqpub_new(url, "track-publish", MQPUB_DECLARE, 0);
    struct item *batch = NULL;
    int64_t backoff = 100, next_try = 0, last_flush = 0;
    int up = 0;

    (void)arg;
    xwipestr(url);
    for (;;) {
        int stop_now = take_batch(&batch);
        int64_t now = timeutil_mono_ms();
        if (now - last_flush >= 5000) {
            metrics_gauge("txmail_track_events_queued", (double)track_events_queued());
            metrics_flush();
            last_flush = now;
        }
        if (stop_now)
            break;
        if (up && (mqpub_conn(pub) == NULL || mq_broken(mqpub_conn(pub)))) {
            up = 0;
            set_connected(0);
        }
        if (!up) {
            if (now < next_try) {
                timeutil_sleep_ms(next_try - now < 200 ? next_try - now : 200);
                continue;
            }
            if (mqpub_ready(pub) != TX_OK) {
                next_try = timeutil_mono_ms() + backoff;
                backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
                continue;
            }
            msg_info("connected to the broker");
            backoff = 100;
            up = 1;
            set_connected(1);
        }
        if (batch == NULL) {
            mqpub_poll(pub);
            continue;
        }
        int count = 0;
        for (struct item *it = batch; it; it = it->next)
            count++;
        if (publish_batch(pub, batch) != TX_OK) {
            msg_warn("%d tracking events not confirmed by the broker: publishing them again",
                     count);
            up = 0;
            set_connected(0);
            next_try = timeutil_mono_ms() + backoff;
            continue;
        }
        metrics_count("txmail_track_events_total", "outcome", "published", count);
        batch_done(batch);
        batch = NULL;
    }
    drop_all(batch);
    if (up)
        set_connected(0);
    mqpub_free(pub);
    return NULL;
}

void track_events_start(void)
{
    if (pthread_create(&thread, NULL, publisher, NULL) != 0)
        msg_fatal("cannot start the publisher thread");
}

void track_events_stop(void)
{
    pthread_mutex_lock(&lock);
    stopping = 1;
    stop_deadline = timeutil_mono_ms() + track_conf.stop_timeout_ms;
    pthread_cond_signal(&work);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
}
