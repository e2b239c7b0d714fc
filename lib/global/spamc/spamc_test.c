/*
 * spamc_test - spamd's answer parsed (real answers of spamd 4.0.1 to
 * REPORT, and broken ones), and the client against a closed port, a
 * peer that never answers and a peer that answers garbage (a local
 * listener in a thread: the one module's mock).
 */
#include "global/spamc/spamc.h"
#include "tests/harness/ttest.h"
#include "util/timeutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HAM                                                                                        \
    "SPAMD/1.1 0 EX_OK\r\nContent-length: 914\r\nSpam: False ; 1.1 / 5.0\r\n\r\n"                  \
    "Spam detection software, running on the system \"vm\",\nhas NOT identified this incoming "    \
    "email as spam.  The original\nmessage has been attached to this so you can view it or "       \
    "label\nsimilar future email.  If you have any questions, see\n@@CONTACT_ADDRESS@@ for "       \
    "details.\n\nContent preview:  Thank you for your order. It ships tomorrow. Click here "       \
    "for\n   a very long tracking description that goes on. \n\nContent analysis details:   "      \
    "(1.1 points, 5.0 required)\n\n pts rule name              description\n---- "                 \
    "---------------------- --------------------------------------------------\n-0.0 "             \
    "NO_RECEIVED            Informational: message has no Received headers\n-0.0 NO_RELAYS   "     \
    "           Informational: message was not relayed via SMTP\n 0.0 HTML_MESSAGE           "     \
    "BODY: HTML included in message\n 0.1 MIME_HTML_ONLY         BODY: Message only has "          \
    "text/html MIME parts\n 1.0 TO_NO_BRKTS_HTML_ONLY  To: lacks brackets and HTML only\n\n"

#define GTUBE_HEAD "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n"
#define TABLE_HEAD                                                                                 \
    " pts rule name              description\n---- ---------------------- -------------------\n"

static int parse(const char *s, struct spamc_result *r, char *err, size_t errsz)
{
    return spamc_reply_parse(s, strlen(s), r, err, errsz);
}

TT_TEST(real_answer)
{
    struct spamc_result r;
    char err[200] = "";

    TT_EQ_INT(parse(HAM, &r, err, sizeof(err)), 0);
    TT_EQ_INT(r.is_spam, 0);
    TT_ASSERT(r.score > 1.09 && r.score < 1.11);
    TT_ASSERT(r.required > 4.99 && r.required < 5.01);
    TT_EQ_INT(r.nrules, 5);
    TT_EQ_STR(r.rules[0].name, "NO_RECEIVED");
    TT_EQ_STR(r.rules[0].description, "Informational: message has no Received headers");
    TT_EQ_STR(r.rules[4].name, "TO_NO_BRKTS_HTML_ONLY");
    TT_ASSERT(r.rules[4].score > 0.99 && r.rules[4].score < 1.01);
    TT_ASSERT(r.rules[3].score > 0.09 && r.rules[3].score < 0.11);
    TT_EQ_INT(r.lines_skipped, 0);
}

TT_TEST(gtube_continuations_and_bad_lines)
{
    struct spamc_result r;
    char err[200] = "";
    const char *s =
        GTUBE_HEAD "text\n" TABLE_HEAD "1000 GTUBE                  BODY: Generic Test\n"
                   "                            for Unsolicited\n"
                   " 0.0 bad-name               x\n"
                   "junk\n"
                   " 2.5 URIBL_X\n"
                   "\n"
                   " 9.9 AFTER_TABLE            not a rule\n";

    TT_EQ_INT(parse(s, &r, err, sizeof(err)), 0);
    TT_EQ_INT(r.is_spam, 1);
    TT_ASSERT(r.score > 999.9 && r.score < 1000.1);
    TT_EQ_INT(r.nrules, 2);
    TT_EQ_STR(r.rules[0].name, "GTUBE");
    TT_EQ_STR(r.rules[0].description, "BODY: Generic Test for Unsolicited");
    TT_EQ_STR(r.rules[1].name, "URIBL_X");
    TT_EQ_STR(r.rules[1].description, "");
    TT_EQ_INT(r.lines_skipped, 2);
}

TT_TEST(no_table_no_rules)
{
    struct spamc_result r;
    char err[200] = "";

    TT_EQ_INT(parse("SPAMD/1.1 0 EX_OK\nSpam: no; -3.5/ 5\n\n", &r, err, sizeof(err)), 0);
    TT_ASSERT(r.score < -3.49 && r.score > -3.51);
    TT_EQ_INT(r.nrules, 0);
}

TT_TEST(rules_are_bounded)
{
    static char s[SPAMC_RULES_MAX * 40 + 400];
    struct spamc_result r;
    char err[200] = "";
    size_t n = (size_t)snprintf(s, sizeof(s), "%s%s", GTUBE_HEAD, TABLE_HEAD);

    for (int i = 0; i < SPAMC_RULES_MAX + 10; i++)
        n += (size_t)snprintf(s + n, sizeof(s) - n, " 0.1 R%d d\n", i);
    TT_EQ_INT(parse(s, &r, err, sizeof(err)), 0);
    TT_EQ_INT(r.nrules, SPAMC_RULES_MAX);
    TT_EQ_INT(r.rules_dropped, 10);
}

TT_TEST(description_is_printable_and_cut)
{
    char s[2000];
    struct spamc_result r;
    char err[200] = "";
    size_t n = (size_t)snprintf(s, sizeof(s), "%s%s 1.0 X \xc3\xa9\x01", GTUBE_HEAD, TABLE_HEAD);

    memset(s + n, 'a', 600);
    s[n + 600] = 0;
    TT_EQ_INT(parse(s, &r, err, sizeof(err)), 0);
    TT_EQ_INT(r.nrules, 1);
    TT_EQ_INT(strlen(r.rules[0].description), SPAMC_DESC_MAX - 1);
    TT_ASSERT(memcmp(r.rules[0].description, "???aaa", 6) == 0);
}

TT_TEST(broken_answers)
{
    static const char *const bad[] = {
        "",
        "SPAMD/1.1 76 Bad header line: x\r\n",
        "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1.0 / 5.0\r\n", /* no end of headers */
        "SPAMD/1.1 0 EX_OK\r\n\r\n",                       /* no Spam header */
        "SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 1.0 / 5.0\r\n\r\n",
        "SPAMD/1.1 0 EX_OK\r\nSpam: True ; nan / 5.0\r\n\r\n",
        "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1e9 / 5.0\r\n\r\n",
        "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 99999999 / 5.0\r\n\r\n",
        "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1.0 / 5.0 x\r\n\r\n",
        "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1.0 / 5.0\r\nSpam: False ; 1.0 / 5.0\r\n\r\n",
        "SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\nSpam: True ; 1.0 / 5.0\r\n\r\nabc",
        "SPAMD/1.1 0 EX_OK\r\nContent-length: x\r\nSpam: True ; 1.0 / 5.0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nSpam: True ; 1.0 / 5.0\r\n\r\n",
        "SPAMD/x.1 0 EX_OK\r\nSpam: True ; 1.0 / 5.0\r\n\r\n",
        NULL,
    };
    struct spamc_result r;
    char err[200];

    for (int i = 0; bad[i]; i++) {
        err[0] = 0;
        if (parse(bad[i], &r, err, sizeof(err)) != -1 || err[0] == 0)
            TT_FAIL("answer %d was accepted: %s", i, bad[i]);
    }
    TT_EQ_INT(spamc_reply_parse(NULL, 0, &r, err, sizeof(err)), -1);
}

TT_TEST(too_many_headers)
{
    char s[4000];
    struct spamc_result r;
    char err[200];
    size_t n = (size_t)snprintf(s, sizeof(s), "SPAMD/1.1 0 EX_OK\r\n");

    for (int i = 0; i <= SPAMC_HEADERS_MAX; i++)
        n += (size_t)snprintf(s + n, sizeof(s) - n, "X-%d: y\r\n", i);
    snprintf(s + n, sizeof(s) - n, "Spam: True ; 1.0 / 5.0\r\n\r\n");
    TT_EQ_INT(parse(s, &r, err, sizeof(err)), -1);
}

/* ---- the client against local peers ---------------------------------- */

struct peer {
    int lfd;
    int port;
    const char *answer; /* NULL: read, never answer */
};

static void *serve(void *arg)
{
    struct peer *p = arg;
    int fd = accept(p->lfd, NULL, NULL);
    char buf[4096];

    if (fd < 0)
        return NULL;
    if (p->answer) {
        while (recv(fd, buf, sizeof(buf), 0) > 0)
            ;
        if (send(fd, p->answer, strlen(p->answer), MSG_NOSIGNAL) < 0)
            TT_FAIL("send");
    } else {
        usleep(1000000);
    }
    close(fd);
    return NULL;
}

static void listen_on(struct peer *p)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    TT_ASSERT(p->lfd >= 0);
    TT_EQ_INT(bind(p->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    TT_EQ_INT(listen(p->lfd, 4), 0);
    TT_EQ_INT(getsockname(p->lfd, (struct sockaddr *)&a, &al), 0);
    p->port = ntohs(a.sin_port);
}

static int run_peer(struct peer *p, const char *extra_first, struct spamc_result *r, char *used,
                    char *err, int timeout_ms)
{
    pthread_t t;
    char addrs[200];
    int rc;

    listen_on(p);
    snprintf(addrs, sizeof(addrs), "%s127.0.0.1:%d", extra_first, p->port);
    TT_EQ_INT(pthread_create(&t, NULL, serve, p), 0);
    rc = spamc_check(addrs, 500, timeout_ms, "Subject: x\r\n\r\nhi\r\n", 19, r, used, 64, err, 200);
    pthread_join(t, NULL);
    close(p->lfd);
    return rc;
}

TT_TEST(client_answers_and_failover)
{
    struct peer p = {.answer = HAM};
    struct spamc_result r;
    char used[64] = "", err[200] = "", closed[64];
    struct peer c = {0};

    /* a closed port first: the second spamd answers */
    listen_on(&c);
    close(c.lfd);
    snprintf(closed, sizeof(closed), "127.0.0.1:%d, ", c.port);
    TT_EQ_INT(run_peer(&p, closed, &r, used, err, 3000), 0);
    TT_EQ_INT(r.nrules, 5);
    TT_ASSERT(strstr(used, "127.0.0.1:") != NULL);
}

TT_TEST(client_failures)
{
    struct spamc_result r;
    char used[64] = "", err[200] = "";
    struct peer silent = {.answer = NULL}, junk = {.answer = "220 smtp.example.com ESMTP\r\n"};
    struct peer c = {0};
    char addr[64];
    int64_t t0;

    listen_on(&c);
    close(c.lfd);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", c.port);
    TT_EQ_INT(spamc_check(addr, 500, 1000, "x\r\n", 3, &r, used, sizeof(used), err, sizeof(err)),
              -1);
    TT_ASSERT(strstr(err, "refused") != NULL);

    t0 = timeutil_now_ms();
    TT_EQ_INT(run_peer(&silent, "", &r, used, err, 300), -1);
    TT_ASSERT(strstr(err, "timed out") != NULL);
    TT_ASSERT(timeutil_now_ms() - t0 < 2500);

    TT_EQ_INT(run_peer(&junk, "", &r, used, err, 3000), -1);
    TT_ASSERT(strstr(err, "not a spamd status line") != NULL);

    TT_EQ_INT(spamc_check("nocolon", 500, 500, "x", 1, &r, NULL, 0, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "bad spamd address") != NULL);
    TT_EQ_INT(spamc_check("", 500, 500, "x", 1, &r, NULL, 0, err, sizeof(err)), -1);
}

TT_MAIN(TT_CASE(real_answer), TT_CASE(gtube_continuations_and_bad_lines),
        TT_CASE(no_table_no_rules), TT_CASE(rules_are_bounded),
        TT_CASE(description_is_printable_and_cut), TT_CASE(broken_answers),
        TT_CASE(too_many_headers), TT_CASE(client_answers_and_failover), TT_CASE(client_failures))
