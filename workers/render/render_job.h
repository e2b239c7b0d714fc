/*
 * render_job - the state of a REST job while it is rendered, shared by its
 * phases: render_job.c (the job: blocks in order, failures), render_prep.c
 * (per job: parts, attachments, text entities), render_block.c (per block:
 * addresses, texts, body), render_fields.c (per block: the header fields its
 * copies share) and render_copy.c (per copy: Message-ID, tracking,
 * signature, envelope). Not an API outside those files.
 */
#ifndef RENDER_JOB_H
#define RENDER_JOB_H

#include "util/buf.h"
#include "workers/render/render.h"

#include <jansson.h>
#include <stddef.h>

#define UNSUB_MAX 16

struct part {
    int present, templ;
    const char *text;
    size_t len;
    const char *charset, *cte;
    int html;
};

struct rjob {
    struct render_run *run;
    json_t *data;
    struct part subject, body, alt;
    json_t *from_hdr; /* mimeFrom if given, else from: the From: field */
    int any_template;
    long long limit;
    struct buf *ent; /* attachment entities */
    size_t nent;
    const struct buf **inl, **att; /* views into ent */
    size_t ninl, natt;
    struct buf plain_ent, html_ent; /* job-level text entities (no templates) */
    int have_plain, have_html;
    int html_later;      /* html_ent is built when first needed (it cannot fail) */
    char job_error[300]; /* every block fails with this */
    char *owned[32];     /* NUL-terminated copies of raw segments */
    size_t nowned;
};

struct rblock {
    json_t *j;
    long long index;
    const char *reference;
    struct render_rcpt *r; /* to, cc, bcc in order (dropped ones too) */
    size_t nr, nto, ncc;
    int hdr_utf8; /* a header carries a UTF-8 address */
    /* per block */
    struct buf pre, mid, lu, post; /* header fields around Message-ID */
    struct buf entity;             /* top entity: Content-* fields, empty line, body */
    size_t body_off;
    int have_entity;      /* entity built, its Content-* fields added to post */
    size_t post_x;        /* post's length before those fields (the xHeaders) */
    unsigned char bh[32]; /* DKIM body hash of entity, once a copy needs it */
    int have_bh;
    const char *html; /* HTML text of the block (for tracking) */
    size_t html_len;
    struct buf html_buf, plain_buf, subj_buf;
    struct buf plain_ent, html_ent;
    /* Secure Document Handling (render_block_secure): the ZIP part and
     * what every copy's envelope carries as data.secureDocument */
    struct buf zip_ent;
    const struct buf **att; /* the job's attachments + the ZIP, or NULL */
    size_t natt;
    json_t *secure;
    const char *unsub[UNSUB_MAX];
    size_t nunsub;
    int unsub_https;
    char unsub_store[2048];
};

/* has_8bit - 1 when s (NUL-terminated, NULL allowed) has a non-ASCII byte */
static inline int has_8bit(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 1;
    return 0;
}

/* render_job_too_large - the contract's wording for a message over the limit (§4.12, §9.5) */
void render_job_too_large(char *err, size_t errsz, const struct rjob *rj);
/*
 * render_job_size_error - the same for a part that did not fit, when err is
 * the MIME builder's "message too large" (other errors are left alone)
 */
void render_job_size_error(char *err, size_t errsz, const struct rjob *rj);

/*
 * render_prep_job - job-level parsing: parts, attachments, job-level text
 * entities. A job every block must fail gets rj->job_error.
 */
void render_prep_job(struct rjob *rj);
/* render_prep_free - what render_prep_job made */
void render_prep_free(struct rjob *rj);

/* render_block_parse - the block's addresses; -1 when an element is malformed */
int render_block_parse(json_t *b, size_t array_index, struct rblock *rb);
/* render_block_free - what the block phase made (rb itself is the caller's) */
void render_block_free(struct rblock *rb);
/* render_block_build - headers, texts and body of a block; -1 with err */
int render_block_build(struct rjob *rj, struct rblock *rb, char *err, size_t errsz);
/*
 * render_block_entity - the block's top entity (html: the job's HTML, built
 * now if it was left for later), its Content-* fields added to post. Once.
 */
int render_block_entity(struct rjob *rj, struct rblock *rb, char *err, size_t errsz);
/*
 * render_block_body - the top entity of the block into out (html_ent: this
 * copy's HTML, or the block's), the body starting at *body_off
 */
int render_block_body(struct rjob *rj, struct rblock *rb, const struct buf *html_ent,
                      struct buf *out, size_t *body_off, char *err, size_t errsz);

/*
 * render_fields_block - the header fields every copy of the block shares:
 * rb->pre (before Message-ID), rb->mid (after it), rb->lu and rb->post
 */
int render_fields_block(struct rjob *rj, struct rblock *rb, const char *subject, size_t slen,
                        char *err, size_t errsz);
/*
 * render_fields_list_unsubscribe - the List-Unsubscribe field(s) from the
 * request's URIs plus txmail's own URL own (or none) into out
 */
int render_fields_list_unsubscribe(struct rblock *rb, struct buf *out, const char *own);

/*
 * render_copy_one - build, sign and queue the copy for r. 0 done (or dropped
 * by DKIM policy), -1 the block must fail with err (size).
 */
int render_copy_one(struct rjob *rj, struct rblock *rb, const struct render_rcpt *r, char *err,
                    size_t errsz);

#endif
