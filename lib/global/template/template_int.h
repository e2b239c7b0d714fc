/*
 * template_int - the parsed form of a template, shared by
 * template_parse.c, template_lex.c and template_expr.c (build it),
 * template_render.c (walks it) and template_value.c (values, formatting,
 * escaping). Not a public API.
 */
#ifndef TX_TEMPLATE_INT_H
#define TX_TEMPLATE_INT_H

#include "global/template/template.h"
#include "util/buf.h"

#include <jansson.h>
#include <stddef.h>

#define TPL_MAX_EXPR_HEIGHT 200

enum tpl_builtin {
    TB_HTML = 1,
    TB_URL,
    TB_UPPER,
    TB_LOWER,
    TB_CAP_FIRST,
    TB_NO_ESC,
};

enum texpr_kind {
    TE_VAR,     /* name */
    TE_MEMBER,  /* a.name */
    TE_STR,     /* string literal (decoded) */
    TE_NUM,     /* number literal */
    TE_BOOL,    /* true / false */
    TE_PAREN,   /* (a) */
    TE_BUILTIN, /* a?builtin */
    TE_DEFAULT, /* a!b, or a! (b NULL) */
    TE_NOT,     /* !a */
    TE_AND,
    TE_OR,
    TE_EQ,
    TE_NE,
};

struct texpr {
    enum texpr_kind kind;
    size_t off; /* source offset of the expression (path start) */
    struct texpr *a, *b;
    const char *name; /* TE_VAR, TE_MEMBER: identifier; TE_STR: text */
    size_t len;
    int builtin; /* TE_BUILTIN */
    int is_int;  /* TE_NUM */
    long long ival;
    double dval;
    int bval;   /* TE_BOOL */
    int height; /* of this expression tree (bounded) */
};

enum tnode_kind { TN_TEXT, TN_INTERP, TN_IF, TN_LIST };

struct tbranch {
    struct texpr *cond; /* NULL: <#else> */
    struct tnode *body;
    struct tbranch *next;
};

struct tnode {
    enum tnode_kind kind;
    size_t off; /* source offset (the "${" or "<#") */
    struct tnode *next;
    const char *text; /* TN_TEXT: points into the template's source copy */
    size_t len;
    struct texpr *expr;       /* TN_INTERP; TN_LIST: the sequence */
    struct tbranch *branches; /* TN_IF */
    const char *var;          /* TN_LIST: loop variable */
    size_t varlen;
    struct tnode *body; /* TN_LIST */
};

/* every allocation of a template lives in its arena, freed at once */
struct tarena_block {
    struct tarena_block *next;
    size_t used, cap;
    char data[];
};

struct template
{
    char *src;
    size_t srclen;
    char part[32];
    struct tnode *root;
    struct tarena_block *arena;
};

void *template_arena_alloc(struct template *t, size_t n);

/* template_position - 1-based line and column (code points) of off in the source */
void template_position(const char *src, size_t len, size_t off, int *line, int *col);

/* values while rendering */
enum tval_type { TV_MISSING, TV_EMPTY, TV_STR, TV_INT, TV_REAL, TV_BOOL, TV_ARRAY, TV_OBJECT };

struct tval {
    enum tval_type type;
    const char *s; /* TV_STR */
    size_t len;
    char *owned; /* TV_STR: s is owned (xfree) */
    long long i;
    double d;
    int b;
    json_t *j;                /* TV_ARRAY, TV_OBJECT: borrowed */
    int markup;               /* escaped already, or ?no_esc: never auto-escaped */
    const struct texpr *miss; /* TV_MISSING: the reference that was missing */
};

/* template_value_from_json - borrowed view of a JSON value (null: missing) */
void template_value_from_json(struct tval *v, json_t *j);
void template_value_clear(struct tval *v);
/* template_value_truthy - contract §9.4 truthiness */
int template_value_truthy(const struct tval *v);
/* template_value_equal - contract §9.4 == */
int template_value_equal(const struct tval *a, const struct tval *b);
/*
 * template_value_scalar_text - the text of a scalar into scratch (numbers in computer
 * form, booleans as true/false) and a pointer/length to it; -1 for arrays
 * and objects.
 */
int template_value_scalar_text(const struct tval *v, char *scratch, size_t scratchsz,
                               const char **s, size_t *len);
/* template_format_number - shortest round-trip "computer form" of d into out */
char *template_format_number(char *out, size_t outsz, double d);

/* transformations: append to out; -1 when out's maximum is passed */
int template_html_escape(struct buf *out, const char *s, size_t len);
int template_url_escape(struct buf *out, const char *s, size_t len);
/* how: TB_UPPER, TB_LOWER, TB_CAP_FIRST */
int template_case_map(struct buf *out, const char *s, size_t len, int how);

#endif
