/*
 * NAME
 *   txmail-spamcheck - the spam score check of built messages through
 *   SpamAssassin's spamd (contract §16.4)
 * SYNOPSIS
 *   txmail-spamcheck [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   Consumes the `type:"message"` envelopes render publishes, one per
 *   address (docs/ENVELOPES.md "type: message"), when the job's slip has
 *   the spamcheck stage (job.options.spamCheck.active, or for SMTP jobs
 *   the account default settings.defaults.spamCheck). The options come
 *   from data.options.spamCheck {active, mode, threshold}: mode
 *   `score-only` (default) or `block-above`, threshold a number (default
 *   5.0).
 *
 *   Each message is sent to spamd with the REPORT command of the SPAMC/1.5
 *   protocol (lib/global/spamc: one TCP connection per message, the
 *   spamds of spamcheck_spamd taken in turn, the next one when a spamd
 *   does not answer, every step under a deadline,
 *   spamd's answer parsed by a strict bounded parser). A message longer
 *   than spamcheck_max_size is scored on its first bytes up to the last
 *   line end within that size (decision: spam shows in the headers and
 *   the text parts, which come first; SpamAssassin itself scans only the
 *   first part of large bodies; the event's description says so).
 *
 *   Every address gets POST_PROCESS/POST_DELIVERY/SPAM_SCORE_CHECK/
 *   INFORMATION with content.spamscore {score, threshold, rules: [{name,
 *   score, description}]} (spamd's score and rule scores have one
 *   decimal; threshold is the job's) and content.mime.messageId,
 *   description "score 2.7 (threshold 5.0)". With `block-above` a score
 *   strictly greater than the threshold ends the address with
 *   PROCESS/FINISHED/DROPPED/SPAM_DETECTED ("spam score 1000.0 above the
 *   threshold 5.0") and the message goes no further; otherwise the
 *   message goes on to the next stage of its slip unchanged.
 *
 *   spamd unavailable (refused, timed out, an answer that does not
 *   parse, spamd's own error): the message is delivered all the same
 *   (never held for the check); the event has no score, an empty rules
 *   list and the description "spam check unavailable".
 *
 *   The contract scores "the built message of each block": the score of
 *   a block (job id and block index of the recipient id) is kept in the
 *   process (spamcheck_cache_size blocks, spamcheck_cache_ttl) and
 *   answers for the block's other addresses, whose messages differ only
 *   in the address fields and ids (log cached=yes). Another process, or
 *   an address after the entry went, asks spamd again: the same message
 *   scores the same.
 *
 *   Event keys are "1": a redelivered message raises events with the same
 *   tags (contract §11.5), so the recorder and notify keep one of each.
 *
 *   One log line per message:
 *     <rid>: to=<a@b>, size=4711, sent=4711, score=1.1, threshold=5.0,
 *       mode=score-only, rules=5, delay=0.071, status=scored
 *     <rid>: ..., status=dropped                (block-above, over)
 *     <rid>: to=<a@b>, ..., status=unavailable (127.0.0.1:783: connect: Connection refused)
 * CONSUMES
 *   spamcheck_queue (spamcheck, bound to txmail.work): type "message".
 * PUBLISHES
 *   txmail.work: the message to its next stage (slip).
 *   txmail.events: SPAM_SCORE_CHECK/INFORMATION, DROPPED/SPAM_DETECTED.
 * WRITES
 *   nothing (the recorder writes the events' rows).
 *
 * PARAMETERS (and the skeleton's spamcheck_queue (spamcheck),
 *   spamcheck_concurrency (4), spamcheck_prefetch,
 *   spamcheck_retry_schedule, spamcheck_max_age (2d),
 *   spamcheck_max_attempts, spamcheck_confirm_timeout; shared: db_*,
 *   broker_*)
 *   spamcheck_spamd (127.0.0.1:783)   spamd addresses, host:port[,...]:
 *                                     each message starts at the next
 *                                     one (round robin), then fails over
 *   spamcheck_connect_timeout (2s)    one connection attempt
 *   spamcheck_timeout (30s)           the whole exchange with one spamd
 *   spamcheck_max_size (512k)         bytes of a message sent to spamd
 *   spamcheck_cache_size (256)        blocks whose score is kept for their
 *                                     other addresses (0: every address
 *                                     is scored)
 *   spamcheck_cache_ttl (10m)         how long a block's score is kept
 * METRICS (metrics_dir, besides the skeleton's)
 *   txmail_spamcheck_total{status=scored|dropped|unavailable|skipped}
 */
#include "workers/spamcheck/spamcheck.h"

struct spamcheck_conf spamcheck_conf;

static struct cfg_param spamcheck_params[] = {
    {"spamcheck_spamd", CFG_STR, &spamcheck_conf.spamd, "127.0.0.1:783", 0, 0, 0,
     "spamd addresses, host:port[,host:port]...: round robin, then failover", 0, 0},
    {"spamcheck_connect_timeout", CFG_TIME, &spamcheck_conf.connect_ms, "2s", 1, 600000, 0,
     "one connection attempt to spamd", 0, 0},
    {"spamcheck_timeout", CFG_TIME, &spamcheck_conf.timeout_ms, "30s", 1, 600000, 0,
     "the whole exchange with one spamd", 0, 0},
    {"spamcheck_cache_size", CFG_INT, &spamcheck_conf.cache_size, "256", 0, 100000, 0,
     "blocks whose score is kept for their other addresses (0: none)", 0, 0},
    {"spamcheck_cache_ttl", CFG_TIME, &spamcheck_conf.cache_ttl_ms, "10m", 1000, 86400000, 0,
     "how long a block's score is kept", 0, 0},
    {"spamcheck_max_size", CFG_SIZE, &spamcheck_conf.max_size, "512k", 1024, 100 * 1024 * 1024, 0,
     "bytes of a message sent to spamd (a longer one is scored on its first bytes)", 0, 0},
    {0},
};

int main(int argc, char **argv)
{
    static struct worker w = {
        .name = "spamcheck",
        .queue = "spamcheck",
        .params = spamcheck_params,
        .default_concurrency = 4,
        .default_schedule = "10s,1m,5m",
        .default_max_age = "2d",
        .init = spamcheck_job_init,
        .handle = spamcheck_job_handle,
        .shutdown = spamcheck_job_done,
    };

    return worker_main(argc, argv, &w);
}
