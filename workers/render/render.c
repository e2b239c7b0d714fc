/*
 * NAME
 *   txmail-render - build, sign and fan out the messages of a job
 *
 * SYNOPSIS
 *   txmail-render [-c config] [-o name=value]... [-n] [-v]
 *
 * DESCRIPTION
 *   Consumes `type: "job"` envelopes from queue render_queue ("render";
 *   docs/ENVELOPES.md) with the worker skeleton (lib/global/runtime/worker.h).
 *
 *   First stage. When render is the job's first stage (data.started is not
 *   true), it processes the job only once the acceptance record (the `job`
 *   row) exists; it waits for it up to render_grace after acceptance
 *   (retrying through the 1 s delay queue) and then discards the job
 *   without any event. Once the record is there it publishes the intake
 *   record (key "intake.job"), the PRE_PROCESS drop events of the
 *   addresses refused at intake and PROCESSING_STARTED for the others, in
 *   the same confirmed batch as its own output (lib/global/intake/firststage.h,
 *   applied by the skeleton: worker.h first_stage_grace).
 *
 *   REST jobs (contract §8): one message per recipient block (MIME
 *   structure of §8.3, RFC 2047 headers folded at 78 columns, RFC 2231 file
 *   names, priority, In-Reply-To, List-Unsubscribe, xHeaders, no Bcc:),
 *   one copy per address with Message-ID <rid@message-id domain>. SMTP jobs
 *   (§17.4): the submitted message, with Date: and Message-ID: added only
 *   when missing. Every copy is DKIM-signed last (relaxed/relaxed,
 *   rsa-sha256, plus ed25519-sha256 when the sender domain has an Ed25519
 *   key); keys are decrypted with master_key_file and parsed once per
 *   domain, then cached. A domain without a usable key (missing, or its
 *   published DNS record does not match) is sent unsigned under policy
 *   "deliver" and dropped with DELIVER/FINISHED/DROPPED/
 *   INVALID_DKIM_SIGNATURE under policy "drop" (§10.4).
 *
 *   Envelope sender (§10.3): the account's envelope_rewrite mapping of the
 *   bare from address, else a VERP address on the sender domain's bounce
 *   domain (lib/global/verp.h), else the bare from address.
 *
 *   Trace & Recover (§16.2, render_trace.c): a job with
 *   options.traceRecover.active keeps each copy in trace_store (45 days
 *   from acceptance), written in one transaction per round before the
 *   round's outputs are published (a database failure retries the round);
 *   the envelope-from rewriting is not applied to such jobs.
 *
 *   Templates and tracking (issue 7) plug in at render_hooks.h
 *   (render_track.c): templates are parsed once per job and rendered per
 *   block (a rendering error drops that block's addresses with
 *   PROCESSING_FAILED and the §9.5 description); HTML parts get the open
 *   pixel and tracked links per address; accounts with one-click
 *   unsubscribe get txmail's URL in List-Unsubscribe with
 *   List-Unsubscribe-Post, both signed.
 *
 * CONSUMES
 *   render_queue (render, bound to txmail.work): type "job" envelopes.
 * PUBLISHES
 *   txmail.work, key = the next stage of the slip: one `type: "message"`
 *   envelope per address that was not dropped (rid set, raw = the signed
 *   message, data as docs/ENVELOPES.md "message"); a job larger than
 *   render_batch_size is rendered in rounds: the input is published again
 *   to this stage with data.cursor, in the same confirmed batch; each
 *   round is claimed in the job row first (render_round.c), so a second
 *   copy of a round left by a worker killed at the wrong moment is dropped.
 *   txmail.events: INTAKE (first stage), PRE_PROCESS drops, PROCESS/INITIAL/
 *   STARTED/PROCESSING_STARTED, PROCESS/INTERMEDIATE/PROCESSED/
 *   PROCESSING_FINISHED (content.mime.messageId, size), PROCESS/FINISHED/
 *   DROPPED/PROCESSING_FAILED (why; the block's addresses only), DELIVER/
 *   FINISHED/DROPPED/INVALID_DKIM_SIGNATURE, PROCESS/INTERMEDIATE/
 *   TRACE_RECOVER_STORE/OK (Trace & Recover: "stored until <ts>").
 *
 * WRITES
 *   the round claim in the job row (render_round.c); trace_store
 *   (Trace & Recover copies, render_trace.c).
 *   Reads job (acceptance records), sender_domain, envelope_rewrite.
 *
 * PARAMETERS
 *   render_grace (60s)                  wait this long for the acceptance record
 *   render_message_size_limit (20m)     largest built message (PROCESSING_FAILED above)
 *   render_template_message_size_limit (1m)  the same when templates are used
 *   render_batch_size (32m)             message bytes per round of a large job
 *                                       (bounds the memory one job holds)
 *   render_domain_cache_ttl (60s)       sender domains and rewrites are read again after this
 *   render_dkim_dns_check (yes)         compare the published DKIM record with the key
 *   render_dkim_dns_check_interval (1h) how often (a mismatch: within a minute)
 *   and the skeleton's render_queue (render), render_concurrency (4),
 *   render_prefetch, render_retry_schedule (5s,30s,1m,5m,15m),
 *   render_max_age (2d), render_max_attempts, render_confirm_timeout.
 *   Shared: master_key_file (required), message_id_domain, dns_servers,
 *   database and broker parameters.
 *
 * METRICS
 *   The skeleton's, plus txmail_render_messages_total{outcome=rendered|
 *   failed|dkim_dropped}, txmail_render_bytes_total and
 *   txmail_render_dkim_total{signed=rsa-sha256+ed25519-sha256|...|none}.
 *
 * LOGS
 *   One line per address: "<rid>: from=<...>, to=<...>, size=N,
 *   msgid=<...>, mailfrom=<...>, dkim=rsa-sha256, status=rendered", or
 *   status=failed (why) / status=dropped (why); the skeleton adds one
 *   line per job.
 */
#include "workers/render/render.h"
#include "global/crypto.h"
#include "global/txconf.h"
#include "global/verp.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"
#include "workers/render/render_hooks.h"

#include <stdio.h>
#include <string.h>

struct render_params render_p;
struct render_conf {
    int64_t grace;
    size_t max_message, max_template, batch;
    int64_t ttl;
    int check;
    int64_t check_interval;
};
static struct render_conf render_conf;

static struct cfg_param render_params[] = {
    {"render_grace", CFG_TIME, &render_conf.grace, "60s", 1000, 86400000, 0,
     "wait this long for the acceptance record", 0, 0},
    {"render_message_size_limit", CFG_SIZE, &render_conf.max_message, "20m", 1024, 1LL << 30, 0,
     "largest built message", 0, 0},
    {"render_template_message_size_limit", CFG_SIZE, &render_conf.max_template, "1m", 1024,
     1LL << 30, 0, "largest built message when templates are used", 0, 0},
    {"render_batch_size", CFG_SIZE, &render_conf.batch, "32m", 1, 1LL << 32, 0,
     "message bytes per round of a large job", 0, 0},
    {"render_domain_cache_ttl", CFG_TIME, &render_conf.ttl, "60s", 0, 86400000, 0,
     "sender domains and rewrites are read again after this", 0, 0},
    {"render_dkim_dns_check", CFG_BOOL, &render_conf.check, "yes", 0, 0, 0,
     "compare the published DKIM record with the key", 0, 0},
    {"render_dkim_dns_check_interval", CFG_TIME, &render_conf.check_interval, "1h", 1000,
     7LL * 86400000, 0, "how often the DKIM record is compared", 0, 0},
    {0},
};

static int init(void)
{
    render_p.max_message = (long long)render_conf.max_message;
    render_p.max_template =
        (long long)(render_conf.max_template < render_conf.max_message ? render_conf.max_template
                                                                       : render_conf.max_message);
    render_p.batch_bytes = (long long)render_conf.batch;
    render_p.domain_ttl_ms = render_conf.ttl;
    render_p.dkim_check = render_conf.check;
    render_p.dkim_check_ms = render_conf.check_interval;
    if (!*txconf.master_key)
        msg_fatal("master_key_file is not configured: DKIM keys and VERP need it");
    if (crypto_set_master_key(txconf.master_key) < 0 ||
        verp_set_key_from_master(txconf.master_key) < 0)
        msg_fatal("master_key_file must hold 64 hex digits");
    return 0;
}

/* run_setup - what every copy shares: sender, domain, envelope rewrite */
static enum tx_code run_setup(struct render_run *run)
{
    json_t *d = run->data;
    json_t *sd = json_object_get(d, "senderDomain");
    enum tx_code rc;

    if (strcmp(run->entry, "rest") == 0) {
        json_t *mail = json_object_get(d, "mail");
        run->from_email = jsonget_str(json_object_get(mail, "from"), "email");
        run->from_addr = jsonget_str(json_object_get(mail, "from"), "addr");
        run->mime_from = jsonget_str(json_object_get(mail, "mimeFrom"), "email");
    } else {
        run->from_email = jsonget_str(d, "mailFrom");
        run->from_addr = jsonget_str(d, "mailFrom");
        run->mime_from = jsonget_str(d, "mimeFrom");
    }
    if (!render_rcpt_addr_ok(run->from_addr) || !json_is_integer(json_object_get(sd, "id"))) {
        worker_job_reason(run->job, "malformed job: no usable sender or sender domain");
        return TX_REJECT_MALFORMED;
    }
    for (const char *p = run->from_addr; *p; p++)
        if ((unsigned char)*p >= 0x80)
            run->from_utf8 = 1;
    rc = render_domain_get(run->db, json_integer_value(json_object_get(sd, "id")),
                           run->job->env.account_id, &run->dom);
    if (rc != TX_OK) {
        worker_job_reason(run->job, "cannot read the sender domain: %s", db_error(run->db));
        return rc;
    }
    if (!run->dom->found)
        msg_warn("%s: sender domain %lld is no longer registered; sending unsigned",
                 worker_job_log_id(run->job), run->dom->id);
    rc = render_domain_rewrite(run->db, run->job->env.account_id, run->from_addr, run->rewrite_from,
                               sizeof(run->rewrite_from));
    if (rc != TX_OK) {
        worker_job_reason(run->job, "cannot read the envelope rewrites: %s", db_error(run->db));
        return rc;
    }
    if (run->rewrite_from[0] && !render_rcpt_addr_ok(run->rewrite_from)) {
        char pr[120];
        msg_warn("%s: envelope rewrite target \"%s\" is not an address; not used",
                 worker_job_log_id(run->job),
                 msg_printable(pr, sizeof(pr), run->rewrite_from, strlen(run->rewrite_from)));
        run->rewrite_from[0] = 0;
    }
    if (render_trace_active(run))
        run->rewrite_from[0] = 0; /* §16.2: never rewritten for Trace & Recover (render_trace.c) */
    snprintf(run->msgid_domain, sizeof(run->msgid_domain), "%s",
             run->dom->message_id_domain[0] ? run->dom->message_id_domain
                                            : txconf.message_id_domain);
    json_t *cursor = json_object_get(d, "cursor");
    run->cur_block = json_integer_value(json_object_get(cursor, "block"));
    run->cur_copy = json_integer_value(json_object_get(cursor, "copy"));
    run->t_sign = timeutil_now_ms() / 1000;
    return TX_OK;
}

/*
 * handle - one round of a job. As a first stage the skeleton has already
 * checked the acceptance record and queued the intake outputs
 * (worker_job_run): a retry keeps those and drops only this round's.
 */
static enum tx_code handle(struct job *job)
{
    struct db *db = worker_job_db(job);
    struct render_run run;
    enum tx_code rc;
    size_t mark;

    if (strcmp(job->env.type, "job") != 0) {
        worker_job_reason(job, "not a job envelope (type %s)", job->env.type);
        return TX_REJECT_MALFORMED;
    }
    if (db == NULL) {
        worker_job_reason(job, "the database is not reachable");
        return TX_RETRY_DB;
    }
    json_t *cursor = json_object_get(job->env.data, "cursor");
    const char *owner = json_string_value(json_object_get(cursor, "owner"));
    long long round = json_integer_value(json_object_get(cursor, "round"));
    if (owner && round > 0) {
        int claim = render_round_claim(db, job->env.job_id, round, owner);
        if (claim < 0) {
            worker_job_reason(job, "cannot claim round %lld: %s", round, db_error(db));
            return TX_RETRY_DB;
        }
        if (claim == 0) {
            worker_job_reason(job, "round %lld is owned by another copy of it: dropped", round);
            return TX_OK;
        }
    }
    mark = worker_job_mark(job);
    memset(&run, 0, sizeof(run));
    run.job = job;
    run.db = db;
    run.data = job->env.data;
    run.entry = jsonget_str(run.data, "entry");
    if (run.entry == NULL || (strcmp(run.entry, "rest") != 0 && strcmp(run.entry, "smtp") != 0)) {
        worker_job_reason(job, "malformed job: unknown entry");
        return TX_REJECT_MALFORMED;
    }
    rc = run_setup(&run);
    render_trace_begin(&run);
    if (rc == TX_OK)
        rc = strcmp(run.entry, "rest") == 0 ? render_job_rest(&run) : render_raw_smtp(&run);
    if (txcode_disposition(rc) != TX_DISP_RETRY) {
        enum tx_code kept = render_trace_flush(&run);
        if (kept != TX_OK)
            rc = kept;
    }
    render_trace_end(&run);
    if (txcode_disposition(rc) == TX_DISP_RETRY)
        worker_job_rollback(job, mark);
    render_track_run_done(&run);
    render_domain_release(run.dom);
    return rc;
}

/*
 * expired - the retry budget of a started job is used up (database
 * unreachable for days); a job that never started is the skeleton's
 * (worker_job_expire)
 */
static void expired(struct job *job)
{
    struct render_run run;

    memset(&run, 0, sizeof(run));
    run.job = job;
    run.data = job->env.data;
    run.entry = jsonget_str(run.data, "entry");
    if (run.entry && strcmp(run.entry, "rest") == 0) {
        json_t *mail = json_object_get(run.data, "mail");
        run.from_email = jsonget_str(json_object_get(mail, "from"), "email");
        run.from_addr = jsonget_str(json_object_get(mail, "from"), "addr");
        run.mime_from = jsonget_str(json_object_get(mail, "mimeFrom"), "email");
    } else {
        run.from_email = run.from_addr = jsonget_str(run.data, "mailFrom");
        run.mime_from = jsonget_str(run.data, "mimeFrom");
    }
    render_rcpt_fail_remaining(&run, "the message could not be rendered before the maximum age");
}

static void shutdown_render(void)
{
    render_domain_cache_clear();
}

static struct worker w = {
    .name = "render",
    .queue = "render",
    .params = render_params,
    .default_concurrency = 4,
    .default_schedule = "5s,30s,1m,5m,15m",
    .default_max_age = "2d",
    .first_stage_grace = &render_conf.grace,
    .init = init,
    .handle = handle,
    .expired = expired,
    .shutdown = shutdown_render,
};

int main(int argc, char **argv)
{
    return worker_main(argc, argv, &w);
}
