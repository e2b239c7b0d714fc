/*
 * rest_jobreq_rcpt - recipients[] (contract §4.8): block count, total
 * address count, then each block in order; address objects
 * ({"email": ...}) everywhere; xHeaders (§8.7). After the whole request
 * is valid, rest_jobreq_rcpt_classify() gives each recipient address its
 * validationResult (§5.3): invalid syntax, forbidden local part, then the
 * suppression list, first row wins.
 */
#include "producers/rest/rest_jobreq_int.h"
#include "global/account.h"
#include "global/addr.h"
#include "global/xheader.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define XHEADERS_MAX 10
#define HEADER_TEXT_MAX 998

const char *const jr_priorities[] = {"HIGH", "NORMAL", "LOW", NULL};

/* ------------------------------------------------------------ addresses */

static int email_format(struct jr *v, struct jr_val *val, void *out)
{
    struct jr_email *e = out;

    if (v->addr_ctx == JR_ADDR_RCPT)
        return 0; /* wrong syntax makes the answer PART, it is no failure (§4.8) */
    rest_jobreq_walk_addr_parse(&e->a, val->s, val->len);
    if (e->a.ok)
        return 0;
    return rest_jobreq_walk_fail(v, v->addr_ctx == JR_ADDR_FROM ? JR_E_SENDER_SYNTAX : JR_E_FORMAT);
}

static int email_then(struct jr *v, struct jr_val *val, void *out)
{
    struct jr_email *e = out;
    enum tx_code rc;

    switch (v->addr_ctx) {
    case JR_ADDR_RCPT: {
        struct jr_rcpt *r = out;
        rest_jobreq_walk_addr_parse(&r->a, val->s, val->len);
        return 0;
    }
    case JR_ADDR_FROM:
        if (account_list_has(v->env->settings, "forbiddenSenders", e->a.local, strlen(e->a.local)))
            return rest_jobreq_walk_fail(v, JR_E_SENDER);
        if (v->env->sender_domain == NULL)
            return rest_jobreq_walk_fail(v, JR_E_SENDER);
        rc = v->env->sender_domain(v->env->arg, e->a.domain, &v->sender);
        if (rc == TX_OK)
            return 0;
        return rest_jobreq_walk_fail(v, rc == TX_REJECT_POLICY ? JR_E_SENDER : JR_E_RETRY);
    case JR_ADDR_MIMEFROM:
        if (v->mail.from.a.ok && strcasecmp(v->mail.from.a.domain, e->a.domain) != 0)
            return rest_jobreq_walk_fail(v, JR_E_SENDER);
        return 0;
    default:
        return 0;
    }
}

static const struct jr_field email_fields[] = {
    {"email", JR_STR, JR_MANDATORY | JR_ADDRESS, 254, NULL, 0, NULL, NULL, email_format,
     email_then},
    {0},
};

/* rest_jobreq_rcpt_email - an address object; out is a struct jr_email (or jr_rcpt: same head) */
int rest_jobreq_rcpt_email(struct jr *v, struct jr_val *val, void *out, int ctx)
{
    v->addr_ctx = ctx;
    return rest_jobreq_walk_object(v, val->j, email_fields, out);
}

/* ------------------------------------------------------------ xHeaders */

static int xheader(struct jr *v, const char *name, size_t nlen, json_t *value)
{
    if (!xheader_name_valid(name, nlen))
        return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    if (xheader_reserved(name, nlen))
        return rest_jobreq_walk_fail(v, JR_E_VALUE);
    if (value == NULL || json_is_null(value) ||
        (json_is_string(value) && json_string_length(value) == 0))
        return 0; /* lenient: treated as absent */
    if (!json_is_string(value))
        return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    const char *s = json_string_value(value);
    size_t len = json_string_length(value);
    if (memchr(s, '\r', len) || memchr(s, '\n', len))
        return rest_jobreq_walk_fail(v, JR_E_FORMAT);
    if (codec_utf8_count(s, len) > HEADER_TEXT_MAX)
        return rest_jobreq_walk_fail(v, JR_E_SIZE);
    return 0;
}

int rest_jobreq_rcpt_xheaders(struct jr *v, struct jr_val *val)
{
    const char *key;
    size_t klen;
    json_t *value;
    void *tmp;

    if (json_object_size(val->j) > XHEADERS_MAX)
        return rest_jobreq_walk_fail(v, JR_E_COUNT);
    json_object_keylen_foreach_safe(val->j, tmp, key, klen, value)
    {
        size_t mark = rest_jobreq_walk_push_key(v, key, klen);
        int rc = xheader(v, key, klen, value);
        rest_jobreq_walk_pop(v, mark);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int rest_jobreq_rcpt_xheaders_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return rest_jobreq_rcpt_xheaders(v, val);
}

/* ------------------------------------------------------------ blocks */

static size_t list_len(json_t *mail, const char *name)
{
    json_t *a = json_object_get(mail, name);

    return json_is_array(a) ? json_array_size(a) : 0;
}

/* to is mandatory when cc and bcc hold no address either */
static int need_to(struct jr *v, json_t *obj, void *out)
{
    (void)v;
    (void)out;
    return list_len(obj, "cc") == 0 && list_len(obj, "bcc") == 0;
}

static int addr_list(struct jr *v, struct jr_val *val, int kind)
{
    struct jr_block *b = v->cur_block;
    size_t n = json_array_size(val->j);

    for (size_t j = 0; j < n; j++) {
        json_t *el = json_array_get(val->j, j);
        size_t mark = rest_jobreq_walk_push_index(v, j);
        struct jr_rcpt *r = &b->rcpt[b->nrcpt];
        int rc;

        memset(r, 0, sizeof(*r));
        r->kind = kind;
        r->index = (uint32_t)v->naddr;
        if (json_is_object(el)) {
            struct jr_val ev = {el, NULL, 0, 0};
            rc = rest_jobreq_rcpt_email(v, &ev, r, JR_ADDR_RCPT);
        } else
            rc = rest_jobreq_walk_fail(v, JR_E_FORMAT);
        rest_jobreq_walk_pop(v, mark);
        if (rc < 0) {
            rest_jobreq_walk_addr_free(&r->a);
            return -1;
        }
        b->nrcpt++;
        v->naddr++;
    }
    return 0;
}

static int to_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    if (json_array_size(val->j) == 0 && need_to(v, v->cur_block->mail.j, NULL))
        return rest_jobreq_walk_fail(v, JR_E_MISSING);
    return addr_list(v, val, 0);
}

static int cc_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return addr_list(v, val, 1);
}

static int bcc_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return addr_list(v, val, 2);
}

int rest_jobreq_rcpt_reply_then(struct jr *v, struct jr_val *val, void *out)
{
    struct jr_mail *m = out;

    return rest_jobreq_rcpt_email(v, val, &m->reply, JR_ADDR_REPLYTO);
}

static const struct jr_field block_mail_fields[] = {
    {"to", JR_ARR, 0, 0, NULL, JR_AT(struct jr_mail, to), NULL, need_to, NULL, to_then},
    {"cc", JR_ARR, 0, 0, NULL, JR_AT(struct jr_mail, cc), NULL, NULL, NULL, cc_then},
    {"bcc", JR_ARR, 0, 0, NULL, JR_AT(struct jr_mail, bcc), NULL, NULL, NULL, bcc_then},
    {"replyTo", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_mail, reply_o), NULL, NULL, NULL,
     rest_jobreq_rcpt_reply_then},
    {"inReplyTo", JR_STR, JR_HEADER, HEADER_TEXT_MAX, NULL, JR_AT(struct jr_mail, in_reply_to),
     NULL, NULL, NULL, NULL},
    {"priority", JR_STR, 0, 0, jr_priorities, JR_AT(struct jr_mail, priority), NULL, NULL, NULL,
     NULL},
    {"listUnsubscribe", JR_STR, JR_HEADER, HEADER_TEXT_MAX, NULL, JR_AT(struct jr_mail, list_unsub),
     NULL, NULL, NULL, NULL},
    {"xHeaders", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_mail, xheaders), NULL, NULL, NULL,
     rest_jobreq_rcpt_xheaders_then},
    {0},
};

int rest_jobreq_rcpt_tracking_then(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    return val->b && !rest_jobreq_walk_feature(v, "tracking")
               ? rest_jobreq_walk_fail(v, JR_E_CONFIG)
               : 0;
}

static const struct jr_field open_fields[] = {
    {"active", JR_BOOL, 0, 0, NULL, JR_AT(struct jr_block, open), NULL, NULL, NULL,
     rest_jobreq_rcpt_tracking_then},
    {0},
};
static const struct jr_field link_fields[] = {
    {"active", JR_BOOL, 0, 0, NULL, JR_AT(struct jr_block, link), NULL, NULL, NULL,
     rest_jobreq_rcpt_tracking_then},
    {0},
};
static const struct jr_field templating_fields[] = {
    {"personalization", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_block, personalization), NULL, NULL,
     NULL, NULL},
    {0},
};

static int open_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, open_fields, out);
}

static int link_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, link_fields, out);
}

static int templating_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, templating_fields, out);
}

static const struct jr_field block_feature_fields[] = {
    {"openTracking", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_block, open_o), NULL, NULL, NULL,
     open_then},
    {"linkTracking", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_block, link_o), NULL, NULL, NULL,
     link_then},
    {"templating", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_block, templating_o), NULL, NULL, NULL,
     templating_then},
    {0},
};

static int block_mail_then(struct jr *v, struct jr_val *val, void *out)
{
    struct jr_block *b = out;
    size_t n = list_len(val->j, "to") + list_len(val->j, "cc") + list_len(val->j, "bcc");

    b->rcpt = xcalloc(n ? n : 1, sizeof(*b->rcpt));
    return rest_jobreq_walk_object(v, val->j, block_mail_fields, &b->m);
}

static int block_features_then(struct jr *v, struct jr_val *val, void *out)
{
    return rest_jobreq_walk_object(v, val->j, block_feature_fields, out);
}

static const struct jr_field block_fields[] = {
    {"mail", JR_OBJ, JR_MANDATORY, 0, NULL, JR_AT(struct jr_block, mail), ".to", NULL, NULL,
     block_mail_then},
    {"features", JR_OBJ, 0, 0, NULL, JR_AT(struct jr_block, features), NULL, NULL, NULL,
     block_features_then},
    {"reference", JR_STR, 0, 50, NULL, JR_AT(struct jr_block, reference), NULL, NULL, NULL, NULL},
    {0},
};

int rest_jobreq_rcpt_check(struct jr *v, struct jr_val *val)
{
    size_t n = json_array_size(val->j), total = 0;

    if (n == 0)
        return rest_jobreq_walk_fail(v, JR_E_MISSING);
    if (n > v->max_blocks)
        return rest_jobreq_walk_fail(v, JR_E_COUNT);
    for (size_t i = 0; i < n; i++) {
        json_t *mail = json_object_get(json_array_get(val->j, i), "mail");
        total += list_len(mail, "to") + list_len(mail, "cc") + list_len(mail, "bcc");
    }
    if (total > v->max_addresses)
        return rest_jobreq_walk_fail_suffix(v, JR_E_COUNT, ".mail");
    v->blocks = xcalloc(n, sizeof(*v->blocks));
    v->nblocks = n;
    for (size_t i = 0; i < n; i++) {
        json_t *el = json_array_get(val->j, i);
        size_t mark = rest_jobreq_walk_push_index(v, i);
        int rc;

        v->cur_block = &v->blocks[i];
        rc = json_is_object(el) ? rest_jobreq_walk_object(v, el, block_fields, &v->blocks[i])
                                : rest_jobreq_walk_fail(v, JR_E_FORMAT);
        rest_jobreq_walk_pop(v, mark);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ validationResult */

static void drop(struct jr_rcpt *r, const char *classifier, const char *message,
                 const char *subtype, char *desc)
{
    r->classifier = classifier;
    r->message = message;
    r->drop = subtype;
    r->drop_desc = desc;
}

/* rest_jobreq_rcpt_classify - validationResult of every recipient address (§5.3); -1 on a lookup failure */
int rest_jobreq_rcpt_classify(struct jr *v)
{
    struct suppress_query *q = NULL;
    struct jr_rcpt **who = NULL;
    size_t nq = 0;
    int rc = 0;

    if (v->naddr) {
        q = xcalloc(v->naddr, sizeof(*q));
        who = xcalloc(v->naddr, sizeof(*who));
    }
    for (size_t i = 0; i < v->nblocks; i++)
        for (size_t j = 0; j < v->blocks[i].nrcpt; j++) {
            struct jr_rcpt *r = &v->blocks[i].rcpt[j];
            if (!r->a.ok) {
                drop(r, "INVALID_FORMAT", NULL, "INVALID_ADDRESS",
                     xstrdup("invalid address syntax"));
                continue;
            }
            if (account_list_has(v->env->settings, "forbiddenRecipients", r->a.local,
                                 strlen(r->a.local))) {
                drop(r, "FORBIDDEN_RECIPIENT", "Reason: Local part forbidden by config",
                     "FORBIDDEN_RECIPIENT", xstrdup("Local part forbidden by config"));
                continue;
            }
            r->lower = xmalloc(strlen(r->a.bare) + 1);
            addr_lower(r->lower, strlen(r->a.bare) + 1, r->a.bare);
            q[nq].addr = r->lower;
            who[nq++] = r;
        }
    if (nq && v->env->suppression) {
        if (v->env->suppression(v->env->arg, q, nq) != TX_OK) {
            rest_jobreq_walk_fail(v, JR_E_RETRY);
            rc = -1;
            goto out;
        }
        for (size_t k = 0; k < nq; k++) {
            if (!q[k].hit)
                continue;
            struct jr_rcpt *r = who[k];
            const char *sub = suppress_subtype(&q[k].entry);
            snprintf(r->sup_type, sizeof(r->sup_type), "%s", q[k].entry.type);
            drop(r, sub,
                 strcmp(sub, "PREVIOUSLY_BOUNCED") == 0 ? "Reason: Previously bounced"
                                                        : "Reason: Suppressed",
                 sub, suppress_describe(&q[k].entry));
        }
    }
out:
    xfree(q);
    xfree(who);
    return rc;
}
