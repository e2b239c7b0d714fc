/*
 * render_emit - what leaves txmail-render for one copy: the message
 * envelope to the next stage, its events, its log line; the envelope
 * sender (rewrite, VERP, bare from); the DKIM signatures; continuation
 * rounds of large jobs.
 */
#include "workers/render/render.h"
#include "global/addr.h"
#include "global/event.h"
#include "global/ids.h"
#include "global/metrics.h"
#include "global/mq.h"
#include "global/verp.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>

const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

int jbool(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (json_is_string(v))
        return strcmp(json_string_value(v), "true") == 0;
    return json_is_true(v);
}

int rcpt_addr_ok(const char *a)
{
    struct addr tmp;
    size_t n = a ? strlen(a) : 0;

    if (n == 0 || n > 320)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)a[i] <= 0x20 || a[i] == '<' || a[i] == '>' || a[i] == 0x7f)
            return 0;
    return addr_parse_bare(a, n, &tmp) == 0;
}

int rcpt_from_json(json_t *a, const char *kind, const char *reference, struct render_rcpt *r)
{
    json_t *drop;

    memset(r, 0, sizeof(*r));
    if (!json_is_object(a))
        return -1;
    r->rid = jstr(a, "rid");
    r->email = jstr(a, "email");
    r->addr = jstr(a, "addr");
    r->display = jstr(a, "display");
    r->kind = kind;
    r->reference = reference;
    r->utf8 = jbool(a, "utf8");
    drop = json_object_get(a, "drop");
    if (json_is_object(drop)) {
        const char *st = jstr(drop, "subType");
        r->dropped = 1;
        r->invalid = st && strcmp(st, "INVALID_ADDRESS") == 0;
    }
    if (r->rid == NULL)
        return -1;
    if (r->email == NULL)
        r->email = r->addr;
    if (r->addr == NULL && !r->dropped)
        return -1;
    return 0;
}

int emit_mail_from(const struct render_run *run, const char *rid, char *out, size_t outsz)
{
    if (run->rewrite_from[0])
        snprintf(out, outsz, "%s", run->rewrite_from);
    else if (run->dom && run->dom->bounce_domain[0] && verp_have_key()) {
        if (verp_address(rid, run->dom->bounce_domain, out, outsz) < 0)
            snprintf(out, outsz, "%s", run->from_addr);
    } else
        snprintf(out, outsz, "%s", run->from_addr);
    return 0;
}

static void base_event(struct render_run *run, const struct render_rcpt *r, struct tx_event *ev)
{
    event_init(ev);
    ev->rid = r->rid;
    ev->job_id = run->job->env.job_id;
    ev->account_id = run->job->env.account_id;
    ev->received_ms = run->job->env.created_ms;
    ev->email = r->email;
    ev->from = run->from_email;
    ev->mime_from = run->mime_from;
    ev->rewrite_from = run->rewrite_from[0] ? run->rewrite_from : NULL;
    ev->reference = r->reference;
}

static void set_copy(json_t *dst, json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);

    json_object_set(dst, key, v ? v : json_null());
}

static json_t *jstr_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

void emit_message(struct render_run *run, const struct render_rcpt *r, char *raw, size_t len,
                  const char *message_id, int smtputf8, int eightbit, const char *signed_with)
{
    struct envelope out;
    struct tx_event ev;
    char mail_from[400], pm[200];
    const struct render_domain *d = run->dom;
    json_t *data;

    emit_mail_from(run, r->rid, mail_from, sizeof(mail_from));
    job_derive(run->job, "message", &out);
    snprintf(out.rid, sizeof(out.rid), "%s", r->rid);
    data = out.data;
    json_object_set_new(data, "entry", json_string(run->entry));
    set_copy(data, run->data, "receivedTs");
    set_copy(data, run->data, "account");
    set_copy(data, run->data, "senderDomain");
    json_object_set_new(data, "mailFrom", json_string(mail_from));
    json_object_set_new(data, "rcpt", json_string(r->addr));
    json_object_set_new(data, "email", jstr_or_null(r->email));
    json_object_set_new(data, "kind", json_string(r->kind ? r->kind : "to"));
    json_object_set_new(data, "from", jstr_or_null(run->from_email));
    json_object_set_new(data, "mimeFrom", jstr_or_null(run->mime_from));
    json_object_set_new(data, "rewriteFrom", jstr_or_null(run->rewrite_from));
    json_object_set_new(data, "reference", jstr_or_null(r->reference));
    json_object_set_new(data, "messageId", json_string(message_id));
    json_object_set_new(data, "smtputf8", json_boolean(smtputf8));
    json_object_set_new(data, "eightbit", json_boolean(eightbit));
    json_object_set_new(data, "tlsEnforced", json_boolean(d && d->tls_enforced));
    json_object_set_new(data, "relayHost", jstr_or_null(d ? d->relay_host : NULL));
    json_object_set_new(data, "archiveBcc", jstr_or_null(d ? d->archive_bcc : NULL));
    json_object_set_new(data, "ipPool", jstr_or_null(d ? d->ip_pool : NULL));
    json_object_set_new(data, "size", json_integer((json_int_t)len));
    set_copy(data, run->data, "referenceJob");
    set_copy(data, run->data, "costCenter");
    set_copy(data, run->data, "campaignId");
    set_copy(data, run->data, "options");
    set_copy(data, run->data, "settings");
    /* the first-stage work is done for this address: later stages must not repeat it */
    json_object_set_new(data, "started", json_true());
    envelope_take_raw(&out, raw, len);
    job_forward(run->job, &out);

    base_event(run, r, &ev);
    ev.phase = "PROCESS", ev.state = "INTERMEDIATE", ev.type = "PROCESSED";
    ev.subtype = "PROCESSING_FINISHED";
    ev.message_id = message_id;
    ev.size = (long long)len;
    job_event(run->job, &ev);
    run->out_bytes += len;
    run->copies++;
    metrics_count("txmail_render_messages_total", "outcome", "rendered", 1);
    metrics_count("txmail_render_bytes_total", NULL, NULL, (long long)len);
    metrics_count("txmail_render_dkim_total", "signed", signed_with, 1);
    msg_info("%s: from=<%s>, to=<%s>, size=%zu, msgid=%s, mailfrom=<%s>, dkim=%s, status=rendered",
             r->rid, run->from_addr, r->addr, len, printable(pm, sizeof(pm), message_id, strlen(message_id)),
             mail_from, signed_with);
}

void emit_failed(struct render_run *run, const struct render_rcpt *r, const char *why)
{
    struct tx_event ev;

    base_event(run, r, &ev);
    ev.phase = "PROCESS", ev.state = "FINISHED", ev.type = "DROPPED";
    ev.subtype = "PROCESSING_FAILED";
    ev.description = why;
    job_event(run->job, &ev);
    run->failed++;
    metrics_count("txmail_render_messages_total", "outcome", "failed", 1);
    msg_info("%s: to=<%s>, status=failed (%s)", r->rid, r->addr ? r->addr : "", why);
}

void emit_dkim_drop(struct render_run *run, const struct render_rcpt *r, const char *message_id)
{
    struct tx_event ev;
    char why[600];

    snprintf(why, sizeof(why), "no valid DKIM signature and the domain policy is drop (%s)",
             run->dom && run->dom->dkim_problem[0] ? run->dom->dkim_problem : "no key");
    base_event(run, r, &ev);
    ev.phase = "DELIVER", ev.state = "FINISHED", ev.type = "DROPPED";
    ev.subtype = "INVALID_DKIM_SIGNATURE";
    ev.description = why;
    ev.message_id = message_id;
    job_event(run->job, &ev);
    run->failed++;
    metrics_count("txmail_render_messages_total", "outcome", "dkim_dropped", 1);
    msg_info("%s: to=<%s>, status=dropped (%s)", r->rid, r->addr ? r->addr : "", why);
}

int emit_round_full(const struct render_run *run)
{
    return run->copies > 0 && (long long)run->out_bytes >= render_p.batch_bytes;
}

void emit_continue(struct render_run *run, long long block, long long copy)
{
    struct envelope e = run->job->env;
    json_t *cursor = json_object();
    char *body;
    size_t len;

    json_t *prev = json_object_get(run->job->env.data, "cursor");
    struct uuid id;
    char owner[UUID_STR_LEN + 1];

    uuid_v4(&id);
    uuid_format(owner, &id);
    json_object_set_new(cursor, "block", json_integer(block));
    json_object_set_new(cursor, "copy", json_integer(copy));
    /* the next round and this copy's claim on it (render_round.c) */
    json_object_set_new(cursor, "round",
                        json_integer(json_integer_value(json_object_get(prev, "round")) + 1));
    json_object_set_new(cursor, "owner", json_string(owner));
    json_object_set_new(run->job->env.data, "cursor", cursor);
    e.attempt = 0;
    e.due_ms = 0;
    if (envelope_encode(&e, &body, &len) < 0)
        msg_panic("cannot encode the job's next round");
    job_publish(run->job, MQ_EXCHANGE_WORK, envelope_stage(&run->job->env), NULL, body, len);
    run->job->sync_confirm = 1; /* never two rounds of one job unacked at once */
    job_reason(run->job, "%d copies rendered; the rest in the next round (block %lld, copy %lld)",
               run->copies, block, copy);
}

int sign_copy(struct render_run *run, struct buf *out, const char *hdr, size_t hdrlen,
              const char *body, size_t bodylen, const unsigned char bh[32], const char **how,
              char *err, size_t errsz)
{
    const struct render_domain *d = run->dom;
    static const char *const names[] = {"none", "rsa-sha256", "ed25519-sha256",
                                        "rsa-sha256+ed25519-sha256"};
    int mask = 0;

    if (d == NULL || d->nsign == 0) {
        if (d && d->policy_drop)
            return 1;
        *how = "none";
    } else {
        for (int i = 0; i < d->nsign; i++) {
            if (dkim_sign(out, &d->sign[i], hdr, hdrlen, bh, run->t_sign, err, errsz) < 0)
                return -1;
            mask |= d->sign[i].alg == DKIM_RSA_SHA256 ? 1 : 2;
        }
        *how = names[mask];
    }
    if (buf_append(out, hdr, hdrlen) < 0 || buf_append(out, "\r\n", 2) < 0 ||
        buf_append(out, body, bodylen) < 0) {
        snprintf(err, errsz, "message too large");
        return -1;
    }
    return 0;
}

/* fail_list - PROCESSING_FAILED for the undropped addresses of one list, from index skip on */
static void fail_list(struct render_run *run, json_t *list, const char *kind, const char *ref,
                      long long *seen, long long skip, const char *why)
{
    size_t i;
    json_t *a;

    json_array_foreach(list, i, a) {
        struct render_rcpt r;
        if (rcpt_from_json(a, kind, ref, &r) < 0 || r.dropped)
            continue;
        if ((*seen)++ < skip)
            continue;
        emit_failed(run, &r, why);
    }
}

void render_fail_remaining(struct render_run *run, const char *why)
{
    json_t *data = run->job->env.data, *cursor = json_object_get(data, "cursor");
    long long cb = json_integer_value(json_object_get(cursor, "block"));
    long long cc = json_integer_value(json_object_get(cursor, "copy"));
    const char *entry = jstr(data, "entry");
    size_t i;
    json_t *v;

    if (entry && strcmp(entry, "smtp") == 0) { /* cursor: {block: 0, copy: n} */
        long long seen = 0;
        fail_list(run, json_object_get(data, "recipients"), "to", NULL, &seen, cc, why);
        return;
    }
    json_array_foreach(json_object_get(data, "blocks"), i, v) {
        long long seen = 0;
        if ((long long)i < cb)
            continue;
        const char *ref = jstr(v, "reference");
        long long skip = (long long)i == cb ? cc : 0;
        fail_list(run, json_object_get(v, "to"), "to", ref, &seen, skip, why);
        fail_list(run, json_object_get(v, "cc"), "cc", ref, &seen, skip, why);
        fail_list(run, json_object_get(v, "bcc"), "bcc", ref, &seen, skip, why);
    }
}
