/*
 * worker_settle - the mapping of a handler's code to the skeleton's
 * outputs (see worker.h): OK and REJECT keep the handler's outputs,
 * RETRY adds the input again through the delay tiers (delaytier.h) or,
 * past <prog>_max_attempts / <prog>_max_age, calls worker.expired() or
 * dead-letters it; FATAL exits without ack. One log line per outcome.
 */
#include "global/metrics.h"
#include "global/runtime/worker_int.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

static void drop_outputs(struct job *job)
{
    for (int i = 0; i < job->nouts; i++)
        xfree(job->outs[i].body);
    job->nouts = 0;
}

void worker_settle_dead(struct job *job, const char *why)
{
    char *body = xmemdup(job->dlv.body ? job->dlv.body : "", job->dlv.len + 1);

    worker_job_publish(job, MQ_EXCHANGE_DEAD, "", NULL, body, job->dlv.len);
    snprintf(job->outs[job->nouts - 1].dead_reason, sizeof(job->outs[job->nouts - 1].dead_reason),
             "%s: %s", worker_w->name, why);
    msg_warn("%s: status=dead-letter (%s)", worker_job_log_id(job), why);
    metrics_count("txmail_jobs_total", "outcome", "dead", 1);
}

void worker_settle_later(struct job *job, int64_t delay_ms, int count_attempt)
{
    struct envelope e = job->env;
    int64_t tier_ms;
    const char *tier = delaytier_for(delay_ms, &tier_ms);
    char *body;
    size_t len;

    e.data = job->env.data;
    if (count_attempt)
        e.attempt++;
    e.due_ms = timeutil_now_ms() + delay_ms;
    if (envelope_encode(&e, &body, &len) < 0)
        msg_panic("cannot encode an envelope");
    worker_job_publish(job, MQ_EXCHANGE_RETRY, tier, envelope_stage(&job->env), body, len);
}

static const char *why(const struct job *job)
{
    return job->reason[0] ? job->reason : txcode_name(job->code);
}

/* settle_retry - RETRY: through the delay tiers, or expired */
static void settle_retry(struct job *job)
{
    int64_t delay = job->retry_after_ms > 0 ? job->retry_after_ms
                                            : delaytier_delay(&worker_p.sched, job->env.attempt);

    if ((worker_p.max_attempts && job->env.attempt + 1 >= worker_p.max_attempts) ||
        (job->env.created_ms &&
         timeutil_now_ms() + delay > job->env.created_ms + worker_p.max_age)) {
        metrics_count("txmail_jobs_total", "outcome", "expired", 1);
        msg_info("%s: stage=%s attempt=%d status=expired (%s)", worker_job_log_id(job),
                 envelope_stage(&job->env), job->env.attempt, why(job));
        if (!worker_job_expire(worker_w, job))
            worker_settle_dead(job, "retries exhausted");
        return;
    }
    metrics_count("txmail_jobs_total", "outcome", "retry", 1);
    msg_info("%s: stage=%s attempt=%d delay=%llds status=deferred (%s)", worker_job_log_id(job),
             envelope_stage(&job->env), job->env.attempt, (long long)(delay / 1000), why(job));
    worker_settle_later(job, delay, job->count_attempt);
}

void worker_settle(struct job *job)
{
    metrics_latency(timeutil_mono_ms() - job->started_ms);
    switch (txcode_disposition(job->code)) {
    case TX_DISP_OK:
        metrics_count("txmail_jobs_total", "outcome", "ok", 1);
        msg_info("%s: stage=%s attempt=%d status=ok%s%s%s", worker_job_log_id(job),
                 envelope_stage(&job->env), job->env.attempt, job->reason[0] ? " (" : "",
                 job->reason, job->reason[0] ? ")" : "");
        break;
    case TX_DISP_RETRY:
        settle_retry(job);
        break;
    case TX_DISP_REJECT:
        metrics_count("txmail_jobs_total", "outcome", "reject", 1);
        msg_info("%s: stage=%s attempt=%d status=rejected (%s)", worker_job_log_id(job),
                 envelope_stage(&job->env), job->env.attempt, why(job));
        if (job->code == TX_REJECT_MALFORMED) {
            drop_outputs(job);
            worker_settle_dead(job, job->reason[0] ? job->reason : "malformed");
        }
        break;
    case TX_DISP_FATAL:
        msg_fatal("%s: stage=%s status=fatal (%s); exiting without ack", worker_job_log_id(job),
                  envelope_stage(&job->env), why(job));
    }
}
