/*
 * rest_jobreq_data_test - the JobRequest check without network: the job
 * data and content it builds from accepted requests (the sample, parts,
 * decoding, lenient values, raw attachments, long strings).
 */
#include "producers/rest/rest_jobreq_fixture.h"
#include "global/account.h"
#include "tests/harness/ttest.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>

TT_TEST(test_sample)
{
    FILE *f = fopen("tests/fixtures/samples/sample-jobrequest.json", "rb");
    char buf[8192];
    struct jobreq_result res;
    json_t *st = account_settings(rest_jobreq_fixture_settings);

    if (f == NULL)
        TT_FAIL("tests/fixtures/samples/sample-jobrequest.json is missing (run from the checkout)");
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    struct jobreq_env env = rest_jobreq_fixture_env(st, NULL, "T");
    TT_EQ_INT(rest_jobreq_run(buf, n, &env, &res), 0);
    TT_EQ_STR(res.slip, "render,deliver");
    TT_EQ_INT(res.addresses, 3);
    TT_EQ_INT(res.dropped, 0);
    json_t *d = res.data;
    TT_EQ_STR(SVAL(d, "receivedTs"), "2025-05-14T08:55:50.817Z");
    TT_EQ_STR(SVAL(d, "alternative.text"),
              "plain alternative"); /* base64 that is not: plain (§4.6) */
    TT_EQ_STR(SVAL(d, "body.text"), "<html><body>hello world</body></html>");
    TT_EQ_STR(SVAL(d, "body.cte"), "base64");
    TT_EQ_STR(SVAL(d, "blocks.0.priority"), "HIGH");
    TT_EQ_STR(SVAL(d, "blocks.0.inReplyTo"), "in-reply-to-rcpt@example.com");
    TT_EQ_STR(SVAL(d, "blocks.0.replyTo.addr"), "reply-to@example.com");
    TT_EQ_STR(SVAL(d, "blocks.0.listUnsubscribe"), "custom_email_address");
    TT_EQ_INT(json_object_size(rest_jobreq_fixture_path(d, "blocks.0.xHeaders")), 4);
    TT_EQ_STR(SVAL(d, "blocks.0.to.0.rid"), REST_JOBREQ_FIXTURE_JOB_ID "#00000000#00000000");
    TT_EQ_STR(SVAL(d, "blocks.0.cc.0.rid"), REST_JOBREQ_FIXTURE_JOB_ID "#00000000#00000001");
    TT_EQ_STR(SVAL(d, "blocks.0.bcc.0.rid"), REST_JOBREQ_FIXTURE_JOB_ID "#00000000#00000002");
    TT_EQ_STR(SVAL(d, "blocks.0.to.0.display"), "to_friendly");
    TT_EQ_STR(SVAL(d, "mail.from.addr"), "smtp-from@example.com");
    TT_EQ_STR(SVAL(d, "mail.mimeFrom.display"), "mime_from_friendly");
    TT_EQ_STR(SVAL(d, "attachments.0.data"), "bmFtZQ==");
    TT_ASSERT(json_is_true(rest_jobreq_fixture_path(d, "blocks.0.openTracking")));
    TT_EQ_STR(SVAL(res.content, "recipients.0.mail.bcc.0.email"), "bcc_friendly<bcc@example.com>");
    TT_EQ_STR(SVAL(res.notification, "authentication.password"), "dfghoxjuvnzeso374i");
    rest_jobreq_result_free(&res);
    json_decref(st);
}

TT_TEST(test_part)
{
    struct jobreq_result res;
    const char *body = "{'subject':{'content':'x'},'recipients':[{'mail':{'to':[{'email':' John "
                       "<john@example.org> '},"
                       "{'email':'foo@bar'}],'cc':[{'email':'Admin@example.org'}],'bcc':[{'email':'"
                       "Bounced@Example.org'}]}},"
                       "{'mail':{'cc':[{'email':'manual@example.org'}]}}]," FROM "}";

    TT_EQ_INT(rest_jobreq_fixture_run(body, NULL, NULL, &res), 0);
    TT_EQ_INT(res.dropped, 4);
    json_t *a = res.content;
    TT_EQ_STR(SVAL(a, "recipients.0.mail.to.0.email"), "John <john@example.org>");
    TT_ASSERT(rest_jobreq_fixture_path(a, "recipients.0.mail.to.0.validationResult") == NULL);
    TT_EQ_STR(SVAL(a, "recipients.0.mail.to.1.validationResult.classifier"), "INVALID_FORMAT");
    TT_ASSERT(rest_jobreq_fixture_path(a, "recipients.0.mail.to.1.validationResult.message") ==
              NULL);
    TT_EQ_STR(SVAL(a, "recipients.0.mail.cc.0.validationResult.classifier"), "FORBIDDEN_RECIPIENT");
    TT_EQ_STR(SVAL(a, "recipients.0.mail.cc.0.validationResult.message"),
              "Reason: Local part forbidden by config");
    TT_EQ_STR(SVAL(a, "recipients.0.mail.bcc.0.validationResult.classifier"), "PREVIOUSLY_BOUNCED");
    TT_EQ_STR(SVAL(a, "recipients.1.mail.cc.0.id"),
              REST_JOBREQ_FIXTURE_JOB_ID "#00000001#00000004");
    TT_EQ_INT(json_array_size(rest_jobreq_fixture_path(a, "recipients.1.mail.to")), 0);
    TT_EQ_STR(SVAL(a, "recipients.1.mail.cc.0.validationResult.classifier"), "SUPPRESSED");
    json_t *d = res.data;
    TT_EQ_STR(SVAL(d, "blocks.0.bcc.0.drop.description"),
              "ts=\"2025-05-10T10:00:00.000Z\", reason=\"550 5.1.1 user unknown\"");
    TT_EQ_STR(SVAL(d, "blocks.0.bcc.0.drop.suppression.address"), "bounced@example.org");
    TT_EQ_STR(SVAL(d, "blocks.1.cc.0.drop.description"),
              "type=\"MANUAL\", ts=\"2025-05-11T10:00:00.000Z\", reason=\"\"");
    TT_EQ_STR(SVAL(d, "blocks.0.to.1.drop.subType"), "INVALID_ADDRESS");
    TT_ASSERT(json_is_null(rest_jobreq_fixture_path(d, "blocks.0.to.1.addr")));
    rest_jobreq_result_free(&res);
}

TT_TEST(test_decoding)
{
    struct jobreq_result res;

    TT_EQ_INT(rest_jobreq_fixture_run(
                  "{'subject':{'content':'=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= =?ISO-8859-1?B?/A==?= x',"
                  "'contentEncoding':'quoted-printable'},'body':{'contentType':'TEXT/HTML',"
                  "'content':'PGI+aGk8L2I+','contentEncoding':'base64'}," RCPT "," FROM "}",
                  NULL, NULL, &res),
              0);
    TT_EQ_STR(SVAL(res.data, "subject.text"), "Grüßeü x");
    TT_EQ_STR(SVAL(res.data, "body.text"), "<b>hi</b>");
    TT_EQ_STR(SVAL(res.data, "body.contentType"), "text/html");
    rest_jobreq_result_free(&res);
    /* latin-1 bytes declared as such */
    TT_EQ_INT(
        rest_jobreq_fixture_run(
            "{'subject':{'content':'/A==','contentEncoding':'base64','charset':'iso-8859-1'}," RCPT
            "," FROM "}",
            NULL, NULL, &res),
        0);
    TT_EQ_STR(SVAL(res.data, "subject.text"), "ü");
    rest_jobreq_result_free(&res);
}

TT_TEST(test_lenient)
{
    struct jobreq_result res;

    /* null and "" are absent; unknown keys ignored; booleans as strings */
    TT_EQ_INT(
        rest_jobreq_fixture_run(
            "{'subject':{'content':'x','template':''},'body':null,'alternative':'',"
            "'recipients':[{'mail':{'to':[{'email':'a@b.com','name':'A'}],'listUnsubscribe':''},"
            "'features':{'openTracking':{'active':'false'}},'active ':1}],"
            "'mail':{'from':{'email':' sender@example.com'},'priority':null},'unknown':{'x':[1]}}",
            NULL, NULL, &res),
        0);
    TT_ASSERT(json_is_null(rest_jobreq_fixture_path(res.data, "body")));
    TT_ASSERT(json_is_null(rest_jobreq_fixture_path(res.data, "blocks.0.listUnsubscribe")));
    TT_ASSERT(json_is_false(rest_jobreq_fixture_path(res.data, "blocks.0.openTracking")));
    rest_jobreq_result_free(&res);
}

/* big_b64 - base64 of n bytes with JSON-escaped line breaks every 76 characters. Ownership: new. */
static char *big_b64(size_t n, char **flat)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t chars = n / 3 * 4;
    char *o = xmalloc(chars * 2 + 16), *f = xmalloc(chars + 1);
    size_t k = 0;

    for (size_t i = 0; i < chars; i++) {
        f[i] = al[(i * 7 + i / 5) % 64];
        if (f[i] == '/') { /* some encoders write "\/" */
            o[k++] = '\\';
            o[k++] = '/';
        } else
            o[k++] = f[i];
        if (i % 76 == 75) {
            memcpy(o + k, "\\r\\n", 4);
            k += 4;
        }
    }
    f[chars] = 0;
    o[k] = 0;
    *flat = f;
    return o;
}

TT_TEST(test_raw_attachments)
{
    struct jobreq_result res;
    char *flat1, *flat2, *b1 = big_b64(3000, &flat1), *b2 = big_b64(900, &flat2);
    char *body = xasprintf("{\"subject\":{\"content\":\"x\"},\"attachments\":["
                           "{\"name\":\"a.pdf\",\"contentType\":\"a/b\",\"content\":\"%s\"},"
                           "{\"name\":\"s.pdf\",\"contentType\":\"a/b\",\"content\":\"QQ==\"},"
                           "{\"name\":\"b.pdf\",\"contentType\":\"a/b\",\"content\":\"%s\"}],"
                           "\"recipients\":[{\"mail\":{\"to\":[{\"email\":\"a@b.com\"}]}}],"
                           "\"mail\":{\"from\":{\"email\":\"s@example.com\"}}}",
                           b1, b2);
    json_t *st = account_settings(rest_jobreq_fixture_settings);
    struct jobreq_env env = rest_jobreq_fixture_env(st, NULL, NULL);

    TT_EQ_INT(rest_jobreq_run(body, strlen(body), &env, &res), 0);
    TT_EQ_INT(res.nraw, 2);
    TT_ASSERT(strncmp(SVAL(res.data, "attachments.0.data"), "txmail-raw-", 11) == 0);
    TT_EQ_STR(SVAL(res.data, "attachments.1.data"), "QQ==");
    struct buf raw = BUF_INIT(1 << 20);
    json_t *d = json_deep_copy(res.data);
    TT_EQ_INT(rest_jobreq_build_rawify(&res, d, &raw), 0);
    json_t *r0 = json_object_get(json_array_get(json_object_get(d, "attachments"), 0), "raw");
    json_t *r2 = json_object_get(json_array_get(json_object_get(d, "attachments"), 2), "raw");
    TT_ASSERT(json_is_array(r0) && json_is_array(r2));
    TT_ASSERT(json_object_get(json_array_get(json_object_get(d, "attachments"), 0), "data") ==
              NULL);
    TT_EQ_MEM(raw.data + json_integer_value(json_array_get(r0, 0)),
              (size_t)json_integer_value(json_array_get(r0, 1)), flat1, strlen(flat1));
    TT_EQ_MEM(raw.data + json_integer_value(json_array_get(r2, 0)),
              (size_t)json_integer_value(json_array_get(r2, 1)), flat2, strlen(flat2));
    TT_EQ_STR(SVAL(d, "attachments.1.data"), "QQ==");
    json_decref(d);
    buf_free(&raw);
    rest_jobreq_result_free(&res);
    xfree(body);

    /* a large content with a bad character: INVALID_FORMAT as any other */
    b1[100] = '*';
    body = xasprintf("{\"subject\":{\"content\":\"x\"},\"attachments\":[{\"name\":\"a.pdf\","
                     "\"contentType\":\"a/b\",\"content\":\"%s\"}]}",
                     b1);
    TT_EQ_INT(rest_jobreq_run(body, strlen(body), &env, &res), -1);
    TT_EQ_STR(res.description, "Invalid format for attachments[0].content");
    xfree(body);
    /* a parser error after a large content names its place in the request as sent */
    b1[100] = 'A';
    body = xasprintf("{\"attachments\":[{\"content\":\"%s\",\"content\":1}]}", b1);
    TT_EQ_INT(rest_jobreq_run(body, strlen(body), &env, &res), -1);
    char want[128];
    snprintf(want, sizeof(want),
             "Duplicate member name at line 1 column %zu path $.attachments[0].content",
             strlen(b1) + 40);
    TT_EQ_STR(res.description, want);
    xfree(body);
    /* other escapes go through the parser: still valid */
    body = xasprintf("{\"subject\":{\"content\":\"x\"},\"attachments\":[{\"name\":\"a.pdf\","
                     "\"contentType\":\"a/b\",\"content\":\"\\u0041%s\"}],"
                     "\"recipients\":[{\"mail\":{\"to\":[{\"email\":\"a@b.com\"}]}}],"
                     "\"mail\":{\"from\":{\"email\":\"s@example.com\"}}}",
                     flat1 + 1);
    TT_EQ_INT(rest_jobreq_run(body, strlen(body), &env, &res), 0);
    TT_EQ_INT(res.nraw, 0);
    TT_EQ_STR(SVAL(res.data, "attachments.0.data"), flat1);
    rest_jobreq_result_free(&res);
    xfree(body);
    xfree(b1);
    xfree(b2);
    xfree(flat1);
    xfree(flat2);
    json_decref(st);
}

/* random JSON string text from pieces that exercise every escape and UTF-8 length */
static size_t random_string(char *out, unsigned *seed, size_t pieces)
{
    static const char *const piece[] = {
        "plain text ",
        "0123456789abcdef",
        "\\n",
        "\\r",
        "\\t",
        "\\b",
        "\\f",
        "\\/",
        "\\\\",
        "\\\"",
        "\\u0041",
        "\\u00e9",
        "\\u07FF",
        "\\u0800",
        "\\u20ac",
        "\\uFFFF",
        "\\ud83d\\ude00",
        "\\uDBFF\\uDFFF",
        "\\uD800\\uDC00",
        "\xc3\xa9",
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80",
        "\x7f",
        "<a href=\\\"x\\\">",
        " ",
    };
    size_t n = 0;

    for (size_t i = 0; i < pieces; i++) {
        *seed = *seed * 1103515245u + 12345u;
        const char *p = piece[(*seed >> 16) % (sizeof(piece) / sizeof(piece[0]))];
        memcpy(out + n, p, strlen(p));
        n += strlen(p);
    }
    out[n] = 0;
    return n;
}

/* long strings bypass jansson (rest_jobreq_syntax_unescape): the same text as jansson's */
TT_TEST(test_unescape)
{
    static char text[64 * 1024], doc[64 * 1024 + 16], dec[64 * 1024];
    unsigned seed = 1;
    char msg[256];

    for (int round = 0; round < 2000; round++) {
        size_t n = random_string(text, &seed, (size_t)(round % 300) + 1);
        int dl = snprintf(doc, sizeof(doc), "[\"%s\"]", text);
        TT_EQ_INT(rest_jobreq_syntax(doc, (size_t)dl, msg, sizeof(msg)) == 0 || doc[0] != '{', 1);
        json_t *j = json_loadb(doc, (size_t)dl, 0, NULL);
        TT_ASSERT(j != NULL);
        size_t got = rest_jobreq_syntax_unescape(text, n, dec);
        json_t *s = json_array_get(j, 0);
        TT_EQ_MEM(dec, got, json_string_value(s), json_string_length(s));
        json_decref(j);
    }

    /* a whole job whose long values carry every escape: the job as without the bypass */
    char *body1 = xmalloc(sizeof(text)), *tpl;
    random_string(body1, &seed, 400);
    random_string(text, &seed, 100);
    tpl = "{\"subject\":{\"content\":\"x\"},\"body\":{\"contentType\":\"text/"
          "html\",\"content\":\"%s\"},"
          "\"alternative\":{\"content\":\"%s\"},\"attachments\":[{\"name\":\"a.txt\","
          "\"contentType\":\"a/b\","
          "\"content\":\"%s\\u0041\\u003d\\u003d\"}],"
          "\"recipients\":[{\"mail\":{\"to\":[{\"email\":\"a@b.com\"}]}}],"
          "\"mail\":{\"from\":{\"email\":\"s@example.com\"}}}";
    char *b64 = xmalloc(2001);
    memset(b64, 'Q', 1997); /* + "A==": 2000 characters */
    b64[1997] = 0;
    char *body = xasprintf(tpl, body1, text, b64);
    json_t *st = account_settings(rest_jobreq_fixture_settings);
    struct jobreq_env env = rest_jobreq_fixture_env(st, NULL, NULL);
    struct jobreq_result res;
    if (rest_jobreq_run(body, strlen(body), &env, &res) < 0)
        printf("%s\n", res.description);
    TT_EQ_INT(res.http, 200);
    json_t *ref = json_loads(body, 0, NULL);
    TT_ASSERT(ref != NULL);
    TT_EQ_STR(SVAL(res.data, "body.text"), SVAL(ref, "body.content"));
    TT_EQ_STR(SVAL(res.data, "alternative.text"), SVAL(ref, "alternative.content"));
    TT_EQ_STR(SVAL(res.data, "attachments.0.data"), SVAL(ref, "attachments.0.content"));
    json_decref(ref);
    rest_jobreq_result_free(&res);
    xfree(body);
    xfree(body1);
    xfree(b64);
    json_decref(st);
}

TT_MAIN(TT_CASE(test_sample), TT_CASE(test_part), TT_CASE(test_decoding), TT_CASE(test_lenient),
        TT_CASE(test_raw_attachments), TT_CASE(test_unescape))
