/*
 * render_fields - the header fields of a block of a REST job
 * (render_job.h), written once per block and shared by its copies: those
 * before the Message-ID (From: to Date:), after it (In-Reply-To:,
 * MIME-Version:, priority), the request's List-Unsubscribe (a copy may
 * replace it with one that adds its own one-click URL) and the xHeaders.
 */
#include "workers/render/render_job.h"
#include "global/xheader.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "workers/render/render_header.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* mailbox_list - To:/Cc: of the block: every address of the kind but the invalid ones */
static int mailbox_list(struct rblock *rb, struct buf *out, const char *name, const char *kind,
                        char *err, size_t errsz)
{
    struct header_mailbox *mb = xcalloc(rb->nr + 1, sizeof(*mb));
    size_t n = 0;
    int rc = 0;

    for (size_t i = 0; i < rb->nr; i++) {
        const struct render_rcpt *r = &rb->r[i];
        if (strcmp(r->kind, kind) != 0 || r->invalid || !render_rcpt_addr_ok(r->addr))
            continue;
        mb[n].display = r->display;
        mb[n].addr = r->addr;
        rb->hdr_utf8 |= has_8bit(r->addr);
        n++;
    }
    if (n > 0)
        rc = render_header_mailboxes(out, name, mb, n, err, errsz);
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
                mail = render_rcpt_addr_ok(tmp);
            }
        }
        if ((url || mail) && o + len + 8 < sizeof(rb->unsub_store)) {
            char *dst = rb->unsub_store + o;
            int n = snprintf(dst, sizeof(rb->unsub_store) - o, "%s%.*s", mail ? "mailto:" : "",
                             (int)len, s);
            rb->unsub[rb->nunsub++] = dst;
            rb->unsub_https |= https;
            o += (size_t)n + 1;
        }
        v = comma ? comma + 1 : end;
    }
}

/* render_fields_list_unsubscribe - the field(s) from the request's URIs plus txmail's own URL (or none) */
int render_fields_list_unsubscribe(struct rblock *rb, struct buf *out, const char *own)
{
    struct header_w w;
    size_t n = rb->nunsub + (own && *own ? 1 : 0);

    if (n == 0)
        return 0;
    render_header_begin(&w, out, "List-Unsubscribe");
    for (size_t i = 0; i < n; i++) {
        const char *u = i < rb->nunsub ? rb->unsub[i] : own;
        char tok[1000];
        int len = snprintf(tok, sizeof(tok), "<%s>%s", u, i + 1 < n ? "," : "");
        render_header_put(&w, " ", 1, tok, (size_t)len);
    }
    if (render_header_end(&w) < 0)
        return -1;
    if (own && *own && buf_puts(out, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") < 0)
        return -1;
    return 0;
}

/* xheader_name_ok - RFC 5322 field name, not one txmail writes (contract §8.7) */
static int xheader_name_ok(const char *n)
{
    size_t len = strlen(n);

    return xheader_name_valid(n, len) && !xheader_reserved(n, len);
}

/* originator_fields - From:, To:, Cc:, Reply-To:, Subject: and Date: into rb->pre */
static int originator_fields(struct rjob *rj, struct rblock *rb, const char *subject, size_t slen,
                             char *err, size_t errsz)
{
    json_t *b = rb->j;
    char date[40];
    struct header_mailbox from = {jsonget_str(rj->from_hdr, "display"),
                                  jsonget_str(rj->from_hdr, "addr")};

    rb->hdr_utf8 = has_8bit(from.addr);
    if (render_header_mailboxes(&rb->pre, "From", &from, 1, err, errsz) < 0 ||
        mailbox_list(rb, &rb->pre, "To", "to", err, errsz) < 0 ||
        mailbox_list(rb, &rb->pre, "Cc", "cc", err, errsz) < 0)
        return -1;
    json_t *rt = json_object_get(b, "replyTo");
    if (!json_is_object(rt))
        rt = json_object_get(json_object_get(rj->data, "mail"), "replyTo");
    if (json_is_object(rt) && render_rcpt_addr_ok(jsonget_str(rt, "addr"))) {
        struct header_mailbox m = {jsonget_str(rt, "display"), jsonget_str(rt, "addr")};
        rb->hdr_utf8 |= has_8bit(m.addr);
        if (render_header_mailboxes(&rb->pre, "Reply-To", &m, 1, err, errsz) < 0)
            return -1;
    }
    const char *cte = rj->subject.cte;
    int force = cte && strcasecmp(cte, "base64") == 0             ? 'B'
                : cte && strcasecmp(cte, "quoted-printable") == 0 ? 'Q'
                                                                  : 0;
    if (render_header_unstructured(&rb->pre, "Subject", subject, slen, rj->subject.charset, force,
                                   err, errsz) < 0) {
        char tmp[200];
        snprintf(tmp, sizeof(tmp), "Subject: %.180s", err);
        snprintf(err, errsz, "%s", tmp);
        return -1;
    }
    buf_printf(&rb->pre, "Date: %s\r\n",
               render_header_date(date, sizeof(date), rj->run->job->env.created_ms));
    return 0;
}

/* in_reply_to - In-Reply-To: into rb->mid, folded only at its own white space */
static int in_reply_to(struct rjob *rj, struct rblock *rb, char *err, size_t errsz)
{
    const char *irt = jsonget_str(rb->j, "inReplyTo");

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
            render_header_begin(&w, &rb->mid, "In-Reply-To");
            for (char *p = v; *p;) { /* fold only at its own white space */
                char *ws = p, *wd;
                while (*p == ' ' || *p == '\t')
                    p++;
                wd = p;
                while (*p && *p != ' ' && *p != '\t')
                    p++;
                if (ws == v)
                    render_header_put(&w, " ", 1, wd, (size_t)(p - wd));
                else
                    render_header_put(&w, ws, (size_t)(wd - ws), wd, (size_t)(p - wd));
            }
            xfree(v);
            if (render_header_end(&w) < 0) {
                snprintf(err, errsz, "In-Reply-To does not fit in a header line");
                return -1;
            }
        }
    }
    return 0;
}

/* priority_fields - X-Priority: and Importance: into rb->mid, when the request sets a priority */
static void priority_fields(struct rjob *rj, struct rblock *rb)
{
    const char *prio = jsonget_str(rb->j, "priority");

    if (prio == NULL)
        prio = jsonget_str(json_object_get(rj->data, "mail"), "priority");
    if (prio && strcasecmp(prio, "HIGH") == 0)
        buf_puts(&rb->mid, "X-Priority: 1\r\nImportance: high\r\n");
    else if (prio && strcasecmp(prio, "NORMAL") == 0)
        buf_puts(&rb->mid, "X-Priority: 3\r\nImportance: normal\r\n");
    else if (prio && strcasecmp(prio, "LOW") == 0)
        buf_puts(&rb->mid, "X-Priority: 5\r\nImportance: low\r\n");
}

/* xheaders - the request's xHeaders into rb->post (unusable ones skipped, logged) */
static int xheaders(struct rjob *rj, struct rblock *rb, char *err, size_t errsz)
{
    json_t *xh = json_object_get(rb->j, "xHeaders");
    const char *name;
    json_t *v;

    if (!json_is_object(xh))
        xh = json_object_get(json_object_get(rj->data, "mail"), "xHeaders");
    json_object_foreach (xh, name, v) {
        if (!json_is_string(v) || !xheader_name_ok(name)) {
            msg_warn("%s: xHeader \"%.80s\" skipped: not a usable field name or value",
                     worker_job_log_id(rj->run->job), name);
            continue;
        }
        if (render_header_unstructured(&rb->post, name, json_string_value(v), json_string_length(v),
                                       NULL, 0, err, errsz) < 0) {
            char tmp[200];
            snprintf(tmp, sizeof(tmp), "%.80s: %.100s", name, err);
            snprintf(err, errsz, "%s", tmp);
            return -1;
        }
    }
    return 0;
}

/* render_fields_block - the header fields every copy of the block shares */
int render_fields_block(struct rjob *rj, struct rblock *rb, const char *subject, size_t slen,
                        char *err, size_t errsz)
{
    json_t *b = rb->j;

    buf_init(&rb->pre, 1 << 20);
    buf_init(&rb->mid, 1 << 16);
    buf_init(&rb->lu, 1 << 16);
    buf_init(&rb->post, 1 << 20);
    if (originator_fields(rj, rb, subject, slen, err, errsz) < 0)
        return -1;
    /* after Message-ID */
    if (in_reply_to(rj, rb, err, errsz) < 0)
        return -1;
    buf_puts(&rb->mid, "MIME-Version: 1.0\r\n");
    priority_fields(rj, rb);

    const char *lu = json_object_get(b, "listUnsubscribe")
                         ? jsonget_str(b, "listUnsubscribe")
                         : jsonget_str(json_object_get(rj->data, "mail"), "listUnsubscribe");
    unsub_parse(rb, lu);
    if (render_fields_list_unsubscribe(rb, &rb->lu, NULL) < 0) {
        snprintf(err, errsz, "List-Unsubscribe does not fit");
        return -1;
    }
    if (xheaders(rj, rb, err, errsz) < 0)
        return -1;
    /* pre always holds From: and mid MIME-Version: (post may be empty) */
    if (rb->pre.data == NULL || rb->mid.data == NULL) {
        snprintf(err, errsz, "header fields too large");
        return -1;
    }
    return 0;
}
