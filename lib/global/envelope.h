/*
 * envelope - the versioned message format on the broker.
 *
 * A broker message body is one line of compact JSON (the envelope), a
 * '\n', then raw_len bytes of raw payload (a MIME message, binary-safe):
 *
 *   {"v":1,"type":"job","job":"<uuid>","rid":"...","account":7,
 *    "slip":["render","deliver"],"attempt":0,"deferrals":0,
 *    "created":1747212950817,"due":0,"data":{...},"raw_len":1234}\n<raw>
 *
 * slip[0] is the stage the message is addressed to; a stage that is done
 * pops itself and publishes to the new slip[0]. attempt counts retries of
 * the current stage (reset when the job moves on); deferrals counts
 * DEFERRED events of a message (event keys, contract §11.5); created is
 * the job's acceptance time (maximum age); due, when set, is the earliest
 * time the stage may handle it (chained delay tiers).
 *
 * Unknown versions and malformed envelopes are refused (dead letters).
 */
#ifndef TX_ENVELOPE_H
#define TX_ENVELOPE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_VERSION 1
#define ENVELOPE_MAX_SLIP 16
#define ENVELOPE_STAGE_MAX 32

struct envelope {
    int version;
    char type[16];
    char job_id[40];
    char rid[64];
    long long account_id;
    char slip[ENVELOPE_MAX_SLIP][ENVELOPE_STAGE_MAX];
    int nslip;
    int attempt;
    int deferrals;
    int64_t created_ms;
    int64_t due_ms;
    json_t *data;    /* owned */
    const char *raw; /* borrowed (decode) or raw_owned */
    size_t raw_len;
    char *raw_owned;
};

/* envelope_init - empty envelope of the given type, version 1, data {} */
void envelope_init(struct envelope *e, const char *type);
/* envelope_free - release data and owned raw payload */
void envelope_free(struct envelope *e);
/* envelope_set_slip - copy stages (e.g. "render,deliver"); -1 when bad */
int envelope_set_slip_csv(struct envelope *e, const char *csv);
int envelope_push_stage(struct envelope *e, const char *stage);
/* envelope_pop - drop slip[0]; returns the next stage or NULL when done */
const char *envelope_pop(struct envelope *e);
const char *envelope_stage(const struct envelope *e);
/* envelope_set_raw - copy raw payload into the envelope. Ownership: copies. */
void envelope_set_raw(struct envelope *e, const void *raw, size_t len);
/* envelope_take_raw - adopt a malloc'd buffer. Ownership: steals raw. */
void envelope_take_raw(struct envelope *e, char *raw, size_t len);
/*
 * envelope_raw_segment - a large value carried in the raw part and named in
 * data by a [offset, length] member (docs/ENVELOPES.md, "raw segments"):
 * a pointer into e->raw and *len, or NULL when range is absent, malformed
 * or out of range. Ownership: borrowed from e (not NUL-terminated).
 */
const char *envelope_raw_segment(const struct envelope *e, json_t *range, size_t *len);
/* envelope_copy - deep copy (data copied, raw copied). */
void envelope_copy(struct envelope *dst, const struct envelope *src);
/*
 * envelope_encode - serialise. Ownership: new (caller frees *out).
 * Returns 0, or -1 when data cannot be encoded.
 */
int envelope_encode(const struct envelope *e, char **out, size_t *outlen);
/*
 * envelope_decode - parse body[0..len). raw points into body (borrowed:
 * valid while body is). -1 with a reason in err on any defect.
 */
int envelope_decode(struct envelope *e, const void *body, size_t len, char *err, size_t errsz);

#endif
