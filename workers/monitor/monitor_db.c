/*
 * monitor_db - txmail-monitor's statements: the job -> account lookup of
 * events that carry only a recipient id (txmail-track), the upserts of a
 * batch, the retention sweep. Table stat_minute (schema/006_stats.sql).
 */
#include "monitor.h"
#include "util/ttlcache.h"
#include "util/timeutil.h"

#include <stdio.h>

#define MONITOR_JOB_CACHE 20000
#define MONITOR_JOB_TTL_MS 3600000 /* a job's account never changes */

static const struct ttlcache_type acct_type = {sizeof(long long), NULL, NULL};
static struct ttlcache *jobs; /* job id -> account id */

enum tx_code monitor_db_account(struct db *db, const char *job, long long *account)
{
    struct db_res *r = NULL;
    enum tx_code rc;

    if (jobs == NULL)
        jobs = ttlcache_create(&acct_type, MONITOR_JOB_CACHE, 0);
    if (ttlcache_get(jobs, job, account))
        return TX_OK;
    rc = db_query(db, &r, "SELECT account_id FROM job WHERE job_id = ?", "s", job);
    if (rc != TX_OK)
        return TX_RETRY_DB;
    *account = db_res_rows(r) == 1 ? db_res_int(r, 0, 0, 0) : 0;
    db_res_free(r);
    if (*account > 0)
        ttlcache_put(jobs, job, account, MONITOR_JOB_TTL_MS);
    return TX_OK;
}

struct flush_arg {
    const struct monitor_agg *a;
    size_t n;
};

static enum tx_code flush_fn(struct db *db, void *arg)
{
    const struct flush_arg *f = arg;
    char minute[32];
    enum tx_code rc;

    for (size_t i = 0; i < f->n; i++) {
        timeutil_sql(minute, sizeof(minute), f->a[i].minute_ms);
        minute[19] = 0; /* whole minutes: DATETIME without fraction */
        rc = db_exec(db,
                     "INSERT INTO stat_minute (account_id, minute, counter, n) "
                     "VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE n = n + VALUES(n)",
                     "issi", f->a[i].account, minute, f->a[i].counter, f->a[i].n);
        if (rc != TX_OK)
            return rc;
    }
    return TX_OK;
}

enum tx_code monitor_db_flush(struct db *db, const struct monitor_agg *a, size_t n)
{
    struct flush_arg f = {a, n};

    if (n == 0)
        return TX_OK;
    return db_tx_run(db, 3, flush_fn, &f);
}

enum tx_code monitor_db_expire(struct db *db, int64_t before_ms, long long limit,
                               long long *deleted)
{
    char before[32];

    timeutil_sql(before, sizeof(before), before_ms);
    *deleted = 0;
    if (db_exec(db, "DELETE FROM stat_minute WHERE minute < ? LIMIT ?", "si", before, limit) !=
        TX_OK)
        return TX_RETRY_DB;
    *deleted = db_affected(db);
    return TX_OK;
}

void monitor_db_cache_free(void)
{
    ttlcache_free(jobs);
    jobs = NULL;
}
