/*
 * render_emit - what leaves txmail-render for one copy: the message
 * envelope to the next stage, its events, its log line.
 */
#include "workers/render/render.h"
#include "global/event.h"
#include "global/metrics.h"
#include "util/msg.h"

#include <stdio.h>
#include <string.h>

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

void render_emit_message(struct render_run *run, const struct render_rcpt *r, char *raw, size_t len,
                         const char *message_id, int smtputf8, int eightbit,
                         const char *signed_with)
{
    struct envelope out;
    struct tx_event ev;
    char mail_from[400], pm[200];
    const struct render_domain *d = run->dom;
    json_t *data;

    render_sender_mail_from(run, r->rid, mail_from, sizeof(mail_from));
    worker_job_derive(run->job, "message", &out);
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
    if (run->secure_doc)
        json_object_set(data, "secureDocument", run->secure_doc);
    /* the first-stage work is done for this address: later stages must not repeat it */
    json_object_set_new(data, "started", json_true());
    render_trace_keep(run, r->rid, data, raw, len);
    envelope_take_raw(&out, raw, len);
    worker_job_forward(run->job, &out);

    base_event(run, r, &ev);
    ev.phase = "PROCESS", ev.state = "INTERMEDIATE", ev.type = "PROCESSED";
    ev.subtype = "PROCESSING_FINISHED";
    ev.message_id = message_id;
    ev.size = (long long)len;
    worker_job_event(run->job, &ev);
    render_trace_event(run, &ev);
    run->out_bytes += len;
    run->copies++;
    metrics_count("txmail_render_messages_total", "outcome", "rendered", 1);
    metrics_count("txmail_render_bytes_total", NULL, NULL, (long long)len);
    metrics_count("txmail_render_dkim_total", "signed", signed_with, 1);
    msg_info("%s: from=<%s>, to=<%s>, size=%zu, msgid=%s, mailfrom=<%s>, dkim=%s, status=rendered",
             r->rid, run->from_addr, r->addr, len,
             msg_printable(pm, sizeof(pm), message_id, strlen(message_id)), mail_from, signed_with);
}

void render_emit_failed(struct render_run *run, const struct render_rcpt *r, const char *why)
{
    struct tx_event ev;

    base_event(run, r, &ev);
    ev.phase = "PROCESS", ev.state = "FINISHED", ev.type = "DROPPED";
    ev.subtype = "PROCESSING_FAILED";
    ev.description = why;
    worker_job_event(run->job, &ev);
    run->failed++;
    metrics_count("txmail_render_messages_total", "outcome", "failed", 1);
    msg_info("%s: to=<%s>, status=failed (%s)", r->rid, r->addr ? r->addr : "", why);
}

void render_emit_dkim_drop(struct render_run *run, const struct render_rcpt *r,
                           const char *message_id)
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
    worker_job_event(run->job, &ev);
    run->failed++;
    metrics_count("txmail_render_messages_total", "outcome", "dkim_dropped", 1);
    msg_info("%s: to=<%s>, status=dropped (%s)", r->rid, r->addr ? r->addr : "", why);
}
