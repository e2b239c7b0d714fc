/* addr_test - address syntax of contract §4.8 */
#include "tests/harness/ttest.h"
#include "global/addr.h"

static int ok(const char *s)
{
    struct addr a;
    return addr_parse(s, strlen(s), &a) == 0;
}

TT_TEST(accepts_contract_forms)
{
    struct addr a;

    TT_EQ_INT(addr_parse("to_friendly<to@example.com>", 27, &a), 0);
    TT_EQ_STR(a.display, "to_friendly");
    TT_EQ_STR(a.bare, "to@example.com");
    const char *s = "\"Doe, John\" <john@Example.COM>";
    TT_EQ_INT(addr_parse(s, strlen(s), &a), 0);
    TT_EQ_STR(a.display, "Doe, John");
    TT_EQ_STR(a.bare, "john@example.com");
    s = "  ToName <to@example.com> ";
    TT_EQ_INT(addr_parse(s, strlen(s), &a), 0);
    TT_EQ_STR(a.display, "ToName");
    s = " to@example.com";
    TT_EQ_INT(addr_parse(s, strlen(s), &a), 0);
    TT_EQ_STR(a.display, "");
    s = "\"quoted local\"@example.com";
    TT_EQ_INT(addr_parse(s, strlen(s), &a), 0);
    TT_EQ_STR(a.local, "\"quoted local\"");
    s = "j\xc3\xbcrgen@m\xc3\xbcller.example";
    TT_EQ_INT(addr_parse(s, strlen(s), &a), 0);
    TT_EQ_STR(a.domain, "xn--mller-kva.example");
    TT_EQ_INT(a.utf8_local, 1);
}

TT_TEST(rejects_bad_syntax)
{
    TT_ASSERT(!ok("foo@bar"));
    TT_ASSERT(!ok("foo"));
    TT_ASSERT(!ok("@example.com"));
    TT_ASSERT(!ok("a..b@example.com"));
    TT_ASSERT(!ok(".a@example.com"));
    TT_ASSERT(!ok("a@[127.0.0.1]"));
    TT_ASSERT(!ok("a@example..com"));
    TT_ASSERT(!ok("a@-example.com"));
    TT_ASSERT(!ok("a@example.123"));
    TT_ASSERT(!ok("a b@example.com"));
    TT_ASSERT(!ok("Name <a@example.com"));
    TT_ASSERT(!ok("Name <a @example.com>"));
    TT_ASSERT(!ok("a@ex\xff.com"));
    TT_ASSERT(
        !ok("0123456789012345678901234567890123456789012345678901234567890123456789@example.com"));
    TT_ASSERT(!ok(""));
    TT_ASSERT(!ok("   "));
    TT_ASSERT(ok("a@b.c"));
    TT_ASSERT(ok("first.last+tag@sub.example.co"));
}

TT_MAIN(TT_CASE(accepts_contract_forms), TT_CASE(rejects_bad_syntax))
