/*
 * template_render - renders a parsed template with one block's
 * personalization; see template.h.
 *
 * Missing values travel as TV_MISSING (remembering which reference was
 * missing) until something needs them: an interpolation or a <#list>
 * reports them, a condition treats them as false, a default replaces
 * them when it covers that reference.
 */
#include "global/template/template_int.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct scope {
    const char *name;
    size_t len;
    json_t *value;
    struct scope *up;
};

struct rctx {
    const struct template *t;
    json_t *vars;
    struct scope *scope;
    struct buf *out;
    size_t base;
    size_t max_out;
    long loops, max_loops;
    int auto_escape;
    char *err;
    size_t errsz;
    int failed;
};

/* rerr - "<what> in <part>.template at line L column C" (first error wins) */
static void rerr(struct rctx *c, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void rerr(struct rctx *c, size_t off, const char *fmt, ...)
{
    char what[TEMPLATE_ERR_MAX];
    va_list ap;
    int line, col;

    if (c->failed)
        return;
    c->failed = 1;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    template_position(c->t->src, c->t->srclen, off, &line, &col);
    snprintf(c->err, c->errsz, "%s in %s.template at line %d column %d", what, c->t->part, line,
             col);
}

static void size_error(struct rctx *c)
{
    if (c->failed)
        return;
    c->failed = 1;
    snprintf(c->err, c->errsz, "Rendered %s.template exceeds %zu bytes", c->t->part, c->max_out);
}

/* path - the name of a reference for messages: a.b.c */
static void path(const struct texpr *e, struct buf *b)
{
    switch (e->kind) {
    case TE_VAR:
        buf_append(b, e->name, e->len);
        break;
    case TE_MEMBER:
        path(e->a, b);
        buf_putc(b, '.');
        buf_append(b, e->name, e->len);
        break;
    case TE_BUILTIN:
    case TE_DEFAULT:
    case TE_PAREN:
        path(e->a, b);
        break;
    case TE_STR:
        buf_puts(b, "string literal");
        break;
    default:
        buf_puts(b, "expression");
        break;
    }
}

static void path_text(const struct texpr *e, char *out, size_t outsz)
{
    struct buf b = BUF_INIT(4096);

    path(e, &b);
    msg_printable(out, outsz, buf_ptr(&b), b.len);
    buf_free(&b);
}

static void missing_error(struct rctx *c, const struct tval *v)
{
    char name[200];

    path_text(v->miss, name, sizeof(name));
    rerr(c, v->miss->off, "Missing template variable %s", name);
}

static json_t *lookup(struct rctx *c, const char *name, size_t len)
{
    for (struct scope *s = c->scope; s; s = s->up)
        if (s->len == len && memcmp(s->name, name, len) == 0)
            return s->value;
    if (json_is_object(c->vars))
        return json_object_getn(c->vars, name, len);
    return NULL;
}

/* head - the reference a default operator covers: built-ins are transparent */
static const struct texpr *head(const struct texpr *e)
{
    while (e->kind == TE_BUILTIN)
        e = e->a;
    return e;
}

static int eval(struct rctx *c, const struct texpr *e, struct tval *v);

static int apply_builtin(struct rctx *c, const struct texpr *e, struct tval *v)
{
    char scratch[64], name[200];
    const char *s;
    size_t len;
    struct buf b;

    if (v->type == TV_MISSING)
        return 0;
    if (e->builtin == TB_NO_ESC) {
        v->markup = 1;
        return 0;
    }
    if (template_value_scalar_text(v, scratch, sizeof(scratch), &s, &len) < 0) {
        path_text(e->a, name, sizeof(name));
        rerr(c, e->off, "Cannot render %s: not a scalar", name);
        return -1;
    }
    if (e->builtin == TB_HTML && c->auto_escape && v->markup)
        return 0; /* escaped already: never twice */
    buf_init(&b, c->max_out);
    int rc;
    switch (e->builtin) {
    case TB_HTML:
        rc = template_html_escape(&b, s, len);
        break;
    case TB_URL:
        rc = template_url_escape(&b, s, len);
        break;
    default:
        rc = template_case_map(&b, s, len, e->builtin);
        break;
    }
    if (rc < 0) {
        buf_free(&b);
        size_error(c);
        return -1;
    }
    int markup = e->builtin == TB_HTML ? 1 : e->builtin == TB_URL ? 0 : v->markup;
    template_value_clear(v);
    memset(v, 0, sizeof(*v));
    v->type = TV_STR;
    v->owned = buf_steal(&b, &v->len);
    if (v->owned == NULL)
        v->owned = xstrdup("");
    v->s = v->owned;
    v->markup = markup;
    return 0;
}

/* eval_member - a.name: missing when a is, or is not an object */
static int eval_member(struct rctx *c, const struct texpr *e, struct tval *v)
{
    struct tval a;

    if (eval(c, e->a, &a) < 0)
        return -1;
    if (a.type == TV_MISSING) {
        *v = a;
        return 0;
    }
    if (a.type == TV_OBJECT)
        template_value_from_json(v, json_object_getn(a.j, e->name, e->len));
    else
        v->type = TV_MISSING; /* a member of a scalar or an array does not exist */
    template_value_clear(&a);
    if (v->type == TV_MISSING)
        v->miss = e;
    return 0;
}

/* literal - the value of a string, number or boolean literal (borrowed) */
static void literal(const struct texpr *e, struct tval *v)
{
    switch (e->kind) {
    case TE_STR:
        v->type = TV_STR;
        v->s = e->name;
        v->len = e->len;
        break;
    case TE_NUM:
        if (e->is_int) {
            v->type = TV_INT;
            v->i = e->ival;
        } else {
            v->type = TV_REAL;
            v->d = e->dval;
        }
        break;
    default:
        v->type = TV_BOOL;
        v->b = e->bval;
        break;
    }
}

/*
 * eval_default - a!b and a!: the default covers only the reference's own
 * last part being missing (or a parenthesised / defaulted operand)
 */
static int eval_default(struct rctx *c, const struct texpr *e, struct tval *v)
{
    if (eval(c, e->a, v) < 0)
        return -1;
    if (v->type != TV_MISSING)
        return 0;
    if (head(e->a)->kind != TE_PAREN && head(e->a)->kind != TE_DEFAULT && v->miss != head(e->a))
        return 0; /* an outer part of the reference is missing: not covered */
    if (e->b)
        return eval(c, e->b, v);
    memset(v, 0, sizeof(*v));
    v->type = TV_EMPTY;
    v->s = "";
    return 0;
}

/* eval - the value of e into v (cleared first; template_value_clear it) */
static int eval(struct rctx *c, const struct texpr *e, struct tval *v)
{
    struct tval a, b;

    memset(v, 0, sizeof(*v));
    switch (e->kind) {
    case TE_VAR:
        template_value_from_json(v, lookup(c, e->name, e->len));
        if (v->type == TV_MISSING)
            v->miss = e;
        return 0;
    case TE_MEMBER:
        return eval_member(c, e, v);
    case TE_STR:
    case TE_NUM:
    case TE_BOOL:
        literal(e, v);
        return 0;
    case TE_PAREN:
        return eval(c, e->a, v);
    case TE_BUILTIN:
        if (eval(c, e->a, v) < 0)
            return -1;
        if (apply_builtin(c, e, v) < 0) {
            template_value_clear(v);
            return -1;
        }
        return 0;
    case TE_DEFAULT:
        return eval_default(c, e, v);
    case TE_NOT:
        if (eval(c, e->a, &a) < 0)
            return -1;
        v->type = TV_BOOL;
        v->b = !template_value_truthy(&a);
        template_value_clear(&a);
        return 0;
    case TE_AND:
    case TE_OR:
        if (eval(c, e->a, &a) < 0)
            return -1;
        v->type = TV_BOOL;
        v->b = template_value_truthy(&a);
        template_value_clear(&a);
        if ((e->kind == TE_AND) == (v->b != 0)) {
            if (eval(c, e->b, &b) < 0)
                return -1;
            v->b = template_value_truthy(&b);
            template_value_clear(&b);
        }
        return 0;
    case TE_EQ:
    case TE_NE:
        if (eval(c, e->a, &a) < 0)
            return -1;
        if (eval(c, e->b, &b) < 0) {
            template_value_clear(&a);
            return -1;
        }
        v->type = TV_BOOL;
        v->b = template_value_equal(&a, &b) == (e->kind == TE_EQ);
        template_value_clear(&a);
        template_value_clear(&b);
        return 0;
    }
    return 0;
}

/* escaped_len - the length of s after ?html */
static size_t escaped_len(const char *s, size_t len)
{
    size_t n = len;

    for (size_t i = 0; i < len; i++)
        switch (s[i]) {
        case '&':
            n += 4;
            break;
        case '<':
        case '>':
            n += 3;
            break;
        case '"':
        case '\'':
            n += 5;
            break;
        default:
            break;
        }
    return n;
}

/*
 * emit - append to the output within the part's limit; checked before
 * appending, so a failure never touches what the caller's buffer holds
 */
static int emit(struct rctx *c, const char *s, size_t len, int escape)
{
    size_t add = escape ? escaped_len(s, len) : len;

    if (c->out->len - c->base + add > c->max_out ||
        (c->out->max && c->out->len + add > c->out->max)) {
        size_error(c);
        return -1;
    }
    if ((escape ? template_html_escape(c->out, s, len) : buf_append(c->out, s, len)) < 0) {
        size_error(c);
        return -1;
    }
    return 0;
}

static int render_nodes(struct rctx *c, const struct tnode *n);

/* eval_present - eval e into v, a missing value being an error: 0, or -1 with v cleared */
static int eval_present(struct rctx *c, const struct texpr *e, struct tval *v)
{
    if (eval(c, e, v) < 0)
        return -1;
    if (v->type == TV_MISSING) {
        missing_error(c, v);
        template_value_clear(v);
        return -1;
    }
    return 0;
}

static int render_interp(struct rctx *c, const struct tnode *n)
{
    struct tval v;
    char scratch[64], name[200];
    const char *s;
    size_t len;
    int rc = -1;

    if (eval_present(c, n->expr, &v) < 0)
        return -1;
    if (template_value_scalar_text(&v, scratch, sizeof(scratch), &s, &len) < 0) {
        path_text(n->expr, name, sizeof(name));
        rerr(c, n->expr->off, "Cannot render %s: not a scalar", name);
        goto out;
    }
    rc = emit(c, s, len, c->auto_escape && !v.markup && v.type == TV_STR);
out:
    template_value_clear(&v);
    return rc;
}

static int render_if(struct rctx *c, const struct tnode *n)
{
    for (const struct tbranch *b = n->branches; b; b = b->next) {
        int take = 1;

        if (b->cond) {
            struct tval v;

            if (eval(c, b->cond, &v) < 0)
                return -1;
            take = template_value_truthy(&v);
            template_value_clear(&v);
        }
        if (take)
            return render_nodes(c, b->body);
    }
    return 0;
}

static int render_list(struct rctx *c, const struct tnode *n)
{
    struct tval v;
    struct scope sc;
    char name[200];
    int rc = -1;

    if (eval_present(c, n->expr, &v) < 0)
        return -1;
    if (v.type == TV_EMPTY) {
        rc = 0;
        goto out;
    }
    if (v.type != TV_ARRAY) {
        path_text(n->expr, name, sizeof(name));
        rerr(c, n->expr->off, "Cannot list %s: not an array", name);
        goto out;
    }
    sc.name = n->var;
    sc.len = n->varlen;
    sc.up = c->scope;
    for (size_t i = 0; i < json_array_size(v.j); i++) {
        if (++c->loops > c->max_loops) {
            rerr(c, n->off, "Loop limit exceeded");
            goto out;
        }
        sc.value = json_array_get(v.j, i);
        c->scope = &sc;
        int r = render_nodes(c, n->body);
        c->scope = sc.up;
        if (r < 0)
            goto out;
    }
    rc = 0;
out:
    template_value_clear(&v);
    return rc;
}

static int render_nodes(struct rctx *c, const struct tnode *n)
{
    for (; n; n = n->next) {
        int rc = 0;

        switch (n->kind) {
        case TN_TEXT:
            rc = emit(c, n->text, n->len, 0);
            break;
        case TN_INTERP:
            rc = render_interp(c, n);
            break;
        case TN_IF:
            rc = render_if(c, n);
            break;
        case TN_LIST:
            rc = render_list(c, n);
            break;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

#define STR(x) #x
#define XSTR(x) STR(x)

/*
 * vars_bounded - NULL when vars holds at most TEMPLATE_MAX_VARS values
 * (the object not counted), TEMPLATE_MAX_VARS_BYTES of member names and
 * string values and TEMPLATE_MAX_VARS_DEPTH levels (the object is level
 * 1); else the limit passed. txmail-rest refuses such personalization
 * at intake (rest_jobreq.h); this holds the bound for any other producer.
 * An explicit stack: the input is hostile.
 */
static const char *vars_bounded(json_t *vars)
{
    struct {
        json_t *j;
        void *it; /* objects: the next member */
        size_t i; /* arrays: the next element */
    } st[TEMPLATE_MAX_VARS_DEPTH];
    size_t values = 0, bytes = 0;
    int d = 0;

    if (!json_is_object(vars))
        return NULL;
    st[0].j = vars;
    st[0].it = json_object_iter(vars);
    st[0].i = 0;
    while (d >= 0) {
        json_t *v;
        if (json_is_object(st[d].j)) {
            if (st[d].it == NULL) {
                d--;
                continue;
            }
            bytes += strlen(json_object_iter_key(st[d].it));
            v = json_object_iter_value(st[d].it);
            st[d].it = json_object_iter_next(st[d].j, st[d].it);
        } else {
            if (st[d].i >= json_array_size(st[d].j)) {
                d--;
                continue;
            }
            v = json_array_get(st[d].j, st[d].i++);
        }
        if (++values > TEMPLATE_MAX_VARS)
            return XSTR(TEMPLATE_MAX_VARS) " values";
        if (json_is_string(v))
            bytes += json_string_length(v);
        if (bytes > TEMPLATE_MAX_VARS_BYTES)
            return XSTR(TEMPLATE_MAX_VARS_BYTES) " bytes";
        if (json_is_object(v) || json_is_array(v)) {
            if (d + 1 >= TEMPLATE_MAX_VARS_DEPTH)
                return XSTR(TEMPLATE_MAX_VARS_DEPTH) " levels";
            d++;
            st[d].j = v;
            st[d].it = json_is_object(v) ? json_object_iter(v) : NULL;
            st[d].i = 0;
        }
    }
    return NULL;
}

int template_render(const struct template *t, json_t *vars, const struct template_opts *opts,
                    struct buf *out, char *err, size_t errsz)
{
    const char *over;

    struct rctx c;

    memset(&c, 0, sizeof(c));
    c.t = t;
    c.vars = vars;
    c.out = out;
    c.base = out->len;
    c.max_out = opts && opts->max_output ? opts->max_output : TEMPLATE_MAX_OUTPUT;
    c.max_loops = opts && opts->max_loops ? opts->max_loops : TEMPLATE_MAX_LOOPS;
    c.auto_escape = opts ? opts->auto_escape_html : 0;
    c.err = err;
    c.errsz = errsz;
    if (errsz)
        err[0] = 0;
    if ((over = vars_bounded(vars)) != NULL) {
        snprintf(err, errsz, "Template variables of %s.template exceed %s", t->part, over);
        return -1;
    }
    if (render_nodes(&c, t->root) < 0) {
        if (!c.failed)
            size_error(&c);
        if (out->data && out->len >= c.base)
            buf_truncate(out, c.base);
        return -1;
    }
    return 0;
}
