/*
 * smime_dkim - DKIM after S/MIME: the signed message gets new
 * DKIM-Signature fields by the keys render used (the algorithms of the
 * fields render added, which smime_sign() removed), read from the sender
 * domain's record; render did not sign, this does not either.
 */
#include "workers/smime/smime.h"
#include "util/msg.h"
#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int smime_dkim_resign(struct db *db, long long account, long long domain_id,
                      const struct smime_dkim_seen *seen, const char *msg, size_t len,
                      struct buf *out, const char **how, char *err, size_t errsz)
{
    static const char *const names[] = {"none", "rsa-sha256", "ed25519-sha256",
                                        "rsa-sha256+ed25519-sha256"};
    struct sender_domain sd;
    unsigned char bh[32];
    size_t hdrlen, bodylen;
    const char *body;
    int mask = 0;

    *how = "none";
    if (seen->n == 0 || seen->algs == 0)
        return buf_append(out, msg, len) < 0 ? -1 : 1;
    enum tx_code rc = senderdomain_by_id(db, account, domain_id, smime_conf.domain_ttl_ms, &sd);
    if (rc == TX_RETRY_DB)
        return -2;
    if (rc != TX_OK || strcasecmp(sd.domain, seen->domain) != 0) {
        snprintf(err, errsz, "DKIM after S/MIME: the sender domain %s is not registered",
                 seen->domain);
        return -1;
    }
    if (smime_split(msg, len, &hdrlen, &body, &bodylen) < 0) {
        snprintf(err, errsz, "DKIM after S/MIME: no end of header");
        return -1;
    }
    dkim_body_hash(bh, body, bodylen);
    for (int which = 0; which < 2; which++) {
        const char *sel = which ? sd.dkim_ed_selector : sd.dkim_selector;
        EVP_PKEY *pkey;
        enum dkim_alg alg;
        char kerr[200];

        if (!(seen->algs & (1 << which)) || !sel[0])
            continue;
        rc = smime_store_dkim_key(db, &sd, which, &pkey, &alg, kerr, sizeof(kerr));
        if (rc == TX_RETRY_DB)
            return -2;
        if (rc != TX_OK) {
            snprintf(err, errsz, "DKIM after S/MIME: %s", kerr);
            return -1;
        }
        struct dkim_key k = {pkey, alg, sd.domain, sel};
        int r = dkim_sign(out, &k, msg, hdrlen, bh, timeutil_now_ms() / 1000, kerr, sizeof(kerr));
        EVP_PKEY_free(pkey);
        if (r < 0) {
            snprintf(err, errsz, "DKIM after S/MIME: %s", kerr);
            return -1;
        }
        mask |= alg == DKIM_RSA_SHA256 ? 1 : 2;
    }
    *how = names[mask];
    if (buf_append(out, msg, len) < 0) {
        snprintf(err, errsz, "message too large");
        return -1;
    }
    return mask ? 0 : 1;
}
