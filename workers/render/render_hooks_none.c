/*
 * render_hooks_none - the interim hooks, until the template engine and
 * tracking (issue 7) exist; see render_hooks.h.
 *
 * INTERIM: a templated part is never sent unrendered: the block is
 * dropped with PROCESSING_FAILED "template rendering is not available".
 * Messages go out without tracking and without txmail's one-click URL.
 */
#include "workers/render/render_hooks.h"

#include <stdio.h>

int hook_template_part(struct render_run *run, enum render_part part, const char *src, size_t len,
                       json_t *personalization, struct buf *out, char *err, size_t errsz)
{
    (void)run, (void)part, (void)src, (void)len, (void)personalization, (void)out;
    snprintf(err, errsz, "template rendering is not available");
    return -1;
}

int hook_track_html(struct render_run *run, const struct render_rcpt *r, json_t *block, int open,
                    int link, const char *html, size_t len, const char *const *unsub, size_t nunsub,
                    struct buf *out, char *err, size_t errsz)
{
    (void)run, (void)r, (void)block, (void)open, (void)link, (void)html, (void)len;
    (void)unsub, (void)nunsub, (void)out, (void)err, (void)errsz;
    return 0;
}

int hook_unsubscribe_url(struct render_run *run, const struct render_rcpt *r, char *out, size_t outsz)
{
    (void)run, (void)r;
    if (outsz)
        out[0] = 0;
    return 0;
}

void hook_run_done(struct render_run *run)
{
    (void)run;
}
