/*
 * notify_dns - endpoint host names through the installation's resolver.
 *
 * When dns_servers is set, txmail programs ask those servers, not the
 * system resolver (the local stack's dnsmasq answers the test names and
 * nothing else, so a test never leaks a lookup or a POST to a real
 * domain). notify resolves an endpoint's host with c-ares, asynchronously
 * (the sockets join curl's poll), caches the answer for NF_DNS_TTL_MS
 * (failures for NF_DNS_NEG_TTL_MS) and hands the addresses to curl with
 * CURLOPT_RESOLVE. /etc/hosts is consulted first, as the system resolver
 * would. With dns_servers empty, curl resolves as usual, except through
 * notify_proxy: then c-ares resolves with the system's configuration,
 * so that the address the proxy is asked for is the one checked.
 */
#include "notify.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/ttlcache.h"

#include <arpa/inet.h>
#include <ares.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>

#define NF_DNS_TTL_MS 60000
#define NF_DNS_NEG_TTL_MS 5000
#define NF_DNS_MAX 10000
#define NF_DNS_HOST_MAX 256
/* a lookup is PENDING this long at most (c-ares: 2 tries of 2s) */
#define NF_DNS_PENDING_TTL_MS 60000

struct dnsent {
    enum nf_dns state;
    char addrs[600];
    char err[128];
};

static const struct ttlcache_type dnsent_type = {sizeof(struct dnsent), NULL, NULL};

static ares_channel channel;
static int enabled;
static struct ttlcache *cache; /* by host name */
static struct dnsent last;     /* what notify_dns_get answered last */
static int pending;

int notify_dns_init(void)
{
    struct ares_options o;

    /* through notify_proxy notify resolves every endpoint itself (notify_attempt.c) */
    if (*txconf.dns_servers == 0 && *notify_conf.proxy == 0)
        return 0;
    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
        return -1;
    memset(&o, 0, sizeof(o));
    o.timeout = 2000;
    o.tries = 2;
    o.flags = ARES_FLAG_NOSEARCH;
    if (ares_init_options(&channel, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS) !=
        ARES_SUCCESS)
        return -1;
    if (*txconf.dns_servers &&
        ares_set_servers_ports_csv(channel, txconf.dns_servers) != ARES_SUCCESS) {
        msg_warn("dns_servers \"%s\": not a valid server list", txconf.dns_servers);
        ares_destroy(channel);
        return -1;
    }
    cache = ttlcache_create(&dnsent_type, NF_DNS_MAX, 0);
    enabled = 1;
    return 0;
}

void notify_dns_done(void)
{
    if (enabled) {
        ares_destroy(channel); /* answers the lookups still running */
        ares_library_cleanup();
    }
    ttlcache_free(cache);
    cache = NULL;
    enabled = 0;
}

int notify_dns_pending(void)
{
    return pending;
}

/* on_answer - cache the addresses (or the failure) of host arg (Ownership: steals arg) */
static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    char *host = arg;
    struct dnsent ent, *e = &ent;
    size_t len = 0;

    (void)timeouts;
    pending--;
    memset(e, 0, sizeof(*e));
    if (status == ARES_SUCCESS && res) {
        for (struct ares_addrinfo_node *n = res->nodes; n; n = n->ai_next) {
            char a[INET6_ADDRSTRLEN];
            const void *src =
                n->ai_family == AF_INET
                    ? (const void *)&((struct sockaddr_in *)(void *)n->ai_addr)->sin_addr
                    : (const void *)&((struct sockaddr_in6 *)(void *)n->ai_addr)->sin6_addr;
            if ((n->ai_family != AF_INET && n->ai_family != AF_INET6) ||
                inet_ntop(n->ai_family, src, a, sizeof(a)) == NULL)
                continue;
            int w = snprintf(e->addrs + len, sizeof(e->addrs) - len,
                             n->ai_family == AF_INET6 ? "%s[%s]" : "%s%s", len ? "," : "", a);
            if (w < 0 || (size_t)w >= sizeof(e->addrs) - len) {
                e->addrs[len] = 0;
                break;
            }
            len += (size_t)w;
        }
    }
    if (res)
        ares_freeaddrinfo(res);
    if (e->addrs[0]) {
        e->state = NF_DNS_READY;
        ttlcache_put(cache, host, e, NF_DNS_TTL_MS);
    } else {
        e->state = NF_DNS_FAILED;
        snprintf(e->err, sizeof(e->err), "cannot resolve %.100s: %s", host,
                 status == ARES_SUCCESS ? "no address" : ares_strerror(status));
        ttlcache_put(cache, host, e, NF_DNS_NEG_TTL_MS);
    }
    xfree(host);
}

static int literal(const char *host)
{
    unsigned char b[16];

    return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

enum nf_dns notify_dns_get(const char *host, const char **addrs, const char **err)
{
    struct ares_addrinfo_hints hints;

    if (!enabled || literal(host) || strlen(host) >= NF_DNS_HOST_MAX)
        return NF_DNS_OFF;
    if (!ttlcache_get(cache, host, &last)) {
        memset(&last, 0, sizeof(last));
        last.state = NF_DNS_PENDING;
        ttlcache_put(cache, host, &last, NF_DNS_PENDING_TTL_MS);
        pending++;
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        /* may answer at once */
        ares_getaddrinfo(channel, host, NULL, &hints, on_answer, xstrdup(host));
        ttlcache_get(cache, host, &last);
    }
    *addrs = last.addrs;
    *err = last.err;
    return last.state;
}

/* c-ares's ARES_GETSOCK_* macros shift a signed 1 into the sign bit */
static int readable(int bits, int i)
{
    return ((unsigned)bits >> i) & 1u;
}

static int writable(int bits, int i)
{
    return ((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u;
}

int notify_dns_fds(struct nf_waitfd *out, int max)
{
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int bits, n = 0;

    if (!enabled || pending == 0)
        return 0;
    bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
    for (int i = 0; i < ARES_GETSOCK_MAXNUM && n < max; i++) {
        int r = readable(bits, i), w = writable(bits, i);
        if (!r && !w)
            continue;
        out[n].fd = socks[i];
        out[n].read = r != 0;
        out[n].write = w != 0;
        n++;
    }
    return n;
}

void notify_dns_run(void)
{
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    fd_set rd, wr;
    struct timeval tv = {0, 0};
    int bits, maxfd = -1;

    if (!enabled || pending == 0)
        return;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
        if (readable(bits, i) && socks[i] < FD_SETSIZE) {
            FD_SET(socks[i], &rd);
            maxfd = socks[i] > maxfd ? socks[i] : maxfd;
        }
        if (writable(bits, i) && socks[i] < FD_SETSIZE) {
            FD_SET(socks[i], &wr);
            maxfd = socks[i] > maxfd ? socks[i] : maxfd;
        }
    }
    if (maxfd < 0 || select(maxfd + 1, &rd, &wr, NULL, &tv) <= 0) {
        /* nothing to read: let c-ares handle its timeouts */
        ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        return;
    }
    ares_process(channel, &rd, &wr);
}
