/*
 * spamc - the client side of spamc.h: one TCP connection per message to
 * the first spamd of a list that answers, every step under a deadline.
 */
#include "global/spamc/spamc.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* split_addr - "host:port" or "[v6]:port" into host and port; -1 when malformed */
static int split_addr(const char *a, size_t n, char *host, size_t hostsz, char *port, size_t portsz)
{
    const char *colon;
    size_t hl;

    if (n > 0 && a[0] == '[') {
        const char *rb = memchr(a, ']', n);

        if (rb == NULL || (size_t)(rb - a) + 1 >= n || rb[1] != ':')
            return -1;
        hl = (size_t)(rb - a - 1);
        a++;
        colon = rb + 1;
    } else {
        colon = memrchr(a, ':', n);
        if (colon == NULL)
            return -1;
        hl = (size_t)(colon - a);
    }
    if (hl == 0 || hl >= hostsz || (size_t)(a + n - colon - 1) >= portsz || a + n - colon - 1 == 0)
        return -1;
    memcpy(host, a, hl);
    host[hl] = 0;
    memcpy(port, colon + 1, (size_t)(a + n - colon - 1));
    port[a + n - colon - 1] = 0;
    return 0;
}

/* wait_fd - poll fd for events until deadline; 1 ready, 0 timed out, -1 error */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - timeutil_now_ms();
        struct pollfd pf = {fd, events, 0};
        int r;

        if (left <= 0)
            return 0;
        r = poll(&pf, 1, (int)(left > 60000 ? 60000 : left));
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

/* dial - a connected non-blocking socket to host:port, or -1 (err set) */
static int dial(const char *host, const char *port, int connect_ms, char *err, size_t errsz)
{
    struct addrinfo hints, *res = NULL, *ai;
    int fd = -1, rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
        snprintf(err, errsz, "%s", gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS) {
            rc = wait_fd(fd, POLLOUT, timeutil_now_ms() + connect_ms);
            if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
                break;
            errno = rc == 0 ? ETIMEDOUT : soerr ? soerr : errno;
        }
        snprintf(err, errsz, "connect: %s", strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* send_all - write n bytes before deadline; 0 or -1 */
static int send_all(int fd, const char *p, size_t n, int64_t deadline, char *err, size_t errsz)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

        if (w > 0) {
            p += w, n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            snprintf(err, errsz, "send: %s", strerror(errno));
            return -1;
        }
        if (wait_fd(fd, POLLOUT, deadline) != 1) {
            snprintf(err, errsz, "timed out sending the message");
            return -1;
        }
    }
    return 0;
}

/* exchange - REPORT one message over fd, the whole answer into buf; its length or -1 */
static long exchange(int fd, const char *msg, size_t len, int64_t deadline, char *buf, char *err,
                     size_t errsz)
{
    char head[96];
    size_t got = 0;
    int hl = snprintf(head, sizeof(head), "REPORT SPAMC/1.5\r\nContent-length: %zu\r\n\r\n", len);

    if (send_all(fd, head, (size_t)hl, deadline, err, errsz) < 0 ||
        send_all(fd, msg, len, deadline, err, errsz) < 0)
        return -1;
    shutdown(fd, SHUT_WR);
    for (;;) {
        ssize_t r = recv(fd, buf + got, SPAMC_REPLY_MAX + 1 - got, 0);

        if (r == 0)
            return (long)got;
        if (r > 0) {
            got += (size_t)r;
            if (got > SPAMC_REPLY_MAX) {
                snprintf(err, errsz, "answer longer than %d bytes", SPAMC_REPLY_MAX);
                return -1;
            }
            continue;
        }
        if (errno != EAGAIN && errno != EINTR) {
            snprintf(err, errsz, "recv: %s", strerror(errno));
            return -1;
        }
        if (wait_fd(fd, POLLIN, deadline) != 1) {
            snprintf(err, errsz, "timed out waiting for the answer");
            return -1;
        }
    }
}

/* try_one - one spamd (the address text a, n bytes): 0, or -1 with err */
static int try_one(const char *a, size_t n, int connect_ms, int timeout_ms, const char *msg,
                   size_t len, char *buf, struct spamc_result *r, char *used, size_t usedsz,
                   char *err, size_t errsz)
{
    char host[256], port[16], why[200];
    int64_t deadline = timeutil_now_ms() + timeout_ms;
    int fd;
    long got;

    while (n > 0 && *a == ' ')
        a++, n--;
    while (n > 0 && a[n - 1] == ' ')
        n--;
    if (split_addr(a, n, host, sizeof(host), port, sizeof(port)) < 0) {
        snprintf(err, errsz, "bad spamd address \"%.*s\"", (int)(n > 100 ? 100 : n), a);
        return -1;
    }
    if ((fd = dial(host, port, connect_ms, why, sizeof(why))) < 0) {
        snprintf(err, errsz, "%s:%s: %s", host, port, why);
        return -1;
    }
    got = exchange(fd, msg, len, deadline, buf, why, sizeof(why));
    close(fd);
    if (got < 0 || spamc_reply_parse(buf, (size_t)got, r, why, sizeof(why)) < 0) {
        snprintf(err, errsz, "%s:%s: %s", host, port, why);
        return -1;
    }
    if (used)
        snprintf(used, usedsz, "%s:%s", host, port);
    return 0;
}

int spamc_check(const char *addrs, int connect_ms, int timeout_ms, const char *msg, size_t len,
                struct spamc_result *r, char *used, size_t usedsz, char *err, size_t errsz)
{
    static unsigned rotation;
    const char *start[SPAMC_ADDRS_MAX];
    size_t lens[SPAMC_ADDRS_MAX];
    int n = 0, first, ok = -1;
    char *buf;

    snprintf(err, errsz, "no spamd address");
    for (const char *a = addrs; a && *a && n < SPAMC_ADDRS_MAX; n++) {
        const char *comma = strchr(a, ',');

        start[n] = a;
        lens[n] = comma ? (size_t)(comma - a) : strlen(a);
        a = comma ? comma + 1 : NULL;
    }
    if (n == 0)
        return -1;
    buf = xmalloc(SPAMC_REPLY_MAX + 1);
    first = (int)(__atomic_fetch_add(&rotation, 1, __ATOMIC_RELAXED) % (unsigned)n);
    for (int i = 0; i < n && ok < 0; i++) {
        int k = (first + i) % n;

        ok = try_one(start[k], lens[k], connect_ms, timeout_ms, msg, len, buf, r, used, usedsz, err,
                     errsz);
    }
    xfree(buf);
    return ok;
}
