/*
 * recorder_parse - decode one delivery from events.recorder: an intake
 * record (docs/ENVELOPES.md) or an event (lib/global/event.h). The JSON
 * is hostile: everything the transaction relies on is checked here, so a
 * bad delivery goes to the dead letters instead of failing a batch.
 */
#include "recorder.h"
#include "global/event.h"
#include "global/eventfill.h"
#include "global/ids.h"

#include <stdio.h>
#include <string.h>

#define RECORDER_MAX_BODY (16 << 20)
#define RECORDER_MAX_RECIPIENTS 100000
#define MS_MIN 946684800000LL  /* 2000-01-01 */
#define MS_MAX 7258118400000LL /* 2200-01-01 */

static int ms_ok(json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= MS_MIN && json_integer_value(v) < MS_MAX;
}

static int str_or_null(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return v == NULL || json_is_null(v) || json_is_string(v);
}

static int check_intake(json_t *doc, char *err, size_t errsz)
{
    const char *job = json_string_value(json_object_get(doc, "job"));
    const char *entry = json_string_value(json_object_get(doc, "entry"));
    json_t *rcpts = json_object_get(doc, "recipients"), *r;
    struct uuid u;
    size_t i;

    if (job == NULL || ids_uuid_parse(&u, job) < 0) {
        snprintf(err, errsz, "intake: missing or malformed job");
        return -1;
    }
    if (json_integer_value(json_object_get(doc, "account")) <= 0) {
        snprintf(err, errsz, "intake: missing account");
        return -1;
    }
    if (!ms_ok(json_object_get(doc, "received"))) {
        snprintf(err, errsz, "intake: missing or malformed received");
        return -1;
    }
    if (entry == NULL || strlen(entry) > 4) {
        snprintf(err, errsz, "intake: missing or malformed entry");
        return -1;
    }
    if (!json_is_string(json_object_get(doc, "mailFrom")) || !str_or_null(doc, "mimeFrom")) {
        snprintf(err, errsz, "intake: missing or malformed mailFrom");
        return -1;
    }
    if (!json_is_array(rcpts) || json_array_size(rcpts) > RECORDER_MAX_RECIPIENTS) {
        snprintf(err, errsz, "intake: missing or oversized recipients");
        return -1;
    }
    json_array_foreach (rcpts, i, r) {
        const char *rid = json_string_value(json_object_get(r, "rid"));
        const char *kind = json_string_value(json_object_get(r, "kind"));
        uint32_t b, a;

        if (rid == NULL || ids_rid_parse(rid, &u, &b, &a) < 0 || strncmp(rid, job, 36) != 0) {
            snprintf(err, errsz, "intake: recipient %zu: malformed rid", i);
            return -1;
        }
        if (kind && strcmp(kind, "to") && strcmp(kind, "cc") && strcmp(kind, "bcc")) {
            snprintf(err, errsz, "intake: recipient %zu: malformed kind", i);
            return -1;
        }
        if (!json_is_string(json_object_get(r, "email")) || !str_or_null(r, "addr") ||
            !str_or_null(r, "reference")) {
            snprintf(err, errsz, "intake: recipient %zu: malformed email", i);
            return -1;
        }
    }
    return 0;
}

static int check_x(json_t *ev, char *err, size_t errsz)
{
    json_t *x = json_object_get(ev, "x"), *s, *t;

    if (x == NULL)
        return 0;
    if (!json_is_object(x)) {
        snprintf(err, errsz, "malformed x");
        return -1;
    }
    if ((s = json_object_get(x, "suppress")) != NULL) {
        json_t *life = json_object_get(s, "lifetime_s");
        if (!json_is_object(s) || !json_is_string(json_object_get(s, "address")) ||
            recorder_state_supp_rank(json_string_value(json_object_get(s, "type"))) == 0 ||
            !(life == NULL || json_is_null(life) ||
              (json_is_integer(life) && json_integer_value(life) >= 0 &&
               json_integer_value(life) <= 100LL * 366 * 86400)) ||
            !str_or_null(s, "reason")) {
            snprintf(err, errsz, "malformed x.suppress");
            return -1;
        }
    }
    if ((t = json_object_get(x, "suppressTouch")) != NULL &&
        (!json_is_object(t) || !json_is_string(json_object_get(t, "address")))) {
        snprintf(err, errsz, "malformed x.suppressTouch");
        return -1;
    }
    return 0;
}

int recorder_parse(struct rec_item *it, char *err, size_t errsz)
{
    json_error_t jerr;
    const char *type;

    if (it->dlv.len > RECORDER_MAX_BODY) {
        snprintf(err, errsz, "oversized message (%zu bytes)", it->dlv.len);
        return -1;
    }
    it->doc = json_loadb(it->dlv.body, it->dlv.len, JSON_REJECT_DUPLICATES, &jerr);
    if (it->doc == NULL || !json_is_object(it->doc)) {
        snprintf(err, errsz, "not a JSON object: %s", it->doc ? "" : jerr.text);
        return -1;
    }
    if (json_integer_value(json_object_get(it->doc, "v")) != 1 &&
        json_object_get(it->doc, "v") != NULL) {
        snprintf(err, errsz, "unknown version");
        return -1;
    }
    type = json_string_value(json_object_get(it->doc, "type"));
    if (type && strcmp(type, "INTAKE") == 0) {
        it->kind = REC_INTAKE;
        return check_intake(it->doc, err, errsz);
    }
    /* only the contract's events are recorded (§11.6); anything else on
     * txmail.events (test events of other programs) is not ours */
    if (!event_is_notifiable(json_string_value(json_object_get(it->doc, "phase")), type)) {
        it->kind = REC_IGNORE;
        return 0;
    }
    it->kind = REC_EVENT;
    if (eventfill_check(it->doc, err, errsz) < 0 || check_x(it->doc, err, errsz) < 0)
        return -1;
    if (!ms_ok(json_object_get(it->doc, "ts_ms"))) {
        snprintf(err, errsz, "ts out of range");
        return -1;
    }
    if (json_object_get(it->doc, "received") &&
        json_integer_value(json_object_get(it->doc, "received")) &&
        !ms_ok(json_object_get(it->doc, "received"))) {
        snprintf(err, errsz, "received out of range");
        return -1;
    }
    return 0;
}
