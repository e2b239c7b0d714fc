/*
 * template_lex - pass 1 of the parser: text, interpolations, directives and
 * comments in source order, the expressions parsed on the way and the
 * directive structure checked with a stack, so the first error in source
 * order is the one reported.
 */
#include "global/template/template_parse_int.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <string.h>

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
        template_parse_unexpected(p);
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
        if ((e = template_expr_parse(p, "unterminated <#if>", start)) == NULL ||
            expect_close(p, "unterminated <#if>", start) < 0)
            return -1;
        if (p->depth >= TEMPLATE_MAX_DEPTH) {
            template_parse_error(p, start, "nesting deeper than %d", TEMPLATE_MAX_DEPTH);
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
            template_parse_error(p, start, "unexpected <#elseif>");
            return -1;
        }
        if ((e = template_expr_parse(p, "unterminated <#elseif>", start)) == NULL ||
            expect_close(p, "unterminated <#elseif>", start) < 0)
            return -1;
        t = add_tok(p, PT_ELSEIF, start, p->pos);
        t->expr = e;
        return 0;
    }
    if (word_is(p, name, n, "else")) {
        if (p->depth == 0 || p->stack[p->depth - 1].kind != PT_IF ||
            p->stack[p->depth - 1].seen_else) {
            template_parse_error(p, start, "unexpected <#else>");
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

        if ((e = template_expr_parse(p, "unterminated <#list>", start)) == NULL)
            return -1;
        skip_ws(p);
        if ((vn = ident_len(p, p->pos)) == 0 || !word_is(p, p->pos, vn, "as")) {
            if (p->pos >= p->len)
                template_parse_error(p, start, "unterminated <#list>");
            else
                template_parse_error(p, p->pos, "expected \"as\" in <#list>");
            return -1;
        }
        p->pos += vn;
        skip_ws(p);
        if ((vn = ident_len(p, p->pos)) == 0) {
            if (p->pos >= p->len)
                template_parse_error(p, start, "unterminated <#list>");
            else
                template_parse_error(p, p->pos, "expected a loop variable name in <#list>");
            return -1;
        }
        size_t var = p->pos;
        p->pos += vn;
        if (expect_close(p, "unterminated <#list>", start) < 0)
            return -1;
        if (p->depth >= TEMPLATE_MAX_DEPTH) {
            template_parse_error(p, start, "nesting deeper than %d", TEMPLATE_MAX_DEPTH);
            return -1;
        }
        p->stack[p->depth++] = (struct open_dir){PT_LIST, start, 0};
        t = add_tok(p, PT_LIST, start, p->pos);
        t->expr = e;
        t->var = p->s + var;
        t->varlen = vn;
        return 0;
    }
    msg_printable(what, sizeof(what), p->s + name, n > 40 ? 40 : n);
    template_parse_error(p, start, "unsupported directive <#%s>", what);
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
        msg_printable(what, sizeof(what), p->s + name, n > 40 ? 40 : n);
        template_parse_error(p, start, "unsupported directive </#%s>", what);
        return -1;
    }
    if (p->depth == 0 || p->stack[p->depth - 1].kind != kind) {
        template_parse_error(p, start, "unexpected </#%s>", kind == PT_IF ? "if" : "list");
        return -1;
    }
    if (expect_close(p, kind == PT_IF ? "unterminated </#if>" : "unterminated </#list>", start) < 0)
        return -1;
    p->depth--;
    add_tok(p, kind == PT_IF ? PT_END_IF : PT_END_LIST, start, p->pos);
    return 0;
}

/* template_lex_source - pass 1 over the whole source */
int template_lex_source(struct parser *p)
{
    size_t text_start = 0;

    while (p->pos < p->len) {
        const char *s = p->s + p->pos;
        size_t left = p->len - p->pos;
        int kind = 0; /* 1 interp, 2 comment, 3 directive, 4 end, 5 user directive */

        if (template_parse_too_many(p, p->pos))
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
            struct texpr *e = template_expr_parse(p, "unclosed ${", start);
            if (e == NULL)
                return -1;
            skip_ws(p);
            if (peek(p, 0) != '}') {
                template_parse_unexpected(p);
                return -1;
            }
            p->pos++;
            add_tok(p, PT_INTERP, start, p->pos)->expr = e;
            break;
        }
        case 2: {
            const char *end = memmem(s + 4, left - 4, "-->", 3);
            if (end == NULL) {
                template_parse_error(p, start, "unclosed comment");
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
            msg_printable(what, sizeof(what), p->s + at, n > 40 ? 40 : n);
            template_parse_error(p, start, "unsupported directive <%s@%s>", s[1] == '/' ? "/" : "",
                                 what);
            return -1;
        }
        }
        text_start = p->pos;
    }
    if (template_parse_too_many(p, p->pos))
        return -1;
    if (p->pos > text_start)
        add_tok(p, PT_TEXT, text_start, p->pos);
    if (p->depth > 0) {
        struct open_dir *d = &p->stack[p->depth - 1];
        template_parse_error(p, d->off, "unclosed %s", dir_name(d->kind));
        return -1;
    }
    return 0;
}
