/* tracklinks_test - link rewriting and open pixel (contract §15.2, §15.3). */
#include "global/tracking/tracklinks.h"
#include "tests/harness/ttest.h"
#include "util/buf.h"
#include "util/mymalloc.h"
#include "util/timeutil.h"

#include <stdlib.h>

#define BASE "https://t.example.com"
#define HOST "t.example.com"
#define KEYS "1:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static struct track_keys *keys;

static void setup(struct tracklinks_copy *c, int links, int open)
{
    char err[256];

    if (keys == NULL && (keys = tracktoken_keys_parse(KEYS, err, sizeof(err))) == NULL)
        TT_FAIL("keys: %s", err);
    memset(c, 0, sizeof(*c));
    c->base = BASE;
    c->keys = keys;
    TT_EQ_INT(ids_uuid_parse(&c->job, "0196c4a2-8f1e-7b3a-9c4d-1234567890ab"), 0);
    c->block = 4;
    c->addr = 9;
    c->expiry = 2000000000;
    c->links = links;
    c->open = open;
}

/* track - rewrite html; returns the output (caller frees) */
static char *track(const char *html, int links, int open, const char *const *skip, size_t nskip)
{
    struct tracklinks_copy c;
    struct buf out = BUF_INIT(16 << 20);
    struct tracklinks_plan *p;

    setup(&c, links, open);
    p = tracklinks_scan(html, strlen(html), skip, nskip, BASE);
    TT_EQ_INT(tracklinks_emit(p, &c, &out), 0);
    tracklinks_plan_free(p);
    char *r = buf_steal(&out, NULL);
    return r ? r : xstrdup("");
}

/*
 * normalize - replace every tracking URL of out by "{c:<url>}" or "{o}"
 * after verifying its token (kind, job, indexes), so expectations are
 * readable.
 */
static char *normalize(const char *out)
{
    struct buf b = BUF_INIT(16 << 20), s = BUF_INIT(65536);
    const char *p = out;
    size_t bl = strlen(BASE);

    while (*p) {
        if (strncmp(p, BASE "/t/", bl + 3) == 0 && (p[bl + 3] == 'c' || p[bl + 3] == 'o')) {
            int kind = p[bl + 3];
            const char *tok = p + bl + 5, *e = tok;
            struct track_token t;
            while ((*e >= 'A' && *e <= 'Z') || (*e >= 'a' && *e <= 'z') ||
                   (*e >= '0' && *e <= '9') || *e == '-' || *e == '_')
                e++;
            if (tracktoken_decode(keys, HOST, tok, (size_t)(e - tok), &t, &s) < 0)
                TT_FAIL("bad token in output: %.*s", (int)(e - tok), tok);
            TT_EQ_INT(t.kind, kind);
            TT_EQ_INT(t.block, 4);
            TT_EQ_INT(t.addr, 9);
            TT_EQ_INT(t.expiry, 2000000000);
            if (kind == 'c') {
                buf_puts(&b, "{c:");
                buf_append(&b, t.url, t.url_len);
                buf_puts(&b, "}");
            } else {
                TT_ASSERT(strncmp(e, ".gif", 4) == 0);
                e += 4;
                buf_puts(&b, "{o}");
            }
            p = e;
            continue;
        }
        buf_putc(&b, *p++);
    }
    buf_free(&s);
    char *r = buf_steal(&b, NULL);
    return r ? r : xstrdup("");
}

struct golden {
    const char *in, *want;
};

static void check(const struct golden *g, size_t n, int links, int open, const char *const *skip,
                  size_t nskip)
{
    for (size_t i = 0; i < n; i++) {
        char *out = track(g[i].in, links, open, skip, nskip);
        char *got = normalize(out);
        if (strcmp(got, g[i].want) != 0)
            TT_FAIL("case %zu: %s\n    got:      %s\n    expected: %s", i, g[i].in, got, g[i].want);
        xfree(out);
        xfree(got);
    }
}

#define PIX "<img src=\"{o}\" width=\"1\" height=\"1\" alt=\"\" border=\"0\">"

TT_TEST(rewrites)
{
    static const struct golden g[] = {
        {"<a href=\"https://shop.example.com/p?x=1\">x</a>",
         "<a href=\"{c:https://shop.example.com/p?x=1}\">x</a>"},
        {"<a href=\"https://s.example/p?a=1&amp;b=2&#38;c=3&#x26;d&quot;\">",
         "<a href=\"{c:https://s.example/p?a=1&b=2&c=3&d\"}\">"},
        {"<A HREF='HTTP://X.EXAMPLE/A'>", "<A HREF=\"{c:HTTP://X.EXAMPLE/A}\">"},
        {"<a class=btn href=http://x.example/a?b=c>go</a>",
         "<a class=btn href=\"{c:http://x.example/a?b=c}\">go</a>"},
        {"<area shape=rect href=\"https://map.example/\">",
         "<area shape=rect href=\"{c:https://map.example/}\">"},
        {"<a\nhref\n=\n\"  https://sp.example/x  \"\n>",
         "<a\nhref\n=\n\"{c:https://sp.example/x}\"\n>"},
        {"<a href=\"https://t\nab.example/\">", "<a href=\"{c:https://tab.example/}\">"},
        {"<a title=\"a>b\" href=\"https://q.example/\">",
         "<a title=\"a>b\" href=\"{c:https://q.example/}\">"},
        {"<a href=\"https://1.example/\" href=\"https://2.example/\">",
         "<a href=\"{c:https://1.example/}\" href=\"https://2.example/\">"},
        {"<a data-href=\"https://no.example/\" href=\"https://yes.example/\">",
         "<a data-href=\"https://no.example/\" href=\"{c:https://yes.example/}\">"},
        {"<a href=\"https://u.example/\xc3\xa9t\xc3\xa9\">",
         "<a href=\"{c:https://u.example/\xc3\xa9t\xc3\xa9}\">"},
        {"<p><a href='https://a.example'>1</a><a href='https://b.example'>2</a></p>",
         "<p><a href=\"{c:https://a.example}\">1</a><a href=\"{c:https://b.example}\">2</a></p>"},
        {"<!--[if mso]><a href=\"https://mso.example/\">o</a><![endif]-->",
         "<!--[if mso]><a href=\"{c:https://mso.example/}\">o</a><![endif]-->"},
        {"<!--[if !mso]><!--><a href=\"https://nomso.example/\">x</a><!--<![endif]-->",
         "<!--[if !mso]><!--><a href=\"{c:https://nomso.example/}\">x</a><!--<![endif]-->"},
        {"<a href=\"https://x.example/?a=&unknown;&amp\">",
         "<a href=\"{c:https://x.example/?a=&unknown;&amp}\">"},
    };
    check(g, sizeof(g) / sizeof(g[0]), 1, 0, NULL, 0);
}

TT_TEST(left_alone)
{
    static const char *const skip[] = {"https://shop.example.com/unsubscribe?u=1&l=2"};
    static const struct golden g[] = {
        {"<a href=\"mailto:x@example.com\">", "<a href=\"mailto:x@example.com\">"},
        {"<a href=\"tel:+4930123\">", "<a href=\"tel:+4930123\">"},
        {"<a href=\"/relative\">", "<a href=\"/relative\">"},
        {"<a href=\"relative.html\">", "<a href=\"relative.html\">"},
        {"<a href=\"#top\">", "<a href=\"#top\">"},
        {"<a href=\"//proto.example/rel\">", "<a href=\"//proto.example/rel\">"},
        {"<a href=\"javascript:alert(1)\">", "<a href=\"javascript:alert(1)\">"},
        {"<a href=\"ftp://f.example/\">", "<a href=\"ftp://f.example/\">"},
        {"<a href=\"https://\">", "<a href=\"https://\">"},
        {"<a href=\"https:///nohost\">", "<a href=\"https:///nohost\">"},
        {"<a href=\"\">", "<a href=\"\">"},
        {"<a href>", "<a href>"},
        {"<a name=x>", "<a name=x>"},
        {"<link href=\"https://css.example/a.css\">", "<link href=\"https://css.example/a.css\">"},
        {"<img src=\"https://img.example/a.png\" alt=\"<a href='https://no.example'>\">",
         "<img src=\"https://img.example/a.png\" alt=\"<a href='https://no.example'>\">"},
        {"<abbr href=\"https://no.example/\">", "<abbr href=\"https://no.example/\">"},
        {"<!-- <a href=\"https://c.example/\"> -->", "<!-- <a href=\"https://c.example/\"> -->"},
        {"<script>var s = '<a href=\"https://s.example/\">';</script><a "
         "href=\"https://after.example/\">",
         "<script>var s = '<a href=\"https://s.example/\">';</script><a "
         "href=\"{c:https://after.example/}\">"},
        {"<STYLE>a[href]{}</style><title><a href=https://t.example/></title>",
         "<STYLE>a[href]{}</style><title><a href=https://t.example/></title>"},
        {"<a href=\"https://shop.example.com/unsubscribe?u=1&amp;l=2\">u</a>",
         "<a href=\"https://shop.example.com/unsubscribe?u=1&amp;l=2\">u</a>"},
        {"<a href=\"https://t.example.com/t/u/abc\">",
         "<a href=\"https://t.example.com/t/u/abc\">"},
        {"<a href=\"https://x.example/\x01\">", "<a href=\"https://x.example/\x01\">"},
        {"<a href=\"https://x.example/\xff\">", "<a href=\"https://x.example/\xff\">"},
        {"text only", "text only"},
        {"", ""},
    };
    check(g, sizeof(g) / sizeof(g[0]), 1, 0, skip, 1);
}

TT_TEST(pixel)
{
    static const struct golden g[] = {
        {"<html><body><p>hi</p></body></html>", "<html><body><p>hi</p>" PIX "</body></html>"},
        {"<BODY>x</BODY >", "<BODY>x" PIX "</BODY >"},
        {"<p>no body</p>", "<p>no body</p>" PIX},
        {"<body>a</body><!-- </body> --></html>", "<body>a" PIX "</body><!-- </body> --></html>"},
        {"<body>a</bodyx>", "<body>a</bodyx>" PIX},
        {"", PIX},
    };
    check(g, sizeof(g) / sizeof(g[0]), 0, 1, NULL, 0);
    static const struct golden both[] = {
        {"<body><a href=\"https://a.example/\">a</a></body><a href=\"https://after.example/\">",
         "<body><a href=\"{c:https://a.example/}\">a</a>" PIX
         "</body><a href=\"{c:https://after.example/}\">"},
    };
    check(both, 1, 1, 1, NULL, 0);
    /* neither switch: unchanged */
    char *out = track("<body><a href=\"https://a.example/\">a</a></body>", 0, 0, NULL, 0);
    TT_EQ_STR(out, "<body><a href=\"https://a.example/\">a</a></body>");
    xfree(out);
}

TT_TEST(copies_differ)
{
    const char *html = "<body><a href=\"https://a.example/\">a</a></body>";
    struct tracklinks_plan *p = tracklinks_scan(html, strlen(html), NULL, 0, BASE);
    struct tracklinks_copy c;
    struct buf o1 = BUF_INIT(1 << 20), o2 = BUF_INIT(1 << 20);

    setup(&c, 1, 1);
    TT_EQ_INT(tracklinks_links(p), 1);
    TT_EQ_STR(tracklinks_url(p, 0), "https://a.example/");
    TT_EQ_INT(tracklinks_emit(p, &c, &o1), 0);
    c.addr = 10;
    TT_EQ_INT(tracklinks_emit(p, &c, &o2), 0);
    TT_ASSERT(strcmp(buf_ptr(&o1), buf_ptr(&o2)) != 0);
    /* a bounded output refuses to grow */
    struct buf tiny = BUF_INIT(50);
    TT_EQ_INT(tracklinks_emit(p, &c, &tiny), -1);
    buf_free(&tiny);
    buf_free(&o1);
    buf_free(&o2);
    tracklinks_plan_free(p);
    /* the unsubscribe URL for List-Unsubscribe */
    struct buf u = BUF_INIT(4096);
    TT_EQ_INT(tracklinks_url_for(&c, TRACK_UNSUB, NULL, 0, 2100000000, &u), 0);
    TT_ASSERT(strncmp(buf_ptr(&u), BASE "/t/u/", strlen(BASE) + 5) == 0);
    buf_free(&u);
}

TT_TEST(bound_to_base_host)
{
    const char *html = "<body><a href=\"https://a.example/\">a</a></body>";
    struct tracklinks_plan *p =
        tracklinks_scan(html, strlen(html), NULL, 0, "https://T.Other.example:8443");
    struct tracklinks_copy c;
    struct buf o = BUF_INIT(1 << 20), s = BUF_INIT(65536);
    struct track_token t;

    setup(&c, 1, 0);
    c.base = "https://T.Other.example:8443/";
    TT_EQ_INT(tracklinks_emit(p, &c, &o), 0);
    const char *tok = strstr(buf_ptr(&o), "/t/c/"), *e;
    TT_ASSERT(tok != NULL);
    tok += 5;
    e = strchr(tok, '"');
    TT_ASSERT(e != NULL);
    /* the token verifies on the host of its base only */
    TT_EQ_INT(tracktoken_decode(keys, "t.other.example", tok, (size_t)(e - tok), &t, &s), 0);
    TT_EQ_INT(tracktoken_decode(keys, HOST, tok, (size_t)(e - tok), &t, &s), -1);
    /* a base without a host makes no token */
    c.base = "https://";
    buf_reset(&o);
    TT_EQ_INT(tracklinks_emit(p, &c, &o), -1);
    buf_free(&o);
    buf_free(&s);
    tracklinks_plan_free(p);
}

TT_TEST(hostile)
{
    static const char *const inputs[] = {
        "<",
        "<a",
        "<a href",
        "<a href=",
        "<a href=\"",
        "<a href='https://x",
        "<!--",
        "<!-",
        "<!",
        "<?",
        "</",
        "</a",
        "<a href=\"https://x.example/\"",
        "<script>",
        "<script",
        "<a href=https://x.example/",
        "<<<<>>>>",
        "<a/href=\"https://x.example/\">",
        "<a href=\"https://x.example/&#xffffffffff;\">",
        "<a href=\"https://x.example/&#;\">",
        "<a href=\"https://x.example/&#0;\">",
        "<a href=\"https://x.example/&#xd800;\">",
        "<!--[if",
        "<!--[if mso]",
        "<body",
        "</body",
        "<textarea><a href=https://x.example/>",
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        char *out = track(inputs[i], 1, 1, NULL, 0);
        /* everything before the pixel is the input, or the input with links rewritten */
        TT_ASSERT(out != NULL);
        xfree(out);
    }
    /* random bytes drawn from HTML's alphabet */
    static const char alpha[] = "<>\"'=/!-&#;ahrefHREFbodyscript \t\nhttps://x.example";
    unsigned seed = 12345;
    for (int round = 0; round < 3000; round++) {
        char buf[300];
        size_t n = (size_t)(rand_r(&seed) % (sizeof(buf) - 1));
        for (size_t i = 0; i < n; i++)
            buf[i] = alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
        buf[n] = 0;
        char *out = track(buf, 1, 1, NULL, 0);
        xfree(out);
    }
    /* a huge href is left alone */
    struct buf big = BUF_INIT(4 << 20);
    buf_puts(&big, "<a href=\"https://x.example/");
    for (int i = 0; i < 100000; i++)
        buf_putc(&big, 'a');
    buf_puts(&big, "\">x</a>");
    char *out = track(buf_ptr(&big), 1, 0, NULL, 0);
    TT_EQ_STR(out, buf_ptr(&big));
    xfree(out);
    buf_free(&big);
}

TT_TEST(speed)
{
    /* 200 KB of HTML with 30 links, one copy per recipient */
    struct buf html = BUF_INIT(1 << 20), out = BUF_INIT(1 << 20);
    struct tracklinks_copy c;
    int copies = 0, scans = 0;

    buf_puts(&html, "<!DOCTYPE html><html><head><style>p{color:red}</style></head><body>\n");
    for (int i = 0; html.len < 200000; i++) {
        if (i % 30 == 0 && i / 30 < 30)
            buf_printf(
                &html,
                "<p><a "
                "href=\"https://shop.example.com/product/%d?utm_source=mail&amp;utm_campaign=x\" "
                "style=\"color:#333\">Product %d</a></p>\n",
                i, i);
        else
            buf_printf(&html,
                       "<tr><td class=\"cell\" style=\"padding:4px\">Lorem ipsum dolor sit amet, "
                       "consectetur adipiscing elit %d</td></tr>\n",
                       i);
    }
    buf_puts(&html, "</body></html>");
    setup(&c, 1, 1);
    int64_t start = timeutil_mono_ms();
    while (timeutil_mono_ms() - start < 500) {
        struct tracklinks_plan *p = tracklinks_scan(html.data, html.len, NULL, 0, BASE);
        TT_EQ_INT(tracklinks_links(p), 30);
        scans++;
        for (int k = 0; k < 3; k++) {
            buf_reset(&out);
            c.addr = (uint32_t)k;
            TT_EQ_INT(tracklinks_emit(p, &c, &out), 0);
            copies++;
        }
        tracklinks_plan_free(p);
    }
    double secs = (timeutil_mono_ms() - start) / 1000.0;
    printf("  tracklinks: %zu bytes, 30 links: %.0f scans/s with %.0f copies/s (3 per scan)\n",
           html.len, scans / secs, copies / secs);
    TT_ASSERT(copies / secs > 500);
    buf_free(&html);
    buf_free(&out);
}

TT_MAIN(TT_CASE(bound_to_base_host), TT_CASE(rewrites), TT_CASE(left_alone), TT_CASE(pixel),
        TT_CASE(copies_differ), TT_CASE(hostile), TT_CASE(speed))
