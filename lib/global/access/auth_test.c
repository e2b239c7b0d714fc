/* auth_test - source-IP allow-lists: no list, an empty list, lists longer than 4 KB */
#include "tests/harness/ttest.h"
#include "global/access/auth.h"

#include <stdio.h>
#include <string.h>

TT_TEST(no_list_and_empty_list)
{
    TT_EQ_INT(auth_ip_allowed(NULL, "192.0.2.1"), 1);
    /* an empty list names nobody: it must not authenticate every client */
    TT_EQ_INT(auth_ip_allowed("", "192.0.2.1"), 0);
    TT_EQ_INT(auth_ip_allowed(" ", "192.0.2.1"), 0);
    TT_EQ_INT(auth_ip_allowed(",, ,", "192.0.2.1"), 0);
    TT_EQ_INT(auth_ip_allowed("", "::1"), 0);
}

TT_TEST(entries)
{
    TT_EQ_INT(auth_ip_allowed("192.0.2.1", "192.0.2.1"), 1);
    TT_EQ_INT(auth_ip_allowed("192.0.2.1", "192.0.2.10"), 0);
    TT_EQ_INT(auth_ip_allowed("192.0.2.10,192.0.2.1", "192.0.2.1"), 1);
    TT_EQ_INT(auth_ip_allowed("192.0.2.10, 2001:db8::1", "2001:0db8:0:0::1"), 1);
    TT_EQ_INT(auth_ip_allowed("192.0.2.10", "::ffff:192.0.2.10"), 1);
    TT_EQ_INT(auth_ip_allowed("::ffff:192.0.2.10", "192.0.2.10"), 1);
    TT_EQ_INT(auth_ip_allowed("192.0.2.1", NULL), 0);
    TT_EQ_INT(auth_ip_allowed("192.0.2.1", "not-an-address"), 0);
    TT_EQ_INT(auth_ip_allowed("192.0.2.0/24", "192.0.2.1"), 0); /* no ranges */
    /* an entry longer than any address is skipped, not cut to one */
    TT_EQ_INT(
        auth_ip_allowed(
            "192.0.2.1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx,192.0.2.9",
            "192.0.2.1"),
        0);
}

TT_TEST(long_lists_are_read_to_the_end)
{
    static char list[65536];
    size_t n = 0;

    /* 3,000 addresses (~40 KB): the last ones lie far beyond 4 KB */
    for (int i = 0; i < 3000; i++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s10.%d.%d.%d", i ? "," : "", i / 65536,
                              (i / 256) % 256, i % 256);
    TT_ASSERT(n > 30000);
    TT_EQ_INT(auth_ip_allowed(list, "10.0.0.0"), 1);
    TT_EQ_INT(auth_ip_allowed(list, "10.0.1.44"), 1);
    TT_EQ_INT(auth_ip_allowed(list, "10.0.11.183"), 1); /* the last entry, i = 2999 */
    TT_EQ_INT(auth_ip_allowed(list, "10.0.11.184"), 0);
}

TT_MAIN(TT_CASE(no_list_and_empty_list), TT_CASE(entries), TT_CASE(long_lists_are_read_to_the_end))
