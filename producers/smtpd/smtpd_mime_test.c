/* smtpd_mime_test - header fields, RFC 2047/2231, attachment names (From: in smtpd_msghdr_test) */
#include "../../tests/harness/ttest.h"
#include "smtpd_mime.h"
#include "global/account.h"

static const char *param(const char *v, const char *name, struct buf *b)
{
    buf_free(b);
    buf_init(b, 1 << 20);
    return smtpd_mime_param(v, strlen(v), name, b) == 0 ? buf_ptr(b) : NULL;
}

TT_TEST(fields_and_folding)
{
    const char *m = "From: a@example.com\r\nSubject: one\r\n two\r\nX-A:b\r\n\r\nbody\r\n";
    struct smtpd_fields fs;
    struct buf v = BUF_INIT(1000);

    TT_EQ_INT(smtpd_mime_fields(m, strlen(m), &fs, 100), 0);
    TT_EQ_INT(fs.n, 3);
    TT_ASSERT(smtpd_mime_field_is(&fs.f[1], "subject"));
    smtpd_mime_unfold(fs.f[1].value, fs.f[1].value_len, &v);
    TT_EQ_STR(buf_ptr(&v), "one two");
    TT_EQ_STR(m + fs.body_off, "body\r\n");
    TT_EQ_INT(fs.f[2].off + fs.f[2].len, fs.body_off - 2);
    smtpd_mime_fields_free(&fs);
    /* a line that is no field starts the body; the limit is enforced */
    m = "A: 1\r\nnot a header line\r\nB: 2\r\n";
    TT_EQ_INT(smtpd_mime_fields(m, strlen(m), &fs, 100), 0);
    TT_EQ_INT(fs.n, 1);
    TT_EQ_STR(m + fs.body_off, "not a header line\r\nB: 2\r\n");
    smtpd_mime_fields_free(&fs);
    TT_EQ_INT(smtpd_mime_fields("A: 1\r\nB: 2\r\nC: 3\r\n\r\n", 21, &fs, 2), -1);
    smtpd_mime_fields_free(&fs);
    buf_free(&v);
}

TT_TEST(encoded_words)
{
    struct buf b = BUF_INIT(1000);
    const char *in = "=?UTF-8?B?w6RiYw==?= =?ISO-8859-1?Q?_=E4x?= tail =?bogus";

    smtpd_mime_decode2047(in, strlen(in), &b);
    TT_EQ_STR(buf_ptr(&b), "\xc3\xa4"
                           "bc \xc3\xa4x tail =?bogus");
    buf_reset(&b);
    in = "=?utf-8?b?w6RiYw?="; /* padding left out */
    smtpd_mime_decode2047(in, strlen(in), &b);
    TT_EQ_STR(buf_ptr(&b), "\xc3\xa4"
                           "bc");
    buf_free(&b);
}

TT_TEST(parameters)
{
    struct buf b = BUF_INIT(0);
    char type[64];

    TT_EQ_STR(param("attachment; filename=\"a b.exe\"", "filename", &b), "a b.exe");
    TT_EQ_STR(param("attachment; FILENAME=plain.txt; size=3", "filename", &b), "plain.txt");
    TT_EQ_STR(param("attachment; filename*=UTF-8''%E2%82%AC.exe", "filename", &b),
              "\xe2\x82\xac.exe");
    TT_EQ_STR(param("attachment; filename*0*=UTF-8''%E2%82%AC; filename*1=\".e\"; filename*2=xe",
                    "filename", &b),
              "\xe2\x82\xac.exe");
    TT_EQ_STR(param("application/x; name=\"=?UTF-8?Q?r=C3=A9sum=C3=A9.exe?=\"", "name", &b),
              "r\xc3\xa9sum\xc3\xa9.exe");
    TT_EQ_STR(param("text/plain (comment; name=x.exe); charset=utf-8", "charset", &b), "utf-8");
    TT_ASSERT(param("text/plain; charset=utf-8", "name", &b) == NULL);
    TT_EQ_STR(param("multipart/mixed;\tboundary=\"==b;1==\"", "boundary", &b), "==b;1==");
    smtpd_mime_type(" Multipart/Mixed ; boundary=x", 29, type, sizeof(type));
    TT_EQ_STR(type, "multipart/mixed");
    smtpd_mime_type("garbage", 7, type, sizeof(type));
    TT_EQ_STR(type, "");
    buf_free(&b);
}

TT_TEST(forbidden_names)
{
    json_t *st = account_settings(NULL);

    TT_EQ_INT(smtpd_mime_name_forbidden(st, "run.EXE", 7), 1);
    TT_EQ_INT(smtpd_mime_name_forbidden(st, "run.exe. .", 10), 1);
    TT_EQ_INT(smtpd_mime_name_forbidden(st, "doc.pdf", 7), 0);
    TT_EQ_INT(smtpd_mime_name_forbidden(st, "exe", 3), 0);
    TT_EQ_INT(smtpd_mime_name_forbidden(st, "dir.exe/file", 12), 0);
    TT_EQ_INT(smtpd_mime_name_forbidden(st, "a.tar.js", 8), 1);
    json_decref(st);
}

static int walk(const char *m, struct buf *name)
{
    json_t *st = account_settings(NULL);
    int r = (int)smtpd_mime_attachments(m, strlen(m), st, name);

    json_decref(st);
    return r;
}

TT_TEST(attachments)
{
    struct buf name = BUF_INIT(1000);
    const char *ok = "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                     "preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
                     "--b1\r\nContent-Type: application/pdf; name=\"x.pdf\"\r\n"
                     "Content-Disposition: attachment; "
                     "filename=\"x.pdf\"\r\n\r\nJVBER\r\n--b1--\r\nepilogue\r\n";
    TT_EQ_INT(walk(ok, &name), SMTPD_MIME_OK);
    const char *nested = "Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
                         "--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
                         "--inner\r\nContent-Type: text/plain\r\n\r\nx\r\n--inner--\r\n"
                         "--outer\r\nContent-Type: message/rfc822\r\n\r\n"
                         "Subject: fwd\r\nContent-Type: multipart/mixed; boundary=deep\r\n\r\n"
                         "--deep\r\nContent-Type: application/octet-stream\r\n"
                         "Content-Disposition: attachment;\r\n "
                         "filename*=UTF-8''inv%C3%B6ice.exe\r\n\r\nTVqQ\r\n--deep--\r\n"
                         "--outer--\r\n";
    TT_EQ_INT(walk(nested, &name), SMTPD_MIME_FORBIDDEN);
    TT_EQ_STR(buf_ptr(&name), "inv\xc3\xb6ice.exe");
    /* a boundary that is only a prefix of a line is no delimiter */
    const char *prefix =
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
        "--bx not a delimiter\r\n--b\r\nContent-Type: text/plain; "
        "name=run.bat\r\n\r\nx\r\n--b--\r\n";
    TT_EQ_INT(walk(prefix, &name), SMTPD_MIME_FORBIDDEN);
    TT_EQ_STR(buf_ptr(&name), "run.bat");
    /* a single-part message that is itself an attachment */
    TT_EQ_INT(walk("Content-Type: application/x; name=\"a.scr\"\r\n\r\nx\r\n", &name),
              SMTPD_MIME_FORBIDDEN);
    /* nesting beyond the bound */
    struct buf deep = BUF_INIT(1 << 20);
    for (int i = 0; i < 40; i++)
        buf_printf(&deep, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
    buf_puts(&deep, "Content-Type: text/plain\r\n\r\nx\r\n");
    TT_EQ_INT(walk(buf_ptr(&deep), &name), SMTPD_MIME_COMPLEX);
    /* truncated and malformed structures end quietly */
    TT_EQ_INT(
        walk("Content-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: te", &name),
        SMTPD_MIME_OK);
    TT_EQ_INT(walk("Content-Type: multipart/mixed\r\n\r\n--z\r\n", &name), SMTPD_MIME_OK);
    buf_free(&deep);
    buf_free(&name);
}

TT_MAIN(TT_CASE(fields_and_folding), TT_CASE(encoded_words), TT_CASE(parameters),
        TT_CASE(forbidden_names), TT_CASE(attachments))
