/* netpolicy_test - the default deny list range by range, edges, IPv6 forms of IPv4, allow lists, parsing */
#include "tests/harness/ttest.h"
#include "global/access/netpolicy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static struct netpolicy *policy(const char *deny, const char *allow)
{
    char err[200] = "";
    struct netpolicy *np = netpolicy_create(deny, allow, err, sizeof(err));

    if (np == NULL)
        TT_FAIL("netpolicy_create(\"%s\", \"%s\"): %s", deny, allow ? allow : "", err);
    return np;
}

static void expect(const struct netpolicy *np, const char *addr, int want)
{
    int got = netpolicy_allowed_text(np, addr);

    if (got != want)
        TT_FAIL("%s: expected %s, got %s", addr, want ? "allowed" : "denied",
                got ? "allowed" : "denied");
}

/* every default range: its first and last address denied, the neighbours outside allowed */
TT_TEST(default_ranges)
{
    struct netpolicy *np = policy("default", NULL);
    static const char *const denied[] = {
        "0.0.0.0",
        "0.255.255.255", /* this network */
        "10.0.0.0",
        "10.255.255.255", /* RFC 1918 */
        "100.64.0.0",
        "100.127.255.255", /* shared address space */
        "127.0.0.0",
        "127.0.0.1",
        "127.255.255.255", /* loopback */
        "169.254.0.0",
        "169.254.169.254",
        "169.254.255.255", /* link-local, metadata */
        "172.16.0.0",
        "172.31.255.255", /* RFC 1918 */
        "192.0.0.0",
        "192.0.0.255", /* IETF protocol assignments */
        "192.168.0.0",
        "192.168.255.255", /* RFC 1918 */
        "198.18.0.0",
        "198.19.255.255", /* benchmarking */
        "224.0.0.0",
        "239.255.255.255", /* multicast */
        "240.0.0.0",
        "255.255.255.255", /* reserved, broadcast */
        "::",
        "::1", /* unspecified, loopback */
        "::2",
        "::0.255.255.255", /* compatible forms of 0.0.0.0/8 */
        "fc00::",
        "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", /* ULA */
        "fe80::",
        "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", /* link-local */
        "fec0::1",
        "feff::1", /* old site-local */
        "ff00::",
        "ff02::1",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", /* multicast */
        "100::",
        "100::ffff:ffff:ffff:ffff", /* discard */
        "64:ff9b:1::",
        "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", /* local-use NAT64 */
        NULL,
    };
    static const char *const allowed[] = {
        "1.0.0.0",
        "9.255.255.255",
        "11.0.0.0",
        "8.8.8.8",
        "100.63.255.255",
        "100.128.0.0",
        "126.255.255.255",
        "128.0.0.0",
        "169.253.255.255",
        "169.255.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "191.255.255.255",
        "192.0.1.0",
        "192.0.2.1",
        "192.167.255.255",
        "192.169.0.0",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
        "2001:db8::1",
        "2606:4700::1111",
        "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "fe00::1",
        "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "100:0:0:1::",
        "64:ff9b:2::1",
        "64:ff9b:0:ffff::1",
        NULL,
    };

    for (int i = 0; denied[i]; i++)
        expect(np, denied[i], 0);
    for (int i = 0; allowed[i]; i++)
        expect(np, allowed[i], 1);
    netpolicy_free(np);
}

/* IPv6 spellings of a denied IPv4 address are denied; of an allowed one, allowed */
TT_TEST(ipv4_in_ipv6)
{
    struct netpolicy *np = policy("default", "");

    expect(np, "::ffff:127.0.0.1", 0); /* mapped */
    expect(np, "::ffff:7f00:1", 0);
    expect(np, "::ffff:169.254.169.254", 0);
    expect(np, "::ffff:10.1.2.3", 0);
    expect(np, "::ffff:0:127.0.0.1", 0); /* translated (SIIT) */
    expect(np, "::127.0.0.1", 0);        /* compatible */
    expect(np, "::192.168.1.1", 0);
    expect(np, "64:ff9b::127.0.0.1", 0); /* NAT64 */
    expect(np, "64:ff9b::a9fe:a9fe", 0);
    expect(np, "64:ff9b::10.0.0.1", 0);
    expect(np, "2002:7f00:1::", 0); /* 6to4 of 127.0.0.1 */
    expect(np, "2002:a9fe:a9fe::1", 0);
    expect(np, "::ffff:8.8.8.8", 1);
    expect(np, "64:ff9b::8.8.8.8", 1);
    expect(np, "2002:808:808::1", 1);
    /* a sockaddr_in6 as curl hands it over */
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof(s6));
    s6.sin6_family = AF_INET6;
    TT_ASSERT(inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr) == 1);
    TT_EQ_INT(netpolicy_allowed(np, (struct sockaddr *)&s6), 0);
    struct sockaddr_in s4;
    memset(&s4, 0, sizeof(s4));
    s4.sin_family = AF_INET;
    TT_ASSERT(inet_pton(AF_INET, "93.184.216.34", &s4.sin_addr) == 1);
    TT_EQ_INT(netpolicy_allowed(np, (struct sockaddr *)&s4), 1);
    struct sockaddr other = {.sa_family = AF_UNIX};
    TT_EQ_INT(netpolicy_allowed(np, &other), 0);
    TT_EQ_INT(netpolicy_allowed(np, NULL), 0);
    netpolicy_free(np);
}

/* an allow list opens exactly its range, in every spelling, and nothing next to it */
TT_TEST(allow_list)
{
    struct netpolicy *np = policy("default", "127.0.0.0/8, ::1");

    expect(np, "127.0.0.1", 1);
    expect(np, "127.255.255.254", 1);
    expect(np, "::1", 1);
    expect(np, "::ffff:127.0.0.1", 1);
    expect(np, "64:ff9b::127.0.0.1", 1);
    expect(np, "126.255.255.255", 1); /* public anyway */
    expect(np, "10.0.0.1", 0);
    expect(np, "169.254.169.254", 0);
    expect(np, "::ffff:169.254.169.254", 0);
    expect(np, "::2", 0);
    expect(np, "fe80::1", 0);
    netpolicy_free(np);
    np = policy("default", "127.0.0.2/32");
    expect(np, "127.0.0.2", 1);
    expect(np, "127.0.0.1", 0);
    expect(np, "127.0.0.3", 0);
    netpolicy_free(np);
    np = policy("default", "10.1.0.0/17");
    expect(np, "10.1.127.255", 1);
    expect(np, "10.1.128.0", 0);
    expect(np, "10.0.255.255", 0);
    netpolicy_free(np);
}

/* deny lists of one's own; empty: everything allowed (the explicit opt-out) */
TT_TEST(own_lists)
{
    struct netpolicy *np = policy("", NULL);

    expect(np, "127.0.0.1", 1);
    expect(np, "::1", 1);
    expect(np, "169.254.169.254", 1);
    TT_EQ_INT(netpolicy_allowed_text(np, "not-an-address"), 0);
    netpolicy_free(np);
    np = policy("203.0.113.0/24 default", NULL);
    expect(np, "203.0.113.9", 0);
    expect(np, "10.0.0.1", 0);
    expect(np, "198.51.100.1", 1);
    netpolicy_free(np);
    np = policy("0.0.0.0/0, ::/0", "192.0.2.7");
    expect(np, "8.8.8.8", 0);
    expect(np, "2606:4700::1111", 0);
    expect(np, "192.0.2.7", 1);
    expect(np, "::ffff:192.0.2.7", 1);
    netpolicy_free(np);
    np = policy("10.0.0.0/9", NULL);
    expect(np, "10.127.255.255", 0);
    expect(np, "10.128.0.0", 1);
    netpolicy_free(np);
    np = policy("2001:db8::/33", NULL);
    expect(np, "2001:db8:7fff::1", 0);
    expect(np, "2001:db8:8000::1", 1);
    netpolicy_free(np);
}

TT_TEST(parse_errors)
{
    char err[200];
    static const char *const bad[] = {
        "10.0.0.0/33",           "::/129",   "10.0.0.0/",   "10.0.0.0/x", "10.0.0", "example.com",
        "10.0.0.0/8,,300.1.1.1", "defaults", "10.0.0.0/-1", NULL,
    };

    for (int i = 0; bad[i]; i++) {
        err[0] = 0;
        struct netpolicy *np = netpolicy_create(bad[i], NULL, err, sizeof(err));
        if (np != NULL)
            TT_FAIL("\"%s\" parsed", bad[i]);
        TT_ASSERT(strstr(err, "deny list") != NULL);
    }
    TT_ASSERT(netpolicy_create(NULL, "fe80::/200", err, sizeof(err)) == NULL);
    TT_ASSERT(strstr(err, "allow list") != NULL);
    struct netpolicy *np = policy(" 10.0.0.0/8 ,\t fc00::/7 ,", "DEFAULT");
    expect(np, "10.0.0.1", 1); /* the allow list names the default ranges */
    netpolicy_free(np);
}

TT_MAIN(TT_CASE(default_ranges), TT_CASE(ipv4_in_ipv6), TT_CASE(allow_list), TT_CASE(own_lists),
        TT_CASE(parse_errors))
