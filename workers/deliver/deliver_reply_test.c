/* deliver_reply_test - reply parsing, classification, descriptions, suppression classes, host specs */
#include "tests/harness/ttest.h"
#include "workers/deliver/deliver.h"

struct deliver_conf deliver_conf = {.smtp_port = 25};

static int feed_all(struct smtp_reply *r, const char *const *lines)
{
    int k = 0;

    deliver_reply_init(r);
    for (int i = 0; lines[i]; i++)
        k = deliver_reply_feed(r, lines[i], strlen(lines[i]));
    return k;
}

TT_TEST(reply_single_line)
{
    struct smtp_reply r;
    const char *l[] = {"250 2.0.0 Ok: queued as ABC", NULL};

    TT_EQ_INT(feed_all(&r, l), 1);
    TT_EQ_INT(r.code, 250);
    TT_EQ_STR(r.enh, "2.0.0");
    TT_EQ_STR(r.text, "250 2.0.0 Ok: queued as ABC");
}

TT_TEST(reply_multi_line)
{
    struct smtp_reply r;
    const char *l[] = {"550-5.1.1 The email account that you tried to reach does not exist.",
                       "550-5.1.1 Please try double-checking", "550 5.1.1 the address. - gsmtp",
                       NULL};
    char dsn[DSN_MAX];

    deliver_reply_init(&r);
    TT_EQ_INT(deliver_reply_feed(&r, l[0], strlen(l[0])), 0);
    TT_EQ_INT(deliver_reply_feed(&r, l[1], strlen(l[1])), 0);
    TT_EQ_INT(deliver_reply_feed(&r, l[2], strlen(l[2])), 1);
    TT_EQ_INT(r.code, 550);
    TT_EQ_STR(r.enh, "5.1.1");
    TT_EQ_STR(r.text, "550-5.1.1 The email account that you tried to reach does not exist. "
                      "550-5.1.1 Please try double-checking 550 5.1.1 the address. - gsmtp");
    TT_EQ_INT(deliver_reply_status(r.code), DLV_BOUNCE);
    TT_EQ_STR(deliver_reply_dsn(dsn, &r, 0), "5.1.1");
}

TT_TEST(reply_ehlo_capabilities)
{
    struct smtp_reply r;
    const char *l[] = {"250-mx.example.com", "250-PIPELINING", "250-SIZE 1000", "250 STARTTLS",
                       NULL};

    TT_EQ_INT(feed_all(&r, l), 1);
    TT_EQ_INT(r.code, 250);
    TT_EQ_STR(r.enh, "");
    TT_EQ_INT(r.lines, 4);
}

TT_TEST(reply_code_only_and_no_enhanced)
{
    struct smtp_reply r;
    char dsn[DSN_MAX];
    const char *a[] = {"354", NULL}, *b[] = {"451 Try again later", NULL},
               *c[] = {"550 4.1.1 class mismatch", NULL}, *d[] = {"250 2.0", NULL};

    TT_EQ_INT(feed_all(&r, a), 1);
    TT_EQ_INT(r.code, 354);
    TT_EQ_INT(feed_all(&r, b), 1);
    TT_EQ_STR(deliver_reply_dsn(dsn, &r, 0), "4.0.0");
    TT_EQ_INT(deliver_reply_status(r.code), DLV_DEFER);
    TT_EQ_INT(feed_all(&r, c), 1);
    TT_EQ_STR(deliver_reply_dsn(dsn, &r, 0), "5.0.0"); /* class must match */
    TT_EQ_INT(feed_all(&r, d), 1);
    TT_EQ_STR(r.enh, "");
    /* a 5xx greeting treated as temporary keeps its detail */
    const char *g[] = {"554 5.3.2 go away", NULL};
    feed_all(&r, g);
    TT_EQ_STR(deliver_reply_dsn(dsn, &r, 4), "4.3.2");
}

TT_TEST(reply_hostile_lines)
{
    struct smtp_reply r;
    char big[5000];
    const char *bad[] = {"hello", "25", "2500 x", "650 x", "099 x", "25a x", NULL};

    for (int i = 0; bad[i]; i++) {
        deliver_reply_init(&r);
        TT_EQ_INT(deliver_reply_feed(&r, bad[i], strlen(bad[i])), -1);
    }
    /* control characters and invalid UTF-8 are made printable */
    deliver_reply_init(&r);
    const char ctl[] = "550 5.1.1 bad\x01\x1b[31m \xff\xfe text";
    TT_EQ_INT(deliver_reply_feed(&r, ctl, sizeof(ctl) - 1), 1);
    for (const char *p = r.text; *p; p++)
        TT_ASSERT((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
    /* long replies are bounded */
    memset(big, 'x', sizeof(big));
    memcpy(big, "250-", 4);
    deliver_reply_init(&r);
    for (int i = 0; i < 50; i++)
        TT_EQ_INT(deliver_reply_feed(&r, big, sizeof(big)), 0);
    TT_EQ_INT(deliver_reply_feed(&r, "250 end", 7), 1);
    TT_ASSERT(strlen(r.text) < REPLY_TEXT_MAX);
    /* enhanced code with too many digits is not one */
    const char e[] = "550 5.1234.1 x";
    deliver_reply_init(&r);
    deliver_reply_feed(&r, e, sizeof(e) - 1);
    TT_EQ_STR(r.enh, "");
}

TT_TEST(describe_formats)
{
    char out[512];

    TT_EQ_STR(
        deliver_reply_describe(out, sizeof(out), "2.0.0", "delivered", "mx.example.com[192.0.2.10]",
                               "250 2.0.0 Ok: queued as 4Xk2"),
        "[2.0.0] delivered (host mx.example.com[192.0.2.10] said: 250 2.0.0 Ok: queued as 4Xk2)");
    TT_EQ_STR(deliver_reply_describe(out, sizeof(out), "4.4.1", "deferred", "",
                                     "connect to x[1.2.3.4]:25: Connection refused"),
              "[4.4.1] deferred (connect to x[1.2.3.4]:25: Connection refused)");
    TT_EQ_STR(deliver_reply_describe(out, sizeof(out), "5.1.10", "bounced", NULL,
                                     "Domain x does not accept mail (nullMX)"),
              "[5.1.10] bounced (Domain x does not accept mail (nullMX))");
}

TT_TEST(host_specs)
{
    char host[256];
    int port;

    TT_EQ_INT(deliver_route_parse_host("127.0.0.1:2525", host, sizeof(host), &port), 0);
    TT_EQ_STR(host, "127.0.0.1");
    TT_EQ_INT(port, 2525);
    TT_EQ_INT(deliver_route_parse_host("relay.example.com", host, sizeof(host), &port), 0);
    TT_EQ_STR(host, "relay.example.com");
    TT_EQ_INT(port, 25);
    TT_EQ_INT(deliver_route_parse_host("[relay.example.com]:587", host, sizeof(host), &port), 0);
    TT_EQ_STR(host, "relay.example.com");
    TT_EQ_INT(port, 587);
    TT_EQ_INT(deliver_route_parse_host("[2001:db8::1]:26", host, sizeof(host), &port), 0);
    TT_EQ_STR(host, "2001:db8::1");
    TT_EQ_INT(port, 26);
    TT_EQ_INT(deliver_route_parse_host("2001:db8::1", host, sizeof(host), &port), 0);
    TT_EQ_INT(port, 25);
    TT_EQ_INT(deliver_route_parse_host("host:0", host, sizeof(host), &port), -1);
    TT_EQ_INT(deliver_route_parse_host("host:99999", host, sizeof(host), &port), -1);
    TT_EQ_INT(deliver_route_parse_host("host:25x", host, sizeof(host), &port), -1);
    TT_EQ_INT(deliver_route_parse_host("bad host", host, sizeof(host), &port), -1);
    TT_EQ_INT(deliver_route_parse_host("[unclosed:25", host, sizeof(host), &port), -1);
    TT_EQ_INT(deliver_route_parse_host("", host, sizeof(host), &port), -1);
    TT_EQ_INT(deliver_route_parse_host("a\r\nRCPT", host, sizeof(host), &port), -1);
}

TT_MAIN(TT_CASE(reply_single_line), TT_CASE(reply_multi_line), TT_CASE(reply_ehlo_capabilities),
        TT_CASE(reply_code_only_and_no_enhanced), TT_CASE(reply_hostile_lines),
        TT_CASE(describe_formats), TT_CASE(host_specs))
