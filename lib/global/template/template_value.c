/*
 * template_value - values of the template engine: JSON views, truthiness
 * and equality (contract §9.4), number formatting in computer form, and
 * the string built-ins (HTML and URL escaping, Unicode simple case
 * mapping). See template.h.
 */
#include "global/template/template_int.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

void template_value_from_json(struct tval *v, json_t *j)
{
    memset(v, 0, sizeof(*v));
    switch (j ? json_typeof(j) : JSON_NULL) {
    case JSON_STRING:
        v->type = TV_STR;
        v->s = json_string_value(j);
        v->len = json_string_length(j);
        break;
    case JSON_INTEGER:
        v->type = TV_INT;
        v->i = json_integer_value(j);
        break;
    case JSON_REAL:
        v->type = TV_REAL;
        v->d = json_real_value(j);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        v->type = TV_BOOL;
        v->b = json_is_true(j);
        break;
    case JSON_ARRAY:
        v->type = TV_ARRAY;
        v->j = j;
        break;
    case JSON_OBJECT:
        v->type = TV_OBJECT;
        v->j = j;
        break;
    default:
        v->type = TV_MISSING;
        break;
    }
}

void template_value_clear(struct tval *v)
{
    xfree(v->owned);
    v->owned = NULL;
}

int template_value_truthy(const struct tval *v)
{
    switch (v->type) {
    case TV_STR:
        return v->len > 0;
    case TV_INT:
        return v->i != 0;
    case TV_REAL:
        return v->d != 0;
    case TV_BOOL:
        return v->b;
    case TV_ARRAY:
        return json_array_size(v->j) > 0;
    case TV_OBJECT:
        return json_object_size(v->j) > 0;
    default:
        return 0;
    }
}

static int is_num(const struct tval *v)
{
    return v->type == TV_INT || v->type == TV_REAL;
}

int template_value_equal(const struct tval *a, const struct tval *b)
{
    int as = a->type == TV_STR || a->type == TV_EMPTY;
    int bs = b->type == TV_STR || b->type == TV_EMPTY;

    if (a->type == TV_MISSING || b->type == TV_MISSING)
        return a->type == b->type;
    if (as && bs)
        return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
    if (is_num(a) && is_num(b)) {
        if (a->type == TV_INT && b->type == TV_INT)
            return a->i == b->i;
        return (a->type == TV_INT ? (double)a->i : a->d) ==
               (b->type == TV_INT ? (double)b->i : b->d);
    }
    if (a->type == TV_BOOL && b->type == TV_BOOL)
        return !a->b == !b->b;
    if ((a->type == TV_ARRAY && b->type == TV_ARRAY) ||
        (a->type == TV_OBJECT && b->type == TV_OBJECT))
        return json_equal(a->j, b->j);
    return 0;
}

/*
 * template_format_number - ECMAScript Number::toString: the shortest digits
 * that read back as d, plain notation for 1e-7 < |d| < 1e21, otherwise
 * d[.ddd]e+NN. Integral values print without a decimal point.
 */
char *template_format_number(char *out, size_t outsz, double d)
{
    char tmp[40], digits[24];
    int nd = 0, e10, n, prec;
    size_t o = 0;

    if (isnan(d)) {
        snprintf(out, outsz, "NaN");
        return out;
    }
    if (isinf(d)) {
        snprintf(out, outsz, "%sInfinity", d < 0 ? "-" : "");
        return out;
    }
    if (d == 0) {
        snprintf(out, outsz, "0");
        return out;
    }
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, fabs(d));
        if (strtod(tmp, NULL) == fabs(d))
            break;
    }
    /* tmp is "D.DDDDe[+-]XX" or "De[+-]XX" */
    const char *q = tmp;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9' && nd < (int)sizeof(digits) - 1)
            digits[nd++] = *q;
    e10 = *q == 'e' ? (int)strtol(q + 1, NULL, 10) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = 0;
    n = e10 + 1;
    char res[64];
    if (d < 0)
        res[o++] = '-';
    if (nd <= n && n <= 21) {
        for (int i = 0; i < nd; i++)
            res[o++] = digits[i];
        for (int i = 0; i < n - nd; i++)
            res[o++] = '0';
    } else if (0 < n && n <= 21) {
        for (int i = 0; i < nd; i++) {
            if (i == n)
                res[o++] = '.';
            res[o++] = digits[i];
        }
    } else if (-6 < n && n <= 0) {
        res[o++] = '0';
        res[o++] = '.';
        for (int i = 0; i < -n; i++)
            res[o++] = '0';
        for (int i = 0; i < nd; i++)
            res[o++] = digits[i];
    } else {
        res[o++] = digits[0];
        if (nd > 1) {
            res[o++] = '.';
            for (int i = 1; i < nd; i++)
                res[o++] = digits[i];
        }
        o +=
            (size_t)snprintf(res + o, sizeof(res) - o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
    res[o] = 0;
    snprintf(out, outsz, "%s", res);
    return out;
}

int template_value_scalar_text(const struct tval *v, char *scratch, size_t scratchsz,
                               const char **s, size_t *len)
{
    switch (v->type) {
    case TV_STR:
        *s = v->s;
        *len = v->len;
        return 0;
    case TV_EMPTY:
        *s = "";
        *len = 0;
        return 0;
    case TV_INT:
        snprintf(scratch, scratchsz, "%lld", v->i);
        break;
    case TV_REAL:
        template_format_number(scratch, scratchsz, v->d);
        break;
    case TV_BOOL:
        snprintf(scratch, scratchsz, "%s", v->b ? "true" : "false");
        break;
    default:
        return -1;
    }
    *s = scratch;
    *len = strlen(scratch);
    return 0;
}

int template_html_escape(struct buf *out, const char *s, size_t len)
{
    size_t run = 0;

    for (size_t i = 0; i < len; i++) {
        const char *rep;

        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        if (buf_append(out, s + run, i - run) < 0 || buf_puts(out, rep) < 0)
            return -1;
        run = i + 1;
    }
    return buf_append(out, s + run, len - run);
}

int template_url_escape(struct buf *out, const char *s, size_t len)
{
    static const char hx[] = "0123456789ABCDEF";
    size_t run = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            strchr("_-.!~*'()", c) != NULL)
            continue;
        char enc[3] = {'%', hx[c >> 4], hx[c & 15]};
        if (buf_append(out, s + run, i - run) < 0 || buf_append(out, enc, 3) < 0)
            return -1;
        run = i + 1;
    }
    return buf_append(out, s + run, len - run);
}

/* ---------------------------------------------------------------- case mapping */

static pthread_once_t locale_once = PTHREAD_ONCE_INIT;
static locale_t utf8_locale;

/* C.UTF-8 carries Unicode's simple case mappings (glibc >= 2.35) */
static void locale_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (utf8_locale == (locale_t)0)
        msg_warn("template: no C.UTF-8 locale: case mapping is ASCII only");
}

/* utf8_next - decode one code point; -1 (and one byte) for an invalid sequence */
static long utf8_next(const unsigned char *s, size_t len, size_t *n)
{
    unsigned c = s[0];
    unsigned cp;
    size_t need;

    *n = 1;
    if (c < 0x80)
        return c;
    if (c >= 0xc2 && c <= 0xdf)
        need = 1, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        need = 2, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        need = 3, cp = c & 0x07;
    else
        return -1;
    if (len < need + 1)
        return -1;
    for (size_t i = 1; i <= need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
        return -1;
    *n = need + 1;
    return (long)cp;
}

static int put_cp(struct buf *out, unsigned cp)
{
    char b[4];
    size_t n;

    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | cp >> 18);
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return buf_append(out, b, n);
}

static unsigned map_cp(unsigned cp, int upper)
{
    if (utf8_locale == (locale_t)0) {
        if (upper && cp >= 'a' && cp <= 'z')
            return cp - 32;
        if (!upper && cp >= 'A' && cp <= 'Z')
            return cp + 32;
        return cp;
    }
    return (unsigned)(upper ? towupper_l((wint_t)cp, utf8_locale)
                            : towlower_l((wint_t)cp, utf8_locale));
}

static int is_space_cp(unsigned cp)
{
    if (utf8_locale == (locale_t)0)
        return cp == ' ' || (cp >= '\t' && cp <= '\r');
    return iswspace_l((wint_t)cp, utf8_locale) != 0;
}

int template_case_map(struct buf *out, const char *s, size_t len, int how)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n;

    pthread_once(&locale_once, locale_init);
    while (i < len) {
        long cp = utf8_next(u + i, len - i, &n);

        if (cp < 0) {
            if (buf_append(out, s + i, n) < 0)
                return -1;
            i += n;
            if (how == TB_CAP_FIRST)
                break;
            continue;
        }
        if (how == TB_CAP_FIRST) {
            if (is_space_cp((unsigned)cp)) {
                if (buf_append(out, s + i, n) < 0)
                    return -1;
                i += n;
                continue;
            }
            if (put_cp(out, map_cp((unsigned)cp, 1)) < 0)
                return -1;
            i += n;
            break;
        }
        if (put_cp(out, map_cp((unsigned)cp, how == TB_UPPER)) < 0)
            return -1;
        i += n;
    }
    return buf_append(out, s + i, len - i);
}
