/* crypto_test - password hashing, secrets at rest, HMAC vectors */
#include "tests/harness/ttest.h"
#include "global/crypto.h"
#include "util/codec.h"
#include "util/mymalloc.h"

TT_TEST(pwhash_roundtrip)
{
    char *h = crypto_pwhash_create("s3cret", 1000);

    TT_ASSERT(strncmp(h, "pbkdf2-sha256$1000$", 19) == 0);
    TT_ASSERT(crypto_pwhash_verify("s3cret", h));
    TT_ASSERT(!crypto_pwhash_verify("s3cret ", h));
    TT_ASSERT(!crypto_pwhash_verify("", h));
    TT_ASSERT(!crypto_pwhash_verify("s3cret", "pbkdf2-sha256$5$xx$yy"));
    TT_ASSERT(!crypto_pwhash_verify("s3cret", "garbage"));
    TT_ASSERT(!crypto_pwhash_verify("s3cret", "pbkdf2-sha256$1000$!!$"));
    char *h2 = crypto_pwhash_create("s3cret", 1000);
    TT_ASSERT(strcmp(h, h2) != 0); /* salted */
    xfree(h);
    xfree(h2);
}

TT_TEST(secret_roundtrip_and_forgery)
{
    struct buf enc = BUF_INIT(4096), dec = BUF_INIT(4096);

    TT_EQ_INT(crypto_secret_encrypt(&enc, "x", 1), -1); /* no master key */
    TT_EQ_INT(
        crypto_set_master_key("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
        0);
    TT_EQ_INT(crypto_secret_encrypt(&enc, "webhook-secret", 14), 0);
    TT_ASSERT(strncmp(buf_ptr(&enc), "v1:", 3) == 0);
    TT_ASSERT(strstr(buf_ptr(&enc), "webhook") == NULL);
    TT_EQ_INT(crypto_secret_decrypt(&dec, enc.data, enc.len), 0);
    TT_EQ_STR(buf_ptr(&dec), "webhook-secret");
    buf_reset(&dec);
    enc.data[10] ^= 1;
    TT_EQ_INT(crypto_secret_decrypt(&dec, enc.data, enc.len), -1);
    TT_EQ_INT(crypto_set_master_key("short"), -1);
    buf_free(&enc);
    buf_free(&dec);
}

TT_TEST(hmac_rfc4231_case2)
{
    unsigned char mac[32];
    char hx[65];

    crypto_hmac_sha256(mac, "Jefe", 4, "what do ya want for nothing?", 28);
    TT_EQ_STR(codec_hex_encode(hx, mac, 32),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TT_MAIN(TT_CASE(pwhash_roundtrip), TT_CASE(secret_roundtrip_and_forgery),
        TT_CASE(hmac_rfc4231_case2))
