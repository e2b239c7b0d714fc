/*
 * bounce_act - the events txmail-bounce publishes (contract §11.6, §16.7,
 * and the txmail additions of issue 14):
 *
 *   a failed record, message not final yet   DELIVER/FINISHED/BOUNCED/HARD_BOUNCE
 *                                             (eventKey 1: the final event)
 *   a failed record, message final            POST_PROCESS/POST_DELIVERY/BOUNCED/
 *                                             HARD_BOUNCE | SOFT_BOUNCE
 *   a feedback report                         POST_PROCESS/POST_DELIVERY/FEEDBACK_LOOP/
 *                                             COMPLAINT (eventKey = its ts, §11.5)
 *   an infected reply                         POST_PROCESS/POST_DELIVERY/REPLY/
 *                                             VIRUS_DETECTED
 *
 * Every event's ts is the inbound message's arrival (the envelope's
 * created). The keys that are not "1" derive from the inbound message's
 * identity (bounce_act_identity): 32 hex digits of SHA-256 of its own
 * Message-ID, else of the inbound id, then ".<record index>" for a
 * bounce. A redelivered inbound message, and the same report sent again
 * by a remote MTA (a second inbound message with the same Message-ID),
 * raise the same events with the same tags; two different reports about
 * one message are two events. A complaint's key is its ts (§11.5). The bounce events carry content.bounce (reason,
 * hardBounce, status, replyCode, diagnostic, format) and ask the recorder
 * for the suppression entry (x.suppress) of lib/global/manage/suppclass.h;
 * a complaint asks for an UNSUBSCRIBED entry without end.
 */
#include "workers/bounce/bounce.h"
#include "global/txconf.h"
#include "global/crypto.h"
#include "global/event.h"
#include "global/manage/suppclass.h"
#include "util/codec.h"
#include "util/timeutil.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>

/* base - what every event of the target carries */
static void base(struct tx_event *ev, const struct inbound *in, const struct target *t)
{
    event_init(ev);
    ev->rid = t->rid;
    ev->job_id = t->job_id;
    ev->account_id = t->account;
    ev->received_ms = t->received_ms;
    ev->ts_ms = in->received_ms;
    ev->email = t->email;
    ev->from = t->mail_from;
    ev->mime_from = t->mime_from;
    ev->rewrite_from = t->rewrite_from;
    ev->reference = t->reference;
    ev->message_id = t->message_id;
    ev->phase = "POST_PROCESS";
    ev->state = "POST_DELIVERY";
}

/* key - "<identity>[.<index>]" (fits event.event_key, 40) */
static char *key(char *out, size_t outsz, const struct inbound *in, int index)
{
    if (index >= 0)
        snprintf(out, outsz, "%s.%d", in->identity, index % 1000000);
    else
        snprintf(out, outsz, "%s", in->identity);
    return out;
}

void bounce_act_identity(struct inbound *in, const char *message_id)
{
    unsigned char md[32];
    size_t n = 0;

    if (message_id && *message_id) {
        crypto_sha256(md, message_id, strlen(message_id));
        codec_hex_encode(in->identity, md, 16);
        return;
    }
    for (const char *p = in->id; *p && n < 32; p++)
        if (*p != '-')
            in->identity[n++] = *p;
    in->identity[n] = 0;
}

void bounce_act_clean(char *s)
{
    size_t len = strlen(s), n;

    for (size_t i = 0; i < len; i += n) {
        unsigned char c = (unsigned char)s[i];
        /* the shortest valid code point at i, if any */
        for (n = 1; n <= 4 && i + n <= len && !codec_utf8_valid(s + i, n); n++)
            ;
        if (c < 0x20 || c == 0x7f || n > 4 || i + n > len) {
            s[i] = c < 0x20 ? ' ' : '?';
            n = 1;
        }
    }
}

char *bounce_act_describe(char *out, size_t outsz, const struct bounce_rec *rec)
{
    const char *status = rec->status[0] ? rec->status : rec->hard == 0 ? "4.0.0" : "5.0.0";
    const char *text = rec->diagnostic[0] ? rec->diagnostic
                       : rec->reason[0]   ? rec->reason
                                          : "no diagnostic";

    /* the host name only: Remote-MTA may carry a comment after it */
    int hlen = (int)strcspn(rec->rhost, " \t(");

    if (hlen > 0)
        snprintf(out, outsz, "[%s] bounced (host %.*s said: %s)", status, hlen, rec->rhost, text);
    else
        snprintf(out, outsz, "[%s] bounced (%s)", status, text);
    return out;
}

/* content_bounce - {"bounce": {...}}, the classification (txmail addition) */
static json_t *content_bounce(const struct bounce_rec *rec, const char *mta)
{
    json_t *b = json_object();

    json_object_set_new(b, "reason", json_string(rec->reason[0] ? rec->reason : "undefined"));
    json_object_set_new(b, "hardBounce", json_boolean(rec->hard == 1));
    json_object_set_new(b, "status", rec->status[0] ? json_string(rec->status) : json_null());
    json_object_set_new(b, "replyCode",
                        rec->replycode ? json_integer(rec->replycode) : json_null());
    json_object_set_new(b, "diagnostic",
                        rec->diagnostic[0] ? json_string(rec->diagnostic) : json_null());
    json_object_set_new(b, "format", json_string(mta && *mta ? mta : "unknown"));
    return json_pack("{s:o}", "bounce", b);
}

void bounce_act_bounced(struct job *job, const struct inbound *in, const struct target *t,
                        const struct bounce_rec *rec, int index, const char *mta)
{
    struct tx_event ev;
    struct suppclass cls;
    char desc[1600], k[64], code[8];
    int hard = rec->hard == 1;
    json_t *content = content_bounce(rec, mta), *x = NULL;

    base(&ev, in, t);
    ev.type = "BOUNCED";
    if (!t->final) {
        /* contract §16.7: a failure notification ends an address not yet final */
        ev.phase = "DELIVER", ev.state = "FINISHED", ev.subtype = "HARD_BOUNCE";
        hard = 1;
    } else {
        ev.subtype = hard ? "HARD_BOUNCE" : "SOFT_BOUNCE";
        ev.event_key = key(k, sizeof(k), in, index);
    }
    ev.description = bounce_act_describe(desc, sizeof(desc), rec);
    ev.content = content;
    if (rec->replycode >= 200 && rec->replycode <= 599) {
        snprintf(code, sizeof(code), "%03d", rec->replycode);
        ev.smtp_code = code;
    }
    if (suppclass_decide(rec->status, rec->diagnostic, hard ? SUPPCLASS_PERMANENT : 0,
                         txconf.suppress_exclude, &cls))
        x = suppclass_extra(t->addr, &cls, desc);
    ev.extra = x;
    worker_job_event(job, &ev);
    json_decref(x);
    json_decref(content);
}

/* date_ms - an RFC 5322 date as ms; 0 when it does not parse */
static int64_t date_ms(const char *s)
{
    GDateTime *d;
    int64_t ms = 0;

    if (s == NULL || *s == 0 || (d = g_mime_utils_header_decode_date(s)) == NULL)
        return 0;
    ms = (int64_t)g_date_time_to_unix(d) * 1000;
    g_date_time_unref(d);
    return ms > 0 ? ms : 0;
}

void bounce_act_complaint(struct job *job, const struct inbound *in, const struct target *t,
                          const struct bounce_report *r, const char *feedbacktype)
{
    struct tx_event ev;
    char desc[128], k[32], ts[32];
    int64_t delivered = t->delivered_ms ? t->delivered_ms : date_ms(r->arrival_date);
    json_t *content = json_object(), *x;

    base(&ev, in, t);
    ev.type = "FEEDBACK_LOOP", ev.subtype = "COMPLAINT";
    /* contract §11.5: the eventKey of FEEDBACK_LOOP is its ts as written */
    ev.event_key = timeutil_iso8601(k, sizeof(k), in->received_ms);
    snprintf(desc, sizeof(desc), "complaint (%s) via feedback loop",
             feedbacktype && *feedbacktype ? feedbacktype : "abuse");
    ev.description = desc;
    if (delivered)
        json_object_set_new(
            content, "feedbackLoop",
            json_pack("{s:s}", "mailDeliveryTs", timeutil_iso8601(ts, sizeof(ts), delivered)));
    ev.content = content;
    x = json_pack("{s:{s:s,s:s,s:n,s:s}}", "suppress", "address", t->addr, "type", "UNSUBSCRIBED",
                  "lifetime_s", "reason", desc);
    ev.extra = x;
    worker_job_event(job, &ev);
    json_decref(x);
    json_decref(content);
}

void bounce_act_virus(struct job *job, const struct inbound *in, const struct target *t,
                      const char *signature, const char *correspondent)
{
    struct tx_event ev;
    char desc[700], k[64];

    base(&ev, in, t);
    ev.type = "REPLY", ev.subtype = "VIRUS_DETECTED";
    ev.event_key = key(k, sizeof(k), in, -1);
    snprintf(desc, sizeof(desc), "INFECTED: %s (reply from %s deleted)", signature,
             correspondent && *correspondent ? correspondent : "an unknown sender");
    ev.description = desc;
    worker_job_event(job, &ev);
}
