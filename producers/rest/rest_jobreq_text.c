/*
 * rest_jobreq_text - subject, body and alternative (contract §4.3-§4.6):
 * their fields, the decoding of contentEncoding into UTF-8 text (a value
 * that is not valid in its declared encoding or charset is used as plain
 * text, §4.6), RFC 2047 encoded-words in a quoted-printable subject, and
 * the check that the text can be written in the declared charset.
 */
#include "global/template/template.h"
#include "producers/rest/rest_jobreq_int.h"
#include "util/codec.h"
#include "util/mymalloc.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SUBJECT_MAX 998

static const char *const encodings[] = {"plain", "quoted-printable", "base64", NULL};
static const char *const ctes[] = {"base64", "quoted-printable", NULL};
static const char *const ctypes[] = {"text/plain", "text/html", NULL};

/* charset names: what iconv knows, without its "//" suffixes */
static int charset_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 40)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':' || c == '+'))
            return 0;
    }
    return 1;
}

static int is_utf8_name(const char *cs)
{
    return strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "UTF8") == 0;
}

static int is_ascii_name(const char *cs)
{
    return strcasecmp(cs, "US-ASCII") == 0 || strcasecmp(cs, "ASCII") == 0;
}

static int is_latin1_name(const char *cs)
{
    return strcasecmp(cs, "ISO-8859-1") == 0 || strcasecmp(cs, "ISO8859-1") == 0 ||
           strcasecmp(cs, "LATIN1") == 0;
}

static int charset_known(const char *cs)
{
    iconv_t a, b;

    if (is_utf8_name(cs) || is_ascii_name(cs) || is_latin1_name(cs))
        return 1;
    a = iconv_open(cs, "UTF-8");
    if (a == (iconv_t)-1)
        return 0;
    iconv_close(a);
    b = iconv_open("UTF-8", cs);
    if (b == (iconv_t)-1)
        return 0;
    iconv_close(b);
    return 1;
}

/* convert - in[0..len) from "from" to "to", appended to out; -1 on any defect */
static int convert(const char *to, const char *from, const char *in, size_t len, struct buf *out)
{
    iconv_t cd = iconv_open(to, from);
    char chunk[4096];
    int rc = 0;

    if (cd == (iconv_t)-1)
        return -1;
    char *ip = (char *)in;
    size_t il = len;
    while (il > 0) {
        char *op = chunk;
        size_t ol = sizeof(chunk);
        size_t r = iconv(cd, &ip, &il, &op, &ol);
        if (op > chunk && buf_append(out, chunk, (size_t)(op - chunk)) < 0) {
            rc = -1;
            break;
        }
        if (r == (size_t)-1 && errno != E2BIG) {
            rc = -1;
            break;
        }
    }
    if (rc == 0) {
        char *op = chunk;
        size_t ol = sizeof(chunk);
        if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1 ||
            (op > chunk && buf_append(out, chunk, (size_t)(op - chunk)) < 0))
            rc = -1;
    }
    iconv_close(cd);
    return rc;
}

/* to_utf8 - bytes in charset cs as UTF-8 text without NUL, appended to out */
static int to_utf8(const char *cs, const char *in, size_t len, struct buf *out)
{
    size_t start = out->len;

    if (is_utf8_name(cs) || is_ascii_name(cs)) {
        if (!codec_utf8_valid(in, len) || (is_ascii_name(cs) && codec_utf8_count(in, len) != len))
            return -1;
        if (buf_append(out, in, len) < 0)
            return -1;
    } else if (convert("UTF-8", cs, in, len, out) < 0 ||
               !codec_utf8_valid(out->data ? out->data + start : "", out->len - start))
        return -1; /* (an empty text leaves out->data NULL) */
    if (memchr(out->data ? out->data + start : "", 0, out->len - start))
        return -1;
    return 0;
}

/* representable - 1 when the UTF-8 text can be written in charset cs */
static int representable(struct jr *v, const char *cs, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;

    if (is_utf8_name(cs))
        return 1;
    if (is_ascii_name(cs)) {
        for (size_t i = 0; i < len; i++)
            if (u[i] >= 0x80)
                return 0;
        return 1;
    }
    if (is_latin1_name(cs)) {
        for (size_t i = 0; i < len; i++)
            if (u[i] >= 0xc4 && (u[i] & 0xc0) != 0x80)
                return 0; /* lead bytes above U+00FF */
        return 1;
    }
    buf_reset(&v->scratch);
    int ok = convert(cs, "UTF-8", s, len, &v->scratch) == 0;
    buf_reset(&v->scratch);
    return ok;
}

/*
 * encoded_word - decode one RFC 2047 word "=?cs?Q|B?text?=" at s (len
 * left); appends UTF-8 to out and returns its length, 0 when s is not a
 * well-formed encoded-word, -1 when it cannot be decoded.
 */
static long encoded_word(const char *s, size_t len, struct buf *out)
{
    char cs[48];
    const char *q1, *q2, *end;
    struct buf raw = BUF_INIT(JOBREQ_BODY_MAX);
    long rc = -1;

    if (len < 8 || s[0] != '=' || s[1] != '?')
        return 0;
    q1 = memchr(s + 2, '?', len - 2);
    if (q1 == NULL || q1 + 3 >= s + len || q1[2] != '?')
        return 0;
    q2 = q1 + 2;
    end = NULL;
    for (const char *p = q2 + 1; p + 1 < s + len; p++) {
        if (p[0] == '?' && p[1] == '=') {
            end = p;
            break;
        }
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            return 0;
    }
    if (end == NULL || (size_t)(q1 - s - 2) >= sizeof(cs) || q1 == s + 2)
        return 0;
    memcpy(cs, s + 2, (size_t)(q1 - s - 2));
    cs[q1 - s - 2] = 0;
    char *star = strchr(cs, '*'); /* RFC 2231 language suffix */
    if (star)
        *star = 0;
    if (!charset_name_ok(cs, strlen(cs)) || !charset_known(cs))
        goto out;
    const char *t = q2 + 1;
    size_t tl = (size_t)(end - t);
    if (q1[1] == 'B' || q1[1] == 'b') {
        if (codec_b64_decode(&raw, t, tl, 0) < 0)
            goto out;
    } else if (q1[1] == 'Q' || q1[1] == 'q') {
        for (size_t i = 0; i < tl; i++) {
            int c = (unsigned char)t[i];
            if (c == '_')
                c = ' ';
            else if (c == '=') {
                int hi, lo;
                if (i + 2 >= tl || (hi = codec_hex_digit((unsigned char)t[i + 1])) < 0 ||
                    (lo = codec_hex_digit((unsigned char)t[i + 2])) < 0)
                    goto out;
                c = hi << 4 | lo;
                i += 2;
            }
            if (buf_putc(&raw, c) < 0)
                goto out;
        }
    } else
        return 0;
    if (to_utf8(cs, raw.data ? raw.data : "", raw.len, out) < 0)
        goto out;
    rc = (long)(end + 2 - s);
out:
    buf_free(&raw);
    return rc;
}

/*
 * rfc2047 - a subject with encoded-words: the words decoded, white space
 * between two adjacent words dropped, other text kept. -1 on a bad word.
 */
static int rfc2047(const char *s, size_t len, struct buf *out)
{
    size_t i = 0, pending_ws = 0, ws_start = 0;
    int last_word = 0;

    while (i < len) {
        long n = encoded_word(s + i, len - i, out);
        if (n < 0)
            return -1;
        if (n > 0) {
            i += (size_t)n;
            last_word = 1;
            pending_ws = 0;
            continue;
        }
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
            if (!pending_ws)
                ws_start = out->len;
            pending_ws = 1;
            if (buf_putc(out, s[i]) < 0)
                return -1;
            i++;
            if (last_word) {
                /* white space between two encoded-words is dropped */
                size_t j = i;
                while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n'))
                    j++;
                struct buf probe = BUF_INIT(JOBREQ_BODY_MAX);
                long m = encoded_word(s + j, len - j, &probe);
                buf_free(&probe);
                if (m > 0) {
                    buf_truncate(out, ws_start);
                    i = j;
                    pending_ws = 0;
                }
            }
            continue;
        }
        last_word = 0;
        pending_ws = 0;
        if (buf_putc(out, s[i]) < 0)
            return -1;
        i++;
    }
    return 0;
}

static int has_encoded_word(const char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (s[i] == '=' && s[i + 1] == '?')
            return 1;
    return 0;
}

/* decode - the text of t after §4.6 into t->text */
static void decode(struct jr *v, struct jr_text *t, const char *src, size_t len)
{
    const char *enc = rest_jobreq_walk_str(&t->encoding, "plain");
    const char *cs = rest_jobreq_walk_str(&t->charset, "UTF-8");
    struct buf raw = BUF_INIT(JOBREQ_BODY_MAX), text = BUF_INIT(JOBREQ_BODY_MAX);
    int ok = 0;

    /* to_utf8() checks its output; the source is a JSON string value, checked by the parser */
    t->utf8_checked = 1;
    if (strcmp(enc, "base64") == 0)
        ok = codec_b64_decode(&raw, src, len, 0) == 0 &&
             to_utf8(cs, raw.data ? raw.data : "", raw.len, &text) == 0;
    else if (strcmp(enc, "quoted-printable") == 0) {
        if (strcmp(t->part, "subject") == 0 && has_encoded_word(src, len)) {
            ok = rfc2047(src, len, &raw) == 0 &&
                 buf_append(&text, raw.data ? raw.data : "", raw.len) == 0;
            t->utf8_checked = !ok;
        } else
            ok = codec_qp_decode(&raw, src, len) == 0 &&
                 to_utf8(cs, raw.data ? raw.data : "", raw.len, &text) == 0;
    }
    if (!ok) {
        buf_reset(&text);
        if (buf_append(&text, src, len) < 0)
            buf_reset(&text);
    }
    t->len = text.len;
    t->text = text.len ? buf_steal(&text, NULL) : xstrdup("");
    (void)v;
    buf_free(&raw);
    buf_free(&text);
}

static int need_content(struct jr *v, json_t *obj, void *out)
{
    json_t *tpl = json_object_get(obj, "template");

    (void)v;
    (void)out;
    return tpl == NULL || json_is_null(tpl) ||
           (json_is_string(tpl) && json_string_length(tpl) == 0);
}

static int template_feature(struct jr *v, struct jr_val *val, void *out)
{
    (void)val;
    (void)out;
    return rest_jobreq_walk_feature(v, "templates") ? 0 : rest_jobreq_walk_fail(v, JR_E_CONFIG);
}

static int charset_check(struct jr *v, struct jr_val *val, void *out)
{
    (void)out;
    if (!charset_name_ok(val->s, val->len))
        return rest_jobreq_walk_fail(v, JR_E_VALUE);
    char cs[48];
    snprintf(cs, sizeof(cs), "%.*s", (int)val->len, val->s);
    return charset_known(cs) ? 0 : rest_jobreq_walk_fail(v, JR_E_VALUE);
}

#define TEXT_FIELDS                                                                                \
    {                                                                                              \
        "content", JR_STR,       0,    0,   NULL, JR_AT(struct jr_text, content),                  \
        NULL,      need_content, NULL, NULL},                                                      \
        {"template", JR_STR,          0, 0, NULL, JR_AT(struct jr_text, template_), NULL, NULL,    \
         NULL,       template_feature},                                                            \
        {"contentEncoding",                                                                        \
         JR_STR,                                                                                   \
         0,                                                                                        \
         0,                                                                                        \
         encodings,                                                                                \
         JR_AT(struct jr_text, encoding),                                                          \
         NULL,                                                                                     \
         NULL,                                                                                     \
         NULL,                                                                                     \
         NULL},                                                                                    \
        {"contentTransferEncoding",  JR_STR, 0,    0,    ctes,                                     \
         JR_AT(struct jr_text, cte), NULL,   NULL, NULL, NULL},                                    \
    {                                                                                              \
        "charset", JR_STR, 0, 0, NULL, JR_AT(struct jr_text, charset), NULL, NULL, charset_check,  \
            NULL                                                                                   \
    }

static const struct jr_field subject_fields[] = {
    TEXT_FIELDS,
    {"features", JR_ANY, 0, 0, NULL, JR_NOSLOT, NULL, NULL, NULL, NULL},
    {0},
};

static const struct jr_field body_fields[] = {
    {"contentType", JR_STR, JR_MANDATORY | JR_NOCASE, 0, ctypes,
     JR_AT(struct jr_text, content_type), NULL, NULL, NULL, NULL},
    TEXT_FIELDS,
    {0},
};

static const struct jr_field alt_fields[] = {
    TEXT_FIELDS,
    {0},
};

/* rest_jobreq_text_missing - a mandatory part that is absent (subject) */
int rest_jobreq_text_missing(struct jr *v, const char *part)
{
    (void)part;
    return rest_jobreq_walk_fail_suffix(v, JR_E_MISSING, ".content");
}

/* rest_jobreq_text_check - check one text part (val is the object) and decode it */
int rest_jobreq_text_check(struct jr *v, struct jr_val *val, struct jr_text *t)
{
    const struct jr_field *table = strcmp(t->part, "body") == 0      ? body_fields
                                   : strcmp(t->part, "subject") == 0 ? subject_fields
                                                                     : alt_fields;
    const struct jr_val *src;
    char detail[512];

    if (rest_jobreq_walk_object(v, val->j, table, t) < 0)
        return -1;
    t->present = 1;
    src = t->template_.j ? &t->template_ : &t->content;
    decode(v, t, src->s, src->len);
    if (t->template_.j) {
        size_t mark = rest_jobreq_walk_push_key(v, "template", 8);
        int rc = rest_jobreq_text_check_template(t->text, t->len, detail, sizeof(detail));
        if (rc < 0)
            rest_jobreq_walk_fail_detail(v, JR_E_FORMAT, detail);
        rest_jobreq_walk_pop(v, mark);
        if (rc < 0)
            return -1;
    } else if (strcmp(t->part, "subject") == 0 && codec_utf8_count(t->text, t->len) > SUBJECT_MAX) {
        size_t mark = rest_jobreq_walk_push_key(v, "content", 7);
        rest_jobreq_walk_fail(v, JR_E_SIZE);
        rest_jobreq_walk_pop(v, mark);
        return -1;
    }
    char cs[48];
    snprintf(cs, sizeof(cs), "%s", rest_jobreq_walk_str(&t->charset, "UTF-8"));
    if (!representable(v, cs, t->text, t->len)) {
        size_t mark = rest_jobreq_walk_push_key(v, "charset", 7);
        rest_jobreq_walk_fail(v, JR_E_VALUE);
        rest_jobreq_walk_pop(v, mark);
        return -1;
    }
    return 0;
}

/*
 * rest_jobreq_text_check_template - the syntax check of contract §9.6 with the
 * template engine (lib/global/template/template.h): the job is refused with the
 * engine's "<what> at line L column C".
 */
int rest_jobreq_text_check_template(const char *src, size_t len, char *detail, size_t detailsz)
{
    struct template *t = NULL;
    int rc = template_parse(src, len, "body", &t, detail, detailsz);

    template_free(t);
    return rc < 0 ? -1 : 0;
}
