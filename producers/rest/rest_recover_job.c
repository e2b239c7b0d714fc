/*
 * rest_recover_job - the new job of a recovery (rest_recover.c): an
 * SMTP-shaped `type: "job"` envelope (docs/ENVELOPES.md "type: job from
 * txmail-smtpd", entry "smtp") whose raw is the kept message with its
 * DKIM-Signature fields removed and a new Message-ID (<new rid@the
 * original Message-ID's domain>), one recipient, mailFrom the original
 * sender, options the original's with traceRecover and antivirus off
 * (the copy was scanned and is kept already), settings the original's,
 * and data.recoverOf naming the original address for the first stage's
 * RESEND event (lib/global/intake/firststage.c). Made durable as any job
 * (lib/global/intake/intake.h): published to the first stage of its
 * slip (slip.h) and confirmed, then its acceptance record with
 * parent_job_id = the original job, so GET /jobs/{original} lists it in
 * followUpJobs.
 */
#include "producers/rest/rest_recover.h"
#include "global/envelope.h"
#include "global/ids.h"
#include "global/intake/acceptance.h"
#include "global/intake/intake.h"
#include "global/intake/slip.h"
#include "util/buf.h"
#include "util/jsonget.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* field_is - the header field at f (up to its colon) is name */
static int field_is(const char *f, size_t len, const char *name)
{
    size_t n = strlen(name);

    return len > n && f[n] == ':' && strncasecmp(f, name, n) == 0;
}

/* msgid_domain - the domain of the kept copy's Message-ID into out ("" when none) */
static void msgid_domain(json_t *env, char *out, size_t outsz)
{
    const char *id = jsonget_str(env, "messageId"), *at = id ? strrchr(id, '@') : NULL;
    size_t n;

    out[0] = 0;
    if (at == NULL)
        return;
    n = strcspn(at + 1, ">");
    snprintf(out, outsz, "%.*s", (int)n, at + 1);
}

/*
 * new_raw - the kept message with a new Message-ID and without its
 * DKIM-Signature and Message-ID fields (each with its folded lines)
 */
static char *new_raw(const struct recover_req *q, const char *rid, size_t *len)
{
    struct buf b = BUF_INIT(q->rawlen + 1024);
    char dom[256];
    const char *p = q->raw, *end = q->raw + q->rawlen;
    int skip = 0;

    msgid_domain(q->envelope, dom, sizeof(dom));
    buf_printf(&b, "Message-ID: <%s@%s>\r\n", rid, dom[0] ? dom : "localhost");
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        if (n <= 2 && (p[0] == '\r' || p[0] == '\n'))
            break; /* the blank line: the body follows */
        if (p[0] != ' ' && p[0] != '\t')
            skip = field_is(p, n, "DKIM-Signature") || field_is(p, n, "Message-ID");
        if (!skip)
            buf_append(&b, p, n);
        p += n;
    }
    buf_append(&b, p, (size_t)(end - p));
    return buf_steal(&b, len);
}

/* options - the original's, Trace & Recover and the antivirus scan off. Ownership: new. */
static json_t *options(json_t *env)
{
    json_t *o = json_deep_copy(json_object_get(env, "options"));

    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    json_object_set_new(o, "traceRecover", json_pack("{s:b}", "active", 0));
    json_t *av = json_object_get(o, "antivirus");
    if (json_is_object(av))
        json_object_set_new(av, "active", json_false());
    return o;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* job_data - the new job's data (docs/ENVELOPES.md). Ownership: new. */
static json_t *job_data(const struct rest_req *r, const struct recover_req *q, const char *rid,
                        int64_t received)
{
    json_t *env = q->envelope, *d = json_object(), *drop = json_null();
    char ts[32];

    json_object_set_new(d, "entry", json_string("smtp"));
    json_object_set_new(d, "receivedTs", json_string(timeutil_iso8601(ts, sizeof(ts), received)));
    json_object_set_new(d, "account",
                        json_pack("{s:I,s:s,s:s,s:o}", "id", (json_int_t)r->acct.id, "name",
                                  r->acct.name, "customerNo", r->acct.customer_no, "tenant",
                                  r->acct.tenant[0] ? json_string(r->acct.tenant) : json_null()));
    json_object_set(d, "senderDomain", json_object_get(env, "senderDomain"));
    json_object_set_new(d, "mailFrom", str_or_null(jsonget_str(env, "sender")));
    json_object_set_new(d, "mimeFrom", str_or_null(jsonget_str(env, "mimeFrom")));
    json_object_set_new(d, "referenceJob", str_or_null(jsonget_str(env, "referenceJob")));
    json_object_set_new(d, "costCenter", str_or_null(jsonget_str(env, "costCenter")));
    json_object_set_new(d, "campaignId", str_or_null(jsonget_str(env, "campaignId")));
    if (q->drop_subtype) {
        drop = json_pack("{s:s,s:s}", "subType", q->drop_subtype, "description",
                         q->drop_description ? q->drop_description : "");
        if (q->sup_type)
            json_object_set_new(drop, "suppression",
                                json_pack("{s:s,s:s}", "type", q->sup_type, "address", q->lower));
    }
    json_object_set_new(d, "recipients",
                        json_pack("[{s:s,s:i,s:s,s:s,s:b,s:o}]", "rid", rid, "index", 0, "email",
                                  q->email, "addr", q->addr, "utf8", q->utf8, "drop", drop));
    json_object_set_new(d, "smtputf8", json_boolean(q->utf8 || jsonget_bool(env, "smtputf8")));
    json_object_set_new(d, "eightbit", json_boolean(jsonget_bool(env, "eightbit")));
    json_object_set_new(d, "options", options(env));
    json_t *set = json_object_get(env, "settings");
    json_object_set_new(d, "settings", json_is_object(set) ? json_deep_copy(set) : json_object());
    json_object_set_new(d, "recoverOf",
                        json_pack("{s:s,s:s,s:I,s:o,s:o,s:o}", "rid", q->orig_rid, "job",
                                  q->orig_job, "received", (json_int_t)q->orig_received_ms, "email",
                                  str_or_null(jsonget_str(env, "email")), "from",
                                  str_or_null(jsonget_str(env, "from")), "mimeFrom",
                                  str_or_null(jsonget_str(env, "mimeFrom"))));
    return d;
}

/* slip_of - the new job's slip: the stages its remaining features need */
static int slip_of(json_t *data, char *out, size_t outsz)
{
    json_t *o = json_object_get(data, "options");
    struct slip_features f;
    enum slip_feature missing;

    memset(&f, 0, sizeof(f));
    f.on[SLIP_MESSAGE_SIGNING] = jsonget_bool(json_object_get(o, "messageSigning"), "active");
    f.on[SLIP_SPAM_CHECK] = jsonget_bool(json_object_get(o, "spamCheck"), "active");
    return slip_build(rest_conf.stages, &f, out, outsz, &missing);
}

/* answer - the §5.1 answer of the new job. Ownership: new. */
static char *answer_of(const struct recover_req *q, const char *job_id, const char *rid,
                       int64_t received)
{
    json_t *a = json_pack("{s:s,s:s}", "id", rid, "email", q->email);

    if (q->drop_subtype) {
        int bounced = strcmp(q->drop_subtype, "PREVIOUSLY_BOUNCED") == 0;
        int forbidden = strcmp(q->drop_subtype, "FORBIDDEN_RECIPIENT") == 0;
        json_object_set_new(a, "validationResult",
                            json_pack("{s:s,s:s}", "classifier", q->drop_subtype, "message",
                                      forbidden ? "Reason: Local part forbidden by config"
                                      : bounced ? "Reason: Previously bounced"
                                                : "Reason: Suppressed"));
    }
    json_t *content = json_pack("{s:[{s:{s:[o]}}]}", "recipients", "mail", "to", a);
    char *text = rest_answer_accepted(job_id, received, q->drop_subtype != NULL, content);
    json_decref(content);
    return text;
}

enum tx_code rest_recover_job_publish(struct rest_req *r, struct rest_conn *c,
                                      const struct recover_req *q, char **answer)
{
    char rid[RID_STR_LEN + 1], slip[SLIP_TEXT_MAX];
    int64_t received = timeutil_now_ms();
    struct acceptance job;
    size_t rawlen;
    enum tx_code rc;
    json_t *data;
    char *raw;

    *answer = NULL;
    ids_rid_format(rid, r->job_id, 0, 0);
    data = job_data(r, q, rid, received);
    if (slip_of(data, slip, sizeof(slip)) < 0) {
        json_decref(data);
        return TX_FATAL_CONFIG; /* a stage the original job used is no longer installed */
    }
    if ((raw = new_raw(q, rid, &rawlen)) == NULL) {
        json_decref(data);
        return TX_FATAL_INTERNAL;
    }
    *answer = answer_of(q, r->job_id, rid, received);
    if ((rc = rest_publish_envelope(c, r, slip, data, raw, rawlen, received)) != TX_OK)
        goto out;
    memset(&job, 0, sizeof(job));
    job.job_id = r->job_id;
    job.account_id = r->acct.id;
    job.entry = "rest"; /* the entry interface: the recovery came in over REST */
    job.received_ms = received;
    job.http_status = 200;
    job.answer = *answer;
    job.mail_from = jsonget_str(data, "mailFrom");
    job.reference_job = jsonget_str(data, "referenceJob");
    job.cost_center = jsonget_str(data, "costCenter");
    job.campaign_id = jsonget_str(data, "campaignId");
    job.slip = slip;
    job.recipients = 1;
    job.parent_job_id = q->orig_job;
    job.idem_key = r->has_idem ? r->idem_key : NULL;
    rc = rest_publish_record(c, r, &job);
out:
    json_decref(data);
    if (rc != TX_OK) {
        xfree(*answer);
        *answer = NULL;
    }
    return rc;
}
