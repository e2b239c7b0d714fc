/*
 * template_fuzz - libFuzzer target over the template engine
 * (lib/global/template/template.h): parse, then render with variables.
 *
 * Input: an optional first line holding a JSON object (the
 * personalization), the rest is the template source; the first byte's low
 * bit switches autoEscapeHtml. Limits are lowered (64 KB output, 5,000
 * loop iterations) so hostile inputs stay fast.
 *
 * Invariants beyond "no crash, no leak, no undefined behaviour": a syntax
 * error says "... at line L column C" with L and C within the source; a
 * successful render stays within the output limit; a failed render
 * leaves the output as it was and names the part; rendering twice gives
 * the same result (a parsed template is immutable).
 *
 * FUZZ_SOURCES: lib/global/template/template_parse.c lib/global/template/template_value.c lib/global/template/template_render.c
 * FUZZ_SOURCES: lib/global/template/template_lex.c lib/global/template/template_expr.c
 * FUZZ_SOURCES: lib/util/buf.c lib/util/codec.c lib/util/mymalloc.c lib/util/msg.c lib/util/timeutil.c
 * FUZZ_LIBS: -ljansson
 */
#include "global/template/template.h"
#include "util/buf.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_MAX 65536

static void render(const struct template *t, json_t *vars, int esc, struct buf *out, int *rc,
                   char *err, size_t errsz)
{
    struct template_opts o = {esc, OUT_MAX, 5000};

    buf_puts(out, "pre");
    *rc = template_render(t, vars, &o, out, err, errsz);
    if (*rc == 0 && out->len - 3 > OUT_MAX)
        abort();
    if (*rc < 0 && (out->len != 3 || strstr(err, "body.template") == NULL))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    json_t *vars = NULL;
    struct template *t = NULL;
    char err[TEMPLATE_ERR_MAX];
    int esc = size > 0 && (data[0] & 1);

    if (nl && size > 0 && s[0] == '{') {
        vars = json_loadb(s, (size_t)(nl - s), JSON_REJECT_DUPLICATES, NULL);
        if (vars) {
            size -= (size_t)(nl - s) + 1;
            s = nl + 1;
        }
    }
    if (template_parse(s, size, "body", &t, err, sizeof(err)) < 0) {
        const char *at = strstr(err, " at line ");
        unsigned line = 0, col = 0;
        if (at == NULL || sscanf(at, " at line %u column %u", &line, &col) != 2 || line == 0 ||
            col == 0 || line > size + 1 || col > size + 1)
            abort();
        json_decref(vars);
        return 0;
    }
    struct buf a = BUF_INIT(OUT_MAX + 64), b = BUF_INIT(OUT_MAX + 64);
    char err2[TEMPLATE_ERR_MAX];
    int rc1, rc2;
    render(t, vars, esc, &a, &rc1, err, sizeof(err));
    render(t, vars, esc, &b, &rc2, err2, sizeof(err2));
    if (rc1 != rc2 || a.len != b.len || memcmp(buf_ptr(&a), buf_ptr(&b), a.len) != 0 ||
        (rc1 < 0 && strcmp(err, err2) != 0))
        abort();
    buf_free(&a);
    buf_free(&b);
    template_free(t);
    json_decref(vars);
    return 0;
}
