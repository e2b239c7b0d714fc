/* event - recipient events; see event.h. */
#include "global/event.h"
#include "util/codec.h"
#include "util/timeutil.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

void event_init(struct tx_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->size = -1;
}

char *event_tag(char *out, const char *rid, const char *phase, const char *state, const char *type,
                const char *subtype, const char *key)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const char *parts[] = {rid, phase, state, type, subtype, key ? key : "1"};

    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (int i = 0; i < 6; i++) {
        if (i)
            EVP_DigestUpdate(ctx, "\n", 1);
        EVP_DigestUpdate(ctx, parts[i] ? parts[i] : "", parts[i] ? strlen(parts[i]) : 0);
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    return codec_hex_encode(out, md, 32);
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v && *v)
        json_object_set_new(o, k, json_string(v));
}

json_t *event_json(const struct tx_event *ev)
{
    json_t *o = json_object(), *mail = json_object(), *content;
    char tag[65], ts[32];
    int64_t ts_ms = ev->ts_ms ? ev->ts_ms : timeutil_now_ms();

    event_tag(tag, ev->rid, ev->phase, ev->state, ev->type, ev->subtype, ev->event_key);
    timeutil_iso8601(ts, sizeof(ts), ts_ms);
    json_object_set_new(o, "v", json_integer(1));
    json_object_set_new(o, "tag", json_string(tag));
    json_object_set_new(o, "account", json_integer(ev->account_id));
    set_str(o, "job", ev->job_id);
    set_str(o, "rid", ev->rid);
    json_object_set_new(o, "received", json_integer(ev->received_ms));
    set_str(o, "phase", ev->phase);
    set_str(o, "state", ev->state);
    set_str(o, "type", ev->type);
    set_str(o, "subType", ev->subtype);
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "ts_ms", json_integer(ts_ms));
    set_str(o, "eventKey", ev->event_key ? ev->event_key : "1");
    set_str(o, "description", ev->description);
    set_str(mail, "email", ev->email);
    set_str(mail, "from", ev->from);
    set_str(mail, "mimeFrom", ev->mime_from);
    set_str(mail, "rewriteFrom", ev->rewrite_from);
    set_str(mail, "reference", ev->reference);
    json_object_set_new(o, "mail", mail);
    content = ev->content ? json_deep_copy(ev->content) : json_object();
    if (ev->message_id && *ev->message_id) {
        json_t *mime = json_object_get(content, "mime");
        if (!json_is_object(mime)) {
            mime = json_object();
            json_object_set_new(content, "mime", mime);
        }
        json_object_set_new(mime, "messageId", json_string(ev->message_id));
    }
    json_object_set_new(o, "content", content);
    set_str(o, "smtpCode", ev->smtp_code);
    if (ev->size >= 0)
        json_object_set_new(o, "size", json_integer(ev->size));
    if (ev->extra)
        json_object_set(o, "x", ev->extra);
    return o;
}

char *event_routing_key(char *out, size_t outsz, const struct tx_event *ev)
{
    snprintf(out, outsz, "%s.%s", ev->type ? ev->type : "UNKNOWN",
             ev->subtype ? ev->subtype : "NONE");
    return out;
}

int event_is_final(const char *state)
{
    return state && strcmp(state, "FINISHED") == 0;
}

int event_is_notifiable(const char *phase, const char *type)
{
    static const char *const phases[] = {"PRE_PROCESS",  "PROCESS", "DELIVER",
                                         "POST_PROCESS", "RESEND",  NULL};
    int ok = 0;

    if (phase == NULL || type == NULL)
        return 0;
    for (int i = 0; phases[i]; i++)
        if (strcmp(phase, phases[i]) == 0)
            ok = 1;
    return ok && strcmp(type, "INTAKE") != 0;
}

static void copy_str(json_t *dst, const char *dkey, json_t *src, const char *skey)
{
    json_t *v = json_object_get(src, skey);

    if (json_is_string(v) && json_string_length(v) > 0)
        json_object_set(dst, dkey, v);
}

json_t *event_notification(json_t *ev)
{
    json_t *n, *meta, *mail, *event, *src_mail, *content;

    if (!event_is_notifiable(json_string_value(json_object_get(ev, "phase")),
                             json_string_value(json_object_get(ev, "type"))))
        return NULL;
    n = json_object();
    meta = json_object();
    mail = json_object();
    event = json_object();
    copy_str(meta, "tag", ev, "tag");
    copy_str(mail, "id", ev, "rid");
    src_mail = json_object_get(ev, "mail");
    copy_str(mail, "email", src_mail, "email");
    copy_str(mail, "from", src_mail, "from");
    copy_str(mail, "mimeFrom", src_mail, "mimeFrom");
    copy_str(mail, "rewriteFrom", src_mail, "rewriteFrom");
    copy_str(mail, "reference", src_mail, "reference");
    json_object_set_new(meta, "mail", mail);
    copy_str(event, "phase", ev, "phase");
    copy_str(event, "state", ev, "state");
    copy_str(event, "type", ev, "type");
    copy_str(event, "subType", ev, "subType");
    copy_str(event, "ts", ev, "ts");
    copy_str(event, "description", ev, "description");
    json_object_set_new(meta, "event", event);
    json_object_set_new(n, "meta", meta);
    content = json_object_get(ev, "content");
    if (json_is_object(content) && json_object_size(content) > 0)
        json_object_set(n, "content", content);
    return n;
}
