/*
 * render_copy - the copy phase of a REST job (render_job.h): one copy per
 * address of a block. A copy has its own Message-ID, its own HTML and body
 * when it is tracked (else the block's, built and hashed by the first copy
 * that sends it), its own one-click unsubscribe URL, its DKIM signatures;
 * then it is queued to the next stage.
 */
#include "workers/render/render_job.h"
#include "util/mymalloc.h"
#include "workers/render/render_hooks.h"
#include "workers/render/render_mime.h"

#include <stdio.h>
#include <string.h>

/* what one copy owns (freed by copy_free) and its views of the block */
struct copy {
    struct buf hdr, msg, tracked, tent, tbody, lu, tpost;
    const char *body; /* the body sent: the copy's own or the block's */
    size_t bodylen;
    const unsigned char *bh; /* its DKIM body hash */
    unsigned char tbh[32];
    const struct buf *post; /* the header fields after List-Unsubscribe */
};

static void copy_init(struct copy *c, const struct rjob *rj, const struct rblock *rb)
{
    memset(c, 0, sizeof(*c));
    buf_init(&c->hdr, (size_t)rj->limit);
    buf_init(&c->msg, (size_t)rj->limit + 65536);
    buf_init(&c->tracked, (size_t)rj->limit);
    buf_init(&c->tent, (size_t)rj->limit);
    buf_init(&c->tbody, (size_t)rj->limit);
    buf_init(&c->lu, 1 << 16);
    buf_init(&c->tpost, 1 << 20);
    c->post = &rb->post;
}

static void copy_free(struct copy *c)
{
    buf_free(&c->hdr);
    buf_free(&c->msg);
    buf_free(&c->tracked);
    buf_free(&c->tent);
    buf_free(&c->tbody);
    buf_free(&c->lu);
    buf_free(&c->tpost);
}

/*
 * copy_tracked - tracking: this copy's HTML, then its own body, hash and
 * Content-* fields (c->bh set); c->bh stays NULL when the copy is not
 * tracked or the tracking changed nothing. -1 with err.
 */
static int copy_tracked(struct rjob *rj, struct rblock *rb, const struct render_rcpt *r,
                        struct copy *c, char *err, size_t errsz)
{
    if (!rb->html || !(jsonget_bool(rb->j, "openTracking") || jsonget_bool(rb->j, "linkTracking")))
        return 0;
    int t = render_track_html(rj->run, r, rb->j, jsonget_bool(rb->j, "openTracking"),
                              jsonget_bool(rb->j, "linkTracking"), rb->html, rb->html_len,
                              rb->unsub, rb->nunsub, &c->tracked, err, errsz);
    if (t <= 0)
        return t;
    struct mime_text mt = {buf_ptr(&c->tracked), c->tracked.len, rj->body.charset, rj->body.cte,
                           "html"};
    size_t off;
    if (render_mime_text_entity(&c->tent, &mt, err, errsz) < 0 ||
        render_block_body(rj, rb, &c->tent, &c->tbody, &off, err, errsz) < 0)
        return -1;
    c->body = c->tbody.data + off;
    c->bodylen = c->tbody.len - off;
    dkim_body_hash(c->tbh, c->body, c->bodylen);
    c->bh = c->tbh;
    /* the xHeaders, then this copy's own Content-* fields (its transfer
     * encoding may differ from the block's) */
    buf_append(&c->tpost, rb->post.data, rb->post_x);
    buf_append(&c->tpost, c->tbody.data, off - 2);
    c->post = &c->tpost;
    return 0;
}

/*
 * copy_block_body - the block's body: built and hashed when the first copy
 * sends it (with tracking, every copy may have its own)
 */
static int copy_block_body(struct rjob *rj, struct rblock *rb, struct copy *c, char *err,
                           size_t errsz)
{
    if (render_block_entity(rj, rb, err, errsz) < 0)
        return -1;
    c->body = rb->entity.data + rb->body_off;
    c->bodylen = rb->entity.len - rb->body_off;
    if (!rb->have_bh)
        dkim_body_hash(rb->bh, c->body, c->bodylen);
    rb->have_bh = 1;
    c->bh = rb->bh;
    return 0;
}

/*
 * copy_header - the copy's header: the block's fields around its
 * Message-ID, with its own one-click unsubscribe URL (unless the request
 * has an https one); -1 with err when it does not fit
 */
static int copy_header(struct rjob *rj, struct rblock *rb, const struct render_rcpt *r,
                       struct copy *c, const char *msgid, char *err, size_t errsz)
{
    char own[1100];
    const struct buf *lup = &rb->lu;

    if (!rb->unsub_https && render_track_unsubscribe_url(rj->run, r, own, sizeof(own)) > 0) {
        if (render_fields_list_unsubscribe(rb, &c->lu, own) < 0) {
            snprintf(err, errsz, "List-Unsubscribe does not fit");
            return -1;
        }
        lup = &c->lu;
    }
    buf_append(&c->hdr, rb->pre.data, rb->pre.len);
    buf_printf(&c->hdr, "Message-ID: %s\r\n", msgid);
    buf_append(&c->hdr, rb->mid.data, rb->mid.len);
    if (lup->len)
        buf_append(&c->hdr, lup->data, lup->len);
    buf_append(&c->hdr, c->post->data, c->post->len);
    if (buf_error(&c->hdr) || (long long)(c->hdr.len + 2 + c->bodylen) > rj->limit) {
        render_job_too_large(err, errsz, rj);
        return -1;
    }
    return 0;
}

/* render_copy_one - build, sign and queue the copy for r */
int render_copy_one(struct rjob *rj, struct rblock *rb, const struct render_rcpt *r, char *err,
                    size_t errsz)
{
    struct render_run *run = rj->run;
    struct copy c;
    const char *how = "none";
    char msgid[340];
    int rc = -1;

    copy_init(&c, rj, rb);
    snprintf(msgid, sizeof(msgid), "<%s@%s>", r->rid, run->msgid_domain);
    if (copy_tracked(rj, rb, r, &c, err, errsz) < 0)
        goto out;
    if (c.bh == NULL && copy_block_body(rj, rb, &c, err, errsz) < 0)
        goto out;
    if (copy_header(rj, rb, r, &c, msgid, err, errsz) < 0)
        goto out;
    int s = render_sender_sign_copy(run, &c.msg, c.hdr.data, c.hdr.len, c.body, c.bodylen, c.bh,
                                    &how, err, errsz);
    if (s < 0)
        goto out;
    if (s > 0) {
        render_emit_dkim_drop(run, r, msgid);
        rc = 0;
        goto out;
    }
    if (buf_error(&c.msg) || (long long)c.msg.len > rj->limit) {
        render_job_too_large(err, errsz, rj);
        goto out;
    }
    size_t len = c.msg.len;
    char *raw = buf_steal(&c.msg, NULL);
    int utf8 = r->utf8 || run->from_utf8 || rb->hdr_utf8 || has_8bit(r->addr);
    run->secure_doc = rb->secure;
    render_emit_message(run, r, raw, len, msgid, utf8, rb->hdr_utf8, how);
    run->secure_doc = NULL;
    rc = 0;
out:
    copy_free(&c);
    return rc;
}
