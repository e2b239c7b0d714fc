/* deliver_route_test - the transport map (exact, .subdomain, "*", bad lines, reload) and route choice */
#include "tests/harness/ttest.h"
#include "workers/deliver/deliver.h"

#include <unistd.h>

struct deliver_conf deliver_conf = {.smtp_port = 2525};

static char path[] = "/tmp/deliver_route_test.XXXXXX";

static void write_map(const char *text)
{
    FILE *fp = fopen(path, "w");

    TT_ASSERT(fp != NULL);
    fputs(text, fp);
    fclose(fp);
}

static void setup(const char *text)
{
    int fd = mkstemp(path);

    TT_ASSERT(fd >= 0);
    close(fd);
    write_map(text);
    deliver_conf.transport_map = path;
    deliver_route_init();
}

TT_TEST(map_lookup_rules)
{
    char v[256];

    setup("# comment\n"
          "plain.test 127.0.0.1:2600   # trailing comment\n"
          ".sub.test [relay.sub.test]:26\n"
          "Exact.Sub.Test 10.0.0.1\n"
          "bad line without value\n"
          "broken.test host:notaport\n"
          "* smarthost.test:587\n");
    TT_EQ_INT(deliver_route_transport_lookup("plain.test", v, sizeof(v)), 1);
    TT_EQ_STR(v, "127.0.0.1:2600");
    TT_EQ_INT(deliver_route_transport_lookup("PLAIN.test", v, sizeof(v)), 1);
    TT_EQ_INT(deliver_route_transport_lookup("a.sub.test", v, sizeof(v)), 1);
    TT_EQ_STR(v, "[relay.sub.test]:26");
    TT_EQ_INT(deliver_route_transport_lookup("exact.sub.test", v, sizeof(v)), 1);
    TT_EQ_STR(v, "10.0.0.1"); /* exact beats .parent */
    TT_EQ_INT(deliver_route_transport_lookup("sub.test", v, sizeof(v)), 1);
    TT_EQ_STR(v, "smarthost.test:587"); /* ".sub.test" is for subdomains only */
    TT_EQ_INT(deliver_route_transport_lookup("bad", v, sizeof(v)), 1);
    TT_EQ_STR(v, "smarthost.test:587"); /* a line with three fields is ignored */
    TT_EQ_INT(deliver_route_transport_lookup("broken.test", v, sizeof(v)), 1);
    TT_EQ_STR(v, "smarthost.test:587"); /* the bad entry was ignored */
    unlink(path);
}

TT_TEST(routes)
{
    struct route r;
    char err[200];

    setup("plain.test 127.0.0.1:2600\n");
    TT_EQ_INT(deliver_route("example.com", NULL, &r, err, sizeof(err)), 0);
    TT_EQ_INT(r.use_mx, 1);
    TT_EQ_STR(r.host, "example.com");
    TT_EQ_INT(r.port, 2525);
    TT_EQ_STR(r.nexthop, "mx:example.com:2525");
    TT_EQ_INT(deliver_route("plain.test", NULL, &r, err, sizeof(err)), 0);
    TT_EQ_INT(r.use_mx, 0);
    TT_EQ_STR(r.host, "127.0.0.1");
    TT_EQ_INT(r.port, 2600);
    TT_EQ_STR(r.via, "transport");
    /* a relay host wins over the transport map and the MX */
    TT_EQ_INT(deliver_route("plain.test", "relay.example.net:2527", &r, err, sizeof(err)), 0);
    TT_EQ_STR(r.via, "relay");
    TT_EQ_STR(r.host, "relay.example.net");
    TT_EQ_INT(r.port, 2527);
    TT_EQ_INT(deliver_route("example.com", "bad relay", &r, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "bad relay") != NULL);
    unlink(path);
}

TT_TEST(map_reloads_when_changed)
{
    char v[256];

    setup("a.test 127.0.0.1:1\n");
    TT_EQ_INT(deliver_route_transport_lookup("b.test", v, sizeof(v)), 0);
    sleep(1); /* a different mtime */
    write_map("b.test 127.0.0.1:2\n");
    sleep(2); /* checked every 2 s */
    TT_EQ_INT(deliver_route_transport_lookup("b.test", v, sizeof(v)), 1);
    TT_EQ_STR(v, "127.0.0.1:2");
    TT_EQ_INT(deliver_route_transport_lookup("a.test", v, sizeof(v)), 0);
    unlink(path);
}

TT_MAIN(TT_CASE(map_lookup_rules), TT_CASE(routes), TT_CASE(map_reloads_when_changed))
