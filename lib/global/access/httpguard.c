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
#include "global/access/httpguard.h"
#include "global/access/netaddr.h"
#include "global/metrics.h"
#include "util/hash.h"
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
    struct netaddr key;
    long long count;
};

struct conn {
    struct conn *prev, *next;
    struct httpguard *g;
    int fd;
    struct netaddr key;
    int keyed;     /* counted against key's client */
    int in_header; /* waiting for a request header */
    int timed_out; /* shut down by the sweeper */
    int64_t phase_start;
};

struct httpguard {
    struct httpguard_conf conf;
    char *name, *exempt;
    struct netaddr_list exempt_nets;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t sweeper;
    int stopping;
    struct conn *conns;
    struct client *clients[GUARD_BUCKETS];
    long long refused, expired; /* since the last sweep's log line */
    char last_refused[INET6_ADDRSTRLEN];
};

static unsigned hash(const struct netaddr *key)
{
    return hash_fnv1a_add(hash_fnv1a(&key->family, sizeof(key->family)), key->a, sizeof(key->a)) %
           GUARD_BUCKETS;
}

static struct client *client_find(struct httpguard *g, const struct netaddr *key, int create)
{
    struct client **pp = &g->clients[hash(key)];

    for (struct client *c = *pp; c; c = c->next)
        if (netaddr_equal(&c->key, key))
            return c;
    if (!create)
        return NULL;
    struct client *c = xcalloc(1, sizeof(*c));
    c->key = *key;
    c->next = *pp;
    *pp = c;
    return c;
}

static void client_leave(struct httpguard *g, const struct netaddr *key)
{
    struct client **pp = &g->clients[hash(key)];

    for (struct client *c; (c = *pp) != NULL; pp = &c->next)
        if (netaddr_equal(&c->key, key)) {
            if (--c->count <= 0) {
                *pp = c->next;
                xfree(c);
            }
            return;
        }
    msg_panic("httpguard %s: a client left that was never counted", g->name);
}

/* over_cap - 1 when peer's client (key) already has per_client connections and peer is not exempt */
static int over_cap(struct httpguard *g, const struct netaddr *peer, const struct netaddr *key)
{
    struct client *c;

    if (g->conf.per_client <= 0 || (c = client_find(g, key, 0)) == NULL ||
        c->count < g->conf.per_client)
        return 0;
    return !netaddr_list_match(&g->exempt_nets, peer);
}

static void refused(struct httpguard *g, const struct netaddr *peer)
{
    g->refused++;
    netaddr_text(peer, g->last_refused, sizeof(g->last_refused));
}

enum MHD_Result httpguard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct httpguard *g = cls;
    struct netaddr peer, key;
    int over;

    (void)addrlen;
    if (g == NULL || netaddr_from_sockaddr(&peer, addr) < 0)
        return MHD_YES;
    netaddr_group(&peer, &key);
    pthread_mutex_lock(&g->lock);
    over = over_cap(g, &peer, &key);
    if (over)
        refused(g, &peer);
    pthread_mutex_unlock(&g->lock);
    return over ? MHD_NO : MHD_YES;
}

static void started(struct httpguard *g, struct MHD_Connection *mc, void **socket_context)
{
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct netaddr peer;
    struct conn *c = xcalloc(1, sizeof(*c));

    c->g = g;
    c->fd = fd ? fd->connect_fd : -1;
    c->in_header = 1;
    c->phase_start = timeutil_mono_ms();
    pthread_mutex_lock(&g->lock);
    if (netaddr_from_sockaddr(&peer, ci ? ci->client_addr : NULL) == 0) {
        netaddr_group(&peer, &c->key);
        if (over_cap(g, &peer, &c->key)) {
            /* past the accept check in a race with another thread */
            refused(g, &peer);
            if (c->fd >= 0)
                shutdown(c->fd, SHUT_RDWR);
        } else {
            client_find(g, &c->key, 1)->count++;
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
        client_leave(g, &c->key);
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
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

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
    c->phase_start = timeutil_mono_ms();
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
    int64_t now = timeutil_mono_ms();
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
    char err[160];
    pthread_condattr_t ca;

    g->conf = *conf;
    g->name = xstrdup(conf->name ? conf->name : "http");
    g->exempt = xstrdup(conf->exempt ? conf->exempt : "");
    g->conf.name = g->name;
    g->conf.exempt = g->exempt;
    if (netaddr_list_parse(&g->exempt_nets, g->exempt, err, sizeof(err)) < 0)
        msg_fatal("%s: exempt networks: %s", g->name, err);
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
    netaddr_list_free(&g->exempt_nets);
    xfree(g);
}
