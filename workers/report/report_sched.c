/*
 * report_sched - the daily schedule and the retention of reports, on a
 * thread of their own in every txmail-report process.
 *
 * Every report_schedule_interval the thread looks at the newest day whose
 * end lies report_schedule_delay in the past. The first process to
 * insert that day's report_schedule row (INSERT IGNORE) owns the day: it
 * publishes one report job per active account (confirmed, in batches),
 * then sets published_at. A day claimed but not published (the owner died,
 * or the broker refused) is taken again by its owner at the next look, or
 * by any process once the claim is report_claim_lease old: the day is
 * never lost, and a job published twice only builds the same report
 * twice. Then reports of days before the retention are deleted.
 */
#include "workers/report/report.h"
#include "global/report/reportjob.h"
#include "global/report/reportstore.h"
#include "global/runtime/mqpub.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DAY_MS 86400000LL
#define PUBLISH_BATCH 100
#define CONFIRM_TIMEOUT_MS 30000

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int stopping, running;
static char owner[100];

/* claim - 1 when this process is to publish day's jobs */
static int claim(struct db *db, const char *day)
{
    char lease[32];

    timeutil_sql(lease, sizeof(lease), timeutil_now_ms() - report_conf.claim_lease_ms);
    if (db_exec(db,
                "INSERT IGNORE INTO report_schedule (day, owner, claimed_at) VALUES (?, ?, NOW(3))",
                "ss", day, owner) != TX_OK)
        return 0;
    if (db_affected(db) == 1)
        return 1;
    if (db_exec(db,
                "UPDATE report_schedule SET owner = ?, claimed_at = NOW(3) WHERE day = ? AND "
                "published_at IS NULL AND (owner = ? OR claimed_at < ?)",
                "ssss", owner, day, owner, lease) != TX_OK)
        return 0;
    return db_affected(db) == 1;
}

/* publish_batch - n report jobs, confirmed; -1 when the broker did not confirm them */
static int publish_batch(struct mqpub *pub, const struct db_res *r, size_t from, size_t n,
                         const char *day)
{
    struct mqpub_msg m[PUBLISH_BATCH];
    char *bodies[PUBLISH_BATCH];
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        if (reportjob_encode(db_res_int(r, from + i, 0, 0), day, &bodies[i], &len) < 0)
            msg_panic("report: cannot encode a report job");
        m[i] = (struct mqpub_msg){"txmail.work", REPORTJOB_STAGE, NULL, NULL, bodies[i], len, NULL};
    }
    if (mqpub_ready(pub) != TX_OK || mqpub_send(pub, m, (int)n, CONFIRM_TIMEOUT_MS) != TX_OK)
        rc = -1;
    for (size_t i = 0; i < n; i++)
        xfree(bodies[i]);
    return rc;
}

/* schedule_day - claim day and publish its jobs */
static void schedule_day(struct db *db, struct mqpub *pub, const char *day)
{
    struct db_res *r;
    size_t n;

    if (!claim(db, day))
        return;
    if (db_query(db, &r, "SELECT id FROM account WHERE disabled = 0 ORDER BY id", NULL) != TX_OK) {
        msg_warn("schedule-%s: status=deferred (database: %s)", day, db_error(db));
        return;
    }
    n = db_res_rows(r);
    for (size_t i = 0; i < n; i += PUBLISH_BATCH) {
        size_t k = n - i < PUBLISH_BATCH ? n - i : PUBLISH_BATCH;
        if (publish_batch(pub, r, i, k, day) < 0) {
            msg_warn("schedule-%s: accounts=%zu, status=deferred (broker did not confirm)", day, n);
            db_res_free(r);
            return;
        }
    }
    db_res_free(r);
    if (db_exec(db,
                "UPDATE report_schedule SET published_at = NOW(3), accounts = ? WHERE day = ? "
                "AND owner = ?",
                "iss", (long long)n, day, owner) != TX_OK)
        msg_warn("schedule-%s: accounts=%zu, status=published, unrecorded (database: %s)", day, n,
                 db_error(db));
    else
        msg_info("schedule-%s: accounts=%zu, owner=%s, status=scheduled", day, n, owner);
}

/* expire - delete reports of days before the retention */
static void expire(struct db *db)
{
    char before[16];
    long long days = 0;

    reportstore_oldest(before, timeutil_now_ms(), (int)(report_conf.retention_ms / DAY_MS));
    if (reportstore_expire(db, before, &days) != TX_OK)
        msg_warn("retention: before=%s, status=deferred (database: %s)", before, db_error(db));
    else if (days > 0)
        msg_info("retention: before=%s, reports=%lld, status=expired", before, days);
}

static void *run(void *unused)
{
    struct db_conf c;
    char *url = txconf_broker_url();
    struct mqpub *pub = mqpub_new(url, "report-schedule", MQPUB_DECLARE, 1000);
    char day[16];

    (void)unused;
    xwipestr(url);
    txconf_db(&c);
    pthread_mutex_lock(&lock);
    while (!stopping) {
        pthread_mutex_unlock(&lock);
        struct db *db = db_thread(&c, 1);
        if (db) {
            /* the newest day whose end is report_schedule_delay ago */
            int64_t t = timeutil_now_ms() - report_conf.schedule_delay_ms;
            timeutil_day(day, sizeof(day), t - t % DAY_MS - DAY_MS);
            if (report_conf.schedule)
                schedule_day(db, pub, day);
            expire(db);
        }
        pthread_mutex_lock(&lock);
        if (stopping)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + (report_conf.schedule_interval_ms % 1000) * 1000000;
        ts.tv_sec += (time_t)(report_conf.schedule_interval_ms / 1000 + ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&wake, &lock, &ts);
    }
    pthread_mutex_unlock(&lock);
    mqpub_free(pub);
    db_thread_close();
    return NULL;
}

void report_sched_start(void)
{
    char host[64] = "localhost";

    gethostname(host, sizeof(host) - 1);
    snprintf(owner, sizeof(owner), "%s:%d", host, (int)getpid());
    if (pthread_create(&thread, NULL, run, NULL) != 0)
        msg_fatal("report: cannot start the schedule thread");
    running = 1;
}

void report_sched_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&lock);
    stopping = 1;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    running = 0;
}
