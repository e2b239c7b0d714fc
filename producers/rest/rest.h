/*
 * rest - what the files of txmail-rest share (see rest.c for the manual).
 */
#ifndef REST_H
#define REST_H

#include "global/access/auth.h"
#include "global/db.h"
#include "global/ids.h"
#include "global/runtime/mq.h"
#include "producers/rest/rest_jobreq.h"
#include "util/buf.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct rest_conf {
    char *listen, *plain_listen;
    char *tls_cert_file, *tls_key, *tls_priorities;
    long long threads, max_connections;
    int64_t read_timeout_ms, confirm_timeout_ms, idem_wait_ms, idem_window_ms, idem_stale_ms;
    int64_t auth_cache_ttl_ms;
    size_t body_max;
    long long account_concurrency; /* concurrent requests of an account without concurrencyLimit */
    char *base_path, *jobs_path, *trusted_proxies, *admin_clients, *stages;
    char *broker_url;          /* with password (not a parameter) */
    long long max_per_client;  /* rest_max_connections_per_client */
    int64_t header_timeout_ms; /* rest_header_timeout */
};

extern struct rest_conf rest_conf;

/* rest_conn.c - each MHD thread's own database and publishing connections */
struct rest_conn {
    struct db *db;
    struct mqpub *pub;    /* mqpub.h: the bounded policy */
    pthread_mutex_t lock; /* held by the owner while it uses them */
    int64_t used;         /* monotonic ms of the last use */
};

/*
 * rest_conn_take - this thread's handles (created on first use), locked;
 * rest_conn_give - unlock them. The main thread borrows idle ones in
 * between (rest_conn_keepalive). Ownership: borrowed.
 */
struct rest_conn *rest_conn_take(void);
void rest_conn_give(struct rest_conn *c);
/* rest_conn_keepalive - serve the broker heartbeats of handles idle for idle_ms */
void rest_conn_keepalive(int64_t idle_ms);
/* rest_conn_db - open the database connection if needed: TX_OK or TX_RETRY_DB */
enum tx_code rest_conn_db(struct rest_conn *c);
/* rest_conn_mq - a usable confirm-mode publisher (reconnects once): TX_OK or TX_RETRY_BROKER */
enum tx_code rest_conn_mq(struct rest_conn *c);
/* rest_conn_close_all - close every thread's handles (after the daemons stopped) */
void rest_conn_close_all(void);

/* one HTTP request, from its request line to its completion (rest_http.c) */
enum rest_kind { ROUTE_NONE, ROUTE_JOBS, ROUTE_HEALTH, ROUTE_METRICS, ROUTE_OTHER };
struct rest_route;

struct rest_req {
    struct MHD_Connection *conn;
    int tls;         /* arrived on the HTTPS listener */
    int64_t started; /* monotonic ms: request line received */
    int state;
    enum rest_kind route;
    char peer_ip[64];              /* TCP peer */
    char client_ip[64];            /* peer, or X-Real-IP from a trusted proxy */
    char job_id[UUID_STR_LEN + 1]; /* fresh per request: the job or the rejection's id */
    struct auth_account acct;
    int authed;
    int limited; /* holds a concurrency slot of acct */
    struct buf body;
    char idem_key[256];
    int has_idem;
    int retry_after;             /* seconds for Retry-After (429, 503, 409) */
    const struct rest_route *rt; /* the endpoint (rest_route.h), NULL for job creation */
    char param[512];             /* its decoded path segment */
    const char *qerr_subtype;    /* an invalid query parameter (rest_query.c) */
    char qerr_name[48];
};

/* rest_http.c - the MHD callbacks */
void *rest_http_begin(void *cls, const char *uri, struct MHD_Connection *c);
enum MHD_Result rest_http_handle(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls);
void rest_http_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe);
int rest_http_active(void);
/* rest_http_idem_key_ok - an Idempotency-Key value of 1-255 printable ASCII characters (contract §7) */
int rest_http_idem_key_ok(const char *k);

/* rest_answer.c - answers */
struct rest_header {
    const char *name, *value;
};
/* rest_answer_reply - queue status with body (copied) and headers (NULL-terminated list) */
enum MHD_Result rest_answer_reply(struct rest_req *r, int status, const char *body, size_t len,
                                  const struct rest_header *headers);
/* rest_answer_reject - the §6.1 rejection of a job request (fresh jobId), logged and counted */
enum MHD_Result rest_answer_reject(struct rest_req *r, int status, const char *subtype,
                                   const char *description);
/* rest_answer_error - the §3.4 error of any other endpoint */
enum MHD_Result rest_answer_error(struct rest_req *r, int status, const char *subtype,
                                  const char *description, const struct rest_header *headers);
/* rest_answer_accepted - the §5.1 body. Ownership: new string. */
char *rest_answer_accepted(const char *job_id, int64_t received_ms, int part, json_t *content);
/* rest_answer_raw - write a complete answer past MHD, then the caller drops the connection */
void rest_answer_raw(struct rest_req *r, int status, const char *subtype, const char *description);
/* rest_answer_location - "Location" value of a job. Ownership: new string. */
char *rest_answer_location(const char *job_id);

/* rest_auth.c */
/* rest_auth_client - fill peer_ip and client_ip of r */
void rest_auth_client(struct rest_req *r);
/*
 * rest_auth_check - HTTP Basic against the credentials: TX_OK,
 * TX_REJECT_POLICY, TX_RETRY_DB, or TX_RETRY_THROTTLED /
 * TX_RETRY_UNAVAILABLE with r->retry_after (auth_basic)
 */
enum tx_code rest_auth_check(struct rest_req *r, struct rest_conn *c);

/* rest_limit.c - per-account request rate and concurrency (account settings) */
enum rest_limit { REST_LIMIT_OK, REST_LIMIT_RATE, REST_LIMIT_CONCURRENCY };
/* rest_limit_enter - *held: a slot to give back with rest_limit_leave */
enum rest_limit rest_limit_enter(const struct auth_account *a, int *retry_after, int *held);
void rest_limit_leave(long long account_id);

/* rest_idem.c - Idempotency-Key (contract §7) */
enum rest_idem { REST_IDEM_OWNED, REST_IDEM_REPLAY, REST_IDEM_CONFLICT, REST_IDEM_ERROR };
struct rest_idem_replay {
    int status;
    char *answer; /* new */
    char job_id[UUID_STR_LEN + 1];
};
enum rest_idem rest_idem_claim(struct db *db, long long account_id, const char *key,
                               const char *owner, struct rest_idem_replay *out);
void rest_idem_release(struct db *db, long long account_id, const char *key, const char *owner);
/* rest_idem_done - mark the claim done for job_id (inside the record transaction) */
enum tx_code rest_idem_done(struct db *db, long long account_id, const char *key, const char *owner,
                            const char *job_id);
/* rest_idem_expire - forget keys past their window (housekeeping) */
long long rest_idem_expire(struct db *db);

/* rest_suppress.c - the database side of struct jobreq_env (arg: struct rest_lookup) */
struct rest_lookup {
    struct rest_conn *c;
    long long account_id;
};
enum tx_code rest_suppress_sender_domain(void *arg, const char *domain, struct jobreq_sender *out);
enum tx_code rest_suppress_lookup(void *arg, struct suppress_query *q, size_t n);

/* rest_publish.c - make the job durable: publish (confirmed), then record, then answer */
enum tx_code rest_publish(struct rest_conn *c, struct rest_req *r, struct jobreq_result *res,
                          const char *answer, int64_t received_ms);
/* rest_publish_envelope - step 1 for any job: a `type: "job"` envelope of data
 * (borrowed) and raw (stolen, may be NULL) to the first stage of slip, confirmed */
enum tx_code rest_publish_envelope(struct rest_conn *c, struct rest_req *r, const char *slip,
                                   json_t *data, char *raw, size_t rawlen, int64_t received_ms);
/* rest_publish_record - step 2: job's acceptance record with the Idempotency-Key
 * claim done (group commit); on failure the record is made absent, TX_RETRY_* */
struct acceptance;
enum tx_code rest_publish_record(struct rest_conn *c, struct rest_req *r,
                                 const struct acceptance *job);

/* rest_group.c - group commit: fn(db, arg) runs in a transaction shared with
 * the records of concurrent requests (on whichever thread's db leads) */
enum tx_code rest_group_commit(struct db *db, enum tx_code (*fn)(struct db *, void *), void *arg);

/* rest_mem.c - malloc settings at start; give memory back after a large request */
void rest_mem_init(void);
void rest_mem_release(size_t body_len);
void rest_mem_tick(void);

/* rest_intake.c - POST <jobs path> once the body is read */
enum MHD_Result rest_intake(struct rest_req *r);
/* rest_health.c */
enum MHD_Result rest_health(struct rest_req *r);
enum MHD_Result rest_health_metrics(struct rest_req *r);

#endif
