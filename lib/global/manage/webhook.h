/*
 * webhook - what txmail-notify and the dead-letter redelivery
 * (deadletter.c) share about one webhook POST (contract §11), so that a
 * redelivered notification is queued exactly as notify queues its own
 * retries:
 *
 *   - the endpoint: the job's endPoint object (job.notification, §4.11,
 *     its password encrypted under the master key) or the account's
 *     default (account.notify_url, notify_headers, notify_user,
 *     notify_password); passwords stay encrypted here, notify decrypts
 *     them for the attempt only;
 *   - the top-level meta of a POST (§11.4) and the body around the
 *     notifications;
 *   - the "webhook" retry envelope notify consumes from its retry queue
 *     (notify_retry_queue on txmail.work, docs/ENVELOPES.md):
 *
 *       envelope: type "webhook", job, account, slip [<retry queue>],
 *                 attempt = attempts made, created = first attempt,
 *                 due = when to try again (tiers chain through it)
 *       data:     {"url", "headers", "auth": {"user", "password" (encrypted)},
 *                  "jobId", "accountId", "tags": [...], "rids": [...],
 *                  "firstAttempt": ms (0: never tried), "attempts": n,
 *                  "lastResult": "HTTP 500" | "timeout" | "connect error: ..."}
 *       raw:      the POST body, byte for byte (retries send it unchanged)
 */
#ifndef TX_WEBHOOK_H
#define TX_WEBHOOK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define WEBHOOK_RETRY_QUEUE "notify" /* notify_retry_queue's default */
#define WEBHOOK_URL_MAX 2000
#define WEBHOOK_RESULT_MAX 300

/* an endpoint: where and how to post */
struct webhook_endpoint {
    char *url;       /* NULL: none */
    json_t *headers; /* object name -> value, or NULL */
    char *user;      /* Basic authentication, or NULL */
    char *password;  /* as stored: encrypted ("v1:...") */
};

/* webhook_endpoint_free - release and wipe e's members (e itself is the caller's) */
void webhook_endpoint_free(struct webhook_endpoint *e);
/* webhook_endpoint_copy - a deep copy of src into dst (dst's old members are not freed) */
void webhook_endpoint_copy(struct webhook_endpoint *dst, const struct webhook_endpoint *src);
/*
 * webhook_endpoint_parse - the job's endpoint (job.notification: the
 * §4.11 endPoint object, bare or under "endPoint"). 0, or -1 when it has
 * no usable URL (e is then empty).
 */
int webhook_endpoint_parse(struct webhook_endpoint *e, const char *text);
/*
 * webhook_endpoint_account - the account's default endpoint from its
 * columns (headers: a JSON object as text; any argument may be NULL):
 * 0 set, 1 none configured, -1 a URL that cannot be used (e is then empty)
 */
int webhook_endpoint_account(struct webhook_endpoint *e, const char *url, const char *headers,
                             const char *user, const char *password);
/*
 * webhook_origin - "scheme://host:port" of url into out (the endpoint's
 * identity); -1 when url is not http(s) with a host
 */
int webhook_origin(char *out, size_t outsz, const char *url);

/* the job and account values of a POST's top-level meta (borrowed; NULL or "": absent) */
struct webhook_meta {
    const char *job_id;
    int64_t received_ms;
    const char *account, *customer_no, *tenant;
    const char *reference_job, *cost_center, *campaign_id;
};

/* webhook_meta_json - the top-level meta of a POST (contract §11.4). Ownership: new. */
json_t *webhook_meta_json(const struct webhook_meta *m);
/* webhook_body - {"meta": meta, "notifications": items}, compact. Ownership: new string. */
char *webhook_body(json_t *meta, json_t *items, size_t *len);

/*
 * One POST as the retry envelope carries it. webhook_retry_encode only
 * reads it (members borrowed); webhook_retry_decode fills it with new
 * members, released by webhook_retry_free.
 */
struct webhook_retry {
    long long account_id;
    char job_id[40];
    struct webhook_endpoint ep;
    json_t *tags, *rids; /* arrays, one per notification */
    int64_t first_ms;    /* wall clock of the first attempt; 0: never tried */
    int64_t due_ms;      /* decode: when it may be tried */
    int attempts;        /* attempts made */
    char last_result[WEBHOOK_RESULT_MAX];
    char *body; /* the POST body, exact bytes */
    size_t len;
};

/*
 * webhook_retry_encode - the "webhook" envelope of w for queue, due after
 * delay_ms; *tier is the delay tier of delay_ms (publish to txmail.retry
 * with it, CC queue; or straight to txmail.work with key queue when the
 * delay is 0). Ownership: new (*out). 0, or -1 when it cannot be encoded.
 */
int webhook_retry_encode(const struct webhook_retry *w, const char *queue, int64_t delay_ms,
                         char **out, size_t *len, const char **tier);
/* webhook_retry_decode - w from a "webhook" envelope: 0, or -1 with err when malformed */
int webhook_retry_decode(struct webhook_retry *w, const void *body, size_t len, char *err,
                         size_t errsz);
/* webhook_retry_free - release what webhook_retry_decode put in w */
void webhook_retry_free(struct webhook_retry *w);

#endif
