/*
 * deliver_session - the SMTP client conversation (RFC 5321, 3207, 2920,
 * 1870, 6152, 6531, 2034).
 *
 * deliver_session_open(): connect, greeting, EHLO (HELO fallback), STARTTLS when
 * offered (opportunistic) or required (tlsEnforced), EHLO again. Every
 * failure here is a host failure: the caller tries the next MX.
 *
 * deliver_session_send(): one transaction. RSET first on a reused connection; MAIL,
 * RCPT (and the archive RCPT) and DATA pipelined when the peer offers
 * PIPELINING (DATA only after the RCPT replies when there is an archive
 * recipient, so the archive never gets a copy the recipient refused); the
 * body streamed from the envelope's buffer through the dot-stuffing writer
 * in 64 KB writes, the terminator in the same write as the last data.
 * Replies are classified at once; the outcome carries the contract's
 * description parts.
 *
 * Every phase has one deadline (deliver_*_timeout), for the request and
 * the whole reply together, however many lines the reply has and however
 * slowly they come (Postfix smtp_per_request_deadline): a tarpit holds a
 * handler thread for at most the phase's time, never a fresh timeout per
 * line.
 */
#include "workers/deliver/deliver.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DATA_CHUNK 65536
#define CMD_MAX 2048

void deliver_session_outcome_reason(struct outcome *o, enum dlv_status st, const char *dsn,
                                    const char *fmt, ...)
{
    va_list ap;

    o->status = st;
    o->code = 0;
    snprintf(o->dsn, sizeof(o->dsn), "%s", dsn);
    o->host[0] = 0;
    va_start(ap, fmt);
    vsnprintf(o->text, sizeof(o->text), fmt, ap);
    va_end(ap);
}

/* set_peer - the peer of c into o (for the log; not the "said" host) */
static void set_peer(struct outcome *o, const struct dconn *c)
{
    snprintf(o->relay, sizeof(o->relay), "%s[%s]:%d", c->host, c->ip, c->port);
    snprintf(o->ip, sizeof(o->ip), "%s", c->ip);
    o->port = c->port;
    snprintf(o->tls, sizeof(o->tls), "%s", c->tls_desc);
}

/* from_reply - the outcome of a reply (class_override: see deliver_reply_dsn) */
static void from_reply(struct outcome *o, const struct dconn *c, const struct smtp_reply *r,
                       int class_override)
{
    o->status = class_override == 4 ? DLV_DEFER : deliver_reply_status(r->code);
    o->code = r->code;
    deliver_reply_dsn(o->dsn, r, class_override);
    snprintf(o->text, sizeof(o->text), "%s", r->text);
    set_peer(o, c);
    snprintf(o->host, sizeof(o->host), "%s[%s]", c->host, c->ip);
    o->host_failure = 0;
}

/* io_failure - no (complete) reply: "[4.4.1] deferred (<what> with host[ip] ...)" */
static void io_failure(struct outcome *o, const struct dconn *c, const char *phase)
{
    set_peer(o, c);
    o->status = DLV_DEFER;
    o->code = 0;
    snprintf(o->dsn, sizeof(o->dsn), "4.4.1");
    snprintf(o->text, sizeof(o->text), "%s with %s[%s] %s", c->err[0] ? c->err : "lost connection",
             c->host, c->ip, phase);
    o->host[0] = 0; /* no "said:" without a reply */
}

/* ehlo_line - one line of an EHLO reply: the extension it announces */
static void ehlo_line(struct dconn *c, const char *line, size_t len)
{
    const char *kw = line + 4;
    size_t n;

    if (len < 5 || line[0] != '2' || (line[3] != '-' && line[3] != ' '))
        return;
    n = strcspn(kw, " =");
    if (n == 10 && strncasecmp(kw, "PIPELINING", 10) == 0)
        c->caps |= CAP_PIPELINING;
    else if (n == 8 && strncasecmp(kw, "STARTTLS", 8) == 0)
        c->caps |= CAP_STARTTLS;
    else if (n == 8 && strncasecmp(kw, "8BITMIME", 8) == 0)
        c->caps |= CAP_8BITMIME;
    else if (n == 8 && strncasecmp(kw, "SMTPUTF8", 8) == 0)
        c->caps |= CAP_SMTPUTF8;
    else if (n == 19 && strncasecmp(kw, "ENHANCEDSTATUSCODES", 19) == 0)
        c->caps |= CAP_ENHANCED;
    else if (n == 4 && strncasecmp(kw, "SIZE", 4) == 0) {
        c->caps |= CAP_SIZE;
        if (kw[4] == ' ' && isdigit((unsigned char)kw[5]))
            c->size_max = strtoll(kw + 5, NULL, 10);
    }
}

/*
 * read_reply - a complete reply; 0, or -1 on I/O failure or garbage (c
 * broken). ehlo: the lines are EHLO extensions (parsed one by one, so a
 * long reply cannot push STARTTLS out of the bounded reply text).
 */
static int read_reply_ext(struct dconn *c, struct smtp_reply *r, int64_t deadline, int ehlo)
{
    char line[1024];
    size_t len;

    deliver_reply_init(r);
    for (;;) {
        if (deliver_net_read_line(c, line, sizeof(line), &len, deadline) < 0)
            return -1;
        if (ehlo && r->lines > 0) /* the first line is the server's name */
            ehlo_line(c, line, len);
        int k = deliver_reply_feed(r, line, len);
        if (k == 1) {
            if (r->code == 421)
                c->broken = 1; /* the peer closes the connection */
            return 0;
        }
        if (k < 0) {
            snprintf(c->err, sizeof(c->err), "malformed reply (%.100s)", r->text);
            c->broken = 1;
            return -1;
        }
        if (r->lines > 1000) {
            snprintf(c->err, sizeof(c->err), "reply with too many lines");
            c->broken = 1;
            return -1;
        }
    }
}

static int read_reply(struct dconn *c, struct smtp_reply *r, int64_t deadline)
{
    return read_reply_ext(c, r, deadline, 0);
}

/* phase - the deadline of a phase that starts now and may last timeout_ms */
static int64_t phase(int64_t timeout_ms)
{
    return timeutil_mono_ms() + timeout_ms;
}

/* command - send cmd and read the whole reply, both within one phase deadline */
static int command(struct dconn *c, const char *cmd, struct smtp_reply *r, int64_t timeout_ms)
{
    int64_t deadline = phase(timeout_ms);

    if (deliver_net_write(c, cmd, strlen(cmd), deadline) < 0)
        return -1;
    return read_reply(c, r, deadline);
}

/* hello - EHLO, or HELO when EHLO is refused; 0, or -1 with o filled */
static int hello(struct dconn *c, struct outcome *o)
{
    char cmd[300];
    struct smtp_reply r;
    const char *name = *deliver_conf.helo_name ? deliver_conf.helo_name : "localhost";
    int64_t deadline = phase(deliver_conf.helo_timeout);

    snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", name);
    c->caps = 0;
    c->size_max = 0;
    if (deliver_net_write(c, cmd, strlen(cmd), deadline) < 0 ||
        read_reply_ext(c, &r, deadline, 1) < 0) {
        io_failure(o, c, "while sending EHLO");
        return -1;
    }
    if (r.code / 100 == 2)
        return 0;
    if (r.code == 421) {
        from_reply(o, c, &r, 4);
        c->broken = 1;
        return -1;
    }
    snprintf(cmd, sizeof(cmd), "HELO %s\r\n", name);
    if (command(c, cmd, &r, deliver_conf.helo_timeout) < 0) {
        io_failure(o, c, "while sending HELO");
        return -1;
    }
    if (r.code / 100 != 2) {
        from_reply(o, c, &r, 4);
        c->broken = 1;
        return -1;
    }
    c->caps = 0;
    return 0;
}

/*
 * open_once - one connection attempt; try_tls 0 skips STARTTLS (the
 * opportunistic fallback after a failed handshake). Returns the
 * connection, NULL with o filled; *retry_plain asks for the fallback.
 */
static struct dconn *open_once(const union dsock *addr, int port, const char *host,
                               const struct dmsg *m, struct outcome *o, int try_tls,
                               int *retry_plain)
{
    char err[300];
    struct smtp_reply r;
    struct dconn *c = deliver_net_connect(addr, port, host, err, sizeof(err));

    if (c == NULL) {
        deliver_session_outcome_reason(o, DLV_DEFER, "4.4.1", "%s", err);
        o->host_failure = 1;
        return NULL;
    }
    if (read_reply(c, &r, phase(deliver_conf.greeting_timeout)) < 0) {
        io_failure(o, c, "while receiving the initial server greeting");
        goto fail;
    }
    if (r.code != 220) {
        /* a 5xx greeting is skipped like a 4xx one (Postfix smtp_skip_5xx_greeting):
         * another MX may serve us */
        from_reply(o, c, &r, 4);
        goto fail;
    }
    if (hello(c, o) < 0)
        goto fail;
    int want_tls = m->tls_enforced || (try_tls && strcmp(deliver_conf.tls_level, "none") != 0);
    if (want_tls && (c->caps & CAP_STARTTLS)) {
        if (command(c, "STARTTLS\r\n", &r, deliver_conf.starttls_timeout) < 0) {
            io_failure(o, c, "while sending STARTTLS");
            goto fail;
        }
        if (r.code != 220) {
            if (m->tls_enforced) {
                set_peer(o, c);
                deliver_session_outcome_reason(
                    o, DLV_DEFER, "4.4.1",
                    "TLS is required, but host %s[%s] refused to start TLS: %s", c->host, c->ip,
                    r.text);
                goto fail;
            }
            /* opportunistic: go on in plain text on this connection */
        } else if (deliver_tls_start(c, deliver_conf.starttls_timeout,
                                     m->tls_enforced && deliver_conf.tls_verify) < 0) {
            if (!m->tls_enforced)
                *retry_plain = 1;
            set_peer(o, c);
            deliver_session_outcome_reason(o, DLV_DEFER, "4.4.1", "%s with %s[%s]", c->err, c->host,
                                           c->ip);
            goto fail;
        } else if (hello(c, o) < 0) {
            goto fail;
        }
    } else if (m->tls_enforced) {
        set_peer(o, c);
        deliver_session_outcome_reason(o, DLV_DEFER, "4.4.1",
                                       "TLS is required, but was not offered by host %s[%s]",
                                       c->host, c->ip);
        goto fail;
    }
    return c;
fail:
    o->host_failure = 1;
    set_peer(o, c);
    deliver_net_close(c, 1);
    return NULL;
}

struct dconn *deliver_session_open(const union dsock *addr, int port, const char *host,
                                   const struct dmsg *m, struct outcome *o)
{
    int retry_plain = 0;
    struct dconn *c = open_once(addr, port, host, m, o, 1, &retry_plain);

    if (c == NULL && retry_plain)
        c = open_once(addr, port, host, m, o, 0, &retry_plain);
    return c;
}

int deliver_session_fits(const struct dconn *c, const struct dmsg *m)
{
    if (c->broken)
        return 0;
    if (!m->tls_enforced)
        return 1;
    return c->tls && (!deliver_conf.tls_verify || c->verified);
}

/* addr_ok - an envelope address we can put between < > safely */
static int addr_ok(const char *a, int allow_empty, int utf8)
{
    size_t n = strlen(a);

    if (n == 0)
        return allow_empty;
    if (n > 320 || strchr(a, '@') == NULL)
        return 0;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= ' ' || *p == '<' || *p == '>' || *p == 0x7f || (*p >= 0x80 && !utf8))
            return 0;
    return 1;
}

/*
 * send_body - the message through the dot-stuffing writer; 0 or -1. The
 * whole body has one deadline: deliver_data_block_timeout plus one second
 * per deliver_min_data_rate bytes (Postfix smtp_min_data_rate), so a peer
 * that reads slowly cannot keep the thread for longer than that.
 */
static int send_body(struct dconn *c, const struct dmsg *m)
{
    char *out = xmalloc(DATA_CHUNK + 8);
    struct dotstuff d;
    size_t pos = 0;
    int rc = 0;
    int64_t slack = (int64_t)(m->raw_len / (size_t)deliver_conf.min_data_rate) * 1000;
    int64_t deadline = phase(deliver_conf.data_block_timeout + slack);

    deliver_dot_init(&d);
    for (;;) {
        size_t used = 0;
        size_t n = deliver_dot_run(&d, m->raw + pos, m->raw_len - pos, out, DATA_CHUNK, &used);
        pos += used;
        if (pos == m->raw_len)
            n += deliver_dot_end(&d, out + n); /* room: DATA_CHUNK + 8 */
        if (deliver_net_write(c, out, n, deadline) < 0) {
            rc = -1;
            break;
        }
        if (pos == m->raw_len)
            break;
    }
    xfree(out);
    return rc;
}

/* the replies of one transaction */
struct txn {
    struct smtp_reply mail, rcpt, arc, data;
    const char *archive; /* the archive recipient, when usable */
    int reused;          /* on a connection that carried mail before */
    int pipe_data;       /* DATA goes in the pipelined write */
};

enum txn_step { TXN_GO, TXN_DONE, TXN_STALE };

/* refused - the message cannot go to this peer at all: 1 with o filled (bounce) */
static int refused(const struct dconn *c, const struct dmsg *m, struct outcome *o)
{
    if (m->smtputf8 && !(c->caps & CAP_SMTPUTF8)) {
        deliver_session_outcome_reason(o, DLV_BOUNCE, "5.6.7",
                                       "SMTPUTF8 is required, but was not offered by host %s[%s]",
                                       c->host, c->ip);
        return 1;
    }
    if ((c->caps & CAP_SIZE) && c->size_max > 0 && (long long)m->raw_len > c->size_max) {
        deliver_session_outcome_reason(o, DLV_BOUNCE, "5.3.4",
                                       "message size %zu exceeds size limit %lld of server %s[%s]",
                                       m->raw_len, c->size_max, c->host, c->ip);
        return 1;
    }
    if (!addr_ok(m->mail_from, 1, m->smtputf8)) {
        deliver_session_outcome_reason(o, DLV_BOUNCE, "5.1.7", "bad sender address syntax");
        return 1;
    }
    if (!addr_ok(m->rcpt, 0, m->smtputf8)) {
        deliver_session_outcome_reason(o, DLV_BOUNCE, "5.1.3", "bad recipient address syntax");
        return 1;
    }
    return 0;
}

/* mail_command - "MAIL FROM:<...> params" with the extensions c offers; its length */
static size_t mail_command(const struct dconn *c, const struct dmsg *m, char *cmds, size_t size)
{
    char params[128] = "";
    size_t len = 0;

    if (c->caps & CAP_SIZE)
        len += (size_t)snprintf(params + len, sizeof(params) - len, " SIZE=%zu", m->raw_len);
    if (m->eightbit && (c->caps & CAP_8BITMIME))
        len += (size_t)snprintf(params + len, sizeof(params) - len, " BODY=8BITMIME");
    if (m->smtputf8)
        snprintf(params + len, sizeof(params) - len, " SMTPUTF8");
    return (size_t)snprintf(cmds, size, "MAIL FROM:<%s>%s\r\n", m->mail_from, params);
}

/* failed_io - no (complete) reply in phase: deferred (o) */
static enum txn_step failed_io(struct dconn *c, struct outcome *o, const char *phase)
{
    io_failure(o, c, phase);
    return TXN_DONE;
}

/* failed_mail - no reply to MAIL FROM: deferred, or stale when a reused connection was closed */
static enum txn_step failed_mail(struct dconn *c, const struct txn *t, struct outcome *o)
{
    if (t->reused && c->err[0] && strncmp(c->err, "lost connection", 15) == 0)
        return TXN_STALE; /* a cached connection the peer had closed: nothing was accepted */
    return failed_io(c, o, "while sending MAIL FROM");
}

/* refused_by - the peer refused the transaction with r (o) */
static enum txn_step refused_by(struct dconn *c, const struct smtp_reply *r, struct outcome *o)
{
    from_reply(o, c, r, 0);
    return TXN_DONE;
}

/* envelope_serial - MAIL, RCPT(s) one command at a time */
static enum txn_step envelope_serial(struct dconn *c, const struct dmsg *m, struct txn *t,
                                     char *cmds, size_t size, struct outcome *o)
{
    if (command(c, cmds, &t->mail, deliver_conf.mail_timeout) < 0)
        return failed_mail(c, t, o);
    if (t->mail.code / 100 != 2)
        return refused_by(c, &t->mail, o);
    snprintf(cmds, size, "RCPT TO:<%s>\r\n", m->rcpt);
    if (command(c, cmds, &t->rcpt, deliver_conf.rcpt_timeout) < 0)
        return failed_io(c, o, "while sending RCPT TO");
    if (t->rcpt.code / 100 != 2)
        return refused_by(c, &t->rcpt, o);
    if (t->archive) {
        snprintf(cmds, size, "RCPT TO:<%s>\r\n", t->archive);
        if (command(c, cmds, &t->arc, deliver_conf.rcpt_timeout) < 0)
            return failed_io(c, o, "while sending RCPT TO");
    }
    return TXN_GO;
}

/* envelope_pipelined - MAIL, RCPT(s) and, without an archive recipient, DATA in one write */
static enum txn_step envelope_pipelined(struct dconn *c, const struct dmsg *m, struct txn *t,
                                        char *cmds, size_t size, size_t len, struct outcome *o)
{
    len += (size_t)snprintf(cmds + len, size - len, "RCPT TO:<%s>\r\n", m->rcpt);
    if (t->archive)
        len += (size_t)snprintf(cmds + len, size - len, "RCPT TO:<%s>\r\n", t->archive);
    if (t->pipe_data)
        len += (size_t)snprintf(cmds + len, size - len, "DATA\r\n");
    int64_t deadline = phase(deliver_conf.mail_timeout);
    if (deliver_net_write(c, cmds, len, deadline) < 0 || read_reply(c, &t->mail, deadline) < 0)
        return failed_mail(c, t, o);
    if (t->mail.code / 100 != 2 && c->broken)
        return refused_by(c, &t->mail, o); /* 421: the rest of the pipeline is lost */
    if (read_reply(c, &t->rcpt, phase(deliver_conf.rcpt_timeout)) < 0)
        return failed_io(c, o, "while sending RCPT TO");
    if (t->rcpt.code / 100 != 2 && c->broken)
        return refused_by(c, &t->rcpt, o);
    if (t->archive && read_reply(c, &t->arc, phase(deliver_conf.rcpt_timeout)) < 0)
        return failed_io(c, o, "while sending RCPT TO");
    if (t->pipe_data && read_reply(c, &t->data, phase(deliver_conf.data_timeout)) < 0)
        return failed_io(c, o, "while sending DATA command");
    if (t->mail.code / 100 != 2 || t->rcpt.code / 100 != 2) {
        if (t->pipe_data && t->data.code == 354)
            c->broken = 1; /* the peer waits for data it must not get */
        return refused_by(c, t->mail.code / 100 != 2 ? &t->mail : &t->rcpt, o);
    }
    return TXN_GO;
}

/* send_data - DATA (unless pipelined), the body, the final dot: o */
static void send_data(struct dconn *c, const struct dmsg *m, struct txn *t, struct outcome *o)
{
    struct smtp_reply r;

    if (t->archive && t->arc.code / 100 != 2)
        msg_warn("%s: archive recipient <%s> refused by %s[%s]: %s", m->rid, t->archive, c->host,
                 c->ip, t->arc.text);
    if (!t->pipe_data && command(c, "DATA\r\n", &t->data, deliver_conf.data_timeout) < 0) {
        io_failure(o, c, "while sending DATA command");
        return;
    }
    if (t->data.code != 354) {
        int odd = t->data.code / 100 == 2 || t->data.code / 100 == 3;
        from_reply(o, c, &t->data, odd ? 4 : 0);
        if (odd)
            c->broken = 1; /* protocol confusion: do not reuse */
        return;
    }
    if (send_body(c, m) < 0) {
        io_failure(o, c, "while sending message body");
        return;
    }
    if (read_reply(c, &r, phase(deliver_conf.dot_timeout)) < 0) {
        io_failure(o, c, "while sending end of data -- message may be sent more than once");
        return;
    }
    from_reply(o, c, &r, 0);
    c->nmsgs++;
}

int deliver_session_send(struct dconn *c, const struct dmsg *m, struct outcome *o)
{
    char cmds[CMD_MAX * 3];
    struct smtp_reply r;
    struct txn t;
    enum txn_step step;
    size_t len;

    memset(o, 0, sizeof(*o));
    memset(&t, 0, sizeof(t));
    set_peer(o, c);
    t.reused = c->nmsgs > 0;
    if (t.reused &&
        (command(c, "RSET\r\n", &r, deliver_conf.rset_timeout) < 0 || r.code / 100 != 2)) {
        c->broken = 1;
        return 1;
    }
    if (refused(c, m, o))
        return 0;
    t.archive = m->archive && addr_ok(m->archive, 0, m->smtputf8) ? m->archive : NULL;
    t.pipe_data = (c->caps & CAP_PIPELINING) && t.archive == NULL;
    len = mail_command(c, m, cmds, sizeof(cmds));
    if (c->caps & CAP_PIPELINING)
        step = envelope_pipelined(c, m, &t, cmds, sizeof(cmds), len, o);
    else
        step = envelope_serial(c, m, &t, cmds, sizeof(cmds), o);
    if (step == TXN_STALE)
        return 1;
    if (step == TXN_GO)
        send_data(c, m, &t, o);
    return 0;
}
