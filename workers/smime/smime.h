/* smime - txmail-smime's modules; the manual is smime.c. */
#ifndef WORKERS_SMIME_H
#define WORKERS_SMIME_H
#include "global/db.h"
#include "global/dkim/dkim.h"
#include "global/intake/senderdomain.h"
#include "global/runtime/worker.h"
#include "global/smime/smime.h"
#include "global/txcode.h"

struct smime_conf {
    int64_t cert_ttl_ms;   /* smime_cert_cache_ttl */
    int64_t domain_ttl_ms; /* smime_domain_cache_ttl */
    size_t max_size;       /* smime_message_size_limit */
};
extern struct smime_conf smime_conf;

/* the signer stored for an address (smime_store.c) */
struct smime_held {
    int found;             /* a usable certificate is stored */
    struct smime_signer s; /* when found */
    char problem[240];     /* when stored but unusable */
};
int smime_store_init(void);
void smime_store_done(void);
/*
 * smime_store_signer - the signer of address (lowercase bare) of account,
 * cached for smime_cert_cache_ttl: TX_OK (out filled; release with
 * smime_store_release), TX_RETRY_DB.
 */
enum tx_code smime_store_signer(struct db *db, long long account, const char *address,
                                struct smime_held *out);
void smime_store_release(struct smime_held *h);
/*
 * smime_store_dkim_key - the sender domain's key (which: 0 RSA, 1 Ed25519)
 * for the record sd, parsed once per stored key (its fingerprint):
 * TX_OK (*out is a new reference), TX_REJECT_POLICY with err, TX_RETRY_DB.
 */
enum tx_code smime_store_dkim_key(struct db *db, const struct sender_domain *sd, int which,
                                  EVP_PKEY **out, enum dkim_alg *alg, char *err, size_t errsz);

/* smime_job_handle - the worker's handle() (smime_job.c) */
enum tx_code smime_job_handle(struct job *job);
/* smime_job_expired - the retry budget is used up: PROCESSING_FAILED */
void smime_job_expired(struct job *job);
/*
 * smime_dkim_resign - out = DKIM-Signature fields for msg by the sender
 * domain's keys of the algorithms render used (seen), then msg: 0; 1
 * when render did not sign (out = msg); -1 with err; -2 database (RETRY).
 */
int smime_dkim_resign(struct db *db, long long account, long long domain_id,
                      const struct smime_dkim_seen *seen, const char *msg, size_t len,
                      struct buf *out, const char **how, char *err, size_t errsz);
#endif
