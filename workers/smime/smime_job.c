/*
 * smime_job - one `type:"message"` envelope: look up the sender's
 * certificate, sign, DKIM-sign again, forward; or end the address with
 * PROCESS/FINISHED/DROPPED/PROCESSING_FAILED. The manual is smime.c.
 */
#include "workers/smime/smime.h"
#include "global/addr.h"
#include "global/event.h"
#include "global/metrics.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* failed - the address ends here, with why */
static enum tx_code failed(struct job *job, const char *outcome, const char *why)
{
    json_t *d = job->env.data;
    struct tx_event ev;

    event_init(&ev);
    ev.rid = job->env.rid;
    ev.job_id = job->env.job_id;
    ev.account_id = job->env.account_id;
    ev.received_ms = job->env.created_ms;
    ev.phase = "PROCESS", ev.state = "FINISHED", ev.type = "DROPPED";
    ev.subtype = "PROCESSING_FAILED";
    ev.description = why;
    ev.email = str(d, "email") ? str(d, "email") : str(d, "rcpt");
    ev.from = str(d, "from");
    ev.mime_from = str(d, "mimeFrom");
    ev.rewrite_from = str(d, "rewriteFrom");
    ev.reference = str(d, "reference");
    ev.message_id = str(d, "messageId");
    ev.size = (long long)job->env.raw_len;
    worker_job_event(job, &ev);
    metrics_count("txmail_smime_messages_total", "outcome", outcome, 1);
    msg_info("%s: to=<%s>, status=failed (%s)", job->env.rid, str(d, "rcpt") ? str(d, "rcpt") : "",
             why);
    return TX_OK;
}

static int signing_active(json_t *d)
{
    json_t *ms = json_object_get(json_object_get(d, "options"), "messageSigning");
    json_t *a = json_object_get(ms, "active");
    return !json_is_false(a);
}

enum tx_code smime_job_handle(struct job *job)
{
    json_t *d = job->env.data;
    const char *from = str(d, "mimeFrom") ? str(d, "mimeFrom") : str(d, "from");
    struct buf sig = BUF_INIT((size_t)smime_conf.max_size), out = BUF_INIT(0);
    struct smime_dkim_seen seen;
    struct smime_held h;
    struct addr a;
    char addr[sizeof(a.bare)], err[400], why[1024];
    const char *how = "none";
    enum tx_code rc;
    int r;

    if (strcmp(job->env.type, "message") != 0 || !job->env.rid[0] || job->env.raw_len == 0) {
        worker_job_reason(job, "not a message envelope with a rid and a message");
        return TX_REJECT_MALFORMED;
    }
    if (!signing_active(d)) {
        metrics_count("txmail_smime_messages_total", "outcome", "not_requested", 1);
        msg_info("%s: status=forwarded (message signing not requested)", job->env.rid);
        worker_job_forward_input(job);
        return TX_OK;
    }
    if (from == NULL || addr_parse(from, strlen(from), &a) < 0)
        return failed(job, "no_certificate", "no signing certificate: no sender address");
    addr_lower(addr, sizeof(addr), a.bare);
    struct db *db = worker_job_db(job);
    if (db == NULL)
        return TX_RETRY_DB;
    if ((rc = smime_store_signer(db, job->env.account_id, addr, &h)) != TX_OK)
        return rc;
    int64_t now = timeutil_now_ms();
    if (!h.found || smime_signer_check(&h.s, addr, now, err, sizeof(err)) < 0) {
        if (h.found)
            snprintf(why, sizeof(why), "no signing certificate for %s (%s)", addr, err);
        else if (h.problem[0])
            snprintf(why, sizeof(why), "no signing certificate for %s (%s)", addr, h.problem);
        else
            snprintf(why, sizeof(why), "no signing certificate for %s", addr);
        smime_store_release(&h);
        return failed(job, "no_certificate", why);
    }
    r = smime_sign(&sig, job->env.raw, job->env.raw_len, &h.s, &seen, err, sizeof(err));
    smime_store_release(&h);
    if (r < 0) {
        buf_free(&sig);
        snprintf(why, sizeof(why), "message signing failed: %s", err);
        return failed(job, "failed", why);
    }
    long long dom =
        (long long)json_integer_value(json_object_get(json_object_get(d, "senderDomain"), "id"));
    buf_init(&out, sig.len + 4096 + 1);
    r = smime_dkim_resign(db, job->env.account_id, dom, &seen, sig.data, sig.len, &out, &how, err,
                          sizeof(err));
    buf_free(&sig);
    if (r == -2) {
        buf_free(&out);
        return TX_RETRY_DB;
    }
    if (r == -1) {
        buf_free(&out);
        return failed(job, "failed", err);
    }
    size_t len;
    char *raw = buf_steal(&out, &len);
    envelope_take_raw(&job->env, raw, len);
    json_object_set_new(d, "size", json_integer((json_int_t)len));
    worker_job_forward_input(job);
    metrics_count("txmail_smime_messages_total", "outcome", "signed", 1);
    msg_info("%s: to=<%s>, signer=<%s>, size=%zu, dkim=%s, status=signed", job->env.rid,
             str(d, "rcpt") ? str(d, "rcpt") : "", addr, len, how);
    return TX_OK;
}

void smime_job_expired(struct job *job)
{
    failed(job, "failed", "message signing failed: the database stayed out of reach");
}
