/*
 * smtpd - internal interfaces of txmail-smtpd (see smtpd.c for the
 * manual and the threading model).
 */
#ifndef TX_SMTPD_H
#define TX_SMTPD_H

#include "smtpd_data.h"
#include "global/access/auth.h"
#include "global/inbound/inboundaddr.h"
#include "global/intake/senderdomain.h"
#include "global/txcode.h"
#include "util/buf.h"
#include "util/fifo.h"

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#define SMTPD_LINE_MAX 512        /* RFC 5321 command line, CRLF included */
#define SMTPD_AUTH_LINE_MAX 12288 /* RFC 4954 AUTH exchange line */
#define SMTPD_SIZE_MAX 20971520   /* contract §17.4 */
#define SMTPD_RCPT_MAX 1000       /* contract §17.4 */
#define SMTPD_ADDR_MAX 254
#define SMTPD_MAX_LISTEN 16
#define SMTPD_REPLY_MAX 600

/* ---- parameters (smtpd.c) ---------------------------------------------- */

enum smtpd_policy {
    SMTPD_SUBMISSION, /* applications submit mail (AUTH, jobs) */
    SMTPD_INBOUND,    /* the MX of the bounce domains (smtpd_inbound.c) */
};

struct smtpd_conf {
    char *policy_name;
    enum smtpd_policy policy;
    char *inbound_roles, *inbound_queue;
    int64_t inbound_cache_ttl;
    char *listen, *tls_listen;
    char *cert_file, *key_pem; /* key_pem: the key file's text (secret) */
    char *tls_exempt;
    char *stages;
    int require_tls, plaintext_auth_loopback, chunking;
    long long loops, threads, auth_threads;
    long long max_connections, max_per_ip;
    long long rcpt_limit, hard_error_limit;
    long long auth_session_failures;
    long long batch_max, min_data_rate;
    size_t size_limit;
    int64_t timeout, auth_failure_delay;
    int64_t auth_recheck; /* MAIL re-checks a credential last found valid longer ago */
    int64_t confirm_timeout, shutdown_grace;
};
extern struct smtpd_conf smtpd_conf;
/* smtpd_shutting_down - SIGTERM received */
int smtpd_shutting_down(void);

/* ---- listeners and event loops (smtpd_server.c) --------------------------- */

struct smtpd_listener {
    struct sockaddr_storage ss;
    socklen_t sslen;
    int implicit_tls; /* submissions (465) */
    int loopback;     /* bound to a loopback address */
    char text[128];
};

struct smtpd_task;
struct smtpd_loop;

struct smtpd_levarg {
    struct smtpd_loop *loop;
    const struct smtpd_listener *lis;
};

struct smtpd_loop {
    int index;
    struct event_base *base;
    pthread_t tid;
    int wake_fd; /* eventfd: completed tasks */
    struct event *wake;
    pthread_mutex_t lock;
    struct fifo done; /* completed tasks (smtpd_task by next) */
    struct evconnlistener *lev[SMTPD_MAX_LISTEN];
    struct smtpd_levarg levarg[SMTPD_MAX_LISTEN];
    int nlev;
    struct session *sessions; /* every session of this loop */
    int nsessions;
};

extern struct smtpd_listener smtpd_listeners[SMTPD_MAX_LISTEN];
extern int smtpd_nlisteners;

/* smtpd_server_listeners - parse smtpd_listen and smtpd_tls_listen (fatal when bad) */
void smtpd_server_listeners(void);
/* smtpd_server_run - start the loops and serve until shutdown; returns when done */
void smtpd_server_run(void);
/* smtpd_server_ip_release - forget one connection of ip (per-IP limit) */
void smtpd_server_ip_release(const char *ip);
/* smtpd_server_loop_complete - hand a finished task back to its loop (any thread) */
void smtpd_server_loop_complete(struct smtpd_loop *loop, struct smtpd_task *t);

/* ---- TLS (smtpd_tls.c) ------------------------------------------------- */

/* smtpd_tls_init - the server context from cert/key (fatal when bad); 0 when no cert */
int smtpd_tls_init(void);
int smtpd_tls_available(void);
/* smtpd_tls_new - a new SSL for one connection. Ownership: new. */
SSL *smtpd_tls_new(void);
/* smtpd_tls_describe - "TLSv1.3 with cipher X" of an established connection */
void smtpd_tls_describe(SSL *ssl, char *proto, size_t psz, char *cipher, size_t csz);

/* ---- a client session (smtpd_session.c) ---------------------------------- */

enum smtpd_state {
    SS_HANDSHAKE, /* implicit TLS or STARTTLS handshake in progress */
    SS_CMD,       /* waiting for a command */
    SS_AUTH,      /* inside an AUTH exchange */
    SS_DATA,      /* DATA text */
    SS_BDAT,      /* BDAT chunk octets */
    SS_SKIPLINE,  /* discarding an overlong line up to its end */
    SS_CLOSING,   /* the last reply is being written */
};

struct smtpd_rcpt {
    char *email; /* as given in RCPT TO */
    char *bare;  /* local@domain (A-label) */
    int utf8;
    int forbidden;         /* local part forbidden by the account */
    struct inboundaddr in; /* inbound: what the address stands for */
};

struct smtpd_sup;

struct smtpd_txn {
    char *mail_from;       /* as given in MAIL FROM, without <> */
    char from_domain[256]; /* A-label */
    char from_local[140];
    struct sender_domain sd;
    int smtputf8, body8bit;
    long long size_decl;
    struct smtpd_rcpt *rcpt;
    int nrcpt, caprcpt;
    int bdat;        /* BDAT used in this transaction */
    int bdat_failed; /* BDAT: refused; later chunks are read and refused */
    int data_started;
    struct smtpd_data data;
    struct buf msg;
    int64_t received_ms;   /* the final dot / BDAT LAST */
    struct smtpd_sup *sup; /* suppression lookup started at DATA (smtpd_queue.c) */
};

enum smtpd_task_kind { T_IPAUTH, T_AUTH, T_MAIL, T_COMMIT, T_RCPT };

/* one piece of blocking work for the pool; at most one per session */
struct smtpd_task {
    enum smtpd_task_kind kind;
    struct session *s;
    struct smtpd_task *next;
    int slow; /* AUTH (KDF): limited to smtpd_auth_threads */
    /* inputs */
    char *user, *password;                 /* AUTH; wiped */
    char *rcpt, *rcpt_local, *rcpt_domain; /* T_RCPT (inbound): as given, its parts */
    /* results */
    enum tx_code rc;
    struct auth_account acct; /* T_IPAUTH, T_AUTH */
    struct sender_domain sd;  /* T_MAIL */
    int auth_gone;            /* T_MAIL: the session's credential is no longer valid */
    int64_t checked_ms;       /* T_MAIL: when it was found still valid (0: not checked) */
    struct inboundaddr in;    /* T_RCPT */
    char reply[SMTPD_REPLY_MAX];
    char job_id[40]; /* T_COMMIT */
    void *job;       /* T_COMMIT: struct smtpd_job (smtpd_queue.c) */
};

struct session {
    struct smtpd_loop *loop;
    struct session *prev, *next;
    const struct smtpd_listener *lis;
    struct bufferevent *bev;
    evutil_socket_t fd;
    int bev_owns_fd;
    char id[16];
    char ip[64];
    int port;
    int loopback;
    int ip_counted;
    enum smtpd_state state;
    int tls;
    char tls_proto[32], tls_cipher[80];
    int esmtp, helo_seen;
    char helo[256];
    int authenticated, sasl;
    struct auth_account acct;
    char sasl_user[101];
    char sasl_method[8];
    int ipauth_tried;
    int auth_mech;    /* 1 PLAIN, 2 LOGIN */
    char *login_user; /* AUTH LOGIN: the user given in step 1 */
    int auth_failures;
    int errors;
    struct smtpd_txn *txn;
    long long bdat_left;
    int bdat_last;
    enum smtpd_state skip_state; /* SS_SKIPLINE: the state to return to */
    int skip_auth;               /* SS_SKIPLINE: answer 500 5.5.6 at its end */
    int bdat_discard;            /* SS_BDAT: the chunk is read and refused */
    char bdat_reply[SMTPD_REPLY_MAX];
    int starttls_pending; /* 220 written; TLS starts once it is out */
    int64_t data_bytes;   /* octets of DATA/BDAT read in this transaction */
    char *rerun;          /* a command to run again after T_IPAUTH */
    struct smtpd_task task;
    int busy; /* a task or a tarpit delay is pending */
    int dead; /* the connection is gone: free when not busy */
    struct event *timer;
    struct event *tarpit;
    char tarpit_reply[SMTPD_REPLY_MAX];
    int tarpit_close;
    int64_t t0; /* start of the current wait */
    int64_t data_t0;
    int64_t connected_ms;
    int nqueued;
};

/* smtpd_session_accept - a new connection on loop (takes fd); over_limit: refused with 421 */
void smtpd_session_accept(struct smtpd_loop *loop, const struct smtpd_listener *lis,
                          evutil_socket_t fd, struct sockaddr *sa, int over_limit);
/* smtpd_session_task_done - the loop gets a finished task back */
void smtpd_session_task_done(struct smtpd_task *t);
/* smtpd_session_shutdown - SIGTERM: idle sessions get 421 and close */
void smtpd_session_shutdown(struct smtpd_loop *loop);
/* smtpd_session_reply - write one reply line (CRLF added) */
void smtpd_session_reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* smtpd_cmd_txn_free - release a transaction (NULL ok) */
void smtpd_cmd_txn_free(struct smtpd_txn *t);
/* smtpd_session_process - handle buffered input until it needs more or waits */
void smtpd_session_process(struct session *s);
/* smtpd_session_arm - (re)start the timeout of the current wait */
void smtpd_session_arm(struct session *s);
/* smtpd_session_close_after_write - close once the replies written so far are out */
void smtpd_session_close_after_write(struct session *s);
/* smtpd_session_starttls - answer STARTTLS and switch the socket to TLS */
void smtpd_session_starttls(struct session *s);
/* smtpd_session_tarpit - send reply after delay_ms, then continue (or close) */
void smtpd_session_tarpit(struct session *s, int64_t delay_ms, const char *reply, int close_after);

/* ---- commands (smtpd_cmd.c) ----------------------------------------------- */

/* smtpd_cmd_line - one command line (NUL-terminated, without CRLF) */
void smtpd_cmd_line(struct session *s, char *line, size_t len);
/* smtpd_cmd_done - the result of s->task */
void smtpd_cmd_done(struct session *s, struct smtpd_task *t);
/* smtpd_cmd_data_end - the final dot was read */
void smtpd_cmd_data_end(struct session *s);
/* smtpd_cmd_bdat_end - the octets of one BDAT chunk were read */
void smtpd_cmd_bdat_end(struct session *s);
/* smtpd_cmd_bdat_too_big - the message outgrew the limit inside a chunk */
void smtpd_cmd_bdat_too_big(struct session *s);
/* smtpd_cmd_rcpt_add - a new recipient of x (email and bare copied), the rest zero */
struct smtpd_rcpt *smtpd_cmd_rcpt_add(struct smtpd_txn *x, const char *email, const char *bare);
/* smtpd_cmd_submit - run s->task (kind set) on the pool; the session waits */
void smtpd_cmd_submit(struct session *s, enum smtpd_task_kind kind);
/* smtpd_cmd_task_release - free what a task holds (secrets wiped) */
void smtpd_cmd_task_release(struct smtpd_task *t);

/* ---- AUTH (smtpd_auth.c) ------------------------------------------------ */

/* smtpd_auth_command - "AUTH mech [initial]" */
void smtpd_auth_command(struct session *s, char *args);
/* smtpd_auth_line - one line of an AUTH exchange */
void smtpd_auth_line(struct session *s, char *line, size_t len);
/* smtpd_auth_done - the pool verified the credentials */
void smtpd_auth_done(struct session *s, struct smtpd_task *t);
/* smtpd_auth_abort - leave an AUTH exchange */
void smtpd_auth_abort(struct session *s);
/* smtpd_auth_offered - AUTH may be used on this session now */
int smtpd_auth_offered(const struct session *s);
/* smtpd_auth_ip_cached - source-IP auth from the cache: 1 found (acct filled), 0 none, -1 unknown */
int smtpd_auth_ip_cached(const char *ip, struct auth_account *acct);
void smtpd_auth_ip_store(const char *ip, const struct auth_account *acct, int found);
/* smtpd_auth_ip_forget - drop what the cache holds for ip */
void smtpd_auth_ip_forget(const char *ip);
/* smtpd_auth_account_copy - deep copy (settings duplicated) */
void smtpd_auth_account_copy(struct auth_account *dst, const struct auth_account *src);

/* ---- the pool: blocking work (smtpd_queue.c) ----------------------------- */

void smtpd_queue_pool_start(void);
void smtpd_queue_pool_stop(void);
/*
 * smtpd_queue_sup_start - look the recipients up in the suppression list now,
 * while the message is still arriving (DATA/BDAT); the commit uses the
 * result when it is there, else asks itself. The loop's txn and the pool
 * each hold a reference.
 */
void smtpd_queue_sup_start(struct session *s);
void smtpd_queue_sup_release(struct smtpd_sup *p);
/* smtpd_queue_pool_submit - queue s->task (the session is paused until it comes back) */
void smtpd_queue_pool_submit(struct session *s);

/* ---- the inbound policy (smtpd_inbound.c) ------------------------------------ */

struct mqpub;
/* smtpd_inbound_rcpt - RCPT of an inbound session, the address parsed (local, domain) */
void smtpd_inbound_rcpt(struct session *s, const char *addr, const char *local, const char *domain);
/* smtpd_inbound_rcpt_done - the pool classified the address of T_RCPT */
void smtpd_inbound_rcpt_done(struct session *s, struct smtpd_task *t);
/* smtpd_inbound_lookup - T_RCPT on a pool thread (db NULL: the database is away) */
void smtpd_inbound_lookup(struct db *db, struct smtpd_task *t);
/*
 * smtpd_inbound_commit - the end of n inbound messages on a pool thread:
 * one envelope per account, published to smtpd_inbound_queue and
 * confirmed, then each task's reply (250, or 451 when the broker failed).
 */
void smtpd_inbound_commit(struct mqpub *mq, struct smtpd_task **t, int n);

/* ---- the job (smtpd_job.c, runs on pool threads) -------------------------- */

struct smtpd_job;
struct db;
/*
 * smtpd_job_check - validate the message of s->txn (headers, From,
 * attachments, features) and build the job. 0 with *job new, or -1 with
 * the SMTP reply in reply. The session is paused: reading it is safe.
 */
int smtpd_job_check(const struct session *s, const char *job_id, struct smtpd_job **job,
                    char *reply, size_t rsz);
struct suppress_query;
/*
 * smtpd_job_keys - the suppression lookup of x's recipients, one per
 * recipient in order (lib/global/intake/suppress.h). Ownership: new, one block
 * (xfree).
 */
struct suppress_query *smtpd_job_keys(const struct smtpd_txn *x);
/* smtpd_job_recipients - the recipient list with drops from the suppression lookup q (smtpd_job_keys) */
void smtpd_job_recipients(struct smtpd_job *j, const struct session *s,
                          const struct suppress_query *q);
/* smtpd_job_encode - the broker message. Ownership: *body new. -1 when it cannot be encoded */
int smtpd_job_encode(struct smtpd_job *j, char **body, size_t *len);
/* smtpd_job_first_stage - the routing key of the job (slip[0]) */
void smtpd_job_first_stage(const struct smtpd_job *j, char *out, size_t outsz);
/* smtpd_job_record - the acceptance record (job row) */
enum tx_code smtpd_job_record(struct smtpd_job *j, struct db *db, const char *answer);
/* smtpd_job_log - one line per recipient */
void smtpd_job_log(const struct smtpd_job *j, const struct session *s, const char *status);
void smtpd_job_free(struct smtpd_job *j);

#endif
