/*
 * smime_store - the signing certificates (table smime_cert) and the sender
 * domains' DKIM keys, read, decrypted and parsed once and kept in TTL
 * caches (lib/util/ttlcache.h) shared by the handler threads. A value is
 * a set of OpenSSL references: a copy out of the cache takes references,
 * so an entry replaced meanwhile never frees an object in use. Keys are
 * never logged.
 */
#include "workers/smime/smime.h"
#include "global/crypto.h"
#include "util/msg.h"
#include "util/ttlcache.h"

#include <stdio.h>
#include <string.h>

#define CERT_ENTRIES 4096
#define KEY_ENTRIES 1024

static void held_copy(void *dst, const void *src)
{
    const struct smime_held *s = src;
    struct smime_held *d = dst;

    *d = *s;
    if (s->found)
        smime_signer_copy(&d->s, &s->s);
}

static void held_clear(void *v)
{
    struct smime_held *h = v;

    if (h->found)
        smime_signer_free(&h->s);
    memset(h, 0, sizeof(*h));
}

struct keyval {
    EVP_PKEY *pkey;
    enum dkim_alg alg;
};

static void key_copy(void *dst, const void *src)
{
    const struct keyval *s = src;

    *(struct keyval *)dst = *s;
    EVP_PKEY_up_ref(s->pkey);
}

static void key_clear(void *v)
{
    EVP_PKEY_free(((struct keyval *)v)->pkey);
}

static const struct ttlcache_type held_type = {sizeof(struct smime_held), held_copy, held_clear};
static const struct ttlcache_type key_type = {sizeof(struct keyval), key_copy, key_clear};
static struct ttlcache *certs, *keys;

int smime_store_init(void)
{
    certs = ttlcache_create(&held_type, CERT_ENTRIES, TTLCACHE_LOCKED);
    keys = ttlcache_create(&key_type, KEY_ENTRIES, TTLCACHE_LOCKED);
    return 0;
}

void smime_store_done(void)
{
    ttlcache_free(certs);
    ttlcache_free(keys);
    certs = keys = NULL;
}

void smime_store_release(struct smime_held *h)
{
    held_clear(h);
}

/* load - the row of address into h (found or not, or unusable) */
static enum tx_code load(struct db *db, long long account, const char *address,
                         struct smime_held *h)
{
    struct buf pem = BUF_INIT(1 << 20);
    struct db_res *r;
    char err[200];

    memset(h, 0, sizeof(*h));
    if (db_query(db, &r,
                 "SELECT cert_pem, chain_pem, key_enc FROM smime_cert "
                 "WHERE account_id = ? AND address = ?",
                 "is", account, address) != TX_OK)
        return TX_RETRY_DB;
    if (db_res_rows(r) == 1) {
        const char *cert = db_res_get(r, 0, 0), *chain = db_res_get(r, 0, 1);
        const char *key = db_res_get(r, 0, 2);
        if (cert == NULL || key == NULL ||
            crypto_secret_decrypt(&pem, key, db_res_len(r, 0, 2)) < 0)
            snprintf(h->problem, sizeof(h->problem),
                     "the stored key cannot be decrypted with master_key_file");
        else if (smime_signer_parse(&h->s, cert, db_res_len(r, 0, 0), pem.data, pem.len, chain,
                                    chain ? db_res_len(r, 0, 1) : 0, err, sizeof(err)) < 0)
            snprintf(h->problem, sizeof(h->problem), "the stored certificate: %s", err);
        else
            h->found = 1;
        if (h->problem[0])
            msg_warn("account %lld, signing certificate for %s: %s", account, address, h->problem);
    }
    if (pem.data)
        explicit_bzero(pem.data, pem.len);
    buf_free(&pem);
    db_res_free(r);
    return TX_OK;
}

enum tx_code smime_store_signer(struct db *db, long long account, const char *address,
                                struct smime_held *out)
{
    char key[300];
    enum tx_code rc;

    snprintf(key, sizeof(key), "%lld\t%s", account, address);
    if (ttlcache_get(certs, key, out))
        return TX_OK;
    if ((rc = load(db, account, address, out)) != TX_OK)
        return rc;
    ttlcache_put(certs, key, out, smime_conf.cert_ttl_ms);
    return TX_OK;
}

enum tx_code smime_store_dkim_key(struct db *db, const struct sender_domain *sd, int which,
                                  EVP_PKEY **out, enum dkim_alg *alg, char *err, size_t errsz)
{
    const char *fp = which ? sd->dkim_ed_fp : sd->dkim_fp;
    struct keyval v;
    char key[200];
    enum tx_code rc;

    snprintf(key, sizeof(key), "%lld:%lld:%d:%s", sd->account_id, sd->id, which, fp);
    if (ttlcache_get(keys, key, &v)) {
        *out = v.pkey, *alg = v.alg;
        return TX_OK;
    }
    rc = dkim_store_key(db, sd->account_id, sd->id, which, &v.pkey, &v.alg, err, errsz);
    if (rc != TX_OK)
        return rc;
    ttlcache_put(keys, key, &v, smime_conf.domain_ttl_ms);
    *out = v.pkey, *alg = v.alg;
    return TX_OK;
}
