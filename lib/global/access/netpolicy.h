/*
 * netpolicy - which peer addresses a program may connect to on a
 * tenant's behalf (webhook endpoints, MX hosts).
 *
 * A policy is two lists of networks, "deny" and "allow"; an address is
 * allowed when it is in an allow network or in no deny network, so an
 * operator opens exactly a range (the local test stack: 127.0.0.0/8)
 * without giving up the rest of the deny list. A list is written
 * "10.0.0.0/8, fc00::/7, 192.0.2.1" (commas and/or spaces; no prefix
 * length: the one address); the word "default" in a list stands for
 * NETPOLICY_DEFAULT_DENY, the addresses no tenant should reach:
 *
 *   IPv4  0.0.0.0/8 (this network), 10/8, 172.16/12, 192.168/16
 *         (RFC 1918), 100.64/10 (shared CGN space), 127/8 (loopback),
 *         169.254/16 (link-local: cloud metadata), 192.0.0.0/24 (IETF
 *         protocol assignments), 198.18/15 (benchmarking), 224/4
 *         (multicast), 240/4 (reserved, and 255.255.255.255)
 *   IPv6  ::/128 (unspecified), ::1/128 (loopback), fc00::/7 (ULA),
 *         fe80::/10 (link-local), fec0::/10 (old site-local), ff00::/8
 *         (multicast), 100::/64 (discard), 64:ff9b:1::/48 (local NAT64)
 *
 * IPv6 forms that carry an IPv4 address are judged by that address as
 * well: IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64
 * 64:ff9b::a.b.c.d (RFC 6052) and 6to4 2002:AABB:CCDD:: (RFC 3056). Such
 * an address is allowed when it or its IPv4 address is in an allow
 * network; otherwise denied when it or its IPv4 address is in a deny
 * network. So ::ffff:127.0.0.1 is denied by 127.0.0.0/8, and allowed by
 * an allow entry of 127.0.0.0/8.
 *
 * A policy is read-only once parsed: threads may share it.
 */
#ifndef TX_NETPOLICY_H
#define TX_NETPOLICY_H

#include <stddef.h>

struct sockaddr;
struct netpolicy;

#define NETPOLICY_DEFAULT_DENY                                                                     \
    "0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, "           \
    "192.0.0.0/24, 192.168.0.0/16, 198.18.0.0/15, 224.0.0.0/4, 240.0.0.0/4, "                      \
    "::/128, ::1/128, 100::/64, 64:ff9b:1::/48, fc00::/7, fe80::/10, fec0::/10, ff00::/8"

/*
 * netpolicy_create - parse the two lists (NULL or "" : empty). NULL with
 * the reason in err when a list does not parse. Ownership: new
 * (netpolicy_free).
 */
struct netpolicy *netpolicy_create(const char *deny, const char *allow, char *err, size_t errsz);
void netpolicy_free(struct netpolicy *np);
/* netpolicy_allowed - 1 when a connection to sa (AF_INET or AF_INET6) is allowed; other families: 0 */
int netpolicy_allowed(const struct netpolicy *np, const struct sockaddr *sa);
/* netpolicy_allowed_text - the same for an address in text form; 0 when it is not an address */
int netpolicy_allowed_text(const struct netpolicy *np, const char *addr);

#endif
