/* jsonget_test - member reads: present, missing, wrong type, NULL and non-object holders */
#include "tests/harness/ttest.h"
#include "util/jsonget.h"

static json_t *doc(void)
{
    json_t *o = json_loads("{\"s\":\"text\",\"e\":\"\",\"n\":5,\"t\":true,\"f\":false,"
                           "\"st\":\"true\",\"sf\":\"TRUE\",\"z\":null,\"a\":[\"x\"],"
                           "\"o\":{\"s\":\"in\"}}",
                           0, NULL);

    TT_ASSERT(o != NULL);
    return o;
}

TT_TEST(str)
{
    json_t *o = doc();
    json_t *arr = json_object_get(o, "a");

    TT_EQ_STR(jsonget_str(o, "s"), "text");
    TT_EQ_STR(jsonget_str(o, "e"), "");
    TT_EQ_STR(jsonget_str(json_object_get(o, "o"), "s"), "in");
    TT_ASSERT(jsonget_str(o, "missing") == NULL);
    TT_ASSERT(jsonget_str(o, "n") == NULL);
    TT_ASSERT(jsonget_str(o, "z") == NULL);
    TT_ASSERT(jsonget_str(o, "o") == NULL);
    TT_ASSERT(jsonget_str(NULL, "s") == NULL);
    TT_ASSERT(jsonget_str(arr, "s") == NULL);
    TT_EQ_STR(jsonget_str_nonempty(o, "s"), "text");
    TT_ASSERT(jsonget_str_nonempty(o, "e") == NULL);
    TT_ASSERT(jsonget_str_nonempty(o, "n") == NULL);
    TT_ASSERT(jsonget_str_nonempty(NULL, "s") == NULL);
    json_decref(o);
}

TT_TEST(strbuf)
{
    json_t *o = doc();
    char b[5] = "keep";

    /* absent: fine unless required; dst untouched */
    TT_EQ_INT(jsonget_strbuf(o, "missing", b, sizeof(b), 0), 0);
    TT_EQ_STR(b, "keep");
    TT_EQ_INT(jsonget_strbuf(o, "missing", b, sizeof(b), 1), -1);
    TT_EQ_INT(jsonget_strbuf(NULL, "s", b, sizeof(b), 1), -1);
    /* wrong type, even when optional; null is a wrong type */
    TT_EQ_INT(jsonget_strbuf(o, "n", b, sizeof(b), 0), -1);
    TT_EQ_INT(jsonget_strbuf(o, "z", b, sizeof(b), 0), -1);
    TT_EQ_STR(b, "keep");
    /* fits exactly (4 + NUL), one byte too long */
    TT_EQ_INT(jsonget_strbuf(o, "s", b, sizeof(b), 1), 0);
    TT_EQ_STR(b, "text");
    TT_EQ_INT(jsonget_strbuf(o, "s", b, 4, 1), -1);
    TT_EQ_INT(jsonget_strbuf(o, "e", b, 1, 1), 0);
    TT_EQ_STR(b, "");
    json_decref(o);
}

TT_TEST(bool)
{
    json_t *o = doc();

    TT_EQ_INT(jsonget_bool(o, "t"), 1);
    TT_EQ_INT(jsonget_bool(o, "st"), 1);
    TT_EQ_INT(jsonget_bool(o, "f"), 0);
    TT_EQ_INT(jsonget_bool(o, "sf"), 0); /* only the exact string "true" */
    TT_EQ_INT(jsonget_bool(o, "n"), 0);
    TT_EQ_INT(jsonget_bool(o, "z"), 0);
    TT_EQ_INT(jsonget_bool(o, "missing"), 0);
    TT_EQ_INT(jsonget_bool(NULL, "t"), 0);
    json_decref(o);
}

TT_MAIN(TT_CASE(str), TT_CASE(strbuf), TT_CASE(bool))
