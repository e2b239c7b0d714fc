/*
 * worker_confirm - the skeleton's pipelined publishing (see worker.h).
 *
 * A settled job's outputs are published at once and the job waits in the
 * "awaiting" FIFO, its input still unacked, until the broker has
 * confirmed every publish up to the job's last one; then its input is
 * acked. The loop never blocks on a confirm while there is other work, so
 * throughput is the prefetch window divided by the confirm latency, not
 * one batch per confirm round trip.
 *
 * Events of jobs settled together join the first event message of their
 * key in an earlier job of the list (render's STARTED events of 20 jobs:
 * one broker message instead of 20; evbatch.h). Safe because the earlier
 * job is published first and jobs are acked in order: a job is acked only
 * once every publish before its own, the joined events included, is
 * confirmed; after a publisher failure the earlier job, still awaiting,
 * publishes them again.
 */
#include "global/runtime/batchloop.h"
#include "global/runtime/evbatch.h"
#include "global/runtime/mqpub.h"
#include "global/runtime/worker_int.h"
#include "util/fifo.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

/* the settled jobs whose publishes await their confirms, oldest first */
static struct fifo awaiting = FIFO_INIT(struct job, next);

int worker_confirm_awaiting(void)
{
    return (int)fifo_count(&awaiting);
}

/* target_before - an event message in a job of list before j that o can join, or NULL */
static struct job_out *target_before(struct job *list, struct job *j, const struct job_out *o)
{
    if (strcmp(o->exchange, MQ_EXCHANGE_EVENTS) != 0 || o->cc[0] || o->dead_reason[0])
        return NULL;
    struct job_out *t = NULL;

    for (struct job *e = list; e != j && t == NULL; e = e->next)
        t = worker_event_target(e, o->key, o->parts);
    return t;
}

static void pack_across(struct job *list)
{
    for (struct job *j = list ? list->next : NULL; j; j = j->next) {
        int keep = 0;
        for (int i = 0; i < j->nouts; i++) {
            struct job_out *o = &j->outs[i], *t = target_before(list, j, o);
            if (t == NULL) {
                j->outs[keep++] = *o;
                continue;
            }
            evbatch_join(&t->body, &t->len, &t->parts, o->body, o->len, o->parts);
            xfree(o->body);
        }
        j->nouts = keep;
    }
}

/* publish_outputs - publish a job's outputs; TX_RETRY_BROKER when the publisher failed */
static enum tx_code publish_outputs(struct job *j)
{
    struct mqpub *pub = batchloop_pub();

    for (int i = 0; i < j->nouts; i++) {
        struct job_out *o = &j->outs[i];
        struct mqpub_msg m = {o->exchange,
                              o->key,
                              o->cc[0] ? o->cc : NULL,
                              o->dead_reason[0] ? o->dead_reason : NULL,
                              o->body,
                              o->len,
                              NULL};
        if (mqpub_put(pub, &m, 1) != TX_OK)
            return TX_RETRY_BROKER;
    }
    j->confirm_seq = mq_published_seq(mqpub_conn(pub));
    j->published_ms = timeutil_mono_ms();
    return TX_OK;
}

static enum tx_code publish_awaiting(void *arg)
{
    (void)arg;
    for (struct job *j = fifo_peek(&awaiting); j; j = j->next)
        if (publish_outputs(j) != TX_OK)
            return TX_RETRY_BROKER;
    return TX_OK;
}

/*
 * republish_awaiting - the publisher failed (connection lost, nack,
 * unroutable, confirm timeout): publish every awaiting job's outputs
 * again, in order (mqpub.h's until-done policy). Duplicates downstream
 * are harmless (every stage is idempotent); losing one is not.
 */
static void republish_awaiting(void)
{
    char what[48];

    snprintf(what, sizeof(what), "%d jobs' outputs", worker_confirm_awaiting());
    mqpub_recover(batchloop_pub(), publish_awaiting, NULL, (int)worker_p.confirm_timeout, what);
}

/* await_job - publish a settled job's outputs and queue it for its confirm */
static void await_job(struct job *j)
{
    fifo_push(&awaiting, j);
    if (j->nouts == 0) {
        /* its events may travel in an earlier job's message (pack_across) */
        j->confirm_seq = mq_published_seq(mqpub_conn(batchloop_pub()));
        j->published_ms = timeutil_mono_ms();
        return;
    }
    if (publish_outputs(j) != TX_OK)
        republish_awaiting();
}

void worker_confirm_process(void)
{
    struct mq *pm = mqpub_conn(batchloop_pub());
    struct job *oldest = fifo_peek(&awaiting), *j;

    mq_poll(pm);
    if (mq_take_failure(pm) || mq_broken(pm) ||
        (oldest && mq_confirmed_seq(pm) < oldest->confirm_seq &&
         timeutil_mono_ms() - oldest->published_ms > worker_p.confirm_timeout)) {
        if (!mq_broken(pm) && oldest && mq_confirmed_seq(pm) < oldest->confirm_seq)
            msg_warn("publishes not confirmed within %lld ms", (long long)worker_p.confirm_timeout);
        republish_awaiting();
        pm = mqpub_conn(batchloop_pub());
    }
    uint64_t confirmed = mq_confirmed_seq(pm);
    while ((j = fifo_peek(&awaiting)) != NULL && j->confirm_seq <= confirmed) {
        fifo_pop(&awaiting);
        batchloop_ack(j->epoch, j->dlv.tag);
        worker_inflight--;
        worker_drop_job(j);
    }
}

void worker_confirm_finish(struct job *list)
{
    pack_across(list);
    while (list) {
        struct job *next = list->next;
        int sync = list->sync_confirm;
        await_job(list);
        if (sync) {
            if (mq_wait_confirms(mqpub_conn(batchloop_pub()), (int)worker_p.confirm_timeout) !=
                TX_OK)
                republish_awaiting();
            worker_confirm_process();
        }
        list = next;
    }
}

void worker_confirm_drop(void)
{
    struct job *j;

    while ((j = fifo_pop(&awaiting)) != NULL) {
        worker_inflight--;
        worker_drop_job(j);
    }
}
