/*
 * rest_read_message - GET /email/v2/messages/{recipientId} (contract
 * §12.2): one recipient address, its delivery state and every event
 * recorded for it.
 *
 * meta comes from the message row (email and from as submitted,
 * messageId once the message was built, size, smtpStatusCode of the
 * latest delivery attempt, traceRecoverUntil); lastEvent is the delivery
 * state (as §12.1); events[] holds every event row of the address ordered
 * by event.ts, then by recording order (event.seq), each element byte for
 * byte as stored in event.notification (the notifications[] element of
 * §11.4).
 *
 * txmail decisions: a recipient id that is not of the §5.2 shape answers
 * 404 NOT_FOUND like an unknown one, not 400: ids are opaque to clients
 * (§5.2) and §3.4 makes 404 the answer for a resource that does not exist.
 * An address of an accepted job that the recorder has not recorded yet
 * answers from the job's synchronous answer: messageId, smtpStatusCode and
 * lastEvent null, size 0, events as recorded so far. traceRecover: the
 * preview of a message kept by Trace & Recover (rest_preview.c), else null. Expired (older than 45
 * days) and another account's ids answer 404 as well.
 */
#include "global/ids.h"
#include "producers/rest/rest_lookup.h"
#include "producers/rest/rest_preview.h"
#include "producers/rest/rest_route.h"
#include "util/buf.h"
#include "util/mymalloc.h"

#include <stdlib.h>
#include <string.h>

/* the largest answer: 45 days of events of one address stay far below it */
#define MESSAGE_ANSWER_MAX (64 * 1024 * 1024)

enum { M_EMAIL, M_FROM, M_MSGID, M_SIZE, M_SMTP, M_TRACE, M_EVENT };

/* answered_email - the email of rid in the job's §5.1 answer; NULL when absent. Borrowed. */
static const char *answered_email(const json_t *answer, const char *rid)
{
    static const char *const kinds[] = {"to", "cc", "bcc"};
    json_t *blocks = json_object_get(json_object_get(answer, "content"), "recipients"), *b, *el;
    size_t i, j;

    json_array_foreach (blocks, i, b)
        for (int k = 0; k < 3; k++)
            json_array_foreach (json_object_get(json_object_get(b, "mail"), kinds[k]), j, el) {
                const char *id = json_string_value(json_object_get(el, "id"));
                if (id && strcmp(id, rid) == 0)
                    return json_string_value(json_object_get(el, "email"));
            }
    return NULL;
}

/* head - the answer without events[]; NULL when the address is unknown. Ownership: new */
static json_t *head(const char *rid, const struct db_res *j, const struct db_res *m)
{
    json_t *meta, *last;

    if (db_res_rows(m) > 0) {
        meta = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s?, s:I, s:s?, s:o}", "id", rid, "jobId",
                         "", "receivedTs", rest_lookup_ts(db_res_get(j, 0, REST_JOB_RECEIVED)),
                         "entryInterface", db_res_get(j, 0, REST_JOB_ENTRY), "email",
                         db_res_get(m, 0, M_EMAIL) ?: "", "from", db_res_get(m, 0, M_FROM) ?: "",
                         "messageId", db_res_get(m, 0, M_MSGID), "size",
                         db_res_int(m, 0, M_SIZE, 0), "smtpStatusCode", db_res_get(m, 0, M_SMTP),
                         "traceRecoverUntil", rest_lookup_ts(db_res_get(m, 0, M_TRACE)));
        last = rest_lookup_event(m, 0, M_EVENT);
    } else {
        json_t *answer = json_loads(db_res_get(j, 0, REST_JOB_ANSWER), 0, NULL);
        const char *email = answered_email(answer, rid);

        if (email == NULL) {
            json_decref(answer);
            return NULL;
        }
        meta = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:n, s:i, s:n, s:n}", "id", rid, "jobId",
                         "", "receivedTs", rest_lookup_ts(db_res_get(j, 0, REST_JOB_RECEIVED)),
                         "entryInterface", db_res_get(j, 0, REST_JOB_ENTRY), "email", email, "from",
                         db_res_get(j, 0, REST_JOB_MAIL_FROM) ?: "", "messageId", "size", 0,
                         "smtpStatusCode", "traceRecoverUntil");
        json_decref(answer);
        last = json_null();
    }
    json_object_set_new(meta, "jobId", json_stringn(rid, UUID_STR_LEN));
    return json_pack("{s:o, s:o}", "meta", meta, "lastEvent", last);
}

/* reply - head plus "events":[the stored elements, verbatim] */
static enum MHD_Result reply(struct rest_req *r, json_t *h, const struct db_res *ev)
{
    char *text = json_dumps(h, JSON_COMPACT);
    struct buf b = BUF_INIT(MESSAGE_ANSWER_MAX);
    size_t n = strlen(text);
    int bad = 0;
    enum MHD_Result rc;

    json_decref(h);
    bad |= buf_append(&b, text, n - 1) < 0; /* without the closing brace */
    bad |= buf_append(&b, ",\"events\":[", 11) < 0;
    for (size_t i = 0; i < db_res_rows(ev); i++) {
        if (i > 0)
            bad |= buf_append(&b, ",", 1) < 0;
        bad |= buf_append(&b, db_res_get(ev, i, 0), db_res_len(ev, i, 0)) < 0;
    }
    bad |= buf_append(&b, "]}", 2) < 0;
    free(text);
    rc = bad ? rest_query_db_error(r, "message answer too large")
             : rest_answer_reply(r, 200, b.data, b.len, NULL);
    buf_free(&b);
    return rc;
}

/*
 * trace_recover - the traceRecover object of rid (day: its rday):
 * {"storedUntil","preview"} while a copy is kept and not expired, else
 * JSON null. TX_OK or TX_RETRY_DB. Ownership: new.
 */
static enum tx_code trace_recover(struct db *db, long long account, const char *rid,
                                  const char *day, json_t **out)
{
    struct db_res *res = NULL;

    *out = json_null();
    if (db_query(db, &res,
                 "SELECT stored_until, raw FROM trace_store WHERE rid = ? AND rday = ? AND "
                 "account_id = ? AND stored_until > UTC_TIMESTAMP(3)",
                 "ssi", rid, day, account) != TX_OK)
        return TX_RETRY_DB;
    if (db_res_rows(res) > 0) {
        json_decref(*out);
        *out =
            json_pack("{s:o, s:o}", "storedUntil", rest_lookup_ts(db_res_get(res, 0, 0)), "preview",
                      rest_preview_text(db_res_get(res, 0, 1), db_res_len(res, 0, 1)));
    }
    db_res_free(res);
    return TX_OK;
}

enum MHD_Result rest_read_message(struct rest_req *r, struct rest_conn *c, const char *rid)
{
    struct db_res *j = NULL, *m = NULL, *ev = NULL;
    char job_id[UUID_STR_LEN + 1], day[16];
    struct uuid u;
    uint32_t blk, adr;
    json_t *h;
    enum MHD_Result rc;
    int found = 0;

    if (strlen(rid) == RID_STR_LEN && ids_rid_parse(rid, &u, &blk, &adr) == 0 &&
        strpbrk(rid, "ABCDEF") == NULL) {
        memcpy(job_id, rid, UUID_STR_LEN);
        job_id[UUID_STR_LEN] = 0;
        found = rest_lookup_job(c->db, r->acct.id, job_id, &j);
    }
    if (found < 0) {
        rc = rest_query_db_error(r, "message lookup");
        goto out;
    }
    if (found == 0) {
        rc = rest_query_not_found(r, "Unknown recipient id");
        goto out;
    }
    rest_lookup_day(day, sizeof(day), db_res_get(j, 0, REST_JOB_RECEIVED));
    /* the primary key (rid, rday); events: event_rid in the same partition */
    if (db_query(c->db, &m,
                 "SELECT email, mail_from, message_id, size, smtp_code, "
                 "trace_until, " REST_LOOKUP_EVENT_COLS
                 " FROM message WHERE rid = ? AND rday = ? AND account_id = ?",
                 "ssi", rid, day, r->acct.id) != TX_OK ||
        db_query(c->db, &ev,
                 "SELECT notification FROM event WHERE rid = ? AND rday = ? AND account_id = ? "
                 "ORDER BY ts, seq",
                 "ssi", rid, day, r->acct.id) != TX_OK) {
        rc = rest_query_db_error(r, "message lookup");
        goto out;
    }
    if ((h = head(rid, j, m)) == NULL) {
        rc = rest_query_not_found(r, "Unknown recipient id");
        goto out;
    }
    /* the kept copy of Trace & Recover (rest_preview.c) */
    json_t *tr;
    if (trace_recover(c->db, r->acct.id, rid, day, &tr) != TX_OK) {
        json_decref(h);
        rc = rest_query_db_error(r, "message lookup");
        goto out;
    }
    json_object_set_new(h, "traceRecover", tr);
    rc = reply(r, h, ev);
out:
    db_res_free(j);
    db_res_free(m);
    db_res_free(ev);
    return rc;
}
