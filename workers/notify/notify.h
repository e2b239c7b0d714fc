/* notify - internal interfaces of txmail-notify (see notify.c). */
#ifndef TX_NOTIFY_H
#define TX_NOTIFY_H

#include "global/db.h"
#include "global/manage/webhook.h"
#include "global/runtime/mq.h"
#include "util/buf.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#ifndef TXMAIL_VERSION
#define TXMAIL_VERSION "1.0"
#endif
#define NOTIFY_USER_AGENT "txmail/" TXMAIL_VERSION

/* ---- parameters (notify.c) ---------------------------------------------- */
struct notify_conf {
    char *retry_queue;
    long long batch_max;
    int64_t batch_wait;
    int64_t timeout;
    char *schedule;
    int64_t max_age;
    long long endpoint_concurrency;
    long long concurrency;
    int64_t queue_wait;
    long long prefetch;
    int64_t cache_ttl;
    int64_t orphan_wait;
    char *ca_file;
    char *deny, *allow;
    char *proxy;
};
extern struct notify_conf notify_conf;
/* notify_deny_networks / notify_allow_networks: where a POST may connect (netpolicy.h) */
extern struct netpolicy *nf_policy;

/* ---- job and account context, cached (notify_ctx.c) --------------------- */
struct nf_account {
    long long id;
    char *name, *customer_no, *tenant;
    json_t *event_types;         /* settings.notifyEventTypes (array) or NULL: all */
    struct webhook_endpoint def; /* the account's default endpoint */
    char *secret, *secret_prev;  /* webhook secrets as stored (encrypted) */
    int64_t rotated_ms;
};

struct nf_job {
    char id[40];
    long long account_id;
    int64_t received_ms;
    char *reference_job, *cost_center, *campaign_id;
    struct webhook_endpoint ep; /* the job's own endpoint (url NULL: none) */
};

/* notify_ctx_init - the job and account caches (before the loop) */
void notify_ctx_init(void);
/*
 * notify_ctx_job_get / notify_ctx_account_get - cached rows (Ownership: borrowed until
 * the next call). TX_OK, TX_RETRY_NOT_READY (no such row), TX_RETRY_DB;
 * a cached entry past its TTL is served when the database is away.
 */
enum tx_code notify_ctx_job_get(const char *job_id, struct nf_job **out);
enum tx_code notify_ctx_account_get(long long id, struct nf_account **out);
/* notify_ctx_type_wanted - the account posts this event type (notifyEventTypes) */
int notify_ctx_type_wanted(const struct nf_account *a, const char *type, const char *subtype);

/* ---- one POST with the deliveries it settles ----------------------------- */
struct nf_dlv {
    unsigned epoch;
    uint64_t tag;
};

struct nf_ep;

struct nf_post {
    long long account_id;
    char job_id[40];
    struct webhook_endpoint ep;
    char *body; /* exact bytes, kept for every retry */
    size_t len;
    json_t *rids, *tags; /* arrays, one per notification (logs, dead letters) */
    struct nf_dlv *dlvs;
    int ndlv, capdlv;
    int64_t first_ms; /* wall clock of the first attempt; 0: never tried */
    int attempts;     /* attempts made before this one */
    char last_result[300];
    int64_t queued_mono;
    int stale; /* the consumer was re-opened: results are moot */
    /* transfer state (notify_http.c, notify_attempt.c) */
    void *easy;
    void *hdrs;
    void *resolve;    /* CURLOPT_RESOLVE list, or NULL */
    void *connect_to; /* CURLOPT_CONNECT_TO list (through notify_proxy), or NULL */
    char errbuf[256];
    size_t rcvd;
    int denied; /* the address is refused by nf_policy */
    int64_t started_mono;
    struct nf_ep *origin; /* valid while queued or running */
    char origin_name[400];
    struct nf_post *next;
};

void notify_http_post_free(struct nf_post *p);
void notify_http_post_add_dlv(struct nf_post *p, unsigned epoch, uint64_t tag);

/* ---- signature and headers (notify_sign.c) ------------------------------- */
/* notify_sign_signature - "t=<t>,v1=<hex>[,v1=<hex>]" into out */
int notify_sign_signature(struct buf *out, int64_t t, const struct buf *s1, const struct buf *s2,
                          const char *body, size_t len);
/* notify_sign_header_name_ok - an HTTP token of 1..256 characters */
int notify_sign_header_name_ok(const char *name);
/* notify_sign_header_value_ok - no control characters but TAB, at most 8000 bytes */
int notify_sign_header_value_ok(const char *value);
/* notify_sign_header_reserved - txmail sets it itself (contract §11.1 precedence) */
int notify_sign_header_reserved(const char *name, int have_auth);
/* notify_sign_basic - "Basic base64(user:password)" into out */
int notify_sign_basic(struct buf *out, const char *user, const char *password);
/* notify_sign_meta - the top-level meta of a POST (contract §11.4). Ownership: new. */
json_t *notify_sign_meta(const struct nf_job *job, const struct nf_account *acct);

/*
 * notify_sign_secrets - the account's webhook secrets, decrypted, new first: the
 * number of secrets (0: the account has none; 2: a rotation within its
 * 24 hours), or -1 when the current secret is stored but cannot be
 * decrypted (wrong or missing master key, damaged value): the POST must
 * not go out unsigned. A previous secret that cannot be decrypted is
 * left out with a warning.
 */
int notify_sign_secrets(const struct nf_account *a, struct buf *s1, struct buf *s2);

/* ---- endpoint names through dns_servers (notify_dns.c) ------------------- */
enum nf_dns { NF_DNS_OFF, NF_DNS_READY, NF_DNS_PENDING, NF_DNS_FAILED };

struct nf_waitfd {
    int fd;
    int read, write;
};

/* notify_dns_init - c-ares on dns_servers; off (curl resolves) when it is empty */
int notify_dns_init(void);
void notify_dns_done(void);
/*
 * notify_dns_get - the addresses of host for CURLOPT_RESOLVE ("a,[b]"), or
 * PENDING (a lookup runs), FAILED (*err says why), OFF (curl resolves:
 * no dns_servers, or host is an address). Ownership: borrowed until the
 * next call.
 */
enum nf_dns notify_dns_get(const char *host, const char **addrs, const char **err);
int notify_dns_pending(void);
/* notify_dns_fds - the sockets c-ares waits on (for curl_multi_poll) */
int notify_dns_fds(struct nf_waitfd *out, int max);
/* notify_dns_run - process what the DNS sockets have, and timeouts; never blocks */
void notify_dns_run(void);

/* ---- one attempt (notify_attempt.c) ------------------------------------- */
/*
 * notify_attempt_route - where the attempt connects (notify_proxy's pinned
 * address, or dns_servers' answer): 0 set, 1 a lookup is running (later),
 * -1 failed or denied (last_result says why)
 */
int notify_attempt_route(struct nf_post *p);
/*
 * notify_attempt_sign - the headers with a fresh signature in p->hdrs: 0,
 * or -1 when the post cannot be signed (last_result says why, logged)
 */
int notify_attempt_sign(struct nf_post *p, const struct nf_account *a, enum tx_code rc);
/* notify_attempt_easy - the attempt's curl easy handle, set up. Ownership: new. */
void *notify_attempt_easy(struct nf_post *p);
/* notify_attempt_release - free the header, resolve and connect-to lists of an attempt */
void notify_attempt_release(struct nf_post *p);
/* notify_attempt_result - 1 when the finished attempt (CURLcode res) succeeded, else 0 and last_result */
int notify_attempt_result(struct nf_post *p, int res, long status);

/* ---- HTTP (notify_http.c) ----------------------------------------------- */
void notify_http_init(void);

/* notify_http_submit - queue a post at its endpoint. Ownership: steals p. */
void notify_http_submit(struct nf_post *p);
/*
 * notify_http_run - start what the limits allow, park what waited too long,
 * run transfers (blocking up to budget_ms when some are active), settle
 * finished posts. Returns the number of active transfers.
 */
int notify_http_run(int64_t budget_ms, int mode);
#define NF_RUN_NORMAL 0
#define NF_RUN_PRESSURE 1
#define NF_RUN_STOPPING 2
/* notify_http_busy - deliveries held by queued and active posts */
int notify_http_busy(void);
/* notify_http_lost - mark every post of an old epoch stale and drop the queued ones */
void notify_http_lost(void);
void notify_http_done(void);

/* ---- retries and dead letters (notify_retry.c) --------------------------- */
/*
 * notify_retry_envelope - the "webhook" envelope of p due after delay_ms.
 * Ownership: new (*out). 0, or -1 when it cannot be encoded.
 */
int notify_retry_envelope(const struct nf_post *p, int64_t delay_ms, char **out, size_t *len,
                          const char **tier);
/*
 * notify_retry_decode - a post from a "webhook" envelope of the retry queue;
 * *due_ms is when it may be tried. NULL with err on a malformed envelope.
 * Ownership: new.
 */
struct nf_post *notify_retry_decode(const void *body, size_t len, int64_t *due_ms, char *err,
                                    size_t errsz);
/*
 * notify_retry_event_envelope - a "webhook-event" envelope: ev (an event waiting
 * for its message row since first_ms, waits parkings so far) due after
 * delay_ms. Ownership: new (*out). 0, or -1 when it cannot be encoded.
 */
int notify_retry_event_envelope(json_t *ev, int64_t first_ms, int waits, int64_t delay_ms,
                                char **out, size_t *len, const char **tier);
/*
 * notify_retry_event_decode - the event of a "webhook-event" envelope (Ownership:
 * new *ev). 0; 1 when the envelope is of another type; -1 with err when
 * malformed.
 */
int notify_retry_event_decode(const void *body, size_t len, json_t **ev, int64_t *first_ms,
                              int *waits, int64_t *due_ms, char *err, size_t errsz);
/* notify_retry_delay - the delay after the attempts-th failed attempt (notify_retry_schedule) */
int64_t notify_retry_delay(int attempts);
int notify_retry_schedule_parse(const char *spec);
/* notify_retry_dead_write - one webhook_delivery row per notification of p (state dead) */
enum tx_code notify_retry_dead_write(struct db *db, const struct nf_post *p);

#endif
