/* smime_test - signer checks, multipart/signed structure, CMS verification */
#include "tests/harness/ttest.h"
#include "global/smime/smime.h"
#include "global/smime/smime_fixtures.h"
#include "util/codec.h"
#include "util/timeutil.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <string.h>

#define MSG                                                                                        \
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=Example.com; s=s1;\r\n"               \
    "\tb=abc\r\n"                                                                                  \
    "From: Alice <alice@example.com>\r\n"                                                          \
    "To: bob@example.org\r\n"                                                                      \
    "Subject: hi\r\n"                                                                              \
    "MIME-Version: 1.0\r\n"                                                                        \
    "Content-Type: text/plain;\r\n charset=utf-8\r\n"                                              \
    "Content-Transfer-Encoding: quoted-printable\r\n"                                              \
    "\r\n"                                                                                         \
    "Hello =C3=BC\r\n"

static void signer(struct smime_signer *s, const char *cert, const char *key)
{
    char err[200];
    TT_EQ_INT(smime_signer_parse(s, cert, strlen(cert), key, strlen(key), CA_PEM, strlen(CA_PEM),
                                 err, sizeof(err)),
              0);
}

TT_TEST(parse_and_check)
{
    struct smime_signer s;
    char err[200];
    int64_t now = timeutil_now_ms();

    signer(&s, ALICE_PEM, ALICE_KEY);
    TT_EQ_INT(sk_X509_num(s.chain), 1);
    TT_ASSERT(s.not_before_ms <= now && s.not_after_ms > now);
    TT_EQ_INT(smime_signer_check(&s, "alice@example.com", now, err, sizeof(err)), 0);
    TT_EQ_INT(smime_signer_check(&s, "ALICE@example.com", now, err, sizeof(err)), 0);
    TT_EQ_INT(smime_signer_check(&s, "mallory@example.com", now, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "does not name mallory@example.com") != NULL);
    TT_EQ_INT(smime_signer_check(&s, "alice@example.com", s.not_after_ms, err, sizeof(err)), -1);
    TT_EQ_STR(err, "the certificate has expired");
    TT_EQ_INT(smime_signer_check(&s, "alice@example.com", s.not_before_ms - 1, err, sizeof(err)),
              -1);
    TT_EQ_STR(err, "the certificate is not valid yet");
    char fp[65];
    smime_signer_fingerprint(&s, fp);
    TT_EQ_INT(strlen(fp), 64);
    smime_signer_free(&s);

    /* subject emailAddress when there is no rfc822Name */
    signer(&s, BOB_PEM, BOB_KEY);
    TT_EQ_INT(smime_signer_check(&s, "bob@example.com", now, err, sizeof(err)), 0);
    TT_EQ_INT(smime_signer_check(&s, "alice@example.com", now, err, sizeof(err)), -1);
    smime_signer_free(&s);
}

TT_TEST(parse_refusals)
{
    struct smime_signer s;
    char err[200];

    TT_EQ_INT(smime_signer_parse(&s, ALICE_PEM, strlen(ALICE_PEM), BOB_KEY, strlen(BOB_KEY), NULL,
                                 0, err, sizeof(err)),
              -1);
    TT_EQ_STR(err, "the key does not match the certificate");
    TT_EQ_INT(
        smime_signer_parse(&s, "junk", 4, ALICE_KEY, strlen(ALICE_KEY), NULL, 0, err, sizeof(err)),
        -1);
    TT_EQ_STR(err, "the certificate is not a PEM X.509 certificate");
    TT_EQ_INT(smime_signer_parse(&s, ALICE_PEM, strlen(ALICE_PEM), ALICE_PEM, strlen(ALICE_PEM),
                                 NULL, 0, err, sizeof(err)),
              -1);
    TT_EQ_STR(err, "the key is not an unencrypted PEM private key");
    TT_EQ_INT(smime_signer_parse(&s, ALICE_PEM, strlen(ALICE_PEM), ALICE_KEY, strlen(ALICE_KEY),
                                 "x", 1, err, sizeof(err)),
              -1);
    TT_EQ_STR(err, "the chain holds no PEM certificate");
}

/* part - the n-th part (1, 2) between the boundaries of signed */
static void part(const char *signed_, const char *bnd, int n, const char **p, size_t *len)
{
    char delim[80];
    snprintf(delim, sizeof(delim), "\r\n--%s", bnd);
    const char *a = strstr(signed_, delim);
    for (int i = 1; i < n; i++)
        a = strstr(a + 1, delim);
    a += strlen(delim) + 2;
    const char *b = strstr(a, delim);
    *p = a, *len = (size_t)(b - a);
}

/* verify - CMS_verify of the detached signature sig64 over ent with the CA */
static int verify(const char *ent, size_t entlen, const char *sig64, size_t siglen)
{
    struct buf der = BUF_INIT(1 << 20);
    X509_STORE *st = X509_STORE_new();
    BIO *b = BIO_new_mem_buf(CA_PEM, -1), *in = BIO_new_mem_buf(ent, (int)entlen);
    X509 *ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
    int ok = 0;

    X509_STORE_add_cert(st, ca);
    if (codec_b64_decode(&der, sig64, siglen, 0) == 0) {
        const unsigned char *p = (const unsigned char *)der.data;
        CMS_ContentInfo *ci = d2i_CMS_ContentInfo(NULL, &p, (long)der.len);
        ok = ci && CMS_verify(ci, NULL, st, in, NULL, CMS_BINARY | CMS_DETACHED) == 1;
        if (ok) {
            STACK_OF(X509) *signers = CMS_get0_signers(ci);
            X509_NAME *subj = X509_get_subject_name(sk_X509_value(signers, 0));
            char cn[64];
            X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof(cn));
            ok = strcmp(cn, "Alice") == 0;
            sk_X509_free(signers);
        }
        CMS_ContentInfo_free(ci);
    }
    X509_free(ca);
    BIO_free(b);
    BIO_free(in);
    X509_STORE_free(st);
    buf_free(&der);
    return ok;
}

TT_TEST(sign_and_verify)
{
    struct smime_signer s;
    struct smime_dkim_seen seen;
    struct buf out = BUF_INIT(1 << 20), again = BUF_INIT(1 << 20);
    char err[200], bnd[48];

    signer(&s, ALICE_PEM, ALICE_KEY);
    TT_EQ_INT(smime_sign(&out, MSG, strlen(MSG), &s, &seen, err, sizeof(err)), 0);
    buf_putc(&out, 0);
    TT_EQ_INT(seen.n, 1);
    TT_EQ_INT(seen.algs, 1);
    TT_EQ_STR(seen.domain, "example.com");
    const char *o = out.data;
    TT_ASSERT(strstr(o, "DKIM-Signature") == NULL);
    TT_ASSERT(strncmp(o, "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\n", 52) == 0);
    TT_ASSERT(strstr(o, "MIME-Version: 1.0\r\nContent-Type: multipart/signed; "
                        "protocol=\"application/pkcs7-signature\";\r\n\tmicalg=sha-256; ") != NULL);
    const char *bp = strstr(o, "boundary=\"") + 10;
    snprintf(bnd, sizeof(bnd), "%.*s", (int)(strchr(bp, '"') - bp), bp);

    const char *ent, *sig;
    size_t entlen, siglen;
    part(o, bnd, 1, &ent, &entlen);
    TT_EQ_MEM(ent, entlen,
              "Content-Type: text/plain;\r\n charset=utf-8\r\n"
              "Content-Transfer-Encoding: quoted-printable\r\n\r\nHello =C3=BC\r\n",
              strlen("Content-Type: text/plain;\r\n charset=utf-8\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n\r\nHello =C3=BC\r\n"));
    part(o, bnd, 2, &sig, &siglen);
    TT_ASSERT(strncmp(sig, "Content-Type: application/pkcs7-signature;", 42) == 0);
    sig = strstr(sig, "\r\n\r\n") + 4;
    siglen = (size_t)(strstr(sig, "\r\n--") - sig);
    TT_ASSERT(verify(ent, entlen, sig, siglen));
    /* a changed body does not verify */
    char *bad = strndup(ent, entlen);
    bad[entlen - 3] = 'X';
    TT_ASSERT(!verify(bad, entlen, sig, siglen));
    free(bad);
    TT_ASSERT(strstr(o, "--\r\n") != NULL && o[out.len - 2] == '\n' && o[out.len - 3] == '\r');

    /* same input, same boundary */
    TT_EQ_INT(smime_sign(&again, MSG, strlen(MSG), &s, &seen, err, sizeof(err)), 0);
    TT_ASSERT(strstr(buf_ptr(&again), bnd) != NULL);
    buf_free(&out);
    buf_free(&again);
    smime_signer_free(&s);
}

TT_TEST(refusals)
{
    struct smime_signer s;
    struct smime_dkim_seen seen;
    struct buf out = BUF_INIT(1 << 20);
    char err[200];
    static const char eight[] = "From: a@example.com\r\n\r\nHall\xc3\xb6\r\n";
    static const char cte[] =
        "From: a@example.com\r\nContent-Transfer-Encoding:  8BIT\r\n\r\nx\r\n";
    static const char lf[] = "From: a@example.com\r\n\r\nline\nline\r\n";
    static const char nohdr[] = "From: a@example.com\r\nno end";

    signer(&s, ALICE_PEM, ALICE_KEY);
    TT_EQ_INT(smime_sign(&out, eight, strlen(eight), &s, &seen, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "8bit content") != NULL);
    TT_EQ_INT(smime_sign(&out, cte, strlen(cte), &s, &seen, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "8bit content") != NULL);
    TT_EQ_INT(smime_sign(&out, lf, strlen(lf), &s, &seen, err, sizeof(err)), -1);
    TT_EQ_STR(err, "the message has a bare LF");
    TT_EQ_INT(smime_sign(&out, nohdr, strlen(nohdr), &s, &seen, err, sizeof(err)), -1);
    TT_EQ_STR(err, "the message has no end of header");
    static const char blank[] = "From: a@example.com\r\nX: y\rz\n\r\nA: b\r\n\r\nbody\r\n";
    TT_EQ_INT(smime_sign(&out, blank, strlen(blank), &s, &seen, err, sizeof(err)), -1);
    TT_EQ_STR(err, "the message has a malformed header field");
    static const char noname[] = "From: a@example.com\r\n: y\r\n\r\nbody\r\n";
    TT_EQ_INT(smime_sign(&out, noname, strlen(noname), &s, &seen, err, sizeof(err)), -1);
    TT_EQ_STR(err, "the message has a malformed header field");
    TT_EQ_INT(out.len, 0);
    /* no Content-Type: text/plain is made explicit; no MIME-Version: added */
    TT_EQ_INT(smime_sign(&out, "Subject: x\r\n\r\nbody\r\n", 20, &s, &seen, err, sizeof(err)), 0);
    buf_putc(&out, 0);
    TT_ASSERT(strstr(out.data, "Subject: x\r\nMIME-Version: 1.0\r\n") == out.data);
    TT_ASSERT(strstr(out.data, "Content-Type: text/plain; charset=us-ascii\r\n\r\nbody\r\n") !=
              NULL);
    TT_EQ_INT(seen.n, 0);
    buf_free(&out);
    smime_signer_free(&s);
}

TT_TEST(fields)
{
    static const char h[] = "A: 1\r\nB: 2\r\n 3\r\n\tx\r\nC: 4\r\n";
    size_t pos = 0, a, b;

    TT_EQ_INT(smime_next_field(h, strlen(h), &pos, &a, &b), 0);
    TT_EQ_MEM(h + a, b - a, "A: 1\r\n", 6);
    TT_EQ_INT(smime_next_field(h, strlen(h), &pos, &a, &b), 0);
    TT_EQ_MEM(h + a, b - a, "B: 2\r\n 3\r\n\tx\r\n", 14);
    TT_EQ_INT(smime_next_field(h, strlen(h), &pos, &a, &b), 0);
    TT_EQ_INT(smime_next_field(h, strlen(h), &pos, &a, &b), -1);
}

TT_MAIN(TT_CASE(parse_and_check), TT_CASE(parse_refusals), TT_CASE(sign_and_verify),
        TT_CASE(refusals), TT_CASE(fields))
