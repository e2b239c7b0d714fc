/*
 * NAME
 *   txmail-smtpd - SMTP submission server (contract §17), and the inbound
 *   MX of the bounce domains (§16.7) with smtpd_policy = inbound
 * SYNOPSIS
 *   txmail-smtpd [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   Accepts mail from applications and their mail servers on two
 *   listeners: submission with STARTTLS (smtpd_listen, port 587) and
 *   implicit TLS (smtpd_tls_listen, port 465). TLS 1.2 or newer.
 *
 *   EHLO offers PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES,
 *   CHUNKING (BDAT), STARTTLS (before TLS) and AUTH PLAIN LOGIN (after
 *   TLS; before TLS only with smtpd_plaintext_auth_loopback on a
 *   loopback-only listener for loopback clients). Clients authenticate
 *   with the technical account's credentials (the same as REST, with
 *   their source-IP allow-list), or by source IP for a credential with
 *   ip_auth. Failed AUTH is slowed and limited per client IP (see
 *   smtpd_auth.c). Mail is taken only over TLS, except from the clients
 *   of smtpd_tls_exempt_clients (loopback by default).
 *
 *   Policy at the moment it can be decided: at MAIL the sender's domain
 *   must be registered for the account (553 5.7.1 sender domain not
 *   registered) and its local part not forbidden (553 5.7.1 sender
 *   address not allowed); SIZE= above the limit is refused (552 5.3.4).
 *   At RCPT: address syntax (501 5.1.3), at most smtpd_recipient_limit
 *   recipients (452 4.5.3); forbidden local parts and suppressed
 *   addresses are accepted and marked "drop" in the job. DATA and BDAT
 *   are streamed into a buffer bounded by smtpd_message_size_limit (over
 *   it: 552 5.3.4, the rest is read but not kept); a bare LF or CR
 *   gives 550 5.5.2 Error: bare <LF|CR> received and a line over 998
 *   octets 554 5.6.0, after the end of the data (only CRLF.CRLF ends
 *   DATA); a command line with a bare LF or CR gets 500 5.5.2 and is not
 *   run. After the final dot: the header section, read the one way render
 *   and receivers read it (smtpd_msghdr.h: 550 5.6.0 Malformed header /
 *   Duplicate header field <name>), the
 *   X-RETARUS-M4A-* headers (554 5.6.0 Invalid value / Missing mandatory
 *   value for <header>; 550 5.7.1 Unsupported value for <header> when
 *   the account or the installation lacks the feature), exactly one
 *   From: whose every mailbox, group members included, is in the
 *   envelope sender's domain (else 550 5.7.1 Unsupported value for From;
 *   554 5.6.0 Missing mandatory / Invalid value for From when absent or
 *   unparsable), the same for an optional Sender:, attachment file
 *   names against the account's forbidden extensions (550 5.7.1
 *   Unsupported value for attachment <name>).
 *
 *   One transaction is one job (docs/ENVELOPES.md, "from txmail-smtpd"):
 *   the message without X-RETARUS-M4A-* and Bcc: headers and with a
 *   Received: header is published to txmail.work (key: the first stage
 *   of the slip) with publisher confirms, then the acceptance record
 *   (job row, answer = the SMTP reply) is written, and only then the
 *   client reads "250 2.0.0 Ok: queued as <jobId>". Broker or database
 *   trouble: "451 4.3.0 Temporary failure, please retry", and the first
 *   stage discards a published job that has no record.
 *
 *   INBOUND POLICY (smtpd_policy = inbound; smtpd_inbound.c): the same
 *   server as the MX of the bounce domains, one instance per policy. No
 *   AUTH (not advertised; AUTH answers 503 5.5.1 Error: authentication
 *   not enabled), no source-IP authentication, TLS offered (STARTTLS with
 *   smtpd_tls_cert_file) but never required, any MAIL FROM including the
 *   null sender <>. RCPT takes (lib/global/inbound/inboundaddr.h) a VERP
 *   address at a bounce domain (some sender_domain.bounce_domain, any
 *   case) whose tag verifies with the key derived from master_key_file
 *   (needed: fatal without), a role local part of smtpd_inbound_roles at
 *   a bounce domain, or an envelope-rewrite address (rewrite_from, any
 *   case); any other address at a bounce domain, a forged tag included,
 *   gets "550 5.1.1 <addr>: Recipient address rejected: User unknown",
 *   another domain "550 5.7.1 <addr>: relaying denied", database trouble
 *   "451 4.3.0". Answers are cached for smtpd_inbound_cache_ttl. SIZE,
 *   smtpd_message_size_limit (552 5.3.4), smtpd_recipient_limit, DATA,
 *   BDAT, timeouts and connection limits as for submission; no header
 *   or From checks, no suppression lookup, no job. At the end of the
 *   message, one "inbound" envelope per account among the recipients
 *   (docs/ENVELOPES.md) is published to txmail.work with key
 *   smtpd_inbound_queue and confirmed, then "250 2.0.0 Ok: queued as
 *   <id of the first envelope>"; broker trouble: 451 4.3.0 and nothing
 *   acknowledged. Nothing is written to the database. The instance
 *   calls itself "smtpd-inbound": its log lines, its metrics file and
 *   the program label of its metrics.
 *
 *   Idle or slow clients get "421 4.4.2 <host> Error: timeout exceeded":
 *   a command must be complete within smtpd_timeout of the previous
 *   reply (so a client trickling bytes gains nothing), and DATA/BDAT must
 *   arrive at smtpd_min_data_rate on average after smtpd_timeout.
 *   Connections beyond smtpd_max_connections, or beyond smtpd_max_per_ip
 *   from one address, get 421 and are closed.
 * THREADS
 *   smtpd_loops event-loop threads (libevent) each listen on every
 *   address (SO_REUSEPORT) and own their sessions: all protocol work and
 *   TLS happen there and never block. Blocking work - the database
 *   (credentials with their slow KDF, source IPs, sender domains,
 *   suppression) and the broker (publish + confirm) and the acceptance
 *   record - runs on smtpd_threads pool threads, each with its own
 *   MariaDB and RabbitMQ connection (smtpd_queue.c); results come back to
 *   the session's loop through an eventfd. Message checks run on the pool
 *   too, so a large message never delays other sessions. The main thread
 *   handles signals and writes the metrics file.
 * CONSUMES
 *   nothing from the broker.
 * PUBLISHES
 *   type "job" envelopes to txmail.work. No events: the first stage
 *   publishes the intake record and the drop events. Inbound: type
 *   "inbound" envelopes to txmail.work, key smtpd_inbound_queue.
 * WRITES
 *   the job table (acceptance records). Reads credential, account,
 *   sender_domain, suppression. Inbound: writes nothing; reads
 *   sender_domain, envelope_rewrite and (a bounce domain several accounts
 *   share) job.
 * LOGGING
 *   connect/disconnect and TLS lines per session (session id first); one
 *   line per refused command; one line per recipient of a queued job,
 *   keyed by its recipient id: "<rid>: client=[ip], session=..,
 *   account=.., from=<..>, to=<..>, size=N, status=queued|dropped (..)".
 *   Inbound: one line per refused RCPT with its reason, one per queued
 *   envelope: "<session>: inbound <id>: client=[ip], helo=.., from=<..>,
 *   account=N, rcpt=N, size=N, tls=.., queue=.., status=queued".
 * SIGNALS
 *   SIGTERM: stop listening, answer 421 to idle sessions, let messages in
 *   progress finish (at most smtpd_shutdown_grace), exit 0.
 * PARAMETERS (defaults in brackets; shared ones in txconf.h)
 *   smtpd_policy [submission]             submission | inbound (the bounce domains' MX)
 *   smtpd_inbound_roles [postmaster,abuse,fbl]  inbound: role local parts at a bounce domain
 *   smtpd_inbound_queue [bounce]          inbound: the queue accepted mail goes to
 *   smtpd_inbound_cache_ttl [10s]         inbound: bounce-domain and rewrite answers kept
 *   smtpd_listen [0.0.0.0:587]            submission with STARTTLS; "host:port,..." or empty
 *   smtpd_tls_listen [0.0.0.0:465]        implicit TLS; "host:port,..." or empty
 *   smtpd_tls_cert_file [] smtpd_tls_key_file []   PEM certificate chain and key (a secret file)
 *   smtpd_require_tls [yes]               MAIL only over TLS (submission) ...
 *   smtpd_tls_exempt_clients [loopback]   ... except from these ("loopback" and/or IPs)
 *   smtpd_plaintext_auth_loopback [no]    AUTH without TLS on loopback-only listeners
 *   smtpd_chunking [yes]                  offer CHUNKING (BDAT)
 *   smtpd_stages [scan,render,spamcheck,smime,deliver]
 *                                         stages this installation runs (slips use only these)
 *   smtpd_loops [2]                       event-loop threads
 *   smtpd_threads [8]                     pool threads (DB + broker connections each)
 *   smtpd_auth_threads [2]                pool threads that may run the KDF at once
 *   smtpd_batch_max [64]                  jobs published per confirm / record transaction
 *   smtpd_max_connections [1000]          sessions in all
 *   smtpd_max_per_ip [50]                 sessions per client (IPv4 address, IPv6 /64)
 *   smtpd_message_size_limit [20971520]   SIZE (at most 20 MB)
 *   smtpd_recipient_limit [1000]          recipients per transaction (at most 1000)
 *   smtpd_hard_error_limit [20]           errors before 421 and close
 *   smtpd_timeout [300s]                  idle and per-command time
 *   smtpd_min_data_rate [1024]            octets/s a DATA/BDAT client must keep up
 *   smtpd_auth_failure_delay [1s]         tarpit per failed AUTH (x failures, at most 5x)
 *   smtpd_auth_failure_limit [10]         failures of a client address (IPv6: its /64)
 *                                         that block its AUTH (454 4.7.0); 0: none
 *   smtpd_auth_user_failure_limit [30]    failures of one user that block it (except
 *                                         where it authenticated a moment ago); 0: none
 *   smtpd_auth_failure_decay [10m]        half-life of those scores (lib/global/access/authlimit.h)
 *   smtpd_auth_recheck [1s]               MAIL re-checks the session's credential and
 *                                         account (enabled, same password, address
 *                                         allowed) when last found valid this long ago;
 *                                         0: at every MAIL
 *   smtpd_auth_session_failures [3]       failures before the session is closed
 *   smtpd_confirm_timeout [10s]           broker confirm wait before 451
 *   smtpd_shutdown_grace [30s]            SIGTERM: time for messages in progress
 *   and the shared parameters of txconf.h.
 * METRICS
 *   txmail_smtpd_connections_total, txmail_smtpd_disconnects_total,
 *   txmail_smtpd_messages_total, txmail_smtpd_refused_total,
 *   txmail_smtpd_auth_total, txmail_smtpd_tls_total,
 *   txmail_smtpd_timeouts_total, txmail_smtpd_commit_batches_total,
 *   txmail_smtpd_sessions. Inbound: the same (no auth) under program
 *   "smtpd-inbound", and txmail_smtpd_inbound_rcpt_total{kind=verp|role|
 *   rewrite|unknown|forged|foreign|tempfail}.
 */
#include "smtpd.h"
#include "global/access/authlimit.h"
#include "global/crypto.h"
#include "global/metrics.h"
#include "global/intake/slip.h"
#include "global/txconf.h"
#include "global/verp.h"
#include "util/msg.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

struct smtpd_conf smtpd_conf;

static struct cfg_param smtpd_params[] = {
    {"smtpd_policy", CFG_STR, &smtpd_conf.policy_name, "submission", 0, 0, 0,
     "submission | inbound", 0, 0},
    {"smtpd_inbound_roles", CFG_STR, &smtpd_conf.inbound_roles, "postmaster,abuse,fbl", 0, 0, 0,
     "inbound: role local parts at a bounce domain", 0, 0},
    {"smtpd_inbound_queue", CFG_STR, &smtpd_conf.inbound_queue, "bounce", 0, 0, 0,
     "inbound: the queue of accepted mail", 0, 0},
    {"smtpd_inbound_cache_ttl", CFG_TIME, &smtpd_conf.inbound_cache_ttl, "10s", 0, 3600000, 0,
     "inbound: bounce domain and rewrite answers kept", 0, 0},
    {"smtpd_listen", CFG_STR, &smtpd_conf.listen, "0.0.0.0:587", 0, 0, 0,
     "submission listeners (STARTTLS)", 0, 0},
    {"smtpd_tls_listen", CFG_STR, &smtpd_conf.tls_listen, "0.0.0.0:465", 0, 0, 0,
     "implicit-TLS listeners", 0, 0},
    {"smtpd_tls_cert_file", CFG_STR, &smtpd_conf.cert_file, "", 0, 0, 0, "PEM certificate chain", 0,
     0},
    {"smtpd_tls_key_file", CFG_STR, &smtpd_conf.key_pem, "", 0, 0, CFG_SECRET_FILE,
     "PEM private key", 0, 0},
    {"smtpd_require_tls", CFG_BOOL, &smtpd_conf.require_tls, "yes", 0, 0, 0, "MAIL only over TLS",
     0, 0},
    {"smtpd_tls_exempt_clients", CFG_STR, &smtpd_conf.tls_exempt, "loopback", 0, 0, 0,
     "clients allowed to send without TLS", 0, 0},
    {"smtpd_plaintext_auth_loopback", CFG_BOOL, &smtpd_conf.plaintext_auth_loopback, "no", 0, 0, 0,
     "AUTH without TLS on loopback listeners", 0, 0},
    {"smtpd_chunking", CFG_BOOL, &smtpd_conf.chunking, "yes", 0, 0, 0, "offer CHUNKING", 0, 0},
    {"smtpd_stages", CFG_STR, &smtpd_conf.stages, "scan,render,spamcheck,smime,deliver", 0, 0, 0,
     "stages this installation runs", 0, 0},
    {"smtpd_loops", CFG_INT, &smtpd_conf.loops, "2", 1, 32, 0, "event-loop threads", 0, 0},
    {"smtpd_threads", CFG_INT, &smtpd_conf.threads, "8", 1, 256, 0, "pool threads", 0, 0},
    {"smtpd_auth_threads", CFG_INT, &smtpd_conf.auth_threads, "2", 1, 256, 0,
     "pool threads running the KDF at once", 0, 0},
    {"smtpd_batch_max", CFG_INT, &smtpd_conf.batch_max, "64", 1, 256, 0,
     "jobs per confirm and record transaction", 0, 0},
    {"smtpd_max_connections", CFG_INT, &smtpd_conf.max_connections, "1000", 1, 1000000, 0,
     "sessions in all", 0, 0},
    {"smtpd_max_per_ip", CFG_INT, &smtpd_conf.max_per_ip, "50", 1, 1000000, 0,
     "sessions per client address", 0, 0},
    {"smtpd_message_size_limit", CFG_SIZE, &smtpd_conf.size_limit, "20971520", 1024, SMTPD_SIZE_MAX,
     0, "message size limit", 0, 0},
    {"smtpd_recipient_limit", CFG_INT, &smtpd_conf.rcpt_limit, "1000", 1, SMTPD_RCPT_MAX, 0,
     "recipients per transaction", 0, 0},
    {"smtpd_hard_error_limit", CFG_INT, &smtpd_conf.hard_error_limit, "20", 1, 100000, 0,
     "errors before the session is closed", 0, 0},
    {"smtpd_timeout", CFG_TIME, &smtpd_conf.timeout, "300s", 500, 3600000, 0,
     "idle and per-command timeout", 0, 0},
    {"smtpd_min_data_rate", CFG_INT, &smtpd_conf.min_data_rate, "1024", 0, 1000000000, 0,
     "octets/s during DATA (0: no minimum)", 0, 0},
    {"smtpd_auth_failure_delay", CFG_TIME, &smtpd_conf.auth_failure_delay, "1s", 0, 60000, 0,
     "tarpit per failed AUTH", 0, 0},
    {"smtpd_auth_failure_limit", CFG_INT, &authlimit_conf.addr_limit, "10", 0, 1000000, 0,
     "failures that block an address", 0, 0},
    {"smtpd_auth_user_failure_limit", CFG_INT, &authlimit_conf.user_limit, "30", 0, 1000000, 0,
     "failures that block a user", 0, 0},
    {"smtpd_auth_failure_decay", CFG_TIME, &authlimit_conf.decay_ms, "10m", 1000, 86400000, 0,
     "half-life of the failure scores", 0, 0},
    {"smtpd_auth_recheck", CFG_TIME, &smtpd_conf.auth_recheck, "1s", 0, 3600000, 0,
     "MAIL re-checks an older credential check", 0, 0},
    {"smtpd_auth_session_failures", CFG_INT, &smtpd_conf.auth_session_failures, "3", 1, 100, 0,
     "AUTH failures before closing", 0, 0},
    {"smtpd_confirm_timeout", CFG_TIME, &smtpd_conf.confirm_timeout, "10s", 100, 600000, 0,
     "broker confirm wait", 0, 0},
    {"smtpd_shutdown_grace", CFG_TIME, &smtpd_conf.shutdown_grace, "30s", 0, 600000, 0,
     "SIGTERM: time for messages in progress", 0, 0},
    {0},
};

/* policy_init - smtpd_policy and what the inbound policy needs (fatal when bad) */
static void policy_init(void)
{
    if (strcmp(smtpd_conf.policy_name, "submission") == 0) {
        smtpd_conf.policy = SMTPD_SUBMISSION;
        return;
    }
    if (strcmp(smtpd_conf.policy_name, "inbound") != 0)
        msg_fatal("smtpd_policy: \"%s\" is neither submission nor inbound", smtpd_conf.policy_name);
    smtpd_conf.policy = SMTPD_INBOUND;
    msg_init("smtpd-inbound"); /* log lines, metrics file and program label */
    if (!*smtpd_conf.inbound_queue || strlen(smtpd_conf.inbound_queue) >= 128)
        msg_fatal("smtpd_inbound_queue: a queue name is needed");
    if (!*txconf.master_key)
        msg_fatal("smtpd_policy = inbound: master_key_file is needed to verify VERP addresses");
    if (verp_set_key_from_master(txconf.master_key) < 0)
        msg_fatal("master_key_file: not 64 hex digits");
}

int main(int argc, char **argv)
{
    char err[200];

    txconf_init(argc, argv, "smtpd", smtpd_params, NULL, NULL);
    policy_init();
    authlimit_conf.kdf_max = smtpd_conf.auth_threads; /* the pool's slow queue waits for a slot */
    if (slip_stages_check("smtpd_stages", smtpd_conf.stages, err, sizeof(err)) < 0)
        msg_fatal("%s", err);
    smtpd_server_listeners();
    if (!smtpd_tls_init()) {
        for (int i = 0; i < smtpd_nlisteners; i++)
            if (smtpd_listeners[i].implicit_tls)
                msg_fatal("smtpd_tls_listen needs smtpd_tls_cert_file and smtpd_tls_key_file");
        msg_warn("no TLS certificate: STARTTLS is not offered");
    }
    if (*txconf.master_key && crypto_set_master_key(txconf.master_key) < 0)
        msg_fatal("master_key_file: not 64 hex digits");
    if (!crypto_have_master_key() && smtpd_conf.policy == SMTPD_SUBMISSION)
        msg_warn("no master_key_file: jobs with a notification password are answered 451");
    smtpd_queue_pool_start();
    if (smtpd_conf.policy == SMTPD_INBOUND)
        msg_info("started: policy inbound, %d loops, %lld pool threads, queue %s",
                 (int)smtpd_conf.loops, smtpd_conf.threads, smtpd_conf.inbound_queue);
    else
        msg_info("started: %d loops, %lld pool threads, stages %s", (int)smtpd_conf.loops,
                 smtpd_conf.threads, smtpd_conf.stages);
    smtpd_server_run();
    smtpd_queue_pool_stop();
    metrics_remove();
    msg_info("stopped");
    return 0;
}
