/*
 * smtpd_auth - AUTH PLAIN and LOGIN (RFC 4954) against the technical
 * account's credentials (lib/global/access/auth.h, verified on the pool: the
 * KDF is slow), source-IP authentication, and the limits on failures:
 *
 *  - every failed AUTH is answered late (tarpit): smtpd_auth_failure_delay
 *    times the session's failures so far (at most 5x);
 *  - the failure scores of lib/global/access/authlimit.h, shared with
 *    txmail-rest: per client address (IPv6: per /64), blocking at
 *    smtpd_auth_failure_limit, and per user, blocking at
 *    smtpd_auth_user_failure_limit; both halve every
 *    smtpd_auth_failure_decay. A blocked attempt is not checked (so
 *    guessing stops working) and answered 454 4.7.0 (temporary, as the
 *    right password gets it too: Postfix answers its AUTH rate limit
 *    with a 4xx as well), tarpitted and counted like a failure;
 *  - after smtpd_auth_session_failures failures the session is closed.
 *
 * Passwords are wiped as soon as they were used and never logged.
 */
#include "smtpd.h"
#include "global/access/authlimit.h"
#include "global/metrics.h"
#include "global/txconf.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define IPAUTH_SIZE 256
#define AUTH_FAILED "535 5.7.8 Authentication credentials invalid"
#define AUTH_THROTTLED "454 4.7.0 Too many failed authentications, try again later"

enum { MECH_PLAIN = 1, MECH_LOGIN = 2 };

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* ---- source-IP authentication cache ------------------------------------------ */

struct ipauth {
    char ip[64];
    int found;
    struct auth_account acct;
    int64_t expires;
};

static pthread_mutex_t alock = PTHREAD_MUTEX_INITIALIZER;
static struct ipauth atab[IPAUTH_SIZE];

void smtpd_auth_account_copy(struct auth_account *dst, const struct auth_account *src)
{
    *dst = *src;
    dst->settings = src->settings ? json_deep_copy(src->settings) : NULL;
}

int smtpd_auth_ip_cached(const char *ip, struct auth_account *acct)
{
    struct ipauth *e = &atab[hash(ip) % IPAUTH_SIZE];
    int r = -1;

    pthread_mutex_lock(&alock);
    if (e->expires > timeutil_mono_ms() && strcmp(e->ip, ip) == 0) {
        r = e->found;
        if (r)
            smtpd_auth_account_copy(acct, &e->acct);
    }
    pthread_mutex_unlock(&alock);
    return r;
}

void smtpd_auth_ip_store(const char *ip, const struct auth_account *acct, int found)
{
    struct ipauth *e = &atab[hash(ip) % IPAUTH_SIZE];

    pthread_mutex_lock(&alock);
    auth_account_free(&e->acct);
    memset(e, 0, sizeof(*e));
    snprintf(e->ip, sizeof(e->ip), "%s", ip);
    e->found = found;
    if (found)
        smtpd_auth_account_copy(&e->acct, acct);
    e->expires = timeutil_mono_ms() + auth_cache_ttl_ms;
    pthread_mutex_unlock(&alock);
}

void smtpd_auth_ip_forget(const char *ip)
{
    struct ipauth *e = &atab[hash(ip) % IPAUTH_SIZE];

    pthread_mutex_lock(&alock);
    if (strcmp(e->ip, ip) == 0) {
        auth_account_free(&e->acct);
        memset(e, 0, sizeof(*e));
    }
    pthread_mutex_unlock(&alock);
}

/* ---- the exchange -------------------------------------------------------------- */

int smtpd_auth_offered(const struct session *s)
{
    if (smtpd_conf.policy == SMTPD_INBOUND)
        return 0;
    if (s->tls)
        return 1;
    return smtpd_conf.plaintext_auth_loopback && s->lis->loopback && s->loopback;
}

void smtpd_auth_abort(struct session *s)
{
    s->state = SS_CMD;
    s->auth_mech = 0;
    xwipestr(s->login_user);
    s->login_user = NULL;
}

/* refuse - a failed or refused attempt: slowed, maybe the last one of the session */
static void refuse(struct session *s, const char *user, const char *why, const char *reply,
                   const char *result)
{
    char u[120];
    int64_t delay;

    s->auth_failures++;
    delay = smtpd_conf.auth_failure_delay * (s->auth_failures < 5 ? s->auth_failures : 5);
    msg_printable(u, sizeof(u), user ? user : "", user ? strlen(user) : 0);
    msg_info("%s: [%s]: %s authentication failed: user=%s (%s)", s->id, s->ip,
             s->auth_mech == MECH_PLAIN ? "PLAIN" : "LOGIN", u, why);
    metrics_count("txmail_smtpd_auth_total", "result", result, 1);
    smtpd_auth_abort(s);
    smtpd_session_tarpit(s, delay, reply, s->auth_failures >= smtpd_conf.auth_session_failures);
}

static void fail(struct session *s, const char *user, const char *why)
{
    refuse(s, user, why, AUTH_FAILED, "failed");
}

/* verify - hand user/password to the pool (or refuse at once when the address is blocked) */
static void verify(struct session *s, const char *user, const char *password)
{
    s->state = SS_CMD;
    if (*user == 0 || strlen(user) > 100) {
        fail(s, user, "malformed user name");
        return;
    }
    if (authlimit_blocked(AUTHLIMIT_ADDR, s->ip, timeutil_mono_ms()) > 0) {
        refuse(s, user, "too many failures from this address: not checked", AUTH_THROTTLED,
               "throttled");
        return;
    }
    s->task.user = xstrdup(user);
    s->task.password = xstrdup(password);
    smtpd_cmd_submit(s, T_AUTH);
}

/* decode - base64 of an AUTH line; -1 on bad input (reply sent) */
static int decode(struct session *s, const char *in, size_t len, struct buf *out)
{
    if (len == 1 && in[0] == '=') /* RFC 4954: an empty initial response */
        return 0;
    if (codec_b64_decode(out, in, len, 0) < 0) {
        smtpd_session_reply(s, "501 5.5.2 Cannot decode response");
        smtpd_auth_abort(s);
        return -1;
    }
    return 0;
}

/* plain - "authzid NUL authcid NUL password" */
static void plain(struct session *s, const struct buf *b)
{
    const char *p = buf_ptr(b), *n1, *n2;
    size_t len = b->len;

    if ((n1 = memchr(p, 0, len)) == NULL ||
        (n2 = memchr(n1 + 1, 0, len - (size_t)(n1 + 1 - p))) == NULL ||
        memchr(n2 + 1, 0, len - (size_t)(n2 + 1 - p)) != NULL) {
        fail(s, NULL, "malformed PLAIN response");
        return;
    }
    if (n1 != p && strcmp(p, n1 + 1) != 0) { /* no proxy authorization */
        fail(s, n1 + 1, "authorization identity differs");
        return;
    }
    verify(s, n1 + 1, n2 + 1);
}

void smtpd_auth_command(struct session *s, char *args)
{
    char *mech = args, *initial;
    struct buf b = BUF_INIT(SMTPD_AUTH_LINE_MAX);

    if (smtpd_conf.policy == SMTPD_INBOUND) {
        smtpd_session_reply(s, "503 5.5.1 Error: authentication not enabled");
        msg_info("%s: reject: AUTH from [%s]: 503 5.5.1 Error: authentication not enabled", s->id,
                 s->ip);
        return;
    }
    if (!s->helo_seen || s->sasl || s->txn) {
        smtpd_session_reply(s, "503 5.5.1 Bad sequence of commands");
        return;
    }
    if (!smtpd_auth_offered(s)) {
        smtpd_session_reply(
            s, "538 5.7.11 Encryption required for requested authentication mechanism");
        msg_info("%s: [%s]: AUTH before TLS refused", s->id, s->ip);
        return;
    }
    initial = mech;
    while (*initial && *initial != ' ')
        initial++;
    if (*initial)
        *initial++ = 0;
    while (*initial == ' ')
        initial++;
    if (strcasecmp(mech, "PLAIN") == 0)
        s->auth_mech = MECH_PLAIN;
    else if (strcasecmp(mech, "LOGIN") == 0)
        s->auth_mech = MECH_LOGIN;
    else {
        smtpd_session_reply(s, "504 5.5.4 Unrecognized authentication type");
        return;
    }
    if (*initial == 0) {
        s->state = SS_AUTH;
        if (s->auth_mech == MECH_PLAIN)
            smtpd_session_reply(s, "334 ");
        else
            smtpd_session_reply(s, "334 VXNlcm5hbWU6"); /* "Username:" */
        return;
    }
    if (decode(s, initial, strlen(initial), &b) == 0) {
        if (s->auth_mech == MECH_PLAIN) {
            plain(s, &b);
        } else if (memchr(buf_ptr(&b), 0, b.len)) {
            fail(s, NULL, "malformed LOGIN user");
        } else {
            s->login_user = xstrndup(buf_ptr(&b), b.len);
            s->state = SS_AUTH;
            smtpd_session_reply(s, "334 UGFzc3dvcmQ6"); /* "Password:" */
        }
    }
    if (b.data)
        explicit_bzero(b.data, b.len);
    buf_free(&b);
}

void smtpd_auth_line(struct session *s, char *line, size_t len)
{
    struct buf b = BUF_INIT(SMTPD_AUTH_LINE_MAX);

    if (len == 1 && line[0] == '*') {
        smtpd_session_reply(s, "501 5.0.0 Authentication aborted");
        smtpd_auth_abort(s);
        return;
    }
    if (decode(s, line, len, &b) < 0)
        goto out;
    if (s->auth_mech == MECH_PLAIN) {
        plain(s, &b);
    } else if (s->login_user == NULL) {
        if (memchr(buf_ptr(&b), 0, b.len)) {
            fail(s, NULL, "malformed LOGIN user");
            goto out;
        }
        s->login_user = xstrndup(buf_ptr(&b), b.len);
        smtpd_session_reply(s, "334 UGFzc3dvcmQ6");
    } else {
        char *user = s->login_user;
        s->login_user = NULL;
        if (memchr(buf_ptr(&b), 0, b.len))
            fail(s, user, "malformed LOGIN password");
        else
            verify(s, user, buf_ptr(&b));
        xwipestr(user);
    }
out:
    if (b.data)
        explicit_bzero(b.data, b.len);
    buf_free(&b);
}

void smtpd_auth_done(struct session *s, struct smtpd_task *t)
{
    if (t->rc == TX_OK) {
        auth_account_free(&s->acct);
        s->acct = t->acct;
        memset(&t->acct, 0, sizeof(t->acct)); /* moved */
        s->authenticated = s->sasl = 1;
        snprintf(s->sasl_user, sizeof(s->sasl_user), "%s", t->user);
        snprintf(s->sasl_method, sizeof(s->sasl_method), "%s",
                 s->auth_mech == MECH_PLAIN ? "PLAIN" : "LOGIN");
        msg_info("%s: [%s]: authenticated: method=%s, user=%s, account=%s", s->id, s->ip,
                 s->sasl_method, s->sasl_user, s->acct.name);
        metrics_count("txmail_smtpd_auth_total", "result", "ok", 1);
        s->auth_mech = 0;
        smtpd_session_reply(s, "235 2.7.0 Authentication successful");
        return;
    }
    if (t->rc == TX_REJECT_POLICY) {
        fail(s, t->user, "wrong credentials or source address not allowed");
        return;
    }
    if (t->rc == TX_RETRY_THROTTLED) {
        refuse(s, t->user, "too many failures from this address or of this user: not checked",
               AUTH_THROTTLED, "throttled");
        return;
    }
    msg_warn("%s: [%s]: AUTH not checked: %s", s->id, s->ip, txcode_name(t->rc));
    smtpd_auth_abort(s);
    smtpd_session_reply(s, "454 4.7.0 Temporary authentication failure");
}
