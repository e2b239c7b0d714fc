/* timeutil_test - ISO-8601 formatting/parsing and durations */
#include "tests/harness/ttest.h"
#include "util/timeutil.h"

TT_TEST(format_iso)
{
    char s[40];

    TT_EQ_STR(timeutil_iso8601(s, sizeof(s), 1747212950817LL), "2025-05-14T08:55:50.817Z");
    TT_EQ_STR(timeutil_day(s, sizeof(s), 1747212950817LL), "2025-05-14");
}

TT_TEST(parse_iso)
{
    int64_t ms;

    TT_EQ_INT(timeutil_parse_iso8601("2025-05-14T08:55:50.817Z", &ms), 0);
    TT_EQ_INT(ms, 1747212950817LL);
    TT_EQ_INT(timeutil_parse_iso8601("2020-05-27T16:22:27.805+02:00", &ms), 0);
    TT_EQ_INT(ms, 1590589347805LL);
    TT_EQ_INT(timeutil_parse_iso8601("2025-05-14T08:55:50Z", &ms), 0);
    TT_EQ_INT(ms, 1747212950000LL);
    TT_EQ_INT(timeutil_parse_iso8601("2025-05-14", &ms), -1);
    TT_EQ_INT(timeutil_parse_iso8601("2025-05-14T08:55:50", &ms), -1);
    TT_EQ_INT(timeutil_parse_iso8601("2025-02-30T08:55:50Z", &ms), -1);
    TT_EQ_INT(timeutil_parse_iso8601("2025-13-01T08:55:50Z", &ms), -1);
    TT_EQ_INT(timeutil_parse_iso8601("2025-05-14T08:55:50Zx", &ms), -1);
    TT_EQ_INT(timeutil_parse_iso8601("2025-05-14T08:55:50.Z", &ms), -1);
}

TT_TEST(durations)
{
    int64_t ms;

    TT_EQ_INT(timeutil_parse_duration("500ms", &ms), 0);
    TT_EQ_INT(ms, 500);
    TT_EQ_INT(timeutil_parse_duration("10", &ms), 0);
    TT_EQ_INT(ms, 10000);
    TT_EQ_INT(timeutil_parse_duration("2d", &ms), 0);
    TT_EQ_INT(ms, 172800000);
    TT_EQ_INT(timeutil_parse_duration("5x", &ms), -1);
    TT_EQ_INT(timeutil_parse_duration("-5s", &ms), -1);
}

TT_TEST(format_sql)
{
    char s[40], small[11];

    TT_EQ_STR(timeutil_sql(s, sizeof(s), 1747212950817LL), "2025-05-14 08:55:50.817");
    TT_EQ_STR(timeutil_sql(s, sizeof(s), 1747212950000LL), "2025-05-14 08:55:50.000");
    TT_EQ_STR(timeutil_sql(s, sizeof(s), 1747212953120LL), "2025-05-14 08:55:53.120");
    TT_EQ_STR(timeutil_sql(s, sizeof(s), 0), "1970-01-01 00:00:00.000");
    /* before the epoch: whole milliseconds back, not a negative fraction */
    TT_EQ_STR(timeutil_sql(s, sizeof(s), -1), "1969-12-31 23:59:59.999");
    TT_EQ_STR(timeutil_sql(s, sizeof(s), -1000), "1969-12-31 23:59:59.000");
    TT_EQ_STR(timeutil_sql(s, sizeof(s), -1001), "1969-12-31 23:59:58.999");
    /* DATETIME's ends, and beyond them clamped */
    TT_EQ_STR(timeutil_sql(s, sizeof(s), 253402300799999LL), "9999-12-31 23:59:59.999");
    TT_EQ_STR(timeutil_sql(s, sizeof(s), INT64_MAX), "9999-12-31 23:59:59.999");
    TT_EQ_STR(timeutil_sql(s, sizeof(s), -30610224000000LL), "1000-01-01 00:00:00.000");
    TT_EQ_STR(timeutil_sql(s, sizeof(s), INT64_MIN), "1000-01-01 00:00:00.000");
    /* a short buffer is truncated, still terminated */
    TT_EQ_STR(timeutil_sql(small, sizeof(small), 1747212950817LL), "2025-05-14");
}

TT_MAIN(TT_CASE(format_iso), TT_CASE(format_sql), TT_CASE(parse_iso), TT_CASE(durations))
