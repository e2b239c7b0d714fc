/*
 * firststage - what the first processing stage of every job does before
 * anything else (DESIGN.md §2, docs/ENVELOPES.md "first stage").
 *
 * A producer publishes the job, waits for the broker's confirm, and only
 * then writes the job's acceptance record (the `job` row). The first
 * stage therefore processes a job only once that record exists:
 *
 *   - data.started is true: an earlier stage (or an earlier round of this
 *     one) already did all this: TX_OK at once;
 *   - the acceptance record exists (lib/global/intake/acceptance.h): queue, with
 *     the job's outputs (worker_job_publish / worker_job_event, so they go out in the
 *     same confirmed batch as the stage's own work), the intake record
 *     (the INTAKE event, key "intake.job"), the PRE_PROCESS drop event of every address refused at intake (ts =
 *     receivedTs, the description given in the data; a drop by the
 *     suppression list, whose data names the entry in drop.suppression,
 *     carries x.suppressTouch for the entry's expiry reset) and
 *     PROCESS/INITIAL/STARTED/PROCESSING_STARTED for every other address
 *     (and, for a Trace & Recover re-send with data.recoverOf, the
 *     original address's RESEND/POST_DELIVERY/TRACE_RECOVER event);
 *     then set data.started = true in job->env.data, so that a retry of
 *     this stage or a later stage of the slip does not repeat it: TX_OK;
 *   - no record yet, and less than grace_ms since a first stage first saw
 *     the job (data.firstSeen, written on the first look, by the first
 *     stages' clocks: the producer's clock may be skewed): wait briefly,
 *     then TX_RETRY_NOT_READY with a short job->retry_after_ms that does
 *     not count as an attempt;
 *   - no record after grace_ms: write the job's tombstone
 *     (acceptance_tombstone(), the key of the record) and TX_REJECT_DISCARD
 *     (a producer writing the record later collides and answers the
 *     client with an error): logged, no events. When the tombstone
 *     collides, the record got there first: processed as above;
 *   - a job row that is not an acceptance (a tombstone, another account,
 *     a status other than 2xx): TX_REJECT_DISCARD;
 *   - database trouble: TX_RETRY_DB; data that is not a job of a known
 *     entry: TX_REJECT_MALFORMED.
 *
 * Works for REST jobs (data.blocks[].to/cc/bcc) and SMTP jobs
 * (data.recipients[]). Programs do not call it: the skeleton applies it
 * to every new job of a stage that declares first_stage_grace, with the
 * handler thread's db (worker.h worker_job_run, worker_job_expire).
 */
#ifndef TX_FIRSTSTAGE_H
#define TX_FIRSTSTAGE_H

#include "global/db.h"
#include "global/txcode.h"
#include "global/runtime/worker.h"

#include <stdint.h>

#define FIRSTSTAGE_GRACE_MS 60000       /* default grace for the acceptance record */
#define FIRSTSTAGE_RETRY_MS 1000        /* delay of a not-ready retry */
#define FIRSTSTAGE_SEEN_KEY "firstSeen" /* data: ms of the first look, while waiting */

/* firststage_accept - see above */
enum tx_code firststage_accept(struct job *job, struct db *db, int64_t grace_ms);
/*
 * firststage_give_up - a job that never started runs out of retries (its
 * maximum age counts from the producer's clock): write its tombstone, so
 * that a producer still on its way cannot answer success for it. 1 the
 * tombstone is written (or the data is not a producer's job), 0 the
 * acceptance record exists (an accepted job is dropped: say so loudly),
 * -1 database trouble.
 */
int firststage_give_up(const struct job *job, struct db *db);
/* firststage_started - 1 when data.started is true */
int firststage_started(const struct job *job);

#endif
