/*
 * deliver_pool - the shared cache of idle SMTP connections (after Postfix
 * scache: connection reuse per next-hop and per endpoint).
 *
 * A connection that finished a transaction cleanly is parked here under
 * its endpoint key (ip, port, source address) and the next-hop it served
 * (the recipient domain's MX, a relay host, a transport route). A handler
 * thread asks first by next-hop (which saves the DNS lookups), then by the
 * endpoint of each candidate address. Taking a connection removes it from
 * the cache, so a connection is only ever used by one thread. Limits:
 * deliver_conn_idle_timeout (idle time), deliver_conn_max_age,
 * deliver_conn_max_messages (transactions per connection) and
 * deliver_conn_cache_size (idle connections in all). A janitor thread
 * closes idle connections (QUIT) as they expire.
 */
#include "workers/deliver/deliver.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

struct idle {
    struct dconn *c;
    int64_t since;
    struct idle *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct idle *idle_list;
static int nidle, stopping;
static pthread_t janitor;
static int janitor_started;

static int expired(const struct dconn *c, const struct idle *e, int64_t now)
{
    return now - e->since >= deliver_conf.conn_idle ||
           now - c->born_ms >= deliver_conf.conn_max_age ||
           c->nmsgs >= deliver_conf.conn_max_messages;
}

/* take_expired - unlink expired entries into a list to close outside the lock */
static struct idle *take_expired(int64_t now)
{
    struct idle **pp = &idle_list, *out = NULL;

    while (*pp) {
        struct idle *e = *pp;
        if (expired(e->c, e, now)) {
            *pp = e->next;
            e->next = out;
            out = e;
            nidle--;
        } else {
            pp = &e->next;
        }
    }
    return out;
}

static void close_list(struct idle *l)
{
    while (l) {
        struct idle *next = l->next;
        deliver_net_close(l->c, 1);
        xfree(l);
        l = next;
    }
}

static void *janitor_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (!stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&wake, &lock, &ts);
        struct idle *old = take_expired(timeutil_mono_ms());
        pthread_mutex_unlock(&lock);
        close_list(old);
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

void deliver_pool_init(void)
{
    if (!deliver_conf.conn_reuse)
        return;
    if (pthread_create(&janitor, NULL, janitor_main, NULL) != 0)
        msg_fatal("pthread_create: %m");
    janitor_started = 1;
}

struct dconn *deliver_pool_get(const char *nexthop, const char *key, const char *host,
                               const struct dmsg *m)
{
    struct idle **pp, *hit = NULL, *old;
    int64_t now = timeutil_mono_ms();

    if (!deliver_conf.conn_reuse)
        return NULL;
    pthread_mutex_lock(&lock);
    old = take_expired(now);
    for (pp = &idle_list; *pp; pp = &(*pp)->next) {
        struct dconn *c = (*pp)->c;
        if (!deliver_session_fits(c, m))
            continue;
        if (nexthop == NULL && m->tls_enforced && c->verified && host &&
            strcasecmp(c->host, host) != 0)
            continue;
        if ((nexthop && strcmp(c->nexthop, nexthop) == 0) || (key && strcmp(c->key, key) == 0)) {
            hit = *pp;
            *pp = hit->next;
            nidle--;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    close_list(old);
    if (hit == NULL)
        return NULL;
    struct dconn *c = hit->c;
    xfree(hit);
    return c;
}

void deliver_pool_put(struct dconn *c)
{
    struct idle *e, *old = NULL;
    int64_t now = timeutil_mono_ms();

    if (c == NULL)
        return;
    if (!deliver_conf.conn_reuse || c->broken || c->nmsgs >= deliver_conf.conn_max_messages ||
        now - c->born_ms >= deliver_conf.conn_max_age) {
        deliver_net_close(c, 1);
        return;
    }
    e = xcalloc(1, sizeof(*e));
    e->c = c;
    e->since = now;
    pthread_mutex_lock(&lock);
    if (stopping || nidle >= deliver_conf.conn_cache_size) {
        pthread_mutex_unlock(&lock);
        xfree(e);
        deliver_net_close(c, 1);
        return;
    }
    e->next = idle_list;
    idle_list = e;
    nidle++;
    pthread_mutex_unlock(&lock);
    close_list(old);
}

void deliver_pool_shutdown(void)
{
    struct idle *all;

    pthread_mutex_lock(&lock);
    stopping = 1;
    all = idle_list;
    idle_list = NULL;
    nidle = 0;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    if (janitor_started)
        pthread_join(janitor, NULL);
    close_list(all);
}
