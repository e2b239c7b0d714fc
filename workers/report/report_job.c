/*
 * report_job - one report job: build account's report of one day
 * (lib/global/report/reportstore.h) and log the outcome.
 */
#include "workers/report/report.h"
#include "global/metrics.h"
#include "global/report/reportjob.h"
#include "global/report/reportrow.h"
#include "global/report/reportstore.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

#define DAY_MS 86400000LL

/* a handler thread's second connection: the one the report is written through */
struct rctx {
    struct db *wr;
};

void *report_job_thread_init(void)
{
    return xcalloc(1, sizeof(struct rctx));
}

void report_job_thread_done(void *arg)
{
    struct rctx *ctx = arg;

    db_close(ctx->wr);
    xfree(ctx);
}

static struct db *writer(struct rctx *ctx)
{
    struct db_conf c;

    if (ctx->wr == NULL) {
        txconf_db(&c);
        ctx->wr = db_open(&c);
    }
    return ctx->wr;
}

/* refuse - a job that can never be built: logged, acked */
static enum tx_code refuse(struct job *job, const char *id, const char *why)
{
    worker_job_reason(job, "%s", why);
    msg_info("%s: status=rejected (%s)", id, why);
    metrics_count("txmail_report_total", "status", "rejected", 1);
    return TX_REJECT_INPUT;
}

enum tx_code report_job_handle(struct job *job)
{
    struct reportstore_build_opts o = {report_conf.part_rows, txconf.processing_region};
    struct reportstore_info info;
    long long account_id;
    char day[11], oldest[16], today[16], id[64];
    int64_t t0 = timeutil_mono_ms(), start;
    struct db *rd, *wr;
    enum tx_code rc;

    if (reportjob_decode(&job->env, &account_id, day) < 0)
        return refuse(job, job->env.job_id, "not a report job {account, date}");
    /* one id per account and day in every log line, whoever published the job */
    snprintf(id, sizeof(id), "report-%lld-%.4s%.2s%.2s", account_id, day, day + 5, day + 8);
    reportrow_day(day, &start);
    int64_t now = timeutil_now_ms();
    reportstore_oldest(oldest, now, (int)(report_conf.retention_ms / DAY_MS));
    timeutil_day(today, sizeof(today), now);
    if (strcmp(day, today) >= 0)
        return refuse(job, id, "the day has not ended");
    if (strcmp(day, oldest) < 0)
        return refuse(job, id, "the day is past the report retention");
    if ((rd = worker_job_db(job)) == NULL || (wr = writer(job->ctx)) == NULL) {
        worker_job_reason(job, "database unreachable");
        return TX_RETRY_DB;
    }
    rc = reportstore_build(rd, wr, account_id, day, &o, &info);
    if (rc == TX_REJECT_INPUT)
        return refuse(job, id, "no such account");
    if (rc != TX_OK) {
        worker_job_reason(job, "database: %s", db_error(db_errno(wr) ? wr : rd));
        msg_warn("%s: account=%lld, date=%s, status=deferred (database: %s)", id, account_id, day,
                 db_error(db_errno(wr) ? wr : rd));
        metrics_count("txmail_report_total", "status", "deferred", 1);
        return rc;
    }
    msg_info("%s: account=%lld, date=%s, rows=%lld, parts=%d, bytes=%lld, delay=%.2f, "
             "status=built",
             id, account_id, day, info.rows, info.parts, info.bytes,
             (double)(timeutil_mono_ms() - t0) / 1000.0);
    metrics_count("txmail_report_total", "status", "built", 1);
    metrics_count("txmail_report_rows_total", NULL, NULL, info.rows);
    return TX_OK;
}
