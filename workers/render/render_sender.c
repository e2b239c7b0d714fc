/*
 * render_sender - what the sender domain puts on each copy: the envelope
 * sender (rewrite, VERP, bare from) and the DKIM signatures.
 */
#include "workers/render/render.h"
#include "global/verp.h"

#include <stdio.h>

int render_sender_mail_from(const struct render_run *run, const char *rid, char *out, size_t outsz)
{
    if (run->rewrite_from[0])
        snprintf(out, outsz, "%s", run->rewrite_from);
    else if (run->dom && run->dom->bounce_domain[0] && verp_have_key()) {
        if (verp_address(rid, run->dom->bounce_domain, out, outsz) < 0)
            snprintf(out, outsz, "%s", run->from_addr);
    } else
        snprintf(out, outsz, "%s", run->from_addr);
    return 0;
}

int render_sender_sign_copy(struct render_run *run, struct buf *out, const char *hdr, size_t hdrlen,
                            const char *body, size_t bodylen, const unsigned char bh[32],
                            const char **how, char *err, size_t errsz)
{
    const struct render_domain *d = run->dom;
    static const char *const names[] = {"none", "rsa-sha256", "ed25519-sha256",
                                        "rsa-sha256+ed25519-sha256"};
    int mask = 0;

    if (d == NULL || d->nsign == 0) {
        if (d && d->policy_drop)
            return 1;
        *how = "none";
    } else {
        for (int i = 0; i < d->nsign; i++) {
            if (dkim_sign(out, &d->sign[i], hdr, hdrlen, bh, run->t_sign, err, errsz) < 0)
                return -1;
            mask |= d->sign[i].alg == DKIM_RSA_SHA256 ? 1 : 2;
        }
        *how = names[mask];
    }
    if (buf_append(out, hdr, hdrlen) < 0 || buf_append(out, "\r\n", 2) < 0 ||
        buf_append(out, body, bodylen) < 0) {
        snprintf(err, errsz, "message too large");
        return -1;
    }
    return 0;
}
