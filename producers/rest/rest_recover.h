/*
 * rest_recover - POST /email/v2/messages/{recipientId}/recover (contract
 * §16.2, txmail addition): rest_recover.c answers the request,
 * rest_recover_job.c builds and makes durable the new job.
 */
#ifndef REST_RECOVER_H
#define REST_RECOVER_H

#include "producers/rest/rest.h"

#include <jansson.h>

/* what the new job is made of */
struct recover_req {
    const char *orig_rid, *orig_job;
    int64_t orig_received_ms;
    json_t *envelope; /* the kept copy's envelope (borrowed) */
    const char *raw;  /* the kept message (borrowed) */
    size_t rawlen;
    const char *email; /* the new address as given */
    const char *addr;  /* bare */
    int utf8;
    const char *drop_subtype;     /* dropped at intake (suppressed, forbidden), or NULL */
    char *drop_description;       /* owned */
    const char *sup_type, *lower; /* a suppression drop: its entry */
};

/*
 * rest_recover_job_publish - build the new job r->job_id for q, publish it
 * to the first stage of its slip, write its acceptance record (parent:
 * the original job) and give the answer (*answer, new). TX_OK or a
 * RETRY/FATAL code.
 */
enum tx_code rest_recover_job_publish(struct rest_req *r, struct rest_conn *c,
                                      const struct recover_req *q, char **answer);

#endif
