/*
 * smtpd_cmd - the SMTP commands of a session (contract §17.2, §17.3):
 * EHLO/HELO, STARTTLS, MAIL, RCPT, DATA, BDAT, RSET, NOOP, QUIT, VRFY,
 * HELP (AUTH is in smtpd_auth.c), and what happens when the pool returns
 * the blocking part of MAIL and of the end of a message.
 */
#include "smtpd.h"
#include "global/account.h"
#include "global/addr.h"
#include "global/metrics.h"
#include "global/txconf.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BAD_SEQUENCE "503 5.5.1 Bad sequence of commands"
#define TEMPFAIL "451 4.3.0 Temporary failure, please retry"
#define TOO_BIG "552 5.3.4 Message size exceeds fixed maximum message size"

void smtpd_cmd_txn_free(struct smtpd_txn *t)
{
    if (t == NULL)
        return;
    xfree(t->mail_from);
    for (int i = 0; i < t->nrcpt; i++) {
        xfree(t->rcpt[i].email);
        xfree(t->rcpt[i].bare);
    }
    xfree(t->rcpt);
    buf_free(&t->msg);
    smtpd_queue_sup_release(t->sup);
    xfree(t);
}

static void txn_end(struct session *s)
{
    smtpd_cmd_txn_free(s->txn);
    s->txn = NULL;
    s->data_bytes = 0;
}

/* reject - answer with an error and log it (one line per refused command) */
static void reject(struct session *s, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reject(struct session *s, const char *cmd, const char *fmt, ...)
{
    char reply[SMTPD_REPLY_MAX], from[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reply, sizeof(reply), fmt, ap);
    va_end(ap);
    smtpd_session_reply(s, "%s", reply);
    if (s->txn && s->txn->mail_from)
        msg_printable(from, sizeof(from), s->txn->mail_from, strlen(s->txn->mail_from));
    else
        from[0] = 0;
    msg_info("%s: reject: %s from [%s]: %s%s%s%s", s->id, cmd, s->ip, reply,
             from[0] || (s->txn && s->txn->mail_from) ? "; from=<" : "", from,
             from[0] || (s->txn && s->txn->mail_from) ? ">" : "");
}

void smtpd_cmd_submit(struct session *s, enum smtpd_task_kind kind)
{
    if (s->busy)
        msg_panic("%s: a second task while one is pending", s->id);
    s->task.kind = kind;
    s->task.s = s;
    s->task.slow = kind == T_AUTH;
    s->task.rc = TX_OK;
    s->task.reply[0] = 0;
    s->busy = 1;
    event_del(s->timer);
    smtpd_queue_pool_submit(s);
}

void smtpd_cmd_task_release(struct smtpd_task *t)
{
    xwipestr(t->user);
    xwipestr(t->password);
    xfree(t->rcpt);
    xfree(t->rcpt_local);
    xfree(t->rcpt_domain);
    auth_account_free(&t->acct);
    if (t->job)
        smtpd_job_free(t->job);
    memset(t, 0, sizeof(*t));
}

/* ---- helpers ----------------------------------------------------------------- */

static int tls_exempt(const struct session *s)
{
    char copy[1024], *save = NULL;

    snprintf(copy, sizeof(copy), "%s", smtpd_conf.tls_exempt);
    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (strcasecmp(t, "loopback") == 0) {
            if (s->loopback)
                return 1;
        } else if (auth_ip_allowed(t, s->ip))
            return 1;
    }
    return 0;
}

/*
 * parse_path - "<address> params" after FROM:/TO:. *addr and *params
 * point into p (NUL-terminated). -1 when malformed.
 */
static int parse_path(char *p, char **addr, char **params)
{
    while (*p == ' ')
        p++;
    if (*p == '<') {
        char *q = p + 1;
        int quoted = 0;
        for (; *q; q++) {
            if (*q == '\\' && quoted && q[1]) {
                q++;
                continue;
            }
            if (*q == '"')
                quoted = !quoted;
            else if (*q == '>' && !quoted)
                break;
        }
        if (*q != '>')
            return -1;
        *q++ = 0;
        *addr = p + 1;
        if (*q && *q != ' ')
            return -1;
        /* an obsolete source route "<@a,@b:user@d>" is ignored (RFC 5321 4.1.2) */
        if (**addr == '@') {
            char *colon = strchr(*addr, ':');
            if (colon == NULL)
                return -1;
            *addr = colon + 1;
        }
        p = q;
    } else {
        *addr = p;
        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = 0;
    }
    while (*p == ' ')
        p++;
    *params = p;
    return 0;
}

/* next_param - the next "KEY[=VALUE]" of a parameter list; NULL at the end */
static char *next_param(char **p, char **value)
{
    char *k = *p, *e;

    while (*k == ' ')
        k++;
    if (*k == 0)
        return NULL;
    e = k;
    while (*e && *e != ' ')
        e++;
    if (*e)
        *e++ = 0;
    *p = e;
    *value = strchr(k, '=');
    if (*value)
        *(*value)++ = 0;
    return k;
}

/* envelope_addr - an envelope address as txmail accepts it */
static int envelope_addr(const char *a, int smtputf8, struct addr *out)
{
    size_t len = strlen(a);

    if (len == 0 || len > SMTPD_ADDR_MAX || !codec_utf8_valid(a, len))
        return -1;
    if (!smtputf8)
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)a[i] >= 0x80)
                return -1; /* RFC 6531: non-ASCII needs SMTPUTF8 */
    return addr_parse_bare(a, len, out);
}

static void sanitize_helo(char *dst, size_t dstsz, const char *src)
{
    size_t o = 0;

    for (; *src && o + 1 < dstsz; src++) {
        unsigned char c = (unsigned char)*src;
        dst[o++] = (isalnum(c) || strchr(".-_:[]", c)) ? (char)c : '?';
    }
    dst[o] = 0;
}

/* ---- EHLO, HELO, STARTTLS, RSET, NOOP, QUIT, VRFY, HELP ------------------------ */

static void cmd_ehlo(struct session *s, char *args, int esmtp)
{
    if (*args == 0) {
        reject(s, esmtp ? "EHLO" : "HELO", "501 5.5.4 Syntax: %s hostname",
               esmtp ? "EHLO" : "HELO");
        return;
    }
    sanitize_helo(s->helo, sizeof(s->helo), args);
    s->helo_seen = 1;
    s->esmtp = esmtp;
    txn_end(s); /* EHLO resets a transaction (RFC 5321 4.1.4) */
    if (!esmtp) {
        smtpd_session_reply(s, "250 %s", txconf.myhostname);
        return;
    }
    smtpd_session_reply(s, "250-%s", txconf.myhostname);
    smtpd_session_reply(s, "250-PIPELINING");
    smtpd_session_reply(s, "250-SIZE %zu", smtpd_conf.size_limit);
    smtpd_session_reply(s, "250-8BITMIME");
    smtpd_session_reply(s, "250-SMTPUTF8");
    if (smtpd_conf.chunking)
        smtpd_session_reply(s, "250-CHUNKING");
    if (!s->tls && smtpd_tls_available())
        smtpd_session_reply(s, "250-STARTTLS");
    if (smtpd_auth_offered(s))
        smtpd_session_reply(s, "250-AUTH PLAIN LOGIN");
    smtpd_session_reply(s, "250 ENHANCEDSTATUSCODES");
}

static void cmd_starttls(struct session *s, char *args)
{
    if (*args) {
        reject(s, "STARTTLS", "501 5.5.4 Syntax: STARTTLS");
        return;
    }
    if (s->tls) {
        reject(s, "STARTTLS", BAD_SEQUENCE);
        return;
    }
    if (!smtpd_tls_available()) {
        reject(s, "STARTTLS", "454 4.7.0 TLS not available");
        return;
    }
    smtpd_session_starttls(s);
}

/* ---- MAIL ------------------------------------------------------------------- */

static void mail_done(struct session *s, struct smtpd_task *t);

/*
 * mail_allowed - TLS and authentication before MAIL (submission): 1 go on,
 * 0 answered or waiting for source-IP authentication (line runs again).
 * Inbound: always 1, MTAs deliver bounces anonymously with opportunistic TLS.
 */
static int mail_allowed(struct session *s, char *line)
{
    if (smtpd_conf.policy == SMTPD_INBOUND)
        return 1;
    if (smtpd_conf.require_tls && !s->tls && !tls_exempt(s)) {
        reject(s, "MAIL", "530 5.7.0 Must issue a STARTTLS command first");
        return 0;
    }
    if (!s->authenticated && !s->ipauth_tried) {
        int r = smtpd_auth_ip_cached(s->ip, &s->acct);
        if (r == 1) {
            s->authenticated = 1;
            s->ipauth_tried = 1;
        } else if (r == 0) {
            s->ipauth_tried = 1;
        } else { /* ask the database, then run this command again */
            xfree(s->rerun);
            s->rerun = xstrdup(line);
            smtpd_cmd_submit(s, T_IPAUTH);
            return 0;
        }
    }
    if (!s->authenticated) {
        reject(s, "MAIL", "530 5.7.0 Authentication required");
        return 0;
    }
    return 1;
}

static void cmd_mail(struct session *s, char *line, char *args)
{
    char *addr, *params, *k, *v;
    struct addr a;
    int smtputf8 = 0, body8 = 0;
    long long size = 0;

    if (!s->helo_seen || s->txn) {
        reject(s, "MAIL", BAD_SEQUENCE);
        return;
    }
    if (strncasecmp(args, "FROM:", 5) != 0) {
        reject(s, "MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>");
        return;
    }
    if (!mail_allowed(s, line))
        return;
    if (parse_path(args + 5, &addr, &params) < 0) {
        reject(s, "MAIL", "501 5.5.4 Syntax: MAIL FROM:<address>");
        return;
    }
    while ((k = next_param(&params, &v)) != NULL) {
        if (strcasecmp(k, "SIZE") == 0) {
            char *end;
            if (v == NULL || !isdigit((unsigned char)*v) || strlen(v) > 18 ||
                (size = strtoll(v, &end, 10), *end)) {
                reject(s, "MAIL", "501 5.5.4 Bad SIZE parameter");
                return;
            }
            if (size > (long long)smtpd_conf.size_limit) {
                reject(s, "MAIL", TOO_BIG);
                return;
            }
        } else if (strcasecmp(k, "BODY") == 0) {
            if (v && strcasecmp(v, "8BITMIME") == 0)
                body8 = 1;
            else if (v == NULL || strcasecmp(v, "7BIT") != 0) {
                reject(s, "MAIL", "555 5.5.4 Unsupported option: BODY=%.20s", v ? v : "");
                return;
            }
        } else if (strcasecmp(k, "SMTPUTF8") == 0 && v == NULL) {
            smtputf8 = 1;
        } else if (strcasecmp(k, "AUTH") == 0) {
            /* RFC 4954 AUTH=: ignored (contract §17.2) */
        } else {
            char key[40];
            msg_printable(key, sizeof(key), k, strlen(k));
            reject(s, "MAIL", "555 5.5.4 Unsupported option: %s", key);
            return;
        }
    }
    /* the null sender is what bounces come from (inbound) */
    int null_sender = smtpd_conf.policy == SMTPD_INBOUND && *addr == 0;
    if (null_sender)
        memset(&a, 0, sizeof(a));
    else if (envelope_addr(addr, smtputf8, &a) < 0) {
        reject(s, "MAIL", "501 5.1.7 Bad sender address syntax");
        return;
    }
    s->txn = xcalloc(1, sizeof(*s->txn));
    s->txn->mail_from = xstrdup(addr);
    snprintf(s->txn->from_domain, sizeof(s->txn->from_domain), "%s", a.domain);
    snprintf(s->txn->from_local, sizeof(s->txn->from_local), "%s", a.local);
    s->txn->smtputf8 = smtputf8 || a.utf8_local;
    s->txn->body8bit = body8;
    s->txn->size_decl = size;
    buf_init(&s->txn->msg, smtpd_conf.size_limit);
    if (smtpd_conf.policy == SMTPD_INBOUND) { /* nothing to look up: RCPT decides */
        smtpd_session_reply(s, "250 2.1.0 Ok");
        return;
    }
    struct smtpd_task known;
    memset(&known, 0, sizeof(known));
    /* the pool re-checks the session's credential when its last check is older than smtpd_auth_recheck */
    int r = auth_recheck_due(&s->acct, smtpd_conf.auth_recheck)
                ? -1
                : senderdomain_cached(s->acct.id, s->txn->from_domain, &known.sd);
    if (r >= 0) { /* registered or not, as the database said a moment ago */
        known.kind = T_MAIL;
        known.rc = r ? TX_OK : TX_REJECT_POLICY;
        mail_done(s, &known);
        return;
    }
    smtpd_cmd_submit(s, T_MAIL);
}

static void mail_done(struct session *s, struct smtpd_task *t)
{
    struct smtpd_txn *x = s->txn;

    if (x == NULL)
        return;
    if (t->auth_gone) { /* disabled, password changed, address no longer allowed */
        msg_info("%s: [%s]: credential of account %s no longer valid: session unauthenticated",
                 s->id, s->ip, s->acct.name);
        if (s->acct.by_ip)
            smtpd_auth_ip_forget(s->ip);
        auth_account_free(&s->acct);
        memset(&s->acct, 0, sizeof(s->acct));
        s->authenticated = s->sasl = 0;
        s->sasl_user[0] = s->sasl_method[0] = 0;
        s->ipauth_tried = 1;
        reject(s, "MAIL", "530 5.7.0 Authentication required");
        txn_end(s);
        return;
    }
    if (t->checked_ms)
        s->acct.checked_ms = t->checked_ms;
    if (t->rc == TX_RETRY_DB && !auth_recheck_due(&s->acct, auth_cache_ttl_ms)) {
        /* database trouble: nothing is committed without it (DATA answers 451); till then as a moment ago */
        int known = senderdomain_cached(s->acct.id, x->from_domain, &t->sd);
        if (known >= 0)
            t->rc = known ? TX_OK : TX_REJECT_POLICY;
    }
    if (t->rc == TX_OK) {
        x->sd = t->sd;
        if (account_list_has(s->acct.settings, "forbiddenSenders", x->from_local,
                             strlen(x->from_local))) {
            reject(s, "MAIL", "553 5.7.1 sender address not allowed");
            txn_end(s);
            return;
        }
        smtpd_session_reply(s, "250 2.1.0 Ok");
        return;
    }
    if (t->rc == TX_REJECT_POLICY)
        reject(s, "MAIL", "553 5.7.1 sender domain not registered");
    else
        reject(s, "MAIL", TEMPFAIL);
    txn_end(s);
}

/* ---- RCPT -------------------------------------------------------------------- */

struct smtpd_rcpt *smtpd_cmd_rcpt_add(struct smtpd_txn *x, const char *email, const char *bare)
{
    if (x->nrcpt == x->caprcpt) {
        x->caprcpt = x->caprcpt ? x->caprcpt * 2 : 8;
        x->rcpt = xrealloc(x->rcpt, (size_t)x->caprcpt * sizeof(*x->rcpt));
    }
    struct smtpd_rcpt *r = &x->rcpt[x->nrcpt++];
    memset(r, 0, sizeof(*r));
    r->email = xstrdup(email);
    r->bare = xstrdup(bare);
    return r;
}

static void cmd_rcpt(struct session *s, char *args)
{
    char *addr, *params, *k, *v;
    struct smtpd_txn *x = s->txn;
    struct addr a;

    if (x == NULL || x->data_started) {
        reject(s, "RCPT", BAD_SEQUENCE);
        return;
    }
    if (strncasecmp(args, "TO:", 3) != 0 || parse_path(args + 3, &addr, &params) < 0) {
        reject(s, "RCPT", "501 5.5.4 Syntax: RCPT TO:<address>");
        return;
    }
    while ((k = next_param(&params, &v)) != NULL) {
        char key[40];
        msg_printable(key, sizeof(key), k, strlen(k));
        reject(s, "RCPT", "555 5.5.4 Unsupported option: %s", key);
        return;
    }
    if (x->nrcpt >= smtpd_conf.rcpt_limit) {
        smtpd_session_reply(s, "452 4.5.3 Too many recipients");
        return;
    }
    if (envelope_addr(addr, x->smtputf8, &a) < 0) {
        reject(s, "RCPT", "501 5.1.3 Bad recipient address syntax");
        return;
    }
    if (smtpd_conf.policy == SMTPD_INBOUND) {
        smtpd_inbound_rcpt(s, addr, a.local, a.domain);
        return;
    }
    struct smtpd_rcpt *r = smtpd_cmd_rcpt_add(x, addr, a.bare);
    r->utf8 = a.utf8_local;
    r->forbidden =
        account_list_has(s->acct.settings, "forbiddenRecipients", a.local, strlen(a.local));
    smtpd_session_reply(s, "250 2.1.5 Ok");
}

/* ---- DATA and BDAT -------------------------------------------------------------- */

static void start_message(struct session *s, enum smtpd_data_mode mode)
{
    struct smtpd_txn *x = s->txn;

    smtpd_data_init(&x->data, &x->msg, smtpd_conf.size_limit, mode);
    /* room for the announced size, else for a typical message: fewer reallocations */
    size_t want = x->size_decl > 0 ? (size_t)x->size_decl + 1024 : 64 * 1024;
    buf_reserve(&x->msg, want < smtpd_conf.size_limit ? want : smtpd_conf.size_limit);
    x->data_started = 1;
    s->data_t0 = timeutil_mono_ms();
    s->data_bytes = 0;
    if (smtpd_conf.policy == SMTPD_SUBMISSION)
        smtpd_queue_sup_start(s);
}

static void cmd_data(struct session *s, char *args)
{
    if (*args) {
        reject(s, "DATA", "501 5.5.4 Syntax: DATA");
        return;
    }
    if (s->txn == NULL || s->txn->bdat) {
        reject(s, "DATA", BAD_SEQUENCE);
        return;
    }
    if (s->txn->nrcpt == 0) {
        reject(s, "DATA", "554 5.5.1 No valid recipients");
        return;
    }
    start_message(s, SMTPD_DATA_DOT);
    s->state = SS_DATA;
    smtpd_session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void commit(struct session *s)
{
    s->txn->received_ms = timeutil_now_ms();
    smtpd_cmd_submit(s, T_COMMIT);
}

void smtpd_cmd_data_end(struct session *s)
{
    struct smtpd_txn *x = s->txn;

    s->state = SS_CMD;
    s->t0 = timeutil_mono_ms();
    if (x->data.too_big) {
        reject(s, "DATA", TOO_BIG);
        metrics_count("txmail_smtpd_messages_total", "status", "rejected", 1);
        txn_end(s);
    } else if (smtpd_data_refusal(&x->data)) {
        reject(s, "DATA", "%s", smtpd_data_refusal(&x->data));
        metrics_count("txmail_smtpd_messages_total", "status", "rejected", 1);
        txn_end(s);
    } else {
        commit(s);
    }
}

static void cmd_bdat(struct session *s, char *args)
{
    char *end;
    long long size;
    int last = 0;

    if (!isdigit((unsigned char)*args) || strspn(args, "0123456789") > 10) {
        reject(s, "BDAT", "501 5.5.4 Syntax: BDAT size [LAST]");
        return;
    }
    size = strtoll(args, &end, 10);
    while (*end == ' ')
        end++;
    if (strcasecmp(end, "LAST") == 0)
        last = 1;
    else if (*end) {
        reject(s, "BDAT", "501 5.5.4 Syntax: BDAT size [LAST]");
        return;
    }
    s->bdat_left = size;
    s->bdat_last = last;
    s->bdat_discard = 0;
    s->bdat_reply[0] = 0;
    /* each chunk must arrive within the timeout plus what its size justifies */
    s->data_t0 = timeutil_mono_ms();
    s->data_bytes = 0;
    /* the chunk's octets follow whatever the answer: read them in any case */
    if (s->txn == NULL || (s->txn->data_started && !s->txn->bdat)) {
        s->bdat_discard = 1;
        snprintf(s->bdat_reply, sizeof(s->bdat_reply), BAD_SEQUENCE);
    } else if (s->txn->nrcpt == 0) {
        s->bdat_discard = 1;
        snprintf(s->bdat_reply, sizeof(s->bdat_reply), "554 5.5.1 No valid recipients");
    } else if (!s->txn->bdat) {
        start_message(s, SMTPD_DATA_CHUNK);
        s->txn->bdat = 1;
    }
    s->state = SS_BDAT;
    if (size == 0)
        smtpd_cmd_bdat_end(s);
}

void smtpd_cmd_bdat_too_big(struct session *s)
{
    /* refuse now; the rest of this chunk is read and forgotten */
    s->bdat_discard = 1;
    snprintf(s->bdat_reply, sizeof(s->bdat_reply), TOO_BIG);
    metrics_count("txmail_smtpd_messages_total", "status", "rejected", 1);
    txn_end(s);
}

void smtpd_cmd_bdat_end(struct session *s)
{
    struct smtpd_txn *x = s->txn;

    s->state = SS_CMD;
    s->t0 = timeutil_mono_ms();
    if (s->bdat_reply[0]) {
        reject(s, "BDAT", "%s", s->bdat_reply);
        s->bdat_discard = 0;
        return;
    }
    if (!s->bdat_last) {
        smtpd_session_reply(s, "250 2.0.0 %lld octets received", (long long)x->data.received);
        return;
    }
    smtpd_data_finish(&x->data);
    if (x->data.too_big) {
        reject(s, "BDAT", TOO_BIG);
        txn_end(s);
    } else if (smtpd_data_refusal(&x->data)) {
        reject(s, "BDAT", "%s", smtpd_data_refusal(&x->data));
        txn_end(s);
    } else {
        commit(s);
    }
}

/* ---- dispatch ------------------------------------------------------------------ */

void smtpd_cmd_line(struct session *s, char *line, size_t len)
{
    char *args = line;
    size_t vl;

    (void)len;
    while (*args && *args != ' ')
        args++;
    vl = (size_t)(args - line);
    while (*args == ' ')
        args++;
    /* trailing blanks are not part of the arguments */
    for (char *e = args + strlen(args); e > args && (e[-1] == ' ' || e[-1] == '\t'); e--)
        e[-1] = 0;
#define IS(w) (vl == sizeof(w) - 1 && strncasecmp(line, w, vl) == 0)
    if (IS("EHLO"))
        cmd_ehlo(s, args, 1);
    else if (IS("HELO"))
        cmd_ehlo(s, args, 0);
    else if (IS("MAIL"))
        cmd_mail(s, line, args);
    else if (IS("RCPT"))
        cmd_rcpt(s, args);
    else if (IS("DATA"))
        cmd_data(s, args);
    else if (IS("BDAT") && smtpd_conf.chunking)
        cmd_bdat(s, args);
    else if (IS("RSET")) {
        txn_end(s);
        smtpd_session_reply(s, "250 2.0.0 Ok");
    } else if (IS("NOOP"))
        smtpd_session_reply(s, "250 2.0.0 Ok");
    else if (IS("QUIT")) {
        smtpd_session_reply(s, "221 2.0.0 Bye");
        smtpd_session_close_after_write(s);
    } else if (IS("VRFY"))
        smtpd_session_reply(s, "252 2.5.2 Cannot VRFY user");
    else if (IS("STARTTLS"))
        cmd_starttls(s, args);
    else if (IS("AUTH"))
        smtpd_auth_command(s, args);
    else if (IS("HELP"))
        smtpd_session_reply(s, "214 2.0.0 txmail: see RFC 5321, RFC 4954, RFC 3030");
    else if (IS("GET") || IS("POST") || IS("HEAD") || IS("PUT") || IS("CONNECT")) {
        /* an HTTP client or proxy abuse: no conversation */
        msg_info("%s: [%s]: HTTP command on the SMTP port", s->id, s->ip);
        smtpd_session_reply(s, "521 5.5.1 %s Error: protocol error", txconf.myhostname);
        smtpd_session_close_after_write(s);
    } else {
        char verb[40];
        msg_printable(verb, sizeof(verb), line, vl);
        reject(s, verb[0] ? verb : "-", "500 5.5.2 Syntax error");
    }
#undef IS
}

/* ---- results from the pool ----------------------------------------------------------- */

void smtpd_cmd_done(struct session *s, struct smtpd_task *t)
{
    switch (t->kind) {
    case T_IPAUTH: {
        char *line = s->rerun;
        s->rerun = NULL;
        if (t->rc == TX_OK) {
            s->authenticated = 1;
            s->ipauth_tried = 1;
            s->acct = t->acct;
            memset(&t->acct, 0, sizeof(t->acct)); /* moved */
            msg_info("%s: [%s] authenticated by source IP as account %s", s->id, s->ip,
                     s->acct.name);
        } else if (t->rc == TX_REJECT_POLICY) {
            s->ipauth_tried = 1;
        } else {
            reject(s, "MAIL", TEMPFAIL);
            xfree(line);
            return;
        }
        if (line)
            smtpd_cmd_line(s, line, strlen(line));
        xfree(line);
        break;
    }
    case T_AUTH:
        smtpd_auth_done(s, t);
        break;
    case T_MAIL:
        mail_done(s, t);
        break;
    case T_RCPT:
        smtpd_inbound_rcpt_done(s, t);
        break;
    case T_COMMIT:
        if (t->reply[0] == '2') {
            smtpd_session_reply(s, "%s", t->reply);
            s->nqueued++;
            metrics_count("txmail_smtpd_messages_total", "status", "queued", 1);
        } else {
            reject(s, s->txn && s->txn->bdat ? "BDAT" : "DATA", "%s", t->reply);
            metrics_count("txmail_smtpd_messages_total", "status",
                          t->reply[0] == '4' ? "tempfail" : "rejected", 1);
        }
        txn_end(s);
        break;
    }
}
