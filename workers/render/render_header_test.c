/* render_header_test - RFC 2047 words, folding, mailboxes, RFC 2231, dates */
#include "../../tests/harness/ttest.h"
#include "util/buf.h"
#include "util/codec.h"
#include "workers/render/render_header.h"

/* lines_ok - CRLF only, every line within max, continuation lines start with WSP */
static void lines_ok(const char *s, size_t max)
{
    size_t col = 0;
    int first = 1;

    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '\n')
            TT_FAIL("bare LF at %zu", i);
        if (s[i] == '\r') {
            if (s[i + 1] != '\n')
                TT_FAIL("bare CR at %zu", i);
            if (col > max)
                TT_FAIL("line of %zu octets (max %zu): %s", col, max, s);
            i++;
            col = 0;
            if (s[i + 1] && !first && s[i + 1] != ' ' && s[i + 1] != '\t')
                TT_FAIL("a new field started inside one value: %s", s + i + 1);
            first = 0;
            continue;
        }
        col++;
    }
}

/* decode_words - unfold and decode the encoded-words of a value (Q and B, UTF-8 only) */
static void decode_words(const char *v, struct buf *out)
{
    const char *p = v;

    while (*p) {
        const char *s = strstr(p, "=?");
        if (s == NULL)
            break;
        const char *q1 = strchr(s + 2, '?');
        const char *q2 = q1 ? strchr(q1 + 1, '?') : NULL;
        const char *e = q2 ? strstr(q2 + 1, "?=") : NULL;
        TT_ASSERT(q1 && q2 && e);
        TT_ASSERT(e + 2 - s <= 75);
        char enc = q1[1];
        if (enc == 'B') {
            TT_ASSERT(codec_b64_decode(out, q2 + 1, (size_t)(e - q2 - 1), 0) == 0);
        } else {
            for (const char *c = q2 + 1; c < e; c++) {
                if (*c == '_')
                    buf_putc(out, ' ');
                else if (*c == '=') {
                    unsigned char x;
                    TT_ASSERT(codec_hex_decode(&x, c + 1, 1) == 0);
                    buf_putc(out, x);
                    c += 2;
                } else
                    buf_putc(out, *c);
            }
        }
        p = e + 2;
    }
}

TT_TEST(ascii_subject_as_is)
{
    struct buf b = BUF_INIT(4096);
    char err[200];

    TT_EQ_INT(
        render_header_unstructured(&b, "Subject", "Hello world", 11, NULL, 0, err, sizeof(err)), 0);
    TT_EQ_STR(buf_ptr(&b), "Subject: Hello world\r\n");
    buf_free(&b);
}

TT_TEST(forced_b_and_q)
{
    struct buf b = BUF_INIT(4096);
    char err[200];

    TT_EQ_INT(
        render_header_unstructured(&b, "Subject", "subject", 7, "UTF-8", 'B', err, sizeof(err)), 0);
    TT_EQ_STR(buf_ptr(&b), "Subject: =?UTF-8?B?c3ViamVjdA==?=\r\n");
    buf_reset(&b);
    TT_EQ_INT(render_header_unstructured(&b, "Subject", "a b", 3, NULL, 'Q', err, sizeof(err)), 0);
    TT_EQ_STR(buf_ptr(&b), "Subject: =?UTF-8?Q?a_b?=\r\n");
    buf_free(&b);
}

TT_TEST(utf8_subject_q)
{
    struct buf b = BUF_INIT(4096);
    char err[200];
    const char *s = "Gr\xc3\xbc\xc3\x9f"
                    "e";

    TT_EQ_INT(render_header_unstructured(&b, "Subject", s, strlen(s), NULL, 0, err, sizeof(err)),
              0);
    TT_EQ_STR(buf_ptr(&b), "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n");
    buf_free(&b);
}

TT_TEST(latin1_subject)
{
    struct buf b = BUF_INIT(4096);
    char err[200];
    const char *s = "Gr\xc3\xbc\xc3\x9f"
                    "e";

    TT_EQ_INT(
        render_header_unstructured(&b, "Subject", s, strlen(s), "ISO-8859-1", 0, err, sizeof(err)),
        0);
    TT_EQ_STR(buf_ptr(&b), "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\n");
    buf_reset(&b);
    /* the euro sign does not exist in ISO-8859-1 */
    TT_EQ_INT(render_header_unstructured(&b, "Subject", "\xe2\x82\xac", 3, "ISO-8859-1", 0, err,
                                         sizeof(err)),
              -1);
    TT_ASSERT(strstr(err, "cannot be represented") != NULL);
    buf_reset(&b);
    TT_EQ_INT(render_header_unstructured(&b, "Subject", "\xc3\xa4", 2, "NO-SUCH-CHARSET", 0, err,
                                         sizeof(err)),
              -1);
    buf_free(&b);
}

TT_TEST(utf16_words_have_no_bom)
{
    struct buf b = BUF_INIT(4096);
    char err[200];

    TT_EQ_INT(render_header_unstructured(&b, "Subject",
                                         "\xc3\xa4"
                                         "b",
                                         3, "UTF-16", 'B', err, sizeof(err)),
              0);
    /* U+00E4 U+0062 big-endian: 00 e4 00 62 */
    TT_EQ_STR(buf_ptr(&b), "Subject: =?UTF-16BE?B?AOQAYg==?=\r\n");
    buf_free(&b);
}

TT_TEST(long_ascii_folds_at_78)
{
    struct buf b = BUF_INIT(8192);
    char err[200], text[600];
    size_t o = 0;

    for (int i = 0; i < 60; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, "%sword%d", i ? " " : "", i);
    TT_EQ_INT(render_header_unstructured(&b, "Subject", text, o, NULL, 0, err, sizeof(err)), 0);
    lines_ok(buf_ptr(&b), 78);
    /* unfolding gives the text back */
    struct buf u = BUF_INIT(8192);
    const char *p = buf_ptr(&b) + 9;
    for (; *p; p++)
        if (*p != '\r' && *p != '\n')
            buf_putc(&u, *p);
    TT_EQ_MEM(u.data, u.len - 0, text, o);
    buf_free(&b);
    buf_free(&u);
}

TT_TEST(long_utf8_subject_words)
{
    struct buf b = BUF_INIT(1 << 16), d = BUF_INIT(1 << 16), t = BUF_INIT(1 << 16);
    char err[200];

    for (int i = 0; i < 120; i++)
        buf_puts(&t, "\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80 x");
    for (int enc = 0; enc < 2; enc++) {
        buf_reset(&b);
        buf_reset(&d);
        TT_EQ_INT(render_header_unstructured(&b, "Subject", t.data, t.len, NULL, enc ? 'B' : 0, err,
                                             sizeof(err)),
                  0);
        lines_ok(buf_ptr(&b), 76);
        decode_words(buf_ptr(&b), &d);
        TT_EQ_MEM(d.data, d.len, t.data, t.len);
        /* every word decodes on its own to whole characters */
        TT_ASSERT(codec_utf8_valid(d.data, d.len));
    }
    buf_free(&b);
    buf_free(&d);
    buf_free(&t);
}

TT_TEST(no_header_injection)
{
    struct buf b = BUF_INIT(4096);
    char err[200];
    const char *s = "hi\r\nBcc: victim@example.com\r\n\r\nbody";

    TT_EQ_INT(render_header_unstructured(&b, "Subject", s, strlen(s), NULL, 0, err, sizeof(err)),
              0);
    lines_ok(buf_ptr(&b), 998);
    TT_ASSERT(strstr(buf_ptr(&b), "\r\nBcc") == NULL);
    TT_ASSERT(strstr(buf_ptr(&b), "\r\n\r\n") == NULL);
    buf_free(&b);
}

TT_TEST(encoded_word_lookalike_is_encoded)
{
    struct buf b = BUF_INIT(4096), d = BUF_INIT(4096);
    char err[200];
    const char *s = "=?UTF-8?Q?x?=";

    TT_EQ_INT(render_header_unstructured(&b, "X-Test", s, strlen(s), NULL, 0, err, sizeof(err)), 0);
    decode_words(buf_ptr(&b), &d);
    TT_EQ_STR(buf_ptr(&d), s);
    buf_free(&b);
    buf_free(&d);
}

TT_TEST(very_long_word_stays_under_998)
{
    struct buf b = BUF_INIT(1 << 16), t = BUF_INIT(4096), d = BUF_INIT(4096);
    char err[200];

    for (int i = 0; i < 998; i++)
        buf_putc(&t, 'a' + i % 26);
    TT_EQ_INT(render_header_unstructured(&b, "X-Long-Header-Name", t.data, t.len, NULL, 0, err,
                                         sizeof(err)),
              0);
    lines_ok(buf_ptr(&b), 998);
    decode_words(buf_ptr(&b), &d);
    TT_EQ_MEM(d.data, d.len, t.data, t.len);
    buf_free(&b);
    buf_free(&t);
    buf_free(&d);
}

TT_TEST(mailboxes)
{
    struct buf b = BUF_INIT(8192), d = BUF_INIT(4096);
    char err[200];
    struct header_mailbox one[] = {{"to_friendly", "to@example.com"}};

    TT_EQ_INT(render_header_mailboxes(&b, "To", one, 1, err, sizeof(err)), 0);
    TT_EQ_STR(buf_ptr(&b), "To: to_friendly <to@example.com>\r\n");
    buf_reset(&b);
    struct header_mailbox quoted[] = {{"Doe, John", "john@example.com"},
                                      {NULL, "bare@example.com"},
                                      {"Say \"hi\"", "q@example.com"}};
    TT_EQ_INT(render_header_mailboxes(&b, "To", quoted, 3, err, sizeof(err)), 0);
    TT_EQ_STR(buf_ptr(&b),
              "To: \"Doe, John\" <john@example.com>, bare@example.com, \"Say \\\"hi\\\"\"\r\n"
              " <q@example.com>\r\n");
    buf_reset(&b);
    struct header_mailbox umlaut[] = {{"J\xc3\xbcrgen M\xc3\xbcller", "j@example.com"}};
    TT_EQ_INT(render_header_mailboxes(&b, "From", umlaut, 1, err, sizeof(err)), 0);
    TT_EQ_STR(buf_ptr(&b), "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <j@example.com>\r\n");
    buf_reset(&b);
    /* a long list folds between mailboxes */
    struct header_mailbox many[40];
    char names[40][32];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof(names[i]), "user%02d@example.com", i);
        many[i].display = i % 2 ? "Some Name" : NULL;
        many[i].addr = names[i];
    }
    TT_EQ_INT(render_header_mailboxes(&b, "To", many, 40, err, sizeof(err)), 0);
    lines_ok(buf_ptr(&b), 78);
    for (int i = 0; i < 40; i++)
        TT_ASSERT(strstr(buf_ptr(&b), names[i]) != NULL);
    buf_free(&b);
    buf_free(&d);
}

TT_TEST(rfc2231_params)
{
    struct buf b = BUF_INIT(8192);
    struct header_w w;

    render_header_begin(&w, &b, "Content-Disposition");
    render_header_put(&w, " ", 1, "attachment", 10);
    render_header_param(&w, "filename", "name.pdf", 8);
    TT_EQ_INT(render_header_end(&w), 0);
    TT_EQ_STR(buf_ptr(&b), "Content-Disposition: attachment; filename=\"name.pdf\"\r\n");
    buf_reset(&b);
    const char *n = "R\xc3\xa9sum\xc3\xa9 2024.pdf";
    render_header_begin(&w, &b, "Content-Disposition");
    render_header_put(&w, " ", 1, "attachment", 10);
    render_header_param(&w, "filename", n, strlen(n));
    TT_EQ_INT(render_header_end(&w), 0);
    TT_EQ_STR(buf_ptr(&b),
              "Content-Disposition: attachment; filename*=UTF-8''R%C3%A9sum%C3%A9%202024.pdf\r\n");
    buf_reset(&b);
    /* a long name: numbered continuations, no %XX cut in two */
    char longname[400];
    size_t ln = 0;
    for (int i = 0; i < 40; i++)
        ln += (size_t)snprintf(longname + ln, sizeof(longname) - ln, "\xc3\xa4x");
    render_header_begin(&w, &b, "Content-Disposition");
    render_header_put(&w, " ", 1, "attachment", 10);
    render_header_param(&w, "filename", longname, strlen(longname));
    TT_EQ_INT(render_header_end(&w), 0);
    lines_ok(buf_ptr(&b), 78);
    TT_ASSERT(strstr(buf_ptr(&b), "filename*0*=UTF-8''") != NULL);
    TT_ASSERT(strstr(buf_ptr(&b), "filename*1*=") != NULL);
    /* reassemble the segments and check the percent-encoding */
    struct buf all = BUF_INIT(8192);
    for (int seg = 0;; seg++) {
        char key[32];
        snprintf(key, sizeof(key), "filename*%d*=", seg);
        const char *p = strstr(buf_ptr(&b), key);
        if (!p)
            break;
        p += strlen(key);
        if (seg == 0)
            p += 7; /* UTF-8'' */
        while (*p && *p != ';' && *p != '\r')
            buf_putc(&all, *p++);
    }
    struct buf dec = BUF_INIT(8192);
    for (const char *p = buf_ptr(&all); *p; p++) {
        if (*p == '%') {
            unsigned char x;
            TT_ASSERT(codec_hex_decode(&x, p + 1, 1) == 0);
            buf_putc(&dec, x);
            p += 2;
        } else
            buf_putc(&dec, *p);
    }
    TT_EQ_STR(buf_ptr(&dec), longname);
    buf_free(&b);
    buf_free(&all);
    buf_free(&dec);
}

TT_TEST(date_format)
{
    char d[40];

    TT_EQ_STR(render_header_date(d, sizeof(d), 1747212950817LL), "Wed, 14 May 2025 08:55:50 +0000");
    TT_EQ_STR(render_header_date(d, sizeof(d), 0), "Thu, 1 Jan 1970 00:00:00 +0000");
}

TT_TEST(buffer_limit_is_an_error)
{
    struct buf b = BUF_INIT(20);
    char err[200];

    TT_EQ_INT(render_header_unstructured(&b, "Subject", "Hello world, this is long", 25, NULL, 0,
                                         err, sizeof(err)),
              -1);
    buf_free(&b);
}

TT_MAIN(TT_CASE(ascii_subject_as_is), TT_CASE(forced_b_and_q), TT_CASE(utf8_subject_q),
        TT_CASE(latin1_subject), TT_CASE(utf16_words_have_no_bom), TT_CASE(long_ascii_folds_at_78),
        TT_CASE(long_utf8_subject_words), TT_CASE(no_header_injection),
        TT_CASE(encoded_word_lookalike_is_encoded), TT_CASE(very_long_word_stays_under_998),
        TT_CASE(mailboxes), TT_CASE(rfc2231_params), TT_CASE(date_format),
        TT_CASE(buffer_limit_is_an_error))
