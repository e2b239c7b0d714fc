/* notify_test - signature, header rules, endpoint identity, payload shape */
#include "../../tests/harness/ttest.h"
#include "notify.h"
#include "global/crypto.h"
#include "util/codec.h"

#include <arpa/inet.h>
#include <netinet/in.h>

TT_TEST(signature)
{
    struct buf s1 = BUF_INIT(100), out = BUF_INIT(1000);
    const char *body = "{\"meta\":{}}";

    buf_puts(&s1, "secret");
    TT_ASSERT(notify_sign_signature(&out, 1747212951, &s1, NULL, body, strlen(body)) == 0);
    /* HMAC-SHA256("secret", "1747212951.{\"meta\":{}}") computed with openssl dgst */
    TT_EQ_STR(out.data, "t=1747212951,v1="
                        "dd7e5160cf4b181415c5d02cfc1a17dfad9c3e698918340200f35b2daa8a8f16");
    buf_free(&s1);
    buf_free(&out);
}

TT_TEST(signature_rotation)
{
    struct buf s1 = BUF_INIT(100), s2 = BUF_INIT(100), out = BUF_INIT(1000);

    buf_puts(&s1, "new");
    buf_puts(&s2, "old");
    TT_ASSERT(notify_sign_signature(&out, 5, &s1, &s2, "x", 1) == 0);
    TT_ASSERT(strncmp(out.data, "t=5,v1=", 7) == 0);
    TT_EQ_INT(strlen(out.data), strlen("t=5") + 2 * (4 + 64));
    TT_ASSERT(strstr(out.data + 8, ",v1=") != NULL);
    buf_free(&s1);
    buf_free(&s2);
    buf_free(&out);
}

TT_TEST(headers)
{
    TT_ASSERT(notify_sign_header_name_ok("X-Custom_1"));
    TT_ASSERT(!notify_sign_header_name_ok("Bad Header"));
    TT_ASSERT(!notify_sign_header_name_ok("a:b"));
    TT_ASSERT(!notify_sign_header_name_ok(""));
    TT_ASSERT(notify_sign_header_value_ok("value with\ttab"));
    TT_ASSERT(!notify_sign_header_value_ok("inject\r\nX-Evil: 1"));
    TT_ASSERT(notify_sign_header_reserved("content-type", 0));
    TT_ASSERT(notify_sign_header_reserved("X-TXMAIL-SIGNATURE", 0));
    TT_ASSERT(notify_sign_header_reserved("Host", 0));
    TT_ASSERT(!notify_sign_header_reserved("Authorization", 0));
    TT_ASSERT(notify_sign_header_reserved("authorization", 1));
    TT_ASSERT(!notify_sign_header_reserved("X-Api-Key", 1));
}

TT_TEST(basic)
{
    struct buf out = BUF_INIT(100);

    TT_ASSERT(notify_sign_basic(&out, "Aladdin", "open sesame") == 0);
    TT_EQ_STR(out.data, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    buf_free(&out);
}

TT_TEST(origin)
{
    char o[200];

    TT_ASSERT(webhook_origin(o, sizeof(o), "https://Receiver.Example.com/txmail?x=1") == 0);
    TT_EQ_STR(o, "https://receiver.example.com:443");
    TT_ASSERT(webhook_origin(o, sizeof(o), "http://user:pw@127.0.0.1:8080/hook") == 0);
    TT_EQ_STR(o, "http://127.0.0.1:8080");
    TT_ASSERT(webhook_origin(o, sizeof(o), "http://[::1]:81/") == 0);
    TT_EQ_STR(o, "http://[::1]:81");
    TT_ASSERT(webhook_origin(o, sizeof(o), "ftp://x/") < 0);
    TT_ASSERT(webhook_origin(o, sizeof(o), "http:///x") < 0);
}

TT_TEST(payload)
{
    struct nf_job job;
    struct nf_account acct;
    json_t *items = json_array(), *meta;
    size_t len;
    char *body;

    memset(&job, 0, sizeof(job));
    memset(&acct, 0, sizeof(acct));
    snprintf(job.id, sizeof(job.id), "af9f86ce-ae22-4878-b909-cc1444b4017a");
    job.received_ms = 1747212950817LL;
    job.reference_job = "job-1";
    acct.name = "m4a_test_user";
    acct.customer_no = "99999";
    json_array_append_new(items, json_pack("{s:{s:s}}", "meta", "tag", "t"));
    meta = notify_sign_meta(&job, &acct);
    body = webhook_body(meta, items, &len);
    TT_EQ_STR(body,
              "{\"meta\":{\"version\":\"1\",\"jobId\":\"af9f86ce-ae22-4878-b909-cc1444b4017a\","
              "\"account\":\"m4a_test_user\",\"customerNo\":\"99999\","
              "\"receivedTs\":\"2025-05-14T08:55:50.817Z\",\"referenceJob\":\"job-1\"},"
              "\"notifications\":[{\"meta\":{\"tag\":\"t\"}}]}");
    TT_EQ_INT(len, strlen(body));
    free(body);
    json_decref(meta);
    json_decref(items);
}

/* the signing decision: a stored secret that cannot be decrypted is an error, never "unsigned" */
TT_TEST(secrets)
{
    struct nf_account acct;
    struct buf enc = BUF_INIT(4096), s1 = BUF_INIT(4096), s2 = BUF_INIT(4096);

    TT_ASSERT(crypto_set_master_key("000102030405060708090a0b0c0d0e0f"
                                    "101112131415161718191a1b1c1d1e1f") == 0);
    TT_ASSERT(crypto_secret_encrypt(&enc, "whsec_1", 7) == 0);
    memset(&acct, 0, sizeof(acct));
    acct.id = 7;
    acct.secret = enc.data;
    TT_EQ_INT(notify_sign_secrets(&acct, &s1, &s2), 1);
    TT_EQ_MEM(s1.data, s1.len, "whsec_1", 7);
    /* damaged: one character of the ciphertext changed */
    buf_reset(&s1);
    enc.data[enc.len - 3] = enc.data[enc.len - 3] == 'A' ? 'B' : 'A';
    TT_EQ_INT(notify_sign_secrets(&acct, &s1, &s2), -1);
    TT_EQ_INT(s1.len, 0);
    /* not "v1:..." at all */
    acct.secret = "plain-text";
    TT_EQ_INT(notify_sign_secrets(&acct, &s1, &s2), -1);
    /* no secret stored: nothing to sign with, not an error */
    acct.secret = NULL;
    TT_EQ_INT(notify_sign_secrets(&acct, &s1, &s2), 0);
    /* the right value under another master key */
    buf_reset(&enc);
    TT_ASSERT(crypto_secret_encrypt(&enc, "whsec_2", 7) == 0);
    TT_ASSERT(crypto_set_master_key("ff0102030405060708090a0b0c0d0e0f"
                                    "101112131415161718191a1b1c1d1e1f") == 0);
    acct.secret = enc.data;
    TT_EQ_INT(notify_sign_secrets(&acct, &s1, &s2), -1);
    buf_free(&enc);
    buf_free(&s1);
    buf_free(&s2);
}

TT_MAIN(TT_CASE(signature), TT_CASE(signature_rotation), TT_CASE(headers), TT_CASE(basic),
        TT_CASE(origin), TT_CASE(payload), TT_CASE(secrets))
