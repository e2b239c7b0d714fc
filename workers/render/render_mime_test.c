/* render_mime_test - text parts, encodings, attachments, body structure */
#include "../../tests/harness/ttest.h"
#include "util/codec.h"
#include "workers/render/render_mime.h"

/* max_line - longest line (octets before CRLF); fails on a bare CR or LF */
static size_t max_line(const char *s, size_t len)
{
    size_t col = 0, max = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') {
            if (col > max)
                max = col;
            col = 0;
            i++;
            continue;
        }
        if (s[i] == '\r' || s[i] == '\n')
            TT_FAIL("bare CR or LF at %zu", i);
        col++;
    }
    return col > max ? col : max;
}

TT_TEST(crlf_normalization)
{
    struct buf b = BUF_INIT(1024);

    TT_EQ_INT(render_mime_crlf(&b, "a\nb\r\nc\rd\n\n", 11), 0);
    TT_EQ_STR(buf_ptr(&b), "a\r\nb\r\nc\r\nd\r\n\r\n");
    buf_free(&b);
}

TT_TEST(qp_roundtrip_and_limits)
{
    struct buf in = BUF_INIT(1 << 20), enc = BUF_INIT(1 << 20), dec = BUF_INIT(1 << 20);

    for (int i = 0; i < 300; i++)
        buf_puts(&in, "Gr\xc3\xbc\xc3\x9f"
                      "e = sign, tab\there, trailing space \r\n");
    for (int i = 0; i < 500; i++)
        buf_putc(&in, 'x');
    buf_puts(&in, " \t");
    TT_EQ_INT(render_mime_qp_encode(&enc, (const unsigned char *)in.data, in.len, 0), 0);
    TT_ASSERT(max_line(enc.data, enc.len) <= 76);
    TT_ASSERT(strstr(buf_ptr(&enc), " \r\n") ==
              NULL); /* white space before a line end is encoded */
    TT_ASSERT(enc.data[enc.len - 1] != ' ' && enc.data[enc.len - 1] != '\t');
    TT_EQ_INT(codec_qp_decode(&dec, enc.data, enc.len), 0);
    TT_EQ_MEM(dec.data, dec.len, in.data, in.len);
    buf_free(&in);
    buf_free(&enc);
    buf_free(&dec);
}

TT_TEST(qp_binary_encodes_line_breaks)
{
    struct buf enc = BUF_INIT(1024), dec = BUF_INIT(1024);
    const unsigned char data[] = {0x00, 'a', 0x0d, 0x0a, 0xff};

    TT_EQ_INT(render_mime_qp_encode(&enc, data, sizeof(data), 1), 0);
    TT_EQ_STR(buf_ptr(&enc), "=00a=0D=0A=FF");
    TT_EQ_INT(codec_qp_decode(&dec, enc.data, enc.len), 0);
    TT_EQ_MEM(dec.data, dec.len, data, sizeof(data));
    buf_free(&enc);
    buf_free(&dec);
}

TT_TEST(base64_reline)
{
    struct buf in = BUF_INIT(1 << 20), b64 = BUF_INIT(1 << 20), out = BUF_INIT(1 << 20);
    struct buf dec = BUF_INIT(1 << 20);

    for (int i = 0; i < 10000; i++)
        buf_putc(&in, i * 7);
    codec_b64_encode(&b64, in.data, in.len);
    TT_EQ_INT(render_mime_b64_reline(&out, b64.data, b64.len), 0);
    TT_ASSERT(max_line(out.data, out.len) == 76);
    TT_ASSERT(out.data[out.len - 1] != '\n');
    TT_EQ_INT(codec_b64_decode(&dec, out.data, out.len, 0), 0);
    TT_EQ_MEM(dec.data, dec.len, in.data, in.len);
    buf_reset(&out);
    TT_EQ_INT(render_mime_b64_reline(&out, "bmFt\r\nZQ==", 10), 0); /* line breaks in the input */
    TT_EQ_STR(buf_ptr(&out), "bmFtZQ==");
    buf_reset(&out);
    TT_EQ_INT(render_mime_b64_reline(&out, "bmFtZQ=", 7), -1);
    buf_reset(&out);
    TT_EQ_INT(render_mime_b64_reline(&out, "bm!tZQ==", 8), -1);
    buf_reset(&out);
    TT_EQ_INT(render_mime_b64_reline(&out, "bmF=ZQ==", 8), -1);
    buf_free(&in);
    buf_free(&b64);
    buf_free(&out);
    buf_free(&dec);
}

static int entity(struct buf *out, const char *text, const char *cs, const char *cte,
                  const char *sub)
{
    struct mime_text t = {text, strlen(text), cs, cte, sub};
    char err[200];

    return render_mime_text_entity(out, &t, err, sizeof(err));
}

TT_TEST(text_transfer_encodings)
{
    struct buf b = BUF_INIT(1 << 20);

    TT_EQ_INT(entity(&b, "hello\nworld", NULL, NULL, "plain"), 0);
    TT_EQ_STR(buf_ptr(&b), "Content-Type: text/plain; charset=UTF-8\r\n"
                           "Content-Transfer-Encoding: 7bit\r\n\r\nhello\r\nworld");
    buf_reset(&b);
    TT_EQ_INT(entity(&b, "gr\xc3\xbc\xc3\x9f", NULL, NULL, "plain"), 0);
    TT_ASSERT(strstr(buf_ptr(&b),
                     "Content-Transfer-Encoding: quoted-printable\r\n\r\ngr=C3=BC=C3=9F") != NULL);
    buf_reset(&b);
    TT_EQ_INT(entity(&b, "plain alternative", "UTF-8", "base64", "plain"), 0);
    TT_ASSERT(strstr(buf_ptr(&b), "base64\r\n\r\ncGxhaW4gYWx0ZXJuYXRpdmU=") != NULL);
    buf_reset(&b);
    TT_EQ_INT(entity(&b, "<p>x</p>", NULL, "quoted-printable", "html"), 0);
    TT_ASSERT(strstr(buf_ptr(&b),
                     "Content-Type: text/html; charset=UTF-8\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>x</p>") != NULL);
    buf_reset(&b);
    /* a line too long for 7bit, and text that looks like a boundary */
    struct buf t = BUF_INIT(4096);
    for (int i = 0; i < 1200; i++)
        buf_putc(&t, 'a');
    TT_EQ_INT(entity(&b, t.data, NULL, NULL, "plain"), 0);
    TT_ASSERT(strstr(buf_ptr(&b), "quoted-printable") != NULL);
    TT_ASSERT(max_line(b.data, b.len) <= 76);
    buf_reset(&b);
    TT_EQ_INT(entity(&b, "--=_tx0_1", NULL, NULL, "plain"), 0);
    TT_ASSERT(strstr(buf_ptr(&b), "quoted-printable\r\n\r\n--=3D_tx0_1") != NULL);
    buf_free(&b);
    buf_free(&t);
}

TT_TEST(text_charsets)
{
    struct buf b = BUF_INIT(1 << 20);
    char err[200];

    TT_EQ_INT(entity(&b, "gr\xc3\xbc\xc3\x9f", "ISO-8859-1", NULL, "plain"), 0);
    TT_ASSERT(
        strstr(
            buf_ptr(&b),
            "charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ngr=FC=DF") !=
        NULL);
    buf_reset(&b);
    /* contract §8.3: without a requested encoding, not 7bit means quoted-printable,
     * octet for octet for a charset that is not ASCII-compatible */
    TT_EQ_INT(entity(&b, "a\nb", "UTF-16", NULL, "plain"), 0);
    TT_ASSERT(strstr(buf_ptr(&b),
                     "charset=UTF-16\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                     "=FF=FEa=00=0D=00=0A=00b=00") != NULL);
    buf_reset(&b);
    TT_EQ_INT(entity(&b, "ab", "UTF-16BE", "base64", "plain"), 0);
    TT_ASSERT(strstr(buf_ptr(&b),
                     "charset=UTF-16BE\r\nContent-Transfer-Encoding: base64\r\n\r\nAGEAYg==") !=
              NULL);
    buf_reset(&b);
    struct mime_text t = {"\xe2\x82\xac", 3, "ISO-8859-1", NULL, "plain"};
    TT_EQ_INT(render_mime_text_entity(&b, &t, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "cannot be represented") != NULL);
    buf_reset(&b);
    struct mime_text u = {"x", 1, "NOPE-CHARSET", NULL, "plain"};
    TT_EQ_INT(render_mime_text_entity(&b, &u, err, sizeof(err)), -1);
    buf_reset(&b);
    struct mime_text v = {"x", 1, "UTF-8\r\nX: y", NULL, "plain"};
    TT_EQ_INT(render_mime_text_entity(&b, &v, err, sizeof(err)), -1);
    buf_free(&b);
}

TT_TEST(attachment_entities)
{
    struct buf b = BUF_INIT(1 << 20);
    char err[200];
    struct mime_attachment a = {"name.pdf", "application/pdf", NULL, "bmFtZQ==", 8};

    TT_EQ_INT(render_mime_attachment_entity(&b, &a, 0, err, sizeof(err)), 0);
    TT_EQ_STR(buf_ptr(&b),
              "Content-Type: application/pdf; name=\"name.pdf\"\r\n"
              "Content-Transfer-Encoding: base64\r\n"
              "Content-Disposition: attachment; filename=\"name.pdf\"\r\n\r\nbmFtZQ==");
    buf_reset(&b);
    struct mime_attachment i = {"logo.png", "image/png", "<logo1>", "bmFtZQ==", 8};
    TT_EQ_INT(render_mime_attachment_entity(&b, &i, 1, err, sizeof(err)), 0);
    TT_ASSERT(
        strstr(buf_ptr(&b),
               "Content-Disposition: inline; filename=\"logo.png\"\r\nContent-ID: <logo1>\r\n") !=
        NULL);
    buf_reset(&b);
    struct mime_attachment bad = {"x.bin", "not a type", NULL, "bmFtZQ==", 8};
    TT_EQ_INT(render_mime_attachment_entity(&b, &bad, 0, err, sizeof(err)), 0);
    TT_ASSERT(strstr(buf_ptr(&b), "Content-Type: application/octet-stream;") != NULL);
    buf_reset(&b);
    struct mime_attachment inv = {"x.bin", "a/b", NULL, "!!!!", 4};
    TT_EQ_INT(render_mime_attachment_entity(&b, &inv, 0, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "not valid base64") != NULL);
    buf_free(&b);
}

TT_TEST(structure_mixed_alternative_related)
{
    struct buf plain = BUF_INIT(1 << 20), html = BUF_INIT(1 << 20), inl = BUF_INIT(1 << 20);
    struct buf att = BUF_INIT(1 << 20), out = BUF_INIT(1 << 20);
    char err[200];
    size_t off;

    entity(&plain, "plain", NULL, NULL, "plain");
    entity(&html, "<img src=\"cid:logo\">", NULL, NULL, "html");
    struct mime_attachment i = {"logo.png", "image/png", "logo", "bmFtZQ==", 8};
    struct mime_attachment a = {"a.pdf", "application/pdf", NULL, "bmFtZQ==", 8};
    render_mime_attachment_entity(&inl, &i, 1, err, sizeof(err));
    render_mime_attachment_entity(&att, &a, 0, err, sizeof(err));
    const struct buf *inls[] = {&inl}, *atts[] = {&att};
    struct mime_spec s = {&plain, &html, inls, 1, atts, 1, "job/0"};
    TT_EQ_INT(render_mime_build(&out, &s, &off, err, sizeof(err)), 0);
    const char *m = buf_ptr(&out);
    const char *mixed = strstr(m, "multipart/mixed"), *alt = strstr(m, "multipart/alternative");
    const char *rel = strstr(m, "multipart/related"), *tp = strstr(m, "text/plain");
    const char *th = strstr(m, "text/html"), *png = strstr(m, "image/png"),
               *pdf = strstr(m, "application/pdf");
    TT_ASSERT(mixed == m + strlen("Content-Type: "));
    TT_ASSERT(mixed && alt && rel && tp && th && png && pdf);
    TT_ASSERT(mixed < alt && alt < tp && tp < rel && rel < th && th < png && png < pdf);
    TT_ASSERT(strstr(m, "type=\"text/html\"") != NULL);
    TT_EQ_MEM(m + off - 4, 4, "\r\n\r\n", 4);
    TT_ASSERT(max_line(out.data, out.len) <= 998);
    /* every boundary that opens also closes */
    for (int lvl = 1; lvl <= 3; lvl++) {
        char needle[16];
        snprintf(needle, sizeof(needle), "_%d\"", lvl);
        const char *bp = strstr(m, needle);
        TT_ASSERT(bp != NULL);
        const char *q = bp;
        while (q > m && q[-1] != '"')
            q--;
        char close[80];
        snprintf(close, sizeof(close), "--%.*s--", (int)(bp + 2 - q), q);
        TT_ASSERT(strstr(m, close) != NULL);
    }
    /* the same seed gives the same bytes */
    struct buf again = BUF_INIT(1 << 20);
    size_t off2;
    TT_EQ_INT(render_mime_build(&again, &s, &off2, err, sizeof(err)), 0);
    TT_EQ_MEM(again.data, again.len, out.data, out.len);
    buf_free(&plain);
    buf_free(&html);
    buf_free(&inl);
    buf_free(&att);
    buf_free(&out);
    buf_free(&again);
}

TT_TEST(structure_simple_cases)
{
    struct buf plain = BUF_INIT(4096), out = BUF_INIT(4096);
    char err[200];
    size_t off;
    struct mime_spec none = {NULL, NULL, NULL, 0, NULL, 0, "s"};

    TT_EQ_INT(render_mime_build(&out, &none, &off, err, sizeof(err)), 0);
    TT_EQ_STR(buf_ptr(&out),
              "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n");
    TT_EQ_INT(off, out.len);
    buf_reset(&out);
    entity(&plain, "only", NULL, NULL, "plain");
    struct mime_spec p = {&plain, NULL, NULL, 0, NULL, 0, "s"};
    TT_EQ_INT(render_mime_build(&out, &p, &off, err, sizeof(err)), 0);
    TT_EQ_STR(buf_ptr(&out) + off, "only");
    buf_free(&plain);
    buf_free(&out);
}

TT_TEST(size_limit)
{
    struct buf b = BUF_INIT(1000);
    struct buf t = BUF_INIT(1 << 20);
    char err[200];

    for (int i = 0; i < 5000; i++)
        buf_putc(&t, 'x');
    struct mime_text m = {t.data, t.len, NULL, NULL, "plain"};
    TT_EQ_INT(render_mime_text_entity(&b, &m, err, sizeof(err)), -1);
    TT_ASSERT(strstr(err, "too large") != NULL);
    buf_free(&b);
    buf_free(&t);
}

TT_MAIN(TT_CASE(crlf_normalization), TT_CASE(qp_roundtrip_and_limits),
        TT_CASE(qp_binary_encodes_line_breaks), TT_CASE(base64_reline),
        TT_CASE(text_transfer_encodings), TT_CASE(text_charsets), TT_CASE(attachment_entities),
        TT_CASE(structure_mixed_alternative_related), TT_CASE(structure_simple_cases),
        TT_CASE(size_limit))
