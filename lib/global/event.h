/*
 * event - the state-change events of one recipient id (contract §11.6),
 * published to txmail.events with routing key "<type>.<subType>".
 *
 * On the broker an event is one compact JSON object:
 *
 *   {"v":1,"tag":"<64 hex>","account":7,"job":"<uuid>","rid":"<rid>",
 *    "received":<job acceptance ms>,"phase":"DELIVER","state":"FINISHED",
 *    "type":"DELIVERED","subType":"OK","ts":"2025-...Z","ts_ms":...,
 *    "description":"...","mail":{"email":..,"from":..,"mimeFrom":..,
 *    "rewriteFrom":..,"reference":..},"content":{...},"smtpCode":"250",
 *    "size":48213,"x":{...internal...}}
 *
 * "tag" follows §11.5: SHA-256 over rid, phase, state, type, subType and
 * the event key, so a re-created event has the same identity.
 * The intake record (key "intake.job") has type INTAKE and is never
 * posted as a notification.
 */
#ifndef TX_EVENT_H
#define TX_EVENT_H

#include "global/txcode.h"

#include <jansson.h>
#include <stdint.h>

struct tx_event {
    const char *rid;
    const char *job_id;
    long long account_id;
    int64_t received_ms;
    const char *phase, *state, *type, *subtype;
    int64_t ts_ms;         /* 0: now */
    const char *event_key; /* NULL: "1" */
    const char *description;
    const char *email, *from, *mime_from, *rewrite_from, *reference;
    const char *message_id; /* with angle brackets */
    const char *smtp_code;
    long long size;  /* -1: unknown */
    json_t *content; /* borrowed: extra members of "content" */
    json_t *extra;   /* borrowed: internal members ("x") */
};

/* event_init - zero an event, size unknown */
void event_init(struct tx_event *ev);
/* event_tag - contract §11.5 tag into out (65 bytes) */
char *event_tag(char *out, const char *rid, const char *phase, const char *state, const char *type,
                const char *subtype, const char *key);
/* event_json - the broker form. Ownership: new reference. */
json_t *event_json(const struct tx_event *ev);
/* event_routing_key - "<type>.<subType>" into out */
char *event_routing_key(char *out, size_t outsz, const struct tx_event *ev);
/*
 * event_notification - the element of notifications[] (contract §11.4)
 * for an event in broker form: {"meta":{"tag","mail":{...},"event":{...}},
 * "content":{...}} (content only when non-empty). NULL for records that
 * are never posted (INTAKE, internal types). Ownership: new reference.
 */
json_t *event_notification(json_t *event);
/* event_is_notifiable - type/phase belongs to the contract's catalogue (§11.6) */
int event_is_notifiable(const char *phase, const char *type);
/* event_is_final - FINISHED state (contract §10.1) */
int event_is_final(const char *state);

#endif
