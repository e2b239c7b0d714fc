/* smtpd_headers - X-RETARUS-M4A-* headers; see smtpd_headers.h. */
#include "smtpd_headers.h"
#include "smtpd_mime.h"
#include "global/crypto.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define M4A_URL_MAX 1000
#define M4A_HEADERS_MAX 1000
#define M4A_AUTH_MAX 100
#define M4A_REF_MAX 50

enum m4a_kind {
    H_URL,
    H_HEADER,
    H_METHOD,
    H_USER,
    H_PASSWORD,
    H_REFERENCE,
    H_CAMPAIGN,
    H_COST,
    H_AV,
    H_TR,
    H_SIGN,
};

static const struct {
    const char *suffix;
    enum m4a_kind kind;
} known[] = {
    {"NOTIFICATION-URL", H_URL},
    {"NOTIFICATION-HEADER", H_HEADER},
    {"NOTIFICATION-AUTH-METHOD", H_METHOD},
    {"NOTIFICATION-AUTH-USER", H_USER},
    {"NOTIFICATION-AUTH-PASSWORD", H_PASSWORD},
    {"REFERENCE", H_REFERENCE},
    {"CAMPAIGN-ID", H_CAMPAIGN},
    {"COST-CENTER", H_COST},
    {"ANTIVIRUS-ACTIVE", H_AV},
    {"TRACE-RECOVER-ACTIVE", H_TR},
    {"MESSAGE-SIGNING-ACTIVE", H_SIGN},
    {NULL, 0},
};

/* header names a notification endpoint may not set (as REST, contract §4.11) */
static const char *const refused_names[] = {
    "Host",       "Content-Length",     "Content-Type", "Transfer-Encoding",
    "Connection", "X-Txmail-Signature", NULL,
};

void smtpd_headers_m4a_init(struct smtpd_m4a *m)
{
    memset(m, 0, sizeof(*m));
    m->antivirus = m->trace_recover = m->message_signing = -1;
}

void smtpd_headers_m4a_free(struct smtpd_m4a *m)
{
    if (m == NULL)
        return;
    xfree(m->url);
    json_decref(m->headers);
    xfree(m->auth_method);
    xfree(m->auth_user);
    xwipestr(m->auth_password);
    xfree(m->reference);
    xfree(m->campaign_id);
    xfree(m->cost_center);
    smtpd_headers_m4a_init(m);
}

int smtpd_headers_m4a_is(const char *name, size_t len)
{
    size_t p = sizeof(SMTPD_M4A_PREFIX) - 1;

    return len >= p && strncasecmp(name, SMTPD_M4A_PREFIX, p) == 0;
}

static int invalid(const char *suffix, char *reply, size_t rsz)
{
    snprintf(reply, rsz, "554 5.6.0 Invalid value for " SMTPD_M4A_PREFIX "%s", suffix);
    return -1;
}

static int missing(const char *suffix, char *reply, size_t rsz)
{
    snprintf(reply, rsz, "554 5.6.0 Missing mandatory value for " SMTPD_M4A_PREFIX "%s", suffix);
    return -1;
}

/* text_ok - valid UTF-8 without control characters, at most max code points */
static int text_ok(const char *s, size_t n, size_t max)
{
    if (!codec_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return codec_utf8_count(s, n) <= max;
}

static int url_ok(const char *u, size_t n)
{
    size_t i;

    if (n == 0 || n > M4A_URL_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)u[i] <= 0x20 || (unsigned char)u[i] >= 0x7f)
            return 0;
    if (n > 7 && strncasecmp(u, "http://", 7) == 0)
        i = 7;
    else if (n > 8 && strncasecmp(u, "https://", 8) == 0)
        i = 8;
    else
        return 0;
    /* a host: something before the path, query or fragment, not only userinfo or a port */
    size_t h = i;
    while (i < n && u[i] != '/' && u[i] != '?' && u[i] != '#')
        i++;
    const char *host = u + h;
    size_t hl = i - h;
    const char *at = memchr(host, '@', hl);
    if (at) {
        hl -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    return hl > 0 && host[0] != ':';
}

static int tchar(int c)
{
    return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* take_header - one NOTIFICATION-HEADER "key=value" */
static int take_header(struct smtpd_m4a *m, const char *v, size_t n)
{
    const char *eq = memchr(v, '=', n);
    size_t kl, vl;
    const char *k, *val;

    if (eq == NULL || !codec_utf8_valid(v, n))
        return -1;
    m->headers_total += codec_utf8_count(v, n);
    if (m->headers_total > M4A_HEADERS_MAX)
        return -1;
    k = v;
    kl = (size_t)(eq - v);
    while (kl > 0 && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
        kl--;
    val = eq + 1;
    vl = n - (size_t)(val - v);
    while (vl > 0 && (*val == ' ' || *val == '\t'))
        val++, vl--;
    if (kl == 0 || kl > 256)
        return -1;
    for (size_t i = 0; i < kl; i++)
        if (!tchar((unsigned char)k[i]))
            return -1;
    for (int i = 0; refused_names[i]; i++)
        if (strlen(refused_names[i]) == kl && strncasecmp(refused_names[i], k, kl) == 0)
            return -1;
    for (size_t i = 0; i < vl; i++)
        if (((unsigned char)val[i] < 0x20 && val[i] != '\t') || val[i] == 0x7f)
            return -1;
    if (m->headers == NULL)
        m->headers = json_object();
    /* duplicate keys (case-insensitive): the first occurrence is used */
    const char *key;
    json_t *jv;
    json_object_foreach (m->headers, key, jv) {
        if (strlen(key) == kl && strncasecmp(key, k, kl) == 0)
            return 0;
    }
    char *kz = xstrndup(k, kl);
    json_object_set_new(m->headers, kz, json_stringn(val, vl));
    xfree(kz);
    return 0;
}

int smtpd_headers_m4a_field(struct smtpd_m4a *m, const char *name, size_t nlen, const char *value,
                            size_t vlen, char *reply, size_t rsz)
{
    size_t p = sizeof(SMTPD_M4A_PREFIX) - 1;
    struct buf v = BUF_INIT(1 << 20), dec = BUF_INIT(1 << 20);
    const char *suffix = NULL;
    enum m4a_kind kind = H_URL;
    int rc = 0;

    if (!smtpd_headers_m4a_is(name, nlen))
        return 0;
    for (int i = 0; known[i].suffix; i++)
        if (strlen(known[i].suffix) == nlen - p &&
            strncasecmp(name + p, known[i].suffix, nlen - p) == 0) {
            suffix = known[i].suffix;
            kind = known[i].kind;
        }
    if (suffix == NULL) /* unknown: ignored (and removed by the caller) */
        return 0;
    if (kind != H_HEADER && (m->seen & (1u << kind)))
        return 0; /* later occurrences are ignored */
    m->seen |= 1u << kind;
    smtpd_mime_unfold(value, vlen, &v);
    const char *s = buf_ptr(&v);
    size_t n = v.len;
    switch (kind) {
    case H_URL:
        if (!url_ok(s, n))
            rc = invalid(suffix, reply, rsz);
        else
            m->url = xstrndup(s, n);
        break;
    case H_HEADER:
        m->nheaders++;
        if (take_header(m, s, n) < 0)
            rc = invalid(suffix, reply, rsz);
        break;
    case H_METHOD:
        if (n != 5 || strncasecmp(s, "BASIC", 5) != 0)
            rc = invalid(suffix, reply, rsz);
        else
            m->auth_method = xstrdup("BASIC");
        break;
    case H_USER:
    case H_PASSWORD:
        if (!text_ok(s, n, M4A_AUTH_MAX))
            rc = invalid(suffix, reply, rsz);
        else if (n > 0) {
            if (kind == H_USER)
                m->auth_user = xstrndup(s, n);
            else
                m->auth_password = xstrndup(s, n);
        }
        break;
    case H_REFERENCE:
    case H_CAMPAIGN:
    case H_COST:
        smtpd_mime_decode2047(s, n, &dec);
        if (!text_ok(buf_ptr(&dec), dec.len, M4A_REF_MAX))
            rc = invalid(suffix, reply, rsz);
        else if (dec.len > 0) {
            char *t = xstrndup(buf_ptr(&dec), dec.len);
            if (kind == H_REFERENCE)
                m->reference = t;
            else if (kind == H_CAMPAIGN)
                m->campaign_id = t;
            else
                m->cost_center = t;
        }
        break;
    case H_AV:
    case H_TR:
    case H_SIGN: {
        int b = -1;
        if (n == 4 && strncasecmp(s, "true", 4) == 0)
            b = 1;
        else if (n == 5 && strncasecmp(s, "false", 5) == 0)
            b = 0;
        if (b < 0)
            rc = invalid(suffix, reply, rsz);
        else if (kind == H_AV)
            m->antivirus = b;
        else if (kind == H_TR)
            m->trace_recover = b;
        else
            m->message_signing = b;
        break;
    }
    }
    if (v.data)
        explicit_bzero(v.data, v.len);
    buf_free(&v);
    buf_free(&dec);
    return rc;
}

int smtpd_headers_m4a_any_notification(const struct smtpd_m4a *m)
{
    unsigned mask = 1u << H_URL | 1u << H_HEADER | 1u << H_METHOD | 1u << H_USER | 1u << H_PASSWORD;

    return (m->seen & mask) != 0;
}

int smtpd_headers_m4a_complete(const struct smtpd_m4a *m, char *reply, size_t rsz)
{
    if (!smtpd_headers_m4a_any_notification(m))
        return 0;
    if (m->url == NULL)
        return missing("NOTIFICATION-URL", reply, rsz);
    if (m->auth_method) {
        if (m->auth_user == NULL)
            return missing("NOTIFICATION-AUTH-USER", reply, rsz);
        if (m->auth_password == NULL)
            return missing("NOTIFICATION-AUTH-PASSWORD", reply, rsz);
    } else if (m->auth_user || m->auth_password || (m->seen & (1u << H_USER | 1u << H_PASSWORD))) {
        return missing("NOTIFICATION-AUTH-METHOD", reply, rsz);
    }
    return 0;
}

int smtpd_headers_m4a_endpoint(const struct smtpd_m4a *m, char **out)
{
    json_t *ep;
    int rc = 0;

    *out = NULL;
    if (!smtpd_headers_m4a_any_notification(m) || m->url == NULL)
        return 0;
    ep = json_object();
    json_object_set_new(ep, "url", json_string(m->url));
    if (m->headers && json_object_size(m->headers))
        json_object_set_new(ep, "headers", json_incref(m->headers));
    if (m->auth_method) {
        struct buf enc = BUF_INIT(4096);
        if (crypto_secret_encrypt(&enc, m->auth_password, strlen(m->auth_password)) < 0) {
            rc = -1;
        } else {
            json_t *a = json_object();
            json_object_set_new(a, "method", json_string(m->auth_method));
            json_object_set_new(a, "user", json_string(m->auth_user));
            json_object_set_new(a, "password", json_string(buf_ptr(&enc)));
            json_object_set_new(ep, "authentication", a);
        }
        buf_free(&enc);
    }
    if (rc == 0)
        *out = json_dumps(ep, JSON_COMPACT);
    json_decref(ep);
    return rc;
}
