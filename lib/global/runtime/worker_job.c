/*
 * worker_job - the rules the skeleton applies around every handle(): the
 * first-stage rule, the thread's database handle, taking back outputs.
 * See worker.h.
 */
#include "global/intake/firststage.h"
#include "global/txconf.h"
#include "global/runtime/worker.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <string.h>

struct db *worker_job_db(const struct job *job)
{
    struct db_conf c;

    (void)job; /* the handle is the calling thread's */
    txconf_db(&c);
    return db_thread(&c, 1);
}

/* is_new_job - a job envelope no stage has started yet */
static int is_new_job(const struct job *job)
{
    return strcmp(job->env.type, "job") == 0 && !firststage_started(job);
}

enum tx_code worker_job_run(const struct worker *w, struct job *job)
{
    if (w->first_stage_grace != NULL && is_new_job(job)) {
        struct db *db = worker_job_db(job);
        enum tx_code rc;

        if (db == NULL) {
            worker_job_reason(job, "the database is not reachable");
            return TX_RETRY_DB;
        }
        rc = firststage_accept(job, db, *w->first_stage_grace);
        if (rc != TX_OK)
            return rc;
    }
    return w->handle(job);
}

int worker_job_expire(const struct worker *w, struct job *job)
{
    if (w->first_stage_grace != NULL && is_new_job(job)) {
        struct db *db = worker_job_db(job);
        int t = db ? firststage_give_up(job, db) : -1;

        if (t == 0)
            msg_warn("%s: DROPPED AN ACCEPTED JOB: its acceptance record exists but it ran out "
                     "of retries before it could start (producer clock far behind?)",
                     worker_job_log_id(job));
        else
            msg_warn("%s: discarded: the acceptance record could not be checked in time%s",
                     worker_job_log_id(job),
                     t > 0 ? " (tombstone written)"
                           : " (no tombstone: "
                             "database unreachable)");
        return 1;
    }
    if (w->expired == NULL)
        return 0;
    w->expired(job);
    return 1;
}

size_t worker_job_mark(struct job *job)
{
    job->sealed = job->nouts;
    return (size_t)job->nouts;
}

void worker_job_rollback(struct job *job, size_t mark)
{
    if (mark > (size_t)job->nouts)
        msg_panic("worker_job_rollback: mark %zu beyond the %d outputs queued", mark, job->nouts);
    for (size_t i = mark; i < (size_t)job->nouts; i++)
        xfree(job->outs[i].body);
    job->nouts = (int)mark;
    if (job->sealed > job->nouts)
        job->sealed = job->nouts;
}
