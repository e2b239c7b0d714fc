/*
 * rest_publish - make an accepted job durable (DESIGN.md §2, contract §5.1):
 *
 *   1. the job envelope to its first stage, persistent, confirmed by the
 *      broker (intake_publish_body; large attachment contents are spliced
 *      into raw segments of the envelope, rest_jobreq_build_rawify);
 *   2. in one transaction: the acceptance record (the job row with the
 *      answer about to be sent, the notification endpoint with its
 *      password encrypted) and, with an Idempotency-Key, the claim marked
 *      done; concurrent requests share that transaction (rest_group.c);
 *   3. only then the caller answers 200.
 *
 * Any failure is TX_RETRY_*: the caller answers 503 and the first stage
 * discards the published job for want of its record. A record that
 * collides with the job's tombstone (the first stage gave up before the
 * record came, acceptance.h) is such a failure too. When the commit's
 * outcome is unknown (connection lost during COMMIT), the record is
 * deleted again, so a client that got 503 never sees its job delivered.
 */
#include "producers/rest/rest.h"
#include "global/intake/acceptance.h"
#include "global/crypto.h"
#include "global/envelope.h"
#include "global/intake/intake.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <string.h>

struct record {
    struct rest_req *r;
    const struct acceptance *job;
};

static enum tx_code record_tx(struct db *db, void *arg)
{
    struct record *rec = arg;
    enum tx_code rc = acceptance_write(db, rec->job);

    if (rc == TX_OK && rec->r->has_idem)
        rc =
            rest_idem_done(db, rec->r->acct.id, rec->r->idem_key, rec->r->job_id, rec->job->job_id);
    return rc;
}

/* notification_text - the endpoint as JSON with the password encrypted. Ownership: new (or NULL). */
static enum tx_code notification_text(json_t *n, char **out)
{
    json_t *copy, *auth, *pw;
    struct buf enc = BUF_INIT(4096);

    *out = NULL;
    if (n == NULL)
        return TX_OK;
    copy = json_deep_copy(n);
    auth = json_object_get(copy, "authentication");
    pw = json_object_get(auth, "password");
    if (json_is_string(pw)) {
        if (crypto_secret_encrypt(&enc, json_string_value(pw), json_string_length(pw)) < 0) {
            explicit_bzero((char *)json_string_value(pw), json_string_length(pw));
            json_decref(copy);
            msg_warn("cannot encrypt a notification password: is master_key_file set?");
            return TX_FATAL_CONFIG;
        }
        explicit_bzero((char *)json_string_value(pw), json_string_length(pw));
        json_object_set_new(auth, "password", json_stringn(enc.data, enc.len));
        buf_free(&enc);
    }
    *out = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    return TX_OK;
}

enum tx_code rest_publish_envelope(struct rest_conn *c, struct rest_req *r, const char *slip,
                                   json_t *data, char *raw, size_t rawlen, int64_t received_ms)
{
    struct envelope e;
    char *body = NULL;
    size_t blen;
    enum tx_code rc;

    if ((rc = rest_conn_mq(c)) != TX_OK) {
        xfree(raw);
        return rc;
    }
    envelope_init(&e, "job");
    snprintf(e.job_id, sizeof(e.job_id), "%s", r->job_id);
    e.account_id = r->acct.id;
    e.created_ms = received_ms;
    if (envelope_set_slip_csv(&e, slip) < 0)
        msg_panic("%s: bad slip %s", r->job_id, slip);
    json_decref(e.data);
    e.data = json_incref(data);
    if (raw)
        envelope_take_raw(&e, raw, rawlen);
    int64_t t0 = timeutil_mono_ms();
    if (envelope_encode(&e, &body, &blen) < 0) {
        msg_warn("%s: cannot encode the job envelope", r->job_id);
        envelope_free(&e);
        return TX_FATAL_INTERNAL;
    }
    rc = intake_publish_body(c->pub, envelope_stage(&e), r->job_id, body, blen,
                             (int)rest_conf.confirm_timeout_ms);
    xfree(body);
    envelope_free(&e);
    if (msg_verbose)
        msg_debug("%s: published and confirmed in %lld ms", r->job_id,
                  (long long)(timeutil_mono_ms() - t0));
    if (rc != TX_OK)
        msg_warn("%s: the broker did not confirm the job: %s", r->job_id, txcode_name(rc));
    return rc;
}

enum tx_code rest_publish_record(struct rest_conn *c, struct rest_req *r,
                                 const struct acceptance *job)
{
    struct record rec = {r, job};
    enum tx_code rc;

    if ((rc = rest_conn_db(c)) != TX_OK)
        return rc;
    rc = rest_group_commit(c->db, record_tx, &rec);
    if (rc != TX_OK) {
        msg_warn("%s: acceptance record not written: %s (%s)", r->job_id, txcode_name(rc),
                 db_error(c->db));
        /* the commit may have happened before the connection was lost;
         * a tombstone (the first stage gave up on the job) stays */
        if (acceptance_remove(c->db, r->job_id) != TX_OK)
            msg_warn("%s: cannot make sure the record is absent: %s", r->job_id, db_error(c->db));
        if (rc != TX_RETRY_DB && rc != TX_REJECT_POLICY)
            rc = TX_RETRY_DB;
    }
    return rc;
}

enum tx_code rest_publish(struct rest_conn *c, struct rest_req *r, struct jobreq_result *res,
                          const char *answer, int64_t received_ms)
{
    struct acceptance job;
    char *notification = NULL, *rawdata = NULL;
    size_t rawlen = 0;
    json_t *d = res->data;
    enum tx_code rc;

    if ((rc = notification_text(res->notification, &notification)) != TX_OK)
        return rc;
    struct buf raw = BUF_INIT((size_t)64 << 20);
    if (rest_jobreq_build_rawify(res, d, &raw) < 0) {
        msg_warn("%s: cannot encode the job envelope", r->job_id);
        buf_free(&raw);
        rc = TX_FATAL_INTERNAL;
        goto out;
    }
    if (raw.len > 0)
        rawdata = buf_steal(&raw, &rawlen);
    buf_free(&raw);
    if ((rc = rest_publish_envelope(c, r, res->slip, d, rawdata, rawlen, received_ms)) != TX_OK)
        goto out;
    json_t *mail = json_object_get(d, "mail");
    memset(&job, 0, sizeof(job));
    job.job_id = r->job_id;
    job.account_id = r->acct.id;
    job.entry = "rest";
    job.received_ms = received_ms;
    job.idem_key = r->has_idem ? r->idem_key : NULL;
    job.http_status = 200;
    job.answer = answer;
    job.mail_from = json_string_value(json_object_get(json_object_get(mail, "from"), "email"));
    job.reference_job = json_string_value(json_object_get(d, "referenceJob"));
    job.cost_center = json_string_value(json_object_get(d, "costCenter"));
    job.campaign_id = json_string_value(json_object_get(d, "campaignId"));
    job.notification = notification;
    job.slip = res->slip;
    job.recipients = res->addresses;
    rc = rest_publish_record(c, r, &job);
out:
    if (notification)
        xwipefree(notification, strlen(notification));
    return rc;
}
