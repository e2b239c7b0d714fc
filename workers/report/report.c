/*
 * NAME
 *   txmail-report - the daily CSV reports of every technical account
 * SYNOPSIS
 *   txmail-report [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   Builds one technical account's report of one UTC day (contract §14.1,
 *   §14.2) for each `type:"report"` job {account, date} of the queue
 *   `report` (lib/global/report/reportjob.h), and stores it in MariaDB
 *   for txmail-rest's GET /email/v2/reports/{date} (§14.4) and
 *   "txmailctl report list".
 *
 *   Rows: one per recipient id of the account whose final state
 *   (message.final_at, the FINISHED event, §10.1) lies in the day
 *   [00:00:00.000, 24:00:00.000) UTC, sorted by Creation Time, then Usage
 *   - ID; the 24 columns of §14.2 and their sources are listed in
 *   lib/global/report/reportrow.h. Decisions: Message To is the address
 *   as submitted (message.email); Meta Data - ID is a version-8 UUID made
 *   of SHA-256("<account id>:<recipient id>"), so a rebuild gives every
 *   row the same id; Processing Region is processing_region.
 *
 *   Streaming: the rows come from one unbuffered SELECT (db_query_each,
 *   one row in memory); the CSV is cut into parts of report_part_rows
 *   data rows, each starting with the header row (an empty day: one
 *   header-only part), and each part is stored as report_chunk rows of
 *   at most 1 MiB (schema 004) through a second database connection.
 *   Memory is one chunk and one row whatever the day's size;
 *   max_allowed_packet needs only to exceed 1 MiB.
 *
 *   Rebuilds: a build deletes the day's old report and writes the new one
 *   in one transaction, so readers see one or the other; the same data
 *   gives the same bytes. Two builds of one day serialise on the old
 *   report's rows (the second waits, or is retried after the lock wait
 *   timeout). A job for today or a later day, for a day past the
 *   retention, or for an unknown account is refused (logged, acked).
 *
 *   Schedule: each process also runs the schedule thread
 *   (report_sched.c). Every report_schedule_interval it looks at the
 *   newest UTC day that ended report_schedule_delay ago (default: at
 *   01:00 UTC, yesterday); the process that inserts the day's
 *   report_schedule row publishes one report job per account that is not
 *   disabled, then records published_at. A claim left unpublished (the
 *   process died between claim and publish, or the broker refused) is
 *   taken up again by its owner at the next look and by any other process
 *   after report_claim_lease: the day is never lost; at worst a job is
 *   published twice and builds the same report twice. Days missed while
 *   no txmail-report ran at all are built on demand ("txmailctl report
 *   run"). The thread then deletes every report of a day more than
 *   report_retention old (contract §10.6: 180 days; on day D the oldest
 *   report kept is that of D-180, day D-181 is gone).
 *
 *   One log line per outcome:
 *     report-7-20250604: account=7, date=2025-06-04, rows=123456, parts=2,
 *       bytes=51234567, delay=4.21, status=built
 *     report-7-20250604: status=rejected (the day has not ended)
 *     schedule-2025-06-04: accounts=12, owner=host:1234, status=scheduled
 *     retention: before=2024-12-06, reports=12, status=expired
 * CONSUMES
 *   report_queue (report, bound to txmail.work): type "report" envelopes.
 * PUBLISHES
 *   txmail.work, key report: the day's report jobs (schedule thread).
 * WRITES
 *   report, report_part, report_chunk, report_schedule. Reads message, job,
 *   account.
 *
 * PARAMETERS (and the skeleton's report_queue (report), report_concurrency
 *   (2), report_prefetch, report_retry_schedule (1m,5m,15m), report_max_age
 *   (2d), report_max_attempts, report_confirm_timeout; shared:
 *   processing_region, db_*, broker_*)
 *   report_part_rows (100000)          data rows per part (contract §14.1)
 *   report_schedule (yes)              publish each day's jobs
 *   report_schedule_delay (1h)         after the end of the UTC day
 *   report_schedule_interval (60s)     how often the schedule looks
 *   report_claim_lease (10m)           an unpublished claim older than this
 *                                      is taken over by another process
 *   report_retention (180d)            reports of older days are deleted
 * METRICS (metrics_dir, besides the skeleton's)
 *   txmail_report_total{status=built|deferred|rejected}
 *   txmail_report_rows_total           data rows written
 */
#include "workers/report/report.h"
#include "global/txconf.h"
#include "util/msg.h"

struct report_conf report_conf;

static struct cfg_param report_params[] = {
    {"report_part_rows", CFG_INT, &report_conf.part_rows, "100000", 1, 100000000, 0,
     "data rows per part", 0, 0},
    {"report_schedule", CFG_BOOL, &report_conf.schedule, "yes", 0, 0, 0,
     "publish each day's report jobs", 0, 0},
    {"report_schedule_delay", CFG_TIME, &report_conf.schedule_delay_ms, "1h", 0, 86400000, 0,
     "after the end of the UTC day", 0, 0},
    {"report_schedule_interval", CFG_TIME, &report_conf.schedule_interval_ms, "60s", 100, 3600000,
     0, "how often the schedule looks", 0, 0},
    {"report_claim_lease", CFG_TIME, &report_conf.claim_lease_ms, "10m", 1000, 86400000, 0,
     "an unpublished claim is taken over after", 0, 0},
    {"report_retention", CFG_TIME, &report_conf.retention_ms, "180d", 86400000, 3650LL * 86400000,
     0, "reports kept", 0, 0},
    {0},
};

static int init(void)
{
    report_sched_start();
    return 0;
}

static void shutdown_hook(void)
{
    report_sched_stop();
}

int main(int argc, char **argv)
{
    static struct worker w = {
        .name = "report",
        .queue = "report",
        .params = report_params,
        .default_concurrency = 2,
        .default_schedule = "1m,5m,15m",
        .default_max_age = "2d",
        .init = init,
        .thread_init = report_job_thread_init,
        .thread_done = report_job_thread_done,
        .handle = report_job_handle,
        .shutdown = shutdown_hook,
    };

    return worker_main(argc, argv, &w);
}
