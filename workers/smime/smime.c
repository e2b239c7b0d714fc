/*
 * NAME
 *   txmail-smime - S/MIME message signing (contract §16.5)
 * SYNOPSIS
 *   txmail-smime [-c config] [-o name=value]... [-n] [-v]
 * DESCRIPTION
 *   The stage between render and deliver for jobs with Message Signing
 *   active (job.options.messageSigning.active, SMTP header
 *   X-RETARUS-M4A-MESSAGE-SIGNING-ACTIVE). Consumes the `type:"message"`
 *   envelopes (docs/ENVELOPES.md): one address, raw = the built message
 *   (CRLF, DKIM-signed by render).
 *
 *   The signer is the certificate stored for the sender address (the From
 *   header's: data.mimeFrom, else data.from; lowercase bare) of the
 *   envelope's account (table smime_cert, "txmailctl smime add"), cached
 *   for smime_cert_cache_ttl. The message becomes a detached
 *   multipart/signed (protocol="application/pkcs7-signature";
 *   micalg=sha-256) made with OpenSSL CMS (lib/global/smime/smime.h): the
 *   first part is the original entity (its Content-* fields and body, byte
 *   for byte), the second the SignedData with the signer certificate, the
 *   chain and SMIMECapabilities. Every other header field stays.
 *
 *   DKIM is last: the DKIM-Signature fields render added no longer match
 *   the new body and Content-Type, so they are removed and the message is
 *   signed again with the sender domain's keys of the same algorithms
 *   (lib/global/dkim; keys read from the sender_domain row, decrypted and
 *   parsed once per stored key). A message render sent unsigned (no
 *   usable key under dkim_policy deliver) stays without DKIM.
 *
 *   8bit content is refused, not re-encoded (smime.h): render writes
 *   7bit; only raw SMTP submissions can carry 8bit.
 *
 *   Outcomes: signed and forwarded to the next stage of the slip; no
 *   certificate for the sender, or an expired or not yet valid one:
 *   PROCESS/FINISHED/DROPPED/PROCESSING_FAILED "no signing certificate for
 *   <address>" (the reason in parentheses when one is stored but not
 *   usable); the message cannot be signed (8bit, malformed, CMS failure):
 *   the same event, "message signing failed: <reason>". The database out
 *   of reach: RETRY. Message signing explicitly off in data.options:
 *   forwarded unchanged. The same input gives the same recipient id, so a
 *   redelivery after kill -9 is sent once (deliver's record).
 * CONSUMES
 *   txmail.work, queue smime: `type:"message"` envelopes.
 * PUBLISHES
 *   txmail.work: the signed message to slip[0] (deliver);
 *   txmail.events: PROCESS/FINISHED/DROPPED/PROCESSING_FAILED.
 * WRITES
 *   nothing (reads smime_cert, sender_domain).
 *
 * PARAMETERS (and the skeleton's smime_queue (smime), smime_concurrency
 *   (4), smime_prefetch, smime_retry_schedule (10s,1m,5m,15m,1h),
 *   smime_max_age (2d), smime_max_attempts, smime_confirm_timeout;
 *   shared: db_*, broker_*, master_key_file (required))
 *   smime_cert_cache_ttl (60s)        how long a certificate (or its
 *                                     absence) is cached
 *   smime_domain_cache_ttl (60s)      how long a sender-domain record is
 *                                     cached (its DKIM keys: per stored key)
 *   smime_message_size_limit (40m)    largest signed message
 * METRICS (metrics_dir, besides the skeleton's)
 *   txmail_smime_messages_total{outcome=signed|no_certificate|failed|
 *   not_requested}.
 */
#include "workers/smime/smime.h"
#include "global/crypto.h"
#include "global/txconf.h"
#include "util/msg.h"

#include <stddef.h>

struct smime_conf smime_conf;

static struct cfg_param smime_params[] = {
    {"smime_cert_cache_ttl", CFG_TIME, &smime_conf.cert_ttl_ms, "60s", 0, 86400000, 0,
     "how long a signing certificate (or its absence) is cached", 0, 0},
    {"smime_domain_cache_ttl", CFG_TIME, &smime_conf.domain_ttl_ms, "60s", 0, 86400000, 0,
     "how long a sender-domain record is cached", 0, 0},
    {"smime_message_size_limit", CFG_SIZE, &smime_conf.max_size, "40m", 4096, 1LL << 31, 0,
     "largest signed message", 0, 0},
    {0},
};

static int init(void)
{
    if (!*txconf.master_key)
        msg_fatal("master_key_file is not configured: the signing and DKIM keys need it");
    if (crypto_set_master_key(txconf.master_key) < 0)
        msg_fatal("master_key_file must hold 64 hex digits");
    return smime_store_init();
}

static void shutdown_hook(void)
{
    smime_store_done();
}

int main(int argc, char **argv)
{
    static struct worker w = {
        .name = "smime",
        .queue = "smime",
        .params = smime_params,
        .default_concurrency = 4,
        .default_schedule = "10s,1m,5m,15m,1h",
        .default_max_age = "2d",
        .init = init,
        .handle = smime_job_handle,
        .expired = smime_job_expired,
        .shutdown = shutdown_hook,
    };

    return worker_main(argc, argv, &w);
}
