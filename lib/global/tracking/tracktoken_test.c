/* tracktoken_test - tokens of contract §15.5, byte for byte, and strict decoding. */
#include "global/tracking/tracktoken.h"
#include "tests/harness/ttest.h"
#include "util/buf.h"
#include "util/codec.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#define KEY7 "7:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define JOB "0196c4a2-8f1e-7b3a-9c4d-1234567890ab"
/* computed independently (Python hmac + base64.urlsafe_b64encode) */
/* for tracking host HOST: tag = HMAC-SHA256(key, HOST 0x00 payload) */
#define HOST "t.example.com"
#define OPEN_VEC                                                                                   \
    "AQdvAZbEoo8eezqcTRI0VniQqwAAAAAAAAABaC7WYCW2oEhVqrLpv208WiQGHJZnJoxEfskeFU1_rRhpKN6g"
#define CLICK_VEC                                                                                  \
    "AQdjAZbEoo8eezqcTRI0VniQqwAAAAIAAAADaC7WYGh0dHBzOi8vc2hvcC5leGFtcGxlLmNvbS9wP3g9MSZ5PcOpwXhr" \
    "6KTh9-BD7BChrlyZybKyAm-zgE162d1J75f6sz4"
#define UNSUB_VEC                                                                                  \
    "AQd1AZbEoo8eezqcTRI0VniQqwAAAAAAAAAAaF4jwKDqDGSTRs12JW8c8En83mMmSIhrXqatzTVJg0odrqGZ"
#define URL "https://shop.example.com/p?x=1&y=\xc3\xa9"

static struct track_keys *keys(const char *text)
{
    char err[256];
    struct track_keys *k = tracktoken_keys_parse(text, err, sizeof(err));

    if (k == NULL)
        TT_FAIL("keys: %s", err);
    return k;
}

static void make(struct track_token *t, int kind, uint32_t block, uint32_t addr, uint32_t exp)
{
    memset(t, 0, sizeof(*t));
    t->kind = kind;
    TT_EQ_INT(ids_uuid_parse(&t->job, JOB), 0);
    t->block = block;
    t->addr = addr;
    t->expiry = exp;
}

TT_TEST(known_answers)
{
    struct track_keys *k = keys(KEY7 "\n");
    struct track_token t;
    struct buf out = BUF_INIT(65536);

    make(&t, TRACK_OPEN, 0, 1, 1747900000);
    TT_EQ_INT(tracktoken_encode(k, HOST, &t, &out), 0);
    TT_EQ_STR(buf_ptr(&out), OPEN_VEC);
    buf_reset(&out);
    make(&t, TRACK_CLICK, 2, 3, 1747900000);
    t.url = URL;
    t.url_len = strlen(URL);
    TT_EQ_INT(tracktoken_encode(k, HOST, &t, &out), 0);
    TT_EQ_STR(buf_ptr(&out), CLICK_VEC);
    buf_reset(&out);
    make(&t, TRACK_UNSUB, 0, 0, 1751000000);
    TT_EQ_INT(tracktoken_encode(k, HOST, &t, &out), 0);
    TT_EQ_STR(buf_ptr(&out), UNSUB_VEC);
    buf_free(&out);
    tracktoken_keys_free(k);
}

TT_TEST(decode_fields)
{
    struct track_keys *k =
        keys("# rotated keys, newest first\n\n3:"
             "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n" KEY7 "\n");
    struct track_token t;
    struct buf s = BUF_INIT(65536);
    char rid[RID_STR_LEN + 1];

    TT_EQ_INT(tracktoken_keys_count(k), 2);
    /* an old key still verifies */
    TT_EQ_INT(tracktoken_decode(k, HOST, CLICK_VEC, strlen(CLICK_VEC), &t, &s), 0);
    TT_EQ_INT(t.kind, 'c');
    TT_EQ_INT(t.key_id, 7);
    TT_EQ_INT(t.block, 2);
    TT_EQ_INT(t.addr, 3);
    TT_EQ_INT(t.expiry, 1747900000);
    TT_EQ_MEM(t.url, t.url_len, URL, strlen(URL));
    TT_EQ_STR(tracktoken_rid(rid, &t), JOB "#00000002#00000003");
    TT_EQ_INT(tracktoken_decode(k, HOST, OPEN_VEC, strlen(OPEN_VEC), &t, &s), 0);
    TT_EQ_INT(t.kind, 'o');
    TT_EQ_INT(t.url == NULL, 1);
    TT_EQ_INT(tracktoken_decode(k, HOST, UNSUB_VEC, strlen(UNSUB_VEC), &t, &s), 0);
    TT_EQ_INT(t.kind, 'u');
    /* new tokens use the newest key (id 3) and verify */
    struct buf out = BUF_INIT(65536);
    make(&t, TRACK_OPEN, 5, 6, 42);
    TT_EQ_INT(tracktoken_encode(k, HOST, &t, &out), 0);
    TT_ASSERT(strcmp(buf_ptr(&out), OPEN_VEC) != 0);
    struct track_token d;
    TT_EQ_INT(tracktoken_decode(k, HOST, out.data, out.len, &d, &s), 0);
    TT_EQ_INT(d.key_id, 3);
    TT_EQ_INT(d.block, 5);
    TT_EQ_INT(d.addr, 6);
    TT_EQ_INT(d.expiry, 42);
    /* a key set without key 3 refuses it */
    struct track_keys *old = keys(KEY7);
    TT_EQ_INT(tracktoken_decode(old, HOST, out.data, out.len, &d, &s), -1);
    tracktoken_keys_free(old);
    buf_free(&out);
    buf_free(&s);
    tracktoken_keys_free(k);
}

TT_TEST(every_change_refused)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    struct track_keys *k = keys(KEY7);
    struct track_token t;
    struct buf s = BUF_INIT(65536);
    const char *vecs[] = {OPEN_VEC, CLICK_VEC, UNSUB_VEC};

    for (int v = 0; v < 3; v++) {
        size_t len = strlen(vecs[v]);
        char *m = xstrdup(vecs[v]);
        for (size_t i = 0; i < len; i++) {
            char orig = m[i];
            for (const char *a = alpha; *a; a++) {
                if (*a == orig)
                    continue;
                m[i] = *a;
                if (tracktoken_decode(k, HOST, m, len, &t, &s) == 0)
                    TT_FAIL("token %d changed at %zu to %c still decodes", v, i, *a);
            }
            m[i] = orig;
        }
        /* truncated anywhere */
        for (size_t n = 0; n < len; n++)
            TT_EQ_INT(tracktoken_decode(k, HOST, m, n, &t, &s), -1);
        xfree(m);
    }
    buf_free(&s);
    tracktoken_keys_free(k);
}

TT_TEST(non_canonical_refused)
{
    struct track_keys *k = keys(KEY7);
    struct track_token t;
    struct buf s = BUF_INIT(65536);
    char tmp[512];

    /* padding (OPEN_VEC is 84 characters: no padding needed; CLICK_VEC needs 1) */
    snprintf(tmp, sizeof(tmp), "%s=", CLICK_VEC);
    TT_EQ_INT(tracktoken_decode(k, HOST, tmp, strlen(tmp), &t, &s), -1);
    snprintf(tmp, sizeof(tmp), "%s==", OPEN_VEC);
    TT_EQ_INT(tracktoken_decode(k, HOST, tmp, strlen(tmp), &t, &s), -1);
    /* standard alphabet instead of url alphabet */
    snprintf(tmp, sizeof(tmp), "%s", CLICK_VEC);
    for (char *p = tmp; *p; p++)
        if (*p == '-')
            *p = '+';
    TT_EQ_INT(tracktoken_decode(k, HOST, tmp, strlen(tmp), &t, &s), -1);
    /* non-zero unused bits in the last character: CLICK_VEC ends in '4' (56, low 2 bits 0) */
    snprintf(tmp, sizeof(tmp), "%s", CLICK_VEC);
    size_t n = strlen(tmp);
    TT_EQ_INT(tmp[n - 1], '4');
    tmp[n - 1] = '5';
    TT_EQ_INT(tracktoken_decode(k, HOST, tmp, n, &t, &s), -1);
    /* appended characters, white space, NUL */
    snprintf(tmp, sizeof(tmp), "%sA", OPEN_VEC);
    TT_EQ_INT(tracktoken_decode(k, HOST, tmp, strlen(tmp), &t, &s), -1);
    snprintf(tmp, sizeof(tmp), "%s ", OPEN_VEC);
    TT_EQ_INT(tracktoken_decode(k, HOST, tmp, strlen(tmp), &t, &s), -1);
    TT_EQ_INT(tracktoken_decode(k, HOST, OPEN_VEC, strlen(OPEN_VEC) + 1, &t, &s), -1);
    TT_EQ_INT(tracktoken_decode(k, HOST, "", 0, &t, &s), -1);
    TT_EQ_INT(tracktoken_decode(NULL, HOST, OPEN_VEC, strlen(OPEN_VEC), &t, &s), -1);
    buf_free(&s);
    tracktoken_keys_free(k);
}

/* forge - re-encode a tampered payload with its old tag (only the library can tag) */
static void forge(unsigned char *p, size_t n, struct buf *out)
{
    codec_b64url_encode(out, p, n);
}

TT_TEST(tampered_payload_refused)
{
    struct track_keys *k = keys(KEY7);
    struct track_token t;
    struct buf s = BUF_INIT(65536), raw = BUF_INIT(65536), out = BUF_INIT(65536);

    TT_EQ_INT(codec_b64url_decode(&raw, CLICK_VEC, strlen(CLICK_VEC)), 0);
    for (size_t i = 0; i < raw.len; i++) {
        unsigned char *p = (unsigned char *)raw.data;
        p[i] ^= 0x01;
        buf_reset(&out);
        forge(p, raw.len, &out);
        TT_EQ_INT(tracktoken_decode(k, HOST, out.data, out.len, &t, &s), -1);
        p[i] ^= 0x01;
    }
    /* the URL swapped for another of the same length */
    size_t at = strstr(raw.data + 31, "shop") - raw.data;
    memcpy(raw.data + at, "evil", 4);
    buf_reset(&out);
    forge((unsigned char *)raw.data, raw.len, &out);
    TT_EQ_INT(tracktoken_decode(k, HOST, out.data, out.len, &t, &s), -1);
    buf_free(&s);
    buf_free(&raw);
    buf_free(&out);
    tracktoken_keys_free(k);
}

TT_TEST(encode_limits)
{
    struct track_keys *k = keys(KEY7);
    struct track_token t;
    struct buf out = BUF_INIT(65536), s = BUF_INIT(65536);
    char *url = xmalloc(TRACK_URL_MAX + 2);

    memset(url, 'a', TRACK_URL_MAX + 1);
    url[TRACK_URL_MAX + 1] = 0;
    make(&t, TRACK_CLICK, 0, 0, 1);
    t.url = url;
    t.url_len = TRACK_URL_MAX + 1;
    TT_EQ_INT(tracktoken_encode(k, HOST, &t, &out), -1);
    t.url_len = TRACK_URL_MAX;
    TT_EQ_INT(tracktoken_encode(k, HOST, &t, &out), 0);
    TT_ASSERT(out.len <= TRACK_TOKEN_MAX);
    struct track_token d;
    TT_EQ_INT(tracktoken_decode(k, HOST, out.data, out.len, &d, &s), 0);
    TT_EQ_INT(d.url_len, TRACK_URL_MAX);
    t.url_len = 0;
    TT_EQ_INT(tracktoken_encode(k, HOST, &t, &out), -1);
    t.kind = 'x';
    TT_EQ_INT(tracktoken_encode(k, HOST, &t, &out), -1);
    xfree(url);
    buf_free(&out);
    buf_free(&s);
    tracktoken_keys_free(k);
}

TT_TEST(bound_to_host)
{
    struct track_keys *k = keys(KEY7);
    struct track_token t;
    struct buf s = BUF_INIT(65536), out = BUF_INIT(65536);

    /* a token of one tenant's tracking host is refused on another's */
    TT_EQ_INT(tracktoken_decode(k, HOST, CLICK_VEC, strlen(CLICK_VEC), &t, &s), 0);
    TT_EQ_INT(tracktoken_decode(k, "t.other.example", CLICK_VEC, strlen(CLICK_VEC), &t, &s), -1);
    TT_EQ_INT(tracktoken_decode(k, "t.example.co", CLICK_VEC, strlen(CLICK_VEC), &t, &s), -1);
    TT_EQ_INT(tracktoken_decode(k, "t.example.com.", CLICK_VEC, strlen(CLICK_VEC), &t, &s), -1);
    TT_EQ_INT(tracktoken_decode(k, "", CLICK_VEC, strlen(CLICK_VEC), &t, &s), -1);
    TT_EQ_INT(tracktoken_decode(k, NULL, CLICK_VEC, strlen(CLICK_VEC), &t, &s), -1);
    /* no token without a host */
    make(&t, TRACK_OPEN, 0, 0, 1);
    TT_EQ_INT(tracktoken_encode(k, "", &t, &out), -1);
    TT_EQ_INT(tracktoken_encode(k, NULL, &t, &out), -1);
    /* minted for B, verifies on B only */
    TT_EQ_INT(tracktoken_encode(k, "t.b.example", &t, &out), 0);
    TT_EQ_INT(tracktoken_decode(k, "t.b.example", out.data, out.len, &t, &s), 0);
    TT_EQ_INT(tracktoken_decode(k, HOST, out.data, out.len, &t, &s), -1);
    buf_free(&s);
    buf_free(&out);
    tracktoken_keys_free(k);
}

TT_TEST(host_of)
{
    char h[TRACK_HOST_MAX + 1];
    static const char *const same[] = {
        "t.example.com",
        "T.Example.COM",
        "t.example.com:8443",
        "https://t.example.com",
        "https://T.EXAMPLE.com:443/t/c/x?y#z",
        "http://user:pw@t.example.com:80/",
        "t.example.com/path",
    };

    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        TT_EQ_INT(tracktoken_host(same[i], h, sizeof(h)), 0);
        TT_EQ_STR(h, "t.example.com");
    }
    TT_EQ_INT(tracktoken_host("[2001:DB8::1]:8080", h, sizeof(h)), 0);
    TT_EQ_STR(h, "[2001:db8::1]");
    TT_EQ_INT(tracktoken_host("http://[::1]/t", h, sizeof(h)), 0);
    TT_EQ_STR(h, "[::1]");
    TT_EQ_INT(tracktoken_host("127.0.0.1:8080", h, sizeof(h)), 0);
    TT_EQ_STR(h, "127.0.0.1");
    TT_EQ_INT(tracktoken_host("", h, sizeof(h)), -1);
    TT_EQ_INT(tracktoken_host(NULL, h, sizeof(h)), -1);
    TT_EQ_INT(tracktoken_host("https://", h, sizeof(h)), -1);
    TT_EQ_INT(tracktoken_host(":8080", h, sizeof(h)), -1);
    TT_EQ_INT(tracktoken_host("[::1", h, sizeof(h)), -1);
    TT_EQ_INT(tracktoken_host("a b", h, sizeof(h)), -1);
    TT_EQ_INT(tracktoken_host("t.example.com", h, 5), -1);
}

TT_TEST(key_file_errors)
{
    static const char *const bad[] = {
        "",
        "# only a comment\n",
        "7",
        "7:",
        "x:00112233445566778899aabbccddeeff",
        "256:00112233445566778899aabbccddeeff",
        "-1:00112233445566778899aabbccddeeff",
        "7:0011",
        "7:00112233445566778899aabbccddeefg",
        "7:00112233445566778899aabbccddeeff\n7:00112233445566778899aabbccddeeff",
        ":00112233445566778899aabbccddeeff",
    };
    char err[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct track_keys *k = tracktoken_keys_parse(bad[i], err, sizeof(err));
        if (k != NULL)
            TT_FAIL("key text %zu accepted", i);
        TT_ASSERT(err[0] != 0);
        TT_ASSERT(strstr(err, "0011") == NULL); /* never echoes key material */
    }
    struct track_keys *k =
        tracktoken_keys_parse("  1:00112233445566778899aabbccddeeff \r\n", err, sizeof(err));
    TT_ASSERT(k != NULL);
    tracktoken_keys_free(k);
}

TT_TEST(speed)
{
    struct track_keys *k = keys(KEY7);
    struct track_token t;
    struct buf out = BUF_INIT(65536), s = BUF_INIT(65536);
    int64_t start = timeutil_mono_ms();
    int n = 0;

    make(&t, TRACK_CLICK, 0, 0, 1747900000);
    t.url = URL;
    t.url_len = strlen(URL);
    while (timeutil_mono_ms() - start < 300) {
        for (int i = 0; i < 1000; i++, n++) {
            buf_reset(&out);
            TT_EQ_INT(tracktoken_encode(k, HOST, &t, &out), 0);
            TT_EQ_INT(tracktoken_decode(k, HOST, out.data, out.len, &t, &s), 0);
        }
    }
    double per_s = n / ((timeutil_mono_ms() - start) / 1000.0);
    printf("  tracktoken: %.0f encode+decode per second\n", per_s);
    TT_ASSERT(per_s > 50000);
    buf_free(&out);
    buf_free(&s);
    tracktoken_keys_free(k);
}

TT_MAIN(TT_CASE(bound_to_host), TT_CASE(host_of), TT_CASE(known_answers), TT_CASE(decode_fields),
        TT_CASE(every_change_refused), TT_CASE(non_canonical_refused),
        TT_CASE(tampered_payload_refused), TT_CASE(encode_limits), TT_CASE(key_file_errors),
        TT_CASE(speed))
