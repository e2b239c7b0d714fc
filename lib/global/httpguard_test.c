/* httpguard_test - the per-client unit of the connection cap and the exempt networks. */
#include "global/httpguard.h"
#include "tests/harness/ttest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static struct sockaddr_storage addr(const char *s)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, s, &a4->sin_addr) == 1)
        a4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1)
        a6->sin6_family = AF_INET6;
    else
        TT_FAIL("bad test address %s", s);
    return ss;
}

static int same_client(const char *a, const char *b)
{
    struct sockaddr_storage x = addr(a), y = addr(b);
    unsigned char kx[17], ky[17];

    TT_EQ_INT(httpguard_client_key((struct sockaddr *)&x, kx), 0);
    TT_EQ_INT(httpguard_client_key((struct sockaddr *)&y, ky), 0);
    return memcmp(kx, ky, 17) == 0;
}

static int in(const char *list, const char *a)
{
    struct sockaddr_storage x = addr(a);

    return httpguard_in_nets(list, (struct sockaddr *)&x);
}

TT_TEST(client_unit)
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
    unsigned char k[17];
    struct sockaddr unix_addr = {.sa_family = AF_UNIX};
    TT_EQ_INT(httpguard_client_key(&unix_addr, k), -1);
    TT_EQ_INT(httpguard_client_key(NULL, k), -1);
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
    TT_EQ_INT(in("0.0.0.0/0", "203.0.113.9"), 1);
    TT_EQ_INT(in("", "203.0.113.9"), 0);
    TT_EQ_INT(in(NULL, "203.0.113.9"), 0);
    TT_EQ_INT(in("not-a-network, 203.0.113.9", "203.0.113.9"), 1);
    TT_EQ_INT(in("10.0.0.0/33", "10.0.0.1"), 0);
}

TT_TEST(create_refuses_bad_networks)
{
    struct httpguard_conf ok = {"t", 10, 1000, "10.0.0.0/8,::1"};
    struct httpguard *g = httpguard_create(&ok);

    TT_ASSERT(g != NULL);
    httpguard_free(g);
    httpguard_free(NULL);
    /* a bad network stops start-up (msg_fatal) */
    static const char *const bad[] = {"10.0.0.0/33", "10.0.0.0/8, nonsense", "::1/129", "10.0.0.0/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            struct httpguard_conf c = {"t", 10, 1000, bad[i]};
            httpguard_create(&c);
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) == 0)
            TT_FAIL("exempt list \"%s\" accepted", bad[i]);
    }
}

TT_MAIN(TT_CASE(client_unit), TT_CASE(networks), TT_CASE(create_refuses_bad_networks))
