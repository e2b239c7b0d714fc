/*
 * netaddr - client and peer addresses: the one place that reads an
 * address from text or from a socket address, groups clients, and
 * matches addresses against lists of networks.
 *
 * An address is its family (AF_INET or AF_INET6) and its bytes (4 or
 * 16). An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack
 * socket reports for an IPv4 client) is read as the IPv4 address, so
 * "::ffff:192.0.2.1" and "192.0.2.1" are the same address everywhere.
 * Addresses are plain values, zero-filled past their length: compare them
 * with netaddr_equal or memcmp.
 *
 * A client group is the unit of per-client limits: an IPv4 address is a
 * group of its own; an IPv6 address stands for its /64 (a host or a
 * customer network is given a whole /64, so one client could otherwise
 * rotate through 2^64 addresses).
 *
 * A network is "address[/bits]" (no prefix length: the one address). An
 * address is in a network of its own family only: an IPv4 client (mapped
 * or not) is in 10.0.0.0/8, never in an IPv6 network. A network written
 * in the mapped form (::ffff:10.0.0.0/104) stays an IPv6 network, as
 * written (netpolicy judges raw IPv6 forms by it); client addresses never
 * fall in it, so client lists name IPv4 networks in IPv4 form. A list is
 * written "10.0.0.0/8, 2001:db8::/32, 192.0.2.7" (commas and/or blanks).
 * Parsed lists are read-only: threads may share them.
 */
#ifndef TX_NETADDR_H
#define TX_NETADDR_H

#include <stddef.h>

struct sockaddr;

struct netaddr {
    int family;          /* AF_INET or AF_INET6 */
    unsigned char a[16]; /* AF_INET: a[0..3], the rest 0 */
};

struct netaddr_net {
    struct netaddr addr;
    int bits; /* prefix length, 0..32 or 0..128 */
};

struct netaddr_list {
    struct netaddr_net *v;
    int n;
};

/* netaddr_parse - the address in text[0..len) (no blanks); -1 when it is none */
int netaddr_parse(struct netaddr *out, const char *text, size_t len);
/* netaddr_from_sockaddr - the address of sa (AF_INET, AF_INET6); -1 for NULL and other families */
int netaddr_from_sockaddr(struct netaddr *out, const struct sockaddr *sa);
/* netaddr_equal - 1 when x and y are the same address */
int netaddr_equal(const struct netaddr *x, const struct netaddr *y);
/* netaddr_text - the address in its canonical text form (inet_ntop) into out; returns out */
char *netaddr_text(const struct netaddr *a, char *out, size_t outsz);

/* netaddr_group - the client group of a: IPv4 the address, IPv6 its /64 (host bits 0) */
void netaddr_group(const struct netaddr *a, struct netaddr *group);
/*
 * netaddr_group_text - the group of an address text as text: "192.0.2.1",
 * "2001:db8:0:1::/64". Text that is no address is its own group (copied).
 */
void netaddr_group_text(const char *ip, char *out, size_t outsz);

/* netaddr_net_parse - the network "address[/bits]" in text[0..len); -1 when it is none */
int netaddr_net_parse(struct netaddr_net *out, const char *text, size_t len);
/* netaddr_net_match - 1 when a is in network n (same family, same first n->bits bits) */
int netaddr_net_match(const struct netaddr_net *n, const struct netaddr *a);

/*
 * netaddr_list_parse - add the networks of spec (NULL or "": none) to l;
 * -1 with err naming the first bad entry (l then holds the ones before it).
 * Ownership: l's array is new (netaddr_list_free).
 */
int netaddr_list_parse(struct netaddr_list *l, const char *spec, char *err, size_t errsz);
/* netaddr_list_add - append one network to l */
void netaddr_list_add(struct netaddr_list *l, const struct netaddr_net *n);
/* netaddr_list_match - 1 when a is in one of the networks of l */
int netaddr_list_match(const struct netaddr_list *l, const struct netaddr *a);
/* netaddr_list_free - free l's networks; l is empty again */
void netaddr_list_free(struct netaddr_list *l);

#endif
