/*
 * rest_http - the life of one HTTP request in txmail-rest, as MHD calls it:
 *
 *   rest_http_begin    the request line arrived: a request object, its
 *                      start time (read timeout) and its fresh id
 *   rest_http_handle   1st call (headers): route, then for the API the
 *                      checks of contract §6.3 that need no body, in
 *                      order: credentials and source IP (401), rate and
 *                      concurrency (429), Content-Length (413),
 *                      Content-Type (400), Idempotency-Key syntax (400);
 *                      next calls: the body, counted against the limit
 *                      while it arrives (a chunked body over the limit
 *                      gets 413 at once); last call: rest_intake()
 *   rest_http_done     the request ended (answered, timed out, client
 *                      gone): give back the concurrency slot, free.
 *
 * A request whose headers and body have not fully arrived within
 * rest_read_timeout is dropped without an answer (contract §3.1); the
 * header alone has rest_header_timeout from the connection's start or
 * the previous answer, enforced by the listener's guard (httpguard.h),
 * which also caps the connections per client address.
 */
#include "producers/rest/rest.h"
#include "producers/rest/rest_route.h"
#include "global/access/httpguard.h"
#include "global/metrics.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { R_NEW, R_BODY, R_ANSWERED };

static int active;

int rest_http_active(void)
{
    return __atomic_load_n(&active, __ATOMIC_RELAXED);
}

void *rest_http_begin(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct rest_req *r = xcalloc(1, sizeof(*r));
    struct uuid u;

    (void)uri;
    r->conn = c;
    r->tls = cls != NULL;
    r->started = timeutil_mono_ms();
    buf_init(&r->body, rest_conf.body_max);
    ids_uuid_v7(&u);
    ids_uuid_format(r->job_id, &u);
    __atomic_add_fetch(&active, 1, __ATOMIC_RELAXED);
    return r;
}

void rest_http_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    struct rest_req *r = *con_cls;

    (void)cls;
    httpguard_request_done(c);
    if (r == NULL)
        return;
    if (r->state != R_ANSWERED) {
        const char *why = httpguard_timed_out(c)                          ? "header timeout"
                          : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "read timeout"
                          : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT
                              ? "client closed the connection"
                          : toe == MHD_REQUEST_TERMINATED_READ_ERROR ? "read error"
                                                                     : "incomplete request";
        msg_info("%s: client=%s, status=dropped (%s)", r->job_id,
                 r->client_ip[0] ? r->client_ip : "-", why);
        metrics_count("txmail_rest_requests_total", "status", "dropped", 1);
    }
    if (r->limited)
        rest_limit_leave(r->acct.id);
    auth_account_free(&r->acct);
    if (r->body.data)
        explicit_bzero(r->body.data, r->body.len); /* may hold endpoint passwords */
    buf_free(&r->body);
    xfree(r);
    *con_cls = NULL;
    __atomic_sub_fetch(&active, 1, __ATOMIC_RELAXED);
}

/* content_type_ok - application/json, optionally with charset=utf-8 (contract §4.1) */
static int content_type_ok(const char *ct)
{
    const char *p = ct;

    if (p == NULL)
        return 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "application/json", 16) != 0)
        return 0;
    p += 16;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == 0)
            return 1;
        if (*p++ != ';')
            return 0;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *name = p;
        while (*p && *p != '=' && *p != ';' && *p != ' ')
            p++;
        size_t nlen = (size_t)(p - name);
        while (*p == ' ')
            p++;
        if (*p != '=')
            return 0;
        p++;
        while (*p == ' ')
            p++;
        char value[64];
        size_t vlen = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"' && vlen + 1 < sizeof(value))
                value[vlen++] = *p++;
            if (*p != '"')
                return 0;
            p++;
        } else {
            while (*p && *p != ';' && *p != ' ' && *p != '\t' && vlen + 1 < sizeof(value))
                value[vlen++] = *p++;
        }
        value[vlen] = 0;
        if (nlen == 7 && strncasecmp(name, "charset", 7) == 0 && strcasecmp(value, "utf-8") != 0 &&
            strcasecmp(value, "utf8") != 0)
            return 0;
    }
}

int rest_http_idem_key_ok(const char *k)
{
    size_t n = strlen(k);

    if (n < 1 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
            return 0;
    return 1;
}

/* under_base - url is base or base + "/..." */
static const char *under_base(const char *url)
{
    size_t n = strlen(rest_conf.base_path);

    if (strncmp(url, rest_conf.base_path, n) != 0 || (url[n] != 0 && url[n] != '/'))
        return NULL;
    return url + n;
}

static size_t body_limit(const struct rest_req *r)
{
    json_t *l = json_object_get(json_object_get(r->acct.settings, "limits"), "requestBytes");

    if (json_is_integer(l) && json_integer_value(l) > 0 &&
        (size_t)json_integer_value(l) < rest_conf.body_max)
        return (size_t)json_integer_value(l);
    return rest_conf.body_max;
}

static enum MHD_Result admin(struct rest_req *r, const char *method)
{
    static const struct rest_header allow[] = {{MHD_HTTP_HEADER_ALLOW, "GET, HEAD"}, {NULL, NULL}};

    if (!auth_ip_allowed(rest_conf.admin_clients, r->peer_ip))
        return rest_answer_error(r, 404, "NOT_FOUND", "Unknown path", NULL);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return rest_answer_error(r, 405, "METHOD_NOT_ALLOWED", "Method not allowed", allow);
    return r->route == ROUTE_HEALTH ? rest_health(r) : rest_health_metrics(r);
}

/* login_limited - 429: too many failed logins, or every KDF slot busy (retry_after set) */
static enum MHD_Result login_limited(struct rest_req *r, int jobs, enum tx_code rc)
{
    const char *d = rc == TX_RETRY_THROTTLED ? "Request rate limit exceeded"
                                             : "Concurrent request limit exceeded";
    char retry[16];

    snprintf(retry, sizeof(retry), "%d", r->retry_after > 0 ? r->retry_after : 1);
    const struct rest_header h[] = {{MHD_HTTP_HEADER_RETRY_AFTER, retry}, {NULL, NULL}};
    return jobs ? rest_answer_reject(r, 429, "LIMIT_EXCEEDED", d)
                : rest_answer_error(r, 429, "LIMIT_EXCEEDED", d, h);
}

/* limited - 429 of the account's rate or concurrency limit (rest_limit.h) */
static enum MHD_Result limited(struct rest_req *r, int jobs, enum rest_limit l)
{
    const char *d =
        l == REST_LIMIT_RATE ? "Request rate limit exceeded" : "Concurrent request limit exceeded";
    char retry[16];

    if (jobs)
        return rest_answer_reject(r, 429, "LIMIT_EXCEEDED", d);
    snprintf(retry, sizeof(retry), "%d", r->retry_after > 0 ? r->retry_after : 1);
    const struct rest_header h[] = {{MHD_HTTP_HEADER_RETRY_AFTER, retry}, {NULL, NULL}};
    return rest_answer_error(r, 429, "LIMIT_EXCEEDED", d, h);
}

/* endpoint - a route of rest_route.h, once authenticated: now, or after its body */
static enum MHD_Result endpoint(struct rest_req *r)
{
    if (r->rt->body_max == 0)
        return rest_route_run(r, r->rt);
    r->body.max = r->rt->body_max;
    r->state = R_BODY;
    return MHD_YES;
}

/* headers - the first call: everything decided before the body (contract §6.3 steps 1-5) */
static enum MHD_Result headers(struct rest_req *r, const char *url, const char *method)
{
    static const struct rest_header www[] = {
        {MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Basic realm=\"txmail\""}, {NULL, NULL}};
    const char *rest, *h;
    struct rest_conn *c;
    enum tx_code rc;
    char allow[64];

    r->state = R_ANSWERED;
    rest_auth_client(r);
    if (strcmp(url, "/health") == 0 || strcmp(url, "/metrics") == 0) {
        r->route = url[1] == 'h' ? ROUTE_HEALTH : ROUTE_METRICS;
        return admin(r, method);
    }
    if ((rest = under_base(url)) == NULL)
        return rest_answer_error(r, 404, "NOT_FOUND", "Unknown path", NULL);
    if (strcmp(rest, rest_conf.jobs_path) == 0) {
        r->route = ROUTE_JOBS;
        snprintf(allow, sizeof(allow), "POST");
    } else {
        size_t jn = strlen(rest_conf.jobs_path);
        char path[600];
        /* <jobs path>/{jobId} is the job's Location, whatever rest_jobs_path is */
        if (strncmp(rest, rest_conf.jobs_path, jn) == 0 && rest[jn] == '/')
            snprintf(path, sizeof(path), "/jobs%s", rest + jn);
        else
            snprintf(path, sizeof(path), "%s", rest);
        r->route = ROUTE_OTHER;
        r->rt = rest_route_find(method, path, r->param, sizeof(r->param), allow, sizeof(allow));
        if (r->rt && r->rt->open)
            return endpoint(r);
    }
    int jobs = r->route == ROUTE_JOBS && strcmp(method, "POST") == 0;
    /* 1. credentials and source address */
    c = rest_conn_take();
    rc = rest_auth_check(r, c);
    rest_conn_give(c);
    if (rc == TX_RETRY_DB)
        return jobs ? rest_answer_reject(r, 503, "INTERNAL_ERROR", "Internal error")
                    : rest_answer_error(r, 503, "INTERNAL_ERROR", "Internal error", NULL);
    if (rc == TX_RETRY_THROTTLED || rc == TX_RETRY_UNAVAILABLE) /* login limits (auth.h) */
        return login_limited(r, jobs, rc);
    if (rc != TX_OK)
        return jobs ? rest_answer_reject(r, 401, "UNAUTHORIZED", "Unauthorized")
                    : rest_answer_error(r, 401, "UNAUTHORIZED", "Unauthorized", www);
    /* 2. rate and concurrency */
    enum rest_limit lim = rest_limit_enter(&r->acct, &r->retry_after, &r->limited);
    if (lim != REST_LIMIT_OK)
        return limited(r, jobs, lim);
    if (!jobs && !r->rt && !allow[0])
        return rest_answer_error(r, 404, "NOT_FOUND", "Unknown path", NULL);
    if (!jobs && !r->rt) {
        const struct rest_header ah[] = {{MHD_HTTP_HEADER_ALLOW, allow}, {NULL, NULL}};
        return rest_answer_error(r, 405, "METHOD_NOT_ALLOWED", "Method not allowed", ah);
    }
    if (!jobs)
        return endpoint(r);
    /* 3. body size, as soon as it is announced */
    r->body.max = body_limit(r);
    h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (h) {
        char *end;
        unsigned long long cl = strtoull(h, &end, 10);
        if (end == h || *end || cl > r->body.max)
            return rest_answer_reject(r, 413, "LIMIT_EXCEEDED", "Request body size limit exceeded");
        /* room for what is announced, up to 1 MB: memory follows the bytes that arrive */
        if (cl > 0 && buf_reserve(&r->body, (size_t)(cl < (1 << 20) ? cl : (1 << 20))) < 0)
            return rest_answer_reject(r, 413, "LIMIT_EXCEEDED", "Request body size limit exceeded");
    }
    /* 4. media type */
    if (!content_type_ok(
            MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return rest_answer_reject(r, 400, "INVALID_FORMAT", "Invalid format for Content-Type");
    h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (h && strcasecmp(h, "identity") != 0)
        return rest_answer_reject(r, 400, "INVALID_FORMAT", "Invalid format for Content-Encoding");
    /* 5. Idempotency-Key syntax (the claim waits for the body) */
    h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
    if (h) {
        if (!rest_http_idem_key_ok(h))
            return rest_answer_reject(r, 400, "INVALID_VALUE", "Invalid value for Idempotency-Key");
        memcpy(r->idem_key, h, strlen(h) + 1);
        r->has_idem = 1;
    }
    r->state = R_BODY;
    return MHD_YES;
}

enum MHD_Result rest_http_handle(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    struct rest_req *r = *con_cls;

    (void)version;
    httpguard_headers_done(c);
    if (r == NULL)
        *con_cls = r = rest_http_begin(cls, url, c);
    r->conn = c;
    if (r->state != R_ANSWERED && timeutil_mono_ms() - r->started > rest_conf.read_timeout_ms) {
        msg_info("%s: client=%s, status=dropped (read timeout)", r->job_id,
                 r->client_ip[0] ? r->client_ip : "-");
        metrics_count("txmail_rest_requests_total", "status", "dropped", 1);
        r->state = R_ANSWERED;
        return MHD_NO;
    }
    switch (r->state) {
    case R_NEW:
        return headers(r, url, method);
    case R_BODY:
        if (*upload_data_size) {
            if (buf_append(&r->body, upload_data, *upload_data_size) < 0) {
                /* over the limit while reading (chunked, or more than announced) */
                r->state = R_ANSWERED;
                rest_answer_raw(r, 413, "LIMIT_EXCEEDED", "Request body size limit exceeded");
                return MHD_NO;
            }
            *upload_data_size = 0;
            return MHD_YES;
        }
        r->state = R_ANSWERED;
        int64_t t0 = timeutil_mono_ms();
        enum MHD_Result rc = r->rt ? rest_route_run(r, r->rt) : rest_intake(r);
        metrics_latency(timeutil_mono_ms() - t0);
        return rc;
    default:
        *upload_data_size = 0;
        return MHD_YES;
    }
}
