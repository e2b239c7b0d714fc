/* ids_test - UUID v7 shape and order, recipient id format and parsing */
#include "tests/harness/ttest.h"
#include "global/ids.h"
#include "util/timeutil.h"

TT_TEST(uuid_v7_shape)
{
    struct uuid u, back;
    char s[40];
    int64_t now = timeutil_now_ms();

    ids_uuid_v7(&u);
    ids_uuid_format(s, &u);
    TT_EQ_INT(strlen(s), 36);
    TT_EQ_INT(s[14], '7');
    TT_ASSERT(strchr("89ab", s[19]) != NULL);
    TT_EQ_INT(ids_uuid_parse(&back, s), 0);
    TT_ASSERT(memcmp(back.b, u.b, 16) == 0);
    TT_ASSERT(ids_uuid_time_ms(&u) >= now - 5 && ids_uuid_time_ms(&u) <= now + 5000);
}

TT_TEST(uuid_v7_sorts_by_time)
{
    struct uuid a, b;
    char sa[40], sb[40];

    ids_uuid_v7(&a);
    timeutil_sleep_ms(3);
    ids_uuid_v7(&b);
    TT_ASSERT(strcmp(ids_uuid_format(sa, &a), ids_uuid_format(sb, &b)) < 0);
}

TT_TEST(uuid_parse_rejects)
{
    struct uuid u;

    TT_EQ_INT(ids_uuid_parse(&u, "6dba7407-6c9c-4946-9553-eb9cc8eac852"), 0);
    TT_EQ_INT(ids_uuid_parse(&u, "6dba7407-6c9c-4946-9553-eb9cc8eac85"), -1);
    TT_EQ_INT(ids_uuid_parse(&u, "6dba74076c9c-4946-9553-eb9cc8eac8522"), -1);
    TT_EQ_INT(ids_uuid_parse(&u, "6dba7407-6c9c-4946-9553-eb9cc8eac852x"), -1);
    TT_EQ_INT(ids_uuid_parse(&u, "6dba7407-6c9c-4946-9553-eb9cc8eacg52"), -1);
}

TT_TEST(rid_roundtrip)
{
    char rid[RID_STR_LEN + 1];
    struct uuid u;
    uint32_t b, a;

    ids_rid_format(rid, "6dba7407-6c9c-4946-9553-eb9cc8eac852", 1, 0x1a);
    TT_EQ_STR(rid, "6dba7407-6c9c-4946-9553-eb9cc8eac852#00000001#0000001a");
    TT_EQ_INT(ids_rid_parse(rid, &u, &b, &a), 0);
    TT_EQ_INT(b, 1);
    TT_EQ_INT(a, 26);
    TT_EQ_INT(ids_rid_parse("6dba7407-6c9c-4946-9553-eb9cc8eac852#00000001#0000001A", &u, &b, &a),
              -1);
    TT_EQ_INT(ids_rid_parse("6dba7407-6c9c-4946-9553-eb9cc8eac852#0000001#00000001a", &u, &b, &a),
              -1);
    TT_EQ_INT(ids_rid_parse("x", &u, &b, &a), -1);
}

TT_MAIN(TT_CASE(uuid_v7_shape), TT_CASE(uuid_v7_sorts_by_time), TT_CASE(uuid_parse_rejects),
        TT_CASE(rid_roundtrip))
