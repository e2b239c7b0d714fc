/*
 * deliver_net - outbound TCP connections with per-call timeouts, plain or
 * TLS (after STARTTLS), with a bounded line reader for SMTP replies.
 *
 * Sockets are non-blocking; every wait is a poll() bounded by the absolute
 * deadline of the phase the caller passes (timeutil_mono_ms() based), never
 * by a time per read or write: a peer that dribbles one byte a second, or
 * sends a thousand reply lines, still costs at most the phase's time
 * (Postfix smtp_per_request_deadline).
 * Failures leave a Postfix-style reason in c->err ("lost connection",
 * "conversation timed out") for the event description.
 */
#include "workers/deliver/deliver.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* wait_fd - poll for events until deadline; 1 ready, 0 timeout, -1 error */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - timeutil_mono_ms();
        struct pollfd p = {fd, events, 0};
        if (left <= 0)
            return 0;
        int r = poll(&p, 1, left > 2147483647 ? 2147483647 : (int)left);
        if (r > 0)
            return 1;
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

static int bind_source(int fd, int family)
{
    union dsock src;

    memset(&src, 0, sizeof(src));
    if (family == AF_INET && inet_pton(AF_INET, deliver_conf.source_ip, &src.in4.sin_addr) == 1) {
        src.in4.sin_family = AF_INET;
        return bind(fd, &src.sa, sizeof(src.in4));
    }
    if (family == AF_INET6 &&
        inet_pton(AF_INET6, deliver_conf.source_ip, &src.in6.sin6_addr) == 1) {
        src.in6.sin6_family = AF_INET6;
        return bind(fd, &src.sa, sizeof(src.in6));
    }
    errno = EAFNOSUPPORT; /* a source address of the other family */
    return -1;
}

struct dconn *deliver_net_connect(const union dsock *addr, int port, const char *host, char *err,
                                  size_t errsz)
{
    int family = addr->sa.sa_family, one = 1;
    union dsock to = *addr;
    socklen_t len = family == AF_INET6 ? sizeof(to.in6) : sizeof(to.in4);
    char ip[INET6_ADDRSTRLEN] = "?";
    int fd;

    if (family == AF_INET6) {
        to.in6.sin6_port = htons((unsigned short)port);
        inet_ntop(AF_INET6, &to.in6.sin6_addr, ip, sizeof(ip));
    } else {
        to.in4.sin_port = htons((unsigned short)port);
        inet_ntop(AF_INET, &to.in4.sin_addr, ip, sizeof(ip));
    }
    fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errsz, "connect to %s[%s]:%d: socket: %s", host, ip, port, strerror(errno));
        return NULL;
    }
    if (*deliver_conf.source_ip && bind_source(fd, family) < 0) {
        snprintf(err, errsz, "connect to %s[%s]:%d: cannot bind source address %s: %s", host, ip,
                 port, deliver_conf.source_ip, strerror(errno));
        close(fd);
        return NULL;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, &to.sa, len) < 0) {
        int e = errno;
        if (e == EINPROGRESS) {
            int r = wait_fd(fd, POLLOUT, timeutil_mono_ms() + deliver_conf.connect_timeout);
            socklen_t elen = sizeof(e);
            if (r == 0)
                e = ETIMEDOUT;
            else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
                e = errno;
        }
        if (e != 0) {
            snprintf(err, errsz, "connect to %s[%s]:%d: %s", host, ip, port,
                     e == ETIMEDOUT ? "Connection timed out" : strerror(e));
            close(fd);
            return NULL;
        }
    }
    struct dconn *c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    snprintf(c->host, sizeof(c->host), "%s", host);
    snprintf(c->ip, sizeof(c->ip), "%s", ip);
    c->port = port;
    snprintf(c->key, sizeof(c->key), "%s|%d|%s", ip, port, deliver_conf.source_ip);
    snprintf(c->tls_desc, sizeof(c->tls_desc), "none");
    c->born_ms = c->last_ms = timeutil_mono_ms();
    return c;
}

static void fail(struct dconn *c, const char *what)
{
    c->broken = 1;
    if (!c->err[0])
        snprintf(c->err, sizeof(c->err), "%s", what);
}

/* wait_or_fail - wait for events on the connection until deadline; -1 timed out or lost (c->err) */
static int wait_or_fail(struct dconn *c, short events, int64_t deadline)
{
    int r = wait_fd(c->fd, events, deadline);

    if (r <= 0) {
        fail(c, r == 0 ? "conversation timed out" : "lost connection");
        return -1;
    }
    return 0;
}

/* fill - read more into rbuf; 1 got data, -1 failure (c->err) */
static int fill(struct dconn *c, int64_t deadline)
{
    if (c->rpos > 0 && c->rpos == c->rlen)
        c->rpos = c->rlen = 0;
    if (c->rpos > 0 && c->rlen == sizeof(c->rbuf)) {
        memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
        c->rlen -= c->rpos;
        c->rpos = 0;
    }
    if (c->rlen == sizeof(c->rbuf)) {
        fail(c, "reply line too long");
        return -1;
    }
    for (;;) {
        short ev = POLLIN;
        if (c->ssl) {
            ERR_clear_error();
            int n = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(sizeof(c->rbuf) - c->rlen));
            if (n > 0) {
                c->rlen += (size_t)n;
                return 1;
            }
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_WRITE)
                ev = POLLOUT;
            else if (e != SSL_ERROR_WANT_READ) {
                fail(c, e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL
                            ? "lost connection"
                            : "lost connection (TLS error)");
                return -1;
            }
        } else {
            ssize_t n = read(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
            if (n > 0) {
                c->rlen += (size_t)n;
                return 1;
            }
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                fail(c, "lost connection");
                return -1;
            }
        }
        if (wait_or_fail(c, ev, deadline) < 0)
            return -1;
    }
}

int deliver_net_read_line(struct dconn *c, char *line, size_t max, size_t *len, int64_t deadline)
{
    if (c->broken)
        return -1;
    for (;;) {
        char *lf = memchr(c->rbuf + c->rpos, '\n', c->rlen - c->rpos);
        if (lf) {
            size_t n = (size_t)(lf - (c->rbuf + c->rpos));
            size_t take = n;
            if (take > 0 && c->rbuf[c->rpos + take - 1] == '\r')
                take--;
            if (take >= max)
                take = max - 1;
            memcpy(line, c->rbuf + c->rpos, take);
            line[take] = 0;
            *len = take;
            c->rpos += n + 1;
            c->last_ms = timeutil_mono_ms();
            return 1;
        }
        if (fill(c, deadline) < 0)
            return -1;
    }
}

int deliver_net_write(struct dconn *c, const void *buf, size_t len, int64_t deadline)
{
    const char *p = buf;

    if (c->broken)
        return -1;
    while (len > 0) {
        short ev = POLLOUT;
        if (c->ssl) {
            ERR_clear_error();
            int chunk = len > (1 << 30) ? (1 << 30) : (int)len;
            int n = SSL_write(c->ssl, p, chunk);
            if (n > 0) {
                p += n;
                len -= (size_t)n;
                continue;
            }
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_READ)
                ev = POLLIN;
            else if (e != SSL_ERROR_WANT_WRITE) {
                fail(c, "lost connection");
                return -1;
            }
        } else {
            ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
            if (n > 0) {
                p += n;
                len -= (size_t)n;
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                fail(c, "lost connection");
                return -1;
            }
        }
        if (wait_or_fail(c, ev, deadline) < 0)
            return -1;
    }
    c->last_ms = timeutil_mono_ms();
    return 0;
}

void deliver_net_close(struct dconn *c, int polite)
{
    if (c == NULL)
        return;
    if (polite && !c->broken) {
        /* QUIT without waiting for the answer: the peer may be slow and
         * nothing depends on it */
        if (c->ssl) {
            ERR_clear_error();
            SSL_write(c->ssl, "QUIT\r\n", 6);
            SSL_shutdown(c->ssl);
        } else if (send(c->fd, "QUIT\r\n", 6, MSG_NOSIGNAL) < 0) {
            /* gone already */
        }
    }
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->fd >= 0)
        close(c->fd);
    xfree(c);
}
