/* render_mime - MIME entities and structure; see render_mime.h. */
#include "workers/render/render_mime.h"
#include "global/crypto.h"
#include "util/codec.h"
#include "util/mymalloc.h"
#include "workers/render/render_header.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define QP_LINE 76

static const char hexdig[] = "0123456789ABCDEF";

/* reserve_hint - make room for about n more octets, within the buffer's maximum */
static void reserve_hint(struct buf *b, size_t n)
{
    if (b->max > b->len && n > b->max - b->len)
        n = b->max - b->len;
    if (b->len + n + 1 > b->cap)
        buf_reserve(b, n);
}

int render_mime_crlf(struct buf *out, const char *s, size_t len)
{
    const char *end = s + len;
    const char *cr = len ? memchr(s, '\r', len) : NULL; /* the next CR, or NULL */

    reserve_hint(out, len + len / 16 + 16);
    for (const char *p = s; p < end;) {
        /* copy the run up to the next CR or LF in one go */
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        if (cr && cr < p)
            cr = memchr(p, '\r', (size_t)(end - p));
        const char *q = cr && (lf == NULL || cr < lf) ? cr : lf;
        if (q == NULL)
            return buf_append(out, p, (size_t)(end - p));
        if (buf_append(out, p, (size_t)(q - p)) < 0 || buf_append(out, "\r\n", 2) < 0)
            return -1;
        p = q + (*q == '\r' && q + 1 < end && q[1] == '\n' ? 2 : 1);
    }
    return 0;
}

/* qp_lit - 1: written as it is anywhere in a line; 2: SP and TAB, as they are but at a line end */
static const unsigned char qp_lit[256] = {[33 ... 60] = 1, [62 ... 126] = 1, [' '] = 2, ['\t'] = 2};

/*
 * qp_piece - the encoding of s[*i] (one octet, or a CRLF line end) into
 * dst, at most 6 octets ("=\r\n=XX"); advances *i and *col, returns
 * the length.
 */
static inline size_t qp_piece(char *dst, const unsigned char *s, size_t len, size_t *i, size_t *col,
                              int binary)
{
    unsigned char c = s[*i];
    size_t n = 0;

    if (!binary && c == '\r' && *i + 1 < len && s[*i + 1] == '\n') {
        dst[0] = '\r';
        dst[1] = '\n';
        *i += 2;
        *col = 0;
        return 2;
    }
    size_t k = *i;
    int line_end = k + 1 == len || (!binary && s[k + 1] == '\r' && k + 2 < len && s[k + 2] == '\n');
    size_t w = qp_lit[c] == 1 || (qp_lit[c] == 2 && !line_end) ? 1 : 3;
    /* a soft line break keeps every line within 76 characters with its '=' */
    if (*col + w > QP_LINE - 1 && !(line_end && *col + w <= QP_LINE)) {
        dst[n++] = '=';
        dst[n++] = '\r';
        dst[n++] = '\n';
        *col = 0;
    }
    if (w == 1) {
        dst[n++] = (char)c;
    } else {
        dst[n++] = '=';
        dst[n++] = hexdig[c >> 4];
        dst[n++] = hexdig[c & 15];
    }
    *col += w;
    ++*i;
    return n;
}

int render_mime_qp_encode(struct buf *out, const unsigned char *s, size_t len, int binary)
{
    size_t col = 0, i = 0;

    reserve_hint(out, len + len / 8 + 64);
    while (i < len) {
        if (out->data && out->cap - out->len > 8) {
            /* stores into the room reserved above, through a local pointer */
            char *o = out->data + out->len, *last = out->data + out->cap - 8;
            while (i < len && o < last) {
                if (col < QP_LINE - 1 && qp_lit[s[i]] == 1) {
                    /* a run of text well inside the line: as it is (SP and TAB too
                     * when no line end follows) */
                    size_t stop = i + (QP_LINE - 1 - col);
                    if (stop > len)
                        stop = len;
                    if (stop - i > (size_t)(last - o))
                        stop = i + (size_t)(last - o);
                    size_t k = i;
                    while (k < stop && (qp_lit[s[k]] == 1 ||
                                        (qp_lit[s[k]] == 2 && k + 1 < len && s[k + 1] != '\r')))
                        *o++ = (char)s[k++];
                    col += k - i;
                    i = k;
                } else
                    o += qp_piece(o, s, len, &i, &col, binary);
            }
            out->len = (size_t)(o - out->data);
            out->data[out->len] = 0;
        } else {
            /* near the end of the room: buf_append grows it, or fails at the maximum */
            char piece[8];
            size_t n = qp_piece(piece, s, len, &i, &col, binary);
            if (buf_append(out, piece, n) < 0)
                return -1;
        }
    }
    return 0;
}

int render_mime_b64_lines(struct buf *out, const void *data, size_t len)
{
    if (codec_b64_encode_lines(out, data, len) < 0)
        return -1;
    if (out->len >= 2 && out->data[out->len - 2] == '\r' && out->data[out->len - 1] == '\n')
        buf_truncate(out, out->len - 2);
    return 0;
}

/* b64_cls - 1: base64 alphabet, 2: white space (skipped), 3: '=' pad, 0: not allowed */
static const unsigned char b64_cls[256] = {
    ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['0' ... '9'] = 1, ['+'] = 1,  ['/'] = 1,
    ['\r'] = 2,        ['\n'] = 2,        [' '] = 2,         ['\t'] = 2, ['='] = 3,
};

int render_mime_b64_reline(struct buf *out, const char *in, size_t len)
{
    size_t n = 0, pads = 0, col = 0;

    if (buf_reserve(out, len + len / 38 + 4) < 0)
        return -1;
    char *o = out->data + out->len;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)in[i];
        int k = b64_cls[c];
        if (k == 2) {
            i++;
            continue;
        }
        if (k == 3) {
            if (++pads > 2)
                goto bad;
        } else if (k != 1 || pads)
            goto bad;
        if (col == 76) {
            *o++ = '\r';
            *o++ = '\n';
            col = 0;
        }
        if (k == 1) {
            /* the run of alphabet up to the end of the output line */
            size_t stop = len - i < 76 - col ? len : i + (76 - col), j = i;
            while (j < stop && b64_cls[(unsigned char)in[j]] == 1)
                *o++ = in[j++];
            col += j - i;
            n += j - i;
            i = j;
            continue;
        }
        *o++ = (char)c;
        col++;
        n++;
        i++;
    }
    if (n % 4 != 0)
        goto bad;
    out->len = (size_t)(o - out->data);
    out->data[out->len] = 0;
    return 0;
bad:
    out->data[out->len] = 0;
    return -1;
}

static int is_utf8_cs(const char *cs)
{
    return cs == NULL || strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "UTF8") == 0;
}

/* wide_cs - charsets that are not ASCII-compatible (their octets include NUL) */
static int wide_cs(const char *cs)
{
    return cs && (strncasecmp(cs, "UTF-16", 6) == 0 || strncasecmp(cs, "UTF-32", 6) == 0 ||
                  strncasecmp(cs, "UCS-2", 5) == 0 || strncasecmp(cs, "UCS-4", 5) == 0 ||
                  strncasecmp(cs, "UTF16", 5) == 0 || strncasecmp(cs, "UTF32", 5) == 0);
}

static int cs_name_ok(const char *cs)
{
    size_t n = strlen(cs);

    if (n == 0 || n > 40)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((cs[i] >= 'a' && cs[i] <= 'z') || (cs[i] >= 'A' && cs[i] <= 'Z') ||
              (cs[i] >= '0' && cs[i] <= '9') || strchr("-_.:+()", cs[i])))
            return 0;
    return 1;
}

/* convert - UTF-8 to charset with iconv; -1 with err */
static int convert(struct buf *out, const char *s, size_t len, const char *cs, char *err,
                   size_t errsz)
{
    iconv_t cd = iconv_open(cs, "UTF-8");
    int rc = -1;

    if (cd == (iconv_t)-1) {
        snprintf(err, errsz, "unknown charset %s", cs);
        return -1;
    }
    char *in = (char *)s;
    size_t inleft = len;
    for (;;) {
        if (buf_reserve(out, inleft * 2 + 64) < 0) {
            snprintf(err, errsz, "message too large");
            goto done;
        }
        char *op = out->data + out->len;
        size_t room = out->cap - out->len - 1, before = room;
        size_t r = inleft ? iconv(cd, &in, &inleft, &op, &room) : iconv(cd, NULL, NULL, &op, &room);
        out->len += before - room;
        out->data[out->len] = 0;
        if (r != (size_t)-1) {
            if (inleft == 0) {
                /* flush the shift state of stateful charsets */
                room = out->cap - out->len - 1;
                before = room;
                op = out->data + out->len;
                if (iconv(cd, NULL, NULL, &op, &room) == (size_t)-1) {
                    snprintf(err, errsz, "cannot convert to %s", cs);
                    goto done;
                }
                out->len += before - room;
                out->data[out->len] = 0;
                rc = 0;
                goto done;
            }
            continue;
        }
        if (errno == E2BIG)
            continue;
        snprintf(err, errsz, "a character cannot be represented in %s", cs);
        goto done;
    }
done:
    iconv_close(cd);
    return rc;
}

/* seven_bit_ok - ASCII without NUL, lines within 998 octets, no "=_" */
static int seven_bit_ok(const char *s, size_t len)
{
    size_t line = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0 || c >= 0x80)
            return 0;
        if (c == '\r' && i + 1 < len && s[i + 1] == '\n') {
            line = 0;
            i++;
            continue;
        }
        if (c == '\r' || c == '\n') /* a bare one cannot travel as 7bit */
            return 0;
        if (++line > 998)
            return 0;
        if (c == '=' && i + 1 < len && s[i + 1] == '_')
            return 0;
    }
    return 1;
}

int render_mime_text_entity(struct buf *out, const struct mime_text *t, char *err, size_t errsz)
{
    struct buf norm = BUF_INIT(out->max), conv = BUF_INIT(out->max);
    const char *cs = t->charset && *t->charset ? t->charset : "UTF-8";
    const char *data;
    size_t dlen;
    const char *cte;
    int rc = -1;

    if (!cs_name_ok(cs)) {
        snprintf(err, errsz, "unsupported charset name");
        return -1;
    }
    if (render_mime_crlf(&norm, t->text ? t->text : "", t->text ? t->len : 0) < 0) {
        snprintf(err, errsz, "message too large");
        goto out;
    }
    data = buf_ptr(&norm);
    dlen = norm.len;
    if (!is_utf8_cs(cs)) {
        if (convert(&conv, data, dlen, cs, err, errsz) < 0)
            goto out;
        data = buf_ptr(&conv);
        dlen = conv.len;
    }
    if (t->cte && strcasecmp(t->cte, "base64") == 0)
        cte = "base64";
    else if (t->cte && strcasecmp(t->cte, "quoted-printable") == 0)
        cte = "quoted-printable";
    else if (!wide_cs(cs) && seven_bit_ok(data, dlen))
        cte = "7bit";
    else
        cte = "quoted-printable";
    if (buf_printf(out,
                   "Content-Type: text/%s; charset=%s\r\nContent-Transfer-Encoding: %s\r\n\r\n",
                   t->subtype, cs, cte) < 0)
        goto toolarge;
    if (strcmp(cte, "base64") == 0) {
        if (render_mime_b64_lines(out, data, dlen) < 0)
            goto toolarge;
    } else if (strcmp(cte, "quoted-printable") == 0) {
        if (render_mime_qp_encode(out, (const unsigned char *)data, dlen, wide_cs(cs)) < 0)
            goto toolarge;
    } else if (buf_append(out, data, dlen) < 0)
        goto toolarge;
    rc = 0;
    goto out;
toolarge:
    snprintf(err, errsz, "message too large");
out:
    buf_free(&norm);
    buf_free(&conv);
    return rc;
}

size_t render_mime_text_max(const struct mime_text *t)
{
    const char *cs = t->charset && *t->charset ? t->charset : "UTF-8";
    size_t len = t->text ? t->len : 0;

    if (!is_utf8_cs(cs) || !cs_name_ok(cs) || len > SIZE_MAX / 16)
        return SIZE_MAX;
    /* fields: under 200 octets with a charset name of at most 40. Body: line
     * ends as CRLF at most double the text; quoted-printable at most triples
     * that, and its soft line breaks add 3 per 73 octets or more; base64
     * adds a third and CRLFs; 4 per octet bounds them all. */
    return 200 + 8 * len + 16;
}

/* token chars of RFC 2045 */
static int mime_token(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"/[]?=", c))
            return 0;
    }
    return 1;
}

static int content_type_ok(const char *ct)
{
    const char *slash = ct ? strchr(ct, '/') : NULL;

    return slash && strlen(ct) <= 200 && mime_token(ct, (size_t)(slash - ct)) &&
           mime_token(slash + 1, strlen(slash + 1));
}

int render_mime_attachment_entity(struct buf *out, const struct mime_attachment *a, int inline_part,
                                  char *err, size_t errsz)
{
    struct header_w w;
    const char *ct =
        content_type_ok(a->content_type) ? a->content_type : "application/octet-stream";
    const char *name = a->name ? a->name : "attachment";
    size_t nlen = strlen(name);

    render_header_begin(&w, out, "Content-Type");
    render_header_put(&w, " ", 1, ct, strlen(ct));
    render_header_param(&w, "name", name, nlen);
    if (render_header_end(&w) < 0)
        goto toolarge;
    if (buf_puts(out, "Content-Transfer-Encoding: base64\r\n") < 0)
        goto toolarge;
    render_header_begin(&w, out, "Content-Disposition");
    render_header_put(&w, " ", 1, inline_part ? "inline" : "attachment", inline_part ? 6 : 10);
    render_header_param(&w, "filename", name, nlen);
    if (render_header_end(&w) < 0)
        goto toolarge;
    if (a->content_id && *a->content_id) {
        const char *id = a->content_id;
        size_t idlen = strlen(id);
        if (id[0] == '<' && idlen >= 2 && id[idlen - 1] == '>')
            id++, idlen -= 2;
        if (!render_header_text_clean(id, idlen) || idlen > 900) {
            snprintf(err, errsz, "attachment %s: unusable contentId", name);
            return -1;
        }
        if (buf_printf(out, "Content-ID: <%.*s>\r\n", (int)idlen, id) < 0)
            goto toolarge;
    }
    if (buf_puts(out, "\r\n") < 0)
        goto toolarge;
    if (render_mime_b64_reline(out, a->data, a->len) < 0) {
        if (out->data == NULL)
            goto toolarge;
        snprintf(err, errsz, "attachment %s: content is not valid base64", name);
        return -1;
    }
    return 0;
toolarge:
    snprintf(err, errsz, "message too large");
    return -1;
}

/* boundary - "=_tx" + 20 hex of SHA-256(seed) + "_" + level: stable per seed */
static void boundary(char *out, size_t outsz, const char *seed, int level)
{
    unsigned char md[32];
    char hx[65];

    crypto_sha256(md, seed, strlen(seed));
    codec_hex_encode(hx, md, 10);
    snprintf(out, outsz, "=_tx%.20s_%d", hx, level);
}

/* multipart - a container entity of subtype holding parts; extra: more Content-Type parameters */
static int multipart(struct buf *out, const char *subtype, const char *extra, const char *seed,
                     int level, const struct buf *const *parts, size_t n)
{
    char b[64];

    boundary(b, sizeof(b), seed, level);
    if (buf_printf(out, "Content-Type: multipart/%s;%s\r\n boundary=\"%s\"\r\n\r\n", subtype,
                   extra ? extra : "", b) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (buf_printf(out, "--%s\r\n", b) < 0 ||
            buf_append(out, parts[i]->data, parts[i]->len) < 0 || buf_puts(out, "\r\n") < 0)
            return -1;
    return buf_printf(out, "--%s--", b);
}

int render_mime_build(struct buf *out, const struct mime_spec *s, size_t *body_off, char *err,
                      size_t errsz)
{
    struct buf rel = BUF_INIT(out->max), alt = BUF_INIT(out->max), empty = BUF_INIT(256);
    const struct buf *htmlpart = s->html, *core;
    const struct buf **parts = NULL;
    size_t start = out->len;
    int rc = -1;

    if (s->html && s->ninl > 0) {
        parts = xcalloc(s->ninl + 1, sizeof(*parts));
        parts[0] = s->html;
        for (size_t i = 0; i < s->ninl; i++)
            parts[i + 1] = s->inl[i];
        if (multipart(&rel, "related", " type=\"text/html\";", s->seed, 1, parts, s->ninl + 1) < 0)
            goto toolarge;
        htmlpart = &rel;
        xfree(parts);
        parts = NULL;
    }
    if (s->plain && htmlpart) {
        const struct buf *two[2] = {s->plain, htmlpart};
        if (multipart(&alt, "alternative", NULL, s->seed, 2, two, 2) < 0)
            goto toolarge;
        core = &alt;
    } else if (htmlpart)
        core = htmlpart;
    else if (s->plain)
        core = s->plain;
    else {
        buf_puts(&empty, "Content-Type: text/plain; charset=UTF-8\r\n"
                         "Content-Transfer-Encoding: 7bit\r\n\r\n");
        core = &empty;
    }
    if (s->natt > 0) {
        parts = xcalloc(s->natt + 1, sizeof(*parts));
        parts[0] = core;
        for (size_t i = 0; i < s->natt; i++)
            parts[i + 1] = s->att[i];
        if (multipart(out, "mixed", NULL, s->seed, 3, parts, s->natt + 1) < 0)
            goto toolarge;
    } else if (buf_append(out, core->data, core->len) < 0)
        goto toolarge;
    const char *sep = strstr(out->data + start, "\r\n\r\n");
    if (sep == NULL) {
        snprintf(err, errsz, "internal: entity without a body");
        goto out;
    }
    *body_off = (size_t)(sep - out->data) + 4;
    rc = 0;
    goto out;
toolarge:
    snprintf(err, errsz, "message too large");
out:
    xfree(parts);
    buf_free(&rel);
    buf_free(&alt);
    buf_free(&empty);
    return rc;
}
