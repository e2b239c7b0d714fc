/*
 * bounce_job - one inbound envelope: decode it, parse the message
 * (bounce_parse), act by kind, and log one line per outcome:
 *
 *   <inbound id>: rid=<rid|->, kind=dsn, from=<sender>, status=bounced (5.1.1 userunknown)
 *
 * Delivery reports: each record with action failed (or a failure format
 * without action) becomes a BOUNCED event of its message (bounce_act.c);
 * delayed, delivered, relayed and expanded records are ignored. A
 * message is reported on at most once per inbound message, and at most
 * BOUNCE_MAX_RECORDS records of a report are looked at (each may cost a
 * database lookup). Feedback reports become a complaint and a forward of
 * the report; auto-replies are counted and logged only; replies go to
 * bounce_reply.c.
 *
 * Everything the job queued is taken back when it ends in a RETRY code
 * (the database or the scan engine failed): the redelivered copy does it
 * all again, with the same event keys and forward ids.
 */
#include "workers/bounce/bounce.h"
#include "global/metrics.h"
#include "util/jsonget.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[] = {"unknown", "dsn", "feedback", "autoreply", "reply"};

void bounce_job_log(const struct inbound *in, const char *rid, const char *kind, const char *status,
                    const char *fmt, ...)
{
    char why[1200], clean[1200], from[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    msg_printable(clean, sizeof(clean), why, strlen(why));
    msg_printable(from, sizeof(from), in->mail_from, strlen(in->mail_from));
    msg_info("%s: rid=%s, kind=%s, from=<%s>, peer=%s, status=%s (%s)", in->id,
             rid && *rid ? rid : "-", kind, from, in->peer[0] ? in->peer : "-", status, clean);
    metrics_count("txmail_bounce_outcome_total", "status", status, 1);
}

int bounce_job_decode(const struct envelope *env, struct inbound *in, char *why, size_t whysz)
{
    json_t *rcpts = json_object_get(env->data, "rcpt"), *r;
    size_t i;

    memset(in, 0, sizeof(*in));
    in->id = env->job_id;
    in->raw = env->raw;
    in->raw_len = env->raw_len;
    in->account = env->account_id;
    in->received_ms = env->created_ms;
    in->verp = -1;
    if (strcmp(env->type, "inbound") != 0)
        return snprintf(why, whysz, "not an inbound envelope (type %s)", env->type), -1;
    if (in->account <= 0 || in->received_ms <= 0)
        return snprintf(why, whysz, "inbound envelope without account or created"), -1;
    if (jsonget_strbuf(env->data, "mailFrom", in->mail_from, sizeof(in->mail_from), 1) < 0 ||
        jsonget_strbuf(env->data, "peer", in->peer, sizeof(in->peer), 0) < 0)
        return snprintf(why, whysz, "data.mailFrom or data.peer missing or too long"), -1;
    if (!json_is_array(rcpts) || json_array_size(rcpts) == 0)
        return snprintf(why, whysz, "data.rcpt is not a non-empty array"), -1;
    json_array_foreach (rcpts, i, r) {
        struct inbound_rcpt *x;
        if (in->nrcpt == BOUNCE_MAX_RCPT)
            break;
        x = &in->rcpt[in->nrcpt];
        if (jsonget_strbuf(r, "address", x->address, sizeof(x->address), 1) < 0 ||
            jsonget_strbuf(r, "kind", x->kind, sizeof(x->kind), 1) < 0 ||
            (!json_is_null(json_object_get(r, "rid")) &&
             jsonget_strbuf(r, "rid", x->rid, sizeof(x->rid), 0) < 0))
            return snprintf(why, whysz, "data.rcpt[%zu] malformed", i), -1;
        if (strcmp(x->kind, "verp") == 0 && x->rid[0] && in->verp < 0) {
            in->verp = in->nrcpt;
            snprintf(in->verp_rid, sizeof(in->verp_rid), "%s", x->rid);
        }
        in->nrcpt++;
    }
    const char *at = strrchr(in->rcpt[0].address, '@');
    snprintf(in->domain, sizeof(in->domain), "%s", at ? at + 1 : "");
    return 0;
}

/* is_failure - a record that reports a failed delivery */
static int is_failure(const struct bounce_rec *rec)
{
    static const char *const ignored[] = {"delayed", "delivered", "relayed", "expanded", NULL};

    if (strcasecmp(rec->action, "failed") == 0)
        return 1;
    for (int i = 0; ignored[i]; i++)
        if (strcasecmp(rec->action, ignored[i]) == 0)
            return 0;
    /* a failure format without action: whatever the classifier calls a bounce */
    return rec->action[0] == 0 && rec->hard != -1 && rec->status[0] != '2';
}

/* not_found - the one line of a report whose message is unknown or another tenant's */
static void not_found(const struct inbound *in, const char *kind, enum target_found f,
                      const struct target *t)
{
    if (f == TARGET_FOREIGN)
        bounce_job_log(
            in, in->verp_rid, kind, "dropped",
            "foreign or unknown recipient id: dropped; the message belongs to account %lld",
            t->account);
    else
        bounce_job_log(in, in->verp_rid, kind, "dropped",
                       "foreign or unknown recipient id: dropped");
}

/* dsn - every failed record: its message's BOUNCED event */
static enum tx_code dsn(struct job *job, struct db *db, const struct inbound *in,
                        struct bounce_report *r)
{
    char done[BOUNCE_MAX_RECORDS][64], desc[1600];
    int ndone = 0, n = r->nrecs < BOUNCE_MAX_RECORDS ? r->nrecs : BOUNCE_MAX_RECORDS;

    if (r->nrecs > n)
        bounce_job_log(in, in->verp_rid, "dsn", "ignored",
                       "%d records: the records after the first %d are not looked at", r->nrecs, n);
    for (int i = 0; i < n; i++) {
        struct bounce_rec *rec = &r->recs[i];
        struct target t;
        enum target_found f;
        enum tx_code rc;
        int dup = 0;

        bounce_act_clean(rec->diagnostic);
        bounce_act_clean(rec->rhost);
        if (!is_failure(rec)) {
            bounce_job_log(in, in->verp_rid, "dsn", "ignored", "action %s, status %s, recipient %s",
                           rec->action[0] ? rec->action : "none",
                           rec->status[0] ? rec->status : "-",
                           rec->recipient[0] ? rec->recipient : "-");
            continue;
        }
        if ((rc = bounce_target_find(db, in, r->orig_message_id, rec->recipient, &t, &f)) != TX_OK)
            return rc;
        if (f != TARGET_FOUND) {
            not_found(in, "dsn", f, &t);
            if (in->verp_rid[0])
                break; /* every record has the VERP recipient id's answer */
            continue;
        }
        for (int k = 0; k < ndone; k++)
            dup |= strcmp(done[k], t.rid) == 0;
        if (dup)
            continue;
        snprintf(done[ndone++], sizeof(done[0]), "%s", t.rid);
        bounce_act_bounced(job, in, &t, rec, i, r->mta);
        bounce_job_log(in, t.rid, "dsn", "bounced", "%s, %s %s, to=<%s>, %s",
                       t.final ? "after delivery" : "final",
                       rec->hard == 1 || !t.final ? "hard" : "soft", rec->reason, t.addr,
                       bounce_act_describe(desc, sizeof(desc), rec));
    }
    if (r->nrecs == 0)
        bounce_job_log(in, in->verp_rid, "dsn", "dropped", "a delivery report without recipients");
    return TX_OK;
}

/* feedback - the complaint, the suppression, the report forwarded */
static enum tx_code feedback(struct job *job, struct db *db, const struct inbound *in,
                             const struct bounce_report *r)
{
    const char *rcpt = r->nrecs > 0 ? r->recs[0].recipient : "";
    const char *ft = r->nrecs > 0 ? r->recs[0].feedbacktype : "";
    char fwd[320], admin[320];
    struct target t;
    enum target_found f;
    enum tx_code rc;

    if ((rc = bounce_target_find(db, in, r->orig_message_id, rcpt, &t, &f)) != TX_OK)
        return rc;
    if (f != TARGET_FOUND)
        return not_found(in, "feedback", f, &t), TX_OK;
    if ((rc = bounce_target_settings(db, in->account, fwd, sizeof(fwd), admin, sizeof(admin))) !=
        TX_OK)
        return rc;
    /* the message's own sender, never the report's Reply-To (the reporter writes it) */
    if (fwd[0] == 0)
        bounce_target_bare(t.mail_from, fwd, sizeof(fwd));
    bounce_act_complaint(job, in, &t, r, ft);
    if (fwd[0]) {
        size_t len;
        char *raw = bounce_fwd_complaint(in, &t, r, fwd, &len);
        bounce_fwd_send(job, in, &t, "complaint", fwd, raw, len);
        xfree(raw);
    }
    bounce_job_log(in, t.rid, "feedback", "complaint", "%s, to=<%s>, forwarded to %s",
                   ft[0] ? ft : "abuse", t.addr, fwd[0] ? fwd : "nobody (no address)");
    return TX_OK;
}

/* dispatch - act on the parsed report */
static enum tx_code dispatch(struct job *job, struct db *db, const struct inbound *in,
                             struct bounce_report *r)
{
    int only_verp = 1;

    for (int i = 0; i < in->nrcpt; i++)
        only_verp &= strcmp(in->rcpt[i].kind, "verp") == 0;
    switch (r->kind) {
    case BOUNCE_DSN:
        return dsn(job, db, in, r);
    case BOUNCE_FEEDBACK:
        return feedback(job, db, in, r);
    case BOUNCE_AUTOREPLY:
        bounce_job_log(in, in->verp_rid, "autoreply", "ignored", "an auto-reply is not a bounce");
        return TX_OK;
    case BOUNCE_REPLY:
        return bounce_reply_handle(job, db, in, r);
    case BOUNCE_UNKNOWN:
    default:
        /* mail to a rewrite or role address that is not a report is a reply */
        if (!only_verp)
            return bounce_reply_handle(job, db, in, r);
        bounce_job_log(in, in->verp_rid, "unknown", "dropped",
                       "neither a report nor a reply: dropped");
        return TX_OK;
    }
}

enum tx_code bounce_job_handle(struct job *job)
{
    struct inbound in;
    struct bounce_report r;
    char why[200];
    struct db *db;
    enum tx_code rc;
    size_t mark = worker_job_mark(job);

    if (bounce_job_decode(&job->env, &in, why, sizeof(why)) < 0) {
        worker_job_reason(job, "%s", why);
        msg_warn("%s: status=rejected (%s)", job->env.job_id, why);
        metrics_count("txmail_bounce_inbound_total", "kind", "malformed", 1);
        return TX_REJECT_INPUT;
    }
    if (bounce_parse(in.raw, in.raw_len, &r) < 0) {
        metrics_count("txmail_bounce_inbound_total", "kind", "unknown", 1);
        bounce_job_log(&in, in.verp_rid, "unknown", "dropped", "not a message: dropped");
        bounce_report_free(&r);
        return TX_OK;
    }
    metrics_count("txmail_bounce_inbound_total", "kind",
                  kind_names[r.kind <= BOUNCE_REPLY ? r.kind : 0], 1);
    bounce_act_identity(&in, r.message_id);
    if ((db = worker_job_db(job)) == NULL) {
        bounce_report_free(&r);
        worker_job_reason(job, "database unreachable");
        return TX_RETRY_DB;
    }
    rc = dispatch(job, db, &in, &r);
    bounce_report_free(&r);
    if (rc != TX_OK) {
        worker_job_rollback(job, mark);
        if (rc == TX_RETRY_DB)
            worker_job_reason(job, "database: %s", db_error(db));
        msg_warn("%s: rid=%s, status=deferred (%s)", in.id, in.verp_rid[0] ? in.verp_rid : "-",
                 job->reason[0] ? job->reason : txcode_name(rc));
        metrics_count("txmail_bounce_outcome_total", "status", "deferred", 1);
    }
    return rc;
}
