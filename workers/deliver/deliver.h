/*
 * deliver.h - internals of txmail-deliver shared by its files (see
 * deliver.c for the manual). Nothing here is used outside workers/deliver.
 */
#ifndef TX_DELIVER_H
#define TX_DELIVER_H

#include "global/db.h"
#include "global/txcode.h"
#include "global/intake/suppress.h"

struct job;

#include <ares.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- parameters (deliver.c) ------------------------------------------- */

struct deliver_conf {
    long long smtp_port;
    char *transport_map;
    char *source_ip;
    char *helo_name;
    char *tls_level; /* "may" | "none" */
    int tls_verify;
    char *tls_ca_file;
    int64_t connect_timeout, greeting_timeout, helo_timeout, starttls_timeout;
    int64_t mail_timeout, rcpt_timeout, data_timeout, data_block_timeout;
    int64_t dot_timeout, rset_timeout;
    int conn_reuse;
    int64_t conn_idle, conn_max_age;
    long long conn_max_messages, conn_cache_size;
    int64_t dns_timeout, dns_cache_ttl, dns_negative_ttl;
    long long dns_tries, mx_max_hosts, mx_max_addresses;
    char *inet_protocols;                 /* "all" | "ipv4" | "ipv6" */
    char *deny_networks, *allow_networks; /* MX addresses (netpolicy.h) */
    int64_t suppress_cache, domain_cache, record_retry;
    long long min_data_rate, dest_limit;
    int64_t dest_retry;
};

extern struct deliver_conf deliver_conf;

/* ---- per handler thread ----------------------------------------------- */

struct dctx {
    ares_channel ares;
    int ares_ok;
};

/* ---- replies and classification (deliver_reply.c) --------------------- */

#define REPLY_TEXT_MAX 1024
#define DSN_MAX 16

enum dlv_status { DLV_SENT, DLV_DEFER, DLV_BOUNCE };

struct smtp_reply {
    int code;                  /* 0 until complete; the last line's code */
    char enh[DSN_MAX];         /* "5.1.1" from the first line, or "" */
    char text[REPLY_TEXT_MAX]; /* lines joined by one space, printable */
    size_t len;
    int lines;
};

void deliver_reply_init(struct smtp_reply *r);
/*
 * deliver_reply_feed - add one reply line (without CRLF). Returns 1 when
 * the reply is complete, 0 when more lines follow, -1 when the line is
 * not an SMTP reply line (the text then holds it, printable).
 */
int deliver_reply_feed(struct smtp_reply *r, const char *line, size_t len);
/* deliver_reply_status - the class of a reply code */
enum dlv_status deliver_reply_status(int code);
/*
 * deliver_reply_dsn - the enhanced code of a reply for a description: the
 * reply's own when its class matches, else "<class>.0.0"; class_override
 * (2, 4, 5 or 0 for none) forces the class (a 5xx greeting treated as
 * temporary). out has DSN_MAX bytes.
 */
char *deliver_reply_dsn(char *out, const struct smtp_reply *r, int class_override);
/*
 * deliver_reply_describe - the contract's description (§10.2):
 * "[dsn] word (host H said: TEXT)" when host is set, else
 * "[dsn] word (TEXT)". Returns out.
 */
char *deliver_reply_describe(char *out, size_t outsz, const char *dsn, const char *word,
                             const char *host, const char *text);
/* ---- dot-stuffing writer (deliver_dot.c) ------------------------------- */

struct dotstuff {
    int bol; /* at the beginning of a line */
    int cr;  /* the last input byte was a CR (written as CRLF) */
};

void deliver_dot_init(struct dotstuff *d);
/*
 * deliver_dot_run - transform in[0..inlen) for the DATA phase into out (at
 * most outcap bytes, outcap >= 2): every line end (CRLF, bare CR, bare
 * LF) becomes CRLF, then a '.' starting a line is doubled. *used tells
 * how much input was consumed; the return value how much output was
 * produced.
 */
size_t deliver_dot_run(struct dotstuff *d, const char *in, size_t inlen, char *out, size_t outcap,
                       size_t *used);
/* deliver_dot_end - the end of data: a line end when missing, then ".\r\n" (out >= 5) */
size_t deliver_dot_end(struct dotstuff *d, char *out);

/* ---- connections (deliver_net.c, deliver_tls.c) ----------------------- */

#define CAP_PIPELINING 0x01
#define CAP_SIZE 0x02
#define CAP_8BITMIME 0x04
#define CAP_SMTPUTF8 0x08
#define CAP_STARTTLS 0x10
#define CAP_ENHANCED 0x20

#define DCONN_KEY_MAX 160
#define DCONN_HOST_MAX 256

struct dconn {
    int fd;
    SSL *ssl;
    char host[DCONN_HOST_MAX]; /* the name we connected to (MX, relay) */
    char ip[INET6_ADDRSTRLEN];
    int port;
    char key[DCONN_KEY_MAX]; /* endpoint: ip, port, source address */
    char nexthop[DCONN_HOST_MAX + 32];
    unsigned caps;
    long long size_max;
    int tls;
    int verified;      /* the peer was authenticated (deliver_tls_verify) */
    char tls_desc[64]; /* "TLSv1.3" or "none" */
    int nmsgs;         /* transactions completed */
    int64_t born_ms, last_ms;
    int broken;    /* unusable: close it */
    char err[256]; /* the last I/O failure, for descriptions */
    char rbuf[16384];
    size_t rlen, rpos;
};

union dsock {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
};

/* deliver_net_connect - new connection to addr:port within the timeout; NULL with err */
struct dconn *deliver_net_connect(const union dsock *addr, int port, const char *host, char *err,
                                  size_t errsz);
/*
 * deliver_net_read_line - one line without CRLF into line (at most max-1 bytes)
 * before deadline (timeutil_mono_ms()): 1, or -1 (c->err)
 */
int deliver_net_read_line(struct dconn *c, char *line, size_t max, size_t *len, int64_t deadline);
/* deliver_net_write - all of buf before deadline (timeutil_mono_ms()); 0 or -1 (c->err) */
int deliver_net_write(struct dconn *c, const void *buf, size_t len, int64_t deadline);
/* deliver_net_close - QUIT when polite and the connection is sound, then close and free */
void deliver_net_close(struct dconn *c, int polite);

/* deliver_tls_init - the client context; 0 or -1 */
int deliver_tls_init(void);
void deliver_tls_done(void);
/* deliver_tls_start - handshake on c (after 220 to STARTTLS), authenticating the peer when verify; 0 or -1 with c->err */
int deliver_tls_start(struct dconn *c, int64_t timeout_ms, int verify);

/* ---- SMTP sessions (deliver_session.c) -------------------------------- */

struct dmsg {
    const char *rid;
    const char *mail_from; /* may be "" (null sender) */
    const char *rcpt;
    const char *archive; /* extra envelope recipient, or NULL */
    const char *raw;
    size_t raw_len;
    int smtputf8, eightbit, tls_enforced;
};

struct outcome {
    enum dlv_status status;
    int code; /* SMTP reply code, 0 when there was no reply */
    char dsn[DSN_MAX];
    char host[DCONN_HOST_MAX + INET6_ADDRSTRLEN + 4];   /* "name[ip]" of a reply, or "" */
    char relay[DCONN_HOST_MAX + INET6_ADDRSTRLEN + 12]; /* "name[ip]:port" for the log */
    char ip[INET6_ADDRSTRLEN];
    int port;
    char text[REPLY_TEXT_MAX]; /* the reply (with code) or the reason */
    char tls[64];
    int host_failure; /* connection-level: try the next host */
    int dns;          /* a DNS failure */
    int throttled;    /* not tried: the destination is at its concurrency limit */
};

void deliver_session_outcome_reason(struct outcome *o, enum dlv_status st, const char *dsn,
                                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * deliver_session_open - connect, greeting, EHLO/HELO, STARTTLS as the policy
 * says. NULL with o filled (host_failure set) when this host cannot be
 * used for the message.
 */
struct dconn *deliver_session_open(const union dsock *addr, int port, const char *host,
                                   const struct dmsg *m, struct outcome *o);
/*
 * deliver_session_send - one transaction on c. Returns 0 with o filled (sent,
 * deferred, bounced), or 1 when a reused connection turned out stale
 * before anything was sent (the caller opens a new one). c->broken tells
 * whether c may be reused.
 */
int deliver_session_send(struct dconn *c, const struct dmsg *m, struct outcome *o);
/* deliver_session_fits - c can carry m (TLS when enforced, authenticated when deliver_tls_verify) */
int deliver_session_fits(const struct dconn *c, const struct dmsg *m);

/* ---- connection cache (deliver_pool.c) -------------------------------- */

void deliver_pool_init(void);
/*
 * deliver_pool_get - an idle connection for nexthop or, when that is NULL, for
 * endpoint key under the name host, fitting m (an authenticated session
 * is only reused for the name it was verified for)
 */
struct dconn *deliver_pool_get(const char *nexthop, const char *key, const char *host,
                               const struct dmsg *m);
/* deliver_pool_put - keep c for reuse, or close it. Ownership: steals c. */
void deliver_pool_put(struct dconn *c);
void deliver_pool_shutdown(void);

/* ---- per-destination concurrency (deliver_dest.c) -------------------- */

#define DEST_KEY_MAX (DCONN_HOST_MAX + 48)

/*
 * deliver_dest_take - one more session with destination key (a next hop, or an
 * endpoint key) when fewer than deliver_destination_concurrency_limit are
 * in use: 1 taken (give it back with deliver_dest_give), 0 at the limit. Never
 * blocks.
 */
int deliver_dest_take(const char *key);
/* deliver_dest_give - the end of a session deliver_dest_take() allowed */
void deliver_dest_give(const char *key);

/* ---- DNS (deliver_dns.c) ---------------------------------------------- */

enum dns_rc { DNS_OK, DNS_NXDOMAIN, DNS_NODATA, DNS_TEMP, DNS_NULLMX };

#define DNS_NAME_MAX 256

struct mx_host {
    char name[DNS_NAME_MAX];
    int pref;
};

int deliver_dns_init(void);
int deliver_dns_thread(struct dctx *ctx);
void deliver_dns_thread_done(struct dctx *ctx);
/* deliver_dns_mx - MX hosts of domain in preference order (ties shuffled) */
enum dns_rc deliver_dns_mx(struct dctx *ctx, const char *domain, struct mx_host *out, int max,
                           int *n, char *err, size_t errsz);
/*
 * deliver_dns_addr_allowed - an address an MX answer may lead to
 * (deliver_deny_networks, deliver_allow_networks; lib/global/access/netpolicy.h).
 * Relay and transport hosts are the operator's and not subject to it.
 */
int deliver_dns_addr_allowed(const union dsock *a);
/* deliver_dns_addrs - A then AAAA (deliver_inet_protocols) of host */
enum dns_rc deliver_dns_addrs(struct dctx *ctx, const char *host, union dsock *out, int max, int *n,
                              char *err, size_t errsz);

/* ---- routes (deliver_route.c) ----------------------------------------- */

struct route {
    int use_mx;              /* look up the domain's MX */
    char host[DNS_NAME_MAX]; /* the domain (MX) or the fixed host */
    int port;
    char via[16]; /* "mx", "relay", "transport" */
    char nexthop[DCONN_HOST_MAX + 32];
};

int deliver_route_init(void);
/* deliver_route - where mail for rcpt_domain goes; -1 with err when relay is malformed */
int deliver_route(const char *rcpt_domain, const char *relay, struct route *r, char *err,
                  size_t errsz);
/* deliver_route_parse_host - "host", "host:port", "[host]:port", "[v6]:port" into host/port */
int deliver_route_parse_host(const char *spec, char *host, size_t hostsz, int *port);
/* deliver_route_transport_lookup - the transport map's entry for domain into value; 1 found */
int deliver_route_transport_lookup(const char *domain, char *value, size_t valsz);

/* deliver_send_attempt - route, resolve, connect or reuse, send: the outcome */
void deliver_send_attempt(struct dctx *ctx, const struct dmsg *m, const char *relay,
                          struct outcome *o);

/* ---- exactly-once (deliver_record.c) ---------------------------------- */

struct sent_record {
    char code[4];
    char reply[REPLY_TEXT_MAX];
    char host[DCONN_HOST_MAX + INET6_ADDRSTRLEN + 4];
};

/* deliver_record_lookup - 1 when rid was sent (rec filled), 0 when not, -1 database failure */
int deliver_record_lookup(struct db *db, const char *rid, struct sent_record *rec);
/*
 * deliver_record_sent - store that key (the job's rid, a forward's data.id) got
 * a 2xx (o), with the thread's handle (worker_job_db); retries up to
 * deliver_record_retry; 0 or -1
 */
int deliver_record_sent(struct job *job, const char *key, const struct outcome *o);

/* ---- one message (deliver_job.c) -------------------------------------- */

/* the message as deliver_job_handle() reads it from the envelope */
struct dreq {
    struct dmsg m;
    char lower[320]; /* suppression key */
    const char *email, *from, *mime_from, *rewrite_from, *reference, *message_id;
    const char *relay, *archive;
    long long domain_id;
};

/* deliver_job_db_retry - an internal failure: RETRY_DB soon, without counting an attempt */
enum tx_code deliver_job_db_retry(struct job *job, const char *what);
/* deliver_job_handle - the worker's handle(): checks, attempt, outcome */
enum tx_code deliver_job_handle(struct job *job);
/* deliver_job_expired - the worker's expired(): BOUNCED/SOFT_BOUNCE, suppressed for a day */
void deliver_job_expired(struct job *job);

/* ---- Secure Document Handling (deliver_pwmail.c) ---------------------- */

/*
 * deliver_pwmail_queue - at DELIVERED of a message with data.secureDocument:
 * write the password mail's job row and queue its job to render (same
 * output batch); again: the rid was found delivered already (the recorded
 * password wins over this copy's). 0 queued or nothing to do (logged when
 * the data is unusable), -1 database trouble (retry).
 */
int deliver_pwmail_queue(struct job *job, int again);

/* ---- forwards (deliver_forward.c) ------------------------------------ */

/*
 * deliver_forward_handle - handle() of a `type:"forward"` envelope: exactly
 * once by data.id, no suppression, no events; one log line per outcome
 */
enum tx_code deliver_forward_handle(struct job *job);
/* deliver_forward_expired - retries used up: "forward failed" logged and counted */
void deliver_forward_expired(struct job *job);

/* ---- outcomes (deliver_outcome.c) ------------------------------------- */

/*
 * Each queues the message's DELIVER event (worker_job_event), logs its one line
 * and returns the code for the skeleton:
 *   deliver_outcome_sent       DELIVERED/OK (reply_text said by host, code),
 *                              then the next stage; again: a recorded delivery
 *   deliver_outcome_again      DELIVERED again from the delivery_record row
 *   deliver_outcome_dropped    DROPPED/PREVIOUSLY_BOUNCED or SUPPRESSED
 *   deliver_outcome_bounced    BOUNCED/HARD_BOUNCE (with x.suppress)
 *   deliver_outcome_deferred   DEFERRED/SOFT_BOUNCE, data.lastAttempt kept
 *   deliver_outcome_throttled  no event: back after deliver_destination_retry
 *   deliver_outcome_expired    BOUNCED/SOFT_BOUNCE described by desc, 1 day
 *                              TEMPORARY_SUPPRESSED (no code: expired())
 */
enum tx_code deliver_outcome_sent(struct job *job, const struct dreq *q, const struct outcome *o,
                                  const char *reply_text, const char *host, const char *code,
                                  int again);
enum tx_code deliver_outcome_again(struct job *job, const struct dreq *q,
                                   const struct sent_record *rec);
enum tx_code deliver_outcome_dropped(struct job *job, const struct dreq *q,
                                     const struct suppress_hit *hit);
enum tx_code deliver_outcome_bounced(struct job *job, const struct dreq *q,
                                     const struct outcome *o);
enum tx_code deliver_outcome_deferred(struct job *job, const struct dreq *q,
                                      const struct outcome *o);
enum tx_code deliver_outcome_throttled(struct job *job, const struct dreq *q,
                                       const struct outcome *o);
void deliver_outcome_expired(struct job *job, const struct dreq *q, const struct outcome *o,
                             const char *desc, const char *smtp_code);

#endif
