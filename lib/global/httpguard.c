/*
 * httpguard - header deadline and per-client cap for MHD listeners; see
 * httpguard.h.
 *
 * Every connection MHD reports as started gets a record on the guard's
 * list (under the guard's lock) with its socket, its client key and the
 * start of its current header phase. The sweeper walks the list twice a
 * second and shuts down the socket of each connection whose header phase
 * is over its deadline: MHD then reads end-of-file, closes the connection
 * and reports it closed, which is where the record goes. The socket is
 * only touched under the lock and the record leaves the list (in the
 * closed notification) before MHD closes the descriptor, so a reused
 * descriptor number is never shut down by mistake.
 *
 * A connection whose socket still holds bytes the server has not read is
 * not closed: its header may be complete and waiting for a busy thread
 * (MHD threads block while a request talks to the broker and the
 * database), so the deadline only ever counts against the client.
 *
 * The cap is checked at accept time (cheap: before MHD allocates the
 * connection or a TLS session) and counted when the connection starts;
 * a connection that wins a race past the check is shut down at once.
 */
#include "global/httpguard.h"
#include "global/metrics.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define GUARD_BUCKETS 4096
#define GUARD_SWEEP_MS 500

struct client {
    struct client *next;
    unsigned char key[17];
    long long count;
};

struct conn {
    struct conn *prev, *next;
    struct httpguard *g;
    int fd;
    unsigned char key[17];
    int keyed;                  /* counted against key's client */
    int in_header;              /* waiting for a request header */
    int timed_out;              /* shut down by the sweeper */
    int64_t phase_start;
};

struct httpguard {
    struct httpguard_conf conf;
    char *name, *exempt;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t sweeper;
    int stopping;
    struct conn *conns;
    struct client *clients[GUARD_BUCKETS];
    long long refused, expired; /* since the last sweep's log line */
    char last_refused[INET6_ADDRSTRLEN];
};

static unsigned hash(const unsigned char key[17])
{
    unsigned h = 2166136261u;

    for (int i = 0; i < 17; i++)
        h = (h ^ key[i]) * 16777619u;
    return h % GUARD_BUCKETS;
}

int httpguard_client_key(const struct sockaddr *addr, unsigned char key[17])
{
    memset(key, 0, 17);
    if (addr == NULL)
        return -1;
    if (addr->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)addr)->sin_addr, 4);
        return 0;
    }
    if (addr->sa_family == AF_INET6) {
        const unsigned char *a = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, mapped, 12) == 0) {
            key[0] = 4;         /* an IPv4 client on a dual-stack socket */
            memcpy(key + 1, a + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, a, 8); /* the /64 */
        }
        return 0;
    }
    return -1;
}

/* net_match - addr in the network "a.b.c.d[/n]" or "v6[/n]" of t[0..len) */
static int net_match(const char *t, size_t len, const struct sockaddr *addr)
{
    char text[64];
    unsigned char net[16], have[16];
    int fam, bits, alen;
    char *slash, *end;

    if (len == 0 || len >= sizeof(text))
        return 0;
    memcpy(text, t, len);
    text[len] = 0;
    if ((slash = strchr(text, '/')) != NULL)
        *slash++ = 0;
    if (inet_pton(AF_INET, text, net) == 1)
        fam = AF_INET, alen = 4;
    else if (inet_pton(AF_INET6, text, net) == 1)
        fam = AF_INET6, alen = 16;
    else
        return -1;
    bits = alen * 8;
    if (slash) {
        long b = strtol(slash, &end, 10);
        if (*slash == 0 || *end || b < 0 || b > alen * 8)
            return -1;
        bits = (int)b;
    }
    if (addr->sa_family == AF_INET)
        memcpy(have, &((const struct sockaddr_in *)addr)->sin_addr, 4);
    else if (addr->sa_family == AF_INET6)
        memcpy(have, ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr, 16);
    else
        return 0;
    if (addr->sa_family == AF_INET6 && fam == AF_INET) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(have, mapped, 12) != 0)
            return 0;
        memmove(have, have + 12, 4);
    } else if ((addr->sa_family == AF_INET) != (fam == AF_INET)) {
        return 0;
    }
    for (int i = 0; i < bits / 8; i++)
        if (have[i] != net[i])
            return 0;
    if (bits % 8) {
        unsigned char m = (unsigned char)(0xff << (8 - bits % 8));
        if ((have[bits / 8] & m) != (net[bits / 8] & m))
            return 0;
    }
    return 1;
}

/* in_nets - 1 in a network of list, 0 not, -1 list has a bad entry (all: check every entry) */
static int in_nets(const char *list, const struct sockaddr *addr, int all)
{
    const char *p = list ? list : "";
    int bad = 0, in = 0;

    while (*p) {
        size_t n = strcspn(p, ", \t");
        if (n > 0) {
            int m = net_match(p, n, addr);
            if (m == 1 && !all)
                return 1;
            in |= m == 1;
            bad |= m < 0;
        }
        p += n;
        p += strspn(p, ", \t");
    }
    return bad ? -1 : in;
}

int httpguard_in_nets(const char *list, const struct sockaddr *addr)
{
    return addr != NULL && in_nets(list, addr, 0) == 1;
}

static struct client *client_find(struct httpguard *g, const unsigned char key[17], int create)
{
    struct client **pp = &g->clients[hash(key)];

    for (struct client *c = *pp; c; c = c->next)
        if (memcmp(c->key, key, 17) == 0)
            return c;
    if (!create)
        return NULL;
    struct client *c = xcalloc(1, sizeof(*c));
    memcpy(c->key, key, 17);
    c->next = *pp;
    *pp = c;
    return c;
}

static void client_leave(struct httpguard *g, const unsigned char key[17])
{
    struct client **pp = &g->clients[hash(key)];

    for (struct client *c; (c = *pp) != NULL; pp = &c->next)
        if (memcmp(c->key, key, 17) == 0) {
            if (--c->count <= 0) {
                *pp = c->next;
                xfree(c);
            }
            return;
        }
    msg_panic("httpguard %s: a client left that was never counted", g->name);
}

/* over_cap - 1 when addr already has per_client connections and is not exempt */
static int over_cap(struct httpguard *g, const struct sockaddr *addr, const unsigned char key[17])
{
    struct client *c;

    if (g->conf.per_client <= 0 || (c = client_find(g, key, 0)) == NULL || c->count < g->conf.per_client)
        return 0;
    return !httpguard_in_nets(g->exempt, addr);
}

static void refused(struct httpguard *g, const struct sockaddr *addr)
{
    g->refused++;
    if (addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, g->last_refused, sizeof(g->last_refused));
    else if (addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, g->last_refused, sizeof(g->last_refused));
}

enum MHD_Result httpguard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct httpguard *g = cls;
    unsigned char key[17];
    int over;

    (void)addrlen;
    if (g == NULL || httpguard_client_key(addr, key) < 0)
        return MHD_YES;
    pthread_mutex_lock(&g->lock);
    over = over_cap(g, addr, key);
    if (over)
        refused(g, addr);
    pthread_mutex_unlock(&g->lock);
    return over ? MHD_NO : MHD_YES;
}

static void started(struct httpguard *g, struct MHD_Connection *mc, void **socket_context)
{
    const union MHD_ConnectionInfo *fd = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *addr = ci ? ci->client_addr : NULL;
    struct conn *c = xcalloc(1, sizeof(*c));

    c->g = g;
    c->fd = fd ? fd->connect_fd : -1;
    c->in_header = 1;
    c->phase_start = time_mono_ms();
    pthread_mutex_lock(&g->lock);
    if (httpguard_client_key(addr, c->key) == 0) {
        if (over_cap(g, addr, c->key)) {
            /* past the accept check in a race with another thread */
            refused(g, addr);
            if (c->fd >= 0)
                shutdown(c->fd, SHUT_RDWR);
        } else {
            client_find(g, c->key, 1)->count++;
            c->keyed = 1;
        }
    }
    c->next = g->conns;
    if (g->conns)
        g->conns->prev = c;
    g->conns = c;
    pthread_mutex_unlock(&g->lock);
    *socket_context = c;
}

static void closed(struct httpguard *g, void **socket_context)
{
    struct conn *c = *socket_context;

    if (c == NULL)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->keyed)
        client_leave(g, c->key);
    pthread_mutex_unlock(&g->lock);
    xfree(c);
    *socket_context = NULL;
}

void httpguard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe)
{
    struct httpguard *g = cls;

    if (g == NULL)
        return;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        started(g, c, socket_context);
    else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        closed(g, socket_context);
}

static struct conn *conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

void httpguard_headers_done(struct MHD_Connection *mc)
{
    struct conn *c = conn_of(mc);

    if (c == NULL || !c->in_header)
        return;
    pthread_mutex_lock(&c->g->lock);
    c->in_header = 0;
    pthread_mutex_unlock(&c->g->lock);
}

void httpguard_request_done(struct MHD_Connection *mc)
{
    struct conn *c = conn_of(mc);

    if (c == NULL)
        return;
    pthread_mutex_lock(&c->g->lock);
    c->in_header = 1;
    c->phase_start = time_mono_ms();
    pthread_mutex_unlock(&c->g->lock);
}

int httpguard_timed_out(struct MHD_Connection *mc)
{
    struct conn *c = conn_of(mc);
    int t;

    if (c == NULL)
        return 0;
    pthread_mutex_lock(&c->g->lock);
    t = c->timed_out;
    pthread_mutex_unlock(&c->g->lock);
    return t;
}

static void sweep(struct httpguard *g)
{
    int64_t now = time_mono_ms();
    long long expired, refused_n;
    char last[INET6_ADDRSTRLEN];

    pthread_mutex_lock(&g->lock);
    if (g->conf.header_ms > 0)
        for (struct conn *c = g->conns; c; c = c->next)
            if (c->in_header && !c->timed_out && now - c->phase_start > g->conf.header_ms) {
                int unread = 0;
                /* bytes the server has not read yet: the delay is ours (every
                 * thread busy), not the client's; look again at the next sweep */
                if (c->fd >= 0 && ioctl(c->fd, FIONREAD, &unread) == 0 && unread > 0)
                    continue;
                c->timed_out = 1;
                if (c->fd >= 0)
                    shutdown(c->fd, SHUT_RDWR);
                g->expired++;
            }
    expired = g->expired;
    refused_n = g->refused;
    memcpy(last, g->last_refused, sizeof(last));
    g->expired = g->refused = 0;
    pthread_mutex_unlock(&g->lock);
    if (expired) {
        metrics_count("txmail_http_guard_total", "outcome", "header_timeout", expired);
        msg_info("%s: closed %lld connection(s) whose request header did not arrive within %lld ms",
                 g->name, expired, (long long)g->conf.header_ms);
    }
    if (refused_n) {
        metrics_count("txmail_http_guard_total", "outcome", "client_cap", refused_n);
        msg_info("%s: refused %lld connection(s) over %lld per client address (last from %s)",
                 g->name, refused_n, g->conf.per_client, last);
    }
}

static void *sweeper(void *arg)
{
    struct httpguard *g = arg;
    struct timespec ts;

    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += GUARD_SWEEP_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&g->cond, &g->lock, &ts);
        if (g->stopping)
            break;
        pthread_mutex_unlock(&g->lock);
        sweep(g);
        pthread_mutex_lock(&g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

struct httpguard *httpguard_create(const struct httpguard_conf *conf)
{
    struct httpguard *g = xcalloc(1, sizeof(*g));
    struct sockaddr_in probe = {.sin_family = AF_INET};
    pthread_condattr_t ca;

    g->conf = *conf;
    g->name = xstrdup(conf->name ? conf->name : "http");
    g->exempt = xstrdup(conf->exempt ? conf->exempt : "");
    g->conf.name = g->name;
    g->conf.exempt = g->exempt;
    if (in_nets(g->exempt, (struct sockaddr *)&probe, 1) < 0)
        msg_fatal("%s: bad network in \"%s\" (address or address/bits)", g->name, g->exempt);
    pthread_mutex_init(&g->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cond, &ca);
    pthread_condattr_destroy(&ca);
    if ((errno = pthread_create(&g->sweeper, NULL, sweeper, g)) != 0)
        msg_fatal("%s: cannot start the connection sweeper: %m", g->name);
    return g;
}

void httpguard_free(struct httpguard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = 1;
    pthread_cond_signal(&g->cond);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->sweeper, NULL);
    /* MHD_stop_daemon reported every connection closed; anything left is freed */
    while (g->conns) {
        struct conn *c = g->conns;
        g->conns = c->next;
        xfree(c);
    }
    for (int i = 0; i < GUARD_BUCKETS; i++)
        while (g->clients[i]) {
            struct client *c = g->clients[i];
            g->clients[i] = c->next;
            xfree(c);
        }
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->cond);
    xfree(g->name);
    xfree(g->exempt);
    xfree(g);
}
