/*
 * rest_jobreq_attach - attachments[] (contract §4.7): at most 20 (or the
 * account's lower limit), each with a name whose last extension is not on
 * the account's forbidden list, a type/subtype content type, base64
 * content, an optional contentId and the secureDocument flag (whose
 * cross-field rule is in rest_jobreq.c).
 */
#include "producers/rest/rest_jobreq_int.h"
#include "global/account.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <string.h>

static int name_format(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return rest_jobreq_walk_has_ctl(val->s, val->len) ? rest_jobreq_walk_fail(v, JR_E_FORMAT) : 0;
}

/*
 * name_extension - the last extension on the account's forbidden list?
 * Trailing dots and blanks are ignored first, as Windows ignores them
 * ("evil.exe." opens as evil.exe).
 */
static int name_extension(struct jr *v, struct jr_val *val, void *out)
{
    size_t len = val->len;
    const char *s = val->s, *dot = NULL;

    (void)out;
    while (len > 0 && (s[len - 1] == '.' || s[len - 1] == ' '))
        len--;
    for (size_t i = len; i > 0; i--)
        if (s[i - 1] == '.') {
            dot = s + i;
            break;
        }
    if (dot &&
        account_list_has(v->env->settings, "forbiddenExtensions", dot, (size_t)(s + len - dot)))
        return rest_jobreq_walk_fail(v, JR_E_PARAMS);
    return 0;
}

/* RFC 2045 token characters */
static int token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

static int type_format(struct jr *v, struct jr_val *val, void *out)
{
    const char *slash = memchr(val->s, '/', val->len);

    (void)out;
    if (slash == NULL || slash == val->s || slash == val->s + val->len - 1)
        return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    for (const char *p = val->s; p < val->s + val->len; p++)
        if (p != slash && !token_char((unsigned char)*p))
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    return 0;
}

/*
 * b64_valid - what codec_b64_decode() accepts (RFC 4648 standard alphabet, CR and
 * LF skipped, padding required, unused bits zero), checked without
 * decoding: attachments are the bulk of a request and are passed on as
 * base64. With escaped set, s is raw JSON string text whose only escapes
 * are \\r and \\n (skipped) and \\/ ('/'): a large content that bypassed
 * the parser (struct jobreq_raw).
 */
static int b64_valid(const char *s, size_t len, int escaped)
{
    const unsigned char *u = (const unsigned char *)s;
    const signed char *val = codec_b64_value;
    size_t n = 0, pads = 0, i = 0;
    unsigned last = 0;

    while (i < len) {
        /* the bulk, 8 alphabet characters at a time: the OR of their values is >= 0 */
        if (!pads && i + 8 <= len &&
            (val[u[i]] | val[u[i + 1]] | val[u[i + 2]] | val[u[i + 3]] | val[u[i + 4]] |
             val[u[i + 5]] | val[u[i + 6]] | val[u[i + 7]]) >= 0) {
            last = (unsigned)val[u[i + 7]];
            n += 8;
            i += 8;
            continue;
        }
        int v = val[u[i]];
        if (escaped && u[i] == '\\' && i + 1 < len) {
            i++;
            if (u[i] == 'r' || u[i] == 'n') {
                i++;
                continue;
            }
            if (u[i] != '/')
                return 0;
            v = 63;
        }
        if (v >= 0 && !pads) {
            last = (unsigned)v;
            n++;
        } else if (u[i] == '=') {
            if (++pads > 2)
                return 0;
        } else if (u[i] != '\r' && u[i] != '\n')
            return 0;
        i++;
    }
    switch (n % 4) {
    case 0:
        return pads == 0;
    case 2:
        return pads == 2 && (last & 0xf) == 0;
    case 3:
        return pads == 1 && (last & 0x3) == 0;
    default:
        return 0;
    }
}

static int content_format(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    /* a large content kept out of the parser: check its raw text instead */
    for (size_t k = 0; k < v->res->nraw; k++) {
        struct jobreq_raw *raw = &v->res->raw[k];
        if (raw->att == v->cur_att && strcmp(val->s, raw->marker) == 0) {
            if (!b64_valid(raw->s, raw->len, 1))
                return rest_jobreq_walk_fail(v, JR_E_FORMAT);
            v->att_raw[v->cur_att] = (int)k + 1;
            return 0;
        }
    }
    return b64_valid(val->s, val->len, 0) ? 0 : rest_jobreq_walk_fail(v, JR_E_FORMAT);
}

static int cid_format(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    for (size_t i = 0; i < val->len; i++) {
        unsigned char c = (unsigned char)val->s[i];
        if (c <= 0x20 || c == 0x7f || c == '<' || c == '>')
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    }
    return 0;
}

static const struct jr_field attach_fields[] = {
    {"name", JR_STR, JR_MANDATORY, 254, NULL, JR_AT(struct jr_attach, name), NULL, NULL,
     name_format, name_extension},
    {"contentType", JR_STR, JR_MANDATORY, 100, NULL, JR_AT(struct jr_attach, content_type), NULL,
     NULL, type_format, NULL},
    {"content", JR_STR, JR_MANDATORY, 0, NULL, JR_AT(struct jr_attach, content), NULL, NULL,
     content_format, NULL},
    {"contentId", JR_STR, 0, 100, NULL, JR_AT(struct jr_attach, content_id), NULL, NULL, cid_format,
     NULL},
    {"secureDocument", JR_BOOL, 0, 0, NULL, JR_AT(struct jr_attach, secure), NULL, NULL, NULL,
     NULL},
    {0},
};

int rest_jobreq_attach_check(struct jr *v, struct jr_val *val)
{
    size_t n = json_array_size(val->j);

    if (n > v->max_attachments)
        return rest_jobreq_walk_fail(v, JR_E_COUNT);
    v->att = xcalloc(n ? n : 1, sizeof(*v->att));
    v->natt = n;
    for (size_t i = 0; i < n; i++) {
        json_t *el = json_array_get(val->j, i);
        size_t mark = rest_jobreq_walk_push_index(v, i);
        v->cur_att = i;
        int rc = json_is_object(el) ? rest_jobreq_walk_object(v, el, attach_fields, &v->att[i])
                                    : rest_jobreq_walk_fail(v, JR_E_FORMAT);
        rest_jobreq_walk_pop(v, mark);
        if (rc < 0)
            return -1;
    }
    return 0;
}
