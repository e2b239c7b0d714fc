/*
 * bounce_reply - a human reply, or mail to a rewrite or role address that
 * is not a report (contract §16.7: "replies are virus-scanned and
 * forwarded to the account's reply-forwarding address").
 *
 *   1. the message it answers: the VERP recipient id, else the Message-ID
 *      the parser found (In-Reply-To / References) within the account;
 *      a VERP recipient id of another account drops the reply
 *   2. the virus scan of the raw message and every decoded MIME part
 *      (bounce_virus.c); an engine failure is a RETRY, never an unscanned
 *      forward
 *   3. infected: deleted; REPLY/VIRUS_DETECTED for the message when there
 *      is one, and a notice (forward, why "notice") to the account's
 *      adminEmail when it is set
 *   4. clean: forwarded (why "reply") to the account's replyForward, else
 *      the original sender of the rewrite address (envelope_rewrite
 *      from_addr), else the message's sender (message.mail_from); with
 *      none of them the reply is dropped. The envelope sender is
 *      bounce_forward_sender at the domain the reply came to (or <>), the
 *      To:/Cc: addresses of ours show the original sender again
 *      (bounce_rewrite.c).
 *
 * A message that carries our trace field (X-Txmail-Forwarded-For) is a
 * forward of ours that came back: dropped, so a forwarding address that
 * leads to txmail again cannot loop.
 */
#include "workers/bounce/bounce.h"
#include "global/addr.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>

/* rewrite_origin - the from_addr of the first rewrite address the reply came to */
static enum tx_code rewrite_origin(struct db *db, const struct inbound *in, char *out, size_t outsz)
{
    out[0] = 0;
    for (int i = 0; i < in->nrcpt; i++)
        if (strcmp(in->rcpt[i].kind, "rewrite") == 0)
            return bounce_target_rewrite(db, in->account, in->rcpt[i].address, out, outsz);
    return TX_OK;
}

/* infected - the reply is deleted: the event and the administrator's notice */
static void infected(struct job *job, const struct inbound *in, const struct target *t,
                     const char *sig, const char *corr, const char *admin)
{
    if (t)
        bounce_act_virus(job, in, t, sig, corr);
    if (admin[0]) {
        size_t len;
        char *raw = bounce_fwd_notice(in, t, sig, corr, admin, &len);
        bounce_fwd_send(job, in, t, "notice", admin, raw, len);
        xfree(raw);
    }
    bounce_job_log(in, t ? t->rid : in->verp_rid, "reply", "infected",
                   "%s in a reply from %s: deleted, notice to %s", sig, corr,
                   admin[0] ? admin : "nobody (no adminEmail)");
}

/* forward - the clean reply, rewritten, to dest */
static void forward(struct job *job, const struct inbound *in, const struct target *t,
                    const char *dest, const char *orig, const char *corr)
{
    const char *ours[BOUNCE_MAX_RCPT + 1];
    int n = 0;
    size_t len;

    for (int i = 0; i < in->nrcpt; i++)
        if (strcmp(in->rcpt[i].kind, "role") != 0)
            ours[n++] = in->rcpt[i].address;
    ours[n] = NULL;
    char *raw = bounce_rewrite_reply(in->raw, in->raw_len, ours, orig, t ? t->rid : in->id, &len);
    bounce_fwd_send(job, in, t, "reply", dest, raw, len);
    xfree(raw);
    bounce_job_log(in, t ? t->rid : in->verp_rid, "reply", "forwarded",
                   "a reply from %s forwarded to %s", corr, dest);
}

enum tx_code bounce_reply_handle(struct job *job, struct db *db, const struct inbound *in,
                                 const struct bounce_report *r)
{
    char sig[256], err[256], fwd[320], admin[320], origin[320], dest[320], corr[400];
    struct target t;
    enum target_found f;
    enum tx_code rc;

    snprintf(corr, sizeof(corr), "%s", r->from[0] ? r->from : in->mail_from);
    if (bounce_rewrite_has_field(in->raw, in->raw_len, "X-Txmail-Forwarded-For")) {
        /* a forward of ours came back (a forwarding address that leads here) */
        bounce_job_log(in, in->verp_rid, "reply", "dropped",
                       "a reply from %s that txmail forwarded already: a loop, dropped", corr);
        return TX_OK;
    }
    if ((rc = bounce_target_find(db, in, r->orig_message_id, "", &t, &f)) != TX_OK)
        return rc;
    if (f == TARGET_FOREIGN) {
        bounce_job_log(in, in->verp_rid, "reply", "dropped",
                       "foreign or unknown recipient id: dropped (a reply from %s)", corr);
        return TX_OK;
    }
    const struct target *tp = f == TARGET_FOUND ? &t : NULL;
    if ((rc = bounce_target_settings(db, in->account, fwd, sizeof(fwd), admin, sizeof(admin))) !=
            TX_OK ||
        (rc = rewrite_origin(db, in, origin, sizeof(origin))) != TX_OK)
        return rc;
    if ((rc = bounce_virus_scan(in->raw, in->raw_len, sig, sizeof(sig), err, sizeof(err))) !=
        TX_OK) {
        worker_job_reason(job, "virus scan unavailable: %s", err);
        return rc;
    }
    if (sig[0]) {
        infected(job, in, tp, sig, corr, admin);
        return TX_OK;
    }
    snprintf(dest, sizeof(dest), "%s", fwd[0] ? fwd : origin);
    if (dest[0] == 0 && tp)
        bounce_target_bare(tp->mail_from, dest, sizeof(dest));
    if (dest[0] == 0) {
        bounce_job_log(in, tp ? tp->rid : in->verp_rid, "reply", "dropped",
                       "a reply from %s: no reply-forwarding address (replyForward): dropped",
                       corr);
        return TX_OK;
    }
    forward(job, in, tp, dest, tp ? tp->mail_from : origin, corr);
    return TX_OK;
}
