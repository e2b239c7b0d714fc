/*
 * render_block - the block phase of a REST job (render_job.h): the block's
 * addresses, its texts (rendered when they are templates), its header
 * fields (render_fields.c) and its top entity. Copies of a block differ
 * only in their header, so the entity is built and its DKIM body hash taken
 * once - by the first copy that sends it when the job's HTML could be left
 * for later (it cannot fail then), else here, so a block fails where it
 * always did.
 */
#include "workers/render/render_job.h"
#include "util/mymalloc.h"
#include "workers/render/render_hooks.h"
#include "workers/render/render_mime.h"

#include <stdio.h>
#include <string.h>

/* render_block_parse - the block's addresses; -1 when an element is malformed */
int render_block_parse(json_t *b, size_t array_index, struct rblock *rb)
{
    static const char *const kinds[] = {"to", "cc", "bcc"};
    size_t total = 0;

    rb->j = b;
    json_t *ix = json_object_get(b, "index");
    rb->index = json_is_integer(ix) ? json_integer_value(ix) : (long long)array_index;
    rb->reference = jsonget_str(b, "reference");
    for (int k = 0; k < 3; k++)
        total += json_array_size(json_object_get(b, kinds[k]));
    rb->r = xcalloc(total + 1, sizeof(*rb->r));
    for (int k = 0; k < 3; k++) {
        size_t i;
        json_t *a;
        json_array_foreach (json_object_get(b, kinds[k]), i, a) {
            if (render_rcpt_from_json(a, kinds[k], rb->reference, &rb->r[rb->nr]) < 0)
                return -1;
            if (!rb->r[rb->nr].dropped && !render_rcpt_addr_ok(rb->r[rb->nr].addr))
                return -1;
            rb->nr++;
            if (k == 0)
                rb->nto++;
            else if (k == 1)
                rb->ncc++;
        }
    }
    return 0;
}

void render_block_free(struct rblock *rb)
{
    xfree(rb->r);
    buf_free(&rb->pre);
    buf_free(&rb->mid);
    buf_free(&rb->lu);
    buf_free(&rb->post);
    buf_free(&rb->entity);
    buf_free(&rb->html_buf);
    buf_free(&rb->plain_buf);
    buf_free(&rb->subj_buf);
    buf_free(&rb->plain_ent);
    buf_free(&rb->html_ent);
    buf_free(&rb->zip_ent);
    xfree(rb->att);
    json_decref(rb->secure);
}

/*
 * block_secure - Secure Document Handling (contract §16.3): the block's
 * secureZip (txmail-securezip) becomes one more attachment of every copy,
 * and what txmail-deliver needs for the password mail goes with each
 * copy's envelope. -1 with err.
 */
static int block_secure(struct rjob *rj, struct rblock *rb, const char *subject, size_t slen,
                        char *err, size_t errsz)
{
    json_t *z = json_object_get(rb->j, "secureZip");
    json_t *sd = json_object_get(json_object_get(rj->data, "options"), "secureDocument");
    const char *name = jsonget_str(z, "name"), *data = jsonget_str(z, "data");
    const char *pw = jsonget_str(z, "password"), *prefix = jsonget_str(sd, "subjectPrefix");

    if (z == NULL)
        return 0;
    if (name == NULL || data == NULL || pw == NULL) {
        snprintf(err, errsz, "malformed job data: secureZip without name, data or password");
        return -1;
    }
    struct mime_attachment m = {name, "application/zip", NULL, data, strlen(data)};
    buf_init(&rb->zip_ent, (size_t)rj->limit);
    if (render_mime_attachment_entity(&rb->zip_ent, &m, 0, err, errsz) < 0) {
        render_job_size_error(err, errsz, rj);
        return -1;
    }
    rb->att = xcalloc(rj->natt + 1, sizeof(*rb->att));
    for (size_t i = 0; i < rj->natt; i++)
        rb->att[i] = rj->att[i];
    rb->att[rj->natt] = &rb->zip_ent;
    rb->natt = rj->natt + 1;
    rb->secure = json_pack("{s:s,s:s,s:s,s:s%}", "zip", name, "password", pw, "subjectPrefix",
                           prefix && *prefix ? prefix : "Password for:", "subject",
                           subject ? subject : "", subject ? slen : (size_t)0);
    if (rb->secure == NULL) {
        snprintf(err, errsz, "malformed job data: the subject is not UTF-8");
        return -1;
    }
    return 0;
}

/* text_of - a part's text for this block: rendered when it is a template */
static int text_of(struct rjob *rj, struct rblock *rb, const struct part *p, enum render_part which,
                   struct buf *store, const char **text, size_t *len, char *err, size_t errsz)
{
    if (!p->templ) {
        *text = p->text;
        *len = p->len;
        return 0;
    }
    buf_init(store, (size_t)rj->limit);
    if (render_track_template_part(rj->run, which, p->text, p->len,
                                   json_object_get(rb->j, "personalization"), store, err,
                                   errsz) < 0)
        return -1;
    *text = buf_ptr(store);
    *len = store->len;
    return 0;
}

/* render_block_body - the top entity of the block (html: this copy's HTML, or the block's) */
int render_block_body(struct rjob *rj, struct rblock *rb, const struct buf *html_ent,
                      struct buf *out, size_t *body_off, char *err, size_t errsz)
{
    const struct buf *plain = rj->any_template ? (rb->plain_ent.len ? &rb->plain_ent : NULL)
                                               : (rj->have_plain ? &rj->plain_ent : NULL);
    char seed[120];

    snprintf(seed, sizeof(seed), "%s/%lld", rj->run->job->env.job_id, rb->index);
    struct mime_spec spec = {plain,
                             html_ent,
                             rj->inl,
                             html_ent ? rj->ninl : 0,
                             rb->att ? rb->att : rj->att,
                             rb->att ? rb->natt : rj->natt,
                             seed};
    buf_init(out, (size_t)rj->limit);
    return render_mime_build(out, &spec, body_off, err, errsz);
}

/*
 * render_block_entity - the block's top entity (html: the job's HTML, built now
 * if it was left for later), its Content-* fields added to post. Once.
 */
int render_block_entity(struct rjob *rj, struct rblock *rb, char *err, size_t errsz)
{
    if (rb->have_entity)
        return 0;
    if (rj->html_later) {
        struct mime_text t = {rj->body.text, rj->body.len, rj->body.charset, rj->body.cte, "html"};
        if (render_mime_text_entity(&rj->html_ent, &t, err, errsz) < 0)
            return -1;
        rj->html_later = 0;
    }
    const struct buf *html_ent = rj->any_template ? (rb->html ? &rb->html_ent : NULL)
                                                  : (rj->have_html ? &rj->html_ent : NULL);
    if (render_block_body(rj, rb, html_ent, &rb->entity, &rb->body_off, err, errsz) < 0)
        return -1;
    /* the entity's Content-* fields close the header */
    if (buf_append(&rb->post, rb->entity.data, rb->body_off - 2) < 0) {
        snprintf(err, errsz, "header fields too large");
        return -1;
    }
    rb->have_entity = 1;
    return 0;
}

/*
 * block_cannot_fail - 1 when render_block_entity() with the job's HTML left for
 * later surely fits: within the size limit, and its Content-* fields
 * within post's maximum. Then it can wait for a copy that needs it.
 */
static int block_cannot_fail(const struct rjob *rj, const struct rblock *rb)
{
    struct mime_text t = {rj->body.text, rj->body.len, rj->body.charset, rj->body.cte, "html"};
    size_t max = render_mime_text_max(&t), n = rj->ninl + rj->natt;

    if (max == SIZE_MAX || rb->post.len + 512 > rb->post.max || rb->att)
        return 0;
    /* the parts, plus containers: fields, boundary lines (well within 128 each) */
    max += rj->have_plain ? rj->plain_ent.len : 0;
    for (size_t i = 0; i < n; i++) {
        const struct buf *e = i < rj->ninl ? rj->inl[i] : rj->att[i - rj->ninl];
        max += e->len + 128;
    }
    max += 1024;
    return max <= (size_t)rj->limit;
}

/* render_block_build - headers, texts and body of a block; -1 with err */
int render_block_build(struct rjob *rj, struct rblock *rb, char *err, size_t errsz)
{
    const char *subject, *t;
    size_t slen, tl;

    if (text_of(rj, rb, &rj->subject, PART_SUBJECT, &rb->subj_buf, &subject, &slen, err, errsz) < 0)
        return -1;
    if (block_secure(rj, rb, subject, slen, err, errsz) < 0)
        return -1;
    if (rj->any_template) {
        /* texts differ per block: their entities too */
        const struct part *plain = rj->body.present && !rj->body.html ? &rj->body
                                   : rj->alt.present                  ? &rj->alt
                                                                      : NULL;
        buf_init(&rb->plain_ent, (size_t)rj->limit);
        buf_init(&rb->html_ent, (size_t)rj->limit);
        if (plain) {
            if (text_of(rj, rb, plain, plain == &rj->body ? PART_BODY : PART_ALTERNATIVE,
                        &rb->plain_buf, &t, &tl, err, errsz) < 0)
                return -1;
            struct mime_text mt = {t, tl, plain->charset, plain->cte, "plain"};
            if (render_mime_text_entity(&rb->plain_ent, &mt, err, errsz) < 0)
                return -1;
        }
        if (rj->body.present && rj->body.html) {
            if (text_of(rj, rb, &rj->body, PART_BODY, &rb->html_buf, &t, &tl, err, errsz) < 0)
                return -1;
            struct mime_text mt = {t, tl, rj->body.charset, rj->body.cte, "html"};
            if (render_mime_text_entity(&rb->html_ent, &mt, err, errsz) < 0)
                return -1;
            rb->html = t;
            rb->html_len = tl;
        }
    } else if (rj->have_html) {
        rb->html = rj->body.text;
        rb->html_len = rj->body.len;
    }
    if (render_fields_block(rj, rb, subject, slen, err, errsz) < 0)
        return -1;
    rb->post_x = rb->post.len;
    if (rj->html_later && block_cannot_fail(rj, rb))
        return 0; /* built by the first copy that sends it */
    return render_block_entity(rj, rb, err, errsz);
}
