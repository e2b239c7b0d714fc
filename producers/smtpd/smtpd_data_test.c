/* smtpd_data_test - DATA/BDAT streaming: dot-stuffing, the end, limits */
#include "../../tests/harness/ttest.h"
#include "smtpd_data.h"

/* run - feed in pieces of step octets; returns the octets consumed */
static size_t run(struct smtpd_data *d, struct buf *out, const char *in, size_t step,
                  size_t limit, enum smtpd_data_mode mode)
{
    size_t len = strlen(in), used = 0;

    smtpd_data_init(d, out, limit, mode);
    while (used < len && !d->done) {
        size_t n = len - used < step ? len - used : step;
        size_t c = smtpd_data_feed(d, in + used, n);
        used += c;
        if (c < n)
            break;
    }
    return used;
}

TT_TEST(dot_stuffing_and_end)
{
    struct smtpd_data d;
    struct buf out = BUF_INIT(0);
    const char *in = "Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n";

    for (size_t step = 1; step < 50; step++) {
        size_t used = run(&d, &out, in, step, 1000, SMTPD_DATA_DOT);
        TT_EQ_INT(d.done, 1);
        TT_EQ_INT(used, strlen(in) - strlen("QUIT\r\n"));
        TT_EQ_STR(buf_ptr(&out), "Subject: x\r\n\r\n.leading dot\r\n");
        TT_EQ_INT(d.too_long_line, 0);
        TT_EQ_INT(d.eightbit, 0);
    }
    buf_free(&out);
}

TT_TEST(empty_message)
{
    struct smtpd_data d;
    struct buf out = BUF_INIT(0);

    run(&d, &out, ".\r\n", 1, 1000, SMTPD_DATA_DOT);
    TT_EQ_INT(d.done, 1);
    TT_EQ_INT(out.len, 0);
    buf_free(&out);
}

TT_TEST(bare_lf_is_a_line_end_but_never_the_end)
{
    struct smtpd_data d;
    struct buf out = BUF_INIT(0);

    /* SMTP smuggling forms: "\n.\n", "\n.\r\n", "\r\n.\n" end nothing */
    run(&d, &out, "a\n.\nb\r\n.\nc\n.\r\nd\r\n.\r\n", 1, 1000, SMTPD_DATA_DOT);
    TT_EQ_INT(d.done, 1);
    TT_EQ_STR(buf_ptr(&out), "a\r\n.\r\nb\r\n.\r\nc\r\n.\r\nd\r\n");
    buf_free(&out);
}

TT_TEST(bare_cr_is_text)
{
    struct smtpd_data d;
    struct buf out = BUF_INIT(0);

    run(&d, &out, "a\rb\r\r\n.\rx\r\n.\r\n", 2, 1000, SMTPD_DATA_DOT);
    TT_EQ_INT(d.done, 1);
    TT_EQ_STR(buf_ptr(&out), "a\rb\r\r\n\rx\r\n");
    buf_free(&out);
}

TT_TEST(line_length)
{
    struct smtpd_data d;
    struct buf out = BUF_INIT(0);
    char in[3000];

    memset(in, 'x', 998);
    snprintf(in + 998, sizeof(in) - 998, "\r\n.\r\n");
    run(&d, &out, in, 7, 100000, SMTPD_DATA_DOT);
    TT_EQ_INT(d.too_long_line, 0);
    memset(in, 'x', 999);
    snprintf(in + 999, sizeof(in) - 999, "\r\n.\r\n");
    run(&d, &out, in, 7, 100000, SMTPD_DATA_DOT);
    TT_EQ_INT(d.too_long_line, 1);
    TT_EQ_INT(d.done, 1);
    /* a stuffed dot does not count */
    in[0] = '.';
    in[1] = '.';
    memset(in + 2, 'x', 997);
    snprintf(in + 999, sizeof(in) - 999, "\r\n.\r\n");
    run(&d, &out, in, 1000, 100000, SMTPD_DATA_DOT);
    TT_EQ_INT(d.too_long_line, 0);
    buf_free(&out);
}

TT_TEST(size_limit_stops_buffering)
{
    struct smtpd_data d;
    struct buf out = BUF_INIT(0);
    char in[5000];

    memset(in, 'y', 4000);
    for (int i = 80; i < 4000; i += 80) {
        in[i - 2] = '\r';
        in[i - 1] = '\n';
    }
    snprintf(in + 4000, sizeof(in) - 4000, "\r\n.\r\n");
    size_t used = run(&d, &out, in, 333, 1024, SMTPD_DATA_DOT);
    TT_EQ_INT(d.too_big, 1);
    TT_EQ_INT(d.done, 1);
    TT_EQ_INT(used, strlen(in));
    TT_ASSERT(out.data == NULL); /* released */
    TT_EQ_INT(d.received, strlen(in));
    buf_free(&out);
}

TT_TEST(chunks_keep_dots_and_finish)
{
    struct smtpd_data d;
    struct buf out = BUF_INIT(0);

    run(&d, &out, "..a\r\n.\r\nb", 3, 1000, SMTPD_DATA_CHUNK);
    TT_EQ_INT(d.done, 0);
    smtpd_data_finish(&d);
    TT_EQ_STR(buf_ptr(&out), "..a\r\n.\r\nb\r\n");
    buf_free(&out);
}

TT_TEST(eightbit)
{
    struct smtpd_data d;
    struct buf out = BUF_INIT(0);

    run(&d, &out, "Gr\xc3\xbc\xc3\x9f" "e\r\n.\r\n", 1, 1000, SMTPD_DATA_DOT);
    TT_EQ_INT(d.eightbit, 1);
    buf_free(&out);
}

TT_MAIN(TT_CASE(dot_stuffing_and_end), TT_CASE(empty_message),
        TT_CASE(bare_lf_is_a_line_end_but_never_the_end), TT_CASE(bare_cr_is_text),
        TT_CASE(line_length), TT_CASE(size_limit_stops_buffering),
        TT_CASE(chunks_keep_dots_and_finish), TT_CASE(eightbit))
