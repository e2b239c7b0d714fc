/*
 * rest_idem - Idempotency-Key (contract §7) on the idempotency table.
 *
 * A request claims (account, key) by inserting a pending row owned by its
 * own id. The claim becomes done in the same transaction as the job's
 * acceptance record, so a done key always has its stored answer. A
 * concurrent duplicate finds the row and polls it: done - replay the
 * stored answer; gone (the first request was rejected) - claim it itself;
 * pending for longer than rest_idem_stale (its owner died) - take it over;
 * still pending after rest_idem_wait - 409. A claim that was taken over
 * cannot be marked done by its old owner (rest_idem_done checks the
 * owner), so under any number of duplicates one job is accepted.
 */
#include "producers/rest/rest.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

#define POLL_MS 20

/* replay - the stored answer of the job behind a done key; 0, or -1 when it is gone */
static int replay(struct db *db, long long account_id, const char *job_id,
                  struct rest_idem_replay *out)
{
    struct db_res *res;
    int rc = -1;

    if (db_query(db, &res,
                 "SELECT http_status, answer FROM job WHERE job_id = ? AND account_id = ?", "si",
                 job_id, account_id) != TX_OK)
        return -2;
    if (db_res_rows(res) == 1 && db_res_get(res, 0, 1)) {
        out->status = (int)db_res_int(res, 0, 0, 200);
        out->answer = xstrndup(db_res_get(res, 0, 1), db_res_len(res, 0, 1));
        snprintf(out->job_id, sizeof(out->job_id), "%s", job_id);
        rc = 0;
    }
    db_res_free(res);
    return rc;
}

enum rest_idem rest_idem_claim(struct db *db, long long account_id, const char *key,
                               const char *owner, struct rest_idem_replay *out)
{
    int64_t deadline = timeutil_mono_ms() + rest_conf.idem_wait_ms;
    long long window_s = rest_conf.idem_window_ms / 1000;
    struct db_res *res;
    enum tx_code rc;

    memset(out, 0, sizeof(*out));
    for (;;) {
        rc = db_exec(db,
                     "INSERT INTO idempotency (account_id, idem_key, state, job_id, owner, "
                     "created_at, expires_at) VALUES (?, ?, 'pending', NULL, ?, NOW(3), "
                     "NOW(3) + INTERVAL ? SECOND)",
                     "issi", account_id, key, owner, window_s);
        if (rc == TX_OK)
            return REST_IDEM_OWNED;
        if (rc != TX_REJECT_INPUT || db_errno(db) != DB_ER_DUP_ENTRY)
            return REST_IDEM_ERROR;
        if (db_query(db, &res,
                     "SELECT state, job_id, owner, expires_at < NOW(3), "
                     "TIMESTAMPDIFF(MICROSECOND, created_at, NOW(3)) DIV 1000 "
                     "FROM idempotency WHERE account_id = ? AND idem_key = ?",
                     "is", account_id, key) != TX_OK)
            return REST_IDEM_ERROR;
        if (db_res_rows(res) == 0) { /* released meanwhile: try again at once */
            db_res_free(res);
            continue;
        }
        char state[12], job[UUID_STR_LEN + 1], old[UUID_STR_LEN + 1];
        snprintf(state, sizeof(state), "%s", db_res_get(res, 0, 0) ? db_res_get(res, 0, 0) : "");
        snprintf(job, sizeof(job), "%s", db_res_get(res, 0, 1) ? db_res_get(res, 0, 1) : "");
        snprintf(old, sizeof(old), "%s", db_res_get(res, 0, 2) ? db_res_get(res, 0, 2) : "");
        int expired = db_res_int(res, 0, 3, 0) != 0;
        long long age_ms = db_res_int(res, 0, 4, 0);
        db_res_free(res);
        if (expired) {
            if (db_exec(db,
                        "DELETE FROM idempotency WHERE account_id = ? AND idem_key = ? "
                        "AND owner = ? AND expires_at < NOW(3)",
                        "iss", account_id, key, old) != TX_OK)
                return REST_IDEM_ERROR;
            continue;
        }
        if (strcmp(state, "done") == 0) {
            int r = replay(db, account_id, job, out);
            if (r == 0)
                return REST_IDEM_REPLAY;
            if (r == -2)
                return REST_IDEM_ERROR;
            /* the job row is gone (retention): the key is free again */
            if (db_exec(
                    db,
                    "DELETE FROM idempotency WHERE account_id = ? AND idem_key = ? AND owner = ?",
                    "iss", account_id, key, old) != TX_OK)
                return REST_IDEM_ERROR;
            continue;
        }
        if (age_ms > rest_conf.idem_stale_ms) {
            if (db_exec(
                    db,
                    "UPDATE idempotency SET owner = ?, created_at = NOW(3) WHERE account_id = ? "
                    "AND idem_key = ? AND owner = ? AND state = 'pending'",
                    "siss", owner, account_id, key, old) != TX_OK)
                return REST_IDEM_ERROR;
            if (db_affected(db) == 1) {
                msg_warn(
                    "idempotency key of account %lld: took over the claim of %s (pending %lld ms)",
                    account_id, old, age_ms);
                return REST_IDEM_OWNED;
            }
            continue;
        }
        if (timeutil_mono_ms() + POLL_MS > deadline)
            return REST_IDEM_CONFLICT;
        timeutil_sleep_ms(POLL_MS);
    }
}

void rest_idem_release(struct db *db, long long account_id, const char *key, const char *owner)
{
    if (db_exec(db,
                "DELETE FROM idempotency WHERE account_id = ? AND idem_key = ? AND owner = ? "
                "AND state = 'pending'",
                "iss", account_id, key, owner) != TX_OK)
        msg_warn("idempotency key of account %lld: cannot release the claim of %s: %s "
                 "(waiters take it over after %lld ms)",
                 account_id, owner, db_error(db), (long long)rest_conf.idem_stale_ms);
}

enum tx_code rest_idem_done(struct db *db, long long account_id, const char *key, const char *owner,
                            const char *job_id)
{
    enum tx_code rc;

    rc = db_exec(db,
                 "UPDATE idempotency SET state = 'done', job_id = ?, "
                 "expires_at = NOW(3) + INTERVAL ? SECOND "
                 "WHERE account_id = ? AND idem_key = ? AND owner = ? AND state = 'pending'",
                 "siiss", job_id, (long long)(rest_conf.idem_window_ms / 1000), account_id, key,
                 owner);
    if (rc != TX_OK)
        return rc;
    if (db_affected(db) != 1) {
        msg_warn("%s: idempotency claim lost to another request", job_id);
        return TX_REJECT_POLICY;
    }
    return TX_OK;
}

long long rest_idem_expire(struct db *db)
{
    if (db_exec(db, "DELETE FROM idempotency WHERE expires_at < NOW(3) LIMIT 5000", "") != TX_OK)
        return -1;
    return db_affected(db);
}
