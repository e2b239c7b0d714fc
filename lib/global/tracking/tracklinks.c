/*
 * tracklinks - link rewriting and open pixel of an HTML part; see
 * tracklinks.h.
 *
 * The scanner is a small subset of the HTML5 tokenizer: data, comments,
 * markup declarations, start and end tags with attributes, and the raw
 * text elements whose content is not markup. It never allocates per byte
 * and looks at each byte a bounded number of times.
 */
#include "global/tracking/tracklinks.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct edit {
    size_t start, end; /* the attribute value, quotes included */
    char *url;         /* decoded original URL */
    size_t url_len;
};

struct tracklinks_plan {
    const char *html;
    size_t len;
    struct edit *edits;
    int n, cap;
    size_t pixel_at; /* offset of the last </body>, or len */
};

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* find_ci - first occurrence of needle (lowercase ASCII) in s[from..len), case-insensitively */
static size_t find_ci(const char *s, size_t len, size_t from, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = from; i + n <= len; i++) {
        const char *lt = memchr(s + i, '<', len - i);
        if (lt == NULL)
            return len;
        i = (size_t)(lt - s);
        if (i + n <= len && strncasecmp(s + i, needle, n) == 0)
            return i;
    }
    return len;
}

/* ---------------------------------------------------------------- character references */

static const struct {
    const char *name;
    unsigned cp;
} named[] = {
    {"amp", '&'},          {"lt", '<'},      {"gt", '>'},
    {"quot", '"'},         {"apos", '\''},   {"nbsp", 0xa0},
    {"excl", '!'},         {"num", '#'},     {"dollar", '$'},
    {"percnt", '%'},       {"lpar", '('},    {"rpar", ')'},
    {"ast", '*'},          {"midast", '*'},  {"plus", '+'},
    {"comma", ','},        {"period", '.'},  {"sol", '/'},
    {"colon", ':'},        {"semi", ';'},    {"equals", '='},
    {"quest", '?'},        {"commat", '@'},  {"lsqb", '['},
    {"lbrack", '['},       {"rsqb", ']'},    {"rbrack", ']'},
    {"bsol", '\\'},        {"Hat", '^'},     {"lowbar", '_'},
    {"UnderBar", '_'},     {"grave", '`'},   {"DiacriticalGrave", '`'},
    {"lcub", '{'},         {"lbrace", '{'},  {"rcub", '}'},
    {"rbrace", '}'},       {"verbar", '|'},  {"vert", '|'},
    {"VerticalLine", '|'}, {"tilde", 0x2dc}, {"hyphen", 0x2010},
    {"dash", 0x2010},      {"Tab", '\t'},    {"NewLine", '\n'},
    {"AMP", '&'},          {"LT", '<'},      {"GT", '>'},
    {"QUOT", '"'},
};

static int put_utf8(struct buf *b, unsigned cp)
{
    char o[4];
    size_t n;

    if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        cp = 0xfffd;
    if (cp < 0x80) {
        o[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        o[0] = (char)(0xf0 | cp >> 18);
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return buf_append(b, o, n);
}

/*
 * charref - decode the reference at s[0..len) (s[0] == '&') into b;
 * returns the bytes consumed, 0 when it is not a reference (the '&' is
 * then literal).
 */
static size_t charref(const char *s, size_t len, struct buf *b)
{
    size_t i = 1;

    if (len > 2 && s[1] == '#') {
        unsigned long cp = 0;
        int hex = 0, digits = 0;

        i = 2;
        if (i < len && (s[i] == 'x' || s[i] == 'X')) {
            hex = 1;
            i++;
        }
        for (; i < len; i++) {
            int c = (unsigned char)s[i], v;
            if (c >= '0' && c <= '9')
                v = c - '0';
            else if (hex && c >= 'a' && c <= 'f')
                v = c - 'a' + 10;
            else if (hex && c >= 'A' && c <= 'F')
                v = c - 'A' + 10;
            else
                break;
            if (cp < 0x110000)
                cp = cp * (hex ? 16 : 10) + (unsigned long)v;
            digits++;
        }
        if (digits == 0)
            return 0;
        if (i < len && s[i] == ';')
            i++;
        put_utf8(b, cp > 0x10ffff ? 0xfffd : (unsigned)cp);
        return i;
    }
    while (i < len && i < 40 && (is_alpha((unsigned char)s[i]) || (s[i] >= '0' && s[i] <= '9')))
        i++;
    if (i >= len || s[i] != ';' || i == 1)
        return 0;
    for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
        if (strlen(named[k].name) == i - 1 && memcmp(named[k].name, s + 1, i - 1) == 0) {
            put_utf8(b, named[k].cp);
            return i + 1;
        }
    return 0;
}

/*
 * decode_url - the URL a browser would follow for an href value: HTML
 * character references decoded, leading/trailing white space removed,
 * tabs and line breaks inside removed (URL standard).
 */
static int decode_url(const char *v, size_t len, struct buf *out)
{
    struct buf tmp = BUF_INIT(TRACK_URL_MAX * 4 + 64);
    size_t i = 0, run = 0;
    int rc = -1;

    while (i < len) {
        if (v[i] != '&') {
            i++;
            continue;
        }
        if (buf_append(&tmp, v + run, i - run) < 0)
            goto out;
        size_t used = charref(v + i, len - i, &tmp);
        if (used == 0) {
            if (buf_putc(&tmp, '&') < 0)
                goto out;
            used = 1;
        }
        i += used;
        run = i;
    }
    if (buf_append(&tmp, v + run, len - run) < 0)
        goto out;
    const char *s = buf_ptr(&tmp);
    size_t n = tmp.len, a = 0;
    while (a < n && (is_space((unsigned char)s[a]) || s[a] == 0))
        a++;
    while (n > a && (is_space((unsigned char)s[n - 1]) || s[n - 1] == 0))
        n--;
    for (size_t k = a; k < n; k++) {
        if (s[k] == '\t' || s[k] == '\n' || s[k] == '\r')
            continue;
        if (buf_putc(out, s[k]) < 0)
            goto out;
    }
    rc = 0;
out:
    buf_free(&tmp);
    return rc;
}

/* trackable - an absolute http(s) URL without control characters, valid UTF-8 */
static int trackable(const char *u, size_t n)
{
    size_t skip;

    if (n >= 7 && strncasecmp(u, "http://", 7) == 0)
        skip = 7;
    else if (n >= 8 && strncasecmp(u, "https://", 8) == 0)
        skip = 8;
    else
        return 0;
    if (n == skip || u[skip] == '/' || u[skip] == '?' || u[skip] == '#')
        return 0; /* no host */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] < 0x20 || u[i] == 0x7f)
            return 0;
    return n <= TRACK_URL_MAX && codec_utf8_valid(u, n);
}

/* ---------------------------------------------------------------- scanner */

static void add_edit(struct tracklinks_plan *p, size_t start, size_t end, const char *const *skip,
                     size_t nskip, const char *base)
{
    const char *v = p->html + start;
    size_t vlen = end - start;
    struct buf url = BUF_INIT(TRACK_URL_MAX + 1);
    size_t blen = base ? strlen(base) : 0;

    if (vlen && (v[0] == '"' || v[0] == '\'')) {
        v++;
        vlen -= 2;
    }
    if (decode_url(v, vlen, &url) < 0 || !trackable(url.data, url.len))
        goto out;
    for (size_t i = 0; i < nskip; i++)
        if (skip[i] && strlen(skip[i]) == url.len && memcmp(skip[i], url.data, url.len) == 0)
            goto out;
    if (blen && url.len > blen + 3 && strncasecmp(url.data, base, blen) == 0 &&
        memcmp(url.data + blen, "/t/", 3) == 0)
        goto out;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->edits = xrealloc(p->edits, (size_t)p->cap * sizeof(*p->edits));
    }
    struct edit *e = &p->edits[p->n++];
    e->start = start;
    e->end = end;
    e->url = buf_steal(&url, &e->url_len);
out:
    buf_free(&url);
}

/*
 * scan_tag - the start tag at s[i] == '<' (name starts at i+1); returns
 * the offset after '>', or len when the tag does not end.
 */
static size_t scan_tag(struct tracklinks_plan *p, size_t i, const char *const *skip, size_t nskip,
                       const char *base, char *name, size_t namesz)
{
    const char *s = p->html;
    size_t len = p->len, n = 0;
    int link, href_done = 0;

    i++;
    while (i < len && !is_space((unsigned char)s[i]) && s[i] != '/' && s[i] != '>') {
        if (n + 1 < namesz)
            name[n++] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
        i++;
    }
    name[n] = 0;
    link = strcmp(name, "a") == 0 || strcmp(name, "area") == 0;
    for (;;) {
        while (i < len && (is_space((unsigned char)s[i]) || s[i] == '/'))
            i++;
        if (i >= len)
            return len;
        if (s[i] == '>')
            return i + 1;
        size_t an = i;
        i++; /* an attribute name may start with any character but those above */
        while (i < len && !is_space((unsigned char)s[i]) && s[i] != '/' && s[i] != '>' &&
               s[i] != '=')
            i++;
        size_t alen = i - an;
        while (i < len && is_space((unsigned char)s[i]))
            i++;
        if (i >= len)
            return len;
        if (s[i] != '=')
            continue; /* attribute without value */
        i++;
        while (i < len && is_space((unsigned char)s[i]))
            i++;
        if (i >= len)
            return len;
        size_t vs = i, ve;
        if (s[i] == '"' || s[i] == '\'') {
            const char *q = memchr(s + i + 1, s[i], len - i - 1);
            if (q == NULL)
                return len; /* unterminated value: the rest is this tag */
            ve = (size_t)(q - s) + 1;
        } else {
            while (i < len && !is_space((unsigned char)s[i]) && s[i] != '>')
                i++;
            ve = i;
        }
        i = ve;
        if (link && !href_done && alen == 4 && strncasecmp(s + an, "href", 4) == 0) {
            href_done = 1; /* a browser uses the first href only */
            if (ve > vs)
                add_edit(p, vs, ve, skip, nskip, base);
        }
    }
}

struct tracklinks_plan *tracklinks_scan(const char *html, size_t len, const char *const *skip,
                                        size_t nskip, const char *base)
{
    static const char *const rawtext[] = {"script", "style",   "textarea", "title", "xmp",
                                          "iframe", "noembed", "noframes", NULL};
    struct tracklinks_plan *p = xcalloc(1, sizeof(*p));
    size_t i = 0;
    char name[16], close[32];

    p->html = html;
    p->len = len;
    p->pixel_at = len;
    while (i < len) {
        const char *lt = memchr(html + i, '<', len - i);
        if (lt == NULL)
            break;
        i = (size_t)(lt - html);
        if (i + 1 >= len)
            break;
        char c = html[i + 1];
        if (c == '!') {
            if (len - i >= 4 && memcmp(html + i, "<!--", 4) == 0) {
                if (len - i >= 7 && memcmp(html + i + 4, "[if", 3) == 0) {
                    /* <!--[if mso]>: Outlook reads what follows as markup */
                    const char *gt = memchr(html + i, '>', len - i);
                    if (gt == NULL)
                        break;
                    i = (size_t)(gt - html) + 1;
                    continue;
                }
                /* <!--> and <!---> are complete (empty) comments in HTML5 */
                if (len - i >= 5 && html[i + 4] == '>') {
                    i += 5;
                    continue;
                }
                if (len - i >= 6 && html[i + 4] == '-' && html[i + 5] == '>') {
                    i += 6;
                    continue;
                }
                const char *end = memmem(html + i + 4, len - i - 4, "-->", 3);
                if (end == NULL)
                    break;
                i = (size_t)(end - html) + 3;
                continue;
            }
            const char *gt = memchr(html + i, '>', len - i); /* <!DOCTYPE, <![endif]> */
            if (gt == NULL)
                break;
            i = (size_t)(gt - html) + 1;
            continue;
        }
        if (c == '?') {
            const char *gt = memchr(html + i, '>', len - i);
            if (gt == NULL)
                break;
            i = (size_t)(gt - html) + 1;
            continue;
        }
        if (c == '/' && i + 2 < len && is_alpha((unsigned char)html[i + 2])) {
            if (len - i >= 7 && strncasecmp(html + i + 2, "body", 4) == 0 &&
                (is_space((unsigned char)html[i + 6]) || html[i + 6] == '>' || html[i + 6] == '/'))
                p->pixel_at = i;
            const char *gt = memchr(html + i, '>', len - i);
            if (gt == NULL)
                break;
            i = (size_t)(gt - html) + 1;
            continue;
        }
        if (!is_alpha((unsigned char)c)) {
            i++;
            continue;
        }
        size_t after = scan_tag(p, i, skip, nskip, base, name, sizeof(name));
        if (after >= len)
            break;
        i = after;
        for (int r = 0; rawtext[r]; r++)
            if (strcmp(name, rawtext[r]) == 0 && html[after - 2] != '/') {
                snprintf(close, sizeof(close), "</%s", rawtext[r]);
                i = find_ci(html, len, after, close);
                break;
            }
    }
    return p;
}

int tracklinks_links(const struct tracklinks_plan *p)
{
    return p->n;
}

const char *tracklinks_url(const struct tracklinks_plan *p, int i)
{
    return i >= 0 && i < p->n ? p->edits[i].url : NULL;
}

void tracklinks_plan_free(struct tracklinks_plan *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->n; i++)
        xfree(p->edits[i].url);
    xfree(p->edits);
    xfree(p);
}

int tracklinks_url_for(const struct tracklinks_copy *c, int kind, const char *url, size_t url_len,
                       uint32_t expiry, struct buf *out)
{
    struct track_token t;
    const char *path = kind == TRACK_OPEN ? "/t/o/" : kind == TRACK_CLICK ? "/t/c/" : "/t/u/";
    size_t blen = strlen(c->base);
    char host[TRACK_HOST_MAX + 1];

    /* the token is bound to the host of the base its URL points at */
    if (tracktoken_host(c->base, host, sizeof(host)) < 0)
        return -1;
    memset(&t, 0, sizeof(t));
    t.kind = kind;
    t.job = c->job;
    t.block = c->block;
    t.addr = c->addr;
    t.expiry = expiry;
    t.url = url;
    t.url_len = url_len;
    while (blen > 0 && c->base[blen - 1] == '/')
        blen--;
    if (buf_append(out, c->base, blen) < 0 || buf_puts(out, path) < 0 ||
        tracktoken_encode(c->keys, host, &t, out) < 0)
        return -1;
    if (kind == TRACK_OPEN && buf_puts(out, ".gif") < 0)
        return -1;
    return 0;
}

int tracklinks_pixel(const struct tracklinks_copy *c, struct buf *out)
{
    if (buf_puts(out, "<img src=\"") < 0 ||
        tracklinks_url_for(c, TRACK_OPEN, NULL, 0, c->expiry, out) < 0 ||
        buf_puts(out, "\" width=\"1\" height=\"1\" alt=\"\" border=\"0\">") < 0)
        return -1;
    return 0;
}

int tracklinks_emit(const struct tracklinks_plan *p, const struct tracklinks_copy *c,
                    struct buf *out)
{
    size_t at = 0;
    int pixel_done = !c->open;

    if (c->links) {
        for (int i = 0; i < p->n; i++) {
            const struct edit *e = &p->edits[i];
            if (!pixel_done && p->pixel_at <= e->start) {
                if (buf_append(out, p->html + at, p->pixel_at - at) < 0 ||
                    tracklinks_pixel(c, out) < 0)
                    return -1;
                at = p->pixel_at;
                pixel_done = 1;
            }
            if (buf_append(out, p->html + at, e->start - at) < 0 || buf_putc(out, '"') < 0 ||
                tracklinks_url_for(c, TRACK_CLICK, e->url, e->url_len, c->expiry, out) < 0 ||
                buf_putc(out, '"') < 0)
                return -1;
            at = e->end;
        }
    }
    if (!pixel_done) {
        if (buf_append(out, p->html + at, p->pixel_at - at) < 0 || tracklinks_pixel(c, out) < 0)
            return -1;
        at = p->pixel_at;
    }
    return buf_append(out, p->html + at, p->len - at);
}
