/*
 * track_client - who is asking: the client address (behind trusted
 * proxies), its truncated form for events, and the match against the
 * list of link scanners and prefetch proxies.
 */
#include "global/access/netaddr.h"
#include "producers/track/track.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* looks_like_net - digits, dots, colons, hex and one slash only */
static int looks_like_net(const char *s)
{
    int colon = 0, dot = 0;

    for (const char *p = s; *p; p++) {
        if (*p == ':')
            colon = 1;
        else if (*p == '.')
            dot = 1;
        else if (!isxdigit((unsigned char)*p) && *p != '/')
            return 0;
    }
    return colon || (dot && isdigit((unsigned char)s[0]));
}

int track_client_list_parse(struct track_list *l, const char *text, int nets_only, char *err,
                            size_t errsz)
{
    char *copy = xstrdup(text ? text : ""), *next = copy;

    memset(l, 0, sizeof(*l));
    while (next) {
        char *tok = next, *comma = strchr(next, ',');

        if (comma)
            *comma = 0;
        next = comma ? comma + 1 : NULL;
        while (*tok == ' ' || *tok == '\t')
            tok++;
        size_t n = strlen(tok);
        while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
            tok[--n] = 0;
        if (n == 0)
            continue;
        if (nets_only || looks_like_net(tok)) {
            struct netaddr_net c;
            if (netaddr_net_parse(&c, tok, n) < 0) {
                snprintf(err, errsz, "not an address or network: %s", tok);
                xfree(copy);
                track_client_list_free(l);
                return -1;
            }
            netaddr_list_add(&l->nets, &c);
        } else {
            for (char *q = tok; *q; q++)
                *q = (char)tolower((unsigned char)*q);
            l->agents = xrealloc(l->agents, sizeof(*l->agents) * (size_t)(l->nagents + 1));
            l->agents[l->nagents++] = xstrdup(tok);
        }
    }
    xfree(copy);
    return 0;
}

void track_client_list_free(struct track_list *l)
{
    for (int i = 0; i < l->nagents; i++)
        xfree(l->agents[i]);
    xfree(l->agents);
    netaddr_list_free(&l->nets);
    memset(l, 0, sizeof(*l));
}

int track_client_addr_in(const struct track_list *l, const struct sockaddr *sa)
{
    struct netaddr a;

    return netaddr_from_sockaddr(&a, sa) == 0 && netaddr_list_match(&l->nets, &a);
}

int track_client_agent_in(const struct track_list *l, const char *ua)
{
    char low[1024];
    size_t n;

    if (ua == NULL || l->nagents == 0)
        return 0;
    /* lower-case once (the substrings are stored lower-case), then plain strstr */
    for (n = 0; ua[n] && n < sizeof(low) - 1; n++)
        low[n] = (char)tolower((unsigned char)ua[n]);
    low[n] = 0;
    for (int i = 0; i < l->nagents; i++)
        if (strstr(low, l->agents[i]) != NULL)
            return 1;
    return 0;
}

/* set_addr - text address into a sockaddr; -1 when it is none */
static int set_addr(const char *s, size_t n, struct sockaddr_storage *out)
{
    char host[64];

    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof(host))
        return -1;
    memcpy(host, s, n);
    host[n] = 0;
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

void track_client_addr(const struct sockaddr *peer, const char *xff,
                       const struct track_list *trusted, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (peer)
        memcpy(out, peer,
               peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                           : sizeof(struct sockaddr_in));
    if (xff == NULL || trusted->nets.n == 0 || !track_client_addr_in(trusted, peer))
        return;
    /* right to left: the first entry a trusted proxy did not add itself */
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        struct sockaddr_storage a;

        while (start > 0 && xff[start - 1] != ',')
            start--;
        if (set_addr(xff + start, end - start, &a) < 0)
            return; /* garbage: keep what we have */
        memcpy(out, &a, sizeof(a));
        if (!track_client_addr_in(trusted, (struct sockaddr *)&a))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}

char *track_client_ip_truncated(const struct sockaddr *sa, char *out, size_t outsz)
{
    struct netaddr a;

    if (netaddr_from_sockaddr(&a, sa) < 0) {
        snprintf(out, outsz, "%s", "");
        return out;
    }
    if (a.family == AF_INET)
        a.a[3] = 0;
    else
        memset(a.a + 6, 0, 10);
    return netaddr_text(&a, out, outsz);
}

char *track_client_clean_text(const char *s, size_t max)
{
    struct buf b = BUF_INIT(max + 8);
    size_t len = s ? strlen(s) : 0, i = 0;

    while (i < len && b.len < max) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;

        if (n == 0 || i + n > len || !codec_utf8_valid(s + i, n)) {
            buf_putc(&b, '?');
            i++;
            continue;
        }
        if (n == 1 && (c < 0x20 || c == 0x7f)) {
            buf_putc(&b, '?');
            i++;
            continue;
        }
        if (b.len + n > max)
            break;
        buf_append(&b, s + i, n);
        i += n;
    }
    char *r = buf_steal(&b, NULL);
    return r ? r : xstrdup("");
}
