/*
 * rest_jobreq_test - the JobRequest check without network (table-driven):
 * what it refuses, its limits, the structure it accepts and the options.
 * What the job's data holds is in rest_jobreq_data_test.c.
 */
#include "producers/rest/rest_jobreq_fixture.h"
#include "global/account.h"
#include "tests/harness/ttest.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>


struct reject_case {
    const char *body;
    int http;
    const char *subtype;
    const char *description;
};

static const struct reject_case rejects[] = {
    /* syntax (§4.1, §6.1) */
    {"", 400, "INVALID_JSON_SYNTAX", "End of input at line 1 column 1 path $"},
    {"[1]", 400, "INVALID_JSON_SYNTAX", "Expected a JSON object at line 1 column 1 path $"},
    {"{'recipients':[{'mail':{'to':[{'email':'a@b.com'} {'email':'c@d.com'}]}}]}", 400,
     "INVALID_JSON_SYNTAX",
     "Unterminated array at line 1 column 51 path $.recipients[0].mail.to[1]"},
    {"{'a':1,'a':2}", 400, "INVALID_JSON_SYNTAX",
     "Duplicate member name at line 1 column 11 path $.a"},
    {"{'a':'\\u0000'}", 400, "INVALID_JSON_SYNTAX",
     "NUL character in string at line 1 column 7 path $.a"},
    {"{'a':'x'}junk", 400, "INVALID_JSON_SYNTAX",
     "Unexpected data after the JSON object at line 1 column 10 path $"},
    {"{'a':01}", 400, "INVALID_JSON_SYNTAX", "Invalid number at line 1 column 6 path $.a"},
    {"{'a':tru}", 400, "INVALID_JSON_SYNTAX", "Expected value at line 1 column 6 path $.a"},
    {"{'a':'\\x'}", 400, "INVALID_JSON_SYNTAX",
     "Invalid escape sequence at line 1 column 7 path $.a"},
    {"{'a':'\xc3\x28'}", 400, "INVALID_JSON_SYNTAX", "Invalid UTF-8 at line 1 column 7 path $.a"},
    {"{'a' 1}", 400, "INVALID_JSON_SYNTAX", "Expected ':' at line 1 column 6 path $.a"},
    {"{\n 'a': [1,\n 2,]}", 400, "INVALID_JSON_SYNTAX",
     "Expected value at line 3 column 4 path $.a[2]"},
    /* missing values (§4.2) */
    {"{" RCPT "," FROM "}", 400, "MISSING_VALUE", "Missing mandatory value for subject.content"},
    {"{'subject':null," RCPT "," FROM "}", 400, "MISSING_VALUE",
     "Missing mandatory value for subject.content"},
    {"{'subject':{'content':''}," RCPT "," FROM "}", 400, "MISSING_VALUE",
     "Missing mandatory value for subject.content"},
    {"{'subject':{'content':'x'}," FROM "}", 400, "MISSING_VALUE",
     "Missing mandatory value for recipients"},
    {"{'subject':{'content':'x'},'recipients':[]," FROM "}", 400, "MISSING_VALUE",
     "Missing mandatory value for recipients"},
    {"{'subject':{'content':'x'}," RCPT "}", 400, "MISSING_VALUE",
     "Missing mandatory value for mail.from.email"},
    {"{'subject':{'content':'x'}," RCPT ",'mail':{}}", 400, "MISSING_VALUE",
     "Missing mandatory value for mail.from.email"},
    {"{'subject':{'content':'x'}," RCPT ",'mail':{'from':{'email':'  '}}}", 400, "MISSING_VALUE",
     "Missing mandatory value for mail.from.email"},
    {"{" BASE ",'body':{'content':'x'}}", 400, "MISSING_VALUE",
     "Missing mandatory value for body.contentType"},
    {"{" BASE ",'body':{'contentType':'text/html'}}", 400, "MISSING_VALUE",
     "Missing mandatory value for body.content"},
    {"{" BASE ",'alternative':{}}", 400, "MISSING_VALUE",
     "Missing mandatory value for alternative.content"},
    {"{'subject':{'content':'x'},'recipients':[{}]," FROM "}", 400, "MISSING_VALUE",
     "Missing mandatory value for recipients[0].mail.to"},
    {"{'subject':{'content':'x'},'recipients':[{'mail':{'to':[]}}]," FROM "}", 400, "MISSING_VALUE",
     "Missing mandatory value for recipients[0].mail.to"},
    {"{'subject':{'content':'x'},'recipients':[{'mail':{'to':[{}]}}]," FROM "}", 400,
     "MISSING_VALUE", "Missing mandatory value for recipients[0].mail.to[0].email"},
    {"{'subject':{'content':'x'},'recipients':[{'mail':{'to':[{'email':null}]}}]," FROM "}", 400,
     "MISSING_VALUE", "Missing mandatory value for recipients[0].mail.to[0].email"},
    {"{" BASE ",'attachments':[{'contentType':'a/b','content':'QQ=='}]}", 400, "MISSING_VALUE",
     "Missing mandatory value for attachments[0].name"},
    {"{" BASE ",'attachments':[{'name':'a','content':'QQ=='}]}", 400, "MISSING_VALUE",
     "Missing mandatory value for attachments[0].contentType"},
    {"{" BASE ",'attachments':[{'name':'a','contentType':'a/b'}]}", 400, "MISSING_VALUE",
     "Missing mandatory value for attachments[0].content"},
    {"{" BASE ",'notification':{'endPoint':{}}}", 400, "MISSING_VALUE",
     "Missing mandatory value for notification.endPoint.url"},
    {"{" BASE ",'notification':{'endPoint':{'url':'https://h.test/"
     "x','authentication':{'user':'u','password':'p'}}}}",
     400, "MISSING_VALUE",
     "Missing mandatory value for notification.endPoint.authentication.method"},
    {"{" BASE ",'notification':{'endPoint':{'url':'https://h.test/"
     "x','authentication':{'method':'BASIC','password':'p'}}}}",
     400, "MISSING_VALUE", "Missing mandatory value for notification.endPoint.authentication.user"},
    {"{" BASE ",'notification':{'endPoint':{'url':'https://h.test/"
     "x','authentication':{'method':'BASIC','user':'u'}}}}",
     400, "MISSING_VALUE",
     "Missing mandatory value for notification.endPoint.authentication.password"},
    {"{'subject':{'content':'x'}," RCPT ",'mail':{'from':{'email':'s@example.com'},'replyTo':{}}}",
     400, "MISSING_VALUE", "Missing mandatory value for mail.replyTo.email"},
    /* wrong types and formats */
    {"{'subject':'x'," RCPT "," FROM "}", 400, "INVALID_FORMAT", "Invalid format for subject"},
    {"{'subject':{'content':5}," RCPT "," FROM "}", 400, "INVALID_FORMAT",
     "Invalid format for subject.content"},
    {"{" BASE ",'attachments':[{'name':'a.pdf','contentType':'a/b','content':'QQ='}]}", 400,
     "INVALID_FORMAT", "Invalid format for attachments[0].content"},
    {"{" BASE ",'attachments':[{'name':'a.pdf','contentType':'pdf','content':'QQ=='}]}", 400,
     "INVALID_FORMAT", "Invalid format for attachments[0].contentType"},
    {"{" BASE ",'attachments':{}}", 400, "INVALID_FORMAT", "Invalid format for attachments"},
    {"{" BASE ",'notification':{'endPoint':{'url':'ftp://h.test/x'}}}", 400, "INVALID_FORMAT",
     "Invalid format for notification.endPoint.url"},
    {"{" BASE ",'notification':{'endPoint':{'url':'https://h.test/x','headers':{'bad name':'v'}}}}",
     400, "INVALID_FORMAT", "Invalid format for notification.endPoint.headers.bad name"},
    {"{'subject':{'content':'x'}," RCPT
     ",'mail':{'from':{'email':'s@example.com'},'mimeFrom':{'email':'nope'}}}",
     400, "INVALID_FORMAT", "Invalid format for mail.mimeFrom.email"},
    {"{'subject':{'content':'x'}," RCPT
     ",'mail':{'from':{'email':'s@example.com'},'xHeaders':{'X-A:':'v'}}}",
     400, "INVALID_FORMAT", "Invalid format for mail.xHeaders.X-A:"},
    {"{" BASE ",'job':{'features':{'openTracking':{'active':'yes'}}}}", 400, "INVALID_FORMAT",
     "Invalid format for job.features.openTracking.active"},
    {"{'subject':{'content':'x'},'recipients':[{'mail':{'to':['a@b.com']}}]," FROM "}", 400,
     "INVALID_FORMAT", "Invalid format for recipients[0].mail.to[0]"},
    /* allowed values */
    {"{" BASE ",'body':{'contentType':'text/xml','content':'x'}}", 400, "INVALID_VALUE",
     "Invalid value for body.contentType"},
    {"{'subject':{'content':'x','contentEncoding':'rot13'}," RCPT "," FROM "}", 400,
     "INVALID_VALUE", "Invalid value for subject.contentEncoding"},
    {"{'subject':{'content':'x','contentTransferEncoding':'7bit'}," RCPT "," FROM "}", 400,
     "INVALID_VALUE", "Invalid value for subject.contentTransferEncoding"},
    {"{'subject':{'content':'x','charset':'NO-SUCH-CHARSET'}," RCPT "," FROM "}", 400,
     "INVALID_VALUE", "Invalid value for subject.charset"},
    {"{'subject':{'content':'x\\u20ac','charset':'ISO-8859-1'}," RCPT "," FROM "}", 400,
     "INVALID_VALUE", "Invalid value for subject.charset"},
    {"{'subject':{'content':'x'}," RCPT
     ",'mail':{'from':{'email':'s@example.com'},'priority':'URGENT'}}",
     400, "INVALID_VALUE", "Invalid value for mail.priority"},
    {"{'subject':{'content':'x'}," RCPT
     ",'mail':{'from':{'email':'s@example.com'},'xHeaders':{'subject':'v'}}}",
     400, "INVALID_VALUE", "Invalid value for mail.xHeaders.subject"},
    {"{" BASE
     ",'notification':{'endPoint':{'url':'https://h.test/x','headers':{'Content-Type':'v'}}}}",
     400, "INVALID_VALUE", "Invalid value for notification.endPoint.headers.Content-Type"},
    {"{" BASE ",'notification':{'endPoint':{'url':'https://h.test/"
     "x','authentication':{'method':'DIGEST','user':'u','password':'p'}}}}",
     400, "INVALID_VALUE", "Invalid value for notification.endPoint.authentication.method"},
    {"{" BASE ",'job':{'options':{'antivirus':{'scope':'everything'}}}}", 400, "INVALID_VALUE",
     "Invalid value for job.options.antivirus.scope"},
    /* sender (§4.9) */
    {"{'subject':{'content':'x'}," RCPT ",'mail':{'from':{'email':'foo@bar'}}}", 400,
     "INVALID_SENDER", "Invalid syntax for mail.from.email"},
    {"{'subject':{'content':'x'}," RCPT ",'mail':{'from':{'email':'s@other.test'}}}", 403,
     "FORBIDDEN_SENDER", "Unsupported value for mail.from.email"},
    {"{'subject':{'content':'x'}," RCPT ",'mail':{'from':{'email':'noreply@example.com'}}}", 403,
     "FORBIDDEN_SENDER", "Unsupported value for mail.from.email"},
    {"{'subject':{'content':'x'}," RCPT
     ",'mail':{'from':{'email':'s@example.com'},'mimeFrom':{'email':'m@other.test'}}}",
     403, "FORBIDDEN_SENDER", "Unsupported value for mail.mimeFrom.email"},
    {"{'subject':{'content':'x'}," RCPT ",'mail':{'from':{'email':'s@dbdown.test'}}}", 503,
     "INTERNAL_ERROR", "Internal error"},
    /* account configuration */
    {"{" BASE ",'attachments':[{'name':'run.EXE','contentType':'a/b','content':'QQ=='}]}", 403,
     "FORBIDDEN_PARAMS", "Unsupported value for attachments[0].name"},
    {"{" BASE ",'attachments':[{'name':'run.exe. ','contentType':'a/b','content':'QQ=='}]}", 403,
     "FORBIDDEN_PARAMS", "Unsupported value for attachments[0].name"},
    {"{" BASE ",'job':{'options':{'traceRecover':{'active':true}}}}", 403, "FORBIDDEN_BY_CONFIG",
     "Unsupported value for job.options.traceRecover.active"},
    /* cross-field (§16.3) */
    {"{" BASE ",'attachments':[{'name':'a.pdf','contentType':'a/"
     "b','content':'QQ==','secureDocument':true}]}",
     400, "INVALID_VALUE", "Invalid value for attachments[0].secureDocument"},
    {NULL, 0, NULL, NULL},
};

static int check_reject(const struct reject_case *c, const char *settings, const char *stg)
{
    struct jobreq_result res;
    int rc = rest_jobreq_fixture_run(c->body, settings, stg, &res), bad = 0;

    if (rc == 0 || res.http != c->http || strcmp(res.subtype, c->subtype) != 0 ||
        strcmp(res.description, c->description) != 0) {
        fprintf(stderr, "  body %s:\n    got:      %d %s %s\n    expected: %d %s %s\n", c->body,
                res.http, res.subtype ? res.subtype : "-", res.description, c->http, c->subtype,
                c->description);
        bad = 1;
    }
    rest_jobreq_result_free(&res);
    return bad;
}

static void expect_reject(const struct reject_case *c, const char *settings, const char *stg)
{
    if (check_reject(c, settings, stg))
        TT_FAIL("unexpected answer");
}

TT_TEST(test_rejections)
{
    int bad = 0;

    for (const struct reject_case *c = rejects; c->body; c++)
        bad += check_reject(c, NULL, "scan,securezip,render,deliver");
    if (bad)
        TT_FAIL("%d cases failed", bad);
}

TT_TEST(test_stage_missing)
{
    /* the account has antivirus, the installation runs no scan stage */
    struct reject_case c = {"{" BASE ",'job':{'options':{'antivirus':{'active':true}}}}", 403,
                            "FORBIDDEN_BY_CONFIG",
                            "Unsupported value for job.options.antivirus.active"};
    expect_reject(&c, NULL, "render,deliver");
}

TT_TEST(test_feature_off)
{
    struct reject_case t = {"{'subject':{'template':'x ${a}'}," RCPT "," FROM "}", 403,
                            "FORBIDDEN_BY_CONFIG", "Unsupported value for subject.template"};
    struct reject_case o = {
        "{'subject':{'content':'x'},'recipients':[{'mail':{'to':[{'email':'a@b.com'}]},"
        "'features':{'openTracking':{'active':true}}}]," FROM "}",
        403, "FORBIDDEN_BY_CONFIG",
        "Unsupported value for recipients[0].features.openTracking.active"};
    const char *off = "{\"features\":{\"tracking\":false,\"templates\":false}}";

    struct reject_case sd = {"{" BASE ",'secureDocument':{'active':true}}", 403,
                             "FORBIDDEN_BY_CONFIG", "Unsupported value for secureDocument.active"};
    struct reject_case flag = {"{" BASE ",'attachments':[{'name':'a.pdf','contentType':'a/b',"
                               "'content':'QQ==','secureDocument':true}]}",
                               403, "FORBIDDEN_BY_CONFIG",
                               "Unsupported value for attachments[0].secureDocument"};

    expect_reject(&sd, off, NULL);
    expect_reject(&flag, off, NULL);
    expect_reject(&t, off, NULL);
    expect_reject(&o, off, NULL);
}

static char *repeat(const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *o = xmalloc(ul * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(o + i * ul, unit, ul);
    o[ul * n] = 0;
    return o;
}

static int run_len(const char *fmt_a, const char *fill, const char *fmt_b,
                   struct jobreq_result *res)
{
    char *body = xasprintf("%s%s%s", fmt_a, fill, fmt_b);
    int rc = rest_jobreq_fixture_run(body, NULL, NULL, res);
    xfree(body);
    return rc;
}

TT_TEST(test_limits)
{
    struct jobreq_result res;
    char *s;

    /* subject: 998 characters (code points) fit, 999 do not */
    s = repeat("\xc3\xa4", 998);
    TT_EQ_INT(run_len("{'subject':{'content':'", s, "'}," RCPT "," FROM "}", &res), 0);
    rest_jobreq_result_free(&res);
    xfree(s);
    s = repeat("a", 999);
    TT_EQ_INT(run_len("{'subject':{'content':'", s, "'}," RCPT "," FROM "}", &res), -1);
    TT_EQ_STR(res.description, "Size limit exceeded for subject.content");
    xfree(s);
    /* reference: 50 */
    s = repeat("r", 50);
    TT_EQ_INT(run_len("{'subject':{'content':'x'},'recipients':[{'mail':{'to':[{'email':'a@b.com'}]"
                      "},'reference':'",
                      s, "'}]," FROM "}", &res),
              0);
    rest_jobreq_result_free(&res);
    xfree(s);
    s = repeat("r", 51);
    TT_EQ_INT(run_len("{'subject':{'content':'x'},'recipients':[{'mail':{'to':[{'email':'a@b.com'}]"
                      "},'reference':'",
                      s, "'}]," FROM "}", &res),
              -1);
    TT_EQ_STR(res.description, "Size limit exceeded for recipients[0].reference");
    xfree(s);
    /* a recipient address of 255 characters is refused whatever its syntax */
    s = repeat("x", 255);
    TT_EQ_INT(run_len("{'subject':{'content':'x'},'recipients':[{'mail':{'to':[{'email':'", s,
                      "'}]}}]," FROM "}", &res),
              -1);
    TT_EQ_STR(res.subtype, "LIMIT_EXCEEDED");
    TT_EQ_STR(res.description, "Size limit exceeded for recipients[0].mail.to[0].email");
    xfree(s);
    /* 254 with bad syntax: accepted as PART */
    s = repeat("x", 254);
    TT_EQ_INT(run_len("{'subject':{'content':'x'},'recipients':[{'mail':{'to':[{'email':'", s,
                      "'}]}}]," FROM "}", &res),
              0);
    TT_EQ_INT(res.dropped, 1);
    rest_jobreq_result_free(&res);
    xfree(s);
    /* 100 blocks, 101 blocks; 1000 addresses, 1001 */
    s = repeat("{'mail':{'to':[{'email':'a@b.com'}]}},", 100);
    s[strlen(s) - 1] = 0;
    TT_EQ_INT(run_len("{'subject':{'content':'x'},'recipients':[", s, "]," FROM "}", &res), 0);
    TT_EQ_INT(res.addresses, 100);
    rest_jobreq_result_free(&res);
    xfree(s);
    s = repeat("{'mail':{'to':[{'email':'a@b.com'}]}},", 101);
    s[strlen(s) - 1] = 0;
    TT_EQ_INT(run_len("{'subject':{'content':'x'},'recipients':[", s, "]," FROM "}", &res), -1);
    TT_EQ_STR(res.description, "Count limit exceeded for recipients");
    xfree(s);
    s = repeat("{'email':'a@b.com'},", 1000);
    s[strlen(s) - 1] = 0;
    TT_EQ_INT(run_len("{'subject':{'content':'x'},'recipients':[{'mail':{'to':[", s,
                      "]}}]," FROM "}", &res),
              0);
    TT_EQ_INT(res.addresses, 1000);
    rest_jobreq_result_free(&res);
    xfree(s);
    s = repeat("{'email':'a@b.com'},", 1001);
    s[strlen(s) - 1] = 0;
    TT_EQ_INT(run_len("{'subject':{'content':'x'},'recipients':[{'mail':{'to':[", s,
                      "]}}]," FROM "}", &res),
              -1);
    TT_EQ_STR(res.description, "Count limit exceeded for recipients.mail");
    xfree(s);
    /* 20 attachments, 21 */
    s = repeat("{'name':'a.pdf','contentType':'a/b','content':'QQ=='},", 21);
    s[strlen(s) - 1] = 0;
    TT_EQ_INT(run_len("{" BASE ",'attachments':[", s, "]}", &res), -1);
    TT_EQ_STR(res.description, "Count limit exceeded for attachments");
    s[strlen(s) - strlen(",{'name':'a.pdf','contentType':'a/b','content':'QQ=='}")] = 0;
    TT_EQ_INT(run_len("{" BASE ",'attachments':[", s, "]}", &res), 0);
    rest_jobreq_result_free(&res);
    xfree(s);
    /* xHeaders: 10, 11 */
    s = xstrdup("'x0':'v','x1':'v','x2':'v','x3':'v','x4':'v','x5':'v','x6':'v','x7':'v','x8':'v','"
                "x9':'v'");
    TT_EQ_INT(run_len("{'subject':{'content':'x'}," RCPT
                      ",'mail':{'from':{'email':'s@example.com'},'xHeaders':{",
                      s, "}}}", &res),
              0);
    rest_jobreq_result_free(&res);
    TT_EQ_INT(run_len("{'subject':{'content':'x'}," RCPT
                      ",'mail':{'from':{'email':'s@example.com'},'xHeaders':{",
                      s, ",'x10':'v'}}}", &res),
              -1);
    TT_EQ_STR(res.description, "Count limit exceeded for mail.xHeaders");
    xfree(s);
}

TT_TEST(test_nesting)
{
    struct jobreq_result res;
    char *open = repeat("{'a':", 63), *close = repeat("}", 63);
    char *body = xasprintf("{" BASE ",'x':%s1%s}", open, close); /* 64 levels with the root */

    TT_EQ_INT(rest_jobreq_fixture_run(body, NULL, NULL, &res), 0);
    rest_jobreq_result_free(&res);
    xfree(body);
    body = xasprintf("{" BASE ",'x':%s{'a':1}%s}", open, close);
    TT_EQ_INT(rest_jobreq_fixture_run(body, NULL, NULL, &res), -1);
    TT_EQ_STR(res.subtype, "INVALID_JSON_SYNTAX");
    TT_ASSERT(strncmp(res.description, "Nesting deeper than 64 levels at line 1", 39) == 0);
    xfree(body);
    xfree(open);
    xfree(close);
}

/* list - n copies of unit separated by commas. Ownership: new. */
static char *list(const char *unit, size_t n)
{
    char *u = xasprintf("%s,", unit), *o = repeat(u, n);

    o[strlen(o) - 1] = 0;
    xfree(u);
    return o;
}

/* expect_limit - body (fill between a and b) is refused 400 LIMIT_EXCEEDED with desc */
static void expect_limit(const char *a, const char *fill, const char *b, const char *desc)
{
    struct jobreq_result res;

    TT_EQ_INT(run_len(a, fill, b, &res), -1);
    TT_EQ_INT(res.http, 400);
    TT_EQ_STR(res.subtype, "LIMIT_EXCEEDED");
    TT_EQ_STR(res.description, desc);
}

/* expect_ok - body (fill between a and b) is accepted */
static void expect_ok(const char *a, const char *fill, const char *b)
{
    struct jobreq_result res;

    if (run_len(a, fill, b, &res) < 0)
        TT_FAIL("refused: %d %s %s", res.http, res.subtype, res.description);
    rest_jobreq_result_free(&res);
}

#define PERS_A                                                                                     \
    "{'subject':{'content':'x'},'recipients':[{'mail':{'to':[{'email':'a@b.com'}]}},"              \
    "{'mail':{'to':[{'email':'c@d.com'}]},'features':{'templating':{'personalization':"
#define PERS_B "}}}]," FROM "}"
#define PERS_PATH "recipients[1].features.templating.personalization"

/*
 * the structural limits of the scan (rest_jobreq.h): elements of one
 * array or object, values in the request, the bytes of a block's
 * personalization; each just at the limit is accepted
 */
TT_TEST(test_structure_limits)
{
    char *s, *t;

    /* one array: 10,000 elements, 10,001 (the shape that took 2 GB at 20 MB) */
    s = list("{}", 10000);
    expect_ok("{" BASE ",'a':[", s, "]}");
    xfree(s);
    s = list("{}", 10001);
    expect_limit("{" BASE ",'a':[", s, "]}",
                 "Count limit exceeded for a: more than 10000 elements");
    expect_limit("{'x':{'y':[1,{'a':[", s, "]}]}}",
                 "Count limit exceeded for x.y[1].a: more than 10000 elements");
    xfree(s);
    /* one object: 10,001 members, in a member and at the top */
    {
        struct buf b = BUF_INIT(1 << 20);
        for (int i = 0; i < 10001; i++)
            buf_printf(&b, "%s'k%d':0", i ? "," : "", i);
        s = buf_steal(&b, NULL);
    }
    expect_limit("{" BASE ",'x':{", s, "}}", "Count limit exceeded for x: more than 10000 members");
    expect_limit("{", s, "}", "Count limit exceeded for request: more than 10000 members");
    /* the last member leaves 10,000 */
    *strrchr(s, ',') = 0;
    expect_ok("{" BASE ",'x':{", s, "}}");
    xfree(s);
    /* the whole request: 100,000 values; 11 arrays of 9,990 values pass it in x10 */
    {
        struct buf b = BUF_INIT(1 << 22);
        char *n = list("0", 9989);
        for (int i = 0; i < 11; i++)
            buf_printf(&b, ",'x%d':[%s]", i, n);
        s = buf_steal(&b, NULL);
        xfree(n);
    }
    expect_limit("{" BASE, s, "}",
                 "Count limit exceeded for x10: more than 100000 values in the request");
    /* 10 of them are fine */
    *strstr(s, ",'x10'") = 0;
    expect_ok("{" BASE, s, "}");
    xfree(s);
    /* personalization: the request's values, reported against the personalization */
    {
        struct buf b = BUF_INIT(1 << 22);
        char *n = list("0", 9989);
        for (int i = 0; i < 11; i++)
            buf_printf(&b, "%s'x%d':[%s]", i ? "," : "", i, n);
        s = buf_steal(&b, NULL);
        xfree(n);
    }
    expect_limit(PERS_A "{", s, "}" PERS_B,
                 "Count limit exceeded for " PERS_PATH ": more than 100000 values in the request");
    *strstr(s, ",'x10'") = 0;
    expect_ok(PERS_A "{", s, "}" PERS_B);
    xfree(s);
    /* personalization: 1,048,576 bytes of JSON text, one more */
    s = repeat("x", 1048576 - 8);
    expect_ok(PERS_A "{'s':'", s, "'}" PERS_B);
    xfree(s);
    s = repeat("x", 1048576 - 7);
    expect_limit(PERS_A "{'s':'", s, "'}" PERS_B,
                 "Size limit exceeded for " PERS_PATH ": more than 1048576 bytes");
    xfree(s);
    /* the size counts while reading: a huge value is refused at its end, not the object's */
    s = repeat("x", 2000000);
    expect_limit(PERS_A "{'s':'", s, "','t':[1,2" PERS_B,
                 "Size limit exceeded for " PERS_PATH ": more than 1048576 bytes");
    xfree(s);
    /* personalization nests as deep as the request may (64 levels, 59 of them in it) */
    s = repeat("{'a':", 59);
    t = repeat("}", 59);
    {
        char *deep = xasprintf("%s1%s", s, t);
        expect_ok(PERS_A, deep, PERS_B);
        xfree(deep);
    }
    xfree(s);
    xfree(t);
    /* a template of more than 50,000 elements (template.h): INVALID_FORMAT, before any tree */
    {
        struct jobreq_result res;
        s = repeat("${a}", 25001);
        TT_EQ_INT(
            run_len("{'subject':{'content':'x'},'body':{'contentType':'text/plain','template':'", s,
                    "'}," RCPT "," FROM "}", &res),
            -1);
        TT_EQ_STR(res.subtype, "INVALID_FORMAT");
        TT_EQ_STR(
            res.description,
            "Invalid format for body.template: more than 50000 elements at line 1 column 100005");
        xfree(s);
    }
    /* a "personalization" elsewhere is not one */
    s = list("1", 10000);
    expect_ok("{" BASE ",'features':{'templating':{'personalization':{'v':[", s, "]}}}}");
    xfree(s);
}

/*
 * a large valid request stays within the limits: 100 blocks of 10
 * addresses, each block with a personalization of 900 values, 20
 * attachments, xHeaders at both levels, a notification
 */
TT_TEST(test_structure_large_valid)
{
    struct buf b = BUF_INIT(16 << 20);
    struct jobreq_result res;
    char *v = list("{'n':'item','p':1}", 299); /* 299 objects of 2 members: 897 values */

    buf_puts(&b, "{'subject':{'template':'${name}'},'body':{'contentType':'text/html',"
                 "'template':'<#list items as i>${i.n}</#list>'},'attachments':[");
    for (int i = 0; i < 20; i++)
        buf_printf(&b, "%s{'name':'a%d.pdf','contentType':'application/pdf','content':'QUJD'}",
                   i ? "," : "", i);
    buf_puts(&b, "],'recipients':[");
    for (int i = 0; i < 100; i++) {
        buf_printf(&b, "%s{'mail':{'to':[", i ? "," : "");
        for (int j = 0; j < 10; j++)
            buf_printf(&b, "%s{'email':'r%d-%d@example.org'}", j ? "," : "", i, j);
        buf_printf(
            &b,
            "],'xHeaders':{'x-a':'1','x-b':'2'}},'features':{'templating':{'personalization':"
            "{'name':'n%d','items':[%s]}}}}",
            i, v);
    }
    buf_puts(&b,
             "],'mail':{'from':{'email':'s@example.com'},'xHeaders':{'x-c':'3'}},"
             "'notification':{'endPoint':{'url':'https://h.example.com/n','headers':{'h1':'v'}}}}");
    char *body = buf_steal(&b, NULL);
    if (rest_jobreq_fixture_run(body, NULL, NULL, &res) < 0)
        TT_FAIL("refused: %d %s %s", res.http, res.subtype, res.description);
    TT_EQ_INT(res.addresses, 1000);
    TT_EQ_INT((long long)json_array_size(json_object_get(res.data, "blocks")), 100);
    rest_jobreq_result_free(&res);
    xfree(body);
    xfree(v);
}

TT_TEST(test_options)
{
    struct jobreq_result res;
    const char *all =
        "{\"features\":{\"antivirus\":true,\"secureDocument\":true,\"spamCheck\":true,"
        "\"traceRecover\":true,\"messageSigning\":true}}";

    TT_EQ_INT(rest_jobreq_fixture_run(
                  "{" BASE ",'attachments':[{'name':'a.pdf','contentType':'a/b','content':'QQ==',"
                  "'secureDocument':'true'}],'secureDocument':{'active':true,'filename':'test',"
                  "'password':{'type':'very_high'}},'job':{'options':{'spamCheck':{'active':true,"
                  "'mode':'block-above','threshold':7.5}}}}",
                  all, "scan,securezip,render,spamcheck,deliver", &res),
              0);
    TT_EQ_STR(res.slip, "scan,securezip,render,spamcheck,deliver");
    TT_ASSERT(json_is_true(rest_jobreq_fixture_path(res.data, "options.antivirus.active")));
    TT_EQ_STR(SVAL(res.data, "options.secureDocument.passwordType"), "very_high");
    TT_EQ_STR(SVAL(res.data, "options.secureDocument.filename"), "test");
    TT_ASSERT(json_real_value(rest_jobreq_fixture_path(res.data, "options.spamCheck.threshold")) ==
              7.5);
    rest_jobreq_result_free(&res);
    struct reject_case both = {"{" BASE ",'job':{'options':{'secureDocument':{'active':true},"
                               "'messageSigning':{'active':true}}}}",
                               400, "INVALID_VALUE",
                               "Invalid value for job.options.messageSigning.active"};
    expect_reject(&both, all, "scan,render,smime,deliver");
    struct reject_case relay = {
        "{'subject':{'content':'x'}," RCPT ",'mail':{'from':{'email':'a@relay.test'}},"
        "'job':{'options':{'messageSigning':{'active':true}}}}",
        403, "FORBIDDEN_BY_CONFIG", "Unsupported value for job.options.messageSigning.active"};
    expect_reject(&relay, all, "render,smime,deliver");
    struct reject_case nozip = {
        "{" BASE ",'attachments':[{'name':'a.pdf','contentType':'a/b','content':'QQ==',"
        "'secureDocument':true}],'job':{'options':{'secureDocument':{'active':true}}}}",
        403, "FORBIDDEN_BY_CONFIG", "Unsupported value for job.options.secureDocument.active"};
    expect_reject(&nozip, all, "scan,render,deliver");
}

TT_MAIN(TT_CASE(test_rejections), TT_CASE(test_stage_missing), TT_CASE(test_feature_off),
        TT_CASE(test_limits), TT_CASE(test_nesting), TT_CASE(test_structure_limits),
        TT_CASE(test_structure_large_valid), TT_CASE(test_options))
