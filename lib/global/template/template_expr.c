/*
 * template_expr - the expressions of the FreeMarker subset (see template.h):
 * literals, variables, member access, built-ins, the default operator, !,
 * ==, !=, && and ||, by recursive descent with the nesting depth and the
 * height of the tree bounded.
 */
#include "util/codec.h"
#include "global/template/template_parse_int.h"
#include "util/msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct texpr *parse_or(struct parser *p);

static struct texpr *new_expr(struct parser *p, enum texpr_kind kind, size_t off)
{
    struct texpr *e = template_arena_alloc(p->t, sizeof(*e));

    p->nexpr++;
    e->kind = kind;
    e->off = off;
    e->height = 1;
    return e;
}

/*
 * linked - e got its operands: bound the height of the expression tree,
 * which the renderer walks recursively (a.b.c... and a && b && ... chains
 * are as deep as they are long).
 */
static struct texpr *linked(struct parser *p, struct texpr *e)
{
    int ha = e->a ? e->a->height : 0, hb = e->b ? e->b->height : 0;

    e->height = 1 + (ha > hb ? ha : hb);
    if (e->height > TPL_MAX_EXPR_HEIGHT) {
        template_parse_error(p, e->off, "expression too complex");
        return NULL;
    }
    if (template_parse_too_many(p, e->off))
        return NULL;
    return e;
}

/* put_utf8 - encode cp into out; returns bytes written */
static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * parse_escape - the escape at pos (a backslash), decoded into out at *n;
 * 0, or -1 with the parse error set
 */
static int parse_escape(struct parser *p, char *out, size_t *n)
{
    int e = peek(p, 1);

    p->pos += 2;
    switch (e) {
    case '"':
        out[(*n)++] = '"';
        break;
    case '\'':
        out[(*n)++] = '\'';
        break;
    case '\\':
        out[(*n)++] = '\\';
        break;
    case 'n':
        out[(*n)++] = '\n';
        break;
    case 'r':
        out[(*n)++] = '\r';
        break;
    case 't':
        out[(*n)++] = '\t';
        break;
    case 'f':
        out[(*n)++] = '\f';
        break;
    case 'b':
        out[(*n)++] = '\b';
        break;
    case 'l':
        out[(*n)++] = '<';
        break;
    case 'g':
        out[(*n)++] = '>';
        break;
    case 'a':
        out[(*n)++] = '&';
        break;
    case '{':
        out[(*n)++] = '{';
        break;
    case '=':
        out[(*n)++] = '=';
        break;
    case 'x': {
        unsigned cp = 0;
        int digits = 0, h;

        while (digits < 4 && (h = codec_hex_digit(peek(p, 0))) >= 0) {
            cp = cp << 4 | (unsigned)h;
            p->pos++;
            digits++;
        }
        if (digits == 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
            template_parse_error(p, p->pos - 2 - (size_t)digits,
                                 "invalid escape in string literal");
            return -1;
        }
        /* \xHHHH is at most 6 source bytes, at most 3 encoded bytes */
        *n += put_utf8(out + *n, cp);
        break;
    }
    default:
        template_parse_error(p, p->pos - 2, "invalid escape in string literal");
        return -1;
    }
    return 0;
}

/* parse_string - "..." or '...' at pos; escapes decoded into the arena */
static struct texpr *parse_string(struct parser *p)
{
    size_t start = p->pos;
    char q = p->s[p->pos++];
    size_t n = 0;
    /* the decoded text is never longer than the source */
    size_t cap = 0;
    size_t i;

    for (i = p->pos; i < p->len && p->s[i] != q; i++)
        if (p->s[i] == '\\')
            i++;
    if (i >= p->len) {
        template_parse_error(p, start, "unterminated string literal");
        return NULL;
    }
    cap = i - p->pos + 1;
    char *out = template_arena_alloc(p->t, cap);
    while (p->s[p->pos] != q) {
        char c = p->s[p->pos];

        if (c == '$' && peek(p, 1) == '{') {
            template_parse_error(p, p->pos,
                                 "interpolation inside a string literal is not supported");
            return NULL;
        }
        if (c != '\\') {
            out[n++] = c;
            p->pos++;
            continue;
        }
        if (parse_escape(p, out, &n) < 0)
            return NULL;
    }
    p->pos++; /* closing quote */
    struct texpr *e = new_expr(p, TE_STR, start);
    e->name = out;
    e->len = n;
    return e;
}

static struct texpr *parse_number(struct parser *p)
{
    size_t start = p->pos;
    char buf[64];
    int is_real = 0;

    if (p->s[p->pos] == '-')
        p->pos++;
    while (p->pos < p->len && is_digit((unsigned char)p->s[p->pos]))
        p->pos++;
    if (peek(p, 0) == '.' && peek(p, 1) >= 0 && is_digit(peek(p, 1))) {
        is_real = 1;
        p->pos++;
        while (p->pos < p->len && is_digit((unsigned char)p->s[p->pos]))
            p->pos++;
    }
    size_t n = p->pos - start;
    if (n >= sizeof(buf)) {
        template_parse_error(p, start, "number literal too long");
        return NULL;
    }
    memcpy(buf, p->s + start, n);
    buf[n] = 0;
    struct texpr *e = new_expr(p, TE_NUM, start);
    if (!is_real) {
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == 0) {
            e->is_int = 1;
            e->ival = v;
            e->dval = (double)v;
            return e;
        }
    }
    e->dval = strtod(buf, NULL);
    return e;
}

static int enter(struct parser *p, size_t off)
{
    if (++p->edepth > TEMPLATE_MAX_DEPTH) {
        template_parse_error(p, off, "nesting deeper than %d", TEMPLATE_MAX_DEPTH);
        return -1;
    }
    return 0;
}

static struct texpr *parse_primary(struct parser *p)
{
    int c;
    size_t n;

    skip_ws(p);
    c = peek(p, 0);
    if (c < 0) {
        template_parse_unexpected(p);
        return NULL;
    }
    if (c == '"' || c == '\'')
        return parse_string(p);
    if (is_digit(c) || (c == '-' && peek(p, 1) >= 0 && is_digit(peek(p, 1))))
        return parse_number(p);
    if (c == '(') {
        size_t off = p->pos;
        if (enter(p, off) < 0)
            return NULL;
        p->pos++;
        struct texpr *in = parse_or(p);
        if (in == NULL)
            return NULL;
        skip_ws(p);
        if (peek(p, 0) != ')') {
            template_parse_unexpected(p);
            return NULL;
        }
        p->pos++;
        p->edepth--;
        struct texpr *e = new_expr(p, TE_PAREN, off);
        e->a = in;
        return linked(p, e);
    }
    if ((n = ident_len(p, p->pos)) > 0) {
        size_t off = p->pos;
        struct texpr *e;

        p->pos += n;
        if (word_is(p, off, n, "true") || word_is(p, off, n, "false")) {
            e = new_expr(p, TE_BOOL, off);
            e->bval = p->s[off] == 't';
            return e;
        }
        e = new_expr(p, TE_VAR, off);
        e->name = p->s + off;
        e->len = n;
        return e;
    }
    template_parse_unexpected(p);
    return NULL;
}

static const struct {
    const char *name;
    int id;
} builtins[] = {
    {"html", TB_HTML},
    {"url", TB_URL},
    {"upper_case", TB_UPPER},
    {"lower_case", TB_LOWER},
    {"cap_first", TB_CAP_FIRST},
    {"no_esc", TB_NO_ESC},
    /* FreeMarker's camelCase spellings of the same built-ins */
    {"upperCase", TB_UPPER},
    {"lowerCase", TB_LOWER},
    {"capFirst", TB_CAP_FIRST},
    {"noEsc", TB_NO_ESC},
};

/*
 * parse_chain - member access and built-ins after e; with_default also
 * takes the default operator (a default's own operand takes none, so
 * ${name!"x"?upper_case} upper-cases only the default, as in FreeMarker).
 */
static struct texpr *parse_chain(struct parser *p, struct texpr *e, int with_default)
{
    for (;;) {
        size_t save = p->pos;
        size_t n;

        skip_ws(p);
        int c = peek(p, 0);
        if (c == '.' && !(peek(p, 1) >= 0 && is_digit(peek(p, 1)))) {
            size_t dot = p->pos;
            p->pos++;
            skip_ws(p);
            if ((n = ident_len(p, p->pos)) == 0) {
                if (p->pos >= p->len)
                    template_parse_unexpected(p);
                else
                    template_parse_error(p, dot, "expected a name after \".\"");
                return NULL;
            }
            struct texpr *m = new_expr(p, TE_MEMBER, e->off);
            m->a = e;
            m->name = p->s + p->pos;
            m->len = n;
            p->pos += n;
            if ((e = linked(p, m)) == NULL)
                return NULL;
            continue;
        }
        if (c == '?') {
            size_t q = p->pos;
            size_t i;

            p->pos++;
            if ((n = ident_len(p, p->pos)) == 0) {
                if (p->pos >= p->len)
                    template_parse_unexpected(p);
                else
                    template_parse_error(p, q, "expected a built-in name after \"?\"");
                return NULL;
            }
            for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
                if (word_is(p, p->pos, n, builtins[i].name))
                    break;
            if (i == sizeof(builtins) / sizeof(builtins[0])) {
                char name[64];
                msg_printable(name, sizeof(name), p->s + p->pos, n);
                template_parse_error(p, q, "unsupported built-in ?%s", name);
                return NULL;
            }
            struct texpr *b = new_expr(p, TE_BUILTIN, e->off);
            b->a = e;
            b->builtin = builtins[i].id;
            p->pos += n;
            if ((e = linked(p, b)) == NULL)
                return NULL;
            continue;
        }
        if (c == '!' && with_default && peek(p, 1) != '=') {
            p->pos++;
            struct texpr *d = new_expr(p, TE_DEFAULT, e->off);
            d->a = e;
            size_t save2 = p->pos;
            skip_ws(p);
            int c2 = peek(p, 0);
            size_t in = ident_len(p, p->pos);
            if (c2 == '"' || c2 == '\'' || c2 == '(' || (c2 >= 0 && is_digit(c2)) ||
                (c2 == '-' && peek(p, 1) >= 0 && is_digit(peek(p, 1))) ||
                (in > 0 && !word_is(p, p->pos, in, "as"))) {
                struct texpr *dv = parse_primary(p);
                if (dv == NULL || (dv = parse_chain(p, dv, 0)) == NULL)
                    return NULL;
                d->b = dv;
            } else {
                p->pos = save2;
            }
            if ((e = linked(p, d)) == NULL)
                return NULL;
            continue;
        }
        p->pos = save;
        return e;
    }
}

static struct texpr *parse_unary(struct parser *p)
{
    skip_ws(p);
    if (peek(p, 0) == '!' && peek(p, 1) != '=') {
        size_t off = p->pos;
        if (enter(p, off) < 0)
            return NULL;
        p->pos++;
        struct texpr *in = parse_unary(p);
        if (in == NULL)
            return NULL;
        p->edepth--;
        struct texpr *e = new_expr(p, TE_NOT, off);
        e->a = in;
        return linked(p, e);
    }
    struct texpr *e = parse_primary(p);
    if (e == NULL)
        return NULL;
    return parse_chain(p, e, 1);
}

static struct texpr *parse_eq(struct parser *p)
{
    struct texpr *l = parse_unary(p), *r, *e;

    if (l == NULL)
        return NULL;
    skip_ws(p);
    if (starts(p, "==") || starts(p, "!=")) {
        int ne = p->s[p->pos] == '!';
        p->pos += 2;
        if ((r = parse_unary(p)) == NULL)
            return NULL;
        e = new_expr(p, ne ? TE_NE : TE_EQ, l->off);
        e->a = l;
        e->b = r;
        return linked(p, e);
    }
    return l;
}

static struct texpr *parse_and(struct parser *p)
{
    struct texpr *l = parse_eq(p), *r, *e;

    while (l) {
        skip_ws(p);
        if (!starts(p, "&&"))
            break;
        p->pos += 2;
        if ((r = parse_eq(p)) == NULL)
            return NULL;
        e = new_expr(p, TE_AND, l->off);
        e->a = l;
        e->b = r;
        l = linked(p, e);
    }
    return l;
}

static struct texpr *parse_or(struct parser *p)
{
    struct texpr *l = parse_and(p), *r, *e;

    while (l) {
        skip_ws(p);
        if (!starts(p, "||"))
            break;
        p->pos += 2;
        if ((r = parse_and(p)) == NULL)
            return NULL;
        e = new_expr(p, TE_OR, l->off);
        e->a = l;
        e->b = r;
        l = linked(p, e);
    }
    return l;
}

/* template_expr_parse - one whole expression; EOF inside is reported as what */
struct texpr *template_expr_parse(struct parser *p, const char *what, size_t open_off)
{
    p->open_what = what;
    p->open_off = open_off;
    p->edepth = 0;
    skip_ws(p);
    if (p->pos < p->len && (p->s[p->pos] == '}' || p->s[p->pos] == '>')) {
        template_parse_error(p, p->pos, "missing expression");
        return NULL;
    }
    return parse_or(p);
}
