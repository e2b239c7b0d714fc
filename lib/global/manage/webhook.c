/* webhook - endpoint, meta and retry envelope of a webhook POST; see webhook.h. */
#include "global/manage/webhook.h"
#include "global/envelope.h"
#include "global/runtime/delaytier.h"
#include "util/jsonget.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- endpoints ---------------------------------------------------------- */

void webhook_endpoint_free(struct webhook_endpoint *e)
{
    xfree(e->url);
    json_decref(e->headers);
    xfree(e->user);
    if (e->password)
        xwipestr(e->password);
    memset(e, 0, sizeof(*e));
}

void webhook_endpoint_copy(struct webhook_endpoint *dst, const struct webhook_endpoint *src)
{
    dst->url = src->url ? xstrdup(src->url) : NULL;
    dst->headers = src->headers ? json_deep_copy(src->headers) : NULL;
    dst->user = src->user ? xstrdup(src->user) : NULL;
    dst->password = src->password ? xstrdup(src->password) : NULL;
}

static int url_ok(const char *url)
{
    char origin[400];

    return url && strlen(url) <= WEBHOOK_URL_MAX &&
           webhook_origin(origin, sizeof(origin), url) == 0;
}

int webhook_endpoint_parse(struct webhook_endpoint *e, const char *text)
{
    json_t *doc, *ep, *auth, *h;
    const char *url;

    memset(e, 0, sizeof(*e));
    if (text == NULL || *text == 0)
        return -1;
    doc = json_loads(text, 0, NULL);
    ep = json_object_get(doc, "endPoint");
    if (!json_is_object(ep))
        ep = doc;
    url = json_string_value(json_object_get(ep, "url"));
    if (!json_is_object(ep) || !url_ok(url)) {
        json_decref(doc);
        return -1;
    }
    e->url = xstrdup(url);
    h = json_object_get(ep, "headers");
    if (json_is_object(h) && json_object_size(h) > 0)
        e->headers = json_incref(h);
    auth = json_object_get(ep, "authentication");
    if (json_is_object(auth) && json_string_value(json_object_get(auth, "user"))) {
        e->user = xstrdup(json_string_value(json_object_get(auth, "user")));
        if (json_string_value(json_object_get(auth, "password")))
            e->password = xstrdup(json_string_value(json_object_get(auth, "password")));
    }
    json_decref(doc);
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

int webhook_endpoint_account(struct webhook_endpoint *e, const char *url, const char *headers,
                             const char *user, const char *password)
{
    memset(e, 0, sizeof(*e));
    if (url == NULL || *url == 0)
        return 1;
    if (!url_ok(url))
        return -1;
    e->url = xstrdup(url);
    if (headers) {
        json_t *hd = json_loads(headers, 0, NULL);
        if (json_is_object(hd) && json_object_size(hd))
            e->headers = hd;
        else
            json_decref(hd);
    }
    e->user = dup_or_null(user);
    e->password = dup_or_null(password);
    return 0;
}

int webhook_origin(char *out, size_t outsz, const char *url)
{
    const char *p, *host, *end, *at;
    int https;
    size_t hlen;
    char hostbuf[300];
    const char *port = NULL;
    size_t plen = 0;

    if (strncasecmp(url, "http://", 7) == 0) {
        https = 0;
        p = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        https = 1;
        p = url + 8;
    } else {
        return -1;
    }
    end = p + strcspn(p, "/?#");
    at = memchr(p, '@', (size_t)(end - p));
    host = at ? at + 1 : p;
    if (*host == '[') {
        const char *rb = memchr(host, ']', (size_t)(end - host));
        if (rb == NULL)
            return -1;
        hlen = (size_t)(rb - host) + 1;
        if (rb + 1 < end && rb[1] == ':') {
            port = rb + 2;
            plen = (size_t)(end - port);
        }
    } else {
        const char *colon = memchr(host, ':', (size_t)(end - host));
        hlen = (size_t)((colon ? colon : end) - host);
        if (colon) {
            port = colon + 1;
            plen = (size_t)(end - port);
        }
    }
    if (hlen == 0 || hlen >= sizeof(hostbuf) || plen > 5)
        return -1;
    for (size_t i = 0; i < hlen; i++)
        hostbuf[i] = (char)tolower((unsigned char)host[i]);
    hostbuf[hlen] = 0;
    if (port && plen)
        snprintf(out, outsz, "%s://%s:%.*s", https ? "https" : "http", hostbuf, (int)plen, port);
    else
        snprintf(out, outsz, "%s://%s:%s", https ? "https" : "http", hostbuf, https ? "443" : "80");
    return 0;
}

/* ---- the POST ----------------------------------------------------------- */

static void set_opt(json_t *o, const char *k, const char *v)
{
    if (v && *v)
        json_object_set_new(o, k, json_string(v));
}

json_t *webhook_meta_json(const struct webhook_meta *m)
{
    json_t *meta = json_object();
    char ts[32];

    json_object_set_new(meta, "version", json_string("1"));
    json_object_set_new(meta, "jobId", json_string(m->job_id));
    json_object_set_new(meta, "account", json_string(m->account ? m->account : ""));
    json_object_set_new(meta, "customerNo", json_string(m->customer_no ? m->customer_no : ""));
    set_opt(meta, "tenant", m->tenant);
    json_object_set_new(meta, "receivedTs",
                        json_string(timeutil_iso8601(ts, sizeof(ts), m->received_ms)));
    set_opt(meta, "referenceJob", m->reference_job);
    set_opt(meta, "costCenter", m->cost_center);
    set_opt(meta, "campaignId", m->campaign_id);
    return meta;
}

char *webhook_body(json_t *meta, json_t *items, size_t *len)
{
    json_t *doc = json_object();
    char *out;

    json_object_set(doc, "meta", meta);
    json_object_set(doc, "notifications", items);
    out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (out)
        *len = strlen(out);
    return out;
}

/* ---- the retry envelope ------------------------------------------------- */

int webhook_retry_encode(const struct webhook_retry *w, const char *queue, int64_t delay_ms,
                         char **out, size_t *len, const char **tier)
{
    struct envelope e;
    int64_t tier_ms, now = timeutil_now_ms();
    json_t *auth = json_null();
    int rc;

    envelope_init(&e, "webhook");
    snprintf(e.job_id, sizeof(e.job_id), "%s", w->job_id);
    e.account_id = w->account_id;
    if (envelope_push_stage(&e, queue) < 0) {
        envelope_free(&e);
        return -1;
    }
    e.attempt = w->attempts;
    e.created_ms = w->first_ms ? w->first_ms : now;
    e.due_ms = now + delay_ms;
    if (w->ep.user) {
        auth = json_object();
        json_object_set_new(auth, "user", json_string(w->ep.user));
        json_object_set_new(auth, "password",
                            w->ep.password ? json_string(w->ep.password) : json_null());
    }
    json_object_set_new(e.data, "url", json_string(w->ep.url));
    json_object_set_new(e.data, "headers",
                        w->ep.headers ? json_incref(w->ep.headers) : json_null());
    json_object_set_new(e.data, "auth", auth);
    json_object_set_new(e.data, "jobId", json_string(w->job_id));
    json_object_set_new(e.data, "accountId", json_integer(w->account_id));
    json_object_set_new(e.data, "tags", json_incref(w->tags));
    json_object_set_new(e.data, "rids", json_incref(w->rids));
    json_object_set_new(e.data, "firstAttempt", json_integer(w->first_ms));
    json_object_set_new(e.data, "attempts", json_integer(w->attempts));
    json_object_set_new(e.data, "lastResult", json_string(w->last_result));
    envelope_set_raw(&e, w->body, w->len);
    rc = envelope_encode(&e, out, len);
    envelope_free(&e);
    *tier = delaytier_for(delay_ms, &tier_ms);
    return rc;
}

int webhook_retry_decode(struct webhook_retry *w, const void *body, size_t len, char *err,
                         size_t errsz)
{
    struct envelope e;
    json_t *d, *auth, *h, *tags, *rids;
    char origin[400];

    memset(w, 0, sizeof(*w));
    if (envelope_decode(&e, body, len, err, errsz) < 0)
        return -1;
    d = e.data;
    auth = json_object_get(d, "auth");
    h = json_object_get(d, "headers");
    tags = json_object_get(d, "tags");
    rids = json_object_get(d, "rids");
    if (strcmp(e.type, "webhook") != 0 || !jsonget_str(d, "url") ||
        webhook_origin(origin, sizeof(origin), jsonget_str(d, "url")) < 0 || !json_is_array(tags) ||
        !json_is_array(rids) || json_array_size(tags) != json_array_size(rids) ||
        !(h == NULL || json_is_null(h) || json_is_object(h)) ||
        !(auth == NULL || json_is_null(auth) ||
          (json_is_object(auth) && jsonget_str(auth, "user"))) ||
        !json_is_integer(json_object_get(d, "firstAttempt")) ||
        !json_is_integer(json_object_get(d, "attempts")) || e.raw_len == 0 ||
        strlen(e.job_id) > 36) {
        snprintf(err, errsz, "not a webhook retry envelope");
        envelope_free(&e);
        return -1;
    }
    w->account_id = e.account_id;
    snprintf(w->job_id, sizeof(w->job_id), "%s", e.job_id);
    w->ep.url = xstrdup(jsonget_str(d, "url"));
    w->ep.headers = json_is_object(h) ? json_incref(h) : NULL;
    if (json_is_object(auth)) {
        w->ep.user = xstrdup(jsonget_str(auth, "user"));
        w->ep.password =
            jsonget_str(auth, "password") ? xstrdup(jsonget_str(auth, "password")) : NULL;
    }
    w->body = xmemdup(e.raw, e.raw_len + 1);
    w->body[e.raw_len] = 0;
    w->len = e.raw_len;
    w->tags = json_incref(tags);
    w->rids = json_incref(rids);
    w->first_ms = json_integer_value(json_object_get(d, "firstAttempt"));
    w->attempts = (int)json_integer_value(json_object_get(d, "attempts"));
    snprintf(w->last_result, sizeof(w->last_result), "%s",
             jsonget_str(d, "lastResult") ? jsonget_str(d, "lastResult") : "");
    w->due_ms = e.due_ms;
    envelope_free(&e);
    return 0;
}

void webhook_retry_free(struct webhook_retry *w)
{
    webhook_endpoint_free(&w->ep);
    json_decref(w->tags);
    json_decref(w->rids);
    xfree(w->body);
    memset(w, 0, sizeof(*w));
}
