/*
 * batchloop - THE broker runtime: the consume loop under every program
 * that consumes from the broker. The batch programs (txmail-recorder,
 * txmail-notify) use it directly; the worker skeleton (worker.h) is built
 * on it: its handler threads, settle and pipelined confirms are one
 * program of this loop.
 *
 * The loop owns the broker side: one consuming connection (manual acks,
 * a prefetch, up to four queues) and one publishing connection with
 * confirms (mqpub.h), the topology declaration, reconnects, SIGTERM and
 * SIGINT, the metrics textfile. The program owns its deliveries from the
 * moment deliver() is called until it acks them:
 *
 *   deliver(d, epoch)     a delivery arrived. Ownership: steals d->body.
 *                         With conf.split, a message that is a JSON array
 *                         of event objects (evbatch.h) comes as one
 *                         delivery per event, each acked on its own.
 *   work(budget, stop)    do what is due (flush a batch, settle jobs). The
 *                         program may block up to budget ms in its own
 *                         I/O; it returns how long the loop may then wait
 *                         for news (0: come back soon). The loop waits on
 *                         the consuming socket, on the publishing socket
 *                         and on the program's wake fd (batchloop_wake_fd).
 *   lost()                the consuming connection is gone (called before
 *                         it is re-opened): every delivery not yet acked
 *                         is back with the broker and will come again;
 *                         acks for the old epoch are ignored. Drop what
 *                         is in hand; return only once nothing of the old
 *                         epoch can still act on it (a worker waits for
 *                         its running handlers).
 *   busy()                deliveries still in hand (not acked).
 *   report()              optional: every 5 s, before the metrics file is
 *                         written (gauges of the program's own).
 *
 * Reconnects. A consuming connection that fails is re-opened (up to
 * broker_reconnect_attempts tries, then fatal: the process exits without
 * acking and the broker returns what it held) and starts a new epoch.
 * Acks carry the epoch the delivery came with, so a stale tag is never
 * acked on a re-opened channel. Publishes follow mqpub.h's until-done
 * policy (batchloop_publish, or the worker's pipeline on batchloop_pub).
 *
 * Shutdown (SIGTERM, SIGINT), the one policy of every consumer:
 *   1. the consumer is cancelled and the loop waits for cancel-ok (the
 *      quorum-queue redelivery rule: nothing may arrive unseen);
 *   2. what arrived before cancel-ok is handed to the program like any
 *      other delivery (deliver());
 *   3. the loop keeps calling work(.., 1) until busy() is 0 or the stop
 *      timeout passed (conf.stop_timeout_ms; < 0: no limit);
 *   4. it closes both connections; the broker returns whatever is still
 *      unacked. Nothing is lost at any step, a delivery in hand may come
 *      again.
 * A batch program finishes what it holds (recorder: flush, notify: POST).
 * The worker skeleton lets its running handlers finish (no limit: a
 * handler cannot be interrupted) and returns the jobs it has not started
 * by leaving them unacked.
 *
 * Generated parameters: batchloop_table() adds them to a program's own
 * table; their values are in batchloop_p once txconf_init() ran.
 * Parameters added for each consumer <prog>: <prog>_queue,
 * <prog>_prefetch, <prog>_stop_timeout.
 *
 * Single-threaded: every call happens on the loop's thread.
 */
#ifndef TX_BATCHLOOP_H
#define TX_BATCHLOOP_H

#include "global/db.h"
#include "global/runtime/mq.h"
#include "global/runtime/mqpub.h"
#include "util/cfg.h"

#include <stddef.h>
#include <stdint.h>

#define BATCHLOOP_MAX_QUEUES 4
#define BATCHLOOP_CONFIRM_MS 30000 /* batchloop_publish: wait for confirms */

struct batchloop_conf {
    const char *name;                         /* program, for logs */
    const char *queues[BATCHLOOP_MAX_QUEUES]; /* NULL-terminated */
    int prefetch;
    int split;               /* 1: split event arrays */
    int db;                  /* 1: the program's database handle
                                                  (batchloop_db), connected first */
    int64_t stop_timeout_ms; /* 0: 30 s; < 0: no limit */
};

struct batchloop_ops {
    void (*deliver)(struct mq_delivery *d, unsigned epoch, void *arg);
    int64_t (*work)(int64_t budget_ms, int stopping, void *arg);
    void (*lost)(void *arg);
    int (*busy)(void *arg);
    void (*report)(void *arg); /* or NULL */
};

/* the generated parameters, filled in by txconf_init() */
struct batchloop_params {
    char *queue;
    long long prefetch;
    int64_t stop_timeout_ms; /* -1 when not generated */
};
extern struct batchloop_params batchloop_p;

/*
 * batchloop_table - own (may be NULL) followed by the generated
 * parameters: <prog>_queue (default queue), <prog>_prefetch (default
 * prefetch, at least prefetch_min; doc: its line in -n and the manual)
 * and, when stop_timeout is not NULL, <prog>_stop_timeout (its default).
 * Pass the result to txconf_init(); free it with batchloop_table_free().
 */
struct cfg_param *batchloop_table(const char *prog, const struct cfg_param *own, const char *queue,
                                  const char *prefetch, long long prefetch_min,
                                  const char *prefetch_doc, const char *stop_timeout);
/* batchloop_table_free - free a table of batchloop_table() and the values of its strings */
void batchloop_table_free(struct cfg_param *t);

/*
 * batchloop_run - connect, declare the topology, consume, loop until
 * SIGTERM and the program has nothing in hand. Returns 0 after a clean
 * stop; dies (msg_fatal) when the broker cannot be reached.
 */
int batchloop_run(const struct batchloop_conf *conf, const struct batchloop_ops *ops, void *arg);
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
/* batchloop_wake_fd - also wake the loop when fd is readable (before batchloop_run) */
void batchloop_wake_fd(int fd);
/* batchloop_epoch - the current consumer epoch */
unsigned batchloop_epoch(void);
/* batchloop_ack - ack one delivery (ignored when epoch is stale) */
void batchloop_ack(unsigned epoch, uint64_t tag);
/* batchloop_ack_upto - ack every delivery up to and including tag */
void batchloop_ack_upto(unsigned epoch, uint64_t tag);
/* batchloop_pub - the publishing connection (pipelined publishers) */
struct mqpub *batchloop_pub(void);
/*
 * batchloop_publish - publish n messages and wait for the broker's
 * confirms (mqpub_send_or_die): returns only on success.
 */
void batchloop_publish(const struct mqpub_msg *m, int n);
/*
 * batchloop_dead - publish a message that cannot be processed to the
 * dead-letter exchange with its reason "<prog>: reason" (confirmed).
 */
void batchloop_dead(const void *body, size_t len, const char *reason);

#endif
