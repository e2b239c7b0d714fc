/* netaddr_test - addresses from text and sockets, client groups (text and value), network lists */
#include "global/access/netaddr.h"
#include "tests/harness/tnet.h"
#include "tests/harness/ttest.h"

#include <string.h>

static struct netaddr addr(const char *s)
{
    struct netaddr a;

    if (netaddr_parse(&a, s, strlen(s)) < 0)
        TT_FAIL("netaddr_parse(\"%s\") failed", s);
    return a;
}

static const char *text(const char *s)
{
    static char out[64];
    struct netaddr a = addr(s);

    return netaddr_text(&a, out, sizeof(out));
}

TT_TEST(parse)
{
    struct netaddr a;

    TT_EQ_STR(text("192.0.2.1"), "192.0.2.1");
    TT_EQ_STR(text("2001:0db8:0:0::1"), "2001:db8::1");
    /* IPv4-mapped IPv6 is the IPv4 address */
    TT_EQ_STR(text("::ffff:192.0.2.10"), "192.0.2.10");
    a = addr("::ffff:192.0.2.10");
    TT_EQ_INT(a.family, AF_INET);
    TT_EQ_INT(netaddr_parse(&a, "not-an-address", 14), -1);
    TT_EQ_INT(netaddr_parse(&a, "192.0.2.0/24", 12), -1);
    TT_EQ_INT(netaddr_parse(&a, "", 0), -1);
    TT_EQ_INT(netaddr_parse(&a, NULL, 0), -1);
    /* len bounds the text: the address in a longer string */
    TT_EQ_INT(netaddr_parse(&a, "192.0.2.1,192.0.2.9", 9), 0);
    TT_EQ_STR(netaddr_text(&a, (char[64]){0}, 64), "192.0.2.1");
    /* longer than any address */
    static const char long_text[] =
        "192.0.2.1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    TT_EQ_INT(netaddr_parse(&a, long_text, strlen(long_text)), -1);
}

TT_TEST(equal)
{
    struct netaddr x = addr("192.0.2.10"), y = addr("::ffff:192.0.2.10"), z = addr("192.0.2.1");
    struct netaddr v6a = addr("2001:db8::1"), v6b = addr("2001:0db8:0:0::1");

    TT_EQ_INT(netaddr_equal(&x, &y), 1);
    TT_EQ_INT(netaddr_equal(&x, &z), 0);
    TT_EQ_INT(netaddr_equal(&v6a, &v6b), 1);
    TT_EQ_INT(netaddr_equal(&v6a, &x), 0);
}

TT_TEST(from_sockaddr)
{
    struct sockaddr_storage ss = tnet_addr("::ffff:198.51.100.7");
    struct netaddr a, b = addr("198.51.100.7");
    struct sockaddr unix_addr = {.sa_family = AF_UNIX};

    TT_EQ_INT(netaddr_from_sockaddr(&a, (struct sockaddr *)&ss), 0);
    TT_EQ_INT(netaddr_equal(&a, &b), 1);
    ss = tnet_addr("2001:db8::7");
    TT_EQ_INT(netaddr_from_sockaddr(&a, (struct sockaddr *)&ss), 0);
    TT_EQ_INT(a.family, AF_INET6);
    TT_EQ_INT(netaddr_from_sockaddr(&a, &unix_addr), -1);
    TT_EQ_INT(netaddr_from_sockaddr(&a, NULL), -1);
}

/* same_client - a and b (socket addresses) fall into one client group */
static int same_client(const char *a, const char *b)
{
    struct sockaddr_storage x = tnet_addr(a), y = tnet_addr(b);
    struct netaddr ax, ay, gx, gy;

    TT_EQ_INT(netaddr_from_sockaddr(&ax, (struct sockaddr *)&x), 0);
    TT_EQ_INT(netaddr_from_sockaddr(&ay, (struct sockaddr *)&y), 0);
    netaddr_group(&ax, &gx);
    netaddr_group(&ay, &gy);
    return netaddr_equal(&gx, &gy);
}

TT_TEST(client_group)
{
    /* IPv4: the address; IPv6: the /64 (one subscriber's prefix) */
    TT_EQ_INT(same_client("198.51.100.7", "198.51.100.7"), 1);
    TT_EQ_INT(same_client("198.51.100.7", "198.51.100.8"), 0);
    TT_EQ_INT(same_client("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"), 1);
    TT_EQ_INT(same_client("2001:db8:1:2::1", "2001:db8:1:3::1"), 0);
    /* an IPv4 client on a dual-stack socket is the IPv4 address */
    TT_EQ_INT(same_client("::ffff:198.51.100.7", "198.51.100.7"), 1);
    TT_EQ_INT(same_client("::ffff:198.51.100.7", "::ffff:198.51.100.8"), 0);
    TT_EQ_INT(same_client("198.51.100.7", "::"), 0);
    TT_EQ_INT(same_client("0.0.0.0", "::"), 0);
}

TT_TEST(client_group_text)
{
    char g[128];

    netaddr_group_text("192.0.2.7", g, sizeof(g));
    TT_EQ_STR(g, "192.0.2.7");
    netaddr_group_text("::ffff:192.0.2.7", g, sizeof(g));
    TT_EQ_STR(g, "192.0.2.7");
    netaddr_group_text("2001:db8:0:1:aaaa:bbbb:cccc:dddd", g, sizeof(g));
    TT_EQ_STR(g, "2001:db8:0:1::/64");
    netaddr_group_text("2001:0db8:0000:0001::1", g, sizeof(g));
    TT_EQ_STR(g, "2001:db8:0:1::/64");
    netaddr_group_text("::1", g, sizeof(g));
    TT_EQ_STR(g, "::/64");
    netaddr_group_text("-", g, sizeof(g));
    TT_EQ_STR(g, "-");
}

/* in - address a (socket address) is in the network list */
static int in(const char *list, const char *a)
{
    struct netaddr_list l = {0};
    struct sockaddr_storage x = tnet_addr(a);
    struct netaddr na;
    char err[128];
    int r;

    if (netaddr_list_parse(&l, list, err, sizeof(err)) < 0)
        TT_FAIL("netaddr_list_parse(\"%s\"): %s", list ? list : "(null)", err);
    TT_EQ_INT(netaddr_from_sockaddr(&na, (struct sockaddr *)&x), 0);
    r = netaddr_list_match(&l, &na);
    netaddr_list_free(&l);
    return r;
}

TT_TEST(networks)
{
    TT_EQ_INT(in("10.0.0.0/8, 192.0.2.1", "10.200.3.4"), 1);
    TT_EQ_INT(in("10.0.0.0/8, 192.0.2.1", "192.0.2.1"), 1);
    TT_EQ_INT(in("10.0.0.0/8, 192.0.2.1", "192.0.2.2"), 0);
    TT_EQ_INT(in("10.0.0.0/8", "::ffff:10.1.1.1"), 1);
    TT_EQ_INT(in("2001:db8::/32", "2001:db8:ffff::1"), 1);
    TT_EQ_INT(in("2001:db8::/32", "2001:db9::1"), 0);
    TT_EQ_INT(in("198.51.100.0/25", "198.51.100.127"), 1);
    TT_EQ_INT(in("198.51.100.0/25", "198.51.100.128"), 0);
    TT_EQ_INT(in("172.16.0.0/12", "172.31.255.255"), 1);
    TT_EQ_INT(in("172.16.0.0/12", "172.32.0.0"), 0);
    TT_EQ_INT(in("0.0.0.0/0", "203.0.113.9"), 1);
    TT_EQ_INT(in("0.0.0.0/0", "2001:db8::1"), 0); /* families never mix */
    TT_EQ_INT(in(" 10.0.0.0/8 ,\t,, 2001:db8::/32 ", "2001:db8::1"), 1);
    TT_EQ_INT(in("", "203.0.113.9"), 0);
    TT_EQ_INT(in(NULL, "203.0.113.9"), 0);
}

TT_TEST(bad_networks)
{
    static const char *const bad[] = {
        "10.0.0.0/33",
        "::/129",
        "::1/129",
        "10.0.0.0/",
        "10.0.0.0/x",
        "10.0.0",
        "example.com",
        "10.0.0.0/8,,300.1.1.1",
        "10.0.0.0/8, nonsense",
        "10.0.0.0/-1",
        "not-a-network, 203.0.113.9",
        NULL,
    };
    char err[200];

    for (int i = 0; bad[i]; i++) {
        struct netaddr_list l = {0};
        err[0] = 0;
        if (netaddr_list_parse(&l, bad[i], err, sizeof(err)) == 0)
            TT_FAIL("\"%s\" parsed", bad[i]);
        TT_ASSERT(strstr(err, "is not an address") != NULL);
        netaddr_list_free(&l);
    }
}

TT_MAIN(TT_CASE(parse), TT_CASE(equal), TT_CASE(from_sockaddr), TT_CASE(client_group),
        TT_CASE(client_group_text), TT_CASE(networks), TT_CASE(bad_networks))
