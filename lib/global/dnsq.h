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

/* dnsq_count - number of answers of type (ns_t_a, ns_t_mx, ...) for name:
 * >= 0, or -1 when the lookup failed (timeout, SERVFAIL). NXDOMAIN is 0. */
int dnsq_count(const char *servers, const char *name, int type);

#endif
