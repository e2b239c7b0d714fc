/*
 * NAME
 *   txmail-deliver - outbound SMTP delivery of built messages
 * SYNOPSIS
 *   txmail-deliver [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   Consumes `type:"message"` envelopes (docs/ENVELOPES.md) from the queue
 *   `deliver`: one recipient id, raw = the finished, signed message. For
 *   each one, in this order:
 *
 *   1. Exactly-once: when `delivery_record` has the recipient id, a peer
 *      already accepted it: nothing is sent, DELIVERED is published again
 *      from the recorded reply (same tag).
 *   2. Suppression (contract §10.5): the account's `suppression` entry for
 *      the lowercased address, when not expired, drops the message:
 *      DELIVER/FINISHED/DROPPED/PREVIOUSLY_BOUNCED (entries of that type)
 *      or SUPPRESSED (other types), described as in §11.6, with
 *      `x.suppressTouch` so the recorder resets the entry's expiry.
 *   3. Route: the sender domain's relay host (data `relayHost`, else
 *      sender_domain.relay_host), else deliver_transport_map, else the
 *      recipient domain's MX (c-ares, dns_servers) in preference order,
 *      A/AAAA fallback without MX. NXDOMAIN and null MX (RFC 7505) are
 *      hard bounces ([5.1.2], [5.1.10]), a domain with neither MX nor
 *      address too ([5.4.4]); DNS timeouts and SERVFAIL defer. Relay and
 *      transport hosts are used as given (A/AAAA, never MX) and their
 *      lookup failures only defer: a configuration error never bounces.
 *   4. SMTP (deliver_session.c): a cached connection for the next hop or
 *      endpoint (RSET first), else connect; greeting, EHLO (HELO fallback),
 *      STARTTLS when offered (opportunistic) and required when the message
 *      or sender domain says tlsEnforced (then a peer without STARTTLS or a
 *      failed handshake defers and nothing is sent in plain text);
 *      PIPELINING, SIZE (a message over the peer's SIZE bounces [5.3.4]
 *      without DATA), BODY=8BITMIME and SMTPUTF8 when the message needs
 *      them (SMTPUTF8 not offered: bounce [5.6.7]); MAIL/RCPT/DATA
 *      pipelined; the archive Bcc address (sender_domain.archive_bcc, else
 *      the account setting archiveBcc, else data archiveBcc) as a second
 *      RCPT of the same transaction, without events; connection failures,
 *      greeting and EHLO refusals fail over to the next MX host/address.
 *   5. Classification (contract §10.2): 2xx to the final dot ->
 *      `delivery_record` row first, then DELIVER/FINISHED/DELIVERED/OK with
 *      smtpCode and size; 4xx, connection failures, timeouts ->
 *      DELIVER/INTERMEDIATE/DEFERRED/SOFT_BOUNCE with eventKey = the new
 *      deferral count (envelope `deferrals`), retried through the delay
 *      tiers of deliver_retry_schedule until deliver_max_age, then
 *      DELIVER/FINISHED/BOUNCED/SOFT_BOUNCE with `x.suppress`
 *      TEMPORARY_SUPPRESSED for 1 day; 5xx -> DELIVER/FINISHED/BOUNCED/
 *      HARD_BOUNCE with `x.suppress` per §13.1 (5.1.0/5.1.1/5.1.2/5.1.10 and
 *      "user unknown" texts: PREVIOUSLY_BOUNCED 45 days; x.2.2:
 *      TEMPORARY_SUPPRESSED 1 day; others PREVIOUSLY_BOUNCED 7 days; codes
 *      in the shared suppress_exclude: none; a bounce for the message's own
 *      sake - bad address syntax in the data [5.1.3]/[5.1.7], over the
 *      peer's SIZE [5.3.4], SMTPUTF8 unavailable [5.6.7] - suppresses
 *      nothing; the mapping is lib/global/manage/suppclass.h, shared with
 *      the bounce worker, and the exclude list applies to the 1-day entry
 *      at the end of retries too). Descriptions:
 *      "[2.0.0] delivered (host mx.example.com[192.0.2.1] said: 250 ...)",
 *      "[4.4.1] deferred (connect to ...: Connection refused)".
 *
 *   One log line per outcome, keyed by recipient id:
 *     RID: to=<a@b>, relay=mx[ip]:port, delay=1.2, tls=TLSv1.3, dsn=2.0.0,
 *     status=sent (250 2.0.0 Ok)
 *
 * FORWARDS
 *   `type:"forward"` envelopes (docs/ENVELOPES.md "Forward envelope",
 *   deliver_forward.c): a message forwarded on an account's behalf (a
 *   reply, a complaint, a notice), sent as given - MAIL FROM data.mailFrom,
 *   RCPT data.rcpt, raw byte for byte, no DKIM - through the same route,
 *   session and pool code, except that the sender domain's relay host is
 *   not used (transport map, else MX) and TLS is never enforced.
 *   Exactly once by data.id in delivery_record (a recorded id is acked,
 *   not sent). No suppression check and no events, not even for failures:
 *   4xx and connection failures retry through the delay tiers until
 *   deliver_max_age, then "forward failed" is logged (status=expired);
 *   a 5xx is logged (status=bounced) and not retried. Malformed forwards
 *   (no valid data.id, no data.rcpt) are dead-lettered. One log line per
 *   outcome, keyed by data.id:
 *     fw...: rid=RID|none, why=reply, from=<s@x>, to=<a@b>, relay=..., delay=0.3,
 *     tls=TLSv1.3, dsn=2.0.0, status=sent (250 2.0.0 Ok)
 *
 * PROCESS MODEL
 *   The worker skeleton runs deliver_concurrency handler threads (default
 *   32), each carrying one SMTP transaction at a time with blocking,
 *   poll()-bounded I/O, its own c-ares channel and its own MariaDB
 *   connection; so one process holds up to deliver_concurrency concurrent
 *   sessions and the prefetch keeps them busy. Throughput comes from
 *   connection reuse, not from more sockets: a shared, locked cache of
 *   idle connections (deliver_pool.c) keyed by next hop and by endpoint
 *   (address, port, source address; a connection without TLS never
 *   carries a tlsEnforced message, nor an unauthenticated one when
 *   deliver_tls_verify is on) lets a thread skip connect, greeting,
 *   EHLO, STARTTLS and DNS for the next message to the same destination;
 *   a janitor thread closes idle connections after
 *   deliver_conn_idle_timeout. The body is written from the broker
 *   delivery's buffer through the dot-stuffing writer in 64 KB writes, no
 *   copy of the whole message is made. Scale out by running more
 *   processes (each has its own cache).
 *
 *   A slow peer cannot hold threads for long or in numbers: every SMTP
 *   phase has one deadline for its whole reply (a tarpit answering a byte
 *   a second is cut off at the phase timeout, then deferred like any
 *   timeout), and at most deliver_destination_concurrency_limit threads
 *   hold sessions with one next hop or one endpoint (deliver_dest.c). A
 *   message whose destination is at the limit does not wait on a thread:
 *   it goes back through the delay queues (deliver_destination_retry,
 *   TX_RETRY_THROTTLED, logged status=throttled) without an event and
 *   without counting an attempt, and the thread takes the next message.
 *   The limit is per process.
 *
 * EXACTLY ONCE
 *   A recipient id that got a 2xx is never sent again: the row in
 *   `delivery_record` is written synchronously between the peer's 2xx and
 *   anything else, and every attempt checks it before connecting. What
 *   remains: (a) a crash (kill -9, power) after the peer's 2xx and before
 *   that INSERT commits - the broker then redelivers and the message is
 *   sent again; the window is one database round trip; (b) a lost
 *   connection after the final dot but before the reply (RFC 1047): the
 *   peer may have the message, txmail defers and sends again, as every
 *   MTA does; (c) when the database stays unreachable for
 *   deliver_record_retry after a 2xx, the delivery is reported and acked
 *   without a row: only a later redelivery of the same broker message
 *   (a quorum-queue quirk) could send it twice.
 *
 * CONSUMES
 *   deliver_queue (deliver, bound to txmail.work): type "message" and
 *   type "forward" envelopes.
 * PUBLISHES
 *   txmail.events: DELIVER events (keys DELIVERED.OK, DEFERRED.SOFT_BOUNCE,
 *   BOUNCED.HARD_BOUNCE, BOUNCED.SOFT_BOUNCE, DROPPED.PREVIOUSLY_BOUNCED,
 *   DROPPED.SUPPRESSED); txmail.retry: the message again (deferrals+1);
 *   txmail.work: the next stage when the slip goes on after deliver;
 *   the password mail's job to render after DELIVERED of a message with
 *   data.secureDocument (contract §16.3, deliver_pwmail.c).
 * WRITES
 *   delivery_record (rids, and forwards' data.id); job (the password
 *   mail's acceptance record). Reads suppression, sender_domain, account.
 *
 * PARAMETERS (and the skeleton's deliver_queue (deliver),
 *   deliver_concurrency (32), deliver_prefetch, deliver_retry_schedule
 *   (5m,10m,20m,40m,1h), deliver_max_age (2d), deliver_max_attempts,
 *   deliver_confirm_timeout; shared: dns_servers, myhostname, db_*)
 *   deliver_smtp_port (25)             port of MX hosts and default port
 *   deliver_transport_map ()           file of "domain host[:port]" routes
 *   deliver_source_ip ()               bind outgoing connections to it
 *   deliver_helo_name ()               EHLO name (default myhostname)
 *   deliver_tls_security_level (may)   may: STARTTLS when offered; none
 *   deliver_tls_verify (yes)           authenticate peers of tlsEnforced messages:
 *                                      chain against deliver_tls_ca_file (else the
 *                                      system store), name = the MX host (or the
 *                                      relay/transport host); no: encrypt only
 *   deliver_tls_ca_file ()             CA bundle for deliver_tls_verify
 *   deliver_connect_timeout (30s)      TCP connect
 *   The phase timeouts below are deadlines for the request and its whole
 *   reply (every line of it), not per read or write (Postfix
 *   smtp_per_request_deadline):
 *   deliver_greeting_timeout (5m)      220 greeting (RFC 5321 4.5.3.2)
 *   deliver_helo_timeout (5m)          EHLO/HELO and reply
 *   deliver_starttls_timeout (5m)      STARTTLS reply; the handshake again
 *   deliver_mail_timeout (5m)          MAIL FROM (the pipelined commands) and reply
 *   deliver_rcpt_timeout (5m)          RCPT TO reply
 *   deliver_data_timeout (2m)          DATA reply (354)
 *   deliver_data_block_timeout (3m)    the whole body, plus 1s per
 *   deliver_min_data_rate (500)          bytes of it
 *   deliver_dot_timeout (10m)          reply to the final dot
 *   deliver_rset_timeout (20s)         RSET on a reused connection
 *   deliver_destination_concurrency_limit (8)
 *                                      sessions of this process with one next
 *                                      hop, and with one endpoint (address,
 *                                      port); keep it well below
 *                                      deliver_concurrency so a slow destination
 *                                      cannot take every thread
 *   deliver_destination_retry (1s)     a message whose destination is at that
 *                                      limit is not tried: it comes back after
 *                                      this long (no event, no attempt counted)
 *   deliver_conn_reuse (yes)           keep connections for reuse
 *   deliver_conn_idle_timeout (5s)     idle time before QUIT
 *   deliver_conn_max_age (5m)          connection lifetime
 *   deliver_conn_max_messages (100)    transactions per connection
 *   deliver_conn_cache_size (256)      idle connections kept in all
 *   deliver_dns_timeout (5s)           per try of a DNS query
 *   deliver_dns_tries (2)              tries per DNS query
 *   deliver_dns_cache_ttl (60s)        upper bound of cached answers (and TTL)
 *   deliver_dns_negative_ttl (10s)     NXDOMAIN/NODATA answers cached
 *   deliver_mx_max_hosts (5)           MX hosts tried
 *   deliver_mx_max_addresses (10)      addresses tried per attempt
 *   deliver_inet_protocols (all)       all, ipv4 or ipv6
 *   deliver_deny_networks (default)    MX addresses never connected to; "default"
 *                                      is lib/global/access/netpolicy.h's list (loopback,
 *                                      RFC 1918, link-local, ...); "": none. An MX
 *                                      route with only denied addresses is deferred
 *                                      [4.4.4]; relay and transport hosts (the
 *                                      operator's) are not subject to it
 *   deliver_allow_networks ()          allowed even when denied (the test stack:
 *                                      "127.0.0.0/8, ::1")
 *   deliver_suppress_cache (1s)        "not listed" answers reused this long
 *   deliver_domain_cache (30s)         sender domain settings reused this long
 *   deliver_record_retry (30s)         retrying the delivery_record insert
 * METRICS (metrics_dir, besides the skeleton's)
 *   txmail_deliver_total{status=sent|deferred|bounced|dropped|expired|throttled}
 *   txmail_deliver_transactions_total{connection=new|reused|stale}
 *   txmail_deliver_forward_total{status=sent|deferred|bounced|expired|throttled}
 *                                    forwards (txmail_deliver_total counts messages)
 *   txmail_deliver_unrecorded_total  2xx that could not be recorded
 *   txmail_deliver_pwmail_total{status=queued|unreadable}  password mails
 */
#include "workers/deliver/deliver.h"
#include "global/crypto.h"
#include "global/txconf.h"
#include "global/runtime/worker.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <string.h>

struct deliver_conf deliver_conf;

static struct cfg_param deliver_params[] = {
    {"deliver_smtp_port", CFG_INT, &deliver_conf.smtp_port, "25", 1, 65535, 0, "port of MX hosts",
     0, 0},
    {"deliver_transport_map", CFG_STR, &deliver_conf.transport_map, "", 0, 0, 0,
     "file of \"domain host[:port]\" routes", 0, 0},
    {"deliver_source_ip", CFG_STR, &deliver_conf.source_ip, "", 0, 0, 0,
     "source address of connections", 0, 0},
    {"deliver_helo_name", CFG_STR, &deliver_conf.helo_name, "", 0, 0, 0,
     "EHLO name (default myhostname)", 0, 0},
    {"deliver_tls_security_level", CFG_STR, &deliver_conf.tls_level, "may", 0, 0, 0, "may | none",
     0, 0},
    {"deliver_tls_verify", CFG_BOOL, &deliver_conf.tls_verify, "yes", 0, 0, 0,
     "authenticate peers when TLS is enforced", 0, 0},
    {"deliver_tls_ca_file", CFG_STR, &deliver_conf.tls_ca_file, "", 0, 0, 0,
     "CA bundle for deliver_tls_verify", 0, 0},
    {"deliver_connect_timeout", CFG_TIME, &deliver_conf.connect_timeout, "30s", 100, 3600000, 0,
     "TCP connect", 0, 0},
    {"deliver_greeting_timeout", CFG_TIME, &deliver_conf.greeting_timeout, "5m", 100, 3600000, 0,
     "greeting", 0, 0},
    {"deliver_helo_timeout", CFG_TIME, &deliver_conf.helo_timeout, "5m", 100, 3600000, 0,
     "EHLO/HELO reply", 0, 0},
    {"deliver_starttls_timeout", CFG_TIME, &deliver_conf.starttls_timeout, "5m", 100, 3600000, 0,
     "STARTTLS and handshake", 0, 0},
    {"deliver_mail_timeout", CFG_TIME, &deliver_conf.mail_timeout, "5m", 100, 3600000, 0,
     "MAIL FROM reply", 0, 0},
    {"deliver_rcpt_timeout", CFG_TIME, &deliver_conf.rcpt_timeout, "5m", 100, 3600000, 0,
     "RCPT TO reply", 0, 0},
    {"deliver_data_timeout", CFG_TIME, &deliver_conf.data_timeout, "2m", 100, 3600000, 0,
     "DATA reply", 0, 0},
    {"deliver_data_block_timeout", CFG_TIME, &deliver_conf.data_block_timeout, "3m", 100, 3600000,
     0, "each body write", 0, 0},
    {"deliver_dot_timeout", CFG_TIME, &deliver_conf.dot_timeout, "10m", 100, 3600000, 0,
     "final dot reply", 0, 0},
    {"deliver_rset_timeout", CFG_TIME, &deliver_conf.rset_timeout, "20s", 100, 3600000, 0,
     "RSET reply", 0, 0},
    {"deliver_conn_reuse", CFG_BOOL, &deliver_conf.conn_reuse, "yes", 0, 0, 0, "reuse connections",
     0, 0},
    {"deliver_conn_idle_timeout", CFG_TIME, &deliver_conf.conn_idle, "5s", 100, 600000, 0,
     "idle time before QUIT", 0, 0},
    {"deliver_conn_max_age", CFG_TIME, &deliver_conf.conn_max_age, "5m", 1000, 86400000, 0,
     "connection lifetime", 0, 0},
    {"deliver_conn_max_messages", CFG_INT, &deliver_conf.conn_max_messages, "100", 1, 100000, 0,
     "transactions per connection", 0, 0},
    {"deliver_conn_cache_size", CFG_INT, &deliver_conf.conn_cache_size, "256", 1, 100000, 0,
     "idle connections kept", 0, 0},
    {"deliver_dns_timeout", CFG_TIME, &deliver_conf.dns_timeout, "5s", 50, 600000, 0, "per DNS try",
     0, 0},
    {"deliver_dns_tries", CFG_INT, &deliver_conf.dns_tries, "2", 1, 10, 0, "tries per DNS query", 0,
     0},
    {"deliver_dns_cache_ttl", CFG_TIME, &deliver_conf.dns_cache_ttl, "60s", 0, 86400000, 0,
     "cache bound of DNS answers", 0, 0},
    {"deliver_dns_negative_ttl", CFG_TIME, &deliver_conf.dns_negative_ttl, "10s", 0, 86400000, 0,
     "cache of NXDOMAIN/NODATA", 0, 0},
    {"deliver_mx_max_hosts", CFG_INT, &deliver_conf.mx_max_hosts, "5", 1, 32, 0, "MX hosts tried",
     0, 0},
    {"deliver_mx_max_addresses", CFG_INT, &deliver_conf.mx_max_addresses, "10", 1, 64, 0,
     "addresses tried", 0, 0},
    {"deliver_inet_protocols", CFG_STR, &deliver_conf.inet_protocols, "all", 0, 0, 0,
     "all | ipv4 | ipv6", 0, 0},
    {"deliver_deny_networks", CFG_STR, &deliver_conf.deny_networks, "default", 0, 0, 0,
     "MX addresses refused (\"default\": loopback, private, ...)", 0, 0},
    {"deliver_allow_networks", CFG_STR, &deliver_conf.allow_networks, "", 0, 0, 0,
     "MX addresses allowed even when denied", 0, 0},
    {"deliver_suppress_cache", CFG_TIME, &deliver_conf.suppress_cache, "1s", 0, 10000, 0,
     "negative suppression answers kept", 0, 0},
    {"deliver_domain_cache", CFG_TIME, &deliver_conf.domain_cache, "30s", 0, 3600000, 0,
     "sender domain settings kept", 0, 0},
    {"deliver_record_retry", CFG_TIME, &deliver_conf.record_retry, "30s", 0, 600000, 0,
     "retry of the delivery record", 0, 0},
    {"deliver_min_data_rate", CFG_INT, &deliver_conf.min_data_rate, "500", 1, 1000000000, 0,
     "bytes/s that extend the body deadline", 0, 0},
    {"deliver_destination_concurrency_limit", CFG_INT, &deliver_conf.dest_limit, "8", 1, 100000, 0,
     "sessions per destination", 0, 0},
    {"deliver_destination_retry", CFG_TIME, &deliver_conf.dest_retry, "1s", 1000, 3600000, 0,
     "retry of a throttled message", 0, 0},
    {0},
};

static int init(void)
{
    if (strcmp(deliver_conf.tls_level, "may") != 0 && strcmp(deliver_conf.tls_level, "none") != 0)
        msg_fatal("deliver_tls_security_level: \"%s\" is not may or none", deliver_conf.tls_level);
    if (strcmp(deliver_conf.inet_protocols, "all") != 0 &&
        strcmp(deliver_conf.inet_protocols, "ipv4") != 0 &&
        strcmp(deliver_conf.inet_protocols, "ipv6") != 0)
        msg_fatal("deliver_inet_protocols: \"%s\" is not all, ipv4 or ipv6",
                  deliver_conf.inet_protocols);
    if (!*deliver_conf.helo_name) {
        /* a copy: both tables free their strings at exit */
        xfree(deliver_conf.helo_name);
        deliver_conf.helo_name = xstrdup(txconf.myhostname);
    }
    /* the password mails of Secure Document Handling (deliver_pwmail.c) */
    if (*txconf.master_key && crypto_set_master_key(txconf.master_key) < 0)
        msg_fatal("master_key_file: expected 64 hex digits");
    if (deliver_dns_init() < 0)
        msg_fatal("c-ares cannot be initialised");
    if (deliver_tls_init() < 0)
        msg_fatal("TLS client context cannot be set up");
    deliver_route_init();
    deliver_pool_init();
    return 0;
}

static void *thread_init(void)
{
    struct dctx *ctx = xcalloc(1, sizeof(*ctx));

    if (deliver_dns_thread(ctx) < 0)
        msg_fatal("cannot create a DNS resolver channel");
    return ctx;
}

static void thread_done(void *arg)
{
    struct dctx *ctx = arg;

    deliver_dns_thread_done(ctx);
    xfree(ctx);
}

static void shutdown_hook(void)
{
    deliver_pool_shutdown();
    deliver_tls_done();
    ares_library_cleanup();
}

int main(int argc, char **argv)
{
    static struct worker w = {
        .name = "deliver",
        .queue = "deliver",
        .params = deliver_params,
        .default_concurrency = 32,
        .default_schedule = "5m,10m,20m,40m,1h",
        .default_max_age = "2d",
        .init = init,
        .thread_init = thread_init,
        .thread_done = thread_done,
        .handle = deliver_job_handle,
        .expired = deliver_job_expired,
        .shutdown = shutdown_hook,
    };

    return worker_main(argc, argv, &w);
}
