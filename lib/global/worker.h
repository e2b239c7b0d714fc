/*
 * worker - THE worker skeleton (after Postfix single_server.c).
 *
 * A worker program supplies a struct worker with one handle(job) -> code
 * function; worker_main() does the rest: options and configuration,
 * broker connections (one consuming, one publishing with confirms), the
 * consume loop with prefetch, a pool of handler threads (concurrency),
 * the mapping of codes to broker actions, graceful shutdown and metrics.
 *
 *   OK      publish what the handler queued (next stage of the slip,
 *           events), wait for the broker's confirms, then ack the input
 *   RETRY   publish the handler's events and the input again, attempt+1,
 *           through the delay tier of <prog>_retry_schedule (or
 *           job->retry_after_ms); when the next try would pass
 *           <prog>_max_age or <prog>_max_attempts, call worker.expired()
 *           (final events) instead, or dead-letter when there is none
 *   REJECT  publish the handler's (final) events, ack
 *   FATAL   log and exit without ack: the broker returns the job
 *
 * A message that is not a valid envelope of a known version goes to the
 * dead-letter exchange with its reason, never into handle(). A message
 * whose `due` is still ahead goes on through the delay tiers
 * (delaytier.h) without a handler.
 *
 * The skeleton is a program of the broker runtime (batchloop.h): the
 * runtime consumes, reconnects and stops; the skeleton runs the handler
 * threads (worker.c), settles their codes (worker_settle.c) and publishes
 * the outputs pipelined, acking each input once every publish before its
 * own is confirmed (worker_confirm.c, mqpub.h's until-done policy).
 * SIGTERM follows the runtime's one shutdown policy: the consumer is
 * cancelled (waiting for cancel-ok), the jobs running in handler threads
 * are finished and their outputs confirmed (no time limit: a handler is
 * never interrupted), the jobs not yet started are left unacked and the
 * broker returns them when the connection closes.
 *
 * Parameters added for each worker <prog>: <prog>_queue, <prog>_concurrency,
 * <prog>_prefetch, <prog>_retry_schedule, <prog>_max_age,
 * <prog>_max_attempts, <prog>_confirm_timeout.
 */
#ifndef TX_WORKER_H
#define TX_WORKER_H

#include "global/envelope.h"
#include "global/event.h"
#include "global/mq.h"
#include "global/txcode.h"
#include "util/cfg.h"

struct job_out {
    char exchange[32];
    char key[128];
    char cc[ENVELOPE_STAGE_MAX];
    char dead_reason[160];      /* dead letters: why */
    char *body;
    size_t len;
    int parts;                  /* events packed into body (a JSON array when > 1) */
};

struct job {
    struct envelope env;        /* the input, decoded */
    struct mq_delivery dlv;     /* the broker delivery */
    unsigned epoch;             /* the runtime's consumer epoch of dlv */
    void *ctx;                  /* the handler thread's context */
    enum tx_code code;
    char reason[512];           /* first failure reason wins */
    int64_t retry_after_ms;     /* handler's wish for RETRY; 0: schedule */
    int count_attempt;          /* RETRY counts as an attempt (default 1) */
    int sync_confirm;           /* handler: confirm and ack this job before taking
                                   another (a job that continues itself through
                                   its own queue must never have two rounds
                                   unacked at once) */
    int64_t started_ms;
    uint64_t confirm_seq;       /* skeleton: publisher tag of the last output */
    int64_t published_ms;       /* skeleton: when the outputs were published */
    struct job_out *outs;
    int nouts, capouts;
    struct job *next;
};

struct worker {
    const char *name;                 /* program name, log prefix, param prefix */
    const char *queue;                /* default queue: the name */
    struct cfg_param *params;         /* the program's own parameters, or NULL */
    int default_concurrency;
    const char *default_schedule;     /* e.g. "5m,10m,20m,40m,1h" */
    const char *default_max_age;      /* e.g. "2d" */
    int (*init)(void);                /* after configuration; non-zero: fatal */
    void *(*thread_init)(void);       /* per handler thread */
    void (*thread_done)(void *ctx);
    enum tx_code (*handle)(struct job *job);
    /* retry budget used up: queue final events; the input is then acked */
    void (*expired)(struct job *job);
    void (*shutdown)(void);
};

int worker_main(int argc, char **argv, struct worker *w);

/*
 * job_forward - publish out to its slip[0] (the caller popped its own
 * stage). An empty slip means the job is complete: nothing is sent.
 * Ownership: steals out's contents (data, raw).
 */
void job_forward(struct job *job, struct envelope *out);
/* job_forward_input - pop the input's stage and forward it (data as modified) */
void job_forward_input(struct job *job);
/* job_derive - out = a new envelope of type for the same job, slip popped */
void job_derive(struct job *job, const char *type, struct envelope *out);
/*
 * job_event - queue one event for txmail.events. Events of the same
 * routing key that one job raises go out packed, up to
 * WORKER_EVENTS_PER_MESSAGE in one broker message (a JSON array,
 * docs/ENVELOPES.md): a fan-out of 100 recipients costs the broker 2
 * messages for its STARTED and FINISHED events instead of 200. The jobs
 * that settle together (one pass of the main loop) also share their event
 * messages per key, so a busy stage publishes few event messages per job.
 */
#define WORKER_EVENTS_PER_MESSAGE 100
void job_event(struct job *job, const struct tx_event *ev);
/* job_publish - queue a raw publish. Ownership: steals body. */
void job_publish(struct job *job, const char *exchange, const char *key,
                 const char *cc, char *body, size_t len);
/* job_reason - record why (first call wins) */
void job_reason(struct job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* job_id_for_log - the rid, else the job id */
const char *job_id_for_log(const struct job *job);

/* worker_stopping - 1 once SIGTERM was received (long handlers may stop early) */
int worker_stopping(void);

#endif
