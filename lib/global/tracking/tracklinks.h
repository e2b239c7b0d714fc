/*
 * tracklinks - open and link tracking of one HTML part (contract §15.2,
 * §15.3).
 *
 * tracklinks_scan() reads the HTML once per block: it finds the href of
 * every <a> and <area> start tag (tag and attribute names in any case;
 * double-quoted, single-quoted or unquoted values; comments, <script>,
 * <style> and the other raw-text elements skipped; the links inside
 * Outlook's conditional comments included) and the place of the pixel
 * (right before the last </body>, else the end). A link is rewritten
 * when its value, after decoding HTML character references and removing
 * the white space a browser ignores, is an absolute http: or https: URL
 * that is not one of the message's List-Unsubscribe URLs and does not
 * already point at the tracking host. mailto:, tel:, relative and
 * fragment-only links, and URLs longer than TRACK_URL_MAX, stay as they
 * are.
 *
 * tracklinks_emit() writes one recipient copy: each rewritten href
 * becomes "<base>/t/c/<token>" and the pixel
 * <img src="<base>/t/o/<token>.gif" width="1" height="1" alt="" border="0">
 * is inserted, with that copy's tokens (job, block and address index),
 * each bound to the host of <base> (contract §15.5, tracktoken_host).
 *
 * Hostile HTML never makes it fail or read out of bounds: an
 * unterminated tag or quote ends the scan (the rest is copied as is).
 * The output is bounded by out's maximum.
 */
#ifndef TX_TRACKLINKS_H
#define TX_TRACKLINKS_H

#include "global/ids.h"
#include "global/tracking/tracktoken.h"
#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

struct tracklinks_plan;

/* what one recipient copy gets */
struct tracklinks_copy {
    const char *base; /* tracking base URL, e.g. "https://t.example.com" */
    const struct track_keys *keys;
    struct uuid job;
    uint32_t block, addr;
    uint32_t expiry; /* of the open and click tokens (Unix seconds) */
    int links;       /* rewrite the links */
    int open;        /* insert the pixel */
};

/*
 * tracklinks_scan - plan the rewriting of html[0..len). skip (n entries)
 * are URLs never rewritten (the List-Unsubscribe URLs); base is the
 * tracking base (links already pointing at it are left alone).
 * Ownership: new; html must outlive the plan (borrowed).
 */
struct tracklinks_plan *tracklinks_scan(const char *html, size_t len, const char *const *skip,
                                        size_t nskip, const char *base);
/* tracklinks_links - number of links the plan rewrites */
int tracklinks_links(const struct tracklinks_plan *p);
/* tracklinks_url - the original URL of link i (decoded). Ownership: borrowed. */
const char *tracklinks_url(const struct tracklinks_plan *p, int i);
/*
 * tracklinks_emit - append the copy for c to out; 0, or -1 when out's
 * maximum is reached or a token cannot be made.
 */
int tracklinks_emit(const struct tracklinks_plan *p, const struct tracklinks_copy *c,
                    struct buf *out);
void tracklinks_plan_free(struct tracklinks_plan *p);

/* tracklinks_pixel - append the pixel element for c to out */
int tracklinks_pixel(const struct tracklinks_copy *c, struct buf *out);
/*
 * tracklinks_url_for - append "<base>/t/<kind>/<token>[.gif]" for c to out,
 * the token bound to the host of c->base; -1 when base has no host
 */
int tracklinks_url_for(const struct tracklinks_copy *c, int kind, const char *url, size_t url_len,
                       uint32_t expiry, struct buf *out);

#endif
