/*
 * deliver_forward - `type:"forward"` envelopes (docs/ENVELOPES.md): a
 * message txmail forwards on an account's behalf (a reply, a complaint, a
 * notice), sent as given to data.rcpt from data.mailFrom. The manual is
 * deliver.c ("FORWARDS").
 *
 * What differs from a message: the route ignores the sender domain's
 * relay host (a forward is not the customer's mail: transport map, else
 * MX); exactly once is keyed by data.id; there is no suppression check and
 * no event of any kind; the outcome is one log line keyed by data.id and a
 * count in txmail_deliver_forward_total. The session, pool, DNS and retry
 * code are the messages'.
 */
#include "workers/deliver/deliver.h"
#include "global/metrics.h"
#include "global/runtime/worker.h"
#include "util/jsonget.h"
#include "util/msg.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

#define FWD_ID_LEN 34 /* "fw" and 32 lowercase hex digits */

struct fwd {
    const char *id, *why;
    struct dmsg m;
};

static int valid_id(const char *id)
{
    if (id == NULL || strlen(id) != FWD_ID_LEN || strncmp(id, "fw", 2) != 0)
        return 0;
    for (int i = 2; i < FWD_ID_LEN; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return 1;
}

static int has_8bit(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] & 0x80)
            return 1;
    return 0;
}

/* parse_fwd - the forward's data; -1 (job reason set) when it is unusable */
static int parse_fwd(struct job *job, struct fwd *f)
{
    json_t *d = job->env.data;

    memset(f, 0, sizeof(*f));
    f->id = jsonget_str(d, "id");
    f->why = jsonget_str(d, "why");
    f->m.rcpt = jsonget_str(d, "rcpt");
    f->m.mail_from = jsonget_str(d, "mailFrom");
    if (!valid_id(f->id)) {
        worker_job_reason(job, "forward without a valid data.id (fw + 32 lowercase hex)");
        return -1;
    }
    if (f->m.rcpt == NULL || !*f->m.rcpt || f->m.mail_from == NULL || job->env.raw_len == 0) {
        worker_job_reason(job, "forward %s without data.rcpt, data.mailFrom or raw content", f->id);
        return -1;
    }
    f->m.rid = f->id;
    f->m.raw = job->env.raw;
    f->m.raw_len = job->env.raw_len;
    f->m.eightbit = has_8bit(f->m.raw, f->m.raw_len);
    f->m.smtputf8 =
        has_8bit(f->m.rcpt, strlen(f->m.rcpt)) || has_8bit(f->m.mail_from, strlen(f->m.mail_from));
    return 0;
}

/* log_outcome - the forward's one log line, and its count */
static void log_outcome(struct job *job, const struct fwd *f, const struct outcome *o,
                        const char *status, const char *text)
{
    double delay =
        job->env.created_ms ? (double)(timeutil_now_ms() - job->env.created_ms) / 1000.0 : 0;
    char clean[REPLY_TEXT_MAX + 64], from[330], to[330], why[32] = "none";

    msg_printable(clean, sizeof(clean), text, strlen(text));
    if (f->why)
        msg_printable(why, sizeof(why), f->why, strlen(f->why));
    msg_printable(from, sizeof(from), f->m.mail_from, strlen(f->m.mail_from));
    msg_printable(to, sizeof(to), f->m.rcpt, strlen(f->m.rcpt));
    msg_info("%s: rid=%s, why=%s, from=<%s>, to=<%s>, relay=%s, delay=%.1f, tls=%s, dsn=%s, "
             "status=%s (%s)",
             f->id, job->env.rid[0] ? job->env.rid : "none", why, from, to,
             o->relay[0] ? o->relay : "none", delay, o->tls[0] ? o->tls : "none",
             o->dsn[0] ? o->dsn : "none", status, clean);
    metrics_count("txmail_deliver_forward_total", "status", status, 1);
}

/* deferred - 4xx, connection and DNS failures: the delay tiers, the reason kept for expired() */
static enum tx_code deferred(struct job *job, const struct fwd *f, const struct outcome *o)
{
    char desc[REPLY_TEXT_MAX + 400];

    deliver_reply_describe(desc, sizeof(desc), o->dsn, "deferred", o->host, o->text);
    json_object_set_new(job->env.data, "lastAttempt", json_string(desc));
    worker_job_reason(job, "%s", desc);
    log_outcome(job, f, o, "deferred", o->text);
    job->count_attempt = 1;
    return o->dns ? TX_RETRY_DNS : TX_RETRY_PEER;
}

/* deliver_forward_handle - see deliver.h */
enum tx_code deliver_forward_handle(struct job *job)
{
    struct fwd f;
    struct sent_record rec;
    struct outcome o;
    char desc[REPLY_TEXT_MAX + 400];
    struct db *db;
    int r;

    if (parse_fwd(job, &f) < 0)
        return TX_REJECT_MALFORMED;
    if ((db = worker_job_db(job)) == NULL)
        return deliver_job_db_retry(job, "database unavailable");
    if ((r = deliver_record_lookup(db, f.id, &rec)) < 0)
        return deliver_job_db_retry(job, "database: cannot read delivery_record");
    if (r == 1) {
        memset(&o, 0, sizeof(o));
        snprintf(o.relay, sizeof(o.relay), "%s", rec.host);
        snprintf(o.dsn, sizeof(o.dsn), "2.0.0");
        worker_job_reason(job, "already delivered");
        log_outcome(job, &f, &o, "sent", "already delivered");
        return TX_OK;
    }
    /* no relay host: a forward is not the account's own mail */
    deliver_send_attempt(job->ctx, &f.m, NULL, &o);
    if (o.throttled) {
        worker_job_reason(job, "%s", o.text);
        log_outcome(job, &f, &o, "throttled", o.text);
        job->retry_after_ms = deliver_conf.dest_retry;
        job->count_attempt = 0;
        return TX_RETRY_THROTTLED;
    }
    switch (o.status) {
    case DLV_SENT:
        if (deliver_record_sent(job, f.id, &o) < 0)
            metrics_count("txmail_deliver_unrecorded_total", NULL, NULL, 1);
        log_outcome(job, &f, &o, "sent", o.text);
        return TX_OK;
    case DLV_BOUNCE:
        deliver_reply_describe(desc, sizeof(desc), o.dsn, "bounced", o.host, o.text);
        worker_job_reason(job, "%s", desc);
        log_outcome(job, &f, &o, "bounced", o.text);
        return TX_REJECT_PEER;
    case DLV_DEFER:
    default:
        return deferred(job, &f, &o);
    }
}

/* deliver_forward_expired - see deliver.h */
void deliver_forward_expired(struct job *job)
{
    struct fwd f;
    struct outcome o;
    char text[REPLY_TEXT_MAX + 500];
    const char *last;

    if (parse_fwd(job, &f) < 0)
        return;
    worker_job_rollback(job, 0);
    memset(&o, 0, sizeof(o));
    last = jsonget_str(job->env.data, "lastAttempt");
    snprintf(text, sizeof(text), "forward failed: %s",
             last ? last : (job->reason[0] ? job->reason : "delivery time expired"));
    log_outcome(job, &f, &o, "expired", text);
}
