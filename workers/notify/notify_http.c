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
 * Each attempt: headers in the contract's order of precedence (§11.1),
 * a fresh X-Txmail-Signature, the same body; TLS verified, redirects not
 * followed, notify_timeout for the whole exchange. A post is never sent
 * unsigned or without its password: when the account's webhook secret
 * (or the endpoint's password) cannot be decrypted, or the account is
 * gone, the attempt fails ("cannot sign: ...") and takes the retry path.
 *
 * Where a POST may connect (notify_deny_networks, notify_allow_networks;
 * lib/global/netpolicy.h) is checked on the address actually connected
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
#include "global/batchloop.h"
#include "global/crypto.h"
#include "global/metrics.h"
#include "global/netpolicy.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NF_EP_BUCKETS 1024
#define NF_RESPONSE_MAX (1 << 20)
#define NF_PRESSURE_WAIT_MS 250
#define NF_DEAD_RETRY_MS 1000
#define NF_DENIED "address denied by policy (notify_deny_networks, notify_allow_networks)"

struct nf_ep {
    char origin[400];
    int inflight;
    struct nf_post *qhead, *qtail;
    struct nf_ep *next;
};

static CURLM *multi;
static struct nf_ep *eps[NF_EP_BUCKETS];
static int active;          /* transfers running */
static int held;            /* deliveries of queued and running posts */
static struct nf_post *inflight_posts; /* posts with a transfer, linked by next */
static struct nf_post *dead_pending;
static int dead_held;
static int64_t dead_retry_at;

void nf_post_free(struct nf_post *p)
{
    if (p == NULL)
        return;
    nf_endpoint_free(&p->ep);
    xfree(p->body);
    json_decref(p->rids);
    json_decref(p->tags);
    xfree(p->dlvs);
    xfree(p);
}

void nf_post_add_dlv(struct nf_post *p, unsigned epoch, uint64_t tag)
{
    if (p->ndlv == p->capdlv) {
        p->capdlv = p->capdlv ? p->capdlv * 2 : 8;
        p->dlvs = xrealloc(p->dlvs, sizeof(*p->dlvs) * (size_t)p->capdlv);
    }
    p->dlvs[p->ndlv].epoch = epoch;
    p->dlvs[p->ndlv].tag = tag;
    p->ndlv++;
}

void nf_http_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        msg_fatal("curl_global_init failed");
    multi = curl_multi_init();
    if (multi == NULL)
        msg_fatal("curl_multi_init failed");
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)(notify_conf.concurrency * 2));
    if (nf_dns_init() < 0)
        msg_fatal("cannot set up the resolver for dns_servers");
}

void nf_http_done(void)
{
    nf_dns_done();
    curl_multi_cleanup(multi);
    curl_global_cleanup();
}

int nf_http_busy(void)
{
    return held + dead_held;
}

/*
 * open_socket - curl's sockets: a connection to a denied address is never
 * made. Through notify_proxy every connection is to the proxy; its target
 * was checked and pinned by proxy_pin().
 */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct nf_post *p = arg;

    (void)purpose; /* IPCXN; ACCEPT is FTP only, and only http(s) is allowed */
    if (*notify_conf.proxy == 0 && !netpolicy_allowed(nf_policy, &a->addr)) {
        p->denied = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h % NF_EP_BUCKETS;
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
            if (e->inflight == 0 && e->qhead == NULL) {
                *pp = e->next;
                xfree(e);
            } else {
                pp = &e->next;
            }
        }
    }
}

void nf_http_submit(struct nf_post *p)
{
    char origin[400];

    if (nf_origin(origin, sizeof(origin), p->ep.url) < 0)
        msg_panic("submit of a post without a usable URL");
    p->origin = ep_get(origin);
    snprintf(p->origin_name, sizeof(p->origin_name), "%s", origin);
    p->queued_mono = time_mono_ms();
    p->next = NULL;
    if (p->origin->qtail)
        p->origin->qtail->next = p;
    else
        p->origin->qhead = p;
    p->origin->qtail = p;
    held += p->ndlv;
}

/* ---- logging ------------------------------------------------------------ */

static void log_post(const struct nf_post *p, const char *status, const char *why)
{
    size_t i;
    json_t *r;

    json_array_foreach(p->rids, i, r) {
        msg_info("%s: tag=%.16s url=%s attempts=%d status=%s%s%s%s",
                 json_string_value(r), json_string_value(json_array_get(p->tags, i)),
                 p->origin_name, p->attempts, status,
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
    if (time_now_ms() - p->first_ms >= notify_conf.max_age)
        push(&s->dead, p);
    else
        push(&s->retry, p);
}

/* ---- one attempt -------------------------------------------------------- */

static size_t discard(char *ptr, size_t size, size_t n, void *arg)
{
    struct nf_post *p = arg;

    (void)ptr;
    p->rcvd += size * n;
    return p->rcvd > NF_RESPONSE_MAX ? 0 : size * n;
}

static void wipe_list(struct curl_slist *l)
{
    for (struct curl_slist *s = l; s; s = s->next)
        explicit_bzero(s->data, strlen(s->data));
    curl_slist_free_all(l);
}

static struct curl_slist *add_header(struct curl_slist *l, const char *name, const char *value)
{
    struct buf line = BUF_INIT(20000);
    struct curl_slist *n = l;

    if (buf_printf(&line, "%s: %s", name, value) == 0) {
        n = curl_slist_append(l, line.data);
        if (n == NULL)
            msg_fatal("out of memory");
    }
    if (line.data)
        explicit_bzero(line.data, line.len);
    buf_free(&line);
    return n;
}

/*
 * build_headers - contract §11.1 order of precedence: our own headers,
 * then Basic authentication, then the custom ones that do not collide.
 */
static int build_headers(struct nf_post *p, const struct buf *sig, struct curl_slist **out)
{
    struct curl_slist *l = NULL;
    const char *name;
    json_t *v;
    size_t total = 0;
    int have_auth = p->ep.user != NULL, rc = 0;

    l = add_header(l, "Content-Type", "application/json");
    l = add_header(l, "User-Agent", NOTIFY_USER_AGENT);
    l = add_header(l, "X-Txmail-Signature", sig->data);
    if (have_auth) {
        struct buf plain = BUF_INIT(4096), basic = BUF_INIT(8192);
        const char *pw = p->ep.password;
        if (pw && strncmp(pw, "v1:", 3) == 0) {
            if (secret_decrypt(&plain, pw, strlen(pw)) < 0) {
                msg_warn("%s: cannot decrypt the endpoint password (master key?)", p->job_id);
                rc = -1;
            }
            pw = buf_ptr(&plain);
        }
        if (rc == 0 && nf_basic(&basic, p->ep.user, pw ? pw : "") == 0)
            l = add_header(l, "Authorization", basic.data);
        if (plain.data)
            explicit_bzero(plain.data, plain.len);
        if (basic.data)
            explicit_bzero(basic.data, basic.len);
        buf_free(&plain);
        buf_free(&basic);
    }
    json_object_foreach(p->ep.headers, name, v) {
        const char *s = json_string_value(v);
        if (s == NULL || !nf_header_name_ok(name) || !nf_header_value_ok(s) ||
            nf_header_reserved(name, have_auth))
            continue;
        total += strlen(name) + strlen(s);
        if (total > 10000)
            break;
        l = add_header(l, name, s);
    }
    l = add_header(l, "Expect", ""); /* no 100-continue round trip */
    *out = l;
    return rc;
}

/*
 * resolve_list - CURLOPT_RESOLVE for the endpoint when dns_servers
 * resolves it: 0 (set or not needed), 1 (lookup running: later), -1
 * (failed: last_result says why)
 */
static int resolve_list(struct nf_post *p)
{
    const char *hp = strstr(p->origin_name, "://"), *colon, *addrs = NULL, *err = NULL;
    char host[300], line[1000];

    p->resolve = NULL;
    if (hp == NULL || (colon = strrchr(hp + 3, ':')) == NULL)
        return 0;
    hp += 3;
    snprintf(host, sizeof(host), "%.*s", (int)(colon - hp), hp);
    if (host[0] == '[') /* an IPv6 literal: nothing to resolve */
        return 0;
    switch (nf_dns_get(host, &addrs, &err)) {
    case NF_DNS_OFF:
        return 0;
    case NF_DNS_PENDING:
        return 1;
    case NF_DNS_FAILED:
        snprintf(p->last_result, sizeof(p->last_result), "connect error: %s", err);
        return -1;
    case NF_DNS_READY:
        break;
    }
    snprintf(line, sizeof(line), "%s:%s:%s", host, colon + 1, addrs);
    p->resolve = curl_slist_append(NULL, line);
    if (p->resolve == NULL)
        msg_fatal("out of memory");
    return 0;
}

/* is_literal - host is an IP address (IPv6 without brackets) */
static int is_literal(const char *host)
{
    unsigned char b[16];

    return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/*
 * proxy_pin - through notify_proxy: resolve the endpoint's host (as curl
 * parses the URL), keep the first address the policy allows and have the
 * proxy tunnel to that address. 0 (pinned), 1 (lookup running: later),
 * -1 (failed or denied: last_result says why)
 */
static int proxy_pin(struct nf_post *p)
{
    CURLU *u = curl_url();
    char *uhost = NULL, *uport = NULL, host[300], line[600], pick[INET6_ADDRSTRLEN + 2] = "";
    const char *addrs = NULL, *err = NULL;
    int rc = -1;

    p->connect_to = NULL;
    if (u == NULL)
        msg_fatal("out of memory");
    if (curl_url_set(u, CURLUPART_URL, p->ep.url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &uhost, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &uport, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        strlen(uhost) >= sizeof(host)) {
        snprintf(p->last_result, sizeof(p->last_result), "connect error: unusable URL");
        goto out;
    }
    if (uhost[0] == '[')
        snprintf(host, sizeof(host), "%.*s", (int)strcspn(uhost + 1, "]"), uhost + 1);
    else
        snprintf(host, sizeof(host), "%s", uhost);
    if (is_literal(host)) {
        addrs = host;
    } else {
        switch (nf_dns_get(host, &addrs, &err)) {
        case NF_DNS_PENDING:
            rc = 1;
            goto out;
        case NF_DNS_OFF:
            err = "no resolver";
            /* FALLTHROUGH */
        case NF_DNS_FAILED:
            snprintf(p->last_result, sizeof(p->last_result), "connect error: %s", err);
            goto out;
        case NF_DNS_READY:
            break;
        }
    }
    /* "a,[b],...": the first allowed address */
    for (const char *a = addrs; *a && !pick[0];) {
        size_t n = strcspn(a, ",");
        char one[INET6_ADDRSTRLEN + 2];
        if (n < sizeof(one)) {
            snprintf(one, sizeof(one), "%.*s", (int)n, a[0] == '[' ? a + 1 : a);
            one[strcspn(one, "]")] = 0;
            if (netpolicy_allowed_text(nf_policy, one))
                snprintf(pick, sizeof(pick), strchr(one, ':') ? "[%s]" : "%s", one);
        }
        a += n + (a[n] == ',');
    }
    if (!pick[0]) {
        p->denied = 1;
        snprintf(p->last_result, sizeof(p->last_result), "connect error: " NF_DENIED);
        goto out;
    }
    snprintf(line, sizeof(line), "::%s:%s", pick, uport);
    p->connect_to = curl_slist_append(NULL, line);
    if (p->connect_to == NULL)
        msg_fatal("out of memory");
    rc = 0;
out:
    curl_free(uhost);
    curl_free(uport);
    curl_url_cleanup(u);
    return rc;
}

/* fail_early - an attempt that failed before its transfer (last_result says why) */
static void fail_early(struct nf_post *p, struct settle *s)
{
    if (p->first_ms == 0)
        p->first_ms = time_now_ms();
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
    struct buf s1 = BUF_INIT(4096), s2 = BUF_INIT(4096), sig = BUF_INIT(1024);
    enum tx_code rc = nf_account_get(p->account_id, &a);
    struct curl_slist *hdrs = NULL;
    CURL *c;
    int r, nsec = -1;

    if (rc == TX_RETRY_DB)
        return 1;
    p->denied = 0;
    r = *notify_conf.proxy ? proxy_pin(p) : resolve_list(p);
    if (r > 0)
        return 1;
    if (r < 0) {
        fail_early(p, s);
        return -1;
    }
    if (rc == TX_OK)
        nsec = nf_secrets(a, &s1, &s2);
    if (nsec >= 0)
        nf_signature(&sig, time_now_ms() / 1000, &s1, &s2, p->body, p->len);
    if (s1.data)
        explicit_bzero(s1.data, s1.len);
    if (s2.data)
        explicit_bzero(s2.data, s2.len);
    buf_free(&s1);
    buf_free(&s2);
    if (nsec >= 0 && build_headers(p, &sig, &hdrs) < 0) {
        nsec = -2;
        wipe_list(hdrs);
    }
    buf_free(&sig);
    if (nsec < 0) {
        snprintf(p->last_result, sizeof(p->last_result), "cannot sign: %s",
                 nsec == -2 ? "the endpoint password cannot be decrypted"
                 : rc == TX_OK ? "the webhook secret cannot be decrypted"
                               : "the account does not exist");
        msg_warn("%s: account %lld: %s; not posted unsigned", p->job_id, p->account_id,
                 p->last_result);
        curl_slist_free_all(p->resolve);
        p->resolve = NULL;
        curl_slist_free_all(p->connect_to);
        p->connect_to = NULL;
        fail_early(p, s);
        return -1;
    }
    c = curl_easy_init();
    if (c == NULL)
        msg_fatal("curl_easy_init failed");
    p->hdrs = hdrs;
    p->errbuf[0] = 0;
    p->rcvd = 0;
    curl_easy_setopt(c, CURLOPT_URL, p->ep.url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, (struct curl_slist *)p->hdrs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)notify_conf.timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)notify_conf.timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (notify_conf.ca_file && *notify_conf.ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, notify_conf.ca_file);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, p->errbuf);
    curl_easy_setopt(c, CURLOPT_PRIVATE, p);
    if (p->resolve)
        curl_easy_setopt(c, CURLOPT_RESOLVE, (struct curl_slist *)p->resolve);
    curl_easy_setopt(c, CURLOPT_PROXY, notify_conf.proxy); /* "" : none, whatever the environment says */
    if (p->connect_to) {
        /* through the proxy: a tunnel to the checked address, for every host (no_proxy ignored) */
        curl_easy_setopt(c, CURLOPT_NOPROXY, "");
        curl_easy_setopt(c, CURLOPT_HTTPPROXYTUNNEL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECT_TO, (struct curl_slist *)p->connect_to);
    }
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, p);
    if (curl_multi_add_handle(multi, c) != CURLM_OK)
        msg_fatal("curl_multi_add_handle failed");
    p->easy = c;
    p->started_mono = time_mono_ms();
    if (p->first_ms == 0)
        p->first_ms = time_now_ms();
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
    wipe_list(p->hdrs);
    p->hdrs = NULL;
    curl_slist_free_all(p->resolve);
    p->resolve = NULL;
    curl_slist_free_all(p->connect_to);
    p->connect_to = NULL;
    p->easy = NULL;
    p->origin->inflight--;
    active--;
    p->attempts++;
    metrics_latency(time_mono_ms() - p->started_mono);
    if ((res == CURLE_OK || (res == CURLE_WRITE_ERROR && p->rcvd > NF_RESPONSE_MAX)) &&
        status >= 200 && status < 300) {
        push(&s->ok, p);
        return;
    }
    if (res == CURLE_OK || (res == CURLE_WRITE_ERROR && status > 0))
        snprintf(p->last_result, sizeof(p->last_result), "HTTP %ld", status);
    else if (p->denied)
        snprintf(p->last_result, sizeof(p->last_result), "connect error: " NF_DENIED);
    else if (res == CURLE_OPERATION_TIMEDOUT)
        snprintf(p->last_result, sizeof(p->last_result), "timeout");
    else
        snprintf(p->last_result, sizeof(p->last_result), "connect error: %.250s",
                 p->errbuf[0] ? p->errbuf : curl_easy_strerror(res));
    failed(p, s);
}

/* publish_later - retries and parked posts through the delay tiers, confirmed */
static void publish_later(struct nf_post *list, int parked)
{
    int n = 0, i = 0;
    struct batchloop_msg *m;
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
        int64_t delay = nf_retry_delay(parked ? 1 : p->attempts);

        if (nf_retry_envelope(p, delay, &bodies[i], &len, &tier) < 0)
            msg_panic("cannot encode a webhook retry envelope");
        m[i] = (struct batchloop_msg){MQ_EXCHANGE_RETRY, tier, notify_conf.retry_queue, NULL,
                                      bodies[i], len};
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
                     (long long)(nf_retry_delay(list->attempts) / 1000));
            log_post(list, "deferred", why);
            metrics_count("txmail_notify_posts_total", "outcome", "failed", 1);
        }
        nf_post_free(list);
        list = next;
    }
}

static void settle_dead(void)
{
    struct nf_post *keep = NULL;

    while (dead_pending) {
        struct nf_post *p = dead_pending;
        dead_pending = p->next;
        if (nf_dead_write(batchloop_db(), p) != TX_OK) {
            push(&keep, p);
            continue;
        }
        ack_post(p);
        dead_held -= p->ndlv;
        log_post(p, "dead", p->last_result);
        metrics_count("txmail_notify_posts_total", "outcome", "dead", 1);
        metrics_count("txmail_notify_notifications_total", "outcome", "dead",
                      (long long)json_array_size(p->rids));
        nf_post_free(p);
    }
    dead_pending = keep;
    if (keep) {
        msg_warn("database unavailable: dead letters kept in hand");
        dead_retry_at = time_mono_ms() + NF_DEAD_RETRY_MS;
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
        nf_post_free(p);
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
    if (dead_pending && time_mono_ms() >= dead_retry_at)
        settle_dead();
}

/* schedule - start what the limits allow; park what waited too long */
static void schedule(int mode, struct settle *s)
{
    int64_t now = time_mono_ms();

    for (int b = 0; b < NF_EP_BUCKETS; b++) {
        struct nf_ep *e = eps[b];
        while (e) {
            struct nf_ep *enext = e->next;
            while (e->qhead && e->inflight < notify_conf.endpoint_concurrency &&
                   active < notify_conf.concurrency) {
                struct nf_post *p = e->qhead;
                e->qhead = p->next;
                if (e->qhead == NULL)
                    e->qtail = NULL;
                p->next = NULL;
                int r = start(p, s);
                if (r > 0) { /* not now: back to the head of the queue */
                    p->next = e->qhead;
                    e->qhead = p;
                    if (e->qtail == NULL)
                        e->qtail = p;
                    break;
                }
            }
            while (e->qhead) {
                struct nf_post *p = e->qhead;
                int64_t waited = now - p->queued_mono;
                if (!(waited >= notify_conf.queue_wait || mode == 2 ||
                      (mode == 1 && waited >= NF_PRESSURE_WAIT_MS)))
                    break;
                e->qhead = p->next;
                if (e->qhead == NULL)
                    e->qtail = NULL;
                push(&s->park, p);
            }
            e = enext;
        }
    }
}

int nf_http_run(int64_t budget_ms, int mode)
{
    struct settle s = {0};
    int running = 0, left;
    CURLMsg *msg;
    struct nf_post *parked;

    nf_dns_run();
    schedule(mode, &s);
    parked = s.park;
    s.park = NULL;
    publish_later(parked, 1);
    if (active == 0 && !nf_dns_pending()) {
        settle(&s); /* names that did not resolve */
        if (dead_pending && time_mono_ms() >= dead_retry_at)
            settle_dead();
        ep_sweep();
        return 0;
    }
    curl_multi_perform(multi, &running);
    if ((running > 0 || nf_dns_pending()) && budget_ms > 0) {
        struct nf_waitfd dfd[16];
        struct curl_waitfd wfd[16];
        int nfds = 0, nd = nf_dns_fds(dfd, 16);
        for (int i = 0; i < nd; i++) {
            wfd[i].fd = dfd[i].fd;
            wfd[i].events = (short)((dfd[i].read ? CURL_WAIT_POLLIN : 0) |
                                    (dfd[i].write ? CURL_WAIT_POLLOUT : 0));
            wfd[i].revents = 0;
        }
        curl_multi_poll(multi, nd ? wfd : NULL, (unsigned)nd, (int)budget_ms, &nfds);
        nf_dns_run();
        curl_multi_perform(multi, &running);
    }
    while ((msg = curl_multi_info_read(multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE)
            finished(msg->easy_handle, msg->data.result, &s);
    settle(&s);
    ep_sweep();
    return active + nf_dns_pending();
}

void nf_http_lost(void)
{
    unsigned epoch = batchloop_epoch();

    for (int b = 0; b < NF_EP_BUCKETS; b++) {
        for (struct nf_ep *e = eps[b]; e; e = e->next) {
            struct nf_post **pp = &e->qhead, *last = NULL;
            while (*pp) {
                struct nf_post *p = *pp;
                if (p->ndlv && p->dlvs[0].epoch != epoch) {
                    *pp = p->next;
                    held -= p->ndlv;
                    nf_post_free(p);
                } else {
                    last = p;
                    pp = &p->next;
                }
            }
            e->qtail = last;
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
            nf_post_free(p);
        } else {
            push(&keep, p);
        }
    }
    dead_pending = keep;
}
