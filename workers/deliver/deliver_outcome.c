/*
 * deliver_outcome - what each outcome of a message publishes and logs:
 * its DELIVER event (with the suppression entry a bounce creates), the
 * forward to the next stage after a delivery, the one log line, and the
 * code the skeleton acts on. The manual is deliver.c.
 */
#include "workers/deliver/deliver.h"
#include "global/txconf.h"
#include "global/intake/suppress.h"
#include "global/event.h"
#include "global/manage/suppclass.h"
#include "global/metrics.h"
#include "global/runtime/worker.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

/* base_event - what every DELIVER event of the message carries */
static void base_event(struct tx_event *ev, struct job *job, const struct dreq *q)
{
    event_init(ev);
    ev->rid = job->env.rid;
    ev->job_id = job->env.job_id;
    ev->account_id = job->env.account_id;
    ev->received_ms = job->env.created_ms;
    ev->phase = "DELIVER";
    ev->email = q->email;
    ev->from = q->from;
    ev->mime_from = q->mime_from;
    ev->rewrite_from = q->rewrite_from;
    ev->reference = q->reference;
    ev->message_id = q->message_id;
    ev->size = (long long)job->env.raw_len;
}

/* log_outcome - the message's one log line, and its count */
static void log_outcome(struct job *job, const struct dreq *q, const struct outcome *o,
                        const char *status, const char *text)
{
    double delay =
        job->env.created_ms ? (double)(timeutil_now_ms() - job->env.created_ms) / 1000.0 : 0;
    char clean[REPLY_TEXT_MAX];

    msg_printable(clean, sizeof(clean), text, strlen(text));
    msg_info("%s: to=<%s>, relay=%s, delay=%.1f, tls=%s, dsn=%s, status=%s (%s)", job->env.rid,
             q->m.rcpt, o->relay[0] ? o->relay : "none", delay, o->tls[0] ? o->tls : "none", o->dsn,
             status, clean);
    metrics_count("txmail_deliver_total", "status", status, 1);
}

enum tx_code deliver_outcome_sent(struct job *job, const struct dreq *q, const struct outcome *o,
                                  const char *reply_text, const char *host, const char *code,
                                  int again)
{
    struct tx_event ev;
    char desc[REPLY_TEXT_MAX + 400];
    size_t mark = worker_job_mark(job);

    base_event(&ev, job, q);
    ev.state = "FINISHED", ev.type = "DELIVERED", ev.subtype = "OK";
    deliver_reply_describe(desc, sizeof(desc), o->dsn, "delivered", host, reply_text);
    ev.description = desc;
    ev.smtp_code = code;
    worker_job_event(job, &ev);
    if (deliver_pwmail_queue(job, again) < 0) {
        /* delivered and recorded: the retry finds the record and comes here again */
        worker_job_rollback(job, mark);
        msg_warn("%s: delivered, but the password mail job cannot be written yet: retrying",
                 job->env.rid);
        return deliver_job_db_retry(job, "database: cannot write the password mail job");
    }
    worker_job_forward_input(job);
    log_outcome(job, q, o, "sent", again ? desc : reply_text);
    return TX_OK;
}

enum tx_code deliver_outcome_again(struct job *job, const struct dreq *q,
                                   const struct sent_record *rec)
{
    struct outcome o;
    struct smtp_reply r;

    memset(&o, 0, sizeof(o));
    deliver_reply_init(&r);
    deliver_reply_feed(&r, rec->reply, strlen(rec->reply));
    if (r.code == 0)
        r.code = 250;
    deliver_reply_dsn(o.dsn, &r, 2);
    snprintf(o.relay, sizeof(o.relay), "%s", rec->host);
    worker_job_reason(job, "already delivered");
    return deliver_outcome_sent(job, q, &o, rec->reply, rec->host, rec->code, 1);
}

enum tx_code deliver_outcome_dropped(struct job *job, const struct dreq *q,
                                     const struct suppress_hit *hit)
{
    struct tx_event ev;
    char *desc = suppress_describe(hit);
    struct outcome o;

    base_event(&ev, job, q);
    ev.state = "FINISHED", ev.type = "DROPPED";
    ev.subtype = suppress_subtype(hit);
    ev.description = desc;
    json_t *x = json_pack("{s:{s:s}}", "suppressTouch", "address", q->lower);
    ev.extra = x;
    worker_job_event(job, &ev);
    json_decref(x);
    memset(&o, 0, sizeof(o));
    snprintf(o.dsn, sizeof(o.dsn), "5.7.1");
    worker_job_reason(job, "suppressed (%s)", hit->type);
    log_outcome(job, q, &o, "dropped", desc);
    xfree(desc);
    return TX_REJECT_POLICY;
}

enum tx_code deliver_outcome_bounced(struct job *job, const struct dreq *q, const struct outcome *o)
{
    struct tx_event ev;
    char desc[REPLY_TEXT_MAX + 400];
    struct suppclass sc;
    json_t *x = NULL;
    char code[8];

    base_event(&ev, job, q);
    ev.state = "FINISHED", ev.type = "BOUNCED", ev.subtype = "HARD_BOUNCE";
    deliver_reply_describe(desc, sizeof(desc), o->dsn, "bounced", o->host, o->text);
    ev.description = desc;
    if (o->code) {
        snprintf(code, sizeof(code), "%03d", o->code);
        ev.smtp_code = code;
    }
    /* without a peer's reply or a DNS answer, txmail refused the message for
     * its own sake (bad address syntax in the data, too big, SMTPUTF8):
     * suppclass then suppresses nothing */
    int flags = SUPPCLASS_PERMANENT | (!o->code && !o->dns ? SUPPCLASS_LOCAL : 0);
    if (suppclass_decide(o->dsn, o->text, flags, txconf.suppress_exclude, &sc))
        ev.extra = x = suppclass_extra(q->lower, &sc, desc);
    worker_job_event(job, &ev);
    json_decref(x);
    worker_job_reason(job, "%s", desc);
    log_outcome(job, q, o, "bounced", o->text);
    return TX_REJECT_PEER;
}

enum tx_code deliver_outcome_deferred(struct job *job, const struct dreq *q,
                                      const struct outcome *o)
{
    struct tx_event ev;
    char desc[REPLY_TEXT_MAX + 400], key[16], ts[32], code[8];

    job->env.deferrals++;
    snprintf(key, sizeof(key), "%d", job->env.deferrals);
    base_event(&ev, job, q);
    ev.state = "INTERMEDIATE", ev.type = "DEFERRED", ev.subtype = "SOFT_BOUNCE";
    ev.event_key = key;
    deliver_reply_describe(desc, sizeof(desc), o->dsn, "deferred", o->host, o->text);
    ev.description = desc;
    if (o->code) {
        snprintf(code, sizeof(code), "%03d", o->code);
        ev.smtp_code = code;
    }
    worker_job_event(job, &ev);
    /* the last failure travels with the message: expired() reports it */
    timeutil_iso8601(ts, sizeof(ts), timeutil_now_ms());
    json_t *last = json_pack("{s:s,s:s,s:s,s:s,s:s}", "dsn", o->dsn, "host", o->host, "text",
                             o->text, "smtpCode", o->code ? code : "", "ts", ts);
    json_object_set_new(job->env.data, "lastAttempt", last);
    worker_job_reason(job, "%s", desc);
    log_outcome(job, q, o, "deferred", o->text);
    job->count_attempt = 1;
    return o->dns ? TX_RETRY_DNS : TX_RETRY_PEER;
}

/*
 * deliver_outcome_throttled - the destination is at deliver_destination_concurrency_limit:
 * the message was not tried; back through the delay queues without an
 * event and without counting an attempt
 */
enum tx_code deliver_outcome_throttled(struct job *job, const struct dreq *q,
                                       const struct outcome *o)
{
    worker_job_reason(job, "%s", o->text);
    log_outcome(job, q, o, "throttled", o->text);
    job->retry_after_ms = deliver_conf.dest_retry;
    job->count_attempt = 0;
    return TX_RETRY_THROTTLED;
}

void deliver_outcome_expired(struct job *job, const struct dreq *q, const struct outcome *o,
                             const char *desc, const char *smtp_code)
{
    struct tx_event ev;
    struct suppclass sc;
    json_t *x = NULL;

    base_event(&ev, job, q);
    ev.state = "FINISHED", ev.type = "BOUNCED", ev.subtype = "SOFT_BOUNCE";
    ev.description = desc;
    ev.smtp_code = smtp_code;
    if (suppclass_decide(o->dsn, desc, 0, txconf.suppress_exclude, &sc))
        ev.extra = x = suppclass_extra(q->lower, &sc, desc);
    worker_job_event(job, &ev);
    json_decref(x);
    log_outcome(job, q, o, "expired", desc);
}
