/* eventfill - validate and complete events; see eventfill.h. */
#include "global/eventfill.h"
#include "global/event.h"
#include "global/ids.h"
#include "util/jsonget.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

/* word_ok - an enum-like member: 1..max of A-Z, 0-9, '_' */
static int word_ok(json_t *v, size_t max)
{
    const char *s = json_string_value(v);
    size_t n;

    if (s == NULL || (n = json_string_length(v)) == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

int eventfill_check(json_t *ev, char *err, size_t errsz)
{
    static const struct {
        const char *k;
        size_t max;
    } words[] = {
        {"phase", 16},
        {"state", 16},
        {"type", 24},
        {"subType", 32},
    };
    const char *rid = json_string_value(json_object_get(ev, "rid"));
    const char *ts = json_string_value(json_object_get(ev, "ts"));
    json_t *key = json_object_get(ev, "eventKey");
    json_t *tag = json_object_get(ev, "tag");
    struct uuid u;
    uint32_t b, a;
    int64_t ms;

    if (!json_is_object(ev)) {
        snprintf(err, errsz, "not a JSON object");
        return -1;
    }
    if (rid == NULL || ids_rid_parse(rid, &u, &b, &a) < 0) {
        snprintf(err, errsz, "missing or malformed rid");
        return -1;
    }
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (!word_ok(json_object_get(ev, words[i].k), words[i].max)) {
            snprintf(err, errsz, "missing or malformed %s", words[i].k);
            return -1;
        }
    if (ts == NULL || timeutil_parse_iso8601(ts, &ms) < 0) {
        snprintf(err, errsz, "missing or malformed ts");
        return -1;
    }
    if (key != NULL &&
        (!json_is_string(key) || json_string_length(key) == 0 || json_string_length(key) > 40)) {
        snprintf(err, errsz, "malformed eventKey");
        return -1;
    }
    if (key == NULL)
        json_object_set_new(ev, "eventKey", json_string("1"));
    if (tag != NULL) {
        const char *t = json_string_value(tag);
        int ok = t && json_string_length(tag) == 64;
        for (size_t i = 0; ok && i < 64; i++)
            ok = (t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f');
        if (!ok) {
            snprintf(err, errsz, "malformed tag");
            return -1;
        }
    } else {
        char hx[65];
        event_tag(hx, rid, json_string_value(json_object_get(ev, "phase")),
                  json_string_value(json_object_get(ev, "state")),
                  json_string_value(json_object_get(ev, "type")),
                  json_string_value(json_object_get(ev, "subType")),
                  json_string_value(json_object_get(ev, "eventKey")));
        json_object_set_new(ev, "tag", json_string(hx));
    }
    if (jsonget_str_nonempty(ev, "job") == NULL) {
        char jid[UUID_STR_LEN + 1];
        memcpy(jid, rid, UUID_STR_LEN);
        jid[UUID_STR_LEN] = 0;
        json_object_set_new(ev, "job", json_string(jid));
    } else if (strncmp(json_string_value(json_object_get(ev, "job")), rid, UUID_STR_LEN) != 0 ||
               json_string_length(json_object_get(ev, "job")) != UUID_STR_LEN) {
        snprintf(err, errsz, "job does not match rid");
        return -1;
    }
    if (!json_is_integer(json_object_get(ev, "ts_ms")))
        json_object_set_new(ev, "ts_ms", json_integer(ms));
    if (json_object_get(ev, "account") && !json_is_integer(json_object_get(ev, "account"))) {
        snprintf(err, errsz, "malformed account");
        return -1;
    }
    if (json_object_get(ev, "received") && !json_is_integer(json_object_get(ev, "received"))) {
        snprintf(err, errsz, "malformed received");
        return -1;
    }
    if (json_object_get(ev, "mail") && !json_is_object(json_object_get(ev, "mail"))) {
        snprintf(err, errsz, "malformed mail");
        return -1;
    }
    if (json_object_get(ev, "content") && !json_is_object(json_object_get(ev, "content"))) {
        snprintf(err, errsz, "malformed content");
        return -1;
    }
    return 0;
}

int eventfill_needed(json_t *ev)
{
    json_t *mail = json_object_get(ev, "mail");

    return json_integer_value(json_object_get(ev, "account")) <= 0 ||
           json_integer_value(json_object_get(ev, "received")) <= 0 ||
           jsonget_str_nonempty(mail, "email") == NULL ||
           jsonget_str_nonempty(mail, "from") == NULL;
}

static void fill_str(json_t *o, const char *k, const char *v)
{
    if (v && *v && jsonget_str_nonempty(o, k) == NULL)
        json_object_set_new(o, k, json_string(v));
}

enum tx_code eventfill_from_message(struct db *db, json_t *ev)
{
    struct db_res *r = NULL;
    const char *rid = json_string_value(json_object_get(ev, "rid"));
    json_t *mail, *content, *mime;
    enum tx_code rc;

    rc = db_query(db, &r,
                  "SELECT account_id, ROUND(UNIX_TIMESTAMP(received_at) * 1000), email, "
                  "mail_from, mime_from, rewrite_from, reference, message_id, addr "
                  "FROM message WHERE rid = ? ORDER BY rday DESC LIMIT 1",
                  "s", rid);
    if (rc != TX_OK)
        return rc;
    if (db_res_rows(r) == 0) {
        db_res_free(r);
        return TX_RETRY_NOT_READY;
    }
    if (json_integer_value(json_object_get(ev, "account")) <= 0)
        json_object_set_new(ev, "account", json_integer(db_res_int(r, 0, 0, 0)));
    if (json_integer_value(json_object_get(ev, "received")) <= 0)
        json_object_set_new(ev, "received", json_integer(db_res_int(r, 0, 1, 0)));
    mail = json_object_get(ev, "mail");
    if (!json_is_object(mail)) {
        mail = json_object();
        json_object_set_new(ev, "mail", mail);
    }
    fill_str(mail, "email", db_res_get(r, 0, 2));
    fill_str(mail, "from", db_res_get(r, 0, 3));
    fill_str(mail, "mimeFrom", db_res_get(r, 0, 4));
    fill_str(mail, "rewriteFrom", db_res_get(r, 0, 5));
    fill_str(mail, "reference", db_res_get(r, 0, 6));
    if (db_res_get(r, 0, 7) && *db_res_get(r, 0, 7)) {
        content = json_object_get(ev, "content");
        if (!json_is_object(content)) {
            content = json_object();
            json_object_set_new(ev, "content", content);
        }
        mime = json_object_get(content, "mime");
        if (!json_is_object(mime)) {
            mime = json_object();
            json_object_set_new(content, "mime", mime);
        }
        fill_str(mime, "messageId", db_res_get(r, 0, 7));
    }
    /* x.suppress of a tracking host's UNSUBSCRIBED: the address is the row's */
    json_t *supp = json_object_get(json_object_get(ev, "x"), "suppress");
    if (json_is_object(supp))
        fill_str(supp, "address", db_res_get(r, 0, 8));
    db_res_free(r);
    return TX_OK;
}
