/*
 * NAME
 *   txmail-track - open, click and unsubscribe tracking endpoint
 * SYNOPSIS
 *   txmail-track [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   The public HTTP(S) endpoint of contract §15, reached through the
 *   installation's tracking host or a customer's CNAME (per-host
 *   certificates by SNI):
 *
 *   GET /t/o/<token>.gif   200, transparent 1x1 GIF, Cache-Control
 *                          no-store, no-cache, must-revalidate, private;
 *                          event POST_PROCESS/POST_DELIVERY/OPENED/OK.
 *                          Expired: 410 (the same GIF), no event.
 *   GET /t/c/<token>       302 Location: <original URL>, Cache-Control
 *                          no-store; event CLICKED with the URL. Expired:
 *                          302 without event (track_expired_click_status
 *                          = 410: 410 instead).
 *   GET /t/u/<token>       an HTML page whose button POSTs the one-click
 *                          body; never unsubscribes by itself.
 *   POST /t/u/<token>      body List-Unsubscribe=One-Click (form-encoded
 *                          or multipart, RFC 8058): 200 once the event
 *                          UNSUBSCRIBED (eventKey 1, x.suppress type
 *                          UNSUBSCRIBED without end) is confirmed by the
 *                          broker; 503 + Retry-After when it is not;
 *                          another body: 400, no event. Expired: 410.
 *   HEAD                   as GET, without an event.
 *   GET /health            200 {"status","broker","queued"}, from
 *                          track_health_allow only (others: 404)
 *   GET /metrics           Prometheus text, from track_metrics_allow only
 *
 *   Floods make no more events than people do: the first open of a
 *   message and the first click of each link (by a person, and by an
 *   automated client) are always recorded; repeats within
 *   track_dedup_window are not, and beyond that each token and each client
 *   address has a rate (track_flood.c). The answer (pixel, redirect) is
 *   the same either way. Unsubscribes are never limited.
 *
 *   A token that is not genuine (tag, key id, kind for the path, any
 *   non-canonical encoding, percent-encoded characters, or issued for
 *   another tracking host than the request's Host header) answers 404,
 *   never a redirect. Tokens carry everything (contract §15.5): no
 *   database is read or written on the request path.
 *
 *   Events are published to txmail.events (routing key <type>.OK) by a
 *   publisher thread with confirms, batched across requests (see
 *   track_events.c for what an answer waits for). They carry rid, job,
 *   ts, eventKey and content.tracking {url, userAgent, ip (IPv4 /24,
 *   IPv6 /48), ts, automated}; account, received, mail.* and
 *   content.mime.messageId are left for the consumers to complete from
 *   the message row (docs/ENVELOPES.md, "Tracking events").
 *
 *   Logs one line per request: "<rid>: kind=, ip=, automated=, status=N
 *   (outcome)".
 * CONSUMES
 *   nothing from the broker.
 * PUBLISHES
 *   txmail.events: the tracking events (docs/ENVELOPES.md, "Tracking
 *   events"), packed per routing key (track_events.c).
 * WRITES
 *   no table (the recorder stores the events).
 * PARAMETERS
 *   track_listen (0.0.0.0:443)            address:port or [v6]:port
 *   track_tls (yes)                       no: plain HTTP (loopback, or
 *                                         behind a TLS-terminating proxy)
 *   track_tls_cert_file ()                PEM chain of the default host
 *   track_tls_key_file ()                 its PEM key (secret file)
 *   track_tls_cert_dir ()                 <host>.crt/<host>.key per
 *                                         customer tracking host (SNI)
 *   track_threads (0)                     HTTP threads, 0: one per CPU
 *   track_connection_limit (10000)        concurrent connections
 *   track_read_timeout (15s)              idle connection timeout
 *   track_header_timeout (10s)            the whole request header (TLS
 *                                         handshake included; on a kept-
 *                                         alive connection from the end of
 *                                         the previous answer) must arrive
 *                                         within this, else the connection
 *                                         is closed unanswered
 *   track_max_connections_per_client (256) open connections per client
 *                                         address (IPv4 address, IPv6 /64);
 *                                         more are refused at once;
 *                                         track_trusted_proxies are exempt;
 *                                         0: no cap
 *   track_tls_priorities (NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2)
 *                                         GnuTLS priorities: TLS 1.2 or newer
 *   track_expired_click_status (302)      302 or 410
 *   track_automated_agents (list)         User-Agent substrings and
 *                                         networks of link scanners and
 *                                         prefetch proxies; an empty
 *                                         User-Agent counts as automated
 *   track_trusted_proxies ()              networks whose X-Forwarded-For
 *                                         is believed
 *   track_metrics_allow (127.0.0.0/8,::1) who may read /metrics
 *   track_health_allow (127.0.0.0/8,::1)  who may read /health (the peer
 *                                         address: a load balancer's
 *                                         network, not X-Forwarded-For)
 *   track_event_queue (100000)            events held while the broker
 *                                         is slow or away
 *   track_event_batch (5000)              events per confirm round trip
 *   track_events_per_message (100)        events of one type packed into
 *                                         one broker message (a JSON
 *                                         array; 1: one event each)
 *   track_unsubscribe_timeout (5s)        wait for an unsubscribe's confirm
 *   track_confirm_timeout (10s)           wait for a batch's confirms
 *   track_stop_timeout (10s)              SIGTERM: time to publish what
 *                                         is queued
 *   track_dedup_window (60s)              hits of one token (one link) by
 *                                         the same kind of client (automated
 *                                         or not) within this of the last
 *                                         recorded event make no event; 0: off
 *   track_token_events (20)               events per token per hour (as many
 *                                         at once)
 *   track_client_events (300)             events per client address (IPv4
 *                                         address, IPv6 /64) per minute
 *   track_flood_entries (65536)           tokens remembered for the above
 *                                         (fixed memory, ~64 bytes each;
 *                                         client addresses: a quarter)
 *   track_log_requests (yes)              one log line per request
 *   and the shared parameters of txconf.h (broker, tracking_keys_file,
 *   metrics_dir).
 * METRICS
 *   txmail_track_requests_total{outcome}, txmail_track_events_total{outcome},
 *   txmail_track_events_queued, txmail_track_broker_connected.
 */
#include "global/metrics.h"
#include "global/txconf.h"
#include "producers/track/track.h"
#include "producers/track/track_tls.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_AGENTS                                                                             \
    "bot, crawler, spider, preview, scanner, Barracuda, Mimecast, Proofpoint, ppops-, "            \
    "MessageLabs, Symantec, Trend Micro, TrendMicro, Forcepoint, Sophos, FireEye, "                \
    "IronPort, SafeLinks, Microsoft Office, ms-office, Google-Safety, Google-Read-Aloud, "         \
    "Slackbot, facebookexternalhit, WhatsApp, SkypeUriPreview, curl/, Wget/, "                     \
    "python-requests, python-urllib, aiohttp, Go-http-client, Java/, okhttp, "                     \
    "Apache-HttpClient, libwww-perl, HeadlessChrome, PhantomJS"

struct track_conf track_conf;
struct track_keys *track_keys;

static struct cfg_param track_params[] = {
    {"track_listen", CFG_STR, &track_conf.listen, "0.0.0.0:443", 0, 0, 0, "listen address:port", 0,
     0},
    {"track_tls", CFG_BOOL, &track_conf.tls, "yes", 0, 0, 0, "serve HTTPS (no: plain HTTP)", 0, 0},
    {"track_tls_cert_file", CFG_STR, &track_conf.tls_cert_file, "", 0, 0, 0,
     "PEM certificate chain", 0, 0},
    {"track_tls_key_file", CFG_STR, &track_conf.tls_key, "", 0, 0, CFG_SECRET_FILE, "PEM key", 0,
     0},
    {"track_tls_cert_dir", CFG_STR, &track_conf.cert_dir, "", 0, 0, 0,
     "per-host certificates (SNI)", 0, 0},
    {"track_threads", CFG_INT, &track_conf.threads, "0", 0, 256, 0, "HTTP threads (0: CPUs)", 0, 0},
    {"track_connection_limit", CFG_INT, &track_conf.connection_limit, "10000", 1, 1000000, 0,
     "concurrent connections", 0, 0},
    {"track_read_timeout", CFG_TIME, &track_conf.read_timeout_ms, "15s", 1000, 3600000, 0,
     "idle connection timeout", 0, 0},
    {"track_header_timeout", CFG_TIME, &track_conf.header_timeout_ms, "10s", 1000, 3600000, 0,
     "request header deadline", 0, 0},
    {"track_max_connections_per_client", CFG_INT, &track_conf.max_per_client, "256", 0, 1000000, 0,
     "connections per client address", 0, 0},
    {"track_tls_priorities", CFG_STR, &track_conf.tls_priorities,
     "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", 0, 0, 0, "GnuTLS priority string", 0, 0},
    {"track_expired_click_status", CFG_INT, &track_conf.expired_click_status, "302", 302, 410, 0,
     "302 or 410", 0, 0},
    {"track_automated_agents", CFG_STR, &track_conf.automated_agents, DEFAULT_AGENTS, 0, 0, 0,
     "link scanners and prefetch proxies", 0, 0},
    {"track_trusted_proxies", CFG_STR, &track_conf.trusted_proxies, "", 0, 0, 0,
     "proxies whose X-Forwarded-For counts", 0, 0},
    {"track_metrics_allow", CFG_STR, &track_conf.metrics_allow, "127.0.0.0/8,::1", 0, 0, 0,
     "who may read /metrics", 0, 0},
    {"track_health_allow", CFG_STR, &track_conf.health_allow, "127.0.0.0/8,::1", 0, 0, 0,
     "who may read /health", 0, 0},
    {"track_event_queue", CFG_INT, &track_conf.event_queue, "100000", 100, 10000000, 0,
     "events held for the broker", 0, 0},
    {"track_event_batch", CFG_INT, &track_conf.event_batch, "5000", 1, 10000, 0,
     "events per confirm", 0, 0},
    {"track_events_per_message", CFG_INT, &track_conf.events_per_message, "100", 1, 1000, 0,
     "events per broker message", 0, 0},
    {"track_unsubscribe_timeout", CFG_TIME, &track_conf.unsubscribe_timeout_ms, "5s", 100, 60000, 0,
     "unsubscribe confirm wait", 0, 0},
    {"track_confirm_timeout", CFG_TIME, &track_conf.confirm_timeout_ms, "10s", 100, 300000, 0,
     "batch confirm wait", 0, 0},
    {"track_stop_timeout", CFG_TIME, &track_conf.stop_timeout_ms, "10s", 0, 300000, 0,
     "SIGTERM flush time", 0, 0},
    {"track_dedup_window", CFG_TIME, &track_conf.dedup_window_ms, "60s", 0, 86400000, 0,
     "repeated hits of a token: one event", 0, 0},
    {"track_token_events", CFG_INT, &track_conf.token_events, "20", 1, 1000000, 0,
     "events per token per hour", 0, 0},
    {"track_client_events", CFG_INT, &track_conf.client_events, "300", 1, 100000000, 0,
     "events per client address per minute", 0, 0},
    {"track_flood_entries", CFG_INT, &track_conf.flood_entries, "65536", 64, 100000000, 0,
     "tokens remembered for dedup and limits", 0, 0},
    {"track_log_requests", CFG_BOOL, &track_conf.log_requests, "yes", 0, 0, 0,
     "one log line per request", 0, 0},
    {0},
};

int main(int argc, char **argv)
{
    char err[256];
    sigset_t set;
    int sig;

    txconf_init(argc, argv, "track", track_params, NULL, NULL);
    if (track_conf.expired_click_status != 302 && track_conf.expired_click_status != 410)
        msg_fatal("track_expired_click_status must be 302 or 410");
    if ((track_keys = tracktoken_keys_parse(txconf.tracking_keys, err, sizeof(err))) == NULL)
        msg_fatal("%s", err);
    if (track_conf.tls)
        track_tls_load(track_conf.tls_cert_file, track_conf.tls_key, track_conf.cert_dir);

    /* signals are taken by this thread only */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    track_events_start();
    track_http_start();
    msg_info("started (%d tracking keys)", tracktoken_keys_count(track_keys));
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            if (*txconf.log_file)
                msg_open_file(txconf.log_file);
            continue;
        }
        break;
    }
    msg_info("stopping");
    track_http_stop();
    track_events_stop();
    metrics_remove();
    tracktoken_keys_free(track_keys);
    msg_info("stopped");
    return 0;
}
