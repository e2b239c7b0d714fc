/*
 * bounce_arf - feedback reports: RFC 5965 (a message/feedback-report
 * part) and the complaint formats without one (complaint_subjects: the
 * Microsoft JMRP "complaint about message from" reports).
 *
 * One record per reported recipient: every Original-Rcpt-To and
 * Removal-Recipient, else the reported message's X-HmXmrOriginalRecipient,
 * else every address of its To:, else one record without a recipient
 * (an undisclosed To:). feedbacktype is the Feedback-Type (abuse when the
 * format has none); the diagnostic is the report's human-readable text.
 */
#include "bounce_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const complaint_subjects[] = {
    "complaint about message from",
};

static int is_complaint(const struct bounce_report *r)
{
    for (size_t i = 0; i < sizeof(complaint_subjects) / sizeof(complaint_subjects[0]); i++)
        if (bounce_scan_find(r->subject, strlen(r->subject), complaint_subjects[i]))
            return 1;
    return 0;
}

/* add - a record for every address in s (one when one_only) */
static int add_addrs(struct bounce_report *r, const char *s, int one_only)
{
    size_t at = 0, end;
    char addr[256];
    int n = 0;
    struct bounce_rec *rec;

    while (bounce_scan_addr(s + at, strlen(s + at), addr, sizeof(addr), &end) &&
           (rec = bounce_rec_add(r)) != NULL) {
        bounce_scan_set(rec->recipient, sizeof(rec->recipient), addr);
        at += end;
        n++;
        if (one_only)
            break;
    }
    return n;
}

/* rcpt_fields - a record per Original-Rcpt-To / Removal-Recipient line */
static int rcpt_fields(struct bounce_report *r, const char *fb)
{
    const char *p = fb, *end = fb + strlen(fb);
    size_t len;
    int n = 0;

    while (p < end) {
        const char *next = bounce_scan_line(p, end, &len);
        char v[512];
        if ((len > 16 && strncasecmp(p, "Original-Rcpt-To:", 17) == 0) ||
            (len > 18 && strncasecmp(p, "Removal-Recipient:", 18) == 0)) {
            const char *c = memchr(p, ':', len);
            bounce_scan_copy(v, sizeof(v), c + 1, len - (size_t)(c + 1 - p));
            n += add_addrs(r, v, 1);
        }
        p = next;
    }
    return n;
}

int bounce_arf_read(struct bounce_report *r, const struct bounce_parts *p)
{
    const char *fb = p->feedback.data;
    char v[1024], type[64] = "abuse";
    int before = r->nrecs;

    if (p->feedback.len == 0 && !is_complaint(r))
        return 0;
    while (*fb == '\n' || *fb == '\r')
        fb++;
    if (bounce_scan_hdr(fb, "Feedback-Type", v, sizeof(v)) && v[0])
        bounce_scan_copy(type, sizeof(type), v, strcspn(v, " ;"));
    for (char *c = type; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (bounce_scan_hdr(fb, "User-Agent", v, sizeof(v)))
        bounce_scan_copy(r->user_agent, sizeof(r->user_agent), v, strlen(v));
    if (bounce_scan_hdr(fb, "Arrival-Date", v, sizeof(v)) ||
        bounce_scan_hdr(fb, "Received-Date", v, sizeof(v)))
        bounce_scan_copy(r->arrival_date, sizeof(r->arrival_date), v, strlen(v));
    if (bounce_scan_hdr(fb, "Source-IP", v, sizeof(v)))
        bounce_scan_copy(r->source_ip, sizeof(r->source_ip), v, strcspn(v, " "));
    if (bounce_scan_hdr(fb, "Original-Mail-From", v, sizeof(v)))
        bounce_scan_addr(v, strlen(v), r->orig_mail_from, sizeof(r->orig_mail_from), NULL);
    bounce_scan_set(r->mta, sizeof(r->mta), p->feedback.len ? "arf" : "jmrp");

    const char *oh = p->orighdr.data;
    while (*oh == '\n' || *oh == '\r')
        oh++;
    if (rcpt_fields(r, fb) == 0 &&
        !(bounce_scan_hdr(oh, "X-HmXmrOriginalRecipient", v, sizeof(v)) && add_addrs(r, v, 1)) &&
        !(bounce_scan_hdr(oh, "To", v, sizeof(v)) && add_addrs(r, v, 0)))
        bounce_rec_add(r);
    for (int i = before; i < r->nrecs; i++) {
        struct bounce_rec *rec = &r->recs[i];
        bounce_scan_set(rec->feedbacktype, sizeof(rec->feedbacktype), type);
        bounce_scan_copy(rec->diagnostic, sizeof(rec->diagnostic), p->text.data, p->text.len);
    }
    return 1;
}
