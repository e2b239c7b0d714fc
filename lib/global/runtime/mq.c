/* mq - RabbitMQ wrapper over rabbitmq-c 0.11; see mq.h. */
#include "global/runtime/mq.h"
#include "global/runtime/mq_int.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#define MQ_HEARTBEAT 30
#define MQ_FRAME_MAX 131072

const char *const mq_stages[] = {
    "scan",   "securezip", "render", "spamcheck", "smime", "deliver",
    "notify", "followup",  "bounce", "report",    NULL,
};
const char *const mq_tier_names[] = {
    "1s", "5s", "10s", "30s", "1m", "5m", "15m", "1h", "4h", NULL,
};
const int64_t mq_tier_ms[] = {
    1000, 5000, 10000, 30000, 60000, 300000, 900000, 3600000, 14400000, 0,
};

/*
 * The send watchdog. rabbitmq-c 0.11 keeps its socket non-blocking and
 * waits for room to write with no deadline (basic.publish, basic.ack), so
 * SO_SNDTIMEO has no effect: a broker that stops reading from a connection
 * (a memory or disk alarm blocks publishers, connection.blocked) would hold
 * a publisher in mq_publish() for as long as the alarm lasts, and a
 * producer's client would never get an answer. Each send registers its
 * deadline here; one thread per process shuts down the socket of a send
 * that passes it, which makes rabbitmq-c's poll return and the send fail
 * (TX_RETRY_BROKER, connection broken: the producer answers 503 / 451).
 */
static int64_t send_timeout_ms = MQ_SEND_TIMEOUT_MS;
static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cond;
static struct mq *wd_head;
static int wd_running;

void mq_set_send_timeout(int64_t ms)
{
    pthread_mutex_lock(&wd_lock);
    send_timeout_ms = ms;
    pthread_mutex_unlock(&wd_lock);
}

static void *watchdog(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wd_lock);
    for (;;) {
        int64_t now = timeutil_mono_ms(), next = 0;

        for (struct mq **pp = &wd_head; *pp;) {
            struct mq *m = *pp;
            if (m->send_deadline <= now) {
                /* the owner is inside a send on this socket and cannot
                 * close it before it takes wd_lock: the fd is still its */
                int fd = m->conn ? amqp_get_sockfd(m->conn) : -1;
                if (fd >= 0)
                    shutdown(fd, SHUT_RDWR);
                m->send_cut = 1;
                m->send_deadline = 0;
                *pp = m->wd_next;
                continue;
            }
            if (next == 0 || m->send_deadline < next)
                next = m->send_deadline;
            pp = &m->wd_next;
        }
        if (next == 0) {
            pthread_cond_wait(&wd_cond, &wd_lock);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t ms = next - timeutil_mono_ms();
            if (ms < 1)
                ms = 1;
            ts.tv_sec += ms / 1000;
            ts.tv_nsec += (ms % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&wd_cond, &wd_lock, &ts);
        }
    }
    return NULL;
}

/* wd_after_fork - the child has no watchdog thread: start a new one on demand */
static void wd_after_fork(void)
{
    pthread_mutex_init(&wd_lock, NULL);
    wd_head = NULL;
    wd_running = 0;
}

/* send_begin - the caller is about to write to the broker; lock held by nobody */
static void send_begin(struct mq *mq)
{
    pthread_mutex_lock(&wd_lock);
    if (!wd_running) {
        static int atfork_set;
        pthread_condattr_t ca;
        pthread_attr_t at;
        pthread_t t;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&wd_cond, &ca);
        pthread_condattr_destroy(&ca);
        if (!atfork_set) {
            pthread_atfork(NULL, NULL, wd_after_fork);
            atfork_set = 1;
        }
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, watchdog, NULL) != 0)
            msg_fatal("cannot start the broker send watchdog: %m");
        pthread_attr_destroy(&at);
        wd_running = 1;
    }
    mq->send_cut = 0;
    mq->send_deadline = timeutil_mono_ms() + send_timeout_ms;
    mq->wd_next = wd_head;
    wd_head = mq;
    pthread_cond_signal(&wd_cond);
    pthread_mutex_unlock(&wd_lock);
}

/* send_end - the write is over; 1 when the watchdog cut it off */
static int send_end(struct mq *mq)
{
    int cut;

    pthread_mutex_lock(&wd_lock);
    if (mq->send_deadline) {
        for (struct mq **pp = &wd_head; *pp; pp = &(*pp)->wd_next)
            if (*pp == mq) {
                *pp = mq->wd_next;
                break;
            }
        mq->send_deadline = 0;
    }
    cut = mq->send_cut;
    mq->send_cut = 0;
    pthread_mutex_unlock(&wd_lock);
    if (cut) {
        msg_warn("%s: the broker did not take our data within %lld ms (alarm? "
                 "connection.blocked): connection dropped",
                 mq->name, (long long)send_timeout_ms);
        mq->broken = 1;
    }
    return cut;
}

/* mq_reply_ok - convert an RPC reply into a code, marking the connection broken */
enum tx_code mq_reply_ok(struct mq *mq, amqp_rpc_reply_t r, const char *what)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return TX_OK;
    case AMQP_RESPONSE_NONE:
        msg_warn("%s: %s: missing RPC reply", mq->name, what);
        break;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        msg_warn("%s: %s: %s", mq->name, what, amqp_error_string2(r.library_error));
        break;
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = r.reply.decoded;
            msg_warn("%s: %s: server closed connection: %u %.*s", mq->name, what, m->reply_code,
                     (int)m->reply_text.len, (char *)m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = r.reply.decoded;
            msg_warn("%s: %s: server closed channel: %u %.*s", mq->name, what, m->reply_code,
                     (int)m->reply_text.len, (char *)m->reply_text.bytes);
        } else {
            msg_warn("%s: %s: server exception 0x%08x", mq->name, what, r.reply.id);
        }
        break;
    }
    mq->broken = 1;
    return TX_RETRY_BROKER;
}

static int connect_once(struct mq *mq)
{
    struct amqp_connection_info ci;
    char *copy = xstrdup(mq->url);
    amqp_socket_t *sock;
    struct timeval tv = {5, 0};
    int rc = -1;

    if (amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
        msg_warn("%s: cannot parse broker url", mq->name);
        goto out;
    }
    mq->conn = amqp_new_connection();
    sock = amqp_tcp_socket_new(mq->conn);
    if (sock == NULL)
        goto fail;
    if (amqp_socket_open_noblock(sock, ci.host, ci.port, &tv) != AMQP_STATUS_OK) {
        msg_warn("%s: cannot connect to broker %s:%d", mq->name, ci.host, ci.port);
        goto fail;
    }
    amqp_set_handshake_timeout(mq->conn, &tv);
    amqp_rpc_reply_t r = amqp_login(mq->conn, *ci.vhost ? ci.vhost : "/", 0, MQ_FRAME_MAX,
                                    MQ_HEARTBEAT, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password);
    if (mq_reply_ok(mq, r, "login") != TX_OK)
        goto fail;
    struct timeval rpc = {30, 0};
    amqp_set_rpc_timeout(mq->conn, &rpc);
    amqp_channel_open(mq->conn, MQ_CHANNEL);
    if (mq_reply_ok(mq, amqp_get_rpc_reply(mq->conn), "channel.open") != TX_OK)
        goto fail;
    mq->broken = 0;
    rc = 0;
    goto out;
fail:
    if (mq->conn) {
        amqp_destroy_connection(mq->conn);
        mq->conn = NULL;
    }
out:
    explicit_bzero(copy, strlen(mq->url));
    xfree(copy);
    return rc;
}

struct mq *mq_open(const char *url, const char *name)
{
    struct mq *mq = xcalloc(1, sizeof(*mq));

    mq->url = xstrdup(url);
    mq->name = xstrdup(name);
    mq->next_seq = 1;
    if (connect_once(mq) < 0) {
        mq_close(mq);
        return NULL;
    }
    return mq;
}

struct mq *mq_open_retry(const char *url, const char *name, int attempts)
{
    int64_t wait = 100;

    for (int i = 0; i < attempts; i++) {
        struct mq *mq = mq_open(url, name);

        if (mq)
            return mq;
        timeutil_sleep_ms(wait);
        wait = wait * 2 > 5000 ? 5000 : wait * 2;
    }
    return NULL;
}

static void drop_conn(struct mq *mq)
{
    if (mq->conn) {
        if (!mq->broken) {
            amqp_channel_close(mq->conn, MQ_CHANNEL, AMQP_REPLY_SUCCESS);
            amqp_connection_close(mq->conn, AMQP_REPLY_SUCCESS);
        }
        amqp_destroy_connection(mq->conn);
        mq->conn = NULL;
    }
    for (int i = 0; i < mq->nqueues; i++) {
        amqp_bytes_free(mq->ctags[i]);
        mq->ctags[i] = amqp_empty_bytes;
    }
}

void mq_close(struct mq *mq)
{
    if (mq == NULL)
        return;
    drop_conn(mq);
    for (int i = 0; i < mq->nqueues; i++)
        xfree(mq->queues[i]);
    explicit_bzero(mq->url, strlen(mq->url));
    xfree(mq->url);
    xfree(mq->name);
    xfree(mq);
}

int mq_broken(const struct mq *mq)
{
    return mq->broken || mq->conn == NULL;
}

enum tx_code mq_reconnect(struct mq *mq, int attempts)
{
    int64_t wait = 100;
    int nq = mq->nqueues;
    char *queues[4];

    drop_conn(mq);
    for (int i = 0; i < nq; i++)
        queues[i] = mq->queues[i];
    mq->nqueues = 0;
    for (int i = 0; i < attempts; i++) {
        if (connect_once(mq) == 0) {
            mq->next_seq = 1;
            mq->acked = 0;
            mq->failed = 0;
            if (mq->confirm) {
                mq->confirm = 0;
                if (mq_confirm_mode(mq) != TX_OK)
                    goto again;
            }
            for (int q = 0; q < nq; q++)
                if (mq_consume(mq, queues[q], mq->prefetch) != TX_OK)
                    goto again;
            for (int q = 0; q < nq; q++)
                xfree(queues[q]);
            msg_info("%s: reconnected to the broker", mq->name);
            return TX_OK;
        }
    again:
        drop_conn(mq);
        for (int q = 0; q < mq->nqueues; q++)
            xfree(mq->queues[q]);
        mq->nqueues = 0;
        timeutil_sleep_ms(wait);
        wait = wait * 2 > 5000 ? 5000 : wait * 2;
    }
    for (int q = 0; q < nq; q++) {
        mq->queues[q] = queues[q];
    }
    mq->nqueues = nq;
    mq->broken = 1;
    return TX_RETRY_BROKER;
}

enum tx_code mq_confirm_mode(struct mq *mq)
{
    if (mq->confirm)
        return TX_OK;
    amqp_confirm_select(mq->conn, MQ_CHANNEL);
    if (mq_reply_ok(mq, amqp_get_rpc_reply(mq->conn), "confirm.select") != TX_OK)
        return TX_RETRY_BROKER;
    mq->confirm = 1;
    mq->next_seq = 1;
    mq->acked = 0;
    return TX_OK;
}

enum tx_code mq_publish(struct mq *mq, const char *exchange, const char *key, const void *body,
                        size_t len, const struct mq_props *props)
{
    amqp_basic_properties_t p;
    amqp_table_entry_t hdr[2];
    amqp_array_t cc_array;
    amqp_field_value_t cc_val;
    int nhdr = 0;

    if (mq_broken(mq))
        return TX_RETRY_BROKER;
    memset(&p, 0, sizeof(p));
    p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
    p.delivery_mode = props && props->transient ? 1 : 2;
    p.content_type = amqp_cstring_bytes("application/x-txmail-envelope");
    if (props && props->message_id) {
        p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
        p.message_id = amqp_cstring_bytes(props->message_id);
    }
    if (props && props->cc) {
        cc_val.kind = AMQP_FIELD_KIND_UTF8;
        cc_val.value.bytes = amqp_cstring_bytes(props->cc);
        cc_array.num_entries = 1;
        cc_array.entries = &cc_val;
        hdr[nhdr].key = amqp_cstring_bytes("CC");
        hdr[nhdr].value.kind = AMQP_FIELD_KIND_ARRAY;
        hdr[nhdr].value.value.array = cc_array;
        nhdr++;
    }
    if (props && props->dead_reason)
        hdr[nhdr++] = str_arg("x-txmail-dead-reason", props->dead_reason);
    if (nhdr) {
        p._flags |= AMQP_BASIC_HEADERS_FLAG;
        p.headers.num_entries = nhdr;
        p.headers.entries = hdr;
    }
    amqp_bytes_t b = {len, (void *)body};
    send_begin(mq);
    int rc = amqp_basic_publish(mq->conn, MQ_CHANNEL, amqp_cstring_bytes(exchange),
                                amqp_cstring_bytes(key), 1, 0, &p, b);
    if (send_end(mq))
        return TX_RETRY_BROKER;
    if (rc != AMQP_STATUS_OK) {
        msg_warn("%s: publish to %s/%s: %s", mq->name, exchange, key, amqp_error_string2(rc));
        mq->broken = 1;
        return TX_RETRY_BROKER;
    }
    if (mq->confirm)
        mq->next_seq++;
    return TX_OK;
}

uint64_t mq_outstanding(const struct mq *mq)
{
    return mq->confirm ? mq->next_seq - 1 - mq->acked : 0;
}

/* handle_frame - process one frame on a publishing connection */
static void handle_pub_frame(struct mq *mq, amqp_frame_t *f)
{
    if (f->frame_type != AMQP_FRAME_METHOD)
        return;
    switch (f->payload.method.id) {
    case AMQP_BASIC_ACK_METHOD: {
        amqp_basic_ack_t *a = f->payload.method.decoded;
        if (a->multiple || a->delivery_tag == mq->acked + 1) {
            if (a->delivery_tag > mq->acked)
                mq->acked = a->delivery_tag;
        } else if (a->delivery_tag > mq->acked) {
            /* a single ack out of order: RabbitMQ acks in order on one
             * channel, so treat it as covering everything before */
            mq->acked = a->delivery_tag;
        }
        break;
    }
    case AMQP_BASIC_NACK_METHOD: {
        amqp_basic_nack_t *n = f->payload.method.decoded;
        msg_warn("%s: broker refused publish %llu", mq->name, (unsigned long long)n->delivery_tag);
        mq->failed = 1;
        if (n->delivery_tag > mq->acked)
            mq->acked = n->delivery_tag;
        break;
    }
    case AMQP_BASIC_RETURN_METHOD: {
        amqp_basic_return_t *r = f->payload.method.decoded;
        amqp_message_t m;
        msg_warn("%s: unroutable publish to %.*s/%.*s: %.*s", mq->name, (int)r->exchange.len,
                 (char *)r->exchange.bytes, (int)r->routing_key.len, (char *)r->routing_key.bytes,
                 (int)r->reply_text.len, (char *)r->reply_text.bytes);
        mq->failed = 1;
        if (amqp_read_message(mq->conn, MQ_CHANNEL, &m, 0).reply_type == AMQP_RESPONSE_NORMAL)
            amqp_destroy_message(&m);
        else
            mq->broken = 1;
        break;
    }
    case AMQP_CHANNEL_CLOSE_METHOD:
    case AMQP_CONNECTION_CLOSE_METHOD:
        msg_warn("%s: broker closed the publishing channel", mq->name);
        mq->broken = 1;
        break;
    default:
        break;
    }
}

enum tx_code mq_wait_confirms(struct mq *mq, int timeout_ms)
{
    int64_t deadline = timeutil_mono_ms() + timeout_ms;
    enum tx_code rc = TX_OK;

    if (!mq->confirm)
        return mq_broken(mq) ? TX_RETRY_BROKER : TX_OK;
    while (!mq->broken && mq->acked < mq->next_seq - 1) {
        int64_t left = deadline - timeutil_mono_ms();
        amqp_frame_t f;

        if (left <= 0) {
            msg_warn("%s: %llu publishes not confirmed within %d ms", mq->name,
                     (unsigned long long)mq_outstanding(mq), timeout_ms);
            mq->broken = 1; /* the confirm state is unknown: start over */
            break;
        }
        struct timeval tv = {left / 1000, (left % 1000) * 1000};
        int r = amqp_simple_wait_frame_noblock(mq->conn, &f, &tv);
        if (r == AMQP_STATUS_TIMEOUT)
            continue;
        if (r != AMQP_STATUS_OK) {
            msg_warn("%s: waiting for confirms: %s", mq->name, amqp_error_string2(r));
            mq->broken = 1;
            break;
        }
        handle_pub_frame(mq, &f);
        amqp_maybe_release_buffers(mq->conn);
    }
    if (mq->broken)
        rc = TX_RETRY_BROKER;
    else if (mq->failed)
        rc = TX_RETRY_BROKER;
    mq->failed = 0;
    return rc;
}

void mq_poll(struct mq *mq)
{
    amqp_frame_t f;
    struct timeval tv = {0, 0};

    if (mq_broken(mq))
        return;
    while (1) {
        int r = amqp_simple_wait_frame_noblock(mq->conn, &f, &tv);
        if (r == AMQP_STATUS_TIMEOUT)
            break;
        if (r != AMQP_STATUS_OK) {
            mq->broken = 1;
            break;
        }
        handle_pub_frame(mq, &f);
    }
    amqp_maybe_release_buffers(mq->conn);
}

uint64_t mq_published_seq(const struct mq *mq)
{
    return mq->next_seq - 1;
}

uint64_t mq_confirmed_seq(const struct mq *mq)
{
    return mq->acked;
}

int mq_take_failure(struct mq *mq)
{
    int f = mq->failed;

    mq->failed = 0;
    return f;
}

int mq_fd(const struct mq *mq)
{
    return mq->conn ? amqp_get_sockfd(mq->conn) : -1;
}

enum tx_code mq_consume(struct mq *mq, const char *queue, int prefetch)
{
    if (mq_broken(mq) || mq->nqueues >= 4)
        return TX_RETRY_BROKER;
    if (mq->nqueues == 0 || prefetch != mq->prefetch) {
        amqp_basic_qos(mq->conn, MQ_CHANNEL, 0, (uint16_t)prefetch, 0);
        if (mq_reply_ok(mq, amqp_get_rpc_reply(mq->conn), "basic.qos") != TX_OK)
            return TX_RETRY_BROKER;
    }
    amqp_basic_consume_ok_t *ok =
        amqp_basic_consume(mq->conn, MQ_CHANNEL, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0,
                           0, amqp_empty_table);
    if (mq_reply_ok(mq, amqp_get_rpc_reply(mq->conn), "basic.consume") != TX_OK)
        return TX_RETRY_BROKER;
    mq->ctags[mq->nqueues] = amqp_bytes_malloc_dup(ok->consumer_tag);
    mq->queues[mq->nqueues++] = xstrdup(queue);
    mq->prefetch = prefetch;
    return TX_OK;
}

int mq_has_buffered(struct mq *mq)
{
    return !mq_broken(mq) && (amqp_frames_enqueued(mq->conn) || amqp_data_in_buffer(mq->conn));
}

int mq_next(struct mq *mq, struct mq_delivery *d, int timeout_ms)
{
    amqp_envelope_t env;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

    memset(d, 0, sizeof(*d));
    if (mq_broken(mq))
        return -1;
    amqp_maybe_release_buffers(mq->conn);
    amqp_rpc_reply_t r = amqp_consume_message(mq->conn, &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        d->tag = env.delivery_tag;
        d->redelivered = env.redelivered;
        snprintf(d->routing_key, sizeof(d->routing_key), "%.*s", (int)env.routing_key.len,
                 (char *)env.routing_key.bytes);
        snprintf(d->exchange, sizeof(d->exchange), "%.*s", (int)env.exchange.len,
                 (char *)env.exchange.bytes);
        d->len = env.message.body.len;
        d->body = xmalloc(d->len + 1);
        memcpy(d->body, env.message.body.bytes, d->len);
        ((char *)d->body)[d->len] = 0;
        amqp_destroy_envelope(&env);
        return 1;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
        return 0;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        amqp_frame_t f;
        struct timeval zero = {1, 0};

        if (amqp_simple_wait_frame_noblock(mq->conn, &f, &zero) != AMQP_STATUS_OK) {
            mq->broken = 1;
            return -1;
        }
        if (f.frame_type == AMQP_FRAME_METHOD) {
            switch (f.payload.method.id) {
            case AMQP_BASIC_ACK_METHOD:
            case AMQP_BASIC_CANCEL_OK_METHOD:
                return 0;
            case AMQP_BASIC_CANCEL_METHOD:
                msg_warn("%s: the broker cancelled the consumer (queue deleted?)", mq->name);
                mq->broken = 1;
                return -1;
            case AMQP_CHANNEL_CLOSE_METHOD:
            case AMQP_CONNECTION_CLOSE_METHOD:
                msg_warn("%s: the broker closed the consuming connection", mq->name);
                mq->broken = 1;
                return -1;
            default:
                return 0;
            }
        }
        return 0;
    }
    msg_warn("%s: consume: %s", mq->name,
             r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION ? amqp_error_string2(r.library_error)
                                                             : "server exception");
    mq->broken = 1;
    return -1;
}

void mq_delivery_free(struct mq_delivery *d)
{
    xfree(d->body);
    d->body = NULL;
}

/* settle_one - ack (requeue -1), ack up to, or reject one delivery under the send watchdog */
static enum tx_code settle_one(struct mq *mq, uint64_t tag, int multiple, int requeue)
{
    int rc;

    if (mq_broken(mq))
        return TX_RETRY_BROKER;
    send_begin(mq);
    rc = requeue < 0 ? amqp_basic_ack(mq->conn, MQ_CHANNEL, tag, multiple)
                     : amqp_basic_reject(mq->conn, MQ_CHANNEL, tag, requeue);
    if (send_end(mq) || rc != AMQP_STATUS_OK) {
        mq->broken = 1;
        return TX_RETRY_BROKER;
    }
    return TX_OK;
}

enum tx_code mq_ack(struct mq *mq, uint64_t tag)
{
    return settle_one(mq, tag, 0, -1);
}

enum tx_code mq_ack_upto(struct mq *mq, uint64_t tag)
{
    return settle_one(mq, tag, 1, -1);
}

enum tx_code mq_reject(struct mq *mq, uint64_t tag, int requeue)
{
    return settle_one(mq, tag, 0, requeue ? 1 : 0);
}

enum tx_code mq_cancel(struct mq *mq)
{
    if (mq_broken(mq))
        return TX_RETRY_BROKER;
    for (int i = 0; i < mq->nqueues; i++) {
        if (mq->ctags[i].len == 0)
            continue;
        /* amqp_basic_cancel waits for cancel-ok, queueing deliveries that
         * arrive meanwhile; those stay unacked and are rejected by the
         * caller or returned at close. */
        amqp_basic_cancel(mq->conn, MQ_CHANNEL, mq->ctags[i]);
        if (mq_reply_ok(mq, amqp_get_rpc_reply(mq->conn), "basic.cancel") != TX_OK)
            return TX_RETRY_BROKER;
        amqp_bytes_free(mq->ctags[i]);
        mq->ctags[i] = amqp_empty_bytes;
    }
    return TX_OK;
}

long mq_queue_count(struct mq *mq, const char *queue)
{
    amqp_queue_declare_ok_t *ok;

    if (mq_broken(mq))
        return -1;
    ok = amqp_queue_declare(mq->conn, MQ_CHANNEL, amqp_cstring_bytes(queue), 1, 0, 0, 0,
                            amqp_empty_table);
    if (mq_reply_ok(mq, amqp_get_rpc_reply(mq->conn), "queue.declare passive") != TX_OK)
        return -1;
    return (long)ok->message_count;
}

enum tx_code mq_purge(struct mq *mq, const char *queue)
{
    amqp_queue_purge(mq->conn, MQ_CHANNEL, amqp_cstring_bytes(queue));
    return mq_reply_ok(mq, amqp_get_rpc_reply(mq->conn), "queue.purge");
}
