/*
 * template_parse_int - the parser's state, shared by template_parse.c (the
 * driver: errors, white-space stripping, the node tree), template_lex.c
 * (text, interpolations, directives and comments) and template_expr.c
 * (expressions). Not a public API.
 */
#ifndef TX_TEMPLATE_PARSE_INT_H
#define TX_TEMPLATE_PARSE_INT_H

#include "global/template/template_int.h"

#include <stddef.h>
#include <string.h>

enum ptok_kind {
    PT_TEXT,
    PT_INTERP,
    PT_IF,
    PT_ELSEIF,
    PT_ELSE,
    PT_END_IF,
    PT_LIST,
    PT_END_LIST,
    PT_COMMENT,
};

struct ptok {
    enum ptok_kind kind;
    size_t start, end;
    struct texpr *expr;
    const char *var;
    size_t varlen;
};

struct open_dir {
    enum ptok_kind kind; /* PT_IF or PT_LIST */
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
    size_t nexpr; /* expression nodes made (TEMPLATE_MAX_ELEMENTS) */
};

/* cursor helpers */

static inline int is_ident_start(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '$';
}

static inline int is_ident_char(int c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static inline int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline void skip_ws(struct parser *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f')
            break;
        p->pos++;
    }
}

static inline int peek(struct parser *p, size_t ahead)
{
    return p->pos + ahead < p->len ? (unsigned char)p->s[p->pos + ahead] : -1;
}

static inline int starts(struct parser *p, const char *lit)
{
    size_t n = strlen(lit);

    return p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0;
}

/* ident_len - length of the identifier at pos (0: none) */
static inline size_t ident_len(struct parser *p, size_t at)
{
    size_t n = 0;

    if (at >= p->len || !is_ident_start((unsigned char)p->s[at]))
        return 0;
    while (at + n < p->len && is_ident_char((unsigned char)p->s[at + n]))
        n++;
    return n;
}

static inline int word_is(struct parser *p, size_t at, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(p->s + at, w, n) == 0;
}

/*
 * template_parse_error - record the first syntax error: "<what> at line L
 * column C"
 */
void template_parse_error(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * template_parse_unexpected - "unexpected <token>" at pos, or, at the end of
 * the source, p->open_what at p->open_off
 */
void template_parse_unexpected(struct parser *p);
/*
 * template_parse_too_many - the template has more than TEMPLATE_MAX_ELEMENTS
 * tokens and expression nodes: a syntax error at off. Every element costs about 100
 * bytes, so 20 MB of "${a}" would take 1 GB. Checked per token and per
 * composite expression (one token can hold a long expression).
 */
int template_parse_too_many(struct parser *p, size_t off);

/*
 * template_expr_parse - one whole expression at pos (recursive descent, depth
 * and height bounded); NULL after recording the error. An end of the source
 * inside it is reported as what at open_off.
 */
struct texpr *template_expr_parse(struct parser *p, const char *what, size_t open_off);

/*
 * template_lex_source - pass 1: the tokens of the whole source in p->toks,
 * the directive structure checked; -1 after recording the first error in
 * source order.
 */
int template_lex_source(struct parser *p);

#endif
