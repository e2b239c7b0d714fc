/*
 * rest_intake - POST <base><jobs> once the body has arrived (contract §6.3
 * from step 5): the Idempotency-Key claim (replay, wait or 409), the
 * JobRequest check, then publish + record + answer 200, or the rejection.
 * One log line per request outcome, keyed by the job id, and one per
 * recipient address keyed by its recipient id.
 */
#include "producers/rest/rest.h"
#include "global/metrics.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

static enum MHD_Result replayed(struct rest_req *r, struct rest_idem_replay *rp)
{
    char *loc = rest_answer_location(rp->job_id);
    struct rest_header h[] = {
        {"X-Txmail-Idempotent-Replay", "true"}, {MHD_HTTP_HEADER_LOCATION, loc}, {NULL, NULL}};
    enum MHD_Result rc;

    if (rp->status != 200)
        h[1].name = NULL;
    msg_info("%s: client=%s, account=%s, status=replayed (job %s, Idempotency-Key)", r->job_id,
             r->client_ip, r->acct.name, rp->job_id);
    rc = rest_answer_reply(r, rp->status, rp->answer, strlen(rp->answer), h);
    xfree(loc);
    xfree(rp->answer);
    return rc;
}

/* log_recipients - one line per address, keyed by its recipient id */
static void log_recipients(json_t *data)
{
    static const char *const kinds[] = {"to", "cc", "bcc"};
    json_t *b, *a;
    size_t i, j;

    json_array_foreach (json_object_get(data, "blocks"), i, b) {
        for (int k = 0; k < 3; k++)
            json_array_foreach (json_object_get(b, kinds[k]), j, a) {
                json_t *drop = json_object_get(a, "drop");
                const char *addr = json_string_value(json_object_get(a, "addr"));
                char safe[300];
                if (addr == NULL) {
                    const char *e = json_string_value(json_object_get(a, "email"));
                    addr = msg_printable(safe, sizeof(safe), e, strlen(e));
                }
                if (json_is_object(drop))
                    msg_info("%s: %s=<%s>, status=dropped (%s)",
                             json_string_value(json_object_get(a, "rid")), kinds[k], addr,
                             json_string_value(json_object_get(drop, "subType")));
                else
                    msg_info("%s: %s=<%s>, status=accepted",
                             json_string_value(json_object_get(a, "rid")), kinds[k], addr);
            }
    }
}

static enum MHD_Result intake(struct rest_req *r, struct rest_conn *c)
{
    struct rest_lookup lookup = {c, r->acct.id};
    struct jobreq_result res;
    struct rest_idem_replay rp;
    enum MHD_Result mr;
    char *answer = NULL;
    int owned = 0;

    if (r->has_idem) {
        if (rest_conn_db(c) != TX_OK)
            return rest_answer_reject(r, 503, "INTERNAL_ERROR", "Internal error");
        switch (rest_idem_claim(c->db, r->acct.id, r->idem_key, r->job_id, &rp)) {
        case REST_IDEM_OWNED:
            owned = 1;
            break;
        case REST_IDEM_REPLAY:
            return replayed(r, &rp);
        case REST_IDEM_CONFLICT:
            return rest_answer_reject(r, 409, "CONFLICT",
                                      "Request with this Idempotency-Key is in progress");
        default:
            return rest_answer_reject(r, 503, "INTERNAL_ERROR", "Internal error");
        }
    }
    int64_t received = timeutil_now_ms(), t0 = timeutil_mono_ms();
    struct jobreq_env env = {r->acct.settings,
                             r->acct.id,
                             r->acct.name,
                             r->acct.customer_no,
                             r->acct.tenant,
                             rest_conf.stages,
                             r->job_id,
                             received,
                             rest_suppress_sender_domain,
                             rest_suppress_lookup,
                             &lookup};
    if (rest_jobreq_run(r->body.data ? r->body.data : "", r->body.len, &env, &res) < 0) {
        if (owned)
            rest_idem_release(c->db, r->acct.id, r->idem_key, r->job_id);
        mr = rest_answer_reject(r, res.http, res.subtype, res.description);
        rest_jobreq_result_free(&res);
        return mr;
    }
    answer = rest_answer_accepted(r->job_id, received, res.dropped > 0, res.content);
    int64_t t1 = timeutil_mono_ms();
    enum tx_code rc = rest_publish(c, r, &res, answer, received);
    if (msg_verbose)
        msg_debug("%s: read %lld ms, checked %lld ms, durable %lld ms", r->job_id,
                  (long long)(t0 - r->started), (long long)(t1 - t0),
                  (long long)(timeutil_mono_ms() - t1));
    if (rc != TX_OK) {
        if (owned)
            rest_idem_release(c->db, r->acct.id, r->idem_key, r->job_id);
        mr = txcode_disposition(rc) == TX_DISP_FATAL
                 ? rest_answer_reject(r, 500, "INTERNAL_ERROR", "Internal error")
                 : rest_answer_reject(r, 503, "INTERNAL_ERROR", "Internal error");
        goto out;
    }
    char *loc = rest_answer_location(r->job_id);
    struct rest_header h[] = {{MHD_HTTP_HEADER_LOCATION, loc}, {NULL, NULL}};
    msg_info("%s: client=%s, account=%s, from=<%s>, size=%zu, blocks=%zu, recipients=%d, "
             "dropped=%d, slip=%s, status=accepted (%s)",
             r->job_id, r->client_ip, r->acct.name,
             json_string_value(json_object_get(
                 json_object_get(json_object_get(res.data, "mail"), "from"), "addr")),
             r->body.len, json_array_size(json_object_get(res.data, "blocks")), res.addresses,
             res.dropped, res.slip, res.dropped ? "PART" : "FULL");
    log_recipients(res.data);
    metrics_count("txmail_rest_jobs_total", NULL, NULL, 1);
    metrics_count("txmail_rest_recipients_total", "result", "accepted",
                  res.addresses - res.dropped);
    metrics_count("txmail_rest_recipients_total", "result", "dropped", res.dropped);
    mr = rest_answer_reply(r, 200, answer, strlen(answer), h);
    xfree(loc);
out:
    xfree(answer);
    rest_jobreq_result_free(&res);
    return mr;
}

enum MHD_Result rest_intake(struct rest_req *r)
{
    struct rest_conn *c = rest_conn_take();
    enum MHD_Result rc = intake(r, c);

    rest_conn_give(c);
    rest_mem_release(r->body.len);
    return rc;
}
