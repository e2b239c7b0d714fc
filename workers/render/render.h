/*
 * render - internals of txmail-render shared by its files. See render.c
 * for the manual.
 */
#ifndef RENDER_H
#define RENDER_H

#include "global/db.h"
#include "global/runtime/worker.h"
#include "util/buf.h"
#include "util/jsonget.h"
#include "global/dkim/dkim.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* ---- parameters (render.c) -------------------------------------------- */

struct render_params {
    long long max_message;  /* render_message_size_limit */
    long long max_template; /* render_template_message_size_limit */
    long long batch_bytes;  /* render_batch_size */
    int64_t domain_ttl_ms;  /* render_domain_cache_ttl */
    int dkim_check;         /* render_dkim_dns_check */
    int64_t dkim_check_ms;  /* render_dkim_dns_check_interval */
};
extern struct render_params render_p;

/* ---- sender domains (render_domain.c) --------------------------------- */

/*
 * A sender domain as render needs it, immutable once published in the
 * cache and shared between threads by reference count. sign[] holds
 * the keys that may sign (present, parsed, and matching the published
 * DNS record when that check is on); dkim_problem says why a key is not
 * used.
 */
struct render_domain {
    long long id, account_id;
    int found; /* 0: the row no longer exists */
    char domain[254];
    char bounce_domain[254];
    char message_id_domain[254];
    char relay_host[256];
    char tracking_host[256]; /* open/click links' host ("": tracking_base_url) */
    char archive_bcc[255];
    char ip_pool[65];
    int tls_enforced;
    int policy_drop; /* dkim_policy = drop */
    struct dkim_key sign[2];
    int nsign;
    char dkim_problem[480];
};

/* render_domain_get - the cached sender domain (TX_OK, TX_RETRY_DB). Ownership: new reference. */
enum tx_code render_domain_get(struct db *db, long long id, long long account_id,
                               struct render_domain **out);
void render_domain_release(struct render_domain *d);
/*
 * render_domain_rewrite - the envelope_rewrite target for the bare from address
 * of account (exact, case-insensitive) into out, "" when none. Cached.
 */
enum tx_code render_domain_rewrite(struct db *db, long long account_id, const char *from, char *out,
                                   size_t outsz);
/* render_domain_cache_clear - forget everything (shutdown) */
void render_domain_cache_clear(void);

/* ---- one recipient's copy (render_emit.c) ------------------------------ */

struct render_rcpt {
    const char *rid;
    const char *email;     /* as submitted */
    const char *addr;      /* bare address: RCPT TO */
    const char *display;   /* display name or NULL */
    const char *kind;      /* to | cc | bcc */
    const char *reference; /* the block's reference or NULL */
    int utf8;              /* the address needs SMTPUTF8 */
    int dropped;           /* refused at intake: nothing is sent, no events */
    int invalid;           /* INVALID_ADDRESS: also left out of To:/Cc: */
};

/* what every copy of a job shares */
struct render_run {
    struct job *job;
    struct db *db; /* the thread's handle (worker_job_db) */
    json_t *data;
    const char *entry;
    const char *from_email; /* as submitted (notifications) */
    const char *from_addr;  /* bare */
    const char *mime_from;  /* as submitted, or NULL */
    struct render_domain *dom;
    char rewrite_from[256]; /* "" when not rewritten */
    char msgid_domain[254];
    int from_utf8;
    size_t out_bytes;              /* raw bytes queued in this round */
    int copies, failed;            /* counts for the job's outcome */
    int64_t t_sign;                /* DKIM t= of this round */
    long long cur_block, cur_copy; /* data.cursor: where this round starts */
    void *tpl_state;               /* the template engine's per-job state (render_hooks.h) */
    json_t *secure_doc;            /* this copy's data.secureDocument, or NULL (render_copy.c) */
    struct render_trace *trace;    /* Trace & Recover copies of the round, or NULL */
};

/* ---- one copy's envelope, events and log line (render_emit.c) ---------- */

/*
 * render_emit_message - queue the message envelope of one copy to the next stage
 * and its PROCESSING_FINISHED event, and log the outcome. Ownership:
 * steals raw (malloc'd).
 */
void render_emit_message(struct render_run *run, const struct render_rcpt *r, char *raw, size_t len,
                         const char *message_id, int smtputf8, int eightbit,
                         const char *signed_with);
/* render_emit_failed - PROCESS/FINISHED/DROPPED/PROCESSING_FAILED for r, logged */
void render_emit_failed(struct render_run *run, const struct render_rcpt *r, const char *why);
/* render_emit_dkim_drop - DELIVER/FINISHED/DROPPED/INVALID_DKIM_SIGNATURE for r, logged */
void render_emit_dkim_drop(struct render_run *run, const struct render_rcpt *r,
                           const char *message_id);

/* ---- rounds of a large job (render_round.c) ----------------------------- */

/* render_round_claim - 1: the message owner owns round of job_id (render it);
 * 0: another copy of the round owns it (drop it); -1: database trouble */
int render_round_claim(struct db *db, const char *job_id, long long round, const char *owner);
/*
 * render_round_continue - publish the input again to this stage with data.cursor
 * = {block, copy}: the rest of the job is rendered in a later round.
 */
void render_round_continue(struct render_run *run, long long block, long long copy);
/* render_round_full - 1 when this round has queued enough to stop here */
int render_round_full(const struct render_run *run);

/* ---- the sender domain on each copy (render_sender.c) ------------------- */

/* render_sender_mail_from - MAIL FROM of the copy for rid: rewrite, VERP or the bare from */
int render_sender_mail_from(const struct render_run *run, const char *rid, char *out, size_t outsz);
/*
 * render_sender_sign_copy - prepend the DKIM signatures of run->dom to a copy:
 * out = signatures + hdr + body. 0 signed (or unsigned by policy
 * deliver, *how says which), 1 no usable key and the policy is drop,
 * -1 error (err).
 */
int render_sender_sign_copy(struct render_run *run, struct buf *out, const char *hdr, size_t hdrlen,
                            const char *body, size_t bodylen, const unsigned char bh[32],
                            const char **how, char *err, size_t errsz);

/* ---- Trace & Recover (render_trace.c) ---------------------------------- */

struct tx_event;
/* render_trace_active - 1 when the job has options.traceRecover.active */
int render_trace_active(const struct render_run *run);
/* render_trace_begin - start keeping the round's copies when the job asks for it */
void render_trace_begin(struct render_run *run);
/* render_trace_keep - remember one copy (data: its message data; raw copied) */
void render_trace_keep(struct render_run *run, const char *rid, json_t *data, const char *raw,
                       size_t len);
/* render_trace_event - PROCESS/INTERMEDIATE/TRACE_RECOVER_STORE/OK from the copy's base event */
void render_trace_event(struct render_run *run, struct tx_event *ev);
/* render_trace_flush - store the round's copies in one transaction: TX_OK or a RETRY code */
enum tx_code render_trace_flush(struct render_run *run);
/* render_trace_end - forget the round's copies */
void render_trace_end(struct render_run *run);

/* ---- the two kinds of job ---------------------------------------------- */

/* render_job_rest - a REST job (render_job.c) */
enum tx_code render_job_rest(struct render_run *run);
/* render_raw_smtp - an SMTP job (render_raw.c) */
enum tx_code render_raw_smtp(struct render_run *run);

/* ---- the recipients of the data (render_rcpt.c) ------------------------ */

/* render_rcpt_addr_ok - a bare address fit for a header field and an SMTP envelope */
int render_rcpt_addr_ok(const char *a);
/*
 * render_rcpt_from_json - r from an address element of the data (borrowed
 * strings); -1 when it has no rid or no bare address
 */
int render_rcpt_from_json(json_t *a, const char *kind, const char *reference,
                          struct render_rcpt *r);
/*
 * render_rcpt_fail_remaining - PROCESSING_FAILED for every address not yet
 * handled (from data.cursor on) that was not dropped at intake
 */
void render_rcpt_fail_remaining(struct render_run *run, const char *why);

#endif
