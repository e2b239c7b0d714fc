/*
 * mq_int - what the files of the RabbitMQ wrapper share (mq.c,
 * mq_declare.c); not for callers of mq.h.
 */
#ifndef TX_MQ_INT_H
#define TX_MQ_INT_H

#include "global/runtime/mq.h"

#include <amqp.h>

#define MQ_CHANNEL 1

struct mq {
    char *url;
    char *name;
    amqp_connection_state_t conn;
    int broken;
    int confirm;       /* publisher confirms enabled */
    uint64_t next_seq; /* delivery tag of the next publish */
    uint64_t acked;    /* every seq <= acked is confirmed */
    int failed;        /* a nack or return since the last wait */
    char *queues[4];   /* consumed queues, for reconnect */
    int nqueues;
    int prefetch;
    amqp_bytes_t ctags[4];
    /* the send watchdog's view, under wd_lock */
    int64_t send_deadline; /* monotonic ms; 0: not sending */
    int send_cut;          /* the watchdog cut this send off */
    struct mq *wd_next;
};

/* mq_reply_ok - convert an RPC reply into a code, marking the connection broken */
enum tx_code mq_reply_ok(struct mq *mq, amqp_rpc_reply_t r, const char *what);

/* table_entry helpers for queue arguments and message headers */
static inline amqp_table_entry_t str_arg(const char *k, const char *v)
{
    amqp_table_entry_t e;

    e.key = amqp_cstring_bytes(k);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = amqp_cstring_bytes(v);
    return e;
}

static inline amqp_table_entry_t int_arg(const char *k, int64_t v)
{
    amqp_table_entry_t e;

    e.key = amqp_cstring_bytes(k);
    e.value.kind = AMQP_FIELD_KIND_I64;
    e.value.value.i64 = v;
    return e;
}

#endif
