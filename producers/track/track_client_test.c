/* track_client_test - client address, truncation, scanner lists (track_client.c). */
#include "producers/track/track.h"
#include "tests/harness/tnet.h"
#include "tests/harness/ttest.h"
#include "util/mymalloc.h"


/* stubs for what track.h declares and track_client.c does not use */
struct track_conf track_conf;
struct track_keys *track_keys;

static const char *truncated(const char *s)
{
    static char out[INET6_ADDRSTRLEN];
    struct sockaddr_storage ss = tnet_addr(s);

    return track_client_ip_truncated((struct sockaddr *)&ss, out, sizeof(out));
}

TT_TEST(truncation)
{
    TT_EQ_STR(truncated("198.51.100.77"), "198.51.100.0");
    TT_EQ_STR(truncated("10.0.0.255"), "10.0.0.0");
    TT_EQ_STR(truncated("2001:db8:85a3:8d3:1319:8a2e:370:7348"), "2001:db8:85a3::");
    TT_EQ_STR(truncated("2001:db8:1::1"), "2001:db8:1::");
    TT_EQ_STR(truncated("::ffff:203.0.113.9"), "203.0.113.0");
    TT_EQ_STR(truncated("::1"), "::");
    char out[64];
    TT_EQ_STR(track_client_ip_truncated(NULL, out, sizeof(out)), "");
}

TT_TEST(lists)
{
    struct track_list l;
    char err[128];
    struct sockaddr_storage a;

    TT_EQ_INT(track_client_list_parse(&l,
                                      " curl/ , Barracuda,10.1.0.0/16, 2001:db8::/32,192.0.2.7 ,, ",
                                      0, err, sizeof(err)),
              0);
    TT_EQ_INT(l.nagents, 2);
    TT_EQ_INT(l.nets.n, 3);
    TT_EQ_INT(track_client_agent_in(&l, "CURL/8.0.1"), 1);
    TT_EQ_INT(track_client_agent_in(&l, "Mozilla/5.0 (compatible; barracuda sentinel)"), 1);
    TT_EQ_INT(track_client_agent_in(&l, "Mozilla/5.0 Firefox/121"), 0);
    TT_EQ_INT(track_client_agent_in(&l, NULL), 0);
    a = tnet_addr("10.1.200.3");
    TT_EQ_INT(track_client_addr_in(&l, (struct sockaddr *)&a), 1);
    a = tnet_addr("10.2.0.1");
    TT_EQ_INT(track_client_addr_in(&l, (struct sockaddr *)&a), 0);
    a = tnet_addr("::ffff:10.1.0.9");
    TT_EQ_INT(track_client_addr_in(&l, (struct sockaddr *)&a), 1);
    a = tnet_addr("2001:db8:ffff::1");
    TT_EQ_INT(track_client_addr_in(&l, (struct sockaddr *)&a), 1);
    a = tnet_addr("2001:db9::1");
    TT_EQ_INT(track_client_addr_in(&l, (struct sockaddr *)&a), 0);
    a = tnet_addr("192.0.2.7");
    TT_EQ_INT(track_client_addr_in(&l, (struct sockaddr *)&a), 1);
    a = tnet_addr("192.0.2.8");
    TT_EQ_INT(track_client_addr_in(&l, (struct sockaddr *)&a), 0);
    track_client_list_free(&l);
    /* odd prefix lengths */
    TT_EQ_INT(track_client_list_parse(&l, "172.16.0.0/12", 1, err, sizeof(err)), 0);
    a = tnet_addr("172.31.255.255");
    TT_EQ_INT(track_client_addr_in(&l, (struct sockaddr *)&a), 1);
    a = tnet_addr("172.32.0.0");
    TT_EQ_INT(track_client_addr_in(&l, (struct sockaddr *)&a), 0);
    track_client_list_free(&l);
    /* networks only: a word is an error */
    TT_EQ_INT(track_client_list_parse(&l, "10.0.0.0/8, proxy", 1, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "proxy") != NULL);
    TT_EQ_INT(track_client_list_parse(&l, "10.0.0.0/33", 0, err, sizeof(err)), -1);
    TT_EQ_INT(track_client_list_parse(&l, "", 0, err, sizeof(err)), 0);
    TT_EQ_INT(l.nagents + l.nets.n, 0);
    track_client_list_free(&l);
}

static const char *client(const char *peer, const char *xff, struct track_list *trusted)
{
    static char out[INET6_ADDRSTRLEN];
    struct sockaddr_storage p = tnet_addr(peer), c;
    char tmp[INET6_ADDRSTRLEN];

    track_client_addr((struct sockaddr *)&p, xff, trusted, &c);
    if (c.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&c)->sin_addr, tmp, sizeof(tmp));
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&c)->sin6_addr, tmp, sizeof(tmp));
    snprintf(out, sizeof(out), "%s", tmp);
    return out;
}

TT_TEST(forwarded_for)
{
    struct track_list t;
    char err[128];

    TT_EQ_INT(track_client_list_parse(&t, "10.0.0.0/8", 1, err, sizeof(err)), 0);
    /* a trusted proxy: the right-most address it did not add itself */
    TT_EQ_STR(client("10.0.0.1", "198.51.100.9", &t), "198.51.100.9");
    TT_EQ_STR(client("10.0.0.1", "203.0.113.5, 198.51.100.9, 10.0.0.7", &t), "198.51.100.9");
    TT_EQ_STR(client("10.0.0.1", " 2001:db8::5 ", &t), "2001:db8::5");
    /* an untrusted peer: its header is ignored */
    TT_EQ_STR(client("192.0.2.1", "198.51.100.9", &t), "192.0.2.1");
    /* garbage stops the walk at what is known */
    TT_EQ_STR(client("10.0.0.1", "not-an-ip", &t), "10.0.0.1");
    TT_EQ_STR(client("10.0.0.1", "198.51.100.9, junk", &t), "10.0.0.1");
    TT_EQ_STR(client("10.0.0.1", "", &t), "10.0.0.1");
    TT_EQ_STR(client("10.0.0.1", NULL, &t), "10.0.0.1");
    track_client_list_free(&t);
    TT_EQ_STR(client("10.0.0.1", "198.51.100.9", &t), "10.0.0.1"); /* no trusted proxies */
}

TT_TEST(clean_text)
{
    char *s;

    s = track_client_clean_text("Mozilla/5.0 \xc3\xa9t\xc3\xa9", 512);
    TT_EQ_STR(s, "Mozilla/5.0 \xc3\xa9t\xc3\xa9");
    xfree(s);
    s = track_client_clean_text("a\x01\xff\xc3(b\r\n", 512);
    TT_EQ_STR(s, "a??"
                 "?(b??");
    xfree(s);
    s = track_client_clean_text("abc\xc3\xa9", 4);
    TT_EQ_STR(s, "abc");
    xfree(s);
    s = track_client_clean_text(NULL, 10);
    TT_EQ_STR(s, "");
    xfree(s);
}

TT_MAIN(TT_CASE(truncation), TT_CASE(lists), TT_CASE(forwarded_for), TT_CASE(clean_text))
