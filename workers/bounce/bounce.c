/*
 * NAME
 *   txmail-bounce - acts on what comes back to the bounce domains:
 *   delivery reports, feedback-loop complaints, auto-replies and replies
 * SYNOPSIS
 *   txmail-bounce [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   Consumes the `type:"inbound"` envelopes that txmail-smtpd
 *   (smtpd_policy=inbound) publishes for mail to VERP, rewrite and role
 *   addresses (docs/ENVELOPES.md "inbound"), parses each message with
 *   bounce_parse() (lib/global/bounce/bounce.h) and acts by its kind
 *   (contract §16.7, §13.1, §11.6, §11.7; issue 14):
 *
 *   Which message: the recipient id of the VERP address (its tag was
 *   verified by the listener), else the Message-ID of the returned or
 *   reported message looked up in `message` within the envelope's account,
 *   else that Message-ID with the report's recipient (SMTP jobs share one
 *   Message-ID). A recipient id whose message belongs to another account
 *   than the envelope's, or that has no message row, is logged ("foreign
 *   or unknown recipient id: dropped") and nothing changes anywhere.
 *
 *   Delivery reports (RFC 3464 and the providers' own formats): every
 *   record with action failed, or of a failure format without action,
 *   becomes a BOUNCED event of its message, at most one per message and
 *   inbound message. A message that is not final yet (no final event
 *   recorded, no delivery_record) ends with DELIVER/FINISHED/BOUNCED/
 *   HARD_BOUNCE; a final one (usually DELIVERED) gets POST_PROCESS/
 *   POST_DELIVERY/BOUNCED/HARD_BOUNCE or SOFT_BOUNCE by the
 *   classification's hard flag (txmail addition). Description
 *   "[5.1.1] bounced (host mx.example.com said: 550 5.1.1 ...)";
 *   content.bounce {reason, hardBounce, status, replyCode, diagnostic,
 *   format} (txmail addition); the address is suppressed through the
 *   event's x.suppress with the class of lib/global/manage/suppclass.h
 *   (the exclude list is the shared suppress_exclude, the same for
 *   txmail-deliver). Records
 *   with action delayed, delivered, relayed or expanded are ignored
 *   (logged).
 *
 *   Feedback reports (ARF, RFC 5965, and the providers' complaint
 *   formats): POST_PROCESS/POST_DELIVERY/FEEDBACK_LOOP/COMPLAINT with
 *   content.mime.messageId and content.feedbackLoop.mailDeliveryTs (the
 *   message's delivery time, else the report's Arrival-Date); the address
 *   gets an UNSUBSCRIBED suppression entry without end, reason "complaint
 *   (<feedback type>) via feedback loop": the recipient asked for no more
 *   mail, and like a one-click unsubscribe only the operator (a MANUAL
 *   PUT) lifts it. The report is forwarded by mail (attached as
 *   message/rfc822 to a short cover) to the account's replyForward, else
 *   to the message's own sender (message.mail_from). Decision, deviating
 *   from §16.7's "Reply-To": the Reply-To written in the report's
 *   returned headers is chosen by whoever wrote the report, so it is
 *   never used as a destination. Then the report is gone (nothing of it
 *   is stored).
 *
 *   Auto-replies (RFC 3834, vacation, out of office): not bounces; no
 *   event, no suppression, a log line and a count.
 *
 *   Replies (and mail to a rewrite or role address that is not a
 *   report): virus-scanned, the raw message and every decoded MIME part
 *   (lib/global/scan, ClamAV in-process). Clean: forwarded to the
 *   account's replyForward, else the rewrite address's original sender
 *   (envelope_rewrite.from_addr), else the message's sender; with
 *   inbound address rewriting: envelope sender
 *   bounce_forward_sender@<the domain the reply came to> (or <>),
 *   envelope recipient the forwarding address, From:/Reply-To: kept, our
 *   VERP and rewrite addresses in To:/Cc: replaced by the original sender,
 *   and "X-Txmail-Forwarded-For: <recipient id>" first. DKIM and DMARC:
 *   a correspondent's DKIM signature that covers To or Cc no longer
 *   verifies, and the forward leaves from txmail's address under the
 *   correspondent's From domain, so SPF is not aligned either: a
 *   correspondent domain with DMARC p=reject or p=quarantine may have the
 *   forward refused or filed as spam at the customer's inbox, which
 *   should accept txmail's forwarding host (or read replies through a
 *   mailbox txmail delivers to without DMARC enforcement). Infected:
 *   deleted, POST_PROCESS/POST_DELIVERY/REPLY/VIRUS_DETECTED (txmail
 *   addition, description "INFECTED: <signature> (reply from <sender>
 *   deleted)") for the message when there is one, and a notice mail to
 *   the account's adminEmail naming the correspondent, the signature and
 *   the recipient id. A scan engine failure is a RETRY: a reply is never
 *   forwarded unscanned (past bounce_max_age the inbound message goes to
 *   the dead letters, txmail.dead, as every input whose retries ran out). Neither scanned clean nor infected, a reply
 *   without any forwarding address is dropped (logged).
 *
 *   Forwards are `type:"forward"` envelopes to txmail-deliver, which sends
 *   each once (data.id = "fw" + 32 hex of SHA-256 of the inbound id, why
 *   and recipient). Events use the inbound message's arrival as ts and
 *   keys from its identity (32 hex of SHA-256 of its own Message-ID, else
 *   of the inbound id; ".<record index>" added for bounces; the ts for
 *   complaints, contract §11.5): a redelivered inbound message raises the
 *   same events (same tags), the same forwards (same ids) and the same
 *   suppression writes, so nothing doubles; a DSN that a remote MTA sends
 *   twice is one event too.
 *
 *   One log line per outcome, keyed by the inbound id and recipient id:
 *     8e6c...: rid=<rid>, kind=dsn, from=<>, peer=192.0.2.1,
 *       status=bounced (after delivery, hard userunknown, to=<a@b>, [5.1.1] bounced (...))
 *     8e6c...: rid=-, kind=dsn, from=<>, peer=192.0.2.1,
 *       status=dropped (foreign or unknown recipient id: dropped)
 * CONSUMES
 *   bounce_queue (bounce, bound to txmail.work): type "inbound" envelopes.
 * PUBLISHES
 *   txmail.events: BOUNCED, FEEDBACK_LOOP/COMPLAINT, REPLY/VIRUS_DETECTED.
 *   txmail.work, key deliver: type "forward" envelopes.
 * WRITES
 *   nothing directly (the recorder writes the events' rows and
 *   suppression entries). Reads message, delivery_record, account
 *   (settings replyForward, adminEmail), envelope_rewrite.
 *
 * PARAMETERS (and the skeleton's bounce_queue (bounce), bounce_concurrency
 *   (4), bounce_prefetch, bounce_retry_schedule (1m,5m,15m,1h),
 *   bounce_max_age (2d), bounce_max_attempts, bounce_confirm_timeout;
 *   shared: db_*, broker_*)
 *   bounce_forward_sender (postmaster)  local part of the envelope sender of
 *                                       forwards at the domain the inbound
 *                                       message came to; "" = null sender
 *   bounce_scan_signatures (/var/lib/clamav)  ClamAV signature directory
 *                                       (.cvd, .cld, .hdb, .ndb, ...)
 *   bounce_scan_check_interval (60s)    how often it is looked at for new
 *                                       files (swapped in without a restart)
 * METRICS (metrics_dir, besides the skeleton's)
 *   txmail_bounce_inbound_total{kind=dsn|feedback|autoreply|reply|unknown|malformed}
 *   txmail_bounce_outcome_total{status=bounced|complaint|ignored|forwarded|
 *     infected|dropped|deferred}
 */
#include "workers/bounce/bounce.h"
#include "util/msg.h"

#include <gmime/gmime.h>
#include <string.h>

struct bounce_conf bounce_conf;

static struct cfg_param bounce_params[] = {
    {"bounce_forward_sender", CFG_STR, &bounce_conf.forward_sender, "postmaster", 0, 0, 0,
     "local part of the envelope sender of forwards; empty: null sender", 0, 0},
    {"bounce_scan_signatures", CFG_STR, &bounce_conf.scan_signatures, "/var/lib/clamav", 0, 0, 0,
     "ClamAV signature directory", 0, 0},
    {"bounce_scan_check_interval", CFG_TIME, &bounce_conf.scan_check_ms, "60s", 0, 86400000, 0,
     "how often the signature directory is looked at for changes", 0, 0},
    {0},
};

static int init(void)
{
    const char *s = bounce_conf.forward_sender;

    if (s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_+")] != 0 ||
        strlen(s) > 64)
        msg_fatal("bounce_forward_sender: expected a local part of letters, digits, . - _ +");
    g_mime_init();
    bounce_classify_init();
    if (bounce_virus_init() < 0)
        msg_fatal("the virus scan engine cannot start");
    return 0;
}

static void shutdown_hook(void)
{
    bounce_virus_done();
}

int main(int argc, char **argv)
{
    static struct worker w = {
        .name = "bounce",
        .queue = "bounce",
        .params = bounce_params,
        .default_concurrency = 4,
        .default_schedule = "1m,5m,15m,1h",
        .default_max_age = "2d",
        .init = init,
        .handle = bounce_job_handle,
        .shutdown = shutdown_hook,
    };

    return worker_main(argc, argv, &w);
}
