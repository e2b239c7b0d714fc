/* rest_jobreq_walk - the member-table walker, JSON paths and errors; see rest_jobreq_int.h. */
#include "producers/rest/rest_jobreq_int.h"
#include "global/account.h"
#include "global/addr.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    int http;
    const char *subtype;
    const char *prefix;
} errs[] = {
    [JR_E_MISSING] = {400, "MISSING_VALUE", "Missing mandatory value for "},
    [JR_E_FORMAT] = {400, "INVALID_FORMAT", "Invalid format for "},
    [JR_E_VALUE] = {400, "INVALID_VALUE", "Invalid value for "},
    [JR_E_SIZE] = {400, "LIMIT_EXCEEDED", "Size limit exceeded for "},
    [JR_E_COUNT] = {400, "LIMIT_EXCEEDED", "Count limit exceeded for "},
    [JR_E_CONFIG] = {403, "FORBIDDEN_BY_CONFIG", "Unsupported value for "},
    [JR_E_PARAMS] = {403, "FORBIDDEN_PARAMS", "Unsupported value for "},
    [JR_E_SENDER_SYNTAX] = {400, "INVALID_SENDER", "Invalid syntax for "},
    [JR_E_SENDER] = {403, "FORBIDDEN_SENDER", "Unsupported value for "},
    [JR_E_RETRY] = {503, "INTERNAL_ERROR", "Internal error"},
};

/* cat - append s to dst (size dstsz, *n used), cutting on a character boundary */
static void cat(char *dst, size_t dstsz, size_t *n, const char *s)
{
    size_t l = s ? strlen(s) : 0;

    if (l == 0)
        return;
    if (*n + l >= dstsz) {
        l = dstsz - 1 - *n;
        while (l > 0 && ((unsigned char)s[l] & 0xc0) == 0x80)
            l--;
    }
    memcpy(dst + *n, s, l);
    *n += l;
    dst[*n] = 0;
}

/* set - record the failure (the first one wins, §6.3) */
static int set(struct jr *v, enum jr_err e, const char *path, const char *suffix,
               const char *detail)
{
    struct jobreq_result *r = v->res;

    if (r->http != 200)
        return -1;
    r->http = errs[e].http;
    r->subtype = errs[e].subtype;
    size_t n = 0;
    r->description[0] = 0;
    cat(r->description, sizeof(r->description), &n, errs[e].prefix);
    if (e != JR_E_RETRY) {
        cat(r->description, sizeof(r->description), &n, path);
        cat(r->description, sizeof(r->description), &n, suffix);
        if (detail) {
            cat(r->description, sizeof(r->description), &n, ": ");
            cat(r->description, sizeof(r->description), &n, detail);
        }
    }
    return -1;
}

int rest_jobreq_walk_fail(struct jr *v, enum jr_err e)
{
    return set(v, e, v->path, NULL, NULL);
}

int rest_jobreq_walk_fail_suffix(struct jr *v, enum jr_err e, const char *suffix)
{
    return set(v, e, v->path, suffix, NULL);
}

int rest_jobreq_walk_fail_detail(struct jr *v, enum jr_err e, const char *detail)
{
    return set(v, e, v->path, NULL, detail);
}

int rest_jobreq_walk_fail_path(struct jr *v, enum jr_err e, const char *path)
{
    return set(v, e, path, NULL, NULL);
}

/*
 * rest_jobreq_walk_push_key - append ".key" (no dot at the top level) to the path; keys
 * are written as sent, cut at 200 bytes on a character boundary. Returns
 * the mark for rest_jobreq_walk_pop.
 */
size_t rest_jobreq_walk_push_key(struct jr *v, const char *key, size_t keylen)
{
    size_t mark = v->plen, room = sizeof(v->path) - v->plen;

    if (keylen > 200) {
        keylen = 200;
        while (keylen > 0 && ((unsigned char)key[keylen] & 0xc0) == 0x80)
            keylen--;
    }
    int n = snprintf(v->path + v->plen, room, "%s%.*s", v->plen ? "." : "", (int)keylen, key);
    if (n > 0)
        v->plen = (size_t)n < room ? v->plen + (size_t)n : sizeof(v->path) - 1;
    return mark;
}

size_t rest_jobreq_walk_push_index(struct jr *v, size_t i)
{
    size_t mark = v->plen, room = sizeof(v->path) - v->plen;
    int n = snprintf(v->path + v->plen, room, "[%zu]", i);

    if (n > 0)
        v->plen = (size_t)n < room ? v->plen + (size_t)n : sizeof(v->path) - 1;
    return mark;
}

void rest_jobreq_walk_pop(struct jr *v, size_t mark)
{
    v->plen = mark;
    v->path[mark] = 0;
}

int rest_jobreq_walk_feature(struct jr *v, const char *name)
{
    return account_feature(v->env->settings, name);
}

/* rest_jobreq_walk_has_ctl - 1 when s holds a C0 control character or DEL */
int rest_jobreq_walk_has_ctl(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return 0;
}

void rest_jobreq_walk_addr_parse(struct jr_addr *a, const char *s, size_t len)
{
    struct addr *p = xmalloc(sizeof(*p));

    memset(a, 0, sizeof(*a));
    if (addr_parse(s, len, p) == 0) {
        a->ok = 1;
        a->bare = xstrdup(p->bare);
        a->display = xstrdup(p->display);
        a->local = xstrdup(p->local);
        a->domain = xstrdup(p->domain);
        a->utf8 = p->utf8_local;
    }
    xfree(p);
}

void rest_jobreq_walk_addr_free(struct jr_addr *a)
{
    xfree(a->bare);
    xfree(a->display);
    xfree(a->local);
    xfree(a->domain);
    memset(a, 0, sizeof(*a));
}

int rest_jobreq_walk_bool(const struct jr_val *val, int dflt)
{
    return val->j ? val->b : dflt;
}

const char *rest_jobreq_walk_str(const struct jr_val *val, const char *dflt)
{
    return val->j && val->s ? val->s : dflt;
}

static int absent(json_t *val, const char *s, size_t len)
{
    return val == NULL || json_is_null(val) || (json_is_string(val) && (len == 0 || s == NULL));
}

static int member(struct jr *v, json_t *obj, const struct jr_field *t, void *out)
{
    json_t *val = json_object_get(obj, t->name);
    struct jr_val tmp, *slot = t->off == JR_NOSLOT ? &tmp : (struct jr_val *)((char *)out + t->off);
    const char *s = NULL;
    size_t len = 0;
    int mandatory = (t->flags & JR_MANDATORY) || (t->required && t->required(v, obj, out));

    memset(slot, 0, sizeof(*slot));
    if (val && json_is_string(val)) {
        s = json_string_value(val);
        len = json_string_length(val);
        if (t->flags & JR_ADDRESS)
            s = addr_trim(s, len, &len);
    }
    if (absent(val, s, len))
        return mandatory ? rest_jobreq_walk_fail_suffix(v, JR_E_MISSING, t->missing) : 0;
    switch (t->type) {
    case JR_STR:
        if (!json_is_string(val))
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
        break;
    case JR_BOOL:
        if (json_is_boolean(val))
            slot->b = json_is_true(val);
        else if (json_is_string(val) && strcmp(s, "true") == 0)
            slot->b = 1;
        else if (json_is_string(val) && strcmp(s, "false") == 0)
            slot->b = 0;
        else
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
        break;
    case JR_NUM:
        if (!json_is_number(val))
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
        break;
    case JR_OBJ:
        if (!json_is_object(val))
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
        break;
    case JR_ARR:
        if (!json_is_array(val))
            return rest_jobreq_walk_fail(v, JR_E_FORMAT);
        break;
    case JR_ANY:
        break;
    }
    slot->j = val;
    slot->s = s;
    slot->len = len;
    if ((t->flags & JR_HEADER) && s && (memchr(s, '\r', len) || memchr(s, '\n', len)))
        return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    if (t->format && t->format(v, slot, out) < 0)
        return -1;
    if (t->allowed) {
        const char *const *a;
        for (a = t->allowed; *a; a++)
            if (strlen(*a) == len &&
                ((t->flags & JR_NOCASE) ? strncasecmp(*a, s, len) : strncmp(*a, s, len)) == 0)
                break;
        if (*a == NULL)
            return rest_jobreq_walk_fail(v, JR_E_VALUE);
        slot->s = *a; /* normalized spelling */
    }
    if (t->max && s && codec_utf8_count(s, len) > t->max)
        return rest_jobreq_walk_fail(v, JR_E_SIZE);
    if (t->then && t->then(v, slot, out) < 0)
        return -1;
    return 0;
}

int rest_jobreq_walk_object(struct jr *v, json_t *obj, const struct jr_field *t, void *out)
{
    for (; t->name; t++) {
        size_t mark = rest_jobreq_walk_push_key(v, t->name, strlen(t->name));
        int rc = member(v, obj, t, out);
        rest_jobreq_walk_pop(v, mark);
        if (rc < 0)
            return -1;
    }
    return 0;
}
