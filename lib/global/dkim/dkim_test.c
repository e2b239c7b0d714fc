/* dkim_test - canonicalization (RFC 6376 §3.4.5), body hashes, signatures */
#include "tests/harness/ttest.h"
#include "util/codec.h"
#include "util/mymalloc.h"
#include "global/dkim/dkim.h"

#include <openssl/evp.h>

/* test keys, generated for this file only */
static const char rsa_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MIICeQIBADANBgkqhkiG9w0BAQEFAASCAmMwggJfAgEAAoGBALXIZ7W2y2A8BP0C\n"
                              "ZjJqv4jXcxYJP97QJ+UB7uQ79Vc4vi/nr0ZtihKhjJEiMmiCLXExD4xTjT2ED2k3\n"
                              "SXCwVYMttzIHXIKDVOFn3hCig/hcfF4h3RRQKuCnt+tj/FugnXJWtzSoL95ZrfJL\n"
                              "KnzUEreRwN/4//fq2RDgzbPT9rpNAgMBAAECgYEAj7aUZ1DQkJBi0TPoX8uNCT5r\n"
                              "uewuFpUyNRbGKqJMYFx335+nLmLDWd9mJgeHGqBwFKDYzfPwIcYZ+PDAmtqNfwUA\n"
                              "eNneUq4WWR4EeDmqfk/GKUG7IdGApCY8k34CzFtaxHIF1BUxEmILKab2BcWyOtbU\n"
                              "I4DgJBzTbDPCOkQ3GPECQQDugGAAFpkoCEXI7Vq7kx6pHXkC4NX7yRrhVOcBio8D\n"
                              "Xvtv8HaDYg9Ti7mlKg7toXwcn+3Oe7kIw40I80yhBa2/AkEAwx64IFZubIxFWakT\n"
                              "Wrkn/lURO/oSWiQKy6j99+MDoDuPZ5XWOIrPx4OymaGUUoKzZgjDa3ZJnC6SBJEH\n"
                              "sDyy8wJBAKkpDm4hmSGmtHBtwQP3tjB2wgTDmaJLIjCeOnaCYysd7DKaGETZgUtd\n"
                              "eB/oc8wh1FitKktgv32yzU6C2l//GhsCQQCITrKEbLzxecCM1U+fBlBJHXZPtvAR\n"
                              "JrKf+euJu35x9onE7Gjd0SM8FuWy66zpQ0M+WYrjTJw5zlLVe9eqJ40/AkEAhXXv\n"
                              "0odXDpq7C5TCb1iOkfwp2XbDwQ/HfMpS0VMA5KAU0FxxBpzzQSbcZr/GE0Y2iYYd\n"
                              "JIt2dOcBsO8UevkafQ==\n"
                              "-----END PRIVATE KEY-----\n";
/* RFC 8032 §7.1 test 1 secret key */
static const char ed_pem[] = "-----BEGIN PRIVATE KEY-----\n"
                             "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
                             "-----END PRIVATE KEY-----\n";

static const char msg_hdr[] = "From: Joe SixPack <joe@football.example.com>\r\n"
                              "To: Suzie Q <suzie@shopping.example.net>\r\n"
                              "Subject: Is dinner ready?\r\n"
                              "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
                              "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n";
static const char msg_body[] = "Hi.\r\n"
                               "\r\n"
                               "We lost the game.  Are you hungry yet?\r\n"
                               "\r\n"
                               "Joe.\r\n";

TT_TEST(rfc6376_relaxed_examples)
{
    struct buf h = BUF_INIT(4096), b = BUF_INIT(4096);
    const char a[] = "A: X\r\n", bb[] = "B : Y\t\r\n\tZ  \r\n";
    const char body[] = " C \r\nD \t E\r\n\r\n\r\n";

    dkim_canon_header(&h, a, sizeof(a) - 1);
    dkim_canon_header(&h, bb, sizeof(bb) - 1);
    TT_EQ_STR(buf_ptr(&h), "a:X\r\nb:Y Z\r\n");
    dkim_canon_body(&b, body, sizeof(body) - 1);
    TT_EQ_STR(buf_ptr(&b), " C\r\nD E\r\n");
    buf_free(&h);
    buf_free(&b);
}

TT_TEST(body_edge_cases)
{
    struct buf b = BUF_INIT(4096);

    dkim_canon_body(&b, "", 0);
    TT_EQ_INT(b.len, 0);
    dkim_canon_body(&b, "\r\n\r\n \r\n", 7);
    TT_EQ_INT(b.len, 0);
    dkim_canon_body(&b, "abc", 3); /* a CRLF is added */
    TT_EQ_STR(buf_ptr(&b), "abc\r\n");
    buf_reset(&b);
    dkim_canon_body(&b, "a\r\n\r\nb  \t\r\n\r\n", 13);
    TT_EQ_STR(buf_ptr(&b), "a\r\n\r\nb\r\n");
    buf_reset(&b);
    dkim_canon_body(&b, "x\ry\n z", 6); /* bare CR and LF are ordinary octets */
    TT_EQ_STR(buf_ptr(&b), "x\ry\n z\r\n");
    buf_free(&b);
}

TT_TEST(body_hashes)
{
    unsigned char bh[32];
    struct buf o = BUF_INIT(100);

    dkim_body_hash(bh, "", 0);
    codec_b64_encode(&o, bh, 32);
    TT_EQ_STR(buf_ptr(&o), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    buf_reset(&o);
    /* the RFC 8463 example body, relaxed */
    dkim_body_hash(bh, msg_body, sizeof(msg_body) - 1);
    codec_b64_encode(&o, bh, 32);
    TT_EQ_STR(buf_ptr(&o), "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
    buf_reset(&o);
    /* a large body hashes the same in one piece as its canonical form does */
    struct buf big = BUF_INIT(1 << 22), canon = BUF_INIT(1 << 22);
    for (int i = 0; i < 20000; i++)
        buf_printf(&big, "line %d \t with  spaces   \r\n%s", i, i % 7 ? "" : "\r\n");
    unsigned char h1[32], h2[32];
    unsigned int n = 32;
    dkim_body_hash(h1, big.data, big.len);
    dkim_canon_body(&canon, big.data, big.len);
    EVP_Digest(canon.data, canon.len, h2, &n, EVP_sha256(), NULL);
    TT_ASSERT(memcmp(h1, h2, 32) == 0);
    buf_free(&o);
    buf_free(&big);
    buf_free(&canon);
}

static void sign_with(const char *pem, const char *sel, struct buf *out)
{
    EVP_PKEY *k;
    enum dkim_alg alg;
    char err[200];
    unsigned char bh[32];

    TT_EQ_INT(dkim_key_from_pem(&k, &alg, pem, strlen(pem), err, sizeof(err)), 0);
    struct dkim_key key = {k, alg, "football.example.com", sel};
    dkim_body_hash(bh, msg_body, sizeof(msg_body) - 1);
    TT_EQ_INT(dkim_sign(out, &key, msg_hdr, sizeof(msg_hdr) - 1, bh, 1528637909, err, sizeof(err)),
              0);
    EVP_PKEY_free(k);
    if (getenv("DKIM_PRINT")) {
        FILE *f = fopen(getenv("DKIM_PRINT"), "a");
        fprintf(f, "%s%s\r\n%s", buf_ptr(out), msg_hdr, msg_body);
        fclose(f);
    }
}

/*
 * Golden signatures: produced by this code and verified independently
 * with dkimpy (python3-dkim) against the public keys; RSA PKCS#1 v1.5 and
 * Ed25519 are deterministic, so the bytes must not change.
 */
#include "dkim_golden.h"

TT_TEST(rsa_signature_golden)
{
    struct buf s = BUF_INIT(8192);

    sign_with(rsa_pem, "test", &s);
    TT_EQ_STR(buf_ptr(&s), GOLDEN_RSA);
    buf_free(&s);
}

TT_TEST(ed25519_signature_golden)
{
    struct buf s = BUF_INIT(8192);

    sign_with(ed_pem, "brisbane", &s);
    TT_EQ_STR(buf_ptr(&s), GOLDEN_ED25519);
    buf_free(&s);
}

TT_TEST(signature_shape)
{
    struct buf s = BUF_INIT(8192);

    sign_with(ed_pem, "brisbane", &s);
    const char *p = buf_ptr(&s);
    TT_ASSERT(strncmp(p, "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;", 57) == 0);
    TT_ASSERT(strstr(p, "h=from:to:subject:date:message-id:from;") != NULL);
    TT_ASSERT(strstr(p, "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;") != NULL);
    /* folded, CRLF only, no line over 78 */
    size_t col = 0;
    for (; *p; p++) {
        if (*p == '\r') {
            TT_ASSERT(p[1] == '\n');
            TT_ASSERT(col <= 78);
            col = 0;
            p++;
            continue;
        }
        col++;
    }
    buf_free(&s);
}

TT_TEST(multiple_instances_bottom_up)
{
    struct buf s = BUF_INIT(8192);
    EVP_PKEY *k;
    enum dkim_alg alg;
    char err[200];
    unsigned char bh[32];
    const char hdr[] = "From: a@example.com\r\nTo: b@example.com\r\nTo: c@example.com\r\n"
                       "X-Other: 1\r\nnot a field line\r\nSubject: s\r\n";

    TT_EQ_INT(dkim_key_from_pem(&k, &alg, ed_pem, strlen(ed_pem), err, sizeof(err)), 0);
    struct dkim_key key = {k, alg, "example.com", "s"};
    dkim_body_hash(bh, "", 0);
    TT_EQ_INT(dkim_sign(&s, &key, hdr, sizeof(hdr) - 1, bh, 0, err, sizeof(err)), 0);
    TT_ASSERT(strstr(buf_ptr(&s), "h=from:to:to:subject:from;") != NULL);
    TT_ASSERT(strstr(buf_ptr(&s), " t=") == NULL);
    EVP_PKEY_free(k);
    buf_free(&s);
}

TT_TEST(bad_keys)
{
    EVP_PKEY *k;
    enum dkim_alg alg;
    char err[200];

    TT_EQ_INT(dkim_key_from_pem(&k, &alg, "garbage", 7, err, sizeof(err)), -1);
    TT_EQ_INT(dkim_key_from_pem(&k, &alg, "", 0, err, sizeof(err)), -1);
}

TT_MAIN(TT_CASE(rfc6376_relaxed_examples), TT_CASE(body_edge_cases), TT_CASE(body_hashes),
        TT_CASE(rsa_signature_golden), TT_CASE(ed25519_signature_golden), TT_CASE(signature_shape),
        TT_CASE(multiple_instances_bottom_up), TT_CASE(bad_keys))
