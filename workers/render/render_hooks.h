/*
 * render_hooks - the call points of issue 7 (template rendering, open and
 * link tracking, one-click unsubscribe) in txmail-render.
 *
 * The REST job (render_block.c, render_copy.c) and render_raw.c call
 * exactly these functions, once per place: a part is templated in
 * render_track_template_part() (per block), the HTML of one copy is
 * post-processed in render_track_html(), and the one-click URL of one copy
 * comes from render_track_unsubscribe_url(). They are
 * implemented in workers/render/render_track.c over lib/global/template
 * and lib/global/tracklinks.
 */
#ifndef RENDER_HOOKS_H
#define RENDER_HOOKS_H

#include "util/buf.h"
#include "workers/render/render.h"

#include <jansson.h>

enum render_part { PART_SUBJECT, PART_BODY, PART_ALTERNATIVE };

/*
 * render_track_template_part - render the template source of part ("subject",
 * "body", "alternative") for one block with its personalization object
 * into out (UTF-8). The engine may keep parsed templates in
 * run->tpl_state (freed by render_track_run_done). 0, or -1 with the contract's
 * §9.5 description in err.
 */
int render_track_template_part(struct render_run *run, enum render_part part, const char *src,
                               size_t len, json_t *personalization, struct buf *out, char *err,
                               size_t errsz);
/*
 * render_track_html - the HTML of one copy with tracking applied (pixel,
 * rewritten links) into out. block is the recipient block (json), open
 * and link the effective switches, unsub the List-Unsubscribe URLs of
 * the message (never rewritten). 1 when out holds a rewritten HTML,
 * 0 when the copy keeps the block's HTML, -1 with err.
 */
int render_track_html(struct render_run *run, const struct render_rcpt *r, json_t *block, int open,
                      int link, const char *html, size_t len, const char *const *unsub,
                      size_t nunsub, struct buf *out, char *err, size_t errsz);
/*
 * render_track_unsubscribe_url - txmail's one-click URL for the copy of r into
 * out (https://<tracking host>/t/u/<token>) when the account enables
 * one-click unsubscribe; 1 with a URL, 0 without.
 */
int render_track_unsubscribe_url(struct render_run *run, const struct render_rcpt *r, char *out,
                                 size_t outsz);
/* render_track_run_done - release what the hooks kept for the job */
void render_track_run_done(struct render_run *run);

#endif
