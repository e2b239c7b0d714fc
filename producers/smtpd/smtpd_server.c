/*
 * smtpd_server - listeners, event-loop threads, connection limits and
 * the hand-back of finished pool work to the loop that owns the session.
 *
 * Every loop thread binds its own listening socket for each configured
 * address (SO_REUSEPORT), so the kernel spreads new connections over the
 * loops and a session lives on one loop for its whole life. Pool threads
 * hand a finished task back by appending it to the loop's done list and
 * writing to the loop's eventfd.
 */
#include "smtpd.h"
#include "global/access/netaddr.h"
#include "global/metrics.h"
#include "util/hash.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SMTPD_LOOPS_MAX 32
#define IPTAB_SIZE 4096

struct smtpd_listener smtpd_listeners[SMTPD_MAX_LISTEN];
int smtpd_nlisteners;

static struct smtpd_loop loops[SMTPD_LOOPS_MAX];
static int nloops;
static atomic_int stop_requested; /* graceful: stop accepting, close idle sessions */
static atomic_int force_stop;     /* grace period over */

/* ---- per-IP connection counts -------------------------------------------- */

struct ipcount {
    char ip[64];
    int n;
    struct ipcount *next;
};

static pthread_mutex_t iplock = PTHREAD_MUTEX_INITIALIZER;
static struct ipcount *iptab[IPTAB_SIZE];
static int connections;

/*
 * ip_take - count a new connection of client address ip; 0 ok, -1 over the
 * per-client limit, -2 over the total. Clients are counted by group (an
 * IPv4 address, an IPv6 /64: netaddr_group_text), so one IPv6 host cannot
 * step around smtpd_max_per_ip with the addresses of its own /64.
 */
static int ip_take(const char *client)
{
    char ip[64];
    unsigned h;
    struct ipcount *c;
    int rc = 0;

    netaddr_group_text(client, ip, sizeof(ip));
    h = hash_fnv1a_str(ip) % IPTAB_SIZE;

    pthread_mutex_lock(&iplock);
    for (c = iptab[h]; c; c = c->next)
        if (strcmp(c->ip, ip) == 0)
            break;
    if (connections >= smtpd_conf.max_connections)
        rc = -2;
    else if (c && c->n >= smtpd_conf.max_per_ip)
        rc = -1;
    else {
        if (c == NULL) {
            c = xcalloc(1, sizeof(*c));
            snprintf(c->ip, sizeof(c->ip), "%s", ip);
            c->next = iptab[h];
            iptab[h] = c;
        }
        c->n++;
        connections++;
    }
    pthread_mutex_unlock(&iplock);
    return rc;
}

void smtpd_server_ip_release(const char *client)
{
    char ip[64];
    unsigned h;
    struct ipcount **pp, *c;

    netaddr_group_text(client, ip, sizeof(ip));
    h = hash_fnv1a_str(ip) % IPTAB_SIZE;

    pthread_mutex_lock(&iplock);
    for (pp = &iptab[h]; (c = *pp) != NULL; pp = &c->next)
        if (strcmp(c->ip, ip) == 0) {
            connections--;
            if (--c->n == 0) {
                *pp = c->next;
                xfree(c);
            }
            break;
        }
    pthread_mutex_unlock(&iplock);
}

/* ---- listeners ---------------------------------------------------------- */

static int addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return 0;
}

static void parse_list(const char *list, int implicit_tls, const char *param)
{
    char *copy = xstrdup(list), *save = NULL;

    for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        struct smtpd_listener *l;
        char spec[100];
        int len;

        if (smtpd_nlisteners == SMTPD_MAX_LISTEN)
            msg_fatal("%s: too many addresses (at most %d in all)", param, SMTPD_MAX_LISTEN);
        l = &smtpd_listeners[smtpd_nlisteners];
        memset(l, 0, sizeof(*l));
        /* ":587" and "*:587" mean every IPv4 address */
        if (t[0] == ':')
            snprintf(spec, sizeof(spec), "0.0.0.0%s", t);
        else if (t[0] == '*' && t[1] == ':')
            snprintf(spec, sizeof(spec), "0.0.0.0%s", t + 1);
        else
            snprintf(spec, sizeof(spec), "%s", t);
        len = (int)sizeof(l->ss);
        if (strrchr(spec, ':') == NULL ||
            evutil_parse_sockaddr_port(spec, (struct sockaddr *)&l->ss, &len) < 0 ||
            ((struct sockaddr_in *)&l->ss)->sin_port == 0)
            msg_fatal("%s: \"%s\" is not host:port", param, t);
        l->sslen = (socklen_t)len;
        l->implicit_tls = implicit_tls;
        l->loopback = addr_is_loopback((struct sockaddr *)&l->ss);
        snprintf(l->text, sizeof(l->text), "%s%s", spec, implicit_tls ? " (tls)" : "");
        smtpd_nlisteners++;
    }
    xfree(copy);
}

void smtpd_server_listeners(void)
{
    smtpd_nlisteners = 0;
    parse_list(smtpd_conf.listen, 0, "smtpd_listen");
    parse_list(smtpd_conf.tls_listen, 1, "smtpd_tls_listen");
    if (smtpd_nlisteners == 0)
        msg_fatal("neither smtpd_listen nor smtpd_tls_listen names an address");
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    struct smtpd_levarg *la = arg;
    char ip[64] = "?";
    int one = 1, over;

    (void)lev;
    (void)salen;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    over = atomic_load(&stop_requested) ? -3 : ip_take(ip);
    smtpd_session_accept(la->loop, la->lis, fd, sa, over);
}

static void listen_error_cb(struct evconnlistener *lev, void *arg)
{
    const struct smtpd_levarg *la = arg;
    int err = EVUTIL_SOCKET_ERROR();

    (void)lev;
    /* EMFILE and friends: keep the listener; the loop retries on the next event */
    msg_warn("accept on %s: %s", la->lis->text, evutil_socket_error_to_string(err));
}

static void open_listeners(struct smtpd_loop *loop)
{
    for (int i = 0; i < smtpd_nlisteners; i++) {
        struct smtpd_listener *l = &smtpd_listeners[i];
        unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC |
                         LEV_OPT_REUSEABLE_PORT;
        if (l->ss.ss_family == AF_INET6)
            flags |= LEV_OPT_BIND_IPV6ONLY;
        loop->levarg[i].loop = loop;
        loop->levarg[i].lis = l;
        loop->lev[i] = evconnlistener_new_bind(loop->base, accept_cb, &loop->levarg[i], flags, 1024,
                                               (struct sockaddr *)&l->ss, (int)l->sslen);
        if (loop->lev[i] == NULL)
            msg_fatal("cannot listen on %s: %m", l->text);
        evconnlistener_set_error_cb(loop->lev[i], listen_error_cb);
        loop->nlev = i + 1;
    }
}

static void close_listeners(struct smtpd_loop *loop)
{
    for (int i = 0; i < loop->nlev; i++) {
        evconnlistener_free(loop->lev[i]);
        loop->lev[i] = NULL;
    }
    loop->nlev = 0;
}

/* ---- loops ---------------------------------------------------------------- */

void smtpd_server_loop_complete(struct smtpd_loop *loop, struct smtpd_task *t)
{
    uint64_t one = 1;

    pthread_mutex_lock(&loop->lock);
    fifo_push(&loop->done, t);
    pthread_mutex_unlock(&loop->lock);
    if (write(loop->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        msg_warn("eventfd write: %m");
}

static void poke(struct smtpd_loop *loop)
{
    uint64_t one = 1;

    if (write(loop->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        msg_warn("eventfd write: %m");
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    struct smtpd_loop *loop = arg;
    struct smtpd_task *t, *next;
    uint64_t n;

    (void)what;
    if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        msg_warn("eventfd read: %m");
    pthread_mutex_lock(&loop->lock);
    t = fifo_take(&loop->done, 0, NULL);
    pthread_mutex_unlock(&loop->lock);
    for (; t; t = next) {
        next = t->next;
        smtpd_session_task_done(t);
    }
    if (atomic_load(&stop_requested)) {
        if (loop->nlev)
            close_listeners(loop);
        smtpd_session_shutdown(loop);
        if (loop->nsessions == 0 || atomic_load(&force_stop))
            event_base_loopbreak(loop->base);
    }
}

/* check_cb - once a second: shutdown progress */
static void check_cb(evutil_socket_t fd, short what, void *arg)
{
    struct smtpd_loop *loop = arg;

    (void)fd;
    (void)what;
    if (atomic_load(&stop_requested))
        wake_cb(loop->wake_fd, 0, loop);
}

static void *loop_main(void *arg)
{
    struct smtpd_loop *loop = arg;
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals go to the main thread */
    event_base_dispatch(loop->base);
    return NULL;
}

static void loop_init(struct smtpd_loop *loop, int index)
{
    struct timeval sec = {1, 0};

    memset(loop, 0, sizeof(*loop));
    loop->index = index;
    loop->base = event_base_new();
    if (loop->base == NULL)
        msg_fatal("event_base_new failed");
    pthread_mutex_init(&loop->lock, NULL);
    fifo_init(&loop->done, offsetof(struct smtpd_task, next));
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->wake_fd < 0)
        msg_fatal("eventfd: %m");
    loop->wake = event_new(loop->base, loop->wake_fd, EV_READ | EV_PERSIST, wake_cb, loop);
    event_add(loop->wake, NULL);
    struct event *tick = event_new(loop->base, -1, EV_PERSIST, check_cb, loop);
    event_add(tick, &sec);
    open_listeners(loop);
}

/* ---- the main thread: signals, metrics, shutdown --------------------------- */

static struct event_base *main_base;
static int64_t stop_at;

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    if (!atomic_load(&stop_requested)) {
        msg_info("signal %d: no new connections; finishing the sessions in hand", (int)sig);
        atomic_store(&stop_requested, 1);
        stop_at = timeutil_mono_ms() + smtpd_conf.shutdown_grace;
        for (int i = 0; i < nloops; i++)
            poke(&loops[i]);
    } else if (sig == SIGINT) {
        atomic_store(&force_stop, 1);
        for (int i = 0; i < nloops; i++)
            poke(&loops[i]);
    }
}

static void main_tick(evutil_socket_t fd, short what, void *arg)
{
    static unsigned ticks;
    int sessions = 0;

    (void)fd;
    (void)what;
    (void)arg;
    for (int i = 0; i < nloops; i++)
        sessions += loops[i].nsessions;
    metrics_gauge("txmail_smtpd_sessions", sessions);
    if (++ticks % 5 == 0) /* the file is also the heartbeat (fresh within 20 s) */
        metrics_flush();
    if (atomic_load(&stop_requested)) {
        if (timeutil_mono_ms() >= stop_at && !atomic_load(&force_stop)) {
            msg_warn("shutdown grace period over: closing %d sessions", sessions);
            atomic_store(&force_stop, 1);
        }
        int running = 0;
        for (int i = 0; i < nloops; i++) {
            poke(&loops[i]);
            running += loops[i].nsessions > 0;
        }
        if (running == 0 || atomic_load(&force_stop))
            event_base_loopexit(main_base, NULL);
    }
}

void smtpd_server_run(void)
{
    struct timeval t = {1, 0};
    struct event *sigterm, *sigint, *tick;

    nloops = (int)smtpd_conf.loops;
    if (nloops > SMTPD_LOOPS_MAX)
        nloops = SMTPD_LOOPS_MAX;
    signal(SIGPIPE, SIG_IGN);
    main_base = event_base_new();
    sigterm = evsignal_new(main_base, SIGTERM, signal_cb, NULL);
    sigint = evsignal_new(main_base, SIGINT, signal_cb, NULL);
    tick = event_new(main_base, -1, EV_PERSIST, main_tick, NULL);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    event_add(tick, &t);
    for (int i = 0; i < nloops; i++)
        loop_init(&loops[i], i);
    for (int i = 0; i < smtpd_nlisteners; i++)
        msg_info("listening on %s", smtpd_listeners[i].text);
    for (int i = 0; i < nloops; i++)
        if (pthread_create(&loops[i].tid, NULL, loop_main, &loops[i]) != 0)
            msg_fatal("cannot start an event loop thread");
    metrics_flush();
    event_base_dispatch(main_base);
    for (int i = 0; i < nloops; i++)
        poke(&loops[i]);
    /* loops stop on their own once empty or forced; make sure of it */
    atomic_store(&force_stop, 1);
    for (int i = 0; i < nloops; i++) {
        poke(&loops[i]);
        pthread_join(loops[i].tid, NULL);
    }
    event_free(sigterm);
    event_free(sigint);
    event_free(tick);
    event_base_free(main_base);
}
