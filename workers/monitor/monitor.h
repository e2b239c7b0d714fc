/* monitor - internal interfaces of txmail-monitor (see monitor.c). */
#ifndef TX_MONITOR_H
#define TX_MONITOR_H

#include "global/db.h"
#include "global/txcode.h"

#include <stddef.h>
#include <stdint.h>

/* ---- parameters (monitor.c) -------------------------------------------- */
struct monitor_conf {
    long long batch_max;
    int64_t flush_interval;
    int64_t retention;
    int64_t dedupe_window;
    long long dedupe_max;
};
extern struct monitor_conf monitor_conf;

/* ---- what one delivery counts (monitor_count.c) ------------------------- */
#define MONITOR_COUNTER_MAX 48 /* stat_minute.counter */
#define MONITOR_KEY_MAX 80     /* dedupe key: "e:<tag>" or "i:<job>" */

enum monitor_kind {
    MONITOR_COUNT,     /* counts: counter, account (0: resolve from job), minute, n */
    MONITOR_IGNORE,    /* valid, counts nothing (STARTED, PROCESSED, ...) */
    MONITOR_MALFORMED, /* not an intake record or event of the catalogue */
};

struct monitor_hit {
    enum monitor_kind kind;
    long long account; /* 0: the job's account is to be looked up */
    char job[37];
    int64_t minute_ms; /* start of the UTC minute of ts (intake: received) */
    char counter[MONITOR_COUNTER_MAX + 1];
    long long n;               /* recipients (intake) or 1 */
    char key[MONITOR_KEY_MAX]; /* identity for the duplicate check */
    char why[128];             /* MONITOR_MALFORMED: the reason */
};

/*
 * monitor_count_classify - what the delivery body (an intake record or an
 * event in broker form, docs/ENVELOPES.md) counts, into *h. Never fails:
 * what is not understood is MONITOR_MALFORMED with the reason.
 */
void monitor_count_classify(const void *body, size_t len, struct monitor_hit *h);

/* one aggregated increment: the row (account, minute, counter) gets n more */
struct monitor_agg {
    long long account;
    int64_t minute_ms;
    char counter[MONITOR_COUNTER_MAX + 1];
    long long n;
};

/*
 * monitor_count_merge - sort a[0..n) by (account, minute, counter) and
 * add up equal keys in place; returns the number of distinct keys.
 */
size_t monitor_count_merge(struct monitor_agg *a, size_t n);

/* ---- the database (monitor_db.c) ---------------------------------------- */
/*
 * monitor_db_account - the account of job (the acceptance record): *account
 * > 0, or 0 when there is no such job. Cached. TX_OK or TX_RETRY_DB.
 */
enum tx_code monitor_db_account(struct db *db, const char *job, long long *account);
/* monitor_db_flush - one transaction: an upsert per aggregated key. TX_OK or the failure. */
enum tx_code monitor_db_flush(struct db *db, const struct monitor_agg *a, size_t n);
/*
 * monitor_db_expire - delete up to limit rows older than before_ms;
 * *deleted gets how many. TX_OK or TX_RETRY_DB.
 */
enum tx_code monitor_db_expire(struct db *db, int64_t before_ms, long long limit,
                               long long *deleted);
/* monitor_db_cache_free - release the job -> account cache */
void monitor_db_cache_free(void);

#endif
