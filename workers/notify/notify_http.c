/*
 * notify_http - the POSTs: libcurl multi, many endpoints at once.
 *
 * Posts wait in one queue per endpoint (scheme://host:port); at most
 * notify_endpoint_concurrency of an endpoint and notify_concurrency in
 * all are in flight, so a slow or dead endpoint never takes the slots of
 * others. A post that waited notify_queue_wait for a slot (sooner when
 * the deliveries in hand approach the prefetch window) is parked: it goes
 * through the delay tiers without counting as an attempt, and its
 * deliveries are acked, so the window keeps moving for other endpoints.
 *
 * Each attempt (notify_attempt.c): headers in the contract's order of
 * precedence (§11.1), a fresh X-Txmail-Signature, the same body; TLS
 * verified, redirects not followed, notify_timeout for the whole
 * exchange. A post is never sent unsigned or without its password: when
 * the account's webhook secret (or the endpoint's password) cannot be
 * decrypted, or the account is gone, the attempt fails ("cannot sign:
 * ...") and takes the retry path.
 *
 * Where a POST may connect (notify_deny_networks, notify_allow_networks;
 * lib/global/access/netpolicy.h) is checked on the address actually connected
 * to: curl's open-socket callback refuses a denied address before the
 * socket exists, whatever name, literal, /etc/hosts entry or DNS answer
 * led there, so a name that changes its answer between a check and the
 * connection (DNS rebinding) gains nothing. With notify_proxy the socket
 * goes to the proxy (the operator's, so not subject to the policy) and
 * the proxy would resolve the endpoint itself: notify resolves the host,
 * keeps the first address the policy allows and asks the proxy for that
 * address (CONNECT to the address, forced tunnel; TLS still verifies
 * the host name). An attempt refused by the policy fails with
 * "connect error: address denied by policy" and takes the retry path
 * like any failed POST (the policy or the endpoint's DNS may change).
 *
 * Any 2xx acks every notification of the post; anything else schedules a
 * retry (published and confirmed before the acks) or, past notify_max_age
 * after the first attempt, dead-letters the notifications into
 * webhook_delivery.
 */
#include "notify.h"
#include "global/runtime/batchloop.h"
#include "global/metrics.h"
#include "util/fifo.h"
#include "util/hash.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NF_EP_BUCKETS 1024
#define NF_PRESSURE_WAIT_MS 250
#define NF_DEAD_RETRY_MS 1000

struct nf_ep {
    char origin[400];
    int inflight;
    struct fifo q; /* posts waiting for a transfer slot (by next) */
    struct nf_ep *next;
};

static CURLM *multi;
static struct nf_ep *eps[NF_EP_BUCKETS];
static int active;                     /* transfers running */
static int held;                       /* deliveries of queued and running posts */
static struct nf_post *inflight_posts; /* posts with a transfer, linked by next */
static struct nf_post *dead_pending;
static int dead_held;
static int64_t dead_retry_at;

void notify_http_post_free(struct nf_post *p)
{
    if (p == NULL)
        return;
    webhook_endpoint_free(&p->ep);
    xfree(p->body);
    json_decref(p->rids);
    json_decref(p->tags);
    xfree(p->dlvs);
    xfree(p);
}

void notify_http_post_add_dlv(struct nf_post *p, unsigned epoch, uint64_t tag)
{
    if (p->ndlv == p->capdlv) {
        p->capdlv = p->capdlv ? p->capdlv * 2 : 8;
        p->dlvs = xrealloc(p->dlvs, sizeof(*p->dlvs) * (size_t)p->capdlv);
    }
    p->dlvs[p->ndlv].epoch = epoch;
    p->dlvs[p->ndlv].tag = tag;
    p->ndlv++;
}

void notify_http_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        msg_fatal("curl_global_init failed");
    multi = curl_multi_init();
    if (multi == NULL)
        msg_fatal("curl_multi_init failed");
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)(notify_conf.concurrency * 2));
    if (notify_dns_init() < 0)
        msg_fatal("cannot set up the resolver for dns_servers");
}

void notify_http_done(void)
{
    notify_dns_done();
    curl_multi_cleanup(multi);
    curl_global_cleanup();
}

int notify_http_busy(void)
{
    return held + dead_held;
}

static unsigned hash(const char *s)
{
    return hash_fnv1a_str(s) % NF_EP_BUCKETS;
}

static struct nf_ep *ep_get(const char *origin)
{
    unsigned h = hash(origin);
    struct nf_ep *e;

    for (e = eps[h]; e; e = e->next)
        if (strcmp(e->origin, origin) == 0)
            return e;
    e = xcalloc(1, sizeof(*e));
    snprintf(e->origin, sizeof(e->origin), "%s", origin);
    fifo_init(&e->q, offsetof(struct nf_post, next));
    e->next = eps[h];
    eps[h] = e;
    return e;
}

/* ep_sweep - forget the endpoints with nothing queued or in flight */
static void ep_sweep(void)
{
    for (int b = 0; b < NF_EP_BUCKETS; b++) {
        struct nf_ep **pp = &eps[b];
        while (*pp) {
            struct nf_ep *e = *pp;
            if (e->inflight == 0 && fifo_count(&e->q) == 0) {
                *pp = e->next;
                xfree(e);
            } else {
                pp = &e->next;
            }
        }
    }
}

void notify_http_submit(struct nf_post *p)
{
    char origin[400];

    if (webhook_origin(origin, sizeof(origin), p->ep.url) < 0)
        msg_panic("submit of a post without a usable URL");
    p->origin = ep_get(origin);
    snprintf(p->origin_name, sizeof(p->origin_name), "%s", origin);
    p->queued_mono = timeutil_mono_ms();
    fifo_push(&p->origin->q, p);
    held += p->ndlv;
}

/* ---- logging ------------------------------------------------------------ */

static void log_post(const struct nf_post *p, const char *status, const char *why)
{
    size_t i;
    json_t *r;

    json_array_foreach (p->rids, i, r) {
        msg_info("%s: tag=%.16s url=%s attempts=%d status=%s%s%s%s", json_string_value(r),
                 json_string_value(json_array_get(p->tags, i)), p->origin_name, p->attempts, status,
                 why && *why ? " (" : "", why && *why ? why : "", why && *why ? ")" : "");
    }
}

static void ack_post(const struct nf_post *p)
{
    for (int i = 0; i < p->ndlv; i++)
        batchloop_ack(p->dlvs[i].epoch, p->dlvs[i].tag);
}

/* ---- settling ----------------------------------------------------------- */

struct settle {
    struct nf_post *ok, *retry, *park, *dead;
};

static void push(struct nf_post **l, struct nf_post *p)
{
    p->next = *l;
    *l = p;
}

/* failed - a failed attempt: retry later, or dead letters past the maximum age */
static void failed(struct nf_post *p, struct settle *s)
{
    if (p->stale) {
        push(&s->ok, p); /* its deliveries come again: nothing to do */
        return;
    }
    if (timeutil_now_ms() - p->first_ms >= notify_conf.max_age)
        push(&s->dead, p);
    else
        push(&s->retry, p);
}

/* fail_early - an attempt that failed before its transfer (last_result says why) */
static void fail_early(struct nf_post *p, struct settle *s)
{
    if (p->first_ms == 0)
        p->first_ms = timeutil_now_ms();
    p->attempts++;
    failed(p, s);
}

/*
 * start - begin one attempt: 0 started, 1 not now (the account cannot be
 * read, the endpoint's name is being looked up), -1 failed at once (its
 * name does not resolve, its address is denied, it cannot be signed: the
 * post is in s).
 */
static int start(struct nf_post *p, struct settle *s)
{
    struct nf_account *a = NULL;
    enum tx_code rc = notify_ctx_account_get(p->account_id, &a);
    CURL *c;
    int r;

    if (rc == TX_RETRY_DB)
        return 1;
    p->denied = 0;
    r = notify_attempt_route(p);
    if (r > 0)
        return 1;
    if (r < 0 || notify_attempt_sign(p, a, rc) < 0) {
        fail_early(p, s);
        return -1;
    }
    c = notify_attempt_easy(p);
    if (curl_multi_add_handle(multi, c) != CURLM_OK)
        msg_fatal("curl_multi_add_handle failed");
    p->easy = c;
    p->started_mono = timeutil_mono_ms();
    if (p->first_ms == 0)
        p->first_ms = timeutil_now_ms();
    p->origin->inflight++;
    active++;
    p->next = inflight_posts;
    inflight_posts = p;
    return 0;
}

/* finished - classify the outcome of one attempt */
static void finished(CURL *c, CURLcode res, struct settle *s)
{
    struct nf_post *p = NULL;
    long status = 0;

    curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&p);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    for (struct nf_post **pp = &inflight_posts; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    p->next = NULL;
    curl_multi_remove_handle(multi, c);
    curl_easy_cleanup(c);
    notify_attempt_release(p);
    p->easy = NULL;
    p->origin->inflight--;
    active--;
    p->attempts++;
    metrics_latency(timeutil_mono_ms() - p->started_mono);
    if (notify_attempt_result(p, (int)res, status)) {
        push(&s->ok, p);
        return;
    }
    failed(p, s);
}

/* publish_later - retries and parked posts through the delay tiers, confirmed */
static void publish_later(struct nf_post *list, int parked)
{
    int n = 0, i = 0;
    struct mqpub_msg *m;
    char **bodies;

    for (struct nf_post *p = list; p; p = p->next)
        n++;
    if (n == 0)
        return;
    m = xcalloc((size_t)n, sizeof(*m));
    bodies = xcalloc((size_t)n, sizeof(*bodies));
    for (struct nf_post *p = list; p; p = p->next, i++) {
        size_t len;
        const char *tier;
        /* a parked POST did not fail: it comes back after the first delay */
        int64_t delay = notify_retry_delay(parked ? 1 : p->attempts);

        if (notify_retry_envelope(p, delay, &bodies[i], &len, &tier) < 0)
            msg_panic("cannot encode a webhook retry envelope");
        m[i] = (struct mqpub_msg){
            MQ_EXCHANGE_RETRY, tier, notify_conf.retry_queue, NULL, bodies[i], len, NULL};
    }
    batchloop_publish(m, n);
    for (i = 0; i < n; i++)
        free(bodies[i]);
    xfree(bodies);
    xfree(m);
    while (list) {
        struct nf_post *next = list->next;
        char why[340];
        ack_post(list);
        held -= list->ndlv;
        if (parked) {
            log_post(list, "parked", "endpoint busy");
            metrics_count("txmail_notify_posts_total", "outcome", "parked", 1);
        } else {
            snprintf(why, sizeof(why), "%s; retry in %llds", list->last_result,
                     (long long)(notify_retry_delay(list->attempts) / 1000));
            log_post(list, "deferred", why);
            metrics_count("txmail_notify_posts_total", "outcome", "failed", 1);
        }
        notify_http_post_free(list);
        list = next;
    }
}

static void settle_dead(void)
{
    struct nf_post *keep = NULL;

    while (dead_pending) {
        struct nf_post *p = dead_pending;
        dead_pending = p->next;
        if (notify_retry_dead_write(batchloop_db(), p) != TX_OK) {
            push(&keep, p);
            continue;
        }
        ack_post(p);
        dead_held -= p->ndlv;
        log_post(p, "dead", p->last_result);
        metrics_count("txmail_notify_posts_total", "outcome", "dead", 1);
        metrics_count("txmail_notify_notifications_total", "outcome", "dead",
                      (long long)json_array_size(p->rids));
        notify_http_post_free(p);
    }
    dead_pending = keep;
    if (keep) {
        msg_warn("database unavailable: dead letters kept in hand");
        dead_retry_at = timeutil_mono_ms() + NF_DEAD_RETRY_MS;
    }
}

static void settle(struct settle *s)
{
    while (s->ok) {
        struct nf_post *p = s->ok;
        s->ok = p->next;
        if (!p->stale) {
            ack_post(p);
            held -= p->ndlv;
            log_post(p, "sent", NULL);
            metrics_count("txmail_notify_posts_total", "outcome", "sent", 1);
            metrics_count("txmail_notify_notifications_total", "outcome", "sent",
                          (long long)json_array_size(p->rids));
        }
        notify_http_post_free(p);
    }
    publish_later(s->retry, 0);
    s->retry = NULL;
    while (s->dead) {
        struct nf_post *p = s->dead;
        s->dead = p->next;
        held -= p->ndlv;
        dead_held += p->ndlv;
        push(&dead_pending, p);
    }
    if (dead_pending && timeutil_mono_ms() >= dead_retry_at)
        settle_dead();
}

/* schedule - start what the limits allow; park what waited too long */
static void schedule(int mode, struct settle *s)
{
    int64_t now = timeutil_mono_ms();

    for (int b = 0; b < NF_EP_BUCKETS; b++) {
        struct nf_ep *e = eps[b];
        while (e) {
            struct nf_ep *enext = e->next;
            struct nf_post *p;
            while (fifo_count(&e->q) && e->inflight < notify_conf.endpoint_concurrency &&
                   active < notify_conf.concurrency) {
                p = fifo_pop(&e->q);
                if (start(p, s) > 0) { /* not now: back to the head of the queue */
                    fifo_push_front(&e->q, p);
                    break;
                }
            }
            while ((p = fifo_peek(&e->q)) != NULL) {
                int64_t waited = now - p->queued_mono;
                if (!(waited >= notify_conf.queue_wait || mode == 2 ||
                      (mode == 1 && waited >= NF_PRESSURE_WAIT_MS)))
                    break;
                push(&s->park, fifo_pop(&e->q));
            }
            e = enext;
        }
    }
}

int notify_http_run(int64_t budget_ms, int mode)
{
    struct settle s = {0};
    int running = 0, left;
    CURLMsg *msg;
    struct nf_post *parked;

    notify_dns_run();
    schedule(mode, &s);
    parked = s.park;
    s.park = NULL;
    publish_later(parked, 1);
    if (active == 0 && !notify_dns_pending()) {
        settle(&s); /* names that did not resolve */
        if (dead_pending && timeutil_mono_ms() >= dead_retry_at)
            settle_dead();
        ep_sweep();
        return 0;
    }
    curl_multi_perform(multi, &running);
    if ((running > 0 || notify_dns_pending()) && budget_ms > 0) {
        struct nf_waitfd dfd[16];
        struct curl_waitfd wfd[16];
        int nfds = 0, nd = notify_dns_fds(dfd, 16);
        for (int i = 0; i < nd; i++) {
            wfd[i].fd = dfd[i].fd;
            wfd[i].events = (short)((dfd[i].read ? CURL_WAIT_POLLIN : 0) |
                                    (dfd[i].write ? CURL_WAIT_POLLOUT : 0));
            wfd[i].revents = 0;
        }
        curl_multi_poll(multi, nd ? wfd : NULL, (unsigned)nd, (int)budget_ms, &nfds);
        notify_dns_run();
        curl_multi_perform(multi, &running);
    }
    while ((msg = curl_multi_info_read(multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE)
            finished(msg->easy_handle, msg->data.result, &s);
    settle(&s);
    ep_sweep();
    return active + notify_dns_pending();
}

void notify_http_lost(void)
{
    unsigned epoch = batchloop_epoch();

    for (int b = 0; b < NF_EP_BUCKETS; b++) {
        for (struct nf_ep *e = eps[b]; e; e = e->next) {
            struct nf_post *p = fifo_take(&e->q, 0, NULL), *next;
            for (; p; p = next) {
                next = p->next;
                if (p->ndlv && p->dlvs[0].epoch != epoch) {
                    held -= p->ndlv;
                    notify_http_post_free(p);
                } else {
                    fifo_push(&e->q, p);
                }
            }
        }
    }
    /* running transfers: let them finish, their outcome is moot */
    for (struct nf_post *p = inflight_posts; p; p = p->next)
        if (!p->stale && p->ndlv && p->dlvs[0].epoch != epoch) {
            p->stale = 1;
            held -= p->ndlv;
        }
    struct nf_post *keep = NULL;
    while (dead_pending) {
        struct nf_post *p = dead_pending;
        dead_pending = p->next;
        if (p->ndlv && p->dlvs[0].epoch != epoch) {
            dead_held -= p->ndlv;
            notify_http_post_free(p);
        } else {
            push(&keep, p);
        }
    }
    dead_pending = keep;
}
