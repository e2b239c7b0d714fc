/* batchloop - the batch consumer loop; see batchloop.h. */
#include "global/batchloop.h"
#include "global/metrics.h"
#include "global/tagmap.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define BATCHLOOP_SLICE_MS 10      /* longest a program blocks in its own I/O */
#define BATCHLOOP_READ_MAX 1000    /* deliveries taken per turn */
#define BATCHLOOP_CONFIRM_MS 30000
#define BATCHLOOP_FLUSH_MS 5000
#define BATCHLOOP_PARTS_MAX 10000  /* events in one broker message */

static volatile sig_atomic_t stopping;
static struct mq *consumer, *publisher;
static unsigned epoch = 1;
static struct tagmap *tags;     /* local tags of parts -> broker acks */

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

int batchloop_stopping(void)
{
    return stopping != 0;
}

struct db *batchloop_db(void)
{
    struct db_conf c;

    txconf_db(&c);
    return db_thread(&c, (int)txconf.broker_reconnect_attempts);
}

unsigned batchloop_epoch(void)
{
    return epoch;
}

/* broker_ack - what the tag map settled goes to the broker */
static void broker_ack(void *ctx, uint64_t tag, int multiple)
{
    (void)ctx;
    if (consumer == NULL || mq_broken(consumer))
        return;
    if ((multiple ? mq_ack_upto(consumer, tag) : mq_ack(consumer, tag)) != TX_OK)
        msg_warn("ack of delivery %llu failed; the broker will deliver it again",
                 (unsigned long long)tag);
}

void batchloop_ack(unsigned e, uint64_t tag)
{
    if (e == epoch)
        tagmap_ack(tags, tag);
}

void batchloop_ack_upto(unsigned e, uint64_t tag)
{
    if (e == epoch)
        tagmap_ack_upto(tags, tag);
}

/*
 * split - the parts of a broker message: the elements of a JSON array
 * of objects (several events in one message, docs/ENVELOPES.md), else
 * the message itself. Returns the array (owned) or NULL.
 */
static json_t *split(const struct mq_delivery *d)
{
    const char *p = d->body, *end = p + d->len;
    json_t *a;

    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p == end || *p != '[')
        return NULL;
    a = json_loadb(d->body, d->len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > BATCHLOOP_PARTS_MAX) {
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!json_is_object(json_array_get(a, i))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/*
 * deliver - hand a broker message to the program: each part of a split
 * message as a delivery of its own (local tags; a malformed part is then
 * dead-lettered alone), anything else as it came.
 */
static void deliver(const struct batchloop_ops *ops, void *arg, struct mq_delivery *d)
{
    json_t *a = split(d);

    if (a == NULL) {
        d->tag = tagmap_add(tags, d->tag, 1);
        ops->deliver(d, epoch, arg);
        return;
    }
    size_t n = json_array_size(a);
    uint64_t first = tagmap_add(tags, d->tag, (int)n);
    for (size_t i = 0; i < n; i++) {
        struct mq_delivery part = *d;
        part.tag = first + i;
        part.body = json_dumps(json_array_get(a, i), JSON_COMPACT);
        if (part.body == NULL)
            msg_fatal("out of memory");
        part.len = strlen(part.body);
        ops->deliver(&part, epoch, arg);
    }
    json_decref(a);
    mq_delivery_free(d);
}

void batchloop_publish(const struct batchloop_msg *m, int n)
{
    if (publisher == NULL)
        msg_panic("batchloop_publish without a publishing connection");
    if (n <= 0)
        return;
    for (int round = 0;; round++) {
        int failed = 0;

        for (int i = 0; i < n && !failed; i++) {
            struct mq_props props = {m[i].cc, NULL, m[i].dead_reason, 0};
            if (mq_publish(publisher, m[i].exchange, m[i].key, m[i].body, m[i].len,
                           &props) != TX_OK)
                failed = 1;
        }
        if (!failed && mq_wait_confirms(publisher, BATCHLOOP_CONFIRM_MS) == TX_OK)
            return;
        if (round + 1 >= 3 && !mq_broken(publisher))
            msg_fatal("the broker keeps refusing publishes (unroutable or nacked); "
                      "exiting without ack");
        msg_warn("publishing failed; reconnecting to publish again");
        if (mq_reconnect(publisher, (int)txconf.broker_reconnect_attempts) != TX_OK)
            msg_fatal("broker unreachable after %lld attempts; exiting without ack",
                      txconf.broker_reconnect_attempts);
    }
}

void batchloop_dead(const void *body, size_t len, const char *reason)
{
    char why[160];
    struct batchloop_msg m = {MQ_EXCHANGE_DEAD, "", NULL, why, body, len};

    snprintf(why, sizeof(why), "%s: %s", msg_progname(), reason);
    batchloop_publish(&m, 1);
}

/* reconnect_consumer - reopen the consuming connection or die; new epoch */
static void reconnect_consumer(const struct batchloop_ops *ops, void *arg)
{
    msg_warn("the consuming connection is gone; reconnecting");
    if (mq_reconnect(consumer, (int)txconf.broker_reconnect_attempts) != TX_OK)
        msg_fatal("broker unreachable after %lld attempts; exiting without ack",
                  txconf.broker_reconnect_attempts);
    epoch++;
    tagmap_reset(tags);
    ops->lost(arg);
}

static void periodic(const struct batchloop_ops *ops, void *arg, int64_t *last)
{
    int64_t now = time_mono_ms();

    if (now - *last < BATCHLOOP_FLUSH_MS)
        return;
    *last = now;
    if (publisher)
        mq_poll(publisher);
    metrics_gauge("txmail_inflight", ops->busy(arg));
    metrics_flush();
}

int batchloop_run(const struct batchloop_conf *conf, const struct batchloop_ops *ops,
                  void *arg)
{
    struct sigaction sa;
    struct mq_delivery d;
    int64_t last_flush = 0, stop_deadline = 0;
    int cancelled = 0;
    char *url;

    if (conf->db && batchloop_db() == NULL)
        msg_fatal("cannot connect to the database");
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    tags = tagmap_new(broker_ack, NULL);
    url = txconf_broker_url();
    consumer = mq_open_retry(url, "consumer", (int)txconf.broker_reconnect_attempts);
    if (consumer && conf->publisher)
        publisher = mq_open_retry(url, "publisher", (int)txconf.broker_reconnect_attempts);
    xwipestr(url);
    if (consumer == NULL || (conf->publisher && publisher == NULL))
        msg_fatal("cannot connect to the broker");
    if (mq_declare_topology(publisher ? publisher : consumer) != TX_OK ||
        (publisher && mq_confirm_mode(publisher) != TX_OK))
        msg_fatal("cannot set up the broker topology");
    for (int i = 0; i < BATCHLOOP_MAX_QUEUES && conf->queues[i]; i++)
        if (mq_consume(consumer, conf->queues[i], conf->prefetch) != TX_OK)
            msg_fatal("cannot consume queue %s", conf->queues[i]);
    msg_info("started: queues=%s%s%s prefetch=%d", conf->queues[0],
             conf->queues[1] ? "," : "", conf->queues[1] ? conf->queues[1] : "",
             conf->prefetch);

    for (;;) {
        if (stopping && !cancelled) {
            msg_info("stopping: finishing %d deliveries in hand", ops->busy(arg));
            if (!mq_broken(consumer) && mq_cancel(consumer) == TX_OK) {
                /* deliveries that arrived before cancel-ok are ours: finish them */
                while (!mq_broken(consumer) && mq_next(consumer, &d, 50) == 1)
                    deliver(ops, arg, &d);
            }
            cancelled = 1;
            stop_deadline = time_mono_ms() +
                            (conf->stop_timeout_ms > 0 ? conf->stop_timeout_ms : 30000);
        }
        int buffered = !cancelled && mq_has_buffered(consumer);
        int64_t wait = ops->work(buffered ? 0 : BATCHLOOP_SLICE_MS, cancelled, arg);

        if (cancelled) {
            if (mq_broken(consumer)) {
                epoch++;
                tagmap_reset(tags);
                ops->lost(arg);
            }
            if (ops->busy(arg) == 0)
                break;
            if (time_mono_ms() > stop_deadline) {
                msg_warn("stop timeout: %d deliveries in hand go back to the broker",
                         ops->busy(arg));
                break;
            }
            if (wait > 0)
                time_sleep_ms(wait < 20 ? wait : 20);
            periodic(ops, arg, &last_flush);
            continue;
        }
        if (wait < 0)
            wait = 0;
        int got = 0;
        int r = mq_next(consumer, &d, (int)(wait < 1000 ? wait : 1000));
        while (r == 1) {
            deliver(ops, arg, &d);
            if (++got >= BATCHLOOP_READ_MAX || !mq_has_buffered(consumer))
                break;
            r = mq_next(consumer, &d, 0);
        }
        if (r < 0)
            reconnect_consumer(ops, arg);
        periodic(ops, arg, &last_flush);
    }
    mq_close(consumer);
    mq_close(publisher);
    consumer = publisher = NULL;
    tagmap_free(tags);
    tags = NULL;
    metrics_remove();
    if (conf->db)
        db_thread_close();
    msg_info("stopped");
    return 0;
}
