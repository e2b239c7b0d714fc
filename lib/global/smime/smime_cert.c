/* smime_cert - the signer's certificate, key and chain; see smime.h. */
#include "global/smime/smime.h"
#include "util/codec.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static BIO *mem(const char *p, size_t len)
{
    return len > (size_t)0x7fffffff ? NULL : BIO_new_mem_buf(p, (int)len);
}

static int64_t asn1_ms(const ASN1_TIME *t)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return -1;
    return (int64_t)timegm(&tm) * 1000;
}

void smime_signer_free(struct smime_signer *s)
{
    X509_free(s->cert);
    EVP_PKEY_free(s->key);
    sk_X509_pop_free(s->chain, X509_free);
    memset(s, 0, sizeof(*s));
}

void smime_signer_copy(struct smime_signer *dst, const struct smime_signer *src)
{
    *dst = *src;
    if (src->cert)
        X509_up_ref(src->cert);
    if (src->key)
        EVP_PKEY_up_ref(src->key);
    dst->chain = src->chain ? X509_chain_up_ref(src->chain) : NULL;
}

static int fail(struct smime_signer *s, char *err, size_t errsz, const char *what)
{
    snprintf(err, errsz, "%s", what);
    ERR_clear_error();
    smime_signer_free(s);
    return -1;
}

int smime_signer_parse(struct smime_signer *s, const char *cert, size_t certlen, const char *key,
                       size_t keylen, const char *chain, size_t chainlen, char *err, size_t errsz)
{
    BIO *b;

    memset(s, 0, sizeof(*s));
    if ((b = mem(cert, certlen)) != NULL) {
        s->cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
    }
    if (s->cert == NULL)
        return fail(s, err, errsz, "the certificate is not a PEM X.509 certificate");
    /* no passphrase callback: an encrypted key is refused, never prompted for */
    if ((b = mem(key, keylen)) != NULL) {
        s->key = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"");
        BIO_free(b);
    }
    if (s->key == NULL)
        return fail(s, err, errsz, "the key is not an unencrypted PEM private key");
    if (X509_check_private_key(s->cert, s->key) != 1)
        return fail(s, err, errsz, "the key does not match the certificate");
    if (chainlen > 0) {
        X509 *x;
        if ((b = mem(chain, chainlen)) == NULL)
            return fail(s, err, errsz, "the chain cannot be read");
        s->chain = sk_X509_new_null();
        while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
            if (s->chain == NULL || !sk_X509_push(s->chain, x)) {
                X509_free(x);
                break;
            }
        BIO_free(b);
        if (s->chain == NULL || sk_X509_num(s->chain) == 0)
            return fail(s, err, errsz, "the chain holds no PEM certificate");
    }
    ERR_clear_error();
    s->not_before_ms = asn1_ms(X509_get0_notBefore(s->cert));
    s->not_after_ms = asn1_ms(X509_get0_notAfter(s->cert));
    if (s->not_before_ms < 0 || s->not_after_ms < 0)
        return fail(s, err, errsz, "the certificate's validity cannot be read");
    return 0;
}

/* names - 1 when the certificate names address (case-insensitively) */
static int names(X509 *cert, const char *address, int *had_san)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int found = 0;

    *had_san = 0;
    for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_EMAIL)
            continue;
        *had_san = 1;
        const ASN1_IA5STRING *v = g->d.rfc822Name;
        if ((size_t)v->length == strlen(address) &&
            strncasecmp((const char *)v->data, address, (size_t)v->length) == 0)
            found = 1;
    }
    GENERAL_NAMES_free(gens);
    if (found || *had_san)
        return found;
    /* no rfc822Name: the subject's emailAddress (RFC 8550 §3) */
    const X509_NAME *subj = X509_get_subject_name(cert);
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subj, NID_pkcs9_emailAddress, i)) >= 0;) {
        const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i));
        if ((size_t)ASN1_STRING_length(v) == strlen(address) &&
            strncasecmp((const char *)ASN1_STRING_get0_data(v), address,
                        (size_t)ASN1_STRING_length(v)) == 0)
            return 1;
    }
    return 0;
}

int smime_signer_check(const struct smime_signer *s, const char *address, int64_t now_ms, char *err,
                       size_t errsz)
{
    int had_san;

    if (now_ms < s->not_before_ms) {
        snprintf(err, errsz, "the certificate is not valid yet");
        return -1;
    }
    if (now_ms >= s->not_after_ms) {
        snprintf(err, errsz, "the certificate has expired");
        return -1;
    }
    if (!names(s->cert, address, &had_san)) {
        snprintf(err, errsz, "the certificate does not name %s (%s)", address,
                 had_san ? "not among its subjectAltName rfc822Name entries"
                         : "no subjectAltName rfc822Name, no subject emailAddress");
        return -1;
    }
    return 0;
}

void smime_signer_fingerprint(const struct smime_signer *s, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (X509_digest(s->cert, EVP_sha256(), md, &n) != 1 || n != 32) {
        out[0] = 0;
        return;
    }
    codec_hex_encode(out, md, 32);
}
