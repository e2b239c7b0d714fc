/* envelope - broker message format; see envelope.h. */
#include "global/envelope.h"
#include "util/buf.h"
#include "util/jsonget.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>

#define ENVELOPE_JSON_MAX (64 * 1024 * 1024)

void envelope_init(struct envelope *e, const char *type)
{
    memset(e, 0, sizeof(*e));
    e->version = ENVELOPE_VERSION;
    snprintf(e->type, sizeof(e->type), "%s", type);
    e->data = json_object();
}

void envelope_free(struct envelope *e)
{
    if (e == NULL)
        return;
    json_decref(e->data);
    e->data = NULL;
    xfree(e->raw_owned);
    e->raw_owned = NULL;
    e->raw = NULL;
    e->raw_len = 0;
}

static int valid_stage(const char *s, size_t n)
{
    if (n == 0 || n >= ENVELOPE_STAGE_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
              s[i] == '_' || s[i] == '.'))
            return 0;
    return 1;
}

int envelope_push_stage(struct envelope *e, const char *stage)
{
    if (e->nslip >= ENVELOPE_MAX_SLIP || !valid_stage(stage, strlen(stage)))
        return -1;
    snprintf(e->slip[e->nslip++], ENVELOPE_STAGE_MAX, "%s", stage);
    return 0;
}

int envelope_set_slip_csv(struct envelope *e, const char *csv)
{
    e->nslip = 0;
    while (*csv) {
        const char *comma = strchr(csv, ',');
        size_t n = comma ? (size_t)(comma - csv) : strlen(csv);
        char stage[ENVELOPE_STAGE_MAX];

        if (!valid_stage(csv, n) || e->nslip >= ENVELOPE_MAX_SLIP)
            return -1;
        memcpy(stage, csv, n);
        stage[n] = 0;
        envelope_push_stage(e, stage);
        csv += n + (comma ? 1 : 0);
    }
    return e->nslip > 0 ? 0 : -1;
}

const char *envelope_pop(struct envelope *e)
{
    if (e->nslip == 0)
        return NULL;
    memmove(e->slip[0], e->slip[1], sizeof(e->slip[0]) * (e->nslip - 1));
    e->nslip--;
    e->attempt = 0;
    e->due_ms = 0;
    return e->nslip ? e->slip[0] : NULL;
}

const char *envelope_stage(const struct envelope *e)
{
    return e->nslip ? e->slip[0] : NULL;
}

void envelope_set_raw(struct envelope *e, const void *raw, size_t len)
{
    xfree(e->raw_owned);
    e->raw_owned = xmalloc(len + 1);
    memcpy(e->raw_owned, raw, len);
    e->raw_owned[len] = 0;
    e->raw = e->raw_owned;
    e->raw_len = len;
}

void envelope_take_raw(struct envelope *e, char *raw, size_t len)
{
    xfree(e->raw_owned);
    e->raw_owned = raw;
    e->raw = raw;
    e->raw_len = len;
}

void envelope_copy(struct envelope *dst, const struct envelope *src)
{
    *dst = *src;
    dst->data = json_deep_copy(src->data);
    dst->raw_owned = NULL;
    dst->raw = NULL;
    dst->raw_len = 0;
    if (src->raw_len)
        envelope_set_raw(dst, src->raw, src->raw_len);
}

int envelope_encode(const struct envelope *e, char **out, size_t *outlen)
{
    json_t *o = json_object(), *slip = json_array();
    char *js;
    size_t jlen;

    for (int i = 0; i < e->nslip; i++)
        json_array_append_new(slip, json_string(e->slip[i]));
    json_object_set_new(o, "v", json_integer(e->version));
    json_object_set_new(o, "type", json_string(e->type));
    json_object_set_new(o, "job", json_string(e->job_id));
    if (e->rid[0])
        json_object_set_new(o, "rid", json_string(e->rid));
    json_object_set_new(o, "account", json_integer(e->account_id));
    json_object_set_new(o, "slip", slip);
    json_object_set_new(o, "attempt", json_integer(e->attempt));
    json_object_set_new(o, "deferrals", json_integer(e->deferrals));
    json_object_set_new(o, "created", json_integer(e->created_ms));
    if (e->due_ms)
        json_object_set_new(o, "due", json_integer(e->due_ms));
    json_object_set(o, "data", e->data ? e->data : json_object());
    json_object_set_new(o, "raw_len", json_integer((json_int_t)e->raw_len));
    js = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (js == NULL)
        return -1;
    jlen = strlen(js);
    *out = xmalloc(jlen + 1 + e->raw_len + 1);
    memcpy(*out, js, jlen);
    (*out)[jlen] = '\n';
    if (e->raw_len)
        memcpy(*out + jlen + 1, e->raw, e->raw_len);
    (*out)[jlen + 1 + e->raw_len] = 0;
    *outlen = jlen + 1 + e->raw_len;
    free(js);
    return 0;
}

int envelope_decode(struct envelope *e, const void *body, size_t len, char *err, size_t errsz)
{
    const char *s = body, *nl = memchr(body, '\n', len);
    json_error_t jerr;
    json_t *o, *v;

    memset(e, 0, sizeof(*e));
    if (nl == NULL) {
        snprintf(err, errsz, "no envelope line");
        return -1;
    }
    if ((size_t)(nl - s) > ENVELOPE_JSON_MAX) {
        snprintf(err, errsz, "envelope too large");
        return -1;
    }
    o = json_loadb(s, (size_t)(nl - s), JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL || !json_is_object(o)) {
        snprintf(err, errsz, "envelope is not a JSON object: %s", o ? "not an object" : jerr.text);
        json_decref(o);
        return -1;
    }
    v = json_object_get(o, "v");
    if (!json_is_integer(v) || json_integer_value(v) != ENVELOPE_VERSION) {
        snprintf(err, errsz, "unknown envelope version");
        goto bad;
    }
    e->version = ENVELOPE_VERSION;
    if (jsonget_strbuf(o, "type", e->type, sizeof(e->type), 1) < 0 ||
        jsonget_strbuf(o, "job", e->job_id, sizeof(e->job_id), 1) < 0 ||
        jsonget_strbuf(o, "rid", e->rid, sizeof(e->rid), 0) < 0) {
        snprintf(err, errsz, "bad type, job or rid");
        goto bad;
    }
    v = json_object_get(o, "slip");
    if (!json_is_array(v) || json_array_size(v) > ENVELOPE_MAX_SLIP) {
        snprintf(err, errsz, "bad slip");
        goto bad;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *st = json_array_get(v, i);
        if (!json_is_string(st) || envelope_push_stage(e, json_string_value(st)) < 0) {
            snprintf(err, errsz, "bad stage in slip");
            goto bad;
        }
    }
    struct {
        const char *key;
        long long *dst;
    } ints[] = {{"account", &e->account_id}};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        v = json_object_get(o, ints[i].key);
        if (!json_is_integer(v)) {
            snprintf(err, errsz, "bad %s", ints[i].key);
            goto bad;
        }
        *ints[i].dst = json_integer_value(v);
    }
    v = json_object_get(o, "attempt");
    e->attempt = json_is_integer(v) ? (int)json_integer_value(v) : 0;
    v = json_object_get(o, "deferrals");
    e->deferrals = json_is_integer(v) ? (int)json_integer_value(v) : 0;
    v = json_object_get(o, "created");
    e->created_ms = json_is_integer(v) ? json_integer_value(v) : 0;
    v = json_object_get(o, "due");
    e->due_ms = json_is_integer(v) ? json_integer_value(v) : 0;
    if (e->attempt < 0 || e->deferrals < 0) {
        snprintf(err, errsz, "bad counters");
        goto bad;
    }
    v = json_object_get(o, "raw_len");
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (size_t)json_integer_value(v) != len - (size_t)(nl - s) - 1) {
        snprintf(err, errsz, "raw_len does not match the message size");
        goto bad;
    }
    e->raw = nl + 1;
    e->raw_len = (size_t)json_integer_value(v);
    v = json_object_get(o, "data");
    if (!json_is_object(v)) {
        snprintf(err, errsz, "bad data");
        goto bad;
    }
    e->data = json_incref(v);
    json_decref(o);
    return 0;
bad:
    json_decref(o);
    e->nslip = 0;
    return -1;
}

const char *envelope_raw_segment(const struct envelope *e, json_t *range, size_t *len)
{
    json_t *o = json_array_get(range, 0), *l = json_array_get(range, 1);
    json_int_t off, n;

    if (!json_is_array(range) || json_array_size(range) != 2 || !json_is_integer(o) ||
        !json_is_integer(l))
        return NULL;
    off = json_integer_value(o);
    n = json_integer_value(l);
    if (off < 0 || n < 0 || (size_t)off > e->raw_len || (size_t)n > e->raw_len - (size_t)off)
        return NULL;
    *len = (size_t)n;
    return e->raw + off;
}
