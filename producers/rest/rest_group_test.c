/*
 * rest_group_test - group commit, with the database replaced by a fake
 * db_tx_run (this file's): it runs fn, counts transactions and what was in
 * each, and takes 5 ms per commit, so that records queue behind a leader.
 */
#include "../../tests/harness/ttest.h"
#include "producers/rest/rest.h"
#include "global/metrics.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define THREADS 16

static pthread_mutex_t flock = PTHREAD_MUTEX_INITIALIZER;
static int transactions, committed[THREADS], in_tx[THREADS], poison = -1;

/* the fake database: a transaction fails as a whole when a record fails */
enum tx_code db_tx_run(struct db *db, int tries, enum tx_code (*fn)(struct db *, void *), void *arg)
{
    int seen[THREADS];
    enum tx_code rc;

    (void)db;
    (void)tries;
    usleep(5000);
    pthread_mutex_lock(&flock);
    memset(in_tx, 0, sizeof(in_tx));
    rc = fn(NULL, arg);
    memcpy(seen, in_tx, sizeof(seen));
    transactions++;
    if (rc == TX_OK)
        for (int i = 0; i < THREADS; i++)
            committed[i] += seen[i];
    pthread_mutex_unlock(&flock);
    return rc;
}

void metrics_count(const char *name, const char *label, const char *value, long long n)
{
    (void)name, (void)label, (void)value, (void)n;
}

static enum tx_code record(struct db *db, void *arg)
{
    int id = *(int *)arg;

    (void)db;
    in_tx[id] = 1;
    return id == poison ? TX_REJECT_POLICY : TX_OK;
}

static enum tx_code results[THREADS];
static int ids[THREADS];

static void *client(void *arg)
{
    int id = *(int *)arg;

    results[id] = rest_group_commit(NULL, record, arg);
    return NULL;
}

static void run_all(void)
{
    pthread_t t[THREADS];

    transactions = 0;
    memset(committed, 0, sizeof(committed));
    for (int i = 0; i < THREADS; i++) {
        ids[i] = i;
        pthread_create(&t[i], NULL, client, &ids[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
}

TT_TEST(concurrent_records_share_transactions)
{
    poison = -1;
    run_all();
    for (int i = 0; i < THREADS; i++) {
        TT_EQ_INT(results[i], TX_OK);
        TT_EQ_INT(committed[i], 1); /* exactly once */
    }
    /* 16 arrivals while a 5 ms commit runs: far fewer than 16 transactions */
    TT_ASSERT(transactions < THREADS / 2);
}

TT_TEST(a_failing_record_fails_alone)
{
    poison = 3;
    run_all();
    for (int i = 0; i < THREADS; i++) {
        TT_EQ_INT(results[i], i == poison ? TX_REJECT_POLICY : TX_OK);
        TT_EQ_INT(committed[i], i == poison ? 0 : 1);
    }
}

TT_MAIN(TT_CASE(concurrent_records_share_transactions), TT_CASE(a_failing_record_fails_alone))
