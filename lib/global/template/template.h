/*
 * template - the FreeMarker subset of contract §9, parsed once per job and
 * rendered once per recipient block.
 *
 *   ${expr}                      interpolation
 *   <#if c>..<#elseif c>..<#else>..</#if>
 *   <#list seq as item>..</#list>
 *   <#-- comment -->
 *
 * Expressions: variables and member access (a.b.c), string literals
 * ("..." / '...', escapes \" \' \\ and FreeMarker's \n \r \t \f \b \l \g
 * \a \{ \= \xHHHH), number literals, true/false, parentheses, the default
 * operator (x!"d", x!), built-ins ?html ?url ?upper_case ?lower_case
 * ?cap_first ?no_esc (chained left to right), and in conditions ! == !=
 * && || (precedence ! > ==,!= > && > ||).
 *
 * White-space stripping as in FreeMarker: on a line that holds only
 * directives and/or comments besides white space, that white space and
 * the line break are not written.
 *
 * Errors. template_parse() writes the text that follows
 * "Invalid format for <part>.template: " (contract §9.6), e.g.
 * "unclosed <#if> at line 3 column 7"; template_render() writes the
 * complete description of contract §9.5, e.g. "Missing template variable
 * name in body.template at line 1 column 3". Lines and columns are
 * 1-based; columns count Unicode code points.
 *
 * Bounds: directive nesting 32 and 50,000 elements (tokens and expression
 * nodes; parse), 100,000 loop iterations per rendering, 1 MB of output per
 * rendering (both configurable for tests), every intermediate value
 * bounded by the output limit; the variables of one rendering at most
 * 100,000 values, 1 MB of names and strings and 64 levels (render).
 *
 * A parsed template is immutable: several threads may render it at once.
 */
#ifndef TX_TEMPLATE_H
#define TX_TEMPLATE_H

#include "util/buf.h"

#include <jansson.h>
#include <stddef.h>

#define TEMPLATE_MAX_DEPTH 32
#define TEMPLATE_MAX_ELEMENTS 50000
#define TEMPLATE_MAX_VARS 100000 /* as many as loop iterations */
#define TEMPLATE_MAX_VARS_BYTES 1048576
#define TEMPLATE_MAX_VARS_DEPTH 64 /* a JobRequest's nesting (contract §4.1) */
#define TEMPLATE_MAX_LOOPS 100000L
#define TEMPLATE_MAX_OUTPUT 1048576
#define TEMPLATE_ERR_MAX 512

struct template;

struct template_opts {
    int auto_escape_html; /* escape every interpolation as ?html would */
    size_t max_output;    /* 0: TEMPLATE_MAX_OUTPUT */
    long max_loops;       /* 0: TEMPLATE_MAX_LOOPS */
};

/*
 * template_parse - parse src[0..len) of part ("subject", "body",
 * "alternative"). On success *out is the template (caller frees with
 * template_free) and 0 is returned; on a syntax error -1 with the
 * message in err. Ownership: *out is new; src is copied.
 */
int template_parse(const char *src, size_t len, const char *part, struct template **out, char *err,
                   size_t errsz);

/*
 * template_render - render t with the variables of vars (a JSON object,
 * or NULL for none), appending to out. 0 on success; -1 with the
 * contract's description in err (out is then truncated back to its
 * length before the call). Ownership: vars is borrowed.
 */
int template_render(const struct template *t, json_t *vars, const struct template_opts *opts,
                    struct buf *out, char *err, size_t errsz);

/* template_free - release a parsed template (NULL is fine) */
void template_free(struct template *t);

/* template_part - the part name given to template_parse */
const char *template_part(const struct template *t);

#endif
