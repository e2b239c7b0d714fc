/*
 * track_http - the public HTTP endpoint of txmail-track (libmicrohttpd,
 * thread pool): /t/o/<token>.gif, /t/c/<token>, /t/u/<token>, /health,
 * /metrics. No database and no broker on the request path, except that
 * an unsubscribe waits for its event's confirm (track_events.c).
 */
#include "global/access/httpguard.h"
#include "global/metrics.h"
#include "producers/track/track.h"
#include "producers/track/track_tls.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POST_MAX 16384
#define CC_PIXEL "no-store, no-cache, must-revalidate, private"

static struct MHD_Daemon *daemon_;
static struct MHD_Response *gif_ok, *gif_gone, *not_found, *bad_method;
static struct track_list automated, trusted, metrics_allow, health_allow;
static struct httpguard *guard;
static struct track_flood *flood;
static char first_call_seen; /* con_cls of requests without POST state */

static const unsigned char gif[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};

static const char page_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"robots\" content=\"noindex, nofollow\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>Unsubscribe</title>"
    "<style>body{font-family:sans-serif;max-width:32em;margin:4em auto;padding:0 1em}"
    "button{font-size:1.1em;padding:.5em 1.5em}</style></head><body>\n";

/* per-request state of a POST */
struct post_state {
    struct MHD_PostProcessor *pp;
    char value[32]; /* the List-Unsubscribe field */
    size_t vlen;
    int seen, overflow;
    char raw[64]; /* the body when no form type was sent */
    size_t rawlen;
    size_t total;
};

/* ---------------------------------------------------------------- answers */

static struct MHD_Response *text_response(const char *body, const char *type, const char *cc)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);

    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
    return r;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, struct MHD_Response *r,
                              int destroy)
{
    enum MHD_Result rc = MHD_queue_response(c, status, r);

    if (destroy)
        MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result answer_page(struct MHD_Connection *c, unsigned status, const char *body)
{
    struct buf b = BUF_INIT(65536);

    buf_puts(&b, page_head);
    buf_puts(&b, body);
    buf_puts(&b, "\n</body></html>\n");
    struct MHD_Response *r = text_response(buf_ptr(&b), "text/html; charset=utf-8", "no-store");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Robots-Tag", "noindex, nofollow");
    buf_free(&b);
    return answer(c, status, r, 1);
}

/*
 * location - the URL for a Location header: bytes a header must not
 * carry raw (non-ASCII, space, quotes, ...) percent-encoded; the rest,
 * '%' included, as the sender wrote it
 */
static void location(struct buf *out, const char *u, size_t n)
{
    static const char hx[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)u[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"<>\\^`{|}", ch)) {
            char e[3] = {'%', hx[ch >> 4], hx[ch & 15]};
            buf_append(out, e, 3);
        } else {
            buf_putc(out, (char)ch);
        }
    }
}

/* ---------------------------------------------------------------- the request */

struct hit_ctx {
    struct MHD_Connection *c;
    struct sockaddr_storage addr; /* the client (after trusted proxies) */
    const char *ua;
    char ip[INET6_ADDRSTRLEN];
    int automated;
    char rid[RID_STR_LEN + 1];
};

static void client(struct MHD_Connection *c, struct hit_ctx *h)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    h->c = c;
    h->ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    track_client_addr(ci ? ci->client_addr : NULL,
                      MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For"), &trusted,
                      &h->addr);
    track_client_ip_truncated((struct sockaddr *)&h->addr, h->ip, sizeof(h->ip));
    h->automated = h->ua == NULL || *h->ua == 0 || track_client_agent_in(&automated, h->ua) ||
                   track_client_addr_in(&automated, (struct sockaddr *)&h->addr);
}

static void logline(const struct hit_ctx *h, const char *kind, unsigned status, const char *what)
{
    metrics_count("txmail_track_requests_total", "outcome", what, 1);
    if (!track_conf.log_requests)
        return;
    msg_info("%s: kind=%s, ip=%s, automated=%s, status=%u (%s)", h->rid[0] ? h->rid : "-", kind,
             h->ip, h->automated ? "yes" : "no", status, what);
}

/*
 * token_of - decode the token of a path as presented on the request's Host
 * (contract §15.5: a token verifies only on the host it was issued for);
 * -1 when it is not a genuine token of kind for that host. On success the
 * hit's log line carries the token's recipient id.
 */
static int token_of(struct MHD_Connection *c, struct hit_ctx *h, const char *tok, size_t len,
                    int kind, struct track_token *t, struct buf *s)
{
    char host[TRACK_HOST_MAX + 1];

    if (tracktoken_host(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST), host,
                        sizeof(host)) < 0 ||
        tracktoken_decode(track_keys, host, tok, len, t, s) < 0 || t->kind != kind)
        return -1;
    tracktoken_rid(h->rid, t);
    return 0;
}

/* bad_token - log and answer 404 for a path that holds no genuine token */
static enum MHD_Result bad_token(struct MHD_Connection *c, const struct hit_ctx *h,
                                 const char *kind)
{
    logline(h, kind, 404, "bad token");
    return answer(c, MHD_HTTP_NOT_FOUND, not_found, 0);
}

/*
 * record_hit - queue an open or click event (type) for token tok[0..len)
 * unless flood control holds it back; returns what the log line says:
 * the flood verdict, "event dropped" when the queue is full, else what
 */
static const char *record_hit(struct hit_ctx *h, const struct track_token *t, const char *type,
                              const char *tok, size_t len, const char *what)
{
    int64_t now = timeutil_now_ms();
    enum track_flood_verdict v =
        track_flood_check(flood, tok, len, h->automated, (struct sockaddr *)&h->addr, now);
    struct track_hit hit = {t, type, h->ua, h->ip, h->automated, now};

    if (v != TRACK_FLOOD_RECORD)
        return track_flood_name(v);
    if (track_events_push(&hit, 0) == TRACK_FULL)
        return "event dropped";
    return what;
}

static int expired(const struct track_token *t)
{
    return (int64_t)t->expiry * 1000 < timeutil_now_ms();
}

static enum MHD_Result do_open(struct MHD_Connection *c, const char *tok, int head)
{
    struct hit_ctx h = {0};
    struct track_token t;
    struct buf s = BUF_INIT(TRACK_TOKEN_MAX);
    size_t len = strlen(tok);
    enum MHD_Result rc;

    client(c, &h);
    if (len < 5 || strcmp(tok + len - 4, ".gif") != 0 ||
        token_of(c, &h, tok, len - 4, TRACK_OPEN, &t, &s) < 0) {
        rc = bad_token(c, &h, "open");
        goto out;
    }
    if (expired(&t)) {
        logline(&h, "open", 410, "expired");
        rc = answer(c, MHD_HTTP_GONE, gif_gone, 0);
        goto out;
    }
    const char *what = head ? "head" : record_hit(&h, &t, "OPENED", tok, len - 4, "opened");
    logline(&h, "open", 200, what);
    rc = answer(c, MHD_HTTP_OK, gif_ok, 0);
out:
    buf_free(&s);
    return rc;
}

static enum MHD_Result do_click(struct MHD_Connection *c, const char *tok, int head)
{
    struct hit_ctx h = {0};
    struct track_token t;
    struct buf s = BUF_INIT(TRACK_TOKEN_MAX), loc = BUF_INIT(4 * TRACK_URL_MAX);
    enum MHD_Result rc;
    const char *what = head ? "head" : "clicked";

    client(c, &h);
    if (token_of(c, &h, tok, strlen(tok), TRACK_CLICK, &t, &s) < 0) {
        rc = bad_token(c, &h, "click");
        goto out;
    }
    if (expired(&t)) {
        if (track_conf.expired_click_status == 410) {
            logline(&h, "click", 410, "expired");
            rc = answer_page(c, MHD_HTTP_GONE,
                             "<h1>Link expired</h1><p>This link is no longer valid.</p>");
            goto out;
        }
        what = "expired";
    } else if (!head) {
        /* the redirect is answered whatever becomes of the event */
        what = record_hit(&h, &t, "CLICKED", tok, strlen(tok), what);
    }
    location(&loc, t.url, t.url_len);
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, buf_ptr(&loc));
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    logline(&h, "click", 302, what);
    rc = answer(c, MHD_HTTP_FOUND, r, 1);
out:
    buf_free(&s);
    buf_free(&loc);
    return rc;
}

static enum MHD_Result post_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *filename, const char *content_type,
                                 const char *transfer_encoding, const char *data, uint64_t off,
                                 size_t size)
{
    struct post_state *ps = cls;

    (void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
    if (key == NULL || strcmp(key, "List-Unsubscribe") != 0)
        return MHD_YES;
    if (off == 0)
        ps->vlen = 0;
    ps->seen = 1;
    if (ps->vlen + size >= sizeof(ps->value)) {
        ps->overflow = 1;
        return MHD_YES;
    }
    memcpy(ps->value + ps->vlen, data, size);
    ps->vlen += size;
    ps->value[ps->vlen] = 0;
    return MHD_YES;
}

/* one_click - the body was List-Unsubscribe=One-Click (RFC 8058) */
static int one_click(const struct post_state *ps)
{
    if (ps->pp)
        return ps->seen && !ps->overflow && ps->vlen == 9 && memcmp(ps->value, "One-Click", 9) == 0;
    size_t n = ps->rawlen;
    while (n > 0 && (ps->raw[n - 1] == '\r' || ps->raw[n - 1] == '\n'))
        n--;
    return n == 26 && memcmp(ps->raw, "List-Unsubscribe=One-Click", 26) == 0;
}

static enum MHD_Result do_unsub(struct MHD_Connection *c, const char *tok, int post,
                                struct post_state *ps)
{
    struct hit_ctx h = {0};
    struct track_token t;
    struct buf s = BUF_INIT(TRACK_TOKEN_MAX), page = BUF_INIT(65536);
    enum MHD_Result rc;

    client(c, &h);
    if (token_of(c, &h, tok, strlen(tok), TRACK_UNSUB, &t, &s) < 0) {
        rc = bad_token(c, &h, "unsubscribe");
        goto out;
    }
    if (expired(&t)) {
        logline(&h, "unsubscribe", 410, "expired");
        rc = answer_page(c, MHD_HTTP_GONE,
                         "<h1>Link expired</h1><p>This unsubscribe link is no longer valid.</p>");
        goto out;
    }
    if (!post) {
        /* a GET never unsubscribes: link scanners prefetch */
        buf_puts(&page, "<h1>Unsubscribe</h1>\n<p>Do you want to stop receiving these emails?</p>\n"
                        "<form method=\"post\" action=\"/t/u/");
        buf_puts(&page, tok);
        buf_puts(&page, "\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
                        "<button type=\"submit\">Unsubscribe</button></form>");
        logline(&h, "unsubscribe", 200, "page");
        rc = answer_page(c, MHD_HTTP_OK, buf_ptr(&page));
        goto out;
    }
    if (ps == NULL || ps->total > POST_MAX || !one_click(ps)) {
        logline(&h, "unsubscribe", 400, "no one-click body");
        rc = answer_page(c, MHD_HTTP_BAD_REQUEST,
                         "<h1>Bad request</h1><p>Expected List-Unsubscribe=One-Click.</p>");
        goto out;
    }
    struct track_hit hit = {&t, "UNSUBSCRIBED", h.ua, h.ip, h.automated, timeutil_now_ms()};
    enum track_push pr = track_events_push(&hit, track_conf.unsubscribe_timeout_ms);
    if (pr != TRACK_CONFIRMED) {
        logline(&h, "unsubscribe", 503, pr == TRACK_FULL ? "event queue full" : "broker timeout");
        struct MHD_Response *r = text_response("Service unavailable, try again later.\n",
                                               "text/plain; charset=utf-8", "no-store");
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "60");
        rc = answer(c, MHD_HTTP_SERVICE_UNAVAILABLE, r, 1);
        goto out;
    }
    logline(&h, "unsubscribe", 200, "unsubscribed");
    rc = answer_page(c, MHD_HTTP_OK,
                     "<h1>Unsubscribed</h1><p>You will not receive these emails any more.</p>");
out:
    buf_free(&s);
    buf_free(&page);
    return rc;
}

static enum MHD_Result do_health(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char body[160];

    if (ci == NULL || !track_client_addr_in(&health_allow, ci->client_addr))
        return answer(c, MHD_HTTP_NOT_FOUND, not_found, 0);
    snprintf(body, sizeof(body), "{\"status\":\"ok\",\"broker\":\"%s\",\"queued\":%ld}\n",
             track_events_connected() ? "connected" : "disconnected", track_events_queued());
    return answer(c, MHD_HTTP_OK, text_response(body, "application/json", "no-store"), 1);
}

static enum MHD_Result do_metrics(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct buf b = BUF_INIT(1 << 20);

    if (ci == NULL || !track_client_addr_in(&metrics_allow, ci->client_addr))
        return answer(c, MHD_HTTP_NOT_FOUND, not_found, 0);
    metrics_gauge("txmail_track_events_queued", (double)track_events_queued());
    metrics_render(&b);
    struct MHD_Response *r = text_response(buf_ptr(&b), "text/plain; version=0.0.4", "no-store");
    buf_free(&b);
    return answer(c, MHD_HTTP_OK, r, 1);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    int head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

    (void)cls, (void)version;
    httpguard_headers_done(c);
    if (strncmp(url, "/t/u/", 5) == 0 && post) {
        struct post_state *ps = *con_cls;
        if (ps == NULL) {
            ps = xcalloc(1, sizeof(*ps));
            ps->pp = MHD_create_post_processor(c, 1024, post_iter, ps);
            *con_cls = ps;
            return MHD_YES;
        }
        if (*upload_size > 0) {
            ps->total += *upload_size;
            if (ps->total <= POST_MAX) {
                if (ps->pp)
                    MHD_post_process(ps->pp, upload, *upload_size);
                else if (ps->rawlen + *upload_size < sizeof(ps->raw)) {
                    memcpy(ps->raw + ps->rawlen, upload, *upload_size);
                    ps->rawlen += *upload_size;
                } else {
                    ps->rawlen = sizeof(ps->raw); /* too long to be the one-click body */
                }
            }
            *upload_size = 0;
            return MHD_YES;
        }
        return do_unsub(c, url + 5, 1, ps);
    }
    if (*con_cls == NULL) {
        /* the first call only sees the headers: answering now makes MHD
         * close the connection; answer on the second call (keep-alive) */
        *con_cls = &first_call_seen;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        *upload_size = 0; /* a body where none is expected is ignored */
        return MHD_YES;
    }
    if (!get && !head)
        return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, bad_method, 0);
    if (strncmp(url, "/t/o/", 5) == 0)
        return do_open(c, url + 5, head);
    if (strncmp(url, "/t/c/", 5) == 0)
        return do_click(c, url + 5, head);
    if (strncmp(url, "/t/u/", 5) == 0)
        return do_unsub(c, url + 5, 0, NULL);
    if (strcmp(url, "/health") == 0)
        return do_health(c);
    if (strcmp(url, "/metrics") == 0)
        return do_metrics(c);
    return answer(c, MHD_HTTP_NOT_FOUND, not_found, 0);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct post_state *ps = *con_cls;

    (void)cls, (void)toe;
    httpguard_request_done(c);
    if (ps && *con_cls != (void *)&first_call_seen) {
        if (ps->pp)
            MHD_destroy_post_processor(ps->pp);
        xfree(ps);
    }
    *con_cls = NULL;
}

/* no_unescape - the path as sent: a percent-encoded token is not canonical */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls, (void)c;
    return strlen(s);
}

static void panic_cb(void *cls, const char *file, unsigned line, const char *reason)
{
    (void)cls;
    msg_panic("libmicrohttpd: %s:%u: %s", file, line, reason ? reason : "");
}

/* parse_listen - "host:port" or "[v6]:port" */
static void parse_listen(const char *s, struct sockaddr_storage *ss, int *v6)
{
    char host[128];
    const char *colon;
    long port;
    char *end;

    memset(ss, 0, sizeof(*ss));
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (rb == NULL || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
            msg_fatal("track_listen: bad address %s", s);
        snprintf(host, sizeof(host), "%.*s", (int)(rb - s - 1), s + 1);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
            msg_fatal("track_listen: expected host:port, got %s", s);
        snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
    }
    port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        msg_fatal("track_listen: bad port in %s", s);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *v6 = 0;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *v6 = 1;
    } else {
        msg_fatal("track_listen: %s is not an IP address", host);
    }
}

void track_http_start(void)
{
    struct sockaddr_storage ss;
    char err[256];
    int v6 = 0;
    unsigned threads = (unsigned)track_conf.threads;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;

    if (track_client_list_parse(&automated, track_conf.automated_agents, 0, err, sizeof(err)) < 0)
        msg_fatal("track_automated_agents: %s", err);
    if (track_client_list_parse(&trusted, track_conf.trusted_proxies, 1, err, sizeof(err)) < 0)
        msg_fatal("track_trusted_proxies: %s", err);
    if (track_client_list_parse(&metrics_allow, track_conf.metrics_allow, 1, err, sizeof(err)) < 0)
        msg_fatal("track_metrics_allow: %s", err);
    if (track_client_list_parse(&health_allow, track_conf.health_allow, 1, err, sizeof(err)) < 0)
        msg_fatal("track_health_allow: %s", err);
    struct httpguard_conf gc = {"track", track_conf.max_per_client, track_conf.header_timeout_ms,
                                track_conf.trusted_proxies};
    guard = httpguard_create(&gc);
    struct track_flood_conf fc = {track_conf.dedup_window_ms, track_conf.token_events,
                                  track_conf.client_events, track_conf.flood_entries};
    flood = track_flood_create(&fc);
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 2;
    }
    parse_listen(track_conf.listen, &ss, &v6);
    if (v6)
        flags |= MHD_USE_IPv6;
    MHD_set_panic_func(panic_cb, NULL);

    gif_ok = MHD_create_response_from_buffer(sizeof(gif), (void *)gif, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(gif_ok, MHD_HTTP_HEADER_CONTENT_TYPE, "image/gif");
    MHD_add_response_header(gif_ok, MHD_HTTP_HEADER_CACHE_CONTROL, CC_PIXEL);
    MHD_add_response_header(gif_ok, MHD_HTTP_HEADER_PRAGMA, "no-cache");
    MHD_add_response_header(gif_ok, MHD_HTTP_HEADER_EXPIRES, "0");
    gif_gone = MHD_create_response_from_buffer(sizeof(gif), (void *)gif, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(gif_gone, MHD_HTTP_HEADER_CONTENT_TYPE, "image/gif");
    MHD_add_response_header(gif_gone, MHD_HTTP_HEADER_CACHE_CONTROL, CC_PIXEL);
    not_found = text_response("Not Found\n", "text/plain; charset=utf-8", "no-store");
    bad_method = text_response("Method Not Allowed\n", "text/plain; charset=utf-8", "no-store");
    MHD_add_response_header(bad_method, MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST");

    if (track_conf.tls) {
        flags |= MHD_USE_TLS;
        daemon_ = MHD_start_daemon(
            flags, 0, httpguard_accept, guard, handler, NULL, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)track_conf.connection_limit,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)((track_conf.read_timeout_ms + 999) / 1000),
            MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape,
            NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
            MHD_OPTION_HTTPS_CERT_CALLBACK, track_tls_callback(), MHD_OPTION_HTTPS_PRIORITIES,
            track_conf.tls_priorities, MHD_OPTION_NOTIFY_CONNECTION, httpguard_notify, guard,
            MHD_OPTION_END);
    } else {
        daemon_ = MHD_start_daemon(
            flags, 0, httpguard_accept, guard, handler, NULL, MHD_OPTION_SOCK_ADDR,
            (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)track_conf.connection_limit,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)((track_conf.read_timeout_ms + 999) / 1000),
            MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape,
            NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
            MHD_OPTION_NOTIFY_CONNECTION, httpguard_notify, guard, MHD_OPTION_END);
    }
    if (daemon_ == NULL)
        msg_fatal("cannot listen on %s", track_conf.listen);
    msg_info("listening on %s (%s, %u threads)", track_conf.listen,
             track_conf.tls ? "https" : "plain http", threads);
}

void track_http_stop(void)
{
    if (daemon_)
        MHD_stop_daemon(daemon_);
    daemon_ = NULL;
    httpguard_free(guard);
    guard = NULL;
    track_flood_free(flood);
    flood = NULL;
    MHD_destroy_response(gif_ok);
    MHD_destroy_response(gif_gone);
    MHD_destroy_response(not_found);
    MHD_destroy_response(bad_method);
    track_client_list_free(&automated);
    track_client_list_free(&trusted);
    track_client_list_free(&metrics_allow);
    track_client_list_free(&health_allow);
}
