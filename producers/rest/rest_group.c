/*
 * rest_group - group commit of acceptance records.
 *
 * A request thread whose job the broker has confirmed hands its record
 * (a transaction body) to rest_group_commit() and waits. The first thread
 * that finds no commit running becomes the leader: it takes every queued
 * record (up to GROUP_MAX), writes them in one transaction on its own
 * database connection, and wakes their threads. Records that arrive while
 * it commits queue up for the next leader. With the database running
 * durably (innodb_flush_log_at_trx_commit=1) one log flush then serves
 * many requests: at 300 requests/s the difference between ~300 and a few
 * dozen synchronous disk flushes per second, and the flushes are what
 * stalls on a busy disk.
 *
 * A batch that fails is retried record by record, each as its own
 * transaction, so one bad record (a duplicate key, say) does not fail the
 * others; each thread gets its own record's outcome.
 */
#include "producers/rest/rest.h"
#include "global/metrics.h"
#include "util/fifo.h"

#include <pthread.h>

#define GROUP_MAX 64

struct record {
    enum tx_code (*fn)(struct db *, void *);
    void *arg;
    enum tx_code rc;
    int done;
    struct record *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct fifo queued = FIFO_INIT(struct record, next);
static int leading;

/* batch_tx - every record of the batch in the caller's transaction */
static enum tx_code batch_tx(struct db *db, void *arg)
{
    for (struct record *r = arg; r; r = r->next) {
        enum tx_code rc = r->fn(db, r->arg);
        if (rc != TX_OK)
            return rc;
    }
    return TX_OK;
}

/* commit - write a batch; fills each record's rc */
static void commit(struct db *db, struct record *batch, size_t n)
{
    if (n > 1 && db_tx_run(db, 1, batch_tx, batch) == TX_OK) {
        for (struct record *r = batch; r; r = r->next)
            r->rc = TX_OK;
        metrics_count("txmail_rest_record_transactions_total", NULL, NULL, 1);
        return;
    }
    for (struct record *r = batch; r; r = r->next) {
        struct record *next = r->next;
        r->next = NULL; /* fn sees one record */
        r->rc = db_tx_run(db, 3, r->fn, r->arg);
        r->next = next;
    }
    metrics_count("txmail_rest_record_transactions_total", NULL, NULL, (long long)n);
}

enum tx_code rest_group_commit(struct db *db, enum tx_code (*fn)(struct db *, void *), void *arg)
{
    struct record me = {fn, arg, TX_RETRY_DB, 0, NULL};

    pthread_mutex_lock(&lock);
    fifo_push(&queued, &me);
    while (!me.done) {
        if (leading) {
            pthread_cond_wait(&wake, &lock);
            continue;
        }
        size_t n;
        /* up to GROUP_MAX queued records, in arrival order */
        struct record *batch = fifo_take(&queued, GROUP_MAX, &n);
        leading = 1;
        pthread_mutex_unlock(&lock);
        commit(db, batch, n);
        pthread_mutex_lock(&lock);
        for (struct record *r = batch; r; r = r->next)
            r->done = 1; /* owners read it under the lock */
        leading = 0;
        pthread_cond_broadcast(&wake);
    }
    pthread_mutex_unlock(&lock);
    return me.rc;
}
