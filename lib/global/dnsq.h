/*
 * dnsq - small synchronous DNS lookups through a configurable server
 * (dns_servers "host:port,..."), for administration and checks. The
 * delivery path uses c-ares instead.
 */
#ifndef TX_DNSQ_H
#define TX_DNSQ_H

#include <resolv.h>

/* dnsq_set_servers - point a resolver state at "host:port,..." (no-op when empty) */
void dnsq_set_servers(res_state st, const char *servers);

/*
 * dnsq_query - ask servers for name's records of type (class IN) into
 * answer[0..size), two tries of two seconds: the answer's length (> 0),
 * 0 when the name or the type does not exist (NXDOMAIN, NODATA), -1 when
 * the lookup failed (timeout, SERVFAIL).
 */
int dnsq_query(const char *servers, const char *name, int type, unsigned char *answer, int size);

/* dnsq_count - number of answers of type (ns_t_a, ns_t_mx, ...) for name:
 * >= 0, or -1 when the lookup failed (timeout, SERVFAIL). NXDOMAIN is 0. */
int dnsq_count(const char *servers, const char *name, int type);

#endif
