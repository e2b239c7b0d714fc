/* deliver_dot_test - the DATA-phase dot-stuffing writer */
#include "tests/harness/ttest.h"
#include "workers/deliver/deliver.h"

/*
 * reference - the transform written the obvious way, byte by byte: every
 * line end (CRLF, bare CR, bare LF) becomes CRLF, then a line starting
 * with '.' gets one more
 */
static size_t reference(const char *in, size_t len, char *out)
{
    size_t o = 0;
    int bol = 1, cr = 0;

    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '\n' && cr) { /* the LF of a CRLF already written */
            cr = 0;
            continue;
        }
        cr = 0;
        if (c == '\r' || c == '\n') {
            out[o++] = '\r';
            out[o++] = '\n';
            bol = 1;
            cr = c == '\r';
            continue;
        }
        if (bol && c == '.')
            out[o++] = '.';
        out[o++] = c;
        bol = 0;
    }
    if (!bol) {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    memcpy(out + o, ".\r\n", 3);
    return o + 3;
}

/* run - the writer with output chunks of cap bytes and input pieces of piece bytes */
static size_t run(const char *in, size_t len, char *out, size_t cap, size_t piece)
{
    struct dotstuff d;
    size_t pos = 0, o = 0;

    deliver_dot_init(&d);
    while (pos < len) {
        size_t end = pos + piece < len ? pos + piece : len;
        while (pos < end) {
            size_t used = 0;
            size_t n = deliver_dot_run(&d, in + pos, end - pos, out + o, cap, &used);
            TT_ASSERT(n <= cap);
            TT_ASSERT(n > 0 || used > 0);
            o += n;
            pos += used;
        }
    }
    return o + deliver_dot_end(&d, out + o);
}

static void same(const char *in, size_t len)
{
    static char want[1 << 16], got[1 << 16];
    size_t wl = reference(in, len, want);
    size_t caps[] = {2, 3, 4, 7, 64, 65536};
    size_t pieces[] = {1, 2, 5, 1000000};

    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++)
        for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
            size_t gl = run(in, len, got, caps[c], pieces[p]);
            TT_EQ_MEM(got, gl, want, wl);
        }
}

TT_TEST(plain_crlf_message)
{
    const char msg[] = "Subject: x\r\n\r\nhello\r\n";
    char out[256];
    size_t n = run(msg, sizeof(msg) - 1, out, 65536, 1000);

    const char want[] = "Subject: x\r\n\r\nhello\r\n.\r\n";

    TT_EQ_MEM(out, n, want, sizeof(want) - 1);
}

TT_TEST(leading_dots_doubled)
{
    const char msg[] = ".first\r\nmid.dle\r\n.\r\n..two\r\n. \r\n";
    char out[256];
    size_t n = run(msg, sizeof(msg) - 1, out, 65536, 1000);
    const char want[] = "..first\r\nmid.dle\r\n..\r\n...two\r\n.. \r\n.\r\n";

    TT_EQ_MEM(out, n, want, sizeof(want) - 1);
}

TT_TEST(bare_lf_and_missing_final_newline)
{
    const char msg[] = "a\nb\r\n.c\nlast";
    char out[256];
    size_t n = run(msg, sizeof(msg) - 1, out, 65536, 1000);
    const char want[] = "a\r\nb\r\n..c\r\nlast\r\n.\r\n";

    TT_EQ_MEM(out, n, want, sizeof(want) - 1);
}

TT_TEST(empty_message)
{
    char out[16];
    size_t n = run("", 0, out, 16, 1);

    TT_EQ_MEM(out, n, ".\r\n", 3);
}

TT_TEST(chunk_boundaries_match_reference)
{
    static const char *const cases[] = {
        ".",         "..",      "\n.",
        "\r\n.\r\n", "x\r",     "x\r\r\n.",
        ".\n.\n.\n", "\r.\r\n", "line\r\n.line\r\n..\r\n\n\n.\r",
        NULL,
    };

    for (int i = 0; cases[i]; i++)
        same(cases[i], strlen(cases[i]));
}

/* clean - every CR is followed by LF and every LF follows a CR; the only
 * CRLF "." CRLF is the terminator at the very end */
static void clean(const char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '\r')
            TT_ASSERT(i + 1 < n && out[i + 1] == '\n');
        if (out[i] == '\n')
            TT_ASSERT(i > 0 && out[i - 1] == '\r');
        int bol = i == 0 || (i >= 2 && out[i - 2] == '\r' && out[i - 1] == '\n');
        if (bol && i + 3 < n)
            TT_ASSERT(!(out[i] == '.' && out[i + 1] == '\r' && out[i + 2] == '\n'));
    }
    TT_ASSERT(n >= 3 && memcmp(out + n - 3, ".\r\n", 3) == 0);
    TT_ASSERT(n == 3 || (n >= 5 && out[n - 5] == '\r' && out[n - 4] == '\n'));
}

/* SMTP smuggling (bare CR / bare LF around a dot): no end of data can be
 * emitted early, every line end leaves as CRLF, the dot is doubled */
TT_TEST(smuggling_variants_normalised)
{
    static const struct {
        const char *in, *want;
    } t[] = {
        {"a\r\n.\rMAIL FROM:<x@y>\r\n", "a\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n"},
        {"a\n.\nMAIL FROM:<x@y>\n", "a\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n"},
        {"a\r.\r\nMAIL FROM:<x@y>\r\n", "a\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n"},
        {"a\n.\r\nMAIL FROM:<x@y>\r\n", "a\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n"},
        {"a\r.\rb", "a\r\n..\r\nb\r\n.\r\n"},
        {"a\r\n.\nb", "a\r\n..\r\nb\r\n.\r\n"},
        {"a\r\r\n.\r\r\n", "a\r\n\r\n..\r\n\r\n.\r\n"},
        {"a\n\r.\n\r", "a\r\n\r\n..\r\n\r\n.\r\n"},
        {"\r.\r", "\r\n..\r\n.\r\n"},
        {".\r", "..\r\n.\r\n"},
        {"x\r", "x\r\n.\r\n"},
    };
    char out[256];

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        for (size_t piece = 1; piece <= 3; piece++) {
            size_t n = run(t[i].in, strlen(t[i].in), out, 2, piece);
            TT_EQ_MEM(out, n, t[i].want, strlen(t[i].want));
            clean(out, n);
        }
        same(t[i].in, strlen(t[i].in));
    }
}

TT_TEST(random_content_matches_reference)
{
    static char buf[20000];
    unsigned x = 12345;
    const char alphabet[] = ".\r\nab.";

    for (int round = 0; round < 30; round++) {
        size_t len = (size_t)(round * 311) % sizeof(buf);
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
        }
        same(buf, len);
        static char out[70000];
        clean(out, run(buf, len, out, 7, 5));
    }
}

TT_MAIN(TT_CASE(plain_crlf_message), TT_CASE(leading_dots_doubled),
        TT_CASE(bare_lf_and_missing_final_newline), TT_CASE(empty_message),
        TT_CASE(chunk_boundaries_match_reference), TT_CASE(smuggling_variants_normalised),
        TT_CASE(random_content_matches_reference))
