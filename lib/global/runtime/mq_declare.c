/* mq_declare - the broker topology txmail uses, declared; see mq.h. */
#include "global/runtime/mq.h"
#include "global/runtime/mq_int.h"

#include <amqp.h>
#include <stdio.h>

static enum tx_code declare_exchange(struct mq *mq, const char *name, const char *type)
{
    amqp_exchange_declare(mq->conn, MQ_CHANNEL, amqp_cstring_bytes(name), amqp_cstring_bytes(type),
                          0, 1, 0, 0, amqp_empty_table);
    return mq_reply_ok(mq, amqp_get_rpc_reply(mq->conn), name);
}

static enum tx_code declare_queue_d(struct mq *mq, const char *name, amqp_table_entry_t *args,
                                    int nargs, int durable)
{
    amqp_table_t t = {nargs, args};

    amqp_queue_declare(mq->conn, MQ_CHANNEL, amqp_cstring_bytes(name), 0, durable, 0, 0, t);
    return mq_reply_ok(mq, amqp_get_rpc_reply(mq->conn), name);
}

static enum tx_code declare_queue(struct mq *mq, const char *name, amqp_table_entry_t *args,
                                  int nargs)
{
    return declare_queue_d(mq, name, args, nargs, 1);
}

static enum tx_code bind_queue(struct mq *mq, const char *queue, const char *exchange,
                               const char *key)
{
    amqp_queue_bind(mq->conn, MQ_CHANNEL, amqp_cstring_bytes(queue), amqp_cstring_bytes(exchange),
                    amqp_cstring_bytes(key), amqp_empty_table);
    return mq_reply_ok(mq, amqp_get_rpc_reply(mq->conn), queue);
}

enum tx_code mq_declare_topology(struct mq *mq)
{
    amqp_table_entry_t quorum[] = {str_arg("x-queue-type", "quorum")};
    char qname[64];

    if (declare_exchange(mq, MQ_EXCHANGE_WORK, "direct") ||
        declare_exchange(mq, MQ_EXCHANGE_RETRY, "direct") ||
        declare_exchange(mq, MQ_EXCHANGE_EVENTS, "topic") ||
        declare_exchange(mq, MQ_EXCHANGE_DEAD, "fanout"))
        return TX_RETRY_BROKER;
    for (int i = 0; mq_stages[i]; i++)
        if (declare_queue(mq, mq_stages[i], quorum, 1) ||
            bind_queue(mq, mq_stages[i], MQ_EXCHANGE_WORK, mq_stages[i]))
            return TX_RETRY_BROKER;
    for (int i = 0; mq_tier_names[i]; i++) {
        amqp_table_entry_t args[] = {
            str_arg("x-queue-type", "quorum"),
            int_arg("x-message-ttl", mq_tier_ms[i]),
            str_arg("x-dead-letter-exchange", MQ_EXCHANGE_WORK),
            str_arg("x-dead-letter-strategy", "at-least-once"),
            str_arg("x-overflow", "reject-publish"),
        };
        snprintf(qname, sizeof(qname), "retry.%s", mq_tier_names[i]);
        if (declare_queue(mq, qname, args, 5) ||
            bind_queue(mq, qname, MQ_EXCHANGE_RETRY, mq_tier_names[i]))
            return TX_RETRY_BROKER;
    }
    if (declare_queue(mq, "events.recorder", quorum, 1) ||
        bind_queue(mq, "events.recorder", MQ_EXCHANGE_EVENTS, "#") ||
        declare_queue(mq, "events.notify", quorum, 1) ||
        bind_queue(mq, "events.notify", MQ_EXCHANGE_EVENTS, "#"))
        return TX_RETRY_BROKER;
    /* live counters: a bounded in-memory classic queue. Losing its content
     * on a broker restart is acceptable; paying a replicated, fsynced quorum
     * write for every event of every message is not (measured: ~0.25 ms of
     * broker CPU per message). */
    amqp_table_entry_t mon[] = {
        str_arg("x-queue-type", "classic"),
        int_arg("x-max-length", 100000),
        str_arg("x-overflow", "drop-head"),
    };
    if (declare_queue_d(mq, "events.monitor", mon, 3, 0) ||
        bind_queue(mq, "events.monitor", MQ_EXCHANGE_EVENTS, "#") ||
        declare_queue(mq, "dead", quorum, 1) || bind_queue(mq, "dead", MQ_EXCHANGE_DEAD, ""))
        return TX_RETRY_BROKER;
    return TX_OK;
}
