/* codec_test - base64, hex, quoted-printable and UTF-8 against known vectors */
#include "tests/harness/ttest.h"
#include "util/codec.h"

static const char *dec(const char *in, int ws)
{
    static struct buf b;
    static char out[256];

    buf_init(&b, 1 << 20);
    int r = codec_b64_decode(&b, in, strlen(in), ws);
    snprintf(out, sizeof(out), "%s", buf_ptr(&b));
    buf_free(&b);
    return r < 0 ? NULL : out;
}

TT_TEST(b64_rfc4648_vectors)
{
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

    for (int i = 0; i < 7; i++) {
        struct buf b = BUF_INIT(100);
        TT_EQ_INT(codec_b64_encode(&b, plain[i], strlen(plain[i])), 0);
        TT_EQ_STR(buf_ptr(&b), enc[i]);
        buf_free(&b);
        TT_EQ_STR(dec(enc[i], 0), plain[i]);
    }
}

TT_TEST(b64_strict_rejects)
{
    TT_ASSERT(dec("Zg=", 0) == NULL);      /* short padding */
    TT_ASSERT(dec("Zh==", 0) == NULL);     /* non-zero unused bits */
    TT_ASSERT(dec("Zg==Zg==", 0) == NULL); /* data after padding */
    TT_ASSERT(dec("Z", 0) == NULL);
    TT_ASSERT(dec("Zm9v!", 0) == NULL);
    TT_ASSERT(dec("Zm 9v", 0) == NULL);
    TT_EQ_STR(dec("Zm 9v", 1), "foo");
    TT_EQ_STR(dec("Zm9v\r\nYmFy", 0), "foobar");
    TT_ASSERT(dec("Zg", 0) == NULL); /* padding required */
}

TT_TEST(b64_lines_are_76)
{
    char data[200];
    struct buf b = BUF_INIT(1000);

    memset(data, 'x', sizeof(data));
    codec_b64_encode_lines(&b, data, sizeof(data));
    const char *p = buf_ptr(&b), *nl;
    while ((nl = strstr(p, "\r\n")) != NULL) {
        TT_ASSERT(nl - p <= 76);
        p = nl + 2;
    }
    TT_EQ_INT(*p, 0);
    buf_free(&b);
}

/* the four-at-a-time path: long inputs, line breaks and errors at every offset */
TT_TEST(b64_long_inputs)
{
    unsigned char raw[3000];
    struct buf enc, lines, dec;

    for (size_t i = 0; i < sizeof(raw); i++)
        raw[i] = (unsigned char)(i * 131 + 7);
    for (size_t n = sizeof(raw) - 5; n <= sizeof(raw); n++) {
        buf_init(&enc, 1 << 20);
        buf_init(&lines, 1 << 20);
        buf_init(&dec, 1 << 20);
        TT_EQ_INT(codec_b64_encode(&enc, raw, n), 0);
        TT_EQ_INT(codec_b64_encode_lines(&lines, raw, n), 0);
        TT_EQ_INT(codec_b64_decode(&dec, enc.data, enc.len, 0), 0);
        TT_EQ_MEM(dec.data, dec.len, raw, n);
        buf_reset(&dec);
        TT_EQ_INT(codec_b64_decode(&dec, lines.data, lines.len, 0), 0);
        TT_EQ_MEM(dec.data, dec.len, raw, n);
        for (size_t at = 0; at < enc.len; at += 37) {
            char save = enc.data[at];
            enc.data[at] = '*';
            buf_reset(&dec);
            TT_EQ_INT(codec_b64_decode(&dec, enc.data, enc.len, 0), -1);
            enc.data[at] = save;
        }
        buf_free(&enc);
        buf_free(&lines);
        buf_free(&dec);
    }
}

TT_TEST(b64url_canonical)
{
    struct buf b = BUF_INIT(100);
    unsigned char raw[] = {0xfb, 0xff, 0x01};

    codec_b64url_encode(&b, raw, 3);
    TT_EQ_STR(buf_ptr(&b), "-_8B");
    buf_reset(&b);
    TT_EQ_INT(codec_b64url_decode(&b, "-_8B", 4), 0);
    TT_EQ_MEM(b.data, b.len, raw, 3);
    buf_reset(&b);
    TT_EQ_INT(codec_b64url_decode(&b, "-_8B=", 5), -1);
    buf_free(&b);
    TT_EQ_INT(codec_b64url_decode(&b, "Zh", 2), -1); /* unused bits set */
    buf_free(&b);
    TT_EQ_INT(codec_b64url_decode(&b, "Zm9v+", 5), -1);
    buf_free(&b);
    TT_EQ_INT(codec_b64url_decode(&b, "Zm9vY", 5), -1); /* impossible length */
    buf_free(&b);
}

TT_TEST(b64_respects_buffer_max)
{
    struct buf b = BUF_INIT(4);

    TT_EQ_INT(codec_b64_encode(&b, "foobar", 6), -1);
    TT_ASSERT(b.data == NULL);
}

TT_TEST(hex_roundtrip)
{
    char out[9];
    unsigned char raw[4] = {0xde, 0xad, 0xbe, 0xef}, back[4];

    TT_EQ_STR(codec_hex_encode(out, raw, 4), "deadbeef");
    TT_EQ_INT(codec_hex_decode(back, "DEADbeef", 4), 0);
    TT_EQ_MEM(back, 4, raw, 4);
    TT_EQ_INT(codec_hex_decode(back, "deadbeeg", 4), -1);
}

TT_TEST(qp_decode_rules)
{
    struct buf b = BUF_INIT(100);

    TT_EQ_INT(codec_qp_decode(&b, "a=3Db=\r\nc", 9), 0);
    TT_EQ_STR(buf_ptr(&b), "a=bc");
    buf_reset(&b);
    TT_EQ_INT(codec_qp_decode(&b, "x=C3=BC", 7), 0);
    TT_EQ_STR(buf_ptr(&b), "x\xc3\xbc");
    buf_reset(&b);
    TT_EQ_INT(codec_qp_decode(&b, "bad=ZZ", 6), -1);
    buf_free(&b);
    TT_EQ_INT(codec_qp_decode(&b, "end=", 4), -1);
    buf_free(&b);
    TT_EQ_INT(codec_qp_decode(&b, "end=4", 5), -1);
    buf_free(&b);
}

TT_TEST(utf8_validation)
{
    TT_ASSERT(codec_utf8_valid("abc", 3));
    TT_ASSERT(codec_utf8_valid("\xc3\xbc", 2));
    TT_ASSERT(codec_utf8_valid("\xf0\x9f\x98\x80", 4));
    TT_ASSERT(!codec_utf8_valid("\xc3", 1));
    TT_ASSERT(!codec_utf8_valid("\xc0\xaf", 2));         /* overlong */
    TT_ASSERT(!codec_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    TT_ASSERT(!codec_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    TT_ASSERT(!codec_utf8_valid("\xff", 1));
    TT_EQ_INT(codec_utf8_count("a\xc3\xbc\xf0\x9f\x98\x80", 7), 3);
}

TT_MAIN(TT_CASE(b64_rfc4648_vectors), TT_CASE(b64_long_inputs), TT_CASE(b64_strict_rejects),
        TT_CASE(b64_lines_are_76), TT_CASE(b64url_canonical), TT_CASE(b64_respects_buffer_max),
        TT_CASE(hex_roundtrip), TT_CASE(qp_decode_rules), TT_CASE(utf8_validation))
