/*
 * batchloop - the consume loop of programs that take events in batches
 * (txmail-recorder, txmail-notify) rather than one envelope at a time
 * through worker.h's handle().
 *
 * The loop owns the broker side: one consuming connection (manual acks,
 * a large prefetch, up to four queues), optionally one publishing
 * connection with confirms, bounded reconnects, SIGTERM/SIGINT, the
 * metrics textfile. The program owns its deliveries from the moment
 * deliver() is called until it acks them:
 *
 *   deliver(d, epoch)     a delivery arrived. Ownership: steals d->body.
 *   work(budget, stop)    do what is due (flush a batch, run transfers).
 *                         The program may block up to budget ms in its
 *                         own I/O; it returns how long the loop may then
 *                         wait for the next delivery (0: come back soon).
 *   lost()                the consuming connection was re-opened: every
 *                         delivery not yet acked is back with the broker
 *                         and will come again; acks for the old epoch are
 *                         ignored. Drop what was not started.
 *   busy()                deliveries still in hand (not acked). After
 *                         SIGTERM the loop cancels the consumer (waiting
 *                         for cancel-ok: the quorum-queue redelivery rule),
 *                         hands over what arrived before the cancel-ok,
 *                         and keeps calling work(.., 1) until busy() is 0
 *                         or stop_timeout passed; then it closes. What is
 *                         still in hand then is returned by the broker.
 *
 * Acks carry the epoch the delivery came with, so a stale tag is never
 * acked on a re-opened channel. Publishes (batchloop_publish) wait for
 * the broker's confirm, reconnecting and publishing again until it works;
 * a broker that stays away after broker_reconnect_attempts is fatal (the
 * process exits without acking: nothing is lost).
 *
 * Single-threaded: every call happens on the loop's thread.
 */
#ifndef TX_BATCHLOOP_H
#define TX_BATCHLOOP_H

#include "global/db.h"
#include "global/mq.h"

#include <stddef.h>
#include <stdint.h>

#define BATCHLOOP_MAX_QUEUES 4

struct batchloop_conf {
    const char *name;                          /* program, for logs */
    const char *queues[BATCHLOOP_MAX_QUEUES];  /* NULL-terminated */
    int prefetch;
    int publisher;                             /* 1: open a publishing connection */
    int db;                                    /* 1: the program's database handle
                                                  (batchloop_db), connected first */
    int64_t stop_timeout_ms;                   /* 0: 30 s */
};

struct batchloop_ops {
    void (*deliver)(struct mq_delivery *d, unsigned epoch, void *arg);
    int64_t (*work)(int64_t budget_ms, int stopping, void *arg);
    void (*lost)(void *arg);
    int (*busy)(void *arg);
};

struct batchloop_msg {
    const char *exchange;
    const char *key;
    const char *cc;           /* CC routing key (retry tiers), or NULL */
    const char *dead_reason;  /* x-txmail-dead-reason, or NULL */
    const void *body;
    size_t len;
};

/*
 * batchloop_run - connect, declare the topology, consume, loop until
 * SIGTERM and the program has nothing in hand. Returns 0 after a clean
 * stop; dies (msg_fatal) when the broker cannot be reached.
 */
int batchloop_run(const struct batchloop_conf *conf, const struct batchloop_ops *ops,
                  void *arg);
/*
 * batchloop_db - the program's database handle (db.h db_thread), for
 * programs whose conf says db: batchloop_run connects it before the
 * broker, trying broker_reconnect_attempts times, and dies when it
 * cannot; a lost connection is reconnected by db.c. Ownership: borrowed
 * until batchloop_run returns.
 */
struct db *batchloop_db(void);
/* batchloop_stopping - 1 once SIGTERM/SIGINT was received */
int batchloop_stopping(void);
/* batchloop_epoch - the current consumer epoch */
unsigned batchloop_epoch(void);
/* batchloop_ack - ack one delivery (ignored when epoch is stale) */
void batchloop_ack(unsigned epoch, uint64_t tag);
/* batchloop_ack_upto - ack every delivery up to and including tag */
void batchloop_ack_upto(unsigned epoch, uint64_t tag);
/*
 * batchloop_publish - publish n messages and wait for the broker's
 * confirms; reconnects and publishes all of them again after a failure
 * (duplicates are possible, losses are not). Returns only on success.
 */
void batchloop_publish(const struct batchloop_msg *m, int n);
/*
 * batchloop_dead - publish a message that cannot be processed to the
 * dead-letter exchange with its reason (confirmed).
 */
void batchloop_dead(const void *body, size_t len, const char *reason);

#endif
