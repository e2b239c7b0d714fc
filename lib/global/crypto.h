/*
 * crypto - the only module that uses OpenSSL's crypto primitives
 * (TLS lives with the servers and clients).
 *
 *  - passwords: PBKDF2-HMAC-SHA256, "pbkdf2-sha256$<iter>$<salt>$<hash>"
 *    (base64), verified in constant time;
 *  - secrets at rest: AES-256-GCM under the installation's master key
 *    (master_key_file: 64 hex digits), "v1:" + base64(nonce|ct|tag);
 *  - HMAC-SHA256 and SHA-256 helpers.
 */
#ifndef TX_CRYPTO_H
#define TX_CRYPTO_H

#include "util/buf.h"
#include <stddef.h>

#define PWHASH_ITERATIONS 200000
#define CRYPTO_MASTER_KEY_LEN 32

/* crypto_pwhash_create - hash password. Ownership: new string. */
char *crypto_pwhash_create(const char *password, int iterations);
/* crypto_pwhash_verify - 1 when password matches stored, 0 when not or stored is malformed */
int crypto_pwhash_verify(const char *password, const char *stored);

/* crypto_set_master_key - from 64 hex digits; -1 when malformed */
int crypto_set_master_key(const char *hex);
int crypto_have_master_key(void);
/* crypto_secret_encrypt - into out (text); -1 without a master key */
int crypto_secret_encrypt(struct buf *out, const void *plain, size_t len);
/* crypto_secret_decrypt - into out; -1 on a bad or forged value */
int crypto_secret_decrypt(struct buf *out, const char *text, size_t len);

void crypto_hmac_sha256(unsigned char out[32], const void *key, size_t keylen, const void *data,
                        size_t len);
void crypto_sha256(unsigned char out[32], const void *data, size_t len);
/* crypto_ct_equal - constant-time comparison of equal-length buffers */
int crypto_ct_equal(const void *a, const void *b, size_t len);

#endif
