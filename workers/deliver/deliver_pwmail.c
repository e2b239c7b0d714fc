/*
 * deliver_pwmail - Secure Document Handling's password mail (contract
 * §16.3): once a message that carries data.secureDocument (a ZIP made by
 * txmail-securezip, attached by txmail-render) is DELIVERED, the password
 * goes to the same address as a follow-up job, in the same confirmed
 * output batch as the DELIVERED event.
 *
 * The follow-up's job id is a UUID (version 8, RFC 9562) of
 * SHA-256("pwmail\n" + rid): a redelivered message, or the copy that finds
 * its rid already delivered, asks for the same job. Its acceptance record
 * (the job row: entry rest, parent_job_id the original job, notification,
 * referenceJob, costCenter and campaignId copied from the parent's row) is
 * written before the publish and keeps the encrypted password of the copy
 * that was delivered (record below); the job goes to render, whose first-stage rule finds the record, and
 * its one message has the rid <job>#00000000#00000000, so txmail-deliver's
 * delivery record sends it once however often it is asked for. The
 * password is only ever in the mail's text, never logged.
 */
#include "workers/deliver/deliver.h"
#include "global/account.h"
#include "global/addr.h"
#include "global/crypto.h"
#include "global/ids.h"
#include "global/intake/acceptance.h"
#include "global/metrics.h"
#include "global/runtime/worker.h"
#include "util/jsonget.h"
#include "util/msg.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PWMAIL_TEXT_DEFAULT                                                                        \
    "The password for the attached file {filename} of the message you received is:\n\n"            \
    "    {password}\n\nPlease keep it safe."
#define PWMAIL_SUBJECT_MAX 998

/* job_id_of - the follow-up's job id, deterministic from the rid */
static void job_id_of(char *out, const char *rid)
{
    unsigned char h[32];
    char in[96];
    struct uuid u;

    snprintf(in, sizeof(in), "pwmail\n%s", rid);
    crypto_sha256(h, in, strlen(in));
    memcpy(u.b, h, 16);
    u.b[6] = (unsigned char)((u.b[6] & 0x0f) | 0x80); /* version 8 */
    u.b[8] = (unsigned char)((u.b[8] & 0x3f) | 0x80); /* variant RFC 9562 */
    ids_uuid_format(out, &u);
}

/* expand - the account's text with {filename} and {password} into out */
static int expand(struct buf *out, const char *text, const char *zip, const char *pw)
{
    for (const char *p = text; *p;) {
        if (strncmp(p, "{filename}", 10) == 0)
            buf_puts(out, zip), p += 10;
        else if (strncmp(p, "{password}", 10) == 0)
            buf_puts(out, pw), p += 10;
        else
            buf_putc(out, *p++);
    }
    return buf_error(out) ? -1 : 0;
}

/* subject_of - prefix + " " + subject, cut to 998 characters (not bytes) */
static void subject_of(struct buf *out, const char *prefix, const char *subject)
{
    size_t chars = 0;

    buf_printf(out, "%s %s", prefix, subject);
    for (size_t i = 0; i < out->len; i++)
        if (((unsigned char)out->data[i] & 0xc0) != 0x80 && ++chars > PWMAIL_SUBJECT_MAX) {
            buf_truncate(out, i);
            break;
        }
}

/* parent_row - what the follow-up copies from the original job's row; -1 database */
static int parent_row(struct db *db, struct job *job, struct acceptance *a, struct db_res **res,
                      json_t **settings)
{
    struct db_res *s = NULL;

    if (db_query(db, res,
                 "SELECT mail_from, reference_job, cost_center, campaign_id, notification "
                 "FROM job WHERE job_id = ? AND account_id = ?",
                 "si", job->env.job_id, job->env.account_id) != TX_OK ||
        db_query(db, &s, "SELECT settings FROM account WHERE id = ?", "i", job->env.account_id) !=
            TX_OK) {
        db_res_free(s);
        return -1;
    }
    if (db_res_rows(*res) > 0) {
        a->mail_from = db_res_get(*res, 0, 0);
        a->reference_job = db_res_get(*res, 0, 1);
        a->cost_center = db_res_get(*res, 0, 2);
        a->campaign_id = db_res_get(*res, 0, 3);
        a->notification = db_res_get(*res, 0, 4);
    }
    *settings = account_settings(db_res_rows(s) > 0 ? db_res_get(s, 0, 0) : NULL);
    db_res_free(s);
    return 0;
}

/* address - {email, addr, display} of an address as submitted. Ownership: new. */
static json_t *address(const char *email, int *utf8)
{
    struct addr a;

    if (email == NULL || addr_parse(email, strlen(email), &a) < 0)
        return NULL;
    *utf8 = a.utf8_local;
    return json_pack("{s:s,s:s,s:o}", "email", email, "addr", a.bare, "display",
                     a.display[0] ? json_string(a.display) : json_null());
}

/* job_data - the follow-up's REST job data (docs/ENVELOPES.md). Ownership: new. */
static json_t *job_data(json_t *d, const char *rid, const char *subject, const char *text,
                        const char *received)
{
    int utf8 = 0, from_utf8 = 0;
    json_t *to = address(jsonget_str(d, "email"), &utf8);
    json_t *from = address(jsonget_str(d, "from"), &from_utf8);
    json_t *data;

    if (to == NULL || from == NULL) {
        json_decref(to);
        json_decref(from);
        return NULL;
    }
    json_object_set_new(to, "rid", json_string(rid));
    json_object_set_new(to, "index", json_integer(0));
    json_object_set_new(to, "utf8", json_boolean(utf8));
    json_object_set_new(to, "drop", json_null());
    data = json_pack(
        "{s:s,s:s,s:O?,s:O?,s:O?,s:O?,s:O?,s:{s:s,s:b,s:s,s:n},"
        "s:{s:s,s:s,s:b,s:s,s:n},s:n,s:[],"
        "s:{s:o,s:n,s:n,s:n,s:n,s:n,s:{}},"
        "s:[{s:i,s:O?,s:n,s:n,s:n,s:n,s:{},s:b,s:b,s:n,s:[o],s:[],s:[]}],"
        "s:{s:{s:b,s:s},s:{s:b},s:{s:b},s:{s:b},s:{s:b}},s:O?}",
        "entry", "rest", "receivedTs", received, "account", json_object_get(d, "account"),
        "senderDomain", json_object_get(d, "senderDomain"), "referenceJob",
        json_object_get(d, "referenceJob"), "costCenter", json_object_get(d, "costCenter"),
        "campaignId", json_object_get(d, "campaignId"), "subject", "text", subject, "template", 0,
        "charset", "UTF-8", "cte", "body", "contentType", "text/plain", "text", text, "template", 0,
        "charset", "UTF-8", "cte", "alternative", "attachments", "mail", "from", from, "mimeFrom",
        "replyTo", "inReplyTo", "priority", "listUnsubscribe", "xHeaders", "blocks", "index", 0,
        "reference", json_object_get(d, "reference"), "replyTo", "inReplyTo", "priority",
        "listUnsubscribe", "xHeaders", "openTracking", 0, "linkTracking", 0, "personalization",
        "to", to, "cc", "bcc", "options", "antivirus", "active", 0, "scope", "attachments",
        "traceRecover", "active", 0, "secureDocument", "active", 0, "spamCheck", "active", 0,
        "messageSigning", "active", 0, "settings", json_object_get(d, "settings"));
    return data;
}

/* publish - the follow-up job to render; 0, or -1 when the data is unusable */
static int publish(struct job *job, const char *id, const char *rid, int64_t received_ms,
                   const char *subject, const char *text)
{
    struct envelope e;
    char received[40];

    timeutil_iso8601(received, sizeof(received), received_ms);
    json_t *data = job_data(job->env.data, rid, subject, text, received);
    if (data == NULL)
        return -1;
    envelope_init(&e, "job");
    snprintf(e.job_id, sizeof(e.job_id), "%s", id);
    e.account_id = job->env.account_id;
    e.created_ms = received_ms;
    envelope_set_slip_csv(&e, "render,deliver");
    json_decref(e.data);
    e.data = data;
    worker_job_forward(job, &e);
    return 0;
}

/*
 * stored_row - the follow-up's row, if written: its acceptance time and the
 * password it was written with (into enc, "" when none). 1 found, 0 none,
 * -1 database trouble.
 */
static int stored_row(struct db *db, const char *id, int64_t *received_ms, char *enc, size_t encsz)
{
    struct db_res *r = NULL;
    int found;

    if (db_query(db, &r,
                 "SELECT FLOOR(UNIX_TIMESTAMP(received_at) * 1000), answer FROM job "
                 "WHERE job_id = ?",
                 "s", id) != TX_OK)
        return -1;
    found = db_res_rows(r) > 0;
    enc[0] = 0;
    if (found) {
        json_t *ans = json_loads(db_res_get(r, 0, 1) ? db_res_get(r, 0, 1) : "", 0, NULL);
        const char *p = jsonget_str(json_object_get(ans, "secureDocument"), "password");
        *received_ms = db_res_int(r, 0, 0, *received_ms);
        snprintf(enc, encsz, "%s", p ? p : "");
        json_decref(ans);
    }
    db_res_free(r);
    return found;
}

/*
 * record - the follow-up's acceptance record, with the encrypted password
 * of the copy that was delivered (*enc): the first delivery writes it (and
 * overwrites what a concurrent copy of the same rid wrote, it is that copy's
 * password that opens the delivered ZIP); a copy that finds the rid already
 * delivered takes the recorded password instead of its own. 0, or -1
 * database trouble.
 */
static int record(struct db *db, struct acceptance *a, int again, char *enc, size_t encsz)
{
    char stored[512];
    json_t *ans = json_pack("{s:{s:s},s:{s:s}}", "meta", "jobId", a->job_id, "secureDocument",
                            "password", enc);
    char *text = json_dumps(ans, JSON_COMPACT);
    int r = stored_row(db, a->job_id, &a->received_ms, stored, sizeof(stored)), rc = 0;

    json_decref(ans);
    a->answer = text;
    if (r == 0) {
        enum tx_code w = acceptance_write(db, a);
        if (w == TX_REJECT_INPUT) /* written meanwhile by another copy */
            r = stored_row(db, a->job_id, &a->received_ms, stored, sizeof(stored));
        else if (w != TX_OK)
            r = -1;
    }
    if (r < 0)
        rc = -1;
    else if (r == 1 && !again)
        rc = db_exec(db, "UPDATE job SET answer = ? WHERE job_id = ? AND parent_job_id = ?", "sss",
                     text, a->job_id, a->parent_job_id) == TX_OK
                 ? 0
                 : -1;
    else if (r == 1 && stored[0])
        snprintf(enc, encsz, "%s", stored);
    free(text);
    return rc;
}

int deliver_pwmail_queue(struct job *job, int again)
{
    json_t *sd = json_object_get(job->env.data, "secureDocument"), *settings = NULL;
    const char *zip = jsonget_str(sd, "zip"), *prefix = jsonget_str(sd, "subjectPrefix");
    const char *subj = jsonget_str(sd, "subject");
    struct buf pw = BUF_INIT(64), text = BUF_INIT(1 << 16), subject = BUF_INIT(8192);
    struct acceptance a;
    struct db_res *res = NULL;
    struct db *db;
    char id[UUID_STR_LEN + 1], rid[RID_STR_LEN + 1], enc[512];
    int rc = 0;

    if (!json_is_object(sd))
        return 0;
    snprintf(enc, sizeof(enc), "%s",
             jsonget_str(sd, "password") ? jsonget_str(sd, "password") : "");
    if (zip == NULL || !enc[0]) {
        msg_warn("%s: the secure document has no ZIP name or password: no password mail",
                 job->env.rid);
        metrics_count("txmail_deliver_pwmail_total", "status", "unreadable", 1);
        return 0;
    }
    job_id_of(id, job->env.rid);
    ids_rid_format(rid, id, 0, 0);
    memset(&a, 0, sizeof(a));
    if ((db = worker_job_db(job)) == NULL || parent_row(db, job, &a, &res, &settings) < 0) {
        rc = -1;
        goto out;
    }
    a.job_id = id;
    a.account_id = job->env.account_id;
    a.entry = "rest";
    a.received_ms = timeutil_now_ms();
    a.http_status = 200;
    a.mail_from = a.mail_from ? a.mail_from : jsonget_str(job->env.data, "from");
    a.slip = "render,deliver";
    a.recipients = 1;
    a.parent_job_id = job->env.job_id;
    if (record(db, &a, again, enc, sizeof(enc)) < 0) {
        rc = -1;
        goto out;
    }
    if (crypto_secret_decrypt(&pw, enc, strlen(enc)) < 0 || buf_putc(&pw, 0) < 0) {
        msg_warn("%s: the secure document's password cannot be decrypted: no password mail",
                 job->env.rid);
        metrics_count("txmail_deliver_pwmail_total", "status", "unreadable", 1);
        goto out;
    }
    const char *t = jsonget_str(settings, "passwordMailText");
    if (expand(&text, t && *t ? t : PWMAIL_TEXT_DEFAULT, zip, pw.data) < 0) {
        msg_warn("%s: the password mail text is too long: no password mail", job->env.rid);
        goto out;
    }
    subject_of(&subject, prefix ? prefix : "Password for:", subj ? subj : "");
    if (publish(job, id, rid, a.received_ms, buf_ptr(&subject), buf_ptr(&text)) < 0) {
        msg_warn("%s: no usable address for the password mail: none sent", job->env.rid);
        goto out;
    }
    metrics_count("txmail_deliver_pwmail_total", "status", "queued", 1);
    msg_info("%s: password mail job=%s, zip=%s, status=queued", job->env.rid, id, zip);
out:
    if (pw.data)
        explicit_bzero(pw.data, pw.len);
    if (text.data)
        explicit_bzero(text.data, text.len);
    buf_free(&pw);
    buf_free(&text);
    buf_free(&subject);
    db_res_free(res);
    json_decref(settings);
    return rc;
}
