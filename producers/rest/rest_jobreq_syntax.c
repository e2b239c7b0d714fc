/*
 * rest_jobreq_syntax - is the request body one UTF-8 JSON object (RFC 8259)
 * nested at most 64 levels deep? Contract §4.1, §6.1.
 *
 * A single pass with an explicit stack (no recursion: the input is
 * hostile). The messages follow the contract's example, which is the
 * wording of Gson's JsonReader: "Unterminated array at line 9 column 54
 * path $.recipients[0].mail.to[1]". Lines and columns count from 1,
 * columns in code points; the path shows the member or element being
 * read (after element i of an array the index is i + 1, as in Gson).
 * Duplicate member names are left to jansson (JSON_REJECT_DUPLICATES);
 * rest_jobreq_syntax_where() gives the path of its error position.
 *
 * The scan also holds the body to the structural limits of rest_jobreq.h
 * (values in the request, elements of one array or object, size of a
 * block's personalization), so that a body of millions of tiny values
 * never reaches jansson, which spends up to ~300 bytes on each: 20 MB of
 * "{}," would take 2 GB.
 */
#include "producers/rest/rest_jobreq.h"
#include "util/mymalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct frame {
    char kind;               /* '{' or '[' */
    size_t index;            /* arrays: elements read */
    size_t count;            /* elements or members begun (the limit) */
    size_t key_off, key_len; /* objects: the last member name (raw, no quotes) */
    int has_key;
};

struct scan {
    const unsigned char *s;
    size_t len, pos;
    int depth;
    struct frame st[JOBREQ_MAX_DEPTH + 1];
    size_t stop_at;   /* rest_jobreq_syntax_where: stop here */
    const char *what; /* the error, or NULL */
    size_t err_pos;
    /* rest_jobreq_syntax_spans */
    size_t span_min, span_max, nspans, nraw;
    struct jobreq_span *spans;
    int escapes; /* the last string: 0 none, bit 1 \r \n \/, bit 2 others */
    /* structural limits */
    size_t nvalues;
    int pers; /* inside a personalization object: its frame + 1, else 0 */
    size_t pers_start;
    int limit; /* the failure is a limit: limit_msg is the description */
    char limit_msg[JOBREQ_DESC_MAX - 80];
};

/* path_render - the path of the value read in frame upto - 1 ("$" for upto 0) */
static void path_render(const struct scan *sc, int upto, char *out, size_t outsz)
{
    size_t n = 0;

    if (outsz == 0)
        return;
    n = (size_t)snprintf(out, outsz, "$");
    for (int i = 0; i < upto && n < outsz; i++) {
        const struct frame *f = &sc->st[i];
        int w;
        if (f->kind == '[')
            w = snprintf(out + n, outsz - n, "[%zu]", f->index);
        else if (f->has_key) {
            size_t kl = f->key_len > 200 ? 200 : f->key_len;
            /* raw key bytes; never cut inside a UTF-8 sequence */
            while (kl > 0 && kl < f->key_len && (sc->s[f->key_off + kl] & 0xc0) == 0x80)
                kl--;
            w = snprintf(out + n, outsz - n, ".%.*s", (int)kl, (const char *)sc->s + f->key_off);
        } else
            w = 0;
        if (w < 0)
            break;
        n += (size_t)w;
    }
    if (n >= outsz)
        out[outsz - 1] = 0;
}

static int fail(struct scan *sc, const char *what)
{
    if (sc->what == NULL) {
        sc->what = what;
        sc->err_pos = sc->pos;
    }
    return -1;
}

/*
 * over - a structural limit is passed: the description of the
 * LIMIT_EXCEEDED rejection names the container of frame c the way
 * contract §6.2 writes paths (no "$", an array without index; the root
 * object is "request") and says which limit.
 */
static int over(struct scan *sc, const char *kind, int c, size_t max, const char *what)
{
    char path[512];

    if (sc->what == NULL) {
        path_render(sc, c, path, sizeof(path));
        snprintf(sc->limit_msg, sizeof(sc->limit_msg), "%s limit exceeded for %s: more than %zu %s",
                 kind, path[1] ? path + 2 : "request", max, what);
        sc->limit = 1;
    }
    return fail(sc, "Limit exceeded");
}

/*
 * count_value - a value begins: the element and request budgets (inside a
 * personalization, the request's is reported against the personalization)
 */
static int count_value(struct scan *sc)
{
    if (sc->depth > 0 && sc->st[sc->depth - 1].kind == '[' &&
        ++sc->st[sc->depth - 1].count > JOBREQ_MAX_ELEMENTS)
        return over(sc, "Count", sc->depth - 1, JOBREQ_MAX_ELEMENTS, "elements");
    if (++sc->nvalues > JOBREQ_MAX_VALUES)
        return over(sc, "Count", sc->pers ? sc->pers - 1 : sc->depth > 0, JOBREQ_MAX_VALUES,
                    "values in the request");
    return 0;
}

/* pers_size - the personalization object read so far is within its size */
static int pers_size(struct scan *sc)
{
    if (sc->pers && sc->pos - sc->pers_start > JOBREQ_PERS_MAX_BYTES)
        return over(sc, "Size", sc->pers - 1, JOBREQ_PERS_MAX_BYTES, "bytes");
    return 0;
}

static void skip_ws(struct scan *sc)
{
    while (sc->pos < sc->len) {
        unsigned char c = sc->s[sc->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        sc->pos++;
    }
}

/* utf8_seq - length of a well-formed UTF-8 sequence at p, 0 when malformed */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return left >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (left < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (left < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
            return 0;
        return 4;
    }
    return 0;
}

static int hex4(const unsigned char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            *v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            *v |= c - 'A' + 10;
        else
            return -1;
    }
    return 0;
}

/* key_is - the raw member name of frame f is name */
static int key_is(const struct scan *sc, const struct frame *f, const char *name)
{
    size_t n = strlen(name);

    return f->has_key && f->key_len == n && memcmp(sc->s + f->key_off, name, n) == 0;
}

/* at_pers - the object about to be pushed is $.recipients[i].features.templating.personalization */
static int at_pers(const struct scan *sc)
{
    return sc->depth == 5 && sc->st[1].kind == '[' && sc->st[2].kind == '{' &&
           sc->st[3].kind == '{' && sc->st[4].kind == '{' && key_is(sc, &sc->st[0], "recipients") &&
           key_is(sc, &sc->st[2], "features") && key_is(sc, &sc->st[3], "templating") &&
           key_is(sc, &sc->st[4], "personalization");
}

/*
 * note_span - a string value just read at [start, end): remember it when
 * it is long. A content at $.attachments[i].content escaped only with
 * \r \n \/ is raw base64 (struct jobreq_raw); any other is a string the
 * caller decodes itself (rest_jobreq_syntax_unescape), as jansson is slow on them.
 */
static void note_span(struct scan *sc, size_t start, size_t end)
{
    int raw;

    if (sc->spans == NULL || sc->nspans >= sc->span_max || end - start < sc->span_min)
        return;
    raw = sc->escapes < 2 && sc->depth == 3 && sc->st[1].kind == '[' &&
          key_is(sc, &sc->st[0], "attachments") && key_is(sc, &sc->st[2], "content");
    if (raw && sc->nraw >= JOBREQ_MAX_ATTACHMENTS)
        return;
    sc->nraw += raw;
    sc->spans[sc->nspans].raw = raw;
    sc->spans[sc->nspans].att = raw ? sc->st[1].index : 0;
    sc->spans[sc->nspans].start = start;
    sc->spans[sc->nspans].end = end;
    sc->nspans++;
}

/* plain[c]: a byte that needs no look inside a string (printable ASCII but '"' and '\\') */
static const unsigned char plain[256] = {
    [0x20] = 1,
    [0x21] = 1,
    [0x23 ... 0x5b] = 1,
    [0x5d ... 0x7e] = 1,
};

/*
 * plain8 - none of the 8 bytes at p needs a look: no '"', no '\\', no
 * control character, no byte >= 0x80 (0x7f, which plain[] sends to the
 * slow path, is plain here: utf8_seq() takes it as it is). Bodies are
 * mostly long runs of such bytes; a word at a time is 4-8 times cheaper.
 */
static int plain8(const unsigned char *p)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t x, q, b;

    memcpy(&x, p, 8);
    q = x ^ (ones * '"');
    b = x ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | (x - ones * 0x20) | x) & high ? 0 : 1;
}

/* string - at the opening quote; leaves pos after the closing quote */
static int string(struct scan *sc)
{
    sc->pos++;
    sc->escapes = 0;
    while (sc->pos < sc->len) {
        while (sc->pos + 8 <= sc->len && plain8(sc->s + sc->pos))
            sc->pos += 8;
        while (sc->pos < sc->len && plain[sc->s[sc->pos]])
            sc->pos++;
        if (sc->pos >= sc->len)
            break;
        unsigned char c = sc->s[sc->pos];
        if (c == '"') {
            sc->pos++;
            return 0;
        }
        if (c < 0x20)
            return fail(sc, "Unescaped control character in string");
        if (c == '\\') {
            if (sc->pos + 1 >= sc->len)
                break;
            c = sc->s[sc->pos + 1];
            if (strchr("\"\\/bfnrt", c) && c) {
                sc->escapes |= c == 'r' || c == 'n' || c == '/' ? 1 : 2;
                sc->pos += 2;
                continue;
            }
            sc->escapes |= 2;
            unsigned v, lo;
            if (c != 'u' || sc->pos + 6 > sc->len || hex4(sc->s + sc->pos + 2, &v) < 0)
                return fail(sc, "Invalid escape sequence");
            if (v == 0)
                return fail(sc, "NUL character in string");
            if (v >= 0xdc00 && v <= 0xdfff)
                return fail(sc, "Invalid escape sequence");
            if (v >= 0xd800 && v <= 0xdbff) {
                if (sc->pos + 12 > sc->len || sc->s[sc->pos + 6] != '\\' ||
                    sc->s[sc->pos + 7] != 'u' || hex4(sc->s + sc->pos + 8, &lo) < 0 ||
                    lo < 0xdc00 || lo > 0xdfff)
                    return fail(sc, "Invalid escape sequence");
                sc->pos += 12;
                continue;
            }
            sc->pos += 6;
            continue;
        }
        size_t n = utf8_seq(sc->s + sc->pos, sc->len - sc->pos);
        if (n == 0)
            return fail(sc, "Invalid UTF-8");
        sc->pos += n;
    }
    return fail(sc, "Unterminated string");
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int number(struct scan *sc)
{
    size_t p = sc->pos;
    const unsigned char *s = sc->s;

    if (p < sc->len && s[p] == '-')
        p++;
    if (p >= sc->len || !is_digit(s[p]))
        return fail(sc, "Invalid number");
    if (s[p] == '0')
        p++;
    else
        while (p < sc->len && is_digit(s[p]))
            p++;
    if (p < sc->len && s[p] == '.') {
        p++;
        if (p >= sc->len || !is_digit(s[p]))
            return fail(sc, "Invalid number");
        while (p < sc->len && is_digit(s[p]))
            p++;
    }
    if (p < sc->len && (s[p] == 'e' || s[p] == 'E')) {
        p++;
        if (p < sc->len && (s[p] == '+' || s[p] == '-'))
            p++;
        if (p >= sc->len || !is_digit(s[p]))
            return fail(sc, "Invalid number");
        while (p < sc->len && is_digit(s[p]))
            p++;
    }
    if (p < sc->len &&
        (is_digit(s[p]) || s[p] == '.' || ((s[p] | 0x20) >= 'a' && (s[p] | 0x20) <= 'z')))
        return fail(sc, "Invalid number");
    sc->pos = p;
    return 0;
}

static int literal(struct scan *sc)
{
    static const char *const words[] = {"true", "false", "null"};

    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if (sc->len - sc->pos >= n && memcmp(sc->s + sc->pos, words[i], n) == 0) {
            size_t p = sc->pos + n;
            unsigned char c = p < sc->len ? sc->s[p] : ' ';
            if (is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_')
                break;
            sc->pos = p;
            return 0;
        }
    }
    return fail(sc, "Expected value");
}

/* unexpected - the error for a byte no rule accepts here */
static int unexpected(struct scan *sc, const char *what)
{
    if (sc->pos < sc->len && sc->s[sc->pos] >= 0x80 &&
        utf8_seq(sc->s + sc->pos, sc->len - sc->pos) == 0)
        return fail(sc, "Invalid UTF-8");
    return fail(sc, what);
}

static int push(struct scan *sc, char kind)
{
    if (sc->depth >= JOBREQ_MAX_DEPTH)
        return fail(sc, "Nesting deeper than 64 levels");
    if (sc->pers == 0 && kind == '{' && at_pers(sc)) {
        sc->pers = sc->depth + 1;
        sc->pers_start = sc->pos;
    }
    struct frame *f = &sc->st[sc->depth++];
    memset(f, 0, sizeof(*f));
    f->kind = kind;
    sc->pos++;
    return 0;
}

/* pop - the container of the top frame ends (pos is past its closing byte) */
static int pop(struct scan *sc)
{
    sc->depth--;
    if (sc->pers && sc->depth < sc->pers) {
        if (pers_size(sc) < 0)
            return -1;
        sc->pers = 0;
    }
    return 0;
}

enum state { S_VALUE, S_NAME, S_AFTER };

/* open_container - '{' or '[' at pos: pushed, or closed at once when empty */
static int open_container(struct scan *sc, enum state *st)
{
    char kind = sc->s[sc->pos], close = kind == '{' ? '}' : ']';

    if (push(sc, kind) < 0)
        return -1;
    skip_ws(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == close) {
        sc->pos++;
        if (pop(sc) < 0)
            return -1;
        *st = S_AFTER;
    } else
        *st = kind == '{' ? S_NAME : S_VALUE;
    return 0;
}

/* state_value - a value: a container opens, a scalar is read whole */
static int state_value(struct scan *sc, enum state *st)
{
    skip_ws(sc);
    if (sc->pos >= sc->len)
        return fail(sc, "End of input");
    if (count_value(sc) < 0)
        return -1;
    switch (sc->s[sc->pos]) {
    case '{':
    case '[':
        return open_container(sc, st);
    case '"': {
        size_t start = sc->pos + 1;
        if (string(sc) < 0)
            return -1;
        note_span(sc, start, sc->pos - 1);
        break;
    }
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        if (number(sc) < 0)
            return -1;
        break;
    case 't':
    case 'f':
    case 'n':
        if (literal(sc) < 0)
            return -1;
        break;
    default:
        return unexpected(sc, "Expected value");
    }
    *st = S_AFTER;
    return 0;
}

/* state_name - a member name and its ':' */
static int state_name(struct scan *sc, enum state *st)
{
    struct frame *f = &sc->st[sc->depth - 1];

    skip_ws(sc);
    if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
        return sc->pos >= sc->len ? fail(sc, "Unterminated object")
                                  : unexpected(sc, "Expected name");
    if (++f->count > JOBREQ_MAX_ELEMENTS)
        return over(sc, "Count", sc->depth - 1, JOBREQ_MAX_ELEMENTS, "members");
    size_t start = sc->pos + 1;
    if (string(sc) < 0)
        return -1;
    f->key_off = start;
    f->key_len = sc->pos - 1 - start;
    f->has_key = 1;
    skip_ws(sc);
    if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
        return unexpected(sc, "Expected ':'");
    sc->pos++;
    *st = S_VALUE;
    return 0;
}

/* state_after - after a value: ',' or the container's end; 1 at the end of the document */
static int state_after(struct scan *sc, enum state *st)
{
    if (pers_size(sc) < 0)
        return -1;
    if (sc->depth == 0) {
        skip_ws(sc);
        if (sc->pos < sc->len)
            return unexpected(sc, "Unexpected data after the JSON object");
        return 1;
    }
    struct frame *f = &sc->st[sc->depth - 1];
    if (f->kind == '[')
        f->index++;
    skip_ws(sc);
    if (sc->pos >= sc->len)
        return fail(sc, f->kind == '[' ? "Unterminated array" : "Unterminated object");
    unsigned char c = sc->s[sc->pos];
    if (c == ',') {
        sc->pos++;
        *st = f->kind == '[' ? S_VALUE : S_NAME;
    } else if ((f->kind == '[' && c == ']') || (f->kind == '{' && c == '}')) {
        sc->pos++;
        if (pop(sc) < 0)
            return -1;
        *st = S_AFTER;
    } else
        return unexpected(sc, f->kind == '[' ? "Unterminated array" : "Unterminated object");
    return 0;
}

static int run(struct scan *sc)
{
    enum state st = S_VALUE;
    int rc = 0;

    /* a byte-order mark is ignored (RFC 8259 §8.1 allows that) */
    if (sc->len >= 3 && memcmp(sc->s, "\xef\xbb\xbf", 3) == 0)
        sc->pos = 3;
    skip_ws(sc);
    if (sc->pos >= sc->len)
        return fail(sc, "End of input");
    if (sc->s[sc->pos] != '{') {
        if (strchr("[\"-0123456789tfn", sc->s[sc->pos]) && sc->s[sc->pos])
            return fail(sc, "Expected a JSON object");
        return unexpected(sc, "Expected value");
    }
    while (rc == 0) {
        if (sc->pos >= sc->stop_at)
            return 0;
        rc = st == S_VALUE  ? state_value(sc, &st)
             : st == S_NAME ? state_name(sc, &st)
                            : state_after(sc, &st);
    }
    return rc < 0 ? -1 : 0;
}

static void line_col(const unsigned char *s, size_t pos, size_t *line, size_t *col)
{
    size_t l = 1, c = 1;

    for (size_t i = 0; i < pos; i++) {
        if (s[i] == '\n')
            l++, c = 1;
        else if ((s[i] & 0xc0) != 0x80)
            c++;
    }
    *line = l;
    *col = c;
}

int rest_jobreq_syntax_spans(const char *body, size_t len, char *msg, size_t msgsz, size_t min,
                             struct jobreq_span *spans, size_t max, size_t *n)
{
    struct scan *sc = xcalloc(1, sizeof(*sc));
    char path[512];
    size_t line, col;
    int rc = 0;

    sc->s = (const unsigned char *)body;
    sc->len = len;
    sc->stop_at = (size_t)-1;
    sc->spans = spans;
    sc->span_max = max;
    sc->span_min = min;
    if (run(sc) < 0 && sc->limit) {
        snprintf(msg, msgsz, "%s", sc->limit_msg);
        rc = JOBREQ_SYNTAX_LIMIT;
    } else if (sc->what) {
        path_render(sc, sc->depth, path, sizeof(path));
        line_col(sc->s, sc->err_pos, &line, &col);
        snprintf(msg, msgsz, "%s at line %zu column %zu path %s", sc->what, line, col, path);
        rc = -1;
    }
    if (n)
        *n = rc == 0 ? sc->nspans : 0;
    xfree(sc);
    return rc;
}

int rest_jobreq_syntax(const char *body, size_t len, char *msg, size_t msgsz)
{
    return rest_jobreq_syntax_spans(body, len, msg, msgsz, 0, NULL, 0, NULL);
}

void rest_jobreq_syntax_where(const char *body, size_t len, size_t pos, char *out, size_t outsz)
{
    struct scan sc;
    char path[512];
    size_t line, col;

    memset(&sc, 0, sizeof(sc));
    sc.s = (const unsigned char *)body;
    sc.len = len;
    sc.stop_at = pos > len ? len : pos;
    run(&sc);
    path_render(&sc, sc.depth, path, sizeof(path));
    line_col(sc.s, sc.stop_at, &line, &col);
    snprintf(out, outsz, "at line %zu column %zu path %s", line, col, path);
}

/*
 * rest_jobreq_syntax_unescape - the text of a string that run() accepted, decoded as
 * jansson decodes it (escapes, surrogate pairs as one code point in
 * UTF-8); out has room for len bytes, the decoded text is never longer.
 */
size_t rest_jobreq_syntax_unescape(const char *in, size_t len, char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, n = 0;

    while (i < len) {
        const unsigned char *bs = memchr(s + i, '\\', len - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : len - i;
        memcpy(out + n, s + i, run);
        n += run;
        i += run;
        if (bs == NULL || i + 1 >= len)
            break;
        unsigned char c = s[i + 1];
        unsigned v, lo;
        i += 2;
        switch (c) {
        case 'b':
            out[n++] = '\b';
            continue;
        case 'f':
            out[n++] = '\f';
            continue;
        case 'n':
            out[n++] = '\n';
            continue;
        case 'r':
            out[n++] = '\r';
            continue;
        case 't':
            out[n++] = '\t';
            continue;
        case 'u':
            break;
        default:
            out[n++] = (char)c;
            continue; /* " \\ / */
        }
        if (i + 4 > len || hex4(s + i, &v) < 0)
            break; /* not what run() accepts */
        i += 4;
        if (v >= 0xd800 && v <= 0xdbff && i + 6 <= len && s[i] == '\\' && s[i + 1] == 'u' &&
            hex4(s + i + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
            v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
        }
        if (v < 0x80)
            out[n++] = (char)v;
        else if (v < 0x800) {
            out[n++] = (char)(0xc0 | v >> 6);
            out[n++] = (char)(0x80 | (v & 0x3f));
        } else if (v < 0x10000) {
            out[n++] = (char)(0xe0 | v >> 12);
            out[n++] = (char)(0x80 | (v >> 6 & 0x3f));
            out[n++] = (char)(0x80 | (v & 0x3f));
        } else {
            out[n++] = (char)(0xf0 | v >> 18);
            out[n++] = (char)(0x80 | (v >> 12 & 0x3f));
            out[n++] = (char)(0x80 | (v >> 6 & 0x3f));
            out[n++] = (char)(0x80 | (v & 0x3f));
        }
    }
    return n;
}
