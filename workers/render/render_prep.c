/*
 * render_prep - the job phase of a REST job (render_job.h): its text parts,
 * its attachments re-cut into base64 lines in one pass (never decoded) and,
 * without templates, the text entities every block shares, all made once
 * per job. What makes every block fail is kept in rj->job_error.
 */
#include "workers/render/render_job.h"
#include "util/mymalloc.h"
#include "workers/render/render_mime.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/*
 * raw_segment - large values travel in the envelope's raw part, named by
 * a [offset, length] member (docs/ENVELOPES.md, "raw segments"): a
 * NUL-terminated copy owned by rj, or NULL when absent or out of range.
 */
static const char *raw_segment(struct rjob *rj, json_t *range, size_t *len)
{
    size_t n = 0;
    const char *seg = envelope_raw_segment(&rj->run->job->env, range, &n);

    if (seg == NULL || rj->nowned == sizeof(rj->owned) / sizeof(rj->owned[0]))
        return NULL;
    char *copy = xmalloc(n + 1);
    memcpy(copy, seg, n);
    copy[n] = 0;
    rj->owned[rj->nowned++] = copy;
    *len = n;
    return copy;
}

/* parse_part - one text part of the request: subject, body or alternative */
static void parse_part(struct rjob *rj, json_t *o, struct part *p, int is_body)
{
    memset(p, 0, sizeof(*p));
    if (!json_is_object(o))
        return;
    json_t *t = json_object_get(o, "text");
    if (!json_is_string(t))
        t = json_object_get(o, "content");
    p->present = 1;
    p->text = json_is_string(t) ? json_string_value(t) : "";
    p->len = json_is_string(t) ? json_string_length(t) : 0;
    if (!json_is_string(t) && json_object_get(o, "textRaw")) {
        const char *seg = raw_segment(rj, json_object_get(o, "textRaw"), &p->len);
        p->text = seg ? seg : "";
        if (seg == NULL)
            p->len = 0;
    }
    p->templ = jsonget_bool(o, "template");
    p->charset = jsonget_str(o, "charset");
    p->cte = jsonget_str(o, "cte");
    if (p->cte == NULL)
        p->cte = jsonget_str(o, "contentTransferEncoding");
    if (is_body) {
        const char *ct = jsonget_str(o, "contentType");
        p->html = ct && strcasecmp(ct, "text/html") == 0;
    }
}

/*
 * prepare_attachments - the attachment entities, the inline ones (which need
 * an HTML part to live in) apart; -1 with rj->job_error
 */
static int prepare_attachments(struct rjob *rj)
{
    json_t *atts = json_object_get(rj->data, "attachments"), *a;
    size_t n = json_is_array(atts) ? json_array_size(atts) : 0, i;
    char err[240];

    rj->ent = xcalloc(n + 1, sizeof(*rj->ent));
    rj->inl = xcalloc(n + 1, sizeof(*rj->inl));
    rj->att = xcalloc(n + 1, sizeof(*rj->att));
    json_array_foreach (atts, i, a) {
        struct mime_attachment m = {jsonget_str(a, "name"), jsonget_str(a, "contentType"),
                                    jsonget_str(a, "contentId"), jsonget_str(a, "data"), 0};
        if (m.data == NULL)
            m.data = jsonget_str(a, "content");
        if (m.data == NULL && json_object_get(a, "raw"))
            m.data = raw_segment(rj, json_object_get(a, "raw"), &m.len);
        if (m.data == NULL) {
            snprintf(rj->job_error, sizeof(rj->job_error),
                     "malformed job data: attachment %zu has no content", i);
            return -1;
        }
        m.len = strlen(m.data);
        if (jsonget_bool(a, "secureDocument")) {
            /* contract §4.7: a flagged attachment is never sent unencrypted */
            snprintf(rj->job_error, sizeof(rj->job_error),
                     "attachment %.100s is flagged secureDocument but was not encrypted",
                     m.name ? m.name : "?");
            return -1;
        }
        int is_inline = m.content_id && *m.content_id && rj->body.present && rj->body.html;
        struct buf *e = &rj->ent[rj->nent++];
        buf_init(e, (size_t)rj->limit);
        if (render_mime_attachment_entity(e, &m, is_inline, err, sizeof(err)) < 0) {
            render_job_size_error(err, sizeof(err), rj);
            snprintf(rj->job_error, sizeof(rj->job_error), "%s", err);
            return -1;
        }
        if (is_inline)
            rj->inl[rj->ninl++] = e;
        else
            rj->att[rj->natt++] = e;
    }
    return 0;
}

/* prepare_texts - without templates every block has the same text parts: build them once */
static void prepare_texts(struct rjob *rj)
{
    char err[240];

    buf_init(&rj->plain_ent, (size_t)rj->limit);
    buf_init(&rj->html_ent, (size_t)rj->limit);
    if (!rj->any_template) {
        const struct part *plain = rj->body.present && !rj->body.html ? &rj->body
                                   : rj->alt.present                  ? &rj->alt
                                                                      : NULL;
        if (plain) {
            struct mime_text t = {plain->text, plain->len, plain->charset, plain->cte, "plain"};
            if (render_mime_text_entity(&rj->plain_ent, &t, err, sizeof(err)) < 0) {
                render_job_size_error(err, sizeof(err), rj);
                snprintf(rj->job_error, sizeof(rj->job_error), "text part: %s", err);
                return;
            }
            rj->have_plain = 1;
        }
        if (rj->body.present && rj->body.html) {
            struct mime_text t = {rj->body.text, rj->body.len, rj->body.charset, rj->body.cte,
                                  "html"};
            rj->have_html = 1;
            /* with tracking no copy may send this entity: leave it until one
             * does when it cannot fail (so no error comes later than here) */
            if (render_mime_text_max(&t) <= (size_t)rj->limit)
                rj->html_later = 1;
            else if (render_mime_text_entity(&rj->html_ent, &t, err, sizeof(err)) < 0) {
                render_job_size_error(err, sizeof(err), rj);
                snprintf(rj->job_error, sizeof(rj->job_error), "HTML part: %s", err);
                return;
            }
        }
    }
}

/* render_prep_job - job-level parsing: parts, attachments, job-level text entities */
void render_prep_job(struct rjob *rj)
{
    json_t *data = rj->data, *mail = json_object_get(data, "mail");
    struct render_run *run = rj->run;

    parse_part(rj, json_object_get(data, "subject"), &rj->subject, 0);
    parse_part(rj, json_object_get(data, "body"), &rj->body, 1);
    parse_part(rj, json_object_get(data, "alternative"), &rj->alt, 0);
    if (rj->body.present && !rj->body.html)
        rj->alt.present = 0; /* text/plain body: the alternative is left out [JRM] */
    rj->any_template = (rj->subject.present && rj->subject.templ) ||
                       (rj->body.present && rj->body.templ) || (rj->alt.present && rj->alt.templ);
    rj->limit = rj->any_template ? render_p.max_template : render_p.max_message;
    rj->from_hdr = json_object_get(mail, "mimeFrom");
    if (!json_is_object(rj->from_hdr) || !jsonget_str(rj->from_hdr, "addr"))
        rj->from_hdr = json_object_get(mail, "from");
    if (!render_rcpt_addr_ok(jsonget_str(rj->from_hdr, "addr")) ||
        !render_rcpt_addr_ok(run->from_addr)) {
        snprintf(rj->job_error, sizeof(rj->job_error),
                 "malformed job data: no usable sender address");
        return;
    }
    if (!rj->subject.present) {
        snprintf(rj->job_error, sizeof(rj->job_error), "malformed job data: no subject");
        return;
    }
    if (prepare_attachments(rj) < 0)
        return;
    prepare_texts(rj);
}

/* render_prep_free - what render_prep_job made */
void render_prep_free(struct rjob *rj)
{
    for (size_t i = 0; i < rj->nent; i++)
        buf_free(&rj->ent[i]);
    xfree(rj->ent);
    xfree(rj->inl);
    xfree(rj->att);
    buf_free(&rj->plain_ent);
    buf_free(&rj->html_ent);
    for (size_t i = 0; i < rj->nowned; i++)
        xfree(rj->owned[i]);
    rj->nowned = 0;
}
