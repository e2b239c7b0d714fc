/* deadletter - notification dead letters: list and redeliver; see deadletter.h. */
#include "global/manage/deadletter.h"
#include "global/manage/webhook.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *ts_json(struct db_res *r, size_t i, size_t c)
{
    char ts[32];

    return json_string(timeutil_iso8601(ts, sizeof(ts), db_res_int(r, i, c, 0)));
}

enum tx_code deadletter_list(struct db *db, long long account, long long after_id, size_t limit,
                             json_t *items, long long *next_id)
{
    struct db_res *r = NULL;
    size_t n;

    /* one more row than limit tells whether more follow */
    if (db_query(db, &r,
                 "SELECT id, tag, job_id, rid, url, attempts, "
                 "ROUND(UNIX_TIMESTAMP(first_attempt_at) * 1000), "
                 "ROUND(UNIX_TIMESTAMP(last_attempt_at) * 1000), last_result, notification "
                 "FROM webhook_delivery WHERE account_id = ? AND state = 'dead' "
                 "AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?",
                 "iiii", account, after_id, after_id, (long long)limit + 1) != TX_OK)
        return TX_RETRY_DB;
    n = db_res_rows(r);
    *next_id = 0;
    if (n > limit) {
        n = limit;
        *next_id = db_res_int(r, n - 1, 0, 0);
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object(), *note;
        json_object_set_new(o, "tag", json_string(db_res_get(r, i, 1)));
        json_object_set_new(o, "jobId", json_string(db_res_get(r, i, 2)));
        json_object_set_new(o, "recipientId", json_string(db_res_get(r, i, 3)));
        json_object_set_new(o, "url", json_string(db_res_get(r, i, 4)));
        json_object_set_new(o, "attempts", json_integer(db_res_int(r, i, 5, 0)));
        json_object_set_new(o, "firstAttemptTs", ts_json(r, i, 6));
        json_object_set_new(o, "lastAttemptTs", ts_json(r, i, 7));
        json_object_set_new(o, "lastResult", json_string(db_res_get(r, i, 8)));
        note = json_loads(db_res_get(r, i, 9) ? db_res_get(r, i, 9) : "", 0, NULL);
        json_object_set_new(o, "notification", note ? note : json_null());
        json_array_append_new(items, o);
    }
    db_res_free(r);
    return TX_OK;
}

/* ---- redelivery --------------------------------------------------------- */

/* what a redelivery reads: the dead letter, its job and account */
struct dead {
    struct db_res *row, *job, *acct, *msg;
    struct webhook_endpoint ep;
};

static void dead_free(struct dead *d)
{
    db_res_free(d->row);
    db_res_free(d->job);
    db_res_free(d->acct);
    db_res_free(d->msg);
    webhook_endpoint_free(&d->ep);
}

/* dead_read - the dead letter tag of account and its context: TX_OK (d->row NULL: none) */
static enum tx_code dead_read(struct db *db, long long account, const char *tag, struct dead *d)
{
    const char *job_id;

    memset(d, 0, sizeof(*d));
    if (db_query(db, &d->row,
                 "SELECT job_id, rid, url, notification, last_attempt_at FROM webhook_delivery "
                 "WHERE account_id = ? AND tag = ? AND state = 'dead'",
                 "is", account, tag) != TX_OK)
        return TX_RETRY_DB;
    if (db_res_rows(d->row) != 1) {
        db_res_free(d->row);
        d->row = NULL;
        return TX_OK;
    }
    job_id = db_res_get(d->row, 0, 0);
    if (db_query(db, &d->job,
                 "SELECT ROUND(UNIX_TIMESTAMP(received_at) * 1000), reference_job, cost_center, "
                 "campaign_id, notification FROM job WHERE job_id = ? AND account_id = ?",
                 "si", job_id, account) != TX_OK ||
        db_query(db, &d->acct,
                 "SELECT name, customer_no, tenant, notify_url, notify_headers, notify_user, "
                 "notify_password FROM account WHERE id = ?",
                 "i", account) != TX_OK)
        return TX_RETRY_DB;
    if (db_res_rows(d->job) == 0 &&
        db_query(db, &d->msg,
                 "SELECT ROUND(UNIX_TIMESTAMP(received_at) * 1000) FROM message WHERE rid = ? "
                 "AND account_id = ? LIMIT 1",
                 "si", db_res_get(d->row, 0, 1), account) != TX_OK)
        return TX_RETRY_DB;
    return TX_OK;
}

/* dead_endpoint - notify's choice: the job's endpoint, the account's, the dead letter's URL */
static void dead_endpoint(struct dead *d)
{
    int job = db_res_rows(d->job) == 1, acct = db_res_rows(d->acct) == 1;

    if (job && db_res_get(d->job, 0, 4) &&
        webhook_endpoint_parse(&d->ep, db_res_get(d->job, 0, 4)) == 0)
        return;
    if (acct &&
        webhook_endpoint_account(&d->ep, db_res_get(d->acct, 0, 3), db_res_get(d->acct, 0, 4),
                                 db_res_get(d->acct, 0, 5), db_res_get(d->acct, 0, 6)) == 0)
        return;
    memset(&d->ep, 0, sizeof(d->ep));
    d->ep.url = xstrdup(db_res_get(d->row, 0, 2));
}

/* dead_body - the POST body of the one notification, as notify builds it. Ownership: new. */
static char *dead_body(struct dead *d, size_t *len)
{
    int job = db_res_rows(d->job) == 1, acct = db_res_rows(d->acct) == 1;
    struct webhook_meta m;
    json_t *meta, *items = json_array(), *n;
    char *body;

    memset(&m, 0, sizeof(m));
    m.job_id = db_res_get(d->row, 0, 0);
    if (job) {
        m.received_ms = db_res_int(d->job, 0, 0, 0);
        m.reference_job = db_res_get(d->job, 0, 1);
        m.cost_center = db_res_get(d->job, 0, 2);
        m.campaign_id = db_res_get(d->job, 0, 3);
    } else if (d->msg && db_res_rows(d->msg) == 1) {
        m.received_ms = db_res_int(d->msg, 0, 0, 0);
    }
    if (acct) {
        m.account = db_res_get(d->acct, 0, 0);
        m.customer_no = db_res_get(d->acct, 0, 1);
        m.tenant = db_res_get(d->acct, 0, 2);
    }
    n = json_loads(db_res_get(d->row, 0, 3) ? db_res_get(d->row, 0, 3) : "", 0, NULL);
    if (!json_is_object(n)) {
        json_decref(n);
        json_decref(items);
        return NULL;
    }
    json_array_append_new(items, n);
    meta = webhook_meta_json(&m);
    body = webhook_body(meta, items, len);
    json_decref(meta);
    json_decref(items);
    return body;
}

/* dead_publish - the retry envelope of d to the retry queue, confirmed */
static enum tx_code dead_publish(struct dead *d, struct mqpub *pub, int timeout_ms,
                                 long long account, const char *tag)
{
    struct webhook_retry w;
    char *env = NULL;
    size_t elen;
    const char *tier;
    enum tx_code rc;

    memset(&w, 0, sizeof(w));
    w.account_id = account;
    snprintf(w.job_id, sizeof(w.job_id), "%s", db_res_get(d->row, 0, 0));
    dead_endpoint(d);
    w.ep = d->ep; /* borrowed */
    w.tags = json_pack("[s]", tag);
    w.rids = json_pack("[s]", db_res_get(d->row, 0, 1));
    w.body = dead_body(d, &w.len);
    if (w.body == NULL ||
        webhook_retry_encode(&w, WEBHOOK_RETRY_QUEUE, 0, &env, &elen, &tier) < 0) {
        rc = TX_FATAL_INTERNAL; /* a row notify wrote is always readable */
        goto out;
    }
    struct mqpub_msg m = {MQ_EXCHANGE_WORK, WEBHOOK_RETRY_QUEUE, NULL, NULL, env, elen, NULL};
    rc = mqpub_ready(pub);
    if (rc == TX_OK)
        rc = mqpub_send(pub, &m, 1, timeout_ms);
out:
    free(env);
    free(w.body);
    json_decref(w.tags);
    json_decref(w.rids);
    return rc;
}

enum tx_code deadletter_redeliver(struct db *db, struct mqpub *pub, int timeout_ms,
                                  long long account, const char *tag, int *found)
{
    struct dead d;
    enum tx_code rc;

    *found = 0;
    rc = dead_read(db, account, tag, &d);
    if (rc != TX_OK || d.row == NULL)
        goto out;
    *found = 1;
    rc = dead_publish(&d, pub, timeout_ms, account, tag);
    if (rc != TX_OK)
        goto out;
    /* only the dead letter that was read: notify may have written a newer one since */
    rc = db_exec(db,
                 "UPDATE webhook_delivery SET state = 'redelivered' WHERE account_id = ? "
                 "AND tag = ? AND state = 'dead' AND last_attempt_at = ?",
                 "iss", account, tag, db_res_get(d.row, 0, 4)) == TX_OK
             ? TX_OK
             : TX_RETRY_DB;
out:
    dead_free(&d);
    return rc;
}
