/* crypto - passwords, secrets at rest, HMAC; see crypto.h. */
#include "global/crypto.h"
#include "global/ids.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char master[CRYPTO_MASTER_KEY_LEN];
static int have_master;

void crypto_sha256(unsigned char out[32], const void *data, size_t len)
{
    unsigned int n = 32;

    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void crypto_hmac_sha256(unsigned char out[32], const void *key, size_t keylen, const void *data,
                        size_t len)
{
    unsigned int n = 32;

    HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n);
}

int crypto_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

char *crypto_pwhash_create(const char *password, int iterations)
{
    unsigned char salt[16], hash[32];
    struct buf s = BUF_INIT(64), h = BUF_INIT(64);
    char *out;

    ids_random_bytes(salt, sizeof(salt));
    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt), iterations, EVP_sha256(),
                      sizeof(hash), hash);
    codec_b64_encode(&s, salt, sizeof(salt));
    codec_b64_encode(&h, hash, sizeof(hash));
    out = xasprintf("pbkdf2-sha256$%d$%s$%s", iterations, buf_ptr(&s), buf_ptr(&h));
    buf_free(&s);
    buf_free(&h);
    explicit_bzero(hash, sizeof(hash));
    return out;
}

int crypto_pwhash_verify(const char *password, const char *stored)
{
    const char *prefix = "pbkdf2-sha256$";
    char *copy, *iter_s, *salt_s, *hash_s, *end;
    struct buf salt = BUF_INIT(256), want = BUF_INIT(256);
    unsigned char got[64];
    long iter;
    int ok = 0;

    if (strncmp(stored, prefix, strlen(prefix)) != 0)
        return 0;
    copy = xstrdup(stored + strlen(prefix));
    iter_s = copy;
    if ((salt_s = strchr(iter_s, '$')) == NULL)
        goto out;
    *salt_s++ = 0;
    if ((hash_s = strchr(salt_s, '$')) == NULL)
        goto out;
    *hash_s++ = 0;
    iter = strtol(iter_s, &end, 10);
    if (*end || iter < 1000 || iter > 10000000)
        goto out;
    if (codec_b64_decode(&salt, salt_s, strlen(salt_s), 0) < 0 ||
        codec_b64_decode(&want, hash_s, strlen(hash_s), 0) < 0 || want.len == 0 ||
        want.len > sizeof(got))
        goto out;
    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), (unsigned char *)salt.data, (int)salt.len,
                      (int)iter, EVP_sha256(), (int)want.len, got);
    ok = crypto_ct_equal(got, want.data, want.len);
    explicit_bzero(got, sizeof(got));
out:
    buf_free(&salt);
    buf_free(&want);
    xfree(copy);
    return ok;
}

int crypto_set_master_key(const char *hex)
{
    if (hex == NULL || strlen(hex) != 2 * CRYPTO_MASTER_KEY_LEN ||
        codec_hex_decode(master, hex, CRYPTO_MASTER_KEY_LEN) < 0) {
        have_master = 0;
        return -1;
    }
    have_master = 1;
    return 0;
}

int crypto_have_master_key(void)
{
    return have_master;
}

int crypto_secret_encrypt(struct buf *out, const void *plain, size_t len)
{
    unsigned char nonce[12], tag[16];
    unsigned char *ct, *blob;
    int n = 0, f = 0, rc = -1;
    EVP_CIPHER_CTX *ctx;

    if (!have_master)
        return -1;
    ids_random_bytes(nonce, sizeof(nonce));
    ct = xmalloc(len + 16);
    ctx = EVP_CIPHER_CTX_new();
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, master, nonce) != 1 ||
        EVP_EncryptUpdate(ctx, ct, &n, plain, (int)len) != 1 ||
        EVP_EncryptFinal_ex(ctx, ct + n, &f) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
        goto out;
    blob = xmalloc(12 + (size_t)(n + f) + 16);
    memcpy(blob, nonce, 12);
    memcpy(blob + 12, ct, (size_t)(n + f));
    memcpy(blob + 12 + n + f, tag, 16);
    if (buf_puts(out, "v1:") == 0 && codec_b64_encode(out, blob, 12 + (size_t)(n + f) + 16) == 0)
        rc = 0;
    xfree(blob);
out:
    EVP_CIPHER_CTX_free(ctx);
    xfree(ct);
    return rc;
}

int crypto_secret_decrypt(struct buf *out, const char *text, size_t len)
{
    struct buf blob = BUF_INIT(1 << 20);
    EVP_CIPHER_CTX *ctx = NULL;
    int n = 0, f = 0, rc = -1;

    if (!have_master || len < 3 || memcmp(text, "v1:", 3) != 0 ||
        codec_b64_decode(&blob, text + 3, len - 3, 0) < 0 || blob.len < 28)
        goto out;
    size_t ctlen = blob.len - 28;
    unsigned char *b = (unsigned char *)blob.data;
    if (buf_reserve(out, ctlen + 16) < 0)
        goto out;
    ctx = EVP_CIPHER_CTX_new();
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, master, b) != 1 ||
        EVP_DecryptUpdate(ctx, (unsigned char *)out->data + out->len, &n, b + 12, (int)ctlen) !=
            1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, b + 12 + ctlen) != 1 ||
        EVP_DecryptFinal_ex(ctx, (unsigned char *)out->data + out->len + n, &f) != 1) {
        explicit_bzero(out->data + out->len, ctlen);
        goto out;
    }
    out->len += (size_t)(n + f);
    out->data[out->len] = 0;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    buf_free(&blob);
    return rc;
}
