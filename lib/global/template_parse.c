/*
 * template_parse - lexer and parser of the FreeMarker subset; see template.h.
 *
 * Three passes over the source:
 *   1. lex: text, interpolations, directives and comments in source order,
 *      with the expressions parsed on the way (recursive descent, depth
 *      bounded) and the directive structure checked with a stack, so the
 *      first error in source order is the one reported;
 *   2. white-space stripping: each physical line that holds directives or
 *      comments and otherwise only white space loses that white space and
 *      its line break;
 *   3. tree: the tokens become the node tree the renderer walks.
 */
#include "util/codec.h"
#include "global/template_int.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ptok_kind {
    PT_TEXT, PT_INTERP, PT_IF, PT_ELSEIF, PT_ELSE, PT_END_IF, PT_LIST,
    PT_END_LIST, PT_COMMENT,
};

struct ptok {
    enum ptok_kind kind;
    size_t start, end;
    struct texpr *expr;
    const char *var;
    size_t varlen;
};

struct open_dir {
    enum ptok_kind kind;    /* PT_IF or PT_LIST */
    size_t off;
    int seen_else;
};

struct parser {
    struct template *t;
    const char *s;
    size_t len, pos;
    char *err;
    size_t errsz;
    int failed;
    int edepth;
    /* what an unexpected end of the source is reported against */
    const char *open_what;
    size_t open_off;
    struct ptok *toks;
    size_t ntoks, captoks;
    struct open_dir stack[TEMPLATE_MAX_DEPTH];
    int depth;
    size_t nexpr;           /* expression nodes made (TEMPLATE_MAX_ELEMENTS) */
};

/* ---------------------------------------------------------------- arena */

void *tarena_alloc(struct template *t, size_t n)
{
    struct tarena_block *b = t->arena;

    n = (n + 15) & ~(size_t)15;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;

        b = xmalloc(sizeof(*b) + cap);
        b->cap = cap;
        b->used = 0;
        b->next = t->arena;
        t->arena = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

void template_free(struct template *t)
{
    if (t == NULL)
        return;
    while (t->arena) {
        struct tarena_block *next = t->arena->next;
        xfree(t->arena);
        t->arena = next;
    }
    xfree(t->src);
    xfree(t);
}

const char *template_part(const struct template *t)
{
    return t->part;
}

void tpl_position(const char *src, size_t len, size_t off, int *line, int *col)
{
    int l = 1, c = 1;

    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++) {
        unsigned char ch = (unsigned char)src[i];

        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xc0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* ---------------------------------------------------------------- errors */

static void perr(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* perr - record the first syntax error: "<what> at line L column C" */
static void perr(struct parser *p, size_t off, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    int line, col;

    if (p->failed)
        return;
    p->failed = 1;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    tpl_position(p->s, p->len, off, &line, &col);
    snprintf(p->err, p->errsz, "%s at line %d column %d", what, line, col);
}

/* token_preview - the token at off, printable, for "unexpected ..." */
static void token_preview(struct parser *p, size_t off, char *out, size_t outsz)
{
    size_t n = 0;
    const char *s = p->s + off;
    size_t left = p->len - off;

    if (left == 0) {
        snprintf(out, outsz, "end of template");
        return;
    }
    if ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
        s[0] == '_' || s[0] == '$' || (s[0] >= '0' && s[0] <= '9')) {
        while (n < left && n < 40 &&
               ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
                (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '$'))
            n++;
    } else if (left >= 2 && (memcmp(s, "==", 2) == 0 || memcmp(s, "!=", 2) == 0 ||
                             memcmp(s, "&&", 2) == 0 || memcmp(s, "||", 2) == 0)) {
        n = 2;
    } else {
        /* one code point */
        n = 1;
        while (n < left && n < 4 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n++;
    }
    char tmp[64];
    printable(tmp, sizeof(tmp), s, n);
    snprintf(out, outsz, "\"%s\"", tmp);
}

static void unexpected(struct parser *p)
{
    char tok[80];

    if (p->pos >= p->len) {
        perr(p, p->open_off, "%s", p->open_what);
        return;
    }
    token_preview(p, p->pos, tok, sizeof(tok));
    perr(p, p->pos, "unexpected %s", tok);
}

/* ---------------------------------------------------------------- lexing helpers */

static int is_ident_start(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '$';
}

static int is_ident_char(int c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f')
            break;
        p->pos++;
    }
}

static int peek(struct parser *p, size_t ahead)
{
    return p->pos + ahead < p->len ? (unsigned char)p->s[p->pos + ahead] : -1;
}

static int starts(struct parser *p, const char *lit)
{
    size_t n = strlen(lit);

    return p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0;
}

/* ident_len - length of the identifier at pos (0: none) */
static size_t ident_len(struct parser *p, size_t at)
{
    size_t n = 0;

    if (at >= p->len || !is_ident_start((unsigned char)p->s[at]))
        return 0;
    while (at + n < p->len && is_ident_char((unsigned char)p->s[at + n]))
        n++;
    return n;
}

static int word_is(struct parser *p, size_t at, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(p->s + at, w, n) == 0;
}

static struct texpr *new_expr(struct parser *p, enum texpr_kind kind, size_t off)
{
    struct texpr *e = tarena_alloc(p->t, sizeof(*e));

    p->nexpr++;
    e->kind = kind;
    e->off = off;
    e->height = 1;
    return e;
}

/*
 * too_many - the template has more than TEMPLATE_MAX_ELEMENTS tokens and
 * expression nodes: a syntax error at off. Every element costs about 100
 * bytes, so 20 MB of "${a}" would take 1 GB. Checked per token and per
 * composite expression (one token can hold a long expression).
 */
static int too_many(struct parser *p, size_t off)
{
    if (p->ntoks + p->nexpr <= TEMPLATE_MAX_ELEMENTS)
        return 0;
    perr(p, off, "more than %d elements", TEMPLATE_MAX_ELEMENTS);
    return 1;
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
        perr(p, e->off, "expression too complex");
        return NULL;
    }
    if (too_many(p, e->off))
        return NULL;
    return e;
}

/* ---------------------------------------------------------------- expressions */

static struct texpr *parse_or(struct parser *p);

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
        perr(p, start, "unterminated string literal");
        return NULL;
    }
    cap = i - p->pos + 1;
    char *out = tarena_alloc(p->t, cap);
    while (p->s[p->pos] != q) {
        char c = p->s[p->pos];

        if (c == '$' && peek(p, 1) == '{') {
            perr(p, p->pos, "interpolation inside a string literal is not supported");
            return NULL;
        }
        if (c != '\\') {
            out[n++] = c;
            p->pos++;
            continue;
        }
        int e = peek(p, 1);
        p->pos += 2;
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\'': out[n++] = '\''; break;
        case '\\': out[n++] = '\\'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'f': out[n++] = '\f'; break;
        case 'b': out[n++] = '\b'; break;
        case 'l': out[n++] = '<'; break;
        case 'g': out[n++] = '>'; break;
        case 'a': out[n++] = '&'; break;
        case '{': out[n++] = '{'; break;
        case '=': out[n++] = '='; break;
        case 'x': {
            unsigned cp = 0;
            int digits = 0, h;

            while (digits < 4 && (h = hex_digit(peek(p, 0))) >= 0) {
                cp = cp << 4 | (unsigned)h;
                p->pos++;
                digits++;
            }
            if (digits == 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
                perr(p, p->pos - 2 - (size_t)digits, "invalid escape in string literal");
                return NULL;
            }
            /* \xHHHH is at most 6 source bytes, at most 3 encoded bytes */
            n += put_utf8(out + n, cp);
            break;
        }
        default:
            perr(p, p->pos - 2, "invalid escape in string literal");
            return NULL;
        }
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
        perr(p, start, "number literal too long");
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
        perr(p, off, "nesting deeper than %d", TEMPLATE_MAX_DEPTH);
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
        unexpected(p);
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
            unexpected(p);
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
    unexpected(p);
    return NULL;
}

static const struct {
    const char *name;
    int id;
} builtins[] = {
    {"html", TB_HTML}, {"url", TB_URL}, {"upper_case", TB_UPPER},
    {"lower_case", TB_LOWER}, {"cap_first", TB_CAP_FIRST}, {"no_esc", TB_NO_ESC},
    /* FreeMarker's camelCase spellings of the same built-ins */
    {"upperCase", TB_UPPER}, {"lowerCase", TB_LOWER}, {"capFirst", TB_CAP_FIRST},
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
                    unexpected(p);
                else
                    perr(p, dot, "expected a name after \".\"");
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
                    unexpected(p);
                else
                    perr(p, q, "expected a built-in name after \"?\"");
                return NULL;
            }
            for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
                if (word_is(p, p->pos, n, builtins[i].name))
                    break;
            if (i == sizeof(builtins) / sizeof(builtins[0])) {
                char name[64];
                printable(name, sizeof(name), p->s + p->pos, n);
                perr(p, q, "unsupported built-in ?%s", name);
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

/* parse_expression - one whole expression; EOF inside is reported as what */
static struct texpr *parse_expression(struct parser *p, const char *what, size_t open_off)
{
    p->open_what = what;
    p->open_off = open_off;
    p->edepth = 0;
    skip_ws(p);
    if (p->pos < p->len && (p->s[p->pos] == '}' || p->s[p->pos] == '>')) {
        perr(p, p->pos, "missing expression");
        return NULL;
    }
    return parse_or(p);
}

/* ---------------------------------------------------------------- tokens */

static struct ptok *add_tok(struct parser *p, enum ptok_kind kind, size_t start, size_t end)
{
    if (p->ntoks == p->captoks) {
        p->captoks = p->captoks ? p->captoks * 2 : 64;
        p->toks = xrealloc(p->toks, p->captoks * sizeof(*p->toks));
    }
    struct ptok *t = &p->toks[p->ntoks++];
    memset(t, 0, sizeof(*t));
    t->kind = kind;
    t->start = start;
    t->end = end;
    return t;
}

/* expect_close - white space then '>' ending the tag opened at off */
static int expect_close(struct parser *p, const char *what, size_t off)
{
    p->open_what = what;
    p->open_off = off;
    skip_ws(p);
    if (peek(p, 0) != '>') {
        unexpected(p);
        return -1;
    }
    p->pos++;
    return 0;
}

static const char *dir_name(enum ptok_kind k)
{
    return k == PT_IF ? "<#if>" : "<#list>";
}

/* lex_directive - "<#name" at pos (name known to start with a letter) */
static int lex_directive(struct parser *p)
{
    size_t start = p->pos;
    size_t n = ident_len(p, start + 2);
    size_t name = start + 2;
    struct ptok *t;
    struct texpr *e;
    char what[80];

    p->pos = name + n;
    if (word_is(p, name, n, "if")) {
        if ((e = parse_expression(p, "unterminated <#if>", start)) == NULL ||
            expect_close(p, "unterminated <#if>", start) < 0)
            return -1;
        if (p->depth >= TEMPLATE_MAX_DEPTH) {
            perr(p, start, "nesting deeper than %d", TEMPLATE_MAX_DEPTH);
            return -1;
        }
        p->stack[p->depth++] = (struct open_dir){PT_IF, start, 0};
        t = add_tok(p, PT_IF, start, p->pos);
        t->expr = e;
        return 0;
    }
    if (word_is(p, name, n, "elseif") || word_is(p, name, n, "elseIf")) {
        if (p->depth == 0 || p->stack[p->depth - 1].kind != PT_IF ||
            p->stack[p->depth - 1].seen_else) {
            perr(p, start, "unexpected <#elseif>");
            return -1;
        }
        if ((e = parse_expression(p, "unterminated <#elseif>", start)) == NULL ||
            expect_close(p, "unterminated <#elseif>", start) < 0)
            return -1;
        t = add_tok(p, PT_ELSEIF, start, p->pos);
        t->expr = e;
        return 0;
    }
    if (word_is(p, name, n, "else")) {
        if (p->depth == 0 || p->stack[p->depth - 1].kind != PT_IF ||
            p->stack[p->depth - 1].seen_else) {
            perr(p, start, "unexpected <#else>");
            return -1;
        }
        if (expect_close(p, "unterminated <#else>", start) < 0)
            return -1;
        p->stack[p->depth - 1].seen_else = 1;
        add_tok(p, PT_ELSE, start, p->pos);
        return 0;
    }
    if (word_is(p, name, n, "list")) {
        size_t vn;

        if ((e = parse_expression(p, "unterminated <#list>", start)) == NULL)
            return -1;
        skip_ws(p);
        if ((vn = ident_len(p, p->pos)) == 0 || !word_is(p, p->pos, vn, "as")) {
            if (p->pos >= p->len)
                perr(p, start, "unterminated <#list>");
            else
                perr(p, p->pos, "expected \"as\" in <#list>");
            return -1;
        }
        p->pos += vn;
        skip_ws(p);
        if ((vn = ident_len(p, p->pos)) == 0) {
            if (p->pos >= p->len)
                perr(p, start, "unterminated <#list>");
            else
                perr(p, p->pos, "expected a loop variable name in <#list>");
            return -1;
        }
        size_t var = p->pos;
        p->pos += vn;
        if (expect_close(p, "unterminated <#list>", start) < 0)
            return -1;
        if (p->depth >= TEMPLATE_MAX_DEPTH) {
            perr(p, start, "nesting deeper than %d", TEMPLATE_MAX_DEPTH);
            return -1;
        }
        p->stack[p->depth++] = (struct open_dir){PT_LIST, start, 0};
        t = add_tok(p, PT_LIST, start, p->pos);
        t->expr = e;
        t->var = p->s + var;
        t->varlen = vn;
        return 0;
    }
    printable(what, sizeof(what), p->s + name, n > 40 ? 40 : n);
    perr(p, start, "unsupported directive <#%s>", what);
    return -1;
}

/* lex_end - "</#name" at pos */
static int lex_end(struct parser *p)
{
    size_t start = p->pos;
    size_t name = start + 3;
    size_t n = ident_len(p, name);
    enum ptok_kind kind;
    char what[80];

    p->pos = name + n;
    if (word_is(p, name, n, "if"))
        kind = PT_IF;
    else if (word_is(p, name, n, "list"))
        kind = PT_LIST;
    else {
        printable(what, sizeof(what), p->s + name, n > 40 ? 40 : n);
        perr(p, start, "unsupported directive </#%s>", what);
        return -1;
    }
    if (p->depth == 0 || p->stack[p->depth - 1].kind != kind) {
        perr(p, start, "unexpected </#%s>", kind == PT_IF ? "if" : "list");
        return -1;
    }
    if (expect_close(p, kind == PT_IF ? "unterminated </#if>" : "unterminated </#list>",
                     start) < 0)
        return -1;
    p->depth--;
    add_tok(p, kind == PT_IF ? PT_END_IF : PT_END_LIST, start, p->pos);
    return 0;
}

static int lex(struct parser *p)
{
    size_t text_start = 0;

    while (p->pos < p->len) {
        const char *s = p->s + p->pos;
        size_t left = p->len - p->pos;
        int kind = 0; /* 1 interp, 2 comment, 3 directive, 4 end, 5 user directive */

        if (too_many(p, p->pos))
            return -1;

        if (s[0] == '$' && left >= 2 && s[1] == '{')
            kind = 1;
        else if (s[0] == '<' && left >= 4 && memcmp(s, "<#--", 4) == 0)
            kind = 2;
        else if (s[0] == '<' && left >= 3 && s[1] == '#' &&
                 ((s[2] >= 'a' && s[2] <= 'z') || (s[2] >= 'A' && s[2] <= 'Z')))
            kind = 3;
        else if (s[0] == '<' && left >= 4 && s[1] == '/' && s[2] == '#' &&
                 ((s[3] >= 'a' && s[3] <= 'z') || (s[3] >= 'A' && s[3] <= 'Z')))
            kind = 4;
        else if (s[0] == '<' && left >= 3 &&
                 ((s[1] == '@' && ident_len(p, p->pos + 2) > 0) ||
                  (s[1] == '/' && s[2] == '@' && ident_len(p, p->pos + 3) > 0)))
            kind = 5;
        if (kind == 0) {
            p->pos++;
            continue;
        }
        if (p->pos > text_start)
            add_tok(p, PT_TEXT, text_start, p->pos);
        size_t start = p->pos;
        switch (kind) {
        case 1: {
            p->pos += 2;
            struct texpr *e = parse_expression(p, "unclosed ${", start);
            if (e == NULL)
                return -1;
            skip_ws(p);
            if (peek(p, 0) != '}') {
                unexpected(p);
                return -1;
            }
            p->pos++;
            add_tok(p, PT_INTERP, start, p->pos)->expr = e;
            break;
        }
        case 2: {
            const char *end = memmem(s + 4, left - 4, "-->", 3);
            if (end == NULL) {
                perr(p, start, "unclosed comment");
                return -1;
            }
            p->pos = (size_t)(end - p->s) + 3;
            add_tok(p, PT_COMMENT, start, p->pos);
            break;
        }
        case 3:
            if (lex_directive(p) < 0)
                return -1;
            break;
        case 4:
            if (lex_end(p) < 0)
                return -1;
            break;
        default: {
            /* "<@name" or "</@name": a user-defined directive call */
            size_t at = start + (s[1] == '/' ? 3 : 2);
            size_t n = ident_len(p, at);
            char what[80];
            printable(what, sizeof(what), p->s + at, n > 40 ? 40 : n);
            perr(p, start, "unsupported directive <%s@%s>", s[1] == '/' ? "/" : "", what);
            return -1;
        }
        }
        text_start = p->pos;
    }
    if (too_many(p, p->pos))
        return -1;
    if (p->pos > text_start)
        add_tok(p, PT_TEXT, text_start, p->pos);
    if (p->depth > 0) {
        struct open_dir *d = &p->stack[p->depth - 1];
        perr(p, d->off, "unclosed %s", dir_name(d->kind));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- white-space stripping */

#define LINE_TAG 1
#define LINE_INTERP 2
#define LINE_TEXT 4

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int tag_only(const unsigned char *flags, size_t line)
{
    return flags[line] == LINE_TAG;
}

/*
 * strip - drop the white space of directive-only lines from the text
 * tokens (the kept part of a text token is contiguous: only its first
 * and its last line can hold a directive).
 */
static void strip(struct parser *p)
{
    size_t nlines = 1, line = 0;
    unsigned char *flags;

    for (size_t i = 0; i < p->len; i++)
        if (p->s[i] == '\n')
            nlines++;
    flags = xcalloc(nlines, 1);
    for (size_t k = 0; k < p->ntoks; k++) {
        struct ptok *t = &p->toks[k];
        unsigned char f = t->kind == PT_TEXT ? 0 : t->kind == PT_INTERP ? LINE_INTERP : LINE_TAG;

        for (size_t i = t->start; i < t->end; i++) {
            char c = p->s[i];
            if (f)
                flags[line] |= f;
            else if (c != '\n' && !is_ws(c))
                flags[line] |= LINE_TEXT;
            if (c == '\n')
                line++;
        }
    }
    line = 0;
    for (size_t k = 0; k < p->ntoks; k++) {
        struct ptok *t = &p->toks[k];
        size_t first = line, last;
        const char *nl;

        for (size_t i = t->start; i < t->end; i++)
            if (p->s[i] == '\n')
                line++;
        if (t->kind != PT_TEXT)
            continue;
        /* the line of the token's last byte */
        last = p->s[t->end - 1] == '\n' ? line - 1 : line;
        size_t start = t->start, end = t->end;
        if (tag_only(flags, first)) {
            nl = memchr(p->s + start, '\n', end - start);
            start = nl ? (size_t)(nl - p->s) + 1 : end;
        }
        if (last != first && tag_only(flags, last) && start < end) {
            /* the last line's bytes start after the previous line break */
            size_t q = end - 1;
            while (q > start && p->s[q - 1] != '\n')
                q--;
            end = q;
        }
        t->start = start;
        t->end = end > start ? end : start;
    }
    xfree(flags);
}

/* ---------------------------------------------------------------- tree */

struct frame {
    struct tnode *node;
    struct tnode **tail;
    struct tbranch **btail;
};

static struct tnode *new_node(struct parser *p, enum tnode_kind kind, size_t off)
{
    struct tnode *n = tarena_alloc(p->t, sizeof(*n));

    n->kind = kind;
    n->off = off;
    return n;
}

static void build(struct parser *p)
{
    struct frame st[TEMPLATE_MAX_DEPTH + 1];
    int d = 0;

    st[0].node = NULL;
    st[0].tail = &p->t->root;
    st[0].btail = NULL;
    for (size_t k = 0; k < p->ntoks; k++) {
        struct ptok *t = &p->toks[k];
        struct tnode *n;
        struct tbranch *b;

        switch (t->kind) {
        case PT_TEXT:
            if (t->end == t->start)
                break;
            n = new_node(p, TN_TEXT, t->start);
            n->text = p->t->src + t->start;
            n->len = t->end - t->start;
            *st[d].tail = n;
            st[d].tail = &n->next;
            break;
        case PT_INTERP:
            n = new_node(p, TN_INTERP, t->start);
            n->expr = t->expr;
            *st[d].tail = n;
            st[d].tail = &n->next;
            break;
        case PT_IF:
            n = new_node(p, TN_IF, t->start);
            *st[d].tail = n;
            st[d].tail = &n->next;
            b = tarena_alloc(p->t, sizeof(*b));
            b->cond = t->expr;
            n->branches = b;
            d++;
            st[d].node = n;
            st[d].tail = &b->body;
            st[d].btail = &b->next;
            break;
        case PT_ELSEIF:
        case PT_ELSE:
            b = tarena_alloc(p->t, sizeof(*b));
            b->cond = t->kind == PT_ELSEIF ? t->expr : NULL;
            *st[d].btail = b;
            st[d].btail = &b->next;
            st[d].tail = &b->body;
            break;
        case PT_LIST:
            n = new_node(p, TN_LIST, t->start);
            n->expr = t->expr;
            n->var = t->var;
            n->varlen = t->varlen;
            *st[d].tail = n;
            st[d].tail = &n->next;
            d++;
            st[d].node = n;
            st[d].tail = &n->body;
            st[d].btail = NULL;
            break;
        case PT_END_IF:
        case PT_END_LIST:
            d--;
            break;
        case PT_COMMENT:
            break;
        }
    }
}

int template_parse(const char *src, size_t len, const char *part,
                   struct template **out, char *err, size_t errsz)
{
    struct template *t = xcalloc(1, sizeof(*t));
    struct parser p;
    int rc = -1;

    *out = NULL;
    t->src = xmalloc(len + 1);
    memcpy(t->src, src, len);
    t->src[len] = 0;
    t->srclen = len;
    snprintf(t->part, sizeof(t->part), "%s", part ? part : "body");
    memset(&p, 0, sizeof(p));
    p.t = t;
    p.s = t->src;
    p.len = len;
    p.err = err;
    p.errsz = errsz;
    if (errsz)
        err[0] = 0;
    if (lex(&p) < 0 || p.failed)
        goto out;
    strip(&p);
    build(&p);
    *out = t;
    t = NULL;
    rc = 0;
out:
    xfree(p.toks);
    template_free(t);
    return rc;
}
