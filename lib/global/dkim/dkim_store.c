/* dkim_store - a sender domain's stored DKIM key; see dkim.h. */
#include "global/crypto.h"
#include "global/db.h"
#include "global/dkim/dkim.h"

#include <stdio.h>
#include <string.h>

int dkim_store_decrypt(EVP_PKEY **out, enum dkim_alg *alg, const char *blob, size_t blen,
                       const char *what, char *err, size_t errsz)
{
    struct buf pem = BUF_INIT(65536);
    int rc = -1;

    *out = NULL;
    if (crypto_secret_decrypt(&pem, blob, blen) < 0)
        snprintf(err, errsz, "the %s key cannot be decrypted", what);
    else if (dkim_key_from_pem(out, alg, pem.data, pem.len, err, errsz) == 0)
        rc = 0;
    if (pem.data)
        explicit_bzero(pem.data, pem.len);
    buf_free(&pem);
    return rc;
}

enum tx_code dkim_store_key(struct db *db, long long account_id, long long domain_id, int which,
                            EVP_PKEY **out, enum dkim_alg *alg, char *err, size_t errsz)
{
    struct db_res *r = NULL;
    enum tx_code rc = TX_REJECT_POLICY;
    const char *what = which ? "Ed25519" : "RSA";

    *out = NULL;
    if (db_query(db, &r,
                 which ? "SELECT dkim_ed_key FROM sender_domain WHERE id = ? AND account_id = ?"
                       : "SELECT dkim_key FROM sender_domain WHERE id = ? AND account_id = ?",
                 "ii", domain_id, account_id) != TX_OK)
        return TX_RETRY_DB;
    const char *blob = db_res_rows(r) ? db_res_get(r, 0, 0) : NULL;
    size_t blen = blob ? db_res_len(r, 0, 0) : 0;
    if (blen == 0)
        snprintf(err, errsz, "no %s key", what);
    else if (dkim_store_decrypt(out, alg, blob, blen, what, err, errsz) == 0)
        rc = TX_OK;
    db_res_free(r);
    return rc;
}
