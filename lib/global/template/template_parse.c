/*
 * template_parse - the parser of the FreeMarker subset; see template.h.
 *
 * Three passes over the source:
 *   1. lex (template_lex.c): text, interpolations, directives and comments
 *      in source order, with the expressions parsed on the way
 *      (template_expr.c) and the directive structure checked with a stack,
 *      so the first error in source order is the one reported;
 *   2. white-space stripping: each physical line that holds directives or
 *      comments and otherwise only white space loses that white space and
 *      its line break;
 *   3. tree: the tokens become the node tree the renderer walks.
 * This file also holds the template's arena and the parser's error
 * reporting.
 */
#include "global/template/template_parse_int.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* template_arena_alloc - n zeroed bytes from the template's arena */
void *template_arena_alloc(struct template *t, size_t n)
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

/* template_free - the template and its arena; NULL is fine */
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

/* template_part - the part name given to template_parse */
const char *template_part(const struct template *t)
{
    return t->part;
}

/* template_position - 1-based line and column (code points) of off */
void template_position(const char *src, size_t len, size_t off, int *line, int *col)
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

/* template_parse_error - record the first syntax error, with its position */
void template_parse_error(struct parser *p, size_t off, const char *fmt, ...)
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
    template_position(p->s, p->len, off, &line, &col);
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
    if ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_' ||
        s[0] == '$' || (s[0] >= '0' && s[0] <= '9')) {
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
    msg_printable(tmp, sizeof(tmp), s, n);
    snprintf(out, outsz, "\"%s\"", tmp);
}

/* template_parse_unexpected - "unexpected <token>", or the open construct at the end */
void template_parse_unexpected(struct parser *p)
{
    char tok[80];

    if (p->pos >= p->len) {
        template_parse_error(p, p->open_off, "%s", p->open_what);
        return;
    }
    token_preview(p, p->pos, tok, sizeof(tok));
    template_parse_error(p, p->pos, "unexpected %s", tok);
}

/* template_parse_too_many - over TEMPLATE_MAX_ELEMENTS elements: an error at off (see the header) */
int template_parse_too_many(struct parser *p, size_t off)
{
    if (p->ntoks + p->nexpr <= TEMPLATE_MAX_ELEMENTS)
        return 0;
    template_parse_error(p, off, "more than %d elements", TEMPLATE_MAX_ELEMENTS);
    return 1;
}

/* pass 2, white-space stripping: what a physical line holds */
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

/* pass 3, the tree: one open directive while building */
struct frame {
    struct tnode *node;
    struct tnode **tail;
    struct tbranch **btail;
};

static struct tnode *new_node(struct parser *p, enum tnode_kind kind, size_t off)
{
    struct tnode *n = template_arena_alloc(p->t, sizeof(*n));

    n->kind = kind;
    n->off = off;
    return n;
}

/* build - the node tree from the tokens (their structure was checked by the lexer) */
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
            b = template_arena_alloc(p->t, sizeof(*b));
            b->cond = t->expr;
            n->branches = b;
            d++;
            st[d].node = n;
            st[d].tail = &b->body;
            st[d].btail = &b->next;
            break;
        case PT_ELSEIF:
        case PT_ELSE:
            b = template_arena_alloc(p->t, sizeof(*b));
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

int template_parse(const char *src, size_t len, const char *part, struct template **out, char *err,
                   size_t errsz)
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
    if (template_lex_source(&p) < 0 || p.failed)
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
