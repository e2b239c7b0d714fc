/*
 * NAME
 *   txmail-monitor - live per-account counters for GET /email/v2/stats
 * SYNOPSIS
 *   txmail-monitor [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   Consumes every event of txmail.events through its own queue (default
 *   events.monitor: a bounded, non-durable classic queue, see
 *   broker-config/README.md) and adds them up per account into 1-minute
 *   buckets (stat_minute), which txmail-rest serves as GET
 *   /email/v2/stats (contract §12.4). What counts as what is in
 *   monitor_count.c: accepted (the intake record's recipient ids, at the
 *   job's acceptance), delivered, deferred, bounced HARD_BOUNCE and
 *   SOFT_BOUNCE, dropped by subType, opened, clicked, unsubscribed,
 *   complaints. Each is bucketed by the UTC minute of the event's ts (the
 *   intake record: received), not by its arrival. Events that carry no
 *   account (txmail-track's) take the account of their job's acceptance
 *   record (job row, cached).
 *
 *   A batch closes at monitor_batch_max deliveries or after
 *   monitor_flush_interval. It is added up in memory and written in one
 *   transaction, one upsert per (account, minute, counter) (INSERT ... ON
 *   DUPLICATE KEY UPDATE n = n + VALUES(n)); its deliveries are acked
 *   only after the commit. Database trouble keeps the batch in hand and
 *   retries with backoff. Rows older than monitor_retention are deleted
 *   (a bounded sweep every minute); events older than that count nothing.
 *
 *   Duplicates. The event tag (contract §11.5; intake records: the job
 *   id) of every counted delivery is remembered for monitor_dedupe_window
 *   (at most monitor_dedupe_max tags, least recently used first out): a
 *   publisher's republish of the same event (the until-done policy after
 *   a reconnect) is counted once. Decision: this memory is not persistent.
 *   A crash (kill -9, power) between a batch's commit and its ack makes
 *   the broker hand the batch out again and the restarted monitor counts
 *   it a second time (at most monitor_batch_max deliveries). A persistent
 *   dedupe would cost a row per event, the very write per event that the
 *   bounded, non-durable events.monitor queue exists to avoid; that queue
 *   already loses its content on a broker restart and drops its oldest
 *   messages when full. The live counters are therefore "at least once
 *   after a crash, at most what the queue kept": the exact figures are
 *   the event table's and the daily reports'.
 *
 *   Malformed deliveries are logged, counted and acked (the recorder
 *   dead-letters its own copy); events outside the contract's catalogue
 *   and events that count nothing are acked silently. SIGTERM flushes what
 *   is in hand and stops. Logs one line per batch.
 * CONSUMES
 *   monitor_queue (events.monitor, bound to txmail.events with #): events
 *   and intake records.
 * PUBLISHES
 *   nothing.
 * WRITES
 *   stat_minute (monitor_db.c); reads job (the account of tracking events).
 * PARAMETERS
 *   monitor_queue (events.monitor)      queue consumed
 *   monitor_batch_max (1000)            deliveries per transaction
 *   monitor_flush_interval (1s)         longest wait to fill a batch
 *   monitor_prefetch (0)                0: 4 x monitor_batch_max
 *   monitor_retention (45d)             buckets older than this are deleted
 *   monitor_dedupe_window (10m)         how long a counted tag is remembered
 *   monitor_dedupe_max (200000)         tags remembered at most
 *   monitor_stop_timeout (10s)          SIGTERM: longest wait to flush
 *   and the shared parameters of txconf.h (broker, database, metrics).
 * METRICS
 *   txmail_monitor_events_total{outcome} (counted, ignored, duplicate,
 *   unresolved, expired, malformed), txmail_monitor_rows_total{op}
 *   (upsert, expired), txmail_monitor_batches_total{outcome} (ok, retry),
 *   txmail_monitor_in_hand (gauge), txmail_monitor_lag_seconds (gauge: age
 *   of the newest minute counted by the last batch),
 *   txmail_latency_seconds (batch).
 */
#include "monitor.h"
#include "global/metrics.h"
#include "global/runtime/batchloop.h"
#include "global/runtime/dbbackoff.h"
#include "global/txconf.h"
#include "util/fifo.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"
#include "util/ttlcache.h"

#include <string.h>

struct monitor_conf monitor_conf;

static struct cfg_param monitor_params[] = {
    {"monitor_batch_max", CFG_INT, &monitor_conf.batch_max, "1000", 1, 10000, 0,
     "deliveries per transaction", 0, 0},
    {"monitor_flush_interval", CFG_TIME, &monitor_conf.flush_interval, "1s", 1, 60000, 0,
     "longest wait to fill a batch", 0, 0},
    {"monitor_retention", CFG_TIME, &monitor_conf.retention, "45d", 3600000, 400LL * 86400000, 0,
     "buckets older than this are deleted", 0, 0},
    {"monitor_dedupe_window", CFG_TIME, &monitor_conf.dedupe_window, "10m", 0, 86400000, 0,
     "how long a counted event tag is remembered", 0, 0},
    {"monitor_dedupe_max", CFG_INT, &monitor_conf.dedupe_max, "200000", 0, 10000000, 0,
     "event tags remembered at most", 0, 0},
    {0},
};

static const char *const outcomes[] = {"counted",    "ignored", "duplicate",
                                       "unresolved", "expired", "malformed"};
#define MONITOR_SWEEP_MS 60000
#define MONITOR_SWEEP_ROWS 10000

struct mon_item {
    struct mq_delivery dlv;
    unsigned epoch;
    int64_t arrived_mono;
    struct mon_item *next;
};

static struct fifo pend = FIFO_INIT(struct mon_item, next);
static const struct ttlcache_type seen_type = {0, NULL, NULL}; /* presence only */
static struct ttlcache *seen;                                  /* tags counted lately */
static struct dbbackoff dbb;
static int64_t sweep_at;

static void item_free(struct mon_item *it)
{
    if (it == NULL)
        return;
    mq_delivery_free(&it->dlv);
    xfree(it);
}

static void on_deliver(struct mq_delivery *d, unsigned epoch, void *arg)
{
    struct mon_item *it = xcalloc(1, sizeof(*it));

    (void)arg;
    it->dlv = *d;
    it->epoch = epoch;
    it->arrived_mono = timeutil_mono_ms();
    fifo_push(&pend, it);
}

static void on_lost(void *arg)
{
    struct mon_item *l = fifo_take(&pend, 0, NULL);

    (void)arg;
    while (l) {
        struct mon_item *n = l->next;
        item_free(l);
        l = n;
    }
}

static int on_busy(void *arg)
{
    (void)arg;
    return (int)fifo_count(&pend);
}

static void on_report(void *arg)
{
    (void)arg;
    metrics_gauge("txmail_monitor_in_hand", (double)fifo_count(&pend));
}

static void db_trouble(const char *what, int n)
{
    dbbackoff_fail(&dbb, what, db_error(batchloop_db()), n);
    metrics_count("txmail_monitor_batches_total", "outcome", "retry", 1);
}

/* one batch being counted */
struct batch {
    struct ttlcache *keys_in;      /* keys of this batch (duplicates within it) */
    char (*keys)[MONITOR_KEY_MAX]; /* keys counted, remembered after the commit */
    struct monitor_agg *aggs;
    size_t nagg;
    int64_t oldest_ms; /* retention: older minutes count nothing */
    long long counted, ignored, duplicate, unresolved, expired, malformed;
    int64_t newest_ms;
};

/* count_one - classify one delivery and add what it counts to b. -1: database trouble. */
static int count_one(struct mon_item *it, struct batch *b)
{
    struct monitor_hit h;

    monitor_count_classify(it->dlv.body, it->dlv.len, &h);
    if (h.kind == MONITOR_MALFORMED) {
        msg_warn("delivery %llu: status=skipped (%s)", (unsigned long long)it->dlv.tag, h.why);
        b->malformed++;
        return 0;
    }
    if (h.kind == MONITOR_IGNORE) {
        b->ignored++;
        return 0;
    }
    if (ttlcache_get(seen, h.key, NULL) || ttlcache_get(b->keys_in, h.key, NULL)) {
        b->duplicate++;
        return 0;
    }
    if (h.minute_ms < b->oldest_ms) {
        b->expired++;
        return 0;
    }
    if (h.account == 0 && monitor_db_account(batchloop_db(), h.job, &h.account) != TX_OK)
        return -1;
    if (h.account == 0) {
        msg_warn("%s: counter=%s status=skipped (no account: unknown job)", h.job, h.counter);
        b->unresolved++;
        return 0;
    }
    ttlcache_put(b->keys_in, h.key, NULL, INT64_MAX);
    memcpy(b->keys[b->nagg], h.key, sizeof(h.key));
    b->aggs[b->nagg].account = h.account;
    b->aggs[b->nagg].minute_ms = h.minute_ms;
    memcpy(b->aggs[b->nagg].counter, h.counter, sizeof(h.counter));
    b->aggs[b->nagg].n = h.n;
    b->nagg++;
    b->counted++;
    if (h.minute_ms > b->newest_ms)
        b->newest_ms = h.minute_ms;
    return 0;
}

/* remember - the batch is committed: its keys count as seen for the dedupe window */
static void remember(const struct batch *b)
{
    if (monitor_conf.dedupe_window <= 0 || monitor_conf.dedupe_max <= 0)
        return;
    for (size_t i = 0; i < (size_t)b->counted; i++)
        ttlcache_put(seen, b->keys[i], NULL, monitor_conf.dedupe_window);
}

static void record_tally(const struct batch *b, size_t rows, int64_t started)
{
    metrics_count("txmail_monitor_events_total", "outcome", "counted", b->counted);
    metrics_count("txmail_monitor_events_total", "outcome", "ignored", b->ignored);
    metrics_count("txmail_monitor_events_total", "outcome", "duplicate", b->duplicate);
    metrics_count("txmail_monitor_events_total", "outcome", "unresolved", b->unresolved);
    metrics_count("txmail_monitor_events_total", "outcome", "expired", b->expired);
    metrics_count("txmail_monitor_events_total", "outcome", "malformed", b->malformed);
    metrics_count("txmail_monitor_rows_total", "op", "upsert", (long long)rows);
    metrics_count("txmail_monitor_batches_total", "outcome", "ok", 1);
    metrics_latency(timeutil_mono_ms() - started);
    if (b->newest_ms)
        metrics_gauge("txmail_monitor_lag_seconds",
                      (double)(timeutil_now_ms() - b->newest_ms) / 1000.0);
    if (b->counted || b->malformed || b->duplicate)
        msg_info("batch: counted=%lld ignored=%lld duplicate=%lld unresolved=%lld expired=%lld "
                 "malformed=%lld rows=%zu status=committed",
                 b->counted, b->ignored, b->duplicate, b->unresolved, b->expired, b->malformed,
                 rows);
}

/* process - one batch: count, write in one transaction, then ack */
static void process(void)
{
    static const struct ttlcache_type presence = {0, NULL, NULL};
    size_t cap = (size_t)monitor_conf.batch_max, rows;
    struct mon_item **items = xcalloc(cap + 1, sizeof(*items));
    struct batch b = {0};
    struct mon_item *p;
    int64_t started = timeutil_mono_ms();
    uint64_t max = 0;
    int n = 0;

    b.keys_in = ttlcache_create(&presence, cap, 0);
    b.keys = xcalloc(cap + 1, sizeof(*b.keys));
    b.aggs = xcalloc(cap + 1, sizeof(*b.aggs));
    b.oldest_ms = timeutil_now_ms() - monitor_conf.retention;
    while ((size_t)n < cap && (p = fifo_pop(&pend)) != NULL)
        items[n++] = p;
    for (int i = 0; i < n; i++)
        if (count_one(items[i], &b) < 0)
            goto trouble;
    rows = monitor_count_merge(b.aggs, b.nagg);
    if (monitor_db_flush(batchloop_db(), b.aggs, rows) != TX_OK)
        goto trouble;
    dbbackoff_ok(&dbb);
    remember(&b);
    record_tally(&b, rows, started);
    for (int i = 0; i < n; i++)
        if (items[i]->dlv.tag > max)
            max = items[i]->dlv.tag;
    /* the batch is the head of the fifo: nothing older is in hand */
    if (n > 0)
        batchloop_ack_upto(items[0]->epoch, max);
    for (int i = 0; i < n; i++)
        item_free(items[i]);
    goto out;
trouble:
    for (int i = n - 1; i >= 0; i--)
        fifo_push_front(&pend, items[i]);
    db_trouble("batch", n);
out:
    ttlcache_free(b.keys_in);
    xfree(b.keys);
    xfree(b.aggs);
    xfree(items);
}

/* sweep - delete buckets older than the retention, a bounded slice at a time */
static void sweep(int64_t now)
{
    long long deleted = 0;

    sweep_at = now + MONITOR_SWEEP_MS;
    if (monitor_db_expire(batchloop_db(), timeutil_now_ms() - monitor_conf.retention,
                          MONITOR_SWEEP_ROWS, &deleted) != TX_OK) {
        msg_warn("retention: status=deferred (%s)", db_error(batchloop_db()));
        return;
    }
    metrics_count("txmail_monitor_rows_total", "op", "expired", deleted);
    if (deleted > 0)
        msg_info("retention: deleted=%lld status=expired", deleted);
    if (deleted == MONITOR_SWEEP_ROWS)
        sweep_at = now + 1000; /* more to do: come back soon, but let batches through */
}

static int64_t on_work(int64_t budget, int stopping, void *arg)
{
    int64_t now = timeutil_mono_ms(), wait = 1000;
    struct mon_item *first;

    (void)arg;
    (void)budget;
    if (dbbackoff_wait(&dbb, now) > 0)
        return dbbackoff_wait(&dbb, now);
    if (!stopping && now >= sweep_at)
        sweep(now);
    if ((first = fifo_peek(&pend)) != NULL) {
        int64_t age = now - first->arrived_mono;
        if ((long long)fifo_count(&pend) >= monitor_conf.batch_max ||
            age >= monitor_conf.flush_interval || stopping) {
            process();
            return 0;
        }
        wait = monitor_conf.flush_interval - age;
    }
    if (sweep_at - now < wait)
        wait = sweep_at - now > 0 ? sweep_at - now : 0;
    return wait;
}

int main(int argc, char **argv)
{
    struct batchloop_conf bc;
    struct batchloop_ops ops = {on_deliver, on_work, on_lost, on_busy, on_report};

    /* monitor_queue, monitor_prefetch, monitor_stop_timeout: the runtime's */
    struct cfg_param *table = batchloop_table("monitor", monitor_params, "events.monitor", "0", 0,
                                              "prefetch (0: 4 x monitor_batch_max)", "10s");
    txconf_init(argc, argv, "monitor", table, NULL, NULL);
    long long prefetch = batchloop_p.prefetch;
    if (prefetch == 0)
        prefetch = monitor_conf.batch_max * 4 > 65535 ? 65535 : monitor_conf.batch_max * 4;
    if (prefetch < monitor_conf.batch_max)
        msg_fatal("monitor_prefetch (%lld) must be at least monitor_batch_max (%lld)", prefetch,
                  monitor_conf.batch_max);
    seen = ttlcache_create(&seen_type, (size_t)monitor_conf.dedupe_max, 0);
    /* the families exist from the start, at 0 */
    for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
        metrics_count("txmail_monitor_events_total", "outcome", outcomes[i], 0);
    memset(&bc, 0, sizeof(bc));
    bc.name = "monitor";
    bc.queues[0] = batchloop_p.queue;
    bc.prefetch = (int)prefetch;
    bc.split = 1;
    bc.db = 1;
    bc.stop_timeout_ms = batchloop_p.stop_timeout_ms;
    batchloop_run(&bc, &ops, NULL);
    ttlcache_free(seen);
    monitor_db_cache_free();
    batchloop_table_free(table);
    return 0;
}
