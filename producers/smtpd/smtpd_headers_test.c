/* smtpd_headers_test - X-RETARUS-M4A-* validation and the endpoint (contract §17.5) */
#include "../../tests/harness/ttest.h"
#include "smtpd_headers.h"
#include "global/crypto.h"
#include "util/buf.h"

static char reply[600];

static int take(struct smtpd_m4a *m, const char *name, const char *value)
{
    reply[0] = 0;
    return smtpd_headers_m4a_field(m, name, strlen(name), value, strlen(value), reply,
                                   sizeof(reply));
}

/* one header alone: its reply ("" when valid) */
static const char *alone(const char *name, const char *value)
{
    struct smtpd_m4a m;

    smtpd_headers_m4a_init(&m);
    take(&m, name, value);
    smtpd_headers_m4a_free(&m);
    return reply;
}

TT_TEST(sample_headers)
{
    struct smtpd_m4a m;
    char *ep = NULL;

    TT_EQ_INT(
        crypto_set_master_key("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
        0);
    smtpd_headers_m4a_init(&m);
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-NOTIFICATION-URL", " https://receiver.example.com/retarus"),
              0);
    TT_EQ_INT(take(&m, "x-retarus-m4a-notification-header", "key-1=value-1"), 0);
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-NOTIFICATION-HEADER", "key-2=value-2"), 0);
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-NOTIFICATION-HEADER", "KEY-1=other"), 0); /* first wins */
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-NOTIFICATION-AUTH-METHOD", "BASIC"), 0);
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-NOTIFICATION-AUTH-USER", "RT_MailNotif"), 0);
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-NOTIFICATION-AUTH-PASSWORD", "secret"), 0);
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-REFERENCE", "ref-0001"), 0);
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-REFERENCE", "ignored, a second one"), 0);
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-CAMPAIGN-ID", "=?UTF-8?Q?Fr=C3=BChling?="), 0);
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-COST-CENTER", "cost-center"), 0);
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-ANTIVIRUS-ACTIVE", "FALSE"), 0);
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-TRACE-RECOVER-ACTIVE", "true"), 0);
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-SOMETHING-NEW", "whatever"), 0);
    TT_EQ_INT(smtpd_headers_m4a_complete(&m, reply, sizeof(reply)), 0);
    TT_EQ_STR(m.reference, "ref-0001");
    TT_EQ_STR(m.campaign_id, "Fr\xc3\xbchling");
    TT_EQ_INT(m.antivirus, 0);
    TT_EQ_INT(m.trace_recover, 1);
    TT_EQ_INT(m.message_signing, -1);
    TT_EQ_INT(smtpd_headers_m4a_endpoint(&m, &ep), 0);
    json_t *j = json_loads(ep, 0, NULL);
    TT_EQ_STR(json_string_value(json_object_get(j, "url")), "https://receiver.example.com/retarus");
    TT_EQ_STR(json_string_value(json_object_get(json_object_get(j, "headers"), "key-1")),
              "value-1");
    TT_EQ_STR(json_string_value(json_object_get(json_object_get(j, "headers"), "key-2")),
              "value-2");
    TT_EQ_INT(json_object_size(json_object_get(j, "headers")), 2);
    json_t *a = json_object_get(j, "authentication");
    TT_EQ_STR(json_string_value(json_object_get(a, "method")), "BASIC");
    TT_EQ_STR(json_string_value(json_object_get(a, "user")), "RT_MailNotif");
    const char *enc = json_string_value(json_object_get(a, "password"));
    TT_ASSERT(enc && strncmp(enc, "v1:", 3) == 0 && strstr(ep, "secret") == NULL);
    struct buf plain = BUF_INIT(1000);
    TT_EQ_INT(crypto_secret_decrypt(&plain, enc, strlen(enc)), 0);
    TT_EQ_STR(buf_ptr(&plain), "secret");
    buf_free(&plain);
    json_decref(j);
    free(ep);
    smtpd_headers_m4a_free(&m);
}

TT_TEST(invalid_values)
{
    char big[1200];

    TT_EQ_STR(alone("X-RETARUS-M4A-NOTIFICATION-URL", "ftp://x.example.com/"),
              "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-URL");
    TT_EQ_STR(alone("X-RETARUS-M4A-NOTIFICATION-URL", "https://"),
              "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-URL");
    TT_EQ_STR(alone("X-RETARUS-M4A-NOTIFICATION-URL", "https://a b/"),
              "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-URL");
    memset(big, 'a', sizeof(big));
    memcpy(big, "https://x.example/", 18);
    big[1001] = 0;
    TT_EQ_STR(alone("X-RETARUS-M4A-NOTIFICATION-URL", big),
              "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-URL");
    big[1000] = 0;
    TT_EQ_STR(alone("X-RETARUS-M4A-NOTIFICATION-URL", big), "");
    TT_EQ_STR(alone("X-RETARUS-M4A-NOTIFICATION-HEADER", "no-equals-sign"),
              "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-HEADER");
    TT_EQ_STR(alone("X-RETARUS-M4A-NOTIFICATION-HEADER", "Content-Length=5"),
              "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-HEADER");
    TT_EQ_STR(alone("X-RETARUS-M4A-NOTIFICATION-HEADER", "bad key=5"),
              "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-HEADER");
    TT_EQ_STR(alone("X-RETARUS-M4A-NOTIFICATION-HEADER", "Authorization=Bearer x"), "");
    TT_EQ_STR(alone("X-RETARUS-M4A-NOTIFICATION-AUTH-METHOD", "DIGEST"),
              "554 5.6.0 Invalid value for X-RETARUS-M4A-NOTIFICATION-AUTH-METHOD");
    TT_EQ_STR(
        alone("X-RETARUS-M4A-REFERENCE", "123456789012345678901234567890123456789012345678901"),
        "554 5.6.0 Invalid value for X-RETARUS-M4A-REFERENCE");
    TT_EQ_STR(
        alone("X-RETARUS-M4A-REFERENCE", "12345678901234567890123456789012345678901234567890"), "");
    TT_EQ_STR(alone("X-RETARUS-M4A-COST-CENTER", "\xff\xfe"),
              "554 5.6.0 Invalid value for X-RETARUS-M4A-COST-CENTER");
    TT_EQ_STR(alone("X-RETARUS-M4A-ANTIVIRUS-ACTIVE", "yes"),
              "554 5.6.0 Invalid value for X-RETARUS-M4A-ANTIVIRUS-ACTIVE");
    TT_EQ_STR(alone("x-retarus-m4a-message-signing-active", "1"),
              "554 5.6.0 Invalid value for X-RETARUS-M4A-MESSAGE-SIGNING-ACTIVE");
    /* all NOTIFICATION-HEADER values together: at most 1000 characters */
    struct smtpd_m4a m;
    char v[600];
    smtpd_headers_m4a_init(&m);
    memset(v, 'v', sizeof(v));
    memcpy(v, "k1=", 3);
    v[599] = 0;
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-NOTIFICATION-HEADER", v), 0);
    v[1] = '2';
    TT_EQ_INT(take(&m, "X-RETARUS-M4A-NOTIFICATION-HEADER", v), -1);
    smtpd_headers_m4a_free(&m);
}

static const char *complete(const char *const *hdrs)
{
    struct smtpd_m4a m;

    smtpd_headers_m4a_init(&m);
    for (int i = 0; hdrs[i]; i += 2)
        take(&m, hdrs[i], hdrs[i + 1]);
    reply[0] = 0;
    smtpd_headers_m4a_complete(&m, reply, sizeof(reply));
    smtpd_headers_m4a_free(&m);
    return reply;
}

TT_TEST(completeness)
{
    const char *a[] = {"X-RETARUS-M4A-NOTIFICATION-HEADER", "k=v", NULL};
    const char *b[] = {"X-RETARUS-M4A-NOTIFICATION-URL",
                       "http://h.example/",
                       "X-RETARUS-M4A-NOTIFICATION-AUTH-METHOD",
                       "BASIC",
                       "X-RETARUS-M4A-NOTIFICATION-AUTH-USER",
                       "u",
                       NULL};
    const char *c[] = {"X-RETARUS-M4A-NOTIFICATION-URL", "http://h.example/",
                       "X-RETARUS-M4A-NOTIFICATION-AUTH-PASSWORD", "p", NULL};
    const char *d[] = {"X-RETARUS-M4A-NOTIFICATION-URL", "http://h.example/",
                       "X-RETARUS-M4A-NOTIFICATION-AUTH-METHOD", "basic", NULL};
    const char *e[] = {"X-RETARUS-M4A-REFERENCE", "r", NULL};

    TT_EQ_STR(complete(a), "554 5.6.0 Missing mandatory value for X-RETARUS-M4A-NOTIFICATION-URL");
    TT_EQ_STR(complete(b),
              "554 5.6.0 Missing mandatory value for X-RETARUS-M4A-NOTIFICATION-AUTH-PASSWORD");
    TT_EQ_STR(complete(c),
              "554 5.6.0 Missing mandatory value for X-RETARUS-M4A-NOTIFICATION-AUTH-METHOD");
    TT_EQ_STR(complete(d),
              "554 5.6.0 Missing mandatory value for X-RETARUS-M4A-NOTIFICATION-AUTH-USER");
    TT_EQ_STR(complete(e), "");
}

TT_MAIN(TT_CASE(sample_headers), TT_CASE(invalid_values), TT_CASE(completeness))
