/*
 * smime - S/MIME signing (RFC 8551) with OpenSSL CMS, for txmail-smime
 * (contract §16.5) and "txmailctl smime add".
 *
 * A signer is the certificate stored for a sender address, its private
 * key and the intermediate certificates (smime_signer_parse). Before it
 * is stored, smime_signer_check() requires that the key belongs to the
 * certificate, the certificate is valid now and names the address
 * (subjectAltName rfc822Name, else the subject's emailAddress).
 *
 * smime_sign() turns a complete message (CRLF) into a detached
 * multipart/signed (protocol="application/pkcs7-signature";
 * micalg=sha-256): the first part is the original MIME entity (every
 * Content-* field of the message and its body, byte for byte), the second
 * the CMS SignedData (DER, base64) over it, with the signer certificate,
 * the chain and SMIMECapabilities. Every other header field stays in the
 * outer header, except DKIM-Signature fields, which a changed body would
 * break: they are removed and reported (struct smime_dkim_seen) so the
 * caller signs DKIM again over the result.
 *
 * 8bit content is refused, not re-encoded: a body with octets over 127,
 * NUL, a lone CR or LF, or a Content-Transfer-Encoding of 8bit or binary
 * could be changed by a relay on the way (8BITMIME down-conversion) and
 * break the signature. txmail-render writes 7bit bodies (quoted-printable
 * and base64); only a raw SMTP submission can carry 8bit.
 *
 * The input is treated as hostile: every failure is a return of -1 with
 * the reason, never a crash. The boundary is derived from the content
 * (same input, same boundary).
 */
#ifndef TX_SMIME_H
#define TX_SMIME_H
#include "util/buf.h"
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

struct smime_signer {
    X509 *cert;
    EVP_PKEY *key;
    STACK_OF(X509) * chain; /* intermediates; NULL: none */
    int64_t not_before_ms, not_after_ms;
};

/*
 * smime_signer_parse - the PEM certificate, private key and (chainlen > 0)
 * chain; -1 with err when one cannot be read or the key does not belong
 * to the certificate. Ownership: s holds new objects (smime_signer_free).
 */
int smime_signer_parse(struct smime_signer *s, const char *cert, size_t certlen, const char *key,
                       size_t keylen, const char *chain, size_t chainlen, char *err, size_t errsz);
void smime_signer_free(struct smime_signer *s);
/* smime_signer_copy - dst shares src's objects (references taken) */
void smime_signer_copy(struct smime_signer *dst, const struct smime_signer *src);
/*
 * smime_signer_check - 0 when the certificate is valid at now_ms and names
 * address (lowercase bare) in subjectAltName rfc822Name or, without such
 * names, in the subject's emailAddress; -1 with err otherwise.
 */
int smime_signer_check(const struct smime_signer *s, const char *address, int64_t now_ms, char *err,
                       size_t errsz);
/* smime_signer_fingerprint - SHA-256 of the DER certificate, 64 hex digits */
void smime_signer_fingerprint(const struct smime_signer *s, char out[65]);

#define SMIME_DKIM_MAX 4
/* the DKIM-Signature fields smime_sign() removed */
struct smime_dkim_seen {
    int n;
    int algs;         /* 1: rsa-sha256, 2: ed25519-sha256 */
    char domain[254]; /* d= of the first one, lowercase */
};

/*
 * smime_sign - out = msg[0..len) as multipart/signed by s; seen = the
 * DKIM-Signature fields dropped. -1 with err (the message is malformed,
 * has 8bit content, or CMS fails).
 */
int smime_sign(struct buf *out, const char *msg, size_t len, const struct smime_signer *s,
               struct smime_dkim_seen *seen, char *err, size_t errsz);

/*
 * smime_split - the header block of msg (fields, each with its CRLF, up to
 * and not including the empty line) and the body after it: 0, or -1
 * when there is no empty line ending the header.
 */
int smime_split(const char *msg, size_t len, size_t *hdrlen, const char **body, size_t *bodylen);
/*
 * smime_next_field - the field at hdr[*pos] (name to its last CRLF,
 * continuation lines included) as [*start, *end); 0, or -1 at the end.
 */
int smime_next_field(const char *hdr, size_t hdrlen, size_t *pos, size_t *start, size_t *end);

#endif
