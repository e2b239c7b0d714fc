/*
 * netaddr - addresses, client groups and network lists; see netaddr.h.
 */
#include "global/access/netaddr.h"
#include "util/mymalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* set6 - an IPv6 address from its 16 bytes, the mapped form unwrapped */
static void set6(struct netaddr *out, const unsigned char *a6)
{
    memset(out, 0, sizeof(*out));
    if (memcmp(a6, v4mapped, 12) == 0) {
        out->family = AF_INET;
        memcpy(out->a, a6 + 12, 4);
    } else {
        out->family = AF_INET6;
        memcpy(out->a, a6, 16);
    }
}

int netaddr_parse(struct netaddr *out, const char *text, size_t len)
{
    char t[INET6_ADDRSTRLEN];
    unsigned char a6[16];

    memset(out, 0, sizeof(*out));
    if (text == NULL || len == 0 || len >= sizeof(t))
        return -1;
    memcpy(t, text, len);
    t[len] = 0;
    if (inet_pton(AF_INET, t, out->a) == 1) {
        out->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, t, a6) == 1) {
        set6(out, a6);
        return 0;
    }
    memset(out, 0, sizeof(*out));
    return -1;
}

int netaddr_from_sockaddr(struct netaddr *out, const struct sockaddr *sa)
{
    memset(out, 0, sizeof(*out));
    if (sa == NULL)
        return -1;
    if (sa->sa_family == AF_INET) {
        out->family = AF_INET;
        memcpy(out->a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        set6(out, ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
        return 0;
    }
    return -1;
}

int netaddr_equal(const struct netaddr *x, const struct netaddr *y)
{
    return x->family == y->family && memcmp(x->a, y->a, sizeof(x->a)) == 0;
}

char *netaddr_text(const struct netaddr *a, char *out, size_t outsz)
{
    if (outsz == 0)
        return out;
    if ((a->family != AF_INET && a->family != AF_INET6) ||
        inet_ntop(a->family, a->a, out, (socklen_t)outsz) == NULL)
        out[0] = 0;
    return out;
}

void netaddr_group(const struct netaddr *a, struct netaddr *group)
{
    *group = *a;
    if (group->family == AF_INET6)
        memset(group->a + 8, 0, 8); /* the /64 */
}

void netaddr_group_text(const char *ip, char *out, size_t outsz)
{
    struct netaddr a, g;
    char text[INET6_ADDRSTRLEN];

    if (ip == NULL || netaddr_parse(&a, ip, strlen(ip)) < 0) {
        snprintf(out, outsz, "%s", ip ? ip : "");
        return;
    }
    netaddr_group(&a, &g);
    snprintf(out, outsz, "%s%s", netaddr_text(&g, text, sizeof(text)),
             g.family == AF_INET6 ? "/64" : "");
}

int netaddr_net_parse(struct netaddr_net *out, const char *text, size_t len)
{
    const char *slash = memchr(text, '/', len);
    size_t alen = slash ? (size_t)(slash - text) : len;
    char bits[8], *end;
    long b;

    memset(out, 0, sizeof(*out));
    if (netaddr_parse(&out->addr, text, alen) < 0)
        return -1;
    /* the network is written as it is meant: ::ffff:0:0/96 stays IPv6 */
    if (out->addr.family == AF_INET && memchr(text, ':', alen) != NULL) {
        unsigned char a4[4];
        memcpy(a4, out->addr.a, 4);
        out->addr.family = AF_INET6;
        memset(out->addr.a, 0, sizeof(out->addr.a));
        memcpy(out->addr.a, v4mapped, 12);
        memcpy(out->addr.a + 12, a4, 4);
    }
    out->bits = out->addr.family == AF_INET ? 32 : 128;
    if (slash) {
        size_t blen = len - alen - 1;
        if (blen == 0 || blen >= sizeof(bits))
            return -1;
        memcpy(bits, slash + 1, blen);
        bits[blen] = 0;
        b = strtol(bits, &end, 10);
        if (*end || end == bits || b < 0 || b > out->bits)
            return -1;
        out->bits = (int)b;
    }
    return 0;
}

int netaddr_net_match(const struct netaddr_net *n, const struct netaddr *a)
{
    int full = n->bits / 8, rest = n->bits % 8;

    if (n->addr.family != a->family)
        return 0;
    if (memcmp(a->a, n->addr.a, (size_t)full) != 0)
        return 0;
    return rest == 0 || ((a->a[full] ^ n->addr.a[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

void netaddr_list_add(struct netaddr_list *l, const struct netaddr_net *n)
{
    l->v = xrealloc(l->v, sizeof(*l->v) * (size_t)(l->n + 1));
    l->v[l->n++] = *n;
}

int netaddr_list_parse(struct netaddr_list *l, const char *spec, char *err, size_t errsz)
{
    const char *p = spec ? spec : "";

    while (*p) {
        size_t len = strcspn(p, ", \t");
        if (len > 0) {
            struct netaddr_net n;
            if (netaddr_net_parse(&n, p, len) < 0) {
                snprintf(err, errsz, "\"%.*s\" is not an address with an optional prefix length",
                         (int)(len > 60 ? 60 : len), p);
                return -1;
            }
            netaddr_list_add(l, &n);
        }
        p += len;
        p += strspn(p, ", \t");
    }
    return 0;
}

int netaddr_list_match(const struct netaddr_list *l, const struct netaddr *a)
{
    for (int i = 0; i < l->n; i++)
        if (netaddr_net_match(&l->v[i], a))
            return 1;
    return 0;
}

void netaddr_list_free(struct netaddr_list *l)
{
    xfree(l->v);
    l->v = NULL;
    l->n = 0;
}
