/*
 * deliver_record - exactly-once toward the peer (DESIGN.md §3).
 *
 * Before connecting, handle() looks up `delivery_record` by recipient id:
 * a row means a peer already answered 2xx to the final dot for it, so the
 * message is not sent again and DELIVERED is published again from the
 * recorded reply (same tag). Right after a 2xx to the final dot, before
 * anything else (no event, no ack), the row is inserted synchronously;
 * while the database is unreachable the insert is retried for up to
 * deliver_record_retry. See the manual in deliver.c for the window that
 * remains.
 */
#include "workers/deliver/deliver.h"
#include "global/runtime/worker.h"
#include "util/msg.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

int deliver_record_lookup(struct db *db, const char *rid, struct sent_record *rec)
{
    struct db_res *res = NULL;
    int found = 0;

    if (db_query(
            db, &res,
            "SELECT smtp_code, reply, host FROM delivery_record WHERE rid = ? AND state = 'sent'",
            "s", rid) != TX_OK)
        return -1;
    if (db_res_rows(res) > 0) {
        const char *code = db_res_get(res, 0, 0), *reply = db_res_get(res, 0, 1),
                   *host = db_res_get(res, 0, 2);
        snprintf(rec->code, sizeof(rec->code), "%s", code ? code : "250");
        snprintf(rec->reply, sizeof(rec->reply), "%s", reply ? reply : "");
        snprintf(rec->host, sizeof(rec->host), "%s", host ? host : "");
        found = 1;
    }
    db_res_free(res);
    return found;
}

int deliver_record_sent(struct job *job, const char *key, const struct outcome *o)
{
    const char *rid = key;
    long long account = job->env.account_id;
    char code[8];
    int64_t until = timeutil_mono_ms() + deliver_conf.record_retry, wait = 50;

    snprintf(code, sizeof(code), "%03d", o->code);
    for (;;) {
        struct db *db = worker_job_db(job);
        if (db && db_exec(db,
                          "INSERT IGNORE INTO delivery_record (rid, account_id, state, smtp_code, "
                          "reply, host, at) VALUES (?, ?, 'sent', ?, ?, ?, UTC_TIMESTAMP(3))",
                          "sisss", rid, account, code, o->text, o->host) == TX_OK)
            return 0;
        if (timeutil_mono_ms() + wait > until) {
            msg_warn("%s: cannot record the delivery: %s", rid, db ? db_error(db) : "no database");
            return -1;
        }
        timeutil_sleep_ms(wait);
        wait = wait * 2 > 2000 ? 2000 : wait * 2;
    }
}
