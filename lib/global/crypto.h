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

/* pwhash_create - hash password. Ownership: new string. */
char *pwhash_create(const char *password, int iterations);
/* pwhash_verify - 1 when password matches stored, 0 when not or stored is malformed */
int pwhash_verify(const char *password, const char *stored);

/* secret_set_master_key - from 64 hex digits; -1 when malformed */
int secret_set_master_key(const char *hex);
int secret_have_master_key(void);
/* secret_encrypt - into out (text); -1 without a master key */
int secret_encrypt(struct buf *out, const void *plain, size_t len);
/* secret_decrypt - into out; -1 on a bad or forged value */
int secret_decrypt(struct buf *out, const char *text, size_t len);

void hmac_sha256(unsigned char out[32], const void *key, size_t keylen,
                 const void *data, size_t len);
void sha256(unsigned char out[32], const void *data, size_t len);
/* ct_equal - constant-time comparison of equal-length buffers */
int ct_equal(const void *a, const void *b, size_t len);

#endif
