/*
 * rest_recover - POST /email/v2/messages/{recipientId}/recover (contract
 * §16.2, txmail addition): re-send a message kept by Trace & Recover as a
 * new job, to the same address or to the one in the optional body
 * {"email": "<address>"}.
 *
 *   - the id must be the account's, with a kept copy that has not expired
 *     (trace_store.stored_until in the future): else 404 NOT_FOUND, like
 *     an unknown id (feature off, expired, foreign or unknown id);
 *   - a body that is not a JSON object, or an email that is not a string
 *     or not an address (contract §4.8 syntax): 400 INVALID_FORMAT
 *     "Invalid format for email";
 *   - the new address is checked as at any intake: a forbidden local part
 *     or an entry of the suppression list drops it (answer PART with its
 *     validationResult, the PRE_PROCESS drop event, and for the original
 *     address RESEND/POST_DELIVERY/TRACE_RECOVER/FAILED);
 *   - 200 with the job-creation answer of the new job (contract §5.1);
 *   - Idempotency-Key as for job creation (contract §7, the same key
 *     space): a repeated request with the key answers the stored answer
 *     of the job it made (X-Txmail-Idempotent-Replay: true), no new job.
 *
 * The new job is built and made durable by rest_recover_job.c.
 */
#include "producers/rest/rest_recover.h"
#include "global/account.h"
#include "global/addr.h"
#include "global/ids.h"
#include "global/intake/suppress.h"
#include "producers/rest/rest_lookup.h"
#include "producers/rest/rest_route.h"
#include "util/jsonget.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

/* kept - the unexpired kept copy of rid: 1 (*res), 0 none, -1 database trouble */
static int kept(struct rest_req *r, struct rest_conn *c, const char *rid, struct db_res **j,
                struct db_res **res)
{
    char job_id[UUID_STR_LEN + 1], day[16];
    struct uuid u;
    uint32_t blk, adr;
    int found;

    if (strlen(rid) != RID_STR_LEN || ids_rid_parse(rid, &u, &blk, &adr) != 0 ||
        strpbrk(rid, "ABCDEF") != NULL)
        return 0;
    memcpy(job_id, rid, UUID_STR_LEN);
    job_id[UUID_STR_LEN] = 0;
    if ((found = rest_lookup_job(c->db, r->acct.id, job_id, j)) <= 0)
        return found;
    rest_lookup_day(day, sizeof(day), db_res_get(*j, 0, REST_JOB_RECEIVED));
    if (db_query(c->db, res,
                 "SELECT envelope, raw FROM trace_store WHERE rid = ? AND rday = ? AND "
                 "account_id = ? AND stored_until > UTC_TIMESTAMP(3)",
                 "ssi", rid, day, r->acct.id) != TX_OK)
        return -1;
    return db_res_rows(*res) > 0;
}

/* new_address - the address of the body, else the kept one: 0, or -1 (bad body) */
static int new_address(struct rest_req *r, json_t *env, json_t **doc, const char **email)
{
    json_error_t err;
    json_t *e;

    *email = jsonget_str(env, "email");
    if (r->body.len == 0)
        return 0;
    *doc = json_loadb(r->body.data, r->body.len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(*doc))
        return -1;
    if ((e = json_object_get(*doc, "email")) == NULL)
        return 0;
    if (!json_is_string(e) || json_string_length(e) > 254)
        return -1;
    *email = json_string_value(e);
    return 0;
}

/* classify - forbidden local part, then the suppression list (as rest_jobreq_rcpt_classify) */
static enum tx_code classify(struct rest_req *r, struct rest_conn *c, const struct addr *a,
                             struct recover_req *q, char *lower, size_t lowersz)
{
    struct suppress_query sq = {0};

    if (account_list_has(r->acct.settings, "forbiddenRecipients", a->local, strlen(a->local))) {
        q->drop_subtype = "FORBIDDEN_RECIPIENT";
        q->drop_description = xstrdup("Local part forbidden by config");
        return TX_OK;
    }
    addr_lower(lower, lowersz, a->bare);
    sq.addr = lower;
    if (suppress_lookup(c->db, r->acct.id, &sq, 1) != TX_OK)
        return TX_RETRY_DB;
    if (sq.hit) {
        q->drop_subtype = suppress_subtype(&sq.entry);
        q->drop_description = suppress_describe(&sq.entry);
        q->sup_type = xstrdup(sq.entry.type);
        q->lower = lower;
    }
    return TX_OK;
}

/*
 * idem_claim - the Idempotency-Key of the request (contract §7, shared
 * with job creation: one key space per account): 0 this request owns
 * the key (or has none), -1 answered (*mr): the stored answer of the
 * job the key made, 409 while it is in progress, 400 for a bad key
 */
static int idem_claim(struct rest_req *r, struct rest_conn *c, enum MHD_Result *mr)
{
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Idempotency-Key");
    struct rest_idem_replay rp;

    if (h == NULL)
        return 0;
    if (!rest_http_idem_key_ok(h)) {
        *mr = rest_answer_error(r, 400, "INVALID_VALUE", "Invalid value for Idempotency-Key", NULL);
        return -1;
    }
    snprintf(r->idem_key, sizeof(r->idem_key), "%s", h);
    switch (rest_idem_claim(c->db, r->acct.id, r->idem_key, r->job_id, &rp)) {
    case REST_IDEM_OWNED:
        r->has_idem = 1;
        return 0;
    case REST_IDEM_REPLAY: {
        struct rest_header hd[] = {{"X-Txmail-Idempotent-Replay", "true"}, {NULL, NULL}};
        msg_info("%s: client=%s, account=%s, status=replayed (job %s, Idempotency-Key)", r->job_id,
                 r->client_ip, r->acct.name, rp.job_id);
        *mr = rest_answer_reply(r, rp.status, rp.answer, strlen(rp.answer), hd);
        xfree(rp.answer);
        return -1;
    }
    case REST_IDEM_CONFLICT:
        *mr = rest_answer_error(r, 409, "CONFLICT",
                                "Request with this Idempotency-Key is in progress", NULL);
        return -1;
    default:
        *mr = rest_query_db_error(r, "Idempotency-Key claim");
        return -1;
    }
}

static enum MHD_Result recover(struct rest_req *r, struct rest_conn *c, const char *rid)
{
    struct db_res *j = NULL, *t = NULL;
    struct recover_req q;
    struct addr a;
    json_t *doc = NULL, *env = NULL;
    char lower[sizeof(a.bare)], *answer = NULL, orig_job[UUID_STR_LEN + 1];
    enum MHD_Result mr;
    enum tx_code rc;
    int found = kept(r, c, rid, &j, &t);

    memset(&q, 0, sizeof(q));
    if (found <= 0) {
        mr = found < 0 ? rest_query_db_error(r, "recover lookup")
                       : rest_query_not_found(r, "No kept copy for this recipient id");
        goto out;
    }
    env = json_loads(db_res_get(t, 0, 0), 0, NULL);
    if (!json_is_object(env)) { /* never written so by render: not a usable copy */
        mr = rest_query_not_found(r, "No kept copy for this recipient id");
        goto out;
    }
    if (new_address(r, env, &doc, &q.email) < 0 || q.email == NULL ||
        addr_parse(q.email, strlen(q.email), &a) < 0) {
        mr = rest_answer_error(r, 400, "INVALID_FORMAT", "Invalid format for email", NULL);
        goto out;
    }
    if ((rc = classify(r, c, &a, &q, lower, sizeof(lower))) != TX_OK) {
        mr = rest_query_db_error(r, "suppression lookup");
        goto out;
    }
    q.orig_rid = rid;
    snprintf(orig_job, sizeof(orig_job), "%.*s", UUID_STR_LEN, rid);
    q.orig_job = orig_job;
    if (timeutil_parse_iso8601(jsonget_str(env, "receivedTs") ? jsonget_str(env, "receivedTs") : "",
                               &q.orig_received_ms) < 0)
        q.orig_received_ms = 0;
    q.envelope = env;
    q.raw = db_res_get(t, 0, 1);
    q.rawlen = db_res_len(t, 0, 1);
    q.addr = a.bare;
    q.utf8 = a.utf8_local;
    if (idem_claim(r, c, &mr) < 0)
        goto out; /* answered: a replay, 409, 400 or 503 */
    rc = rest_recover_job_publish(r, c, &q, &answer);
    if (rc != TX_OK) {
        if (r->has_idem)
            rest_idem_release(c->db, r->acct.id, r->idem_key, r->job_id);
        mr = rest_answer_error(r, txcode_disposition(rc) == TX_DISP_FATAL ? 500 : 503,
                               "INTERNAL_ERROR", "Internal error", NULL);
        goto out;
    }
    msg_info("%s: client=%s, account=%s, recover of %s, to=<%s>, status=accepted (%s)", r->job_id,
             r->client_ip, r->acct.name, rid, a.bare, q.drop_subtype ? q.drop_subtype : "FULL");
    mr = rest_answer_reply(r, 200, answer, strlen(answer), NULL);
out:
    xfree(answer);
    xfree(q.drop_description);
    xfree((char *)q.sup_type);
    json_decref(doc);
    json_decref(env);
    db_res_free(j);
    db_res_free(t);
    return mr;
}

enum MHD_Result rest_recover(struct rest_req *r, struct rest_conn *c, const char *rid)
{
    return recover(r, c, rid);
}
