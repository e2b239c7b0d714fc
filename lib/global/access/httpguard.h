/*
 * httpguard - what libmicrohttpd does not enforce on a public listener:
 * a deadline for the header phase and a cap on connections per client
 * address.
 *
 * MHD_OPTION_CONNECTION_TIMEOUT is an idle timeout, restarted by every
 * byte that arrives: a client sending one header byte every few seconds
 * keeps its connection forever, and MHD_OPTION_CONNECTION_LIMIT then
 * lets one address take every slot (slowloris). MHD's own
 * MHD_OPTION_PER_IP_CONNECTION_LIMIT counts exact addresses, which an
 * IPv6 client with a /64 can step around. So:
 *
 *   header deadline   from the moment a connection is accepted (TLS
 *                     handshake included), and again from the end of each
 *                     answered request on a kept-alive connection, the
 *                     whole header of the next request must have arrived
 *                     within header_ms; otherwise a sweeper thread shuts
 *                     the socket down and MHD closes the connection
 *                     without an answer (not while the socket holds bytes
 *                     the server has not read yet: then the server is
 *                     behind, not the client). The body is not covered
 *                     (the program's own read timeout covers it).
 *   per-client cap    at most per_client connections from one client
 *                     address (IPv4 address, IPv6 /64); more are refused
 *                     at accept time. Peers in the exempt networks (the
 *                     program's trusted proxies, which carry many clients)
 *                     are not capped. Client groups and network lists
 *                     are netaddr.h's (netaddr_group, netaddr_list_parse).
 *
 * Use: httpguard_create() before MHD_start_daemon(); pass httpguard_accept
 * as the accept policy callback and MHD_OPTION_NOTIFY_CONNECTION
 * httpguard_notify, both with the guard as closure; call
 * httpguard_headers_done() at the top of the access handler and
 * httpguard_request_done() in the MHD_OPTION_NOTIFY_COMPLETED callback;
 * httpguard_free() after MHD_stop_daemon().
 *
 * Outcomes are counted in txmail_http_guard_total{outcome} (header_timeout,
 * client_cap) and summed up, with the listener's name, in one log line per
 * sweep in which something happened.
 */
#ifndef TX_HTTPGUARD_H
#define TX_HTTPGUARD_H

#include <microhttpd.h>
#include <stdint.h>
#include <sys/socket.h>

struct httpguard;

struct httpguard_conf {
    const char *name;     /* listener name in logs and metrics ("rest-https") */
    long long per_client; /* connections per client address; 0: no cap */
    int64_t header_ms;    /* header phase deadline; 0: none */
    const char *exempt;   /* comma-separated networks not capped ("10.0.0.0/8,::1") */
};

/*
 * httpguard_create - a guard with its sweeper thread; fatal when exempt
 * names a bad network. Ownership: new (httpguard_free).
 */
struct httpguard *httpguard_create(const struct httpguard_conf *conf);
/* httpguard_free - stop the sweeper and free; call after MHD_stop_daemon (NULL: no-op) */
void httpguard_free(struct httpguard *g);

/* httpguard_accept - MHD_AcceptPolicyCallback: MHD_NO over the per-client cap */
enum MHD_Result httpguard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* httpguard_notify - MHD_NotifyConnectionCallback: tracks each connection */
void httpguard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe);
/* httpguard_headers_done - the request's header is complete (access handler) */
void httpguard_headers_done(struct MHD_Connection *c);
/* httpguard_request_done - the request ended; the next header's deadline starts */
void httpguard_request_done(struct MHD_Connection *c);
/* httpguard_timed_out - 1 when the guard closed c for its header deadline */
int httpguard_timed_out(struct MHD_Connection *c);

#endif
