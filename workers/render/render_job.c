/*
 * render_job - REST jobs: one message per recipient block (contract §8),
 * one copy per address that was not dropped at intake.
 *
 * Per job: the text parts and the attachment entities are prepared once
 * (attachments are re-cut into base64 lines in one pass, never decoded).
 * Per block: the header fields shared by its copies, the body and its
 * DKIM body hash. Per copy: the Message-ID (and, with tracking, the
 * HTML), the signature, the envelope. Copies of a block differ only in
 * their header, so a block's body is built and hashed once - by the
 * first copy that sends it: with tracking every copy has a body of its
 * own, and none may. (The job's HTML entity and the block's body are
 * left for that copy only when they cannot fail; otherwise they are
 * built up front, so a block fails where it always did.)
 *
 * A block that cannot be rendered (template error, size over the limit,
 * a header that cannot be written) gets PROCESSING_FAILED for its
 * addresses; the other blocks are not affected.
 */
#include "workers/render/render.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "workers/render/render_header.h"
#include "workers/render/render_hooks.h"
#include "workers/render/render_mime.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define UNSUB_MAX 16

struct part {
    int present, templ;
    const char *text;
    size_t len;
    const char *charset, *cte;
    int html;
};

struct rjob {
    struct render_run *run;
    json_t *data;
    struct part subject, body, alt;
    json_t *from_hdr;              /* mimeFrom if given, else from: the From: field */
    int any_template;
    long long limit;
    struct buf *ent;               /* attachment entities */
    size_t nent;
    const struct buf **inl, **att; /* views into ent */
    size_t ninl, natt;
    struct buf plain_ent, html_ent;/* job-level text entities (no templates) */
    int have_plain, have_html;
    int html_later;                /* html_ent is built when first needed (it cannot fail) */
    char job_error[300];           /* every block fails with this */
    char *owned[32];               /* NUL-terminated copies of raw segments */
    size_t nowned;
};

struct rblock {
    json_t *j;
    long long index;
    const char *reference;
    struct render_rcpt *r;         /* to, cc, bcc in order (dropped ones too) */
    size_t nr, nto, ncc;
    int hdr_utf8;                  /* a header carries a UTF-8 address */
    /* per block */
    struct buf pre, mid, lu, post; /* header fields around Message-ID */
    struct buf entity;             /* top entity: Content-* fields, empty line, body */
    size_t body_off;
    int have_entity;               /* entity built, its Content-* fields added to post */
    size_t post_x;                 /* post's length before those fields (the xHeaders) */
    unsigned char bh[32];          /* DKIM body hash of entity, once a copy needs it */
    int have_bh;
    const char *html;              /* HTML text of the block (for tracking) */
    size_t html_len;
    struct buf html_buf, plain_buf, subj_buf;
    struct buf plain_ent, html_ent;
    const char *unsub[UNSUB_MAX];
    size_t nunsub;
    int unsub_https;
    char unsub_store[2048];
};

/*
 * raw_segment - large values travel in the envelope's raw part, named by
 * a [offset, length] member (docs/ENVELOPES.md, "raw segments"): a
 * NUL-terminated copy owned by rj, or NULL when absent or out of range.
 */
static const char *raw_segment(struct rjob *rj, json_t *range, size_t *len)
{
    const struct envelope *e = &rj->run->job->env;
    json_int_t off, n;

    if (!json_is_array(range) || json_array_size(range) != 2 ||
        !json_is_integer(json_array_get(range, 0)) || !json_is_integer(json_array_get(range, 1)))
        return NULL;
    off = json_integer_value(json_array_get(range, 0));
    n = json_integer_value(json_array_get(range, 1));
    if (off < 0 || n < 0 || (size_t)off > e->raw_len || (size_t)n > e->raw_len - (size_t)off ||
        rj->nowned == sizeof(rj->owned) / sizeof(rj->owned[0]))
        return NULL;
    char *copy = xmalloc((size_t)n + 1);
    memcpy(copy, e->raw + off, (size_t)n);
    copy[n] = 0;
    rj->owned[rj->nowned++] = copy;
    *len = (size_t)n;
    return copy;
}

static void parse_part(struct rjob *rj, json_t *o, struct part *p, int is_body)
{
    memset(p, 0, sizeof(*p));
    if (!json_is_object(o))
        return;
    json_t *t = json_object_get(o, "text");
    if (!json_is_string(t))
        t = json_object_get(o, "content");
    p->present = 1;
    p->text = json_is_string(t) ? json_string_value(t) : "";
    p->len = json_is_string(t) ? json_string_length(t) : 0;
    if (!json_is_string(t) && json_object_get(o, "textRaw")) {
        const char *seg = raw_segment(rj, json_object_get(o, "textRaw"), &p->len);
        p->text = seg ? seg : "";
        if (seg == NULL)
            p->len = 0;
    }
    p->templ = jsonget_bool(o, "template");
    p->charset = jsonget_str(o, "charset");
    p->cte = jsonget_str(o, "cte");
    if (p->cte == NULL)
        p->cte = jsonget_str(o, "contentTransferEncoding");
    if (is_body) {
        const char *ct = jsonget_str(o, "contentType");
        p->html = ct && strcasecmp(ct, "text/html") == 0;
    }
}

static int has_8bit(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

/* size_error - the contract's wording for a part that did not fit (§4.12, §9.5) */
static void size_error(char *err, size_t errsz, const struct rjob *rj)
{
    if (strcmp(err, "message too large") == 0)
        snprintf(err, errsz, "%s exceeds %lld bytes", rj->any_template ? "Rendered message" : "message",
                 rj->limit);
}

/* prepare - job-level parsing: parts, attachments, job-level text entities */
static void prepare(struct rjob *rj)
{
    json_t *data = rj->data, *mail = json_object_get(data, "mail"), *atts, *a;
    struct render_run *run = rj->run;
    char err[240];
    size_t i;

    parse_part(rj, json_object_get(data, "subject"), &rj->subject, 0);
    parse_part(rj, json_object_get(data, "body"), &rj->body, 1);
    parse_part(rj, json_object_get(data, "alternative"), &rj->alt, 0);
    if (rj->body.present && !rj->body.html)
        rj->alt.present = 0; /* text/plain body: the alternative is left out [JRM] */
    rj->any_template = (rj->subject.present && rj->subject.templ) ||
                       (rj->body.present && rj->body.templ) || (rj->alt.present && rj->alt.templ);
    rj->limit = rj->any_template ? render_p.max_template : render_p.max_message;
    rj->from_hdr = json_object_get(mail, "mimeFrom");
    if (!json_is_object(rj->from_hdr) || !jsonget_str(rj->from_hdr, "addr"))
        rj->from_hdr = json_object_get(mail, "from");
    if (!rcpt_addr_ok(jsonget_str(rj->from_hdr, "addr")) || !rcpt_addr_ok(run->from_addr)) {
        snprintf(rj->job_error, sizeof(rj->job_error), "malformed job data: no usable sender address");
        return;
    }
    if (!rj->subject.present) {
        snprintf(rj->job_error, sizeof(rj->job_error), "malformed job data: no subject");
        return;
    }

    /* attachments: inline parts need an HTML part to live in */
    atts = json_object_get(data, "attachments");
    size_t n = json_is_array(atts) ? json_array_size(atts) : 0;
    rj->ent = xcalloc(n + 1, sizeof(*rj->ent));
    rj->inl = xcalloc(n + 1, sizeof(*rj->inl));
    rj->att = xcalloc(n + 1, sizeof(*rj->att));
    json_array_foreach(atts, i, a) {
        struct mime_attachment m = {jsonget_str(a, "name"), jsonget_str(a, "contentType"), jsonget_str(a, "contentId"),
                                    jsonget_str(a, "data"), 0};
        if (m.data == NULL)
            m.data = jsonget_str(a, "content");
        if (m.data == NULL && json_object_get(a, "raw"))
            m.data = raw_segment(rj, json_object_get(a, "raw"), &m.len);
        if (m.data == NULL) {
            snprintf(rj->job_error, sizeof(rj->job_error), "malformed job data: attachment %zu has no content", i);
            return;
        }
        m.len = strlen(m.data);
        if (jsonget_bool(a, "secureDocument")) {
            /* contract §4.7: a flagged attachment is never sent unencrypted */
            snprintf(rj->job_error, sizeof(rj->job_error),
                     "attachment %.100s is flagged secureDocument but was not encrypted",
                     m.name ? m.name : "?");
            return;
        }
        int is_inline = m.content_id && *m.content_id && rj->body.present && rj->body.html;
        struct buf *e = &rj->ent[rj->nent++];
        buf_init(e, (size_t)rj->limit);
        if (mime_attachment_entity(e, &m, is_inline, err, sizeof(err)) < 0) {
            size_error(err, sizeof(err), rj);
            snprintf(rj->job_error, sizeof(rj->job_error), "%s", err);
            return;
        }
        if (is_inline)
            rj->inl[rj->ninl++] = e;
        else
            rj->att[rj->natt++] = e;
    }

    /* without templates every block has the same text parts: build them once */
    buf_init(&rj->plain_ent, (size_t)rj->limit);
    buf_init(&rj->html_ent, (size_t)rj->limit);
    if (!rj->any_template) {
        const struct part *plain = rj->body.present && !rj->body.html ? &rj->body
                                   : rj->alt.present                  ? &rj->alt
                                                                      : NULL;
        if (plain) {
            struct mime_text t = {plain->text, plain->len, plain->charset, plain->cte, "plain"};
            if (mime_text_entity(&rj->plain_ent, &t, err, sizeof(err)) < 0) {
                size_error(err, sizeof(err), rj);
                snprintf(rj->job_error, sizeof(rj->job_error), "text part: %s", err);
                return;
            }
            rj->have_plain = 1;
        }
        if (rj->body.present && rj->body.html) {
            struct mime_text t = {rj->body.text, rj->body.len, rj->body.charset, rj->body.cte, "html"};
            rj->have_html = 1;
            /* with tracking no copy may send this entity: leave it until one
             * does when it cannot fail (so no error comes later than here) */
            if (mime_text_max(&t) <= (size_t)rj->limit)
                rj->html_later = 1;
            else if (mime_text_entity(&rj->html_ent, &t, err, sizeof(err)) < 0) {
                size_error(err, sizeof(err), rj);
                snprintf(rj->job_error, sizeof(rj->job_error), "HTML part: %s", err);
                return;
            }
        }
    }
}

static void rjob_free(struct rjob *rj)
{
    for (size_t i = 0; i < rj->nent; i++)
        buf_free(&rj->ent[i]);
    xfree(rj->ent);
    xfree(rj->inl);
    xfree(rj->att);
    buf_free(&rj->plain_ent);
    buf_free(&rj->html_ent);
    for (size_t i = 0; i < rj->nowned; i++)
        xfree(rj->owned[i]);
    rj->nowned = 0;
}

/* block_parse - the block's addresses; -1 when an element is malformed */
static int block_parse(json_t *b, size_t array_index, struct rblock *rb)
{
    static const char *const kinds[] = {"to", "cc", "bcc"};
    size_t total = 0;

    rb->j = b;
    json_t *ix = json_object_get(b, "index");
    rb->index = json_is_integer(ix) ? json_integer_value(ix) : (long long)array_index;
    rb->reference = jsonget_str(b, "reference");
    for (int k = 0; k < 3; k++)
        total += json_array_size(json_object_get(b, kinds[k]));
    rb->r = xcalloc(total + 1, sizeof(*rb->r));
    for (int k = 0; k < 3; k++) {
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(b, kinds[k]), i, a) {
            if (rcpt_from_json(a, kinds[k], rb->reference, &rb->r[rb->nr]) < 0)
                return -1;
            if (!rb->r[rb->nr].dropped && !rcpt_addr_ok(rb->r[rb->nr].addr))
                return -1;
            rb->nr++;
            if (k == 0)
                rb->nto++;
            else if (k == 1)
                rb->ncc++;
        }
    }
    return 0;
}

static void block_free(struct rblock *rb)
{
    xfree(rb->r);
    buf_free(&rb->pre);
    buf_free(&rb->mid);
    buf_free(&rb->lu);
    buf_free(&rb->post);
    buf_free(&rb->entity);
    buf_free(&rb->html_buf);
    buf_free(&rb->plain_buf);
    buf_free(&rb->subj_buf);
    buf_free(&rb->plain_ent);
    buf_free(&rb->html_ent);
}

/* mailbox_list - To:/Cc: of the block: every address of the kind but the invalid ones */
static int mailbox_list(struct rblock *rb, struct buf *out, const char *name, const char *kind,
                        char *err, size_t errsz)
{
    struct header_mailbox *mb = xcalloc(rb->nr + 1, sizeof(*mb));
    size_t n = 0;
    int rc = 0;

    for (size_t i = 0; i < rb->nr; i++) {
        const struct render_rcpt *r = &rb->r[i];
        if (strcmp(r->kind, kind) != 0 || r->invalid || !rcpt_addr_ok(r->addr))
            continue;
        mb[n].display = r->display;
        mb[n].addr = r->addr;
        rb->hdr_utf8 |= has_8bit(r->addr);
        n++;
    }
    if (n > 0)
        rc = header_mailboxes(out, name, mb, n, err, errsz);
    xfree(mb);
    return rc;
}

/* unsub_parse - the request's List-Unsubscribe entries (contract §8.5) */
static void unsub_parse(struct rblock *rb, const char *v)
{
    size_t o = 0;

    while (v && *v && rb->nunsub < UNSUB_MAX) {
        const char *comma = strchr(v, ','), *end = comma ? comma : v + strlen(v);
        const char *s = v;
        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        const char *e = end;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        size_t len = (size_t)(e - s);
        if (len >= 2 && s[0] == '<' && e[-1] == '>')
            s++, len -= 2;
        int ok = len > 0 && len < 900, url = 0, mail = 0, https = 0;
        for (size_t i = 0; i < len && ok; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"')
                ok = 0;
        }
        if (ok) {
            if (len > 8 && strncasecmp(s, "https://", 8) == 0)
                url = https = 1;
            else if (len > 7 && strncasecmp(s, "http://", 7) == 0)
                url = 1;
            else if (len > 7 && strncasecmp(s, "mailto:", 7) == 0)
                url = 1;
            else {
                char tmp[1000];
                snprintf(tmp, sizeof(tmp), "%.*s", (int)len, s);
                mail = rcpt_addr_ok(tmp);
            }
        }
        if ((url || mail) && o + len + 8 < sizeof(rb->unsub_store)) {
            char *dst = rb->unsub_store + o;
            int n = snprintf(dst, sizeof(rb->unsub_store) - o, "%s%.*s", mail ? "mailto:" : "", (int)len, s);
            rb->unsub[rb->nunsub++] = dst;
            rb->unsub_https |= https;
            o += (size_t)n + 1;
        }
        v = comma ? comma + 1 : end;
    }
}

/* list_unsubscribe - the field(s) from the request's URIs plus txmail's own URL (or none) */
static int list_unsubscribe(struct rblock *rb, struct buf *out, const char *own)
{
    struct header_w w;
    size_t n = rb->nunsub + (own && *own ? 1 : 0);

    if (n == 0)
        return 0;
    header_begin(&w, out, "List-Unsubscribe");
    for (size_t i = 0; i < n; i++) {
        const char *u = i < rb->nunsub ? rb->unsub[i] : own;
        char tok[1000];
        int len = snprintf(tok, sizeof(tok), "<%s>%s", u, i + 1 < n ? "," : "");
        header_put(&w, " ", 1, tok, (size_t)len);
    }
    if (header_end(&w) < 0)
        return -1;
    if (own && *own && buf_puts(out, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") < 0)
        return -1;
    return 0;
}

static const char *const reserved[] = {
    "From", "Sender", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-ID", "In-Reply-To",
    "MIME-Version", "Return-Path", "Received", "DKIM-Signature", "List-Unsubscribe",
    "List-Unsubscribe-Post", "X-Priority", "Importance", NULL,
};

/* xheader_name_ok - RFC 5322 field name, not one txmail writes (contract §8.7) */
static int xheader_name_ok(const char *n)
{
    size_t len = strlen(n);

    if (len == 0 || len > 76 || strncasecmp(n, "Content-", 8) == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)n[i] < 33 || (unsigned char)n[i] > 126 || n[i] == ':')
            return 0;
    for (int i = 0; reserved[i]; i++)
        if (strcasecmp(n, reserved[i]) == 0)
            return 0;
    return 1;
}

/* text_of - a part's text for this block: rendered when it is a template */
static int text_of(struct rjob *rj, struct rblock *rb, const struct part *p, enum render_part which,
                   struct buf *store, const char **text, size_t *len, char *err, size_t errsz)
{
    if (!p->templ) {
        *text = p->text;
        *len = p->len;
        return 0;
    }
    buf_init(store, (size_t)rj->limit);
    if (hook_template_part(rj->run, which, p->text, p->len, json_object_get(rb->j, "personalization"),
                           store, err, errsz) < 0)
        return -1;
    *text = buf_ptr(store);
    *len = store->len;
    return 0;
}

/* block_headers - the header fields every copy of the block shares */
static int block_headers(struct rjob *rj, struct rblock *rb, const char *subject, size_t slen,
                         char *err, size_t errsz)
{
    struct render_run *run = rj->run;
    json_t *b = rb->j;
    char date[40];
    struct header_mailbox from = {jsonget_str(rj->from_hdr, "display"), jsonget_str(rj->from_hdr, "addr")};

    buf_init(&rb->pre, 1 << 20);
    buf_init(&rb->mid, 1 << 16);
    buf_init(&rb->lu, 1 << 16);
    buf_init(&rb->post, 1 << 20);
    rb->hdr_utf8 = has_8bit(from.addr);
    if (header_mailboxes(&rb->pre, "From", &from, 1, err, errsz) < 0 ||
        mailbox_list(rb, &rb->pre, "To", "to", err, errsz) < 0 ||
        mailbox_list(rb, &rb->pre, "Cc", "cc", err, errsz) < 0)
        return -1;
    json_t *rt = json_object_get(b, "replyTo");
    if (!json_is_object(rt))
        rt = json_object_get(json_object_get(rj->data, "mail"), "replyTo");
    if (json_is_object(rt) && rcpt_addr_ok(jsonget_str(rt, "addr"))) {
        struct header_mailbox m = {jsonget_str(rt, "display"), jsonget_str(rt, "addr")};
        rb->hdr_utf8 |= has_8bit(m.addr);
        if (header_mailboxes(&rb->pre, "Reply-To", &m, 1, err, errsz) < 0)
            return -1;
    }
    const char *cte = rj->subject.cte;
    int force = cte && strcasecmp(cte, "base64") == 0 ? 'B'
                : cte && strcasecmp(cte, "quoted-printable") == 0 ? 'Q' : 0;
    if (header_unstructured(&rb->pre, "Subject", subject, slen, rj->subject.charset, force, err,
                            errsz) < 0) {
        char tmp[200];
        snprintf(tmp, sizeof(tmp), "Subject: %.180s", err);
        snprintf(err, errsz, "%s", tmp);
        return -1;
    }
    buf_printf(&rb->pre, "Date: %s\r\n", header_date(date, sizeof(date), run->job->env.created_ms));

    /* after Message-ID */
    const char *irt = jsonget_str(b, "inReplyTo");
    if (irt == NULL)
        irt = jsonget_str(json_object_get(rj->data, "mail"), "inReplyTo");
    if (irt && *irt) {
        struct header_w w;
        size_t len = strlen(irt);
        while (len && (irt[0] == ' ' || irt[0] == '\t'))
            irt++, len--;
        while (len && (irt[len - 1] == ' ' || irt[len - 1] == '\t'))
            len--;
        if (len > 0) {
            char *v = xasprintf("%s%.*s%s", irt[0] == '<' ? "" : "<", (int)len, irt,
                                irt[len - 1] == '>' ? "" : ">");
            for (char *p = v; *p; p++)
                if (*p == '\r' || *p == '\n')
                    *p = ' ';
            header_begin(&w, &rb->mid, "In-Reply-To");
            for (char *p = v; *p;) { /* fold only at its own white space */
                char *ws = p, *wd;
                while (*p == ' ' || *p == '\t')
                    p++;
                wd = p;
                while (*p && *p != ' ' && *p != '\t')
                    p++;
                if (ws == v)
                    header_put(&w, " ", 1, wd, (size_t)(p - wd));
                else
                    header_put(&w, ws, (size_t)(wd - ws), wd, (size_t)(p - wd));
            }
            xfree(v);
            if (header_end(&w) < 0) {
                snprintf(err, errsz, "In-Reply-To does not fit in a header line");
                return -1;
            }
        }
    }
    buf_puts(&rb->mid, "MIME-Version: 1.0\r\n");
    const char *prio = jsonget_str(b, "priority");
    if (prio == NULL)
        prio = jsonget_str(json_object_get(rj->data, "mail"), "priority");
    if (prio && strcasecmp(prio, "HIGH") == 0)
        buf_puts(&rb->mid, "X-Priority: 1\r\nImportance: high\r\n");
    else if (prio && strcasecmp(prio, "NORMAL") == 0)
        buf_puts(&rb->mid, "X-Priority: 3\r\nImportance: normal\r\n");
    else if (prio && strcasecmp(prio, "LOW") == 0)
        buf_puts(&rb->mid, "X-Priority: 5\r\nImportance: low\r\n");

    const char *lu = json_object_get(b, "listUnsubscribe") ? jsonget_str(b, "listUnsubscribe")
                                                            : jsonget_str(json_object_get(rj->data, "mail"), "listUnsubscribe");
    unsub_parse(rb, lu);
    if (list_unsubscribe(rb, &rb->lu, NULL) < 0) {
        snprintf(err, errsz, "List-Unsubscribe does not fit");
        return -1;
    }

    json_t *xh = json_object_get(b, "xHeaders");
    if (!json_is_object(xh))
        xh = json_object_get(json_object_get(rj->data, "mail"), "xHeaders");
    const char *name;
    json_t *v;
    json_object_foreach(xh, name, v) {
        if (!json_is_string(v) || !xheader_name_ok(name)) {
            msg_warn("%s: xHeader \"%.80s\" skipped: not a usable field name or value",
                     job_id_for_log(run->job), name);
            continue;
        }
        if (header_unstructured(&rb->post, name, json_string_value(v), json_string_length(v), NULL,
                                0, err, errsz) < 0) {
            char tmp[200];
            snprintf(tmp, sizeof(tmp), "%.80s: %.100s", name, err);
            snprintf(err, errsz, "%s", tmp);
            return -1;
        }
    }
    /* pre always holds From: and mid MIME-Version: (post may be empty) */
    if (rb->pre.data == NULL || rb->mid.data == NULL) {
        snprintf(err, errsz, "header fields too large");
        return -1;
    }
    return 0;
}

/* block_body - the top entity of the block (html: this copy's HTML, or the block's) */
static int block_body(struct rjob *rj, struct rblock *rb, const struct buf *html_ent, struct buf *out,
                      size_t *body_off, char *err, size_t errsz)
{
    const struct buf *plain = rj->any_template ? (rb->plain_ent.len ? &rb->plain_ent : NULL)
                                               : (rj->have_plain ? &rj->plain_ent : NULL);
    char seed[120];

    snprintf(seed, sizeof(seed), "%s/%lld", rj->run->job->env.job_id, rb->index);
    struct mime_spec spec = {plain, html_ent, rj->inl, html_ent ? rj->ninl : 0, rj->att, rj->natt, seed};
    buf_init(out, (size_t)rj->limit);
    return mime_build(out, &spec, body_off, err, errsz);
}

/*
 * block_entity - the block's top entity (html: the job's HTML, built now
 * if it was left for later), its Content-* fields added to post. Once.
 */
static int block_entity(struct rjob *rj, struct rblock *rb, char *err, size_t errsz)
{
    if (rb->have_entity)
        return 0;
    if (rj->html_later) {
        struct mime_text t = {rj->body.text, rj->body.len, rj->body.charset, rj->body.cte, "html"};
        if (mime_text_entity(&rj->html_ent, &t, err, errsz) < 0)
            return -1;
        rj->html_later = 0;
    }
    const struct buf *html_ent = rj->any_template ? (rb->html ? &rb->html_ent : NULL)
                                                  : (rj->have_html ? &rj->html_ent : NULL);
    if (block_body(rj, rb, html_ent, &rb->entity, &rb->body_off, err, errsz) < 0)
        return -1;
    /* the entity's Content-* fields close the header */
    if (buf_append(&rb->post, rb->entity.data, rb->body_off - 2) < 0) {
        snprintf(err, errsz, "header fields too large");
        return -1;
    }
    rb->have_entity = 1;
    return 0;
}

/*
 * block_cannot_fail - 1 when block_entity() with the job's HTML left for
 * later surely fits: within the size limit, and its Content-* fields
 * within post's maximum. Then it can wait for a copy that needs it.
 */
static int block_cannot_fail(const struct rjob *rj, const struct rblock *rb)
{
    struct mime_text t = {rj->body.text, rj->body.len, rj->body.charset, rj->body.cte, "html"};
    size_t max = mime_text_max(&t), n = rj->ninl + rj->natt;

    if (max == SIZE_MAX || rb->post.len + 512 > rb->post.max)
        return 0;
    /* the parts, plus containers: fields, boundary lines (well within 128 each) */
    max += rj->have_plain ? rj->plain_ent.len : 0;
    for (size_t i = 0; i < n; i++) {
        const struct buf *e = i < rj->ninl ? rj->inl[i] : rj->att[i - rj->ninl];
        max += e->len + 128;
    }
    max += 1024;
    return max <= (size_t)rj->limit;
}

/* block_build - headers, texts and body of a block; -1 with err */
static int block_build(struct rjob *rj, struct rblock *rb, char *err, size_t errsz)
{
    const char *subject, *t;
    size_t slen, tl;

    if (text_of(rj, rb, &rj->subject, PART_SUBJECT, &rb->subj_buf, &subject, &slen, err, errsz) < 0)
        return -1;
    if (rj->any_template) {
        /* texts differ per block: their entities too */
        const struct part *plain = rj->body.present && !rj->body.html ? &rj->body
                                   : rj->alt.present                  ? &rj->alt
                                                                      : NULL;
        buf_init(&rb->plain_ent, (size_t)rj->limit);
        buf_init(&rb->html_ent, (size_t)rj->limit);
        if (plain) {
            if (text_of(rj, rb, plain, plain == &rj->body ? PART_BODY : PART_ALTERNATIVE,
                        &rb->plain_buf, &t, &tl, err, errsz) < 0)
                return -1;
            struct mime_text mt = {t, tl, plain->charset, plain->cte, "plain"};
            if (mime_text_entity(&rb->plain_ent, &mt, err, errsz) < 0)
                return -1;
        }
        if (rj->body.present && rj->body.html) {
            if (text_of(rj, rb, &rj->body, PART_BODY, &rb->html_buf, &t, &tl, err, errsz) < 0)
                return -1;
            struct mime_text mt = {t, tl, rj->body.charset, rj->body.cte, "html"};
            if (mime_text_entity(&rb->html_ent, &mt, err, errsz) < 0)
                return -1;
            rb->html = t;
            rb->html_len = tl;
        }
    } else if (rj->have_html) {
        rb->html = rj->body.text;
        rb->html_len = rj->body.len;
    }
    if (block_headers(rj, rb, subject, slen, err, errsz) < 0)
        return -1;
    rb->post_x = rb->post.len;
    if (rj->html_later && block_cannot_fail(rj, rb))
        return 0; /* built by the first copy that sends it */
    return block_entity(rj, rb, err, errsz);
}

/*
 * copy_one - build, sign and queue the copy for r. 0 done (or dropped by
 * DKIM policy), -1 the block must fail with err (size).
 */
static int copy_one(struct rjob *rj, struct rblock *rb, const struct render_rcpt *r, char *err,
                    size_t errsz)
{
    struct render_run *run = rj->run;
    struct buf hdr = BUF_INIT((size_t)rj->limit), msg = BUF_INIT((size_t)rj->limit + 65536);
    struct buf tracked = BUF_INIT((size_t)rj->limit), tent = BUF_INIT((size_t)rj->limit);
    struct buf tbody = BUF_INIT((size_t)rj->limit), lu = BUF_INIT(1 << 16);
    const char *body = NULL, *how = "none";
    size_t bodylen = 0;
    const unsigned char *bh = NULL;
    unsigned char tbh[32];
    char msgid[340], own[1100];
    const struct buf *post = &rb->post;
    struct buf tpost = BUF_INIT(1 << 20);
    int rc = -1;

    snprintf(msgid, sizeof(msgid), "<%s@%s>", r->rid, run->msgid_domain);

    /* tracking: this copy's HTML, then its own body */
    if (rb->html && (jsonget_bool(rb->j, "openTracking") || jsonget_bool(rb->j, "linkTracking"))) {
        int t = hook_track_html(run, r, rb->j, jsonget_bool(rb->j, "openTracking"), jsonget_bool(rb->j, "linkTracking"),
                                rb->html, rb->html_len, rb->unsub, rb->nunsub, &tracked, err, errsz);
        if (t < 0)
            goto out;
        if (t > 0) {
            struct mime_text mt = {buf_ptr(&tracked), tracked.len, rj->body.charset, rj->body.cte, "html"};
            size_t off;
            if (mime_text_entity(&tent, &mt, err, errsz) < 0 ||
                block_body(rj, rb, &tent, &tbody, &off, err, errsz) < 0)
                goto out;
            body = tbody.data + off;
            bodylen = tbody.len - off;
            dkim_body_hash(tbh, body, bodylen);
            bh = tbh;
            /* the xHeaders, then this copy's own Content-* fields (its transfer
             * encoding may differ from the block's) */
            buf_append(&tpost, rb->post.data, rb->post_x);
            buf_append(&tpost, tbody.data, off - 2);
            post = &tpost;
        }
    }
    if (bh == NULL) {
        /* the block's body: built and hashed when the first copy sends it
         * (with tracking, every copy may have its own) */
        if (block_entity(rj, rb, err, errsz) < 0)
            goto out;
        body = rb->entity.data + rb->body_off;
        bodylen = rb->entity.len - rb->body_off;
        if (!rb->have_bh)
            dkim_body_hash(rb->bh, body, bodylen);
        rb->have_bh = 1;
        bh = rb->bh;
    }
    /* one-click unsubscribe: this copy's own URL (unless the request has an https one) */
    const struct buf *lup = &rb->lu;
    if (!rb->unsub_https && hook_unsubscribe_url(run, r, own, sizeof(own)) > 0) {
        if (list_unsubscribe(rb, &lu, own) < 0) {
            snprintf(err, errsz, "List-Unsubscribe does not fit");
            goto out;
        }
        lup = &lu;
    }
    buf_append(&hdr, rb->pre.data, rb->pre.len);
    buf_printf(&hdr, "Message-ID: %s\r\n", msgid);
    buf_append(&hdr, rb->mid.data, rb->mid.len);
    if (lup->len)
        buf_append(&hdr, lup->data, lup->len);
    buf_append(&hdr, post->data, post->len);
    if (buf_error(&hdr) || (long long)(hdr.len + 2 + bodylen) > rj->limit) {
        snprintf(err, errsz, "%s exceeds %lld bytes", rj->any_template ? "Rendered message" : "message",
                 rj->limit);
        goto out;
    }
    int s = sign_copy(run, &msg, hdr.data, hdr.len, body, bodylen, bh, &how, err, errsz);
    if (s < 0)
        goto out;
    if (s > 0) {
        emit_dkim_drop(run, r, msgid);
        rc = 0;
        goto out;
    }
    if (buf_error(&msg) || (long long)msg.len > rj->limit) {
        snprintf(err, errsz, "%s exceeds %lld bytes", rj->any_template ? "Rendered message" : "message",
                 rj->limit);
        goto out;
    }
    size_t len = msg.len;
    char *raw = buf_steal(&msg, NULL);
    int utf8 = r->utf8 || run->from_utf8 || rb->hdr_utf8 || has_8bit(r->addr);
    emit_message(run, r, raw, len, msgid, utf8, rb->hdr_utf8, how);
    rc = 0;
out:
    buf_free(&hdr);
    buf_free(&msg);
    buf_free(&tracked);
    buf_free(&tent);
    buf_free(&tbody);
    buf_free(&lu);
    buf_free(&tpost);
    return rc;
}

/* fail_block - PROCESSING_FAILED for the block's undropped addresses from copy first on */
static void fail_block(struct render_run *run, struct rblock *rb, long long first, const char *why)
{
    long long k = 0;

    for (size_t i = 0; i < rb->nr; i++) {
        if (rb->r[i].dropped)
            continue;
        if (k++ >= first)
            emit_failed(run, &rb->r[i], why);
    }
}

enum tx_code render_rest(struct render_run *run)
{
    struct rjob rj;
    json_t *blocks = json_object_get(run->data, "blocks"), *b;
    char err[300];
    size_t bi;
    enum tx_code rc = TX_OK;

    memset(&rj, 0, sizeof(rj));
    rj.run = run;
    rj.data = run->data;
    if (!json_is_array(blocks)) {
        job_reason(run->job, "malformed job: no blocks");
        return TX_REJECT_MALFORMED;
    }
    prepare(&rj);
    json_array_foreach(blocks, bi, b) {
        struct rblock rb;
        long long first = (long long)bi == run->cur_block ? run->cur_copy : 0;

        if ((long long)bi < run->cur_block)
            continue;
        memset(&rb, 0, sizeof(rb));
        if (block_parse(b, bi, &rb) < 0) {
            /* one address element is broken: the block cannot be addressed */
            fail_block(run, &rb, first, "malformed job data: a recipient of the block is unusable");
            block_free(&rb);
            continue;
        }
        size_t live = 0;
        for (size_t i = 0; i < rb.nr; i++)
            live += !rb.r[i].dropped;
        if (live == 0 || first >= (long long)live) {
            block_free(&rb);
            continue;
        }
        if (rj.job_error[0]) {
            fail_block(run, &rb, first, rj.job_error);
            block_free(&rb);
            continue;
        }
        if (block_build(&rj, &rb, err, sizeof(err)) < 0) {
            size_error(err, sizeof(err), &rj);
            fail_block(run, &rb, first, err);
            block_free(&rb);
            continue;
        }
        long long k = 0;
        for (size_t i = 0; i < rb.nr; i++) {
            if (rb.r[i].dropped)
                continue;
            if (k < first) {
                k++;
                continue;
            }
            if (emit_round_full(run)) {
                emit_continue(run, (long long)bi, k);
                block_free(&rb);
                goto done;
            }
            if (copy_one(&rj, &rb, &rb.r[i], err, sizeof(err)) < 0) {
                size_error(err, sizeof(err), &rj);
                fail_block(run, &rb, k, err);
                break;
            }
            k++;
        }
        block_free(&rb);
    }
done:
    rjob_free(&rj);
    if (run->copies == 0 && run->failed > 0) {
        job_reason(run->job, "no message could be rendered (%d addresses failed)", run->failed);
        rc = TX_REJECT_INPUT;
    } else if (run->failed > 0)
        job_reason(run->job, "%d copies rendered, %d addresses failed", run->copies, run->failed);
    return rc;
}
