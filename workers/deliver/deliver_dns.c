/*
 * deliver_dns - MX and address lookups through c-ares, with a small
 * shared cache.
 *
 * Each handler thread has its own c-ares channel (servers from the shared
 * dns_servers parameter, else the system resolver configuration) and
 * waits for its query with poll(), bounded by deliver_dns_timeout x
 * deliver_dns_tries. Answers are parsed with the resolver's ns_* parser
 * so every record's TTL is known: positive answers are cached for
 * min(TTL, deliver_dns_cache_ttl), NXDOMAIN/NODATA for
 * deliver_dns_negative_ttl, failures never.
 *
 * MX answers are the recipient domain's, so a tenant's: the addresses
 * they lead to pass deliver_deny_networks / deliver_allow_networks
 * (deliver_dns_addr_allowed; netpolicy.h), so a domain whose MX points at
 * loopback, the broker, the database or cloud metadata is never
 * connected to.
 *
 * Results: DNS_OK, DNS_NXDOMAIN (the name does not exist: a hard bounce
 * for a recipient domain), DNS_NODATA (exists, no record of the type: A
 * fallback for MX), DNS_NULLMX (RFC 7505), DNS_TEMP (timeout, SERVFAIL,
 * refused, garbage: retry later).
 */
#include "workers/deliver/deliver.h"
#include "global/ids.h"
#include "global/access/netpolicy.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"
#include "util/ttlcache.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 4096
#define MAX_RECORDS 32

/* ---- cache -------------------------------------------------------------- */

/* one answer: rc and n records of recsz bytes (struct mx_host or union dsock) */
struct cached {
    enum dns_rc rc;
    int n;
    size_t recsz;
    void *recs;
};

static void cached_copy(void *dst, const void *src)
{
    const struct cached *s = src;
    struct cached *d = dst;

    *d = *s;
    d->recs = s->n > 0 ? xmemdup(s->recs, s->recsz * (size_t)s->n) : NULL;
}

static void cached_clear(void *v)
{
    struct cached *a = v;

    xfree(a->recs);
    a->recs = NULL;
}

static const struct ttlcache_type cached_type = {sizeof(struct cached), cached_copy, cached_clear};

static struct ttlcache *cache;   /* "type:name", names compared ignoring case */
static struct netpolicy *policy; /* read-only after deliver_dns_init */

static int cache_get(const char *name, int type, enum dns_rc *rc, void *out, size_t recsz, int max,
                     int *n)
{
    char key[DNS_NAME_MAX + 16];
    struct cached a;

    if (deliver_conf.dns_cache_ttl <= 0 || strlen(name) >= DNS_NAME_MAX)
        return 0;
    snprintf(key, sizeof(key), "%d:%s", type, name);
    if (!ttlcache_get(cache, key, &a))
        return 0;
    *rc = a.rc;
    *n = a.n < max ? a.n : max;
    if (*n > 0)
        memcpy(out, a.recs, recsz * (size_t)*n);
    cached_clear(&a);
    return 1;
}

static void cache_put(const char *name, int type, enum dns_rc rc, const void *recs, size_t recsz,
                      int n, int64_t ttl_ms)
{
    char key[DNS_NAME_MAX + 16];
    struct cached a = {rc, n, recsz, (void *)recs};

    if (ttl_ms <= 0 || rc == DNS_TEMP || strlen(name) >= DNS_NAME_MAX)
        return;
    snprintf(key, sizeof(key), "%d:%s", type, name);
    ttlcache_put(cache, key, &a, ttl_ms);
}

/* ---- c-ares ------------------------------------------------------------- */

int deliver_dns_init(void)
{
    char err[200];

    cache = ttlcache_create(&cached_type, CACHE_SLOTS, TTLCACHE_LOCKED | TTLCACHE_NOCASE);
    policy =
        netpolicy_create(deliver_conf.deny_networks, deliver_conf.allow_networks, err, sizeof(err));
    if (policy == NULL)
        msg_fatal("deliver_deny_networks, deliver_allow_networks: %s", err);
    return ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS ? 0 : -1;
}

int deliver_dns_addr_allowed(const union dsock *a)
{
    return policy != NULL && netpolicy_allowed(policy, &a->sa);
}

int deliver_dns_thread(struct dctx *ctx)
{
    struct ares_options o;
    int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;

    memset(&o, 0, sizeof(o));
    o.timeout = (int)deliver_conf.dns_timeout;
    o.tries = (int)deliver_conf.dns_tries;
    o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
    if (ares_init_options(&ctx->ares, &o, mask) != ARES_SUCCESS)
        return -1;
    if (*txconf.dns_servers &&
        ares_set_servers_ports_csv(ctx->ares, txconf.dns_servers) != ARES_SUCCESS) {
        msg_warn("dns_servers \"%s\": not a valid server list", txconf.dns_servers);
        ares_destroy(ctx->ares);
        return -1;
    }
    ctx->ares_ok = 1;
    return 0;
}

void deliver_dns_thread_done(struct dctx *ctx)
{
    if (ctx->ares_ok)
        ares_destroy(ctx->ares);
    ctx->ares_ok = 0;
}

struct answer {
    int done;
    int status;
    unsigned char *buf;
    int len;
};

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct answer *a = arg;

    (void)timeouts;
    a->done = 1;
    a->status = status;
    if (abuf && alen > 0) {
        a->buf = xmemdup(abuf, (size_t)alen);
        a->len = alen;
    }
}

/* query - one query, waiting for its answer */
static void query(struct dctx *ctx, const char *name, int type, struct answer *a)
{
    memset(a, 0, sizeof(*a));
    ares_query(ctx->ares, name, ns_c_in, type, on_answer, a);
    while (!a->done) {
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        struct pollfd pfd[ARES_GETSOCK_MAXNUM];
        /* the ARES_GETSOCK_* macros shift a signed 1 into bit 31: test the
         * bits by hand */
        unsigned bits = (unsigned)ares_getsock(ctx->ares, socks, ARES_GETSOCK_MAXNUM);
        int n = 0;
        struct timeval tv, *tvp;

        for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            short ev = 0;
            if (bits & (1u << i))
                ev |= POLLIN;
            if (bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
                ev |= POLLOUT;
            if (ev) {
                pfd[n].fd = socks[i];
                pfd[n].events = ev;
                pfd[n].revents = 0;
                n++;
            }
        }
        tvp = ares_timeout(ctx->ares, NULL, &tv);
        int ms = tvp ? (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) : 1000;
        int r = poll(pfd, (nfds_t)n, ms);
        if (r <= 0) {
            ares_process_fd(ctx->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        for (int i = 0; i < n; i++)
            ares_process_fd(ctx->ares,
                            pfd[i].revents & (POLLIN | POLLERR | POLLHUP) ? pfd[i].fd
                                                                          : ARES_SOCKET_BAD,
                            pfd[i].revents & POLLOUT ? pfd[i].fd : ARES_SOCKET_BAD);
    }
}

static enum dns_rc status_rc(int status, const char *name, const char *tname, char *err,
                             size_t errsz)
{
    switch (status) {
    case ARES_SUCCESS:
        return DNS_OK;
    case ARES_ENOTFOUND:
        snprintf(
            err, errsz,
            "Host or domain name not found. Name service error for name=%s type=%s: Host not found",
            name, tname);
        return DNS_NXDOMAIN;
    case ARES_ENODATA:
        snprintf(err, errsz,
                 "Name service error for name=%s type=%s: Host found but no data record of "
                 "requested type",
                 name, tname);
        return DNS_NODATA;
    default:
        snprintf(err, errsz,
                 "Host or domain name not found. Name service error for name=%s type=%s: %s", name,
                 tname, ares_strerror(status));
        return DNS_TEMP;
    }
}

/* ---- MX ----------------------------------------------------------------- */

static void sort_mx(struct mx_host *h, int n)
{
    /* insertion sort by preference; equal preferences shuffled (RFC 5321 §5.1) */
    unsigned char rnd[MAX_RECORDS];

    ids_random_bytes(rnd, sizeof(rnd));
    for (int i = 1; i < n; i++) {
        struct mx_host t = h[i];
        unsigned char tk = rnd[i];
        int j = i - 1;
        while (j >= 0 && (h[j].pref > t.pref || (h[j].pref == t.pref && rnd[j] > tk))) {
            h[j + 1] = h[j];
            rnd[j + 1] = rnd[j];
            j--;
        }
        h[j + 1] = t;
        rnd[j + 1] = tk;
    }
}

enum dns_rc deliver_dns_mx(struct dctx *ctx, const char *domain, struct mx_host *out, int max,
                           int *n, char *err, size_t errsz)
{
    struct answer a;
    struct mx_host recs[MAX_RECORDS];
    enum dns_rc rc;
    int nrec = 0, nulls = 0;
    uint32_t ttl = 0xffffffffu;

    *n = 0;
    if (max > MAX_RECORDS)
        max = MAX_RECORDS;
    if (cache_get(domain, ns_t_mx, &rc, out, sizeof(*out), max, n)) {
        if (rc != DNS_OK)
            status_rc(rc == DNS_NXDOMAIN ? ARES_ENOTFOUND : ARES_ENODATA, domain, "MX", err, errsz);
        if (rc == DNS_NULLMX)
            snprintf(err, errsz, "Domain %s does not accept mail (nullMX)", domain);
        return rc;
    }
    query(ctx, domain, ns_t_mx, &a);
    rc = status_rc(a.status, domain, "MX", err, errsz);
    if (rc == DNS_OK) {
        ns_msg msg;
        if (a.buf == NULL || ns_initparse(a.buf, a.len, &msg) < 0) {
            snprintf(err, errsz, "Name service error for name=%s type=MX: malformed answer",
                     domain);
            rc = DNS_TEMP;
            goto out;
        }
        for (int i = 0; i < ns_msg_count(msg, ns_s_an) && nrec < MAX_RECORDS; i++) {
            ns_rr rr;
            char name[NS_MAXDNAME];
            if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_mx ||
                ns_rr_rdlen(rr) < 3)
                continue;
            if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2, name,
                                   sizeof(name)) < 0)
                continue;
            if (ns_rr_ttl(rr) < ttl)
                ttl = ns_rr_ttl(rr);
            size_t len = strlen(name);
            if (len > 0 && name[len - 1] == '.')
                name[--len] = 0;
            if (len == 0) {
                nulls++;
                continue;
            }
            if (len >= DNS_NAME_MAX)
                continue;
            recs[nrec].pref = ns_get16(ns_rr_rdata(rr));
            memcpy(recs[nrec].name, name, len + 1);
            nrec++;
        }
        if (nrec == 0 && nulls > 0) {
            rc = DNS_NULLMX;
            snprintf(err, errsz, "Domain %s does not accept mail (nullMX)", domain);
        } else if (nrec == 0) {
            rc = DNS_NODATA;
            status_rc(ARES_ENODATA, domain, "MX", err, errsz);
        }
    }
    if (rc == DNS_OK) {
        sort_mx(recs, nrec);
        *n = nrec < max ? nrec : max;
        memcpy(out, recs, sizeof(*out) * (size_t)*n);
        int64_t t = (int64_t)ttl * 1000;
        cache_put(domain, ns_t_mx, rc, recs, sizeof(*recs), nrec,
                  t < deliver_conf.dns_cache_ttl ? t : deliver_conf.dns_cache_ttl);
    } else if (rc == DNS_NXDOMAIN || rc == DNS_NODATA || rc == DNS_NULLMX) {
        cache_put(domain, ns_t_mx, rc, NULL, sizeof(*recs), 0,
                  rc == DNS_NULLMX ? deliver_conf.dns_cache_ttl : deliver_conf.dns_negative_ttl);
    }
out:
    xfree(a.buf);
    return rc;
}

/* ---- A / AAAA ----------------------------------------------------------- */

static enum dns_rc lookup_addr(struct dctx *ctx, const char *host, int type, union dsock *out,
                               int max, int *n, char *err, size_t errsz)
{
    struct answer a;
    union dsock recs[MAX_RECORDS];
    enum dns_rc rc;
    int nrec = 0;
    uint32_t ttl = 0xffffffffu;
    const char *tname = type == ns_t_a ? "A" : "AAAA";

    *n = 0;
    if (cache_get(host, type, &rc, out, sizeof(*out), max, n)) {
        if (rc != DNS_OK)
            status_rc(rc == DNS_NXDOMAIN ? ARES_ENOTFOUND : ARES_ENODATA, host, tname, err, errsz);
        return rc;
    }
    query(ctx, host, type, &a);
    rc = status_rc(a.status, host, tname, err, errsz);
    if (rc == DNS_OK) {
        ns_msg msg;
        if (a.buf == NULL || ns_initparse(a.buf, a.len, &msg) < 0) {
            snprintf(err, errsz, "Name service error for name=%s type=%s: malformed answer", host,
                     tname);
            rc = DNS_TEMP;
            goto out;
        }
        for (int i = 0; i < ns_msg_count(msg, ns_s_an) && nrec < MAX_RECORDS; i++) {
            ns_rr rr;
            if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || (int)ns_rr_type(rr) != type)
                continue;
            memset(&recs[nrec], 0, sizeof(recs[nrec]));
            if (type == ns_t_a && ns_rr_rdlen(rr) == 4) {
                recs[nrec].in4.sin_family = AF_INET;
                memcpy(&recs[nrec].in4.sin_addr, ns_rr_rdata(rr), 4);
            } else if (type == ns_t_aaaa && ns_rr_rdlen(rr) == 16) {
                recs[nrec].in6.sin6_family = AF_INET6;
                memcpy(&recs[nrec].in6.sin6_addr, ns_rr_rdata(rr), 16);
            } else {
                continue;
            }
            if (ns_rr_ttl(rr) < ttl)
                ttl = ns_rr_ttl(rr);
            nrec++;
        }
        if (nrec == 0) {
            rc = DNS_NODATA;
            status_rc(ARES_ENODATA, host, tname, err, errsz);
        }
    }
    if (rc == DNS_OK) {
        *n = nrec < max ? nrec : max;
        memcpy(out, recs, sizeof(*out) * (size_t)*n);
        int64_t t = (int64_t)ttl * 1000;
        cache_put(host, type, rc, recs, sizeof(*recs), nrec,
                  t < deliver_conf.dns_cache_ttl ? t : deliver_conf.dns_cache_ttl);
    } else if (rc == DNS_NXDOMAIN || rc == DNS_NODATA) {
        cache_put(host, type, rc, NULL, sizeof(*recs), 0, deliver_conf.dns_negative_ttl);
    }
out:
    xfree(a.buf);
    return rc;
}

enum dns_rc deliver_dns_addrs(struct dctx *ctx, const char *host, union dsock *out, int max, int *n,
                              char *err, size_t errsz)
{
    int want4 = strcmp(deliver_conf.inet_protocols, "ipv6") != 0;
    int want6 = strcmp(deliver_conf.inet_protocols, "ipv4") != 0;
    enum dns_rc rc4 = DNS_NODATA, rc6 = DNS_NODATA;
    int n4 = 0, n6 = 0;
    char err6[300] = "";

    *n = 0;
    /* a literal address needs no lookup */
    memset(out, 0, sizeof(*out));
    if (max > 0 && inet_pton(AF_INET, host, &out->in4.sin_addr) == 1) {
        out->in4.sin_family = AF_INET;
        *n = 1;
        return want4 ? DNS_OK : DNS_NODATA;
    }
    if (max > 0 && inet_pton(AF_INET6, host, &out->in6.sin6_addr) == 1) {
        out->in6.sin6_family = AF_INET6;
        *n = 1;
        return want6 ? DNS_OK : DNS_NODATA;
    }
    if (want4)
        rc4 = lookup_addr(ctx, host, ns_t_a, out, max, &n4, err, errsz);
    if (want6 && n4 < max)
        rc6 = lookup_addr(ctx, host, ns_t_aaaa, out + n4, max - n4, &n6, err6, sizeof(err6));
    *n = n4 + n6;
    if (*n > 0)
        return DNS_OK;
    /* nothing usable: the most telling failure */
    if (rc4 == DNS_TEMP || rc6 == DNS_TEMP) {
        if (rc4 != DNS_TEMP)
            snprintf(err, errsz, "%s", err6);
        return DNS_TEMP;
    }
    if (!want4)
        snprintf(err, errsz, "%s", err6);
    if (rc4 == DNS_NXDOMAIN || rc6 == DNS_NXDOMAIN)
        return DNS_NXDOMAIN;
    return DNS_NODATA;
}
