/*
 * NAME
 *   txmail-recorder - write events and message state to MariaDB
 * SYNOPSIS
 *   txmail-recorder [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   Consumes every event of txmail.events through its queue (default
 *   events.recorder) and writes, in batched transactions:
 *
 *   - intake records (key intake.job, docs/ENVELOPES.md): one `message`
 *     row per recipient (upsert of the identity columns; rday = UTC day
 *     of the job's acceptance);
 *   - events (contract §11.6): one `event` row per tag (INSERT IGNORE on
 *     (tag, rday): a replay changes nothing), with the notification
 *     element exactly as it is posted (§12.2);
 *   - the message's current state: last_* (the delivery state of §12.1:
 *     PRE_PROCESS, PROCESS and DELIVER events except TRACE_RECOVER_STORE),
 *     final_at, smtp_code, size, message_id, rewrite_from, deferrals (the
 *     highest DEFERRED eventKey), trace_until. A final state is never
 *     left; when two final events exist the earliest wins; an event older
 *     than the recorded state never replaces it. An event that comes
 *     before its intake record creates the row, and the intake record
 *     completes it;
 *   - x.suppress: the suppression entry (lifetime_s null = without end;
 *     expiry = event time + lifetime). Ranks: TEMPORARY_SUPPRESSED <
 *     PREVIOUSLY_BOUNCED < MANUAL < UNSUBSCRIBED. A stronger type replaces
 *     a weaker one; the same type refreshes the entry (created_at = the
 *     newest event, expiry never shortened); a weaker bounce class only
 *     extends a bounce entry's expiry and never touches MANUAL or
 *     UNSUBSCRIBED entries; an entry already expired at the event's time
 *     is replaced whatever its type;
 *   - x.suppressTouch (a blocked attempt): last_attempt_at, and for the
 *     resetting types (PREVIOUSLY_BOUNCED, TEMPORARY_SUPPRESSED) with a
 *     lifetime, expires_at = attempt time + lifetime_s (never shortened),
 *     only when the entry was in force at the attempt.
 *
 *   Events that lack account or mail data (tracking events carry the
 *   recipient id only) are completed from the message row; one whose row
 *   does not exist is held and tried again for recorder_orphan_wait, then
 *   dead-lettered. Events outside the contract's catalogue are ignored;
 *   malformed deliveries go to txmail.dead with their reason.
 *
 *   A batch closes at recorder_batch_max deliveries or after
 *   recorder_flush_interval; it is acked (basic.ack multiple) only after
 *   its transaction committed. Database trouble keeps the batch in hand
 *   and retries with backoff (nothing is acked, nothing lost); a batch
 *   that fails because of one delivery's data is split and the culprit
 *   dead-lettered. SIGTERM flushes what is in hand and stops.
 *   Logs one line per event and intake record, keyed by recipient id/job.
 * CONSUMES
 *   recorder_queue (events.recorder, bound to txmail.events): events and
 *   intake records.
 * PUBLISHES
 *   txmail.dead: a delivery whose data cannot be stored.
 * WRITES
 *   message, event, suppression (recorder_db.c); reads job.
 * PARAMETERS
 *   recorder_queue (events.recorder)    queue consumed
 *   recorder_batch_max (500)            deliveries per transaction
 *   recorder_flush_interval (200ms)     longest wait to fill a batch
 *   recorder_prefetch (0)               0: 4 x recorder_batch_max
 *   recorder_orphan_wait (60s)          hold events without message row
 *   recorder_log_events (yes)           one log line per event
 *   recorder_stop_timeout (30s)         SIGTERM: longest wait to flush
 *   and the shared parameters of txconf.h (broker, database, metrics).
 * METRICS
 *   txmail_recorder_events_total{outcome}, txmail_recorder_rows_total{table},
 *   txmail_recorder_batches_total{outcome}, txmail_latency_seconds (batch).
 */
#include "recorder.h"
#include "global/runtime/batchloop.h"
#include "global/runtime/dbbackoff.h"
#include "global/metrics.h"
#include "global/txconf.h"
#include "util/fifo.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

struct recorder_conf recorder_conf;

static struct cfg_param recorder_params[] = {
    {"recorder_batch_max", CFG_INT, &recorder_conf.batch_max, "500", 1, 10000, 0,
     "deliveries per transaction", 0, 0},
    {"recorder_flush_interval", CFG_TIME, &recorder_conf.flush_interval, "200ms", 1, 60000, 0,
     "longest wait to fill a batch", 0, 0},
    {"recorder_orphan_wait", CFG_TIME, &recorder_conf.orphan_wait, "60s", 0, 86400000, 0,
     "hold events whose message row is missing this long", 0, 0},
    {"recorder_log_events", CFG_BOOL, &recorder_conf.log_events, "yes", 0, 0, 0,
     "one log line per event", 0, 0},
    {0},
};

#define RECORDER_HELD_RETRY_MS 1000

static struct fifo pend = FIFO_INIT(struct rec_item, next); /* delivered, not yet written */
static struct rec_item *held;                               /* orphans */
static int nheld;
static struct dbbackoff dbb;
static long long total_rows, total_events;
static int64_t report_at;

static void item_free(struct rec_item *it)
{
    if (it == NULL)
        return;
    json_decref(it->doc);
    mq_delivery_free(&it->dlv);
    xfree(it);
}

/* ---- loop callbacks ----------------------------------------------------- */

static void on_deliver(struct mq_delivery *d, unsigned epoch, void *arg)
{
    struct rec_item *it = xcalloc(1, sizeof(*it));

    (void)arg;
    it->dlv = *d;
    it->epoch = epoch;
    it->arrived_mono = timeutil_mono_ms();
    fifo_push(&pend, it);
}

static void free_list(struct rec_item *l)
{
    while (l) {
        struct rec_item *n = l->next;
        item_free(l);
        l = n;
    }
}

static void on_lost(void *arg)
{
    (void)arg;
    free_list(fifo_take(&pend, 0, NULL));
    free_list(held);
    held = NULL;
    nheld = 0;
}

static int on_busy(void *arg)
{
    (void)arg;
    return (int)fifo_count(&pend) + (batchloop_stopping() ? 0 : nheld);
}

/* ---- settling ----------------------------------------------------------- */

/* min_outstanding - the smallest tag still in hand (pending or held) */
static uint64_t min_outstanding(void)
{
    uint64_t m = UINT64_MAX;

    for (struct rec_item *h = fifo_peek(&pend); h; h = h->next)
        if (h->dlv.tag < m)
            m = h->dlv.tag;
    for (struct rec_item *h = held; h; h = h->next)
        if (h->dlv.tag < m)
            m = h->dlv.tag;
    return m;
}

/* ack_items - ack settled items: one multiple ack when nothing older is in hand */
static void ack_items(struct rec_item **items, int n)
{
    uint64_t max = 0;
    unsigned epoch = 0;

    for (int i = 0; i < n; i++)
        if (items[i]->dlv.tag > max) {
            max = items[i]->dlv.tag;
            epoch = items[i]->epoch;
        }
    if (n == 0)
        return;
    if (min_outstanding() > max) {
        batchloop_ack_upto(epoch, max);
        return;
    }
    for (int i = 0; i < n; i++)
        batchloop_ack(items[i]->epoch, items[i]->dlv.tag);
}

static void log_item(struct rec_item *it)
{
    json_t *d = it->doc;

    if (it->kind == REC_INTAKE) {
        msg_info("%s: intake recipients=%zu status=recorded",
                 json_string_value(json_object_get(d, "job")),
                 json_array_size(json_object_get(d, "recipients")));
        return;
    }
    if (it->kind != REC_EVENT || !recorder_conf.log_events)
        return;
    msg_info("%s: event=%s/%s/%s tag=%.16s status=%s", json_string_value(json_object_get(d, "rid")),
             json_string_value(json_object_get(d, "phase")),
             json_string_value(json_object_get(d, "type")),
             json_string_value(json_object_get(d, "subType")),
             json_string_value(json_object_get(d, "tag")), it->inserted ? "recorded" : "duplicate");
}

static void count_stats(const struct rec_stats *st)
{
    metrics_count("txmail_recorder_events_total", "outcome", "recorded", st->events_new);
    metrics_count("txmail_recorder_events_total", "outcome", "duplicate", st->events_dup);
    metrics_count("txmail_recorder_rows_total", "table", "message_intake", st->intake_rows);
    metrics_count("txmail_recorder_rows_total", "table", "message_state", st->state_updates);
    metrics_count("txmail_recorder_rows_total", "table", "suppression", st->suppress_writes);
    total_rows += st->intake_rows + st->events_new + st->state_updates + st->suppress_writes;
    total_events += st->events_new + st->events_dup;
}

struct txarg {
    struct rec_item **items;
    int n;
    struct rec_stats st;
};

static enum tx_code tx_fn(struct db *d, void *arg)
{
    struct txarg *a = arg;

    return recorder_db_batch(d, a->items, a->n, &a->st);
}

/* run_tx - one transaction over items; TX_OK, or the failure */
static enum tx_code run_tx(struct rec_item **items, int n, struct rec_stats *st)
{
    struct txarg a = {items, n, {0}};
    enum tx_code rc;

    if (n == 0) {
        memset(st, 0, sizeof(*st));
        return TX_OK;
    }
    rc = db_tx_run(batchloop_db(), 3, tx_fn, &a);
    *st = a.st;
    return rc;
}

/* dead_item - dead-letter one delivery with its reason */
static void dead_item(struct rec_item *it, const char *why)
{
    msg_warn("delivery %llu: status=dead-letter (%s)", (unsigned long long)it->dlv.tag, why);
    batchloop_dead(it->dlv.body ? it->dlv.body : "", it->dlv.len, why);
    metrics_count("txmail_recorder_events_total", "outcome", "dead", 1);
}

/*
 * settle_done - items whose work is committed: orphans go to the held
 * list (resolved ones leave it), everything else is logged, acked, freed.
 */
static void settle_done(struct rec_item **items, int n)
{
    struct rec_item **acks = xcalloc((size_t)n + 1, sizeof(*acks));
    int nacks = 0;
    int64_t now = timeutil_mono_ms();

    for (int i = 0; i < n; i++) {
        struct rec_item *it = items[i];
        if (it->orphan) {
            if (it->tried_mono == 0)
                metrics_count("txmail_recorder_events_total", "outcome", "orphan", 1);
            if (it->tried_mono && now - it->arrived_mono >= recorder_conf.orphan_wait) {
                dead_item(it, "no message row for this recipient id");
                batchloop_ack(it->epoch, it->dlv.tag);
                item_free(it);
                continue;
            }
            it->tried_mono = now;
            it->next = held;
            held = it;
            nheld++;
            continue;
        }
        log_item(it);
        acks[nacks++] = it;
    }
    ack_items(acks, nacks);
    for (int i = 0; i < nacks; i++)
        item_free(acks[i]);
    xfree(acks);
}

/* requeue_front - give items back to the head of the pending list, in order */
static void requeue_front(struct rec_item **items, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        fifo_push_front(&pend, items[i]);
    }
}

static void db_trouble(const char *what)
{
    dbbackoff_fail(&dbb, what, db_error(batchloop_db()), (int)fifo_count(&pend));
    metrics_count("txmail_recorder_batches_total", "outcome", "retry", 1);
}

/* take_batch - the first recorder_batch_max pending deliveries and the held orphans due again */
static int take_batch(struct rec_item **items, int64_t now)
{
    struct rec_item *keep = NULL, *p;
    int n = 0;

    while (n < recorder_conf.batch_max && (p = fifo_pop(&pend)) != NULL) {
        p->next = NULL;
        items[n++] = p;
    }
    while (held) {
        struct rec_item *it = held;
        held = it->next;
        nheld--;
        if (now - it->tried_mono >= RECORDER_HELD_RETRY_MS || batchloop_stopping()) {
            it->next = NULL;
            items[n++] = it;
        } else {
            it->next = keep;
            keep = it;
        }
    }
    while (keep) {
        struct rec_item *it = keep;
        keep = it->next;
        it->next = held;
        held = it;
        nheld++;
    }
    return n;
}

/* decode_batch - decode; dead-letter what cannot be; ignore what is not ours; the rest into work */
static int decode_batch(struct rec_item **items, int n, struct rec_item **work)
{
    int nwork = 0;

    for (int i = 0; i < n; i++) {
        struct rec_item *it = items[i];
        char err[256];
        if (it->doc == NULL && it->kind != REC_IGNORE) {
            if (recorder_parse(it, err, sizeof(err)) < 0) {
                dead_item(it, err);
                json_decref(it->doc);
                it->doc = NULL;
                it->kind = REC_IGNORE;
            } else if (it->kind == REC_IGNORE) {
                metrics_count("txmail_recorder_events_total", "outcome", "ignored", 1);
            }
        }
        if (it->kind != REC_IGNORE)
            work[nwork++] = it;
    }
    return nwork;
}

/*
 * settle_partial - the database went away while a batch was written one
 * by one: settle the items that are done (stats st), keep the unwritten
 * ones (left, nleft of items) in hand for the next try
 */
static void settle_partial(struct rec_item **items, int n, struct rec_item **left, int nleft,
                           const struct rec_stats *st)
{
    struct rec_item **rest = xcalloc((size_t)n + 1, sizeof(*rest));
    int nrest = 0, ndone = 0;

    for (int j = 0; j < nleft; j++)
        left[j]->again = 1;
    for (int k = 0; k < n; k++) {
        if (items[k]->again) {
            items[k]->again = 0;
            rest[nrest++] = items[k];
        } else {
            items[ndone++] = items[k];
        }
    }
    requeue_front(rest, nrest);
    xfree(rest);
    count_stats(st);
    settle_done(items, ndone);
    db_trouble("split batch");
}

/*
 * split_batch - one delivery's data fails the batch: write the work one
 * delivery at a time and dead-letter the culprits; st sums what was
 * written. 0 when done; -1 when the database went away meanwhile (what
 * was done is settled, the rest is back in hand).
 */
static int split_batch(struct rec_item **items, int n, struct rec_item **work, int nwork,
                       struct rec_stats *st)
{
    struct db *db = batchloop_db();
    struct rec_stats one;

    msg_warn("batch failed on data (%u %s); retrying one by one", db_errno(db), db_error(db));
    memset(st, 0, sizeof(*st));
    for (int i = 0; i < nwork; i++) {
        enum tx_code rc = run_tx(&work[i], 1, &one);
        if (rc != TX_OK && recorder_db_data_error(db_errno(db))) {
            char why[300];
            snprintf(why, sizeof(why), "database refused the data: %u %s", db_errno(db),
                     db_error(db));
            dead_item(work[i], why);
            work[i]->kind = REC_IGNORE;
            work[i]->orphan = 0;
            continue;
        }
        if (rc != TX_OK) {
            settle_partial(items, n, work + i, nwork - i, st);
            return -1;
        }
        st->intake_rows += one.intake_rows;
        st->events_new += one.events_new;
        st->events_dup += one.events_dup;
        st->state_updates += one.state_updates;
        st->suppress_writes += one.suppress_writes;
    }
    return 0;
}

/*
 * process - one batch: the first recorder_batch_max pending deliveries
 * and the held orphans due for another try.
 */
static void process(int64_t now)
{
    int cap = (int)recorder_conf.batch_max + nheld;
    struct rec_item **items = xcalloc((size_t)cap + 1, sizeof(*items));
    struct rec_item **work = xcalloc((size_t)cap + 1, sizeof(*work));
    struct rec_stats st;
    int64_t started = timeutil_mono_ms();
    int n = take_batch(items, now);
    int nwork = decode_batch(items, n, work);
    enum tx_code rc = run_tx(work, nwork, &st);

    if (rc != TX_OK && nwork > 1 && recorder_db_data_error(db_errno(batchloop_db()))) {
        if (split_batch(items, n, work, nwork, &st) < 0)
            goto out;
    } else if (rc != TX_OK) {
        requeue_front(items, n);
        db_trouble("batch");
        goto out;
    }
    dbbackoff_ok(&dbb);
    count_stats(&st);
    metrics_count("txmail_recorder_batches_total", "outcome", "ok", 1);
    metrics_latency(timeutil_mono_ms() - started);
    settle_done(items, n);
out:
    xfree(items);
    xfree(work);
}

static int64_t on_work(int64_t budget, int stopping, void *arg)
{
    int64_t now = timeutil_mono_ms(), wait = 1000;

    (void)arg;
    (void)budget;
    if (now >= report_at) {
        if (report_at && total_events)
            msg_info("throughput: events=%lld rows=%lld in the last minute (%.0f rows/s)",
                     total_events, total_rows, total_rows / 60.0);
        total_events = total_rows = 0;
        report_at = now + 60000;
    }
    if (dbbackoff_wait(&dbb, now) > 0)
        return dbbackoff_wait(&dbb, now);
    struct rec_item *first = fifo_peek(&pend);
    if (first) {
        int64_t age = now - first->arrived_mono;
        if ((long long)fifo_count(&pend) >= recorder_conf.batch_max ||
            age >= recorder_conf.flush_interval || stopping) {
            process(now);
            return 0;
        }
        wait = recorder_conf.flush_interval - age;
    }
    if (held && !stopping) {
        int64_t oldest = INT64_MAX;
        for (struct rec_item *h = held; h; h = h->next)
            if (h->tried_mono < oldest)
                oldest = h->tried_mono;
        if (now - oldest >= RECORDER_HELD_RETRY_MS) {
            process(now);
            return 0;
        }
        if (RECORDER_HELD_RETRY_MS - (now - oldest) < wait)
            wait = RECORDER_HELD_RETRY_MS - (now - oldest);
    }
    return wait;
}

int main(int argc, char **argv)
{
    struct batchloop_conf bc;
    struct batchloop_ops ops = {on_deliver, on_work, on_lost, on_busy, NULL};

    /* recorder_queue, recorder_prefetch, recorder_stop_timeout: the runtime's */
    struct cfg_param *table = batchloop_table("recorder", recorder_params, "events.recorder", "0",
                                              0, "prefetch (0: 4 x recorder_batch_max)", "30s");
    txconf_init(argc, argv, "recorder", table, NULL, NULL);
    long long prefetch = batchloop_p.prefetch;
    if (prefetch == 0)
        prefetch = recorder_conf.batch_max * 4 > 65535 ? 65535 : recorder_conf.batch_max * 4;
    if (prefetch < recorder_conf.batch_max)
        msg_fatal("recorder_prefetch (%lld) must be at least recorder_batch_max (%lld)", prefetch,
                  recorder_conf.batch_max);
    memset(&bc, 0, sizeof(bc));
    bc.name = "recorder";
    bc.queues[0] = batchloop_p.queue;
    bc.prefetch = (int)prefetch;
    bc.split = 1;
    bc.db = 1;
    bc.stop_timeout_ms = batchloop_p.stop_timeout_ms;
    batchloop_run(&bc, &ops, NULL);
    free_list(held);
    batchloop_table_free(table);
    return 0;
}
