/*
 * acceptance - the acceptance record of a job: its `job` row, written by
 * the producer that accepted the job with the answer it is about to send
 * (DESIGN.md §2, docs/ENVELOPES.md "Slips"). Not to be confused with the
 * intake record, the INTAKE event the first stage publishes.
 *
 * A producer publishes the job, waits for the broker's confirm, writes
 * the record (acceptance_write) and only then answers; the first stage
 * of the job processes it only once the record exists
 * (acceptance_status, lib/global/intake/firststage.h).
 *
 * The record and the first stage's discard exclude each other through
 * the row's primary key: a first stage that gives up waiting for the
 * record writes a tombstone (acceptance_tombstone: the same job_id,
 * http_status ACCEPTANCE_TOMBSTONE_STATUS) before it discards the job,
 * so a producer that was stalled past the grace (broker alarm, database
 * stall, clock skew) and writes the record afterwards collides with it
 * (duplicate key, TX_REJECT_INPUT) and answers failure; and a first
 * stage whose tombstone collides finds the record and processes the job.
 * Neither side checks before it acts: the unique key decides.
 */
#ifndef TX_ACCEPTANCE_H
#define TX_ACCEPTANCE_H

#include "global/db.h"
#include "global/txcode.h"

#include <stdint.h>

#define ACCEPTANCE_TOMBSTONE_STATUS 0 /* job.http_status of a tombstone */

struct acceptance {
    const char *job_id;
    long long account_id;
    const char *entry; /* "rest" | "smtp" */
    int64_t received_ms;
    const char *idem_key; /* or NULL */
    int http_status;
    const char *answer;                                    /* the answer body, byte for byte */
    const char *mail_from;                                 /* as submitted */
    const char *reference_job, *cost_center, *campaign_id; /* or NULL */
    const char *notification; /* JSON endpoint (password encrypted) or NULL */
    const char *slip;         /* "render,deliver" */
    int recipients;
    const char *parent_job_id; /* follow-up jobs, or NULL */
};

/* acceptance_write - insert the record; TX_REJECT_INPUT (duplicate key) when
 * the first stage already wrote the job's tombstone: answer failure */
enum tx_code acceptance_write(struct db *db, const struct acceptance *a);
/*
 * acceptance_status - the job row of job_id: 1 found (*account_id and
 * *http_status filled; either may be NULL), 0 none, -1 database trouble.
 * The row is an acceptance when its account is the job's and its status
 * 2xx (a tombstone has ACCEPTANCE_TOMBSTONE_STATUS).
 */
int acceptance_status(struct db *db, const char *job_id, long long *account_id, int *http_status);
/* acceptance_remove - delete job_id's record whose commit may have gone
 * through unseen (the answer is failure); a tombstone stays */
enum tx_code acceptance_remove(struct db *db, const char *job_id);
/* acceptance_tombstone - the first stage gives up on job_id: 1 the tombstone is
 * written (discard the job), 0 the job row exists already (the producer's
 * record won: read it), -1 database trouble */
int acceptance_tombstone(struct db *db, const char *job_id, long long account_id, const char *entry,
                         int64_t received_ms, const char *why);

#endif
