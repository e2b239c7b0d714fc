/*
 * worker_int - what the files of the worker skeleton share (worker.c,
 * worker_settle.c, worker_confirm.c); not for handlers.
 */
#ifndef TX_WORKER_INT_H
#define TX_WORKER_INT_H

#include "global/runtime/delaytier.h"
#include "global/runtime/worker.h"

/* the skeleton's parameters, named after the program at run time */
struct worker_params {
    char *schedule; /* <prog>_retry_schedule */
    long long concurrency, max_attempts;
    int64_t max_age, confirm_timeout;
    struct delaytier_schedule sched; /* schedule, parsed */
};

extern struct worker_params worker_p;
extern struct worker *worker_w; /* the program */
extern int worker_inflight;     /* delivered and not yet acked or dropped */

/* worker_drop_job - free a job and its outputs (not acked: the broker returns it) */
void worker_drop_job(struct job *job);

/* worker_event_target - an event message of key in job with room for parts more, or NULL */
struct job_out *worker_event_target(struct job *job, const char *key, int parts);

/* worker_settle - turn a handled job's code into outputs; log the outcome */
void worker_settle(struct job *job);
/* worker_settle_dead - replace nothing, add a dead letter of the input with why */
void worker_settle_dead(struct job *job, const char *why);
/* worker_settle_later - publish the input again through the delay tiers */
void worker_settle_later(struct job *job, int64_t delay_ms, int count_attempt);

/* worker_confirm_finish - publish a list of settled jobs; each is acked once confirmed */
void worker_confirm_finish(struct job *list);
/* worker_confirm_process - read confirms without blocking; ack what is confirmed */
void worker_confirm_process(void);
/* worker_confirm_drop - the consumer's epoch is over: forget the awaiting jobs */
void worker_confirm_drop(void);
/* worker_confirm_awaiting - jobs published and waiting for their confirms */
int worker_confirm_awaiting(void);

#endif
