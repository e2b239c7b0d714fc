/* suppress_test - the drop subType and description of a suppressed address */
#include "tests/harness/ttest.h"
#include "global/intake/suppress.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>

TT_TEST(subtype)
{
    struct suppress_hit h;

    memset(&h, 0, sizeof(h));
    snprintf(h.type, sizeof(h.type), "PREVIOUSLY_BOUNCED");
    TT_EQ_STR(suppress_subtype(&h), "PREVIOUSLY_BOUNCED");
    snprintf(h.type, sizeof(h.type), "MANUAL");
    TT_EQ_STR(suppress_subtype(&h), "SUPPRESSED");
    snprintf(h.type, sizeof(h.type), "UNSUBSCRIBED");
    TT_EQ_STR(suppress_subtype(&h), "SUPPRESSED");
}

TT_TEST(describe)
{
    struct suppress_hit h;
    char *d;

    memset(&h, 0, sizeof(h));
    snprintf(h.type, sizeof(h.type), "PREVIOUSLY_BOUNCED");
    h.created_ms = 1746871200000LL; /* 2025-05-10T10:00:00.000Z */
    snprintf(h.reason, sizeof(h.reason), "550 5.1.1 user unknown");
    d = suppress_describe(&h);
    TT_EQ_STR(d, "ts=\"2025-05-10T10:00:00.000Z\", reason=\"550 5.1.1 user unknown\"");
    xfree(d);
    snprintf(h.type, sizeof(h.type), "MANUAL");
    h.reason[0] = 0;
    d = suppress_describe(&h);
    TT_EQ_STR(d, "type=\"MANUAL\", ts=\"2025-05-10T10:00:00.000Z\", reason=\"\"");
    xfree(d);
    /* a reason that is not UTF-8 never reaches an event */
    snprintf(h.reason, sizeof(h.reason), "bad \xff\xfe");
    d = suppress_describe(&h);
    TT_EQ_STR(d, "suppressed");
    xfree(d);
}

TT_MAIN(TT_CASE(subtype), TT_CASE(describe))
