/* buf_test - bounded buffer growth, ceiling and ownership */
#include "../../tests/harness/ttest.h"
#include "util/buf.h"
#include "util/mymalloc.h"

TT_TEST(append_and_printf)
{
    struct buf b = BUF_INIT(64);

    TT_EQ_STR(buf_ptr(&b), "");
    TT_EQ_INT(buf_puts(&b, "abc"), 0);
    TT_EQ_INT(buf_printf(&b, "-%d-", 42), 0);
    TT_EQ_STR(buf_ptr(&b), "abc-42-");
    TT_EQ_INT(b.len, 7);
    buf_free(&b);
    buf_free(&b); /* twice is fine */
}

TT_TEST(ceiling_fails_and_empties)
{
    struct buf b = BUF_INIT(8);

    TT_EQ_INT(buf_puts(&b, "12345678"), 0);
    TT_EQ_INT(buf_putc(&b, '9'), -1);
    TT_EQ_INT(b.len, 0);
    TT_ASSERT(b.data == NULL);
    TT_EQ_INT(buf_printf(&b, "%0100d", 1), -1);
}

TT_TEST(steal_leaves_empty)
{
    struct buf b = BUF_INIT(64);
    size_t n;

    buf_puts(&b, "hello");
    char *p = buf_steal(&b, &n);
    TT_EQ_STR(p, "hello");
    TT_EQ_INT(n, 5);
    TT_EQ_INT(b.len, 0);
    xfree(p);
    p = buf_steal(&b, NULL);
    TT_EQ_STR(p, "");
    xfree(p);
}

TT_TEST(large_growth)
{
    struct buf b = BUF_INIT(1 << 22);

    for (int i = 0; i < 100000; i++)
        TT_EQ_INT(buf_puts(&b, "0123456789"), 0);
    TT_EQ_INT(b.len, 1000000);
    buf_truncate(&b, 3);
    TT_EQ_STR(buf_ptr(&b), "012");
    buf_free(&b);
}

TT_MAIN(TT_CASE(append_and_printf), TT_CASE(ceiling_fails_and_empties),
        TT_CASE(steal_leaves_empty), TT_CASE(large_growth))
