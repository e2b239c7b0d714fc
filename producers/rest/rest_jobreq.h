/*
 * rest_jobreq - the JobRequest of POST /email/v2/jobs (contract §4-§6):
 * syntax check, parse, validation in the contract's order of checks
 * (§6.3), defaults, ids and the normalized job of docs/ENVELOPES.md.
 *
 * It needs no network: what it must know about the caller's world (the
 * account, the sender domains registered for it, the suppression list)
 * comes through struct jobreq_env, so unit tests and the fuzz target call
 * rest_jobreq_run() directly with stub hooks.
 *
 * Split by member: rest_jobreq.c (entry, top level, cross-field rules),
 * rest_jobreq_walk.c (the table walker, paths, errors),
 * rest_jobreq_syntax.c (JSON syntax), rest_jobreq_text.c (subject, body,
 * alternative, §4.6 decoding), rest_jobreq_attach.c, rest_jobreq_rcpt.c
 * (recipients, addresses, xHeaders), rest_jobreq_mail.c, rest_jobreq_job.c
 * (job, options, secureDocument alias), rest_jobreq_notify.c,
 * rest_jobreq_build.c (normalized job and answer content).
 */
#ifndef REST_JOBREQ_H
#define REST_JOBREQ_H

#include "global/intake/suppress.h"
#include "global/txcode.h"

#include <jansson.h>

#include "util/buf.h"
#include <stddef.h>
#include <stdint.h>

#define JOBREQ_BODY_MAX 20971520 /* contract §4.12 */
#define JOBREQ_MAX_DEPTH 64      /* contract §4.1 */
#define JOBREQ_MAX_BLOCKS 100
#define JOBREQ_MAX_ADDRESSES 1000
#define JOBREQ_MAX_ATTACHMENTS 20
#define JOBREQ_DESC_MAX 640
#define JOBREQ_RAW_MIN 512 /* attachment contents this long bypass jansson */

/*
 * Structural limits, checked while the syntax is scanned, before any tree
 * is built (txmail decision; docs/OPERATIONS.md "Request memory"). A valid
 * JobRequest needs far less: its fixed members hold at most ~12,000 values
 * (1,000 addresses, 100 blocks, 20 attachments, 10 xHeaders per level, a
 * 10,000-character notification header object); the rest is the blocks'
 * personalization, whose rendered message may not exceed 1 MB (contract
 * §4.12). jansson spends up to ~300 bytes on one value, so these bound a
 * request's tree to ~30 MB whatever its shape. What passes them passes
 * render's bounds on template variables too (template.h).
 */
#define JOBREQ_MAX_VALUES 100000      /* JSON values in the whole request */
#define JOBREQ_MAX_ELEMENTS 10000     /* elements of one array, members of one object */
#define JOBREQ_PERS_MAX_BYTES 1048576 /* JSON text of one block's personalization */

/*
 * A large attachment content of the request, kept as the raw JSON string
 * text instead of passing through jansson twice (parse and encode); in the
 * normalized job its "data" is the marker, which jobreq_splice() replaces
 * in the encoded text. Ownership: s is borrowed from the request body.
 */
struct jobreq_raw {
    size_t att;    /* attachments[att] */
    const char *s; /* the string's text between the quotes */
    size_t len;
    char marker[64]; /* "txmail-raw-<random>-<n>" */
};

/* what a sender-domain lookup found */
struct jobreq_sender {
    long long id;
    char domain[254];
    int relay; /* the domain uses the Relay Service */
};

struct jobreq_env {
    json_t *settings; /* account settings merged over defaults (borrowed) */
    long long account_id;
    const char *account_name, *customer_no, *tenant;
    const char *stages; /* the installation's stages, "render,deliver" */
    const char *job_id; /* fresh UUID of this request */
    int64_t received_ms;
    /* sender domain registered for the account: TX_OK, TX_REJECT_POLICY, TX_RETRY_DB */
    enum tx_code (*sender_domain)(void *arg, const char *domain, struct jobreq_sender *out);
    /* suppression entries of q[0..n) (suppress_lookup): TX_OK or TX_RETRY_DB */
    enum tx_code (*suppression)(void *arg, struct suppress_query *q, size_t n);
    void *arg;
};

struct jobreq_result {
    int http;            /* 200, or the status of the rejection */
    const char *subtype; /* rejection subType (static) */
    char description[JOBREQ_DESC_MAX];
    /* on success (http == 200); every pointer below is owned by the result */
    json_t *data;         /* the normalized job (docs/ENVELOPES.md) */
    json_t *content;      /* "content" of the answer: {"recipients": [...]} */
    json_t *notification; /* job endpoint with the password in clear, or NULL */
    char slip[160];       /* "render,deliver" */
    int addresses, dropped;
    struct jobreq_raw raw[JOBREQ_MAX_ATTACHMENTS];
    size_t nraw; /* attachments whose data is a marker in data */
};

/*
 * rest_jobreq_run - check body[0..len) and build the job. Returns 0 with
 * res->http 200 and the job, or -1 with res->http/subtype/description set
 * (400/403 rejection, 503 when a hook reported TX_RETRY_DB). Never fails
 * on content. Ownership: release res with rest_jobreq_result_free().
 */
int rest_jobreq_run(const char *body, size_t len, const struct jobreq_env *env,
                    struct jobreq_result *res);
void rest_jobreq_result_free(struct jobreq_result *res);

/*
 * rest_jobreq_build_rawify - move the large values of the normalized job into raw
 * segments (docs/ENVELOPES.md): every marked attachment's base64 (line
 * breaks removed) becomes "raw": [offset, length] instead of "data", and a
 * body or alternative text of JOBREQ_RAW_TEXT_MIN bytes or more becomes
 * "textRaw" instead of "text". The bytes are appended to raw, which
 * becomes the envelope's raw part. So neither this process nor render
 * passes them through jansson. 0, or -1 when a marker is missing.
 */
int rest_jobreq_build_rawify(const struct jobreq_result *res, json_t *data, struct buf *raw);
#define JOBREQ_RAW_TEXT_MIN 1024

/*
 * rest_jobreq_syntax - 0 when body is one UTF-8 JSON object within the nesting
 * limit; else -1 with a parser message "<what> at line L column C path $..."
 * in msg (contract §6.1), or JOBREQ_SYNTAX_LIMIT when the body passes a
 * structural limit above, with the description of the LIMIT_EXCEEDED
 * rejection in msg ("Count limit exceeded for a: more than 10000
 * elements"). The scan stops there: nothing after it is looked at.
 */
#define JOBREQ_SYNTAX_LIMIT (-2)
int rest_jobreq_syntax(const char *body, size_t len, char *msg, size_t msgsz);

/* a long string value (offsets of its text, quotes excluded) */
struct jobreq_span {
    int raw; /* $.attachments[att].content, escapes only \r \n \/ */
    size_t att, start, end;
};
/*
 * rest_jobreq_syntax_spans - rest_jobreq_syntax() that also reports up to max string
 * values of at least min bytes (not member names), in order: raw ones
 * (base64 with line breaks, at most JOBREQ_MAX_ATTACHMENTS) and any other
 * (to be decoded with rest_jobreq_syntax_unescape). *n is set.
 */
int rest_jobreq_syntax_spans(const char *body, size_t len, char *msg, size_t msgsz, size_t min,
                             struct jobreq_span *spans, size_t max, size_t *n);
/*
 * rest_jobreq_syntax_unescape - decode the text of a string rest_jobreq_syntax() accepted
 * (between the quotes) into out, which has room for len bytes, exactly as
 * jansson would; returns the decoded length.
 */
size_t rest_jobreq_syntax_unescape(const char *s, size_t len, char *out);
/* jobreq_syntax_path - the JSON path ("$.a[1]") at byte offset pos, for parser errors */
void rest_jobreq_syntax_where(const char *body, size_t len, size_t pos, char *out, size_t outsz);

/*
 * rest_jobreq_text_check_template - syntax of a template source (contract §9.6).
 * 0 when it parses; -1 with the detail ("unclosed <#if> at line 3 column 7")
 * in detail (lib/global/template/template.h, template_parse).
 */
int rest_jobreq_text_check_template(const char *src, size_t len, char *detail, size_t detailsz);

#endif
