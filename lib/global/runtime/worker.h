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
 * (delaytier.h) without a handler. The rules every stage follows are the
 * skeleton's too (worker_job.c): the first-stage rule for a stage that may
 * come first (first_stage_grace), one database handle per handler thread
 * (worker_job_db) and taking back queued outputs (worker_job_mark, worker_job_rollback).
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
#include "global/runtime/mq.h"
#include "global/txcode.h"
#include "util/cfg.h"

#include <stddef.h>
#include <stdint.h>

struct job_out {
    char exchange[32];
    char key[128];
    char cc[ENVELOPE_STAGE_MAX];
    char dead_reason[160]; /* dead letters: why */
    char *body;
    size_t len;
    int parts; /* events packed into body (a JSON array when > 1) */
};

struct job {
    struct envelope env;    /* the input, decoded */
    struct mq_delivery dlv; /* the broker delivery */
    unsigned epoch;         /* the runtime's consumer epoch of dlv */
    void *ctx;              /* the handler thread's context */
    enum tx_code code;
    char reason[512];       /* first failure reason wins */
    int64_t retry_after_ms; /* handler's wish for RETRY; 0: schedule */
    int count_attempt;      /* RETRY counts as an attempt (default 1) */
    int sync_confirm;       /* handler: confirm and ack this job before taking
                                   another (a job that continues itself through
                                   its own queue must never have two rounds
                                   unacked at once) */
    int64_t started_ms;
    uint64_t confirm_seq; /* skeleton: publisher tag of the last output */
    int64_t published_ms; /* skeleton: when the outputs were published */
    struct job_out *outs;
    int nouts, capouts;
    int sealed; /* outputs before this index take no more packed
                                   events (worker_job_mark) */
    struct job *next;
};

struct worker {
    const char *name;         /* program name, log prefix, param prefix */
    const char *queue;        /* default queue: the name */
    struct cfg_param *params; /* the program's own parameters, or NULL */
    int default_concurrency;
    const char *default_schedule; /* e.g. "5m,10m,20m,40m,1h" */
    const char *default_max_age;  /* e.g. "2d" */
    /* this stage may be the first of a slip: the skeleton applies the
     * first-stage rule (worker_job_run) with this grace, the program's
     * own parameter; NULL: the stage is never first */
    const int64_t *first_stage_grace;
    int (*init)(void);          /* after configuration; non-zero: fatal */
    void *(*thread_init)(void); /* per handler thread */
    void (*thread_done)(void *ctx);
    enum tx_code (*handle)(struct job *job);
    /* retry budget used up: queue final events; the input is then acked */
    void (*expired)(struct job *job);
    void (*shutdown)(void);
};

int worker_main(int argc, char **argv, struct worker *w);

/*
 * worker_job_forward - publish out to its slip[0] (the caller popped its own
 * stage). An empty slip means the job is complete: nothing is sent.
 * Ownership: steals out's contents (data, raw).
 */
void worker_job_forward(struct job *job, struct envelope *out);
/* worker_job_forward_input - pop the input's stage and forward it (data as modified) */
void worker_job_forward_input(struct job *job);
/* worker_job_derive - out = a new envelope of type for the same job, slip popped */
void worker_job_derive(struct job *job, const char *type, struct envelope *out);
/*
 * worker_job_event - queue one event for txmail.events. Events of the same
 * routing key that one job raises go out packed, up to
 * WORKER_EVENTS_PER_MESSAGE in one broker message (a JSON array,
 * docs/ENVELOPES.md): a fan-out of 100 recipients costs the broker 2
 * messages for its STARTED and FINISHED events instead of 200. The jobs
 * that settle together (one pass of the main loop) also share their event
 * messages per key, so a busy stage publishes few event messages per job.
 */
#define WORKER_EVENTS_PER_MESSAGE 100
void worker_job_event(struct job *job, const struct tx_event *ev);
/* worker_job_publish - queue a raw publish. Ownership: steals body. */
void worker_job_publish(struct job *job, const char *exchange, const char *key, const char *cc,
                        char *body, size_t len);
/* worker_job_reason - record why (first call wins) */
void worker_job_reason(struct job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* worker_job_log_id - the rid, else the job id */
const char *worker_job_log_id(const struct job *job);

/* ---- the rules around handle() (worker_job.c) ------------------------- */

/*
 * worker_job_run - what the skeleton does with a job on a handler thread:
 * the first-stage rule, then w->handle(job). When w declares
 * first_stage_grace, a `type: "job"` envelope whose data.started is not
 * true is this stage's to start: its acceptance record is checked and
 * the intake outputs queued (firststage_accept, lib/global/intake/firststage.h)
 * with the thread's database handle before handle() sees the job; a job
 * that may not be processed (yet) is settled with firststage_accept's
 * code and never reaches handle(). Other envelopes (not yet started or
 * not) go to handle() directly.
 */
enum tx_code worker_job_run(const struct worker *w, struct job *job);
/*
 * worker_job_expire - a job's retry budget is used up: a first stage's
 * job that never started gets its tombstone (firststage_give_up, logged);
 * any other job goes to w->expired(). 0 when there is neither (the
 * caller dead-letters the input), else 1.
 */
int worker_job_expire(const struct worker *w, struct job *job);

/*
 * worker_job_db - the database handle of the calling thread (a handler thread
 * for handle(), the main thread for expired()), connected on first use
 * and reconnected by db.c when lost; NULL (warned) while the database
 * cannot be reached: the handler then returns a TX_RETRY_DB code.
 * Ownership: borrowed; the skeleton closes it when the thread ends.
 */
struct db;
struct db *worker_job_db(const struct job *job);

/*
 * worker_job_mark, worker_job_rollback - take back what a handler queued: worker_job_mark()
 * returns a mark of the outputs queued so far (worker_job_publish, worker_job_event,
 * worker_job_forward...); worker_job_rollback() forgets everything queued after it,
 * e.g. a handler returning a RETRY code drops its half-done forwards but
 * keeps what the skeleton queued before it ran. Events queued after a
 * mark never join an event message queued before it, so the rollback is
 * exact. A mark beyond the outputs (taken before a rollback to an older
 * mark) is a panic.
 */
size_t worker_job_mark(struct job *job);
void worker_job_rollback(struct job *job, size_t mark);

/* worker_stopping - 1 once SIGTERM was received (long handlers may stop early) */
int worker_stopping(void);

#endif
