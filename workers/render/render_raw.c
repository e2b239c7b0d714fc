/*
 * render_raw - SMTP jobs (contract §17.4): the submitted message is
 * delivered as it is (txmail-smtpd already removed X-RETARUS-M4A-* and
 * Bcc: and added Received:), except:
 *
 *   - Date: is added when missing (the job's acceptance time);
 *   - Message-ID: is added when missing, per copy <rid@message-id domain>;
 *     a submitted Message-ID is kept and reported as content.mime.messageId;
 *   - txmail's one-click List-Unsubscribe when the account enables it and
 *     the message has none (render_hooks.h);
 *   - DKIM-Signature: last.
 *
 * Added fields go at the end of the header, after the submitted ones;
 * nothing else of the content changes (byte for byte). The body hash is
 * computed once; when every copy has the same header (a submitted
 * Message-ID, no per-copy URL) the message is signed once for all copies.
 */
#include "workers/render/render.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "workers/render/render_header.h"
#include "workers/render/render_hooks.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct rawmsg {
    const char *hdr; /* header fields, each with its CRLF */
    size_t hdrlen;
    const char *body;
    size_t bodylen;
    int has_msgid, has_date, has_unsub;
    char msgid[1000]; /* the submitted value, unfolded */
};

static int field_is(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);

    if (len <= n || strncasecmp(line, name, n) != 0)
        return 0;
    for (size_t i = n; i < len; i++) {
        if (line[i] == ':')
            return 1;
        if (line[i] != ' ' && line[i] != '\t')
            return 0;
    }
    return 0;
}

/* split - header and body of the submitted message; notes the fields render may add */
static void split(const char *raw, size_t len, struct rawmsg *m)
{
    size_t pos = 0;

    memset(m, 0, sizeof(*m));
    m->hdr = raw;
    while (pos < len) {
        const char *nl = memchr(raw + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - raw) + 1 : len;
        size_t ll = end - pos;
        const char *line = raw + pos;
        if ((ll == 2 && line[0] == '\r') || (ll == 1 && line[0] == '\n')) {
            m->hdrlen = pos;
            m->body = raw + end;
            m->bodylen = len - end;
            return;
        }
        if (field_is(line, ll, "Message-ID")) {
            /* the value, unfolded, with its continuation lines */
            size_t vend = end, o = 0;
            while (vend < len && (raw[vend] == ' ' || raw[vend] == '\t')) {
                const char *n2 = memchr(raw + vend, '\n', len - vend);
                vend = n2 ? (size_t)(n2 - raw) + 1 : len;
            }
            const char *v = memchr(line, ':', ll) + 1;
            for (; v < raw + vend && o + 1 < sizeof(m->msgid); v++) {
                if (*v == '\r' || *v == '\n')
                    continue;
                if ((*v == ' ' || *v == '\t') && (o == 0 || m->msgid[o - 1] == ' '))
                    continue;
                m->msgid[o++] = *v == '\t' ? ' ' : *v;
            }
            while (o > 0 && m->msgid[o - 1] == ' ')
                o--;
            m->msgid[o] = 0;
            m->has_msgid = 1;
        } else if (field_is(line, ll, "Date"))
            m->has_date = 1;
        else if (field_is(line, ll, "List-Unsubscribe"))
            m->has_unsub = 1;
        pos = end;
    }
    /* no empty line: the whole message is header */
    m->hdrlen = len;
    m->body = raw + len;
    m->bodylen = 0;
}

/* the state of one SMTP job: its message split once, the copy recipients may share */
struct rawjob {
    struct rawmsg m;
    struct buf hdr, shared;
    unsigned char bh[32];
    char err[300], date[48];
    const char *shared_how;
    int shared_state; /* 0 not built, 1 built, 2 dropped by DKIM policy, -1 failed */
    int eightbit, smtputf8;
};

/*
 * usable_rcpt - the recipient a into r: 1 to send, 0 to skip (dropped, or
 * malformed: failed when it has a rid), -1 failed as unusable (it counts
 * as a copy for the cursor)
 */
static int usable_rcpt(struct render_run *run, json_t *a, struct render_rcpt *r)
{
    if (render_rcpt_from_json(a, "to", NULL, r) < 0) {
        json_t *rid = json_object_get(a, "rid");
        if (json_is_string(rid)) {
            r->rid = json_string_value(rid);
            r->addr = NULL;
            r->email = jsonget_str(a, "email");
            render_emit_failed(run, r, "malformed job data: the recipient is unusable");
        }
        return 0;
    }
    if (r->dropped)
        return 0;
    if (!render_rcpt_addr_ok(r->addr)) {
        render_emit_failed(run, r, "malformed job data: the recipient address is unusable");
        return -1;
    }
    return 1;
}

/* send_shared - the one signed message every such copy shares, built once */
static void send_shared(struct render_run *run, struct rawjob *rj, const struct render_rcpt *r,
                        const char *msgid)
{
    if (rj->shared_state == 0) {
        buf_append(&rj->hdr, rj->m.hdr, rj->m.hdrlen);
        if (!rj->m.has_date)
            buf_printf(&rj->hdr, "Date: %s\r\n", rj->date);
        int s = rj->hdr.data ? render_sender_sign_copy(run, &rj->shared, rj->hdr.data, rj->hdr.len,
                                                       rj->m.body, rj->m.bodylen, rj->bh,
                                                       &rj->shared_how, rj->err, sizeof(rj->err))
                             : -1;
        if (s == 0 &&
            (buf_error(&rj->shared) || (long long)rj->shared.len > render_p.max_message)) {
            snprintf(rj->err, sizeof(rj->err), "message exceeds %lld bytes", render_p.max_message);
            s = -1;
        }
        rj->shared_state = s < 0 ? -1 : s > 0 ? 2 : 1;
    }
    if (rj->shared_state < 0)
        render_emit_failed(run, r, rj->err);
    else if (rj->shared_state == 2)
        render_emit_dkim_drop(run, r, msgid);
    else
        render_emit_message(run, r, xmemdup(rj->shared.data, rj->shared.len + 1), rj->shared.len,
                            msgid, rj->smtputf8 || r->utf8, rj->eightbit, rj->shared_how);
}

/* send_own - a copy of its own: its Message-ID and/or one-click URL (own) added */
static void send_own(struct render_run *run, struct rawjob *rj, const struct render_rcpt *r,
                     const char *msgid, const char *own)
{
    struct buf msg = BUF_INIT((size_t)render_p.max_message + 65536);
    const char *how = "none";

    buf_reset(&rj->hdr);
    buf_append(&rj->hdr, rj->m.hdr, rj->m.hdrlen);
    if (!rj->m.has_date)
        buf_printf(&rj->hdr, "Date: %s\r\n", rj->date);
    if (!rj->m.has_msgid)
        buf_printf(&rj->hdr, "Message-ID: %s\r\n", msgid);
    if (own[0])
        buf_printf(
            &rj->hdr,
            "List-Unsubscribe: <%s>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", own);
    int s = rj->hdr.data
                ? render_sender_sign_copy(run, &msg, rj->hdr.data, rj->hdr.len, rj->m.body,
                                          rj->m.bodylen, rj->bh, &how, rj->err, sizeof(rj->err))
                : -1;
    if (s == 0 && (buf_error(&msg) || (long long)msg.len > render_p.max_message)) {
        snprintf(rj->err, sizeof(rj->err), "message exceeds %lld bytes", render_p.max_message);
        s = -1;
    }
    if (s < 0)
        render_emit_failed(run, r, rj->hdr.data ? rj->err : "message too large");
    else if (s > 0)
        render_emit_dkim_drop(run, r, msgid);
    else {
        size_t len = msg.len;
        render_emit_message(run, r, buf_steal(&msg, NULL), len, msgid, rj->smtputf8 || r->utf8,
                            rj->eightbit, how);
    }
    buf_free(&msg);
    if (rj->hdr.data == NULL)
        buf_init(&rj->hdr, (size_t)render_p.max_message + 65536);
}

enum tx_code render_raw_smtp(struct render_run *run)
{
    struct job *job = run->job;
    json_t *rcpts = json_object_get(run->data, "recipients"), *a;
    struct rawjob rj;
    char own[1100], msgid[1100];
    size_t i;
    long long k = 0;

    if (!json_is_array(rcpts)) {
        worker_job_reason(job, "malformed job: no recipients");
        return TX_REJECT_MALFORMED;
    }
    if ((long long)job->env.raw_len > render_p.max_message) {
        char err[300];
        snprintf(err, sizeof(err), "message exceeds %lld bytes", render_p.max_message);
        render_rcpt_fail_remaining(run, err);
        worker_job_reason(job, "%s", err);
        return TX_REJECT_INPUT;
    }
    memset(&rj, 0, sizeof(rj));
    buf_init(&rj.hdr, (size_t)render_p.max_message + 65536);
    buf_init(&rj.shared, (size_t)render_p.max_message + 65536);
    rj.shared_how = "none";
    rj.eightbit = jsonget_bool(run->data, "eightbit");
    rj.smtputf8 = jsonget_bool(run->data, "smtputf8");
    split(job->env.raw ? job->env.raw : "", job->env.raw_len, &rj.m);
    dkim_body_hash(rj.bh, rj.m.body, rj.m.bodylen);
    render_header_date(rj.date, sizeof(rj.date), job->env.created_ms);

    json_array_foreach (rcpts, i, a) {
        struct render_rcpt r;
        int u = usable_rcpt(run, a, &r);
        if (u <= 0) {
            k += u < 0;
            continue;
        }
        if (k < run->cur_copy) {
            k++;
            continue;
        }
        if (render_round_full(run)) {
            render_round_continue(run, 0, k);
            break;
        }
        k++;
        int per_copy = !rj.m.has_msgid;
        own[0] = 0;
        if (!rj.m.has_unsub && render_track_unsubscribe_url(run, &r, own, sizeof(own)) > 0)
            per_copy = 1;
        if (rj.m.has_msgid)
            snprintf(msgid, sizeof(msgid), "%s", rj.m.msgid);
        else
            snprintf(msgid, sizeof(msgid), "<%s@%s>", r.rid, run->msgid_domain);
        if (per_copy)
            send_own(run, &rj, &r, msgid, own);
        else
            send_shared(run, &rj, &r, msgid);
    }
    buf_free(&rj.hdr);
    buf_free(&rj.shared);
    if (run->copies == 0 && run->failed > 0) {
        worker_job_reason(job, "no message could be rendered (%d addresses failed)", run->failed);
        return TX_REJECT_INPUT;
    }
    if (run->failed > 0)
        worker_job_reason(job, "%d copies rendered, %d addresses failed", run->copies, run->failed);
    return TX_OK;
}
