/*
 * rest_jobreq_build - the normalized job (docs/ENVELOPES.md, "type: job
 * from txmail-rest") and the "content" of the 200 answer (contract §5.1)
 * from a validated request: encodings decoded, defaults applied, block
 * values after the job/block precedence of §4.9, recipient ids (§5.2).
 */
#include "producers/rest/rest_jobreq_int.h"
#include "global/account.h"
#include "global/ids.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <string.h>
#include <strings.h>

static json_t *str_or_null(const struct jr_val *val)
{
    return val->j && val->s ? json_stringn(val->s, val->len) : json_null();
}

static json_t *cstr_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *address(const struct jr_email *e)
{
    if (!e->email.j)
        return json_null();
    return json_pack("{s:s%,s:s,s:o}", "email", e->email.s, e->email.len, "addr", e->a.bare,
                     "display", cstr_or_null(e->a.display));
}

static json_t *text_part(const struct jr_text *t, int with_type)
{
    json_t *o;

    if (!t->present)
        return json_null();
    o = json_object();
    if (with_type)
        json_object_set_new(o, "contentType", json_string(t->content_type.s));
    /* checking 50 KB of UTF-8 again costs as much as the rest of the build */
    json_object_set_new(o, "text",
                        t->utf8_checked ? json_stringn_nocheck(t->text, t->len)
                                        : json_stringn(t->text, t->len));
    json_object_set_new(o, "template", json_boolean(t->template_.j != NULL));
    json_object_set_new(o, "charset", json_string(rest_jobreq_walk_str(&t->charset, "UTF-8")));
    json_object_set_new(o, "cte", t->cte.j ? json_string(t->cte.s) : json_null());
    return o;
}

/* attachment data: base64 as sent, without the line breaks it may carry */
static json_t *b64_flat(const struct jr_val *val)
{
    if (!memchr(val->s, '\n', val->len) && !memchr(val->s, '\r', val->len))
        return json_stringn_nocheck(val->s, val->len); /* ASCII, checked by the parser */
    char *flat = xmalloc(val->len + 1);
    size_t n = 0;
    for (size_t i = 0; i < val->len; i++)
        if (val->s[i] != '\r' && val->s[i] != '\n')
            flat[n++] = val->s[i];
    json_t *j = json_stringn_nocheck(flat, n);
    xfree(flat);
    return j;
}

static json_t *attachments(struct jr *v)
{
    json_t *a = json_array();

    for (size_t i = 0; i < v->natt; i++) {
        struct jr_attach *at = &v->att[i];
        json_array_append_new(
            a, json_pack("{s:s%,s:s%,s:o,s:b,s:o}", "name", at->name.s, at->name.len, "contentType",
                         at->content_type.s, at->content_type.len, "contentId",
                         str_or_null(&at->content_id), "secureDocument",
                         rest_jobreq_walk_bool(&at->secure, 0), "data",
                         v->att_raw[i] ? json_string(v->res->raw[v->att_raw[i] - 1].marker)
                                       : b64_flat(&at->content)));
    }
    return a;
}

/* xheaders - the non-empty entries of an xHeaders object, as sent */
static json_t *xheaders(const struct jr_val *val)
{
    json_t *out = json_object(), *value;
    const char *key;

    if (val->j)
        json_object_foreach (val->j, key, value)
            if (json_is_string(value) && json_string_length(value) > 0)
                json_object_set(out, key, value);
    return out;
}

/* merge - job-level entries, then block-level ones replacing same names (any case) */
static json_t *xheaders_merged(const struct jr_val *job, const struct jr_val *block)
{
    json_t *out = xheaders(job), *b = xheaders(block), *value;
    const char *key;
    void *tmp;

    json_object_foreach (b, key, value) {
        const char *k2;
        json_t *v2;
        json_object_foreach_safe (out, tmp, k2, v2)
            if (strcasecmp(k2, key) == 0)
                json_object_del(out, k2);
        json_object_set(out, key, value);
    }
    json_decref(b);
    return out;
}

static json_t *eff_str(const struct jr_val *block, const struct jr_val *job)
{
    return str_or_null(block->j ? block : job);
}

static json_t *rcpt_json(struct jr *v, const struct jr_rcpt *r, uint32_t block, json_t *answer)
{
    char rid[RID_STR_LEN + 1];
    json_t *drop = json_null(), *o;

    ids_rid_format(rid, v->env->job_id, block, r->index);
    if (r->drop) {
        drop = json_pack("{s:s,s:s}", "subType", r->drop, "description", r->drop_desc);
        if (r->sup_type[0])
            json_object_set_new(drop, "suppression",
                                json_pack("{s:s,s:s}", "type", r->sup_type, "address", r->lower));
    }
    o = json_pack(
        "{s:s,s:i,s:s%,s:o,s:o,s:b,s:o}", "rid", rid, "index", (json_int_t)r->index, "email",
        r->email.s, r->email.len, "addr", r->a.ok ? json_string(r->a.bare) : json_null(), "display",
        r->a.ok ? cstr_or_null(r->a.display) : json_null(), "utf8", r->a.utf8, "drop", drop);
    json_t *ans = json_pack("{s:s,s:s%}", "id", rid, "email", r->email.s, r->email.len);
    if (r->classifier) {
        json_t *vr = json_pack("{s:s}", "classifier", r->classifier);
        if (r->message)
            json_object_set_new(vr, "message", json_string(r->message));
        json_object_set_new(ans, "validationResult", vr);
    }
    json_array_append_new(answer, ans);
    return o;
}

static json_t *block_json(struct jr *v, size_t i, json_t *answer_blocks)
{
    struct jr_block *b = &v->blocks[i];
    static const char *const kinds[] = {"to", "cc", "bcc"};
    json_t *lists[3], *alists[3], *o, *amail = json_object();
    const struct jr_email *reply = b->m.reply.email.j ? &b->m.reply : &v->mail.reply;

    for (int k = 0; k < 3; k++) {
        lists[k] = json_array();
        alists[k] = json_array();
    }
    for (size_t j = 0; j < b->nrcpt; j++) {
        const struct jr_rcpt *r = &b->rcpt[j];
        json_array_append_new(lists[r->kind], rcpt_json(v, r, (uint32_t)i, alists[r->kind]));
    }
    json_object_set_new(amail, "to", alists[0]);
    for (int k = 1; k < 3; k++) {
        if (json_array_size(alists[k]))
            json_object_set_new(amail, kinds[k], alists[k]);
        else
            json_decref(alists[k]);
    }
    json_array_append_new(answer_blocks, json_pack("{s:o}", "mail", amail));
    o = json_object();
    json_object_set_new(o, "index", json_integer((json_int_t)i));
    json_object_set_new(o, "reference", str_or_null(&b->reference));
    json_object_set_new(o, "replyTo", address(reply));
    json_object_set_new(o, "inReplyTo", eff_str(&b->m.in_reply_to, &v->mail.in_reply_to));
    json_object_set_new(o, "priority", eff_str(&b->m.priority, &v->mail.priority));
    json_object_set_new(o, "listUnsubscribe", eff_str(&b->m.list_unsub, &v->mail.list_unsub));
    json_object_set_new(o, "xHeaders", xheaders_merged(&v->mail.xheaders, &b->m.xheaders));
    json_object_set_new(o, "openTracking",
                        json_boolean(rest_jobreq_walk_bool(&b->open, v->eff.open)));
    json_object_set_new(o, "linkTracking",
                        json_boolean(rest_jobreq_walk_bool(&b->link, v->eff.link)));
    json_object_set_new(o, "personalization",
                        b->personalization.j ? json_incref(b->personalization.j) : json_null());
    for (int k = 0; k < 3; k++)
        json_object_set_new(o, kinds[k], lists[k]);
    return o;
}

static json_t *options(struct jr *v)
{
    struct jr_effective *e = &v->eff;

    return json_pack("{s:{s:b,s:s},s:{s:b},s:{s:b,s:s,s:s,s:s},s:{s:b,s:s,s:f},s:{s:b}}",
                     "antivirus", "active", e->av, "scope", e->av_scope, "traceRecover", "active",
                     e->tr, "secureDocument", "active", e->sd, "filename", e->sd_filename,
                     "subjectPrefix", e->sd_prefix, "passwordType", e->sd_pwtype, "spamCheck",
                     "active", e->sc, "mode", e->sc_mode, "threshold", e->sc_threshold,
                     "messageSigning", "active", e->ms);
}

static json_t *settings(struct jr *v)
{
    json_t *days = json_object_get(v->env->settings, "trackingWindowDays");

    return json_pack("{s:b,s:b,s:I}", "autoEscapeHtml",
                     rest_jobreq_walk_feature(v, "autoEscapeHtml"), "oneClickUnsubscribe",
                     rest_jobreq_walk_feature(v, "oneClickUnsubscribe"), "trackingWindowDays",
                     json_is_integer(days) ? json_integer_value(days) : 10);
}

static json_t *notification(struct jr *v)
{
    struct jr_notify *n = &v->notify;
    json_t *o;

    if (!n->endpoint.j || !n->url.j)
        return NULL;
    o = json_pack("{s:s%}", "url", n->url.s, n->url.len);
    if (n->headers.j && json_object_size(n->headers.j))
        json_object_set_new(o, "headers", json_deep_copy(n->headers.j));
    if (n->auth.j)
        json_object_set_new(o, "authentication",
                            json_pack("{s:s,s:s%,s:s%}", "method", n->method.s, "user", n->user.s,
                                      n->user.len, "password", n->password.s, n->password.len));
    return o;
}

int rest_jobreq_build(struct jr *v)
{
    struct jobreq_result *res = v->res;
    char ts[32];
    json_t *d = json_object(), *blocks = json_array(), *answer = json_array();
    const struct jobreq_env *env = v->env;

    timeutil_iso8601(ts, sizeof(ts), env->received_ms);
    json_object_set_new(d, "entry", json_string("rest"));
    json_object_set_new(d, "receivedTs", json_string(ts));
    json_object_set_new(d, "account",
                        json_pack("{s:I,s:s,s:s,s:o}", "id", (json_int_t)env->account_id, "name",
                                  env->account_name ? env->account_name : "", "customerNo",
                                  env->customer_no ? env->customer_no : "", "tenant",
                                  cstr_or_null(env->tenant)));
    json_object_set_new(
        d, "senderDomain",
        json_pack("{s:I,s:s}", "id", (json_int_t)v->sender.id, "domain", v->sender.domain));
    json_object_set_new(d, "referenceJob", str_or_null(&v->job.reference_job));
    json_object_set_new(d, "costCenter", str_or_null(&v->job.cost_center));
    json_object_set_new(d, "campaignId", str_or_null(&v->job.campaign_id));
    json_object_set_new(d, "subject", text_part(&v->subject, 0));
    json_object_set_new(d, "body", text_part(&v->body, 1));
    json_object_set_new(d, "alternative", text_part(&v->alternative, 0));
    json_object_set_new(d, "attachments", attachments(v));
    json_object_set_new(
        d, "mail",
        json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "from", address(&v->mail.from), "mimeFrom",
                  address(&v->mail.mime), "replyTo", address(&v->mail.reply), "inReplyTo",
                  str_or_null(&v->mail.in_reply_to), "priority", str_or_null(&v->mail.priority),
                  "listUnsubscribe", str_or_null(&v->mail.list_unsub), "xHeaders",
                  xheaders(&v->mail.xheaders)));
    for (size_t i = 0; i < v->nblocks; i++)
        json_array_append_new(blocks, block_json(v, i, answer));
    json_object_set_new(d, "blocks", blocks);
    json_object_set_new(d, "options", options(v));
    json_object_set_new(d, "settings", settings(v));
    res->data = d;
    res->content = json_pack("{s:o}", "recipients", answer);
    res->notification = notification(v);
    res->addresses = (int)v->naddr;
    for (size_t i = 0; i < v->nblocks; i++)
        for (size_t j = 0; j < v->blocks[i].nrcpt; j++)
            res->dropped += v->blocks[i].rcpt[j].drop != NULL;
    return 0;
}

/* unescaped - append raw base64 text, dropping \r \n escapes, \/ as '/' */
static void unescaped(struct buf *out, const char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        const char *bs = memchr(s + i, '\\', len - i);
        size_t n = bs ? (size_t)(bs - (s + i)) : len - i;
        buf_append(out, s + i, n);
        i += n;
        if (bs == NULL || i + 1 >= len)
            break;
        if (s[i + 1] == '/')
            buf_putc(out, '/');
        i += 2;
    }
}

/* segment - append bytes to raw and name them as [offset, length] */
static json_t *segment(struct buf *raw, const char *s, size_t len, int unescape)
{
    size_t off = raw->len;

    if (unescape)
        unescaped(raw, s, len);
    else
        buf_append(raw, s, len);
    return json_pack("[I,I]", (json_int_t)off, (json_int_t)(raw->len - off));
}

int rest_jobreq_build_rawify(const struct jobreq_result *res, json_t *data, struct buf *raw)
{
    json_t *atts = json_object_get(data, "attachments"), *a;
    size_t i;
    static const char *const parts[] = {"body", "alternative", NULL};

    json_array_foreach (atts, i, a) {
        const char *d = json_string_value(json_object_get(a, "data"));
        if (d == NULL || strncmp(d, "txmail-raw-", 11) != 0)
            continue;
        size_t k;
        for (k = 0; k < res->nraw; k++)
            if (strcmp(res->raw[k].marker, d) == 0)
                break;
        if (k == res->nraw)
            return -1;
        json_object_set_new(a, "raw", segment(raw, res->raw[k].s, res->raw[k].len, 1));
        json_object_del(a, "data");
    }
    for (int p = 0; parts[p]; p++) {
        json_t *part = json_object_get(data, parts[p]), *t = json_object_get(part, "text");
        if (!json_is_string(t) || json_string_length(t) < JOBREQ_RAW_TEXT_MIN)
            continue;
        json_object_set_new(part, "textRaw",
                            segment(raw, json_string_value(t), json_string_length(t), 0));
        json_object_del(part, "text");
    }
    return raw->data == NULL && raw->len ? -1 : 0;
}
