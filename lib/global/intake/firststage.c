/* firststage - acceptance record check and intake events; see firststage.h. */
#include "global/intake/firststage.h"
#include "global/event.h"
#include "global/intake/acceptance.h"
#include "global/runtime/mq.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

/* one address of the job, borrowed from the data */
struct fs_rcpt {
    const char *rid, *email, *addr, *kind, *reference;
    const char *drop_subtype, *drop_description;
    const char *supp_address; /* a suppression-list drop: the entry's address */
    long long block, index;
    int dropped;
};

struct fs_job {
    const char *entry, *mail_from, *mime_from;
    struct fs_rcpt *r;
    size_t n, cap;
};

static const char *str_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

int firststage_started(const struct job *job)
{
    return json_is_true(json_object_get(job->env.data, "started"));
}

static const char *drop_subtype(const char *s)
{
    static const char *const known[] = {"PREVIOUSLY_BOUNCED", "FORBIDDEN_RECIPIENT",
                                        "INVALID_ADDRESS",    "SUPPRESSED",
                                        "VALIDATION_ERROR",   NULL};

    for (int i = 0; s && known[i]; i++)
        if (strcmp(s, known[i]) == 0)
            return known[i];
    return "VALIDATION_ERROR";
}

/* add_rcpt - one address element; -1 when it is not an object with a rid */
static int add_rcpt(struct fs_job *fj, json_t *a, const char *kind, long long block,
                    const char *reference)
{
    struct fs_rcpt *r;
    json_t *drop;

    if (!json_is_object(a) || str_of(a, "rid") == NULL)
        return -1;
    if (fj->n == fj->cap) {
        fj->cap = fj->cap ? fj->cap * 2 : 16;
        fj->r = xrealloc(fj->r, fj->cap * sizeof(*fj->r));
    }
    r = &fj->r[fj->n++];
    memset(r, 0, sizeof(*r));
    r->rid = str_of(a, "rid");
    r->email = str_of(a, "email");
    r->addr = str_of(a, "addr");
    r->kind = kind;
    r->block = block;
    r->index = json_integer_value(json_object_get(a, "index"));
    r->reference = reference;
    drop = json_object_get(a, "drop");
    if (json_is_object(drop)) {
        r->dropped = 1;
        r->drop_subtype = drop_subtype(str_of(drop, "subType"));
        r->drop_description = str_of(drop, "description");
        r->supp_address = str_of(json_object_get(drop, "suppression"), "address");
    }
    return 0;
}

/* collect - every address of a REST or SMTP job; -1 with a reason when malformed */
static int collect(json_t *data, struct fs_job *fj, char *why, size_t whysz)
{
    static const char *const kinds[] = {"to", "cc", "bcc"};
    json_t *v;
    size_t i, j;

    fj->entry = str_of(data, "entry");
    if (fj->entry == NULL) {
        snprintf(why, whysz, "job data without entry");
        return -1;
    }
    if (strcmp(fj->entry, "rest") == 0) {
        json_t *mail = json_object_get(data, "mail");
        fj->mail_from = str_of(json_object_get(mail, "from"), "email");
        fj->mime_from = str_of(json_object_get(mail, "mimeFrom"), "email");
        json_t *blocks = json_object_get(data, "blocks");
        if (!json_is_array(blocks)) {
            snprintf(why, whysz, "REST job without blocks");
            return -1;
        }
        json_array_foreach (blocks, i, v) {
            json_t *bi = json_object_get(v, "index");
            long long block = json_is_integer(bi) ? json_integer_value(bi) : (long long)i;
            const char *ref = str_of(v, "reference");
            for (int k = 0; k < 3; k++) {
                json_t *list = json_object_get(v, kinds[k]), *a;
                if (list != NULL && !json_is_array(list)) {
                    snprintf(why, whysz, "blocks[%zu].%s is not an array", i, kinds[k]);
                    return -1;
                }
                json_array_foreach (list, j, a)
                    if (add_rcpt(fj, a, kinds[k], block, ref) < 0) {
                        snprintf(why, whysz, "blocks[%zu].%s[%zu] has no rid", i, kinds[k], j);
                        return -1;
                    }
            }
        }
    } else if (strcmp(fj->entry, "smtp") == 0) {
        json_t *rcpts = json_object_get(data, "recipients");
        fj->mail_from = str_of(data, "mailFrom");
        fj->mime_from = str_of(data, "mimeFrom");
        if (!json_is_array(rcpts)) {
            snprintf(why, whysz, "SMTP job without recipients");
            return -1;
        }
        json_array_foreach (rcpts, i, v) {
            json_t *ix = json_object_get(v, "index");
            if (add_rcpt(fj, v, "to", json_is_integer(ix) ? json_integer_value(ix) : (long long)i,
                         NULL) < 0) {
                snprintf(why, whysz, "recipients[%zu] has no rid", i);
                return -1;
            }
        }
    } else {
        snprintf(why, whysz, "unknown entry \"%.20s\"", fj->entry);
        return -1;
    }
    return 0;
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* intake_json - the intake record (INTAKE event) of docs/ENVELOPES.md */
static json_t *intake_json(const struct job *job, const struct fs_job *fj)
{
    json_t *o = json_object(), *list = json_array(), *data = job->env.data;

    json_object_set_new(o, "v", json_integer(1));
    json_object_set_new(o, "type", json_string("INTAKE"));
    json_object_set_new(o, "phase", json_string("INTAKE"));
    json_object_set_new(o, "account", json_integer(job->env.account_id));
    json_object_set_new(o, "job", json_string(job->env.job_id));
    json_object_set_new(o, "received", json_integer(job->env.created_ms));
    json_object_set_new(o, "entry", json_string(fj->entry));
    json_object_set_new(o, "mailFrom", jstr(fj->mail_from));
    json_object_set_new(o, "mimeFrom", jstr(fj->mime_from));
    json_object_set_new(o, "referenceJob", jstr(str_of(data, "referenceJob")));
    json_object_set_new(o, "costCenter", jstr(str_of(data, "costCenter")));
    json_object_set_new(o, "campaignId", jstr(str_of(data, "campaignId")));
    json_t *sdid = json_object_get(json_object_get(data, "senderDomain"), "id");
    json_object_set_new(o, "senderDomainId",
                        json_is_integer(sdid) ? json_incref(sdid) : json_null());
    for (size_t i = 0; i < fj->n; i++) {
        const struct fs_rcpt *r = &fj->r[i];
        json_t *e = json_object();
        json_object_set_new(e, "rid", json_string(r->rid));
        json_object_set_new(e, "block", json_integer(r->block));
        json_object_set_new(e, "index", json_integer(r->index));
        json_object_set_new(e, "kind", json_string(r->kind));
        json_object_set_new(e, "email", jstr(r->email));
        json_object_set_new(e, "addr", jstr(r->addr));
        json_object_set_new(e, "reference", jstr(r->reference));
        json_object_set_new(e, "dropped", json_boolean(r->dropped));
        json_array_append_new(list, e);
    }
    json_object_set_new(o, "recipients", list);
    return o;
}

/* record_state - 1 present, 0 missing, -1 database trouble; *ok 0 when the row is not an acceptance */
static int record_state(struct db *db, const struct job *job, int *ok)
{
    long long acct = -1;
    int status = 0, found = acceptance_status(db, job->env.job_id, &acct, &status);

    *ok = found <= 0 || (acct == job->env.account_id && status >= 200 && status <= 299);
    return found;
}

/* seen_since - when this job was first seen by a first stage, by the first
 * stages' own clocks (data.firstSeen, set on the first look) */
static int64_t seen_since(json_t *data, int64_t now)
{
    json_t *v = json_object_get(data, FIRSTSTAGE_SEEN_KEY);
    int64_t seen;

    if (!json_is_integer(v)) {
        json_object_set_new(data, FIRSTSTAGE_SEEN_KEY, json_integer(now));
        return now;
    }
    seen = json_integer_value(v);
    return seen > now ? now : seen; /* another worker's clock runs ahead */
}

/*
 * await_record - the state of the acceptance record (record_state): the
 * producer writes it right after the broker's confirm, so a young job
 * waits a moment here before going through a delay queue
 */
static int await_record(struct db *db, const struct job *job, int64_t age, int *ok)
{
    static const int waits_ms[] = {0, 20, 60, 150};
    int state = 0;

    for (size_t w = 0; w < sizeof(waits_ms) / sizeof(waits_ms[0]); w++) {
        if (w > 0 && age + waits_ms[w] > 5000)
            break;
        if (waits_ms[w])
            timeutil_sleep_ms(waits_ms[w]);
        if ((state = record_state(db, job, ok)) != 0)
            break;
    }
    return state;
}

/*
 * give_up - no acceptance record within the window: write the tombstone,
 * atomically: it takes the record's key, so a producer still on its way
 * answers failure; if the record got there first, it is the record's job
 * after all (*state and *ok read again). TX_OK, or TX_RETRY_DB.
 */
static enum tx_code give_up(struct job *job, struct db *db, const struct fs_job *fj, int64_t waited,
                            int *state, int *ok)
{
    char note[120];

    snprintf(note, sizeof(note),
             "tombstone: no acceptance record %llds after the first "
             "stage first saw the job",
             (long long)(waited / 1000));
    int t = acceptance_tombstone(db, job->env.job_id, job->env.account_id, fj->entry,
                                 job->env.created_ms, note);
    if (t < 0) {
        worker_job_reason(job, "cannot write the tombstone: %s", db_error(db));
        return TX_RETRY_DB;
    }
    if (t == 0 && (*state = record_state(db, job, ok)) < 0) {
        worker_job_reason(job, "cannot read the acceptance record: %s", db_error(db));
        return TX_RETRY_DB;
    }
    return TX_OK;
}

/* publish_start - the record exists: intake record, drop events, PROCESSING_STARTED */
static void publish_start(struct job *job, const struct fs_job *fj)
{
    json_t *intake = intake_json(job, fj);
    char *body = json_dumps(intake, JSON_COMPACT);
    json_decref(intake);
    if (body == NULL)
        msg_panic("cannot encode an intake record");
    worker_job_publish(job, MQ_EXCHANGE_EVENTS, "intake.job", NULL, body, strlen(body));
    /* the drops first, then PROCESSING_STARTED, each in address order */
    for (size_t k = 0; k < 2 * fj->n; k++) {
        const struct fs_rcpt *r = &fj->r[k % fj->n];
        struct tx_event ev;
        json_t *x = NULL;

        if (r->dropped != (k < fj->n))
            continue;

        event_init(&ev);
        ev.rid = r->rid;
        ev.job_id = job->env.job_id;
        ev.account_id = job->env.account_id;
        ev.received_ms = job->env.created_ms;
        ev.email = r->email;
        ev.from = fj->mail_from;
        ev.mime_from = fj->mime_from;
        ev.reference = r->reference;
        if (r->dropped) {
            ev.phase = "PRE_PROCESS", ev.state = "FINISHED", ev.type = "DROPPED";
            ev.subtype = r->drop_subtype;
            ev.description = r->drop_description;
            ev.ts_ms = job->env.created_ms;
            if (r->supp_address && *r->supp_address) {
                /* a blocked attempt: the recorder resets the entry's expiry (contract §13.1) */
                x = json_pack("{s:{s:s}}", "suppressTouch", "address", r->supp_address);
                ev.extra = x;
            }
        } else {
            ev.phase = "PROCESS", ev.state = "INITIAL", ev.type = "STARTED";
            ev.subtype = "PROCESSING_STARTED";
        }
        worker_job_event(job, &ev);
        json_decref(x);
    }
}

/*
 * publish_recover - a Trace & Recover re-send (data.recoverOf, written by
 * txmail-rest's recover endpoint): the original address gets
 * RESEND/POST_DELIVERY/TRACE_RECOVER/OK "resent as <new job>", or FAILED
 * when the new address was dropped at intake (suppressed, previously
 * bounced, forbidden); the event key is the new job, so each recovery has
 * its own event and a redelivery repeats the same tag
 */
static void publish_recover(struct job *job, const struct fs_job *fj)
{
    json_t *of = json_object_get(job->env.data, "recoverOf");
    json_t *rcv = json_object_get(of, "received");
    struct tx_event ev;
    char why[400];

    if (!json_is_object(of) || str_of(of, "rid") == NULL || str_of(of, "job") == NULL || fj->n != 1)
        return;
    event_init(&ev);
    ev.rid = str_of(of, "rid");
    ev.job_id = str_of(of, "job");
    ev.account_id = job->env.account_id;
    ev.received_ms = json_is_integer(rcv) ? json_integer_value(rcv) : 0;
    ev.email = str_of(of, "email");
    ev.from = str_of(of, "from");
    ev.mime_from = str_of(of, "mimeFrom");
    ev.phase = "RESEND", ev.state = "POST_DELIVERY", ev.type = "TRACE_RECOVER";
    ev.event_key = job->env.job_id;
    if (fj->r[0].dropped) {
        ev.subtype = "FAILED";
        snprintf(why, sizeof(why), "new address dropped at intake: %s (%.300s)",
                 fj->r[0].drop_subtype, fj->r[0].drop_description ? fj->r[0].drop_description : "");
    } else {
        ev.subtype = "OK";
        snprintf(why, sizeof(why), "resent as %s", job->env.job_id);
    }
    ev.description = why;
    worker_job_event(job, &ev);
}

enum tx_code firststage_accept(struct job *job, struct db *db, int64_t grace_ms)
{
    struct fs_job fj = {0};
    char why[200];
    enum tx_code rc = TX_OK;
    int64_t age = timeutil_now_ms() - job->env.created_ms, seen, waited;
    int state = 0, ok = 1;

    if (firststage_started(job))
        return TX_OK;
    if (!json_is_object(job->env.data) || collect(job->env.data, &fj, why, sizeof(why)) < 0) {
        worker_job_reason(job, "malformed job: %s",
                          json_is_object(job->env.data) ? why : "no data");
        rc = TX_REJECT_MALFORMED;
        goto out;
    }
    seen = seen_since(job->env.data, timeutil_now_ms());
    if ((state = await_record(db, job, age, &ok)) < 0) {
        worker_job_reason(job, "cannot read the acceptance record: %s", db_error(db));
        rc = TX_RETRY_DB;
        goto out;
    }
    /* the window is measured from the first look, by our clock: the
     * producer's clock (created) may be skewed either way */
    waited = timeutil_now_ms() - seen;
    if (state == 0 && waited < grace_ms) {
        worker_job_reason(job, "acceptance record not there yet");
        job->retry_after_ms = FIRSTSTAGE_RETRY_MS;
        job->count_attempt = 0;
        rc = TX_RETRY_NOT_READY;
        goto out;
    }
    if (state == 0 && (rc = give_up(job, db, &fj, waited, &state, &ok)) != TX_OK)
        goto out;
    if (state == 0 || !ok) {
        if (state == 0)
            worker_job_reason(
                job,
                "discarded: no acceptance record %llds after the first stage first saw "
                "it (tombstone written)",
                (long long)(waited / 1000));
        else
            worker_job_reason(
                job, "discarded: the job record is not an acceptance (tombstone, account or "
                     "status)");
        rc = TX_REJECT_DISCARD;
        goto out;
    }
    json_object_del(job->env.data, FIRSTSTAGE_SEEN_KEY);
    publish_start(job, &fj);
    publish_recover(job, &fj);
    json_object_set_new(job->env.data, "started", json_true());
out:
    xfree(fj.r);
    return rc;
}

int firststage_give_up(const struct job *job, struct db *db)
{
    const char *entry = json_string_value(json_object_get(job->env.data, "entry"));

    if (entry == NULL || (strcmp(entry, "rest") != 0 && strcmp(entry, "smtp") != 0))
        return 1; /* not a job a producer records: nothing to exclude */
    return acceptance_tombstone(
        db, job->env.job_id, job->env.account_id, entry, job->env.created_ms,
        "tombstone: the job ran out of retries before its first stage could "
        "check the acceptance record");
}
