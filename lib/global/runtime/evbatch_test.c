/* evbatch_test - encode/decode round trip of event batches, refused batches */
#include "tests/harness/ttest.h"
#include "global/runtime/evbatch.h"
#include "util/mymalloc.h"

#include <string.h>

static char *text(const char *s, size_t *len)
{
    *len = strlen(s);
    return xstrdup(s);
}

TT_TEST(join_one_by_one)
{
    size_t len;
    int parts = 1;
    char *b = text("{\"a\":1}", &len);

    evbatch_join(&b, &len, &parts, "{\"b\":2}", 7, 1);
    TT_EQ_STR(b, "[{\"a\":1},{\"b\":2}]");
    TT_EQ_INT(len, strlen(b));
    TT_EQ_INT(parts, 2);
    evbatch_join(&b, &len, &parts, "[{\"c\":3},{\"d\":4}]", 17, 2);
    TT_EQ_STR(b, "[{\"a\":1},{\"b\":2},{\"c\":3},{\"d\":4}]");
    TT_EQ_INT(parts, 4);
    xfree(b);
}

TT_TEST(join_array_to_one)
{
    size_t len;
    int parts = 1;
    char *b = text("{\"a\":1}", &len);

    evbatch_join(&b, &len, &parts, "[{\"c\":3},{\"d\":4}]", 17, 2);
    TT_EQ_STR(b, "[{\"a\":1},{\"c\":3},{\"d\":4}]");
    TT_EQ_INT(parts, 3);
    xfree(b);
}

TT_TEST(round_trip)
{
    size_t len;
    int parts = 1;
    char *b = text("{\"type\":\"SENT\",\"n\":0}", &len);
    char one[64];

    for (int i = 1; i < 50; i++) {
        int n = snprintf(one, sizeof(one), "{\"type\":\"SENT\",\"n\":%d}", i);
        evbatch_join(&b, &len, &parts, one, (size_t)n, 1);
    }
    json_t *a = evbatch_split(b, len);
    TT_ASSERT(a != NULL);
    TT_EQ_INT(json_array_size(a), 50);
    for (size_t i = 0; i < json_array_size(a); i++)
        TT_EQ_INT(json_integer_value(json_object_get(json_array_get(a, i), "n")), (long long)i);
    json_decref(a);
    xfree(b);
}

TT_TEST(not_a_batch)
{
    TT_ASSERT(evbatch_split("{\"a\":1}", 7) == NULL); /* one event */
    TT_ASSERT(evbatch_split("", 0) == NULL);
    TT_ASSERT(evbatch_split("  []", 4) == NULL);                           /* empty */
    TT_ASSERT(evbatch_split("[{\"a\":1},2]", 11) == NULL);                 /* not all objects */
    TT_ASSERT(evbatch_split("[{\"a\":1},{\"a\":1,\"a\":2}]", 23) == NULL); /* duplicate key */
    TT_ASSERT(evbatch_split("[{\"a\":1}", 8) == NULL);                     /* truncated */
    json_t *a = evbatch_split("\n [{\"a\":1}]", 11); /* leading space is fine */
    TT_ASSERT(a != NULL);
    TT_EQ_INT(json_array_size(a), 1);
    json_decref(a);
}

TT_TEST(too_many_parts)
{
    size_t cap = (EVBATCH_PARTS_MAX + 1) * 3 + 2, n = 0;
    char *b = xmalloc(cap + 1);

    b[n++] = '[';
    for (int i = 0; i <= EVBATCH_PARTS_MAX; i++) {
        memcpy(b + n, i ? ",{}" : "{}", i ? 3 : 2);
        n += i ? 3 : 2;
    }
    b[n++] = ']';
    TT_ASSERT(evbatch_split(b, n) == NULL);
    xfree(b);
}

TT_MAIN(TT_CASE(join_one_by_one), TT_CASE(join_array_to_one), TT_CASE(round_trip),
        TT_CASE(not_a_batch), TT_CASE(too_many_parts))
