/*
 * bounce_parse - read an inbound message with GMime and say what it is:
 * a delivery report, a feedback report, an auto-reply or a reply, with one
 * record per recipient it reports on (bounce.h).
 *
 * The MIME walk (at most BOUNCE_MAX_DEPTH levels, BOUNCE_MAX_PARTS parts)
 * collects the pieces (struct bounce_parts): the bounce's own text, the
 * delivery-status and feedback-report parts and the header block of the
 * returned message; it does not descend into the returned message. Then,
 * first match wins:
 *   1. a feedback report (ARF part, or a complaint format)  BOUNCE_FEEDBACK
 *   2. message/delivery-status fields                       BOUNCE_DSN
 *   3. an Amazon SES / SNS JSON notification                 its kind
 *   4. delivery-status fields written as plain text          BOUNCE_DSN
 *   5. a provider text format (bounce_formats.c)            BOUNCE_DSN
 *   6. an auto-reply (RFC 3834 fields, vacation subjects)    BOUNCE_AUTOREPLY
 *   7. from a mailer daemon, or X-Failed-Recipients         BOUNCE_DSN / UNKNOWN
 *   8. anything else                                         BOUNCE_REPLY
 * Every record is then classified with bounce_classify().
 */
#include "bounce_int.h"
#include "util/mymalloc.h"

#include <gmime/gmime.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

static pthread_once_t bounce_once = PTHREAD_ONCE_INIT;

static void bounce_start(void)
{
    g_mime_init();
    bounce_classify_init();
}

/* records without a recipient take X-Failed-Recipients in order, else they go */
static void fill_recipients(struct bounce_report *r, const struct bounce_parts *p)
{
    char failed[1024];
    size_t at = 0, end;
    int out = 0;

    bounce_scan_hdr(p->hdr.data ? p->hdr.data : "", "X-Failed-Recipients", failed, sizeof(failed));
    for (int i = 0; i < r->nrecs; i++) {
        struct bounce_rec *rec = &r->recs[i];
        if (rec->recipient[0] == 0 &&
            bounce_scan_addr(failed + at, strlen(failed + at), rec->recipient,
                             sizeof(rec->recipient), &end))
            at += end;
        if (rec->recipient[0] == 0 && r->kind != BOUNCE_FEEDBACK)
            continue;
        if (out != i)
            r->recs[out] = *rec;
        out++;
    }
    r->nrecs = out;
}

/* from_failed - one record per X-Failed-Recipients address */
static int from_failed(struct bounce_report *r, const struct bounce_parts *p)
{
    char failed[1024];
    size_t at = 0, end;
    struct bounce_rec *rec;
    char addr[256];

    if (!bounce_scan_hdr(p->hdr.data, "X-Failed-Recipients", failed, sizeof(failed)))
        return 0;
    while (bounce_scan_addr(failed + at, strlen(failed + at), addr, sizeof(addr), &end) &&
           (rec = bounce_rec_add(r)) != NULL) {
        bounce_scan_set(rec->recipient, sizeof(rec->recipient), addr);
        at += end;
    }
    return r->nrecs;
}

/*
 * from_original - a bounce that names no recipient: the returned
 * message's To: when it holds exactly one address
 */
static int from_original(struct bounce_report *r, const struct bounce_parts *p)
{
    char to[1024], addr[256];
    const char *h = p->orighdr.data;
    size_t end;
    struct bounce_rec *rec;

    while (*h == '\n' || *h == '\r')
        h++;
    if (!bounce_scan_hdr(h, "To", to, sizeof(to)) ||
        !bounce_scan_addr(to, strlen(to), addr, sizeof(addr), &end) ||
        bounce_scan_addr(to + end, strlen(to + end), addr, sizeof(addr), NULL) ||
        (rec = bounce_rec_add(r)) == NULL)
        return 0;
    bounce_scan_addr(to, strlen(to), rec->recipient, sizeof(rec->recipient), NULL);
    return 1;
}

/*
 * fill_whole - DSN records without error text take all of the text, unless
 * it names recipients and there are several: then it is theirs, per
 * paragraph, and not the others' text
 */
static void fill_whole(struct bounce_report *r, const char *text)
{
    size_t n = strnlen(text, BOUNCE_MAX_SCAN);
    int named = -1;

    for (int i = 0; r->kind == BOUNCE_DSN && i < r->nrecs; i++) {
        if (r->recs[i].diagnostic[0])
            continue;
        if (named < 0)
            named = r->nrecs > 1 && bounce_text_names(r, text, n);
        if (!named)
            bounce_scan_copy(r->recs[i].diagnostic, sizeof(r->recs[i].diagnostic), text,
                             strlen(text));
    }
}

static void dispatch(struct bounce_report *r, struct bounce_parts *p)
{
    const char *text = p->text.data;
    const struct bounce_format *f = bounce_text_match(r, text), *used;
    int daemon;

    if (bounce_arf_read(r, p)) {
        r->kind = BOUNCE_FEEDBACK;
    } else if (p->dsn.len > 0 && bounce_dsn_read(r, p->dsn.data) > 0) {
        r->kind = BOUNCE_DSN;
        bounce_scan_set(r->mta, sizeof(r->mta), f ? f->mta : "rfc3464");
        bounce_text_fill(r, f, text);
        bounce_dsn_status_text(r, p->dsn.data);
    } else if (bounce_json_read(r, text)) {
        /* kind and mta set there */
    } else if (bounce_msg_dsntext(text) && bounce_dsn_read(r, text) > 0) {
        r->kind = BOUNCE_DSN;
        bounce_scan_set(r->mta, sizeof(r->mta), f ? f->mta : "rfc3464");
        bounce_text_fill(r, f, text);
        bounce_dsn_status_text(r, text);
    } else if ((used = bounce_text_read(r, text, &p->orighdr)) != NULL) {
        r->kind = BOUNCE_DSN;
        bounce_scan_set(r->mta, sizeof(r->mta), used->mta);
    } else if (from_failed(r, p) > 0) {
        r->kind = BOUNCE_DSN;
        bounce_text_fill(r, f, text);
    } else if (!(daemon = bounce_msg_daemon(r, p)) && bounce_msg_autoreply(r, p)) {
        struct bounce_rec *rec = bounce_rec_add(r); /* the first: never NULL */
        r->kind = BOUNCE_AUTOREPLY;
        bounce_scan_set(r->mta, sizeof(r->mta), "rfc3834");
        bounce_scan_set(rec->recipient, sizeof(rec->recipient), r->from);
        bounce_scan_copy(rec->diagnostic, sizeof(rec->diagnostic), text, strlen(text));
    } else if (daemon) {
        bounce_text_original(f, text, &p->orighdr);
        r->kind = from_original(r, p) ? BOUNCE_DSN : BOUNCE_UNKNOWN;
        bounce_text_fill(r, f, text);
    } else {
        r->kind = BOUNCE_REPLY;
    }
    fill_recipients(r, p);
    fill_whole(r, text);
}

static void parts_init(struct bounce_parts *p)
{
    buf_init(&p->text, BOUNCE_MAX_TEXT + 1);
    buf_init(&p->html, BOUNCE_MAX_TEXT + 1);
    buf_init(&p->dsn, BOUNCE_MAX_TEXT + 1);
    buf_init(&p->feedback, BOUNCE_MAX_TEXT + 1);
    buf_init(&p->orighdr, BOUNCE_MAX_TEXT + 1);
    buf_init(&p->hdr, BOUNCE_MAX_TEXT + 1);
    buf_puts(&p->text, "");
    buf_puts(&p->html, "");
    buf_puts(&p->dsn, "");
    buf_puts(&p->feedback, "");
    buf_puts(&p->orighdr, "");
    buf_puts(&p->hdr, "");
}

static void parts_free(struct bounce_parts *p)
{
    buf_free(&p->text);
    buf_free(&p->html);
    buf_free(&p->dsn);
    buf_free(&p->feedback);
    buf_free(&p->orighdr);
    buf_free(&p->hdr);
}

int bounce_parse(const char *raw, size_t len, struct bounce_report *out)
{
    struct bounce_parts p;
    GMimeMessage *m = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    pthread_once(&bounce_once, bounce_start);
    parts_init(&p);
    if (len >= 5 && memcmp(raw, "From ", 5) == 0) { /* an mbox separator line */
        const char *nl = memchr(raw, '\n', len);
        size_t skip = nl ? (size_t)(nl + 1 - raw) : len;
        raw += skip;
        len -= skip;
    }
    if ((m = bounce_msg_open(raw, len)) == NULL)
        goto out;
    if (bounce_msg_collect(m, out, &p) < 0)
        goto out;
    dispatch(out, &p);
    bounce_msg_original(out, &p);
    for (int i = 0; i < out->nrecs; i++) {
        if (out->kind == BOUNCE_DSN)
            bounce_scan_codes(&out->recs[i]);
        bounce_classify(&out->recs[i], out->mta);
    }
    rc = 0;
out:
    if (m)
        g_object_unref(m);
    parts_free(&p);
    return rc;
}

void bounce_report_free(struct bounce_report *r)
{
    if (r == NULL)
        return;
    xfree(r->recs);
    r->recs = NULL;
    r->nrecs = 0;
}
