/*
 * dkim - DKIM signatures (RFC 6376) with OpenSSL: relaxed/relaxed
 * canonicalization, rsa-sha256 and ed25519-crypto_sha256 (RFC 8463).
 *
 * The body hash is computed once per body (dkim_body_hash) and reused for
 * every copy that shares the body; dkim_sign() then only canonicalizes
 * the header fields and signs. Keys are parsed once (dkim_key_from_pem)
 * and shared read-only between threads.
 *
 * Signed header fields: every instance of From, To, Cc, Subject, Date,
 * Message-ID, Reply-To, In-Reply-To, References, MIME-Version,
 * Content-Type, Content-Transfer-Encoding, List-Unsubscribe,
 * List-Unsubscribe-Post, List-Id, Sender; From is listed once more than
 * it occurs ("over-signed"), so a second From cannot be added later.
 */
#ifndef TX_DKIM_H
#define TX_DKIM_H

#include "global/txcode.h"
#include "util/buf.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

enum dkim_alg { DKIM_RSA_SHA256 = 1, DKIM_ED25519_SHA256 = 2 };

struct dkim_key {
    EVP_PKEY *pkey; /* borrowed */
    enum dkim_alg alg;
    const char *domain;   /* d= */
    const char *selector; /* s= */
};

/*
 * dkim_key_from_pem - parse a PEM private key (PKCS#8 or traditional);
 * *alg from its type (RSA or Ed25519). Ownership: *out is new
 * (EVP_PKEY_free). -1 with err.
 */
int dkim_key_from_pem(EVP_PKEY **out, enum dkim_alg *alg, const char *pem, size_t len, char *err,
                      size_t errsz);
/* dkim_body_hash - SHA-256 of the relaxed canonical body */
void dkim_body_hash(unsigned char bh[32], const char *body, size_t len);
/*
 * dkim_sign - append one "DKIM-Signature: ..." field (CRLF-terminated,
 * folded) for the header block hdr[0..hdrlen) (fields up to, not
 * including, the empty line) and the body hash bh; t = signing time
 * (seconds; 0 leaves t= out). -1 with err when signing fails.
 */
int dkim_sign(struct buf *out, const struct dkim_key *k, const char *hdr, size_t hdrlen,
              const unsigned char bh[32], int64_t t, char *err, size_t errsz);

/* canonical forms, exposed for the unit tests */
void dkim_canon_body(struct buf *out, const char *body, size_t len);
/* dkim_canon_header - one field (name to its last CRLF) in relaxed form, with CRLF */
void dkim_canon_header(struct buf *out, const char *field, size_t len);

/*
 * dkim_store_decrypt - a stored key (the sender_domain column's value,
 * encrypted under master_key_file) decrypted and parsed: 0 with *out new
 * (EVP_PKEY_free) and *alg, or -1 with err ("the <what> key cannot be
 * decrypted", or the parser's reason). The plaintext is wiped.
 */
int dkim_store_decrypt(EVP_PKEY **out, enum dkim_alg *alg, const char *blob, size_t blen,
                       const char *what, char *err, size_t errsz);
/*
 * dkim_store_key - the sender domain's stored key (which: 0 RSA, 1
 * Ed25519) read from its sender_domain row (domain_id of account_id),
 * decrypted under master_key_file and parsed: TX_OK with *out new
 * (EVP_PKEY_free) and *alg; TX_REJECT_POLICY with err when there is no
 * such key or it cannot be decrypted or parsed; TX_RETRY_DB. The key is
 * never logged.
 */
struct db;
enum tx_code dkim_store_key(struct db *db, long long account_id, long long domain_id, int which,
                            EVP_PKEY **out, enum dkim_alg *alg, char *err, size_t errsz);

#endif
