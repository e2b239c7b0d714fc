/*
 * bounce_json - Amazon SES notifications in JSON (sent as the body of an
 * e-mail by SNS, raw or wrapped in an SNS envelope whose "Message" is the
 * notification as a string): Bounce, Complaint and Delivery, keyed by
 * notificationType or eventType.
 *
 * Lines longer than an MTA allows arrive split as "!" newline space
 * (sendmail's cut at 990 octets); those cuts are removed before parsing.
 */
#include "bounce_int.h"
#include "util/mymalloc.h"

#include <jansson.h>
#include <string.h>

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void copy(char *dst, size_t sz, const char *s)
{
    bounce_scan_copy(dst, sz, s, strlen(s));
}

static void bounced(struct bounce_report *r, json_t *n)
{
    json_t *b = json_object_get(n, "bounce"), *v;
    size_t i;
    const char *mta = str(b, "reportingMTA");

    r->kind = BOUNCE_DSN;
    json_array_foreach (json_object_get(b, "bouncedRecipients"), i, v) {
        struct bounce_rec *rec = bounce_rec_add(r);
        const char *d = str(v, "diagnosticCode"), *semi = strchr(d, ';');
        if (rec == NULL)
            return;
        bounce_scan_addr(str(v, "emailAddress"), strlen(str(v, "emailAddress")), rec->recipient,
                         sizeof(rec->recipient), NULL);
        copy(rec->action, sizeof(rec->action), str(v, "action"));
        copy(rec->status, sizeof(rec->status), str(v, "status"));
        copy(rec->diagnostic, sizeof(rec->diagnostic), semi && semi - d < 16 ? semi + 1 : d);
        if (semi && semi - d < 16)
            bounce_scan_copy(rec->diagtype, sizeof(rec->diagtype), d, (size_t)(semi - d));
        if (strncmp(mta, "dsn;", 4) == 0)
            copy(rec->rhost, sizeof(rec->rhost), mta + 4);
    }
}

static void complained(struct bounce_report *r, json_t *n)
{
    json_t *c = json_object_get(n, "complaint"), *v;
    const char *type = str(c, "complaintFeedbackType");
    size_t i;

    r->kind = BOUNCE_FEEDBACK;
    copy(r->user_agent, sizeof(r->user_agent), str(c, "userAgent"));
    copy(r->arrival_date, sizeof(r->arrival_date), str(c, "arrivalDate"));
    json_array_foreach (json_object_get(c, "complainedRecipients"), i, v) {
        struct bounce_rec *rec = bounce_rec_add(r);
        if (rec == NULL)
            return;
        bounce_scan_addr(str(v, "emailAddress"), strlen(str(v, "emailAddress")), rec->recipient,
                         sizeof(rec->recipient), NULL);
        copy(rec->feedbacktype, sizeof(rec->feedbacktype), type[0] ? type : "abuse");
    }
}

static void delivered(struct bounce_report *r, json_t *n)
{
    json_t *d = json_object_get(n, "delivery"), *v;
    size_t i;

    r->kind = BOUNCE_DSN;
    json_array_foreach (json_object_get(d, "recipients"), i, v) {
        struct bounce_rec *rec = bounce_rec_add(r);
        const char *a = json_string_value(v);
        if (rec == NULL || a == NULL)
            return;
        bounce_scan_addr(a, strlen(a), rec->recipient, sizeof(rec->recipient), NULL);
        copy(rec->action, sizeof(rec->action), "delivered");
        copy(rec->diagnostic, sizeof(rec->diagnostic), str(d, "smtpResponse"));
        copy(rec->rhost, sizeof(rec->rhost), str(d, "reportingMTA"));
    }
}

/* mail_fields - the sent message's headers from "mail" */
static void mail_fields(struct bounce_report *r, json_t *n)
{
    json_t *mail = json_object_get(n, "mail"), *h = json_object_get(mail, "commonHeaders"), *v;
    size_t i;

    json_array_foreach (json_object_get(mail, "headers"), i, v) {
        const char *name = str(v, "name"), *val = str(v, "value");
        if (strcasecmp(name, "Message-ID") == 0)
            copy(r->orig_message_id, sizeof(r->orig_message_id), val);
        else if (strcasecmp(name, "Return-Path") == 0)
            bounce_scan_addr(val, strlen(val), r->orig_return_path, sizeof(r->orig_return_path),
                             NULL);
    }
    const char *from = json_string_value(json_array_get(json_object_get(h, "from"), 0));
    const char *to = json_string_value(json_array_get(json_object_get(h, "to"), 0));
    if (from)
        bounce_scan_addr(from, strlen(from), r->orig_from, sizeof(r->orig_from), NULL);
    if (to)
        copy(r->orig_to, sizeof(r->orig_to), to);
    copy(r->orig_subject, sizeof(r->orig_subject), str(h, "subject"));
}

/* unsplit - a copy of the text from its first '{' without sendmail's "!\n " cuts */
static char *unsplit(const char *text)
{
    const char *s = strchr(text, '{');
    char *out, *o;

    if (s == NULL)
        return NULL;
    out = o = xmalloc(strlen(s) + 1);
    while (*s) {
        if (s[0] == '!' && s[1] == '\n' && s[2] == ' ') {
            s += 3;
            continue;
        }
        if (s[0] == '!' && s[1] == '\r' && s[2] == '\n' && s[3] == ' ') {
            s += 4;
            continue;
        }
        *o++ = *s++;
    }
    *o = 0;
    return out;
}

int bounce_json_read(struct bounce_report *r, const char *text)
{
    char *t = bounce_scan_find(text, strlen(text), "Type\"") ? unsplit(text) : NULL;
    json_t *n = t ? json_loads(t, JSON_DISABLE_EOF_CHECK, NULL) : NULL, *inner = NULL;
    const char *type;
    int rc = 0;

    if (n == NULL)
        goto out;
    if (json_is_string(json_object_get(n, "Message")))
        n = (inner = json_loads(str(n, "Message"), 0, NULL)) ? (json_decref(n), inner) : n;
    type = str(n, "notificationType")[0] ? str(n, "notificationType") : str(n, "eventType");
    if (strcmp(type, "Bounce") == 0)
        bounced(r, n);
    else if (strcmp(type, "Complaint") == 0)
        complained(r, n);
    else if (strcmp(type, "Delivery") == 0)
        delivered(r, n);
    else
        goto out;
    snprintf(r->mta, sizeof(r->mta), "amazonses");
    mail_fields(r, n);
    rc = 1;
out:
    json_decref(n);
    xfree(t);
    return rc;
}
