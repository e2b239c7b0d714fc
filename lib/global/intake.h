/*
 * intake - how a producer makes a job durable (DESIGN.md §2), shared by
 * txmail-rest and txmail-smtpd:
 *
 *   1. intake_publish_body(): the job envelope to slip[0] on txmail.work,
 *      persistent, mandatory, and the broker's confirm awaited (mqpub.h's
 *      bounded policy);
 *   2. intake_record(): the acceptance record (the job row with the answer
 *      about to be sent);
 *   3. only then the answer.
 *
 * Any failure is TX_RETRY_BROKER / TX_RETRY_DB: the producer answers 503 /
 * 451, and the first stage discards the job for want of its record.
 *
 * The record and the discard exclude each other through the job row's
 * primary key: a first stage that gives up waiting for the record writes
 * a tombstone (intake_tombstone(): the same job_id, http_status
 * INTAKE_TOMBSTONE_STATUS) before it discards the job, so a producer that
 * was stalled past the grace (broker alarm, database stall, clock skew)
 * and writes the record afterwards collides with it (duplicate key,
 * TX_REJECT_INPUT) and answers failure; and a first stage whose tombstone
 * collides finds the record and processes the job. Neither side checks
 * before it acts: the unique key decides.
 *
 * The first stage (lib/global/firststage.h) publishes the intake record and
 * PRE_PROCESS drop events, so no event exists for a job that was refused.
 */
#ifndef TX_INTAKE_H
#define TX_INTAKE_H

#include "global/db.h"
#include "global/envelope.h"
#include "global/mqpub.h"

#include <stdint.h>

#define INTAKE_TOMBSTONE_STATUS 0   /* job.http_status of a tombstone */

struct intake_job {
    const char *job_id;
    long long account_id;
    const char *entry;            /* "rest" | "smtp" */
    int64_t received_ms;
    const char *idem_key;         /* or NULL */
    int http_status;
    const char *answer;           /* the answer body, byte for byte */
    const char *mail_from;        /* as submitted */
    const char *reference_job, *cost_center, *campaign_id; /* or NULL */
    const char *notification;     /* JSON endpoint (password encrypted) or NULL */
    const char *slip;             /* "render,deliver" */
    int recipients;
    const char *parent_job_id;    /* follow-up jobs, or NULL */
};

/*
 * intake_publish_body - publish an encoded job envelope (body) to stage
 * and wait for the confirm; TX_RETRY_BROKER when the broker did not take it
 */
enum tx_code intake_publish_body(struct mqpub *pub, const char *stage, const char *job_id,
                                 const void *body, size_t len, int timeout_ms);
/* intake_record - insert the job row; TX_REJECT_INPUT (duplicate key) when
 * the first stage already wrote the job's tombstone: answer failure */
enum tx_code intake_record(struct db *db, const struct intake_job *j);
/* intake_tombstone - the first stage gives up on job_id: 1 the tombstone is
 * written (discard the job), 0 the job row exists already (the producer's
 * record won: read it), -1 database trouble */
int intake_tombstone(struct db *db, const char *job_id, long long account_id, const char *entry,
                     int64_t received_ms, const char *why);

#endif
