/*
 * rest_jobreq_notify - "notification" (contract §4.11): the job's endpoint
 * (absolute http/https URL, custom headers that are HTTP tokens and not
 * ones txmail writes, Basic authentication).
 */
#include "producers/rest/rest_jobreq_int.h"
#include "util/codec.h"

#include <string.h>
#include <strings.h>

#define HEADERS_MAX 10000

static const char *const methods[] = {"BASIC", NULL};

/* url_format - absolute http(s) URL: scheme, "//", a host, optional port, printable ASCII */
static int url_format(struct jr *v, struct jr_val *val, void *out)
{
    const char *s = val->s, *p;
    size_t len = val->len;

    (void)out;
    if (len > 7 && strncasecmp(s, "http://", 7) == 0)
        p = s + 7;
    else if (len > 8 && strncasecmp(s, "https://", 8) == 0)
        p = s + 8;
    else
        return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    const char *end = s + len, *host = p, *h;
    for (h = host; h < end && *h != '/' && *h != '?' && *h != '#'; h++)
        ;
    /* authority: [userinfo@]host[:port]; no user info in a webhook URL */
    if (h == host || memchr(host, '@', (size_t)(h - host)))
        return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    const char *hend = h;
    if (*host == '[') {
        const char *rb = memchr(host, ']', (size_t)(h - host));
        if (rb == NULL || rb == host + 1)
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
        hend = rb + 1;
    } else {
        const char *colon = memchr(host, ':', (size_t)(h - host));
        if (colon)
            hend = colon;
        for (const char *c = host; c < hend; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_'))
                return rest_jobreq_walk_fail(v, JR_E_FORMAT);
        if (hend == host)
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    }
    if (hend < h) {
        long port = 0;
        if (*hend != ':' || hend + 1 == h || h - hend > 6)
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
        for (const char *c = hend + 1; c < h; c++) {
            if (*c < '0' || *c > '9')
                return rest_jobreq_walk_fail(v, JR_E_FORMAT);
            port = port * 10 + (*c - '0');
        }
        if (port < 1 || port > 65535)
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    }
    return 0;
}

/* RFC 9110 token */
static int tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int header(struct jr *v, const char *name, size_t nlen, json_t *value, size_t *total)
{
    static const char *const reserved[] = {"Host",
                                           "Content-Length",
                                           "Content-Type",
                                           "Transfer-Encoding",
                                           "Connection",
                                           "X-Txmail-Signature",
                                           NULL};

    for (size_t i = 0; i < nlen; i++)
        if (!tchar((unsigned char)name[i]))
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    if (nlen == 0)
        return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    for (int i = 0; reserved[i]; i++)
        if (strlen(reserved[i]) == nlen && strncasecmp(reserved[i], name, nlen) == 0)
            return rest_jobreq_walk_fail(v, JR_E_VALUE);
    if (!json_is_string(value))
        return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    const char *s = json_string_value(value);
    size_t len = json_string_length(value);
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    *total += codec_utf8_count(name, nlen) + codec_utf8_count(s, len);
    return 0;
}

static int headers_then(struct jr *v, struct jr_val *val, void *out)
{
    const char *key;
    size_t klen, total = 0;
    json_t *value;
    void *tmp;

    (void)out;
    json_object_keylen_foreach_safe(val->j, tmp, key, klen, value)
    {
        size_t mark = rest_jobreq_walk_push_key(v, key, klen);
        int rc = header(v, key, klen, value, &total);
        rest_jobreq_walk_pop(v, mark);
        if (rc < 0)
            return -1;
    }
    return total > HEADERS_MAX ? rest_jobreq_walk_fail(v, JR_E_SIZE) : 0;
}

static int user_format(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    /* RFC 7617: the user-id cannot contain a colon */
    if (memchr(val->s, ':', val->len) || rest_jobreq_walk_has_ctl(val->s, val->len))
        return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    return 0;
}

static int password_format(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return rest_jobreq_walk_has_ctl(val->s, val->len) ? rest_jobreq_walk_fail(v, JR_E_FORMAT) : 0;
}

static const struct jr_field auth_fields[] = {
    {"method", JR_STR, JR_MANDATORY, 0, methods, JR_AT(struct jr_notify, method), NULL, NULL, NULL,
     NULL},
    {"user", JR_STR, JR_MANDATORY, 100, NULL, JR_AT(struct jr_notify, user), NULL, NULL,
     user_format, NULL},
    {"password", JR_STR, JR_MANDATORY, 100, NULL, JR_AT(struct jr_notify, password), NULL, NULL,
     password_format, NULL},
    {0},
};

static int auth_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, auth_fields, out);
}

static const struct jr_field endpoint_fields[] = {
    {"url", JR_STR, JR_MANDATORY, 1000, NULL, JR_AT(struct jr_notify, url), NULL, NULL, url_format,
     NULL},
    {"headers", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_notify, headers), NULL, NULL, NULL,
     headers_then},
    {"authentication", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_notify, auth), NULL, NULL, NULL,
     auth_then},
    {0},
};

static int endpoint_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, endpoint_fields, out);
}

static const struct jr_field notification_fields[] = {
    {"endPoint", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_notify, endpoint), NULL, NULL, NULL,
     endpoint_then},
    {0},
};

int rest_jobreq_notify_check(struct jr *v, struct jr_val *val)
{
    return rest_jobreq_walk_object(v, val->j, notification_fields, &v->notify);
}
