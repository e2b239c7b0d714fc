/*
 * bounce_rewrite_test - inbound address rewriting of forwarded replies,
 * the forward ids, the messages txmail writes and the bounce description
 */
#include "tests/harness/ttest.h"
#include "workers/bounce/bounce.h"
#include "util/mymalloc.h"

#include <gmime/gmime.h>

struct bounce_conf bounce_conf = {.forward_sender = "postmaster"};

static const char *const ours[] = {"b1verpaddress@bounce.example.com",
                                   "news-bounce@rewrite.example.com", NULL};

/* rewrite - run the rewriting on msg; Ownership: new */
static char *rewrite(const char *msg, const char *orig, size_t *len)
{
    g_mime_init();
    return bounce_rewrite_reply(msg, strlen(msg), ours, orig, "job#00000000#00000000", len);
}

TT_TEST(to_replaced_body_intact)
{
    const char *msg = "From: Ann <ann@example.org>\r\n"
                      "To: B1VERPADDRESS@bounce.example.com\r\n"
                      "Subject: Re: your order\r\n"
                      "\r\n"
                      "To: b1verpaddress@bounce.example.com stays in the body\r\n";
    size_t len;
    char *out = rewrite(msg, "Shop <shop@example.com>", &len);

    TT_EQ_STR(out, "X-Txmail-Forwarded-For: job#00000000#00000000\r\n"
                   "From: Ann <ann@example.org>\r\n"
                   "To: Shop <shop@example.com>\r\n"
                   "Subject: Re: your order\r\n"
                   "\r\n"
                   "To: b1verpaddress@bounce.example.com stays in the body\r\n");
    TT_EQ_INT(len, strlen(out));
    xfree(out);
}

TT_TEST(cc_folded_and_others_kept)
{
    const char *msg = "From: ann@example.org\r\n"
                      "Reply-To: b1verpaddress@bounce.example.com\r\n"
                      "To: other@example.net\r\n"
                      "Cc: Carl <carl@example.net>,\r\n"
                      "  News <news-bounce@rewrite.example.com>\r\n"
                      "\r\n"
                      "body\r\n";
    size_t len;
    char *out = rewrite(msg, "news@example.com", &len);

    TT_ASSERT(strstr(out, "Reply-To: b1verpaddress@bounce.example.com\r\n") != NULL);
    TT_ASSERT(strstr(out, "To: other@example.net\r\n") != NULL);
    TT_ASSERT(strstr(out, "Cc: Carl <carl@example.net>, news@example.com\r\n") != NULL);
    TT_ASSERT(strstr(out, "news-bounce") == NULL);
    TT_ASSERT(strstr(out, "\r\n\r\nbody\r\n") != NULL);
    xfree(out);
}

TT_TEST(groups_lf_and_no_original)
{
    const char *msg = "To: team: b1verpaddress@bounce.example.com, x@example.net;\n"
                      "Subject: s\n\nbody\n";
    size_t len;
    char *out = rewrite(msg, "shop@example.com", &len);

    TT_ASSERT(strstr(out, "team: shop@example.com, x@example.net;") != NULL);
    TT_ASSERT(strstr(out, "Subject: s\n\nbody\n") != NULL);
    xfree(out);
    /* without an original sender nothing but the trace header changes */
    out = rewrite(msg, "", &len);
    TT_EQ_STR(out + strlen("X-Txmail-Forwarded-For: job#00000000#00000000\r\n"), msg);
    xfree(out);
}

TT_TEST(header_only_and_garbage)
{
    size_t len;
    char *out = rewrite("To: b1verpaddress@bounce.example.com", "a@example.com", &len);

    TT_ASSERT(strstr(out, "To: a@example.com\r\n") != NULL);
    xfree(out);
    out = rewrite("\x01\xff:::\r\n\r\n", "a@example.com", &len);
    TT_ASSERT(strstr(out, "\x01\xff:::\r\n\r\n") != NULL);
    xfree(out);
}

TT_TEST(has_field)
{
    const char *m = "From: a@example.org\r\nx-txmail-forwarded-for: r\r\n\r\n"
                    "X-Txmail-Forwarded-For: in the body\r\n";

    TT_EQ_INT(bounce_rewrite_has_field(m, strlen(m), "X-Txmail-Forwarded-For"), 1);
    TT_EQ_INT(bounce_rewrite_has_field(m + 22, strlen(m + 22) - 0, "From"), 0);
    TT_EQ_INT(bounce_rewrite_has_field(m, strlen(m), "To"), 0);
}

TT_TEST(forward_ids)
{
    char a[40], b[40], c[40];

    bounce_fwd_id(a, sizeof(a), "8e6c0f8e-0000-4000-8000-000000000001", "reply", "x@example.com");
    bounce_fwd_id(b, sizeof(b), "8e6c0f8e-0000-4000-8000-000000000001", "reply", "x@example.com");
    bounce_fwd_id(c, sizeof(c), "8e6c0f8e-0000-4000-8000-000000000001", "notice", "x@example.com");
    TT_EQ_INT(strlen(a), 34);
    TT_ASSERT(strncmp(a, "fw", 2) == 0);
    TT_ASSERT(strspn(a + 2, "0123456789abcdef") == 32);
    TT_EQ_STR(a, b);
    TT_ASSERT(strcmp(a, c) != 0);
}

TT_TEST(describe_and_clean)
{
    struct bounce_rec r;
    char d[400];

    memset(&r, 0, sizeof(r));
    snprintf(r.status, sizeof(r.status), "5.1.1");
    snprintf(r.rhost, sizeof(r.rhost), "mx.example.org (192.0.2.1, the server)");
    snprintf(r.diagnostic, sizeof(r.diagnostic), "550 5.1.1 user unknown");
    TT_EQ_STR(bounce_act_describe(d, sizeof(d), &r),
              "[5.1.1] bounced (host mx.example.org said: 550 5.1.1 user unknown)");
    r.rhost[0] = 0;
    TT_EQ_STR(bounce_act_describe(d, sizeof(d), &r), "[5.1.1] bounced (550 5.1.1 user unknown)");
    r.status[0] = r.diagnostic[0] = 0;
    r.hard = 1;
    snprintf(r.reason, sizeof(r.reason), "userunknown");
    TT_EQ_STR(bounce_act_describe(d, sizeof(d), &r), "[5.0.0] bounced (userunknown)");
    char s[] = "ok \xc3\xa9 \xff\x01x\xe2\x82";
    bounce_act_clean(s);
    TT_EQ_STR(s, "ok \xc3\xa9 ? x??");
}

/* inbound - a made-up inbound message */
static void inbound(struct inbound *in, const char *raw)
{
    memset(in, 0, sizeof(*in));
    in->id = "8e6c0f8e-0000-4000-8000-000000000001";
    in->raw = raw;
    in->raw_len = strlen(raw);
    in->account = 7;
    in->received_ms = 1747212950817LL;
    in->nrcpt = 1;
    snprintf(in->rcpt[0].address, sizeof(in->rcpt[0].address), "postmaster@bounce.example.com");
    snprintf(in->domain, sizeof(in->domain), "bounce.example.com");
    snprintf(in->peer, sizeof(in->peer), "192.0.2.1");
}

TT_TEST(complaint_cover)
{
    struct inbound in;
    struct target t;
    struct bounce_report r;
    struct bounce_rec rec;
    size_t len;
    const char *report = "From: fbl@isp.example\r\nSubject: report\r\n\r\nARF \xc3\xa9\r\n";

    g_mime_init();
    inbound(&in, report);
    memset(&t, 0, sizeof(t));
    memset(&r, 0, sizeof(r));
    memset(&rec, 0, sizeof(rec));
    snprintf(t.rid, sizeof(t.rid), "job#00000000#00000000");
    snprintf(t.email, sizeof(t.email), "to@example.org");
    snprintf(rec.feedbacktype, sizeof(rec.feedbacktype), "abuse");
    r.recs = &rec;
    r.nrecs = 1;
    char *m = bounce_fwd_complaint(&in, &t, &r, "owner@example.com", &len);
    TT_ASSERT(strstr(m, "From: txmail <postmaster@bounce.example.com>\r\n") != NULL);
    TT_ASSERT(strstr(m, "To: <owner@example.com>\r\n") != NULL);
    TT_ASSERT(strstr(m, "Subject: Complaint (abuse) about message job#00000000#00000000\r\n"));
    TT_ASSERT(strstr(m, "Auto-Submitted: auto-generated\r\n") != NULL);
    TT_ASSERT(strstr(m, "Date: Wed, 14 May 2025 08:55:50 +0000\r\n") != NULL);
    TT_ASSERT(strstr(m, "Content-Type: message/rfc822\r\n") != NULL);
    TT_ASSERT(strstr(m, "Content-Transfer-Encoding: 8bit\r\n\r\nFrom: fbl@isp.example\r\n") !=
              NULL);
    TT_ASSERT(strstr(m, "--=_txmail_8e6c0f8e-0000-4000-8000-00000000--\r\n") != NULL);
    TT_EQ_INT(len, strlen(m));
    xfree(m);
    m = bounce_fwd_notice(&in, NULL, "Eicar-Signature", "ann@example.org", "admin@example.com",
                          &len);
    TT_ASSERT(strstr(m, "Subject: Infected reply deleted (Eicar-Signature)\r\n") != NULL);
    TT_ASSERT(strstr(m, "ann@example.org") != NULL);
    xfree(m);
}

TT_MAIN(TT_CASE(to_replaced_body_intact), TT_CASE(cc_folded_and_others_kept),
        TT_CASE(groups_lf_and_no_original), TT_CASE(header_only_and_garbage), TT_CASE(has_field),
        TT_CASE(forward_ids), TT_CASE(describe_and_clean), TT_CASE(complaint_cover))
