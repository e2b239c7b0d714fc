/* buf_test - bounded buffer growth, ceiling and ownership */
#include "tests/harness/ttest.h"
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

/* a lost piece is never followed by later pieces: the error sticks and
 * the one who finishes the buffer sees it */
TT_TEST(failure_is_sticky)
{
    struct buf b = BUF_INIT(8);
    size_t n = 99;

    TT_EQ_INT(buf_puts(&b, "head"), 0);
    TT_EQ_INT(buf_puts(&b, "too long now"), -1);
    TT_EQ_INT(buf_error(&b), 1);
    TT_EQ_INT(buf_puts(&b, "tail"), -1); /* would fit: still refused */
    TT_EQ_INT(buf_putc(&b, 'x'), -1);
    TT_EQ_INT(buf_printf(&b, "%d", 7), -1);
    TT_EQ_INT(buf_append(&b, "", 0), -1);
    TT_EQ_INT(b.len, 0);
    TT_ASSERT(b.data == NULL);
    TT_EQ_STR(buf_ptr(&b), "");
    TT_ASSERT(buf_steal(&b, &n) == NULL); /* the finisher is told */
    TT_EQ_INT(n, 0);
    /* steal, reset, init and free start the buffer over */
    TT_EQ_INT(buf_error(&b), 0);
    TT_EQ_INT(buf_puts(&b, "again"), 0);
    TT_EQ_INT(buf_puts(&b, "too long"), -1);
    buf_reset(&b);
    TT_EQ_INT(buf_puts(&b, "ok"), 0);
    TT_EQ_STR(buf_ptr(&b), "ok");
    TT_EQ_INT(buf_printf(&b, "%0100d", 1), -1);
    buf_free(&b);
    TT_EQ_INT(buf_puts(&b, "fresh"), 0);
    TT_EQ_STR(buf_ptr(&b), "fresh");
    buf_free(&b);
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

TT_MAIN(TT_CASE(append_and_printf), TT_CASE(ceiling_fails_and_empties), TT_CASE(failure_is_sticky),
        TT_CASE(steal_leaves_empty), TT_CASE(large_growth))
