/* inboundaddr_test - role local parts, kind names, and nothing answered without the database */
#include "tests/harness/ttest.h"
#include "global/inbound/inboundaddr.h"

TT_TEST(roles)
{
    TT_EQ_INT(inboundaddr_is_role("postmaster", "postmaster,abuse,fbl"), 1);
    TT_EQ_INT(inboundaddr_is_role("ABUSE", "postmaster,abuse,fbl"), 1);
    TT_EQ_INT(inboundaddr_is_role("fbl", " postmaster , abuse, fbl "), 1);
    /* names are compared whole */
    TT_EQ_INT(inboundaddr_is_role("post", "postmaster,abuse,fbl"), 0);
    TT_EQ_INT(inboundaddr_is_role("postmasters", "postmaster,abuse,fbl"), 0);
    TT_EQ_INT(inboundaddr_is_role("", "postmaster,,abuse"), 0);
    TT_EQ_INT(inboundaddr_is_role("abuse", ""), 0);
}

TT_TEST(kind_names)
{
    TT_EQ_STR(inboundaddr_kind_name(INBOUNDADDR_VERP), "verp");
    TT_EQ_STR(inboundaddr_kind_name(INBOUNDADDR_ROLE), "role");
    TT_EQ_STR(inboundaddr_kind_name(INBOUNDADDR_REWRITE), "rewrite");
    TT_EQ_STR(inboundaddr_kind_name(INBOUNDADDR_UNKNOWN), "unknown");
    TT_EQ_STR(inboundaddr_kind_name(INBOUNDADDR_FORGED), "forged");
    TT_EQ_STR(inboundaddr_kind_name(INBOUNDADDR_FOREIGN), "foreign");
}

TT_TEST(cache_miss_needs_the_database)
{
    struct inboundaddr a;

    inboundaddr_cache_clear();
    TT_EQ_INT(inboundaddr_cached("postmaster", "bounce.example.net", "postmaster", &a), 0);
}

TT_MAIN(TT_CASE(roles), TT_CASE(kind_names), TT_CASE(cache_miss_needs_the_database))
