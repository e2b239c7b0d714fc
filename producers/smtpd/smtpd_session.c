/*
 * smtpd_session - one client connection on its event loop: reading
 * command lines, DATA and BDAT octets, timeouts, STARTTLS, closing, and
 * the return of blocking work from the pool. The commands themselves are
 * in smtpd_cmd.c, AUTH in smtpd_auth.c.
 *
 * Flow control: while a task or a tarpit delay is pending the session is
 * "busy": input stays in the bufferevent (bounded by its read high-water
 * mark, so a pipelining client is throttled by TCP) and the timer is off.
 * Replies are only appended to the output buffer; libevent writes them
 * after the callback returns, so pipelined replies go out together.
 */
#include "smtpd.h"
#include "global/ids.h"
#include "global/metrics.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SMTPD_INPUT_HIWAT (256 * 1024)
#define SMTPD_OUTPUT_MAX (256 * 1024)
#define SMTPD_CLOSE_WAIT_MS 10000

static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);
static void timer_cb(evutil_socket_t fd, short what, void *arg);
static void tarpit_cb(evutil_socket_t fd, short what, void *arg);

static const char *state_name(enum smtpd_state st)
{
    static const char *const names[] = {"TLS handshake", "command", "AUTH", "DATA",
                                        "BDAT",          "command", "QUIT"};
    return names[st];
}

/* ---- output -------------------------------------------------------------- */

void smtpd_session_reply(struct session *s, const char *fmt, ...)
{
    char line[SMTPD_REPLY_MAX + 3];
    va_list ap;
    int n;

    if (s->dead || s->bev == NULL)
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, SMTPD_REPLY_MAX + 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > SMTPD_REPLY_MAX)
        n = SMTPD_REPLY_MAX;
    line[n++] = '\r';
    line[n++] = '\n';
    bufferevent_write(s->bev, line, (size_t)n);
    if (line[0] == '4' || line[0] == '5') {
        /* too-many-recipients and our own trouble (451 4.3.0: broker or
         * database away) are not the client's errors; 421 closes anyway */
        if (strncmp(line, "452 4.5.3", 9) != 0 && strncmp(line, "451 4.3.0", 9) != 0 &&
            strncmp(line, "421", 3) != 0)
            s->errors++;
    }
}

/* ---- the life of a session ----------------------------------------------- */

static int ip_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

static void setup_bev(struct session *s)
{
    struct timeval wt = {smtpd_conf.timeout / 1000, (smtpd_conf.timeout % 1000) * 1000};

    bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
    bufferevent_setwatermark(s->bev, EV_READ, 0, SMTPD_INPUT_HIWAT);
    bufferevent_set_max_single_read(s->bev, SMTPD_INPUT_HIWAT / 2); /* big reads during DATA */
    bufferevent_set_timeouts(s->bev, NULL, &wt);
    bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

static void session_free(struct session *s)
{
    struct smtpd_loop *loop = s->loop;
    int64_t secs = (timeutil_mono_ms() - s->connected_ms) / 1000;

    msg_info("%s: disconnect from [%s]:%d%s%s, queued=%d, errors=%d, seconds=%lld", s->id, s->ip,
             s->port, s->sasl ? ", sasl_username=" : "", s->sasl ? s->sasl_user : "", s->nqueued,
             s->errors, (long long)secs);
    if (s->prev)
        s->prev->next = s->next;
    else
        loop->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    loop->nsessions--;
    event_free(s->timer);
    event_free(s->tarpit);
    if (s->bev) {
        bufferevent_setcb(s->bev, NULL, NULL, NULL, NULL);
        bufferevent_free(s->bev);
    }
    if (!s->bev_owns_fd)
        evutil_closesocket(s->fd);
    smtpd_cmd_txn_free(s->txn);
    auth_account_free(&s->acct);
    xwipestr(s->login_user);
    xfree(s->rerun);
    if (s->ip_counted)
        smtpd_server_ip_release(s->ip);
    metrics_count("txmail_smtpd_disconnects_total", NULL, NULL, 1);
    xfree(s);
}

/* session_close - drop the connection now (after a task that is still running) */
static void session_close(struct session *s)
{
    if (s->busy) {
        s->dead = 1;
        if (s->bev)
            bufferevent_disable(s->bev, EV_READ | EV_WRITE);
        event_del(s->timer);
        return;
    }
    session_free(s);
}

/* smtpd_session_close_after_write - the reply just written is the last one */
void smtpd_session_close_after_write(struct session *s)
{
    s->state = SS_CLOSING;
    s->t0 = timeutil_mono_ms();
    if (s->bev) {
        bufferevent_disable(s->bev, EV_READ);
        if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
            bufferevent_trigger(s->bev, EV_WRITE,
                                BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    }
}

void smtpd_session_accept(struct smtpd_loop *loop, const struct smtpd_listener *lis,
                          evutil_socket_t fd, struct sockaddr *sa, int over_limit)
{
    struct session *s = xcalloc(1, sizeof(*s));
    unsigned char rnd[6];

    s->loop = loop;
    s->lis = lis;
    s->fd = fd;
    s->connected_ms = s->t0 = timeutil_mono_ms();
    ids_random_bytes(rnd, sizeof(rnd));
    for (int i = 0; i < 6; i++)
        snprintf(s->id + 2 * i, 3, "%02X", rnd[i]);
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, s->ip, sizeof(s->ip));
        s->port = ntohs(((struct sockaddr_in *)sa)->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, s->ip, sizeof(s->ip));
        s->port = ntohs(((struct sockaddr_in6 *)sa)->sin6_port);
    } else
        snprintf(s->ip, sizeof(s->ip), "unknown");
    s->loopback = ip_is_loopback(sa);
    s->ip_counted = over_limit == 0;
    s->next = loop->sessions;
    if (loop->sessions)
        loop->sessions->prev = s;
    loop->sessions = s;
    loop->nsessions++;
    s->timer = evtimer_new(loop->base, timer_cb, s);
    s->tarpit = evtimer_new(loop->base, tarpit_cb, s);
    evutil_make_socket_nonblocking(fd);
    if (lis->implicit_tls) {
        SSL *ssl = smtpd_tls_new();
        if (ssl == NULL) {
            s->bev_owns_fd = 0;
            session_free(s);
            return;
        }
        s->bev = bufferevent_openssl_socket_new(loop->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
        s->bev_owns_fd = 1;
        s->state = SS_HANDSHAKE;
    } else {
        s->bev = bufferevent_socket_new(loop->base, fd, BEV_OPT_DEFER_CALLBACKS);
        s->state = SS_CMD;
    }
    if (s->bev == NULL) {
        msg_warn("%s: cannot create a bufferevent", s->ip);
        session_free(s);
        return;
    }
    setup_bev(s);
    metrics_count("txmail_smtpd_connections_total", "listener",
                  lis->implicit_tls ? "smtps" : "smtp", 1);
    msg_info("%s: connect from [%s]:%d on %s", s->id, s->ip, s->port, lis->text);
    if (over_limit) {
        if (over_limit == -1)
            smtpd_session_reply(s, "421 4.7.0 %s Error: too many connections from %s",
                                txconf.myhostname, s->ip);
        else if (over_limit == -2)
            smtpd_session_reply(s, "421 4.3.2 %s Service not available: too many connections",
                                txconf.myhostname);
        else
            smtpd_session_reply(s, "421 4.3.2 %s Service shutting down", txconf.myhostname);
        msg_info("%s: refused [%s]: %s", s->id, s->ip,
                 over_limit == -1   ? "per-IP connection limit"
                 : over_limit == -2 ? "connection limit"
                                    : "shutting down");
        metrics_count("txmail_smtpd_refused_total", "reason", over_limit == -1 ? "per_ip" : "total",
                      1);
        if (lis->implicit_tls)
            s->state = SS_HANDSHAKE; /* the reply goes out after the handshake */
        smtpd_session_close_after_write(s);
        return;
    }
    smtpd_session_reply(s, "220 %s ESMTP txmail", txconf.myhostname);
    smtpd_session_arm(s);
}

/* ---- STARTTLS ----------------------------------------------------------- */

/* start_tls - the 220 is out: the same socket continues under TLS */
static void start_tls(struct session *s)
{
    SSL *ssl = smtpd_tls_new();

    s->starttls_pending = 0;
    bufferevent_setcb(s->bev, NULL, NULL, NULL, NULL);
    bufferevent_free(s->bev); /* the socket stays open: it is not the bev's */
    s->bev = NULL;
    if (ssl == NULL) {
        session_close(s);
        return;
    }
    s->bev = bufferevent_openssl_socket_new(s->loop->base, s->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                            BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (s->bev == NULL) {
        SSL_free(ssl);
        session_close(s);
        return;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
    s->bev_owns_fd = 1;
    s->state = SS_HANDSHAKE;
    s->t0 = timeutil_mono_ms();
    setup_bev(s);
    smtpd_session_arm(s);
}

/* smtpd_session_starttls - reply 220, forget what came with the command, switch after the flush */
void smtpd_session_starttls(struct session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bev);
    size_t extra = evbuffer_get_length(in);

    smtpd_session_reply(s, "220 2.0.0 Ready to start TLS");
    if (extra) {
        /* text pipelined after STARTTLS was sent in the clear: never act on it */
        msg_warn("%s: [%s]: %zu octets after STARTTLS discarded (command injection)", s->id, s->ip,
                 extra);
        evbuffer_drain(in, extra);
    }
    bufferevent_disable(s->bev, EV_READ);
    s->state = SS_HANDSHAKE;
    s->starttls_pending = 1;
    /* RFC 3207 4.2: everything learned before TLS is forgotten */
    s->helo_seen = s->esmtp = 0;
    s->helo[0] = 0;
    s->authenticated = s->sasl = 0;
    s->ipauth_tried = 0;
    auth_account_free(&s->acct);
    smtpd_cmd_txn_free(s->txn);
    s->txn = NULL;
}

/* ---- timers -------------------------------------------------------------- */

/* deadline - when the current wait ends (monotonic ms) */
static int64_t deadline(const struct session *s)
{
    switch (s->state) {
    case SS_DATA:
    case SS_BDAT: {
        /* a slow client gets the timeout plus the time its octets justify */
        int64_t bytes = s->data_bytes;
        return s->data_t0 + smtpd_conf.timeout +
               (smtpd_conf.min_data_rate > 0 ? bytes * 1000 / smtpd_conf.min_data_rate : 0);
    }
    case SS_CLOSING:
        return s->t0 + SMTPD_CLOSE_WAIT_MS;
    default:
        return s->t0 + smtpd_conf.timeout;
    }
}

void smtpd_session_arm(struct session *s)
{
    int64_t left;
    struct timeval tv;

    if (s->busy || s->dead) {
        event_del(s->timer);
        return;
    }
    left = deadline(s) - timeutil_mono_ms();
    if (left < 0)
        left = 0;
    tv.tv_sec = left / 1000;
    tv.tv_usec = (left % 1000) * 1000;
    evtimer_add(s->timer, &tv);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct session *s = arg;

    (void)fd;
    (void)what;
    if (s->busy || s->dead)
        return;
    if (timeutil_mono_ms() < deadline(s)) {
        smtpd_session_arm(s);
        return;
    }
    metrics_count("txmail_smtpd_timeouts_total", NULL, NULL, 1);
    if (s->state == SS_CLOSING || s->state == SS_HANDSHAKE) {
        msg_info("%s: timeout during %s from [%s]", s->id, state_name(s->state), s->ip);
        session_close(s);
        return;
    }
    msg_info("%s: timeout after %s from [%s]%s", s->id, state_name(s->state), s->ip,
             s->state == SS_DATA || s->state == SS_BDAT ? " (message not queued)" : "");
    smtpd_session_reply(s, "421 4.4.2 %s Error: timeout exceeded", txconf.myhostname);
    smtpd_session_close_after_write(s);
    smtpd_session_arm(s);
}

/* smtpd_session_tarpit - send reply after delay_ms (failed AUTH); close after it when close_after */
void smtpd_session_tarpit(struct session *s, int64_t delay_ms, const char *reply, int close_after)
{
    struct timeval tv = {delay_ms / 1000, (delay_ms % 1000) * 1000};

    snprintf(s->tarpit_reply, sizeof(s->tarpit_reply), "%s", reply);
    s->tarpit_close = close_after;
    s->busy = 1;
    event_del(s->timer);
    evtimer_add(s->tarpit, &tv);
}

static void tarpit_cb(evutil_socket_t fd, short what, void *arg)
{
    struct session *s = arg;

    (void)fd;
    (void)what;
    s->busy = 0;
    if (s->dead) {
        session_free(s);
        return;
    }
    smtpd_session_reply(s, "%s", s->tarpit_reply);
    if (s->tarpit_close) {
        smtpd_session_reply(s, "421 4.7.0 %s Error: too many authentication failures",
                            txconf.myhostname);
        smtpd_session_close_after_write(s);
        smtpd_session_arm(s);
        return;
    }
    s->t0 = timeutil_mono_ms();
    smtpd_session_process(s);
}

/* ---- input ---------------------------------------------------------------- */

/* line_limit - the longest line allowed for what is buffered */
static size_t line_limit(struct session *s, struct evbuffer *in)
{
    char head[5];

    if (s->state == SS_AUTH)
        return SMTPD_AUTH_LINE_MAX;
    if (evbuffer_copyout(in, head, 5) == 5 && strncasecmp(head, "AUTH ", 5) == 0)
        return SMTPD_AUTH_LINE_MAX;
    return SMTPD_LINE_MAX;
}

/* read_line - one complete line; 1 handled, 0 need more input */
static int read_line(struct session *s, struct evbuffer *in)
{
    static __thread char line[SMTPD_AUTH_LINE_MAX + 2];
    size_t eol_len = 0, limit = line_limit(s, in), avail = evbuffer_get_length(in), n;
    struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
    int auth = limit == SMTPD_AUTH_LINE_MAX;

    if (p.pos < 0) {
        if (avail >= limit) { /* no end in sight: drop it, answer at its end */
            s->skip_auth = auth;
            s->skip_state = s->state;
            s->state = SS_SKIPLINE;
            evbuffer_drain(in, avail);
            return 1;
        }
        return 0;
    }
    n = (size_t)p.pos; /* without the LF */
    if (n + 1 > limit) {
        evbuffer_drain(in, n + 1);
        if (auth)
            smtpd_session_reply(s, "500 5.5.6 Authentication Exchange line is too long");
        else
            smtpd_session_reply(s, "500 5.5.2 Syntax error");
        msg_info("%s: [%s]: %s line too long (%zu octets)", s->id, s->ip, auth ? "AUTH" : "command",
                 n);
        if (s->state == SS_AUTH)
            smtpd_auth_abort(s);
        return 1;
    }
    evbuffer_remove(in, line, n + 1);
    int bare_lf = n == 0 || line[n - 1] != '\r';
    if (!bare_lf)
        n--;
    line[n] = 0;
    s->t0 = timeutil_mono_ms();
    if (bare_lf || memchr(line, '\r', n)) {
        /* RFC 5321 2.3.8: a line ends with CRLF only; never act on such a line */
        smtpd_session_reply(s, "500 5.5.2 Error: bare <%s> received", bare_lf ? "LF" : "CR");
        msg_info("%s: [%s]: bare <%s> received in a %s line", s->id, s->ip, bare_lf ? "LF" : "CR",
                 s->state == SS_AUTH ? "AUTH" : "command");
        if (s->state == SS_AUTH)
            smtpd_auth_abort(s);
    } else if (s->state == SS_AUTH) {
        smtpd_auth_line(s, line, n);
    } else if (memchr(line, 0, n)) {
        smtpd_session_reply(s, "500 5.5.2 Syntax error");
    } else {
        smtpd_cmd_line(s, line, n);
    }
    explicit_bzero(line, n);
    return 1;
}

/* skip_line - drop an overlong line up to its end, then answer it */
static int skip_line(struct session *s, struct evbuffer *in)
{
    size_t eol_len = 0;
    struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);

    if (p.pos < 0) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return 0;
    }
    evbuffer_drain(in, (size_t)p.pos + 1);
    s->state = s->skip_state == SS_AUTH ? SS_AUTH : SS_CMD;
    s->t0 = timeutil_mono_ms();
    msg_info("%s: [%s]: %s line too long", s->id, s->ip, s->skip_auth ? "AUTH" : "command");
    if (s->skip_auth)
        smtpd_session_reply(s, "500 5.5.6 Authentication Exchange line is too long");
    else
        smtpd_session_reply(s, "500 5.5.2 Syntax error");
    if (s->state == SS_AUTH)
        smtpd_auth_abort(s);
    return 1;
}

/* feed - DATA or BDAT octets into the message; returns octets consumed */
static size_t feed(struct session *s, struct evbuffer *in, size_t max)
{
    struct evbuffer_iovec v[16];
    int nv = evbuffer_peek(in, (ev_ssize_t)max, NULL, v, 16);
    size_t used = 0;
    struct smtpd_txn *t = s->txn;

    for (int i = 0; i < nv && used < max; i++) {
        size_t len = v[i].iov_len;
        if (len > max - used)
            len = max - used;
        if (t == NULL || (s->state == SS_BDAT && s->bdat_discard)) {
            used += len; /* octets of a refused chunk: read and forgotten */
            continue;
        }
        size_t c = smtpd_data_feed(&t->data, v[i].iov_base, len);
        used += c;
        if (c < len || t->data.done)
            break;
    }
    evbuffer_drain(in, used);
    s->data_bytes += (int64_t)used;
    return used;
}

void smtpd_session_process(struct session *s)
{
    while (!s->busy && !s->dead && s->bev) {
        struct evbuffer *in = bufferevent_get_input(s->bev);
        size_t avail = evbuffer_get_length(in);

        if (s->state == SS_CLOSING || s->state == SS_HANDSHAKE || avail == 0)
            break;
        if (evbuffer_get_length(bufferevent_get_output(s->bev)) > SMTPD_OUTPUT_MAX)
            break; /* the client does not read its replies: wait (write_cb resumes) */
        if (s->errors >= smtpd_conf.hard_error_limit) {
            msg_info("%s: [%s]: too many errors", s->id, s->ip);
            smtpd_session_reply(s, "421 4.7.0 %s Error: too many errors", txconf.myhostname);
            smtpd_session_close_after_write(s);
            break;
        }
        switch (s->state) {
        case SS_CMD:
        case SS_AUTH:
            if (!read_line(s, in))
                goto out;
            break;
        case SS_SKIPLINE:
            if (!skip_line(s, in))
                goto out;
            break;
        case SS_DATA:
            feed(s, in, avail);
            if (s->txn && s->txn->data.done)
                smtpd_cmd_data_end(s);
            break;
        case SS_BDAT: {
            size_t take = avail < (size_t)s->bdat_left ? avail : (size_t)s->bdat_left;
            s->bdat_left -= (long long)feed(s, in, take);
            if (s->txn && !s->bdat_discard && s->txn->data.too_big)
                smtpd_cmd_bdat_too_big(s);
            if (s->bdat_left == 0)
                smtpd_cmd_bdat_end(s);
            break;
        }
        default:
            goto out;
        }
    }
out:
    if (!s->dead && s->errors >= smtpd_conf.hard_error_limit && s->state != SS_CLOSING &&
        !s->busy) {
        msg_info("%s: [%s]: too many errors", s->id, s->ip);
        smtpd_session_reply(s, "421 4.7.0 %s Error: too many errors", txconf.myhostname);
        smtpd_session_close_after_write(s);
    }
    if (!s->dead)
        smtpd_session_arm(s);
}

/* ---- bufferevent callbacks ---------------------------------------------------- */

static void read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    smtpd_session_process(arg);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct session *s = arg;

    if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        return;
    if (s->starttls_pending) {
        start_tls(s);
        return;
    }
    if (s->state == SS_CLOSING) {
        session_close(s);
        return;
    }
    smtpd_session_process(s);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct session *s = arg;

    if (what & BEV_EVENT_CONNECTED) {
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        s->tls = 1;
        smtpd_tls_describe(ssl, s->tls_proto, sizeof(s->tls_proto), s->tls_cipher,
                           sizeof(s->tls_cipher));
        msg_info("%s: TLS established with [%s]: %s with cipher %s", s->id, s->ip, s->tls_proto,
                 s->tls_cipher);
        metrics_count("txmail_smtpd_tls_total", NULL, NULL, 1);
        if (s->state == SS_HANDSHAKE) {
            s->state = SS_CMD;
            s->t0 = timeutil_mono_ms();
            smtpd_session_process(s);
        }
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        if (what & BEV_EVENT_ERROR) {
            unsigned long e = bufferevent_get_openssl_error(bev);
            if (e) {
                char buf[200];
                ERR_error_string_n(e, buf, sizeof(buf));
                msg_info("%s: TLS error with [%s]: %s", s->id, s->ip, buf);
            }
        }
        /* commands that arrived before the close are still answered (e.g. QUIT) */
        if (!s->busy && (s->state == SS_CMD || s->state == SS_AUTH))
            smtpd_session_process(s);
        if (s->dead)
            return;
        if (s->state == SS_DATA || s->state == SS_BDAT)
            msg_info("%s: lost connection after %s from [%s] (%lld octets; message not queued)",
                     s->id, state_name(s->state), s->ip, (long long)s->data_bytes);
        else if (s->state != SS_CLOSING)
            msg_info("%s: lost connection after %s from [%s]", s->id, state_name(s->state), s->ip);
        session_close(s);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        msg_info("%s: write timeout to [%s]", s->id, s->ip);
        session_close(s);
    }
}

/* ---- work handed back by the pool ------------------------------------------- */

void smtpd_session_task_done(struct smtpd_task *t)
{
    struct session *s = t->s;
    struct smtpd_task done = *t; /* the handler may submit the next task */

    memset(t, 0, sizeof(*t));
    s->busy = 0;
    if (s->dead) {
        smtpd_cmd_task_release(&done);
        session_free(s);
        return;
    }
    s->t0 = timeutil_mono_ms();
    smtpd_cmd_done(s, &done);
    smtpd_cmd_task_release(&done);
    if (!s->dead && s->state != SS_CLOSING && !s->busy)
        smtpd_session_process(s);
    else if (!s->dead)
        smtpd_session_arm(s);
}

void smtpd_session_shutdown(struct smtpd_loop *loop)
{
    struct session *s, *next;

    for (s = loop->sessions; s; s = next) {
        next = s->next;
        if (s->busy || s->dead || s->state == SS_CLOSING || s->state == SS_DATA ||
            s->state == SS_BDAT)
            continue;
        if (s->state == SS_HANDSHAKE && !s->starttls_pending) {
            session_close(s);
            continue;
        }
        if (s->starttls_pending)
            continue;
        smtpd_session_reply(s, "421 4.3.2 %s Service shutting down", txconf.myhostname);
        smtpd_session_close_after_write(s);
        smtpd_session_arm(s);
    }
}
