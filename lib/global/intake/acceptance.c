/* acceptance - the acceptance record (job row) of a job; see acceptance.h. */
#include "global/intake/acceptance.h"
#include "util/msg.h"
#include "util/timeutil.h"

#include <stdio.h>

/* received_at - DATETIME(3) text in UTC of ms */
static void received_at(char *ts, size_t tssz, int64_t ms)
{
    timeutil_iso8601(ts, tssz, ms);
    ts[23] = 0; /* "YYYY-MM-DDTHH:MM:SS.mmm" without Z: DATETIME(3) in UTC */
}

enum tx_code acceptance_write(struct db *db, const struct acceptance *a)
{
    enum tx_code rc;
    char ts[32];

    received_at(ts, sizeof(ts), a->received_ms);
    rc = db_exec(db,
                 "INSERT INTO job (job_id, account_id, entry, received_at, idem_key, http_status, "
                 "answer, mail_from, reference_job, cost_center, campaign_id, notification, slip, "
                 "recipients, parent_job_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 "sisssisssssssis", a->job_id, a->account_id, a->entry, ts, a->idem_key,
                 (long long)a->http_status, a->answer, a->mail_from, a->reference_job,
                 a->cost_center, a->campaign_id, a->notification, a->slip, (long long)a->recipients,
                 a->parent_job_id);
    if (rc == TX_REJECT_INPUT && db_errno(db) == DB_ER_DUP_ENTRY)
        msg_warn("%s: the first stage gave up waiting for this job's acceptance record "
                 "and discarded it (tombstone): answering failure",
                 a->job_id);
    return rc;
}

int acceptance_status(struct db *db, const char *job_id, long long *account_id, int *http_status)
{
    struct db_res *res;
    int found;

    if (db_query(db, &res, "SELECT account_id, http_status FROM job WHERE job_id = ?", "s",
                 job_id) != TX_OK)
        return -1;
    found = db_res_rows(res) > 0;
    if (found && account_id)
        *account_id = db_res_int(res, 0, 0, -1);
    if (found && http_status)
        *http_status = (int)db_res_int(res, 0, 1, 0);
    db_res_free(res);
    return found;
}

enum tx_code acceptance_remove(struct db *db, const char *job_id)
{
    return db_exec(db, "DELETE FROM job WHERE job_id = ? AND http_status <> ?", "si", job_id,
                   (long long)ACCEPTANCE_TOMBSTONE_STATUS);
}

int acceptance_tombstone(struct db *db, const char *job_id, long long account_id, const char *entry,
                         int64_t received_ms, const char *why)
{
    enum tx_code rc;
    char ts[32];

    received_at(ts, sizeof(ts), received_ms);
    rc = db_exec(db,
                 "INSERT INTO job (job_id, account_id, entry, received_at, http_status, answer, "
                 "mail_from, slip, recipients) VALUES (?, ?, ?, ?, ?, ?, '', '', 0)",
                 "sissis", job_id, account_id, entry, ts, (long long)ACCEPTANCE_TOMBSTONE_STATUS,
                 why);
    if (rc == TX_OK)
        return 1;
    if (rc == TX_REJECT_INPUT && db_errno(db) == DB_ER_DUP_ENTRY)
        return 0;
    return -1;
}
