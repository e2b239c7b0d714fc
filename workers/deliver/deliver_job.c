/*
 * deliver_job - one message through deliver: the order of the checks
 * (exactly-once, suppression, sender domain settings), the attempt, and
 * the outcome it leads to (deliver_outcome.c); the manual is deliver.c.
 */
#include "workers/deliver/deliver.h"
#include "global/addr.h"
#include "global/metrics.h"
#include "global/intake/senderdomain.h"
#include "global/intake/suppress.h"
#include "global/runtime/worker.h"

#include <stdio.h>
#include <string.h>

/* str - a string member of o, or NULL */
static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* parse_req - the message data; -1 (job reason set) when it is unusable */
static int parse_req(struct job *job, struct dreq *q)
{
    json_t *d = job->env.data;
    struct addr a;

    memset(q, 0, sizeof(*q));
    if (strcmp(job->env.type, "message") != 0) {
        worker_job_reason(job, "envelope type \"%s\" is not a message or forward", job->env.type);
        return -1;
    }
    q->m.rid = job->env.rid;
    q->m.rcpt = str(d, "rcpt");
    if (!job->env.rid[0] || q->m.rcpt == NULL || job->env.raw_len == 0) {
        worker_job_reason(job, "message without rid, data.rcpt or raw content");
        return -1;
    }
    q->m.mail_from = str(d, "mailFrom") ? str(d, "mailFrom") : "";
    q->m.raw = job->env.raw;
    q->m.raw_len = job->env.raw_len;
    q->m.smtputf8 = json_is_true(json_object_get(d, "smtputf8"));
    q->m.eightbit = json_is_true(json_object_get(d, "eightbit"));
    q->m.tls_enforced = json_is_true(json_object_get(d, "tlsEnforced"));
    if (!q->m.eightbit)
        for (size_t i = 0; i < q->m.raw_len; i++)
            if ((unsigned char)q->m.raw[i] & 0x80) {
                q->m.eightbit = 1;
                break;
            }
    q->email = str(d, "email") ? str(d, "email") : q->m.rcpt;
    q->from = str(d, "from") ? str(d, "from") : q->m.mail_from;
    q->mime_from = str(d, "mimeFrom");
    q->rewrite_from = str(d, "rewriteFrom");
    q->reference = str(d, "reference");
    q->message_id = str(d, "messageId");
    q->relay = str(d, "relayHost");
    q->archive = str(d, "archiveBcc");
    q->domain_id =
        (long long)json_integer_value(json_object_get(json_object_get(d, "senderDomain"), "id"));
    if (addr_parse_bare(q->m.rcpt, strlen(q->m.rcpt), &a) == 0)
        addr_lower(q->lower, sizeof(q->lower), a.bare);
    else
        addr_lower(q->lower, sizeof(q->lower), q->m.rcpt);
    return 0;
}

/* deliver_job_db_retry - see deliver.h */
enum tx_code deliver_job_db_retry(struct job *job, const char *what)
{
    worker_job_reason(job, "%s", what);
    job->retry_after_ms = 10000;
    job->count_attempt = 0;
    return TX_RETRY_DB;
}

/* deliver_job_handle - see deliver.h */
enum tx_code deliver_job_handle(struct job *job)
{
    struct dctx *ctx = job->ctx;
    struct dreq q;
    struct sent_record rec;
    struct suppress_hit hit;
    struct sender_domain sd;
    struct outcome o;
    struct db *db;
    int r;

    if (strcmp(job->env.type, "forward") == 0)
        return deliver_forward_handle(job);
    if (parse_req(job, &q) < 0)
        return TX_REJECT_MALFORMED;
    if ((db = worker_job_db(job)) == NULL)
        return deliver_job_db_retry(job, "database unavailable");
    if ((r = deliver_record_lookup(db, q.m.rid, &rec)) < 0)
        return deliver_job_db_retry(job, "database: cannot read delivery_record");
    if (r == 1)
        return deliver_outcome_again(job, &q, &rec);
    if ((r = suppress_check(db, job->env.account_id, q.lower, deliver_conf.suppress_cache, &hit)) <
        0)
        return deliver_job_db_retry(job, "database: cannot read suppression");
    if (r == 1)
        return deliver_outcome_dropped(job, &q, &hit);
    /* the sender domain's relay host, enforced TLS and archive Bcc (§16.8: the
     * domain's, else the account's, else the message's) */
    memset(&sd, 0, sizeof(sd));
    if (q.domain_id > 0 && senderdomain_by_id(db, job->env.account_id, q.domain_id,
                                              deliver_conf.domain_cache, &sd) == TX_RETRY_DB)
        return deliver_job_db_retry(job, "database: cannot read sender_domain");
    q.m.tls_enforced |= sd.tls_enforced;
    if (q.relay == NULL || !*q.relay)
        q.relay = sd.relay_host;
    q.m.archive = sd.archive_bcc[0]           ? sd.archive_bcc
                  : sd.account_archive_bcc[0] ? sd.account_archive_bcc
                                              : q.archive;

    deliver_send_attempt(ctx, &q.m, q.relay, &o);
    if (o.throttled)
        return deliver_outcome_throttled(job, &q, &o);
    switch (o.status) {
    case DLV_SENT:
        if (deliver_record_sent(job, job->env.rid, &o) < 0)
            metrics_count("txmail_deliver_unrecorded_total", NULL, NULL, 1);
        {
            char code[8];
            snprintf(code, sizeof(code), "%03d", o.code);
            return deliver_outcome_sent(job, &q, &o, o.text, o.host, code, 0);
        }
    case DLV_BOUNCE:
        return deliver_outcome_bounced(job, &q, &o);
    case DLV_DEFER:
    default:
        return deliver_outcome_deferred(job, &q, &o);
    }
}

/*
 * deliver_job_expired - retries used up (deliver_max_age): the last try's
 * failure (data.lastAttempt) becomes BOUNCED/SOFT_BOUNCE
 */
void deliver_job_expired(struct job *job)
{
    struct dreq q;
    struct outcome o;
    char desc[REPLY_TEXT_MAX + 600];
    json_t *last;

    if (strcmp(job->env.type, "forward") == 0) {
        deliver_forward_expired(job);
        return;
    }
    if (parse_req(job, &q) < 0)
        return;
    /* the DEFERRED event of the last try is not sent (a retry queues nothing else) */
    worker_job_rollback(job, 0);
    memset(&o, 0, sizeof(o));
    last = json_object_get(job->env.data, "lastAttempt");
    if (json_is_object(last) && str(last, "dsn") && str(last, "text")) {
        snprintf(o.dsn, sizeof(o.dsn), "%s", str(last, "dsn"));
        deliver_reply_describe(desc, sizeof(desc), o.dsn, "bounced", str(last, "host"),
                               str(last, "text"));
    } else {
        snprintf(o.dsn, sizeof(o.dsn), "4.4.7");
        deliver_reply_describe(desc, sizeof(desc), o.dsn, "bounced", NULL,
                               job->reason[0] ? job->reason : "delivery time expired");
    }
    const char *code = json_is_object(last) ? str(last, "smtpCode") : NULL;
    deliver_outcome_expired(job, &q, &o, desc, code && *code ? code : NULL);
}
