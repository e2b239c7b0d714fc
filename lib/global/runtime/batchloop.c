/* batchloop - the broker runtime; see batchloop.h. */
#include "global/runtime/batchloop.h"
#include "global/runtime/evbatch.h"
#include "global/metrics.h"
#include "global/runtime/tagmap.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BATCHLOOP_SLICE_MS 10   /* longest a program blocks in its own I/O */
#define BATCHLOOP_READ_MAX 1000 /* deliveries taken per turn */
#define BATCHLOOP_FLUSH_MS 5000
#define BATCHLOOP_WAIT_MAX_MS 1000
#define BATCHLOOP_STOP_MS 30000 /* stop timeout when the program names none */

struct batchloop_params batchloop_p = {NULL, 0, -1};

static volatile sig_atomic_t stopping;
static struct mq *consumer;
static struct mqpub *publisher;
static unsigned epoch = 1;
static struct tagmap *tags; /* local tags of parts -> broker acks */
static int wake_fd = -1;

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

void batchloop_wake_fd(int fd)
{
    wake_fd = fd;
}

unsigned batchloop_epoch(void)
{
    return epoch;
}

struct mqpub *batchloop_pub(void)
{
    return publisher;
}

/* ---- generated parameters ------------------------------------------------ */

struct cfg_param *batchloop_table(const char *prog, const struct cfg_param *own, const char *queue,
                                  const char *prefetch, long long prefetch_min,
                                  const char *prefetch_doc, const char *stop_timeout)
{
    int nown = 0, i;
    struct cfg_param *t;

    while (own && own[nown].name)
        nown++;
    t = xcalloc((size_t)nown + 4, sizeof(*t));
    if (nown)
        memcpy(t, own, sizeof(*t) * (size_t)nown);
    i = nown;
    t[i++] = (struct cfg_param){xasprintf("%s_queue", prog),
                                CFG_STR,
                                &batchloop_p.queue,
                                queue,
                                0,
                                0,
                                0,
                                "queue consumed",
                                0,
                                0};
    t[i++] = (struct cfg_param){xasprintf("%s_prefetch", prog),
                                CFG_INT,
                                &batchloop_p.prefetch,
                                prefetch,
                                prefetch_min,
                                65535,
                                0,
                                prefetch_doc,
                                0,
                                0};
    batchloop_p.stop_timeout_ms = -1;
    if (stop_timeout)
        t[i++] = (struct cfg_param){xasprintf("%s_stop_timeout", prog),
                                    CFG_TIME,
                                    &batchloop_p.stop_timeout_ms,
                                    stop_timeout,
                                    100,
                                    600000,
                                    0,
                                    "SIGTERM: longest wait to finish",
                                    0,
                                    0};
    return t;
}

void batchloop_table_free(struct cfg_param *t)
{
    struct cfg_param *tables[] = {txconf_params, t, NULL};

    cfg_free(tables);
    for (struct cfg_param *p = t; p->name; p++)
        if (p->ptr == &batchloop_p.queue || p->ptr == &batchloop_p.prefetch ||
            p->ptr == &batchloop_p.stop_timeout_ms)
            xfree((void *)p->name);
    xfree(t);
}

/* ---- acks and publishing -------------------------------------------------------- */

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

void batchloop_publish(const struct mqpub_msg *m, int n)
{
    if (publisher == NULL)
        msg_panic("batchloop_publish outside batchloop_run");
    mqpub_send_or_die(publisher, m, n, BATCHLOOP_CONFIRM_MS);
}

void batchloop_dead(const void *body, size_t len, const char *reason)
{
    char why[160];
    struct mqpub_msg m = {MQ_EXCHANGE_DEAD, "", NULL, why, body, len, NULL};

    snprintf(why, sizeof(why), "%s: %s", msg_progname(), reason);
    batchloop_publish(&m, 1);
}

/* ---- consuming ---------------------------------------------------------------- */

/*
 * deliver - hand a broker message to the program: with conf->split, each
 * event of an event batch as a delivery of its own (local tags; a
 * malformed event is then dead-lettered alone), anything else as it came.
 */
static void deliver(const struct batchloop_conf *conf, const struct batchloop_ops *ops, void *arg,
                    struct mq_delivery *d)
{
    json_t *a = conf->split ? evbatch_split(d->body, d->len) : NULL;

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

/*
 * new_epoch - the consuming connection is gone: every delivery not acked
 * is back with the broker. The program drops what it holds before the
 * connection is re-opened (a worker lets its running handlers finish
 * first, so a redelivered job never runs twice at once).
 */
static void new_epoch(const struct batchloop_ops *ops, void *arg)
{
    epoch++;
    tagmap_reset(tags);
    ops->lost(arg);
}

/* reconnect_consumer - reopen the consuming connection or die; new epoch */
static void reconnect_consumer(const struct batchloop_ops *ops, void *arg)
{
    msg_warn("the consuming connection is gone; reconnecting");
    new_epoch(ops, arg);
    if (mq_reconnect(consumer, (int)txconf.broker_reconnect_attempts) != TX_OK)
        msg_fatal("broker unreachable after %lld attempts; exiting without ack",
                  txconf.broker_reconnect_attempts);
}

static void periodic(const struct batchloop_ops *ops, void *arg, int64_t *last)
{
    int64_t now = timeutil_mono_ms();

    if (now - *last < BATCHLOOP_FLUSH_MS)
        return;
    *last = now;
    mqpub_poll(publisher);
    metrics_gauge("txmail_inflight", ops->busy(arg));
    if (ops->report)
        ops->report(arg);
    metrics_flush();
}

/*
 * wait_news - sleep up to ms until the broker (a delivery when consuming,
 * a confirm) or the program (its wake fd) has news
 */
static void wait_news(int64_t ms, int consuming)
{
    struct mq *pm = mqpub_conn(publisher);
    struct pollfd pfd[3] = {
        {consuming ? mq_fd(consumer) : -1, POLLIN, 0},
        {pm && mq_outstanding(pm) ? mq_fd(pm) : -1, POLLIN, 0},
        {wake_fd, POLLIN, 0},
    };

    if (poll(pfd, 3, (int)(ms < BATCHLOOP_WAIT_MAX_MS ? ms : BATCHLOOP_WAIT_MAX_MS)) > 0 &&
        (pfd[2].revents & POLLIN)) {
        uint64_t n;
        if (read(wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
            msg_warn("wake fd read: %m");
    }
}

/* connect_all - both connections, the topology, the consumers */
static void connect_all(const struct batchloop_conf *conf)
{
    char *url = txconf_broker_url();

    consumer = mq_open_retry(url, "consumer", (int)txconf.broker_reconnect_attempts);
    publisher = mqpub_new(url, "publisher", MQPUB_DECLARE, 0);
    xwipestr(url);
    if (consumer == NULL)
        msg_fatal("cannot connect to the broker");
    mqpub_open_or_die(publisher);
    for (int i = 0; i < BATCHLOOP_MAX_QUEUES && conf->queues[i]; i++)
        if (mq_consume(consumer, conf->queues[i], conf->prefetch) != TX_OK)
            msg_fatal("cannot consume queue %s", conf->queues[i]);
}

/*
 * cancel - the shutdown's first steps: cancel the consumer, wait for
 * cancel-ok and hand over what arrived before it. Returns the stop deadline.
 */
static int64_t cancel(const struct batchloop_conf *conf, const struct batchloop_ops *ops, void *arg)
{
    struct mq_delivery d;

    msg_info("stopping: finishing %d deliveries in hand", ops->busy(arg));
    if (!mq_broken(consumer) && mq_cancel(consumer) == TX_OK)
        while (!mq_broken(consumer) && mq_next(consumer, &d, 50) == 1)
            deliver(conf, ops, arg, &d);
    if (conf->stop_timeout_ms < 0)
        return INT64_MAX;
    return timeutil_mono_ms() +
           (conf->stop_timeout_ms > 0 ? conf->stop_timeout_ms : BATCHLOOP_STOP_MS);
}

/* drain - after the cancel: work until nothing is in hand or the stop deadline */
static void drain(const struct batchloop_ops *ops, void *arg, int64_t deadline, int64_t *last)
{
    for (;;) {
        int64_t wait = ops->work(BATCHLOOP_SLICE_MS, 1, arg);

        if (mq_broken(consumer) && ops->busy(arg))
            new_epoch(ops, arg);
        if (ops->busy(arg) == 0)
            return;
        if (timeutil_mono_ms() > deadline) {
            msg_warn("stop timeout: %d deliveries in hand go back to the broker", ops->busy(arg));
            return;
        }
        if (wait > 0)
            wait_news(wait < 20 ? wait : 20, 0);
        periodic(ops, arg, last);
    }
}

/* take - the deliveries the broker has sent, up to BATCHLOOP_READ_MAX */
static void take(const struct batchloop_conf *conf, const struct batchloop_ops *ops, void *arg)
{
    struct mq_delivery d;
    int got = 0, r;

    while ((r = mq_next(consumer, &d, 0)) == 1) {
        deliver(conf, ops, arg, &d);
        if (++got >= BATCHLOOP_READ_MAX || !mq_has_buffered(consumer))
            break;
    }
    if (r < 0)
        reconnect_consumer(ops, arg);
}

int batchloop_run(const struct batchloop_conf *conf, const struct batchloop_ops *ops, void *arg)
{
    struct sigaction sa;
    int64_t last_flush = 0;

    if (conf->db && batchloop_db() == NULL)
        msg_fatal("cannot connect to the database");
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    tags = tagmap_new(broker_ack, NULL);
    connect_all(conf);
    msg_info("started: queues=%s%s%s prefetch=%d", conf->queues[0], conf->queues[1] ? "," : "",
             conf->queues[1] ? conf->queues[1] : "", conf->prefetch);
    while (!stopping) {
        int buffered = mq_has_buffered(consumer);
        int64_t wait = ops->work(buffered ? 0 : BATCHLOOP_SLICE_MS, 0, arg);

        if (!buffered && wait > 0 && !stopping)
            wait_news(wait, 1);
        take(conf, ops, arg);
        periodic(ops, arg, &last_flush);
    }
    drain(ops, arg, cancel(conf, ops, arg), &last_flush);
    mq_close(consumer);
    mqpub_free(publisher);
    consumer = NULL;
    publisher = NULL;
    tagmap_free(tags);
    tags = NULL;
    metrics_remove();
    if (conf->db)
        db_thread_close();
    msg_info("stopped");
    return 0;
}
