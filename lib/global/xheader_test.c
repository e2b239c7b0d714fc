/* xheader_test - caller header names: field-name syntax, the reserved list */
#include "tests/harness/ttest.h"
#include "global/xheader.h"

#include <string.h>

static int valid(const char *s)
{
    return xheader_name_valid(s, strlen(s));
}

static int reserved(const char *s)
{
    return xheader_reserved(s, strlen(s));
}

TT_TEST(field_name_syntax)
{
    char longest[XHEADER_NAME_MAX + 2];

    TT_EQ_INT(valid("X-Campaign"), 1);
    TT_EQ_INT(valid(""), 0);
    TT_EQ_INT(valid("X Campaign"), 0);
    TT_EQ_INT(valid("X-Campaign:"), 0);
    TT_EQ_INT(valid("X-\x7f"), 0);
    TT_EQ_INT(valid("X-\xc3\xa9"), 0);
    memset(longest, 'x', sizeof(longest));
    TT_EQ_INT(xheader_name_valid(longest, XHEADER_NAME_MAX), 1);
    TT_EQ_INT(xheader_name_valid(longest, XHEADER_NAME_MAX + 1), 0);
}

TT_TEST(reserved_names)
{
    TT_EQ_INT(reserved("from"), 1);
    TT_EQ_INT(reserved("LIST-UNSUBSCRIBE-POST"), 1);
    TT_EQ_INT(reserved("Content-Type"), 1);
    TT_EQ_INT(reserved("content-anything"), 1);
    TT_EQ_INT(reserved("Content"), 0);
    TT_EQ_INT(reserved("Fro"), 0);
    TT_EQ_INT(reserved("From-X"), 0);
    TT_EQ_INT(reserved("X-Campaign"), 0);
    /* only name[0..len) counts */
    TT_EQ_INT(xheader_reserved("Tox", 2), 1);
    TT_EQ_INT(xheader_reserved("To", 1), 0);
}

TT_MAIN(TT_CASE(field_name_syntax), TT_CASE(reserved_names))
