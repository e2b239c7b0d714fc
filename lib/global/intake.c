/* intake - durable job acceptance; see intake.h. */
#include "global/intake.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

enum tx_code intake_publish_body(struct mqpub *pub, const char *stage, const char *job_id,
                                 const void *body, size_t len, int timeout_ms)
{
    struct mqpub_msg m = {MQ_EXCHANGE_WORK, stage, NULL, NULL, body, len, job_id};

    return mqpub_send(pub, &m, 1, timeout_ms);
}

/* received_at - DATETIME(3) text in UTC of ms */
static void received_at(char *ts, size_t tssz, int64_t ms)
{
    time_iso8601(ts, tssz, ms);
    ts[23] = 0; /* "YYYY-MM-DDTHH:MM:SS.mmm" without Z: DATETIME(3) in UTC */
}

enum tx_code intake_record(struct db *db, const struct intake_job *j)
{
    enum tx_code rc;
    char ts[32];

    received_at(ts, sizeof(ts), j->received_ms);
    rc = db_exec(db,
                   "INSERT INTO job (job_id, account_id, entry, received_at, idem_key, http_status, "
                   "answer, mail_from, reference_job, cost_center, campaign_id, notification, slip, "
                   "recipients, parent_job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   "sisssisssssssis",
                   j->job_id, j->account_id, j->entry, ts, j->idem_key, (long long)j->http_status,
                   j->answer, j->mail_from, j->reference_job, j->cost_center, j->campaign_id,
                   j->notification, j->slip, (long long)j->recipients, j->parent_job_id);
    if (rc == TX_REJECT_INPUT && db_errno(db) == DB_ER_DUP_ENTRY)
        msg_warn("%s: the first stage gave up waiting for this job's acceptance record "
                 "and discarded it (tombstone): answering failure", j->job_id);
    return rc;
}

int intake_tombstone(struct db *db, const char *job_id, long long account_id, const char *entry,
                     int64_t received_ms, const char *why)
{
    enum tx_code rc;
    char ts[32];

    received_at(ts, sizeof(ts), received_ms);
    rc = db_exec(db,
                 "INSERT INTO job (job_id, account_id, entry, received_at, http_status, answer, "
                 "mail_from, slip, recipients) VALUES (?, ?, ?, ?, ?, ?, '', '', 0)",
                 "sissis", job_id, account_id, entry, ts, (long long)INTAKE_TOMBSTONE_STATUS, why);
    if (rc == TX_OK)
        return 1;
    if (rc == TX_REJECT_INPUT && db_errno(db) == DB_ER_DUP_ENTRY)
        return 0;
    return -1;
}
