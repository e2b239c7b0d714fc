/* mimeparts_test - the leaf parts of a message: decoding, classification, nesting */
#include "tests/harness/ttest.h"
#include "global/scan/mimeparts.h"
#include "util/buf.h"

#include <stdio.h>
#include <string.h>

struct seen {
    int n;
    char line[16][200];
};

static int collect(const struct mimeparts_part *p, void *ctx)
{
    struct seen *s = ctx;

    if (s->n < 16)
        snprintf(s->line[s->n++], sizeof(s->line[0]), "%d %s %s %s [%.*s]", p->index, p->type,
                 p->attachment ? "att" : "body", p->name ? p->name : "-", (int)p->len,
                 (const char *)p->data);
    return 0;
}

static const char msg[] =
    "From: a@example.com\r\nTo: b@example.org\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"
    "--outer\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
    "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\nsoft=\r\nbreak =3D done\r\n"
    "--alt\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--alt--\r\n"
    "--outer\r\nContent-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename=\"a.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gYmFzZTY0\r\n"
    "--outer\r\nContent-Type: application/zip\r\n\r\nPK\r\n"
    "--outer\r\nContent-Type: text/plain\r\nContent-Disposition: inline; filename=\"n.txt\"\r\n\r\n"
    "named text\r\n"
    "--outer\r\nContent-Type: message/rfc822\r\n"
    "Content-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n"
    "Subject: inner\r\nContent-Type: text/plain\r\n\r\ninner body\r\n"
    "--outer--\r\n";

TT_TEST(parts_and_classes)
{
    struct seen s = {0};
    struct mimeparts_info info;

    TT_EQ_INT(mimeparts_walk(msg, strlen(msg), collect, &s, &info), 6);
    TT_EQ_INT(info.deeper, 0);
    TT_EQ_STR(s.line[0], "1 text/plain body - [softbreak = done]");
    TT_EQ_STR(s.line[1], "2 text/html body - [<p>hi</p>]");
    TT_EQ_STR(s.line[2], "3 application/octet-stream att a.bin [hello base64]");
    TT_EQ_STR(s.line[3], "4 application/zip att - [PK]");
    TT_EQ_STR(s.line[4], "5 text/plain att n.txt [named text]");
    TT_EQ_STR(s.line[5], "6 text/plain att fwd.eml [inner body]");
}

static int stop_at_two(const struct mimeparts_part *p, void *ctx)
{
    (*(int *)ctx)++;
    return p->index == 2;
}

TT_TEST(stop_early)
{
    int calls = 0;

    TT_EQ_INT(mimeparts_walk(msg, strlen(msg), stop_at_two, &calls, NULL), 2);
    TT_EQ_INT(calls, 2);
}

TT_TEST(too_deep)
{
    struct buf b;
    struct seen s = {0};
    struct mimeparts_info info;

    buf_init(&b, 1 << 20);
    buf_puts(&b, "Subject: deep\r\n");
    for (int i = 0; i < MIMEPARTS_DEPTH + 5; i++)
        buf_printf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
    buf_puts(&b, "Content-Type: text/plain\r\n\r\nbottom\r\n");
    for (int i = MIMEPARTS_DEPTH + 4; i >= 0; i--)
        buf_printf(&b, "--b%d--\r\n", i);
    TT_EQ_INT(mimeparts_walk(b.data, b.len, collect, &s, &info), 0);
    TT_EQ_INT(info.deeper, 1);
    buf_free(&b);
}

TT_TEST(plain_and_garbage)
{
    struct seen s = {0};
    const char *plain = "Subject: x\r\n\r\nhello\r\n";
    char noise[3000];

    TT_EQ_INT(mimeparts_walk(plain, strlen(plain), collect, &s, NULL), 1);
    TT_EQ_STR(s.line[0], "1 text/plain body - [hello\r\n]");
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (char)(i * 7 + 3);
    s.n = 0;
    TT_ASSERT(mimeparts_walk(noise, sizeof(noise), collect, &s, NULL) <= 1);
}

TT_MAIN(TT_CASE(parts_and_classes), TT_CASE(stop_early), TT_CASE(too_deep),
        TT_CASE(plain_and_garbage))
