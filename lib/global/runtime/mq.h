/*
 * mq - the only module that talks to rabbitmq-c.
 *
 * One struct mq is one AMQP connection with one channel, used either to
 * publish (confirm mode, mandatory routing) or to consume (manual acks,
 * prefetch). Workers hold one of each, so confirms and deliveries never
 * interleave on one socket.
 *
 * Errors are returned as txmail codes: TX_RETRY_BROKER for anything the
 * broker or the network did. A connection that failed is marked broken;
 * mq_reconnect() reopens it (bounded attempts with backoff).
 *
 * Not thread-safe: one thread per struct mq.
 *
 * Every write to the broker (publish, ack, reject) has a deadline (the
 * send timeout, mq_set_send_timeout(), broker_send_timeout): a broker
 * that stops reading (memory or disk alarm, connection.blocked) fails
 * the write with TX_RETRY_BROKER after it instead of blocking forever.
 * RPCs (declare, consume, ...) have rabbitmq-c's RPC timeout.
 */
#ifndef TX_MQ_H
#define TX_MQ_H

#include "global/txcode.h"

#include <stddef.h>
#include <stdint.h>

#define MQ_EXCHANGE_WORK "txmail.work"
#define MQ_EXCHANGE_RETRY "txmail.retry"
#define MQ_EXCHANGE_EVENTS "txmail.events"
#define MQ_EXCHANGE_DEAD "txmail.dead"

#define MQ_SEND_TIMEOUT_MS 30000 /* default deadline of one write to the broker */

struct mq;

struct mq_props {
    const char *cc;          /* sender-selected extra routing key (CC header) */
    const char *message_id;  /* optional */
    const char *dead_reason; /* x-txmail-dead-reason header (dead letters) */
    int transient;           /* 1: delivery mode 1 (never for jobs) */
};

struct mq_delivery {
    uint64_t tag;
    int redelivered;
    char routing_key[128];
    char exchange[64];
    void *body; /* owned by the delivery; mq_delivery_free() */
    size_t len;
};

/* mq_set_send_timeout - the deadline of every later write to the broker, for the whole process */
void mq_set_send_timeout(int64_t ms);
/* mq_open - connect to url (amqp://user:pass@host:port/vhost); NULL on failure */
struct mq *mq_open(const char *url, const char *name);
/* mq_open_retry - mq_open with up to attempts tries, backoff doubling to 5 s */
struct mq *mq_open_retry(const char *url, const char *name, int attempts);
void mq_close(struct mq *mq);
int mq_broken(const struct mq *mq);
/* mq_reconnect - reopen a broken connection and restore its mode */
enum tx_code mq_reconnect(struct mq *mq, int attempts);

/* mq_declare_topology - declare every exchange and queue txmail uses (idempotent) */
enum tx_code mq_declare_topology(struct mq *mq);
/* mq_retry_tiers - NULL-terminated tier names ("1s", "5s", ...) and their ms */
extern const char *const mq_tier_names[];
extern const int64_t mq_tier_ms[];
/* mq_stages - NULL-terminated list of work stages declared as queues */
extern const char *const mq_stages[];

/* mq_confirm_mode - switch a publishing connection to publisher confirms */
enum tx_code mq_confirm_mode(struct mq *mq);
/*
 * mq_publish - persistent, mandatory publish; in confirm mode the message
 * counts as outstanding until mq_wait_confirms(). An unroutable message
 * (no queue bound) fails the next mq_wait_confirms().
 */
enum tx_code mq_publish(struct mq *mq, const char *exchange, const char *key, const void *body,
                        size_t len, const struct mq_props *props);
/* mq_wait_confirms - wait until every outstanding publish is acked */
enum tx_code mq_wait_confirms(struct mq *mq, int timeout_ms);
/* mq_outstanding - publishes not yet confirmed */
uint64_t mq_outstanding(const struct mq *mq);
/* mq_poll - serve heartbeats and read any confirms that have arrived, without blocking */
void mq_poll(struct mq *mq);
/* mq_published_seq - delivery tag of the last publish (confirm mode) */
uint64_t mq_published_seq(const struct mq *mq);
/* mq_confirmed_seq - every publish up to this tag has been confirmed */
uint64_t mq_confirmed_seq(const struct mq *mq);
/* mq_take_failure - 1 when a publish was nacked or returned since the last call */
int mq_take_failure(struct mq *mq);
/* mq_fd - the socket, for poll(2); -1 when not connected */
int mq_fd(const struct mq *mq);

/* mq_consume - start consuming queue with prefetch */
enum tx_code mq_consume(struct mq *mq, const char *queue, int prefetch);
/*
 * mq_next - wait up to timeout_ms for a delivery. Returns 1 with d filled,
 * 0 on timeout, -1 when the connection or the consumer is gone.
 */
int mq_next(struct mq *mq, struct mq_delivery *d, int timeout_ms);
/* mq_has_buffered - 1 when a delivery can be read without blocking */
int mq_has_buffered(struct mq *mq);
void mq_delivery_free(struct mq_delivery *d);
enum tx_code mq_ack(struct mq *mq, uint64_t tag);
/* mq_ack_upto - ack every delivery up to and including tag (batch consumers) */
enum tx_code mq_ack_upto(struct mq *mq, uint64_t tag);
enum tx_code mq_reject(struct mq *mq, uint64_t tag, int requeue);
/* mq_cancel - basic.cancel and wait for cancel-ok (quorum redelivery rule) */
enum tx_code mq_cancel(struct mq *mq);

/* mq_queue_count - exact message count of a queue (passive declare); -1 on error */
long mq_queue_count(struct mq *mq, const char *queue);
/* mq_purge - remove every message from a queue (tests, operators) */
enum tx_code mq_purge(struct mq *mq, const char *queue);

#endif
