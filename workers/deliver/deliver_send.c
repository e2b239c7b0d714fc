/*
 * deliver_send - one delivery attempt of one message: route, DNS,
 * connection (cached or new), transaction, with failover to the next MX
 * host or address when a host cannot be used (connection refused or timed
 * out, greeting or EHLO refused, TLS required but unavailable).
 *
 * A reply to MAIL, RCPT or DATA ends the attempt: it concerns this
 * message, not the host. DNS answers for a recipient domain decide hard
 * bounces (NXDOMAIN 5.1.2, null MX 5.1.10, no address at all 5.4.4);
 * lookups of relay and transport hosts only ever defer (an operator's
 * configuration error must not bounce and suppress recipients).
 *
 * Each attempt holds a session slot of its next hop for its whole length
 * and one of the endpoint (address, port) while it talks to it
 * (deliver_dest.c); a destination at its limit makes the attempt return
 * at once, throttled, instead of waiting for a slot.
 */
#include "workers/deliver/deliver.h"
#include "global/metrics.h"
#include "util/msg.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_CANDIDATES 64

struct candidate {
    char host[DNS_NAME_MAX];
    union dsock addr;
};

static void endpoint_key(char *out, size_t outsz, const union dsock *a, int port)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (a->sa.sa_family == AF_INET6)
        inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip));
    else
        inet_ntop(AF_INET, &a->in4.sin_addr, ip, sizeof(ip));
    snprintf(out, outsz, "%s|%d|%s", ip, port, deliver_conf.source_ip);
}

/* transact - send on c (already taken from the cache or opened); 1: stale, try again */
static int transact(struct dconn *c, const char *nexthop, const struct dmsg *m, struct outcome *o)
{
    int reused = c->nmsgs > 0;
    int r = deliver_session_send(c, m, o);

    metrics_count("txmail_deliver_transactions_total", "connection",
                  r == 1   ? "stale"
                  : reused ? "reused"
                           : "new",
                  1);
    if (r == 1) {
        deliver_net_close(c, 0);
        return 1;
    }
    snprintf(c->nexthop, sizeof(c->nexthop), "%s", nexthop);
    deliver_pool_put(c);
    return 0;
}

/* candidates - the addresses to try in order; 0, or -1 with o filled */
static int candidates(struct dctx *ctx, const struct route *rt, struct candidate *out, int *n,
                      struct outcome *o)
{
    char err[400];
    struct mx_host mx[MAX_CANDIDATES];
    int nmx = 0;
    enum dns_rc rc;

    *n = 0;
    if (rt->use_mx) {
        rc = deliver_dns_mx(ctx, rt->host, mx, (int)deliver_conf.mx_max_hosts, &nmx, err,
                            sizeof(err));
        switch (rc) {
        case DNS_OK:
            break;
        case DNS_NODATA:
            nmx = 1; /* RFC 5321 §5.1: the domain itself (A/AAAA) */
            snprintf(mx[0].name, sizeof(mx[0].name), "%s", rt->host);
            mx[0].pref = 0;
            break;
        case DNS_NXDOMAIN:
            deliver_session_outcome_reason(o, DLV_BOUNCE, "5.1.2", "%s", err);
            o->dns = 1;
            return -1;
        case DNS_NULLMX:
            deliver_session_outcome_reason(o, DLV_BOUNCE, "5.1.10", "%s", err);
            o->dns = 1;
            return -1;
        case DNS_TEMP:
            deliver_session_outcome_reason(o, DLV_DEFER, "4.4.1", "%s", err);
            o->dns = 1;
            return -1;
        }
    } else {
        nmx = 1;
        snprintf(mx[0].name, sizeof(mx[0].name), "%s", rt->host);
    }
    int temp = 0, denied = 0;
    char first_err[400] = "";
    for (int i = 0; i < nmx && *n < deliver_conf.mx_max_addresses && *n < MAX_CANDIDATES; i++) {
        union dsock addrs[MAX_CANDIDATES];
        int na = 0;
        int room = (int)deliver_conf.mx_max_addresses - *n;
        if (room > MAX_CANDIDATES - *n)
            room = MAX_CANDIDATES - *n;
        rc = deliver_dns_addrs(ctx, mx[i].name, addrs, room, &na, err, sizeof(err));
        if (rc != DNS_OK) {
            if (!first_err[0])
                snprintf(first_err, sizeof(first_err), "%s", err);
            temp |= rc == DNS_TEMP;
            continue;
        }
        for (int k = 0; k < na; k++) {
            if (rt->use_mx && !deliver_dns_addr_allowed(&addrs[k])) {
                /* the recipient domain's DNS leads inside: never connected to */
                if (!denied++) {
                    char ip[INET6_ADDRSTRLEN] = "?";
                    inet_ntop(addrs[k].sa.sa_family,
                              addrs[k].sa.sa_family == AF_INET6 ? (void *)&addrs[k].in6.sin6_addr
                                                                : (void *)&addrs[k].in4.sin_addr,
                              ip, sizeof(ip));
                    snprintf(first_err, sizeof(first_err),
                             "MX host %.255s[%s] denied by policy (deliver_deny_networks)",
                             mx[i].name, ip);
                }
                continue;
            }
            memcpy(out[*n].host, mx[i].name, sizeof(out[*n].host));
            out[*n].addr = addrs[k];
            (*n)++;
        }
    }
    if (*n > 0)
        return 0;
    o->dns = 1;
    if (denied) {
        /* like Postfix's MX pointing at itself: a configuration error of the
         * domain, deferred (it may be fixed; never a bounce that suppresses) */
        deliver_session_outcome_reason(o, DLV_DEFER, "4.4.4", "%s", first_err);
        return -1;
    }
    if (rt->use_mx && !temp && nmx == 1 && strcmp(mx[0].name, rt->host) == 0) {
        /* no MX and no address: nowhere to deliver */
        deliver_session_outcome_reason(o, DLV_BOUNCE, "5.4.4", "%s", first_err);
        return -1;
    }
    deliver_session_outcome_reason(o, DLV_DEFER, "4.4.1", "%s",
                                   first_err[0] ? first_err : "no address to deliver to");
    return -1;
}

/* throttled - o: not tried, the destination is at its concurrency limit */
static void throttled(struct outcome *o, const char *domain, const char *host, int port)
{
    deliver_session_outcome_reason(o, DLV_DEFER, "4.4.5",
                                   "too many concurrent sessions for %s with %s port %d "
                                   "(deliver_destination_concurrency_limit %lld)",
                                   domain, host, port, deliver_conf.dest_limit);
    o->throttled = 1;
}

void deliver_send_attempt(struct dctx *ctx, const struct dmsg *m, const char *relay,
                          struct outcome *o)
{
    struct route rt;
    struct candidate cand[MAX_CANDIDATES];
    char err[400], key[DCONN_KEY_MAX];
    int n = 0, busy = 0;
    struct dconn *c;

    memset(o, 0, sizeof(*o));
    const char *at = strrchr(m->rcpt, '@');
    if (at == NULL || at[1] == 0) {
        deliver_session_outcome_reason(o, DLV_BOUNCE, "5.1.3", "bad recipient address syntax");
        return;
    }
    if (deliver_route(at + 1, relay, &rt, err, sizeof(err)) < 0) {
        deliver_session_outcome_reason(o, DLV_DEFER, "4.3.5", "%s", err);
        return;
    }
    if (!deliver_dest_take(rt.nexthop)) {
        throttled(o, at + 1, rt.host, rt.port);
        return;
    }
    /* a cached connection for this next-hop saves the DNS lookups */
    for (int tries = 0; tries < 4 && (c = deliver_pool_get(rt.nexthop, NULL, NULL, m)) != NULL;
         tries++) {
        char ckey[DCONN_KEY_MAX];
        memcpy(ckey, c->key, sizeof(ckey));
        if (!deliver_dest_take(ckey)) {
            deliver_pool_put(c); /* its endpoint is busy with other next hops */
            busy = 1;
            break;
        }
        int r = transact(c, rt.nexthop, m, o);
        deliver_dest_give(ckey);
        if (r == 0)
            goto out;
    }
    if (busy) {
        throttled(o, at + 1, rt.host, rt.port);
        goto out;
    }
    if (candidates(ctx, &rt, cand, &n, o) < 0)
        goto out;
    for (int i = 0; i < n; i++) {
        endpoint_key(key, sizeof(key), &cand[i].addr, rt.port);
        if (!deliver_dest_take(key)) {
            busy = 1; /* another candidate may be free */
            continue;
        }
        while ((c = deliver_pool_get(NULL, key, cand[i].host, m)) != NULL) {
            /* the same server under this candidate's name; an authentication
             * was for the old name only */
            if (strcasecmp(c->host, cand[i].host) != 0) {
                memcpy(c->host, cand[i].host, sizeof(c->host));
                c->verified = 0;
            }
            if (transact(c, rt.nexthop, m, o) == 0) {
                deliver_dest_give(key);
                goto out;
            }
        }
        struct outcome fail;
        memset(&fail, 0, sizeof(fail));
        c = deliver_session_open(&cand[i].addr, rt.port, cand[i].host, m, &fail);
        if (c == NULL) {
            deliver_dest_give(key);
            *o = fail; /* the last host failure is reported */
            continue;
        }
        int r = transact(c, rt.nexthop, m, o);
        deliver_dest_give(key);
        if (r == 0)
            goto out;
        /* a fresh connection is never stale; treat like a host failure */
        deliver_session_outcome_reason(o, DLV_DEFER, "4.4.1", "lost connection with %s",
                                       cand[i].host);
    }
    /* no host took the message; one that was only busy will be tried again
     * soon, without counting this as an attempt */
    if (busy)
        throttled(o, at + 1, rt.host, rt.port);
out:
    deliver_dest_give(rt.nexthop);
}
