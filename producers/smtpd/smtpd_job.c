/*
 * smtpd_job - from one SMTP transaction to one job (contract §17.4,
 * docs/ENVELOPES.md "from txmail-smtpd"). Runs on a pool thread while
 * the session waits, so it may read the session.
 *
 *  1. check the message: its header section read one way, refusing
 *     anything ambiguous (smtpd_msghdr.h), X-RETARUS-M4A-* values and
 *     completeness, every mailbox of From: and Sender: against the
 *     envelope sender's domain, the features
 *     switched on (account and installation), attachment file names;
 *  2. build the raw message: a Received: header, then the submitted
 *     header without X-RETARUS-M4A-* and Bcc:, then the body;
 *  3. the recipients with their ids; suppressed or forbidden ones are
 *     kept with "drop" (the first stage publishes their drop events);
 *  4. the envelope, and the acceptance record's fields.
 */
#include "smtpd.h"
#include "smtpd_headers.h"
#include "smtpd_mime.h"
#include "smtpd_msghdr.h"
#include "global/intake/acceptance.h"
#include "global/account.h"
#include "global/addr.h"
#include "global/db.h"
#include "global/envelope.h"
#include "global/ids.h"
#include "global/intake/slip.h"
#include "global/intake/suppress.h"
#include "global/txconf.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* what a refusal names when a feature's stage is not installed */
static const char *const unsupported[SLIP_NFEATURES] = {
    [SLIP_ANTIVIRUS] = "ANTIVIRUS-ACTIVE",
    [SLIP_TRACE_RECOVER] = "TRACE-RECOVER-ACTIVE",
    [SLIP_SPAM_CHECK] = "spamCheck",
    [SLIP_MESSAGE_SIGNING] = "MESSAGE-SIGNING-ACTIVE",
};

struct smtpd_job {
    char job_id[40];
    int64_t received_ms;
    struct smtpd_m4a m4a;
    char mime_from[300];
    struct buf raw;
    json_t *data;
    char slip[SLIP_TEXT_MAX];
    char *notification;
    int nrcpt, ndropped;
};

void smtpd_job_free(struct smtpd_job *j)
{
    if (j == NULL)
        return;
    smtpd_headers_m4a_free(&j->m4a);
    buf_free(&j->raw);
    json_decref(j->data);
    xfree(j->notification);
    xfree(j);
}

/* reply_name - a file name fit for a reply line (UTF-8 only with SMTPUTF8) */
static void reply_name(char *out, size_t outsz, const struct buf *name, int utf8)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)buf_ptr(name);

    for (size_t i = 0; i < name->len && o + 4 < outsz && o < 200; i++) {
        unsigned char c = p[i];
        if (c >= 0x80 && utf8) {
            out[o++] = (char)c;
            continue;
        }
        out[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    out[o] = 0;
    if (utf8 && !codec_utf8_valid(out, o)) { /* cut inside a character: be safe */
        for (size_t i = 0; i < o; i++)
            if ((unsigned char)out[i] >= 0x80)
                out[i] = '?';
    }
}

/* feature - header value (or account default) for one optional feature */
static int feature(const struct session *s, int header, const char *def, const char *feat,
                   const char *hname, char *reply, size_t rsz, int *active)
{
    json_t *st = s->acct.settings;

    *active = header >= 0 ? header : account_default_bool(st, def);
    if (header == 1 && !account_feature(st, feat)) {
        snprintf(reply, rsz, "550 5.7.1 Unsupported value for " SMTPD_M4A_PREFIX "%s", hname);
        return -1;
    }
    return 0;
}

static void rfc5322_date(char *out, size_t outsz, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, outsz, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* received - the Received: header (RFC 5321 4.4, RFC 3848, RFC 6531) */
static void received(struct buf *b, const struct session *s, const struct smtpd_job *j)
{
    const struct smtpd_txn *x = s->txn;
    char date[64], proto[16];

    rfc5322_date(date, sizeof(date), j->received_ms);
    snprintf(proto, sizeof(proto), "%s%s%s",
             x->smtputf8 ? "UTF8SMTP"
             : s->esmtp  ? "ESMTP"
                         : "SMTP",
             s->tls ? "S" : "", s->sasl ? "A" : "");
    buf_printf(b, "Received: from %s (%s%s%s)\r\n", s->helo[0] ? s->helo : "unknown",
               strchr(s->ip, ':') ? "[IPv6:" : "[", s->ip, "]");
    if (s->tls)
        buf_printf(b, "\t(using %s with cipher %s)\r\n", s->tls_proto, s->tls_cipher);
    buf_printf(b, "\tby %s (txmail) with %s id %s", txconf.myhostname, proto, j->job_id);
    if (x->nrcpt == 1)
        buf_printf(b, "\r\n\tfor <%s>", x->rcpt[0].email);
    buf_printf(b, "; %s\r\n", date);
}

/* getor - obj.k (a new reference) or dflt. Ownership: steals dflt. */
static json_t *getor(json_t *obj, const char *k, json_t *dflt)
{
    json_t *v = json_object_get(obj, k);

    if (v == NULL)
        return dflt;
    json_decref(dflt);
    return json_incref(v);
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* the optional features of a job: header values or account defaults */
struct features {
    int av, tr, sign, spam;
};

/*
 * check_m4a - X-RETARUS-M4A-* values, then completeness; *from and *sender
 * the header's From: and Sender: fields (NULL: none)
 */
static int check_m4a(struct smtpd_job *j, const struct smtpd_fields *fs,
                     const struct smtpd_field **from, const struct smtpd_field **sender,
                     char *reply, size_t rsz)
{
    for (int i = 0; i < fs->n; i++) {
        const struct smtpd_field *f = &fs->f[i];
        if (smtpd_headers_m4a_is(f->name, f->name_len) &&
            smtpd_headers_m4a_field(&j->m4a, f->name, f->name_len, f->value, f->value_len, reply,
                                    rsz) < 0)
            return -1;
        if (smtpd_mime_field_is(f, "From"))
            *from = f; /* at most one (smtpd_msghdr_parse) */
        else if (smtpd_mime_field_is(f, "Sender"))
            *sender = f;
    }
    return smtpd_headers_m4a_complete(&j->m4a, reply, rsz);
}

/*
 * check_originator - From: exactly one, every mailbox in the envelope
 * sender's domain (j->mime_from its address when it differs from MAIL
 * FROM); Sender: (optional) under the same rule
 */
static int check_originator(const struct smtpd_txn *x, struct smtpd_job *j,
                            const struct smtpd_field *from, const struct smtpd_field *sender,
                            char *reply, size_t rsz)
{
    if (from == NULL) {
        snprintf(reply, rsz, "554 5.6.0 Missing mandatory value for From");
        return -1;
    }
    int fr = smtpd_msghdr_mailboxes(from->value, from->value_len, x->from_domain, j->mime_from,
                                    sizeof(j->mime_from));
    if (fr < 0) {
        snprintf(reply, rsz, "554 5.6.0 Invalid value for From");
        return -1;
    }
    if (fr == 0) {
        snprintf(reply, rsz, "550 5.7.1 Unsupported value for From");
        return -1;
    }
    /* Sender: it is who the receiver sees as sending */
    if (sender) {
        char ignored[300];
        int sr = smtpd_msghdr_mailboxes(sender->value, sender->value_len, x->from_domain, ignored,
                                        sizeof(ignored));
        if (sr <= 0) {
            snprintf(reply, rsz,
                     sr < 0 ? "554 5.6.0 Invalid value for Sender"
                            : "550 5.7.1 Unsupported value for Sender");
            return -1;
        }
    }
    if (strcasecmp(j->mime_from, x->mail_from) == 0)
        j->mime_from[0] = 0; /* reported only when it differs */
    return 0;
}

/*
 * check_features - the account must allow what a header switches on; the
 * installation must run the stage it needs. The slip, in the order of the
 * stages, into j->slip.
 */
static int check_features(const struct session *s, struct smtpd_job *j, struct features *ft,
                          char *reply, size_t rsz)
{
    const struct smtpd_txn *x = s->txn;

    if (feature(s, j->m4a.antivirus, "antivirus", "antivirus", "ANTIVIRUS-ACTIVE", reply, rsz,
                &ft->av) < 0 ||
        feature(s, j->m4a.trace_recover, "traceRecover", "traceRecover", "TRACE-RECOVER-ACTIVE",
                reply, rsz, &ft->tr) < 0 ||
        feature(s, j->m4a.message_signing, "messageSigning", "messageSigning",
                "MESSAGE-SIGNING-ACTIVE", reply, rsz, &ft->sign) < 0)
        return -1;
    ft->av = ft->av || ft->tr; /* Trace & Recover needs the scan (contract §16.2) */
    ft->spam = account_default_bool(s->acct.settings, "spamCheck");
    /* the slip (slip.h): a feature whose stage is not installed is refused,
     * and so is Message Signing for a Relay Service domain */
    struct slip_features sf;
    enum slip_feature missing = SLIP_NFEATURES;
    memset(&sf, 0, sizeof(sf));
    sf.on[SLIP_ANTIVIRUS] = ft->av && !ft->tr; /* a refusal names Trace & Recover when it is on */
    sf.on[SLIP_TRACE_RECOVER] = ft->tr;
    sf.on[SLIP_SPAM_CHECK] = ft->spam;
    sf.on[SLIP_MESSAGE_SIGNING] = ft->sign;
    int built = slip_build(smtpd_conf.stages, &sf, j->slip, sizeof(j->slip), &missing) == 0;
    if (ft->sign && x->sd.relay_host[0] && (built || missing == SLIP_SPAM_CHECK))
        missing = SLIP_MESSAGE_SIGNING;
    if (missing != SLIP_NFEATURES) {
        snprintf(reply, rsz, "550 5.7.1 Unsupported value for %s%s",
                 missing == SLIP_SPAM_CHECK ? "" : SMTPD_M4A_PREFIX, unsupported[missing]);
        return -1;
    }
    return 0;
}

/* check_attachments - no attachment name the account forbids, a structure we can read */
static int check_attachments(const struct session *s, const char *msg, size_t len, char *reply,
                             size_t rsz)
{
    struct buf name = BUF_INIT(1 << 20);
    int rc = -1;

    switch (smtpd_mime_attachments(msg, len, s->acct.settings, &name)) {
    case SMTPD_MIME_OK:
        rc = 0;
        break;
    case SMTPD_MIME_FORBIDDEN: {
        char nm[256];
        reply_name(nm, sizeof(nm), &name, s->txn->smtputf8);
        snprintf(reply, rsz, "550 5.7.1 Unsupported value for attachment %s", nm);
        break;
    }
    case SMTPD_MIME_COMPLEX:
        snprintf(reply, rsz, "554 5.6.0 Message structure too complex");
        break;
    }
    buf_free(&name);
    return rc;
}

/* raw_message - Received:, the header without ours and Bcc:, the body */
static void raw_message(const struct session *s, struct smtpd_job *j, const struct smtpd_fields *fs,
                        const char *msg, size_t len)
{
    received(&j->raw, s, j);
    for (int i = 0; i < fs->n; i++) {
        const struct smtpd_field *f = &fs->f[i];
        if (smtpd_headers_m4a_is(f->name, f->name_len) || smtpd_mime_field_is(f, "Bcc"))
            continue;
        buf_append(&j->raw, msg + f->off, f->len);
    }
    size_t hend = fs->n ? fs->f[fs->n - 1].off + fs->f[fs->n - 1].len : 0;
    buf_append(&j->raw, msg + hend, len - hend); /* the blank line and the body */
}

/* options_json - the job's "options": each feature and its account defaults. Ownership: new. */
static json_t *options_json(json_t *st, const struct features *ft)
{
    json_t *opt = json_object(), *o;
    json_t *defs = json_object_get(st, "defaults");

    o = json_object();
    json_object_set_new(o, "active", json_boolean(ft->av));
    json_object_set_new(o, "scope", getor(defs, "antivirusScope", json_string("attachments")));
    json_object_set_new(opt, "antivirus", o);
    o = json_object();
    json_object_set_new(o, "active", json_boolean(ft->tr));
    json_object_set_new(opt, "traceRecover", o);
    o = json_object();
    json_object_set_new(o, "active", json_boolean(ft->sign));
    json_object_set_new(opt, "messageSigning", o);
    o = json_object();
    json_object_set_new(o, "active", json_boolean(ft->spam));
    json_object_set_new(o, "mode", getor(defs, "spamMode", json_string("score-only")));
    json_object_set_new(o, "threshold", getor(defs, "spamThreshold", json_real(5.0)));
    json_object_set_new(opt, "spamCheck", o);
    return opt;
}

/* job_data - the job's data, without the recipients (smtpd_job_recipients). Ownership: new. */
static json_t *job_data(const struct session *s, const struct smtpd_job *j,
                        const struct features *ft)
{
    const struct smtpd_txn *x = s->txn;
    json_t *st = s->acct.settings;
    char ts[32];
    json_t *d = json_object(), *acct = json_object(), *sd = json_object(), *set = json_object();

    json_object_set_new(d, "entry", json_string("smtp"));
    json_object_set_new(d, "receivedTs",
                        json_string(timeutil_iso8601(ts, sizeof(ts), j->received_ms)));
    json_object_set_new(acct, "id", json_integer(s->acct.id));
    json_object_set_new(acct, "name", json_string(s->acct.name));
    json_object_set_new(acct, "customerNo", json_string(s->acct.customer_no));
    json_object_set_new(acct, "tenant", str_or_null(s->acct.tenant));
    json_object_set_new(d, "account", acct);
    json_object_set_new(sd, "id", json_integer(x->sd.id));
    json_object_set_new(sd, "domain", json_string(x->sd.domain));
    json_object_set_new(d, "senderDomain", sd);
    json_object_set_new(d, "mailFrom", json_string(x->mail_from));
    json_object_set_new(d, "mimeFrom", str_or_null(j->mime_from));
    json_object_set_new(d, "referenceJob", str_or_null(j->m4a.reference));
    json_object_set_new(d, "costCenter", str_or_null(j->m4a.cost_center));
    json_object_set_new(d, "campaignId", str_or_null(j->m4a.campaign_id));
    json_object_set_new(d, "recipients", json_array());
    int utf8 = x->smtputf8;
    for (int i = 0; i < x->nrcpt; i++)
        utf8 |= x->rcpt[i].utf8;
    json_object_set_new(d, "smtputf8", json_boolean(utf8));
    json_object_set_new(d, "eightbit", json_boolean(x->body8bit || x->data.eightbit));
    json_object_set_new(d, "options", options_json(st, ft));
    json_object_set_new(set, "autoEscapeHtml", json_boolean(account_feature(st, "autoEscapeHtml")));
    json_object_set_new(set, "oneClickUnsubscribe",
                        json_boolean(account_feature(st, "oneClickUnsubscribe")));
    json_object_set_new(set, "trackingWindowDays",
                        getor(st, "trackingWindowDays", json_integer(10)));
    json_object_set_new(d, "settings", set);
    return d;
}

int smtpd_job_check(const struct session *s, const char *job_id, struct smtpd_job **jobp,
                    char *reply, size_t rsz)
{
    const struct smtpd_txn *x = s->txn;
    const char *msg = buf_ptr(&x->msg);
    size_t len = x->msg.len;
    struct smtpd_fields fs;
    struct smtpd_job *j = xcalloc(1, sizeof(*j));
    struct features ft = {0, 0, 0, 0};
    int rc = -1;
    const struct smtpd_field *from = NULL, *sender = NULL;

    snprintf(j->job_id, sizeof(j->job_id), "%s", job_id);
    j->received_ms = x->received_ms;
    smtpd_headers_m4a_init(&j->m4a);
    buf_init(&j->raw, x->msg.len + 4096);
    /* the header as render and receivers read it; anything ambiguous is refused */
    if (smtpd_msghdr_parse(msg, len, &fs, SMTPD_MIME_FIELDS_MAX, reply, rsz) != SMTPD_MSGHDR_OK)
        goto out;
    if (check_m4a(j, &fs, &from, &sender, reply, rsz) < 0 ||
        check_originator(x, j, from, sender, reply, rsz) < 0 ||
        check_features(s, j, &ft, reply, rsz) < 0 || check_attachments(s, msg, len, reply, rsz) < 0)
        goto out;
    if (smtpd_headers_m4a_endpoint(&j->m4a, &j->notification) < 0) {
        msg_warn("%s: cannot encrypt the notification password: master_key_file is not set", s->id);
        snprintf(reply, rsz, "451 4.3.0 Temporary failure, please retry");
        goto out;
    }
    raw_message(s, j, &fs, msg, len);
    j->data = job_data(s, j, &ft);
    rc = 0;
out:
    smtpd_mime_fields_free(&fs);
    if (rc < 0) {
        smtpd_job_free(j);
        j = NULL;
    }
    *jobp = j;
    return rc;
}

struct suppress_query *smtpd_job_keys(const struct smtpd_txn *x)
{
    enum { LOW_MAX = 300 };
    size_t n = (size_t)x->nrcpt;
    struct suppress_query *q = xcalloc(1, n * (sizeof(*q) + LOW_MAX) + 1);
    char *low = (char *)(q + n);

    for (size_t i = 0; i < n; i++) {
        addr_lower(low + i * LOW_MAX, LOW_MAX, x->rcpt[i].bare);
        q[i].addr = low + i * LOW_MAX;
    }
    return q;
}

void smtpd_job_recipients(struct smtpd_job *j, const struct session *s,
                          const struct suppress_query *q)
{
    const struct smtpd_txn *x = s->txn;
    json_t *list = json_object_get(j->data, "recipients");

    json_array_clear(list);
    j->ndropped = 0;
    for (int i = 0; i < x->nrcpt; i++) {
        const struct smtpd_rcpt *rc_ = &x->rcpt[i];
        char rid[RID_STR_LEN + 1], low[300];
        json_t *e = json_object(), *drop = json_null();

        ids_rid_format(rid, j->job_id, (uint32_t)i, (uint32_t)i);
        addr_lower(low, sizeof(low), rc_->bare);
        if (rc_->forbidden) {
            drop = json_pack("{s:s,s:s}", "subType", "FORBIDDEN_RECIPIENT", "description",
                             "Local part forbidden by config");
        } else if (q && q[i].hit) {
            const struct suppress_hit *h = &q[i].entry;
            char *desc = suppress_describe(h);
            drop = json_object();
            json_object_set_new(drop, "subType", json_string(suppress_subtype(h)));
            json_object_set_new(drop, "description", json_string(desc));
            /* the entry, so the drop event can reset its expiry (docs/ENVELOPES.md) */
            json_object_set_new(drop, "suppression",
                                json_pack("{s:s,s:s}", "type", h->type, "address", low));
            xfree(desc);
        }
        if (!json_is_null(drop))
            j->ndropped++;
        json_object_set_new(e, "rid", json_string(rid));
        json_object_set_new(e, "index", json_integer(i));
        json_object_set_new(e, "email", json_string(rc_->email));
        json_object_set_new(e, "addr", json_string(rc_->bare));
        json_object_set_new(e, "utf8", json_boolean(rc_->utf8));
        json_object_set_new(e, "drop", drop);
        json_array_append_new(list, e);
    }
    j->nrcpt = x->nrcpt;
}

void smtpd_job_first_stage(const struct smtpd_job *j, char *out, size_t outsz)
{
    size_t n = strcspn(j->slip, ",");

    snprintf(out, outsz, "%.*s", (int)n, j->slip);
}

int smtpd_job_encode(struct smtpd_job *j, char **body, size_t *len)
{
    struct envelope e;
    size_t rawlen;
    char *raw;
    int rc;

    envelope_init(&e, "job");
    snprintf(e.job_id, sizeof(e.job_id), "%s", j->job_id);
    e.account_id = json_integer_value(json_object_get(json_object_get(j->data, "account"), "id"));
    if (envelope_set_slip_csv(&e, j->slip) < 0) {
        envelope_free(&e);
        return -1;
    }
    e.created_ms = j->received_ms;
    json_decref(e.data);
    e.data = json_incref(j->data);
    raw = buf_steal(&j->raw, &rawlen);
    envelope_take_raw(&e, raw ? raw : xstrdup(""), raw ? rawlen : 0);
    rc = envelope_encode(&e, body, len);
    envelope_free(&e);
    return rc;
}

enum tx_code smtpd_job_record(struct smtpd_job *j, struct db *db, const char *answer)
{
    json_t *d = j->data;
    struct acceptance rec = {
        .job_id = j->job_id,
        .account_id = json_integer_value(json_object_get(json_object_get(d, "account"), "id")),
        .entry = "smtp",
        .received_ms = j->received_ms,
        .idem_key = NULL,
        .http_status = 250,
        .answer = answer,
        .mail_from = json_string_value(json_object_get(d, "mailFrom")),
        .reference_job = j->m4a.reference,
        .cost_center = j->m4a.cost_center,
        .campaign_id = j->m4a.campaign_id,
        .notification = j->notification,
        .slip = j->slip,
        .recipients = j->nrcpt,
        .parent_job_id = NULL,
    };

    return acceptance_write(db, &rec);
}

void smtpd_job_log(const struct smtpd_job *j, const struct session *s, const char *status)
{
    json_t *list = json_object_get(j->data, "recipients"), *e;
    const char *from = json_string_value(json_object_get(j->data, "mailFrom"));
    char pf[300], pt[300];
    size_t i;

    msg_printable(pf, sizeof(pf), from, strlen(from));
    json_array_foreach (list, i, e) {
        const char *to = json_string_value(json_object_get(e, "email"));
        json_t *drop = json_object_get(e, "drop");
        msg_printable(pt, sizeof(pt), to, strlen(to));
        msg_info("%s: client=[%s], session=%s, account=%s, from=<%s>, to=<%s>, size=%zu, "
                 "status=%s%s%s%s",
                 json_string_value(json_object_get(e, "rid")), s->ip, s->id, s->acct.name, pf, pt,
                 s->txn->msg.len,
                 json_is_object(drop) && strcmp(status, "queued") == 0 ? "dropped" : status,
                 json_is_object(drop) ? " (" : "",
                 json_is_object(drop) ? json_string_value(json_object_get(drop, "subType")) : "",
                 json_is_object(drop) ? ")" : "");
    }
}
