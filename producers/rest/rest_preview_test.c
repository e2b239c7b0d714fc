/* rest_preview_test - the Trace & Recover preview: the UTF-8 cut and the text of a message (plain, encoded, HTML only, hostile) */
#include "tests/harness/ttest.h"
#include "producers/rest/rest_preview.h"

#include <stdio.h>
#include <string.h>

static char got[8192];

static const char *cut(const char *s, size_t len, size_t n)
{
    struct buf b = BUF_INIT(sizeof(got));

    rest_preview_cut(s, len, n, &b);
    snprintf(got, sizeof(got), "%s", b.data ? b.data : "");
    buf_free(&b);
    return got;
}

static const char *preview(const char *raw)
{
    json_t *j = rest_preview_text(raw, strlen(raw));

    snprintf(got, sizeof(got), "%s", json_string_value(j));
    json_decref(j);
    return got;
}

TT_TEST(utf8_cut)
{
    /* counts code points: 2 ASCII, a 2-byte, a 3-byte and a 4-byte character */
    const char *s = "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";

    TT_EQ_STR(cut(s, strlen(s), 2), "ab");
    TT_EQ_STR(cut(s, strlen(s), 3), "ab\xc3\xa9");
    TT_EQ_STR(cut(s, strlen(s), 4), "ab\xc3\xa9\xe2\x82\xac");
    TT_EQ_STR(cut(s, strlen(s), 5), "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    TT_EQ_STR(cut(s, strlen(s), 100), s);
    /* a sequence cut short by the end of the text is not copied in part */
    TT_EQ_STR(cut(s, 5, 100), "ab\xc3\xa9\xef\xbf\xbd");
    /* a byte that is not UTF-8 (latin-1, overlong, stray continuation) becomes U+FFFD */
    TT_EQ_STR(cut("a\xe9z", 3, 10), "a\xef\xbf\xbdz");
    TT_EQ_STR(cut("\xc0\xaf", 2, 10), "\xef\xbf\xbd\xef\xbf\xbd");
    TT_EQ_STR(cut("\x80x", 2, 10), "\xef\xbf\xbdx");
    /* carriage returns are left out and not counted */
    TT_EQ_STR(cut("a\r\nb\r\nc", 7, 4), "a\nb\n");
}

TT_TEST(text_plain_qp_and_base64)
{
    TT_EQ_STR(preview("From: a@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                      "Gr=C3=BC=C3=9Fe aus K=C3=B6ln=\r\n, zusammen\r\n"),
              "Grüße aus Köln, zusammen");
    TT_EQ_STR(preview("From: a@example.com\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=iso-8859-1\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n"
                      "R3L832UK\r\n"),
              "Grüße");
}

TT_TEST(alternative_prefers_plain)
{
    TT_EQ_STR(
        preview("From: a@example.com\r\nMIME-Version: 1.0\r\n"
                "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
                "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain text\r\n"
                "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html <b>text</b></p>\r\n"
                "--b--\r\n"),
        "plain text");
}

TT_TEST(html_only_stripped)
{
    TT_EQ_STR(preview("From: a@example.com\r\nMIME-Version: 1.0\r\n"
                      "Content-Type: text/html; charset=utf-8\r\n\r\n"
                      "<html><body><p>Hello <b>there</b> &amp; welcome</p>"
                      "<div>line two</div></body></html>\r\n"),
              "Hello there & welcome\nline two");
}

TT_TEST(long_text_cut_at_1000_characters)
{
    char raw[8000];
    size_t at = (size_t)snprintf(raw, sizeof(raw),
                                 "From: a@example.com\r\nContent-Type: text/plain; "
                                 "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
    for (int i = 0; i < 999; i++)
        raw[at++] = 'x';
    memcpy(raw + at, "\xe2\x82\xac\xe2\x82\xac tail\r\n", 13);
    raw[at + 13] = 0;
    const char *p = preview(raw);
    TT_EQ_INT(strlen(p), 999 + 3);
    TT_ASSERT(memcmp(p + 999, "\xe2\x82\xac", 3) == 0);
}

TT_TEST(hostile)
{
    /* not a message, no body, binary garbage: an empty or replaced text, never a crash */
    TT_EQ_STR(preview(""), "");
    TT_EQ_STR(preview("From: a@example.com\r\n\r\n"), "");
    const char bin[] = "Content-Type: text/plain; charset=x-unknown\r\n\r\n\xff\xfe\x00\x01";
    json_t *j = rest_preview_text(bin, sizeof(bin) - 1);
    TT_ASSERT(json_is_string(j));
    json_decref(j);
    const char nest[] = "Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n"
                        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                        "Content-Type: text/plain\r\n\r\ndeep\r\n--b--\r\n--a--\r\n";
    TT_EQ_STR(preview(nest), "deep");
}

TT_MAIN(TT_CASE(utf8_cut), TT_CASE(text_plain_qp_and_base64), TT_CASE(alternative_prefers_plain),
        TT_CASE(html_only_stripped), TT_CASE(long_text_cut_at_1000_characters), TT_CASE(hostile))
