/*
 * bounce_fwd - the forward envelopes of txmail-bounce (docs/ENVELOPES.md
 * "forward": type "forward" on queue deliver, sent exactly once by
 * txmail-deliver, keyed by data.id) and the two messages txmail writes
 * itself: the cover of a forwarded feedback report and the notice of an
 * infected reply.
 *
 * data.id is "fw" + the first 32 hex digits of SHA-256(inbound id "\n"
 * why "\n" rcpt): a redelivered inbound message asks for the same
 * forward, and txmail-deliver sends it once. The envelope's created is
 * the inbound message's arrival, so the forward's retries age from
 * there (not from the original job). Messages written here are
 * Auto-Submitted: auto-generated (RFC 3834), so an auto-responder at the
 * other end does not answer them.
 */
#include "workers/bounce/bounce.h"
#include "global/crypto.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>

#define FWD_MAX_COVER (64 << 10)

char *bounce_fwd_id(char *out, size_t outsz, const char *inbound_id, const char *why,
                    const char *rcpt)
{
    unsigned char md[32];
    char hex[65];
    char *text = xasprintf("%s\n%s\n%s", inbound_id, why, rcpt);

    crypto_sha256(md, text, strlen(text));
    xfree(text);
    codec_hex_encode(hex, md, 16);
    snprintf(out, outsz, "fw%s", hex);
    return out;
}

char *bounce_fwd_sender(char *out, size_t outsz, const struct inbound *in)
{
    if (bounce_conf.forward_sender[0] && in->domain[0])
        snprintf(out, outsz, "%s@%s", bounce_conf.forward_sender, in->domain);
    else
        out[0] = 0;
    return out;
}

void bounce_fwd_send(struct job *job, const struct inbound *in, const struct target *t,
                     const char *why, const char *rcpt, const char *raw, size_t len)
{
    struct envelope e;
    char id[40], sender[400];

    envelope_init(&e, "forward");
    snprintf(e.job_id, sizeof(e.job_id), "%s", t ? t->job_id : in->id);
    snprintf(e.rid, sizeof(e.rid), "%s", t ? t->rid : "");
    e.account_id = in->account;
    e.created_ms = in->received_ms;
    envelope_push_stage(&e, "deliver");
    bounce_fwd_id(id, sizeof(id), in->id, why, rcpt);
    bounce_fwd_sender(sender, sizeof(sender), in);
    json_object_set_new(e.data, "id", json_string(id));
    json_object_set_new(e.data, "why", json_string(why));
    json_object_set_new(e.data, "mailFrom", json_string(sender));
    json_object_set_new(e.data, "rcpt", json_string(rcpt));
    envelope_set_raw(&e, raw, len);
    worker_job_forward(job, &e);
}

/* head - the header block of a message txmail writes */
static void head(struct buf *b, const struct inbound *in, const char *why, const char *rcpt,
                 const char *subject, const char *ctype)
{
    char id[40];
    GDateTime *d = g_date_time_new_from_unix_utc(in->received_ms / 1000);
    char *date = g_mime_utils_header_format_date(d);

    g_date_time_unref(d);
    bounce_fwd_id(id, sizeof(id), in->id, why, rcpt);
    buf_printf(b, "From: txmail <%s@%s>\r\n", "postmaster", in->domain[0] ? in->domain : "invalid");
    buf_printf(b, "To: <%s>\r\n", rcpt);
    buf_printf(b, "Subject: %s\r\n", subject);
    buf_printf(b, "Date: %s\r\n", date);
    buf_printf(b, "Message-ID: <%s@%s>\r\n", id, in->domain[0] ? in->domain : "invalid");
    buf_printf(b, "Auto-Submitted: auto-generated\r\n");
    buf_printf(b, "X-Txmail-Inbound-Id: %s\r\n", in->id);
    buf_printf(b, "MIME-Version: 1.0\r\n");
    buf_printf(b, "Content-Type: %s\r\n", ctype);
    g_free(date);
}

/* eightbit - raw has an octet above 127 */
static int eightbit(const char *raw, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)raw[i] & 0x80)
            return 1;
    return 0;
}

/* line - one "Label: value" line of a cover text, value made printable */
static void line(struct buf *b, const char *label, const char *value)
{
    char clean[1200];

    snprintf(clean, sizeof(clean), "%s", value && *value ? value : "-");
    bounce_act_clean(clean);
    buf_printf(b, "%-22s %s\r\n", label, clean);
}

char *bounce_fwd_complaint(const struct inbound *in, const struct target *t,
                           const struct bounce_report *r, const char *rcpt, size_t *len)
{
    struct buf b;
    char boundary[48], subject[200];
    const char *ft = r->nrecs > 0 && r->recs[0].feedbacktype[0] ? r->recs[0].feedbacktype : "abuse";
    size_t rawlen = in->raw_len;

    buf_init(&b, rawlen + FWD_MAX_COVER);
    snprintf(boundary, sizeof(boundary), "=_txmail_%.32s", in->id);
    snprintf(subject, sizeof(subject), "Complaint (%s) about message %s", ft, t->rid);
    bounce_act_clean(subject);
    char *ctype = xasprintf("multipart/mixed; boundary=\"%s\"", boundary);
    head(&b, in, "complaint", rcpt, subject, ctype);
    xfree(ctype);
    buf_printf(&b,
               "\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Content-Transfer-Encoding: 8bit\r\n\r\n",
               boundary);
    buf_puts(&b, "A mailbox provider reported a message sent through txmail as unwanted\r\n"
                 "(feedback loop, RFC 5965). The recipient's address is now on the\r\n"
                 "suppression list. The report is attached as it was received.\r\n\r\n");
    line(&b, "Recipient id:", t->rid);
    line(&b, "Recipient:", t->email);
    line(&b, "Sender:", t->mail_from);
    line(&b, "Message-ID:", t->message_id);
    line(&b, "Feedback type:", ft);
    line(&b, "Reported by:", r->from);
    line(&b, "User agent:", r->user_agent);
    line(&b, "Source IP:", r->source_ip);
    line(&b, "Arrival date:", r->arrival_date);
    buf_printf(&b,
               "\r\n--%s\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; "
               "filename=\"feedback-report.eml\"\r\nContent-Transfer-Encoding: %s\r\n\r\n",
               boundary, eightbit(in->raw, rawlen) ? "8bit" : "7bit");
    buf_append(&b, in->raw, rawlen);
    if (rawlen < 2 || memcmp(in->raw + rawlen - 2, "\r\n", 2) != 0)
        buf_puts(&b, "\r\n");
    buf_printf(&b, "\r\n--%s--\r\n", boundary);
    if (buf_error(&b))
        msg_panic("bounce_fwd_complaint: cover over its maximum");
    return buf_steal(&b, len);
}

char *bounce_fwd_notice(const struct inbound *in, const struct target *t, const char *signature,
                        const char *correspondent, const char *rcpt, size_t *len)
{
    struct buf b;
    char subject[200], when[32];

    buf_init(&b, FWD_MAX_COVER);
    snprintf(subject, sizeof(subject), "Infected reply deleted (%s)", signature);
    bounce_act_clean(subject);
    head(&b, in, "notice", rcpt, subject, "text/plain; charset=utf-8");
    buf_puts(&b, "Content-Transfer-Encoding: 8bit\r\n\r\n"
                 "txmail received a reply that carries malware. It was deleted and not\r\n"
                 "forwarded.\r\n\r\n");
    line(&b, "Correspondent:", correspondent);
    line(&b, "Signature:", signature);
    line(&b, "Recipient id:", t ? t->rid : "");
    line(&b, "Original recipient:", t ? t->email : "");
    line(&b, "Sent to:", in->nrcpt > 0 ? in->rcpt[0].address : "");
    line(&b, "Connecting host:", in->peer);
    line(&b, "Received:", timeutil_iso8601(when, sizeof(when), in->received_ms));
    line(&b, "Inbound id:", in->id);
    if (buf_error(&b))
        msg_panic("bounce_fwd_notice: notice over its maximum");
    return buf_steal(&b, len);
}
