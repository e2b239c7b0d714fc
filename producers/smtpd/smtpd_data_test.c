/* smtpd_data_test - DATA/BDAT streaming: dot-stuffing, the end, limits */
#include "../../tests/harness/ttest.h"
#include "smtpd_data.h"

/* run - feed in pieces of step octets; returns the octets consumed */
static size_t run(struct smtpd_data *d, struct buf *out, const char *in, size_t step, size_t limit,
                  enum smtpd_data_mode mode)
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

TT_TEST(bare_lf_is_flagged_and_never_the_end)
{
    struct smtpd_data d;
    struct buf out = BUF_INIT(0);

    /* SMTP smuggling forms: "\n.\n", "\n.\r\n", "\r\n.\n" end nothing, and
     * the message that carries them is marked for refusal */
    for (size_t step = 1; step < 30; step++) {
        const char *in = "a\n.\nb\r\n.\nc\n.\r\nd\r\n.\r\nQUIT\r\n";
        size_t used = run(&d, &out, in, step, 1000, SMTPD_DATA_DOT);
        TT_EQ_INT(d.done, 1);
        TT_EQ_INT(used, strlen(in) - strlen("QUIT\r\n"));
        TT_EQ_INT(d.bare_lf, 1);
        TT_EQ_INT(d.bare_cr, 0);
    }
    /* the classic smuggling payload: one message, refused as a whole */
    run(&d, &out,
        "x\r\n\n.\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"
        "From: a@b.example\r\n\r\nsmuggled\r\n.\r\n",
        3, 1000, SMTPD_DATA_DOT);
    TT_EQ_INT(d.done, 1);
    TT_EQ_INT(d.bare_lf, 1);
    /* clean CRLF text is not flagged */
    run(&d, &out, "a\r\nb\r\n.\r\n", 1, 1000, SMTPD_DATA_DOT);
    TT_EQ_INT(d.bare_lf, 0);
    TT_EQ_INT(d.bare_cr, 0);
    buf_free(&out);
}

TT_TEST(bare_cr_is_flagged_and_never_the_end)
{
    struct smtpd_data d;
    struct buf out = BUF_INIT(0);
    const char *forms[] = {"a\rb\r\n.\r\n", "a\r.\rb\r\n.\r\n", "a\r\n.\rx\r\n.\r\n",
                           "a\r\r\n.\r\n", NULL};

    for (int i = 0; forms[i]; i++)
        for (size_t step = 1; step < 8; step++) {
            size_t used = run(&d, &out, forms[i], step, 1000, SMTPD_DATA_DOT);
            TT_EQ_INT(d.done, 1);
            TT_EQ_INT(used, strlen(forms[i]));
            TT_EQ_INT(d.bare_cr, 1);
            TT_EQ_INT(d.bare_lf, 0);
        }
    /* "<CR>.<CR>" is not the end either */
    run(&d, &out, "a\r.\rMAIL FROM:<x@y.example>\r\n", 1, 1000, SMTPD_DATA_DOT);
    TT_EQ_INT(d.done, 0);
    TT_EQ_INT(d.bare_cr, 1);
    buf_free(&out);
}

TT_TEST(bdat_bare_newlines)
{
    struct smtpd_data d;
    struct buf out = BUF_INIT(0);

    run(&d, &out, "a\nb\r\n", 2, 1000, SMTPD_DATA_CHUNK);
    smtpd_data_finish(&d);
    TT_EQ_INT(d.bare_lf, 1);
    run(&d, &out, "a\rb\r\n", 2, 1000, SMTPD_DATA_CHUNK);
    smtpd_data_finish(&d);
    TT_EQ_INT(d.bare_cr, 1);
    /* a CR at the very end of BDAT LAST is bare too */
    run(&d, &out, "a\r\nb\r", 1, 1000, SMTPD_DATA_CHUNK);
    smtpd_data_finish(&d);
    TT_EQ_INT(d.bare_cr, 1);
    /* CRLF split across chunks is fine; a last line without its end gets CRLF */
    run(&d, &out, "a\r\nb", 1, 1000, SMTPD_DATA_CHUNK);
    smtpd_data_finish(&d);
    TT_EQ_INT(d.bare_cr + d.bare_lf, 0);
    TT_EQ_STR(buf_ptr(&out), "a\r\nb\r\n");
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

    run(&d, &out,
        "Gr\xc3\xbc\xc3\x9f"
        "e\r\n.\r\n",
        1, 1000, SMTPD_DATA_DOT);
    TT_EQ_INT(d.eightbit, 1);
    buf_free(&out);
}

TT_MAIN(TT_CASE(dot_stuffing_and_end), TT_CASE(empty_message),
        TT_CASE(bare_lf_is_flagged_and_never_the_end),
        TT_CASE(bare_cr_is_flagged_and_never_the_end), TT_CASE(bdat_bare_newlines),
        TT_CASE(line_length), TT_CASE(size_limit_stops_buffering),
        TT_CASE(chunks_keep_dots_and_finish), TT_CASE(eightbit))
