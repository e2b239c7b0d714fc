/*
 * netpolicy - allow and deny networks for outbound connections made on a
 * tenant's behalf (see netpolicy.h for the rules and the default list).
 * Lists are netaddr lists (netaddr.h); what is netpolicy's own is the
 * "default" word and the judgement of IPv6 forms that carry IPv4.
 */
#include "global/access/netaddr.h"
#include "global/access/netpolicy.h"
#include "util/mymalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define NETPOLICY_MAX_NETS 10000

struct netpolicy {
    struct netaddr_list deny, allow;
};

/* parse_list - a list with "default" expanded; -1 with err naming the bad token */
static int parse_list(struct netaddr_list *l, const char *spec, const char *what, char *err,
                      size_t errsz)
{
    char *copy, *save = NULL;
    struct netaddr_net n;
    int rc = 0;

    if (spec == NULL)
        return 0;
    copy = xstrdup(spec);
    for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        if (strcasecmp(tok, "default") == 0) {
            if (parse_list(l, NETPOLICY_DEFAULT_DENY, what, err, errsz) < 0)
                rc = -1;
        } else if (l->n >= NETPOLICY_MAX_NETS || netaddr_net_parse(&n, tok, strlen(tok)) < 0) {
            snprintf(err, errsz, "%s: \"%.60s\" is not an address with an optional prefix length",
                     what, tok);
            rc = -1;
        } else {
            netaddr_list_add(l, &n);
        }
        if (rc < 0)
            break;
    }
    xfree(copy);
    return rc;
}

struct netpolicy *netpolicy_create(const char *deny, const char *allow, char *err, size_t errsz)
{
    struct netpolicy *np = xcalloc(1, sizeof(*np));

    if (parse_list(&np->deny, deny, "deny list", err, errsz) < 0 ||
        parse_list(&np->allow, allow, "allow list", err, errsz) < 0) {
        netpolicy_free(np);
        return NULL;
    }
    return np;
}

void netpolicy_free(struct netpolicy *np)
{
    if (np == NULL)
        return;
    netaddr_list_free(&np->deny);
    netaddr_list_free(&np->allow);
    xfree(np);
}

/*
 * embedded_v4 - the IPv4 address an IPv6 address stands for or carries:
 * mapped ::ffff:0:0/96, translated ::ffff:0:0:0/96, compatible ::/96,
 * NAT64 64:ff9b::/96, 6to4 2002::/16. NULL when none.
 */
static const unsigned char *embedded_v4(const unsigned char *a6)
{
    static const unsigned char zero[12];
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};

    if (memcmp(a6, mapped, 12) == 0 || memcmp(a6, translated, 12) == 0 ||
        memcmp(a6, zero, 12) == 0 || memcmp(a6, nat64, 12) == 0)
        return a6 + 12;
    if (a6[0] == 0x20 && a6[1] == 0x02)
        return a6 + 2;
    return NULL;
}

/* in_list - a4 (IPv4 bytes) or a6 (IPv6 bytes as they came, mapped form kept) in l; NULL: not checked */
static int in_list(const struct netaddr_list *l, const unsigned char *a4, const unsigned char *a6)
{
    struct netaddr v4 = {AF_INET, {0}}, v6 = {AF_INET6, {0}};

    if (a4)
        memcpy(v4.a, a4, 4);
    if (a6)
        memcpy(v6.a, a6, 16);
    return (a4 && netaddr_list_match(l, &v4)) || (a6 && netaddr_list_match(l, &v6));
}

int netpolicy_allowed(const struct netpolicy *np, const struct sockaddr *sa)
{
    const unsigned char *a4 = NULL, *a6 = NULL;

    if (sa == NULL)
        return 0;
    if (sa->sa_family == AF_INET) {
        a4 = (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    } else if (sa->sa_family == AF_INET6) {
        a6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        a4 = embedded_v4(a6);
    } else {
        return 0;
    }
    if (in_list(&np->allow, a4, a6))
        return 1;
    return !in_list(&np->deny, a4, a6);
}

int netpolicy_allowed_text(const struct netpolicy *np, const char *addr)
{
    struct sockaddr_in s4;
    struct sockaddr_in6 s6;

    memset(&s4, 0, sizeof(s4));
    memset(&s6, 0, sizeof(s6));
    if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
        s4.sin_family = AF_INET;
        return netpolicy_allowed(np, (const struct sockaddr *)&s4);
    }
    if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1) {
        s6.sin6_family = AF_INET6;
        return netpolicy_allowed(np, (const struct sockaddr *)&s6);
    }
    return 0;
}
