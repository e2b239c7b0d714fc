/*
 * rest_read_job - GET /email/v2/jobs/{jobId} (contract §12.1): the job
 * and the current delivery state of every recipient address.
 *
 * The layout is the synchronous answer (§5.1, job.answer byte for byte
 * is its source) with, per address, lastEvent: the delivery state the
 * recorder keeps in the message row (message.last_*: the latest event of
 * phase PRE_PROCESS, PROCESS or DELIVER other than TRACE_RECOVER_STORE).
 * meta adds entryInterface, the job references given (referenceJob,
 * costCenter, campaignId), counts and followUpJobs (jobs whose
 * parent_job_id is this job, §16.3, oldest first). A block carries
 * "reference" when its addresses have one.
 *
 * txmail decisions: a job accepted a moment ago whose message rows the
 * recorder has not written yet still answers, from job.answer, with
 * lastEvent null for the addresses not recorded yet; counts take an
 * address without a final delivery state as inProgress (so until the
 * recorder catches up, also an address the answer already marks with a
 * validationResult). SMTP jobs (whose job.answer is the SMTP reply) are
 * laid out from their message rows: one block per envelope recipient,
 * state {ACCEPTED, FULL, PRE_PROCESS}.
 *
 * Unknown, malformed, expired (older than 45 days, §10.6), not accepted
 * (a tombstone or a rejection) and another account's job ids all answer
 * 404 NOT_FOUND "Unknown job id".
 */
#include "producers/rest/rest_lookup.h"
#include "producers/rest/rest_route.h"
#include "util/msg.h"

#include <stdio.h>
#include <string.h>

/* the columns of the message rows of a job */
enum { M_RID, M_BLOCK, M_KIND, M_EMAIL, M_REF, M_FINAL, M_EVENT };

struct counts {
    long long total, in_progress, delivered, bounced, dropped;
};

/* find_rid - the row of rid in rows sorted by rid; -1 when not recorded yet */
static long find_rid(const struct db_res *m, const char *rid)
{
    size_t lo = 0, hi = db_res_rows(m);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(db_res_get(m, mid, M_RID), rid);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* count - add the address of row (-1: not recorded) to the counts */
static void count(struct counts *n, const struct db_res *m, long row)
{
    const char *type = row >= 0 ? db_res_get(m, (size_t)row, M_EVENT + 2) : NULL;

    n->total++;
    if (row < 0 || db_res_get(m, (size_t)row, M_FINAL) == NULL || type == NULL)
        n->in_progress++;
    else if (strcmp(type, "DELIVERED") == 0)
        n->delivered++;
    else if (strcmp(type, "BOUNCED") == 0)
        n->bounced++;
    else if (strcmp(type, "DROPPED") == 0)
        n->dropped++;
    else
        n->in_progress++;
}

/* address - {id, email, [validationResult], lastEvent} of a §5.1 element. Ownership: new */
static json_t *address(const json_t *el, const struct db_res *m, struct counts *n)
{
    const char *id = json_string_value(json_object_get(el, "id"));
    long row = id ? find_rid(m, id) : -1;
    json_t *a = json_object(), *vr = json_object_get(el, "validationResult");

    json_object_set(a, "id", json_object_get(el, "id"));
    json_object_set(a, "email", json_object_get(el, "email"));
    if (vr)
        json_object_set(a, "validationResult", vr);
    json_object_set_new(a, "lastEvent",
                        row >= 0 ? rest_lookup_event(m, (size_t)row, M_EVENT) : json_null());
    count(n, m, row);
    return a;
}

/* block_reference - the reference of the first recorded address of a §5.1 block */
static const char *block_reference(const json_t *mail, const struct db_res *m)
{
    static const char *const kinds[] = {"to", "cc", "bcc"};
    size_t i;
    json_t *el;

    for (int k = 0; k < 3; k++)
        json_array_foreach (json_object_get(mail, kinds[k]), i, el) {
            long row = find_rid(m, json_string_value(json_object_get(el, "id")) ?: "");
            if (row >= 0)
                return db_res_get(m, (size_t)row, M_REF);
        }
    return NULL;
}

/* from_answer - content.recipients[] of the §5.1 answer with states. Ownership: new */
static json_t *from_answer(const json_t *blocks, const struct db_res *m, struct counts *n)
{
    static const char *const kinds[] = {"to", "cc", "bcc"};
    json_t *out = json_array(), *b;
    size_t i, j;

    json_array_foreach (blocks, i, b) {
        json_t *mail = json_object_get(b, "mail"), *blk = json_object(), *om = json_object(), *el;
        const char *ref = block_reference(mail, m);

        if (ref)
            json_object_set_new(blk, "reference", json_string(ref));
        for (int k = 0; k < 3; k++) {
            json_t *list = json_object_get(mail, kinds[k]), *ol;
            if (!json_is_array(list))
                continue;
            ol = json_array();
            json_array_foreach (list, j, el)
                json_array_append_new(ol, address(el, m, n));
            json_object_set_new(om, kinds[k], ol);
        }
        json_object_set_new(blk, "mail", om);
        json_array_append_new(out, blk);
    }
    return out;
}

/* from_rows - content.recipients[] of the message rows (SMTP jobs). Ownership: new */
static json_t *from_rows(const struct db_res *m, struct counts *n)
{
    json_t *out = json_array(), *blk = NULL;
    long long cur = -1;

    for (size_t r = 0; r < db_res_rows(m); r++) {
        long long b = db_res_int(m, r, M_BLOCK, 0);
        const char *kind = db_res_get(m, r, M_KIND);
        json_t *mail, *list;

        if (blk == NULL || b != cur) {
            blk = json_object();
            if (db_res_get(m, r, M_REF))
                json_object_set_new(blk, "reference", json_string(db_res_get(m, r, M_REF)));
            json_object_set_new(blk, "mail", json_object());
            json_array_append_new(out, blk);
            cur = b;
        }
        mail = json_object_get(blk, "mail");
        kind = kind && (!strcmp(kind, "cc") || !strcmp(kind, "bcc")) ? kind : "to";
        if ((list = json_object_get(mail, kind)) == NULL)
            json_object_set_new(mail, kind, list = json_array());
        json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "id", db_res_get(m, r, M_RID),
                                              "email", db_res_get(m, r, M_EMAIL) ?: "", "lastEvent",
                                              rest_lookup_event(m, r, M_EVENT)));
        count(n, m, (long)r);
    }
    return out;
}

/* meta - the §12.1 meta. Ownership: new */
static json_t *meta(const char *job_id, const struct db_res *j, const json_t *ameta,
                    const struct counts *n, const struct db_res *f)
{
    json_t *o = json_object(), *ts = json_object_get(ameta, "receivedTs");
    json_t *state = json_object_get(ameta, "state"), *fu = json_array();
    static const struct {
        const char *key;
        int col;
    } refs[] = {{"referenceJob", REST_JOB_REFERENCE},
                {"costCenter", REST_JOB_COST_CENTER},
                {"campaignId", REST_JOB_CAMPAIGN}};

    json_object_set_new(o, "jobId", json_string(job_id));
    json_object_set_new(o, "receivedTs",
                        json_is_string(ts) ? json_incref(ts)
                                           : rest_lookup_ts(db_res_get(j, 0, REST_JOB_RECEIVED)));
    json_object_set_new(o, "entryInterface", json_string(db_res_get(j, 0, REST_JOB_ENTRY)));
    for (int i = 0; i < 3; i++)
        if (db_res_get(j, 0, refs[i].col))
            json_object_set_new(o, refs[i].key, json_string(db_res_get(j, 0, refs[i].col)));
    json_object_set_new(o, "state",
                        json_is_object(state)
                            ? json_incref(state)
                            : json_pack("{s:s, s:s, s:s}", "type", "ACCEPTED", "subType", "FULL",
                                        "phase", "PRE_PROCESS"));
    json_object_set_new(o, "counts",
                        json_pack("{s:I, s:I, s:I, s:I, s:I}", "total", n->total, "inProgress",
                                  n->in_progress, "delivered", n->delivered, "bounced", n->bounced,
                                  "dropped", n->dropped));
    for (size_t r = 0; r < db_res_rows(f); r++)
        json_array_append_new(fu, json_string(db_res_get(f, r, 0)));
    json_object_set_new(o, "followUpJobs", fu);
    return o;
}

enum MHD_Result rest_read_job(struct rest_req *r, struct rest_conn *c, const char *job_id)
{
    struct db_res *j = NULL, *m = NULL, *f = NULL;
    json_t *answer = NULL, *out = NULL, *blocks;
    struct counts n = {0};
    char day[16];
    enum MHD_Result rc;
    int found = rest_lookup_job(c->db, r->acct.id, job_id, &j);

    if (found <= 0) {
        rc = found < 0 ? rest_query_db_error(r, "job lookup")
                       : rest_query_not_found(r, "Unknown job id");
        goto out;
    }
    /* message_job, within the job's partition day; followUpJobs: job_parent */
    if (db_query(
            c->db, &m,
            "SELECT rid, block_index, kind, email, reference, final_at, " REST_LOOKUP_EVENT_COLS
            " FROM message WHERE job_id = ? AND rday = ? AND account_id = ? ORDER BY rid",
            "ssi", job_id, rest_lookup_day(day, sizeof(day), db_res_get(j, 0, REST_JOB_RECEIVED)),
            r->acct.id) != TX_OK ||
        db_query(c->db, &f,
                 "SELECT job_id FROM job WHERE parent_job_id = ? AND account_id = ? "
                 "AND http_status = 200 ORDER BY received_at, job_id",
                 "si", job_id, r->acct.id) != TX_OK) {
        rc = rest_query_db_error(r, "job lookup");
        goto out;
    }
    answer = json_loads(db_res_get(j, 0, REST_JOB_ANSWER), 0, NULL);
    blocks = json_object_get(json_object_get(answer, "content"), "recipients");
    out = json_object();
    if (json_is_array(blocks)) {
        json_t *content = json_pack("{s:o}", "recipients", from_answer(blocks, m, &n));
        json_object_set_new(out, "meta", meta(job_id, j, json_object_get(answer, "meta"), &n, f));
        json_object_set_new(out, "content", content);
    } else {
        json_t *content = json_pack("{s:o}", "recipients", from_rows(m, &n));
        json_object_set_new(out, "meta", meta(job_id, j, NULL, &n, f));
        json_object_set_new(out, "content", content);
    }
    rc = rest_query_json(r, 200, out, NULL);
out:
    json_decref(answer);
    db_res_free(j);
    db_res_free(m);
    db_res_free(f);
    return rc;
}
