/* track - what the files of txmail-track share (see track.c for the manual). */
#ifndef TX_TRACK_H
#define TX_TRACK_H

#include "global/access/netaddr.h"
#include "global/tracking/tracktoken.h"
#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* parameters (track.c) */
struct track_conf {
    char *listen;
    int tls;
    char *tls_cert_file;
    char *tls_key; /* the key itself (secret file) */
    long long threads;
    long long connection_limit;
    int64_t read_timeout_ms;
    long long expired_click_status;
    char *automated_agents;
    char *trusted_proxies;
    char *metrics_allow;
    long long event_queue;
    long long event_batch;
    long long events_per_message;
    int64_t unsubscribe_timeout_ms;
    int64_t confirm_timeout_ms;
    int64_t stop_timeout_ms;
    int log_requests;
    int64_t header_timeout_ms;
    long long max_per_client;
    char *tls_priorities;
    char *health_allow;
    int64_t dedup_window_ms;
    long long token_events, client_events, flood_entries;
    char *cert_dir; /* per-host certificates (SNI) */
};

extern struct track_conf track_conf;
extern struct track_keys *track_keys;

/* ---- track_client.c: who is asking ---- */

struct track_list {
    struct netaddr_list nets; /* networks (netaddr.h) */
    char **agents;            /* lowercase substrings of User-Agent */
    int nagents;
};

/* track_client_list_parse - "substring, 10.0.0.0/8, ..."; -1 with err on a bad network */
int track_client_list_parse(struct track_list *l, const char *text, int nets_only, char *err,
                            size_t errsz);
void track_client_list_free(struct track_list *l);
/* track_client_addr_in - 1 when sa is in one of the networks of l */
int track_client_addr_in(const struct track_list *l, const struct sockaddr *sa);
/* track_client_agent_in - 1 when ua contains one of the substrings (case-insensitive) */
int track_client_agent_in(const struct track_list *l, const char *ua);
/*
 * track_client_addr - the client's address: the peer, or with a trusted
 * proxy the right-most X-Forwarded-For entry that is not a trusted proxy.
 * Result in *out (sockaddr_storage).
 */
void track_client_addr(const struct sockaddr *peer, const char *xff,
                       const struct track_list *trusted, struct sockaddr_storage *out);
/* track_client_ip_truncated - IPv4 to /24, IPv6 to /48, as text into out */
char *track_client_ip_truncated(const struct sockaddr *sa, char *out, size_t outsz);
/* track_client_clean_text - valid UTF-8, printable, at most max bytes. Ownership: new. */
char *track_client_clean_text(const char *s, size_t max);

/* ---- track_events.c: the publisher ---- */

/* the event of one tracking request */
struct track_hit {
    const struct track_token *tok;
    const char *type;       /* OPENED, CLICKED, UNSUBSCRIBED */
    const char *user_agent; /* may be NULL */
    const char *ip;         /* truncated */
    int automated;
    int64_t ts_ms;
};

enum track_push { TRACK_QUEUED, TRACK_CONFIRMED, TRACK_FULL, TRACK_TIMEOUT };

/* track_events_start - start the publisher thread */
void track_events_start(void);
/* track_events_stop - publish what is queued (up to stop_timeout), stop */
void track_events_stop(void);
/*
 * track_events_push - queue the event of h. wait_ms 0: return at once
 * (TRACK_QUEUED, or TRACK_FULL when the queue is full: the event is
 * dropped); otherwise wait for the broker's confirm (TRACK_CONFIRMED or
 * TRACK_TIMEOUT; a timed-out event stays queued and is still published).
 */
enum track_push track_events_push(const struct track_hit *h, int64_t wait_ms);
/* track_events_connected - 1 while the publisher has a broker connection */
int track_events_connected(void);
/* track_events_queued - events waiting for the broker */
long track_events_queued(void);

/* ---- track_flood.c: which hits become events ---- */

struct track_flood_conf {
    int64_t window_ms;       /* same token, same kind of client: one event (0: off) */
    long long token_events;  /* events per token per hour (and at once) */
    long long client_events; /* events per client address per minute (and at once) */
    long long entries;       /* tokens remembered (client addresses: a quarter) */
};

enum track_flood_verdict {
    TRACK_FLOOD_RECORD,       /* publish the event */
    TRACK_FLOOD_DUPLICATE,    /* within the window of the last recorded one */
    TRACK_FLOOD_TOKEN_LIMIT,  /* the token's rate is used up */
    TRACK_FLOOD_CLIENT_LIMIT, /* the client address's rate is used up */
};

struct track_flood;

/* track_flood_create - fixed-size tables for conf. Ownership: new (track_flood_free). */
struct track_flood *track_flood_create(const struct track_flood_conf *conf);
void track_flood_free(struct track_flood *f);
/*
 * track_flood_check - whether a hit of token[0..len) by client (automated
 * or not) at now (ms) becomes an event; a RECORD verdict is counted as
 * recorded. The first hit of a token per kind of client is always
 * recorded. Thread-safe.
 */
enum track_flood_verdict track_flood_check(struct track_flood *f, const char *token, size_t len,
                                           int automated, const struct sockaddr *client,
                                           int64_t now);
/* track_flood_name - the verdict for log lines */
const char *track_flood_name(enum track_flood_verdict v);

/* ---- track_http.c: the HTTP server ---- */

/* track_http_start - listen and serve; fatal when the listener cannot start */
void track_http_start(void);
void track_http_stop(void);

#endif
