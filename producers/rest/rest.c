/*
 * NAME
 *   txmail-rest - the REST producer: Retarus-compatible job intake
 * SYNOPSIS
 *   txmail-rest [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   Serves POST <rest_base_path><rest_jobs_path> (default
 *   /email/v2/jobs) as contract §3-§7 say: HTTP Basic authentication
 *   with per-credential source-IP allow-lists, per-account rate and
 *   concurrency limits, the JobRequest check (rest_jobreq.h), recipient
 *   ids, Idempotency-Key, then the job is made durable before the answer:
 *   published to txmail.work with the first stage of its routing slip
 *   as key and confirmed by the broker, then its acceptance record
 *   written (job row, and the idempotency claim marked done; concurrent
 *   requests share one transaction, rest_group.c). A broker or
 *   database failure answers 503 and the first stage discards the job.
 *   GET /health and GET /metrics answer rest_admin_clients.
 *   The read endpoints of contract §3.3 (rest_route.c) answer the
 *   account's own data only; GET <base>/openapi.json serves the OpenAPI
 *   3.1 document of the whole surface (docs/openapi.json) without
 *   credentials.
 *
 *   HTTPS (GnuTLS, TLS 1.2 or newer) on rest_listen; plain HTTP only on
 *   rest_plain_listen, when set. An MHD thread pool of rest_threads per
 *   listener; every thread owns its database and publishing connections.
 * CONSUMES
 *   nothing from the broker.
 * PUBLISHES
 *   txmail.work, key = first stage of the slip: envelope type "job",
 *   entry "rest", data as docs/ENVELOPES.md. Intake records and
 *   PRE_PROCESS drop events are published by the first stage.
 *   txmail.work, key notify: a redelivered dead letter (envelope type
 *   "webhook", rest_deadletters.c).
 *   txmail.work, key = first stage of its slip: a Trace & Recover re-send
 *   (POST <base>/messages/{id}/recover, rest_recover.c): envelope type
 *   "job", entry "smtp", the kept message as raw, data.recoverOf
 *   (docs/ENVELOPES.md "Trace & Recover").
 * WRITES
 *   job (acceptance records), idempotency, suppression (MANUAL entries,
 *   rest_suppressions.c), webhook_delivery (state redelivered). Reads
 *   credential, account, sender_domain, suppression, job, trace_store
 *   (the Trace & Recover preview and re-send).
 * PARAMETERS (defaults in brackets)
 *   rest_listen [0.0.0.0:8443]           HTTPS listener (host:port, [v6]:port)
 *   rest_plain_listen []                 plain HTTP listener; empty: none
 *   rest_tls_cert_file []                PEM certificate chain of the HTTPS listener
 *   rest_tls_key_file []                 PEM private key (a secret file)
 *   rest_tls_priorities [NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2]
 *   rest_threads [16]                    MHD threads per listener (each blocks while
 *                                        its request waits for the broker and the
 *                                        database: throughput ~ threads / latency)
 *   rest_max_connections [2000]          open connections per listener
 *   rest_read_timeout [30s]              headers and body must arrive within this
 *   rest_header_timeout [10s]            the whole request header (TLS handshake
 *                                        included; on a kept-alive connection from the
 *                                        end of the previous answer) must arrive within
 *                                        this, else the connection is closed unanswered
 *                                        (at most rest_read_timeout)
 *   rest_max_connections_per_client [100] open connections per client address
 *                                        (IPv4 address, IPv6 /64) per listener; more are
 *                                        refused at once; rest_trusted_proxies are
 *                                        exempt; 0: no cap
 *   rest_body_max [20m]                  request body limit (at most 20m)
 *   rest_account_concurrency [16]        concurrent requests of an account whose
 *                                        settings have no concurrencyLimit
 *                                        (0: no limit; per process)
 *   rest_base_path [/email/v2]           API base path
 *   rest_jobs_path [/jobs]               job creation path below the base
 *   rest_trusted_proxies []              peers whose X-Real-IP is the client address
 *   rest_admin_clients [127.0.0.1,::1]   who may read /health and /metrics
 *   rest_stages [scan,securezip,render,spamcheck,smime,deliver]
 *                                       the stages this installation runs
 *   rest_confirm_timeout [10s]           broker confirm of a job
 *   rest_idem_wait [10s]                 a duplicate waits this long for the first
 *   rest_idem_window [24h]               Idempotency-Key lifetime
 *   rest_idem_stale [60s]                a pending claim this old is abandoned
 *   rest_auth_cache_ttl [60s]            verified credentials are cached this long
 *   rest_auth_failure_limit [10]         failed logins of a client address (IPv6: its
 *                                        /64) that block its logins (429); 0: none
 *   rest_auth_user_failure_limit [30]    failed logins of one user that block it
 *                                        (except where it logged in a moment ago); 0: none
 *   rest_auth_failure_decay [10m]        half-life of those failure scores
 *   rest_auth_kdf_max [4]                password checks (PBKDF2) running at once; more
 *                                        answer 429 at once. Below rest_threads, so
 *                                        threads stay free for cached logins; and a
 *                                        thread rests after a check as long as it took
 *                                        (its other connections wait one check at most)
 *   and the shared parameters of txconf.h.
 * METRICS
 *   txmail_rest_requests_total{status}, txmail_rest_jobs_total,
 *   txmail_rest_recipients_total, txmail_rest_record_transactions_total,
 *   txmail_rest_active_requests.
 * SIGNALS
 *   SIGTERM, SIGINT: stop accepting, finish the requests in hand (up to
 *   30 s), close.
 */
#include "producers/rest/rest.h"
#include "global/access/authlimit.h"
#include "global/crypto.h"
#include "global/access/httpguard.h"
#include "global/metrics.h"
#include "global/intake/slip.h"
#include "global/txconf.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct rest_conf rest_conf;

static struct cfg_param rest_params[] = {
    {"rest_listen", CFG_STR, &rest_conf.listen, "0.0.0.0:8443", 0, 0, 0, "HTTPS listener", 0, 0},
    {"rest_plain_listen", CFG_STR, &rest_conf.plain_listen, "", 0, 0, 0,
     "plain HTTP listener (empty: none)", 0, 0},
    {"rest_tls_cert_file", CFG_STR, &rest_conf.tls_cert_file, "", 0, 0, 0, "PEM certificate chain",
     0, 0},
    {"rest_tls_key_file", CFG_STR, &rest_conf.tls_key, "", 0, 0, CFG_SECRET_FILE, "PEM private key",
     0, 0},
    {"rest_tls_priorities", CFG_STR, &rest_conf.tls_priorities,
     "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", 0, 0, 0, "GnuTLS priority string", 0, 0},
    {"rest_threads", CFG_INT, &rest_conf.threads, "16", 1, 256, 0, "MHD threads per listener", 0,
     0},
    {"rest_max_connections", CFG_INT, &rest_conf.max_connections, "2000", 10, 100000, 0,
     "connections per listener", 0, 0},
    {"rest_read_timeout", CFG_TIME, &rest_conf.read_timeout_ms, "30s", 1000, 3600000, 0,
     "request read timeout", 0, 0},
    {"rest_header_timeout", CFG_TIME, &rest_conf.header_timeout_ms, "10s", 1000, 3600000, 0,
     "request header deadline", 0, 0},
    {"rest_max_connections_per_client", CFG_INT, &rest_conf.max_per_client, "100", 0, 100000, 0,
     "connections per client address", 0, 0},
    {"rest_body_max", CFG_SIZE, &rest_conf.body_max, "20m", 1024, JOBREQ_BODY_MAX, 0,
     "request body limit", 0, 0},
    {"rest_account_concurrency", CFG_INT, &rest_conf.account_concurrency, "16", 0, 100000, 0,
     "concurrent requests per account (0: no limit)", 0, 0},
    {"rest_base_path", CFG_STR, &rest_conf.base_path, "/email/v2", 0, 0, 0, "API base path", 0, 0},
    {"rest_jobs_path", CFG_STR, &rest_conf.jobs_path, "/jobs", 0, 0, 0, "job creation path", 0, 0},
    {"rest_trusted_proxies", CFG_STR, &rest_conf.trusted_proxies, "", 0, 0, 0,
     "proxies whose X-Real-IP counts", 0, 0},
    {"rest_admin_clients", CFG_STR, &rest_conf.admin_clients, "127.0.0.1,::1", 0, 0, 0,
     "clients of /health and /metrics", 0, 0},
    {"rest_stages", CFG_STR, &rest_conf.stages, "scan,securezip,render,spamcheck,smime,deliver", 0,
     0, 0, "stages this installation runs", 0, 0},
    {"rest_confirm_timeout", CFG_TIME, &rest_conf.confirm_timeout_ms, "10s", 100, 120000, 0,
     "broker confirm timeout", 0, 0},
    {"rest_idem_wait", CFG_TIME, &rest_conf.idem_wait_ms, "10s", 0, 120000, 0,
     "wait for a concurrent duplicate", 0, 0},
    {"rest_idem_window", CFG_TIME, &rest_conf.idem_window_ms, "24h", 1000, 30LL * 86400000, 0,
     "Idempotency-Key lifetime", 0, 0},
    {"rest_idem_stale", CFG_TIME, &rest_conf.idem_stale_ms, "60s", 1000, 3600000, 0,
     "abandoned claim age", 0, 0},
    {"rest_auth_cache_ttl", CFG_TIME, &rest_conf.auth_cache_ttl_ms, "60s", 0, 3600000, 0,
     "credential cache lifetime", 0, 0},
    {"rest_auth_failure_limit", CFG_INT, &authlimit_conf.addr_limit, "10", 0, 1000000, 0,
     "failed logins that block an address", 0, 0},
    {"rest_auth_user_failure_limit", CFG_INT, &authlimit_conf.user_limit, "30", 0, 1000000, 0,
     "failed logins that block a user", 0, 0},
    {"rest_auth_failure_decay", CFG_TIME, &authlimit_conf.decay_ms, "10m", 1000, 86400000, 0,
     "half-life of failure scores", 0, 0},
    {"rest_auth_kdf_max", CFG_INT, &authlimit_conf.kdf_max, "4", 1, 255, 0,
     "concurrent password checks", 0, 0},
    {0},
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    msg_vprintf("warning", fmt, ap);
}

/* parse_listen - "host:port" or "[v6]:port" into ss */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *sl)
{
    char host[256];
    const char *port;
    struct addrinfo hints, *ai = NULL;

    if (spec[0] == '[') {
        const char *rb = strchr(spec, ']');
        if (rb == NULL || rb[1] != ':' || (size_t)(rb - spec - 1) >= sizeof(host))
            return -1;
        memcpy(host, spec + 1, (size_t)(rb - spec - 1));
        host[rb - spec - 1] = 0;
        port = rb + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
            return -1;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = 0;
        port = colon + 1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(*host ? host : NULL, port, &hints, &ai) != 0 || ai == NULL)
        return -1;
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *sl = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static char *read_file(const char *path)
{
    struct buf b = BUF_INIT(1 << 20);
    char chunk[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY);

    if (fd < 0)
        msg_fatal("rest_tls_cert_file %s: %m", path);
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        if (buf_append(&b, chunk, (size_t)n) < 0)
            msg_fatal("rest_tls_cert_file %s: too large", path);
    close(fd);
    if (b.len == 0)
        msg_fatal("rest_tls_cert_file %s: empty", path);
    return buf_steal(&b, NULL);
}

/* guard - the header deadline and per-client cap of one listener (httpguard.h) */
static struct httpguard *guard(int tls)
{
    struct httpguard_conf gc = {tls ? "rest https" : "rest http", rest_conf.max_per_client,
                                rest_conf.header_timeout_ms < rest_conf.read_timeout_ms
                                    ? rest_conf.header_timeout_ms
                                    : rest_conf.read_timeout_ms,
                                rest_conf.trusted_proxies};

    return httpguard_create(&gc);
}

static struct MHD_Daemon *start(const char *spec, int tls, const char *cert, struct httpguard *g)
{
    static int tls_marker = 1;
    struct sockaddr_storage ss;
    socklen_t sl;
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    struct MHD_OptionItem opts[16];
    int n = 0;

    if (parse_listen(spec, &ss, &sl) < 0)
        msg_fatal("%s: cannot parse \"%s\" (host:port or [v6]:port)",
                  tls ? "rest_listen" : "rest_plain_listen", spec);
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (tls)
        flags |= MHD_USE_TLS;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    if (rest_conf.threads > 1)
        opts[n++] =
            (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)rest_conf.threads, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                        (intptr_t)((rest_conf.read_timeout_ms + 999) / 1000), NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
                                        (intptr_t)rest_conf.max_connections, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)rest_http_begin,
                                        tls ? &tls_marker : NULL};
    opts[n++] =
        (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)rest_http_done, NULL};
    opts[n++] =
        (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)httpguard_notify, g};
    if (tls) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, rest_conf.tls_key};
        opts[n++] =
            (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, rest_conf.tls_priorities};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    struct MHD_Daemon *d = MHD_start_daemon(flags, 0, httpguard_accept, g, rest_http_handle,
                                            tls ? &tls_marker : NULL, MHD_OPTION_EXTERNAL_LOGGER,
                                            mhd_log, NULL, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (d == NULL)
        msg_fatal("cannot listen on %s (%s)", spec, tls ? "HTTPS" : "HTTP");
    msg_info("listening on %s (%s, %lld threads)", spec, tls ? "HTTPS" : "plain HTTP",
             rest_conf.threads);
    return d;
}

/* check_conf - what must hold before the first request */
static void check_conf(void)
{
    char err[200];

    if (slip_stages_check("rest_stages", rest_conf.stages, err, sizeof(err)) < 0)
        msg_fatal("%s", err);
    if (rest_conf.base_path[0] != '/' || rest_conf.jobs_path[0] != '/')
        msg_fatal("rest_base_path and rest_jobs_path must start with /");
    if (authlimit_conf.kdf_max >= rest_conf.threads && rest_conf.threads > 1)
        msg_fatal("rest_auth_kdf_max (%lld) must be below rest_threads (%lld)",
                  authlimit_conf.kdf_max, rest_conf.threads);
    if (!*rest_conf.listen && !*rest_conf.plain_listen)
        msg_fatal("neither rest_listen nor rest_plain_listen is set");
    if (*rest_conf.listen && (!*rest_conf.tls_cert_file || !*rest_conf.tls_key))
        msg_fatal("rest_listen needs rest_tls_cert_file and rest_tls_key_file");
    if (*txconf.master_key && crypto_set_master_key(txconf.master_key) < 0)
        msg_fatal("master_key_file: not 64 hex digits");
    if (!crypto_have_master_key())
        msg_warn("no master_key_file: jobs with notification credentials will be refused");
}

int main(int argc, char **argv)
{
    struct MHD_Daemon *https = NULL, *plain = NULL;
    struct httpguard *https_guard = NULL, *plain_guard = NULL;
    struct db_conf dc;
    struct db *db;
    char *cert = NULL;
    int64_t last_flush = 0, last_expire = 0, last_beat = 0;

    txconf_init(argc, argv, "rest", rest_params, NULL, NULL);
    check_conf();
    rest_mem_init();
    auth_cache_ttl_ms = rest_conf.auth_cache_ttl_ms;
    authlimit_conf.kdf_pace = 1; /* an MHD thread serves many connections in turn */
    rest_conf.broker_url = txconf_broker_url();
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    /* the first connection from the main thread initialises Connector/C */
    txconf_db(&dc);
    if ((db = db_open_retry(&dc, (int)txconf.broker_reconnect_attempts)) == NULL)
        msg_fatal("cannot connect to the database");
    /* declare what we publish to (idempotent), so a fresh broker works */
    struct mq *mq = mq_open(rest_conf.broker_url, "rest-declare");
    if (mq == NULL || mq_declare_topology(mq) != TX_OK)
        msg_warn("cannot declare the broker topology now; jobs are answered 503 until the broker "
                 "is there");
    mq_close(mq);
    if (*rest_conf.listen) {
        cert = read_file(rest_conf.tls_cert_file);
        https_guard = guard(1);
        https = start(rest_conf.listen, 1, cert, https_guard);
    }
    if (*rest_conf.plain_listen) {
        plain_guard = guard(0);
        plain = start(rest_conf.plain_listen, 0, NULL, plain_guard);
    }
    metrics_flush();
    while (!stopping) {
        int64_t now = timeutil_mono_ms();
        if (now - last_flush >= 5000) {
            metrics_gauge("txmail_rest_active_requests", rest_http_active());
            metrics_flush();
            last_flush = now;
        }
        if (now - last_beat >= 5000) {
            rest_conn_keepalive(10000);
            last_beat = now;
        }
        if (now - last_expire >= 60000) {
            long long n = rest_idem_expire(db);
            if (n > 0)
                msg_info("forgot %lld expired Idempotency-Keys", n);
            last_expire = now;
        }
        rest_mem_tick();
        timeutil_sleep_ms(200);
    }
    msg_info("stopping: finishing %d requests", rest_http_active());
    MHD_socket ls;
    if (https && (ls = MHD_quiesce_daemon(https)) != MHD_INVALID_SOCKET)
        close(ls);
    if (plain && (ls = MHD_quiesce_daemon(plain)) != MHD_INVALID_SOCKET)
        close(ls);
    for (int i = 0; i < 300 && rest_http_active() > 0; i++)
        timeutil_sleep_ms(100);
    if (https)
        MHD_stop_daemon(https);
    if (plain)
        MHD_stop_daemon(plain);
    httpguard_free(https_guard);
    httpguard_free(plain_guard);
    rest_conn_close_all();
    db_close(db);
    metrics_remove();
    xfree(cert);
    xfree(rest_conf.broker_url);
    msg_info("stopped");
    return 0;
}
