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
 *      in deliver_suppress_exclude: none; a bounce for the message's own
 *      sake - bad address syntax in the data [5.1.3]/[5.1.7], over the
 *      peer's SIZE [5.3.4], SMTPUTF8 unavailable [5.6.7] - suppresses
 *      nothing). Descriptions:
 *      "[2.0.0] delivered (host mx.example.com[192.0.2.1] said: 250 ...)",
 *      "[4.4.1] deferred (connect to ...: Connection refused)".
 *
 *   One log line per outcome, keyed by recipient id:
 *     RID: to=<a@b>, relay=mx[ip]:port, delay=1.2, tls=TLSv1.3, dsn=2.0.0,
 *     status=sent (250 2.0.0 Ok)
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
 *   deliver_queue (deliver, bound to txmail.work): type "message" envelopes.
 * PUBLISHES
 *   txmail.events: DELIVER events (keys DELIVERED.OK, DEFERRED.SOFT_BOUNCE,
 *   BOUNCED.HARD_BOUNCE, BOUNCED.SOFT_BOUNCE, DROPPED.PREVIOUSLY_BOUNCED,
 *   DROPPED.SUPPRESSED); txmail.retry: the message again (deferrals+1);
 *   txmail.work: the next stage when the slip goes on after deliver.
 * WRITES
 *   delivery_record. Reads suppression, sender_domain, account.
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
 *                                      is lib/global/netpolicy.h's list (loopback,
 *                                      RFC 1918, link-local, ...); "": none. An MX
 *                                      route with only denied addresses is deferred
 *                                      [4.4.4]; relay and transport hosts (the
 *                                      operator's) are not subject to it
 *   deliver_allow_networks ()          allowed even when denied (the test stack:
 *                                      "127.0.0.0/8, ::1")
 *   deliver_suppress_exclude ()        enhanced codes never suppressed ("5.7.1,5.7.*")
 *   deliver_suppress_cache (1s)        "not listed" answers reused this long
 *   deliver_domain_cache (30s)         sender domain settings reused this long
 *   deliver_record_retry (30s)         retrying the delivery_record insert
 * METRICS (metrics_dir, besides the skeleton's)
 *   txmail_deliver_total{status=sent|deferred|bounced|dropped|expired|throttled}
 *   txmail_deliver_transactions_total{connection=new|reused|stale}
 *   txmail_deliver_unrecorded_total  2xx that could not be recorded
 */
#include "workers/deliver/deliver.h"
#include "global/addr.h"
#include "global/event.h"
#include "global/metrics.h"
#include "global/txconf.h"
#include "global/worker.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct deliver_conf deliver_conf;

static struct cfg_param deliver_params[] = {
    {"deliver_smtp_port", CFG_INT, &deliver_conf.smtp_port, "25", 1, 65535, 0, "port of MX hosts", 0, 0},
    {"deliver_transport_map", CFG_STR, &deliver_conf.transport_map, "", 0, 0, 0, "file of \"domain host[:port]\" routes", 0, 0},
    {"deliver_source_ip", CFG_STR, &deliver_conf.source_ip, "", 0, 0, 0, "source address of connections", 0, 0},
    {"deliver_helo_name", CFG_STR, &deliver_conf.helo_name, "", 0, 0, 0, "EHLO name (default myhostname)", 0, 0},
    {"deliver_tls_security_level", CFG_STR, &deliver_conf.tls_level, "may", 0, 0, 0, "may | none", 0, 0},
    {"deliver_tls_verify", CFG_BOOL, &deliver_conf.tls_verify, "yes", 0, 0, 0, "authenticate peers when TLS is enforced", 0, 0},
    {"deliver_tls_ca_file", CFG_STR, &deliver_conf.tls_ca_file, "", 0, 0, 0, "CA bundle for deliver_tls_verify", 0, 0},
    {"deliver_connect_timeout", CFG_TIME, &deliver_conf.connect_timeout, "30s", 100, 3600000, 0, "TCP connect", 0, 0},
    {"deliver_greeting_timeout", CFG_TIME, &deliver_conf.greeting_timeout, "5m", 100, 3600000, 0, "greeting", 0, 0},
    {"deliver_helo_timeout", CFG_TIME, &deliver_conf.helo_timeout, "5m", 100, 3600000, 0, "EHLO/HELO reply", 0, 0},
    {"deliver_starttls_timeout", CFG_TIME, &deliver_conf.starttls_timeout, "5m", 100, 3600000, 0, "STARTTLS and handshake", 0, 0},
    {"deliver_mail_timeout", CFG_TIME, &deliver_conf.mail_timeout, "5m", 100, 3600000, 0, "MAIL FROM reply", 0, 0},
    {"deliver_rcpt_timeout", CFG_TIME, &deliver_conf.rcpt_timeout, "5m", 100, 3600000, 0, "RCPT TO reply", 0, 0},
    {"deliver_data_timeout", CFG_TIME, &deliver_conf.data_timeout, "2m", 100, 3600000, 0, "DATA reply", 0, 0},
    {"deliver_data_block_timeout", CFG_TIME, &deliver_conf.data_block_timeout, "3m", 100, 3600000, 0, "each body write", 0, 0},
    {"deliver_dot_timeout", CFG_TIME, &deliver_conf.dot_timeout, "10m", 100, 3600000, 0, "final dot reply", 0, 0},
    {"deliver_rset_timeout", CFG_TIME, &deliver_conf.rset_timeout, "20s", 100, 3600000, 0, "RSET reply", 0, 0},
    {"deliver_conn_reuse", CFG_BOOL, &deliver_conf.conn_reuse, "yes", 0, 0, 0, "reuse connections", 0, 0},
    {"deliver_conn_idle_timeout", CFG_TIME, &deliver_conf.conn_idle, "5s", 100, 600000, 0, "idle time before QUIT", 0, 0},
    {"deliver_conn_max_age", CFG_TIME, &deliver_conf.conn_max_age, "5m", 1000, 86400000, 0, "connection lifetime", 0, 0},
    {"deliver_conn_max_messages", CFG_INT, &deliver_conf.conn_max_messages, "100", 1, 100000, 0, "transactions per connection", 0, 0},
    {"deliver_conn_cache_size", CFG_INT, &deliver_conf.conn_cache_size, "256", 1, 100000, 0, "idle connections kept", 0, 0},
    {"deliver_dns_timeout", CFG_TIME, &deliver_conf.dns_timeout, "5s", 50, 600000, 0, "per DNS try", 0, 0},
    {"deliver_dns_tries", CFG_INT, &deliver_conf.dns_tries, "2", 1, 10, 0, "tries per DNS query", 0, 0},
    {"deliver_dns_cache_ttl", CFG_TIME, &deliver_conf.dns_cache_ttl, "60s", 0, 86400000, 0, "cache bound of DNS answers", 0, 0},
    {"deliver_dns_negative_ttl", CFG_TIME, &deliver_conf.dns_negative_ttl, "10s", 0, 86400000, 0, "cache of NXDOMAIN/NODATA", 0, 0},
    {"deliver_mx_max_hosts", CFG_INT, &deliver_conf.mx_max_hosts, "5", 1, 32, 0, "MX hosts tried", 0, 0},
    {"deliver_mx_max_addresses", CFG_INT, &deliver_conf.mx_max_addresses, "10", 1, 64, 0, "addresses tried", 0, 0},
    {"deliver_inet_protocols", CFG_STR, &deliver_conf.inet_protocols, "all", 0, 0, 0, "all | ipv4 | ipv6", 0, 0},
    {"deliver_deny_networks", CFG_STR, &deliver_conf.deny_networks, "default", 0, 0, 0, "MX addresses refused (\"default\": loopback, private, ...)", 0, 0},
    {"deliver_allow_networks", CFG_STR, &deliver_conf.allow_networks, "", 0, 0, 0, "MX addresses allowed even when denied", 0, 0},
    {"deliver_suppress_exclude", CFG_STR, &deliver_conf.suppress_exclude, "", 0, 0, 0, "enhanced codes never suppressed", 0, 0},
    {"deliver_suppress_cache", CFG_TIME, &deliver_conf.suppress_cache, "1s", 0, 10000, 0, "negative suppression answers kept", 0, 0},
    {"deliver_domain_cache", CFG_TIME, &deliver_conf.domain_cache, "30s", 0, 3600000, 0, "sender domain settings kept", 0, 0},
    {"deliver_record_retry", CFG_TIME, &deliver_conf.record_retry, "30s", 0, 600000, 0, "retry of the delivery record", 0, 0},
    {"deliver_min_data_rate", CFG_INT, &deliver_conf.min_data_rate, "500", 1, 1000000000, 0, "bytes/s that extend the body deadline", 0, 0},
    {"deliver_destination_concurrency_limit", CFG_INT, &deliver_conf.dest_limit, "8", 1, 100000, 0, "sessions per destination", 0, 0},
    {"deliver_destination_retry", CFG_TIME, &deliver_conf.dest_retry, "1s", 1000, 3600000, 0, "retry of a throttled message", 0, 0},
    {0},
};

/* the message as handle() needs it */
struct req {
    struct dmsg m;
    char lower[320];            /* suppression key */
    const char *email, *from, *mime_from, *rewrite_from, *reference, *message_id;
    const char *relay, *archive;
    long long domain_id;
};

/* ---- helpers ------------------------------------------------------------ */

struct db *deliver_db(struct dctx *ctx)
{
    if (ctx->db == NULL) {
        struct db_conf c;
        txconf_db(&c);
        ctx->db = db_open(&c);
    }
    return ctx->db;
}

static const char *str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* parse_req - the message data; -1 (job reason set) when it is unusable */
static int parse_req(struct job *job, struct req *q)
{
    json_t *d = job->env.data;
    struct addr a;

    memset(q, 0, sizeof(*q));
    if (strcmp(job->env.type, "message") != 0) {
        job_reason(job, "envelope type \"%s\" is not a message", job->env.type);
        return -1;
    }
    q->m.rid = job->env.rid;
    q->m.rcpt = str(d, "rcpt");
    if (!job->env.rid[0] || q->m.rcpt == NULL || job->env.raw_len == 0) {
        job_reason(job, "message without rid, data.rcpt or raw content");
        return -1;
    }
    q->m.mail_from = str(d, "mailFrom") ? str(d, "mailFrom") : "";
    q->m.raw = job->env.raw;
    q->m.raw_len = job->env.raw_len;
    q->m.smtputf8 = json_is_true(json_object_get(d, "smtputf8"));
    q->m.eightbit = json_is_true(json_object_get(d, "eightbit"));
    q->m.tls_enforced = json_is_true(json_object_get(d, "tlsEnforced"));
    if (!q->m.eightbit)
        for (size_t i = 0; i < q->m.raw_len; i++)
            if ((unsigned char)q->m.raw[i] & 0x80) {
                q->m.eightbit = 1;
                break;
            }
    q->email = str(d, "email") ? str(d, "email") : q->m.rcpt;
    q->from = str(d, "from") ? str(d, "from") : q->m.mail_from;
    q->mime_from = str(d, "mimeFrom");
    q->rewrite_from = str(d, "rewriteFrom");
    q->reference = str(d, "reference");
    q->message_id = str(d, "messageId");
    q->relay = str(d, "relayHost");
    q->archive = str(d, "archiveBcc");
    q->domain_id = (long long)json_integer_value(json_object_get(json_object_get(d, "senderDomain"), "id"));
    if (addr_parse_bare(q->m.rcpt, strlen(q->m.rcpt), &a) == 0)
        addr_lower(q->lower, sizeof(q->lower), a.bare);
    else
        addr_lower(q->lower, sizeof(q->lower), q->m.rcpt);
    return 0;
}

static void base_event(struct tx_event *ev, struct job *job, const struct req *q)
{
    event_init(ev);
    ev->rid = job->env.rid;
    ev->job_id = job->env.job_id;
    ev->account_id = job->env.account_id;
    ev->received_ms = job->env.created_ms;
    ev->phase = "DELIVER";
    ev->email = q->email;
    ev->from = q->from;
    ev->mime_from = q->mime_from;
    ev->rewrite_from = q->rewrite_from;
    ev->reference = q->reference;
    ev->message_id = q->message_id;
    ev->size = (long long)job->env.raw_len;
}

static void log_outcome(struct job *job, const struct req *q, const struct outcome *o,
                        const char *status, const char *text)
{
    double delay = job->env.created_ms ? (double)(time_now_ms() - job->env.created_ms) / 1000.0 : 0;
    char clean[REPLY_TEXT_MAX];

    printable(clean, sizeof(clean), text, strlen(text));
    msg_info("%s: to=<%s>, relay=%s, delay=%.1f, tls=%s, dsn=%s, status=%s (%s)",
             job->env.rid, q->m.rcpt, o->relay[0] ? o->relay : "none", delay,
             o->tls[0] ? o->tls : "none", o->dsn, status, clean);
    metrics_count("txmail_deliver_total", "status", status, 1);
}

/* db_retry - an internal failure: retry soon, without counting a deferral */
static enum tx_code db_retry(struct job *job, const char *what)
{
    job_reason(job, "%s", what);
    job->retry_after_ms = 10000;
    job->count_attempt = 0;
    return TX_RETRY_DB;
}

/* ---- outcomes ----------------------------------------------------------- */

static enum tx_code delivered(struct job *job, struct req *q, const struct outcome *o,
                              const char *reply_text, const char *host, const char *code,
                              int again)
{
    struct tx_event ev;
    char desc[REPLY_TEXT_MAX + 400];

    base_event(&ev, job, q);
    ev.state = "FINISHED", ev.type = "DELIVERED", ev.subtype = "OK";
    deliver_describe(desc, sizeof(desc), o->dsn, "delivered", host, reply_text);
    ev.description = desc;
    ev.smtp_code = code;
    job_event(job, &ev);
    job_forward_input(job);
    log_outcome(job, q, o, "sent", again ? desc : reply_text);
    return TX_OK;
}

static enum tx_code delivered_again(struct job *job, struct req *q, const struct sent_record *rec)
{
    struct outcome o;
    struct smtp_reply r;

    memset(&o, 0, sizeof(o));
    deliver_reply_init(&r);
    deliver_reply_feed(&r, rec->reply, strlen(rec->reply));
    if (r.code == 0)
        r.code = 250;
    deliver_reply_dsn(o.dsn, &r, 2);
    snprintf(o.relay, sizeof(o.relay), "%s", rec->host);
    job_reason(job, "already delivered");
    return delivered(job, q, &o, rec->reply, rec->host, rec->code, 1);
}

static enum tx_code dropped(struct job *job, struct req *q, const struct suppress_hit *hit)
{
    struct tx_event ev;
    char ts[32], desc[REPLY_TEXT_MAX + 200];
    int pb = strcmp(hit->type, "PREVIOUSLY_BOUNCED") == 0;
    struct outcome o;

    time_iso8601(ts, sizeof(ts), hit->created_ms);
    if (pb)
        snprintf(desc, sizeof(desc), "ts=\"%s\", reason=\"%s\"", ts, hit->reason);
    else
        snprintf(desc, sizeof(desc), "type=\"%s\", ts=\"%s\", reason=\"%s\"", hit->type, ts,
                 hit->reason);
    base_event(&ev, job, q);
    ev.state = "FINISHED", ev.type = "DROPPED";
    ev.subtype = pb ? "PREVIOUSLY_BOUNCED" : "SUPPRESSED";
    ev.description = desc;
    json_t *x = json_pack("{s:{s:s}}", "suppressTouch", "address", q->lower);
    ev.extra = x;
    job_event(job, &ev);
    json_decref(x);
    memset(&o, 0, sizeof(o));
    snprintf(o.dsn, sizeof(o.dsn), "5.7.1");
    job_reason(job, "suppressed (%s)", hit->type);
    log_outcome(job, q, &o, "dropped", desc);
    return TX_REJECT_POLICY;
}

static enum tx_code bounced(struct job *job, struct req *q, const struct outcome *o)
{
    struct tx_event ev;
    char desc[REPLY_TEXT_MAX + 400];
    const char *type;
    long long lifetime;
    json_t *x = NULL;

    base_event(&ev, job, q);
    ev.state = "FINISHED", ev.type = "BOUNCED", ev.subtype = "HARD_BOUNCE";
    deliver_describe(desc, sizeof(desc), o->dsn, "bounced", o->host, o->text);
    ev.description = desc;
    char code[8];
    if (o->code) {
        snprintf(code, sizeof(code), "%03d", o->code);
        ev.smtp_code = code;
    }
    /* a message that could not be sent for its own sake (bad address syntax
     * in the data) is not the recipient's fault: no suppression */
    int own = !o->code && !o->dns && (strcmp(o->dsn, "5.1.3") == 0 || strcmp(o->dsn, "5.1.7") == 0 ||
                                      strcmp(o->dsn, "5.3.4") == 0 || strcmp(o->dsn, "5.6.7") == 0);
    if (!own && deliver_suppress_class(o->dsn, o->text, deliver_conf.suppress_exclude, &type, &lifetime)) {
        x = json_pack("{s:{s:s,s:s,s:I,s:s}}", "suppress", "address", q->lower, "type", type,
                      "lifetime_s", (json_int_t)lifetime, "reason", desc);
        ev.extra = x;
    }
    job_event(job, &ev);
    json_decref(x);
    job_reason(job, "%s", desc);
    log_outcome(job, q, o, "bounced", o->text);
    return TX_REJECT_PEER;
}

static enum tx_code deferred(struct job *job, struct req *q, const struct outcome *o)
{
    struct tx_event ev;
    char desc[REPLY_TEXT_MAX + 400], key[16], ts[32], code[8];

    job->env.deferrals++;
    snprintf(key, sizeof(key), "%d", job->env.deferrals);
    base_event(&ev, job, q);
    ev.state = "INTERMEDIATE", ev.type = "DEFERRED", ev.subtype = "SOFT_BOUNCE";
    ev.event_key = key;
    deliver_describe(desc, sizeof(desc), o->dsn, "deferred", o->host, o->text);
    ev.description = desc;
    if (o->code) {
        snprintf(code, sizeof(code), "%03d", o->code);
        ev.smtp_code = code;
    }
    job_event(job, &ev);
    /* the last failure travels with the message: expired() reports it */
    time_iso8601(ts, sizeof(ts), time_now_ms());
    json_t *last = json_pack("{s:s,s:s,s:s,s:s,s:s}", "dsn", o->dsn, "host", o->host,
                             "text", o->text, "smtpCode", o->code ? code : "", "ts", ts);
    json_object_set_new(job->env.data, "lastAttempt", last);
    job_reason(job, "%s", desc);
    log_outcome(job, q, o, "deferred", o->text);
    job->count_attempt = 1;
    return o->dns ? TX_RETRY_DNS : TX_RETRY_PEER;
}

/*
 * throttled - the destination is at deliver_destination_concurrency_limit:
 * the message was not tried; back through the delay queues without an
 * event and without counting an attempt
 */
static enum tx_code throttled(struct job *job, struct req *q, const struct outcome *o)
{
    job_reason(job, "%s", o->text);
    log_outcome(job, q, o, "throttled", o->text);
    job->retry_after_ms = deliver_conf.dest_retry;
    job->count_attempt = 0;
    return TX_RETRY_THROTTLED;
}

/* ---- the worker --------------------------------------------------------- */

static enum tx_code handle(struct job *job)
{
    struct dctx *ctx = job->ctx;
    struct req q;
    struct sent_record rec;
    struct suppress_hit hit;
    struct domain_conf dc;
    struct outcome o;
    struct db *db;
    int r;

    if (parse_req(job, &q) < 0)
        return TX_REJECT_MALFORMED;
    if ((db = deliver_db(ctx)) == NULL)
        return db_retry(job, "database unavailable");
    if ((r = record_lookup(db, q.m.rid, &rec)) < 0)
        return db_retry(job, "database: cannot read delivery_record");
    if (r == 1)
        return delivered_again(job, &q, &rec);
    if ((r = deliver_suppress_lookup(db, job->env.account_id, q.lower, &hit)) < 0)
        return db_retry(job, "database: cannot read suppression");
    if (r == 1)
        return dropped(job, &q, &hit);
    if (deliver_domain_conf(db, job->env.account_id, q.domain_id, &dc) < 0)
        return db_retry(job, "database: cannot read sender_domain");
    q.m.tls_enforced |= dc.tls_enforced;
    if (q.relay == NULL || !*q.relay)
        q.relay = dc.relay_host;
    q.m.archive = dc.archive_bcc[0] ? dc.archive_bcc : q.archive;

    deliver_attempt(ctx, &q.m, q.relay, &o);
    if (o.throttled)
        return throttled(job, &q, &o);
    switch (o.status) {
    case DLV_SENT:
        if (record_sent(ctx, q.m.rid, job->env.account_id, &o) < 0)
            metrics_count("txmail_deliver_unrecorded_total", NULL, NULL, 1);
        {
            char code[8];
            snprintf(code, sizeof(code), "%03d", o.code);
            return delivered(job, &q, &o, o.text, o.host, code, 0);
        }
    case DLV_BOUNCE:
        return bounced(job, &q, &o);
    case DLV_DEFER:
    default:
        return deferred(job, &q, &o);
    }
}

/* drop_deferred_event - the DEFERRED event handle() queued is not sent when the message expires */
static void drop_deferred_event(struct job *job)
{
    int k = 0;

    for (int i = 0; i < job->nouts; i++) {
        struct job_out *out = &job->outs[i];
        if (strcmp(out->exchange, "txmail.events") == 0 && strncmp(out->key, "DEFERRED.", 9) == 0) {
            xfree(out->body);
            continue;
        }
        job->outs[k++] = *out;
    }
    job->nouts = k;
}

/* expired - retries used up (deliver_max_age): BOUNCED/SOFT_BOUNCE, suppressed for a day */
static void expired(struct job *job)
{
    struct req q;
    struct tx_event ev;
    struct outcome o;
    char desc[REPLY_TEXT_MAX + 600];
    json_t *last, *x;

    if (parse_req(job, &q) < 0)
        return;
    drop_deferred_event(job);
    memset(&o, 0, sizeof(o));
    last = json_object_get(job->env.data, "lastAttempt");
    if (json_is_object(last) && str(last, "dsn") && str(last, "text")) {
        snprintf(o.dsn, sizeof(o.dsn), "%s", str(last, "dsn"));
        deliver_describe(desc, sizeof(desc), o.dsn, "bounced", str(last, "host"), str(last, "text"));
    } else {
        snprintf(o.dsn, sizeof(o.dsn), "4.4.7");
        deliver_describe(desc, sizeof(desc), o.dsn, "bounced", NULL,
                         job->reason[0] ? job->reason : "delivery time expired");
    }
    base_event(&ev, job, &q);
    ev.state = "FINISHED", ev.type = "BOUNCED", ev.subtype = "SOFT_BOUNCE";
    ev.description = desc;
    const char *code = json_is_object(last) ? str(last, "smtpCode") : NULL;
    ev.smtp_code = code && *code ? code : NULL;
    x = json_pack("{s:{s:s,s:s,s:I,s:s}}", "suppress", "address", q.lower, "type",
                  "TEMPORARY_SUPPRESSED", "lifetime_s", (json_int_t)SUPPRESS_1D, "reason", desc);
    ev.extra = x;
    job_event(job, &ev);
    json_decref(x);
    log_outcome(job, &q, &o, "expired", desc);
}

static int init(void)
{
    if (strcmp(deliver_conf.tls_level, "may") != 0 && strcmp(deliver_conf.tls_level, "none") != 0)
        msg_fatal("deliver_tls_security_level: \"%s\" is not may or none", deliver_conf.tls_level);
    if (strcmp(deliver_conf.inet_protocols, "all") != 0 && strcmp(deliver_conf.inet_protocols, "ipv4") != 0 &&
        strcmp(deliver_conf.inet_protocols, "ipv6") != 0)
        msg_fatal("deliver_inet_protocols: \"%s\" is not all, ipv4 or ipv6", deliver_conf.inet_protocols);
    if (!*deliver_conf.helo_name) {
        /* a copy: both tables free their strings at exit */
        xfree(deliver_conf.helo_name);
        deliver_conf.helo_name = xstrdup(txconf.myhostname);
    }
    if (deliver_dns_init() < 0)
        msg_fatal("c-ares cannot be initialised");
    if (deliver_tls_init() < 0)
        msg_fatal("TLS client context cannot be set up");
    deliver_route_init();
    pool_init();
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
    db_close(ctx->db);
    xfree(ctx);
}

static void shutdown_hook(void)
{
    pool_shutdown();
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
        .handle = handle,
        .expired = expired,
        .shutdown = shutdown_hook,
    };

    return worker_main(argc, argv, &w);
}
