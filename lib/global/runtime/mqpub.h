/*
 * mqpub - confirmed publishing: the one way txmail programs put messages
 * on the broker (producers, worker skeleton, batch programs).
 *
 * A struct mqpub is one publishing connection in confirm mode, opened
 * lazily by mqpub_ready() (one attempt; after a failed attempt the next
 * one waits pause_ms) and declaring the topology on every open when asked
 * (MQPUB_DECLARE). Every message is persistent and mandatory: a message
 * no queue takes, or one the broker refuses, fails its confirm.
 *
 * Two policies, one per kind of caller:
 *
 *   bounded     mqpub_send(): publish n messages, wait up to timeout_ms
 *               for their confirms, and return TX_OK or TX_RETRY_BROKER.
 *               A failure drops the connection (the next mqpub_ready()
 *               opens a fresh one). Producers use it: the client gets
 *               503 / 451 and tries again; nothing was accepted, so
 *               nothing is lost.
 *   until done  mqpub_send_or_die() and mqpub_recover(): on a failure,
 *               reconnect (up to broker_reconnect_attempts tries, then
 *               fatal) and publish everything not yet confirmed again,
 *               until the broker confirms it. A broker that keeps
 *               refusing (nack, unroutable) on a working connection for
 *               MQPUB_ROUNDS rounds is fatal. Workers and batch programs
 *               use it: they exit without acking their input, and the
 *               broker returns it. Duplicates are possible, losses are not.
 *
 * Pipelined publishers (the worker skeleton) publish with mqpub_put(),
 * watch the confirms on mqpub_conn() (mq_confirmed_seq(), mq_poll()) and
 * call mqpub_recover() with a function that publishes everything still
 * awaiting its confirm.
 *
 * Not thread-safe: one thread per struct mqpub.
 */
#ifndef TX_MQPUB_H
#define TX_MQPUB_H

#include "global/runtime/mq.h"
#include "global/txcode.h"

#include <stddef.h>
#include <stdint.h>

#define MQPUB_DECLARE 1 /* declare the topology on every open */
#define MQPUB_ROUNDS 3  /* republish rounds a refusing broker gets */

struct mqpub;

struct mqpub_msg {
    const char *exchange;
    const char *key;
    const char *cc;          /* CC routing key (retry tiers), or NULL */
    const char *dead_reason; /* x-txmail-dead-reason, or NULL */
    const void *body;
    size_t len;
    const char *message_id; /* or NULL */
};

/* mqpub_new - a publisher for url, not yet connected; name is for logs */
struct mqpub *mqpub_new(const char *url, const char *name, int flags, int64_t pause_ms);
/* mqpub_free - close and free; NULL is fine */
void mqpub_free(struct mqpub *p);
/*
 * mqpub_ready - an open connection in confirm mode: reads what the broker
 * sent meanwhile (a close, EOF after a restart) and opens the connection
 * again when it is gone (one attempt). TX_RETRY_BROKER when there is none.
 */
enum tx_code mqpub_ready(struct mqpub *p);
/* mqpub_open_or_die - the first connection of a worker or batch program */
void mqpub_open_or_die(struct mqpub *p);
/* mqpub_put - publish n messages without waiting for their confirms */
enum tx_code mqpub_put(struct mqpub *p, const struct mqpub_msg *m, int n);
/* mqpub_send - the bounded policy: publish n messages and wait for their confirms */
enum tx_code mqpub_send(struct mqpub *p, const struct mqpub_msg *m, int n, int timeout_ms);
/* mqpub_send_or_die - the until-done policy for n messages */
void mqpub_send_or_die(struct mqpub *p, const struct mqpub_msg *m, int n, int timeout_ms);
/*
 * mqpub_recover - the until-done policy after a failure: reconnect and
 * call again(arg), which publishes (mqpub_put) everything not confirmed,
 * then wait for the confirms; repeat until they come. what names the
 * messages in the log line ("3 jobs' outputs").
 */
void mqpub_recover(struct mqpub *p, enum tx_code (*again)(void *arg), void *arg, int timeout_ms,
                   const char *what);
/* mqpub_poll - serve heartbeats and read confirms without blocking */
void mqpub_poll(struct mqpub *p);
/* mqpub_conn - the connection (NULL when not open), for pipelined publishers */
struct mq *mqpub_conn(struct mqpub *p);

#endif
